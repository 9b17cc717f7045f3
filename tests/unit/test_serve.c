/*
 * The reference server on a real loop (harness/engine/serve.c, spool.c),
 * and `run` against it (eng_run with builtin_server). A client thread
 * speaks SMTP over a blocking socket while the test's thread runs the
 * loop; when the client is done it wakes the loop (uv_async_t), which
 * stops the server. Every test asserts uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "harness/engine/engine.h"
#include "harness/engine/serve.h"
#include "harness/smtp/server.h"
#include "harness/util/xalloc.h"

typedef struct client_job {
	int port;
	const char *send;	/* written in one piece after the greeting */
	char got[8192];		/* everything read until EOF */
	size_t got_len;
	uv_async_t *done;
} client_job;

static void *
client_thread(void *arg)
{
	client_job *j = arg;
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)j->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		if (j->send != NULL && write(fd, j->send, strlen(j->send)) < 0)
			perror("write");
		for (;;) {
			ssize_t n = read(fd, j->got + j->got_len, sizeof(j->got) - 1 - j->got_len);

			if (n <= 0)
				break;
			j->got_len += (size_t)n;
		}
	}
	j->got[j->got_len] = '\0';
	close(fd);
	uv_async_send(j->done);
	return NULL;
}

static eng_serve *stop_me;
static int async_calls;

static void
async_cb(uv_async_t *a)
{
	async_calls++;
	eng_serve_stop(stop_me);
	uv_close((uv_handle_t *)a, NULL);
}

/* Runs one client session against a fresh server; returns what it read. */
static void
session(const eng_serve_config *cfg, client_job *j)
{
	uv_loop_t loop;
	uv_async_t done;
	pthread_t th;
	eng_serve *sv;
	char err[256];

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(eng_serve_start(&loop, cfg, &sv, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(eng_serve_address(sv), "127.0.0.1:"));
	uv_async_init(&loop, &done, async_cb);
	stop_me = sv;
	async_calls = 0;
	j->port = atoi(eng_serve_port(sv));
	j->done = &done;
	ck_assert_int_eq(pthread_create(&th, NULL, client_thread, j), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(th, NULL);
	ck_assert_int_eq(async_calls, 1);
	eng_serve_free(sv);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

START_TEST(test_serve_session_to_maildir)
{
	char dir[] = "/tmp/test-serve-XXXXXX";
	eng_serve_config cfg;
	client_job j;
	char *path;
	DIR *d;
	struct dirent *e;
	int files = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = "0";
	cfg.hostname = "mx.test";
	cfg.spool_dir = dir;
	memset(&j, 0, sizeof(j));
	j.send = "EHLO c.test\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@d.test>\r\nDATA\r\n"
	    "Subject: t\r\n\r\n..x\r\n.\r\nQUIT\r\n";
	session(&cfg, &j);
	ck_assert_msg(strncmp(j.got, "220 mx.test ESMTP", 17) == 0, "%s", j.got);
	ck_assert_ptr_nonnull(strstr(j.got, "\r\n354 "));
	ck_assert_ptr_nonnull(strstr(j.got, "\r\n250 2.0.0 Ok: queued as "));
	ck_assert_ptr_nonnull(strstr(j.got, "\r\n221 2.0.0 "));

	path = xasprintf("%s/new", dir);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char *f, buf[1024];
		FILE *fp;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		files++;
		f = xasprintf("%s/%s", path, e->d_name);
		fp = fopen(f, "rb");
		ck_assert_ptr_nonnull(fp);
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		ck_assert_msg(strncmp(buf, "Return-Path: <a@h.test>\r\nReceived: from c.test "
		    "([127.0.0.1])\r\n\tby mx.test (smtp-harness) with ESMTP id ", 85) == 0, "%s", buf);
		ck_assert_msg(strstr(buf, "\tfor <b@d.test>; ") != NULL, "%s", buf);
		ck_assert_msg(n > 18 && strcmp(buf + n - 18, "Subject: t\r\n\r\n.x\r\n") == 0, "%s", buf);
		unlink(f);
		xfree(f);
		f = xasprintf("%s/envelope/%s.json", dir, e->d_name);
		ck_assert_int_eq(access(f, R_OK), 0);
		unlink(f);
		xfree(f);
	}
	closedir(d);
	ck_assert_int_eq(files, 1);
	rmdir(path);
	xfree(path);
	for (const char *sub = "tmp"; sub != NULL; sub = strcmp(sub, "tmp") == 0 ? "cur" :
	    strcmp(sub, "cur") == 0 ? "envelope" : NULL) {
		path = xasprintf("%s/%s", dir, sub);
		ck_assert_int_eq(rmdir(path), 0);	/* empty: nothing left in tmp/ */
		xfree(path);
	}
	rmdir(dir);
}
END_TEST

/* RFC 5321 §4.5.3.2.7: after the idle timeout, 421 and the close. */
START_TEST(test_serve_idle_timeout_421)
{
	eng_serve_config cfg;
	client_job j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = "0";
	cfg.hostname = "mx.test";
	cfg.idle_timeout_ms = 200;
	memset(&j, 0, sizeof(j));
	j.send = "EHLO c.test\r\n";
	session(&cfg, &j);
	ck_assert_msg(strstr(j.got, "\r\n421 4.4.2 mx.test ") != NULL, "%s", j.got);
}
END_TEST

START_TEST(test_serve_port_in_use)
{
	uv_loop_t loop;
	eng_serve *a, *b;
	eng_serve_config cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = "0";
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(eng_serve_start(&loop, &cfg, &a, err, sizeof(err)), 0);
	cfg.port = eng_serve_port(a);
	ck_assert_int_eq(eng_serve_start(&loop, &cfg, &b, err, sizeof(err)), -1);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1:") != NULL, "%s", err);
	cfg.port = "0";
	cfg.spool_dir = "/dev/null/spool";
	ck_assert_int_eq(eng_serve_start(&loop, &cfg, &b, err, sizeof(err)), -2);
	eng_serve_stop(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	eng_serve_free(a);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* `run` with no target: the built-in server in the run's own loop. */
START_TEST(test_serve_run_builtin)
{
	static const char text[] =
	    "{\"id\": \"t.basic\", \"summary\": \"s\", \"refs\": [\"rfc5321.3.1.greeting\"],"
	    " \"steps\": [{\"recv\": {\"code\": 220}}, {\"send\": \"EHLO ${helo}\", \"recv\": 250},"
	    " {\"send\": [\"MAIL FROM:<${from}>\", \"RCPT TO:<${rcpt}>\", \"DATA\"],"
	    "  \"pipeline\": true, \"recv\": [250, 250, 354]},"
	    " {\"data\": {\"lines\": [\"Subject: x\", \"\", \".\"]}, \"recv\": 250},"
	    " {\"send\": \"QUIT\", \"recv\": 221}, {\"closed\": {\"within_ms\": 2000}}]}";
	scn_list list = { 0 };
	scn_vars defaults = { 0 };
	scn_scenario *s;
	eng_config cfg;
	rpt_run *run = rpt_run_new("built-in reference server");
	char err[512] = "";

	for (int i = 0; i < 3; i++) {
		ck_assert_msg(scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
		    "%s", err);
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = s;
	}
	eng_default_vars(&defaults, "127.0.0.1", "0");
	memset(&cfg, 0, sizeof(cfg));
	cfg.builtin_server = 1;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.jobs = 2;
	ck_assert_int_eq(eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err)), ENG_OK);
	ck_assert_msg(strncmp(run->target, "built-in reference server 127.0.0.1:", 36) == 0, "%s",
	    run->target);
	ck_assert_int_eq((int)run->nscenarios, 3);
	for (size_t i = 0; i < run->nscenarios; i++)
		ck_assert_msg(run->scenarios[i]->verdict == RPT_PASS, "%s: %s",
		    run->scenarios[i]->id, rpt_verdict_str(run->scenarios[i]->verdict));
	rpt_run_free(run);
	scn_vars_free(&defaults);
	scn_list_free(&list);
}
END_TEST

/* "requires": a keyword, "!KEYWORD" absent, "KEYWORD PARAM" ("#": a
 * number other than 0); what is unmet SKIPs with the reason. */
START_TEST(test_serve_requires_forms)
{
	static const char *const req[] = {
		"[\"!AUTH\", \"SIZE #\", \"chunking\"]",
		"[\"SIZE 10485760\"]",
		"\"!SIZE\"",
		"[\"AUTH PLAIN\", \"8BITMIME\"]",
		"[\"DSN #\"]",
	};
	static const rpt_verdict want[] = { RPT_PASS, RPT_PASS, RPT_SKIP, RPT_SKIP, RPT_SKIP };
	static const char *const why[] = { NULL, NULL,
		"target advertises SIZE, which the scenario requires absent",
		"target does not advertise AUTH PLAIN",
		"target does not advertise DSN with a number other than 0" };
	scn_list list = { 0 };
	scn_vars defaults = { 0 };
	eng_config cfg;
	rpt_run *run = rpt_run_new("built-in reference server");
	char err[512] = "";

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		char *text = xasprintf("{\"id\": \"t.req%zu\", \"summary\": \"s\", \"refs\": "
		    "[\"rfc5321.3.1.greeting\"], \"requires\": %s, \"steps\": [{\"recv\": 220},"
		    " {\"send\": \"EHLO ${helo}\", \"recv\": 250}, {\"send\": \"QUIT\", \"recv\": 221}]}",
		    i, req[i]);
		scn_scenario *s;

		ck_assert_msg(scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
		    "%s", err);
		xfree(text);
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = s;
	}
	eng_default_vars(&defaults, "127.0.0.1", "0");
	memset(&cfg, 0, sizeof(cfg));
	cfg.builtin_server = 1;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.jobs = 1;
	ck_assert_int_eq(eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err)), ENG_OK);
	ck_assert_uint_eq(run->nscenarios, list.n);
	for (size_t i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		ck_assert_msg(sc->verdict == want[i], "%s: %s", sc->id, rpt_verdict_str(sc->verdict));
		if (why[i] != NULL)
			ck_assert_str_eq(sc->reason, why[i]);
	}
	rpt_run_free(run);
	scn_vars_free(&defaults);
	scn_list_free(&list);
}
END_TEST

/* "otherwise": "error" that does not hold ends the scenario as an ERROR
 * with the reply quoted and no finding; a scenario whose "credentials"
 * have no value SKIPs without connecting, and a value given is masked in
 * the transcript. */
START_TEST(test_serve_otherwise_error_and_credentials)
{
	static const char *const texts[] = {
		"{\"id\": \"t.err\", \"summary\": \"s\", \"refs\": [\"rfc5321.3.1.greeting\"],"
		" \"steps\": [{\"recv\": 220}, {\"send\": \"EHLO ${helo}\", \"recv\": 250},"
		" {\"send\": \"NOOP\", \"recv\": {\"code\": 235, \"otherwise\": \"error\"}},"
		" {\"send\": \"QUIT\", \"recv\": 221}]}",
		"{\"id\": \"t.nocred\", \"summary\": \"s\", \"refs\": [\"rfc5321.3.1.greeting\"],"
		" \"vars\": {\"nobody\": \"\"}, \"credentials\": [\"nobody\"],"
		" \"steps\": [{\"recv\": 220}, {\"send\": \"NOOP ${nobody}\", \"recv\": 250}]}",
		"{\"id\": \"t.cred\", \"summary\": \"s\", \"refs\": [\"rfc5321.3.1.greeting\"],"
		" \"vars\": {\"pw\": \"\"}, \"credentials\": [\"pw\"],"
		" \"steps\": [{\"recv\": 220}, {\"send\": \"NOOP ${base64:pw}\", \"recv\": 250},"
		" {\"send\": \"QUIT\", \"recv\": 221}]}",
	};
	static const rpt_verdict want[] = { RPT_ERROR, RPT_SKIP, RPT_PASS };
	scn_list list = { 0 };
	scn_vars defaults = { 0 }, overrides = { 0 };
	eng_config cfg;
	rpt_run *run = rpt_run_new("built-in reference server");
	char err[512] = "";
	const cap_transcript *t;
	const vbuf *c2s;
	char *sent;

	for (size_t i = 0; i < 3; i++) {
		scn_scenario *s;

		ck_assert_msg(scn_load_buffer("t.json", texts[i], strlen(texts[i]), &s, err,
		    sizeof(err)) == 0, "%s", err);
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = s;
	}
	eng_default_vars(&defaults, "127.0.0.1", "0");
	scn_vars_set(&overrides, "pw", "hunter2");
	memset(&cfg, 0, sizeof(cfg));
	cfg.builtin_server = 1;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.overrides = &overrides;
	cfg.jobs = 1;
	ck_assert_int_eq(eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err)), ENG_OK);
	ck_assert_uint_eq(run->nscenarios, 3);
	for (size_t i = 0; i < 3; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		ck_assert_msg(sc->verdict == want[i], "%s: %s", sc->id, rpt_verdict_str(sc->verdict));
		ck_assert_uint_eq(sc->nfindings, 0);
	}
	ck_assert_ptr_nonnull(strstr(run->scenarios[0]->reason, "expected 235, got \"250"));
	ck_assert_ptr_nonnull(strstr(run->scenarios[0]->reason, "could not be carried out"));
	ck_assert_ptr_nonnull(strstr(run->scenarios[1]->reason, "no value for \"nobody\""));
	/* "NOOP aHVudGVyMg==" crossed the wire; the transcript shows stars */
	t = run->scenarios[2]->transcript;
	ck_assert_ptr_nonnull(t);
	c2s = &t->stream[CAP_C2S];
	sent = xstrndup(c2s->data, c2s->len);
	ck_assert_ptr_nonnull(strstr(sent, "NOOP ************\r\n"));
	ck_assert_ptr_null(strstr(sent, "aHVudGVyMg=="));
	xfree(sent);
	rpt_run_free(run);
	scn_vars_free(&defaults);
	scn_vars_free(&overrides);
	scn_list_free(&list);
}
END_TEST

/* An expectation with "otherwise": "skip" that does not hold ends the
 * scenario as SKIP, with the reason and no finding; one that holds lets
 * the session go on. */
START_TEST(test_serve_otherwise_skip)
{
	static const char *const step3[] = {
		"{\"send\": \"NOOP\", \"recv\": {\"code\": 221, \"otherwise\": \"skip\"}}",
		"{\"send\": \"NOOP\", \"recv\": {\"code\": 250, \"otherwise\": \"skip\"}}",
	};
	static const rpt_verdict want[] = { RPT_SKIP, RPT_PASS };
	static const char want_reason[] = "step 3: expected 221, got \"250";
	scn_list list = { 0 };
	scn_vars defaults = { 0 };
	eng_config cfg;
	rpt_run *run = rpt_run_new("built-in reference server");
	char err[512] = "";

	for (size_t i = 0; i < 2; i++) {
		char *text = xasprintf("{\"id\": \"t.otherwise%zu\", \"summary\": \"s\", \"refs\": "
		    "[\"rfc5321.3.1.greeting\"], \"steps\": [{\"recv\": 220},"
		    " {\"send\": \"EHLO ${helo}\", \"recv\": 250}, %s,"
		    " {\"send\": \"QUIT\", \"recv\": 221}]}", i, step3[i]);
		scn_scenario *s;

		ck_assert_msg(scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
		    "%s", err);
		xfree(text);
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = s;
	}
	eng_default_vars(&defaults, "127.0.0.1", "0");
	memset(&cfg, 0, sizeof(cfg));
	cfg.builtin_server = 1;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.jobs = 1;
	ck_assert_int_eq(eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err)), ENG_OK);
	ck_assert_uint_eq(run->nscenarios, 2);
	for (size_t i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		ck_assert_msg(sc->verdict == want[i], "%s: %s", sc->id, rpt_verdict_str(sc->verdict));
		for (size_t f = 0; f < sc->nfindings; f++)
			ck_assert_int_ne(sc->findings[f].verdict, RPT_FAIL);
	}
	ck_assert_ptr_nonnull(run->scenarios[0]->reason);
	ck_assert_msg(strncmp(run->scenarios[0]->reason, want_reason, strlen(want_reason)) == 0,
	    "%s", run->scenarios[0]->reason);
	ck_assert_ptr_nonnull(strstr(run->scenarios[0]->reason, "; the rest of the scenario does not apply"));
	rpt_run_free(run);
	scn_vars_free(&defaults);
	scn_list_free(&list);
}
END_TEST

START_TEST(test_serve_parse_rate)
{
	static const struct {
		const char *in;
		long ppm;	/* -1: refused */
	} cases[] = {
		{ "0", 0 }, { "1", 1000000 }, { "0.5", 500000 }, { ".25", 250000 },
		{ "1.0", 1000000 }, { "0.000001", 1 }, { "0.123456", 123456 },
		{ "1.000", 1000000 }, { "", -1 }, { ".", -1 }, { "1.", -1 },
		{ "1.5", -1 }, { "2", -1 }, { "-0.5", -1 }, { "0.5x", -1 },
		{ "0.0000001", -1 }, { "1e-3", -1 }, { " 0.5", -1 }, { "00.5", -1 },
		{ "1.000001", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t ppm = 77;
		int rc = eng_serve_parse_rate(cases[i].in, &ppm);

		if (cases[i].ppm < 0) {
			ck_assert_msg(rc == -1, "\"%s\" accepted as %u", cases[i].in, ppm);
			ck_assert_uint_eq(ppm, 77);
		} else {
			ck_assert_msg(rc == 0, "\"%s\" refused", cases[i].in);
			ck_assert_uint_eq(ppm, (uint32_t)cases[i].ppm);
		}
	}
}
END_TEST

START_TEST(test_serve_fault_pick)
{
	eng_serve_config c;
	uint64_t a, b;
	int n451 = 0, ndrop = 0, same = 1;

	memset(&c, 0, sizeof(c));
	c.fail_code = 451;
	/* No fractions: nothing drawn, never a fault. */
	a = eng_serve_rng_init(7);
	b = a;
	ck_assert_int_eq(eng_serve_fault_pick(&a, &c), 0);
	ck_assert(a == b);
	/* All: always; a disconnect comes before a failure. */
	c.fail_ppm = 1000000;
	ck_assert_int_eq(eng_serve_fault_pick(&a, &c), 451);
	c.disconnect_ppm = 1000000;
	ck_assert_int_eq(eng_serve_fault_pick(&a, &c), SMTP_SRV_FAULT_DROP);
	/* Half: the same seed gives the same sequence, about half of it. */
	c.fail_ppm = 500000;
	c.disconnect_ppm = 100000;
	a = eng_serve_rng_init(7);
	b = eng_serve_rng_init(7);
	for (int i = 0; i < 1000; i++) {
		int x = eng_serve_fault_pick(&a, &c), y = eng_serve_fault_pick(&b, &c);

		same &= x == y;
		n451 += x == 451;
		ndrop += x == SMTP_SRV_FAULT_DROP;
	}
	ck_assert(same);
	ck_assert_int_gt(ndrop, 50);
	ck_assert_int_lt(ndrop, 150);
	ck_assert_int_gt(n451, 380);
	ck_assert_int_lt(n451, 520);
	/* Another seed, another sequence. */
	a = eng_serve_rng_init(7);
	b = eng_serve_rng_init(8);
	same = 1;
	for (int i = 0; i < 64; i++)
		same &= eng_serve_fault_pick(&a, &c) == eng_serve_fault_pick(&b, &c);
	ck_assert(!same);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("loop");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_serve_session_to_maildir);
	tcase_add_test(tc, test_serve_idle_timeout_421);
	tcase_add_test(tc, test_serve_port_in_use);
	tcase_add_test(tc, test_serve_run_builtin);
	tcase_add_test(tc, test_serve_requires_forms);
	tcase_add_test(tc, test_serve_otherwise_skip);
	tcase_add_test(tc, test_serve_otherwise_error_and_credentials);
	tcase_add_test(tc, test_serve_parse_rate);
	tcase_add_test(tc, test_serve_fault_pick);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(serve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
