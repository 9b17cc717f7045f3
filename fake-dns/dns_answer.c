/*
 * dns_answer - what the fake DNS answers; see dns_answer.h.
 */
#include <stdio.h>
#include <string.h>

#include "fake-dns/dns_answer.h"
#include "harness/util/xalloc.h"

#define ANSWER_FOUND_MAX (DNS_RRS_MAX + 1) /* one more than fits, so that a cut is seen */

static void
answer_rcode(dns_answer *a, int rcode)
{
	a->msg.flags = (uint16_t)((a->msg.flags & ~0xf) | (rcode & 0xf));
	if (a->msg.edns.present)
		a->msg.edns.ext_rcode = (uint8_t)(rcode >> 4);
}

/* Adds rr with owner as its name (so the question's case is echoed). */
static void
answer_add(dns_answer *a, int sec, const dns_rr *rr, const char *owner)
{
	dns_rr *d;

	if (a->msg.nrr[0] + a->msg.nrr[1] + a->msg.nrr[2] >= DNS_RRS_MAX) {
		/* never a silent cut: TC says records were left out */
		a->msg.flags |= DNS_FLAG_TC;
		return;
	}
	d = dns_msg_add(&a->msg, sec, rr);
	if (owner != NULL)
		snprintf(d->name, sizeof(d->name), "%s", owner);
}

static int
answer_has(const dns_msg *m, int sec, const dns_rr *rr)
{
	for (size_t i = 0; i < m->nrr[sec]; i++)
		if (m->rr[sec][i].type == rr->type && dns_name_eq(m->rr[sec][i].name, rr->name) &&
		    memcmp(m->rr[sec][i].addr, rr->addr, sizeof(rr->addr)) == 0)
			return 1;
	return 0;
}

/* The A and AAAA records of each MX exchange in the zone. */
static void
answer_glue(const dns_zone *z, dns_answer *a)
{
	const dns_rr **found = xcalloc(ANSWER_FOUND_MAX, sizeof(*found));

	for (size_t i = 0; i < a->msg.nrr[DNS_SEC_ANSWER]; i++) {
		const dns_rr *mx = &a->msg.rr[DNS_SEC_ANSWER][i];
		static const int types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };

		if (mx->type != DNS_TYPE_MX || strcmp(mx->target, ".") == 0)
			continue;
		for (int t = 0; t < 2; t++) {
			size_t n = dns_zone_find(z, mx->target, types[t], found, ANSWER_FOUND_MAX);

			for (size_t k = 0; k < n; k++)
				if (!answer_has(&a->msg, DNS_SEC_ADDITIONAL, found[k]))
					answer_add(a, DNS_SEC_ADDITIONAL, found[k], NULL);
		}
	}
	xfree((void *)found);
}

static void
answer_lookup(const dns_zone *z, const dns_question *q, dns_answer *a)
{
	const dns_rr **found = xcalloc(ANSWER_FOUND_MAX, sizeof(*found));
	char cur[DNS_NAME_TEXT_MAX];
	size_t n;

	snprintf(cur, sizeof(cur), "%s", q->name);
	for (int hops = 0;; hops++) {
		const dns_rr *cn = NULL;

		if (q->type != DNS_TYPE_CNAME && q->type != DNS_TYPE_ANY &&
		    dns_zone_find(z, cur, DNS_TYPE_CNAME, &cn, 1) == 1) {
			answer_add(a, DNS_SEC_ANSWER, cn, cur);
			snprintf(cur, sizeof(cur), "%s", cn->target);
			/* a target outside the zone, or a chain too long (a loop):
			 * the client follows up itself (RFC 1034 §4.3.2 step 3a) */
			if (!dns_name_in(cur, z->apex) || hops + 1 >= DNS_CNAME_CHAIN_MAX)
				break;
			continue;
		}
		n = dns_zone_find(z, cur, q->type, found, ANSWER_FOUND_MAX);
		for (size_t i = 0; i < n; i++)
			answer_add(a, DNS_SEC_ANSWER, found[i], cur);
		if (n == 0) {
			/* RFC 6604: the rcode is that of the last name of the chain */
			answer_rcode(a, dns_zone_name_exists(z, cur) ? DNS_RCODE_NOERROR :
			    DNS_RCODE_NXDOMAIN);
			answer_add(a, DNS_SEC_AUTHORITY, &z->soa, NULL);
		}
		break;
	}
	xfree((void *)found);
	if (q->type == DNS_TYPE_MX || q->type == DNS_TYPE_ANY)
		answer_glue(z, a);
}

void
dns_answer_memo_init(dns_answer_memo *m, const dns_zone *z)
{
	m->n = z->nbeh;
	m->hits = xcalloc(m->n ? m->n : 1, sizeof(*m->hits));
	m->first_ms = xcalloc(m->n ? m->n : 1, sizeof(*m->first_ms));
}

void
dns_answer_memo_free(dns_answer_memo *m)
{
	if (m == NULL)
		return;
	xfree(m->hits);
	xfree(m->first_ms);
	memset(m, 0, sizeof(*m));
}

/* Counts a query b matched and says whether b still applies to it: its
 * for_queries first queries, or those within for_ms of the first one.
 * Without a memo every query is the first. */
static int
answer_behaviour_live(const dns_zone *z, dns_answer_memo *memo, uint64_t now_ms,
    const dns_zone_behaviour *b)
{
	size_t i = (size_t)(b - z->beh);
	uint32_t seen;

	if (memo == NULL || i >= memo->n)
		return 1;
	if (memo->hits[i] == 0)
		memo->first_ms[i] = now_ms;
	seen = memo->hits[i];
	if (memo->hits[i] < UINT32_MAX)
		memo->hits[i]++;
	if (b->for_queries > 0 && seen >= b->for_queries)
		return 0;
	if (b->for_ms > 0 && now_ms >= memo->first_ms[i] &&
	    now_ms - memo->first_ms[i] >= b->for_ms)
		return 0;
	return 1;
}

void
dns_answer_build(const dns_zone *z, const dns_msg *q, int udp, dns_answer *a)
{
	dns_answer_build_at(z, NULL, 0, q, udp, a);
}

void
dns_answer_build_at(const dns_zone *z, dns_answer_memo *memo, uint64_t now_ms,
    const dns_msg *q, int udp, dns_answer *a)
{
	const dns_zone_behaviour *b;
	const dns_question *qq;

	memset(a, 0, sizeof(*a));
	a->max = DNS_MSG_MAX;
	if (q->flags & DNS_FLAG_QR) {
		a->drop = 1;
		return;
	}
	a->msg.id = q->id;
	/* QR, the query's opcode and RD; AA below once the zone answers */
	a->msg.flags = (uint16_t)(DNS_FLAG_QR | (q->flags & (0x7800 | DNS_FLAG_RD)));
	if (q->nq > 0) {
		a->msg.q = xmemdup(q->q, q->nq * sizeof(dns_question));
		a->msg.nq = q->nq;
	}
	if (q->edns.present) {
		a->msg.edns.present = 1;
		a->msg.edns.udp_size = DNS_EDNS_UDP_SIZE;
		a->msg.edns.flags = q->edns.flags & DNS_EDNS_DO;
	}
	if (udp) {
		size_t want = q->edns.present ? q->edns.udp_size : DNS_UDP_PLAIN_MAX;

		a->max = want < DNS_UDP_PLAIN_MAX ? DNS_UDP_PLAIN_MAX :
		    want > DNS_EDNS_UDP_SIZE ? DNS_EDNS_UDP_SIZE : want;
	}
	if (q->edns.present && q->edns.version != 0) {
		answer_rcode(a, DNS_RCODE_BADVERS);
		return;
	}
	if (DNS_OPCODE(q->flags) != 0) {
		answer_rcode(a, DNS_RCODE_NOTIMP);
		return;
	}
	if (q->nq != 1 || q->q[0].type == DNS_TYPE_OPT) {
		answer_rcode(a, DNS_RCODE_FORMERR);
		return;
	}
	qq = &q->q[0];
	if ((qq->class_ != DNS_CLASS_IN && qq->class_ != DNS_CLASS_ANY) || qq->type == 251 ||
	    qq->type == 252 || !dns_name_in(qq->name, z->apex)) {
		answer_rcode(a, DNS_RCODE_REFUSED);
		return;
	}
	a->msg.flags |= DNS_FLAG_AA;
	b = dns_zone_behaviour_find(z, qq->name, qq->type);
	if (b != NULL && !answer_behaviour_live(z, memo, now_ms, b))
		b = NULL;	/* run out: the records answer */
	if (b != NULL) {
		a->drop = b->drop;
		a->delay_ms = b->delay_ms;
		if (b->drop)
			return;
		if (b->truncate_udp && udp) {
			a->msg.flags |= DNS_FLAG_TC;
			return;
		}
		if (b->rcode >= 0) {
			answer_rcode(a, b->rcode);
			if (b->rcode == DNS_RCODE_NOERROR || b->rcode == DNS_RCODE_NXDOMAIN)
				answer_add(a, DNS_SEC_AUTHORITY, &z->soa, NULL);
			return;
		}
	}
	answer_lookup(z, qq, a);
}

int
dns_answer_encode(dns_answer *a, vbuf *out)
{
	int cut = 0;

	if (dns_wire_encode(&a->msg, a->max, out, &cut) != 0)
		return -1;
	a->cut = cut;
	a->truncated = cut || (a->msg.flags & DNS_FLAG_TC) != 0;
	return 0;
}

int
dns_answer_formerr(const uint8_t *p, size_t len, vbuf *out)
{
	uint8_t h[12];

	if (len < 12 || (p[2] & 0x80))
		return -1;
	memset(h, 0, sizeof(h));
	h[0] = p[0];
	h[1] = p[1];
	h[2] = (uint8_t)(0x80 | (p[2] & 0x79));	/* QR, opcode, RD */
	h[3] = DNS_RCODE_FORMERR;
	vbuf_append(out, h, sizeof(h));
	return 0;
}

void
dns_answer_free(dns_answer *a)
{
	if (a == NULL)
		return;
	dns_msg_free(&a->msg);
	memset(a, 0, sizeof(*a));
}
