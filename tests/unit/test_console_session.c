#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness/console/session.h"
#include "harness/scenario/scenario.h"
#include "harness/util/xalloc.h"

#define ASSERT_HAS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) != NULL, "\"%s\" lacks \"%s\"", (s), (needle))

static session *
opened(void)
{
	struct sockaddr_in c, sv;
	session *s = session_new();

	memset(&c, 0, sizeof(c));
	memset(&sv, 0, sizeof(sv));
	c.sin_family = sv.sin_family = AF_INET;
	c.sin_port = htons(40000);
	sv.sin_port = htons(2525);
	c.sin_addr.s_addr = sv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	session_opened(s, (struct sockaddr *)&c, (struct sockaddr *)&sv);
	return s;
}

static void
recv_str(session *s, const char *in, vbuf *out)
{
	ck_assert_int_eq(session_received(s, in, strlen(in), out), 0);
}

/* Loads the saved scenario; returns its step count. */
static size_t
load_saved(const session *s)
{
	char *json = session_scenario(s, "probe.test", "a probe session");
	scn_scenario *sc = NULL;
	char err[512];
	size_t n;

	ck_assert_msg(scn_load_buffer("saved", json, strlen(json), &sc, err, sizeof(err)) == 0,
	    "%s\n%s", err, json);
	n = sc->nsteps;
	scn_free(sc);
	xfree(json);
	return n;
}

START_TEST(test_console_session_pairs_replies)
{
	session *s = opened();
	vbuf wire = VBUF_INIT, out = VBUF_INIT;

	ck_assert_uint_eq(session_owed(s), 1);
	recv_str(s, "220 mx.test ESMTP\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "S: 220 mx.test ESMTP\n  = 220 service ready");
	ASSERT_HAS(vbuf_str(&out), "allowed as a greeting");
	ck_assert_uint_eq(session_owed(s), 0);
	vbuf_reset(&out);

	session_command(s, "EHLO me.test", 12, &wire, &out);
	ck_assert_str_eq(vbuf_str(&wire), "EHLO me.test\r\n");
	ASSERT_HAS(vbuf_str(&out), "C: EHLO me.test\n");
	/* A reply split anywhere is shown once complete. */
	recv_str(s, "250-mx.test\r\n250-SIZE 1000\r", &out);
	ck_assert_uint_eq(session_owed(s), 1);
	recv_str(s, "\n250 PIPELINING\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "allowed for EHLO");
	ASSERT_HAS(vbuf_str(&out), "  SIZE 1000  - RFC 1870");
	ASSERT_HAS(vbuf_str(&out), "messages up to 1000 octets");
	vbuf_reset(&out);
	vbuf_reset(&wire);

	/* Two commands in one write: replies in order. */
	{
		char *lines[] = { "MAIL FROM:<a@me.test>", "RCPT TO:<b@mx.test>" };

		session_pipe(s, lines, 2, &wire, &out);
	}
	ck_assert_str_eq(vbuf_str(&wire), "MAIL FROM:<a@me.test>\r\nRCPT TO:<b@mx.test>\r\n");
	ck_assert_uint_eq(session_owed(s), 2);
	recv_str(s, "250 ok\r\n554 5.7.1 relay denied\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "allowed for MAIL");
	ASSERT_HAS(vbuf_str(&out), "554 transaction failed");
	ASSERT_HAS(vbuf_str(&out), "NOT allowed (expected 250, 251, 550");
	ASSERT_HAS(vbuf_str(&out), "5.7.1: permanent failure, security or policy status");
	/* The passive checks' finding on that reply, as it happens. */
	ASSERT_HAS(vbuf_str(&out), "delivery not authorized, message refused\n"
	    "  ! WARN rfc5321.4.3.1.table-adherence (");
	vbuf_reset(&out);
	vbuf_reset(&wire);

	/* Nothing owed: unsolicited. */
	recv_str(s, "250 surprise\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "  = unsolicited (no command was owed a reply");
	ASSERT_HAS(vbuf_str(&out), "  ! FAIL rfc5321.4.2.one-reply-per-command (");
	/* Shown once: the next reply does not repeat it. */
	ck_assert_ptr_null(strstr(vbuf_str(&out), "table-adherence"));
	recv_str(s, "garbage\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "unsolicited (no command was owed a reply); malformed");
	vbuf_reset(&out);

	session_command(s, "QUIT", 4, &wire, &out);
	recv_str(s, "221 bye\r\n", &out);
	session_server_closed(s, 0);
	ck_assert_uint_eq(load_saved(s), 5);

	vbuf_reset(&out);
	ck_assert_uint_eq(session_check(s, &out), 3);
	ASSERT_HAS(vbuf_str(&out), "  ! WARN rfc5321.4.3.1.table-adherence (");
	ASSERT_HAS(vbuf_str(&out), "in reply to RCPT, got \"554 5.7.1 relay denied\"");
	ASSERT_HAS(vbuf_str(&out), "  ! FAIL rfc5321.4.2.one-reply-per-command (");
	ASSERT_HAS(vbuf_str(&out), "got unsolicited \"250 surprise\" [S2C segment 7, byte 0]");
	ASSERT_HAS(vbuf_str(&out), "3 FAIL, 1 WARN\n");

	vbuf_free(&wire);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

START_TEST(test_console_session_data_raw_and_save)
{
	session *s = opened();
	vbuf wire = VBUF_INIT, out = VBUF_INIT;
	char *content[] = { "Subject: t", "", ".dot", "${helo}" };
	char *json;

	recv_str(s, "220 mx\r\n", &out);
	session_command(s, "DATA", 4, &wire, &out);
	recv_str(s, "354 go\r\n", &out);
	vbuf_reset(&wire);
	session_data(s, content, 4, &wire, &out);
	ck_assert_str_eq(vbuf_str(&wire), "Subject: t\r\n\r\n..dot\r\n${helo}\r\n.\r\n");
	ASSERT_HAS(vbuf_str(&out), "C: ..dot\nC: ${helo}\nC: .\n");
	recv_str(s, "250 2.0.0 ok\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "allowed after the message content");
	vbuf_reset(&wire);
	vbuf_reset(&out);

	/* Raw: one reply owed per CRLF, bare LF shown escaped. */
	session_raw(s, "NOOP\r\nNO\nOP\r\nRSET", 17, &wire, &out);
	ck_assert_uint_eq(wire.len, 17);
	ck_assert_uint_eq(session_owed(s), 2);
	ASSERT_HAS(vbuf_str(&out), "C: NOOP\nC: NO\\n\nC: OP\nC: RSET\n");
	recv_str(s, "250 a\r\n500 b\r\n502 c\r\n", &out);
	ck_assert_uint_eq(session_owed(s), 0);

	/* A command left unanswered and given up on. */
	session_command(s, "NOOP", 4, &wire, &out);
	session_give_up(s);
	ck_assert_uint_eq(session_owed(s), 0);
	recv_str(s, "250 late\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "unsolicited");

	/* greeting, DATA, data, raw (three replies), NOOP, the late reply */
	ck_assert_uint_eq(load_saved(s), 6);
	json = session_scenario(s, "probe.test", "x");
	/* "${" in content may not expand: the content goes as escaped raw. */
	ASSERT_HAS(json, "\\\\x24{helo}");
	ASSERT_HAS(json, "\"raw\":\t\"NOOP\\\\r\\\\nNO\\\\nOP\\\\r\\\\nRSET\"");
	xfree(json);

	vbuf_free(&wire);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

/* Content after a DATA that was refused is read as commands: one reply
 * owed per line, and the person is told. */
START_TEST(test_console_session_data_refused)
{
	session *s = opened();
	vbuf wire = VBUF_INIT, out = VBUF_INIT;
	char *content[] = { "x", "y" };

	recv_str(s, "220 mx\r\n", &out);
	session_command(s, "DATA", 4, &wire, &out);
	recv_str(s, "503 5.5.1 need MAIL\r\n", &out);
	vbuf_reset(&out);
	session_data(s, content, 2, &wire, &out);
	ASSERT_HAS(vbuf_str(&out), "DATA was not answered 354: the server will read these lines "
	    "as commands");
	ck_assert_uint_eq(session_owed(s), 3);
	recv_str(s, "500 a\r\n500 b\r\n500 c\r\n", &out);
	ck_assert_uint_eq(session_owed(s), 0);

	/* Typed ahead: DATA still owed its reply, so 354 is assumed. */
	session_command(s, "DATA", 4, &wire, &out);
	session_data(s, content, 2, &wire, &out);
	ck_assert_uint_eq(session_owed(s), 2);
	vbuf_free(&wire);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

/* STARTTLS on its own: its 220 asks for the handshake, the plaintext
 * after it is set aside, the transcript marks TLS and the save has one
 * starttls step; a second STARTTLS inside TLS stays a plain command. */
START_TEST(test_console_session_starttls)
{
	session *s = opened();
	vbuf wire = VBUF_INIT, out = VBUF_INIT;
	const cap_transcript *t = session_transcript(s);
	char *json;
	size_t marks = 0;

	recv_str(s, "220 mx.test ESMTP\r\n", &out);
	session_command(s, "EHLO c.test", 11, &wire, &out);
	recv_str(s, "250-mx.test\r\n250 STARTTLS\r\n", &out);
	session_command(s, "STARTTLS", 8, &wire, &out);
	ck_assert_int_eq(session_tls_wanted(s), 0);
	vbuf_reset(&out);
	recv_str(s, "220 go ahead\r\n250 injected\r\n", &out);
	ck_assert_int_eq(session_tls_wanted(s), 1);
	ASSERT_HAS(vbuf_str(&out), "  = the TLS handshake follows\n");
	ASSERT_HAS(vbuf_str(&out), "14 plaintext bytes after the 220 set aside");
	ck_assert_ptr_null(strstr(vbuf_str(&out), "S: 250 injected"));
	session_tls_start(s, 0);
	session_tls_note(s, "TLSv1.3 X");
	ck_assert_int_eq(session_tls_wanted(s), 0);
	ck_assert_uint_eq(session_owed(s), 0);
	ck_assert_int_eq(t->tls_plaintext, 1);
	ck_assert_str_eq(t->tls_note, "TLSv1.3 X; 14 plaintext bytes after the 220 set aside");
	for (size_t i = 0; i < t->nsegs; i++)
		marks += t->segs[i].kind == CAP_TLS_START;
	ck_assert_uint_eq(marks, 1);
	session_command(s, "EHLO c.test", 11, &wire, &out);
	recv_str(s, "250 mx.test\r\n", &out);
	session_command(s, "STARTTLS", 8, &wire, &out);
	vbuf_reset(&out);
	recv_str(s, "220 again\r\n", &out);
	ck_assert_int_eq(session_tls_wanted(s), 0);
	ASSERT_HAS(vbuf_str(&out), "runs one only for the first STARTTLS");
	json = session_scenario(s, "probe.test", "tls");
	ASSERT_HAS(json, "\"starttls\":\ttrue,\n\t\t\t\"recv\":\t{\n\t\t\t\t\"code\":\t220");
	ASSERT_HAS(json, "\"send\":\t\"STARTTLS\"");
	xfree(json);
	ck_assert_uint_eq(load_saved(s), 5);
	session_free(s);

	/* A close right after STARTTLS's 220 gets a step of its own: a
	 * starttls step takes no "closed". */
	s = opened();
	recv_str(s, "220 mx.test ESMTP\r\n", &out);
	session_command(s, "STARTTLS", 8, &wire, &out);
	recv_str(s, "220 go ahead\r\n", &out);
	session_tls_start(s, 0);
	session_server_closed(s, 0);
	ck_assert_uint_eq(load_saved(s), 3);
	vbuf_free(&wire);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

/* --tls: the greeting stays owed, no mark; the save says it cannot be
 * replayed. */
START_TEST(test_console_session_implicit_tls)
{
	session *s = opened();
	vbuf out = VBUF_INIT;
	char *json;

	session_tls_start(s, 1);
	ck_assert_uint_eq(session_owed(s), 1);
	recv_str(s, "220 mx.test ESMTP\r\n", &out);
	ASSERT_HAS(vbuf_str(&out), "allowed as a greeting");
	ck_assert_int_eq(session_transcript(s)->tls_plaintext, 0);
	json = session_scenario(s, "probe.test", "tls");
	ASSERT_HAS(json, "cannot say yet");
	xfree(json);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

START_TEST(test_console_session_hard_limit)
{
	session *s = opened();
	vbuf out = VBUF_INIT;
	size_t n = 70 * 1024;
	char *big = xmalloc(n);

	memset(big, 'x', n);
	memcpy(big, "220 ", 4);
	ck_assert_int_eq(session_received(s, big, n, &out), -1);
	ASSERT_HAS(vbuf_str(&out), "pass a hard limit");
	ck_assert_int_eq(session_received(s, "220 x\r\n", 7, &out), -1);
	xfree(big);
	vbuf_free(&out);
	session_free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("console_session");
	TCase *tc = tcase_create("console_session");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_console_session_pairs_replies);
	tcase_add_test(tc, test_console_session_data_raw_and_save);
	tcase_add_test(tc, test_console_session_data_refused);
	tcase_add_test(tc, test_console_session_hard_limit);
	tcase_add_test(tc, test_console_session_starttls);
	tcase_add_test(tc, test_console_session_implicit_tls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
