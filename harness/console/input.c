#include "harness/console/input.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/smtp/command.h"

static const struct {
	const char *name;
	input_kind kind;
	int arg;		/* 0 none, 1 a file name, 2 raw bytes, 3 auth words */
} verbs[] = {
	{ "raw", INPUT_RAW, 2 },
	{ "data", INPUT_DATA, 0 },
	{ "pipe", INPUT_PIPE, 0 },
	{ "check", INPUT_CHECK, 0 },
	{ "save", INPUT_SAVE, 1 },
	{ "capture", INPUT_CAPTURE, 1 },
	{ "help", INPUT_HELP, 0 },
	{ "quit", INPUT_QUIT, 0 },
	{ "auth", INPUT_AUTH, 3 },
	{ "starttls", INPUT_STARTTLS, 0 },
	{ "reset", INPUT_RESET, 0 },
};

static void
base64_append(vbuf *out, const unsigned char *p, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		vbuf_append_byte(out, tab[v >> 18 & 63]);
		vbuf_append_byte(out, tab[v >> 12 & 63]);
		vbuf_append_byte(out, i + 1 < len ? tab[v >> 6 & 63] : '=');
		vbuf_append_byte(out, i + 2 < len ? tab[v & 63] : '=');
	}
}

/* ":auth plain|login USER PASSWORD": the lines RFC 4954 §4 and the
 * LOGIN mechanism's convention send, each base64 where it must be. */
static int
auth_lines(const char *p, size_t len, vbuf *out)
{
	const char *w[3];
	size_t wl[3], n = 0, i = 0;

	while (i < len && n < 3) {
		while (i < len && p[i] == ' ')
			i++;
		if (i == len)
			break;
		w[n] = p + i;
		while (i < len && p[i] != ' ')
			i++;
		wl[n] = (size_t)(p + i - w[n]);
		n++;
	}
	while (i < len && p[i] == ' ')
		i++;
	if (n != 3 || i != len)
		return -1;
	if (wl[0] == 5 && strncasecmp(w[0], "plain", 5) == 0) {
		vbuf cred = VBUF_INIT;

		vbuf_append_byte(&cred, '\0');
		vbuf_append(&cred, w[1], wl[1]);
		vbuf_append_byte(&cred, '\0');
		vbuf_append(&cred, w[2], wl[2]);
		vbuf_append_str(out, "AUTH PLAIN ");
		base64_append(out, (const unsigned char *)cred.data, cred.len);
		vbuf_free(&cred);
		return 0;
	}
	if (wl[0] == 5 && strncasecmp(w[0], "login", 5) == 0) {
		vbuf_append_str(out, "AUTH LOGIN\n");
		base64_append(out, (const unsigned char *)w[1], wl[1]);
		vbuf_append_byte(out, '\n');
		base64_append(out, (const unsigned char *)w[2], wl[2]);
		return 0;
	}
	return -1;
}

static void
fail(input_cmd *out, const char *msg, const char *name, size_t nlen)
{
	out->kind = INPUT_ERROR;
	vbuf_reset(&out->bytes);
	snprintf(out->err, sizeof(out->err), msg, (int)nlen, name);
}

void
input_parse(const char *line, size_t len, input_cmd *out)
{
	size_t nlen, pos;

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		out->kind = INPUT_EMPTY;
		return;
	}
	if (line[0] != ':' || (len > 1 && line[1] == ':')) {
		out->kind = INPUT_COMMAND;
		if (line[0] == ':')
			line++, len--;
		vbuf_append(&out->bytes, line, len);
		return;
	}
	for (nlen = 1; nlen < len && line[nlen] != ' '; nlen++)
		;
	for (pos = nlen; pos < len && line[pos] == ' '; pos++)
		;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].name) != nlen - 1 ||
		    memcmp(verbs[i].name, line + 1, nlen - 1) != 0)
			continue;
		out->kind = verbs[i].kind;
		if (verbs[i].arg == 0 && pos < len) {
			fail(out, ":%.*s takes no argument", line + 1, nlen - 1);
			return;
		}
		if (verbs[i].arg == 1) {
			if (pos == len) {
				fail(out, ":%.*s needs a file name", line + 1, nlen - 1);
				return;
			}
			vbuf_append(&out->bytes, line + pos, len - pos);
			return;
		}
		if (verbs[i].arg == 3) {
			if (auth_lines(line + pos, len - pos, &out->bytes) != 0)
				fail(out, ":%.*s needs plain|login USER PASSWORD", line + 1, nlen - 1);
			return;
		}
		if (verbs[i].arg == 2) {
			char err[96];

			if (pos == len) {
				fail(out, ":%.*s needs bytes to send", line + 1, nlen - 1);
				return;
			}
			if (smtp_unescape(line + pos, len - pos, &out->bytes, err,
			    sizeof(err)) != 0) {
				out->kind = INPUT_ERROR;
				vbuf_reset(&out->bytes);
				snprintf(out->err, sizeof(out->err), ":raw: %s", err);
			}
		}
		return;
	}
	fail(out, "unknown console command \":%.*s\" (:help lists them)", line + 1,
	    nlen - 1 > 32 ? 32 : nlen - 1);
}

void
input_cmd_clear(input_cmd *c)
{
	vbuf_free(&c->bytes);
	c->kind = INPUT_EMPTY;
}

const char *
input_help(void)
{
	return "  COMMAND         an SMTP command, sent with CRLF (\"::x\" sends \":x\")\n"
	    "  :raw BYTES      bytes with escapes \\r \\n \\t \\0 \\xHH \\\\, nothing appended\n"
	    "  :data           message content up to a lone \".\", dot-stuffed, then CRLF.CRLF\n"
	    "  :pipe           commands up to a lone \".\", sent in one write (RFC 2920)\n"
	    "  :check          the passive checks on the session so far\n"
	    "  :save FILE      the session so far as a client-role scenario\n"
	    "  :capture FILE   the session so far as a pcap\n"
	    "  :auth plain|login USER PASSWORD   authenticate (RFC 4954), base64 done for you\n"
	    "  :starttls       STARTTLS, then on a 220 the TLS handshake (RFC 3207)\n"
	    "  :reset          RSET, and forget a pending AUTH exchange\n"
	    "  :help           this list\n"
	    "  :quit           end the session (without QUIT)\n";
}

const char *
input_kind_str(input_kind k)
{
	static const char *const names[] = {
		"empty", "command", "raw", "data", "pipe", "check", "save", "capture",
		"help", "quit", "auth", "starttls", "reset", "error",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
