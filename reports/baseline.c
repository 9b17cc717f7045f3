/*
 * baseline - load a baseline, apply it to a finished run, write one.
 */
#include "reports/baseline.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/json_in.h"

void
rpt_baseline_free(rpt_baseline *bl)
{
	if (bl == NULL)
		return;
	for (size_t i = 0; i < bl->n; i++) {
		xfree(bl->entries[i].scenario);
		xfree(bl->entries[i].check);
		xfree(bl->entries[i].reason);
	}
	xfree(bl->entries);
	xfree(bl->file);
	xfree(bl->target);
	xfree(bl);
}

/* Members of obj must be among keys. */
static int
bl_keys(rpt_jin *j, const cJSON *obj, const char *path, const char *const *keys,
    const char *want)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t i;

		for (i = 0; keys[i]; i++)
			if (strcmp(keys[i], m->string) == 0)
				break;
		if (keys[i] == NULL) {
			char *p = rpt_jin_key(path, m->string);
			cJSON name = { .type = cJSON_String, .valuestring = m->string };

			rpt_jin_expected(j, p, want, &name);
			xfree(p);
			return -1;
		}
		for (const cJSON *o = obj->child; o != m; o = o->next) {
			if (strcmp(o->string, m->string) == 0) {
				char *p = rpt_jin_key(path, m->string);

				rpt_jin_fail(j, p, "expected each key once, got \"%s\" twice", m->string);
				xfree(p);
				return -1;
			}
		}
	}
	return 0;
}

/* A non-empty string member; *out is the caller's. Absent is an error
 * unless optional (then *out stays NULL, as for null). */
static int
bl_string(rpt_jin *j, const cJSON *obj, const char *path, const char *key, int optional,
    char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	*out = NULL;
	if (v == NULL && optional)
		return 0;
	if (v != NULL && cJSON_IsNull(v) && optional)
		return 0;
	p = v ? rpt_jin_key(path, key) : xstrdup(path);
	if (v == NULL) {
		rc = rpt_jin_fail(j, p, "expected a key \"%s\", got none", key);
	} else if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		rc = rpt_jin_expected(j, p, optional ? "a non-empty string or null" :
		    "a non-empty string", v);
	} else if (strlen(v->valuestring) > 1024) {
		rc = rpt_jin_fail(j, p, "expected at most 1024 bytes, got %zu",
		    strlen(v->valuestring));
	} else {
		*out = xstrdup(v->valuestring);
	}
	xfree(p);
	return rc;
}

static int
bl_load(rpt_jin *j, rpt_baseline *bl)
{
	static const char *const top_keys[] = { "target", "comment", "known", NULL };
	static const char *const entry_keys[] = { "scenario", "check", "reason", NULL };
	const cJSON *known, *e;
	char *ignored;
	size_t i = 0, cap = 0;

	if (!cJSON_IsObject(j->root))
		return rpt_jin_expected(j, "$", "an object {\"known\": [...]}", j->root);
	if (bl_keys(j, j->root, "$", top_keys, "one of \"target\", \"comment\", \"known\"") != 0)
		return -1;
	if (bl_string(j, j->root, "$", "target", 1, &bl->target) != 0 ||
	    bl_string(j, j->root, "$", "comment", 1, &ignored) != 0)
		return -1;
	xfree(ignored);
	known = cJSON_GetObjectItemCaseSensitive(j->root, "known");
	if (known == NULL)
		return rpt_jin_fail(j, "$", "expected a key \"known\", got none");
	if (!cJSON_IsArray(known))
		return rpt_jin_expected(j, "$.known", "an array of {\"check\", \"reason\"}", known);
	cJSON_ArrayForEach(e, known) {
		char *p = rpt_jin_index("$.known", i);
		rpt_bl_entry ent = { 0 };
		int rc = 0;

		if (i >= HARNESS_BASELINE_MAX)
			rc = rpt_jin_fail(j, p, "expected at most %d entries", HARNESS_BASELINE_MAX);
		else if (!cJSON_IsObject(e))
			rc = rpt_jin_expected(j, p, "an object {\"check\", \"reason\"}", e);
		else if (bl_keys(j, e, p, entry_keys, "one of \"scenario\", \"check\", \"reason\"") != 0 ||
		    bl_string(j, e, p, "scenario", 1, &ent.scenario) != 0 ||
		    bl_string(j, e, p, "check", 0, &ent.check) != 0 ||
		    bl_string(j, e, p, "reason", 0, &ent.reason) != 0)
			rc = -1;
		for (size_t k = 0; rc == 0 && k < bl->n; k++) {
			const rpt_bl_entry *o = &bl->entries[k];

			if (strcmp(o->check, ent.check) == 0 &&
			    (o->scenario == NULL) == (ent.scenario == NULL) &&
			    (o->scenario == NULL || strcmp(o->scenario, ent.scenario) == 0))
				rc = rpt_jin_fail(j, p, "expected each scenario and check once, got "
				    "the same as $.known[%zu]", k);
		}
		xfree(p);
		if (rc != 0) {
			xfree(ent.scenario);
			xfree(ent.check);
			xfree(ent.reason);
			return -1;
		}
		bl->entries = xgrow(bl->entries, &cap, bl->n + 1, sizeof(*bl->entries));
		bl->entries[bl->n++] = ent;
		i++;
	}
	return 0;
}

int
rpt_baseline_load_buffer(const char *name, const char *text, size_t len,
    rpt_baseline **out, char *err, size_t errlen)
{
	rpt_baseline *bl;
	rpt_jin j;
	int rc;

	*out = NULL;
	if (rpt_jin_parse(&j, name, text, len, HARNESS_BASELINE_FILE_MAX, "a baseline",
	    err, errlen) != 0)
		return -1;
	bl = xcalloc(1, sizeof(*bl));
	bl->file = xstrdup(name);
	rc = bl_load(&j, bl);
	rpt_jin_free(&j);
	if (rc != 0) {
		rpt_baseline_free(bl);
		return -1;
	}
	*out = bl;
	return 0;
}

int
rpt_baseline_load_file(const char *path, rpt_baseline **out, char *err, size_t errlen)
{
	vbuf b = VBUF_INIT;
	int rc;

	*out = NULL;
	if (rpt_jin_read_file(path, HARNESS_BASELINE_FILE_MAX, &b, err, errlen) != 0) {
		vbuf_free(&b);
		return -1;
	}
	rc = rpt_baseline_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
	vbuf_free(&b);
	return rc;
}

static int
bl_scenario_matches(const rpt_bl_entry *e, const char *scenario)
{
	return e->scenario == NULL || (scenario != NULL && strcmp(e->scenario, scenario) == 0);
}

const rpt_bl_entry *
rpt_baseline_match(const rpt_baseline *bl, const char *scenario, const char *check)
{
	const rpt_bl_entry *any = NULL;

	if (bl == NULL || check == NULL)
		return NULL;
	/* An entry naming the scenario wins over one for any scenario, so
	 * its reason is the one reported. */
	for (size_t i = 0; i < bl->n; i++) {
		const rpt_bl_entry *e = &bl->entries[i];

		if (strcmp(e->check, check) != 0 || !bl_scenario_matches(e, scenario))
			continue;
		if (e->scenario != NULL)
			return e;
		if (any == NULL)
			any = e;
	}
	return any;
}

int
rpt_baseline_covers(const rpt_baseline *bl, const rpt_scenario *sc)
{
	size_t nfail = 0;

	if (bl == NULL || sc->verdict != RPT_FAIL)
		return 0;
	for (size_t i = 0; i < sc->nfindings; i++) {
		if (sc->findings[i].verdict != RPT_FAIL)
			continue;
		nfail++;
		if (rpt_baseline_match(bl, sc->id, sc->findings[i].check) == NULL)
			return 0;
	}
	return nfail > 0;
}

void
rpt_baseline_apply(rpt_baseline *bl, rpt_run *run)
{
	for (size_t i = 0; i < bl->n; i++)
		bl->entries[i].status = RPT_BL_UNEXERCISED;
	for (size_t s = 0; s < run->nscenarios; s++) {
		rpt_scenario *sc = run->scenarios[s];

		for (size_t i = 0; i < sc->nfindings; i++) {
			rpt_finding *f = &sc->findings[i];
			const rpt_bl_entry *e;

			if (f->verdict != RPT_FAIL ||
			    (e = rpt_baseline_match(bl, sc->id, f->check)) == NULL)
				continue;
			xfree(f->known);
			f->known = xstrdup(e->reason);
			bl->entries[e - bl->entries].status = RPT_BL_KNOWN;
		}
		sc->known = rpt_baseline_covers(bl, sc);
	}
	/* An entry that matched no failure is fixed where a matching scenario
	 * exercised its check (and, not failing, passed it). */
	for (size_t i = 0; i < bl->n; i++) {
		rpt_bl_entry *e = &bl->entries[i];

		for (size_t s = 0; s < run->nscenarios && e->status == RPT_BL_UNEXERCISED; s++) {
			const rpt_scenario *sc = run->scenarios[s];

			if (!bl_scenario_matches(e, sc->id))
				continue;
			for (size_t k = 0; k < sc->nexercised; k++)
				if (strcmp(sc->exercised[k].check, e->check) == 0 &&
				    sc->exercised[k].verdict != RPT_FAIL)
					e->status = RPT_BL_FIXED;
		}
	}
	run->baseline = bl;
}

void
rpt_baseline_counts(const rpt_baseline *bl, size_t *known, size_t *fixed, size_t *unexercised)
{
	*known = *fixed = *unexercised = 0;
	for (size_t i = 0; bl != NULL && i < bl->n; i++) {
		switch (bl->entries[i].status) {
		case RPT_BL_KNOWN:
			(*known)++;
			break;
		case RPT_BL_FIXED:
			(*fixed)++;
			break;
		default:
			(*unexercised)++;
			break;
		}
	}
}

const char *
rpt_bl_status_str(rpt_bl_status st)
{
	switch (st) {
	case RPT_BL_KNOWN:
		return "known";
	case RPT_BL_FIXED:
		return "fixed";
	default:
		return "unexercised";
	}
}

static int
has_entry(const cJSON *known, const char *scenario, const char *check)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, known) {
		if (strcmp(cJSON_GetObjectItem(e, "scenario")->valuestring, scenario) == 0 &&
		    strcmp(cJSON_GetObjectItem(e, "check")->valuestring, check) == 0)
			return 1;
	}
	return 0;
}

char *
rpt_baseline_string(const rpt_run *run)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *known;
	char *text, *out, *clean;

	clean = rpt_sanitize(run->target);
	if (clean != NULL)
		cJSON_AddStringToObject(root, "target", clean);
	else
		cJSON_AddNullToObject(root, "target");
	xfree(clean);
	known = cJSON_AddArrayToObject(root, "known");
	for (size_t s = 0; s < run->nscenarios; s++) {
		const rpt_scenario *sc = run->scenarios[s];

		for (size_t i = 0; i < sc->nfindings; i++) {
			const rpt_finding *f = &sc->findings[i];
			cJSON *e;

			char *sid, *chk;

			if (f->verdict != RPT_FAIL)
				continue;
			sid = rpt_sanitize(sc->id ? sc->id : "");
			chk = rpt_sanitize(f->check);
			if (has_entry(known, sid, chk)) {
				/* one entry per scenario and check, even when a
				 * scenario ran twice */
				xfree(sid);
				xfree(chk);
				continue;
			}
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "scenario", sid);
			cJSON_AddStringToObject(e, "check", chk);
			xfree(sid);
			xfree(chk);
			clean = rpt_sanitize(f->known ? f->known : RPT_BASELINE_PLACEHOLDER);
			cJSON_AddStringToObject(e, "reason", clean);
			xfree(clean);
			cJSON_AddItemToArray(known, e);
		}
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return NULL;
	out = xasprintf("%s\n", text);
	cJSON_free(text);
	return out;
}

int
rpt_baseline_write(const rpt_run *run, const char *path, char *err, size_t errlen)
{
	char *text = rpt_baseline_string(run);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory building the baseline", path);
		return -1;
	}
	rc = atomic_file_write(path, text, strlen(text), err, errlen);
	xfree(text);
	return rc;
}
