/*
 * explain - what an SMTP reply means, in one line a person can read (pure).
 *
 * Given the command a reply answers (verb and phase, as harness/smtp/codes
 * has them) and the parsed reply, explain_reply() writes one annotation:
 * the code's meaning (RFC 5321 §4.2.2/§4.2.3, or the extension that
 * defines it), its class by the first digit (§4.2.1), whether §4.3.2
 * allows it for that command (the table in harness/smtp/codes.c, widened
 * by the extensions in force), the enhanced status code's class, subject
 * and detail (RFC 3463 and the RFCs that added details), and what is
 * malformed about the reply. explain_ehlo() turns a parsed EHLO reply
 * into a short table of keywords, each with the RFC that defines it.
 *
 * Nothing here does I/O; every function returns static text or a heap
 * string the caller frees. Unknown codes and keywords are said to be
 * unknown, never guessed at.
 */
#ifndef HARNESS_CONSOLE_EXPLAIN_H
#define HARNESS_CONSOLE_EXPLAIN_H

#include "harness/smtp/codes.h"
#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"

/* The text RFC 5321 §4.2.2 (or an extension) gives a code, with its
 * source, e.g. "requested action okay, completed"; NULL when none does. */
const char *explain_code(int code);
/* The RFC that defines the code: "RFC 5321 §4.2.2", "RFC 4954 §6", ... ;
 * NULL when explain_code() is. */
const char *explain_code_ref(int code);
/* §4.2.1 first digit: "positive completion" ...; NULL outside 1-5. */
const char *explain_class(int first_digit);
/* §4.2.1 second digit: "syntax", "information", ...; NULL outside 0-5. */
const char *explain_category(int second_digit);
/* RFC 3463 §3.1 class (2, 4, 5), §4 subject (0-7) and detail; NULL when
 * the RFCs this module knows define none. */
const char *explain_esc_class(int cls);
const char *explain_esc_subject(int subject);
const char *explain_esc_detail(int subject, int detail);

/* One annotation line (no newline) for reply r answering verb in phase,
 * with exts (SMTP_EXT_*) in force; the caller frees. */
char *explain_reply(smtp_verb verb, smtp_phase phase, unsigned exts, const smtp_reply *r);

/* What an EHLO keyword offers, with its RFC, e.g. "RFC 2920: commands may
 * be sent in groups without waiting"; params refine it (SIZE's limit,
 * AUTH's mechanisms). NULL for a keyword this module does not know. */
const char *explain_ehlo_keyword(const char *keyword);
/* The capabilities of e as lines "  KEYWORD params  - meaning\n"; the
 * caller frees. */
char *explain_ehlo(const smtp_ehlo *e);

#endif
