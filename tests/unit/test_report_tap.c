/*
 * test_report_tap - the TAP 13 renderer: a test point per scenario, the
 * directives for SKIP and known failures, and YAML blocks that hostile
 * bytes cannot break.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "captures/transcript.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"
#include "reports/report.h"
#include "reports/result.h"

static rpt_run *
sample_run(void)
{
	rpt_run *run = rpt_run_new("127.0.0.1:2525");
	rpt_scenario *sc;
	rpt_evidence ev = { 0 };

	sc = rpt_scenario_new("greeting.220", NULL, "g.json");
	rpt_scenario_add_finding(sc, "w", NULL, RPT_WARN, 1, NULL, "a warning");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("rset.clears#1", NULL, "r.json");
	ev.present = 1;
	ev.seg = 5;
	ev.off = 2;
	ev.dir = CAP_S2C;
	ev.excerpt = "354 \\x00\\x01\"go\"";
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.5.rset", "RFC 5321 §4.1.1.5", RPT_FAIL, 3, &ev,
	    "expected 250, got \"354\"\nnot ok 99 - injected");
	rpt_scenario_add_finding(sc, "quit", NULL, RPT_FAIL, 0, NULL, "closed before QUIT");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("pipelining.order", NULL, NULL);
	rpt_scenario_set(sc, RPT_SKIP, "target lacks %s", "PIPELINING # really");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("dns.mx", NULL, NULL);
	rpt_scenario_set(sc, RPT_ERROR, "connect: %s", "refused");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("smuggling.lf-dot-lf", NULL, NULL);
	rpt_scenario_add_finding(sc, "smuggle.lf-dot-lf", NULL, RPT_FAIL, 4, NULL, "one message too many");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	return run;
}

START_TEST(test_report_tap_stream)
{
	rpt_run *run = sample_run();
	char *tap = rpt_tap_string(run);

	ck_assert_str_eq(tap,
	    "TAP version 13\n"
	    "1..5\n"
	    "ok 1 - greeting.220\n"
	    "not ok 2 - rset.clears\\#1\n"
	    "  ---\n"
	    "  message: \"rfc5321.4.1.1.5.rset: expected 250, got \\\"354\\\"\\\\x0anot ok 99 - injected\"\n"
	    "  severity: fail\n"
	    "  file: \"r.json\"\n"
	    "  findings:\n"
	    "    - check: \"rfc5321.4.1.1.5.rset\"\n"
	    "      refs: \"RFC 5321 §4.1.1.5\"\n"
	    "      step: 3\n"
	    "      message: \"expected 250, got \\\"354\\\"\\\\x0anot ok 99 - injected\"\n"
	    "      evidence:\n"
	    "        segment: 5\n"
	    "        offset: 2\n"
	    "        direction: S2C\n"
	    "        excerpt: \"354 \\\\x00\\\\x01\\\"go\\\"\"\n"
	    "    - check: \"quit\"\n"
	    "      refs: null\n"
	    "      step: 0\n"
	    "      message: \"closed before QUIT\"\n"
	    "  ...\n"
	    "ok 3 - pipelining.order # SKIP target lacks PIPELINING \\# really\n"
	    "not ok 4 - dns.mx\n"
	    "  ---\n"
	    "  message: \"connect: refused\"\n"
	    "  severity: error\n"
	    "  reason: \"connect: refused\"\n"
	    "  ...\n"
	    "not ok 5 - smuggling.lf-dot-lf\n"
	    "  ---\n"
	    "  message: \"smuggle.lf-dot-lf: one message too many\"\n"
	    "  severity: fail\n"
	    "  findings:\n"
	    "    - check: \"smuggle.lf-dot-lf\"\n"
	    "      refs: null\n"
	    "      step: 4\n"
	    "      message: \"one message too many\"\n"
	    "  ...\n"
	    "# 1 passed, 3 failed, 1 skipped\n");
	xfree(tap);
	rpt_run_free(run);
}
END_TEST

/* A failure the baseline accepts is TAP's TODO: "not ok", yet not a
 * failure of the run; fixed and unexercised entries are comments. */
START_TEST(test_report_tap_baseline)
{
	rpt_run *run = sample_run();
	static const char bltext[] = "{\"known\": ["
	    "{\"check\": \"smuggle.lf-dot-lf\", \"reason\": \"CVE-2023-51764\"},"
	    "{\"scenario\": \"greeting.220\", \"check\": \"w\", \"reason\": \"r\"},"
	    "{\"check\": \"gone\", \"reason\": \"r\"}]}";
	rpt_baseline *bl;
	char err[256];
	char *tap;

	ck_assert_int_eq(rpt_baseline_load_buffer("bl.json", bltext, sizeof(bltext) - 1, &bl, err,
	    sizeof(err)), 0);
	rpt_scenario_exercised(run->scenarios[0], "w", RPT_WARN);
	rpt_baseline_apply(bl, run);
	tap = rpt_tap_string(run);
	ck_assert_ptr_nonnull(strstr(tap, "\nnot ok 5 - smuggling.lf-dot-lf # TODO known failure "
	    "(baseline): CVE-2023-51764\n  ---\n  message: \"smuggle.lf-dot-lf: one message too many\"\n"
	    "  severity: todo\n"));
	ck_assert_ptr_nonnull(strstr(tap, "      known: \"CVE-2023-51764\"\n"));
	ck_assert_ptr_nonnull(strstr(tap, "\n# 1 passed, 2 failed, 1 known, 1 skipped\n"
	    "# baseline fixed: greeting.220 w\n"
	    "# baseline not exercised: (any scenario) gone\n"));
	xfree(tap);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_report_tap_write)
{
	rpt_run *run = sample_run();
	char dir[] = "/tmp/test_report_tap.XXXXXX";
	char path[64], err[256], buf[32];
	FILE *fp;

	ck_assert_int_eq(rpt_format_known("tap"), 1);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.tap", dir);
	ck_assert_int_eq(rpt_write(run, "tap", path, err, sizeof(err)), 0);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	ck_assert_str_eq(buf, "TAP version 13\n");
	fclose(fp);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	rpt_run_free(run);
}
END_TEST

static Suite *
tap_suite(void)
{
	Suite *s = suite_create("report_tap");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_report_tap_stream);
	tcase_add_test(tc, test_report_tap_baseline);
	tcase_add_test(tc, test_report_tap_write);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
