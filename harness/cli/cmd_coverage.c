/*
 * smtp-harness coverage - which catalog rows the scenarios and the passive
 * checks exercise (harness/check/coverage.h); docs/coverage.md is its
 * Markdown output.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/coverage.h"
#include "harness/cli/cli.h"
#include "harness/scenario/scenario.h"
#include "harness/util/harness_limits.h"
#include "harness/scenario/relay.h"
#include "harness/util/xalloc.h"

/* Cites id for scenario s when it is a catalog id; other refs ("RFC 5321
 * §4.1") are no rows. */
static void
cite(chk_coverage *c, const char *id, const scn_scenario *s)
{
	if (id != NULL)
		(void)chk_coverage_cite(c, id, s->id);
}

static void
cite_scenario(chk_coverage *c, const scn_scenario *s)
{
	for (size_t i = 0; i < s->nrefs; i++)
		cite(c, s->refs[i], s);
	cite(c, s->check, s);
	for (size_t i = 0; i < s->nsteps; i++) {
		const scn_step *st = &s->steps[i];

		cite(c, st->check, s);
		cite(c, st->closed_check, s);
		for (size_t j = 0; j < st->nexpects; j++)
			cite(c, st->expects[j].check, s);
	}
	if (s->relay != NULL)
		for (size_t i = 0; i < s->relay->nexpects; i++)
			cite(c, s->relay->expects[i].check, s);
	if (s->server != NULL)
		for (size_t i = 0; i < s->server->nsessions; i++)
			for (size_t j = 0; j < s->server->sessions[i].nsteps; j++)
				cite(c, s->server->sessions[i].steps[j].check, s);
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "smtp-harness: %s: cannot open", path);
		return NULL;
	}
	for (;;) {
		size_t got;

		buf = xgrow(buf, &cap, n + 4096, 1);
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n > HARNESS_SCENARIO_FILE_MAX) {
			snprintf(err, errlen, "smtp-harness: %s: larger than %d bytes", path,
			    HARNESS_SCENARIO_FILE_MAX);
			fclose(f);
			xfree(buf);
			return NULL;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "smtp-harness: %s: read error", path);
		fclose(f);
		xfree(buf);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int
cli_coverage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "markdown", no_argument, NULL, 'm' },
		{ "untestable", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *untestable = NULL;
	int markdown = 0, opt, rc = CLI_USAGE;
	scn_list list = { 0 };
	chk_coverage cov = { 0 };
	vbuf out = { 0 };
	char err[1024];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			markdown = 1;
			break;
		case 'u':
			untestable = optarg;
			break;
		case 'h':
			puts("usage: smtp-harness coverage [--markdown] [--untestable FILE] PATH...\n\n"
			    "Lists every row of the conformance catalog and whether it is exercised: cited\n"
			    "by a scenario in PATH (files, or directories searched for *.json), or emitted\n"
			    "by a passive check; or not testable over the wire, as FILE says (one row a\n"
			    "line: the id, then the reason). --markdown writes docs/coverage.md.");
			return CLI_OK;
		default:
			return cli_usage_error("coverage: unknown option; see coverage --help");
		}
	}
	if (optind >= argc)
		return cli_usage_error("coverage: no scenario PATH given");
	for (int i = optind; i < argc; i++) {
		if (scn_load_path(argv[i], &list, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
	}
	chk_coverage_init(&cov);
	for (size_t i = 0; i < list.n; i++)
		cite_scenario(&cov, list.items[i]);
	if (untestable != NULL) {
		size_t len = 0;
		char *text = read_file(untestable, &len, err, sizeof(err));

		if (text == NULL) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (chk_coverage_untestable(&cov, untestable, text, len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			xfree(text);
			goto out;
		}
		xfree(text);
	}
	if (markdown)
		chk_coverage_markdown(&cov, &out);
	else
		chk_coverage_text(&cov, &out);
	fwrite(vbuf_str(&out), 1, out.len, stdout);
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
out:
	vbuf_free(&out);
	chk_coverage_free(&cov);
	scn_list_free(&list);
	return rc;
}
