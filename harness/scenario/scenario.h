/*
 * scenario - JSON scenario files compiled into steps, once, before traffic.
 *
 * A scenario file is one JSON object (docs/scenarios.md; JSON Schema in
 * scenarios/scenario.schema.json). The loader validates everything it can
 * at load time -- types, ranges, regular expressions, escapes, catalog ids,
 * variable names -- and reports the first problem as one line:
 *
 *     FILE:LINE:COL: $.steps[3].recv.code: expected an integer 200-599, got "25x"
 *
 * A running session holds only its step index and variables; the compiled
 * scenario is read-only and shared by every session that runs it.
 *
 * Templates: strings that are sent may contain ${name} (a variable: built
 * in, from the scenario's "vars", from --var, or captured from a reply) and
 * ${repeat:TEXT:N} (TEXT, without ':' or '}', N times), ${base64:NAME}
 * (a variable's value in base64) and ${sasl_plain:USER:PASS} (an RFC 4616
 * PLAIN response, base64, from two variables). Raw strings then
 * have their escapes decoded (\r \n \t \0 \xHH \\).
 */
#ifndef HARNESS_SCENARIO_SCENARIO_H
#define HARNESS_SCENARIO_SCENARIO_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/result.h"
#include "harness/util/vbuf.h"

typedef enum scn_role {
	SCN_ROLE_CLIENT = 0,	/* the harness is the client; the target a server */
	SCN_ROLE_SERVER,	/* the harness is the server (issue: server role) */
	SCN_ROLE_RELAY		/* a relay scenario (relay.h): `smtp-harness relay` runs it */
} scn_role;

typedef struct scn_where {
	char *path;		/* JSON path, "$.steps[3].recv[1]" */
	int line;		/* 1-based position of that value in the file */
	int col;
} scn_where;

/* What one reply must look like. Every part is optional. */
typedef struct scn_expect {
	scn_where where;
	int *codes;		/* any of these codes (empty: any) */
	size_t ncodes;
	int *classes;		/* any of these first digits 2-5 (empty: any) */
	size_t nclasses;
	char *esc;		/* enhanced code or prefix: "5.5", "2.1.0" */
	regex_t text_re;	/* POSIX ERE on the reply text, lines joined by "\n" */
	int has_text_re;
	char *text_src;
	int *text_for;		/* text_re judges only replies with these codes
				 * (empty: every reply) */
	size_t ntext_for;
	char **keywords;	/* EHLO keywords that must be present */
	size_t nkeywords;
	char **absent;		/* EHLO keywords that must be absent */
	size_t nabsent;
	char *capture_var;	/* store the 1st subexpression of capture_re here */
	regex_t capture_re;
	int has_capture;
	char *check;		/* catalog id judged by this expectation, or NULL */
	rpt_verdict verdict;	/* verdict when it fails: from "severity" or the catalog */
	int skip_otherwise;	/* "otherwise": "skip": when it fails, the target
				 * lacks what the rest tests: SKIP, no finding */
	int error_otherwise;	/* "otherwise": "error": when it fails the run could
				 * not be carried out (the credentials it was given
				 * were refused): ERROR, no finding */
} scn_expect;

typedef enum scn_send_kind {
	SCN_SEND_NONE = 0,
	SCN_SEND_LINES,		/* command lines: CRLF appended to each */
	SCN_SEND_RAW,		/* raw pieces: escapes decoded, nothing appended */
	SCN_SEND_DATA		/* message content */
} scn_send_kind;

typedef enum scn_drop {
	SCN_DROP_NONE = 0,
	SCN_DROP_CLOSE,		/* FIN, then close */
	SCN_DROP_RESET		/* RST */
} scn_drop;

typedef struct scn_step {
	size_t index;		/* 1-based */
	scn_where where;
	uint32_t delay_ms;	/* pause before the step acts */
	scn_send_kind send_kind;
	char **sends;		/* templates: lines, raw pieces, or content lines */
	size_t nsends;
	int pipeline;		/* LINES: all in one write, then every reply */
	uint32_t pause_ms;	/* RAW: pause between pieces */
	int data_raw;		/* DATA: sends[0] is the raw content, sent as is */
	uint64_t data_generate;	/* DATA: generate this many octets of content */
	scn_expect *expects;	/* in order; LINES not pipelined: one per line */
	size_t nexpects;
	uint32_t timeout_ms;	/* for each reply, and for "closed" */
	int expect_closed;	/* the peer must close within closed_ms */
	uint32_t closed_ms;
	char *closed_check;	/* catalog id for "closed", or NULL */
	uint32_t quiet_ms;	/* after its replies, none more may come within this */
	scn_drop drop;
	char *check;		/* default catalog id for the step, or NULL */
	int starttls;		/* after the reply (220), a TLS handshake within
				 * timeout_ms; sends is "STARTTLS" (LINES) or
				 * the "raw" bytes (RAW); quiet_ms counts from
				 * the end of the handshake */
	char *sni;		/* template of the TLS server name, or NULL */
} scn_step;

/* ---- server role (docs/scenarios.md, "Server-role scenarios") ---------- */

typedef enum scn_srv_kind {
	SCN_SRV_GREET = 0,	/* the greeting, or silence */
	SCN_SRV_EXPECT,		/* a command from the client, then the reply */
	SCN_SRV_CONTENT,	/* the message after 354 (or BDAT ... LAST), then the reply */
	SCN_SRV_CLOSED,		/* the client must close */
	SCN_SRV_DROP		/* the harness closes or resets now */
} scn_srv_kind;

typedef enum scn_when {
	SCN_WHEN_AFTER = 0,	/* after the reply is written */
	SCN_WHEN_BEFORE,	/* instead of the reply (after delay_ms) */
	SCN_WHEN_MID		/* after half the reply's bytes */
} scn_when;

/* What the harness answers. */
typedef struct scn_reply {
	int set;		/* 0: the default reply for the verb */
	int silent;		/* "reply": null -- no reply at all */
	char *bytes;		/* CRLF-terminated lines, or decoded raw bytes */
	size_t len;
} scn_reply;

typedef struct scn_srv_step {
	size_t index;		/* 1-based position in its list; 0 when implied */
	scn_where where;
	scn_srv_kind kind;
	char *verb;		/* EXPECT: upper-cased verb, NULL for any command */
	regex_t args_re;	/* EXPECT: on the arguments, case-insensitive */
	int has_args;
	char *args_src;
	regex_t line_re;	/* EXPECT: on the whole line (a SASL response
				 * such as "*" has no verb), case-insensitive */
	int has_line;
	char *line_src;
	int content_same;	/* CONTENT: must equal the scenario's message */
	scn_reply reply;
	uint32_t delay_ms;	/* before the reply */
	uint32_t drip_ms;	/* between the reply's bytes */
	uint32_t timeout_ms;	/* wait for the command, or for "closed" */
	scn_drop drop;
	scn_when when;
	int optional;		/* EXPECT: skipped when the command does not match */
	int repeat;		/* EXPECT: matches one or more commands in a row */
	char *check;		/* catalog id for findings, or NULL */
	int starttls;		/* EXPECT STARTTLS: after a 220 reply is written,
				 * the TLS handshake (server side) */
} scn_srv_step;

typedef struct scn_session {
	scn_srv_step *steps;
	size_t nsteps;
} scn_session;

/* A reply chosen by rule: the nth (or every nth) command of a verb in a
 * connection, or the nth (every nth) connection's greeting, or, at random,
 * each of them with a chance (drawn from the run's seed: reproducible). */
typedef struct scn_rule {
	scn_where where;
	char *verb;		/* NULL: the greeting, counting connections */
	uint32_t nth;		/* 0 unless "nth" */
	uint32_t every;		/* 0 unless "every" */
	uint32_t chance_ppm;	/* 0 unless "chance": in millionths, 1..1000000 */
	scn_reply reply;
} scn_rule;

typedef enum scn_exit {
	SCN_EXIT_ANY = 0,
	SCN_EXIT_ZERO,
	SCN_EXIT_NONZERO
} scn_exit;

typedef struct scn_server {
	char **ehlo;		/* capability lines after the domain */
	size_t nehlo;
	char **ehlo_tls;	/* ... after STARTTLS (default: ehlo without STARTTLS) */
	size_t nehlo_tls;
	int starttls;		/* a step has "starttls": the run needs a certificate */
	int pipelining;		/* the capability set holds PIPELINING */
	int chunking;		/* ... CHUNKING */
	char *message;		/* the file given to the client as {message} */
	size_t message_len;
	scn_exit client_exit;
	uint32_t client_timeout_ms;	/* to connect (each time); the client process too */
	scn_session *sessions;	/* one per connection the client must make */
	size_t nsessions;
	scn_rule *rules;
	size_t nrules;
	int random;		/* a rule has a "chance": the run needs a seed */
} scn_server;

typedef struct scn_var {
	char *name;
	char *value;
} scn_var;

typedef struct scn_scenario {
	char *file;
	char *id;
	char *summary;
	char **refs;		/* catalog ids and/or "RFC 5321 §x.y" strings */
	size_t nrefs;
	char *check;		/* the first ref that is a catalog id, or NULL */
	scn_role role;
	char **requires;	/* EHLO keywords, upper-cased */
	size_t nrequires;
	scn_var *vars;		/* defaults from "vars" */
	size_t nvars;
	char **credentials;	/* names of vars that must be set (else SKIP)
				 * and are masked in the transcript */
	size_t ncredentials;
	uint32_t timeout_ms;	/* default per-step timeout */
	uint32_t deadline_ms;	/* whole scenario */
	int refuse_ok;		/* a 554 greeting is what this scenario tests */
	int needs_oracle;	/* "oracle": true -- what it judges is in the
				 * delivered copies: SKIP without --oracle */
	scn_step *steps;	/* client role */
	size_t nsteps;
	scn_server *server;	/* server role, else NULL */
	scn_where id_where;	/* where "id" stands, for duplicate-id errors */
	struct rly_scenario *relay;	/* SCN_ROLE_RELAY: the compiled relay scenario */
} scn_scenario;

typedef struct scn_list {
	scn_scenario **items;
	size_t n;
	size_t cap;
} scn_list;

/* The default reply of the server role to a verb (NULL: content), as
 * CRLF-terminated bytes, before TLS or (tls) after STARTTLS; the caller
 * frees it. */
char *scn_server_default_reply(const scn_server *srv, const char *verb, int tls, size_t *len);

/* 1 if the capability list before TLS (or after it, tls) has keyword. */
int scn_server_has(const scn_server *srv, const char *keyword, int tls);

/* Loads one scenario from a buffer; `name` is used in messages. Returns
 * 0, or -1 with one line in err. */
int scn_load_buffer(const char *name, const char *text, size_t len, scn_scenario **out,
    char *err, size_t errlen);
int scn_load_file(const char *path, scn_scenario **out, char *err, size_t errlen);
/* Loads a file, or every *.json below a directory (sorted by path, files
 * whose name ends in ".schema.json" skipped), appending to list. Stops at
 * the first error. Duplicate ids are an error naming both files. */
int scn_load_path(const char *path, scn_list *list, char *err, size_t errlen);
void scn_free(scn_scenario *s);
void scn_list_free(scn_list *list);

/* Variables in force for one session: lookups go newest first. */
typedef struct scn_vars {
	scn_var *v;
	size_t n;
	size_t cap;
} scn_vars;

/* Names the engine always defines (helo, from, rcpt, rcpt2, bad_rcpt,
 * domain, target_host, target_port, token), NULL-terminated; 1 if name is
 * one. */
extern const char *const scn_builtin_vars[];
int scn_var_builtin(const char *name);

/* Sets name (replacing an earlier value of the same name). */
void scn_vars_set(scn_vars *vars, const char *name, const char *value);
const char *scn_vars_get(const scn_vars *vars, const char *name);
void scn_vars_free(scn_vars *vars);
/* Expands ${name} and ${repeat:T:N} in tmpl into out. Returns 0, or -1
 * with err naming the unknown variable. */
int scn_expand(const char *tmpl, const scn_vars *vars, vbuf *out, char *err, size_t errlen);
/* The same, and also into shown (when not NULL) with every byte that
 * comes from a variable named in secrets -- as itself, or through
 * ${base64:...} and ${sasl_plain:...} -- replaced by '*': shown has the
 * length of out, for a transcript that does not hold credentials. */
int scn_expand_masked(const char *tmpl, const scn_vars *vars, char *const *secrets,
    size_t nsecrets, vbuf *out, vbuf *shown, char *err, size_t errlen);

#endif
