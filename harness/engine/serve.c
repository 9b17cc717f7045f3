/*
 * serve - listener and per-connection sessions of the reference server.
 *
 * A session embeds its uv_tcp_t and idle timer and is freed in the last
 * close callback. Each read is fed whole to the protocol machine and its
 * replies are written in one request that owns its buffer. Ending a
 * session after 221/421 is: stop reading, shut the write side down once
 * the replies are out (uv_shutdown waits for queued writes), then close;
 * a timer bounds that wait.
 */
#include "harness/engine/serve.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/engine/spool.h"
#include "harness/smtp/server.h"
#include "harness/util/harness_limits.h"
#include "harness/util/splitmix.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

typedef struct esv_session esv_session;

struct eng_serve {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int listener_open;
	int stopping;
	char *hostname;
	eng_spool *spool;
	uint32_t idle_ms;
	unsigned long long size_max;
	FILE *log;
	eng_serve_config faults;	/* delay, rates and code; no strings */
	uint64_t rng;
	char address[80];
	char port[8];
	char *rbuf;		/* one read at a time on one loop: shared */
	esv_session *sessions;	/* open sessions, a doubly linked list */
	size_t nsessions;
	eng_serve_stats stats;
};

struct esv_session {
	uv_tcp_t tcp;
	uv_timer_t timer;	/* idle timeout, then the close wait */
	uv_timer_t delay;	/* --delay-ms: holds the replies */
	uv_shutdown_t shutdown_req;
	eng_serve *sv;
	smtp_srv *srv;
	esv_session *prev, *next;
	vbuf out;
	int open_handles;
	int ending;		/* replies flushed, then close */
	int closing;		/* uv_close called */
	int reading;
	int delaying;		/* replies held by the delay timer */
	char peer[64];		/* "127.0.0.1:4321" */
	char peer_lit[64];	/* "[127.0.0.1]", RFC 5321 §4.1.3 */
};

typedef struct esv_write_req {
	uv_write_t req;
	esv_session *ss;
	char data[];
} esv_write_req;

static void esv_end(esv_session *ss);

/* ---- names ----------------------------------------------------------------- */

static int
esv_ldh_name(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[strlen(s) - 1] != '-';
}

const char *
eng_serve_default_hostname(void)
{
	static char name[256];

	if (name[0] == '\0') {
		if (gethostname(name, sizeof(name) - 1) != 0 || !esv_ldh_name(name))
			snprintf(name, sizeof(name), "localhost");
	}
	return name;
}

/* "ip:port" (IPv6 in brackets), its port, and its address literal. */
static void
esv_addr_str(const struct sockaddr *sa, char *buf, size_t len, char *port, size_t plen,
    char *lit, size_t litlen)
{
	char ip[64] = "?";
	int p = 0;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		uv_ip6_name(s6, ip, sizeof(ip));
		p = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%d", ip, p);
		if (lit != NULL)
			snprintf(lit, litlen, "[IPv6:%s]", ip);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		uv_ip4_name(s4, ip, sizeof(ip));
		p = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%d", ip, p);
		if (lit != NULL)
			snprintf(lit, litlen, "[%s]", ip);
	}
	if (port != NULL)
		snprintf(port, plen, "%d", p);
}

/* ---- one session ----------------------------------------------------------- */

static void
esv_closed_cb(uv_handle_t *h)
{
	esv_session *ss = h->data;
	eng_serve *sv = ss->sv;

	if (--ss->open_handles > 0)
		return;
	if (ss->prev != NULL)
		ss->prev->next = ss->next;
	else
		sv->sessions = ss->next;
	if (ss->next != NULL)
		ss->next->prev = ss->prev;
	sv->nsessions--;
	if (sv->log != NULL && ss->srv != NULL) {
		const smtp_srv_stats *st = smtp_srv_get_stats(ss->srv);

		fprintf(sv->log, "%s: closed (%lu commands, %lu accepted, %lu refused)\n",
		    ss->peer, st->commands, st->accepted, st->refused);
		fflush(sv->log);
	}
	smtp_srv_free(ss->srv);
	vbuf_free(&ss->out);
	xfree(ss);
}

static void
esv_close(esv_session *ss)
{
	if (ss->closing)
		return;
	ss->closing = 1;
	uv_timer_stop(&ss->timer);
	uv_timer_stop(&ss->delay);
	uv_close((uv_handle_t *)&ss->tcp, esv_closed_cb);
	uv_close((uv_handle_t *)&ss->timer, esv_closed_cb);
	uv_close((uv_handle_t *)&ss->delay, esv_closed_cb);
}

static void
esv_read_resume(esv_session *ss);

static void
esv_write_cb(uv_write_t *req, int status)
{
	esv_write_req *wr = (esv_write_req *)req;
	esv_session *ss = wr->ss;

	xfree(wr);
	if (status != 0) {
		/* The peer is gone; the read side or the close wait ends it. */
		if (!ss->closing && status != UV_ECANCELED)
			esv_close(ss);
		return;
	}
	if (!ss->reading && !ss->ending && !ss->closing && !ss->delaying &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&ss->tcp) < HARNESS_SRV_WRITE_QUEUE_MAX / 2)
		esv_read_resume(ss);
}

/* Writes the replies gathered so far in one request. */
static void
esv_write_out(esv_session *ss)
{
	esv_write_req *wr;
	uv_buf_t buf;

	if (ss->out.len == 0 || ss->closing)
		return;
	wr = xmalloc(sizeof(*wr) + ss->out.len);
	wr->ss = ss;
	memcpy(wr->data, ss->out.data, ss->out.len);
	buf = uv_buf_init(wr->data, (unsigned int)ss->out.len);
	vbuf_reset(&ss->out);
	if (uv_write(&wr->req, (uv_stream_t *)&ss->tcp, &buf, 1, esv_write_cb) != 0) {
		xfree(wr);
		esv_close(ss);
	}
}

static void
esv_close_wait_cb(uv_timer_t *t)
{
	esv_close(t->data);
}

static void
esv_shutdown_cb(uv_shutdown_t *req, int status)
{
	(void)status;
	esv_close(req->data);
}

/* The replies are written: shut the write side down once they are out,
 * then close. */
static void
esv_finish(esv_session *ss)
{
	if (ss->closing)
		return;
	uv_timer_start(&ss->timer, esv_close_wait_cb, HARNESS_SRV_CLOSE_WAIT_MS, 0);
	ss->shutdown_req.data = ss;
	if (uv_shutdown(&ss->shutdown_req, (uv_stream_t *)&ss->tcp, esv_shutdown_cb) != 0)
		esv_close(ss);
}

static void
esv_delay_cb(uv_timer_t *t)
{
	esv_session *ss = t->data;

	ss->delaying = 0;
	esv_write_out(ss);
	if (ss->closing)
		return;
	if (ss->ending) {
		esv_finish(ss);
		return;
	}
	if (!ss->reading &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&ss->tcp) < HARNESS_SRV_WRITE_QUEUE_MAX / 2)
		esv_read_resume(ss);
}

/* Writes the replies gathered so far, now or (--delay-ms) once the delay
 * has passed; replies gathered meanwhile go out with them, and reading
 * waits until then. */
static void
esv_flush(esv_session *ss)
{
	if (ss->out.len == 0 || ss->closing)
		return;
	if (ss->sv->faults.delay_ms == 0) {
		esv_write_out(ss);
		return;
	}
	if (ss->reading) {
		uv_read_stop((uv_stream_t *)&ss->tcp);
		ss->reading = 0;
	}
	if (ss->delaying)
		return;
	ss->delaying = 1;
	/* At least delay_ms of real time: libuv's clock counts whole
	 * milliseconds and is read once per loop iteration, so it is
	 * brought up to date and one more millisecond is added. */
	uv_update_time(ss->delay.loop);
	uv_timer_start(&ss->delay, esv_delay_cb, (uint64_t)ss->sv->faults.delay_ms + 1, 0);
}

/* After 221 or 421: no more reading; close once the replies are out. */
static void
esv_end(esv_session *ss)
{
	if (ss->ending || ss->closing)
		return;
	ss->ending = 1;
	if (ss->reading) {
		uv_read_stop((uv_stream_t *)&ss->tcp);
		ss->reading = 0;
	}
	esv_flush(ss);
	if (ss->closing || ss->delaying)
		return;	/* esv_delay_cb finishes */
	esv_finish(ss);
}

static void
esv_idle_cb(uv_timer_t *t)
{
	esv_session *ss = t->data;

	smtp_srv_timeout(ss->srv, &ss->out);
	esv_end(ss);
}

static void
esv_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	esv_session *ss = h->data;

	(void)suggested;
	*buf = uv_buf_init(ss->sv->rbuf, HARNESS_SRV_READ_BUF);
}

static void
esv_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	esv_session *ss = stream->data;

	if (ss->closing || ss->ending)
		return;
	if (nread < 0) {
		/* EOF or reset: an open transaction is dropped (§4.1.1.10). */
		esv_close(ss);
		return;
	}
	if (nread == 0)
		return;
	uv_timer_again(&ss->timer);
	smtp_srv_feed(ss->srv, buf->base, (size_t)nread, &ss->out);
	if (smtp_srv_closed(ss->srv)) {
		esv_end(ss);
		return;
	}
	esv_flush(ss);
	if (!ss->closing &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&ss->tcp) > HARNESS_SRV_WRITE_QUEUE_MAX) {
		/* The client does not read its replies: stop reading its
		 * commands until it does (the idle timer still runs). */
		uv_read_stop((uv_stream_t *)&ss->tcp);
		ss->reading = 0;
	}
}

static void
esv_read_resume(esv_session *ss)
{
	if (uv_read_start((uv_stream_t *)&ss->tcp, esv_alloc_cb, esv_read_cb) == 0)
		ss->reading = 1;
	else
		esv_close(ss);
}

static int
esv_deliver(void *arg, const smtp_srv_msg *m, char *id, size_t idlen)
{
	esv_session *ss = arg;
	eng_serve *sv = ss->sv;
	char err[512];

	if (sv->faults.lose_ppm > 0 && splitmix64(&sv->rng) % 1000000 < sv->faults.lose_ppm) {
		/* The fault: say 250, keep nothing. */
		sv->stats.accepted++;
		if (sv->log != NULL) {
			fprintf(sv->log, "%s: fault: message from <%s> lost\n", ss->peer, m->mail_from);
			fflush(sv->log);
		}
		return 0;
	}
	if (sv->spool != NULL &&
	    eng_spool_deliver(sv->spool, m, ss->peer, ss->peer_lit, id, idlen, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: spool: %s\n", err);
		sv->stats.refused++;
		return -1;
	}
	sv->stats.accepted++;
	if (sv->log != NULL) {
		fprintf(sv->log, "%s: accepted%s%s from <%s>, %zu recipient(s), %zu octets\n",
		    ss->peer, id[0] ? " " : "", id, m->mail_from, m->nrcpts, m->content_len);
		fflush(sv->log);
	}
	return 0;
}

static int
esv_fault(void *arg, const char *what, const char *mailbox)
{
	esv_session *ss = arg;
	int code = eng_serve_fault_pick(&ss->sv->rng, &ss->sv->faults);

	(void)mailbox;
	if (code > 0 && strcmp(what, "DATA") == 0)
		ss->sv->stats.refused++;
	if (code != 0 && ss->sv->log != NULL) {
		if (code == SMTP_SRV_FAULT_DROP)
			fprintf(ss->sv->log, "%s: fault: %s dropped\n", ss->peer, what);
		else
			fprintf(ss->sv->log, "%s: fault: %s answered %d\n", ss->peer, what, code);
		fflush(ss->sv->log);
	}
	return code;
}

static void
esv_connection_cb(uv_stream_t *listener, int status)
{
	eng_serve *sv = listener->data;
	esv_session *ss;
	smtp_srv_config scfg;
	struct sockaddr_storage peer;
	int len = sizeof(peer);

	if (status != 0 || sv->stopping)
		return;
	ss = xcalloc(1, sizeof(*ss));
	ss->sv = sv;
	uv_tcp_init(sv->loop, &ss->tcp);
	uv_timer_init(sv->loop, &ss->timer);
	uv_timer_init(sv->loop, &ss->delay);
	ss->tcp.data = ss->timer.data = ss->delay.data = ss;
	ss->open_handles = 3;
	ss->next = sv->sessions;
	if (sv->sessions != NULL)
		sv->sessions->prev = ss;
	sv->sessions = ss;
	sv->nsessions++;
	if (uv_accept(listener, (uv_stream_t *)&ss->tcp) != 0) {
		esv_close(ss);
		return;
	}
	sv->stats.sessions++;
	if (uv_tcp_getpeername(&ss->tcp, (struct sockaddr *)&peer, &len) == 0)
		esv_addr_str((struct sockaddr *)&peer, ss->peer, sizeof(ss->peer), NULL, 0,
		    ss->peer_lit, sizeof(ss->peer_lit));
	else
		snprintf(ss->peer, sizeof(ss->peer), "unknown");
	if (ss->peer_lit[0] == '\0')
		snprintf(ss->peer_lit, sizeof(ss->peer_lit), "unknown");
	uv_tcp_nodelay(&ss->tcp, 1);

	memset(&scfg, 0, sizeof(scfg));
	scfg.hostname = sv->hostname;
	scfg.size_max = sv->size_max;
	scfg.deliver = esv_deliver;
	scfg.deliver_arg = ss;
	if (sv->faults.fail_ppm > 0 || sv->faults.disconnect_ppm > 0) {
		scfg.fault = esv_fault;
		scfg.fault_arg = ss;
	}
	ss->srv = smtp_srv_new(&scfg);
	if (sv->log != NULL) {
		fprintf(sv->log, "%s: connected\n", ss->peer);
		fflush(sv->log);
	}
	if (sv->nsessions > HARNESS_SRV_SESSIONS_MAX) {
		vbuf_printf(&ss->out, "421 4.7.0 %s Error: too many connections\r\n", sv->hostname);
		esv_end(ss);
		return;
	}
	smtp_srv_greeting(ss->srv, &ss->out);
	esv_flush(ss);
	uv_timer_start(&ss->timer, esv_idle_cb, sv->idle_ms, sv->idle_ms);
	if (!ss->delaying)
		esv_read_resume(ss);	/* else once the greeting is out */
}

/* ---- the server -------------------------------------------------------------- */

static void
esv_listener_closed_cb(uv_handle_t *h)
{
	eng_serve *sv = h->data;

	sv->listener_open = 0;
}

static int
esv_bind(eng_serve *sv, const eng_serve_config *cfg, char *err, size_t errlen)
{
	uv_getaddrinfo_t req;
	struct addrinfo hints;
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = uv_getaddrinfo(sv->loop, &req, NULL, cfg->host, cfg->port, &hints);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s", cfg->host, cfg->port,
		    uv_strerror(rc));
		return -1;
	}
	rc = uv_tcp_bind(&sv->listener, req.addrinfo->ai_addr, 0);
	uv_freeaddrinfo(req.addrinfo);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&sv->listener, 511, esv_connection_cb);
	if (rc == 0)
		rc = uv_tcp_getsockname(&sv->listener, (struct sockaddr *)&bound, &len);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s", cfg->host, cfg->port,
		    uv_strerror(rc));
		return -1;
	}
	esv_addr_str((struct sockaddr *)&bound, sv->address, sizeof(sv->address), sv->port,
	    sizeof(sv->port), NULL, 0);
	return 0;
}

int
eng_serve_start(uv_loop_t *loop, const eng_serve_config *cfg, eng_serve **out, char *err,
    size_t errlen)
{
	eng_serve *sv = xcalloc(1, sizeof(*sv));
	const char *hostname = cfg->hostname ? cfg->hostname : eng_serve_default_hostname();

	*out = NULL;
	sv->loop = loop;
	sv->hostname = xstrdup(hostname);
	sv->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : HARNESS_SRV_IDLE_TIMEOUT_MS;
	sv->size_max = cfg->size_max;
	sv->log = cfg->log;
	sv->faults.delay_ms = cfg->delay_ms;
	sv->faults.fail_ppm = cfg->fail_ppm;
	sv->faults.fail_code = cfg->fail_code;
	sv->faults.disconnect_ppm = cfg->disconnect_ppm;
	sv->faults.lose_ppm = cfg->lose_ppm;
	sv->faults.seed = cfg->seed;
	sv->rng = eng_serve_rng_init(cfg->seed);
	sv->rbuf = xmalloc(HARNESS_SRV_READ_BUF);
	if (cfg->spool_dir != NULL) {
		sv->spool = eng_spool_open(cfg->spool_dir, sv->hostname, err, errlen);
		if (sv->spool == NULL) {
			eng_serve_free(sv);
			return -2;
		}
	}
	uv_tcp_init(loop, &sv->listener);
	sv->listener.data = sv;
	sv->listener_open = 1;
	if (esv_bind(sv, cfg, err, errlen) != 0) {
		sv->stopping = 1;
		uv_close((uv_handle_t *)&sv->listener, esv_listener_closed_cb);
		/* Let the loop finish the close before the memory goes. */
		while (sv->listener_open)
			uv_run(loop, UV_RUN_ONCE);
		eng_serve_free(sv);
		return -1;
	}
	*out = sv;
	return 0;
}

int
eng_serve_parse_rate(const char *s, uint32_t *ppm)
{
	unsigned long whole = 0, frac = 0, scale = 1000000;
	const char *p = s;

	if (*p >= '0' && *p <= '9')
		whole = (unsigned long)(*p++ - '0');
	else if (*p != '.')
		return -1;
	if (*p == '.') {
		p++;
		if (p[0] < '0' || p[0] > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return -1;	/* finer than a millionth */
			scale /= 10;
			frac += (unsigned long)(*p - '0') * scale;
		}
	}
	if (*p != '\0' || whole > 1 || (whole == 1 && frac > 0))
		return -1;
	*ppm = (uint32_t)(whole * 1000000 + frac);
	return 0;
}

uint64_t
eng_serve_rng_init(uint32_t seed)
{
	/* Like a scenario's stream (srole.c): the seed in both halves. */
	return 0x5e77e5e77e5e77e5ULL ^ ((uint64_t)seed << 32 | seed);
}

int
eng_serve_fault_pick(uint64_t *rng, const eng_serve_config *cfg)
{
	if (cfg->disconnect_ppm > 0 && splitmix64(rng) % 1000000 < cfg->disconnect_ppm)
		return SMTP_SRV_FAULT_DROP;
	if (cfg->fail_ppm > 0 && splitmix64(rng) % 1000000 < cfg->fail_ppm)
		return cfg->fail_code;
	return 0;
}

const char *
eng_serve_address(const eng_serve *sv)
{
	return sv->address;
}

const char *
eng_serve_port(const eng_serve *sv)
{
	return sv->port;
}

const eng_serve_stats *
eng_serve_get_stats(const eng_serve *sv)
{
	return &sv->stats;
}

void
eng_serve_stop(eng_serve *sv)
{
	if (sv == NULL || sv->stopping)
		return;
	sv->stopping = 1;
	uv_close((uv_handle_t *)&sv->listener, esv_listener_closed_cb);
	for (esv_session *ss = sv->sessions; ss != NULL; ss = ss->next) {
		if (ss->closing || ss->ending)
			continue;
		smtp_srv_shutdown(ss->srv, &ss->out);
		esv_end(ss);
	}
}

void
eng_serve_free(eng_serve *sv)
{
	if (sv == NULL)
		return;
	if (sv->listener_open || sv->sessions != NULL) {
		fprintf(stderr, "smtp-harness: internal error: reference server freed while open\n");
		abort();
	}
	eng_spool_close(sv->spool);
	xfree(sv->hostname);
	xfree(sv->rbuf);
	xfree(sv);
}
