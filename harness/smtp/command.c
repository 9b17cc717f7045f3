#include "harness/smtp/command.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * The verb table. `ends_group` follows RFC 2920 §3.1: "EHLO, DATA, VRFY,
 * EXPN, TURN, QUIT, and NOOP ... can only appear as the last command in a
 * group", and "additional commands added by other SMTP extensions may only
 * appear as the last command in a group unless otherwise specified by the
 * extensions that define the commands". Hence:
 *  - HELO: not named by RFC 2920, but it resets the session state exactly
 *    like EHLO (RFC 5321 §4.1.4), so the client must see its reply first.
 *  - STARTTLS: RFC 3207 §4.2 says it MUST be the last command of a group.
 *  - AUTH: RFC 4954 §4 allows more commands after it only when an
 *    initial response finishes the exchange in one round trip; the verb
 *    alone cannot tell, so it ends a group and a caller that sees such an
 *    initial response relaxes the rule itself.
 *  - ETRN (RFC 1985) and HELP: nothing allows them inside a group.
 *  - BDAT does NOT end a group: RFC 3030 §2 lets a client pipeline BDAT
 *    commands (and their chunks) one after another, and tells the server
 *    what to do with chunks already pipelined when one fails.
 *  - RSET, MAIL and RCPT may appear anywhere (RFC 2920 §3.1).
 *  - An unknown verb: we cannot tell an extension verb from garbage, and a
 *    finding must rest on something known, so it is not counted.
 */
static const struct verb_row {
	smtp_verb verb;
	const char *name;
	int ends_group;
} verb_table[] = {
	{ SMTP_VERB_UNKNOWN, "UNKNOWN", 0 },
	{ SMTP_VERB_EHLO, "EHLO", 1 },
	{ SMTP_VERB_HELO, "HELO", 1 },
	{ SMTP_VERB_MAIL, "MAIL", 0 },
	{ SMTP_VERB_RCPT, "RCPT", 0 },
	{ SMTP_VERB_DATA, "DATA", 1 },
	{ SMTP_VERB_RSET, "RSET", 0 },
	{ SMTP_VERB_VRFY, "VRFY", 1 },
	{ SMTP_VERB_EXPN, "EXPN", 1 },
	{ SMTP_VERB_HELP, "HELP", 1 },
	{ SMTP_VERB_NOOP, "NOOP", 1 },
	{ SMTP_VERB_QUIT, "QUIT", 1 },
	{ SMTP_VERB_BDAT, "BDAT", 0 },
	{ SMTP_VERB_STARTTLS, "STARTTLS", 1 },
	{ SMTP_VERB_AUTH, "AUTH", 1 },
	{ SMTP_VERB_ETRN, "ETRN", 1 },
	{ SMTP_VERB_TURN, "TURN", 1 },
};

_Static_assert(sizeof(verb_table) / sizeof(verb_table[0]) == SMTP_VERB_COUNT,
    "one verb_table row per smtp_verb");

static int
cmd_isalpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char
cmd_toupper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

smtp_verb
smtp_verb_lookup(const char *name, size_t len)
{
	for (size_t i = 1; i < SMTP_VERB_COUNT; i++) {
		if (strlen(verb_table[i].name) == len &&
		    strncasecmp(verb_table[i].name, name, len) == 0)
			return verb_table[i].verb;
	}
	return SMTP_VERB_UNKNOWN;
}

const char *
smtp_verb_str(smtp_verb v)
{
	if ((unsigned)v >= SMTP_VERB_COUNT)
		return "UNKNOWN";
	return verb_table[v].name;
}

int
smtp_verb_ends_group(smtp_verb v)
{
	if ((unsigned)v >= SMTP_VERB_COUNT)
		return 0;
	return verb_table[v].ends_group;
}

void
smtp_cmd_parse(const char *line, size_t len, smtp_cmd *out)
{
	size_t vlen = 0, pos;
	int letters = 1;

	memset(out, 0, sizeof(*out));
	out->verb = SMTP_VERB_UNKNOWN;
	while (vlen < len && line[vlen] != ' ') {
		if (!cmd_isalpha(line[vlen]))
			letters = 0;
		vlen++;
	}
	pos = vlen;
	while (pos < len && line[pos] == ' ') {
		out->has_space = 1;
		pos++;
	}
	out->args = line + pos;
	out->args_len = len - pos;
	/* RFC 5321 §4.1.1: a verb is letters; anything else is garbage and
	 * gets no name. */
	if (vlen == 0 || !letters)
		return;
	for (size_t i = 0; i < vlen && i < HARNESS_VERB_MAX; i++)
		out->name[i] = cmd_toupper(line[i]);
	out->verb = smtp_verb_lookup(line, vlen);
}

void
smtp_cmd_format(vbuf *out, const char *line)
{
	vbuf_append_str(out, line);
	vbuf_append(out, "\r\n", 2);
}

/* One content line: a leading '.' doubled (RFC 5321 §4.5.2), then CRLF. */
static void
data_stuff_line(vbuf *out, const char *s, size_t len)
{
	if (len > 0 && s[0] == '.')
		vbuf_append_byte(out, '.');
	vbuf_append(out, s, len);
	vbuf_append(out, "\r\n", 2);
}

void
smtp_data_stuff_lines(vbuf *out, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		data_stuff_line(out, lines[i], strlen(lines[i]));
	vbuf_append(out, ".\r\n", 3);
}

void
smtp_data_stuff_text(vbuf *out, const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *lf = memchr(text + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - text) : len;
		size_t l = end - pos;

		/* CRLF and a bare LF both end the line; CRLF goes out. */
		if (lf && l > 0 && text[end - 1] == '\r')
			l--;
		data_stuff_line(out, text + pos, l);
		pos = lf ? end + 1 : len;
	}
	vbuf_append(out, ".\r\n", 3);
}

/*
 * Lines start at the beginning and after each CRLF only: RFC 5321 §2.3.8
 * knows no other line end, and a receiver that took a bare LF as one is
 * what SMTP smuggling exploits.
 */
void
smtp_data_unstuff(vbuf *out, const char *wire, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t end = pos;

		while (end + 1 < len && !(wire[end] == '\r' && wire[end + 1] == '\n'))
			end++;
		end = end + 1 < len ? end + 2 : len;
		if (wire[pos] == '.')
			pos++;
		vbuf_append(out, wire + pos, end - pos);
		pos = end;
	}
}

static int
unescape_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Writes the error for the escape whose backslash is at in[off]. */
static void
unescape_error(char *err, size_t errlen, const char *in, size_t len, size_t off)
{
	char shown[8];

	if (err == NULL || errlen == 0)
		return;
	if (off + 1 >= len) {
		snprintf(err, errlen, "bad escape \\ at offset %zu (end of input)", off);
		return;
	}
	unsigned char c = (unsigned char)in[off + 1];

	if (c == 'x') {
		snprintf(err, errlen, "bad escape \\x at offset %zu (two hex digits needed)", off);
		return;
	}
	if (c > 0x20 && c < 0x7f)
		snprintf(shown, sizeof(shown), "%c", c);
	else
		snprintf(shown, sizeof(shown), "(0x%02X)", c);
	snprintf(err, errlen, "bad escape \\%s at offset %zu", shown, off);
}

int
smtp_unescape(const char *in, size_t len, vbuf *out, char *err, size_t errlen)
{
	size_t start = out->len;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\\') {
			vbuf_append_byte(out, in[i]);
			continue;
		}
		if (i + 1 >= len)
			goto bad;
		switch (in[i + 1]) {
		case 'r':
			vbuf_append_byte(out, '\r');
			break;
		case 'n':
			vbuf_append_byte(out, '\n');
			break;
		case 't':
			vbuf_append_byte(out, '\t');
			break;
		case '0':
			vbuf_append_byte(out, '\0');
			break;
		case '\\':
			vbuf_append_byte(out, '\\');
			break;
		case 'x': {
			int hi = i + 2 < len ? unescape_hex(in[i + 2]) : -1;
			int lo = i + 3 < len ? unescape_hex(in[i + 3]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			vbuf_append_byte(out, (char)(hi * 16 + lo));
			i += 2;
			break;
		}
		default:
			goto bad;
		}
		i++;
		continue;
bad:
		unescape_error(err, errlen, in, len, i);
		/* Leave out as it was: nothing half-decoded is kept. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return 0;
}
