/*
 * test_report_html - the HTML report on runs built by hand: one ladder
 * per transcript with an arrow per data segment, finding numbers on the
 * segment their evidence names, peer bytes escaped, the diagram bound,
 * failing scenarios first, and a page XML tools can parse.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "captures/transcript.h"
#include "harness/check/catalog.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/report.h"
#include "reports/result.h"

#define T0 1700000000000000ULL

static void
sin_set(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

/* Segments: 0 open, 1 greeting, 2 EHLO, 3 EHLO reply, 4 RSET, 5 a reply
 * with markup and control bytes, 6 FIN from the server. */
static cap_transcript *
hostile_transcript(void)
{
	struct sockaddr_in c, s;
	cap_transcript *t;
	static const char bad[] = "354 <script>alert(1)</script>\x00\x01\x1b[2J&\"'\r\n";

	sin_set(&c, "127.0.0.1", 40000);
	sin_set(&s, "127.0.0.1", 2525);
	t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, T0);
	cap_transcript_add_data(t, CAP_S2C, T0 + 1000, "220 mx.test ESMTP\r\n", 19);
	cap_transcript_add_data(t, CAP_C2S, T0 + 2000, "EHLO x\r\n", 8);
	cap_transcript_add_data(t, CAP_S2C, T0 + 3000, "250-mx.test\r\n250 PIPELINING\r\n", 29);
	cap_transcript_add_data(t, CAP_C2S, T0 + 4000, "RSET\r\n", 6);
	cap_transcript_add_data(t, CAP_S2C, T0 + 5500, bad, sizeof(bad) - 1);
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, T0 + 6000);
	return t;
}

/* run order: 1 PASS (transcript), 2 FAIL (hostile, two findings),
 * 3 SKIP (none), 4 server role FAIL with a client's output,
 * 5 PASS with more segments than a diagram draws. */
static rpt_run *
sample_run(void)
{
	rpt_run *run = rpt_run_new("127.0.0.1:2525");
	rpt_scenario *sc;
	rpt_evidence ev;
	rpt_client *cl;

	run->started_us = T0;
	run->catalog = chk_catalog_describe;

	sc = rpt_scenario_new("greeting.code-220", "greets", "g.json");
	sc->transcript = hostile_transcript();
	rpt_scenario_exercised(sc, "rfc5321.3.1.greeting", RPT_PASS);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("session.rset<b>", "RSET <i>clears</i>", "r.json");
	sc->transcript = hostile_transcript();
	rpt_evidence_segment(&ev, sc->transcript, 5);
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.5.rset", "RFC 5321 §4.1.1.5", RPT_FAIL, 3,
	    &ev, "expected 250, got \"354 <script>\x01\"");
	rpt_evidence_clear(&ev);
	rpt_evidence_segment(&ev, sc->transcript, 6);
	rpt_scenario_add_finding(sc, "rfc5321.3.8.close-only-when-allowed", NULL, RPT_FAIL, 0, &ev,
	    "closed before QUIT");
	rpt_evidence_clear(&ev);
	rpt_scenario_exercised(sc, "rfc5321.4.1.1.5.rset", RPT_FAIL);
	rpt_scenario_exercised(sc, "rfc5321.3.1.greeting", RPT_PASS);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("pipelining.order", NULL, NULL);
	rpt_scenario_set(sc, RPT_SKIP, "target lacks %s", "PIPELINING");
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("client.greet-421", "client quits on 421", "c.json");
	sc->transcript = hostile_transcript();
	cl = rpt_scenario_client(sc);
	cl->cmd = xstrdup("swaks --server 127.0.0.1:1 <x>");
	cl->exited = 1;
	cl->exit_status = 7;
	cl->out = xstrdup("line one\n<img src=x>\x07\n");
	cl->out_len = strlen(cl->out);
	cl->err = xmalloc(4);
	memcpy(cl->err, "a\0b", 4);
	cl->err_len = 3;
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.10.quit-221-close", NULL, RPT_FAIL, 2, NULL,
	    "the client did not QUIT");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("limits.many", NULL, NULL);
	sc->transcript = cap_transcript_new(NULL, NULL);
	for (int i = 0; i < HARNESS_HTML_ARROWS_MAX + 25; i++)
		cap_transcript_add_data(sc->transcript, i % 2 ? CAP_S2C : CAP_C2S, T0 + (uint64_t)i,
		    "NOOP\r\n", 6);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	return run;
}

static size_t
count(const char *h, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(h, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The part of h from the scenario whose anchor is id to the next one. */
static char *
section(const char *h, const char *id)
{
	char anchor[64];
	const char *a, *e;

	snprintf(anchor, sizeof(anchor), "id=\"%s\"", id);
	a = strstr(h, anchor);
	ck_assert_msg(a != NULL, "no %s", anchor);
	e = strstr(a, "</details>");
	ck_assert_ptr_nonnull(e);
	return xstrndup(a, (size_t)(e - a));
}

START_TEST(test_report_html_ladders)
{
	rpt_run *run = sample_run();
	char *h = rpt_html_string(run), *s;

	/* One diagram per scenario with a transcript; the SKIP has none. */
	ck_assert_uint_eq(count(h, "<svg class=\"ladder\""), 4);
	ck_assert_uint_eq(count(h, "</svg>"), 4);
	s = section(h, "s1");
	ck_assert_uint_eq(count(s, "<g class=\"arrow "), 5);
	ck_assert_uint_eq(count(s, "<g class=\"arrow c2s"), 2);
	ck_assert_uint_eq(count(s, "<g class=\"event open"), 1);
	ck_assert_uint_eq(count(s, "<g class=\"event fin s2c"), 1);
	ck_assert_uint_eq(count(s, "<g class=\"mark"), 0);
	ck_assert_ptr_nonnull(strstr(s, ">+5.500 ms</text>"));
	ck_assert_ptr_nonnull(strstr(s, ">250-mx.test (+1 line)</text>"));
	xfree(s);
	s = section(h, "s3");
	ck_assert_ptr_null(strstr(s, "<svg"));
	xfree(s);
	/* The bound: HARNESS_HTML_ARROWS_MAX arrows, and what was left out. */
	s = section(h, "s5");
	ck_assert_uint_eq(count(s, "<g class=\"arrow "), HARNESS_HTML_ARROWS_MAX);
	ck_assert_ptr_nonnull(strstr(s, ">25 more segments not drawn"));
	xfree(s);
	xfree(h);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_report_html_marks_on_evidence)
{
	rpt_run *run = sample_run();
	char *h = rpt_html_string(run), *s = section(h, "s2");
	const char *a5 = strstr(s, "<g class=\"arrow s2c flagged\" data-seg=\"5\">");
	const char *e6 = strstr(s, "<g class=\"event fin s2c flagged\" data-seg=\"6\">");
	const char *m1 = strstr(s, "<g class=\"mark FAIL\" data-finding=\"1\">");
	const char *m2 = strstr(s, "<g class=\"mark FAIL\" data-finding=\"2\">");

	ck_assert_ptr_nonnull(a5);
	ck_assert_ptr_nonnull(e6);
	ck_assert_ptr_nonnull(m1);
	ck_assert_ptr_nonnull(m2);
	/* Finding 1 is drawn on segment 5's row, finding 2 on the FIN's. */
	ck_assert(a5 < m1 && m1 < e6 && e6 < m2);
	ck_assert_uint_eq(count(s, " flagged\""), 2);
	ck_assert_uint_eq(count(s, "<g class=\"mark"), 2);
	/* The tooltip names the finding; the list numbers it the same. */
	ck_assert_ptr_nonnull(strstr(m1, "<title>1. FAIL rfc5321.4.1.1.5.rset: expected 250"));
	ck_assert_ptr_nonnull(strstr(s, "<li id=\"s2-f1\" class=\"finding FAIL\"><span class=\"num FAIL\">1<"));
	ck_assert_ptr_nonnull(strstr(s, "evidence: segment 5 offset 0 (S2C): "));
	xfree(s);
	xfree(h);
	rpt_run_free(run);
}
END_TEST

/* A finding on a later connection is marked in that connection's ladder,
 * not on the same segment number of the first. */
START_TEST(test_report_html_marks_on_connection)
{
	rpt_run *run = rpt_run_new("a client");
	rpt_scenario *sc = rpt_scenario_new("client.x", "s", "x.json");
	rpt_evidence ev;
	char *h, *second;

	sc->transcript = cap_transcript_new(NULL, NULL);
	cap_transcript_add_data(sc->transcript, CAP_S2C, 1, "220 a\r\n", 7);
	sc->nmore = 1;
	sc->more = xcalloc(1, sizeof(*sc->more));
	sc->more[0] = cap_transcript_new(NULL, NULL);
	cap_transcript_add_data(sc->more[0], CAP_S2C, 2, "421 no\r\n", 8);
	rpt_evidence_segment(&ev, sc->more[0], 0);
	ev.conn = 1;
	rpt_scenario_add_finding(sc, "client.x", NULL, RPT_FAIL, 0, &ev, "%s", "came back");
	rpt_evidence_clear(&ev);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	h = rpt_html_string(run);
	second = strstr(h, "connection 2 of 2");
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_nonnull(strstr(h, "connection 1 of 2"));
	ck_assert_ptr_nonnull(strstr(second, "class=\"mark"));
	*second = '\0';
	ck_assert_ptr_null(strstr(h, "class=\"mark"));
	free(h);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_report_html_escapes_peer_bytes)
{
	rpt_run *run = sample_run();
	char *h = rpt_html_string(run);

	ck_assert_ptr_null(strstr(h, "<script"));
	ck_assert_ptr_null(strstr(h, "<img"));
	ck_assert_ptr_null(strstr(h, "<b>"));
	ck_assert_ptr_null(strstr(h, "<i>"));
	ck_assert_ptr_nonnull(strstr(h, "354 &lt;script&gt;alert(1)&lt;/script&gt;\\x00\\x01\\x1b[2J"
	    "&amp;&quot;&#39;"));
	ck_assert_ptr_nonnull(strstr(h, "session.rset&lt;b&gt;"));
	ck_assert_ptr_nonnull(strstr(h, "&lt;img src=x&gt;\\x07"));
	ck_assert_ptr_nonnull(strstr(h, "a\\x00b"));
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		ck_assert_msg(*p >= 0x20 || *p == '\n', "raw byte 0x%02x at %td", *p,
		    (const char *)p - h);
	xfree(h);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_report_html_summary_profile_order)
{
	rpt_run *run = sample_run();
	char *h = rpt_html_string(run);
	const char *prof = strstr(h, "<table id=\"profile-table\">");

	ck_assert_ptr_nonnull(strstr(h, "<section id=\"summary\">"));
	/* 5 scenarios: 2 passed, 2 failed, 0 known, 0 errors, 1 skipped. */
	ck_assert_ptr_nonnull(strstr(h, "<td class=\"n\">5</td><td class=\"n pass\">2</td>"
	    "<td class=\"n fail\">2</td><td class=\"n\">0</td><td class=\"n error\">0</td>"
	    "<td class=\"n skip\">1</td>"));
	ck_assert_ptr_nonnull(strstr(h, "<tr><td>session</td><td class=\"n\">0</td>"
	    "<td class=\"n\">1</td>"));
	ck_assert_ptr_nonnull(strstr(h, "<tr><td>client</td>"));
	ck_assert_ptr_nonnull(strstr(h, "<tr><td>pipelining</td><td class=\"n\">0</td>"
	    "<td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">0</td>"
	    "<td class=\"n\">1</td></tr>"));
	/* A FAIL the baseline accepts counts as known, not failed, as in the
	 * counts above. */
	run->scenarios[3]->known = 1;
	xfree(h);
	h = rpt_html_string(run);
	ck_assert_ptr_nonnull(strstr(h, "<tr><td>client</td><td class=\"n\">0</td>"
	    "<td class=\"n\">0</td><td class=\"n\">1</td>"));
	ck_assert_ptr_nonnull(strstr(h, "<span class=\"v KNOWN\">KNOWN</span>"));
	prof = strstr(h, "<table id=\"profile-table\">");
	/* The profile: each id once, the worst verdict, keyword and section
	 * from the catalog. */
	ck_assert_ptr_nonnull(prof);
	ck_assert_uint_eq(count(prof, "rfc5321.3.1.greeting</td>"), 1);
	ck_assert_ptr_nonnull(strstr(prof, "rfc5321.4.1.1.5.rset</td><td><span class=\"v FAIL\">FAIL"
	    "</span></td><td>MUST"));
	ck_assert_ptr_nonnull(strstr(prof, "RFC 5321 §4.1.1.5</td><td class=\"n\">1</td>"));
	ck_assert_ptr_nonnull(strstr(prof, "rfc5321.3.1.greeting</td><td><span class=\"v PASS\">"
	    "PASS</span></td><td>MUST"));
	/* Failing first, then SKIP, then PASS, each group in run order. */
	ck_assert(strstr(h, "id=\"s2\"") < strstr(h, "id=\"s4\""));
	ck_assert(strstr(h, "id=\"s4\"") < strstr(h, "id=\"s3\""));
	ck_assert(strstr(h, "id=\"s3\"") < strstr(h, "id=\"s1\""));
	ck_assert(strstr(h, "id=\"s1\"") < strstr(h, "id=\"s5\""));
	/* Server role: the client's exit status. */
	ck_assert_ptr_nonnull(strstr(h, "(exit status 7)"));
	xfree(h);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_report_html_write_wellformed)
{
	rpt_run *run = sample_run();
	char dir[] = "/tmp/test_report_html.XXXXXX";
	char path[256], cmd[512], err[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.html", dir);
	ck_assert_int_eq(rpt_format_known("html"), 1);
	ck_assert_int_eq(rpt_write(run, "html", path, err, sizeof(err)), 0);
	/* The page is well-formed XML as well as HTML: xmllint can say so. */
	if (access("/usr/bin/xmllint", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "/usr/bin/xmllint --noout '%s'", path);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/no/such/r.html", dir);
	ck_assert_int_eq(rpt_write(run, "html", path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(rmdir(dir), 0);
	rpt_run_free(run);
}
END_TEST

static Suite *
report_html_suite(void)
{
	Suite *s = suite_create("report_html");
	TCase *tc = tcase_create("render");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_report_html_ladders);
	tcase_add_test(tc, test_report_html_marks_on_evidence);
	tcase_add_test(tc, test_report_html_escapes_peer_bytes);
	tcase_add_test(tc, test_report_html_marks_on_connection);
	tcase_add_test(tc, test_report_html_summary_profile_order);
	tcase_add_test(tc, test_report_html_write_wellformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(report_html_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
