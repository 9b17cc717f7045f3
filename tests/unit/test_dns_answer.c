#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-dns/dns_answer.h"
#include "fake-dns/dns_zone.h"
#include "harness/util/xalloc.h"

static dns_zone *zone;

static void
setup(void)
{
	char err[1024] = "";

	if (dns_zone_load_file(HARNESS_SOURCE_DIR "/fake-dns/examples/example.test.json", &zone,
	    err, sizeof(err)) != 0)
		ck_abort_msg("%s", err);
}

static void
teardown(void)
{
	dns_zone_free(zone);
	zone = NULL;
}

static void
query(dns_msg *q, const char *name, uint16_t type, int edns)
{
	memset(q, 0, sizeof(*q));
	q->id = 0x4242;
	q->flags = DNS_FLAG_RD;
	q->q = xcalloc(1, sizeof(dns_question));
	q->nq = 1;
	snprintf(q->q[0].name, sizeof(q->q[0].name), "%s", name);
	q->q[0].type = type;
	q->q[0].class_ = DNS_CLASS_IN;
	if (edns) {
		q->edns.present = 1;
		q->edns.udp_size = 4096;
	}
}

/* Asks name/type over UDP or TCP; returns the answer, parsed back from
 * the wire so that what is checked is what a client gets. */
static void
ask(const char *name, uint16_t type, int udp, int edns, dns_answer *a, dns_msg *wire)
{
	dns_msg q;
	vbuf out = VBUF_INIT;
	char err[256];

	query(&q, name, type, edns);
	dns_answer_build(zone, &q, udp, a);
	memset(wire, 0, sizeof(*wire));
	if (!a->drop) {
		ck_assert_int_eq(dns_answer_encode(a, &out), 0);
		ck_assert_uint_le(out.len, a->max);
		if (dns_wire_parse((uint8_t *)out.data, out.len, wire, err, sizeof(err)) != 0)
			ck_abort_msg("answer does not parse: %s", err);
		ck_assert_uint_eq(wire->id, 0x4242);
		ck_assert(wire->flags & DNS_FLAG_QR);
		ck_assert(wire->flags & DNS_FLAG_RD);
		ck_assert(!(wire->flags & DNS_FLAG_RA));
		ck_assert_uint_eq(wire->nq, 1);
		ck_assert_str_eq(wire->q[0].name, name);
	}
	dns_msg_free(&q);
	vbuf_free(&out);
}

START_TEST(test_dns_answer_mx_with_glue)
{
	dns_answer a;
	dns_msg m;

	ask("Example.Test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert(m.flags & DNS_FLAG_AA);
	ck_assert_uint_eq(m.nrr[0], 2);
	ck_assert_str_eq(m.rr[0][0].name, "Example.Test");
	ck_assert_uint_eq(m.rr[0][0].preference, 10);
	/* compression may point into the question, case and all */
	ck_assert(dns_name_eq(m.rr[0][0].target, "mx1.example.test"));
	ck_assert_uint_eq(m.rr[0][1].preference, 20);
	/* mx1 A and AAAA, mx2 A */
	ck_assert_uint_eq(m.nrr[2], 3);
	ck_assert_uint_eq(m.rr[2][0].type, DNS_TYPE_A);
	ck_assert_uint_eq(m.rr[2][1].type, DNS_TYPE_AAAA);
	ck_assert_uint_eq(m.rr[2][2].addr[3], 3);
	ck_assert_int_eq(m.edns.present, 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_dns_answer_nxdomain_vs_nodata)
{
	dns_answer a;
	dns_msg m;

	ask("nothing.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[0], 0);
	ck_assert_uint_eq(m.nrr[1], 1);
	ck_assert_uint_eq(m.rr[1][0].type, DNS_TYPE_SOA);
	ck_assert_uint_eq(m.rr[1][0].ttl, 60);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* mx2 has an A but no MX: NODATA */
	ask("mx2.example.test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 0);
	ck_assert_uint_eq(m.nrr[1], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* an empty non-terminal exists */
	ask("in-addr.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* outside the zone: REFUSED, not authoritative */
	ask("example.org", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_REFUSED);
	ck_assert(!(m.flags & DNS_FLAG_AA));
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_dns_answer_cname)
{
	dns_answer a;
	dns_msg m;

	ask("MAIL.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 2);
	ck_assert_uint_eq(m.rr[0][0].type, DNS_TYPE_CNAME);
	ck_assert_str_eq(m.rr[0][0].name, "MAIL.example.test");
	ck_assert_uint_eq(m.rr[0][1].type, DNS_TYPE_A);
	ck_assert(dns_name_eq(m.rr[0][1].name, "mx1.example.test"));
	ck_assert_uint_eq(m.rr[0][1].addr[3], 2);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* asking for the CNAME itself does not chase it */
	ask("mail.example.test", DNS_TYPE_CNAME, 1, 0, &a, &m);
	ck_assert_uint_eq(m.nrr[0], 1);
	ck_assert_uint_eq(m.rr[0][0].type, DNS_TYPE_CNAME);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* chased to a name without that type: NODATA after the CNAME */
	ask("mail.example.test", DNS_TYPE_TXT, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 1);
	ck_assert_uint_eq(m.nrr[1], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_dns_answer_cname_loop)
{
	static const char text[] = "{\"zone\": \"l.test\", \"records\": ["
	    "{\"name\": \"a.l.test\", \"type\": \"CNAME\", \"target\": \"b.l.test\"},"
	    "{\"name\": \"b.l.test\", \"type\": \"CNAME\", \"target\": \"a.l.test\"},"
	    "{\"name\": \"c.l.test\", \"type\": \"CNAME\", \"target\": \"mx.elsewhere.test\"}]}";
	dns_zone *saved = zone, *lz = NULL;
	char err[512];
	dns_answer a;
	dns_msg m;

	ck_assert_int_eq(dns_zone_load_buffer("l.json", text, strlen(text), &lz, err, sizeof(err)), 0);
	zone = lz;
	ask("a.l.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], DNS_CNAME_CHAIN_MAX);
	dns_answer_free(&a);
	dns_msg_free(&m);
	ask("c.l.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 1);
	ck_assert_uint_eq(m.nrr[1], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
	zone = saved;
	dns_zone_free(lz);
}
END_TEST

START_TEST(test_dns_answer_null_mx)
{
	dns_answer a;
	dns_msg m;

	ask("nullmx.example.test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 1);
	ck_assert_uint_eq(m.rr[0][0].preference, 0);
	ck_assert_str_eq(m.rr[0][0].target, ".");
	ck_assert_uint_eq(m.nrr[2], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_dns_answer_behaviours)
{
	dns_answer a;
	dns_msg m;

	ask("gone.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[1], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);

	ask("broken.example.test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(m.nrr[0] + m.nrr[1] + m.nrr[2], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);

	ask("closed.example.test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_REFUSED);
	dns_answer_free(&a);
	dns_msg_free(&m);

	ask("empty.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 0);
	ck_assert_uint_eq(m.nrr[1], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* a behaviour for MX only leaves A alone */
	ask("mxfail.example.test", DNS_TYPE_MX, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_SERVFAIL);
	dns_answer_free(&a);
	dns_msg_free(&m);
	ask("mxfail.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[0], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);

	ask("slow.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert_uint_eq(a.delay_ms, 300);
	ck_assert_int_eq(a.drop, 0);
	dns_answer_free(&a);
	dns_msg_free(&m);

	ask("silent.example.test", DNS_TYPE_A, 0, 0, &a, &m);
	ck_assert_int_eq(a.drop, 1);
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

/* A behaviour with for_queries or for_ms stops after its first queries,
 * or some time after the first one; the name is then answered from its
 * records. The memo counts per behaviour, not per name. */
START_TEST(test_dns_answer_behaviour_runs_out)
{
	static const char text[] =
	    "{\"zone\": \"x.test\", \"records\": [\n"
	    "  {\"name\": \"q.x.test\", \"type\": \"MX\", \"preference\": 10, \"exchange\": \"mx.x.test\"},\n"
	    "  {\"name\": \"t.x.test\", \"type\": \"MX\", \"preference\": 10, \"exchange\": \"mx.x.test\"},\n"
	    "  {\"name\": \"mx.x.test\", \"type\": \"A\", \"address\": \"127.0.0.2\"}],\n"
	    " \"behaviours\": [\n"
	    "  {\"name\": \"q.x.test\", \"rcode\": \"SERVFAIL\", \"for_queries\": 2},\n"
	    "  {\"name\": \"t.x.test\", \"type\": \"MX\", \"rcode\": \"SERVFAIL\", \"for_ms\": 1000}]}";
	static const struct {
		const char *name;
		uint64_t ms;
		int rcode;
	} seq[] = {
		{ "q.x.test", 5000, DNS_RCODE_SERVFAIL },
		{ "Q.x.test", 9000, DNS_RCODE_SERVFAIL },
		{ "q.x.test", 9001, DNS_RCODE_NOERROR },
		{ "q.x.test", 9002, DNS_RCODE_NOERROR },
		{ "t.x.test", 20000, DNS_RCODE_SERVFAIL },
		{ "t.x.test", 20999, DNS_RCODE_SERVFAIL },
		{ "t.x.test", 21000, DNS_RCODE_NOERROR },
		{ "t.x.test", 19000, DNS_RCODE_SERVFAIL },	/* a clock set back: still failing */
	};
	dns_zone *z = NULL;
	dns_answer_memo memo;
	char err[512] = "";

	if (dns_zone_load_buffer("z.json", text, sizeof(text) - 1, &z, err, sizeof(err)) != 0)
		ck_abort_msg("%s", err);
	ck_assert_uint_eq(z->beh[0].for_queries, 2);
	ck_assert_uint_eq(z->beh[1].for_ms, 1000);
	dns_answer_memo_init(&memo, z);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		dns_msg q;
		dns_answer a;

		query(&q, seq[i].name, DNS_TYPE_MX, 0);
		dns_answer_build_at(z, &memo, seq[i].ms, &q, 1, &a);
		ck_assert_msg((a.msg.flags & 0xf) == seq[i].rcode, "query %zu: rcode %d", i,
		    a.msg.flags & 0xf);
		if (seq[i].rcode == DNS_RCODE_NOERROR) {
			ck_assert_uint_eq(a.msg.nrr[DNS_SEC_ANSWER], 1);
			ck_assert_uint_eq(a.msg.nrr[DNS_SEC_ADDITIONAL], 1);
		}
		dns_answer_free(&a);
		dns_msg_free(&q);
	}
	ck_assert_uint_eq(memo.hits[0], 4);
	ck_assert_uint_eq(memo.hits[1], 4);

	/* Without a memo every query is the first: the behaviour applies. */
	for (int i = 0; i < 3; i++) {
		dns_msg q;
		dns_answer a;

		query(&q, "q.x.test", DNS_TYPE_MX, 0);
		dns_answer_build(z, &q, 1, &a);
		ck_assert_int_eq(a.msg.flags & 0xf, DNS_RCODE_SERVFAIL);
		dns_answer_free(&a);
		dns_msg_free(&q);
	}
	dns_answer_memo_free(&memo);
	dns_zone_free(z);
}
END_TEST

START_TEST(test_dns_answer_tc_over_udp)
{
	dns_answer a;
	dns_msg m;

	/* truncate_udp: TC and nothing over UDP, the records over TCP */
	ask("tc.example.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert(m.flags & DNS_FLAG_TC);
	ck_assert_int_eq(a.truncated, 1);
	ck_assert_uint_eq(m.nrr[0], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
	ask("tc.example.test", DNS_TYPE_A, 0, 0, &a, &m);
	ck_assert(!(m.flags & DNS_FLAG_TC));
	ck_assert_uint_eq(m.nrr[0], 1);
	dns_answer_free(&a);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_dns_answer_tc_by_size)
{
	static const char head[] = "{\"zone\": \"s.test\", \"records\": [";
	dns_zone *saved = zone, *sz = NULL;
	vbuf text = VBUF_INIT;
	char err[512];
	dns_answer a;
	dns_msg m;

	/* 40 A records: 12 + 22 + 40 * 16 = 674 octets, over 512 */
	vbuf_append_str(&text, head);
	for (int i = 0; i < 40; i++)
		vbuf_printf(&text, "%s{\"name\": \"many.s.test\", \"type\": \"A\", \"address\": "
		    "\"10.0.0.%d\"}", i ? "," : "", i);
	vbuf_append_str(&text, "]}");
	ck_assert_int_eq(dns_zone_load_buffer("s.json", text.data, text.len, &sz, err,
	    sizeof(err)), 0);
	zone = sz;
	ask("many.s.test", DNS_TYPE_A, 1, 0, &a, &m);
	ck_assert(m.flags & DNS_FLAG_TC);
	ck_assert_uint_eq(m.nrr[0], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
	/* with EDNS0 and 4096 offered, up to our 1232 */
	ask("many.s.test", DNS_TYPE_A, 1, 1, &a, &m);
	ck_assert(!(m.flags & DNS_FLAG_TC));
	ck_assert_uint_eq(m.nrr[0], 40);
	ck_assert_int_eq(m.edns.present, 1);
	ck_assert_uint_eq(m.edns.udp_size, DNS_EDNS_UDP_SIZE);
	ck_assert_uint_eq(a.max, DNS_EDNS_UDP_SIZE);
	dns_answer_free(&a);
	dns_msg_free(&m);
	/* over TCP, whole */
	ask("many.s.test", DNS_TYPE_A, 0, 0, &a, &m);
	ck_assert_uint_eq(m.nrr[0], 40);
	dns_answer_free(&a);
	dns_msg_free(&m);
	zone = saved;
	dns_zone_free(sz);
	vbuf_free(&text);
}
END_TEST

START_TEST(test_dns_answer_record_limit)
{
	dns_zone *saved = zone, *sz = NULL;
	vbuf text = VBUF_INIT;
	char err[512];
	dns_answer a;
	dns_msg m;

	/* more records at one name than a message may hold: the first
	 * DNS_RRS_MAX, and TC even over TCP, never a silent cut */
	vbuf_append_str(&text, "{\"zone\": \"s.test\", \"records\": [");
	for (int i = 0; i < DNS_RRS_MAX + 6; i++)
		vbuf_printf(&text, "%s{\"name\": \"many.s.test\", \"type\": \"A\", \"address\": "
		    "\"10.0.%d.%d\"}", i ? "," : "", i / 256, i % 256);
	vbuf_append_str(&text, "]}");
	ck_assert_int_eq(dns_zone_load_buffer("s.json", text.data, text.len, &sz, err,
	    sizeof(err)), 0);
	zone = sz;
	ask("many.s.test", DNS_TYPE_A, 0, 0, &a, &m);
	ck_assert(m.flags & DNS_FLAG_TC);
	ck_assert_uint_eq(m.nrr[0], DNS_RRS_MAX);
	dns_answer_free(&a);
	dns_msg_free(&m);
	zone = saved;
	dns_zone_free(sz);
	vbuf_free(&text);
}
END_TEST

START_TEST(test_dns_answer_edns)
{
	dns_answer a;
	dns_msg q, m;
	vbuf out = VBUF_INIT;
	char err[256];

	ask("mx1.example.test", DNS_TYPE_A, 1, 1, &a, &m);
	ck_assert_int_eq(m.edns.present, 1);
	ck_assert_uint_eq(m.edns.version, 0);
	dns_answer_free(&a);
	dns_msg_free(&m);

	/* a payload size under 512 counts as 512 (RFC 6891 §6.2.5) */
	query(&q, "mx1.example.test", DNS_TYPE_A, 1);
	q.edns.udp_size = 100;
	q.edns.flags = DNS_EDNS_DO;
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_uint_eq(a.max, DNS_UDP_PLAIN_MAX);
	ck_assert_uint_eq(a.msg.edns.flags, DNS_EDNS_DO);
	dns_answer_free(&a);

	/* EDNS version 1: BADVERS, in the OPT's extended rcode */
	q.edns.version = 1;
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_int_eq(dns_answer_encode(&a, &out), 0);
	ck_assert_int_eq(dns_wire_parse((uint8_t *)out.data, out.len, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_BADVERS);
	ck_assert_uint_eq(m.nrr[0], 0);
	dns_answer_free(&a);
	dns_msg_free(&m);
	dns_msg_free(&q);
	vbuf_free(&out);
}
END_TEST

START_TEST(test_dns_answer_odd_queries)
{
	dns_answer a;
	dns_msg q;
	vbuf out = VBUF_INIT;
	static const uint8_t bad[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c };

	/* a response is never answered */
	query(&q, "example.test", DNS_TYPE_A, 0);
	q.flags |= DNS_FLAG_QR;
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_int_eq(a.drop, 1);
	dns_answer_free(&a);
	/* NOTIFY (opcode 4): NOTIMP */
	q.flags = (uint16_t)(4 << 11);
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_int_eq(dns_msg_rcode(&a.msg), DNS_RCODE_NOTIMP);
	dns_answer_free(&a);
	/* class CH: REFUSED; AXFR: REFUSED */
	q.flags = 0;
	q.q[0].class_ = 3;
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_int_eq(dns_msg_rcode(&a.msg), DNS_RCODE_REFUSED);
	dns_answer_free(&a);
	q.q[0].class_ = DNS_CLASS_IN;
	q.q[0].type = 252;
	dns_answer_build(zone, &q, 0, &a);
	ck_assert_int_eq(dns_msg_rcode(&a.msg), DNS_RCODE_REFUSED);
	dns_answer_free(&a);
	/* no question: FORMERR */
	q.nq = 0;
	dns_answer_build(zone, &q, 1, &a);
	ck_assert_int_eq(dns_msg_rcode(&a.msg), DNS_RCODE_FORMERR);
	dns_answer_free(&a);
	q.nq = 1;
	dns_msg_free(&q);

	/* a packet that does not parse gets FORMERR with its id */
	ck_assert_int_eq(dns_answer_formerr(bad, sizeof(bad), &out), 0);
	ck_assert_uint_eq(out.len, 12);
	ck_assert_mem_eq(out.data, "\x12\x34\x81\x01\0\0\0\0\0\0\0\0", 12);
	vbuf_reset(&out);
	ck_assert_int_eq(dns_answer_formerr(bad, 11, &out), -1);
	ck_assert_int_eq(dns_answer_formerr((const uint8_t *)"\0\0\x80\0\0\0\0\0\0\0\0\0", 12, &out), -1);
	vbuf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns_answer");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dns_answer_mx_with_glue);
	tcase_add_test(tc, test_dns_answer_nxdomain_vs_nodata);
	tcase_add_test(tc, test_dns_answer_cname);
	tcase_add_test(tc, test_dns_answer_cname_loop);
	tcase_add_test(tc, test_dns_answer_null_mx);
	tcase_add_test(tc, test_dns_answer_behaviours);
	tcase_add_test(tc, test_dns_answer_behaviour_runs_out);
	tcase_add_test(tc, test_dns_answer_tc_over_udp);
	tcase_add_test(tc, test_dns_answer_tc_by_size);
	tcase_add_test(tc, test_dns_answer_record_limit);
	tcase_add_test(tc, test_dns_answer_edns);
	tcase_add_test(tc, test_dns_answer_odd_queries);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
