/*
 * test_loadstat - a finished session folded into load statistics:
 * messages accepted and refused by class, replies by code, one latency
 * sample per answered command, findings and errors by name.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/engine/loadstat.h"

static uint64_t now_us;

static void
tx(cap_transcript *t, cap_dir dir, const char *s)
{
	now_us += 1000;
	ck_assert_int_ge(cap_transcript_add_data(t, dir, now_us, s, strlen(s)), 0);
}

static rpt_scenario *
session(void)
{
	rpt_scenario *sc = rpt_scenario_new("load.x", "load session", "load");
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	now_us = 1700000000000000ULL;
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
	tx(t, CAP_S2C, "220 hi\r\n");
	tx(t, CAP_C2S, "EHLO a\r\n");
	tx(t, CAP_S2C, "250-x\r\n250 PIPELINING\r\n");
	/* accepted */
	tx(t, CAP_C2S, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n");
	tx(t, CAP_S2C, "250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n");
	tx(t, CAP_C2S, "Subject: t\r\n\r\nx\r\n.\r\n");
	tx(t, CAP_S2C, "250 queued\r\n");
	/* refused at MAIL, 4xx */
	tx(t, CAP_C2S, "MAIL FROM:<a@x>\r\n");
	tx(t, CAP_S2C, "451 later\r\n");
	/* refused after the content, 5xx */
	tx(t, CAP_C2S, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
	tx(t, CAP_S2C, "250 ok\r\n250 ok\r\n354 go\r\n");
	tx(t, CAP_C2S, "x\r\n.\r\n");
	tx(t, CAP_S2C, "554 spam\r\n");
	tx(t, CAP_C2S, "QUIT\r\n");
	tx(t, CAP_S2C, "221 bye\r\n");
	sc->transcript = t;
	rpt_scenario_add_finding(sc, "rfc5321.4.2.reply-syntax", "RFC 5321", RPT_FAIL, 0, NULL, "x");
	rpt_scenario_settle(sc);
	return sc;
}

START_TEST(test_loadstat_counts_messages_and_replies)
{
	lst_stats st;
	rpt_scenario *sc = session();
	dlg *d = dlg_build(sc->transcript);

	/* Once with the dialog the passive checks would hand over, once
	 * building it here: the counts below are twice one session's. */
	lst_init(&st);
	lst_add_session(&st, sc, d);
	lst_add_session(&st, sc, NULL);
	dlg_free(d);
	ck_assert_uint_eq(st.sessions, 2);
	ck_assert_uint_eq(st.fail, 2);
	ck_assert_uint_eq(st.messages, 6);
	ck_assert_uint_eq(st.accepted, 2);
	ck_assert_uint_eq(st.refused4, 2);
	ck_assert_uint_eq(st.refused5, 2);
	ck_assert_uint_eq(st.unanswered, 0);
	ck_assert_uint_eq(st.recipients, 6);
	ck_assert_uint_eq(st.recipients_ok, 4);
	ck_assert_uint_eq(st.codes[220], 2);
	ck_assert_uint_eq(st.codes[354], 4);
	ck_assert_uint_eq(st.codes[550], 2);
	ck_assert_uint_eq(st.latency[LST_CONNECT].count, 2);
	ck_assert_uint_eq(st.latency[LST_CONNECT].min, 1000);
	ck_assert_uint_eq(st.latency[LST_MAIL].count, 6);
	ck_assert_uint_eq(st.latency[LST_RCPT].count, 6);
	ck_assert_uint_eq(st.latency[LST_DOT].count, 4);
	ck_assert_uint_eq(st.latency[LST_DOT].max, 1000);
	ck_assert_uint_eq(st.latency[LST_QUIT].count, 2);
	ck_assert_uint_eq(st.findings.n, 1);
	ck_assert_uint_eq(st.findings.v[0].n, 2);
	ck_assert_uint_eq(st.server_closed_early, 0);
	lst_free(&st);
	rpt_scenario_free(sc);
}
END_TEST

/* A dialog handed in gives exactly what building one gives. */
START_TEST(test_loadstat_shared_dialog_same_counts)
{
	lst_stats a, b;
	rpt_scenario *sc = session();
	dlg *d = dlg_build(sc->transcript);

	lst_init(&a);
	lst_init(&b);
	lst_add_session(&a, sc, NULL);
	lst_add_session(&b, sc, d);
	ck_assert_uint_eq(a.messages, 3);
	ck_assert_mem_eq(a.codes, b.codes, sizeof(a.codes));
	ck_assert_mem_eq(a.latency, b.latency, sizeof(a.latency));
	ck_assert_uint_eq(a.accepted, b.accepted);
	ck_assert_uint_eq(a.refused4, b.refused4);
	ck_assert_uint_eq(a.refused5, b.refused5);
	ck_assert_uint_eq(a.recipients_ok, b.recipients_ok);
	ck_assert_uint_eq(a.bytes_sent, b.bytes_sent);
	dlg_free(d);
	lst_free(&a);
	lst_free(&b);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_loadstat_errors_by_kind)
{
	lst_stats st;
	rpt_scenario *sc = rpt_scenario_new("load.x", "s", "f");

	lst_init(&st);
	rpt_scenario_set(sc, RPT_ERROR, "could not connect to 127.0.0.1:1: connection refused");
	lst_add_session(&st, sc, NULL);
	lst_add_session(&st, sc, NULL);
	ck_assert_uint_eq(st.error, 2);
	ck_assert_uint_eq(st.errors.n, 1);
	ck_assert_str_eq(st.errors.v[0].name, "connect-refused");
	ck_assert_str_eq(lst_error_kind("scenario deadline of 5 ms passed at step 2"), "deadline");
	ck_assert_str_eq(lst_error_kind(NULL), "other");
	lst_free(&st);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_loadstat_names_are_capped)
{
	lst_stats st;
	rpt_scenario *sc = rpt_scenario_new("load.x", "s", "f");
	char id[32];

	lst_init(&st);
	for (int i = 0; i < LST_NAMES_MAX + 10; i++) {
		snprintf(id, sizeof(id), "check.%d", i);
		rpt_scenario_add_finding(sc, id, "RFC 5321", RPT_INFO, 0, NULL, "x");
	}
	lst_add_session(&st, sc, NULL);
	ck_assert_uint_eq(st.findings.n, LST_NAMES_MAX);
	ck_assert_str_eq(st.findings.v[LST_NAMES_MAX - 1].name, "other");
	ck_assert_uint_eq(st.findings.v[LST_NAMES_MAX - 1].n, 11);
	lst_free(&st);
	rpt_scenario_free(sc);
}
END_TEST

static Suite *
loadstat_suite(void)
{
	Suite *s = suite_create("loadstat");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_loadstat_counts_messages_and_replies);
	tcase_add_test(tc, test_loadstat_shared_dialog_same_counts);
	tcase_add_test(tc, test_loadstat_errors_by_kind);
	tcase_add_test(tc, test_loadstat_names_are_capped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(loadstat_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
