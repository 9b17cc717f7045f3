/*
 * passive - the checks run on every transcript, whatever the scenario.
 *
 * Each is a pure function of the transcript (through its dialog) that adds
 * findings to a scenario result, with the catalog id, the RFC section and
 * evidence (segment and byte offset). They judge only what the transcript
 * shows: a session the harness cut short is not the target's fault.
 *
 * Server side (the target is the server): reply syntax and code range,
 * multi-line format, reply line length, enhanced code syntax and class,
 * the code allowed for its command (RFC 5321 §4.3.2), the greeting,
 * refusal by 554 then 503, unsolicited, extra and premature replies,
 * replies to pipelined groups, QUIT answered 221 and the connection closed,
 * a message with many (but fewer than 100) Received fields refused.
 *
 * Client side (the harness played the server): greeting awaited and EHLO
 * before MAIL, lock-step without PIPELINING and group enders with it,
 * content only after 354, dot-stuffing, bare CR/LF, message line length,
 * QUIT before closing, lone dot after all RCPTs refused, parameters only
 * for advertised extensions, declared SIZE, 8-bit content, EHLO argument,
 * "*" after an AUTH challenge that is not base64.
 */
#ifndef HARNESS_CHECK_PASSIVE_H
#define HARNESS_CHECK_PASSIVE_H

#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "reports/result.h"

/* Every server-side passive check on t; findings go into sc. */
void chk_passive_server(const cap_transcript *t, const dlg *d, rpt_scenario *sc);
/* Every client-side passive check on t (the harness played the server,
 * the client is under test); findings go into sc (passive_client.c). */
void chk_passive_client(const cap_transcript *t, const dlg *d, rpt_scenario *sc);

/* The catalog ids each side's checks may emit, NULL-terminated: the
 * passive share of `smtp-harness coverage`. */
extern const char *const chk_passive_server_ids[];
extern const char *const chk_passive_client_ids[];

/* Adds a finding for catalog id with the keyword's verdict (or `verdict`
 * when it is not RPT_PASS), the catalog's refs, and marks the id
 * exercised. Used by the passive checks and the engine alike. */
rpt_finding *chk_emit(rpt_scenario *sc, const char *id, rpt_verdict verdict, int step,
    const rpt_evidence *ev, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Marks id exercised with PASS (unless something worse was recorded). */
void chk_pass(rpt_scenario *sc, const char *id);

#endif
