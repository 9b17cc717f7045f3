/*
 * histo - a fixed log-linear histogram (see histo.h).
 *
 * Bucket of v: below HISTO_SUB, v itself; else, with e the index of v's
 * top bit, the HISTO_SUB_BITS bits under it pick one of HISTO_SUB steps
 * in the power of two [2^e, 2^(e+1)).
 */
#include "harness/util/histo.h"

static unsigned
histo_index(uint64_t v)
{
	unsigned e;

	if (v < HISTO_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - HISTO_SUB_BITS + 1) * HISTO_SUB +
	    (unsigned)((v >> (e - HISTO_SUB_BITS)) & (HISTO_SUB - 1));
}

/* The largest value that falls in bucket i. */
static uint64_t
histo_upper(unsigned i)
{
	unsigned e;
	uint64_t sub;

	if (i < HISTO_SUB)
		return i;
	e = i / HISTO_SUB + HISTO_SUB_BITS - 1;
	sub = i % HISTO_SUB;
	if (e >= 63 && sub == HISTO_SUB - 1)
		return UINT64_MAX;
	return ((uint64_t)1 << e) + ((sub + 1) << (e - HISTO_SUB_BITS)) - 1;
}

void
histo_add(histo *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum = (h->sum > UINT64_MAX - v) ? UINT64_MAX : h->sum + v;
	h->count++;
	h->bucket[histo_index(v)]++;
}

void
histo_merge(histo *dst, const histo *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum = (dst->sum > UINT64_MAX - src->sum) ? UINT64_MAX : dst->sum + src->sum;
	dst->count += src->count;
	for (unsigned i = 0; i < HISTO_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t
histo_quantile(const histo *h, double q)
{
	uint64_t rank;
	uint64_t seen = 0;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The smallest value with at least q of all values at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HISTO_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t u = histo_upper(i);

			return u < h->min ? h->min : u > h->max ? h->max : u;
		}
	}
	return h->max;
}
