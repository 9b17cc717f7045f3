/*
 * test_diff - reading JSON reports back (what the JSON renderer writes,
 * and files that are not reports) and the changes between two runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/xalloc.h"
#include "reports/diff.h"
#include "reports/report.h"
#include "reports/result.h"

/* One scenario per verdict, named by what it is, and a FAIL finding each
 * for the checks in fails (space-separated); every check in ok passed. */
static void
add(rpt_run *run, const char *id, rpt_verdict v, const char *fails, const char *ok)
{
	rpt_scenario *sc = rpt_scenario_new(id, NULL, NULL);
	char buf[256], *tok, *save;

	if (fails != NULL) {
		snprintf(buf, sizeof(buf), "%s", fails);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			rpt_scenario_add_finding(sc, tok, NULL, RPT_FAIL, 1, NULL, "%s broke", tok);
			rpt_scenario_exercised(sc, tok, RPT_FAIL);
		}
	}
	if (ok != NULL) {
		snprintf(buf, sizeof(buf), "%s", ok);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			rpt_scenario_exercised(sc, tok, RPT_PASS);
	}
	rpt_scenario_add_finding(sc, "w.only", NULL, RPT_WARN, 1, NULL, "a warning");
	if (v == RPT_ERROR || v == RPT_SKIP)
		rpt_scenario_set(sc, v, "because");
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, v);
	rpt_run_add(run, sc);
}

static rpt_dreport *
load(const rpt_run *run, const char *name)
{
	char *json = rpt_json_string(run);
	rpt_dreport *r = NULL;
	char err[512] = "";

	if (rpt_dreport_load_buffer(name, json, strlen(json), &r, err, sizeof(err)) != 0)
		ck_abort_msg("unexpected: %s", err);
	xfree(json);
	return r;
}

static char *
diff_text(const rpt_dreport *a, const rpt_dreport *b, rpt_diff_counts *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	*c = rpt_diff(fp, a, b);
	fclose(fp);
	return buf;
}

START_TEST(test_diff_read_back)
{
	rpt_run *run = rpt_run_new("t");
	rpt_dreport *r;

	add(run, "a.pass", RPT_PASS, NULL, "c.one c.two");
	add(run, "b.fail", RPT_FAIL, "c.x c.y", "c.z");
	add(run, "c.skip", RPT_SKIP, NULL, NULL);
	add(run, "d.error", RPT_ERROR, NULL, NULL);
	r = load(run, "r.json");
	ck_assert_uint_eq(r->n, 4);
	ck_assert_str_eq(r->sc[0].id, "a.pass");
	ck_assert_int_eq(r->sc[0].verdict, RPT_PASS);
	ck_assert_uint_eq(r->sc[0].nexercised, 2);
	ck_assert_uint_eq(r->sc[0].nfails, 0);
	ck_assert_int_eq(r->sc[1].verdict, RPT_FAIL);
	ck_assert_uint_eq(r->sc[1].nfails, 2);
	ck_assert_str_eq(r->sc[1].fails[1].check, "c.y");
	ck_assert_str_eq(r->sc[1].fails[1].message, "c.y broke");
	ck_assert_uint_eq(r->sc[1].nexercised, 1);
	ck_assert_str_eq(r->sc[2].reason, "because");
	ck_assert_int_eq(r->sc[3].verdict, RPT_ERROR);
	rpt_dreport_free(r);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_diff_changes)
{
	rpt_run *a = rpt_run_new("t"), *b = rpt_run_new("t");
	rpt_dreport *ra, *rb;
	rpt_diff_counts c;
	char *text;

	add(a, "same.pass", RPT_PASS, NULL, "k");
	add(b, "same.pass", RPT_PASS, NULL, "k");
	add(a, "to.fail", RPT_PASS, NULL, "k");
	add(b, "to.fail", RPT_FAIL, "k", NULL);
	add(a, "to.error", RPT_SKIP, NULL, NULL);
	add(b, "to.error", RPT_ERROR, NULL, NULL);
	add(a, "to.pass", RPT_FAIL, "k", NULL);
	add(b, "to.pass", RPT_PASS, NULL, "k");
	add(a, "more.fail", RPT_FAIL, "k", NULL);
	add(b, "more.fail", RPT_FAIL, "k m", NULL);
	add(a, "less.fail", RPT_FAIL, "k m n", NULL);
	add(b, "less.fail", RPT_FAIL, "k", "m");
	add(a, "to.skip", RPT_PASS, NULL, "k");
	add(b, "to.skip", RPT_SKIP, NULL, NULL);
	add(a, "old.only", RPT_PASS, NULL, NULL);
	add(b, "new.only", RPT_FAIL, "k", NULL);
	ra = load(a, "a.json");
	rb = load(b, "b.json");
	text = diff_text(ra, rb, &c);
	ck_assert_str_eq(text,
	    "REGRESSED  to.fail: PASS -> FAIL\n"
	    "REGRESSED  to.fail  k: k broke\n"
	    "REGRESSED  to.error: SKIP -> ERROR (because)\n"
	    "FIXED      to.pass: FAIL -> PASS\n"
	    "FIXED      to.pass  k: passes now\n"
	    "REGRESSED  more.fail  m: m broke\n"
	    "FIXED      less.fail  m: passes now\n"
	    "GONE       less.fail  n: failed before, not exercised now\n"
	    "CHANGED    to.skip: PASS -> SKIP (because)\n"
	    "APPEARED   new.only: FAIL\n"
	    "GONE       old.only: was PASS\n");
	ck_assert_uint_eq(c.regressed, 4);
	ck_assert_uint_eq(c.fixed, 3);
	ck_assert_uint_eq(c.gone, 2);
	ck_assert_uint_eq(c.appeared, 1);
	ck_assert_uint_eq(c.changed, 1);
	free(text);

	/* the other way round: fixes become regressions */
	c = rpt_diff(NULL, rb, ra);
	ck_assert_uint_eq(c.regressed, 4);
	/* a report against itself: nothing */
	c = rpt_diff(NULL, ra, ra);
	ck_assert_uint_eq(c.regressed + c.fixed + c.gone + c.appeared + c.changed, 0);
	rpt_dreport_free(ra);
	rpt_dreport_free(rb);
	rpt_run_free(a);
	rpt_run_free(b);
}
END_TEST

/* Ids that repeat pair up in order. */
START_TEST(test_diff_repeated_ids)
{
	rpt_run *a = rpt_run_new("t"), *b = rpt_run_new("t");
	rpt_dreport *ra, *rb;
	rpt_diff_counts c;
	char *text;

	add(a, "x", RPT_PASS, NULL, NULL);
	add(a, "x", RPT_FAIL, "k", NULL);
	add(b, "x", RPT_PASS, NULL, NULL);
	add(b, "x", RPT_FAIL, "k", NULL);
	add(b, "x", RPT_PASS, NULL, NULL);
	ra = load(a, "a.json");
	rb = load(b, "b.json");
	text = diff_text(ra, rb, &c);
	ck_assert_str_eq(text, "APPEARED   x: PASS\n");
	free(text);
	rpt_dreport_free(ra);
	rpt_dreport_free(rb);
	rpt_run_free(a);
	rpt_run_free(b);
}
END_TEST

static void
bad(const char *text, const char *want)
{
	rpt_dreport *r = (rpt_dreport *)1;
	char err[512] = "";

	ck_assert_int_eq(rpt_dreport_load_buffer("r.json", text, strlen(text), &r, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(r);
	if (strcmp(err, want) != 0)
		ck_abort_msg("for %s\n got: %s\nwant: %s", text, err, want);
}

START_TEST(test_diff_not_a_report)
{
	bad("{\"tool\": \"smtp-harness\", \"scenarios\": [", "r.json:1:40: expected valid JSON, "
	    "got the end of the file");
	bad("[1]", "r.json:1:1: $: expected the JSON report of smtp-harness run (an object), "
	    "got an array");
	bad("{\"known\": []}", "r.json:1:1: $: expected the JSON report of smtp-harness run, "
	    "with \"tool\": \"smtp-harness\", got no \"tool\"");
	bad("{\"tool\": \"other\"}", "r.json:1:10: $.tool: expected \"smtp-harness\", got \"other\"");
	bad("{\"tool\": \"smtp-harness\"}", "r.json:1:1: $: expected a key \"scenarios\", got none");
	bad("{\"tool\": \"smtp-harness\", \"scenarios\": [{\"id\": \"a\", \"verdict\": \"MAYBE\"}]}",
	    "r.json:1:63: $.scenarios[0].verdict: expected one of \"PASS\", \"FAIL\", \"ERROR\", "
	    "\"SKIP\", got \"MAYBE\"");
	bad("{\"tool\": \"smtp-harness\", \"scenarios\": [{\"id\": \"a\", \"verdict\": \"PASS\",\n"
	    " \"reason\": null, \"findings\": [{\"check\": \"c\", \"verdict\": \"FAIL\", \"message\": 3}],"
	    " \"checks\": []}]}",
	    "r.json:2:76: $.scenarios[0].findings[0].message: expected a string or null, got 3");
	bad("{\"tool\": \"smtp-harness\", \"scenarios\": [{\"id\": \"a\", \"verdict\": \"PASS\",\n"
	    " \"reason\": null, \"findings\": [], \"checks\": [{\"check\": \"\", \"verdict\": \"PASS\"}]}]}",
	    "r.json:2:55: $.scenarios[0].checks[0].check: expected a non-empty string, got \"\"");
	bad("{\"tool\": \"smtp-harness\", \"scenarios\": [{\"id\": \"a\", \"verdict\": \"PASS\",\n"
	    " \"reason\": null, \"findings\": []}]}",
	    "r.json:1:40: $.scenarios[0]: expected a key \"checks\", got none");
}
END_TEST

static Suite *
diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_diff_read_back);
	tcase_add_test(tc, test_diff_changes);
	tcase_add_test(tc, test_diff_repeated_ids);
	tcase_add_test(tc, test_diff_not_a_report);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
