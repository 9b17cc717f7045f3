#include "harness/smtp/reply.h"

#include <stdio.h>
#include <string.h>

#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

/* Room for the hard-limit message. */
#define REPLY_ERR_MAX	160

struct smtp_reply_parser {
	smtp_line_reader lr;
	vbuf raw;		/* wire bytes of the reply being assembled */
	smtp_reply_line *lines;
	size_t nlines;
	size_t lines_cap;
	unsigned defects;
	int failed;		/* a hard limit was passed; no more input */
	char err[REPLY_ERR_MAX];
};

smtp_reply_parser *
smtp_reply_parser_new(void)
{
	smtp_reply_parser *p = xcalloc(1, sizeof(*p));

	smtp_line_reader_init(&p->lr, HARNESS_LINE_HARD_MAX);
	return p;
}

void
smtp_reply_parser_free(smtp_reply_parser *p)
{
	if (p == NULL)
		return;
	smtp_line_reader_free(&p->lr);
	vbuf_free(&p->raw);
	xfree(p->lines);
	xfree(p);
}

size_t
smtp_reply_parser_pending(const smtp_reply_parser *p)
{
	return p->raw.len + smtp_line_pending(&p->lr);
}

const char *
smtp_reply_parser_error(const smtp_reply_parser *p)
{
	return p->failed ? p->err : "";
}

void
smtp_reply_free(smtp_reply *r)
{
	/* One allocation: see reply_finish. */
	xfree(r);
}

static int
reply_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3463 §2 sub-code: 1-3 digits, and (§2, "without leading zeros")
 * no leading zero unless the number is 0 itself. Returns digits used, or
 * 0 when the sub-code breaks the syntax. */
static size_t
esc_subcode(const char *s, size_t len, int *val)
{
	size_t n = 0;
	int v = 0;

	while (n < len && reply_isdigit(s[n])) {
		if (n < 4)
			v = v * 10 + (s[n] - '0');
		n++;
	}
	*val = n <= 3 ? v : 0;
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

size_t
smtp_esc_parse(const char *text, size_t len, smtp_esc *esc)
{
	size_t pos, n;

	memset(esc, 0, sizeof(*esc));
	/* "Looks like" an enhanced code: one digit and a dot. Text such as
	 * "192.0.2.1" or "2 recipients" does not. */
	if (len < 2 || !reply_isdigit(text[0]) || text[1] != '.')
		return 0;
	esc->cls = text[0] - '0';
	pos = 2;
	n = esc_subcode(text + pos, len - pos, &esc->subject);
	if (n == 0)
		goto bad;
	pos += n;
	if (pos >= len || text[pos] != '.')
		goto bad;
	pos++;
	n = esc_subcode(text + pos, len - pos, &esc->detail);
	if (n == 0)
		goto bad;
	pos += n;
	if (pos < len && text[pos] != ' ')
		goto bad;
	if (esc->cls != 2 && esc->cls != 4 && esc->cls != 5)
		goto bad;
	esc->present = 1;
	return pos;
bad:
	esc->present = 0;
	esc->bad = 1;
	return 0;
}

/* Defects of one line's bytes that the line reader does not flag. */
static unsigned
reply_ctrl_defects(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* textstring (RFC 5321 §4.2) is HT and SP..~; CR, LF, NUL and
		 * 8-bit bytes have defect bits of their own. */
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\0') || c == 0x7f)
			return SMTP_REPLY_CTRL;
	}
	return 0;
}

/* Fills rl for the line at raw[off..off+len) and returns its defects. */
static unsigned
reply_line_parse(const char *raw, size_t off, size_t len, smtp_reply_line *rl)
{
	const char *s = raw + off;
	unsigned d = 0;

	memset(rl, 0, sizeof(*rl));
	rl->off = off;
	rl->len = len;
	rl->code = -1;
	rl->text_off = off;
	if (len >= 3 && reply_isdigit(s[0]) && reply_isdigit(s[1]) && reply_isdigit(s[2])) {
		rl->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		/* Reply-code ABNF: %x32-35 %x30-35 %x30-39. */
		if (s[0] < '2' || s[0] > '5' || s[1] > '5')
			d |= SMTP_REPLY_BAD_CODE;
		rl->text_off = off + 3;
		if (len > 3) {
			if (s[3] == ' ' || s[3] == '-') {
				rl->sep = s[3];
				rl->text_off = off + 4;
			} else {
				d |= SMTP_REPLY_BAD_SEPARATOR;
				/* "2500 ok" is a four-digit code, not a 250. */
				if (reply_isdigit(s[3]))
					d |= SMTP_REPLY_BAD_CODE;
			}
		}
	} else {
		d |= SMTP_REPLY_BAD_CODE;
	}
	smtp_esc_parse(raw + rl->text_off, off + len - rl->text_off, &rl->esc);
	return d | reply_ctrl_defects(s, len);
}

static unsigned
reply_flag_defects(unsigned flags)
{
	unsigned d = 0;

	if (flags & SMTP_LINE_BARE_LF)
		d |= SMTP_REPLY_BARE_LF;
	if (flags & SMTP_LINE_BARE_CR)
		d |= SMTP_REPLY_BARE_CR;
	if (flags & SMTP_LINE_NUL)
		d |= SMTP_REPLY_NUL;
	if (flags & SMTP_LINE_8BIT)
		d |= SMTP_REPLY_8BIT;
	return d;
}

static void
reply_fail(smtp_reply_parser *p, const char *msg)
{
	p->failed = 1;
	snprintf(p->err, sizeof(p->err), "%s", msg);
	vbuf_free(&p->raw);
	p->nlines = 0;
}

/*
 * The reply, its lines and its bytes in one allocation, sized exactly:
 * the parser keeps its own buffers for the next reply, so they grow once
 * per connection rather than once per reply, and a reply costs one
 * malloc and one free. (The lines come right after the struct: both hold
 * size_t, so sizeof(smtp_reply) keeps the lines aligned.)
 */
static smtp_reply *
reply_finish(smtp_reply_parser *p)
{
	size_t lines_size = p->nlines * sizeof(*p->lines);
	smtp_reply *r;

	_Static_assert(sizeof(smtp_reply) % _Alignof(smtp_reply_line) == 0,
	    "reply lines follow the reply struct");
	r = xmalloc(sizeof(*r) + lines_size + p->raw.len + 1);
	memset(r, 0, sizeof(*r));
	r->lines = (smtp_reply_line *)(void *)(r + 1);
	memcpy(r->lines, p->lines, lines_size);
	r->raw = (char *)r->lines + lines_size;
	memcpy(r->raw, p->raw.data, p->raw.len);
	r->raw[p->raw.len] = '\0';
	r->raw_len = p->raw.len;
	r->nlines = p->nlines;
	r->code = r->lines[0].code;
	r->esc = r->lines[0].esc;
	r->defects = p->defects;
	vbuf_reset(&p->raw);
	p->nlines = 0;
	p->defects = 0;
	return r;
}

smtp_feed_status
smtp_reply_feed(smtp_reply_parser *p, const char *buf, size_t len, size_t *consumed,
    smtp_reply **out)
{
	size_t used = 0;

	*consumed = 0;
	*out = NULL;
	if (p->failed)
		return SMTP_FEED_ERROR;
	while (used < len) {
		smtp_line line;
		size_t n = 0;

		if (!smtp_line_feed(&p->lr, buf + used, len - used, &n, &line)) {
			used += n;
			break;
		}
		used += n;
		*consumed = used;
		if (line.flags & SMTP_LINE_TOO_LONG_HARD) {
			char msg[REPLY_ERR_MAX];

			snprintf(msg, sizeof(msg), "reply line longer than %d bytes (hard limit)",
			    HARNESS_LINE_HARD_MAX);
			reply_fail(p, msg);
			return SMTP_FEED_ERROR;
		}
		if (p->nlines >= HARNESS_REPLY_LINES_MAX) {
			char msg[REPLY_ERR_MAX];

			snprintf(msg, sizeof(msg), "reply of more than %d lines (hard limit)",
			    HARNESS_REPLY_LINES_MAX);
			reply_fail(p, msg);
			return SMTP_FEED_ERROR;
		}

		size_t off = p->raw.len;
		smtp_reply_line *rl;
		unsigned d;

		vbuf_append(&p->raw, line.text, line.len);
		vbuf_append(&p->raw, line.wire_len - line.len == 2 ? "\r\n" : "\n",
		    line.wire_len - line.len);
		p->lines = xgrow(p->lines, &p->lines_cap, p->nlines + 1, sizeof(*p->lines));
		rl = &p->lines[p->nlines++];
		d = reply_line_parse(p->raw.data, off, line.len, rl);
		d |= reply_flag_defects(line.flags);
		if (line.wire_len > SMTP_REPLY_LINE_MAX)
			d |= SMTP_REPLY_LINE_TOO_LONG;
		if (p->nlines > 1 && rl->code != p->lines[0].code)
			d |= SMTP_REPLY_CODE_MISMATCH;
		p->defects |= d;

		/* Only "DDD-" continues a reply (see the header). */
		if (!(rl->sep == '-' && rl->code >= 0)) {
			*out = reply_finish(p);
			return SMTP_FEED_REPLY;
		}
	}
	*consumed = used;
	return SMTP_FEED_NEED_MORE;
}

const char *
smtp_reply_text(const smtp_reply *r, size_t i, size_t *len)
{
	if (r == NULL || i >= r->nlines) {
		*len = 0;
		return "";
	}
	*len = r->lines[i].off + r->lines[i].len - r->lines[i].text_off;
	return r->raw + r->lines[i].text_off;
}

/* Appends byte c as it should appear in a message. A backslash is
 * escaped too, so that "\\r" in the text and a real CR read differently. */
static void
summary_byte(vbuf *b, unsigned char c)
{
	if (c == '\r')
		vbuf_append_str(b, "\\r");
	else if (c == '\n')
		vbuf_append_str(b, "\\n");
	else if (c == '\\')
		vbuf_append_str(b, "\\\\");
	else if (c < 0x20 || c >= 0x7f)
		vbuf_printf(b, "\\x%02X", c);
	else
		vbuf_append_byte(b, (char)c);
}

char *
smtp_reply_summary(const smtp_reply *r, size_t max)
{
	vbuf b = VBUF_INIT;
	size_t room = max >= 3 ? max - 3 : 0;
	size_t keep = 0;	/* last point, not inside an escape, within room */

	if (r == NULL)
		return xstrdup("");
	for (size_t i = 0; i < r->nlines; i++) {
		const smtp_reply_line *rl = &r->lines[i];

		for (size_t k = 0; k < (i > 0 ? 3u : 0u); k++) {
			if (b.len <= room)
				keep = b.len;
			vbuf_append_byte(&b, " / "[k]);
			if (b.len > max)
				goto cut;
		}
		for (size_t k = 0; k < rl->len; k++) {
			if (b.len <= room)
				keep = b.len;
			summary_byte(&b, (unsigned char)r->raw[rl->off + k]);
			if (b.len > max)
				goto cut;
		}
	}
	return vbuf_take(&b);
cut:
	/* Only the bytes up to max + 4 were ever built. */
	b.len = keep;
	vbuf_append(&b, "...", max < 3 ? max : 3);
	return vbuf_take(&b);
}

const char *
smtp_reply_defects_str(unsigned defects)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ SMTP_REPLY_BAD_CODE, "bad code" },
		{ SMTP_REPLY_CODE_MISMATCH, "code mismatch" },
		{ SMTP_REPLY_BAD_SEPARATOR, "bad separator" },
		{ SMTP_REPLY_BARE_LF, "bare LF" },
		{ SMTP_REPLY_BARE_CR, "bare CR" },
		{ SMTP_REPLY_LINE_TOO_LONG, "line too long" },
		{ SMTP_REPLY_NUL, "NUL" },
		{ SMTP_REPLY_8BIT, "8-bit" },
		{ SMTP_REPLY_CTRL, "control character" },
	};
	static _Thread_local char buf[160];
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(defects & names[i].bit))
			continue;
		int n = snprintf(buf + pos, sizeof(buf) - pos, "%s%s", pos ? ", " : "",
		    names[i].name);

		if (n < 0 || (size_t)n >= sizeof(buf) - pos)
			break;
		pos += (size_t)n;
	}
	return pos ? buf : "none";
}
