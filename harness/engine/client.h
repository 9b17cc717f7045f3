/*
 * client - one client-role session: the harness connects and plays steps.
 *
 * Internal to the engine (run.c starts sessions; engine.h is the public
 * face). A session owns its handles, transcript and result until it ends;
 * then it runs the passive checks, writes its capture, hands the result
 * to `done` and frees itself. All teardown happens from the loop, never
 * inside a read callback.
 */
#ifndef HARNESS_ENGINE_CLIENT_H
#define HARNESS_ENGINE_CLIENT_H

#include <netdb.h>
#include <uv.h>

#include "harness/check/dialog.h"
#include "harness/engine/engine.h"

typedef struct eng_client eng_client;

/* Called once, after every handle of the session is closed. `unreachable`
 * is set when the target did not accept the connection. The callee owns
 * res. d is the dialog the passive checks read from res->transcript, so a
 * caller that reads the dialog too need not build it again; it is NULL
 * when the checks did not run (no connection, or a SKIP), and the session
 * frees it when the callback returns. */
typedef void (*eng_client_done_cb)(void *arg, rpt_scenario *res, const dlg *d,
    int unreachable);

/* Starts a session towards addr, which must outlive it. key is the
 * scenario's delivery key (docs/oracle.md): ${token} is key + "x", and
 * with cfg->oracle every message sent carries key + its transaction's
 * number. The session copies it. */
void eng_client_start(uv_loop_t *loop, const eng_config *cfg, const struct sockaddr *addr,
    const scn_scenario *s, const char *key, eng_client_done_cb done, void *arg);

#endif
