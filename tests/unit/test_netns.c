/*
 * test_netns - the namespace names, and (as root, with ip) a namespace
 * made, entered and removed: by eng_netns_destroy, and by the watchdog
 * when its harness dies without a word. Without root the live cases
 * pass with a note, as CI runs them as root.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "harness/engine/netns.h"

static int
can_live(void)
{
	if (geteuid() == 0 && (access("/usr/sbin/ip", X_OK) == 0 || access("/sbin/ip", X_OK) == 0))
		return 1;
	fprintf(stderr, "test_netns: not root or no ip: live cases not run\n");
	return 0;
}

static int
exists(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

START_TEST(test_netns_owner)
{
	ck_assert_int_eq(eng_netns_owner("smtp-harness-1"), 1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-4194304"), 4194304);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-"), -1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-0"), -1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-012"), -1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-12x"), -1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness--1"), -1);
	ck_assert_int_eq(eng_netns_owner("smtp-harness-99999999999999999999"), -1);
	ck_assert_int_eq(eng_netns_owner("other-12"), -1);
	ck_assert_int_eq(eng_netns_owner("t1"), -1);
	ck_assert_int_eq(eng_netns_owner(NULL), -1);
	/* Names not ours are never removed. */
	ck_assert_int_eq(eng_netns_remove("t1", 0, NULL), -1);
	ck_assert_int_eq(eng_netns_remove("../etc", 0, NULL), -1);
}
END_TEST

START_TEST(test_netns_create_enter_destroy)
{
	char err[256], name[64];
	eng_netns *ns;
	char *sh[] = { "/bin/sh", "-c", "grep -q '^nameserver 127.0.0.1$' /etc/resolv.conf && "
		"ip -o addr show lo | grep -q 'inet 127.0.0.1/8'", NULL };
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	pid_t pid, sleep_pid;
	int status = -1;

	if (!can_live())
		return;
	ns = eng_netns_create(err, sizeof(err));
	ck_assert_msg(ns != NULL, "%s", err);
	snprintf(name, sizeof(name), "%s", eng_netns_name(ns));
	ck_assert_int_eq(eng_netns_owner(name), getpid());
	ck_assert(exists("/var/run/netns", name));
	ck_assert(exists("/etc/netns", name));
	ck_assert_msg(eng_netns_enter(ns, err, sizeof(err)) == 0, "%s", err);
	pid = eng_netns_spawn(ns, sh, err, sizeof(err));
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(eng_netns_wait(ns, pid, 10000, &status), 1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(eng_netns_wait(ns, pid, 0, &status), -1);
	sleep_pid = eng_netns_spawn(ns, sleeper, err, sizeof(err));
	ck_assert_int_gt(sleep_pid, 0);
	ck_assert_int_eq(eng_netns_wait(ns, sleep_pid, 0, &status), 0);
	/* The caller is inside and is spared; the sleeper is not. */
	ck_assert_int_eq(eng_netns_destroy(ns), 0);
	ck_assert(kill(sleep_pid, 0) != 0);
	ck_assert(!exists("/var/run/netns", name));
	ck_assert(!exists("/etc/netns", name));
}
END_TEST

START_TEST(test_netns_watchdog_after_death)
{
	char name[64];
	int fds[2], status;
	pid_t child;

	if (!can_live())
		return;
	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char err[256];
		char *sleeper[] = { "/bin/sleep", "30", NULL };
		eng_netns *ns = eng_netns_create(err, sizeof(err));
		char c = ns != NULL && eng_netns_enter(ns, err, sizeof(err)) == 0 &&
		    eng_netns_spawn(ns, sleeper, err, sizeof(err)) > 0 ? 'y' : 'n';

		(void)!write(fds[1], &c, 1);
		/* Dies without destroying anything. */
		_exit(0);
	}
	close(fds[1]);
	{
		char c = 0;

		ck_assert_int_eq(read(fds[0], &c, 1), 1);
		ck_assert_int_eq(c, 'y');
	}
	close(fds[0]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	snprintf(name, sizeof(name), ENG_NETNS_PREFIX "%ld", (long)child);
	for (int i = 0; i < 100 && (exists("/var/run/netns", name) || exists("/etc/netns", name)); i++)
		usleep(100000);
	ck_assert_msg(!exists("/var/run/netns", name), "%s still there", name);
	ck_assert(!exists("/etc/netns", name));
}
END_TEST

/* A namespace with our PID in its name can only be a stale one. */
START_TEST(test_netns_replaces_stale_own_name)
{
	char err[256], cmd[128];
	eng_netns *ns;

	if (!can_live())
		return;
	snprintf(cmd, sizeof(cmd), "ip netns add " ENG_NETNS_PREFIX "%ld", (long)getpid());
	ck_assert_int_eq(system(cmd), 0);
	ns = eng_netns_create(err, sizeof(err));
	ck_assert_msg(ns != NULL, "%s", err);
	ck_assert_int_eq(eng_netns_destroy(ns), 0);
	ck_assert(!exists("/var/run/netns", cmd + strlen("ip netns add ")));
}
END_TEST

static Suite *
netns_suite(void)
{
	Suite *s = suite_create("netns");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_netns_owner);
	tcase_add_test(tc, test_netns_create_enter_destroy);
	tcase_add_test(tc, test_netns_watchdog_after_death);
	tcase_add_test(tc, test_netns_replaces_stale_own_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(netns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
