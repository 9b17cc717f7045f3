/*
 * codes - which reply codes each command may get: RFC 5321 §4.3.2 as data.
 *
 * The table is shared/CONFORMANCE.md Table 1a, plus the any-command codes
 * 500, 501 and 421, plus the codes negotiated extensions add (Table 1b)
 * when the caller says the extension is in force. It answers "is 354
 * allowed here?" and lists the allowed set for messages.
 */
#ifndef HARNESS_SMTP_CODES_H
#define HARNESS_SMTP_CODES_H

#include <stddef.h>

#include "harness/smtp/command.h"

typedef enum smtp_phase {
	SMTP_PHASE_GREETING = 0,	/* connection establishment */
	SMTP_PHASE_COMMAND,		/* the reply to the command itself */
	SMTP_PHASE_DATA_END		/* the reply after the message content */
} smtp_phase;

/* Extensions whose codes widen the table. */
enum {
	SMTP_EXT_STARTTLS = 1 << 0,
	SMTP_EXT_AUTH = 1 << 1,
	SMTP_EXT_SIZE = 1 << 2,
	SMTP_EXT_CHUNKING = 1 << 3,
	SMTP_EXT_SMTPUTF8 = 1 << 4,
	SMTP_EXT_PIPELINING = 1 << 5,
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 6,
	SMTP_EXT_8BITMIME = 1 << 7,
	SMTP_EXT_DSN = 1 << 8
};

/* 1 if code is in the allowed set for verb in phase, given the extensions
 * the server advertised (a mask of SMTP_EXT_*). For SMTP_PHASE_GREETING
 * the verb is ignored. */
int smtp_code_allowed(smtp_verb verb, smtp_phase phase, int code, unsigned exts);
/* The allowed set as text, e.g. "250, 552, 451, 452, 550, 553, 503, 455,
 * 555 (or 500, 501, 421)"; a static string. */
const char *smtp_codes_allowed_str(smtp_verb verb, smtp_phase phase, unsigned exts);
/* The SMTP_EXT_* mask for an EHLO keyword, 0 for others. */
unsigned smtp_ext_from_keyword(const char *keyword);

#endif
