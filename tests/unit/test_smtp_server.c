/*
 * The reference server's protocol machine (harness/smtp/server.c) and its
 * path parser (path.c), on bytes alone: every command and error path,
 * pipelined input split at every byte, the smuggling sequences, dot
 * unstuffing, BDAT byte counts and the limits.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/path.h"
#include "harness/smtp/server.h"
#include "harness/util/xalloc.h"

/* What the delivery callback saw. */
static struct {
	int calls;
	int fail;		/* make the next deliveries fail */
	vbuf content;
	char from[256];
	size_t nrcpts;
	char rcpt0[256];
	char notify0[64];
	int body;
	int smtputf8;
	int chunked;
	char envid[128];
} got;

static int
deliver(void *arg, const smtp_srv_msg *m, char *id, size_t idlen)
{
	(void)arg;
	got.calls++;
	if (got.fail)
		return -1;
	vbuf_reset(&got.content);
	vbuf_append(&got.content, m->content, m->content_len);
	snprintf(got.from, sizeof(got.from), "%s", m->mail_from);
	got.nrcpts = m->nrcpts;
	snprintf(got.rcpt0, sizeof(got.rcpt0), "%s", m->nrcpts ? m->rcpts[0].mailbox : "");
	snprintf(got.notify0, sizeof(got.notify0), "%s",
	    m->nrcpts && m->rcpts[0].notify ? m->rcpts[0].notify : "");
	got.body = m->body;
	got.smtputf8 = m->smtputf8;
	got.chunked = m->chunked;
	snprintf(got.envid, sizeof(got.envid), "%s", m->envid ? m->envid : "");
	snprintf(id, idlen, "Q%zu", m->content_len);	/* the same whatever the run */
	return 0;
}

static smtp_srv_config
cfg_default(void)
{
	smtp_srv_config c;

	memset(&c, 0, sizeof(c));
	c.hostname = "mx.test";
	c.deliver = deliver;
	return c;
}

static void
reset_got(void)
{
	vbuf_free(&got.content);
	memset(&got, 0, sizeof(got));
}

/* Feeds input in one piece (split == 0) or in pieces of `split` octets,
 * after the greeting; returns the replies (without the greeting). */
static char *
run_cfg(const smtp_srv_config *c, const char *in, size_t len, size_t split, int *closed)
{
	smtp_srv *s = smtp_srv_new(c);
	vbuf out = VBUF_INIT;

	smtp_srv_greeting(s, &out);
	vbuf_reset(&out);
	if (split == 0)
		split = len ? len : 1;
	for (size_t pos = 0; pos < len; pos += split)
		smtp_srv_feed(s, in + pos, len - pos < split ? len - pos : split, &out);
	if (closed)
		*closed = smtp_srv_closed(s);
	smtp_srv_free(s);
	if (out.data == NULL)
		return xstrdup("");
	return vbuf_take(&out);
}

static char *
run(const char *in)
{
	smtp_srv_config c = cfg_default();

	return run_cfg(&c, in, strlen(in), 0, NULL);
}

/* The reply codes, space-separated, one per reply (continuation lines
 * are not counted): "250 250 354". */
static char *
codes(const char *replies)
{
	vbuf b = VBUF_INIT;
	const char *p = replies;

	while (*p) {
		const char *eol = strstr(p, "\r\n");

		ck_assert_msg(eol != NULL, "reply without CRLF in \"%s\"", replies);
		ck_assert_int_ge(eol - p, 3);
		if (eol - p == 3 || p[3] == ' ')
			vbuf_printf(&b, "%s%.3s", b.len ? " " : "", p);
		p = eol + 2;
	}
	return b.data ? vbuf_take(&b) : xstrdup("");
}

#define EHLO "EHLO client.test\r\n"
#define TXN EHLO "MAIL FROM:<a@h.test>\r\nRCPT TO:<b@d.test>\r\n"
#define EHLO_CODES "250"
#define TXN_CODES "250 250 250"

static void
expect_codes_n(const char *in, size_t len, const char *want)
{
	smtp_srv_config cf = cfg_default();
	char *r = run_cfg(&cf, in, len, 0, NULL);
	char *c = codes(r);

	ck_assert_msg(strcmp(c, want) == 0, "input \"%s\": expected codes \"%s\", got \"%s\" (%s)",
	    in, want, c, r);
	xfree(c);
	xfree(r);
}

static void
expect_codes(const char *in, const char *want)
{
	expect_codes_n(in, strlen(in), want);
}

/* The text of the n-th reply (0-based, its last line). */
static char *
nth_reply(const char *in, int n)
{
	char *r = run(in);
	const char *p = r;
	char *res = NULL;

	while (*p) {
		const char *eol = strstr(p, "\r\n");

		if (eol - p == 3 || p[3] == ' ') {
			if (n-- == 0) {
				res = xstrndup(p, (size_t)(eol - p));
				break;
			}
		}
		p = eol + 2;
	}
	xfree(r);
	ck_assert_msg(res != NULL, "no reply %d for \"%s\"", n, in);
	return res;
}

static void
expect_reply_prefix(const char *in, int n, const char *prefix)
{
	char *r = nth_reply(in, n);

	ck_assert_msg(strncmp(r, prefix, strlen(prefix)) == 0, "reply %d: expected \"%s...\", got \"%s\"",
	    n, prefix, r);
	xfree(r);
}

/* ---- greeting, EHLO, HELO -------------------------------------------------- */

START_TEST(test_smtp_server_greeting_and_ehlo)
{
	smtp_srv_config c = cfg_default();
	smtp_srv *s = smtp_srv_new(&c);
	vbuf out = VBUF_INIT;
	char *r;

	smtp_srv_greeting(s, &out);
	ck_assert_str_eq(vbuf_str(&out), "220 mx.test ESMTP smtp-harness\r\n");
	smtp_srv_free(s);
	vbuf_free(&out);

	r = run(EHLO);
	ck_assert_str_eq(r, "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
	    "250-BINARYMIME\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n");
	xfree(r);
	r = run("HELO client.test\r\n");
	ck_assert_str_eq(r, "250 mx.test\r\n");
	xfree(r);
	expect_codes("EHLO\r\n", "501");
	expect_codes("HELO\r\n", "501");
	expect_codes("EHLO cl\xc3\xa9nt\r\n", "501");
	expect_codes("ehlo [192.0.2.1]\r\nEHLO [IPv6:2001:db8::1]\r\n", "250 250");
}
END_TEST

START_TEST(test_smtp_server_helo_full_transaction)
{
	reset_got();
	expect_codes("HELO c.test\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@d.test>\r\nDATA\r\n"
	    "Subject: x\r\n\r\nbody\r\n.\r\n", "250 250 250 354 250");
	ck_assert_int_eq(got.calls, 1);
	ck_assert_str_eq(vbuf_str(&got.content), "Subject: x\r\n\r\nbody\r\n");
}
END_TEST

/* RFC 5321 §4.1.4: a second EHLO resets; a refused one changes nothing. */
START_TEST(test_smtp_server_ehlo_resets_failed_ehlo_keeps)
{
	expect_codes(TXN EHLO "RCPT TO:<b@d.test>\r\nDATA\r\n", TXN_CODES " 250 503 503");
	expect_codes(TXN "EHLO\r\nDATA\r\n.\r\n", TXN_CODES " 501 354 250");
}
END_TEST

/* ---- order ------------------------------------------------------------------ */

START_TEST(test_smtp_server_sequence_errors)
{
	expect_reply_prefix("MAIL FROM:<a@h.test>\r\n", 0, "503 5.5.1");
	expect_reply_prefix("RCPT TO:<a@h.test>\r\n", 0, "503 5.5.1");
	expect_reply_prefix(EHLO "RCPT TO:<a@h.test>\r\n", 1, "503 5.5.1");
	expect_reply_prefix(EHLO "DATA\r\n", 1, "503 5.5.1");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test>\r\nDATA\r\n", 2, "554 5.5.1");
	/* a nested MAIL is refused and the first transaction survives */
	expect_codes(TXN "MAIL FROM:<c@h.test>\r\nDATA\r\n.\r\n", TXN_CODES " 503 354 250");
	/* the end of data ends the transaction */
	expect_codes(TXN "DATA\r\n.\r\nRCPT TO:<b@d.test>\r\n", TXN_CODES " 354 250 503");
	/* before EHLO: NOOP, RSET, VRFY, HELP work */
	expect_codes("NOOP\r\nRSET\r\nVRFY postmaster\r\nHELP\r\n", "250 250 252 214");
}
END_TEST

START_TEST(test_smtp_server_rset_noop_quit_help_vrfy)
{
	int closed = 0;
	smtp_srv_config c = cfg_default();
	const char *in = EHLO "QUIT\r\nNOOP\r\n";
	char *r;

	expect_codes(TXN "RSET\r\nRCPT TO:<b@d.test>\r\nDATA\r\n", TXN_CODES " 250 503 503");
	expect_reply_prefix(EHLO "RSET foo\r\n", 1, "501 5.5.4");
	expect_reply_prefix(TXN "DATA foo\r\n", 3, "501 5.5.4");
	expect_reply_prefix(EHLO "QUIT foo\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "NOOP hello there\r\n", 1, "250 2.0.0");
	expect_reply_prefix(EHLO "VRFY postmaster\r\n", 1, "252 2.0.0");
	expect_reply_prefix(EHLO "VRFY\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "EXPN list\r\n", 1, "502 5.5.1");
	expect_reply_prefix(EHLO "STARTTLS\r\n", 1, "502 5.5.1");
	expect_reply_prefix(EHLO "XYZZY\r\n", 1, "500 5.5.2");
	expect_reply_prefix(EHLO "\r\n", 1, "500 5.5.2");
	r = run("HELP\r\n");
	ck_assert_ptr_nonnull(strstr(r, "214-2.0.0 "));
	ck_assert_ptr_nonnull(strstr(r, "\r\n214 2.0.0 "));
	xfree(r);
	/* QUIT: 221, closed, nothing after it is read */
	r = run_cfg(&c, in, strlen(in), 0, &closed);
	ck_assert_ptr_nonnull(strstr(r, "221 2.0.0 mx.test"));
	ck_assert_ptr_null(strstr(r, "250 2.0.0 Ok"));
	ck_assert_int_eq(closed, 1);
	xfree(r);
	/* case and trailing white space */
	expect_codes("eHlO c.test\r\nMaIl fRoM:<a@h.test>\r\nrcpt to:<b@d.test>  \r\n"
	    "NOOP   \r\ndAtA\r\n.\r\nQuit\r\n", "250 250 250 250 354 250 221");
}
END_TEST

/* ---- MAIL and RCPT syntax ---------------------------------------------------- */

START_TEST(test_smtp_server_mail_paths)
{
	expect_reply_prefix(EHLO "MAIL\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test\r\n", 1, "501 5.1.7");
	expect_reply_prefix(EHLO "MAIL FROM:a@h.test\r\n", 1, "501 5.1.7");
	expect_reply_prefix(EHLO "MAIL FROM:<>\r\n", 1, "250 2.1.0");
	expect_reply_prefix(EHLO "MAIL FROM: <a@h.test>\r\n", 1, "250 2.1.0");
	expect_reply_prefix(EHLO "MAIL FROM:<a\x01" "b@h.test>\r\n", 1, "501 5.1.7");
	expect_reply_prefix(EHLO "MAIL FROM:<a@bad_label.test>\r\n", 1, "501 5.1.7");
	expect_reply_prefix(EHLO "MAIL FROM:<a@-x.test>\r\n", 1, "501 5.1.7");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test>x\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<Postmaster>\r\n", 1, "501 5.1.7");
	expect_codes(TXN "RCPT TO:<postmaster@[192.0.2.10]>\r\nRCPT TO:<x@[IPv6:2001:db8::1]>\r\n"
	    "RCPT TO:<@a.test,@b.test:postmaster@d.test>\r\nRCPT TO:<\"john doe\"@d.test>\r\n"
	    "RCPT TO:<\"Joe\\,Smith\"@d.test>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<POSTMASTER>\r\n"
	    "RCPT TO:<x@[300.1.1.1]>\r\nRCPT TO:<x@[IPv6:zz]>\r\nRCPT TO:\r\n"
	    "RCPT TO:<x@[tag:any-text]>\r\n",
	    TXN_CODES " 250 250 250 250 250 250 250 501 501 501 250");
	reset_got();
	expect_codes(EHLO "MAIL FROM:<>\r\nRCPT TO:<@a.test:x@d.test>\r\nDATA\r\n.\r\n",
	    "250 250 250 354 250");
	ck_assert_str_eq(got.from, "");
	ck_assert_str_eq(got.rcpt0, "x@d.test");
}
END_TEST

START_TEST(test_smtp_server_mail_params)
{
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> XFOO=1\r\n", 1, "555 5.5.4");
	expect_reply_prefix(TXN "RCPT TO:<b@d.test> XBAR=2\r\n", 3, "555 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SIZE=abc\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SIZE=1 SIZE=2\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SIZE=123456789012345678901\r\n", 1,
	    "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SIZE=10485761\r\n", 1, "552 5.3.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SIZE=10485760\r\n", 1, "250 2.1.0");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> BODY=8BITMIME\r\n", 1, "250");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> BODY=7bit\r\n", 1, "250");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> BODY=9BIT\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> BODY=7BIT BODY=7BIT\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> SMTPUTF8=yes\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> RET=FOO\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> RET=FULL RET=HDRS\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> ENVID=a+ZZb\r\n", 1, "501 5.5.4");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> RET=hdrs ENVID=abc+2B\r\n", 1, "250");
	expect_reply_prefix(EHLO "MAIL FROM:<a@h.test> =x\r\n", 1, "501 5.5.4");
	expect_reply_prefix(TXN "RCPT TO:<c@d.test> NOTIFY=NEVER,FAILURE\r\n", 3, "501 5.5.4");
	expect_reply_prefix(TXN "RCPT TO:<c@d.test> NOTIFY=SUCCESS NOTIFY=DELAY\r\n", 3, "501 5.5.4");
	expect_reply_prefix(TXN "RCPT TO:<c@d.test> ORCPT=noSemicolon\r\n", 3, "501 5.5.4");
	expect_reply_prefix(TXN "RCPT TO:<c@d.test> NOTIFY=failure,Delay "
	    "ORCPT=rfc822;postmaster@d.test\r\n", 3, "250 2.1.5");
	reset_got();
	expect_codes(EHLO "MAIL FROM:<a@h.test> RET=HDRS ENVID=test123 BODY=8BITMIME\r\n"
	    "RCPT TO:<b@d.test> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n.\r\n", "250 250 250 354 250");
	ck_assert_str_eq(got.envid, "test123");
	ck_assert_str_eq(got.notify0, "SUCCESS,FAILURE");
	ck_assert_int_eq(got.body, SMTP_SRV_BODY_8BITMIME);
}
END_TEST

/* RFC 6531 §3.5: 550/553 with X.6.7 when SMTPUTF8 is needed and absent. */
START_TEST(test_smtp_server_smtputf8)
{
	reset_got();
	expect_reply_prefix(EHLO "MAIL FROM:<us\xc3\xa9r@h.test>\r\n", 1, "550 5.6.7");
	expect_reply_prefix(TXN "RCPT TO:<postm\xc3\xa4ster@d.test>\r\n", 3, "553 5.6.7");
	expect_reply_prefix(EHLO "MAIL FROM:<us\xff" "r@h.test> SMTPUTF8\r\n", 1, "501 5.1.7");
	expect_codes(EHLO "MAIL FROM:<us\xc3\xa9r@h.test> SMTPUTF8\r\n"
	    "RCPT TO:<postm\xc3\xa4ster@d\xc3\xa9.test>\r\nDATA\r\n.\r\n", "250 250 250 354 250");
	ck_assert_int_eq(got.smtputf8, 1);
	ck_assert_str_eq(got.rcpt0, "postm\xc3\xa4ster@d\xc3\xa9.test");
}
END_TEST

START_TEST(test_smtp_server_recipient_limit)
{
	smtp_srv_config c = cfg_default();
	const char *in = TXN "RCPT TO:<c@d.test>\r\nRCPT TO:<e@d.test>\r\nRCPT TO:<f@d.test>\r\n"
	    "DATA\r\n.\r\n";
	char *r, *cs;

	c.rcpt_max = 3;
	reset_got();
	r = run_cfg(&c, in, strlen(in), 0, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, TXN_CODES " 250 250 452 354 250");
	ck_assert_ptr_nonnull(strstr(r, "452 4.5.3 "));
	ck_assert_int_eq(got.nrcpts, 3);
	xfree(r);
	xfree(cs);
}
END_TEST

/* ---- DATA ------------------------------------------------------------------- */

START_TEST(test_smtp_server_dot_unstuffing)
{
	reset_got();
	expect_codes(TXN "DATA\r\n..\r\n...\r\n..x\r\n. \r\n.\r\n", TXN_CODES " 354 250");
	ck_assert_str_eq(vbuf_str(&got.content), ".\r\n..\r\n.x\r\n \r\n");
	/* an empty message, and a trailing empty line kept */
	expect_codes(TXN "DATA\r\n.\r\n", TXN_CODES " 354 250");
	ck_assert_int_eq((int)got.content.len, 0);
	expect_codes(TXN "DATA\r\nlast\r\n\r\n.\r\n", TXN_CODES " 354 250");
	ck_assert_str_eq(vbuf_str(&got.content), "last\r\n\r\n");
	/* the 354 has no enhanced code; 3yz is exempt (RFC 2034 §4) */
	expect_reply_prefix(TXN "DATA\r\n", 3, "354 End data");
}
END_TEST

START_TEST(test_smtp_server_content_unchanged)
{
	const char body[] = "a\tb\x0b" "c\x0c" "d  \r\n\xe2\x82\xac 8bit\r\nnul\0here\r\n";
	char in[512];
	size_t n;
	smtp_srv_config c = cfg_default();
	char *r;

	n = (size_t)snprintf(in, sizeof(in), TXN "DATA\r\n");
	memcpy(in + n, body, sizeof(body) - 1);
	n += sizeof(body) - 1;
	memcpy(in + n, ".\r\n", 3);
	n += 3;
	reset_got();
	r = run_cfg(&c, in, n, 0, NULL);
	ck_assert_ptr_nonnull(strstr(r, "250 2.0.0 Ok: queued as Q"));
	ck_assert_int_eq((int)got.content.len, (int)sizeof(body) - 1);
	ck_assert(memcmp(got.content.data, body, sizeof(body) - 1) == 0);
	xfree(r);
}
END_TEST

/*
 * The smuggle.* probe template: one write with a fake end of data and a
 * second transaction after it. Only CRLF "." CRLF ends the data, so
 * exactly one reply comes, at the real end; the message has bare CR or LF
 * and is refused, so nothing is delivered.
 */
START_TEST(test_smtp_server_smuggling_never_ends_data)
{
	static const char *const seqs[] = {
		"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\r\n", "\r\n.\r", "\n.\r",
		"\r.\n", "\r\n.\r\r\n", "\r\r\n.\r\r\n"
	};
	smtp_srv_config c = cfg_default();

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		vbuf in = VBUF_INIT;
		char *r, *cs;

		vbuf_append_str(&in, TXN "DATA\r\nSubject: part1\r\n\r\nbody");
		vbuf_append_str(&in, seqs[i]);
		vbuf_append_str(&in, "MAIL FROM:<spoof@victim.test>\r\nRCPT TO:<b@d.test>\r\nDATA\r\n"
		    "Subject: SMUGGLED\r\n\r\nx\r\n.\r\n");
		for (size_t split = 0; split <= 3; split += 3) {
			reset_got();
			r = run_cfg(&c, in.data, in.len, split, NULL);
			cs = codes(r);
			ck_assert_msg(strcmp(cs, TXN_CODES " 354 550") == 0,
			    "sequence %zu: expected one 550 after the real end, got %s", i, cs);
			ck_assert_ptr_nonnull(strstr(r, "550 5.6.0 "));
			ck_assert_int_eq(got.calls, 0);
			xfree(r);
			xfree(cs);
		}
		vbuf_free(&in);
	}
}
END_TEST

/* NUL variants: no bare CR/LF, so one message, SMUGGLED inside its body. */
START_TEST(test_smtp_server_smuggling_nul_variants)
{
	static const char *const seqs[] = { "\r\n\0.\r\n", "\r\n.\0\r\n" };
	smtp_srv_config c = cfg_default();

	for (size_t i = 0; i < 2; i++) {
		vbuf in = VBUF_INIT;
		char *r, *cs;

		vbuf_append_str(&in, TXN "DATA\r\nSubject: part1\r\n\r\nbody");
		vbuf_append(&in, seqs[i], 6);
		vbuf_append_str(&in, "MAIL FROM:<spoof@victim.test>\r\nDATA\r\n"
		    "Subject: SMUGGLED\r\n\r\nx\r\n.\r\n");
		reset_got();
		r = run_cfg(&c, in.data, in.len, 0, NULL);
		cs = codes(r);
		ck_assert_str_eq(cs, TXN_CODES " 354 250");
		ck_assert_int_eq(got.calls, 1);
		/* ".\0" starts with a dot: unstuffed like any such line */
		ck_assert_int_eq((int)got.content.len,
		    (int)in.len - (int)strlen(TXN "DATA\r\n") - 3 - (int)i);
		xfree(r);
		xfree(cs);
		vbuf_free(&in);
	}
}
END_TEST

START_TEST(test_smtp_server_bare_newline_refused)
{
	reset_got();
	expect_codes(TXN "DATA\r\nbare lf\nline\r\n.\r\n", TXN_CODES " 354 550");
	expect_codes(TXN "DATA\r\nbare cr\rline\r\n.\r\nNOOP\r\n", TXN_CODES " 354 550 250");
	ck_assert_int_eq(got.calls, 0);
	/* the session goes on and the next transaction is fine */
	expect_codes(TXN "DATA\r\na\nb\r\n.\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@d.test>\r\n"
	    "DATA\r\nok\r\n.\r\n", TXN_CODES " 354 550 250 250 354 250");
	ck_assert_int_eq(got.calls, 1);
}
END_TEST

/* RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, a stuffed dot not counted. */
START_TEST(test_smtp_server_text_line_limit)
{
	vbuf in = VBUF_INIT;
	char *r, *cs;
	smtp_srv_config c = cfg_default();

	vbuf_append_str(&in, TXN "DATA\r\n");
	for (int i = 0; i < 998; i++)
		vbuf_append_byte(&in, 'x');
	vbuf_append_str(&in, "\r\n..");
	for (int i = 0; i < 997; i++)
		vbuf_append_byte(&in, 'y');
	vbuf_append_str(&in, "\r\n.\r\n");
	reset_got();
	r = run_cfg(&c, in.data, in.len, 0, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, TXN_CODES " 354 250");
	ck_assert_int_eq((int)got.content.len, 1000 + 1000);
	xfree(r);
	xfree(cs);
	vbuf_reset(&in);
	vbuf_append_str(&in, TXN "DATA\r\n");
	for (int i = 0; i < 999; i++)
		vbuf_append_byte(&in, 'x');
	vbuf_append_str(&in, "\r\n.\r\nNOOP\r\n");
	r = run_cfg(&c, in.data, in.len, 0, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, TXN_CODES " 354 500 250");
	ck_assert_ptr_nonnull(strstr(r, "500 5.5.2 "));
	xfree(r);
	xfree(cs);
	vbuf_free(&in);
}
END_TEST

START_TEST(test_smtp_server_size_limit)
{
	smtp_srv_config c = cfg_default();
	vbuf in = VBUF_INIT;
	char *r, *cs;

	c.size_max = 100;
	vbuf_append_str(&in, TXN "DATA\r\n");
	for (int i = 0; i < 10; i++)
		vbuf_append_str(&in, "0123456789012345678\r\n");
	vbuf_append_str(&in, ".\r\nNOOP\r\n");
	reset_got();
	r = run_cfg(&c, in.data, in.len, 7, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, TXN_CODES " 354 552 250");
	ck_assert_ptr_nonnull(strstr(r, "552 5.3.4 "));
	ck_assert_ptr_nonnull(strstr(r, "250-SIZE 100\r\n"));
	ck_assert_int_eq(got.calls, 0);
	xfree(r);
	xfree(cs);
	vbuf_free(&in);
	/* RFC 1870 §6: SIZE= is not an end marker */
	expect_codes(EHLO "MAIL FROM:<a@h.test> SIZE=10\r\nRCPT TO:<b@d.test>\r\nDATA\r\n"
	    "0123456789 0123456789 0123456789\r\n.\r\nNOOP\r\n", "250 250 250 354 250 250");
}
END_TEST

START_TEST(test_smtp_server_store_failure_451)
{
	reset_got();
	got.fail = 1;
	expect_reply_prefix(TXN "DATA\r\n.\r\n", 4, "451 4.3.0 ");
	got.fail = 0;
}
END_TEST

/* ---- BDAT -------------------------------------------------------------------- */

START_TEST(test_smtp_server_bdat_chunks)
{
	smtp_srv_config c = cfg_default();
	const char in[] = TXN "BDAT 10\r\n0123456789BDAT 5\r\nabcdeBDAT 0 LAST\r\n";
	char *r, *cs;

	for (size_t split = 0; split < 8; split++) {
		reset_got();
		r = run_cfg(&c, in, sizeof(in) - 1, split, NULL);
		cs = codes(r);
		ck_assert_str_eq(cs, TXN_CODES " 250 250 250");
		ck_assert_str_eq(vbuf_str(&got.content), "0123456789abcde");
		ck_assert_int_eq(got.chunked, 1);
		xfree(r);
		xfree(cs);
	}
	/* exact octets: no unstuffing, no end of data, no commands inside */
	reset_got();
	expect_codes(TXN "BDAT 19 LAST\r\na\r\n.\r\n..x\r\nRSET\r\nzzNOOP\r\n", TXN_CODES " 250 250");
	ck_assert_str_eq(vbuf_str(&got.content), "a\r\n.\r\n..x\r\nRSET\r\nzz");
}
END_TEST

START_TEST(test_smtp_server_bdat_errors)
{
	/* no transaction: the chunk is read and dropped, one error */
	expect_codes(EHLO "BDAT 24\r\nNOOP\r\nNOOP\r\nNOOP\r\nXXXXXXNOOP\r\n", "250 503 250");
	expect_codes(EHLO "MAIL FROM:<a@h.test>\r\nBDAT 3\r\nabcNOOP\r\n", "250 250 554 250");
	/* after LAST the transaction is over */
	expect_codes(TXN "BDAT 5 LAST\r\nabcdeBDAT 5\r\nabcdeRSET\r\nNOOP\r\n",
	    TXN_CODES " 250 503 250 250");
	/* DATA after BDAT in one transaction */
	expect_codes(TXN "BDAT 5\r\nabcdeDATA\r\nRSET\r\n", TXN_CODES " 250 503 250");
	/* BINARYMIME needs BDAT, and keeps bare LFs */
	expect_codes(EHLO "MAIL FROM:<a@h.test> BODY=BINARYMIME\r\nRCPT TO:<b@d.test>\r\nDATA\r\n",
	    "250 250 250 503");
	reset_got();
	{
		const char bin[] = EHLO "MAIL FROM:<a@h.test> BODY=BINARYMIME\r\n"
		    "RCPT TO:<b@d.test>\r\nBDAT 4 LAST\r\na\nb\0";

		expect_codes_n(bin, sizeof(bin) - 1, "250 250 250 250");
	}
	ck_assert_int_eq((int)got.content.len, 4);
	/* without BINARYMIME bare LF is refused */
	expect_codes(TXN "BDAT 3 LAST\r\na\nb", TXN_CODES " 550");
	/* a size that is not a number: the rest is read as commands */
	expect_codes(TXN "BDAT x\r\nNOOP\r\nBDAT 1 FIRST\r\nNOOP\r\n", TXN_CODES " 501 250 501 250");
}
END_TEST

/* RFC 3030 §2: a chunk over the limit fails the transaction; pipelined
 * chunks after it each get an error; RSET recovers. */
START_TEST(test_smtp_server_bdat_size)
{
	smtp_srv_config c = cfg_default();
	const char in[] = TXN "BDAT 20\r\n01234567890123456789BDAT 5\r\nabcdeBDAT 1 LAST\r\nz"
	    "RSET\r\nNOOP\r\n";
	char *r, *cs;

	c.size_max = 10;
	reset_got();
	r = run_cfg(&c, in, sizeof(in) - 1, 0, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, TXN_CODES " 552 552 552 250 250");
	ck_assert_int_eq(got.calls, 0);
	xfree(r);
	xfree(cs);
}
END_TEST

/* ---- lines and limits -------------------------------------------------------- */

START_TEST(test_smtp_server_command_lines)
{
	vbuf in = VBUF_INIT;
	char *r, *cs;
	smtp_srv_config c = cfg_default();

	/* RFC 5321 §2.3.8: one malformed line, one error reply */
	expect_codes(EHLO "NOOP\nNOOP\r\n", "250 500");
	expect_codes(EHLO "NOOP\rNOOP\r\n", "250 500");
	expect_codes_n(EHLO "NO\0OP\r\n", sizeof(EHLO "NO\0OP\r\n") - 1, "250 500");
	/* 512 octets with CRLF are fine; past line_max is "too long" */
	vbuf_append_str(&in, EHLO "NOOP ");
	for (int i = 0; i < 505; i++)
		vbuf_append_byte(&in, 'x');
	vbuf_append_str(&in, "\r\nNOOP ");
	for (int i = 0; i < 5000; i++)
		vbuf_append_byte(&in, 'y');
	vbuf_append_str(&in, "\r\nNOOP\r\n");
	r = run_cfg(&c, in.data, in.len, 0, NULL);
	cs = codes(r);
	ck_assert_str_eq(cs, "250 250 500 250");
	ck_assert_ptr_nonnull(strstr(r, "500 5.5.2 Error: line too long"));
	xfree(r);
	xfree(cs);
	vbuf_free(&in);
}
END_TEST

START_TEST(test_smtp_server_too_many_errors)
{
	smtp_srv_config c = cfg_default();
	const char in[] = "XA\r\nXB\r\nXC\r\nXD\r\nNOOP\r\n";
	int closed = 0;
	char *r, *cs;

	c.errors_max = 3;
	r = run_cfg(&c, in, sizeof(in) - 1, 0, &closed);
	cs = codes(r);
	ck_assert_str_eq(cs, "500 500 500 421");
	ck_assert_ptr_nonnull(strstr(r, "421 4.7.0 mx.test "));
	ck_assert_int_eq(closed, 1);
	xfree(r);
	xfree(cs);
}
END_TEST

START_TEST(test_smtp_server_timeout_and_shutdown)
{
	smtp_srv_config c = cfg_default();
	smtp_srv *s = smtp_srv_new(&c);
	vbuf out = VBUF_INIT;

	smtp_srv_timeout(s, &out);
	ck_assert_str_eq(vbuf_str(&out), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
	ck_assert(smtp_srv_closed(s));
	smtp_srv_shutdown(s, &out);	/* once closed, nothing more */
	ck_assert_str_eq(vbuf_str(&out), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
	smtp_srv_free(s);
	vbuf_reset(&out);
	s = smtp_srv_new(&c);
	smtp_srv_shutdown(s, &out);
	ck_assert_ptr_nonnull(strstr(vbuf_str(&out), "421 4.3.2 "));
	ck_assert_str_eq(smtp_srv_state_str(smtp_srv_get_state(s)), "CLOSED");
	smtp_srv_free(s);
	vbuf_free(&out);
}
END_TEST

/* ---- pipelining -------------------------------------------------------------- */

static const char session[] =
    "EHLO client.test\r\nMAIL FROM:<a@h.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<b@d.test>\r\n"
    "RCPT TO:<c@d.test> NOTIFY=NEVER\r\nDATA\r\nSubject: one\r\n\r\n..dot\r\n.\r\n"
    "MAIL FROM:<bad\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nBDAT 7\r\nchunk\r\n"
    "BDAT 3 LAST\r\nendNOOP x\r\nXYZZY\r\nRSET\r\nVRFY x\r\nHELP\r\nQUIT\r\n";

/* RFC 2920 §3.2: the same replies, in order, however the input is cut. */
START_TEST(test_smtp_server_pipelined_split_every_byte)
{
	smtp_srv_config c = cfg_default();
	char *whole, *r;
	int closed;

	reset_got();
	whole = run_cfg(&c, session, sizeof(session) - 1, 0, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_int_eq(got.calls, 2);
	ck_assert_str_eq(vbuf_str(&got.content), "chunk\r\nend");
	{
		char *cs = codes(whole);

		ck_assert_str_eq(cs, "250 250 250 250 354 250 501 250 250 250 250 250 500 250 252 "
		    "214 221");
		xfree(cs);
	}
	for (size_t split = 1; split < sizeof(session); split++) {
		r = run_cfg(&c, session, sizeof(session) - 1, split, NULL);
		ck_assert_msg(strcmp(r, whole) == 0, "split %zu: replies differ", split);
		xfree(r);
	}
	/* and cut at one arbitrary point only */
	for (size_t cut = 1; cut < sizeof(session) - 1; cut++) {
		smtp_srv *s = smtp_srv_new(&c);
		vbuf out = VBUF_INIT;

		smtp_srv_feed(s, session, cut, &out);
		smtp_srv_feed(s, session + cut, sizeof(session) - 1 - cut, &out);
		ck_assert_msg(strcmp(vbuf_str(&out), whole) == 0, "cut %zu: replies differ", cut);
		smtp_srv_free(s);
		vbuf_free(&out);
	}
	xfree(whole);
}
END_TEST

/* RFC 2034: every 2yz/4yz/5yz line but EHLO/HELO's carries a code whose
 * class is the reply's first digit. */
START_TEST(test_smtp_server_enhanced_codes_everywhere)
{
	smtp_srv_config c = cfg_default();
	char *r = run_cfg(&c, session, sizeof(session) - 1, 0, NULL);
	const char *p = r;
	int in_ehlo = 1;

	while (*p) {
		const char *eol = strstr(p, "\r\n");

		if (in_ehlo) {
			if (p[3] == ' ')
				in_ehlo = 0;
		} else if (p[0] != '3') {
			ck_assert_msg(p[4] == p[0] && p[5] == '.', "line without a matching enhanced "
			    "code: %.*s", (int)(eol - p), p);
		}
		p = eol + 2;
	}
	xfree(r);
}
END_TEST

/* ---- path parser alone ------------------------------------------------------- */

START_TEST(test_smtp_server_path_parser)
{
	smtp_path p;
	size_t used;
	smtp_param params[4];
	int utf8;

	ck_assert_int_eq(smtp_path_parse("<a.b@c.d> X", 11, 0, &p, &used), 0);
	ck_assert_str_eq(p.mailbox, "a.b@c.d");
	ck_assert_int_eq((int)used, 9);
	smtp_path_clear(&p);
	ck_assert_int_eq(smtp_path_parse("<>", 2, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_path_parse("<a..b@c>", 8, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_path_parse("<.a@c>", 6, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_path_parse("<a@c.>", 6, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_path_parse("<a@c-.d>", 8, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_path_parse("<\"a\"b\"@c>", 9, 0, &p, &used), -1);
	ck_assert_int_eq(smtp_params_split(" A=1  B", 7, params, 4, &utf8), 2);
	ck_assert_int_eq(smtp_params_split("A=1", 3, params, 4, &utf8), -1);
	ck_assert_int_eq(smtp_params_split(" A=", 3, params, 4, &utf8), -1);
	ck_assert_int_eq(smtp_params_split(" A B C D E", 10, params, 4, &utf8), -1);
	ck_assert_int_eq(smtp_xtext_valid("a+2Bb", 5), 1);
	ck_assert_int_eq(smtp_xtext_valid("a+2b", 4), 0);
	ck_assert_int_eq(smtp_xtext_valid("a+2", 3), 0);
	ck_assert_int_eq(smtp_xtext_valid("", 0), 0);
	ck_assert_int_eq((int)smtp_utf8_seq((const unsigned char *)"\xc0\x80", 2), 0);
	ck_assert_int_eq((int)smtp_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3), 0);
	ck_assert_int_eq((int)smtp_utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
}
END_TEST

/* The fault hook: what it is asked, in order, and what it answers. */
static struct {
	char asked[256];
	int answer[8];
	int n;
} flt;

static int
fault(void *arg, const char *what, const char *mailbox)
{
	size_t used = strlen(flt.asked);

	(void)arg;
	snprintf(flt.asked + used, sizeof(flt.asked) - used, "%s%s%s%s", used ? " " : "", what,
	    mailbox ? ":" : "", mailbox ? mailbox : "");
	return flt.n < 8 ? flt.answer[flt.n++] : 0;
}

/* A hop without DSN: not in EHLO, and its parameters unknown. */
START_TEST(test_smtp_server_no_dsn)
{
	smtp_srv_config c = cfg_default();
	const char *in = "EHLO c.test\r\nMAIL FROM:<a@h.test> RET=HDRS\r\n"
	    "MAIL FROM:<a@h.test> ENVID=x\r\nMAIL FROM:<a@h.test>\r\n"
	    "RCPT TO:<b@d.test> NOTIFY=NEVER\r\nRCPT TO:<b@d.test> ORCPT=rfc822;b@d.test\r\n"
	    "RCPT TO:<b@d.test>\r\n";
	char *r, *cd;

	reset_got();
	c.no_dsn = 1;
	r = run_cfg(&c, in, strlen(in), 0, NULL);
	cd = codes(r);
	ck_assert_ptr_null(strstr(r, "DSN"));
	ck_assert_str_eq(cd, "250 555 555 250 555 555 250");
	xfree(cd);
	xfree(r);
	c.no_dsn = 0;
	r = run_cfg(&c, in, strlen(in), 0, NULL);
	ck_assert_ptr_nonnull(strstr(r, "250-DSN"));
	xfree(r);
}
END_TEST

START_TEST(test_smtp_server_fault_hook)
{
	smtp_srv_config c = cfg_default();
	const char *in = TXN "DATA\r\nhi\r\n.\r\nMAIL FROM:<a@h.test>\r\nRSET\r\n";
	char *r, *cd;
	int closed = 0;

	reset_got();
	c.fault = fault;
	/* The first transaction untouched, then MAIL answered 451. */
	memset(&flt, 0, sizeof(flt));
	flt.answer[3] = 451;
	r = run_cfg(&c, in, strlen(in), 0, &closed);
	cd = codes(r);
	ck_assert_str_eq(flt.asked, "MAIL RCPT:b@d.test DATA MAIL");
	ck_assert_str_eq(cd, "250 250 250 354 250 451 250");
	ck_assert_ptr_nonnull(strstr(r, "451 4.3.0 "));
	ck_assert_int_eq(got.calls, 1);
	ck_assert_int_eq(closed, 0);
	xfree(cd);
	xfree(r);

	/* The second RCPT answered 550, the message 452 and not delivered. */
	memset(&flt, 0, sizeof(flt));
	flt.answer[2] = 550;
	flt.answer[3] = 452;
	in = TXN "RCPT TO:<c@d.test>\r\nDATA\r\nhi\r\n.\r\n";
	got.calls = 0;
	r = run_cfg(&c, in, strlen(in), 0, &closed);
	cd = codes(r);
	ck_assert_str_eq(flt.asked, "MAIL RCPT:b@d.test RCPT:c@d.test DATA");
	ck_assert_str_eq(cd, "250 250 250 550 354 452");
	ck_assert_ptr_nonnull(strstr(r, "550 5.3.0 "));
	ck_assert_ptr_nonnull(strstr(r, "452 4.3.0 "));
	ck_assert_int_eq(got.calls, 0);
	xfree(cd);
	xfree(r);

	/* Dropped: no reply to MAIL, nothing after, the session closed. */
	memset(&flt, 0, sizeof(flt));
	flt.answer[0] = SMTP_SRV_FAULT_DROP;
	r = run_cfg(&c, TXN, strlen(TXN), 0, &closed);
	cd = codes(r);
	ck_assert_str_eq(cd, "250");
	ck_assert_int_eq(closed, 1);
	xfree(cd);
	xfree(r);
	reset_got();
}
END_TEST

static Suite *
server_suite(void)
{
	Suite *s = suite_create("smtp_server");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_server_greeting_and_ehlo);
	tcase_add_test(tc, test_smtp_server_helo_full_transaction);
	tcase_add_test(tc, test_smtp_server_ehlo_resets_failed_ehlo_keeps);
	tcase_add_test(tc, test_smtp_server_sequence_errors);
	tcase_add_test(tc, test_smtp_server_rset_noop_quit_help_vrfy);
	tcase_add_test(tc, test_smtp_server_mail_paths);
	tcase_add_test(tc, test_smtp_server_mail_params);
	tcase_add_test(tc, test_smtp_server_smtputf8);
	tcase_add_test(tc, test_smtp_server_recipient_limit);
	tcase_add_test(tc, test_smtp_server_dot_unstuffing);
	tcase_add_test(tc, test_smtp_server_content_unchanged);
	tcase_add_test(tc, test_smtp_server_smuggling_never_ends_data);
	tcase_add_test(tc, test_smtp_server_smuggling_nul_variants);
	tcase_add_test(tc, test_smtp_server_bare_newline_refused);
	tcase_add_test(tc, test_smtp_server_text_line_limit);
	tcase_add_test(tc, test_smtp_server_size_limit);
	tcase_add_test(tc, test_smtp_server_store_failure_451);
	tcase_add_test(tc, test_smtp_server_bdat_chunks);
	tcase_add_test(tc, test_smtp_server_bdat_errors);
	tcase_add_test(tc, test_smtp_server_bdat_size);
	tcase_add_test(tc, test_smtp_server_command_lines);
	tcase_add_test(tc, test_smtp_server_too_many_errors);
	tcase_add_test(tc, test_smtp_server_timeout_and_shutdown);
	tcase_add_test(tc, test_smtp_server_pipelined_split_every_byte);
	tcase_add_test(tc, test_smtp_server_enhanced_codes_everywhere);
	tcase_add_test(tc, test_smtp_server_path_parser);
	tcase_add_test(tc, test_smtp_server_fault_hook);
	tcase_add_test(tc, test_smtp_server_no_dsn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(server_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	reset_got();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
