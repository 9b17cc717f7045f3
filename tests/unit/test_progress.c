/*
 * test_progress - the lines a run prints as it goes: plain lines off a
 * terminal, a status line redrawn in place on one, colour unless
 * NO_COLOR, and the status line kept within the terminal's width.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/xalloc.h"
#include "reports/progress.h"
#include "reports/report.h"
#include "reports/result.h"

static rpt_scenario *
scenario(const char *id, rpt_verdict v)
{
	rpt_scenario *sc = rpt_scenario_new(id, NULL, NULL);

	sc->duration_ms = 5;
	if (v == RPT_FAIL)
		rpt_scenario_add_finding(sc, "rfc5321.4.1.1.5.rset", NULL, RPT_FAIL, 1, NULL,
		    "expected 250, got 354");
	else if (v == RPT_SKIP)
		rpt_scenario_set(sc, RPT_SKIP, "no PIPELINING");
	rpt_scenario_settle(sc);
	return sc;
}

/* Three scenarios, two at once, through a writer with flags and width;
 * returns what it wrote. */
static char *
play(int flags, size_t width, const char *const ids[3])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	rpt_progress *p;
	rpt_scenario *a = scenario(ids[0], RPT_PASS), *b = scenario(ids[1], RPT_FAIL);
	rpt_scenario *c = scenario(ids[2], RPT_SKIP);

	ck_assert_ptr_nonnull(fp);
	p = rpt_progress_new(fp, flags, 3, width, NULL);
	rpt_progress_start(p, a->id);
	rpt_progress_start(p, b->id);
	rpt_progress_done(p, b);
	rpt_progress_start(p, c->id);
	rpt_progress_done(p, a);
	rpt_progress_done(p, c);
	rpt_progress_end(p);
	rpt_progress_free(p);
	fclose(fp);
	rpt_scenario_free(a);
	rpt_scenario_free(b);
	rpt_scenario_free(c);
	return buf;
}

/* The plain lines rpt_text_scenario_line gives for the same finishes. */
static char *
plain_lines(const char *const ids[3])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	rpt_scenario *a = scenario(ids[0], RPT_PASS), *b = scenario(ids[1], RPT_FAIL);
	rpt_scenario *c = scenario(ids[2], RPT_SKIP);

	rpt_text_scenario_line(fp, b);
	rpt_text_scenario_line(fp, a);
	rpt_text_scenario_line(fp, c);
	fclose(fp);
	rpt_scenario_free(a);
	rpt_scenario_free(b);
	rpt_scenario_free(c);
	return buf;
}

/* What a terminal ends up showing: "\r\033[K" clears the current line;
 * colour codes are dropped. Also returns the longest status line drawn. */
static char *
screen(const char *out, size_t *widest)
{
	char *s = xcalloc(strlen(out) + 1, 1);
	size_t n = 0, line_start = 0;

	*widest = 0;
	for (const char *p = out; *p; p++) {
		if (strncmp(p, "\r\033[K", 4) == 0) {
			if (n - line_start > *widest)
				*widest = n - line_start;
			n = line_start;
			p += 3;
		} else if (p[0] == '\033' && p[1] == '[') {
			p += 2;
			while (*p && *p != 'm')
				p++;
			ck_assert_int_eq(*p, 'm');
		} else {
			ck_assert_msg(*p != '\033', "a raw ESC at %td", p - out);
			s[n++] = *p;
			if (*p == '\n')
				line_start = n;
		}
	}
	s[n] = '\0';
	return s;
}

static const char *const ids[3] = { "greeting.code-220", "session.rset", "pipelining.order" };

START_TEST(test_progress_plain_off_a_terminal)
{
	char *out = play(0, 0, ids), *want = plain_lines(ids);

	ck_assert_str_eq(out, want);
	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_null(strchr(out, '\r'));
	xfree(out);
	xfree(want);
}
END_TEST

START_TEST(test_progress_status_line_on_a_terminal)
{
	char *out = play(RPT_PROGRESS_TTY, 80, ids), *want = plain_lines(ids), *shown;
	size_t widest;

	/* While two run, the status line names both; it is redrawn below
	 * each finished line and erased at the end. */
	ck_assert_ptr_nonnull(strstr(out, "[0/3] running: greeting.code-220, session.rset\r\033[K"));
	ck_assert_ptr_nonnull(strstr(out, "\r\033[KFAIL  session.rset"));
	ck_assert_ptr_nonnull(strstr(out, "[1/3] running: greeting.code-220, pipelining.order"));
	ck_assert_ptr_null(strchr(out, '\007'));
	ck_assert_ptr_null(strstr(out, "\033[3"));	/* no colour without the flag */
	shown = screen(out, &widest);
	ck_assert_str_eq(shown, want);
	ck_assert_uint_le(widest, 79);
	xfree(shown);
	xfree(out);
	xfree(want);
}
END_TEST

START_TEST(test_progress_colour)
{
	char *out = play(RPT_PROGRESS_TTY | RPT_PROGRESS_COLOR, 80, ids), *want = plain_lines(ids);
	char *shown;
	size_t widest;

	ck_assert_ptr_nonnull(strstr(out, "\033[32mPASS\033[0m  greeting.code-220"));
	ck_assert_ptr_nonnull(strstr(out, "\033[1;31mFAIL\033[0m  session.rset"));
	ck_assert_ptr_nonnull(strstr(out, "\033[36mSKIP\033[0m  pipelining.order"));
	shown = screen(out, &widest);
	ck_assert_str_eq(shown, want);
	xfree(shown);
	xfree(out);
	xfree(want);

	/* Colour without a terminal is the caller's choice; still plain
	 * lines then, only coloured. */
	out = play(RPT_PROGRESS_COLOR, 0, ids);
	ck_assert_ptr_null(strchr(out, '\r'));
	ck_assert_ptr_nonnull(strstr(out, "\033[32mPASS\033[0m"));
	xfree(out);
}
END_TEST

START_TEST(test_progress_width_and_hostile_ids)
{
	static const char *const long_ids[3] = {
		"smuggling.a-rather-long-scenario-name", "smuggling.\033]0;title\007evil",
		"smuggling.third-one",
	};
	char *out = play(RPT_PROGRESS_TTY, 70, long_ids), *shown;
	size_t widest;

	/* Two running, only the first fits: the other is counted. */
	ck_assert_ptr_nonnull(strstr(out, "[0/3] running: smuggling.a-rather-long-scenario-name"));
	ck_assert_ptr_nonnull(strstr(out, " (+1 more)"));
	ck_assert_ptr_null(strchr(out, '\007'));
	shown = screen(out, &widest);	/* asserts no raw ESC of the id's */
	ck_assert_uint_le(widest, 69);
	ck_assert_ptr_nonnull(strstr(shown, "smuggling.\\x1b]0;title\\x07evil"));
	xfree(shown);
	xfree(out);

	/* A terminal narrower than one id: the line is cut, never wrapped. */
	out = play(RPT_PROGRESS_TTY, 12, long_ids);
	shown = screen(out, &widest);
	ck_assert_uint_le(widest, 11);
	xfree(shown);
	xfree(out);
}
END_TEST

START_TEST(test_progress_flags)
{
	ck_assert_int_eq(rpt_progress_flags(0, NULL, "xterm"), 0);
	ck_assert_int_eq(rpt_progress_flags(0, "", NULL), 0);
	ck_assert_int_eq(rpt_progress_flags(1, NULL, "xterm"), RPT_PROGRESS_TTY | RPT_PROGRESS_COLOR);
	ck_assert_int_eq(rpt_progress_flags(1, NULL, NULL), RPT_PROGRESS_TTY | RPT_PROGRESS_COLOR);
	/* NO_COLOR set and not empty turns colour off; empty does not. */
	ck_assert_int_eq(rpt_progress_flags(1, "1", "xterm"), RPT_PROGRESS_TTY);
	ck_assert_int_eq(rpt_progress_flags(1, "", "xterm"), RPT_PROGRESS_TTY | RPT_PROGRESS_COLOR);
	ck_assert_int_eq(rpt_progress_flags(1, NULL, "dumb"), RPT_PROGRESS_TTY);
}
END_TEST

static Suite *
progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_progress_plain_off_a_terminal);
	tcase_add_test(tc, test_progress_status_line_on_a_terminal);
	tcase_add_test(tc, test_progress_colour);
	tcase_add_test(tc, test_progress_width_and_hostile_ids);
	tcase_add_test(tc, test_progress_flags);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(progress_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
