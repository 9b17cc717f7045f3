/*
 * relay_submit - the submission of a relay scenario made by the harness's
 * own client engine over SMTP (--submit-smtp HOST:PORT), instead of a
 * command.
 *
 * eng_relay_submit_write turns the scenario's envelope and message into a
 * client-role scenario ("relay.submission": greeting, EHLO, MAIL, a RCPT
 * per recipient, DATA, the message, QUIT, each reply expected 2yz, 354
 * for DATA) and returns the command that runs it: the harness itself,
 * `run --quiet --target HOST:PORT --report json:FILE`, so the engine and
 * its passive checks work as in any run, on a loop and in a process of
 * their own (the relay's loop goes on answering DNS and playing the
 * hosts meanwhile). Its exit status says nothing of the submission
 * alone (a passive check of the MTA's replies may FAIL a message that
 * was accepted), so eng_relay_submit_judge reads that report: the
 * submission failed when the scenario is an ERROR (no connection) or one
 * of its own expectations FAILed (the MTA refused a command).
 *
 * Limits: the message lines go through the scenario's variables
 * ("${...}" is expanded); no DSN parameters; the client's address is the
 * one the kernel picks (127.0.0.1 inside the namespace).
 */
#ifndef HARNESS_ENGINE_RELAY_SUBMIT_H
#define HARNESS_ENGINE_RELAY_SUBMIT_H

#include <stddef.h>

#include "harness/scenario/relay.h"

#define ENG_RELAY_SUBMIT_ID	"relay.submission"

/* Writes DIR/submission.json for s and returns the command running it
 * against hostport, its report going to DIR/submission-report.json
 * (*report, the caller frees both); NULL with err when a file could not
 * be written or the harness's own path is unknown. */
char *eng_relay_submit_write(const rly_scenario *s, const char *dir, const char *hostport,
    char **report, char *err, size_t errlen);

/* NULL when the report at path says the message was accepted, else why
 * not (one line; the caller frees it). */
char *eng_relay_submit_judge(const char *path);

#endif
