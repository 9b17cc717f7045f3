#include "harness/smtp/ehlo.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "harness/util/xalloc.h"

static int
ehlo_isalnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int
ehlo_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static void
ehlo_defect(smtp_ehlo *e, unsigned bit, size_t line)
{
	if (e->defects == 0)
		e->defect_line = line;
	e->defects |= bit;
}

/* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), RFC 5321 §4.1.1.1. */
static int
ehlo_keyword_ok(const char *s, size_t len)
{
	if (len == 0 || !ehlo_isalnum(s[0]))
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (!ehlo_isalnum(s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

/* ehlo-param is %d33-126; spaces separate parameters. Only control
 * characters are a defect here (the header's BAD_PARAM). */
static int
ehlo_params_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* RFC 1870 §3: size-param ::= [1*DIGIT]. Returns 0 when the text is not
 * a number; a number too large to hold saturates (it is still legal). */
static int
ehlo_size_parse(const char *s, size_t len, unsigned long long *val)
{
	unsigned long long v = 0;

	*val = 0;
	if (len == 0)
		return 1;	/* no fixed limit */
	for (size_t i = 0; i < len; i++) {
		if (!ehlo_isdigit(s[i]))
			return 0;
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (ULLONG_MAX - d) / 10)
			v = ULLONG_MAX;
		else
			v = v * 10 + d;
	}
	*val = v;
	return 1;
}

static void
ehlo_line(smtp_ehlo *e, const char *text, size_t len, size_t line, size_t *cap)
{
	size_t klen = 0, pos;

	while (klen < len && text[klen] != ' ')
		klen++;
	if (!ehlo_keyword_ok(text, klen))
		ehlo_defect(e, SMTP_EHLO_BAD_KEYWORD, line);
	if (klen == 0)
		return;		/* nothing to name; the defect says enough */
	pos = klen;
	while (pos < len && text[pos] == ' ')
		pos++;
	if (!ehlo_params_ok(text + pos, len - pos))
		ehlo_defect(e, SMTP_EHLO_BAD_PARAM, line);

	e->kw = xgrow(e->kw, cap, e->nkw + 1, sizeof(*e->kw));
	smtp_ehlo_kw *kw = &e->kw[e->nkw++];

	/* Keyword and parameters in one allocation, the parameters right
	 * after the keyword's NUL: one malloc per keyword, not two, and
	 * smtp_ehlo_clear frees the keyword only. */
	kw->keyword = xmalloc(klen + 1 + (len - pos) + 1);
	memcpy(kw->keyword, text, klen);
	kw->keyword[klen] = '\0';
	for (char *c = kw->keyword; *c; c++) {
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	}
	kw->params = kw->keyword + klen + 1;
	memcpy(kw->params, text + pos, len - pos);
	kw->params[len - pos] = '\0';
	kw->line = line;

	if (strcmp(kw->keyword, "SIZE") == 0 && !e->has_size) {
		/* Trailing spaces are tolerated; anything else is not a number. */
		size_t plen = len - pos;

		while (plen > 0 && text[pos + plen - 1] == ' ')
			plen--;
		e->has_size = 1;
		if (!ehlo_size_parse(text + pos, plen, &e->size_max))
			ehlo_defect(e, SMTP_EHLO_BAD_SIZE, line);
	}
}

void
smtp_ehlo_parse(const smtp_reply *r, smtp_ehlo *e)
{
	const char *text;
	size_t len, dlen = 0, cap = 0;

	memset(e, 0, sizeof(*e));
	/* Only a 250 carries the keyword list; anything else is no list. */
	if (r == NULL || r->code != 250 || r->nlines == 0) {
		e->domain = xstrdup("");
		return;
	}
	text = smtp_reply_text(r, 0, &len);
	while (dlen < len && text[dlen] != ' ')
		dlen++;
	e->domain = xstrndup(text, dlen);
	if (dlen == 0)
		ehlo_defect(e, SMTP_EHLO_NO_DOMAIN, 0);
	for (size_t i = 1; i < r->nlines; i++) {
		text = smtp_reply_text(r, i, &len);
		ehlo_line(e, text, len, i, &cap);
	}
}

void
smtp_ehlo_clear(smtp_ehlo *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nkw; i++)
		xfree(e->kw[i].keyword);	/* the params too: see ehlo_line */
	xfree(e->kw);
	xfree(e->domain);
	memset(e, 0, sizeof(*e));
}

const smtp_ehlo_kw *
smtp_ehlo_find(const smtp_ehlo *e, const char *keyword)
{
	if (e == NULL || keyword == NULL)
		return NULL;
	for (size_t i = 0; i < e->nkw; i++) {
		if (strcasecmp(e->kw[i].keyword, keyword) == 0)
			return &e->kw[i];
	}
	return NULL;
}

int
smtp_ehlo_has_param(const smtp_ehlo *e, const char *keyword, const char *param)
{
	size_t plen;

	if (e == NULL || keyword == NULL || param == NULL)
		return 0;
	plen = strlen(param);
	/* A server may repeat a keyword; any of its lines counts. */
	for (size_t i = 0; i < e->nkw; i++) {
		const char *p = e->kw[i].params;

		if (strcasecmp(e->kw[i].keyword, keyword) != 0)
			continue;
		while (*p) {
			size_t n = 0;

			while (*p == ' ')
				p++;
			while (p[n] && p[n] != ' ')
				n++;
			if (n > 0 && n == plen && strncasecmp(p, param, n) == 0)
				return 1;
			p += n;
		}
	}
	return 0;
}
