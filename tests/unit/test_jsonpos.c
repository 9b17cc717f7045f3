#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util/jsonpos.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* Builds from an exact-size heap copy with no NUL after it, so that ASan
 * catches any read past len. */
static void
build(jsonpos *jp, const char *text, size_t len)
{
	char *copy = xmalloc(len ? len : 1);

	memcpy(copy, text, len);
	jsonpos_build(jp, copy, len);
	xfree(copy);
}

/* Asserts that path stands at line:col. */
static void
at(const jsonpos *jp, const char *path, int line, int col)
{
	int l = 0, c = 0;

	ck_assert_msg(jsonpos_find(jp, path, &l, &c) == 0, "%s not found", path);
	ck_assert_msg(l == line && c == col, "%s at %d:%d, expected %d:%d", path, l, c, line, col);
}

static void
absent(const jsonpos *jp, const char *path)
{
	int l = 0, c = 0;

	ck_assert_msg(jsonpos_find(jp, path, &l, &c) == -1, "%s found", path);
	ck_assert_int_eq(l, 1);
	ck_assert_int_eq(c, 1);
}

START_TEST(test_jsonpos_nested)
{
	const char *t = "{\n"
	    "  \"a\": {\"b\": [1, {\"c\": true}]},\n"
	    "  \"d\": \"x\",\n"
	    "  \"e\": [[1, 2], [null, -3.5e2]]\n"
	    "}";
	jsonpos jp;

	build(&jp, t, strlen(t));
	at(&jp, "$", 1, 1);
	at(&jp, "$.a", 2, 8);
	at(&jp, "$.a.b", 2, 14);
	at(&jp, "$.a.b[0]", 2, 15);
	at(&jp, "$.a.b[1]", 2, 18);
	at(&jp, "$.a.b[1].c", 2, 24);
	at(&jp, "$.d", 3, 8);
	at(&jp, "$.e", 4, 8);
	at(&jp, "$.e[0]", 4, 9);
	at(&jp, "$.e[0][1]", 4, 13);
	at(&jp, "$.e[1]", 4, 17);
	at(&jp, "$.e[1][0]", 4, 18);
	at(&jp, "$.e[1][1]", 4, 24);
	ck_assert_uint_eq(jp.n, 14);
	absent(&jp, "$.a.b[2]");
	absent(&jp, "$.e[2]");
	absent(&jp, "$.a.c");
	absent(&jp, "$.");
	absent(&jp, "");
	jsonpos_free(&jp);
	ck_assert_ptr_null(jp.e);
	jsonpos_free(&jp);	/* twice is fine */
	jsonpos_free(NULL);
}
END_TEST

START_TEST(test_jsonpos_empty_containers)
{
	const char *t = "{\"a\": {}, \"b\": [], \"c\": [ ], \"d\": [{}, []], \"e\": 0}";
	jsonpos jp;

	build(&jp, t, strlen(t));
	at(&jp, "$.a", 1, 7);
	at(&jp, "$.b", 1, 16);
	at(&jp, "$.c", 1, 25);
	at(&jp, "$.d[0]", 1, 36);
	at(&jp, "$.d[1]", 1, 40);
	at(&jp, "$.e", 1, 50);
	absent(&jp, "$.b[0]");
	absent(&jp, "$.c[0]");
	jsonpos_free(&jp);
}
END_TEST

START_TEST(test_jsonpos_quoted_keys)
{
	/* keys: "a b", "x.y", q"k, back\slash, tab<TAB>key, "", "Ab" (from
	 * \u0041b), under_score9, a UTF-8 key and one from a surrogate pair */
	const char *t = "{\"a b\": 1, \"x.y\": 2, \"q\\\"k\": 3, \"back\\\\slash\": 4,\n"
	    "\"tab\\tkey\": 5, \"\": 6, \"\\u0041b\": 7, \"under_score9\": 8,\n"
	    "\"\xc3\xbcn\": 9, \"\\ud83d\\ude00\": 10, \"sl\\/ash\": 11}";
	jsonpos jp;
	vbuf p = VBUF_INIT;

	build(&jp, t, strlen(t));
	at(&jp, "$[\"a b\"]", 1, 9);
	at(&jp, "$[\"x.y\"]", 1, 19);
	at(&jp, "$[\"q\\\"k\"]", 1, 30);
	at(&jp, "$[\"back\\\\slash\"]", 1, 48);
	at(&jp, "$[\"tab\\x09key\"]", 2, 13);
	at(&jp, "$[\"\"]", 2, 20);
	at(&jp, "$.Ab", 2, 34);
	at(&jp, "$.under_score9", 2, 53);
	at(&jp, "$[\"\xc3\xbcn\"]", 3, 8);
	at(&jp, "$[\"\xf0\x9f\x98\x80\"]", 3, 27);
	at(&jp, "$[\"sl/ash\"]", 3, 42);

	/* The helpers build the same paths from the keys cJSON decodes. */
	vbuf_append_str(&p, "$");
	jsonpos_path_key(&p, "tab\tkey");
	ck_assert_str_eq(vbuf_str(&p), "$[\"tab\\x09key\"]");
	vbuf_reset(&p);
	vbuf_append_str(&p, "$");
	jsonpos_path_key(&p, "steps");
	jsonpos_path_index(&p, 12);
	jsonpos_path_key(&p, "a-b");
	jsonpos_path_key(&p, "q\"\\\x7f");
	jsonpos_path_key(&p, "");
	ck_assert_str_eq(vbuf_str(&p), "$.steps[12][\"a-b\"][\"q\\\"\\\\\\x7f\"][\"\"]");
	vbuf_free(&p);
	jsonpos_free(&jp);
}
END_TEST

START_TEST(test_jsonpos_escaped_strings)
{
	/* Quotes, brackets and commas inside strings are not structure. */
	const char *t = "{\"s\": \"a\\\"},]{\\\\\", \"t\": [\"[\", \"\\u005d\"], \"u\": \"\\\\\"}";
	jsonpos jp;

	build(&jp, t, strlen(t));
	at(&jp, "$.s", 1, 7);
	at(&jp, "$.t", 1, 25);
	at(&jp, "$.t[0]", 1, 26);
	at(&jp, "$.t[1]", 1, 31);
	at(&jp, "$.u", 1, 47);
	ck_assert_uint_eq(jp.n, 6);
	jsonpos_free(&jp);
}
END_TEST

START_TEST(test_jsonpos_duplicate_keys_first_wins)
{
	const char *t = "{\"k\": 1,\n \"k\": {\"z\": 2},\n \"m\": [0, 1], \"k\": 3}";
	jsonpos jp;

	build(&jp, t, strlen(t));
	at(&jp, "$.k", 1, 7);
	at(&jp, "$.k.z", 2, 13);	/* only the second "k" has a "z" */
	at(&jp, "$.m[1]", 3, 11);
	ck_assert_uint_eq(jp.n, 8);
	jsonpos_free(&jp);
}
END_TEST

START_TEST(test_jsonpos_crlf)
{
	const char *t = "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    2\r\n  ],\r\n\t\"c\": null\r\n}\r\n";
	jsonpos jp;
	int l, c;

	build(&jp, t, strlen(t));
	at(&jp, "$", 1, 1);
	at(&jp, "$.a", 2, 8);
	at(&jp, "$.b", 3, 8);
	at(&jp, "$.b[0]", 4, 5);
	at(&jp, "$.c", 6, 7);
	jsonpos_free(&jp);

	/* offsets agree with the scanner: a CR is a byte on its line */
	jsonpos_offset_to_lc(t, strlen(t), (size_t)(strstr(t, "2") - t), &l, &c);
	ck_assert_int_eq(l, 4);
	ck_assert_int_eq(c, 5);
	jsonpos_offset_to_lc(t, strlen(t), 1, &l, &c);	/* the first CR */
	ck_assert_int_eq(l, 1);
	ck_assert_int_eq(c, 2);
}
END_TEST

START_TEST(test_jsonpos_byte_order_mark)
{
	/* cJSON skips a UTF-8 BOM; positions still count its bytes. */
	const char *t = "\xef\xbb\xbf{\"a\": 1,\n\"b\": 2}";
	jsonpos jp;

	build(&jp, t, strlen(t));
	at(&jp, "$", 1, 4);
	at(&jp, "$.a", 1, 10);
	at(&jp, "$.b", 2, 6);
	jsonpos_free(&jp);
}
END_TEST

/* Every entry of a build on a prefix stands where the full build has it:
 * a truncated text gives fewer positions, never wrong ones. */
START_TEST(test_jsonpos_truncated_never_past_len)
{
	const char *t = "{\"id\": \"x\\\"y\", \"steps\": [{\"send\": [\"A\", \"B\\u00e9\"]},\n"
	    " {\"recv\": {\"code\": [250, 251], \"t\\u0041g\": true}}, null, -1.5e3],\n"
	    " \"k\\\\\": {\"\": []}}";
	size_t len = strlen(t);
	jsonpos full;

	build(&full, t, len);
	ck_assert_uint_eq(full.n, 17);
	at(&full, "$.steps[1].recv.tAg", 2, 44);
	for (size_t n = 0; n <= len; n++) {
		jsonpos jp;

		build(&jp, t, n);
		ck_assert_uint_le(jp.n, full.n);
		for (size_t i = 0; i < jp.n; i++) {
			int l, c;

			ck_assert_msg(jsonpos_find(&full, jp.e[i].path, &l, &c) == 0,
			    "prefix %zu: %s not in the full text", n, jp.e[i].path);
			ck_assert_msg(l == jp.e[i].line && c == jp.e[i].col,
			    "prefix %zu: %s at %d:%d, full text %d:%d", n, jp.e[i].path,
			    jp.e[i].line, jp.e[i].col, l, c);
		}
		jsonpos_free(&jp);
	}
	jsonpos_free(&full);
}
END_TEST

START_TEST(test_jsonpos_garbage)
{
	/* Not JSON at all: keep what was seen, never crash or overrun. */
	static const char *const junk[] = {
		"", " ", "\"", "\"\\", "\"\\u12", "{\"a\\u12", "{\"a\":\"\\ud800\\u", "[[[[",
		"{{{{", "}}}]]]", "{\"a\" 1 \"b\"}", "{\"a\":,,}", "[,,,]", "{1: 2}", "]",
		"\xef\xbb", "\xef\xbb\xbf", "{\"\\", "[\"a\",", "{\"a\":[1,{\"b\":"
	};
	jsonpos jp;

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		build(&jp, junk[i], strlen(junk[i]));
		jsonpos_free(&jp);
	}
	build(&jp, "[1,{\"b\":", 8);
	at(&jp, "$", 1, 1);
	at(&jp, "$[0]", 1, 2);
	at(&jp, "$[1]", 1, 4);
	absent(&jp, "$[1].b");
	jsonpos_free(&jp);

	/* a NUL byte inside the text is just a byte */
	build(&jp, "[\"a\0b\", 2]", 10);
	at(&jp, "$[1]", 1, 9);
	jsonpos_free(&jp);
}
END_TEST

START_TEST(test_jsonpos_deep_nesting)
{
	/* The scanner keeps its stack on the heap, so depth costs no C stack;
	 * paths longer than 4096 bytes ("$" and 1365 "[0]") are not recorded,
	 * so deep nesting cannot make the paths quadratic in the text. */
	size_t depth = 100000;
	char *t = xmalloc(depth * 2);
	vbuf p = VBUF_INIT;
	jsonpos jp;

	memset(t, '[', depth);
	memset(t + depth, ']', depth);
	build(&jp, t, depth * 2);
	ck_assert_uint_eq(jp.n, 1366);
	vbuf_append_str(&p, "$");
	for (int i = 0; i < 3; i++)
		jsonpos_path_index(&p, 0);
	at(&jp, vbuf_str(&p), 1, 4);
	for (int i = 3; i < 1365; i++)
		jsonpos_path_index(&p, 0);
	at(&jp, vbuf_str(&p), 1, 1366);
	jsonpos_path_index(&p, 0);
	absent(&jp, vbuf_str(&p));
	jsonpos_free(&jp);
	vbuf_free(&p);
	xfree(t);
}
END_TEST

START_TEST(test_jsonpos_long_key)
{
	/* A 5000-byte key: its values are not recorded, its siblings are. */
	vbuf t = VBUF_INIT, key = VBUF_INIT, p = VBUF_INIT;
	jsonpos jp;

	for (int i = 0; i < 5000; i++)
		vbuf_append_byte(&key, 'k');
	vbuf_printf(&t, "{\"%s\": [1, 2, 3], \"b\": 4}", vbuf_str(&key));
	build(&jp, t.data, t.len);
	ck_assert_uint_eq(jp.n, 2);
	at(&jp, "$", 1, 1);
	at(&jp, "$.b", 1, 5000 + 22);
	vbuf_append_str(&p, "$");
	jsonpos_path_key(&p, vbuf_str(&key));
	absent(&jp, vbuf_str(&p));
	jsonpos_free(&jp);
	vbuf_free(&t);
	vbuf_free(&key);
	vbuf_free(&p);
}
END_TEST

START_TEST(test_jsonpos_offset_to_lc)
{
	const char *t = "ab\ncd\r\nef";	/* 9 bytes */
	size_t len = strlen(t);
	static const struct { size_t off; int line, col; } want[] = {
		{ 0, 1, 1 }, { 1, 1, 2 }, { 2, 1, 3 }, { 3, 2, 1 }, { 5, 2, 3 },
		{ 6, 2, 4 }, { 7, 3, 1 }, { 8, 3, 2 }, { 9, 3, 3 },
		{ 10, 3, 3 }, { (size_t)-1, 3, 3 }	/* past len: clamped */
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int l = 0, c = 0;

		jsonpos_offset_to_lc(t, len, want[i].off, &l, &c);
		ck_assert_msg(l == want[i].line && c == want[i].col, "offset %zu: %d:%d", want[i].off,
		    l, c);
	}
	{
		int l = 0, c = 0;

		jsonpos_offset_to_lc("", 0, 0, &l, &c);
		ck_assert_int_eq(l, 1);
		ck_assert_int_eq(c, 1);
		/* only len bytes are read: the newline after them does not count */
		jsonpos_offset_to_lc("ab\n", 2, 3, &l, &c);
		ck_assert_int_eq(l, 1);
		ck_assert_int_eq(c, 3);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jsonpos");
	TCase *tc = tcase_create("jsonpos");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_jsonpos_nested);
	tcase_add_test(tc, test_jsonpos_empty_containers);
	tcase_add_test(tc, test_jsonpos_quoted_keys);
	tcase_add_test(tc, test_jsonpos_escaped_strings);
	tcase_add_test(tc, test_jsonpos_duplicate_keys_first_wins);
	tcase_add_test(tc, test_jsonpos_crlf);
	tcase_add_test(tc, test_jsonpos_byte_order_mark);
	tcase_add_test(tc, test_jsonpos_truncated_never_past_len);
	tcase_add_test(tc, test_jsonpos_garbage);
	tcase_add_test(tc, test_jsonpos_deep_nesting);
	tcase_add_test(tc, test_jsonpos_long_key);
	tcase_add_test(tc, test_jsonpos_offset_to_lc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
