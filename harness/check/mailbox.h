/*
 * mailbox - delivered copies read as bytes: mbox splitting, token search,
 * and the comparison of a stored copy with the content that was sent.
 *
 * Pure: it never touches a file (harness/engine/oracle.c reads them) and
 * is fed whatever a mailbox holds, hostile content included. Every walk is
 * linear in its input, and nothing is allocated but the arrays the caller
 * bounds (HARNESS_ORACLE_MESSAGES_MAX messages per mbox).
 *
 * Storage conventions it reads through: a stored line ends in LF or CRLF
 * (Maildir and mbox writers use LF; a copy written as sent keeps CRLF);
 * an mbox message starts after a "From " line at the start of the file or
 * after an empty line, the empty line before the next one is the
 * separator, and body lines that begin with zero or more '>' and "From "
 * may carry one more '>' (mboxo, mboxrd). A copy may hold header fields
 * the content did not: trace fields (Return-Path, Received, Delivered-To)
 * on top, and fields a server adds to the header section (RFC 5321 §6.4
 * lets a submission server add a missing Date or Message-ID); those are
 * counted, never taken for a change. Sent header fields must all be there
 * in their order, and the body must be there line for line.
 */
#ifndef HARNESS_CHECK_MAILBOX_H
#define HARNESS_CHECK_MAILBOX_H

#include <stddef.h>

/* One message inside a buffer: [off, off + len). */
typedef struct mbx_msg {
	size_t off;
	size_t len;
} mbx_msg;

/* Splits an mbox into at most max messages, writing their content (after
 * the "From " line, without the separating empty line) into out. Bytes
 * before the first "From " line are ignored. Returns the count. */
size_t mbx_mbox_split(const char *buf, size_t len, mbx_msg *out, size_t max);

/* The first occurrence of needle (nlen > 0) in buf at or after from, or
 * -1. Linear in len. */
long mbx_find(const char *buf, size_t len, size_t from, const char *needle, size_t nlen);

/* The next occurrence, at or after *pos, of key followed by one or more
 * digits: sets *n to their value (saturating), *at to the key's offset
 * and advances *pos past the digits. Returns 1, or 0 when none is left. */
int mbx_next_token(const char *buf, size_t len, const char *key, size_t *pos,
    unsigned long *n, size_t *at);

/* The offset of the first CR not followed by LF, or LF not preceded by
 * CR, in buf[from, len) (a CRLF split by from counts as one), or -1. */
long mbx_bare_eol(const char *buf, size_t len, size_t from);

typedef enum mbx_match_status {
	MBX_SAME = 0,		/* every sent line is there, in order */
	MBX_NOT_FOUND,		/* the sent first line is not in the copy */
	MBX_DIFFERENT,		/* a sent line is missing or altered */
	MBX_CUT,		/* the copy ends before the sent content does */
	MBX_EXTRA		/* the copy goes on after the sent content ends */
} mbx_match_status;

typedef struct mbx_match {
	mbx_match_status status;
	size_t content_off;	/* stored offset of the sent first line (SAME etc.) */
	size_t stored_off;	/* not SAME: stored offset of the first difference */
	size_t sent_off;	/* not SAME: sent offset of the first difference */
	size_t added;		/* stored header lines in the sent header section
				 * that the content did not have */
} mbx_match;

/* Compares a stored copy with the sent content (unstuffed, every line
 * ended by CRLF: the caller judges bare CR or LF apart). mbox: read the
 * '>' quoting of "From " lines. */
void mbx_match_copy(const char *stored, size_t slen, int mbox, const char *sent,
    size_t sentlen, mbx_match *m);

/* Header field lines of stored[0, end): calls fn for each field (its
 * start and length, continuation lines included, line ends excluded of
 * the last line) until fn returns non-zero. Stops at an empty line. */
typedef int (*mbx_field_fn)(void *arg, const char *field, size_t len, size_t off);
void mbx_fields(const char *stored, size_t end, mbx_field_fn fn, void *arg);

const char *mbx_match_status_str(mbx_match_status s);

#endif
