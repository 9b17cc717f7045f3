/*
 * engine - runs scenarios against a target on one libuv loop.
 *
 * A client session connects to the target, plays the scenario's steps,
 * records every byte and connection event into a transcript, judges each
 * expectation as the reply arrives, and when it ends runs the passive
 * checks on the transcript. Every wait has a deadline (connect, each
 * reply, each close, the whole scenario); a peer that goes silent ends its
 * scenario with a finding at that deadline, never a hang. Sessions share
 * nothing but the loop, so `jobs` of them run at once without threads.
 *
 * Verdicts: FAIL comes from findings; ERROR when the session could not
 * take place (connection refused, timed out, a local failure); SKIP when
 * the target refuses service with a 554 greeting or lacks an EHLO keyword
 * the scenario requires (the passive checks then do not run: the scenario
 * did not take place).
 */
#ifndef HARNESS_ENGINE_ENGINE_H
#define HARNESS_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/scenario/scenario.h"
#include "reports/result.h"

struct orc_spec;

/* Called as each scenario starts, with eng_run's arg. */
typedef void (*eng_start_cb)(void *arg, const char *id);

typedef struct eng_config {
	const char *host;		/* target host name or address */
	const char *port;		/* target port, as text */
	uint32_t connect_timeout_ms;
	uint32_t step_timeout_ms;	/* 0: the scenarios' own */
	const scn_vars *defaults;	/* built-in variables (eng_default_vars) */
	const scn_vars *overrides;	/* --var: win over a scenario's "vars" */
	const char *capture_dir;	/* write <dir>/<id>.pcap per session, or NULL */
	const char *capture_iface;	/* with capture_dir: also capture live on this
					 * interface (libpcap, "tcp port <target
					 * port>") into <dir>/live.pcap (livecap.h) */
	unsigned jobs;			/* sessions at once; 0: one per CPU */
	const char *client_cmd;		/* server role: the client under test, with
					 * {host} {port} {message}; NULL: wait for one */
	const char *listen_host;	/* server role: where to listen (NULL: 127.0.0.1) */
	const char *listen_port;	/* ... (NULL: "0", any free port) */
	uint32_t seed;			/* server role: draws for "chance" rules come
					 * from this and the scenario's id */
	int builtin_server;		/* start the reference server (serve.h) on
					 * 127.0.0.1, any port, on the run's loop and
					 * run against it; host and port are ignored */
	const char *tls_cert;		/* server role, STARTTLS: PEM certificate (chain) */
	const char *tls_key;		/* ... and key files; both NULL: a throwaway
					 * self-signed certificate made for the run */
	eng_start_cb started;		/* may be NULL */
	const struct orc_spec *oracle;	/* --oracle: where the target delivers, or
					 * NULL (oracle.h, docs/oracle.md) */
	uint32_t oracle_wait_ms;	/* how long to look for copies after the
					 * sessions; 0: HARNESS_ORACLE_WAIT_MS */
} eng_config;

/* Called as each scenario finishes, in finishing order; the result still
 * belongs to the run. */
typedef void (*eng_progress_cb)(void *arg, const rpt_scenario *sc);

typedef enum eng_status {
	ENG_OK = 0,		/* every scenario ran (whatever the verdicts) */
	ENG_UNREACHABLE,	/* the target could not be reached; later scenarios not run */
	ENG_LOCAL_ERROR		/* the loop could not be set up */
} eng_status;

/* Runs every scenario of list against cfg's target, appending results to
 * run in the list's order. err gets one line when the status is not OK.
 * With cfg->builtin_server, run->target becomes "built-in reference
 * server 127.0.0.1:PORT", the variables target_host and target_port name
 * it, and a port that cannot be bound gives ENG_UNREACHABLE. */
eng_status eng_run(const scn_list *list, const eng_config *cfg, rpt_run *run,
    eng_progress_cb progress, void *arg, char *err, size_t errlen);

/* Sets the built-in variables (helo, from, rcpt, rcpt2, bad_rcpt, domain,
 * target_host, target_port, token) to their defaults in vars; a session
 * sets its own token (docs/oracle.md). */
void eng_default_vars(scn_vars *vars, const char *host, const char *port);

#endif
