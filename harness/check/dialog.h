/*
 * dialog - a transcript read as SMTP: commands paired with their replies.
 *
 * The client's stream is split into command lines and message content, the
 * server's into replies (harness/smtp/reply), and replies are matched to
 * commands by counting, as RFC 2920 §3.1 requires of a client: the first
 * reply answers the connection (the greeting), each later one the oldest
 * command still waiting. The segments are walked in the order they
 * crossed the wire, so the dialog also knows which commands were sent
 * while an earlier reply was outstanding (pipelined), and which replies
 * began before their command had been sent completely (premature).
 *
 * After a DATA command the client's bytes are message content if and only
 * if the reply to DATA was 354; content runs to the first CRLF.CRLF (the
 * CRLF that ends the last line counts, RFC 5321 §4.1.1.4) and is answered
 * by one reply. "BDAT n" is followed by exactly n octets of chunk. After
 * CAP_TLS_START reading goes on only when the transcript holds the
 * plaintext TLS carried (a live run; an imported capture has only the
 * records, left unread), and after a CAP_GAP (bytes a capture lost) it
 * stops, so no command or reply is ever pieced together across a hole. A line sent after a 334 to AUTH is
 * the client's SASL response (RFC 4954 §4): its cmd.verb is
 * SMTP_VERB_AUTH, so it is judged as part of AUTH.
 *
 * Building a dialog never fails: malformed bytes become exchanges with
 * flags, and a reply stream that passes the parser's hard limit stops
 * being read (`reply_error`). A session with more than
 * HARNESS_DIALOG_ITEMS_MAX exchanges and extra replies, or more than
 * HARNESS_DIALOG_LINES_MAX reply lines, stops being read there (`cut`),
 * so memory stays bounded on any input. While DATA waits for its reply
 * the client's later bytes are held, and are read in the mode that reply
 * selects once it comes; held bytes at the end count in `c2s_pending`.
 * The dialog owns everything it points to except the transcript.
 */
#ifndef HARNESS_CHECK_DIALOG_H
#define HARNESS_CHECK_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "captures/transcript.h"
#include "harness/smtp/command.h"
#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"

typedef enum dlg_kind {
	DLG_GREETING = 0,	/* the connection itself; no client bytes */
	DLG_COMMAND,		/* one command line */
	DLG_CONTENT,		/* message content after 354, final dot included */
	DLG_BDAT		/* "BDAT n" line and its n octets */
} dlg_kind;

typedef struct dlg_exchange {
	dlg_kind kind;
	smtp_cmd cmd;		/* COMMAND and BDAT; cmd.args points into `line` */
	char *line;		/* the command line without CRLF (NUL-terminated copy);
				 * "" for the greeting and content */
	size_t c2s_off;		/* client bytes: offset and length in the C2S stream */
	size_t c2s_len;
	size_t c2s_seg_first;	/* transcript segment of the first and the last byte */
	size_t c2s_seg_last;
	unsigned line_flags;	/* SMTP_LINE_* of the command line */
	int pipelined;		/* sent while an earlier reply was still owed */
	size_t group;		/* commands sent without waiting share a group number */
	smtp_reply *reply;	/* NULL when no reply came */
	size_t s2c_off;		/* reply: offset and length in the S2C stream */
	size_t s2c_seg_first;
	size_t s2c_seg_last;
	int premature;		/* the reply's first byte came before the last command byte */
	unsigned exts;		/* SMTP_EXT_* in force when the command was sent */
	int tls_dropped;	/* owed a reply when TLS started: none is due
				 * (RFC 3207 §4.2, the server forgets it) */
} dlg_exchange;

/* A reply that answers no command. */
typedef struct dlg_extra {
	smtp_reply *reply;
	size_t s2c_off;
	size_t s2c_seg_first;
} dlg_extra;

typedef struct dlg {
	const cap_transcript *t;
	dlg_exchange *ex;	/* ex[0] is the greeting when the connection opened */
	size_t nex;
	size_t ex_cap;
	dlg_extra *extra;
	size_t nextra;
	size_t extra_cap;
	int have_ehlo;		/* the last accepted EHLO reply, parsed */
	smtp_ehlo ehlo;
	unsigned exts;
	long client_fin;	/* segment index of each event, -1 if none */
	long server_fin;
	long client_rst;
	long server_rst;
	long tls_start;		/* after it the dialog goes on only when the
				 * transcript holds TLS's plaintext */
	long gap;		/* the first CAP_GAP: nothing after it was read */
	int reply_error;	/* the reply parser passed a hard limit ... */
	char *reply_error_msg;	/* ... with this message ... */
	size_t reply_error_off;	/* ... at this S2C offset */
	size_t c2s_pending;	/* client bytes at the end that form no complete command */
	int cut;		/* HARNESS_DIALOG_*_MAX reached: the rest was not read */
} dlg;

dlg *dlg_build(const cap_transcript *t);
void dlg_free(dlg *d);
/* The segment of the server's first FIN or RST, and of the client's;
 * -1 if none. */
long dlg_server_close(const dlg *d);
long dlg_client_close(const dlg *d);
/* 1 if exchange i is still owed a reply when the transcript ends. */
int dlg_unanswered(const dlg *d, size_t i);

#endif
