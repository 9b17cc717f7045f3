/*
 * pcap_build - hand-made capture files for the tests and the fuzz seeds.
 *
 * Unlike captures/pcap_write (a clean connection from a transcript), this
 * writes each TCP segment as told: any sequence number, in any order,
 * twice, or never, over any of the link types the reader takes, IPv4 or
 * IPv6 (optionally behind extension headers). Header-only: static
 * functions, included by one test and one seed generator.
 */
#ifndef TESTS_SUPPORT_PCAP_BUILD_H
#define TESTS_SUPPORT_PCAP_BUILD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <string.h>

#define PB_FIN	0x01
#define PB_SYN	0x02
#define PB_RST	0x04
#define PB_PSH	0x08
#define PB_ACK	0x10

typedef struct pb {
	pcap_t *p;
	pcap_dumper_t *d;
	int dlt;
	int v6;
	int ext;		/* IPv6: hop-by-hop and destination options first */
	uint8_t addr[2][16];	/* [0] client, [1] server */
	uint16_t port[2];
	uint32_t seq[2];
	uint64_t ts;		/* microseconds; each frame adds 1000 */
} pb;

static inline void
pb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pb_put32(uint8_t *p, uint32_t v)
{
	pb_put16(p, (uint16_t)(v >> 16));
	pb_put16(p + 2, (uint16_t)v);
}

/* Opens path for frames of link type dlt; 127.0.0.1:40000 -> 127.0.0.1:port
 * (or ::1 for v6). Returns 0 or -1. */
static inline int
pb_open(pb *b, const char *path, int dlt, int v6, uint16_t port)
{
	memset(b, 0, sizeof(*b));
	b->dlt = dlt;
	b->v6 = v6;
	if (v6) {
		b->addr[0][15] = 1;
		b->addr[1][15] = 1;
	} else {
		static const uint8_t lo[4] = { 127, 0, 0, 1 };

		memcpy(b->addr[0], lo, 4);
		memcpy(b->addr[1], lo, 4);
	}
	b->port[0] = 40000;
	b->port[1] = port;
	b->seq[0] = 1000;
	b->seq[1] = 5000;
	b->ts = 1700000000000000ULL;
	b->p = pcap_open_dead(dlt, 65535);
	if (b->p == NULL)
		return -1;
	b->d = pcap_dump_open(b->p, path);
	if (b->d == NULL) {
		pcap_close(b->p);
		return -1;
	}
	return 0;
}

static inline void
pb_close(pb *b)
{
	pcap_dump_close(b->d);
	pcap_close(b->p);
}

/* One frame from side `from` with an explicit sequence number; caplen
 * below the frame's length cuts it like a snap length. */
static inline void
pb_frame_cut(pb *b, int from, uint8_t flags, uint32_t seq, const void *data, size_t len,
    size_t cut)
{
	uint8_t f[70000];
	size_t link = 0, ip, iplen, ext = (b->v6 && b->ext) ? 16 : 0, tcplen = 20 + len, n;
	struct pcap_pkthdr h;
	int to = !from;
	uint8_t *t;
	uint16_t proto = b->v6 ? 0x86dd : 0x0800;

	memset(f, 0, 80);
	switch (b->dlt) {
	case DLT_EN10MB:
		f[5] = (uint8_t)(to + 1);
		f[11] = (uint8_t)(from + 1);
		pb_put16(f + 12, proto);
		link = 14;
		break;
	case DLT_LINUX_SLL:
		pb_put16(f, from == 0 ? 4 : 0);	/* outgoing / to us */
		pb_put16(f + 2, 772);		/* ARPHRD_LOOPBACK */
		pb_put16(f + 4, 6);
		pb_put16(f + 14, proto);
		link = 16;
		break;
	case DLT_LINUX_SLL2:
		pb_put16(f, proto);
		pb_put32(f + 4, 1);		/* ifindex */
		pb_put16(f + 8, 772);
		f[10] = from == 0 ? 4 : 0;
		f[11] = 6;
		link = 20;
		break;
	case DLT_NULL: {
		uint32_t af = b->v6 ? 24 : 2;	/* host order */

		memcpy(f, &af, 4);
		link = 4;
		break;
	}
	case DLT_LOOP:
		pb_put32(f, b->v6 ? 24 : 2);
		link = 4;
		break;
	default:			/* raw IP */
		link = 0;
		break;
	}
	ip = link;
	if (b->v6) {
		iplen = 40 + ext;
		pb_put32(f + ip, 0x60000000u);
		pb_put16(f + ip + 4, (uint16_t)(ext + tcplen));
		f[ip + 6] = ext ? 0 : IPPROTO_TCP;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, b->addr[from], 16);
		memcpy(f + ip + 24, b->addr[to], 16);
		if (ext) {
			/* hop-by-hop (8 bytes of PadN), then destination options */
			f[ip + 40] = 60;
			f[ip + 41] = 0;
			f[ip + 42] = 1;
			f[ip + 43] = 4;
			f[ip + 48] = IPPROTO_TCP;
			f[ip + 49] = 0;
			f[ip + 50] = 1;
			f[ip + 51] = 4;
		}
	} else {
		iplen = 20;
		f[ip] = 0x45;
		pb_put16(f + ip + 2, (uint16_t)(20 + tcplen));
		pb_put16(f + ip + 6, 0x4000);
		f[ip + 8] = 64;
		f[ip + 9] = IPPROTO_TCP;
		memcpy(f + ip + 12, b->addr[from], 4);
		memcpy(f + ip + 16, b->addr[to], 4);
	}
	t = f + ip + iplen;
	memset(t, 0, 20);
	pb_put16(t, b->port[from]);
	pb_put16(t + 2, b->port[to]);
	pb_put32(t + 4, seq);
	pb_put32(t + 8, (flags & PB_ACK) ? b->seq[to] : 0);
	t[12] = 5 << 4;
	t[13] = flags;
	pb_put16(t + 14, 65535);
	if (len)
		memcpy(t + 20, data, len);
	n = link + iplen + tcplen;
	memset(&h, 0, sizeof(h));
	b->ts += 1000;
	h.ts.tv_sec = (time_t)(b->ts / 1000000u);
	h.ts.tv_usec = (suseconds_t)(b->ts % 1000000u);
	h.len = (bpf_u_int32)n;
	h.caplen = (bpf_u_int32)(cut && cut < n ? cut : n);
	pcap_dump((u_char *)b->d, &h, f);
}

static inline void
pb_frame(pb *b, int from, uint8_t flags, uint32_t seq, const void *data, size_t len)
{
	pb_frame_cut(b, from, flags, seq, data, len, 0);
}

static inline void
pb_handshake(pb *b)
{
	pb_frame(b, 0, PB_SYN, b->seq[0]++, NULL, 0);
	pb_frame(b, 1, PB_SYN | PB_ACK, b->seq[1]++, NULL, 0);
	pb_frame(b, 0, PB_ACK, b->seq[0], NULL, 0);
}

/* The next bytes from `from`, in order. */
static inline void
pb_send(pb *b, int from, const char *s)
{
	size_t n = strlen(s);

	pb_frame(b, from, PB_ACK | PB_PSH, b->seq[from], s, n);
	b->seq[from] += (uint32_t)n;
}

/* Bytes that were sent but never captured. */
static inline void
pb_lose(pb *b, int from, const char *s)
{
	b->seq[from] += (uint32_t)strlen(s);
}

static inline void
pb_fin(pb *b, int from)
{
	pb_frame(b, from, PB_FIN | PB_ACK, b->seq[from]++, NULL, 0);
}

static inline void
pb_rst(pb *b, int from)
{
	pb_frame(b, from, PB_RST | PB_ACK, b->seq[from], NULL, 0);
}

#endif
