#include "harness/util/vbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/util/xalloc.h"

void
vbuf_reserve(vbuf *b, size_t extra)
{
	/* +1 keeps room for the terminating NUL of vbuf_str(). */
	b->data = xgrow(b->data, &b->cap, b->len + extra + 1, 1);
}

void
vbuf_append(vbuf *b, const void *p, size_t n)
{
	vbuf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
vbuf_append_str(vbuf *b, const char *s)
{
	vbuf_append(b, s, strlen(s));
}

void
vbuf_append_byte(vbuf *b, char c)
{
	vbuf_append(b, &c, 1);
}

void
vbuf_printf(vbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	vbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
vbuf_consume(vbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void
vbuf_reset(vbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
vbuf_free(vbuf *b)
{
	xfree(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *
vbuf_str(vbuf *b)
{
	if (b->data == NULL)
		vbuf_reserve(b, 0);
	b->data[b->len] = '\0';
	return b->data;
}

char *
vbuf_take(vbuf *b)
{
	char *s;

	vbuf_str(b);
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

int
vbuf_read_file(vbuf *b, const char *path, size_t max, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		vbuf_append(b, chunk, n);
		if (b->len > max)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}
