/*
 * secrets - AUTH credentials kept out of what the server role records.
 *
 * In the server role the client under test is the one holding
 * credentials: it sends them as SASL responses (the initial response of
 * `AUTH MECH RESP`, and every line answering a 334, RFC 4954 §4), its
 * command line may carry them, and some clients print their dialog. The
 * harness needs none of them to judge the client, so the engine masks a
 * response's octets with '*' in the transcript (and the plaintext pcap)
 * as it reads it, keeping lengths so that evidence offsets stay right,
 * and remembers what it masked; before the result is reported, every
 * remembered secret, and the values of the run's --var auth_user and
 * auth_pass with their base64 forms, are masked in the client's command
 * line, stdout and stderr.
 *
 * Two responses stay as sent: a lone "*" (the cancel, which
 * rfc4954.4.client-cancel-bad-challenge must see) and QUIT (a client that
 * leaves mid-exchange: no secret, and the finding names it). One octet is
 * no secret either (base64 of anything is longer), and masking it would
 * turn it into "*", a cancel the client never sent.
 *
 * Limits: ENG_SECRETS_MAX secrets per scenario, each at least
 * ENG_SECRETS_MIN octets (shorter strings would mask ordinary words).
 */
#ifndef HARNESS_ENGINE_SECRETS_H
#define HARNESS_ENGINE_SECRETS_H

#include <stddef.h>

#include "harness/scenario/scenario.h"

#define ENG_SECRETS_MAX	32
#define ENG_SECRETS_MIN	3

typedef struct eng_secrets {
	char *s[ENG_SECRETS_MAX];
	size_t len[ENG_SECRETS_MAX];
	size_t n;
} eng_secrets;

/* How many octets of a SASL response line (without its line end) are
 * secret: 0 for "*", QUIT and a single octet, else len. */
size_t eng_secrets_response(const char *line, size_t len);
/* Remembers s[0..len) (a copy), unless it is too short, known, or the
 * table is full. */
void eng_secrets_add(eng_secrets *sec, const char *s, size_t len);
/* Remembers the values of auth_user and auth_pass in vars (NULL is
 * fine), each as given and in base64, and their RFC 4616 PLAIN response. */
void eng_secrets_add_vars(eng_secrets *sec, const scn_vars *vars);
/* Replaces every occurrence of a remembered secret in buf with '*'. */
void eng_secrets_scrub(const eng_secrets *sec, char *buf, size_t len);
void eng_secrets_free(eng_secrets *sec);

#endif
