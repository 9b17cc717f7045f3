/*
 * pcap_read - SMTP sessions out of a capture, as transcripts.
 *
 * Reads pcap and pcapng (anything libpcap's offline reader takes) with
 * link types Ethernet (VLAN tags skipped), Linux cooked (SLL and SLL2),
 * raw IP and BSD loopback/null; IPv4 and IPv6 (extension headers walked,
 * fragments skipped, which shows as lost bytes). TCP is reassembled per
 * connection and direction: out-of-order segments are held until the hole
 * before them fills, a retransmission or overlap keeps the first copy (a
 * copy that differs is noted), SYN/FIN/RST become the transcript's
 * open/fin/rst events. Bytes that never arrive are a CAP_GAP marker with
 * their count, never guessed or zero-filled.
 *
 * A connection is an SMTP session by its content, on any port: the
 * server's first bytes are a 220 greeting (and the client's, if it spoke,
 * an SMTP verb), or the client's first bytes are EHLO or HELO. After a 220
 * reply to STARTTLS the rest is TLS: a CAP_TLS_START event, and the
 * ciphertext is counted, not kept. A connection whose SYN was not
 * captured is followed only if its first payload is such a greeting or
 * EHLO/HELO.
 *
 * It streams with bounded memory: HARNESS_PCAP_* of harness_limits.h cap
 * the connections followed at once, the out-of-order bytes held per
 * direction, the bytes kept of a session and of all open sessions; past a
 * cap the session gets a note (and bytes are declared missing or the
 * transcript is marked truncated), the capture a count in the stats.
 *
 * The reassembly core (cap_reasm_*) takes link-layer frames and never
 * touches a file, so it is tested and fuzzed on bytes alone.
 */
#ifndef CAPTURES_PCAP_READ_H
#define CAPTURES_PCAP_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "captures/transcript.h"

/* One SMTP session, handed to the caller when it ends (both FINs, a RST,
 * or the end of the capture). */
typedef struct cap_pcap_session {
	cap_transcript *t;	/* the callback may take it (and set it NULL) */
	size_t index;		/* 1-based, in the order sessions were recognised */
	char **notes;		/* what the reader saw and could not hide: lost
				 * bytes, differing retransmissions, limits */
	size_t nnotes;
	size_t gaps;		/* CAP_GAP markers in t */
	uint64_t gap_bytes;	/* bytes they stand for */
	int tls;		/* STARTTLS succeeded; the rest was not kept */
} cap_pcap_session;

/* Called once per session; the reader frees what the callback leaves. */
typedef void (*cap_pcap_session_cb)(void *arg, cap_pcap_session *s);

typedef struct cap_pcap_stats {
	uint64_t packets;	/* records read */
	uint64_t tcp;		/* TCP segments decoded */
	uint64_t skipped;	/* not IP/TCP, fragments, malformed */
	uint64_t untracked;	/* connections not followed: HARNESS_PCAP_CONNS_MAX */
	uint64_t sessions;	/* SMTP sessions handed out */
} cap_pcap_stats;

typedef struct cap_reasm cap_reasm;

/* A reassembler for frames of libpcap link type `dlt` (a DLT_* value);
 * NULL when the link type is not one of those above. */
cap_reasm *cap_reasm_new(int dlt, cap_pcap_session_cb cb, void *arg);
/* Feeds one frame: caplen bytes captured of a frame of wire length len. */
void cap_reasm_frame(cap_reasm *r, uint64_t ts_us, const uint8_t *p, size_t caplen, size_t len);
/* Ends every session still open (the capture is over) and hands it out. */
void cap_reasm_finish(cap_reasm *r);
const cap_pcap_stats *cap_reasm_stats(const cap_reasm *r);
void cap_reasm_free(cap_reasm *r);

/* Reads a capture from path ("-" is not special) or from an open stream
 * (named `name` in messages; fp is closed in every case), handing out each SMTP
 * session. Returns 0, or -1 with one line in err naming the file and what
 * was wrong (not a capture, link type not supported, a record cut short
 * at byte offset N). Sessions handed out before an error stand. */
int cap_pcap_read_file(const char *path, cap_pcap_session_cb cb, void *arg,
    cap_pcap_stats *stats, char *err, size_t errlen);
int cap_pcap_read_stream(FILE *fp, const char *name, cap_pcap_session_cb cb, void *arg,
    cap_pcap_stats *stats, char *err, size_t errlen);

/* "Ethernet", "Linux cooked (SLL2)", ... or NULL when not supported. */
const char *cap_pcap_linktype_str(int dlt);

#endif
