/*
 * srole - one server-role scenario on libuv (srole.h).
 *
 * A connection works through its session's steps. Commands are taken
 * from the client's recorded stream one at a time, in lock-step: while a
 * reply is owed (delayed, dripping, being written) the bytes that arrive
 * are recorded but not read. Bytes that arrived before the reply to the
 * command before them are the client pipelining: the client-side passive
 * checks judge them, with the rest of what the client wrote, on each
 * connection's transcript when it ends (passive.h), against the
 * capability set the scenario advertised (RFC 2920). Message content is
 * read after a 3xx reply to DATA, up to CRLF.CRLF, and unstuffed; BDAT
 * chunks are read by their size. Faults (delay, drip, drop, silence,
 * garbage) apply to the reply of the step that names them.
 *
 * A "starttls" step's 220 starts the TLS handshake (etls.h, the server
 * side, with the scenario's certificate): from then on every byte goes
 * through OpenSSL, the transcript keeps the plaintext after a TLS-start
 * event, and the wire record (with --capture) the records, with the
 * secrets in <id>.keys. The client's first bytes after the 220, what it
 * sent before the handshake, its first command inside TLS and bytes it
 * sends before a reply inside TLS are judged here (RFC 3207 §4, §4.2, §6).
 */
#include "harness/engine/srole.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "captures/pcap_write.h"
#include "harness/check/catalog.h"
#include "harness/check/passive.h"
#include "harness/engine/etls.h"
#include "harness/engine/proc.h"
#include "harness/engine/secrets.h"
#include "harness/smtp/command.h"
#include "harness/smtp/instream.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/splitmix.h"
#include "harness/util/xalloc.h"

#define SRL_GREETING	"220 mx.harness.test ESMTP smtp-harness\r\n"
#define SRL_UNEXPECTED	"503 5.5.1 smtp-harness: not the command this scenario expected\r\n"
#define SRL_BYE		"221 2.0.0 smtp-harness: bye\r\n"
#define SRL_TOO_LONG	"500 5.5.2 smtp-harness: line too long\r\n"
#define SRL_NO_MORE	"421 4.3.2 smtp-harness: no connection expected now\r\n"
#define SRL_TLS_READY	"220 2.0.0 ready to start TLS\r\n"
#define SRL_RULES	16	/* verbs counted for rules, per connection */
#define SRL_TLS_SLICE	(HARNESS_TLS_OUT_MAX / 4)	/* plaintext encrypted at a time */

#define ID_HANDSHAKE	"rfc3207.4.client-handshake-next"
#define ID_FORGETS	"rfc3207.4.2.client-forgets-ehlo"
#define ID_INJECTION	"rfc3207.6.starttls-response-injection"
#define ID_DECLARED	"rfc1870.6.client-declared-size"

typedef enum srl_phase {
	PH_IDLE = 0,		/* between steps */
	PH_INPUT,		/* waiting for the step's command */
	PH_DELAY,		/* delay_ms before a reply */
	PH_WRITING,		/* a reply on its way, maybe byte by byte */
	PH_CLOSED_WAIT,		/* waiting for the client to close */
	PH_HANDSHAKE,		/* after 220 to STARTTLS: the TLS handshake */
	PH_TAIL,		/* the script ended: QUIT gets 221 */
	PH_ENDING
} srl_phase;



typedef struct srl_conn srl_conn;
typedef smtp_initem srl_item;

struct eng_srole {
	uv_loop_t *loop;
	const eng_config *cfg;
	const scn_scenario *s;
	const scn_server *srv;
	uv_tcp_t listener;
	uv_timer_t deadline;
	uv_timer_t wait;	/* the client's next connection, or its exit */
	int open_handles;
	int handles_closing;	/* the three handles were given to uv_close */
	int listening;
	eng_proc *proc;
	int proc_ended;
	int proc_freeing;
	int proc_freed;
	char *msgfile;
	rpt_scenario *res;
	rpt_received *rcv;
	srl_conn *conn;		/* the session of the moment */
	size_t live;		/* connections not yet closed, extras too */
	size_t nconn;		/* connections that ran a session */
	size_t naccepted;	/* connections accepted, extras too */
	size_t nended;
	vbuf expected;		/* the message as it should arrive */
	vbuf message;		/* the last message received, unstuffed */
	cap_transcript **ts;	/* one per connection, at its index (NULL until it ends) */
	size_t nts;
	size_t tscap;
	int finishing;
	int reported;
	char port[16];
	uint64_t rng;		/* "chance" rules: the seed's stream for this scenario */
	SSL_CTX *tls_ctx;	/* a step has "starttls": the server's certificate */
	vbuf keylog;		/* with a capture directory: the TLS secrets */
	cap_transcript **wires;	/* with a capture directory: the bytes as they
				 * crossed the wire (TLS records after STARTTLS),
				 * at each connection's index, or NULL */
	size_t nwires;
	eng_secrets secrets;	/* credentials seen or given, masked in the result */
	eng_srole_done_cb done;
	void *done_arg;
};

struct srl_conn {
	eng_srole *r;
	size_t index;		/* 0-based, in the order connections came (extras too) */
	uv_tcp_t tcp;
	uv_timer_t timer;
	int open_handles;
	int extra;		/* not expected: 421 and close */
	cap_transcript *t;
	const scn_session *ses;
	size_t step;
	size_t hits;		/* commands matched by the current repeat step */
	smtp_instream in;	/* the C2S stream read as commands or content */
	vbuf chunks;		/* BDAT chunks of the message so far */
	srl_phase phase;
	int peer_closed;
	int peer_reset;
	vbuf rep;		/* the reply being written */
	size_t rep_off;
	size_t rep_end;
	const scn_srv_step *rep_step;
	int close_after;
	int writes;		/* write requests in flight */
	struct { char name[HARNESS_VERB_MAX + 1]; uint32_t n; } counts[SRL_RULES];
	size_t ncounts;
	int step_no;		/* for findings: 1-based step in the file, 0 none */
	/* STARTTLS: once tls is set every byte on the wire goes through it;
	 * the transcript keeps the plaintext (tls_plaintext), the wire
	 * transcript (with a capture directory) the records. */
	cap_transcript *wire;
	etls *tls;
	int tls_up;		/* handshake complete */
	int tls_bytes;		/* the client sent something after the 220 */
	vbuf tls_buf;		/* scratch: records drained, plaintext read */
	uint32_t tls_ms;	/* the handshake's deadline */
	size_t tls_cmds;	/* commands taken since the handshake */
	int tls_injected;	/* the 220 came with more plaintext after it */
	int tls_early;		/* bytes before a reply after TLS were judged */
	int sasl;		/* a 334 answered AUTH: the next line is a SASL response */
	long long declared;	/* SIZE= of the last MAIL, -1 when none */
	size_t declared_off;	/* ... where that MAIL is in the C2S stream */
	size_t declared_len;
};

typedef struct srl_write_req {
	uv_write_t req;
	srl_conn *c;
	char data[];
} srl_write_req;

static void srl_next(srl_conn *c);
static void srl_timeout_cb(uv_timer_t *t);
static void srl_conn_end(srl_conn *c, int reset);
static void srl_finish(eng_srole *r);
static void srl_try_complete(eng_srole *r);

/* ---- findings ------------------------------------------------------------ */

static void __attribute__((format(printf, 5, 6)))
srl_finding(eng_srole *r, const char *check, int step, rpt_evidence *ev, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (check != NULL && chk_catalog_find(check) != NULL) {
		/* The row's keyword decides: a client that breaks a SHOULD
		 * (falling back to HELO, say) gets a WARN, not a FAIL. */
		chk_emit(r->res, check, RPT_PASS, step, ev, "%s", msg);
	} else {
		vbuf refs = VBUF_INIT;

		for (size_t i = 0; i < r->s->nrefs; i++)
			vbuf_printf(&refs, "%s%s", i ? "; " : "", r->s->refs[i]);
		rpt_scenario_add_finding(r->res, check ? check : r->s->id, vbuf_str(&refs), RPT_FAIL,
		    step, ev, "%s", msg);
		rpt_scenario_exercised(r->res, check ? check : r->s->id, RPT_FAIL);
		vbuf_free(&refs);
	}
	if (ev != NULL)
		rpt_evidence_clear(ev);
}

/* Evidence in the client's bytes of connection c (rpt_evidence.conn says
 * which transcript of the result the segment numbers are in). */
static void
srl_evidence(srl_conn *c, rpt_evidence *ev, size_t off, size_t len)
{
	rpt_evidence_at(ev, c->t, CAP_C2S, off, len);
	ev->conn = c->index;
}

static const char *
srl_check(const eng_srole *r, const scn_srv_step *st)
{
	if (st && st->check)
		return st->check;
	return r->s->check;
}

static void
srl_passed(eng_srole *r, const char *check)
{
	if (check != NULL && chk_catalog_find(check) != NULL)
		chk_pass(r->res, check);
	else
		rpt_scenario_exercised(r->res, check ? check : r->s->id, RPT_PASS);
}

/* What a step waits for, for "expected X" */
static void
srl_want(const scn_srv_step *st, vbuf *b)
{
	if (st->kind == SCN_SRV_CONTENT)
		vbuf_append_str(b, "the message content");
	else if (st->verb && st->has_args)
		vbuf_printf(b, "%s with arguments matching /%s/", st->verb, st->args_src);
	else if (st->verb)
		vbuf_printf(b, "%s", st->verb);
	else if (st->has_line)
		vbuf_printf(b, "a line matching /%s/", st->line_src);
	else
		vbuf_append_str(b, "a command");
}

/* ---- writing ---------------------------------------------------------------- */

static void srl_reply_written(srl_conn *c);
static void srl_write_some(srl_conn *c);

static void
srl_drip_cb(uv_timer_t *t)
{
	srl_write_some(t->data);
}

static void
srl_write_cb(uv_write_t *req, int status)
{
	srl_write_req *w = (srl_write_req *)req;
	srl_conn *c = w->c;

	(void)status;
	xfree(w);
	c->writes--;
	if (c->phase != PH_WRITING || c->writes > 0)
		return;
	if (c->rep_off < c->rep_end)
		uv_timer_start(&c->timer, srl_drip_cb, c->rep_step ? c->rep_step->drip_ms : 0, 0);
	else
		srl_reply_written(c);
}

/* A connection event, in the transcript and the wire record. */
static void
srl_event(srl_conn *c, cap_kind kind, cap_dir dir)
{
	uint64_t now = cap_now_us();

	if (c->wire != NULL)
		cap_transcript_add_event(c->wire, kind, dir, now);
	cap_transcript_add_event(c->t, kind, dir, now);
}

/* Writes bytes to the socket as they are (plaintext, or TLS records). */
static void
srl_wire(srl_conn *c, const char *data, size_t len)
{
	srl_write_req *w;
	uv_buf_t b;

	if (len == 0)
		return;
	if (c->wire != NULL)
		cap_transcript_add_data(c->wire, CAP_S2C, cap_now_us(), data, len);
	w = xmalloc(sizeof(*w) + len);
	w->c = c;
	memcpy(w->data, data, len);
	b = uv_buf_init(w->data, (unsigned)len);
	c->writes++;
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, srl_write_cb) != 0) {
		c->writes--;
		xfree(w);
	}
}

/* Sends whatever TLS wants to send. */
static void
srl_tls_flush(srl_conn *c)
{
	vbuf_reset(&c->tls_buf);
	if (etls_drain(c->tls, &c->tls_buf) > 0)
		srl_wire(c, c->tls_buf.data, c->tls_buf.len);
	vbuf_reset(&c->tls_buf);
}

static void srl_tls_error(srl_conn *c, const char *what, const char *detail);

/* Records a reply's bytes (plaintext) and sends them, through TLS once
 * it is up. */
static void
srl_write(srl_conn *c, const char *data, size_t len)
{
	if (len == 0)
		return;
	cap_transcript_add_data(c->t, CAP_S2C, cap_now_us(), data, len);
	if (c->tls == NULL) {
		srl_wire(c, data, len);
		return;
	}
	for (size_t off = 0; off < len; off += SRL_TLS_SLICE) {
		size_t n = len - off < SRL_TLS_SLICE ? len - off : SRL_TLS_SLICE;

		if (etls_write(c->tls, data + off, n) != ETLS_OK) {
			srl_tls_error(c, etls_error(c->tls), NULL);
			return;
		}
		srl_tls_flush(c);
	}
}

/* The next piece of the reply: one byte when dripping, else the rest. */
static void
srl_write_some(srl_conn *c)
{
	size_t n = c->rep_end - c->rep_off;

	if (c->phase != PH_WRITING)
		return;
	if (c->rep_step && c->rep_step->drip_ms > 0)
		n = 1;
	srl_write(c, c->rep.data + c->rep_off, n);
	c->rep_off += n;
	if (c->writes == 0)	/* the write could not be queued */
		srl_reply_written(c);
}

static void
srl_drop(srl_conn *c, scn_drop how)
{
	srl_conn_end(c, how == SCN_DROP_RESET);
}

static void srl_tls_start(srl_conn *c);
static void srl_tls_command(srl_conn *c, const srl_item *it);

static void
srl_reply_written(srl_conn *c)
{
	const scn_srv_step *st = c->rep_step;

	c->phase = PH_IDLE;
	if (st && st->drop != SCN_DROP_NONE) {
		srl_drop(c, st->drop);
		return;
	}
	if (c->close_after) {
		srl_conn_end(c, 0);
		return;
	}
	if (c->tls_injected && c->tls_up && c->tls_cmds == 1 && !c->tls_early) {
		/* The reply to the first command inside TLS is out, and
		 * nothing came before it: the injected lines were not read. */
		chk_pass(c->r->res, ID_INJECTION);
		c->tls_injected = 0;
	}
	if (st && st->starttls && c->tls == NULL && c->rep.len >= 3 &&
	    memcmp(c->rep.data, "220", 3) == 0) {
		srl_tls_start(c);
		return;
	}
	srl_next(c);
}

static void
srl_reply_go(srl_conn *c)
{
	const scn_srv_step *st = c->rep_step;

	if (st && st->drop != SCN_DROP_NONE && st->when == SCN_WHEN_BEFORE) {
		srl_drop(c, st->drop);
		return;
	}
	c->rep_off = 0;
	c->rep_end = c->rep.len;
	if (st && st->drop != SCN_DROP_NONE && st->when == SCN_WHEN_MID)
		c->rep_end = c->rep.len / 2 ? c->rep.len / 2 : 1;
	if (c->rep_end == 0) {
		srl_reply_written(c);
		return;
	}
	c->phase = PH_WRITING;
	srl_write_some(c);
}

static void
srl_delay_cb(uv_timer_t *t)
{
	srl_conn *c = t->data;

	if (c->phase == PH_DELAY)
		srl_reply_go(c);
}

/* Sends bytes (may be empty: silence) as the reply of step st, with its
 * faults. */
static void
srl_reply(srl_conn *c, const scn_srv_step *st, const char *bytes, size_t len)
{
	vbuf_reset(&c->rep);
	vbuf_append(&c->rep, bytes, len);
	c->rep_step = st;
	if (len >= 3 && memcmp(bytes, "421", 3) == 0)
		c->close_after = 1;	/* 421: the server closes (RFC 5321 §3.8) */
	if (st && st->delay_ms > 0) {
		c->phase = PH_DELAY;
		/* At least delay_ms of real time (see esv_flush in serve.c). */
		uv_update_time(c->timer.loop);
		uv_timer_start(&c->timer, srl_delay_cb, (uint64_t)st->delay_ms + 1, 0);
		return;
	}
	srl_reply_go(c);
}

/* ---- reading the client's stream ---------------------------------------- */

/* Takes the next command or content from the stream: 1 an item, 0 more
 * bytes needed, -1 the connection was ended (line too long). */
static int
srl_take(srl_conn *c, srl_item *it)
{
	const vbuf *in = &c->t->stream[CAP_C2S];
	int rc = smtp_in_take(&c->in, in->data, in->len, HARNESS_SRV_LINE_MAX,
	    HARNESS_SROLE_MESSAGE_MAX, it);

	if (rc == SMTP_IN_TOO_LONG) {
		rpt_evidence ev;

		srl_evidence(c, &ev, c->in.rd, 64);
		srl_finding(c->r, c->r->s->check, c->step_no, &ev, "expected a command line of at "
		    "most %d octets, got more without a line end (RFC 5321 §4.5.3.1.4)",
		    HARNESS_SRV_LINE_MAX);
		c->close_after = 1;
		c->rep_step = NULL;
		srl_reply(c, NULL, SRL_TOO_LONG, strlen(SRL_TOO_LONG));
		return -1;
	}
	return rc;
}

/* ---- judging ------------------------------------------------------------ */

static uint32_t
srl_count(srl_conn *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncounts; i++)
		if (strcmp(c->counts[i].name, name) == 0)
			return ++c->counts[i].n;
	if (c->ncounts == SRL_RULES)
		return 0;
	snprintf(c->counts[i].name, sizeof(c->counts[i].name), "%s", name);
	c->counts[i].n = 1;
	c->ncounts++;
	return 1;
}

/* splitmix64: small, fast, and the same numbers on every platform, which
 * is what a seed printed today and given back tomorrow needs. */
static uint64_t
srl_random(uint64_t *state)
{
	return splitmix64(state);
}

/* Each scenario draws from its own stream (the seed and its id), so its
 * faults do not depend on the order in which --jobs ran the others. */
static uint64_t
srl_stream(uint32_t seed, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h ^ ((uint64_t)seed << 32 | seed);
}

/* The rule that picks the reply to the nth command `name` (NULL: the nth
 * connection's greeting), or NULL. A "chance" rule draws once for every
 * command it could apply to, in the order the commands came. */
static const scn_reply *
srl_rule(eng_srole *r, const char *name, uint32_t n)
{
	const scn_server *srv = r->srv;

	for (size_t i = 0; i < srv->nrules; i++) {
		const scn_rule *ru = &srv->rules[i];

		if ((name == NULL) != (ru->verb == NULL))
			continue;
		if (name && strcmp(name, ru->verb) != 0)
			continue;
		if ((ru->nth && ru->nth == n) || (ru->every && n % ru->every == 0))
			return &ru->reply;
		if (ru->chance_ppm && srl_random(&r->rng) % 1000000 < ru->chance_ppm)
			return &ru->reply;
	}
	return NULL;
}

static int
srl_matches(const scn_srv_step *st, const srl_item *it)
{
	if (st->kind == SCN_SRV_CONTENT)
		return it->content || (it->bdat && it->bdat_last);
	if (it->content)
		return 0;
	if (st->verb && strcmp(st->verb, it->cmd.name) != 0)
		return 0;
	if (st->has_args) {
		char *args = xstrndup(it->cmd.args ? it->cmd.args : "", it->cmd.args_len);
		int rc = regexec(&st->args_re, args, 0, NULL, 0);

		xfree(args);
		if (rc != 0)
			return 0;
	}
	if (st->has_line && regexec(&st->line_re, it->line, 0, NULL, 0) != 0)
		return 0;
	return 1;
}

static void
srl_mismatch(srl_conn *c, const scn_srv_step *st, const scn_srv_step *skipped,
    const srl_item *it)
{
	vbuf want = VBUF_INIT;
	rpt_evidence ev;
	char *got;

	if (st) {
		srl_want(st, &want);
	} else if (skipped) {
		/* Optional steps gave way to it, and nothing was left. */
		srl_want(skipped, &want);
		vbuf_append_str(&want, " or what an optional step after it allows (else QUIT)");
	} else {
		vbuf_append_str(&want, "QUIT or nothing more (the script has ended)");
	}
	got = it->content ? xasprintf("%zu octets of message content", it->body.len) :
	    rpt_escape(it->line, strlen(it->line));
	srl_evidence(c, &ev, it->off, it->len);
	srl_finding(c->r, srl_check(c->r, st), c->step_no, &ev, "expected %s, got \"%s\"",
	    vbuf_str(&want), got);
	xfree(got);
	vbuf_free(&want);
	c->close_after = 1;
	if (!it->content && it->cmd.verb == SMTP_VERB_QUIT)
		srl_reply(c, NULL, SRL_BYE, strlen(SRL_BYE));
	else
		srl_reply(c, NULL, SRL_UNEXPECTED, strlen(SRL_UNEXPECTED));
}

/* SIZE=n among the parameters of a MAIL (args: what follows "MAIL "). */
static void
srl_declared(srl_conn *c, const char *args, const srl_item *it)
{
	const char *p = args;

	c->declared = -1;
	while ((p = strchr(p, ' ')) != NULL) {
		p++;
		if (strncasecmp(p, "SIZE=", 5) == 0 && p[5] >= '0' && p[5] <= '9') {
			char *end;
			unsigned long long v = strtoull(p + 5, &end, 10);

			if ((*end == '\0' || *end == ' ') && v <= (unsigned long long)LLONG_MAX) {
				c->declared = (long long)v;
				c->declared_off = it->off;
				c->declared_len = it->len;
			}
			return;
		}
	}
}

/*
 * RFC 1870 §6: the size a client declares counts the message's octets
 * with their CRLFs, not the dots added for transparency nor the
 * terminator (the unstuffed content, as received), and errs on the large
 * side. Below what arrived, or more than 10 % above it, is a WARN (a
 * SHOULD), with the MAIL command as evidence. The last CRLF is given the
 * benefit of the doubt: RFC 5321 makes it the first of <CRLF>.<CRLF>, so
 * a client that counts it as the terminator's (for content that had no
 * line end of its own, say) is 2 octets short, and not wrong.
 */
static void
srl_judge_declared(srl_conn *c, size_t actual)
{
	unsigned long long d = (unsigned long long)c->declared;
	rpt_evidence ev;

	if (c->declared < 0)
		return;
	c->declared = -1;
	if (d + 2 >= actual && (d <= actual || d - actual <= actual / 10)) {
		chk_pass(c->r->res, ID_DECLARED);
		return;
	}
	srl_evidence(c, &ev, c->declared_off, c->declared_len);
	chk_emit(c->r->res, ID_DECLARED, RPT_WARN, c->step_no, &ev, "expected SIZE= to be the "
	    "message's size or a little more (at least %zu, at most %zu), got SIZE=%llu: %zu "
	    "octets arrived (unstuffed, CRLFs counted, no terminator)", actual >= 2 ? actual - 2 :
	    0, actual + actual / 10, d, actual);
	rpt_evidence_clear(&ev);
}

static void
srl_record_envelope(srl_conn *c, const srl_item *it)
{
	rpt_received *rcv = c->r->rcv;
	char *args = xstrndup(it->cmd.args ? it->cmd.args : "", it->cmd.args_len);

	if (it->cmd.verb == SMTP_VERB_MAIL) {
		srl_declared(c, args, it);
		xfree(rcv->mail_from);
		rcv->mail_from = args;
		for (size_t i = 0; i < rcv->nrcpts; i++)
			xfree(rcv->rcpts[i]);
		rcv->nrcpts = 0;
		vbuf_reset(&c->chunks);
		return;
	}
	if (it->cmd.verb == SMTP_VERB_RCPT) {
		rcv->rcpts = xrealloc(rcv->rcpts, (rcv->nrcpts + 1) * sizeof(char *));
		rcv->rcpts[rcv->nrcpts++] = args;
		return;
	}
	xfree(args);
}

/* An INFO finding: something the content step did not judge, or judged
 * with a note. */
static void __attribute__((format(printf, 4, 5)))
srl_note(eng_srole *r, const char *check, int step, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (check != NULL && chk_catalog_find(check) != NULL)
		chk_emit(r->res, check, RPT_INFO, step, NULL, "%s", msg);
	else
		rpt_scenario_add_finding(r->res, check ? check : r->s->id, NULL, RPT_INFO, step,
		    NULL, "%s", msg);
}

/* The length of the header field at p (its line and the folded lines after
 * it, each with CRLF), or 0 at the empty line that ends the header (or at
 * bytes that are not a header field line). */
static size_t
srl_field_len(const char *p, size_t len)
{
	size_t i = 0;

	if (len < 2 || (p[0] == '\r' && p[1] == '\n') || p[0] == ' ' || p[0] == '\t')
		return 0;
	for (;;) {
		const char *nl = memchr(p + i, '\n', len - i);

		if (nl == NULL || nl == p + i || nl[-1] != '\r')
			return 0;
		i = (size_t)(nl - p) + 1;
		if (i == len || (p[i] != ' ' && p[i] != '\t'))
			return i;
	}
}

/* Whether the header of msg (up to its empty line) has a field `name`. */
static int
srl_has_field(const vbuf *msg, const char *name)
{
	size_t off = 0, n, nl = strlen(name);

	while ((n = srl_field_len(msg->data + off, msg->len - off)) > 0) {
		if (n > nl && msg->data[off + nl] == ':' &&
		    strncasecmp(msg->data + off, name, nl) == 0)
			return 1;
		off += n;
	}
	return 0;
}

/* Whether got is want with header fields added that a relay must add
 * (Received, RFC 5321 §4.4) or a submission agent may add when the
 * message lacks them (Date, Message-ID, From, Sender: RFC 6409 §8); the
 * body and every field of want unchanged and in order. Their names go to
 * added. */
static int
srl_only_fields_added(const vbuf *want, const vbuf *got, vbuf *added)
{
	static const char *const may_add[] = { "Date", "Message-ID", "From", "Sender", NULL };
	size_t w = 0, g = 0, n;

	while ((n = srl_field_len(got->data + g, got->len - g)) > 0) {
		const char *f = got->data + g;
		const char *colon = memchr(f, ':', n);
		size_t nl = colon ? (size_t)(colon - f) : 0;
		int ok = 0;

		if (want->len - w >= n && memcmp(want->data + w, f, n) == 0) {
			w += n;
			g += n;
			continue;
		}
		if (nl == 8 && strncasecmp(f, "Received", 8) == 0)
			ok = 1;
		for (size_t i = 0; !ok && may_add[i]; i++)
			if (nl == strlen(may_add[i]) && strncasecmp(f, may_add[i], nl) == 0)
				ok = !srl_has_field(want, may_add[i]);
		if (!ok)
			return 0;
		vbuf_printf(added, "%s%.*s", added->len ? ", " : "", (int)nl, f);
		g += n;
	}
	if (added->len == 0 || srl_field_len(want->data + w, want->len - w) > 0)
		return 0;
	return want->len - w == got->len - g && memcmp(want->data + w, got->data + g,
	    want->len - w) == 0;
}

/* The content step: keep the message, compare it when asked. */
static void
srl_content(srl_conn *c, const scn_srv_step *st, const vbuf *body, const srl_item *it)
{
	eng_srole *r = c->r;
	const vbuf *want = &r->expected;
	size_t i, n;

	srl_judge_declared(c, body->len);
	vbuf_reset(&r->message);
	vbuf_append(&r->message, body->data, body->len);
	r->rcv->has_message = 1;
	r->rcv->message_octets = body->len;
	if (!st->content_same)
		return;
	/* A client command without {message} sends a message of its own
	 * (swaks' default, say): a difference from the scenario's says nothing
	 * about the client. Say so; what needs no message of ours (dot-
	 * stuffing, bare CR/LF, line length) is for the passive checks. */
	if (r->cfg->client_cmd != NULL && strstr(r->cfg->client_cmd, "{message}") == NULL) {
		srl_note(r, srl_check(r, st), c->step_no, "the message was not compared: the "
		    "client command has no {message}, so the client sent a message of its own "
		    "(%zu octets)", body->len);
		return;
	}
	n = body->len < want->len ? body->len : want->len;
	for (i = 0; i < n && body->data[i] == want->data[i]; i++)
		;
	if (i == n && body->len == want->len) {
		srl_passed(r, srl_check(r, st));
		return;
	}
	{
		vbuf added = VBUF_INIT;

		if (srl_only_fields_added(want, body, &added)) {
			srl_passed(r, srl_check(r, st));
			srl_note(r, srl_check(r, st), c->step_no, "the message arrived as given, "
			    "with header fields the client added: %s (a relay adds Received, RFC "
			    "5321 §4.4; a submission agent may add Date, Message-ID, From, Sender, "
			    "RFC 6409 §8)", vbuf_str(&added));
			vbuf_free(&added);
			return;
		}
		vbuf_free(&added);
	}
	/* The message ends with a line end, and the client put one more before
	 * the dot: an empty line the sender never wrote (RFC 5321 §4.1.1.4:
	 * the first CRLF of CRLF.CRLF is the last line's own). */
	if (i == n && body->len == want->len + 2 && (want->len == 0 ||
	    (want->len >= 2 && memcmp(want->data + want->len - 2, "\r\n", 2) == 0)) &&
	    memcmp(body->data + want->len, "\r\n", 2) == 0) {
		rpt_evidence ev;
		size_t tail = it->len < 7 ? it->len : 7;	/* CRLF CRLF . CRLF */

		if (st->check != NULL)	/* everything before the extra line matched */
			srl_passed(r, st->check);
		srl_evidence(c, &ev, it->off + it->len - tail, tail);
		srl_finding(r, "rfc5321.4.1.1.4.client-final-crlf", c->step_no, &ev, "the message "
		    "(%zu octets) ends with CRLF, and the client sent another CRLF before the final "
		    "dot: %zu octets arrived, the last line an empty one the message does not have",
		    want->len, body->len);
		return;
	}
	{
		char *w = rpt_escape(want->data + i, want->len - i < 40 ? want->len - i : 40);
		char *g = rpt_escape(body->data + i, body->len - i < 40 ? body->len - i : 40);
		rpt_evidence ev;

		srl_evidence(c, &ev, it->off, it->len);
		srl_finding(r, srl_check(r, st), c->step_no, &ev, "expected the message as given to "
		    "the client (%zu octets, line ends as CRLF), got %zu octets, differing from "
		    "octet %zu: expected \"%s\", got \"%s\"", want->len, body->len, i, w, g);
		xfree(w);
		xfree(g);
	}
}

/* Masks n octets at off of the C2S stream in rec, when it holds them. */
static void
srl_mask_stream(cap_transcript *rec, size_t off, size_t n)
{
	vbuf *in = &rec->stream[CAP_C2S];

	if (off <= in->len && n <= in->len - off)
		memset(in->data + off, '*', n);
}

/*
 * AUTH credentials never reach the record (secrets.h): the initial
 * response of "AUTH MECH RESP" and a line answering a 334 are masked in
 * the transcript, in the wire record while it still holds the same
 * plaintext (before STARTTLS), and in the item itself, so that no
 * finding quotes them. What was masked is remembered for the client's
 * output.
 */
static void
srl_mask(srl_conn *c, srl_item *it, int response)
{
	size_t len, from = 0, n;

	if (it->content || it->bdat)
		return;
	len = strlen(it->line);
	if (response) {
		n = eng_secrets_response(it->line, len);
	} else if (it->cmd.verb == SMTP_VERB_AUTH) {
		const char *sp = memchr(it->cmd.args, ' ', it->cmd.args_len);

		if (sp == NULL)
			return;
		from = (size_t)(sp + 1 - it->line);
		n = len - from;
	} else {
		return;
	}
	if (n == 0)
		return;
	eng_secrets_add(&c->r->secrets, it->line + from, n);
	memset(it->line + from, '*', n);
	srl_mask_stream(c->t, it->off + from, n);
	if (c->wire != NULL && c->tls == NULL)
		srl_mask_stream(c->wire, it->off + from, n);
	smtp_cmd_parse(it->line, len, &it->cmd);
}

/* Judges item against the current step and starts the reply. */
static void
srl_judge(srl_conn *c, srl_item *it)
{
	eng_srole *r = c->r;
	const scn_session *ses = c->ses;
	const scn_srv_step *st, *skipped = NULL;
	const scn_reply *rule = NULL;
	char *dflt = NULL;
	size_t dlen = 0;
	const char *bytes;
	size_t len;
	int data3, response = c->sasl;

	c->sasl = 0;
	srl_mask(c, it, response);
	srl_tls_command(c, it);
	/* An optional step, or a repeat step already matched, gives way. */
	while (c->step < ses->nsteps) {
		st = &ses->steps[c->step];
		if (st->kind != SCN_SRV_EXPECT && st->kind != SCN_SRV_CONTENT)
			break;
		if (srl_matches(st, it))
			break;
		if (!(st->optional || (st->repeat && c->hits > 0)))
			break;
		if (skipped == NULL)
			skipped = st;
		c->step++;
		c->hits = 0;
	}
	st = c->step < ses->nsteps ? &ses->steps[c->step] : NULL;
	c->step_no = st ? (int)st->index : 0;
	if (it->bdat && !it->bdat_last)
		vbuf_append(&c->chunks, it->body.data, it->body.len);
	if (st == NULL || st->kind == SCN_SRV_CLOSED || !srl_matches(st, it)) {
		if ((st == NULL || st->kind == SCN_SRV_CLOSED) && !it->content &&
		    it->cmd.verb == SMTP_VERB_QUIT) {
			/* QUIT after the script, or while waiting for the close */
			c->close_after = 1;
			srl_reply(c, NULL, SRL_BYE, strlen(SRL_BYE));
			return;
		}
		srl_mismatch(c, st, skipped, it);
		return;
	}
	if (st->repeat)
		c->hits++;
	else
		c->step++;
	srl_passed(r, srl_check(r, st));
	if (st->kind == SCN_SRV_CONTENT) {
		if (it->bdat) {
			vbuf_append(&c->chunks, it->body.data, it->body.len);
			srl_content(c, st, &c->chunks, it);
			vbuf_reset(&c->chunks);
		} else {
			srl_content(c, st, &it->body, it);
		}
	} else {
		srl_record_envelope(c, it);
		rule = srl_rule(r, it->cmd.name, srl_count(c, it->cmd.name));
	}
	if (rule == NULL && st->reply.set)
		rule = &st->reply;
	if (rule != NULL) {
		bytes = rule->silent ? "" : rule->bytes;
		len = rule->silent ? 0 : rule->len;
	} else if (st->starttls) {
		bytes = SRL_TLS_READY;
		len = strlen(SRL_TLS_READY);
	} else {
		dflt = scn_server_default_reply(r->srv, st->kind == SCN_SRV_CONTENT ? NULL :
		    it->bdat && !it->bdat_last ? "BDAT" : it->cmd.name, c->tls_up, &dlen);
		bytes = dflt;
		len = dlen;
	}
	c->sasl = !it->content && !it->bdat && (response || it->cmd.verb == SMTP_VERB_AUTH) &&
	    len >= 3 && memcmp(bytes, "334", 3) == 0;
	data3 = !it->content && it->cmd.verb == SMTP_VERB_DATA && len > 0 && bytes[0] == '3';
	if (data3)
		smtp_in_expect_data(&c->in);
	if (!it->content && it->cmd.verb == SMTP_VERB_QUIT && len >= 3 &&
	    memcmp(bytes, "221", 3) == 0)
		c->close_after = 1;	/* the server closes after 221 */
	srl_reply(c, st, bytes, len);
	xfree(dflt);
}

/* ---- STARTTLS (RFC 3207) ------------------------------------------------- */

/* A TLS failure ends the scenario as an ERROR: the session could not be
 * carried on, whoever is to blame (OpenSSL's text says). */
static void
srl_tls_error(srl_conn *c, const char *what, const char *detail)
{
	const char *sep = detail && *detail ? ": " : "";
	char *note;

	if (c->phase == PH_ENDING)
		return;
	rpt_scenario_set(c->r->res, RPT_ERROR, "connection %zu: %s%s%s", c->index + 1, what, sep,
	    detail ? detail : "");
	note = xasprintf("%s%s%s", what, sep, detail ? detail : "");
	cap_transcript_set_tls_note(c->t, note);
	xfree(note);
	srl_conn_end(c, 0);
}

/* Where the first reply of bytes[0..len) ends: after the line whose code
 * is followed by a space (or nothing), or len. */
static size_t
srl_first_reply_end(const char *bytes, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(bytes + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - bytes) + 1 : len;

		if (end - off < 4 || bytes[off + 3] != '-')
			return end;
		off = end;
	}
	return len;
}

/*
 * The 220 to STARTTLS was written: the handshake starts. The server
 * forgets what came before (RFC 3207 §4.2): the command reader starts
 * over at the end of what the client sent, and anything the client sent
 * after STARTTLS before this point is discarded, never executed, and is
 * the client's fault (§4: the TLS negotiation comes before any other
 * command). A reply that carried more than the 220 arms the injection
 * check (§6): the client must not read those lines inside TLS.
 */
static void
srl_tls_start(srl_conn *c)
{
	eng_srole *r = c->r;
	const vbuf *in = &c->t->stream[CAP_C2S];
	size_t left = in->len - c->in.rd;
	size_t first = srl_first_reply_end(c->rep.data, c->rep.len);
	char err[ETLS_ERR_MAX];
	vbuf note = VBUF_INIT;

	if (left > 0) {
		rpt_evidence ev;
		char *q = rpt_escape(in->data + c->in.rd, left < 64 ? left : 64);

		srl_evidence(c, &ev, c->in.rd, left);
		srl_finding(r, ID_HANDSHAKE, c->step_no, &ev, "expected nothing after STARTTLS but "
		    "the TLS handshake once the 220 came, got %zu octet%s before the handshake, "
		    "discarded: \"%s\"%s", left, left == 1 ? "" : "s", q, left > 64 ? "..." : "");
		xfree(q);
		vbuf_printf(&note, "%zu client octet%s before the handshake discarded", left,
		    left == 1 ? "" : "s");
	}
	c->tls = r->tls_ctx ? etls_new(r->tls_ctx, 1, NULL, err, sizeof(err)) : NULL;
	if (c->tls == NULL) {
		vbuf_free(&note);
		srl_tls_error(c, "cannot start TLS", r->tls_ctx ? err : "no server certificate");
		return;
	}
	if (first < c->rep.len) {
		c->tls_injected = 1;
		vbuf_printf(&note, "%s%zu plaintext octet%s sent after the 220 on purpose",
		    note.len ? "; " : "", c->rep.len - first, c->rep.len - first == 1 ? "" : "s");
	}
	if (note.len > 0)
		cap_transcript_set_tls_note(c->t, vbuf_str(&note));
	vbuf_free(&note);
	c->t->tls_plaintext = 1;
	srl_event(c, CAP_TLS_START, CAP_S2C);
	memset(&c->in, 0, sizeof(c->in));
	c->in.rd = in->len;
	vbuf_reset(&c->chunks);
	c->declared = -1;
	c->tls_cmds = 0;
	c->phase = PH_HANDSHAKE;
	c->tls_ms = r->cfg->step_timeout_ms ? r->cfg->step_timeout_ms :
	    (c->rep_step ? c->rep_step->timeout_ms : r->s->timeout_ms);
	uv_timer_start(&c->timer, srl_timeout_cb, c->tls_ms, 0);
}

/* The handshake is done: the transcript says what it settled. */
static void
srl_tls_established(srl_conn *c)
{
	vbuf note = VBUF_INIT;

	c->tls_up = 1;
	etls_peer_describe(c->tls, &note);
	if (c->t->tls_note != NULL)
		vbuf_printf(&note, "; %s", c->t->tls_note);
	cap_transcript_set_tls_note(c->t, vbuf_str(&note));
	vbuf_free(&note);
}

/*
 * After TLS, with no PIPELINING in the capabilities offered after it,
 * the client sent bytes before the reply to its command was written.
 * With the injection armed and the first command after the handshake,
 * the client answered itself with the lines injected before TLS
 * (RFC 3207 §6); otherwise, when PIPELINING was offered before TLS, it
 * kept the old list (§4.2). One finding per connection.
 */
static void
srl_tls_early(srl_conn *c, size_t off, size_t len)
{
	const scn_server *srv = c->r->srv;
	rpt_evidence ev;
	char *q;

	if (!c->tls_up || c->tls_early || len == 0 || scn_server_has(srv, "PIPELINING", 1))
		return;
	if (!(c->tls_injected && c->tls_cmds == 1) && !scn_server_has(srv, "PIPELINING", 0))
		return;
	c->tls_early = 1;
	q = rpt_escape(c->t->stream[CAP_C2S].data + off, len < 64 ? len : 64);
	srl_evidence(c, &ev, off, len);
	if (c->tls_injected && c->tls_cmds == 1)
		srl_finding(c->r, ID_INJECTION, c->step_no, &ev, "expected the client to wait for "
		    "the reply to its first command inside TLS, got \"%s\"%s before it was sent: the "
		    "lines written in plaintext after the 220 were read as that reply", q,
		    len > 64 ? "..." : "");
	else
		srl_finding(c->r, ID_FORGETS, c->step_no, &ev, "expected no pipelining after TLS "
		    "(PIPELINING was offered only before STARTTLS), got \"%s\"%s before the reply to "
		    "the command before it", q, len > 64 ? "..." : "");
	xfree(q);
}

/* A command taken inside TLS: the first must be EHLO (§4.2, SHOULD);
 * bytes after it that came before its reply are judged. */
static void
srl_tls_command(srl_conn *c, const srl_item *it)
{
	const vbuf *in = &c->t->stream[CAP_C2S];

	if (!c->tls_up || it->content)
		return;
	if (++c->tls_cmds == 1) {
		if (it->cmd.verb == SMTP_VERB_EHLO) {
			chk_pass(c->r->res, ID_FORGETS);
		} else {
			rpt_evidence ev;
			char *q = rpt_escape(it->line, strlen(it->line));

			srl_evidence(c, &ev, it->off, it->len);
			chk_emit(c->r->res, ID_FORGETS, RPT_WARN, c->step_no, &ev, "expected EHLO as "
			    "the first command after the TLS handshake (the extensions must be learnt "
			    "again), got \"%s\"", q);
			xfree(q);
			rpt_evidence_clear(&ev);
		}
	}
	if (in->len > c->in.rd)
		srl_tls_early(c, c->in.rd, in->len - c->in.rd);
}

/* Plaintext that TLS carried: into the transcript, as the client's. */
static int
srl_took(srl_conn *c, const char *data, size_t len)
{
	size_t before = c->t->stream[CAP_C2S].len;

	cap_transcript_add_data(c->t, CAP_C2S, cap_now_us(), data, len);
	if (len > 0 && c->t->stream[CAP_C2S].len == before) {
		srl_finding(c->r, c->r->s->check, c->step_no, NULL, "expected the client to "
		    "stay within %d octets, it sent more", HARNESS_STREAM_MAX);
		srl_conn_end(c, 1);
		return -1;
	}
	if (c->phase == PH_DELAY && len > 0)
		srl_tls_early(c, before, len);
	return 0;
}

/* Bytes from the wire once TLS started: the first must open the
 * handshake (a TLS handshake record, type 22), then records. Returns -1
 * when the connection ended. */
static int
srl_tls_input(srl_conn *c, const char *data, size_t len)
{
	etls_status rs;

	if (!c->tls_bytes) {
		c->tls_bytes = 1;
		if ((unsigned char)data[0] != 0x16) {
			size_t before = c->t->stream[CAP_C2S].len;
			rpt_evidence ev;
			char *q = rpt_escape(data, len < 64 ? len : 64);

			cap_transcript_add_data(c->t, CAP_C2S, cap_now_us(), data, len);
			srl_evidence(c, &ev, before, len);
			srl_finding(c->r, ID_HANDSHAKE, c->step_no, &ev, "expected the TLS handshake "
			    "(a record starting 0x16) after the 220 to STARTTLS, got \"%s\"%s", q,
			    len > 64 ? "..." : "");
			xfree(q);
			srl_conn_end(c, 0);
			return -1;
		}
		chk_pass(c->r->res, ID_HANDSHAKE);
	}
	if (etls_feed(c->tls, data, len) != 0) {
		srl_tls_error(c, etls_error(c->tls), NULL);
		return -1;
	}
	if (!c->tls_up) {
		etls_status hs = etls_handshake(c->tls);

		srl_tls_flush(c);
		if (hs == ETLS_ERROR) {
			srl_tls_error(c, etls_error(c->tls), NULL);	/* "TLS handshake failed: ..." */
			return -1;
		}
		if (hs == ETLS_WANT)
			return 0;
		srl_tls_established(c);
	}
	vbuf_reset(&c->tls_buf);
	rs = etls_read(c->tls, &c->tls_buf);
	if (c->tls_buf.len > 0) {
		vbuf plain = c->tls_buf;

		c->tls_buf = (vbuf)VBUF_INIT;
		if (srl_took(c, plain.data, plain.len) != 0) {
			vbuf_free(&plain);
			return -1;
		}
		vbuf_free(&plain);
	}
	/* On the client's close_notify ours waits for the connection's end:
	 * the reply to a QUIT before it is still to be written. */
	srl_tls_flush(c);
	if (rs == ETLS_ERROR) {
		srl_tls_error(c, etls_error(c->tls), NULL);
		return -1;
	}
	return 0;
}

/* The client closed, or the deadline passed, during the handshake. A
 * client that saw the injected lines and gave up before any TLS is what
 * §6 allows; one that never answered the 220 broke §4; anything else is
 * a handshake that could not be completed. */
static void
srl_tls_stalled(srl_conn *c, int closed)
{
	if (c->tls_injected && !c->tls_bytes && closed) {
		chk_pass(c->r->res, ID_INJECTION);
		srl_note(c->r, ID_INJECTION, c->step_no, "the client closed the connection after "
		    "the 220 with injected lines, before any TLS: it gave up");
		srl_conn_end(c, 0);
		return;
	}
	if (!c->tls_bytes && !closed) {
		srl_finding(c->r, ID_HANDSHAKE, c->step_no, NULL, "expected the TLS handshake after "
		    "the 220 to STARTTLS within %u ms, got nothing", c->tls_ms);
		srl_conn_end(c, 0);
		return;
	}
	srl_tls_error(c, "TLS handshake failed", closed ? (c->peer_reset ?
	    "the client reset the connection" : "the client closed the connection") :
	    "not completed in time");
}

/* ---- the session ---------------------------------------------------------- */

static void
srl_timeout_cb(uv_timer_t *t)
{
	srl_conn *c = t->data;
	const scn_srv_step *st = c->step < c->ses->nsteps ? &c->ses->steps[c->step] : NULL;
	vbuf want = VBUF_INIT;

	switch (c->phase) {
	case PH_INPUT: {
		const vbuf *in = &c->t->stream[CAP_C2S];
		size_t left = in->len - c->in.rd;

		srl_want(st, &want);
		if (left == 0) {
			srl_finding(c->r, srl_check(c->r, st), (int)st->index, NULL, "expected %s "
			    "within %u ms, got nothing", vbuf_str(&want), st->timeout_ms);
		} else {
			/* Bytes came, but not a whole command (or not the end of
			 * the data): quote them, they are what the client meant. */
			rpt_evidence ev;
			char *q = rpt_escape(in->data + c->in.rd, left < 64 ? left : 64);

			srl_evidence(c, &ev, c->in.rd, left);
			srl_finding(c->r, srl_check(c->r, st), (int)st->index, &ev, "expected %s "
			    "within %u ms, got %zu octet%s that %s: \"%s\"%s", vbuf_str(&want),
			    st->timeout_ms, left, left == 1 ? "" : "s", c->in.data ?
			    "never end the data with CRLF.CRLF" : "end no command line", q,
			    left > 64 ? "..." : "");
			xfree(q);
		}
		vbuf_free(&want);
		srl_conn_end(c, 0);
		break;
	}
	case PH_CLOSED_WAIT:
		srl_finding(c->r, srl_check(c->r, st), (int)st->index, NULL, "expected the client "
		    "to close the connection within %u ms, it stayed open", st->timeout_ms);
		srl_conn_end(c, 0);
		break;
	case PH_TAIL:
		srl_conn_end(c, 0);
		break;
	case PH_HANDSHAKE:
		srl_tls_stalled(c, 0);
		break;
	default:
		break;
	}
}

/* The client closed and nothing more can be read: the steps it did not
 * reach are judged, and the connection ends. */
static void
srl_peer_gone(srl_conn *c, const scn_srv_step *st)
{
	eng_srole *r = c->r;
	size_t left = c->t->stream[CAP_C2S].len - c->in.rd;

	/* Optional steps the client did not take are no loss, nor more
	 * commands for a repeat step that has matched one. */
	while (st != NULL && (st->optional || (st->repeat && c->hits > 0))) {
		c->hits = 0;
		c->step++;
		st = c->step < c->ses->nsteps ? &c->ses->steps[c->step] : NULL;
	}
	if (st != NULL && st->kind == SCN_SRV_CLOSED) {
		srl_passed(r, srl_check(r, st));
	} else if (st != NULL && st->kind != SCN_SRV_DROP) {
		vbuf want = VBUF_INIT;
		rpt_evidence ev;

		srl_want(st, &want);
		if (left > 0) {
			srl_evidence(c, &ev, c->in.rd, left);
			srl_finding(r, srl_check(r, st), (int)st->index, &ev, "expected %s, the "
			    "client %s the connection after %zu octets that end no command or content",
			    vbuf_str(&want), c->peer_reset ? "reset" : "closed", left);
		} else {
			srl_finding(r, srl_check(r, st), (int)st->index, NULL, "expected %s, the client "
			    "%s the connection instead", vbuf_str(&want), c->peer_reset ? "reset" :
			    "closed");
		}
		vbuf_free(&want);
	}
	srl_conn_end(c, 0);
}

static void
srl_next(srl_conn *c)
{
	eng_srole *r = c->r;
	const scn_srv_step *st;
	srl_item it;
	int rc;

	if (c->phase == PH_ENDING)
		return;
	uv_timer_stop(&c->timer);
	c->phase = PH_IDLE;
	if (c->extra) {
		c->close_after = 1;
		srl_reply(c, NULL, SRL_NO_MORE, strlen(SRL_NO_MORE));
		return;
	}
	st = c->step < c->ses->nsteps ? &c->ses->steps[c->step] : NULL;
	c->step_no = st ? (int)st->index : 0;
	if (st && st->kind == SCN_SRV_GREET) {
		const scn_reply *rule = srl_rule(r, NULL, (uint32_t)r->nconn);

		c->step++;
		if (rule == NULL && st->reply.set)
			rule = &st->reply;
		if (rule == NULL)
			srl_reply(c, st, SRL_GREETING, strlen(SRL_GREETING));
		else if (rule->silent)
			srl_reply(c, st, "", 0);
		else
			srl_reply(c, st, rule->bytes, rule->len);
		return;
	}
	if (st && st->kind == SCN_SRV_DROP) {
		srl_drop(c, st->drop);
		return;
	}
	if (st && st->kind == SCN_SRV_CLOSED && c->peer_closed) {
		srl_passed(r, srl_check(r, st));
		srl_conn_end(c, 0);
		return;
	}
	if (c->peer_closed && c->in.rd >= c->t->stream[CAP_C2S].len) {
		srl_peer_gone(c, st);
		return;
	}
	rc = srl_take(c, &it);
	if (rc < 0)
		return;
	if (rc == 0) {
		if (c->peer_closed) {
			/* What is left can never end: no use waiting for it. */
			srl_peer_gone(c, st);
		} else if (st == NULL) {
			c->phase = PH_TAIL;
			uv_timer_start(&c->timer, srl_timeout_cb, r->s->timeout_ms, 0);
		} else if (st->kind == SCN_SRV_CLOSED) {
			c->phase = PH_CLOSED_WAIT;
			uv_timer_start(&c->timer, srl_timeout_cb, st->timeout_ms, 0);
		} else {
			c->phase = PH_INPUT;
			uv_timer_start(&c->timer, srl_timeout_cb, r->cfg->step_timeout_ms ?
			    r->cfg->step_timeout_ms : st->timeout_ms, 0);
		}
		return;
	}
	srl_judge(c, &it);
	smtp_initem_clear(&it);
}

static void
srl_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	*buf = uv_buf_init(xmalloc(suggested), (unsigned)suggested);
}

static void
srl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	srl_conn *c = s->data;

	if (nread > 0 && c->phase != PH_ENDING && c->wire != NULL)
		cap_transcript_add_data(c->wire, CAP_C2S, cap_now_us(), buf->base, (size_t)nread);
	if (nread > 0 && c->phase != PH_ENDING && c->tls != NULL) {
		int was_up = c->tls_up;

		if (srl_tls_input(c, buf->base, (size_t)nread) == 0 && c->phase == PH_HANDSHAKE &&
		    !was_up && c->tls_up) {
			uv_timer_stop(&c->timer);
			c->phase = PH_IDLE;
			xfree(buf->base);
			srl_next(c);
			return;
		}
	} else if (nread > 0 && c->phase != PH_ENDING) {
		size_t before = c->t->stream[CAP_C2S].len;

		cap_transcript_add_data(c->t, CAP_C2S, cap_now_us(), buf->base, (size_t)nread);
		if (c->t->stream[CAP_C2S].len == before) {
			srl_finding(c->r, c->r->s->check, c->step_no, NULL, "expected the client to "
			    "stay within %d octets, it sent more", HARNESS_STREAM_MAX);
			srl_conn_end(c, 1);
		}
	} else if (nread < 0 && !c->peer_closed && c->phase != PH_ENDING) {
		c->peer_closed = 1;
		c->peer_reset = nread != UV_EOF;
		srl_event(c, c->peer_reset ? CAP_RST : CAP_FIN, CAP_C2S);
		uv_read_stop(s);
		if (c->phase == PH_HANDSHAKE) {
			xfree(buf->base);
			srl_tls_stalled(c, 1);
			return;
		}
	}
	xfree(buf->base);
	if (c->phase == PH_INPUT || c->phase == PH_TAIL || c->phase == PH_CLOSED_WAIT)
		srl_next(c);
}

/* ---- connections ---------------------------------------------------------- */

/*
 * The client-side passive checks on a connection that has ended. The
 * transcript holds what the scenario did on purpose as well: the EHLO
 * reply it wrote is the capability set the client is judged against,
 * and a close or a 421 of its own comes before the client's close, so
 * the QUIT check leaves that client alone (passive_client.c).
 */
static void
srl_passive(srl_conn *c)
{
	dlg *d;

	if (c->t->nsegs == 0)
		return;
	d = dlg_build(c->t);
	{
		rpt_scenario *res = c->r->res;
		size_t first = res->nfindings;

		chk_passive_client(c->t, d, res);
		for (size_t i = first; i < res->nfindings; i++)
			res->findings[i].evidence.conn = c->index;
	}
	dlg_free(d);
}

static void
srl_conn_closed_cb(uv_handle_t *h)
{
	srl_conn *c = h->data;
	eng_srole *r = c->r;

	if (--c->open_handles > 0)
		return;
	srl_passive(c);
	r->ts = xgrow(r->ts, &r->tscap, c->index + 1, sizeof(*r->ts));
	while (r->nts <= c->index)
		r->ts[r->nts++] = NULL;
	r->ts[c->index] = c->t;
	r->wires = xrealloc(r->wires, r->tscap * sizeof(*r->wires));
	for (size_t i = r->nwires; i < r->tscap; i++)
		r->wires[i] = NULL;
	r->nwires = r->tscap;
	r->wires[c->index] = c->wire;
	etls_free(c->tls);
	vbuf_free(&c->tls_buf);
	vbuf_free(&c->rep);
	vbuf_free(&c->chunks);
	r->live--;
	if (!c->extra) {
		r->conn = NULL;
		r->nended++;
		/* Otherwise the wait timer, started when the connection ended,
		 * bounds the client's next connection or its exit. */
		if (!r->finishing) {
			if (r->nended < r->srv->nsessions && r->proc && r->proc_ended) {
				srl_finding(r, r->s->check, 0, NULL, "expected %zu connections from the "
				    "client, it exited after %zu", r->srv->nsessions, r->nended);
				srl_finish(r);
			} else if (r->nended >= r->srv->nsessions && (!r->proc || r->proc_ended)) {
				srl_finish(r);
			}
		}
	}
	xfree(c);
	srl_try_complete(r);
}

static void srl_wait_cb(uv_timer_t *t);

static void
srl_conn_end(srl_conn *c, int reset)
{
	eng_srole *r = c->r;

	if (c->phase == PH_ENDING)
		return;
	c->phase = PH_ENDING;
	uv_timer_stop(&c->timer);
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (c->tls != NULL && c->tls_up && !reset && !c->peer_reset) {
		etls_shutdown(c->tls);	/* close_notify (RFC 8446 §6.1) */
		srl_tls_flush(c);
	}
	if (reset) {
		srl_event(c, CAP_RST, CAP_S2C);
		uv_tcp_close_reset(&c->tcp, srl_conn_closed_cb);
	} else {
		if (!c->peer_reset)
			srl_event(c, CAP_FIN, CAP_S2C);
		uv_close((uv_handle_t *)&c->tcp, srl_conn_closed_cb);
	}
	uv_close((uv_handle_t *)&c->timer, srl_conn_closed_cb);
	/* The wait for the next connection (or the exit) starts now. */
	if (!c->extra && !r->finishing)
		uv_timer_start(&r->wait, srl_wait_cb, r->srv->client_timeout_ms, 0);
}

static void
srl_accept_cb(uv_stream_t *server, int status)
{
	eng_srole *r = server->data;
	srl_conn *c;
	struct sockaddr_storage local, peer;
	int len;

	if (status != 0 || r->finishing)
		return;
	c = xcalloc(1, sizeof(*c));
	c->r = r;
	uv_tcp_init(r->loop, &c->tcp);
	uv_timer_init(r->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->t = cap_transcript_new(NULL, NULL);
	c->declared = -1;
	c->index = r->naccepted++;
	r->live++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		c->extra = 1;
		c->phase = PH_ENDING;
		uv_close((uv_handle_t *)&c->tcp, srl_conn_closed_cb);
		uv_close((uv_handle_t *)&c->timer, srl_conn_closed_cb);
		return;
	}
	len = sizeof(local);
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&local, &len);
	len = sizeof(peer);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &len);
	cap_transcript_set_endpoints(c->t, (struct sockaddr *)&peer, (struct sockaddr *)&local);
	if (r->cfg->capture_dir != NULL) {
		c->wire = cap_transcript_new(NULL, NULL);
		cap_transcript_set_endpoints(c->wire, (struct sockaddr *)&peer,
		    (struct sockaddr *)&local);
	}
	srl_event(c, CAP_OPEN, CAP_C2S);
	r->rcv->connections++;
	if (r->conn != NULL || r->nconn >= r->srv->nsessions) {
		c->extra = 1;
		if (r->conn == NULL) {
			rpt_evidence ev;

			rpt_evidence_segment(&ev, c->t, 0);	/* its opening */
			ev.conn = c->index;
			srl_finding(r, r->s->check, 0, &ev, "expected %zu connection%s from the "
			    "client, got another one (it should not have come back)",
			    r->srv->nsessions, r->srv->nsessions == 1 ? "" : "s");
		}
	} else {
		uv_timer_stop(&r->wait);
		r->conn = c;
		c->ses = &r->srv->sessions[r->nconn++];
	}
	uv_read_start((uv_stream_t *)&c->tcp, srl_alloc_cb, srl_read_cb);
	srl_next(c);
}

/* ---- the scenario ------------------------------------------------------- */

static void
srl_wait_cb(uv_timer_t *t)
{
	eng_srole *r = t->data;

	if (r->finishing || r->conn != NULL)
		return;
	if (r->nended >= r->srv->nsessions) {
		if (r->proc && !r->proc_ended)
			srl_finding(r, r->s->check, 0, NULL, "expected the client to exit within %u ms "
			    "of its last connection, it was still running (killed)",
			    r->srv->client_timeout_ms);
	} else if (r->nconn == 0 && r->proc == NULL) {
		rpt_scenario_set(r->res, RPT_ERROR, "no client connected to %s within %u ms",
		    r->rcv->listen, r->srv->client_timeout_ms);
	} else {
		srl_finding(r, r->s->check, 0, NULL, "expected the client to connect%s within %u ms, "
		    "it did not (connection %zu of %zu)", r->nconn ? " again" : "",
		    r->srv->client_timeout_ms, r->nconn + 1, r->srv->nsessions);
	}
	srl_finish(r);
}

static void
srl_deadline_cb(uv_timer_t *t)
{
	eng_srole *r = t->data;

	if (r->finishing)
		return;
	rpt_scenario_set(r->res, RPT_ERROR, "the scenario's deadline (%u ms) passed",
	    r->s->deadline_ms);
	srl_finish(r);
}

static void
srl_proc_ended(void *arg)
{
	eng_srole *r = arg;

	r->proc_ended = 1;
	if (!r->finishing && r->conn == NULL) {
		if (r->nended < r->srv->nsessions)
			srl_finding(r, r->s->check, 0, NULL, "expected %zu connection%s from the client, "
			    "it exited after %zu", r->srv->nsessions, r->srv->nsessions == 1 ? "" : "s",
			    r->nended);
		srl_finish(r);
		return;
	}
	srl_try_complete(r);
}

static void
srl_handle_closed(uv_handle_t *h)
{
	eng_srole *r = h->data;

	r->open_handles--;
	srl_try_complete(r);
}

static void
srl_proc_freed(void *arg)
{
	eng_srole *r = arg;

	r->proc_freed = 1;
	srl_try_complete(r);
}

static void
srl_judge_exit(eng_srole *r)
{
	rpt_client *cl = r->res->client;
	scn_exit want = r->srv->client_exit;

	if (cl == NULL || !cl->exited || want == SCN_EXIT_ANY)
		return;
	if (want == SCN_EXIT_ZERO && !cl->killed && cl->term_signal == 0 && cl->exit_status == 0)
		srl_passed(r, r->s->check);
	else if (want == SCN_EXIT_NONZERO && !cl->killed && cl->term_signal == 0 &&
	    cl->exit_status != 0)
		srl_passed(r, r->s->check);
	else if (cl->killed)
		srl_finding(r, r->s->check, 0, NULL, "expected the client to exit %s, it was killed "
		    "at a deadline", want == SCN_EXIT_ZERO ? "0 (success)" : "non-zero (failure)");
	else if (cl->term_signal != 0)
		srl_finding(r, r->s->check, 0, NULL, "expected the client to exit %s, it died of "
		    "signal %d", want == SCN_EXIT_ZERO ? "0 (success)" : "non-zero (failure)",
		    cl->term_signal);
	else
		srl_finding(r, r->s->check, 0, NULL, "expected the client to exit %s, got exit "
		    "status %d", want == SCN_EXIT_ZERO ? "0 (success: the server answered 250 after "
		    "the data)" : "non-zero (failure: the message was not accepted)",
		    cl->exit_status);
}

static void
srl_artifacts(eng_srole *r)
{
	const char *dir = r->cfg->capture_dir;
	char err[512];

	if (dir == NULL || (r->nts == 0 && !r->rcv->has_message))
		return;
	if (atomic_file_mkdirs(dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		return;
	}
	for (size_t i = 0; i < r->nts; i++) {
		char *path;

		if (r->ts[i] == NULL)
			continue;
		path = i == 0 ? xasprintf("%s/%s.pcap", dir, r->s->id) :
		    xasprintf("%s/%s.%zu.pcap", dir, r->s->id, i + 1);

		/* The bytes as they crossed the wire: after STARTTLS, TLS
		 * records, with the secrets beside them in <id>.keys. */
		if (r->ts[i]->nsegs == 0 || cap_pcap_write(i < r->nwires && r->wires[i] ?
		    r->wires[i] : r->ts[i], path, err, sizeof(err)) != 0) {
			if (r->ts[i]->nsegs != 0)
				fprintf(stderr, "smtp-harness: %s\n", err);
			xfree(path);
			continue;
		}
		if (i == 0)
			r->res->capture_path = path;
		else
			xfree(path);
	}
	if (r->keylog.len > 0) {
		char *keys = xasprintf("%s/%s.keys", dir, r->s->id);

		if (atomic_file_write(keys, r->keylog.data, r->keylog.len, err, sizeof(err)) != 0)
			fprintf(stderr, "smtp-harness: %s\n", err);
		xfree(keys);
	}
	if (r->rcv->has_message) {
		char *path = xasprintf("%s/%s.eml", dir, r->s->id);

		if (atomic_file_write(path, r->message.data, r->message.len, err, sizeof(err)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", err);
			xfree(path);
		} else {
			r->rcv->message_path = path;
		}
	}
}

static void
srl_free(eng_srole *r)
{
	for (size_t i = 0; i < r->nts; i++)
		cap_transcript_free(r->ts[i]);
	xfree(r->ts);
	for (size_t i = 0; i < r->nwires; i++)
		cap_transcript_free(r->wires[i]);
	xfree(r->wires);
	SSL_CTX_free(r->tls_ctx);
	vbuf_free(&r->keylog);
	if (r->msgfile) {
		unlink(r->msgfile);
		xfree(r->msgfile);
	}
	vbuf_free(&r->expected);
	vbuf_free(&r->message);
	eng_secrets_free(&r->secrets);
	xfree(r);
}

static void
srl_try_complete(eng_srole *r)
{
	rpt_scenario *res = r->res;

	if (!r->finishing || r->live > 0 || r->reported)
		return;
	if (r->proc && !r->proc_ended)
		return;		/* killed in srl_finish; its end is on its way */
	if (r->proc && !r->proc_freeing) {
		r->proc_freeing = 1;
		srl_judge_exit(r);
		eng_proc_free(r->proc, srl_proc_freed, r);
	}
	if (r->proc && !r->proc_freed)
		return;
	/* Called again (a connection's close callback) before the handles'
	 * own close callbacks ran: closing them twice would abort libuv. */
	if (!r->handles_closing) {
		r->handles_closing = 1;
		uv_close((uv_handle_t *)&r->listener, srl_handle_closed);
		uv_close((uv_handle_t *)&r->deadline, srl_handle_closed);
		uv_close((uv_handle_t *)&r->wait, srl_handle_closed);
		return;
	}
	if (r->open_handles > 0)
		return;
	r->reported = 1;
	srl_artifacts(r);
	for (size_t i = 0; i < r->nts; i++)	/* (every connection has ended by now) */
		if (r->ts[i] == NULL)
			r->ts[i] = cap_transcript_new(NULL, NULL);
	if (r->nts > 0) {
		/* every connection's transcript goes into the result, in order */
		res->transcript = r->ts[0];
		res->nmore = r->nts - 1;
		res->more = xcalloc(res->nmore + 1, sizeof(*res->more));
		memcpy(res->more, r->ts + 1, res->nmore * sizeof(*res->more));
		r->nts = 0;
	}
	if (res->client != NULL) {
		rpt_client *cl = res->client;

		eng_secrets_scrub(&r->secrets, cl->cmd, cl->cmd ? strlen(cl->cmd) : 0);
		eng_secrets_scrub(&r->secrets, cl->out, cl->out_len);
		eng_secrets_scrub(&r->secrets, cl->err, cl->err_len);
	}
	res->duration_ms = (cap_now_us() - res->started_us) / 1000;
	rpt_scenario_settle(res);
	r->done(r->done_arg, res);
	srl_free(r);
}

static void
srl_finish(eng_srole *r)
{
	if (r->finishing)
		return;
	r->finishing = 1;
	uv_timer_stop(&r->wait);
	uv_timer_stop(&r->deadline);
	if (r->listening) {
		uv_read_stop((uv_stream_t *)&r->listener);
		r->listening = 0;
	}
	if (r->conn != NULL)
		srl_conn_end(r->conn, 0);
	if (r->proc && !r->proc_ended)
		eng_proc_kill(r->proc);
	srl_try_complete(r);
}

/* The message as it must arrive: line ends as CRLF, a last line end. */
static void
srl_expected(const scn_server *srv, vbuf *out)
{
	for (size_t i = 0; i < srv->message_len; i++) {
		char ch = srv->message[i];

		if (ch == '\n' && (i == 0 || srv->message[i - 1] != '\r'))
			vbuf_append_byte(out, '\r');
		vbuf_append_byte(out, ch);
	}
	if (out->len > 0 && (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0))
		vbuf_append_str(out, "\r\n");
}

/* Writes the scenario's message to a private temporary file. */
static int
srl_write_message(eng_srole *r, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/smtp-harness-msg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	size_t off = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot create the message file %s: %s", path, strerror(errno));
		xfree(path);
		return -1;
	}
	while (off < r->srv->message_len) {
		ssize_t n = write(fd, r->srv->message + off, r->srv->message_len - off);

		if (n <= 0) {
			snprintf(err, errlen, "cannot write the message file %s", path);
			close(fd);
			unlink(path);
			xfree(path);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	r->msgfile = path;
	return 0;
}

static int
srl_listen(eng_srole *r, char *err, size_t errlen)
{
	const char *host = r->cfg->listen_host ? r->cfg->listen_host : "127.0.0.1";
	const char *port = r->cfg->listen_port ? r->cfg->listen_port : "0";
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char buf[80];
	int rc;

	if (uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&ss) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%s: not a numeric address", host, port);
		return -1;
	}
	if ((rc = uv_tcp_bind(&r->listener, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&r->listener, 16, srl_accept_cb)) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, uv_strerror(rc));
		return -1;
	}
	r->listening = 1;
	uv_tcp_getsockname(&r->listener, (struct sockaddr *)&ss, &len);
	snprintf(r->port, sizeof(r->port), "%d", ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port));
	r->rcv->listen = xstrdup(cap_addr_str(&ss, buf, sizeof(buf)));
	return 0;
}

void
eng_srole_start(uv_loop_t *loop, const eng_config *cfg, const scn_scenario *s,
    eng_srole_done_cb done, void *arg)
{
	eng_srole *r = xcalloc(1, sizeof(*r));
	char err[512];

	r->loop = loop;
	r->cfg = cfg;
	r->s = s;
	r->srv = s->server;
	r->done = done;
	r->done_arg = arg;
	r->rng = srl_stream(cfg->seed, s->id);
	eng_secrets_add_vars(&r->secrets, cfg->overrides);
	r->res = rpt_scenario_new(s->id, s->summary, s->file);
	r->res->started_us = cap_now_us();
	for (size_t i = 0; i < s->nrefs; i++)
		rpt_scenario_add_ref(r->res, s->refs[i]);
	r->rcv = rpt_scenario_received(r->res);
	srl_expected(r->srv, &r->expected);
	uv_tcp_init(loop, &r->listener);
	uv_timer_init(loop, &r->deadline);
	uv_timer_init(loop, &r->wait);
	r->listener.data = r->deadline.data = r->wait.data = r;
	r->open_handles = 3;
	uv_timer_start(&r->deadline, srl_deadline_cb, s->deadline_ms, 0);
	if (r->srv->starttls) {
		r->tls_ctx = etls_server_ctx_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err));
		if (r->tls_ctx == NULL) {
			rpt_scenario_set(r->res, RPT_ERROR, "%s", err);
			srl_finish(r);
			return;
		}
		if (cfg->capture_dir != NULL)
			etls_ctx_keylog(r->tls_ctx, &r->keylog);
	}
	if (srl_listen(r, err, sizeof(err)) != 0 || srl_write_message(r, err, sizeof(err)) != 0) {
		rpt_scenario_set(r->res, RPT_ERROR, "%s", err);
		srl_finish(r);
		return;
	}
	if (cfg->client_cmd) {
		const char *host = cfg->listen_host ? cfg->listen_host : "127.0.0.1";
		char *cmd = eng_proc_expand(cfg->client_cmd, host, r->port, r->msgfile);

		r->proc = eng_proc_start(loop, cmd, rpt_scenario_client(r->res), srl_proc_ended, r,
		    err, sizeof(err));
		xfree(cmd);
		if (err[0] != '\0') {
			r->proc_ended = 1;
			rpt_scenario_set(r->res, RPT_ERROR, "%s", err);
			srl_finish(r);
			return;
		}
	} else {
		printf("smtp-harness: %s: listening on %s; waiting up to %u ms for the client "
		    "(message file %s)\n", s->id, r->rcv->listen, r->srv->client_timeout_ms,
		    r->msgfile);
		fflush(stdout);
	}
	uv_timer_start(&r->wait, srl_wait_cb, r->srv->client_timeout_ms, 0);
}
