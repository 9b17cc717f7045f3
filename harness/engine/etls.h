/*
 * etls - TLS over memory BIOs, for sessions that own their own sockets.
 *
 * OpenSSL never sees a socket: an etls holds one SSL object whose read
 * and write BIOs are two BIO_s_mem. The caller feeds the bytes it read
 * from the wire in (etls_feed), asks for progress (etls_handshake,
 * etls_read, etls_write) and drains what OpenSSL wants to send
 * (etls_drain) to write it out itself. No call blocks; "want more" is a
 * status, so a libuv read callback drives the whole thing and the
 * session's timer bounds the handshake.
 *
 * The server side shows a certificate from files, or one made on the
 * spot (etls_server_ctx_new); it asks the client for none.
 *
 * The client side verifies nothing (the harness tests servers, many with
 * self-signed certificates) and records what the peer showed instead:
 * protocol version, cipher, certificate subject, issuer and SHA-256
 * fingerprint (etls_peer_describe).
 *
 * Limits: HARNESS_TLS_IN_MAX ciphertext bytes fed and not yet consumed
 * by OpenSSL, HARNESS_TLS_OUT_MAX bytes waiting to be drained, a server
 * name of HARNESS_TLS_SNI_MAX bytes (harness_limits.h); past them the
 * operation fails with an error text instead of growing. Errors are one
 * line of OpenSSL's error queue text (ERR_error_string_n).
 */
#ifndef HARNESS_ENGINE_ETLS_H
#define HARNESS_ENGINE_ETLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"

#define ETLS_ERR_MAX	256		/* one error line */

typedef struct etls etls;

typedef enum etls_status {
	ETLS_OK = 0,		/* done (handshake complete, or bytes handled) */
	ETLS_WANT,		/* needs more bytes from the peer */
	ETLS_CLOSED,		/* the peer sent close_notify */
	ETLS_ERROR		/* failed; etls_error() says why */
} etls_status;

/* A client context that verifies no certificate, TLS 1.0 and up as the
 * system's OpenSSL allows. NULL with err set on failure; SSL_CTX_free. */
SSL_CTX *etls_client_ctx_new(char *err, size_t errlen);

/* A server context with the certificate and key in PEM files cert_file
 * and key_file, or, when both are NULL, a throwaway self-signed
 * certificate for mx.harness.test made now (an EC P-256 key, valid a day:
 * clients under test are told not to verify it). Asks for no client
 * certificate. NULL with err set on failure; SSL_CTX_free. */
SSL_CTX *etls_server_ctx_new(const char *cert_file, const char *key_file, char *err,
    size_t errlen);

/* Has every TLS secret of ctx's sessions appended to out as one line of
 * the NSS key log format (what SSLKEYLOGFILE holds), so a capture of the
 * records can be decrypted afterwards. out must outlive ctx. */
void etls_ctx_keylog(SSL_CTX *ctx, vbuf *out);

/* A session on ctx, client or server side. sni (client side only) may be
 * NULL or empty for none. Returns NULL with err set on failure. The etls
 * takes its own reference to ctx. */
etls *etls_new(SSL_CTX *ctx, int server, const char *sni, char *err, size_t errlen);
void etls_free(etls *t);

/* Gives OpenSSL bytes read from the wire. -1 (and an error) past
 * HARNESS_TLS_IN_MAX. */
int etls_feed(etls *t, const void *buf, size_t len);

/* Advances the handshake: OK when complete, WANT when it needs more
 * bytes (drain first: there may be something to send), ERROR. */
etls_status etls_handshake(etls *t);
int etls_established(const etls *t);

/* Encrypts plaintext; the records are then to be drained. ERROR past
 * HARNESS_TLS_OUT_MAX or before the handshake is complete. */
etls_status etls_write(etls *t, const void *buf, size_t len);

/* Decrypts every whole record fed so far, appending the plaintext to out.
 * OK or WANT when all was read, CLOSED on close_notify, ERROR. */
etls_status etls_read(etls *t, vbuf *out);

/* Queues close_notify (to be drained). */
void etls_shutdown(etls *t);

/* Moves every byte OpenSSL wants to send into out; returns the count. */
size_t etls_drain(etls *t, vbuf *out);

/* The last error, "" when none. Valid until the next call on t. */
const char *etls_error(const etls *t);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384; peer subject=/CN=x issuer=/CN=x
 * sha256=AB:CD:..." (or "no peer certificate"), appended to out. */
void etls_peer_describe(const etls *t, vbuf *out);

#endif
