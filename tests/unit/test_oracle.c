/*
 * test_oracle - reading a mailbox back: the three kinds of place, copies
 * sorted to the scenario whose key they carry, files older than the run
 * left alone, and the spec's syntax.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness/engine/oracle.h"
#include "harness/util/xalloc.h"

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/test-oracle.XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return xstrdup(d);
}

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
rmtree(const char *dir)
{
	char *cmd = xasprintf("rm -rf -- '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	xfree(cmd);
}

START_TEST(test_oracle_parse)
{
	orc_spec o;
	char err[256];

	ck_assert_int_eq(orc_parse("maildir:/m", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.kind, ORC_MAILDIR);
	ck_assert_str_eq(o.path, "/m");
	ck_assert_int_eq(orc_parse("mbox:/var/mail/x", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.kind, ORC_MBOX);
	ck_assert_int_eq(orc_parse("dir:d", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.kind, ORC_DIR);
	ck_assert_int_eq(orc_parse("maildir:", &o, err, sizeof(err)), -1);
	ck_assert_int_eq(orc_parse("imap:x", &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--oracle: expected maildir:DIR, mbox:FILE or dir:DIR, got \"imap:x\"");
	o.kind = ORC_DIR;
	o.path = "/nonexistent/oracle";
	ck_assert_int_eq(orc_usable(&o, err, sizeof(err)), -1);
	o.kind = ORC_MBOX;
	o.path = "/tmp/not-there-yet.mbox";	/* its directory exists: fine */
	ck_assert_int_eq(orc_usable(&o, err, sizeof(err)), 0);
	o.path = "/nonexistent/dir/mbox";
	ck_assert_int_eq(orc_usable(&o, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_oracle_maildir_sorted_and_old_files_skipped)
{
	char *d = tmpdir();
	char *p;
	orc_spec o = { ORC_MAILDIR, d };
	orc_found found[3];
	vbuf notes = VBUF_INIT;
	struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };

	memset(found, 0, sizeof(found));
	p = xasprintf("%s/new", d);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	xfree(p);
	p = xasprintf("%s/cur", d);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	xfree(p);
	p = xasprintf("%s/new/a", d);
	put(p, "Message-ID: <runPs0-1@x>\n\nbody\n");
	xfree(p);
	p = xasprintf("%s/cur/b:2,S", d);
	put(p, "Message-ID: <runPs2-1@x>\n\nmentions runPs0-9 too\n");
	xfree(p);
	p = xasprintf("%s/new/c", d);
	put(p, "Message-ID: <otherrun-1@x>\n\nsomeone else's\n");
	xfree(p);
	p = xasprintf("%s/new/old", d);	/* an earlier run's, by its time */
	put(p, "Message-ID: <runPs0-1@x>\n");
	ck_assert_int_eq(utimes(p, old), 0);
	xfree(p);

	orc_scan(&o, "runPs", time(NULL) - 5, found, 3, &notes);
	ck_assert_uint_eq(found[0].n, 2);	/* a, and b's mention */
	ck_assert_uint_eq(found[1].n, 0);
	ck_assert_uint_eq(found[2].n, 1);
	ck_assert_int_eq(found[2].v[0].mbox, 0);
	ck_assert_ptr_nonnull(strstr(found[2].v[0].path, "/cur/b:2,S"));
	ck_assert_uint_eq(found[2].v[0].len, strlen("Message-ID: <runPs2-1@x>\n\nmentions runPs0-9 too\n"));
	ck_assert_uint_eq(notes.len, 0);
	/* A second scan replaces the first one's copies. */
	orc_scan(&o, "runPs", time(NULL) - 5, found, 3, &notes);
	ck_assert_uint_eq(found[0].n, 2);
	for (size_t i = 0; i < 3; i++)
		orc_found_clear(&found[i]);
	vbuf_free(&notes);
	rmtree(d);
	xfree(d);
}
END_TEST

START_TEST(test_oracle_mbox_offsets)
{
	char *d = tmpdir();
	char *box = xasprintf("%s/mbox", d);
	const char *text = "From a Tue Dec  1 00:00:00 2026\nSubject: other\n\nx\n\n"
	    "From b Tue Dec  1 00:00:01 2026\nMessage-ID: <runPs1-1@x>\n\n>From quoted\n\n";
	orc_spec o = { ORC_MBOX, box };
	orc_found found[2];
	vbuf notes = VBUF_INIT;

	memset(found, 0, sizeof(found));
	put(box, text);
	orc_scan(&o, "runPs", time(NULL) - 5, found, 2, &notes);
	ck_assert_uint_eq(found[0].n, 0);
	ck_assert_uint_eq(found[1].n, 1);
	ck_assert_int_eq(found[1].v[0].mbox, 1);
	ck_assert_uint_eq(found[1].v[0].file_off, strstr(text, "Message-ID") - text);
	ck_assert_uint_eq(found[1].v[0].len, strlen("Message-ID: <runPs1-1@x>\n\n>From quoted\n"));
	for (size_t i = 0; i < 2; i++)
		orc_found_clear(&found[i]);
	vbuf_free(&notes);
	rmtree(d);
	xfree(box);
	xfree(d);
}
END_TEST

START_TEST(test_oracle_dir_walks_down)
{
	char *d = tmpdir();
	char *p = xasprintf("%s/a/b", d);
	char *f;
	orc_spec o = { ORC_DIR, d };
	orc_found found[1];
	vbuf notes = VBUF_INIT;

	memset(found, 0, sizeof(found));
	xfree(p);
	p = xasprintf("%s/a", d);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	xfree(p);
	p = xasprintf("%s/a/b", d);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	f = xasprintf("%s/msg.eml", p);
	put(f, "Message-ID: <runPs0-1@x>\r\n\r\nbody\r\n");
	xfree(f);
	f = xasprintf("%s/.hidden", p);	/* a writer's temporary file */
	put(f, "Message-ID: <runPs0-2@x>\r\n");
	xfree(f);
	xfree(p);
	orc_scan(&o, "runPs", time(NULL) - 5, found, 1, &notes);
	ck_assert_uint_eq(found[0].n, 1);
	ck_assert_ptr_nonnull(strstr(found[0].v[0].path, "/a/b/msg.eml"));
	orc_found_clear(&found[0]);
	vbuf_free(&notes);
	rmtree(d);
	xfree(d);
}
END_TEST

static Suite *
oracle_suite(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_oracle_parse);
	tcase_add_test(tc, test_oracle_maildir_sorted_and_old_files_skipped);
	tcase_add_test(tc, test_oracle_mbox_offsets);
	tcase_add_test(tc, test_oracle_dir_walks_down);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(oracle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
