/*
 * Engine tests that need no peer: an unreachable target, the built-in
 * variables, and results kept in the list's order. Sessions against real
 * servers are the integration tests' (tests/integration/run.sh).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/engine/engine.h"
#include "harness/util/xalloc.h"

/* A loopback port nothing listens on: bound, never listened, closed. */
static unsigned
dead_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static scn_scenario *
load(const char *id)
{
	char text[512], err[512];
	scn_scenario *s;

	snprintf(text, sizeof(text),
	    "{\"id\": \"%s\", \"summary\": \"s\", \"refs\": [\"rfc5321.3.1.greeting\"],"
	    " \"steps\": [{\"recv\": {\"code\": 220}}, {\"send\": \"QUIT\", \"recv\": 221}]}", id);
	ck_assert_msg(scn_load_buffer(id, text, strlen(text), &s, err, sizeof(err)) == 0, "%s", err);
	return s;
}

static int progress_calls;

static void
on_progress(void *arg, const rpt_scenario *sc)
{
	(void)arg;
	ck_assert_int_eq(sc->verdict, RPT_ERROR);
	progress_calls++;
}

START_TEST(test_engine_unreachable_is_error_not_fail)
{
	scn_list list = { 0 };
	scn_vars defaults = { 0 };
	eng_config cfg;
	rpt_run *run = rpt_run_new("127.0.0.1");
	char port[16], err[256] = "";
	const char *ids[] = { "b.second", "a.first", "c.third" };
	struct timespec t0, t1;
	eng_status st;

	snprintf(port, sizeof(port), "%u", dead_port());
	for (size_t i = 0; i < 3; i++) {
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = load(ids[i]);
	}
	eng_default_vars(&defaults, "127.0.0.1", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.jobs = 2;

	progress_calls = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = eng_run(&list, &cfg, run, on_progress, NULL, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);

	ck_assert_int_eq(st, ENG_UNREACHABLE);
	ck_assert_msg(strstr(err, port) != NULL, "error names the target: %s", err);
	ck_assert_uint_eq(run->nscenarios, 3);
	ck_assert_int_eq(progress_calls, 3);
	for (size_t i = 0; i < 3; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		/* results come back in the list's order, each an ERROR with a
		 * reason and no conformance finding */
		ck_assert_str_eq(sc->id, ids[i]);
		ck_assert_int_eq(sc->verdict, RPT_ERROR);
		ck_assert_ptr_nonnull(sc->reason);
		for (size_t f = 0; f < sc->nfindings; f++)
			ck_assert_int_ne(sc->findings[f].verdict, RPT_FAIL);
	}
	/* refused at once: well within the connect timeout */
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);

	rpt_run_free(run);
	scn_vars_free(&defaults);
	scn_list_free(&list);
}
END_TEST

START_TEST(test_engine_default_vars)
{
	scn_vars v = { 0 };

	eng_default_vars(&v, "::1", "2525");
	for (size_t i = 0; scn_builtin_vars[i]; i++)
		ck_assert_msg(scn_vars_get(&v, scn_builtin_vars[i]) != NULL, "%s is set",
		    scn_builtin_vars[i]);
	ck_assert_str_eq(scn_vars_get(&v, "target_host"), "::1");
	ck_assert_str_eq(scn_vars_get(&v, "target_port"), "2525");
	/* every default address parses as a mailbox: local@domain */
	ck_assert_ptr_nonnull(strchr(scn_vars_get(&v, "rcpt"), '@'));
	ck_assert_ptr_nonnull(strchr(scn_vars_get(&v, "from"), '@'));
	ck_assert_str_ne(scn_vars_get(&v, "rcpt"), scn_vars_get(&v, "bad_rcpt"));
	scn_vars_free(&v);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_engine_unreachable_is_error_not_fail);
	tcase_add_test(tc, test_engine_default_vars);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
