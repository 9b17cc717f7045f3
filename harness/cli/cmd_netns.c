/*
 * cmd_netns - `smtp-harness netns`: the namespaces `run --netns` makes.
 *
 * --list prints each (smtp-harness-PID in /var/run/netns or /etc/netns)
 * with whether its harness still runs; --cleanup removes those whose
 * harness no longer does (a run killed along with its watchdog), with
 * every process inside them; --cleanup --all removes every one.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/engine/netns.h"

static const char netns_usage[] =
    "usage: smtp-harness netns --list | --cleanup [--all]\n"
    "\n"
    "The network namespaces of `run --netns` are named smtp-harness-PID, after\n"
    "the harness that made them, and removed when it ends, even by a signal.\n"
    "  --list      print each one, and whether its harness still runs\n"
    "  --cleanup   remove those whose harness no longer runs: the processes\n"
    "              inside, the namespace, /etc/netns/NAME (needs root)\n"
    "  --all       with --cleanup: every one, running harness or not\n"
    "\n"
    "exit status: 0 done, 2 usage error, 3 something could not be removed.\n";

static int
netns_list(void)
{
	DIR *d = opendir("/var/run/netns");
	struct dirent *de;

	if (d == NULL)
		return CLI_OK;
	while ((de = readdir(d)) != NULL) {
		long owner = eng_netns_owner(de->d_name);

		if (owner < 0)
			continue;
		printf("%s %s\n", de->d_name,
		    kill((pid_t)owner, 0) == 0 || errno != ESRCH ? "running" : "stale");
	}
	closedir(d);
	return CLI_OK;
}

int
cli_netns(int argc, char **argv)
{
	int cleanup = 0, all = 0, list = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cleanup") == 0)
			cleanup = 1;
		else if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--list") == 0)
			list = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(netns_usage, stdout);
			return CLI_OK;
		} else
			return cli_usage_error("netns: unknown option \"%s\" (see smtp-harness netns --help)",
			    argv[i]);
	}
	if (cleanup + list != 1 || (all && !cleanup))
		return cli_usage_error("netns: expected --list or --cleanup [--all]");
	if (list)
		return netns_list();
	return eng_netns_cleanup_stale(all, stdout) == 0 ? CLI_OK : CLI_UNREACHABLE;
}
