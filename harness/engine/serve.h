/*
 * serve - the built-in reference server on a libuv loop.
 *
 * Listens on one address (loopback unless told otherwise; port 0 picks a
 * free one) and runs the pure protocol machine of harness/smtp/server.h
 * for each connection: bytes read are fed to it, its replies are written
 * after each read (so replies to a pipelined group go out together, and
 * none waits for more input), and the connection is closed after 221 or
 * 421. Accepted messages go to a Maildir spool (spool.h), or are counted
 * and dropped when there is none.
 *
 * Bounds: HARNESS_SRV_SESSIONS_MAX connections (more are told 421 and
 * closed); an idle timeout per connection (RFC 5321 §4.5.3.2.7: at least
 * 5 minutes), after which 421 4.4.2; reading pauses while more than
 * HARNESS_SRV_WRITE_QUEUE_MAX reply octets are unsent; the last reply is
 * flushed for at most HARNESS_SRV_CLOSE_WAIT_MS before the close.
 *
 * It shares its loop with anything else (the client sessions of a run):
 * eng_serve_stop() closes the listener and ends every session with 421;
 * once the loop has run those closes, eng_serve_free() releases it.
 *
 * Faults, like Postfix's smtp-sink, to test clients against a server that
 * is slow or failing: every write of replies held delay_ms (a timer;
 * reading waits meanwhile); a fraction of the MAIL and RCPT commands that
 * would be accepted, and of the messages that would be, answered
 * fail_code instead, or dropped with no reply and the connection closed.
 * A fraction of the messages can also be lost: answered 250 as if taken,
 * and never stored (what a delivery oracle must catch, docs/oracle.md).
 * The fractions draw from one SplitMix64 stream seeded with seed, in the
 * order the commands are processed (one connection at a time gives the
 * same replies for the same seed).
 */
#ifndef HARNESS_ENGINE_SERVE_H
#define HARNESS_ENGINE_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

typedef struct eng_serve_config {
	const char *host;		/* address literal or name to bind */
	const char *port;		/* "0": any free port */
	const char *hostname;		/* greeting domain; NULL: the machine's, else "localhost" */
	const char *spool_dir;		/* Maildir, or NULL to count and drop */
	uint32_t idle_timeout_ms;	/* 0: HARNESS_SRV_IDLE_TIMEOUT_MS */
	unsigned long long size_max;	/* 0: HARNESS_SRV_SIZE_MAX */
	FILE *log;			/* a line per session and message, or NULL */
	uint32_t delay_ms;		/* hold every reply this long; 0: none */
	uint32_t fail_ppm;		/* per million MAIL/RCPT/messages answered fail_code */
	int fail_code;			/* 400-599 when fail_ppm */
	uint32_t disconnect_ppm;	/* per million dropped without a reply */
	uint32_t lose_ppm;		/* per million accepted messages answered 250
					 * but not stored: a server that loses mail */
	uint32_t seed;			/* of the draws for the two fractions */
} eng_serve_config;

typedef struct eng_serve_stats {
	unsigned long sessions;		/* connections accepted */
	unsigned long accepted;		/* messages taken */
	unsigned long refused;		/* messages refused at end of data */
} eng_serve_stats;

typedef struct eng_serve eng_serve;

/* Binds, listens and starts accepting on loop. Returns 0 and *out, -1
 * when the address cannot be bound (exit 3), -2 when the spool cannot be
 * set up (exit 2); err gets one line. cfg's strings are copied. */
int eng_serve_start(uv_loop_t *loop, const eng_serve_config *cfg, eng_serve **out, char *err,
    size_t errlen);
/* "127.0.0.1:40123" or "[::1]:40123": the address really bound. */
const char *eng_serve_address(const eng_serve *sv);
/* The bound port, as text. */
const char *eng_serve_port(const eng_serve *sv);
const eng_serve_stats *eng_serve_get_stats(const eng_serve *sv);
/* Stops accepting and ends every session (421 4.3.2); idempotent. */
void eng_serve_stop(eng_serve *sv);
/* Frees a stopped server whose handles the loop has closed. */
void eng_serve_free(eng_serve *sv);
/* The greeting domain used when none is given: the machine's name when it
 * is a valid LDH domain, else "localhost". Static storage. */
const char *eng_serve_default_hostname(void);

/* "0", "0.25", "1", ".5": a fraction from 0 to 1 in parts per million.
 * Returns 0, or -1 when s is not one. */
int eng_serve_parse_rate(const char *s, uint32_t *ppm);
/* The start of the stream of draws for seed. */
uint64_t eng_serve_rng_init(uint32_t seed);
/* The fault for the next MAIL, RCPT or message, drawing from *rng (one
 * draw per non-zero fraction, the disconnect first): 0, cfg->fail_code,
 * or SMTP_SRV_FAULT_DROP. */
int eng_serve_fault_pick(uint64_t *rng, const eng_serve_config *cfg);

#endif
