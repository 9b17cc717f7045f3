/*
 * json_in - parse untrusted JSON and say where it is wrong.
 *
 * The jsonpos scan costs a pass over the text and memory for every path,
 * so it is only done when an error needs a line and column.
 */
#include "reports/json_in.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/util/xalloc.h"

int
rpt_jin_read_file(const char *path, size_t max, vbuf *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		vbuf_append(out, chunk, n);
		if (out->len > max)
			break;	/* the parser names the limit */
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int
rpt_jin_parse(rpt_jin *j, const char *name, const char *text, size_t len, size_t max,
    const char *what, char *err, size_t errlen)
{
	const char *end = NULL;
	char *copy;

	memset(j, 0, sizeof(*j));
	j->name = name;
	j->text = text;
	j->len = len;
	j->err = err;
	j->errlen = errlen;
	if (len > max) {
		snprintf(err, errlen, "%s:1:1: $: expected %s of at most %zu bytes, got %zu",
		    name, what, max, len);
		return -1;
	}
	/* A NUL after the text makes cJSON stop at offset len when the text
	 * ends too soon, so the error points at the end of the file. */
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	j->root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 0);
	end = end ? text + (end - copy) : NULL;
	xfree(copy);
	if (j->root == NULL) {
		size_t off = end ? (size_t)(end - text) : 0;
		char near[40];
		size_t n = 0;
		int line, col;

		if (off > len)
			off = len;
		jsonpos_offset_to_lc(text, len, off, &line, &col);
		for (size_t i = off; i < len && n + 1 < sizeof(near) && text[i] != '\n'; i++)
			near[n++] = isprint((unsigned char)text[i]) ? text[i] : '?';
		near[n] = '\0';
		snprintf(err, errlen, "%s:%d:%d: expected valid JSON, %s%s%s", name, line, col,
		    off >= len ? "got the end of the file" : "got \"", off >= len ? "" : near,
		    off >= len ? "" : "\"");
		return -1;
	}
	for (const char *t = end; t && t < text + len; t++) {
		if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n') {
			int line, col;

			jsonpos_offset_to_lc(text, len, (size_t)(t - text), &line, &col);
			snprintf(err, errlen, "%s:%d:%d: expected the end of the file after the "
			    "JSON value, got more", name, line, col);
			rpt_jin_free(j);
			return -1;
		}
	}
	return 0;
}

void
rpt_jin_free(rpt_jin *j)
{
	cJSON_Delete(j->root);
	j->root = NULL;
	if (j->have_jp)
		jsonpos_free(&j->jp);
	j->have_jp = 0;
}

int
rpt_jin_fail(rpt_jin *j, const char *path, const char *fmt, ...)
{
	char msg[768];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!j->have_jp) {
		jsonpos_build(&j->jp, j->text, j->len);
		j->have_jp = 1;
	}
	jsonpos_find(&j->jp, path, &line, &col);
	snprintf(j->err, j->errlen, "%s:%d:%d: %s: %s", j->name, line, col, path, msg);
	return -1;
}

int
rpt_jin_expected(rpt_jin *j, const char *path, const char *what, const cJSON *v)
{
	char got[64];

	if (v == NULL) {
		snprintf(got, sizeof(got), "nothing");
	} else if (cJSON_IsString(v)) {
		size_t k = 0;

		got[k++] = '"';
		for (const char *s = v->valuestring; *s && k + 6 < sizeof(got); s++)
			got[k++] = isprint((unsigned char)*s) && *s != '"' && *s != '\\' ? *s : '?';
		if (strlen(v->valuestring) > k - 1)
			got[k++] = '.', got[k++] = '.', got[k++] = '.';
		got[k++] = '"';
		got[k] = '\0';
	} else if (cJSON_IsBool(v)) {
		snprintf(got, sizeof(got), "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(got, sizeof(got), "null");
	} else if (cJSON_IsNumber(v)) {
		snprintf(got, sizeof(got), "%.17g", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		snprintf(got, sizeof(got), "an array");
	} else {
		snprintf(got, sizeof(got), "an object");
	}
	return rpt_jin_fail(j, path, "expected %s, got %s", what, got);
}

char *
rpt_jin_key(const char *parent, const char *key)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_key(&b, key);
	return vbuf_take(&b);
}

char *
rpt_jin_index(const char *parent, size_t i)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_index(&b, i);
	return vbuf_take(&b);
}
