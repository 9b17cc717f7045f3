/*
 * client - one client-role session on libuv.
 *
 * When a step starts it is expanded into a short list of operations
 * (write, pause, expect a reply, expect the close, drop), and the session
 * works through them; whenever an operation has to wait, the one session
 * timer bounds the wait. Replies are parsed as they arrive and queued with
 * their offset in the server's stream, so every judgement can point at
 * the bytes behind it.
 */
#include "harness/engine/client.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/pcap_write.h"
#include "harness/engine/etls.h"
#include "harness/check/catalog.h"
#include "harness/check/defence.h"
#include "harness/check/dialog.h"
#include "harness/check/passive.h"
#include "harness/smtp/command.h"
#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define ECL_READ_BUF	(64 * 1024)
#define ECL_TLS_SLICE	(HARNESS_TLS_OUT_MAX / 4)	/* plaintext encrypted at a time */
#define ECL_QUIT_WAIT_MS 2000	/* reply to a courtesy QUIT when skipping */
#define ECL_ONE_REPLY	"rfc5321.4.2.one-reply-per-command"
#define ECL_GREETING	"rfc5321.3.1.greeting"
#define ECL_QUIT_CLOSE	"rfc5321.4.1.1.10.quit-221-close"
#define ECL_CLOSE_ALLOWED "rfc5321.3.8.close-only-when-allowed"

typedef enum ecl_op_kind {
	OP_DELAY,
	OP_WRITE,
	OP_PAUSE,
	OP_QUIET,		/* no further reply within ms */
	OP_EXPECT,
	OP_CLOSED,
	OP_DROP,
	OP_TLS			/* after a 220 to STARTTLS: the handshake */
} ecl_op_kind;

typedef struct ecl_op {
	ecl_op_kind kind;
	vbuf data;		/* OP_WRITE */
	vbuf shown;		/* OP_WRITE: data with credentials masked, for the
				 * transcript; used when as long as data */
	smtp_verb verb;		/* OP_WRITE of one line; OP_EXPECT: what it answers */
	uint32_t ms;		/* OP_DELAY, OP_PAUSE, OP_QUIET */
	size_t expect;		/* OP_EXPECT: index into step->expects */
} ecl_op;

typedef enum ecl_wait {
	W_NONE = 0,
	W_CONNECT,
	W_TIMER,		/* delay or pause */
	W_QUIET,		/* no reply may come in this time */
	W_REPLY,
	W_CLOSE,
	W_HANDSHAKE,		/* the TLS handshake */
	W_QUIT_REPLY,		/* courtesy QUIT after a SKIP */
	W_QUIT_CLOSE		/* the server should close after 221 */
} ecl_wait;

typedef struct ecl_reply {
	smtp_reply *r;
	size_t off;		/* in the S2C stream */
} ecl_reply;

struct eng_client {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_timer_t timer;	/* the wait of the moment */
	uv_timer_t deadline;	/* the whole scenario */
	uv_connect_t connect_req;
	int open_handles;	/* handles not yet closed */

	const eng_config *cfg;
	const scn_scenario *s;
	const struct sockaddr *addr;	/* the target */
	eng_client_done_cb done;
	void *done_arg;

	rpt_scenario *res;
	cap_transcript *t;
	scn_vars vars;
	smtp_reply_parser *rp;
	int rp_failed;
	size_t s2c_fed;		/* S2C stream bytes given to the parser */
	ecl_reply *q;		/* replies not consumed yet */
	size_t qhead;
	size_t qlen;
	size_t qcap;
	size_t nreplies;	/* replies seen on this connection */

	size_t step;		/* index of the step being played */
	ecl_op *ops;		/* its operations */
	size_t nops;
	size_t opscap;
	size_t op;
	ecl_wait wait;

	int connected;
	int peer_closed;	/* FIN or RST from the server */
	int said_421;		/* a 421 came: the server may close (§3.8) */
	size_t refused_rcpts;	/* 5yz replies to RCPT in a row, the latest last */
	int peer_reset;
	long peer_close_seg;
	int reset_sent;
	int unreachable;
	int finishing;
	int quit_sent;
	int got_221;
	size_t last_write_off;	/* C2S offset and length of the latest write */
	size_t last_write_len;
	int last_code;		/* code of the latest reply judged */
	int after_354;		/* a 354 was judged and nothing written since */
	char *key;		/* the delivery key (docs/oracle.md) */
	unsigned long txn;	/* messages given a token so far */
	size_t last_reply_end;	/* S2C offset just after it */

	/* STARTTLS: once tls is set every byte on the wire goes through it;
	 * the transcript keeps the plaintext (tls_plaintext). */
	SSL_CTX *tls_ctx;
	etls *tls;
	int tls_up;		/* handshake complete */
	vbuf tls_buf;		/* scratch: records drained, plaintext read */
	/* With a capture directory: the bytes as they crossed the wire (the
	 * TLS records after STARTTLS) for the pcap, and the TLS secrets that
	 * decrypt them. */
	cap_transcript *wire;
	vbuf keylog;
};

typedef struct ecl_write_req {
	uv_write_t req;
	eng_client *c;
	size_t len;
	char data[];
} ecl_write_req;

static void ecl_advance(eng_client *c);
static void ecl_finish(eng_client *c);
static void ecl_timer_cb(uv_timer_t *h);

static int
ecl_timeout(const eng_client *c, uint32_t ms)
{
	if (c->cfg->step_timeout_ms)
		return (int)c->cfg->step_timeout_ms;
	return (int)ms;
}

/* A finding under a catalog id when there is one, else under the
 * scenario's own id with its refs. Releases ev's excerpt. */
static void __attribute__((format(printf, 5, 6)))
ecl_finding(eng_client *c, const char *check, rpt_verdict verdict, rpt_evidence *ev,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int step = (int)c->step + 1;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (check != NULL && chk_catalog_find(check) != NULL) {
		chk_emit(c->res, check, verdict, step, ev, "%s", msg);
	} else {
		vbuf refs = VBUF_INIT;

		for (size_t i = 0; i < c->s->nrefs; i++)
			vbuf_printf(&refs, "%s%s", i ? "; " : "", c->s->refs[i]);
		rpt_scenario_add_finding(c->res, check ? check : c->s->id, vbuf_str(&refs),
		    verdict == RPT_PASS ? RPT_FAIL : verdict, step, ev, "%s", msg);
		rpt_scenario_exercised(c->res, check ? check : c->s->id,
		    verdict == RPT_PASS ? RPT_FAIL : verdict);
		vbuf_free(&refs);
	}
	if (ev != NULL)
		rpt_evidence_clear(ev);
}

static void
ecl_passed(eng_client *c, const char *check)
{
	if (check != NULL && chk_catalog_find(check) != NULL)
		chk_pass(c->res, check);
	else
		rpt_scenario_exercised(c->res, check ? check : c->s->id, RPT_PASS);
}

/* ---- operations of a step ---------------------------------------- */

static ecl_op *
ecl_op_add(eng_client *c, ecl_op_kind kind)
{
	ecl_op *op;

	c->ops = xgrow(c->ops, &c->opscap, c->nops + 1, sizeof(*c->ops));
	op = &c->ops[c->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static void
ecl_ops_clear(eng_client *c)
{
	for (size_t i = 0; i < c->nops; i++) {
		vbuf_free(&c->ops[i].data);
		vbuf_free(&c->ops[i].shown);
	}
	c->nops = 0;
	c->op = 0;
}

/* Expands a template; on failure records an ERROR and returns -1. With
 * shown, also the same bytes with the scenario's credentials masked. */
static int
ecl_expand(eng_client *c, const char *tmpl, int raw, vbuf *out, vbuf *shown)
{
	char err[256];
	vbuf tmp = VBUF_INIT;
	vbuf tshown = VBUF_INIT;
	size_t start = out->len;
	int rc;

	rc = scn_expand_masked(tmpl, &c->vars, c->s->credentials, c->s->ncredentials, &tmp,
	    shown ? &tshown : NULL, err, sizeof(err));
	if (rc == 0 && raw)
		rc = smtp_unescape(tmp.data ? tmp.data : "", tmp.len, out, err, sizeof(err));
	else if (rc == 0)
		vbuf_append(out, tmp.data, tmp.len);
	if (rc == 0 && shown != NULL) {
		size_t sstart = shown->len;

		if (raw && smtp_unescape(tshown.data ? tshown.data : "", tshown.len, shown, err,
		    sizeof(err)) != 0)
			shown->len = sstart;
		else if (!raw)
			vbuf_append(shown, tshown.data, tshown.len);
		/* An escape inside a credential changes the length: mask it all
		 * but the line ends. */
		if (shown->len - sstart != out->len - start) {
			shown->len = sstart;
			for (size_t i = start; i < out->len; i++)
				vbuf_append(shown, out->data[i] == '\r' || out->data[i] == '\n' ?
				    &out->data[i] : "*", 1);
		}
	}
	vbuf_free(&tmp);
	vbuf_free(&tshown);
	if (rc != 0)
		rpt_scenario_set(c->res, RPT_ERROR, "step %zu: %s", c->step + 1, err);
	return rc;
}

/* Content of `octets` bytes: a header, a blank line, then lines of at
 * most 76 characters, so that the content is exactly that long; appended
 * to out dot-stuffed, with its final dot. With a token, the header is a
 * Message-ID that carries it, and so is the first body line, when the
 * content is long enough for both. */
static void
ecl_generate(vbuf *out, uint64_t octets, const char *token)
{
	/* Line n is 76 letters from the alphabet's (n mod 26)th on. */
	static const char ecl_letters[] = "abcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
	static const char subject[] = "Subject: smtp-harness generated content\r\n\r\n";
	char head[sizeof(subject) + 2 * 128 + 64];
	size_t start = out->len, line = 0, hlen;
	int n = -1;

	if (token != NULL && octets >= 2 * strlen(token) + 64)
		n = snprintf(head, sizeof(head), "Message-ID: <%s@smtp-harness.invalid>\r\n\r\n%s\r\n",
		    token, token);
	if (n > 0 && (size_t)n < sizeof(head)) {
		hlen = (size_t)n;
		line = 1;
	} else {
		memcpy(head, subject, sizeof(subject));
		hlen = sizeof(subject) - 1;
	}
	if (octets < hlen) {
		/* The header cut short: its last line may lack a CRLF. */
		smtp_data_stuff_text(out, head, (size_t)octets);
		return;
	}
	/* Written in place: every line ends in CRLF and starts with a letter,
	 * the token (which starts with a letter) or is empty, so none needs a dot
	 * doubled (RFC 5321 §4.5.2) and the content goes out as it is, then
	 * the final dot. */
	vbuf_reserve(out, (size_t)octets + 3);
	vbuf_append(out, head, hlen);
	while ((uint64_t)(out->len - start) + 2 < octets) {
		size_t room = (size_t)(octets - (out->len - start) - 2);
		size_t width = room < 76 ? room : 76;

		vbuf_append(out, ecl_letters + line % 26, width);
		vbuf_append(out, "\r\n", 2);
		line++;
	}
	vbuf_append(out, ".\r\n", 3);
}

/* "Name:" opens a header field (RFC 5322 §2.2: printable, not ':'). */
static int
ecl_header_line(const char *line)
{
	size_t i = 0;

	while (line[i] > ' ' && line[i] < 127 && line[i] != ':')
		i++;
	return i > 0 && line[i] == ':';
}

static int
ecl_build_ops(eng_client *c, const scn_step *st)
{
	/* With an oracle, the content after a 354 carries the next token. */
	char tokbuf[128];
	const char *token = NULL;

	if (c->cfg->oracle != NULL && c->after_354 &&
	    (st->send_kind == SCN_SEND_DATA || st->send_kind == SCN_SEND_RAW)) {
		snprintf(tokbuf, sizeof(tokbuf), "%s%lu", c->key, ++c->txn);
		token = tokbuf;
	}
	ecl_ops_clear(c);
	if (st->delay_ms)
		ecl_op_add(c, OP_DELAY)->ms = st->delay_ms;

	switch (st->send_kind) {
	case SCN_SEND_LINES:
		if (st->pipeline) {
			ecl_op *w = ecl_op_add(c, OP_WRITE);

			for (size_t i = 0; i < st->nsends; i++) {
				if (ecl_expand(c, st->sends[i], 0, &w->data, &w->shown) != 0)
					return -1;
				vbuf_append(&w->data, "\r\n", 2);
				vbuf_append(&w->shown, "\r\n", 2);
			}
			for (size_t i = 0; i < st->nexpects; i++) {
				ecl_op *e = ecl_op_add(c, OP_EXPECT);
				smtp_cmd cmd;

				e->expect = i;
				smtp_cmd_parse(st->sends[i], strlen(st->sends[i]), &cmd);
				e->verb = cmd.verb;
			}
		} else {
			for (size_t i = 0; i < st->nsends; i++) {
				ecl_op *w = ecl_op_add(c, OP_WRITE);
				smtp_cmd cmd;

				if (ecl_expand(c, st->sends[i], 0, &w->data, &w->shown) != 0)
					return -1;
				smtp_cmd_parse(w->data.data ? w->data.data : "", w->data.len, &cmd);
				w->verb = cmd.verb;
				vbuf_append(&w->data, "\r\n", 2);
				vbuf_append(&w->shown, "\r\n", 2);
				if (st->nexpects) {
					ecl_op *e = ecl_op_add(c, OP_EXPECT);

					e->expect = st->nexpects == 1 ? 0 : i;
					e->verb = cmd.verb;
				}
			}
			/* Lock-step expectations are already placed. */
			goto tail;
		}
		break;
	case SCN_SEND_RAW:
		for (size_t i = 0; i < st->nsends; i++) {
			ecl_op *w;

			if (i && st->pause_ms)
				ecl_op_add(c, OP_PAUSE)->ms = st->pause_ms;
			w = ecl_op_add(c, OP_WRITE);
			if (i == 0 && token != NULL) {
				/* In both, so that the masked copy keeps its length. */
				vbuf_printf(&w->data, "Message-ID: <%s@smtp-harness.invalid>\r\n", token);
				vbuf_printf(&w->shown, "Message-ID: <%s@smtp-harness.invalid>\r\n", token);
			}
			if (ecl_expand(c, st->sends[i], 1, &w->data, &w->shown) != 0)
				return -1;
		}
		for (size_t i = 0; i < st->nexpects; i++)
			ecl_op_add(c, OP_EXPECT)->expect = i;
		break;
	case SCN_SEND_DATA: {
		ecl_op *w = ecl_op_add(c, OP_WRITE);

		if (st->data_raw) {
			if (token != NULL)
				vbuf_printf(&w->data, "Message-ID: <%s@smtp-harness.invalid>\r\n", token);
			if (ecl_expand(c, st->sends[0], 1, &w->data, NULL) != 0)
				return -1;
		} else if (st->data_generate) {
			ecl_generate(&w->data, st->data_generate, token);
		} else {
			vbuf lines = VBUF_INIT;
			size_t n = st->nsends + (token != NULL ? 4 : 0);
			char **exp = xcalloc(n ? n : 1, sizeof(char *));
			size_t k = 0;
			int rc = 0;
			int body = token == NULL;	/* the token line is placed */

			/* The token goes in a Message-ID field on top and in the
			 * first body line, so that what the content ends with
			 * stays as the scenario wrote it. Content that does not
			 * open with a header field gets an empty line first, so
			 * that it stays the body. */
			if (token != NULL) {
				exp[k++] = xasprintf("Message-ID: <%s@smtp-harness.invalid>", token);
				if (st->nsends == 0 || !ecl_header_line(st->sends[0])) {
					exp[k++] = xstrdup("");
					exp[k++] = xasprintf("smtp-harness-token: %s", token);
					body = 1;
				}
			}
			for (size_t i = 0; i < st->nsends && rc == 0; i++) {
				rc = ecl_expand(c, st->sends[i], 0, &lines, NULL);
				exp[k] = vbuf_take(&lines);
				if (!body && exp[k][0] == '\0') {
					exp[++k] = xasprintf("smtp-harness-token: %s", token);
					body = 1;
				}
				k++;
			}
			if (!body && rc == 0) {
				exp[k++] = xstrdup("");
				exp[k++] = xasprintf("smtp-harness-token: %s", token);
			}
			if (rc == 0)
				smtp_data_stuff_lines(&w->data, (const char *const *)exp, k);
			for (size_t i = 0; i < k; i++)
				xfree(exp[i]);
			xfree(exp);
			vbuf_free(&lines);
			if (rc != 0)
				return -1;
		}
		for (size_t i = 0; i < st->nexpects; i++)
			ecl_op_add(c, OP_EXPECT)->expect = i;
		break;
	}
	case SCN_SEND_NONE:
		for (size_t i = 0; i < st->nexpects; i++)
			ecl_op_add(c, OP_EXPECT)->expect = i;
		break;
	}
tail:
	if (st->starttls)
		ecl_op_add(c, OP_TLS);
	if (st->quiet_ms)
		ecl_op_add(c, OP_QUIET)->ms = st->quiet_ms;
	if (st->expect_closed)
		ecl_op_add(c, OP_CLOSED)->ms = st->closed_ms;
	if (st->drop != SCN_DROP_NONE)
		ecl_op_add(c, OP_DROP);
	return 0;
}

/* ---- wire ------------------------------------------------------------ */

static void
ecl_write_cb(uv_write_t *req, int status)
{
	ecl_write_req *wr = (ecl_write_req *)req;

	/* A failed write means the peer is gone; the read side records how. */
	(void)status;
	xfree(wr);
}

/* Records a connection event in the transcript and, when capturing, in
 * the wire record; returns the transcript's segment index. */
static long
ecl_event(eng_client *c, cap_kind kind, cap_dir dir)
{
	uint64_t now = cap_now_us();

	if (c->wire != NULL)
		cap_transcript_add_event(c->wire, kind, dir, now);
	return cap_transcript_add_event(c->t, kind, dir, now);
}

/* Writes bytes to the socket as they are (plaintext, or TLS records);
 * the capture records shown (credentials masked) when it is not NULL. */
static void
ecl_wire(eng_client *c, const char *data, const char *shown, size_t len)
{
	ecl_write_req *wr;
	uv_buf_t buf;

	if (len == 0)
		return;
	if (c->wire != NULL)
		cap_transcript_add_data(c->wire, CAP_C2S, cap_now_us(), shown ? shown : data, len);
	wr = xmalloc(sizeof(*wr) + len);
	wr->c = c;
	wr->len = len;
	memcpy(wr->data, data, len);
	buf = uv_buf_init(wr->data, (unsigned int)len);
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, ecl_write_cb) != 0)
		xfree(wr);
}

/* Sends whatever TLS wants to send. */
static void
ecl_tls_flush(eng_client *c)
{
	vbuf_reset(&c->tls_buf);
	if (etls_drain(c->tls, &c->tls_buf) > 0)
		ecl_wire(c, c->tls_buf.data, NULL, c->tls_buf.len);
	vbuf_reset(&c->tls_buf);
}

/* A TLS failure ends the scenario as an ERROR: the harness could not
 * carry the session on, whoever is to blame (the handshake's text says). */
static void
ecl_tls_error(eng_client *c, const char *what, const char *detail)
{
	const char *sep = detail && *detail ? ": " : "";
	char *note;

	rpt_scenario_set(c->res, RPT_ERROR, "step %zu: %s%s%s", c->step + 1, what, sep,
	    detail ? detail : "");
	/* The transcript's note says why, before anything noted at the start. */
	note = xasprintf("%s%s%s%s%s", what, sep, detail ? detail : "",
	    c->t->tls_note ? "; " : "", c->t->tls_note ? c->t->tls_note : "");
	cap_transcript_set_tls_note(c->t, note);
	xfree(note);
	ecl_finish(c);
}

/* Records a command (plaintext; as shown, when not NULL: the same length
 * with credentials masked) and sends it, through TLS once it is up. */
static void
ecl_write(eng_client *c, const char *data, const char *shown, size_t len, smtp_verb verb)
{
	size_t before = c->t->stream[CAP_C2S].len;

	if (len == 0 || c->finishing)
		return;
	cap_transcript_add_data(c->t, CAP_C2S, cap_now_us(), shown ? shown : data, len);
	c->after_354 = 0;
	c->last_write_off = before;
	c->last_write_len = len;
	if (verb == SMTP_VERB_QUIT)
		c->quit_sent = 1;
	if (c->tls != NULL) {
		/* In slices, each drained to the socket at once, so a large
		 * message never piles up more than HARNESS_TLS_OUT_MAX in OpenSSL. */
		for (size_t off = 0; off < len; off += ECL_TLS_SLICE) {
			size_t n = len - off < ECL_TLS_SLICE ? len - off : ECL_TLS_SLICE;

			if (etls_write(c->tls, data + off, n) != ETLS_OK) {
				ecl_tls_error(c, etls_error(c->tls), NULL);
				return;
			}
			ecl_tls_flush(c);
		}
		return;
	}
	ecl_wire(c, data, shown, len);
}

static void
ecl_timer_start(eng_client *c, ecl_wait w, uint64_t ms, uv_timer_cb cb)
{
	c->wait = w;
	uv_timer_start(&c->timer, cb, ms, 0);
}

static void
ecl_wait_done(eng_client *c)
{
	c->wait = W_NONE;
	uv_timer_stop(&c->timer);
}

/* Evidence: the latest bytes the harness wrote (what a reply was owed to),
 * or the connection event when nothing was written yet. */
static void
ecl_evidence_last_write(eng_client *c, rpt_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (c->last_write_len) {
		rpt_evidence_at(ev, c->t, CAP_C2S, c->last_write_off, c->last_write_len);
	} else {
		long seg = cap_transcript_find(c->t, 0, CAP_OPEN, CAP_C2S, 1);

		if (seg >= 0)
			rpt_evidence_segment(ev, c->t, (size_t)seg);
	}
}

/* ---- judging replies ------------------------------------------------- */

static int
ecl_in(const int *set, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

static void
ecl_set_str(vbuf *b, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vbuf_printf(b, "%s%d", i == 0 ? "" : (i + 1 == n ? " or " : ", "), set[i]);
}

/* The reply text, lines joined by "\n", for regular expressions. */
static char *
ecl_reply_text(const smtp_reply *r)
{
	vbuf b = VBUF_INIT;

	for (size_t i = 0; i < r->nlines; i++) {
		size_t len;
		const char *p = smtp_reply_text(r, i, &len);

		if (i)
			vbuf_append_byte(&b, '\n');
		vbuf_append(&b, p, len);
	}
	return vbuf_take(&b);
}

static int
ecl_esc_matches(const smtp_esc *esc, const char *want)
{
	char have[32];
	size_t n = strlen(want);

	if (!esc->present)
		return 0;
	snprintf(have, sizeof(have), "%d.%d.%d", esc->cls, esc->subject, esc->detail);
	/* "5.5" matches "5.5.1" but not "5.51.1". */
	return strncmp(have, want, n) == 0 && (have[n] == '\0' || have[n] == '.');
}

/* Judges reply r against expectation e. Returns 0 when it matches. */
static int
ecl_judge(eng_client *c, const scn_expect *e, const ecl_reply *er, vbuf *why)
{
	const smtp_reply *r = er->r;
	char *text = NULL;
	int bad = 0;

	if (e->ncodes && !ecl_in(e->codes, e->ncodes, r->code)) {
		vbuf_append_str(why, "expected ");
		ecl_set_str(why, e->codes, e->ncodes);
		bad = 1;
	} else if (e->nclasses && !ecl_in(e->classes, e->nclasses, r->code / 100)) {
		vbuf_append_str(why, "expected a ");
		ecl_set_str(why, e->classes, e->nclasses);
		vbuf_append_str(why, "xx reply");
		bad = 1;
	} else if (e->esc && !ecl_esc_matches(&r->esc, e->esc)) {
		vbuf_printf(why, "expected enhanced status code %s", e->esc);
		bad = 1;
	}
	if (!bad && e->has_text_re &&
	    (e->ntext_for == 0 || ecl_in(e->text_for, e->ntext_for, r->code))) {
		text = ecl_reply_text(r);
		if (regexec(&e->text_re, text, 0, NULL, 0) != 0) {
			vbuf_printf(why, "expected text matching /%s/", e->text_src);
			bad = 1;
		}
	}
	if (!bad && (e->nkeywords || e->nabsent)) {
		smtp_ehlo ehlo;

		smtp_ehlo_parse(r, &ehlo);
		for (size_t i = 0; i < e->nkeywords && !bad; i++)
			if (smtp_ehlo_find(&ehlo, e->keywords[i]) == NULL) {
				vbuf_printf(why, "expected EHLO keyword %s", e->keywords[i]);
				bad = 1;
			}
		for (size_t i = 0; i < e->nabsent && !bad; i++)
			if (smtp_ehlo_find(&ehlo, e->absent[i]) != NULL) {
				vbuf_printf(why, "expected no EHLO keyword %s", e->absent[i]);
				bad = 1;
			}
		smtp_ehlo_clear(&ehlo);
	}
	if (!bad && e->has_capture) {
		regmatch_t m[2];

		if (text == NULL)
			text = ecl_reply_text(r);
		if (regexec(&e->capture_re, text, 2, m, 0) == 0 && m[1].rm_so >= 0) {
			size_t len = (size_t)(m[1].rm_eo - m[1].rm_so);
			char *val;

			if (len > HARNESS_VAR_VALUE_MAX)
				len = HARNESS_VAR_VALUE_MAX;
			val = xstrndup(text + m[1].rm_so, len);
			scn_vars_set(&c->vars, e->capture_var, val);
			xfree(val);
		} else {
			vbuf_printf(why, "expected text to capture into ${%s} with /%s/",
			    e->capture_var, "...");
			bad = 1;
		}
	}
	xfree(text);
	if (bad) {
		char *sum = smtp_reply_summary(r, 160);

		vbuf_printf(why, ", got \"%s\"", sum);
		xfree(sum);
	}
	return bad;
}

/* 1 if keyword kw is advertised with a parameter that is a decimal
 * number other than 0 ("SIZE 10240000", not "SIZE" or "SIZE 0"). */
static int
ecl_has_number(const smtp_ehlo *e, const char *kw)
{
	for (size_t i = 0; i < e->nkw; i++) {
		const char *p = e->kw[i].params;
		int digits = 0, nonzero = 0;

		if (strcmp(e->kw[i].keyword, kw) != 0)
			continue;
		for (; *p >= '0' && *p <= '9'; p++, digits++)
			nonzero |= *p != '0';
		if (digits > 0 && nonzero && (*p == '\0' || *p == ' '))
			return 1;
	}
	return 0;
}

/* Whether the EHLO reply meets every `requires` entry: "KW" advertised,
 * "!KW" not advertised, "KW PARAM" advertised with that parameter ("#": a
 * number other than 0). What is unmet goes into why: "target does not
 * advertise A, B; advertises C, which the scenario requires absent". */
static int
ecl_requires_met(eng_client *c, const smtp_reply *r, vbuf *why)
{
	smtp_ehlo ehlo;
	vbuf absent = VBUF_INIT, present = VBUF_INIT;

	smtp_ehlo_parse(r, &ehlo);
	for (size_t i = 0; i < c->s->nrequires; i++) {
		const char *req = c->s->requires[i];
		const char *sp = strchr(req, ' ');

		if (req[0] == '!') {
			if (smtp_ehlo_find(&ehlo, req + 1) != NULL)
				vbuf_printf(&present, "%s%s", present.len ? ", " : "", req + 1);
		} else if (sp != NULL) {
			char *kw = xstrndup(req, (size_t)(sp - req));
			int number = strcmp(sp + 1, "#") == 0;

			if (!(number ? ecl_has_number(&ehlo, kw) : smtp_ehlo_has_param(&ehlo, kw, sp + 1)))
				vbuf_printf(&absent, "%s%s%s", absent.len ? ", " : "",
				    number ? kw : req, number ? " with a number other than 0" : "");
			xfree(kw);
		} else if (smtp_ehlo_find(&ehlo, req) == NULL) {
			vbuf_printf(&absent, "%s%s", absent.len ? ", " : "", req);
		}
	}
	if (absent.len)
		vbuf_printf(why, "target does not advertise %s", vbuf_str(&absent));
	if (present.len)
		vbuf_printf(why, "%s %s, which the scenario requires absent",
		    why->len ? "; advertises" : "target advertises", vbuf_str(&present));
	vbuf_free(&absent);
	vbuf_free(&present);
	smtp_ehlo_clear(&ehlo);
	return why->len == 0;
}

static void
ecl_courtesy_quit(eng_client *c)
{
	ecl_ops_clear(c);
	c->step = c->s->nsteps;
	if (c->peer_closed || !c->connected) {
		ecl_finish(c);
		return;
	}
	ecl_write(c, "QUIT\r\n", NULL, 6, SMTP_VERB_QUIT);
	ecl_timer_start(c, W_QUIT_REPLY, ECL_QUIT_WAIT_MS, ecl_timer_cb);
}

static ecl_reply
ecl_pop(eng_client *c)
{
	ecl_reply er = c->q[c->qhead++];

	c->qlen--;
	if (c->qlen == 0)
		c->qhead = 0;
	return er;
}

/* Consumes the next reply for an OP_EXPECT. Returns 0 to go on, -1 when
 * the session must stop. */
static int
ecl_expect(eng_client *c, const scn_step *st, const ecl_op *op)
{
	const scn_expect *e = &st->expects[op->expect];
	ecl_reply er = ecl_pop(c);
	vbuf why = VBUF_INIT;
	int first = (er.off == 0);
	int failed;
	int rc = 0;

	if (first && er.r->code == 554 && !c->s->refuse_ok) {
		char *sum = smtp_reply_summary(er.r, 120);

		rpt_scenario_set(c->res, RPT_SKIP, "target refuses service: greeting \"%s\"", sum);
		xfree(sum);
		smtp_reply_free(er.r);
		ecl_courtesy_quit(c);
		return -1;
	}
	/* A missing keyword the scenario requires makes it SKIP before any
	 * expectation on that reply is judged. Only in plaintext: after TLS
	 * STARTTLS itself is gone from the list (RFC 3207 §4.2). */
	if (op->verb == SMTP_VERB_EHLO && er.r->code == 250 && c->s->nrequires && c->tls == NULL) {
		vbuf missing = VBUF_INIT;

		if (!ecl_requires_met(c, er.r, &missing)) {
			rpt_scenario_set(c->res, RPT_SKIP, "%s", vbuf_str(&missing));
			vbuf_free(&missing);
			vbuf_free(&why);
			smtp_reply_free(er.r);
			ecl_courtesy_quit(c);
			return -1;
		}
		vbuf_free(&missing);
	}
	failed = ecl_judge(c, e, &er, &why) != 0;
	if (failed && e->skip_otherwise) {
		/* The target declined what the rest of the scenario is about
		 * (a refusal the RFC allows): nothing left to judge. */
		rpt_scenario_set(c->res, RPT_SKIP, "step %zu: %s; the rest of the scenario does not apply",
		    st->index, vbuf_str(&why));
		vbuf_free(&why);
		smtp_reply_free(er.r);
		ecl_courtesy_quit(c);
		return -1;
	} else if (failed && e->error_otherwise) {
		/* Not the target's fault as far as the scenario can tell (the
		 * credentials it was given were refused, say): the run could
		 * not be carried out, nothing is judged. */
		char *sum = smtp_reply_summary(er.r, 120);

		rpt_scenario_set(c->res, RPT_ERROR, "step %zu: %s, got \"%s\"; the rest of the "
		    "scenario could not be carried out", st->index, vbuf_str(&why), sum);
		xfree(sum);
		vbuf_free(&why);
		smtp_reply_free(er.r);
		ecl_courtesy_quit(c);
		return -1;
	} else if (failed) {
		rpt_evidence ev;

		rpt_evidence_at(&ev, c->t, CAP_S2C, er.off, er.r->raw_len);
		ecl_finding(c, e->check, e->verdict, &ev, "%s", vbuf_str(&why));
		if (e->verdict == RPT_FAIL)
			rc = -1;
	} else {
		ecl_passed(c, e->check);
	}
	if (op->verb == SMTP_VERB_QUIT && er.r->code == 221)
		c->got_221 = 1;
	if (op->verb == SMTP_VERB_RCPT && er.r->code / 100 == 5)
		c->refused_rcpts++;
	else
		c->refused_rcpts = 0;
	c->last_code = er.r->code;
	c->after_354 = er.r->code == 354;
	c->last_reply_end = er.off + er.r->raw_len;
	vbuf_free(&why);
	smtp_reply_free(er.r);
	if (rc != 0)
		ecl_finish(c);
	return rc;
}

/* ---- timers ------------------------------------------------------------ */

/* A reply came while the step asked for silence ("quiet_ms"): after the
 * replies it expected, the server answered something more -- a command
 * the harness never sent as one (an end of data it took too early, say).
 * A finding under the step's check, else the scenario's; ends the session
 * when that is a FAIL. */
static void
ecl_extra_reply(eng_client *c, const scn_step *st, uint32_t ms)
{
	const char *check = st->check ? st->check : c->s->check ? c->s->check : ECL_ONE_REPLY;
	const chk_entry *ce = chk_catalog_find(check);
	rpt_verdict v = ce ? chk_keyword_verdict(ce->keyword) : RPT_FAIL;
	ecl_reply er = ecl_pop(c);
	rpt_evidence ev;
	char *q = smtp_reply_summary(er.r, 120);

	rpt_evidence_at(&ev, c->t, CAP_S2C, er.off, er.r->raw_len);
	ecl_finding(c, check, v, &ev, "expected no further reply within %u ms, got \"%s\" "
	    "(%zu extra repl%s so far)", ms, q, c->qlen + 1, c->qlen ? "ies" : "y");
	xfree(q);
	smtp_reply_free(er.r);
	if (v == RPT_FAIL) {
		ecl_finish(c);
		return;
	}
	while (c->qlen > 0) {	/* judged once: drop the rest */
		er = ecl_pop(c);
		smtp_reply_free(er.r);
	}
	c->op++;
	ecl_advance(c);
}


/* A deadline passed while the server owed a reply: a FAIL of the check
 * that expected it (the step's, an expectation's own, or the greeting's),
 * with the last bytes written as evidence. Ends the session. */
static void
ecl_no_reply(eng_client *c, const scn_step *st, const char *when)
{
	const ecl_op *op = &c->ops[c->op];
	const scn_expect *e = &st->expects[op->expect];
	const char *check = st->check ? st->check : ECL_ONE_REPLY;
	rpt_evidence ev;

	if (e->check && c->s->check && strcmp(e->check, c->s->check) != 0)
		check = e->check;
	if (c->nreplies == 0)
		check = ECL_GREETING;
	ecl_evidence_last_write(c, &ev);
	ecl_finding(c, check, RPT_FAIL, &ev,
	    "expected a reply %s, got none (the connection is still open)", when);
	ecl_finish(c);
}

static void
ecl_timer_cb(uv_timer_t *h)
{
	eng_client *c = h->data;
	const scn_step *st = c->step < c->s->nsteps ? &c->s->steps[c->step] : NULL;
	rpt_evidence ev;
	ecl_wait w = c->wait;

	c->wait = W_NONE;
	switch (w) {
	case W_CONNECT:
		rpt_scenario_set(c->res, RPT_ERROR, "could not connect to %s:%s: no answer within %u ms",
		    c->cfg->host, c->cfg->port, c->cfg->connect_timeout_ms);
		c->unreachable = 1;
		ecl_finish(c);
		return;
	case W_TIMER:
	case W_QUIET:		/* the silence held */
		c->op++;
		ecl_advance(c);
		return;
	case W_REPLY: {
		char why[64];

		snprintf(why, sizeof(why), "within %d ms", ecl_timeout(c, st->timeout_ms));
		ecl_no_reply(c, st, why);
		return;
	}
	case W_CLOSE:
		ecl_evidence_last_write(c, &ev);
		ecl_finding(c, st->closed_check ? st->closed_check : ECL_QUIT_CLOSE, RPT_FAIL, &ev,
		    "expected the server to close the connection within %d ms, it stayed open",
		    ecl_timeout(c, st->closed_ms));
		c->op++;
		ecl_advance(c);
		return;
	case W_HANDSHAKE: {
		char why[96];

		snprintf(why, sizeof(why), "no TLS handshake within %d ms",
		    ecl_timeout(c, st->timeout_ms));
		ecl_tls_error(c, why, "the server did not complete it");
		return;
	}
	case W_QUIT_REPLY:
	case W_QUIT_CLOSE:
		/* The passive checks judge what the transcript shows. */
		ecl_finish(c);
		return;
	case W_NONE:
		return;
	}
}

static void
ecl_deadline_cb(uv_timer_t *h)
{
	eng_client *c = h->data;

	if (c->finishing)
		return;
	/* The server owes a reply: its silence is the finding, as at a step
	 * timeout. Otherwise the harness's own budget ran out: ERROR. */
	if (c->wait == W_REPLY && c->step < c->s->nsteps) {
		char why[96];

		uv_timer_stop(&c->timer);
		c->wait = W_NONE;
		snprintf(why, sizeof(why), "before the scenario deadline of %u ms",
		    c->s->deadline_ms);
		ecl_no_reply(c, &c->s->steps[c->step], why);
		return;
	}
	rpt_scenario_set(c->res, RPT_ERROR, "scenario deadline of %u ms passed at step %zu",
	    c->s->deadline_ms, c->step + 1);
	ecl_finish(c);
}

/* ---- STARTTLS ------------------------------------------------------------ */

/* The handshake is done: record what it settled in the transcript. */
static void
ecl_tls_established(eng_client *c)
{
	vbuf note = VBUF_INIT;

	c->tls_up = 1;
	etls_peer_describe(c->tls, &note);
	if (c->t->tls_note != NULL)	/* set at the start: what was discarded */
		vbuf_printf(&note, "; %s", c->t->tls_note);
	cap_transcript_set_tls_note(c->t, vbuf_str(&note));
	vbuf_free(&note);
}

/*
 * The reply to STARTTLS was judged. After 220 the handshake starts: the
 * transcript marks the point, anything the server wrote after its 220 in
 * plaintext is set aside (RFC 3207 §4.2; it stays in the transcript but
 * is never read as a reply), and the reply parser starts over. Returns 1
 * to go on with the next operation (no 220: the session stays in
 * plaintext), 0 while the handshake runs, -1 when the session ended.
 */
static int
ecl_tls_start(eng_client *c, const scn_step *st)
{
	char err[ETLS_ERR_MAX];
	vbuf sni = VBUF_INIT;
	size_t s2c_len = c->t->stream[CAP_S2C].len;
	etls_status hs;

	if (c->last_code != 220)
		return 1;
	if (c->peer_closed) {
		ecl_tls_error(c, "no TLS handshake", "the server closed the connection after 220");
		return -1;
	}
	if (st->sni != NULL && ecl_expand(c, st->sni, 0, &sni, NULL) != 0) {
		vbuf_free(&sni);
		ecl_finish(c);
		return -1;
	}
	c->tls_ctx = etls_client_ctx_new(err, sizeof(err));
	if (c->tls_ctx != NULL && c->wire != NULL)
		etls_ctx_keylog(c->tls_ctx, &c->keylog);
	if (c->tls_ctx != NULL)
		c->tls = etls_new(c->tls_ctx, 0, sni.len ? vbuf_str(&sni) : NULL, err, sizeof(err));
	vbuf_free(&sni);
	if (c->tls == NULL) {
		ecl_tls_error(c, "cannot start TLS", err);
		return -1;
	}
	c->t->tls_plaintext = 1;
	ecl_event(c, CAP_TLS_START, CAP_C2S);
	if (s2c_len > c->last_reply_end) {
		char *note = xasprintf("%zu plaintext byte%s after the 220 set aside",
		    s2c_len - c->last_reply_end, s2c_len - c->last_reply_end == 1 ? "" : "s");

		cap_transcript_set_tls_note(c->t, note);
		xfree(note);
	}
	while (c->qlen > 0)
		smtp_reply_free(ecl_pop(c).r);
	smtp_reply_parser_free(c->rp);
	c->rp = smtp_reply_parser_new();
	c->rp_failed = 0;
	c->s2c_fed = s2c_len;
	hs = etls_handshake(c->tls);
	ecl_tls_flush(c);
	if (hs == ETLS_ERROR) {
		ecl_tls_error(c, etls_error(c->tls), NULL);
		return -1;
	}
	ecl_timer_start(c, W_HANDSHAKE, (uint64_t)ecl_timeout(c, st->timeout_ms), ecl_timer_cb);
	return 0;
}

/* ---- the step machine ------------------------------------------------- */

static void
ecl_after_steps(eng_client *c)
{
	/* After "221" the server must close (RFC 5321 §4.1.1.10); give it the
	 * time to, so the passive check sees who closed first. */
	if (c->quit_sent && c->got_221 && !c->peer_closed) {
		ecl_timer_start(c, W_QUIT_CLOSE, HARNESS_QUIT_CLOSE_MS, ecl_timer_cb);
		return;
	}
	ecl_finish(c);
}

static void
ecl_advance(eng_client *c)
{
	while (!c->finishing && c->wait == W_NONE) {
		const scn_step *st;
		ecl_op *op;

		if (c->step >= c->s->nsteps) {
			ecl_after_steps(c);
			return;
		}
		st = &c->s->steps[c->step];
		if (c->op >= c->nops) {
			if (c->nops > 0 || c->op > 0) {
				c->step++;
				ecl_ops_clear(c);
				continue;
			}
			if (ecl_build_ops(c, st) != 0) {
				ecl_finish(c);
				return;
			}
			if (c->nops == 0) {
				c->step++;
				continue;
			}
		}
		op = &c->ops[c->op];
		switch (op->kind) {
		case OP_DELAY:
		case OP_PAUSE:
			ecl_timer_start(c, W_TIMER, op->ms, ecl_timer_cb);
			return;
		case OP_WRITE:
			ecl_write(c, op->data.data, op->shown.len == op->data.len ? op->shown.data : NULL,
			    op->data.len, op->verb);
			c->op++;
			break;
		case OP_EXPECT:
			if (c->qlen > 0) {
				if (ecl_expect(c, st, op) != 0)
					return;
				c->op++;
				break;
			}
			if (c->peer_closed || c->rp_failed) {
				rpt_evidence ev;
				const scn_expect *e = &st->expects[op->expect];

				if (c->peer_close_seg >= 0)
					rpt_evidence_segment(&ev, c->t, (size_t)c->peer_close_seg);
				else
					ecl_evidence_last_write(c, &ev);
				/* After a 421 the close is allowed (§3.8). The 421
				 * itself was judged by the expectation it answered;
				 * what the steps left would test cannot be seen. */
				if (c->said_421 && !c->rp_failed) {
					ecl_finding(c, ECL_CLOSE_ALLOWED, RPT_INFO, &ev,
					    "the server closed after its 421, as RFC 5321 §3.8 "
					    "allows; the steps left were not run");
					ecl_finish(c);
					return;
				}
				/* So is a close after a run of refused RCPTs: the
				 * defence of §7.8 (rfc5321.7.8.orderly-defence), not
				 * a silent close. */
				if (!c->rp_failed && c->refused_rcpts >= HARNESS_DEFENCE_REFUSALS_MIN) {
					ecl_finding(c, ECL_CLOSE_ALLOWED, RPT_INFO, &ev,
					    "the server closed after %zu RCPTs in a row were refused "
					    "with 5yz, a defensive close RFC 5321 §7.8 allows; the steps "
					    "left were not run", c->refused_rcpts);
					ecl_finish(c);
					return;
				}
				/* A close while a reply is owed is a silent close
				 * (§3.8: only after 221, after 421 or on timeout);
				 * before anything was sent it is a missing greeting. */
				ecl_finding(c, c->rp_failed ? e->check : c->last_write_len == 0 ?
				    ECL_GREETING : ECL_CLOSE_ALLOWED, RPT_FAIL, &ev,
				    "expected a reply, got %s", c->rp_failed ?
				    "a reply the harness could not parse" :
				    "the connection closed by the server");
				ecl_finish(c);
				return;
			}
			ecl_timer_start(c, W_REPLY, (uint64_t)ecl_timeout(c, st->timeout_ms), ecl_timer_cb);
			return;
		case OP_QUIET:
			if (c->qlen > 0) {
				ecl_extra_reply(c, st, op->ms);
				return;
			}
			if (c->peer_closed || c->rp_failed) {
				c->op++;	/* nothing more can come */
				break;
			}
			ecl_timer_start(c, W_QUIET, op->ms, ecl_timer_cb);
			return;
		case OP_CLOSED:
			if (c->peer_closed) {
				ecl_passed(c, st->closed_check ? st->closed_check : ECL_QUIT_CLOSE);
				c->op++;
				break;
			}
			ecl_timer_start(c, W_CLOSE, (uint64_t)ecl_timeout(c, op->ms), ecl_timer_cb);
			return;
		case OP_TLS: {
			int r = ecl_tls_start(c, st);

			if (r <= 0)
				return;
			c->op++;
			break;
		}
		case OP_DROP:
			if (st->drop == SCN_DROP_RESET)
				c->reset_sent = 1;
			c->op++;
			c->step = c->s->nsteps;
			ecl_finish(c);
			return;
		}
	}
}

/* ---- reading ------------------------------------------------------------ */

/*
 * One read buffer for every session on this thread: libuv calls alloc_cb
 * and then read_cb for one stream at a time, and read_cb copies what it
 * gets (into the transcript, the reply parser or TLS) before it returns.
 * A buffer per session cost a 64 KiB malloc and free each, and freeing
 * a chunk that size makes malloc consolidate its free lists.
 */
static _Thread_local char ecl_rbuf[ECL_READ_BUF];

static void
ecl_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(ecl_rbuf, ECL_READ_BUF);
}

static void
ecl_parse_replies(eng_client *c)
{
	const vbuf *in = &c->t->stream[CAP_S2C];

	while (!c->rp_failed && c->s2c_fed < in->len) {
		size_t used = 0;
		smtp_reply *r = NULL;
		size_t start = c->s2c_fed - smtp_reply_parser_pending(c->rp);
		smtp_feed_status st = smtp_reply_feed(c->rp, in->data + c->s2c_fed,
		    in->len - c->s2c_fed, &used, &r);

		c->s2c_fed += used;
		if (st == SMTP_FEED_ERROR) {
			c->rp_failed = 1;
			break;
		}
		if (st == SMTP_FEED_NEED_MORE)
			break;
		c->q = xgrow(c->q, &c->qcap, c->qhead + c->qlen + 1, sizeof(*c->q));
		c->q[c->qhead + c->qlen].r = r;
		c->q[c->qhead + c->qlen].off = start;
		if (r->code == 421)
			c->said_421 = 1;
		c->qlen++;
		c->nreplies++;
	}
}

static void
ecl_peer_gone(eng_client *c, cap_kind kind)
{
	if (c->peer_closed)
		return;
	c->peer_closed = 1;
	c->peer_reset = (kind == CAP_RST);
	c->peer_close_seg = ecl_event(c, kind, CAP_S2C);
	uv_read_stop((uv_stream_t *)&c->tcp);
}

/* Records bytes from the server (plaintext) and parses them. */
static void
ecl_took(eng_client *c, const char *data, size_t len)
{
	size_t before = c->t->stream[CAP_S2C].len;

	if (len == 0)
		return;
	cap_transcript_add_data(c->t, CAP_S2C, cap_now_us(), data, len);
	if (c->t->stream[CAP_S2C].len == before) {
		/* The recording limit is reached; judging stops here. */
		c->rp_failed = 1;
	}
	ecl_parse_replies(c);
}

/* Decrypts what has arrived. A close_notify is answered (the FIN that
 * follows is the close); a broken record ends the scenario as an ERROR. */
static void
ecl_tls_read(eng_client *c)
{
	etls_status rs;

	vbuf_reset(&c->tls_buf);
	rs = etls_read(c->tls, &c->tls_buf);
	if (c->tls_buf.len > 0) {
		vbuf plain = c->tls_buf;

		c->tls_buf = (vbuf)VBUF_INIT;
		ecl_took(c, plain.data, plain.len);
		vbuf_free(&plain);
	}
	/* The server's close_notify gets ours, as TLS asks (RFC 8446 §6.1):
	 * some servers wait for it before they close after 221. */
	if (rs == ETLS_CLOSED)
		etls_shutdown(c->tls);
	ecl_tls_flush(c);	/* a post-handshake message may want an answer */
	if (rs == ETLS_ERROR)
		ecl_tls_error(c, etls_error(c->tls), NULL);
}

/* Ciphertext from the server: the handshake, then records. Returns -1
 * when the session ended. */
static int
ecl_tls_input(eng_client *c, const char *data, size_t len)
{
	if (etls_feed(c->tls, data, len) != 0) {
		ecl_tls_error(c, etls_error(c->tls), NULL);
		return -1;
	}
	if (!c->tls_up) {
		etls_status hs = etls_handshake(c->tls);

		ecl_tls_flush(c);
		if (hs == ETLS_ERROR) {
			ecl_tls_error(c, etls_error(c->tls), NULL);
			return -1;
		}
		if (hs == ETLS_WANT)
			return 0;
		ecl_tls_established(c);
	}
	ecl_tls_read(c);
	return c->finishing ? -1 : 0;
}

static void
ecl_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	eng_client *c = stream->data;

	if (c->finishing)
		return;
	if (nread > 0 && c->wire != NULL)
		cap_transcript_add_data(c->wire, CAP_S2C, cap_now_us(), buf->base, (size_t)nread);
	if (nread > 0 && c->tls != NULL) {
		int was_up = c->tls_up;

		if (ecl_tls_input(c, buf->base, (size_t)nread) != 0)
			return;
		if (c->wait == W_HANDSHAKE && !was_up && c->tls_up) {
			ecl_wait_done(c);
			c->op++;
			ecl_advance(c);
			return;
		}
	} else if (nread > 0) {
		ecl_took(c, buf->base, (size_t)nread);
	} else if (nread == UV_EOF && c->wait == W_HANDSHAKE) {
		ecl_peer_gone(c, CAP_FIN);
		ecl_tls_error(c, "TLS handshake failed", "the server closed the connection");
		return;
	} else if (nread < 0 && c->wait == W_HANDSHAKE) {
		ecl_peer_gone(c, CAP_RST);
		ecl_tls_error(c, "TLS handshake failed", "the server reset the connection");
		return;
	} else if (nread == UV_EOF) {
		ecl_peer_gone(c, CAP_FIN);
	} else if (nread < 0) {
		ecl_peer_gone(c, CAP_RST);
	} else {
		return;
	}
	switch (c->wait) {
	case W_REPLY:
		if (c->qlen > 0 || c->peer_closed || c->rp_failed) {
			ecl_wait_done(c);
			ecl_advance(c);
		}
		break;
	case W_CLOSE:
		if (c->peer_closed) {
			ecl_wait_done(c);
			ecl_advance(c);
		}
		break;
	case W_QUIET:
		if (c->qlen > 0 || c->peer_closed || c->rp_failed) {
			ecl_wait_done(c);
			ecl_advance(c);
		}
		break;
	case W_QUIT_REPLY:
		if (c->qlen > 0 || c->peer_closed)
			ecl_finish(c);
		break;
	case W_QUIT_CLOSE:
		if (c->peer_closed)
			ecl_finish(c);
		break;
	default:
		break;
	}
}

/* ---- connecting ----------------------------------------------------------- */

static void
ecl_connect_cb(uv_connect_t *req, int status)
{
	eng_client *c = req->data;
	struct sockaddr_storage local, peer;
	int len;

	if (c->finishing)
		return;
	if (status == UV_ECANCELED)
		return;
	if (status != 0) {
		rpt_scenario_set(c->res, RPT_ERROR, "could not connect to %s:%s: %s",
		    c->cfg->host, c->cfg->port, uv_strerror(status));
		c->unreachable = 1;
		ecl_finish(c);
		return;
	}
	ecl_wait_done(c);
	c->connected = 1;
	/* A command written while the end of a large message is still
	 * unacknowledged must not wait for the peer's delayed ACK (Nagle). */
	uv_tcp_nodelay(&c->tcp, 1);
	len = sizeof(local);
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&local, &len);
	len = sizeof(peer);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &len);
	cap_transcript_set_endpoints(c->t, (struct sockaddr *)&local, (struct sockaddr *)&peer);
	if (c->wire != NULL)
		cap_transcript_set_endpoints(c->wire, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer);
	ecl_event(c, CAP_OPEN, CAP_C2S);
	uv_read_start((uv_stream_t *)&c->tcp, ecl_alloc_cb, ecl_read_cb);
	ecl_advance(c);
}

static void
ecl_try_connect(eng_client *c)
{
	int rc;

	c->connect_req.data = c;
	rc = uv_tcp_connect(&c->connect_req, &c->tcp, c->addr, ecl_connect_cb);
	if (rc != 0) {
		rpt_scenario_set(c->res, RPT_ERROR, "could not connect to %s:%s: %s",
		    c->cfg->host, c->cfg->port, uv_strerror(rc));
		c->unreachable = 1;
		ecl_finish(c);
		return;
	}
	ecl_timer_start(c, W_CONNECT, c->cfg->connect_timeout_ms, ecl_timer_cb);
}

/* ---- the end -------------------------------------------------------------- */

static void
ecl_capture(eng_client *c)
{
	char err[512];
	char *path;

	if (c->cfg->capture_dir == NULL || c->t->nsegs == 0)
		return;
	if (atomic_file_mkdirs(c->cfg->capture_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		return;
	}
	path = xasprintf("%s/%s.pcap", c->cfg->capture_dir, c->s->id);
	/* The bytes as they crossed the wire: after STARTTLS, TLS records,
	 * with the secrets beside them in <id>.keys (NSS key log format). */
	if (cap_pcap_write(c->wire != NULL ? c->wire : c->t, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		xfree(path);
		return;
	}
	c->res->capture_path = path;
	if (c->keylog.len > 0) {
		char *keys = xasprintf("%s/%s.keys", c->cfg->capture_dir, c->s->id);

		if (atomic_file_write(keys, c->keylog.data, c->keylog.len, err, sizeof(err)) != 0)
			fprintf(stderr, "smtp-harness: %s\n", err);
		xfree(keys);
	}
}

static void
ecl_free(eng_client *c)
{
	ecl_ops_clear(c);
	xfree(c->ops);
	etls_free(c->tls);
	SSL_CTX_free(c->tls_ctx);
	vbuf_free(&c->tls_buf);
	cap_transcript_free(c->wire);
	vbuf_free(&c->keylog);
	for (size_t i = 0; i < c->qlen; i++)
		smtp_reply_free(c->q[c->qhead + i].r);
	xfree(c->q);
	smtp_reply_parser_free(c->rp);
	scn_vars_free(&c->vars);
	xfree(c->key);
	xfree(c);
}

static void
ecl_closed_cb(uv_handle_t *h)
{
	eng_client *c = h->data;
	rpt_scenario *res;
	dlg *d = NULL;

	if (--c->open_handles > 0)
		return;
	res = c->res;
	/* A SKIP did not carry the scenario out: the few exchanges before it
	 * are judged by the scenarios that do run on this target, not here
	 * again, where they would turn "not applicable" into a FAIL. */
	if (c->connected && res->verdict != RPT_SKIP) {
		d = dlg_build(c->t);
		chk_passive_server(c->t, d, res);
		chk_defence(d, c->s->check, c->cfg->oracle != NULL, res);
	}
	ecl_capture(c);
	res->duration_ms = (cap_now_us() - res->started_us) / 1000;
	res->transcript = c->t;
	c->t = NULL;
	rpt_scenario_settle(res);
	/* d points at the transcript, not into res: it outlives res here. */
	c->done(c->done_arg, res, d, c->unreachable);
	dlg_free(d);
	ecl_free(c);
}

static void
ecl_finish(eng_client *c)
{
	if (c->finishing)
		return;
	c->finishing = 1;
	c->wait = W_NONE;
	uv_timer_stop(&c->timer);
	uv_timer_stop(&c->deadline);
	if (c->connected) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		if (c->reset_sent) {
			ecl_event(c, CAP_RST, CAP_C2S);
			uv_tcp_close_reset(&c->tcp, ecl_closed_cb);
		} else {
			/* A courtesy close_notify; the TCP close follows anyway. */
			if (c->tls_up && !c->peer_closed) {
				etls_shutdown(c->tls);
				ecl_tls_flush(c);
			}
			if (!c->peer_reset)
				ecl_event(c, CAP_FIN, CAP_C2S);
			uv_close((uv_handle_t *)&c->tcp, ecl_closed_cb);
		}
	} else {
		uv_close((uv_handle_t *)&c->tcp, ecl_closed_cb);
	}
	uv_close((uv_handle_t *)&c->timer, ecl_closed_cb);
	uv_close((uv_handle_t *)&c->deadline, ecl_closed_cb);
}

void
eng_client_start(uv_loop_t *loop, const eng_config *cfg, const struct sockaddr *addr,
    const scn_scenario *s, const char *key, eng_client_done_cb done, void *arg)
{
	eng_client *c = xcalloc(1, sizeof(*c));
	char *tokvar;

	c->loop = loop;
	c->cfg = cfg;
	c->s = s;
	c->addr = addr;
	c->done = done;
	c->done_arg = arg;
	c->peer_close_seg = -1;
	c->rp = smtp_reply_parser_new();
	c->t = cap_transcript_new(NULL, NULL);
	if (cfg->capture_dir != NULL)
		c->wire = cap_transcript_new(NULL, NULL);
	c->res = rpt_scenario_new(s->id, s->summary, s->file);
	c->res->started_us = cap_now_us();
	for (size_t i = 0; i < s->nrefs; i++)
		rpt_scenario_add_ref(c->res, s->refs[i]);
	if (cfg->defaults)
		for (size_t i = 0; i < cfg->defaults->n; i++)
			scn_vars_set(&c->vars, cfg->defaults->v[i].name, cfg->defaults->v[i].value);
	for (size_t i = 0; i < s->nvars; i++)
		scn_vars_set(&c->vars, s->vars[i].name, s->vars[i].value);
	c->key = xstrdup(key != NULL ? key : "smtph-");
	tokvar = xasprintf("%sx", c->key);
	scn_vars_set(&c->vars, "token", tokvar);
	xfree(tokvar);
	if (cfg->overrides)
		for (size_t i = 0; i < cfg->overrides->n; i++)
			scn_vars_set(&c->vars, cfg->overrides->v[i].name, cfg->overrides->v[i].value);

	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->deadline);
	c->tcp.data = c->timer.data = c->deadline.data = c;
	c->open_handles = 3;
	uv_timer_start(&c->deadline, ecl_deadline_cb, s->deadline_ms, 0);
	/* A scenario that needs credentials the run did not give cannot be
	 * judged: SKIP, without connecting. */
	for (size_t i = 0; i < s->ncredentials; i++) {
		const char *val = scn_vars_get(&c->vars, s->credentials[i]);

		if (val == NULL || *val == '\0') {
			rpt_scenario_set(c->res, RPT_SKIP, "needs credentials: no value for \"%s\" "
			    "(give --var %s=...)", s->credentials[i], s->credentials[i]);
			ecl_finish(c);
			return;
		}
	}
	if (addr == NULL) {
		rpt_scenario_set(c->res, RPT_ERROR, "no address for %s", cfg->host);
		c->unreachable = 1;
		ecl_finish(c);
		return;
	}
	ecl_try_connect(c);
}
