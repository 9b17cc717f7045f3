/*
 * coverage - which rows of the conformance catalog the harness exercises
 * (coverage.h).
 */
#include "harness/check/coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/passive.h"
#include "harness/util/xalloc.h"

static chk_cov_row *
cov_find(chk_coverage *c, const char *id)
{
	const chk_entry *e = chk_catalog_find(id);

	if (e == NULL)
		return NULL;
	/* The rows follow the catalog table, which is sorted: same index. */
	return &c->rows[(size_t)(e - chk_catalog_table)];
}

static void
cov_mark_passive(chk_coverage *c, const char *const *ids, int bit)
{
	for (size_t i = 0; ids[i] != NULL; i++) {
		chk_cov_row *r = cov_find(c, ids[i]);

		if (r == NULL)
			abort();	/* passive.c cites a row the catalog lacks: a harness bug */
		r->passive |= bit;
	}
}

void
chk_coverage_init(chk_coverage *c)
{
	c->n = chk_catalog_count();
	c->rows = xcalloc(c->n, sizeof(*c->rows));
	for (size_t i = 0; i < c->n; i++)
		c->rows[i].e = chk_catalog_at(i);
	cov_mark_passive(c, chk_passive_server_ids, CHK_COV_PASSIVE_SERVER);
	cov_mark_passive(c, chk_passive_client_ids, CHK_COV_PASSIVE_CLIENT);
}

void
chk_coverage_free(chk_coverage *c)
{
	if (c == NULL || c->rows == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->rows[i].nscenarios; j++)
			xfree(c->rows[i].scenarios[j]);
		xfree(c->rows[i].scenarios);
		xfree(c->rows[i].untestable);
	}
	xfree(c->rows);
	c->rows = NULL;
	c->n = 0;
}

int
chk_coverage_cite(chk_coverage *c, const char *id, const char *scenario)
{
	chk_cov_row *r = id != NULL ? cov_find(c, id) : NULL;

	if (r == NULL)
		return -1;
	for (size_t j = 0; j < r->nscenarios; j++)
		if (strcmp(r->scenarios[j], scenario) == 0)
			return 0;
	r->scenarios = xrealloc(r->scenarios, (r->nscenarios + 1) * sizeof(*r->scenarios));
	r->scenarios[r->nscenarios++] = xstrdup(scenario);
	return 0;
}

static int
cov_exercised(const chk_cov_row *r)
{
	return r->nscenarios > 0 || r->passive != 0;
}

int
chk_coverage_untestable(chk_coverage *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	size_t lineno = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		const char *id_end = p, *reason;
		chk_cov_row *r;
		char *id;

		lineno++;
		while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if (le == p || *p == '#')
			goto next;
		while (id_end < le && *id_end != ' ' && *id_end != '\t')
			id_end++;
		reason = id_end;
		while (reason < le && (*reason == ' ' || *reason == '\t'))
			reason++;
		id = xstrndup(p, (size_t)(id_end - p));
		r = cov_find(c, id);
		if (r == NULL) {
			snprintf(err, errlen, "%s:%zu: expected a catalog id, got \"%s\"", name, lineno, id);
			xfree(id);
			return -1;
		}
		if (reason == le) {
			snprintf(err, errlen, "%s:%zu: %s: expected a reason after the id", name, lineno, id);
			xfree(id);
			return -1;
		}
		if (r->untestable != NULL) {
			snprintf(err, errlen, "%s:%zu: %s is listed twice", name, lineno, id);
			xfree(id);
			return -1;
		}
		if (cov_exercised(r)) {
			snprintf(err, errlen, "%s:%zu: %s is exercised (%s), so it is testable: take it off "
			    "the list", name, lineno, id, r->nscenarios > 0 ? r->scenarios[0] :
			    "a passive check");
			xfree(id);
			return -1;
		}
		r->untestable = xstrndup(reason, (size_t)(le - reason));
		xfree(id);
next:
		p = eol != NULL ? eol + 1 : end;
	}
	return 0;
}

void
chk_coverage_count(const chk_coverage *c, size_t *exercised, size_t *untestable, size_t *uncovered)
{
	*exercised = *untestable = *uncovered = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (cov_exercised(&c->rows[i]))
			(*exercised)++;
		else if (c->rows[i].untestable != NULL)
			(*untestable)++;
		else
			(*uncovered)++;
	}
}

/* "12.3": num/den as a percentage with one decimal, rounded half up, in
 * integers so that every build writes the same bytes. */
static void
cov_percent(vbuf *out, size_t num, size_t den)
{
	size_t tenths = den == 0 ? 0 : (num * 1000 + den / 2) / den;

	vbuf_printf(out, "%zu.%zu", tenths / 10, tenths % 10);
}

static const char *
cov_keyword(const chk_entry *e)
{
	return e->keyword == CHK_MUST ? "MUST" : e->keyword == CHK_SHOULD ? "SHOULD" :
	    e->keyword == CHK_MAY ? "MAY" : "advisory";
}

static void
cov_by(const chk_cov_row *r, vbuf *out, const char *quote)
{
	const char *sep = "";

	if (r->passive & CHK_COV_PASSIVE_SERVER) {
		vbuf_append_str(out, "passive checks (server)");
		sep = ", ";
	}
	if (r->passive & CHK_COV_PASSIVE_CLIENT) {
		vbuf_printf(out, "%spassive checks (client)", sep);
		sep = ", ";
	}
	for (size_t j = 0; j < r->nscenarios; j++) {
		vbuf_printf(out, "%s%s%s%s", sep, quote, r->scenarios[j], quote);
		sep = ", ";
	}
}

static void
cov_totals(const chk_coverage *c, vbuf *out)
{
	size_t ex, un, nc;

	chk_coverage_count(c, &ex, &un, &nc);
	vbuf_printf(out, "Exercised: %zu of %zu rows (", ex, c->n);
	cov_percent(out, ex, c->n);
	vbuf_printf(out, " %%); not testable over the wire: %zu; not covered yet: %zu.\n", un, nc);
}

void
chk_coverage_text(const chk_coverage *c, vbuf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		const chk_cov_row *r = &c->rows[i];

		vbuf_printf(out, "%-52s %-8s ", r->e->id, cov_keyword(r->e));
		if (cov_exercised(r)) {
			vbuf_append_str(out, "exercised      ");
			cov_by(r, out, "");
		} else if (r->untestable != NULL) {
			vbuf_printf(out, "not testable   %s", r->untestable);
		} else {
			vbuf_append_str(out, "not covered");
		}
		vbuf_append_byte(out, '\n');
	}
	cov_totals(c, out);
}

/* Areas are "1. Reply codes ..." and "10.4 CHUNKING ...": by their number. */
static unsigned
cov_area_key(const char *area)
{
	char *end;
	unsigned long major = strtoul(area, &end, 10), minor = 0;

	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		minor = strtoul(end + 1, NULL, 10);
	return (unsigned)(major * 100 + minor);
}

static int
cov_row_cmp(const void *a, const void *b)
{
	const chk_cov_row *x = *(const chk_cov_row *const *)a, *y = *(const chk_cov_row *const *)b;
	unsigned kx = cov_area_key(x->e->area), ky = cov_area_key(y->e->area);

	if (kx != ky)
		return kx < ky ? -1 : 1;
	return strcmp(x->e->id, y->e->id);
}

/* Table cells: a '|' would end the cell. */
static void
cov_cell(vbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			vbuf_append_str(out, "\\|");
		else
			vbuf_append_byte(out, *s);
	}
}

void
chk_coverage_markdown(const chk_coverage *c, vbuf *out)
{
	const chk_cov_row **sorted = xcalloc(c->n ? c->n : 1, sizeof(*sorted));
	size_t ex, un, nc;

	for (size_t i = 0; i < c->n; i++)
		sorted[i] = &c->rows[i];
	qsort(sorted, c->n, sizeof(*sorted), cov_row_cmp);
	chk_coverage_count(c, &ex, &un, &nc);

	vbuf_append_str(out,
	    "# Coverage of the conformance catalog\n"
	    "\n"
	    "Generated by `smtp-harness coverage --markdown`; do not edit by hand. After\n"
	    "changing scenarios, a passive check or the catalog, regenerate it from the top\n"
	    "of the source tree:\n"
	    "\n"
	    "    build/smtp-harness coverage --markdown --untestable scenarios/untestable.txt \\\n"
	    "        scenarios > docs/coverage.md\n"
	    "\n"
	    "and the ctest `docs.coverage` fails while it is stale. A row is *exercised*\n"
	    "when a shipped scenario cites its id (in `refs`, or as the `check` of the\n"
	    "scenario, a step, an expectation or a close; client or server role), or when\n"
	    "a passive check can emit it (`chk_passive_server_ids` and\n"
	    "`chk_passive_client_ids` in harness/check/); *not testable* when\n"
	    "scenarios/untestable.txt says why it cannot be judged over the wire.\n"
	    "Exercised means the harness judges the row in some scenario or on every\n"
	    "session, not that every clause of the row's probe is played.\n"
	    "\n");
	cov_totals(c, out);
	vbuf_append_str(out, "\n| area | rows | exercised | not testable | not covered |\n"
	    "|---|---|---|---|---|\n");
	for (size_t i = 0; i < c->n;) {
		size_t j = i, a = 0, u = 0, n = 0;

		while (j < c->n && strcmp(sorted[j]->e->area, sorted[i]->e->area) == 0) {
			if (cov_exercised(sorted[j]))
				a++;
			else if (sorted[j]->untestable != NULL)
				u++;
			else
				n++;
			j++;
		}
		vbuf_append_str(out, "| ");
		cov_cell(out, sorted[i]->e->area);
		vbuf_printf(out, " | %zu | %zu | %zu | %zu |\n", j - i, a, u, n);
		i = j;
	}
	vbuf_printf(out, "| **total** | %zu | %zu | %zu | %zu |\n", c->n, ex, un, nc);

	for (size_t i = 0; i < c->n; i++) {
		const chk_cov_row *r = sorted[i];

		if (i == 0 || strcmp(r->e->area, sorted[i - 1]->e->area) != 0) {
			vbuf_append_str(out, "\n## ");
			vbuf_append_str(out, r->e->area);
			vbuf_append_str(out, "\n\n| id | keyword | status | by / why |\n|---|---|---|---|\n");
		}
		vbuf_printf(out, "| `%s` | %s | ", r->e->id, cov_keyword(r->e));
		if (cov_exercised(r)) {
			vbuf_append_str(out, "exercised | ");
			cov_by(r, out, "`");
		} else if (r->untestable != NULL) {
			vbuf_append_str(out, "not testable | ");
			cov_cell(out, r->untestable);
		} else {
			vbuf_append_str(out, "**not covered** | ");
		}
		vbuf_append_str(out, " |\n");
	}
	xfree(sorted);
}
