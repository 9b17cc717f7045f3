/*
 * atomic_file - write a whole file under a temporary name, then rename it.
 *
 * Reports and captures are never seen half-written: the bytes go to
 * "<path>.tmp.<pid>" in the same directory, are flushed, and the file is
 * renamed over <path>. On any failure the temporary file is removed and
 * an error line ("path: reason") is left in err.
 */
#ifndef HARNESS_UTIL_ATOMIC_FILE_H
#define HARNESS_UTIL_ATOMIC_FILE_H

#include <stdio.h>
#include <stddef.h>

typedef struct atomic_file {
	FILE *fp;
	char *path;
	char *tmp;
} atomic_file;

/* Opens the temporary file for writing; returns 0, or -1 with err set. */
int atomic_file_open(atomic_file *af, const char *path, char *err, size_t errlen);
/* Flushes, closes and renames; returns 0, or -1 with err set (the
 * temporary file is removed). Always releases af. */
int atomic_file_commit(atomic_file *af, char *err, size_t errlen);
/* Abandons the file: closes and removes the temporary name. */
void atomic_file_abort(atomic_file *af);
/* Convenience: writes len bytes to path atomically. */
int atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* mkdir -p; returns 0 or -1 with err set. */
int atomic_file_mkdirs(const char *dir, char *err, size_t errlen);

#endif
