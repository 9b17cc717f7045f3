/*
 * reply - the incremental SMTP reply parser (pure, no I/O).
 *
 * RFC 5321 §4.2: a reply is one or more lines "code-text" ending with a
 * line "code SP text" or the bare code; §4.2.1 wants the same code on every
 * line. The parser is fed bytes in any pieces (a reply split at any byte,
 * or many replies in one read) and returns each complete reply. It never
 * rejects a malformed reply silently: it records what is wrong in
 * `defects` and the checks turn those into findings. A line counts as a
 * continuation only when it starts with three digits and a '-'; anything
 * else ends the reply (so garbage from the peer becomes a one-line reply
 * with code -1 and SMTP_REPLY_BAD_CODE).
 *
 * Enhanced status codes (RFC 3463, "class.subject.detail" at the start of
 * the text) are split out of each line.
 *
 * Limits: a line longer than SMTP_REPLY_LINE_MAX (512 with CRLF) is a
 * defect; a line longer than HARNESS_LINE_HARD_MAX or a reply of more than
 * HARNESS_REPLY_LINES_MAX lines makes the parser return SMTP_FEED_ERROR,
 * after which it accepts no more input.
 */
#ifndef HARNESS_SMTP_REPLY_H
#define HARNESS_SMTP_REPLY_H

#include <stddef.h>

#include "harness/smtp/line.h"
#include "harness/util/vbuf.h"

enum {
	SMTP_REPLY_BAD_CODE = 1 << 0,	/* a line does not start with a code [2-5][0-5][0-9] */
	SMTP_REPLY_CODE_MISMATCH = 1 << 1, /* continuation lines carry different codes */
	SMTP_REPLY_BAD_SEPARATOR = 1 << 2, /* 4th byte neither SP, '-' nor end of line */
	SMTP_REPLY_BARE_LF = 1 << 3,	/* a line ended by LF alone */
	SMTP_REPLY_BARE_CR = 1 << 4,	/* a CR inside a line */
	SMTP_REPLY_LINE_TOO_LONG = 1 << 5, /* a line over SMTP_REPLY_LINE_MAX octets */
	SMTP_REPLY_NUL = 1 << 6,	/* a NUL byte */
	SMTP_REPLY_8BIT = 1 << 7,	/* a byte >= 0x80 */
	SMTP_REPLY_CTRL = 1 << 8	/* another control character in the text */
};

typedef struct smtp_esc {
	int present;
	int cls;		/* 2, 4 or 5 */
	int subject;		/* 0-999 */
	int detail;		/* 0-999 */
	int bad;		/* looks like an enhanced code but breaks RFC 3463 syntax */
} smtp_esc;

typedef struct smtp_reply_line {
	size_t off;		/* offset of the line in `raw` */
	size_t len;		/* length without its terminator */
	int code;		/* -1 when the line has no valid code */
	char sep;		/* ' ', '-', or '\0' for a bare code / bad separator */
	size_t text_off;	/* offset of the text (after "code" and sep) in `raw` */
	smtp_esc esc;
} smtp_reply_line;

typedef struct smtp_reply {
	int code;		/* code of the first line, -1 when it has none */
	unsigned defects;
	char *raw;		/* the reply's bytes as received, NUL-terminated */
	size_t raw_len;		/* bytes on the wire, terminators included */
	smtp_reply_line *lines;
	size_t nlines;
	smtp_esc esc;		/* of the first line */
} smtp_reply;

typedef enum smtp_feed_status {
	SMTP_FEED_NEED_MORE = 0,
	SMTP_FEED_REPLY,	/* *out holds a complete reply */
	SMTP_FEED_ERROR		/* a hard limit was passed; see smtp_reply_parser_error() */
} smtp_feed_status;

typedef struct smtp_reply_parser smtp_reply_parser;

smtp_reply_parser *smtp_reply_parser_new(void);
void smtp_reply_parser_free(smtp_reply_parser *p);
/* Consumes bytes of buf up to and including the end of the first complete
 * reply, and no further: *consumed tells how far it got, so the caller
 * knows where each reply ended. On SMTP_FEED_REPLY *out is a new reply the
 * caller owns (smtp_reply_free). */
smtp_feed_status smtp_reply_feed(smtp_reply_parser *p, const char *buf, size_t len,
    size_t *consumed, smtp_reply **out);
/* Bytes held for a reply not complete yet. */
size_t smtp_reply_parser_pending(const smtp_reply_parser *p);
/* A one-line description of the hard-limit error. */
const char *smtp_reply_parser_error(const smtp_reply_parser *p);

void smtp_reply_free(smtp_reply *r);
/* Text of line i (after the code and separator), not NUL-terminated. */
const char *smtp_reply_text(const smtp_reply *r, size_t i, size_t *len);
/* The whole reply on one line for messages: "250-a / 250 b", escaped,
 * at most `max` bytes; the caller frees. */
char *smtp_reply_summary(const smtp_reply *r, size_t max);
/* Parses an RFC 3463 code at the start of text. Returns bytes used (0 when
 * there is none) and fills esc. */
size_t smtp_esc_parse(const char *text, size_t len, smtp_esc *esc);
/* Names the defect bits, e.g. "code mismatch, bare LF". Static buffer. */
const char *smtp_reply_defects_str(unsigned defects);

#endif
