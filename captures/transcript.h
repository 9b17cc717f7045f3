/*
 * transcript - the record of one SMTP session: everything else is built on it.
 *
 * A transcript holds the two endpoints and an ordered list of segments.
 * A data segment is a run of bytes that crossed the connection in one
 * direction at one moment (one read or one write); an event segment marks
 * the connection being opened, a FIN or RST from one side, or the start of
 * TLS (see tls_plaintext for what follows it). The bytes of each direction are kept contiguous in a stream buffer,
 * so a segment is (direction, offset into that stream, length) and checks
 * can parse a whole direction at once and still point at "segment 12,
 * byte 40" as evidence.
 *
 * Live runs, replays and pcap imports all produce transcripts; checks are
 * pure functions of a transcript. The transcript owns all its memory.
 * Limits: HARNESS_STREAM_MAX bytes per direction and HARNESS_SEGMENTS_MAX
 * segments; past them data is dropped and `truncated` is set, which the
 * checks report as a finding rather than judging what they cannot see.
 * A transcript read from a capture may hold CAP_GAP markers where packets
 * were lost: the bytes are never guessed, and the dialog stops at the
 * first gap rather than read across it.
 */
#ifndef CAPTURES_TRANSCRIPT_H
#define CAPTURES_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "harness/util/vbuf.h"

typedef enum cap_dir {
	CAP_C2S = 0,		/* client to server */
	CAP_S2C = 1		/* server to client */
} cap_dir;

typedef enum cap_kind {
	CAP_DATA = 0,		/* bytes */
	CAP_OPEN,		/* TCP connection established (no direction) */
	CAP_FIN,		/* `dir` side closed its sending half */
	CAP_RST,		/* `dir` side reset the connection */
	CAP_TLS_START,		/* TLS handshake begins after this point */
	CAP_GAP			/* `len` bytes of `dir` are missing here (a capture
				 * lost them); the stream goes on after the hole */
} cap_kind;

typedef struct cap_segment {
	cap_kind kind;
	cap_dir dir;
	uint64_t ts_us;		/* wall clock, microseconds since the epoch */
	size_t off;		/* CAP_DATA: offset in the stream of `dir` */
	size_t len;		/* CAP_DATA: byte count; CAP_GAP: bytes missing;
				 * 0 for other events */
} cap_segment;

typedef struct cap_transcript {
	struct sockaddr_storage client;	/* ss_family 0 when unknown */
	struct sockaddr_storage server;
	cap_segment *segs;
	size_t nsegs;
	size_t segs_cap;
	vbuf stream[2];			/* indexed by cap_dir */
	int truncated[2];		/* a limit dropped bytes in that direction */
	/* After CAP_TLS_START the data segments hold either the records as
	 * they crossed the wire (pcap imports: 0) or the plaintext TLS
	 * carried, decrypted by the harness (live runs: 1). tls_note says
	 * what the handshake settled or why it failed; NULL when unknown. */
	int tls_plaintext;
	char *tls_note;
	/* Private to transcript.c: the indices of each direction's data
	 * segments in order, so cap_transcript_locate() can bisect. */
	size_t *dsegs[2];
	size_t ndsegs[2];
	size_t dsegs_cap[2];
} cap_transcript;

/* Allocates an empty transcript; endpoints may be NULL (set later). */
cap_transcript *cap_transcript_new(const struct sockaddr *client, const struct sockaddr *server);
void cap_transcript_free(cap_transcript *t);
/* Sets the endpoints; a NULL one is left as it was. */
void cap_transcript_set_endpoints(cap_transcript *t, const struct sockaddr *client,
    const struct sockaddr *server);

/* Sets (replaces) tls_note, a copy of note. */
void cap_transcript_set_tls_note(cap_transcript *t, const char *note);

/* Appends bytes; returns the segment index, or -1 when a limit dropped
 * them (t->truncated[dir] is then set). len 0 adds nothing and returns -1. */
long cap_transcript_add_data(cap_transcript *t, cap_dir dir, uint64_t ts_us,
    const void *buf, size_t len);
/* Appends an event; returns the segment index, or -1 past the limit. */
long cap_transcript_add_event(cap_transcript *t, cap_kind kind, cap_dir dir, uint64_t ts_us);

/* Appends a gap of `missing` bytes in dir (missing > 0); returns the
 * segment index, or -1 past the limit or for a gap of 0. */
long cap_transcript_add_gap(cap_transcript *t, cap_dir dir, uint64_t ts_us, size_t missing);

/* The bytes of a data segment (not NUL-terminated; valid until the next
 * add); "" for an event, NULL for an index out of range. */
const char *cap_transcript_bytes(const cap_transcript *t, size_t seg);

/* Maps a byte offset in a direction's stream to the data segment that
 * holds it and the offset inside that segment. An offset equal to the
 * stream length maps to the end of the last segment of that direction.
 * Returns 0, or -1 when the direction has no data. */
int cap_transcript_locate(const cap_transcript *t, cap_dir dir, size_t stream_off,
    size_t *seg, size_t *seg_off);

/* The index of the first segment at or after `from` whose kind is `kind`
 * (and, unless dir_any, direction `dir`); -1 when there is none. */
long cap_transcript_find(const cap_transcript *t, size_t from, cap_kind kind, cap_dir dir,
    int dir_any);

/* A new transcript of t's segments before `end` (a prefix: the same
 * segment indices and stream offsets, so what points into it points into
 * t); the caller frees it. tls_plaintext and tls_note are not copied. */
cap_transcript *cap_transcript_prefix(const cap_transcript *t, size_t end);
/* Where a reading of t must stop because a capture lost bytes: right
 * after the last data segment that precedes a hole in its direction (or
 * after the opening), the earliest such point over all gaps; the bytes
 * may have been sent at any moment after it, and the gap marker comes
 * only when something after the hole arrived. -1 when t has no gap;
 * *first is then -1, else the index of the earliest gap segment. */
long cap_transcript_gap_cut(const cap_transcript *t, long *first);

/* Current wall clock in microseconds, for callers that record. */
uint64_t cap_now_us(void);

const char *cap_dir_str(cap_dir dir);	/* "C2S" / "S2C" */
const char *cap_kind_str(cap_kind kind);	/* "data", "open", "fin", "rst", "tls-start", "gap" */

/* Formats an address as "127.0.0.1:2525" or "[::1]:2525" into buf. */
const char *cap_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
