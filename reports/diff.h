/*
 * diff - what changed between two JSON reports of `smtp-harness run`.
 *
 * A report is read back into the little diff needs: per scenario its id,
 * verdict, reason, the checks that FAILed (with the first message) and
 * the checks it exercised. Anything else in the file is ignored, so
 * reports from later versions (which only add fields) still compare.
 * Reading never trusts the file: malformed JSON is
 * "FILE:LINE:COL: expected valid JSON, got ...", a JSON value that is not
 * a report is "FILE:LINE:COL: $.scenarios[2].verdict: expected ..., got ...".
 *
 * Scenarios pair up by id (the k-th occurrence of an id in one report
 * with the k-th in the other). Changes, one line each:
 *
 *   REGRESSED  a scenario PASS or SKIP -> FAIL or ERROR, or a check that
 *              FAILs now and did not
 *   FIXED      a scenario FAIL or ERROR -> PASS, or a check that FAILed
 *              and was exercised again without failing
 *   APPEARED   a scenario only in the new report
 *   GONE       a scenario only in the old one, or a check that FAILed and
 *              was not exercised this time
 *   CHANGED    any other verdict change (PASS -> SKIP, FAIL -> ERROR, ...)
 */
#ifndef REPORTS_DIFF_H
#define REPORTS_DIFF_H

#include <stdio.h>

#include "reports/result.h"

typedef struct rpt_dfail {
	char *check;
	char *message;		/* of its first FAIL finding */
} rpt_dfail;

typedef struct rpt_dscenario {
	char *id;
	rpt_verdict verdict;	/* PASS, FAIL, ERROR or SKIP */
	char *reason;		/* or NULL */
	rpt_dfail *fails;	/* distinct checks with a FAIL finding */
	size_t nfails;
	char **exercised;	/* checks it ran without failing them */
	size_t nexercised;
} rpt_dscenario;

typedef struct rpt_dreport {
	rpt_dscenario *sc;
	size_t n;
} rpt_dreport;

typedef struct rpt_diff_counts {
	size_t regressed, fixed, appeared, gone, changed;
} rpt_diff_counts;

/* Reads a JSON report from text (name is used in errors). 0 and *out
 * (rpt_dreport_free), or -1 with err set. */
int rpt_dreport_load_buffer(const char *name, const char *text, size_t len,
    rpt_dreport **out, char *err, size_t errlen);
int rpt_dreport_load_file(const char *path, rpt_dreport **out, char *err, size_t errlen);
void rpt_dreport_free(rpt_dreport *r);

/* Writes one line per change from old to new to fp (NULL: count only)
 * and returns the counts. */
rpt_diff_counts rpt_diff(FILE *fp, const rpt_dreport *old, const rpt_dreport *new_);

#endif
