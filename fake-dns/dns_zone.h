/*
 * dns_zone - one zone, loaded from a JSON file (docs/dns.md).
 *
 * A zone is an apex ("zone"), its records (MX, A, AAAA, CNAME, TXT, PTR;
 * every name at or below the apex) and per-name behaviours that make the
 * fake DNS misbehave on purpose: a forced rcode (NXDOMAIN, SERVFAIL,
 * REFUSED, or NOERROR with an empty answer), TC over UDP, a delay, or no
 * answer at all; a behaviour may expire after its first queries or some
 * time after its first query (for_queries, for_ms), after which the name
 * is answered from its records (a resolver failing for a while, then
 * recovering). An SOA for the apex is made up from the zone's
 * negative_ttl so that negative answers can be cached (RFC 2308).
 *
 * Every problem stops the load with one line "FILE:LINE:COL: $.path:
 * expected X, got Y" (positions from harness/util/jsonpos). Limits:
 * DNS_ZONE_FILE_MAX bytes, DNS_ZONE_RECORDS_MAX records and as many
 * behaviours, DNS_TXT_STRINGS_MAX strings of at most 255 octets per TXT.
 *
 * A loaded zone is read-only; lookups compare names case-insensitively.
 */
#ifndef FAKE_DNS_ZONE_H
#define FAKE_DNS_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "fake-dns/dns_wire.h"

typedef struct dns_zone_behaviour {
	char name[DNS_NAME_TEXT_MAX];
	int type;		/* the qtype it applies to, or -1 for every type */
	int rcode;		/* forced rcode, or -1 */
	int truncate_udp;	/* over UDP: TC and no records */
	uint32_t delay_ms;	/* answer this much later */
	int drop;		/* no answer at all */
	uint32_t for_queries;	/* applies to the first N queries it matches; 0: all */
	uint32_t for_ms;	/* applies for N ms from the first query it matches; 0: always */
} dns_zone_behaviour;

typedef struct dns_zone {
	char *file;
	char apex[DNS_NAME_TEXT_MAX];
	uint32_t ttl;		/* default record TTL */
	dns_rr soa;		/* made up: ns.APEX hostmaster.APEX 1 3600 600 86400 negative_ttl */
	dns_rr *rr;
	size_t nrr;
	dns_zone_behaviour *beh;
	size_t nbeh;
} dns_zone;

/* Loads a zone from text; name is what errors call the file. Returns 0
 * and *out (free with dns_zone_free), or -1 with err. */
int dns_zone_load_buffer(const char *name, const char *text, size_t len, dns_zone **out,
    char *err, size_t errlen);
int dns_zone_load_file(const char *path, dns_zone **out, char *err, size_t errlen);
/* Loads a zone from obj, a value cJSON parsed out of text (len bytes) at
 * JSON path `path` ("$.zone": a zone inline in a relay scenario), so
 * that errors name its line and column in text. Same results. */
struct cJSON;
int dns_zone_load_json(const char *name, const char *text, size_t len, const struct cJSON *obj,
    const char *path, dns_zone **out, char *err, size_t errlen);
void dns_zone_free(dns_zone *z);

/* The rcode a behaviour may force, by name: "NOERROR", "NXDOMAIN",
 * "SERVFAIL" or "REFUSED" (exactly so); -1 for anything else. */
int dns_zone_rcode_parse(const char *s);
/* The behaviour for (name, qtype): one naming that type first, else one
 * for every type; NULL when none. */
const dns_zone_behaviour *dns_zone_behaviour_find(const dns_zone *z, const char *name, int qtype);
/* Records at name of type (DNS_TYPE_ANY: every type); returns how many
 * were written to out (at most max). */
size_t dns_zone_find(const dns_zone *z, const char *name, int type, const dns_rr **out, size_t max);
/* True when the name exists: it has records, is the apex, has a name
 * below it (an empty non-terminal), or a behaviour with rcode NOERROR. */
int dns_zone_name_exists(const dns_zone *z, const char *name);

#endif
