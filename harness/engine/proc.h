/*
 * proc - the client under test, run as `/bin/sh -c CMD` on the loop.
 *
 * Internal to the engine (srole.c starts one per server-role scenario).
 * Stdin is /dev/null; stdout and stderr come back through pipes, of which
 * the first HARNESS_CLIENT_OUTPUT_MAX bytes each are kept (the rest is
 * read and counted as cut, so the child never blocks on a full pipe).
 * Nothing here blocks: the exit and both pipes' ends arrive as callbacks,
 * and `ended` is called once all three have. eng_proc_kill sends SIGTERM,
 * then SIGKILL HARNESS_CLIENT_KILL_GRACE_MS later.
 */
#ifndef HARNESS_ENGINE_PROC_H
#define HARNESS_ENGINE_PROC_H

#include <uv.h>

#include "harness/util/vbuf.h"
#include "reports/result.h"

typedef struct eng_proc eng_proc;

/* Called once: the process exited and its pipes are drained. */
typedef void (*eng_proc_ended_cb)(void *arg);
/* Called once, after eng_proc_free closed every handle. */
typedef void (*eng_proc_freed_cb)(void *arg);

/* Starts cmd; the result `out` (owned by the caller, must outlive the
 * process) gets the command, status and output. Always returns a proc to
 * free; when it could not be started, err holds one line (else err[0] is
 * '\0') and `ended` will not be called. */
eng_proc *eng_proc_start(uv_loop_t *loop, const char *cmd, rpt_client *out,
    eng_proc_ended_cb ended, void *arg, char *err, size_t errlen);
/* 1 once `ended` has been called. */
int eng_proc_ended(const eng_proc *p);
/* SIGTERM now, SIGKILL after the grace time; marks the result killed. */
void eng_proc_kill(eng_proc *p);
/* Closes the handles (killing the process first if it still runs) and
 * frees p; `freed` is called from the last close callback. */
void eng_proc_free(eng_proc *p, eng_proc_freed_cb freed, void *arg);

/* Substitutes {host}, {port} and {message} in tmpl, each shell-quoted
 * ('...'); other text is kept. The caller frees the result. */
char *eng_proc_expand(const char *tmpl, const char *host, const char *port,
    const char *message);
/* Appends s to b in single quotes, for /bin/sh. */
void eng_proc_quote(vbuf *b, const char *s);

#endif
