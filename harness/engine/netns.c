/*
 * netns - a network namespace of the harness's own (see netns.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "harness/engine/netns.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define NETNS_RUN_DIR "/var/run/netns"
#define NETNS_ETC_DIR "/etc/netns"
#define NETNS_MAX_CHILDREN 8

struct eng_netns {
	char name[64];
	pid_t watchdog;
	int watch_fd;		/* write end of the watchdog's pipe; closing it removes all */
	int entered;
	pid_t children[NETNS_MAX_CHILDREN];	/* each the leader of its group */
	int reaped[NETNS_MAX_CHILDREN];
	size_t nchildren;
};

static void
netns_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
netns_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* fork(), with the child's signal handlers back to their defaults before
 * any signal can reach it: a SIGTERM between fork and exec must end the
 * child, not run a handler of the parent's in it. With `blocked` the
 * child starts with every signal blocked, to choose its own first. */
static pid_t
netns_fork(int blocked)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (int sig = 1; sig < NSIG; sig++) {
			struct sigaction sa;

			if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
			    sa.sa_handler != SIG_IGN) {
				sa.sa_handler = SIG_DFL;
				sa.sa_flags = 0;
				(void)sigaction(sig, &sa, NULL);
			}
		}
		if (blocked)
			return 0;
		sigemptyset(&old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/* Runs argv (a path) with stdout and stderr onto /dev/null unless
 * `loud`; its exit status, or -1 when it could not run. */
static int
netns_run(char *const argv[], int loud)
{
	pid_t pid = netns_fork(0);
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			if (!loud) {
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
			}
		}
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The `ip` of iproute2: where Debian and others install it. */
static const char *
netns_ip_path(void)
{
	static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

long
eng_netns_owner(const char *name)
{
	size_t plen = strlen(ENG_NETNS_PREFIX);
	const char *p;
	long v = 0;

	if (name == NULL || strncmp(name, ENG_NETNS_PREFIX, plen) != 0)
		return -1;
	p = name + plen;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (INT_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* Signals every process in the network namespace with inode (dev, ino)
 * but `spare` and this one; the number signalled. */
static int
netns_signal_all(dev_t dev, ino_t ino, pid_t spare, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[64];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == spare || pid == getpid())
			continue;
		if (snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid) >= (int)sizeof(path))
			continue;
		/* A process that exited (a zombie) has no namespaces left. */
		if (stat(path, &st) != 0 || st.st_dev != dev || st.st_ino != ino)
			continue;
		if (kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
eng_netns_remove(const char *name, pid_t spare, FILE *log)
{
	char run_path[PATH_MAX], etc_dir[PATH_MAX], resolv[PATH_MAX];
	struct stat st;
	int left = 0;

	if (eng_netns_owner(name) < 0)
		return -1;
	if (snprintf(run_path, sizeof(run_path), NETNS_RUN_DIR "/%s", name) >= (int)sizeof(run_path) ||
	    snprintf(etc_dir, sizeof(etc_dir), NETNS_ETC_DIR "/%s", name) >= (int)sizeof(etc_dir) ||
	    snprintf(resolv, sizeof(resolv), "%s/resolv.conf", etc_dir) >= (int)sizeof(resolv))
		return -1;
	if (stat(run_path, &st) == 0) {
		int n = netns_signal_all(st.st_dev, st.st_ino, spare, SIGTERM);

		if (n > 0 && log != NULL)
			fprintf(log, "smtp-harness: %s: SIGTERM to %d process%s inside\n", name, n,
			    n == 1 ? "" : "es");
		for (long waited = 0; n > 0 && waited < HARNESS_NETNS_KILL_GRACE_MS; waited += 50) {
			netns_sleep_ms(50);
			n = netns_signal_all(st.st_dev, st.st_ino, spare, 0);
		}
		if (n > 0) {
			n = netns_signal_all(st.st_dev, st.st_ino, spare, SIGKILL);
			if (log != NULL)
				fprintf(log, "smtp-harness: %s: SIGKILL to %d process%s still inside\n",
				    name, n, n == 1 ? "" : "es");
			for (long waited = 0; n > 0 && waited < 2000; waited += 50) {
				netns_sleep_ms(50);
				n = netns_signal_all(st.st_dev, st.st_ino, spare, 0);
			}
		}
		if (n > 0) {
			if (log != NULL)
				fprintf(log, "smtp-harness: %s: %d process%s would not end\n", name, n,
				    n == 1 ? "" : "es");
			left = 1;
		}
		{
			const char *ip = netns_ip_path();
			char *argv[] = { (char *)ip, "netns", "del", (char *)name, NULL };

			/* Without ip: what `ip netns del` does. */
			if (ip == NULL || netns_run(argv, 0) != 0) {
				(void)umount2(run_path, MNT_DETACH);
				(void)unlink(run_path);
			}
		}
		if (stat(run_path, &st) == 0) {
			if (log != NULL)
				fprintf(log, "smtp-harness: %s: could not delete the namespace\n", name);
			left = 1;
		}
	}
	if (unlink(resolv) != 0 && errno != ENOENT)
		left = 1;
	if (rmdir(etc_dir) != 0 && errno != ENOENT) {
		if (log != NULL)
			fprintf(log, "smtp-harness: %s: could not remove %s: %s\n", name, etc_dir,
			    strerror(errno));
		left = 1;
	}
	return left ? -1 : 0;
}

/* The watchdog: outside the namespace, in its own session, deaf to the
 * terminal's signals; removes everything once the harness closes the
 * pipe or dies. Never returns. */
static void
netns_watchdog(const char *name, int rfd, pid_t harness)
{
	char b;
	ssize_t r;
	int fd;
	sigset_t none;

	/* Started with every signal blocked, so that a Ctrl-C aimed at the
	 * harness cannot end us before we ignore it. */
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	do
		r = read(rfd, &b, 1);
	while (r > 0 || (r < 0 && errno == EINTR));
	/* The harness may still be inside, waiting for us: spare it. */
	_exit(eng_netns_remove(name, harness, stderr) == 0 ? 0 : 1);
}

eng_netns *
eng_netns_create(char *err, size_t errlen)
{
	const char *ip = netns_ip_path();
	eng_netns *ns;
	char path[PATH_MAX];
	int pfd[2];
	FILE *f;

	err[0] = '\0';
	if (ip == NULL) {
		netns_err(err, errlen, "--netns: the ip command (iproute2) was not found");
		return NULL;
	}
	if (geteuid() != 0) {
		netns_err(err, errlen, "--netns: a network namespace needs root");
		return NULL;
	}
	ns = xcalloc(1, sizeof(*ns));
	ns->watch_fd = -1;
	(void)snprintf(ns->name, sizeof(ns->name), ENG_NETNS_PREFIX "%ld", (long)getpid());
	{
		char *argv[] = { (char *)ip, "netns", "add", ns->name, NULL };
		char run_path[PATH_MAX];
		struct stat st;

		/* One with our PID in its name was left by an earlier process
		 * that had it: ours cannot be running yet, so it is stale. */
		(void)snprintf(run_path, sizeof(run_path), NETNS_RUN_DIR "/%s", ns->name);
		if (stat(run_path, &st) == 0) {
			fprintf(stderr, "smtp-harness: removing %s, left by an earlier process\n",
			    ns->name);
			(void)eng_netns_remove(ns->name, getpid(), stderr);
		}
		if (netns_run(argv, 1) != 0) {
			netns_err(err, errlen, "--netns: `ip netns add %s` failed (a stale one? "
			    "see smtp-harness netns --cleanup)", ns->name);
			xfree(ns);
			return NULL;
		}
	}
	/* From here on, the watchdog owns the removal, whatever happens. */
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		netns_err(err, errlen, "--netns: pipe: %s", strerror(errno));
		(void)eng_netns_remove(ns->name, 0, stderr);
		xfree(ns);
		return NULL;
	}
	ns->watchdog = netns_fork(1);
	if (ns->watchdog < 0) {
		netns_err(err, errlen, "--netns: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		(void)eng_netns_remove(ns->name, 0, stderr);
		xfree(ns);
		return NULL;
	}
	if (ns->watchdog == 0) {
		pid_t harness = getppid();

		close(pfd[1]);
		netns_watchdog(ns->name, pfd[0], harness);
	}
	close(pfd[0]);
	ns->watch_fd = pfd[1];
	{
		char *argv[] = { (char *)ip, "-n", ns->name, "link", "set", "lo", "up", NULL };

		if (netns_run(argv, 1) != 0) {
			netns_err(err, errlen, "--netns: could not bring lo up in %s", ns->name);
			(void)eng_netns_destroy(ns);
			return NULL;
		}
	}
	(void)snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s", ns->name);
	if ((mkdir(NETNS_ETC_DIR, 0755) != 0 && errno != EEXIST) || mkdir(path, 0755) != 0) {
		netns_err(err, errlen, "--netns: mkdir %s: %s", path, strerror(errno));
		(void)eng_netns_destroy(ns);
		return NULL;
	}
	(void)snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s/resolv.conf", ns->name);
	f = fopen(path, "w");
	if (f == NULL || fputs("# smtp-harness: the fake DNS inside this namespace\n"
	    "nameserver 127.0.0.1\noptions attempts:1 timeout:2\n", f) < 0 || fclose(f) != 0) {
		netns_err(err, errlen, "--netns: could not write %s", path);
		(void)eng_netns_destroy(ns);
		return NULL;
	}
	return ns;
}

const char *
eng_netns_name(const eng_netns *ns)
{
	return ns->name;
}

int
eng_netns_enter(eng_netns *ns, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	(void)snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		netns_err(err, errlen, "--netns: open %s: %s", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		netns_err(err, errlen, "--netns: setns %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	ns->entered = 1;
	/* What `ip netns exec` does: a mount namespace of our own, where
	 * mounts do not propagate back, with the namespace's resolv.conf. */
	if (unshare(CLONE_NEWNS) != 0) {
		netns_err(err, errlen, "--netns: unshare(CLONE_NEWNS): %s", strerror(errno));
		return -1;
	}
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) {
		netns_err(err, errlen, "--netns: mount --make-rslave /: %s", strerror(errno));
		return -1;
	}
	(void)snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s/resolv.conf", ns->name);
	if (mount(path, "/etc/resolv.conf", "none", MS_BIND, NULL) != 0) {
		netns_err(err, errlen, "--netns: bind %s on /etc/resolv.conf: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
netns_home_close(eng_netns_home *home)
{
	int *fds[] = { &home->net, &home->mnt, &home->cwd };

	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int
eng_netns_home_save(eng_netns_home *home, char *err, size_t errlen)
{
	home->net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	home->mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	home->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home->net < 0 || home->mnt < 0 || home->cwd < 0) {
		netns_err(err, errlen, "--netns: cannot hold the current namespaces or "
		    "directory: %s", strerror(errno));
		netns_home_close(home);
		return -1;
	}
	return 0;
}

int
eng_netns_home_return(eng_netns_home *home, char *err, size_t errlen)
{
	int rc = 0;

	/* setns into a mount namespace moves the process to its root: the
	 * working directory is restored last, so relative paths (reports,
	 * captures) still mean what they meant. */
	if (setns(home->mnt, CLONE_NEWNS) != 0) {
		netns_err(err, errlen, "--netns: back to the mount namespace: %s", strerror(errno));
		rc = -1;
	} else if (setns(home->net, CLONE_NEWNET) != 0) {
		netns_err(err, errlen, "--netns: back to the network namespace: %s",
		    strerror(errno));
		rc = -1;
	} else if (fchdir(home->cwd) != 0) {
		netns_err(err, errlen, "--netns: back to the working directory: %s",
		    strerror(errno));
		rc = -1;
	}
	netns_home_close(home);
	return rc;
}

pid_t
eng_netns_spawn(eng_netns *ns, char *const argv[], char *err, size_t errlen)
{
	pid_t pid;

	if (ns->nchildren == NETNS_MAX_CHILDREN) {
		netns_err(err, errlen, "--netns: more than %d processes started", NETNS_MAX_CHILDREN);
		return -1;
	}
	pid = netns_fork(0);
	if (pid < 0) {
		netns_err(err, errlen, "--netns: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		(void)setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "smtp-harness: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	(void)setpgid(pid, pid);
	ns->reaped[ns->nchildren] = 0;
	ns->children[ns->nchildren++] = pid;
	return pid;
}

int
eng_netns_wait(eng_netns *ns, pid_t pid, long ms, int *status)
{
	size_t i;

	for (i = 0; i < ns->nchildren && ns->children[i] != pid; i++)
		;
	if (i == ns->nchildren || ns->reaped[i])
		return -1;
	for (long waited = 0;; waited += 20) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid) {
			ns->reaped[i] = 1;
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= ms)
			return 0;
		netns_sleep_ms(20);
	}
}

int
eng_netns_destroy(eng_netns *ns)
{
	int st = 0, rc = 0;

	if (ns == NULL)
		return 0;
	/* The process groups we started first: the watchdog's sweep then
	 * finds what they left (daemons in sessions of their own). */
	for (size_t i = 0; i < ns->nchildren; i++)
		(void)kill(-ns->children[i], SIGTERM);
	if (ns->watch_fd >= 0)
		close(ns->watch_fd);
	if (ns->watchdog > 0) {
		while (waitpid(ns->watchdog, &st, 0) < 0 && errno == EINTR)
			;
		rc = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
	}
	for (size_t i = 0; i < ns->nchildren; i++) {
		(void)kill(-ns->children[i], SIGKILL);
		while (!ns->reaped[i] && waitpid(ns->children[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	xfree(ns);
	return rc;
}

int
eng_netns_cleanup_stale(int all, FILE *out)
{
	DIR *d;
	struct dirent *de;
	int failed = 0;
	const char *dirs[] = { NETNS_RUN_DIR, NETNS_ETC_DIR };

	for (size_t i = 0; i < 2; i++) {
		d = opendir(dirs[i]);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			long owner = eng_netns_owner(de->d_name);

			if (owner < 0)
				continue;
			if (!all && (kill((pid_t)owner, 0) == 0 || errno != ESRCH)) {
				if (i == 0)
					fprintf(out, "%s: kept, its harness (PID %ld) still runs\n",
					    de->d_name, owner);
				continue;
			}
			if (eng_netns_remove(de->d_name, 0, out) == 0) {
				fprintf(out, "%s: removed\n", de->d_name);
			} else {
				fprintf(out, "%s: could not be removed entirely\n", de->d_name);
				failed++;
			}
		}
		closedir(d);
	}
	return failed;
}
