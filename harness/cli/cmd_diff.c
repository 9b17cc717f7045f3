/*
 * cmd_diff - `smtp-harness diff OLD.json NEW.json`: what regressed
 * between two runs, for a CI job that keeps the last report.
 */
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "reports/diff.h"

static const char diff_usage[] =
    "usage: smtp-harness diff OLD.json NEW.json\n"
    "\n"
    "Compares two JSON reports of `smtp-harness run` (--report json:FILE),\n"
    "scenario by scenario and check by check, and prints one line per change:\n"
    "  REGRESSED  PASS or SKIP -> FAIL or ERROR, or a check that FAILs now\n"
    "  FIXED      FAIL or ERROR -> PASS, or a check that passes now\n"
    "  APPEARED   a scenario only in NEW\n"
    "  GONE       a scenario only in OLD, or a failed check not exercised now\n"
    "  CHANGED    any other verdict change (PASS -> SKIP, FAIL -> ERROR, ...)\n"
    "then a summary.\n"
    "\n"
    "exit status: 0 nothing regressed, 1 something did, 2 a usage error or a\n"
    "file that is not a JSON report (FILE:LINE:COL: $.path: ...).\n";

static void
counts_line(const char *what, const rpt_dreport *r)
{
	size_t v[4] = { 0 };

	for (size_t i = 0; i < r->n; i++)
		if ((size_t)r->sc[i].verdict < 4)
			v[r->sc[i].verdict]++;
	printf("%s %zu scenario%s: %zu passed, %zu failed, %zu error%s, %zu skipped\n", what,
	    r->n, r->n == 1 ? "" : "s", v[RPT_PASS], v[RPT_FAIL], v[RPT_ERROR],
	    v[RPT_ERROR] == 1 ? "" : "s", v[RPT_SKIP]);
}

int
cli_diff(int argc, char **argv)
{
	rpt_dreport *old = NULL, *new_ = NULL;
	rpt_diff_counts c;
	char err[1024];
	int rc = CLI_USAGE;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(diff_usage, stdout);
		return CLI_OK;
	}
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cli_usage_error("diff: expected OLD.json NEW.json (see smtp-harness diff --help)");
	if (rpt_dreport_load_file(argv[1], &old, err, sizeof(err)) != 0 ||
	    rpt_dreport_load_file(argv[2], &new_, err, sizeof(err)) != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		goto out;
	}
	c = rpt_diff(stdout, old, new_);
	printf("\n%zu regressed, %zu fixed, %zu appeared, %zu gone, %zu changed\n",
	    c.regressed, c.fixed, c.appeared, c.gone, c.changed);
	counts_line("old:", old);
	counts_line("new:", new_);
	rc = c.regressed > 0 ? CLI_FAIL : CLI_OK;
out:
	rpt_dreport_free(old);
	rpt_dreport_free(new_);
	return rc;
}
