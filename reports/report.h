/*
 * report - renderers of a finished run.
 *
 * Each renderer writes one format; the file ones write to a temporary
 * name and rename (atomic_file). `rpt_write` dispatches on a FORMAT name
 * as given to --report FORMAT:FILE.
 *
 *   text   a line per scenario, then the summary and every failing check
 *   json   documented in docs/reports.md
 *   junit  a testcase per scenario; failures carry the check id and RFC
 *          section; the transcript in system-out (Jenkins, GitLab)
 *   tap    TAP version 13: a test point per scenario, a YAML block with
 *          the failing checks for FAIL and ERROR
 *   html   one self-contained page: summary, conformance profile, and
 *          each scenario (failing first) with a ladder diagram (SVG)
 */
#ifndef REPORTS_REPORT_H
#define REPORTS_REPORT_H

#include <stdio.h>

#include "reports/result.h"

/* The line printed when one scenario finishes, e.g.
 * "PASS  greeting.220  (12 ms)" or
 * "FAIL  rset.clears  (40 ms)  rfc5321.4.1.1.5.rset: expected 503, got 354". */
void rpt_text_scenario_line(FILE *fp, const rpt_scenario *sc);
/* The same while a baseline (may be NULL) is not yet applied: a FAIL
 * whose every failure it accepts shows as "KNOWN". */
struct rpt_baseline;
void rpt_text_scenario_line_bl(FILE *fp, const rpt_scenario *sc, const struct rpt_baseline *bl);
/* The closing summary: counts, then each FAIL/ERROR scenario with its
 * failing checks (id, RFC section, message, evidence location). */
void rpt_text_summary(FILE *fp, const rpt_run *run);

int rpt_json_write(const rpt_run *run, const char *path, char *err, size_t errlen);
/* The JSON report as a string the caller frees (for tests and diff). */
char *rpt_json_string(const rpt_run *run);
int rpt_junit_write(const rpt_run *run, const char *path, char *err, size_t errlen);
/* The JUnit XML as a string the caller frees. */
char *rpt_junit_string(const rpt_run *run);

int rpt_tap_write(const rpt_run *run, const char *path, char *err, size_t errlen);
/* The TAP 13 stream as a string the caller frees. */
char *rpt_tap_string(const rpt_run *run);

int rpt_html_write(const rpt_run *run, const char *path, char *err, size_t errlen);
/* The HTML page as a string the caller frees. */
char *rpt_html_string(const rpt_run *run);

/* Returns 1 if fmt names a known format. */
int rpt_format_known(const char *fmt);
/* Writes run in fmt to path; 0, or -1 with err set. */
int rpt_write(const rpt_run *run, const char *fmt, const char *path, char *err, size_t errlen);

#endif
