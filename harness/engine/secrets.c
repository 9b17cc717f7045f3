/*
 * secrets - AUTH credentials kept out of what the server role records
 * (secrets.h).
 */
#include "harness/engine/secrets.h"

#include <string.h>
#include <strings.h>

#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

size_t
eng_secrets_response(const char *line, size_t len)
{
	if (len <= 1)
		return 0;
	if (len == 4 && strncasecmp(line, "QUIT", 4) == 0)
		return 0;
	return len;
}

void
eng_secrets_add(eng_secrets *sec, const char *s, size_t len)
{
	if (len < ENG_SECRETS_MIN || sec->n == ENG_SECRETS_MAX)
		return;
	for (size_t i = 0; i < sec->n; i++)
		if (sec->len[i] == len && memcmp(sec->s[i], s, len) == 0)
			return;
	sec->s[sec->n] = xmalloc(len);
	memcpy(sec->s[sec->n], s, len);
	sec->len[sec->n] = len;
	sec->n++;
}

/* The value of tmpl expanded with vars, remembered; a template whose
 * variables are not set adds nothing. */
static void
secrets_expand(eng_secrets *sec, const char *tmpl, const scn_vars *vars)
{
	vbuf out = VBUF_INIT;
	char err[256];

	if (scn_expand(tmpl, vars, &out, err, sizeof(err)) == 0)
		eng_secrets_add(sec, out.data ? out.data : "", out.len);
	vbuf_free(&out);
}

void
eng_secrets_add_vars(eng_secrets *sec, const scn_vars *vars)
{
	const char *v;

	if (vars == NULL)
		return;
	if ((v = scn_vars_get(vars, "auth_user")) != NULL) {
		eng_secrets_add(sec, v, strlen(v));
		secrets_expand(sec, "${base64:auth_user}", vars);
	}
	if ((v = scn_vars_get(vars, "auth_pass")) != NULL) {
		eng_secrets_add(sec, v, strlen(v));
		secrets_expand(sec, "${base64:auth_pass}", vars);
		if (scn_vars_get(vars, "auth_user") != NULL)
			secrets_expand(sec, "${sasl_plain:auth_user:auth_pass}", vars);
	}
}

/* Longest first: a short secret inside a longer one (a user name inside
 * a line that holds it) must not leave the rest of the longer visible. */
void
eng_secrets_scrub(const eng_secrets *sec, char *buf, size_t len)
{
	int done[ENG_SECRETS_MAX] = { 0 };

	if (buf == NULL)
		return;
	for (size_t k = 0; k < sec->n; k++) {
		size_t i = sec->n, n;

		for (size_t j = 0; j < sec->n; j++)
			if (!done[j] && (i == sec->n || sec->len[j] > sec->len[i]))
				i = j;
		done[i] = 1;
		n = sec->len[i];
		for (size_t at = 0; n <= len && at <= len - n; at++) {
			if (memcmp(buf + at, sec->s[i], n) == 0) {
				memset(buf + at, '*', n);
				at += n - 1;
			}
		}
	}
}

void
eng_secrets_free(eng_secrets *sec)
{
	for (size_t i = 0; i < sec->n; i++)
		xfree(sec->s[i]);
	sec->n = 0;
}
