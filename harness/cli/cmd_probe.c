/*
 * cmd_probe - `smtp-harness probe HOST:PORT`: the annotated SMTP console.
 *
 * Connects, then sends what is typed and shows each reply with what it
 * means (harness/console/session and explain). On a terminal the input
 * is edited with libedit, with history in ~/.smtp_harness_history, and
 * replies are shown as they arrive; from a pipe the lines are read one
 * at a time, each after the replies owed by the last one came or their
 * wait ran out, so a script gets the same transcript every time.
 *
 * The loop is poll() on the socket and stdin, and every wait has a
 * deadline: no connection within --wait seconds exits 3; a reply that
 * does not come within it is said to be missing and the prompt comes
 * back. At the end (EOF, :quit, or the server closing and the input
 * ending) the passive checks run on the session and --save / --capture
 * are written. Exit status: 0 no FAIL finding, 1 a FAIL finding, 2 usage
 * or a file that could not be written, 3 no connection (or, with --tls,
 * no TLS session).
 *
 * TLS (--tls at once, or after a 220 to STARTTLS) goes through etls, as
 * in the client engine: the session's transcript keeps the plaintext,
 * `wire` the bytes as they crossed for the pcap, `keylog` their secrets.
 */
#include <ctype.h>
#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "captures/pcap_write.h"
#include "harness/cli/cli.h"
#include "harness/console/input.h"
#include "harness/console/session.h"
#include "harness/engine/etls.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

static const char probe_usage[] =
    "usage: smtp-harness probe [--tls | --starttls] [--wait SECONDS] [--save FILE.json]\n"
    "                          [--capture FILE.pcap] [--id ID] HOST:PORT\n"
    "\n"
    "An SMTP console: type commands, see each reply with what it means\n"
    "(RFC 5321 §4.2, §4.3.2, RFC 3463, the EHLO keywords) and, at the end,\n"
    "the passive checks' findings. Lines starting with ':' are console\n"
    "commands (:help lists them). Reads a script from stdin when it is not\n"
    "a terminal.\n"
    "\n"
    "  --tls              TLS right after connecting (implicit TLS, RFC 8314;\n"
    "                     port 465); such a session cannot be replayed yet\n"
    "  --starttls         after the greeting, send EHLO and STARTTLS, then\n"
    "                     run the TLS handshake (RFC 3207)\n"
    "  --wait SECONDS     wait for the connection, each reply and a handshake\n"
    "                     (default 10)\n"
    "  --save FILE        at the end, write the session as a client-role\n"
    "                     scenario (the replies seen are its expectations)\n"
    "  --capture FILE     at the end, write the session as a pcap (with TLS,\n"
    "                     the records, and their secrets in FILE.keys)\n"
    "  --id ID            the saved scenario's id (default probe.session)\n"
    "\n"
    "exit status: 0 no FAIL finding, 1 a FAIL finding, 2 usage error or a\n"
    "file not written, 3 no connection (or no TLS with --tls).\n";

#define PROBE_TLS_SLICE	(HARNESS_TLS_OUT_MAX / 4)	/* plaintext encrypted at a time */

typedef enum probe_mode {
	MODE_COMMAND = 0,
	MODE_DATA,
	MODE_PIPE
} probe_mode;

typedef struct probe {
	session *s;
	int fd;			/* -1 once closed */
	int tty;
	int eof;		/* no more input */
	int quit;
	int write_failed;
	unsigned wait_ms;
	uint64_t deadline;	/* ms on the monotonic clock; 0 when nothing is owed */
	probe_mode mode;
	char **lines;		/* collected by :data and :pipe */
	size_t nlines, lines_cap;
	char **pending;		/* AUTH lines still to send, each after a 334 */
	size_t npending, pending_next, pending_cap;
	const char *target;
	const char *id;
	vbuf out;
	int files_failed;
	/* TLS: once tls is set every byte goes through it. The session's
	 * transcript keeps the plaintext; wire keeps the bytes as they
	 * crossed (the records after TLS started) for the pcap, and keylog
	 * the secrets that decrypt them. */
	SSL_CTX *tls_ctx;
	etls *tls;
	int handshaking;
	int implicit;		/* --tls */
	int tls_lost;		/* --tls and the handshake failed */
	cap_transcript *wire;
	vbuf keylog;
	const char *auto_lines[2];	/* --starttls: typed for the person */
	size_t nauto, auto_next;
} probe;

/* The one probe of this process: libedit's line callback has no
 * argument to carry it. */
static probe *the_probe;

/* SIGINT or SIGTERM: end the session as :quit does, so the terminal is
 * restored, the checks run and --save / --capture are written. */
static volatile sig_atomic_t probe_signalled;

static void
probe_on_signal(int signum)
{
	(void)signum;
	probe_signalled = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Writes what the session wants shown; on a terminal the prompt line is
 * cleared first and drawn again after. */
static void
flush_out(probe *p)
{
	if (p->out.len == 0)
		return;
	if (p->tty)
		fputs("\r\033[K", stdout);
	fwrite(p->out.data, 1, p->out.len, stdout);
	vbuf_reset(&p->out);
	fflush(stdout);
	if (p->tty && !p->eof && !p->quit)
		rl_forced_update_display();
}

static void
say(probe *p, const char *msg)
{
	vbuf_printf(&p->out, "  = %s\n", msg);
}

static int
connect_to(const char *host, const char *port, unsigned wait_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t slen = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			snprintf(err, errlen, "%s", strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, (int)wait_ms);
		if (rc == 0)
			snprintf(err, errlen, "no connection within %u s", wait_ms / 1000);
		else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
			snprintf(err, errlen, "%s", strerror(errno));
		else if (soerr != 0)
			snprintf(err, errlen, "%s", strerror(soerr));
		if (rc <= 0 || soerr != 0) {
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		/* Writes block, but never longer than the wait. */
		struct timeval tv = { (time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000 };

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

static void
close_conn(probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->deadline = 0;
}

/* Writes bytes to the socket as they are (plaintext, or TLS records). */
static int
sock_write(probe *p, const char *data, size_t len)
{
	size_t off = 0;

	if (len > 0)
		cap_transcript_add_data(p->wire, CAP_C2S, cap_now_us(), data, len);
	while (off < len) {
		ssize_t n = write(p->fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vbuf_printf(&p->out, "  = the write failed after %zu of %zu bytes: %s\n",
			    off, len, n < 0 ? strerror(errno) : "nothing written");
			p->write_failed = 1;
			close_conn(p);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static void tls_fail(probe *p, const char *what, const char *detail);

/* Sends whatever TLS wants to send. */
static int
tls_flush(probe *p)
{
	vbuf rec = VBUF_INIT;
	int rc = 0;

	if (etls_drain(p->tls, &rec) > 0)
		rc = sock_write(p, rec.data, rec.len);
	vbuf_free(&rec);
	return rc;
}

static void
send_wire(probe *p, vbuf *wire)
{
	if (p->fd < 0)
		return;
	if (p->tls != NULL) {
		/* In slices, each written at once, so a large message never
		 * piles up more than HARNESS_TLS_OUT_MAX in OpenSSL. */
		for (size_t off = 0; off < wire->len; off += PROBE_TLS_SLICE) {
			size_t n = wire->len - off < PROBE_TLS_SLICE ? wire->len - off :
			    PROBE_TLS_SLICE;

			if (etls_write(p->tls, wire->data + off, n) != ETLS_OK) {
				tls_fail(p, etls_error(p->tls), NULL);
				return;
			}
			if (tls_flush(p) != 0)
				return;
		}
	} else if (sock_write(p, wire->data, wire->len) != 0) {
		return;
	}
	if (session_owed(p->s) > 0)
		p->deadline = now_ms() + p->wait_ms;
}

/* TLS cannot go on: said with OpenSSL's text, noted in the transcript,
 * and the connection closed (the prompt stays for :save, :capture). */
static void
tls_fail(probe *p, const char *what, const char *detail)
{
	const char *sep = detail && *detail ? ": " : "";
	char *note = xasprintf("%s%s%s", what, sep, detail ? detail : "");

	vbuf_printf(&p->out, "  = %s; the connection is closed\n", note);
	session_tls_note(p->s, note);
	xfree(note);
	if (p->implicit && p->handshaking)
		p->tls_lost = 1;
	p->handshaking = 0;
	session_give_up(p->s);
	close_conn(p);
}

/* The handshake starts: after a 220 to STARTTLS, or (--tls) at once. */
static void
tls_begin(probe *p)
{
	char err[ETLS_ERR_MAX];
	etls_status hs;

	if (p->tls_ctx == NULL) {
		p->tls_ctx = etls_client_ctx_new(err, sizeof(err));
		if (p->tls_ctx != NULL)
			etls_ctx_keylog(p->tls_ctx, &p->keylog);
	}
	if (p->tls_ctx != NULL)
		p->tls = etls_new(p->tls_ctx, 0, NULL, err, sizeof(err));
	p->handshaking = 1;
	session_tls_start(p->s, p->implicit);
	cap_transcript_add_event(p->wire, CAP_TLS_START, CAP_C2S, cap_now_us());
	if (p->tls == NULL) {
		tls_fail(p, "cannot start TLS", err);
		return;
	}
	hs = etls_handshake(p->tls);
	if (tls_flush(p) != 0)
		return;
	if (hs == ETLS_ERROR) {
		tls_fail(p, etls_error(p->tls), NULL);
		return;
	}
	p->deadline = now_ms() + p->wait_ms;
}

static void
write_files(probe *p, const char *save, const char *capture)
{
	char err[1024];

	if (save != NULL) {
		char *summary = xasprintf("Probe session against %s, as typed", p->target);
		char *json = session_scenario(p->s, p->id, summary);

		if (atomic_file_write(save, json, strlen(json), err, sizeof(err)) != 0) {
			vbuf_printf(&p->out, "  = scenario not saved: %s\n", err);
			p->files_failed = 1;
		} else {
			vbuf_printf(&p->out, "  = scenario saved to %s\n", save);
			if (p->implicit)
				say(p, "it cannot be replayed yet: scenarios have no implicit TLS, "
				    "its steps would go out in plaintext (its comment says so)");
		}
		xfree(json);
		xfree(summary);
	}
	if (capture != NULL) {
		/* The bytes as they crossed the wire: after TLS started, the
		 * records, with the secrets beside them (NSS key log format). */
		if (cap_pcap_write(p->wire, capture, err, sizeof(err)) != 0) {
			vbuf_printf(&p->out, "  = capture not written: %s\n", err);
			p->files_failed = 1;
		} else if (p->keylog.len > 0) {
			char *keys = xasprintf("%s.keys", capture);

			if (atomic_file_write(keys, p->keylog.data, p->keylog.len, err,
			    sizeof(err)) != 0) {
				vbuf_printf(&p->out, "  = capture written to %s, its TLS keys not: "
				    "%s\n", capture, err);
				p->files_failed = 1;
			} else {
				vbuf_printf(&p->out, "  = capture written to %s, TLS keys to %s (e.g. "
				    "tshark -o tls.keylog_file:%s -r %s)\n", capture, keys, keys,
				    capture);
			}
			xfree(keys);
		} else {
			vbuf_printf(&p->out, "  = capture written to %s\n", capture);
		}
	}
}

static void
lines_clear(probe *p)
{
	for (size_t i = 0; i < p->nlines; i++)
		xfree(p->lines[i]);
	p->nlines = 0;
}

static void
pending_clear(probe *p)
{
	for (size_t i = 0; i < p->npending; i++)
		xfree(p->pending[i]);
	p->npending = p->pending_next = 0;
}

/* The next line of an AUTH exchange, once the last reply asked for it. */
static void
pending_send(probe *p)
{
	vbuf wire = VBUF_INIT;
	const char *line;

	if (p->pending_next == p->npending || p->fd < 0 || session_owed(p->s) > 0)
		return;
	if (session_last_code(p->s) != 334) {
		say(p, "AUTH was not answered 334: the rest of the exchange is not sent");
		pending_clear(p);
		return;
	}
	line = p->pending[p->pending_next++];
	session_auth_line(p->s, line, strlen(line), &wire, &p->out);
	send_wire(p, &wire);
	vbuf_free(&wire);
	if (p->pending_next == p->npending)
		pending_clear(p);
}

static void
set_prompt(probe *p)
{
	if (p->tty)
		rl_set_prompt(p->mode == MODE_DATA ? "data> " : p->mode == MODE_PIPE ? "pipe> " :
		    "smtp> ");
}

/* One line of content for :data or :pipe; a lone "." ends it. */
static void
collect_line(probe *p, const char *line, size_t len)
{
	vbuf wire = VBUF_INIT;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!(len == 1 && line[0] == '.')) {
		if (p->nlines >= HARNESS_PROBE_LINES_MAX) {
			if (p->nlines == HARNESS_PROBE_LINES_MAX)
				say(p, "too many lines: the rest up to \".\" is dropped");
			p->nlines++;
			return;
		}
		p->lines = xgrow(p->lines, &p->lines_cap, p->nlines + 1, sizeof(char *));
		p->lines[p->nlines++] = xstrndup(line, len);
		return;
	}
	if (p->nlines > HARNESS_PROBE_LINES_MAX)
		p->nlines = HARNESS_PROBE_LINES_MAX;
	if (p->fd < 0) {
		say(p, "not sent: the connection is closed");
	} else if (p->mode == MODE_DATA) {
		session_data(p->s, p->lines, p->nlines, &wire, &p->out);
		send_wire(p, &wire);
	} else if (p->nlines > 0) {
		session_pipe(p->s, p->lines, p->nlines, &wire, &p->out);
		send_wire(p, &wire);
	}
	vbuf_free(&wire);
	lines_clear(p);
	p->mode = MODE_COMMAND;
	set_prompt(p);
}

static void
handle_line(probe *p, const char *line, size_t len)
{
	input_cmd c;
	vbuf wire = VBUF_INIT;

	if (p->mode != MODE_COMMAND) {
		collect_line(p, line, len);
		return;
	}
	input_parse(line, len, &c);
	if ((c.kind == INPUT_COMMAND || c.kind == INPUT_RAW || c.kind == INPUT_DATA ||
	    c.kind == INPUT_PIPE || c.kind == INPUT_STARTTLS || c.kind == INPUT_RESET ||
	    c.kind == INPUT_AUTH) && p->fd < 0) {
		say(p, "not sent: the connection is closed");
		input_cmd_clear(&c);
		return;
	}
	/* Nothing can go through TLS before the handshake completes. */
	if ((c.kind == INPUT_COMMAND || c.kind == INPUT_RAW || c.kind == INPUT_STARTTLS ||
	    c.kind == INPUT_RESET || c.kind == INPUT_AUTH) && p->handshaking) {
		say(p, "not sent: the TLS handshake is still running");
		input_cmd_clear(&c);
		return;
	}
	switch (c.kind) {
	case INPUT_EMPTY:
		break;
	case INPUT_COMMAND:
		session_command(p->s, c.bytes.data, c.bytes.len, &wire, &p->out);
		send_wire(p, &wire);
		break;
	case INPUT_RAW:
		session_raw(p->s, c.bytes.data, c.bytes.len, &wire, &p->out);
		send_wire(p, &wire);
		break;
	case INPUT_DATA:
		p->mode = MODE_DATA;
		say(p, "message content, up to a lone \".\"");
		break;
	case INPUT_PIPE:
		p->mode = MODE_PIPE;
		say(p, "commands to send in one write, up to a lone \".\"");
		break;
	case INPUT_CHECK:
		session_check(p->s, &p->out);
		break;
	case INPUT_SAVE:
		write_files(p, vbuf_str(&c.bytes), NULL);
		break;
	case INPUT_CAPTURE:
		write_files(p, NULL, vbuf_str(&c.bytes));
		break;
	case INPUT_HELP:
		vbuf_append_str(&p->out, input_help());
		break;
	case INPUT_QUIT:
		p->quit = 1;
		break;
	case INPUT_STARTTLS:
		if (p->tls != NULL)
			say(p, "TLS is already up: STARTTLS is sent as a command, no second "
			    "handshake");
		session_command(p->s, "STARTTLS", 8, &wire, &p->out);
		send_wire(p, &wire);
		break;
	case INPUT_RESET:
		/* The transaction starts over on both sides (RFC 5321 §4.1.1.5);
		 * the connection, and TLS, stay. */
		pending_clear(p);
		session_command(p->s, "RSET", 4, &wire, &p->out);
		session_reset(p->s);
		send_wire(p, &wire);
		break;
	case INPUT_AUTH: {
		const char *all = vbuf_str(&c.bytes), *lf = strchr(all, '\n');

		pending_clear(p);
		session_command(p->s, all, lf ? (size_t)(lf - all) : strlen(all), &wire, &p->out);
		send_wire(p, &wire);
		while (lf != NULL) {
			const char *next = strchr(lf + 1, '\n');
			size_t n = next ? (size_t)(next - lf - 1) : strlen(lf + 1);

			p->pending = xgrow(p->pending, &p->pending_cap, p->npending + 1,
			    sizeof(char *));
			p->pending[p->npending++] = xstrndup(lf + 1, n);
			lf = next;
		}
		break;
	}
	case INPUT_ERROR:
		vbuf_printf(&p->out, "  ? %s\n", c.err);
		break;
	}
	set_prompt(p);
	vbuf_free(&wire);
	input_cmd_clear(&c);
}

static void
rl_line_cb(char *line)
{
	probe *p = the_probe;

	if (line == NULL) {
		p->eof = 1;
		rl_callback_handler_remove();
		fputc('\n', stdout);
		return;
	}
	if (*line != '\0')
		add_history(line);
	handle_line(p, line, strlen(line));
	free(line);
	/* What the line made is shown by the loop once libedit is done
	 * with the line: a redisplay from in here would draw the old one. */
}

/* A script's line from stdin, read a byte at a time so that nothing past
 * the line is taken from the pipe. */
static void
read_script_line(probe *p)
{
	vbuf line = VBUF_INIT;
	size_t seen = 0;
	char ch;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &ch, 1);

		if (n < 0 && errno == EINTR && !probe_signalled)
			continue;
		if (n <= 0) {
			p->eof = 1;
			break;
		}
		if (ch == '\n')
			break;
		if (++seen <= HARNESS_LINE_HARD_MAX)
			vbuf_append_byte(&line, ch);
	}
	if (seen > HARNESS_LINE_HARD_MAX)
		vbuf_printf(&p->out, "  ? a line of %zu bytes is over the %d the console reads: "
		    "ignored\n", seen, HARNESS_LINE_HARD_MAX);
	else if (!p->eof || line.len > 0)
		handle_line(p, line.data ? line.data : "", line.len);
	vbuf_free(&line);
}

/* Plaintext from the server: each complete reply shown; a 220 to a
 * STARTTLS starts the handshake. */
static void
took(probe *p, const char *buf, size_t len)
{
	size_t owed = session_owed(p->s);

	session_received(p->s, buf, len, &p->out);
	/* Only a complete reply restarts the wait: a server that drips a
	 * byte now and then does not hold the console forever. */
	if (session_owed(p->s) == 0)
		p->deadline = 0;
	else if (session_owed(p->s) < owed)
		p->deadline = now_ms() + p->wait_ms;
	if (session_tls_wanted(p->s) && p->tls == NULL)
		tls_begin(p);
}

/* Ciphertext from the server: the handshake, then records. */
static void
tls_input(probe *p, const char *buf, size_t len)
{
	vbuf plain = VBUF_INIT;
	etls_status rs;

	if (etls_feed(p->tls, buf, len) != 0) {
		tls_fail(p, etls_error(p->tls), NULL);
		return;
	}
	if (p->handshaking) {
		etls_status hs = etls_handshake(p->tls);

		if (tls_flush(p) != 0)
			return;
		if (hs == ETLS_ERROR) {
			tls_fail(p, etls_error(p->tls), NULL);
			return;
		}
		if (hs == ETLS_WANT)
			return;
		p->handshaking = 0;
		{
			vbuf note = VBUF_INIT;

			etls_peer_describe(p->tls, &note);
			vbuf_printf(&p->out, "  = TLS is up: %s\n", vbuf_str(&note));
			session_tls_note(p->s, vbuf_str(&note));
			vbuf_free(&note);
		}
		if (!p->implicit)
			say(p, "the server forgot what it knew (RFC 3207 §4.2): EHLO again");
		p->deadline = session_owed(p->s) > 0 ? now_ms() + p->wait_ms : 0;
	}
	rs = etls_read(p->tls, &plain);
	if (plain.len > 0)
		took(p, plain.data, plain.len);
	vbuf_free(&plain);
	if (p->fd < 0)
		return;
	/* The server's close_notify gets ours (RFC 8446 §6.1). */
	if (rs == ETLS_CLOSED) {
		say(p, "the server ended TLS (close_notify)");
		etls_shutdown(p->tls);
	}
	if (tls_flush(p) != 0)
		return;
	if (rs == ETLS_ERROR)
		tls_fail(p, etls_error(p->tls), NULL);
}

static void
read_server(probe *p)
{
	char buf[16384];
	ssize_t n = read(p->fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n > 0)
		cap_transcript_add_data(p->wire, CAP_S2C, cap_now_us(), buf, (size_t)n);
	if (n <= 0) {
		cap_transcript_add_event(p->wire, n < 0 ? CAP_RST : CAP_FIN, CAP_S2C,
		    cap_now_us());
		if (p->handshaking) {
			session_server_closed(p->s, n < 0);
			tls_fail(p, "TLS handshake failed", n < 0 ? "the connection was reset" :
			    "the server closed the connection");
			return;
		}
		session_server_closed(p->s, n < 0);
		say(p, n < 0 ? "the connection was reset" : "the server closed the connection");
		if (session_owed(p->s) > 0) {
			vbuf_printf(&p->out, "  = %zu repl%s never came\n", session_owed(p->s),
			    session_owed(p->s) == 1 ? "y" : "ies");
			session_give_up(p->s);
		}
		close_conn(p);
		return;
	}
	if (p->tls != NULL)
		tls_input(p, buf, (size_t)n);
	else
		took(p, buf, (size_t)n);
}

static void
loop(probe *p)
{
	while (!p->quit && !probe_signalled) {
		struct pollfd pfd[2];
		int nfd = 0, timeout = -1, rc, waiting;
		int sock_i = -1, in_i = -1;

		pending_send(p);
		waiting = p->fd >= 0 && (session_owed(p->s) > 0 || p->pending_next < p->npending ||
		    p->handshaking);
		/* --starttls types its lines first, each after the last's reply. */
		if (!waiting && p->auto_next < p->nauto) {
			const char *l = p->auto_lines[p->auto_next++];

			if (p->fd >= 0 && !(l[0] == ':' && session_last_code(p->s) != 250)) {
				handle_line(p, l, strlen(l));
			} else if (p->fd >= 0) {
				say(p, "--starttls: EHLO was not answered 250; no STARTTLS sent");
			}
			flush_out(p);
			continue;
		}
		flush_out(p);
		if (p->eof && !waiting)
			break;
		if (p->fd >= 0) {
			pfd[nfd].fd = p->fd;
			pfd[nfd].events = POLLIN;
			sock_i = nfd++;
		}
		/* A script waits for the replies it is owed; a person need not. */
		if (!p->eof && (p->tty || !waiting)) {
			pfd[nfd].fd = STDIN_FILENO;
			pfd[nfd].events = POLLIN;
			in_i = nfd++;
		}
		if (waiting && p->deadline != 0) {
			uint64_t now = now_ms();

			timeout = p->deadline > now ? (int)(p->deadline - now) : 0;
		}
		rc = poll(pfd, (nfds_t)nfd, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			break;
		if (rc == 0 && p->handshaking) {
			char why[64];

			snprintf(why, sizeof(why), "no TLS handshake within %u s", p->wait_ms / 1000);
			tls_fail(p, why, "the server did not complete it");
			flush_out(p);
			continue;
		}
		if (rc == 0) {
			if (session_last_code(p->s) == -1 && session_owed(p->s) == 1 &&
			    session_transcript(p->s)->stream[CAP_S2C].len == 0 &&
			    session_transcript(p->s)->stream[CAP_C2S].len == 0)
				vbuf_printf(&p->out, "  = no greeting within %u s (RFC 5321 "
				    "§4.5.3.2.1 has a client wait 5 minutes; --wait sets this "
				    "one); giving up on it\n", p->wait_ms / 1000);
			else
				vbuf_printf(&p->out, "  = no reply within %u s (%zu owed); giving "
				    "up on %s\n", p->wait_ms / 1000, session_owed(p->s),
				    session_owed(p->s) == 1 ? "it" : "them");
			session_give_up(p->s);
			p->deadline = 0;
			flush_out(p);
			continue;
		}
		if (sock_i >= 0 && (pfd[sock_i].revents & (POLLIN | POLLHUP | POLLERR)))
			read_server(p);
		else if (in_i >= 0 && (pfd[in_i].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (p->tty)
				rl_callback_read_char();
			else
				read_script_line(p);
		}
		flush_out(p);
	}
}

/* The scenario loader's rule for ids, so that --save never writes a
 * scenario that `validate` refuses. */
static int
id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	for (; *s; s++) {
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' ||
		    *s == '-' || *s == '_'))
			return 0;
	}
	return 1;
}

static char *
history_path(void)
{
	const char *home = getenv("HOME");

	return home && *home ? xasprintf("%s/.smtp_harness_history", home) : NULL;
}

int
cli_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "save", required_argument, NULL, 's' },
		{ "capture", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "tls", no_argument, NULL, 'T' },
		{ "starttls", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *save = NULL, *capture = NULL;
	char *host = NULL, *port = NULL, *hist = NULL;
	char err[256];
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	probe p;
	int ch, fails;

	memset(&p, 0, sizeof(p));
	p.wait_ms = HARNESS_PROBE_WAIT_MS;
	p.id = "probe.session";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600)
				return cli_usage_error("--wait: expected seconds from 1 to 3600, "
				    "got \"%s\"", optarg);
			p.wait_ms = (unsigned)v * 1000;
			break;
		}
		case 's':
			save = optarg;
			break;
		case 'c':
			capture = optarg;
			break;
		case 'i':
			p.id = optarg;
			if (!id_ok(p.id))
				return cli_usage_error("--id: expected up to 128 lower-case letters, "
				    "digits, '.', '-' and '_', starting with a letter or digit, got "
				    "\"%s\"", optarg);
			break;
		case 'T':
			p.implicit = 1;
			break;
		case 'S':
			p.auto_lines[0] = "EHLO harness.test";
			p.auto_lines[1] = ":starttls";
			p.nauto = 2;
			break;
		case 'h':
			fputs(probe_usage, stdout);
			return CLI_OK;
		default:
			fputs(probe_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("probe: expected one HOST:PORT (see probe --help)");
	if (p.implicit && p.nauto > 0)
		return cli_usage_error("probe: --tls and --starttls exclude each other");
	if (cli_split_hostport(argv[optind], "25", &host, &port) != 0)
		return cli_usage_error("probe: expected HOST:PORT, got \"%s\"", argv[optind]);
	p.target = argv[optind];
	p.fd = connect_to(host, port, p.wait_ms, err, sizeof(err));
	xfree(host);
	xfree(port);
	if (p.fd < 0) {
		fprintf(stderr, "smtp-harness: cannot connect to %s: %s\n", p.target, err);
		return CLI_UNREACHABLE;
	}
	p.s = session_new();
	if (getsockname(p.fd, (struct sockaddr *)&local, &llen) != 0)
		memset(&local, 0, sizeof(local));
	if (getpeername(p.fd, (struct sockaddr *)&peer, &plen) != 0)
		memset(&peer, 0, sizeof(peer));
	session_opened(p.s, (struct sockaddr *)&local, (struct sockaddr *)&peer);
	p.wire = cap_transcript_new(NULL, NULL);
	cap_transcript_set_endpoints(p.wire, (struct sockaddr *)&local,
	    (struct sockaddr *)&peer);
	cap_transcript_add_event(p.wire, CAP_OPEN, CAP_C2S, cap_now_us());
	p.deadline = now_ms() + p.wait_ms;
	p.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = probe_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	printf("connected to %s; :help lists the console commands\n", p.target);
	fflush(stdout);
	if (p.implicit) {
		tls_begin(&p);
		flush_out(&p);
	}
	the_probe = &p;
	if (p.tty) {
		hist = history_path();
		using_history();
		if (hist != NULL)
			read_history(hist);
		rl_callback_handler_install("smtp> ", rl_line_cb);
	}
	loop(&p);
	if (probe_signalled)
		say(&p, "interrupted");
	if (p.tty) {
		if (!p.eof)
			rl_callback_handler_remove();
		if (hist != NULL)
			write_history(hist);
		xfree(hist);
	}
	if (p.mode != MODE_COMMAND)
		say(&p, "the input ended before the lone \".\": those lines were not sent");
	if (p.pending_next < p.npending)
		say(&p, "the AUTH exchange was not finished");
	pending_clear(&p);
	xfree(p.pending);
	lines_clear(&p);
	xfree(p.lines);
	close_conn(&p);
	if (p.tls_lost)
		say(&p, "--tls: no TLS session could be set up");
	vbuf_append_str(&p.out, "-- passive checks on the session\n");
	fails = (int)session_check(p.s, &p.out);
	write_files(&p, save, capture);
	p.quit = 1;
	flush_out(&p);
	vbuf_free(&p.out);
	session_free(p.s);
	etls_free(p.tls);
	SSL_CTX_free(p.tls_ctx);
	cap_transcript_free(p.wire);
	vbuf_free(&p.keylog);
	the_probe = NULL;
	if (p.files_failed)
		return CLI_USAGE;
	if (p.tls_lost)
		return CLI_UNREACHABLE;
	return fails > 0 ? CLI_FAIL : CLI_OK;
}
