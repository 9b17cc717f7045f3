/*
 * report_tap - TAP version 13 (the Test Anything Protocol), for prove,
 * tap-junit and the CI plugins that read TAP: one test point per
 * scenario, in run order.
 *
 *   ok N - id                       PASS
 *   ok N - id # SKIP reason         SKIP
 *   not ok N - id                   FAIL or ERROR, then a YAML block:
 *     ---                             message, severity (fail/error),
 *     ...                             file, and every FAIL finding with
 *                                     its check, refs, step, message and
 *                                     evidence
 *   not ok N - id # TODO known ...  a FAIL the baseline accepts: TAP's
 *                                   "expected to fail", which does not
 *                                   fail the run
 *
 * Every string is sanitized (no control bytes, valid UTF-8) and YAML
 * strings are double-quoted with '\' and '"' escaped, so peer bytes can
 * neither break the YAML nor start a TAP line of their own.
 */
#include "reports/report.h"

#include <string.h>

#include "harness/util/atomic_file.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"

/* A YAML double-quoted scalar. */
static void
yaml_str(vbuf *b, const char *s)
{
	char *clean = rpt_sanitize(s ? s : "");

	vbuf_append_byte(b, '"');
	for (const char *p = clean; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			vbuf_append_byte(b, '\\');
			vbuf_append_byte(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			vbuf_printf(b, "\\x%02x", c);	/* sanitize leaves none; be sure */
		} else {
			vbuf_append_byte(b, (char)c);
		}
	}
	vbuf_append_byte(b, '"');
	xfree(clean);
}

/* Text on a test line: no line break, and '#' (which starts a directive)
 * and '\' escaped as TAP 13 says. */
static void
tap_text(vbuf *b, const char *s)
{
	char *clean = rpt_sanitize(s ? s : "");

	for (const char *p = clean; *p; p++) {
		if (*p == '#' || *p == '\\')
			vbuf_append_byte(b, '\\');
		vbuf_append_byte(b, *p);
	}
	xfree(clean);
}

static void
yaml_block(vbuf *b, const rpt_scenario *sc, const rpt_finding *first)
{
	size_t nfail = 0;

	vbuf_append_str(b, "  ---\n  message: ");
	if (first != NULL) {
		char *m = xasprintf("%s: %s", first->check, first->message ? first->message : "");

		yaml_str(b, m);
		xfree(m);
	} else {
		yaml_str(b, sc->reason ? sc->reason : rpt_verdict_str(sc->verdict));
	}
	vbuf_printf(b, "\n  severity: %s\n", sc->verdict == RPT_ERROR ? "error" :
	    sc->known ? "todo" : "fail");
	if (sc->reason != NULL) {
		vbuf_append_str(b, "  reason: ");
		yaml_str(b, sc->reason);
		vbuf_append_byte(b, '\n');
	}
	if (sc->file != NULL) {
		vbuf_append_str(b, "  file: ");
		yaml_str(b, sc->file);
		vbuf_append_byte(b, '\n');
	}
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (f->verdict != RPT_FAIL)
			continue;
		if (nfail++ == 0)
			vbuf_append_str(b, "  findings:\n");
		vbuf_append_str(b, "    - check: ");
		yaml_str(b, f->check);
		vbuf_append_str(b, "\n      refs: ");
		if (f->refs != NULL)
			yaml_str(b, f->refs);
		else
			vbuf_append_str(b, "null");
		vbuf_printf(b, "\n      step: %d\n      message: ", f->step);
		yaml_str(b, f->message);
		vbuf_append_byte(b, '\n');
		if (f->evidence.present) {
			vbuf_append_str(b, "      evidence:\n");
			if (f->evidence.conn > 0)
				vbuf_printf(b, "        connection: %zu\n", f->evidence.conn + 1);
			vbuf_printf(b, "        segment: %zu\n        offset: %zu\n"
			    "        direction: %s\n        excerpt: ", f->evidence.seg, f->evidence.off,
			    cap_dir_str(f->evidence.dir));
			yaml_str(b, f->evidence.excerpt);
			vbuf_append_byte(b, '\n');
		}
		if (f->delivered_file != NULL) {
			vbuf_printf(b, "      delivered:\n        file: ");
			yaml_str(b, f->delivered_file);
			vbuf_printf(b, "\n        offset: %zu\n        excerpt: ", f->delivered_off);
			yaml_str(b, f->delivered_excerpt);
			vbuf_append_byte(b, '\n');
		}
		if (f->known != NULL) {
			vbuf_append_str(b, "      known: ");
			yaml_str(b, f->known);
			vbuf_append_byte(b, '\n');
		}
	}
	vbuf_append_str(b, "  ...\n");
}

static void
test_point(vbuf *b, size_t n, const rpt_scenario *sc)
{
	const rpt_finding *first = NULL;

	for (size_t i = 0; i < sc->nfindings && (first == NULL || first->known != NULL); i++)
		if (sc->findings[i].verdict == RPT_FAIL && (first == NULL || sc->findings[i].known == NULL))
			first = &sc->findings[i];
	vbuf_printf(b, "%s %zu - ", sc->verdict == RPT_PASS || sc->verdict == RPT_SKIP ? "ok" :
	    "not ok", n);
	tap_text(b, sc->id);
	switch (sc->verdict) {
	case RPT_SKIP:
		vbuf_append_str(b, " # SKIP ");
		tap_text(b, sc->reason ? sc->reason : "skipped");
		vbuf_append_byte(b, '\n');
		break;
	case RPT_FAIL:
	case RPT_ERROR:
		if (sc->known && first != NULL) {
			vbuf_append_str(b, " # TODO known failure (baseline): ");
			tap_text(b, first->known);
		}
		vbuf_append_byte(b, '\n');
		yaml_block(b, sc, first);
		break;
	default:
		vbuf_append_byte(b, '\n');
		break;
	}
}

char *
rpt_tap_string(const rpt_run *run)
{
	rpt_summary s = rpt_run_summary(run);
	vbuf b = VBUF_INIT;

	vbuf_printf(&b, "TAP version 13\n1..%zu\n", run->nscenarios);
	for (size_t i = 0; i < run->nscenarios; i++)
		test_point(&b, i + 1, run->scenarios[i]);
	vbuf_printf(&b, "# %zu passed, %zu failed", s.pass, s.fail - s.known + s.error);
	if (s.known > 0)
		vbuf_printf(&b, ", %zu known", s.known);
	if (s.skip > 0)
		vbuf_printf(&b, ", %zu skipped", s.skip);
	vbuf_append_byte(&b, '\n');
	if (run->baseline != NULL) {
		const rpt_baseline *bl = run->baseline;

		for (size_t i = 0; i < bl->n; i++) {
			const rpt_bl_entry *e = &bl->entries[i];

			if (e->status == RPT_BL_KNOWN)
				continue;
			vbuf_printf(&b, "# baseline %s: ", e->status == RPT_BL_FIXED ? "fixed" :
			    "not exercised");
			tap_text(&b, e->scenario ? e->scenario : "(any scenario)");
			vbuf_append_byte(&b, ' ');
			tap_text(&b, e->check);
			vbuf_append_byte(&b, '\n');
		}
	}
	return vbuf_take(&b);
}

int
rpt_tap_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	char *text = rpt_tap_string(run);
	int rc = atomic_file_write(path, text, strlen(text), err, errlen);

	xfree(text);
	return rc;
}
