/*
 * scenario - JSON scenario files compiled into steps (docs/scenarios.md).
 *
 * The loader walks the cJSON tree once, checking every member against the
 * keys its object may hold, and fills the compiled scenario. The first
 * problem stops the load; its message names FILE:LINE:COL (from jsonpos),
 * the JSON path, what was expected and what was found.
 */
#include "harness/scenario/scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "harness/check/catalog.h"
#include "harness/scenario/relay.h"
#include "harness/smtp/command.h"
#include "harness/util/harness_limits.h"
#include "harness/util/jsonpos.h"
#include "harness/util/xalloc.h"

/* Most bytes one template may expand to: a ${repeat} may not ask for more
 * than a session could record (HARNESS_STREAM_MAX), like data "generate":
 * HARNESS_EXPAND_MAX. */

/* glibc's regcomp copies a repeated atom or group once per repetition and
 * keeps, for every node, the set of nodes reachable without input: memory
 * grows with the square of the expanded size where copies are optional
 * ("(a?){10000}" takes 7 GB and 24 s). So the expanded size of one
 * expression is bounded, and the sum of the squares over a scenario (a
 * 4 MB file holds many expressions). At these bounds one expression
 * compiles in under 0.2 s and 10 MB, a whole scenario's in a few seconds
 * (HARNESS_REGEX_EXPANDED_MAX, HARNESS_REGEX_BUDGET). */

const char *const scn_builtin_vars[] = {
	"helo", "from", "rcpt", "rcpt2", "bad_rcpt", "domain",
	"target_host", "target_port", "token", NULL
};

int
scn_var_builtin(const char *name)
{
	for (size_t i = 0; scn_builtin_vars[i]; i++)
		if (strcmp(scn_builtin_vars[i], name) == 0)
			return 1;
	return 0;
}

/* ---- the loader's state ------------------------------------------------ */

typedef struct ld {
	const char *name;
	const char *text;
	size_t len;
	jsonpos jp;
	char *err;
	size_t errlen;
	scn_scenario *s;
	char **names;		/* variables a template may name at this point */
	size_t nnames;
	size_t namescap;
	unsigned long long regex_cost;	/* sum of squared expanded sizes so far */
} ld;

/* A child path: parent plus ".key" or "[i]"; caller frees. */
static char *
ld_key(const char *parent, const char *key)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_key(&b, key);
	return vbuf_take(&b);
}

static char *
ld_index(const char *parent, size_t i)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_index(&b, i);
	return vbuf_take(&b);
}

/* Writes "NAME:LINE:COL: PATH: message" and returns -1. */
static int __attribute__((format(printf, 3, 4)))
ld_fail(ld *l, const char *path, const char *fmt, ...)
{
	char msg[768];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonpos_find(&l->jp, path, &line, &col);
	snprintf(l->err, l->errlen, "%s:%d:%d: %s: %s", l->name, line, col, path, msg);
	return -1;
}

/* "expected WHAT, got VALUE" at path. */
static int
ld_expected(ld *l, const char *path, const char *what, const cJSON *v)
{
	char got[96];

	jsonpos_describe(v, got, sizeof(got));
	return ld_fail(l, path, "expected %s, got %s", what, got);
}

static void
ld_where(ld *l, const char *path, scn_where *w)
{
	w->path = xstrdup(path);
	jsonpos_find(&l->jp, path, &w->line, &w->col);
}

/* Every member of obj must be one of keys (NULL-terminated), once. */
static int
ld_keys(ld *l, const cJSON *obj, const char *path, const char *const *keys)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t i;

		for (i = 0; keys[i]; i++)
			if (strcmp(keys[i], m->string) == 0)
				break;
		if (keys[i] == NULL) {
			vbuf want = VBUF_INIT;
			char *p = ld_key(path, m->string);
			char got[96];
			int rc;

			for (i = 0; keys[i]; i++)
				vbuf_printf(&want, "%s\"%s\"", i ? ", " : "", keys[i]);
			jsonpos_describe(&(cJSON){ .type = cJSON_String, .valuestring = m->string }, got, sizeof(got));
			rc = ld_fail(l, p, "unknown key %s (expected one of %s)", got, vbuf_str(&want));
			vbuf_free(&want);
			xfree(p);
			return rc;
		}
		for (const cJSON *o = obj->child; o != m; o = o->next) {
			if (strcmp(o->string, m->string) == 0) {
				char *p = ld_key(path, m->string);
				int rc = ld_fail(l, p, "key \"%s\" appears twice in one object", m->string);

				xfree(p);
				return rc;
			}
		}
	}
	return 0;
}

/* Integer in [lo, hi]. */
static int
ld_int(ld *l, const cJSON *v, const char *path, long long lo, long long hi, long long *out)
{
	char what[96];

	snprintf(what, sizeof(what), "an integer %lld-%lld", lo, hi);
	/* Range first: converting an out-of-range double (1e300, inf) to an
	 * integer is undefined behaviour. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return ld_expected(l, path, what, v);
	*out = (long long)v->valuedouble;
	return 0;
}

static int
ld_ms(ld *l, const cJSON *obj, const char *key, const char *path, uint32_t lo, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	long long n;
	char *p;
	int rc;

	if (v == NULL)
		return 0;
	p = ld_key(path, key);
	rc = ld_int(l, v, p, lo, HARNESS_STEP_WAIT_MAX, &n);
	xfree(p);
	if (rc == 0)
		*out = (uint32_t)n;
	return rc;
}

/* A "comment" member, where obj has one, must be a string. */
static int
ld_comment(ld *l, const cJSON *obj, const char *path)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "comment");
	char *p;
	int rc;

	if (v == NULL || cJSON_IsString(v))
		return 0;
	p = ld_key(path, "comment");
	rc = ld_expected(l, p, "a string", v);
	xfree(p);
	return rc;
}

static int
ld_string(ld *l, const cJSON *v, const char *path, const char *what)
{
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return ld_expected(l, path, what, v);
	return 0;
}

static int
ld_ident(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static int
ld_catalog_shaped(const char *s)
{
	if (strncmp(s, "smuggle.", 8) == 0)
		return 1;
	if (strncmp(s, "rfc", 3) != 0 || !isdigit((unsigned char)s[3]))
		return 0;
	for (s += 3; isdigit((unsigned char)*s); s++)
		;
	return *s == '.';
}

/* A catalog id that must exist. */
static int
ld_check_id(ld *l, const cJSON *v, const char *path, char **out)
{
	if (ld_string(l, v, path, "a catalog id such as \"rfc5321.4.2.1.multiline-format\"") != 0)
		return -1;
	if (chk_catalog_find(v->valuestring) == NULL)
		return ld_fail(l, path, "expected a catalog id (see `smtp-harness catalog`), "
		    "got \"%s\", which the catalog does not hold", v->valuestring);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* ESMTP keyword syntax, RFC 5321 §4.1.1.1: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). */
static int
ld_keyword_ok(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-'))
			return 0;
	return 1;
}

/* A `requires` entry: "KEYWORD", "!KEYWORD" (must not be advertised), or
 * "KEYWORD PARAM" (advertised with PARAM among its parameters; "#" is any
 * decimal number other than 0). */
static int
ld_requirement_ok(const char *s)
{
	const char *sp;
	char kw[128];

	if (*s == '!')
		return strchr(s, ' ') == NULL && ld_keyword_ok(s + 1);
	sp = strchr(s, ' ');
	if (sp == NULL)
		return ld_keyword_ok(s);
	if ((size_t)(sp - s) >= sizeof(kw) || sp[1] == '\0')
		return 0;
	memcpy(kw, s, (size_t)(sp - s));
	kw[sp - s] = '\0';
	for (const char *p = sp + 1; *p; p++)
		if (*p <= ' ' || *p > '~')
			return 0;
	return ld_keyword_ok(kw);
}

/* A keyword or list of keywords, upper-cased; with `requirements`, the
 * forms of ld_requirement_ok. */
static int
ld_keywords_as(ld *l, const cJSON *v, const char *path, char ***out, size_t *nout,
    int requirements);

static int
ld_keywords(ld *l, const cJSON *v, const char *path, char ***out, size_t *nout)
{
	return ld_keywords_as(l, v, path, out, nout, 0);
}

static int
ld_keywords_as(ld *l, const cJSON *v, const char *path, char ***out, size_t *nout,
    int requirements)
{
	const char *what = requirements ? "an EHLO keyword such as \"PIPELINING\" (or \"!KEYWORD\", "
	    "\"KEYWORD PARAM\"), or an array of them" :
	    "an EHLO keyword such as \"PIPELINING\", or an array of them";
	size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
	/* Walk the children: cJSON_GetArrayItem is linear, so indexing each
	 * element would be quadratic on a long array. */
	const cJSON *k = cJSON_IsArray(v) ? v->child : v;

	if (!cJSON_IsArray(v) && !cJSON_IsString(v))
		return ld_expected(l, path, what, v);
	if (cJSON_IsArray(v) && n == 0)
		return ld_expected(l, path, what, v);
	*out = xcalloc(n, sizeof(char *));
	*nout = 0;
	for (size_t i = 0; i < n; i++, k = k->next) {
		char *p = cJSON_IsArray(v) ? ld_index(path, i) : xstrdup(path);
		int bad = !cJSON_IsString(k) || !(requirements ? ld_requirement_ok(k->valuestring) :
		    ld_keyword_ok(k->valuestring));

		if (bad) {
			ld_expected(l, p, requirements ? "an EHLO keyword (letters, digits and '-'), "
			    "\"!KEYWORD\", or \"KEYWORD PARAM\"" :
			    "an EHLO keyword (letters, digits and '-')", k);
			xfree(p);
			return -1;
		}
		xfree(p);
		(*out)[i] = xstrdup(k->valuestring);
		for (char *c = (*out)[i]; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		(*nout)++;
	}
	return 0;
}

/* An int or a non-empty array of ints, each in [lo, hi]. */
static int
ld_ints(ld *l, const cJSON *v, const char *path, int lo, int hi, int **out, size_t *nout)
{
	size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
	const cJSON *e = cJSON_IsArray(v) ? v->child : v;	/* see ld_keywords */
	char what[96];

	snprintf(what, sizeof(what), "an integer %d-%d or a non-empty array of them", lo, hi);
	if (!cJSON_IsArray(v) && !cJSON_IsNumber(v))
		return ld_expected(l, path, what, v);
	if (n == 0)
		return ld_expected(l, path, what, v);
	*out = xcalloc(n, sizeof(int));
	*nout = 0;
	for (size_t i = 0; i < n; i++, e = e->next) {
		char *p = cJSON_IsArray(v) ? ld_index(path, i) : xstrdup(path);
		long long x;
		int rc = ld_int(l, e, p, lo, hi, &x);

		xfree(p);
		if (rc != 0)
			return -1;
		(*out)[(*nout)++] = (int)x;
	}
	return 0;
}

/* Saturating a + b and a * b, both at most lim + 1. */
static unsigned long long
ld_sat(unsigned long long a, unsigned long long b, int mul, unsigned long long lim)
{
	if (a > lim)
		a = lim + 1;
	if (b > lim)
		b = lim + 1;
	a = mul ? a * b : a + b;
	return a > lim ? lim + 1 : a;
}

/*
 * An upper estimate of the size of an extended regular expression once
 * regcomp has expanded its repetitions: every atom, operator and group
 * counts one, "x{n,m}" counts x max(n, m) times ({n,} n + 1 times), "x+"
 * twice, and a repetition of "x*" copies the "*" too. Saturates above
 * lim. Syntax errors are left for regcomp to report.
 */
static unsigned long long
ld_regex_expanded(const char *s, unsigned long long lim)
{
	unsigned long long *outer = xcalloc(strlen(s) + 1, sizeof(*outer));
	unsigned long long cur = 0, last = 0;
	size_t depth = 0;

	for (const char *c = s; *c; c++) {
		switch (*c) {
		case '(':
			outer[depth++] = cur;
			cur = last = 0;
			continue;
		case ')':
			if (depth == 0)
				break;
			last = ld_sat(cur, 1, 0, lim);
			cur = ld_sat(outer[--depth], last, 0, lim);
			continue;
		case '|':
			cur = ld_sat(cur, 1, 0, lim);
			last = 0;
			continue;
		case '*':
		case '?':
			/* a repetition after this one copies the operator too */
			cur = ld_sat(cur, 1, 0, lim);
			last = ld_sat(last, 1, 0, lim);
			continue;
		case '+':
			/* x+ is x x* */
			cur = ld_sat(cur, ld_sat(last, 1, 0, lim), 0, lim);
			last = ld_sat(ld_sat(last, 2, 1, lim), 1, 0, lim);
			continue;
		case '{': {
			unsigned long long n = 0, m;
			const char *q = c + 1;
			char *end;

			if (!(isdigit((unsigned char)q[0]) || (q[0] == ',' && isdigit((unsigned char)q[1]))))
				break;
			errno = 0;
			if (*q != ',') {
				n = strtoull(q, &end, 10);
				q = end;
			}
			m = n;
			if (*q == ',' && isdigit((unsigned char)q[1]))
				m = strtoull(q + 1, &end, 10);
			else if (*q == ',')
				m = n + 1;
			if (errno == ERANGE)
				m = lim + 1;
			if (m < n)
				m = n;
			/* the atom is there once already */
			if (m > 1)
				cur = ld_sat(cur, ld_sat(last, m - 1, 1, lim), 0, lim);
			last = ld_sat(last, m, 1, lim);
			if ((q = strchr(c, '}')) != NULL)
				c = q;
			continue;
		}
		case '\\':
			if (c[1])
				c++;
			break;
		case '[': {
			/* a bracket expression is one atom: skip to its ']' */
			const char *q = c + 1;

			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (*q == '[' && (q[1] == '.' || q[1] == ':' || q[1] == '=')) {
					const char *e = strchr(q + 2, q[1]);

					while (e && e[1] != ']')
						e = strchr(e + 1, q[1]);
					q = e ? e + 2 : q + strlen(q);
					continue;
				}
				q++;
			}
			c = *q ? q : q - 1;
			break;
		}
		default:
			break;
		}
		/* an atom */
		last = 1;
		cur = ld_sat(cur, 1, 0, lim);
	}
	while (depth > 0)
		cur = ld_sat(cur, outer[--depth], 0, lim);
	xfree(outer);
	return cur;
}

/*
 * Regular expressions come from files other people write and are run on
 * bytes a hostile peer sends: bound their size and their repetition
 * counts, so that regcomp cannot be made to build an enormous automaton.
 */
static int
ld_regex(ld *l, const cJSON *v, const char *path, regex_t *re, char **src)
{
	unsigned long long product = 1;
	const char *s;
	int rc;

	if (!cJSON_IsString(v))
		return ld_expected(l, path, "a POSIX extended regular expression", v);
	s = v->valuestring;
	if (strlen(s) > HARNESS_REGEX_MAX)
		return ld_fail(l, path, "expected a regular expression of at most %d bytes, got %zu",
		    HARNESS_REGEX_MAX, strlen(s));
	for (const char *c = s; *c; c++) {
		unsigned long long a = 0, b;
		const char *q = c + 1;
		char *end;

		if (*c == '\\' && c[1]) {
			/* glibc honours back-references even in EREs, and they
			 * make matching a hostile reply exponential */
			if (c[1] >= '1' && c[1] <= '9')
				return ld_fail(l, path, "expected a regular expression without "
				    "back-references, got \\%c at offset %td", c[1], c - s);
			c++;
			continue;
		}
		/* {n}, {n,}, {n,m}, and {,m}, which glibc reads as {0,m} */
		if (*c != '{' || !(isdigit((unsigned char)c[1]) ||
		    (c[1] == ',' && isdigit((unsigned char)c[2]))))
			continue;
		errno = 0;
		if (*q != ',') {
			a = strtoull(q, &end, 10);
			q = end;
		}
		b = a;
		if (*q == ',' && isdigit((unsigned char)q[1]))
			b = strtoull(q + 1, &end, 10);
		if (errno == ERANGE || b > HARNESS_REGEX_REPEAT_MAX)
			b = HARNESS_REGEX_REPEAT_MAX + 1ULL;
		product *= b ? b : 1;
		if (product > HARNESS_REGEX_REPEAT_MAX)
			return ld_fail(l, path, "expected repetition bounds whose product is at "
			    "most %d, got more", HARNESS_REGEX_REPEAT_MAX);
	}
	{
		unsigned long long size = ld_regex_expanded(s, HARNESS_REGEX_EXPANDED_MAX);

		if (size > HARNESS_REGEX_EXPANDED_MAX)
			return ld_fail(l, path, "expected a regular expression of at most %d atoms "
			    "once its repetitions are expanded, got more", HARNESS_REGEX_EXPANDED_MAX);
		l->regex_cost += size * size;
		if (l->regex_cost > HARNESS_REGEX_BUDGET)
			return ld_fail(l, path, "expected regular expressions that fit the scenario's "
			    "budget (the squares of their expanded sizes add up to at most %llu), "
			    "got more", HARNESS_REGEX_BUDGET);
	}
	rc = regcomp(re, s, REG_EXTENDED);
	if (rc != 0) {
		char why[160];

		regerror(rc, re, why, sizeof(why));
		return ld_fail(l, path, "expected a POSIX extended regular expression, got \"%s\": %s",
		    s, why);
	}
	if (src)
		*src = xstrdup(s);
	return 0;
}

/* ---- templates --------------------------------------------------------- */

static int
ld_name_known(const ld *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->nnames; i++)
		if (strlen(l->names[i]) == len && memcmp(l->names[i], name, len) == 0)
			return 1;
	return 0;
}

static void
ld_name_add(ld *l, const char *name)
{
	if (ld_name_known(l, name, strlen(name)))
		return;
	l->names = xgrow(l->names, &l->namescap, l->nnames + 1, sizeof(char *));
	l->names[l->nnames++] = xstrdup(name);
}

/* ${base64:NAME} and ${sasl_plain:USER:PASS}: the arguments are names of
 * variables in scope, one for base64, two for sasl_plain. */
static int
ld_template_fn(ld *l, const char *path, const char *name, size_t len, ptrdiff_t off)
{
	int plain = name[0] == 's';
	const char *arg = name + (plain ? 11 : 7);
	const char *end = name + len;
	int nargs = 0;

	while (arg <= end) {
		const char *colon = memchr(arg, ':', (size_t)(end - arg));
		const char *stop = colon ? colon : end;
		char nm[64];

		if (stop == arg || (size_t)(stop - arg) >= sizeof(nm))
			break;
		memcpy(nm, arg, (size_t)(stop - arg));
		nm[stop - arg] = '\0';
		if (!ld_ident(nm))
			break;
		if (!ld_name_known(l, nm, strlen(nm)))
			return ld_fail(l, path, "unknown variable \"%s\" in ${%s...} at offset %td "
			    "(declare it in \"vars\")", nm, plain ? "sasl_plain:" : "base64:", off);
		nargs++;
		arg = stop + 1;
	}
	if (arg <= end || nargs != (plain ? 2 : 1))
		return ld_fail(l, path, "expected %s at offset %td", plain ?
		    "${sasl_plain:USER:PASS} (two variable names)" : "${base64:NAME} (a variable name)",
		    off);
	return 0;
}

/* Checks the ${...} references of a template; raw: escapes must decode. */
static int
ld_template(ld *l, const cJSON *v, const char *path, int raw, int one_line, char **out)
{
	unsigned long long size;
	const char *s;

	if (!cJSON_IsString(v))
		return ld_expected(l, path, raw ? "a string (escapes \\r \\n \\t \\0 \\xHH \\\\)" :
		    "a string", v);
	s = v->valuestring;
	size = strlen(s);
	if (one_line && strpbrk(s, "\r\n"))
		return ld_fail(l, path, "expected one command line without CR or LF (the harness "
		    "appends CRLF; use \"raw\" for line ends of your own), got %zu bytes with a line end",
		    strlen(s));
	for (const char *c = s; (c = strstr(c, "${")) != NULL; ) {
		const char *end = strchr(c, '}');
		const char *name = c + 2;
		size_t len;

		if (end == NULL)
			return ld_fail(l, path, "expected \"}\" to close \"${\" at offset %td", c - s);
		len = (size_t)(end - name);
		if (len > 7 && strncmp(name, "repeat:", 7) == 0) {
			const char *colon = memchr(name + 7, ':', len - 7);
			char num[16];
			char *e;
			unsigned long long n;

			if (colon == NULL || (size_t)(end - colon - 1) >= sizeof(num) ||
			    end == colon + 1)
				return ld_fail(l, path, "expected ${repeat:TEXT:N} at offset %td", c - s);
			memcpy(num, colon + 1, (size_t)(end - colon - 1));
			num[end - colon - 1] = '\0';
			errno = 0;
			n = strtoull(num, &e, 10);
			if (*e != '\0' || !isdigit((unsigned char)num[0]) || errno == ERANGE ||
			    n > HARNESS_REPEAT_MAX)
				return ld_fail(l, path, "expected a count 0-%d in ${repeat:TEXT:N} at "
				    "offset %td, got \"%s\"", HARNESS_REPEAT_MAX, c - s, num);
			/* TEXT is under 4 MB and N at most 10^6: no overflow */
			size += (unsigned long long)(colon - name - 7) * n;
			if (size > HARNESS_EXPAND_MAX)
				return ld_fail(l, path, "expected a template of at most %d bytes once "
				    "expanded, got more with ${repeat:TEXT:N} at offset %td",
				    HARNESS_EXPAND_MAX, c - s);
		} else if ((len > 7 && strncmp(name, "base64:", 7) == 0) ||
		    (len > 11 && strncmp(name, "sasl_plain:", 11) == 0)) {
			if (ld_template_fn(l, path, name, len, c - s) != 0)
				return -1;
		} else {
			char nm[64];

			if (len == 0 || len >= sizeof(nm))
				return ld_fail(l, path, "expected a variable name in \"${...}\" at "
				    "offset %td", c - s);
			memcpy(nm, name, len);
			nm[len] = '\0';
			if (!ld_ident(nm))
				return ld_fail(l, path, "expected a variable name in \"${...}\" at "
				    "offset %td, got \"%s\"", c - s, nm);
			if (!ld_name_known(l, name, len))
				return ld_fail(l, path, "unknown variable \"%s\" (built-in: helo, from, "
				    "rcpt, rcpt2, bad_rcpt, domain, target_host, target_port; declare "
				    "others in \"vars\" or capture them in an earlier step)", nm);
		}
		c = end + 1;
	}
	if (raw) {
		vbuf tmp = VBUF_INIT;
		char why[128];
		int rc = smtp_unescape(s, strlen(s), &tmp, why, sizeof(why));

		vbuf_free(&tmp);
		if (rc != 0)
			return ld_fail(l, path, "expected a string with valid escapes: %s", why);
	}
	*out = xstrdup(s);
	return 0;
}

/* A string or non-empty array of strings, each a template. */
static int
ld_templates(ld *l, const cJSON *v, const char *path, int raw, int one_line, char ***out,
    size_t *nout)
{
	size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;

	if (!cJSON_IsArray(v) && !cJSON_IsString(v))
		return ld_expected(l, path, "a string or a non-empty array of strings", v);
	if (n == 0)
		return ld_expected(l, path, "a string or a non-empty array of strings", v);
	if (n > HARNESS_STEPS_MAX)
		return ld_fail(l, path, "expected at most %d strings, got %zu", HARNESS_STEPS_MAX, n);
	*out = xcalloc(n, sizeof(char *));
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)i) : v;
		char *p = cJSON_IsArray(v) ? ld_index(path, i) : xstrdup(path);
		int rc = ld_template(l, e, p, raw, one_line, &(*out)[i]);

		xfree(p);
		if (rc != 0)
			return -1;
		(*nout)++;
	}
	return 0;
}

/* ---- expectations -------------------------------------------------------- */

static const char *const expect_keys[] = {
	"code", "class", "esc", "text", "text_for", "keyword", "no_keyword", "capture",
	"check", "severity", "otherwise", "comment", NULL
};
static const char *const capture_keys[] = { "var", "regex", "comment", NULL };

static int
ld_esc_ok(const char *s)
{
	/* class ["." subject ["." detail]], each 1-3 digits (RFC 3463 §2) */
	if (*s != '2' && *s != '4' && *s != '5')
		return 0;
	s++;
	for (int part = 0; *s && part < 2; part++) {
		int d = 0;

		if (*s++ != '.')
			return 0;
		while (isdigit((unsigned char)*s) && d < 4) {
			s++;
			d++;
		}
		if (d == 0 || d > 3)
			return 0;
	}
	return *s == '\0';
}

static int
ld_expect(ld *l, const cJSON *v, const char *path, const scn_step *st, scn_expect *e)
{
	const cJSON *m;
	char *p = NULL;
	int rc = 0;

	ld_where(l, path, &e->where);
	e->verdict = RPT_FAIL;
	if (cJSON_IsNumber(v)) {	/* shorthand: "recv": 250 */
		e->codes = xcalloc(1, sizeof(int));
		e->ncodes = 1;
		long long x;

		if (ld_int(l, v, path, 200, 599, &x) != 0)
			return -1;
		e->codes[0] = (int)x;
		goto resolve;
	}
	if (!cJSON_IsObject(v))
		return ld_expected(l, path, "a reply expectation: an object such as {\"code\": 250}, "
		    "or a reply code", v);
	if (ld_keys(l, v, path, expect_keys) != 0)
		return -1;
#define MEMBER(key) ((m = cJSON_GetObjectItemCaseSensitive(v, key)) != NULL && \
	(xfree(p), p = ld_key(path, key), 1))
	if (MEMBER("code") && (rc = ld_ints(l, m, p, 200, 599, &e->codes, &e->ncodes)) != 0)
		goto out;
	if (MEMBER("class") && (rc = ld_ints(l, m, p, 2, 5, &e->classes, &e->nclasses)) != 0)
		goto out;
	if (MEMBER("esc")) {
		if (!cJSON_IsString(m) || !ld_esc_ok(m->valuestring)) {
			rc = ld_expected(l, p, "an enhanced status code or prefix such as \"5.5\" or "
			    "\"2.1.0\" (RFC 3463)", m);
			goto out;
		}
		e->esc = xstrdup(m->valuestring);
	}
	if (MEMBER("text")) {
		if ((rc = ld_regex(l, m, p, &e->text_re, &e->text_src)) != 0)
			goto out;
		e->has_text_re = 1;
	}
	if (MEMBER("text_for")) {
		if ((rc = ld_ints(l, m, p, 200, 599, &e->text_for, &e->ntext_for)) != 0)
			goto out;
		if (!e->has_text_re) {
			rc = ld_fail(l, p, "expected \"text\" beside \"text_for\" (the codes whose "
			    "text it judges)");
			goto out;
		}
	}
	if (MEMBER("keyword") && (rc = ld_keywords(l, m, p, &e->keywords, &e->nkeywords)) != 0)
		goto out;
	if (MEMBER("no_keyword") && (rc = ld_keywords(l, m, p, &e->absent, &e->nabsent)) != 0)
		goto out;
	if (MEMBER("capture")) {
		const cJSON *var, *re;
		char *q;

		if (!cJSON_IsObject(m)) {
			rc = ld_expected(l, p, "an object {\"var\": NAME, \"regex\": RE}", m);
			goto out;
		}
		if ((rc = ld_keys(l, m, p, capture_keys)) != 0 || (rc = ld_comment(l, m, p)) != 0)
			goto out;
		var = cJSON_GetObjectItemCaseSensitive(m, "var");
		re = cJSON_GetObjectItemCaseSensitive(m, "regex");
		q = ld_key(p, "var");
		if (!cJSON_IsString(var) || !ld_ident(var->valuestring) ||
		    strlen(var->valuestring) >= 64) {
			rc = ld_expected(l, var ? q : p, var ? "a variable name ([A-Za-z_][A-Za-z0-9_]*, "
			    "under 64 bytes)" : "a member \"var\"", var);
			xfree(q);
			goto out;
		}
		if (scn_var_builtin(var->valuestring)) {
			rc = ld_fail(l, q, "expected a variable name of your own, got the built-in "
			    "\"%s\"", var->valuestring);
			xfree(q);
			goto out;
		}
		xfree(q);
		if (re == NULL) {
			rc = ld_expected(l, p, "a member \"regex\"", NULL);
			goto out;
		}
		q = ld_key(p, "regex");
		rc = ld_regex(l, re, q, &e->capture_re, NULL);
		if (rc == 0 && e->capture_re.re_nsub < 1) {
			regfree(&e->capture_re);
			rc = ld_fail(l, q, "expected a regular expression with a (group) to capture, "
			    "got none");
		}
		xfree(q);
		if (rc != 0)
			goto out;
		e->has_capture = 1;
		e->capture_var = xstrdup(var->valuestring);
		/* a capture is usable from the next step on: names are added
		 * after the step is loaded (ld_step) */
	}
	if (MEMBER("check") && (rc = ld_check_id(l, m, p, &e->check)) != 0)
		goto out;
	if (MEMBER("severity")) {
		int k = cJSON_IsString(m) ? chk_keyword_parse(m->valuestring) : -1;

		if (k < 0) {
			rc = ld_expected(l, p, "\"must\", \"should\" or \"may\"", m);
			goto out;
		}
		e->verdict = chk_keyword_verdict((chk_keyword)k);
	}
	if (MEMBER("otherwise")) {
		if (cJSON_IsString(m) && strcmp(m->valuestring, "skip") == 0) {
			e->skip_otherwise = 1;
		} else if (cJSON_IsString(m) && strcmp(m->valuestring, "error") == 0) {
			e->error_otherwise = 1;
		} else {
			rc = ld_expected(l, p, "\"skip\" or \"error\"", m);
			goto out;
		}
	}
	if (MEMBER("comment") && !cJSON_IsString(m)) {
		rc = ld_expected(l, p, "a string", m);
		goto out;
	}
#undef MEMBER
resolve:
	/* The check an expectation judges: its own, else its step's, else the
	 * scenario's. Its verdict: "severity", else the check's keyword. */
	if (e->check == NULL) {
		const char *c = st->check ? st->check : l->s->check;

		e->check = c ? xstrdup(c) : NULL;
	}
	if (!cJSON_IsObject(v) || !cJSON_GetObjectItemCaseSensitive(v, "severity")) {
		const chk_entry *ce = e->check ? chk_catalog_find(e->check) : NULL;

		e->verdict = ce ? chk_keyword_verdict(ce->keyword) : RPT_FAIL;
	}
out:
	xfree(p);
	return rc;
}

/* ---- steps ------------------------------------------------------------- */

static const char *const step_keys[] = {
	"send", "raw", "pipeline", "pause_ms", "data", "recv", "closed", "drop",
	"delay_ms", "timeout_ms", "quiet_ms", "check", "starttls", "comment", NULL
};
static const char *const starttls_keys[] = { "raw", "sni", "comment", NULL };
static const char *const data_keys[] = { "lines", "raw", "generate", "comment", NULL };
static const char *const closed_keys[] = { "within_ms", "check", "comment", NULL };

static int
ld_data(ld *l, const cJSON *v, const char *path, scn_step *st)
{
	const cJSON *lines, *raw, *gen;
	int n;
	char *p;
	int rc;

	if (!cJSON_IsObject(v))
		return ld_expected(l, path, "an object with one of \"lines\", \"raw\", \"generate\"", v);
	if (ld_keys(l, v, path, data_keys) != 0 || ld_comment(l, v, path) != 0)
		return -1;
	lines = cJSON_GetObjectItemCaseSensitive(v, "lines");
	raw = cJSON_GetObjectItemCaseSensitive(v, "raw");
	gen = cJSON_GetObjectItemCaseSensitive(v, "generate");
	n = (lines != NULL) + (raw != NULL) + (gen != NULL);
	if (n != 1)
		return ld_fail(l, path, "expected exactly one of \"lines\", \"raw\", \"generate\", "
		    "got %d", n);
	st->send_kind = SCN_SEND_DATA;
	if (lines) {
		p = ld_key(path, "lines");
		if (!cJSON_IsArray(lines))
			rc = ld_expected(l, p, "an array of message lines (strings without CR or LF)",
			    lines);
		else if (cJSON_GetArraySize(lines) == 0)
			rc = 0;		/* an empty message */
		else
			rc = ld_templates(l, lines, p, 0, 1, &st->sends, &st->nsends);
		xfree(p);
		return rc;
	}
	if (raw) {
		st->data_raw = 1;
		p = ld_key(path, "raw");
		st->sends = xcalloc(1, sizeof(char *));
		rc = ld_template(l, raw, p, 1, 0, &st->sends[0]);
		if (rc == 0)
			st->nsends = 1;
		xfree(p);
		return rc;
	}
	p = ld_key(path, "generate");
	{
		long long x;

		rc = ld_int(l, gen, p, 1, HARNESS_STREAM_MAX / 2, &x);
		if (rc == 0)
			st->data_generate = (uint64_t)x;
	}
	xfree(p);
	return rc;
}

/* "starttls": true, or {"raw": BYTES, "sni": NAME}: the command to send
 * (default "STARTTLS" and CRLF) and the TLS server name, both templates. */
static int
ld_starttls(ld *l, const cJSON *v, const char *path, scn_step *st)
{
	const cJSON *raw = NULL, *sni = NULL;
	char *p;
	int rc = 0;

	st->starttls = 1;
	if (cJSON_IsObject(v)) {
		if (ld_keys(l, v, path, starttls_keys) != 0 || ld_comment(l, v, path) != 0)
			return -1;
		raw = cJSON_GetObjectItemCaseSensitive(v, "raw");
		sni = cJSON_GetObjectItemCaseSensitive(v, "sni");
	} else if (!cJSON_IsTrue(v)) {
		return ld_expected(l, path, "true or an object {\"raw\": BYTES, \"sni\": NAME}", v);
	}
	st->sends = xcalloc(1, sizeof(char *));
	st->nsends = 1;
	if (raw) {
		p = ld_key(path, "raw");
		st->send_kind = SCN_SEND_RAW;
		rc = ld_template(l, raw, p, 1, 0, &st->sends[0]);
		xfree(p);
		if (rc != 0)
			return rc;
	} else {
		st->send_kind = SCN_SEND_LINES;
		st->sends[0] = xstrdup("STARTTLS");
	}
	if (sni) {
		p = ld_key(path, "sni");
		rc = ld_template(l, sni, p, 0, 1, &st->sni);
		xfree(p);
	}
	return rc;
}

/* What every step of either role begins with: its position, the
 * scenario's timeout, nothing after a step that ends the session, an
 * object of known keys. */
static int
ld_step_open(ld *l, const cJSON *v, const char *path, const char *stopper,
    const char *const *keys, scn_where *where, uint32_t *timeout_ms)
{
	ld_where(l, path, where);
	*timeout_ms = l->s->timeout_ms;
	if (stopper)
		return ld_fail(l, path, "expected no step after the step that %s: it would never run",
		    stopper);
	if (!cJSON_IsObject(v))
		return ld_expected(l, path, "a step object", v);
	if (ld_keys(l, v, path, keys) != 0 || ld_comment(l, v, path) != 0)
		return -1;
	return 0;
}

static int
ld_step(ld *l, const cJSON *v, const char *path, scn_step *st, const char **stopper)
{
	const cJSON *send, *raw, *data, *recv, *closed, *drop, *pipe, *pause, *delay, *check;
	const cJSON *tls;
	char *p = NULL;
	int rc = -1;

	if (ld_step_open(l, v, path, *stopper, step_keys, &st->where, &st->timeout_ms) != 0)
		return -1;
	tls = cJSON_GetObjectItemCaseSensitive(v, "starttls");
	send = cJSON_GetObjectItemCaseSensitive(v, "send");
	raw = cJSON_GetObjectItemCaseSensitive(v, "raw");
	data = cJSON_GetObjectItemCaseSensitive(v, "data");
	recv = cJSON_GetObjectItemCaseSensitive(v, "recv");
	closed = cJSON_GetObjectItemCaseSensitive(v, "closed");
	drop = cJSON_GetObjectItemCaseSensitive(v, "drop");
	pipe = cJSON_GetObjectItemCaseSensitive(v, "pipeline");
	pause = cJSON_GetObjectItemCaseSensitive(v, "pause_ms");
	delay = cJSON_GetObjectItemCaseSensitive(v, "delay_ms");
	check = cJSON_GetObjectItemCaseSensitive(v, "check");

	if ((send != NULL) + (raw != NULL) + (data != NULL) > 1)
		return ld_fail(l, path, "expected at most one of \"send\", \"raw\", \"data\" in a step");
	if (tls && (send || raw || data || pipe || pause || closed || drop))
		return ld_fail(l, path, "expected no \"send\", \"raw\", \"data\", \"pipeline\", "
		    "\"pause_ms\", \"closed\" or \"drop\" beside \"starttls\" (it sends its own "
		    "command; use \"starttls\": {\"raw\": ...} for other bytes)");
	if (tls && recv && cJSON_IsArray(recv) && cJSON_GetArraySize(recv) != 1) {
		p = ld_key(path, "recv");
		rc = ld_fail(l, p, "expected one reply expectation for \"starttls\" (the reply to "
		    "STARTTLS), got %d", cJSON_GetArraySize(recv));
		goto out;
	}
	if (!tls && !send && !raw && !data && !recv && !closed && !drop && !delay &&
	    !cJSON_GetObjectItemCaseSensitive(v, "quiet_ms"))
		return ld_fail(l, path, "expected a step that does something: one of \"send\", "
		    "\"raw\", \"data\", \"recv\", \"closed\", \"drop\", \"delay_ms\", "
		    "\"quiet_ms\"");
	if (closed && drop)
		return ld_fail(l, path, "expected \"closed\" or \"drop\", not both");
	if (pipe && !send) {
		p = ld_key(path, "pipeline");
		rc = ld_fail(l, p, "\"pipeline\" only applies to \"send\"");
		goto out;
	}
	if (pause && !raw) {
		p = ld_key(path, "pause_ms");
		rc = ld_fail(l, p, "\"pause_ms\" only applies to \"raw\"");
		goto out;
	}
	if (check && (rc = (p = ld_key(path, "check"), ld_check_id(l, check, p, &st->check))) != 0)
		goto out;
	if (ld_ms(l, v, "delay_ms", path, 0, &st->delay_ms) != 0 ||
	    ld_ms(l, v, "timeout_ms", path, 1, &st->timeout_ms) != 0 ||
	    ld_ms(l, v, "pause_ms", path, 0, &st->pause_ms) != 0 ||
	    ld_ms(l, v, "quiet_ms", path, 1, &st->quiet_ms) != 0)
		goto fail;
	if (pipe) {
		xfree(p);
		p = ld_key(path, "pipeline");
		if (!cJSON_IsBool(pipe)) {
			rc = ld_expected(l, p, "true or false", pipe);
			goto out;
		}
		st->pipeline = cJSON_IsTrue(pipe);
	}
	if (tls) {
		xfree(p);
		p = ld_key(path, "starttls");
		if ((rc = ld_starttls(l, tls, p, st)) != 0)
			goto out;
		if (!recv) {
			/* The reply to STARTTLS is 220 unless the step says
			 * otherwise (RFC 3207 §4). */
			cJSON *def = cJSON_CreateNumber(220);

			st->expects = xcalloc(1, sizeof(scn_expect));
			st->nexpects = 1;
			rc = ld_expect(l, def, p, st, &st->expects[0]);
			cJSON_Delete(def);
			if (rc != 0)
				goto out;
		}
	}
	if (send) {
		xfree(p);
		p = ld_key(path, "send");
		st->send_kind = SCN_SEND_LINES;
		if ((rc = ld_templates(l, send, p, 0, 1, &st->sends, &st->nsends)) != 0)
			goto out;
	}
	if (raw) {
		xfree(p);
		p = ld_key(path, "raw");
		st->send_kind = SCN_SEND_RAW;
		if ((rc = ld_templates(l, raw, p, 1, 0, &st->sends, &st->nsends)) != 0)
			goto out;
	}
	if (data) {
		xfree(p);
		p = ld_key(path, "data");
		if ((rc = ld_data(l, data, p, st)) != 0)
			goto out;
	}
	if (recv) {
		size_t n = cJSON_IsArray(recv) ? (size_t)cJSON_GetArraySize(recv) : 1;

		xfree(p);
		p = ld_key(path, "recv");
		if (cJSON_IsArray(recv) && n == 0) {
			rc = ld_expected(l, p, "a reply expectation or a non-empty array of them", recv);
			goto out;
		}
		if (n > HARNESS_STEPS_MAX) {
			rc = ld_fail(l, p, "expected at most %d replies, got %zu", HARNESS_STEPS_MAX, n);
			goto out;
		}
		st->expects = xcalloc(n, sizeof(scn_expect));
		for (size_t i = 0; i < n; i++) {
			const cJSON *e = cJSON_IsArray(recv) ? cJSON_GetArrayItem(recv, (int)i) : recv;
			char *q = cJSON_IsArray(recv) ? ld_index(p, i) : xstrdup(p);

			st->nexpects++;
			rc = ld_expect(l, e, q, st, &st->expects[i]);
			xfree(q);
			if (rc != 0)
				goto out;
		}
	}
	/* One reply per command: a lock-step "send" of N lines takes no
	 * expectation, one (applied to each line) or N; a pipelined group
	 * names the reply to each of its commands, in order. */
	if (send && st->nexpects > 1 && st->nexpects != st->nsends) {
		rc = ld_fail(l, p, "expected %zu reply expectations, one per line of \"send\" (or a "
		    "single one for all), got %zu", st->nsends, st->nexpects);
		goto out;
	}
	if (send && st->pipeline && st->nexpects != st->nsends) {
		xfree(p);
		p = ld_key(path, recv ? "recv" : "send");
		rc = ld_fail(l, p, "expected %zu reply expectations for the pipelined group, one per "
		    "command in order, got %zu", st->nsends, st->nexpects);
		goto out;
	}
	if (closed) {
		xfree(p);
		p = ld_key(path, "closed");
		st->expect_closed = 1;
		st->closed_ms = st->timeout_ms;
		if (cJSON_IsTrue(closed)) {
			;
		} else if (cJSON_IsNumber(closed)) {
			long long x;

			if ((rc = ld_int(l, closed, p, 1, HARNESS_STEP_WAIT_MAX, &x)) != 0)
				goto out;
			st->closed_ms = (uint32_t)x;
		} else if (cJSON_IsObject(closed)) {
			const cJSON *c;

			if ((rc = ld_keys(l, closed, p, closed_keys)) != 0 ||
			    (rc = ld_comment(l, closed, p)) != 0 ||
			    (rc = ld_ms(l, closed, "within_ms", p, 1, &st->closed_ms)) != 0)
				goto out;
			c = cJSON_GetObjectItemCaseSensitive(closed, "check");
			if (c) {
				char *q = ld_key(p, "check");

				rc = ld_check_id(l, c, q, &st->closed_check);
				xfree(q);
				if (rc != 0)
					goto out;
			}
		} else {
			rc = ld_expected(l, p, "true, a time in ms, or {\"within_ms\": N, \"check\": ID}",
			    closed);
			goto out;
		}
		if (st->closed_check == NULL && st->check)
			st->closed_check = xstrdup(st->check);
		*stopper = "expects the connection closed";
	}
	if (drop) {
		xfree(p);
		p = ld_key(path, "drop");
		if (cJSON_IsString(drop) && strcmp(drop->valuestring, "close") == 0) {
			st->drop = SCN_DROP_CLOSE;
		} else if (cJSON_IsString(drop) && strcmp(drop->valuestring, "reset") == 0) {
			st->drop = SCN_DROP_RESET;
		} else {
			rc = ld_expected(l, p, "\"close\" or \"reset\"", drop);
			goto out;
		}
		*stopper = "drops the connection";
	}
	/* Variables captured here are usable from the next step on. */
	for (size_t i = 0; i < st->nexpects; i++)
		if (st->expects[i].has_capture)
			ld_name_add(l, st->expects[i].capture_var);
	rc = 0;
	goto out;
fail:
	rc = -1;
out:
	xfree(p);
	return rc;
}

/* ---- server role ------------------------------------------------------- */

#define SRV_HOSTNAME	"mx.harness.test"

static const char *const srv_top_keys[] = {
	"id", "summary", "refs", "role", "timeout_ms", "deadline_ms", "check", "comment",
	"ehlo", "ehlo_tls", "message", "client", "rules", "steps", "sessions", NULL
};
static const char *const srv_step_keys[] = {
	"greet", "expect", "closed", "drop", "when", "reply", "raw_reply", "content",
	"delay_ms", "drip_ms", "timeout_ms", "optional", "repeat", "check", "starttls", "comment",
	NULL
};
static const char *const srv_expect_keys[] = { "verb", "args", "line", "comment", NULL };
static const char *const srv_message_keys[] = { "lines", "raw", "comment", NULL };
static const char *const srv_client_keys[] = { "exit", "timeout_ms", "comment", NULL };
static const char *const srv_rule_keys[] = {
	"on", "nth", "every", "chance", "reply", "raw_reply", "comment", NULL
};
static const char *const srv_default_ehlo[] = {
	"PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", NULL
};

char *
scn_server_default_reply(const scn_server *srv, const char *verb, int tls, size_t *len)
{
	vbuf b = VBUF_INIT;

	if (verb == NULL)
		vbuf_append_str(&b, "250 2.0.0 message accepted\r\n");
	else if (strcmp(verb, "EHLO") == 0) {
		char **caps = srv ? (tls ? srv->ehlo_tls : srv->ehlo) : NULL;
		size_t n = srv ? (tls ? srv->nehlo_tls : srv->nehlo) : 0;

		vbuf_printf(&b, "250%c%s\r\n", n ? '-' : ' ', SRV_HOSTNAME);
		for (size_t i = 0; i < n; i++)
			vbuf_printf(&b, "250%c%s\r\n", i + 1 < n ? '-' : ' ', caps[i]);
	} else if (strcmp(verb, "HELO") == 0)
		vbuf_append_str(&b, "250 " SRV_HOSTNAME "\r\n");
	else if (strcmp(verb, "MAIL") == 0)
		vbuf_append_str(&b, "250 2.1.0 sender ok\r\n");
	else if (strcmp(verb, "RCPT") == 0)
		vbuf_append_str(&b, "250 2.1.5 recipient ok\r\n");
	else if (strcmp(verb, "DATA") == 0)
		vbuf_append_str(&b, "354 end data with <CR><LF>.<CR><LF>\r\n");
	else if (strcmp(verb, "BDAT") == 0)
		vbuf_append_str(&b, "250 2.0.0 chunk received\r\n");
	else if (strcmp(verb, "QUIT") == 0)
		vbuf_append_str(&b, "221 2.0.0 bye\r\n");
	else if (strcmp(verb, "RSET") == 0 || strcmp(verb, "NOOP") == 0)
		vbuf_append_str(&b, "250 2.0.0 ok\r\n");
	else
		vbuf_append_str(&b, "502 5.5.1 command not implemented\r\n");
	*len = b.len;
	return vbuf_take(&b);
}

int
scn_server_has(const scn_server *srv, const char *keyword, int tls)
{
	char **caps = tls ? srv->ehlo_tls : srv->ehlo;
	size_t n = tls ? srv->nehlo_tls : srv->nehlo, kl = strlen(keyword);

	for (size_t i = 0; i < n; i++)
		if (strcspn(caps[i], " ") == kl && strncasecmp(caps[i], keyword, kl) == 0)
			return 1;
	return 0;
}

/* "reply" (a line, lines, or null) or "raw_reply" (escaped bytes) of obj. */
static int
ld_srv_reply(ld *l, const cJSON *obj, const char *path, const char *key, scn_reply *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(obj, "raw_reply");
	char *p;
	vbuf b = VBUF_INIT;
	int rc = 0;

	if (v && raw)
		return ld_fail(l, path, "expected \"%s\" or \"raw_reply\", not both", key);
	if (raw) {
		char why[128];

		p = ld_key(path, "raw_reply");
		if (!cJSON_IsString(raw) || raw->valuestring[0] == '\0')
			rc = ld_expected(l, p, "a non-empty string (escapes \\r \\n \\t \\0 \\xHH \\\\)",
			    raw);
		else if (smtp_unescape(raw->valuestring, strlen(raw->valuestring), &b, why,
		    sizeof(why)) != 0)
			rc = ld_fail(l, p, "expected a string with valid escapes: %s", why);
		xfree(p);
		if (rc != 0) {
			vbuf_free(&b);
			return rc;
		}
		r->set = 1;
		r->len = b.len;
		r->bytes = vbuf_take(&b);
		return 0;
	}
	if (v == NULL)
		return 0;
	p = ld_key(path, key);
	r->set = 1;
	if (cJSON_IsNull(v)) {
		r->silent = 1;
	} else if (cJSON_IsString(v) || (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)) {
		size_t i = 0;

		for (const cJSON *e = cJSON_IsArray(v) ? v->child : v; e; e = cJSON_IsArray(v) ?
		    e->next : NULL, i++) {
			char *q = cJSON_IsArray(v) ? ld_index(p, i) : xstrdup(p);

			if (!cJSON_IsString(e))
				rc = ld_expected(l, q, "a reply line (a string)", e);
			else if (strpbrk(e->valuestring, "\r\n"))
				rc = ld_fail(l, q, "expected one reply line without CR or LF (the harness "
				    "appends CRLF; use \"raw_reply\" for bytes of your own)");
			else if (i >= HARNESS_REPLY_LINES_MAX)
				rc = ld_fail(l, q, "expected at most %d reply lines",
				    HARNESS_REPLY_LINES_MAX);
			xfree(q);
			if (rc != 0)
				break;
			vbuf_append_str(&b, e->valuestring);
			vbuf_append_str(&b, "\r\n");
		}
		if (rc == 0) {
			r->len = b.len;
			r->bytes = vbuf_take(&b);
		}
	} else {
		rc = ld_expected(l, p, "a reply line, a non-empty array of lines, or null (no reply)",
		    v);
	}
	vbuf_free(&b);
	xfree(p);
	return rc;
}

static int
ld_srv_bool(ld *l, const cJSON *obj, const char *key, const char *path, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc;

	if (v == NULL)
		return 0;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 0;
	}
	p = ld_key(path, key);
	rc = ld_expected(l, p, "true or false", v);
	xfree(p);
	return rc;
}

/* A verb: letters only, upper-cased. */
static int
ld_srv_verb(ld *l, const cJSON *v, const char *path, char **out)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : "";
	size_t n = strlen(s);

	if (n == 0 || n > HARNESS_VERB_MAX)
		return ld_expected(l, path, "an SMTP verb such as \"MAIL\"", v);
	for (const char *c = s; *c; c++)
		if (!isalpha((unsigned char)*c))
			return ld_expected(l, path, "an SMTP verb such as \"MAIL\" (letters only)", v);
	*out = xstrdup(s);
	for (char *c = *out; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return 0;
}

/* The member `key` of v, when present, as a case-insensitive ERE: SMTP
 * keywords and domains are case-insensitive. */
static int
ld_srv_regex(ld *l, const cJSON *v, const char *path, const char *key, regex_t *re,
    char **src, int *has)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, key);
	char *p;
	int rc;

	if (m == NULL)
		return 0;
	p = ld_key(path, key);
	rc = ld_regex(l, m, p, re, src);
	if (rc == 0) {
		regfree(re);
		rc = regcomp(re, *src, REG_EXTENDED | REG_ICASE) == 0 ? 0 :
		    ld_fail(l, p, "expected a POSIX extended regular expression");
		*has = rc == 0;
	}
	xfree(p);
	return rc;
}

static int
ld_srv_expect(ld *l, const cJSON *v, const char *path, scn_srv_step *st)
{
	const cJSON *verb;
	char *p;
	int rc = 0;

	if (cJSON_IsString(v) && strcmp(v->valuestring, "content") == 0) {
		st->kind = SCN_SRV_CONTENT;
		return 0;
	}
	if (!cJSON_IsObject(v))
		return ld_expected(l, path, "\"content\" or an object {\"verb\": V, \"args\": REGEX}", v);
	if (ld_keys(l, v, path, srv_expect_keys) != 0 || ld_comment(l, v, path) != 0)
		return -1;
	st->kind = SCN_SRV_EXPECT;
	verb = cJSON_GetObjectItemCaseSensitive(v, "verb");
	if (verb) {
		p = ld_key(path, "verb");
		rc = ld_srv_verb(l, verb, p, &st->verb);
		xfree(p);
		if (rc != 0)
			return rc;
	}
	/* "line": the whole line, for a SASL response, which has no verb. */
	rc = ld_srv_regex(l, v, path, "args", &st->args_re, &st->args_src, &st->has_args);
	if (rc == 0)
		rc = ld_srv_regex(l, v, path, "line", &st->line_re, &st->line_src, &st->has_line);
	return rc;
}

static int
ld_srv_closed(ld *l, const cJSON *closed, const char *p, scn_srv_step *st)
{
	st->kind = SCN_SRV_CLOSED;
	if (cJSON_IsTrue(closed))
		return 0;
	if (cJSON_IsNumber(closed)) {
		long long x;

		if (ld_int(l, closed, p, 1, HARNESS_STEP_WAIT_MAX, &x) != 0)
			return -1;
		st->timeout_ms = (uint32_t)x;
		return 0;
	}
	if (cJSON_IsObject(closed)) {
		const cJSON *c;
		int rc;

		if (ld_keys(l, closed, p, closed_keys) != 0 || ld_comment(l, closed, p) != 0 ||
		    ld_ms(l, closed, "within_ms", p, 1, &st->timeout_ms) != 0)
			return -1;
		c = cJSON_GetObjectItemCaseSensitive(closed, "check");
		if (c) {
			char *q = ld_key(p, "check");

			xfree(st->check);
			st->check = NULL;
			rc = ld_check_id(l, c, q, &st->check);
			xfree(q);
			return rc;
		}
		return 0;
	}
	return ld_expected(l, p, "true, a time in ms, or {\"within_ms\": N, \"check\": ID}", closed);
}

static int
ld_srv_step(ld *l, const cJSON *v, const char *path, scn_srv_step *st, const char **stopper,
    int first)
{
	const cJSON *greet, *expect, *closed, *drop, *when, *content, *check;
	char *p = NULL;
	int rc = -1;
	int acts;

	if (ld_step_open(l, v, path, *stopper, srv_step_keys, &st->where, &st->timeout_ms) != 0)
		return -1;
	greet = cJSON_GetObjectItemCaseSensitive(v, "greet");
	expect = cJSON_GetObjectItemCaseSensitive(v, "expect");
	closed = cJSON_GetObjectItemCaseSensitive(v, "closed");
	drop = cJSON_GetObjectItemCaseSensitive(v, "drop");
	when = cJSON_GetObjectItemCaseSensitive(v, "when");
	content = cJSON_GetObjectItemCaseSensitive(v, "content");
	check = cJSON_GetObjectItemCaseSensitive(v, "check");
	acts = (greet != NULL) + (expect != NULL) + (closed != NULL);
	if (acts > 1)
		return ld_fail(l, path, "expected one of \"greet\", \"expect\", \"closed\" in a step");
	if (acts == 0 && drop == NULL)
		return ld_fail(l, path, "expected a step that does something: one of \"greet\", "
		    "\"expect\", \"closed\", \"drop\"");
	if (greet && !first)
		return ld_fail(l, path, "expected \"greet\" only in the first step of a session");
	if (check && (rc = (p = ld_key(path, "check"), ld_check_id(l, check, p, &st->check))) != 0)
		goto out;
	if (st->check == NULL && l->s->check)
		st->check = xstrdup(l->s->check);
	if (ld_ms(l, v, "timeout_ms", path, 1, &st->timeout_ms) != 0 ||
	    ld_ms(l, v, "delay_ms", path, 0, &st->delay_ms) != 0 ||
	    ld_ms(l, v, "drip_ms", path, 0, &st->drip_ms) != 0 ||
	    ld_srv_bool(l, v, "optional", path, &st->optional) != 0 ||
	    ld_srv_bool(l, v, "repeat", path, &st->repeat) != 0)
		goto fail;
	if (closed) {
		static const char *const only[] = { "reply", "raw_reply", "content", "delay_ms",
		    "drip_ms", "optional", "repeat", "drop", "when", NULL };

		for (size_t i = 0; only[i]; i++)
			if (cJSON_GetObjectItemCaseSensitive(v, only[i])) {
				xfree(p);
				p = ld_key(path, only[i]);
				rc = ld_fail(l, p, "\"%s\" does not apply to a \"closed\" step", only[i]);
				goto out;
			}
		xfree(p);
		p = ld_key(path, "closed");
		if ((rc = ld_srv_closed(l, closed, p, st)) != 0)
			goto out;
		*stopper = "expects the connection closed";
		goto out;
	}
	if (greet) {
		xfree(p);
		p = ld_key(path, "greet");
		st->kind = SCN_SRV_GREET;
		if (cJSON_GetObjectItemCaseSensitive(v, "raw_reply")) {
			if (!cJSON_IsTrue(greet)) {
				rc = ld_fail(l, p, "expected true with \"raw_reply\" (the raw bytes are the "
				    "greeting)");
				goto out;
			}
		} else if (cJSON_IsTrue(greet)) {
			greet = NULL;	/* the default greeting */
		}
		if (greet && !cJSON_IsTrue(greet)) {
			cJSON *tmp = cJSON_CreateObject();

			/* Reuse the reply parser on {"greet": value}. */
			cJSON_AddItemReferenceToObject(tmp, "greet", (cJSON *)greet);
			rc = ld_srv_reply(l, tmp, path, "greet", &st->reply);
			cJSON_Delete(tmp);
			if (rc != 0)
				goto out;
		} else if ((rc = ld_srv_reply(l, v, path, "reply", &st->reply)) != 0) {
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(v, "reply")) {
			xfree(p);
			p = ld_key(path, "reply");
			rc = ld_fail(l, p, "a greeting step gives its reply in \"greet\"");
			goto out;
		}
	} else if (expect) {
		xfree(p);
		p = ld_key(path, "expect");
		if ((rc = ld_srv_expect(l, expect, p, st)) != 0)
			goto out;
		if ((rc = ld_srv_reply(l, v, path, "reply", &st->reply)) != 0)
			goto out;
	} else {
		st->kind = SCN_SRV_DROP;
		if (cJSON_GetObjectItemCaseSensitive(v, "reply") ||
		    cJSON_GetObjectItemCaseSensitive(v, "raw_reply") || when) {
			rc = ld_fail(l, path, "a step with only \"drop\" sends nothing: give \"reply\" or "
			    "\"when\" on a \"greet\" or \"expect\" step instead");
			goto out;
		}
	}
	if (content) {
		xfree(p);
		p = ld_key(path, "content");
		if (st->kind != SCN_SRV_CONTENT) {
			rc = ld_fail(l, p, "\"content\" only applies to {\"expect\": \"content\"}");
			goto out;
		}
		if (!cJSON_IsString(content) || strcmp(content->valuestring, "same") != 0) {
			rc = ld_expected(l, p, "\"same\" (the message must arrive as the scenario's "
			    "\"message\")", content);
			goto out;
		}
		st->content_same = 1;
	}
	if (st->optional && st->kind != SCN_SRV_EXPECT && st->kind != SCN_SRV_CONTENT) {
		xfree(p);
		p = ld_key(path, "optional");
		rc = ld_fail(l, p, "\"optional\" only applies to \"expect\" steps");
		goto out;
	}
	if (st->repeat && st->kind != SCN_SRV_EXPECT) {
		xfree(p);
		p = ld_key(path, "repeat");
		rc = ld_fail(l, p, "\"repeat\" only applies to {\"expect\": {\"verb\": ...}}");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(v, "starttls")) {
		if ((rc = ld_srv_bool(l, v, "starttls", path, &st->starttls)) != 0)
			goto out;
		xfree(p);
		p = ld_key(path, "starttls");
		if (st->kind != SCN_SRV_EXPECT || st->verb == NULL ||
		    strcmp(st->verb, "STARTTLS") != 0 || st->repeat) {
			rc = ld_fail(l, p, "\"starttls\" only applies to {\"expect\": {\"verb\": "
			    "\"STARTTLS\"}} (not repeated)");
			goto out;
		}
		if (st->starttls)
			l->s->server->starttls = 1;
	}
	if (drop) {
		xfree(p);
		p = ld_key(path, "drop");
		if (cJSON_IsString(drop) && strcmp(drop->valuestring, "close") == 0) {
			st->drop = SCN_DROP_CLOSE;
		} else if (cJSON_IsString(drop) && strcmp(drop->valuestring, "reset") == 0) {
			st->drop = SCN_DROP_RESET;
		} else {
			rc = ld_expected(l, p, "\"close\" or \"reset\"", drop);
			goto out;
		}
		*stopper = "drops the connection";
	}
	if (when) {
		xfree(p);
		p = ld_key(path, "when");
		if (!drop) {
			rc = ld_fail(l, p, "\"when\" only applies with \"drop\"");
			goto out;
		}
		if (cJSON_IsString(when) && strcmp(when->valuestring, "after") == 0)
			st->when = SCN_WHEN_AFTER;
		else if (cJSON_IsString(when) && strcmp(when->valuestring, "before") == 0)
			st->when = SCN_WHEN_BEFORE;
		else if (cJSON_IsString(when) && strcmp(when->valuestring, "mid") == 0)
			st->when = SCN_WHEN_MID;
		else {
			rc = ld_expected(l, p, "\"before\", \"mid\" or \"after\" (the reply)", when);
			goto out;
		}
		if (st->when == SCN_WHEN_MID && st->reply.set && (st->reply.silent ||
		    st->reply.len < 2)) {
			rc = ld_fail(l, p, "expected a reply of at least 2 bytes to drop in the middle of");
			goto out;
		}
	}
	rc = 0;
	goto out;
fail:
	rc = -1;
out:
	xfree(p);
	return rc;
}

/* One session's steps; a greeting is implied unless the first step greets,
 * drops or waits for the close. */
static int
ld_srv_session(ld *l, const cJSON *v, const char *path, scn_session *ses)
{
	const char *stopper = NULL;
	size_t n, i = 0;
	const cJSON *first;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return ld_expected(l, path, "a non-empty array of steps", v);
	n = (size_t)cJSON_GetArraySize(v);
	if (n > HARNESS_STEPS_MAX)
		return ld_fail(l, path, "expected at most %d steps, got %zu", HARNESS_STEPS_MAX, n);
	first = v->child;
	ses->steps = xcalloc(n + 1, sizeof(scn_srv_step));
	if (!cJSON_IsObject(first) || !(cJSON_GetObjectItemCaseSensitive(first, "greet") ||
	    cJSON_GetObjectItemCaseSensitive(first, "closed") ||
	    (cJSON_GetObjectItemCaseSensitive(first, "drop") &&
	    !cJSON_GetObjectItemCaseSensitive(first, "expect")))) {
		scn_srv_step *g = &ses->steps[ses->nsteps++];

		g->kind = SCN_SRV_GREET;
		g->timeout_ms = l->s->timeout_ms;
		ld_where(l, path, &g->where);
		if (l->s->check)
			g->check = xstrdup(l->s->check);
	}
	for (const cJSON *e = v->child; e; e = e->next, i++) {
		scn_srv_step *st = &ses->steps[ses->nsteps++];
		char *p = ld_index(path, i);
		int rc;

		st->index = i + 1;
		rc = ld_srv_step(l, e, p, st, &stopper, i == 0);
		xfree(p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A capability list ("ehlo", "ehlo_tls") into caps and n. */
static int
ld_srv_caps(ld *l, const cJSON *v, const char *path, char ***caps, size_t *n)
{
	size_t i = 0;

	if (!cJSON_IsArray(v))
		return ld_expected(l, path, "an array of capability lines such as "
		    "\"SIZE 10240000\" (may be empty)", v);
	if (cJSON_GetArraySize(v) > 100)
		return ld_fail(l, path, "expected at most 100 capability lines");
	*caps = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *));
	for (const cJSON *e = v->child; e; e = e->next, i++) {
		char *p = ld_index(path, i);
		char kw[64];
		size_t k;
		int bad = !cJSON_IsString(e);

		if (!bad) {
			k = strcspn(e->valuestring, " ");
			bad = k == 0 || k >= sizeof(kw) || strpbrk(e->valuestring, "\r\n") ||
			    strlen(e->valuestring) > 500;
			if (!bad) {
				memcpy(kw, e->valuestring, k);
				kw[k] = '\0';
				bad = !ld_keyword_ok(kw);
			}
		}
		if (bad) {
			int rc = ld_expected(l, p, "a capability line: an EHLO keyword, then "
			    "parameters after a space (\"SIZE 10240000\", \"AUTH PLAIN\")", e);

			xfree(p);
			return rc;
		}
		xfree(p);
		(*caps)[(*n)++] = xstrdup(e->valuestring);
	}
	return 0;
}

/* "ehlo_tls": the capabilities after STARTTLS; by default those of
 * "ehlo" without STARTTLS (RFC 3207 §4.2). */
static int
ld_srv_ehlo_tls(ld *l, const cJSON *v, scn_server *srv)
{
	if (v != NULL)
		return ld_srv_caps(l, v, "$.ehlo_tls", &srv->ehlo_tls, &srv->nehlo_tls);
	srv->ehlo_tls = xcalloc(srv->nehlo + 1, sizeof(char *));
	for (size_t i = 0; i < srv->nehlo; i++) {
		size_t k = strcspn(srv->ehlo[i], " ");

		if (k == 8 && strncasecmp(srv->ehlo[i], "STARTTLS", 8) == 0)
			continue;
		srv->ehlo_tls[srv->nehlo_tls++] = xstrdup(srv->ehlo[i]);
	}
	return 0;
}

static int
ld_srv_ehlo(ld *l, const cJSON *v, scn_server *srv)
{
	size_t i = 0;

	if (v == NULL) {
		for (i = 0; srv_default_ehlo[i]; i++)
			;
		srv->ehlo = xcalloc(i, sizeof(char *));
		for (i = 0; srv_default_ehlo[i]; i++)
			srv->ehlo[srv->nehlo++] = xstrdup(srv_default_ehlo[i]);
	} else if (ld_srv_caps(l, v, "$.ehlo", &srv->ehlo, &srv->nehlo) != 0) {
		return -1;
	}
	for (i = 0; i < srv->nehlo; i++) {
		size_t k = strcspn(srv->ehlo[i], " ");

		if (k == 10 && strncasecmp(srv->ehlo[i], "PIPELINING", 10) == 0)
			srv->pipelining = 1;
		if (k == 8 && strncasecmp(srv->ehlo[i], "CHUNKING", 8) == 0)
			srv->chunking = 1;
	}
	return 0;
}

static int
ld_srv_message(ld *l, const cJSON *v, scn_server *srv)
{
	const cJSON *lines, *raw;
	vbuf b = VBUF_INIT;
	size_t i = 0;

	if (v == NULL) {
		vbuf_append_str(&b, "From: <a@harness.test>\r\nTo: <b@example.test>\r\n"
		    "Subject: smtp-harness test message\r\n\r\nHello from smtp-harness.\r\n");
		goto done;
	}
	if (!cJSON_IsObject(v))
		return ld_expected(l, "$.message", "an object with \"lines\" or \"raw\"", v);
	if (ld_keys(l, v, "$.message", srv_message_keys) != 0 ||
	    ld_comment(l, v, "$.message") != 0)
		return -1;
	lines = cJSON_GetObjectItemCaseSensitive(v, "lines");
	raw = cJSON_GetObjectItemCaseSensitive(v, "raw");
	if ((lines != NULL) + (raw != NULL) != 1)
		return ld_fail(l, "$.message", "expected exactly one of \"lines\", \"raw\"");
	if (raw) {
		char why[128];

		if (!cJSON_IsString(raw))
			return ld_expected(l, "$.message.raw", "a string (escapes \\r \\n \\t \\0 \\xHH "
			    "\\\\)", raw);
		if (smtp_unescape(raw->valuestring, strlen(raw->valuestring), &b, why,
		    sizeof(why)) != 0) {
			vbuf_free(&b);
			return ld_fail(l, "$.message.raw", "expected a string with valid escapes: %s",
			    why);
		}
		goto done;
	}
	if (!cJSON_IsArray(lines))
		return ld_expected(l, "$.message.lines", "an array of message lines (strings without "
		    "CR or LF)", lines);
	for (const cJSON *e = lines->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e) || strpbrk(e->valuestring, "\r\n")) {
			char *p = ld_index("$.message.lines", i);
			int rc = ld_expected(l, p, "a message line (a string without CR or LF)", e);

			xfree(p);
			vbuf_free(&b);
			return rc;
		}
		vbuf_append_str(&b, e->valuestring);
		vbuf_append_str(&b, "\r\n");
	}
done:
	srv->message_len = b.len;
	srv->message = vbuf_take(&b);
	return 0;
}

static int
ld_srv_client(ld *l, const cJSON *v, scn_server *srv)
{
	const cJSON *e;

	srv->client_timeout_ms = HARNESS_CLIENT_TIMEOUT_MS;
	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return ld_expected(l, "$.client", "an object {\"exit\": 0 | \"nonzero\" | \"any\", "
		    "\"timeout_ms\": N}", v);
	if (ld_keys(l, v, "$.client", srv_client_keys) != 0 || ld_comment(l, v, "$.client") != 0 ||
	    ld_ms(l, v, "timeout_ms", "$.client", 1, &srv->client_timeout_ms) != 0)
		return -1;
	e = cJSON_GetObjectItemCaseSensitive(v, "exit");
	if (e == NULL || (cJSON_IsString(e) && strcmp(e->valuestring, "any") == 0))
		srv->client_exit = SCN_EXIT_ANY;
	else if (cJSON_IsNumber(e) && e->valuedouble == 0)
		srv->client_exit = SCN_EXIT_ZERO;
	else if (cJSON_IsString(e) && strcmp(e->valuestring, "nonzero") == 0)
		srv->client_exit = SCN_EXIT_NONZERO;
	else
		return ld_expected(l, "$.client.exit", "0, \"nonzero\" or \"any\"", e);
	return 0;
}

static int
ld_srv_rules(ld *l, const cJSON *v, scn_server *srv)
{
	size_t i = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return ld_expected(l, "$.rules", "an array of rules", v);
	if (cJSON_GetArraySize(v) > HARNESS_STEPS_MAX)
		return ld_fail(l, "$.rules", "expected at most %d rules", HARNESS_STEPS_MAX);
	srv->rules = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(scn_rule));
	for (const cJSON *e = v->child; e; e = e->next, i++) {
		scn_rule *r = &srv->rules[srv->nrules++];
		char *p = ld_index("$.rules", i);
		const cJSON *on, *nth, *every, *chance;
		long long x;
		int rc = -1;

		ld_where(l, p, &r->where);
		if (!cJSON_IsObject(e)) {
			rc = ld_expected(l, p, "a rule {\"on\": VERB | \"greeting\", \"nth\" | \"every\": N "
			    "| \"chance\": P, \"reply\": ...}", e);
			goto next;
		}
		if (ld_keys(l, e, p, srv_rule_keys) != 0 || ld_comment(l, e, p) != 0)
			goto next;
		on = cJSON_GetObjectItemCaseSensitive(e, "on");
		nth = cJSON_GetObjectItemCaseSensitive(e, "nth");
		every = cJSON_GetObjectItemCaseSensitive(e, "every");
		chance = cJSON_GetObjectItemCaseSensitive(e, "chance");
		if (on == NULL) {
			rc = ld_fail(l, p, "expected a member \"on\" (a verb, or \"greeting\")");
			goto next;
		}
		if (!(cJSON_IsString(on) && strcmp(on->valuestring, "greeting") == 0)) {
			char *q = ld_key(p, "on");

			rc = ld_srv_verb(l, on, q, &r->verb);
			xfree(q);
			if (rc != 0)
				goto next;
		}
		if ((nth != NULL) + (every != NULL) + (chance != NULL) != 1) {
			rc = ld_fail(l, p, "expected exactly one of \"nth\", \"every\", \"chance\"");
			goto next;
		}
		if (chance != NULL) {
			char *q = ld_key(p, "chance");

			if (!cJSON_IsNumber(chance) || !(chance->valuedouble > 0) ||
			    chance->valuedouble > 1) {
				rc = ld_expected(l, q, "a probability, a number above 0 and at most 1",
				    chance);
				xfree(q);
				goto next;
			}
			xfree(q);
			r->chance_ppm = (uint32_t)(chance->valuedouble * 1000000.0 + 0.5);
			if (r->chance_ppm == 0)
				r->chance_ppm = 1;
			srv->random = 1;
		} else {
			char *q = ld_key(p, nth ? "nth" : "every");

			rc = ld_int(l, nth ? nth : every, q, 1, 1000000, &x);
			xfree(q);
			if (rc != 0)
				goto next;
			if (nth)
				r->nth = (uint32_t)x;
			else
				r->every = (uint32_t)x;
		}
		if ((rc = ld_srv_reply(l, e, p, "reply", &r->reply)) != 0)
			goto next;
		if (!r->reply.set)
			rc = ld_fail(l, p, "expected \"reply\" or \"raw_reply\"");
next:
		xfree(p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The rest of a server-role scenario, after id, summary, refs, check. */
static int
ld_server(ld *l, const cJSON *root)
{
	scn_scenario *s = l->s;
	scn_server *srv = xcalloc(1, sizeof(*srv));
	const cJSON *steps, *sessions;

	s->server = srv;
	s->timeout_ms = HARNESS_STEP_TIMEOUT_MS;
	s->deadline_ms = HARNESS_SCENARIO_TIMEOUT_MS;
	if (ld_ms(l, root, "timeout_ms", "$", 1, &s->timeout_ms) != 0 ||
	    ld_ms(l, root, "deadline_ms", "$", 1, &s->deadline_ms) != 0 ||
	    ld_comment(l, root, "$") != 0 ||
	    ld_srv_ehlo(l, cJSON_GetObjectItemCaseSensitive(root, "ehlo"), srv) != 0 ||
	    ld_srv_ehlo_tls(l, cJSON_GetObjectItemCaseSensitive(root, "ehlo_tls"), srv) != 0 ||
	    ld_srv_message(l, cJSON_GetObjectItemCaseSensitive(root, "message"), srv) != 0 ||
	    ld_srv_client(l, cJSON_GetObjectItemCaseSensitive(root, "client"), srv) != 0 ||
	    ld_srv_rules(l, cJSON_GetObjectItemCaseSensitive(root, "rules"), srv) != 0)
		return -1;
	steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
	sessions = cJSON_GetObjectItemCaseSensitive(root, "sessions");
	if ((steps != NULL) + (sessions != NULL) != 1)
		return ld_fail(l, "$", "expected exactly one of \"steps\" (one connection) and "
		    "\"sessions\" (an array of steps per connection)");
	if (steps) {
		srv->sessions = xcalloc(1, sizeof(scn_session));
		srv->nsessions = 1;
		return ld_srv_session(l, steps, "$.steps", &srv->sessions[0]);
	}
	if (!cJSON_IsArray(sessions) || cJSON_GetArraySize(sessions) == 0)
		return ld_expected(l, "$.sessions", "a non-empty array of step arrays", sessions);
	if (cJSON_GetArraySize(sessions) > 100)
		return ld_fail(l, "$.sessions", "expected at most 100 sessions");
	srv->sessions = xcalloc((size_t)cJSON_GetArraySize(sessions), sizeof(scn_session));
	for (const cJSON *e = sessions->child; e; e = e->next) {
		char *p = ld_index("$.sessions", srv->nsessions);
		int rc = ld_srv_session(l, e, p, &srv->sessions[srv->nsessions++]);

		xfree(p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* ---- the scenario ------------------------------------------------------ */

static const char *const top_keys[] = {
	"id", "summary", "refs", "role", "requires", "vars", "credentials", "timeout_ms",
	"deadline_ms", "refuse_ok", "oracle", "check", "comment", "steps", NULL
};

/* "credentials": names of variables declared in "vars" that the run must
 * give a value (else SKIP) and that the transcript never shows. */
static int
ld_credentials(ld *l, const cJSON *v)
{
	scn_scenario *s = l->s;
	size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;

	if (n == 0 || n > HARNESS_CREDENTIALS_MAX)
		return ld_fail(l, "$.credentials", "expected an array of 1-%d variable names "
		    "declared in \"vars\"", HARNESS_CREDENTIALS_MAX);
	s->credentials = xcalloc(n, sizeof(char *));
	for (const cJSON *m = v->child; m; m = m->next) {
		char *p = ld_index("$.credentials", s->ncredentials);
		int declared = 0;

		for (size_t i = 0; cJSON_IsString(m) && i < s->nvars; i++)
			declared |= strcmp(s->vars[i].name, m->valuestring) == 0;
		if (!declared) {
			int rc = ld_expected(l, p, "the name of a variable declared in \"vars\"", m);

			xfree(p);
			return rc;
		}
		xfree(p);
		s->credentials[s->ncredentials++] = xstrdup(m->valuestring);
	}
	return 0;
}

static int
ld_id_ok(const char *s)
{
	if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		    *s == '.' || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static int
ld_scenario(ld *l, const cJSON *root)
{
	scn_scenario *s = l->s;
	const cJSON *v;
	char *p = NULL;
	int rc = -1;

	if (!cJSON_IsObject(root))
		return ld_expected(l, "$", "a scenario object", root);
	v = cJSON_GetObjectItemCaseSensitive(root, "role");
	if (v) {
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "client") != 0 &&
		    strcmp(v->valuestring, "server") != 0))
			return ld_expected(l, "$.role", "\"client\" or \"server\"", v);
		if (strcmp(v->valuestring, "server") == 0)
			s->role = SCN_ROLE_SERVER;
	}
	if (ld_keys(l, root, "$", s->role == SCN_ROLE_SERVER ? srv_top_keys : top_keys) != 0)
		return -1;

	v = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (v == NULL)
		return ld_fail(l, "$", "expected a member \"id\"");
	if (!cJSON_IsString(v) || !ld_id_ok(v->valuestring) || strlen(v->valuestring) > 128)
		return ld_expected(l, "$.id", "an id of lower-case letters, digits, '.', '-' and "
		    "'_' (at most 128 bytes), such as \"session.noop\"", v);
	s->id = xstrdup(v->valuestring);
	ld_where(l, "$.id", &s->id_where);

	v = cJSON_GetObjectItemCaseSensitive(root, "summary");
	if (v == NULL)
		return ld_fail(l, "$", "expected a member \"summary\"");
	if (ld_string(l, v, "$.summary", "a one-line summary (a non-empty string)") != 0)
		return -1;
	s->summary = xstrdup(v->valuestring);


	v = cJSON_GetObjectItemCaseSensitive(root, "refs");
	if (v == NULL)
		return ld_fail(l, "$", "expected a member \"refs\" (catalog ids and RFC sections)");
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return ld_expected(l, "$.refs", "a non-empty array of catalog ids and \"RFC N §x.y\" "
		    "strings", v);
	s->refs = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(char *));
	for (const cJSON *r = v->child; r; r = r->next) {
		p = ld_index("$.refs", s->nrefs);
		if (!cJSON_IsString(r)) {
			rc = ld_expected(l, p, "a catalog id or \"RFC N §x.y\"", r);
			goto out;
		}
		if (ld_catalog_shaped(r->valuestring)) {
			if (chk_catalog_find(r->valuestring) == NULL) {
				rc = ld_fail(l, p, "expected a catalog id (see `smtp-harness catalog`), "
				    "got \"%s\", which the catalog does not hold", r->valuestring);
				goto out;
			}
			if (s->check == NULL)
				s->check = xstrdup(r->valuestring);
		} else if (strncmp(r->valuestring, "RFC ", 4) != 0 ||
		    !isdigit((unsigned char)r->valuestring[4])) {
			rc = ld_expected(l, p, "a catalog id or a reference such as \"RFC 5321 §4.1.1\"",
			    r);
			goto out;
		}
		s->refs[s->nrefs++] = xstrdup(r->valuestring);
		xfree(p);
		p = NULL;
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "check");
	if (v) {
		xfree(s->check);
		s->check = NULL;
		if (ld_check_id(l, v, "$.check", &s->check) != 0)
			goto fail;
	}

	if (s->role == SCN_ROLE_SERVER) {
		rc = ld_server(l, root);
		goto out;
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "requires");
	if (v && ld_keywords_as(l, v, "$.requires", &s->requires, &s->nrequires, 1) != 0)
		goto fail;

	for (size_t i = 0; scn_builtin_vars[i]; i++)
		ld_name_add(l, scn_builtin_vars[i]);
	v = cJSON_GetObjectItemCaseSensitive(root, "vars");
	if (v) {
		if (!cJSON_IsObject(v))
			return ld_expected(l, "$.vars", "an object of variable names and string values", v);
		if (cJSON_GetArraySize(v) > HARNESS_VARS_MAX)
			return ld_fail(l, "$.vars", "expected at most %d variables, got %d",
			    HARNESS_VARS_MAX, cJSON_GetArraySize(v));
		s->vars = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(scn_var));
		for (const cJSON *m = v->child; m; m = m->next) {
			p = ld_key("$.vars", m->string);
			if (!ld_ident(m->string) || strlen(m->string) >= 64) {
				rc = ld_fail(l, p, "expected a variable name ([A-Za-z_][A-Za-z0-9_]*, under "
				    "64 bytes), got \"%s\"", m->string);
				goto out;
			}
			for (size_t i = 0; i < s->nvars; i++)
				if (strcmp(s->vars[i].name, m->string) == 0) {
					rc = ld_fail(l, p, "variable \"%s\" declared twice", m->string);
					goto out;
				}
			if (!cJSON_IsString(m) || strlen(m->valuestring) > HARNESS_VAR_VALUE_MAX) {
				char what[64];

				snprintf(what, sizeof(what), "a string of at most %d bytes",
				    HARNESS_VAR_VALUE_MAX);
				rc = ld_expected(l, p, what, m);
				goto out;
			}
			s->vars[s->nvars].name = xstrdup(m->string);
			s->vars[s->nvars++].value = xstrdup(m->valuestring);
			ld_name_add(l, m->string);
			xfree(p);
			p = NULL;
		}
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "credentials");
	if (v && ld_credentials(l, v) != 0)
		goto fail;

	s->timeout_ms = HARNESS_STEP_TIMEOUT_MS;
	s->deadline_ms = HARNESS_SCENARIO_TIMEOUT_MS;
	if (ld_ms(l, root, "timeout_ms", "$", 1, &s->timeout_ms) != 0 ||
	    ld_ms(l, root, "deadline_ms", "$", 1, &s->deadline_ms) != 0)
		goto fail;
	v = cJSON_GetObjectItemCaseSensitive(root, "refuse_ok");
	if (v) {
		if (!cJSON_IsBool(v))
			return ld_expected(l, "$.refuse_ok", "true or false", v);
		s->refuse_ok = cJSON_IsTrue(v);
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "oracle");
	if (v) {
		if (!cJSON_IsBool(v))
			return ld_expected(l, "$.oracle", "true or false", v);
		s->needs_oracle = cJSON_IsTrue(v);
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "comment");
	if (v && !cJSON_IsString(v))
		return ld_expected(l, "$.comment", "a string", v);

	v = cJSON_GetObjectItemCaseSensitive(root, "steps");
	if (v == NULL)
		return ld_fail(l, "$", "expected a member \"steps\"");
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return ld_expected(l, "$.steps", "a non-empty array of steps", v);
	if (cJSON_GetArraySize(v) > HARNESS_STEPS_MAX)
		return ld_fail(l, "$.steps", "expected at most %d steps, got %d", HARNESS_STEPS_MAX,
		    cJSON_GetArraySize(v));
	s->steps = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(scn_step));
	{
		const char *stopper = NULL;
		size_t tls_step = 0;

		for (const cJSON *st = v->child; st; st = st->next) {
			scn_step *step = &s->steps[s->nsteps];

			p = ld_index("$.steps", s->nsteps);
			s->nsteps++;
			step->index = s->nsteps;
			if ((rc = ld_step(l, st, p, step, &stopper)) != 0)
				goto out;
			/* RFC 3207 §4.2: no STARTTLS once TLS is up; a second
			 * STARTTLS is tested as a plain "send". */
			if (step->starttls && tls_step) {
				char *q = ld_key(p, "starttls");

				rc = ld_fail(l, q, "expected one \"starttls\" step per scenario, "
				    "got a second (the first is step %zu)", tls_step);
				xfree(q);
				goto out;
			}
			if (step->starttls)
				tls_step = step->index;
			xfree(p);
			p = NULL;
		}
	}
	rc = 0;
	goto out;
fail:
	rc = -1;
out:
	xfree(p);
	return rc;
}

/* 1 when root is an object with "role": "relay". */
static int
scn_is_relay(const cJSON *root)
{
	const cJSON *v = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "role") : NULL;

	return cJSON_IsString(v) && strcmp(v->valuestring, "relay") == 0;
}

/* A relay scenario (relay.h), compiled by its own loader, in a scenario
 * of role SCN_ROLE_RELAY that only names it: `run` refuses it, `validate`
 * and `coverage` see it. */
static int
scn_load_relay(const char *name, const char *text, size_t len, scn_scenario **out, char *err,
    size_t errlen)
{
	rly_scenario *r;
	scn_scenario *s;
	jsonpos jp;

	if (rly_load_buffer(name, text, len, &r, err, errlen) != 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->file = xstrdup(name);
	s->id = xstrdup(r->id);
	s->summary = r->summary ? xstrdup(r->summary) : NULL;
	s->role = SCN_ROLE_RELAY;
	s->refs = xcalloc(r->nrefs + 1, sizeof(char *));
	for (size_t i = 0; i < r->nrefs; i++) {
		s->refs[s->nrefs++] = xstrdup(r->refs[i]);
		if (s->check == NULL && chk_catalog_find(r->refs[i]) != NULL)
			s->check = xstrdup(r->refs[i]);
	}
	memset(&jp, 0, sizeof(jp));
	jsonpos_build(&jp, text, len);
	s->id_where.path = xstrdup("$.id");
	jsonpos_find(&jp, "$.id", &s->id_where.line, &s->id_where.col);
	jsonpos_free(&jp);
	s->relay = r;
	*out = s;
	return 0;
}

int
scn_load_buffer(const char *name, const char *text, size_t len, scn_scenario **out,
    char *err, size_t errlen)
{
	const char *end = NULL;
	char *copy;
	cJSON *root;
	ld l;
	int rc;

	*out = NULL;
	if (len > HARNESS_SCENARIO_FILE_MAX) {
		snprintf(err, errlen, "%s:1:1: $: expected a scenario file of at most %d bytes, "
		    "got %zu", name, HARNESS_SCENARIO_FILE_MAX, len);
		return -1;
	}
	/* cJSON is given a NUL after the text: when the text ends too soon it
	 * then stops at offset len ("the end of the file") instead of naming
	 * the last byte, which it does when it runs out of input. */
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 0);
	end = end ? text + (end - copy) : NULL;
	xfree(copy);
	if (root == NULL) {
		int line, col;
		size_t off = end ? (size_t)(end - text) : 0;
		char near[40];
		size_t n = 0;

		/* cJSON leaves end at the first byte it could not take */
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
	/* trailing bytes after the value */
	for (const char *t = end; t && t < text + len; t++) {
		if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n') {
			int line, col;

			jsonpos_offset_to_lc(text, len, (size_t)(t - text), &line, &col);
			snprintf(err, errlen, "%s:%d:%d: expected the end of the file after the "
			    "scenario object, got more", name, line, col);
			cJSON_Delete(root);
			return -1;
		}
	}
	if (scn_is_relay(root)) {
		cJSON_Delete(root);
		return scn_load_relay(name, text, len, out, err, errlen);
	}
	memset(&l, 0, sizeof(l));
	l.name = name;
	l.text = text;
	l.len = len;
	l.err = err;
	l.errlen = errlen;
	l.s = xcalloc(1, sizeof(scn_scenario));
	l.s->file = xstrdup(name);
	jsonpos_build(&l.jp, text, len);
	rc = ld_scenario(&l, root);
	jsonpos_free(&l.jp);
	for (size_t i = 0; i < l.nnames; i++)
		xfree(l.names[i]);
	xfree(l.names);
	cJSON_Delete(root);
	if (rc != 0) {
		scn_free(l.s);
		return -1;
	}
	*out = l.s;
	return 0;
}

int
scn_load_file(const char *path, scn_scenario **out, char *err, size_t errlen)
{
	vbuf b = VBUF_INIT;
	int rc;

	*out = NULL;
	if (vbuf_read_file(&b, path, HARNESS_SCENARIO_FILE_MAX, err, errlen) != 0) {
		vbuf_free(&b);
		return -1;
	}
	rc = scn_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
	vbuf_free(&b);
	return rc;
}

static int
scn_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
scn_has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Every scenario file below dir, sorted. */
static int
scn_collect(const char *dir, char ***files, size_t *n, size_t *cap, char *err, size_t errlen,
    int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > 32) {
		snprintf(err, errlen, "%s: directories nested too deep", dir);
		return -1;
	}
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (stat(p, &sb) != 0) {
			xfree(p);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			int rc = scn_collect(p, files, n, cap, err, errlen, depth + 1);

			xfree(p);
			if (rc != 0) {
				closedir(d);
				return -1;
			}
		} else if (S_ISREG(sb.st_mode) && scn_has_suffix(de->d_name, ".json") &&
		    !scn_has_suffix(de->d_name, ".schema.json")) {
			*files = xgrow(*files, cap, *n + 1, sizeof(char *));
			(*files)[(*n)++] = p;
		} else {
			xfree(p);
		}
	}
	closedir(d);
	return 0;
}

int
scn_load_path(const char *path, scn_list *list, char *err, size_t errlen)
{
	struct stat sb;
	char **files = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		char *base = xstrdup(path);
		size_t bl = strlen(base);

		while (bl > 1 && base[bl - 1] == '/')
			base[--bl] = '\0';
		rc = scn_collect(base, &files, &n, &cap, err, errlen, 0);
		xfree(base);
		if (rc == 0 && n == 0) {
			snprintf(err, errlen, "%s: no scenario files (*.json) in this directory", path);
			rc = -1;
		}
		if (n > 1)
			qsort(files, n, sizeof(char *), scn_cmp_str);
	} else {
		files = xcalloc(1, sizeof(char *));
		files[n++] = xstrdup(path);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		scn_scenario *s;

		if ((rc = scn_load_file(files[i], &s, err, errlen)) != 0)
			break;
		for (size_t j = 0; j < list->n; j++) {
			const scn_scenario *o = list->items[j];

			if (strcmp(o->id, s->id) == 0) {
				snprintf(err, errlen, "%s:%d:%d: $.id: expected an id not used before, "
				    "got \"%s\", already the id of %s:%d:%d", s->file, s->id_where.line,
				    s->id_where.col, s->id, o->file, o->id_where.line, o->id_where.col);
				scn_free(s);
				rc = -1;
				break;
			}
		}
		if (rc != 0)
			break;
		list->items = xgrow(list->items, &list->cap, list->n + 1, sizeof(*list->items));
		list->items[list->n++] = s;
	}
	for (size_t i = 0; i < n; i++)
		xfree(files[i]);
	xfree(files);
	return rc;
}

static void
scn_expect_free(scn_expect *e)
{
	xfree(e->where.path);
	xfree(e->codes);
	xfree(e->classes);
	xfree(e->esc);
	if (e->has_text_re)
		regfree(&e->text_re);
	xfree(e->text_src);
	xfree(e->text_for);
	for (size_t i = 0; i < e->nkeywords; i++)
		xfree(e->keywords[i]);
	xfree(e->keywords);
	for (size_t i = 0; i < e->nabsent; i++)
		xfree(e->absent[i]);
	xfree(e->absent);
	xfree(e->capture_var);
	if (e->has_capture)
		regfree(&e->capture_re);
	xfree(e->check);
}

static void
scn_server_free(scn_server *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nehlo; i++)
		xfree(srv->ehlo[i]);
	xfree(srv->ehlo);
	for (size_t i = 0; i < srv->nehlo_tls; i++)
		xfree(srv->ehlo_tls[i]);
	xfree(srv->ehlo_tls);
	xfree(srv->message);
	for (size_t i = 0; i < srv->nsessions; i++) {
		scn_session *ses = &srv->sessions[i];

		for (size_t j = 0; j < ses->nsteps; j++) {
			scn_srv_step *st = &ses->steps[j];

			xfree(st->where.path);
			xfree(st->verb);
			if (st->has_args)
				regfree(&st->args_re);
			xfree(st->args_src);
			if (st->has_line)
				regfree(&st->line_re);
			xfree(st->line_src);
			xfree(st->reply.bytes);
			xfree(st->check);
		}
		xfree(ses->steps);
	}
	xfree(srv->sessions);
	for (size_t i = 0; i < srv->nrules; i++) {
		xfree(srv->rules[i].where.path);
		xfree(srv->rules[i].verb);
		xfree(srv->rules[i].reply.bytes);
	}
	xfree(srv->rules);
	xfree(srv);
}

void
scn_free(scn_scenario *s)
{
	if (s == NULL)
		return;
	rly_free(s->relay);
	scn_server_free(s->server);
	for (size_t i = 0; i < s->nsteps; i++) {
		scn_step *st = &s->steps[i];

		xfree(st->where.path);
		for (size_t j = 0; j < st->nsends; j++)
			xfree(st->sends[j]);
		xfree(st->sends);
		for (size_t j = 0; j < st->nexpects; j++)
			scn_expect_free(&st->expects[j]);
		xfree(st->expects);
		xfree(st->closed_check);
		xfree(st->check);
		xfree(st->sni);
	}
	xfree(s->steps);
	for (size_t i = 0; i < s->nrefs; i++)
		xfree(s->refs[i]);
	xfree(s->refs);
	for (size_t i = 0; i < s->nrequires; i++)
		xfree(s->requires[i]);
	xfree(s->requires);
	for (size_t i = 0; i < s->ncredentials; i++)
		xfree(s->credentials[i]);
	xfree(s->credentials);
	for (size_t i = 0; i < s->nvars; i++) {
		xfree(s->vars[i].name);
		xfree(s->vars[i].value);
	}
	xfree(s->vars);
	xfree(s->file);
	xfree(s->id);
	xfree(s->summary);
	xfree(s->check);
	xfree(s->id_where.path);
	xfree(s);
}

void
scn_list_free(scn_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		scn_free(list->items[i]);
	xfree(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}

/* ---- variables at run time ------------------------------------------------ */

void
scn_vars_set(scn_vars *vars, const char *name, const char *value)
{
	for (size_t i = 0; i < vars->n; i++) {
		if (strcmp(vars->v[i].name, name) == 0) {
			xfree(vars->v[i].value);
			vars->v[i].value = xstrdup(value);
			return;
		}
	}
	vars->v = xgrow(vars->v, &vars->cap, vars->n + 1, sizeof(scn_var));
	vars->v[vars->n].name = xstrdup(name);
	vars->v[vars->n++].value = xstrdup(value);
}

const char *
scn_vars_get(const scn_vars *vars, const char *name)
{
	for (size_t i = vars->n; i-- > 0; )
		if (strcmp(vars->v[i].name, name) == 0)
			return vars->v[i].value;
	return NULL;
}

void
scn_vars_free(scn_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		xfree(vars->v[i].name);
		xfree(vars->v[i].value);
	}
	xfree(vars->v);
	vars->v = NULL;
	vars->n = vars->cap = 0;
}

/* Appends a piece of the expansion to out, and to shown as it is or, for
 * a credential, as '*' of the same length. */
static void
ex_put(vbuf *out, vbuf *shown, const char *data, size_t len, int secret)
{
	vbuf_append(out, data, len);
	if (shown == NULL)
		return;
	if (!secret) {
		vbuf_append(shown, data, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		vbuf_append(shown, "*", 1);
}

static int
ex_secret(const char *name, char *const *secrets, size_t nsecrets)
{
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], name) == 0)
			return 1;
	return 0;
}

static void
ex_base64(vbuf *out, const unsigned char *p, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = tbl[(v >> 18) & 63];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tbl[v & 63] : '=';
		vbuf_append(out, q, 4);
	}
}

/* ${base64:NAME} or ${sasl_plain:USER:PASS} (RFC 4616: no authorization
 * identity, NUL, user, NUL, password), base64-encoded into enc. Returns
 * whether a credential went into it, or -1 with err. */
static int
ex_fn(const char *arg, const char *end, int plain, const scn_vars *vars,
    char *const *secrets, size_t nsecrets, vbuf *enc, char *err, size_t errlen)
{
	vbuf raw = VBUF_INIT;
	int secret = 0;

	for (int k = 0; k < (plain ? 2 : 1); k++) {
		const char *colon = memchr(arg, ':', (size_t)(end - arg));
		const char *stop = colon ? colon : end;
		char name[64];
		const char *val;

		if (stop == arg || (size_t)(stop - arg) >= sizeof(name)) {
			snprintf(err, errlen, "bad variable reference in template");
			vbuf_free(&raw);
			return -1;
		}
		memcpy(name, arg, (size_t)(stop - arg));
		name[stop - arg] = '\0';
		val = scn_vars_get(vars, name);
		if (val == NULL) {
			snprintf(err, errlen, "unknown variable \"%s\"", name);
			vbuf_free(&raw);
			return -1;
		}
		secret |= ex_secret(name, secrets, nsecrets);
		if (plain)
			vbuf_append(&raw, "", 1);
		vbuf_append_str(&raw, val);
		arg = stop + 1;
	}
	ex_base64(enc, (const unsigned char *)raw.data, raw.len);
	vbuf_free(&raw);
	return secret;
}

int
scn_expand(const char *tmpl, const scn_vars *vars, vbuf *out, char *err, size_t errlen)
{
	return scn_expand_masked(tmpl, vars, NULL, 0, out, NULL, err, errlen);
}

int
scn_expand_masked(const char *tmpl, const scn_vars *vars, char *const *secrets,
    size_t nsecrets, vbuf *out, vbuf *shown, char *err, size_t errlen)
{
	const char *c = tmpl;
	size_t start = out->len;

	for (;;) {
		const char *d = strstr(c, "${");
		const char *end;
		size_t len;

		if (d == NULL) {
			ex_put(out, shown, c, strlen(c), 0);
			break;
		}
		ex_put(out, shown, c, (size_t)(d - c), 0);
		end = strchr(d, '}');
		if (end == NULL) {
			snprintf(err, errlen, "unterminated \"${\" in template");
			return -1;
		}
		len = (size_t)(end - d - 2);
		if (len > 7 && strncmp(d + 2, "repeat:", 7) == 0) {
			const char *text = d + 9;
			const char *colon = memchr(text, ':', (size_t)(end - text));
			unsigned long long n;
			char *e;

			if (colon == NULL) {
				snprintf(err, errlen, "malformed ${repeat:TEXT:N}");
				return -1;
			}
			n = strtoull(colon + 1, &e, 10);
			if (e != end || n > HARNESS_REPEAT_MAX) {
				snprintf(err, errlen, "malformed count in ${repeat:TEXT:N}");
				return -1;
			}
			if ((unsigned long long)(colon - text) * n + (out->len - start) > HARNESS_EXPAND_MAX) {
				snprintf(err, errlen, "template expands to more than %d bytes",
				    HARNESS_EXPAND_MAX);
				return -1;
			}
			for (unsigned long long i = 0; colon > text && i < n; i++)
				ex_put(out, shown, text, (size_t)(colon - text), 0);
		} else if ((len > 7 && strncmp(d + 2, "base64:", 7) == 0) ||
		    (len > 11 && strncmp(d + 2, "sasl_plain:", 11) == 0)) {
			int plain = d[2] == 's';
			vbuf enc = VBUF_INIT;
			int secret = ex_fn(d + 2 + (plain ? 11 : 7), end, plain, vars, secrets,
			    nsecrets, &enc, err, errlen);

			if (secret < 0)
				return -1;
			ex_put(out, shown, enc.data ? enc.data : "", enc.len, secret);
			vbuf_free(&enc);
		} else {
			char name[64];
			const char *val;

			if (len == 0 || len >= sizeof(name)) {
				snprintf(err, errlen, "bad variable reference in template");
				return -1;
			}
			memcpy(name, d + 2, len);
			name[len] = '\0';
			val = scn_vars_get(vars, name);
			if (val == NULL) {
				snprintf(err, errlen, "unknown variable \"%s\"", name);
				return -1;
			}
			ex_put(out, shown, val, strlen(val), ex_secret(name, secrets, nsecrets));
		}
		c = end + 1;
	}
	if (out->data == NULL)
		vbuf_append(out, "", 0);
	if (shown != NULL && shown->data == NULL)
		vbuf_append(shown, "", 0);
	return 0;
}
