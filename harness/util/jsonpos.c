#include "harness/util/jsonpos.h"

#include <stdarg.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

/* Every path is stored whole, so a deep or long-keyed text would make
 * them quadratic in its size (a 1 MB key over 1000 values: 1 GB). A path
 * longer than HARNESS_JSON_PATH_MAX is not recorded, and recording stops once the
 * paths fill HARNESS_JSON_PATHS_MAX; such values are then not found (1:1). */

/* A cursor over the text that knows its line and column. */
typedef struct jp_scan {
	const char *t;
	size_t len;
	size_t p;
	int line;
	int col;
} jp_scan;

/* An open object or array: its kind, the element count so far and the
 * length of its own path, to cut back to before each member. */
typedef struct jp_frame {
	char kind;
	size_t index;
	size_t base;
} jp_frame;

/* Paths are gathered in one arena and entries hold offsets until the end,
 * because the arena moves while it grows. */
typedef struct jp_build {
	jsonpos *jp;
	vbuf arena;
	size_t *off;
	size_t noff;
	size_t offcap;
} jp_build;

static void
jp_advance(jp_scan *s)
{
	if (s->p >= s->len)
		return;
	if (s->t[s->p] == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	s->p++;
}

static int
jp_peek(const jp_scan *s)
{
	return s->p < s->len ? (unsigned char)s->t[s->p] : -1;
}

static void
jp_skip_ws(jp_scan *s)
{
	int c;

	while ((c = jp_peek(s)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		jp_advance(s);
}

static void
jp_skip_string(jp_scan *s)
{
	int c;

	jp_advance(s);	/* opening quote */
	while ((c = jp_peek(s)) != -1) {
		jp_advance(s);
		if (c == '"')
			return;
		if (c == '\\')
			jp_advance(s);
	}
}

static int
jp_hex4(const char *p, size_t avail, unsigned *out)
{
	unsigned v = 0;

	if (avail < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void
jp_utf8(vbuf *out, unsigned cp)
{
	if (cp < 0x80) {
		vbuf_append_byte(out, (char)cp);
	} else if (cp < 0x800) {
		vbuf_append_byte(out, (char)(0xc0 | (cp >> 6)));
		vbuf_append_byte(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		vbuf_append_byte(out, (char)(0xe0 | (cp >> 12)));
		vbuf_append_byte(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		vbuf_append_byte(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		vbuf_append_byte(out, (char)(0xf0 | (cp >> 18)));
		vbuf_append_byte(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		vbuf_append_byte(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		vbuf_append_byte(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decodes the string at the cursor the way cJSON does, so that a key
 * rendered from cJSON's copy gives the same path. */
static void
jp_read_key(jp_scan *s, vbuf *key)
{
	int c;

	vbuf_reset(key);
	jp_advance(s);
	while ((c = jp_peek(s)) != -1 && c != '"') {
		if (c != '\\') {
			vbuf_append_byte(key, (char)c);
			jp_advance(s);
			continue;
		}
		jp_advance(s);
		c = jp_peek(s);
		jp_advance(s);
		switch (c) {
		case 'b': vbuf_append_byte(key, '\b'); break;
		case 'f': vbuf_append_byte(key, '\f'); break;
		case 'n': vbuf_append_byte(key, '\n'); break;
		case 'r': vbuf_append_byte(key, '\r'); break;
		case 't': vbuf_append_byte(key, '\t'); break;
		case 'u': {
			unsigned cp, lo;

			if (jp_hex4(s->t + s->p, s->len - s->p, &cp) != 0)
				break;
			for (int i = 0; i < 4; i++)
				jp_advance(s);
			if (cp >= 0xd800 && cp <= 0xdbff && s->len - s->p >= 6 &&
			    s->t[s->p] == '\\' && s->t[s->p + 1] == 'u' &&
			    jp_hex4(s->t + s->p + 2, s->len - s->p - 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				for (int i = 0; i < 6; i++)
					jp_advance(s);
				cp = 0x10000 + (((cp & 0x3ff) << 10) | (lo & 0x3ff));
			}
			jp_utf8(key, cp);
			break;
		}
		case -1:
			break;
		default:	/* '"', '\\', '/' */
			vbuf_append_byte(key, (char)c);
			break;
		}
	}
	jp_advance(s);	/* closing quote */
}

static void
jp_record(jp_build *b, const vbuf *path, int line, int col)
{
	jsonpos *jp = b->jp;

	if (path->len > HARNESS_JSON_PATH_MAX || b->arena.len + path->len + 1 > HARNESS_JSON_PATHS_MAX)
		return;
	jp->e = xgrow(jp->e, &jp->cap, jp->n + 1, sizeof(*jp->e));
	b->off = xgrow(b->off, &b->offcap, b->noff + 1, sizeof(*b->off));
	b->off[b->noff++] = b->arena.len;
	vbuf_append(&b->arena, path->data, path->len + 1);	/* with its NUL */
	jp->e[jp->n].path = NULL;
	jp->e[jp->n].line = line;
	jp->e[jp->n].col = col;
	jp->n++;
}

static void
jp_cut(vbuf *path, size_t len)
{
	path->len = len;
	path->data[len] = '\0';
}

static int
jp_entry_cmp(const void *a, const void *b)
{
	const jsonpos_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	/* Same path (a repeated key): keep text order, first one first. */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

void
jsonpos_build(jsonpos *jp, const char *text, size_t len)
{
	jp_scan s = { text, len, 0, 1, 1 };
	jp_build b = { jp, VBUF_INIT, NULL, 0, 0 };
	jp_frame *stack = NULL;
	size_t depth = 0, stackcap = 0;
	vbuf path = VBUF_INIT, key = VBUF_INIT;
	int c;

	memset(jp, 0, sizeof(*jp));
	vbuf_append_str(&path, "$");
	/* cJSON skips a UTF-8 byte order mark; so must we, or the whole file
	 * would read as one bad token and every position be lost. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		for (int i = 0; i < 3; i++)
			jp_advance(&s);

	/* A small state machine instead of recursion: depth costs heap, not
	 * stack, whatever the input. */
	for (;;) {
		/* A value starts here. */
		jp_skip_ws(&s);
		if ((c = jp_peek(&s)) == -1)
			break;
		jp_record(&b, &path, s.line, s.col);
		if (c == '{' || c == '[') {
			jp_advance(&s);
			stack = xgrow(stack, &stackcap, depth + 1, sizeof(*stack));
			stack[depth].kind = (char)c;
			stack[depth].index = 0;
			stack[depth].base = path.len;
			depth++;
			jp_skip_ws(&s);
			c = jp_peek(&s);
			if (c == '}' || c == ']') {
				jp_advance(&s);
				depth--;
				goto after_value;
			}
			if (stack[depth - 1].kind == '[') {
				jsonpos_path_index(&path, 0);
				continue;
			}
			goto member;
		}
		if (c == '"') {
			jp_skip_string(&s);
		} else {
			/* number, true, false, null */
			jp_advance(&s);
			while ((c = jp_peek(&s)) != -1 && c != ',' && c != ']' && c != '}' &&
			    c != ' ' && c != '\t' && c != '\n' && c != '\r')
				jp_advance(&s);
		}
after_value:
		if (depth == 0)
			break;
		jp_cut(&path, stack[depth - 1].base);
		jp_skip_ws(&s);
		c = jp_peek(&s);
		if (c == ',') {
			jp_advance(&s);
			if (stack[depth - 1].kind == '[') {
				jsonpos_path_index(&path, ++stack[depth - 1].index);
				continue;
			}
			goto member;
		}
		if (c == '}' || c == ']') {
			jp_advance(&s);
			depth--;
			goto after_value;
		}
		break;	/* not JSON after all: keep what we have */
member:
		jp_skip_ws(&s);
		if (jp_peek(&s) != '"')
			break;
		jp_read_key(&s, &key);
		jsonpos_path_key(&path, key.data ? vbuf_str(&key) : "");
		jp_skip_ws(&s);
		if (jp_peek(&s) == ':')
			jp_advance(&s);
	}

	jp->arena = vbuf_take(&b.arena);
	for (size_t i = 0; i < jp->n; i++)
		jp->e[i].path = jp->arena + b.off[i];
	if (jp->n > 1)
		qsort(jp->e, jp->n, sizeof(*jp->e), jp_entry_cmp);
	xfree(b.off);
	xfree(stack);
	vbuf_free(&path);
	vbuf_free(&key);
}

void
jsonpos_free(jsonpos *jp)
{
	if (jp == NULL)
		return;
	xfree(jp->e);
	xfree(jp->arena);
	memset(jp, 0, sizeof(*jp));
}

int
jsonpos_find(const jsonpos *jp, const char *path, int *line, int *col)
{
	size_t lo = 0, hi = jp->n;

	/* Lower bound, so that the first of repeated paths is found. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(jp->e[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < jp->n && strcmp(jp->e[lo].path, path) == 0) {
		*line = jp->e[lo].line;
		*col = jp->e[lo].col;
		return 0;
	}
	*line = 1;
	*col = 1;
	return -1;
}

void
jsonpos_offset_to_lc(const char *text, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

void
jsonpos_path_key(vbuf *path, const char *key)
{
	const unsigned char *k = (const unsigned char *)key;
	int plain = *k != '\0';

	for (; *k && plain; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		    (*k >= '0' && *k <= '9') || *k == '_'))
			plain = 0;
	if (plain) {
		vbuf_append_byte(path, '.');
		vbuf_append_str(path, key);
		return;
	}
	vbuf_append_str(path, "[\"");
	for (k = (const unsigned char *)key; *k; k++) {
		if (*k == '"' || *k == '\\')
			vbuf_printf(path, "\\%c", *k);
		else if (*k < 0x20 || *k == 0x7f)
			vbuf_printf(path, "\\x%02x", *k);
		else
			vbuf_append_byte(path, (char)*k);
	}
	vbuf_append_str(path, "\"]");
}

void
jsonpos_path_index(vbuf *path, size_t i)
{
	vbuf_printf(path, "[%zu]", i);
}

void
jsonpos_describe(const cJSON *v, char *out, size_t n)
{
	if (v == NULL) {
		snprintf(out, n, "nothing");
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t len = strlen(s);
		char q[48];
		size_t i, j = 0;

		for (i = 0; i < len && j + 5 < sizeof(q); i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
				snprintf(q + j, sizeof(q) - j, "\\x%02x", c);
				j += 4;
			} else {
				q[j++] = (char)c;
			}
		}
		q[j] = '\0';
		snprintf(out, n, "\"%s%s\"", q, i < len ? "..." : "");
	} else if (cJSON_IsBool(v)) {
		snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(out, n, "null");
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, n, "%.17g", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		snprintf(out, n, "an array");
	} else if (cJSON_IsObject(v)) {
		snprintf(out, n, "an object");
	} else {
		snprintf(out, n, "an invalid value");
	}
}

char *
jsonpos_child_key(const char *parent, const char *key)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_key(&b, key);
	return vbuf_take(&b);
}

char *
jsonpos_child_index(const char *parent, size_t i)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_index(&b, i);
	return vbuf_take(&b);
}

int
jsonpos_fail(const jsonpos *jp, const char *name, const char *path, char *err, size_t errlen,
    const char *fmt, ...)
{
	char msg[768];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonpos_find(jp, path, &line, &col);
	snprintf(err, errlen, "%s:%d:%d: %s: %s", name, line, col, path, msg);
	return -1;
}

int
jsonpos_check_keys(const jsonpos *jp, const char *name, const cJSON *obj, const char *path,
    const char *const *keys, char *err, size_t errlen)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t i;

		for (i = 0; keys[i]; i++)
			if (strcmp(keys[i], m->string) == 0)
				break;
		if (keys[i] == NULL) {
			vbuf want = VBUF_INIT;
			char *p = jsonpos_child_key(path, m->string);
			char got[96];

			for (i = 0; keys[i]; i++)
				vbuf_printf(&want, "%s\"%s\"", i ? ", " : "", keys[i]);
			jsonpos_describe(&(cJSON){ .type = cJSON_String, .valuestring = m->string }, got,
			    sizeof(got));
			jsonpos_fail(jp, name, p, err, errlen, "unknown key %s (expected one of %s)", got,
			    vbuf_str(&want));
			vbuf_free(&want);
			xfree(p);
			return -1;
		}
		for (const cJSON *o = obj->child; o != m; o = o->next)
			if (strcmp(o->string, m->string) == 0) {
				char *p = jsonpos_child_key(path, m->string);

				jsonpos_fail(jp, name, p, err, errlen, "key \"%s\" appears twice in one "
				    "object", m->string);
				xfree(p);
				return -1;
			}
	}
	return 0;
}
