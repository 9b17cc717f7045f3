/*
 * instream - a client's byte stream read as an SMTP server reads it
 * (pure, no I/O).
 *
 * The caller keeps the whole stream (the transcript's C2S bytes) and asks
 * for the next item from where the last one ended: a command line (up to
 * LF; a CR before it is dropped), a BDAT command with its chunk (RFC 3030:
 * the chunk is read by its size, whatever it holds), or, once the caller
 * said a 3xx answered DATA, the message content up to CRLF.CRLF, unstuffed
 * (RFC 5321 §4.5.2, §4.1.1.4). A command line longer than the caller's
 * limit (counting its end) is reported, not buffered. Nothing is read ahead:
 * in lock-step, bytes after an item stay unread until it is answered.
 */
#ifndef HARNESS_SMTP_INSTREAM_H
#define HARNESS_SMTP_INSTREAM_H

#include <stddef.h>

#include "harness/smtp/command.h"
#include "harness/util/vbuf.h"

typedef struct smtp_instream {
	size_t rd;		/* bytes taken as items so far */
	int data;		/* reading message content (after a 3xx to DATA) */
	size_t scan;		/* content: searched for CRLF.CRLF up to here */
} smtp_instream;

typedef struct smtp_initem {
	int content;		/* message content (after DATA) */
	int bdat;		/* a BDAT command with its chunk */
	int bdat_last;
	size_t off;		/* where it starts in the stream */
	size_t len;		/* the line with its end, or the content with CRLF.CRLF,
				 * or the BDAT line and its chunk */
	char *line;		/* the command line without its end, NUL-terminated
				 * (it stops at a NUL the client sent) */
	smtp_cmd cmd;		/* parsed from line */
	vbuf body;		/* content: unstuffed, with its last CRLF; BDAT: the chunk */
} smtp_initem;

enum {
	SMTP_IN_TOO_LONG = -1,	/* a command line over line_max octets with its LF */
	SMTP_IN_MORE = 0,	/* no whole item yet */
	SMTP_IN_ITEM = 1	/* *it holds one; the caller clears it */
};

/* The next item of buf[0..len) (the stream so far) after s->rd. A BDAT
 * chunk over chunk_max is not read as one: the command is returned as a
 * plain line and the caller judges it. */
int smtp_in_take(smtp_instream *s, const char *buf, size_t len, size_t line_max,
    size_t chunk_max, smtp_initem *it);

/* After a 3xx reply to DATA: what follows is message content. */
void smtp_in_expect_data(smtp_instream *s);

void smtp_initem_clear(smtp_initem *it);

#endif
