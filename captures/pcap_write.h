/*
 * pcap_write - a transcript as a pcap file Wireshark and tshark can follow.
 *
 * Frames are synthesized, so no capture privilege is needed: Ethernet,
 * IPv4 or IPv6 (from the transcript's endpoints; 127.0.0.1 and
 * 127.0.0.2 with ports 40000 and 25 when they are unknown), and TCP with a
 * three-way handshake at CAP_OPEN, real sequence and acknowledgement
 * numbers, data split into frames of at most CAP_PCAP_MSS bytes, FIN and
 * RST where the transcript has them. Timestamps are the segments'. The
 * file is written through libpcap (pcap_open_dead + pcap_dump) to a
 * temporary name and renamed, so it is never seen half-written.
 */
#ifndef CAPTURES_PCAP_WRITE_H
#define CAPTURES_PCAP_WRITE_H

#include <stddef.h>

#include "captures/transcript.h"

#define CAP_PCAP_MSS	1460

/* Writes t to path; returns 0, or -1 with one line in err. */
int cap_pcap_write(const cap_transcript *t, const char *path, char *err, size_t errlen);

#endif
