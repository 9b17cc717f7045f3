/*
 * netns - a network namespace of the harness's own, for relay runs.
 *
 * eng_netns_create makes a namespace named smtp-harness-PID (PID: the
 * harness's), brings lo up in it (all of 127/8 is then local: the fake
 * DNS on 127.0.0.1:53, MX hosts on 127.0.0.2:25 and on), and writes
 * /etc/netns/NAME/resolv.conf naming 127.0.0.1. eng_netns_enter then
 * moves the harness itself inside, as `ip netns exec` does (the network
 * namespace, and a private mount namespace where that resolv.conf is
 * bound over /etc/resolv.conf), so that its listeners and every process
 * it starts from then on (the target command, the client command, the
 * fake DNS) live there and resolve through the fake DNS.
 *
 * Removal is owned by a watchdog process forked at creation, outside the
 * namespace and in a session of its own (Ctrl-C does not reach it): it
 * waits for the harness to close a pipe, which happens on
 * eng_netns_destroy and also when the harness dies in any way (a signal,
 * SIGKILL, an abort). It then ends every process whose network namespace
 * is this one (SIGTERM, then SIGKILL after HARNESS_NETNS_KILL_GRACE_MS;
 * the target's daemons included, whatever their process group), deletes
 * the namespace (`ip netns del`) and /etc/netns/NAME. A namespace left by
 * a run whose harness and watchdog both died is named after a PID that
 * no longer runs: eng_netns_cleanup_stale removes those.
 *
 * Needs root (CAP_SYS_ADMIN) and `ip` (iproute2). eng_netns_enter must be
 * called while the process has one thread (before any libuv loop runs
 * work on its thread pool): unshare(CLONE_NEWNS) refuses otherwise.
 * /sys is not remounted inside (tools that list interfaces through /sys
 * see the host's; netlink, which MTAs use, sees the namespace's).
 */
#ifndef HARNESS_ENGINE_NETNS_H
#define HARNESS_ENGINE_NETNS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define ENG_NETNS_PREFIX "smtp-harness-"

typedef struct eng_netns eng_netns;

/* Creates the namespace and its watchdog; NULL with one line in err when
 * it could not (then nothing is left behind). Free with eng_netns_destroy. */
eng_netns *eng_netns_create(char *err, size_t errlen);
/* The namespace's name (smtp-harness-PID); owned by ns. */
const char *eng_netns_name(const eng_netns *ns);
/* Moves the calling process inside (see above); -1 with err on failure. */
int eng_netns_enter(eng_netns *ns, char *err, size_t errlen);
/* Where the process was before eng_netns_enter: its network and mount
 * namespaces and its working directory, to come back to after a
 * namespace of its own is done with, so that the next one is made from
 * the host (several relay scenarios in one run, each in a namespace of
 * its own). Like eng_netns_enter, returning needs one thread. */
typedef struct eng_netns_home {
	int net, mnt, cwd;		/* descriptors, -1 when not held */
} eng_netns_home;

/* Takes hold of the current namespaces and directory; -1 with err. */
int eng_netns_home_save(eng_netns_home *home, char *err, size_t errlen);
/* Moves the process back to them and lets go of them; -1 with err (then
 * the process may be left inside). */
int eng_netns_home_return(eng_netns_home *home, char *err, size_t errlen);

/* Starts argv (argv[0] a path) inside, in a process group of its own,
 * stdin /dev/null, stdout onto stderr; -1 with err when it could not
 * fork. The process is ended and reaped by eng_netns_destroy at the
 * latest. */
pid_t eng_netns_spawn(eng_netns *ns, char *const argv[], char *err, size_t errlen);
/* Waits up to ms for process pid (started by eng_netns_spawn) to exit:
 * 1 and *status (as waitpid's) when it did, 0 when it still runs, -1 when
 * pid is not one of ns's or was already reaped. */
int eng_netns_wait(eng_netns *ns, pid_t pid, long ms, int *status);
/* Removes everything (processes inside, the namespace, /etc/netns/NAME),
 * waits for the watchdog and frees ns; NULL is fine. Returns 0 when all
 * was removed, -1 when the watchdog reported something left (it says
 * what on stderr). */
int eng_netns_destroy(eng_netns *ns);

/* The owner PID in a name made by eng_netns_create, or -1 when name is
 * not one of them (another prefix, no digits, trailing text, overflow). */
long eng_netns_owner(const char *name);
/* Removes namespace `name` as the watchdog does, sparing process `spare`
 * (0: none); progress lines go to log (may be NULL). 0 when nothing of it
 * is left. */
int eng_netns_remove(const char *name, pid_t spare, FILE *log);
/* Removes every harness namespace (and /etc/netns entry) whose owner no
 * longer runs, or every one with all != 0; prints a line for each to out.
 * Returns the number that could not be removed. */
int eng_netns_cleanup_stale(int all, FILE *out);

#endif
