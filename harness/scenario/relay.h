/*
 * relay - relay scenario files (docs/relay.md), compiled once before any
 * traffic.
 *
 * A relay scenario is one experiment with an MTA that relays: the zone
 * the fake DNS answers from, the hosts the harness plays (each an
 * address in 127/8 with a behaviour: accept, a 4yz greeting, a 4yz/5yz
 * or a drop at MAIL, RCPT (for every recipient or per mailbox) or the
 * final dot, DSN offered or not, or no listener at all), the
 * message and envelope to submit, how long to watch, and the rows of
 * `expect`, each a predicate over what the hosts saw and what the fake
 * DNS was asked, naming the catalog id it judges.
 *
 * Errors are one line, as for the other scenario files:
 *
 *     FILE:LINE:COL: $.hosts[1].data: expected a code 400-599 or "drop", got 250
 *
 * Limits: HARNESS_RELAY_HOSTS_MAX hosts, HARNESS_RELAY_EXPECT_MAX rows,
 * HARNESS_RELAY_FILE_MAX bytes, the message HARNESS_MESSAGE_MAX octets.
 */
#ifndef HARNESS_SCENARIO_RELAY_H
#define HARNESS_SCENARIO_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "fake-dns/dns_zone.h"
#include "harness/scenario/scenario.h"
#include "reports/result.h"

/* A host's answer at one point: accept, a code, or a drop (no reply,
 * the connection closed). */
#define RLY_ACCEPT 0
#define RLY_DROP (-1)

/* A host's reply to the RCPT of one mailbox. */
typedef struct rly_rcpt_code {
	char *mailbox;		/* compared without regard to case */
	int code;		/* 400-599, or RLY_DROP */
} rly_rcpt_code;

typedef struct rly_host {
	scn_where where;
	char *name;		/* as rows of `expect` name it */
	char *addr;		/* IPv4 literal in 127/8 */
	char *port;		/* as text */
	int refuse;		/* no listener: connections are refused */
	int greet;		/* RLY_ACCEPT (220), or a 4yz greeting, then close */
	int mail;		/* RLY_ACCEPT, a code 400-599, or RLY_DROP */
	int rcpt;
	int data;		/* at the final dot */
	rly_rcpt_code *rcpt_codes;	/* per mailbox, before `rcpt` */
	size_t nrcpt_codes;
	int no_dsn;		/* DSN not offered (RFC 3461 §5.2.2 hop) */
	uint32_t faults_for;	/* the faults apply to the first N connections; 0: all */
} rly_host;

typedef enum rly_kind {
	RLY_DNS = 0,		/* a query for name/type, before the first connection to `host` */
	RLY_ORDER,		/* hosts first connected to in this order */
	RLY_DELIVERIES,		/* messages accepted, per host, exactly */
	RLY_CONNECTIONS,	/* connections, per host, exactly */
	RLY_RETRY,		/* a second connection to host, at least min_gap_ms after the first */
	RLY_SAME_CONTENT,	/* what host accepted is the message plus leading trace fields */
	RLY_RECEIVED,		/* what host accepted starts with a Received field */
	RLY_BOUNCE,		/* host got a notice: MAIL FROM:<>, RCPT TO the sender */
	RLY_DSN_ENVELOPE,	/* ... without RET, with NOTIFY absent or NEVER */
	RLY_DSN_REPORT,		/* ... a multipart/report of RFC 3464, Action failed, a 5.x.x Status */
	RLY_NO_BARE_LINE_ENDS,	/* the data host got holds no bare CR or LF */
	RLY_DSN_PARAMS,		/* host got RET, ENVID, NOTIFY, ORCPT as stated (or none) */
	RLY_RCPTS,		/* every message host accepted had `count` recipients */
	RLY_LOCALPARTS,		/* host got every recipient with its local-part as submitted */
	RLY_NOTICES,		/* the DSNs host got name each recipient with the Action stated */
	RLY_NO_DSN_PARAMS,	/* no MAIL or RCPT sent to host carries a DSN parameter */
	RLY_DSN_RETURN		/* the failed DSN's returned part and Original-Envelope-Id */
} rly_kind;

/* A recipient and the Action the notices must give it (NULL: none names it). */
typedef struct rly_action {
	char *mailbox;
	char *action;
} rly_action;

/* The DSN parameters a dsn_params row states. */
enum { RLY_P_RET = 0, RLY_P_ENVID, RLY_P_NOTIFY, RLY_P_ORCPT, RLY_P_N };

typedef struct rly_count {
	size_t host;		/* index in hosts */
	uint32_t n;
} rly_count;

typedef struct rly_expect {
	scn_where where;
	size_t index;		/* 1-based row */
	rly_kind kind;
	char *check;		/* catalog id */
	rpt_verdict verdict;	/* when it fails: the catalog keyword's */
	size_t host;		/* the row's host (DNS: "before", SIZE_MAX when none) */
	char *qname;		/* DNS */
	int qtype;
	int qrcode;		/* DNS: ... answered with this rcode; -1: any */
	size_t *order;		/* ORDER: host indexes */
	size_t norder;
	rly_count *counts;	/* DELIVERIES, CONNECTIONS */
	size_t ncounts;
	uint32_t min_gap_ms;	/* RETRY */
	uint32_t count;		/* RCPTS */
	char *status;		/* DSN_REPORT: the Status must start with this, or NULL */
	int param_given[RLY_P_N];	/* DSN_PARAMS: the row states this parameter */
	char *param[RLY_P_N];	/* ... its value, as sent; NULL: must be absent */
	rly_action *actions;	/* NOTICES */
	size_t nactions;
	char *returned;		/* DSN_RETURN: the returned part's type, or NULL */
	char *orig_envid;	/* ... the Original-Envelope-Id, or NULL */
} rly_expect;

typedef struct rly_scenario {
	char *file;
	char *dir;		/* the scenario's directory, for relative paths */
	char *id;
	char *summary;
	char **refs;
	size_t nrefs;
	dns_zone *zone;
	rly_host *hosts;
	size_t nhosts;
	char **lines;		/* the message, one line each, without line ends */
	size_t nlines;
	char *from;		/* the envelope of the submission */
	char **to;
	size_t nto;
	char *command;		/* the submission command template, or NULL */
	uint32_t within_ms;	/* how long to watch at most */
	uint32_t settle_ms;	/* once every row's deliveries are in, how long more */
	rly_expect *expects;
	size_t nexpects;
} rly_scenario;

/* Loads one relay scenario; `name` is used in messages. 0, or -1 with
 * one line in err. */
int rly_load_buffer(const char *name, const char *text, size_t len, rly_scenario **out,
    char *err, size_t errlen);
int rly_load_file(const char *path, rly_scenario **out, char *err, size_t errlen);
void rly_free(rly_scenario *s);

/* The index of the host called name, or SIZE_MAX. */
size_t rly_host_find(const rly_scenario *s, const char *name);
/* The message as sent on the wire: each line and CRLF. The caller frees it. */
char *rly_message_crlf(const rly_scenario *s, size_t *len);
const char *rly_kind_str(rly_kind k);

#endif
