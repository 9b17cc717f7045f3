#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/relay_check.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* Hosts: mx1 127.0.0.2, mx2 127.0.0.3, apex 127.0.0.5, bounce 127.0.0.9. */
static rly_scenario *
load(const char *expect)
{
	char *text = xasprintf("{\"id\": \"relay.t\", \"role\": \"relay\", \"within_ms\": 5000,\n"
	    "\"zone\": {\"zone\": \"test\", \"records\": [{\"name\": \"example.test\", \"type\": \"A\", "
	    "\"address\": \"127.0.0.5\"}]},\n"
	    "\"hosts\": [{\"name\": \"mx1\", \"listen\": \"127.0.0.2:25\"}, {\"name\": \"mx2\", "
	    "\"listen\": \"127.0.0.3:25\"}, {\"name\": \"apex\", \"listen\": \"127.0.0.5:25\"}, "
	    "{\"name\": \"bounce\", \"listen\": \"127.0.0.9:25\"}],\n"
	    "\"message\": {\"lines\": [\"Received: from a by b; Tue, 1 Dec 2026 00:00:00 +0000\", "
	    "\"From: bob\", \"Subject: t\", \"\", \"body\"]},\n"
	    "\"submission\": {\"from\": \"a@hb.test\", \"to\": [\"b@example.test\"]},\n"
	    "\"expect\": [%s]}\n", expect);
	char err[1024] = "";
	rly_scenario *s = NULL;

	ck_assert_msg(rly_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
	    "%s", err);
	xfree(text);
	return s;
}

/* A connection to host at t ms after the submission, lasting 10 ms,
 * whose client sent c2s. */
static chk_relay_conn *
conn(chk_relay_obs *obs, size_t host, long ms, const char *c2s)
{
	chk_relay_conn *c;

	obs->conns = xrealloc(obs->conns, (obs->nconns + 1) * sizeof(*obs->conns));
	c = &obs->conns[obs->nconns++];
	memset(c, 0, sizeof(*c));
	c->host = host;
	c->start_us = obs->submitted_us + (uint64_t)ms * 1000;
	c->end_us = c->start_us + 10000;
	c->t = cap_transcript_new(NULL, NULL);
	cap_transcript_add_event(c->t, CAP_OPEN, CAP_C2S, c->start_us);
	cap_transcript_add_data(c->t, CAP_C2S, c->start_us + 1, c2s, strlen(c2s));
	return c;
}

static void
msg(chk_relay_conn *c, const char *from, const char *ret, const char *notify,
    const char *content)
{
	const char *rcpts[] = { "b@example.test" };
	const char *notifies[] = { notify };

	if (*from == '\0')
		rcpts[0] = "a@hb.test";
	chk_relay_conn_add_msg(c, from, ret, rcpts, notifies, 1, content, strlen(content));
}

static void
query(chk_relay_obs *obs, long ms, const char *name, int type)
{
	chk_relay_query *q;

	obs->queries = xrealloc(obs->queries, (obs->nqueries + 1) * sizeof(*obs->queries));
	q = &obs->queries[obs->nqueries++];
	q->ms = obs->submitted_us / 1000 + (uint64_t)ms;
	q->qname = xstrdup(name);
	q->qtype = type;
	q->rcode = 0;
	q->line = xasprintf("2026-12-01T00:00:00.000Z udp 127.0.0.1:1 id=1 %s %d -> NOERROR", name, type);
}

/* Judges; returns the verdict of the row's check and the first finding's
 * message (or "") in *why. */
static rpt_verdict
judge(rly_scenario *s, chk_relay_obs *obs, char *why, size_t n)
{
	rpt_scenario *sc = rpt_scenario_new(s->id, NULL, s->file);
	rpt_verdict v;

	chk_relay_judge(s, obs, sc);
	ck_assert_uint_ge(sc->nexercised, 1);
	v = sc->exercised[0].verdict;
	snprintf(why, n, "%s", sc->nfindings ? sc->findings[0].message : "");
	if (sc->nfindings > 0)
		ck_assert_str_eq(sc->findings[0].check, s->expects[0].check);
	rpt_scenario_free(sc);
	return v;
}

#define GOOD "Received: from relay by mx; Tue, 1 Dec 2026\r\n" \
	"Received: from a by b; Tue, 1 Dec 2026 00:00:00 +0000\r\nFrom: bob\r\nSubject: t\r\n\r\nbody\r\n"

static void
obs_init(chk_relay_obs *obs)
{
	memset(obs, 0, sizeof(*obs));
	obs->submitted_us = 1764547200000000ULL;
}

START_TEST(test_relay_check_mx_order)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.5.1.preference-and-alternates\", \"order\": [\"mx1\", \"mx2\"]}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	conn(&obs, 0, 10, "EHLO x\r\n");
	msg(conn(&obs, 1, 20, "EHLO x\r\n"), "a@hb.test", NULL, NULL, GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* The worse MX first: FAIL, with the evidence of that connection. */
	obs_init(&obs);
	conn(&obs, 1, 10, "EHLO x\r\n");
	conn(&obs, 0, 20, "EHLO x\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] order: expected first connections to mx1, mx2 in that "
	    "order, got mx2, mx1");
	chk_relay_obs_free(&obs);

	/* Only the first, never the alternate: FAIL. */
	obs_init(&obs);
	conn(&obs, 0, 10, "EHLO x\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_dns_before)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.5.1.mx-first\", \"dns\": {\"name\": "
	    "\"example.test\", \"type\": \"MX\"}, \"before\": \"apex\"}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	query(&obs, 5, "EXAMPLE.test.", 15);
	conn(&obs, 2, 10, "EHLO x\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* Only an A query: no MX lookup at all. */
	obs_init(&obs);
	query(&obs, 5, "example.test", 1);
	conn(&obs, 2, 10, "EHLO x\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dns: expected a query for example.test MX, got none (1 "
	    "queries in the fake DNS's record; asked: example.test A)");
	chk_relay_obs_free(&obs);

	/* The MX asked only after connecting to the address. */
	obs_init(&obs);
	conn(&obs, 2, 10, "EHLO x\r\n");
	query(&obs, 50, "example.test", 15);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_counts_and_retry)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.5.1.no-apex-fallback\", \"connections\": {\"apex\": 0}}");
	rly_scenario *r = load("{\"check\": \"rfc5321.4.5.4.1.delay-before-retry\", \"retry\": \"mx1\", "
	    "\"min_gap_ms\": 1000}");
	rly_scenario *d = load("{\"check\": \"rfc5321.4.5.4.1.queue-and-retry\", \"deliveries\": {\"mx1\": 1}}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	conn(&obs, 0, 10, "EHLO x\r\n");
	msg(conn(&obs, 0, 2010, "EHLO x\r\n"), "a@hb.test", NULL, NULL, GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(d, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* The apex used; a retry at once; two copies. */
	obs_init(&obs);
	conn(&obs, 0, 10, "EHLO x\r\n");
	msg(conn(&obs, 0, 30, "EHLO x\r\n"), "a@hb.test", NULL, NULL, GOOD);
	msg(conn(&obs, 0, 60, "EHLO x\r\n"), "a@hb.test", NULL, NULL, GOOD);
	conn(&obs, 2, 40, "EHLO x\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] connections: expected 0 connections at apex "
	    "(127.0.0.5:25), got 1");
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] retry: expected at least 1000 ms between the end of the "
	    "failed attempt and the retry to mx1, got 10 ms");
	ck_assert_int_eq(judge(d, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] deliveries: expected 1 accepted messages at mx1 "
	    "(127.0.0.2:25), got 2");
	chk_relay_obs_free(&obs);

	/* No retry at all. */
	obs_init(&obs);
	conn(&obs, 0, 10, "EHLO x\r\n");
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	rly_free(s);
	rly_free(r);
	rly_free(d);
}
END_TEST

START_TEST(test_relay_check_content)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.6.4.relay-no-fixups\", \"same_content\": \"mx1\"}");
	rly_scenario *r = load("{\"check\": \"rfc5321.4.4.received-field\", \"received\": \"mx1\"}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	msg(conn(&obs, 0, 10, "DATA\r\n" GOOD ".\r\n"), "a@hb.test", NULL, NULL, GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* A Message-ID added, the From rewritten, no trace field of the relay. */
#define FIXED "Received: from a by b; Tue, 1 Dec 2026 00:00:00 +0000\r\n" \
	"From: bob@relay.test\r\nSubject: t\r\nMessage-ID: <1@relay.test>\r\n\r\nbody\r\n"
	obs_init(&obs);
	msg(conn(&obs, 0, 10, "DATA\r\n" FIXED ".\r\n"), "a@hb.test", NULL, NULL, FIXED);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] same_content: expected the message as submitted, with "
	    "only Received fields added at the top; at octet 64 after them expected "
	    "\"\\r\\nSubject: t\\r\\n\\r\\nbody\\r\\n\", got \"@relay.test\\r\\nSubject: t\\r\\nMessage-ID: <1@\"");
	chk_relay_obs_free(&obs);

	/* The relay's Received missing: the message's own does not count... */
#define PLAIN "From: bob\r\nSubject: t\r\n\r\nbody\r\n"
	obs_init(&obs);
	msg(conn(&obs, 0, 10, "DATA\r\n" PLAIN ".\r\n"), "a@hb.test", NULL, NULL, PLAIN);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] received: expected the message to start with a Received "
	    "field with a \"by\" clause, got \"From: bob\\r\\nSubject: t\\r\\n\\r\\nbody\\r\\n\"");
	chk_relay_obs_free(&obs);

	/* ...and nothing delivered is a FAIL too. */
	obs_init(&obs);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	rly_free(s);
	rly_free(r);
}
END_TEST

#define DSN "From: MAILER-DAEMON\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n" \
	"\tboundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--B\r\n" \
	"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.test\r\n\r\n" \
	"Final-Recipient: rfc822; b@example.test\r\nAction: failed\r\nStatus: %s\r\n\r\n--B--\r\n"

START_TEST(test_relay_check_bounce)
{
	rly_scenario *b = load("{\"check\": \"rfc5321.6.1.bounce-envelope\", \"bounce\": \"bounce\"}");
	rly_scenario *e = load("{\"check\": \"rfc3461.6.1.dsn-envelope\", \"dsn_envelope\": \"bounce\"}");
	rly_scenario *r = load("{\"check\": \"rfc7505.4.1.null-mx-codes\", \"dsn_report\": \"bounce\", "
	    "\"status\": \"5.1.10\", \"severity\": \"must\"}");
	chk_relay_obs obs;
	char why[1024], *dsn = xasprintf(DSN, "5.1.10"), *other = xasprintf(DSN, "5.1.0");
	char *notdsn = xstrdup("From: MAILER-DAEMON\r\nContent-Type: text/plain\r\n\r\nfailed\r\n");

	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<>\r\n"), "", NULL, NULL, dsn);
	ck_assert_int_eq(judge(b, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(e, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* A sender on the notice: FAIL. RET and NOTIFY=SUCCESS on a DSN: FAIL. */
	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<postmaster@relay.test> RET=FULL\r\n"),
	    "postmaster@relay.test", "FULL", "SUCCESS", dsn);
	ck_assert_int_eq(judge(b, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] bounce: expected the notice to a@hb.test with MAIL FROM:<>, "
	    "got MAIL FROM:<postmaster@relay.test>");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<> RET=FULL\r\n"), "", "FULL", NULL, dsn);
	ck_assert_int_eq(judge(e, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dsn_envelope: expected a DSN's MAIL without RET, got RET=FULL");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<>\r\n"), "", NULL, "SUCCESS", dsn);
	ck_assert_int_eq(judge(e, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);

	/* Not a multipart/report: a WARN of the bounce row, a FAIL of the report's. */
	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<>\r\n"), "", NULL, NULL, notdsn);
	ck_assert_int_eq(judge(b, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dsn_report: expected an RFC 3464 report with a "
	    "Content-Type multipart/report, got none");
	chk_relay_obs_free(&obs);

	/* Another status than the one named: WARN (the code is a SHOULD). */
	obs_init(&obs);
	msg(conn(&obs, 3, 10, "MAIL FROM:<>\r\n"), "", NULL, NULL, other);
	ck_assert_int_eq(judge(r, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_str_eq(why, "expect[0] dsn_report: expected Status 5.1.10, got 5.1.0");
	chk_relay_obs_free(&obs);

	/* No notice at all. */
	obs_init(&obs);
	ck_assert_int_eq(judge(b, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	xfree(dsn);
	xfree(other);
	xfree(notdsn);
	rly_free(b);
	rly_free(e);
	rly_free(r);
}
END_TEST

START_TEST(test_relay_check_bare_line_ends)
{
	rly_scenario *s = load("{\"check\": \"smuggle.outbound-sanitise\", \"no_bare_line_ends\": \"mx1\"}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	conn(&obs, 0, 10, "DATA\r\none\r\n.\r\ntwo\r\n.\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	obs_init(&obs);
	conn(&obs, 0, 10, "DATA\r\none\n.\r\ntwo\r\n.\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] no_bare_line_ends: expected CR and LF only as CRLF in what "
	    "the MTA relayed to mx1, got a bare LF at octet 9");
	chk_relay_obs_free(&obs);

	obs_init(&obs);
	conn(&obs, 0, 10, "DATA\r\none\r.\r\n.\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_dsn_params)
{
	rly_scenario *all = load("{\"check\": \"rfc3461.5.2.1.relay-propagates\", \"dsn_params\": "
	    "\"mx1\", \"ret\": \"HDRS\", \"envid\": \"Env+2B1\", \"notify\": \"SUCCESS,FAILURE\", "
	    "\"orcpt\": \"rfc822;B@Example.TEST\"}");
	rly_scenario *none = load("{\"check\": \"rfc3461.5.2.1.relay-propagates\", \"dsn_params\": "
	    "\"mx1\", \"ret\": null, \"envid\": null, \"notify\": null, \"orcpt\": null}");
	chk_relay_obs obs;
	chk_relay_msg *m;
	char why[1024];

	/* As given (keywords in another case and order are the same). */
	obs_init(&obs);
	m = chk_relay_conn_add_msg(conn(&obs, 0, 10, "MAIL FROM:<a@hb.test> RET=hdrs\r\n"),
	    "a@hb.test", "hdrs", (const char *[]){ "b@example.test" },
	    (const char *[]){ "failure,success" }, 1, GOOD, strlen(GOOD));
	m->envid = xstrdup("Env+2B1");
	m->orcpt[0] = xstrdup("rfc822;B@Example.TEST");
	ck_assert_int_eq(judge(all, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(none, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dsn_params: expected RET absent for <b@example.test>, got "
	    "RET=hdrs");
	/* ORCPT's case changed: FAIL. */
	xfree(m->orcpt[0]);
	m->orcpt[0] = xstrdup("rfc822;b@example.test");
	ck_assert_int_eq(judge(all, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dsn_params: expected ORCPT=rfc822;B@Example.TEST for "
	    "<b@example.test>, got ORCPT=rfc822;b@example.test");
	chk_relay_obs_free(&obs);

	/* None given: none relayed, but an ORCPT that is the RCPT itself. */
	obs_init(&obs);
	m = chk_relay_conn_add_msg(conn(&obs, 0, 10, "MAIL FROM:<a@hb.test>\r\n"), "a@hb.test",
	    NULL, (const char *[]){ "b@example.test" }, (const char *[]){ NULL }, 1, GOOD,
	    strlen(GOOD));
	m->orcpt[0] = xstrdup("rfc822;b@example.test");
	ck_assert_int_eq(judge(none, &obs, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(judge(all, &obs, why, sizeof(why)), RPT_FAIL);
	xfree(m->orcpt[0]);
	m->orcpt[0] = xstrdup("rfc822;other@example.test");
	ck_assert_int_eq(judge(none, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dsn_params: expected ORCPT absent (or the RCPT itself) "
	    "for <b@example.test>, got ORCPT=rfc822;other@example.test");
	chk_relay_obs_free(&obs);
	rly_free(all);
	rly_free(none);
}
END_TEST

START_TEST(test_relay_check_rcpts)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.4.5.4.1.one-copy-per-host\", \"rcpts\": "
	    "\"mx1\", \"count\": 2}");
	const char *two[] = { "b@example.test", "c@example.test" };
	const char *notify[] = { NULL, NULL };
	chk_relay_obs obs;
	chk_relay_conn *c;
	char why[1024];

	obs_init(&obs);
	chk_relay_conn_add_msg(conn(&obs, 0, 10, "MAIL FROM:<a@hb.test>\r\n"), "a@hb.test", NULL,
	    two, notify, 2, GOOD, strlen(GOOD));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* A transaction per recipient: the row's SHOULD, a WARN. */
	obs_init(&obs);
	c = conn(&obs, 0, 10, "MAIL FROM:<a@hb.test>\r\n");
	chk_relay_conn_add_msg(c, "a@hb.test", NULL, two, notify, 1, GOOD, strlen(GOOD));
	chk_relay_conn_add_msg(c, "a@hb.test", NULL, two + 1, notify, 1, GOOD, strlen(GOOD));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_str_eq(why, "expect[0] rcpts: expected one transaction for the 2 recipients at "
	    "mx1, got one with 1");
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

/* The row's submission: two recipients at example.test, one with a
 * quoted local-part. */
static rly_scenario *
load_localparts(void)
{
	const char *text = "{\"id\": \"relay.t\", \"role\": \"relay\", \"within_ms\": 5000,\n"
	    "\"zone\": {\"zone\": \"test\", \"records\": []},\n"
	    "\"hosts\": [{\"name\": \"mx1\", \"listen\": \"127.0.0.2:25\"}],\n"
	    "\"message\": {\"lines\": [\"Subject: t\", \"\", \"body\"]},\n"
	    "\"submission\": {\"from\": \"a@hb.test\", \"to\": [\"Mixed.Case+Tag@example.test\", "
	    "\"\\\"Quoted Part\\\"@example.test\"]},\n"
	    "\"expect\": [{\"check\": \"rfc5321.2.4.localpart-preserved\", \"localparts\": \"mx1\"}]}\n";
	char err[1024] = "";
	rly_scenario *s = NULL;

	ck_assert_msg(rly_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
	    "%s", err);
	return s;
}

/* Relays rcpts[0..n) to mx1 in one transaction; the verdict and why. */
static rpt_verdict
localparts(rly_scenario *s, const char *const *rcpts, size_t n, char *why, size_t len)
{
	const char *notify[4] = { NULL, NULL, NULL, NULL };
	chk_relay_obs obs;
	vbuf c2s = VBUF_INIT;
	rpt_verdict v;

	obs_init(&obs);
	vbuf_printf(&c2s, "EHLO relay.test\r\nMAIL FROM:<a@hb.test>\r\n");
	for (size_t i = 0; i < n; i++)
		vbuf_printf(&c2s, "RCPT TO:<%s>\r\n", rcpts[i]);
	chk_relay_conn_add_msg(conn(&obs, 0, 10, vbuf_str(&c2s)), "a@hb.test", NULL, rcpts, notify,
	    n, GOOD, strlen(GOOD));
	v = judge(s, &obs, why, len);
	chk_relay_obs_free(&obs);
	vbuf_free(&c2s);
	return v;
}

START_TEST(test_relay_check_localparts)
{
	rly_scenario *s = load_localparts();
	char why[1024];
	const char *same[] = { "Mixed.Case+Tag@example.test", "\"Quoted Part\"@example.test" };
	/* Other quoting of the same local-parts, the domain's case changed,
	 * the order swapped: all the same mailboxes (RFC 5321 §4.1.2). */
	const char *equiv[] = { "\"Quoted\\ Part\"@EXAMPLE.test", "\"Mixed.Case+Tag\"@example.test" };
	const char *folded[] = { "mixed.case+tag@example.test", "\"Quoted Part\"@example.test" };
	const char *tag[] = { "\"Quoted Part\"@example.test", "Mixed.Case@example.test" };
	const char *dots[] = { "MixedCase+Tag@example.test", "\"Quoted Part\"@example.test" };
	const char *quoting[] = { "Mixed.Case+Tag@example.test", "Quoted.Part@example.test" };
	const char *spaced[] = { "Mixed.Case+Tag@example.test", "\"Quoted  Part\"@example.test" };
	const char *missing[] = { "Mixed.Case+Tag@example.test" };

	ck_assert_int_eq(localparts(s, same, 2, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(localparts(s, equiv, 2, why, sizeof(why)), RPT_PASS);
	ck_assert_int_eq(localparts(s, folded, 2, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] localparts: expected RCPT TO:<Mixed.Case+Tag@example.test> "
	    "with its local-part as submitted, got RCPT TO:<mixed.case+tag@example.test>: the "
	    "local-part's letter case changed");
	ck_assert_int_eq(localparts(s, tag, 2, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] localparts: expected RCPT TO:<Mixed.Case+Tag@example.test> "
	    "with its local-part as submitted, got RCPT TO:<Mixed.Case@example.test>: the +tag "
	    "stripped");
	ck_assert_int_eq(localparts(s, dots, 2, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] localparts: expected RCPT TO:<Mixed.Case+Tag@example.test> "
	    "with its local-part as submitted, got RCPT TO:<MixedCase+Tag@example.test>: dots "
	    "removed or added");
	ck_assert_int_eq(localparts(s, quoting, 2, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] localparts: expected RCPT TO:<\"Quoted Part\"@example.test> "
	    "with its local-part as submitted, got RCPT TO:<Quoted.Part@example.test>: the quoting "
	    "changed what the local-part says");
	ck_assert_int_eq(localparts(s, spaced, 2, why, sizeof(why)), RPT_FAIL);
	ck_assert_int_eq(localparts(s, missing, 1, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] localparts: expected RCPT TO:<\"Quoted Part\"@example.test> "
	    "at mx1, got no RCPT for it in 1 message");
	rly_free(s);
}
END_TEST

/* A dns row with an rcode: the name must have been answered so. */
START_TEST(test_relay_check_dns_rcode)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.5.1.dns-errors\", \"dns\": {\"name\": "
	    "\"example.test\", \"type\": \"MX\", \"rcode\": \"SERVFAIL\"}}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	query(&obs, 5, "example.test", 15);
	obs.queries[0].rcode = 2;
	query(&obs, 2500, "example.test", 15);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	obs_init(&obs);
	query(&obs, 2500, "example.test", 15);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] dns: expected a query for example.test MX answered "
	    "SERVFAIL, got only NOERROR (the first at t=2500 ms)");
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

/* A notice to a@hb.test with per-recipient blocks RCPTS (each
 * "Final-Recipient: ...\r\nAction: ...\r\n") and a returned part of type
 * RET (or none when NULL). */
static char *
notice(const char *envid, const char *rcpts, const char *ret)
{
	return xasprintf("From: MAILER-DAEMON\r\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"B/1\"\r\n\r\n--B/1\r\n"
	    "Content-Type: text/plain\r\n\r\nsee below\r\n--B/1\r\n"
	    "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.test\r\n%s%s%s"
	    "\r\n%s%s%s%s--B/1--\r\n", envid ? "Original-Envelope-Id: " : "", envid ? envid : "",
	    envid ? "\r\n" : "", rcpts, ret ? "\r\n--B/1\r\nContent-Type: " : "", ret ? ret : "",
	    ret ? "\r\n\r\nFrom: <a@hb.test>\r\nSubject: t\r\n" : "\r\n");
}

static void
notice_msg(chk_relay_obs *obs, const char *content)
{
	const char *rcpts[] = { "a@hb.test" };
	const char *notify[] = { NULL };

	chk_relay_conn_add_msg(conn(obs, 3, 10, "MAIL FROM:<>\r\nRCPT TO:<a@hb.test>\r\nDATA\r\n"),
	    "", NULL, rcpts, notify, 1, content, strlen(content));
}

/* notice_msg, freeing content. */
static void
notice_take(chk_relay_obs *obs, char *content)
{
	notice_msg(obs, content);
	xfree(content);
}

#define FAILED(mb) "Final-Recipient: rfc822; " mb "\r\nAction: failed\r\nStatus: 5.0.0\r\n"
#define RELAYED(mb) "Final-Recipient: rfc822;" mb "\r\nAction: relayed\r\nStatus: 2.0.0\r\n"

START_TEST(test_relay_check_notices)
{
	rly_scenario *s = load("{\"check\": \"rfc3461.5.2.6.failure-dsn-rules\", \"notices\": "
	    "\"bounce\", \"actions\": {\"f1@example.test\": \"failed\", \"f2@example.test\": "
	    "\"failed\", \"f3@example.test\": null}}");
	chk_relay_obs obs;
	char why[1024];

	/* One notice for the first two: PASS; the same in two notices too. */
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("f1@example.test") "\r\n"
	    FAILED("<F2@example.test>"), NULL));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("f1@example.test"), NULL));
	notice_take(&obs, notice(NULL, FAILED("f2@example.test"), "text/rfc822-headers"));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* The NOTIFY=NEVER recipient bounced too: FAIL at its field. */
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("f1@example.test") "\r\n" FAILED("f2@example.test") "\r\n"
	    FAILED("f3@example.test"), NULL));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] notices: expected no DSN naming <f3@example.test>, got one "
	    "with Action: failed");
	chk_relay_obs_free(&obs);

	/* One missing, or named with another Action: FAIL. */
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("f1@example.test") "\r\n"
	    RELAYED("f2@example.test"), NULL));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] notices: expected a DSN naming <f2@example.test> with "
	    "Action: failed, got Action: relayed");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("f1@example.test"), NULL));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] notices: expected a DSN naming <f2@example.test> with "
	    "Action: failed at bounce, got none naming it within 5000 ms");
	chk_relay_obs_free(&obs);

	/* No notice at all: FAIL; a notice that is no RFC 3464 report: WARN. */
	obs_init(&obs);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	notice_msg(&obs, "From: MAILER-DAEMON\r\nSubject: failed\r\n\r\nf3@example.test failed\r\n");
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_no_dsn_params)
{
	rly_scenario *s = load("{\"check\": \"rfc3461.5.2.2.relay-to-non-dsn\", \"no_dsn_params\": "
	    "\"mx1\"}");
	chk_relay_obs obs;
	char why[1024];

	/* Parameters other than DSN's, and a body line that looks like one: PASS. */
	obs_init(&obs);
	msg(conn(&obs, 0, 10, "EHLO r\r\nMAIL FROM:<a@hb.test> SIZE=10 BODY=8BITMIME\r\n"
	    "RCPT TO:<b@example.test>\r\nDATA\r\nRCPT TO:<x@y> NOTIFY=NEVER\r\n.\r\n"
	    "BDAT 28 LAST\r\nRCPT TO:<x@y> NOTIFY=NEVER\r\nQUIT\r\n"), "a@hb.test", NULL, NULL, GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* NOTIFY or ORCPT on a RCPT, RET on MAIL: FAIL, naming the command. */
	obs_init(&obs);
	msg(conn(&obs, 0, 10, "MAIL FROM:<a@hb.test>\r\nRCPT TO:<b@example.test> "
	    "NOTIFY=SUCCESS\r\nDATA\r\n"), "a@hb.test", NULL, "SUCCESS", GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] no_dsn_params: expected no DSN parameters to mx1, which "
	    "does not offer DSN (RFC 3461 §5.2.2), got NOTIFY= in RCPT TO:<b@example.test> "
	    "NOTIFY=SUCCESS");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	msg(conn(&obs, 0, 10, "MAIL FROM:<a@hb.test> ret=HDRS\r\n"), "a@hb.test", "HDRS", NULL, GOOD);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	chk_relay_obs_free(&obs);

	/* Nothing relayed there: FAIL. */
	obs_init(&obs);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_FAIL);
	ck_assert_str_eq(why, "expect[0] no_dsn_params: expected the message relayed to mx1, got no "
	    "connection within 5000 ms");
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_dsn_return)
{
	rly_scenario *s = load("{\"check\": \"rfc3461.4.ret-envid-honoured\", \"dsn_return\": "
	    "\"bounce\", \"returned\": \"text/rfc822-headers\", \"original_envid\": \"test123\"}");
	chk_relay_obs obs;
	char why[1024];

	obs_init(&obs);
	notice_take(&obs, notice("test123", FAILED("b@example.test"),
	    "text/rfc822-headers; charset=us-ascii"));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_PASS);
	chk_relay_obs_free(&obs);

	/* The whole message returned, or no ENVID, or no DSN: WARN (a SHOULD). */
	obs_init(&obs);
	notice_take(&obs, notice("test123", FAILED("b@example.test"), "message/rfc822"));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_str_eq(why, "expect[0] dsn_return: expected the returned part as "
	    "text/rfc822-headers, got message/rfc822");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	notice_take(&obs, notice(NULL, FAILED("b@example.test"), "text/rfc822-headers"));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_str_eq(why, "expect[0] dsn_return: expected Original-Envelope-Id: test123 in the "
	    "DSN, got none");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	notice_take(&obs, notice("test123", FAILED("b@example.test"), NULL));
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	ck_assert_str_eq(why, "expect[0] dsn_return: expected the returned part as "
	    "text/rfc822-headers, got no returned part");
	chk_relay_obs_free(&obs);
	obs_init(&obs);
	ck_assert_int_eq(judge(s, &obs, why, sizeof(why)), RPT_WARN);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

START_TEST(test_relay_check_timeline)
{
	rly_scenario *s = load("{\"check\": \"rfc5321.5.1.mx-first\", \"connections\": {\"mx1\": 1}}");
	chk_relay_obs obs;
	char **lines;
	size_t n;

	obs_init(&obs);
	conn(&obs, 0, 30, "EHLO x\r\n");
	query(&obs, 5, "example.test", 15);
	lines = chk_relay_timeline(s, &obs, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(lines[0], "t=5 ms dns udp 127.0.0.1:1 id=1 example.test 15 -> NOERROR");
	ck_assert_str_eq(lines[1], "t=30 ms connection 1 to mx1 (127.0.0.2:25), 10 ms, 0 messages "
	    "accepted");
	for (size_t i = 0; i < n; i++)
		xfree(lines[i]);
	xfree(lines);
	chk_relay_obs_free(&obs);
	rly_free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("relay_check");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_relay_check_mx_order);
	tcase_add_test(tc, test_relay_check_dns_before);
	tcase_add_test(tc, test_relay_check_counts_and_retry);
	tcase_add_test(tc, test_relay_check_content);
	tcase_add_test(tc, test_relay_check_bounce);
	tcase_add_test(tc, test_relay_check_bare_line_ends);
	tcase_add_test(tc, test_relay_check_dsn_params);
	tcase_add_test(tc, test_relay_check_rcpts);
	tcase_add_test(tc, test_relay_check_localparts);
	tcase_add_test(tc, test_relay_check_dns_rcode);
	tcase_add_test(tc, test_relay_check_notices);
	tcase_add_test(tc, test_relay_check_no_dsn_params);
	tcase_add_test(tc, test_relay_check_dsn_return);
	tcase_add_test(tc, test_relay_check_timeline);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
