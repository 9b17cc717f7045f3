/*
 * dns_server - the fake DNS responder on a libuv loop, UDP and TCP.
 *
 * Binds one address on UDP and TCP with the same port (port 0: a free
 * one), answers every query from one zone (dns_answer.h), and keeps a
 * record of each: when it came and when it was answered, transport,
 * client, id, qname, qtype, the rcode and records sent, TC, a delay, a
 * drop, or why the packet could not be read. Later parts of the harness
 * put that record in reports as evidence of what a mail server asked.
 *
 * TCP (RFC 7766): each message has a 2-octet length prefix; several
 * queries may come on one connection and are answered in turn (delayed
 * ones when their delay ends). Bounds: DNS_TCP_CONNS_MAX connections
 * (more are closed at once), an idle deadline (DNS_TCP_IDLE_MS unless
 * configured; it waits while a delayed answer is owed),
 * DNS_TCP_QUERIES_MAX queries per connection, reading pauses while more
 * than DNS_TCP_WRITE_QUEUE_MAX answer octets are unsent, a zero length
 * prefix closes. DNS_PENDING_MAX delayed answers may wait at once and
 * DNS_UDP_QUEUE_MAX UDP answers be queued (more are dropped and recorded
 * as such); the record keeps DNS_LOG_MAX queries and counts the rest.
 *
 * It shares its loop with anything else. dns_server_stop closes every
 * handle (pending delayed answers are not sent); once the loop has run
 * those closes, dns_server_free releases the server.
 */
#ifndef FAKE_DNS_SERVER_H
#define FAKE_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "fake-dns/dns_zone.h"
#include "harness/util/vbuf.h"

typedef enum dns_transport { DNS_TRANSPORT_UDP, DNS_TRANSPORT_TCP } dns_transport;

typedef struct dns_server_config {
	const char *host;		/* address literal to bind */
	const char *port;		/* "0": any free port (the same on UDP and TCP) */
	const dns_zone *zone;		/* borrowed; must outlive the server */
	uint32_t tcp_idle_ms;		/* 0: DNS_TCP_IDLE_MS */
	FILE *log;			/* a line per query, or NULL */
} dns_server_config;

typedef struct dns_log_entry {
	uint64_t query_ms;		/* wall clock, ms since the epoch */
	uint64_t answer_ms;		/* when the answer went out; 0: none went */
	dns_transport transport;
	char client[64];		/* "127.0.0.1:53124" */
	uint16_t id;
	char *qname;			/* NULL when the packet had no readable question */
	uint16_t qtype;
	int rcode;			/* -1: no answer */
	int truncated;
	int dropped;			/* deliberately unanswered (behaviour, or too many pending) */
	uint32_t delay_ms;
	char *answers;			/* answer records, "; "-separated presentation form */
	char *error;			/* why the packet could not be read, or NULL */
} dns_log_entry;

typedef struct dns_server dns_server;

/* Binds and starts answering. Returns 0 and *out, or -1 with err when an
 * address cannot be bound (exit 3). cfg's strings are copied. */
int dns_server_start(uv_loop_t *loop, const dns_server_config *cfg, dns_server **out,
    char *err, size_t errlen);
/* "127.0.0.1:5353": the address really bound. */
const char *dns_server_address(const dns_server *sv);
int dns_server_port(const dns_server *sv);
/* The record so far; entries stay valid until the next query or free. */
const dns_log_entry *dns_server_log(const dns_server *sv, size_t *n);
/* Queries not recorded because the record was full. */
unsigned long dns_server_log_lost(const dns_server *sv);
/* Appends one entry as the line the CLI prints (no newline) to out. */
void dns_server_log_format(const dns_log_entry *e, vbuf *out);
/* Stops answering and closes every handle; idempotent. */
void dns_server_stop(dns_server *sv);
/* Frees a stopped server whose handles the loop has closed. */
void dns_server_free(dns_server *sv);

#endif
