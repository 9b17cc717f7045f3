#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/reply.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define MAXR 32

/* Every reply of a stream and the stream offset where each one ended. */
typedef struct parsed {
	smtp_reply *r[MAXR];
	size_t end[MAXR];
	size_t n;
	smtp_feed_status last;
	size_t pending;
} parsed;

static void
parsed_free(parsed *p)
{
	for (size_t i = 0; i < p->n; i++)
		smtp_reply_free(p->r[i]);
	p->n = 0;
}

/* Feeds in pieces: cut points cuts[0..ncuts) (ascending, inside len). */
static void
parse_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts, parsed *out)
{
	smtp_reply_parser *p = smtp_reply_parser_new();
	size_t start = 0;

	memset(out, 0, sizeof(*out));
	for (size_t c = 0; c <= ncuts; c++) {
		size_t stop = c < ncuts ? cuts[c] : len;
		size_t pos = start;

		while (pos < stop) {
			smtp_reply *r = NULL;
			size_t used = 0;
			smtp_feed_status st = smtp_reply_feed(p, in + pos, stop - pos, &used, &r);

			ck_assert_uint_le(used, stop - pos);
			pos += used;
			out->last = st;
			if (st == SMTP_FEED_ERROR)
				goto done;
			if (st == SMTP_FEED_REPLY) {
				ck_assert_ptr_nonnull(r);
				ck_assert_uint_lt(out->n, MAXR);
				out->r[out->n] = r;
				out->end[out->n++] = pos;
			} else {
				ck_assert_ptr_null(r);
				ck_assert_uint_eq(pos, stop);
			}
		}
		start = stop;
	}
done:
	out->pending = smtp_reply_parser_pending(p);
	smtp_reply_parser_free(p);
}

static void
parse_all(const char *in, size_t len, parsed *out)
{
	parse_cuts(in, len, NULL, 0, out);
}

static void
assert_same_reply(const smtp_reply *a, const smtp_reply *b)
{
	ck_assert_int_eq(a->code, b->code);
	ck_assert_uint_eq(a->defects, b->defects);
	ck_assert_uint_eq(a->raw_len, b->raw_len);
	ck_assert_int_eq(memcmp(a->raw, b->raw, a->raw_len), 0);
	ck_assert_int_eq(a->raw[a->raw_len], '\0');
	ck_assert_uint_eq(a->nlines, b->nlines);
	ck_assert_int_eq(memcmp(&a->esc, &b->esc, sizeof(a->esc)), 0);
	for (size_t i = 0; i < a->nlines; i++)
		ck_assert_int_eq(memcmp(&a->lines[i], &b->lines[i], sizeof(a->lines[i])), 0);
}

static void
assert_same_parse(const parsed *a, const parsed *b)
{
	ck_assert_uint_eq(a->n, b->n);
	ck_assert_int_eq(a->last, b->last);
	ck_assert_uint_eq(a->pending, b->pending);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_uint_eq(a->end[i], b->end[i]);
		assert_same_reply(a->r[i], b->r[i]);
	}
}

static const char *const streams[] = {
	"220 mx.example ESMTP Postfix\r\n",
	("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
	    "250 SMTPUTF8\r\n"),
	"250-first\r\n250 second\r\n550-5.1.1 no\r\n550 5.1.1 such user\r\n354 go\r\n",
	"250-a\n250-b\rc\r\n251 d\r\nhello\r\n250\r\n",
	"421-4.3.2 one\r\n421-\r\n421 4.3.2 closing\r\n250 tail-without-end\r",
};

START_TEST(test_smtp_reply_every_split)
{
	for (size_t s = 0; s < sizeof(streams) / sizeof(streams[0]); s++) {
		const char *in = streams[s];
		size_t len = strlen(in);
		parsed whole, split;
		size_t cuts[4096];

		parse_all(in, len, &whole);
		ck_assert_uint_gt(whole.n, 0);
		/* Every 2-way split. */
		for (size_t k = 1; k < len; k++) {
			parse_cuts(in, len, &k, 1, &split);
			assert_same_parse(&whole, &split);
			parsed_free(&split);
		}
		/* Byte by byte. */
		ck_assert_uint_lt(len, 4096);
		for (size_t k = 1; k < len; k++)
			cuts[k - 1] = k;
		parse_cuts(in, len, cuts, len - 1, &split);
		assert_same_parse(&whole, &split);
		parsed_free(&split);
		parsed_free(&whole);
	}
}
END_TEST

START_TEST(test_smtp_reply_boundaries)
{
	const char *in = streams[2];
	parsed p;

	parse_all(in, strlen(in), &p);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_uint_eq(p.end[0], strlen("250-first\r\n250 second\r\n"));
	ck_assert_uint_eq(p.end[1], p.end[0] + strlen("550-5.1.1 no\r\n550 5.1.1 such user\r\n"));
	ck_assert_uint_eq(p.end[2], strlen(in));
	ck_assert_int_eq(p.r[0]->code, 250);
	ck_assert_uint_eq(p.r[0]->nlines, 2);
	ck_assert_uint_eq(p.r[0]->defects, 0);
	ck_assert_str_eq(p.r[0]->raw, "250-first\r\n250 second\r\n");
	ck_assert_int_eq(p.r[1]->code, 550);
	ck_assert_int_eq(p.r[1]->esc.present, 1);
	ck_assert_int_eq(p.r[1]->esc.cls, 5);
	ck_assert_int_eq(p.r[1]->esc.subject, 1);
	ck_assert_int_eq(p.r[1]->esc.detail, 1);
	ck_assert_int_eq(p.r[2]->code, 354);
	ck_assert_uint_eq(p.pending, 0);

	/* Line details: offsets, separators, text. */
	const smtp_reply *r = p.r[1];
	size_t tl;
	const char *t;

	ck_assert_uint_eq(r->lines[0].off, 0);
	ck_assert_uint_eq(r->lines[0].len, 12);
	ck_assert_int_eq(r->lines[0].sep, '-');
	ck_assert_uint_eq(r->lines[1].off, 14);
	ck_assert_int_eq(r->lines[1].sep, ' ');
	t = smtp_reply_text(r, 1, &tl);
	ck_assert_uint_eq(tl, strlen("5.1.1 such user"));
	ck_assert_int_eq(memcmp(t, "5.1.1 such user", tl), 0);
	t = smtp_reply_text(r, 9, &tl);
	ck_assert_uint_eq(tl, 0);
	parsed_free(&p);
}
END_TEST

START_TEST(test_smtp_reply_stops_after_reply)
{
	smtp_reply_parser *p = smtp_reply_parser_new();
	const char *in = "250 a\r\n251 b\r\n252-c";
	smtp_reply *r;
	size_t used;

	ck_assert_int_eq(smtp_reply_feed(p, in, strlen(in), &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(used, 7);
	ck_assert_int_eq(r->code, 250);
	smtp_reply_free(r);
	ck_assert_int_eq(smtp_reply_feed(p, in + 7, strlen(in) - 7, &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(used, 7);
	ck_assert_int_eq(r->code, 251);
	smtp_reply_free(r);
	ck_assert_int_eq(smtp_reply_feed(p, in + 14, 5, &used, &r), SMTP_FEED_NEED_MORE);
	ck_assert_uint_eq(used, 5);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(smtp_reply_parser_pending(p), 5);
	ck_assert_int_eq(smtp_reply_feed(p, "\r\n252 d\r\n", 9, &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(used, 9);
	ck_assert_uint_eq(r->nlines, 2);
	ck_assert_str_eq(r->raw, "252-c\r\n252 d\r\n");
	ck_assert_uint_eq(r->raw_len, 14);
	smtp_reply_free(r);
	ck_assert_str_eq(smtp_reply_parser_error(p), "");
	smtp_reply_parser_free(p);
	smtp_reply_parser_free(NULL);
	smtp_reply_free(NULL);
}
END_TEST

/* One reply from a literal; asserts the whole input made one reply. */
static smtp_reply *
one(const char *in, size_t len)
{
	parsed p;

	parse_all(in, len, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_uint_eq(p.end[0], len);
	return p.r[0];
}

#define ONE(s) one((s), sizeof(s) - 1)

START_TEST(test_smtp_reply_defect_bits)
{
	smtp_reply *r;

	r = ONE("600 x\r\n");
	ck_assert_int_eq(r->code, 600);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	r = ONE("160 x\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	r = ONE("260 x\r\n");	/* second digit 6 */
	ck_assert_int_eq(r->code, 260);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	r = ONE("hello world\r\n");
	ck_assert_int_eq(r->code, -1);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_CODE);
	ck_assert_uint_eq(r->lines[0].text_off, 0);
	smtp_reply_free(r);

	r = ONE("25 ok\r\n");
	ck_assert_int_eq(r->code, -1);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	r = ONE("250-a\r\n251 b\r\n");
	ck_assert_int_eq(r->code, 250);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_CODE_MISMATCH);
	smtp_reply_free(r);

	/* A continuation followed by garbage: the garbage ends the reply. */
	r = ONE("250-a\r\nxyz\r\n");
	ck_assert_uint_eq(r->nlines, 2);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_CODE_MISMATCH | SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	r = ONE("250_ok\r\n");
	ck_assert_int_eq(r->code, 250);
	ck_assert_int_eq(r->lines[0].sep, '\0');
	ck_assert_uint_eq(r->lines[0].text_off, 3);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_SEPARATOR);
	smtp_reply_free(r);

	r = ONE("2500 ok\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BAD_SEPARATOR | SMTP_REPLY_BAD_CODE);
	smtp_reply_free(r);

	/* A bare code is fine. */
	r = ONE("250\r\n");
	ck_assert_uint_eq(r->defects, 0);
	ck_assert_int_eq(r->lines[0].sep, '\0');
	smtp_reply_free(r);

	r = ONE("250 ok\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BARE_LF);
	ck_assert_uint_eq(r->raw_len, 7);
	ck_assert_str_eq(r->raw, "250 ok\n");
	smtp_reply_free(r);

	r = ONE("250 o\rk\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_BARE_CR);
	smtp_reply_free(r);

	r = ONE("250 o\0k\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_NUL);
	ck_assert_uint_eq(r->raw_len, 9);
	ck_assert_int_eq(memcmp(r->raw, "250 o\0k\r\n", 9), 0);
	smtp_reply_free(r);

	r = ONE("250 caf\xc3\xa9\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_8BIT);
	smtp_reply_free(r);

	r = ONE("250 a\x01z\x7f\r\n");
	ck_assert_uint_eq(r->defects, SMTP_REPLY_CTRL);
	smtp_reply_free(r);

	r = ONE("250 a\tb\r\n");	/* HT is textstring */
	ck_assert_uint_eq(r->defects, 0);
	smtp_reply_free(r);
}
END_TEST

START_TEST(test_smtp_reply_line_too_long)
{
	vbuf b = VBUF_INIT;
	smtp_reply *r;

	/* 512 octets with CRLF is the limit itself. */
	vbuf_append_str(&b, "250 ");
	while (b.len < SMTP_REPLY_LINE_MAX - 2)
		vbuf_append_byte(&b, 'x');
	vbuf_append_str(&b, "\r\n");
	ck_assert_uint_eq(b.len, SMTP_REPLY_LINE_MAX);
	r = one(b.data, b.len);
	ck_assert_uint_eq(r->defects, 0);
	smtp_reply_free(r);

	vbuf_reset(&b);
	vbuf_append_str(&b, "250 ");
	while (b.len < SMTP_REPLY_LINE_MAX - 1)
		vbuf_append_byte(&b, 'x');
	vbuf_append_str(&b, "\r\n");
	r = one(b.data, b.len);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_LINE_TOO_LONG);
	smtp_reply_free(r);
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_reply_hard_line_limit)
{
	vbuf b = VBUF_INIT;
	smtp_reply_parser *p = smtp_reply_parser_new();
	smtp_reply *r;
	size_t used;

	vbuf_append_str(&b, "250 ");
	while (b.len < HARNESS_LINE_HARD_MAX + 10)
		vbuf_append_byte(&b, 'x');
	vbuf_append_str(&b, "\r\n250 after\r\n");
	ck_assert_int_eq(smtp_reply_feed(p, b.data, b.len, &used, &r), SMTP_FEED_ERROR);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(used, HARNESS_LINE_HARD_MAX);
	ck_assert_ptr_nonnull(strstr(smtp_reply_parser_error(p), "hard limit"));
	/* Refuses more input. */
	ck_assert_int_eq(smtp_reply_feed(p, "250 ok\r\n", 8, &used, &r), SMTP_FEED_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_ptr_null(r);
	smtp_reply_parser_free(p);

	/* A line of exactly the hard maximum is still a reply. */
	p = smtp_reply_parser_new();
	vbuf_reset(&b);
	vbuf_append_str(&b, "250 ");
	while (b.len < HARNESS_LINE_HARD_MAX)
		vbuf_append_byte(&b, 'x');
	vbuf_append_str(&b, "\r\n");
	ck_assert_int_eq(smtp_reply_feed(p, b.data, b.len, &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(r->defects, SMTP_REPLY_LINE_TOO_LONG);
	smtp_reply_free(r);
	smtp_reply_parser_free(p);
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_reply_hard_lines_limit)
{
	vbuf b = VBUF_INIT;
	smtp_reply_parser *p;
	smtp_reply *r;
	size_t used;

	/* HARNESS_REPLY_LINES_MAX lines are accepted ... */
	for (int i = 0; i < HARNESS_REPLY_LINES_MAX - 1; i++)
		vbuf_append_str(&b, "250-x\r\n");
	vbuf_append_str(&b, "250 end\r\n");
	p = smtp_reply_parser_new();
	ck_assert_int_eq(smtp_reply_feed(p, b.data, b.len, &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(r->nlines, HARNESS_REPLY_LINES_MAX);
	ck_assert_uint_eq(used, b.len);
	smtp_reply_free(r);
	smtp_reply_parser_free(p);

	/* ... one more is an error, whatever the pieces. */
	vbuf_reset(&b);
	for (int i = 0; i < HARNESS_REPLY_LINES_MAX; i++)
		vbuf_append_str(&b, "250-x\r\n");
	vbuf_append_str(&b, "250 end\r\n");
	p = smtp_reply_parser_new();
	smtp_feed_status st = SMTP_FEED_NEED_MORE;

	for (size_t pos = 0; pos < b.len && st == SMTP_FEED_NEED_MORE; pos += used) {
		size_t n = b.len - pos < 5 ? b.len - pos : 5;

		st = smtp_reply_feed(p, b.data + pos, n, &used, &r);
	}
	ck_assert_int_eq(st, SMTP_FEED_ERROR);
	ck_assert_ptr_nonnull(strstr(smtp_reply_parser_error(p), "lines"));
	smtp_reply_parser_free(p);
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_reply_esc_good_and_bad)
{
	static const struct {
		const char *text;
		int present, bad, cls, subject, detail;
		size_t used;
	} cases[] = {
		{ "2.0.0 Ok", 1, 0, 2, 0, 0, 5 },
		{ "5.7.1", 1, 0, 5, 7, 1, 5 },
		{ "4.7.12 x", 1, 0, 4, 7, 12, 6 },
		{ "5.999.999 x", 1, 0, 5, 999, 999, 9 },
		{ "3.1.1 x", 0, 1, 3, 1, 1, 0 },
		{ "5.7 x", 0, 1, 5, 7, 0, 0 },
		{ "5.1.1000 x", 0, 1, 5, 1, 0, 0 },
		{ "5.1000.1 x", 0, 1, 5, 0, 0, 0 },
		{ "5.01.1 x", 0, 1, 5, 1, 0, 0 },
		{ "5.1.1, x", 0, 1, 5, 1, 1, 0 },
		{ "5..1 x", 0, 1, 5, 0, 0, 0 },
		{ "5.", 0, 1, 5, 0, 0, 0 },
		{ "Ok", 0, 0, 0, 0, 0, 0 },
		{ "192.0.2.1 ok", 0, 0, 0, 0, 0, 0 },
		{ "2 recipients", 0, 0, 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtp_esc e;
		size_t used = smtp_esc_parse(cases[i].text, strlen(cases[i].text), &e);

		ck_assert_msg(e.present == cases[i].present && e.bad == cases[i].bad &&
		    used == cases[i].used, "case %s", cases[i].text);
		if (cases[i].present || cases[i].bad)
			ck_assert_int_eq(e.cls, cases[i].cls);
		if (cases[i].present) {
			ck_assert_int_eq(e.subject, cases[i].subject);
			ck_assert_int_eq(e.detail, cases[i].detail);
		}
	}

	/* Per line in a reply. */
	smtp_reply *r = ONE("550-5.1.1 a\r\n550-5.01.1 b\r\n550 x\r\n");

	ck_assert_int_eq(r->esc.present, 1);
	ck_assert_int_eq(r->lines[1].esc.bad, 1);
	ck_assert_int_eq(r->lines[2].esc.present, 0);
	ck_assert_int_eq(r->lines[2].esc.bad, 0);
	smtp_reply_free(r);
}
END_TEST

START_TEST(test_smtp_reply_summary)
{
	smtp_reply *r = ONE("250-a b\r\n250-t\x01\\x\r\n250 c\r\n");
	char *s;

	s = smtp_reply_summary(r, 200);
	ck_assert_str_eq(s, "250-a b / 250-t\\x01\\\\x / 250 c");
	xfree(s);
	/* Cut with "...", never inside an escape, never over max. */
	for (size_t max = 0; max < 40; max++) {
		s = smtp_reply_summary(r, max);
		ck_assert_uint_le(strlen(s), max);
		if (max < strlen("250-a b / 250-t\\x01\\\\x / 250 c") && max >= 3)
			ck_assert_str_eq(s + strlen(s) - 3, "...");
		xfree(s);
	}
	s = smtp_reply_summary(r, 18);
	ck_assert_str_eq(s, "250-a b / 250-t...");
	xfree(s);
	s = smtp_reply_summary(r, 20);
	ck_assert_str_eq(s, "250-a b / 250-t...");	/* "\x01" does not fit whole */
	xfree(s);
	smtp_reply_free(r);

	r = ONE("250 a\rb\n");
	s = smtp_reply_summary(r, 100);
	ck_assert_str_eq(s, "250 a\\rb");
	xfree(s);
	smtp_reply_free(r);
}
END_TEST

START_TEST(test_smtp_reply_defects_str)
{
	ck_assert_str_eq(smtp_reply_defects_str(0), "none");
	ck_assert_str_eq(smtp_reply_defects_str(SMTP_REPLY_CODE_MISMATCH | SMTP_REPLY_BARE_LF),
	    "code mismatch, bare LF");
	ck_assert_ptr_nonnull(strstr(smtp_reply_defects_str(~0u), "control character"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_reply");
	TCase *tc = tcase_create("smtp_reply");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_smtp_reply_every_split);
	tcase_add_test(tc, test_smtp_reply_boundaries);
	tcase_add_test(tc, test_smtp_reply_stops_after_reply);
	tcase_add_test(tc, test_smtp_reply_defect_bits);
	tcase_add_test(tc, test_smtp_reply_line_too_long);
	tcase_add_test(tc, test_smtp_reply_hard_line_limit);
	tcase_add_test(tc, test_smtp_reply_hard_lines_limit);
	tcase_add_test(tc, test_smtp_reply_esc_good_and_bad);
	tcase_add_test(tc, test_smtp_reply_summary);
	tcase_add_test(tc, test_smtp_reply_defects_str);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
