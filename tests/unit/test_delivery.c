/*
 * test_delivery - delivered copies judged against the session: a message
 * accepted and lost, delivered twice, altered, delivered after a refusal
 * or after its content was cut, a second message that was never sent as
 * one, text of another transaction, trace fields, recipients disclosed.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/check/delivery.h"
#include "harness/check/dialog.h"
#include "reports/result.h"

#define KEY "smtphabcs0-"

static uint64_t now_us;

static void
tx(cap_transcript *t, cap_dir dir, const char *s)
{
	now_us += 1000;
	cap_transcript_add_data(t, dir, now_us, s, strlen(s));
}

/* A session up to the 354; `rcpts` RCPT lines accepted. */
static cap_transcript *
session(int rcpts)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	now_us = 1700000000000000ULL;
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
	tx(t, CAP_S2C, "220 mx\r\n");
	tx(t, CAP_C2S, "EHLO probe.test\r\n");
	tx(t, CAP_S2C, "250 mx\r\n");
	tx(t, CAP_C2S, "MAIL FROM:<s@h.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "RCPT TO:<a@dom.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	if (rcpts > 1) {
		tx(t, CAP_C2S, "RCPT TO:<b@dom.test>\r\n");
		tx(t, CAP_S2C, "250 ok\r\n");
	}
	tx(t, CAP_C2S, "DATA\r\n");
	tx(t, CAP_S2C, "354 go\r\n");
	return t;
}

static const char content1[] = "Message-ID: <" KEY "1@x>\r\nSubject: t\r\n\r\n"
    "smtp-harness-token: " KEY "1\r\n..dot\r\nend\r\n.\r\n";
static const char stored1[] = "Return-Path: <s@h.test>\n"
    "Received: from probe.test ([127.0.0.1])\n\tby mx; Tue\n"
    "Message-ID: <" KEY "1@x>\nSubject: t\n\nsmtp-harness-token: " KEY "1\n.dot\nend\n";

/* The oracle reads a@dom.test's and b@dom.test's mailboxes. */
static const char *const mailboxes[] = { "a@dom.test", "b@dom.test" };
static dlv_oracle oracle = { KEY, mailboxes, 2 };

static rpt_scenario *
judge(cap_transcript *t, const char *const *copies, size_t n, const char *check)
{
	rpt_scenario *sc = rpt_scenario_new("s", NULL, NULL);
	dlv_copy c[4];
	dlg *d = dlg_build(t);

	ck_assert_uint_le(n, 4);
	for (size_t i = 0; i < n; i++) {
		c[i].path = "/m/new/1";
		c[i].file_off = 100 * i;
		c[i].data = copies[i];
		c[i].len = strlen(copies[i]);
		c[i].mbox = 0;
	}
	chk_delivery(d, &oracle, c, n, check, 1000, sc);
	rpt_scenario_settle(sc);
	dlg_free(d);
	sc->transcript = t;
	return sc;
}

/* The verdict of the worst finding under check, or RPT_PASS when the
 * check was exercised without one; -1 when not exercised at all. */
static int
verdict_of(const rpt_scenario *sc, const char *check)
{
	for (size_t i = 0; i < sc->nexercised; i++)
		if (strcmp(sc->exercised[i].check, check) == 0)
			return (int)sc->exercised[i].verdict;
	return -1;
}

static const rpt_finding *
finding(const rpt_scenario *sc, const char *check)
{
	for (size_t i = 0; i < sc->nfindings; i++)
		if (strcmp(sc->findings[i].check, check) == 0)
			return &sc->findings[i];
	return NULL;
}

START_TEST(test_delivery_accepted_and_delivered_as_sent)
{
	cap_transcript *t = session(1);
	const char *copies[] = { stored1 };
	rpt_scenario *sc;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, copies, 1, NULL);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.2.5.2yz-takes-responsibility"), RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.5.2.content-unchanged"), RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.return-path"), RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.received-field"), RPT_PASS);
	ck_assert_uint_eq(sc->nfindings, 0);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_delivery_accepted_and_lost)
{
	cap_transcript *t = session(1);
	rpt_scenario *sc;
	const rpt_finding *f;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, NULL, 0, NULL);
	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	f = finding(sc, "rfc5321.4.2.5.2yz-takes-responsibility");
	ck_assert_ptr_nonnull(f);
	ck_assert(f->evidence.present);
	ck_assert_str_eq(f->evidence.excerpt, "250 queued\\r\\n");
	ck_assert_ptr_null(f->delivered_file);
	rpt_scenario_free(sc);
}
END_TEST

/* Accepted for an address the oracle does not read: it may go elsewhere,
 * or come back as a notice; and one recipient named twice is one. */
START_TEST(test_delivery_elsewhere_and_same_recipient_twice)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	static const char copy[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "\tfor <a@dom.test>\nDelivered-To: a@dom.test\nMessage-ID: <" KEY "1@x>\n"
	    "Subject: t\n\nsmtp-harness-token: " KEY "1\n.dot\nend\n";
	const char *copies[] = { copy };
	rpt_scenario *sc;
	const rpt_finding *f;

	now_us = 1700000000000000ULL;
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
	tx(t, CAP_S2C, "220 mx\r\n");
	tx(t, CAP_C2S, "MAIL FROM:<s@h.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "RCPT TO:<postmaster>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "DATA\r\n");
	tx(t, CAP_S2C, "354 go\r\n");
	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, NULL, 0, NULL);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	f = finding(sc, "rfc5321.4.2.5.2yz-takes-responsibility");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, RPT_INFO);
	rpt_scenario_free(sc);

	t = cap_transcript_new(NULL, NULL);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
	tx(t, CAP_S2C, "220 mx\r\n");
	tx(t, CAP_C2S, "MAIL FROM:<s@h.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "RCPT TO:<a@dom.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "RCPT TO:<a@dom.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "DATA\r\n");
	tx(t, CAP_S2C, "354 go\r\n");
	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, copies, 1, NULL);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.7.2.no-bcc-disclosure"), -1);
	ck_assert_uint_eq(sc->nfindings, 0);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_delivery_twice_and_altered)
{
	cap_transcript *t = session(1);
	static const char altered[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "Message-ID: <" KEY "1@x>\nSubject: t\n\nsmtp-harness-token: " KEY "1\n..dot\nend\n";
	const char *copies[] = { stored1, altered };
	rpt_scenario *sc;
	const rpt_finding *f;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, copies, 2, NULL);
	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	ck_assert_ptr_nonnull(finding(sc, "rfc5321.4.2.5.2yz-takes-responsibility"));
	/* A dot line not unstuffed: the line that differs starts with a dot. */
	f = finding(sc, "rfc5321.4.5.2.server-dot-unstuffing");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->delivered_file, "/m/new/1");
	ck_assert_uint_eq(f->delivered_off, 100 + (size_t)(strstr(altered, "..dot") - altered));
	rpt_scenario_free(sc);
}
END_TEST

/* BODY=8BITMIME content: intact, the row passes; with the high bits
 * stripped from a line, the finding is under rfc6152.3.preserve-bits. */
START_TEST(test_delivery_eight_bit_content)
{
	static const char content8[] = "Message-ID: <" KEY "1@x>\r\nSubject: t\r\n\r\n"
	    "smtp-harness-token: " KEY "1\r\ncaf\xc3\xa9\r\n.\r\n";
	static const char intact[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "Message-ID: <" KEY "1@x>\nSubject: t\n\nsmtp-harness-token: " KEY "1\ncaf\xc3\xa9\n";
	static const char stripped[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "Message-ID: <" KEY "1@x>\nSubject: t\n\nsmtp-harness-token: " KEY "1\ncafC)\n";
	const char *copies[2] = { intact, stripped };

	for (int bad = 0; bad <= 1; bad++) {
		cap_transcript *t = cap_transcript_new(NULL, NULL);
		rpt_scenario *sc;

		now_us = 1700000000000000ULL;
		cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
		tx(t, CAP_S2C, "220 mx\r\n");
		tx(t, CAP_C2S, "EHLO probe.test\r\n");
		tx(t, CAP_S2C, "250-mx\r\n250 8BITMIME\r\n");
		tx(t, CAP_C2S, "MAIL FROM:<s@h.test> BODY=8BITMIME\r\n");
		tx(t, CAP_S2C, "250 ok\r\n");
		tx(t, CAP_C2S, "RCPT TO:<a@dom.test>\r\n");
		tx(t, CAP_S2C, "250 ok\r\n");
		tx(t, CAP_C2S, "DATA\r\n");
		tx(t, CAP_S2C, "354 go\r\n");
		tx(t, CAP_C2S, content8);
		tx(t, CAP_S2C, "250 queued\r\n");
		sc = judge(t, &copies[bad], 1, NULL);
		if (bad) {
			ck_assert_int_eq(sc->verdict, RPT_FAIL);
			ck_assert_ptr_nonnull(finding(sc, "rfc6152.3.preserve-bits"));
		} else {
			ck_assert_int_eq(verdict_of(sc, "rfc6152.3.preserve-bits"), RPT_PASS);
			ck_assert_ptr_null(finding(sc, "rfc6152.3.preserve-bits"));
		}
		rpt_scenario_free(sc);
	}
}
END_TEST

START_TEST(test_delivery_after_refusal_and_after_a_cut)
{
	cap_transcript *t = session(1);
	const char *copies[] = { stored1 };
	rpt_scenario *sc;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "554 no\r\n");
	sc = judge(t, copies, 1, NULL);
	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	ck_assert_ptr_nonnull(finding(sc, "rfc5321.4.2.5.no-delivery-after-error"));
	rpt_scenario_free(sc);

	t = session(1);
	tx(t, CAP_C2S, "Message-ID: <" KEY "1@x>\r\nSubject: t\r\n\r\npart");
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, now_us + 1);
	sc = judge(t, copies, 1, NULL);
	ck_assert_ptr_nonnull(finding(sc, "rfc5321.4.1.1.10.abort-pending-only"));
	rpt_scenario_free(sc);

	t = session(1);
	tx(t, CAP_C2S, "Message-ID: <" KEY "1@x>\r\nSubject: t\r\n\r\npart");
	sc = judge(t, NULL, 0, NULL);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.1.1.10.abort-pending-only"), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_delivery_smuggled_second_message)
{
	cap_transcript *t = session(1);
	static const char smuggled[] = "Return-Path: <spoof@victim.test>\nSubject: SMUGGLED " KEY
	    "x\n\nx\n";
	static const char first[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "Message-ID: <" KEY "1@x>\nSubject: part1\n\nbody\n";
	const char *copies[] = { first, smuggled };
	rpt_scenario *sc;
	const rpt_finding *f;

	tx(t, CAP_C2S, "Message-ID: <" KEY "1@x>\r\nSubject: part1\r\n\r\nbody\n.\r\n"
	    "MAIL FROM:<spoof@victim.test>\r\nRCPT TO:<a@dom.test>\r\nDATA\r\n"
	    "Subject: SMUGGLED " KEY "x\r\n\r\nx\r\n.\r\n");
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, copies, 2, "smuggle.lf-dot-crlf");
	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	f = finding(sc, "smuggle.lf-dot-crlf");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->delivered_off, 100);
	/* In the transcript: where the smuggled part carries the key. */
	ck_assert(f->evidence.present);
	ck_assert_int_eq(f->evidence.dir, CAP_C2S);
	ck_assert_str_eq(f->evidence.excerpt, KEY "x");
	/* The first copy is not compared line for line: bare LF. */
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.5.2.content-unchanged"), RPT_INFO);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_delivery_text_of_another_transaction)
{
	cap_transcript *t = session(1);
	static const char leaked[] = "Return-Path: <s@h.test>\nReceived: from probe.test\n"
	    "Message-ID: <" KEY "1@x>\nMessage-ID: <" KEY "2@x>\nSubject: t\n\n"
	    "smtp-harness-token: " KEY "2\nend\n";
	const char *copies[] = { leaked };
	rpt_scenario *sc;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "554 no\r\n");
	tx(t, CAP_C2S, "MAIL FROM:<s@h.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "RCPT TO:<a@dom.test>\r\n");
	tx(t, CAP_S2C, "250 ok\r\n");
	tx(t, CAP_C2S, "DATA\r\n");
	tx(t, CAP_S2C, "354 go\r\n");
	tx(t, CAP_C2S, "Message-ID: <" KEY "2@x>\r\nSubject: t\r\n\r\nsmtp-harness-token: " KEY
	    "2\r\nend\r\n.\r\n");
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, copies, 1, NULL);
	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	ck_assert_ptr_nonnull(finding(sc, "rfc5321.4.5.2.content-unchanged"));
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.2.5.no-delivery-after-error"), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_delivery_trace_fields_and_disclosure)
{
	cap_transcript *t = session(2);
	static const char bare[] = "Message-ID: <" KEY "1@x>\nSubject: t\n"
	    "X-RcptTo: a@dom.test, b@dom.test\n\nsmtp-harness-token: " KEY "1\n.dot\nend\n";
	static const char wrong[] = "Return-Path: <other@h.test>\n"
	    "Received: from probe.test ([127.0.0.1]) for <a@dom.test>, <b@dom.test>\n"
	    "Message-ID: <" KEY "1@x>\nSubject: t\n\nsmtp-harness-token: " KEY "1\n.dot\nend\n";
	const char *c1[] = { bare };
	const char *c2[] = { wrong };
	rpt_scenario *sc;

	tx(t, CAP_C2S, content1);
	tx(t, CAP_S2C, "250 queued\r\n");
	sc = judge(t, c1, 1, NULL);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.return-path"), RPT_FAIL);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.received-field"), RPT_FAIL);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.7.2.no-bcc-disclosure"), RPT_WARN);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.5.2.content-unchanged"), RPT_PASS);
	sc->transcript = NULL;	/* judged again below */
	rpt_scenario_free(sc);
	sc = judge(t, c2, 1, NULL);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.return-path"), RPT_FAIL);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.4.4.received-field"), RPT_PASS);
	ck_assert_int_eq(verdict_of(sc, "rfc5321.7.2.no-bcc-disclosure"), RPT_FAIL);
	rpt_scenario_free(sc);
}
END_TEST

/* smuggle.bare-newline-policy: a bare LF and a bare CR, then what each
 * kind of store makes of them. */
START_TEST(test_delivery_bare_newline_copies)
{
	static const char sent[] = "Message-ID: <" KEY "1@x>\r\nSubject: bare\r\n\r\n"
	    "bare-lf-before\nbare-lf-after\r\nbare-cr-before\rbare-cr-after\r\nend\r\n.\r\n";
	static const struct {
		const char *copy;
		int verdict;
	} cases[] = {
		/* A Maildir: LF line ends, both made lines. */
		{ "Return-Path: <s@h.test>\nMessage-ID: <" KEY "1@x>\nSubject: bare\n\n"
		  "bare-lf-before\nbare-lf-after\nbare-cr-before\nbare-cr-after\nend\n", RPT_PASS },
		/* Stored as sent, normalised to CRLF. */
		{ "Message-ID: <" KEY "1@x>\r\nSubject: bare\r\n\r\nbare-lf-before\r\n"
		  "bare-lf-after\r\nbare-cr-before\r\nbare-cr-after\r\nend\r\n", RPT_PASS },
		/* The bare octets removed, or replaced by a space (Exim's LF). */
		{ "Message-ID: <" KEY "1@x>\nSubject: bare\n\n"
		  "bare-lf-beforebare-lf-after\nbare-cr-beforebare-cr-after\nend\n", RPT_PASS },
		{ "Message-ID: <" KEY "1@x>\nSubject: bare\n\n"
		  "bare-lf-before bare-lf-after\nbare-cr-before\nbare-cr-after\nend\n", RPT_PASS },
		/* Altered some other way: nothing to tell. */
		{ "Message-ID: <" KEY "1@x>\nSubject: bare\n\n"
		  "bare-lf-before<LF>bare-lf-after\nbare-cr-before\nbare-cr-after\nend\n", RPT_INFO },
		/* A Maildir keeping the CR raw (Postfix, say). */
		{ "Message-ID: <" KEY "1@x>\nSubject: bare\n\n"
		  "bare-lf-before\nbare-lf-after\nbare-cr-before\rbare-cr-after\nend\n", RPT_WARN },
		/* CRLF store keeping the LF raw. */
		{ "Message-ID: <" KEY "1@x>\r\nSubject: bare\r\n\r\nbare-lf-before\n"
		  "bare-lf-after\r\nbare-cr-before\r\nbare-cr-after\r\nend\r\n", RPT_WARN },
		/* The lines are not there at all: nothing to tell. */
		{ "Message-ID: <" KEY "1@x>\nSubject: bare\n\nsomething else\n", RPT_INFO },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cap_transcript *t = session(1);
		const char *copies[] = { cases[i].copy };
		rpt_scenario *sc;
		const rpt_finding *f;

		tx(t, CAP_C2S, sent);
		tx(t, CAP_S2C, "250 queued\r\n");
		sc = judge(t, copies, 1, "smuggle.bare-newline-policy");
		ck_assert_msg(verdict_of(sc, "smuggle.bare-newline-policy") == cases[i].verdict,
		    "case %zu: verdict %d", i, verdict_of(sc, "smuggle.bare-newline-policy"));
		ck_assert_int_eq(sc->verdict, RPT_PASS);
		f = finding(sc, "smuggle.bare-newline-policy");
		if (cases[i].verdict == RPT_WARN) {
			/* Points at the reply and at the raw octet in the copy. */
			ck_assert_ptr_nonnull(f);
			ck_assert(f->evidence.present);
			ck_assert_ptr_nonnull(f->delivered_file);
			ck_assert(strchr("\r\n", cases[i].copy[f->delivered_off]) != NULL);
		}
		rpt_scenario_free(sc);
	}
	/* Another scenario's check: the copy is only not compared. */
	{
		cap_transcript *t = session(1);
		const char *copies[] = { cases[5].copy };
		rpt_scenario *sc;

		tx(t, CAP_C2S, sent);
		tx(t, CAP_S2C, "250 queued\r\n");
		sc = judge(t, copies, 1, NULL);
		ck_assert_int_eq(verdict_of(sc, "smuggle.bare-newline-policy"), -1);
		ck_assert_int_eq(verdict_of(sc, "rfc5321.4.5.2.content-unchanged"), RPT_INFO);
		rpt_scenario_free(sc);
	}
}
END_TEST

static Suite *
delivery_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_delivery_accepted_and_delivered_as_sent);
	tcase_add_test(tc, test_delivery_accepted_and_lost);
	tcase_add_test(tc, test_delivery_twice_and_altered);
	tcase_add_test(tc, test_delivery_elsewhere_and_same_recipient_twice);
	tcase_add_test(tc, test_delivery_after_refusal_and_after_a_cut);
	tcase_add_test(tc, test_delivery_smuggled_second_message);
	tcase_add_test(tc, test_delivery_text_of_another_transaction);
	tcase_add_test(tc, test_delivery_trace_fields_and_disclosure);
	tcase_add_test(tc, test_delivery_eight_bit_content);
	tcase_add_test(tc, test_delivery_bare_newline_copies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(delivery_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
