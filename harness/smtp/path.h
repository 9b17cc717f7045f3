/*
 * path - MAIL/RCPT paths and ESMTP parameters on the server side (pure).
 *
 * RFC 5321 §4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">", the null
 * reverse-path "<>", and for RCPT the bare "<Postmaster>" (§4.1.1.3). A
 * source route (A-d-l) is accepted and dropped (§4.1.2, §C), leaving the
 * final mailbox. Local-parts are dot-strings or quoted strings; domains
 * are LDH labels (at most 63 octets, 255 in all) or address literals
 * ([IPv4], [IPv6:...], [tag:text]). Octets >= 0x80 must form valid UTF-8;
 * they are allowed by the grammar of RFC 6531 §3.3 and flagged, so the
 * caller decides whether the transaction may carry them (SMTPUTF8).
 *
 * Parameters (§4.1.2 esmtp-param): keyword ["=" value], separated by
 * spaces; keywords are letters, digits and hyphens, values printable
 * ASCII but "=" and SP (UTF-8 too, flagged). xtext is RFC 3461 §4's.
 *
 * Nothing here allocates except the mailbox copy in smtp_path.
 */
#ifndef HARNESS_SMTP_PATH_H
#define HARNESS_SMTP_PATH_H

#include <stddef.h>

enum {
	SMTP_PATH_ALLOW_NULL = 1 << 0,		/* "<>" (MAIL) */
	SMTP_PATH_ALLOW_POSTMASTER = 1 << 1	/* "<Postmaster>" (RCPT) */
};

typedef struct smtp_path {
	char *mailbox;		/* local@domain without route or brackets; "" for <> */
	int null;		/* "<>" */
	int postmaster;		/* bare "<Postmaster>" */
	int routed;		/* a source route was dropped */
	int utf8;		/* the mailbox has octets >= 0x80 (valid UTF-8) */
} smtp_path;

typedef struct smtp_param {
	const char *kw;		/* points into the parsed text */
	size_t kwlen;
	const char *val;	/* NULL when there is no "=value" */
	size_t vallen;
} smtp_param;

#define SMTP_PARAMS_MAX	16	/* parameters on one MAIL or RCPT */

/* Parses a path at the start of s. Returns 0 and fills p (the caller
 * frees p->mailbox with smtp_path_clear) with *used set to the octets of
 * the path, or -1 on a syntax error. */
int smtp_path_parse(const char *s, size_t len, unsigned flags, smtp_path *p, size_t *used);
void smtp_path_clear(smtp_path *p);

/* Splits the parameters after a path: s is what follows the ">"; it must
 * be empty or start with SP. Returns the number of parameters (at most
 * max), or -1 on a syntax error or too many. *utf8 is set when a value has
 * octets >= 0x80. */
int smtp_params_split(const char *s, size_t len, smtp_param *out, size_t max, int *utf8);
/* 1 if the parameter's keyword is kw, ignoring case. */
int smtp_param_is(const smtp_param *p, const char *kw);
/* 1 if s is valid xtext (RFC 3461 §4): printable ASCII but "+" and "=",
 * or "+" and two upper-case hex digits; at least one character. */
int smtp_xtext_valid(const char *s, size_t len);
/* Length of the valid UTF-8 sequence starting at s (2-4 octets, no
 * overlongs, no surrogates), or 0. */
size_t smtp_utf8_seq(const unsigned char *s, size_t len);

#endif
