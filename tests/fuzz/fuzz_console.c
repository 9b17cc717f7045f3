/*
 * fuzz_console - the probe console's input parser and session on hostile
 * bytes, with no network.
 *
 * The input is read as a console script, one line per LF: a line starting
 * with '<' is bytes from the server (the rest, escapes decoded, CRLF
 * added); any other line is what a person typed, parsed by input_parse()
 * and acted on as the console does (commands, :raw, :data and :pipe up to
 * a lone "."). Whatever happens, the session owes no more replies than
 * it was sent lines, :raw decodes to at most the bytes typed, and the
 * session saved as a scenario must load: the console never writes a
 * scenario that `validate` would refuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/console/input.h"
#include "harness/console/session.h"
#include "harness/scenario/scenario.h"
#include "harness/smtp/command.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_console: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_LINES_MAX	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	session *s = session_new();
	vbuf wire = VBUF_INIT, out = VBUF_INIT;
	char *lines[FUZZ_LINES_MAX];
	size_t nlines = 0, sent_lines = 1;	/* the greeting */
	int mode = 0;				/* 0 commands, 1 :data, 2 :pipe */
	char *json, err[512];
	scn_scenario *sc = NULL;

	session_opened(s, NULL, NULL);
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = lf ? (size_t)(lf - p) : (size_t)(end - p);
		input_cmd c;

		if (len > 0 && p[0] == '<') {
			vbuf bytes = VBUF_INIT;

			if (smtp_unescape(p + 1, len - 1, &bytes, err, sizeof(err)) == 0) {
				vbuf_append(&bytes, "\r\n", 2);
				session_received(s, bytes.data, bytes.len, &out);
				/* The console runs the handshake here. */
				if (session_tls_wanted(s))
					session_tls_start(s, 0);
			}
			vbuf_free(&bytes);
		} else if (mode != 0) {
			if (len == 1 && p[0] == '.') {
				if (mode == 1) {
					/* Read as commands after a refused DATA:
					 * each line and the dot. */
					session_data(s, lines, nlines, &wire, &out);
					sent_lines += nlines + 1;
				} else if (nlines > 0) {
					session_pipe(s, lines, nlines, &wire, &out);
					sent_lines += nlines;
				}
				for (size_t i = 0; i < nlines; i++)
					xfree(lines[i]);
				nlines = 0;
				mode = 0;
			} else if (nlines < FUZZ_LINES_MAX && !memchr(p, '\0', len)) {
				lines[nlines++] = xstrndup(p, len);
			}
		} else {
			input_parse(p, len, &c);
			switch (c.kind) {
			case INPUT_COMMAND:
				session_command(s, c.bytes.data, c.bytes.len, &wire, &out);
				sent_lines++;
				break;
			case INPUT_RAW:
				FUZZ_CHECK(c.bytes.len <= len);
				for (size_t i = 0; i + 1 < c.bytes.len; i++)
					sent_lines += c.bytes.data[i] == '\r' && c.bytes.data[i + 1] == '\n';
				session_raw(s, c.bytes.data, c.bytes.len, &wire, &out);
				break;
			case INPUT_AUTH: {
				/* The console sends the rest only after a 334;
				 * here they go regardless, to reach more states. */
				const char *all = vbuf_str(&c.bytes), *q = all;

				while (q != NULL) {
					const char *nl = strchr(q, '\n');
					size_t n = nl ? (size_t)(nl - q) : strlen(q);

					FUZZ_CHECK(n > 0);
					if (q == all)
						session_command(s, q, n, &wire, &out);
					else
						session_auth_line(s, q, n, &wire, &out);
					sent_lines++;
					q = nl ? nl + 1 : NULL;
				}
				break;
			}
			case INPUT_STARTTLS:
				session_command(s, "STARTTLS", 8, &wire, &out);
				sent_lines++;
				break;
			case INPUT_RESET:
				session_command(s, "RSET", 4, &wire, &out);
				session_reset(s);
				sent_lines++;
				break;
			case INPUT_DATA:
				mode = 1;
				break;
			case INPUT_PIPE:
				mode = 2;
				break;
			case INPUT_CHECK:
				session_check(s, &out);
				break;
			case INPUT_ERROR:
				FUZZ_CHECK(c.err[0] != '\0');
				break;
			default:
				break;
			}
			input_cmd_clear(&c);
		}
		FUZZ_CHECK(session_owed(s) <= sent_lines);
		vbuf_reset(&out);
		vbuf_reset(&wire);
		p += len + (lf != NULL);
	}
	for (size_t i = 0; i < nlines; i++)
		xfree(lines[i]);
	session_server_closed(s, 0);
	json = session_scenario(s, "probe.fuzz", "fuzzed");
	if (scn_load_buffer("fuzz", json, strlen(json), &sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_console: the saved scenario does not load: %s\n%s\n", err,
		    json);
		abort();
	}
	scn_free(sc);
	xfree(json);
	session_check(s, &out);
	vbuf_free(&out);
	vbuf_free(&wire);
	session_free(s);
	return 0;
}
