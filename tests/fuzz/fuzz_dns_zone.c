/*
 * fuzz_dns_zone - the zone loader fed hostile files.
 *
 * The input is a zone file. A load that fails must name the file in a
 * FILE:LINE:COL error; one that succeeds must give a zone whose records
 * all sit at or below its apex, whose names all write as DNS names, and
 * whose behaviours do something within their bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-dns/dns_zone.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_dns_zone: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_NAME "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t w[DNS_NAME_WIRE_MAX];
	char err[1024];
	dns_zone *z = NULL;

	err[0] = '\0';
	if (dns_zone_load_buffer(FUZZ_NAME, (const char *)data, size, &z, err, sizeof(err)) != 0) {
		FUZZ_CHECK(z == NULL);
		FUZZ_CHECK(strncmp(err, FUZZ_NAME ":", sizeof(FUZZ_NAME)) == 0);
		return 0;
	}
	FUZZ_CHECK(z != NULL);
	FUZZ_CHECK(dns_name_to_wire(z->apex, w) > 0);
	FUZZ_CHECK(dns_name_to_wire(z->soa.target, w) > 0);
	FUZZ_CHECK(dns_name_to_wire(z->soa.rname, w) > 0);
	FUZZ_CHECK(z->nrr <= DNS_ZONE_RECORDS_MAX);
	for (size_t i = 0; i < z->nrr; i++) {
		const dns_rr *rr = &z->rr[i];

		FUZZ_CHECK(dns_name_in(rr->name, z->apex));
		FUZZ_CHECK(rr->class_ == DNS_CLASS_IN);
		if (rr->type == DNS_TYPE_MX || rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR)
			FUZZ_CHECK(dns_name_to_wire(rr->target, w) > 0);
		if (rr->type == DNS_TYPE_TXT)
			FUZZ_CHECK(rr->rdlen >= 1 && rr->rdata != NULL);
	}
	for (size_t i = 0; i < z->nbeh; i++) {
		const dns_zone_behaviour *b = &z->beh[i];

		FUZZ_CHECK(dns_name_in(b->name, z->apex));
		FUZZ_CHECK(b->delay_ms <= DNS_DELAY_MAX_MS);
		FUZZ_CHECK(b->rcode >= 0 || b->drop || b->truncate_udp || b->delay_ms > 0);
		FUZZ_CHECK(dns_zone_behaviour_find(z, b->name, b->type < 0 ? 1 : b->type) != NULL);
	}
	dns_zone_free(z);
	return 0;
}
