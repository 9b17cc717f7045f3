/*
 * command - SMTP commands and message data on the wire (pure, no I/O).
 *
 * Formatting: a command line gets CRLF; message content is dot-stuffed
 * (RFC 5321 §4.5.2) and terminated with CRLF.CRLF; raw bytes for
 * deliberately malformed input come from an escaped string ("\r", "\n",
 * "\t", "\0", "\xHH", "\\"). Parsing: a command line splits into its verb
 * (RFC 5321 §4.1.1, any letter case) and arguments, for the checks that
 * read what a client sent and, later, the server role.
 */
#ifndef HARNESS_SMTP_COMMAND_H
#define HARNESS_SMTP_COMMAND_H

#include <stddef.h>

#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"

typedef enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_EHLO,
	SMTP_VERB_HELO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_RSET,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_BDAT,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_ETRN,
	SMTP_VERB_TURN,
	SMTP_VERB_COUNT
} smtp_verb;

typedef struct smtp_cmd {
	smtp_verb verb;
	char name[HARNESS_VERB_MAX + 1];	/* verb as sent, upper-cased, cut to fit */
	const char *args;	/* points into the parsed line, after the separating space(s) */
	size_t args_len;
	int has_space;		/* a space followed the verb */
} smtp_cmd;

/* Splits a command line (without its CRLF). Never fails: an empty or
 * garbage line gives SMTP_VERB_UNKNOWN with name "". */
void smtp_cmd_parse(const char *line, size_t len, smtp_cmd *out);
/* Case-insensitive verb lookup; SMTP_VERB_UNKNOWN if not a known verb. */
smtp_verb smtp_verb_lookup(const char *name, size_t len);
const char *smtp_verb_str(smtp_verb v);	/* "EHLO", ... "UNKNOWN" */
/* Verbs that must end a pipelined group (RFC 2920 §3.1): EHLO, HELO, DATA,
 * VRFY, EXPN, TURN, QUIT, NOOP, STARTTLS, AUTH, ETRN, HELP; not BDAT
 * (RFC 3030 §2 lets BDATs be pipelined). */
int smtp_verb_ends_group(smtp_verb v);

/* Appends line + CRLF. */
void smtp_cmd_format(vbuf *out, const char *line);
/* Appends message content dot-stuffed: each of the n lines gets CRLF and a
 * leading '.' doubled, then ".\r\n". */
void smtp_data_stuff_lines(vbuf *out, const char *const *lines, size_t n);
/* Same for a text blob whose lines end in LF or CRLF; a last line without
 * a terminator gets CRLF (RFC 5321 §4.1.1.4). */
void smtp_data_stuff_text(vbuf *out, const char *text, size_t len);
/* Reverses dot-stuffing of content (without the final ".\r\n"). */
void smtp_data_unstuff(vbuf *out, const char *wire, size_t len);

/* Decodes an escaped string into raw bytes. Returns 0, or -1 with err set
 * to "bad escape \\q at offset 7" style text. */
int smtp_unescape(const char *in, size_t len, vbuf *out, char *err, size_t errlen);

#endif
