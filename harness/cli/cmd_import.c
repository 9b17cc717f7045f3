/*
 * cmd_import - `smtp-harness import` and `replay`: the sessions of a
 * capture as scenarios, written out or run again with a diff.
 *
 * import: every SMTP session the pcap reader finds becomes a client-role
 * and a server-role scenario (harness/scenario/import), each checked by
 * the scenario loader before it is written, atomically, as
 * DIR/<stem>.session-N.client.json and .server.json.
 *
 * replay: the client-role scenarios, built in memory with nothing
 * asserted but the 354 that content depends on, run against the target
 * one after the other; then each recorded reply is set against the new
 * reply to the same command. A reply of another class (2yz to 5yz, or
 * none at all) is a regression, a FAIL finding of REPLAY_REGRESSION; a
 * different code or enhanced code in the same class a WARN, a different
 * text (once normalized) an INFO, of REPLAY_CHANGED. The passive checks'
 * findings on the new session stand beside them; the exit status is 1
 * if and only if something regressed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "captures/pcap_read.h"
#include "harness/check/catalog.h"
#include "harness/check/dialog.h"
#include "harness/cli/cli.h"
#include "harness/engine/engine.h"
#include "harness/scenario/import.h"
#include "harness/scenario/scenario.h"
#include "harness/smtp/command.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"
#include "reports/report.h"

#define REPLAY_REGRESSION	"replay.regression"
#define REPLAY_CHANGED		"replay.changed"

static const char import_usage[] =
    "usage: smtp-harness import FILE.pcap -o DIR [--redact]\n"
    "\n"
    "Turns every SMTP session of a capture into two scenarios in DIR:\n"
    "STEM.session-N.client.json plays the recorded client against a server\n"
    "(its commands, pipelined as they were, and its message; the recorded\n"
    "replies' codes and enhanced codes expected, their texts loosely), and\n"
    "STEM.session-N.server.json plays the recorded server to a client.\n"
    "Host names, queue ids, dates and message ids in reply texts are not\n"
    "asserted.\n"
    "\n"
    "  -o, --output DIR    where to write (created if missing)\n"
    "  --redact            AUTH credentials and message bodies become\n"
    "                      placeholders (bodies keep their length)\n"
    "\n"
    "exit status: 0 written, 2 usage error or a file that is not a readable\n"
    "capture, or one without an SMTP session.\n";

static const char replay_usage[] =
    "usage: smtp-harness replay FILE.pcap --target HOST:PORT [--report FORMAT:FILE]... [--quiet]\n"
    "\n"
    "Replays the client side of every SMTP session of a capture against\n"
    "HOST:PORT and sets each recorded reply against the new one: a reply of\n"
    "another class (or none) is a regression; another code or enhanced code\n"
    "in the same class, or another text, is a change. The passive checks\n"
    "judge the new sessions as in `run`.\n"
    "\n"
    "  --target HOST:PORT      the server to replay against\n"
    "  --report FORMAT:FILE    also write a report; FORMAT is text, json, junit, tap\n"
    "                          or html (repeatable)\n"
    "  --connect-timeout MS    deadline for each connection (default 10000)\n"
    "  --quiet                 only regressions and the summary\n"
    "\n"
    "exit status: 0 no regression, 1 a regression, 2 usage error or a file that\n"
    "is not a readable capture, 3 the target could not be reached.\n";

typedef struct imp_item {
	size_t index;
	cap_transcript *t;
	dlg *d;
} imp_item;

typedef struct imp_ctx {
	imp_item *items;
	size_t n;
	size_t cap;
} imp_ctx;

static void
imp_collect(void *arg, cap_pcap_session *s)
{
	imp_ctx *c = arg;

	c->items = xgrow(c->items, &c->cap, c->n + 1, sizeof(*c->items));
	c->items[c->n].index = s->index;
	c->items[c->n].t = s->t;
	c->items[c->n].d = NULL;
	c->n++;
	s->t = NULL;
}

static int
imp_item_cmp(const void *x, const void *y)
{
	const imp_item *a = x, *b = y;

	return a->index < b->index ? -1 : a->index > b->index;
}

static void
imp_ctx_free(imp_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		dlg_free(c->items[i].d);
		cap_transcript_free(c->items[i].t);
	}
	xfree(c->items);
}

/* Reads every session of path, in the order they began. Returns 0, or
 * -1 having printed one line. */
static int
imp_read(const char *path, imp_ctx *c)
{
	cap_pcap_stats st;
	char err[1024];

	if (cap_pcap_read_file(path, imp_collect, c, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		return -1;
	}
	if (c->n == 0) {
		fprintf(stderr, "smtp-harness: %s: no SMTP session in the capture (%llu packets, "
		    "%llu TCP segments)\n", path, (unsigned long long)st.packets,
		    (unsigned long long)st.tcp);
		return -1;
	}
	qsort(c->items, c->n, sizeof(*c->items), imp_item_cmp);
	for (size_t i = 0; i < c->n; i++) {
		imp_item *it = &c->items[i];
		long gap, cut = cap_transcript_gap_cut(it->t, &gap);

		/* A session with lost bytes is read only up to where they may
		 * have been sent, as audit judges it: the gap marker comes
		 * later, when what followed the hole arrived, and commands
		 * before it but after that point had their replies lost, not
		 * withheld. The marker is kept, so the dialog says why it
		 * stops. */
		if (cut >= 0) {
			const cap_segment *g = &it->t->segs[gap];
			cap_transcript *p = cap_transcript_prefix(it->t, (size_t)cut);

			cap_transcript_add_gap(p, g->dir, g->ts_us, g->len);
			cap_transcript_free(it->t);
			it->t = p;
		}
		it->d = dlg_build(it->t);
	}
	return 0;
}

static char *
imp_summary(const char *path, const imp_item *it, const char *as)
{
	char cbuf[128], sbuf[128];

	cap_addr_str(&it->t->client, cbuf, sizeof(cbuf));
	cap_addr_str(&it->t->server, sbuf, sizeof(sbuf));
	return xasprintf("Session %zu of %s (client %s, server %s), played as the %s", it->index,
	    path, cbuf, sbuf, as);
}

/* Checks a generated scenario with the loader and writes it atomically. */
static int
imp_write(cJSON *s, const char *dir, const char *id)
{
	char *text = cJSON_Print(s), *path = xasprintf("%s/%s.json", dir, id);
	char err[1024];
	scn_scenario *sc = NULL;
	int rc = -1;

	if (scn_load_buffer(path, text, strlen(text), &sc, err, sizeof(err)) != 0) {
		/* The generator's mistake, not the capture's. */
		fprintf(stderr, "smtp-harness: internal error: the scenario made for %s does not "
		    "load: %s\n", id, err);
	} else if (atomic_file_write(path, text, strlen(text), err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
	} else {
		printf("%s\n", path);
		rc = 0;
	}
	scn_free(sc);
	cJSON_free(text);
	xfree(path);
	return rc;
}

int
cli_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "redact", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	import_opts o = { 0 };
	imp_ctx c = { 0 };
	const char *dir = NULL, *path;
	char err[1024], *stem = NULL;
	int ch, rc = CLI_USAGE;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			dir = optarg;
			break;
		case 'R':
			o.redact = 1;
			break;
		case 'h':
			fputs(import_usage, stdout);
			return CLI_OK;
		default:
			return cli_usage_error("import: unknown or incomplete option \"%s\" (see "
			    "smtp-harness import --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("import: expected one capture FILE.pcap, got %d",
		    argc - optind);
	if (dir == NULL || *dir == '\0')
		return cli_usage_error("import: expected -o DIR, where to write the scenarios");
	path = argv[optind];
	if (imp_read(path, &c) != 0)
		goto out;
	if (atomic_file_mkdirs(dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		goto out;
	}
	stem = import_id_stem(path);
	rc = CLI_OK;
	for (size_t i = 0; i < c.n; i++) {
		static const char *const roles[2] = { "client", "server" };

		for (int r = 0; r < 2; r++) {
			char *id = xasprintf("%s.session-%zu.%s", stem, c.items[i].index, roles[r]);
			char *sum = imp_summary(path, &c.items[i], roles[r]);
			cJSON *s = r == 0 ? import_client(c.items[i].d, id, sum, &o) :
			    import_server(c.items[i].d, id, sum, &o);

			if (imp_write(s, dir, id) != 0)
				rc = CLI_USAGE;
			cJSON_Delete(s);
			xfree(id);
			xfree(sum);
		}
	}
out:
	xfree(stem);
	imp_ctx_free(&c);
	return rc;
}

/* ---- replay ------------------------------------------------------------ */

/* What exchange e stands for, on one line, for the diff. */
static char *
replay_label(const dlg_exchange *e, int credential)
{
	switch (e->kind) {
	case DLG_GREETING:
		return xstrdup("(greeting)");
	case DLG_CONTENT:
		return xasprintf("(message content, %zu octets)", e->c2s_len);
	default:
		if (credential)
			return xstrdup("(AUTH credential)");
		return xasprintf("%.120s", e->line);
	}
}

static char *
replay_reply(const smtp_reply *r)
{
	return r != NULL ? smtp_reply_summary(r, 120) : xstrdup("no reply");
}

/* 1 if the two replies' first lines read the same once the words that
 * vary between runs are set aside. */
static int
replay_same_text(const dlg_exchange *e, const smtp_reply *a, const smtp_reply *b)
{
	size_t la, lb;
	const char *ta = smtp_reply_text(a, 0, &la), *tb = smtp_reply_text(b, 0, &lb);
	/* The server's name, as in import's patterns. */
	int domain = e->kind == DLG_GREETING || a->code == 221 || a->code == 421 ||
	    (e->kind == DLG_COMMAND && (e->cmd.verb == SMTP_VERB_EHLO ||
	    e->cmd.verb == SMTP_VERB_HELO));
	char *pa = import_text_pattern(ta, la, domain), *pb = import_text_pattern(tb, lb, domain);
	int same = (pa == NULL && pb == NULL) || (pa != NULL && pb != NULL && strcmp(pa, pb) == 0);

	xfree(pa);
	xfree(pb);
	return same;
}

static int
replay_same_esc(const smtp_reply *a, const smtp_reply *b)
{
	if (a->esc.present != b->esc.present)
		return 0;
	return !a->esc.present || (a->esc.cls == b->esc.cls && a->esc.subject == b->esc.subject &&
	    a->esc.detail == b->esc.detail);
}

/* Sets the recorded dialog against the new one; adds findings to sc and
 * prints the diff. Returns the number of regressions. */
static size_t
replay_diff(const dlg *old, const cap_transcript *nt, rpt_scenario *sc, int quiet)
{
	dlg *nd = nt != NULL ? dlg_build(nt) : NULL;
	size_t regressions = 0;
	int header = 0;
	/* A capture that missed the opening has no greeting exchange; the
	 * replayed session always has one. Exchanges pair after it. */
	size_t shift = nd != NULL && nd->nex > 0 && nd->ex[0].kind == DLG_GREETING &&
	    (old->nex == 0 || old->ex[0].kind != DLG_GREETING);

	for (size_t i = 0; i < old->nex; i++) {
		const dlg_exchange *e = &old->ex[i];
		const dlg_exchange *n = nd != NULL && i + shift < nd->nex &&
		    nd->ex[i + shift].kind == e->kind ? &nd->ex[i + shift] : NULL;
		int credential = i >= 2 && old->ex[i - 1].reply != NULL &&
		    old->ex[i - 1].reply->code == 334 && e->kind == DLG_COMMAND;
		const smtp_reply *r0 = e->reply, *r1 = n != NULL ? n->reply : NULL;
		char *label, *was, *now;
		const char *mark;
		rpt_evidence ev, *evp = NULL;

		if (r0 == NULL)
			continue;	/* nothing recorded to compare with */
		label = replay_label(e, credential);
		was = replay_reply(r0);
		now = replay_reply(r1);
		if (n != NULL && r1 != NULL) {
			rpt_evidence_at(&ev, nt, CAP_S2C, n->s2c_off, r1->raw_len);
			evp = &ev;
		}
		if (r1 == NULL && regressions > 0) {
			mark = "not reached";
		} else if (r1 == NULL || r0->code / 100 != r1->code / 100) {
			mark = "REGRESSION";
			regressions++;
			rpt_scenario_add_finding(sc, REPLAY_REGRESSION, NULL, RPT_FAIL, 0, evp,
			    "%s: expected a reply of class %dyz as recorded (%s), got %s", label,
			    r0->code / 100, was, now);
		} else if (r0->code != r1->code || !replay_same_esc(r0, r1)) {
			mark = "changed";
			rpt_scenario_add_finding(sc, REPLAY_CHANGED, NULL, RPT_WARN, 0, evp,
			    "%s: expected %s as recorded, got %s (same class)", label, was, now);
		} else if (!replay_same_text(e, r0, r1)) {
			mark = "text";
			rpt_scenario_add_finding(sc, REPLAY_CHANGED, NULL, RPT_INFO, 0, evp,
			    "%s: the reply's text changed: recorded %s, got %s", label, was, now);
		} else {
			mark = "same";
		}
		if (!header && (!quiet || strcmp(mark, "REGRESSION") == 0)) {
			/* --quiet: a session's name only above a regression. */
			printf("%s:\n", sc->id);
			header = 1;
		}
		if (strcmp(mark, "same") == 0) {
			if (!quiet)
				printf("  %-11s %s: %d\n", mark, label, r0->code);
		} else if (!quiet || strcmp(mark, "REGRESSION") == 0) {
			printf("  %-11s %s\n  %11s   recorded %s\n  %11s   now      %s\n", mark, label,
			    "", was, "", now);
		}
		if (evp != NULL)
			rpt_evidence_clear(evp);
		xfree(label);
		xfree(was);
		xfree(now);
	}
	dlg_free(nd);
	return regressions;
}

int
cli_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "report", required_argument, NULL, 'r' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char **fmt = NULL, **out = NULL;
	size_t nreports = 0, fmt_cap = 0, out_cap = 0, regressions = 0;
	import_opts o = { 0 };
	imp_ctx c = { 0 };
	scn_list list = { 0 };
	scn_vars defaults = { 0 }, overrides = { 0 };
	eng_config cfg;
	eng_status st;
	rpt_run *run = NULL;
	const char *target = NULL, *path;
	char *host = NULL, *port = NULL, *stem = NULL, *name = NULL;
	char err[1024];
	int ch, quiet = 0, rc = CLI_USAGE;

	memset(&cfg, 0, sizeof(cfg));
	cfg.connect_timeout_ms = HARNESS_CONNECT_TIMEOUT_MS;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			target = optarg;
			break;
		case 'r': {
			fmt = xgrow(fmt, &fmt_cap, nreports + 1, sizeof(*fmt));
			out = xgrow(out, &out_cap, nreports + 1, sizeof(*out));
			if (cli_report_arg(optarg, &fmt[nreports], &out[nreports]) != 0)
				goto out;
			nreports++;
			break;
		}
		case 'C': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 3600000UL) {
				cli_usage_error("--connect-timeout: expected milliseconds from 1 to "
				    "3600000, got \"%s\"", optarg);
				goto out;
			}
			cfg.connect_timeout_ms = (uint32_t)v;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(replay_usage, stdout);
			rc = CLI_OK;
			goto out;
		default:
			cli_usage_error("replay: unknown or incomplete option \"%s\" (see smtp-harness "
			    "replay --help)", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		cli_usage_error("replay: expected one capture FILE.pcap, got %d", argc - optind);
		goto out;
	}
	if (target == NULL) {
		cli_usage_error("replay: expected --target HOST:PORT, the server to replay against");
		goto out;
	}
	if (cli_split_hostport(target, "25", &host, &port) != 0) {
		cli_usage_error("--target: expected HOST:PORT or [IPv6]:PORT, got \"%s\"", target);
		goto out;
	}
	path = argv[optind];
	if (imp_read(path, &c) != 0)
		goto out;
	stem = import_id_stem(path);
	o.replay = 1;
	for (size_t i = 0; i < c.n; i++) {
		char *id = xasprintf("%s.session-%zu", stem, c.items[i].index);
		char *sum = imp_summary(path, &c.items[i], "client, replayed");
		cJSON *s = import_client(c.items[i].d, id, sum, &o);
		char *text = cJSON_PrintUnformatted(s);
		scn_scenario *sc = NULL;

		xfree(name);
		name = xasprintf("%s#%s", path, id);
		if (scn_load_buffer(name, text, strlen(text), &sc, err, sizeof(err)) != 0) {
			fprintf(stderr, "smtp-harness: internal error: the scenario made for %s does "
			    "not load: %s\n", id, err);
			cJSON_free(text);
			cJSON_Delete(s);
			xfree(id);
			xfree(sum);
			goto out;
		}
		list.items = xgrow(list.items, &list.cap, list.n + 1, sizeof(*list.items));
		list.items[list.n++] = sc;
		cJSON_free(text);
		cJSON_Delete(s);
		xfree(id);
		xfree(sum);
	}

	eng_default_vars(&defaults, host, port);
	cfg.host = host;
	cfg.port = port;
	cfg.defaults = &defaults;
	cfg.overrides = &overrides;
	cfg.jobs = 1;	/* in the order they were recorded */
	run = rpt_run_new(target);
	run->started_us = cap_now_us();
	run->catalog = chk_catalog_describe;
	err[0] = '\0';
	st = eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err));
	{
		uint64_t now = cap_now_us();

		run->duration_ms = now > run->started_us ? (now - run->started_us) / 1000 : 0;
	}
	if (st == ENG_LOCAL_ERROR) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < run->nscenarios && i < c.n; i++) {
		rpt_scenario *sc = run->scenarios[i];

		if (sc->verdict == RPT_ERROR || sc->verdict == RPT_SKIP) {
			printf("%s: not compared: %s\n", sc->id, sc->reason != NULL ? sc->reason :
			    "the session could not be carried out");
			continue;
		}
		regressions += replay_diff(c.items[i].d, sc->transcript, sc, quiet);
		rpt_scenario_settle(sc);
	}
	printf("replay of %s against %s: %zu session(s), %zu regression(s)\n", path, target,
	    c.n, regressions);
	rpt_text_summary(stdout, run);
	fflush(stdout);
	rc = regressions > 0 ? CLI_FAIL : CLI_OK;
	for (size_t i = 0; i < nreports; i++) {
		char werr[1024];

		if (rpt_write(run, fmt[i], out[i], werr, sizeof(werr)) != 0) {
			fprintf(stderr, "smtp-harness: %s\n", werr);
			rc = CLI_USAGE;
		}
	}
	if (st == ENG_UNREACHABLE) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		rc = CLI_UNREACHABLE;
	}
out:
	for (size_t i = 0; i < nreports; i++) {
		xfree(fmt[i]);
		xfree(out[i]);
	}
	xfree(fmt);
	xfree(out);
	xfree(host);
	xfree(port);
	xfree(stem);
	xfree(name);
	scn_vars_free(&defaults);
	scn_vars_free(&overrides);
	scn_list_free(&list);
	rpt_run_free(run);
	imp_ctx_free(&c);
	return rc;
}
