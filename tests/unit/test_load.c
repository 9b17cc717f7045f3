/*
 * test_load - the load scheduler against the reference server on a loop
 * of its own (a second thread): every message sent is one the server
 * counted, the concurrency is kept, lock-step and pipelined, and a target
 * that is not there gives ENG_UNREACHABLE. eng_load aborts when its loop
 * does not close cleanly, so a leaked handle fails these tests too.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness/engine/load.h"
#include "harness/engine/serve.h"
#include "harness/scenario/scenario.h"

typedef struct srv_thread {
	uv_loop_t loop;
	uv_async_t stop;
	uv_thread_t tid;
	eng_serve *sv;
	char port[16];
} srv_thread;

static void
srv_stop_cb(uv_async_t *a)
{
	srv_thread *st = a->data;

	eng_serve_stop(st->sv);
	uv_close((uv_handle_t *)&st->stop, NULL);
}

static void
srv_main(void *arg)
{
	srv_thread *st = arg;

	uv_run(&st->loop, UV_RUN_DEFAULT);
}

static void
srv_start(srv_thread *st)
{
	eng_serve_config cfg;
	char err[256];

	memset(st, 0, sizeof(*st));
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = "0";
	cfg.hostname = "load.test";
	ck_assert_int_eq(uv_loop_init(&st->loop), 0);
	ck_assert_int_eq(eng_serve_start(&st->loop, &cfg, &st->sv, err, sizeof(err)), 0);
	snprintf(st->port, sizeof(st->port), "%s", eng_serve_port(st->sv));
	uv_async_init(&st->loop, &st->stop, srv_stop_cb);
	st->stop.data = st;
	ck_assert_int_eq(uv_thread_create(&st->tid, srv_main, st), 0);
}

static unsigned long
srv_finish(srv_thread *st)
{
	unsigned long accepted;

	uv_async_send(&st->stop);
	uv_thread_join(&st->tid);
	accepted = eng_serve_get_stats(st->sv)->accepted;
	eng_serve_free(st->sv);
	ck_assert_int_eq(uv_loop_close(&st->loop), 0);
	return accepted;
}

static scn_scenario *
session(int pipelined)
{
	static const char lock[] =
	    "{\"id\": \"load.t\", \"summary\": \"s\", \"refs\": [\"RFC 5321\"], \"steps\": ["
	    "{\"recv\": {\"code\": 220}}, {\"send\": \"EHLO ${helo}\", \"recv\": 250},"
	    "{\"send\": \"MAIL FROM:<${from}>\", \"recv\": 250},"
	    "{\"send\": \"RCPT TO:<${rcpt}>\", \"recv\": 250},"
	    "{\"send\": \"DATA\", \"recv\": 354},"
	    "{\"data\": {\"generate\": 3000}, \"recv\": 250},"
	    "{\"send\": \"QUIT\", \"recv\": 221}]}";
	static const char pipe[] =
	    "{\"id\": \"load.p\", \"summary\": \"s\", \"refs\": [\"RFC 5321\"], \"steps\": ["
	    "{\"recv\": {\"code\": 220}}, {\"send\": \"EHLO ${helo}\", \"recv\": 250},"
	    "{\"send\": [\"MAIL FROM:<${from}>\", \"RCPT TO:<${rcpt}>\", \"DATA\"], \"pipeline\": true,"
	    " \"recv\": [250, 250, 354]},"
	    "{\"data\": {\"generate\": 3000}, \"recv\": 250},"
	    "{\"send\": [\"MAIL FROM:<${from}>\", \"RCPT TO:<${rcpt}>\", \"DATA\"], \"pipeline\": true,"
	    " \"recv\": [250, 250, 354]},"
	    "{\"data\": {\"generate\": 10}, \"recv\": 250},"
	    "{\"send\": \"QUIT\", \"recv\": 221}]}";
	const char *text = pipelined ? pipe : lock;
	scn_scenario *s = NULL;
	char err[256];

	ck_assert_msg(scn_load_buffer("test", text, strlen(text), &s, err, sizeof(err)) == 0, "%s", err);
	return s;
}

static void
run_against(int pipelined, uint64_t sessions, unsigned conc, uint64_t want_messages)
{
	srv_thread srv;
	scn_vars vars = { 0 };
	scn_scenario *s = session(pipelined);
	eng_load_config cfg;
	eng_load_result res;
	lst_stats st;
	char err[256];

	srv_start(&srv);
	eng_default_vars(&vars, "127.0.0.1", srv.port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.eng.host = "127.0.0.1";
	cfg.eng.port = srv.port;
	cfg.eng.connect_timeout_ms = 5000;
	cfg.eng.defaults = &vars;
	cfg.scenario = s;
	cfg.sessions = sessions;
	cfg.concurrency = conc;
	lst_init(&st);
	ck_assert_int_eq(eng_load(&cfg, &st, &res, err, sizeof(err)), ENG_OK);
	ck_assert_uint_eq(st.sessions, sessions);
	ck_assert_uint_eq(st.pass, sessions);
	ck_assert_uint_eq(st.accepted, want_messages);
	ck_assert_uint_eq(st.messages, want_messages);
	ck_assert_uint_eq(st.findings.n, 0);
	ck_assert_uint_le(res.open_peak, conc);
	ck_assert_uint_ge(res.open_peak, 1);
	ck_assert_uint_eq(srv_finish(&srv), want_messages);
	lst_free(&st);
	scn_free(s);
	scn_vars_free(&vars);
}

START_TEST(test_load_counts_lock_step)
{
	run_against(0, 30, 7, 30);
}
END_TEST

START_TEST(test_load_counts_pipelined)
{
	run_against(1, 25, 25, 50);
}
END_TEST

START_TEST(test_load_unreachable)
{
	uv_loop_t loop;
	uv_tcp_t tcp;
	struct sockaddr_in sin;
	int len = sizeof(sin);
	char port[16];
	scn_vars vars = { 0 };
	scn_scenario *s = session(0);
	eng_load_config cfg;
	eng_load_result res;
	lst_stats st;
	char err[256];

	/* A port that was free a moment ago: bound, then closed. */
	uv_loop_init(&loop);
	uv_tcp_init(&loop, &tcp);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	ck_assert_int_eq(uv_tcp_bind(&tcp, (struct sockaddr *)&sin, 0), 0);
	uv_tcp_getsockname(&tcp, (struct sockaddr *)&sin, &len);
	snprintf(port, sizeof(port), "%d", ntohs(sin.sin_port));
	uv_close((uv_handle_t *)&tcp, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);

	eng_default_vars(&vars, "127.0.0.1", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.eng.host = "127.0.0.1";
	cfg.eng.port = port;
	cfg.eng.connect_timeout_ms = 5000;
	cfg.eng.defaults = &vars;
	cfg.scenario = s;
	cfg.sessions = 50;
	cfg.concurrency = 3;
	lst_init(&st);
	ck_assert_int_eq(eng_load(&cfg, &st, &res, err, sizeof(err)), ENG_UNREACHABLE);
	ck_assert_ptr_nonnull(strstr(err, "could not connect"));
	ck_assert_uint_ge(st.error, 1);
	ck_assert_uint_le(st.sessions, 3);
	ck_assert_uint_eq(st.errors.n, 1);
	ck_assert_str_eq(st.errors.v[0].name, "connect-refused");
	lst_free(&st);
	scn_free(s);
	scn_vars_free(&vars);
}
END_TEST

static Suite *
load_suite(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_load_counts_lock_step);
	tcase_add_test(tc, test_load_counts_pipelined);
	tcase_add_test(tc, test_load_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(load_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
