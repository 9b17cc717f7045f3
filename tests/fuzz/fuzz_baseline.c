/*
 * fuzz_baseline - the baseline loader fed hostile files.
 *
 * A load that fails must say why in one line that names the file; a load
 * that succeeds must give entries with a check and a reason, no two alike,
 * and applying it to a small run must keep rpt_baseline_apply's promises
 * (a known scenario is a FAIL every failure of which the baseline
 * accepts), and the baseline that run writes must load back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/xalloc.h"
#include "reports/baseline.h"
#include "reports/result.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_baseline: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_NAME "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A run whose scenarios and checks reuse the baseline's own names, so
 * entries match. */
static rpt_run *
fuzz_run(const rpt_baseline *bl)
{
	rpt_run *run = rpt_run_new("fuzz");

	for (size_t i = 0; i < bl->n && i < 8; i++) {
		const rpt_bl_entry *e = &bl->entries[i];
		rpt_scenario *sc = rpt_scenario_new(e->scenario ? e->scenario : "any.one", NULL, NULL);

		if (i % 2 == 0) {
			rpt_scenario_add_finding(sc, e->check, NULL, RPT_FAIL, 1, NULL, "broke");
			if (i % 4 == 0)
				rpt_scenario_add_finding(sc, "other.check", NULL, RPT_FAIL, 1, NULL, "x");
		} else {
			rpt_scenario_exercised(sc, e->check, RPT_PASS);
		}
		rpt_scenario_settle(sc);
		rpt_run_add(run, sc);
	}
	return run;
}

static int
plain_str(const char *s)
{
	if (s == NULL)
		return 1;
	if (strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '\\')
			return 0;
	return 1;
}

static int
plain(const rpt_baseline *bl)
{
	for (size_t i = 0; i < bl->n; i++)
		if (!plain_str(bl->entries[i].scenario) || !plain_str(bl->entries[i].check) ||
		    !plain_str(bl->entries[i].reason))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rpt_baseline *bl = NULL, *again = NULL;
	rpt_run *run;
	char err[1024];
	char *text;
	int rc;

	err[0] = '\0';
	rc = rpt_baseline_load_buffer(FUZZ_NAME, (const char *)data, size, &bl, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 && bl == NULL);
		FUZZ_CHECK(strncmp(err, FUZZ_NAME ":", sizeof(FUZZ_NAME)) == 0);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		return 0;
	}
	FUZZ_CHECK(bl != NULL);
	for (size_t i = 0; i < bl->n; i++) {
		const rpt_bl_entry *e = &bl->entries[i];

		FUZZ_CHECK(e->check != NULL && e->check[0] != '\0');
		FUZZ_CHECK(e->reason != NULL && e->reason[0] != '\0');
		FUZZ_CHECK(e->scenario == NULL || e->scenario[0] != '\0');
	}
	run = fuzz_run(bl);
	rpt_baseline_apply(bl, run);
	for (size_t s = 0; s < run->nscenarios; s++) {
		const rpt_scenario *sc = run->scenarios[s];

		FUZZ_CHECK(sc->known == rpt_baseline_covers(bl, sc));
		FUZZ_CHECK(!sc->known || sc->verdict == RPT_FAIL);
		for (size_t i = 0; i < sc->nfindings; i++)
			FUZZ_CHECK((sc->findings[i].known != NULL) ==
			    (rpt_baseline_match(bl, sc->id, sc->findings[i].check) != NULL));
	}
	text = rpt_baseline_string(run);
	FUZZ_CHECK(text != NULL);
	err[0] = '\0';
	rc = rpt_baseline_load_buffer("again.json", text, strlen(text), &again, err, sizeof(err));
	/* Names are escaped for display when written, which can make two
	 * alike or one too long; plain ones must come back. */
	if (rc != 0 && plain(bl)) {
		fprintf(stderr, "%s\n%s\n", err, text);
		FUZZ_CHECK(rc == 0);
	}
	rpt_baseline_free(again);
	xfree(text);
	rpt_run_free(run);	/* frees bl too */
	return 0;
}
