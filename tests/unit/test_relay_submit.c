#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/engine/relay_submit.h"
#include "harness/scenario/relay.h"
#include "harness/scenario/scenario.h"
#include "harness/util/xalloc.h"

#define RELAY "{\"id\": \"relay.t\", \"summary\": \"s\", \"role\": \"relay\",\n" \
	"\"zone\": {\"zone\": \"test\", \"records\": [{\"name\": \"example.test\", \"type\": \"A\", " \
	"\"address\": \"127.0.0.2\"}]},\n" \
	"\"hosts\": [{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\"}],\n" \
	"\"message\": {\"lines\": [\"Subject: t\", \"\", \".dot\"]},\n" \
	"\"submission\": {\"from\": \"a@hb.test\", \"to\": [\"b@example.test\", \"c@example.test\"]},\n" \
	"\"expect\": [{\"check\": \"rfc5321.5.1.mx-first\", \"deliveries\": {\"mx\": 1}}]}\n"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_relay_submit_writes_a_client_scenario)
{
	char dir[] = "/tmp/test_relay_submit.XXXXXX", err[1024] = "";
	rly_scenario *s = NULL;
	scn_list list = { 0 };
	char *cmd, *report = NULL, *path;
	const scn_scenario *c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(rly_load_buffer("r.json", RELAY, strlen(RELAY), &s, err, sizeof(err)) == 0,
	    "%s", err);
	cmd = eng_relay_submit_write(s, dir, "127.0.0.1:25", &report, err, sizeof(err));
	ck_assert_msg(cmd != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(cmd, " run --quiet --target '127.0.0.1:25' --report json:'"));
	ck_assert_ptr_nonnull(strstr(cmd, "/submission.json'"));
	ck_assert_ptr_nonnull(strstr(report, "/submission-report.json"));
	/* What it wrote is a client-role scenario the loader takes. */
	path = xasprintf("%s/submission.json", dir);
	ck_assert_msg(scn_load_path(path, &list, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(list.n, 1);
	c = list.items[0];
	ck_assert_str_eq(c->id, ENG_RELAY_SUBMIT_ID);
	ck_assert_int_eq(c->role, SCN_ROLE_CLIENT);
	/* greeting, EHLO, MAIL, two RCPT, DATA, the message, QUIT */
	ck_assert_uint_eq(c->nsteps, 8);
	scn_list_free(&list);
	unlink(path);
	rmdir(dir);
	xfree(path);
	xfree(cmd);
	xfree(report);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_submit_judges_the_report)
{
	char dir[] = "/tmp/test_relay_submit.XXXXXX";
	char *path, *why;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/r.json", dir);
	/* A passive check FAILed the MTA's replies: the message went through. */
	write_file(path, "{\"scenarios\": [{\"id\": \"relay.submission\", \"verdict\": \"FAIL\", "
	    "\"findings\": [{\"check\": \"reply.syntax.multiline\", \"verdict\": \"FAIL\", "
	    "\"message\": \"m\"}]}]}");
	ck_assert_ptr_null(eng_relay_submit_judge(path));
	/* The MTA refused a command. */
	write_file(path, "{\"scenarios\": [{\"id\": \"relay.submission\", \"verdict\": \"FAIL\", "
	    "\"findings\": [{\"check\": \"relay.submission\", \"verdict\": \"FAIL\", "
	    "\"message\": \"expected 2yz, got 550\"}]}]}");
	why = eng_relay_submit_judge(path);
	ck_assert_str_eq(why, "expected 2yz, got 550");
	xfree(why);
	/* No connection. */
	write_file(path, "{\"scenarios\": [{\"id\": \"relay.submission\", \"verdict\": \"ERROR\", "
	    "\"reason\": \"could not connect\", \"findings\": []}]}");
	why = eng_relay_submit_judge(path);
	ck_assert_str_eq(why, "could not connect");
	xfree(why);
	unlink(path);
	/* No report at all. */
	why = eng_relay_submit_judge(path);
	ck_assert_ptr_nonnull(strstr(why, "wrote no report"));
	xfree(why);
	rmdir(dir);
	xfree(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("relay_submit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_relay_submit_writes_a_client_scenario);
	tcase_add_test(tc, test_relay_submit_judges_the_report);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
