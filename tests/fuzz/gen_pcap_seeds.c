/*
 * gen_pcap_seeds - writes the seed corpus of fuzz_pcap_read.
 *
 * usage: gen_pcap_seeds DIR
 *
 * Small captures built two ways: clean connections from hand-made
 * transcripts through the project's own writer (captures/pcap_write, a
 * gap included), and segment by segment (tests/support/pcap_build.h) with
 * reordering, retransmission, differing overlaps, loss (one before a
 * close, which must not fail), a snap length, a
 * RST, STARTTLS, a non-SMTP connection, and every link type the reader
 * takes. The files are committed in tests/fuzz/corpus/pcap_read/; run
 * this again to remake them after a change to the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "captures/pcap_write.h"
#include "captures/transcript.h"
#include "tests/support/pcap_build.h"

static char path[4096];

static const char *
at(const char *dir, const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
add(cap_transcript *t, cap_dir dir, uint64_t ts, const char *s)
{
	cap_transcript_add_data(t, dir, ts, s, strlen(s));
}

static int
from_transcripts(const char *dir)
{
	struct sockaddr_in c, s;
	struct sockaddr_in6 c6, s6;
	cap_transcript *t;
	char err[512];
	int rc = 0;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sin_family = s.sin_family = AF_INET;
	c.sin_addr.s_addr = htonl(0x7f000001);
	s.sin_addr.s_addr = htonl(0x7f000001);
	c.sin_port = htons(40000);
	s.sin_port = htons(25);
	t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1700000000000000ULL);
	add(t, CAP_S2C, 1700000000001000ULL, "220 mx.test ESMTP\r\n");
	add(t, CAP_C2S, 1700000000002000ULL, "EHLO c.test\r\n");
	add(t, CAP_S2C, 1700000000003000ULL, "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	add(t, CAP_C2S, 1700000000004000ULL, "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
	add(t, CAP_S2C, 1700000000005000ULL, "250 ok\r\n250 ok\r\n354 go\r\n");
	add(t, CAP_C2S, 1700000000006000ULL, "Subject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
	add(t, CAP_S2C, 1700000000007000ULL, "250 queued\r\n221 bye\r\n");
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 1700000000008000ULL);
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, 1700000000009000ULL);
	if (cap_pcap_write(t, at(dir, "clean-ipv4.pcap"), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		rc = -1;
	}
	cap_transcript_free(t);

	memset(&c6, 0, sizeof(c6));
	memset(&s6, 0, sizeof(s6));
	c6.sin6_family = s6.sin6_family = AF_INET6;
	c6.sin6_addr.s6_addr[15] = 1;
	s6.sin6_addr.s6_addr[15] = 1;
	c6.sin6_port = htons(40001);
	s6.sin6_port = htons(2525);
	t = cap_transcript_new((struct sockaddr *)&c6, (struct sockaddr *)&s6);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1700000000000000ULL);
	add(t, CAP_S2C, 1700000000001000ULL, "220-mx.test\r\n220 ESMTP\r\n");
	add(t, CAP_C2S, 1700000000002000ULL, "EHLO c.test\r\n");
	cap_transcript_add_gap(t, CAP_S2C, 1700000000003000ULL, 40);
	add(t, CAP_C2S, 1700000000004000ULL, "QUIT\r\n");
	add(t, CAP_S2C, 1700000000005000ULL, "221 bye\r\n");
	cap_transcript_add_event(t, CAP_RST, CAP_C2S, 1700000000006000ULL);
	if (cap_pcap_write(t, at(dir, "gap-ipv6.pcap"), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		rc = -1;
	}
	cap_transcript_free(t);
	return rc;
}

static int
by_hand(const char *dir)
{
	static const struct {
		const char *name;
		int dlt;
	} links[] = {
		{ "link-sll.pcap", DLT_LINUX_SLL },
		{ "link-sll2.pcap", DLT_LINUX_SLL2 },
		{ "link-raw.pcap", DLT_RAW },
		{ "link-null.pcap", DLT_NULL },
	};
	pb b;
	uint32_t s0, c0;

	/* reordered, retransmitted (once the same, once not), lost, then RST */
	if (pb_open(&b, at(dir, "reorder-retx-loss.pcap"), DLT_EN10MB, 0, 25) != 0)
		return -1;
	pb_handshake(&b);
	s0 = b.seq[1];
	pb_frame(&b, 1, PB_ACK, s0 + 4, "mx.test\r\n", 9);
	pb_frame(&b, 1, PB_ACK, s0, "220 ", 4);
	b.seq[1] = s0 + 13;
	c0 = b.seq[0];
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_frame(&b, 0, PB_ACK, c0, "EHLO c.test\r\n", 13);
	pb_frame(&b, 0, PB_ACK, c0 + 5, "x.test\r\nNOOP\r\n", 14);
	b.seq[0] = c0 + 19;
	pb_send(&b, 1, "250 mx.test\r\n");
	pb_lose(&b, 1, "250 ok\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "221 bye\r\n");
	pb_rst(&b, 1);
	pb_close(&b);

	/* STARTTLS, then ciphertext; IPv6 behind extension headers */
	if (pb_open(&b, at(dir, "starttls-ipv6ext.pcap"), DLT_EN10MB, 1, 587) != 0)
		return -1;
	b.ext = 1;
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_send(&b, 1, "250-mx.test\r\n250 STARTTLS\r\n");
	pb_send(&b, 0, "STARTTLS\r\n");
	pb_send(&b, 1, "220 go ahead\r\n");
	pb_send(&b, 0, "\x16\x03\x01\x01\x05hello");
	pb_fin(&b, 0);
	pb_fin(&b, 1);
	pb_close(&b);

	/* not SMTP, then SMTP on an odd port cut by a snap length */
	if (pb_open(&b, at(dir, "mixed-snaplen.pcap"), DLT_EN10MB, 0, 80) != 0)
		return -1;
	pb_handshake(&b);
	pb_send(&b, 0, "GET / HTTP/1.0\r\n\r\n");
	pb_fin(&b, 0);
	b.port[0] = 40002;
	b.port[1] = 9925;
	pb_handshake(&b);
	pb_send(&b, 0, "HELO c.test\r\n");
	pb_frame_cut(&b, 1, PB_ACK, b.seq[1], "250 mx.test hello\r\n", 19, 14 + 20 + 20 + 6);
	b.seq[1] += 19;
	pb_send(&b, 0, "QUIT\r\n");
	pb_close(&b);

	/* QUIT lost: its 221 and the close lie beyond the gap, and would
	 * read as an unsolicited reply if the gap were ignored */
	if (pb_open(&b, at(dir, "lost-quit.pcap"), DLT_EN10MB, 0, 25) != 0)
		return -1;
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_send(&b, 1, "250 mx.test\r\n");
	pb_lose(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "221 bye\r\n");
	pb_fin(&b, 1);
	pb_fin(&b, 0);
	pb_close(&b);

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (pb_open(&b, at(dir, links[i].name), links[i].dlt, (int)(i & 1), 25) != 0)
			return -1;
		pb_handshake(&b);
		pb_send(&b, 1, "220 mx.test\r\n");
		pb_send(&b, 0, "EHLO c.test\r\n");
		pb_send(&b, 1, "250 mx.test\r\n");
		pb_send(&b, 0, "QUIT\r\n");
		pb_send(&b, 1, "221 bye\r\n");
		pb_fin(&b, 1);
		pb_fin(&b, 0);
		pb_close(&b);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_pcap_seeds DIR\n");
		return 2;
	}
	if (from_transcripts(argv[1]) != 0 || by_hand(argv[1]) != 0) {
		fprintf(stderr, "gen_pcap_seeds: cannot write into %s\n", argv[1]);
		return 1;
	}
	return 0;
}
