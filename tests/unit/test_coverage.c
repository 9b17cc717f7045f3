/*
 * coverage: the rows of the catalog, who exercises them, and the passive
 * checks' id tables kept equal to the ids their source files cite.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/catalog.h"
#include "harness/check/coverage.h"
#include "harness/check/passive.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

static char *
slurp(const char *rel)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", HARNESS_SOURCE_DIR, rel);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
in_table(const char *const *ids, const char *id, size_t len)
{
	for (size_t i = 0; ids[i] != NULL; i++)
		if (strlen(ids[i]) == len && memcmp(ids[i], id, len) == 0)
			return 1;
	return 0;
}

/* Every string literal of the file shaped like a catalog id ("rfc..." or
 * "smuggle....") is in the table, and every table id is such a literal of
 * the file: a check added without its table row fails here. */
static void
table_matches_source(const char *rel, const char *const *ids)
{
	char *src = slurp(rel);
	size_t found = 0, nids = 0;

	for (const char *p = src; (p = strchr(p, '"')) != NULL; ) {
		const char *q = p + 1, *end = strchr(q, '"');

		if (end == NULL)
			break;
		if ((strncmp(q, "rfc", 3) == 0 && q[3] >= '0' && q[3] <= '9') ||
		    strncmp(q, "smuggle.", 8) == 0) {
			ck_assert_msg(in_table(ids, q, (size_t)(end - q)),
			    "%s cites \"%.*s\", missing from its id table", rel, (int)(end - q), q);
			found++;
		}
		p = end + 1;
	}
	for (size_t i = 0; ids[i] != NULL; i++) {
		char quoted[160];

		snprintf(quoted, sizeof(quoted), "\"%s\"", ids[i]);
		ck_assert_msg(strstr(src, quoted) != NULL, "%s: table id %s not in the source",
		    rel, ids[i]);
		ck_assert_msg(chk_catalog_find(ids[i]) != NULL, "%s is not a catalog id", ids[i]);
		nids++;
	}
	ck_assert_uint_gt(nids, 0);
	ck_assert_uint_ge(found, nids);
	xfree(src);
}

START_TEST(test_coverage_passive_server_table)
{
	table_matches_source("harness/check/passive.c", chk_passive_server_ids);
}
END_TEST

START_TEST(test_coverage_passive_client_table)
{
	table_matches_source("harness/check/passive_client.c", chk_passive_client_ids);
}
END_TEST

START_TEST(test_coverage_counts_and_cite)
{
	chk_coverage c = { 0 };
	size_t ex0, un, nc, ex;
	size_t passive = 0;

	chk_coverage_init(&c);
	ck_assert_uint_eq(c.n, chk_catalog_count());
	chk_coverage_count(&c, &ex0, &un, &nc);
	for (size_t i = 0; i < c.n; i++)
		if (c.rows[i].passive)
			passive++;
	ck_assert_uint_eq(ex0, passive);
	ck_assert_uint_eq(un, 0);
	ck_assert_uint_eq(ex0 + nc, c.n);

	ck_assert_int_eq(chk_coverage_cite(&c, "RFC 5321 §4.1", "s.a"), -1);
	ck_assert_int_eq(chk_coverage_cite(&c, "rfc5321.no-such-row", "s.a"), -1);
	ck_assert_int_eq(chk_coverage_cite(&c, "rfc1870.6.1.over-max-552", "s.a"), 0);
	ck_assert_int_eq(chk_coverage_cite(&c, "rfc1870.6.1.over-max-552", "s.a"), 0);
	ck_assert_int_eq(chk_coverage_cite(&c, "rfc1870.6.1.over-max-552", "s.b"), 0);
	chk_coverage_count(&c, &ex, &un, &nc);
	ck_assert_uint_eq(ex, ex0 + 1);
	for (size_t i = 0; i < c.n; i++)
		if (strcmp(c.rows[i].e->id, "rfc1870.6.1.over-max-552") == 0)
			ck_assert_uint_eq(c.rows[i].nscenarios, 2);
	chk_coverage_free(&c);
	chk_coverage_free(&c);	/* twice is harmless */
}
END_TEST

START_TEST(test_coverage_untestable_list)
{
	chk_coverage c = { 0 };
	char err[256];
	static const char good[] =
	    "# comment\n"
	    "\n"
	    "rfc5321.4.5.4.1.queue-and-retry   needs days of wall-clock time\r\n"
	    "rfc5321.5.1.mx-first\tneeds DNS";
	size_t ex, un, nc;
	vbuf out = { 0 };

	chk_coverage_init(&c);
	ck_assert_int_eq(chk_coverage_untestable(&c, "u.txt", good, strlen(good), err,
	    sizeof(err)), 0);
	chk_coverage_count(&c, &ex, &un, &nc);
	ck_assert_uint_eq(un, 2);
	chk_coverage_markdown(&c, &out);
	ck_assert_ptr_nonnull(strstr(vbuf_str(&out),
	    "| `rfc5321.5.1.mx-first` | MUST | not testable | needs DNS |"));
	ck_assert_ptr_nonnull(strstr(vbuf_str(&out), "## 1. Reply codes"));
	/* Areas by number: 10.1 after 9, not after 1. */
	ck_assert_msg(strstr(vbuf_str(&out), "\n## 9.") < strstr(vbuf_str(&out), "\n## 10.1 "),
	    "area 9 after area 10.1");
	vbuf_free(&out);

	ck_assert_int_eq(chk_coverage_untestable(&c, "u.txt", "rfc5321.5.1.mx-first again\n", 27,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "u.txt:1: rfc5321.5.1.mx-first is listed twice");
	ck_assert_int_eq(chk_coverage_untestable(&c, "u.txt", "\nrfc1.nope why\n", 15, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "u.txt:2: expected a catalog id, got \"rfc1.nope\"");
	ck_assert_int_eq(chk_coverage_untestable(&c, "u.txt", "rfc3207.6.require-tls-policy  \n",
	    31, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "u.txt:1: rfc3207.6.require-tls-policy: expected a reason after the id");
	/* A row a passive check emits is testable: listing it is a mistake. */
	ck_assert_int_eq(chk_coverage_untestable(&c, "u.txt", "rfc5321.4.2.code-syntax x\n", 26,
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is exercised (a passive check)"));
	chk_coverage_free(&c);
}
END_TEST

START_TEST(test_coverage_markdown_deterministic)
{
	chk_coverage a = { 0 }, b = { 0 };
	vbuf x = { 0 }, y = { 0 };

	chk_coverage_init(&a);
	chk_coverage_init(&b);
	ck_assert_int_eq(chk_coverage_cite(&a, "rfc3030.2.250-per-chunk", "bdat.x"), 0);
	ck_assert_int_eq(chk_coverage_cite(&b, "rfc3030.2.250-per-chunk", "bdat.x"), 0);
	chk_coverage_markdown(&a, &x);
	chk_coverage_markdown(&b, &y);
	ck_assert_str_eq(vbuf_str(&x), vbuf_str(&y));
	ck_assert_ptr_nonnull(strstr(vbuf_str(&x),
	    "| `rfc3030.2.250-per-chunk` | MUST | exercised | `bdat.x` |"));
	vbuf_free(&x);
	vbuf_free(&y);
	chk_coverage_free(&a);
	chk_coverage_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("coverage");
	TCase *tc = tcase_create("coverage");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_coverage_passive_server_table);
	tcase_add_test(tc, test_coverage_passive_client_table);
	tcase_add_test(tc, test_coverage_counts_and_cite);
	tcase_add_test(tc, test_coverage_untestable_list);
	tcase_add_test(tc, test_coverage_markdown_deterministic);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
