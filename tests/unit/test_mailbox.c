/*
 * test_mailbox - mbox splitting, token search, and a stored copy against
 * the content that was sent: trace fields, added fields, mbox quoting,
 * CRLF or LF storage, and every kind of difference.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/mailbox.h"

static const char sent[] =
    "Message-ID: <smtph1s0-1@x>\r\n"
    "Subject: t\r\n"
    "\r\n"
    "smtp-harness-token: smtph1s0-1\r\n"
    "From the start\r\n"
    ".dot\r\n"
    "\ttab\x0b\x0c  \r\n";

static mbx_match
match(const char *stored, int mbox)
{
	mbx_match m;

	mbx_match_copy(stored, strlen(stored), mbox, sent, strlen(sent), &m);
	return m;
}

START_TEST(test_mailbox_same_with_trace_and_added_fields)
{
	const char *stored =
	    "Return-Path: <a@b>\n"
	    "Received: from h ([127.0.0.1])\n"
	    "\tby x; Tue\n"
	    "Message-ID: <smtph1s0-1@x>\n"
	    "Subject: t\n"
	    "X-Peer: 127.0.0.1\n"
	    "\n"
	    "smtp-harness-token: smtph1s0-1\n"
	    "From the start\n"
	    ".dot\n"
	    "\ttab\x0b\x0c  \n";
	mbx_match m = match(stored, 0);

	ck_assert_int_eq(m.status, MBX_SAME);
	ck_assert_uint_eq(m.added, 1);
	ck_assert_uint_eq(m.content_off, strstr(stored, "Message-ID") - stored);
}
END_TEST

START_TEST(test_mailbox_crlf_storage_is_the_same)
{
	const char *stored = "Return-Path: <a@b>\r\n"
	    "Message-ID: <smtph1s0-1@x>\r\nSubject: t\r\n\r\nsmtp-harness-token: smtph1s0-1\r\n"
	    "From the start\r\n.dot\r\n\ttab\x0b\x0c  \r\n";

	ck_assert_int_eq(match(stored, 0).status, MBX_SAME);
}
END_TEST

START_TEST(test_mailbox_mbox_quoting)
{
	const char *quoted = "Message-ID: <smtph1s0-1@x>\nSubject: t\n\n"
	    "smtp-harness-token: smtph1s0-1\n>From the start\n.dot\n\ttab\x0b\x0c  \n";

	ck_assert_int_eq(match(quoted, 1).status, MBX_SAME);
	/* A Maildir file keeps lines as they are: the '>' is a change. */
	ck_assert_int_eq(match(quoted, 0).status, MBX_DIFFERENT);
}
END_TEST

START_TEST(test_mailbox_differences)
{
	const char *altered = "Message-ID: <smtph1s0-1@x>\nSubject: t\n\n"
	    "smtp-harness-token: smtph1s0-1\nFrom the start\ndot\n\ttab\x0b\x0c  \n";
	const char *cut = "Message-ID: <smtph1s0-1@x>\nSubject: t\n\n"
	    "smtp-harness-token: smtph1s0-1\nFrom the start\n";
	const char *extra = "Message-ID: <smtph1s0-1@x>\nSubject: t\n\n"
	    "smtp-harness-token: smtph1s0-1\nFrom the start\n.dot\n\ttab\x0b\x0c  \nmore\n";
	const char *trimmed = "Message-ID: <smtph1s0-1@x>\nSubject: t\n\n"
	    "smtp-harness-token: smtph1s0-1\nFrom the start\n.dot\n\ttab\n";
	const char *header_changed = "Message-ID: <smtph1s0-1@x>\nSubject: T\n\n"
	    "smtp-harness-token: smtph1s0-1\nFrom the start\n.dot\n\ttab\x0b\x0c  \n";
	mbx_match m;

	m = match(altered, 0);
	ck_assert_int_eq(m.status, MBX_DIFFERENT);
	ck_assert_uint_eq(m.stored_off, strstr(altered, "dot\n") - altered);
	ck_assert_uint_eq(m.sent_off, strstr(sent, ".dot") - sent);
	m = match(cut, 0);
	ck_assert_int_eq(m.status, MBX_CUT);
	ck_assert_uint_eq(m.stored_off, strlen(cut));
	m = match(extra, 0);
	ck_assert_int_eq(m.status, MBX_EXTRA);
	ck_assert_uint_eq(m.stored_off, strstr(extra, "more") - extra);
	ck_assert_int_eq(match(trimmed, 0).status, MBX_DIFFERENT);
	m = match(header_changed, 0);
	ck_assert_int_eq(m.status, MBX_DIFFERENT);
	ck_assert_uint_eq(m.stored_off, strstr(header_changed, "Subject") - header_changed);
	ck_assert_int_eq(match("Subject: t\n\nbody\n", 0).status, MBX_NOT_FOUND);
}
END_TEST

START_TEST(test_mailbox_mbox_split)
{
	const char *box = "junk before\n\n"
	    "From a@b Tue Dec  1 00:00:00 2026\nSubject: 1\n\nbody\nFrom inside\n\n"
	    "From c@d Tue Dec  1 00:00:01 2026\nSubject: 2\n\nlast\n\n";
	mbx_msg m[4];
	size_t n = mbx_mbox_split(box, strlen(box), m, 4);

	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(strncmp(box + m[0].off, "Subject: 1\n\nbody\nFrom inside\n", m[0].len), 0);
	ck_assert_uint_eq(m[0].len, strlen("Subject: 1\n\nbody\nFrom inside\n"));
	ck_assert_uint_eq(m[1].len, strlen("Subject: 2\n\nlast\n"));
	ck_assert_int_eq(strncmp(box + m[1].off, "Subject: 2\n\nlast\n", m[1].len), 0);
	/* The bound holds: one message at most, the rest not split. */
	ck_assert_uint_eq(mbx_mbox_split(box, strlen(box), m, 1), 1);
	ck_assert_uint_eq(mbx_mbox_split("no mbox\n", 8, m, 4), 0);
}
END_TEST

START_TEST(test_mailbox_tokens)
{
	const char *text = "k-x k-12, k- k-7\nk-99999999999999999999999";
	size_t pos = 0, at;
	unsigned long n;

	ck_assert(mbx_next_token(text, strlen(text), "k-", &pos, &n, &at));
	ck_assert_uint_eq(n, 12);
	ck_assert_uint_eq(at, 4);
	ck_assert(mbx_next_token(text, strlen(text), "k-", &pos, &n, &at));
	ck_assert_uint_eq(n, 7);
	ck_assert(mbx_next_token(text, strlen(text), "k-", &pos, &n, &at));
	ck_assert_uint_eq(n, ~0UL);	/* saturates */
	ck_assert(!mbx_next_token(text, strlen(text), "k-", &pos, &n, &at));
	ck_assert_int_eq(mbx_find("abcabd", 6, 0, "abd", 3), 3);
	ck_assert_int_eq(mbx_find("abc", 3, 0, "abcd", 4), -1);
	ck_assert_int_eq(mbx_find("abc", 3, 4, "a", 1), -1);
}
END_TEST

static int
count_field(void *arg, const char *f, size_t len, size_t off)
{
	size_t *n = arg;

	(*n)++;
	if (*n == 2)
		ck_assert_int_eq(strncmp(f, "Received: a\n\tb", len), 0);
	(void)off;
	return 0;
}

START_TEST(test_mailbox_fields)
{
	const char *h = "Return-Path: <>\nReceived: a\n\tb\nX: y\n\nBody: no\n";
	size_t n = 0;

	mbx_fields(h, strlen(h), count_field, &n);
	ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(test_mailbox_bare_eol)
{
	static const char s[] = "a\r\nb\nc\rd\r\n";

	ck_assert_int_eq(mbx_bare_eol("a\r\nb\r\n", 6, 0), -1);
	ck_assert_int_eq(mbx_bare_eol(s, sizeof(s) - 1, 0), 4);
	ck_assert_int_eq(mbx_bare_eol(s, sizeof(s) - 1, 5), 6);
	ck_assert_int_eq(mbx_bare_eol(s, sizeof(s) - 1, 7), -1);
	/* A CRLF split by the start is still one line end. */
	ck_assert_int_eq(mbx_bare_eol(s, sizeof(s) - 1, 2), 4);
	/* At either end of the buffer. */
	ck_assert_int_eq(mbx_bare_eol("\nx", 2, 0), 0);
	ck_assert_int_eq(mbx_bare_eol("x\r", 2, 0), 1);
}
END_TEST

static Suite *
mailbox_suite(void)
{
	Suite *s = suite_create("mailbox");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_mailbox_same_with_trace_and_added_fields);
	tcase_add_test(tc, test_mailbox_crlf_storage_is_the_same);
	tcase_add_test(tc, test_mailbox_mbox_quoting);
	tcase_add_test(tc, test_mailbox_differences);
	tcase_add_test(tc, test_mailbox_mbox_split);
	tcase_add_test(tc, test_mailbox_tokens);
	tcase_add_test(tc, test_mailbox_fields);
	tcase_add_test(tc, test_mailbox_bare_eol);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mailbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
