#include "harness/console/explain.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* How much of a reply's text an annotation quotes; the reply itself is
 * printed in full above it. */
#define EXPLAIN_SUMMARY_MAX	200

static const struct code_text {
	int code;
	const char *text;
	const char *ref;
} code_texts[] = {
	/* RFC 5321 §4.2.2 and §4.2.3, in the RFC's order. */
	{ 211, "system status, or system help reply", "RFC 5321 §4.2.2" },
	{ 214, "help message", "RFC 5321 §4.2.2" },
	{ 220, "service ready", "RFC 5321 §4.2.2" },
	{ 221, "service closing transmission channel", "RFC 5321 §4.2.2" },
	{ 250, "requested mail action okay, completed", "RFC 5321 §4.2.2" },
	{ 251, "user not local; will forward", "RFC 5321 §4.2.2" },
	{ 252, "cannot VRFY user, but will accept message and attempt delivery",
	    "RFC 5321 §4.2.2" },
	{ 354, "start mail input; end with <CRLF>.<CRLF>", "RFC 5321 §4.2.2" },
	{ 421, "service not available, closing transmission channel", "RFC 5321 §4.2.2" },
	{ 450, "requested mail action not taken: mailbox unavailable (temporary)",
	    "RFC 5321 §4.2.2" },
	{ 451, "requested action aborted: local error in processing", "RFC 5321 §4.2.2" },
	{ 452, "requested action not taken: insufficient system storage", "RFC 5321 §4.2.2" },
	{ 455, "server unable to accommodate parameters", "RFC 5321 §4.2.2" },
	{ 500, "syntax error, command unrecognized (or line too long)", "RFC 5321 §4.2.2" },
	{ 501, "syntax error in parameters or arguments", "RFC 5321 §4.2.2" },
	{ 502, "command not implemented", "RFC 5321 §4.2.2" },
	{ 503, "bad sequence of commands", "RFC 5321 §4.2.2" },
	{ 504, "command parameter not implemented", "RFC 5321 §4.2.2" },
	{ 550, "requested action not taken: mailbox unavailable (permanent, or policy)",
	    "RFC 5321 §4.2.2" },
	{ 551, "user not local; please try the forward-path given", "RFC 5321 §4.2.2" },
	{ 552, "requested mail action aborted: exceeded storage allocation",
	    "RFC 5321 §4.2.2" },
	{ 553, "requested action not taken: mailbox name not allowed", "RFC 5321 §4.2.2" },
	{ 554, "transaction failed (or, as greeting, no SMTP service here)",
	    "RFC 5321 §4.2.2" },
	{ 555, "MAIL FROM/RCPT TO parameters not recognized or not implemented",
	    "RFC 5321 §4.2.2" },
	/* Extensions. */
	{ 235, "authentication succeeded", "RFC 4954 §6" },
	{ 253, "ETRN: pending messages for the node started", "RFC 1985 §5" },
	{ 334, "AUTH: server challenge, send the next response", "RFC 4954 §4" },
	{ 432, "a password transition is needed", "RFC 4954 §6" },
	{ 454, "temporary failure (TLS not available, or authentication)",
	    "RFC 3207 §4, RFC 4954 §6" },
	{ 458, "ETRN: unable to queue messages for the node", "RFC 1985 §5" },
	{ 459, "ETRN: node not allowed", "RFC 1985 §5" },
	{ 521, "host does not accept mail", "RFC 7504 §3" },
	{ 523, "message larger than the recipient's limit", "RFC 5248 §2.4" },
	{ 530, "authentication (or STARTTLS) required first", "RFC 4954 §6, RFC 3207 §4" },
	{ 534, "authentication mechanism is too weak", "RFC 4954 §6" },
	{ 535, "authentication credentials invalid", "RFC 4954 §6" },
	{ 538, "encryption required for the requested authentication mechanism",
	    "RFC 4954 §6" },
	{ 556, "domain does not accept mail (null MX)", "RFC 7505 §4.1" },
};

static const struct code_text *
code_find(int code)
{
	for (size_t i = 0; i < sizeof(code_texts) / sizeof(code_texts[0]); i++) {
		if (code_texts[i].code == code)
			return &code_texts[i];
	}
	return NULL;
}

const char *
explain_code(int code)
{
	const struct code_text *c = code_find(code);

	return c ? c->text : NULL;
}

const char *
explain_code_ref(int code)
{
	const struct code_text *c = code_find(code);

	return c ? c->ref : NULL;
}

const char *
explain_class(int first_digit)
{
	switch (first_digit) {
	case 1: return "positive preliminary (not used by SMTP)";
	case 2: return "positive completion";
	case 3: return "positive intermediate";
	case 4: return "transient negative completion (try again later)";
	case 5: return "permanent negative completion (do not repeat as is)";
	default: return NULL;
	}
}

const char *
explain_category(int second_digit)
{
	switch (second_digit) {
	case 0: return "syntax";
	case 1: return "information";
	case 2: return "connections";
	case 3: return "unspecified";
	case 4: return "unspecified";
	case 5: return "mail system";
	default: return NULL;
	}
}

const char *
explain_esc_class(int cls)
{
	switch (cls) {
	case 2: return "success";
	case 4: return "persistent transient failure";
	case 5: return "permanent failure";
	default: return NULL;
	}
}

static const char *const esc_subjects[] = {
	"other or undefined status", "addressing status", "mailbox status",
	"mail system status", "network and routing status", "mail delivery protocol status",
	"message content or media status", "security or policy status",
};

const char *
explain_esc_subject(int subject)
{
	if (subject < 0 || (size_t)subject >= sizeof(esc_subjects) / sizeof(esc_subjects[0]))
		return NULL;
	return esc_subjects[subject];
}

/* RFC 3463 §3.2-§3.9, then the details RFC 3886, 4468, 4954, 5248, 6531,
 * 6710, 7293 and 7372 registered. Subject * 100 + detail. */
static const struct {
	int key;
	const char *text;
} esc_details[] = {
	{ 0, "other undefined status" },
	{ 100, "other address status" }, { 101, "bad destination mailbox address" },
	{ 102, "bad destination system address" },
	{ 103, "bad destination mailbox address syntax" },
	{ 104, "destination mailbox address ambiguous" },
	{ 105, "destination address valid" }, { 106, "destination mailbox has moved" },
	{ 107, "bad sender's mailbox address syntax" },
	{ 108, "bad sender's system address" },
	{ 110, "recipient address has null MX (RFC 7505)" },
	{ 200, "other or undefined mailbox status" }, { 201, "mailbox disabled" },
	{ 202, "mailbox full" }, { 203, "message length exceeds administrative limit" },
	{ 204, "mailing list expansion problem" },
	{ 300, "other or undefined mail system status" }, { 301, "mail system full" },
	{ 302, "system not accepting network messages" },
	{ 303, "system not capable of selected features" },
	{ 304, "message too big for system" }, { 305, "system incorrectly configured" },
	{ 400, "other or undefined network or routing status" },
	{ 401, "no answer from host" }, { 402, "bad connection" },
	{ 403, "directory server failure" }, { 404, "unable to route" },
	{ 405, "mail system congestion" }, { 406, "routing loop detected" },
	{ 407, "delivery time expired" },
	{ 500, "other or undefined protocol status" }, { 501, "invalid command" },
	{ 502, "syntax error" }, { 503, "too many recipients" },
	{ 504, "invalid command arguments" }, { 505, "wrong protocol version" },
	{ 506, "authentication exchange line is too long (RFC 4954)" },
	{ 600, "other or undefined media error" }, { 601, "media not supported" },
	{ 602, "conversion required and prohibited" },
	{ 603, "conversion required but not supported" },
	{ 604, "conversion with loss performed" }, { 605, "conversion failed" },
	{ 606, "message content not available (RFC 4468)" },
	{ 607, "non-ASCII addresses not permitted for that sender/recipient (RFC 6531)" },
	{ 608, "UTF-8 string reply is required, but not permitted by the client (RFC 6531)" },
	{ 609, "UTF-8 header message cannot be transferred to one or more recipients "
	    "(RFC 6531)" },
	{ 700, "other or undefined security status" },
	{ 701, "delivery not authorized, message refused" },
	{ 702, "mailing list expansion prohibited" },
	{ 703, "security conversion required but not possible" },
	{ 704, "security features not supported" },
	{ 705, "cryptographic failure" }, { 706, "cryptographic algorithm not supported" },
	{ 707, "message integrity failure" },
	{ 708, "authentication credentials invalid (RFC 4954)" },
	{ 709, "authentication mechanism is too weak (RFC 4954)" },
	{ 710, "encryption needed (RFC 5248)" },
	{ 711, "encryption required for requested authentication mechanism (RFC 4954)" },
	{ 712, "a password transition is needed (RFC 4954)" },
	{ 713, "user account disabled (RFC 5248)" }, { 714, "trust relationship required (RFC 5248)" },
	{ 715, "priority level is too low (RFC 6710)" },
	{ 716, "message is too big for the specified priority (RFC 6710)" },
	{ 717, "mailbox owner has changed (RFC 7293)" },
	{ 718, "domain owner has changed (RFC 7293)" },
	{ 719, "RRVS test cannot be completed (RFC 7293)" },
	{ 720, "no passing DKIM signature found (RFC 7372)" },
	{ 721, "no acceptable DKIM signature found (RFC 7372)" },
	{ 722, "no valid author-matched DKIM signature found (RFC 7372)" },
	{ 723, "SPF validation failed (RFC 7372)" },
	{ 724, "SPF validation error (RFC 7372)" },
	{ 725, "reverse DNS validation failed (RFC 7372)" },
	{ 726, "multiple authentication checks failed (RFC 7372)" },
	{ 727, "sender address has null MX (RFC 7505)" },
};

const char *
explain_esc_detail(int subject, int detail)
{
	int key;

	if (subject < 0 || subject > 9 || detail < 0 || detail > 99)
		return NULL;
	key = subject * 100 + detail;
	for (size_t i = 0; i < sizeof(esc_details) / sizeof(esc_details[0]); i++) {
		if (esc_details[i].key == key)
			return esc_details[i].text;
	}
	return NULL;
}

static void
explain_esc(vbuf *b, const smtp_esc *esc, int code)
{
	const char *s;

	if (esc->bad) {
		vbuf_append_str(b, "; the enhanced status code breaks RFC 3463 §2 syntax");
		return;
	}
	vbuf_printf(b, "; %d.%d.%d: %s", esc->cls, esc->subject, esc->detail,
	    explain_esc_class(esc->cls) ? explain_esc_class(esc->cls) : "unknown class");
	s = explain_esc_subject(esc->subject);
	vbuf_printf(b, ", %s", s ? s : "unknown subject");
	s = explain_esc_detail(esc->subject, esc->detail);
	vbuf_printf(b, ", %s", s ? s : "detail not registered");
	if (code >= 200 && code <= 599 && code / 100 != esc->cls)
		vbuf_printf(b, " (class %d disagrees with reply code %d, RFC 3463 §2)",
		    esc->cls, code);
}

char *
explain_reply(smtp_verb verb, smtp_phase phase, unsigned exts, const smtp_reply *r)
{
	vbuf b = VBUF_INIT;
	const char *what;
	int code = r->code;

	if (code < 0) {
		char *sum = smtp_reply_summary(r, EXPLAIN_SUMMARY_MAX);

		vbuf_printf(&b, "malformed: no reply code (RFC 5321 §4.2 wants three digits "
		    "2-5, 0-5, 0-9), got \"%s\"", sum);
		xfree(sum);
		if (r->defects & ~(unsigned)SMTP_REPLY_BAD_CODE)
			vbuf_printf(&b, "; also: %s", smtp_reply_defects_str(r->defects));
		return vbuf_take(&b);
	}
	what = explain_code(code);
	if (what != NULL)
		vbuf_printf(&b, "%d %s (%s)", code, what, explain_code_ref(code));
	else
		vbuf_printf(&b, "%d is no code RFC 5321 or its extensions define", code);
	vbuf_printf(&b, "; %dyz %s, x%dz %s", code / 100, explain_class(code / 100),
	    code / 10 % 10, explain_category(code / 10 % 10));
	if (smtp_code_allowed(verb, phase, code, exts)) {
		vbuf_append_str(&b, "; allowed");
	} else {
		vbuf_printf(&b, "; NOT allowed (expected %s)",
		    smtp_codes_allowed_str(verb, phase, exts));
	}
	if (phase == SMTP_PHASE_GREETING)
		vbuf_append_str(&b, " as a greeting (RFC 5321 §4.3.2)");
	else if (phase == SMTP_PHASE_DATA_END)
		vbuf_append_str(&b, " after the message content (RFC 5321 §4.3.2)");
	else if (verb == SMTP_VERB_UNKNOWN)
		vbuf_append_str(&b, " for a verb RFC 5321 does not define (RFC 5321 §4.2.4)");
	else
		vbuf_printf(&b, " for %s (RFC 5321 §4.3.2)", smtp_verb_str(verb));
	if (r->esc.present)
		explain_esc(&b, &r->esc, code);
	if (r->defects != 0)
		vbuf_printf(&b, "; malformed: %s (RFC 5321 §4.2)",
		    smtp_reply_defects_str(r->defects));
	return vbuf_take(&b);
}

static const struct {
	const char *keyword;
	const char *text;
} ehlo_texts[] = {
	{ "PIPELINING", "RFC 2920: commands may be sent in groups without waiting for each reply" },
	{ "SIZE", "RFC 1870: MAIL FROM may declare SIZE=n" },
	{ "8BITMIME", "RFC 6152: message content may carry 8-bit bytes (BODY=8BITMIME)" },
	{ "SMTPUTF8", "RFC 6531: UTF-8 addresses and headers (MAIL ... SMTPUTF8)" },
	{ "CHUNKING", "RFC 3030: BDAT sends the message in counted chunks" },
	{ "BINARYMIME", "RFC 3030: binary content with BDAT (BODY=BINARYMIME)" },
	{ "DSN", "RFC 3461: delivery status notifications (NOTIFY=, RET=, ENVID=, ORCPT=)" },
	{ "STARTTLS", "RFC 3207: the session may be upgraded to TLS" },
	{ "AUTH", "RFC 4954: authentication with the listed SASL mechanisms" },
	{ "ENHANCEDSTATUSCODES", "RFC 2034: replies carry RFC 3463 codes (class.subject.detail)" },
	{ "ETRN", "RFC 1985: the client may ask for a queue run for a domain" },
	{ "DELIVERBY", "RFC 2852: MAIL FROM may carry BY= a delivery deadline" },
	{ "MT-PRIORITY", "RFC 6710: MAIL FROM may carry MT-PRIORITY=" },
	{ "MTRK", "RFC 3885: message tracking (MTRK=)" },
	{ "FUTURERELEASE", "RFC 4865: hold the message until a time (HOLDFOR=, HOLDUNTIL=)" },
	{ "REQUIRETLS", "RFC 8689: the message may demand TLS all the way (REQUIRETLS)" },
	{ "LIMITS", "RFC 9422: the server's limits (RCPTMAX=, MAILMAX=, RCPTDOMAINMAX=)" },
	{ "RRVS", "RFC 7293: require-recipient-valid-since (RRVS=)" },
	{ "BURL", "RFC 4468: message content fetched by URL" },
	{ "CONPERM", "RFC 6758: content conversion permission" },
	{ "CONNEG", "RFC 6758: content negotiation" },
	{ "NO-SOLICITING", "RFC 3865: solicitation class keywords" },
	{ "VRFY", "RFC 5321 §4.1.1.6: the server answers VRFY" },
	{ "EXPN", "RFC 5321 §4.1.1.7: the server answers EXPN" },
	{ "HELP", "RFC 5321 §4.1.1.8: the server answers HELP" },
	{ "VERB", "not standardized (Sendmail): verbose delivery" },
	{ "ONEX", "not standardized (Sendmail): one message per session" },
	{ "XCLIENT", "not standardized (Postfix): a proxy passes the real client's attributes" },
	{ "XFORWARD", "not standardized (Postfix): a filter passes the original client's attributes" },
};

const char *
explain_ehlo_keyword(const char *keyword)
{
	if (keyword == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(ehlo_texts) / sizeof(ehlo_texts[0]); i++) {
		if (strcasecmp(ehlo_texts[i].keyword, keyword) == 0)
			return ehlo_texts[i].text;
	}
	return NULL;
}

/* A parameter as it may be shown: printable ASCII only, cut at a bound. */
static void
param_append(vbuf *b, const char *p)
{
	size_t n = 0;

	for (; *p && n < EXPLAIN_SUMMARY_MAX; p++, n++)
		vbuf_append_byte(b, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
	if (*p)
		vbuf_append_str(b, "...");
}

char *
explain_ehlo(const smtp_ehlo *e)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, "  server calls itself \"");
	param_append(&b, e->domain);
	vbuf_append_str(&b, "\"\n");
	for (size_t i = 0; i < e->nkw; i++) {
		const smtp_ehlo_kw *kw = &e->kw[i];
		const char *what = explain_ehlo_keyword(kw->keyword);

		vbuf_append_str(&b, "  ");
		param_append(&b, kw->keyword);
		if (kw->params[0] != '\0') {
			vbuf_append_byte(&b, ' ');
			param_append(&b, kw->params);
		}
		vbuf_append_str(&b, "  - ");
		if (what != NULL)
			vbuf_append_str(&b, what);
		else if (kw->keyword[0] == 'X')
			vbuf_append_str(&b, "a private (X-prefixed) extension");
		else
			vbuf_append_str(&b, "a keyword this console does not know");
		if (strcasecmp(kw->keyword, "SIZE") == 0) {
			if (e->defects & SMTP_EHLO_BAD_SIZE)
				vbuf_append_str(&b, "; the limit is not a number (RFC 1870 §4)");
			else if (e->has_size && e->size_max > 0)
				vbuf_printf(&b, "; messages up to %llu octets", e->size_max);
			else
				vbuf_append_str(&b, "; no fixed limit announced");
		}
		vbuf_append_byte(&b, '\n');
	}
	if (e->defects & (SMTP_EHLO_BAD_KEYWORD | SMTP_EHLO_BAD_PARAM | SMTP_EHLO_NO_DOMAIN))
		vbuf_printf(&b, "  malformed EHLO reply, first at line %zu (RFC 5321 §4.1.1.1 ehlo-ok-rsp)\n",
		    e->defect_line + 1);
	return vbuf_take(&b);
}
