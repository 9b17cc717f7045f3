#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/console/input.h"

static input_kind
parse(const char *line, input_cmd *c)
{
	input_parse(line, strlen(line), c);
	return c->kind;
}

START_TEST(test_console_input_commands)
{
	input_cmd c;

	ck_assert_int_eq(parse("", &c), INPUT_EMPTY);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse("\r", &c), INPUT_EMPTY);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse("EHLO x.test", &c), INPUT_COMMAND);
	ck_assert_str_eq(vbuf_str(&c.bytes), "EHLO x.test");
	input_cmd_clear(&c);
	/* A script with CRLF line ends: the CR is the line end's. */
	ck_assert_int_eq(parse("NOOP\r", &c), INPUT_COMMAND);
	ck_assert_str_eq(vbuf_str(&c.bytes), "NOOP");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse("::x", &c), INPUT_COMMAND);
	ck_assert_str_eq(vbuf_str(&c.bytes), ":x");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(" :data", &c), INPUT_COMMAND);
	input_cmd_clear(&c);
}
END_TEST

START_TEST(test_console_input_console_commands)
{
	static const struct {
		const char *line;
		input_kind kind;
		const char *arg;
	} cases[] = {
		{ ":data", INPUT_DATA, "" }, { ":pipe", INPUT_PIPE, "" },
		{ ":check", INPUT_CHECK, "" }, { ":help", INPUT_HELP, "" },
		{ ":quit", INPUT_QUIT, "" }, { ":save /tmp/x.json", INPUT_SAVE, "/tmp/x.json" },
		{ ":capture  a b.pcap", INPUT_CAPTURE, "a b.pcap" },
		{ ":raw NOOP", INPUT_RAW, "NOOP" },
		{ ":starttls", INPUT_STARTTLS, "" }, { ":reset", INPUT_RESET, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		input_cmd c;

		ck_assert_int_eq(parse(cases[i].line, &c), cases[i].kind);
		ck_assert_str_eq(vbuf_str(&c.bytes), cases[i].arg);
		input_cmd_clear(&c);
	}
}
END_TEST

START_TEST(test_console_input_raw_escapes)
{
	input_cmd c;

	ck_assert_int_eq(parse(":raw MAIL\\nFROM\\r\\n\\0\\x7f\\\\", &c), INPUT_RAW);
	ck_assert_uint_eq(c.bytes.len, 14);
	ck_assert(memcmp(c.bytes.data, "MAIL\nFROM\r\n\0\x7f\\", 14) == 0);
	input_cmd_clear(&c);

	ck_assert_int_eq(parse(":raw a\\q", &c), INPUT_ERROR);
	ck_assert_ptr_nonnull(strstr(c.err, ":raw: "));
	ck_assert_uint_eq(c.bytes.len, 0);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":raw \\x4", &c), INPUT_ERROR);
	input_cmd_clear(&c);
}
END_TEST

START_TEST(test_console_input_errors)
{
	input_cmd c;

	ck_assert_int_eq(parse(":", &c), INPUT_ERROR);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":frob x", &c), INPUT_ERROR);
	ck_assert_str_eq(c.err, "unknown console command \":frob\" (:help lists them)");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":save", &c), INPUT_ERROR);
	ck_assert_str_eq(c.err, ":save needs a file name");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":raw", &c), INPUT_ERROR);
	ck_assert_str_eq(c.err, ":raw needs bytes to send");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":data now", &c), INPUT_ERROR);
	ck_assert_str_eq(c.err, ":data takes no argument");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":DATA", &c), INPUT_ERROR);
	input_cmd_clear(&c);
	/* A very long unknown name is cut in the message, not overflowed. */
	{
		char line[400];

		memset(line, 'z', sizeof(line) - 1);
		line[0] = ':';
		line[sizeof(line) - 1] = '\0';
		ck_assert_int_eq(parse(line, &c), INPUT_ERROR);
		ck_assert_uint_lt(strlen(c.err), sizeof(c.err));
		input_cmd_clear(&c);
	}
	ck_assert_str_eq(input_kind_str(INPUT_RAW), "raw");
	ck_assert_str_eq(input_kind_str((input_kind)99), "?");
	ck_assert_ptr_nonnull(strstr(input_help(), ":save FILE"));
}
END_TEST

START_TEST(test_console_input_auth)
{
	input_cmd c;

	ck_assert_int_eq(parse(":auth plain joe s3cret", &c), INPUT_AUTH);
	ck_assert_str_eq(vbuf_str(&c.bytes), "AUTH PLAIN AGpvZQBzM2NyZXQ=");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth  LOGIN joe s3cret ", &c), INPUT_AUTH);
	ck_assert_str_eq(vbuf_str(&c.bytes), "AUTH LOGIN\nam9l\nczNjcmV0");
	input_cmd_clear(&c);
	/* Base64 padding: one, two and no '='. */
	ck_assert_int_eq(parse(":auth login a ab", &c), INPUT_AUTH);
	ck_assert_str_eq(vbuf_str(&c.bytes), "AUTH LOGIN\nYQ==\nYWI=");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth login abc abcd", &c), INPUT_AUTH);
	ck_assert_str_eq(vbuf_str(&c.bytes), "AUTH LOGIN\nYWJj\nYWJjZA==");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth cram-md5 a b", &c), INPUT_ERROR);
	ck_assert_str_eq(c.err, ":auth needs plain|login USER PASSWORD");
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth plain a", &c), INPUT_ERROR);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth plain a b c", &c), INPUT_ERROR);
	input_cmd_clear(&c);
	ck_assert_int_eq(parse(":auth", &c), INPUT_ERROR);
	input_cmd_clear(&c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("console_input");
	TCase *tc = tcase_create("console_input");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_console_input_commands);
	tcase_add_test(tc, test_console_input_console_commands);
	tcase_add_test(tc, test_console_input_raw_escapes);
	tcase_add_test(tc, test_console_input_errors);
	tcase_add_test(tc, test_console_input_auth);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
