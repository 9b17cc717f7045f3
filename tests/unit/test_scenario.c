/*
 * test_scenario - the scenario loader: what every field compiles to, how
 * verdicts and checks are resolved, and the one-line error for each kind
 * of malformed file (exact text, with line, column and JSON path).
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/check/catalog.h"
#include "harness/scenario/relay.h"
#include "harness/scenario/scenario.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* Line 1 of most test scenarios; their steps start on line 2, column 11. */
#define HEAD "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [\"RFC 5321 4.1\"],\n"
#define STEPS(x) HEAD "\"steps\": [" x "]}"

#define SHOULD_ID "rfc5321.4.2.4.500-vs-502"	/* SHOULD: WARN */
#define MUST_ID "rfc5321.4.2.1.multiline-format"	/* MUST: FAIL */
#define MAY_ID "rfc2920.3.1.content-first-in-group"	/* MAY: INFO */
#define QUIT_ID "rfc5321.4.1.1.10.quit-221-close"	/* MUST */

static scn_scenario *
load_ok(const char *text)
{
	char err[2048] = "";
	scn_scenario *s = NULL;
	int rc = scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err));

	ck_assert_msg(rc == 0, "load failed: %s", err);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Loads text, which must fail; returns 0 when the error is exactly want,
 * else prints both and returns 1. */
static int
load_err(const char *text, size_t len, const char *want)
{
	char err[2048] = "";
	scn_scenario *s = (scn_scenario *)1;
	int rc = scn_load_buffer("t.json", text, len, &s, err, sizeof(err));

	if (rc != -1 || s != NULL) {
		fprintf(stderr, "loaded, expected the error\n  %s\n", want);
		scn_free(rc == 0 ? s : NULL);
		return 1;
	}
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "error\n  got:  %s\n  want: %s\n", err, want);
		return 1;
	}
	return 0;
}

static int
re_match(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* ---- what the fields compile to ---------------------------------------- */

static const char full[] =
    "{\n"
    " \"id\": \"t.full\", \"summary\": \"every field\",\n"
    " \"refs\": [\"RFC 5321 \xc2\xa7" "4.2.4\", \"" SHOULD_ID "\", \"smuggle.cr-dot-cr\"],\n"
    " \"role\": \"client\", \"requires\": [\"pipelining\", \"8bitMime\"],\n"
    " \"vars\": {\"who\": \"me\", \"n_2\": \"\"},\n"
    " \"timeout_ms\": 1234, \"deadline_ms\": 99999, \"refuse_ok\": true, \"comment\": \"c\",\n"
    " \"steps\": [\n"
    "  {\"recv\": 220},\n"
    "  {\"send\": \"EHLO ${helo}\", \"recv\": {\"code\": [250, 251], \"class\": 2, \"esc\": \"2.1\",\n"
    "   \"text\": \"^[a-z.]+ \", \"keyword\": [\"pipelining\", \"Size\"], \"no_keyword\": \"chunking\",\n"
    "   \"capture\": {\"var\": \"dom\", \"regex\": \"^([^ ]+)\", \"comment\": \"x\"}, \"comment\": \"y\"}},\n"
    "  {\"send\": \"NOOP ${dom} ${who}\", \"recv\": {\"class\": [4, 5]}, \"timeout_ms\": 50,\n"
    "   \"delay_ms\": 7, \"comment\": \"z\"},\n"
    "  {\"raw\": [\"A\\\\r\\\\n\", \"B\\\\x41${n_2}\"], \"pause_ms\": 20, \"recv\": [{\"code\": 250}, 251]},\n"
    "  {\"data\": {\"lines\": [\"Subject: ${who}\", \"\", \".dot\"], \"comment\": \"d\"}, \"recv\": {\"code\": 250}},\n"
    "  {\"delay_ms\": 5},\n"
    "  {\"send\": \"QUIT\", \"recv\": {\"code\": 221},\n"
    "   \"closed\": {\"within_ms\": 300, \"check\": \"" QUIT_ID "\", \"comment\": \"bye\"}}\n"
    " ]\n"
    "}\n";

START_TEST(test_scenario_full_fields)
{
	scn_scenario *s = load_ok(full);
	const scn_step *st;
	const scn_expect *e;
	regmatch_t m[2];

	ck_assert_str_eq(s->file, "t.json");
	ck_assert_str_eq(s->id, "t.full");
	ck_assert_str_eq(s->summary, "every field");
	ck_assert_uint_eq(s->nrefs, 3);
	ck_assert_str_eq(s->refs[0], "RFC 5321 \xc2\xa7" "4.2.4");
	ck_assert_str_eq(s->refs[2], "smuggle.cr-dot-cr");
	ck_assert_str_eq(s->check, SHOULD_ID);	/* the first catalog ref */
	ck_assert_int_eq(s->role, SCN_ROLE_CLIENT);
	ck_assert_uint_eq(s->nrequires, 2);
	ck_assert_str_eq(s->requires[0], "PIPELINING");
	ck_assert_str_eq(s->requires[1], "8BITMIME");
	ck_assert_uint_eq(s->nvars, 2);
	ck_assert_str_eq(s->vars[0].name, "who");
	ck_assert_str_eq(s->vars[0].value, "me");
	ck_assert_str_eq(s->vars[1].name, "n_2");
	ck_assert_str_eq(s->vars[1].value, "");
	ck_assert_uint_eq(s->timeout_ms, 1234);
	ck_assert_uint_eq(s->deadline_ms, 99999);
	ck_assert_int_eq(s->refuse_ok, 1);
	ck_assert_str_eq(s->id_where.path, "$.id");
	ck_assert_int_eq(s->id_where.line, 2);
	ck_assert_int_eq(s->id_where.col, 8);
	ck_assert_uint_eq(s->nsteps, 7);

	st = &s->steps[0];
	ck_assert_uint_eq(st->index, 1);
	ck_assert_str_eq(st->where.path, "$.steps[0]");
	ck_assert_int_eq(st->where.line, 8);
	ck_assert_int_eq(st->where.col, 3);
	ck_assert_int_eq(st->send_kind, SCN_SEND_NONE);
	ck_assert_uint_eq(st->timeout_ms, 1234);	/* the scenario's */
	ck_assert_uint_eq(st->nexpects, 1);
	e = &st->expects[0];
	ck_assert_str_eq(e->where.path, "$.steps[0].recv");
	ck_assert_int_eq(e->where.line, 8);
	ck_assert_int_eq(e->where.col, 12);
	ck_assert_uint_eq(e->ncodes, 1);
	ck_assert_int_eq(e->codes[0], 220);
	ck_assert_uint_eq(e->nclasses, 0);
	ck_assert_ptr_null(e->esc);
	ck_assert_int_eq(e->has_text_re, 0);
	ck_assert_int_eq(e->has_capture, 0);
	ck_assert_str_eq(e->check, SHOULD_ID);
	ck_assert_int_eq(e->verdict, RPT_WARN);

	st = &s->steps[1];
	ck_assert_int_eq(st->send_kind, SCN_SEND_LINES);
	ck_assert_uint_eq(st->nsends, 1);
	ck_assert_str_eq(st->sends[0], "EHLO ${helo}");	/* templates stay templates */
	ck_assert_int_eq(st->pipeline, 0);
	e = &st->expects[0];
	ck_assert_uint_eq(e->ncodes, 2);
	ck_assert_int_eq(e->codes[0], 250);
	ck_assert_int_eq(e->codes[1], 251);
	ck_assert_uint_eq(e->nclasses, 1);
	ck_assert_int_eq(e->classes[0], 2);
	ck_assert_str_eq(e->esc, "2.1");
	ck_assert_int_eq(e->has_text_re, 1);
	ck_assert_str_eq(e->text_src, "^[a-z.]+ ");
	ck_assert(re_match(&e->text_re, "mx.test hello\nPIPELINING"));
	ck_assert(!re_match(&e->text_re, "MX.TEST hello"));
	ck_assert_uint_eq(e->nkeywords, 2);
	ck_assert_str_eq(e->keywords[0], "PIPELINING");
	ck_assert_str_eq(e->keywords[1], "SIZE");
	ck_assert_uint_eq(e->nabsent, 1);
	ck_assert_str_eq(e->absent[0], "CHUNKING");
	ck_assert_int_eq(e->has_capture, 1);
	ck_assert_str_eq(e->capture_var, "dom");
	ck_assert_int_eq(regexec(&e->capture_re, "mx.test hello", 2, m, 0), 0);
	ck_assert_int_eq(m[1].rm_so, 0);
	ck_assert_int_eq(m[1].rm_eo, 7);

	st = &s->steps[2];
	ck_assert_str_eq(st->sends[0], "NOOP ${dom} ${who}");	/* dom: captured one step before */
	ck_assert_uint_eq(st->timeout_ms, 50);
	ck_assert_uint_eq(st->delay_ms, 7);
	ck_assert_uint_eq(st->expects[0].ncodes, 0);
	ck_assert_uint_eq(st->expects[0].nclasses, 2);
	ck_assert_int_eq(st->expects[0].classes[1], 5);

	st = &s->steps[3];
	ck_assert_int_eq(st->send_kind, SCN_SEND_RAW);
	ck_assert_uint_eq(st->nsends, 2);
	ck_assert_str_eq(st->sends[0], "A\\r\\n");	/* escapes are decoded at run time */
	ck_assert_str_eq(st->sends[1], "B\\x41${n_2}");
	ck_assert_uint_eq(st->pause_ms, 20);
	ck_assert_uint_eq(st->nexpects, 2);
	ck_assert_int_eq(st->expects[1].codes[0], 251);
	ck_assert_str_eq(st->expects[1].where.path, "$.steps[3].recv[1]");

	st = &s->steps[4];
	ck_assert_int_eq(st->send_kind, SCN_SEND_DATA);
	ck_assert_uint_eq(st->nsends, 3);
	ck_assert_str_eq(st->sends[0], "Subject: ${who}");
	ck_assert_str_eq(st->sends[1], "");
	ck_assert_str_eq(st->sends[2], ".dot");	/* stuffed at run time */
	ck_assert_int_eq(st->data_raw, 0);
	ck_assert_uint_eq(st->data_generate, 0);

	st = &s->steps[5];
	ck_assert_int_eq(st->send_kind, SCN_SEND_NONE);
	ck_assert_uint_eq(st->delay_ms, 5);
	ck_assert_uint_eq(st->nexpects, 0);

	st = &s->steps[6];
	ck_assert_uint_eq(st->index, 7);
	ck_assert_int_eq(st->expect_closed, 1);
	ck_assert_uint_eq(st->closed_ms, 300);
	ck_assert_str_eq(st->closed_check, QUIT_ID);
	ck_assert_int_eq(st->drop, SCN_DROP_NONE);
	scn_free(s);
	scn_free(NULL);
}
END_TEST

START_TEST(test_scenario_defaults)
{
	scn_scenario *s = load_ok(STEPS("{\"recv\": 220}"));

	ck_assert_int_eq(s->role, SCN_ROLE_CLIENT);
	ck_assert_ptr_null(s->check);	/* no catalog id among the refs */
	ck_assert_uint_eq(s->nrequires, 0);
	ck_assert_uint_eq(s->nvars, 0);
	ck_assert_uint_eq(s->timeout_ms, HARNESS_STEP_TIMEOUT_MS);
	ck_assert_uint_eq(s->deadline_ms, HARNESS_SCENARIO_TIMEOUT_MS);
	ck_assert_int_eq(s->refuse_ok, 0);
	ck_assert_uint_eq(s->steps[0].timeout_ms, HARNESS_STEP_TIMEOUT_MS);
	ck_assert_ptr_null(s->steps[0].check);
	ck_assert_ptr_null(s->steps[0].expects[0].check);
	ck_assert_int_eq(s->steps[0].expects[0].verdict, RPT_FAIL);
	scn_free(s);

	/* "requires" may be one keyword; "esc" a class alone or a full code */
	s = load_ok(HEAD "\"requires\": \"starttls\", \"steps\": [{\"recv\": {\"esc\": \"5\"}},"
	    " {\"recv\": {\"esc\": \"4.7.123\"}}]}");
	ck_assert_uint_eq(s->nrequires, 1);
	ck_assert_str_eq(s->requires[0], "STARTTLS");
	ck_assert_str_eq(s->steps[0].expects[0].esc, "5");
	ck_assert_str_eq(s->steps[1].expects[0].esc, "4.7.123");
	scn_free(s);

	/* ... or say a keyword must be absent, or carry a parameter */
	s = load_ok(HEAD "\"requires\": [\"!auth\", \"size #\", \"AUTH plain\"], \"steps\": "
	    "[{\"recv\": 220}]}");
	ck_assert_uint_eq(s->nrequires, 3);
	ck_assert_str_eq(s->requires[0], "!AUTH");
	ck_assert_str_eq(s->requires[1], "SIZE #");
	ck_assert_str_eq(s->requires[2], "AUTH PLAIN");
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_requires_refused)
{
	static const char *const bad[] = { "\"!\"", "\"! AUTH\"", "\"!AUTH PLAIN\"", "\"SIZE \"",
		"\"AUTH PLAIN LOGIN\"", "\"-SIZE\"", "\"SIZE\\t1\"", "\" SIZE\"" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = xasprintf(HEAD "\"requires\": %s, \"steps\": [{\"recv\": 220}]}", bad[i]);
		scn_scenario *s = NULL;
		char err[512] = "";

		ck_assert_msg(scn_load_buffer("x.json", text, strlen(text), &s, err, sizeof(err)) != 0,
		    "accepted %s", bad[i]);
		ck_assert_msg(strstr(err, "$.requires") != NULL, "%s", err);
		xfree(text);
	}
}
END_TEST

/* ---- verdicts and checks ------------------------------------------------- */

START_TEST(test_scenario_verdict_resolution)
{
	/* scenario check: the first catalog ref (SHOULD) */
	scn_scenario *s = load_ok(
	    "{\"id\": \"t.v\", \"summary\": \"s\", \"refs\": [\"RFC 1\", \"" SHOULD_ID "\", \"" MUST_ID "\"],\n"
	    "\"steps\": [\n"
	    "{\"recv\": 220},\n"
	    "{\"recv\": {\"code\": 250, \"check\": \"" MUST_ID "\"}},\n"
	    "{\"recv\": {\"code\": 250, \"severity\": \"may\"}},\n"
	    "{\"recv\": {\"code\": 250, \"check\": \"" MUST_ID "\", \"severity\": \"Should\"}},\n"
	    "{\"check\": \"" MAY_ID "\", \"recv\": [250, {\"code\": 250, \"check\": \"" MUST_ID "\"},\n"
	    "  {\"code\": 250, \"severity\": \"must\"}]},\n"
	    "{\"check\": \"" MUST_ID "\", \"send\": \"QUIT\", \"recv\": 221, \"closed\": true}\n"
	    "]}");
	const scn_step *st = s->steps;

	ck_assert_str_eq(s->check, SHOULD_ID);
	/* nothing stated: the scenario's check and its keyword */
	ck_assert_str_eq(st[0].expects[0].check, SHOULD_ID);
	ck_assert_int_eq(st[0].expects[0].verdict, RPT_WARN);
	/* the expectation's own check and its keyword */
	ck_assert_str_eq(st[1].expects[0].check, MUST_ID);
	ck_assert_int_eq(st[1].expects[0].verdict, RPT_FAIL);
	/* severity wins over the (inherited) check's keyword */
	ck_assert_str_eq(st[2].expects[0].check, SHOULD_ID);
	ck_assert_int_eq(st[2].expects[0].verdict, RPT_INFO);
	ck_assert_str_eq(st[3].expects[0].check, MUST_ID);
	ck_assert_int_eq(st[3].expects[0].verdict, RPT_WARN);
	/* a step's check is the default of its expectations */
	ck_assert_str_eq(st[4].check, MAY_ID);
	ck_assert_str_eq(st[4].expects[0].check, MAY_ID);
	ck_assert_int_eq(st[4].expects[0].verdict, RPT_INFO);
	ck_assert_str_eq(st[4].expects[1].check, MUST_ID);
	ck_assert_int_eq(st[4].expects[1].verdict, RPT_FAIL);
	ck_assert_str_eq(st[4].expects[2].check, MAY_ID);
	ck_assert_int_eq(st[4].expects[2].verdict, RPT_FAIL);
	/* ... and of "closed" */
	ck_assert_str_eq(st[5].closed_check, MUST_ID);
	ck_assert_uint_eq(st[5].closed_ms, HARNESS_STEP_TIMEOUT_MS);
	scn_free(s);

	/* a top-level "check" replaces the first catalog ref */
	s = load_ok("{\"id\": \"t.v\", \"summary\": \"s\", \"refs\": [\"" SHOULD_ID "\"],\n"
	    "\"check\": \"" MUST_ID "\", \"steps\": [{\"recv\": 220}]}");
	ck_assert_str_eq(s->check, MUST_ID);
	ck_assert_str_eq(s->steps[0].expects[0].check, MUST_ID);
	ck_assert_int_eq(s->steps[0].expects[0].verdict, RPT_FAIL);
	scn_free(s);

	/* no catalog id anywhere: no check, and a failure is a FAIL */
	s = load_ok(STEPS("{\"recv\": {\"code\": 220}}, {\"recv\": {\"code\": 250, \"severity\": \"SHOULD\"}}"));
	ck_assert_ptr_null(s->steps[0].expects[0].check);
	ck_assert_int_eq(s->steps[0].expects[0].verdict, RPT_FAIL);
	ck_assert_ptr_null(s->steps[1].expects[0].check);
	ck_assert_int_eq(s->steps[1].expects[0].verdict, RPT_WARN);
	ck_assert_int_eq(s->steps[1].expects[0].skip_otherwise, 0);
	scn_free(s);

	s = load_ok(STEPS("{\"recv\": {\"code\": 220}}, {\"recv\": {\"code\": 235, \"otherwise\": \"error\"}}"));
	ck_assert_int_eq(s->steps[1].expects[0].error_otherwise, 1);
	ck_assert_int_eq(s->steps[1].expects[0].skip_otherwise, 0);
	scn_free(s);
	/* "otherwise": "skip" is kept on its expectation only */
	s = load_ok(STEPS("{\"recv\": {\"code\": 220}}, {\"recv\": {\"code\": 250, \"otherwise\": \"skip\"}}"));
	ck_assert_int_eq(s->steps[0].expects[0].skip_otherwise, 0);
	ck_assert_int_eq(s->steps[1].expects[0].skip_otherwise, 1);
	scn_free(s);
}
END_TEST

/* ---- step kinds ----------------------------------------------------------- */

START_TEST(test_scenario_closed_and_drop)
{
	scn_scenario *s;

	s = load_ok(HEAD "\"timeout_ms\": 4000, \"steps\": [{\"send\": \"QUIT\", \"recv\": 221, \"closed\": true}]}");
	ck_assert_int_eq(s->steps[0].expect_closed, 1);
	ck_assert_uint_eq(s->steps[0].closed_ms, 4000);	/* the step's timeout */
	ck_assert_ptr_null(s->steps[0].closed_check);
	scn_free(s);

	s = load_ok(STEPS("{\"timeout_ms\": 900, \"closed\": true}"));
	ck_assert_uint_eq(s->steps[0].closed_ms, 900);
	scn_free(s);

	s = load_ok(STEPS("{\"closed\": 1500}"));
	ck_assert_int_eq(s->steps[0].expect_closed, 1);
	ck_assert_uint_eq(s->steps[0].closed_ms, 1500);
	scn_free(s);

	s = load_ok(STEPS("{\"check\": \"" MUST_ID "\", \"closed\": {}}"));
	ck_assert_uint_eq(s->steps[0].closed_ms, HARNESS_STEP_TIMEOUT_MS);
	ck_assert_str_eq(s->steps[0].closed_check, MUST_ID);
	scn_free(s);

	s = load_ok(STEPS("{\"check\": \"" MUST_ID "\", \"closed\": {\"within_ms\": 10, \"check\": \"" QUIT_ID "\"}}"));
	ck_assert_uint_eq(s->steps[0].closed_ms, 10);
	ck_assert_str_eq(s->steps[0].closed_check, QUIT_ID);
	scn_free(s);

	s = load_ok(STEPS("{\"recv\": 220}, {\"send\": \"DATA\", \"recv\": 354, \"drop\": \"close\"}"));
	ck_assert_int_eq(s->steps[1].drop, SCN_DROP_CLOSE);
	ck_assert_int_eq(s->steps[1].expect_closed, 0);
	ck_assert_int_eq(s->steps[1].send_kind, SCN_SEND_LINES);
	scn_free(s);

	s = load_ok(STEPS("{\"raw\": \"MAIL\", \"drop\": \"reset\"}"));
	ck_assert_int_eq(s->steps[0].drop, SCN_DROP_RESET);
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_data_forms)
{
	scn_scenario *s;

	s = load_ok(STEPS("{\"data\": {\"lines\": [\"To: <${rcpt}>\", \"${repeat:x:998}\"]}, \"recv\": 250}"));
	ck_assert_int_eq(s->steps[0].send_kind, SCN_SEND_DATA);
	ck_assert_uint_eq(s->steps[0].nsends, 2);
	ck_assert_str_eq(s->steps[0].sends[1], "${repeat:x:998}");
	scn_free(s);

	s = load_ok(STEPS("{\"data\": {\"lines\": []}}"));	/* an empty message */
	ck_assert_int_eq(s->steps[0].send_kind, SCN_SEND_DATA);
	ck_assert_uint_eq(s->steps[0].nsends, 0);
	ck_assert_int_eq(s->steps[0].data_raw, 0);
	scn_free(s);

	s = load_ok(STEPS("{\"data\": {\"raw\": \"Subject: x\\\\r\\\\n\\\\r\\\\nbare\\\\nLF\\\\r\\\\n.\\\\r\\\\n\"}}"));
	ck_assert_int_eq(s->steps[0].data_raw, 1);
	ck_assert_uint_eq(s->steps[0].nsends, 1);
	ck_assert_str_eq(s->steps[0].sends[0], "Subject: x\\r\\n\\r\\nbare\\nLF\\r\\n.\\r\\n");
	scn_free(s);

	s = load_ok(STEPS("{\"data\": {\"generate\": 65536}, \"recv\": {\"code\": 250}}"));
	ck_assert_uint_eq(s->steps[0].data_generate, 65536);
	ck_assert_uint_eq(s->steps[0].nsends, 0);
	ck_assert_uint_eq(s->steps[0].nexpects, 1);
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_pipeline_and_lockstep)
{
	scn_scenario *s;

	/* a pipelined group names one reply per command, in order */
	s = load_ok(STEPS("{\"send\": [\"MAIL FROM:<${from}>\", \"RCPT TO:<${rcpt}>\", \"DATA\"],"
	    " \"pipeline\": true, \"recv\": [{\"code\": 250}, {\"code\": [250, 251]}, 354]}"));
	ck_assert_int_eq(s->steps[0].pipeline, 1);
	ck_assert_uint_eq(s->steps[0].nsends, 3);
	ck_assert_uint_eq(s->steps[0].nexpects, 3);
	ck_assert_int_eq(s->steps[0].expects[2].codes[0], 354);
	scn_free(s);

	s = load_ok(STEPS("{\"send\": \"NOOP\", \"pipeline\": true, \"recv\": 250},"
	    " {\"send\": [\"NOOP\", \"NOOP\"], \"pipeline\": false, \"recv\": 250}"));
	ck_assert_int_eq(s->steps[0].pipeline, 1);
	ck_assert_int_eq(s->steps[1].pipeline, 0);
	scn_free(s);

	/* lock-step: N lines take no expectation, one for all, or N */
	s = load_ok(STEPS("{\"send\": [\"NOOP\", \"RSET\", \"NOOP\"]},"
	    " {\"send\": [\"NOOP\", \"RSET\", \"NOOP\"], \"recv\": {\"code\": 250}},"
	    " {\"send\": [\"NOOP\", \"RSET\", \"NOOP\"], \"recv\": [250, 250, {\"class\": 2}]}"));
	ck_assert_uint_eq(s->steps[0].nsends, 3);
	ck_assert_uint_eq(s->steps[0].nexpects, 0);
	ck_assert_uint_eq(s->steps[1].nexpects, 1);
	ck_assert_uint_eq(s->steps[2].nexpects, 3);
	ck_assert_int_eq(s->steps[2].expects[2].classes[0], 2);
	scn_free(s);

	/* raw pieces and data take any number of replies */
	s = load_ok(STEPS("{\"raw\": \"NOOP\\\\r\\\\nNOOP\\\\r\\\\n\", \"recv\": [250, 250]},"
	    " {\"recv\": [250, 250, 250]}"));
	ck_assert_uint_eq(s->steps[0].nexpects, 2);
	ck_assert_uint_eq(s->steps[1].nexpects, 3);
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_capture_scope)
{
	scn_scenario *s;

	/* usable from the next step on, in every kind of template */
	s = load_ok(STEPS("{\"send\": \"EHLO x\", \"recv\": {\"capture\": {\"var\": \"tok\", \"regex\": \"(.*)\"}}},"
	    " {\"send\": \"X ${tok}\", \"recv\": [250]}, {\"raw\": \"${tok}\\\\r\\\\n\"},"
	    " {\"data\": {\"lines\": [\"${tok}\"]}}"));
	ck_assert_str_eq(s->steps[1].sends[0], "X ${tok}");
	scn_free(s);

	/* a declared variable may share its name with a built-in */
	s = load_ok(HEAD "\"vars\": {\"rcpt\": \"a@b.test\"}, \"steps\": [{\"send\": \"RCPT TO:<${rcpt}>\"}]}");
	ck_assert_str_eq(s->vars[0].name, "rcpt");
	scn_free(s);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

typedef struct err_case {
	const char *text;
	const char *want;
} err_case;

#define EXP "$.steps[0].recv"
static const err_case err_cases[] = {
	/* not JSON, at the byte cJSON stopped at */
	{ "{\"id\": \"t.x\",\n \"summary\": ,\n}",
	  "t.json:2:13: expected valid JSON, got \",\"" },
	{ HEAD "\"steps\": [",
	  "t.json:2:11: expected valid JSON, got the end of the file" },
	{ STEPS("{\"recv\": 25"),
	  "t.json:2:22: expected valid JSON, got \"]}\"" },
	{ HEAD "\"steps\": [{\"recv\": 25",
	  "t.json:2:22: expected valid JSON, got the end of the file" },
	{ "",
	  "t.json:1:1: expected valid JSON, got the end of the file" },
	{ STEPS("{\"recv\": 220}") "\n\n  }",
	  "t.json:4:3: expected the end of the file after the scenario object, got more" },
	{ "[]",
	  "t.json:1:1: $: expected a scenario object, got an array" },
	/* keys */
	{ HEAD "\"stpes\": []}",
	  "t.json:2:10: $.stpes: unknown key \"stpes\" (expected one of \"id\", \"summary\", \"refs\", "
	  "\"role\", \"requires\", \"vars\", \"credentials\", \"timeout_ms\", \"deadline_ms\", "
	  "\"refuse_ok\", \"oracle\", \"check\", \"comment\", \"steps\")" },
	{ STEPS("{\"recv\": 220, \"re cv\": 1}"),
	  "t.json:2:34: $.steps[0][\"re cv\"]: unknown key \"re cv\" (expected one of \"send\", \"raw\", "
	  "\"pipeline\", \"pause_ms\", \"data\", \"recv\", \"closed\", \"drop\", \"delay_ms\", "
	  "\"timeout_ms\", \"quiet_ms\", \"check\", \"starttls\", \"comment\")" },
	{ STEPS("{\"recv\": 220, \"recv\": 250}"),	/* the first of the two is named */
	  "t.json:2:20: $.steps[0].recv: key \"recv\" appears twice in one object" },
	{ "{\"summary\": \"s\", \"refs\": [\"RFC 1\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:1: $: expected a member \"id\"" },
	{ "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [\"RFC 1\"]}",
	  "t.json:1:1: $: expected a member \"steps\"" },
	/* top level */
	{ "{\"id\": \"Bad Id\", \"summary\": \"s\", \"refs\": [\"RFC 1\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:8: $.id: expected an id of lower-case letters, digits, '.', '-' and '_' "
	  "(at most 128 bytes), such as \"session.noop\", got \"Bad Id\"" },
	{ "{\"id\": \"t.x\", \"summary\": 5, \"refs\": [\"RFC 1\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:26: $.summary: expected a one-line summary (a non-empty string), got 5" },
	{ "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [\"RFC 1\", \"RFC5321\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:49: $.refs[1]: expected a catalog id or a reference such as \"RFC 5321 \xc2\xa7"
	  "4.1.1\", got \"RFC5321\"" },
	{ "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [\"rfc5321.no-such-row\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:40: $.refs[0]: expected a catalog id (see `smtp-harness catalog`), got "
	  "\"rfc5321.no-such-row\", which the catalog does not hold" },
	{ "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:39: $.refs: expected a non-empty array of catalog ids and \"RFC N \xc2\xa7x.y\" "
	  "strings, got an array" },
	{ HEAD "\"role\": \"server\", \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:38: $.steps[0].recv: unknown key \"recv\" (expected one of \"greet\", \"expect\", "
	  "\"closed\", \"drop\", \"when\", \"reply\", \"raw_reply\", \"content\", \"delay_ms\", "
	  "\"drip_ms\", \"timeout_ms\", \"optional\", \"repeat\", \"check\", \"starttls\", \"comment\")" },
	{ HEAD "\"role\": \"peer\", \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:9: $.role: expected \"client\" or \"server\", got \"peer\"" },
	{ HEAD "\"steps\": []}",
	  "t.json:2:10: $.steps: expected a non-empty array of steps, got an array" },
	{ HEAD "\"requires\": [], \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:13: $.requires: expected an EHLO keyword such as \"PIPELINING\" (or "
	  "\"!KEYWORD\", \"KEYWORD PARAM\"), or an array of them, got an array" },
	{ HEAD "\"vars\": {\"1x\": \"v\"}, \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:16: $.vars.1x: expected a variable name ([A-Za-z_][A-Za-z0-9_]*, under 64 bytes), "
	  "got \"1x\"" },
	{ HEAD "\"vars\": {\"v\": 1}, \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:15: $.vars.v: expected a string of at most 1024 bytes, got 1" },
	{ HEAD "\"deadline_ms\": 0, \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:16: $.deadline_ms: expected an integer 1-3600000, got 0" },
	{ HEAD "\"check\": \"rfc5321.nope\", \"steps\": [{\"recv\": 220}]}",
	  "t.json:2:10: $.check: expected a catalog id (see `smtp-harness catalog`), got "
	  "\"rfc5321.nope\", which the catalog does not hold" },
	/* steps */
	{ STEPS("{\"comment\": \"x\"}"),
	  "t.json:2:11: $.steps[0]: expected a step that does something: one of \"send\", \"raw\", "
	  "\"data\", \"recv\", \"closed\", \"drop\", \"delay_ms\", \"quiet_ms\"" },
	{ STEPS("{\"send\": \"NOOP\", \"raw\": \"NOOP\"}"),
	  "t.json:2:11: $.steps[0]: expected at most one of \"send\", \"raw\", \"data\" in a step" },
	{ STEPS("{\"recv\": 220, \"check\": \"rfc5321.nope\"}"),
	  "t.json:2:34: $.steps[0].check: expected a catalog id (see `smtp-harness catalog`), got "
	  "\"rfc5321.nope\", which the catalog does not hold" },
	{ STEPS("{\"recv\": 220, \"timeout_ms\": 0}"),
	  "t.json:2:39: $.steps[0].timeout_ms: expected an integer 1-3600000, got 0" },
	{ STEPS("{\"recv\": 220, \"pause_ms\": 5}"),
	  "t.json:2:37: $.steps[0].pause_ms: \"pause_ms\" only applies to \"raw\"" },
	{ STEPS("{\"send\": \"NOOP\\r\\n\"}"),
	  "t.json:2:20: $.steps[0].send: expected one command line without CR or LF (the harness "
	  "appends CRLF; use \"raw\" for line ends of your own), got 6 bytes with a line end" },
	{ STEPS("{\"send\": [\"NOOP\", 5]}"),
	  "t.json:2:29: $.steps[0].send[1]: expected a string, got 5" },
	{ STEPS("{\"raw\": \"AB\\\\q\"}"),
	  "t.json:2:19: $.steps[0].raw: expected a string with valid escapes: bad escape \\q at offset 2" },
	{ STEPS("{\"raw\": [\"ok\", \"\\\\x4\"]}"),
	  "t.json:2:26: $.steps[0].raw[1]: expected a string with valid escapes: bad escape \\x at "
	  "offset 0 (two hex digits needed)" },
	{ STEPS("{\"send\": \"MAIL FROM:<${sender}>\"}"),
	  "t.json:2:20: $.steps[0].send: unknown variable \"sender\" (built-in: helo, from, rcpt, "
	  "rcpt2, bad_rcpt, domain, target_host, target_port; declare others in \"vars\" or capture "
	  "them in an earlier step)" },
	{ STEPS("{\"send\": \"X ${tok}\", \"recv\": {\"capture\": {\"var\": \"tok\", \"regex\": \"(.*)\"}}}"),
	  "t.json:2:20: $.steps[0].send: unknown variable \"tok\" (built-in: helo, from, rcpt, "
	  "rcpt2, bad_rcpt, domain, target_host, target_port; declare others in \"vars\" or capture "
	  "them in an earlier step)" },
	{ STEPS("{\"send\": \"X ${a-b}\"}"),
	  "t.json:2:20: $.steps[0].send: expected a variable name in \"${...}\" at offset 2, got \"a-b\"" },
	{ STEPS("{\"send\": \"X ${helo\"}"),
	  "t.json:2:20: $.steps[0].send: expected \"}\" to close \"${\" at offset 2" },
	{ STEPS("{\"send\": \"X${repeat:a:1000001}\"}"),
	  "t.json:2:20: $.steps[0].send: expected a count 0-1000000 in ${repeat:TEXT:N} at offset 1, "
	  "got \"1000001\"" },
	{ STEPS("{\"send\": \"X${repeat:a}\"}"),
	  "t.json:2:20: $.steps[0].send: expected ${repeat:TEXT:N} at offset 1" },
	{ STEPS("{\"send\": \"${repeat:0123456789:1000000}${repeat:0123456789:1000000}"
	    "${repeat:0123456789:1000000}${repeat:0123456789:1000000}\"}"),
	  "t.json:2:20: $.steps[0].send: expected a template of at most 33554432 bytes once expanded, "
	  "got more with ${repeat:TEXT:N} at offset 84" },
	{ STEPS("{\"send\": [\"MAIL FROM:<a@b>\", \"RCPT TO:<c@d>\"], \"pipeline\": true, \"recv\": {\"code\": 250}}"),
	  "t.json:2:84: $.steps[0].recv: expected 2 reply expectations for the pipelined group, one "
	  "per command in order, got 1" },
	{ STEPS("{\"send\": [\"MAIL FROM:<a@b>\", \"RCPT TO:<c@d>\"], \"pipeline\": true}"),
	  "t.json:2:20: $.steps[0].send: expected 2 reply expectations for the pipelined group, one "
	  "per command in order, got 0" },
	{ STEPS("{\"send\": [\"NOOP\", \"NOOP\", \"NOOP\"], \"recv\": [250, 250]}"),
	  "t.json:2:54: $.steps[0].recv: expected 3 reply expectations, one per line of \"send\" "
	  "(or a single one for all), got 2" },
	{ STEPS("{\"raw\": \"x\", \"pipeline\": true}"),
	  "t.json:2:36: $.steps[0].pipeline: \"pipeline\" only applies to \"send\"" },
	{ STEPS("{\"send\": \"x\", \"pipeline\": 1}"),
	  "t.json:2:37: $.steps[0].pipeline: expected true or false, got 1" },
	{ STEPS("{\"drop\": \"close\"}, {\"recv\": 250}"),
	  "t.json:2:30: $.steps[1]: expected no step after the step that drops the connection: it "
	  "would never run" },
	{ STEPS("{\"closed\": 100}, {\"recv\": 250}"),
	  "t.json:2:28: $.steps[1]: expected no step after the step that expects the connection "
	  "closed: it would never run" },
	{ STEPS("{\"closed\": false}"),
	  "t.json:2:22: $.steps[0].closed: expected true, a time in ms, or {\"within_ms\": N, "
	  "\"check\": ID}, got false" },
	{ STEPS("{\"closed\": {\"within\": 5}}"),
	  "t.json:2:33: $.steps[0].closed.within: unknown key \"within\" (expected one of "
	  "\"within_ms\", \"check\", \"comment\")" },
	{ STEPS("{\"closed\": true, \"drop\": \"reset\"}"),
	  "t.json:2:11: $.steps[0]: expected \"closed\" or \"drop\", not both" },
	{ STEPS("{\"drop\": \"fin\"}"),
	  "t.json:2:20: $.steps[0].drop: expected \"close\" or \"reset\", got \"fin\"" },
	{ STEPS("{\"data\": {\"lines\": [], \"raw\": \"x\"}}"),
	  "t.json:2:20: $.steps[0].data: expected exactly one of \"lines\", \"raw\", \"generate\", got 2" },
	{ STEPS("{\"data\": {\"generate\": 0}}"),
	  "t.json:2:33: $.steps[0].data.generate: expected an integer 1-33554432, got 0" },
	{ STEPS("{\"data\": {\"lines\": \"x\"}}"),
	  "t.json:2:30: $.steps[0].data.lines: expected an array of message lines (strings without "
	  "CR or LF), got \"x\"" },
	{ STEPS("{\"recv\": 220, \"comment\": 5}"),
	  "t.json:2:36: $.steps[0].comment: expected a string, got 5" },
	{ STEPS("{\"data\": {\"generate\": 5, \"comment\": []}}"),
	  "t.json:2:47: $.steps[0].data.comment: expected a string, got an array" },
	{ STEPS("{\"closed\": {\"comment\": true}}"),
	  "t.json:2:34: $.steps[0].closed.comment: expected a string, got true" },
	/* expectations */
	{ STEPS("{\"recv\": {\"comment\": null}}"),
	  "t.json:2:32: " EXP ".comment: expected a string, got null" },
	{ STEPS("{\"recv\": {\"capture\": {\"var\": \"v\", \"regex\": \"(a)\", \"comment\": 1}}}"),
	  "t.json:2:72: " EXP ".capture.comment: expected a string, got 1" },
	{ STEPS("{\"recv\": []}"),
	  "t.json:2:20: " EXP ": expected a reply expectation or a non-empty array of them, got an array" },
	{ STEPS("{\"recv\": \"250\"}"),
	  "t.json:2:20: " EXP ": expected a reply expectation: an object such as {\"code\": 250}, or "
	  "a reply code, got \"250\"" },
	{ STEPS("{\"recv\": {\"code\": 600}}"),
	  "t.json:2:29: " EXP ".code: expected an integer 200-599, got 600" },
	{ STEPS("{\"recv\": {\"code\": [250, 2.5]}}"),
	  "t.json:2:35: " EXP ".code[1]: expected an integer 200-599, got 2.5" },
	{ STEPS("{\"recv\": {\"code\": []}}"),
	  "t.json:2:29: " EXP ".code: expected an integer 200-599 or a non-empty array of them, got an array" },
	{ STEPS("{\"recv\": 1e300}"),	/* no undefined conversion on the way */
	  "t.json:2:20: " EXP ": expected an integer 200-599, got 1.0000000000000001e+300" },
	{ STEPS("{\"recv\": {\"class\": 6}}"),
	  "t.json:2:30: " EXP ".class: expected an integer 2-5, got 6" },
	{ STEPS("{\"recv\": {\"esc\": \"3.1\"}}"),
	  "t.json:2:28: " EXP ".esc: expected an enhanced status code or prefix such as \"5.5\" or "
	  "\"2.1.0\" (RFC 3463), got \"3.1\"" },
	{ STEPS("{\"recv\": {\"esc\": \"2.1234\"}}"),
	  "t.json:2:28: " EXP ".esc: expected an enhanced status code or prefix such as \"5.5\" or "
	  "\"2.1.0\" (RFC 3463), got \"2.1234\"" },
	{ STEPS("{\"recv\": {\"text\": \"a(b\"}}"),
	  "t.json:2:29: " EXP ".text: expected a POSIX extended regular expression, got \"a(b\": "
	  "Unmatched ( or \\(" },
	{ STEPS("{\"recv\": {\"text\": \"(a+)+\\\\1\"}}"),
	  "t.json:2:29: " EXP ".text: expected a regular expression without back-references, "
	  "got \\1 at offset 5" },
	{ STEPS("{\"recv\": {\"text\": \"(a{100}){101}\"}}"),
	  "t.json:2:29: " EXP ".text: expected repetition bounds whose product is at most 10000, got more" },
	{ STEPS("{\"recv\": {\"text\": \"(a{,200}){,200}\"}}"),
	  "t.json:2:29: " EXP ".text: expected repetition bounds whose product is at most 10000, got more" },
	{ STEPS("{\"recv\": {\"text\": \"a{99999999999999999999999}\"}}"),
	  "t.json:2:29: " EXP ".text: expected repetition bounds whose product is at most 10000, got more" },
	{ STEPS("{\"recv\": {\"text\": \"(a?){171}\"}}"),	/* 3 atoms, 171 times */
	  "t.json:2:29: " EXP ".text: expected a regular expression of at most 512 atoms once its "
	  "repetitions are expanded, got more" },
	{ STEPS("{\"recv\": {\"text\": \"x(a+){,130}\"}}"),	/* a+ is a a*: 1 + 4 * 130 */
	  "t.json:2:29: " EXP ".text: expected a regular expression of at most 512 atoms once its "
	  "repetitions are expanded, got more" },
	{ STEPS("{\"recv\": {\"text\": \"a{10000}\"}}"),
	  "t.json:2:29: " EXP ".text: expected a regular expression of at most 512 atoms once its "
	  "repetitions are expanded, got more" },
	{ STEPS("{\"recv\": {\"keyword\": [\"PIPE LINING\"]}}"),
	  "t.json:2:33: " EXP ".keyword[0]: expected an EHLO keyword (letters, digits and '-'), "
	  "got \"PIPE LINING\"" },
	{ STEPS("{\"recv\": {\"no_keyword\": 5}}"),
	  "t.json:2:35: " EXP ".no_keyword: expected an EHLO keyword such as \"PIPELINING\", or an "
	  "array of them, got 5" },
	{ STEPS("{\"recv\": {\"severity\": \"must not\"}}"),
	  "t.json:2:33: " EXP ".severity: expected \"must\", \"should\" or \"may\", got \"must not\"" },
	{ STEPS("{\"recv\": {\"check\": \"rfc9999.x\"}}"),
	  "t.json:2:30: " EXP ".check: expected a catalog id (see `smtp-harness catalog`), got "
	  "\"rfc9999.x\", which the catalog does not hold" },
	{ STEPS("{\"recv\": {\"capture\": {\"var\": \"rcpt\", \"regex\": \"(.*)\"}}}"),
	  "t.json:2:40: " EXP ".capture.var: expected a variable name of your own, got the built-in \"rcpt\"" },
	{ STEPS("{\"recv\": {\"capture\": {\"var\": \"v\", \"regex\": \"abc\"}}}"),
	  "t.json:2:54: " EXP ".capture.regex: expected a regular expression with a (group) to "
	  "capture, got none" },
	{ STEPS("{\"recv\": {\"capture\": {\"regex\": \"(a)\"}}}"),
	  "t.json:2:32: " EXP ".capture: expected a member \"var\", got nothing" },
	{ STEPS("{\"recv\": {\"capture\": {\"var\": \"v\"}}}"),
	  "t.json:2:32: " EXP ".capture: expected a member \"regex\", got nothing" },
	{ STEPS("{\"recv\": {\"code\": 250, \"text_for\": 250}}"),
	  "t.json:2:46: " EXP ".text_for: expected \"text\" beside \"text_for\" (the codes whose "
	  "text it judges)" },
	{ STEPS("{\"recv\": {\"text\": \"x\", \"text_for\": [250, 600]}}"),
	  "t.json:2:52: " EXP ".text_for[1]: expected an integer 200-599, got 600" },
	{ STEPS("{\"recv\": {\"codes\": 250}}"),
	  "t.json:2:30: " EXP ".codes: unknown key \"codes\" (expected one of \"code\", \"class\", "
	  "\"esc\", \"text\", \"text_for\", \"keyword\", \"no_keyword\", \"capture\", \"check\", "
	  "\"severity\", \"otherwise\", \"comment\")" },
	{ STEPS("{\"recv\": {\"otherwise\": \"fail\"}}"),
	  "t.json:2:34: " EXP ".otherwise: expected \"skip\" or \"error\", got \"fail\"" },
	/* a byte order mark counts as three bytes of line 1 */
	{ "\xef\xbb\xbf{\"id\": \"t.x\", \"summary\": \"\", \"refs\": [\"RFC 1\"], \"steps\": [{\"recv\": 220}]}",
	  "t.json:1:29: $.summary: expected a one-line summary (a non-empty string), got \"\"" },
};

START_TEST(test_scenario_errors)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		if (load_err(err_cases[i].text, strlen(err_cases[i].text), err_cases[i].want)) {
			fprintf(stderr, "  (case %zu)\n", i);
			bad++;
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* ---- starttls --------------------------------------------------------------- */

START_TEST(test_scenario_starttls)
{
	scn_scenario *s;

	/* Bare: the command is STARTTLS and the reply must be 220. */
	s = load_ok(STEPS("{\"recv\": 220}, {\"starttls\": true, \"timeout_ms\": 700}"));
	ck_assert_int_eq(s->steps[1].starttls, 1);
	ck_assert_int_eq(s->steps[1].send_kind, SCN_SEND_LINES);
	ck_assert_uint_eq(s->steps[1].nsends, 1);
	ck_assert_str_eq(s->steps[1].sends[0], "STARTTLS");
	ck_assert_uint_eq(s->steps[1].nexpects, 1);
	ck_assert_uint_eq(s->steps[1].expects[0].ncodes, 1);
	ck_assert_int_eq(s->steps[1].expects[0].codes[0], 220);
	ck_assert_str_eq(s->steps[1].expects[0].where.path, "$.steps[1].starttls");
	ck_assert_uint_eq(s->steps[1].timeout_ms, 700);
	ck_assert_ptr_null(s->steps[1].sni);
	scn_free(s);

	/* Raw bytes, a server name from a variable, an own expectation and
	 * silence after the handshake. */
	s = load_ok(HEAD "\"vars\": {\"name\": \"mx.test\"}, \"steps\": ["
	    "{\"starttls\": {\"raw\": \"STARTTLS\\\\r\\\\nNOOP\\\\r\\\\n\", \"sni\": \"${name}\", "
	    "\"comment\": \"c\"}, \"recv\": {\"class\": [2, 5]}, \"quiet_ms\": 300, "
	    "\"check\": \"rfc3207.6.cve-2011-0411-server\"}]}");
	ck_assert_int_eq(s->steps[0].send_kind, SCN_SEND_RAW);
	ck_assert_str_eq(s->steps[0].sends[0], "STARTTLS\\r\\nNOOP\\r\\n");
	ck_assert_str_eq(s->steps[0].sni, "${name}");
	ck_assert_uint_eq(s->steps[0].expects[0].nclasses, 2);
	ck_assert_str_eq(s->steps[0].expects[0].check, "rfc3207.6.cve-2011-0411-server");
	ck_assert_uint_eq(s->steps[0].quiet_ms, 300);
	scn_free(s);
}
END_TEST

static const err_case tls_err_cases[] = {
	{ STEPS("{\"starttls\": false}"),
	  "t.json:2:24: $.steps[0].starttls: expected true or an object {\"raw\": BYTES, \"sni\": "
	  "NAME}, got false" },
	{ STEPS("{\"starttls\": {\"sni\": 5}}"),
	  "t.json:2:32: $.steps[0].starttls.sni: expected a string, got 5" },
	{ STEPS("{\"starttls\": {\"sni\": \"${nope}\"}}"),
	  "t.json:2:32: $.steps[0].starttls.sni: unknown variable \"nope\" (built-in: helo, from, "
	  "rcpt, rcpt2, bad_rcpt, domain, target_host, target_port; declare others in \"vars\" or "
	  "capture them in an earlier step)" },
	{ STEPS("{\"starttls\": {\"raw\": \"\\\\q\"}}"),
	  "t.json:2:32: $.steps[0].starttls.raw: expected a string with valid escapes: bad escape "
	  "\\q at offset 0" },
	{ STEPS("{\"starttls\": {\"send\": \"X\"}}"),
	  "t.json:2:33: $.steps[0].starttls.send: unknown key \"send\" (expected one of \"raw\", "
	  "\"sni\", \"comment\")" },
	{ STEPS("{\"starttls\": true, \"send\": \"STARTTLS\"}"),
	  "t.json:2:11: $.steps[0]: expected no \"send\", \"raw\", \"data\", \"pipeline\", "
	  "\"pause_ms\", \"closed\" or \"drop\" beside \"starttls\" (it sends its own command; use "
	  "\"starttls\": {\"raw\": ...} for other bytes)" },
	{ STEPS("{\"starttls\": true, \"drop\": \"close\"}"),
	  "t.json:2:11: $.steps[0]: expected no \"send\", \"raw\", \"data\", \"pipeline\", "
	  "\"pause_ms\", \"closed\" or \"drop\" beside \"starttls\" (it sends its own command; use "
	  "\"starttls\": {\"raw\": ...} for other bytes)" },
	{ STEPS("{\"starttls\": true, \"recv\": [220, 220]}"),
	  "t.json:2:38: $.steps[0].recv: expected one reply expectation for \"starttls\" (the reply "
	  "to STARTTLS), got 2" },
	{ STEPS("{\"starttls\": true}, {\"send\": \"EHLO x\"}, {\"starttls\": true}"),
	  "t.json:2:64: $.steps[2].starttls: expected one \"starttls\" step per scenario, got a "
	  "second (the first is step 1)" },
};

START_TEST(test_scenario_starttls_errors)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(tls_err_cases) / sizeof(tls_err_cases[0]); i++) {
		if (load_err(tls_err_cases[i].text, strlen(tls_err_cases[i].text),
		    tls_err_cases[i].want)) {
			fprintf(stderr, "  (starttls case %zu)\n", i);
			bad++;
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_scenario_errors_binary_and_size)
{
	char *big;
	vbuf t = VBUF_INIT;

	/* a NUL byte after the object is trailing garbage */
	ck_assert_int_eq(load_err(STEPS("{\"recv\": 220}") "\0",
	    sizeof(STEPS("{\"recv\": 220}") "\0") - 1,
	    "t.json:2:26: expected the end of the file after the scenario object, got more"), 0);

	/* too big, before any parsing */
	big = xmalloc(HARNESS_SCENARIO_FILE_MAX + 1);
	memset(big, ' ', HARNESS_SCENARIO_FILE_MAX + 1);
	ck_assert_int_eq(load_err(big, HARNESS_SCENARIO_FILE_MAX + 1,
	    "t.json:1:1: $: expected a scenario file of at most 4194304 bytes, got 4194305"), 0);
	xfree(big);

	/* long strings are cut in "got ..." and control bytes shown as \xHH */
	vbuf_printf(&t, "%s", STEPS("{\"drop\": \"\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001"
	    "\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\"}"));
	ck_assert_int_eq(load_err(t.data, t.len,
	    "t.json:2:20: $.steps[0].drop: expected \"close\" or \"reset\", got "
	    "\"\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01...\""), 0);
	vbuf_free(&t);
}
END_TEST

/* Regular expressions: the expanded size of each, and of all together. */
START_TEST(test_scenario_regex_budget)
{
	vbuf t = VBUF_INIT;
	scn_scenario *s;

	/* at the bounds: 170 copies of "(a?)", a bracket expression counted once */
	s = load_ok(STEPS("{\"recv\": {\"text\": \"(a?){170}\"}},"
	    " {\"recv\": {\"text\": \"[]a{[:alpha:]]{1,512}\"}},"
	    " {\"recv\": {\"text\": \"x{,511}\"}},"
	    " {\"recv\": {\"capture\": {\"var\": \"v\", \"regex\": \"^([0-9]{1,3}(\\\\.[0-9]{1,3}){3})$\"}}}"));
	ck_assert(re_match(&s->steps[1].expects[0].text_re, "]"));
	ck_assert(re_match(&s->steps[3].expects[0].capture_re, "192.0.2.1"));
	scn_free(s);

	/* sixteen expressions of 512 atoms fit a scenario; the seventeenth not */
	vbuf_append_str(&t, HEAD "\"steps\": [");
	for (int i = 0; i < 16; i++)
		vbuf_append_str(&t, "{\"recv\": {\"text\": \"a{512}\"}},\n");
	vbuf_append_str(&t, "{\"recv\": {\"text\": \"a{512}\"}}]}");
	ck_assert_int_eq(load_err(t.data, t.len, "t.json:18:19: $.steps[16].recv.text: expected "
	    "regular expressions that fit the scenario's budget (the squares of their expanded sizes "
	    "add up to at most 4194304), got more"), 0);
	vbuf_free(&t);

	/* many small ones are fine */
	vbuf_append_str(&t, HEAD "\"steps\": [{\"recv\": {\"text\": \"^250\"}}");
	for (int i = 0; i < 5000; i++)
		vbuf_append_str(&t, ", {\"recv\": {\"text\": \"^[a-z.]+ [0-9]{3}\"}}");
	vbuf_append_str(&t, "]}");
	s = load_ok(t.data);
	ck_assert_uint_eq(s->nsteps, 5001);
	scn_free(s);
	vbuf_free(&t);
}
END_TEST

/* Long arrays load in linear time (they once took minutes). */
START_TEST(test_scenario_long_arrays)
{
	vbuf t = VBUF_INIT;
	char err[512];
	scn_scenario *s;

	vbuf_append_str(&t, HEAD "\"requires\": [");
	for (int i = 0; i < 200000; i++)
		vbuf_append_str(&t, i ? ", \"A\"" : "\"A\"");
	vbuf_append_str(&t, "], \"steps\": [{\"recv\": {\"code\": [");
	for (int i = 0; i < 200000; i++)
		vbuf_append_str(&t, i ? ", 250" : "250");
	vbuf_append_str(&t, "]}}]}");
	ck_assert_int_eq(scn_load_buffer("t.json", t.data, t.len, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->nrequires, 200000);
	ck_assert_uint_eq(s->steps[0].expects[0].ncodes, 200000);
	scn_free(s);
	vbuf_free(&t);
}
END_TEST

/* ---- files and directories ------------------------------------------------- */

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	xfree(p);
}

static void
remove_file(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);

	ck_assert_int_eq(remove(p), 0);
	xfree(p);
}

#define ONE(id) "{\"id\": \"" id "\", \"summary\": \"s\", \"refs\": [\"RFC 1\"], \"steps\": [{\"recv\": 220}]}\n"

START_TEST(test_scenario_load_path)
{
	char dir[] = "/tmp/test_scenario.XXXXXX";
	char err[1024];
	char *want, *sub;
	scn_list list = { 0 };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	sub = xasprintf("%s/a", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);

	/* an empty directory is an error */
	ck_assert_int_eq(scn_load_path(dir, &list, err, sizeof(err)), -1);
	want = xasprintf("%s: no scenario files (*.json) in this directory", dir);
	ck_assert_str_eq(err, want);
	xfree(want);
	ck_assert_uint_eq(list.n, 0);

	write_file(dir, "b.json", ONE("s.b"));
	write_file(dir, "a/z.json", ONE("s.az"));
	write_file(dir, "a/c.json", ONE("s.ac"));
	write_file(dir, "a-b.json", ONE("s.a-b"));
	write_file(dir, "scenario.schema.json", "{\"$schema\": \"not a scenario\"}");
	write_file(dir, "notes.txt", "not json");
	write_file(dir, ".hidden.json", "not json");

	/* sorted by path ('-' sorts before '/'), the schema and others skipped;
	 * a trailing slash is fine */
	{
		char *slash = xasprintf("%s/", dir);

		ck_assert_int_eq(scn_load_path(slash, &list, err, sizeof(err)), 0);
		xfree(slash);
	}
	ck_assert_uint_eq(list.n, 4);
	ck_assert_str_eq(list.items[0]->id, "s.a-b");
	ck_assert_str_eq(list.items[1]->id, "s.ac");
	ck_assert_str_eq(list.items[2]->id, "s.az");
	ck_assert_str_eq(list.items[3]->id, "s.b");
	want = xasprintf("%s/a/c.json", dir);
	ck_assert_str_eq(list.items[1]->file, want);
	xfree(want);
	scn_list_free(&list);
	ck_assert_uint_eq(list.n, 0);

	/* one file */
	want = xasprintf("%s/b.json", dir);
	ck_assert_int_eq(scn_load_path(want, &list, err, sizeof(err)), 0);
	ck_assert_uint_eq(list.n, 1);
	/* ... and the same again: a duplicate id names both files */
	ck_assert_int_eq(scn_load_path(want, &list, err, sizeof(err)), -1);
	{
		char *msg = xasprintf("%s:1:8: $.id: expected an id not used before, got \"s.b\", "
		    "already the id of %s:1:8", want, want);

		ck_assert_str_eq(err, msg);
		xfree(msg);
	}
	xfree(want);
	scn_list_free(&list);

	/* duplicate ids in one directory */
	write_file(dir, "a/d.json", "\n\n   " ONE("s.ac"));
	ck_assert_int_eq(scn_load_path(dir, &list, err, sizeof(err)), -1);
	want = xasprintf("%s/a/d.json:3:11: $.id: expected an id not used before, got \"s.ac\", "
	    "already the id of %s/a/c.json:1:8", dir, dir);
	ck_assert_str_eq(err, want);
	xfree(want);
	scn_list_free(&list);
	remove_file(dir, "a/d.json");

	/* the first bad file stops the load, with its own name */
	write_file(dir, "a/bad.json", "{\"id\": 1}");
	ck_assert_int_eq(scn_load_path(dir, &list, err, sizeof(err)), -1);
	want = xasprintf("%s/a/bad.json:1:8: $.id: expected an id of lower-case letters, digits, "
	    "'.', '-' and '_' (at most 128 bytes), such as \"session.noop\", got 1", dir);
	ck_assert_str_eq(err, want);
	xfree(want);
	ck_assert_uint_eq(list.n, 1);	/* what loaded before stays in the list */
	scn_list_free(&list);
	remove_file(dir, "a/bad.json");

	/* a path that does not exist */
	want = xasprintf("%s/nope", dir);
	ck_assert_int_eq(scn_load_path(want, &list, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nope: No such file or directory"));
	xfree(want);

	remove_file(dir, "b.json");
	remove_file(dir, "a/z.json");
	remove_file(dir, "a/c.json");
	remove_file(dir, "a-b.json");
	remove_file(dir, "scenario.schema.json");
	remove_file(dir, "notes.txt");
	remove_file(dir, ".hidden.json");
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	xfree(sub);
}
END_TEST

START_TEST(test_scenario_shipped)
{
	scn_list list = { 0 };
	char err[1024] = "";

	ck_assert_msg(scn_load_path(HARNESS_SOURCE_DIR "/scenarios", &list, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_uint_ge(list.n, 30);
	for (size_t i = 0; i < list.n; i++) {
		const scn_scenario *s = list.items[i];

		ck_assert(s->id != NULL && s->id[0] != '\0');
		ck_assert(s->summary != NULL && s->summary[0] != '\0');
		ck_assert_uint_ge(s->nrefs, 1);
		if (s->role == SCN_ROLE_SERVER)
			ck_assert(s->server != NULL && s->server->nsessions >= 1);
		else if (s->role == SCN_ROLE_RELAY)
			ck_assert(s->relay != NULL && s->relay->nexpects >= 1 && s->relay->nhosts >= 1);
		else
			ck_assert_uint_ge(s->nsteps, 1);
		if (i > 0)
			ck_assert_int_lt(strcmp(list.items[i - 1]->file, s->file), 0);
		/* every check a scenario resolves to is in the catalog */
		for (size_t j = 0; j < s->nsteps; j++)
			for (size_t k = 0; k < s->steps[j].nexpects; k++)
				if (s->steps[j].expects[k].check)
					ck_assert_ptr_nonnull(chk_catalog_find(s->steps[j].expects[k].check));
	}
	scn_list_free(&list);
}
END_TEST

/* ---- templates at run time ---------------------------------------------------- */

/* ${base64:NAME}, ${sasl_plain:USER:PASS}, and credentials masked in the
 * copy a transcript shows, byte for byte as long as what is sent. */
START_TEST(test_scenario_expand_credentials)
{
	scn_vars v = { 0 };
	vbuf out = VBUF_INIT, shown = VBUF_INIT;
	char *secrets[] = { "user", "pass" };
	char err[256];

	scn_vars_set(&v, "user", "alice");
	scn_vars_set(&v, "pass", "pw");
	scn_vars_set(&v, "other", "ab");
	/* RFC 4648 test vectors, and RFC 4616's NUL-separated response */
	ck_assert_int_eq(scn_expand("${base64:other}|${base64:user}", &v, &out, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(vbuf_str(&out), "YWI=|YWxpY2U=");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("AUTH PLAIN ${sasl_plain:user:pass}", &v, &out, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(vbuf_str(&out), "AUTH PLAIN AGFsaWNlAHB3");
	vbuf_reset(&out);

	ck_assert_int_eq(scn_expand_masked("AUTH PLAIN ${sasl_plain:user:other} ${other} ${pass}",
	    &v, secrets, 2, &out, &shown, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.len, shown.len);
	ck_assert_str_eq(vbuf_str(&shown), "AUTH PLAIN ************ ab **");
	vbuf_reset(&out);
	vbuf_reset(&shown);
	ck_assert_int_eq(scn_expand_masked("${base64:other}", &v, secrets, 2, &out, &shown, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(vbuf_str(&shown), "YWI=");
	vbuf_reset(&out);

	ck_assert_int_eq(scn_expand("${base64:nope}", &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown variable \"nope\"");
	vbuf_free(&out);
	vbuf_free(&shown);
	scn_vars_free(&v);
}
END_TEST

#define LOAD_ERR(text, want) load_err((text), strlen(text), (want))

START_TEST(test_scenario_credentials_load)
{
	scn_scenario *s = load_ok("{\"id\":\"a\",\"summary\":\"s\",\"refs\":[\"RFC 4954 §4\"],"
	    "\"vars\":{\"u\":\"\",\"p\":\"\"},\"credentials\":[\"u\",\"p\"],"
	    "\"steps\":[{\"send\":\"AUTH PLAIN ${sasl_plain:u:p}\",\"recv\":235},"
	    "{\"send\":\"${base64:u}\"}]}");

	ck_assert_uint_eq(s->ncredentials, 2);
	ck_assert_str_eq(s->credentials[1], "p");
	scn_free(s);
	ck_assert_int_eq(LOAD_ERR("{\"id\":\"a\",\"summary\":\"s\",\"refs\":[\"RFC 4954 §4\"],"
	    "\"credentials\":[\"helo\"],\"steps\":[{\"send\":\"NOOP\"}]}",
	    "t.json:1:64: $.credentials[0]: expected the name of a variable declared in "
	    "\"vars\", got \"helo\""), 0);
	ck_assert_int_eq(LOAD_ERR("{\"id\":\"a\",\"summary\":\"s\",\"refs\":[\"RFC 4954 §4\"],"
	    "\"steps\":[{\"send\":\"AUTH PLAIN ${sasl_plain:helo}\"}]}",
	    "t.json:1:66: $.steps[0].send: expected ${sasl_plain:USER:PASS} (two variable names) "
	    "at offset 11"), 0);
	ck_assert_int_eq(LOAD_ERR("{\"id\":\"a\",\"summary\":\"s\",\"refs\":[\"RFC 4954 §4\"],"
	    "\"steps\":[{\"send\":\"${base64:pw}\"}]}",
	    "t.json:1:66: $.steps[0].send: unknown variable \"pw\" in ${base64:...} at offset 0 "
	    "(declare it in \"vars\")"), 0);
}
END_TEST

START_TEST(test_scenario_expand)
{
	scn_vars v = { 0 };
	vbuf out = VBUF_INIT;
	char err[256];

	scn_vars_set(&v, "helo", "h.test");
	scn_vars_set(&v, "rcpt", "a@b.test");
	scn_vars_set(&v, "rcpt", "c@d.test");	/* replaces */
	scn_vars_set(&v, "empty", "");
	ck_assert_uint_eq(v.n, 3);
	ck_assert_str_eq(scn_vars_get(&v, "rcpt"), "c@d.test");
	ck_assert_ptr_null(scn_vars_get(&v, "from"));

	ck_assert_int_eq(scn_expand("EHLO ${helo}", &v, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(vbuf_str(&out), "EHLO h.test");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("<${rcpt}>${empty}|${repeat:ab:3}|${repeat::9}|${repeat:x:0}$ {x} $",
	    &v, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(vbuf_str(&out), "<c@d.test>|ababab||$ {x} $");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("", &v, &out, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(out.data);
	ck_assert_uint_eq(out.len, 0);
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("${repeat:y:998}", &v, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.len, 998);
	vbuf_reset(&out);

	ck_assert_int_eq(scn_expand("MAIL FROM:<${from}>", &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown variable \"from\"");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("x ${helo", &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unterminated \"${\" in template");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("${repeat:a:1000001}", &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "malformed count in ${repeat:TEXT:N}");
	vbuf_reset(&out);
	ck_assert_int_eq(scn_expand("${repeat:abc}", &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "malformed ${repeat:TEXT:N}");
	vbuf_reset(&out);
	/* the expansion is bounded even where the loader was not asked */
	ck_assert_int_eq(scn_expand("${repeat:0123456789abcdef0123456789abcdef0123456789:1000000}",
	    &v, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "template expands to more than 33554432 bytes");
	ck_assert_uint_eq(out.len, 0);
	vbuf_free(&out);

	ck_assert_int_eq(scn_var_builtin("target_port"), 1);
	ck_assert_int_eq(scn_var_builtin("rcpt2"), 1);
	ck_assert_int_eq(scn_var_builtin("tok"), 0);
	scn_vars_free(&v);
	ck_assert_uint_eq(v.n, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("scenario");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scenario_full_fields);
	tcase_add_test(tc, test_scenario_defaults);
	tcase_add_test(tc, test_scenario_requires_refused);
	tcase_add_test(tc, test_scenario_verdict_resolution);
	tcase_add_test(tc, test_scenario_closed_and_drop);
	tcase_add_test(tc, test_scenario_data_forms);
	tcase_add_test(tc, test_scenario_pipeline_and_lockstep);
	tcase_add_test(tc, test_scenario_capture_scope);
	tcase_add_test(tc, test_scenario_errors);
	tcase_add_test(tc, test_scenario_errors_binary_and_size);
	tcase_add_test(tc, test_scenario_regex_budget);
	tcase_add_test(tc, test_scenario_long_arrays);
	tcase_add_test(tc, test_scenario_load_path);
	tcase_add_test(tc, test_scenario_shipped);
	tcase_add_test(tc, test_scenario_expand);
	tcase_add_test(tc, test_scenario_expand_credentials);
	tcase_add_test(tc, test_scenario_credentials_load);
	tcase_add_test(tc, test_scenario_starttls);
	tcase_add_test(tc, test_scenario_starttls_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
