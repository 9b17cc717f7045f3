/*
 * report_json - the machine-readable report, documented field by field in
 * docs/reports.md (CI tools and `smtp-harness diff` read it).
 *
 * Strings go through rpt_sanitize so the file is always valid UTF-8;
 * transcript bytes go through rpt_escape so they are plain ASCII. Field
 * names and enumerated values are part of the contract: add, never rename.
 */
#include "reports/report.h"

#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "harness/util/atomic_file.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"

#ifndef HARNESS_VERSION
#define HARNESS_VERSION "0.1.0"
#endif

/* Adds s (sanitized) under name, or null when s is NULL. */
static void
add_str(cJSON *obj, const char *name, const char *s)
{
	char *clean;

	if (s == NULL) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	clean = rpt_sanitize(s);
	cJSON_AddStringToObject(obj, name, clean);
	xfree(clean);
}

static void
add_num(cJSON *obj, const char *name, double v)
{
	cJSON_AddNumberToObject(obj, name, v);
}

/* "2024-05-01T10:00:00.123Z" */
static void
iso8601(uint64_t us, char *buf, size_t len)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03uZ",
	    (unsigned)(us % 1000000 / 1000));
}

static void
add_addr(cJSON *obj, const char *name, const struct sockaddr_storage *ss)
{
	char buf[128];

	if (ss->ss_family == 0) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	add_str(obj, name, cap_addr_str(ss, buf, sizeof(buf)));
}

static cJSON *
transcript_json(const cap_transcript *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *segs;
	uint64_t t0 = t->nsegs ? t->segs[0].ts_us : 0;
	size_t i;

	add_addr(o, "client", &t->client);
	add_addr(o, "server", &t->server);
	cJSON_AddBoolToObject(o, "truncated", t->truncated[CAP_C2S] || t->truncated[CAP_S2C]);
	segs = cJSON_AddArrayToObject(o, "segments");
	for (i = 0; i < t->nsegs; i++) {
		const cap_segment *s = &t->segs[i];
		cJSON *j = cJSON_CreateObject();

		/* Clocks can step back; never print a huge unsigned wrap. */
		add_num(j, "t_us", s->ts_us >= t0 ? (double)(s->ts_us - t0) : 0);
		cJSON_AddStringToObject(j, "dir", cap_dir_str(s->dir));
		cJSON_AddStringToObject(j, "kind", cap_kind_str(s->kind));
		add_num(j, "offset", (double)s->off);
		add_num(j, "length", (double)s->len);
		if (s->kind == CAP_DATA) {
			const vbuf *st = &t->stream[s->dir];
			size_t n = 0;
			char *esc;

			if (s->off <= st->len)
				n = s->len <= st->len - s->off ? s->len : st->len - s->off;
			esc = rpt_escape(n ? st->data + s->off : NULL, n);
			cJSON_AddStringToObject(j, "data", esc);
			xfree(esc);
		}
		if (s->kind == CAP_TLS_START) {
			cJSON_AddBoolToObject(j, "tls_plaintext", t->tls_plaintext != 0);
			if (t->tls_note != NULL) {
				char *esc = rpt_escape(t->tls_note, strlen(t->tls_note));

				cJSON_AddStringToObject(j, "tls", esc);
				xfree(esc);
			}
		}
		cJSON_AddItemToArray(segs, j);
	}
	return o;
}

static cJSON *
finding_json(const rpt_finding *f)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "check", f->check);
	cJSON_AddStringToObject(o, "verdict", rpt_verdict_str(f->verdict));
	add_str(o, "refs", f->refs);
	add_num(o, "step", f->step);
	add_str(o, "message", f->message);
	if (f->evidence.present) {
		cJSON *ev = cJSON_AddObjectToObject(o, "evidence");

		add_num(ev, "connection", (double)f->evidence.conn + 1);
		add_num(ev, "segment", (double)f->evidence.seg);
		add_num(ev, "offset", (double)f->evidence.off);
		cJSON_AddStringToObject(ev, "direction", cap_dir_str(f->evidence.dir));
		add_str(ev, "excerpt", f->evidence.excerpt ? f->evidence.excerpt : "");
	} else {
		cJSON_AddNullToObject(o, "evidence");
	}
	if (f->delivered_file != NULL) {
		cJSON *dv = cJSON_AddObjectToObject(o, "delivered");

		add_str(dv, "file", f->delivered_file);
		add_num(dv, "offset", (double)f->delivered_off);
		add_str(dv, "excerpt", f->delivered_excerpt ? f->delivered_excerpt : "");
	}
	add_str(o, "known", f->known);
	return o;
}

/* Server role: where the harness listened and what the client delivered. */
static cJSON *
received_json(const rpt_received *rc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	add_str(o, "listen", rc->listen);
	add_num(o, "connections", (double)rc->connections);
	add_str(o, "mail_from", rc->mail_from);
	arr = cJSON_AddArrayToObject(o, "rcpt_to");
	for (size_t i = 0; i < rc->nrcpts; i++) {
		char *clean = rpt_sanitize(rc->rcpts[i]);

		cJSON_AddItemToArray(arr, cJSON_CreateString(clean));
		xfree(clean);
	}
	if (rc->has_message)
		add_num(o, "message_octets", (double)rc->message_octets);
	else
		cJSON_AddNullToObject(o, "message_octets");
	add_str(o, "message", rc->message_path);
	return o;
}

/* Server role: the client under test, as run. */
static cJSON *
client_json(const rpt_client *cl)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	add_str(o, "cmd", cl->cmd);
	if (cl->exited && cl->term_signal == 0)
		add_num(o, "exit_status", cl->exit_status);
	else
		cJSON_AddNullToObject(o, "exit_status");
	if (cl->term_signal != 0)
		add_num(o, "signal", cl->term_signal);
	else
		cJSON_AddNullToObject(o, "signal");
	cJSON_AddBoolToObject(o, "killed", cl->killed);
	add_num(o, "duration_ms", (double)cl->duration_ms);
	text = rpt_sanitize_text(cl->out, cl->out_len);
	cJSON_AddStringToObject(o, "stdout", text);
	xfree(text);
	cJSON_AddBoolToObject(o, "stdout_cut", cl->out_cut);
	text = rpt_sanitize_text(cl->err, cl->err_len);
	cJSON_AddStringToObject(o, "stderr", text);
	xfree(text);
	cJSON_AddBoolToObject(o, "stderr_cut", cl->err_cut);
	return o;
}

static cJSON *
scenario_json(const rpt_scenario *sc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;
	size_t i;

	add_str(o, "id", sc->id);
	add_str(o, "summary", sc->summary);
	add_str(o, "file", sc->file);
	cJSON_AddStringToObject(o, "verdict", rpt_verdict_str(sc->verdict));
	cJSON_AddBoolToObject(o, "known", sc->known);
	add_str(o, "reason", sc->reason);
	arr = cJSON_AddArrayToObject(o, "refs");
	for (i = 0; i < sc->nrefs; i++) {
		char *clean = rpt_sanitize(sc->refs[i]);

		cJSON_AddItemToArray(arr, cJSON_CreateString(clean));
		xfree(clean);
	}
	add_num(o, "duration_ms", (double)sc->duration_ms);
	add_str(o, "capture", sc->capture_path);
	arr = cJSON_AddArrayToObject(o, "findings");
	for (i = 0; i < sc->nfindings; i++)
		cJSON_AddItemToArray(arr, finding_json(&sc->findings[i]));
	arr = cJSON_AddArrayToObject(o, "checks");
	for (i = 0; i < sc->nexercised; i++) {
		cJSON *c = cJSON_CreateObject();

		add_str(c, "check", sc->exercised[i].check);
		cJSON_AddStringToObject(c, "verdict", rpt_verdict_str(sc->exercised[i].verdict));
		cJSON_AddItemToArray(arr, c);
	}
	if (sc->received != NULL)
		cJSON_AddItemToObject(o, "received", received_json(sc->received));
	else
		cJSON_AddNullToObject(o, "received");
	if (sc->client != NULL)
		cJSON_AddItemToObject(o, "client", client_json(sc->client));
	else
		cJSON_AddNullToObject(o, "client");
	if (sc->timeline != NULL) {
		arr = cJSON_AddArrayToObject(o, "timeline");
		for (i = 0; i < sc->ntimeline; i++) {
			char *clean = rpt_sanitize(sc->timeline[i]);

			cJSON_AddItemToArray(arr, cJSON_CreateString(clean));
			xfree(clean);
		}
	}
	if (sc->transcript != NULL)
		cJSON_AddItemToObject(o, "transcript", transcript_json(sc->transcript));
	else
		cJSON_AddNullToObject(o, "transcript");
	{
		cJSON *more = cJSON_AddArrayToObject(o, "more_transcripts");

		for (size_t k = 0; k < sc->nmore; k++)
			cJSON_AddItemToArray(more, transcript_json(sc->more[k]));
	}
	return o;
}

/* The baseline applied to the run, each entry with what became of it. */
static cJSON *
baseline_json(const rpt_baseline *bl)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;
	size_t known, fixed, unexercised;

	rpt_baseline_counts(bl, &known, &fixed, &unexercised);
	add_str(o, "file", bl->file);
	add_str(o, "target", bl->target);
	add_num(o, "known", (double)known);
	add_num(o, "fixed", (double)fixed);
	add_num(o, "unexercised", (double)unexercised);
	arr = cJSON_AddArrayToObject(o, "entries");
	for (size_t i = 0; i < bl->n; i++) {
		cJSON *e = cJSON_CreateObject();

		add_str(e, "scenario", bl->entries[i].scenario);
		add_str(e, "check", bl->entries[i].check);
		add_str(e, "reason", bl->entries[i].reason);
		cJSON_AddStringToObject(e, "status", rpt_bl_status_str(bl->entries[i].status));
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}

char *
rpt_json_string(const rpt_run *run)
{
	rpt_summary s = rpt_run_summary(run);
	cJSON *root = cJSON_CreateObject();
	cJSON *sum, *arr;
	char started[64];
	char *text, *out;
	size_t i;

	cJSON_AddStringToObject(root, "tool", "smtp-harness");
	cJSON_AddStringToObject(root, "version", HARNESS_VERSION);
	add_str(root, "target", run->target);
	iso8601(run->started_us, started, sizeof(started));
	cJSON_AddStringToObject(root, "started", started);
	add_num(root, "duration_ms", (double)run->duration_ms);
	if (run->seeded)
		add_num(root, "seed", (double)run->seed);
	sum = cJSON_AddObjectToObject(root, "summary");
	add_num(sum, "pass", (double)s.pass);
	add_num(sum, "fail", (double)s.fail);
	add_num(sum, "error", (double)s.error);
	add_num(sum, "skip", (double)s.skip);
	add_num(sum, "warnings", (double)s.warnings);
	add_num(sum, "known", (double)s.known);
	add_num(sum, "total", (double)run->nscenarios);
	if (run->baseline != NULL)
		cJSON_AddItemToObject(root, "baseline", baseline_json(run->baseline));
	else
		cJSON_AddNullToObject(root, "baseline");
	arr = cJSON_AddArrayToObject(root, "scenarios");
	for (i = 0; i < run->nscenarios; i++)
		cJSON_AddItemToArray(arr, scenario_json(run->scenarios[i]));

	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return NULL;
	/* Hand back memory the caller can release with xfree like any other. */
	out = xstrdup(text);
	cJSON_free(text);
	return out;
}

int
rpt_json_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	char *text = rpt_json_string(run);
	vbuf b = VBUF_INIT;
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory building the JSON report", path);
		return -1;
	}
	vbuf_append_str(&b, text);
	vbuf_append_byte(&b, '\n');
	xfree(text);
	rc = atomic_file_write(path, b.data, b.len, err, errlen);
	vbuf_free(&b);
	return rc;
}
