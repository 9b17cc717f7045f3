/*
 * mailbox - mbox splitting, token search and copy comparison (mailbox.h).
 */
#include "harness/check/mailbox.h"

#include <string.h>

/* A stored line: [start, start + len) without its LF and one CR before it;
 * next is where the following line starts. */
typedef struct mbx_line {
	size_t start;
	size_t len;
	size_t next;
} mbx_line;

/* Reads the stored line at pos; 0 when pos is at the end. */
static int
stored_line(const char *buf, size_t len, size_t pos, mbx_line *l)
{
	const char *nl;

	if (pos >= len)
		return 0;
	nl = memchr(buf + pos, '\n', len - pos);
	l->start = pos;
	if (nl == NULL) {
		l->len = len - pos;
		l->next = len;
	} else {
		l->len = (size_t)(nl - buf) - pos;
		l->next = (size_t)(nl - buf) + 1;
	}
	if (l->len > 0 && buf[l->start + l->len - 1] == '\r')
		l->len--;
	return 1;
}

/* Reads the sent line at pos, ended by CRLF (or the end of the buffer). */
static int
sent_line(const char *buf, size_t len, size_t pos, mbx_line *l)
{
	long at;

	if (pos >= len)
		return 0;
	at = mbx_find(buf, len, pos, "\r\n", 2);
	l->start = pos;
	if (at < 0) {
		l->len = len - pos;
		l->next = len;
	} else {
		l->len = (size_t)at - pos;
		l->next = (size_t)at + 2;
	}
	return 1;
}

long
mbx_find(const char *buf, size_t len, size_t from, const char *needle, size_t nlen)
{
	const char *p;
	const char *end;

	if (nlen == 0 || from > len || len - from < nlen)
		return -1;
	p = buf + from;
	end = buf + len - nlen + 1;
	while (p < end) {
		p = memchr(p, needle[0], (size_t)(end - p));
		if (p == NULL)
			return -1;
		if (memcmp(p, needle, nlen) == 0)
			return (long)(p - buf);
		p++;
	}
	return -1;
}

static int
is_from_line(const char *p, size_t len)
{
	return len >= 5 && memcmp(p, "From ", 5) == 0;
}

size_t
mbx_mbox_split(const char *buf, size_t len, mbx_msg *out, size_t max)
{
	size_t n = 0;
	size_t pos = 0;
	int prev_empty = 1;	/* the start of the file counts as after an empty line */
	int open = 0;
	mbx_line l;

	while (stored_line(buf, len, pos, &l)) {
		if (prev_empty && is_from_line(buf + l.start, l.len)) {
			if (open) {
				/* The empty line before this one separates. */
				size_t end = l.start;
				size_t sep = end;

				if (sep > out[n - 1].off && buf[sep - 1] == '\n') {
					sep--;
					if (sep > out[n - 1].off && buf[sep - 1] == '\r')
						sep--;
				}
				out[n - 1].len = sep - out[n - 1].off;
			}
			if (n == max) {
				open = 0;
				break;
			}
			out[n].off = l.next;
			out[n].len = 0;
			n++;
			open = 1;
		}
		prev_empty = l.len == 0;
		pos = l.next;
	}
	if (open) {
		size_t end = len;

		/* The last message: drop one trailing empty line (its separator). */
		if (end >= out[n - 1].off + 2 && buf[end - 1] == '\n') {
			size_t e = end - 1;

			if (e > out[n - 1].off && buf[e - 1] == '\r')
				e--;
			if (e > out[n - 1].off && buf[e - 1] == '\n')
				end = e;
		}
		out[n - 1].len = end - out[n - 1].off;
	}
	return n;
}

long
mbx_bare_eol(const char *buf, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++) {
		if (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))
			return (long)i;
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return (long)i;
	}
	return -1;
}

int
mbx_next_token(const char *buf, size_t len, const char *key, size_t *pos, unsigned long *n,
    size_t *at)
{
	size_t klen = strlen(key);

	while (*pos < len) {
		long k = mbx_find(buf, len, *pos, key, klen);
		size_t p;
		unsigned long v = 0;

		if (k < 0) {
			*pos = len;
			return 0;
		}
		p = (size_t)k + klen;
		if (p >= len || buf[p] < '0' || buf[p] > '9') {
			*pos = (size_t)k + 1;
			continue;
		}
		while (p < len && buf[p] >= '0' && buf[p] <= '9') {
			unsigned long d = (unsigned long)(buf[p] - '0');

			v = v > (~0UL - d) / 10 ? ~0UL : v * 10 + d;
			p++;
		}
		*n = v;
		*at = (size_t)k;
		*pos = p;
		return 1;
	}
	return 0;
}

/* A stored line equals a sent line; in an mbox, "From " lines (after any
 * '>') may carry one more '>'. */
static int
same_line(const char *stored, const mbx_line *s, const char *sent, const mbx_line *t, int mbox)
{
	const char *sp = stored + s->start;
	const char *tp = sent + t->start;
	size_t i;

	if (s->len == t->len && memcmp(sp, tp, s->len) == 0)
		return 1;
	if (!mbox || s->len != t->len + 1 || sp[0] != '>' || memcmp(sp + 1, tp, t->len) != 0)
		return 0;
	for (i = 0; i < t->len && tp[i] == '>'; i++)
		;
	return is_from_line(tp + i, t->len - i);
}

static void
differ(mbx_match *m, mbx_match_status st, size_t stored_off, size_t sent_off)
{
	m->status = st;
	m->stored_off = stored_off;
	m->sent_off = sent_off;
}

/* Skips stored header lines from *spos that the content did not have (up
 * to the one equal to sent line t, or with t NULL to the end of the stored
 * header section), counting them in m->added and noting the first in
 * *first. Returns 1 with the line it stopped at in *s, 0 at the end. */
static int
skip_added(const char *stored, size_t slen, size_t *spos, mbx_line *s, const char *sent,
    const mbx_line *t, size_t *first, mbx_match *m)
{
	int have = stored_line(stored, slen, *spos, s);

	while (have && s->len != 0 && (t == NULL || !same_line(stored, s, sent, t, 0))) {
		if (*first == (size_t)-1)
			*first = s->start;
		m->added++;
		*spos = s->next;
		have = stored_line(stored, slen, *spos, s);
	}
	return have;
}

void
mbx_match_copy(const char *stored, size_t slen, int mbox, const char *sent, size_t sentlen,
    mbx_match *m)
{
	mbx_line first, s, t;
	size_t spos = 0;
	size_t tpos;
	int in_header = 1;
	size_t added = (size_t)-1;	/* the first stored field skipped since the
					 * last match: where a change shows */

	memset(m, 0, sizeof(*m));
	if (!sent_line(sent, sentlen, 0, &first)) {
		differ(m, MBX_NOT_FOUND, 0, 0);
		return;
	}
	/* The anchor: the first stored line equal to the sent first line
	 * (the harness's own Message-ID field, unique to the transaction). */
	for (;;) {
		if (!stored_line(stored, slen, spos, &s)) {
			differ(m, MBX_NOT_FOUND, 0, 0);
			return;
		}
		if (same_line(stored, &s, sent, &first, 0))
			break;
		spos = s.next;
	}
	m->content_off = s.start;
	tpos = 0;
	while (sent_line(sent, sentlen, tpos, &t)) {
		int have = stored_line(stored, slen, spos, &s);

		if (in_header && t.len == 0) {
			/* The sent header section ends: the stored one must too,
			 * after any fields the server added. */
			have = skip_added(stored, slen, &spos, &s, NULL, NULL, &added, m);
			if (!have) {
				differ(m, MBX_CUT, slen, t.start);
				return;
			}
			in_header = 0;
			spos = s.next;
			tpos = t.next;
			continue;
		}
		if (in_header) {
			/* Skip stored fields the content did not have, up to the
			 * end of the stored header section. */
			have = skip_added(stored, slen, &spos, &s, sent, &t, &added, m);
			if (!have) {
				differ(m, MBX_CUT, added != (size_t)-1 ? added : slen, t.start);
				return;
			}
			if (s.len == 0) {
				differ(m, MBX_DIFFERENT, added != (size_t)-1 ? added : s.start, t.start);
				return;
			}
			added = (size_t)-1;
			spos = s.next;
			tpos = t.next;
			continue;
		}
		if (!have) {
			differ(m, MBX_CUT, slen, t.start);
			return;
		}
		if (!same_line(stored, &s, sent, &t, mbox)) {
			differ(m, MBX_DIFFERENT, s.start, t.start);
			return;
		}
		spos = s.next;
		tpos = t.next;
	}
	if (in_header) {
		/* Content without a body: fields may still follow, and the
		 * empty line that ends the stored header section. */
		if (skip_added(stored, slen, &spos, &s, NULL, NULL, &added, m))
			spos = s.next;
	}
	if (stored_line(stored, slen, spos, &s)) {
		differ(m, MBX_EXTRA, s.start, sentlen);
		return;
	}
	m->status = MBX_SAME;
}

void
mbx_fields(const char *stored, size_t end, mbx_field_fn fn, void *arg)
{
	size_t pos = 0;
	mbx_line l;
	size_t fstart = 0;
	size_t fend = 0;
	int open = 0;

	while (stored_line(stored, end, pos, &l) && l.len != 0) {
		int cont = stored[l.start] == ' ' || stored[l.start] == '\t';

		if (!cont) {
			if (open && fn(arg, stored + fstart, fend - fstart, fstart))
				return;
			fstart = l.start;
			open = 1;
		}
		if (open)
			fend = l.start + l.len;
		pos = l.next;
	}
	if (open)
		fn(arg, stored + fstart, fend - fstart, fstart);
}

const char *
mbx_match_status_str(mbx_match_status s)
{
	switch (s) {
	case MBX_SAME:
		return "same";
	case MBX_NOT_FOUND:
		return "not found";
	case MBX_DIFFERENT:
		return "different";
	case MBX_CUT:
		return "cut";
	case MBX_EXTRA:
		return "extra";
	}
	return "?";
}
