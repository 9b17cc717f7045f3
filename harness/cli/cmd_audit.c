/*
 * cmd_audit - `smtp-harness audit FILE.pcap`: the passive checks on every
 * SMTP session of a capture, reported as `run` reports.
 *
 * Each session the pcap reader finds becomes one scenario-like result,
 * "session-N-CLIENT-SERVER", judged by every server-side and every
 * client-side passive check (a capture does not say which side is under
 * test; --side narrows it). What the reader noted (lost bytes, differing retransmissions,
 * TLS, limits) becomes INFO findings of AUDIT_CHECK_ID. A session with a
 * gap is judged only up to where its first lost byte may have been sent
 * (cap_transcript_gap_cut): the checks see the transcript cut there, so nothing that
 * depends on the missing bytes can FAIL; the full transcript, gap
 * markers included, is what the reports show.
 *
 * Memory: the reader streams (bounded by harness_limits.h), and each
 * finished session leaves its result. When no report asked for shows
 * transcripts (only text and TAP, or none), a result keeps its verdict and
 * findings -- each finding holds its own excerpt of the evidence -- and
 * the transcript is freed at once, so a capture of any size is audited in
 * memory that grows with its number of sessions, not its bytes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/pcap_read.h"
#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "harness/check/passive.h"
#include "harness/cli/cli.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/report.h"

/* The check id of what the reader says about a session. */
#define AUDIT_CHECK_ID	"audit.capture"

static const char audit_usage[] =
    "usage: smtp-harness audit FILE.pcap [--report FORMAT:FILE]... [--side SIDE] [--quiet]\n"
    "\n"
    "Finds every SMTP session in a capture (pcap or pcapng; Ethernet, Linux\n"
    "cooked, raw IP or loopback; any port) and runs every passive check on\n"
    "it, server side and client side, as `run` does on its own sessions.\n"
    "Each session is one result, named session-N-CLIENT-SERVER. Bytes the\n"
    "capture lost are reported, and a session is judged only up to its\n"
    "first gap.\n"
    "\n"
    "  --report FORMAT:FILE    also write a report; FORMAT is text, json, junit or tap\n"
    "                          (repeatable)\n"
    "  --side SIDE             whose conformance to judge: server (the server-side\n"
    "                          checks), client, or both (the default)\n"
    "  --quiet                 no line per session, only the summary\n"
    "\n"
    "exit status: 0 no conformance failure, 1 a conformance failure, 2 usage\n"
    "error or a file that is not a readable capture.\n";

#define AUDIT_SERVER	1
#define AUDIT_CLIENT	2

typedef struct audit_item {
	size_t index;		/* the reader's session number */
	rpt_scenario *sc;
} audit_item;

typedef struct audit_ctx {
	const char *path;
	int sides;		/* AUDIT_SERVER | AUDIT_CLIENT */
	int keep_transcripts;	/* a report will show them */
	audit_item *items;
	size_t nitems;
	size_t items_cap;
} audit_ctx;

/* Whether a report of format fmt shows transcripts: every format but the
 * two that list verdicts and findings only. */
static int
audit_format_shows_transcripts(const char *fmt)
{
	return strcmp(fmt, "text") != 0 && strcmp(fmt, "tap") != 0;
}

static int
audit_item_cmp(const void *x, const void *y)
{
	const audit_item *a = x, *b = y;

	return a->index < b->index ? -1 : a->index > b->index;
}

static void
audit_session(void *arg, cap_pcap_session *s)
{
	audit_ctx *a = arg;
	cap_transcript *t = s->t, *judged = t;
	char cbuf[128], sbuf[128];
	rpt_scenario *sc;
	char *id, *summary;
	long gap, cut;
	dlg *d;

	cap_addr_str(&t->client, cbuf, sizeof(cbuf));
	cap_addr_str(&t->server, sbuf, sizeof(sbuf));
	id = xasprintf("session-%zu-%s-%s", s->index, cbuf, sbuf);
	summary = xasprintf("SMTP session %zu of the capture, client %s, server %s", s->index,
	    cbuf, sbuf);
	sc = rpt_scenario_new(id, summary, a->path);
	xfree(id);
	xfree(summary);
	if (t->nsegs > 0) {
		uint64_t first = t->segs[0].ts_us, last = t->segs[t->nsegs - 1].ts_us;

		sc->started_us = first;
		sc->duration_ms = last > first ? (last - first) / 1000 : 0;
	}

	cut = cap_transcript_gap_cut(t, &gap);
	if (cut >= 0) {
		rpt_evidence ev;
		const cap_segment *g = &t->segs[gap];

		judged = cap_transcript_prefix(t, (size_t)cut);
		rpt_evidence_segment(&ev, t, (size_t)gap);
		rpt_scenario_add_finding(sc, AUDIT_CHECK_ID, NULL, RPT_INFO, 0, &ev,
		    "expected the whole session in the capture, got %zu gap(s), %llu byte(s) "
		    "missing, %zu of the %s stream at segment %ld; the session is judged only "
		    "up to segment %ld, before which nothing was lost", s->gaps,
		    (unsigned long long)s->gap_bytes, g->len,
		    g->dir == CAP_C2S ? "client's" : "server's", gap, cut);
		rpt_evidence_clear(&ev);
	}
	for (size_t i = 0; i < s->nnotes; i++)
		rpt_scenario_add_finding(sc, AUDIT_CHECK_ID, NULL, RPT_INFO, 0, NULL, "%s",
		    s->notes[i]);

	d = dlg_build(judged);
	if (a->sides & AUDIT_SERVER)
		chk_passive_server(judged, d, sc);
	if (a->sides & AUDIT_CLIENT)
		chk_passive_client(judged, d, sc);
	dlg_free(d);
	if (judged != t)
		cap_transcript_free(judged);
	if (a->keep_transcripts) {
		sc->transcript = t;
		s->t = NULL;
	}
	rpt_scenario_settle(sc);

	a->items = xgrow(a->items, &a->items_cap, a->nitems + 1, sizeof(*a->items));
	a->items[a->nitems].index = s->index;
	a->items[a->nitems].sc = sc;
	a->nitems++;
}

int
cli_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "side", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char **fmt = NULL, **out = NULL;
	size_t nreports = 0, fmt_cap = 0, out_cap = 0;
	audit_ctx a;
	cap_pcap_stats st;
	rpt_run *run = NULL;
	char err[1024], *target;
	int quiet = 0, rc = CLI_USAGE, ch;

	memset(&a, 0, sizeof(a));
	a.sides = AUDIT_SERVER | AUDIT_CLIENT;
	optind = 1;
	opterr = 0;
	/* FILE may come before the options (permuting getopt). */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': {
			fmt = xgrow(fmt, &fmt_cap, nreports + 1, sizeof(*fmt));
			out = xgrow(out, &out_cap, nreports + 1, sizeof(*out));
			if (cli_report_arg(optarg, &fmt[nreports], &out[nreports]) != 0)
				goto out;
			nreports++;
			if (audit_format_shows_transcripts(fmt[nreports - 1]))
				a.keep_transcripts = 1;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 's':
			if (strcmp(optarg, "server") == 0) {
				a.sides = AUDIT_SERVER;
			} else if (strcmp(optarg, "client") == 0) {
				a.sides = AUDIT_CLIENT;
			} else if (strcmp(optarg, "both") == 0) {
				a.sides = AUDIT_SERVER | AUDIT_CLIENT;
			} else {
				cli_usage_error("--side: expected server, client or both, got \"%s\"",
				    optarg);
				goto out;
			}
			break;
		case 'h':
			fputs(audit_usage, stdout);
			rc = CLI_OK;
			goto out;
		default:
			cli_usage_error("audit: unknown or incomplete option \"%s\" (see smtp-harness "
			    "audit --help)", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		cli_usage_error("audit: expected one capture FILE.pcap, got %d", argc - optind);
		goto out;
	}
	a.path = argv[optind];
	if (cap_pcap_read_file(a.path, audit_session, &a, &st, err, sizeof(err)) != 0) {
		/* Nothing is reported from a capture that could not be read
		 * to its end: a partial report would pass for a whole one. */
		fprintf(stderr, "smtp-harness: %s\n", err);
		goto out;
	}

	target = xasprintf("capture %s", a.path);
	run = rpt_run_new(target);
	xfree(target);
	/* Sessions end in any order; they are reported in the order they
	 * began (were recognised). */
	if (a.nitems > 0)
		qsort(a.items, a.nitems, sizeof(*a.items), audit_item_cmp);
	run->started_us = a.nitems > 0 ? a.items[0].sc->started_us : 0;
	for (size_t i = 0; i < a.nitems; i++) {
		if (!quiet)
			rpt_text_scenario_line(stdout, a.items[i].sc);
		rpt_run_add(run, a.items[i].sc);
		a.items[i].sc = NULL;
	}
	printf("%s: %llu packet(s), %llu TCP segment(s), %zu SMTP session(s)\n", a.path,
	    (unsigned long long)st.packets, (unsigned long long)st.tcp, a.nitems);
	if (st.untracked > 0)
		printf("%s: %llu connection(s) not followed: more than %d open at once\n", a.path,
		    (unsigned long long)st.untracked, HARNESS_PCAP_CONNS_MAX);
	rpt_text_summary(stdout, run);
	fflush(stdout);
	rc = CLI_OK;
	for (size_t i = 0; i < nreports; i++) {
		char werr[1024];

		if (rpt_write(run, fmt[i], out[i], werr, sizeof(werr)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", werr);
			rc = CLI_USAGE;
		}
	}
	if (rc == CLI_OK && rpt_run_summary(run).fail > 0)
		rc = CLI_FAIL;
out:
	for (size_t i = 0; i < nreports; i++) {
		xfree(fmt[i]);
		xfree(out[i]);
	}
	xfree(fmt);
	xfree(out);
	for (size_t i = 0; i < a.nitems; i++)
		rpt_scenario_free(a.items[i].sc);
	xfree(a.items);
	rpt_run_free(run);
	return rc;
}
