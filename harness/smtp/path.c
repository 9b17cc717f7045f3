#include "harness/smtp/path.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "harness/util/xalloc.h"

#define PATH_LABEL_MAX	63	/* RFC 1035 §2.3.4 */
#define PATH_DOMAIN_MAX	255	/* RFC 5321 §4.5.3.1.2 */

/* A cursor over the text being parsed. */
typedef struct pcur {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int utf8;		/* a UTF-8 sequence was taken */
} pcur;

static int
p_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
p_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
p_peek(const pcur *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

size_t
smtp_utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	unsigned cp;

	if (len == 0 || s[0] < 0x80)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Takes one UTF-8 character (RFC 6531 UTF8-non-ascii) if there is one. */
static int
p_take_utf8(pcur *c)
{
	size_t n = smtp_utf8_seq(c->s + c->pos, c->len - c->pos);

	if (n == 0)
		return 0;
	c->pos += n;
	c->utf8 = 1;
	return 1;
}

/* atext of RFC 5322 §3.2.3. */
static int
p_atext(int c)
{
	return p_alpha(c) || p_digit(c) || (c > 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Dot-string = Atom *("." Atom) */
static int
p_dot_string(pcur *c)
{
	for (;;) {
		size_t start = c->pos;

		while (c->pos < c->len) {
			if (p_atext(c->s[c->pos]))
				c->pos++;
			else if (!p_take_utf8(c))
				break;
		}
		if (c->pos == start)
			return -1;
		if (p_peek(c) != '.')
			return 0;
		c->pos++;
	}
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE */
static int
p_quoted(pcur *c)
{
	c->pos++;	/* the opening quote */
	while (c->pos < c->len) {
		int ch = c->s[c->pos];

		if (ch == '"') {
			c->pos++;
			return 0;
		}
		if (ch == '\\') {
			if (c->pos + 1 >= c->len || c->s[c->pos + 1] < 32 || c->s[c->pos + 1] > 126)
				return -1;
			c->pos += 2;
			continue;
		}
		if (ch >= 32 && ch <= 126) {
			c->pos++;
			continue;
		}
		if (!p_take_utf8(c))
			return -1;
	}
	return -1;
}

/* sub-domain = Let-dig [Ldh-str], or a U-label (RFC 6531 §3.3). */
static int
p_label(pcur *c)
{
	size_t start = c->pos;
	int last = -1;

	while (c->pos < c->len) {
		int ch = c->s[c->pos];

		if (p_alpha(ch) || p_digit(ch) || (ch == '-' && c->pos > start)) {
			c->pos++;
			last = ch;
		} else if (p_take_utf8(c)) {
			last = 'x';
		} else {
			break;
		}
	}
	if (c->pos == start || last == '-' || c->pos - start > PATH_LABEL_MAX)
		return -1;
	return 0;
}

static int
p_domain(pcur *c)
{
	size_t start = c->pos;

	for (;;) {
		if (p_label(c) != 0)
			return -1;
		if (p_peek(c) != '.')
			break;
		c->pos++;
	}
	return c->pos - start > PATH_DOMAIN_MAX ? -1 : 0;
}

static int
p_ipv4(const char *s, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t digits = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		while (i < len && p_digit(s[i]) && digits < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return -1;
	}
	return i == len ? 0 : -1;
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" 1*dcontent ) "]" */
static int
p_address_literal(pcur *c)
{
	const char *body;
	size_t start = ++c->pos, end;
	const char *colon;

	while (c->pos < c->len && c->s[c->pos] != ']') {
		if (c->s[c->pos] < 33 || c->s[c->pos] > 126 || c->s[c->pos] == '[')
			return -1;
		c->pos++;
	}
	if (c->pos >= c->len || c->pos == start)
		return -1;
	end = c->pos++;
	body = (const char *)c->s + start;
	if (p_ipv4(body, end - start) == 0)
		return 0;
	colon = memchr(body, ':', end - start);
	if (colon == NULL || colon == body || (size_t)(colon - body) + 1 >= end - start)
		return -1;
	if ((size_t)(colon - body) == 4 && strncasecmp(body, "IPv6", 4) == 0) {
		char buf[64];
		unsigned char a[16];
		size_t n = end - start - 5;

		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, colon + 1, n);
		buf[n] = '\0';
		return inet_pton(AF_INET6, buf, a) == 1 ? 0 : -1;
	}
	/* General-address-literal: Standardized-tag is an Ldh-str. */
	for (const char *t = body; t < colon; t++)
		if (!p_alpha(*t) && !p_digit(*t) && !(*t == '-' && t > body))
			return -1;
	return colon[-1] == '-' ? -1 : 0;
}

static int
p_domain_or_literal(pcur *c)
{
	if (p_peek(c) == '[')
		return p_address_literal(c);
	return p_domain(c);
}

/* A-d-l = At-domain *( "," At-domain ), then ":" */
static int
p_route(pcur *c)
{
	for (;;) {
		if (p_peek(c) != '@')
			return -1;
		c->pos++;
		if (p_domain(c) != 0)
			return -1;
		if (p_peek(c) == ',') {
			c->pos++;
			continue;
		}
		if (p_peek(c) != ':')
			return -1;
		c->pos++;
		return 0;
	}
}

int
smtp_path_parse(const char *s, size_t len, unsigned flags, smtp_path *p, size_t *used)
{
	pcur c = { (const unsigned char *)s, len, 0, 0 };
	size_t box;

	memset(p, 0, sizeof(*p));
	if (p_peek(&c) != '<')
		return -1;
	c.pos++;
	if (p_peek(&c) == '>') {
		if (!(flags & SMTP_PATH_ALLOW_NULL))
			return -1;
		p->null = 1;
		p->mailbox = xstrdup("");
		*used = 2;
		return 0;
	}
	if ((flags & SMTP_PATH_ALLOW_POSTMASTER) && len - c.pos >= 11 &&
	    strncasecmp(s + c.pos, "postmaster>", 11) == 0) {
		p->postmaster = 1;
		p->mailbox = xstrndup(s + c.pos, 10);
		*used = c.pos + 11;
		return 0;
	}
	if (p_peek(&c) == '@') {
		if (p_route(&c) != 0)
			return -1;
		p->routed = 1;
	}
	box = c.pos;
	if (p_peek(&c) == '"' ? p_quoted(&c) != 0 : p_dot_string(&c) != 0)
		return -1;
	if (p_peek(&c) != '@')
		return -1;
	c.pos++;
	if (p_domain_or_literal(&c) != 0 || p_peek(&c) != '>')
		return -1;
	p->mailbox = xstrndup(s + box, c.pos - box);
	p->utf8 = c.utf8;
	*used = c.pos + 1;
	return 0;
}

void
smtp_path_clear(smtp_path *p)
{
	if (p == NULL)
		return;
	xfree(p->mailbox);
	memset(p, 0, sizeof(*p));
}

int
smtp_params_split(const char *s, size_t len, smtp_param *out, size_t max, int *utf8)
{
	size_t pos = 0;
	int n = 0;

	*utf8 = 0;
	while (pos < len) {
		size_t start;
		smtp_param *p;

		if (s[pos] != ' ')
			return -1;
		while (pos < len && s[pos] == ' ')
			pos++;
		if (pos == len)
			break;
		if ((size_t)n >= max)
			return -1;
		p = &out[n++];
		memset(p, 0, sizeof(*p));
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		start = pos;
		while (pos < len && (p_alpha(s[pos]) || p_digit(s[pos]) ||
		    (s[pos] == '-' && pos > start)))
			pos++;
		if (pos == start)
			return -1;
		p->kw = s + start;
		p->kwlen = pos - start;
		if (pos < len && s[pos] == '=') {
			/* esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 with SMTPUTF8 */
			start = ++pos;
			while (pos < len && s[pos] != ' ') {
				unsigned char ch = (unsigned char)s[pos];
				size_t u;

				if (ch >= 33 && ch <= 126 && ch != '=') {
					pos++;
				} else if ((u = smtp_utf8_seq((const unsigned char *)s + pos,
				    len - pos)) > 0) {
					pos += u;
					*utf8 = 1;
				} else {
					return -1;
				}
			}
			if (pos == start)
				return -1;
			p->val = s + start;
			p->vallen = pos - start;
		}
	}
	return n;
}

int
smtp_param_is(const smtp_param *p, const char *kw)
{
	return strlen(kw) == p->kwlen && strncasecmp(p->kw, kw, p->kwlen) == 0;
}

static int
p_hexu(char c)
{
	return p_digit(c) || (c >= 'A' && c <= 'F');
}

int
smtp_xtext_valid(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			if (i + 2 >= len)
				return 0;
			if (!p_hexu(s[i + 1]) || !p_hexu(s[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}
