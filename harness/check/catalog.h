/*
 * catalog - the machine-checkable requirements the harness judges by.
 *
 * One entry per id of shared/CONFORMANCE.md (generated into catalog.c by
 * harness/check/gen_catalog.py; regenerate, do not edit by hand), with its
 * RFC sections, its BCP 14 keyword and a one-line summary. Scenarios cite
 * these ids and the loader refuses ids it does not know; a finding's
 * verdict follows the keyword: MUST gives FAIL, SHOULD gives WARN, MAY and
 * advisory give INFO. Where a row bundles clauses ("MUST / SHOULD"), the
 * entry's keyword is the first one, and a check judging another clause
 * states its verdict itself.
 */
#ifndef HARNESS_CHECK_CATALOG_H
#define HARNESS_CHECK_CATALOG_H

#include <stddef.h>

#include "reports/result.h"

typedef enum chk_keyword {
	CHK_MUST = 0,		/* MUST, MUST NOT, and "(impl.)" readings of them */
	CHK_SHOULD,		/* SHOULD, SHOULD NOT */
	CHK_MAY,		/* MAY: informational */
	CHK_ADVISORY		/* no RFC keyword */
} chk_keyword;

typedef struct chk_entry {
	const char *id;		/* "rfc5321.4.2.1.multiline-format" */
	const char *refs;	/* "RFC 5321 §4.2.1" */
	const char *keyword_text;	/* as in the catalog: "MUST / SHOULD" */
	chk_keyword keyword;	/* the keyword of the first clause */
	const char *area;	/* "1. Reply codes and reply format" */
	const char *summary;	/* the requirement, one sentence */
} chk_entry;

/* The generated table, sorted by id (catalog_table.c). */
extern const chk_entry chk_catalog_table[];
extern const size_t chk_catalog_table_len;

/* The entry for id, or NULL. */
const chk_entry *chk_catalog_find(const char *id);
size_t chk_catalog_count(void);
/* An rpt_catalog_fn: id's keyword text and refs; 0, or -1 if unknown. */
int chk_catalog_describe(const char *id, const char **keyword, const char **refs);
const chk_entry *chk_catalog_at(size_t i);
/* MUST -> RPT_FAIL, SHOULD -> RPT_WARN, MAY/advisory -> RPT_INFO. */
rpt_verdict chk_keyword_verdict(chk_keyword k);
/* Parses "must", "should", "may" (any case); -1 if none of them. */
int chk_keyword_parse(const char *s);

#endif
