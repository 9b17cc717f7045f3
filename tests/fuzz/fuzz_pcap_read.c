/*
 * fuzz_pcap_read - the pcap reader and TCP reassembly fed hostile bytes.
 *
 * The input is read as a capture file (fmemopen + the reader's stream
 * entry, so libpcap's pcap and pcapng parsers run too). Input that is no
 * capture is fed to the reassembly core directly instead: the first byte
 * picks a link type, then each frame is a two-byte length and its bytes.
 * Every session handed out is checked for a sound transcript (segments
 * inside their streams, gaps of at least a byte) and is then judged by
 * every passive check, as `smtp-harness audit` does.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/pcap_read.h"
#include "harness/check/dialog.h"
#include "harness/check/passive.h"
#include "harness/util/harness_limits.h"
#include "reports/result.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_pcap_read: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static void
fuzz_session(void *arg, cap_pcap_session *s)
{
	const cap_transcript *t = s->t;
	size_t gaps = 0;
	rpt_scenario *sc;
	dlg *d;

	(void)arg;
	FUZZ_CHECK(t != NULL);
	FUZZ_CHECK(s->index >= 1);
	FUZZ_CHECK(s->nnotes <= HARNESS_PCAP_NOTES_MAX);
	FUZZ_CHECK(t->stream[0].len + t->stream[1].len <= HARNESS_PCAP_SESSION_MAX);
	for (size_t i = 0; i < t->nsegs; i++) {
		const cap_segment *g = &t->segs[i];

		FUZZ_CHECK(g->dir == CAP_C2S || g->dir == CAP_S2C);
		FUZZ_CHECK(g->off <= t->stream[g->dir].len);
		if (g->kind == CAP_DATA)
			FUZZ_CHECK(g->len > 0 && g->len <= t->stream[g->dir].len - g->off);
		if (g->kind == CAP_GAP) {
			FUZZ_CHECK(g->len > 0);
			gaps++;
		}
	}
	FUZZ_CHECK(gaps <= s->gaps);
	sc = rpt_scenario_new("fuzz", "fuzz", NULL);
	d = dlg_build(t);
	chk_passive_server(t, d, sc);
	chk_passive_client(t, d, sc);
	dlg_free(d);
	rpt_scenario_free(sc);
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL,
		DLT_LOOP };
	cap_reasm *r;
	size_t pos = 1;
	uint64_t ts = 0;

	if (size < 1)
		return;
	r = cap_reasm_new(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], fuzz_session, NULL);
	FUZZ_CHECK(r != NULL);
	while (pos + 2 <= size) {
		size_t n = (size_t)data[pos] << 8 | data[pos + 1];

		pos += 2;
		if (n > size - pos)
			n = size - pos;
		cap_reasm_frame(r, ts += 1000, data + pos, n, n);
		pos += n;
	}
	cap_reasm_finish(r);
	cap_reasm_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	FILE *fp;

	if (size >= 4 && (memcmp(data, "\xd4\xc3\xb2\xa1", 4) == 0 ||
	    memcmp(data, "\xa1\xb2\xc3\xd4", 4) == 0 || memcmp(data, "\x4d\x3c\xb2\xa1", 4) == 0 ||
	    memcmp(data, "\xa1\xb2\x3c\x4d", 4) == 0 || memcmp(data, "\x0a\x0d\x0d\x0a", 4) == 0)) {
		fp = fmemopen((void *)data, size, "rb");
		if (fp == NULL)
			return 0;
		/* A bad capture is an error line, never a crash. */
		if (cap_pcap_read_stream(fp, "fuzz", fuzz_session, NULL, NULL, err, sizeof(err)) != 0)
			FUZZ_CHECK(strncmp(err, "fuzz: ", 6) == 0);
		return 0;
	}
	fuzz_frames(data, size);
	return 0;
}
