#include "harness/smtp/codes.h"

#include <stdio.h>
#include <strings.h>

/* Longest code list of one row, with its terminating 0. */
#define CODES_ROW_MAX	16
/* Longest set we ever assemble: a row plus every extension that adds. */
#define CODES_SET_MAX	48

/* A verb value meaning "any command" in the extension table. */
#define CODES_ANY_VERB	SMTP_VERB_COUNT

/*
 * Table 1a of shared/CONFORMANCE.md (RFC 5321 §4.3.2), one row per command
 * and phase, codes in the order the RFC lists them: intermediate, success,
 * error. Each list ends with 0.
 */
static const struct code_row {
	smtp_verb verb;
	smtp_phase phase;
	unsigned unless_ext;	/* row ignored when these extensions are in force */
	int i[4];
	int s[6];
	int e[CODES_ROW_MAX];
} base_table[] = {
	/* Connection establishment: the verb is ignored. */
	{ SMTP_VERB_UNKNOWN, SMTP_PHASE_GREETING, 0, { 0 }, { 220, 0 }, { 554, 0 } },
	{ SMTP_VERB_EHLO, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 0 }, { 504, 550, 502, 0 } },
	{ SMTP_VERB_HELO, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 0 }, { 504, 550, 502, 0 } },
	{ SMTP_VERB_MAIL, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 0 },
	    { 552, 451, 452, 550, 553, 503, 455, 555, 0 } },
	/* 556: RFC 7505 §4.1 (Table 1b, null MX), which needs no EHLO keyword. */
	{ SMTP_VERB_RCPT, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 251, 0 },
	    { 550, 551, 552, 553, 450, 451, 452, 503, 455, 555, 556, 0 } },
	{ SMTP_VERB_DATA, SMTP_PHASE_COMMAND, 0, { 354, 0 }, { 0 }, { 503, 554, 0 } },
	{ SMTP_VERB_DATA, SMTP_PHASE_DATA_END, 0, { 0 }, { 250, 0 },
	    { 552, 554, 451, 452, 450, 550, 0 } },
	{ SMTP_VERB_RSET, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 0 }, { 0 } },
	{ SMTP_VERB_VRFY, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 251, 252, 0 },
	    { 550, 551, 553, 502, 504, 0 } },
	{ SMTP_VERB_EXPN, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 252, 0 },
	    { 550, 500, 502, 504, 0 } },
	{ SMTP_VERB_HELP, SMTP_PHASE_COMMAND, 0, { 0 }, { 211, 214, 0 }, { 502, 504, 0 } },
	{ SMTP_VERB_NOOP, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 0 }, { 0 } },
	{ SMTP_VERB_QUIT, SMTP_PHASE_COMMAND, 0, { 0 }, { 221, 0 }, { 0 } },
	/* ETRN is not in Table 1a; its replies are RFC 1985 §5's, plus 502
	 * from a server that recognises but does not offer it (§4.2.4). */
	{ SMTP_VERB_ETRN, SMTP_PHASE_COMMAND, 0, { 0 }, { 250, 251, 252, 253, 0 },
	    { 458, 459, 502, 0 } },
	/*
	 * Verbs the table has no row for: an unknown verb, TURN (obsolete,
	 * RFC 5321 App. F.1) and the extension verbs when their extension is
	 * not in force (once advertised, §4.2.4 forbids 500/502 for them and
	 * Table 1b gives their codes). A server that does not know the verb
	 * says 500, one that knows it but does not offer it 502 (§4.2.4); 503
	 * (bad sequence) and 530 (authentication or TLS required first, RFC
	 * 4954 §6, RFC 3207 §4) are what servers send before they even look at
	 * the verb. Being
	 * permissive here keeps table-adherence findings to real oddities.
	 */
	{ SMTP_VERB_UNKNOWN, SMTP_PHASE_COMMAND, 0, { 0 }, { 0 }, { 502, 503, 530, 0 } },
	{ SMTP_VERB_TURN, SMTP_PHASE_COMMAND, 0, { 0 }, { 0 }, { 502, 503, 530, 0 } },
	{ SMTP_VERB_STARTTLS, SMTP_PHASE_COMMAND, SMTP_EXT_STARTTLS, { 0 }, { 0 },
	    { 502, 503, 530, 0 } },
	{ SMTP_VERB_AUTH, SMTP_PHASE_COMMAND, SMTP_EXT_AUTH, { 0 }, { 0 },
	    { 502, 503, 530, 0 } },
	{ SMTP_VERB_BDAT, SMTP_PHASE_COMMAND, SMTP_EXT_CHUNKING, { 0 }, { 0 },
	    { 502, 503, 530, 0 } },
};

/* Any command may get these (RFC 5321 §4.3.2); the greeting only 421. */
static const int any_command[] = { 500, 501, 421, 0 };
static const int any_greeting[] = { 421, 0 };

/*
 * Table 1b: codes an extension adds once the server advertised it. A row
 * with CODES_ANY_VERB applies to every command (the "any" group).
 */
static const struct ext_row {
	unsigned ext;
	int verb;		/* smtp_verb or CODES_ANY_VERB */
	smtp_phase phase;
	int codes[CODES_ROW_MAX];
} ext_table[] = {
	/* RFC 3207 §4 */
	{ SMTP_EXT_STARTTLS, SMTP_VERB_STARTTLS, SMTP_PHASE_COMMAND, { 220, 501, 454, 0 } },
	{ SMTP_EXT_STARTTLS, CODES_ANY_VERB, SMTP_PHASE_COMMAND, { 530, 0 } },
	/* RFC 4954 §4, §6 */
	{ SMTP_EXT_AUTH, SMTP_VERB_AUTH, SMTP_PHASE_COMMAND,
	    { 334, 235, 432, 454, 500, 501, 503, 504, 534, 535, 538, 0 } },
	{ SMTP_EXT_AUTH, CODES_ANY_VERB, SMTP_PHASE_COMMAND, { 530, 0 } },
	/* RFC 1870 §6 */
	{ SMTP_EXT_SIZE, SMTP_VERB_MAIL, SMTP_PHASE_COMMAND, { 452, 552, 0 } },
	{ SMTP_EXT_SIZE, SMTP_VERB_RCPT, SMTP_PHASE_COMMAND, { 452, 552, 0 } },
	/* RFC 3030 §2-3: every BDAT gets a reply; the last one answers the
	 * whole message, so it may carry the after-data codes. */
	{ SMTP_EXT_CHUNKING, SMTP_VERB_BDAT, SMTP_PHASE_COMMAND,
	    { 250, 503, 552, 554, 451, 452, 450, 550, 0 } },
	{ SMTP_EXT_CHUNKING, SMTP_VERB_BDAT, SMTP_PHASE_DATA_END,
	    { 250, 503, 552, 554, 451, 452, 450, 550, 0 } },
	{ SMTP_EXT_CHUNKING, SMTP_VERB_DATA, SMTP_PHASE_COMMAND, { 503, 0 } },
	/* RFC 6531 §3.5, §3.7.4 */
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_RCPT, SMTP_PHASE_COMMAND, { 553, 550, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_MAIL, SMTP_PHASE_COMMAND, { 553, 550, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_DATA, SMTP_PHASE_DATA_END, { 554, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_BDAT, SMTP_PHASE_COMMAND, { 554, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_BDAT, SMTP_PHASE_DATA_END, { 554, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_VRFY, SMTP_PHASE_COMMAND, { 252, 550, 0 } },
	{ SMTP_EXT_SMTPUTF8, SMTP_VERB_EXPN, SMTP_PHASE_COMMAND, { 252, 550, 0 } },
};

static const struct {
	const char *keyword;
	unsigned ext;
} ext_keywords[] = {
	{ "STARTTLS", SMTP_EXT_STARTTLS },
	{ "AUTH", SMTP_EXT_AUTH },
	{ "SIZE", SMTP_EXT_SIZE },
	{ "CHUNKING", SMTP_EXT_CHUNKING },
	{ "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
	{ "PIPELINING", SMTP_EXT_PIPELINING },
	{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
	{ "8BITMIME", SMTP_EXT_8BITMIME },
	{ "DSN", SMTP_EXT_DSN },
};

typedef struct code_set {
	int c[CODES_SET_MAX];
	size_t n;
} code_set;

static void
set_add(code_set *s, const int *codes)
{
	for (; *codes; codes++) {
		size_t k;

		for (k = 0; k < s->n && s->c[k] != *codes; k++)
			;
		if (k == s->n && s->n < CODES_SET_MAX)
			s->c[s->n++] = *codes;
	}
}

static int
set_has(const code_set *s, int code)
{
	for (size_t k = 0; k < s->n; k++) {
		if (s->c[k] == code)
			return 1;
	}
	return 0;
}

/*
 * The verb's own codes (spec) and the codes any command may get (any).
 * In the greeting phase the verb does not matter; after the content it is
 * DATA or BDAT, and anything else is read as DATA.
 */
static void
codes_collect(smtp_verb verb, smtp_phase phase, unsigned exts, code_set *spec, code_set *any)
{
	spec->n = any->n = 0;
	if (phase == SMTP_PHASE_GREETING) {
		verb = SMTP_VERB_UNKNOWN;
		set_add(any, any_greeting);
	} else {
		if (phase == SMTP_PHASE_DATA_END && verb != SMTP_VERB_BDAT)
			verb = SMTP_VERB_DATA;
		if ((unsigned)verb >= SMTP_VERB_COUNT)
			verb = SMTP_VERB_UNKNOWN;
		set_add(any, any_command);
	}
	for (size_t i = 0; i < sizeof(base_table) / sizeof(base_table[0]); i++) {
		const struct code_row *r = &base_table[i];

		if (r->verb != verb || r->phase != phase || (exts & r->unless_ext))
			continue;
		set_add(spec, r->i);
		set_add(spec, r->s);
		set_add(spec, r->e);
	}
	for (size_t i = 0; i < sizeof(ext_table) / sizeof(ext_table[0]); i++) {
		const struct ext_row *r = &ext_table[i];

		if (!(exts & r->ext) || r->phase != phase)
			continue;
		if (r->verb == CODES_ANY_VERB)
			set_add(any, r->codes);
		else if (r->verb == (int)verb)
			set_add(spec, r->codes);
	}
}

int
smtp_code_allowed(smtp_verb verb, smtp_phase phase, int code, unsigned exts)
{
	code_set spec, any;

	codes_collect(verb, phase, exts, &spec, &any);
	return set_has(&spec, code) || set_has(&any, code);
}

/* Appends to buf at *pos, never past its end. */
static void
str_add(char *buf, size_t size, size_t *pos, const char *sep, int code)
{
	int n;

	if (*pos >= size)
		return;
	n = snprintf(buf + *pos, size - *pos, "%s%d", sep, code);
	if (n < 0 || (size_t)n >= size - *pos)
		*pos = size;
	else
		*pos += (size_t)n;
}

const char *
smtp_codes_allowed_str(smtp_verb verb, smtp_phase phase, unsigned exts)
{
	/* Per thread so that concurrent checks do not share it; big enough
	 * for two full sets of "NNN, ". */
	static _Thread_local char buf[CODES_SET_MAX * 2 * 5 + 16];
	code_set spec, any;
	size_t pos = 0;
	int first = 1;

	codes_collect(verb, phase, exts, &spec, &any);
	buf[0] = '\0';
	for (size_t k = 0; k < spec.n; k++)
		str_add(buf, sizeof(buf), &pos, k ? ", " : "", spec.c[k]);
	/* Codes already listed are not repeated in the "or" group. */
	for (size_t k = 0; k < any.n; k++) {
		if (set_has(&spec, any.c[k]))
			continue;
		str_add(buf, sizeof(buf), &pos, first ? (spec.n ? " (or " : "(or ") : ", ",
		    any.c[k]);
		first = 0;
	}
	if (!first && pos + 1 < sizeof(buf)) {
		buf[pos++] = ')';
		buf[pos] = '\0';
	}
	return buf;
}

unsigned
smtp_ext_from_keyword(const char *keyword)
{
	if (keyword == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(ext_keywords) / sizeof(ext_keywords[0]); i++) {
		if (strcasecmp(ext_keywords[i].keyword, keyword) == 0)
			return ext_keywords[i].ext;
	}
	return 0;
}
