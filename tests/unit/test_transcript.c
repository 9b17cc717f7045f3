/*
 * test_transcript - the transcript model: adding, locating, finding,
 * limits, and the name functions.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/util/harness_limits.h"

static struct sockaddr_in
v4(const char *ip, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return sin;
}

static struct sockaddr_in6
v6(const char *ip, unsigned port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	return sin6;
}

START_TEST(test_transcript_add_and_bytes)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	ck_assert_int_eq(t->client.ss_family, 0);
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 10), 0);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, 20, "220 hi\r\n", 8), 1);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 30, "EHLO x\r\n", 8), 2);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 31, "QUIT\r\n", 6), 3);
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 40), 4);
	/* len 0 adds nothing and is not a truncation */
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 50, "x", 0), -1);
	ck_assert_int_eq(t->truncated[CAP_C2S], 0);
	/* an event cannot be added as data, nor data as an event */
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_DATA, CAP_C2S, 50), -1);
	ck_assert_uint_eq(t->nsegs, 5);

	ck_assert_uint_eq(t->segs[3].off, 8);
	ck_assert_uint_eq(t->segs[3].len, 6);
	ck_assert_uint_eq(t->segs[3].ts_us, 31);
	ck_assert_int_eq(t->segs[3].dir, CAP_C2S);
	ck_assert_int_eq(t->segs[4].kind, CAP_FIN);
	ck_assert_uint_eq(t->segs[4].len, 0);
	ck_assert_uint_eq(t->stream[CAP_C2S].len, 14);
	ck_assert_int_eq(memcmp(t->stream[CAP_C2S].data, "EHLO x\r\nQUIT\r\n", 14), 0);
	ck_assert_int_eq(memcmp(cap_transcript_bytes(t, 3), "QUIT\r\n", 6), 0);
	ck_assert_int_eq(memcmp(cap_transcript_bytes(t, 1), "220 hi\r\n", 8), 0);
	ck_assert_str_eq(cap_transcript_bytes(t, 0), "");
	ck_assert_ptr_null(cap_transcript_bytes(t, 5));
	cap_transcript_free(t);
	cap_transcript_free(NULL);
}
END_TEST

START_TEST(test_transcript_binary_bytes)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	const char raw[] = { 'a', '\0', '\r', '\xff', '\0' };

	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 1, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(t->stream[CAP_C2S].len, sizeof(raw));
	ck_assert_int_eq(memcmp(cap_transcript_bytes(t, 0), raw, sizeof(raw)), 0);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_transcript_locate_edges)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	size_t seg = 99, off = 99;

	/* empty direction */
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 0, &seg, &off), -1);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1);			/* 0 */
	cap_transcript_add_data(t, CAP_C2S, 2, "abc", 3);			/* 1 */
	cap_transcript_add_data(t, CAP_S2C, 3, "220", 3);			/* 2 */
	cap_transcript_add_data(t, CAP_C2S, 4, "defg", 4);			/* 3 */
	cap_transcript_add_event(t, CAP_TLS_START, CAP_C2S, 5);		/* 4 */
	cap_transcript_add_data(t, CAP_C2S, 6, "h", 1);				/* 5 */

	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 0, &seg, &off), 0);
	ck_assert_uint_eq(seg, 1);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 2, &seg, &off), 0);
	ck_assert_uint_eq(seg, 1);
	ck_assert_uint_eq(off, 2);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 3, &seg, &off), 0);
	ck_assert_uint_eq(seg, 3);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 6, &seg, &off), 0);
	ck_assert_uint_eq(seg, 3);
	ck_assert_uint_eq(off, 3);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 7, &seg, &off), 0);
	ck_assert_uint_eq(seg, 5);
	ck_assert_uint_eq(off, 0);
	/* the end of the stream maps to the end of the last segment */
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 8, &seg, &off), 0);
	ck_assert_uint_eq(seg, 5);
	ck_assert_uint_eq(off, 1);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, 9, &seg, &off), -1);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_S2C, 3, &seg, &off), 0);
	ck_assert_uint_eq(seg, 2);
	ck_assert_uint_eq(off, 3);
	ck_assert_int_eq(cap_transcript_locate(t, CAP_S2C, 0, &seg, &off), 0);
	ck_assert_uint_eq(seg, 2);
	ck_assert_uint_eq(off, 0);
	cap_transcript_free(t);
}
END_TEST

/* Every offset of a many-segment stream agrees with a linear walk. */
START_TEST(test_transcript_locate_many)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	char buf[64];
	size_t i, o, total;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 2000; i++) {
		cap_transcript_add_data(t, (i % 3) ? CAP_C2S : CAP_S2C, i, buf, 1 + i % 37);
		if (i % 5 == 0)
			cap_transcript_add_event(t, CAP_TLS_START, CAP_C2S, i);
	}
	total = t->stream[CAP_C2S].len;
	for (o = 0; o < total; o++) {
		size_t seg, off, j;

		ck_assert_int_eq(cap_transcript_locate(t, CAP_C2S, o, &seg, &off), 0);
		ck_assert_int_eq(t->segs[seg].kind, CAP_DATA);
		ck_assert_int_eq(t->segs[seg].dir, CAP_C2S);
		ck_assert_uint_eq(t->segs[seg].off + off, o);
		ck_assert_uint_lt(off, t->segs[seg].len);
		/* no later C2S data segment starts at or before o */
		for (j = seg + 1; j < t->nsegs && o % 97 == 0; j++)
			if (t->segs[j].kind == CAP_DATA && t->segs[j].dir == CAP_C2S)
				ck_assert_uint_gt(t->segs[j].off, o);
	}
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_transcript_find)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);

	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1);		/* 0 */
	cap_transcript_add_data(t, CAP_S2C, 2, "220\r\n", 5);		/* 1 */
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 3);		/* 2 */
	cap_transcript_add_data(t, CAP_C2S, 4, "Q", 1);			/* 3 */
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, 5);		/* 4 */

	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_OPEN, CAP_S2C, 1), 0);
	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_OPEN, CAP_S2C, 0), -1);
	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_FIN, CAP_C2S, 0), 4);
	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_FIN, CAP_C2S, 1), 2);
	ck_assert_int_eq(cap_transcript_find(t, 2, CAP_FIN, CAP_C2S, 1), 2);
	ck_assert_int_eq(cap_transcript_find(t, 3, CAP_FIN, CAP_S2C, 0), -1);
	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_DATA, CAP_C2S, 0), 3);
	ck_assert_int_eq(cap_transcript_find(t, 0, CAP_RST, CAP_C2S, 1), -1);
	ck_assert_int_eq(cap_transcript_find(t, 5, CAP_FIN, CAP_C2S, 1), -1);
	ck_assert_int_eq(cap_transcript_find(t, 1000, CAP_FIN, CAP_C2S, 1), -1);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_transcript_segment_limit)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	size_t i;

	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, 0, "220\r\n", 5), 0);
	for (i = 1; i < HARNESS_SEGMENTS_MAX; i++)
		ck_assert_int_ge(cap_transcript_add_event(t, CAP_TLS_START, CAP_C2S, i), 0);
	ck_assert_uint_eq(t->nsegs, HARNESS_SEGMENTS_MAX);
	ck_assert_int_eq(t->truncated[CAP_C2S], 0);
	ck_assert_int_eq(t->truncated[CAP_S2C], 0);

	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 1, "QUIT\r\n", 6), -1);
	ck_assert_int_eq(t->truncated[CAP_C2S], 1);
	ck_assert_int_eq(t->truncated[CAP_S2C], 0);
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 1), -1);
	ck_assert_int_eq(t->truncated[CAP_S2C], 1);
	ck_assert_uint_eq(t->nsegs, HARNESS_SEGMENTS_MAX);
	ck_assert_uint_eq(t->stream[CAP_C2S].len, 0);
	/* what was kept is still usable */
	{
		size_t seg, off;

		ck_assert_int_eq(cap_transcript_locate(t, CAP_S2C, 4, &seg, &off), 0);
		ck_assert_uint_eq(seg, 0);
		ck_assert_uint_eq(off, 4);
	}
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_transcript_byte_limit)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	size_t big = (size_t)HARNESS_STREAM_MAX + 1;
	char *buf = calloc(1, big);

	ck_assert_ptr_nonnull(buf);
	/* one add larger than the limit is dropped whole */
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 1, buf, big), -1);
	ck_assert_int_eq(t->truncated[CAP_C2S], 1);
	ck_assert_uint_eq(t->stream[CAP_C2S].len, 0);
	ck_assert_uint_eq(t->nsegs, 0);
	/* after a loss that direction takes nothing more: no silent gap */
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_C2S, 2, "a", 1), -1);
	ck_assert_uint_eq(t->stream[CAP_C2S].len, 0);

	/* exactly the limit fits; one byte more does not */
	ck_assert_int_eq(t->truncated[CAP_S2C], 0);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, 3, buf, big - 1), 0);
	ck_assert_uint_eq(t->stream[CAP_S2C].len, HARNESS_STREAM_MAX);
	ck_assert_int_eq(t->truncated[CAP_S2C], 0);
	ck_assert_int_eq(cap_transcript_add_data(t, CAP_S2C, 4, "b", 1), -1);
	ck_assert_int_eq(t->truncated[CAP_S2C], 1);
	ck_assert_uint_eq(t->stream[CAP_S2C].len, HARNESS_STREAM_MAX);
	/* events still go in */
	ck_assert_int_eq(cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 5), 1);
	free(buf);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_transcript_endpoints_and_names)
{
	struct sockaddr_in c = v4("192.0.2.7", 40001);
	struct sockaddr_in6 s = v6("2001:db8::25", 2525);
	struct sockaddr_in6 c6 = v6("::1", 1);
	struct sockaddr unk;
	cap_transcript *t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	char buf[80], tiny[6];

	ck_assert_str_eq(cap_addr_str(&t->client, buf, sizeof(buf)), "192.0.2.7:40001");
	ck_assert_str_eq(cap_addr_str(&t->server, buf, sizeof(buf)), "[2001:db8::25]:2525");
	/* NULL leaves an endpoint as it was */
	cap_transcript_set_endpoints(t, (struct sockaddr *)&c6, NULL);
	ck_assert_str_eq(cap_addr_str(&t->client, buf, sizeof(buf)), "[::1]:1");
	ck_assert_str_eq(cap_addr_str(&t->server, buf, sizeof(buf)), "[2001:db8::25]:2525");
	memset(&unk, 0, sizeof(unk));
	unk.sa_family = AF_UNIX;
	cap_transcript_set_endpoints(t, &unk, NULL);
	ck_assert_str_eq(cap_addr_str(&t->client, buf, sizeof(buf)), "?");
	ck_assert_str_eq(cap_addr_str(NULL, buf, sizeof(buf)), "?");
	/* a short buffer is cut, never overrun */
	ck_assert_str_eq(cap_addr_str(&t->server, tiny, sizeof(tiny)), "[2001");
	cap_transcript_free(t);

	t = cap_transcript_new(NULL, NULL);
	ck_assert_str_eq(cap_addr_str(&t->server, buf, sizeof(buf)), "?");
	cap_transcript_free(t);

	ck_assert_str_eq(cap_dir_str(CAP_C2S), "C2S");
	ck_assert_str_eq(cap_dir_str(CAP_S2C), "S2C");
	ck_assert_str_eq(cap_kind_str(CAP_DATA), "data");
	ck_assert_str_eq(cap_kind_str(CAP_OPEN), "open");
	ck_assert_str_eq(cap_kind_str(CAP_FIN), "fin");
	ck_assert_str_eq(cap_kind_str(CAP_RST), "rst");
	ck_assert_str_eq(cap_kind_str(CAP_TLS_START), "tls-start");
	ck_assert_str_eq(cap_kind_str(CAP_GAP), "gap");
	/* 2020-01-01 as a sanity floor for the wall clock */
	ck_assert_uint_gt(cap_now_us(), (uint64_t)1577836800 * 1000000u);
}
END_TEST

/* The cut before a gap: after the last data segment of the gap's own
 * direction before it, the earliest over all gaps; a prefix keeps the
 * segment indices and bytes. */
START_TEST(test_transcript_gap_cut_and_prefix)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	cap_transcript *p;
	long first;

	ck_assert_int_eq(cap_transcript_gap_cut(t, &first), -1);
	ck_assert_int_eq(first, -1);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1);			/* 0 */
	cap_transcript_add_data(t, CAP_S2C, 2, "220 x\r\n", 7);		/* 1 */
	cap_transcript_add_data(t, CAP_C2S, 3, "EHLO c\r\n", 8);		/* 2 */
	cap_transcript_add_data(t, CAP_S2C, 4, "250 x\r\n", 7);		/* 3 */
	cap_transcript_add_data(t, CAP_C2S, 5, "MAIL FROM:<>\r\n", 14);	/* 4 */
	cap_transcript_add_data(t, CAP_C2S, 6, "RCPT TO:<b@c>\r\n", 15);	/* 5 */
	ck_assert_int_eq(cap_transcript_gap_cut(t, &first), -1);
	/* the reply to MAIL lost: known only when the reply to RCPT comes */
	cap_transcript_add_gap(t, CAP_S2C, 7, 14);				/* 6 */
	cap_transcript_add_data(t, CAP_S2C, 7, "250 ok\r\n", 8);		/* 7 */
	ck_assert_int_eq(cap_transcript_gap_cut(t, &first), 4);
	ck_assert_int_eq(first, 6);
	/* a later gap of the client's cuts after its own last data */
	cap_transcript_add_gap(t, CAP_C2S, 8, 6);				/* 8 */
	ck_assert_int_eq(cap_transcript_gap_cut(t, &first), 4);
	ck_assert_int_eq(first, 6);

	p = cap_transcript_prefix(t, 4);
	ck_assert_uint_eq(p->nsegs, 4);
	ck_assert_int_eq(p->segs[0].kind, CAP_OPEN);
	ck_assert_mem_eq(cap_transcript_bytes(p, 3), "250 x\r\n", 7);
	ck_assert_uint_eq(p->segs[3].off, t->segs[3].off);
	ck_assert_int_eq(cap_transcript_gap_cut(p, &first), -1);
	cap_transcript_free(p);
	cap_transcript_free(t);

	/* a gap before any byte of its direction: cut after the opening */
	t = cap_transcript_new(NULL, NULL);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1);
	cap_transcript_add_data(t, CAP_C2S, 2, "EHLO c\r\n", 8);
	cap_transcript_add_gap(t, CAP_S2C, 3, 20);
	ck_assert_int_eq(cap_transcript_gap_cut(t, &first), 1);
	ck_assert_int_eq(first, 2);
	cap_transcript_free(t);
}
END_TEST

static Suite *
transcript_suite(void)
{
	Suite *s = suite_create("transcript");
	TCase *tc = tcase_create("core");
	TCase *lim = tcase_create("limits");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_transcript_add_and_bytes);
	tcase_add_test(tc, test_transcript_binary_bytes);
	tcase_add_test(tc, test_transcript_locate_edges);
	tcase_add_test(tc, test_transcript_locate_many);
	tcase_add_test(tc, test_transcript_find);
	tcase_add_test(tc, test_transcript_endpoints_and_names);
	tcase_add_test(tc, test_transcript_gap_cut_and_prefix);
	suite_add_tcase(s, tc);
	tcase_set_timeout(lim, 120);
	tcase_add_test(lim, test_transcript_segment_limit);
	tcase_add_test(lim, test_transcript_byte_limit);
	suite_add_tcase(s, lim);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(transcript_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
