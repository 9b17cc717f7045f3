/*
 * input - what a line typed at the probe console asks for (pure, no I/O).
 *
 * A line that does not start with ':' is an SMTP command, sent with CRLF
 * appended. A line starting with ':' is a console command:
 *
 *   :raw BYTES      send BYTES with escapes decoded (\r \n \t \0 \xHH \\),
 *                   nothing appended (harness/smtp/command smtp_unescape)
 *   :data           the next lines, up to a lone ".", are message content:
 *                   dot-stuffed and ended with CRLF.CRLF
 *   :pipe           the next lines, up to a lone ".", are commands sent in
 *                   one write (an RFC 2920 pipelined group)
 *   :check          run the passive checks on the session so far
 *   :save FILE      write the session so far as a client-role scenario
 *   :capture FILE   write the session so far as a pcap
 *   :auth plain USER PASSWORD, :auth login USER PASSWORD
 *                   authenticate (RFC 4954): the lines to send, base64
 *                   encoded, one per line in `bytes`; LOGIN's second and
 *                   third go only after a 334
 *   :starttls       send STARTTLS; on a 220 the console runs the TLS
 *                   handshake and carries on over TLS
 *   :reset          send RSET and forget a pending AUTH exchange
 *   :help           list these
 *   :quit           end the session (without sending QUIT)
 *
 * and "::text" sends the command ":text". A trailing CR (a script with
 * CRLF line ends) is dropped from every line. The parser owns nothing
 * after it returns except what input_cmd holds; input_cmd_clear() frees it.
 */
#ifndef HARNESS_CONSOLE_INPUT_H
#define HARNESS_CONSOLE_INPUT_H

#include <stddef.h>

#include "harness/util/vbuf.h"

typedef enum input_kind {
	INPUT_EMPTY = 0,	/* nothing typed: do nothing */
	INPUT_COMMAND,		/* bytes: the command line, without CRLF */
	INPUT_RAW,		/* bytes: decoded, sent as they are */
	INPUT_DATA,
	INPUT_PIPE,
	INPUT_CHECK,
	INPUT_SAVE,		/* bytes: the file name */
	INPUT_CAPTURE,		/* bytes: the file name */
	INPUT_HELP,
	INPUT_QUIT,
	INPUT_AUTH,		/* bytes: command lines separated by LF */
	INPUT_STARTTLS,
	INPUT_RESET,
	INPUT_ERROR		/* err says what was wrong */
} input_kind;

typedef struct input_cmd {
	input_kind kind;
	vbuf bytes;
	char err[128];
} input_cmd;

/* Classifies one line (without its LF) into out, which it initialises. */
void input_parse(const char *line, size_t len, input_cmd *out);
void input_cmd_clear(input_cmd *c);
/* The list of console commands for :help, one per line. */
const char *input_help(void);
const char *input_kind_str(input_kind k);

#endif
