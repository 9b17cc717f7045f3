/*
 * ehlo - the EHLO reply as data (RFC 5321 §4.1.1.1, ABNF ehlo-ok-rsp).
 *
 * The first line carries the server's domain and an optional greeting;
 * each further line is a keyword (ALPHA / DIGIT, then ALPHA / DIGIT / "-")
 * with optional parameters separated by spaces. Keywords are compared
 * without regard to case. Parsing never fails; what breaks the grammar is
 * recorded in `defects` with the line number of the first offence.
 */
#ifndef HARNESS_SMTP_EHLO_H
#define HARNESS_SMTP_EHLO_H

#include <stddef.h>

#include "harness/smtp/reply.h"

enum {
	SMTP_EHLO_BAD_KEYWORD = 1 << 0,	/* a keyword with illegal characters */
	SMTP_EHLO_BAD_PARAM = 1 << 1,	/* control characters in parameters */
	SMTP_EHLO_NO_DOMAIN = 1 << 2,	/* first line has no domain */
	SMTP_EHLO_BAD_SIZE = 1 << 3	/* SIZE parameter not a number (RFC 1870) */
};

typedef struct smtp_ehlo_kw {
	char *keyword;		/* upper-cased */
	char *params;		/* as sent, "" when none; in keyword's allocation */
	size_t line;		/* index of the reply line */
} smtp_ehlo_kw;

typedef struct smtp_ehlo {
	char *domain;		/* first word of the first line, "" when none */
	smtp_ehlo_kw *kw;
	size_t nkw;
	unsigned defects;
	size_t defect_line;	/* reply line of the first defect */
	int has_size;
	unsigned long long size_max;	/* SIZE n; 0 = no fixed limit */
} smtp_ehlo;

/* Parses a 250 reply to EHLO into e (which it initialises). */
void smtp_ehlo_parse(const smtp_reply *r, smtp_ehlo *e);
void smtp_ehlo_clear(smtp_ehlo *e);
/* The keyword entry, case-insensitively, or NULL. */
const smtp_ehlo_kw *smtp_ehlo_find(const smtp_ehlo *e, const char *keyword);
/* For AUTH and the like: 1 if `param` is among the space-separated
 * parameters of keyword, case-insensitively. */
int smtp_ehlo_has_param(const smtp_ehlo *e, const char *keyword, const char *param);

#endif
