#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-dns/dns_zone.h"
#include "harness/util/xalloc.h"

/* Loads text as "z.json"; returns the error line, or "" when it loaded. */
static const char *
load_err(const char *text)
{
	static char err[1024];
	dns_zone *z = NULL;

	err[0] = '\0';
	if (dns_zone_load_buffer("z.json", text, strlen(text), &z, err, sizeof(err)) == 0) {
		ck_assert_ptr_nonnull(z);
		dns_zone_free(z);
		return "";
	}
	ck_assert_ptr_null(z);
	return err;
}

#define HEAD "{\"zone\": \"example.test\",\n \"records\": [\n"

START_TEST(test_dns_zone_example_loads)
{
	dns_zone *z = NULL;
	char err[1024] = "";
	const dns_rr *found[8];

	if (dns_zone_load_file(HARNESS_SOURCE_DIR "/fake-dns/examples/example.test.json", &z, err,
	    sizeof(err)) != 0)
		ck_abort_msg("%s", err);
	ck_assert_str_eq(z->apex, "example.test");
	ck_assert_uint_eq(z->ttl, 300);
	ck_assert_uint_eq(dns_zone_find(z, "EXAMPLE.test", DNS_TYPE_MX, found, 8), 2);
	ck_assert_uint_eq(found[0]->preference, 10);
	ck_assert_str_eq(found[0]->target, "mx1.example.test");
	ck_assert_uint_eq(dns_zone_find(z, "nullmx.example.test", DNS_TYPE_MX, found, 8), 1);
	ck_assert_uint_eq(found[0]->preference, 0);
	ck_assert_str_eq(found[0]->target, ".");
	ck_assert_uint_eq(dns_zone_find(z, "long.example.test", DNS_TYPE_TXT, found, 8), 1);
	ck_assert_uint_eq(found[0]->rdlen, 14);
	ck_assert_mem_eq(found[0]->rdata, "\3one\3two\5three", 14);
	ck_assert_uint_eq(dns_zone_find(z, "mx1.example.test", DNS_TYPE_AAAA, found, 8), 1);
	ck_assert_uint_eq(found[0]->addr[15], 1);
	ck_assert_uint_eq(dns_zone_find(z, "example.test", DNS_TYPE_SOA, found, 8), 1);
	ck_assert_str_eq(found[0]->target, "ns.example.test");
	ck_assert_str_eq(found[0]->rname, "hostmaster.example.test");
	ck_assert_uint_eq(found[0]->soa[4], 60);
	ck_assert_uint_eq(found[0]->ttl, 60);
	ck_assert(dns_zone_name_exists(z, "in-addr.example.test"));	/* empty non-terminal */
	ck_assert(dns_zone_name_exists(z, "Empty.Example.Test"));	/* rcode NOERROR */
	ck_assert(!dns_zone_name_exists(z, "gone.example.test"));
	ck_assert(!dns_zone_name_exists(z, "nothing.example.test"));
	ck_assert_int_eq(dns_zone_behaviour_find(z, "MXFAIL.example.test", DNS_TYPE_MX)->rcode,
	    DNS_RCODE_SERVFAIL);
	ck_assert_ptr_null(dns_zone_behaviour_find(z, "mxfail.example.test", DNS_TYPE_A));
	ck_assert_uint_eq(dns_zone_behaviour_find(z, "slow.example.test", DNS_TYPE_A)->delay_ms, 300);
	ck_assert_int_eq(dns_zone_behaviour_find(z, "silent.example.test", DNS_TYPE_A)->drop, 1);
	dns_zone_free(z);
}
END_TEST

START_TEST(test_dns_zone_errors)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "", "z.json:1:1: expected valid JSON, got the end of the file" },
		{ "{\"zone\": x}", "z.json:1:10: expected valid JSON, got \"x}\"" },
		{ "{\"zone\": \"a\", \"records\": []} x",
		  "z.json:1:30: expected the end of the file after the zone object, got more" },
		{ "[]", "z.json:1:1: $: expected a zone object {\"zone\": ..., \"records\": [...]}, "
		  "got an array" },
		{ "{\"records\": []}", "z.json:1:1: $: expected a member \"zone\", got none" },
		{ "{\"zone\": \"a..b\", \"records\": []}",
		  "z.json:1:10: $.zone: expected a domain name (labels of 1-63 octets, 255 in all), "
		  "got \"a..b\"" },
		{ "{\"zone\": \"example.test\"}", "z.json:1:1: $: expected a member \"records\", got none" },
		{ "{\"zone\": \"example.test\", \"record\": []}",
		  "z.json:1:36: $.record: unknown key \"record\" (expected one of \"zone\", \"ttl\", "
		  "\"negative_ttl\", \"comment\", \"records\", \"behaviours\")" },
		{ "{\"zone\": \"example.test\", \"ttl\": -1, \"records\": []}",
		  "z.json:1:33: $.ttl: expected an integer 0-2147483647, got -1" },
		{ HEAD "  {\"name\": \"mx.other.test\", \"type\": \"A\", \"address\": \"127.0.0.1\"}]}",
		  "z.json:3:12: $.records[0].name: expected a name at or below example.test, "
		  "got \"mx.other.test\"" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"SRV\"}]}",
		  "z.json:3:36: $.records[0].type: expected one of \"MX\", \"A\", \"AAAA\", \"CNAME\", "
		  "\"TXT\", \"PTR\", got \"SRV\"" },
		{ HEAD "  {\"name\": \"example.test\"}]}",
		  "z.json:3:3: $.records[0]: expected a member \"type\", got none" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"MX\", \"exchange\": \"mx.example.test\"}]}",
		  "z.json:3:3: $.records[0]: expected a member \"preference\", got none" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"MX\", \"preference\": 65536, "
		  "\"exchange\": \"a\"}]}",
		  "z.json:3:56: $.records[0].preference: expected an integer 0-65535, got 65536" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"MX\", \"preference\": 1.5, "
		  "\"exchange\": \"a\"}]}",
		  "z.json:3:56: $.records[0].preference: expected an integer 0-65535, got 1.5" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"A\", \"address\": \"::1\"}]}",
		  "z.json:3:52: $.records[0].address: expected an IPv4 address such as \"127.0.0.2\", "
		  "got \"::1\"" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"AAAA\", \"address\": \"1.2.3.4\"}]}",
		  "z.json:3:55: $.records[0].address: expected an IPv6 address such as \"::1\", "
		  "got \"1.2.3.4\"" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"CNAME\", \"target\": \".\"}]}",
		  "z.json:3:55: $.records[0].target: expected a domain name other than the root, "
		  "got \".\"" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"TXT\", \"text\": []}]}",
		  "z.json:3:51: $.records[0].text: expected a string of at most 255 octets, or a "
		  "non-empty array of at most 64 of them, got an array" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"TXT\", \"text\": [\"a\", 7]}]}",
		  "z.json:3:57: $.records[0].text[1]: expected a string of at most 255 octets, got 7" },
		{ HEAD "  {\"name\": \"example.test\", \"type\": \"A\", \"address\": \"1.2.3.4\", "
		  "\"adress\": 1}]}",
		  "z.json:3:73: $.records[0].adress: unknown key \"adress\" (expected one of \"name\", "
		  "\"type\", \"ttl\", \"comment\", \"preference\", \"exchange\", \"address\", \"target\", "
		  "\"text\")" },
		{ HEAD "  {\"name\": \"www.example.test\", \"type\": \"CNAME\", \"target\": \"example.test\"},\n"
		  "  {\"name\": \"WWW.example.test\", \"type\": \"A\", \"address\": \"1.2.3.4\"}]}",
		  "z.json:4:3: $.records[1]: expected no other record at WWW.example.test, which has "
		  "a CNAME (RFC 1034 §3.6.2), got A" },
		{ HEAD "  {\"name\": \"www.example.test\", \"type\": \"A\", \"address\": \"1.2.3.4\"},\n"
		  "  {\"name\": \"www.example.test\", \"type\": \"CNAME\", \"target\": \"example.test\"}]}",
		  "z.json:4:3: $.records[1]: expected no CNAME at www.example.test, which has other "
		  "records (RFC 1034 §3.6.2), got CNAME" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\"}]}",
		  "z.json:3:21: $.behaviours[0]: expected at least one of \"rcode\", \"truncate_udp\", "
		  "\"delay_ms\", \"drop\", got none" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"rcode\": \"FORMERR\"}]}",
		  "z.json:3:57: $.behaviours[0].rcode: expected one of \"NOERROR\", \"NXDOMAIN\", "
		  "\"SERVFAIL\", \"REFUSED\", got \"FORMERR\"" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"drop\": 1}]}",
		  "z.json:3:56: $.behaviours[0].drop: expected true or false, got 1" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"rcode\": \"SERVFAIL\", "
		  "\"for_queries\": 0}]}",
		  "z.json:3:84: $.behaviours[0].for_queries: expected an integer 1-1000000, got 0" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"rcode\": \"SERVFAIL\", "
		  "\"for_ms\": \"1s\"}]}",
		  "z.json:3:79: $.behaviours[0].for_ms: expected an integer 1-86400000, got \"1s\"" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"for_ms\": 500}]}",
		  "z.json:3:21: $.behaviours[0]: expected at least one of \"rcode\", \"truncate_udp\", "
		  "\"delay_ms\", \"drop\", got none" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"delay_ms\": 60001}]}",
		  "z.json:3:60: $.behaviours[0].delay_ms: expected an integer 0-60000, got 60001" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"type\": \"OPT\", "
		  "\"drop\": true}]}",
		  "z.json:3:56: $.behaviours[0].type: expected a query type such as \"MX\", \"A\" or "
		  "\"TYPE99\", got \"OPT\"" },
		{ HEAD "  ], \"behaviours\": [{\"name\": \"a.example.test\", \"drop\": true},\n"
		  "  {\"name\": \"A.example.test\", \"delay_ms\": 5}]}",
		  "z.json:4:3: $.behaviours[1]: expected one behaviour per name and type, got a "
		  "second for A.example.test" },
	};

	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = load_err(cases[i].text);

		if (strcmp(got, cases[i].err) != 0) {
			fprintf(stderr, "case %zu:\n got  %s\n want %s\n", i, got, cases[i].err);
			bad++;
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_dns_zone_accepts)
{
	/* null MX, the root as zone, trailing dots, a TTL per record, a
	 * behaviour for one type and another for every type at one name */
	ck_assert_str_eq(load_err(HEAD "  {\"name\": \"example.test.\", \"type\": \"MX\", "
	    "\"preference\": 0, \"exchange\": \".\", \"ttl\": 0}],\n"
	    " \"behaviours\": [{\"name\": \"x.example.test\", \"type\": \"MX\", \"drop\": true},\n"
	    " {\"name\": \"x.example.test\", \"rcode\": \"NOERROR\"}]}"), "");
	ck_assert_str_eq(load_err("{\"zone\": \".\", \"records\": [{\"name\": \"anything\", "
	    "\"type\": \"A\", \"address\": \"1.2.3.4\"}]}"), "");
}
END_TEST

START_TEST(test_dns_zone_file_errors)
{
	dns_zone *z = (dns_zone *)1;
	char err[256];

	ck_assert_int_eq(dns_zone_load_file("/nonexistent/zone.json", &z, err, sizeof(err)), -1);
	ck_assert_ptr_null(z);
	ck_assert_str_eq(err, "/nonexistent/zone.json: cannot open: No such file or directory");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns_zone");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dns_zone_example_loads);
	tcase_add_test(tc, test_dns_zone_errors);
	tcase_add_test(tc, test_dns_zone_accepts);
	tcase_add_test(tc, test_dns_zone_file_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
