/*
 * relay - one relay scenario run on a loop of its own: the fake DNS, the
 * hosts the harness plays, and the submission to the MTA under test.
 *
 * Meant to run inside the harness's network namespace (netns.h), where
 * 127.0.0.1:53 is free for the fake DNS and every 127/8 address is local;
 * the caller has entered it and started the MTA. Here: the fake DNS
 * (fake-dns/dns_server.h) answers from the scenario's zone on dns_listen;
 * each host that does not refuse gets a listener on its address, where
 * every connection runs the server protocol machine
 * (harness/smtp/server.h) with the host's faults, recording its
 * transcript and the messages it accepts; then the submission command is
 * started. The run ends when within_ms has passed since the start, or
 * settle_ms after every delivery the rows wait for has arrived and no
 * connection is open; or when the submission fails (ERROR). Every
 * session has an idle deadline (HARNESS_RELAY_IDLE_MS), the submission
 * HARNESS_RELAY_SUBMIT_MS.
 *
 * The observation (relay_check.h) is the run's record: connections in
 * the order they came, and the DNS queries.
 */
#ifndef HARNESS_ENGINE_RELAY_H
#define HARNESS_ENGINE_RELAY_H

#include <stddef.h>
#include <stdio.h>

#include "harness/check/relay_check.h"
#include "harness/scenario/relay.h"
#include "reports/result.h"

typedef struct eng_relay_config {
	const char *dns_host;		/* default "127.0.0.1" */
	const char *dns_port;		/* default "53" */
	const char *submit_cmd;		/* for scenarios without a "command" of their own */
	const char *submit_smtp;	/* else HOST:PORT: the harness's client submits there */
	FILE *log;			/* a line per query and per connection, or NULL */
} eng_relay_config;

/* Runs s; fills obs and sc's client (the submission command). Returns 0,
 * or -1 with one line in err when the run could not take place (an
 * address could not be bound, no submission command, a file could not
 * be written): then sc is untouched. A submission that fails is not an
 * error here: sc's client says how it ended. */
int eng_relay_run(const rly_scenario *s, const eng_relay_config *cfg, rpt_scenario *sc,
    chk_relay_obs *obs, char *err, size_t errlen);

/* Substitutes {message}, {from} and {to} (every recipient, each quoted,
 * space-separated) in tmpl, shell-quoted. The caller frees it. */
char *eng_relay_expand(const char *tmpl, const char *message, const char *from,
    char *const *to, size_t nto);

#endif
