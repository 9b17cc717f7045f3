#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/console/explain.h"
#include "harness/util/xalloc.h"

#define CMD SMTP_PHASE_COMMAND
#define END SMTP_PHASE_DATA_END
#define GRT SMTP_PHASE_GREETING
#define ALL_EXTS 0x1ffu

static smtp_reply *
reply_of(const char *in)
{
	smtp_reply_parser *p = smtp_reply_parser_new();
	smtp_reply *r = NULL;
	size_t used;

	ck_assert_int_eq(smtp_reply_feed(p, in, strlen(in), &used, &r), SMTP_FEED_REPLY);
	smtp_reply_parser_free(p);
	return r;
}

/* The annotation of `in` answering verb; the caller frees. */
static char *
annotate(smtp_verb verb, smtp_phase phase, unsigned exts, const char *in)
{
	smtp_reply *r = reply_of(in);
	char *s = explain_reply(verb, phase, exts, r);

	smtp_reply_free(r);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(strchr(s, '\n'));
	return s;
}

#define ASSERT_HAS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) != NULL, "\"%s\" lacks \"%s\"", (s), (needle))
#define ASSERT_LACKS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) == NULL, "\"%s\" has \"%s\"", (s), (needle))

/* Every code that the §4.3.2 table (with every extension) allows for any
 * verb in any phase has a meaning and a source. */
START_TEST(test_explain_every_table_code_has_meaning)
{
	int seen = 0;

	for (int code = 100; code <= 599; code++) {
		int allowed = 0;

		for (int v = 0; v < SMTP_VERB_COUNT && !allowed; v++) {
			for (int ph = GRT; ph <= END && !allowed; ph++) {
				allowed = smtp_code_allowed((smtp_verb)v, (smtp_phase)ph, code, 0) ||
				    smtp_code_allowed((smtp_verb)v, (smtp_phase)ph, code, ALL_EXTS);
			}
		}
		if (!allowed)
			continue;
		seen++;
		ck_assert_msg(explain_code(code) != NULL, "no meaning for %d", code);
		ck_assert_msg(explain_code_ref(code) != NULL, "no source for %d", code);
		ck_assert_msg(strncmp(explain_code_ref(code), "RFC ", 4) == 0, "%d", code);
	}
	ck_assert_int_ge(seen, 30);
}
END_TEST

/* For every verb, phase and code in 200-599: the annotation says allowed
 * exactly when the table does, and names the code's class. */
START_TEST(test_explain_allowed_matches_table)
{
	static const unsigned ext_sets[] = { 0, ALL_EXTS };

	for (size_t e = 0; e < 2; e++) {
		for (int v = 0; v < SMTP_VERB_COUNT; v++) {
			for (int ph = GRT; ph <= END; ph++) {
				for (int code = 200; code <= 559; code++) {
					char in[32], *s;
					int ok;

					if (code % 100 / 10 > 5)
						continue;
					snprintf(in, sizeof(in), "%d x\r\n", code);
					s = annotate((smtp_verb)v, (smtp_phase)ph, ext_sets[e], in);
					ok = smtp_code_allowed((smtp_verb)v, (smtp_phase)ph, code,
					    ext_sets[e]);
					if (ok) {
						ASSERT_HAS(s, "; allowed");
						ASSERT_LACKS(s, "NOT allowed");
					} else {
						ASSERT_HAS(s, "NOT allowed (expected ");
					}
					ASSERT_HAS(s, explain_class(code / 100));
					ASSERT_LACKS(s, "malformed");
					xfree(s);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_explain_reply_lines)
{
	char *s;

	s = annotate(SMTP_VERB_MAIL, CMD, 0, "250 2.1.0 Ok\r\n");
	ck_assert_str_eq(s, "250 requested mail action okay, completed (RFC 5321 §4.2.2); "
	    "2yz positive completion, x5z mail system; allowed for MAIL (RFC 5321 §4.3.2); "
	    "2.1.0: success, addressing status, other address status");
	xfree(s);

	s = annotate(SMTP_VERB_RCPT, CMD, 0, "354 go ahead\r\n");
	ASSERT_HAS(s, "354 start mail input");
	ASSERT_HAS(s, "NOT allowed (expected 250, 251, 550");
	ASSERT_HAS(s, "for RCPT");
	xfree(s);

	s = annotate(SMTP_VERB_UNKNOWN, GRT, 0, "220 mx ESMTP\r\n");
	ASSERT_HAS(s, "220 service ready");
	ASSERT_HAS(s, "allowed as a greeting");
	xfree(s);

	s = annotate(SMTP_VERB_DATA, END, 0, "550 5.7.1 rejected\r\n");
	ASSERT_HAS(s, "allowed after the message content");
	ASSERT_HAS(s, "5.7.1: permanent failure, security or policy status, "
	    "delivery not authorized, message refused");
	xfree(s);

	/* Extensions widen the table: 530 to MAIL only with AUTH or STARTTLS. */
	s = annotate(SMTP_VERB_MAIL, CMD, 0, "530 5.7.0 Must issue a STARTTLS command first\r\n");
	ASSERT_HAS(s, "NOT allowed");
	ASSERT_HAS(s, "RFC 4954 §6, RFC 3207 §4");
	xfree(s);
	s = annotate(SMTP_VERB_MAIL, CMD, SMTP_EXT_STARTTLS, "530 5.7.0 STARTTLS first\r\n");
	ASSERT_HAS(s, "; allowed for MAIL");
	xfree(s);
}
END_TEST

START_TEST(test_explain_unknown_codes)
{
	char *s;

	ck_assert_ptr_null(explain_code(299));
	ck_assert_ptr_null(explain_code_ref(299));
	ck_assert_ptr_null(explain_code(0));
	ck_assert_ptr_null(explain_code(-1));
	s = annotate(SMTP_VERB_NOOP, CMD, 0, "299 odd\r\n");
	ASSERT_HAS(s, "299 is no code RFC 5321 or its extensions define");
	ASSERT_HAS(s, "2yz positive completion, x9z");
	xfree(s);
}
END_TEST

START_TEST(test_explain_malformed_replies)
{
	char *s;

	s = annotate(SMTP_VERB_NOOP, CMD, 0, "hello there\r\n");
	ASSERT_HAS(s, "malformed: no reply code");
	ASSERT_HAS(s, "hello there");
	xfree(s);

	s = annotate(SMTP_VERB_NOOP, CMD, 0, "250-a\r\n251 b\r\n");
	ASSERT_HAS(s, "malformed: code mismatch");
	xfree(s);

	s = annotate(SMTP_VERB_NOOP, CMD, 0, "250 ok\n");
	ASSERT_HAS(s, "malformed: bare LF");
	xfree(s);

	s = annotate(SMTP_VERB_NOOP, CMD, 0, "250 ok\r\x01\r\n");
	ASSERT_HAS(s, "malformed:");
	xfree(s);

	/* An enhanced code whose class disagrees with the reply code. */
	s = annotate(SMTP_VERB_RCPT, CMD, 0, "550 2.1.5 fine\r\n");
	ASSERT_HAS(s, "class 2 disagrees with reply code 550");
	xfree(s);

	s = annotate(SMTP_VERB_RCPT, CMD, 0, "550 5.1.99 who\r\n");
	ASSERT_HAS(s, "detail not registered");
	xfree(s);
}
END_TEST

START_TEST(test_explain_classes_and_esc)
{
	for (int d = 1; d <= 5; d++)
		ck_assert_ptr_nonnull(explain_class(d));
	ck_assert_ptr_null(explain_class(0));
	ck_assert_ptr_null(explain_class(6));
	for (int d = 0; d <= 5; d++)
		ck_assert_ptr_nonnull(explain_category(d));
	ck_assert_ptr_null(explain_category(6));
	ck_assert_ptr_null(explain_category(-1));
	ck_assert_str_eq(explain_esc_class(4), "persistent transient failure");
	ck_assert_ptr_null(explain_esc_class(3));
	for (int s = 0; s <= 7; s++) {
		ck_assert_ptr_nonnull(explain_esc_subject(s));
		ck_assert_ptr_nonnull(explain_esc_detail(s, 0));
	}
	ck_assert_ptr_null(explain_esc_subject(8));
	ck_assert_ptr_null(explain_esc_subject(-1));
	ck_assert_str_eq(explain_esc_detail(2, 2), "mailbox full");
	ck_assert_str_eq(explain_esc_detail(7, 8), "authentication credentials invalid (RFC 4954)");
	ck_assert_ptr_null(explain_esc_detail(1, 9));
	ck_assert_ptr_null(explain_esc_detail(8, 0));
	ck_assert_ptr_null(explain_esc_detail(1, 100));
	ck_assert_ptr_null(explain_esc_detail(-1, 0));
}
END_TEST

START_TEST(test_explain_ehlo_table)
{
	smtp_reply *r = reply_of("250-mx.example.org hi\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n"
	    "250-AUTH PLAIN LOGIN\r\n"
	    "250-XFOO bar\r\n"
	    "250-FROBNICATE\r\n"
	    "250 ENHANCEDSTATUSCODES\r\n");
	smtp_ehlo e;
	char *s;

	smtp_ehlo_parse(r, &e);
	s = explain_ehlo(&e);
	ASSERT_HAS(s, "server calls itself \"mx.example.org\"\n");
	ASSERT_HAS(s, "  PIPELINING  - RFC 2920: ");
	ASSERT_HAS(s, "  SIZE 10240000  - RFC 1870: MAIL FROM may declare SIZE=n; "
	    "messages up to 10240000 octets\n");
	ASSERT_HAS(s, "  AUTH PLAIN LOGIN  - RFC 4954");
	ASSERT_HAS(s, "  XFOO bar  - a private (X-prefixed) extension\n");
	ASSERT_HAS(s, "  FROBNICATE  - a keyword this console does not know\n");
	ASSERT_HAS(s, "  ENHANCEDSTATUSCODES  - RFC 2034");
	ASSERT_LACKS(s, "malformed");
	xfree(s);
	smtp_ehlo_clear(&e);
	smtp_reply_free(r);

	r = reply_of("250-mx\r\n250 SIZE\r\n");
	smtp_ehlo_parse(r, &e);
	s = explain_ehlo(&e);
	ASSERT_HAS(s, "no fixed limit announced");
	xfree(s);
	smtp_ehlo_clear(&e);
	smtp_reply_free(r);

	r = reply_of("250-mx\r\n250-SIZE lots\r\n250 B@D\r\n");
	smtp_ehlo_parse(r, &e);
	s = explain_ehlo(&e);
	ASSERT_HAS(s, "the limit is not a number");
	ASSERT_HAS(s, "malformed EHLO reply, first at line 2");
	xfree(s);
	smtp_ehlo_clear(&e);
	smtp_reply_free(r);

	ck_assert_ptr_nonnull(explain_ehlo_keyword("pipelining"));
	ck_assert_ptr_null(explain_ehlo_keyword("NOPE"));
	ck_assert_ptr_null(explain_ehlo_keyword(NULL));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_explain_every_table_code_has_meaning);
	tcase_add_test(tc, test_explain_allowed_matches_table);
	tcase_add_test(tc, test_explain_reply_lines);
	tcase_add_test(tc, test_explain_unknown_codes);
	tcase_add_test(tc, test_explain_malformed_replies);
	tcase_add_test(tc, test_explain_classes_and_esc);
	tcase_add_test(tc, test_explain_ehlo_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
