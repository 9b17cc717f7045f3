/*
 * test_scenario_server - the loader on server-role scenarios: what each
 * field compiles to (steps, replies, faults, rules, sessions, message,
 * capability set, client expectations), the implied greeting, the default
 * replies, and the one-line error for each kind of malformed file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario/scenario.h"
#include "harness/util/xalloc.h"

/* Line 1 of the test scenarios; what follows starts on line 2, column 1. */
#define HEAD "{\"id\": \"t.x\", \"summary\": \"s\", \"refs\": [\"RFC 5321 4.1\"], \"role\": \"server\",\n"
#define STEPS(x) HEAD "\"steps\": [" x "]}"

static scn_scenario *
load_ok(const char *text)
{
	char err[2048] = "";
	scn_scenario *s = NULL;
	int rc = scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err));

	ck_assert_msg(rc == 0, "load failed: %s", err);
	ck_assert_ptr_nonnull(s);
	return s;
}

static int
load_err(const char *text, const char *want)
{
	char err[2048] = "";
	scn_scenario *s = NULL;
	int rc = scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err));

	if (rc != -1 || s != NULL) {
		fprintf(stderr, "loaded, expected the error\n  %s\n", want);
		scn_free(s);
		return 1;
	}
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "error\n  got:  %s\n  want: %s\n", err, want);
		return 1;
	}
	return 0;
}

START_TEST(test_scenario_server_steps)
{
	scn_scenario *s = load_ok(STEPS(
	    "{\"greet\": [\"220-mx\", \"220 hello\"], \"drip_ms\": 5},"
	    "{\"expect\": {\"verb\": \"ehlo\"}},"
	    "{\"expect\": {\"verb\": \"MAIL\", \"args\": \"^from:<a@b>\"}, \"reply\": \"250 ok\", "
	    "\"delay_ms\": 300},"
	    "{\"expect\": {\"verb\": \"RCPT\"}, \"repeat\": true, \"reply\": null},"
	    "{\"expect\": {\"verb\": \"NOOP\"}, \"optional\": true, \"raw_reply\": \"250 \\\\x00x\\\\r\\\\n\"},"
	    "{\"expect\": \"content\", \"content\": \"same\", \"drop\": \"reset\", \"when\": \"before\"}"));
	const scn_server *srv = s->server;
	const scn_srv_step *st;
	regmatch_t m[1];

	ck_assert_int_eq(s->role, SCN_ROLE_SERVER);
	ck_assert_ptr_nonnull(srv);
	ck_assert_uint_eq(s->nsteps, 0);
	ck_assert_uint_eq(srv->nsessions, 1);
	ck_assert_uint_eq(srv->sessions[0].nsteps, 6);
	st = srv->sessions[0].steps;
	ck_assert_int_eq(st[0].kind, SCN_SRV_GREET);
	ck_assert_uint_eq(st[0].index, 1);
	ck_assert_int_eq(st[0].reply.set, 1);
	ck_assert_str_eq(st[0].reply.bytes, "220-mx\r\n220 hello\r\n");
	ck_assert_uint_eq(st[0].drip_ms, 5);
	ck_assert_int_eq(st[1].kind, SCN_SRV_EXPECT);
	ck_assert_str_eq(st[1].verb, "EHLO");
	ck_assert_int_eq(st[1].reply.set, 0);
	ck_assert_int_eq(st[2].has_args, 1);
	/* arguments match case-insensitively */
	ck_assert_int_eq(regexec(&st[2].args_re, "FROM:<A@B> SIZE=1", 1, m, 0), 0);
	ck_assert_str_eq(st[2].reply.bytes, "250 ok\r\n");
	ck_assert_uint_eq(st[2].delay_ms, 300);
	ck_assert_int_eq(st[3].repeat, 1);
	ck_assert_int_eq(st[3].reply.set, 1);
	ck_assert_int_eq(st[3].reply.silent, 1);
	ck_assert_int_eq(st[4].optional, 1);
	ck_assert_uint_eq(st[4].reply.len, 8);
	ck_assert_int_eq(memcmp(st[4].reply.bytes, "250 \0x\r\n", 8), 0);
	ck_assert_int_eq(st[5].kind, SCN_SRV_CONTENT);
	ck_assert_int_eq(st[5].content_same, 1);
	ck_assert_int_eq(st[5].drop, SCN_DROP_RESET);
	ck_assert_int_eq(st[5].when, SCN_WHEN_BEFORE);
	scn_free(s);

	/* "line": the whole line, for a SASL response that has no verb */
	s = load_ok(STEPS("{\"expect\": {\"line\": \"^\\\\*$\"}, \"reply\": \"501 cancelled\"}"));
	st = s->server->sessions[0].steps;
	ck_assert_int_eq(st[1].has_line, 1);
	ck_assert_ptr_null(st[1].verb);
	ck_assert_int_eq(regexec(&st[1].line_re, "*", 1, m, 0), 0);
	ck_assert_int_ne(regexec(&st[1].line_re, "dXNlcg==", 1, m, 0), 0);
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_server_defaults)
{
	scn_scenario *s = load_ok(STEPS("{\"expect\": {\"verb\": \"QUIT\"}}"));
	const scn_server *srv = s->server;
	size_t len;
	char *r;

	/* an implied greeting before the first step */
	ck_assert_uint_eq(srv->sessions[0].nsteps, 2);
	ck_assert_int_eq(srv->sessions[0].steps[0].kind, SCN_SRV_GREET);
	ck_assert_uint_eq(srv->sessions[0].steps[0].index, 0);
	ck_assert_int_eq(srv->sessions[0].steps[0].reply.set, 0);
	/* a default capability set with PIPELINING, a default message */
	ck_assert_uint_ge(srv->nehlo, 3);
	ck_assert_int_eq(srv->pipelining, 1);
	ck_assert_int_eq(srv->chunking, 0);
	ck_assert_ptr_nonnull(srv->message);
	ck_assert_uint_gt(srv->message_len, 0);
	ck_assert_int_eq(srv->client_exit, SCN_EXIT_ANY);
	ck_assert_uint_eq(srv->client_timeout_ms, 30000);
	r = scn_server_default_reply(srv, "EHLO", 0, &len);
	ck_assert_int_eq(strncmp(r, "250-mx.harness.test\r\n250-PIPELINING\r\n", 37), 0);
	ck_assert_int_eq(strcmp(r + len - 2, "\r\n"), 0);
	xfree(r);
	r = scn_server_default_reply(srv, "DATA", 0, &len);
	ck_assert_int_eq(r[0], '3');
	xfree(r);
	r = scn_server_default_reply(srv, NULL, 0, &len);
	ck_assert_int_eq(strncmp(r, "250 ", 4), 0);
	xfree(r);
	r = scn_server_default_reply(srv, "XYZZY", 0, &len);
	ck_assert_int_eq(strncmp(r, "502 ", 4), 0);
	xfree(r);
	scn_free(s);

	/* after STARTTLS: the same capabilities without STARTTLS, unless
	 * "ehlo_tls" says otherwise */
	s = load_ok(HEAD "\"ehlo\": [\"PIPELINING\", \"STARTTLS\"], \"steps\": ["
	    "{\"expect\": {\"verb\": \"STARTTLS\"}, \"starttls\": true}]}");
	ck_assert_int_eq(s->server->starttls, 1);
	ck_assert_int_eq(s->server->sessions[0].steps[1].starttls, 1);
	ck_assert_int_eq(scn_server_has(s->server, "STARTTLS", 0), 1);
	ck_assert_int_eq(scn_server_has(s->server, "STARTTLS", 1), 0);
	ck_assert_int_eq(scn_server_has(s->server, "PIPELINING", 1), 1);
	r = scn_server_default_reply(s->server, "EHLO", 1, &len);
	ck_assert_str_eq(r, "250-mx.harness.test\r\n250 PIPELINING\r\n");
	xfree(r);
	scn_free(s);
	s = load_ok(HEAD "\"ehlo\": [\"PIPELINING\", \"STARTTLS\"], \"ehlo_tls\": [\"SIZE 5000\"], "
	    "\"steps\": [{\"expect\": {\"verb\": \"EHLO\"}}]}");
	ck_assert_int_eq(s->server->starttls, 0);
	ck_assert_int_eq(scn_server_has(s->server, "PIPELINING", 1), 0);
	ck_assert_int_eq(scn_server_has(s->server, "SIZE", 1), 1);
	scn_free(s);

	/* no implied greeting before a drop or a closed step */
	s = load_ok(STEPS("{\"drop\": \"close\"}"));
	ck_assert_uint_eq(s->server->sessions[0].nsteps, 1);
	ck_assert_int_eq(s->server->sessions[0].steps[0].kind, SCN_SRV_DROP);
	scn_free(s);
	s = load_ok(STEPS("{\"greet\": null}, {\"closed\": {\"within_ms\": 500}}"));
	ck_assert_int_eq(s->server->sessions[0].steps[0].reply.silent, 1);
	ck_assert_int_eq(s->server->sessions[0].steps[1].kind, SCN_SRV_CLOSED);
	ck_assert_uint_eq(s->server->sessions[0].steps[1].timeout_ms, 500);
	scn_free(s);
}
END_TEST

START_TEST(test_scenario_server_top_level)
{
	scn_scenario *s = load_ok(HEAD
	    "\"ehlo\": [\"SIZE 1000\", \"CHUNKING\"],"
	    "\"message\": {\"lines\": [\"Subject: x\", \"\", \".dot\"]},"
	    "\"client\": {\"exit\": \"nonzero\", \"timeout_ms\": 5000},"
	    "\"rules\": [{\"on\": \"rcpt\", \"nth\": 3, \"reply\": \"452 4.5.3 too many\"},"
	    " {\"on\": \"greeting\", \"every\": 2, \"reply\": \"421 busy\"}],"
	    "\"sessions\": [[{\"greet\": \"421 later\"}], [{\"expect\": {\"verb\": \"QUIT\"}}]]}");
	const scn_server *srv = s->server;

	ck_assert_uint_eq(srv->nehlo, 2);
	ck_assert_int_eq(srv->pipelining, 0);
	ck_assert_int_eq(srv->chunking, 1);
	ck_assert_str_eq(srv->message, "Subject: x\r\n\r\n.dot\r\n");
	ck_assert_int_eq(srv->client_exit, SCN_EXIT_NONZERO);
	ck_assert_uint_eq(srv->client_timeout_ms, 5000);
	ck_assert_uint_eq(srv->nrules, 2);
	ck_assert_str_eq(srv->rules[0].verb, "RCPT");
	ck_assert_uint_eq(srv->rules[0].nth, 3);
	ck_assert_str_eq(srv->rules[0].reply.bytes, "452 4.5.3 too many\r\n");
	ck_assert_ptr_null(srv->rules[1].verb);
	ck_assert_uint_eq(srv->rules[1].every, 2);
	ck_assert_uint_eq(srv->rules[0].chance_ppm, 0);
	ck_assert_int_eq(srv->random, 0);
	ck_assert_uint_eq(srv->nsessions, 2);
	ck_assert_uint_eq(srv->sessions[0].nsteps, 1);
	ck_assert_uint_eq(srv->sessions[1].nsteps, 2);
	scn_free(s);

	s = load_ok(HEAD "\"rules\": [{\"on\": \"RCPT\", \"chance\": 0.25, \"reply\": \"451 busy\"},"
	    " {\"on\": \"greeting\", \"chance\": 1, \"reply\": \"421 busy\"}],"
	    "\"steps\": [{\"expect\": {}}]}");
	ck_assert_int_eq(s->server->random, 1);
	ck_assert_uint_eq(s->server->rules[0].chance_ppm, 250000);
	ck_assert_uint_eq(s->server->rules[0].nth, 0);
	ck_assert_uint_eq(s->server->rules[0].every, 0);
	ck_assert_uint_eq(s->server->rules[1].chance_ppm, 1000000);
	scn_free(s);

	s = load_ok(HEAD "\"ehlo\": [], \"message\": {\"raw\": \"a\\\\nb\"}, \"client\": {\"exit\": 0},"
	    "\"steps\": [{\"expect\": {}}]}");
	ck_assert_uint_eq(s->server->nehlo, 0);
	ck_assert_uint_eq(s->server->message_len, 3);
	ck_assert_int_eq(s->server->client_exit, SCN_EXIT_ZERO);
	ck_assert_ptr_null(s->server->sessions[0].steps[1].verb);
	scn_free(s);
}
END_TEST

typedef struct err_case {
	const char *text;
	const char *want;
} err_case;

static const err_case err_cases[] = {
	{ HEAD "\"requires\": \"X\", \"steps\": [{\"greet\": true}]}",
	  "t.json:2:13: $.requires: unknown key \"requires\" (expected one of \"id\", \"summary\", "
	  "\"refs\", \"role\", \"timeout_ms\", \"deadline_ms\", \"check\", \"comment\", \"ehlo\", "
	  "\"ehlo_tls\", \"message\", \"client\", \"rules\", \"steps\", \"sessions\")" },
	{ HEAD "\"steps\": [{\"greet\": true}], \"sessions\": [[{\"greet\": true}]]}",
	  "t.json:1:1: $: expected exactly one of \"steps\" (one connection) and \"sessions\" "
	  "(an array of steps per connection)" },
	{ STEPS("{\"expect\": {\"verb\": \"MA1L\"}}"),
	  "t.json:2:31: $.steps[0].expect.verb: expected an SMTP verb such as \"MAIL\" (letters "
	  "only), got \"MA1L\"" },
	{ STEPS("{\"expect\": {\"verb\": \"MAIL\", \"args\": \"(\"}}"),
	  "t.json:2:47: $.steps[0].expect.args: expected a POSIX extended regular expression, "
	  "got \"(\": Unmatched ( or \\(" },
	{ STEPS("{\"expect\": {\"line\": \"[\"}}"),
	  "t.json:2:31: $.steps[0].expect.line: expected a POSIX extended regular expression, "
	  "got \"[\": Invalid regular expression" },
	{ STEPS("{\"expect\": \"data\"}"),
	  "t.json:2:22: $.steps[0].expect: expected \"content\" or an object {\"verb\": V, "
	  "\"args\": REGEX}, got \"data\"" },
	{ STEPS("{\"expect\": {}, \"reply\": \"250 a\\r\\n\"}"),
	  "t.json:2:35: $.steps[0].reply: expected one reply line without CR or LF (the harness "
	  "appends CRLF; use \"raw_reply\" for bytes of your own)" },
	{ STEPS("{\"expect\": {}, \"reply\": \"250\", \"raw_reply\": \"250\\\\r\\\\n\"}"),
	  "t.json:2:11: $.steps[0]: expected \"reply\" or \"raw_reply\", not both" },
	{ STEPS("{\"expect\": {}, \"raw_reply\": \"\\\\q\"}"),
	  "t.json:2:39: $.steps[0].raw_reply: expected a string with valid escapes: bad escape \\q "
	  "at offset 0" },
	{ STEPS("{\"expect\": {}, \"reply\": 250}"),
	  "t.json:2:35: $.steps[0].reply: expected a reply line, a non-empty array of lines, or "
	  "null (no reply), got 250" },
	{ STEPS("{\"expect\": {}, \"drop\": \"close\", \"when\": \"during\"}"),
	  "t.json:2:51: $.steps[0].when: expected \"before\", \"mid\" or \"after\" (the reply), "
	  "got \"during\"" },
	{ STEPS("{\"expect\": {}, \"when\": \"mid\"}"),
	  "t.json:2:34: $.steps[0].when: \"when\" only applies with \"drop\"" },
	{ STEPS("{\"expect\": {}, \"drop\": \"close\"}, {\"expect\": {}}"),
	  "t.json:2:44: $.steps[1]: expected no step after the step that drops the connection: "
	  "it would never run" },
	{ STEPS("{\"expect\": {}, \"content\": \"same\"}"),
	  "t.json:2:37: $.steps[0].content: \"content\" only applies to {\"expect\": \"content\"}" },
	{ STEPS("{\"expect\": \"content\", \"repeat\": true}"),
	  "t.json:2:43: $.steps[0].repeat: \"repeat\" only applies to {\"expect\": {\"verb\": ...}}" },
	{ STEPS("{\"expect\": {}}, {\"greet\": true}"),
	  "t.json:2:27: $.steps[1]: expected \"greet\" only in the first step of a session" },
	{ STEPS("{\"greet\": true, \"expect\": {}}"),
	  "t.json:2:11: $.steps[0]: expected one of \"greet\", \"expect\", \"closed\" in a step" },
	{ STEPS("{\"closed\": true, \"reply\": \"x\"}"),
	  "t.json:2:37: $.steps[0].reply: \"reply\" does not apply to a \"closed\" step" },
	{ STEPS("{\"comment\": \"x\"}"),
	  "t.json:2:11: $.steps[0]: expected a step that does something: one of \"greet\", "
	  "\"expect\", \"closed\", \"drop\"" },
	{ HEAD "\"ehlo\": [\"SIZE\\r\\n1\"], \"steps\": [{\"greet\": true}]}",
	  "t.json:2:10: $.ehlo[0]: expected a capability line: an EHLO keyword, then parameters "
	  "after a space (\"SIZE 10240000\", \"AUTH PLAIN\"), got \"SIZE\\x0d\\x0a1\"" },
	{ HEAD "\"client\": {\"exit\": 1}, \"steps\": [{\"greet\": true}]}",
	  "t.json:2:20: $.client.exit: expected 0, \"nonzero\" or \"any\", got 1" },
	{ HEAD "\"message\": {\"lines\": [\"a\\nb\"]}, \"steps\": [{\"greet\": true}]}",
	  "t.json:2:23: $.message.lines[0]: expected a message line (a string without CR or LF), "
	  "got \"a\\x0ab\"" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"reply\": \"452 x\"}], \"steps\": [{\"greet\": true}]}",
	  "t.json:2:11: $.rules[0]: expected exactly one of \"nth\", \"every\", \"chance\"" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"nth\": 1, \"chance\": 0.5, \"reply\": \"452 x\"}], "
	  "\"steps\": [{\"greet\": true}]}",
	  "t.json:2:11: $.rules[0]: expected exactly one of \"nth\", \"every\", \"chance\"" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"chance\": 0, \"reply\": \"452 x\"}], "
	  "\"steps\": [{\"greet\": true}]}",
	  "t.json:2:36: $.rules[0].chance: expected a probability, a number above 0 and at most 1, "
	  "got 0" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"chance\": 1.5, \"reply\": \"452 x\"}], "
	  "\"steps\": [{\"greet\": true}]}",
	  "t.json:2:36: $.rules[0].chance: expected a probability, a number above 0 and at most 1, "
	  "got 1.5" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"chance\": \"half\", \"reply\": \"452 x\"}], "
	  "\"steps\": [{\"greet\": true}]}",
	  "t.json:2:36: $.rules[0].chance: expected a probability, a number above 0 and at most 1, "
	  "got \"half\"" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"nth\": 0, \"reply\": \"452 x\"}], "
	  "\"steps\": [{\"greet\": true}]}",
	  "t.json:2:33: $.rules[0].nth: expected an integer 1-1000000, got 0" },
	{ HEAD "\"rules\": [{\"on\": \"RCPT\", \"nth\": 2}], \"steps\": [{\"greet\": true}]}",
	  "t.json:2:11: $.rules[0]: expected \"reply\" or \"raw_reply\"" },
	{ HEAD "\"sessions\": [], \"steps\": null}",
	  "t.json:1:1: $: expected exactly one of \"steps\" (one connection) and \"sessions\" "
	  "(an array of steps per connection)" },
	{ STEPS("{\"expect\": {\"verb\": \"MAIL\"}, \"starttls\": true}"),
	  "t.json:2:52: $.steps[0].starttls: \"starttls\" only applies to {\"expect\": {\"verb\": "
	  "\"STARTTLS\"}} (not repeated)" },
	{ STEPS("{\"expect\": {\"verb\": \"STARTTLS\"}, \"starttls\": 1}"),
	  "t.json:2:56: $.steps[0].starttls: expected true or false, got 1" },
	{ HEAD "\"ehlo_tls\": \"SIZE\", \"steps\": [{\"greet\": true}]}",
	  "t.json:2:13: $.ehlo_tls: expected an array of capability lines such as \"SIZE 10240000\" "
	  "(may be empty), got \"SIZE\"" },
	{ HEAD "\"sessions\": [[]]}",
	  "t.json:2:14: $.sessions[0]: expected a non-empty array of steps, got an array" },
};

START_TEST(test_scenario_server_errors)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		if (load_err(err_cases[i].text, err_cases[i].want)) {
			fprintf(stderr, "  (case %zu)\n", i);
			bad++;
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_scenario_server_shipped)
{
	scn_list list = { 0 };
	char err[2048] = "";
	int rc = scn_load_path(HARNESS_SOURCE_DIR "/scenarios/clients", &list, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_ge(list.n, 10);
	for (size_t i = 0; i < list.n; i++)
		ck_assert_int_eq(list.items[i]->role, SCN_ROLE_SERVER);
	scn_list_free(&list);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scenario_server");
	TCase *tc = tcase_create("scenario_server");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scenario_server_steps);
	tcase_add_test(tc, test_scenario_server_defaults);
	tcase_add_test(tc, test_scenario_server_top_level);
	tcase_add_test(tc, test_scenario_server_errors);
	tcase_add_test(tc, test_scenario_server_shipped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
