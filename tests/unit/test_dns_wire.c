#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake-dns/dns_wire.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

static dns_rr
mk_rr(const char *name, uint16_t type)
{
	dns_rr rr;

	memset(&rr, 0, sizeof(rr));
	snprintf(rr.name, sizeof(rr.name), "%s", name);
	rr.type = type;
	rr.class_ = DNS_CLASS_IN;
	rr.ttl = 300;
	return rr;
}

static int
has_bytes(const vbuf *b, const char *needle, size_t n)
{
	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, needle, n) == 0)
			return 1;
	return 0;
}

/* A response with one record of every type the codec knows, and EDNS0. */
static void
build_all(dns_msg *m)
{
	dns_rr rr;
	static const uint8_t txt[] = { 5, 'h', 'e', 'l', 'l', 'o', 0, 3, 'a', '"', 'b' };

	memset(m, 0, sizeof(*m));
	m->id = 0x1234;
	m->flags = DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD;
	m->q = xcalloc(1, sizeof(dns_question));
	m->nq = 1;
	snprintf(m->q[0].name, sizeof(m->q[0].name), "Example.TEST");
	m->q[0].type = DNS_TYPE_MX;
	m->q[0].class_ = DNS_CLASS_IN;
	rr = mk_rr("Example.TEST", DNS_TYPE_MX);
	rr.preference = 10;
	snprintf(rr.target, sizeof(rr.target), "mx1.example.test");
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("example.test", DNS_TYPE_MX);
	rr.preference = 0;
	snprintf(rr.target, sizeof(rr.target), ".");
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("www.example.test", DNS_TYPE_CNAME);
	snprintf(rr.target, sizeof(rr.target), "mx1.example.test");
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("2.0.0.127.in-addr.arpa", DNS_TYPE_PTR);
	snprintf(rr.target, sizeof(rr.target), "mx1.example.test");
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("example.test", DNS_TYPE_TXT);
	rr.rdata = (uint8_t *)txt;
	rr.rdlen = sizeof(txt);
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("odd\\.label\\032x.example.test", 99);
	rr.rdata = (uint8_t *)"\xc0\x0c";	/* looks like a pointer; must stay raw */
	rr.rdlen = 2;
	dns_msg_add(m, DNS_SEC_ANSWER, &rr);
	rr = mk_rr("example.test", DNS_TYPE_SOA);
	snprintf(rr.target, sizeof(rr.target), "ns.example.test");
	snprintf(rr.rname, sizeof(rr.rname), "hostmaster.example.test");
	for (int i = 0; i < 5; i++)
		rr.soa[i] = (uint32_t)(i + 1) * 1000u;
	dns_msg_add(m, DNS_SEC_AUTHORITY, &rr);
	rr = mk_rr("mx1.example.test", DNS_TYPE_A);
	memcpy(rr.addr, "\x7f\x00\x00\x02", 4);
	dns_msg_add(m, DNS_SEC_ADDITIONAL, &rr);
	rr = mk_rr("mx1.example.test", DNS_TYPE_AAAA);
	memcpy(rr.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	dns_msg_add(m, DNS_SEC_ADDITIONAL, &rr);
	m->edns.present = 1;
	m->edns.udp_size = 1232;
	m->edns.flags = DNS_EDNS_DO;
}

static void
roundtrip(const dns_msg *m, dns_msg *back, vbuf *wire)
{
	char err[256];
	int tc = -1;

	vbuf_reset(wire);
	ck_assert_int_eq(dns_wire_encode(m, DNS_MSG_MAX, wire, &tc), 0);
	ck_assert_int_eq(tc, 0);
	err[0] = '\0';
	if (dns_wire_parse((const uint8_t *)wire->data, wire->len, back, err, sizeof(err)) != 0)
		ck_abort_msg("parse failed: %s", err);
}

static void
assert_rr_eq(const dns_rr *a, const dns_rr *b)
{
	/* compression may point at the same name in another case */
	ck_assert(dns_name_eq(a->name, b->name));
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->class_, b->class_);
	ck_assert_uint_eq(a->ttl, b->ttl);
	ck_assert_mem_eq(a->addr, b->addr, 16);
	ck_assert_uint_eq(a->preference, b->preference);
	ck_assert(a->target[0] == '\0' ? b->target[0] == '\0' : dns_name_eq(a->target, b->target));
	ck_assert(a->rname[0] == '\0' ? b->rname[0] == '\0' : dns_name_eq(a->rname, b->rname));
	ck_assert_mem_eq(a->soa, b->soa, sizeof(a->soa));
	ck_assert_uint_eq(a->rdlen, b->rdlen);
	if (a->rdlen)
		ck_assert_mem_eq(a->rdata, b->rdata, a->rdlen);
}

START_TEST(test_dns_wire_roundtrip_every_type)
{
	dns_msg m, back;
	vbuf wire = VBUF_INIT;

	build_all(&m);
	roundtrip(&m, &back, &wire);
	ck_assert_uint_eq(back.id, 0x1234);
	ck_assert_uint_eq(back.flags, m.flags);
	ck_assert_uint_eq(back.nq, 1);
	ck_assert_str_eq(back.q[0].name, "Example.TEST");
	for (int s = 0; s < 3; s++) {
		ck_assert_uint_eq(back.nrr[s], m.nrr[s]);
		for (size_t i = 0; i < m.nrr[s]; i++)
			assert_rr_eq(&m.rr[s][i], &back.rr[s][i]);
	}
	ck_assert_int_eq(back.edns.present, 1);
	ck_assert_uint_eq(back.edns.udp_size, 1232);
	ck_assert_uint_eq(back.edns.flags, DNS_EDNS_DO);
	ck_assert_uint_eq(back.edns.version, 0);
	dns_msg_free(&m);
	dns_msg_free(&back);
	vbuf_free(&wire);
}
END_TEST

START_TEST(test_dns_wire_compression_written)
{
	dns_msg m, back;
	vbuf wire = VBUF_INIT;
	size_t seen = 0;

	build_all(&m);
	roundtrip(&m, &back, &wire);
	/* "example.test" appears in the question at 12; later owners point
	 * there, whatever their case */
	ck_assert(has_bytes(&wire, "\xc0\x0c", 2));
	/* ... and "example" is on the wire once, in whatever case */
	for (size_t i = 0; i + 8 <= wire.len; i++)
		if (wire.data[i] == 7 && strncasecmp(wire.data + i + 1, "example", 7) == 0)
			seen++;
	ck_assert_uint_eq(seen, 1);
	/* the question keeps its case on the wire */
	ck_assert(has_bytes(&wire, "\x07" "Example\x04TEST", 13));
	dns_msg_free(&m);
	dns_msg_free(&back);
	vbuf_free(&wire);
}
END_TEST

/* Header of a query with one question and no records, then the name. */
static size_t
query_head(uint8_t *p, uint16_t an)
{
	static const uint8_t h[12] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };

	memcpy(p, h, 12);
	p[7] = (uint8_t)an;
	return 12;
}

static void
expect_error(const uint8_t *p, size_t len, const char *want)
{
	dns_msg m;
	char err[256] = "";

	ck_assert_int_eq(dns_wire_parse(p, len, &m, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	ck_assert_uint_eq(m.nq, 0);
	ck_assert_ptr_null(m.q);
}

START_TEST(test_dns_wire_pointer_loop)
{
	uint8_t p[64];
	size_t n = query_head(p, 0);

	/* a name that is a pointer to itself */
	p[n] = 0xc0;
	p[n + 1] = (uint8_t)n;
	memcpy(p + n + 2, "\0\x0f\0\x01", 4);
	expect_error(p, n + 6, "does not point backwards");
	/* a label then a pointer back to that label */
	p[n] = 1;
	p[n + 1] = 'a';
	p[n + 2] = 0xc0;
	p[n + 3] = (uint8_t)n;
	memcpy(p + n + 4, "\0\x0f\0\x01", 4);
	expect_error(p, n + 8, "does not point backwards");
}
END_TEST

START_TEST(test_dns_wire_pointer_out_of_bounds)
{
	uint8_t p[64];
	size_t n = query_head(p, 0);

	/* forward, past the end */
	p[n] = 0xc0;
	p[n + 1] = 0xff;
	memcpy(p + n + 2, "\0\x0f\0\x01", 4);
	expect_error(p, n + 6, "does not point backwards");
	/* 0x3fff, far past */
	p[n] = 0xff;
	p[n + 1] = 0xff;
	expect_error(p, n + 6, "does not point backwards");
	/* backwards, but into the header */
	p[n] = 0xc0;
	p[n + 1] = 4;
	expect_error(p, n + 6, "offset 12: compression pointer to 4 points into the header");
	/* a pointer cut in half by the end */
	p[n] = 0xc0;
	expect_error(p, n + 1, "ends inside a compression pointer");
}
END_TEST

START_TEST(test_dns_wire_pointer_chain)
{
	/* "a" at offset 12 (after a header's worth of octets), then pointers
	 * each to the one before: every hop goes backwards, so a chain is a
	 * valid name until it needs more than DNS_POINTER_HOPS_MAX hops */
	uint8_t p[15 + 2 * (DNS_POINTER_HOPS_MAX + 1)];
	char name[DNS_NAME_TEXT_MAX], err[256] = "";
	size_t off;

	memset(p, 0, sizeof(p));
	memcpy(p + 12, "\x01" "a", 3);
	for (size_t i = 0; i <= DNS_POINTER_HOPS_MAX; i++) {
		size_t to = i == 0 ? 12 : 15 + 2 * (i - 1);

		p[15 + 2 * i] = (uint8_t)(0xc0 | (to >> 8));
		p[16 + 2 * i] = (uint8_t)to;
	}
	off = 15 + 2 * (DNS_POINTER_HOPS_MAX - 1);
	ck_assert_int_eq(dns_name_read(p, sizeof(p), &off, name, err, sizeof(err)), 0);
	ck_assert_str_eq(name, "a");
	ck_assert_uint_eq(off, 15 + 2 * DNS_POINTER_HOPS_MAX);
	off = 15 + 2 * DNS_POINTER_HOPS_MAX;
	ck_assert_int_eq(dns_name_read(p, sizeof(p), &off, name, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "offset 15: more than 126 compression pointers in one name");
}
END_TEST

START_TEST(test_dns_wire_truncated_everywhere)
{
	dns_msg m, back;
	vbuf wire = VBUF_INIT;

	build_all(&m);
	roundtrip(&m, &back, &wire);
	dns_msg_free(&back);
	/* every strict prefix is an error, never a read past it (ASan) */
	for (size_t len = 0; len < wire.len; len++) {
		uint8_t *copy = xmemdup(wire.data, len ? len : 1);
		char err[256] = "";

		ck_assert_int_eq(dns_wire_parse(copy, len, &back, err, sizeof(err)), -1);
		ck_assert_str_ne(err, "");
		xfree(copy);
	}
	/* and a byte more is an error too */
	vbuf_append_byte(&wire, 0);
	expect_error((const uint8_t *)wire.data, wire.len, "1 octets after the last record");
	dns_msg_free(&m);
	vbuf_free(&wire);
}
END_TEST

START_TEST(test_dns_wire_bad_labels)
{
	uint8_t p[600];
	size_t n;

	memset(p, 0, sizeof(p));
	n = query_head(p, 0);

	p[n] = 0x40;
	expect_error(p, n + 6, "label type 0x40 is not supported");
	p[n] = 0x80;
	expect_error(p, n + 6, "label type 0x80 is not supported");
	/* five labels of 63 octets: 320 > 255 */
	for (int i = 0; i < 5; i++) {
		p[n + (size_t)i * 64] = 63;
		memset(p + n + (size_t)i * 64 + 1, 'x', 63);
	}
	p[n + 320] = 0;
	memcpy(p + n + 321, "\0\x01\0\x01", 4);
	expect_error(p, n + 325, "name longer than 255 octets");
	expect_error(p, 11, "a header needs 12 octets, got 11");
}
END_TEST

START_TEST(test_dns_wire_rdata_lengths)
{
	/* an A record whose rdata is 5 octets */
	static const uint8_t a5[] = { 0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4, 5 };
	/* an MX whose exchange leaves an octet of rdata over */
	static const uint8_t mx[] = { 0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 1, 'a', 0 };
	static const uint8_t mxover[] = { 0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 15, 0, 1, 0, 0, 0, 60, 0, 5, 0, 10, 0, 9, 9 };
	/* a TXT whose string claims more than its rdata holds */
	static const uint8_t txt[] = { 0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 5, 'a' };
	/* rdlength past the packet */
	static const uint8_t past[] = { 0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 9, 1, 2, 3, 4 };

	expect_error(a5, sizeof(a5), "A rdata of 5 octets, expected 4");
	expect_error(mx, sizeof(mx), "packet ends inside a name");
	expect_error(mxover, sizeof(mxover), "2 octets of rdata left over");
	expect_error(txt, sizeof(txt), "TXT string runs past its rdata");
	expect_error(past, sizeof(past), "rdata of 9 octets runs past the end");
}
END_TEST

START_TEST(test_dns_wire_edns)
{
	/* query example.test A with OPT: udp 4096, version 0, DO, one
	 * option (cookie-like, code 10) */
	static const uint8_t q[] = { 0x11, 0x22, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
		0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 6, 0, 10, 0, 2, 0xaa, 0xbb };
	uint8_t two[sizeof(q) + 11];
	uint8_t notroot[sizeof(q) + 2];
	dns_msg m, back;
	vbuf wire = VBUF_INIT;
	char err[256];

	ck_assert_int_eq(dns_wire_parse(q, sizeof(q), &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.edns.present, 1);
	ck_assert_uint_eq(m.edns.udp_size, 4096);
	ck_assert_uint_eq(m.edns.flags, DNS_EDNS_DO);
	ck_assert_uint_eq(m.edns.optlen, 6);
	ck_assert_uint_eq(m.nrr[DNS_SEC_ADDITIONAL], 0);
	/* extended rcode: BADVERS is 16, 1 in the OPT plus 0 in the header */
	m.edns.ext_rcode = 1;
	m.flags = (uint16_t)((m.flags & ~0xf) | DNS_FLAG_QR);
	ck_assert_int_eq(dns_msg_rcode(&m), DNS_RCODE_BADVERS);
	roundtrip(&m, &back, &wire);
	ck_assert_int_eq(dns_msg_rcode(&back), DNS_RCODE_BADVERS);
	ck_assert_uint_eq(back.edns.optlen, 6);
	ck_assert_mem_eq(back.edns.options, "\0\x0a\0\x02\xaa\xbb", 6);
	dns_msg_free(&back);
	dns_msg_free(&m);
	vbuf_free(&wire);

	/* a second OPT */
	memcpy(two, q, sizeof(q));
	two[11] = 2;
	memcpy(two + sizeof(q), "\0\0\x29\x02\0\0\0\0\0\0\0", 11);
	expect_error(two, sizeof(two), "a second OPT record");
	/* an OPT whose owner is not the root */
	memcpy(notroot, q, 30);
	memcpy(notroot + 30, "\x01x\0", 3);
	memcpy(notroot + 33, q + 31, sizeof(q) - 31);
	expect_error(notroot, sizeof(q) + 2, "OPT record owner is not the root");
}
END_TEST

START_TEST(test_dns_wire_truncate_on_encode)
{
	dns_msg m, back;
	vbuf wire = VBUF_INIT;
	dns_rr rr;
	char err[256];
	int tc = 0;

	memset(&m, 0, sizeof(m));
	m.id = 7;
	m.flags = DNS_FLAG_QR | DNS_FLAG_AA;
	m.q = xcalloc(1, sizeof(dns_question));
	m.nq = 1;
	snprintf(m.q[0].name, sizeof(m.q[0].name), "big.example.test");
	m.q[0].type = DNS_TYPE_A;
	m.q[0].class_ = DNS_CLASS_IN;
	for (int i = 0; i < 60; i++) {
		rr = mk_rr("big.example.test", DNS_TYPE_A);
		rr.addr[0] = 10;
		rr.addr[3] = (uint8_t)i;
		dns_msg_add(&m, DNS_SEC_ANSWER, &rr);
	}
	/* 60 * 16 octets: over 512, under 1232 */
	ck_assert_int_eq(dns_wire_encode(&m, DNS_UDP_PLAIN_MAX, &wire, &tc), 0);
	ck_assert_int_eq(tc, 1);
	ck_assert_uint_le(wire.len, DNS_UDP_PLAIN_MAX);
	ck_assert_int_eq(dns_wire_parse((uint8_t *)wire.data, wire.len, &back, err, sizeof(err)), 0);
	ck_assert(back.flags & DNS_FLAG_TC);
	ck_assert_uint_eq(back.nrr[0], 0);
	ck_assert_uint_eq(back.nq, 1);
	dns_msg_free(&back);
	vbuf_reset(&wire);
	ck_assert_int_eq(dns_wire_encode(&m, DNS_EDNS_UDP_SIZE, &wire, &tc), 0);
	ck_assert_int_eq(tc, 0);
	ck_assert_uint_gt(wire.len, DNS_UDP_PLAIN_MAX);
	dns_msg_free(&m);
	vbuf_free(&wire);
}
END_TEST

START_TEST(test_dns_wire_names)
{
	uint8_t w[DNS_NAME_WIRE_MAX];
	char big[400];

	ck_assert_int_eq(dns_name_to_wire(".", w), 1);
	ck_assert_int_eq(dns_name_to_wire("a.b", w), 5);
	ck_assert_int_eq(dns_name_to_wire("a.b.", w), 5);
	ck_assert_int_eq(dns_name_to_wire("a\\.b", w), 5);
	ck_assert_int_eq(w[0], 3);
	ck_assert_int_eq(dns_name_to_wire("\\065", w), 3);
	ck_assert_int_eq(w[1], 'A');
	ck_assert_int_eq(dns_name_to_wire("", w), -1);
	ck_assert_int_eq(dns_name_to_wire("a..b", w), -1);
	ck_assert_int_eq(dns_name_to_wire(".a", w), -1);
	ck_assert_int_eq(dns_name_to_wire("a\\", w), -1);
	ck_assert_int_eq(dns_name_to_wire("\\256", w), -1);
	memset(big, 'x', 64);
	big[64] = '\0';
	ck_assert_int_eq(dns_name_to_wire(big, w), -1);
	big[63] = '\0';
	ck_assert_int_eq(dns_name_to_wire(big, w), 65);
	/* labels of 63, 63, 63 and 61 octets: 255 with the root label */
	memset(big, 'x', sizeof(big));
	big[63] = big[127] = big[191] = '.';
	big[253] = '\0';
	ck_assert_int_eq(dns_name_to_wire(big, w), 255);
	big[253] = 'x';
	big[254] = '\0';
	ck_assert_int_eq(dns_name_to_wire(big, w), -1);

	ck_assert(dns_name_eq("MX1.Example.Test", "mx1.example.test."));
	ck_assert(!dns_name_eq("mx1.example.test", "mx2.example.test"));
	ck_assert(dns_name_in("a.B.example.test", "Example.TEST"));
	ck_assert(dns_name_in("example.test", "example.test"));
	ck_assert(!dns_name_in("badexample.test", "example.test"));
	ck_assert(!dns_name_in("test", "example.test"));
	ck_assert(dns_name_in("anything", "."));
}
END_TEST

START_TEST(test_dns_wire_text_escapes)
{
	/* a label with a dot, a backslash, a space and 0xff comes back in
	 * the escaped text form and goes out as the same octets */
	static const uint8_t q[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		4, 'a', '.', '\\', ' ', 1, 0xff, 0, 0, 1, 0, 1 };
	dns_msg m;
	vbuf wire = VBUF_INIT;
	char err[256];

	ck_assert_int_eq(dns_wire_parse(q, sizeof(q), &m, err, sizeof(err)), 0);
	ck_assert_str_eq(m.q[0].name, "a\\.\\\\\\032.\\255");
	ck_assert_int_eq(dns_wire_encode(&m, 512, &wire, NULL), 0);
	ck_assert_uint_eq(wire.len, sizeof(q));
	ck_assert_mem_eq(wire.data, q, sizeof(q));
	dns_msg_free(&m);
	vbuf_free(&wire);
}
END_TEST

START_TEST(test_dns_wire_format)
{
	dns_msg m;
	vbuf b = VBUF_INIT;
	char t[16];

	build_all(&m);
	dns_rr_format(&m.rr[0][0], &b);
	ck_assert_str_eq(vbuf_str(&b), "Example.TEST 300 IN MX 10 mx1.example.test");
	vbuf_reset(&b);
	dns_rr_format(&m.rr[0][1], &b);
	ck_assert_str_eq(vbuf_str(&b), "example.test 300 IN MX 0 .");
	vbuf_reset(&b);
	dns_rr_format(&m.rr[0][4], &b);
	ck_assert_str_eq(vbuf_str(&b), "example.test 300 IN TXT \"hello\" \"\" \"a\\\"b\"");
	vbuf_reset(&b);
	dns_rr_format(&m.rr[2][1], &b);
	ck_assert_str_eq(vbuf_str(&b), "mx1.example.test 300 IN AAAA 2001:db8::1");
	ck_assert_str_eq(dns_type_str(99, t, sizeof(t)), "TYPE99");
	ck_assert_int_eq(dns_type_parse("mx"), DNS_TYPE_MX);
	ck_assert_int_eq(dns_type_parse("TYPE99"), 99);
	ck_assert_int_eq(dns_type_parse("TYPE99x"), -1);
	ck_assert_str_eq(dns_rcode_str(3, t, sizeof(t)), "NXDOMAIN");
	dns_msg_free(&m);
	vbuf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns_wire");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dns_wire_roundtrip_every_type);
	tcase_add_test(tc, test_dns_wire_compression_written);
	tcase_add_test(tc, test_dns_wire_pointer_loop);
	tcase_add_test(tc, test_dns_wire_pointer_out_of_bounds);
	tcase_add_test(tc, test_dns_wire_pointer_chain);
	tcase_add_test(tc, test_dns_wire_truncated_everywhere);
	tcase_add_test(tc, test_dns_wire_bad_labels);
	tcase_add_test(tc, test_dns_wire_rdata_lengths);
	tcase_add_test(tc, test_dns_wire_edns);
	tcase_add_test(tc, test_dns_wire_truncate_on_encode);
	tcase_add_test(tc, test_dns_wire_names);
	tcase_add_test(tc, test_dns_wire_text_escapes);
	tcase_add_test(tc, test_dns_wire_format);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
