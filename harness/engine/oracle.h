/*
 * oracle - where the target delivers, read back after the sessions.
 *
 * `--oracle maildir:DIR` (DIR/new and DIR/cur), `mbox:FILE`, or `dir:DIR`
 * (any regular file below DIR, HARNESS_ORACLE_DEPTH_MAX levels deep, one
 * message per file whatever its format). A scan looks only at files
 * changed since the run began, reads each within HARNESS_ORACLE_FILE_MAX
 * (an mbox beyond it: its last HARNESS_ORACLE_FILE_MAX octets), splits an
 * mbox into messages (harness/check/mailbox.h), and keeps the messages
 * that carry the run's prefix, sorted to the scenario whose key they
 * carry. What cannot be read is a note, never a crash; the judging is
 * harness/check/delivery.h's.
 */
#ifndef HARNESS_ENGINE_ORACLE_H
#define HARNESS_ENGINE_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "harness/check/delivery.h"

typedef enum orc_kind {
	ORC_MAILDIR = 0,
	ORC_MBOX,
	ORC_DIR
} orc_kind;

typedef struct orc_spec {
	orc_kind kind;
	const char *path;	/* points into the argument */
} orc_spec;

/* Parses "maildir:DIR", "mbox:FILE" or "dir:DIR" (the path is not copied).
 * Returns 0, or -1 with one line in err. */
int orc_parse(const char *arg, orc_spec *out, char *err, size_t errlen);
/* 0 when the oracle's place exists and is readable (a Maildir or dir a
 * directory, an mbox a regular file or not yet there, in a directory that
 * is); -1 with one line in err. */
int orc_usable(const orc_spec *o, char *err, size_t errlen);

/* The copies of one scenario; they own their bytes and path. */
typedef struct orc_found {
	dlv_copy *v;
	size_t n;
	size_t cap;
	int cut;		/* more than HARNESS_ORACLE_COPIES_MAX */
} orc_found;

/* Scans once. prefix is the run's part of every key; a message carrying
 * prefix followed by digits i and '-' goes to found[i] when i < n
 * (earlier contents of found are freed first). Files last changed before
 * `since` are not read. notes gets a line per file that could not be
 * read whole (cleared first). */
void orc_scan(const orc_spec *o, const char *prefix, time_t since, orc_found *found, size_t n,
    vbuf *notes);
void orc_found_clear(orc_found *f);

#endif
