/*
 * histo - a fixed log-linear histogram of non-negative integers.
 *
 * Values (microseconds, say) fall into buckets of HISTO_SUB linear steps
 * per power of two, so a quantile read back is within 1/HISTO_SUB
 * (6.25 %) of the true value whatever the range, and the memory is fixed
 * (HISTO_BUCKETS counters) however many values are added. The exact
 * minimum, maximum and sum are kept beside the buckets. Pure: no I/O, no
 * allocation; a histo is a plain struct, zeroed to start.
 */
#ifndef HARNESS_UTIL_HISTO_H
#define HARNESS_UTIL_HISTO_H

#include <stdint.h>

#define HISTO_SUB_BITS	4				/* 16 steps per power of two */
#define HISTO_SUB	(1u << HISTO_SUB_BITS)
#define HISTO_BUCKETS	((64 - HISTO_SUB_BITS + 1) * HISTO_SUB)

typedef struct histo {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	uint64_t sum;		/* saturates at UINT64_MAX */
	uint64_t bucket[HISTO_BUCKETS];
} histo;

/* Counts one value. */
void histo_add(histo *h, uint64_t v);
/* Adds every value of src into dst. */
void histo_merge(histo *dst, const histo *src);
/* The value at quantile q (0..1): the upper bound of the bucket that
 * holds it, clamped to [min, max]; 0 when the histogram is empty. */
uint64_t histo_quantile(const histo *h, double q);

#endif
