/*
 * vbuf - a growable byte buffer.
 *
 * Holds arbitrary bytes (NULs included) and keeps one spare byte so that
 * vbuf_str() can always return a NUL-terminated view. The buffer owns its
 * memory; vbuf_free() releases it and leaves an empty, reusable buffer.
 * A vbuf that starts zeroed (VBUF_INIT or memset 0) is valid and empty.
 */
#ifndef HARNESS_UTIL_VBUF_H
#define HARNESS_UTIL_VBUF_H

#include <stddef.h>

typedef struct vbuf {
	char *data;
	size_t len;
	size_t cap;
} vbuf;

#define VBUF_INIT { NULL, 0, 0 }

/* Makes room for n more bytes, so that appending that much does not
 * reallocate. */
void vbuf_reserve(vbuf *b, size_t n);
void vbuf_append(vbuf *b, const void *p, size_t n);
void vbuf_append_str(vbuf *b, const char *s);
void vbuf_append_byte(vbuf *b, char c);
void vbuf_printf(vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void vbuf_consume(vbuf *b, size_t n);
void vbuf_reset(vbuf *b);
void vbuf_free(vbuf *b);
/* NUL-terminated view of the contents; valid until the next change. */
const char *vbuf_str(vbuf *b);
/* Takes the contents as a NUL-terminated heap string the caller frees;
 * leaves the buffer empty. */
char *vbuf_take(vbuf *b);
/* Appends the contents of the file at path, stopping once more than max
 * bytes are in b (the caller reports the size). 0, or -1 with "PATH:
 * cannot open: why" (or read) in err. */
int vbuf_read_file(vbuf *b, const char *path, size_t max, char *err, size_t errlen);

#endif
