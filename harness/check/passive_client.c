/*
 * passive_client - the client-side checks run on every transcript in which
 * the harness played the server (see passive.h).
 *
 * The client under test is judged by what it wrote (C2S) and when, read
 * against what the harness answered (S2C). "When" is wire order: segment
 * indices. A client byte in a segment before the one that carries a reply
 * was sent before that reply arrived. Each check is one static function
 * named after the catalog row it judges; it reports the first offence
 * with evidence at the offending bytes (or the FIN/RST), and marks the
 * row passed when it examined something and found nothing. Where a
 * transcript cannot tell a broken client from one that gave up waiting
 * (no reply came, the session was cut, TLS hid the rest), nothing is
 * said: a conformant client must never get a FAIL.
 */
#include "harness/check/passive.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/check/catalog.h"
#include "harness/smtp/codes.h"
#include "harness/smtp/line.h"
#include "harness/smtp/path.h"
#include "harness/util/harness_limits.h"

#define ID_OPEN		"rfc5321.4.1.1.1.client-session-open"
#define ID_LOCKSTEP	"rfc5321.4.3.1.lockstep-client"
#define ID_ENDERS	"rfc2920.3.1.group-enders-last"
#define ID_AFTER_354	"rfc5321.3.3.client-data-after-354-only"
#define ID_STUFFING	"rfc5321.4.5.2.client-dot-stuffing"
#define ID_BARE		"rfc5321.2.3.8.client-no-bare-cr-lf"
#define ID_CANONICAL	"rfc3030.2.client-canonical-crlf"
#define ID_LINE_998	"rfc5322.2.1.1.client-line-998"
#define ID_QUIT		"rfc5321.4.1.1.10.client-quit"
#define ID_EVERY_STATUS	"rfc2920.3.1.check-every-status"
#define ID_PARAMS	"rfc5321.4.1.1.3.client-params-advertised"
#define ID_EHLO_ARG	"rfc5321.4.1.1.1.ehlo-argument"
#define ID_SIZE		"rfc1870.6.2.client-reply-handling"
#define ID_8BIT		"rfc6152.3.client-8bit-rules"
#define ID_DOUBLE_MAIL	"rfc5321.4.1.4.out-of-order-503"
#define ID_EXACT_SYNTAX	"rfc5321.4.1.1.client-exact-syntax"
#define ID_BDAT		"rfc3030.2.client-bdat-discipline"
#define ID_NO_UTF8	"rfc6531.3.2.client-no-utf8-unless-offered"
#define ID_UTF8_PARAM	"rfc6531.3.4.client-param-use"
#define ID_AUTH_CANCEL	"rfc4954.4.client-cancel-bad-challenge"

/* Every id above: what `smtp-harness coverage` counts as exercised by the
 * client-side checks (test_coverage keeps it equal to the ids in
 * this file). */
const char *const chk_passive_client_ids[] = {
	ID_OPEN, ID_LOCKSTEP, ID_ENDERS, ID_AFTER_354, ID_STUFFING, ID_BARE,
	ID_CANONICAL, ID_LINE_998, ID_QUIT, ID_EVERY_STATUS, ID_PARAMS, ID_EHLO_ARG,
	ID_SIZE, ID_8BIT, ID_DOUBLE_MAIL, ID_EXACT_SYNTAX, ID_BDAT, ID_NO_UTF8, ID_UTF8_PARAM,
	ID_AUTH_CANCEL, NULL
};

/* Bytes of a client line quoted in a message. */
#define PC_QUOTE_MAX	80
/* A QUIT sent this long after an unanswered command is a client giving
 * up on a slow server (RFC 5321 §4.5.3.2), not one pipelining: the
 * timeout rows judge that, not lock-step. */
#define PC_GIVE_UP_MS	30000

typedef struct pc {
	const cap_transcript *t;
	const dlg *d;
	rpt_scenario *sc;
	const char *c2s;		/* the client's stream */
	size_t c2s_len;
} pc;

/* ---- findings ------------------------------------------------------ */

static void __attribute__((format(printf, 6, 7)))
pc_emit_at(pc *p, const char *id, rpt_verdict v, size_t off, size_t len, const char *fmt, ...)
{
	rpt_evidence ev;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rpt_evidence_at(&ev, p->t, CAP_C2S, off, len);
	chk_emit(p->sc, id, v, 0, &ev, "%s", msg);
	rpt_evidence_clear(&ev);
}

static void __attribute__((format(printf, 5, 6)))
pc_emit_seg(pc *p, const char *id, rpt_verdict v, size_t seg, const char *fmt, ...)
{
	rpt_evidence ev;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rpt_evidence_segment(&ev, p->t, seg);
	chk_emit(p->sc, id, v, 0, &ev, "%s", msg);
	rpt_evidence_clear(&ev);
}

/* A client line for a message: printable ASCII, the rest as \xHH, cut.
 * One static buffer per slot so that two quotes fit in one message. */
static const char *
pc_quote(const char *s, size_t len, int slot)
{
	static _Thread_local char buf[2][PC_QUOTE_MAX * 4 + 8];
	char *b = buf[slot & 1];
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < sizeof(buf[0]); i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == PC_QUOTE_MAX) {
			memcpy(b + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			b[o++] = (char)c;
		else
			o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "\\x%02x", c);
	}
	b[o] = '\0';
	return b;
}

/* What an exchange was, for messages. */
static const char *
pc_what(const dlg_exchange *ex)
{
	switch (ex->kind) {
	case DLG_GREETING:
		return "the connection";
	case DLG_CONTENT:
		return "the message content";
	case DLG_BDAT:
		return "BDAT";
	default:
		break;
	}
	return ex->cmd.verb != SMTP_VERB_UNKNOWN ? smtp_verb_str(ex->cmd.verb) :
	    "an unknown command";
}

static int
pc_is_cmd(const dlg_exchange *ex, smtp_verb v)
{
	return ex->kind == DLG_COMMAND && ex->cmd.verb == v;
}

/* The client began sending `next` before the reply to `prev` had
 * arrived whole: a reply is complete only with the CRLF of its last line
 * (RFC 5321 §4.2.1), so a client that acts on the first line of a
 * multi-line reply sent in pieces is early too. Without a reply nothing
 * can be said (the client may have given up). */
static int
pc_before_reply(const dlg_exchange *prev, const dlg_exchange *next)
{
	return prev->reply != NULL && next->c2s_seg_first < prev->s2c_seg_last;
}

/* `next` is a QUIT sent at least PC_GIVE_UP_MS after `prev`. */
static int
pc_gave_up(const pc *p, const dlg_exchange *prev, const dlg_exchange *next)
{
	uint64_t t0, t1;

	if (!pc_is_cmd(next, SMTP_VERB_QUIT))
		return 0;
	t0 = p->t->segs[prev->c2s_seg_last].ts_us;
	t1 = p->t->segs[next->c2s_seg_first].ts_us;
	return t1 > t0 && t1 - t0 >= (uint64_t)PC_GIVE_UP_MS * 1000u;
}

/* Content that a server would take for a command line: an unknown verb,
 * or the lone dot of a message end. */
static int
pc_looks_like_content(const dlg_exchange *ex)
{
	return ex->kind == DLG_COMMAND && (ex->cmd.verb == SMTP_VERB_UNKNOWN ||
	    strcmp(ex->line, ".") == 0);
}

/* ---- byte scans ------------------------------------------------------ */

/*
 * The first bare CR or bare LF in C2S bytes [off, off + len), judged with
 * the bytes around the range; with `edges` 0 a CR as the last byte and an
 * LF as the first are not judged (a CRLF split between two BDAT chunks).
 * Returns 1 and sets *at and *cr.
 */
static int
pc_find_bare(const pc *p, size_t off, size_t len, int edges, size_t *at, int *cr)
{
	for (size_t k = off; k < off + len; k++) {
		char c = p->c2s[k];

		if (c == '\r' && (k + 1 >= p->c2s_len || p->c2s[k + 1] != '\n')) {
			if (!edges && k + 1 == off + len)
				continue;
			*at = k;
			*cr = 1;
			return 1;
		}
		if (c == '\n' && (k == 0 || p->c2s[k - 1] != '\r')) {
			if (!edges && k == off)
				continue;
			*at = k;
			*cr = 0;
			return 1;
		}
	}
	return 0;
}

/* The first line in [off, off + len) longer than max octets counting its
 * line end, a leading dot not counted when `stuffed` (RFC 5321
 * §4.5.3.1.6). Returns 1 and sets *at and *n (octets as counted). */
static int
pc_find_long_line(const pc *p, size_t off, size_t len, size_t max, int stuffed, size_t *at,
    size_t *n)
{
	size_t start = off;

	while (start < off + len) {
		const char *nl = memchr(p->c2s + start, '\n', off + len - start);
		size_t end = nl != NULL ? (size_t)(nl - p->c2s) + 1 : off + len;
		size_t count = end - start;

		if (stuffed && p->c2s[start] == '.')
			count--;
		if (count > max) {
			*at = start;
			*n = count;
			return 1;
		}
		start = end;
	}
	return 0;
}

/* The first octet >= 0x80 in [off, off + len). */
static int
pc_find_8bit(const pc *p, size_t off, size_t len, size_t *at)
{
	for (size_t k = off; k < off + len; k++) {
		if ((unsigned char)p->c2s[k] >= 0x80) {
			*at = k;
			return 1;
		}
	}
	return 0;
}

/* Octets a BDAT exchange's command line took, its terminator included. */
static size_t
pc_bdat_line_len(const pc *p, const dlg_exchange *ex)
{
	const char *nl = memchr(p->c2s + ex->c2s_off, '\n', ex->c2s_len);

	return nl != NULL ? (size_t)(nl - (p->c2s + ex->c2s_off)) + 1 : ex->c2s_len;
}

/* ---- MAIL and RCPT parameters ------------------------------------------ */

typedef struct pc_params {
	smtp_param v[SMTP_PARAMS_MAX];
	size_t n;
} pc_params;

/*
 * The parameters after the path of a MAIL ("FROM:") or RCPT ("TO:") line,
 * read leniently: keyword[=value] words separated by spaces. Returns 0
 * when the line does not parse far enough to tell (not judged then).
 */
static int
pc_mail_params(const dlg_exchange *ex, pc_params *out)
{
	const char *a = ex->cmd.args;
	size_t len = ex->cmd.args_len, k = 0, used = 0;
	const char *prefix = ex->cmd.verb == SMTP_VERB_MAIL ? "FROM:" : "TO:";
	size_t plen = strlen(prefix);
	smtp_path path;

	memset(out, 0, sizeof(*out));
	if (len < plen || strncasecmp(a, prefix, plen) != 0)
		return 0;
	k = plen;
	while (k < len && a[k] == ' ')
		k++;
	if (smtp_path_parse(a + k, len - k, SMTP_PATH_ALLOW_NULL | SMTP_PATH_ALLOW_POSTMASTER,
	    &path, &used) != 0)
		return 0;
	smtp_path_clear(&path);
	k += used;
	while (k < len && out->n < SMTP_PARAMS_MAX) {
		size_t s, e;

		while (k < len && a[k] == ' ')
			k++;
		if (k == len)
			break;
		s = k;
		while (k < len && a[k] != ' ')
			k++;
		e = k;
		out->v[out->n].kw = a + s;
		for (size_t j = s; j < e; j++) {
			if (a[j] == '=') {
				out->v[out->n].val = a + j + 1;
				out->v[out->n].vallen = e - j - 1;
				e = j;
				break;
			}
		}
		out->v[out->n].kwlen = e - s;
		out->n++;
	}
	return 1;
}

/* The C2S offset of a parameter of ex (its keyword points into ex->line). */
static size_t
pc_param_off(const dlg_exchange *ex, const smtp_param *pm)
{
	return ex->c2s_off + (size_t)(pm->kw - ex->line);
}

/* ---- the checks ------------------------------------------------------ */

/*
 * RFC 5321 §4.3.1 and §4.1.4 (catalog row client-session-open): the client
 * SHOULD wait for the greeting before sending anything (WARN), and MUST
 * send EHLO or HELO before MAIL (FAIL).
 */
static void
pc_check_session_open(pc *p)
{
	const dlg *d = p->d;
	const dlg_exchange *g;
	int examined = 0, failed = 0, hello = 0;

	if (d->nex > 0 && d->ex[0].kind == DLG_GREETING && d->ex[0].reply != NULL) {
		size_t seg, seg_off;

		g = &d->ex[0];
		examined = 1;
		if (p->c2s_len > 0 && cap_transcript_locate(p->t, CAP_C2S, 0, &seg, &seg_off) == 0 &&
		    seg < g->s2c_seg_last) {
			size_t early = 0;

			/* Quote only what was sent before the greeting was whole. */
			for (size_t k = seg; k < g->s2c_seg_last && k < p->t->nsegs; k++) {
				const cap_segment *s = &p->t->segs[k];

				if (s->kind == CAP_DATA && s->dir == CAP_C2S)
					early = s->off + s->len;
			}
			if (early == 0 || early > p->c2s_len)
				early = p->c2s_len;
			pc_emit_at(p, ID_OPEN, RPT_WARN, 0, early,
			    "expected no client bytes before the server's greeting, got \"%s\" "
			    "before the %d greeting arrived",
			    pc_quote(p->c2s, early < PC_QUOTE_MAX ? early : PC_QUOTE_MAX, 0),
			    g->reply->code);
			failed = 1;
		}
	}
	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (pc_is_cmd(ex, SMTP_VERB_EHLO) || pc_is_cmd(ex, SMTP_VERB_HELO)) {
			hello = 1;
		} else if (pc_is_cmd(ex, SMTP_VERB_MAIL)) {
			examined = 1;
			if (hello)
				continue;
			pc_emit_at(p, ID_OPEN, RPT_FAIL, ex->c2s_off, ex->c2s_len,
			    "expected EHLO or HELO before the first MAIL, got \"%s\" with no EHLO "
			    "or HELO before it", pc_quote(ex->line, strlen(ex->line), 0));
			failed = 1;
			break;
		}
	}
	if (examined && !failed)
		chk_pass(p->sc, ID_OPEN);
}

/*
 * The verbs whose reply the client must see before sending more (RFC 2920
 * §3.1, and the extensions' own rules), read leniently: HELO and HELP,
 * which RFC 2920 does not name and no extension defines, are left out
 * (smtp_verb_ends_group counts them, for a client that wants to be safe),
 * and AUTH with an initial response, which may finish in one round trip
 * (RFC 4954 §4), may be followed.
 */
static int
pc_ends_group(const dlg_exchange *ex)
{
	if (ex->kind != DLG_COMMAND || !smtp_verb_ends_group(ex->cmd.verb) ||
	    ex->cmd.verb == SMTP_VERB_HELO || ex->cmd.verb == SMTP_VERB_HELP)
		return 0;
	if (ex->cmd.verb == SMTP_VERB_AUTH && memchr(ex->cmd.args, ' ', ex->cmd.args_len) != NULL)
		return 0;
	return 1;
}

/*
 * RFC 5321 §4.3.1 / RFC 2920 §3 (lockstep-client): without PIPELINING in
 * force the client waits for each reply before the next command. RFC
 * 2920 §3.1 (group-enders-last): with it, nothing follows EHLO, DATA,
 * VRFY, EXPN, TURN, QUIT, NOOP, STARTTLS, AUTH (without an initial
 * response), ... until that command's reply. Bytes before the greeting
 * are session-open's; bytes after DATA are judged with DATA (below);
 * a content that runs on into unknown commands is dot-stuffing's.
 */
static void
pc_check_pipelining(pc *p)
{
	const dlg *d = p->d;
	int lock_examined = 0, lock_failed = 0, enders_examined = 0, enders_failed = 0;
	int runaway = 0;
	size_t held_until = 0;

	for (size_t j = 1; j < d->nex; j++) {
		const dlg_exchange *prev = &d->ex[j - 1], *next = &d->ex[j];
		int piped_ok;

		if (prev->kind == DLG_GREETING)
			continue;
		piped_ok = (prev->exts & SMTP_EXT_PIPELINING) != 0;
		if (piped_ok)
			enders_examined = 1;
		else
			lock_examined = 1;
		/* What was sent while DATA waited for its reply is judged
		 * with DATA; a message that ran past a lone dot, with the
		 * dot-stuffing. */
		if (pc_is_cmd(prev, SMTP_VERB_DATA) && prev->reply != NULL)
			held_until = prev->s2c_seg_last;
		if (next->c2s_seg_first < held_until)
			continue;
		if (prev->kind == DLG_CONTENT && pc_looks_like_content(next) &&
		    (prev->reply == NULL || pc_before_reply(prev, next))) {
			runaway = 1;
			continue;
		}
		if (runaway && pc_looks_like_content(next))
			continue;
		runaway = 0;
		if (!pc_before_reply(prev, next) || pc_gave_up(p, prev, next))
			continue;
		if (!piped_ok) {
			if (lock_failed)
				continue;
			pc_emit_at(p, ID_LOCKSTEP, RPT_PASS, next->c2s_off, next->c2s_len,
			    "expected the client to wait for the reply to %s before sending more "
			    "(no PIPELINING in the last EHLO reply), got \"%s\" before that reply",
			    pc_what(prev), pc_quote(next->line, strlen(next->line), 0));
			lock_failed = 1;
		} else if (pc_ends_group(prev) && !enders_failed) {
			pc_emit_at(p, ID_ENDERS, RPT_PASS, next->c2s_off, next->c2s_len,
			    "expected %s to be the last command of a pipelined group, got \"%s\" "
			    "sent before its reply", pc_what(prev),
			    pc_quote(next->line, strlen(next->line), 0));
			enders_failed = 1;
		}
	}
	if (lock_examined && !lock_failed)
		chk_pass(p->sc, ID_LOCKSTEP);
	if (enders_examined && !enders_failed)
		chk_pass(p->sc, ID_ENDERS);
}

/*
 * RFC 5321 §3.3 (client-data-after-354-only): message content only after
 * a 354. What the client sent between DATA and its reply is content when
 * the reply was 354 (the dialog then read it as content), or when, after
 * a refusal, it reads as lines no client would send as commands; other
 * commands sent there break lockstep-client or group-enders-last. A DATA
 * that got no reply is not judged.
 */
static void
pc_check_after_data(pc *p)
{
	const dlg *d = p->d;
	int examined = 0, failed = 0, lock_failed = 0, enders_failed = 0;

	for (size_t i = 0; i + 1 < d->nex; i++) {
		const dlg_exchange *data = &d->ex[i], *next = &d->ex[i + 1];
		int content = 0;

		if (!pc_is_cmd(data, SMTP_VERB_DATA) || data->reply == NULL)
			continue;
		examined = 1;
		if (!pc_before_reply(data, next) || pc_gave_up(p, data, next))
			continue;
		if (data->reply->code == 354) {
			content = next->kind == DLG_CONTENT;
		} else {
			for (size_t j = i + 1; j < d->nex && pc_before_reply(data, &d->ex[j]); j++)
				content |= pc_looks_like_content(&d->ex[j]);
		}
		if (content && !failed) {
			pc_emit_at(p, ID_AFTER_354, RPT_PASS, next->c2s_off, next->c2s_len,
			    "expected message content only after a 354 reply to DATA, got content "
			    "(\"%s\") sent before the reply \"%d\"",
			    pc_quote(p->c2s + next->c2s_off,
			    next->c2s_len < PC_QUOTE_MAX ? next->c2s_len : PC_QUOTE_MAX, 0),
			    data->reply->code);
			failed = 1;
		} else if (!content && !(data->exts & SMTP_EXT_PIPELINING) && !lock_failed) {
			pc_emit_at(p, ID_LOCKSTEP, RPT_PASS, next->c2s_off, next->c2s_len,
			    "expected the client to wait for the reply to DATA before sending more "
			    "(no PIPELINING in the last EHLO reply), got \"%s\" before that reply",
			    pc_quote(next->line, strlen(next->line), 0));
			lock_failed = 1;
		} else if (!content && (data->exts & SMTP_EXT_PIPELINING) && !enders_failed) {
			pc_emit_at(p, ID_ENDERS, RPT_PASS, next->c2s_off, next->c2s_len,
			    "expected DATA to be the last command of a pipelined group, got \"%s\" "
			    "sent before its reply", pc_quote(next->line, strlen(next->line), 0));
			enders_failed = 1;
		}
	}
	if (examined && !failed)
		chk_pass(p->sc, ID_AFTER_354);
}

/*
 * RFC 5321 §4.5.2 (client-dot-stuffing): a content line that is a lone
 * "." ends the message, so a client that did not double a leading dot
 * ends early and the rest of its message reaches the server as command
 * lines. Seen passively as content followed, before its reply, by lines
 * that are no command. (A stuffing error that ends nothing, ".x" sent
 * as is, only shows when the intended message is known.)
 */
static void
pc_check_dot_stuffing(pc *p)
{
	const dlg *d = p->d;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i], *next;

		if (ex->kind != DLG_CONTENT)
			continue;
		examined = 1;
		if (i + 1 == d->nex)
			continue;
		next = &d->ex[i + 1];
		if (!pc_looks_like_content(next) || (ex->reply != NULL && !pc_before_reply(ex, next)))
			continue;
		pc_emit_at(p, ID_STUFFING, RPT_PASS, ex->c2s_off + ex->c2s_len - 3, 3,
		    "expected content lines starting with \".\" to be sent with the dot doubled, "
		    "got a lone \".\" line followed by more content (\"%s\")",
		    pc_quote(next->line, strlen(next->line), 0));
		return;
	}
	if (examined)
		chk_pass(p->sc, ID_STUFFING);
}

/*
 * RFC 5321 §2.3.8 (client-no-bare-cr-lf): CR and LF only as CRLF, in
 * command lines and in DATA content. RFC 3030 §2 (client-canonical-crlf):
 * the same in BDAT chunks, unless the transaction declared
 * BODY=BINARYMIME, whose chunks are arbitrary octets.
 */
static void
pc_check_bare(pc *p)
{
	const dlg *d = p->d;
	int examined = 0, failed = 0, chunk_examined = 0, chunk_failed = 0, binary = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		size_t at, line_len = ex->c2s_len;
		int cr;

		if (ex->kind == DLG_GREETING)
			continue;
		if (pc_is_cmd(ex, SMTP_VERB_MAIL)) {
			pc_params pp;

			binary = 0;
			if (pc_mail_params(ex, &pp)) {
				for (size_t k = 0; k < pp.n; k++)
					binary |= smtp_param_is(&pp.v[k], "BODY") && pp.v[k].val != NULL &&
					    pp.v[k].vallen == 10 &&
					    strncasecmp(pp.v[k].val, "BINARYMIME", 10) == 0;
			}
		}
		if (ex->kind == DLG_BDAT)
			line_len = pc_bdat_line_len(p, ex);
		examined = 1;
		if (!failed && pc_find_bare(p, ex->c2s_off, line_len, 1, &at, &cr)) {
			pc_emit_at(p, ID_BARE, RPT_PASS, at, ex->c2s_len - (at - ex->c2s_off),
			    "expected CR and LF only together as CRLF, got a bare %s in %s",
			    cr ? "CR" : "LF", pc_what(ex));
			failed = 1;
		}
		if (ex->kind != DLG_BDAT || line_len == ex->c2s_len || binary)
			continue;
		chunk_examined = 1;
		if (!chunk_failed && pc_find_bare(p, ex->c2s_off + line_len, ex->c2s_len - line_len, 0,
		    &at, &cr)) {
			pc_emit_at(p, ID_CANONICAL, RPT_PASS, at, ex->c2s_len - (at - ex->c2s_off),
			    "expected canonical CRLF line ends in BDAT chunk data, got a bare %s "
			    "at octet %zu of the chunk", cr ? "CR" : "LF",
			    at - ex->c2s_off - line_len);
			chunk_failed = 1;
		}
	}
	if (examined && !failed)
		chk_pass(p->sc, ID_BARE);
	if (chunk_examined && !chunk_failed)
		chk_pass(p->sc, ID_CANONICAL);
}

/*
 * RFC 5322 §2.1.1 (client-line-998): no message line longer than 998
 * characters plus CRLF, i.e. 1000 octets on the wire, a stuffed dot not
 * counted (RFC 5321 §4.5.3.1.6). The "78 preferred" clause is not judged:
 * a passive check cannot tell an originating client from a relay, which
 * must not rewrap what it forwards.
 */
static void
pc_check_line_998(pc *p)
{
	const dlg *d = p->d;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		size_t at, n, off = ex->c2s_off, len = ex->c2s_len;
		int stuffed = ex->kind == DLG_CONTENT;

		if (ex->kind == DLG_BDAT) {
			size_t ll = pc_bdat_line_len(p, ex);

			off += ll;
			len -= ll;
		} else if (ex->kind != DLG_CONTENT) {
			continue;
		}
		examined = 1;
		if (!pc_find_long_line(p, off, len, SMTP_TEXT_LINE_MAX, stuffed, &at, &n))
			continue;
		pc_emit_at(p, ID_LINE_998, RPT_PASS, at, n, "expected message lines of at most %d "
		    "octets with CRLF, got a line of %zu octets in %s", SMTP_TEXT_LINE_MAX, n,
		    pc_what(ex));
		return;
	}
	if (examined)
		chk_pass(p->sc, ID_LINE_998);
}

/*
 * RFC 5321 §4.1.1.10 (client-quit): the client MUST NOT close before
 * sending QUIT (FAIL) and SHOULD wait for the 221 (WARN). Not judged: a
 * server that closed first or sent 421 (§3.8 lets the client just close),
 * a client closing while a reply was still owed (a timeout, §4.5.3.2),
 * a session hidden by TLS or cut short.
 */
static void
pc_check_quit(pc *p)
{
	const dlg *d = p->d;
	long close = d->client_fin, server_close = d->server_fin;
	const dlg_exchange *last = NULL, *quit = NULL;

	if (d->client_rst >= 0 && (close < 0 || d->client_rst < close))
		close = d->client_rst;
	if (d->server_rst >= 0 && (server_close < 0 || d->server_rst < server_close))
		server_close = d->server_rst;
	for (size_t i = 0; i < d->nex && quit == NULL; i++) {
		if (pc_is_cmd(&d->ex[i], SMTP_VERB_QUIT) &&
		    (close < 0 || d->ex[i].c2s_seg_first < (size_t)close))
			quit = &d->ex[i];
	}
	if (quit != NULL) {
		if (close >= 0 && (server_close < 0 || server_close > close) &&
		    quit->reply != NULL && quit->reply->code == 221 &&
		    quit->s2c_seg_first > (size_t)close) {
			pc_emit_seg(p, ID_QUIT, RPT_WARN, (size_t)close, "expected the client to "
			    "wait for the 221 before closing, got %s before the reply to QUIT",
			    close == d->client_fin ? "FIN" : "RST");
			return;
		}
		chk_pass(p->sc, ID_QUIT);
		return;
	}
	if (close < 0 || d->tls_start >= 0 || d->cut || p->t->truncated[CAP_C2S] ||
	    (server_close >= 0 && server_close < close))
		return;
	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (ex->reply != NULL && ex->reply->code == 421 && ex->s2c_seg_first < (size_t)close)
			return;
		if (ex->kind != DLG_GREETING && ex->c2s_seg_first < (size_t)close)
			last = ex;
	}
	for (size_t i = 0; i < d->nextra; i++) {
		if (d->extra[i].reply->code == 421 && d->extra[i].s2c_seg_first < (size_t)close)
			return;
	}
	/* No QUIT. A client still owed a reply gave up waiting. */
	if (d->nex == 0 || d->ex[0].kind != DLG_GREETING || d->ex[0].reply == NULL ||
	    d->ex[0].s2c_seg_first > (size_t)close)
		return;
	if (last != NULL && (last->reply == NULL || last->s2c_seg_first > (size_t)close))
		return;
	if (d->c2s_pending > 0)
		return;
	pc_emit_seg(p, ID_QUIT, RPT_PASS, (size_t)close, "expected QUIT before the client "
	    "closed the connection, got %s without QUIT", close == d->client_fin ? "FIN" : "RST");
}

/* The client's bytes after the last exchange, when they are the start
 * of a content that never ended and more than a lone dot cut short; sets
 * *off. */
static int
pc_pending_content(const pc *p, size_t *off)
{
	const dlg *d = p->d;
	size_t n = d->c2s_pending;

	if (n == 0 || n > p->c2s_len || d->cut || d->tls_start >= 0 || p->t->truncated[CAP_C2S])
		return 0;
	*off = p->c2s_len - n;
	if (p->c2s[*off] == '.' && (n == 1 || (n == 2 && p->c2s[*off + 1] == '\r')))
		return 0;
	return 1;
}

/*
 * RFC 2920 §3.1 (check-every-status): when every RCPT of a transaction
 * was refused and DATA still got 354, the client sends only the lone
 * dot. Judged only when every RCPT reply is in the transcript; content
 * that never ended (a client that went on with commands as if the 354
 * were a refusal) is judged by its first bytes.
 */
static void
pc_check_every_status(pc *p)
{
	const dlg *d = p->d;
	size_t nrcpt = 0, off;
	int ok = 0, unknown = 0, examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i], *content;

		if (pc_is_cmd(ex, SMTP_VERB_MAIL)) {
			nrcpt = 0;
			ok = unknown = 0;
		} else if (pc_is_cmd(ex, SMTP_VERB_RCPT)) {
			nrcpt++;
			if (ex->reply == NULL)
				unknown = 1;
			else if (ex->reply->code / 100 == 2)
				ok = 1;
		} else if (pc_is_cmd(ex, SMTP_VERB_DATA) && ex->reply != NULL &&
		    ex->reply->code == 354 && nrcpt > 0 && !ok && !unknown && i + 1 < d->nex &&
		    d->ex[i + 1].kind == DLG_CONTENT) {
			content = &d->ex[i + 1];
			examined = 1;
			if (content->c2s_len == 3)
				continue;
			pc_emit_at(p, ID_EVERY_STATUS, RPT_PASS, content->c2s_off, content->c2s_len,
			    "expected only the lone \".\" after a 354 when every RCPT was refused "
			    "(%zu RCPT refused), got %zu octets of content", nrcpt, content->c2s_len);
			return;
		} else if (pc_is_cmd(ex, SMTP_VERB_DATA) && ex->reply != NULL &&
		    ex->reply->code == 354 && nrcpt > 0 && !ok && !unknown && i + 1 == d->nex &&
		    pc_pending_content(p, &off)) {
			/* A client that took the 354 for a refusal goes on with
			 * commands, which the server reads as content that never
			 * ends. */
			pc_emit_at(p, ID_EVERY_STATUS, RPT_PASS, off, p->c2s_len - off,
			    "expected only the lone \".\" after a 354 when every RCPT was refused "
			    "(%zu RCPT refused), got \"%s\" (content, never ended)", nrcpt,
			    pc_quote(p->c2s + off, p->c2s_len - off, 0));
			return;
		}
	}
	if (examined)
		chk_pass(p->sc, ID_EVERY_STATUS);
}

/*
 * RFC 5321 §3.3 and §4.1.4 (out-of-order-503, its client clause): a client
 * never sends MAIL while a transaction is open. A MAIL answered 2yz opens
 * one; the end of the content, BDAT LAST, RSET, EHLO, HELO and QUIT close
 * it, and so, read leniently, does a refused DATA or BDAT (the server has
 * nothing to add to). The order judged is the order of sending, so a MAIL
 * pipelined right behind the final dot is fine (RFC 2920 §3.1).
 */
static void
pc_check_double_mail(pc *p)
{
	const dlg *d = p->d;
	const dlg_exchange *open = NULL;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		int refused = ex->reply != NULL && ex->reply->code / 100 != 2 &&
		    ex->reply->code != 354;

		if (ex->kind == DLG_CONTENT || pc_is_cmd(ex, SMTP_VERB_RSET) ||
		    pc_is_cmd(ex, SMTP_VERB_EHLO) || pc_is_cmd(ex, SMTP_VERB_HELO) ||
		    pc_is_cmd(ex, SMTP_VERB_QUIT) || (pc_is_cmd(ex, SMTP_VERB_DATA) && refused)) {
			open = NULL;
		} else if (ex->kind == DLG_BDAT) {
			size_t n = ex->cmd.args_len;

			if (refused || (n >= 4 && strncasecmp(ex->cmd.args + n - 4, "LAST", 4) == 0))
				open = NULL;
		} else if (pc_is_cmd(ex, SMTP_VERB_MAIL)) {
			if (open != NULL) {
				pc_emit_at(p, ID_DOUBLE_MAIL, RPT_PASS, ex->c2s_off, ex->c2s_len,
				    "expected no MAIL while a transaction is open, got \"%s\" after "
				    "\"%s\" was accepted, with no end of data, RSET or EHLO between",
				    pc_quote(ex->line, strlen(ex->line), 0),
				    pc_quote(open->line, strlen(open->line), 1));
				return;
			}
			examined = 1;
			if (ex->reply != NULL && ex->reply->code / 100 == 2)
				open = ex;
		}
	}
	if (examined)
		chk_pass(p->sc, ID_DOUBLE_MAIL);
}

/*
 * RFC 5321 §4.1.1 and §3.3 (client-exact-syntax): "MAIL FROM:<" and
 * "RCPT TO:<" with no space around the colon (any letter case), and no
 * argument on RSET, DATA or QUIT. Trailing spaces alone are let pass
 * (§4.1.1 asks servers to tolerate them).
 */
static void
pc_check_exact_syntax(pc *p)
{
	const dlg *d = p->d;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		const char *want = NULL;
		int bad;

		if (ex->kind != DLG_COMMAND)
			continue;
		switch (ex->cmd.verb) {
		case SMTP_VERB_MAIL:
			want = "FROM:<";
			break;
		case SMTP_VERB_RCPT:
			want = "TO:<";
			break;
		case SMTP_VERB_RSET:
		case SMTP_VERB_DATA:
		case SMTP_VERB_QUIT:
			break;
		default:
			continue;
		}
		examined = 1;
		if (want != NULL)
			bad = ex->cmd.args_len < strlen(want) || strncasecmp(ex->cmd.args, want,
			    strlen(want)) != 0 || ex->cmd.args != ex->line + 5;
		else
			bad = ex->cmd.args_len > 0;
		if (!bad)
			continue;
		pc_emit_at(p, ID_EXACT_SYNTAX, RPT_PASS, ex->c2s_off, ex->c2s_len,
		    "expected %s%s%s, got \"%s\"", smtp_verb_str(ex->cmd.verb), want ? " " : "",
		    want ? (ex->cmd.verb == SMTP_VERB_MAIL ? "FROM:<path>" : "TO:<path>") :
		    " with no argument", pc_quote(ex->line, strlen(ex->line), 0));
		return;
	}
	if (examined)
		chk_pass(p->sc, ID_EXACT_SYNTAX);
}

/*
 * RFC 3030 §2 (client-bdat-discipline): BDAT only when CHUNKING was
 * advertised, and no further chunk once one got a 4yz/5yz (until RSET or
 * a new transaction). Chunks pipelined before that reply arrived are
 * allowed: the server discards them (RFC 3030 §2).
 */
static void
pc_check_bdat(pc *p)
{
	const dlg *d = p->d;
	const dlg_exchange *failed = NULL;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (pc_is_cmd(ex, SMTP_VERB_MAIL) || pc_is_cmd(ex, SMTP_VERB_RSET) ||
		    pc_is_cmd(ex, SMTP_VERB_EHLO) || pc_is_cmd(ex, SMTP_VERB_HELO)) {
			failed = NULL;
			continue;
		}
		if (ex->kind != DLG_BDAT && !pc_is_cmd(ex, SMTP_VERB_BDAT))
			continue;
		examined = 1;
		if (!(ex->exts & SMTP_EXT_CHUNKING)) {
			pc_emit_at(p, ID_BDAT, RPT_PASS, ex->c2s_off, ex->c2s_len,
			    "expected BDAT only after an EHLO reply listing CHUNKING, got \"%s\" "
			    "without it", pc_quote(ex->line, strlen(ex->line), 0));
			return;
		}
		if (failed != NULL && ex->c2s_seg_first > failed->s2c_seg_first) {
			pc_emit_at(p, ID_BDAT, RPT_PASS, ex->c2s_off, ex->c2s_len,
			    "expected no further BDAT after a chunk was refused (\"%d\") until RSET, "
			    "got \"%s\"", failed->reply->code, pc_quote(ex->line, strlen(ex->line), 0));
			return;
		}
		if (failed == NULL && ex->reply != NULL && (ex->reply->code / 100 == 4 ||
		    ex->reply->code / 100 == 5))
			failed = ex;
	}
	if (examined)
		chk_pass(p->sc, ID_BDAT);
}

/* The extension a MAIL/RCPT parameter needs, or 0 for one not judged. */
static unsigned
pc_param_ext(const smtp_param *pm, const char **name)
{
	static const struct {
		const char *kw;
		unsigned ext;
		const char *name;
	} rows[] = {
		{ "SIZE", SMTP_EXT_SIZE, "SIZE" },
		{ "BODY", SMTP_EXT_8BITMIME | SMTP_EXT_CHUNKING, "8BITMIME" },
		{ "SMTPUTF8", SMTP_EXT_SMTPUTF8, "SMTPUTF8" },
		{ "RET", SMTP_EXT_DSN, "DSN" },
		{ "ENVID", SMTP_EXT_DSN, "DSN" },
		{ "NOTIFY", SMTP_EXT_DSN, "DSN" },
		{ "ORCPT", SMTP_EXT_DSN, "DSN" },
		{ "AUTH", SMTP_EXT_AUTH, "AUTH" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (smtp_param_is(pm, rows[i].kw)) {
			*name = rows[i].name;
			return rows[i].ext;
		}
	}
	return 0;
}

/*
 * RFC 5321 §4.1.1.3 (client-params-advertised): MAIL/RCPT parameters only
 * for advertised extensions (BODY= is accepted with 8BITMIME or CHUNKING,
 * whose BINARYMIME needs it). RFC 1870 §6.2 (client-reply-handling): a
 * declared SIZE above the advertised fixed maximum is a message that
 * SHOULD NOT be sent (WARN). RFC 6152 §3 (client-8bit-rules): octets
 * above 0x7F in content only with BODY=8BITMIME (or BINARYMIME, or
 * SMTPUTF8, RFC 6531 §3.4) declared, which needs 8BITMIME offered.
 */
static void
pc_check_params(pc *p)
{
	const dlg *d = p->d;
	int params_examined = 0, params_failed = 0, size_examined = 0, size_warned = 0;
	int bit8_examined = 0, bit8_failed = 0, declared = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		pc_params pp;
		size_t at;

		if (pc_is_cmd(ex, SMTP_VERB_MAIL) || pc_is_cmd(ex, SMTP_VERB_RCPT)) {
			if (!pc_mail_params(ex, &pp))
				continue;
			params_examined = 1;
			if (ex->cmd.verb == SMTP_VERB_MAIL)
				declared = 0;
			for (size_t k = 0; k < pp.n; k++) {
				const smtp_param *pm = &pp.v[k];
				const char *name = NULL;
				unsigned need = pc_param_ext(pm, &name);

				if (smtp_param_is(pm, "SMTPUTF8") || (smtp_param_is(pm, "BODY") &&
				    pm->val != NULL && ((pm->vallen == 8 &&
				    strncasecmp(pm->val, "8BITMIME", 8) == 0) || (pm->vallen == 10 &&
				    strncasecmp(pm->val, "BINARYMIME", 10) == 0))))
					declared = 1;
				if (need != 0 && !(ex->exts & need) && !params_failed) {
					pc_emit_at(p, ID_PARAMS, RPT_PASS, pc_param_off(ex, pm), pm->kwlen,
					    "expected MAIL/RCPT parameters only for advertised extensions, "
					    "got %s without %s in the last EHLO reply",
					    pc_quote(pm->kw, pm->kwlen + (pm->val ? pm->vallen + 1 : 0), 0),
					    name);
					params_failed = 1;
				}
				if (smtp_param_is(pm, "SIZE") && pm->val != NULL &&
				    (ex->exts & SMTP_EXT_SIZE) && d->have_ehlo && ex->cmd.verb ==
				    SMTP_VERB_MAIL) {
					unsigned long long n = 0;
					size_t j = 0;

					for (; j < pm->vallen && pm->val[j] >= '0' && pm->val[j] <= '9' &&
					    n < 100000000000000000ULL; j++)
						n = n * 10 + (unsigned)(pm->val[j] - '0');
					if (j == 0)
						continue;
					size_examined = 1;
					/* The fixed maximum of the EHLO in force: the last one
					 * read before this MAIL. */
					for (size_t e = i; e-- > 0;) {
						const dlg_exchange *eh = &d->ex[e];
						smtp_ehlo info;

						if (!pc_is_cmd(eh, SMTP_VERB_EHLO) || eh->reply == NULL ||
						    eh->reply->code != 250)
							continue;
						smtp_ehlo_parse(eh->reply, &info);
						if (info.has_size && info.size_max > 0 && n > info.size_max &&
						    !size_warned) {
							pc_emit_at(p, ID_SIZE, RPT_PASS, pc_param_off(ex, pm),
							    pm->kwlen + 1 + pm->vallen, "expected no message "
							    "above the advertised SIZE %llu to be sent, got "
							    "SIZE=%llu declared", info.size_max, n);
							size_warned = 1;
						}
						smtp_ehlo_clear(&info);
						break;
					}
				}
			}
			continue;
		}
		if (ex->kind != DLG_CONTENT && ex->kind != DLG_BDAT)
			continue;
		if (ex->kind == DLG_CONTENT && !(ex->line_flags & SMTP_LINE_8BIT))
			bit8_examined = 1;
		else if (ex->kind == DLG_BDAT || (ex->line_flags & SMTP_LINE_8BIT)) {
			size_t off = ex->c2s_off, len = ex->c2s_len;

			if (ex->kind == DLG_BDAT) {
				size_t ll = pc_bdat_line_len(p, ex);

				off += ll;
				len -= ll;
			}
			bit8_examined = 1;
			if (declared || bit8_failed || !pc_find_8bit(p, off, len, &at))
				continue;
			pc_emit_at(p, ID_8BIT, RPT_PASS, at, len - (at - off), "expected octets above "
			    "0x7F in the content only with BODY=8BITMIME declared%s, got 0x%02x in %s",
			    ex->exts & SMTP_EXT_8BITMIME ? "" : " (and 8BITMIME was not offered)",
			    (unsigned char)p->c2s[at], pc_what(ex));
			bit8_failed = 1;
		}
	}
	if (params_examined && !params_failed)
		chk_pass(p->sc, ID_PARAMS);
	if (size_examined && !size_warned)
		chk_pass(p->sc, ID_SIZE);
	if (bit8_examined && !bit8_failed)
		chk_pass(p->sc, ID_8BIT);
}

/* An LDH label sequence with at least two labels (RFC 5321 §4.1.2
 * Domain, §2.3.5: a fully-qualified name). */
static int
pc_is_fqdn(const char *s, size_t len)
{
	size_t label = 0, labels = 0;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	if (s[len - 1] == '.')	/* a trailing root dot is tolerated */
		len--;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			labels++;
		} else if (alnum || (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return labels >= 2;
}

/* address-literal (RFC 5321 §4.1.3): [IPv4] or [IPv6:...]; a general
 * literal ([tag:text]) is accepted as it stands. */
static int
pc_is_addr_literal(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];
	size_t n;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return 0;
	n = len - 2;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s + 1, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		return 1;
	if (n > 5 && strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return memchr(buf, ':', n) != NULL && buf[0] != ':';
}

/*
 * RFC 5321 §4.1.1.1 and §2.3.5 (ehlo-argument): the EHLO (or HELO)
 * argument is the client's fully-qualified name or an address literal;
 * never a bare label such as "localhost" or a name with "_". Whether the
 * name resolves (the row's SHOULD) is not a passive matter.
 */
static void
pc_check_ehlo_arg(pc *p)
{
	const dlg *d = p->d;
	int examined = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		size_t n;

		if (!pc_is_cmd(ex, SMTP_VERB_EHLO) && !pc_is_cmd(ex, SMTP_VERB_HELO))
			continue;
		examined = 1;
		for (n = 0; n < ex->cmd.args_len && ex->cmd.args[n] != ' '; n++)
			;
		if (pc_is_fqdn(ex->cmd.args, n) || pc_is_addr_literal(ex->cmd.args, n))
			continue;
		pc_emit_at(p, ID_EHLO_ARG, RPT_PASS, ex->c2s_off, ex->c2s_len,
		    "expected a fully-qualified domain name or an address literal as the %s "
		    "argument, got \"%s\"", smtp_verb_str(ex->cmd.verb),
		    n == 0 ? "" : pc_quote(ex->cmd.args, n, 0));
		return;
	}
	if (examined)
		chk_pass(p->sc, ID_EHLO_ARG);
}

/* The offset in args of its first octet above 0x7F, or -1. */
static long
pc_first_8bit(const char *args, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)args[i] > 0x7F)
			return (long)i;
	return -1;
}

/*
 * RFC 6531 §3.2 (client-no-utf8-unless-offered): an EHLO or HELO argument
 * is ASCII (A-labels) always, and a MAIL or RCPT argument is ASCII unless
 * SMTPUTF8 was offered. RFC 6531 §3.4 (client-param-use): with SMTPUTF8
 * offered, a transaction with a UTF-8 address carries SMTPUTF8 on its
 * MAIL. One finding of each per connection.
 */
static void
pc_check_utf8(pc *p)
{
	const dlg *d = p->d;
	int declared = 0, plain_examined = 0, no_utf8_failed = 0, param_examined = 0;
	int param_failed = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		int env = pc_is_cmd(ex, SMTP_VERB_MAIL) || pc_is_cmd(ex, SMTP_VERB_RCPT);
		long at;
		pc_params pp;

		if (!env && !pc_is_cmd(ex, SMTP_VERB_EHLO) && !pc_is_cmd(ex, SMTP_VERB_HELO))
			continue;
		if (pc_is_cmd(ex, SMTP_VERB_MAIL)) {
			declared = 0;
			if (pc_mail_params(ex, &pp))
				for (size_t k = 0; k < pp.n; k++)
					declared |= smtp_param_is(&pp.v[k], "SMTPUTF8");
		}
		at = pc_first_8bit(ex->cmd.args, ex->cmd.args_len);
		if (env && (ex->exts & SMTP_EXT_SMTPUTF8)) {
			if (at < 0)
				continue;
			param_examined = 1;
			if (!declared && !param_failed) {
				pc_emit_at(p, ID_UTF8_PARAM, RPT_PASS, ex->c2s_off, ex->c2s_len,
				    "expected SMTPUTF8 on the MAIL of a transaction with a UTF-8 "
				    "address, got \"%s\" after a MAIL without it", pc_quote(ex->line,
				    strlen(ex->line), 0));
				param_failed = 1;
			}
			continue;
		}
		plain_examined = 1;
		if (at < 0 || no_utf8_failed)
			continue;
		pc_emit_at(p, ID_NO_UTF8, RPT_PASS, ex->c2s_off, ex->c2s_len, "expected %s only "
		    "in ASCII (%s), got \"%s\"", env ? "MAIL and RCPT arguments" :
		    "the EHLO name", env ? "SMTPUTF8 was not offered" : "A-labels for a UTF-8 "
		    "domain", pc_quote(ex->line, strlen(ex->line), 0));
		no_utf8_failed = 1;
	}
	if (plain_examined && !no_utf8_failed)
		chk_pass(p->sc, ID_NO_UTF8);
	if (param_examined && !param_failed)
		chk_pass(p->sc, ID_UTF8_PARAM);
}

/*
 * A 334 challenge a client can decode: RFC 4954 §4 has both sides reject
 * any character outside the base64 alphabet and a pad character anywhere
 * but at the end. A challenge without its padding is let through: a
 * client that decodes it anyway breaks nothing the RFC names.
 */
static int
pc_is_base64(const char *s, size_t len)
{
	size_t pad = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return pad <= 2 && (pad == 0 || pad < len);
}

/*
 * RFC 4954 §4 (client-cancel-bad-challenge): "If the client cannot BASE64
 * decode any of the server's challenges, it MUST cancel the
 * authentication using the "*" response." After a 334 whose text is not
 * base64 the client's next line must be a lone "*". Any other SASL
 * response line is a FAIL: credentials handed to a server that sent
 * garbage. QUIT or a close is no cancel either, but it sends nothing
 * secret, the harm the catalog row fails: a WARN, said so (the server
 * reads QUIT as a SASL response). The response's bytes are not quoted:
 * they may be a password.
 */
static void
pc_check_auth_cancel(pc *p)
{
	const dlg *d = p->d;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i], *next;
		const char *text;
		size_t tlen;
		long close = d->client_fin;

		if (!pc_is_cmd(ex, SMTP_VERB_AUTH) || ex->reply == NULL || ex->reply->code != 334 ||
		    ex->reply->nlines != 1)
			continue;
		text = smtp_reply_text(ex->reply, 0, &tlen);
		if (pc_is_base64(text, tlen))
			continue;
		next = i + 1 < d->nex ? &d->ex[i + 1] : NULL;
		if (next != NULL && next->kind == DLG_COMMAND && strcmp(next->line, "*") == 0) {
			chk_pass(p->sc, ID_AUTH_CANCEL);
			return;
		}
		if (next != NULL && next->kind == DLG_COMMAND) {
			int quit = strcasecmp(next->line, "QUIT") == 0;

			pc_emit_at(p, ID_AUTH_CANCEL, quit ? RPT_WARN : RPT_PASS, next->c2s_off,
			    next->c2s_len,
			    "expected \"*\" after the challenge \"%s\" (not base64), got %s",
			    pc_quote(text, tlen, 0), quit ? "QUIT: nothing answered the challenge, "
			    "but the server reads QUIT as a SASL response, not as the cancel" :
			    "a SASL response line: credentials sent to a server whose challenge "
			    "the client could not decode");
			return;
		}
		if (d->client_rst >= 0 && (close < 0 || d->client_rst < close))
			close = d->client_rst;
		/* The harness closed first, or the transcript just ends: the
		 * client was given no chance to answer. */
		if (next != NULL || close < 0 || (size_t)close < ex->s2c_seg_last ||
		    (d->server_fin >= 0 && d->server_fin < close) ||
		    (d->server_rst >= 0 && d->server_rst < close))
			return;
		pc_emit_seg(p, ID_AUTH_CANCEL, RPT_WARN, (size_t)close, "expected \"*\" after the "
		    "challenge \"%s\" (not base64), got %s: nothing answered the challenge, "
		    "but the exchange was not cancelled", pc_quote(text, tlen, 0),
		    close == d->client_fin ? "FIN" : "RST");
		return;
	}
}

void
chk_passive_client(const cap_transcript *t, const dlg *d, rpt_scenario *sc)
{
	pc p;

	if (t == NULL || d == NULL || sc == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.t = t;
	p.d = d;
	p.sc = sc;
	p.c2s = t->stream[CAP_C2S].data ? t->stream[CAP_C2S].data : "";
	p.c2s_len = t->stream[CAP_C2S].len;
	pc_check_session_open(&p);
	pc_check_pipelining(&p);
	pc_check_after_data(&p);
	pc_check_dot_stuffing(&p);
	pc_check_bare(&p);
	pc_check_line_998(&p);
	pc_check_quit(&p);
	pc_check_every_status(&p);
	pc_check_double_mail(&p);
	pc_check_exact_syntax(&p);
	pc_check_bdat(&p);
	pc_check_params(&p);
	pc_check_ehlo_arg(&p);
	pc_check_utf8(&p);
	pc_check_auth_cancel(&p);
}
