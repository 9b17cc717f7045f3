/*
 * diff - read two JSON reports back and say what changed, scenario by
 * scenario and check by check.
 */
#include "reports/diff.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/json_in.h"

void
rpt_dreport_free(rpt_dreport *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		rpt_dscenario *sc = &r->sc[i];

		for (size_t k = 0; k < sc->nfails; k++) {
			xfree(sc->fails[k].check);
			xfree(sc->fails[k].message);
		}
		xfree(sc->fails);
		for (size_t k = 0; k < sc->nexercised; k++)
			xfree(sc->exercised[k]);
		xfree(sc->exercised);
		xfree(sc->id);
		xfree(sc->reason);
	}
	xfree(r->sc);
	xfree(r);
}

/* The member key of obj, which must be a string (non-empty when
 * nonempty) or, when nullable, null (*out NULL). Borrowed. */
static int
rd_string(rpt_jin *j, const cJSON *obj, const char *path, const char *key, int nullable,
    int nonempty, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p = rpt_jin_key(path, key);
	int rc = 0;

	*out = NULL;
	if (v == NULL)
		rc = rpt_jin_fail(j, path, "expected a key \"%s\", got none", key);
	else if (nullable && cJSON_IsNull(v))
		rc = 0;
	else if (!cJSON_IsString(v) || (nonempty && v->valuestring[0] == '\0'))
		rc = rpt_jin_expected(j, p, nullable ? "a string or null" :
		    nonempty ? "a non-empty string" : "a string", v);
	else
		*out = v->valuestring;
	xfree(p);
	return rc;
}

/* A verdict string among the first n of PASS, FAIL, ERROR, SKIP, WARN,
 * INFO (or, for checks, the set {PASS, FAIL, WARN, INFO}). */
static int
rd_verdict(rpt_jin *j, const cJSON *obj, const char *path, const rpt_verdict *allowed,
    size_t n, rpt_verdict *out)
{
	const char *s;
	vbuf want = VBUF_INIT;
	char *p;
	int rc;

	if (rd_string(j, obj, path, "verdict", 0, 0, &s) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, rpt_verdict_str(allowed[i])) == 0) {
			*out = allowed[i];
			return 0;
		}
	}
	vbuf_append_str(&want, "one of ");
	for (size_t i = 0; i < n; i++)
		vbuf_printf(&want, "%s\"%s\"", i ? ", " : "", rpt_verdict_str(allowed[i]));
	p = rpt_jin_key(path, "verdict");
	rc = rpt_jin_expected(j, p, vbuf_str(&want), cJSON_GetObjectItemCaseSensitive(obj, "verdict"));
	xfree(p);
	vbuf_free(&want);
	return rc;
}

static int
rd_array(rpt_jin *j, const cJSON *obj, const char *path, const char *key, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	*out = v;
	if (v == NULL)
		return rpt_jin_fail(j, path, "expected a key \"%s\", got none", key);
	if (!cJSON_IsArray(v)) {
		p = rpt_jin_key(path, key);
		rc = rpt_jin_expected(j, p, "an array", v);
		xfree(p);
	}
	return rc;
}

static int
rd_scenario(rpt_jin *j, const cJSON *o, const char *path, rpt_dscenario *sc)
{
	static const rpt_verdict sc_verdicts[] = { RPT_PASS, RPT_FAIL, RPT_ERROR, RPT_SKIP };
	static const rpt_verdict f_verdicts[] = { RPT_FAIL, RPT_WARN, RPT_INFO };
	static const rpt_verdict c_verdicts[] = { RPT_PASS, RPT_FAIL, RPT_WARN, RPT_INFO };
	const cJSON *arr, *e;
	const char *s;
	size_t i, fcap = 0, ecap = 0;

	if (!cJSON_IsObject(o))
		return rpt_jin_expected(j, path, "a scenario object", o);
	if (rd_string(j, o, path, "id", 0, 1, &s) != 0)
		return -1;
	sc->id = xstrdup(s);
	if (rd_verdict(j, o, path, sc_verdicts, 4, &sc->verdict) != 0 ||
	    rd_string(j, o, path, "reason", 1, 0, &s) != 0)
		return -1;
	sc->reason = s ? xstrdup(s) : NULL;
	if (rd_array(j, o, path, "findings", &arr) != 0)
		return -1;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		char *q = rpt_jin_key(path, "findings");
		char *p = rpt_jin_index(q, i++);
		const char *check, *msg;
		rpt_verdict v;
		size_t k;
		int rc;

		xfree(q);
		if (!cJSON_IsObject(e))
			rc = rpt_jin_expected(j, p, "a finding object", e);
		else
			rc = rd_string(j, e, p, "check", 0, 1, &check) != 0 ||
			    rd_verdict(j, e, p, f_verdicts, 3, &v) != 0 ||
			    rd_string(j, e, p, "message", 1, 0, &msg) != 0 ? -1 : 0;
		xfree(p);
		if (rc != 0)
			return -1;
		if (v != RPT_FAIL)
			continue;
		for (k = 0; k < sc->nfails; k++)
			if (strcmp(sc->fails[k].check, check) == 0)
				break;
		if (k < sc->nfails)
			continue;
		sc->fails = xgrow(sc->fails, &fcap, sc->nfails + 1, sizeof(*sc->fails));
		sc->fails[sc->nfails].check = xstrdup(check);
		sc->fails[sc->nfails].message = xstrdup(msg ? msg : "");
		sc->nfails++;
	}
	if (rd_array(j, o, path, "checks", &arr) != 0)
		return -1;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		char *q = rpt_jin_key(path, "checks");
		char *p = rpt_jin_index(q, i++);
		const char *check;
		rpt_verdict v;
		int rc;

		xfree(q);
		if (!cJSON_IsObject(e))
			rc = rpt_jin_expected(j, p, "a {\"check\", \"verdict\"} object", e);
		else
			rc = rd_string(j, e, p, "check", 0, 1, &check) != 0 ||
			    rd_verdict(j, e, p, c_verdicts, 4, &v) != 0 ? -1 : 0;
		xfree(p);
		if (rc != 0)
			return -1;
		if (v == RPT_FAIL)
			continue;
		sc->exercised = xgrow(sc->exercised, &ecap, sc->nexercised + 1,
		    sizeof(*sc->exercised));
		sc->exercised[sc->nexercised++] = xstrdup(check);
	}
	return 0;
}

static int
rd_report(rpt_jin *j, rpt_dreport *r)
{
	const cJSON *tool, *arr, *e;
	size_t cap = 0, i = 0;

	if (!cJSON_IsObject(j->root))
		return rpt_jin_expected(j, "$", "the JSON report of smtp-harness run (an object)",
		    j->root);
	tool = cJSON_GetObjectItemCaseSensitive(j->root, "tool");
	if (!cJSON_IsString(tool) || strcmp(tool->valuestring, "smtp-harness") != 0)
		return tool == NULL ?
		    rpt_jin_fail(j, "$", "expected the JSON report of smtp-harness run, with "
		    "\"tool\": \"smtp-harness\", got no \"tool\"") :
		    rpt_jin_expected(j, "$.tool", "\"smtp-harness\"", tool);
	if (rd_array(j, j->root, "$", "scenarios", &arr) != 0)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		char *p = rpt_jin_index("$.scenarios", i++);
		int rc;

		r->sc = xgrow(r->sc, &cap, r->n + 1, sizeof(*r->sc));
		memset(&r->sc[r->n], 0, sizeof(r->sc[r->n]));
		r->n++;
		rc = rd_scenario(j, e, p, &r->sc[r->n - 1]);
		xfree(p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
rpt_dreport_load_buffer(const char *name, const char *text, size_t len,
    rpt_dreport **out, char *err, size_t errlen)
{
	rpt_dreport *r;
	rpt_jin j;
	int rc;

	*out = NULL;
	if (rpt_jin_parse(&j, name, text, len, HARNESS_REPORT_FILE_MAX, "a JSON report",
	    err, errlen) != 0)
		return -1;
	r = xcalloc(1, sizeof(*r));
	rc = rd_report(&j, r);
	rpt_jin_free(&j);
	if (rc != 0) {
		rpt_dreport_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int
rpt_dreport_load_file(const char *path, rpt_dreport **out, char *err, size_t errlen)
{
	vbuf b = VBUF_INIT;
	int rc;

	*out = NULL;
	if (rpt_jin_read_file(path, HARNESS_REPORT_FILE_MAX, &b, err, errlen) != 0) {
		vbuf_free(&b);
		return -1;
	}
	rc = rpt_dreport_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
	vbuf_free(&b);
	return rc;
}

/* ---- comparing ------------------------------------------------------- */

/* The scenario of r paired with r->sc[i] of the other report: the same
 * id, the same occurrence of it. */
static const rpt_dscenario *
pair(const rpt_dreport *self, size_t i, const rpt_dreport *other)
{
	const char *id = self->sc[i].id;
	size_t nth = 0;

	for (size_t k = 0; k < i; k++)
		nth += strcmp(self->sc[k].id, id) == 0;
	for (size_t k = 0; k < other->n; k++)
		if (strcmp(other->sc[k].id, id) == 0 && nth-- == 0)
			return &other->sc[k];
	return NULL;
}

static const rpt_dfail *
find_fail(const rpt_dscenario *sc, const char *check)
{
	for (size_t k = 0; k < sc->nfails; k++)
		if (strcmp(sc->fails[k].check, check) == 0)
			return &sc->fails[k];
	return NULL;
}

static int
exercised(const rpt_dscenario *sc, const char *check)
{
	for (size_t k = 0; k < sc->nexercised; k++)
		if (strcmp(sc->exercised[k], check) == 0)
			return 1;
	return 0;
}

/* Writes s for display: report strings are already sanitized UTF-8 when
 * the harness wrote them, but a hand-made file may hold anything. */
static void
put(FILE *fp, const char *s)
{
	char *clean = rpt_sanitize(s ? s : "");

	fputs(clean, fp);
	xfree(clean);
}

static void
line(FILE *fp, const char *kind, const char *id, const char *check, const char *detail)
{
	if (fp == NULL)
		return;
	fprintf(fp, "%-10s ", kind);
	put(fp, id);
	if (check != NULL) {
		fputs("  ", fp);
		put(fp, check);
	}
	if (detail != NULL) {
		fputs(": ", fp);
		put(fp, detail);
	}
	fputc('\n', fp);
}

static void
verdict_change(FILE *fp, const rpt_dscenario *o, const rpt_dscenario *n, rpt_diff_counts *c)
{
	rpt_verdict a = o->verdict, b = n->verdict;
	char detail[64];
	const char *kind;

	if (a == b)
		return;
	snprintf(detail, sizeof(detail), "%s -> %s", rpt_verdict_str(a), rpt_verdict_str(b));
	if ((a == RPT_PASS || a == RPT_SKIP) && (b == RPT_FAIL || b == RPT_ERROR)) {
		kind = "REGRESSED";
		c->regressed++;
	} else if ((a == RPT_FAIL || a == RPT_ERROR) && b == RPT_PASS) {
		kind = "FIXED";
		c->fixed++;
	} else {
		kind = "CHANGED";
		c->changed++;
	}
	if (fp != NULL && n->reason != NULL && (b == RPT_ERROR || b == RPT_SKIP)) {
		fprintf(fp, "%-10s ", kind);
		put(fp, n->id);
		fprintf(fp, ": %s (", detail);
		put(fp, n->reason);
		fputs(")\n", fp);
		return;
	}
	line(fp, kind, n->id, NULL, detail);
}

rpt_diff_counts
rpt_diff(FILE *fp, const rpt_dreport *old, const rpt_dreport *new_)
{
	rpt_diff_counts c = { 0 };

	for (size_t i = 0; i < new_->n; i++) {
		const rpt_dscenario *n = &new_->sc[i];
		const rpt_dscenario *o = pair(new_, i, old);

		if (o == NULL) {
			line(fp, "APPEARED", n->id, NULL, rpt_verdict_str(n->verdict));
			c.appeared++;
			continue;
		}
		verdict_change(fp, o, n, &c);
		for (size_t k = 0; k < n->nfails; k++) {
			if (find_fail(o, n->fails[k].check) != NULL)
				continue;
			line(fp, "REGRESSED", n->id, n->fails[k].check, n->fails[k].message);
			c.regressed++;
		}
		for (size_t k = 0; k < o->nfails; k++) {
			if (find_fail(n, o->fails[k].check) != NULL)
				continue;
			if (exercised(n, o->fails[k].check)) {
				line(fp, "FIXED", n->id, o->fails[k].check, "passes now");
				c.fixed++;
			} else {
				line(fp, "GONE", n->id, o->fails[k].check,
				    "failed before, not exercised now");
				c.gone++;
			}
		}
	}
	for (size_t i = 0; i < old->n; i++) {
		if (pair(old, i, new_) != NULL)
			continue;
		if (fp != NULL) {
			fprintf(fp, "%-10s ", "GONE");
			put(fp, old->sc[i].id);
			fprintf(fp, ": was %s\n", rpt_verdict_str(old->sc[i].verdict));
		}
		c.gone++;
	}
	return c;
}
