/*
 * test_secrets - which SASL response octets the server role masks, and
 * credentials masked in a client's output.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/engine/secrets.h"

START_TEST(test_secrets_response)
{
	ck_assert_uint_eq(eng_secrets_response("dXNlcg==", 8), 8);
	ck_assert_uint_eq(eng_secrets_response("AGEAYg==", 8), 8);
	/* the cancel, QUIT and one octet stay as sent */
	ck_assert_uint_eq(eng_secrets_response("*", 1), 0);
	ck_assert_uint_eq(eng_secrets_response("x", 1), 0);
	ck_assert_uint_eq(eng_secrets_response("", 0), 0);
	ck_assert_uint_eq(eng_secrets_response("QUIT", 4), 0);
	ck_assert_uint_eq(eng_secrets_response("quit", 4), 0);
	ck_assert_uint_eq(eng_secrets_response("QUITx", 5), 5);
	ck_assert_uint_eq(eng_secrets_response("**", 2), 2);
}
END_TEST

START_TEST(test_secrets_scrub)
{
	eng_secrets sec = { 0 };
	scn_vars vars = { 0 };
	char out[] = "~> AUTH LOGIN\n~> dHVzZXI5\n~> c2VjcmV0LXB3\nswaks --auth-user tuser9 "
	    "--auth-password secret-pw; plain AHR1c2VyOQBzZWNyZXQtcHc= ab";

	eng_secrets_add(&sec, "dHVzZXI5", 8);
	eng_secrets_add(&sec, "dHVzZXI5", 8);	/* known: not twice */
	eng_secrets_add(&sec, "ab", 2);		/* too short */
	ck_assert_uint_eq(sec.n, 1);
	scn_vars_set(&vars, "auth_user", "tuser9");
	scn_vars_set(&vars, "auth_pass", "secret-pw");
	eng_secrets_add_vars(&sec, &vars);
	/* user, pass, their base64 (one known already), the PLAIN response */
	ck_assert_uint_eq(sec.n, 5);
	eng_secrets_scrub(&sec, out, strlen(out));
	ck_assert_str_eq(out, "~> AUTH LOGIN\n~> ********\n~> ************\nswaks --auth-user ****** "
	    "--auth-password *********; plain ************************ ab");
	eng_secrets_scrub(&sec, NULL, 0);
	eng_secrets_free(&sec);
	ck_assert_uint_eq(sec.n, 0);
	/* no vars, or none of the two: nothing */
	eng_secrets_add_vars(&sec, NULL);
	scn_vars_free(&vars);
	scn_vars_set(&vars, "helo", "client.test");
	eng_secrets_add_vars(&sec, &vars);
	ck_assert_uint_eq(sec.n, 0);
	scn_vars_free(&vars);
}
END_TEST

START_TEST(test_secrets_full)
{
	eng_secrets sec = { 0 };
	char buf[16];

	for (int i = 0; i < ENG_SECRETS_MAX + 4; i++) {
		snprintf(buf, sizeof(buf), "secret%02d", i);
		eng_secrets_add(&sec, buf, strlen(buf));
	}
	ck_assert_uint_eq(sec.n, ENG_SECRETS_MAX);
	eng_secrets_free(&sec);
}
END_TEST

static Suite *
secrets_suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 5);
	tcase_add_test(tc, test_secrets_response);
	tcase_add_test(tc, test_secrets_scrub);
	tcase_add_test(tc, test_secrets_full);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(secrets_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
