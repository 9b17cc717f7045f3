#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/codes.h"

#define CMD SMTP_PHASE_COMMAND
#define END SMTP_PHASE_DATA_END
#define GRT SMTP_PHASE_GREETING

typedef struct probe {
	smtp_verb verb;
	smtp_phase phase;
	int code;
	int allowed;
} probe;

/* Table 1a with no extensions: a sample of each row, in and out. */
static const probe base[] = {
	{ SMTP_VERB_UNKNOWN, GRT, 220, 1 }, { SMTP_VERB_MAIL, GRT, 554, 1 },
	{ SMTP_VERB_UNKNOWN, GRT, 421, 1 }, { SMTP_VERB_UNKNOWN, GRT, 250, 0 },
	{ SMTP_VERB_UNKNOWN, GRT, 500, 0 }, { SMTP_VERB_UNKNOWN, GRT, 554, 1 },

	{ SMTP_VERB_EHLO, CMD, 250, 1 }, { SMTP_VERB_EHLO, CMD, 504, 1 },
	{ SMTP_VERB_EHLO, CMD, 550, 1 }, { SMTP_VERB_EHLO, CMD, 502, 1 },
	{ SMTP_VERB_EHLO, CMD, 500, 1 }, { SMTP_VERB_EHLO, CMD, 501, 1 },
	{ SMTP_VERB_EHLO, CMD, 421, 1 }, { SMTP_VERB_EHLO, CMD, 220, 0 },
	{ SMTP_VERB_EHLO, CMD, 354, 0 }, { SMTP_VERB_HELO, CMD, 250, 1 },
	{ SMTP_VERB_HELO, CMD, 251, 0 },

	{ SMTP_VERB_MAIL, CMD, 250, 1 }, { SMTP_VERB_MAIL, CMD, 552, 1 },
	{ SMTP_VERB_MAIL, CMD, 455, 1 }, { SMTP_VERB_MAIL, CMD, 555, 1 },
	{ SMTP_VERB_MAIL, CMD, 503, 1 }, { SMTP_VERB_MAIL, CMD, 251, 0 },
	{ SMTP_VERB_MAIL, CMD, 450, 0 }, { SMTP_VERB_MAIL, CMD, 354, 0 },
	{ SMTP_VERB_MAIL, CMD, 530, 0 },

	{ SMTP_VERB_RCPT, CMD, 250, 1 }, { SMTP_VERB_RCPT, CMD, 251, 1 },
	{ SMTP_VERB_RCPT, CMD, 551, 1 }, { SMTP_VERB_RCPT, CMD, 450, 1 },
	{ SMTP_VERB_RCPT, CMD, 556, 1 }, { SMTP_VERB_RCPT, CMD, 252, 0 },
	{ SMTP_VERB_RCPT, CMD, 554, 0 },

	{ SMTP_VERB_DATA, CMD, 354, 1 }, { SMTP_VERB_DATA, CMD, 503, 1 },
	{ SMTP_VERB_DATA, CMD, 554, 1 }, { SMTP_VERB_DATA, CMD, 250, 0 },
	{ SMTP_VERB_DATA, CMD, 451, 0 }, { SMTP_VERB_DATA, END, 250, 1 },
	{ SMTP_VERB_DATA, END, 552, 1 }, { SMTP_VERB_DATA, END, 450, 1 },
	{ SMTP_VERB_DATA, END, 550, 1 }, { SMTP_VERB_DATA, END, 421, 1 },
	{ SMTP_VERB_DATA, END, 354, 0 }, { SMTP_VERB_DATA, END, 503, 0 },

	{ SMTP_VERB_RSET, CMD, 250, 1 }, { SMTP_VERB_RSET, CMD, 501, 1 },
	{ SMTP_VERB_RSET, CMD, 503, 0 }, { SMTP_VERB_RSET, CMD, 550, 0 },

	{ SMTP_VERB_VRFY, CMD, 252, 1 }, { SMTP_VERB_VRFY, CMD, 553, 1 },
	{ SMTP_VERB_VRFY, CMD, 502, 1 }, { SMTP_VERB_VRFY, CMD, 500, 1 },
	{ SMTP_VERB_VRFY, CMD, 554, 0 },

	{ SMTP_VERB_EXPN, CMD, 250, 1 }, { SMTP_VERB_EXPN, CMD, 252, 1 },
	{ SMTP_VERB_EXPN, CMD, 251, 0 }, { SMTP_VERB_EXPN, CMD, 551, 0 },

	{ SMTP_VERB_HELP, CMD, 211, 1 }, { SMTP_VERB_HELP, CMD, 214, 1 },
	{ SMTP_VERB_HELP, CMD, 504, 1 }, { SMTP_VERB_HELP, CMD, 250, 0 },

	{ SMTP_VERB_NOOP, CMD, 250, 1 }, { SMTP_VERB_NOOP, CMD, 421, 1 },
	{ SMTP_VERB_NOOP, CMD, 221, 0 }, { SMTP_VERB_NOOP, CMD, 502, 0 },

	{ SMTP_VERB_QUIT, CMD, 221, 1 }, { SMTP_VERB_QUIT, CMD, 250, 0 },

	{ SMTP_VERB_ETRN, CMD, 253, 1 }, { SMTP_VERB_ETRN, CMD, 458, 1 },
	{ SMTP_VERB_ETRN, CMD, 502, 1 }, { SMTP_VERB_ETRN, CMD, 550, 0 },

	/* Unknown and not-advertised verbs: permissive, but not anything. */
	{ SMTP_VERB_UNKNOWN, CMD, 500, 1 }, { SMTP_VERB_UNKNOWN, CMD, 502, 1 },
	{ SMTP_VERB_UNKNOWN, CMD, 503, 1 }, { SMTP_VERB_UNKNOWN, CMD, 530, 1 },
	{ SMTP_VERB_UNKNOWN, CMD, 250, 0 }, { SMTP_VERB_TURN, CMD, 502, 1 },
	{ SMTP_VERB_TURN, CMD, 250, 0 }, { SMTP_VERB_STARTTLS, CMD, 220, 0 },
	{ SMTP_VERB_STARTTLS, CMD, 502, 1 }, { SMTP_VERB_AUTH, CMD, 334, 0 },
	{ SMTP_VERB_AUTH, CMD, 500, 1 }, { SMTP_VERB_BDAT, CMD, 250, 0 },
	{ SMTP_VERB_BDAT, CMD, 500, 1 },
};

START_TEST(test_smtp_codes_base_table)
{
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		const probe *p = &base[i];

		ck_assert_msg(smtp_code_allowed(p->verb, p->phase, p->code, 0) == p->allowed,
		    "%s phase %d code %d: expected %d", smtp_verb_str(p->verb), (int)p->phase,
		    p->code, p->allowed);
	}
}
END_TEST

START_TEST(test_smtp_codes_extension_widening)
{
	static const struct {
		smtp_verb verb;
		smtp_phase phase;
		int code;
		unsigned ext;
	} widened[] = {
		{ SMTP_VERB_STARTTLS, CMD, 220, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_STARTTLS, CMD, 454, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_MAIL, CMD, 530, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_NOOP, CMD, 530, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_AUTH, CMD, 334, SMTP_EXT_AUTH },
		{ SMTP_VERB_AUTH, CMD, 235, SMTP_EXT_AUTH },
		{ SMTP_VERB_AUTH, CMD, 535, SMTP_EXT_AUTH },
		{ SMTP_VERB_AUTH, CMD, 538, SMTP_EXT_AUTH },
		{ SMTP_VERB_RCPT, CMD, 530, SMTP_EXT_AUTH },
		{ SMTP_VERB_BDAT, CMD, 250, SMTP_EXT_CHUNKING },
		{ SMTP_VERB_BDAT, CMD, 552, SMTP_EXT_CHUNKING },
		{ SMTP_VERB_BDAT, END, 250, SMTP_EXT_CHUNKING },
		{ SMTP_VERB_VRFY, CMD, 252, SMTP_EXT_SMTPUTF8 },	/* already base */
		{ SMTP_VERB_EXPN, CMD, 550, SMTP_EXT_SMTPUTF8 },
		{ SMTP_VERB_MAIL, CMD, 553, SMTP_EXT_SMTPUTF8 },
		{ SMTP_VERB_BDAT, END, 554, SMTP_EXT_SMTPUTF8 },
		{ SMTP_VERB_RCPT, CMD, 452, SMTP_EXT_SIZE },
	};
	/* Codes that only the extension makes allowed. */
	static const struct {
		smtp_verb verb;
		smtp_phase phase;
		int code;
		unsigned ext;
	} only_with[] = {
		{ SMTP_VERB_STARTTLS, CMD, 220, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_MAIL, CMD, 530, SMTP_EXT_STARTTLS },
		{ SMTP_VERB_AUTH, CMD, 235, SMTP_EXT_AUTH },
		{ SMTP_VERB_QUIT, CMD, 530, SMTP_EXT_AUTH },
		{ SMTP_VERB_BDAT, CMD, 250, SMTP_EXT_CHUNKING },
		{ SMTP_VERB_BDAT, END, 451, SMTP_EXT_CHUNKING },
	};

	for (size_t i = 0; i < sizeof(widened) / sizeof(widened[0]); i++)
		ck_assert_msg(smtp_code_allowed(widened[i].verb, widened[i].phase, widened[i].code,
		    widened[i].ext), "%s %d with ext %u", smtp_verb_str(widened[i].verb),
		    widened[i].code, widened[i].ext);
	for (size_t i = 0; i < sizeof(only_with) / sizeof(only_with[0]); i++) {
		ck_assert(!smtp_code_allowed(only_with[i].verb, only_with[i].phase,
		    only_with[i].code, 0));
		/* Another extension does not widen it. */
		ck_assert(!smtp_code_allowed(only_with[i].verb, only_with[i].phase,
		    only_with[i].code, SMTP_EXT_PIPELINING | SMTP_EXT_DSN));
		ck_assert(smtp_code_allowed(only_with[i].verb, only_with[i].phase,
		    only_with[i].code, only_with[i].ext | SMTP_EXT_8BITMIME));
	}
	/* Extensions widen the command they belong to, not every command. */
	ck_assert(!smtp_code_allowed(SMTP_VERB_MAIL, CMD, 334, SMTP_EXT_AUTH));
	ck_assert(!smtp_code_allowed(SMTP_VERB_NOOP, CMD, 220, SMTP_EXT_STARTTLS));
	ck_assert(!smtp_code_allowed(SMTP_VERB_VRFY, CMD, 554, ~0u));
	/* 530 is for commands, not the greeting. */
	ck_assert(!smtp_code_allowed(SMTP_VERB_UNKNOWN, GRT, 530, ~0u));
	/* An advertised extension verb loses the "not offered" codes. */
	ck_assert(smtp_code_allowed(SMTP_VERB_AUTH, CMD, 502, 0));
	ck_assert(!smtp_code_allowed(SMTP_VERB_AUTH, CMD, 502, SMTP_EXT_AUTH));
	ck_assert(!smtp_code_allowed(SMTP_VERB_BDAT, CMD, 502, SMTP_EXT_CHUNKING));
	/* CHUNKING: DATA after BDAT may get 503 (already base too). */
	ck_assert(smtp_code_allowed(SMTP_VERB_DATA, CMD, 503, SMTP_EXT_CHUNKING));
}
END_TEST

START_TEST(test_smtp_codes_allowed_str)
{
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_MAIL, CMD, 0),
	    "250, 552, 451, 452, 550, 553, 503, 455, 555 (or 500, 501, 421)");
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_RCPT, GRT, 0),
	    "220, 554 (or 421)");
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_DATA, CMD, 0),
	    "354, 503, 554 (or 500, 501, 421)");
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_DATA, END, 0),
	    "250, 552, 554, 451, 452, 450, 550 (or 500, 501, 421)");
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_QUIT, CMD, SMTP_EXT_AUTH),
	    "221 (or 500, 501, 421, 530)");
	ck_assert_str_eq(smtp_codes_allowed_str(SMTP_VERB_STARTTLS, CMD, SMTP_EXT_STARTTLS),
	    "220, 501, 454 (or 500, 421, 530)");
	/* Every combination gives a non-empty string that fits. */
	for (int v = 0; v < SMTP_VERB_COUNT; v++) {
		for (int ph = 0; ph < 3; ph++) {
			const char *s = smtp_codes_allowed_str((smtp_verb)v, (smtp_phase)ph, ~0u);

			ck_assert_uint_gt(strlen(s), 0);
			ck_assert_ptr_nonnull(strstr(s, "421"));
		}
	}
}
END_TEST

START_TEST(test_smtp_codes_ext_from_keyword)
{
	ck_assert_uint_eq(smtp_ext_from_keyword("STARTTLS"), SMTP_EXT_STARTTLS);
	ck_assert_uint_eq(smtp_ext_from_keyword("auth"), SMTP_EXT_AUTH);
	ck_assert_uint_eq(smtp_ext_from_keyword("Size"), SMTP_EXT_SIZE);
	ck_assert_uint_eq(smtp_ext_from_keyword("CHUNKING"), SMTP_EXT_CHUNKING);
	ck_assert_uint_eq(smtp_ext_from_keyword("SMTPUTF8"), SMTP_EXT_SMTPUTF8);
	ck_assert_uint_eq(smtp_ext_from_keyword("PIPELINING"), SMTP_EXT_PIPELINING);
	ck_assert_uint_eq(smtp_ext_from_keyword("ENHANCEDSTATUSCODES"),
	    SMTP_EXT_ENHANCEDSTATUSCODES);
	ck_assert_uint_eq(smtp_ext_from_keyword("8BITMIME"), SMTP_EXT_8BITMIME);
	ck_assert_uint_eq(smtp_ext_from_keyword("DSN"), SMTP_EXT_DSN);
	ck_assert_uint_eq(smtp_ext_from_keyword("VRFY"), 0);
	ck_assert_uint_eq(smtp_ext_from_keyword("AUTH=PLAIN"), 0);
	ck_assert_uint_eq(smtp_ext_from_keyword(""), 0);
	ck_assert_uint_eq(smtp_ext_from_keyword(NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_codes");
	TCase *tc = tcase_create("smtp_codes");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_codes_base_table);
	tcase_add_test(tc, test_smtp_codes_extension_widening);
	tcase_add_test(tc, test_smtp_codes_allowed_str);
	tcase_add_test(tc, test_smtp_codes_ext_from_keyword);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
