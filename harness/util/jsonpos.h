/*
 * jsonpos - where a JSON value stands in its source text.
 *
 * cJSON parses but keeps no positions, and every error about a scenario or
 * zone file must name FILE:LINE:COL. jsonpos scans the same text once and
 * records, for every value, its JSON path ("$.steps[3].recv.code") and
 * the 1-based line and column of its first character. It assumes the text
 * already parsed with cJSON (it does not validate). jsonpos_offset_to_lc
 * turns a byte offset (e.g. cJSON_GetErrorPtr() - text) into line:col.
 */
#ifndef HARNESS_UTIL_JSONPOS_H
#define HARNESS_UTIL_JSONPOS_H

#include <stddef.h>

typedef struct jsonpos_entry {
	char *path;
	int line;
	int col;
} jsonpos_entry;

typedef struct jsonpos {
	jsonpos_entry *e;
	size_t n;
	size_t cap;
} jsonpos;

void jsonpos_build(jsonpos *jp, const char *text, size_t len);
void jsonpos_free(jsonpos *jp);
/* Position of the value at path; returns 0, or -1 (line/col set to 1:1). */
int jsonpos_find(const jsonpos *jp, const char *path, int *line, int *col);
void jsonpos_offset_to_lc(const char *text, size_t len, size_t off, int *line, int *col);

#endif
