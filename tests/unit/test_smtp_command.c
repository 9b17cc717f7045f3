#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/command.h"
#include "harness/util/vbuf.h"

static void
parse(const char *line, smtp_cmd *c)
{
	smtp_cmd_parse(line, strlen(line), c);
}

static int
args_eq(const smtp_cmd *c, const char *want)
{
	return c->args_len == strlen(want) && memcmp(c->args, want, c->args_len) == 0;
}

START_TEST(test_smtp_command_parse_mixed_case)
{
	smtp_cmd c;

	parse("MaIl fRoM:<a@b.test>", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_MAIL);
	ck_assert_str_eq(c.name, "MAIL");
	ck_assert_int_eq(c.has_space, 1);
	ck_assert(args_eq(&c, "fRoM:<a@b.test>"));

	parse("ehlo h.test", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_EHLO);
	ck_assert_str_eq(c.name, "EHLO");

	parse("starttls", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_STARTTLS);
	ck_assert_int_eq(c.has_space, 0);
	ck_assert_uint_eq(c.args_len, 0);

	const char *verbs[] = { "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN",
		"HELP", "NOOP", "QUIT", "BDAT", "STARTTLS", "AUTH", "ETRN", "TURN" };

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		smtp_verb v = smtp_verb_lookup(verbs[i], strlen(verbs[i]));

		ck_assert_int_ne(v, SMTP_VERB_UNKNOWN);
		ck_assert_str_eq(smtp_verb_str(v), verbs[i]);
	}
	ck_assert_int_eq(smtp_verb_lookup("rcpt", 4), SMTP_VERB_RCPT);
	ck_assert_int_eq(smtp_verb_lookup("RCP", 3), SMTP_VERB_UNKNOWN);
	ck_assert_int_eq(smtp_verb_lookup("RCPTX", 5), SMTP_VERB_UNKNOWN);
	ck_assert_int_eq(smtp_verb_lookup("MAIL", 3), SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(smtp_verb_str(SMTP_VERB_UNKNOWN), "UNKNOWN");
	ck_assert_str_eq(smtp_verb_str((smtp_verb)999), "UNKNOWN");
}
END_TEST

START_TEST(test_smtp_command_parse_spaces_and_garbage)
{
	smtp_cmd c;

	parse("NOOP", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_NOOP);
	ck_assert_int_eq(c.has_space, 0);

	parse("NOOP   ", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_NOOP);
	ck_assert_int_eq(c.has_space, 1);
	ck_assert_uint_eq(c.args_len, 0);

	parse("RCPT    TO:<x@y> ", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_RCPT);
	ck_assert(args_eq(&c, "TO:<x@y> "));

	parse("", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "");
	ck_assert_uint_eq(c.args_len, 0);

	parse(" NOOP", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "");
	ck_assert(args_eq(&c, "NOOP"));

	parse("MAIL:FROM:<a>", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "");

	parse("\x01\xff\x7f", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "");

	parse("xyzzy plugh", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "XYZZY");
	ck_assert(args_eq(&c, "plugh"));

	/* A tab does not separate: the verb is then not letters only. */
	parse("NOOP\tx", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_str_eq(c.name, "");

	/* Long verbs are named cut to HARNESS_VERB_MAX. */
	parse("abcdefghijklmnopqrstuvwxyz x", &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_UNKNOWN);
	ck_assert_uint_eq(strlen(c.name), HARNESS_VERB_MAX);
	ck_assert_str_eq(c.name, "ABCDEFGHIJKLMNOP");

	/* Parsing stops at len: bytes after it are not looked at. */
	smtp_cmd_parse("QUITXX", 4, &c);
	ck_assert_int_eq(c.verb, SMTP_VERB_QUIT);
	ck_assert_uint_eq(c.args_len, 0);
}
END_TEST

START_TEST(test_smtp_command_ends_group)
{
	smtp_verb enders[] = { SMTP_VERB_EHLO, SMTP_VERB_HELO, SMTP_VERB_DATA, SMTP_VERB_VRFY,
		SMTP_VERB_EXPN, SMTP_VERB_TURN, SMTP_VERB_QUIT, SMTP_VERB_NOOP, SMTP_VERB_STARTTLS,
		SMTP_VERB_AUTH, SMTP_VERB_ETRN, SMTP_VERB_HELP };
	smtp_verb others[] = { SMTP_VERB_MAIL, SMTP_VERB_RCPT, SMTP_VERB_RSET, SMTP_VERB_BDAT,
		SMTP_VERB_UNKNOWN };

	for (size_t i = 0; i < sizeof(enders) / sizeof(enders[0]); i++)
		ck_assert_int_eq(smtp_verb_ends_group(enders[i]), 1);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_int_eq(smtp_verb_ends_group(others[i]), 0);
	ck_assert_int_eq(smtp_verb_ends_group(SMTP_VERB_COUNT), 0);
}
END_TEST

START_TEST(test_smtp_command_format_and_stuff_lines)
{
	vbuf b = VBUF_INIT;
	const char *lines[] = { ".", "..", ".x", " .", "plain", "" };

	smtp_cmd_format(&b, "NOOP");
	ck_assert_str_eq(vbuf_str(&b), "NOOP\r\n");
	vbuf_reset(&b);
	smtp_data_stuff_lines(&b, lines, 6);
	ck_assert_str_eq(vbuf_str(&b), "..\r\n...\r\n..x\r\n .\r\nplain\r\n\r\n.\r\n");
	vbuf_reset(&b);
	smtp_data_stuff_lines(&b, NULL, 0);
	ck_assert_str_eq(vbuf_str(&b), ".\r\n");
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_command_stuff_text)
{
	vbuf b = VBUF_INIT;

	smtp_data_stuff_text(&b, "a\n.b\r\n..\nlast", 13);
	ck_assert_str_eq(vbuf_str(&b), "a\r\n..b\r\n...\r\nlast\r\n.\r\n");
	vbuf_reset(&b);
	/* Ending in a line end: no extra empty line. */
	smtp_data_stuff_text(&b, "x\r\n", 3);
	ck_assert_str_eq(vbuf_str(&b), "x\r\n.\r\n");
	vbuf_reset(&b);
	smtp_data_stuff_text(&b, "x\n\n", 3);
	ck_assert_str_eq(vbuf_str(&b), "x\r\n\r\n.\r\n");
	vbuf_reset(&b);
	smtp_data_stuff_text(&b, "", 0);
	ck_assert_str_eq(vbuf_str(&b), ".\r\n");
	vbuf_reset(&b);
	/* A bare CR inside a line is the caller's choice and stays. */
	smtp_data_stuff_text(&b, "a\rb\n.", 5);
	ck_assert_str_eq(vbuf_str(&b), "a\rb\r\n..\r\n.\r\n");
	vbuf_free(&b);
}
END_TEST

/* Each LF without a CR before it gets one; a last line without a line
 * end gets CRLF: what smtp_data_stuff_text sends, before stuffing. */
static void
normalize(const char *in, size_t len, vbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			vbuf_append_byte(out, '\r');
		vbuf_append_byte(out, in[i]);
	}
	if (len > 0 && in[len - 1] != '\n')
		vbuf_append(out, "\r\n", 2);
}

START_TEST(test_smtp_command_stuff_unstuff_round_trip)
{
	static const char *const texts[] = {
		".\n..\n.x\n .\n",
		"...\r\n.\r\n",
		".",
		"..",
		"a\r.b\n.c",
		"\n\n.\n",
		"x\r",
		".\r\r\n.\r",
		"plain text\r\nwith lines\r\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		vbuf st = VBUF_INIT, un = VBUF_INIT, norm = VBUF_INIT;
		size_t len = strlen(texts[i]);

		smtp_data_stuff_text(&st, texts[i], len);
		ck_assert_uint_ge(st.len, 3);
		ck_assert_int_eq(memcmp(st.data + st.len - 3, ".\r\n", 3), 0);
		smtp_data_unstuff(&un, st.data, st.len - 3);
		normalize(texts[i], len, &norm);
		ck_assert_msg(un.len == norm.len && memcmp(un.data, norm.data, un.len) == 0,
		    "round trip of text %zu", i);
		vbuf_free(&st);
		vbuf_free(&un);
		vbuf_free(&norm);
	}

	/* Lines API, then unstuff gives each line back with CRLF. */
	const char *lines[] = { ".", "..", ".x", " .", "" };
	vbuf st = VBUF_INIT, un = VBUF_INIT;

	smtp_data_stuff_lines(&st, lines, 5);
	smtp_data_unstuff(&un, st.data, st.len - 3);
	ck_assert_str_eq(vbuf_str(&un), ".\r\n..\r\n.x\r\n .\r\n\r\n");
	vbuf_free(&st);
	vbuf_free(&un);
}
END_TEST

START_TEST(test_smtp_command_unstuff_crlf_only)
{
	vbuf b = VBUF_INIT;

	/* Only CRLF starts a line: the dot after a bare LF stays. */
	smtp_data_unstuff(&b, "..a\n..b\r\n..c", 12);
	ck_assert_str_eq(vbuf_str(&b), ".a\n..b\r\n.c");
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_command_unescape_good)
{
	vbuf b = VBUF_INIT;
	char err[128] = "x";
	const char *in = "a\\r\\n\\t\\0\\x41\\xfF\\\\z";

	ck_assert_int_eq(smtp_unescape(in, strlen(in), &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.len, 9);
	ck_assert_int_eq(memcmp(b.data, "a\r\n\t\0A\xff\\z", 9), 0);
	ck_assert_str_eq(err, "");
	/* Appends to what is there. */
	ck_assert_int_eq(smtp_unescape("q", 1, &b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, 10);
	vbuf_free(&b);
}
END_TEST

START_TEST(test_smtp_command_unescape_bad)
{
	vbuf b = VBUF_INIT;
	char err[128];

	vbuf_append_str(&b, "keep");
	ck_assert_int_eq(smtp_unescape("EHLO \\q", 7, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad escape \\q at offset 5");
	/* out is left as it was. */
	ck_assert_str_eq(vbuf_str(&b), "keep");

	ck_assert_int_eq(smtp_unescape("ab\\", 3, &b, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at offset 2"));
	ck_assert_int_eq(smtp_unescape("\\x4", 3, &b, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "\\x at offset 0"));
	ck_assert_int_eq(smtp_unescape("0123\\xg1", 8, &b, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "\\x at offset 4"));
	ck_assert_int_eq(smtp_unescape("\\\x01", 2, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad escape \\(0x01) at offset 0");
	/* A small err buffer is cut, not overrun; no err at all is fine. */
	ck_assert_int_eq(smtp_unescape("\\q", 2, &b, err, 5), -1);
	ck_assert_str_eq(err, "bad ");
	ck_assert_int_eq(smtp_unescape("\\q", 2, &b, NULL, 0), -1);
	ck_assert_str_eq(vbuf_str(&b), "keep");
	vbuf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp_command");
	TCase *tc = tcase_create("smtp_command");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_smtp_command_parse_mixed_case);
	tcase_add_test(tc, test_smtp_command_parse_spaces_and_garbage);
	tcase_add_test(tc, test_smtp_command_ends_group);
	tcase_add_test(tc, test_smtp_command_format_and_stuff_lines);
	tcase_add_test(tc, test_smtp_command_stuff_text);
	tcase_add_test(tc, test_smtp_command_stuff_unstuff_round_trip);
	tcase_add_test(tc, test_smtp_command_unstuff_crlf_only);
	tcase_add_test(tc, test_smtp_command_unescape_good);
	tcase_add_test(tc, test_smtp_command_unescape_bad);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
