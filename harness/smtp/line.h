/*
 * line - an incremental splitter of CRLF-terminated lines (pure, no I/O).
 *
 * Fed bytes in any pieces, it yields complete lines. CRLF is the only
 * proper terminator (RFC 5321 §2.3.8); a bare LF also ends a line but the
 * line is flagged SMTP_LINE_BARE_LF, and a CR not followed by LF inside a
 * line is flagged SMTP_LINE_BARE_CR (and kept as a byte of the line). A
 * line longer than `hard_max` bytes ends in SMTP_LINE_TOO_LONG_HARD: the
 * reader yields what it has as a line with that flag and the caller
 * decides whether to go on. NUL bytes are kept and flagged SMTP_LINE_NUL.
 */
#ifndef HARNESS_SMTP_LINE_H
#define HARNESS_SMTP_LINE_H

#include <stddef.h>

#include "harness/util/vbuf.h"

enum {
	SMTP_LINE_BARE_LF = 1 << 0,	/* ended by LF without CR */
	SMTP_LINE_BARE_CR = 1 << 1,	/* a CR not followed by LF inside */
	SMTP_LINE_NUL = 1 << 2,		/* contains a NUL byte */
	SMTP_LINE_8BIT = 1 << 3,	/* contains a byte >= 0x80 */
	SMTP_LINE_TOO_LONG_HARD = 1 << 4	/* cut at hard_max, no terminator seen */
};

typedef struct smtp_line_reader {
	vbuf buf;		/* bytes of the line being assembled */
	size_t hard_max;
	int pending_cr;		/* last byte fed was a CR */
	unsigned flags;		/* flags of the line being assembled */
} smtp_line_reader;

typedef struct smtp_line {
	const char *text;	/* line without its terminator; valid until the next feed */
	size_t len;
	size_t wire_len;	/* bytes it took on the wire, terminator included */
	unsigned flags;
} smtp_line;

void smtp_line_reader_init(smtp_line_reader *r, size_t hard_max);
void smtp_line_reader_free(smtp_line_reader *r);
void smtp_line_reader_reset(smtp_line_reader *r);
/* Consumes bytes from buf until a line is complete or buf is exhausted.
 * Returns 1 with *line filled when a line completed, 0 when more bytes are
 * needed; *consumed says how many bytes of buf were used either way. */
int smtp_line_feed(smtp_line_reader *r, const char *buf, size_t len, size_t *consumed,
    smtp_line *line);
/* Bytes held for an incomplete line. */
size_t smtp_line_pending(const smtp_line_reader *r);

#endif
