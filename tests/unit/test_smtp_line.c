#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/line.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* Lines collected from a whole input, text and flags in one record. */
typedef struct got {
	char text[256][64];
	size_t len[256];
	size_t wire[256];
	unsigned flags[256];
	size_t n;
	size_t total_wire;
} got;

/* Feeds in pieces of `step` bytes (0 = all at once) and collects lines. */
static void
feed_all(const char *in, size_t len, size_t step, size_t hard_max, got *g)
{
	smtp_line_reader r;
	size_t pos = 0;

	memset(g, 0, sizeof(*g));
	smtp_line_reader_init(&r, hard_max);
	while (pos < len) {
		size_t piece = step && len - pos > step ? step : len - pos;
		size_t off = 0;

		for (;;) {
			smtp_line line;
			size_t used = 0;
			int done = smtp_line_feed(&r, in + pos + off, piece - off, &used, &line);

			off += used;
			if (!done)
				break;
			ck_assert_uint_lt(g->n, 256);
			ck_assert_uint_lt(line.len, 64);
			memcpy(g->text[g->n], line.text, line.len);
			g->len[g->n] = line.len;
			g->wire[g->n] = line.wire_len;
			g->flags[g->n] = line.flags;
			g->total_wire += line.wire_len;
			g->n++;
		}
		ck_assert_uint_eq(off, piece);
		pos += piece;
	}
	g->total_wire += smtp_line_pending(&r);
	smtp_line_reader_free(&r);
}

START_TEST(test_smtp_line_crlf_lines)
{
	const char *in = "EHLO a\r\n\r\nQUIT\r\n";
	got g;

	feed_all(in, strlen(in), 0, 1000, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_str_eq(g.text[0], "EHLO a");
	ck_assert_uint_eq(g.wire[0], 8);
	ck_assert_uint_eq(g.len[1], 0);
	ck_assert_uint_eq(g.wire[1], 2);
	ck_assert_str_eq(g.text[2], "QUIT");
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(g.flags[i], 0);
	ck_assert_uint_eq(g.total_wire, strlen(in));
}
END_TEST

START_TEST(test_smtp_line_bare_lf_and_cr)
{
	const char *in = "a\nb\rc\r\nd\r\r\n";
	got g;

	feed_all(in, strlen(in), 0, 1000, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_str_eq(g.text[0], "a");
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_BARE_LF);
	ck_assert_uint_eq(g.wire[0], 2);
	ck_assert_str_eq(g.text[1], "b\rc");
	ck_assert_uint_eq(g.flags[1], SMTP_LINE_BARE_CR);
	ck_assert_uint_eq(g.wire[1], 5);
	/* "d\r\r\n": the first CR is a byte of the line, the second ends it. */
	ck_assert_str_eq(g.text[2], "d\r");
	ck_assert_uint_eq(g.flags[2], SMTP_LINE_BARE_CR);
	ck_assert_uint_eq(g.wire[2], 4);
}
END_TEST

START_TEST(test_smtp_line_cr_at_feed_boundary)
{
	smtp_line_reader r;
	smtp_line line;
	size_t used;

	smtp_line_reader_init(&r, 1000);
	/* A CR at the end of a feed is pending: neither line end nor byte. */
	ck_assert_int_eq(smtp_line_feed(&r, "250 ok\r", 7, &used, &line), 0);
	ck_assert_uint_eq(used, 7);
	ck_assert_uint_eq(smtp_line_pending(&r), 7);
	ck_assert_int_eq(smtp_line_feed(&r, "\nX", 2, &used, &line), 1);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(line.len, 6);
	ck_assert_int_eq(memcmp(line.text, "250 ok", 6), 0);
	ck_assert_uint_eq(line.wire_len, 8);
	ck_assert_uint_eq(line.flags, 0);

	/* Pending CR followed by something else becomes a bare CR. */
	ck_assert_int_eq(smtp_line_feed(&r, "Y\r", 2, &used, &line), 0);
	ck_assert_int_eq(smtp_line_feed(&r, "Z\r", 2, &used, &line), 0);
	ck_assert_int_eq(smtp_line_feed(&r, "\n", 1, &used, &line), 1);
	ck_assert_uint_eq(line.len, 3);
	ck_assert_int_eq(memcmp(line.text, "Y\rZ", 3), 0);
	ck_assert_uint_eq(line.flags, SMTP_LINE_BARE_CR);
	ck_assert_uint_eq(line.wire_len, 5);

	/* Reset drops a pending CR. */
	ck_assert_int_eq(smtp_line_feed(&r, "abc\r", 4, &used, &line), 0);
	smtp_line_reader_reset(&r);
	ck_assert_uint_eq(smtp_line_pending(&r), 0);
	ck_assert_int_eq(smtp_line_feed(&r, "\n", 1, &used, &line), 1);
	ck_assert_uint_eq(line.len, 0);
	ck_assert_uint_eq(line.flags, SMTP_LINE_BARE_LF);
	smtp_line_reader_free(&r);
}
END_TEST

START_TEST(test_smtp_line_every_split_same)
{
	static const char in[] = "250-a\r\n250-b\rc\n\r\n\0x\xff\r\n\r\r\r\n.\r\n";
	size_t len = sizeof(in) - 1;
	got whole, piece;

	feed_all(in, len, 0, 1000, &whole);
	ck_assert_uint_eq(whole.n, 6);
	ck_assert_uint_eq(whole.total_wire, len);
	for (size_t step = 1; step < len; step++) {
		feed_all(in, len, step, 1000, &piece);
		ck_assert_uint_eq(piece.n, whole.n);
		ck_assert_uint_eq(piece.total_wire, len);
		for (size_t i = 0; i < whole.n; i++) {
			ck_assert_uint_eq(piece.len[i], whole.len[i]);
			ck_assert_int_eq(memcmp(piece.text[i], whole.text[i], whole.len[i]), 0);
			ck_assert_uint_eq(piece.flags[i], whole.flags[i]);
			ck_assert_uint_eq(piece.wire[i], whole.wire[i]);
		}
	}
}
END_TEST

START_TEST(test_smtp_line_nul_and_8bit)
{
	const char in[] = "a\0b\r\nj\xc3\xa9\r\n\x01\r\n";
	got g;

	feed_all(in, sizeof(in) - 1, 0, 1000, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(g.len[0], 3);
	ck_assert_int_eq(memcmp(g.text[0], "a\0b", 3), 0);
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_NUL);
	ck_assert_uint_eq(g.flags[1], SMTP_LINE_8BIT);
	/* Other control bytes are the caller's business. */
	ck_assert_uint_eq(g.flags[2], 0);
}
END_TEST

START_TEST(test_smtp_line_hard_max)
{
	got g;

	/* Exactly hard_max bytes then CRLF is a normal line. */
	feed_all("abcd\r\n", 6, 0, 4, &g);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.flags[0], 0);

	/* One more byte cuts the line at hard_max; the rest is the next line. */
	feed_all("abcdef\r\n", 8, 0, 4, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.text[0], "abcd");
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_TOO_LONG_HARD);
	ck_assert_uint_eq(g.wire[0], 4);
	ck_assert_str_eq(g.text[1], "ef");
	ck_assert_uint_eq(g.flags[1], 0);
	ck_assert_uint_eq(g.total_wire, 8);

	/* Same byte by byte. */
	feed_all("abcdef\r\n", 8, 1, 4, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_TOO_LONG_HARD);

	/* A bare CR that does not fit starts the next line. */
	feed_all("abcd\rx\r\n", 8, 0, 4, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.text[0], "abcd");
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_TOO_LONG_HARD);
	ck_assert_str_eq(g.text[1], "\rx");
	ck_assert_uint_eq(g.flags[1], SMTP_LINE_BARE_CR);
	ck_assert_uint_eq(g.total_wire, 8);

	/* The flags of a cut line cover only what it kept. */
	feed_all("abcd\xff\r\n", 7, 0, 4, &g);
	ck_assert_uint_eq(g.flags[0], SMTP_LINE_TOO_LONG_HARD);
	ck_assert_uint_eq(g.flags[1], SMTP_LINE_8BIT);
}
END_TEST

START_TEST(test_smtp_line_text_valid_until_next_feed)
{
	smtp_line_reader r;
	smtp_line line;
	size_t used;

	smtp_line_reader_init(&r, 100);
	ck_assert_int_eq(smtp_line_feed(&r, "one\r\ntwo\r\n", 10, &used, &line), 1);
	ck_assert_uint_eq(used, 5);
	ck_assert_int_eq(memcmp(line.text, "one", 3), 0);
	ck_assert_int_eq(smtp_line_pending(&r), 0);
	ck_assert_int_eq(smtp_line_feed(&r, "two\r\n", 5, &used, &line), 1);
	ck_assert_int_eq(memcmp(line.text, "two", 3), 0);
	/* An empty feed needs more and uses nothing. */
	ck_assert_int_eq(smtp_line_feed(&r, "", 0, &used, &line), 0);
	ck_assert_uint_eq(used, 0);
	smtp_line_reader_free(&r);
	smtp_line_reader_free(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_line");
	TCase *tc = tcase_create("smtp_line");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_line_crlf_lines);
	tcase_add_test(tc, test_smtp_line_bare_lf_and_cr);
	tcase_add_test(tc, test_smtp_line_cr_at_feed_boundary);
	tcase_add_test(tc, test_smtp_line_every_split_same);
	tcase_add_test(tc, test_smtp_line_nul_and_8bit);
	tcase_add_test(tc, test_smtp_line_hard_max);
	tcase_add_test(tc, test_smtp_line_text_valid_until_next_feed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
