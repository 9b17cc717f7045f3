/*
 * test_pcap_read - captures back into transcripts: every link type, IPv6
 * with extension headers, reordering, retransmission, overlaps, loss as a
 * gap, FIN and RST, STARTTLS, sessions found by content, bad files, and
 * a round trip through the project's own pcap writer.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "captures/pcap_read.h"
#include "captures/pcap_write.h"
#include "harness/check/dialog.h"
#include "harness/util/harness_limits.h"
#include "tests/support/pcap_build.h"

static char tmpdir[64];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pcap_read.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

static const char *
tmp_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* What the reader handed out. */
typedef struct got {
	size_t n;
	cap_pcap_session s[8];
	char notes[8][2048];
} got;

static void
collect(void *arg, cap_pcap_session *s)
{
	got *g = arg;

	ck_assert_uint_lt(g->n, 8);
	g->s[g->n] = *s;
	g->notes[g->n][0] = '\0';
	for (size_t i = 0; i < s->nnotes; i++) {
		strncat(g->notes[g->n], s->notes[i], sizeof(g->notes[0]) - strlen(g->notes[g->n]) - 2);
		strcat(g->notes[g->n], "|");
	}
	g->s[g->n].notes = NULL;
	g->s[g->n].nnotes = s->nnotes;
	s->t = NULL;		/* taken */
	g->n++;
}

static void
got_free(got *g)
{
	for (size_t i = 0; i < g->n; i++)
		cap_transcript_free(g->s[i].t);
}

static void
read_ok(const char *path, got *g, cap_pcap_stats *st)
{
	char err[512] = "";

	memset(g, 0, sizeof(*g));
	ck_assert_msg(cap_pcap_read_file(path, collect, g, st, err, sizeof(err)) == 0, "%s", err);
}

static void
assert_stream(const cap_transcript *t, cap_dir dir, const char *want)
{
	size_t n = strlen(want);

	ck_assert_uint_eq(t->stream[dir].len, n);
	ck_assert_int_eq(memcmp(t->stream[dir].data, want, n), 0);
}

static long
count_kind(const cap_transcript *t, cap_kind k)
{
	long n = 0;

	for (size_t i = 0; i < t->nsegs; i++)
		n += t->segs[i].kind == k;
	return n;
}

static const char *C_ALL = "EHLO c.test\r\nQUIT\r\n";
static const char *S_ALL = "220 mx.test ESMTP\r\n250 mx.test\r\n221 bye\r\n";

/* A plain session over link type dlt. */
static void
plain(const char *path, int dlt, int v6, int ext, uint16_t port)
{
	pb b;

	ck_assert_int_eq(pb_open(&b, path, dlt, v6, port), 0);
	b.ext = ext;
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_send(&b, 1, "250 mx.test\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "221 bye\r\n");
	pb_fin(&b, 1);
	pb_fin(&b, 0);
	pb_close(&b);
}

static void
check_plain(const char *path, int v6, uint16_t port)
{
	got g;
	char buf[128];
	const cap_transcript *t;

	read_ok(path, &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	t = g.s[0].t;
	ck_assert_uint_eq(g.s[0].index, 1);
	ck_assert_uint_eq(g.s[0].gaps, 0);
	ck_assert_uint_eq(g.s[0].nnotes, 0);
	assert_stream(t, CAP_C2S, C_ALL);
	assert_stream(t, CAP_S2C, S_ALL);
	ck_assert_int_eq(t->segs[0].kind, CAP_OPEN);
	ck_assert_int_eq(count_kind(t, CAP_FIN), 2);
	ck_assert_int_eq(t->segs[t->nsegs - 2].kind, CAP_FIN);
	ck_assert_int_eq(t->segs[t->nsegs - 2].dir, CAP_S2C);
	ck_assert_uint_eq(t->segs[1].ts_us, 1700000000000000ULL + 4000);
	snprintf(buf, sizeof(buf), v6 ? "[::1]:%u" : "127.0.0.1:%u", port);
	ck_assert_str_eq(cap_addr_str(&t->server, buf + 64, 64), buf);
	ck_assert_str_eq(cap_addr_str(&t->client, buf, 64), v6 ? "[::1]:40000" : "127.0.0.1:40000");
	got_free(&g);
}

START_TEST(test_pcap_read_link_types)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL,
		DLT_LOOP };

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "link%zu.pcap", i);
		plain(tmp_path(name), dlts[i], 0, 0, 2525);
		check_plain(tmp_path(name), 0, 2525);
		snprintf(name, sizeof(name), "link%zu-6.pcap", i);
		plain(tmp_path(name), dlts[i], 1, 0, 25);
		check_plain(tmp_path(name), 1, 25);
	}
}
END_TEST

START_TEST(test_pcap_read_ipv6_extension_headers)
{
	plain(tmp_path("ext.pcap"), DLT_EN10MB, 1, 1, 587);
	check_plain(tmp_path("ext.pcap"), 1, 587);
}
END_TEST

/* Segments captured out of order are put back in order. */
START_TEST(test_pcap_read_reordering)
{
	pb b;
	got g;
	uint32_t s0, c0;

	ck_assert_int_eq(pb_open(&b, tmp_path("reorder.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	s0 = b.seq[1];
	c0 = b.seq[0];
	/* the greeting's second half first */
	pb_frame(&b, 1, PB_ACK, s0 + 4, "mx.test ESMTP\r\n", 15);
	pb_frame(&b, 1, PB_ACK, s0, "220 ", 4);
	b.seq[1] = s0 + 19;
	pb_frame(&b, 0, PB_ACK, c0 + 13, "QUIT\r\n", 6);
	pb_frame(&b, 0, PB_ACK, c0 + 5, "c.test\r\n", 8);
	pb_frame(&b, 0, PB_ACK, c0, "EHLO ", 5);
	b.seq[0] = c0 + 19;
	pb_send(&b, 1, "250 mx.test\r\n221 bye\r\n");
	pb_fin(&b, 0);
	pb_fin(&b, 1);
	pb_close(&b);

	read_ok(tmp_path("reorder.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_C2S, C_ALL);
	assert_stream(g.s[0].t, CAP_S2C, S_ALL);
	ck_assert_uint_eq(g.s[0].gaps, 0);
	ck_assert_uint_eq(g.s[0].nnotes, 0);
	got_free(&g);
}
END_TEST

/* Retransmissions and overlaps: the first copy wins; a differing copy
 * is noted. */
START_TEST(test_pcap_read_retransmission_overlap)
{
	pb b;
	got g;
	uint32_t c0;

	ck_assert_int_eq(pb_open(&b, tmp_path("retx.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	c0 = b.seq[0];
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_frame(&b, 0, PB_ACK, c0, "EHLO c.test\r\n", 13);	/* same again */
	pb_frame(&b, 0, PB_ACK, c0 + 5, "c.test\r\nQUIT\r\n", 14);	/* overlaps, adds QUIT */
	b.seq[0] = c0 + 19;
	pb_send(&b, 1, "250 mx.test\r\n221 bye\r\n");
	pb_fin(&b, 1);
	pb_fin(&b, 0);
	pb_close(&b);
	read_ok(tmp_path("retx.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_C2S, C_ALL);
	ck_assert_uint_eq(g.s[0].nnotes, 0);
	got_free(&g);

	/* A retransmission that says something else, delivered and held. */
	ck_assert_int_eq(pb_open(&b, tmp_path("conflict.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	c0 = b.seq[0];
	pb_frame(&b, 0, PB_ACK, c0 + 13, "QUIT\r\n", 6);		/* early */
	pb_frame(&b, 0, PB_ACK, c0 + 13, "XXXX\r\n", 6);		/* differs, held */
	pb_frame(&b, 0, PB_ACK, c0, "EHLO c.test\r\n", 13);
	pb_frame(&b, 0, PB_ACK, c0, "HELO c.test\r\n", 13);		/* differs, delivered */
	b.seq[0] = c0 + 19;
	pb_send(&b, 1, "250 mx.test\r\n221 bye\r\n");
	pb_rst(&b, 0);
	pb_close(&b);
	read_ok(tmp_path("conflict.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_C2S, C_ALL);
	ck_assert_uint_eq(g.s[0].nnotes, 2);
	ck_assert_ptr_nonnull(strstr(g.notes[0], "the first copy was kept"));
	ck_assert_int_eq(count_kind(g.s[0].t, CAP_RST), 1);
	ck_assert_int_eq(g.s[0].t->segs[g.s[0].t->nsegs - 1].dir, CAP_C2S);
	got_free(&g);
}
END_TEST

/* A segment never captured is a gap of its size, never filled. */
START_TEST(test_pcap_read_loss_is_a_gap)
{
	pb b;
	got g;
	const cap_transcript *t;
	long gi = -1;
	dlg *d;

	ck_assert_int_eq(pb_open(&b, tmp_path("loss.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_send(&b, 1, "250 mx.test\r\n");
	pb_lose(&b, 0, "MAIL FROM:<a@b.test>\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "250 ok\r\n221 bye\r\n");
	pb_fin(&b, 1);
	pb_fin(&b, 0);
	pb_close(&b);
	read_ok(tmp_path("loss.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	t = g.s[0].t;
	ck_assert_uint_eq(g.s[0].gaps, 1);
	ck_assert_uint_eq(g.s[0].gap_bytes, 22);
	assert_stream(t, CAP_C2S, "EHLO c.test\r\nQUIT\r\n");
	for (size_t i = 0; i < t->nsegs; i++) {
		if (t->segs[i].kind == CAP_GAP)
			gi = (long)i;
	}
	ck_assert_int_ge(gi, 0);
	ck_assert_int_eq(t->segs[gi].dir, CAP_C2S);
	ck_assert_uint_eq(t->segs[gi].len, 22);
	ck_assert_uint_eq(t->segs[gi].off, 13);
	ck_assert_ptr_nonnull(strstr(g.notes[0], "22 byte(s) missing"));
	d = dlg_build(t);
	ck_assert_int_eq(d->gap, gi);
	dlg_free(d);
	ck_assert_int_eq(count_kind(t, CAP_FIN), 2);
	got_free(&g);

	/* Lost at the very end, before the FIN: still a gap, then the FIN. */
	ck_assert_int_eq(pb_open(&b, tmp_path("tail.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_lose(&b, 1, "250 mx.test\r\n");
	pb_fin(&b, 1);
	pb_close(&b);
	read_ok(tmp_path("tail.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	t = g.s[0].t;
	ck_assert_uint_eq(g.s[0].gap_bytes, 13);
	ck_assert_int_eq(t->segs[t->nsegs - 2].kind, CAP_GAP);
	ck_assert_int_eq(t->segs[t->nsegs - 1].kind, CAP_FIN);
	got_free(&g);
}
END_TEST

/* Holes in both directions left at the end: both are flushed before the
 * session is judged SMTP or not. */
START_TEST(test_pcap_read_end_flush)
{
	pb b;
	got g;

	ck_assert_int_eq(pb_open(&b, tmp_path("end.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_lose(&b, 1, "xyz");
	pb_send(&b, 1, "220 hi\r\n");
	pb_lose(&b, 0, "ab");
	pb_send(&b, 0, "QUIT\r\n");
	pb_close(&b);
	read_ok(tmp_path("end.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.s[0].gaps, 2);
	ck_assert_uint_eq(g.s[0].gap_bytes, 5);
	assert_stream(g.s[0].t, CAP_C2S, "QUIT\r\n");
	got_free(&g);
}
END_TEST

/* A packet cut by the snap length: the captured part, then a gap. */
START_TEST(test_pcap_read_snaplen)
{
	pb b;
	got g;

	ck_assert_int_eq(pb_open(&b, tmp_path("snap.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_frame_cut(&b, 0, PB_ACK, b.seq[0], "EHLO c.test\r\n", 13, 14 + 20 + 20 + 5);
	b.seq[0] += 13;
	pb_send(&b, 0, "QUIT\r\n");
	pb_close(&b);
	read_ok(tmp_path("snap.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_C2S, "EHLO QUIT\r\n");
	ck_assert_uint_eq(g.s[0].gap_bytes, 8);
	ck_assert_ptr_nonnull(strstr(g.notes[0], "snap length"));
	got_free(&g);
}
END_TEST

START_TEST(test_pcap_read_starttls_opaque)
{
	pb b;
	got g;
	const cap_transcript *t;

	ck_assert_int_eq(pb_open(&b, tmp_path("tls.pcap"), DLT_LINUX_SLL2, 0, 587), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	pb_send(&b, 1, "250-mx.test\r\n250 STARTTLS\r\n");
	pb_send(&b, 0, "STARTTLS\r\n");
	pb_send(&b, 1, "220 2.0.0 go ahead\r\n");
	pb_send(&b, 0, "\x16\x03\x01\x01\x05hello");
	pb_send(&b, 1, "\x16\x03\x03\x01\x02hi");
	pb_fin(&b, 0);
	pb_fin(&b, 1);
	pb_close(&b);
	read_ok(tmp_path("tls.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	t = g.s[0].t;
	ck_assert_int_eq(g.s[0].tls, 1);
	assert_stream(t, CAP_C2S, "EHLO c.test\r\nSTARTTLS\r\n");
	assert_stream(t, CAP_S2C, "220 mx.test ESMTP\r\n250-mx.test\r\n250 STARTTLS\r\n"
	    "220 2.0.0 go ahead\r\n");
	ck_assert_int_eq(count_kind(t, CAP_TLS_START), 1);
	ck_assert_int_eq(count_kind(t, CAP_FIN), 2);
	ck_assert_ptr_nonnull(strstr(g.notes[0], "17 byte(s) after STARTTLS"));
	got_free(&g);

	/* Refused: the session goes on in the clear. */
	ck_assert_int_eq(pb_open(&b, tmp_path("notls.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "STARTTLS\r\n");
	pb_send(&b, 1, "454 4.7.0 not now\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "221 bye\r\n");
	pb_close(&b);
	read_ok(tmp_path("notls.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_int_eq(g.s[0].tls, 0);
	assert_stream(g.s[0].t, CAP_C2S, "STARTTLS\r\nQUIT\r\n");
	ck_assert_int_eq(count_kind(g.s[0].t, CAP_TLS_START), 0);
	got_free(&g);
}
END_TEST

/* SMTP is found by content on any port; other protocols are not. Two
 * sessions come out numbered in the order they were recognised. */
START_TEST(test_pcap_read_found_by_content)
{
	pb b;
	got g;
	cap_pcap_stats st;
	char buf[64];

	ck_assert_int_eq(pb_open(&b, tmp_path("mixed.pcap"), DLT_EN10MB, 0, 80), 0);
	pb_handshake(&b);
	pb_send(&b, 0, "GET / HTTP/1.0\r\n\r\n");
	pb_send(&b, 1, "HTTP/1.0 200 OK\r\n\r\n");
	pb_fin(&b, 1);
	pb_fin(&b, 0);
	/* FTP greets with 220 too, but its client does not speak SMTP */
	b.port[0] = 40001;
	b.port[1] = 21;
	pb_handshake(&b);
	pb_send(&b, 1, "220 ftp ready\r\n");
	pb_send(&b, 0, "USER anonymous\r\n");
	pb_rst(&b, 0);
	/* SMTP on an odd port, its client speaking first */
	b.port[0] = 40002;
	b.port[1] = 9999;
	pb_handshake(&b);
	pb_send(&b, 0, "HELO c.test\r\n");
	pb_send(&b, 1, "250 hi\r\n");
	/* and one whose SYN the capture missed, starting at the greeting */
	b.port[0] = 40003;
	b.port[1] = 2525;
	pb_send(&b, 1, "220 late ESMTP\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_send(&b, 1, "221 bye\r\n");
	pb_close(&b);
	read_ok(tmp_path("mixed.pcap"), &g, &st);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(st.sessions, 2);
	ck_assert_uint_eq(g.s[0].index, 1);
	ck_assert_str_eq(cap_addr_str(&g.s[0].t->server, buf, sizeof(buf)), "127.0.0.1:9999");
	assert_stream(g.s[0].t, CAP_C2S, "HELO c.test\r\n");
	ck_assert_uint_eq(g.s[1].index, 2);
	ck_assert_str_eq(cap_addr_str(&g.s[1].t->server, buf, sizeof(buf)), "127.0.0.1:2525");
	assert_stream(g.s[1].t, CAP_S2C, "220 late ESMTP\r\n221 bye\r\n");
	ck_assert_int_eq(g.s[1].t->segs[0].kind, CAP_OPEN);
	got_free(&g);
}
END_TEST

/* More out-of-order bytes than the limit: the hole is declared lost and
 * the reader goes on, in bounded memory. */
START_TEST(test_pcap_read_ooo_limit)
{
	pb b;
	got g;
	static char chunk[1401];
	uint32_t c0;
	size_t n = HARNESS_PCAP_OOO_MAX / 1400 + 2;

	memset(chunk, 'x', 1398);
	memcpy(chunk + 1398, "\r\n", 3);
	ck_assert_int_eq(pb_open(&b, tmp_path("ooo.pcap"), DLT_EN10MB, 0, 25), 0);
	pb_handshake(&b);
	pb_send(&b, 1, "220 mx.test ESMTP\r\n");
	pb_send(&b, 0, "EHLO c.test\r\n");
	c0 = b.seq[0];
	for (size_t i = 0; i < n; i++)
		pb_frame(&b, 0, PB_ACK, c0 + 10 + (uint32_t)(i * 1400), chunk, 1400);
	pb_close(&b);
	read_ok(tmp_path("ooo.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.s[0].gap_bytes, 10);
	ck_assert_uint_eq(g.s[0].t->stream[CAP_C2S].len, 13 + n * 1400);
	ck_assert_ptr_nonnull(strstr(g.notes[0], "held out of order"));
	got_free(&g);
}
END_TEST

/* Past HARNESS_PCAP_CONNS_MAX open connections, new ones are counted,
 * not followed; the ones followed still come out. */
START_TEST(test_pcap_read_conn_limit)
{
	pb b;
	got g;
	cap_pcap_stats st;

	ck_assert_int_eq(pb_open(&b, tmp_path("conns.pcap"), DLT_RAW, 0, 25), 0);
	for (int i = 0; i < HARNESS_PCAP_CONNS_MAX + 3; i++) {
		b.port[0] = (uint16_t)(10000 + i);
		pb_handshake(&b);
	}
	b.port[0] = 10000;
	b.seq[0] = 1001;	/* the first connection's own numbers */
	b.seq[1] = 5001;
	pb_send(&b, 1, "220 first\r\n");
	pb_send(&b, 0, "QUIT\r\n");
	pb_close(&b);
	read_ok(tmp_path("conns.pcap"), &g, &st);
	ck_assert_uint_eq(st.untracked, 3);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_S2C, "220 first\r\n");
	got_free(&g);
}
END_TEST

/* The project's own writer and this reader agree, gap included. */
START_TEST(test_pcap_read_round_trip)
{
	struct sockaddr_in6 c, s;
	cap_transcript *t;
	got g;
	char err[256];

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sin6_family = s.sin6_family = AF_INET6;
	c.sin6_addr.s6_addr[15] = 1;
	s.sin6_addr.s6_addr[15] = 2;
	c.sin6_port = htons(41000);
	s.sin6_port = htons(25);
	t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, 1);
	cap_transcript_add_data(t, CAP_S2C, 2, "220 hi\r\n", 8);
	cap_transcript_add_data(t, CAP_C2S, 3, "EHLO a\r\n", 8);
	cap_transcript_add_gap(t, CAP_S2C, 4, 100);
	cap_transcript_add_data(t, CAP_S2C, 5, "250 ok\r\n", 8);
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, 6);
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, 7);
	ck_assert_int_eq(cap_pcap_write(t, tmp_path("rt.pcap"), err, sizeof(err)), 0);
	cap_transcript_free(t);
	read_ok(tmp_path("rt.pcap"), &g, NULL);
	ck_assert_uint_eq(g.n, 1);
	assert_stream(g.s[0].t, CAP_C2S, "EHLO a\r\n");
	assert_stream(g.s[0].t, CAP_S2C, "220 hi\r\n250 ok\r\n");
	ck_assert_uint_eq(g.s[0].gap_bytes, 100);
	ck_assert_int_eq(count_kind(g.s[0].t, CAP_FIN), 2);
	ck_assert_int_eq(g.s[0].t->client.ss_family, AF_INET6);
	got_free(&g);
}
END_TEST

START_TEST(test_pcap_read_bad_files)
{
	char err[512];
	got g;
	FILE *fp;
	pb b;
	long size;

	memset(&g, 0, sizeof(g));
	fp = fopen(tmp_path("text.pcap"), "w");
	fputs("this is not a capture at all\n", fp);
	fclose(fp);
	ck_assert_int_eq(cap_pcap_read_file(tmp_path("text.pcap"), collect, &g, NULL, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "text.pcap: expected a pcap or pcapng capture"));

	ck_assert_int_eq(cap_pcap_read_file(tmp_path("absent.pcap"), collect, &g, NULL, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "absent.pcap: cannot open"));

	/* a record cut short: the sessions before it still come out */
	plain(tmp_path("cut.pcap"), DLT_EN10MB, 0, 0, 25);
	fp = fopen(tmp_path("cut.pcap"), "r+");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	ck_assert_int_eq(truncate(tmp_path("cut.pcap"), size - 10), 0);
	ck_assert_int_eq(cap_pcap_read_file(tmp_path("cut.pcap"), collect, &g, NULL, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected a whole record at byte offset"));
	ck_assert_uint_eq(g.n, 1);
	got_free(&g);

	/* a link type the reader does not take */
	ck_assert_int_eq(pb_open(&b, tmp_path("wifi.pcap"), DLT_IEEE802_11, 0, 25), 0);
	pb_close(&b);
	ck_assert_int_eq(cap_pcap_read_file(tmp_path("wifi.pcap"), collect, &g, NULL, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected link type Ethernet"));
}
END_TEST

/* Frames of any shape go through the core without harm. */
START_TEST(test_pcap_read_garbage_frames)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };
	uint8_t f[200];
	got g;

	memset(&g, 0, sizeof(g));
	ck_assert_ptr_null(cap_reasm_new(DLT_IEEE802_11, collect, &g));
	srand(7);
	for (size_t k = 0; k < sizeof(dlts) / sizeof(dlts[0]); k++) {
		cap_reasm *r = cap_reasm_new(dlts[k], collect, &g);

		for (int i = 0; i < 20000; i++) {
			size_t n = (size_t)rand() % sizeof(f);

			for (size_t j = 0; j < n; j++)
				f[j] = (uint8_t)rand();
			if (n > 0)
				f[0] = (uint8_t)((f[0] & 0x0f) | 0x40);
			cap_reasm_frame(r, (uint64_t)i, f, n, n);
		}
		cap_reasm_finish(r);
		ck_assert_uint_eq(cap_reasm_stats(r)->packets, 20000);
		cap_reasm_free(r);
	}
	got_free(&g);
}
END_TEST

static Suite *
pcap_read_suite(void)
{
	Suite *s = suite_create("pcap_read");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pcap_read_link_types);
	tcase_add_test(tc, test_pcap_read_ipv6_extension_headers);
	tcase_add_test(tc, test_pcap_read_reordering);
	tcase_add_test(tc, test_pcap_read_retransmission_overlap);
	tcase_add_test(tc, test_pcap_read_loss_is_a_gap);
	tcase_add_test(tc, test_pcap_read_snaplen);
	tcase_add_test(tc, test_pcap_read_end_flush);
	tcase_add_test(tc, test_pcap_read_starttls_opaque);
	tcase_add_test(tc, test_pcap_read_found_by_content);
	tcase_add_test(tc, test_pcap_read_ooo_limit);
	tcase_add_test(tc, test_pcap_read_conn_limit);
	tcase_add_test(tc, test_pcap_read_round_trip);
	tcase_add_test(tc, test_pcap_read_bad_files);
	tcase_add_test(tc, test_pcap_read_garbage_frames);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pcap_read_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
