/*
 * pcap_read - TCP reassembly of a capture into SMTP transcripts
 * (see pcap_read.h).
 *
 * Frames are decoded down to a TCP segment (rd_frame), the connection is
 * found in a hash table keyed on both endpoints (either way round), and
 * the segment is fed to the direction it travels (rd_segment). Each
 * direction keeps the next sequence number it expects and a sorted list
 * of segments that came early; bytes are "delivered" to the transcript
 * strictly in sequence order, and a hole that cannot be waited out any
 * longer (a limit, a RST, the end of the capture) becomes a CAP_GAP.
 * Endpoint 0 of a connection is always the client, so an endpoint index
 * is a cap_dir.
 */
#include "captures/pcap_read.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define RD_BUCKETS	4096

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_ACK	0x10

typedef enum rd_kind {
	RD_UNDECIDED = 0,
	RD_SMTP,
	RD_NOT_SMTP
} rd_kind;

/* A segment that came before the bytes preceding it. */
typedef struct rd_ooo {
	struct rd_ooo *next;
	uint32_t seq;
	size_t len;
	uint64_t ts_us;
	uint8_t data[];
} rd_ooo;

typedef struct rd_dir {
	int have_next;
	uint32_t next;		/* next sequence number expected */
	uint32_t base;		/* sequence number of stream byte 0 */
	int fin;		/* a FIN was seen ... */
	uint32_t fin_seq;	/* ... at this sequence number */
	int fin_done;		/* ... and every byte before it delivered */
	rd_ooo *ooo;
	size_t ooo_bytes;
	uint64_t gap_bytes;	/* declared missing so far */
	char line[12];		/* the start of the current line (STARTTLS) */
	size_t line_len;
} rd_dir;

typedef struct rd_conn {
	struct rd_conn *hnext;
	struct rd_conn *prev, *next;	/* all connections, oldest first */
	int v6;
	uint8_t addr[2][16];	/* [CAP_C2S] client, [CAP_S2C] server */
	uint16_t port[2];
	rd_kind kind;
	int mid_stream;		/* the SYN was not seen */
	int opened;
	rd_dir d[2];
	cap_transcript *t;
	size_t held;		/* bytes kept in t plus held out of order */
	cap_pcap_session s;
	int starttls;		/* a STARTTLS line waits for its reply */
	int opaque;		/* TLS has started */
	uint64_t tls_bytes;
	int cut;		/* a size limit stopped the keeping of bytes */
	int ending;		/* rd_end flushes: decide on both streams after */
	uint64_t last_ts;	/* of the latest segment */
	size_t notes_lost;
} rd_conn;

struct cap_reasm {
	int dlt;
	cap_pcap_session_cb cb;
	void *arg;
	rd_conn *buckets[RD_BUCKETS];
	rd_conn *first, *last;
	size_t nconns;
	size_t held;		/* across all connections */
	size_t sessions;
	cap_pcap_stats stats;
};

/* ---- notes ------------------------------------------------------- */

static void rd_note(rd_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
rd_note(rd_conn *c, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	if (c->s.nnotes >= HARNESS_PCAP_NOTES_MAX) {
		c->notes_lost++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->s.notes = xrealloc(c->s.notes, (c->s.nnotes + 1) * sizeof(*c->s.notes));
	c->s.notes[c->s.nnotes++] = xstrdup(buf);
}

/* ---- content ----------------------------------------------------- */

static int
rd_is_greeting(const char *p, size_t n)
{
	return n >= 4 && memcmp(p, "220", 3) == 0 &&
	    (p[3] == ' ' || p[3] == '-' || p[3] == '\r' || p[3] == '\n');
}

static int
rd_is_hello(const char *p, size_t n)
{
	return n >= 5 && (strncasecmp(p, "EHLO", 4) == 0 || strncasecmp(p, "HELO", 4) == 0) &&
	    (p[4] == ' ' || p[4] == '\r' || p[4] == '\n');
}

/* A client that did not say EHLO first may still be an SMTP client
 * answering a greeting: these are the verbs one may start with. */
static int
rd_is_verb(const char *p, size_t n)
{
	static const char *const verbs[] = {
		"EHLO", "HELO", "LHLO", "QUIT", "NOOP", "RSET", "HELP", "MAIL", "VRFY",
		"EXPN", "STAR", "AUTH"
	};

	if (n < 4)
		return 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strncasecmp(p, verbs[i], 4) == 0)
			return 1;
	}
	return 0;
}

/* Decides from the first bytes of each stream; `ended` when no more
 * will come. */
static rd_kind
rd_sniff(const rd_conn *c, int ended)
{
	const vbuf *cs = &c->t->stream[CAP_C2S], *ss = &c->t->stream[CAP_S2C];
	int greeting = rd_is_greeting(ss->data, ss->len);

	if (rd_is_hello(cs->data, cs->len))
		return RD_SMTP;
	if (greeting && cs->len >= 4)
		return rd_is_verb(cs->data, cs->len) ? RD_SMTP : RD_NOT_SMTP;
	/* The client said something else first, greeting or not. */
	if (cs->len >= 5)
		return RD_NOT_SMTP;
	if (cs->len + ss->len > HARNESS_PCAP_SNIFF_MAX)
		return RD_NOT_SMTP;
	if (ended)
		return greeting ? RD_SMTP : RD_NOT_SMTP;
	return RD_UNDECIDED;
}

/* ---- connections ------------------------------------------------- */

static unsigned
rd_hash_ep(const uint8_t *a, uint16_t port)
{
	unsigned h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return (h ^ port) * 16777619u;
}

/* The same for either orientation of the connection. */
static unsigned
rd_hash(const uint8_t a[2][16], const uint16_t port[2])
{
	return (rd_hash_ep(a[0], port[0]) + rd_hash_ep(a[1], port[1])) % RD_BUCKETS;
}

/* Finds the connection; *from is the sender's endpoint index. */
static rd_conn *
rd_find(cap_reasm *r, int v6, const uint8_t a[2][16], const uint16_t port[2], int *from)
{
	for (rd_conn *c = r->buckets[rd_hash(a, port)]; c != NULL; c = c->hnext) {
		if (c->v6 != v6)
			continue;
		for (int k = 0; k < 2; k++) {
			if (memcmp(c->addr[k], a[0], 16) == 0 && c->port[k] == port[0] &&
			    memcmp(c->addr[!k], a[1], 16) == 0 && c->port[!k] == port[1]) {
				*from = k;
				return c;
			}
		}
	}
	return NULL;
}

static void
rd_sockaddr(const rd_conn *c, int k, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c->addr[k], 16);
		sin6->sin6_port = htons(c->port[k]);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c->addr[k], 4);
		sin->sin_port = htons(c->port[k]);
	}
}

/* A new connection whose client is endpoint `client` of a/port. */
static rd_conn *
rd_conn_new(cap_reasm *r, int v6, const uint8_t a[2][16], const uint16_t port[2], int client)
{
	rd_conn *c;
	struct sockaddr_storage cs, ss;
	unsigned h;

	if (r->nconns >= HARNESS_PCAP_CONNS_MAX)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->v6 = v6;
	memcpy(c->addr[0], a[client], 16);
	memcpy(c->addr[1], a[!client], 16);
	c->port[0] = port[client];
	c->port[1] = port[!client];
	rd_sockaddr(c, 0, &cs);
	rd_sockaddr(c, 1, &ss);
	c->t = cap_transcript_new((struct sockaddr *)&cs, (struct sockaddr *)&ss);
	h = rd_hash(c->addr, c->port);
	c->hnext = r->buckets[h];
	r->buckets[h] = c;
	c->prev = r->last;
	if (r->last)
		r->last->next = c;
	else
		r->first = c;
	r->last = c;
	r->nconns++;
	return c;
}

static void
rd_conn_free(cap_reasm *r, rd_conn *c)
{
	unsigned h = rd_hash(c->addr, c->port);
	rd_conn **pp = &r->buckets[h];

	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		r->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		r->last = c->prev;
	r->nconns--;
	r->held -= c->held;
	for (int k = 0; k < 2; k++) {
		rd_ooo *o = c->d[k].ooo;

		while (o != NULL) {
			rd_ooo *n = o->next;

			xfree(o);
			o = n;
		}
	}
	cap_transcript_free(c->t);
	for (size_t i = 0; i < c->s.nnotes; i++)
		xfree(c->s.notes[i]);
	xfree(c->s.notes);
	xfree(c);
}

/* ---- delivery ---------------------------------------------------- */

/* Keeps bytes in the transcript while the limits allow. */
static void
rd_keep(cap_reasm *r, rd_conn *c, int dir, uint64_t ts, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (c->cut || c->t->truncated[dir])
		return;
	if (c->held + n > HARNESS_PCAP_SESSION_MAX || r->held + n > HARNESS_PCAP_HELD_MAX) {
		c->cut = 1;
		c->t->truncated[0] = c->t->truncated[1] = 1;
		rd_note(c, "expected the session to fit the reader's limits, got more than %d bytes "
		    "(or more than %d held across the capture); later bytes were not kept",
		    HARNESS_PCAP_SESSION_MAX, HARNESS_PCAP_HELD_MAX);
		return;
	}
	if (cap_transcript_add_data(c->t, (cap_dir)dir, ts, p, n) >= 0) {
		c->held += n;
		r->held += n;
	}
}


/* Follows lines for STARTTLS: a C2S line "STARTTLS" arms it, the next
 * final S2C reply line settles it. Returns the number of bytes of p up to
 * and including a 220 reply to STARTTLS (setting *tls), else n. */
static size_t
rd_lines(rd_conn *c, int dir, const uint8_t *p, size_t n, int *tls)
{
	rd_dir *d = &c->d[dir];

	*tls = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l;

		if (p[i] != '\n') {
			if (d->line_len < sizeof(d->line))
				d->line[d->line_len] = (char)p[i];
			if (d->line_len <= sizeof(d->line))
				d->line_len++;
			continue;
		}
		l = d->line_len;
		if (l > sizeof(d->line))
			l = sizeof(d->line) + 1;	/* too long to matter */
		else if (l > 0 && d->line[l - 1] == '\r')
			l--;
		d->line_len = 0;
		if (dir == CAP_C2S) {
			if (l == 8 && strncasecmp(d->line, "STARTTLS", 8) == 0)
				c->starttls = 1;
			continue;
		}
		if (!c->starttls || l < 3 || (l > 3 && d->line[3] == '-'))
			continue;
		c->starttls = 0;
		if (memcmp(d->line, "220", 3) == 0) {
			*tls = 1;
			return i + 1;
		}
	}
	return n;
}

static void
rd_drop_ooo(cap_reasm *r, rd_conn *c)
{
	for (int k = 0; k < 2; k++) {
		rd_dir *d = &c->d[k];

		while (d->ooo != NULL) {
			rd_ooo *o = d->ooo;

			d->ooo = o->next;
			c->held -= o->len;
			r->held -= o->len;
			xfree(o);
		}
		d->ooo_bytes = 0;
	}
}

/* Decides SMTP or not once enough is known; a connection that is not
 * gives back everything it held at once. */
static void
rd_classify(cap_reasm *r, rd_conn *c, int ended)
{
	if (c->kind != RD_UNDECIDED)
		return;
	c->kind = rd_sniff(c, ended);
	if (c->kind == RD_SMTP) {
		c->s.index = ++r->sessions;
	} else if (c->kind == RD_NOT_SMTP) {
		rd_drop_ooo(r, c);
		r->held -= c->held;
		c->held = 0;
		cap_transcript_free(c->t);
		c->t = NULL;
	}
}

/* Bytes in sequence order for direction dir. */
static void
rd_deliver(cap_reasm *r, rd_conn *c, int dir, uint64_t ts, const uint8_t *p, size_t n)
{
	size_t smtp;
	int tls;

	if (c->kind == RD_NOT_SMTP)
		return;
	if (c->opaque) {
		c->tls_bytes += n;
		return;
	}
	smtp = rd_lines(c, dir, p, n, &tls);
	rd_keep(r, c, dir, ts, p, smtp);
	if (tls) {
		c->opaque = 1;
		cap_transcript_add_event(c->t, CAP_TLS_START, (cap_dir)dir, ts);
		c->tls_bytes += n - smtp;
	}
	if (!c->ending)
		rd_classify(r, c, 0);
}

/* Declares n bytes before the next expected ones lost. */
static void
rd_gap(rd_conn *c, int dir, uint64_t ts, uint32_t n)
{
	rd_dir *d = &c->d[dir];

	if (n == 0)
		return;
	d->next += n;
	d->line_len = sizeof(d->line) + 1;	/* the line the hole broke */
	if (c->opaque || c->kind == RD_NOT_SMTP)
		return;
	if (!c->cut)
		cap_transcript_add_gap(c->t, (cap_dir)dir, ts, n);
	c->s.gaps++;
	c->s.gap_bytes += n;
	if (d->gap_bytes == 0)
		rd_note(c, "expected every byte of the %s stream, got %" PRIu32 " byte(s) missing "
		    "from the capture at stream offset %zu", dir == CAP_C2S ? "client's" :
		    "server's", n, c->t ? c->t->stream[dir].len : 0);
	d->gap_bytes += n;
}

static void
rd_check_fin(rd_conn *c, int dir, uint64_t ts)
{
	rd_dir *d = &c->d[dir];

	if (!d->fin || d->fin_done || d->next != d->fin_seq)
		return;
	d->fin_done = 1;
	d->next++;
	if (c->t != NULL)
		cap_transcript_add_event(c->t, CAP_FIN, (cap_dir)dir, ts);
}

/* Delivers what the held segments now continue. */
static void
rd_drain(cap_reasm *r, rd_conn *c, int dir)
{
	rd_dir *d = &c->d[dir];

	while (d->ooo != NULL) {
		rd_ooo *o = d->ooo;
		int32_t rel = (int32_t)(o->seq - d->next);
		size_t skip;

		if (rel > 0)
			break;
		d->ooo = o->next;
		d->ooo_bytes -= o->len;
		c->held -= o->len;
		r->held -= o->len;
		skip = (size_t)(-(int64_t)rel);
		if (skip < o->len) {
			d->next += (uint32_t)(o->len - skip);
			rd_deliver(r, c, dir, o->ts_us, o->data + skip, o->len - skip);
		}
		xfree(o);
	}
	rd_check_fin(c, dir, c->last_ts);
}

/* Every hole left in dir becomes a gap: nothing more will come. */
static void
rd_flush(cap_reasm *r, rd_conn *c, int dir, uint64_t ts)
{
	rd_dir *d = &c->d[dir];

	if (!d->have_next)
		return;
	while (d->ooo != NULL) {
		rd_gap(c, dir, d->ooo->ts_us, d->ooo->seq - d->next);
		rd_drain(r, c, dir);
	}
	if (d->fin && !d->fin_done && (int32_t)(d->fin_seq - d->next) > 0) {
		rd_gap(c, dir, ts, d->fin_seq - d->next);
		rd_check_fin(c, dir, ts);
	}
}

/* Holds an early segment, keeping the first copy of any byte. */
static void
rd_hold(cap_reasm *r, rd_conn *c, int dir, uint64_t ts, uint32_t seq, const uint8_t *p, size_t n)
{
	rd_dir *d = &c->d[dir];
	rd_ooo **pp = &d->ooo;
	uint32_t cur = seq, end = seq + (uint32_t)n;
	int differs = 0;

	while (cur != end) {
		rd_ooo *e = *pp;
		uint32_t stop = end, o_end;
		rd_ooo *piece;

		if (e != NULL) {
			o_end = e->seq + (uint32_t)e->len;
			if ((int32_t)(o_end - cur) <= 0) {
				pp = &e->next;
				continue;
			}
			if ((int32_t)(e->seq - cur) <= 0) {
				/* cur lies inside e: the first copy stands. */
				uint32_t upto = (int32_t)(o_end - end) < 0 ? o_end : end;
				size_t len = upto - cur;

				if (memcmp(e->data + (cur - e->seq), p + (cur - seq), len) != 0)
					differs = 1;
				cur = upto;
				pp = &e->next;
				continue;
			}
			if ((int32_t)(e->seq - end) < 0)
				stop = e->seq;
		}
		piece = xmalloc(sizeof(*piece) + (stop - cur));
		piece->seq = cur;
		piece->len = stop - cur;
		piece->ts_us = ts;
		memcpy(piece->data, p + (cur - seq), piece->len);
		piece->next = e;
		*pp = piece;
		pp = &piece->next;
		d->ooo_bytes += piece->len;
		c->held += piece->len;
		r->held += piece->len;
		cur = stop;
	}
	if (differs)
		rd_note(c, "expected retransmitted %s bytes to repeat the first copy, got different "
		    "bytes at sequence number %" PRIu32 "; the first copy was kept",
		    dir == CAP_C2S ? "client" : "server", seq);
}

/* Compares a retransmission with what was delivered, where the stream
 * still maps one to one onto sequence numbers. */
static void
rd_compare(rd_conn *c, int dir, uint32_t seq, const uint8_t *p, size_t n)
{
	rd_dir *d = &c->d[dir];
	const vbuf *st;
	uint32_t off = seq - d->base;

	if (c->t == NULL || c->opaque || c->cut || d->gap_bytes > 0 || n == 0)
		return;
	st = &c->t->stream[dir];
	if ((size_t)off > st->len || n > st->len - off)
		return;
	if (memcmp(st->data + off, p, n) != 0)
		rd_note(c, "expected retransmitted %s bytes to repeat the first copy, got different "
		    "bytes at stream offset %" PRIu32 "; the first copy was kept",
		    dir == CAP_C2S ? "client" : "server", off);
}

static void
rd_data(cap_reasm *r, rd_conn *c, int dir, uint64_t ts, uint32_t seq, const uint8_t *p, size_t n)
{
	rd_dir *d = &c->d[dir];
	int32_t rel = (int32_t)(seq - d->next);

	if (n == 0)
		return;
	if (rel <= 0) {
		size_t old = (size_t)(-(int64_t)rel);

		if (old > HARNESS_PCAP_WINDOW_MAX)
			return;
		rd_compare(c, dir, seq, p, old < n ? old : n);
		if (old >= n)
			return;
		d->next += (uint32_t)(n - old);
		rd_deliver(r, c, dir, ts, p + old, n - old);
		rd_drain(r, c, dir);
		return;
	}
	if (rel > HARNESS_PCAP_WINDOW_MAX) {
		rd_note(c, "expected %s segments within %d bytes of the stream, got one %" PRId32
		    " bytes ahead; it was ignored", dir == CAP_C2S ? "client" : "server",
		    HARNESS_PCAP_WINDOW_MAX, rel);
		return;
	}
	if (d->ooo_bytes + n > HARNESS_PCAP_OOO_MAX) {
		/* Waiting longer would pass the limit: the hole is lost. */
		rd_note(c, "expected the %s stream's holes to fill within %d bytes held out of "
		    "order, got more; the hole was declared missing",
		    dir == CAP_C2S ? "client's" : "server's", HARNESS_PCAP_OOO_MAX);
		while (d->ooo != NULL && d->ooo_bytes + n > HARNESS_PCAP_OOO_MAX) {
			rd_gap(c, dir, ts, d->ooo->seq - d->next);
			rd_drain(r, c, dir);
		}
		if (c->kind == RD_NOT_SMTP)
			return;
		/* Bigger than the whole buffer on its own: no waiting at all. */
		if (d->ooo_bytes + n > HARNESS_PCAP_OOO_MAX && (int32_t)(seq - d->next) > 0)
			rd_gap(c, dir, ts, seq - d->next);
		rel = (int32_t)(seq - d->next);
		if (rel <= 0) {
			rd_data(r, c, dir, ts, seq, p, n);
			return;
		}
	}
	rd_hold(r, c, dir, ts, seq, p, n);
}

/* ---- connection life --------------------------------------------- */

static void
rd_end(cap_reasm *r, rd_conn *c, uint64_t ts)
{
	/* Flushed one direction after the other, the streams would be
	 * judged SMTP or not half-filled. */
	c->ending = 1;
	if (c->kind != RD_NOT_SMTP) {
		rd_flush(r, c, CAP_C2S, ts);
		rd_flush(r, c, CAP_S2C, ts);
	}
	rd_classify(r, c, 1);
	if (c->kind == RD_SMTP) {
		if (c->opaque && c->tls_bytes > 0)
			rd_note(c, "%" PRIu64 " byte(s) after STARTTLS are TLS and were not kept",
			    c->tls_bytes);
		if (c->notes_lost > 0) {
			c->s.notes[c->s.nnotes - 1] = xrealloc(c->s.notes[c->s.nnotes - 1], 64);
			snprintf(c->s.notes[c->s.nnotes - 1], 64, "%zu more note(s) not kept",
			    c->notes_lost + 1);
		}
		c->s.t = c->t;
		c->s.tls = c->opaque;
		r->stats.sessions++;
		r->cb(r->arg, &c->s);
		c->t = c->s.t;
	}
	rd_conn_free(r, c);
}

/* One TCP segment of connection c sent by endpoint `from`; `missing`
 * payload bytes were not captured (snap length). May end c. */
static void
rd_segment(cap_reasm *r, rd_conn *c, int from, uint64_t ts, uint8_t flags, uint32_t seq,
    const uint8_t *p, size_t n, size_t missing)
{
	rd_dir *d = &c->d[from];

	c->last_ts = ts;
	if (c->kind == RD_NOT_SMTP) {
		if (flags & (TH_RST | TH_FIN)) {
			d->fin = 1;
			if ((flags & TH_RST) || c->d[!from].fin)
				rd_conn_free(r, c);
		}
		return;
	}
	if (flags & TH_SYN) {
		if (!d->have_next) {
			d->have_next = 1;
			d->next = d->base = seq + 1;
		}
		if ((flags & TH_ACK) && !c->opened) {
			c->opened = 1;
			cap_transcript_add_event(c->t, CAP_OPEN, CAP_C2S, ts);
		}
		return;
	}
	if (!d->have_next) {
		d->have_next = 1;
		d->next = d->base = seq;
	}
	if (!c->opened && !c->mid_stream && (n > 0 || (flags & (TH_FIN | TH_RST)))) {
		c->opened = 1;
		cap_transcript_add_event(c->t, CAP_OPEN, CAP_C2S, ts);
	}
	if (flags & TH_RST) {
		c->ending = 1;
		rd_flush(r, c, CAP_C2S, ts);
		rd_flush(r, c, CAP_S2C, ts);
		if (c->t != NULL)
			cap_transcript_add_event(c->t, CAP_RST, (cap_dir)from, ts);
		rd_end(r, c, ts);
		return;
	}
	if (n > 0) {
		rd_data(r, c, from, ts, seq, p, n);
		if (c->kind == RD_NOT_SMTP)
			return;
		if (missing > 0 && d->next == seq + (uint32_t)n) {
			rd_note(c, "expected whole packets, got %zu byte(s) cut by the capture's "
			    "snap length", missing);
			rd_gap(c, from, ts, (uint32_t)missing);
			rd_drain(r, c, from);
		}
	}
	if ((flags & TH_FIN) && !d->fin) {
		d->fin = 1;
		d->fin_seq = seq + (uint32_t)(n + missing);
		rd_check_fin(c, from, ts);
	}
	if (c->d[0].fin_done && c->d[1].fin_done)
		rd_end(r, c, ts);
}

/* A segment of no known connection: a SYN starts one; without a SYN,
 * only a greeting or a hello at the start of a payload does. */
static void
rd_new(cap_reasm *r, int v6, const uint8_t a[2][16], const uint16_t port[2], uint64_t ts,
    uint8_t flags, uint32_t seq, const uint8_t *p, size_t n, size_t missing)
{
	rd_conn *c;
	int client;

	if (flags & TH_RST)
		return;
	if (flags & TH_SYN)
		client = (flags & TH_ACK) ? 1 : 0;
	else if (rd_is_greeting((const char *)p, n))
		client = 1;
	else if (rd_is_hello((const char *)p, n))
		client = 0;
	else
		return;
	c = rd_conn_new(r, v6, a, port, client);
	if (c == NULL) {
		/* Counted once: by its SYN, or by what started it without one
		 * (a SYN-ACK follows a SYN that was counted). */
		if ((flags & (TH_SYN | TH_ACK)) != (TH_SYN | TH_ACK))
			r->stats.untracked++;
		return;
	}
	if (!(flags & TH_SYN)) {
		c->mid_stream = 1;
		if (client == 1) {
			/* A greeting starts a session: the connection opened. */
			c->opened = 1;
			cap_transcript_add_event(c->t, CAP_OPEN, CAP_C2S, ts);
		}
	}
	rd_segment(r, c, client == 0 ? CAP_C2S : CAP_S2C, ts, flags, seq, p, n, missing);
}

/* ---- frames ------------------------------------------------------ */

static uint16_t
rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The offset of the IP header in a frame, or -1. */
static long
rd_link(int dlt, const uint8_t *p, size_t caplen)
{
	size_t off;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		et = rd_be16(p + 12);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && off + 4 <= caplen) {
			et = rd_be16(p + off + 2);
			off += 4;
		}
		return et == 0x0800 || et == 0x86dd ? (long)off : -1;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		et = rd_be16(p + 14);
		return et == 0x0800 || et == 0x86dd ? 16 : -1;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		et = rd_be16(p);
		return et == 0x0800 || et == 0x86dd ? 20 : -1;
	case DLT_NULL:
	case DLT_LOOP:
		/* The address family, in host or network order: the IP
		 * version nibble says the same more simply. */
		return caplen >= 4 ? 4 : -1;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	default:
		return -1;
	}
}

void
cap_reasm_frame(cap_reasm *r, uint64_t ts_us, const uint8_t *p, size_t caplen, size_t len)
{
	long loff;
	const uint8_t *ip, *tcp;
	size_t avail, hl, wire, tcp_avail, tcp_wire, doff, n, wire_n;
	uint8_t a[2][16];
	uint16_t port[2];
	int v6, from;
	rd_conn *c;

	(void)len;
	r->stats.packets++;
	loff = rd_link(r->dlt, p, caplen);
	if (loff < 0 || (size_t)loff >= caplen)
		goto skip;
	ip = p + loff;
	avail = caplen - (size_t)loff;
	memset(a, 0, sizeof(a));
	if ((ip[0] >> 4) == 4) {
		v6 = 0;
		hl = (size_t)(ip[0] & 15) * 4;
		if (avail < 20 || hl < 20 || hl > avail)
			goto skip;
		wire = rd_be16(ip + 2);
		if (wire < hl || (rd_be16(ip + 6) & 0x3fff) != 0 || ip[9] != IPPROTO_TCP)
			goto skip;
		memcpy(a[0], ip + 12, 4);
		memcpy(a[1], ip + 16, 4);
	} else if ((ip[0] >> 4) == 6) {
		uint8_t nh;
		int k;

		v6 = 1;
		if (avail < 40)
			goto skip;
		wire = 40 + (size_t)rd_be16(ip + 4);
		nh = ip[6];
		hl = 40;
		for (k = 0; k < HARNESS_PCAP_EXT_HDRS_MAX && nh != IPPROTO_TCP; k++) {
			if (hl + 8 > avail)
				goto skip;
			switch (nh) {
			case 0:		/* hop-by-hop */
			case 43:	/* routing */
			case 60:	/* destination options */
				nh = ip[hl];
				hl += ((size_t)ip[hl + 1] + 1) * 8;
				break;
			case 44:	/* fragment: only a whole packet is read */
				if ((rd_be16(ip + hl + 2) & 0xfff9) != 0)
					goto skip;
				nh = ip[hl];
				hl += 8;
				break;
			case 51:	/* authentication header */
				nh = ip[hl];
				hl += ((size_t)ip[hl + 1] + 2) * 4;
				break;
			default:
				goto skip;
			}
		}
		if (nh != IPPROTO_TCP || hl > avail || hl > wire)
			goto skip;
		memcpy(a[0], ip + 8, 16);
		memcpy(a[1], ip + 24, 16);
	} else {
		goto skip;
	}
	if (avail > wire)
		avail = wire;		/* Ethernet padding is not payload */
	tcp = ip + hl;
	tcp_avail = avail - hl;
	tcp_wire = wire - hl;
	if (tcp_avail < 20)
		goto skip;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tcp_avail)
		goto skip;
	port[0] = rd_be16(tcp);
	port[1] = rd_be16(tcp + 2);
	n = tcp_avail - doff;
	wire_n = tcp_wire - doff;
	r->stats.tcp++;
	c = rd_find(r, v6, (const uint8_t (*)[16])a, port, &from);
	if (c == NULL)
		rd_new(r, v6, (const uint8_t (*)[16])a, port, ts_us, tcp[13], rd_be32(tcp + 4),
		    tcp + doff, n, wire_n - n);
	else
		rd_segment(r, c, from, ts_us, tcp[13], rd_be32(tcp + 4), tcp + doff, n, wire_n - n);
	return;
skip:
	r->stats.skipped++;
}

/* ---- the reassembler and files ----------------------------------- */

const char *
cap_pcap_linktype_str(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
		return "Ethernet";
	case DLT_LINUX_SLL:
		return "Linux cooked (SLL)";
	case DLT_LINUX_SLL2:
		return "Linux cooked (SLL2)";
	case DLT_NULL:
		return "BSD loopback (null)";
	case DLT_LOOP:
		return "OpenBSD loopback";
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return "raw IP";
	default:
		return NULL;
	}
}

cap_reasm *
cap_reasm_new(int dlt, cap_pcap_session_cb cb, void *arg)
{
	cap_reasm *r;

	if (cap_pcap_linktype_str(dlt) == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->dlt = dlt;
	r->cb = cb;
	r->arg = arg;
	return r;
}

void
cap_reasm_finish(cap_reasm *r)
{
	while (r->first != NULL)
		rd_end(r, r->first, r->first->last_ts);
}

const cap_pcap_stats *
cap_reasm_stats(const cap_reasm *r)
{
	return &r->stats;
}

void
cap_reasm_free(cap_reasm *r)
{
	if (r == NULL)
		return;
	while (r->first != NULL)
		rd_conn_free(r, r->first);
	xfree(r);
}

int
cap_pcap_read_stream(FILE *fp, const char *name, cap_pcap_session_cb cb, void *arg,
    cap_pcap_stats *stats, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	cap_reasm *r;
	int rc = 0, st;

	p = pcap_fopen_offline(fp, eb);
	if (p == NULL) {
		fclose(fp);
		snprintf(err, errlen, "%s: expected a pcap or pcapng capture, got %s", name,
		    eb[0] ? eb : "something else");
		return -1;
	}
	r = cap_reasm_new(pcap_datalink(p), cb, arg);
	if (r == NULL) {
		const char *dn = pcap_datalink_val_to_name(pcap_datalink(p));

		snprintf(err, errlen, "%s: expected link type Ethernet, Linux cooked (SLL, SLL2), "
		    "raw IP or loopback, got %s (%d)", name, dn ? dn : "an unknown one",
		    pcap_datalink(p));
		pcap_close(p);
		return -1;
	}
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		long pos = ftell(fp);

		st = pcap_next_ex(p, &h, &data);
		if (st == 1) {
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

			cap_reasm_frame(r, ts, data, h->caplen, h->len);
			continue;
		}
		if (st == PCAP_ERROR_BREAK)
			break;
		snprintf(err, errlen, "%s: expected a whole record at byte offset %ld, got %s",
		    name, pos, pcap_geterr(p));
		rc = -1;
		break;
	}
	/* What was read before a damaged record is still reported. */
	cap_reasm_finish(r);
	if (stats != NULL)
		*stats = r->stats;
	cap_reasm_free(r);
	pcap_close(p);
	return rc;
}

int
cap_pcap_read_file(const char *path, cap_pcap_session_cb cb, void *arg,
    cap_pcap_stats *stats, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	return cap_pcap_read_stream(fp, path, cb, arg, stats, err, errlen);
}
