/*
 * report - picks the renderer for a --report FORMAT:FILE argument.
 *
 * The text format written to a file is what the terminal shows: a line
 * per scenario, then the summary.
 */
#include "reports/report.h"

#include <string.h>

#include "harness/util/atomic_file.h"

static const char *const formats[] = { "text", "json", "junit", "tap", "html" };

int
rpt_format_known(const char *fmt)
{
	size_t i;

	if (fmt == NULL)
		return 0;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(fmt, formats[i]) == 0)
			return 1;
	return 0;
}

static int
text_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	atomic_file af;
	size_t i;

	if (atomic_file_open(&af, path, err, errlen) != 0)
		return -1;
	for (i = 0; i < run->nscenarios; i++)
		rpt_text_scenario_line(af.fp, run->scenarios[i]);
	rpt_text_summary(af.fp, run);
	return atomic_file_commit(&af, err, errlen);
}

int
rpt_write(const rpt_run *run, const char *fmt, const char *path, char *err, size_t errlen)
{
	if (fmt != NULL && strcmp(fmt, "text") == 0)
		return text_write(run, path, err, errlen);
	if (fmt != NULL && strcmp(fmt, "json") == 0)
		return rpt_json_write(run, path, err, errlen);
	if (fmt != NULL && strcmp(fmt, "junit") == 0)
		return rpt_junit_write(run, path, err, errlen);
	if (fmt != NULL && strcmp(fmt, "tap") == 0)
		return rpt_tap_write(run, path, err, errlen);
	if (fmt != NULL && strcmp(fmt, "html") == 0)
		return rpt_html_write(run, path, err, errlen);
	snprintf(err, errlen, "%s: unknown report format '%s' (expected text, json, junit, tap or html)",
	    path ? path : "-", fmt ? fmt : "");
	return -1;
}
