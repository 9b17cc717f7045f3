/*
 * defence - how a server defends itself, judged over a whole session.
 *
 * Pure: a dialog in, findings out. Two judgements a scenario asks for by
 * its catalog id (chk_defence):
 *
 *   rfc5321.7.8.orderly-defence (MAY)  the session sent many RCPTs to
 *       users that do not exist. A server that closes must do it in
 *       order: after a 421, or after a run of at least
 *       HARNESS_DEFENCE_REFUSALS_MIN 5yz replies (§7.8). A close without
 *       either is a silent close, which rfc5321.3.8.close-only-when-allowed
 *       reports (the engine, at the reply that never came); this row is
 *       then marked FAIL beside it, with no second finding. No close: an
 *       INFO saying what the server did (accepted all, refused all, ...).
 *
 *   smuggle.bare-newline-policy (advisory)  content with a bare LF and a
 *       bare CR went out. A refusal (4yz, 5yz, a close) passes: nothing
 *       was stored; a 2yz is an INFO without the delivery oracle (the copy
 *       was not inspected), and nothing here with it:
 *       harness/check/delivery.c judges the copy.
 *
 * chk_defence_refusals is the shared rule for the close itself, so that
 * the engine, the passive checks and the row above agree on what a
 * defensive close is.
 */
#ifndef HARNESS_CHECK_DEFENCE_H
#define HARNESS_CHECK_DEFENCE_H

#include <stddef.h>

#include "harness/check/dialog.h"
#include "reports/result.h"

/* How many replies to RCPT in a row, each 5yz, came last before transcript
 * segment close_seg (replies that arrived after it do not count). */
size_t chk_defence_refusals(const dlg *d, long close_seg);

/* Judges d for the scenario whose catalog id is check (nothing for any
 * other id); oracle says whether a delivery oracle will read the copies. */
void chk_defence(const dlg *d, const char *check, int oracle, rpt_scenario *sc);

/* The catalog ids chk_defence may emit, NULL-terminated. */
extern const char *const chk_defence_ids[];

#endif
