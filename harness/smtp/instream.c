/*
 * instream - a client's byte stream read as an SMTP server reads it
 * (instream.h).
 */
#include "harness/smtp/instream.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/util/xalloc.h"

/* The first CRLF.CRLF in p, or NULL (memmem is not POSIX). */
static const char *
in_find_end(const char *p, size_t len)
{
	size_t i = 0;

	while (i + 5 <= len) {
		const char *q = memchr(p + i, '\r', len - 4 - i);

		if (q == NULL)
			return NULL;
		if (memcmp(q, "\r\n.\r\n", 5) == 0)
			return q;
		i = (size_t)(q - p) + 1;
	}
	return NULL;
}

void
smtp_initem_clear(smtp_initem *it)
{
	xfree(it->line);
	vbuf_free(&it->body);
	memset(it, 0, sizeof(*it));
}

void
smtp_in_expect_data(smtp_instream *s)
{
	s->data = 1;
	s->scan = s->rd;
}

/* Content: a lone dot at once, or up to the first CRLF.CRLF, searched
 * only once over bytes already seen. */
static int
in_take_content(smtp_instream *s, const char *buf, size_t len, smtp_initem *it)
{
	const char *p = buf + s->rd;
	size_t avail = len - s->rd;

	if (avail >= 3 && memcmp(p, ".\r\n", 3) == 0) {
		it->len = 3;
	} else {
		size_t from = s->scan > s->rd + 4 ? s->scan - 4 : s->rd;
		const char *end = in_find_end(buf + from, len - from);

		if (end == NULL) {
			s->scan = len;
			return SMTP_IN_MORE;
		}
		it->len = (size_t)(end - p) + 5;
		smtp_data_unstuff(&it->body, p, (size_t)(end - p) + 2);
	}
	it->content = 1;
	s->rd += it->len;
	s->data = 0;
	s->scan = 0;
	return SMTP_IN_ITEM;
}

int
smtp_in_take(smtp_instream *s, const char *buf, size_t len, size_t line_max,
    size_t chunk_max, smtp_initem *it)
{
	const char *p, *nl;
	size_t avail, linelen;

	memset(it, 0, sizeof(*it));
	if (s->rd >= len)
		return SMTP_IN_MORE;
	it->off = s->rd;
	p = buf + s->rd;
	avail = len - s->rd;
	if (s->data)
		return in_take_content(s, buf, len, it);
	/* A line, with its end, of at most line_max octets: the same
	 * verdict however the bytes were cut into reads. */
	nl = memchr(p, '\n', avail < line_max ? avail : line_max);
	if (nl == NULL)
		return avail >= line_max ? SMTP_IN_TOO_LONG : SMTP_IN_MORE;
	linelen = (size_t)(nl - p);
	it->len = linelen + 1;
	if (linelen > 0 && p[linelen - 1] == '\r')
		linelen--;
	it->line = xstrndup(p, linelen);
	smtp_cmd_parse(it->line, strlen(it->line), &it->cmd);
	if (it->cmd.verb == SMTP_VERB_BDAT) {
		char *end;
		unsigned long long n;

		/* RFC 3030 §2: BDAT SP chunk-size [SP end-marker] */
		if (it->cmd.args[0] >= '0' && it->cmd.args[0] <= '9') {
			n = strtoull(it->cmd.args, &end, 10);
			if (n <= chunk_max) {
				while (*end == ' ')
					end++;
				if (avail - it->len < n) {
					smtp_initem_clear(it);
					return SMTP_IN_MORE;
				}
				it->bdat = 1;
				it->bdat_last = strncasecmp(end, "LAST", 4) == 0;
				vbuf_append(&it->body, p + it->len, (size_t)n);
				it->len += (size_t)n;
			}
		}
	}
	s->rd += it->len;
	return SMTP_IN_ITEM;
}
