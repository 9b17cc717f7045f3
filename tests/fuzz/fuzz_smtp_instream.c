/*
 * fuzz_smtp_instream - a hostile client's stream, read as the server role
 * reads it.
 *
 * The first byte picks where the stream is cut into reads; the rest is
 * the stream. It is read twice: all at once, and growing read by read as
 * the server sees it, switching to message content after every DATA (as
 * if a 354 answered it). Both readings must give the same items at the
 * same offsets -- however the bytes arrive, the server reads the same
 * commands -- and every item must lie inside the stream, chunks no
 * longer than said, content no longer than its wire form.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/instream.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_smtp_instream: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/* Small limits, so that the refusals are reached often. */
#define FUZZ_LINE_MAX	64
#define FUZZ_CHUNK_MAX	256
#define FUZZ_ITEMS_MAX	4096

typedef struct seen {
	size_t off, len, body;
	int kind;		/* 0 line, 1 content, 2 bdat, 3 too long */
} seen;

/* Reads data[0..len) in reads of `step` bytes (all at once when 0). */
static size_t
fuzz_read(const char *data, size_t len, size_t step, seen *out)
{
	smtp_instream s = { 0 };
	size_t have = step == 0 ? len : 0, n = 0;

	for (;;) {
		smtp_initem it;
		int rc = smtp_in_take(&s, data, have, FUZZ_LINE_MAX, FUZZ_CHUNK_MAX, &it);

		if (rc == SMTP_IN_TOO_LONG) {
			out[n++] = (seen){ s.rd, 0, 0, 3 };
			return n;
		}
		if (rc == SMTP_IN_MORE) {
			if (have == len)
				return n;
			have = have + step > len ? len : have + step;
			continue;
		}
		FUZZ_CHECK(rc == SMTP_IN_ITEM);
		FUZZ_CHECK(it.off + it.len <= have && it.len > 0);
		FUZZ_CHECK(s.rd == it.off + it.len);
		if (it.content) {
			FUZZ_CHECK(it.body.len + 3 <= it.len);
			FUZZ_CHECK(it.len >= 3 && memcmp(data + it.off + it.len - 3, ".\r\n", 3) == 0);
		} else {
			FUZZ_CHECK(it.line != NULL);
			if (it.bdat)
				FUZZ_CHECK(it.body.len <= FUZZ_CHUNK_MAX && it.body.len < it.len);
		}
		out[n++] = (seen){ it.off, it.len, it.body.len, it.content ? 1 : it.bdat ? 2 : 0 };
		if (!it.content && !it.bdat && it.cmd.verb == SMTP_VERB_DATA)
			smtp_in_expect_data(&s);
		smtp_initem_clear(&it);
		if (n == FUZZ_ITEMS_MAX)
			return n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static seen whole[FUZZ_ITEMS_MAX], parts[FUZZ_ITEMS_MAX];
	size_t step, n1, n2;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	n1 = fuzz_read((const char *)data + 1, size - 1, 0, whole);
	n2 = fuzz_read((const char *)data + 1, size - 1, step, parts);
	/* A line too long is seen once the limit is passed; read in pieces
	 * it may be seen at the same place only. Everything before agrees. */
	FUZZ_CHECK(n1 == n2);
	for (size_t i = 0; i < n1; i++)
		FUZZ_CHECK(memcmp(&whole[i], &parts[i], sizeof(seen)) == 0);
	return 0;
}
