/*
 * test_baseline - loading baseline files (and refusing bad ones with
 * FILE:LINE:COL: $.path), applying one to a run, rendering what it did
 * in every format, and writing the failures of a run as a new one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/util/xalloc.h"
#include "reports/baseline.h"
#include "reports/report.h"
#include "reports/result.h"

/* smuggling.lf-dot-lf FAILs on smuggle.lf-dot-lf; rset.clears FAILs on two
 * checks; greeting.220 passes and exercised rfc5321.3.1.greeting. */
static rpt_run *
sample_run(void)
{
	rpt_run *run = rpt_run_new("127.0.0.1:2525");
	rpt_scenario *sc;

	sc = rpt_scenario_new("greeting.220", "greets", "g.json");
	rpt_scenario_exercised(sc, "rfc5321.3.1.greeting", RPT_PASS);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("smuggling.lf-dot-lf", "smuggle", "s.json");
	rpt_scenario_add_finding(sc, "smuggle.lf-dot-lf", "RFC 5321 §4.1.1.4", RPT_FAIL, 4, NULL,
	    "expected no second message, got %s", "one");
	rpt_scenario_exercised(sc, "smuggle.lf-dot-lf", RPT_FAIL);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("rset.clears", "rset", "r.json");
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.5.rset", NULL, RPT_FAIL, 3, NULL,
	    "expected 250, got 354");
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.10.quit", NULL, RPT_FAIL, 0, NULL,
	    "closed before QUIT");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	return run;
}

static rpt_baseline *
load_ok(const char *text)
{
	rpt_baseline *bl = NULL;
	char err[512] = "";

	if (rpt_baseline_load_buffer("bl.json", text, strlen(text), &bl, err, sizeof(err)) != 0)
		ck_abort_msg("unexpected error: %s", err);
	ck_assert_ptr_nonnull(bl);
	return bl;
}

static void
load_bad(const char *text, const char *want)
{
	rpt_baseline *bl = (rpt_baseline *)1;
	char err[512] = "";

	ck_assert_int_eq(rpt_baseline_load_buffer("bl.json", text, strlen(text), &bl, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(bl);
	if (strcmp(err, want) != 0)
		ck_abort_msg("for %s\n got: %s\nwant: %s", text, err, want);
}

START_TEST(test_baseline_load)
{
	rpt_baseline *bl = load_ok("{\"target\": \"127.0.0.1:2525\", \"comment\": \"x\",\n"
	    " \"known\": [{\"scenario\": \"smuggling.lf-dot-lf\", \"check\": \"smuggle.lf-dot-lf\",\n"
	    "             \"reason\": \"CVE-2023-51764\"},\n"
	    "            {\"check\": \"rfc5321.4.1.1.10.quit\", \"reason\": \"any scenario\"},\n"
	    "            {\"scenario\": null, \"check\": \"x.y\", \"reason\": \"null is any\"}]}");

	ck_assert_uint_eq(bl->n, 3);
	ck_assert_str_eq(bl->target, "127.0.0.1:2525");
	ck_assert_str_eq(bl->entries[0].scenario, "smuggling.lf-dot-lf");
	ck_assert_ptr_null(bl->entries[1].scenario);
	ck_assert_ptr_null(bl->entries[2].scenario);
	ck_assert_ptr_eq(rpt_baseline_match(bl, "smuggling.lf-dot-lf", "smuggle.lf-dot-lf"),
	    &bl->entries[0]);
	ck_assert_ptr_null(rpt_baseline_match(bl, "other", "smuggle.lf-dot-lf"));
	ck_assert_ptr_eq(rpt_baseline_match(bl, "anything", "rfc5321.4.1.1.10.quit"),
	    &bl->entries[1]);
	rpt_baseline_free(bl);

	bl = load_ok("{\"known\": []}");
	ck_assert_uint_eq(bl->n, 0);
	rpt_baseline_free(bl);
}
END_TEST

START_TEST(test_baseline_load_errors)
{
	load_bad("", "bl.json:1:1: expected valid JSON, got the end of the file");
	load_bad("{\"known\": [\n  {\"check\": \"a\",}]}",
	    "bl.json:2:18: expected valid JSON, got \"]}\"");
	load_bad("[]", "bl.json:1:1: $: expected an object {\"known\": [...]}, got an array");
	load_bad("{}", "bl.json:1:1: $: expected a key \"known\", got none");
	load_bad("{\"known\": {}}",
	    "bl.json:1:11: $.known: expected an array of {\"check\", \"reason\"}, got an object");
	load_bad("{\"known\": [],\n \"tagret\": 1}",
	    "bl.json:2:12: $.tagret: expected one of \"target\", \"comment\", \"known\", got \"tagret\"");
	load_bad("{\"known\": [{\"check\": \"a\"}]}",
	    "bl.json:1:12: $.known[0]: expected a key \"reason\", got none");
	load_bad("{\"known\": [{\"check\": \"a\", \"reason\": \"\"}]}",
	    "bl.json:1:37: $.known[0].reason: expected a non-empty string, got \"\"");
	load_bad("{\"known\": [{\"check\": \"a\", \"reason\": \"r\", \"scenario\": 7}]}",
	    "bl.json:1:54: $.known[0].scenario: expected a non-empty string or null, got 7");
	load_bad("{\"known\": [{\"check\": \"a\", \"reason\": \"r\"},\n"
	    "           {\"check\": \"a\", \"reason\": \"again\"}]}",
	    "bl.json:2:12: $.known[1]: expected each scenario and check once, got the same as $.known[0]");
	load_bad("{\"known\": [{\"check\": \"a\", \"reason\": \"r\", \"check\": \"b\"}]}",
	    "bl.json:1:22: $.known[0].check: expected each key once, got \"check\" twice");
	load_bad("{\"known\": []} x", "bl.json:1:15: expected the end of the file after the "
	    "JSON value, got more");
}
END_TEST

START_TEST(test_baseline_load_file)
{
	rpt_baseline *bl = NULL;
	char err[512] = "";

	ck_assert_int_eq(rpt_baseline_load_file("/nonexistent/bl.json", &bl, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/bl.json: cannot open: No such file or directory");
}
END_TEST

/* Known, fixed, not exercised; a scenario with one accepted failure and
 * one new one still fails the run. */
START_TEST(test_baseline_apply)
{
	rpt_run *run = sample_run();
	rpt_baseline *bl = load_ok("{\"known\": ["
	    "{\"scenario\": \"smuggling.lf-dot-lf\", \"check\": \"smuggle.lf-dot-lf\", \"reason\": \"CVE\"},"
	    "{\"check\": \"rfc5321.4.1.1.10.quit\", \"reason\": \"closes early\"},"
	    "{\"scenario\": \"greeting.220\", \"check\": \"rfc5321.3.1.greeting\", \"reason\": \"old\"},"
	    "{\"check\": \"never.run\", \"reason\": \"gone\"}]}");
	rpt_summary s;
	size_t k, f, u;

	rpt_baseline_apply(bl, run);
	ck_assert_ptr_eq(run->baseline, bl);
	ck_assert_int_eq(run->scenarios[1]->known, 1);
	ck_assert_str_eq(run->scenarios[1]->findings[0].known, "CVE");
	ck_assert_int_eq(run->scenarios[2]->known, 0);
	ck_assert_ptr_null(run->scenarios[2]->findings[0].known);
	ck_assert_str_eq(run->scenarios[2]->findings[1].known, "closes early");
	ck_assert_int_eq(bl->entries[0].status, RPT_BL_KNOWN);
	ck_assert_int_eq(bl->entries[1].status, RPT_BL_KNOWN);
	ck_assert_int_eq(bl->entries[2].status, RPT_BL_FIXED);
	ck_assert_int_eq(bl->entries[3].status, RPT_BL_UNEXERCISED);
	rpt_baseline_counts(bl, &k, &f, &u);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(f, 1);
	ck_assert_uint_eq(u, 1);
	s = rpt_run_summary(run);
	ck_assert_uint_eq(s.fail, 2);
	ck_assert_uint_eq(s.known, 1);
	rpt_run_free(run);
}
END_TEST

static char *
text_of(const rpt_run *run, int line_of)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	if (line_of >= 0)
		rpt_text_scenario_line(fp, run->scenarios[line_of]);
	else
		rpt_text_summary(fp, run);
	fclose(fp);
	return buf;
}

START_TEST(test_baseline_render)
{
	rpt_run *run = sample_run();
	rpt_baseline *bl = load_ok("{\"known\": ["
	    "{\"check\": \"smuggle.lf-dot-lf\", \"reason\": \"CVE-2023-51764\"},"
	    "{\"check\": \"rfc5321.4.1.1.10.quit\", \"reason\": \"closes early\"},"
	    "{\"scenario\": \"greeting.220\", \"check\": \"rfc5321.3.1.greeting\", \"reason\": \"old\"},"
	    "{\"check\": \"never.run\", \"reason\": \"gone\"}]}");
	char *text, *json, *xml;
	cJSON *root, *sc, *f, *b;

	/* While the run goes, before the baseline is applied. */
	text = text_of(run, 1);
	ck_assert_str_eq(text, "FAIL  smuggling.lf-dot-lf  (0 ms)  smuggle.lf-dot-lf: "
	    "expected no second message, got one\n");
	xfree(text);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);

		rpt_text_scenario_line_bl(fp, run->scenarios[1], bl);
		rpt_text_scenario_line_bl(fp, run->scenarios[2], bl);
		fclose(fp);
		ck_assert_str_eq(buf, "KNOWN  smuggling.lf-dot-lf  (0 ms)  smuggle.lf-dot-lf: "
		    "expected no second message, got one  [baseline: CVE-2023-51764]\n"
		    "FAIL  rset.clears  (0 ms)  rfc5321.4.1.1.5.rset: expected 250, got 354\n");
		free(buf);
	}

	rpt_baseline_apply(bl, run);
	text = text_of(run, 1);
	ck_assert_ptr_nonnull(strstr(text, "KNOWN  smuggling.lf-dot-lf"));
	xfree(text);
	text = text_of(run, -1);
	ck_assert_ptr_nonnull(strstr(text, "3 scenarios: 1 passed, 2 failed (1 known, in the baseline)"));
	ck_assert_ptr_nonnull(strstr(text, "\nKNOWN smuggling.lf-dot-lf (s.json)\n"));
	ck_assert_ptr_nonnull(strstr(text, "    known (baseline): closes early\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nBaseline bl.json: 2 still failing, 1 fixed, 1 not exercised\n"
	    "  fixed: greeting.220 rfc5321.3.1.greeting: passes now; the baseline can shrink\n"
	    "  not exercised: (any scenario) never.run: no scenario of this run exercised it\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n1 passed, 1 failed, 1 known\n"));
	xfree(text);

	json = rpt_json_string(run);
	root = cJSON_Parse(json);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "summary"), "known")->valueint, 1);
	sc = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(sc, "known")));
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "findings"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "known")->valuestring, "CVE-2023-51764");
	sc = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 2);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(sc, "known")));
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "findings"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(f, "known")));
	b = cJSON_GetObjectItem(root, "baseline");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "file")->valuestring, "bl.json");
	ck_assert_int_eq(cJSON_GetObjectItem(b, "fixed")->valueint, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "entries"), 3),
	    "status")->valuestring, "unexercised");
	cJSON_Delete(root);
	xfree(json);

	xml = rpt_junit_string(run);
	ck_assert_ptr_nonnull(strstr(xml, "tests=\"3\" failures=\"1\" errors=\"0\""));
	ck_assert_ptr_nonnull(strstr(xml, "<skipped message=\"known failure (baseline): "
	    "smuggle.lf-dot-lf: CVE-2023-51764\" type=\"known\">"));
	ck_assert_ptr_nonnull(strstr(xml, "<property name=\"baseline.fixed\" value=\"greeting.220 "
	    "rfc5321.3.1.greeting\"/>"));
	ck_assert_ptr_nonnull(strstr(xml, "<property name=\"baseline.unexercised\" value=\"* never.run\"/>"));
	xfree(xml);
	rpt_run_free(run);
}
END_TEST

/* What --write-baseline writes loads back, accepts every failure, and
 * keeps the reasons of entries that already accepted one. */
START_TEST(test_baseline_write_round_trip)
{
	rpt_run *run = sample_run();
	rpt_baseline *old = load_ok("{\"known\": [{\"check\": \"smuggle.lf-dot-lf\", \"reason\": \"CVE\"}]}");
	rpt_baseline *bl;
	rpt_run *again;
	char *text;
	char dir[] = "/tmp/test_baseline.XXXXXX";
	char path[64], err[512];

	rpt_baseline_apply(old, run);
	text = rpt_baseline_string(run);
	bl = load_ok(text);
	ck_assert_uint_eq(bl->n, 3);
	ck_assert_str_eq(bl->target, "127.0.0.1:2525");
	ck_assert_str_eq(bl->entries[0].scenario, "smuggling.lf-dot-lf");
	ck_assert_str_eq(bl->entries[0].reason, "CVE");
	ck_assert_str_eq(bl->entries[1].check, "rfc5321.4.1.1.5.rset");
	ck_assert_str_eq(bl->entries[1].reason, RPT_BASELINE_PLACEHOLDER);
	again = sample_run();
	rpt_baseline_apply(bl, again);
	ck_assert_uint_eq(rpt_run_summary(again).known, 2);
	rpt_run_free(again);
	xfree(text);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bl.json", dir);
	ck_assert_int_eq(rpt_baseline_write(run, path, err, sizeof(err)), 0);
	ck_assert_int_eq(rpt_baseline_load_file(path, &bl, err, sizeof(err)), 0);
	ck_assert_uint_eq(bl->n, 3);
	rpt_baseline_free(bl);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	snprintf(path, sizeof(path), "%s/bl.json", dir);
	ck_assert_int_eq(rpt_baseline_write(run, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	rpt_run_free(run);
}
END_TEST

static Suite *
baseline_suite(void)
{
	Suite *s = suite_create("baseline");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_baseline_load);
	tcase_add_test(tc, test_baseline_load_errors);
	tcase_add_test(tc, test_baseline_load_file);
	tcase_add_test(tc, test_baseline_apply);
	tcase_add_test(tc, test_baseline_render);
	tcase_add_test(tc, test_baseline_write_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(baseline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
