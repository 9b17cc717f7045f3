#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"

static smtp_reply *
reply_of(const char *in)
{
	smtp_reply_parser *p = smtp_reply_parser_new();
	smtp_reply *r = NULL;
	size_t used;

	ck_assert_int_eq(smtp_reply_feed(p, in, strlen(in), &used, &r), SMTP_FEED_REPLY);
	ck_assert_uint_eq(used, strlen(in));
	smtp_reply_parser_free(p);
	return r;
}

static void
parse_text(const char *in, smtp_ehlo *e)
{
	smtp_reply *r = reply_of(in);

	smtp_ehlo_parse(r, e);
	smtp_reply_free(r);
}

static const char postfix[] =
    "250-mx.example.org\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250-VRFY\r\n"
    "250-ETRN\r\n"
    "250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n"
    "250-DSN\r\n"
    "250-SMTPUTF8\r\n"
    "250 CHUNKING\r\n";

START_TEST(test_smtp_ehlo_postfix)
{
	static const char *const kws[] = { "PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS",
		"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING" };
	smtp_ehlo e;

	parse_text(postfix, &e);
	ck_assert_str_eq(e.domain, "mx.example.org");
	ck_assert_uint_eq(e.nkw, 10);
	ck_assert_uint_eq(e.defects, 0);
	for (size_t i = 0; i < 10; i++) {
		ck_assert_str_eq(e.kw[i].keyword, kws[i]);
		ck_assert_uint_eq(e.kw[i].line, i + 1);
	}
	ck_assert_int_eq(e.has_size, 1);
	ck_assert_uint_eq(e.size_max, 10240000ULL);
	ck_assert_str_eq(smtp_ehlo_find(&e, "size")->params, "10240000");
	ck_assert_str_eq(smtp_ehlo_find(&e, "Chunking")->params, "");
	ck_assert_ptr_null(smtp_ehlo_find(&e, "AUTH"));
	ck_assert_ptr_null(smtp_ehlo_find(&e, "mx.example.org"));
	smtp_ehlo_clear(&e);
	ck_assert_ptr_null(e.kw);
	ck_assert_uint_eq(e.nkw, 0);
	smtp_ehlo_clear(&e);	/* twice is fine */
}
END_TEST

START_TEST(test_smtp_ehlo_greeting_and_auth)
{
	smtp_ehlo e;

	parse_text("250-smtp.example.com Hello client [192.0.2.1]\r\n"
	    "250-auth PLAIN  LOGIN CRAM-MD5\r\n"
	    "250-AUTH=PLAIN LOGIN\r\n"
	    "250 SIZE\r\n", &e);
	ck_assert_str_eq(e.domain, "smtp.example.com");
	ck_assert_str_eq(smtp_ehlo_find(&e, "AUTH")->keyword, "AUTH");
	ck_assert_str_eq(smtp_ehlo_find(&e, "AUTH")->params, "PLAIN  LOGIN CRAM-MD5");
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "auth", "plain"), 1);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "AUTH", "LOGIN"), 1);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "AUTH", "CRAM-MD5"), 1);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "AUTH", "CRAM"), 0);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "AUTH", "XOAUTH2"), 0);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "SIZE", ""), 0);
	ck_assert_int_eq(smtp_ehlo_has_param(&e, "NOPE", "PLAIN"), 0);
	/* The old "AUTH=" form breaks the keyword grammar (no '='). */
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_KEYWORD);
	ck_assert_uint_eq(e.defect_line, 2);
	ck_assert_ptr_nonnull(smtp_ehlo_find(&e, "auth=plain"));
	/* SIZE without a number: no fixed limit. */
	ck_assert_int_eq(e.has_size, 1);
	ck_assert_uint_eq(e.size_max, 0);
	smtp_ehlo_clear(&e);
}
END_TEST

START_TEST(test_smtp_ehlo_bad_keywords)
{
	static const char *const bad[] = {
		"250-h\r\n250 -DASH\r\n",
		"250-h\r\n250 UNDER_SCORE\r\n",
		"250-h\r\n250 \r\n",
		"250-h\r\n250  LEADSPACE\r\n",
		"250-h\r\n250 K\xc3\xa9Y\r\n",
		"250-h\r\n250 X.Y\r\n",
	};
	smtp_ehlo e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_text(bad[i], &e);
		ck_assert_msg(e.defects == SMTP_EHLO_BAD_KEYWORD, "case %zu", i);
		ck_assert_uint_eq(e.defect_line, 1);
		smtp_ehlo_clear(&e);
	}
	/* Digits first and hyphens after are fine. */
	parse_text("250-h\r\n250-8BITMIME\r\n250 X-EXPS GSSAPI\r\n", &e);
	ck_assert_uint_eq(e.defects, 0);
	ck_assert_uint_eq(e.nkw, 2);
	smtp_ehlo_clear(&e);
}
END_TEST

START_TEST(test_smtp_ehlo_bad_param_and_size)
{
	smtp_ehlo e;

	parse_text("250-h\r\n250-PIPELINING\r\n250 AUTH PL\x01IN\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_PARAM);
	ck_assert_uint_eq(e.defect_line, 2);
	smtp_ehlo_clear(&e);

	parse_text("250-h\r\n250 AUTH PLAIN\tLOGIN\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_PARAM);
	smtp_ehlo_clear(&e);

	parse_text("250-h\r\n250 SIZE lots\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_SIZE);
	ck_assert_int_eq(e.has_size, 1);
	ck_assert_uint_eq(e.size_max, 0);
	smtp_ehlo_clear(&e);

	parse_text("250-h\r\n250 SIZE -1\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_SIZE);
	smtp_ehlo_clear(&e);

	parse_text("250-h\r\n250 SIZE 10 20\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_BAD_SIZE);
	smtp_ehlo_clear(&e);

	/* Trailing spaces are tolerated; a huge number saturates. */
	parse_text("250-h\r\n250 SIZE 52428800  \r\n", &e);
	ck_assert_uint_eq(e.defects, 0);
	ck_assert_uint_eq(e.size_max, 52428800ULL);
	smtp_ehlo_clear(&e);
	parse_text("250-h\r\n250 SIZE 99999999999999999999999999\r\n", &e);
	ck_assert_uint_eq(e.defects, 0);
	ck_assert_uint_eq(e.size_max, ULLONG_MAX);
	smtp_ehlo_clear(&e);

	/* No SIZE at all. */
	parse_text("250 h\r\n", &e);
	ck_assert_int_eq(e.has_size, 0);
	ck_assert_uint_eq(e.nkw, 0);
	ck_assert_str_eq(e.domain, "h");
	smtp_ehlo_clear(&e);
}
END_TEST

START_TEST(test_smtp_ehlo_no_domain_and_non_250)
{
	smtp_ehlo e;

	parse_text("250-\r\n250 PIPELINING\r\n", &e);
	ck_assert_str_eq(e.domain, "");
	ck_assert_uint_eq(e.defects, SMTP_EHLO_NO_DOMAIN);
	ck_assert_uint_eq(e.defect_line, 0);
	ck_assert_uint_eq(e.nkw, 1);
	smtp_ehlo_clear(&e);

	parse_text("250\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_NO_DOMAIN);
	smtp_ehlo_clear(&e);

	/* The first defect names the line. */
	parse_text("250-\r\n250 BAD_KW\r\n", &e);
	ck_assert_uint_eq(e.defects, SMTP_EHLO_NO_DOMAIN | SMTP_EHLO_BAD_KEYWORD);
	ck_assert_uint_eq(e.defect_line, 0);
	smtp_ehlo_clear(&e);

	/* Not a 250: an empty result, no defects. */
	parse_text("502-5.5.1 no\r\n502 EHLO not implemented\r\n", &e);
	ck_assert_str_eq(e.domain, "");
	ck_assert_uint_eq(e.nkw, 0);
	ck_assert_uint_eq(e.defects, 0);
	ck_assert_int_eq(e.has_size, 0);
	smtp_ehlo_clear(&e);

	smtp_ehlo_parse(NULL, &e);
	ck_assert_uint_eq(e.nkw, 0);
	smtp_ehlo_clear(&e);
	ck_assert_ptr_null(smtp_ehlo_find(NULL, "SIZE"));
	ck_assert_int_eq(smtp_ehlo_has_param(NULL, "AUTH", "PLAIN"), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_ehlo");
	TCase *tc = tcase_create("smtp_ehlo");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_ehlo_postfix);
	tcase_add_test(tc, test_smtp_ehlo_greeting_and_auth);
	tcase_add_test(tc, test_smtp_ehlo_bad_keywords);
	tcase_add_test(tc, test_smtp_ehlo_bad_param_and_size);
	tcase_add_test(tc, test_smtp_ehlo_no_domain_and_non_250);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
