/*
 * xalloc - memory allocation that never returns NULL.
 *
 * Every allocation in the harness goes through here. Running out of memory
 * is not a protocol event we can report on, so it aborts with a message
 * (the "harness is wrong / cannot go on" kind of trouble). xfree(NULL) and
 * the other *_free(NULL) functions of the project are no-ops.
 */
#ifndef HARNESS_UTIL_XALLOC_H
#define HARNESS_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array to hold at least `need` elements of `size` bytes,
 * doubling; *cap is updated. Aborts on overflow. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xfree(void *p);

#endif
