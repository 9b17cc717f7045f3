/*
 * test_passive - the server-side passive checks on hand-made transcripts:
 * each check passing and failing, with the exact evidence, and a clean
 * Postfix-like session that must raise nothing.
 */
#include <check.h>
#include <signal.h>
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

/* Runs the passive checks; the scenario takes the transcript. */
static rpt_scenario *
run(cap_transcript *t)
{
	rpt_scenario *sc = rpt_scenario_new("test", NULL, NULL);
	dlg *d = dlg_build(t);

	chk_passive_server(t, d, sc);
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

/* The nth finding under id, asserted to have this verdict, step 0 and
 * evidence at segment seg, offset off. */
static const rpt_finding *
expect(const rpt_scenario *sc, const char *id, size_t nth, rpt_verdict v, size_t seg,
    size_t off)
{
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (strcmp(f->check, id) != 0 || nth-- > 0)
			continue;
		ck_assert_int_eq(f->verdict, v);
		ck_assert_int_eq(f->step, 0);
		ck_assert_int_eq(f->evidence.present, 1);
		ck_assert_uint_eq(f->evidence.seg, seg);
		ck_assert_uint_eq(f->evidence.off, off);
		ck_assert_ptr_nonnull(f->refs);
		ck_assert_ptr_nonnull(strstr(f->message, "expected") ? f->message :
		    strstr(f->message, "reply line") ? f->message : NULL);
		return f;
	}
	ck_abort_msg("no finding %s", id);
	return NULL;
}

#define ID_CODE_SYNTAX	"rfc5321.4.2.code-syntax"
#define ID_MULTILINE	"rfc5321.4.2.1.multiline-format"
#define ID_LINE_512	"rfc5321.4.5.3.1.5.reply-line-512"
#define ID_ESC_SYNTAX	"rfc3463.2.code-syntax"
#define ID_ESC_CLASS	"rfc2034.4.code-consistency"
#define ID_ESC_PRESENT	"rfc2034.4.codes-present"
#define ID_TABLE	"rfc5321.4.3.1.table-adherence"
#define ID_EHLO_SYNTAX	"rfc5321.4.1.1.1.ehlo-reply-syntax"
#define ID_GREETING	"rfc5321.3.1.greeting"
#define ID_554_QUIT	"rfc5321.3.1.554-waits-for-quit"
#define ID_ONE_REPLY	"rfc5321.4.2.one-reply-per-command"
#define ID_ORDER	"rfc2920.3.2.reply-order"
#define ID_QUIT		"rfc5321.4.1.1.10.quit-221-close"
#define ID_HOPS		"rfc5321.6.3.loop-detection"

/* ---- cases ------------------------------------------------------- */

START_TEST(test_passive_postfix_session_clean)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;

	tx_s(t, "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n");
	tx_c(t, "EHLO client.example.org\r\n");
	tx_s(t, "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
	    "250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	    "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
	tx_c(t, "MAIL FROM:<alice@client.example.org> SIZE=300\r\n");
	tx_s(t, "250 2.1.0 Ok\r\n");
	tx_c(t, "RCPT TO:<bob@example.com>\r\n");
	tx_s(t, "250 2.1.5 Ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 End data with <CR><LF>.<CR><LF>\r\n");
	tx_c(t, "Subject: hi\r\n\r\nhello\r\n..leading dot\r\n.\r\n");
	tx_s(t, "250 2.0.0 Ok: queued as 4F1C32A0B1\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 2.0.0 Bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	ck_assert_uint_eq(count_verdict(sc, RPT_WARN), 0);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_CODE_SYNTAX), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_MULTILINE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_LINE_512), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ESC_SYNTAX), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ESC_CLASS), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ESC_PRESENT), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_TABLE), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_EHLO_SYNTAX), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_GREETING), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_ONE_REPLY), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_PASS);
	/* nothing pipelined, no 554: those were not exercised */
	ck_assert_int_eq(exercised(sc, ID_ORDER), -1);
	ck_assert_int_eq(exercised(sc, ID_554_QUIT), -1);
	rpt_scenario_settle(sc);
	ck_assert_int_eq(sc->verdict, RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_code_syntax)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	ck_assert_int_eq(tx_s(t, "250-mx.test\r\n650 HELP\r\n"), 3);
	tx_c(t, "NOOP\r\n");
	ck_assert_int_eq(tx_s(t, "2500 ok\r\n"), 5);
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_CODE_SYNTAX), 2);
	expect(sc, ID_CODE_SYNTAX, 0, RPT_FAIL, 3, 13);
	expect(sc, ID_CODE_SYNTAX, 1, RPT_FAIL, 5, 0);
	/* reported once, under code-syntax only */
	ck_assert_uint_eq(count_id(sc, ID_MULTILINE), 0);
	ck_assert_uint_eq(count_id(sc, ID_TABLE), 0);
	ck_assert_int_eq(exercised(sc, ID_CODE_SYNTAX), RPT_FAIL);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_bare_lf_is_info)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\n");
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 ok\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_CODE_SYNTAX), 1);
	f = expect(sc, ID_CODE_SYNTAX, 0, RPT_INFO, 1, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "reply line ended by bare LF (RFC 5321 §2.3.8 "
	    "requires CRLF)"));
	ck_assert_ptr_nonnull(strstr(f->message, "2 such line"));
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	ck_assert_int_eq(exercised(sc, ID_CODE_SYNTAX), RPT_INFO);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_multiline_format)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	ck_assert_int_eq(tx_s(t, "250-mx.test\r\n251 SIZE\r\n"), 3);
	tx_c(t, "NOOP\r\n");
	ck_assert_int_eq(tx_s(t, "250x ok\r\n"), 5);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_MULTILINE), 2);
	f = expect(sc, ID_MULTILINE, 0, RPT_FAIL, 3, 13);
	ck_assert_ptr_nonnull(strstr(f->message, "expected code 250 on every line"));
	f = expect(sc, ID_MULTILINE, 1, RPT_FAIL, 5, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "0x78"));
	ck_assert_uint_eq(count_id(sc, ID_CODE_SYNTAX), 0);
	rpt_scenario_free(sc);

	t = tx_new();
	tx_s(t, "220-mx.test\r\n220-more\r\n220 end\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_MULTILINE), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_reply_line_512)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	vbuf b = VBUF_INIT;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	vbuf_append_str(&b, "250-mx.test\r\n250-X");
	for (int i = 0; i < 506; i++)
		vbuf_append_byte(&b, 'a');
	vbuf_append_str(&b, "\r\n250-Y");	/* 511 + CRLF = 513 octets above */
	for (int i = 0; i < 505; i++)
		vbuf_append_byte(&b, 'b');
	vbuf_append_str(&b, "\r\n250 OK\r\n");	/* 510 + CRLF = 512: fine */
	ck_assert_int_eq(tx_data(t, CAP_S2C, b.data, b.len), 3);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_LINE_512), 1);
	expect(sc, ID_LINE_512, 0, RPT_WARN, 3, 13);
	ck_assert_ptr_nonnull(strstr(sc->findings[0].message, "513 octets"));
	ck_assert_int_eq(exercised(sc, ID_LINE_512), RPT_WARN);
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	rpt_scenario_free(sc);
	vbuf_free(&b);
}
END_TEST

START_TEST(test_passive_enhanced_codes)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	tx_s(t, "250-mx.test\r\n250 ENHANCEDSTATUSCODES\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\n");
	ck_assert_int_eq(tx_s(t, "250 2.01.0 ok\r\n"), 5);
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	ck_assert_int_eq(tx_s(t, "550-5.1.1 no\r\n550 2.1.1 no\r\n"), 7);
	tx_c(t, "NOOP\r\n");
	ck_assert_int_eq(tx_s(t, "250 ok\r\n"), 9);
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go ahead\r\n");	/* 3yz: exempt */
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ESC_SYNTAX), 1);
	expect(sc, ID_ESC_SYNTAX, 0, RPT_FAIL, 5, 4);
	ck_assert_uint_eq(count_id(sc, ID_ESC_CLASS), 1);
	expect(sc, ID_ESC_CLASS, 0, RPT_FAIL, 7, 14 + 4);
	ck_assert_uint_eq(count_id(sc, ID_ESC_PRESENT), 1);
	f = expect(sc, ID_ESC_PRESENT, 0, RPT_FAIL, 9, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "2 line(s) in all"));
	rpt_scenario_free(sc);

	/* Without the keyword nothing is judged. */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_ESC_PRESENT), -1);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_table_adherence)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "NOOP\r\n");
	ck_assert_int_eq(tx_s(t, "354 what\r\n"), 3);
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_TABLE), 1);
	f = expect(sc, ID_TABLE, 0, RPT_WARN, 3, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "250"));
	ck_assert_ptr_nonnull(strstr(f->message, "NOOP"));
	ck_assert_ptr_nonnull(strstr(f->message, "354 what"));
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	rpt_scenario_free(sc);
}
END_TEST

/* An EHLO reply of one line per keyword passes; an empty last line (as
 * smtp-sink sends), a keyword with '_' or '!', or a control character in
 * a parameter each break the §4.1.1.1 grammar, with the line as evidence. */
static rpt_scenario *
ehlo_session(const char *reply)
{
	cap_transcript *t = tx_new();

	ck_assert_int_eq(tx_s(t, "220 mx.test ESMTP\r\n"), 1);
	ck_assert_int_eq(tx_c(t, "EHLO c.test\r\n"), 2);
	ck_assert_int_eq(tx_s(t, reply), 3);
	return run(t);
}

START_TEST(test_passive_ehlo_syntax)
{
	rpt_scenario *sc;
	const rpt_finding *f;

	sc = ehlo_session("250-mx.test greets you\r\n250-SIZE 1000\r\n250-X-EXT a=b\r\n"
	    "250 AUTH PLAIN LOGIN\r\n");
	ck_assert_uint_eq(count_id(sc, ID_EHLO_SYNTAX), 0);
	ck_assert_int_eq(exercised(sc, ID_EHLO_SYNTAX), RPT_PASS);
	rpt_scenario_free(sc);

	sc = ehlo_session("250-mx.test\r\n250-PIPELINING\r\n250 \r\n");
	ck_assert_uint_eq(count_id(sc, ID_EHLO_SYNTAX), 1);
	f = expect(sc, ID_EHLO_SYNTAX, 0, RPT_FAIL, 3, strlen("250-mx.test\r\n250-PIPELINING\r\n"));
	ck_assert_ptr_nonnull(strstr(f->message, "line 3"));
	ck_assert_int_eq(exercised(sc, ID_EHLO_SYNTAX), RPT_FAIL);
	rpt_scenario_free(sc);

	sc = ehlo_session("250-mx.test\r\n250-BAD_KW!\r\n250 8BITMIME\r\n");
	f = expect(sc, ID_EHLO_SYNTAX, 0, RPT_FAIL, 3, strlen("250-mx.test\r\n"));
	ck_assert_ptr_nonnull(strstr(f->message, "keyword"));
	rpt_scenario_free(sc);

	sc = ehlo_session("250-mx.test\r\n250-8BITMIME\r\n250 SIZE 10\x01\r\n");
	f = expect(sc, ID_EHLO_SYNTAX, 0, RPT_FAIL, 3, strlen("250-mx.test\r\n250-8BITMIME\r\n"));
	ck_assert_ptr_nonnull(strstr(f->message, "control"));
	rpt_scenario_free(sc);

	/* a refused EHLO carries no keyword list: nothing to judge */
	sc = ehlo_session("502 5.5.1 no\r\n");
	ck_assert_int_eq(exercised(sc, ID_EHLO_SYNTAX), -1);
	rpt_scenario_free(sc);
}
END_TEST

/* The greeting check on a one-reply session. */
static rpt_scenario *
greet(const char *g)
{
	cap_transcript *t = tx_new();

	ck_assert_int_eq(tx_s(t, g), 1);
	return run(t);
}

START_TEST(test_passive_greeting)
{
	rpt_scenario *sc;

	sc = greet("250 mx.test\r\n");
	expect(sc, ID_GREETING, 0, RPT_FAIL, 1, 0);
	rpt_scenario_free(sc);

	sc = greet("220\r\n");
	expect(sc, ID_GREETING, 0, RPT_WARN, 1, 0);
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	rpt_scenario_free(sc);

	sc = greet("220 -bad-.test hello\r\n");
	expect(sc, ID_GREETING, 0, RPT_FAIL, 1, 4);
	rpt_scenario_free(sc);

	static const char *const good[] = {
		"220 [192.0.2.1] ready\r\n",
		"220 [IPv6:2001:db8::1]\r\n",
		"220-mx1.example.test ESMTP\r\n220 more\r\n",
		"554 no service here\r\n",
		"421 busy\r\n",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		sc = greet(good[i]);
		ck_assert_uint_eq(count_id(sc, ID_GREETING), 0);
		ck_assert_int_eq(exercised(sc, ID_GREETING), RPT_PASS);
		rpt_scenario_free(sc);
	}
}
END_TEST

START_TEST(test_passive_554_waits_for_quit)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	long fin;

	/* Closes before QUIT. */
	tx_s(t, "554 mx.test no service\r\n");
	tx_c(t, "EHLO c.test\r\n");
	tx_s(t, "503 5.5.1 bad sequence\r\n");
	fin = tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_554_QUIT), 1);
	expect(sc, ID_554_QUIT, 0, RPT_FAIL, (size_t)fin, 0);
	rpt_scenario_free(sc);

	/* Waits for QUIT but answers EHLO with 250. */
	t = tx_new();
	tx_s(t, "554 mx.test no service\r\n");
	tx_c(t, "EHLO c.test\r\n");
	ck_assert_int_eq(tx_s(t, "250 mx.test\r\n"), 3);
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_554_QUIT), 1);
	expect(sc, ID_554_QUIT, 0, RPT_WARN, 3, 0);
	rpt_scenario_free(sc);

	/* Right: 503, then 221 and close; and a harness that closed first. */
	t = tx_new();
	tx_s(t, "554 mx.test no service\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\n");
	tx_s(t, "503 no\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_554_QUIT), RPT_PASS);
	rpt_scenario_free(sc);

	t = tx_new();
	tx_s(t, "554 mx.test no service\r\n");
	tx_ev(t, CAP_FIN, CAP_C2S);
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_554_QUIT), 0);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_unsolicited_and_premature)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	ck_assert_int_eq(tx_s(t, "250 unasked\r\n"), 2);
	tx_c(t, "NOO");
	ck_assert_int_eq(tx_s(t, "250 early\r\n"), 4);
	tx_c(t, "P\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n421 closing\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ONE_REPLY), 2);
	f = expect(sc, ID_ONE_REPLY, 0, RPT_FAIL, 2, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "unsolicited"));
	f = expect(sc, ID_ONE_REPLY, 1, RPT_FAIL, 4, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "before the command was completely sent"));
	/* the 421 after the 221 is not unsolicited; but it is data after 221 */
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_close_with_replies_owed)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	long fin, rst;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\n");
	tx_s(t, "250 ok\r\n");
	ck_assert_int_eq(tx_c(t, "RCPT TO:<b@mx.test>\r\n"), 4);
	fin = tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ONE_REPLY), 1);
	f = expect(sc, ID_ONE_REPLY, 0, RPT_FAIL, 4, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "RCPT"));
	(void)fin;
	rpt_scenario_free(sc);

	/* No greeting before a reset: evidence at the RST. */
	t = tx_new();
	rst = tx_ev(t, CAP_RST, CAP_S2C);
	sc = run(t);
	expect(sc, ID_ONE_REPLY, 0, RPT_FAIL, (size_t)rst, 0);
	rpt_scenario_free(sc);

	/* The harness closed first: not the server's fault. */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "NOOP\r\n");
	tx_ev(t, CAP_FIN, CAP_C2S);
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ONE_REPLY), 0);
	rpt_scenario_free(sc);

	/* A 421 last explains the close. */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\n");
	tx_s(t, "421 going down\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ONE_REPLY), 0);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_parser_limit_and_truncation)
{
	cap_transcript *t = tx_new();
	size_t n = HARNESS_LINE_HARD_MAX + 10;
	char *big = xmalloc(n);
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	memset(big, 'a', n);
	memcpy(big, "250-", 4);
	ck_assert_int_eq(tx_data(t, CAP_S2C, big, n), 3);
	t->truncated[CAP_C2S] = 1;
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ONE_REPLY), 2);
	f = expect(sc, ID_ONE_REPLY, 0, RPT_FAIL, 3, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "hard limit"));
	f = &sc->findings[sc->nfindings - 1];
	ck_assert_str_eq(f->check, ID_ONE_REPLY);
	ck_assert_int_eq(f->verdict, RPT_INFO);
	ck_assert_int_eq(f->evidence.present, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "C2S"));
	rpt_scenario_free(sc);
	xfree(big);
}
END_TEST

START_TEST(test_passive_reply_order)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	const rpt_finding *f;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	tx_s(t, "250-mx.test\r\n250 PIPELINING\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
	ck_assert_int_eq(tx_s(t, "250 ok\r\n354 go\r\n250 ok\r\n"), 5);
	tx_c(t, "RCPT TO:<c@mx.test>\r\nVRFY d\r\n");
	ck_assert_int_eq(tx_s(t, "252 maybe\r\n250 ok\r\n"), 7);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_ORDER), 2);
	f = expect(sc, ID_ORDER, 0, RPT_FAIL, 5, 8);
	ck_assert_ptr_nonnull(strstr(f->message, "354 only in reply to DATA"));
	f = expect(sc, ID_ORDER, 1, RPT_FAIL, 7, 0);
	ck_assert_ptr_nonnull(strstr(f->message, "VRFY"));
	rpt_scenario_free(sc);

	/* In order: passes. */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	tx_s(t, "250-mx.test\r\n250 PIPELINING\r\n");
	tx_c(t, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<x@mx.test>\r\nDATA\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n");
	tx_c(t, ".\r\n");
	tx_s(t, "250 ok\r\n");
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_ORDER), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_quit)
{
	cap_transcript *t = tx_new();
	rpt_scenario *sc;
	long fin;

	/* not 221 */
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "QUIT\r\n");
	ck_assert_int_eq(tx_s(t, "250 ok\r\n"), 3);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	expect(sc, ID_QUIT, 0, RPT_FAIL, 3, 0);
	rpt_scenario_free(sc);

	/* 221, then the harness gave up after 6 s */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_wait_ms(6000);
	fin = tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	expect(sc, ID_QUIT, 0, RPT_FAIL, (size_t)fin, 0);
	rpt_scenario_free(sc);

	/* 221, the harness closed after 1 s: cannot tell */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_wait_ms(1000);
	tx_ev(t, CAP_FIN, CAP_C2S);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 0);
	ck_assert_int_eq(exercised(sc, ID_QUIT), -1);
	rpt_scenario_free(sc);

	/* data after 221 */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	ck_assert_int_eq(tx_s(t, "250 more\r\n"), 4);
	tx_ev(t, CAP_FIN, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(count_id(sc, ID_QUIT), 1);
	expect(sc, ID_QUIT, 0, RPT_FAIL, 4, 0);
	rpt_scenario_free(sc);

	/* QUIT with an argument may get a syntax error; the next one 221 */
	t = tx_new();
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "QUIT now\r\n");
	tx_s(t, "501 5.5.4 syntax\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_RST, CAP_S2C);
	sc = run(t);
	ck_assert_uint_eq(sc->nfindings, 0);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_PASS);
	rpt_scenario_free(sc);
}
END_TEST

/* A session that sends a message with n Received fields and gets reply
 * after its final dot; the segment of that reply in *seg. */
static cap_transcript *
tx_hops(size_t n, const char *reply, long *seg)
{
	cap_transcript *t = tx_new();
	char *msg = NULL;

	tx_s(t, "220 mx.test ESMTP\r\n");
	tx_c(t, "EHLO h.test\r\n");
	tx_s(t, "250 mx.test\r\n");
	tx_c(t, "MAIL FROM:<a@h.test>\r\n");
	tx_s(t, "250 2.1.0 ok\r\n");
	tx_c(t, "RCPT TO:<b@mx.test>\r\n");
	tx_s(t, "250 2.1.5 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go ahead\r\n");
	for (size_t i = 0; i < n; i++) {
		char *m = xasprintf("%sReceived: from hop%zu.h.test by hop%zu.h.test; Tue, 1 Dec 2026 "
		    "00:00:00 +0000\r\n", msg ? msg : "", i, i + 1);

		xfree(msg);
		msg = m;
	}
	{
		/* A body line that looks like a field is not one. */
		char *m = xasprintf("%sSubject: hops\r\n\r\nReceived: in the body\r\n.\r\n",
		    msg ? msg : "");

		xfree(msg);
		msg = m;
	}
	tx_c(t, msg);
	xfree(msg);
	*seg = tx_s(t, reply);
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	tx_ev(t, CAP_FIN, CAP_S2C);
	return t;
}

START_TEST(test_passive_hops)
{
	rpt_scenario *sc;
	const rpt_finding *f;
	long seg;

	/* 99 Received fields accepted: PASS. */
	sc = run(tx_hops(99, "250 2.0.0 queued\r\n", &seg));
	ck_assert_uint_eq(count_id(sc, ID_HOPS), 0);
	ck_assert_int_eq(exercised(sc, ID_HOPS), RPT_PASS);
	rpt_scenario_free(sc);

	/* Refused, as by a limit of 50 or 30: WARN (a SHOULD), with the
	 * reply as evidence, never a FAIL. */
	sc = run(tx_hops(99, "554 5.4.0 Error: too many hops\r\n", &seg));
	ck_assert_uint_eq(count_id(sc, ID_HOPS), 1);
	ck_assert_uint_eq(count_verdict(sc, RPT_FAIL), 0);
	f = expect(sc, ID_HOPS, 0, RPT_WARN, (size_t)seg, 0);
	ck_assert_str_eq(f->message, "expected a message with 99 Received fields to be accepted, "
	    "got \"554 5.4.0 Error: too many hops\": a limit on Received fields SHOULD be at "
	    "least 100 (RFC 5321 §6.3), and this one looks lower");
	ck_assert_int_eq(exercised(sc, ID_HOPS), RPT_WARN);
	rpt_scenario_free(sc);
	sc = run(tx_hops(31, "450 4.4.6 too many Received headers\r\n", &seg));
	expect(sc, ID_HOPS, 0, RPT_WARN, (size_t)seg, 0);
	rpt_scenario_free(sc);

	/* Ordinary mail is no probe, and at 100 or more a refusal is the
	 * server's right: not judged either way. */
	sc = run(tx_hops(3, "554 5.7.1 refused\r\n", &seg));
	ck_assert_int_eq(exercised(sc, ID_HOPS), -1);
	rpt_scenario_free(sc);
	sc = run(tx_hops(100, "554 5.4.0 Error: too many hops\r\n", &seg));
	ck_assert_int_eq(exercised(sc, ID_HOPS), -1);
	ck_assert_uint_eq(count_id(sc, ID_HOPS), 0);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_emit_and_pass)
{
	rpt_scenario *sc = rpt_scenario_new("x", NULL, NULL);
	rpt_finding *f;

	f = chk_emit(sc, ID_TABLE, RPT_PASS, 3, NULL, "expected %d, got %d", 250, 354);
	ck_assert_int_eq(f->verdict, RPT_WARN);
	ck_assert_int_eq(f->step, 3);
	ck_assert_str_eq(f->message, "expected 250, got 354");
	ck_assert_str_eq(f->refs, chk_catalog_find(ID_TABLE)->refs);
	f = chk_emit(sc, ID_QUIT, RPT_INFO, 0, NULL, "note");
	ck_assert_int_eq(f->verdict, RPT_INFO);
	chk_pass(sc, ID_QUIT);
	ck_assert_int_eq(exercised(sc, ID_QUIT), RPT_INFO);
	chk_pass(sc, ID_GREETING);
	ck_assert_int_eq(exercised(sc, ID_GREETING), RPT_PASS);
	ck_assert_int_eq(exercised(sc, ID_TABLE), RPT_WARN);
	rpt_scenario_free(sc);
}
END_TEST

START_TEST(test_passive_unknown_id_aborts)
{
	rpt_scenario *sc = rpt_scenario_new("x", NULL, NULL);

	chk_pass(sc, "no.such.check");
	rpt_scenario_free(sc);
}
END_TEST

static Suite *
passive_suite(void)
{
	Suite *s = suite_create("passive");
	TCase *tc = tcase_create("core");
	TCase *harness_bug = tcase_create("harness-bug");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_passive_postfix_session_clean);
	tcase_add_test(tc, test_passive_code_syntax);
	tcase_add_test(tc, test_passive_bare_lf_is_info);
	tcase_add_test(tc, test_passive_multiline_format);
	tcase_add_test(tc, test_passive_reply_line_512);
	tcase_add_test(tc, test_passive_enhanced_codes);
	tcase_add_test(tc, test_passive_table_adherence);
	tcase_add_test(tc, test_passive_ehlo_syntax);
	tcase_add_test(tc, test_passive_greeting);
	tcase_add_test(tc, test_passive_554_waits_for_quit);
	tcase_add_test(tc, test_passive_unsolicited_and_premature);
	tcase_add_test(tc, test_passive_close_with_replies_owed);
	tcase_add_test(tc, test_passive_parser_limit_and_truncation);
	tcase_add_test(tc, test_passive_reply_order);
	tcase_add_test(tc, test_passive_quit);
	tcase_add_test(tc, test_passive_hops);
	tcase_add_test(tc, test_passive_emit_and_pass);
	suite_add_tcase(s, tc);
	/* Its own case, so that the others can run without fork. */
	tcase_set_timeout(harness_bug, 30);
	tcase_add_test_raise_signal(harness_bug, test_passive_unknown_id_aborts, SIGABRT);
	suite_add_tcase(s, harness_bug);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(passive_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
