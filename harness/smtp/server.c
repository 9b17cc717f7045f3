#include "harness/smtp/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/smtp/command.h"
#include "harness/smtp/path.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

/*
 * Replies. Every reply text below carries its code; the ones that count
 * as a refused command go through srv_error(), which answers 421 instead
 * once the client has used up errors_max.
 */
#define R_OK		"250 2.0.0 Ok"
#define R_SEQ_EHLO	"503 5.5.1 Error: send EHLO or HELO first"
#define R_SEQ_MAIL	"503 5.5.1 Error: need MAIL command"
#define R_SEQ_NESTED	"503 5.5.1 Error: nested MAIL command"
#define R_NO_RCPT	"554 5.5.1 Error: no valid recipients"
#define R_UNKNOWN	"500 5.5.2 Error: command not recognized"
#define R_TOO_LONG	"500 5.5.2 Error: line too long"
#define R_BARE_EOL	"500 5.5.2 Error: bare CR or LF in command line (RFC 5321 2.3.8)"
#define R_NUL		"500 5.5.2 Error: NUL in command line"
#define R_NOT_IMPL	"502 5.5.1 Error: command not implemented"
#define R_BAD_PARAM	"501 5.5.4 Error: invalid parameter syntax"
#define R_DUP_PARAM	"501 5.5.4 Error: parameter given twice"
#define R_UNK_PARAM	"555 5.5.4 Error: unsupported parameter"
#define R_TOO_BIG	"552 5.3.4 Error: message size exceeds fixed maximum message size"
#define R_BARE_DATA	"550 5.6.0 Error: message refused, bare CR or LF in content (RFC 5321 2.3.8)"
#define R_LONG_DATA	"500 5.5.2 Error: message refused, content line over 1000 octets (RFC 5321 4.5.3.1.6)"
#define R_STORE_FAIL	"451 4.3.0 Error: local storage failure, try again later"

typedef struct srv_cmd_row srv_cmd_row;

struct smtp_srv {
	smtp_srv_config cfg;
	char *hostname;
	smtp_srv_state state;
	smtp_srv_stats stats;

	/* the command line being assembled (RFC 5321 §2.3.8: CRLF only) */
	vbuf line;
	int line_cr;		/* last byte was a CR */
	int line_bare;		/* a bare CR or LF inside */
	int line_long;		/* over line_max; the rest is skipped */

	/* session */
	char *helo;
	int esmtp;

	/* transaction */
	char *mail_from;
	smtp_srv_rcpt *rcpts;
	size_t nrcpts;
	size_t rcpts_cap;
	smtp_srv_body body;
	int smtputf8;
	char *ret;
	char *envid;
	unsigned long long declared_size;
	int bdat_used;		/* a chunk was sent: DATA is refused */
	const char *txn_failed;	/* a chunk failed: later chunks get this reply */
	vbuf content;
	int too_big;

	/* DATA content scanner */
	int d_bol;		/* at the start of a line */
	int d_cr;		/* a CR seen, its meaning not known yet */
	int d_dot;		/* the line began with a dot, dropped */
	size_t d_linelen;	/* octets of the current line, unstuffed */
	int d_bare;		/* a bare CR or LF in the content */
	int d_long;		/* a line over SMTP_TEXT_LINE_MAX */

	/* BDAT chunk */
	unsigned long long chunk_left;
	unsigned long long chunk_size;
	int chunk_last;
	const char *chunk_err;	/* reply for a chunk that is read and dropped */
	smtp_srv_state chunk_back;	/* state to return to after an error */
};

/* ---- states and replies ----------------------------------------------- */

const char *
smtp_srv_state_str(smtp_srv_state st)
{
	switch (st) {
	case SMTP_SRV_INIT:
		return "INIT";
	case SMTP_SRV_READY:
		return "READY";
	case SMTP_SRV_MAIL:
		return "MAIL";
	case SMTP_SRV_DATA:
		return "DATA";
	case SMTP_SRV_CHUNK:
		return "CHUNK";
	case SMTP_SRV_CLOSED:
		return "CLOSED";
	}
	return "?";
}

static void
srv_enter_state(smtp_srv *s, smtp_srv_state st)
{
	if (s->state == st)
		return;
	if (s->cfg.trace != NULL)
		s->cfg.trace(s->cfg.trace_arg, s->state, st);
	s->state = st;
}

static void __attribute__((format(printf, 3, 4)))
srv_reply(smtp_srv *s, vbuf *out, const char *fmt, ...)
{
	va_list ap;
	char buf[SMTP_REPLY_LINE_MAX];
	int n;

	(void)s;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	/* Our own texts are short; a cut one is still one valid line. */
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)(sizeof(buf) - 3);
	vbuf_append(out, buf, (size_t)n);
	vbuf_append(out, "\r\n", 2);
}

/* A refused command: counted, and past errors_max the session ends with
 * 421 (RFC 5321 §7.8: only after a number of error replies). */
static void
srv_error(smtp_srv *s, vbuf *out, const char *reply)
{
	s->stats.errors++;
	if (s->stats.errors > s->cfg.errors_max) {
		srv_reply(s, out, "421 4.7.0 %s Error: too many errors", s->hostname);
		srv_enter_state(s, SMTP_SRV_CLOSED);
		return;
	}
	srv_reply(s, out, "%s", reply);
}

/* An injected fault for what (cfg.fault): 0 none, 1 answered (or the
 * session dropped) in its place. */
static int
srv_fault(smtp_srv *s, vbuf *out, const char *what, const char *mailbox)
{
	int code;

	if (s->cfg.fault == NULL)
		return 0;
	code = s->cfg.fault(s->cfg.fault_arg, what, mailbox);
	if (code == SMTP_SRV_FAULT_DROP) {
		srv_enter_state(s, SMTP_SRV_CLOSED);
		return 1;
	}
	if (code < 400 || code > 599)
		return 0;
	srv_reply(s, out, "%d %d.3.0 Error: injected fault", code, code / 100);
	return 1;
}

/* ---- the transaction ---------------------------------------------------- */

static void
srv_txn_reset(smtp_srv *s)
{
	xfree(s->mail_from);
	s->mail_from = NULL;
	for (size_t i = 0; i < s->nrcpts; i++) {
		xfree(s->rcpts[i].mailbox);
		xfree(s->rcpts[i].notify);
		xfree(s->rcpts[i].orcpt);
	}
	s->nrcpts = 0;
	s->body = SMTP_SRV_BODY_NONE;
	s->smtputf8 = 0;
	xfree(s->ret);
	xfree(s->envid);
	s->ret = s->envid = NULL;
	s->declared_size = 0;
	s->bdat_used = 0;
	s->txn_failed = NULL;
	s->too_big = 0;
	/* Keep the memory of a big message for the next one, up to a point. */
	if (s->content.cap > 1024 * 1024)
		vbuf_free(&s->content);
	vbuf_reset(&s->content);
	if (s->state == SMTP_SRV_MAIL || s->state == SMTP_SRV_DATA || s->state == SMTP_SRV_CHUNK)
		srv_enter_state(s, SMTP_SRV_READY);
}

/* Appends content octets, up to size_max; past it only notes the fact. */
static void
srv_content(smtp_srv *s, const char *p, size_t n)
{
	if (s->too_big)
		return;
	if (n > s->cfg.size_max - s->content.len) {
		s->too_big = 1;
		return;
	}
	vbuf_append(&s->content, p, n);
}

/* Bare CR/LF and over-long lines in assembled content (BDAT). */
static void
srv_content_scan(const char *p, size_t len, int *bare, int *longl)
{
	size_t linelen = 0;

	*bare = *longl = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			if (linelen + 2 > SMTP_TEXT_LINE_MAX)
				*longl = 1;
			linelen = 0;
			i++;
			continue;
		}
		if (p[i] == '\r' || p[i] == '\n')
			*bare = 1;
		linelen++;
	}
	if (linelen + 2 > SMTP_TEXT_LINE_MAX)
		*longl = 1;
}

/* The message is complete: refuse it or hand it over, then end the
 * transaction. */
static void
srv_message_end(smtp_srv *s, vbuf *out, int bare, int longl, int chunked)
{
	smtp_srv_msg m;
	char id[64] = "";

	if (s->too_big) {
		srv_reply(s, out, "%s", R_TOO_BIG);
		s->stats.refused++;
	} else if (bare) {
		srv_reply(s, out, "%s", R_BARE_DATA);
		s->stats.refused++;
	} else if (longl) {
		srv_reply(s, out, "%s", R_LONG_DATA);
		s->stats.refused++;
	} else if (srv_fault(s, out, "DATA", NULL)) {
		s->stats.refused++;
	} else {
		memset(&m, 0, sizeof(m));
		m.helo = s->helo ? s->helo : "";
		m.esmtp = s->esmtp;
		m.mail_from = s->mail_from ? s->mail_from : "";
		m.rcpts = s->rcpts;
		m.nrcpts = s->nrcpts;
		m.body = s->body;
		m.smtputf8 = s->smtputf8;
		m.ret = s->ret;
		m.envid = s->envid;
		m.declared_size = s->declared_size;
		m.chunked = chunked;
		m.content = s->content.data ? s->content.data : "";
		m.content_len = s->content.len;
		if (s->cfg.deliver != NULL &&
		    s->cfg.deliver(s->cfg.deliver_arg, &m, id, sizeof(id)) != 0) {
			srv_reply(s, out, "%s", R_STORE_FAIL);
			s->stats.refused++;
		} else {
			id[sizeof(id) - 1] = '\0';
			if (id[0])
				srv_reply(s, out, "250 2.0.0 Ok: queued as %s", id);
			else
				srv_reply(s, out, "250 2.0.0 Ok: message accepted");
			s->stats.accepted++;
		}
	}
	srv_txn_reset(s);
}

/* ---- EHLO, HELO -------------------------------------------------------- */

/* The argument: printable ASCII (RFC 6531 §3.7.1 keeps EHLO names ASCII). */
static int
srv_helo_arg_ok(const smtp_cmd *c)
{
	if (c->args_len == 0)
		return 0;
	for (size_t i = 0; i < c->args_len; i++)
		if ((unsigned char)c->args[i] < 32 || (unsigned char)c->args[i] > 126)
			return 0;
	return 1;
}

static void
srv_helo_common(smtp_srv *s, const smtp_cmd *c, int esmtp)
{
	srv_txn_reset(s);	/* RFC 5321 §4.1.4: like RSET */
	xfree(s->helo);
	s->helo = xstrndup(c->args, c->args_len);
	s->esmtp = esmtp;
	srv_enter_state(s, SMTP_SRV_READY);
}

/* RFC 2034 §3: EHLO and HELO replies carry no enhanced codes; a refused
 * EHLO leaves the state as it was (RFC 5321 §4.1.4). */
static void
srv_do_ehlo(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (!srv_helo_arg_ok(c)) {
		srv_error(s, out, "501 Syntax: EHLO hostname");
		return;
	}
	srv_helo_common(s, c, 1);
	srv_reply(s, out, "250-%s", s->hostname);
	srv_reply(s, out, "250-PIPELINING");
	srv_reply(s, out, "250-SIZE %llu", s->cfg.size_max);
	srv_reply(s, out, "250-8BITMIME");
	srv_reply(s, out, "250-BINARYMIME");
	srv_reply(s, out, "250-CHUNKING");
	srv_reply(s, out, "250-SMTPUTF8");
	if (!s->cfg.no_dsn)
		srv_reply(s, out, "250-DSN");
	srv_reply(s, out, "250-ENHANCEDSTATUSCODES");
	srv_reply(s, out, "250 HELP");
}

static void
srv_do_helo(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (!srv_helo_arg_ok(c)) {
		srv_error(s, out, "501 Syntax: HELO hostname");
		return;
	}
	srv_helo_common(s, c, 0);
	srv_reply(s, out, "250 %s", s->hostname);
}

/* ---- MAIL, RCPT ---------------------------------------------------------- */

/* "FROM:" or "TO:" (any case), then optional spaces: returns where the
 * path starts, or NULL. Spaces after the colon break RFC 5321's grammar
 * but are common; they are tolerated (§4.1.1 is about what clients send). */
static const char *
srv_prefix(const smtp_cmd *c, const char *kw, size_t *rest)
{
	size_t n = strlen(kw), pos;

	if (c->args_len < n || strncasecmp(c->args, kw, n) != 0)
		return NULL;
	pos = n;
	while (pos < c->args_len && c->args[pos] == ' ')
		pos++;
	*rest = c->args_len - pos;
	return c->args + pos;
}

static int
srv_digits(const char *p, size_t n, size_t maxd, unsigned long long *v)
{
	unsigned long long x = 0;

	if (n == 0 || n > maxd)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (x > (~0ULL - 9) / 10)
			return -1;
		x = x * 10 + (unsigned)(p[i] - '0');
	}
	*v = x;
	return 0;
}

static int
srv_val_is(const smtp_param *p, const char *v)
{
	return p->val != NULL && strlen(v) == p->vallen && strncasecmp(p->val, v, p->vallen) == 0;
}

/* RFC 3461 §4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY. */
static int
srv_notify_ok(const smtp_param *p)
{
	size_t pos = 0;
	int never = 0, words = 0;

	if (p->val == NULL)
		return 0;
	while (pos <= p->vallen) {
		const char *w = p->val + pos;
		const char *comma = memchr(w, ',', p->vallen - pos);
		size_t wl = comma ? (size_t)(comma - w) : p->vallen - pos;

		if (wl == 5 && strncasecmp(w, "NEVER", 5) == 0)
			never = 1;
		else if (!((wl == 7 && strncasecmp(w, "SUCCESS", 7) == 0) ||
		    (wl == 7 && strncasecmp(w, "FAILURE", 7) == 0) ||
		    (wl == 5 && strncasecmp(w, "DELAY", 5) == 0)))
			return 0;
		words++;
		pos += wl + 1;
		if (comma == NULL)
			break;
	}
	return !(never && words > 1);
}

/* RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters. */
static int
srv_orcpt_ok(const smtp_param *p)
{
	const char *semi;
	size_t tl;

	if (p->val == NULL || p->vallen > 500)
		return 0;
	semi = memchr(p->val, ';', p->vallen);
	if (semi == NULL || semi == p->val)
		return 0;
	tl = (size_t)(semi - p->val);
	for (size_t i = 0; i < tl; i++) {
		char ch = p->val[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return smtp_xtext_valid(semi + 1, p->vallen - tl - 1);
}

static void
srv_do_mail(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	smtp_param params[SMTP_PARAMS_MAX];
	const char *path;
	size_t rest, used;
	smtp_path p;
	int n, utf8;
	int seen_size = 0, seen_body = 0, seen_utf8 = 0, seen_ret = 0, seen_envid = 0;
	const smtp_param *ret = NULL, *envid = NULL;
	unsigned long long size = 0;
	smtp_srv_body body = SMTP_SRV_BODY_NONE;

	if (s->state == SMTP_SRV_INIT) {
		srv_error(s, out, R_SEQ_EHLO);
		return;
	}
	if (s->state == SMTP_SRV_MAIL) {
		srv_error(s, out, R_SEQ_NESTED);
		return;
	}
	if ((path = srv_prefix(c, "FROM:", &rest)) == NULL) {
		srv_error(s, out, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (smtp_path_parse(path, rest, SMTP_PATH_ALLOW_NULL, &p, &used) != 0) {
		srv_error(s, out, "501 5.1.7 Error: bad sender address syntax");
		return;
	}
	n = smtp_params_split(path + used, rest - used, params, SMTP_PARAMS_MAX, &utf8);
	if (n < 0) {
		smtp_path_clear(&p);
		srv_error(s, out, R_BAD_PARAM);
		return;
	}
	for (int i = 0; i < n; i++) {
		const smtp_param *q = &params[i];
		const char *bad = NULL;

		if (smtp_param_is(q, "SIZE")) {
			if (seen_size++)
				bad = R_DUP_PARAM;
			else if (q->val == NULL || srv_digits(q->val, q->vallen, 20, &size) != 0)
				bad = "501 5.5.4 Error: SIZE takes 1 to 20 digits";
		} else if (smtp_param_is(q, "BODY")) {
			if (seen_body++)
				bad = R_DUP_PARAM;
			else if (srv_val_is(q, "7BIT"))
				body = SMTP_SRV_BODY_7BIT;
			else if (srv_val_is(q, "8BITMIME"))
				body = SMTP_SRV_BODY_8BITMIME;
			else if (srv_val_is(q, "BINARYMIME"))
				body = SMTP_SRV_BODY_BINARYMIME;
			else
				bad = "501 5.5.4 Error: BODY takes 7BIT, 8BITMIME or BINARYMIME";
		} else if (smtp_param_is(q, "SMTPUTF8")) {
			if (seen_utf8++)
				bad = R_DUP_PARAM;
			else if (q->val != NULL)
				bad = "501 5.5.4 Error: SMTPUTF8 takes no value";
		} else if (s->cfg.no_dsn && (smtp_param_is(q, "RET") || smtp_param_is(q, "ENVID"))) {
			/* RFC 5321 §4.1.1.11: a parameter of an extension not offered. */
			bad = R_UNK_PARAM;
		} else if (smtp_param_is(q, "RET")) {
			if (seen_ret++)
				bad = R_DUP_PARAM;
			else if (!srv_val_is(q, "FULL") && !srv_val_is(q, "HDRS"))
				bad = "501 5.5.4 Error: RET takes FULL or HDRS";
			ret = q;
		} else if (smtp_param_is(q, "ENVID")) {
			if (seen_envid++)
				bad = R_DUP_PARAM;
			else if (q->val == NULL || q->vallen > 100 ||
			    !smtp_xtext_valid(q->val, q->vallen))
				bad = "501 5.5.4 Error: ENVID takes xtext of at most 100 characters";
			envid = q;
		} else {
			bad = R_UNK_PARAM;
		}
		if (bad != NULL) {
			smtp_path_clear(&p);
			srv_error(s, out, bad);
			return;
		}
	}
	if (seen_size && size > s->cfg.size_max) {
		/* RFC 1870 §6.1: over the fixed maximum is permanent. */
		smtp_path_clear(&p);
		srv_reply(s, out, "%s", R_TOO_BIG);
		return;
	}
	if (p.utf8 && !seen_utf8) {
		/* RFC 6531 §3.5: an address that needs SMTPUTF8, on MAIL. */
		smtp_path_clear(&p);
		srv_reply(s, out, "550 5.6.7 Error: non-ASCII sender address needs SMTPUTF8");
		return;
	}
	if (srv_fault(s, out, "MAIL", NULL)) {
		smtp_path_clear(&p);
		return;
	}
	s->mail_from = p.mailbox;
	p.mailbox = NULL;
	s->declared_size = size;
	s->body = body;
	s->smtputf8 = seen_utf8;
	s->ret = ret ? xstrndup(ret->val, ret->vallen) : NULL;
	s->envid = envid ? xstrndup(envid->val, envid->vallen) : NULL;
	srv_enter_state(s, SMTP_SRV_MAIL);
	srv_reply(s, out, "250 2.1.0 Ok");
}

static void
srv_do_rcpt(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	smtp_param params[SMTP_PARAMS_MAX];
	const smtp_param *notify = NULL, *orcpt = NULL;
	const char *path;
	size_t rest, used;
	smtp_path p;
	smtp_srv_rcpt *r;
	int n, utf8;

	if (s->state != SMTP_SRV_MAIL) {
		srv_error(s, out, s->state == SMTP_SRV_INIT ? R_SEQ_EHLO : R_SEQ_MAIL);
		return;
	}
	if ((path = srv_prefix(c, "TO:", &rest)) == NULL) {
		srv_error(s, out, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (smtp_path_parse(path, rest, SMTP_PATH_ALLOW_POSTMASTER, &p, &used) != 0) {
		srv_error(s, out, "501 5.1.3 Error: bad recipient address syntax");
		return;
	}
	n = smtp_params_split(path + used, rest - used, params, SMTP_PARAMS_MAX, &utf8);
	if (n < 0) {
		smtp_path_clear(&p);
		srv_error(s, out, R_BAD_PARAM);
		return;
	}
	for (int i = 0; i < n; i++) {
		const smtp_param *q = &params[i];
		const char *bad = NULL;

		if (s->cfg.no_dsn && (smtp_param_is(q, "NOTIFY") || smtp_param_is(q, "ORCPT"))) {
			bad = R_UNK_PARAM;
		} else if (smtp_param_is(q, "NOTIFY")) {
			if (notify != NULL)
				bad = R_DUP_PARAM;
			else if (!srv_notify_ok(q))
				bad = "501 5.5.4 Error: NOTIFY takes NEVER or SUCCESS,FAILURE,DELAY";
			notify = q;
		} else if (smtp_param_is(q, "ORCPT")) {
			if (orcpt != NULL)
				bad = R_DUP_PARAM;
			else if (!srv_orcpt_ok(q))
				bad = "501 5.5.4 Error: ORCPT takes addr-type;xtext";
			orcpt = q;
		} else {
			bad = R_UNK_PARAM;
		}
		if (bad != NULL) {
			smtp_path_clear(&p);
			srv_error(s, out, bad);
			return;
		}
	}
	if (p.utf8 && !s->smtputf8) {
		/* RFC 6531 §3.5: 553 with X.6.7 for a RCPT needing SMTPUTF8. */
		smtp_path_clear(&p);
		srv_reply(s, out, "553 5.6.7 Error: non-ASCII recipient address needs SMTPUTF8");
		return;
	}
	if (s->nrcpts >= s->cfg.rcpt_max) {
		/* RFC 5321 §4.5.3.1.10: 452 past the limit; those taken stay. */
		smtp_path_clear(&p);
		srv_reply(s, out, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (srv_fault(s, out, "RCPT", p.mailbox)) {
		smtp_path_clear(&p);
		return;
	}
	s->rcpts = xgrow(s->rcpts, &s->rcpts_cap, s->nrcpts + 1, sizeof(*s->rcpts));
	r = &s->rcpts[s->nrcpts++];
	r->mailbox = p.mailbox;
	r->notify = notify ? xstrndup(notify->val, notify->vallen) : NULL;
	r->orcpt = orcpt ? xstrndup(orcpt->val, orcpt->vallen) : NULL;
	srv_reply(s, out, "250 2.1.5 Ok");
}

/* ---- DATA ------------------------------------------------------------------ */

static void
srv_do_data(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (c->args_len > 0) {
		srv_error(s, out, "501 5.5.4 Syntax: DATA (no argument)");
		return;
	}
	if (s->state != SMTP_SRV_MAIL) {
		srv_error(s, out, s->state == SMTP_SRV_INIT ? R_SEQ_EHLO : R_SEQ_MAIL);
		return;
	}
	if (s->bdat_used) {
		/* RFC 3030 §2: no DATA in a transaction that used BDAT. */
		srv_error(s, out, "503 5.5.1 Error: DATA after BDAT in one transaction");
		return;
	}
	if (s->body == SMTP_SRV_BODY_BINARYMIME) {
		/* RFC 3030 §3: BINARYMIME content only by BDAT. */
		srv_error(s, out, "503 5.5.1 Error: BODY=BINARYMIME needs BDAT");
		return;
	}
	if (s->nrcpts == 0) {
		/* RFC 2920 §3.2 (3): no 354 without a valid recipient. */
		srv_error(s, out, R_NO_RCPT);
		return;
	}
	vbuf_reset(&s->content);
	s->too_big = 0;
	s->d_bol = 1;		/* the CRLF of "DATA" starts the first line */
	s->d_cr = s->d_dot = s->d_bare = s->d_long = 0;
	s->d_linelen = 0;
	srv_enter_state(s, SMTP_SRV_DATA);
	srv_reply(s, out, "354 End data with <CR><LF>.<CR><LF>");
}

/*
 * Message content after 354 (RFC 5321 §4.1.1.4, §4.5.2). Lines end at
 * CRLF only; a line that is "." ends the data, a leading dot of any other
 * line is dropped. A bare CR or LF stays a byte of its line (and is
 * remembered), so no other sequence ever ends the data. Returns the
 * octets used; when the data ended, the state has changed.
 */
static size_t
srv_data_feed(smtp_srv *s, const char *buf, size_t len, vbuf *out)
{
	size_t i = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)buf[i];

		if (s->d_cr) {
			s->d_cr = 0;
			if (ch == '\n') {
				i++;
				if (s->d_dot && s->d_linelen == 0) {
					srv_message_end(s, out, s->d_bare, s->d_long, 0);
					return i;
				}
				srv_content(s, "\r\n", 2);
				if (s->d_linelen + 2 > SMTP_TEXT_LINE_MAX)
					s->d_long = 1;
				s->d_bol = 1;
				s->d_dot = 0;
				s->d_linelen = 0;
				continue;
			}
			/* A bare CR: a byte of the line; look at ch again. */
			s->d_bare = 1;
			srv_content(s, "\r", 1);
			s->d_linelen++;
			continue;
		}
		if (s->d_bol && ch == '.') {
			s->d_dot = 1;
			s->d_bol = 0;
			i++;
			continue;
		}
		s->d_bol = 0;
		if (ch == '\r') {
			s->d_cr = 1;
			i++;
			continue;
		}
		if (ch == '\n') {
			s->d_bare = 1;
			srv_content(s, "\n", 1);
			s->d_linelen++;
			i++;
			continue;
		}
		size_t j = i + 1;

		while (j < len && buf[j] != '\r' && buf[j] != '\n')
			j++;
		srv_content(s, buf + i, j - i);
		s->d_linelen += j - i;
		i = j;
	}
	return i;
}

/* ---- BDAT (RFC 3030) --------------------------------------------------------- */

static void
srv_chunk_end(smtp_srv *s, vbuf *out)
{
	int bare = 0, longl = 0;

	if (s->chunk_err != NULL) {
		const char *err = s->chunk_err;

		s->chunk_err = NULL;
		srv_enter_state(s, s->chunk_back);
		if (s->chunk_back == SMTP_SRV_MAIL && s->txn_failed != NULL) {
			srv_reply(s, out, "%s", err);
			if (s->chunk_last)
				srv_txn_reset(s);
		} else {
			srv_error(s, out, err);
		}
		return;
	}
	if (s->too_big) {
		/* The chunk is read; the transaction has failed (RFC 3030 §2):
		 * later chunks get the same answer until RSET. */
		s->txn_failed = R_TOO_BIG;
		srv_enter_state(s, SMTP_SRV_MAIL);
		srv_reply(s, out, "%s", R_TOO_BIG);
		if (s->chunk_last)
			srv_txn_reset(s);
		return;
	}
	srv_enter_state(s, SMTP_SRV_MAIL);
	if (!s->chunk_last) {
		srv_reply(s, out, "250 2.0.0 Ok: %llu octets received", s->chunk_size);
		return;
	}
	if (s->body != SMTP_SRV_BODY_BINARYMIME)
		srv_content_scan(s->content.data, s->content.len, &bare, &longl);
	srv_message_end(s, out, bare, longl, 1);
}

static size_t
srv_chunk_feed(smtp_srv *s, const char *buf, size_t len, vbuf *out)
{
	size_t n = len;

	if ((unsigned long long)n > s->chunk_left)
		n = (size_t)s->chunk_left;
	if (s->chunk_err == NULL)
		srv_content(s, buf, n);
	s->chunk_left -= n;
	if (s->chunk_left == 0)
		srv_chunk_end(s, out);
	return n;
}

static void
srv_do_bdat(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	const char *sp = memchr(c->args, ' ', c->args_len);
	size_t dl = sp ? (size_t)(sp - c->args) : c->args_len;
	unsigned long long size;
	int last = 0;

	if (srv_digits(c->args, dl, 20, &size) != 0) {
		/* No size, no chunk: what follows is read as commands. */
		srv_error(s, out, "501 5.5.4 Syntax: BDAT size [LAST]");
		return;
	}
	if (sp != NULL) {
		size_t rl = c->args_len - dl - 1;

		if (rl == 4 && strncasecmp(sp + 1, "LAST", 4) == 0) {
			last = 1;
		} else {
			srv_error(s, out, "501 5.5.4 Syntax: BDAT size [LAST]");
			return;
		}
	}
	s->chunk_size = s->chunk_left = size;
	s->chunk_last = last;
	s->chunk_err = NULL;
	s->chunk_back = s->state;
	/* RFC 3030 §2: a refused chunk is still read, then answered. */
	if (s->state != SMTP_SRV_MAIL)
		s->chunk_err = s->state == SMTP_SRV_INIT ? R_SEQ_EHLO : R_SEQ_MAIL;
	else if (s->txn_failed != NULL)
		s->chunk_err = s->txn_failed;
	else if (s->nrcpts == 0)
		s->chunk_err = R_NO_RCPT;
	if (s->chunk_err == NULL) {
		if (!s->bdat_used) {
			vbuf_reset(&s->content);
			s->too_big = 0;
		}
		s->bdat_used = 1;
		if (size > s->cfg.size_max - s->content.len)
			s->too_big = 1;
	}
	srv_enter_state(s, SMTP_SRV_CHUNK);
	if (size == 0)
		srv_chunk_end(s, out);
}

/* ---- the other commands ------------------------------------------------------- */

static void
srv_do_rset(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (c->args_len > 0) {
		srv_error(s, out, "501 5.5.4 Syntax: RSET (no argument)");
		return;
	}
	srv_txn_reset(s);
	srv_reply(s, out, R_OK);
}

static void
srv_do_noop(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	(void)c;	/* RFC 5321 §4.1.1.9: any argument is ignored */
	srv_reply(s, out, R_OK);
}

static void
srv_do_quit(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (c->args_len > 0) {
		srv_error(s, out, "501 5.5.4 Syntax: QUIT (no argument)");
		return;
	}
	srv_reply(s, out, "221 2.0.0 %s closing connection", s->hostname);
	srv_enter_state(s, SMTP_SRV_CLOSED);
}

/* RFC 5321 §3.5.3, §7.3: nothing is verified, so 252, never 250; the
 * argument is not echoed (RFC 6531 §3.7.4.2). */
static void
srv_do_vrfy(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	if (c->args_len == 0) {
		srv_error(s, out, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	srv_reply(s, out, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void
srv_do_help(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	(void)c;
	srv_reply(s, out, "214-2.0.0 smtp-harness reference server");
	srv_reply(s, out, "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
	srv_reply(s, out, "214 2.0.0 End of HELP info");
}

static void
srv_do_not_impl(smtp_srv *s, const smtp_cmd *c, vbuf *out)
{
	(void)c;
	srv_error(s, out, R_NOT_IMPL);
}

/*
 * The command table: one row per verb smtp_cmd_parse() knows. Verbs that
 * are recognised but not implemented answer 502 (RFC 5321 §4.2.4); an
 * unknown verb answers 500.
 */
struct srv_cmd_row {
	smtp_verb verb;
	void (*act)(smtp_srv *, const smtp_cmd *, vbuf *);
};

static const srv_cmd_row srv_cmds[] = {
	{ SMTP_VERB_EHLO, srv_do_ehlo },
	{ SMTP_VERB_HELO, srv_do_helo },
	{ SMTP_VERB_MAIL, srv_do_mail },
	{ SMTP_VERB_RCPT, srv_do_rcpt },
	{ SMTP_VERB_DATA, srv_do_data },
	{ SMTP_VERB_BDAT, srv_do_bdat },
	{ SMTP_VERB_RSET, srv_do_rset },
	{ SMTP_VERB_NOOP, srv_do_noop },
	{ SMTP_VERB_QUIT, srv_do_quit },
	{ SMTP_VERB_VRFY, srv_do_vrfy },
	{ SMTP_VERB_HELP, srv_do_help },
	{ SMTP_VERB_EXPN, srv_do_not_impl },
	{ SMTP_VERB_ETRN, srv_do_not_impl },
	{ SMTP_VERB_TURN, srv_do_not_impl },
	{ SMTP_VERB_STARTTLS, srv_do_not_impl },
	{ SMTP_VERB_AUTH, srv_do_not_impl },
};

static void
srv_command(smtp_srv *s, vbuf *out)
{
	const char *text = s->line.data ? s->line.data : "";
	size_t len = s->line.len;
	smtp_cmd c;

	s->stats.commands++;
	if (s->line_long) {
		srv_error(s, out, R_TOO_LONG);
		return;
	}
	if (s->line_bare) {
		srv_error(s, out, R_BARE_EOL);
		return;
	}
	if (memchr(text, '\0', len) != NULL) {
		srv_error(s, out, R_NUL);
		return;
	}
	/* RFC 5321 §4.1.1: trailing white space is tolerated. */
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	smtp_cmd_parse(text, len, &c);
	for (size_t i = 0; i < sizeof(srv_cmds) / sizeof(srv_cmds[0]); i++) {
		if (srv_cmds[i].verb == c.verb) {
			srv_cmds[i].act(s, &c, out);
			return;
		}
	}
	srv_error(s, out, R_UNKNOWN);
}

/* Assembles one command line; runs it when its CRLF arrives. Returns the
 * octets used. */
static size_t
srv_line_feed(smtp_srv *s, const char *buf, size_t len, vbuf *out)
{
	size_t text_max = s->cfg.line_max - 2;
	size_t i = 0;

	while (i < len) {
		char ch = buf[i++];

		if (s->line_cr) {
			s->line_cr = 0;
			if (ch == '\n') {
				srv_command(s, out);
				vbuf_reset(&s->line);
				s->line_bare = s->line_long = 0;
				return i;
			}
			s->line_bare = 1;
			if (s->line.len < text_max)
				vbuf_append_byte(&s->line, '\r');
			else
				s->line_long = 1;
		}
		if (ch == '\r') {
			s->line_cr = 1;
			continue;
		}
		if (ch == '\n')
			s->line_bare = 1;
		if (s->line.len < text_max)
			vbuf_append_byte(&s->line, ch);
		else
			s->line_long = 1;
	}
	return i;
}

/* ---- public ------------------------------------------------------------------- */

smtp_srv *
smtp_srv_new(const smtp_srv_config *cfg)
{
	smtp_srv *s = xcalloc(1, sizeof(*s));

	s->cfg = *cfg;
	s->hostname = xstrdup(cfg->hostname && cfg->hostname[0] ? cfg->hostname : "localhost");
	s->cfg.hostname = s->hostname;
	if (s->cfg.size_max == 0)
		s->cfg.size_max = HARNESS_SRV_SIZE_MAX;
	if (s->cfg.rcpt_max == 0)
		s->cfg.rcpt_max = HARNESS_SRV_RCPT_MAX;
	if (s->cfg.errors_max == 0)
		s->cfg.errors_max = HARNESS_SRV_ERRORS_MAX;
	if (s->cfg.line_max < SMTP_COMMAND_LINE_MAX)
		s->cfg.line_max = HARNESS_SRV_LINE_MAX;
	s->state = SMTP_SRV_INIT;
	return s;
}

void
smtp_srv_free(smtp_srv *s)
{
	if (s == NULL)
		return;
	srv_txn_reset(s);
	xfree(s->rcpts);
	vbuf_free(&s->content);
	vbuf_free(&s->line);
	xfree(s->helo);
	xfree(s->hostname);
	xfree(s);
}

void
smtp_srv_greeting(smtp_srv *s, vbuf *out)
{
	srv_reply(s, out, "220 %s ESMTP smtp-harness", s->hostname);
}

void
smtp_srv_feed(smtp_srv *s, const char *buf, size_t len, vbuf *out)
{
	size_t pos = 0;

	while (pos < len) {
		switch (s->state) {
		case SMTP_SRV_CLOSED:
			return;
		case SMTP_SRV_DATA:
			pos += srv_data_feed(s, buf + pos, len - pos, out);
			break;
		case SMTP_SRV_CHUNK:
			pos += srv_chunk_feed(s, buf + pos, len - pos, out);
			break;
		default:
			pos += srv_line_feed(s, buf + pos, len - pos, out);
			break;
		}
	}
}

void
smtp_srv_timeout(smtp_srv *s, vbuf *out)
{
	if (s->state == SMTP_SRV_CLOSED)
		return;
	srv_reply(s, out, "421 4.4.2 %s Error: timeout exceeded", s->hostname);
	srv_enter_state(s, SMTP_SRV_CLOSED);
}

void
smtp_srv_shutdown(smtp_srv *s, vbuf *out)
{
	if (s->state == SMTP_SRV_CLOSED)
		return;
	srv_reply(s, out, "421 4.3.2 %s Service shutting down, closing connection", s->hostname);
	srv_enter_state(s, SMTP_SRV_CLOSED);
}

int
smtp_srv_closed(const smtp_srv *s)
{
	return s->state == SMTP_SRV_CLOSED;
}

smtp_srv_state
smtp_srv_get_state(const smtp_srv *s)
{
	return s->state;
}

const smtp_srv_stats *
smtp_srv_get_stats(const smtp_srv *s)
{
	return &s->stats;
}
