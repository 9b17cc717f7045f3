#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/instream.h"

#define LINE_MAX_T	64
#define CHUNK_MAX_T	100

/* Takes one item from the first `have` bytes of buf. */
static int
take(smtp_instream *s, const char *buf, size_t have, smtp_initem *it)
{
	return smtp_in_take(s, buf, have, LINE_MAX_T, CHUNK_MAX_T, it);
}

START_TEST(test_smtp_instream_commands)
{
	static const char buf[] = "EHLO a.test\r\nmail FROM:<a@b>\nNOOP";
	smtp_instream s = { 0 };
	smtp_initem it;

	ck_assert_int_eq(take(&s, buf, 0, &it), SMTP_IN_MORE);
	ck_assert_int_eq(take(&s, buf, 5, &it), SMTP_IN_MORE);
	ck_assert_int_eq(s.rd, 0);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_str_eq(it.line, "EHLO a.test");
	ck_assert_int_eq(it.cmd.verb, SMTP_VERB_EHLO);
	ck_assert_uint_eq(it.off, 0);
	ck_assert_uint_eq(it.len, 13);
	smtp_initem_clear(&it);
	/* a bare LF ends a line too (the passive checks judge it) */
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_str_eq(it.line, "mail FROM:<a@b>");
	ck_assert_int_eq(it.cmd.verb, SMTP_VERB_MAIL);
	ck_assert_uint_eq(it.off, 13);
	ck_assert_uint_eq(it.len, 16);
	smtp_initem_clear(&it);
	/* nothing is read ahead: NOOP without its end waits */
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_MORE);
	ck_assert_uint_eq(s.rd, 29);
}
END_TEST

START_TEST(test_smtp_instream_content)
{
	static const char buf[] = "DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
	smtp_instream s = { 0 };
	smtp_initem it;

	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.cmd.verb, SMTP_VERB_DATA);
	smtp_initem_clear(&it);
	smtp_in_expect_data(&s);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.content, 1);
	ck_assert_uint_eq(it.off, 6);
	ck_assert_uint_eq(it.len, sizeof("Subject: x\r\n\r\n..dot\r\n.\r\n") - 1);
	ck_assert_uint_eq(it.body.len, sizeof("Subject: x\r\n\r\n.dot\r\n") - 1);
	ck_assert(memcmp(it.body.data, "Subject: x\r\n\r\n.dot\r\n", it.body.len) == 0);
	smtp_initem_clear(&it);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.cmd.verb, SMTP_VERB_QUIT);
	smtp_initem_clear(&it);

	/* an empty message: the lone dot at once */
	memset(&s, 0, sizeof(s));
	smtp_in_expect_data(&s);
	ck_assert_int_eq(take(&s, ".\r\n", 3, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.content, 1);
	ck_assert_uint_eq(it.body.len, 0);
	smtp_initem_clear(&it);
	/* LF.LF and CR.CR are content, not the end (RFC 5321 §4.1.1.4) */
	memset(&s, 0, sizeof(s));
	smtp_in_expect_data(&s);
	ck_assert_int_eq(take(&s, "a\n.\nb\r.\rc", 9, &it), SMTP_IN_MORE);
}
END_TEST

/* CRLF.CRLF that arrives cut at every place, the end of data included:
 * the end is found where it is, once, whatever the cut. */
START_TEST(test_smtp_instream_end_split_everywhere)
{
	static const char buf[] = "x\r\n.\r\n";
	const size_t len = sizeof(buf) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		for (size_t cut2 = cut; cut2 <= len; cut2++) {
			smtp_instream s = { 0 };
			smtp_initem it;

			smtp_in_expect_data(&s);
			if (cut < len)
				ck_assert_int_eq(take(&s, buf, cut, &it), SMTP_IN_MORE);
			if (cut2 < len)
				ck_assert_int_eq(take(&s, buf, cut2, &it), SMTP_IN_MORE);
			ck_assert_msg(take(&s, buf, len, &it) == SMTP_IN_ITEM, "cuts %zu, %zu", cut,
			    cut2);
			ck_assert_uint_eq(it.len, len);
			ck_assert_uint_eq(it.body.len, 3);
			smtp_initem_clear(&it);
		}
	}
}
END_TEST

START_TEST(test_smtp_instream_bdat)
{
	static const char buf[] = "BDAT 5\r\nhelloBDAT 3 last\r\nabcBDAT x\r\nBDAT 1000\r\n";
	smtp_instream s = { 0 };
	smtp_initem it;

	/* the chunk is waited for whole */
	ck_assert_int_eq(take(&s, buf, 10, &it), SMTP_IN_MORE);
	ck_assert_uint_eq(s.rd, 0);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.bdat, 1);
	ck_assert_int_eq(it.bdat_last, 0);
	ck_assert_uint_eq(it.len, 13);
	ck_assert(it.body.len == 5 && memcmp(it.body.data, "hello", 5) == 0);
	smtp_initem_clear(&it);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.bdat, 1);
	ck_assert_int_eq(it.bdat_last, 1);
	ck_assert(it.body.len == 3 && memcmp(it.body.data, "abc", 3) == 0);
	smtp_initem_clear(&it);
	/* no size, or one over the limit: a plain command line for the
	 * caller to judge, its "chunk" left unread */
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.bdat, 0);
	ck_assert_str_eq(it.line, "BDAT x");
	smtp_initem_clear(&it);
	ck_assert_int_eq(take(&s, buf, sizeof(buf) - 1, &it), SMTP_IN_ITEM);
	ck_assert_int_eq(it.bdat, 0);
	ck_assert_str_eq(it.line, "BDAT 1000");
	smtp_initem_clear(&it);
}
END_TEST

START_TEST(test_smtp_instream_line_limit)
{
	char buf[LINE_MAX_T + 8];
	smtp_instream s = { 0 };
	smtp_initem it;

	/* LINE_MAX_T octets with CRLF: taken */
	memset(buf, 'A', sizeof(buf));
	memcpy(buf + LINE_MAX_T - 2, "\r\n", 2);
	ck_assert_int_eq(take(&s, buf, LINE_MAX_T, &it), SMTP_IN_ITEM);
	smtp_initem_clear(&it);
	/* one more: refused, whether its LF has come or not */
	memset(&s, 0, sizeof(s));
	memset(buf, 'A', sizeof(buf));
	memcpy(buf + LINE_MAX_T - 1, "\r\n", 2);
	ck_assert_int_eq(take(&s, buf, LINE_MAX_T - 1, &it), SMTP_IN_MORE);
	ck_assert_int_eq(take(&s, buf, LINE_MAX_T, &it), SMTP_IN_TOO_LONG);
	ck_assert_int_eq(take(&s, buf, LINE_MAX_T + 1, &it), SMTP_IN_TOO_LONG);
	ck_assert_uint_eq(s.rd, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_instream");
	TCase *tc = tcase_create("smtp_instream");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_instream_commands);
	tcase_add_test(tc, test_smtp_instream_content);
	tcase_add_test(tc, test_smtp_instream_end_split_everywhere);
	tcase_add_test(tc, test_smtp_instream_bdat);
	tcase_add_test(tc, test_smtp_instream_line_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
