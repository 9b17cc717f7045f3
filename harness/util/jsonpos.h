/*
 * jsonpos - where a JSON value stands in its source text.
 *
 * cJSON parses but keeps no positions, and every error about a scenario or
 * zone file must name FILE:LINE:COL. jsonpos scans the same text once and
 * records, for every value, its JSON path ("$.steps[3].recv.code") and
 * the 1-based line and column of its first character. It assumes the text
 * already parsed with cJSON (it does not validate), but never reads past
 * len whatever the bytes. jsonpos_offset_to_lc turns a byte offset (e.g.
 * cJSON_GetErrorPtr() - text) into line:col. Columns count bytes.
 *
 * Paths: object members are ".name" when the name is made of [A-Za-z0-9_]
 * only, and ["name"] otherwise (with '"', '\' and control bytes escaped);
 * array elements are "[i]". Build the paths you look up with
 * jsonpos_path_key / jsonpos_path_index so that both sides agree. Where a
 * key repeats in one object, the first occurrence wins.
 */
#ifndef HARNESS_UTIL_JSONPOS_H
#define HARNESS_UTIL_JSONPOS_H

#include <stddef.h>

#include "harness/util/vbuf.h"

typedef struct jsonpos_entry {
	char *path;
	int line;
	int col;
} jsonpos_entry;

typedef struct jsonpos {
	jsonpos_entry *e;	/* sorted by path after jsonpos_build */
	size_t n;
	size_t cap;
	char *arena;		/* every path, NUL-separated; e[i].path points here */
} jsonpos;

/* Scans text; jp must be zeroed (or freed) first. */
void jsonpos_build(jsonpos *jp, const char *text, size_t len);
void jsonpos_free(jsonpos *jp);
/* Position of the value at path; returns 0, or -1 (line/col set to 1:1). */
int jsonpos_find(const jsonpos *jp, const char *path, int *line, int *col);
void jsonpos_offset_to_lc(const char *text, size_t len, size_t off, int *line, int *col);

/* Append the path component for object key `key` (decoded, as cJSON gives
 * it) or array index i to path. */
void jsonpos_path_key(vbuf *path, const char *key);
void jsonpos_path_index(vbuf *path, size_t i);

struct cJSON;
/* A short description of a value for "expected X, got ...": a string
 * quoted (cut, control bytes as \xHH), a number, true/false/null, "an
 * array", "an object", or "nothing" for NULL. */
void jsonpos_describe(const struct cJSON *v, char *out, size_t n);

/* Helpers for loaders that report "NAME:LINE:COL: PATH: message". */
/* parent plus the component for key, or for index i; the caller frees. */
char *jsonpos_child_key(const char *parent, const char *key);
char *jsonpos_child_index(const char *parent, size_t i);
/* Writes "name:LINE:COL: path: message" (the position of path in jp)
 * into err and returns -1. */
int jsonpos_fail(const jsonpos *jp, const char *name, const char *path, char *err,
    size_t errlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Every member of obj (at path) is one of keys (NULL-terminated), once;
 * else jsonpos_fail naming the first that is not, and -1. */
int jsonpos_check_keys(const jsonpos *jp, const char *name, const struct cJSON *obj,
    const char *path, const char *const *keys, char *err, size_t errlen);

#endif
