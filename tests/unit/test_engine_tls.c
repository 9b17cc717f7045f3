/*
 * test_engine_tls - the "starttls" step of client-role sessions against a
 * small server on a thread (blocking sockets, the etls server side, a
 * self-signed certificate made at test time): a whole session over TLS,
 * a reply injected right after the handshake, garbage instead of a
 * ServerHello, and a server that never answers the ClientHello.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness/engine/engine.h"
#include "harness/engine/etls.h"
#include "harness/util/xalloc.h"

typedef enum fake_mode {
	FAKE_TLS,		/* a real handshake, then EHLO and QUIT answered */
	FAKE_TLS_INJECT,	/* ... and a reply nobody asked for right after it */
	FAKE_PLAIN_AFTER_220,	/* plaintext lines behind its 220, then FAKE_TLS */
	FAKE_GARBAGE,		/* plaintext instead of a ServerHello */
	FAKE_SILENT		/* never answers the ClientHello */
} fake_mode;

typedef struct fake {
	int lfd;
	fake_mode mode;
	pthread_t th;
} fake;

static SSL_CTX *
server_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fake.test",
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_sign(x, key, EVP_sha256());
	SSL_CTX_use_certificate(ctx, x);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static void
put(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Reads plaintext up to and including the next CRLF into line. */
static int
get_line(int fd, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		if (read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return 0;
}

static void
tls_flush(etls *t, int fd)
{
	vbuf out = VBUF_INIT;

	if (etls_drain(t, &out) > 0)
		put(fd, out.data, out.len);
	vbuf_free(&out);
}

static void
serve_tls(int fd, int inject)
{
	SSL_CTX *ctx = server_ctx();
	char err[ETLS_ERR_MAX], buf[4096];
	etls *t = etls_new(ctx, 1, NULL, err, sizeof(err));
	vbuf plain = VBUF_INIT;
	ssize_t n;

	SSL_CTX_free(ctx);
	while (etls_handshake(t) == ETLS_WANT) {
		tls_flush(t, fd);
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			goto out;
		etls_feed(t, buf, (size_t)n);
	}
	tls_flush(t, fd);
	if (inject) {
		etls_write(t, "250 injected\r\n", 14);
		tls_flush(t, fd);
	}
	/* What came with the handshake's last flight (a client that writes
	 * EHLO at once, unhindered by Nagle) is already fed: read it first. */
	for (int first = 1;; first = 0) {
		char *nl;

		if (!first) {
			if ((n = read(fd, buf, sizeof(buf))) <= 0)
				break;
			etls_feed(t, buf, (size_t)n);
		}
		if (etls_read(t, &plain) == ETLS_ERROR)
			break;
		while (plain.len && (nl = memchr(plain.data, '\n', plain.len)) != NULL) {
			size_t len = (size_t)(nl - plain.data) + 1;
			int quit = strncmp(plain.data, "QUIT", 4) == 0;

			if (quit)
				etls_write(t, "221 bye\r\n", 9);
			else if (strncmp(plain.data, "EHLO", 4) == 0)
				etls_write(t, "250-fake.test\r\n250 SIZE 1000\r\n", 30);
			else
				etls_write(t, "250 ok\r\n", 8);
			vbuf_consume(&plain, len);
			tls_flush(t, fd);
			if (quit)
				goto out;
		}
	}
out:
	vbuf_free(&plain);
	etls_free(t);
}

static void *
fake_main(void *arg)
{
	fake *f = arg;
	char line[512], buf[4096];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	put(fd, "220 fake.test ESMTP\r\n", 21);
	if (get_line(fd, line, sizeof(line)) == 0 && strncmp(line, "STARTTLS", 8) == 0) {
		if (f->mode == FAKE_PLAIN_AFTER_220)
			put(fd, "220 go ahead\r\n250-fake\r\n250 AUTH PLAIN\r\n", 40);
		else
			put(fd, "220 go ahead\r\n", 14);
		switch (f->mode) {
		case FAKE_PLAIN_AFTER_220:
		case FAKE_TLS:
		case FAKE_TLS_INJECT:
			serve_tls(fd, f->mode == FAKE_TLS_INJECT);
			break;
		case FAKE_GARBAGE:
			if (read(fd, buf, sizeof(buf)) > 0)
				put(fd, "250 this is no TLS\r\n", 20);
			/* FALLTHROUGH */
		case FAKE_SILENT:
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			break;
		}
	}
	close(fd);
	return NULL;
}

static unsigned
fake_start(fake *f, fake_mode mode)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	f->mode = mode;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(f->lfd, 1), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
	return ntohs(sin.sin_port);
}

static void
fake_stop(fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
}

/* Runs one scenario (steps given) against a fake server in `mode`. */
static rpt_run *
run_in(fake_mode mode, const char *steps, const char *capture_dir)
{
	scn_list list = { 0 };
	scn_vars defaults = { 0 };
	eng_config cfg;
	rpt_run *run = rpt_run_new("127.0.0.1");
	char port[16], err[512] = "", text[2048];
	scn_scenario *s;
	fake f;

	snprintf(text, sizeof(text),
	    "{\"id\": \"t.tls\", \"summary\": \"s\", \"refs\": [\"rfc3207.4.command-and-replies\"],"
	    " \"timeout_ms\": 3000, \"steps\": [{\"recv\": 220}, %s]}", steps);
	ck_assert_msg(scn_load_buffer("t.json", text, strlen(text), &s, err, sizeof(err)) == 0,
	    "%s", err);
	list.items = xgrow(list.items, &list.cap, 1, sizeof(*list.items));
	list.items[list.n++] = s;
	snprintf(port, sizeof(port), "%u", fake_start(&f, mode));
	eng_default_vars(&defaults, "127.0.0.1", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.connect_timeout_ms = 2000;
	cfg.defaults = &defaults;
	cfg.jobs = 1;
	cfg.capture_dir = capture_dir;
	ck_assert_int_eq(eng_run(&list, &cfg, run, NULL, NULL, err, sizeof(err)), ENG_OK);
	fake_stop(&f);
	scn_vars_free(&defaults);
	scn_list_free(&list);
	ck_assert_uint_eq(run->nscenarios, 1);
	return run;
}

static rpt_run *
run_one(fake_mode mode, const char *steps)
{
	return run_in(mode, steps, NULL);
}

/* 1 if the bytes hold s. */
static int
holds_bytes(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (memcmp(p + i, s, n) == 0)
			return 1;
	return 0;
}

/* The whole of a file (NUL-terminated); the caller frees it. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = xmalloc(4 * 1024 * 1024 + 1);

	ck_assert_msg(fp != NULL, "%s", path);
	*len = fread(buf, 1, 4 * 1024 * 1024, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

/* 1 if the stream holds the bytes of s. */
static int
holds(const vbuf *b, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; b->len >= n && i <= b->len - n; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return 1;
	return 0;
}

static long
find_tls_start(const cap_transcript *t)
{
	return cap_transcript_find(t, 0, CAP_TLS_START, CAP_C2S, 1);
}

START_TEST(test_engine_tls_session)
{
	rpt_run *run = run_one(FAKE_TLS, "{\"starttls\": {\"sni\": \"fake.test\"}},"
	    " {\"send\": \"EHLO x.test\", \"recv\": {\"code\": 250, \"keyword\": \"SIZE\"}},"
	    " {\"send\": \"QUIT\", \"recv\": 221}");
	const rpt_scenario *sc = run->scenarios[0];
	const cap_transcript *t = sc->transcript;
	long tls;

	ck_assert_msg(sc->verdict == RPT_PASS, "%s: %s", rpt_verdict_str(sc->verdict),
	    sc->reason ? sc->reason : "");
	tls = find_tls_start(t);
	ck_assert_int_ge(tls, 0);
	ck_assert_int_eq(t->tls_plaintext, 1);
	ck_assert_ptr_nonnull(t->tls_note);
	ck_assert_msg(strstr(t->tls_note, "TLSv1.3") && strstr(t->tls_note, "subject=/CN=fake.test"),
	    "%s", t->tls_note);
	/* The plaintext of both directions follows the event. */
	ck_assert(holds(&t->stream[CAP_C2S], "STARTTLS\r\nEHLO x.test\r\nQUIT\r\n"));
	ck_assert(holds(&t->stream[CAP_S2C],
	    "220 go ahead\r\n250-fake.test\r\n250 SIZE 1000\r\n221 bye\r\n"));
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_large_write)
{
	/* 3 MB in one write: more than HARNESS_TLS_OUT_MAX of records, so it only
	 * goes through when the engine encrypts and drains it in slices. */
	rpt_run *run = run_one(FAKE_TLS, "{\"starttls\": true, \"timeout_ms\": 20000},"
	    " {\"raw\": \"${repeat:xyz:1000000}\\\\r\\\\n\", \"recv\": 250, \"timeout_ms\": 20000},"
	    " {\"send\": \"QUIT\", \"recv\": 221}");
	const rpt_scenario *sc = run->scenarios[0];

	ck_assert_msg(sc->verdict == RPT_PASS, "%s: %s", rpt_verdict_str(sc->verdict),
	    sc->reason ? sc->reason : "");
	ck_assert_uint_gt(sc->transcript->stream[CAP_C2S].len, 3000000);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_capture_is_the_wire)
{
	char dir[] = "/tmp/test_engine_tls.XXXXXX";
	char *path, *pcap, *keys;
	size_t plen, klen;
	rpt_run *run;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	run = run_in(FAKE_TLS, "{\"starttls\": true}, {\"send\": \"EHLO x.test\", \"recv\": 250},"
	    " {\"send\": \"QUIT\", \"recv\": 221}", dir);
	ck_assert_int_eq(run->scenarios[0]->verdict, RPT_PASS);
	/* The pcap has the plaintext up to STARTTLS, then records only; the
	 * transcript has the plaintext throughout. */
	pcap = slurp(run->scenarios[0]->capture_path, &plen);
	ck_assert(holds_bytes(pcap, plen, "STARTTLS\r\n"));
	ck_assert(holds_bytes(pcap, plen, "220 go ahead\r\n"));
	ck_assert(!holds_bytes(pcap, plen, "EHLO x.test"));
	ck_assert(!holds_bytes(pcap, plen, "250-fake.test"));
	ck_assert(holds(&run->scenarios[0]->transcript->stream[CAP_C2S], "EHLO x.test"));
	/* ... and the secrets to read them are beside it. */
	path = xasprintf("%s/t.tls.keys", dir);
	keys = slurp(path, &klen);
	ck_assert_msg(strstr(keys, "CLIENT_TRAFFIC_SECRET_0 ") != NULL, "%s", keys);
	ck_assert_msg(strstr(keys, "SERVER_TRAFFIC_SECRET_0 ") != NULL, "%s", keys);
	unlink(path);
	unlink(run->scenarios[0]->capture_path);
	rmdir(dir);
	xfree(path);
	xfree(pcap);
	xfree(keys);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_plaintext_after_220_is_set_aside)
{
	/* RFC 3207 §4.2 (the client side of CVE-2011-0411): lines the server
	 * wrote behind its 220 are never read as the reply to the EHLO sent
	 * inside TLS. */
	rpt_run *run = run_one(FAKE_PLAIN_AFTER_220, "{\"starttls\": true},"
	    " {\"send\": \"EHLO x.test\", \"recv\": {\"code\": 250, \"keyword\": \"SIZE\"}},"
	    " {\"send\": \"QUIT\", \"recv\": 221}");
	const rpt_scenario *sc = run->scenarios[0];
	const cap_transcript *t = sc->transcript;
	int unsolicited = 0;

	/* Every step passed: the EHLO got its own reply, with SIZE. The
	 * passive checks still blame the server for the lines it sent
	 * unasked, which is right. */
	for (size_t i = 0; i < sc->nfindings; i++) {
		ck_assert_msg(sc->findings[i].step == 0, "step %d: %s", sc->findings[i].step,
		    sc->findings[i].message);
		if (strcmp(sc->findings[i].check, "rfc5321.4.2.one-reply-per-command") == 0 &&
		    strstr(sc->findings[i].message, "250-fake / 250 AUTH PLAIN") != NULL)
			unsolicited = 1;
	}
	ck_assert(unsolicited);
	ck_assert_ptr_nonnull(t->tls_note);
	ck_assert_msg(strstr(t->tls_note, "; 26 plaintext bytes after the 220 set aside") != NULL,
	    "%s", t->tls_note);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_injected_reply_is_a_finding)
{
	rpt_run *run = run_one(FAKE_TLS_INJECT, "{\"starttls\": true, \"quiet_ms\": 1000,"
	    " \"check\": \"rfc3207.6.cve-2011-0411-server\"}, {\"send\": \"QUIT\", \"recv\": 221}");
	const rpt_scenario *sc = run->scenarios[0];
	int found = 0;

	ck_assert_int_eq(sc->verdict, RPT_FAIL);
	for (size_t i = 0; i < sc->nfindings; i++)
		if (strcmp(sc->findings[i].check, "rfc3207.6.cve-2011-0411-server") == 0 &&
		    strstr(sc->findings[i].message, "250 injected") != NULL)
			found = 1;
	ck_assert_msg(found, "no finding under the injection check");
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_garbage_is_error_with_text)
{
	rpt_run *run = run_one(FAKE_GARBAGE, "{\"starttls\": true}, {\"send\": \"QUIT\", \"recv\": 221}");
	const rpt_scenario *sc = run->scenarios[0];

	ck_assert_int_eq(sc->verdict, RPT_ERROR);
	ck_assert_msg(strncmp(sc->reason, "step 2: TLS handshake failed: error:", 36) == 0, "%s",
	    sc->reason);
	ck_assert_msg(strstr(sc->reason, "wrong version number") != NULL ||
	    strstr(sc->reason, "packet length too long") != NULL, "%s", sc->reason);
	ck_assert_ptr_nonnull(sc->transcript->tls_note);
	rpt_run_free(run);
}
END_TEST

START_TEST(test_engine_tls_silent_server_meets_the_deadline)
{
	struct timespec t0, t1;
	rpt_run *run;
	const rpt_scenario *sc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run = run_one(FAKE_SILENT, "{\"starttls\": true, \"timeout_ms\": 300},"
	    " {\"send\": \"QUIT\", \"recv\": 221}");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sc = run->scenarios[0];
	ck_assert_int_eq(sc->verdict, RPT_ERROR);
	ck_assert_str_eq(sc->reason, "step 2: no TLS handshake within 300 ms: the server did not "
	    "complete it");
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	rpt_run_free(run);
}
END_TEST

static Suite *
engine_tls_suite(void)
{
	Suite *s = suite_create("engine_tls");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_engine_tls_session);
	tcase_add_test(tc, test_engine_tls_large_write);
	tcase_add_test(tc, test_engine_tls_capture_is_the_wire);
	tcase_add_test(tc, test_engine_tls_plaintext_after_220_is_set_aside);
	tcase_add_test(tc, test_engine_tls_injected_reply_is_a_finding);
	tcase_add_test(tc, test_engine_tls_garbage_is_error_with_text);
	tcase_add_test(tc, test_engine_tls_silent_server_meets_the_deadline);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(engine_tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
