/*
 * test_pcap_write - transcripts written as pcap, read back with libpcap
 * and with tshark: frame layout, checksums, sequence and acknowledgement
 * continuity, and byte-exact reassembly of both directions.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "captures/pcap_write.h"
#include "harness/util/vbuf.h"

#define TSHARK		"/usr/bin/tshark"
#define FRAMES_MAX	256
#define T0		1700000000000000ull

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

typedef struct frame {
	uint64_t ts_us;
	int from;		/* cap_dir of the sender */
	uint8_t flags;
	uint32_t seq, ack;
	size_t plen;
	uint16_t ip_id;
} frame;

/* What a pcap file held, as seen by a small independent decoder. */
typedef struct decoded {
	frame f[FRAMES_MAX];
	size_t n;
	vbuf stream[2];
	size_t psh[2];
	int v6;
	uint8_t addr[2][16];
	uint16_t port[2];
} decoded;

static char tmpdir[] = "/tmp/test_pcap_write.XXXXXX";

static void
setup(void)
{
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
		if (unlink(p) != 0)
			rmdir(p);
	}
	closedir(d);
	rmdir(tmpdir);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
}

static char *
tmp_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One's-complement sum folded; a region holding a correct checksum sums to 0xffff. */
static uint16_t
csum(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Reads path with libpcap, checks every frame's headers and checksums and
 * the sequence/acknowledgement continuity, and reassembles the payloads of
 * each direction. The first frame's source is taken as the client.
 */
static void
decode(const char *path, decoded *d)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	uint32_t next[2] = { 0, 0 };
	int seen_syn[2] = { 0, 0 };
	int rc;

	memset(d, 0, sizeof(*d));
	ck_assert_msg(p != NULL, "pcap_open_offline: %s", errbuf);
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	while ((rc = pcap_next_ex(p, &h, &pkt)) == 1) {
		frame *f;
		const uint8_t *ip = pkt + 14, *tcp, *src, *dst;
		size_t iplen, alen, tcplen, hl;
		uint16_t type, sport, dport;
		uint8_t pseudo[40];
		int from;

		ck_assert_uint_lt(d->n, FRAMES_MAX);
		f = &d->f[d->n];
		ck_assert_uint_eq(h->caplen, h->len);
		ck_assert_uint_ge(h->caplen, 14 + 20 + 20);
		type = get16(pkt + 12);
		ck_assert(type == 0x0800 || type == 0x86dd);
		/* locally administered unicast MACs */
		ck_assert_int_eq(pkt[0] & 0x03, 0x02);
		ck_assert_int_eq(pkt[6] & 0x03, 0x02);
		if (type == 0x0800) {
			ck_assert_int_eq(ip[0], 0x45);
			iplen = 20;
			alen = 4;
			ck_assert_uint_eq(get16(ip + 2), h->caplen - 14);
			ck_assert_int_eq(get16(ip + 6), 0x4000);
			ck_assert_int_eq(ip[8], 64);
			ck_assert_int_eq(ip[9], IPPROTO_TCP);
			ck_assert_msg(csum(0, ip, 20) == 0xffff, "bad IPv4 checksum in frame %zu", d->n);
			f->ip_id = get16(ip + 4);
			src = ip + 12;
			dst = ip + 16;
			tcplen = h->caplen - 14 - 20;
			memcpy(pseudo, src, 4);
			memcpy(pseudo + 4, dst, 4);
			pseudo[8] = 0;
			pseudo[9] = IPPROTO_TCP;
			pseudo[10] = (uint8_t)(tcplen >> 8);
			pseudo[11] = (uint8_t)tcplen;
		} else {
			ck_assert_uint_ge(h->caplen, 14 + 40 + 20);
			ck_assert_int_eq(ip[0] >> 4, 6);
			iplen = 40;
			alen = 16;
			ck_assert_uint_eq(get16(ip + 4), h->caplen - 14 - 40);
			ck_assert_int_eq(ip[6], IPPROTO_TCP);
			ck_assert_int_eq(ip[7], 64);
			src = ip + 8;
			dst = ip + 24;
			tcplen = h->caplen - 14 - 40;
			memcpy(pseudo, src, 16);
			memcpy(pseudo + 16, dst, 16);
			memset(pseudo + 32, 0, 8);
			pseudo[34] = (uint8_t)(tcplen >> 8);
			pseudo[35] = (uint8_t)tcplen;
			pseudo[39] = IPPROTO_TCP;
		}
		tcp = ip + iplen;
		ck_assert_msg(csum(csum(0, pseudo, alen == 4 ? 12 : 40), tcp, tcplen) == 0xffff,
		    "bad TCP checksum in frame %zu", d->n);
		sport = get16(tcp);
		dport = get16(tcp + 2);
		if (d->n == 0) {
			d->v6 = alen == 16;
			memcpy(d->addr[0], src, alen);
			memcpy(d->addr[1], dst, alen);
			d->port[0] = sport;
			d->port[1] = dport;
		}
		ck_assert_int_eq(d->v6, alen == 16);
		if (sport == d->port[0] && memcmp(src, d->addr[0], alen) == 0) {
			from = 0;
		} else {
			ck_assert_int_eq(sport, d->port[1]);
			ck_assert_int_eq(memcmp(src, d->addr[1], alen), 0);
			from = 1;
		}
		ck_assert_int_eq(dport, d->port[!from]);
		ck_assert_int_eq(memcmp(dst, d->addr[!from], alen), 0);
		/* the client's MAC ends in 1, the server's in 2 */
		ck_assert_int_eq(pkt[5], (from ? 1 : 2));
		ck_assert_int_eq(pkt[11], (from ? 2 : 1));

		hl = (size_t)(tcp[12] >> 4) * 4;
		ck_assert_uint_ge(hl, 20);
		ck_assert_uint_le(hl, tcplen);
		f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		f->from = from;
		f->flags = tcp[13];
		f->seq = get32(tcp + 4);
		f->ack = get32(tcp + 8);
		f->plen = tcplen - hl;
		ck_assert_int_eq(get16(tcp + 14), 65535);
		ck_assert_uint_le(f->plen, CAP_PCAP_MSS);

		if (f->flags & F_SYN) {
			ck_assert_uint_eq(f->plen, 0);
			ck_assert_int_eq(seen_syn[from], 0);
			seen_syn[from] = 1;
			next[from] = f->seq + 1;
		} else {
			ck_assert_msg(seen_syn[from], "frame %zu before its side's SYN", d->n);
			ck_assert_msg(f->seq == next[from], "frame %zu: seq %u, expected %u",
			    d->n, f->seq, next[from]);
			next[from] += (uint32_t)f->plen + ((f->flags & F_FIN) ? 1 : 0);
		}
		if (f->flags & F_ACK) {
			ck_assert(seen_syn[!from]);
			ck_assert_msg(f->ack == next[!from], "frame %zu: ack %u, expected %u",
			    d->n, f->ack, next[!from]);
		} else {
			ck_assert_int_eq(f->flags, F_SYN);
		}
		if (f->plen) {
			ck_assert(f->flags & F_ACK);
			vbuf_append(&d->stream[from], tcp + hl, f->plen);
		}
		if (f->flags & F_PSH)
			d->psh[from]++;
		d->n++;
	}
	ck_assert_int_eq(rc, PCAP_ERROR_BREAK);
	pcap_close(p);
}

static void
decoded_free(decoded *d)
{
	vbuf_free(&d->stream[0]);
	vbuf_free(&d->stream[1]);
}

static size_t
data_frames(const cap_transcript *t, size_t *segs_per_dir)
{
	size_t i, n = 0;

	segs_per_dir[0] = segs_per_dir[1] = 0;
	for (i = 0; i < t->nsegs; i++) {
		if (t->segs[i].kind == CAP_DATA) {
			n += (t->segs[i].len + CAP_PCAP_MSS - 1) / CAP_PCAP_MSS;
			segs_per_dir[t->segs[i].dir]++;
		}
	}
	return n;
}

static void
assert_streams(const decoded *d, const cap_transcript *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(d->stream[i].len, t->stream[i].len);
		ck_assert_int_eq(memcmp(d->stream[i].data, t->stream[i].data, t->stream[i].len), 0);
	}
}

static void
assert_flags(const decoded *d, size_t i, int from, uint8_t flags)
{
	ck_assert_uint_lt(i, d->n);
	ck_assert_msg(d->f[i].from == from && d->f[i].flags == flags,
	    "frame %zu: from %d flags 0x%02x, expected from %d flags 0x%02x",
	    i, d->f[i].from, d->f[i].flags, from, flags);
}

static void
add_str(cap_transcript *t, cap_dir dir, uint64_t ts, const char *s)
{
	ck_assert_int_ge(cap_transcript_add_data(t, dir, ts, s, strlen(s)), 0);
}

/* A whole SMTP dialog, one message body of more than three frames. */
static void
smtp_dialog(cap_transcript *t, size_t body_len)
{
	uint64_t ts = T0;
	char *body = malloc(body_len);
	size_t i;

	ck_assert_ptr_nonnull(body);
	for (i = 0; i < body_len; i++)
		body[i] = (char)('a' + i % 26);
	for (i = 76; i + 1 < body_len; i += 78) {
		body[i] = '\r';
		body[i + 1] = '\n';
	}
	memcpy(body + body_len - 5, "\r\n.\r\n", 5);

	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, ts);
	add_str(t, CAP_S2C, ts += 1000, "220 mx.example.test ESMTP\r\n");
	add_str(t, CAP_C2S, ts += 1000, "EHLO client.example.test\r\n");
	add_str(t, CAP_S2C, ts += 1000, "250-mx.example.test\r\n250-PIPELINING\r\n");
	add_str(t, CAP_S2C, ts += 10, "250 8BITMIME\r\n");
	add_str(t, CAP_C2S, ts += 1000, "MAIL FROM:<a@example.test>\r\n");
	add_str(t, CAP_S2C, ts += 1000, "250 2.1.0 Ok\r\n");
	add_str(t, CAP_C2S, ts += 1000, "RCPT TO:<b@example.test>\r\n");
	add_str(t, CAP_S2C, ts += 1000, "250 2.1.5 Ok\r\n");
	add_str(t, CAP_C2S, ts += 1000, "DATA\r\n");
	add_str(t, CAP_S2C, ts += 1000, "354 End data with <CR><LF>.<CR><LF>\r\n");
	ck_assert_int_ge(cap_transcript_add_data(t, CAP_C2S, ts += 1000, body, body_len), 0);
	add_str(t, CAP_S2C, ts += 1000, "250 2.0.0 Ok: queued\r\n");
	add_str(t, CAP_C2S, ts += 1000, "QUIT\r\n");
	add_str(t, CAP_S2C, ts += 1000, "221 2.0.0 Bye\r\n");
	cap_transcript_add_event(t, CAP_FIN, CAP_S2C, ts += 1000);
	cap_transcript_add_event(t, CAP_FIN, CAP_C2S, ts += 1000);
	free(body);
}

/* Common checks of a file holding smtp_dialog(): handshake, data, teardown. */
static void
assert_dialog(const char *path, const cap_transcript *t)
{
	decoded *d = malloc(sizeof(*d));
	size_t segs[2], ndata = data_frames(t, segs), i, k, fi;

	ck_assert_ptr_nonnull(d);
	decode(path, d);
	ck_assert_uint_eq(d->n, 3 + ndata + 4);
	assert_streams(d, t);
	ck_assert_uint_eq(d->psh[0], segs[0]);
	ck_assert_uint_eq(d->psh[1], segs[1]);

	assert_flags(d, 0, 0, F_SYN);
	assert_flags(d, 1, 1, F_SYN | F_ACK);
	assert_flags(d, 2, 0, F_ACK);
	ck_assert_uint_eq(d->f[0].ts_us, T0);
	assert_flags(d, d->n - 4, 1, F_FIN | F_ACK);
	assert_flags(d, d->n - 3, 0, F_ACK);
	assert_flags(d, d->n - 2, 0, F_FIN | F_ACK);
	assert_flags(d, d->n - 1, 1, F_ACK);
	ck_assert_uint_eq(d->f[d->n - 1].ts_us, t->segs[t->nsegs - 1].ts_us);

	/* each data segment becomes consecutive frames at its own time,
	 * full-sized but the last, PSH on the last only */
	fi = 3;
	for (i = 0; i < t->nsegs; i++) {
		const cap_segment *s = &t->segs[i];
		size_t nf = (s->len + CAP_PCAP_MSS - 1) / CAP_PCAP_MSS;

		if (s->kind != CAP_DATA)
			continue;
		for (k = 0; k < nf; k++, fi++) {
			ck_assert_int_eq(d->f[fi].from, (int)s->dir);
			ck_assert_uint_eq(d->f[fi].ts_us, s->ts_us);
			ck_assert_uint_eq(d->f[fi].plen,
			    k + 1 < nf ? CAP_PCAP_MSS : s->len - k * CAP_PCAP_MSS);
			ck_assert_int_eq(d->f[fi].flags, k + 1 < nf ? F_ACK : (F_PSH | F_ACK));
		}
	}
	ck_assert_uint_eq(fi, d->n - 4);
	if (!d->v6)
		for (i = 1; i < d->n; i++)
			ck_assert_uint_eq(d->f[i].ip_id, (uint16_t)(d->f[i - 1].ip_id + 1));
	decoded_free(d);
	free(d);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Runs tshark's "follow TCP stream" on the file and checks that each node's
 * bytes are exactly one direction of the transcript. tshark must be there:
 * the point is that a real dissector agrees with us.
 */
static void
assert_tshark_follow(const char *path, const cap_transcript *t, const char *node0_suffix,
    const char *node1_suffix)
{
	char cmd[1024], line[8192];
	FILE *fp;
	vbuf got[2] = { VBUF_INIT, VBUF_INIT };
	int in_body = 0, status, nodes = 0;

	ck_assert_msg(access(TSHARK, X_OK) == 0, TSHARK " is required by this test and is missing");
	snprintf(cmd, sizeof(cmd), TSHARK " -r '%s' -q -z follow,tcp,raw,0 2>/dev/null", path);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t n = strcspn(line, "\r\n");
		const char *p = line;
		int node = 0;

		line[n] = '\0';
		if (strncmp(line, "Node ", 5) == 0) {
			const char *want = line[5] == '0' ? node0_suffix : node1_suffix;

			ck_assert_uint_ge(n, strlen(want));
			ck_assert_msg(strcmp(line + n - strlen(want), want) == 0,
			    "tshark node line \"%s\" does not end in \"%s\"", line, want);
			if (++nodes == 2)
				in_body = 1;
			continue;
		}
		if (!in_body)
			continue;
		if (line[0] == '=')
			break;
		if (*p == '\t') {
			node = 1;
			p++;
		}
		for (; p[0] != '\0'; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);

			ck_assert_msg(hi >= 0 && lo >= 0, "tshark printed non-hex: %s", line);
			vbuf_append_byte(&got[node], (char)(hi << 4 | lo));
		}
	}
	status = pclose(fp);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tshark failed: %d", status);
	ck_assert_int_eq(nodes, 2);
	ck_assert_uint_eq(got[0].len, t->stream[CAP_C2S].len);
	ck_assert_uint_eq(got[1].len, t->stream[CAP_S2C].len);
	ck_assert_int_eq(memcmp(got[0].data, t->stream[CAP_C2S].data, got[0].len), 0);
	ck_assert_int_eq(memcmp(got[1].data, t->stream[CAP_S2C].data, got[1].len), 0);
	vbuf_free(&got[0]);
	vbuf_free(&got[1]);
}

static cap_transcript *
v4_transcript(void)
{
	struct sockaddr_in c, s;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sin_family = s.sin_family = AF_INET;
	c.sin_port = htons(40123);
	s.sin_port = htons(2525);
	inet_pton(AF_INET, "192.0.2.10", &c.sin_addr);
	inet_pton(AF_INET, "192.0.2.25", &s.sin_addr);
	return cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
}

static cap_transcript *
v6_transcript(void)
{
	struct sockaddr_in6 c, s;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sin6_family = s.sin6_family = AF_INET6;
	c.sin6_port = htons(50000);
	s.sin6_port = htons(587);
	inet_pton(AF_INET6, "2001:db8::10", &c.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::25", &s.sin6_addr);
	return cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
}

START_TEST(test_pcap_write_ipv4_dialog)
{
	cap_transcript *t = v4_transcript();
	char err[256] = "";
	const char *path = tmp_path("v4.pcap");
	decoded *d = malloc(sizeof(*d));
	static const uint8_t ca[4] = { 192, 0, 2, 10 }, sa[4] = { 192, 0, 2, 25 };

	smtp_dialog(t, 3 * CAP_PCAP_MSS + 700);
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), 0);
	assert_dialog(path, t);
	decode(path, d);
	ck_assert_int_eq(d->v6, 0);
	ck_assert_int_eq(memcmp(d->addr[0], ca, 4), 0);
	ck_assert_int_eq(memcmp(d->addr[1], sa, 4), 0);
	ck_assert_int_eq(d->port[0], 40123);
	ck_assert_int_eq(d->port[1], 2525);
	decoded_free(d);
	free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_pcap_write_ipv6_dialog)
{
	cap_transcript *t = v6_transcript();
	char err[256] = "";
	const char *path = tmp_path("v6.pcap");
	decoded *d = malloc(sizeof(*d));
	struct in6_addr ca;

	/* a body of exactly two frames: no empty third frame */
	smtp_dialog(t, 2 * CAP_PCAP_MSS);
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), 0);
	assert_dialog(path, t);
	decode(path, d);
	ck_assert_int_eq(d->v6, 1);
	inet_pton(AF_INET6, "2001:db8::10", &ca);
	ck_assert_int_eq(memcmp(d->addr[0], &ca, 16), 0);
	ck_assert_int_eq(d->port[0], 50000);
	ck_assert_int_eq(d->port[1], 587);
	decoded_free(d);
	free(d);
	cap_transcript_free(t);
}
END_TEST

START_TEST(test_pcap_write_tshark_follow)
{
	cap_transcript *t = v4_transcript();
	char err[256] = "";

	smtp_dialog(t, 4 * CAP_PCAP_MSS + 123);
	ck_assert_int_eq(cap_pcap_write(t, tmp_path("f4.pcap"), err, sizeof(err)), 0);
	assert_tshark_follow(tmp_path("f4.pcap"), t, "192.0.2.10:40123", "192.0.2.25:2525");
	cap_transcript_free(t);

	t = v6_transcript();
	smtp_dialog(t, 3 * CAP_PCAP_MSS + 1);
	ck_assert_int_eq(cap_pcap_write(t, tmp_path("f6.pcap"), err, sizeof(err)), 0);
	assert_tshark_follow(tmp_path("f6.pcap"), t, ":50000", ":587");
	cap_transcript_free(t);
}
END_TEST

/* No OPEN event, endpoints of two families, TLS start and a reset. */
START_TEST(test_pcap_write_no_open_fallback_rst)
{
	struct sockaddr_in c;
	struct sockaddr_in6 s;
	cap_transcript *t;
	char err[256] = "";
	const char *path = tmp_path("rst.pcap");
	decoded *d = malloc(sizeof(*d));
	static const uint8_t ca[4] = { 127, 0, 0, 1 }, sa[4] = { 127, 0, 0, 2 };

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sin_family = AF_INET;
	s.sin6_family = AF_INET6;
	t = cap_transcript_new((struct sockaddr *)&c, (struct sockaddr *)&s);
	add_str(t, CAP_S2C, T0 + 5, "220 hi\r\n");
	add_str(t, CAP_C2S, T0 + 6, "STARTTLS\r\n");
	add_str(t, CAP_S2C, T0 + 7, "220 go ahead\r\n");
	cap_transcript_add_event(t, CAP_TLS_START, CAP_C2S, T0 + 8);
	add_str(t, CAP_C2S, T0 + 9, "\x16\x03\x01\x00\x05hello");
	cap_transcript_add_event(t, CAP_RST, CAP_S2C, T0 + 10);
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), 0);

	decode(path, d);
	ck_assert_uint_eq(d->n, 3 + 4 + 1);
	assert_flags(d, 0, 0, F_SYN);
	ck_assert_uint_eq(d->f[0].ts_us, T0 + 5);
	assert_flags(d, 1, 1, F_SYN | F_ACK);
	assert_flags(d, 2, 0, F_ACK);
	assert_flags(d, 7, 1, F_RST | F_ACK);
	ck_assert_uint_eq(d->f[7].ts_us, T0 + 10);
	assert_streams(d, t);
	ck_assert_int_eq(d->v6, 0);
	ck_assert_int_eq(memcmp(d->addr[0], ca, 4), 0);
	ck_assert_int_eq(memcmp(d->addr[1], sa, 4), 0);
	ck_assert_int_eq(d->port[0], 40000);
	ck_assert_int_eq(d->port[1], 25);
	decoded_free(d);
	free(d);
	cap_transcript_free(t);
}
END_TEST

/* A truncated transcript is written as far as it goes; an empty one is a
 * valid file with no frames. */
START_TEST(test_pcap_write_truncated_and_empty)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	char err[256] = "";
	decoded *d = malloc(sizeof(*d));

	ck_assert_int_eq(cap_pcap_write(t, tmp_path("empty.pcap"), err, sizeof(err)), 0);
	decode(tmp_path("empty.pcap"), d);
	ck_assert_uint_eq(d->n, 0);
	decoded_free(d);

	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, T0);
	add_str(t, CAP_S2C, T0 + 1, "220 hi\r\n");
	add_str(t, CAP_C2S, T0 + 2, "EHLO x\r\n");
	t->truncated[CAP_S2C] = 1;
	ck_assert_int_eq(cap_pcap_write(t, tmp_path("trunc.pcap"), err, sizeof(err)), 0);
	decode(tmp_path("trunc.pcap"), d);
	ck_assert_uint_eq(d->n, 3 + 2);
	assert_streams(d, t);
	decoded_free(d);
	free(d);
	cap_transcript_free(t);
}
END_TEST

static size_t
dir_entries(void)
{
	DIR *dp = opendir(tmpdir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

START_TEST(test_pcap_write_errors)
{
	cap_transcript *t = v4_transcript();
	char err[512] = "";
	char path[512];

	add_str(t, CAP_S2C, T0, "220 hi\r\n");

	/* a missing directory: one line naming the path, nothing left over */
	snprintf(path, sizeof(path), "%s/missing/out.pcap", tmpdir);
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "err \"%s\" does not name the path", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_uint_eq(dir_entries(), 0);

	/* the rename fails (the path is a directory): the temporary file
	 * written first must be gone */
	snprintf(path, sizeof(path), "%s/isdir", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	err[0] = '\0';
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "err \"%s\" does not name the path", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_uint_eq(dir_entries(), 1);

	/* success leaves exactly the file */
	snprintf(path, sizeof(path), "%s/ok.pcap", tmpdir);
	ck_assert_int_eq(cap_pcap_write(t, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(dir_entries(), 2);
	ck_assert_int_eq(access(path, R_OK), 0);
	cap_transcript_free(t);
}
END_TEST

static Suite *
pcap_write_suite(void)
{
	Suite *s = suite_create("pcap_write");
	TCase *tc = tcase_create("core");
	TCase *ts = tcase_create("tshark");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pcap_write_ipv4_dialog);
	tcase_add_test(tc, test_pcap_write_ipv6_dialog);
	tcase_add_test(tc, test_pcap_write_no_open_fallback_rst);
	tcase_add_test(tc, test_pcap_write_truncated_and_empty);
	tcase_add_test(tc, test_pcap_write_errors);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 120);
	tcase_add_test(ts, test_pcap_write_tshark_follow);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pcap_write_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
