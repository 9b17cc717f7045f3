/*
 * test_reports - the result model and the text, JSON and JUnit renderers,
 * on runs built by hand with transcripts that hold hostile bytes.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "captures/transcript.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/report.h"
#include "reports/result.h"

#define T0 1700000000000000ULL	/* 2023-11-14T22:13:20Z */

static void
sin_set(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

/* A session where the server misbehaves: its reply to RSET carries NUL and
 * 0x01 bytes, then it closes. Segments: 0 open, 1 greeting, 2 EHLO,
 * 3 EHLO reply, 4 RSET, 5 bad reply, 6 FIN from server. */
static cap_transcript *
hostile_transcript(void)
{
	struct sockaddr_in c, s;
	cap_transcript *t;
	static const char bad[] = "354 \x00\x01go<&>\"]]>\r\n";

	sin_set(&c, "127.0.0.1", 40000);
	sin_set(&s, "127.0.0.1", 2525);
	t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, T0), 0);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, T0 + 1000, "220 mx.test ESMTP\r\n", 19), 1);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, T0 + 2000, "EHLO x\r\n", 8), 2);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, T0 + 3000,
	    "250-mx.test\r\n250 PIPELINING\r\n", 29), 3);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, T0 + 4000, "RSET\r\n", 6), 4);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, T0 + 5000, bad, sizeof(bad) - 1), 5);
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_FIN, CAP_S2C, T0 + 6000), 6);
	return t;
}

/* PASS with a warning, FAIL with evidence, SKIP, ERROR. */
static rpt_run *
sample_run(void)
{
	rpt_run *run = rpt_run_new("127.0.0.1:2525");
	rpt_scenario *sc;
	rpt_evidence ev;

	run->started_us = T0;
	run->duration_ms = 1234;

	sc = rpt_scenario_new("greeting.220", "Server greets with 220", "scenarios/greeting.json");
	sc->duration_ms = 12;
	rpt_scenario_add_ref(sc, "RFC 5321 §3.1");
	rpt_scenario_exercised(sc, "rfc5321.3.1.greeting", RPT_PASS);
	rpt_scenario_add_finding(sc, "rfc5321.4.2.4.500-vs-502", "RFC 5321 §4.2.4", RPT_WARN, 2,
	    NULL, "expected %d, got %d", 500, 502);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("rset.clears", "RSET clears the transaction", "scenarios/rset.json");
	sc->duration_ms = 40;
	sc->transcript = hostile_transcript();
	sc->capture_path = xstrdup("/tmp/caps/rset.clears.pcap");
	rpt_evidence_at(&ev, sc->transcript, CAP_S2C, 48, 11);
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.5.rset", "RFC 5321 §4.1.1.5", RPT_FAIL, 3,
	    &ev, "expected 250, got %s", "354");
	rpt_evidence_clear(&ev);
	rpt_evidence_segment(&ev, sc->transcript, 6);
	rpt_scenario_add_finding(sc, "rfc5321.4.1.1.10.quit", NULL, RPT_FAIL, 0, &ev,
	    "closed before QUIT");
	rpt_evidence_clear(&ev);
	rpt_scenario_exercised(sc, "rfc5321.4.1.1.5.rset", RPT_FAIL);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("pipelining.order", NULL, "scenarios/pipe.json");
	rpt_scenario_set(sc, RPT_SKIP, "target lacks %s", "PIPELINING");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	sc = rpt_scenario_new("dns.mx", "MX fallback", NULL);
	sc->duration_ms = 1500;
	rpt_scenario_set(sc, RPT_ERROR, "connect: %s", "refused");
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	return run;
}

/* Runs fn into a memory stream and returns what it wrote. */
static char *
capture_line(const rpt_scenario *sc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	rpt_text_scenario_line(fp, sc);
	fclose(fp);
	return buf;
}

static char *
capture_summary(const rpt_run *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	rpt_text_summary(fp, run);
	fclose(fp);
	return buf;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

START_TEST(test_reports_exercised_worst_wins)
{
	rpt_scenario *sc = rpt_scenario_new("a.b", NULL, NULL);

	rpt_scenario_exercised(sc, "x", RPT_PASS);
	rpt_scenario_exercised(sc, "x", RPT_INFO);
	rpt_scenario_exercised(sc, "y", RPT_WARN);
	rpt_scenario_exercised(sc, "x", RPT_FAIL);
	rpt_scenario_exercised(sc, "x", RPT_WARN);
	rpt_scenario_exercised(sc, "y", RPT_PASS);
	ck_assert_uint_eq(sc->nexercised, 2);
	ck_assert_str_eq(sc->exercised[0].check, "x");
	ck_assert_int_eq(sc->exercised[0].verdict, RPT_FAIL);
	ck_assert_str_eq(sc->exercised[1].check, "y");
	ck_assert_int_eq(sc->exercised[1].verdict, RPT_WARN);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_reports_settle)
{
	rpt_scenario *sc = rpt_scenario_new("a.b", NULL, NULL);

	rpt_scenario_add_finding(sc, "w", NULL, RPT_WARN, 1, NULL, "warn");
	rpt_scenario_add_finding(sc, "i", NULL, RPT_INFO, 1, NULL, "info");
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_PASS);

	rpt_scenario_set(sc, RPT_SKIP, "lacks %s", "STARTTLS");
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_SKIP);
	ck_assert_str_eq(sc->reason, "lacks STARTTLS");

	/* A failure seen before the skip still counts. */
	rpt_scenario_add_finding(sc, "f", NULL, RPT_FAIL, 2, NULL, "expected %d, got %d", 250, 500);
	ck_assert_str_eq(sc->findings[2].message, "expected 250, got 500");
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_FAIL);

	rpt_scenario_set(sc, RPT_ERROR, "timeout");
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_ERROR);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_reports_escape_and_sanitize)
{
	char *s;

	s = rpt_escape("a\\b\r\n\t\x00\x01\x7f\xff~", 11);
	ck_assert_str_eq(s, "a\\\\b\\r\\n\\t\\x00\\x01\\x7f\\xff~");
	xfree(s);
	s = rpt_escape(NULL, 0);
	ck_assert_str_eq(s, "");
	xfree(s);

	s = rpt_sanitize("ok \xc2\xa7 \x1b[31m \xff \xef\xbf\xbe end\n");
	ck_assert_str_eq(s, "ok \xc2\xa7 \\x1b[31m \\xff \\xef\\xbf\\xbe end\\x0a");
	xfree(s);
	ck_assert_ptr_null(rpt_sanitize(NULL));
	ck_assert_str_eq(rpt_verdict_str(RPT_ERROR), "ERROR");
	ck_assert_str_eq(rpt_verdict_str(RPT_INFO), "INFO");
}
END_TEST

START_TEST(test_reports_evidence)
{
	cap_transcript *t = hostile_transcript();
	rpt_evidence ev;
	char big[HARNESS_EVIDENCE_MAX * 2];

	/* S2C stream: greeting (19) + EHLO reply (29) = 48, so 48 is the
	 * start of segment 5; 52 is its NUL byte. */
	rpt_evidence_at(&ev, t, CAP_S2C, 52, 4);
	ck_assert_int_eq(ev.present, 1);
	ck_assert_uint_eq(ev.seg, 5);
	ck_assert_uint_eq(ev.off, 4);
	ck_assert_int_eq(ev.dir, CAP_S2C);
	ck_assert_str_eq(ev.excerpt, "\\x00\\x01go");
	rpt_evidence_clear(&ev);
	ck_assert_ptr_null(ev.excerpt);

	/* A length past the stream stops at its end. */
	rpt_evidence_at(&ev, t, CAP_C2S, 8, 1000);
	ck_assert_int_eq(ev.present, 1);
	ck_assert_uint_eq(ev.seg, 4);
	ck_assert_uint_eq(ev.off, 0);
	ck_assert_str_eq(ev.excerpt, "RSET\\r\\n");
	rpt_evidence_clear(&ev);

	rpt_evidence_at(&ev, t, CAP_C2S, 1000, 4);
	ck_assert_int_eq(ev.present, 0);
	ck_assert_ptr_null(ev.excerpt);

	rpt_evidence_segment(&ev, t, 6);
	ck_assert_int_eq(ev.present, 1);
	ck_assert_uint_eq(ev.seg, 6);
	ck_assert_int_eq(ev.dir, CAP_S2C);
	ck_assert_ptr_nonnull(strstr(ev.excerpt, "fin"));
	rpt_evidence_clear(&ev);
	rpt_evidence_segment(&ev, t, 99);
	ck_assert_int_eq(ev.present, 0);

	/* The excerpt never quotes more than HARNESS_EVIDENCE_MAX bytes. */
	memset(big, 'A', sizeof(big));
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, T0 + 7000, big, sizeof(big)), 7);
	rpt_evidence_at(&ev, t, CAP_C2S, 14, sizeof(big));
	ck_assert_uint_eq(ev.seg, 7);
	ck_assert_uint_eq(strlen(ev.excerpt), HARNESS_EVIDENCE_MAX);
	rpt_evidence_clear(&ev);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_reports_summary_counts)
{
	rpt_run *run = sample_run();
	rpt_summary s = rpt_run_summary(run);

	ck_assert_uint_eq(s.pass, 1);
	ck_assert_uint_eq(s.fail, 1);
	ck_assert_uint_eq(s.skip, 1);
	ck_assert_uint_eq(s.error, 1);
	ck_assert_uint_eq(s.warnings, 1);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_reports_text_lines)
{
	rpt_run *run = sample_run();
	char *l;

	l = capture_line(run->scenarios[0]);
	ck_assert_str_eq(l, "PASS  greeting.220  (12 ms)  [1 warning]\n");
	free(l);
	l = capture_line(run->scenarios[1]);
	ck_assert_str_eq(l, "FAIL  rset.clears  (40 ms)  rfc5321.4.1.1.5.rset: expected 250, got 354\n");
	free(l);
	l = capture_line(run->scenarios[2]);
	ck_assert_str_eq(l, "SKIP  pipelining.order  (0 ms)  target lacks PIPELINING\n");
	free(l);
	l = capture_line(run->scenarios[3]);
	ck_assert_str_eq(l, "ERROR  dns.mx  (1500 ms)  connect: refused\n");
	free(l);

	/* Peer bytes in a message never reach the terminal raw. */
	rpt_scenario_add_finding(run->scenarios[0], "c", NULL, RPT_WARN, 1, NULL, "got \x1b[2J");
	l = capture_line(run->scenarios[0]);
	ck_assert_str_eq(l, "PASS  greeting.220  (12 ms)  [2 warnings]\n");
	free(l);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_reports_text_summary)
{
	rpt_run *run = sample_run();
	char *s = capture_summary(run);
	const char *last;
	size_t n = strlen(s);

	ck_assert_ptr_nonnull(strstr(s,
	    "\n4 scenarios: 1 passed, 1 failed, 1 error, 1 skipped, 1 warning\n"));
	ck_assert_int_eq(s[0], '\n');
	ck_assert_ptr_nonnull(strstr(s, "\nFAIL rset.clears (scenarios/rset.json)\n"
	    "  rfc5321.4.1.1.5.rset [RFC 5321 §4.1.1.5] step 3: expected 250, got 354\n"
	    "    evidence: segment 5 offset 0 (S2C): 354 \\x00\\x01go<&>\n"
	    "  rfc5321.4.1.1.10.quit passive: closed before QUIT\n"
	    "    evidence: segment 6 offset 0 (S2C): "));
	ck_assert_ptr_nonnull(strstr(s, "\nERROR dns.mx\n  connect: refused\n"));
	ck_assert_ptr_null(strstr(s, "PASS greeting"));
	ck_assert_ptr_null(strstr(s, "pipelining.order ("));
	ck_assert_ptr_nonnull(strstr(s, "\nWarnings:\n  greeting.220:\n"
	    "    rfc5321.4.2.4.500-vs-502 [RFC 5321 §4.2.4] step 2: expected 500, got 502\n"));
	/* The closing line, alone, last; ERROR counts as failed. */
	ck_assert_int_eq(s[n - 1], '\n');
	s[n - 1] = '\0';
	last = strrchr(s, '\n');
	ck_assert_ptr_nonnull(last);
	ck_assert_str_eq(last + 1, "1 passed, 2 failed, 1 skipped");
	free(s);
	rpt_run_free(run);
}
END_TEST

/* Server role: a failing scenario's block says how the client ended and
 * shows the end of what it wrote. */
START_TEST(test_reports_text_summary_client)
{
	rpt_run *run = rpt_run_new("swaks");
	rpt_scenario *sc = rpt_scenario_new("client.x", "s", "scenarios/clients/x.json");
	rpt_client *cl = rpt_scenario_client(sc);
	static const char out[] = "line 1\nline 2\nline 3\nline 4\n\n";
	static const char err[] = "bad\x01thing\n";
	char *s;

	rpt_scenario_set(sc, RPT_FAIL, "%s", "the client did wrong");
	cl->cmd = xstrdup("swaks --server '127.0.0.1':'2'");
	cl->exited = 1;
	cl->exit_status = 26;
	cl->out = xmemdup(out, sizeof(out) - 1);
	cl->out_len = sizeof(out) - 1;
	cl->err = xmemdup(err, sizeof(err) - 1);
	cl->err_len = sizeof(err) - 1;
	rpt_run_add(run, sc);
	s = capture_summary(run);
	ck_assert_msg(strstr(s, "  client: swaks --server '127.0.0.1':'2' (exit status 26)\n"
	    "    client stderr:\n      bad\\x01thing\n"
	    "    client stdout (the end):\n      line 2\n      line 3\n      line 4\n") != NULL,
	    "got: %s", s);
	free(s);

	cl->exit_status = 0;
	cl->term_signal = 9;
	cl->killed = 1;
	cl->out_len = 0;
	s = capture_summary(run);
	ck_assert_msg(strstr(s, "(ended by signal 9, killed at the deadline)\n"
	    "    client stderr:\n") != NULL, "got: %s", s);
	ck_assert_ptr_null(strstr(s, "client stdout"));
	free(s);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_reports_text_summary_no_skips)
{
	rpt_run *run = rpt_run_new(NULL);
	rpt_scenario *sc = rpt_scenario_new("a.one", NULL, NULL);
	char *s;

	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);
	s = capture_summary(run);
	ck_assert_str_eq(s, "\n1 scenario: 1 passed, 0 failed, 0 errors, 0 skipped, 0 warnings\n"
	    "\n1 passed, 0 failed\n");
	free(s);
	rpt_run_free(run);
}
END_TEST

static cJSON *
field(const cJSON *o, const char *name)
{
	cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(f != NULL, "JSON field \"%s\" missing", name);
	return f;
}

static const char *
str_field(const cJSON *o, const char *name)
{
	cJSON *f = field(o, name);

	ck_assert_msg(cJSON_IsString(f), "JSON field \"%s\" is not a string", name);
	return f->valuestring;
}

static double
num_field(const cJSON *o, const char *name)
{
	cJSON *f = field(o, name);

	ck_assert_msg(cJSON_IsNumber(f), "JSON field \"%s\" is not a number", name);
	return f->valuedouble;
}

/* Server role: a finding on the second connection names it, in JSON and
 * in text, and the JSON report carries that connection's transcript. */
START_TEST(test_reports_second_connection)
{
	rpt_run *run = rpt_run_new("a client");
	rpt_scenario *sc = rpt_scenario_new("client.x", "s", "x.json");
	rpt_evidence ev;
	cJSON *root, *o, *f, *more;
	char *text;

	sc->transcript = cap_transcript_new(NULL, NULL);
	cap_transcript_add_data(sc->transcript, CAP_S2C, 1, "220 a\r\n", 7);
	sc->nmore = 1;
	sc->more = xcalloc(1, sizeof(*sc->more));
	sc->more[0] = cap_transcript_new(NULL, NULL);
	cap_transcript_add_data(sc->more[0], CAP_S2C, 2, "421 no\r\n", 8);
	cap_transcript_add_data(sc->more[0], CAP_C2S, 3, "QUIT\r\n", 6);
	rpt_evidence_at(&ev, sc->more[0], CAP_C2S, 0, 6);
	ev.conn = 1;
	rpt_scenario_add_finding(sc, "client.x", "RFC 5321 §4.2.5", RPT_FAIL, 0, &ev, "%s", "again");
	rpt_evidence_clear(&ev);
	ck_assert_ptr_eq(rpt_scenario_conn(sc, 1), sc->more[0]);
	ck_assert_ptr_null(rpt_scenario_conn(sc, 2));
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	text = rpt_json_string(run);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 0);
	f = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "findings"), 0), "evidence");
	ck_assert(cJSON_GetObjectItem(f, "connection")->valuedouble == 2);
	ck_assert(cJSON_GetObjectItem(f, "segment")->valuedouble == 1);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "excerpt")->valuestring, "QUIT\\r\\n");
	more = cJSON_GetObjectItem(o, "more_transcripts");
	ck_assert_int_eq(cJSON_GetArraySize(more), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(more, 0),
	    "segments")), 2);
	cJSON_Delete(root);
	free(text);

	text = capture_summary(run);
	ck_assert_msg(strstr(text, "    evidence: connection 2, segment 1 offset 0 (C2S): QUIT\\r\\n\n")
	    != NULL, "got: %s", text);
	free(text);
	rpt_run_free(run);
}
END_TEST

/* The delivery oracle: a finding names the copy too, in every format. */
START_TEST(test_reports_delivered)
{
	rpt_run *run = rpt_run_new("127.0.0.1:2525");
	rpt_scenario *sc = rpt_scenario_new("oracle.x", "s", "x.json");
	rpt_evidence ev;
	rpt_finding *f;
	cJSON *root, *dv;
	char *text;

	sc->transcript = cap_transcript_new(NULL, NULL);
	cap_transcript_add_data(sc->transcript, CAP_S2C, 1, "250 ok\r\n", 8);
	rpt_evidence_at(&ev, sc->transcript, CAP_S2C, 0, 8);
	f = rpt_scenario_add_finding(sc, "rfc5321.4.5.2.content-unchanged", "RFC 5321 §4.5.2",
	    RPT_FAIL, 0, &ev, "%s", "altered");
	rpt_evidence_clear(&ev);
	rpt_finding_delivered(f, "/m/new/\xff" "1", 17, "line\r\n\x01", 7);
	rpt_scenario_settle(sc);
	rpt_run_add(run, sc);

	text = rpt_json_string(run);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	dv = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(root, "scenarios"), 0), "findings"), 0), "delivered");
	ck_assert_ptr_nonnull(dv);
	ck_assert_str_eq(cJSON_GetObjectItem(dv, "file")->valuestring, "/m/new/\\xff1");
	ck_assert(cJSON_GetObjectItem(dv, "offset")->valuedouble == 17);
	ck_assert_str_eq(cJSON_GetObjectItem(dv, "excerpt")->valuestring, "line\\r\\n\\x01");
	cJSON_Delete(root);
	free(text);

	text = capture_summary(run);
	ck_assert_msg(strstr(text, "    delivered: /m/new/\\xff1 offset 17: line\\r\\n\\x01\n") != NULL,
	    "got: %s", text);
	free(text);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_reports_json_fields)
{
	rpt_run *run = sample_run();
	char *text = rpt_json_string(run);
	cJSON *root, *sum, *scs, *sc, *f, *ev, *tr, *segs, *seg;

	ck_assert_ptr_nonnull(text);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(str_field(root, "tool"), "smtp-harness");
	ck_assert(strlen(str_field(root, "version")) > 0);
	ck_assert_str_eq(str_field(root, "target"), "127.0.0.1:2525");
	ck_assert_str_eq(str_field(root, "started"), "2023-11-14T22:13:20.000Z");
	ck_assert(num_field(root, "duration_ms") == 1234);
	sum = field(root, "summary");
	ck_assert(num_field(sum, "pass") == 1);
	ck_assert(num_field(sum, "fail") == 1);
	ck_assert(num_field(sum, "error") == 1);
	ck_assert(num_field(sum, "skip") == 1);
	ck_assert(num_field(sum, "warnings") == 1);
	ck_assert(num_field(sum, "total") == 4);
	scs = field(root, "scenarios");
	ck_assert_int_eq(cJSON_GetArraySize(scs), 4);

	/* PASS: no transcript, a WARN finding without evidence. */
	sc = cJSON_GetArrayItem(scs, 0);
	ck_assert_str_eq(str_field(sc, "id"), "greeting.220");
	ck_assert_str_eq(str_field(sc, "summary"), "Server greets with 220");
	ck_assert_str_eq(str_field(sc, "file"), "scenarios/greeting.json");
	ck_assert_str_eq(str_field(sc, "verdict"), "PASS");
	ck_assert(cJSON_IsNull(field(sc, "reason")));
	ck_assert_str_eq(cJSON_GetArrayItem(field(sc, "refs"), 0)->valuestring, "RFC 5321 §3.1");
	ck_assert(num_field(sc, "duration_ms") == 12);
	ck_assert(cJSON_IsNull(field(sc, "capture")));
	ck_assert(cJSON_IsNull(field(sc, "transcript")));
	f = cJSON_GetArrayItem(field(sc, "findings"), 0);
	ck_assert_str_eq(str_field(f, "check"), "rfc5321.4.2.4.500-vs-502");
	ck_assert_str_eq(str_field(f, "verdict"), "WARN");
	ck_assert_str_eq(str_field(f, "refs"), "RFC 5321 §4.2.4");
	ck_assert(num_field(f, "step") == 2);
	ck_assert_str_eq(str_field(f, "message"), "expected 500, got 502");
	ck_assert(cJSON_IsNull(field(f, "evidence")));
	f = cJSON_GetArrayItem(field(sc, "checks"), 0);
	ck_assert_str_eq(str_field(f, "check"), "rfc5321.3.1.greeting");
	ck_assert_str_eq(str_field(f, "verdict"), "PASS");

	/* FAIL: evidence and the transcript. */
	sc = cJSON_GetArrayItem(scs, 1);
	ck_assert_str_eq(str_field(sc, "verdict"), "FAIL");
	ck_assert_str_eq(str_field(sc, "capture"), "/tmp/caps/rset.clears.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(field(sc, "refs")), 0);
	f = cJSON_GetArrayItem(field(sc, "findings"), 0);
	ck_assert_str_eq(str_field(f, "verdict"), "FAIL");
	ev = field(f, "evidence");
	ck_assert(num_field(ev, "segment") == 5);
	ck_assert(num_field(ev, "offset") == 0);
	ck_assert_str_eq(str_field(ev, "direction"), "S2C");
	ck_assert_str_eq(str_field(ev, "excerpt"), "354 \\x00\\x01go<&>");
	f = cJSON_GetArrayItem(field(sc, "findings"), 1);
	ck_assert(cJSON_IsNull(field(f, "refs")));
	ck_assert(num_field(f, "step") == 0);
	tr = field(sc, "transcript");
	ck_assert_str_eq(str_field(tr, "client"), "127.0.0.1:40000");
	ck_assert_str_eq(str_field(tr, "server"), "127.0.0.1:2525");
	segs = field(tr, "segments");
	ck_assert_int_eq(cJSON_GetArraySize(segs), 7);
	seg = cJSON_GetArrayItem(segs, 0);
	ck_assert(num_field(seg, "t_us") == 0);
	ck_assert_str_eq(str_field(seg, "kind"), "open");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(seg, "data"));
	seg = cJSON_GetArrayItem(segs, 5);
	ck_assert(num_field(seg, "t_us") == 5000);
	ck_assert_str_eq(str_field(seg, "dir"), "S2C");
	ck_assert_str_eq(str_field(seg, "kind"), "data");
	ck_assert(num_field(seg, "offset") == 48);
	ck_assert(num_field(seg, "length") == 17);
	ck_assert_str_eq(str_field(seg, "data"), "354 \\x00\\x01go<&>\"]]>\\r\\n");
	seg = cJSON_GetArrayItem(segs, 6);
	ck_assert_str_eq(str_field(seg, "kind"), "fin");
	ck_assert_str_eq(str_field(seg, "dir"), "S2C");

	sc = cJSON_GetArrayItem(scs, 2);
	ck_assert_str_eq(str_field(sc, "verdict"), "SKIP");
	ck_assert_str_eq(str_field(sc, "reason"), "target lacks PIPELINING");
	ck_assert(cJSON_IsNull(field(sc, "summary")));
	sc = cJSON_GetArrayItem(scs, 3);
	ck_assert_str_eq(str_field(sc, "verdict"), "ERROR");
	ck_assert(cJSON_IsNull(field(sc, "file")));

	cJSON_Delete(root);
	xfree(text);
	rpt_run_free(run);
}
END_TEST

/* A small well-formedness check: every tag closes in order, attribute
 * values are quoted, '&' starts an entity, no raw '<' in text, and no
 * byte XML 1.0 forbids. Returns NULL when fine, else what is wrong. */
static const char *
xml_check(const char *x)
{
	const char *stack[64];
	size_t depth = 0, namelen[64];
	const char *p = x;
	int roots = 0;

	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return "raw control byte";
	if (strncmp(x, "<?xml ", 6) != 0)
		return "no XML declaration";
	p = strstr(x, "?>");
	if (p == NULL)
		return "unterminated declaration";
	p += 2;
	while (*p) {
		if (*p == '&') {
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
			    strncmp(p, "&quot;", 6) && strncmp(p, "&apos;", 6))
				return "bad entity";
			p++;
			continue;
		}
		if (*p == '>')
			return "raw '>' in text";
		if (*p != '<') {
			if (depth == 0 && *p != '\n' && *p != ' ')
				return "text outside the root";
			p++;
			continue;
		}
		if (p[1] == '/') {
			const char *n = p + 2;
			size_t len = strcspn(n, ">");

			if (depth == 0)
				return "close without open";
			depth--;
			if (len != namelen[depth] || strncmp(n, stack[depth], len) != 0)
				return "mismatched close tag";
			p = n + len + 1;
			continue;
		} else {
			const char *n = p + 1;
			size_t len = strcspn(n, " />");
			const char *q = n + len;

			if (len == 0)
				return "empty tag name";
			/* attributes: name="value" with no '<' or raw '"' inside */
			for (;;) {
				while (*q == ' ')
					q++;
				if (*q == '>' || (q[0] == '/' && q[1] == '>'))
					break;
				q += strcspn(q, "=> ");
				if (*q != '=' || q[1] != '"')
					return "unquoted attribute";
				q += 2;
				while (*q && *q != '"') {
					if (*q == '<' || *q == '>')
						return "raw '<' or '>' in attribute";
					q++;
				}
				if (*q != '"')
					return "unterminated attribute";
				q++;
			}
			if (depth == 0 && roots++ > 0)
				return "two root elements";
			if (*q == '/') {
				p = q + 2;
			} else {
				if (depth == 64)
					return "too deep";
				stack[depth] = n;
				namelen[depth++] = len;
				p = q + 1;
			}
		}
	}
	return depth == 0 && roots == 1 ? NULL : "unclosed element";
}

START_TEST(test_reports_xml_checker)
{
	/* The checker itself must reject what it is meant to catch. */
	ck_assert_ptr_null(xml_check("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t&amp;</a>\n"));
	ck_assert_ptr_nonnull(xml_check("<?xml version=\"1.0\"?>\n<a><b></a></b>\n"));
	ck_assert_ptr_nonnull(xml_check("<?xml version=\"1.0\"?>\n<a>x\x01</a>\n"));
	ck_assert_ptr_nonnull(xml_check("<?xml version=\"1.0\"?>\n<a>&x</a>\n"));
	ck_assert_ptr_nonnull(xml_check("<?xml version=\"1.0\"?>\n<a x=1></a>\n"));
	ck_assert_ptr_nonnull(xml_check("<?xml version=\"1.0\"?>\n<a>\n"));
}
END_TEST

START_TEST(test_reports_junit)
{
	rpt_run *run = sample_run();
	char *x;
	const char *why;

	/* Hostile bytes everywhere a string can come from. */
	rpt_scenario_add_finding(run->scenarios[1], "rfc5321.x\x01", "RFC \"5321\" <&>", RPT_FAIL, 4,
	    NULL, "got \x03");
	rpt_scenario_add_finding(run->scenarios[1], "info.x", NULL, RPT_INFO, 4, NULL,
	    "bad utf-8 \xc3\x28 and \x02 and ]]>");
	x = rpt_junit_string(run);
	why = xml_check(x);
	ck_assert_msg(why == NULL, "ill-formed XML: %s\n%s", why, x);

	ck_assert_ptr_nonnull(strstr(x, "<testsuites name=\"smtp-harness\" tests=\"4\" failures=\"1\" "
	    "errors=\"1\" time=\"1.234\">"));
	ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"smtp-harness conformance\" tests=\"4\" "
	    "failures=\"1\" errors=\"1\" skipped=\"1\" time=\"1.234\" timestamp="));
	ck_assert_ptr_null(strstr(x, " file=\""));
	ck_assert_ptr_nonnull(strstr(x, "<system-out>-- scenario scenarios/rset.json --\n"));
	ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"smtp-harness conformance\" tests=\"4\""));
	ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"greeting\" name=\"greeting.220\" "
	    "time=\"0.012\""));
	ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"rset\" name=\"rset.clears\" "
	    "time=\"0.040\""));
	ck_assert_ptr_nonnull(strstr(x, "<failure message=\"rfc5321.4.1.1.5.rset [RFC 5321 §4.1.1.5]: "
	    "expected 250, got 354\" type=\"rfc5321.4.1.1.5.rset\">"));
	/* Every FAIL finding is in the body, with its evidence. */
	ck_assert_ptr_nonnull(strstr(x, "rfc5321.4.1.1.10.quit passive: closed before QUIT"));
	ck_assert_ptr_nonnull(strstr(x, "evidence: segment 5 offset 0 (S2C): 354 \\x00\\x01go&lt;&amp;&gt;"));
	ck_assert_ptr_nonnull(strstr(x, "rfc5321.x\\x01 [RFC &quot;5321&quot; &lt;&amp;&gt;] step 4"));
	ck_assert_ptr_nonnull(strstr(x, "<skipped message=\"target lacks PIPELINING\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<error message=\"connect: refused\" type=\"error\">"));
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"target\" value=\"127.0.0.1:2525\"/>"));
	/* The transcript as readable lines, and the WARN finding. */
	ck_assert_ptr_nonnull(strstr(x, "<system-out>-- scenario scenarios/rset.json --\n-- client 127.0.0.1:40000, server 127.0.0.1:2525 --\n"
	    "-- connection open --\nS: 220 mx.test ESMTP\nC: EHLO x\nS: 250-mx.test\n"
	    "S: 250 PIPELINING\nC: RSET\nS: 354 \\x00\\x01go&lt;&amp;&gt;&quot;]]&gt;\n"
	    "-- FIN from server --\n"));
	ck_assert_ptr_nonnull(strstr(x, "WARN rfc5321.4.2.4.500-vs-502 [RFC 5321 §4.2.4] step 2: "
	    "expected 500, got 502"));
	ck_assert_ptr_nonnull(strstr(x, "INFO info.x step 4: bad utf-8 \\xc3( and \\x02 and ]]&gt;"));
	ck_assert_ptr_null(strstr(x, "]]>"));
	xfree(x);
	rpt_run_free(run);
}
END_TEST

/* Counts entries of dir that look like atomic_file's temporary names. */
static int
temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp.") != NULL)
			n++;
	closedir(d);
	return n;
}

START_TEST(test_reports_write_atomic)
{
	rpt_run *run = sample_run();
	char dir[] = "/tmp/test_reports.XXXXXX";
	char path[256], err[512];
	static const char *const fmts[] = { "text", "json", "junit" };
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		char *body;

		snprintf(path, sizeof(path), "%s/report.%s", dir, fmts[i]);
		ck_assert_int_eq(rpt_format_known(fmts[i]), 1);
		ck_assert_int_eq(rpt_write(run, fmts[i], path, err, sizeof(err)), 0);
		body = slurp(path);
		if (i == 0) {
			ck_assert(strncmp(body, "PASS  greeting.220  (12 ms)", 27) == 0);
			ck_assert_ptr_nonnull(strstr(body, "\n1 passed, 2 failed, 1 skipped\n"));
		} else if (i == 1) {
			cJSON *root = cJSON_Parse(body);

			ck_assert_ptr_nonnull(root);
			ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "scenarios")), 4);
			cJSON_Delete(root);
		} else {
			ck_assert_ptr_null(xml_check(body));
		}
		xfree(body);
		unlink(path);
	}
	ck_assert_int_eq(temp_files(dir), 0);

	/* An unwritable path: -1, an error naming it, nothing left behind. */
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/no/such/dir/report.%s", dir, fmts[i]);
		err[0] = '\0';
		ck_assert_int_eq(rpt_write(run, fmts[i], path, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, path) != NULL, "error \"%s\" does not name the path", err);
	}
	ck_assert_int_eq(temp_files(dir), 0);

	ck_assert_int_eq(rpt_format_known("yaml"), 0);
	ck_assert_int_eq(rpt_format_known(NULL), 0);
	snprintf(path, sizeof(path), "%s/report.yaml", dir);
	ck_assert_int_eq(rpt_write(run, "yaml", path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "yaml"));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(rmdir(dir), 0);
	rpt_run_free(run);
}
END_TEST

static Suite *
reports_suite(void)
{
	Suite *s = suite_create("reports");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_reports_exercised_worst_wins);
	tcase_add_test(tc, test_reports_settle);
	tcase_add_test(tc, test_reports_text_summary_client);
	tcase_add_test(tc, test_reports_second_connection);
	tcase_add_test(tc, test_reports_delivered);
	tcase_add_test(tc, test_reports_escape_and_sanitize);
	tcase_add_test(tc, test_reports_evidence);
	tcase_add_test(tc, test_reports_summary_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_reports_text_lines);
	tcase_add_test(tc, test_reports_text_summary);
	tcase_add_test(tc, test_reports_text_summary_no_skips);
	tcase_add_test(tc, test_reports_json_fields);
	tcase_add_test(tc, test_reports_xml_checker);
	tcase_add_test(tc, test_reports_junit);
	tcase_add_test(tc, test_reports_write_atomic);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reports_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
