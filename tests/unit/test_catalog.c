#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/catalog.h"

START_TEST(test_catalog_has_every_row)
{
	/* shared/CONFORMANCE.md counts 180 rows. */
	ck_assert_uint_eq(chk_catalog_count(), 180);
}
END_TEST

START_TEST(test_catalog_sorted_and_unique)
{
	for (size_t i = 1; i < chk_catalog_count(); i++)
		ck_assert_int_lt(strcmp(chk_catalog_at(i - 1)->id, chk_catalog_at(i)->id), 0);
	ck_assert_ptr_null(chk_catalog_at(chk_catalog_count()));
}
END_TEST

START_TEST(test_catalog_find_and_keyword)
{
	const chk_entry *e = chk_catalog_find("rfc5321.4.2.1.multiline-format");

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->keyword, CHK_MUST);
	ck_assert_str_eq(e->refs, "RFC 5321 §4.2.1");
	ck_assert_int_eq(chk_keyword_verdict(e->keyword), RPT_FAIL);

	e = chk_catalog_find("rfc5321.4.2.4.500-vs-502");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->keyword, CHK_SHOULD);
	ck_assert_int_eq(chk_keyword_verdict(e->keyword), RPT_WARN);

	e = chk_catalog_find("rfc2920.3.1.content-first-in-group");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(chk_keyword_verdict(e->keyword), RPT_INFO);

	ck_assert_ptr_null(chk_catalog_find("rfc5321.no-such-row"));
	ck_assert_ptr_null(chk_catalog_find(NULL));
}
END_TEST

START_TEST(test_catalog_keyword_parse)
{
	ck_assert_int_eq(chk_keyword_parse("MUST"), CHK_MUST);
	ck_assert_int_eq(chk_keyword_parse("should"), CHK_SHOULD);
	ck_assert_int_eq(chk_keyword_parse("May"), CHK_MAY);
	ck_assert_int_eq(chk_keyword_parse("shall"), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_catalog_has_every_row);
	tcase_add_test(tc, test_catalog_sorted_and_unique);
	tcase_add_test(tc, test_catalog_find_and_keyword);
	tcase_add_test(tc, test_catalog_keyword_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
