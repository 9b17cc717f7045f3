/*
 * smtp-harness - an SMTP testing and conformance harness.
 *
 * main() only dispatches to the subcommands (cli.h).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/util/xalloc.h"
#include "reports/report.h"

#ifndef HARNESS_VERSION
#define HARNESS_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: smtp-harness COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  run [--target HOST:PORT] [options] PATH... run scenarios against an SMTP server\n"
    "                                             (without --target: the built-in one)\n"
    "  serve [--listen HOST:PORT] [--spool DIR]   the built-in reference SMTP server\n"
    "  dns --zone FILE [--listen HOST:PORT]       the fake DNS alone, UDP and TCP\n"
    "  netns --list | --cleanup [--all]           the network namespaces of run --netns\n"
    "  relay --target-cmd CMD SCENARIO.json       a relay scenario: fake DNS, MX hosts and the\n"
    "                                             MTA under test in a network namespace\n"
    "  audit FILE.pcap [--report FORMAT:FILE]... the passive checks on every SMTP session\n"
    "                                             of a capture\n"
    "  probe HOST:PORT [--tls|--starttls] [--save F] [--capture F]\n"
    "                                             an SMTP console that explains each reply\n"
    "  import FILE.pcap -o DIR [--redact]         each SMTP session of a capture as a\n"
    "                                             client-role and a server-role scenario\n"
    "  replay FILE.pcap --target HOST:PORT        replay a capture's sessions, diff the replies\n"
    "  diff OLD.json NEW.json                     what regressed between two JSON reports\n"
    "  load --target HOST:PORT [options]          many sessions at once, checks on, statistics\n"
    "  validate PATH...                           load scenarios and report the first error\n"
    "  catalog                                    list the conformance requirements (check ids)\n"
    "  coverage [--markdown] [--untestable FILE] PATH...\n"
    "                                             which catalog rows the scenarios and the\n"
    "                                             passive checks exercise\n"
    "  version                                    print the version\n"
    "\n"
    "`smtp-harness COMMAND --help` describes a command's options.\n"
    "exit status: 0 all passed, 1 a conformance failure, 2 usage or scenario error,\n"
    "3 target unreachable or port not bindable.\n";

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("smtp-harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

int
cli_report_arg(const char *arg, char **format, char **path)
{
	const char *colon = strchr(arg, ':');
	char *f;

	if (colon == NULL || colon == arg || colon[1] == '\0') {
		cli_usage_error("--report: expected FORMAT:FILE, got \"%s\"", arg);
		return -1;
	}
	f = xstrndup(arg, (size_t)(colon - arg));
	if (!rpt_format_known(f)) {
		cli_usage_error("--report: unknown format \"%s\"; expected text, json, junit, tap "
		    "or html", f);
		xfree(f);
		return -1;
	}
	*format = f;
	*path = xstrdup(colon + 1);
	return 0;
}

static int split_hostport(const char *s, const char *def_port, char **host, char **port,
    int min_port);

int
cli_split_hostport(const char *s, const char *def_port, char **host, char **port)
{
	return split_hostport(s, def_port, host, port, 1);
}

int
cli_split_listen(const char *s, const char *def_port, char **host, char **port)
{
	return split_hostport(s, def_port, host, port, 0);
}

static int
split_hostport(const char *s, const char *def_port, char **host, char **port, int min_port)
{
	const char *colon;

	*host = *port = NULL;
	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1)
			return -1;
		*host = xstrndup(s + 1, (size_t)(end - s - 1));
		if (end[1] == '\0') {
			*port = xstrdup(def_port);
		} else if (end[1] == ':' && end[2] != '\0') {
			*port = xstrdup(end + 2);
		} else {
			xfree(*host);
			*host = NULL;
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			return -1;	/* a bare IPv6 address needs brackets */
		if (colon == NULL) {
			*host = xstrdup(s);
			*port = xstrdup(def_port);
		} else {
			if (colon == s || colon[1] == '\0')
				return -1;
			*host = xstrndup(s, (size_t)(colon - s));
			*port = xstrdup(colon + 1);
		}
	}
	for (const char *p = *port; *p; p++) {
		if (*p < '0' || *p > '9' || p - *port > 4) {
			xfree(*host);
			xfree(*port);
			*host = *port = NULL;
			return -1;
		}
	}
	if (atoi(*port) < min_port || atoi(*port) > 65535) {
		xfree(*host);
		xfree(*port);
		*host = *port = NULL;
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	/* A peer that resets while a reply or command is being written must
	 * be a finding or a closed session, never the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cli_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "dns") == 0)
		return cli_dns(argc - 1, argv + 1);
	if (strcmp(cmd, "netns") == 0)
		return cli_netns(argc - 1, argv + 1);
	if (strcmp(cmd, "relay") == 0)
		return cli_relay(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return cli_run(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cli_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "probe") == 0)
		return cli_probe(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cli_import(argc - 1, argv + 1);
	if (strcmp(cmd, "replay") == 0)
		return cli_replay(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return cli_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "load") == 0)
		return cli_load(argc - 1, argv + 1);
	if (strcmp(cmd, "validate") == 0)
		return cli_validate(argc - 1, argv + 1);
	if (strcmp(cmd, "catalog") == 0)
		return cli_catalog(argc - 1, argv + 1);
	if (strcmp(cmd, "coverage") == 0)
		return cli_coverage(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("smtp-harness %s\n", HARNESS_VERSION);
		return CLI_OK;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	fputs(usage_text, stderr);
	return cli_usage_error("unknown command \"%s\"", cmd);
}
