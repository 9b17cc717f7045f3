/*
 * report_html - one self-contained HTML page for a person to read: no
 * script, no font, no image is fetched; the style and every diagram are
 * inline, and the page reads the same with JavaScript off.
 *
 *   summary     counts, then the same counts by area (a scenario id's
 *               first component: "pipelining", "smuggling", "client")
 *   profile     every catalog id the run exercised, with its worst
 *               verdict, its keyword and RFC section (from run->catalog)
 *   scenarios   failing first; each with its findings, numbered, and a
 *               ladder diagram of its transcript as inline SVG: one
 *               arrow per data segment with its time since the first
 *               segment, open/FIN/RST/TLS marked, and each finding's
 *               number on the segment its evidence points at
 *
 * Everything a peer sent goes through rpt_escape (segment bytes) or
 * rpt_sanitize (other strings), then HTML escaping; the page is also
 * well-formed XML, so XML tools can check it. A diagram draws at most
 * HARNESS_HTML_ARROWS_MAX segments and says how many it left out.
 */
#include "reports/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"

/* Ladder geometry, in SVG user units (pixels). */
#define LAD_X_CLIENT	170
#define LAD_X_SERVER	790
#define LAD_X_MARK	818
#define LAD_MARK_STEP	22
#define LAD_ROW		26
#define LAD_TOP		52
#define LAD_WIDTH	980

static const char style[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.5em 0 .4em}"
    "table{border-collapse:collapse;margin:.3em 0}"
    "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}td.n{text-align:right}"
    "code,pre,.mono{font-family:monospace}pre{background:#f7f7f7;padding:4px;"
    "white-space:pre-wrap;word-break:break-all;max-height:20em;overflow:auto}"
    ".v{font-weight:bold;padding:0 4px;border-radius:3px;color:#fff}"
    ".v.PASS{background:#2a7d2e}.v.FAIL{background:#c62828}.v.ERROR{background:#e65100}"
    ".v.SKIP{background:#757575}.v.WARN{background:#b8860b}.v.INFO{background:#1565c0}"
    ".v.KNOWN{background:#8e6a9e}"
    "details.scenario{border:1px solid #ccc;border-radius:4px;margin:.5em 0;padding:.3em .6em}"
    "details.scenario>summary{cursor:pointer}"
    "ol.findings{list-style:none;padding-left:1em}ol.findings li{margin:.2em 0}.num{display:inline-block;min-width:1.4em;text-align:center;"
    "border-radius:50%;background:#c62828;color:#fff;font-weight:bold}"
    ".num.WARN{background:#b8860b}.num.INFO{background:#1565c0}"
    ".more,.note{color:#666;font-style:italic}"
    "svg.ladder{display:block;margin:.5em 0;font:12px monospace}"
    "svg .lane{stroke:#555;stroke-width:2}svg .head{font:bold 13px sans-serif}"
    "svg .t{fill:#666}svg .arrow line{stroke:#333;stroke-width:1.3}svg .arrow path{fill:#333}"
    "svg .arrow.s2c line{stroke:#1565c0}svg .arrow.s2c path{fill:#1565c0}"
    "svg .flagged line{stroke:#c62828;stroke-width:2.5}svg .flagged path{fill:#c62828}"
    "svg .flagged text{fill:#c62828}"
    "svg .event line{stroke:#888;stroke-dasharray:4 3}svg .event text{fill:#555}"
    "svg .event rect{fill:#555}svg .event.rst rect{fill:#c62828}svg .event.rst text{fill:#c62828}"
    "svg .mark circle{fill:#c62828}svg .mark.WARN circle{fill:#b8860b}"
    "svg .mark.INFO circle{fill:#1565c0}svg .mark text{fill:#fff;font:bold 11px sans-serif}";

/* Appends clean ASCII or UTF-8 text with & < > " ' escaped. */
static void
esc(vbuf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&': vbuf_append_str(b, "&amp;"); break;
		case '<': vbuf_append_str(b, "&lt;"); break;
		case '>': vbuf_append_str(b, "&gt;"); break;
		case '"': vbuf_append_str(b, "&quot;"); break;
		case '\'': vbuf_append_str(b, "&#39;"); break;
		default: vbuf_append_byte(b, *s); break;
		}
	}
}

/* A string that may hold peer bytes; NULL appends nothing. */
static void
str(vbuf *b, const char *s)
{
	char *clean;

	if (s == NULL)
		return;
	clean = rpt_sanitize(s);
	esc(b, clean);
	xfree(clean);
}

/* Raw bytes shown as rpt_escape shows them (\r, \n, \xHH). */
static void
bytes(vbuf *b, const char *p, size_t len)
{
	char *e = rpt_escape(p, len);

	esc(b, e);
	xfree(e);
}

static const char *
verdict_class(const rpt_scenario *sc)
{
	return sc->known ? "KNOWN" : rpt_verdict_str(sc->verdict);
}

/* Failing first: FAIL, ERROR, known FAIL, SKIP, PASS. */
static int
rank(const rpt_scenario *sc)
{
	switch (sc->verdict) {
	case RPT_FAIL: return sc->known ? 2 : 0;
	case RPT_ERROR: return 1;
	case RPT_SKIP: return 3;
	default: return 4;
	}
}

static int
severity(rpt_verdict v)
{
	switch (v) {
	case RPT_FAIL: return 3;
	case RPT_WARN: return 2;
	case RPT_INFO: return 1;
	default: return 0;
	}
}

/* ---- summary ---------------------------------------------------------- */

typedef struct area {
	char *name;
	size_t n[5];		/* by rpt_verdict PASS..SKIP; [4] known FAILs */
} area;

static void
summary(vbuf *b, const rpt_run *run)
{
	rpt_summary s = rpt_run_summary(run);
	area *areas = NULL;
	size_t nareas = 0, cap = 0;

	vbuf_append_str(b, "<section id=\"summary\"><h2>Summary</h2>\n<table class=\"counts\"><tr>"
	    "<th>scenarios</th><th>passed</th><th>failed</th><th>known</th><th>errors</th>"
	    "<th>skipped</th><th>warnings</th></tr>\n");
	vbuf_printf(b, "<tr><td class=\"n\">%zu</td><td class=\"n pass\">%zu</td>"
	    "<td class=\"n fail\">%zu</td><td class=\"n\">%zu</td><td class=\"n error\">%zu</td>"
	    "<td class=\"n skip\">%zu</td><td class=\"n\">%zu</td></tr></table>\n",
	    run->nscenarios, s.pass, s.fail - s.known, s.known, s.error, s.skip, s.warnings);

	for (size_t i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];
		size_t len = strcspn(sc->id, "."), k;

		for (k = 0; k < nareas; k++)
			if (strlen(areas[k].name) == len && strncmp(areas[k].name, sc->id, len) == 0)
				break;
		if (k == nareas) {
			areas = xgrow(areas, &cap, nareas + 1, sizeof(*areas));
			memset(&areas[nareas], 0, sizeof(*areas));
			areas[nareas++].name = xstrndup(sc->id, len);
		}
		/* As in the counts above: a known FAIL is not "failed". */
		if (sc->verdict == RPT_FAIL && sc->known)
			areas[k].n[4]++;
		else if (sc->verdict <= RPT_SKIP)
			areas[k].n[sc->verdict]++;
	}
	vbuf_append_str(b, "<table id=\"areas\"><tr><th>area</th><th>passed</th><th>failed</th>"
	    "<th>known</th><th>errors</th><th>skipped</th></tr>\n");
	for (size_t k = 0; k < nareas; k++) {
		vbuf_append_str(b, "<tr><td>");
		str(b, areas[k].name);
		vbuf_printf(b, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
		    "<td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>\n",
		    areas[k].n[RPT_PASS], areas[k].n[RPT_FAIL], areas[k].n[4], areas[k].n[RPT_ERROR],
		    areas[k].n[RPT_SKIP]);
		xfree(areas[k].name);
	}
	vbuf_append_str(b, "</table>\n");
	xfree(areas);

	if (run->baseline != NULL) {
		size_t known, fixed, unexercised;

		rpt_baseline_counts(run->baseline, &known, &fixed, &unexercised);
		vbuf_append_str(b, "<p>Baseline <code>");
		str(b, run->baseline->file);
		vbuf_printf(b, "</code>: %zu still failing, %zu fixed, %zu not exercised.</p>\n",
		    known, fixed, unexercised);
	}
	vbuf_append_str(b, "</section>\n");
}

/* ---- conformance profile ---------------------------------------------- */

typedef struct prof {
	const char *check;
	rpt_verdict verdict;
	size_t scenarios;
} prof;

static int
prof_cmp(const void *a, const void *b)
{
	return strcmp(((const prof *)a)->check, ((const prof *)b)->check);
}

static void
profile(vbuf *b, const rpt_run *run)
{
	prof *p = NULL;
	size_t n = 0, cap = 0, out = 0;

	for (size_t i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		for (size_t k = 0; k < sc->nexercised; k++) {
			p = xgrow(p, &cap, n + 1, sizeof(*p));
			p[n].check = sc->exercised[k].check;
			p[n].verdict = sc->exercised[k].verdict;
			p[n++].scenarios = 1;
		}
	}
	if (n > 0)
		qsort(p, n, sizeof(*p), prof_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && strcmp(p[out - 1].check, p[i].check) == 0) {
			if (severity(p[i].verdict) > severity(p[out - 1].verdict))
				p[out - 1].verdict = p[i].verdict;
			p[out - 1].scenarios++;
		} else {
			p[out++] = p[i];
		}
	}

	vbuf_printf(b, "<section id=\"profile\"><h2>Conformance profile</h2>\n"
	    "<p>%zu checks exercised; the worst verdict any scenario gave each.</p>\n"
	    "<table id=\"profile-table\"><tr><th>check</th><th>verdict</th><th>keyword</th>"
	    "<th>RFC section</th><th>scenarios</th></tr>\n", out);
	for (size_t i = 0; i < out; i++) {
		const char *kw = NULL, *refs = NULL;

		if (run->catalog == NULL || run->catalog(p[i].check, &kw, &refs) != 0)
			kw = refs = NULL;
		vbuf_append_str(b, "<tr><td class=\"mono\">");
		str(b, p[i].check);
		vbuf_printf(b, "</td><td><span class=\"v %s\">%s</span></td><td>",
		    rpt_verdict_str(p[i].verdict), rpt_verdict_str(p[i].verdict));
		str(b, kw ? kw : "(not in the catalog)");
		vbuf_append_str(b, "</td><td>");
		str(b, refs);
		vbuf_printf(b, "</td><td class=\"n\">%zu</td></tr>\n", p[i].scenarios);
	}
	vbuf_append_str(b, "</table></section>\n");
	xfree(p);
}

/* ---- ladder diagram ---------------------------------------------------- */

/* The arrow's label: the first line, at most HARNESS_HTML_LABEL_MAX
 * bytes, and how many more lines the segment holds. */
static void
arrow_label(vbuf *b, const char *p, size_t len)
{
	size_t line = 0, lines = 0;

	while (line < len && p[line] != '\r' && p[line] != '\n')
		line++;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && i + 1 < len)
			lines++;
	bytes(b, p, line < HARNESS_HTML_LABEL_MAX ? line : HARNESS_HTML_LABEL_MAX);
	if (line > HARNESS_HTML_LABEL_MAX)
		vbuf_append_str(b, "...");
	if (lines > 0)
		vbuf_printf(b, " (+%zu %s)", lines, lines == 1 ? "line" : "lines");
}

/* Finding numbers (1-based) on segment seg, drawn at row y. */
/* Whether finding f points at segment seg of connection conn. */
static int
points_at(const rpt_finding *f, size_t conn, size_t seg)
{
	return f->evidence.present && f->evidence.conn == conn && f->evidence.seg == seg;
}

static void
marks(vbuf *b, const rpt_scenario *sc, size_t conn, size_t seg, int y)
{
	int j = 0;

	for (size_t k = 0; k < sc->nfindings; k++) {
		const rpt_finding *f = &sc->findings[k];
		int x = LAD_X_MARK + j * LAD_MARK_STEP;

		if (!points_at(f, conn, seg))
			continue;
		vbuf_printf(b, "<g class=\"mark %s\" data-finding=\"%zu\"><title>%zu. %s ",
		    rpt_verdict_str(f->verdict), k + 1, k + 1, rpt_verdict_str(f->verdict));
		str(b, f->check);
		vbuf_append_str(b, ": ");
		str(b, f->message);
		vbuf_printf(b, "</title><circle cx=\"%d\" cy=\"%d\" r=\"9\"/>"
		    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu</text></g>\n",
		    x, y, x, y + 4, k + 1);
		j++;
	}
}

static size_t
marks_on(const rpt_scenario *sc, size_t conn, size_t seg)
{
	size_t n = 0;

	for (size_t k = 0; k < sc->nfindings; k++)
		n += (size_t)points_at(&sc->findings[k], conn, seg);
	return n;
}

static void
ladder_event(vbuf *b, const cap_segment *s, size_t i, int y, int flag)
{
	const char *who = s->dir == CAP_C2S ? "client" : "server";
	int lane = s->dir == CAP_C2S ? LAD_X_CLIENT : LAD_X_SERVER;
	int tx = s->dir == CAP_C2S ? lane + 12 : lane - 12;
	const char *anchor = s->dir == CAP_C2S ? "start" : "end";

	switch (s->kind) {
	case CAP_OPEN:
	case CAP_TLS_START:
		vbuf_printf(b, "<g class=\"event %s%s\" data-seg=\"%zu\"><title>#%zu %s</title>"
		    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>\n",
		    cap_kind_str(s->kind), flag ? " flagged" : "", i, i,
		    s->kind == CAP_OPEN ? "connection opened" : "TLS handshake starts",
		    LAD_X_CLIENT, y + 5, LAD_X_SERVER, y + 5, (LAD_X_CLIENT + LAD_X_SERVER) / 2, y,
		    s->kind == CAP_OPEN ? "connection opened" : "TLS starts");
		break;
	default:
		vbuf_printf(b, "<g class=\"event %s %s%s\" data-seg=\"%zu\"><title>#%zu %s from the %s"
		    "</title><rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\"/>"
		    "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\">%s (%s)</text></g>\n",
		    cap_kind_str(s->kind), s->dir == CAP_C2S ? "c2s" : "s2c", flag ? " flagged" : "",
		    i, i, s->kind == CAP_RST ? "RST" : "FIN", who, lane - 6, y - 2, tx, y + 8, anchor,
		    s->kind == CAP_RST ? "RST" : "FIN", who);
		break;
	}
}

static void
ladder_arrow(vbuf *b, const cap_transcript *t, const cap_segment *s, size_t i, int y, int flag)
{
	const vbuf *st = &t->stream[s->dir];
	const char *p = s->off <= st->len ? st->data + s->off : "";
	size_t len = s->off <= st->len && s->len <= st->len - s->off ? s->len : 0;
	int from = s->dir == CAP_C2S ? LAD_X_CLIENT : LAD_X_SERVER;
	int to = s->dir == CAP_C2S ? LAD_X_SERVER : LAD_X_CLIENT;
	int head = s->dir == CAP_C2S ? -9 : 9;

	vbuf_printf(b, "<g class=\"arrow %s%s\" data-seg=\"%zu\"><title>#%zu %s, %zu bytes: ",
	    s->dir == CAP_C2S ? "c2s" : "s2c", flag ? " flagged" : "", i, i, cap_dir_str(s->dir),
	    len);
	bytes(b, p, len < HARNESS_HTML_TITLE_MAX ? len : HARNESS_HTML_TITLE_MAX);
	if (len > HARNESS_HTML_TITLE_MAX)
		vbuf_append_str(b, "...");
	vbuf_printf(b, "</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "<path d=\"M%d,%d l%d,-4 v8 z\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
	    from, y + 5, to, y + 5, to, y + 5, head, (LAD_X_CLIENT + LAD_X_SERVER) / 2, y);
	arrow_label(b, p, len);
	vbuf_append_str(b, "</text></g>\n");
}

/* The ladder of connection conn (0: the scenario's transcript). */
static void
ladder(vbuf *b, const rpt_scenario *sc, size_t conn)
{
	const cap_transcript *t = rpt_scenario_conn(sc, conn);
	size_t ndraw = t->nsegs < HARNESS_HTML_ARROWS_MAX ? t->nsegs : HARNESS_HTML_ARROWS_MAX;
	size_t most = 0;
	int height = LAD_TOP + (int)ndraw * LAD_ROW + 10, width = LAD_WIDTH;
	char ca[128], sa[128];

	for (size_t i = 0; i < ndraw; i++)
		if (marks_on(sc, conn, i) > most)
			most = marks_on(sc, conn, i);
	if (LAD_X_MARK + (int)most * LAD_MARK_STEP + 10 > width)
		width = LAD_X_MARK + (int)most * LAD_MARK_STEP + 10;
	vbuf_printf(b, "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>session of ", width, height,
	    width, height);
	str(b, sc->id);
	vbuf_printf(b, "</title>\n<text class=\"head\" x=\"%d\" y=\"18\" text-anchor=\"middle\">"
	    "client</text><text class=\"head\" x=\"%d\" y=\"18\" text-anchor=\"middle\">server</text>\n"
	    "<text class=\"t\" x=\"%d\" y=\"34\" text-anchor=\"middle\">%s</text>"
	    "<text class=\"t\" x=\"%d\" y=\"34\" text-anchor=\"middle\">%s</text>\n"
	    "<line class=\"lane\" x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"%d\"/>"
	    "<line class=\"lane\" x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"%d\"/>\n",
	    LAD_X_CLIENT, LAD_X_SERVER, LAD_X_CLIENT, cap_addr_str(&t->client, ca, sizeof(ca)),
	    LAD_X_SERVER, cap_addr_str(&t->server, sa, sizeof(sa)), LAD_X_CLIENT, LAD_X_CLIENT,
	    height - 4, LAD_X_SERVER, LAD_X_SERVER, height - 4);
	for (size_t i = 0; i < ndraw; i++) {
		const cap_segment *s = &t->segs[i];
		int y = LAD_TOP + (int)i * LAD_ROW + LAD_ROW / 2;
		uint64_t rel = s->ts_us > t->segs[0].ts_us ? s->ts_us - t->segs[0].ts_us : 0;
		int flag = marks_on(sc, conn, i) > 0;

		vbuf_printf(b, "<text class=\"t\" x=\"4\" y=\"%d\">+%" PRIu64 ".%03" PRIu64 " ms</text>\n",
		    y + 4, rel / 1000, rel % 1000);
		if (s->kind == CAP_DATA)
			ladder_arrow(b, t, s, i, y, flag);
		else
			ladder_event(b, s, i, y, flag);
		marks(b, sc, conn, i, y + 5);
	}
	vbuf_append_str(b, "</svg>\n");
	if (t->nsegs > ndraw)
		vbuf_printf(b, "<p class=\"more\">%zu more segments not drawn (a diagram draws at most "
		    "%d).</p>\n", t->nsegs - ndraw, HARNESS_HTML_ARROWS_MAX);
	if (t->truncated[0] || t->truncated[1])
		vbuf_append_str(b, "<p class=\"note\">The transcript was cut at a size limit; "
		    "what came after is not in it.</p>\n");
}

/* ---- scenarios ---------------------------------------------------------- */

static void
findings(vbuf *b, const rpt_scenario *sc, size_t n)
{
	if (sc->nfindings == 0)
		return;
	vbuf_append_str(b, "<ol class=\"findings\">\n");
	for (size_t k = 0; k < sc->nfindings; k++) {
		const rpt_finding *f = &sc->findings[k];
		const char *v = rpt_verdict_str(f->verdict);

		vbuf_printf(b, "<li id=\"s%zu-f%zu\" class=\"finding %s\"><span class=\"num %s\">%zu"
		    "</span> <span class=\"v %s\">%s</span> <code>", n, k + 1, v, v, k + 1, v, v);
		str(b, f->check);
		vbuf_append_str(b, "</code>");
		if (f->refs != NULL && f->refs[0] != '\0') {
			vbuf_append_str(b, " [");
			str(b, f->refs);
			vbuf_append_byte(b, ']');
		}
		if (f->step > 0)
			vbuf_printf(b, " step %d: ", f->step);
		else
			vbuf_append_str(b, " passive: ");
		str(b, f->message);
		if (f->evidence.present) {
			const cap_transcript *t = rpt_scenario_conn(sc, f->evidence.conn);
			size_t ndraw = t == NULL ? 0 : t->nsegs < HARNESS_HTML_ARROWS_MAX ? t->nsegs :
			    HARNESS_HTML_ARROWS_MAX;

			vbuf_append_str(b, "<br/>evidence: ");
			if (sc->nmore > 0)
				vbuf_printf(b, "connection %zu, ", f->evidence.conn + 1);
			vbuf_printf(b, "segment %zu offset %zu (%s)%s: <code>",
			    f->evidence.seg, f->evidence.off, cap_dir_str(f->evidence.dir),
			    f->evidence.seg < ndraw ? "" : ", not drawn");
			str(b, f->evidence.excerpt);
			vbuf_append_str(b, "</code>");
		}
		if (f->delivered_file != NULL) {
			vbuf_append_str(b, "<br/>delivered: ");
			str(b, f->delivered_file);
			vbuf_printf(b, " offset %zu: <code>", f->delivered_off);
			str(b, f->delivered_excerpt);
			vbuf_append_str(b, "</code>");
		}
		if (f->known != NULL) {
			vbuf_append_str(b, "<br/>known (baseline): ");
			str(b, f->known);
		}
		vbuf_append_str(b, "</li>\n");
	}
	vbuf_append_str(b, "</ol>\n");
}

static void
output(vbuf *b, const char *what, const char *text, size_t len, int cut)
{
	char *clean;

	if (len == 0)
		return;
	clean = rpt_sanitize_text(text, len);
	vbuf_printf(b, "<p>client %s%s:</p><pre class=\"client-%s\">", what,
	    cut ? " (the start; more was written)" : "", what);
	esc(b, clean);
	vbuf_append_str(b, "</pre>\n");
	xfree(clean);
}

static void
client(vbuf *b, const rpt_client *cl)
{
	vbuf_append_str(b, "<div class=\"client\"><p>client under test: <code>");
	str(b, cl->cmd);
	vbuf_append_str(b, "</code> ");
	if (!cl->exited)
		vbuf_append_str(b, "(did not end)");
	else if (cl->term_signal != 0)
		vbuf_printf(b, "(ended by signal %d%s)", cl->term_signal,
		    cl->killed ? ", killed at the deadline" : "");
	else
		vbuf_printf(b, "(exit status %d)", cl->exit_status);
	vbuf_printf(b, ", %" PRIu64 " ms</p>\n", cl->duration_ms);
	output(b, "stdout", cl->out, cl->out_len, cl->out_cut);
	output(b, "stderr", cl->err, cl->err_len, cl->err_cut);
	vbuf_append_str(b, "</div>\n");
}

static void
received(vbuf *b, const rpt_received *r)
{
	vbuf_printf(b, "<p class=\"received\">listened on <code>");
	str(b, r->listen);
	vbuf_printf(b, "</code>, %zu connection%s", r->connections, r->connections == 1 ? "" : "s");
	if (r->mail_from != NULL) {
		vbuf_append_str(b, "; last MAIL <code>");
		str(b, r->mail_from);
		vbuf_printf(b, "</code> with %zu RCPT", r->nrcpts);
	}
	if (r->has_message)
		vbuf_printf(b, "; a message of %zu octets", r->message_octets);
	vbuf_append_str(b, "</p>\n");
}

static void
scenario(vbuf *b, const rpt_scenario *sc, size_t n)
{
	const char *v = verdict_class(sc);

	vbuf_printf(b, "<details class=\"scenario %s\" id=\"s%zu\"%s><summary><span class=\"v %s\">"
	    "%s</span> <b class=\"mono\">", v, n, rank(sc) <= 1 ? " open=\"open\"" : "", v, v);
	str(b, sc->id);
	vbuf_printf(b, "</b> (%" PRIu64 " ms) ", sc->duration_ms);
	str(b, sc->summary);
	vbuf_append_str(b, "</summary>\n<p>");
	if (sc->file != NULL) {
		vbuf_append_str(b, "file <code>");
		str(b, sc->file);
		vbuf_append_str(b, "</code>");
	}
	for (size_t i = 0; i < sc->nrefs; i++) {
		vbuf_append_str(b, i == 0 ? "; refs " : ", ");
		str(b, sc->refs[i]);
	}
	if (sc->capture_path != NULL) {
		vbuf_append_str(b, "; capture <code>");
		str(b, sc->capture_path);
		vbuf_append_str(b, "</code>");
	}
	vbuf_append_str(b, "</p>\n");
	if (sc->reason != NULL) {
		vbuf_append_str(b, "<p class=\"reason\">");
		str(b, sc->reason);
		vbuf_append_str(b, "</p>\n");
	}
	findings(b, sc, n);
	if (sc->client != NULL)
		client(b, sc->client);
	if (sc->received != NULL)
		received(b, sc->received);
	if (sc->transcript != NULL && sc->transcript->nsegs > 0) {
		for (size_t conn = 0; conn <= sc->nmore; conn++) {
			const cap_transcript *t = rpt_scenario_conn(sc, conn);

			if (sc->nmore > 0)
				vbuf_printf(b, "<h4 class=\"conn\">connection %zu of %zu</h4>\n", conn + 1,
				    sc->nmore + 1);
			if (t != NULL && t->nsegs > 0)
				ladder(b, sc, conn);
			else
				vbuf_append_str(b, "<p class=\"note\">No transcript.</p>\n");
		}
	} else {
		vbuf_append_str(b, "<p class=\"note\">No transcript.</p>\n");
	}
	vbuf_append_str(b, "</details>\n");
}

typedef struct ord {
	int rank;
	size_t idx;		/* in run order */
} ord;

static int
ord_cmp(const void *a, const void *b)
{
	const ord *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

char *
rpt_html_string(const rpt_run *run)
{
	vbuf b = VBUF_INIT;
	ord *order;
	char when[32] = "";
	time_t secs = (time_t)(run->started_us / 1000000);
	struct tm tm;

	if (run->started_us > 0 && gmtime_r(&secs, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	vbuf_append_str(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
	    "<title>smtp-harness report: ");
	str(&b, run->target);
	vbuf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n<h1>smtp-harness report</h1>\n"
	    "<p>target <code>", style);
	str(&b, run->target);
	vbuf_printf(&b, "</code>; started %s; %" PRIu64 " ms", when[0] ? when : "(unknown)",
	    run->duration_ms);
	if (run->seeded)
		vbuf_printf(&b, "; random faults drawn with --seed %" PRIu32, run->seed);
	vbuf_append_str(&b, "</p>\n");
	summary(&b, run);
	profile(&b, run);

	vbuf_append_str(&b, "<section id=\"scenarios\"><h2>Scenarios</h2>\n");
	order = xcalloc(run->nscenarios + 1, sizeof(*order));
	for (size_t i = 0; i < run->nscenarios; i++) {
		order[i].rank = rank(run->scenarios[i]);
		order[i].idx = i;
	}
	if (run->nscenarios > 0)
		qsort(order, run->nscenarios, sizeof(*order), ord_cmp);
	/* Anchors number scenarios in run order: s1 is the first that ran. */
	for (size_t i = 0; i < run->nscenarios; i++)
		scenario(&b, run->scenarios[order[i].idx], order[i].idx + 1);
	xfree(order);
	vbuf_append_str(&b, "</section>\n</body></html>\n");
	return vbuf_take(&b);
}

int
rpt_html_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	char *text = rpt_html_string(run);
	int rc = atomic_file_write(path, text, strlen(text), err, errlen);

	xfree(text);
	return rc;
}
