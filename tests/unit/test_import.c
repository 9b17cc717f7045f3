/*
 * test_import - transcripts made by hand turned into scenarios: pipelined
 * groups, message content, reply texts normalized, redaction, the server
 * role; every scenario made must load.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "harness/scenario/import.h"
#include "harness/scenario/scenario.h"
#include "harness/util/xalloc.h"

static uint64_t now_us;

static cap_transcript *
tx_new(void)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	now_us = 1700000000000000ULL;
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, now_us);
	return t;
}

static void
tx(cap_transcript *t, cap_dir dir, const char *s)
{
	now_us += 1000;
	cap_transcript_add_data(t, dir, now_us, s, strlen(s));
}

#define C(t, s) tx(t, CAP_C2S, s)
#define S(t, s) tx(t, CAP_S2C, s)

/* Builds the scenario of t in the given role, checks that it loads, and
 * returns its JSON text (caller frees). */
static char *
make(cap_transcript *t, int server, const import_opts *o, cJSON **tree)
{
	dlg *d = dlg_build(t);
	cJSON *s = server ? import_server(d, "t.session-1", "a test", o) :
	    import_client(d, "t.session-1", "a test", o);
	char *text = cJSON_PrintUnformatted(s), *copy, err[1024];
	scn_scenario *sc = NULL;

	if (scn_load_buffer("test", text, strlen(text), &sc, err, sizeof(err)) != 0)
		ck_abort_msg("does not load: %s\n%s", err, text);
	scn_free(sc);
	copy = xstrdup(text);
	cJSON_free(text);
	if (tree != NULL)
		*tree = s;
	else
		cJSON_Delete(s);
	dlg_free(d);
	return copy;
}

static cJSON *
step(cJSON *s, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(s, "steps"), i);
}

static cap_transcript *
pipelined_session(void)
{
	cap_transcript *t = tx_new();

	S(t, "220 mx1.example.net ESMTP Postfix (Debian/GNU)\r\n");
	C(t, "EHLO client.example.org\r\n");
	S(t, "250-mx1.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	C(t, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
	S(t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	C(t, "Subject: hi\r\n\r\n..leading dot\r\nsecret body\r\n.\r\n");
	S(t, "250 2.0.0 Ok: queued as 4FqRk0Jh2z3 at Tue, 1 Dec 2026 02:03:09 +0000\r\n");
	C(t, "QUIT\r\n");
	S(t, "221 2.0.0 Bye\r\n");
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, now_us + 1);
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, now_us + 2);
	return t;
}

START_TEST(test_import_pipelined_group)
{
	cap_transcript *t = pipelined_session();
	import_opts o = { 0 };
	cJSON *s, *st, *send;
	char *text = make(t, 0, &o, &s);

	st = step(s, 2);
	send = cJSON_GetObjectItem(st, "send");
	ck_assert(cJSON_IsArray(send));
	ck_assert_int_eq(cJSON_GetArraySize(send), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(send, 2)->valuestring, "DATA");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "pipeline")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "recv")), 3);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "recv"), 1),
	    "esc")->valuestring, "2.1.5");
	/* The greeting's and EHLO reply's domain is not asserted. */
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(step(s, 0), "recv"), "text")->valuestring,
	    "^[^ ]* ESMTP Postfix [^ ]*");
	ck_assert_ptr_null(strstr(text, "mx1"));
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

/* Content as lines, unstuffed; the queue id and the date in the reply
 * after it become patterns. */
START_TEST(test_import_data_and_normalized_reply)
{
	cap_transcript *t = pipelined_session();
	import_opts o = { 0 };
	cJSON *s, *st, *lines, *recv;
	char *text = make(t, 0, &o, &s);

	st = step(s, 3);
	lines = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "data"), "lines");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 4);
	ck_assert_str_eq(cJSON_GetArrayItem(lines, 2)->valuestring, ".leading dot");
	recv = cJSON_GetObjectItem(st, "recv");
	ck_assert_int_eq(cJSON_GetObjectItem(recv, "code")->valueint, 250);
	ck_assert_str_eq(cJSON_GetObjectItem(recv, "esc")->valuestring, "2.0.0");
	ck_assert_str_eq(cJSON_GetObjectItem(recv, "text")->valuestring,
	    "^[^ ]* Ok: queued as [^ ]* at");
	ck_assert_ptr_null(strstr(text, "4FqRk0Jh2z3"));
	ck_assert_ptr_null(strstr(text, "2026"));
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_import_text_pattern)
{
	static const char rej[] = "5.7.1 <x@y.test>: Recipient address rejected: Access denied";
	char *p = import_text_pattern(rej, strlen(rej), 0);

	ck_assert_str_eq(p, "^[^ ]* [^ ]* Recipient address rejected: Access");
	xfree(p);
	p = import_text_pattern("Ready to start TLS (a+b)", 24, 0);
	ck_assert_str_eq(p, "^Ready to start TLS \\(a\\+b\\)");
	xfree(p);
	ck_assert_ptr_null(import_text_pattern("2.0.0 4FqRk0Jh2z3", 17, 0));
	p = import_id_stem("/tmp/Prod Capture.2026.pcapng");
	ck_assert_str_eq(p, "prod-capture");
	xfree(p);
	p = import_id_stem("_x.pcap");
	ck_assert_str_eq(p, "capture-_x");
	xfree(p);
}
END_TEST

/* Credentials and the body become placeholders; the body keeps its length. */
START_TEST(test_import_redact)
{
	cap_transcript *t = tx_new();
	import_opts o = { 1, 0 };
	cJSON *s, *srv;
	char *text, *stext;

	S(t, "220 mx ESMTP\r\n");
	C(t, "EHLO c\r\n");
	S(t, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
	C(t, "AUTH PLAIN AHVzZXIAaHVudGVyMg==\r\n");
	S(t, "535 5.7.8 no\r\n");
	C(t, "AUTH LOGIN\r\n");
	S(t, "334 VXNlcm5hbWU6\r\n");
	C(t, "dXNlcg==\r\n");
	S(t, "334 UGFzc3dvcmQ6\r\n");
	C(t, "aHVudGVyMg==\r\n");
	S(t, "235 2.7.0 ok\r\n");
	C(t, "MAIL FROM:<a@b>\r\n");
	S(t, "250 ok\r\n");
	C(t, "RCPT TO:<c@d>\r\n");
	S(t, "250 ok\r\n");
	C(t, "DATA\r\n");
	S(t, "354 go\r\n");
	C(t, "Subject: x\r\n\r\nsecret body\r\n.\r\n");
	S(t, "250 ok\r\n");
	C(t, "QUIT\r\n");
	S(t, "221 bye\r\n");
	text = make(t, 0, &o, &s);
	stext = make(t, 1, &o, &srv);
	ck_assert_ptr_null(strstr(text, "hunter"));
	ck_assert_ptr_null(strstr(text, "AHVzZXIAaHVudGVyMg"));
	ck_assert_ptr_null(strstr(text, "dXNlcg=="));
	ck_assert_ptr_null(strstr(text, "aHVudGVyMg=="));
	ck_assert_ptr_null(strstr(text, "secret"));
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 2), "send")->valuestring,
	    "AUTH PLAIN " IMPORT_REDACTED_B64);
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 4), "send")->valuestring, IMPORT_REDACTED_B64);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(step(s, 9), "data"),
	    "generate")->valueint, (int)strlen("Subject: x\r\n\r\nsecret body\r\n"));
	/* The server role expects any command where a credential came. */
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(step(srv, 4), "expect"), "verb"));
	ck_assert_str_eq(cJSON_GetObjectItem(step(srv, 4), "reply")->valuestring, "334 UGFzc3dvcmQ6");
	ck_assert_ptr_null(strstr(stext, "secret"));
	cJSON_Delete(s);
	cJSON_Delete(srv);
	xfree(text);
	xfree(stext);
	cap_transcript_free(t);
}
END_TEST

/* Bytes a template would change go as raw: a bare LF, a "${". */
START_TEST(test_import_raw_bytes)
{
	cap_transcript *t = tx_new();
	import_opts o = { 0 };
	cJSON *s;
	char *text;

	S(t, "220 mx ESMTP\r\n");
	C(t, "HELO ${x}\r\n");
	S(t, "250 mx\r\n");
	C(t, "MAIL FROM:<a@b>\n");
	S(t, "250 ok\r\n");
	C(t, "RCPT TO:<c@d>\r\n");
	S(t, "250 ok\r\n");
	C(t, "DATA\r\n");
	S(t, "354 go\r\n");
	C(t, "bare\nLF\r\n.\r\n");
	S(t, "250 ok\r\n");
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, now_us + 1);
	text = make(t, 0, &o, &s);
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 1), "raw")->valuestring, "HELO \\x24{x}\\r\\n");
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 2), "raw")->valuestring,
	    "MAIL FROM:<a@b>\\n");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(step(s, 5), "data"), "raw")->valuestring,
	    "bare\\nLF\\r\\n.\\r\\n");
	/* No QUIT: the client closed. */
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 6), "drop")->valuestring, "close");
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_import_server_role)
{
	cap_transcript *t = pipelined_session();
	import_opts o = { 0 };
	cJSON *s, *ehlo;
	char *text = make(t, 1, &o, &s);

	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 0), "greet")->valuestring,
	    "220 mx1.example.net ESMTP Postfix (Debian/GNU)");
	ehlo = cJSON_GetObjectItem(s, "ehlo");
	ck_assert_int_eq(cJSON_GetArraySize(ehlo), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(step(s, 2), "expect"),
	    "verb")->valuestring, "MAIL");
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 5), "expect")->valuestring, "content");
	ck_assert_str_eq(cJSON_GetObjectItem(step(s, 6), "reply")->valuestring, "221 2.0.0 Bye");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "steps")), 7);
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

/* In replay mode only the 354 before content is asserted. */
START_TEST(test_import_replay_asserts_354_only)
{
	cap_transcript *t = pipelined_session();
	import_opts o = { 0, 1 };
	cJSON *s, *recv;
	char *text = make(t, 0, &o, &s);

	recv = cJSON_GetObjectItem(step(s, 2), "recv");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(recv, 0)), 0);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(recv, 2), "code")->valueint, 354);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(step(s, 4), "recv")), 0);
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

/* A session longer than a scenario may be is imported in part, and
 * still loads. */
START_TEST(test_import_long_session_cut)
{
	cap_transcript *t = tx_new();
	import_opts o = { 0 };
	cJSON *s;
	char *text;

	S(t, "220 mx\r\n");
	for (int i = 0; i < 10050; i++) {
		C(t, "NOOP\r\n");
		S(t, "250 2.0.0 Ok\r\n");
	}
	text = make(t, 0, &o, &s);
	ck_assert_int_le(cJSON_GetArraySize(cJSON_GetObjectItem(s, "steps")), 10000);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(s, "comment")->valuestring, "in part"));
	cJSON_Delete(s);
	xfree(text);
	text = make(t, 1, &o, &s);
	ck_assert_int_le(cJSON_GetArraySize(cJSON_GetObjectItem(s, "steps")), 10000);
	cJSON_Delete(s);
	xfree(text);
	cap_transcript_free(t);
}
END_TEST

static Suite *
import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_import_pipelined_group);
	tcase_add_test(tc, test_import_data_and_normalized_reply);
	tcase_add_test(tc, test_import_text_pattern);
	tcase_add_test(tc, test_import_redact);
	tcase_add_test(tc, test_import_raw_bytes);
	tcase_add_test(tc, test_import_server_role);
	tcase_add_test(tc, test_import_replay_asserts_354_only);
	tcase_add_test(tc, test_import_long_session_cut);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(import_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
