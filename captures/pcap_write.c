/*
 * pcap_write - a transcript as synthesized Ethernet/IP/TCP frames
 * (see pcap_write.h).
 *
 * One TCP connection is replayed from the segment list: a three-way
 * handshake at CAP_OPEN (or before the first frame when the transcript has
 * no OPEN), every data segment cut into frames of at most CAP_PCAP_MSS
 * bytes with PSH on the last one, a FIN from either side answered by a pure
 * ACK from the other, and RST|ACK for a reset. Each frame acknowledges
 * everything the peer has sent so far, so Wireshark's analysis sees a
 * clean, loss-free connection and "Follow TCP stream" gives back exactly
 * the transcript's bytes.
 */
#include "captures/pcap_write.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/util/xalloc.h"

#define PW_ETH_LEN	14
#define PW_IP4_LEN	20
#define PW_IP6_LEN	40
#define PW_TCP_LEN	20
#define PW_MSS_OPT_LEN	4
#define PW_FRAME_MAX	(PW_ETH_LEN + PW_IP6_LEN + PW_TCP_LEN + PW_MSS_OPT_LEN + CAP_PCAP_MSS)
#define PW_SNAPLEN	65535

/* Fixed initial sequence numbers keep the files reproducible. */
#define PW_ISN_CLIENT	1000u
#define PW_ISN_SERVER	5000u
#define PW_WINDOW	65535u
#define PW_TTL		64

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PSH	0x08
#define TH_ACK	0x10

/* Locally administered unicast addresses, one per side. */
static const uint8_t pw_mac[2][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },	/* client */
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },	/* server */
};

typedef struct pw_state {
	pcap_dumper_t *dumper;
	int v6;
	uint8_t addr[2][16];	/* network order; 4 bytes used for IPv4 */
	uint16_t port[2];	/* host order */
	uint32_t next_seq[2];	/* next sequence number each side sends */
	uint16_t ip_id;
	int opened;
	int fin[2];
	int reset;
	uint64_t ts_us;
} pw_state;

static void
pw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
pw_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Adds bytes to a running one's-complement sum (RFC 1071). */
static uint32_t
pw_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
pw_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Takes the endpoints from the transcript when both are of one IP family,
 * else the documented loopback stand-ins. */
static void
pw_endpoints(pw_state *st, const cap_transcript *t)
{
	const struct sockaddr_storage *ss[2] = { &t->client, &t->server };
	int i;

	if (t->client.ss_family == AF_INET && t->server.ss_family == AF_INET) {
		for (i = 0; i < 2; i++) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ss[i];

			memcpy(st->addr[i], &sin->sin_addr, 4);
			st->port[i] = ntohs(sin->sin_port);
		}
	} else if (t->client.ss_family == AF_INET6 && t->server.ss_family == AF_INET6) {
		st->v6 = 1;
		for (i = 0; i < 2; i++) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss[i];

			memcpy(st->addr[i], &sin6->sin6_addr, 16);
			st->port[i] = ntohs(sin6->sin6_port);
		}
	} else {
		static const uint8_t c[4] = { 127, 0, 0, 1 }, s[4] = { 127, 0, 0, 2 };

		memcpy(st->addr[0], c, 4);
		memcpy(st->addr[1], s, 4);
		st->port[0] = 40000;
		st->port[1] = 25;
	}
}

/* Builds and dumps one frame sent by side `from` (a cap_dir). */
static void
pw_frame(pw_state *st, int from, uint8_t flags, const void *payload, size_t plen)
{
	uint8_t f[PW_FRAME_MAX];
	struct pcap_pkthdr h;
	int to = !from;
	size_t iplen = st->v6 ? PW_IP6_LEN : PW_IP4_LEN;
	size_t optlen = (flags & TH_SYN) ? PW_MSS_OPT_LEN : 0;
	size_t tcplen = PW_TCP_LEN + optlen + plen;
	uint8_t *ip = f + PW_ETH_LEN;
	uint8_t *tcp = ip + iplen;
	uint8_t pseudo[40];
	uint32_t sum;
	size_t alen = st->v6 ? 16 : 4;

	/* Ethernet */
	memcpy(f, pw_mac[to], 6);
	memcpy(f + 6, pw_mac[from], 6);
	pw_put16(f + 12, st->v6 ? 0x86dd : 0x0800);

	/* IP */
	if (st->v6) {
		pw_put32(ip, 0x60000000u);
		pw_put16(ip + 4, (uint16_t)tcplen);
		ip[6] = IPPROTO_TCP;
		ip[7] = PW_TTL;
		memcpy(ip + 8, st->addr[from], 16);
		memcpy(ip + 24, st->addr[to], 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		pw_put16(ip + 2, (uint16_t)(iplen + tcplen));
		pw_put16(ip + 4, st->ip_id++);
		pw_put16(ip + 6, 0x4000);	/* DF */
		ip[8] = PW_TTL;
		ip[9] = IPPROTO_TCP;
		pw_put16(ip + 10, 0);
		memcpy(ip + 12, st->addr[from], 4);
		memcpy(ip + 16, st->addr[to], 4);
		pw_put16(ip + 10, pw_fold(pw_sum(0, ip, PW_IP4_LEN)));
	}

	/* TCP; the ACK field acknowledges all the peer has sent once the
	 * peer's SYN exists, which is every frame but the first SYN. */
	pw_put16(tcp, st->port[from]);
	pw_put16(tcp + 2, st->port[to]);
	pw_put32(tcp + 4, st->next_seq[from]);
	pw_put32(tcp + 8, (flags & TH_ACK) ? st->next_seq[to] : 0);
	tcp[12] = (uint8_t)(((PW_TCP_LEN + optlen) / 4) << 4);
	tcp[13] = flags;
	pw_put16(tcp + 14, PW_WINDOW);
	pw_put16(tcp + 16, 0);
	pw_put16(tcp + 18, 0);
	if (optlen) {
		tcp[20] = 2;	/* MSS */
		tcp[21] = 4;
		pw_put16(tcp + 22, CAP_PCAP_MSS);
	}
	if (plen)
		memcpy(tcp + PW_TCP_LEN + optlen, payload, plen);

	/* Pseudo-header: addresses, then protocol and TCP length
	 * (RFC 793 for IPv4, RFC 8200 §8.1 for IPv6). */
	memcpy(pseudo, st->addr[from], alen);
	memcpy(pseudo + alen, st->addr[to], alen);
	if (st->v6) {
		pw_put32(pseudo + 32, (uint32_t)tcplen);
		pw_put32(pseudo + 36, IPPROTO_TCP);
	} else {
		pw_put16(pseudo + 8, IPPROTO_TCP);
		pw_put16(pseudo + 10, (uint16_t)tcplen);
	}
	sum = pw_sum(0, pseudo, st->v6 ? 40 : 12);
	sum = pw_sum(sum, tcp, tcplen);
	pw_put16(tcp + 16, pw_fold(sum));

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(st->ts_us / 1000000u);
	h.ts.tv_usec = (suseconds_t)(st->ts_us % 1000000u);
	h.caplen = h.len = (bpf_u_int32)(PW_ETH_LEN + iplen + tcplen);
	pcap_dump((u_char *)st->dumper, &h, f);

	st->next_seq[from] += (uint32_t)plen;
	if (flags & (TH_SYN | TH_FIN))
		st->next_seq[from]++;
}

static void
pw_handshake(pw_state *st)
{
	if (st->opened)
		return;
	st->opened = 1;
	st->next_seq[CAP_C2S] = PW_ISN_CLIENT;
	st->next_seq[CAP_S2C] = PW_ISN_SERVER;
	pw_frame(st, CAP_C2S, TH_SYN, NULL, 0);
	pw_frame(st, CAP_S2C, TH_SYN | TH_ACK, NULL, 0);
	pw_frame(st, CAP_C2S, TH_ACK, NULL, 0);
}

static void
pw_data(pw_state *st, int dir, const char *p, size_t len)
{
	while (len > 0) {
		size_t n = len > CAP_PCAP_MSS ? CAP_PCAP_MSS : len;

		pw_frame(st, dir, (uint8_t)(TH_ACK | (n == len ? TH_PSH : 0)), p, n);
		p += n;
		len -= n;
	}
}

static void
pw_segment(pw_state *st, const cap_transcript *t, const cap_segment *s)
{
	int dir = s->dir == CAP_S2C ? CAP_S2C : CAP_C2S;

	st->ts_us = s->ts_us;
	switch (s->kind) {
	case CAP_OPEN:
		pw_handshake(st);
		break;
	case CAP_DATA:
		/* A segment outside its stream would mean a corrupt
		 * transcript; write what is sound rather than read past it. */
		if (s->len == 0 || s->off > t->stream[dir].len ||
		    s->len > t->stream[dir].len - s->off)
			break;
		pw_handshake(st);
		pw_data(st, dir, t->stream[dir].data + s->off, s->len);
		break;
	case CAP_FIN:
		if (st->fin[dir])
			break;
		pw_handshake(st);
		st->fin[dir] = 1;
		pw_frame(st, dir, TH_FIN | TH_ACK, NULL, 0);
		if (!st->reset)
			pw_frame(st, !dir, TH_ACK, NULL, 0);
		break;
	case CAP_RST:
		pw_handshake(st);
		st->reset = 1;
		pw_frame(st, dir, TH_RST | TH_ACK, NULL, 0);
		break;
	case CAP_TLS_START:
		break;
	case CAP_GAP:
		/* The hole stays a hole: the sequence numbers jump past it,
		 * as in a capture that lost the frames. */
		pw_handshake(st);
		st->next_seq[dir] += (uint32_t)s->len;
		break;
	}
}

int
cap_pcap_write(const cap_transcript *t, const char *path, char *err, size_t errlen)
{
	pcap_t *p;
	pw_state st;
	char *tmp;
	FILE *fp;
	size_t i;
	int rc = 0, e;

	if (t == NULL || path == NULL || *path == '\0') {
		snprintf(err, errlen, "%s: no transcript or no path", path ? path : "(null)");
		return -1;
	}
	p = pcap_open_dead(DLT_EN10MB, PW_SNAPLEN);
	if (p == NULL) {
		snprintf(err, errlen, "%s: cannot start a pcap writer", path);
		return -1;
	}
	/* pcap_dump_open() takes a name, so the temporary file of
	 * atomic_file.h is made here by hand: same directory, renamed last. */
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	errno = 0;
	memset(&st, 0, sizeof(st));
	st.dumper = pcap_dump_open(p, tmp);
	if (st.dumper == NULL) {
		e = errno;
		if (e != 0)
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
		else
			snprintf(err, errlen, "%s: cannot write: %s", path, pcap_geterr(p));
		unlink(tmp);
		xfree(tmp);
		pcap_close(p);
		return -1;
	}
	pw_endpoints(&st, t);
	for (i = 0; i < t->nsegs; i++)
		pw_segment(&st, t, &t->segs[i]);

	fp = pcap_dump_file(st.dumper);
	errno = 0;
	if (pcap_dump_flush(st.dumper) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(e));
		rc = -1;
	}
	pcap_dump_close(st.dumper);
	pcap_close(p);
	if (rc == 0 && rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: rename failed: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	xfree(tmp);
	return rc;
}
