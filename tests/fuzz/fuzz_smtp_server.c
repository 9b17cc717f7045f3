/*
 * fuzz_smtp_server - the reference server's protocol machine on hostile
 * bytes.
 *
 * The input is a client's side of a session. It is fed once whole, and
 * once cut into pieces whose sizes come from the input itself; RFC 2920
 * §3.2 makes the replies a function of the bytes, not of how they
 * arrive, so both runs must give the same replies and deliver the same
 * messages. Every reply line must be "ddd" then SP or "-" and end in
 * CRLF, with no bare CR or LF and at most 512 octets; a delivered
 * message never holds a bare CR or LF unless it came as BINARYMIME, and
 * never exceeds the size limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/smtp/server.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_smtp_server: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/* Small limits so that their paths are reached often. */
#define FUZZ_SIZE_MAX	4096
#define FUZZ_RCPT_MAX	5
#define FUZZ_ERRORS_MAX	8

typedef struct fuzz_log {
	vbuf msgs;		/* every delivered message, with its envelope */
} fuzz_log;

static int
fuzz_deliver(void *arg, const smtp_srv_msg *m, char *id, size_t idlen)
{
	fuzz_log *log = arg;

	FUZZ_CHECK(m->content_len <= FUZZ_SIZE_MAX);
	FUZZ_CHECK(m->nrcpts >= 1 && m->nrcpts <= FUZZ_RCPT_MAX);
	if (m->body != SMTP_SRV_BODY_BINARYMIME) {
		for (size_t i = 0; i < m->content_len; i++) {
			char c = m->content[i];

			if (c == '\r')
				FUZZ_CHECK(i + 1 < m->content_len && m->content[i + 1] == '\n');
			if (c == '\n')
				FUZZ_CHECK(i > 0 && m->content[i - 1] == '\r');
		}
	}
	vbuf_printf(&log->msgs, "<%s>", m->mail_from);
	for (size_t i = 0; i < m->nrcpts; i++)
		vbuf_printf(&log->msgs, "<%s>", m->rcpts[i].mailbox);
	vbuf_printf(&log->msgs, "%zu:", m->content_len);
	vbuf_append(&log->msgs, m->content, m->content_len);
	snprintf(id, idlen, "F%zu", m->content_len);
	return 0;
}

static void
fuzz_check_replies(const vbuf *out)
{
	size_t pos = 0;

	while (pos < out->len) {
		const char *p = out->data + pos;
		const char *lf = memchr(p, '\n', out->len - pos);
		size_t len;

		FUZZ_CHECK(lf != NULL);
		len = (size_t)(lf - p) + 1;
		FUZZ_CHECK(len >= 5 && len <= SMTP_REPLY_LINE_MAX);
		FUZZ_CHECK(p[len - 2] == '\r');
		FUZZ_CHECK(memchr(p, '\r', len - 2) == NULL);
		FUZZ_CHECK(p[0] >= '2' && p[0] <= '5');
		FUZZ_CHECK(p[1] >= '0' && p[1] <= '5');
		FUZZ_CHECK(p[2] >= '0' && p[2] <= '9');
		FUZZ_CHECK(p[3] == ' ' || p[3] == '-');
		pos += len;
	}
}

static void
fuzz_session(const uint8_t *data, size_t size, int split, vbuf *out, fuzz_log *log, int *closed)
{
	smtp_srv_config cfg;
	smtp_srv *s;
	size_t pos = 0, k = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "fuzz.test";
	cfg.size_max = FUZZ_SIZE_MAX;
	cfg.rcpt_max = FUZZ_RCPT_MAX;
	cfg.errors_max = FUZZ_ERRORS_MAX;
	cfg.deliver = fuzz_deliver;
	cfg.deliver_arg = log;
	s = smtp_srv_new(&cfg);
	smtp_srv_greeting(s, out);
	while (pos < size) {
		size_t n = size - pos;

		if (split) {
			/* piece sizes 1..16 from the input, cycling */
			n = (size_t)(data[k++ % size] & 15) + 1;
			if (n > size - pos)
				n = size - pos;
		}
		smtp_srv_feed(s, (const char *)data + pos, n, out);
		pos += n;
	}
	*closed = smtp_srv_closed(s);
	smtp_srv_timeout(s, out);
	FUZZ_CHECK(smtp_srv_closed(s));
	smtp_srv_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vbuf out1 = VBUF_INIT, out2 = VBUF_INIT;
	fuzz_log log1 = { VBUF_INIT }, log2 = { VBUF_INIT };
	int closed1, closed2;

	fuzz_session(data, size, 0, &out1, &log1, &closed1);
	fuzz_session(data, size, 1, &out2, &log2, &closed2);
	fuzz_check_replies(&out1);
	FUZZ_CHECK(closed1 == closed2);
	FUZZ_CHECK(out1.len == out2.len && memcmp(out1.data, out2.data, out1.len) == 0);
	FUZZ_CHECK(log1.msgs.len == log2.msgs.len &&
	    (log1.msgs.len == 0 || memcmp(log1.msgs.data, log2.msgs.data, log1.msgs.len) == 0));
	vbuf_free(&out1);
	vbuf_free(&out2);
	vbuf_free(&log1.msgs);
	vbuf_free(&log2.msgs);
	return 0;
}
