/*
 * load_out - the load summary, progress line and JSON report.
 */
#include "harness/cli/load_out.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/xalloc.h"

static double
lout_rate(uint64_t n, uint64_t us)
{
	return us ? (double)n * 1e6 / (double)us : 0.0;
}

static void
lout_names_text(FILE *f, const char *title, const lst_names *ns)
{
	fprintf(f, "%s:", title);
	if (ns->n == 0)
		fputs(" none", f);
	for (size_t i = 0; i < ns->n; i++)
		fprintf(f, "%s %s x%" PRIu64, i ? "," : "", ns->v[i].name, ns->v[i].n);
	fputc('\n', f);
}

void
lout_text(FILE *f, const lout_params *p, const lst_stats *st, const eng_load_result *r)
{
	double secs = (double)r->duration_us / 1e6;
	int any = 0;

	fprintf(f, "load against %s: ", p->target);
	if (p->scenario)
		fprintf(f, "scenario %s", p->scenario);
	else
		fprintf(f, "%u message(s) of %" PRIu64 " octets to %u recipient(s) per session, "
		    "pipelining %s%s", p->messages, p->size, p->recipients, p->pipelining,
		    r->fell_back ? " (not offered: lock-step)" : "");
	fputc('\n', f);
	fprintf(f, "sessions: %" PRIu64 " finished (%" PRIu64 " pass, %" PRIu64 " fail, %" PRIu64
	    " error, %" PRIu64 " skip), at most %" PRIu64 " open at once\n", st->sessions, st->pass,
	    st->fail, st->error, st->skip, r->open_peak);
	fprintf(f, "messages: %" PRIu64 " begun, %" PRIu64 " accepted, %" PRIu64 " refused 4xx, %"
	    PRIu64 " refused 5xx, %" PRIu64 " unanswered\n", st->messages, st->accepted,
	    st->refused4, st->refused5, st->unanswered);
	fprintf(f, "rate: %.1f messages/s accepted, %.1f sessions/s, in %.3f s\n",
	    lout_rate(st->accepted, r->duration_us), lout_rate(st->sessions, r->duration_us), secs);
	fprintf(f, "latency (ms)      count       min       p50       p90       p99       max\n");
	for (int c = 0; c < LST_NCMD; c++) {
		const histo *h = &st->latency[c];

		if (h->count == 0)
			continue;
		fprintf(f, "  %-8s %12" PRIu64 " %9.3f %9.3f %9.3f %9.3f %9.3f\n", lst_cmd_str(c),
		    h->count, (double)h->min / 1e3, (double)histo_quantile(h, 0.5) / 1e3,
		    (double)histo_quantile(h, 0.9) / 1e3, (double)histo_quantile(h, 0.99) / 1e3,
		    (double)h->max / 1e3);
	}
	fputs("replies:", f);
	for (int code = 0; code < LST_CODES; code++)
		if (st->codes[code]) {
			fprintf(f, "%s %d x%" PRIu64, any ? "," : "", code, st->codes[code]);
			any = 1;
		}
	fputs(any ? "\n" : " none\n", f);
	if (st->server_closed_early)
		fprintf(f, "server closed before QUIT was answered: %" PRIu64 " session(s)\n",
		    st->server_closed_early);
	lout_names_text(f, "errors", &st->errors);
	lout_names_text(f, "findings", &st->findings);
}

static void
lout_num(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

char *
lout_json(const lout_params *p, const lst_stats *st, const eng_load_result *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *o;
	char *out, *copy;

	cJSON_AddStringToObject(root, "mode", "load");
	cJSON_AddStringToObject(root, "target", p->target);
	lout_num(root, "started_us", r->started_us);
	lout_num(root, "duration_us", r->duration_us);

	o = cJSON_AddObjectToObject(root, "config");
	lout_num(o, "sessions", p->sessions);
	lout_num(o, "concurrency", p->concurrency);
	cJSON_AddNumberToObject(o, "rate", p->rate);
	lout_num(o, "duration_ms", p->duration_ms);
	if (p->scenario) {
		cJSON_AddStringToObject(o, "scenario", p->scenario);
	} else {
		lout_num(o, "messages_per_session", p->messages);
		lout_num(o, "recipients", p->recipients);
		lout_num(o, "size", p->size);
		cJSON_AddStringToObject(o, "pipelining", p->pipelining);
		cJSON_AddBoolToObject(o, "pipelining_fell_back", r->fell_back);
	}

	o = cJSON_AddObjectToObject(root, "sessions");
	lout_num(o, "finished", st->sessions);
	lout_num(o, "pass", st->pass);
	lout_num(o, "fail", st->fail);
	lout_num(o, "error", st->error);
	lout_num(o, "skip", st->skip);
	lout_num(o, "open_peak", r->open_peak);
	lout_num(o, "server_closed_early", st->server_closed_early);
	cJSON_AddNumberToObject(o, "per_second", lout_rate(st->sessions, r->duration_us));

	o = cJSON_AddObjectToObject(root, "messages");
	lout_num(o, "begun", st->messages);
	lout_num(o, "accepted", st->accepted);
	lout_num(o, "refused_4xx", st->refused4);
	lout_num(o, "refused_5xx", st->refused5);
	lout_num(o, "unanswered", st->unanswered);
	cJSON_AddNumberToObject(o, "accepted_per_second", lout_rate(st->accepted, r->duration_us));

	o = cJSON_AddObjectToObject(root, "recipients");
	lout_num(o, "sent", st->recipients);
	lout_num(o, "accepted", st->recipients_ok);

	o = cJSON_AddObjectToObject(root, "bytes");
	lout_num(o, "sent", st->bytes_sent);
	lout_num(o, "received", st->bytes_received);

	o = cJSON_AddObjectToObject(root, "latency_us");
	for (int c = 0; c < LST_NCMD; c++) {
		const histo *h = &st->latency[c];
		cJSON *l;

		if (h->count == 0)
			continue;
		l = cJSON_AddObjectToObject(o, lst_cmd_str(c));
		lout_num(l, "count", h->count);
		lout_num(l, "min", h->min);
		lout_num(l, "p50", histo_quantile(h, 0.5));
		lout_num(l, "p90", histo_quantile(h, 0.9));
		lout_num(l, "p99", histo_quantile(h, 0.99));
		lout_num(l, "max", h->max);
		cJSON_AddNumberToObject(l, "mean", (double)h->sum / (double)h->count);
	}

	o = cJSON_AddObjectToObject(root, "replies");
	for (int code = 0; code < LST_CODES; code++)
		if (st->codes[code]) {
			char k[8];

			snprintf(k, sizeof(k), "%d", code);
			lout_num(o, k, st->codes[code]);
		}
	o = cJSON_AddObjectToObject(root, "errors");
	for (size_t i = 0; i < st->errors.n; i++)
		lout_num(o, st->errors.v[i].name, st->errors.v[i].n);
	o = cJSON_AddObjectToObject(root, "findings");
	for (size_t i = 0; i < st->findings.n; i++)
		lout_num(o, st->findings.v[i].name, st->findings.v[i].n);

	out = cJSON_Print(root);
	cJSON_Delete(root);
	if (out == NULL)
		abort();
	copy = xstrdup(out);
	cJSON_free(out);
	return copy;
}

void
lout_progress(FILE *f, const lst_stats *st, uint64_t open, uint64_t elapsed_us, int final)
{
	if (final) {
		fputs("\r\033[K", f);
		fflush(f);
		return;
	}
	fprintf(f, "\r\033[K%6.1f s  sessions %" PRIu64 " done, %" PRIu64 " open  messages %"
	    PRIu64 " accepted, %" PRIu64 "/%" PRIu64 " refused 4xx/5xx  errors %" PRIu64
	    "  %.0f msg/s", (double)elapsed_us / 1e6, st->sessions, open, st->accepted,
	    st->refused4, st->refused5, st->error, lout_rate(st->accepted, elapsed_us));
	fflush(f);
}
