/*
 * fuzz_command - command lines, escapes and dot-stuffing on hostile bytes.
 *
 * The input is split into lines with the line reader (all line bytes plus
 * terminators must add up to the input) and each line is parsed as a
 * command. The whole input is also decoded as an escaped string, and
 * dot-stuffed as a text blob: unstuffing what stuffing produced must give
 * the text back with its line ends made CRLF, and no line of the stuffed
 * form may be a lone "." before the real end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/command.h"
#include "harness/smtp/line.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_command: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/* A small hard limit so that the cut path is reached often. */
#define FUZZ_LINE_HARD_MAX	(SMTP_COMMAND_LINE_MAX * 2)

static void
fuzz_check_cmd(const char *line, size_t len)
{
	smtp_cmd c;
	size_t nl;

	smtp_cmd_parse(line, len, &c);
	nl = strlen(c.name);
	FUZZ_CHECK(nl <= HARNESS_VERB_MAX);
	for (size_t i = 0; i < nl; i++)
		FUZZ_CHECK(c.name[i] >= 'A' && c.name[i] <= 'Z');
	FUZZ_CHECK(c.args >= line && c.args + c.args_len == line + len);
	if (c.verb != SMTP_VERB_UNKNOWN) {
		FUZZ_CHECK(strcmp(c.name, smtp_verb_str(c.verb)) == 0);
		FUZZ_CHECK(smtp_verb_lookup(c.name, nl) == c.verb);
	}
	if (nl == 0)
		FUZZ_CHECK(c.verb == SMTP_VERB_UNKNOWN);
	(void)smtp_verb_ends_group(c.verb);
}

static void
fuzz_lines(const uint8_t *data, size_t size)
{
	smtp_line_reader r;
	size_t pos = 0, total = 0;

	smtp_line_reader_init(&r, FUZZ_LINE_HARD_MAX);
	while (pos < size) {
		smtp_line line;
		size_t used = 0;
		int done = smtp_line_feed(&r, (const char *)data + pos, size - pos, &used, &line);

		FUZZ_CHECK(used <= size - pos);
		pos += used;
		if (!done) {
			FUZZ_CHECK(pos == size);
			break;
		}
		FUZZ_CHECK(line.len <= FUZZ_LINE_HARD_MAX);
		FUZZ_CHECK(line.wire_len >= line.len && line.wire_len <= line.len + 2);
		total += line.wire_len;
		fuzz_check_cmd(line.text, line.len);
	}
	FUZZ_CHECK(total + smtp_line_pending(&r) == size);
	smtp_line_reader_free(&r);
}

/* What smtp_data_stuff_text sends before stuffing: each LF without a CR
 * before it gets one, and a last line without an end gets CRLF. */
static void
fuzz_normalize(const char *in, size_t len, vbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			vbuf_append_byte(out, '\r');
		vbuf_append_byte(out, in[i]);
	}
	if (len > 0 && in[len - 1] != '\n')
		vbuf_append(out, "\r\n", 2);
}

static void
fuzz_stuffing(const char *text, size_t len)
{
	vbuf st = VBUF_INIT, un = VBUF_INIT, norm = VBUF_INIT;

	smtp_data_stuff_text(&st, text, len);
	FUZZ_CHECK(st.len >= 3 && memcmp(st.data + st.len - 3, ".\r\n", 3) == 0);
	/* The only "CRLF . CRLF" is the final one (or the content is empty). */
	for (size_t i = 0; i + 5 <= st.len; i++) {
		if (memcmp(st.data + i, "\r\n.\r\n", 5) == 0)
			FUZZ_CHECK(i + 5 == st.len);
	}
	if (st.len > 3)
		FUZZ_CHECK(memcmp(st.data, ".\r\n", 3) != 0);
	smtp_data_unstuff(&un, st.data, st.len - 3);
	fuzz_normalize(text, len, &norm);
	FUZZ_CHECK(un.len == norm.len);
	FUZZ_CHECK(un.len == 0 || memcmp(un.data, norm.data, un.len) == 0);
	vbuf_free(&st);
	vbuf_free(&un);
	vbuf_free(&norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	vbuf out = VBUF_INIT;
	char err[128];

	fuzz_lines(data, size);

	vbuf_append_str(&out, "pre");
	if (smtp_unescape(text, size, &out, err, sizeof(err)) == 0) {
		/* Never longer than the input: every escape shrinks. */
		FUZZ_CHECK(out.len <= 3 + size);
	} else {
		FUZZ_CHECK(strncmp(err, "bad escape", 10) == 0);
		FUZZ_CHECK(out.len == 3 && memcmp(out.data, "pre", 3) == 0);
	}
	vbuf_free(&out);

	fuzz_stuffing(text, size);
	return 0;
}
