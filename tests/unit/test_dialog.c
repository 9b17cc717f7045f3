/*
 * test_dialog - a transcript read as SMTP: pairing by counting, pipelined
 * groups, DATA and BDAT, premature and extra replies, TLS, limits, and
 * any bytes at any split.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "harness/smtp/codes.h"
#include "harness/smtp/line.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

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

/* ---- cases ------------------------------------------------------- */

/* Bytes lost by a capture: nothing is read across the hole. */
START_TEST(test_dialog_gap_stops_reading)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO a");
	ck_assert_int_eq(cap_transcript_add_gap(t, CAP_C2S, now_us + 1, 7), 3);
	ck_assert_uint_eq(t->segs[3].len, 7);
	ck_assert_uint_eq(t->segs[3].off, 6);
	ck_assert_int_eq(cap_transcript_add_gap(t, CAP_C2S, now_us + 1, 0), -1);
	tx_c(t, "test\r\nQUIT\r\n");
	tx_s(t, "250 ok\r\n221 bye\r\n");
	d = dlg_build(t);
	ck_assert_int_eq(d->gap, 3);
	ck_assert_uint_eq(d->nex, 1);	/* the greeting only */
	ck_assert_ptr_nonnull(d->ex[0].reply);
	ck_assert_uint_eq(d->nextra, 0);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_lockstep_session)
{
	cap_transcript *t = tx_new();
	dlg *d;

	ck_assert_int_eq(tx_s(t, "220 mx.example.test ESMTP\r\n"), 1);
	ck_assert_int_eq(tx_c(t, "EHLO client.test\r\n"), 2);
	ck_assert_int_eq(tx_s(t, "250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"), 3);
	ck_assert_int_eq(tx_c(t, "QUIT\r\n"), 4);
	ck_assert_int_eq(tx_s(t, "221 bye\r\n"), 5);
	ck_assert_int_eq(tx_ev(t, CAP_FIN, CAP_S2C), 6);
	ck_assert_int_eq(tx_ev(t, CAP_FIN, CAP_C2S), 7);
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 3);
	ck_assert_uint_eq(d->nextra, 0);
	ck_assert_int_eq(d->ex[0].kind, DLG_GREETING);
	ck_assert_int_eq(d->ex[0].reply->code, 220);
	ck_assert_uint_eq(d->ex[0].s2c_off, 0);
	ck_assert_uint_eq(d->ex[0].s2c_seg_first, 1);
	ck_assert_uint_eq(d->ex[0].c2s_seg_first, 0);
	ck_assert_int_eq(d->ex[1].kind, DLG_COMMAND);
	ck_assert_int_eq(d->ex[1].cmd.verb, SMTP_VERB_EHLO);
	ck_assert_str_eq(d->ex[1].line, "EHLO client.test");
	ck_assert_uint_eq(d->ex[1].c2s_off, 0);
	ck_assert_uint_eq(d->ex[1].c2s_len, 18);
	ck_assert_uint_eq(d->ex[1].c2s_seg_first, 2);
	ck_assert_uint_eq(d->ex[1].c2s_seg_last, 2);
	ck_assert_int_eq(d->ex[1].reply->code, 250);
	ck_assert_uint_eq(d->ex[1].reply->nlines, 3);
	ck_assert_uint_eq(d->ex[1].s2c_off, 27);
	ck_assert_uint_eq(d->ex[1].s2c_seg_first, 3);
	ck_assert_uint_eq(d->ex[1].exts, 0);
	ck_assert_int_eq(d->ex[2].cmd.verb, SMTP_VERB_QUIT);
	ck_assert_uint_eq(d->ex[2].exts, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE);
	ck_assert_int_eq(d->ex[2].reply->code, 221);
	ck_assert_int_eq(d->ex[2].pipelined, 0);
	ck_assert_int_eq(d->ex[2].premature, 0);
	ck_assert_int_eq(d->have_ehlo, 1);
	ck_assert_str_eq(d->ehlo.domain, "mx.example.test");
	ck_assert_uint_eq(d->exts, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE);
	ck_assert_int_eq(d->server_fin, 6);
	ck_assert_int_eq(d->client_fin, 7);
	ck_assert_int_eq(d->server_rst, -1);
	ck_assert_int_eq(d->client_rst, -1);
	ck_assert_int_eq(d->tls_start, -1);
	ck_assert_int_eq(d->reply_error, 0);
	ck_assert_uint_eq(d->c2s_pending, 0);
	ck_assert_int_eq(dlg_unanswered(d, 2), 0);
	ck_assert_int_eq(dlg_unanswered(d, 3), 0);
	dlg_free(d);
	dlg_free(NULL);
	cap_transcript_free(t);
}
END_TEST

/* The messages of one session, each in one direction. */
static const struct msg {
	cap_dir dir;
	const char *s;
} session[] = {
	{ CAP_S2C, "220 mx.example.test ESMTP\r\n" },
	{ CAP_C2S, "EHLO c.test\r\n" },
	{ CAP_S2C, "250-mx.example.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n" },
	{ CAP_C2S, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n" },
	{ CAP_S2C, "250 ok\r\n250 ok\r\n354 go\r\n" },
	{ CAP_C2S, "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n" },
	{ CAP_S2C, "250 queued\r\n" },
	{ CAP_C2S, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nBDAT 7 LAST\r\nab\r\n.\r\n" },
	{ CAP_S2C, "250 ok\r\n250 ok\r\n250 queued\r\n" },
	{ CAP_C2S, "QUIT\r\n" },
	{ CAP_S2C, "221 bye\r\n" },
};

/* The session with every message cut into `piece`-byte segments. */
static cap_transcript *
session_split(size_t piece)
{
	cap_transcript *t = tx_new();

	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		size_t len = strlen(session[i].s);

		for (size_t off = 0; off < len; off += piece)
			ck_assert_int_ge(tx_data(t, session[i].dir, session[i].s + off,
			    len - off < piece ? len - off : piece), 0);
	}
	tx_ev(t, CAP_FIN, CAP_S2C);
	return t;
}

START_TEST(test_dialog_split_invariance)
{
	cap_transcript *whole = session_split(4096);
	dlg *ref = dlg_build(whole);

	ck_assert_uint_eq(ref->nex, 10);
	ck_assert_int_eq(ref->ex[6].kind, DLG_COMMAND);
	ck_assert_int_eq(ref->ex[8].kind, DLG_BDAT);
	ck_assert_uint_eq(ref->ex[8].c2s_len, 13 + 7);
	for (size_t piece = 1; piece <= 9; piece++) {
		cap_transcript *t = session_split(piece);
		dlg *d = dlg_build(t);

		ck_assert_uint_eq(d->nex, ref->nex);
		ck_assert_uint_eq(d->nextra, 0);
		for (size_t i = 0; i < d->nex; i++) {
			const dlg_exchange *a = &d->ex[i], *b = &ref->ex[i];

			ck_assert_int_eq(a->kind, b->kind);
			ck_assert_str_eq(a->line, b->line);
			ck_assert_uint_eq(a->c2s_off, b->c2s_off);
			ck_assert_uint_eq(a->c2s_len, b->c2s_len);
			ck_assert_int_eq(a->cmd.verb, b->cmd.verb);
			ck_assert_ptr_nonnull(a->reply);
			ck_assert_int_eq(a->reply->code, b->reply->code);
			ck_assert_uint_eq(a->reply->nlines, b->reply->nlines);
			ck_assert_uint_eq(a->s2c_off, b->s2c_off);
			ck_assert_int_eq(a->pipelined, b->pipelined);
			ck_assert_uint_eq(a->group, b->group);
			ck_assert_int_eq(a->premature, 0);
			ck_assert_uint_eq(a->exts, b->exts);
			ck_assert_uint_eq(a->line_flags, b->line_flags);
			/* the segments hold the first byte (the greeting has none) */
			if (a->kind == DLG_GREETING)
				continue;
			ck_assert_uint_le(t->segs[a->c2s_seg_first].off, a->c2s_off);
			ck_assert_uint_gt(t->segs[a->c2s_seg_first].off + t->segs[a->c2s_seg_first].len,
			    a->c2s_off);
			ck_assert_uint_le(t->segs[a->c2s_seg_last].off, a->c2s_off + a->c2s_len - 1);
			ck_assert_uint_ge(t->segs[a->c2s_seg_last].off + t->segs[a->c2s_seg_last].len,
			    a->c2s_off + a->c2s_len);
			ck_assert_uint_le(t->segs[a->s2c_seg_first].off, a->s2c_off);
			ck_assert_uint_gt(t->segs[a->s2c_seg_first].off + t->segs[a->s2c_seg_first].len,
			    a->s2c_off);
		}
		ck_assert_uint_eq(d->c2s_pending, 0);
		dlg_free(d);
		cap_transcript_free(t);
	}
	dlg_free(ref);
	cap_transcript_free(whole);
}
END_TEST

START_TEST(test_dialog_pipelined_groups)
{
	cap_transcript *whole = session_split(4096);
	dlg *d = dlg_build(whole);

	/* greeting 0; EHLO 1; MAIL RCPT DATA 2; content 3; MAIL RCPT BDAT 4; QUIT 5 */
	static const size_t group[] = { 0, 1, 2, 2, 2, 3, 4, 4, 4, 5 };
	static const int piped[] = { 0, 0, 0, 1, 1, 0, 0, 1, 1, 0 };

	ck_assert_uint_eq(d->nex, 10);
	for (size_t i = 0; i < d->nex; i++) {
		ck_assert_uint_eq(d->ex[i].group, group[i]);
		ck_assert_int_eq(d->ex[i].pipelined, piped[i]);
	}
	ck_assert_int_eq(d->ex[5].kind, DLG_CONTENT);
	ck_assert_int_eq(d->ex[5].reply->code, 250);
	ck_assert_uint_eq(d->ex[8].exts & SMTP_EXT_CHUNKING, SMTP_EXT_CHUNKING);
	dlg_free(d);
	cap_transcript_free(whole);
}
END_TEST

START_TEST(test_dialog_data_354_vs_554)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	/* Content sent before the reply to DATA: held, then read as
	 * content once the 354 comes. */
	tx_c(t, "DATA\r\nQUIT\r\n.\r\n");
	tx_s(t, "354 go\r\n");
	tx_s(t, "250 ok\r\n");
	/* Here the same bytes after a 554 are commands. */
	tx_c(t, "DATA\r\nNOOP\r\n.\r\n");
	tx_s(t, "554 no\r\n250 ok\r\n500 what\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 6);
	ck_assert_int_eq(d->ex[1].cmd.verb, SMTP_VERB_DATA);
	ck_assert_int_eq(d->ex[2].kind, DLG_CONTENT);
	ck_assert_uint_eq(d->ex[2].c2s_off, 6);
	ck_assert_uint_eq(d->ex[2].c2s_len, 9);
	ck_assert_int_eq(d->ex[2].pipelined, 1);
	ck_assert_uint_eq(d->ex[2].group, d->ex[1].group);
	ck_assert_int_eq(d->ex[2].reply->code, 250);
	ck_assert_int_eq(d->ex[3].cmd.verb, SMTP_VERB_DATA);
	ck_assert_int_eq(d->ex[3].reply->code, 554);
	ck_assert_int_eq(d->ex[4].kind, DLG_COMMAND);
	ck_assert_int_eq(d->ex[4].cmd.verb, SMTP_VERB_NOOP);
	ck_assert_int_eq(d->ex[4].pipelined, 1);
	ck_assert_int_eq(d->ex[4].reply->code, 250);
	ck_assert_int_eq(d->ex[5].kind, DLG_COMMAND);
	ck_assert_str_eq(d->ex[5].line, ".");
	ck_assert_int_eq(d->ex[5].reply->code, 500);
	ck_assert_uint_eq(d->nextra, 0);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_content_end)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	/* ".\r\n" right away: an empty message */
	tx_c(t, ".\r\n");
	tx_s(t, "250 ok\r\n");
	tx_c(t, "DATA\r\n");
	tx_s(t, "354 go\r\n");
	/* "\n.\n" and "\r\n.\n" end nothing; dot-stuffing does not end it;
	 * the end is split across segments */
	tx_c(t, "a\n.\nb\r\n.\nc\r\n..\r\nd\r\n.");
	tx_c(t, "\r\nNOOP\r\n");
	tx_s(t, "250 ok\r\n250 ok\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 6);
	ck_assert_int_eq(d->ex[2].kind, DLG_CONTENT);
	ck_assert_uint_eq(d->ex[2].c2s_len, 3);
	ck_assert_str_eq(d->ex[2].line, "");
	ck_assert_int_eq(d->ex[4].kind, DLG_CONTENT);
	ck_assert_uint_eq(d->ex[4].c2s_off, 9 + 6);
	ck_assert_uint_eq(d->ex[4].c2s_len, strlen("a\n.\nb\r\n.\nc\r\n..\r\nd\r\n.\r\n"));
	ck_assert_uint_eq(d->ex[4].c2s_seg_last, d->ex[4].c2s_seg_first + 1);
	ck_assert_uint_eq(d->ex[4].line_flags & SMTP_LINE_BARE_LF, SMTP_LINE_BARE_LF);
	ck_assert_int_eq(d->ex[5].cmd.verb, SMTP_VERB_NOOP);
	ck_assert_int_eq(d->ex[5].reply->code, 250);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_bdat)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	/* the chunk holds what looks like commands, and is split */
	tx_c(t, "BDAT 12\r\nQUIT\r\n");
	tx_c(t, "RSET\r\nbdat 0 LAST\r\nBDAT x\r\n");
	tx_s(t, "250 a\r\n250 b\r\n501 c\r\n");
	tx_c(t, "BDAT 100\r\nshort");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 4);
	ck_assert_int_eq(d->ex[1].kind, DLG_BDAT);
	ck_assert_str_eq(d->ex[1].line, "BDAT 12");
	ck_assert_uint_eq(d->ex[1].c2s_off, 0);
	ck_assert_uint_eq(d->ex[1].c2s_len, 9 + 12);
	ck_assert_uint_eq(d->ex[1].c2s_seg_first, 2);
	ck_assert_uint_eq(d->ex[1].c2s_seg_last, 3);
	ck_assert_int_eq(d->ex[2].kind, DLG_BDAT);
	ck_assert_int_eq(d->ex[2].cmd.verb, SMTP_VERB_BDAT);
	ck_assert_uint_eq(d->ex[2].c2s_len, 13);
	ck_assert_int_eq(d->ex[3].kind, DLG_COMMAND);
	ck_assert_int_eq(d->ex[3].cmd.verb, SMTP_VERB_BDAT);
	ck_assert_int_eq(d->ex[3].reply->code, 501);
	/* an unfinished chunk is pending, not an exchange */
	ck_assert_uint_eq(d->c2s_pending, 10 + 5);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_premature_reply)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "NOO");
	tx_s(t, "250 early\r\n");
	tx_c(t, "P\r\n");
	tx_c(t, "RSET\r\n");
	tx_s(t, "250 o");
	tx_s(t, "k\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 3);
	ck_assert_uint_eq(d->nextra, 0);
	ck_assert_int_eq(d->ex[1].cmd.verb, SMTP_VERB_NOOP);
	ck_assert_ptr_nonnull(d->ex[1].reply);
	ck_assert_int_eq(d->ex[1].premature, 1);
	ck_assert_uint_eq(d->ex[1].s2c_seg_first, 3);
	ck_assert_uint_eq(d->ex[1].c2s_seg_first, 2);
	ck_assert_uint_eq(d->ex[1].c2s_seg_last, 4);
	ck_assert_int_eq(d->ex[2].premature, 0);
	ck_assert_int_eq(d->ex[2].pipelined, 0);
	ck_assert_int_eq(d->ex[2].reply->code, 250);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_extra_replies)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_s(t, "250 unasked\r\n");
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 ok\r\n421 shutting down\r\n");
	tx_ev(t, CAP_RST, CAP_S2C);
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 2);
	ck_assert_uint_eq(d->nextra, 2);
	ck_assert_int_eq(d->extra[0].reply->code, 250);
	ck_assert_uint_eq(d->extra[0].s2c_off, 13);
	ck_assert_uint_eq(d->extra[0].s2c_seg_first, 2);
	ck_assert_int_eq(d->extra[1].reply->code, 421);
	ck_assert_uint_eq(d->extra[1].s2c_off, 13 + 13 + 8);
	ck_assert_int_eq(d->ex[1].reply->code, 250);
	ck_assert_int_eq(d->server_rst, 5);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_tls_stops_reading)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "STARTTLS\r\n");
	tx_s(t, "220 go ahead\r\n");
	ck_assert_int_eq(tx_ev(t, CAP_TLS_START, CAP_C2S), 4);
	tx_c(t, "\x16\x03\x01\x02\x00\x01\x00\r\n");
	tx_s(t, "\x16\x03\x03\x00\x5a\x02\r\n");
	ck_assert_int_eq(tx_ev(t, CAP_FIN, CAP_C2S), 7);
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 2);
	ck_assert_uint_eq(d->nextra, 0);
	ck_assert_int_eq(d->tls_start, 4);
	ck_assert_int_eq(d->client_fin, 7);
	ck_assert_uint_eq(d->c2s_pending, 0);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_tls_plaintext_goes_on)
{
	cap_transcript *t = tx_new();
	dlg *d;

	/* A live run keeps what TLS carried: the dialog starts over after
	 * the event. The NOOP written with STARTTLS is owed nothing, a stray
	 * plaintext line after the 220 is no reply, and the extensions are
	 * those of the EHLO inside TLS. */
	t->tls_plaintext = 1;
	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO a.test\r\n");
	tx_s(t, "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
	tx_c(t, "STARTTLS\r\nNOOP\r\n");
	tx_s(t, "220 go ahead\r\n250-fa");
	ck_assert_int_eq(tx_ev(t, CAP_TLS_START, CAP_C2S), 6);
	tx_c(t, "EHLO a.test\r\n");
	tx_s(t, "250-mx.test\r\n250 SIZE 100\r\n");
	tx_c(t, "QUIT\r\n");
	tx_s(t, "221 bye\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 6);	/* greeting, EHLO, STARTTLS, NOOP, EHLO, QUIT */
	ck_assert_uint_eq(d->nextra, 0);
	ck_assert_int_eq(d->tls_start, 6);
	ck_assert_int_eq(d->ex[2].reply->code, 220);
	ck_assert_ptr_null(d->ex[3].reply);
	ck_assert_int_eq(d->ex[3].tls_dropped, 1);
	ck_assert_int_eq(dlg_unanswered(d, 3), 0);
	ck_assert_int_eq(d->ex[4].cmd.verb, SMTP_VERB_EHLO);
	ck_assert_int_eq(d->ex[4].reply->code, 250);
	ck_assert_uint_eq(d->ex[4].s2c_off, 13 + 43 + 20);
	ck_assert_int_eq(d->ex[5].reply->code, 221);
	ck_assert_int_eq(d->have_ehlo, 1);
	ck_assert_uint_eq(d->exts & SMTP_EXT_PIPELINING, 0);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_reply_hard_limit)
{
	cap_transcript *t = tx_new();
	size_t n = HARNESS_LINE_HARD_MAX + 100;
	char *big = xmalloc(n);
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	memcpy(big, "250-", 4);
	memset(big + 4, 'a', n - 4);
	tx_data(t, CAP_S2C, big, n);
	tx_s(t, "\r\n250 ok\r\n");
	d = dlg_build(t);
	ck_assert_int_eq(d->reply_error, 1);
	ck_assert_ptr_nonnull(d->reply_error_msg);
	ck_assert_ptr_nonnull(strstr(d->reply_error_msg, "hard limit"));
	ck_assert_uint_eq(d->reply_error_off, 13);
	ck_assert_ptr_null(d->ex[1].reply);
	ck_assert_int_eq(dlg_unanswered(d, 1), 1);
	dlg_free(d);
	cap_transcript_free(t);
	xfree(big);
}
END_TEST

START_TEST(test_dialog_exts_and_helo)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_c(t, "EHLO c.test\r\n");
	tx_s(t, "250-mx.test\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 2.0.0 ok\r\n");
	tx_c(t, "HELO c.test\r\n");
	tx_s(t, "250 mx.test\r\n");
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 ok\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 5);
	ck_assert_uint_eq(d->ex[2].exts, SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_STARTTLS);
	ck_assert_uint_eq(d->ex[3].exts, SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_STARTTLS);
	ck_assert_uint_eq(d->ex[4].exts, 0);
	ck_assert_uint_eq(d->exts, 0);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_garbage_and_flags)
{
	cap_transcript *t = tx_new();
	size_t n = HARNESS_LINE_HARD_MAX * 2 + 10;
	char *big = xmalloc(n);
	dlg *d;

	tx_s(t, "220 mx.test\r\n");
	tx_data(t, CAP_C2S, "\x01\xff garbage\n", 11);
	tx_data(t, CAP_C2S, "NO\0OP\r\n", 7);
	memset(big, 'x', n);
	tx_data(t, CAP_C2S, big, n);
	tx_c(t, "\r\nQUI");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 4);
	ck_assert_int_eq(d->ex[1].cmd.verb, SMTP_VERB_UNKNOWN);
	ck_assert_uint_eq(d->ex[1].line_flags & (SMTP_LINE_BARE_LF | SMTP_LINE_8BIT),
	    SMTP_LINE_BARE_LF | SMTP_LINE_8BIT);
	ck_assert_uint_eq(d->ex[2].line_flags & SMTP_LINE_NUL, SMTP_LINE_NUL);
	ck_assert_int_eq(memcmp(d->ex[2].line, "NO\0OP", 6), 0);
	/* one over-long line is one exchange, its first bytes kept */
	ck_assert_uint_eq(d->ex[3].c2s_len, n + 2);
	ck_assert_uint_eq(strlen(d->ex[3].line), HARNESS_LINE_HARD_MAX);
	ck_assert_uint_eq(d->ex[3].line_flags & SMTP_LINE_TOO_LONG_HARD, SMTP_LINE_TOO_LONG_HARD);
	ck_assert_int_eq(d->ex[3].pipelined, 1);
	ck_assert_uint_eq(d->c2s_pending, 3);
	ck_assert_int_eq(dlg_unanswered(d, 3), 1);
	dlg_free(d);
	cap_transcript_free(t);
	xfree(big);
}
END_TEST

START_TEST(test_dialog_random_bytes)
{
	/* Any bytes, any split, either side: no crash, no leak, and every
	 * exchange lies inside the stream. */
	unsigned seed = 12345;
	static const char alphabet[] = "\r\n. 0123BDATbdat25-4\x00\xff";

	for (int round = 0; round < 200; round++) {
		cap_transcript *t = round % 3 ? tx_new() : cap_transcript_new(NULL, NULL);
		dlg *d;

		for (int k = 0; k < 60; k++) {
			char buf[64];
			size_t len = 1 + (size_t)(rand_r(&seed) % sizeof(buf));

			for (size_t i = 0; i < len; i++)
				buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			if (rand_r(&seed) % 17 == 0)
				tx_ev(t, (cap_kind)(1 + rand_r(&seed) % 4), (cap_dir)(rand_r(&seed) % 2));
			else
				tx_data(t, (cap_dir)(rand_r(&seed) % 2), buf, len);
		}
		d = dlg_build(t);
		for (size_t i = 0; i < d->nex; i++) {
			ck_assert_uint_le(d->ex[i].c2s_off + d->ex[i].c2s_len, t->stream[CAP_C2S].len);
			if (d->ex[i].reply != NULL)
				ck_assert_uint_lt(d->ex[i].s2c_off, t->stream[CAP_S2C].len);
		}
		ck_assert_uint_le(d->c2s_pending, t->stream[CAP_C2S].len);
		dlg_free(d);
		cap_transcript_free(t);
	}
}
END_TEST

START_TEST(test_dialog_no_open_event)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	dlg *d;

	/* A capture that missed the connection's start: no greeting. */
	tx_s(t, "250 ok\r\n");
	tx_c(t, "NOOP\r\n");
	tx_s(t, "250 ok\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 1);
	ck_assert_int_eq(d->ex[0].kind, DLG_COMMAND);
	ck_assert_uint_eq(d->ex[0].group, 1);
	ck_assert_uint_eq(d->nextra, 1);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_dialog_item_limit)
{
	/* A flood of empty lines both ways stops at the dialog's limit. */
	cap_transcript *t = tx_new();
	size_t n = HARNESS_DIALOG_ITEMS_MAX + 1000;
	char *lf = xmalloc(n);
	dlg *d;

	memset(lf, '\n', n);
	tx_data(t, CAP_C2S, lf, n);
	tx_data(t, CAP_S2C, lf, n);
	d = dlg_build(t);
	ck_assert_int_eq(d->cut, 1);
	ck_assert_uint_le(d->nex + d->nextra, HARNESS_DIALOG_ITEMS_MAX);
	ck_assert_uint_gt(d->nex, 1000);
	dlg_free(d);
	cap_transcript_free(t);
	xfree(lf);
}
END_TEST

/* Lines after a 334 to AUTH are SASL responses, part of AUTH (RFC 4954
 * §4); after the exchange ends, lines are commands again. */
START_TEST(test_dialog_auth_exchange)
{
	cap_transcript *t = tx_new();
	dlg *d;

	tx_s(t, "220 mx ESMTP\r\n");
	tx_c(t, "AUTH LOGIN\r\n");
	tx_s(t, "334 VXNlcm5hbWU6\r\n");
	tx_c(t, "am9l\r\n");
	tx_s(t, "334 UGFzc3dvcmQ6\r\n");
	tx_c(t, "czNjcmV0\r\n");
	tx_s(t, "235 2.7.0 ok\r\n");
	tx_c(t, "am9l\r\n");
	tx_s(t, "500 what\r\n");
	d = dlg_build(t);
	ck_assert_uint_eq(d->nex, 5);
	ck_assert_int_eq(d->ex[1].cmd.verb, SMTP_VERB_AUTH);
	ck_assert_int_eq(d->ex[2].cmd.verb, SMTP_VERB_AUTH);
	ck_assert_str_eq(d->ex[2].line, "am9l");
	ck_assert_int_eq(d->ex[3].cmd.verb, SMTP_VERB_AUTH);
	ck_assert_int_eq(d->ex[3].reply->code, 235);
	ck_assert_int_eq(d->ex[4].cmd.verb, SMTP_VERB_UNKNOWN);
	dlg_free(d);
	cap_transcript_free(t);
}
END_TEST

static Suite *
dialog_suite(void)
{
	Suite *s = suite_create("dialog");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dialog_lockstep_session);
	tcase_add_test(tc, test_dialog_split_invariance);
	tcase_add_test(tc, test_dialog_pipelined_groups);
	tcase_add_test(tc, test_dialog_data_354_vs_554);
	tcase_add_test(tc, test_dialog_content_end);
	tcase_add_test(tc, test_dialog_bdat);
	tcase_add_test(tc, test_dialog_premature_reply);
	tcase_add_test(tc, test_dialog_extra_replies);
	tcase_add_test(tc, test_dialog_tls_stops_reading);
	tcase_add_test(tc, test_dialog_reply_hard_limit);
	tcase_add_test(tc, test_dialog_exts_and_helo);
	tcase_add_test(tc, test_dialog_garbage_and_flags);
	tcase_add_test(tc, test_dialog_random_bytes);
	tcase_add_test(tc, test_dialog_no_open_event);
	tcase_add_test(tc, test_dialog_item_limit);
	tcase_add_test(tc, test_dialog_gap_stops_reading);
	tcase_add_test(tc, test_dialog_auth_exchange);
	tcase_add_test(tc, test_dialog_tls_plaintext_goes_on);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dialog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
