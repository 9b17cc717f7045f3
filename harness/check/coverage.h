/*
 * coverage - which rows of the conformance catalog the harness exercises.
 *
 * A row is exercised when a shipped scenario cites its id (in refs, or as
 * the check of the scenario, a step, an expectation or a close), or when a
 * passive check can emit it (passive.h). A row that cannot be judged over
 * the wire is marked so, with a reason, in a small data file; every other
 * row is not covered yet. The module owns its rows and the strings in
 * them; it knows nothing of scenario files (the CLI walks them and cites
 * what it finds) and renders text or Markdown into a vbuf, deterministically:
 * the same inputs give the same bytes, so docs/coverage.md can be compared.
 */
#ifndef HARNESS_CHECK_COVERAGE_H
#define HARNESS_CHECK_COVERAGE_H

#include <stddef.h>

#include "harness/check/catalog.h"
#include "harness/util/vbuf.h"

#define CHK_COV_PASSIVE_SERVER	1
#define CHK_COV_PASSIVE_CLIENT	2

typedef struct chk_cov_row {
	const chk_entry *e;
	char **scenarios;	/* ids of the scenarios citing the row, in citing order */
	size_t nscenarios;
	int passive;		/* CHK_COV_PASSIVE_* bits */
	char *untestable;	/* the reason it is not testable over the wire, or NULL */
} chk_cov_row;

typedef struct chk_coverage {
	chk_cov_row *rows;	/* one per catalog row, in catalog (id) order */
	size_t n;
} chk_coverage;

/* Every catalog row, with the passive checks' ids already marked. */
void chk_coverage_init(chk_coverage *c);
void chk_coverage_free(chk_coverage *c);
/* Records that scenario `scenario` cites id (once per scenario). Returns
 * 0, or -1 when id is not a catalog id (then nothing is recorded). */
int chk_coverage_cite(chk_coverage *c, const char *id, const char *scenario);
/* Reads the not-testable list: one row per line, the catalog id, white
 * space, then the reason; blank lines and lines starting with '#' are
 * ignored. An unknown id, an id listed twice, a missing reason, or a row
 * that is also exercised is an error: -1 with "name:line: message" in err. */
int chk_coverage_untestable(chk_coverage *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen);
/* Rows exercised, marked not testable, neither. */
void chk_coverage_count(const chk_coverage *c, size_t *exercised, size_t *untestable,
    size_t *uncovered);
/* One line per row, then the totals. */
void chk_coverage_text(const chk_coverage *c, vbuf *out);
/* docs/coverage.md: totals, a table per area, the rows not covered. */
void chk_coverage_markdown(const chk_coverage *c, vbuf *out);

#endif
