/*
 * fuzz_scenario - the scenario loader fed hostile files.
 *
 * The input is a scenario file. A load that fails must say why in an
 * error that names the file; a load that succeeds must give a scenario
 * whose every part keeps the promises of scenario.h (ranges, counts, one
 * reply per pipelined command, no step after a close or drop, checks in
 * the catalog), and every template it accepted must expand once the
 * variables it may name are set: the built-ins, the scenario's own and
 * everything it captures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/catalog.h"
#include "harness/scenario/scenario.h"
#include "harness/smtp/command.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_scenario: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_NAME "fuzz.json"

static void
fuzz_check_where(const scn_where *w)
{
	FUZZ_CHECK(w->path != NULL && w->path[0] == '$');
	FUZZ_CHECK(w->line >= 1 && w->col >= 1);
}

static void
fuzz_check_expect(const scn_expect *e)
{
	fuzz_check_where(&e->where);
	for (size_t i = 0; i < e->ncodes; i++)
		FUZZ_CHECK(e->codes[i] >= 200 && e->codes[i] <= 599);
	for (size_t i = 0; i < e->nclasses; i++)
		FUZZ_CHECK(e->classes[i] >= 2 && e->classes[i] <= 5);
	FUZZ_CHECK(e->esc == NULL || strchr("245", e->esc[0]) != NULL);
	FUZZ_CHECK(!e->has_text_re || e->text_src != NULL);
	for (size_t i = 0; i < e->nkeywords; i++)
		for (const char *c = e->keywords[i]; *c; c++)
			FUZZ_CHECK(!(*c >= 'a' && *c <= 'z'));
	FUZZ_CHECK(!e->has_capture || (e->capture_var != NULL && !scn_var_builtin(e->capture_var)));
	FUZZ_CHECK(e->check == NULL || chk_catalog_find(e->check) != NULL);
	FUZZ_CHECK(e->verdict == RPT_FAIL || e->verdict == RPT_WARN || e->verdict == RPT_INFO);
}

static void
fuzz_check_step(const scn_scenario *s, size_t i)
{
	const scn_step *st = &s->steps[i];

	FUZZ_CHECK(st->index == i + 1);
	fuzz_check_where(&st->where);
	FUZZ_CHECK(st->timeout_ms >= 1 && st->timeout_ms <= HARNESS_STEP_WAIT_MAX);
	FUZZ_CHECK(st->delay_ms <= HARNESS_STEP_WAIT_MAX);
	FUZZ_CHECK(st->pause_ms <= HARNESS_STEP_WAIT_MAX);
	switch (st->send_kind) {
	case SCN_SEND_LINES:
		FUZZ_CHECK(st->nsends >= 1);
		FUZZ_CHECK(st->nexpects <= 1 || st->nexpects == st->nsends);
		FUZZ_CHECK(!st->pipeline || st->nexpects == st->nsends);
		for (size_t j = 0; j < st->nsends; j++)
			FUZZ_CHECK(strpbrk(st->sends[j], "\r\n") == NULL);
		break;
	case SCN_SEND_RAW:
		FUZZ_CHECK(st->nsends >= 1 && !st->pipeline);
		break;
	case SCN_SEND_DATA:
		FUZZ_CHECK(!st->data_raw || st->nsends == 1);
		FUZZ_CHECK(st->data_generate == 0 || st->nsends == 0);
		FUZZ_CHECK(st->data_generate <= HARNESS_STREAM_MAX / 2);
		break;
	case SCN_SEND_NONE:
		FUZZ_CHECK(st->nsends == 0 && !st->pipeline);
		break;
	}
	for (size_t j = 0; j < st->nexpects; j++)
		fuzz_check_expect(&st->expects[j]);
	FUZZ_CHECK(!(st->expect_closed && st->drop != SCN_DROP_NONE));
	if (st->expect_closed || st->drop != SCN_DROP_NONE)
		FUZZ_CHECK(i + 1 == s->nsteps);
	FUZZ_CHECK(!st->expect_closed || (st->closed_ms >= 1 && st->closed_ms <= HARNESS_STEP_WAIT_MAX));
	FUZZ_CHECK(st->closed_check == NULL || chk_catalog_find(st->closed_check) != NULL);
	FUZZ_CHECK(st->check == NULL || chk_catalog_find(st->check) != NULL);
}

/* Every template the loader accepted expands; raw ones then unescape
 * unless a variable brought a backslash in (a run-time ERROR, not a
 * loader bug). */
static void
fuzz_expand(const scn_scenario *s)
{
	scn_vars vars = { 0 };
	vbuf out = VBUF_INIT, raw = VBUF_INIT;
	char err[256];

	for (size_t i = 0; scn_builtin_vars[i]; i++)
		scn_vars_set(&vars, scn_builtin_vars[i], "v@fuzz.test");
	for (size_t i = 0; i < s->nvars; i++)
		scn_vars_set(&vars, s->vars[i].name, s->vars[i].value);
	for (size_t i = 0; i < s->nsteps; i++)
		for (size_t j = 0; j < s->steps[i].nexpects; j++)
			if (s->steps[i].expects[j].has_capture)
				scn_vars_set(&vars, s->steps[i].expects[j].capture_var, "captured");

	for (size_t i = 0; i < s->nsteps; i++) {
		const scn_step *st = &s->steps[i];
		int is_raw = st->send_kind == SCN_SEND_RAW || st->data_raw;

		for (size_t j = 0; j < st->nsends; j++) {
			int rc;

			vbuf_reset(&out);
			err[0] = '\0';
			rc = scn_expand(st->sends[j], &vars, &out, err, sizeof(err));
			/* only the variables' own length can push a template that
			 * loaded past the bound */
			FUZZ_CHECK(rc == 0 || strncmp(err, "template expands to more", 24) == 0);
			FUZZ_CHECK(out.len <= HARNESS_STREAM_MAX / 2);
			if (rc == 0 && is_raw) {
				vbuf_reset(&raw);
				if (smtp_unescape(out.data, out.len, &raw, err, sizeof(err)) == 0)
					FUZZ_CHECK(raw.len <= out.len);
			}
		}
	}
	vbuf_free(&out);
	vbuf_free(&raw);
	scn_vars_free(&vars);
}

/* A server-role scenario: sessions of steps, rules, the default replies. */
static void
fuzz_check_server(const scn_scenario *s)
{
	const scn_server *srv = s->server;
	static const char *const verbs[] = { "EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT",
		"QUIT", "NOOP", "XYZZY", NULL };

	FUZZ_CHECK(srv != NULL);
	FUZZ_CHECK(s->nsteps == 0);
	FUZZ_CHECK(srv->nsessions >= 1 && srv->nsessions <= 100);
	for (size_t i = 0; i < srv->nsessions; i++) {
		const scn_session *ses = &srv->sessions[i];

		FUZZ_CHECK(ses->nsteps >= 1 && ses->nsteps <= HARNESS_STEPS_MAX + 1);
		for (size_t j = 0; j < ses->nsteps; j++) {
			const scn_srv_step *st = &ses->steps[j];

			if (st->index > 0)
				fuzz_check_where(&st->where);
			FUZZ_CHECK(st->reply.len == 0 || st->reply.bytes != NULL);
			FUZZ_CHECK(st->check == NULL || chk_catalog_find(st->check) != NULL);
			FUZZ_CHECK(st->verb == NULL || st->kind == SCN_SRV_EXPECT);
		}
	}
	for (size_t i = 0; i < srv->nrules; i++) {
		const scn_rule *ru = &srv->rules[i];

		fuzz_check_where(&ru->where);
		FUZZ_CHECK((ru->nth != 0) + (ru->every != 0) + (ru->chance_ppm != 0) == 1);
		FUZZ_CHECK(ru->chance_ppm <= 1000000);
		FUZZ_CHECK(ru->reply.set);
		FUZZ_CHECK(!ru->chance_ppm || srv->random);
	}
	FUZZ_CHECK(srv->message != NULL || srv->message_len == 0);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		for (int tls = 0; tls <= 1; tls++) {
			size_t len = 0;
			char *r = scn_server_default_reply(srv, verbs[i], tls, &len);

			FUZZ_CHECK(r != NULL && len >= 5 && r[len - 1] == '\n');
			free(r);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	scn_scenario *s = NULL;
	int rc;

	err[0] = '\0';
	rc = scn_load_buffer(FUZZ_NAME, (const char *)data, size, &s, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 && s == NULL);
		FUZZ_CHECK(strncmp(err, FUZZ_NAME ":", sizeof(FUZZ_NAME)) == 0);
		return 0;
	}
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(s->id != NULL && s->id[0] != '\0');
	FUZZ_CHECK(s->summary != NULL && s->summary[0] != '\0');
	FUZZ_CHECK(s->nrefs >= 1);
	FUZZ_CHECK(s->check == NULL || chk_catalog_find(s->check) != NULL);
	FUZZ_CHECK(s->timeout_ms >= 1 && s->deadline_ms >= 1);
	fuzz_check_where(&s->id_where);
	if (s->role == SCN_ROLE_SERVER) {
		fuzz_check_server(s);
		scn_free(s);
		return 0;
	}
	FUZZ_CHECK(s->role == SCN_ROLE_CLIENT && s->server == NULL);
	FUZZ_CHECK(s->nvars <= HARNESS_VARS_MAX);
	FUZZ_CHECK(s->nsteps >= 1 && s->nsteps <= HARNESS_STEPS_MAX);
	for (size_t i = 0; i < s->nsteps; i++)
		fuzz_check_step(s, i);
	fuzz_expand(s);
	scn_free(s);
	return 0;
}
