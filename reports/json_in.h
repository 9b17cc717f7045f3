/*
 * json_in - reading JSON the harness did not write itself: a baseline
 * file, or a JSON report handed to `smtp-harness diff`.
 *
 * It parses with cJSON and, only when something is wrong, scans the text
 * with jsonpos so every error is one line: "FILE:LINE:COL: expected valid
 * JSON, got ..." for bad syntax, "FILE:LINE:COL: $.path: expected X, got
 * Y" for a well-formed file of the wrong shape. Files are read whole, up
 * to a size limit the caller gives.
 */
#ifndef REPORTS_JSON_IN_H
#define REPORTS_JSON_IN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/util/jsonpos.h"
#include "harness/util/vbuf.h"

typedef struct rpt_jin {
	const char *name;
	const char *text;
	size_t len;
	cJSON *root;		/* owned */
	jsonpos jp;
	int have_jp;
	char *err;
	size_t errlen;
} rpt_jin;

/* Reads path whole into out (at most max bytes); 0, or -1 with err set. */
int rpt_jin_read_file(const char *path, size_t max, vbuf *out, char *err, size_t errlen);
/* Parses text (not copied: it must outlive j); what names the content for
 * the size error ("a baseline"). 0, or -1 with err set and j released. */
int rpt_jin_parse(rpt_jin *j, const char *name, const char *text, size_t len, size_t max,
    const char *what, char *err, size_t errlen);
void rpt_jin_free(rpt_jin *j);
/* Writes "NAME:LINE:COL: PATH: message" to j's err and returns -1. */
int rpt_jin_fail(rpt_jin *j, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "expected WHAT, got <a short description of v>" at path; returns -1. */
int rpt_jin_expected(rpt_jin *j, const char *path, const char *what, const cJSON *v);
/* parent + ".key" / "[i]", for paths in errors; the caller frees. */
char *rpt_jin_key(const char *parent, const char *key);
char *rpt_jin_index(const char *parent, size_t i);

#endif
