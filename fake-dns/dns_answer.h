/*
 * dns_answer - what the fake DNS answers to one query (pure, no I/O).
 *
 * Given a zone and a parsed query, builds the response an authoritative
 * server gives (AA set, RA clear), and says whether to send it at all and
 * how late:
 *   - a response (QR set) is dropped unanswered, so two servers cannot
 *     echo each other forever;
 *   - opcode other than QUERY: NOTIMP; not exactly one question, or a
 *     question of type OPT: FORMERR; class other than IN/ANY, AXFR/IXFR,
 *     or a name outside the zone: REFUSED;
 *   - EDNS0 (RFC 6891): an OPT in the query gets one in the answer (our
 *     payload size DNS_EDNS_UDP_SIZE, the DO bit echoed); a version
 *     other than 0 gets BADVERS; over UDP the answer fits
 *     max(512, min(requestor's size, DNS_EDNS_UDP_SIZE)) octets, or 512
 *     without EDNS0, else it goes out with TC and no records;
 *   - the name's behaviour (dns_zone.h): drop, delay, a forced rcode
 *     (NOERROR meaning an empty answer), truncate_udp; one with
 *     for_queries or for_ms that has run out is ignored, which needs a
 *     memo of the queries so far (dns_answer_build_at);
 *   - otherwise CNAMEs are chased within the zone (at most
 *     DNS_CNAME_CHAIN_MAX), then the records of the type asked; none at a
 *     name that exists is NODATA, at one that does not NXDOMAIN, both
 *     with the zone's SOA in the authority section (RFC 2308); MX answers
 *     carry the exchanges' A/AAAA from the zone as additional records.
 * The answer owns its message; dns_answer_free releases it.
 */
#ifndef FAKE_DNS_ANSWER_H
#define FAKE_DNS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "fake-dns/dns_wire.h"
#include "fake-dns/dns_zone.h"
#include "harness/util/vbuf.h"

typedef struct dns_answer {
	int drop;		/* send nothing */
	uint32_t delay_ms;	/* send this much later */
	int truncated;		/* TC set (by behaviour or by size), after dns_answer_encode */
	int cut;		/* the records did not fit and were left out */
	size_t max;		/* largest answer the transport allows */
	dns_msg msg;
} dns_answer;

/* What a server remembers of its zone's behaviours between queries, so
 * that one with for_queries or for_ms runs out: per behaviour, how many
 * queries it matched and when the first of them came. */
typedef struct dns_answer_memo {
	uint32_t *hits;		/* one per behaviour of the zone */
	uint64_t *first_ms;	/* the first match's time; meaningful once hits > 0 */
	size_t n;
} dns_answer_memo;

/* A memo for z's behaviours, all unused; dns_answer_memo_free releases it. */
void dns_answer_memo_init(dns_answer_memo *m, const dns_zone *z);
void dns_answer_memo_free(dns_answer_memo *m);

/* Builds the answer to q, received over UDP when udp is set, as the
 * first query of all: every behaviour applies. */
void dns_answer_build(const dns_zone *z, const dns_msg *q, int udp, dns_answer *a);
/* The same for a query that came at now_ms (any clock, in ms), counted
 * in memo (made for z); a NULL memo is dns_answer_build. */
void dns_answer_build_at(const dns_zone *z, dns_answer_memo *memo, uint64_t now_ms,
    const dns_msg *q, int udp, dns_answer *a);
/* Writes a->msg into out within a->max; sets a->truncated. Returns 0, or
 * -1 when the message cannot be written (a harness bug). */
int dns_answer_encode(dns_answer *a, vbuf *out);
/* The answer to a packet that did not parse but has a header: FORMERR
 * with its id, opcode and RD, no sections. Nothing (returns -1) when p is
 * shorter than a header or is itself a response. */
int dns_answer_formerr(const uint8_t *p, size_t len, vbuf *out);
void dns_answer_free(dns_answer *a);

#endif
