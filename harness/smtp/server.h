/*
 * server - the SMTP server protocol as a pure state machine (no I/O).
 *
 * The reference server's whole dialogue lives here: fed the client's
 * bytes in any pieces, it appends its replies to an output buffer and
 * hands each accepted message to a delivery callback. The caller (the
 * libuv glue in harness/engine/serve.c, the unit tests, the fuzzer)
 * writes the output after each feed and closes the connection once
 * smtp_srv_closed() says so.
 *
 * What it implements: EHLO/HELO, MAIL, RCPT, DATA, BDAT (RFC 3030
 * CHUNKING and BINARYMIME), RSET, NOOP, QUIT, VRFY (252: not verified,
 * RFC 5321 §3.5.3), HELP (214); EXPN, ETRN, TURN, STARTTLS and AUTH are
 * recognised and answered 502. Extensions advertised in EHLO: PIPELINING,
 * SIZE, 8BITMIME, BINARYMIME, CHUNKING, SMTPUTF8, DSN (parameters
 * checked and passed on, no notifications sent), ENHANCEDSTATUSCODES,
 * HELP (DSN left out with no_dsn, as a hop without it). Every 2yz/4yz/5yz reply but the greeting's and EHLO/HELO's
 * carries an enhanced status code (RFC 2034).
 *
 * Pipelining (RFC 2920 §3.2): commands are processed one by one as they
 * complete, each reply is appended in order, and a feed returns only when
 * no complete command is left, so replies are never held for more input
 * and no input is ever discarded (except after 221/421).
 *
 * Line ends: only CRLF ends a command line or a content line (RFC 5321
 * §2.3.8); a bare CR or LF is a byte of the line. A command line with one
 * is refused (500); a message with one is refused after its end (550
 * 5.6.0) rather than stored raw, and never does "\n.\n", "\n.\r\n" or any
 * mix other than CRLF "." CRLF end the data (the smuggle.* rows).
 *
 * Limits (config, defaults in harness_limits.h): a command line of
 * line_max octets with its CRLF (500 5.5.2 above); size_max octets of
 * content (SIZE; 552 5.3.4 above); rcpt_max recipients (452 4.5.3
 * above); content lines of SMTP_TEXT_LINE_MAX octets (500 5.5.2 after the
 * data above, except BINARYMIME); errors_max refused commands, after
 * which the next error is answered 421 4.7.0 and the session closes.
 */
#ifndef HARNESS_SMTP_SERVER_H
#define HARNESS_SMTP_SERVER_H

#include <stddef.h>

#include "harness/util/vbuf.h"

typedef enum smtp_srv_state {
	SMTP_SRV_INIT = 0,	/* greeted, no EHLO/HELO yet */
	SMTP_SRV_READY,		/* EHLO/HELO done, no transaction */
	SMTP_SRV_MAIL,		/* MAIL accepted, collecting RCPTs (and chunks) */
	SMTP_SRV_DATA,		/* reading content after 354 */
	SMTP_SRV_CHUNK,		/* reading the octets of a BDAT chunk */
	SMTP_SRV_CLOSED		/* 221 or 421 sent; input is ignored */
} smtp_srv_state;

typedef enum smtp_srv_body {
	SMTP_SRV_BODY_NONE = 0,	/* no BODY= parameter */
	SMTP_SRV_BODY_7BIT,
	SMTP_SRV_BODY_8BITMIME,
	SMTP_SRV_BODY_BINARYMIME
} smtp_srv_body;

typedef struct smtp_srv_rcpt {
	char *mailbox;		/* forward-path without route or brackets */
	char *notify;		/* NOTIFY= value as sent, or NULL */
	char *orcpt;		/* ORCPT= value as sent, or NULL */
} smtp_srv_rcpt;

/* An accepted message, valid during the delivery callback only. */
typedef struct smtp_srv_msg {
	const char *helo;	/* EHLO/HELO argument */
	int esmtp;		/* 1 after EHLO */
	const char *mail_from;	/* reverse-path mailbox, "" for <> */
	const smtp_srv_rcpt *rcpts;
	size_t nrcpts;
	smtp_srv_body body;
	int smtputf8;
	const char *ret;	/* "FULL"/"HDRS" as sent, or NULL */
	const char *envid;	/* xtext as sent, or NULL */
	unsigned long long declared_size;	/* SIZE=, 0 when absent */
	int chunked;		/* sent with BDAT */
	const char *content;	/* unstuffed content, exact octets */
	size_t content_len;
} smtp_srv_msg;

/* Takes responsibility for a message (RFC 5321 §4.2.5). Returns 0 when
 * it is safely stored, with a queue id of at most idlen-1 octets in id
 * (or ""); -1 when it could not be, which gives 451 4.3.0. */
typedef int (*smtp_srv_deliver_fn)(void *arg, const smtp_srv_msg *m, char *id, size_t idlen);
/* Asked before a MAIL or RCPT that would be accepted is, and before a
 * complete message is handed over ("MAIL", "RCPT", "DATA"; mailbox is
 * the RCPT's forward-path, NULL for the others): 0 lets it
 * go on; a code from 400 to 599 answers it with that code (and an
 * enhanced code of its class) instead; SMTP_SRV_FAULT_DROP gives no
 * reply and closes the session, as if the connection were lost. */
#define SMTP_SRV_FAULT_DROP (-1)
typedef int (*smtp_srv_fault_fn)(void *arg, const char *what, const char *mailbox);
/* Told every state change, for logs. */
typedef void (*smtp_srv_trace_fn)(void *arg, smtp_srv_state from, smtp_srv_state to);

typedef struct smtp_srv_config {
	const char *hostname;	/* greeting, EHLO reply; an FQDN or address literal */
	unsigned long long size_max;	/* 0: HARNESS_SRV_SIZE_MAX */
	size_t rcpt_max;	/* 0: HARNESS_SRV_RCPT_MAX */
	unsigned errors_max;	/* 0: HARNESS_SRV_ERRORS_MAX */
	size_t line_max;	/* 0: HARNESS_SRV_LINE_MAX */
	int no_dsn;		/* DSN not advertised; its parameters are unknown (555) */
	smtp_srv_deliver_fn deliver;	/* NULL: accept and discard */
	void *deliver_arg;
	smtp_srv_fault_fn fault;	/* NULL: no faults */
	void *fault_arg;
	smtp_srv_trace_fn trace;	/* NULL: none */
	void *trace_arg;
} smtp_srv_config;

typedef struct smtp_srv_stats {
	unsigned long commands;	/* command lines processed */
	unsigned long errors;	/* commands refused for syntax or sequence */
	unsigned long accepted;	/* messages taken (250 at end of data) */
	unsigned long refused;	/* messages refused at end of data */
} smtp_srv_stats;

typedef struct smtp_srv smtp_srv;

/* A new session; cfg is copied (hostname included). */
smtp_srv *smtp_srv_new(const smtp_srv_config *cfg);
void smtp_srv_free(smtp_srv *s);
/* Appends the 220 greeting. */
void smtp_srv_greeting(smtp_srv *s, vbuf *out);
/* Processes every complete command (and content) in buf, appending the
 * replies in order; keeps an incomplete line for the next feed. */
void smtp_srv_feed(smtp_srv *s, const char *buf, size_t len, vbuf *out);
/* The idle timeout passed: appends 421 4.4.2 and closes. */
void smtp_srv_timeout(smtp_srv *s, vbuf *out);
/* The server is stopping: appends 421 4.3.2 and closes. */
void smtp_srv_shutdown(smtp_srv *s, vbuf *out);
/* 1 once 221 or 421 was given: flush the output, then close. */
int smtp_srv_closed(const smtp_srv *s);
smtp_srv_state smtp_srv_get_state(const smtp_srv *s);
const char *smtp_srv_state_str(smtp_srv_state st);
const smtp_srv_stats *smtp_srv_get_stats(const smtp_srv *s);

#endif
