/*
 * fuzz_report - the JSON report reader of `smtp-harness diff` fed
 * hostile files.
 *
 * A read that fails must say why in one line that names the file; one
 * that succeeds gives scenarios with an id and a scenario verdict, and
 * diffing the report against itself finds no change.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/diff.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_report: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_NAME "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rpt_dreport *r = NULL;
	rpt_diff_counts c;
	char err[1024];
	int rc;

	err[0] = '\0';
	rc = rpt_dreport_load_buffer(FUZZ_NAME, (const char *)data, size, &r, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 && r == NULL);
		FUZZ_CHECK(strncmp(err, FUZZ_NAME ":", sizeof(FUZZ_NAME)) == 0);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		return 0;
	}
	FUZZ_CHECK(r != NULL);
	for (size_t i = 0; i < r->n; i++) {
		FUZZ_CHECK(r->sc[i].id != NULL && r->sc[i].id[0] != '\0');
		FUZZ_CHECK(r->sc[i].verdict == RPT_PASS || r->sc[i].verdict == RPT_FAIL ||
		    r->sc[i].verdict == RPT_ERROR || r->sc[i].verdict == RPT_SKIP);
		for (size_t k = 0; k < r->sc[i].nfails; k++)
			FUZZ_CHECK(r->sc[i].fails[k].check[0] != '\0');
	}
	c = rpt_diff(NULL, r, r);
	FUZZ_CHECK(c.regressed == 0 && c.fixed == 0 && c.gone == 0 && c.appeared == 0 &&
	    c.changed == 0);
	rpt_dreport_free(r);
	return 0;
}
