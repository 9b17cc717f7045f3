/*
 * test_passive_client - the client-side passive checks on hand-made
 * transcripts (the harness played the server): each check passing and
 * failing, with the exact evidence, and clean swaks-like and Postfix-like
 * client sessions that must raise nothing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/check/catalog.h"
#include "harness/check/dialog.h"
#include "harness/check/passive.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/result.h"

/* ---- building transcripts ---------------------------------------- */

static uint64_t now_us;

static cap_transcript *
tx_new(void)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	now_us = 1700000000000000ULL;
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us), 0);
	return t;
}

static long
tx_data(cap_transcript *t, cap_dir dir, const char *s, size_t len)
{
	now_us += 1000;
	return cap_transcript_add_data(t, dir, now_us, s, len);
}

static long
tx_c(cap_transcript *t, const char *s)
{
	return tx_data(t, CAP_C2S, s, strlen(s));
}

static long
tx_s(cap_transcript *t, const char *s)
{
	return tx_data(t, CAP_S2C, s, strlen(s));
}

static long
tx_ev(cap_transcript *t, cap_kind kind, cap_dir dir)
{
	now_us += 1000;
	return cap_transcript_add_event(t, kind, dir, now_us);
}

static void
tx_wait_ms(unsigned ms)
{
	now_us += (uint64_t)ms * 1000u;
}

#define EHLO_LOCKSTEP	"250-mx.test\r\n250-SIZE 10000\r\n250 8BITMIME\r\n"
#define EHLO_PIPELINING	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n" \
			"250 CHUNKING\r\n"

/* Greeting (segment 1), EHLO (2) and its reply (3). */
static cap_transcript *
tx_hello(const char *ehlo_reply)
{
	cap_transcript *t = tx_new();

	ck_assert_int_eq(tx_s(t, "220 mx.test ESMTP\r\n"), 1);
	ck_assert_int_eq(tx_c(t, "EHLO client.example.org\r\n"), 2);
	ck_assert_int_eq(tx_s(t, ehlo_reply), 3);
	return t;
}

/* Runs the client-side checks; the scenario takes the transcript. */
static rpt_scenario *
run(cap_transcript *t)
{
	rpt_scenario *sc = rpt_scenario_new("test", NULL, NULL);
	dlg *d = dlg_build(t);

	chk_passive_client(t, d, sc);
	dlg_free(d);
	sc->transcript = t;
	return sc;
}

static size_t
count_id(const rpt_scenario *sc, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->nfindings; i++)
		n += strcmp(sc->findings[i].check, id) == 0;
	return n;
}

static size_t
count_verdict(const rpt_scenario *sc, rpt_verdict v)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->nfindings; i++)
		n += sc->findings[i].verdict == v;
	return n;
}

/* The verdict id was exercised with, or -1. */
static int
exercised(const rpt_scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->nexercised; i++) {
		if (strcmp(sc->exercised[i].check, id) == 0)
			return (int)sc->exercised[i].verdict;
	}
	return -1;
}

/* The only finding under id, asserted to have this verdict, step 0,
 * evidence at segment seg, offset off, and an "expected ..., got ..."
 * message containing `needle`. */
static const rpt_finding *
expect(const rpt_scenario *sc, const char *id, rpt_verdict v, size_t seg, size_t off,
    const char *needle)
{
	ck_assert_uint_eq(count_id(sc, id), 1);
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (strcmp(f->check, id) != 0)
			continue;
		ck_assert_int_eq(f->verdict, v);
		ck_assert_int_eq(f->step, 0);
		ck_assert_int_eq(f->evidence.present, 1);
		ck_assert_uint_eq(f->evidence.seg, seg);
		ck_assert_uint_eq(f->evidence.off, off);
		ck_assert_str_eq(f->refs, chk_catalog_find(id)->refs);
		ck_assert_ptr_nonnull(strstr(f->message, "expected "));
		ck_assert_ptr_nonnull(strstr(f->message, ", got "));
		ck_assert_msg(strstr(f->message, needle) != NULL, "\"%s\" not in \"%s\"", needle,
		    f->message);
		return f;
	}
	ck_abort_msg("no finding %s", id);
	return NULL;
}

#define ID_OPEN		"rfc5321.4.1.1.1.client-session-open"
#define ID_LOCKSTEP	"rfc5321.4.3.1.lockstep-client"
#define ID_ENDERS	"rfc2920.3.1.group-enders-last"
#define ID_AFTER_354	"rfc5321.3.3.client-data-after-354-only"
#define ID_STUFFING	"rfc5321.4.5.2.client-dot-stuffing"
#define ID_BARE		"rfc5321.2.3.8.client-no-bare-cr-lf"
#define ID_CANONICAL	"rfc3030.2.client-canonical-crlf"
#define ID_LINE_998	"rfc5322.2.1.1.client-line-998"
#define ID_QUIT		"rfc5321.4.1.1.10.client-quit"
#define ID_EVERY_STATUS	"rfc2920.3.1.check-every-status"
#define ID_PARAMS	"rfc5321.4.1.1.3.client-params-advertised"
#define ID_EHLO_ARG	"rfc5321.4.1.1.1.ehlo-argument"
#define ID_SIZE		"rfc1870.6.2.client-reply-handling"
#define ID_8BIT		"rfc6152.3.client-8bit-rules"
#define ID_DOUBLE_MAIL	"rfc5321.4.1.4.out-of-order-503"
#define ID_EXACT_SYNTAX	"rfc5321.4.1.1.client-exact-syntax"
#define ID_BDAT		"rfc3030.2.client-bdat-discipline"
#define ID_NO_UTF8	"rfc6531.3.2.client-no-utf8-unless-offered"
#define ID_UTF8_PARAM	"rfc6531.3.4.client-param-use"
#define ID_AUTH_CANCEL	"rfc4954.4.client-cancel-bad-challenge"

/* ---- clean sessions ---------------------------------------------- */

/* swaks --server ... --to bob@example.com: lock-step, one message. */
START_TEST(test_passive_client_swaks_session_clean)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;

	tx_s(t, "220 mx.test ESMTP harness\r\n");
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n");
	tx_c(t, "MAIL FROM:<alice@client.example.org>\r\n");
	tx_s(t, "250 2.1.0 Ok\r\n");
	tx_c(t, "RCPT TO:<bob@example.com>\r\n");
	tx_s(t, "250 2.1.5 Ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 End data with <CR><LF>.<CR><LF>\r\n");
	tx_c(t, "Date: Tue, 01 Dec 2026 00:00:00 +0000\r\nTo: bob@example.com\r\n"
	    "From: alice@client.example.org\r\nSubject: test Tue, 01 Dec 2026\r\n"
	    "Message-Id: <20261201000000.1234@client.example.org>\r\nX-Mailer: swaks\r\n\r\n"
	    "This is a test mailing\r\n\r\n");
	tx_c(t, ".\r\n");
	tx_s(t, "250 2.0.0 Ok: queued\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 2.0.0 Bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_OPEN), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_LOCKSTEP), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_AFTER_354), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_STUFFING), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_BARE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_LINE_998), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_PARAMS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_EHLO_ARG), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_8BIT), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_DOUBLE_MAIL), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_EXACT_SYNTAX), RPT_PASS);
	/* nothing refused, no SIZE=, no BDAT: not exercised */
	ck_assert_int_eq(exercised(sc, ID_BDAT), -1);
	ck_assert_int_eq(exercised(sc, ID_EVERY_STATUS), -1);
	ck_assert_int_eq(exercised(sc, ID_SIZE), -1);
	ck_assert_int_eq(exercised(sc, ID_CANONICAL), -1);
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

/* The Postfix smtp client: MAIL, RCPT, DATA pipelined; the final dot and
 * QUIT in one write; 8-bit content declared; two transactions with RSET
 * after a refused recipient. */
START_TEST(test_passive_client_postfix_session_clean)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;

	tx_s(t, "220 mx.test ESMTP\r\n");
	tx_c(t, "EHLO relay.example.org\r\n");
	tx_s(t, "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 CHUNKING\r\n");
	tx_c(t, "MAIL FROM:<alice@example.org> SIZE=412 BODY=8BITMIME\r\n"
	    "RCPT TO:<nobody@example.com> ORCPT=rfc822;nobody@example.com\r\n");
	tx_s(t, "250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.com>: unknown\r\n");
	/* every recipient refused: RSET, next message */
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 2.0.0 Ok\r\n");
	tx_c(t, "MAIL FROM:<alice@example.org> SIZE=412 BODY=8BITMIME\r\n"
	    "RCPT TO:<bob@example.com> NOTIFY=FAILURE\r\nDATA\r\n");
	tx_s(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	tx_c(t, "Received: by relay.example.org (Postfix)\r\nSubject: caf\xc3\xa9\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n..dotted\r\nsecond line\r\n.\r\nQUIT\r\n");
	tx_s(t, "250 2.0.0 Ok: queued as 4F1C32A0B1\r\n221 2.0.0 Bye\r\n");
	tx_ev(t, CAP_FIN, CAP_C2S);
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_OPEN), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_AFTER_354), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_PARAMS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_SIZE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_8BIT), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_EHLO_ARG), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_DOUBLE_MAIL), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_EXACT_SYNTAX), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_STUFFING), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_BARE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_LINE_998), RPT_PASS);
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

/* ---- one check at a time ----------------------------------------- */

START_TEST(test_passive_client_session_open)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* EHLO before the greeting: SHOULD, a WARN at the first byte */
	t = tx_new();
	ck_assert_int_eq(tx_c(t, "EHLO client.example.org\r\n"), 1);
	tx_s(t, "220 mx.test\r\n");
	tx_s(t, "250 mx.test\r\n");
	sc = run(t);
	expect(sc, ID_OPEN, RPT_WARN, 1, 0, "before the 220 greeting");
	ck_assert_uint_eq(count_id(sc, ID_LOCKSTEP), 0);
	rpt_scenario_free(sc);

	/* only the bytes sent before the greeting are quoted */
	t = tx_new();
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "220 mx.test\r\n");
	tx_s(t, "250 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_ptr_null(strstr(expect(sc, ID_OPEN, RPT_WARN, 1, 0, "EHLO")->message, "MAIL"));
	rpt_scenario_free(sc);

	/* EHLO after the first line of a two-line greeting: early too */
	t = tx_new();
	tx_s(t, "220-mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "EHLO client.example.org\r\n"), 2);
	tx_s(t, "220 mx.test ESMTP\r\n");
	tx_s(t, "250 mx.test\r\n");
	sc = run(t);
	expect(sc, ID_OPEN, RPT_WARN, 2, 0, "before the 220 greeting");
	rpt_scenario_free(sc);

	/* MAIL with no EHLO or HELO: MUST, a FAIL at the MAIL */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\r\n"), 2);
	tx_s(t, "503 5.5.1 EHLO first\r\n");
	sc = run(t);
	expect(sc, ID_OPEN, RPT_FAIL, 2, 0, "\"MAIL FROM:<a@client.example.org>\"");
	rpt_scenario_free(sc);

	/* HELO then MAIL, after the greeting: clean */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "HELO client.example.org\r\n");
	tx_s(t, "250 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_OPEN), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_lockstep)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* no PIPELINING: RCPT sent with MAIL */
	t = tx_hello(EHLO_LOCKSTEP);
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"),
	    4);
	tx_s(t, "250 ok\r\n250 ok\r\n");
	sc = run(t);
	expect(sc, ID_LOCKSTEP, RPT_FAIL, 4, strlen("MAIL FROM:<a@client.example.org>\r\n"),
	    "wait for the reply to MAIL");
	ck_assert_uint_eq(count_id(sc, ID_ENDERS), 0);
	rpt_scenario_free(sc);

	/* the first EHLO's reply is what enables PIPELINING: MAIL sent
	 * with the EHLO is lock-step's */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "EHLO client.example.org\r\nMAIL FROM:<a@client.example.org>\r\n"),
	    2);
	tx_s(t, EHLO_PIPELINING "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_LOCKSTEP, RPT_FAIL, 2, strlen("EHLO client.example.org\r\n"), "EHLO");
	rpt_scenario_free(sc);

	/* end-of-data then QUIT before the 250, without PIPELINING */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"), 10);
	tx_s(t, "250 ok\r\n221 bye\r\n");
	sc = run(t);
	expect(sc, ID_LOCKSTEP, RPT_FAIL, 10, strlen("Subject: x\r\n\r\nbody\r\n.\r\n"),
	    "the message content");
	ck_assert_uint_eq(count_id(sc, ID_STUFFING), 0);
	rpt_scenario_free(sc);

	/* QUIT after a long silence: a client giving up, not pipelining */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_wait_ms(60000);
	tx_c(t, "QUIT\r\n");
	tx_s(t, "250 ok\r\n221 bye\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	rpt_scenario_free(sc);

	/* a multi-line EHLO reply written a line at a time: MAIL after
	 * its first line is sent before the reply (RFC 5321 §4.2.1) */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "250-mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\r\n"), 4);
	tx_s(t, "250-SIZE 10000\r\n");
	tx_s(t, "250 8BITMIME\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_LOCKSTEP, RPT_FAIL, 4, 0, "wait for the reply to EHLO");
	rpt_scenario_free(sc);

	/* the same reply in pieces, MAIL after its last line: clean */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "250-mx.test\r\n");
	tx_s(t, "250-SIZE 10000\r\n");
	tx_s(t, "250 8BITMIME\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_LOCKSTEP), RPT_PASS);
	rpt_scenario_free(sc);

	/* the same, waiting: clean */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_LOCKSTEP), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), -1);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_group_enders)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* NOOP must end its group */
	t = tx_hello(EHLO_PIPELINING);
	ck_assert_int_eq(tx_c(t, "NOOP\r\nMAIL FROM:<a@client.example.org>\r\n"), 4);
	tx_s(t, "250 ok\r\n250 ok\r\n");
	sc = run(t);
	expect(sc, ID_ENDERS, RPT_FAIL, 4, strlen("NOOP\r\n"), "NOOP to be the last command");
	ck_assert_uint_eq(count_id(sc, ID_LOCKSTEP), 0);
	rpt_scenario_free(sc);

	/* HELP is not named by RFC 2920 §3.1: not judged */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "HELP\r\nNOOP\r\n");
	tx_s(t, "214 see RFC 5321\r\n250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), RPT_PASS);
	rpt_scenario_free(sc);

	/* DATA then RSET before DATA's reply: a command, not content */
	t = tx_hello(EHLO_PIPELINING);
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"
	    "DATA\r\nRSET\r\n"), 4);
	tx_s(t, "250 ok\r\n550 no\r\n554 no valid recipients\r\n250 ok\r\n");
	sc = run(t);
	expect(sc, ID_ENDERS, RPT_FAIL, 4, strlen("MAIL FROM:<a@client.example.org>\r\n"
	    "RCPT TO:<b@mx.test>\r\nDATA\r\n"), "DATA to be the last command");
	ck_assert_uint_eq(count_id(sc, ID_AFTER_354), 0);
	rpt_scenario_free(sc);

	/* AUTH with an initial response may be followed; RSET, MAIL, RCPT,
	 * BDAT anywhere */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@client.example.org>\r\n"
	    "RCPT TO:<b@mx.test>\r\nBDAT 3 LAST\r\nhi\n");
	tx_s(t, "235 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ENDERS), 0);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), RPT_PASS);
	/* "hi\n" is a bare LF in a chunk */
	expect(sc, ID_CANONICAL, RPT_FAIL, 4, strlen("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
	    "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\nBDAT 3 LAST\r\nhi"),
	    "bare LF");
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_data_before_354)
{
	cap_transcript *t;
	rpt_scenario *sc;
	size_t at = strlen("MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");

	/* content in the same write as DATA, the 354 comes after */
	t = tx_hello(EHLO_PIPELINING);
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"
	    "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"), 4);
	tx_s(t, "250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n");
	sc = run(t);
	expect(sc, ID_AFTER_354, RPT_FAIL, 4, at, "before the reply \"354\"");
	ck_assert_uint_eq(count_id(sc, ID_ENDERS), 0);
	ck_assert_uint_eq(count_id(sc, ID_LOCKSTEP), 0);
	rpt_scenario_free(sc);

	/* ... and when DATA is refused, the content reads as commands */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"), 8);
	tx_s(t, "554 5.5.1 no\r\n500 what\r\n500 what\r\n500 what\r\n500 what\r\n");
	sc = run(t);
	expect(sc, ID_AFTER_354, RPT_FAIL, 8, strlen("DATA\r\n"), "before the reply \"554\"");
	ck_assert_uint_eq(count_id(sc, ID_LOCKSTEP), 0);
	ck_assert_uint_eq(sc->nfindings, 1);
	rpt_scenario_free(sc);

	/* refused DATA, then RSET after the reply: clean */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "554 no valid recipients\r\n");
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_AFTER_354), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_dot_stuffing)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* ".\r\n" in the middle of the message, not doubled */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: x\r\n\r\nline\r\n.\r\nmore text\r\nand more\r\n.\r\n"),
	    10);
	tx_s(t, "250 ok\r\n500 what\r\n500 what\r\n500 what\r\n");
	sc = run(t);
	expect(sc, ID_STUFFING, RPT_FAIL, 10, strlen("Subject: x\r\n\r\nline\r\n"),
	    "(\"more text\")");
	ck_assert_uint_eq(count_id(sc, ID_LOCKSTEP), 0);
	ck_assert_uint_eq(sc->nfindings, 1);
	rpt_scenario_free(sc);

	/* doubled dots and a dot inside a line: clean */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	tx_c(t, "Subject: x\r\n\r\n..\r\n...\r\n..hidden\r\n .space\r\n.\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_STUFFING), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_bare_cr_lf)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* a command ended by a bare LF */
	t = tx_hello(EHLO_LOCKSTEP);
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org>\n"), 4);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_BARE, RPT_FAIL, 4, strlen("MAIL FROM:<a@client.example.org>"),
	    "bare LF in MAIL");
	rpt_scenario_free(sc);

	/* a bare CR in the content */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: x\r\n\r\nab\rcd\r\n.\r\n"), 10);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_BARE, RPT_FAIL, 10, strlen("Subject: x\r\n\r\nab"),
	    "bare CR in the message content");
	rpt_scenario_free(sc);

	/* BODY=BINARYMIME chunks are arbitrary octets; a CRLF split across
	 * two chunks is canonical */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "MAIL FROM:<a@client.example.org> BODY=BINARYMIME\r\nRCPT TO:<b@mx.test>\r\n"
	    "BDAT 3\r\na\nb");
	tx_s(t, "250 ok\r\n250 ok\r\n250 ok\r\n");
	tx_c(t, "RSET\r\nMAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"
	    "BDAT 2\r\nx\rBDAT 3 LAST\r\n\ny\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_BARE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_CANONICAL), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_line_998)
{
	cap_transcript *t;
	rpt_scenario *sc;
	char body[4096];
	size_t n = 0;

	/* 998 characters + CRLF, and "." + 998 + CRLF (1001 on the wire, a
	 * stuffed dot not counted): clean */
	memcpy(body, "Subject: x\r\n\r\n", 14);
	n = 14;
	memset(body + n, 'a', 998);
	n += 998;
	memcpy(body + n, "\r\n.", 3);
	n += 3;
	memset(body + n, 'b', 998);
	n += 998;
	memcpy(body + n, "\r\n.\r\n", 6);
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	tx_c(t, body);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_LINE_998), RPT_PASS);
	rpt_scenario_free(sc);

	/* 999 characters + CRLF */
	n = 14;
	memset(body + n, 'a', 999);
	n += 999;
	memcpy(body + n, "\r\n.\r\n", 6);
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, body), 10);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_LINE_998, RPT_FAIL, 10, 14, "a line of 1001 octets");
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_quit)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* FIN with no QUIT, nothing owed */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_ev(t, CAP_FIN, CAP_C2S), 6);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	ck_assert_int_eq(sc->findings[0].verdict, RPT_FAIL);
	ck_assert_uint_eq(sc->findings[0].evidence.seg, 6);
	ck_assert_ptr_nonnull(strstr(sc->findings[0].message, "got FIN without QUIT"));
	rpt_scenario_free(sc);

	/* QUIT, then RST before the 221: WARN */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "QUIT\r\n");
	ck_assert_int_eq(tx_ev(t, CAP_RST, CAP_C2S), 5);
	tx_s(t, "221 bye\r\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	ck_assert_int_eq(sc->findings[0].verdict, RPT_WARN);
	ck_assert_uint_eq(sc->findings[0].evidence.seg, 5);
	ck_assert_ptr_nonnull(strstr(sc->findings[0].message, "got RST before the reply"));
	rpt_scenario_free(sc);

	/* 421 then a close without QUIT: allowed (RFC 5321 §3.8) */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "421 4.3.2 shutting down\r\n");
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_QUIT), -1);
	rpt_scenario_free(sc);

	/* the client gave up waiting for a reply: not judged */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	rpt_scenario_free(sc);

	/* the server closed first: not judged */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_QUIT), -1);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_every_status)
{
	cap_transcript *t;
	rpt_scenario *sc;
	const char *group = "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<x@mx.test>\r\n"
	    "RCPT TO:<y@mx.test>\r\nDATA\r\n";

	/* every RCPT refused, DATA got 354, a whole message follows */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, group);
	tx_s(t, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: x\r\n\r\nbody\r\n.\r\n"), 6);
	tx_s(t, "554 no valid recipients\r\n");
	sc = run(t);
	expect(sc, ID_EVERY_STATUS, RPT_FAIL, 6, 0, "2 RCPT refused");
	ck_assert_uint_eq(sc->nfindings, 1);
	rpt_scenario_free(sc);

	/* ... the client takes the 354 for a refusal and sends QUIT, which
	 * the server reads as content that never ends (swaks 20201014) */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, group);
	tx_s(t, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n");
	ck_assert_int_eq(tx_c(t, "QUIT\r\n"), 6);
	tx_wait_ms(10000);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	expect(sc, ID_EVERY_STATUS, RPT_FAIL, 6, 0, "\"QUIT\\x0d\\x0a\" (content, never ended)");
	rpt_scenario_free(sc);

	/* ... a lone dot cut short by the end of the transcript: not judged */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, group);
	tx_s(t, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n");
	tx_c(t, ".\r");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_EVERY_STATUS), 0);
	rpt_scenario_free(sc);

	/* ... the lone dot: clean */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, group);
	tx_s(t, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n");
	tx_c(t, ".\r\n");
	tx_s(t, "554 no valid recipients\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_EVERY_STATUS), RPT_PASS);
	rpt_scenario_free(sc);

	/* one RCPT accepted: the message is sent, not judged */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, group);
	tx_s(t, "250 ok\r\n550 no\r\n250 ok\r\n354 go\r\n");
	tx_c(t, "Subject: x\r\n\r\nbody\r\n.\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_EVERY_STATUS), -1);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_params)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* HELO: no extension at all, yet SIZE= */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "HELO client.example.org\r\n");
	tx_s(t, "250 mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org> SIZE=100\r\n"), 4);
	tx_s(t, "555 5.5.4 unsupported\r\n");
	sc = run(t);
	expect(sc, ID_PARAMS, RPT_FAIL, 4, strlen("MAIL FROM:<a@client.example.org> "),
	    "SIZE=100 without SIZE");
	rpt_scenario_free(sc);

	/* NOTIFY= on RCPT without DSN */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "RCPT TO:<b@mx.test> NOTIFY=NEVER\r\n"), 6);
	tx_s(t, "555 5.5.4 unsupported\r\n");
	sc = run(t);
	expect(sc, ID_PARAMS, RPT_FAIL, 6, strlen("RCPT TO:<b@mx.test> "), "without DSN");
	rpt_scenario_free(sc);

	/* SIZE above the advertised maximum: SHOULD, WARN */
	t = tx_hello(EHLO_LOCKSTEP);
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<a@client.example.org> SIZE=20000\r\n"), 4);
	tx_s(t, "552 5.3.4 too big\r\n");
	sc = run(t);
	expect(sc, ID_SIZE, RPT_WARN, 4, strlen("MAIL FROM:<a@client.example.org> "),
	    "advertised SIZE 10000");
	ck_assert_int_eq(exercised(sc, ID_PARAMS), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_8bit)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* 8BITMIME offered, 8-bit content without BODY=8BITMIME */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: caf\xc3\xa9\r\n\r\nx\r\n.\r\n"), 10);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_8BIT, RPT_FAIL, 10, strlen("Subject: caf"), "got 0xc3 in the message content");
	rpt_scenario_free(sc);

	/* 8BITMIME not offered: said so */
	t = tx_hello("250-mx.test\r\n250 SIZE\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	ck_assert_int_eq(tx_c(t, "Subject: x\r\n\r\n\xe9t\xe9\r\n.\r\n"), 10);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_8BIT, RPT_FAIL, 10, strlen("Subject: x\r\n\r\n"), "8BITMIME was not offered");
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_utf8)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* SMTPUTF8 not offered: a UTF-8 recipient */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "RCPT TO:<us\xc3\xa9r@mx.test>\r\n"), 6);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_NO_UTF8, RPT_FAIL, 6, 0, "SMTPUTF8 was not offered");
	ck_assert_int_eq(count_id(sc, ID_UTF8_PARAM), 0);
	rpt_scenario_free(sc);

	/* a UTF-8 EHLO name, whatever is offered */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	ck_assert_int_eq(tx_c(t, "EHLO caf\xc3\xa9.example.org\r\n"), 2);
	tx_s(t, "250-mx.test\r\n250 SMTPUTF8\r\n");
	sc = run(t);
	expect(sc, ID_NO_UTF8, RPT_FAIL, 2, 0, "A-labels");
	rpt_scenario_free(sc);

	/* SMTPUTF8 offered, the MAIL without it, then a UTF-8 recipient */
	t = tx_hello("250-mx.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "RCPT TO:<us\xc3\xa9r@mx.test>\r\n"), 6);
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	expect(sc, ID_UTF8_PARAM, RPT_FAIL, 6, 0, "after a MAIL without it");
	ck_assert_int_eq(count_id(sc, ID_NO_UTF8), 0);
	rpt_scenario_free(sc);

	/* ... with it: both pass */
	t = tx_hello("250-mx.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org> SMTPUTF8\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<us\xc3\xa9r@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_int_eq(count_id(sc, ID_UTF8_PARAM), 0);
	ck_assert_int_eq(count_id(sc, ID_NO_UTF8), 0);
	ck_assert_int_eq(exercised(sc, ID_UTF8_PARAM), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_NO_UTF8), RPT_PASS);	/* the EHLO name */
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_ehlo_argument)
{
	static const char *const bad[] = { "EHLO localhost\r\n", "EHLO mail_host.example.org\r\n",
	    "EHLO\r\n", "EHLO [999.1.1.1]\r\n" };
	static const char *const good[] = { "EHLO client.example.org\r\n", "EHLO [192.0.2.1]\r\n",
	    "EHLO [IPv6:2001:db8::1]\r\n", "HELO client.example.org.\r\n" };
	cap_transcript *t;
	rpt_scenario *sc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = tx_new();
		tx_s(t, "220 mx.test\r\n");
		ck_assert_int_eq(tx_c(t, bad[i]), 2);
		tx_s(t, "250 mx.test\r\n");
		sc = run(t);
		expect(sc, ID_EHLO_ARG, RPT_FAIL, 2, 0, "fully-qualified");
		rpt_scenario_free(sc);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = tx_new();
		tx_s(t, "220 mx.test\r\n");
		tx_c(t, good[i]);
		tx_s(t, "250 mx.test\r\n");
		sc = run(t);
		ck_assert_uint_eq(sc->nfindings, 0);
		ck_assert_int_eq(exercised(sc, ID_EHLO_ARG), RPT_PASS);
		rpt_scenario_free(sc);
	}
}
END_TEST

START_TEST(test_passive_client_double_mail)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* a second MAIL after the first was accepted, nothing between */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "550 no\r\n");
	ck_assert_int_eq(tx_c(t, "MAIL FROM:<c@client.example.org>\r\n"), 8);
	tx_s(t, "503 5.5.1 nested MAIL\r\n");
	sc = run(t);
	expect(sc, ID_DOUBLE_MAIL, RPT_FAIL, 8, 0, "after \"MAIL FROM:<a@client.example.org>\"");
	rpt_scenario_free(sc);

	/* refused MAIL, then MAIL; RSET between; MAIL pipelined behind the
	 * final dot; MAIL after a refused DATA: all clean */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "451 later\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RSET\r\nMAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
	tx_c(t, "x\r\n.\r\nMAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n550 no\r\n554 no valid recipients\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_DOUBLE_MAIL), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

/* STARTTLS (the rest is ciphertext) and AUTH LOGIN: nothing to say. */
/* Greeting, EHLO offering AUTH LOGIN, "AUTH LOGIN" (segment 4) and a
 * 334 whose text is not base64 (5). */
static cap_transcript *
tx_bad_challenge(void)
{
	cap_transcript *t = tx_hello("250-mx.test\r\n250 AUTH LOGIN\r\n");

	ck_assert_int_eq(tx_c(t, "AUTH LOGIN\r\n"), 4);
	ck_assert_int_eq(tx_s(t, "334 !!!notbase64\r\n"), 5);
	return t;
}

START_TEST(test_passive_client_auth_cancel)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* "*" cancels: PASS */
	t = tx_bad_challenge();
	tx_c(t, "*\r\n");
	tx_s(t, "501 5.7.0 cancelled\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_AUTH_CANCEL), 0);
	ck_assert_int_eq(exercised(sc, ID_AUTH_CANCEL), RPT_PASS);
	rpt_scenario_free(sc);

	/* a response (the user name, masked as the harness records it): FAIL */
	t = tx_bad_challenge();
	ck_assert_int_eq(tx_c(t, "********\r\n"), 6);
	tx_s(t, "535 5.7.8 no\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	sc = run(t);
	expect(sc, ID_AUTH_CANCEL, RPT_FAIL, 6, 0, "credentials sent");
	ck_assert_ptr_null(strstr(sc->findings[0].message, "********"));
	rpt_scenario_free(sc);

	/* QUIT instead of "*": no secret, but no cancel either: WARN */
	t = tx_bad_challenge();
	ck_assert_int_eq(tx_c(t, "QUIT\r\n"), 6);
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	expect(sc, ID_AUTH_CANCEL, RPT_WARN, 6, 0, "got QUIT: nothing answered the challenge");
	rpt_scenario_free(sc);

	/* the client closes instead: WARN, at the FIN */
	t = tx_bad_challenge();
	ck_assert_int_eq(tx_ev(t, CAP_FIN, CAP_C2S), 6);
	sc = run(t);
	expect(sc, ID_AUTH_CANCEL, RPT_WARN, 6, 0, "got FIN: nothing answered the challenge");
	rpt_scenario_free(sc);

	/* the harness closed first, or the transcript just ends: nothing */
	t = tx_bad_challenge();
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_AUTH_CANCEL), 0);
	ck_assert_int_eq(exercised(sc, ID_AUTH_CANCEL), -1);
	rpt_scenario_free(sc);
	t = tx_bad_challenge();
	sc = run(t);
	ck_assert_int_eq(exercised(sc, ID_AUTH_CANCEL), -1);
	rpt_scenario_free(sc);

	/* base64 challenges (empty, padded) are not judged */
	t = tx_hello("250-mx.test\r\n250 AUTH LOGIN PLAIN\r\n");
	tx_c(t, "AUTH PLAIN\r\n");
	tx_s(t, "334 \r\n");
	tx_c(t, "AGEAYg==\r\n");
	tx_s(t, "535 5.7.8 no\r\n");
	tx_c(t, "AUTH LOGIN\r\n");
	tx_s(t, "334 VXNlcm5hbWU6\r\n");
	tx_c(t, "dXNlcg==\r\n");
	tx_s(t, "334 UGFzc3dvcmQ6\r\n");
	tx_c(t, "cGFzcw==\r\n");
	tx_s(t, "235 2.7.0 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_AUTH_CANCEL), 0);
	ck_assert_int_eq(exercised(sc, ID_AUTH_CANCEL), -1);
	rpt_scenario_free(sc);

	/* a pad character inside, and a second challenge that is bad */
	t = tx_hello("250-mx.test\r\n250 AUTH LOGIN\r\n");
	tx_c(t, "AUTH LOGIN\r\n");
	tx_s(t, "334 VXNl=cm5hbWU6\r\n");
	ck_assert_int_eq(tx_c(t, "dXNlcg==\r\n"), 6);
	sc = run(t);
	expect(sc, ID_AUTH_CANCEL, RPT_FAIL, 6, 0, "\"VXNl=cm5hbWU6\" (not base64)");
	rpt_scenario_free(sc);
	t = tx_hello("250-mx.test\r\n250 AUTH LOGIN\r\n");
	tx_c(t, "AUTH LOGIN\r\n");
	tx_s(t, "334 VXNlcm5hbWU6\r\n");
	tx_c(t, "dXNlcg==\r\n");
	tx_s(t, "334 Password:\r\n");
	ck_assert_int_eq(tx_c(t, "*\r\n"), 8);
	tx_s(t, "501 5.7.0 cancelled\r\n");
	sc = run(t);
	ck_assert_int_eq(exercised(sc, ID_AUTH_CANCEL), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_tls_and_auth_clean)
{
	cap_transcript *t;
	rpt_scenario *sc;

	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
	tx_c(t, "STARTTLS\r\n");
	tx_s(t, "220 2.0.0 go ahead\r\n");
	tx_ev(t, CAP_TLS_START, CAP_C2S);
	tx_data(t, CAP_C2S, "\x16\x03\x01\x00\x05hello", 10);
	tx_data(t, CAP_S2C, "\x16\x03\x03\x00\x02hi", 7);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_QUIT), -1);
	rpt_scenario_free(sc);

	t = tx_hello("250-mx.test\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n");
	tx_c(t, "AUTH LOGIN\r\n");
	tx_s(t, "334 VXNlcm5hbWU6\r\n");
	tx_c(t, "dXNlcg==\r\n");
	tx_s(t, "334 UGFzc3dvcmQ6\r\n");
	tx_c(t, "cGFzcw==\r\n");
	tx_s(t, "235 2.7.0 ok\r\n");
	tx_c(t, "MAIL FROM:<a@client.example.org> AUTH=<>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n354 go\r\n");
	tx_c(t, "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	tx_s(t, "250 ok\r\n221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_ENDERS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_PARAMS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_PASS);
	rpt_scenario_free(sc);

	/* AUTH LOGIN (no initial response) ends a group */
	t = tx_hello("250-mx.test\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n");
	ck_assert_int_eq(tx_c(t, "AUTH LOGIN\r\ndXNlcg==\r\n"), 4);
	tx_s(t, "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
	sc = run(t);
	expect(sc, ID_ENDERS, RPT_FAIL, 4, strlen("AUTH LOGIN\r\n"), "AUTH to be the last");
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_exact_syntax)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* a space after the colon */
	t = tx_hello(EHLO_LOCKSTEP);
	ck_assert_int_eq(tx_c(t, "MAIL FROM: <a@client.example.org>\r\n"), 4);
	tx_s(t, "501 5.5.4 syntax\r\n");
	sc = run(t);
	expect(sc, ID_EXACT_SYNTAX, RPT_FAIL, 4, 0, "expected MAIL FROM:<path>");
	rpt_scenario_free(sc);

	/* an argument on DATA */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "DATA now\r\n"), 8);
	tx_s(t, "501 5.5.4 no argument\r\n");
	sc = run(t);
	expect(sc, ID_EXACT_SYNTAX, RPT_FAIL, 8, 0, "DATA with no argument, got \"DATA now\"");
	rpt_scenario_free(sc);

	/* any letter case, a trailing space: clean */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "mail from:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "Rcpt To:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "QUIT \r\n");
	tx_s(t, "221 bye\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_EXACT_SYNTAX), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_client_bdat_discipline)
{
	cap_transcript *t;
	rpt_scenario *sc;

	/* BDAT without CHUNKING */
	t = tx_hello(EHLO_LOCKSTEP);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "BDAT 3 LAST\r\nabc"), 8);
	tx_s(t, "500 5.5.1 what\r\n");
	sc = run(t);
	expect(sc, ID_BDAT, RPT_FAIL, 8, 0, "without it");
	rpt_scenario_free(sc);

	/* a new chunk after the first was refused */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n");
	tx_c(t, "BDAT 3\r\nabc");
	tx_s(t, "552 5.3.4 too big\r\n");
	ck_assert_int_eq(tx_c(t, "BDAT 3 LAST\r\nxyz"), 8);
	tx_s(t, "503 5.5.1 no\r\n");
	sc = run(t);
	expect(sc, ID_BDAT, RPT_FAIL, 8, 0, "after a chunk was refused (\"552\")");
	rpt_scenario_free(sc);

	/* chunks pipelined before the refusal arrived, then RSET: clean */
	t = tx_hello(EHLO_PIPELINING);
	tx_c(t, "MAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"
	    "BDAT 3\r\nabcBDAT 3 LAST\r\nxyz");
	tx_s(t, "250 ok\r\n250 ok\r\n552 5.3.4 too big\r\n552 5.3.4 too big\r\n");
	tx_c(t, "RSET\r\nMAIL FROM:<a@client.example.org>\r\nRCPT TO:<b@mx.test>\r\n"
	    "BDAT 2 LAST\r\nok");
	tx_s(t, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_BDAT), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

/* Random SMTP-ish sessions: the checks run to the end on each (and ASan
 * watches), and every finding has evidence or names a close. */
START_TEST(test_passive_client_random_sessions)
{
	static const char *const c2s[] = { "EHLO a.b\r\n", "HELO x\r\n", "MAIL FROM:<a@b.c>",
	    " SIZE=99999", " BODY=8BITMIME", "\r\n", "RCPT TO:<d@e.f>\r\n", "DATA\r\n",
	    "BDAT 4", " LAST", "\r\n.\r\n", ".", "\n", "\r", "\xff", "QUIT\r\n",
	    "NOOP\r\n", "RSET\r\n", "AUTH PLAIN", "x" };
	static const char *const s2c[] = { "220 mx\r\n", "250 ok\r\n", "250-PIPELINING\r\n",
	    "250-SIZE 10\r\n", "354 go\r\n", "550 no\r\n", "421 bye\r\n", "221 bye\r\n",
	    "334 \r\n", "5" };
	unsigned x = 7;

	for (int round = 0; round < 300; round++) {
		cap_transcript *t = tx_new();
		rpt_scenario *sc;
		int n;

		x = x * 1103515245u + 12345u;
		n = 1 + (int)((x >> 16) % 40);
		for (int i = 0; i < n; i++) {
			unsigned r;

			x = x * 1103515245u + 12345u;
			r = x >> 16;
			if (r % 13 == 0)
				tx_ev(t, r % 2 ? CAP_FIN : CAP_RST, (r / 2) % 2 ? CAP_C2S : CAP_S2C);
			else if (r % 2)
				tx_c(t, c2s[(r / 2) % (sizeof(c2s) / sizeof(c2s[0]))]);
			else
				tx_s(t, s2c[(r / 2) % (sizeof(s2c) / sizeof(s2c[0]))]);
			if (r % 7 == 0)
				tx_wait_ms(40000);
		}
		sc = run(t);
		for (size_t i = 0; i < sc->nfindings; i++) {
			ck_assert_ptr_nonnull(strstr(sc->findings[i].message, "expected "));
			ck_assert_int_eq(sc->findings[i].evidence.present, 1);
		}
		rpt_scenario_free(sc);
	}
}
END_TEST

/* Whatever the bytes, the checks run to the end (and ASan watches). */
START_TEST(test_passive_client_garbage)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	char junk[512];
	unsigned x = 12345;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (char)(x >> 16);
	}
	tx_s(t, "220 mx.test\r\n");
	tx_data(t, CAP_C2S, junk, sizeof(junk));
	tx_s(t, "500 what\r\n");
	tx_data(t, CAP_C2S, "BDAT 99999999\r\n", 15);
	tx_ev(t, CAP_RST, CAP_C2S);
	sc = run(t);
	ck_assert_uint_ge(sc->nexercised, 1);
	rpt_scenario_free(sc);
}
END_TEST

static Suite *
passive_client_suite(void)
{
	Suite *s = suite_create("passive_client");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_passive_client_swaks_session_clean);
	tcase_add_test(tc, test_passive_client_postfix_session_clean);
	tcase_add_test(tc, test_passive_client_tls_and_auth_clean);
	tcase_add_test(tc, test_passive_client_session_open);
	tcase_add_test(tc, test_passive_client_lockstep);
	tcase_add_test(tc, test_passive_client_group_enders);
	tcase_add_test(tc, test_passive_client_data_before_354);
	tcase_add_test(tc, test_passive_client_dot_stuffing);
	tcase_add_test(tc, test_passive_client_bare_cr_lf);
	tcase_add_test(tc, test_passive_client_line_998);
	tcase_add_test(tc, test_passive_client_quit);
	tcase_add_test(tc, test_passive_client_every_status);
	tcase_add_test(tc, test_passive_client_double_mail);
	tcase_add_test(tc, test_passive_client_exact_syntax);
	tcase_add_test(tc, test_passive_client_bdat_discipline);
	tcase_add_test(tc, test_passive_client_params);
	tcase_add_test(tc, test_passive_client_8bit);
	tcase_add_test(tc, test_passive_client_utf8);
	tcase_add_test(tc, test_passive_client_auth_cancel);
	tcase_add_test(tc, test_passive_client_ehlo_argument);
	tcase_add_test(tc, test_passive_client_random_sessions);
	tcase_add_test(tc, test_passive_client_garbage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(passive_client_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
