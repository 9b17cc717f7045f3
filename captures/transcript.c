/*
 * transcript - the record of one SMTP session (see transcript.h).
 *
 * Segments live in one array grown with xgrow(); the bytes of each
 * direction live in that direction's vbuf. Beside them each direction keeps
 * the indices of its own data segments in order: their stream offsets are
 * increasing and contiguous, so mapping a stream offset back to a segment
 * is a binary search over that index.
 */
#include "captures/transcript.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

static void
transcript_copy_addr(struct sockaddr_storage *dst, const struct sockaddr *src)
{
	memset(dst, 0, sizeof(*dst));
	switch (src->sa_family) {
	case AF_INET:
		memcpy(dst, src, sizeof(struct sockaddr_in));
		break;
	case AF_INET6:
		memcpy(dst, src, sizeof(struct sockaddr_in6));
		break;
	default:
		/* The length of an unknown family is unknown: keep only the
		 * family, which is all cap_addr_str() looks at. */
		dst->ss_family = src->sa_family;
		break;
	}
}

cap_transcript *
cap_transcript_new(const struct sockaddr *client, const struct sockaddr *server)
{
	cap_transcript *t = xcalloc(1, sizeof(*t));

	cap_transcript_set_endpoints(t, client, server);
	return t;
}

void
cap_transcript_free(cap_transcript *t)
{
	int d;

	if (t == NULL)
		return;
	for (d = 0; d < 2; d++) {
		vbuf_free(&t->stream[d]);
		xfree(t->dsegs[d]);
	}
	xfree(t->segs);
	xfree(t->tls_note);
	xfree(t);
}

void
cap_transcript_set_tls_note(cap_transcript *t, const char *note)
{
	xfree(t->tls_note);
	t->tls_note = note ? xstrdup(note) : NULL;
}

void
cap_transcript_set_endpoints(cap_transcript *t, const struct sockaddr *client,
    const struct sockaddr *server)
{
	if (client != NULL)
		transcript_copy_addr(&t->client, client);
	if (server != NULL)
		transcript_copy_addr(&t->server, server);
}

/* Appends a segment; the caller has checked the segment limit. */
static size_t
transcript_push(cap_transcript *t, cap_kind kind, cap_dir dir, uint64_t ts_us,
    size_t off, size_t len)
{
	cap_segment *s;

	t->segs = xgrow(t->segs, &t->segs_cap, t->nsegs + 1, sizeof(*t->segs));
	s = &t->segs[t->nsegs];
	s->kind = kind;
	s->dir = dir;
	s->ts_us = ts_us;
	s->off = off;
	s->len = len;
	return t->nsegs++;
}

long
cap_transcript_add_data(cap_transcript *t, cap_dir dir, uint64_t ts_us,
    const void *buf, size_t len)
{
	vbuf *st;
	size_t idx;

	if (len == 0 || (dir != CAP_C2S && dir != CAP_S2C))
		return -1;
	st = &t->stream[dir];
	/*
	 * Once a direction has lost bytes it takes no more: later bytes
	 * appended after a gap would read as if they followed on directly,
	 * and a check would judge a stream that never crossed the wire.
	 */
	if (t->truncated[dir] || t->nsegs >= HARNESS_SEGMENTS_MAX ||
	    len > HARNESS_STREAM_MAX || st->len > HARNESS_STREAM_MAX - len) {
		t->truncated[dir] = 1;
		return -1;
	}
	idx = transcript_push(t, CAP_DATA, dir, ts_us, st->len, len);
	vbuf_append(st, buf, len);
	t->dsegs[dir] = xgrow(t->dsegs[dir], &t->dsegs_cap[dir], t->ndsegs[dir] + 1,
	    sizeof(*t->dsegs[dir]));
	t->dsegs[dir][t->ndsegs[dir]++] = idx;
	return (long)idx;
}

long
cap_transcript_add_event(cap_transcript *t, cap_kind kind, cap_dir dir, uint64_t ts_us)
{
	if (kind == CAP_DATA || kind == CAP_GAP || kind > CAP_GAP ||
	    (dir != CAP_C2S && dir != CAP_S2C))
		return -1;
	if (t->nsegs >= HARNESS_SEGMENTS_MAX) {
		/* A lost FIN or RST matters as much as lost bytes. */
		t->truncated[dir] = 1;
		return -1;
	}
	/* An event sits at the current end of its direction's stream. */
	return (long)transcript_push(t, kind, dir, ts_us, t->stream[dir].len, 0);
}

long
cap_transcript_add_gap(cap_transcript *t, cap_dir dir, uint64_t ts_us, size_t missing)
{
	if (missing == 0 || (dir != CAP_C2S && dir != CAP_S2C))
		return -1;
	if (t->nsegs >= HARNESS_SEGMENTS_MAX) {
		t->truncated[dir] = 1;
		return -1;
	}
	return (long)transcript_push(t, CAP_GAP, dir, ts_us, t->stream[dir].len, missing);
}

const char *
cap_transcript_bytes(const cap_transcript *t, size_t seg)
{
	const cap_segment *s;

	if (seg >= t->nsegs)
		return NULL;
	s = &t->segs[seg];
	if (s->kind != CAP_DATA || t->stream[s->dir].data == NULL)
		return "";
	return t->stream[s->dir].data + s->off;
}

int
cap_transcript_locate(const cap_transcript *t, cap_dir dir, size_t stream_off,
    size_t *seg, size_t *seg_off)
{
	const size_t *ix;
	size_t n, lo, hi;
	const cap_segment *s;

	if ((dir != CAP_C2S && dir != CAP_S2C) || t->ndsegs[dir] == 0 ||
	    stream_off > t->stream[dir].len)
		return -1;
	ix = t->dsegs[dir];
	n = t->ndsegs[dir];
	if (stream_off == t->stream[dir].len) {
		s = &t->segs[ix[n - 1]];
		*seg = ix[n - 1];
		*seg_off = s->len;
		return 0;
	}
	/* The last data segment whose offset is <= stream_off holds it. */
	lo = 0;
	hi = n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->segs[ix[mid]].off <= stream_off)
			lo = mid;
		else
			hi = mid;
	}
	s = &t->segs[ix[lo]];
	*seg = ix[lo];
	*seg_off = stream_off - s->off;
	return 0;
}

long
cap_transcript_find(const cap_transcript *t, size_t from, cap_kind kind, cap_dir dir,
    int dir_any)
{
	size_t i;

	for (i = from; i < t->nsegs; i++) {
		const cap_segment *s = &t->segs[i];

		if (s->kind == kind && (dir_any || s->dir == dir))
			return (long)i;
	}
	return -1;
}

/* The transcript up to (not including) segment `end`: same segment
 * indices and stream offsets, so findings on it point into the whole. */
cap_transcript *
cap_transcript_prefix(const cap_transcript *t, size_t end)
{
	cap_transcript *p = cap_transcript_new((const struct sockaddr *)&t->client,
	    (const struct sockaddr *)&t->server);

	for (size_t i = 0; i < end; i++) {
		const cap_segment *s = &t->segs[i];

		if (s->kind == CAP_DATA)
			cap_transcript_add_data(p, s->dir, s->ts_us, t->stream[s->dir].data + s->off,
			    s->len);
		else
			cap_transcript_add_event(p, s->kind, s->dir, s->ts_us);
	}
	p->truncated[0] = t->truncated[0];
	p->truncated[1] = t->truncated[1];
	return p;
}

/*
 * Where judging must stop: lost bytes may have been sent at any moment
 * after the last byte before them in their direction, and the reader
 * only learns of the hole when something after it arrives, so the gap
 * marker can sit well after the moment. Judging stops right after the
 * last data segment that precedes a hole in its direction (or after the
 * opening, when nothing does), the earliest such point over all gaps.
 * Returns -1 when t has no gap; *first is the earliest gap segment.
 */
long
cap_transcript_gap_cut(const cap_transcript *t, long *first)
{
	long cut = -1;
	size_t after_open = 0, after_data[2] = { 0, 0 };
	int seen_data[2] = { 0, 0 };

	*first = -1;
	while (after_open < t->nsegs && t->segs[after_open].kind == CAP_OPEN)
		after_open++;
	/* One pass: a direction's bytes and gaps come in stream order, so
	 * the data segment before a gap is that direction's latest. */
	for (size_t i = 0; i < t->nsegs; i++) {
		const cap_segment *g = &t->segs[i];
		size_t c;

		if (g->kind == CAP_DATA) {
			after_data[g->dir] = i + 1;
			seen_data[g->dir] = 1;
			continue;
		}
		if (g->kind != CAP_GAP)
			continue;
		c = seen_data[g->dir] ? after_data[g->dir] : after_open;
		if (c > i)
			c = i;
		if (cut < 0 || (long)c < cut) {
			cut = (long)c;
			*first = (long)i;
		}
	}
	return cut;
}

uint64_t
cap_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *
cap_dir_str(cap_dir dir)
{
	switch (dir) {
	case CAP_C2S:
		return "C2S";
	case CAP_S2C:
		return "S2C";
	}
	return "?";
}

const char *
cap_kind_str(cap_kind kind)
{
	switch (kind) {
	case CAP_DATA:
		return "data";
	case CAP_OPEN:
		return "open";
	case CAP_FIN:
		return "fin";
	case CAP_RST:
		return "rst";
	case CAP_TLS_START:
		return "tls-start";
	case CAP_GAP:
		return "gap";
	}
	return "?";
}

const char *
cap_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (buf == NULL || len == 0)
		return "";
	if (ss != NULL && ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL) {
			snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
			return buf;
		}
	} else if (ss != NULL && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		if (inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL) {
			snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
			return buf;
		}
	}
	snprintf(buf, len, "?");
	return buf;
}
