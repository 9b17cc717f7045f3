/*
 * relay_check - the relay checks: pure functions from what a relay run
 * observed to findings.
 *
 * A relay run (harness/engine/relay.h) records one observation: every
 * connection the MTA under test made to a host the harness played (which
 * host, when it opened and ended, its transcript, the messages the host
 * accepted with their envelope and exact content) and every query the
 * fake DNS answered. chk_relay_judge turns that and the scenario's rows
 * of `expect` into findings citing each row's catalog id, with evidence
 * in the transcript of the connection concerned (rpt_evidence.conn is
 * the connection's index: 0 the first, as the report numbers them) or
 * the DNS record. The same observation built by hand (the unit tests do)
 * gives the same findings: nothing here touches a socket or a clock.
 */
#ifndef HARNESS_CHECK_RELAY_CHECK_H
#define HARNESS_CHECK_RELAY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "captures/transcript.h"
#include "harness/scenario/relay.h"
#include "reports/result.h"

/* A message a host accepted (250 after the final dot). */
typedef struct chk_relay_msg {
	char *mail_from;	/* reverse-path mailbox, "" for <> */
	char *ret;		/* RET= as sent, or NULL */
	char *envid;		/* ENVID= as sent, or NULL */
	char **rcpts;		/* forward-path mailboxes */
	char **notify;		/* NOTIFY= of each, or NULL */
	char **orcpt;		/* ORCPT= of each, or NULL */
	size_t nrcpts;
	char *content;		/* unstuffed, exact octets */
	size_t len;
} chk_relay_msg;

typedef struct chk_relay_conn {
	size_t host;		/* index in the scenario's hosts */
	uint64_t start_us;	/* accepted */
	uint64_t end_us;	/* closed */
	cap_transcript *t;	/* owned, until moved into the report */
	chk_relay_msg *msgs;
	size_t nmsgs;
} chk_relay_conn;

typedef struct chk_relay_query {
	uint64_t ms;		/* when it came, ms since the epoch */
	char *qname;		/* NULL: unreadable */
	int qtype;
	int rcode;		/* as answered; -1: no answer */
	char *line;		/* as `smtp-harness dns` prints it */
} chk_relay_query;

typedef struct chk_relay_obs {
	uint64_t submitted_us;	/* the submission command started */
	int submit_smtp;	/* by the harness's own client (relay_submit.h) */
	char *submit_error;	/* then: why it failed, or NULL */
	chk_relay_conn *conns;	/* in the order they were accepted */
	size_t nconns;
	unsigned long conns_lost;	/* past HARNESS_RELAY_CONNS_MAX, not recorded */
	chk_relay_query *queries;
	size_t nqueries;
} chk_relay_obs;

/* Judges every row of s's expect against obs into sc: a finding (the
 * row's verdict, or a stated one) for each row that does not hold, and
 * the row's check recorded as exercised either way. */
void chk_relay_judge(const rly_scenario *s, const chk_relay_obs *obs, rpt_scenario *sc);

/* Lines for the report's timeline: each DNS query and each connection
 * (t relative to the submission), in time order. The caller frees each
 * and the array. */
char **chk_relay_timeline(const rly_scenario *s, const chk_relay_obs *obs, size_t *n);

/* Appends a copy of the message to conn (for the engine and the tests);
 * its envid and orcpt (an array of nrcpts, zeroed) are the caller's to
 * fill with heap strings. Returns it, valid until the next add. */
chk_relay_msg *chk_relay_conn_add_msg(chk_relay_conn *c, const char *mail_from, const char *ret,
    const char *const *rcpts, const char *const *notify, size_t nrcpts, const char *content,
    size_t len);
/* Frees what obs holds (transcripts not yet moved out included). */
void chk_relay_obs_free(chk_relay_obs *obs);

#endif
