/*
 * fuzz_mailbox - mbox splitting, token search and copy comparison on
 * hostile mailbox bytes.
 *
 * The input is split as an mbox: every message must lie inside the input,
 * in order, without overlap. The first line of the input (up to LF) is
 * taken as sent content against each message and against the whole
 * input, read both ways (mbox quoting on and off): every offset the
 * comparison reports must lie inside what it was given, and a copy
 * compared with itself (made CRLF, as content is sent) must come out the
 * same. Token search must find only what is there. Then the whole
 * judgement: a fixed session whose two messages carry the key, with the
 * input and its mbox messages as the delivered copies; every finding
 * that names a copy must point inside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/check/delivery.h"
#include "harness/check/dialog.h"
#include "harness/check/mailbox.h"
#include "harness/util/vbuf.h"
#include "reports/result.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_mailbox: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define FUZZ_MSGS_MAX	64

static void
fuzz_match(const char *stored, size_t slen, const char *sent, size_t sentlen)
{
	for (int mbox = 0; mbox < 2; mbox++) {
		mbx_match m;

		mbx_match_copy(stored, slen, mbox, sent, sentlen, &m);
		FUZZ_CHECK(m.content_off <= slen);
		if (m.status != MBX_SAME) {
			FUZZ_CHECK(m.stored_off <= slen);
			FUZZ_CHECK(m.sent_off <= sentlen);
		}
	}
}

static int
fuzz_field(void *arg, const char *field, size_t len, size_t off)
{
	size_t end = *(size_t *)arg;

	FUZZ_CHECK(off + len <= end);
	(void)field;
	return 0;
}

/* The lines of p made CRLF: how a copy written with LF was sent. Lines
 * holding a CR are left out of the self-comparison (a bare CR is judged
 * apart), and so are inputs that do not end in LF. */
static int
fuzz_crlf(const char *p, size_t len, vbuf *out)
{
	if (len == 0 || p[len - 1] != '\n' || memchr(p, '\r', len) != NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n')
			vbuf_append_byte(out, '\r');
		vbuf_append_byte(out, p[i]);
	}
	return 1;
}

/* Both sides of a session: the first message accepted, the second
 * refused, a third cut before its dot. */
static const char *const fuzz_session[][2] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO h.test\r\n", "250 mx\r\n" },
	{ "MAIL FROM:<a@h.test>\r\n", "250 ok\r\n" },
	{ "RCPT TO:<b@d.test>\r\n", "250 ok\r\n" },
	{ "RCPT TO:<c@d.test>\r\n", "250 ok\r\n" },
	{ "DATA\r\n", "354 go\r\n" },
	{ "Message-ID: <smtph1s0-1@x>\r\nSubject: t\r\n\r\nsmtp-harness-token: smtph1s0-1\r\n"
	  "..dot\r\nFrom x\r\n.\r\n", "250 queued\r\n" },
	{ "MAIL FROM:<>\r\n", "250 ok\r\n" },
	{ "RCPT TO:<b@d.test>\r\n", "250 ok\r\n" },
	{ "DATA\r\n", "354 go\r\n" },
	{ "Message-ID: <smtph1s0-2@x>\r\n\r\nsmtph1s0-x\nbare\r\n.\r\n", "554 no\r\n" },
	{ "MAIL FROM:<a@h.test>\r\n", "250 ok\r\n" },
	{ "RCPT TO:<b@d.test>\r\n", "250 ok\r\n" },
	{ "DATA\r\n", "354 go\r\n" },
	{ "Message-ID: <smtph1s0-3@x>\r\n\r\ncut", NULL },
};

static const char *const fuzz_mailboxes[] = { "b@d.test" };
static const dlv_oracle fuzz_oracle = { "smtph1s0-", fuzz_mailboxes, 1 };

static void
fuzz_judge(const char *buf, size_t size, const mbx_msg *msgs, size_t n)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	rpt_scenario *sc = rpt_scenario_new("fuzz", NULL, NULL);
	dlv_copy copies[FUZZ_MSGS_MAX + 1];
	uint64_t ts = 1;
	dlg *d;

	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, ts++);
	for (size_t i = 0; i < sizeof(fuzz_session) / sizeof(fuzz_session[0]); i++)
		for (int dir = 0; dir < 2; dir++)
			if (fuzz_session[i][dir] != NULL)
				cap_transcript_add_data(t, dir ? CAP_S2C : CAP_C2S, ts++,
				    fuzz_session[i][dir], strlen(fuzz_session[i][dir]));
	copies[0] = (dlv_copy){ "whole", 0, buf, size, 0 };
	for (size_t i = 0; i < n; i++)
		copies[i + 1] = (dlv_copy){ "mbox", msgs[i].off, buf + msgs[i].off, msgs[i].len, 1 };
	d = dlg_build(t);
	chk_delivery(d, &fuzz_oracle, copies, n + 1, "smuggle.lf-dot-crlf", 1, sc);
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (f->delivered_file != NULL)
			FUZZ_CHECK(f->delivered_off <= size);
	}
	dlg_free(d);
	sc->transcript = t;
	rpt_scenario_free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	mbx_msg msgs[FUZZ_MSGS_MAX];
	size_t n = mbx_mbox_split(buf, size, msgs, FUZZ_MSGS_MAX);
	const char *nl = memchr(buf, '\n', size);
	size_t first = nl ? (size_t)(nl - buf) : size;
	size_t prev_end = 0;
	size_t pos = 0, at;
	unsigned long num;
	vbuf crlf = VBUF_INIT;

	FUZZ_CHECK(n <= FUZZ_MSGS_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(msgs[i].off >= prev_end);
		FUZZ_CHECK(msgs[i].off <= size && msgs[i].len <= size - msgs[i].off);
		prev_end = msgs[i].off + msgs[i].len;
		fuzz_match(buf + msgs[i].off, msgs[i].len, buf, first);
	}
	fuzz_match(buf, size, buf, first);
	fuzz_match(buf, size, buf + first, size - first);
	mbx_fields(buf, size, fuzz_field, &size);

	while (mbx_next_token(buf, size, "smtph", &pos, &num, &at)) {
		FUZZ_CHECK(at + 5 < pos && pos <= size);
		FUZZ_CHECK(memcmp(buf + at, "smtph", 5) == 0);
		FUZZ_CHECK(buf[at + 5] >= '0' && buf[at + 5] <= '9');
	}

	if (fuzz_crlf(buf, size, &crlf)) {
		mbx_match m;

		mbx_match_copy(buf, size, 0, crlf.data, crlf.len, &m);
		FUZZ_CHECK(m.status == MBX_SAME);
	}
	vbuf_free(&crlf);
	fuzz_judge(buf, size, msgs, n);
	return 0;
}
