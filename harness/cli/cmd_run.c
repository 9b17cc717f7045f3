/*
 * cmd_run - `smtp-harness run`, `validate` and `catalog`.
 *
 * run: load every scenario first (any error stops here with exit 2 and
 * no traffic), run them against the target, print a line per scenario as
 * it finishes and the summary, then write the reports asked for. With
 * --netns, between loading and running: make the namespace, move inside,
 * start the fake DNS and the target there (netns.h); it is removed after
 * the reports, or by its watchdog if the harness dies first.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "captures/transcript.h"
#include "fake-dns/dns_zone.h"
#include "harness/check/catalog.h"
#include "harness/cli/cli.h"
#include "harness/engine/engine.h"
#include "harness/engine/etls.h"
#include "harness/engine/netns.h"
#include "harness/engine/oracle.h"
#include "harness/engine/secrets.h"
#include "harness/scenario/relay.h"
#include "harness/scenario/scenario.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"
#include "reports/progress.h"
#include "reports/report.h"

static const char run_usage[] =
    "usage: smtp-harness run [--target HOST:PORT] [options] PATH...\n"
    "\n"
    "Runs the scenarios in PATH (files, or directories searched for *.json)\n"
    "against the SMTP server at HOST:PORT (port 25 when omitted). Without\n"
    "--target, the built-in reference server (smtp-harness serve) is started\n"
    "on 127.0.0.1, on a free port, and the scenarios run against it.\n"
    "\n"
    "  --target HOST:PORT      the server under test ([v6addr]:port for IPv6)\n"
    "  --jobs N                scenarios at once (default: one per CPU)\n"
    "  --report FORMAT:FILE    also write a report; FORMAT is text, json, junit, tap or html\n"
    "                          (repeatable)\n"
    "  --capture DIR           write one pcap per scenario into DIR (after STARTTLS\n"
    "                          the TLS records, their keys in DIR/<id>.keys)\n"
    "  --capture-iface IFACE   with --capture: also record the run's own traffic\n"
    "                          live on IFACE (libpcap, \"tcp port\" of the target or\n"
    "                          the built-in server) into DIR/live.pcap; without the\n"
    "                          privilege to capture, one line and the run goes on\n"
    "  --var NAME=VALUE        set a scenario variable (rcpt, from, helo, bad_rcpt,\n"
    "                          rcpt2, domain, ...); wins over a scenario's own vars\n"
    "  --connect-timeout MS    deadline for each connection (default 10000)\n"
    "  --step-timeout MS       deadline for every reply, overriding the scenarios'\n"
    "  --quiet                 no line per scenario, only the summary\n"
    "  --baseline FILE         failures known for this target (JSON): reported as\n"
    "                          known, they do not fail the run\n"
    "  --write-baseline FILE   write this run's failures as a baseline to edit\n"
    "  --oracle KIND:PATH      where the target delivers: maildir:DIR, mbox:FILE or\n"
    "                          dir:DIR (a file per message); every message sent then\n"
    "                          carries a token, and its delivered copies are judged\n"
    "                          (docs/oracle.md). Without --target, a maildir: or\n"
    "                          dir: DIR is also the built-in server's spool\n"
    "  --oracle-wait MS        look for delivered copies this long after the\n"
    "                          sessions (default 5000)\n"
    "\n"
    "Server-role scenarios (\"role\": \"server\": the harness is the server, a\n"
    "client is under test) listen on 127.0.0.1, on a free port, and need one of:\n"
    "  --client-cmd CMD        the client under test, run with /bin/sh -c for each\n"
    "                          scenario; {host}, {port} and {message} (the path of\n"
    "                          the scenario's message file) are substituted, quoted\n"
    "  --listen HOST:PORT      listen there instead (scenarios then run one at a\n"
    "                          time); without --client-cmd, wait for a client\n"
    "                          started by hand\n"
    "  --seed N                the seed of rules with a \"chance\" (0-4294967295);\n"
    "                          without it one is chosen and printed, to repeat\n"
    "  --tls-cert FILE         with --tls-key: the certificate (PEM, chain) that\n"
    "  --tls-key FILE          \"starttls\" steps show; without them each scenario\n"
    "                          makes a throwaway self-signed one (CN mx.harness.test)\n"
    "\n"
    "Relay runs, in a network namespace of the harness's own (needs root; see\n"
    "docs/relay.md); everything in it is removed at the end, on failure and on\n"
    "SIGINT or SIGTERM:\n"
    "  --netns                 create the namespace (smtp-harness-PID), with lo up and\n"
    "                          /etc/netns/NAME/resolv.conf naming 127.0.0.1, and run\n"
    "                          inside it: listeners, client and target commands\n"
    "  --zone FILE             serve this fake DNS zone (docs/dns.md) on 127.0.0.1:53\n"
    "                          inside the namespace\n"
    "  --target-cmd CMD        start the MTA under test inside it with /bin/sh -c, and\n"
    "                          wait up to 3 s for CMD to exit (a daemon's starter) first\n"
    "\n"
    "Relay scenarios (\"role\": \"relay\") need --netns and run one after another,\n"
    "each in a namespace of its own with --target-cmd started afresh in it, the\n"
    "scenario's zone and hosts (no --zone), one report for all:\n"
    "  --submit-cmd CMD        the submission, for scenarios without a \"command\" of\n"
    "                          their own; {message}, {from} and {to} are substituted\n"
    "  --submit-smtp HOST:PORT or the harness's own client submits there over SMTP\n"
    "\n"
    "exit status: 0 all passed (or failed only as the baseline expects), 1 a\n"
    "conformance failure, 2 usage, scenario or baseline error, 3 target unreachable\n"
    "(or the built-in server's port could not be bound).\n";

typedef struct run_report {
	char *format;
	char *path;
} run_report;

static int
parse_ms(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 3600000UL)
		return cli_usage_error("%s: expected milliseconds from 1 to 3600000, got \"%s\"", opt, s);
	*out = (uint32_t)v;
	return 0;
}

static void
run_started(void *arg, const char *id)
{
	rpt_progress_start(arg, id);
}

static void
run_progress(void *arg, const rpt_scenario *sc)
{
	rpt_progress_done(arg, sc);
}

/* The terminal's columns, or 0 when not known. */
static size_t
term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return cols != NULL ? (size_t)strtoul(cols, NULL, 10) : 0;
}

static int
load_paths(int n, char **paths, scn_list *list)
{
	char err[1024];

	for (int i = 0; i < n; i++) {
		if (scn_load_path(paths[i], list, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	if (list->n == 0) {
		fprintf(stderr, "smtp-harness: no scenarios found in the paths given\n");
		return -1;
	}
	return 0;
}

/* The relay scenarios of list, one after another, each in a namespace
 * of its own (cli_relay_one), into run. ENG_OK, or ENG_UNREACHABLE with
 * err when the harness could not come back out of a namespace (the rest
 * are not run). A scenario that could not take place is an ERROR in the
 * report, and the next one runs. */
static eng_status
run_relays(rly_scenario **rly, size_t n, const cli_relay_opts *o, rpt_run *run,
    rpt_progress *progress, int quiet, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		rpt_scenario *sc = rpt_scenario_new(rly[i]->id, rly[i]->summary, rly[i]->file);

		for (size_t j = 0; j < rly[i]->nrefs; j++)
			rpt_scenario_add_ref(sc, rly[i]->refs[j]);
		rpt_run_add(run, sc);
		if (progress != NULL)
			rpt_progress_start(progress, sc->id);
		err[0] = '\0';
		if (cli_relay_one(rly[i], o, sc, err, errlen) < 0) {
			rpt_scenario_set(sc, RPT_ERROR, "%s", err);
			rpt_scenario_settle(sc);
			return ENG_UNREACHABLE;
		}
		if (progress != NULL) {
			rpt_progress_done(progress, sc);
			if (!quiet)
				for (size_t j = 0; j < sc->ntimeline; j++)
					printf("  %s\n", sc->timeline[j]);
			fflush(stdout);
		}
	}
	return ENG_OK;
}

/* 1 once something accepts TCP on 127.0.0.1:53 (the fake DNS serves TCP
 * and UDP on one port, binding both before it says it listens). */
static int
dns_listening(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(53);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* --netns: the namespace, the harness inside it, the fake DNS and the
 * target started in it. NULL with err when any of it failed; then
 * nothing is left behind. */
eng_netns *
cli_netns_setup(const char *zone_file, const char *target_cmd, char *err, size_t errlen)
{
	eng_netns *ns = eng_netns_create(err, errlen);
	int status;

	if (ns == NULL)
		return NULL;
	/* A signal ends the run; the namespace's watchdog then removes it all.
	 * Reset, as a shell starts background commands with SIGINT ignored. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (eng_netns_enter(ns, err, errlen) != 0)
		goto fail;
	fprintf(stderr, "smtp-harness: in network namespace %s\n", eng_netns_name(ns));
	if (zone_file != NULL) {
		char *argv[] = { "/proc/self/exe", "dns", "--zone", (char *)zone_file, "--listen",
			"127.0.0.1:53", NULL };
		pid_t pid = eng_netns_spawn(ns, argv, err, errlen);
		long waited = 0;

		if (pid < 0)
			goto fail;
		while (!dns_listening()) {
			if (eng_netns_wait(ns, pid, 50, &status) != 0 ||
			    (waited += 50) >= HARNESS_NETNS_DNS_READY_MS) {
				snprintf(err, errlen, "--zone: the fake DNS did not start on 127.0.0.1:53 "
				    "in %s", eng_netns_name(ns));
				goto fail;
			}
		}
	}
	if (target_cmd != NULL) {
		char *argv[] = { "/bin/sh", "-c", (char *)target_cmd, NULL };
		pid_t pid = eng_netns_spawn(ns, argv, err, errlen);

		if (pid < 0)
			goto fail;
		if (eng_netns_wait(ns, pid, HARNESS_NETNS_TARGET_SETTLE_MS, &status) == 1 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			if (WIFEXITED(status))
				snprintf(err, errlen, "--target-cmd exited with status %d",
				    WEXITSTATUS(status));
			else
				snprintf(err, errlen, "--target-cmd ended by signal %d",
				    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			goto fail;
		}
	}
	return ns;
fail:
	(void)eng_netns_destroy(ns);
	return NULL;
}

int
cli_netns_teardown(eng_netns *ns, int rc)
{
	char name[64];

	if (ns == NULL)
		return rc;
	(void)snprintf(name, sizeof(name), "%s", eng_netns_name(ns));
	if (eng_netns_destroy(ns) != 0) {
		fprintf(stderr, "smtp-harness: namespace %s: not everything could be removed "
		    "(see above; smtp-harness netns --cleanup retries)\n", name);
		if (rc == CLI_OK || rc == CLI_FAIL)
			rc = CLI_UNREACHABLE;
	}
	return rc;
}

int
cli_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "report", required_argument, NULL, 'r' },
		{ "capture", required_argument, NULL, 'c' },
		{ "capture-iface", required_argument, NULL, 'I' },
		{ "var", required_argument, NULL, 'v' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "step-timeout", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "client-cmd", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'E' },
		{ "tls-cert", required_argument, NULL, 'X' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "write-baseline", required_argument, NULL, 'W' },
		{ "netns", no_argument, NULL, 'N' },
		{ "zone", required_argument, NULL, 'Z' },
		{ "target-cmd", required_argument, NULL, 'T' },
		{ "submit-cmd", required_argument, NULL, 'U' },
		{ "submit-smtp", required_argument, NULL, 'V' },
		{ "oracle", required_argument, NULL, 'O' },
		{ "oracle-wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	eng_config cfg;
	scn_vars defaults = { 0 }, overrides = { 0 };
	run_report *reports = NULL;
	size_t nreports = 0, reports_cap = 0;
	const char *target = NULL;
	const char *listen = NULL;
	const char *baseline_path = NULL, *write_baseline = NULL;
	rpt_baseline *baseline = NULL;
	char *host = NULL, *port = NULL;
	char *lhost = NULL, *lport = NULL;
	size_t nserver = 0;
	int seeded = 0, random = 0;
	scn_list list = { 0 };
	rpt_run *run = NULL;
	rpt_progress *progress = NULL;
	rpt_summary sum;
	char err[1024];
	int quiet = 0;
	int use_netns = 0;
	const char *zone_file = NULL, *target_cmd = NULL;
	eng_netns *ns = NULL;
	cli_relay_opts ropts;
	rly_scenario **rly = NULL;
	size_t nrelay = 0;
	int rc = CLI_USAGE;
	int ch;
	eng_status st;
	orc_spec oracle;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ropts, 0, sizeof(ropts));
	cfg.connect_timeout_ms = HARNESS_CONNECT_TIMEOUT_MS;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			target = optarg;
			break;
		case 'j': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 100000) {
				cli_usage_error("--jobs: expected a number from 1 to 100000, got \"%s\"", optarg);
				goto out;
			}
			cfg.jobs = (unsigned)v;
			break;
		}
		case 'r': {
			run_report *r;

			reports = xgrow(reports, &reports_cap, nreports + 1, sizeof(*reports));
			r = &reports[nreports];
			if (cli_report_arg(optarg, &r->format, &r->path) != 0)
				goto out;
			nreports++;
			break;
		}
		case 'c':
			cfg.capture_dir = optarg;
			break;
		case 'I':
			if (*optarg == '\0') {
				cli_usage_error("--capture-iface: expected an interface, got \"\"");
				goto out;
			}
			cfg.capture_iface = optarg;
			break;
		case 'v': {
			const char *eq = strchr(optarg, '=');
			char *name;

			if (eq == NULL || eq == optarg) {
				cli_usage_error("--var: expected NAME=VALUE, got \"%s\"", optarg);
				goto out;
			}
			name = xstrndup(optarg, (size_t)(eq - optarg));
			scn_vars_set(&overrides, name, eq + 1);
			xfree(name);
			break;
		}
		case 'C':
			if (parse_ms("--connect-timeout", optarg, &cfg.connect_timeout_ms) != 0)
				goto out;
			break;
		case 'S':
			if (parse_ms("--step-timeout", optarg, &cfg.step_timeout_ms) != 0)
				goto out;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'k':
			if (*optarg == '\0') {
				cli_usage_error("--client-cmd: expected a command, got \"\"");
				goto out;
			}
			cfg.client_cmd = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'X':
			cfg.tls_cert = optarg;
			break;
		case 'K':
			cfg.tls_key = optarg;
			break;
		case 'E': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v > UINT32_MAX) {
				cli_usage_error("--seed: expected a number from 0 to 4294967295, got \"%s\"",
				    optarg);
				goto out;
			}
			cfg.seed = (uint32_t)v;
			seeded = 1;
			break;
		}
		case 'B':
			baseline_path = optarg;
			break;
		case 'W':
			write_baseline = optarg;
			break;
		case 'N':
			use_netns = 1;
			break;
		case 'Z':
			zone_file = optarg;
			break;
		case 'T':
			if (*optarg == '\0') {
				cli_usage_error("--target-cmd: expected a command, got \"\"");
				goto out;
			}
			target_cmd = optarg;
			break;
		case 'U':
			if (*optarg == '\0') {
				cli_usage_error("--submit-cmd: expected a command, got \"\"");
				goto out;
			}
			ropts.submit_cmd = optarg;
			break;
		case 'V':
			if (strchr(optarg, ':') == NULL) {
				cli_usage_error("--submit-smtp: expected HOST:PORT, got \"%s\"", optarg);
				goto out;
			}
			ropts.submit_smtp = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			rc = CLI_OK;
			goto out;
		case 'O':
			if (orc_parse(optarg, &oracle, err, sizeof(err)) != 0) {
				cli_usage_error("%s", err);
				goto out;
			}
			cfg.oracle = &oracle;
			break;
		case 'w':
			if (parse_ms("--oracle-wait", optarg, &cfg.oracle_wait_ms) != 0)
				goto out;
			break;
		default:
			cli_usage_error("run: unknown or incomplete option \"%s\" (see smtp-harness run --help)",
			    argv[optind - 1]);
			goto out;
		}
	}
	if (target == NULL) {
		/* The built-in reference server; eng_run names its port. */
		cfg.builtin_server = 1;
		host = xstrdup("127.0.0.1");
		port = xstrdup("0");
	} else if (cli_split_hostport(target, "25", &host, &port) != 0) {
		cli_usage_error("--target: expected HOST:PORT or [IPv6]:PORT, got \"%s\"", target);
		goto out;
	}
	if (optind >= argc) {
		cli_usage_error("run: no scenario PATH given (e.g. scenarios/conformance)");
		goto out;
	}
	if (cfg.oracle != NULL && orc_usable(cfg.oracle, err, sizeof(err)) != 0) {
		cli_usage_error("%s", err);
		goto out;
	}
	if (cfg.oracle_wait_ms != 0 && cfg.oracle == NULL) {
		cli_usage_error("run: --oracle-wait is how long to look in the oracle: add --oracle");
		goto out;
	}
	if (cfg.capture_iface != NULL && cfg.capture_dir == NULL) {
		cli_usage_error("run: --capture-iface writes DIR/live.pcap: add --capture DIR");
		goto out;
	}
	if (!use_netns && (zone_file != NULL || target_cmd != NULL)) {
		cli_usage_error("run: --zone and --target-cmd run inside the namespace: add --netns");
		goto out;
	}
	if (load_paths(argc - optind, argv + optind, &list) != 0)
		goto out;
	for (size_t i = 0; i < list.n; i++)
		nrelay += list.items[i]->role == SCN_ROLE_RELAY;
	if (nrelay == 0 && (ropts.submit_cmd != NULL || ropts.submit_smtp != NULL)) {
		cli_usage_error("run: %s applies to relay scenarios, and none were given",
		    ropts.submit_cmd ? "--submit-cmd" : "--submit-smtp");
		goto out;
	}
	if (ropts.submit_cmd != NULL && ropts.submit_smtp != NULL) {
		cli_usage_error("run: --submit-cmd and --submit-smtp are two ways to submit: give one");
		goto out;
	}
	if (nrelay > 0) {
		const scn_scenario *first = NULL;

		for (size_t i = 0; i < list.n && first == NULL; i++)
			if (list.items[i]->role == SCN_ROLE_RELAY)
				first = list.items[i];
		if (nrelay != list.n) {
			cli_usage_error("run: relay scenarios (such as %s) each run in a namespace of "
			    "their own: give them without client- or server-role scenarios", first->id);
			goto out;
		}
		if (!use_netns) {
			cli_usage_error("run: %s is a relay scenario: it runs in a network namespace: "
			    "add --netns and --target-cmd CMD (docs/relay.md)", first->id);
			goto out;
		}
		if (zone_file != NULL || target != NULL || cfg.oracle != NULL) {
			cli_usage_error("run: relay scenarios bring their own zone and hosts, and are "
			    "judged by what reaches them: %s does not apply", zone_file != NULL ?
			    "--zone" : target != NULL ? "--target" : "--oracle");
			goto out;
		}
		/* Loaded and checked with the list, before any namespace; the
		 * list owns them. */
		rly = xcalloc(nrelay, sizeof(*rly));
		for (size_t i = 0; i < nrelay; i++) {
			rly[i] = list.items[i]->relay;
			if (ropts.submit_cmd == NULL && ropts.submit_smtp == NULL &&
			    rly[i]->command == NULL) {
				cli_usage_error("run: %s has no \"command\" in \"submission\": add "
				    "--submit-cmd CMD or --submit-smtp HOST:PORT", rly[i]->file);
				goto out;
			}
		}
		ropts.target_cmd = target_cmd;
		ropts.capture_dir = cfg.capture_dir;
		ropts.log = quiet ? NULL : stderr;
	}
	if (zone_file != NULL) {
		dns_zone *zone = NULL;

		/* A bad zone stops the run before a namespace exists. */
		if (dns_zone_load_file(zone_file, &zone, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		dns_zone_free(zone);
	}
	/* A bad baseline stops the run before any traffic, like a bad scenario. */
	if (baseline_path != NULL &&
	    rpt_baseline_load_file(baseline_path, &baseline, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	for (size_t i = 0; i < list.n; i++) {
		nserver += list.items[i]->role == SCN_ROLE_SERVER;
		random |= list.items[i]->server != NULL && list.items[i]->server->random;
	}
	if (nserver > 0 && cfg.client_cmd == NULL && listen == NULL) {
		cli_usage_error("run: server-role scenarios (such as %s) need --client-cmd CMD, or "
		    "--listen HOST:PORT to wait for a client started by hand", list.items[0]->role ==
		    SCN_ROLE_SERVER ? list.items[0]->id : "the ones given");
		goto out;
	}
	if (nserver == 0 && (cfg.client_cmd != NULL || listen != NULL)) {
		cli_usage_error("run: --client-cmd and --listen apply to server-role scenarios, and "
		    "none were given");
		goto out;
	}
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		cli_usage_error("run: --tls-cert and --tls-key go together (got only %s)",
		    cfg.tls_cert ? "--tls-cert" : "--tls-key");
		goto out;
	}
	if (cfg.tls_cert != NULL) {
		/* Read once now, so a bad file is a usage error, not an ERROR
		 * in every scenario. */
		SSL_CTX *ctx = etls_server_ctx_new(cfg.tls_cert, cfg.tls_key, err, sizeof(err));

		if (ctx == NULL) {
			cli_usage_error("run: %s", err);
			goto out;
		}
		SSL_CTX_free(ctx);
	}
	if (listen != NULL) {
		if (cli_split_hostport(listen, "25", &lhost, &lport) != 0) {
			cli_usage_error("--listen: expected HOST:PORT or [IPv6]:PORT, got \"%s\"", listen);
			goto out;
		}
		cfg.listen_host = lhost;
		cfg.listen_port = lport;
		cfg.jobs = 1;	/* one listener at a time on a fixed address */
	}

	if (use_netns && nrelay == 0) {
		ns = cli_netns_setup(zone_file, target_cmd, err, sizeof(err));
		if (ns == NULL) {
			fprintf(stderr, "smtp-harness: %s\n", err);
			rc = CLI_UNREACHABLE;
			goto out;
		}
	}
	eng_default_vars(&defaults, host, port);
	cfg.host = host;
	cfg.port = port;
	cfg.defaults = &defaults;
	cfg.overrides = &overrides;
	if (nrelay > 0)
		run = rpt_run_new(target_cmd ? target_cmd : "the MTA in the namespace");
	else if (nserver == list.n) {
		eng_secrets sec = { 0 };

		/* The command hands the client its credentials: the report
		 * names it with them masked (secrets.h). */
		run = rpt_run_new(cfg.client_cmd ? cfg.client_cmd : "a client started by hand");
		eng_secrets_add_vars(&sec, &overrides);
		eng_secrets_scrub(&sec, run->target, strlen(run->target));
		eng_secrets_free(&sec);
	} else
		run = rpt_run_new(target ? target : "built-in reference server");
	run->started_us = cap_now_us();
	run->catalog = chk_catalog_describe;
	if (random) {
		/* Random faults only with a seed the user can give back. */
		if (!seeded)
			cfg.seed = (uint32_t)(run->started_us ^ (run->started_us >> 32) ^
			    (uint64_t)getpid() << 16);
		run->seeded = 1;
		run->seed = cfg.seed;
		printf("random faults: --seed %" PRIu32 "\n", cfg.seed);
		fflush(stdout);
	}
	err[0] = '\0';
	if (!quiet) {
		/* On a terminal: a live status line and colour; else plain lines. */
		int flags = rpt_progress_flags(isatty(STDOUT_FILENO), getenv("NO_COLOR"),
		    getenv("TERM"));

		progress = rpt_progress_new(stdout, flags, list.n,
		    flags & RPT_PROGRESS_TTY ? term_width() : 0, baseline);
		cfg.started = run_started;
	}
	if (nrelay > 0)
		st = run_relays(rly, nrelay, &ropts, run, progress, quiet, err, sizeof(err));
	else
		st = eng_run(&list, &cfg, run, quiet ? NULL : run_progress, progress, err,
		    sizeof(err));
	rpt_progress_end(progress);
	rpt_progress_free(progress);
	progress = NULL;
	{
		uint64_t now = cap_now_us();

		run->duration_ms = now > run->started_us ? (now - run->started_us) / 1000 : 0;
	}
	if (st == ENG_LOCAL_ERROR) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		rc = CLI_USAGE;
		goto out;
	}
	if (baseline != NULL) {
		rpt_baseline_apply(baseline, run);
		baseline = NULL;	/* the run's now */
	}
	rpt_text_summary(stdout, run);
	fflush(stdout);
	rc = CLI_OK;
	if (write_baseline != NULL) {
		size_t nerror = rpt_run_summary(run).error;
		char werr[1024];

		/* A scenario that could not run says nothing of its failures:
		 * written now, the baseline would silently lose them. */
		if (st == ENG_UNREACHABLE || nerror > 0) {
			fprintf(stderr, "smtp-harness: baseline not written to %s: %zu scenario%s "
			    "could not be carried out (ERROR), and their failures would be missing\n",
			    write_baseline, nerror, nerror == 1 ? "" : "s");
		} else if (rpt_baseline_write(run, write_baseline, werr, sizeof(werr)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", werr);
			rc = CLI_USAGE;
		} else {
			fprintf(stderr, "smtp-harness: baseline written to %s: edit each \"reason\"\n",
			    write_baseline);
		}
	}
	for (size_t i = 0; i < nreports; i++) {
		char werr[1024];

		if (rpt_write(run, reports[i].format, reports[i].path, werr, sizeof(werr)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", werr);
			rc = CLI_USAGE;
		}
	}
	if (st == ENG_UNREACHABLE) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		rc = CLI_UNREACHABLE;
	} else if (rc == CLI_OK) {
		sum = rpt_run_summary(run);
		if (sum.fail > sum.known)
			rc = CLI_FAIL;
		else if (sum.error > 0)
			rc = CLI_UNREACHABLE;
	}
out:
	rc = cli_netns_teardown(ns, rc);
	for (size_t i = 0; i < nreports; i++) {
		xfree(reports[i].format);
		xfree(reports[i].path);
	}
	xfree(reports);
	xfree(host);
	xfree(port);
	xfree(lhost);
	xfree(lport);
	scn_vars_free(&defaults);
	scn_vars_free(&overrides);
	xfree(rly);
	scn_list_free(&list);
	rpt_baseline_free(baseline);
	rpt_run_free(run);
	return rc;
}

int
cli_validate(int argc, char **argv)
{
	scn_list list = { 0 };
	int rc;

	if (argc < 2)
		return cli_usage_error("validate: no scenario PATH given");
	if (strcmp(argv[1], "--help") == 0) {
		puts("usage: smtp-harness validate PATH...\n\n"
		    "Loads every scenario in PATH (files, or directories searched for *.json)\n"
		    "and reports the first error as FILE:LINE:COL: JSON-PATH: message.");
		return CLI_OK;
	}
	rc = load_paths(argc - 1, argv + 1, &list);
	if (rc == 0)
		printf("%zu scenario%s OK\n", list.n, list.n == 1 ? "" : "s");
	scn_list_free(&list);
	return rc == 0 ? CLI_OK : CLI_USAGE;
}

int
cli_catalog(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < chk_catalog_count(); i++) {
		const chk_entry *e = chk_catalog_at(i);

		printf("%-52s %-8s %s\n", e->id,
		    e->keyword == CHK_MUST ? "MUST" : e->keyword == CHK_SHOULD ? "SHOULD" :
		    e->keyword == CHK_MAY ? "MAY" : "advisory", e->refs);
	}
	return CLI_OK;
}
