/*
 * spool - the reference server's Maildir: each accepted message as a file.
 *
 * A message is written to DIR/tmp/<unique>, flushed to disk, then renamed
 * to DIR/new/<unique> (the Maildir delivery protocol), so a reader never
 * sees half a message. The file holds a Return-Path field (RFC 5321 §4.4)
 * and a Received field, then the content octets exactly as unstuffed. The
 * envelope (sender, every recipient with its DSN parameters, BODY,
 * SMTPUTF8, RET, ENVID, SIZE, the client) goes to a JSON sidecar
 * DIR/envelope/<unique>.json, written the same way before the message:
 * recipients are not copied into the message's headers (RFC 5321 §7.2),
 * and the Received field names a recipient only when there is one.
 *
 * <unique> is "SECONDS.MMICROSECONDSPPIDQCOUNTER.HOST", which is also the
 * queue id the server gives in its 250 reply.
 */
#ifndef HARNESS_ENGINE_SPOOL_H
#define HARNESS_ENGINE_SPOOL_H

#include <stddef.h>

#include "harness/smtp/server.h"

typedef struct eng_spool eng_spool;

/* Creates DIR and its tmp/, new/, cur/ and envelope/ when missing.
 * Returns the spool, or NULL with one line in err. */
eng_spool *eng_spool_open(const char *dir, const char *hostname, char *err, size_t errlen);
void eng_spool_close(eng_spool *sp);
/* Stores m as received from peer ("127.0.0.1:4321", for the envelope),
 * whose address literal ("[127.0.0.1]", "[IPv6:::1]") goes into the
 * Received field. Returns 0 with the queue id in id, or -1 with one line
 * in err (nothing is left behind). */
int eng_spool_deliver(eng_spool *sp, const smtp_srv_msg *m, const char *peer,
    const char *peer_literal, char *id, size_t idlen, char *err, size_t errlen);

#endif
