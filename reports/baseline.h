/*
 * baseline - failures known and accepted for one target, so a CI gate
 * fails only on new ones.
 *
 * A baseline file is JSON (docs/reports.md, Baselines):
 *
 *   {"target": "127.0.0.1:2525",
 *    "known": [{"scenario": "smuggling.lf-dot-lf", "check": "smuggle.lf-dot-lf",
 *               "reason": "CVE-2023-51764, fixed by smtpd_forbid_bare_newline"}]}
 *
 * An entry matches a FAIL finding with its check id, in the scenario it
 * names, or in any scenario when "scenario" is absent or null. Applied to
 * a finished run, it marks each matched finding with the entry's reason
 * (rpt_finding.known), each FAIL scenario whose every FAIL finding matched
 * (rpt_scenario.known; those do not fail the run), and each entry with
 * what became of it: still failing, fixed (a matching scenario exercised
 * the check and it did not fail: the baseline can shrink), or not
 * exercised by this run at all.
 *
 * Loading never trusts the file: any problem is one line,
 * "FILE:LINE:COL: $.path: expected ..., got ...".
 */
#ifndef REPORTS_BASELINE_H
#define REPORTS_BASELINE_H

#include <stddef.h>

#include "reports/result.h"

typedef enum rpt_bl_status {
	RPT_BL_UNEXERCISED = 0,	/* no matching scenario ran the check */
	RPT_BL_KNOWN,		/* it still fails */
	RPT_BL_FIXED		/* exercised, and it no longer fails */
} rpt_bl_status;

typedef struct rpt_bl_entry {
	char *scenario;		/* NULL: any scenario */
	char *check;
	char *reason;
	rpt_bl_status status;	/* set by rpt_baseline_apply */
} rpt_bl_entry;

typedef struct rpt_baseline {
	char *file;		/* as given to --baseline */
	char *target;		/* as written in the file, or NULL */
	rpt_bl_entry *entries;
	size_t n;
} rpt_baseline;

/* Loads a baseline from text (name is used in errors). 0 and *out (the
 * caller's, rpt_baseline_free), or -1 with err set. */
int rpt_baseline_load_buffer(const char *name, const char *text, size_t len,
    rpt_baseline **out, char *err, size_t errlen);
int rpt_baseline_load_file(const char *path, rpt_baseline **out, char *err, size_t errlen);
void rpt_baseline_free(rpt_baseline *bl);

/* The entry that accepts a FAIL of check in scenario, or NULL. */
const rpt_bl_entry *rpt_baseline_match(const rpt_baseline *bl, const char *scenario,
    const char *check);
/* 1 when sc is FAIL and every FAIL finding of it is matched by bl. */
int rpt_baseline_covers(const rpt_baseline *bl, const rpt_scenario *sc);
/* Marks run's findings, scenarios and bl's entries, and gives bl to run
 * (run->baseline; run must not have one). */
void rpt_baseline_apply(rpt_baseline *bl, rpt_run *run);
/* Counts of bl's entries by status. */
void rpt_baseline_counts(const rpt_baseline *bl, size_t *known, size_t *fixed,
    size_t *unexercised);
const char *rpt_bl_status_str(rpt_bl_status st);	/* "known", "fixed", "unexercised" */

/* A baseline of run's current failures: one entry per scenario and
 * failing check, with the reason of the entry that already accepted it,
 * or a placeholder to edit. The caller frees the text. */
char *rpt_baseline_string(const rpt_run *run);
/* The same, written atomically to path; 0, or -1 with err set. */
int rpt_baseline_write(const rpt_run *run, const char *path, char *err, size_t errlen);

#define RPT_BASELINE_PLACEHOLDER "TODO: say why this failure is accepted"

#endif
