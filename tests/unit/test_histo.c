/*
 * test_histo - the log-linear histogram: exact extremes, quantiles within
 * one bucket (1/16) of the truth, merging, and the edges of the range.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/histo.h"

static histo h1, h2;

START_TEST(test_histo_empty)
{
	memset(&h1, 0, sizeof(h1));
	ck_assert_uint_eq(histo_quantile(&h1, 0.5), 0);
	ck_assert_uint_eq(h1.count, 0);
}
END_TEST

START_TEST(test_histo_small_values_exact)
{
	memset(&h1, 0, sizeof(h1));
	for (uint64_t v = 0; v < 16; v++)
		histo_add(&h1, v);
	ck_assert_uint_eq(h1.min, 0);
	ck_assert_uint_eq(h1.max, 15);
	ck_assert_uint_eq(histo_quantile(&h1, 0.5), 7);
	ck_assert_uint_eq(histo_quantile(&h1, 1.0), 15);
}
END_TEST

START_TEST(test_histo_quantiles_within_a_bucket)
{
	memset(&h1, 0, sizeof(h1));
	for (uint64_t v = 1; v <= 100000; v++)
		histo_add(&h1, v);
	ck_assert_uint_eq(h1.count, 100000);
	ck_assert_uint_eq(h1.min, 1);
	ck_assert_uint_eq(h1.max, 100000);
	{
		static const double qs[] = { 0.5, 0.9, 0.99 };

		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			double truth = qs[i] * 100000;
			double got = (double)histo_quantile(&h1, qs[i]);

			ck_assert(got >= truth);
			ck_assert(got <= truth * (1.0 + 1.0 / HISTO_SUB) + 1);
		}
	}
}
END_TEST

START_TEST(test_histo_merge)
{
	memset(&h1, 0, sizeof(h1));
	memset(&h2, 0, sizeof(h2));
	histo_add(&h1, 1000);
	histo_add(&h2, 5);
	histo_add(&h2, 1u << 20);
	histo_merge(&h1, &h2);
	ck_assert_uint_eq(h1.count, 3);
	ck_assert_uint_eq(h1.min, 5);
	ck_assert_uint_eq(h1.max, 1u << 20);
	ck_assert_uint_eq(h1.sum, 1000 + 5 + (1u << 20));
	ck_assert_uint_eq(histo_quantile(&h1, 0.01), 5);
}
END_TEST

START_TEST(test_histo_extremes)
{
	memset(&h1, 0, sizeof(h1));
	histo_add(&h1, UINT64_MAX);
	histo_add(&h1, UINT64_MAX);
	ck_assert_uint_eq(h1.sum, UINT64_MAX);
	ck_assert(histo_quantile(&h1, 0.5) == UINT64_MAX);
	histo_add(&h1, 1);
	ck_assert_uint_eq(histo_quantile(&h1, 0.2), 1);
}
END_TEST

static Suite *
histo_suite(void)
{
	Suite *s = suite_create("histo");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_histo_empty);
	tcase_add_test(tc, test_histo_small_values_exact);
	tcase_add_test(tc, test_histo_quantiles_within_a_bucket);
	tcase_add_test(tc, test_histo_merge);
	tcase_add_test(tc, test_histo_extremes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(histo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
