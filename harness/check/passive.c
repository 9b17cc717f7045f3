/*
 * passive - the server-side checks run on every transcript (see passive.h).
 *
 * Each check is one static function over the dialog, named after the
 * catalog row it judges; it adds a finding for what it can prove, with
 * evidence at the bytes (or the FIN/RST) that prove it, and marks the row
 * passed when it examined something and found nothing. A check that
 * cannot tell (the harness closed first, the session was cut short) says
 * nothing rather than guess.
 */
#include "harness/check/passive.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/check/catalog.h"
#include "harness/check/defence.h"
#include "harness/smtp/codes.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

/* Bytes of a reply quoted in a message. */
#define PV_QUOTE_MAX	120

#define ID_CODE_SYNTAX	"rfc5321.4.2.code-syntax"
#define ID_MULTILINE	"rfc5321.4.2.1.multiline-format"
#define ID_LINE_512	"rfc5321.4.5.3.1.5.reply-line-512"
#define ID_ESC_SYNTAX	"rfc3463.2.code-syntax"
#define ID_ESC_CLASS	"rfc2034.4.code-consistency"
#define ID_ESC_PRESENT	"rfc2034.4.codes-present"
#define ID_TABLE	"rfc5321.4.3.1.table-adherence"
#define ID_EHLO_SYNTAX	"rfc5321.4.1.1.1.ehlo-reply-syntax"
#define ID_GREETING	"rfc5321.3.1.greeting"
#define ID_554_QUIT	"rfc5321.3.1.554-waits-for-quit"
#define ID_ONE_REPLY	"rfc5321.4.2.one-reply-per-command"
#define ID_ORDER	"rfc2920.3.2.reply-order"
#define ID_QUIT		"rfc5321.4.1.1.10.quit-221-close"
#define ID_HOPS		"rfc5321.6.3.loop-detection"

/* Every id above: what `smtp-harness coverage` counts as exercised by the
 * server-side checks (test_coverage keeps it equal to the ids in this file). */
const char *const chk_passive_server_ids[] = {
	ID_CODE_SYNTAX, ID_MULTILINE, ID_LINE_512, ID_ESC_SYNTAX, ID_ESC_CLASS,
	ID_ESC_PRESENT, ID_TABLE, ID_EHLO_SYNTAX, ID_GREETING, ID_554_QUIT,
	ID_ONE_REPLY, ID_ORDER, ID_QUIT, ID_HOPS, NULL
};

/* ---- findings ------------------------------------------------------ */

static const chk_entry *
chk_entry_must(const char *id)
{
	const chk_entry *e = chk_catalog_find(id);

	if (e == NULL) {
		/* A check citing a row the catalog lacks is a harness bug. */
		fprintf(stderr, "smtp-harness: internal error: unknown check id \"%s\"\n",
		    id ? id : "(null)");
		abort();
	}
	return e;
}

rpt_finding *
chk_emit(rpt_scenario *sc, const char *id, rpt_verdict verdict, int step,
    const rpt_evidence *ev, const char *fmt, ...)
{
	const chk_entry *e = chk_entry_must(id);
	rpt_finding *f;
	va_list ap;
	char *text;
	int n;

	if (verdict == RPT_PASS)
		verdict = chk_keyword_verdict(e->keyword);
	if (strcmp(fmt, "%s") == 0) {
		/* Formatted already (pv_emit_at and the engine's findings):
		 * handed on, not measured and printed again. */
		va_start(ap, fmt);
		f = rpt_scenario_add_finding(sc, e->id, e->refs, verdict, step, ev, "%s",
		    va_arg(ap, const char *));
		va_end(ap);
		rpt_scenario_exercised(sc, e->id, verdict);
		return f;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		text = xstrdup("(message could not be formatted)");
	} else {
		text = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	f = rpt_scenario_add_finding(sc, e->id, e->refs, verdict, step, ev, "%s", text);
	rpt_scenario_exercised(sc, e->id, verdict);
	xfree(text);
	return f;
}

void
chk_pass(rpt_scenario *sc, const char *id)
{
	const chk_entry *e = chk_entry_must(id);

	rpt_scenario_exercised(sc, e->id, RPT_PASS);
}

/* ---- the view the checks share ------------------------------------- */

/* A reply in wire order, with the exchange it answers (NULL: extra). */
typedef struct pv_reply {
	const smtp_reply *r;
	size_t off;			/* S2C offset */
	const dlg_exchange *ex;
} pv_reply;

typedef struct pv {
	const cap_transcript *t;
	const dlg *d;
	rpt_scenario *sc;
	pv_reply *all;
	size_t nall;
	long server_close;		/* first server FIN or RST, -1 if none */
	long client_close;
} pv;

static int
pv_reply_cmp(const void *a, const void *b)
{
	const pv_reply *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void
pv_init(pv *p, const cap_transcript *t, const dlg *d, rpt_scenario *sc)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
	p->d = d;
	p->sc = sc;
	p->all = xcalloc(d->nex + d->nextra + 1, sizeof(*p->all));
	for (size_t i = 0; i < d->nex; i++) {
		if (d->ex[i].reply == NULL)
			continue;
		p->all[p->nall].r = d->ex[i].reply;
		p->all[p->nall].off = d->ex[i].s2c_off;
		p->all[p->nall++].ex = &d->ex[i];
	}
	for (size_t i = 0; i < d->nextra; i++) {
		p->all[p->nall].r = d->extra[i].reply;
		p->all[p->nall++].off = d->extra[i].s2c_off;
	}
	qsort(p->all, p->nall, sizeof(*p->all), pv_reply_cmp);
	p->server_close = dlg_server_close(d);
	p->client_close = dlg_client_close(d);
}

/* A finding with evidence at bytes [off, off + len) of direction dir. */
static void __attribute__((format(printf, 7, 8)))
pv_emit_at(pv *p, const char *id, rpt_verdict v, cap_dir dir, size_t off, size_t len,
    const char *fmt, ...)
{
	rpt_evidence ev;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rpt_evidence_at(&ev, p->t, dir, off, len);
	chk_emit(p->sc, id, v, 0, &ev, "%s", msg);
	rpt_evidence_clear(&ev);
}

/* A finding with evidence at a whole segment (a FIN or an RST). */
static void __attribute__((format(printf, 5, 6)))
pv_emit_seg(pv *p, const char *id, rpt_verdict v, size_t seg, const char *fmt, ...)
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

/* The reply quoted for a message, in a static buffer per slot so that
 * two quotes can appear in one message. */
static const char *
pv_quote(const smtp_reply *r, int slot)
{
	static _Thread_local char buf[2][PV_QUOTE_MAX + 8];
	char *s = smtp_reply_summary(r, PV_QUOTE_MAX);

	snprintf(buf[slot & 1], sizeof(buf[0]), "%s", s);
	xfree(s);
	return buf[slot & 1];
}

/* Bytes line i of r took on the wire, terminator included. */
static size_t
pv_line_wire(const smtp_reply *r, size_t i)
{
	size_t end = i + 1 < r->nlines ? r->lines[i + 1].off : r->raw_len;

	return end - r->lines[i].off;
}

/* Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2), and exactly three
 * digits: "2500" is not a 250. */
static int
pv_line_bad_code(const smtp_reply *r, size_t i)
{
	const smtp_reply_line *l = &r->lines[i];
	int c = l->code;

	if (c < 200 || c > 599 || (c / 10) % 10 > 5)
		return 1;
	return l->len > 3 && r->raw[l->off + 3] >= '0' && r->raw[l->off + 3] <= '9';
}

static int
pv_reply_bad_code(const smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++) {
		if (pv_line_bad_code(r, i))
			return 1;
	}
	return r->nlines == 0;
}

static smtp_phase
pv_phase(const dlg_exchange *ex)
{
	if (ex->kind == DLG_GREETING)
		return SMTP_PHASE_GREETING;
	return ex->kind == DLG_CONTENT ? SMTP_PHASE_DATA_END : SMTP_PHASE_COMMAND;
}

static int
pv_allowed(const dlg_exchange *ex, int code)
{
	return smtp_code_allowed(ex->cmd.verb, pv_phase(ex), code, ex->exts);
}

/* What an exchange was, for messages: "RCPT", "the greeting", ... */
static const char *
pv_what(const dlg_exchange *ex, int slot)
{
	static _Thread_local char buf[2][HARNESS_VERB_MAX + 32];
	char *b = buf[slot & 1];

	switch (ex->kind) {
	case DLG_GREETING:
		return "the greeting";
	case DLG_CONTENT:
		return "the message content";
	default:
		break;
	}
	if (ex->cmd.verb != SMTP_VERB_UNKNOWN)
		snprintf(b, sizeof(buf[0]), "%s", smtp_verb_str(ex->cmd.verb));
	else if (ex->cmd.name[0] != '\0')
		snprintf(b, sizeof(buf[0]), "the unknown command %s", ex->cmd.name);
	else
		snprintf(b, sizeof(buf[0]), "an unparsable command line");
	return b;
}

static int
pv_is_cmd(const dlg_exchange *ex, smtp_verb v)
{
	return ex != NULL && ex->kind == DLG_COMMAND && ex->cmd.verb == v;
}

/* ---- reply format -------------------------------------------------- */

/*
 * RFC 5321 §4.2, Reply-code ABNF: every reply line starts with three
 * digits, the first 2-5 and the second 0-5. The first bad line of each
 * reply is reported. Lines ended by a bare LF, or carrying a bare CR,
 * break §2.3.8 without breaking the code; they are noted (INFO) once.
 */
static void
pv_check_code_syntax(pv *p)
{
	size_t nlf = 0, ncr = 0, lf_off = 0, cr_off = 0, lf_len = 0, cr_len = 0;
	int failed = 0;

	for (size_t k = 0; k < p->nall; k++) {
		const smtp_reply *r = p->all[k].r;
		int reported = 0;

		for (size_t i = 0; i < r->nlines; i++) {
			const smtp_reply_line *l = &r->lines[i];

			if (!reported && pv_line_bad_code(r, i)) {
				pv_emit_at(p, ID_CODE_SYNTAX, RPT_PASS, CAP_S2C, p->all[k].off + l->off,
				    l->len, "expected every reply line to start with a three-digit "
				    "code [2-5][0-5][0-9], got line %zu of \"%s\"", i + 1,
				    pv_quote(r, 0));
				reported = failed = 1;
			}
			if (r->raw[l->off + l->len] == '\n') {
				if (nlf++ == 0) {
					lf_off = p->all[k].off + l->off;
					lf_len = l->len + 1;
				}
			}
			if (memchr(r->raw + l->off, '\r', l->len) != NULL) {
				if (ncr++ == 0) {
					cr_off = p->all[k].off + l->off;
					cr_len = l->len;
				}
			}
		}
	}
	if (nlf > 0)
		pv_emit_at(p, ID_CODE_SYNTAX, RPT_INFO, CAP_S2C, lf_off, lf_len,
		    "reply line ended by bare LF (RFC 5321 §2.3.8 requires CRLF); "
		    "%zu such line(s)", nlf);
	if (ncr > 0)
		pv_emit_at(p, ID_CODE_SYNTAX, RPT_INFO, CAP_S2C, cr_off, cr_len,
		    "reply line contains a bare CR (RFC 5321 §2.3.8 requires CRLF); "
		    "%zu such line(s)", ncr);
	if (p->nall > 0 && !failed)
		chk_pass(p->sc, ID_CODE_SYNTAX);
}

/*
 * RFC 5321 §4.2.1: "the same code on each line", a hyphen after the code
 * on all lines but the last, SP (or nothing) on the last. A line whose
 * code is already bad is left to code-syntax, so nothing is reported
 * twice.
 */
static void
pv_check_multiline(pv *p)
{
	int failed = 0;

	for (size_t k = 0; k < p->nall; k++) {
		const smtp_reply *r = p->all[k].r;

		for (size_t i = 0; i < r->nlines; i++) {
			const smtp_reply_line *l = &r->lines[i];
			size_t at = p->all[k].off + l->off;

			if (pv_line_bad_code(r, i))
				continue;
			if (i > 0 && !pv_line_bad_code(r, 0) && l->code != r->lines[0].code) {
				pv_emit_at(p, ID_MULTILINE, RPT_PASS, CAP_S2C, at, l->len,
				    "expected code %d on every line of the reply, got %d on line "
				    "%zu of \"%s\"", r->lines[0].code, l->code, i + 1,
				    pv_quote(r, 0));
				failed = 1;
				break;
			}
			if (l->sep == '\0' && l->len > 3) {
				pv_emit_at(p, ID_MULTILINE, RPT_PASS, CAP_S2C, at, l->len,
				    "expected SP or \"-\" after the code, got 0x%02x on line %zu of "
				    "\"%s\"", (unsigned char)r->raw[l->off + 3], i + 1,
				    pv_quote(r, 0));
				failed = 1;
				break;
			}
		}
	}
	if (p->nall > 0 && !failed)
		chk_pass(p->sc, ID_MULTILINE);
}

/* RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
 * The server-side clause is a SHOULD, hence WARN. */
static void
pv_check_line_512(pv *p)
{
	int warned = 0;

	for (size_t k = 0; k < p->nall; k++) {
		const smtp_reply *r = p->all[k].r;

		for (size_t i = 0; i < r->nlines; i++) {
			size_t wire = pv_line_wire(r, i);

			if (wire <= SMTP_REPLY_LINE_MAX)
				continue;
			pv_emit_at(p, ID_LINE_512, RPT_WARN, CAP_S2C, p->all[k].off + r->lines[i].off,
			    r->lines[i].len, "expected reply lines of at most %d octets with "
			    "CRLF, got %zu octets on line %zu of \"%s\"", SMTP_REPLY_LINE_MAX,
			    wire, i + 1, pv_quote(r, 0));
			warned = 1;
			break;
		}
	}
	if (p->nall > 0 && !warned)
		chk_pass(p->sc, ID_LINE_512);
}

/* ---- enhanced status codes ----------------------------------------- */

/* RFC 2034 §3-4: once ENHANCEDSTATUSCODES is advertised, replies carry
 * codes, except the greeting and the replies to EHLO and HELO. Extra
 * replies answer no command and are not judged here. */
static int
pv_esc_in_scope(const dlg_exchange *ex)
{
	if (ex == NULL || ex->kind == DLG_GREETING || !(ex->exts & SMTP_EXT_ENHANCEDSTATUSCODES))
		return 0;
	return !pv_is_cmd(ex, SMTP_VERB_EHLO) && !pv_is_cmd(ex, SMTP_VERB_HELO);
}

/* A 2yz, 4yz or 5yz line with a valid code (3yz lines are exempt). */
static int
pv_esc_line(const smtp_reply *r, size_t i)
{
	int cls = r->lines[i].code / 100;

	return !pv_line_bad_code(r, i) && (cls == 2 || cls == 4 || cls == 5);
}

static int
pv_esc_same(const smtp_esc *a, const smtp_esc *b)
{
	return a->cls == b->cls && a->subject == b->subject && a->detail == b->detail;
}

/*
 * RFC 3463 §2 (syntax), RFC 2034 §4 (class equals the reply's first digit;
 * every line of a multi-line reply repeats the code) and RFC 2034 §3-4
 * (every in-scope line carries one; reported once, with a count).
 */
static void
pv_check_esc(pv *p)
{
	int examined = 0, bad_syntax = 0, bad_class = 0;
	size_t missing = 0, miss_off = 0, miss_len = 0;
	const smtp_reply *miss_r = NULL;
	size_t miss_line = 0;

	for (size_t k = 0; k < p->nall; k++) {
		const smtp_reply *r = p->all[k].r;
		int syn_done = 0, cls_done = 0;

		if (!pv_esc_in_scope(p->all[k].ex))
			continue;
		for (size_t i = 0; i < r->nlines; i++) {
			const smtp_reply_line *l = &r->lines[i];
			size_t at = p->all[k].off + l->text_off;
			size_t tlen = l->off + l->len - l->text_off;

			if (!pv_esc_line(r, i))
				continue;
			examined = 1;
			if (l->esc.bad) {
				if (!syn_done)
					pv_emit_at(p, ID_ESC_SYNTAX, RPT_PASS, CAP_S2C, at, tlen,
					    "expected an enhanced status code class.subject.detail "
					    "(RFC 3463 §2), got line %zu of \"%s\"", i + 1,
					    pv_quote(r, 0));
				syn_done = bad_syntax = 1;
				continue;
			}
			if (!l->esc.present) {
				if (missing++ == 0) {
					miss_off = p->all[k].off + l->off;
					miss_len = l->len;
					miss_r = r;
					miss_line = i;
				}
				continue;
			}
			if (cls_done)
				continue;
			if (l->esc.cls != l->code / 100) {
				pv_emit_at(p, ID_ESC_CLASS, RPT_PASS, CAP_S2C, at, tlen,
				    "expected enhanced code class %d for reply code %d, got %d.%d.%d "
				    "on line %zu of \"%s\"", l->code / 100, l->code, l->esc.cls,
				    l->esc.subject, l->esc.detail, i + 1, pv_quote(r, 0));
				cls_done = bad_class = 1;
			} else if (i > 0 && r->lines[0].esc.present &&
			    !pv_esc_same(&l->esc, &r->lines[0].esc)) {
				pv_emit_at(p, ID_ESC_CLASS, RPT_PASS, CAP_S2C, at, tlen,
				    "expected enhanced code %d.%d.%d on every line of the reply, got "
				    "%d.%d.%d on line %zu of \"%s\"", r->lines[0].esc.cls,
				    r->lines[0].esc.subject, r->lines[0].esc.detail, l->esc.cls,
				    l->esc.subject, l->esc.detail, i + 1, pv_quote(r, 0));
				cls_done = bad_class = 1;
			}
		}
	}
	if (missing > 0)
		pv_emit_at(p, ID_ESC_PRESENT, RPT_PASS, CAP_S2C, miss_off, miss_len,
		    "expected an enhanced status code on every reply line once "
		    "ENHANCEDSTATUSCODES was advertised, got line %zu of \"%s\" without one "
		    "(%zu line(s) in all)", miss_line + 1, pv_quote(miss_r, 0), missing);
	if (!examined)
		return;
	if (!bad_syntax)
		chk_pass(p->sc, ID_ESC_SYNTAX);
	if (!bad_class)
		chk_pass(p->sc, ID_ESC_CLASS);
	if (missing == 0)
		chk_pass(p->sc, ID_ESC_PRESENT);
}

/* ---- codes for commands -------------------------------------------- */

/* RFC 5321 §4.3.1-4.3.2: a reply SHOULD come from its command's set in
 * Table 1a, the any-command set, or a negotiated extension's. Replies
 * with a malformed code are code-syntax's. */
static void
pv_check_table(pv *p)
{
	const dlg *d = p->d;
	int examined = 0, warned = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (ex->reply == NULL || pv_reply_bad_code(ex->reply))
			continue;
		examined = 1;
		if (pv_allowed(ex, ex->reply->code))
			continue;
		pv_emit_at(p, ID_TABLE, RPT_PASS, CAP_S2C, ex->s2c_off, ex->reply->lines[0].len,
		    "expected one of %s in reply to %s, got \"%s\"",
		    smtp_codes_allowed_str(ex->cmd.verb, pv_phase(ex), ex->exts), pv_what(ex, 0),
		    pv_quote(ex->reply, 0));
		warned = 1;
	}
	if (examined && !warned)
		chk_pass(p->sc, ID_TABLE);
}

/* ---- the EHLO reply ------------------------------------------------ */

/*
 * RFC 5321 §4.1.1.1, ehlo-ok-rsp: the first line is the server's domain
 * (and an optional greeting); every further line is one ehlo-keyword
 * (ALPHA / DIGIT, then ALPHA / DIGIT / "-") with optional parameters of
 * printable characters. An empty last line ("250 ") names no keyword and
 * breaks the grammar too. SIZE's number is RFC 1870's, not judged here.
 */
static void
pv_check_ehlo(pv *p)
{
	const dlg *d = p->d;
	int examined = 0, failed = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		const smtp_reply *r = ex->reply;
		const char *what;
		smtp_ehlo e;
		unsigned bad;

		if (r == NULL || !pv_is_cmd(ex, SMTP_VERB_EHLO) || r->code != 250 ||
		    pv_reply_bad_code(r))
			continue;
		examined = 1;
		smtp_ehlo_parse(r, &e);
		bad = e.defects & (SMTP_EHLO_BAD_KEYWORD | SMTP_EHLO_BAD_PARAM | SMTP_EHLO_NO_DOMAIN);
		if (bad && e.defect_line < r->nlines) {
			size_t ln = e.defect_line;

			what = bad & SMTP_EHLO_NO_DOMAIN ? "a first line without the server's domain" :
			    bad & SMTP_EHLO_BAD_KEYWORD ? "a line whose keyword is empty or has "
			    "characters other than letters, digits and '-'" :
			    "a parameter with control characters";
			pv_emit_at(p, ID_EHLO_SYNTAX, RPT_PASS, CAP_S2C, ex->s2c_off + r->lines[ln].off,
			    pv_line_wire(r, ln), "expected the EHLO reply grammar of RFC 5321 §4.1.1.1 "
			    "(the domain, then one keyword per line), got %s on line %zu of \"%s\"",
			    what, ln + 1, pv_quote(r, 0));
			failed = 1;
		}
		smtp_ehlo_clear(&e);
	}
	if (examined && !failed)
		chk_pass(p->sc, ID_EHLO_SYNTAX);
}

/* ---- the greeting -------------------------------------------------- */

/* sub-domain = Let-dig [Ldh-str], Domain = sub-domain *("." sub-domain)
 * (RFC 5321 §4.1.2). */
static int
pv_is_domain(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (alnum || (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0 && s[len - 1] != '-';
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]"
 * (RFC 5321 §4.1.3). */
static int
pv_is_addr_literal(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];
	size_t n, colon;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return 0;
	s++;
	n = len - 2;
	if (n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, addr) == 1)
			return 1;
		if (n > 5 && strncasecmp(buf, "IPv6:", 5) == 0)
			return inet_pton(AF_INET6, buf + 5, addr) == 1;
	}
	/* General-address-literal: Standardized-tag ":" 1*dcontent. */
	for (colon = 0; colon < n && s[colon] != ':'; colon++)
		;
	if (colon == 0 || colon + 1 >= n || !pv_is_domain(s, colon))
		return 0;
	for (size_t i = colon + 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']')
			return 0;
	}
	return 1;
}

/*
 * RFC 5321 §3.1 and the Greeting ABNF (§4.2): the first reply is 220 with
 * the server's domain or an address literal first, or 554 to refuse
 * service; 421 (§3.8, service shutting down) is accepted too. A bare
 * "220" breaks the grammar mildly and is a WARN (catalog row).
 */
static void
pv_check_greeting(pv *p)
{
	const dlg *d = p->d;
	const dlg_exchange *g;
	const smtp_reply *r;
	const char *text;
	size_t tlen, wlen;

	if (d->nex == 0 || d->ex[0].kind != DLG_GREETING || d->ex[0].reply == NULL)
		return;
	g = &d->ex[0];
	r = g->reply;
	if (r->code == 554 || r->code == 421) {
		chk_pass(p->sc, ID_GREETING);
		return;
	}
	if (r->code != 220) {
		pv_emit_at(p, ID_GREETING, RPT_PASS, CAP_S2C, g->s2c_off, r->lines[0].len,
		    "expected a 220 greeting (or 554 refusing service), got \"%s\"",
		    pv_quote(r, 0));
		return;
	}
	text = smtp_reply_text(r, 0, &tlen);
	for (wlen = 0; wlen < tlen && text[wlen] != ' '; wlen++)
		;
	if (wlen == 0 || r->lines[0].sep == '\0') {
		pv_emit_at(p, ID_GREETING, RPT_WARN, CAP_S2C, g->s2c_off, r->lines[0].len,
		    "expected 220 followed by the server's domain or an address literal, "
		    "got a bare \"%s\"", pv_quote(r, 0));
		return;
	}
	if (!pv_is_domain(text, wlen) && !pv_is_addr_literal(text, wlen)) {
		pv_emit_at(p, ID_GREETING, RPT_PASS, CAP_S2C, g->s2c_off + (r->lines[0].text_off -
		    r->lines[0].off), wlen, "expected the server's domain or an address literal "
		    "first in the greeting, got \"%s\"", pv_quote(r, 0));
		return;
	}
	chk_pass(p->sc, ID_GREETING);
}

/*
 * RFC 5321 §3.1: after a 554 greeting the server "MUST wait for the client
 * to send a QUIT before closing the connection" and "SHOULD respond to
 * any command other than QUIT with 503". A close the harness made first
 * is not held against the server. Unknown verbs are not commands the
 * server could recognise, so their replies are not judged.
 */
static void
pv_check_554(pv *p)
{
	const dlg *d = p->d;
	long quit_seg = -1;
	size_t nbad = 0;
	const dlg_exchange *first_bad = NULL;
	int failed = 0;

	if (d->nex == 0 || d->ex[0].kind != DLG_GREETING || d->ex[0].reply == NULL ||
	    d->ex[0].reply->code != 554)
		return;
	for (size_t i = 1; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (pv_is_cmd(ex, SMTP_VERB_QUIT)) {
			if (quit_seg < 0)
				quit_seg = (long)ex->c2s_seg_last;
			continue;
		}
		if (ex->kind != DLG_COMMAND || ex->cmd.verb == SMTP_VERB_UNKNOWN ||
		    ex->reply == NULL || ex->reply->code == 503)
			continue;
		if (nbad++ == 0)
			first_bad = ex;
	}
	if (p->server_close >= 0 && (quit_seg < 0 || p->server_close < quit_seg) &&
	    (p->client_close < 0 || p->server_close < p->client_close)) {
		pv_emit_seg(p, ID_554_QUIT, RPT_FAIL, (size_t)p->server_close,
		    "expected the server to keep the connection open until QUIT after a 554 "
		    "greeting, got %s from the server before QUIT",
		    p->server_close == d->server_fin ? "FIN" : "RST");
		failed = 1;
	}
	if (first_bad != NULL) {
		pv_emit_at(p, ID_554_QUIT, RPT_WARN, CAP_S2C, first_bad->s2c_off,
		    first_bad->reply->lines[0].len, "expected 503 to commands after a 554 "
		    "greeting, got \"%s\" to %s (%zu such repl%s)", pv_quote(first_bad->reply, 0),
		    pv_what(first_bad, 0), nbad, nbad == 1 ? "y" : "ies");
		failed = 1;
	}
	if (!failed)
		chk_pass(p->sc, ID_554_QUIT);
}

/* ---- replies and commands ------------------------------------------ */

/*
 * RFC 5321 §4.2: each command gets exactly one reply. Replies that answer
 * nothing (other than 421, §3.8), replies that began before their command
 * was sent whole, and a server close while replies were owed break it; so
 * does a reply stream past the parser's hard limits. A transcript the
 * harness stopped recording is noted, not judged.
 */
static void
pv_check_one_reply(pv *p)
{
	const dlg *d = p->d;
	const cap_transcript *t = p->t;
	int failed = 0;

	for (size_t i = 0; i < d->nextra; i++) {
		const dlg_extra *x = &d->extra[i];

		if (x->reply->code == 421)
			continue;
		pv_emit_at(p, ID_ONE_REPLY, RPT_PASS, CAP_S2C, x->s2c_off, x->reply->lines[0].len,
		    "expected no reply without a command (except 421), got unsolicited \"%s\"",
		    pv_quote(x->reply, 0));
		failed = 1;
	}
	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (ex->reply == NULL || !ex->premature)
			continue;
		pv_emit_at(p, ID_ONE_REPLY, RPT_PASS, CAP_S2C, ex->s2c_off, ex->reply->lines[0].len,
		    "expected the reply to %s after the command was completely sent, got \"%s\": "
		    "the reply arrived before the command was completely sent", pv_what(ex, 0),
		    pv_quote(ex->reply, 0));
		failed = 1;
	}
	if (d->reply_error) {
		pv_emit_at(p, ID_ONE_REPLY, RPT_PASS, CAP_S2C, d->reply_error_off, HARNESS_EVIDENCE_MAX,
		    "expected complete replies within the harness's limits, got %s",
		    d->reply_error_msg ? d->reply_error_msg : "an over-long reply");
		failed = 1;
	}
	/* The server closed first, with replies owed: judged only when the
	 * whole reply stream before the close was read. Not after a 421
	 * (§3.8), nor right after a run of refused RCPTs (the defence of
	 * §7.8, judged by defence.c). */
	if (p->server_close >= 0 && (p->client_close < 0 || p->server_close < p->client_close) &&
	    !d->reply_error && !d->cut && !t->truncated[CAP_S2C] &&
	    (d->tls_start < 0 || d->tls_start > p->server_close) &&
	    (p->nall == 0 || p->all[p->nall - 1].r->code != 421) &&
	    chk_defence_refusals(d, p->server_close) < HARNESS_DEFENCE_REFUSALS_MIN) {
		size_t sc = (size_t)p->server_close;

		for (size_t i = 0; i < d->nex; i++) {
			const dlg_exchange *ex = &d->ex[i];

			/* What the client sent after a 221 to QUIT, or after the
			 * close, is not owed anything. */
			if (pv_is_cmd(ex, SMTP_VERB_QUIT) && ex->reply != NULL && ex->reply->code == 221)
				break;
			if (ex->reply != NULL || ex->c2s_seg_last > sc)
				continue;
			if (ex->kind == DLG_GREETING)
				pv_emit_seg(p, ID_ONE_REPLY, RPT_PASS, sc, "expected a greeting before "
				    "the server closed the connection, got %s with no reply",
				    (long)sc == d->server_fin ? "FIN" : "RST");
			else
				pv_emit_at(p, ID_ONE_REPLY, RPT_PASS, CAP_C2S, ex->c2s_off, ex->c2s_len,
				    "expected a reply to %s before the server closed the connection, "
				    "got %s at segment %zu with no reply", pv_what(ex, 0),
				    (long)sc == d->server_fin ? "FIN" : "RST", sc);
			failed = 1;
			break;
		}
	}
	for (int dir = 0; dir < 2; dir++) {
		if (!t->truncated[dir])
			continue;
		chk_emit(p->sc, ID_ONE_REPLY, RPT_INFO, 0, NULL, "expected the whole session "
		    "to be judged, got a %s stream past the harness's recording limit; later "
		    "bytes were not judged", cap_dir_str((cap_dir)dir));
	}
	if (d->cut)
		chk_emit(p->sc, ID_ONE_REPLY, RPT_INFO, 0, NULL, "expected the whole session to "
		    "be judged, got more than %d exchanges or %d reply lines; later bytes were "
		    "not judged", HARNESS_DIALOG_ITEMS_MAX, HARNESS_DIALOG_LINES_MAX);
	if ((d->nex > 0 || d->nextra > 0) && !failed)
		chk_pass(p->sc, ID_ONE_REPLY);
}

/*
 * RFC 2920 §3.2 (1): a pipelining server replies in the order the
 * commands came. Misordering shows as a reply whose code does not fit its
 * own command but fits another command of the same group, or as a 354 to
 * anything but DATA. Exchanges with an unknown verb are not judged: the
 * codes an unknown verb may get are not known. One finding per group.
 */
static void
pv_check_reply_order(pv *p)
{
	const dlg *d = p->d;
	int examined = 0, failed = 0;
	size_t a = 0;

	while (a < d->nex) {
		size_t b = a + 1;

		while (b < d->nex && d->ex[b].group == d->ex[a].group)
			b++;
		if (b - a < 2) {
			a = b;
			continue;
		}
		examined = 1;
		for (size_t k = a; k < b; k++) {
			const dlg_exchange *ex = &d->ex[k];
			const dlg_exchange *other = NULL;
			int code;

			if (ex->reply == NULL || pv_reply_bad_code(ex->reply))
				continue;
			code = ex->reply->code;
			if (code == 354 && !pv_is_cmd(ex, SMTP_VERB_DATA)) {
				pv_emit_at(p, ID_ORDER, RPT_PASS, CAP_S2C, ex->s2c_off,
				    ex->reply->lines[0].len, "expected 354 only in reply to DATA, got "
				    "\"%s\" in reply to %s in a pipelined group",
				    pv_quote(ex->reply, 0), pv_what(ex, 0));
				failed = 1;
				break;
			}
			if ((ex->kind == DLG_COMMAND && ex->cmd.verb == SMTP_VERB_UNKNOWN) ||
			    pv_allowed(ex, code))
				continue;
			for (size_t j = a; j < b && other == NULL; j++) {
				if (j != k && pv_allowed(&d->ex[j], code))
					other = &d->ex[j];
			}
			if (other == NULL)
				continue;
			pv_emit_at(p, ID_ORDER, RPT_PASS, CAP_S2C, ex->s2c_off, ex->reply->lines[0].len,
			    "expected replies in the order the commands were sent, got \"%s\" in "
			    "reply to %s, a reply that fits %s of the same pipelined group",
			    pv_quote(ex->reply, 0), pv_what(ex, 0), pv_what(other, 1));
			failed = 1;
			break;
		}
		a = b;
	}
	if (examined && !failed)
		chk_pass(p->sc, ID_ORDER);
}

/*
 * RFC 5321 §4.1.1.10: "The receiver MUST send a 221 OK reply, and then
 * close the transmission channel" (a QUIT with arguments may get a syntax
 * error instead). Nothing may follow the 221. The close is judged only
 * when the transcript can tell: the server closed first (pass), or the
 * harness waited HARNESS_QUIT_CLOSE_MS before closing itself (fail).
 */
static void
pv_check_quit(pv *p)
{
	const dlg *d = p->d;
	const cap_transcript *t = p->t;
	const dlg_exchange *q = NULL;
	size_t end;
	int failed = 0;

	for (size_t i = 0; i < d->nex && q == NULL; i++) {
		const dlg_exchange *ex = &d->ex[i];

		if (!pv_is_cmd(ex, SMTP_VERB_QUIT) || ex->reply == NULL)
			continue;
		if (ex->reply->code == 221) {
			q = ex;
			break;
		}
		if (ex->cmd.args_len > 0 && ex->reply->code / 100 == 5)
			continue;
		pv_emit_at(p, ID_QUIT, RPT_PASS, CAP_S2C, ex->s2c_off, ex->reply->lines[0].len,
		    "expected 221 in reply to QUIT, got \"%s\"", pv_quote(ex->reply, 0));
		return;
	}
	if (q == NULL)
		return;
	end = q->s2c_off + q->reply->raw_len;
	if (t->stream[CAP_S2C].len > end) {
		pv_emit_at(p, ID_QUIT, RPT_PASS, CAP_S2C, end, t->stream[CAP_S2C].len - end,
		    "expected nothing from the server after its 221, got %zu more byte(s)",
		    t->stream[CAP_S2C].len - end);
		failed = 1;
	}
	if (p->server_close >= 0 && (size_t)p->server_close > q->s2c_seg_last &&
	    (p->client_close < 0 || p->server_close < p->client_close)) {
		if (!failed)
			chk_pass(p->sc, ID_QUIT);
		return;
	}
	if (p->client_close >= 0 && (size_t)p->client_close > q->s2c_seg_last) {
		uint64_t t221 = t->segs[q->s2c_seg_last].ts_us;
		uint64_t tc = t->segs[p->client_close].ts_us;
		uint64_t waited = tc > t221 ? tc - t221 : 0;

		if (waited >= (uint64_t)HARNESS_QUIT_CLOSE_MS * 1000u)
			pv_emit_seg(p, ID_QUIT, RPT_PASS, (size_t)p->client_close,
			    "expected the server to close the connection within %d ms after 221, "
			    "got no close; the client closed after %llu ms", HARNESS_QUIT_CLOSE_MS,
			    (unsigned long long)(waited / 1000u));
	}
	/* Otherwise the client closed too soon to tell: no verdict. */
}

/* ---- content ------------------------------------------------------- */

/* The Received fields in the header section of content (as sent, dot-
 * stuffed: header lines never start with a dot that matters here). */
static size_t
pv_received_count(const char *c, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; ) {
		const char *nl = memchr(c + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - c) + 1 : len;

		if (c[i] == '\r' || c[i] == '\n')
			break;		/* the empty line ends the header section */
		if (len - i >= 9 && strncasecmp(c + i, "Received:", 9) == 0)
			n++;
		i = next;
	}
	return n;
}

/*
 * RFC 5321 §6.3: a server counts Received fields to stop loops, but "the
 * limit ... SHOULD be large (at least 100)". A message with fewer than
 * HARNESS_HOPS_SHOULD_ACCEPT of them (and at least HARNESS_HOPS_PROBE_MIN,
 * so that ordinary mail is not read as a probe) refused after its final
 * dot is a WARN: the likeliest reason is a limit below 100, though the
 * transcript cannot rule out another. Accepted, it passes.
 */
static void
pv_check_hops(pv *p)
{
	const dlg *d = p->d;
	const char *c2s = p->t->stream[CAP_C2S].data;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *ex = &d->ex[i];
		size_t n;

		if (ex->kind != DLG_CONTENT || ex->reply == NULL ||
		    ex->c2s_off + ex->c2s_len > p->t->stream[CAP_C2S].len)
			continue;
		n = pv_received_count(c2s + ex->c2s_off, ex->c2s_len);
		if (n < HARNESS_HOPS_PROBE_MIN || n >= HARNESS_HOPS_SHOULD_ACCEPT)
			continue;
		if (ex->reply->code / 100 == 2) {
			chk_pass(p->sc, ID_HOPS);
			continue;
		}
		pv_emit_at(p, ID_HOPS, RPT_WARN, CAP_S2C, ex->s2c_off, ex->reply->lines[0].len,
		    "expected a message with %zu Received fields to be accepted, got \"%s\": a "
		    "limit on Received fields SHOULD be at least %d (RFC 5321 §6.3), and this one "
		    "looks lower", n, pv_quote(ex->reply, 0), HARNESS_HOPS_SHOULD_ACCEPT);
	}
}

void
chk_passive_server(const cap_transcript *t, const dlg *d, rpt_scenario *sc)
{
	pv p;

	if (t == NULL || d == NULL || sc == NULL)
		return;
	pv_init(&p, t, d, sc);
	pv_check_code_syntax(&p);
	pv_check_multiline(&p);
	pv_check_line_512(&p);
	pv_check_esc(&p);
	pv_check_table(&p);
	pv_check_ehlo(&p);
	pv_check_greeting(&p);
	pv_check_554(&p);
	pv_check_one_reply(&p);
	pv_check_reply_order(&p);
	pv_check_quit(&p);
	pv_check_hops(&p);
	xfree(p.all);
}
