/*
 * loadstat - the statistics of a load run, gathered one session at a time.
 *
 * Each finished session's transcript is read as a dialog (check/dialog.h)
 * and folded into fixed-size counters: messages accepted or refused by
 * reply class, replies by code, latency per command in log-linear
 * histograms (util/histo.h), findings by check id and errors by kind. The
 * session's result can be freed afterwards, so memory does not grow with
 * the number of sessions, only with the number of distinct check ids and
 * error kinds (each list capped at LST_NAMES_MAX; further names count
 * under "other").
 *
 * Latency of a command: from the transcript segment that carried its last
 * byte to the one that carried the last byte of its reply. For a command
 * in a pipelined group this includes waiting for the replies before it.
 * The greeting ("connect") is timed from the connection's open event; the
 * end of a message ("dot") from the segment that held the final dot.
 */
#ifndef HARNESS_ENGINE_LOADSTAT_H
#define HARNESS_ENGINE_LOADSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "harness/check/dialog.h"
#include "harness/util/histo.h"
#include "reports/result.h"

#define LST_NAMES_MAX	256	/* distinct check ids, and error kinds, kept */
#define LST_CODES	600	/* reply codes 0-599 counted one by one */

typedef enum lst_cmd {
	LST_CONNECT = 0,	/* the greeting */
	LST_EHLO,
	LST_HELO,
	LST_MAIL,
	LST_RCPT,
	LST_DATA,
	LST_DOT,		/* message content, answered after the final dot */
	LST_RSET,
	LST_QUIT,
	LST_OTHER,
	LST_NCMD
} lst_cmd;

typedef struct lst_name {
	char *name;
	uint64_t n;
} lst_name;

typedef struct lst_names {
	lst_name *v;
	size_t n;
	size_t cap;
} lst_names;

typedef struct lst_stats {
	uint64_t sessions;		/* finished */
	uint64_t pass, fail, error, skip;	/* sessions by verdict */
	uint64_t messages;		/* MAIL commands sent: transactions begun */
	uint64_t accepted;		/* content answered 2xx */
	uint64_t refused4;		/* transaction refused 4xx (MAIL, all RCPTs, DATA or content) */
	uint64_t refused5;		/* ... 5xx */
	uint64_t unanswered;		/* transaction begun, no final answer seen */
	uint64_t recipients;		/* RCPT commands sent */
	uint64_t recipients_ok;		/* ... answered 2xx */
	uint64_t replies;		/* every reply, the greeting included */
	uint64_t codes[LST_CODES];	/* replies by code; a code out of range in [0] */
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t server_closed_early;	/* the server closed or reset before QUIT's reply */
	histo latency[LST_NCMD];	/* microseconds */
	lst_names findings;		/* by check id, every verdict */
	lst_names errors;		/* ERROR sessions by kind */
} lst_stats;

void lst_init(lst_stats *st);
void lst_free(lst_stats *st);
/* Folds one finished session into st; res stays the caller's. d is the
 * dialog of res->transcript when the caller has one (the passive checks
 * built it), or NULL: then it is built here. */
void lst_add_session(lst_stats *st, const rpt_scenario *res, const dlg *d);
/* "connect", "ehlo", ... "other". */
const char *lst_cmd_str(lst_cmd c);
/* The kind of error a session's ERROR reason names: "connect-refused",
 * "connect-timeout", "connect-failed", "deadline", "other". */
const char *lst_error_kind(const char *reason);

#endif
