/*
 * report_text - the terminal report: one line per finished scenario, and
 * a closing summary with every failing check and where its evidence is.
 *
 * Every string that may hold peer bytes goes through rpt_sanitize, so a
 * hostile peer cannot put terminal control sequences on the user's screen.
 */
#include "reports/report.h"

#include <inttypes.h>
#include <string.h>

#include "harness/util/xalloc.h"
#include "reports/baseline.h"

/* Writes s for display; NULL writes nothing. */
static void
put(FILE *fp, const char *s)
{
	char *clean;

	if (s == NULL)
		return;
	clean = rpt_sanitize(s);
	fputs(clean, fp);
	xfree(clean);
}

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static size_t
count_findings(const rpt_scenario *sc, rpt_verdict v)
{
	size_t i, n = 0;

	for (i = 0; i < sc->nfindings; i++)
		if (sc->findings[i].verdict == v)
			n++;
	return n;
}

static const rpt_finding *
first_finding(const rpt_scenario *sc, rpt_verdict v)
{
	size_t i;

	for (i = 0; i < sc->nfindings; i++)
		if (sc->findings[i].verdict == v)
			return &sc->findings[i];
	return NULL;
}

/* The baseline's reason for f, from the finding (once the baseline is
 * applied) or from bl (while the run is still going). */
static const char *
known_reason(const rpt_baseline *bl, const rpt_scenario *sc, const rpt_finding *f)
{
	const rpt_bl_entry *e;

	if (f->verdict != RPT_FAIL)
		return NULL;
	if (f->known != NULL)
		return f->known;
	e = rpt_baseline_match(bl, sc->id, f->check);
	return e ? e->reason : NULL;
}

void
rpt_text_scenario_line_bl(FILE *fp, const rpt_scenario *sc, const rpt_baseline *bl)
{
	const rpt_finding *f = NULL;
	size_t warnings = count_findings(sc, RPT_WARN);
	int known = sc->known || rpt_baseline_covers(bl, sc);

	/* A failure the baseline does not accept is the one to show. */
	for (size_t i = 0; i < sc->nfindings && f == NULL; i++)
		if (sc->findings[i].verdict == RPT_FAIL && known_reason(bl, sc, &sc->findings[i]) == NULL)
			f = &sc->findings[i];
	if (f == NULL)
		f = first_finding(sc, RPT_FAIL);
	fprintf(fp, "%s  ", known ? "KNOWN" : rpt_verdict_str(sc->verdict));
	put(fp, sc->id);
	fprintf(fp, "  (%" PRIu64 " ms)", sc->duration_ms);
	if (sc->verdict == RPT_FAIL && f != NULL) {
		fputs("  ", fp);
		put(fp, f->check);
		fputs(": ", fp);
		put(fp, f->message);
		if (known) {
			fputs("  [baseline: ", fp);
			put(fp, known_reason(bl, sc, f));
			fputc(']', fp);
		}
	} else if (sc->verdict != RPT_PASS && sc->reason != NULL) {
		fputs("  ", fp);
		put(fp, sc->reason);
	}
	if (warnings > 0)
		fprintf(fp, "  [%zu %s]", warnings, plural(warnings, "warning", "warnings"));
	fputc('\n', fp);
}

void
rpt_text_scenario_line(FILE *fp, const rpt_scenario *sc)
{
	rpt_text_scenario_line_bl(fp, sc, NULL);
}

/* "<check> [<refs>] step <n>: <message>"; passive findings (step 0) say
 * "passive" instead of a step number. */
static void
put_finding_head(FILE *fp, const rpt_finding *f)
{
	put(fp, f->check);
	if (f->refs != NULL && f->refs[0] != '\0') {
		fputs(" [", fp);
		put(fp, f->refs);
		fputc(']', fp);
	}
	if (f->step > 0)
		fprintf(fp, " step %d: ", f->step);
	else
		fputs(" passive: ", fp);
	put(fp, f->message);
}

/* The last `max` lines of a client's output, indented, each on one line. */
static void
put_tail(FILE *fp, const char *what, const char *text, size_t len, int max)
{
	const char *p = text + len;
	char *clean;
	int n = 0;

	while (p > text && (p[-1] == '\n' || p[-1] == '\r'))
		p--;
	len = (size_t)(p - text);
	while (p > text && n < max) {
		p--;
		if (*p == '\n' && ++n == max) {
			p++;
			break;
		}
	}
	if (len == 0)
		return;
	fprintf(fp, "    client %s%s:\n", what, p > text ? " (the end)" : "");
	clean = rpt_sanitize_text(p, len - (size_t)(p - text));
	for (char *line = clean, *nl; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		fprintf(fp, "      %s\n", line);
	}
	xfree(clean);
}

/* Server role: how the client under test ended, and what it said. */
static void
put_client(FILE *fp, const rpt_client *cl)
{
	fputs("  client: ", fp);
	put(fp, cl->cmd);
	if (!cl->exited)
		fputs(" (did not end)", fp);
	else if (cl->term_signal != 0)
		fprintf(fp, " (ended by signal %d%s)", cl->term_signal,
		    cl->killed ? ", killed at the deadline" : "");
	else
		fprintf(fp, " (exit status %d)", cl->exit_status);
	fputc('\n', fp);
	put_tail(fp, "stderr", cl->err, cl->err_len, 3);
	put_tail(fp, "stdout", cl->out, cl->out_len, 3);
}

static void
put_failure_block(FILE *fp, const rpt_scenario *sc)
{
	size_t i;

	fprintf(fp, "%s ", sc->known ? "KNOWN" : rpt_verdict_str(sc->verdict));
	put(fp, sc->id);
	if (sc->file != NULL) {
		fputs(" (", fp);
		put(fp, sc->file);
		fputc(')', fp);
	}
	fputc('\n', fp);
	if (sc->reason != NULL) {
		fputs("  ", fp);
		put(fp, sc->reason);
		fputc('\n', fp);
	}
	for (i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (f->verdict != RPT_FAIL)
			continue;
		fputs("  ", fp);
		put_finding_head(fp, f);
		fputc('\n', fp);
		if (f->evidence.present) {
			fputs("    evidence: ", fp);
			if (f->evidence.conn > 0)
				fprintf(fp, "connection %zu, ", f->evidence.conn + 1);
			fprintf(fp, "segment %zu offset %zu (%s): ", f->evidence.seg,
			    f->evidence.off, cap_dir_str(f->evidence.dir));
			put(fp, f->evidence.excerpt);
			fputc('\n', fp);
		}
		if (f->delivered_file != NULL) {
			fputs("    delivered: ", fp);
			put(fp, f->delivered_file);
			fprintf(fp, " offset %zu: ", f->delivered_off);
			put(fp, f->delivered_excerpt);
			fputc('\n', fp);
		}
		if (f->known != NULL) {
			fputs("    known (baseline): ", fp);
			put(fp, f->known);
			fputc('\n', fp);
		}
	}
	if (sc->client != NULL)
		put_client(fp, sc->client);
}

/* What became of each baseline entry; the still-failing ones are listed
 * with their scenarios above. */
static void
put_baseline(FILE *fp, const rpt_baseline *bl)
{
	size_t known, fixed, unexercised;

	rpt_baseline_counts(bl, &known, &fixed, &unexercised);
	fputs("\nBaseline ", fp);
	put(fp, bl->file);
	fprintf(fp, ": %zu still failing, %zu fixed, %zu not exercised\n", known, fixed,
	    unexercised);
	for (size_t i = 0; i < bl->n; i++) {
		const rpt_bl_entry *e = &bl->entries[i];

		if (e->status == RPT_BL_KNOWN)
			continue;
		fputs(e->status == RPT_BL_FIXED ? "  fixed: " : "  not exercised: ", fp);
		put(fp, e->scenario ? e->scenario : "(any scenario)");
		fputc(' ', fp);
		put(fp, e->check);
		fputs(e->status == RPT_BL_FIXED ? ": passes now; the baseline can shrink\n" :
		    ": no scenario of this run exercised it\n", fp);
	}
}

void
rpt_text_summary(FILE *fp, const rpt_run *run)
{
	rpt_summary s = rpt_run_summary(run);
	size_t i, j, total = run->nscenarios;
	int warn_header = 0;

	fprintf(fp, "\n%zu %s: %zu passed, %zu failed", total, plural(total, "scenario", "scenarios"),
	    s.pass, s.fail);
	if (s.known > 0)
		fprintf(fp, " (%zu known, in the baseline)", s.known);
	fprintf(fp, ", %zu %s, %zu skipped, %zu %s\n",
	    s.error, plural(s.error, "error", "errors"), s.skip,
	    s.warnings, plural(s.warnings, "warning", "warnings"));
	if (run->seeded)
		fprintf(fp, "random faults drawn with --seed %" PRIu32 " (give it again to repeat them)\n",
		    run->seed);

	for (i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		if (sc->verdict != RPT_FAIL && sc->verdict != RPT_ERROR)
			continue;
		fputc('\n', fp);
		put_failure_block(fp, sc);
	}

	/* SHOULD deviations do not fail a run, but users must still see them. */
	for (i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		if (count_findings(sc, RPT_WARN) == 0)
			continue;
		if (!warn_header) {
			fputs("\nWarnings:\n", fp);
			warn_header = 1;
		}
		fputs("  ", fp);
		put(fp, sc->id);
		fputs(":\n", fp);
		for (j = 0; j < sc->nfindings; j++) {
			if (sc->findings[j].verdict != RPT_WARN)
				continue;
			fputs("    ", fp);
			put_finding_head(fp, &sc->findings[j]);
			fputc('\n', fp);
		}
	}

	if (run->baseline != NULL)
		put_baseline(fp, run->baseline);

	/* The last line is what CI log readers look for; keep it exactly so.
	 * Failures the baseline accepts are not "failed": they do not fail
	 * the run. */
	fprintf(fp, "\n%zu passed, %zu failed", s.pass, s.fail - s.known + s.error);
	if (s.known > 0)
		fprintf(fp, ", %zu known", s.known);
	if (s.skip > 0)
		fprintf(fp, ", %zu skipped", s.skip);
	fputc('\n', fp);
}
