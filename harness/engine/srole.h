/*
 * srole - one server-role scenario: the harness listens and plays the
 * server to a client under test (docs/scenarios.md, "Server-role
 * scenarios").
 *
 * Internal to the engine (run.c starts one per server-role scenario;
 * engine.h is the public face). A scenario owns its listener, the client
 * process (proc.h) when --client-cmd names one, the connection of the
 * moment and the result. Each connection runs one session of steps with
 * its own transcript (the client's bytes C2S, ours S2C, as in the client
 * role), judged by the client-side passive checks when it ends, and,
 * with --capture, its own pcap; the last message received is
 * written as <capture_dir>/<id>.eml. A STARTTLS step does the TLS
 * handshake as the server (certificate from eng_config, or a throwaway
 * one). Every wait has a deadline (the handshake's too): the
 * client's connection and exit (client.timeout_ms), each command (the
 * step's timeout_ms), the scenario (deadline_ms).
 */
#ifndef HARNESS_ENGINE_SROLE_H
#define HARNESS_ENGINE_SROLE_H

#include <uv.h>

#include "harness/engine/engine.h"

typedef struct eng_srole eng_srole;

/* Called once, after every handle of the scenario is closed; the callee
 * owns res. */
typedef void (*eng_srole_done_cb)(void *arg, rpt_scenario *res);

void eng_srole_start(uv_loop_t *loop, const eng_config *cfg, const scn_scenario *s,
    eng_srole_done_cb done, void *arg);

#endif
