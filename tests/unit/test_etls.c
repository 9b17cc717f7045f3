/*
 * test_etls - the memory-BIO TLS glue: a client and a server etls in one
 * process, with the throwaway self-signed certificate of
 * etls_server_ctx_new (or one from PEM files), handshaking
 * whole and byte by byte, and failing with a text on garbage and limits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "harness/engine/etls.h"

/* The throwaway certificate etls makes for the server role. */
static SSL_CTX *
server_ctx(void)
{
	char err[ETLS_ERR_MAX];
	SSL_CTX *ctx = etls_server_ctx_new(NULL, NULL, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "%s", err);
	return ctx;
}

/* Moves what `from` wants to send into `to`, `step` bytes per feed (0:
 * all at once). Returns the bytes moved. */
static size_t
pump(etls *from, etls *to, size_t step)
{
	vbuf b = VBUF_INIT;
	size_t n = etls_drain(from, &b);

	for (size_t off = 0; off < n;) {
		size_t k = step == 0 || n - off < step ? n - off : step;

		ck_assert_int_eq(etls_feed(to, b.data + off, k), 0);
		off += k;
		/* Each byte is a chance to trip over a partial record. */
		if (step != 0 && !etls_established(to))
			ck_assert_int_ne(etls_handshake(to), ETLS_ERROR);
	}
	vbuf_free(&b);
	return n;
}

static void
handshake(etls *c, etls *s, size_t step)
{
	for (int round = 0; round < 20; round++) {
		etls_status cs = etls_handshake(c);
		etls_status ss;

		ck_assert_msg(cs != ETLS_ERROR, "client: %s", etls_error(c));
		pump(c, s, step);
		ss = etls_handshake(s);
		ck_assert_msg(ss != ETLS_ERROR, "server: %s", etls_error(s));
		pump(s, c, step);
		if (cs == ETLS_OK && ss == ETLS_OK && etls_established(c) && etls_established(s))
			return;
	}
	ck_abort_msg("no handshake after 20 rounds");
}

static void
exchange(etls *c, etls *s, size_t step)
{
	vbuf got = VBUF_INIT;

	ck_assert_int_eq(etls_write(c, "EHLO client.test\r\n", 18), ETLS_OK);
	pump(c, s, step);
	ck_assert_int_ne(etls_read(s, &got), ETLS_ERROR);
	ck_assert_str_eq(vbuf_str(&got), "EHLO client.test\r\n");
	vbuf_reset(&got);
	ck_assert_int_eq(etls_write(s, "250 mx.harness.test\r\n", 21), ETLS_OK);
	pump(s, c, step);
	ck_assert_int_ne(etls_read(c, &got), ETLS_ERROR);
	ck_assert_str_eq(vbuf_str(&got), "250 mx.harness.test\r\n");
	vbuf_free(&got);
}

static void
run_pair(size_t step)
{
	char err[ETLS_ERR_MAX];
	SSL_CTX *cctx = etls_client_ctx_new(err, sizeof(err));
	SSL_CTX *sctx = server_ctx();
	etls *c, *s;
	vbuf d = VBUF_INIT;

	ck_assert_ptr_nonnull(cctx);
	c = etls_new(cctx, 0, "mx.harness.test", err, sizeof(err));
	s = etls_new(sctx, 1, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	/* The contexts are referenced by the sessions. */
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	handshake(c, s, step);
	exchange(c, s, step);
	etls_peer_describe(c, &d);
	ck_assert_msg(strstr(vbuf_str(&d), "TLSv1.3") != NULL, "%s", vbuf_str(&d));
	ck_assert_msg(strstr(vbuf_str(&d), "subject=/CN=mx.harness.test") != NULL, "%s",
	    vbuf_str(&d));
	ck_assert_msg(strstr(vbuf_str(&d), "issuer=/CN=mx.harness.test") != NULL, "%s",
	    vbuf_str(&d));
	ck_assert_msg(strstr(vbuf_str(&d), " sha256=") != NULL, "%s", vbuf_str(&d));
	/* close_notify reaches the other side as CLOSED. */
	etls_shutdown(s);
	pump(s, c, step);
	vbuf_reset(&d);
	ck_assert_int_eq(etls_read(c, &d), ETLS_CLOSED);
	/* ... which answers with its own. */
	etls_shutdown(c);
	ck_assert_uint_gt(pump(c, s, step), 0);
	vbuf_free(&d);
	etls_free(c);
	etls_free(s);
}

START_TEST(test_etls_handshake_whole)
{
	run_pair(0);
}
END_TEST

START_TEST(test_etls_handshake_byte_by_byte)
{
	run_pair(1);
}
END_TEST

START_TEST(test_etls_garbage_from_server)
{
	char err[ETLS_ERR_MAX];
	SSL_CTX *cctx = etls_client_ctx_new(err, sizeof(err));
	etls *c = etls_new(cctx, 0, NULL, err, sizeof(err));
	vbuf hello = VBUF_INIT;
	static const char junk[] = "250 this is no TLS record at all\r\n";

	ck_assert_int_eq(etls_handshake(c), ETLS_WANT);
	ck_assert_uint_gt(etls_drain(c, &hello), 5);
	/* The ClientHello is a handshake record: 0x16 0x03 ... */
	ck_assert_int_eq((unsigned char)hello.data[0], 0x16);
	ck_assert_int_eq((unsigned char)hello.data[1], 0x03);
	ck_assert_int_eq(etls_feed(c, junk, sizeof(junk) - 1), 0);
	ck_assert_int_eq(etls_handshake(c), ETLS_ERROR);
	ck_assert_msg(strncmp(etls_error(c), "TLS handshake failed: error:", 28) == 0, "%s",
	    etls_error(c));
	ck_assert_msg(strstr(etls_error(c), "wrong version number") != NULL ||
	    strstr(etls_error(c), "packet length too long") != NULL, "%s", etls_error(c));
	vbuf_free(&hello);
	etls_free(c);
	SSL_CTX_free(cctx);
}
END_TEST

START_TEST(test_etls_partial_record_wants_more)
{
	char err[ETLS_ERR_MAX];
	SSL_CTX *cctx = etls_client_ctx_new(err, sizeof(err));
	etls *c = etls_new(cctx, 0, NULL, err, sizeof(err));
	vbuf hello = VBUF_INIT;
	static const unsigned char head[] = { 0x16, 0x03, 0x03, 0x00 };

	ck_assert_int_eq(etls_handshake(c), ETLS_WANT);
	etls_drain(c, &hello);
	/* A record header cut short is "not yet", which the engine bounds
	 * with the step's timeout. */
	ck_assert_int_eq(etls_feed(c, head, sizeof(head)), 0);
	ck_assert_int_eq(etls_handshake(c), ETLS_WANT);
	ck_assert_str_eq(etls_error(c), "");
	vbuf_free(&hello);
	etls_free(c);
	SSL_CTX_free(cctx);
}
END_TEST

START_TEST(test_etls_input_limit)
{
	char err[ETLS_ERR_MAX];
	SSL_CTX *cctx = etls_client_ctx_new(err, sizeof(err));
	etls *c = etls_new(cctx, 0, NULL, err, sizeof(err));
	char *big = calloc(1, HARNESS_TLS_IN_MAX);

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(etls_feed(c, big, HARNESS_TLS_IN_MAX), 0);
	ck_assert_int_eq(etls_feed(c, big, 1), -1);
	ck_assert_msg(strstr(etls_error(c), "TLS input pending") != NULL, "%s", etls_error(c));
	ck_assert_int_eq(etls_write(c, "x", 1), ETLS_ERROR);
	ck_assert_str_eq(etls_error(c), "TLS write before the handshake completed");
	free(big);
	etls_free(c);
	SSL_CTX_free(cctx);
}
END_TEST

/* Certificate and key from PEM files; a missing file is an error that
 * names it. */
START_TEST(test_etls_server_ctx_files)
{
	char err[ETLS_ERR_MAX];
	char cert[] = "/tmp/test_etls_cert_XXXXXX", key[] = "/tmp/test_etls_key_XXXXXX";
	SSL_CTX *made = server_ctx(), *ctx;
	int cfd = mkstemp(cert), kfd = mkstemp(key);
	FILE *cf, *kf;

	ck_assert_int_ge(cfd, 0);
	ck_assert_int_ge(kfd, 0);
	cf = fdopen(cfd, "w");
	kf = fdopen(kfd, "w");
	ck_assert_int_eq(PEM_write_X509(cf, SSL_CTX_get0_certificate(made)), 1);
	ck_assert_int_eq(PEM_write_PrivateKey(kf, SSL_CTX_get0_privatekey(made), NULL, NULL, 0,
	    NULL, NULL), 1);
	fclose(cf);
	fclose(kf);
	ctx = etls_server_ctx_new(cert, key, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	SSL_CTX_free(ctx);
	/* the key where the certificate should be */
	ck_assert_ptr_null(etls_server_ctx_new(key, key, err, sizeof(err)));
	ck_assert_msg(strstr(err, key) != NULL, "%s", err);
	ck_assert_ptr_null(etls_server_ctx_new("/nonexistent/cert.pem", key, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/nonexistent/cert.pem") != NULL, "%s", err);
	ck_assert_ptr_null(etls_server_ctx_new(cert, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "(none given)") != NULL, "%s", err);
	unlink(cert);
	unlink(key);
	SSL_CTX_free(made);
}
END_TEST

START_TEST(test_etls_sni_too_long)
{
	char err[ETLS_ERR_MAX] = "";
	SSL_CTX *cctx = etls_client_ctx_new(err, sizeof(err));
	char name[HARNESS_TLS_SNI_MAX + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_ptr_null(etls_new(cctx, 0, name, err, sizeof(err)));
	ck_assert_str_eq(err, "cannot use the SNI name");
	SSL_CTX_free(cctx);
}
END_TEST

static Suite *
etls_suite(void)
{
	Suite *s = suite_create("etls");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_etls_handshake_whole);
	tcase_add_test(tc, test_etls_handshake_byte_by_byte);
	tcase_add_test(tc, test_etls_garbage_from_server);
	tcase_add_test(tc, test_etls_partial_record_wants_more);
	tcase_add_test(tc, test_etls_input_limit);
	tcase_add_test(tc, test_etls_sni_too_long);
	tcase_add_test(tc, test_etls_server_ctx_files);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(etls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
