/*
 * fuzz_relay - the relay scenario loader fed hostile files.
 *
 * The input is a relay scenario file. A load that fails must say why in
 * an error that names the file; a load that succeeds must give a
 * scenario that keeps the promises of relay.h: hosts in 127/8 with a
 * port, each name and address once, faults within their ranges, rows
 * whose hosts exist and whose checks are in the catalog, the message
 * within its limits.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/catalog.h"
#include "harness/scenario/relay.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_relay: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_NAME "fuzz.json"

static int
fuzz_fault_ok(int f, int hi)
{
	return f == RLY_ACCEPT || f == RLY_DROP || (f >= 400 && f <= hi);
}

static void
fuzz_check_host(const rly_scenario *s, size_t i)
{
	const rly_host *h = &s->hosts[i];
	struct in_addr a;

	FUZZ_CHECK(h->name != NULL && h->name[0] != '\0');
	FUZZ_CHECK(inet_pton(AF_INET, h->addr, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127);
	FUZZ_CHECK(atoi(h->port) >= 1 && atoi(h->port) <= 65535);
	FUZZ_CHECK(h->greet == RLY_ACCEPT || (h->greet >= 400 && h->greet <= 499));
	FUZZ_CHECK(fuzz_fault_ok(h->mail, 599) && fuzz_fault_ok(h->rcpt, 599) &&
	    fuzz_fault_ok(h->data, 599));
	FUZZ_CHECK(!h->refuse || (!h->greet && !h->mail && !h->rcpt && !h->data));
	FUZZ_CHECK(rly_host_find(s, h->name) == i);
	for (size_t j = 0; j < i; j++)
		FUZZ_CHECK(strcmp(s->hosts[j].addr, h->addr) != 0 ||
		    strcmp(s->hosts[j].port, h->port) != 0);
}

static void
fuzz_check_expect(const rly_scenario *s, const rly_expect *e)
{
	FUZZ_CHECK(e->where.path != NULL && e->where.line >= 1 && e->where.col >= 1);
	FUZZ_CHECK(chk_catalog_find(e->check) != NULL);
	switch (e->kind) {
	case RLY_DNS:
		FUZZ_CHECK(e->qname != NULL && e->qtype >= 0);
		FUZZ_CHECK(e->host == SIZE_MAX || e->host < s->nhosts);
		break;
	case RLY_ORDER:
		FUZZ_CHECK(e->norder >= 1);
		for (size_t k = 0; k < e->norder; k++)
			FUZZ_CHECK(e->order[k] < s->nhosts);
		break;
	case RLY_DELIVERIES:
	case RLY_CONNECTIONS:
		FUZZ_CHECK(e->ncounts >= 1);
		for (size_t k = 0; k < e->ncounts; k++)
			FUZZ_CHECK(e->counts[k].host < s->nhosts &&
			    e->counts[k].n <= HARNESS_RELAY_CONNS_MAX);
		break;
	default:
		FUZZ_CHECK(e->host < s->nhosts);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	rly_scenario *s = NULL;
	size_t total = 0;
	char *msg;
	size_t len;

	err[0] = '\0';
	if (rly_load_buffer(FUZZ_NAME, (const char *)data, size, &s, err, sizeof(err)) != 0) {
		FUZZ_CHECK(s == NULL);
		/* An error in the scenario or its zone names a file. */
		FUZZ_CHECK(err[0] != '\0' && strchr(err, ':') != NULL);
		return 0;
	}
	FUZZ_CHECK(s != NULL && s->id != NULL && s->zone != NULL);
	FUZZ_CHECK(s->nhosts >= 1 && s->nhosts <= HARNESS_RELAY_HOSTS_MAX);
	FUZZ_CHECK(s->nexpects >= 1 && s->nexpects <= HARNESS_RELAY_EXPECT_MAX);
	FUZZ_CHECK(s->within_ms >= 100 && s->within_ms <= HARNESS_RELAY_WITHIN_MAX);
	/* The reverse-path is a mailbox, or "" for <>. */
	FUZZ_CHECK(s->from != NULL && (s->from[0] == '\0' || strchr(s->from, '@') != NULL));
	FUZZ_CHECK(s->nto >= 1);
	for (size_t i = 0; i < s->nhosts; i++)
		fuzz_check_host(s, i);
	for (size_t i = 0; i < s->nexpects; i++)
		fuzz_check_expect(s, &s->expects[i]);
	for (size_t i = 0; i < s->nlines; i++) {
		FUZZ_CHECK(strstr(s->lines[i], "\r\n") == NULL);
		total += strlen(s->lines[i]) + 2;
	}
	msg = rly_message_crlf(s, &len);
	FUZZ_CHECK(len == total && total <= HARNESS_SROLE_MESSAGE_MAX);
	xfree(msg);
	rly_free(s);
	return 0;
}
