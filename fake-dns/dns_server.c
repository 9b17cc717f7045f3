/*
 * dns_server - the fake DNS responder; see dns_server.h.
 *
 * A TCP connection embeds its uv_tcp_t and idle timer and is freed when
 * both are closed and no delayed answer still points at it. A delayed
 * answer embeds its timer and owns its bytes. A write or send request
 * owns its buffer and frees it in its callback whatever the status.
 * Nothing is freed inside a read callback: a connection that must end is
 * closed, and memory goes in the close callbacks.
 */
#include "fake-dns/dns_server.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-dns/dns_answer.h"
#include "fake-dns/dns_wire.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define DNS_BIND_TRIES	16	/* port 0: UDP ports tried before one is also free on TCP */

typedef struct dsv_conn dsv_conn;
typedef struct dsv_pending dsv_pending;

struct dns_server {
	uv_loop_t *loop;
	const dns_zone *zone;
	dns_answer_memo memo;	/* behaviours that run out: queries so far */
	FILE *log;
	uint32_t idle_ms;
	uv_udp_t udp;
	uv_tcp_t listener;
	int open_handles;	/* udp and listener */
	int stopping;
	char address[80];
	int port;
	char *rbuf;		/* one UDP read at a time: shared */
	dsv_conn *conns;
	size_t nconns;
	dsv_pending *pending;
	size_t npending;
	dns_log_entry *entries;
	size_t nentries;
	size_t capentries;
	unsigned long lost;
};

struct dsv_conn {
	uv_tcp_t tcp;
	uv_timer_t idle;
	uv_shutdown_t shutdown_req;
	dns_server *sv;
	dsv_conn *prev, *next;
	vbuf in;
	char peer[64];
	int handles;		/* open handles: tcp, idle */
	int pending;		/* delayed answers that will write here */
	int closing;
	int paused;		/* reading stopped until the answers drain */
	unsigned long queries;
};

struct dsv_pending {
	uv_timer_t timer;
	dns_server *sv;
	dsv_pending *prev, *next;
	dns_transport transport;
	struct sockaddr_storage to;	/* UDP */
	dsv_conn *conn;			/* TCP */
	size_t entry;			/* index in the record, or SIZE_MAX */
	size_t len;
	uint8_t data[];
};

typedef struct dsv_send {
	union {
		uv_udp_send_t udp;
		uv_write_t tcp;
	} req;
	dsv_conn *conn;
	uint8_t data[];
} dsv_send;

static void dsv_conn_close(dsv_conn *c);
static void dsv_conn_process(dsv_conn *c);
static void dsv_tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void dsv_tcp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static uint64_t
dsv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
dsv_peer_name(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[64] = "?";

	if (sa != NULL && sa->sa_family == AF_INET6) {
		uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	} else if (sa != NULL && sa->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(((const struct sockaddr_in *)sa)->sin_port));
	} else {
		snprintf(out, n, "?");
	}
}

/* ---- the record ------------------------------------------------------------ */

static size_t
dsv_record(dns_server *sv, dns_transport t, const char *client, const uint8_t *p, size_t len,
    const dns_msg *q, const char *error)
{
	dns_log_entry *e;

	if (sv->nentries >= DNS_LOG_MAX) {
		sv->lost++;
		return SIZE_MAX;
	}
	sv->entries = xgrow(sv->entries, &sv->capentries, sv->nentries + 1, sizeof(*e));
	e = &sv->entries[sv->nentries];
	memset(e, 0, sizeof(*e));
	e->query_ms = dsv_now_ms();
	e->transport = t;
	snprintf(e->client, sizeof(e->client), "%s", client);
	e->id = len >= 2 ? (uint16_t)((p[0] << 8) | p[1]) : 0;
	e->rcode = -1;
	if (q != NULL && q->nq >= 1) {
		e->qname = xstrdup(q->q[0].name);
		e->qtype = q->q[0].type;
	}
	if (error != NULL)
		e->error = xstrdup(error);
	return sv->nentries++;
}

static void
dsv_print(dns_server *sv, size_t i)
{
	vbuf line = VBUF_INIT;

	if (sv->log == NULL || i == SIZE_MAX)
		return;
	dns_server_log_format(&sv->entries[i], &line);
	fprintf(sv->log, "%s\n", vbuf_str(&line));
	fflush(sv->log);
	vbuf_free(&line);
}

/* Notes what the answer says (before it is sent). */
static void
dsv_record_answer(dns_server *sv, size_t i, const dns_answer *a)
{
	dns_log_entry *e;
	vbuf b = VBUF_INIT;

	if (i == SIZE_MAX)
		return;
	e = &sv->entries[i];
	e->dropped = a->drop;
	e->delay_ms = a->delay_ms;
	if (a->drop)
		return;
	e->rcode = dns_msg_rcode(&a->msg);
	e->truncated = a->truncated;
	if (!a->cut) {
		for (size_t k = 0; k < a->msg.nrr[DNS_SEC_ANSWER]; k++) {
			if (k > 0)
				vbuf_append_str(&b, "; ");
			dns_rr_format(&a->msg.rr[DNS_SEC_ANSWER][k], &b);
		}
	}
	e->answers = vbuf_take(&b);
}

void
dns_server_log_format(const dns_log_entry *e, vbuf *out)
{
	time_t sec = (time_t)(e->query_ms / 1000);
	struct tm tm;
	char when[32], t[16], rc[16];

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	vbuf_printf(out, "%s.%03uZ %s %s id=%u ", when, (unsigned)(e->query_ms % 1000),
	    e->transport == DNS_TRANSPORT_UDP ? "udp" : "tcp", e->client, e->id);
	if (e->qname != NULL)
		vbuf_printf(out, "%s %s", e->qname, dns_type_str(e->qtype, t, sizeof(t)));
	else
		vbuf_append_str(out, "-");
	if (e->error != NULL)
		vbuf_printf(out, " (unreadable: %s)", e->error);
	if (e->dropped) {
		vbuf_append_str(out, " -> no answer (dropped)");
		return;
	}
	if (e->rcode < 0) {
		vbuf_append_str(out, " -> no answer");
		return;
	}
	vbuf_printf(out, " -> %s", dns_rcode_str(e->rcode, rc, sizeof(rc)));
	if (e->truncated)
		vbuf_append_str(out, " TC");
	if (e->delay_ms)
		vbuf_printf(out, " after %u ms", e->delay_ms);
	if (e->answers != NULL && e->answers[0] != '\0')
		vbuf_printf(out, " %s", e->answers);
}

/* ---- sending --------------------------------------------------------------- */

static void
dsv_udp_sent_cb(uv_udp_send_t *req, int status)
{
	xfree(req->data);
}

static void
dsv_udp_send(dns_server *sv, const struct sockaddr *to, const uint8_t *p, size_t len)
{
	dsv_send *s;
	uv_buf_t buf;

	if (uv_udp_get_send_queue_count(&sv->udp) >= DNS_UDP_QUEUE_MAX)
		return;	/* the caller checked; a delayed answer may still meet it */
	s = xmalloc(sizeof(*s) + len);
	memcpy(s->data, p, len);
	s->req.udp.data = s;
	buf = uv_buf_init((char *)s->data, (unsigned)len);
	if (uv_udp_send(&s->req.udp, &sv->udp, &buf, 1, to, dsv_udp_sent_cb) != 0)
		xfree(s);
}

static void
dsv_tcp_written_cb(uv_write_t *req, int status)
{
	dsv_send *s = req->data;
	dsv_conn *c = s->conn;

	xfree(s);
	if (status != 0) {
		dsv_conn_close(c);
		return;
	}
	/* a client that sends faster than it reads was paused; half the
	 * bound drained, it may go on */
	if (c->paused && !c->closing &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= DNS_TCP_WRITE_QUEUE_MAX / 2) {
		c->paused = 0;
		dsv_conn_process(c);
		if (!c->closing && !c->paused && c->queries < DNS_TCP_QUERIES_MAX)
			uv_read_start((uv_stream_t *)&c->tcp, dsv_tcp_alloc_cb, dsv_tcp_read_cb);
	}
}

static void
dsv_tcp_send(dsv_conn *c, const uint8_t *p, size_t len)
{
	dsv_send *s;
	uv_buf_t buf;

	if (c->closing || len > DNS_MSG_MAX)
		return;
	s = xmalloc(sizeof(*s) + len + 2);
	s->conn = c;
	s->data[0] = (uint8_t)(len >> 8);
	s->data[1] = (uint8_t)len;
	memcpy(s->data + 2, p, len);
	s->req.tcp.data = s;
	buf = uv_buf_init((char *)s->data, (unsigned)len + 2);
	if (uv_write(&s->req.tcp, (uv_stream_t *)&c->tcp, &buf, 1, dsv_tcp_written_cb) != 0) {
		xfree(s);
		dsv_conn_close(c);
	}
}

/* ---- delayed answers --------------------------------------------------------- */

static void
dsv_conn_maybe_free(dsv_conn *c)
{
	dns_server *sv = c->sv;

	if (c->handles > 0 || c->pending > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		sv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sv->nconns--;
	vbuf_free(&c->in);
	xfree(c);
}

static void
dsv_pending_closed_cb(uv_handle_t *h)
{
	dsv_pending *pd = h->data;
	dns_server *sv = pd->sv;

	if (pd->prev)
		pd->prev->next = pd->next;
	else
		sv->pending = pd->next;
	if (pd->next)
		pd->next->prev = pd->prev;
	sv->npending--;
	if (pd->conn != NULL) {
		pd->conn->pending--;
		dsv_conn_maybe_free(pd->conn);
	}
	xfree(pd);
}

static void
dsv_pending_cb(uv_timer_t *t)
{
	dsv_pending *pd = t->data;
	dns_server *sv = pd->sv;

	if (pd->transport == DNS_TRANSPORT_UDP)
		dsv_udp_send(sv, (const struct sockaddr *)&pd->to, pd->data, pd->len);
	else if (!pd->conn->closing)
		dsv_tcp_send(pd->conn, pd->data, pd->len);
	if (pd->entry != SIZE_MAX) {
		/* a TCP client that went away while we waited gets nothing */
		if (pd->transport == DNS_TRANSPORT_UDP || !pd->conn->closing)
			sv->entries[pd->entry].answer_ms = dsv_now_ms();
		else
			sv->entries[pd->entry].rcode = -1;
		dsv_print(sv, pd->entry);
	}
	uv_close((uv_handle_t *)&pd->timer, dsv_pending_closed_cb);
}

/* ---- one query ------------------------------------------------------------- */

/* Reads a query, answers it now, later or never, and records it. */
static void
dsv_query(dns_server *sv, dns_transport t, const struct sockaddr *from, dsv_conn *c,
    const uint8_t *p, size_t len)
{
	char peer[64], err[256];
	dns_msg q;
	dns_answer a;
	vbuf out = VBUF_INIT;
	size_t entry;

	if (c != NULL)
		snprintf(peer, sizeof(peer), "%s", c->peer);
	else
		dsv_peer_name(from, peer, sizeof(peer));
	if (dns_wire_parse(p, len, &q, err, sizeof(err)) != 0) {
		entry = dsv_record(sv, t, peer, p, len, NULL, err);
		if (dns_answer_formerr(p, len, &out) == 0 && entry != SIZE_MAX) {
			sv->entries[entry].rcode = DNS_RCODE_FORMERR;
			sv->entries[entry].answer_ms = dsv_now_ms();
		}
		if (out.len > 0) {
			if (t == DNS_TRANSPORT_UDP)
				dsv_udp_send(sv, from, (uint8_t *)out.data, out.len);
			else
				dsv_tcp_send(c, (uint8_t *)out.data, out.len);
		}
		dsv_print(sv, entry);
		vbuf_free(&out);
		return;
	}
	entry = dsv_record(sv, t, peer, p, len, &q, NULL);
	/* A behaviour's for_ms runs on the monotonic clock: a wall clock
	 * set back must not make it last longer. */
	dns_answer_build_at(sv->zone, &sv->memo, uv_hrtime() / 1000000u, &q,
	    t == DNS_TRANSPORT_UDP, &a);
	if (!a.drop && dns_answer_encode(&a, &out) != 0)
		a.drop = 1;	/* cannot happen with a loaded zone; never send half */
	if (!a.drop && a.delay_ms > 0 && sv->npending >= DNS_PENDING_MAX)
		a.drop = 1;
	if (!a.drop && t == DNS_TRANSPORT_UDP &&
	    uv_udp_get_send_queue_count(&sv->udp) >= DNS_UDP_QUEUE_MAX)
		a.drop = 1;
	dsv_record_answer(sv, entry, &a);
	if (a.drop) {
		dsv_print(sv, entry);
	} else if (a.delay_ms > 0) {
		dsv_pending *pd = xcalloc(1, sizeof(*pd) + out.len);

		pd->sv = sv;
		pd->transport = t;
		if (t == DNS_TRANSPORT_UDP) {
			memcpy(&pd->to, from, from->sa_family == AF_INET6 ?
			    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		} else {
			pd->conn = c;
			c->pending++;
		}
		pd->entry = entry;
		pd->len = out.len;
		memcpy(pd->data, out.data, out.len);
		pd->next = sv->pending;
		if (sv->pending)
			sv->pending->prev = pd;
		sv->pending = pd;
		sv->npending++;
		uv_timer_init(sv->loop, &pd->timer);
		pd->timer.data = pd;
		uv_timer_start(&pd->timer, dsv_pending_cb, a.delay_ms, 0);
	} else {
		if (t == DNS_TRANSPORT_UDP)
			dsv_udp_send(sv, from, (uint8_t *)out.data, out.len);
		else
			dsv_tcp_send(c, (uint8_t *)out.data, out.len);
		if (entry != SIZE_MAX)
			sv->entries[entry].answer_ms = dsv_now_ms();
		dsv_print(sv, entry);
	}
	dns_answer_free(&a);
	dns_msg_free(&q);
	vbuf_free(&out);
}

/* ---- UDP ------------------------------------------------------------------- */

static void
dsv_udp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	dns_server *sv = h->data;

	*buf = uv_buf_init(sv->rbuf, DNS_MSG_MAX);
}

static void
dsv_udp_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
    unsigned flags)
{
	dns_server *sv = h->data;

	if (nread <= 0 || from == NULL || sv->stopping)
		return;
	/* a datagram larger than the buffer arrives cut: not a query we can
	 * read, and we do not answer half of one */
	if (flags & UV_UDP_PARTIAL)
		return;
	dsv_query(sv, DNS_TRANSPORT_UDP, from, NULL, (const uint8_t *)buf->base, (size_t)nread);
}

/* ---- TCP ------------------------------------------------------------------- */

static void
dsv_conn_closed_cb(uv_handle_t *h)
{
	dsv_conn *c = h->data;

	c->handles--;
	dsv_conn_maybe_free(c);
}

static void
dsv_conn_close(dsv_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, dsv_conn_closed_cb);
	uv_close((uv_handle_t *)&c->idle, dsv_conn_closed_cb);
}

static void
dsv_idle_cb(uv_timer_t *t)
{
	dsv_conn *c = t->data;

	/* RFC 7766 §6.2.3: idle means no query outstanding; a delayed
	 * answer still to come keeps the connection */
	if (c->pending > 0) {
		uv_timer_start(&c->idle, dsv_idle_cb, c->sv->idle_ms, 0);
		return;
	}
	dsv_conn_close(c);
}

static void
dsv_tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	dsv_conn *c = h->data;

	/* room for the rest of the message being read, at most one whole
	 * one: the buffer never holds more than 2 + DNS_MSG_MAX octets */
	if (c->in.cap - c->in.len < 4096 + 1) {
		c->in.data = xrealloc(c->in.data, c->in.len + 4096 + 1);
		c->in.cap = c->in.len + 4096 + 1;
	}
	*buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void
dsv_shutdown_cb(uv_shutdown_t *req, int status)
{
	dsv_conn *c = req->data;

	dsv_conn_close(c);
}

/* Answers every whole message buffered, unless the connection closes,
 * reaches its query limit, or has too many answers unsent. */
static void
dsv_conn_process(dsv_conn *c)
{
	dns_server *sv = c->sv;
	size_t off = 0;

	while (c->in.len - off >= 2 && !c->closing) {
		const uint8_t *p = (const uint8_t *)c->in.data + off;
		size_t mlen = (size_t)((p[0] << 8) | p[1]);

		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > DNS_TCP_WRITE_QUEUE_MAX) {
			c->paused = 1;
			uv_read_stop((uv_stream_t *)&c->tcp);
			break;
		}
		if (mlen == 0) {
			dsv_conn_close(c);
			break;
		}
		if (c->in.len - off < 2 + mlen)
			break;
		dsv_query(sv, DNS_TRANSPORT_TCP, NULL, c, p + 2, mlen);
		off += 2 + mlen;
		if (++c->queries >= DNS_TCP_QUERIES_MAX && !c->closing) {
			/* RFC 7766 §6.2.3 lets the server close. A shutdown
			 * lets the answers already written go out first;
			 * answers still delayed are lost. */
			uv_read_stop((uv_stream_t *)&c->tcp);
			if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
			    dsv_shutdown_cb) != 0)
				dsv_conn_close(c);
			off = c->in.len;
			break;
		}
	}
	vbuf_consume(&c->in, off);
}

static void
dsv_tcp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	dsv_conn *c = s->data;

	if (nread < 0) {
		dsv_conn_close(c);
		return;
	}
	if (nread == 0 || c->closing)
		return;
	c->in.len += (size_t)nread;
	uv_timer_start(&c->idle, dsv_idle_cb, c->sv->idle_ms, 0);
	dsv_conn_process(c);
}

static void
dsv_connection_cb(uv_stream_t *l, int status)
{
	dns_server *sv = l->data;
	dsv_conn *c;

	if (status != 0 || sv->stopping)
		return;
	c = xcalloc(1, sizeof(*c));
	c->sv = sv;
	uv_tcp_init(sv->loop, &c->tcp);
	uv_timer_init(sv->loop, &c->idle);
	c->tcp.data = c->idle.data = c->shutdown_req.data = c;
	c->handles = 2;
	c->next = sv->conns;
	if (sv->conns)
		sv->conns->prev = c;
	sv->conns = c;
	sv->nconns++;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || sv->nconns > DNS_TCP_CONNS_MAX) {
		dsv_conn_close(c);
		return;
	}
	{
		struct sockaddr_storage ss;
		int len = sizeof(ss);

		if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
			dsv_peer_name((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
		else
			snprintf(c->peer, sizeof(c->peer), "?");
	}
	uv_timer_start(&c->idle, dsv_idle_cb, sv->idle_ms, 0);
	uv_read_start((uv_stream_t *)&c->tcp, dsv_tcp_alloc_cb, dsv_tcp_read_cb);
}

/* ---- start and stop -------------------------------------------------------- */

static void
dsv_handle_closed_cb(uv_handle_t *h)
{
	dns_server *sv = h->data;

	sv->open_handles--;
}

static int
dsv_bind(dns_server *sv, const struct sockaddr *sa, char *err, size_t errlen)
{
	struct sockaddr_storage bound;
	int len = sizeof(bound), rc;

	rc = uv_udp_bind(&sv->udp, sa, 0);
	if (rc == 0)
		rc = uv_udp_getsockname(&sv->udp, (struct sockaddr *)&bound, &len);
	if (rc != 0) {
		snprintf(err, errlen, "cannot bind UDP: %s", uv_strerror(rc));
		return -1;
	}
	rc = uv_tcp_bind(&sv->listener, (const struct sockaddr *)&bound, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&sv->listener, 128, dsv_connection_cb);
	if (rc != 0) {
		snprintf(err, errlen, "cannot bind TCP: %s", uv_strerror(rc));
		return -1;
	}
	dsv_peer_name((struct sockaddr *)&bound, sv->address, sizeof(sv->address));
	sv->port = ntohs(bound.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

int
dns_server_start(uv_loop_t *loop, const dns_server_config *cfg, dns_server **out, char *err,
    size_t errlen)
{
	dns_server *sv = xcalloc(1, sizeof(*sv));
	struct sockaddr_storage sa;
	int port = atoi(cfg->port), rc = -1;

	*out = NULL;
	sv->loop = loop;
	sv->zone = cfg->zone;
	sv->log = cfg->log;
	sv->idle_ms = cfg->tcp_idle_ms ? cfg->tcp_idle_ms : DNS_TCP_IDLE_MS;
	sv->rbuf = xmalloc(DNS_MSG_MAX);
	dns_answer_memo_init(&sv->memo, sv->zone);
	if (uv_ip4_addr(cfg->host, port, (struct sockaddr_in *)&sa) != 0 &&
	    uv_ip6_addr(cfg->host, port, (struct sockaddr_in6 *)&sa) != 0) {
		snprintf(err, errlen, "cannot bind %s: expected an IPv4 or IPv6 address literal",
		    cfg->host);
		dns_answer_memo_free(&sv->memo);
		xfree(sv->rbuf);
		xfree(sv);
		return -1;
	}
	/* With port 0 the UDP port the kernel picks may be taken on TCP;
	 * then try another. */
	for (int i = 0; i < (port == 0 ? DNS_BIND_TRIES : 1) && rc != 0; i++) {
		if (i > 0) {
			sv->stopping = 1;
			uv_close((uv_handle_t *)&sv->udp, dsv_handle_closed_cb);
			uv_close((uv_handle_t *)&sv->listener, dsv_handle_closed_cb);
			while (sv->open_handles > 0)
				uv_run(loop, UV_RUN_ONCE);
			sv->stopping = 0;
		}
		uv_udp_init(loop, &sv->udp);
		uv_tcp_init(loop, &sv->listener);
		sv->udp.data = sv->listener.data = sv;
		sv->open_handles = 2;
		rc = dsv_bind(sv, (const struct sockaddr *)&sa, err, errlen);
	}
	if (rc != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s:%s: %s", cfg->host, cfg->port, why);
		dns_server_stop(sv);
		while (sv->open_handles > 0)
			uv_run(loop, UV_RUN_ONCE);
		dns_server_free(sv);
		return -1;
	}
	uv_udp_recv_start(&sv->udp, dsv_udp_alloc_cb, dsv_udp_recv_cb);
	*out = sv;
	return 0;
}

const char *
dns_server_address(const dns_server *sv)
{
	return sv->address;
}

int
dns_server_port(const dns_server *sv)
{
	return sv->port;
}

const dns_log_entry *
dns_server_log(const dns_server *sv, size_t *n)
{
	*n = sv->nentries;
	return sv->entries;
}

unsigned long
dns_server_log_lost(const dns_server *sv)
{
	return sv->lost;
}

void
dns_server_stop(dns_server *sv)
{
	if (sv == NULL || sv->stopping)
		return;
	sv->stopping = 1;
	uv_close((uv_handle_t *)&sv->udp, dsv_handle_closed_cb);
	uv_close((uv_handle_t *)&sv->listener, dsv_handle_closed_cb);
	for (dsv_conn *c = sv->conns; c != NULL; c = c->next)
		dsv_conn_close(c);
	for (dsv_pending *pd = sv->pending; pd != NULL; pd = pd->next)
		if (!uv_is_closing((uv_handle_t *)&pd->timer))
			uv_close((uv_handle_t *)&pd->timer, dsv_pending_closed_cb);
}

void
dns_server_free(dns_server *sv)
{
	if (sv == NULL)
		return;
	for (size_t i = 0; i < sv->nentries; i++) {
		xfree(sv->entries[i].qname);
		xfree(sv->entries[i].answers);
		xfree(sv->entries[i].error);
	}
	xfree(sv->entries);
	dns_answer_memo_free(&sv->memo);
	xfree(sv->rbuf);
	xfree(sv);
}
