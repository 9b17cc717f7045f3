/*
 * session - the probe console's session as data (pure, no I/O).
 *
 * The console tells the session what it sent and what it received; the
 * session keeps the transcript (captures/transcript), pairs each reply
 * with the command it answers (the oldest one still owed a reply, RFC
 * 2920 §3.1: the greeting first, then each command line, then the end of
 * message content), and writes what a person should see: the bytes that
 * went on the wire ("C: "), each reply ("S: "), its annotation ("  = ",
 * harness/console/explain) and, after a successful EHLO, the capabilities
 * as a table. It also keeps the steps the person took, so the session can
 * be saved as a client-role scenario whose expectations are the replies
 * seen, and it runs the passive checks (harness/check/passive): after
 * each reply, showing the new findings about the server's bytes, and on
 * demand, showing them all.
 *
 * Raw bytes owe a reply for each CRLF-ended line in them, and so does
 * message content when DATA was answered other than 354 (the server reads
 * it as commands); a reply when nothing is owed is shown as unsolicited.
 * The session owns everything it holds; session_free() releases it.
 */
#ifndef HARNESS_CONSOLE_SESSION_H
#define HARNESS_CONSOLE_SESSION_H

#include <stddef.h>
#include <sys/socket.h>

#include "captures/transcript.h"
#include "harness/util/vbuf.h"

typedef struct session session;

session *session_new(void);
void session_free(session *s);
/* The connection is open: records the endpoints and that the greeting
 * is owed. */
void session_opened(session *s, const struct sockaddr *client, const struct sockaddr *server);
/* Each of these appends to `wire` the bytes to send, records them, and
 * appends to `out` what to show. */
void session_command(session *s, const char *line, size_t len, vbuf *wire, vbuf *out);
void session_pipe(session *s, char *const *lines, size_t n, vbuf *wire, vbuf *out);
void session_data(session *s, char *const *lines, size_t n, vbuf *wire, vbuf *out);
void session_raw(session *s, const char *bytes, size_t len, vbuf *wire, vbuf *out);
/* A line of an AUTH exchange after a 334 (RFC 4954 §4): judged as part
 * of AUTH, not as a command of its own. */
void session_auth_line(session *s, const char *line, size_t len, vbuf *wire, vbuf *out);
/* The code of the last reply received, -1 before any (or without one). */
int session_last_code(const session *s);
/* Bytes from the server: every complete reply is shown in out. Returns
 * 0, or -1 when the reply parser passed a hard limit (said in out); the
 * session reads no more replies then. */
int session_received(session *s, const char *buf, size_t len, vbuf *out);
/* The server closed its side (FIN), or reset the connection. */
void session_server_closed(session *s, int reset);
/* STARTTLS sent on its own (session_command; the first, before TLS)
 * was answered 220: the console is to run the TLS handshake now and then
 * call session_tls_start. Any bytes after that 220 are set aside, unread
 * (RFC 3207 §4.2). */
int session_tls_wanted(const session *s);
/* TLS starts here: the transcript marks it (CAP_TLS_START) and holds the
 * plaintext TLS carries from now on, as the client engine's does. After
 * STARTTLS nothing is owed and the reply parser starts over; implicit
 * (probe --tls, right after connecting) keeps the greeting owed, leaves
 * no mark (the passive checks read the greeting after a mark as
 * unsolicited; they know no implicit TLS), and the saved scenario says
 * it cannot be replayed. */
void session_tls_start(session *s, int implicit);
/* What the handshake settled, or why it failed, for the transcript's
 * tls_note (what was noted before is kept after it). */
void session_tls_note(session *s, const char *note);
/* :reset, after its RSET: no message content is expected any more. */
void session_reset(session *s);
/* Replies owed by the server right now. */
size_t session_owed(const session *s);
/* Forgets the replies owed (the console gave up waiting); a late reply
 * is then shown as unsolicited. */
void session_give_up(session *s);
/* Runs the passive checks on the transcript so far and appends the
 * findings to out; returns how many FAIL. */
size_t session_check(const session *s, vbuf *out);
/* The session so far as a client-role scenario (JSON text the caller
 * frees): id and summary as given. */
char *session_scenario(const session *s, const char *id, const char *summary);
const cap_transcript *session_transcript(const session *s);

#endif
