/*
 * cmd_relay - `smtp-harness relay`: one relay scenario, end to end, in a
 * network namespace of the harness's own.
 *
 * Loads the scenario (any error: exit 2, no namespace made), makes the
 * namespace and moves inside (netns.h), starts the MTA under test there
 * with --target-cmd, runs the scenario (engine/relay.h: the fake DNS on
 * the run's loop, the hosts, the submission), judges what was seen
 * (check/relay_check.h), prints the verdict line, the findings and the
 * timeline, and writes the reports. The namespace and everything in it
 * go at the end, or with the watchdog if the harness dies first.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "captures/pcap_write.h"
#include "captures/transcript.h"
#include "harness/check/catalog.h"
#include "harness/check/relay_check.h"
#include "harness/cli/cli.h"
#include "harness/engine/netns.h"
#include "harness/engine/relay.h"
#include "harness/scenario/relay.h"
#include "harness/util/atomic_file.h"
#include "harness/util/xalloc.h"
#include "reports/progress.h"
#include "reports/report.h"

static const char relay_usage[] =
    "usage: smtp-harness relay [options] SCENARIO.json\n"
    "\n"
    "Runs one relay scenario (\"role\": \"relay\", docs/relay.md) in a network\n"
    "namespace of its own (needs root and `ip`): the fake DNS answers from the\n"
    "scenario's zone on 127.0.0.1:53, the harness plays the scenario's hosts on\n"
    "their 127/8 addresses, the MTA started by --target-cmd gets the message from\n"
    "the submission command, and what arrives where is judged against the rows\n"
    "of \"expect\". Everything in the namespace is removed at the end.\n"
    "\n"
    "  --target-cmd CMD        start the MTA under test inside, with /bin/sh -c, and\n"
    "                          wait up to 3 s for CMD to exit (a daemon's starter)\n"
    "  --submit-cmd CMD        the submission, run inside with /bin/sh -c, for a\n"
    "                          scenario without a \"command\" of its own; {message} (a\n"
    "                          file, CRLF line ends), {from} and {to} are substituted,\n"
    "                          quoted\n"
    "  --submit-smtp HOST:PORT or the harness's own client submits the message\n"
    "                          there over SMTP (EHLO, MAIL, RCPT, DATA), its replies\n"
    "                          checked as in any run\n"
    "  --report FORMAT:FILE    also write a report (text, json, junit, tap, html)\n"
    "  --capture DIR           write each connection to a host as a pcap: DIR/ID.pcap,\n"
    "                          DIR/ID.2.pcap, ... in the order they came\n"
    "  --quiet                 no timeline\n"
    "\n"
    "exit status: 0 passed, 1 a conformance failure, 2 usage or scenario error,\n"
    "3 the run could not be carried out (namespace, target, submission).\n";

/* The connections' transcripts into the report: the first as its
 * transcript, the others as more, so that rpt_evidence.conn (the
 * connection's index) finds them. */
static void
relay_move_transcripts(chk_relay_obs *obs, rpt_scenario *sc)
{
	if (obs->nconns == 0)
		return;
	sc->transcript = obs->conns[0].t;
	obs->conns[0].t = NULL;
	if (obs->nconns > 1)
		sc->more = xcalloc(obs->nconns - 1, sizeof(*sc->more));
	for (size_t i = 1; i < obs->nconns; i++) {
		sc->more[sc->nmore++] = obs->conns[i].t;
		obs->conns[i].t = NULL;
	}
}

/* --capture: each connection's transcript as a pcap, named as the
 * server role names them (ID.pcap, ID.2.pcap, ...); the first is the
 * scenario's capture. A file that cannot be written is one line, and
 * the run goes on. */
static void
relay_captures(const char *dir, rpt_scenario *sc)
{
	char err[512];

	if (dir == NULL || sc->transcript == NULL)
		return;
	if (atomic_file_mkdirs(dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		return;
	}
	for (size_t i = 0; i <= sc->nmore; i++) {
		const cap_transcript *t = i == 0 ? sc->transcript : sc->more[i - 1];
		char *path = i == 0 ? xasprintf("%s/%s.pcap", dir, sc->id) :
		    xasprintf("%s/%s.%zu.pcap", dir, sc->id, i + 1);

		if (cap_pcap_write(t, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", err);
			xfree(path);
			continue;
		}
		if (i == 0)
			sc->capture_path = path;
		else
			xfree(path);
	}
}

/* ERROR when the submission did not succeed: nothing else can be judged.
 * The harness's own client (--submit-smtp) exits 1 when a passive check
 * FAILs the MTA's replies, the message accepted all the same: its report
 * was judged instead (relay_submit.h). */
static int
relay_submission_ok(rpt_scenario *sc, const chk_relay_obs *obs)
{
	const rpt_client *cl = sc->client;

	if (cl == NULL)
		return 0;
	if (obs->submit_smtp && obs->submit_error != NULL && !cl->killed) {
		rpt_scenario_set(sc, RPT_ERROR, "the submission by SMTP (--submit-smtp) failed: %s",
		    obs->submit_error);
		return 0;
	}
	if (cl->exited && !cl->killed && cl->term_signal == 0 &&
	    (cl->exit_status == 0 || (obs->submit_smtp && cl->exit_status == 1)))
		return 1;
	rpt_scenario_set(sc, RPT_ERROR, "the submission command %s%s%.*s",
	    cl->killed ? "was killed at its deadline" : cl->term_signal ? "ended by a signal" :
	    "exited non-zero", cl->err_len ? ": " : "", (int)(cl->err_len > 200 ? 200 : cl->err_len),
	    cl->err_len ? cl->err : "");
	return 0;
}

int
cli_relay_one(const rly_scenario *s, const cli_relay_opts *o, rpt_scenario *sc, char *err,
    size_t errlen)
{
	eng_relay_config cfg;
	eng_netns_home home;
	eng_netns *ns;
	chk_relay_obs obs;
	char herr[512];
	int rc = CLI_OK, made;

	memset(&cfg, 0, sizeof(cfg));
	memset(&obs, 0, sizeof(obs));
	sc->started_us = cap_now_us();
	if (eng_netns_home_save(&home, err, errlen) != 0)
		return -1;
	ns = cli_netns_setup(NULL, o->target_cmd, err, errlen);
	made = ns != NULL;
	if (!made) {
		rc = CLI_UNREACHABLE;
	} else {
		cfg.log = o->log;
		cfg.submit_cmd = o->submit_cmd;
		cfg.submit_smtp = o->submit_smtp;
		if (eng_relay_run(s, &cfg, sc, &obs, err, errlen) != 0) {
			rc = CLI_UNREACHABLE;
		} else {
			sc->timeline = chk_relay_timeline(s, &obs, &sc->ntimeline);
			if (relay_submission_ok(sc, &obs))
				chk_relay_judge(s, &obs, sc);
			relay_move_transcripts(&obs, sc);
			relay_captures(o->capture_dir, sc);
		}
	}
	chk_relay_obs_free(&obs);
	/* Out of the namespace before it goes, so that the next one is made
	 * from where this one was. */
	if (eng_netns_home_return(&home, herr, sizeof(herr)) != 0) {
		(void)cli_netns_teardown(ns, rc);
		(void)snprintf(err, errlen, "%s", herr);
		return -1;
	}
	rc = cli_netns_teardown(ns, rc);
	if (rc == CLI_UNREACHABLE && sc->verdict != RPT_ERROR)
		rpt_scenario_set(sc, RPT_ERROR, "%s", !made || err[0] ? err :
		    "the namespace could not be removed entirely");
	sc->duration_ms = (cap_now_us() - sc->started_us) / 1000;
	rpt_scenario_settle(sc);
	return rc;
}

int
cli_relay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target-cmd", required_argument, NULL, 'T' },
		{ "submit-cmd", required_argument, NULL, 'S' },
		{ "submit-smtp", required_argument, NULL, 'M' },
		{ "report", required_argument, NULL, 'r' },
		{ "capture", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *target_cmd = NULL, *capture_dir = NULL;
	cli_relay_opts opts1;
	char **rformat = NULL, **rpath = NULL;
	size_t nreports = 0;
	rly_scenario *s = NULL;
	rpt_run *run = NULL;
	rpt_scenario *sc = NULL;
	rpt_progress *progress;
	char err[1024];
	int quiet = 0, rc = CLI_USAGE, ch;

	memset(&opts1, 0, sizeof(opts1));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'T':
		case 'S':
			if (*optarg == '\0') {
				cli_usage_error("--%s: expected a command, got \"\"",
				    ch == 'T' ? "target-cmd" : "submit-cmd");
				goto out;
			}
			if (ch == 'T')
				target_cmd = optarg;
			else
				opts1.submit_cmd = optarg;
			break;
		case 'r': {
			rformat = xrealloc(rformat, (nreports + 1) * sizeof(char *));
			rpath = xrealloc(rpath, (nreports + 1) * sizeof(char *));
			if (cli_report_arg(optarg, &rformat[nreports], &rpath[nreports]) != 0)
				goto out;
			nreports++;
			break;
		}
		case 'M':
			if (strchr(optarg, ':') == NULL) {
				cli_usage_error("--submit-smtp: expected HOST:PORT, got \"%s\"", optarg);
				goto out;
			}
			opts1.submit_smtp = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'c':
			capture_dir = optarg;
			break;
		case 'h':
			fputs(relay_usage, stdout);
			rc = CLI_OK;
			goto out;
		default:
			cli_usage_error("relay: unknown or incomplete option \"%s\" (see smtp-harness "
			    "relay --help)", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		cli_usage_error("relay: expected one SCENARIO.json, got %d", argc - optind);
		goto out;
	}
	if (rly_load_file(argv[optind], &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (opts1.submit_cmd != NULL && opts1.submit_smtp != NULL) {
		cli_usage_error("relay: --submit-cmd and --submit-smtp are two ways to submit: "
		    "give one");
		goto out;
	}
	if (opts1.submit_cmd == NULL && opts1.submit_smtp == NULL && s->command == NULL) {
		cli_usage_error("relay: %s has no \"command\" in \"submission\": add --submit-cmd "
		    "CMD or --submit-smtp HOST:PORT", s->file);
		goto out;
	}
	opts1.target_cmd = target_cmd;
	opts1.capture_dir = capture_dir;
	opts1.log = quiet ? NULL : stderr;
	run = rpt_run_new(target_cmd ? target_cmd : "the MTA in the namespace");
	run->started_us = cap_now_us();
	run->catalog = chk_catalog_describe;
	sc = rpt_scenario_new(s->id, s->summary, s->file);
	for (size_t i = 0; i < s->nrefs; i++)
		rpt_scenario_add_ref(sc, s->refs[i]);
	rpt_run_add(run, sc);
	err[0] = '\0';
	rc = cli_relay_one(s, &opts1, sc, err, sizeof(err));
	if (rc < 0 || (rc == CLI_UNREACHABLE && sc->client == NULL)) {
		/* No run took place (namespace, target, an address): no report. */
		fprintf(stderr, "smtp-harness: %s\n", err);
		rc = CLI_UNREACHABLE;
		goto out;
	}
	run->duration_ms = sc->duration_ms;

	progress = rpt_progress_new(stdout, rpt_progress_flags(isatty(STDOUT_FILENO),
	    getenv("NO_COLOR"), getenv("TERM")) & ~RPT_PROGRESS_TTY, 1, 0, NULL);
	rpt_progress_done(progress, sc);
	rpt_progress_end(progress);
	rpt_progress_free(progress);
	if (!quiet)
		for (size_t i = 0; i < sc->ntimeline; i++)
			printf("  %s\n", sc->timeline[i]);
	rpt_text_summary(stdout, run);
	fflush(stdout);
	rc = sc->verdict == RPT_FAIL ? CLI_FAIL : sc->verdict == RPT_ERROR ? CLI_UNREACHABLE : CLI_OK;
	for (size_t i = 0; i < nreports; i++) {
		char werr[1024];

		if (rpt_write(run, rformat[i], rpath[i], werr, sizeof(werr)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", werr);
			rc = CLI_USAGE;
		}
	}
out:
	for (size_t i = 0; i < nreports; i++) {
		xfree(rformat[i]);
		xfree(rpath[i]);
	}
	xfree(rformat);
	xfree(rpath);
	rpt_run_free(run);
	rly_free(s);
	return rc;
}
