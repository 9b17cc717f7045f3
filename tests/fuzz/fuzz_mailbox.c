/*
 * fuzz_mailbox - mbox splitting, token search and copy comparison on
 * hostile mailbox bytes.
 *
 * The input is split as an mbox: every message must lie inside the input,
 * in order, without overlap. The first line of the input (up to LF) is
 * taken as sent content against each message and against the whole
 * input, read both ways (mbox quoting on and off): every offset the
 * comparison reports must lie inside what it was given, and a copy
 * compared with itself (made CRLF, as content is sent) must come out the
 * same. Token search must find only what is there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/mailbox.h"
#include "harness/util/vbuf.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_mailbox: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_MSGS_MAX	64

static void
fuzz_match(const char *stored, size_t slen, const char *sent, size_t sentlen)
{
	for (int mbox = 0; mbox < 2; mbox++) {
		mbx_match m;

		mbx_match_copy(stored, slen, mbox, sent, sentlen, &m);
		FUZZ_CHECK(m.content_off <= slen);
		if (m.status != MBX_SAME) {
			FUZZ_CHECK(m.stored_off <= slen);
			FUZZ_CHECK(m.sent_off <= sentlen);
		}
	}
}

static int
fuzz_field(void *arg, const char *field, size_t len, size_t off)
{
	size_t end = *(size_t *)arg;

	FUZZ_CHECK(off + len <= end);
	(void)field;
	return 0;
}

/* The lines of p made CRLF: how a copy written with LF was sent. Lines
 * holding a CR are left out of the self-comparison (a bare CR is judged
 * apart), and so are inputs that do not end in LF. */
static int
fuzz_crlf(const char *p, size_t len, vbuf *out)
{
	if (len == 0 || p[len - 1] != '\n' || memchr(p, '\r', len) != NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n')
			vbuf_append_byte(out, '\r');
		vbuf_append_byte(out, p[i]);
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	mbx_msg msgs[FUZZ_MSGS_MAX];
	size_t n = mbx_mbox_split(buf, size, msgs, FUZZ_MSGS_MAX);
	const char *nl = memchr(buf, '\n', size);
	size_t first = nl ? (size_t)(nl - buf) : size;
	size_t prev_end = 0;
	size_t pos = 0, at;
	unsigned long num;
	vbuf crlf = VBUF_INIT;

	FUZZ_CHECK(n <= FUZZ_MSGS_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(msgs[i].off >= prev_end);
		FUZZ_CHECK(msgs[i].off <= size && msgs[i].len <= size - msgs[i].off);
		prev_end = msgs[i].off + msgs[i].len;
		fuzz_match(buf + msgs[i].off, msgs[i].len, buf, first);
	}
	fuzz_match(buf, size, buf, first);
	fuzz_match(buf, size, buf + first, size - first);
	mbx_fields(buf, size, fuzz_field, &size);

	while (mbx_next_token(buf, size, "smtph", &pos, &num, &at)) {
		FUZZ_CHECK(at + 5 < pos && pos <= size);
		FUZZ_CHECK(memcmp(buf + at, "smtph", 5) == 0);
		FUZZ_CHECK(buf[at + 5] >= '0' && buf[at + 5] <= '9');
	}

	if (fuzz_crlf(buf, size, &crlf)) {
		mbx_match m;

		mbx_match_copy(buf, size, 0, crlf.data, crlf.len, &m);
		FUZZ_CHECK(m.status == MBX_SAME);
	}
	vbuf_free(&crlf);
	return 0;
}
