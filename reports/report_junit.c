/*
 * report_junit - JUnit XML for CI systems (Jenkins, GitLab, GitHub
 * test reporters): a testcase per scenario, named by its id and grouped
 * by area (the id up to its first dot).
 *
 * Every string is sanitized (rpt_sanitize: valid UTF-8, no control bytes)
 * and then XML-escaped, and transcript bytes are shown through rpt_escape,
 * so no byte a peer sends can make the file ill-formed XML 1.0.
 */
#include "reports/report.h"

#include <string.h>
#include <time.h>

#include "harness/util/atomic_file.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"

/* Appends s, sanitized and XML-escaped (quotes too, so it is safe in
 * attributes). NULL appends nothing. */
static void
xml_put(vbuf *b, const char *s)
{
	char *clean;
	const char *p;

	if (s == NULL)
		return;
	clean = rpt_sanitize(s);
	for (p = clean; *p; p++) {
		switch (*p) {
		case '&':
			vbuf_append_str(b, "&amp;");
			break;
		case '<':
			vbuf_append_str(b, "&lt;");
			break;
		case '>':
			vbuf_append_str(b, "&gt;");
			break;
		case '"':
			vbuf_append_str(b, "&quot;");
			break;
		case '\'':
			vbuf_append_str(b, "&apos;");
			break;
		default:
			vbuf_append_byte(b, *p);
		}
	}
	xfree(clean);
}

/* Appends raw bytes escaped with rpt_escape, then XML-escaped. */
static void
xml_put_bytes(vbuf *b, const char *p, size_t len)
{
	char *esc = rpt_escape(p, len);

	xml_put(b, esc);
	xfree(esc);
}

static void
seconds(vbuf *b, uint64_t ms)
{
	vbuf_printf(b, "%llu.%03u", (unsigned long long)(ms / 1000), (unsigned)(ms % 1000));
}

/* "<check> [<refs>] step <n>: <message>" */
static void
finding_head(vbuf *b, const rpt_finding *f)
{
	xml_put(b, f->check);
	if (f->refs != NULL && f->refs[0] != '\0') {
		vbuf_append_str(b, " [");
		xml_put(b, f->refs);
		vbuf_append_str(b, "]");
	}
	if (f->step > 0)
		vbuf_printf(b, " step %d: ", f->step);
	else
		vbuf_append_str(b, " passive: ");
	xml_put(b, f->message);
}

/* The body of <failure> or <error>: every FAIL finding with its evidence. */
static void
failure_body(vbuf *b, const rpt_scenario *sc)
{
	size_t i;

	if (sc->reason != NULL) {
		xml_put(b, sc->reason);
		vbuf_append_byte(b, '\n');
	}
	for (i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (f->verdict != RPT_FAIL)
			continue;
		finding_head(b, f);
		vbuf_append_byte(b, '\n');
		if (f->evidence.present) {
			vbuf_append_str(b, "  evidence: ");
			if (f->evidence.conn > 0)
				vbuf_printf(b, "connection %zu, ", f->evidence.conn + 1);
			vbuf_printf(b, "segment %zu offset %zu (%s): ", f->evidence.seg,
			    f->evidence.off, cap_dir_str(f->evidence.dir));
			xml_put(b, f->evidence.excerpt);
			vbuf_append_byte(b, '\n');
		}
		if (f->delivered_file != NULL) {
			vbuf_append_str(b, "  delivered: ");
			xml_put(b, f->delivered_file);
			vbuf_printf(b, " offset %zu: ", f->delivered_off);
			xml_put(b, f->delivered_excerpt);
			vbuf_append_byte(b, '\n');
		}
		if (f->known != NULL) {
			vbuf_append_str(b, "  known (baseline): ");
			xml_put(b, f->known);
			vbuf_append_byte(b, '\n');
		}
	}
}

/* One data segment as lines: "C: EHLO x". A CRLF ending is implied;
 * any other ending stays visible (\n alone), and bytes that did not end
 * a line within the segment are marked, so a bare LF or a split write is
 * never hidden by the display. */
static void
transcript_data(vbuf *b, const cap_transcript *t, const cap_segment *s)
{
	const vbuf *st = &t->stream[s->dir];
	const char *p, *end, *nl;
	const char *who = s->dir == CAP_C2S ? "C: " : "S: ";
	size_t len;

	if (s->off > st->len)
		return;
	len = s->len <= st->len - s->off ? s->len : st->len - s->off;
	if (len == 0)
		return;
	p = st->data + s->off;
	end = p + len;
	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		vbuf_append_str(b, who);
		if (nl && n >= 2 && p[n - 2] == '\r') {
			xml_put_bytes(b, p, n - 2);
		} else {
			xml_put_bytes(b, p, n);
			if (nl == NULL)
				vbuf_append_str(b, " [no line end]");
		}
		vbuf_append_byte(b, '\n');
		p += n;
	}
}

/* Server role: the client under test and what it delivered, then its
 * stdout (its stderr goes to <system-err>). */
static void
client_text(vbuf *b, const rpt_scenario *sc)
{
	const rpt_received *rc = sc->received;
	const rpt_client *cl = sc->client;
	vbuf t = VBUF_INIT;

	if (rc != NULL) {
		vbuf_printf(&t, "listened on %s; %zu connection%s\n", rc->listen ? rc->listen : "?",
		    rc->connections, rc->connections == 1 ? "" : "s");
		if (rc->mail_from)
			vbuf_printf(&t, "MAIL %s\n", rc->mail_from);
		for (size_t i = 0; i < rc->nrcpts; i++)
			vbuf_printf(&t, "RCPT %s\n", rc->rcpts[i]);
		if (rc->has_message)
			vbuf_printf(&t, "message: %zu octets%s%s\n", rc->message_octets,
			    rc->message_path ? " in " : "", rc->message_path ? rc->message_path : "");
	}
	if (cl != NULL) {
		vbuf_printf(&t, "client: %s\n", cl->cmd ? cl->cmd : "?");
		if (cl->term_signal)
			vbuf_printf(&t, "client ended by signal %d%s\n", cl->term_signal,
			    cl->killed ? " (killed by the harness at a deadline)" : "");
		else if (cl->exited)
			vbuf_printf(&t, "client exit status %d\n", cl->exit_status);
		if (cl->out_len > 0) {
			vbuf_append_str(&t, "client stdout:\n");
			vbuf_append(&t, cl->out, cl->out_len);
			if (cl->out_cut)
				vbuf_append_str(&t, "\n[cut at the output limit]");
			vbuf_append_str(&t, "\n");
		}
	}
	vbuf_append_str(&t, "\n");
	{
		char *text = rpt_sanitize_text(t.data, t.len);

		xml_put(b, text);
		xfree(text);
	}
	vbuf_free(&t);
}

static void
transcript_text(vbuf *b, const cap_transcript *t)
{
	char cbuf[128], sbuf[128];
	size_t i;

	if (t->client.ss_family != 0 || t->server.ss_family != 0) {
		vbuf_append_str(b, "-- client ");
		xml_put(b, t->client.ss_family ? cap_addr_str(&t->client, cbuf, sizeof(cbuf)) : "?");
		vbuf_append_str(b, ", server ");
		xml_put(b, t->server.ss_family ? cap_addr_str(&t->server, sbuf, sizeof(sbuf)) : "?");
		vbuf_append_str(b, " --\n");
	}
	for (i = 0; i < t->nsegs; i++) {
		const cap_segment *s = &t->segs[i];
		const char *side = s->dir == CAP_C2S ? "client" : "server";

		switch (s->kind) {
		case CAP_DATA:
			transcript_data(b, t, s);
			break;
		case CAP_OPEN:
			vbuf_append_str(b, "-- connection open --\n");
			break;
		case CAP_FIN:
			vbuf_printf(b, "-- FIN from %s --\n", side);
			break;
		case CAP_RST:
			vbuf_printf(b, "-- RST from %s --\n", side);
			break;
		case CAP_TLS_START:
			if (t->tls_note != NULL) {
				vbuf_append_str(b, "-- TLS start: ");
				xml_put(b, t->tls_note);
				vbuf_append_str(b, " --\n");
			} else
				vbuf_append_str(b, "-- TLS start --\n");
			break;
		case CAP_GAP:
			vbuf_printf(b, "-- %zu byte(s) from %s missing from the capture --\n",
			    s->len, side);
			break;
		}
	}
	if (t->truncated[CAP_C2S] || t->truncated[CAP_S2C])
		vbuf_append_str(b, "-- transcript truncated at a harness limit --\n");
}

static void
testcase(vbuf *b, const rpt_scenario *sc)
{
	const char *id = sc->id ? sc->id : "";
	const char *dot = strchr(id, '.');
	char *area = dot ? xstrndup(id, (size_t)(dot - id)) : xstrdup(id);
	const rpt_finding *first = NULL;
	size_t i, notes = 0;

	vbuf_append_str(b, "    <testcase classname=\"");
	xml_put(b, area);
	vbuf_append_str(b, "\" name=\"");
	xml_put(b, id);
	vbuf_append_str(b, "\" time=\"");
	seconds(b, sc->duration_ms);
	/* No "file" attribute: Jenkins' schema has none on <testcase>; the
	 * scenario file opens <system-out> instead. */
	vbuf_append_str(b, "\">\n");
	xfree(area);

	/* Name a failure the baseline does not accept, when there is one. */
	for (i = 0; i < sc->nfindings && (first == NULL || first->known != NULL); i++)
		if (sc->findings[i].verdict == RPT_FAIL && (first == NULL || sc->findings[i].known == NULL))
			first = &sc->findings[i];

	switch (sc->known ? RPT_SKIP : sc->verdict) {
	case RPT_FAIL:
		vbuf_append_str(b, "      <failure message=\"");
		if (first != NULL) {
			xml_put(b, first->check);
			if (first->refs != NULL && first->refs[0] != '\0') {
				vbuf_append_str(b, " [");
				xml_put(b, first->refs);
				vbuf_append_str(b, "]");
			}
			vbuf_append_str(b, ": ");
			xml_put(b, first->message);
		} else {
			xml_put(b, sc->reason ? sc->reason : "failed");
		}
		vbuf_append_str(b, "\" type=\"");
		xml_put(b, first ? first->check : "failure");
		vbuf_append_str(b, "\">");
		failure_body(b, sc);
		vbuf_append_str(b, "</failure>\n");
		break;
	case RPT_ERROR:
		vbuf_append_str(b, "      <error message=\"");
		xml_put(b, sc->reason ? sc->reason : "error");
		vbuf_append_str(b, "\" type=\"error\">");
		failure_body(b, sc);
		vbuf_append_str(b, "</error>\n");
		break;
	case RPT_SKIP:
		if (sc->known && first != NULL) {
			/* A known failure does not fail the build: shown as skipped,
			 * the way test runners report an expected failure. */
			vbuf_append_str(b, "      <skipped message=\"known failure (baseline): ");
			xml_put(b, first->check);
			vbuf_append_str(b, ": ");
			xml_put(b, first->known);
			vbuf_append_str(b, "\" type=\"known\">");
			failure_body(b, sc);
			vbuf_append_str(b, "</skipped>\n");
			break;
		}
		vbuf_append_str(b, "      <skipped message=\"");
		xml_put(b, sc->reason ? sc->reason : "skipped");
		vbuf_append_str(b, "\"/>\n");
		break;
	default:
		break;
	}

	for (i = 0; i < sc->nfindings; i++)
		if (sc->findings[i].verdict == RPT_WARN || sc->findings[i].verdict == RPT_INFO)
			notes++;
	if (sc->transcript == NULL && notes == 0 && sc->client == NULL && sc->received == NULL &&
	    sc->file == NULL) {
		vbuf_append_str(b, "    </testcase>\n");
		return;
	}
	vbuf_append_str(b, "      <system-out>");
	if (sc->file != NULL) {
		vbuf_append_str(b, "-- scenario ");
		xml_put(b, sc->file);
		vbuf_append_str(b, " --\n");
	}
	if (sc->received != NULL || sc->client != NULL)
		client_text(b, sc);
	if (sc->transcript != NULL)
		transcript_text(b, sc->transcript);
	for (size_t k = 0; k < sc->nmore; k++) {
		vbuf_printf(b, "-- connection %zu of %zu --\n", k + 2, sc->nmore + 1);
		transcript_text(b, sc->more[k]);
	}
	if (notes > 0) {
		if (sc->transcript != NULL)
			vbuf_append_byte(b, '\n');
		vbuf_append_str(b, "Findings that do not fail the scenario:\n");
		for (i = 0; i < sc->nfindings; i++) {
			const rpt_finding *f = &sc->findings[i];

			if (f->verdict != RPT_WARN && f->verdict != RPT_INFO)
				continue;
			vbuf_printf(b, "%s ", rpt_verdict_str(f->verdict));
			finding_head(b, f);
			vbuf_append_byte(b, '\n');
		}
	}
	vbuf_append_str(b, "</system-out>\n");
	if (sc->client != NULL && sc->client->err_len > 0) {
		char *text = rpt_sanitize_text(sc->client->err, sc->client->err_len);

		vbuf_append_str(b, "      <system-err>");
		xml_put(b, text);
		if (sc->client->err_cut)
			xml_put(b, "\n[cut at the output limit]\n");
		vbuf_append_str(b, "</system-err>\n");
		xfree(text);
	}
	vbuf_append_str(b, "    </testcase>\n");
}

/* The baseline file, and each entry that no longer fails or was not
 * exercised: "baseline.fixed" = "scenario check". */
static void
baseline_properties(vbuf *b, const rpt_baseline *bl)
{
	vbuf_append_str(b, "      <property name=\"baseline\" value=\"");
	xml_put(b, bl->file);
	vbuf_append_str(b, "\"/>\n");
	for (size_t i = 0; i < bl->n; i++) {
		const rpt_bl_entry *e = &bl->entries[i];

		if (e->status == RPT_BL_KNOWN)
			continue;
		vbuf_printf(b, "      <property name=\"baseline.%s\" value=\"",
		    rpt_bl_status_str(e->status));
		xml_put(b, e->scenario ? e->scenario : "*");
		vbuf_append_str(b, " ");
		xml_put(b, e->check);
		vbuf_append_str(b, "\"/>\n");
	}
}

char *
rpt_junit_string(const rpt_run *run)
{
	rpt_summary s = rpt_run_summary(run);
	vbuf b = VBUF_INIT;
	vbuf counts = VBUF_INIT;
	char stamp[32];
	time_t secs = (time_t)(run->started_us / 1000000);
	struct tm tm;
	size_t i;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "1970-01-01T00:00:00");

	vbuf_printf(&counts, "tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"",
	    run->nscenarios, s.fail - s.known, s.error);

	/* Jenkins' schema (reports/junit-10.xsd) has "skipped" on
	 * <testsuite> only; the xUnit plugin rejects it on <testsuites>. */
	vbuf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	vbuf_printf(&b, "<testsuites name=\"smtp-harness\" %s time=\"", vbuf_str(&counts));
	seconds(&b, run->duration_ms);
	vbuf_append_str(&b, "\">\n");
	vbuf_printf(&b, "  <testsuite name=\"smtp-harness conformance\" %s skipped=\"%zu\" time=\"",
	    vbuf_str(&counts), s.skip + s.known);
	seconds(&b, run->duration_ms);
	vbuf_printf(&b, "\" timestamp=\"%s\"", stamp);
	vbuf_append_str(&b, ">\n");
	if (run->target != NULL || run->baseline != NULL) {
		vbuf_append_str(&b, "    <properties>\n");
		if (run->target != NULL) {
			vbuf_append_str(&b, "      <property name=\"target\" value=\"");
			xml_put(&b, run->target);
			vbuf_append_str(&b, "\"/>\n");
		}
		if (run->baseline != NULL)
			baseline_properties(&b, run->baseline);
		vbuf_append_str(&b, "    </properties>\n");
	}
	for (i = 0; i < run->nscenarios; i++)
		testcase(&b, run->scenarios[i]);
	vbuf_append_str(&b, "  </testsuite>\n</testsuites>\n");
	vbuf_free(&counts);
	return vbuf_take(&b);
}

int
rpt_junit_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	char *xml = rpt_junit_string(run);
	int rc = atomic_file_write(path, xml, strlen(xml), err, errlen);

	xfree(xml);
	return rc;
}
