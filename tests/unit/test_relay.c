#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/scenario/relay.h"
#include "harness/scenario/scenario.h"
#include "harness/util/xalloc.h"

/* A valid scenario; the tests replace one part of it. */
#define ZONE "{\"zone\": \"test\", \"records\": [" \
	"{\"name\": \"example.test\", \"type\": \"MX\", \"preference\": 10, \"exchange\": \"mx.example.test\"}," \
	"{\"name\": \"mx.example.test\", \"type\": \"A\", \"address\": \"127.0.0.2\"}]}"
#define HOSTS "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\", \"data\": 451, \"faults_for\": 1}," \
	"{\"name\": \"down\", \"listen\": \"127.0.0.3:25\", \"refuse\": true}]"
#define MESSAGE "{\"lines\": [\"Subject: t\", \"\", \"body\"]}"
#define SUBMISSION "{\"from\": \"a@hb.test\", \"to\": [\"b@example.test\"]}"
#define EXPECT "[{\"check\": \"rfc5321.4.5.4.1.queue-and-retry\", \"deliveries\": {\"mx\": 1}}," \
	"{\"check\": \"rfc5321.5.1.mx-first\", \"dns\": {\"name\": \"example.test\", \"type\": \"MX\"}, \"before\": \"mx\"}]"

static char *
scenario(const char *zone, const char *hosts, const char *message, const char *submission,
    const char *expect)
{
	return xasprintf("{\"id\": \"relay.t\", \"summary\": \"s\", \"role\": \"relay\",\n"
	    "\"zone\": %s,\n\"hosts\": %s,\n\"message\": %s,\n\"submission\": %s,\n"
	    "\"expect\": %s}\n", zone, hosts, message, submission, expect);
}

/* Loads text as "r.json"; the error line, or "" when it loaded. */
static const char *
load_err(char *text)
{
	static char err[1024];
	rly_scenario *s = NULL;

	err[0] = '\0';
	if (rly_load_buffer("r.json", text, strlen(text), &s, err, sizeof(err)) == 0) {
		ck_assert_ptr_nonnull(s);
		rly_free(s);
	} else {
		ck_assert_ptr_null(s);
	}
	xfree(text);
	return err;
}

START_TEST(test_relay_loads)
{
	char *text = scenario(ZONE, HOSTS, MESSAGE, SUBMISSION, EXPECT);
	char err[1024] = "";
	rly_scenario *s = NULL;
	char *crlf;
	size_t len;

	ck_assert_msg(rly_load_buffer("r.json", text, strlen(text), &s, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(s->id, "relay.t");
	ck_assert_uint_eq(s->nhosts, 2);
	ck_assert_str_eq(s->hosts[0].addr, "127.0.0.2");
	ck_assert_str_eq(s->hosts[0].port, "25");
	ck_assert_int_eq(s->hosts[0].data, 451);
	ck_assert_uint_eq(s->hosts[0].faults_for, 1);
	ck_assert_int_eq(s->hosts[1].refuse, 1);
	ck_assert_uint_eq(s->nexpects, 2);
	ck_assert_int_eq(s->expects[0].kind, RLY_DELIVERIES);
	ck_assert_uint_eq(s->expects[0].counts[0].n, 1);
	ck_assert_int_eq(s->expects[1].kind, RLY_DNS);
	ck_assert_uint_eq(s->expects[1].host, 0);
	ck_assert_int_eq(s->expects[1].verdict, RPT_FAIL);
	ck_assert_uint_eq(s->within_ms, 30000);
	ck_assert_ptr_nonnull(s->zone);
	crlf = rly_message_crlf(s, &len);
	ck_assert_str_eq(crlf, "Subject: t\r\n\r\nbody\r\n");
	xfree(crlf);
	rly_free(s);
	xfree(text);
}
END_TEST

START_TEST(test_relay_errors)
{
	/* Each error names the file, the line and column, and the JSON path. */
	ck_assert_str_eq(load_err(scenario(ZONE, "[{\"name\": \"mx\", \"listen\": \"10.0.0.1:25\"}]",
	    MESSAGE, SUBMISSION, EXPECT)),
	    "r.json:3:36: $.hosts[0].listen: expected an address in 127/8 and a port, "
	    "\"127.0.0.2:25\", got \"10.0.0.1:25\"");
	ck_assert_str_eq(load_err(scenario(ZONE,
	    "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\", \"data\": 250}]", MESSAGE, SUBMISSION,
	    EXPECT)), "r.json:3:60: $.hosts[0].data: expected a code 400-599 or \"drop\", got 250");
	ck_assert_str_eq(load_err(scenario(ZONE,
	    "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\", \"greet\": 554}]", MESSAGE, SUBMISSION,
	    EXPECT)), "r.json:3:61: $.hosts[0].greet: expected a code 400-499, got 554");
	ck_assert_str_eq(load_err(scenario(ZONE,
	    "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\"}, {\"name\": \"mx\", \"listen\": \"127.0.0.3:25\"}]",
	    MESSAGE, SUBMISSION, EXPECT)),
	    "r.json:3:53: $.hosts[1]: expected a name of its own, got \"mx\" again ($.hosts[0])");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc5321.5.1.mx-first\", \"deliveries\": {\"nohost\": 1}}]")),
	    "r.json:6:71: $.expect[0].deliveries.nohost: expected the name of a host of \"hosts\", "
	    "got \"nohost\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc9999.nothing\", \"received\": \"mx\"}]")),
	    "r.json:6:22: $.expect[0].check: expected a catalog id (see `smtp-harness catalog`), "
	    "got \"rfc9999.nothing\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc5321.5.1.mx-first\", \"received\": \"mx\", \"bounce\": \"mx\"}]")),
	    "r.json:6:12: $.expect[0]: expected one predicate per row, got \"received\" and \"bounce\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc5321.5.1.mx-first\"}]")),
	    "r.json:6:12: $.expect[0]: expected a predicate (\"dns\", \"order\", \"deliveries\", "
	    "\"connections\", \"retry\", \"same_content\", \"received\", \"bounce\", "
	    "\"dsn_envelope\", \"dsn_report\", \"no_bare_line_ends\", \"dsn_params\", "
	    "\"rcpts\", \"localparts\", \"notices\", \"no_dsn_params\" or "
	    "\"dsn_return\"), got none");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc5321.5.1.dns-errors\", \"dns\": {\"name\": \"example.test\", "
	    "\"type\": \"MX\", \"rcode\": \"FORMERR\"}}]")),
	    "r.json:6:103: $.expect[0].dns.rcode: expected one of \"NOERROR\", \"NXDOMAIN\", "
	    "\"SERVFAIL\", \"REFUSED\", got \"FORMERR\"");
	/* A quoted local-part is a mailbox; a space outside quotes is not. */
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE,
	    "{\"from\": \"a@hb.test\", \"to\": [\"\\\"Quoted Part\\\"@example.test\", \"Bad Part@example.test\"]}",
	    EXPECT)),
	    "r.json:5:76: $.submission.to[1]: expected a mailbox local@domain, got "
	    "\"Bad Part@example.test\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE,
	    "{\"from\": \"nobody\", \"to\": [\"b@example.test\"]}", EXPECT)),
	    "r.json:5:24: $.submission.from: expected a mailbox local@domain, or \"\" for <>, "
	    "got \"nobody\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, "{\"lines\": [\"a\\r\\nb\"]}", SUBMISSION,
	    EXPECT)), "r.json:4:23: $.message.lines[0]: expected a string without CR LF, "
	    "got \"a\\x0d\\x0ab\"");
	/* An inline zone's errors are placed in the scenario file. */
	ck_assert_str_eq(load_err(scenario("{\"zone\": \"test\", \"records\": [{\"name\": \"x.test\", "
	    "\"type\": \"MX\"}]}", HOSTS, MESSAGE, SUBMISSION, EXPECT)),
	    "r.json:2:38: $.zone.records[0]: expected a member \"preference\", got none");
	ck_assert_str_eq(load_err(xstrdup("{\"id\": \"r\", \"role\": \"client\"}")),
	    "r.json:1:21: $.role: expected \"relay\", got \"client\"");
	ck_assert_str_eq(load_err(xstrdup("{\"id\": \"r\", \"role\": \"relay\",")),
	    "r.json:1:29: expected valid JSON, got the end of the file");
}
END_TEST

/* A relay scenario in a directory of others loads as SCN_ROLE_RELAY, and
 * a zone named by path is read relative to the scenario. */
/* A host without DSN refusing one recipient; the DSN rows. */
START_TEST(test_relay_dsn_rows)
{
	char *text = scenario(ZONE, "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\", \"dsn\": false, "
	    "\"rcpt_codes\": {\"c@example.test\": 550, \"d@example.test\": \"drop\"}}]", MESSAGE,
	    SUBMISSION, "[{\"check\": \"rfc3461.5.2.6.failure-dsn-rules\", \"notices\": \"mx\", "
	    "\"actions\": {\"c@example.test\": \"failed\", \"b@example.test\": null}},"
	    "{\"check\": \"rfc3461.5.2.2.relay-to-non-dsn\", \"no_dsn_params\": \"mx\"},"
	    "{\"check\": \"rfc3461.4.ret-envid-honoured\", \"dsn_return\": \"mx\", "
	    "\"returned\": \"text/rfc822-headers\", \"original_envid\": \"test123\"}]");
	char err[1024] = "";
	rly_scenario *s = NULL;

	ck_assert_msg(rly_load_buffer("r.json", text, strlen(text), &s, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(s->hosts[0].no_dsn, 1);
	ck_assert_uint_eq(s->hosts[0].nrcpt_codes, 2);
	ck_assert_str_eq(s->hosts[0].rcpt_codes[0].mailbox, "c@example.test");
	ck_assert_int_eq(s->hosts[0].rcpt_codes[0].code, 550);
	ck_assert_int_eq(s->hosts[0].rcpt_codes[1].code, RLY_DROP);
	ck_assert_int_eq(s->expects[0].kind, RLY_NOTICES);
	ck_assert_uint_eq(s->expects[0].nactions, 2);
	ck_assert_str_eq(s->expects[0].actions[0].action, "failed");
	ck_assert_ptr_null(s->expects[0].actions[1].action);
	ck_assert_int_eq(s->expects[1].kind, RLY_NO_DSN_PARAMS);
	ck_assert_str_eq(s->expects[2].returned, "text/rfc822-headers");
	ck_assert_str_eq(s->expects[2].orig_envid, "test123");
	rly_free(s);
	xfree(text);

	ck_assert_str_eq(load_err(scenario(ZONE, "[{\"name\": \"mx\", \"listen\": \"127.0.0.2:25\", "
	    "\"rcpt_codes\": {\"c@example.test\": 250}}]", MESSAGE, SUBMISSION, EXPECT)),
	    "r.json:3:85: $.hosts[0].rcpt_codes[\"c@example.test\"]: expected a code 400-599 or "
	    "\"drop\", got 250");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc3461.5.2.6.failure-dsn-rules\", \"notices\": \"mx\", "
	    "\"actions\": {\"c@example.test\": \"bounced\"}}]")),
	    "r.json:6:104: $.expect[0].actions[\"c@example.test\"]: expected \"failed\", \"delayed\", "
	    "\"delivered\", \"relayed\", \"expanded\" or null, got \"bounced\"");
	ck_assert_str_eq(load_err(scenario(ZONE, HOSTS, MESSAGE, SUBMISSION,
	    "[{\"check\": \"rfc3461.4.ret-envid-honoured\", \"dsn_return\": \"mx\"}]")),
	    "r.json:6:12: $.expect[0]: expected \"returned\" or \"original_envid\" with "
	    "\"dsn_return\", got neither");
}
END_TEST

START_TEST(test_relay_in_scenario_list)
{
	char dir[] = "/tmp/test_relay.XXXXXX";
	char *zpath, *spath, *text;
	FILE *f;
	scn_list list = { 0 };
	char err[1024] = "";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	zpath = xasprintf("%s/zone.json", dir);
	spath = xasprintf("%s/relay.json", dir);
	f = fopen(zpath, "w");
	fputs(ZONE, f);
	fclose(f);
	text = scenario("\"zone.json\"", HOSTS, MESSAGE, SUBMISSION, EXPECT);
	f = fopen(spath, "w");
	fputs(text, f);
	fclose(f);
	ck_assert_msg(scn_load_path(spath, &list, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(list.n, 1);
	ck_assert_int_eq(list.items[0]->role, SCN_ROLE_RELAY);
	ck_assert_ptr_nonnull(list.items[0]->relay);
	ck_assert_uint_eq(list.items[0]->relay->zone->nrr, 2);
	scn_list_free(&list);
	unlink(spath);
	unlink(zpath);
	rmdir(dir);
	xfree(zpath);
	xfree(spath);
	xfree(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_relay_loads);
	tcase_add_test(tc, test_relay_errors);
	tcase_add_test(tc, test_relay_dsn_rows);
	tcase_add_test(tc, test_relay_in_scenario_list);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
