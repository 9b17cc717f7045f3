/*
 * result - what a run found: run -> scenario results -> findings.
 *
 * This is the only thing renderers see. A finding is one judgement about
 * the peer: which check made it (a stable id from the conformance catalog,
 * e.g. "rfc5321.4.2.1.multiline-format"), the RFC section, the verdict,
 * "expected X, got Y", and the evidence: the transcript segment and the
 * byte offset inside it that prove it. A scenario result owns its findings
 * and its transcript; a run owns its scenario results.
 *
 * Verdicts: a scenario is PASS, FAIL (the target is non-conformant),
 * ERROR (the run could not be carried out) or SKIP (the target lacks what
 * the scenario requires). A finding is FAIL (a MUST broken), WARN (a
 * SHOULD broken) or INFO (a MAY, or an observation); only FAIL findings
 * make a scenario FAIL.
 */
#ifndef REPORTS_RESULT_H
#define REPORTS_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "captures/transcript.h"

typedef enum rpt_verdict {
	RPT_PASS = 0,
	RPT_FAIL,
	RPT_ERROR,
	RPT_SKIP,
	RPT_WARN,		/* findings only */
	RPT_INFO		/* findings only */
} rpt_verdict;

typedef struct rpt_evidence {
	int present;		/* 0: the finding points at no bytes */
	size_t conn;		/* which connection's transcript: 0 the scenario's
				 * transcript, n > 0 its more[n - 1] */
	size_t seg;		/* transcript segment index */
	size_t off;		/* byte offset inside that segment */
	cap_dir dir;
	char *excerpt;		/* up to HARNESS_EVIDENCE_MAX bytes, escaped */
} rpt_evidence;

typedef struct rpt_finding {
	char *check;		/* catalog id */
	char *refs;		/* RFC section(s), e.g. "RFC 5321 §4.2.1" */
	rpt_verdict verdict;	/* FAIL, WARN or INFO */
	char *message;		/* "expected X, got Y" */
	rpt_evidence evidence;
	int step;		/* 1-based scenario step, 0 when passive */
	char *known;		/* FAIL in the run's baseline: its reason; else NULL */
	/* With a delivery oracle: the delivered copy the finding is about
	 * (NULL when none), the byte offset in that file, and an escaped
	 * excerpt from there (rpt_finding_delivered). */
	char *delivered_file;
	size_t delivered_off;
	char *delivered_excerpt;
} rpt_finding;

/* A check that was exercised, and how it came out (for profiles). */
typedef struct rpt_exercised {
	char *check;
	rpt_verdict verdict;	/* PASS, FAIL, WARN or INFO */
} rpt_exercised;

/* Server role: the client under test, when the harness started one. */
typedef struct rpt_client {
	char *cmd;		/* as run by /bin/sh -c, placeholders substituted */
	int exited;		/* it ended (on its own, or killed) */
	int exit_status;	/* when it exited normally */
	int term_signal;	/* the signal that ended it, or 0 */
	int killed;		/* the harness killed it at a deadline */
	char *out;		/* the first HARNESS_CLIENT_OUTPUT_MAX bytes of stdout */
	size_t out_len;
	int out_cut;		/* more was written than kept */
	char *err;		/* ... of stderr */
	size_t err_len;
	int err_cut;
	uint64_t duration_ms;
} rpt_client;

/* Server role: what the client under test delivered (the last message). */
typedef struct rpt_received {
	char *listen;		/* "127.0.0.1:40123" */
	size_t connections;	/* accepted */
	char *mail_from;	/* arguments of the last MAIL, as sent */
	char **rcpts;		/* arguments of each RCPT after it, as sent */
	size_t nrcpts;
	int has_message;
	size_t message_octets;	/* unstuffed content of the last message */
	char *message_path;	/* <capture_dir>/<id>.eml, or NULL */
} rpt_received;

typedef struct rpt_scenario {
	char *id;
	char *summary;
	char *file;		/* where it was loaded from */
	char **refs;
	size_t nrefs;
	rpt_verdict verdict;
	char *reason;		/* why ERROR or SKIP (kept when FAIL findings
				 * override a SKIP); NULL otherwise */
	uint64_t started_us;
	uint64_t duration_ms;
	rpt_finding *findings;
	size_t nfindings;
	size_t findings_cap;
	rpt_exercised *exercised;
	size_t nexercised;
	size_t exercised_cap;
	cap_transcript *transcript;	/* owned; may be NULL */
	cap_transcript **more;	/* server role: the connections after the first,
				 * in the order they came; owned */
	size_t nmore;
	char *capture_path;	/* pcap written for it, or NULL */
	rpt_client *client;	/* server role with --client-cmd, else NULL */
	rpt_received *received;	/* server role, else NULL */
	int known;		/* FAIL, and every FAIL finding is in the baseline */
	char **timeline;	/* relay runs: the DNS queries and connections in
				 * time order, one line each; owned */
	size_t ntimeline;
} rpt_scenario;

struct rpt_baseline;		/* reports/baseline.h */

/* Looks a check id up in the conformance catalog, which lives above
 * reports/ (harness/check): sets its keyword as the catalog writes it
 * ("MUST", "SHOULD / MAY") and its RFC sections; 0, or -1 when unknown. */
typedef int (*rpt_catalog_fn)(const char *check, const char **keyword, const char **refs);

typedef struct rpt_run {
	char *target;		/* "127.0.0.1:2525" */
	uint64_t started_us;
	uint64_t duration_ms;
	int seeded;		/* "chance" rules ran: seed repeats their draws */
	uint32_t seed;
	rpt_scenario **scenarios;
	size_t nscenarios;
	size_t scenarios_cap;
	struct rpt_baseline *baseline;	/* owned; applied with rpt_baseline_apply */
	rpt_catalog_fn catalog;	/* NULL: reports show no keywords */
} rpt_run;

typedef struct rpt_summary {
	size_t pass, fail, error, skip;
	size_t warnings;	/* WARN findings across all scenarios */
	size_t known;		/* FAIL scenarios whose failures are all baselined
				 * (counted in fail too) */
} rpt_summary;

rpt_run *rpt_run_new(const char *target);
void rpt_run_free(rpt_run *run);
/* Takes ownership of sc. */
void rpt_run_add(rpt_run *run, rpt_scenario *sc);
rpt_summary rpt_run_summary(const rpt_run *run);

rpt_scenario *rpt_scenario_new(const char *id, const char *summary, const char *file);
void rpt_scenario_free(rpt_scenario *sc);
void rpt_scenario_add_ref(rpt_scenario *sc, const char *ref);
/* Adds a finding; the strings are copied. ev may be NULL. Returns it. */
rpt_finding *rpt_scenario_add_finding(rpt_scenario *sc, const char *check, const char *refs,
    rpt_verdict verdict, int step, const rpt_evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Points f at a delivered copy: the file, the byte offset in it, and up
 * to HARNESS_EVIDENCE_MAX bytes from there (bytes, len), escaped. */
void rpt_finding_delivered(rpt_finding *f, const char *file, size_t off, const char *bytes,
    size_t len);
/* Allocate the server-role parts of sc (once; zeroed). */
rpt_client *rpt_scenario_client(rpt_scenario *sc);
rpt_received *rpt_scenario_received(rpt_scenario *sc);

/* Records that a check ran; a worse verdict for the same id wins. */
void rpt_scenario_exercised(rpt_scenario *sc, const char *check, rpt_verdict verdict);
/* Sets the scenario verdict from its findings: FAIL when any finding is
 * FAIL, even over SKIP (a conformance failure seen before the target
 * turned out to lack a feature still counts); ERROR stays ERROR; SKIP
 * stays SKIP when nothing failed; otherwise PASS. */
void rpt_scenario_settle(rpt_scenario *sc);
/* Sets ERROR or SKIP with a reason. */
void rpt_scenario_set(rpt_scenario *sc, rpt_verdict verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills ev for the byte at stream_off of direction dir of t, with an
 * escaped excerpt of up to HARNESS_EVIDENCE_MAX bytes from there (or up to
 * `len` bytes when len is smaller). ev->present is 0 when the direction
 * has no bytes there. The excerpt is the caller's: rpt_scenario_add_finding
 * copies it, so release ev with rpt_evidence_clear afterwards. */
void rpt_evidence_at(rpt_evidence *ev, const cap_transcript *t, cap_dir dir,
    size_t stream_off, size_t len);
/* Evidence for an event segment (FIN, RST, OPEN); for a data segment, its
 * first bytes. Same ownership as rpt_evidence_at. */
void rpt_evidence_segment(rpt_evidence *ev, const cap_transcript *t, size_t seg);
/* The transcript of connection conn (rpt_evidence.conn), or NULL. */
const cap_transcript *rpt_scenario_conn(const rpt_scenario *sc, size_t conn);
/* Frees ev's excerpt and marks it absent. */
void rpt_evidence_clear(rpt_evidence *ev);

/* Escapes bytes for display: printable ASCII as is, \r \n \t \\ and \xHH.
 * The result is pure ASCII; the caller frees it. */
char *rpt_escape(const char *p, size_t len);
/* Copies a NUL-terminated string for display in any report: valid UTF-8
 * (minus U+FFFE/U+FFFF, which XML forbids) is kept, control bytes and
 * invalid UTF-8 become \xHH. The caller frees it; NULL gives NULL. */
char *rpt_sanitize(const char *s);

/* The same for len bytes of text that may hold NULs (a program's output),
 * keeping LF and TAB. The caller frees it. */
char *rpt_sanitize_text(const char *s, size_t len);

const char *rpt_verdict_str(rpt_verdict v);	/* "PASS", "FAIL", ... */

#endif
