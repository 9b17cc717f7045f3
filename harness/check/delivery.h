/*
 * delivery - what the target delivered, judged against what it was sent.
 *
 * Pure: a transcript (read as a dialog) and the copies a delivery oracle
 * found (harness/engine/oracle.c reads the mailbox) in, findings out.
 * With an oracle the engine puts a token in every message it sends
 * (docs/oracle.md): KEY followed by the transaction's number, where KEY
 * names the run and the scenario. A copy belongs to the transaction whose
 * number its tokens carry most often (the Message-ID and the first body
 * line carry it twice; the later one on a tie), and a copy that carries
 * KEY but no number belongs to none: a message the harness never sent as
 * one (a smuggled one, or content split in two), a FAIL under the
 * scenario's smuggle.* id, else rfc5321.4.1.1.4.crlf-dot-crlf-only.
 *
 * Per transaction of the session, by the reply to its final dot:
 *   2yz   delivered, at least once and at most once per accepted recipient
 *         (rfc5321.4.2.5.2yz-takes-responsibility); every copy holds the
 *         content as sent, dot-unstuffed, line for line, with nothing cut,
 *         added after it, or left over from another transaction
 *         (rfc5321.4.5.2.content-unchanged, server-dot-unstuffing,
 *         rfc6152.3.preserve-bits for 8BITMIME content); a Return-Path
 *         with the reverse-path and a Received field with a FROM clause
 *         above the content (rfc5321.4.4.return-path, received-field);
 *         with several recipients no copy names more than one of them
 *         (rfc5321.7.2.no-bcc-disclosure);
 *   4yz, 5yz  no copy (rfc5321.4.2.5.no-delivery-after-error);
 *   none, the content never ended (the connection dropped, or closed
 *         before the final dot)  no copy (rfc5321.4.1.1.10.abort-pending-only);
 *   none, after a complete content  nothing judged (RFC 5321 §6.1: the
 *         client cannot know; a duplicate is allowed).
 * Content holding a bare CR or LF is not compared line for line: a server
 * may refuse or normalise it. In the scenario whose check is
 * smuggle.bare-newline-policy each bare octet is looked for in the copy
 * instead: made a line end or removed passes, kept raw is a WARN.
 */
#ifndef HARNESS_CHECK_DELIVERY_H
#define HARNESS_CHECK_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "reports/result.h"

/* One delivered copy: bytes read from a file, and where they start in it. */
typedef struct dlv_copy {
	const char *path;
	size_t file_off;
	const char *data;
	size_t len;
	int mbox;		/* read through mbox "From " quoting */
} dlv_copy;

/* What the oracle knows of a session: its key, and the addresses the
 * target delivers where the oracle looks (the session's rcpt, rcpt2 and
 * rcpt3). A message accepted for none of them may rightly be delivered
 * elsewhere, or returned with a notice (RFC 5321 §4.2.5): finding no copy
 * of it is then an INFO, not a FAIL. nmailboxes 0: every recipient is
 * one. */
typedef struct dlv_oracle {
	const char *key;
	const char *const *mailboxes;
	size_t nmailboxes;
} dlv_oracle;

/* The numbers of the transactions of d the target accepted (a 2yz to the
 * final dot) for one of o's mailboxes whose content carries a token under
 * o's key, at most max of them, into out; returns how many. The oracle
 * waits for these. */
size_t chk_delivery_accepted(const dlg *d, const dlv_oracle *o, unsigned long *out, size_t max);

/* 1 when some judgement of d is about a copy that must not appear (a
 * refused or unfinished transaction, or any transaction at all, since a
 * smuggled message is one more copy): the oracle then waits its whole
 * deadline. */
int chk_delivery_wants_absence(const dlg *d, const dlv_oracle *o);

/* Judges copies (all the oracle found carrying o's key) against d. check
 * is the scenario's catalog id (a copy that belongs to no transaction is
 * reported under it when it is a smuggle.* id); waited_ms says how long
 * the oracle looked. */
void chk_delivery(const dlg *d, const dlv_oracle *o, const dlv_copy *copies, size_t ncopies,
    const char *check, uint32_t waited_ms, rpt_scenario *sc);

/* The catalog ids chk_delivery may emit, NULL-terminated. */
extern const char *const chk_delivery_ids[];

#endif
