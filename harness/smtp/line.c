#include "harness/smtp/line.h"

#include <string.h>

/*
 * The reader keeps a CR it has just seen out of `buf` (pending_cr): only
 * the next byte says whether it was half of a CRLF terminator or a bare CR
 * that belongs to the line. That next byte may come in a later feed.
 */

void
smtp_line_reader_init(smtp_line_reader *r, size_t hard_max)
{
	memset(r, 0, sizeof(*r));
	r->hard_max = hard_max ? hard_max : 1;
}

void
smtp_line_reader_free(smtp_line_reader *r)
{
	if (r == NULL)
		return;
	vbuf_free(&r->buf);
	r->pending_cr = 0;
	r->flags = 0;
}

void
smtp_line_reader_reset(smtp_line_reader *r)
{
	vbuf_reset(&r->buf);
	r->pending_cr = 0;
	r->flags = 0;
}

size_t
smtp_line_pending(const smtp_line_reader *r)
{
	return r->buf.len + (r->pending_cr ? 1 : 0);
}

/*
 * Hands the assembled bytes out as a line and starts a new one. The text
 * must stay readable until the next feed, so the buffer is emptied by
 * setting its length only: the bytes stay where they are until the next
 * append overwrites them.
 */
static void
line_emit(smtp_line_reader *r, smtp_line *line, size_t term, unsigned extra)
{
	line->text = vbuf_str(&r->buf);
	line->len = r->buf.len;
	line->wire_len = r->buf.len + term;
	line->flags = r->flags | extra;
	r->buf.len = 0;
	r->flags = 0;
}

static unsigned
line_byte_flags(unsigned char c)
{
	if (c == '\0')
		return SMTP_LINE_NUL;
	if (c >= 0x80)
		return SMTP_LINE_8BIT;
	return 0;
}

int
smtp_line_feed(smtp_line_reader *r, const char *buf, size_t len, size_t *consumed,
    smtp_line *line)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];

		if (r->pending_cr) {
			if (c == '\n') {
				r->pending_cr = 0;
				*consumed = i + 1;
				line_emit(r, line, 2, 0);
				return 1;
			}
			/* The CR was a byte of the line. If it does not fit, the
			 * line is cut before it and the CR starts the next one. */
			if (r->buf.len >= r->hard_max) {
				*consumed = i;
				line_emit(r, line, 0, SMTP_LINE_TOO_LONG_HARD);
				return 1;
			}
			vbuf_append_byte(&r->buf, '\r');
			r->flags |= SMTP_LINE_BARE_CR;
			r->pending_cr = 0;
			continue;	/* look at c again */
		}
		if (c == '\n') {
			*consumed = i + 1;
			line_emit(r, line, 1, SMTP_LINE_BARE_LF);
			return 1;
		}
		if (c == '\r') {
			r->pending_cr = 1;
			i++;
			continue;
		}

		/* A run of ordinary bytes, appended at once. */
		size_t j = i;
		unsigned fl = 0;

		while (j < len && buf[j] != '\r' && buf[j] != '\n') {
			fl |= line_byte_flags((unsigned char)buf[j]);
			j++;
		}
		size_t room = r->hard_max > r->buf.len ? r->hard_max - r->buf.len : 0;

		if (j - i > room) {
			/* Recompute the flags over the part that is kept. */
			fl = 0;
			for (size_t k = i; k < i + room; k++)
				fl |= line_byte_flags((unsigned char)buf[k]);
			vbuf_append(&r->buf, buf + i, room);
			r->flags |= fl;
			*consumed = i + room;
			line_emit(r, line, 0, SMTP_LINE_TOO_LONG_HARD);
			return 1;
		}
		vbuf_append(&r->buf, buf + i, j - i);
		r->flags |= fl;
		i = j;
	}
	*consumed = i;
	return 0;
}
