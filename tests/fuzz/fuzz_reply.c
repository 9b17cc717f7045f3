/*
 * fuzz_reply - the reply parser fed hostile bytes in hostile pieces.
 *
 * The first four input bytes choose the piece sizes; the rest is the
 * stream. It is parsed twice, whole and in pieces, and both parses must
 * agree reply for reply (the parser may not depend on how reads split the
 * stream). Each reply must be the exact bytes of the stream it came from,
 * its lines must lie inside it, and it is also read as an EHLO reply and
 * summarised, so those see the same hostile replies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_reply: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/* Bounds the work per input; the parser's own limits are tested in the
 * unit tests. */
#define FUZZ_MAX_REPLIES	4096

typedef struct fuzz_seen {
	int code[FUZZ_MAX_REPLIES];
	unsigned defects[FUZZ_MAX_REPLIES];
	size_t end[FUZZ_MAX_REPLIES];
	size_t nlines[FUZZ_MAX_REPLIES];
	size_t n;
	int error;
	size_t error_at;
} fuzz_seen;

static void
fuzz_check_reply(const smtp_reply *r, const uint8_t *stream, size_t start, size_t end)
{
	size_t sum = 0;

	FUZZ_CHECK(r->nlines >= 1);
	FUZZ_CHECK(r->raw_len == end - start);
	FUZZ_CHECK(memcmp(r->raw, stream + start, r->raw_len) == 0);
	FUZZ_CHECK(r->raw[r->raw_len] == '\0');
	FUZZ_CHECK(r->code == r->lines[0].code);
	FUZZ_CHECK(r->code >= -1 && r->code <= 999);
	for (size_t i = 0; i < r->nlines; i++) {
		const smtp_reply_line *l = &r->lines[i];
		size_t tl;
		const char *t = smtp_reply_text(r, i, &tl);

		FUZZ_CHECK(l->off == sum);
		FUZZ_CHECK(l->off + l->len <= r->raw_len);
		FUZZ_CHECK(l->text_off >= l->off && l->text_off <= l->off + l->len);
		FUZZ_CHECK(t == r->raw + l->text_off && l->text_off + tl == l->off + l->len);
		/* The terminator follows the line: CRLF, or a bare LF. */
		size_t term = r->raw[l->off + l->len] == '\r' ? 2 : 1;

		FUZZ_CHECK(r->raw[l->off + l->len + term - 1] == '\n');
		sum += l->len + term;
		if (i + 1 < r->nlines)
			FUZZ_CHECK(l->sep == '-' && l->code >= 0);
		if (l->esc.present)
			FUZZ_CHECK(l->esc.cls == 2 || l->esc.cls == 4 || l->esc.cls == 5);
	}
	FUZZ_CHECK(sum == r->raw_len);

	smtp_ehlo e;

	smtp_ehlo_parse(r, &e);
	FUZZ_CHECK(e.domain != NULL);
	for (size_t i = 0; i < e.nkw; i++) {
		FUZZ_CHECK(e.kw[i].line >= 1 && e.kw[i].line < r->nlines);
		FUZZ_CHECK(smtp_ehlo_find(&e, e.kw[i].keyword) != NULL);
	}
	(void)smtp_ehlo_has_param(&e, "AUTH", "PLAIN");
	smtp_ehlo_clear(&e);

	char *s = smtp_reply_summary(r, 80);

	FUZZ_CHECK(strlen(s) <= 80);
	xfree(s);
	(void)smtp_reply_defects_str(r->defects);
}

/* Parses stream in pieces of sizes[k % nsizes] bytes (0 = the rest). */
static void
fuzz_parse(const uint8_t *stream, size_t len, const size_t *sizes, size_t nsizes,
    fuzz_seen *seen)
{
	smtp_reply_parser *p = smtp_reply_parser_new();
	size_t pos = 0, start = 0, k = 0;

	memset(seen, 0, sizeof(*seen));
	while (pos < len && seen->n < FUZZ_MAX_REPLIES && !seen->error) {
		size_t piece = sizes[k++ % nsizes];

		if (piece == 0 || piece > len - pos)
			piece = len - pos;
		size_t stop = pos + piece;

		while (pos < stop && seen->n < FUZZ_MAX_REPLIES) {
			smtp_reply *r = NULL;
			size_t used = 0;
			smtp_feed_status st = smtp_reply_feed(p, (const char *)stream + pos,
			    stop - pos, &used, &r);

			FUZZ_CHECK(used <= stop - pos);
			pos += used;
			if (st == SMTP_FEED_ERROR) {
				FUZZ_CHECK(r == NULL);
				FUZZ_CHECK(smtp_reply_parser_error(p)[0] != '\0');
				seen->error = 1;
				seen->error_at = pos;
				break;
			}
			if (st == SMTP_FEED_NEED_MORE) {
				FUZZ_CHECK(r == NULL && pos == stop);
				break;
			}
			FUZZ_CHECK(r != NULL);
			fuzz_check_reply(r, stream, start, pos);
			seen->code[seen->n] = r->code;
			seen->defects[seen->n] = r->defects;
			seen->nlines[seen->n] = r->nlines;
			seen->end[seen->n++] = pos;
			start = pos;
			smtp_reply_free(r);
		}
	}
	if (!seen->error && pos == len)
		FUZZ_CHECK(smtp_reply_parser_pending(p) == len - start);
	smtp_reply_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fuzz_seen whole, split;
	size_t sizes[4], all = 0;

	if (size < 4)
		return 0;
	for (size_t i = 0; i < 4; i++)
		sizes[i] = data[i] % 64;	/* 0 means "the rest" */
	data += 4;
	size -= 4;

	fuzz_parse(data, size, &all, 1, &whole);
	fuzz_parse(data, size, sizes, 4, &split);
	FUZZ_CHECK(whole.n == split.n);
	FUZZ_CHECK(whole.error == split.error);
	if (whole.error)
		FUZZ_CHECK(whole.error_at == split.error_at);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(whole.code[i] == split.code[i]);
		FUZZ_CHECK(whole.defects[i] == split.defects[i]);
		FUZZ_CHECK(whole.end[i] == split.end[i]);
		FUZZ_CHECK(whole.nlines[i] == split.nlines[i]);
	}
	return 0;
}
