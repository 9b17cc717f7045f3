/*
 * etls - TLS over memory BIOs (see etls.h).
 */
#include "harness/engine/etls.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness/util/xalloc.h"

#define ETLS_CHUNK	16384	/* one TLS record's plaintext at most */
#define ETLS_CN		"mx.harness.test"	/* the throwaway certificate's name */

struct etls {
	SSL *ssl;
	BIO *rbio;		/* wire -> OpenSSL */
	BIO *wbio;		/* OpenSSL -> wire */
	int done;		/* handshake complete */
	char err[ETLS_ERR_MAX];
};

/* The first queued OpenSSL error, or `what` when the queue is empty; the
 * queue is emptied either way so the next failure does not inherit it. */
static void
etls_set_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();

	if (e != 0) {
		char buf[ETLS_ERR_MAX];

		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
	ERR_clear_error();
}

SSL_CTX *
etls_client_ctx_new(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		etls_set_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	/* Testing: the peer's certificate is recorded, not judged. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* A self-signed certificate for ETLS_CN on a fresh P-256 key,
 * installed in ctx. */
static int
etls_throwaway(SSL_CTX *ctx, char *err, size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	int ok = 0;

	if (key == NULL || x == NULL)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)ETLS_CN, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0 ||
	    SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
		goto out;
	ok = 1;
out:
	if (!ok)
		etls_set_err(err, errlen, "cannot make a throwaway certificate");
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

SSL_CTX *
etls_server_ctx_new(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	ERR_clear_error();
	if (ctx == NULL) {
		etls_set_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cert_file == NULL && key_file == NULL) {
		if (etls_throwaway(ctx, err, errlen) != 0) {
			SSL_CTX_free(ctx);
			return NULL;
		}
		return ctx;
	}
	if (cert_file == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
	    key_file == NULL || SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char what[ETLS_ERR_MAX];

		snprintf(what, sizeof(what), "cannot use the certificate %s with the key %s",
		    cert_file ? cert_file : "(none given)", key_file ? key_file : "(none given)");
		etls_set_err(err, errlen, what);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void
etls_keylog_cb(const SSL *ssl, const char *line)
{
	vbuf *out = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (out != NULL) {
		vbuf_append_str(out, line);
		vbuf_append_byte(out, '\n');
	}
}

void
etls_ctx_keylog(SSL_CTX *ctx, vbuf *out)
{
	SSL_CTX_set_app_data(ctx, out);
	SSL_CTX_set_keylog_callback(ctx, etls_keylog_cb);
}

etls *
etls_new(SSL_CTX *ctx, int server, const char *sni, char *err, size_t errlen)
{
	etls *t = xcalloc(1, sizeof(*t));

	ERR_clear_error();
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
		etls_set_err(err, errlen, "cannot set up TLS");
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		xfree(t);
		return NULL;
	}
	/* An empty read BIO means "not yet", never end of file. */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		if (sni != NULL && *sni != '\0' &&
		    (strlen(sni) > HARNESS_TLS_SNI_MAX || SSL_set_tlsext_host_name(t->ssl, sni) != 1)) {
			etls_set_err(err, errlen, "cannot use the SNI name");
			etls_free(t);
			return NULL;
		}
	}
	return t;
}

void
etls_free(etls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);	/* frees both BIOs */
	xfree(t);
}

int
etls_feed(etls *t, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (len > HARNESS_TLS_IN_MAX || (size_t)BIO_ctrl_pending(t->rbio) > HARNESS_TLS_IN_MAX - len) {
		snprintf(t->err, sizeof(t->err), "more than %d bytes of TLS input pending",
		    HARNESS_TLS_IN_MAX);
		return -1;
	}
	if (BIO_write(t->rbio, buf, (int)len) != (int)len) {
		etls_set_err(t->err, sizeof(t->err), "cannot buffer TLS input");
		return -1;
	}
	return 0;
}

/* Classifies the result r of an SSL call named what. */
static etls_status
etls_result(etls *t, int r, const char *what)
{
	int e = SSL_get_error(t->ssl, r);

	switch (e) {
	case SSL_ERROR_NONE:
		return ETLS_OK;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:	/* a memory BIO never fills; drain and go on */
		ERR_clear_error();
		return ETLS_WANT;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return ETLS_CLOSED;
	default:
		etls_set_err(t->err, sizeof(t->err), what);
		return ETLS_ERROR;
	}
}

etls_status
etls_handshake(etls *t)
{
	int r;
	etls_status st;

	if (t->done)
		return ETLS_OK;
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->done = 1;
		return ETLS_OK;
	}
	st = etls_result(t, r, "TLS handshake failed");
	if (st == ETLS_CLOSED) {
		snprintf(t->err, sizeof(t->err), "TLS handshake failed: the peer closed TLS");
		return ETLS_ERROR;
	}
	return st == ETLS_OK ? ETLS_WANT : st;
}

int
etls_established(const etls *t)
{
	return t->done;
}

etls_status
etls_write(etls *t, const void *buf, size_t len)
{
	size_t off = 0;

	if (!t->done) {
		snprintf(t->err, sizeof(t->err), "TLS write before the handshake completed");
		return ETLS_ERROR;
	}
	while (off < len) {
		size_t n = len - off > ETLS_CHUNK ? ETLS_CHUNK : len - off;
		int r;

		if ((size_t)BIO_ctrl_pending(t->wbio) > HARNESS_TLS_OUT_MAX) {
			snprintf(t->err, sizeof(t->err), "more than %d bytes of TLS output pending",
			    HARNESS_TLS_OUT_MAX);
			return ETLS_ERROR;
		}
		ERR_clear_error();
		r = SSL_write(t->ssl, (const char *)buf + off, (int)n);
		if (r <= 0) {
			etls_status st = etls_result(t, r, "TLS write failed");

			if (st != ETLS_ERROR)
				snprintf(t->err, sizeof(t->err), "TLS write failed");
			return ETLS_ERROR;
		}
		off += (size_t)r;
	}
	return ETLS_OK;
}

etls_status
etls_read(etls *t, vbuf *out)
{
	char buf[ETLS_CHUNK];

	if (!t->done)
		return ETLS_WANT;
	for (;;) {
		int r;

		ERR_clear_error();
		r = SSL_read(t->ssl, buf, (int)sizeof(buf));
		if (r > 0) {
			vbuf_append(out, buf, (size_t)r);
			continue;
		}
		return etls_result(t, r, "TLS read failed");
	}
}

void
etls_shutdown(etls *t)
{
	if (t->done) {
		ERR_clear_error();
		(void)SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
}

size_t
etls_drain(etls *t, vbuf *out)
{
	size_t total = 0;
	char buf[ETLS_CHUNK];
	int n;

	while ((n = BIO_read(t->wbio, buf, (int)sizeof(buf))) > 0) {
		vbuf_append(out, buf, (size_t)n);
		total += (size_t)n;
	}
	return total;
}

const char *
etls_error(const etls *t)
{
	return t->err;
}

static void
etls_name(vbuf *out, const X509_NAME *name)
{
	char buf[512];

	if (name == NULL) {
		vbuf_append_str(out, "(none)");
		return;
	}
	/* X509_NAME_oneline bounds its output to the buffer. */
	X509_NAME_oneline(name, buf, (int)sizeof(buf));
	vbuf_append_str(out, buf);
}

void
etls_peer_describe(const etls *t, vbuf *out)
{
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	vbuf_printf(out, "%s %s", SSL_get_version(t->ssl),
	    SSL_get_cipher_name(t->ssl) ? SSL_get_cipher_name(t->ssl) : "(no cipher)");
	cert = SSL_get1_peer_certificate(t->ssl);
	if (cert == NULL) {
		vbuf_append_str(out, "; no peer certificate");
		return;
	}
	vbuf_append_str(out, "; peer subject=");
	etls_name(out, X509_get_subject_name(cert));
	vbuf_append_str(out, " issuer=");
	etls_name(out, X509_get_issuer_name(cert));
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		vbuf_append_str(out, " sha256=");
		for (unsigned int i = 0; i < mdlen; i++)
			vbuf_printf(out, "%s%02X", i ? ":" : "", md[i]);
	}
	X509_free(cert);
}
