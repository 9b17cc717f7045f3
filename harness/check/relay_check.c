/*
 * relay_check - the relay checks; see relay_check.h and docs/relay.md.
 */
#include "harness/check/relay_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake-dns/dns_wire.h"
#include "harness/check/catalog.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* ---- the observation ------------------------------------------------------ */

chk_relay_msg *
chk_relay_conn_add_msg(chk_relay_conn *c, const char *mail_from, const char *ret,
    const char *const *rcpts, const char *const *notify, size_t nrcpts, const char *content,
    size_t len)
{
	chk_relay_msg *m;

	c->msgs = xrealloc(c->msgs, (c->nmsgs + 1) * sizeof(*c->msgs));
	m = &c->msgs[c->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->mail_from = xstrdup(mail_from ? mail_from : "");
	m->ret = ret ? xstrdup(ret) : NULL;
	m->rcpts = xcalloc(nrcpts + 1, sizeof(char *));
	m->notify = xcalloc(nrcpts + 1, sizeof(char *));
	m->orcpt = xcalloc(nrcpts + 1, sizeof(char *));
	for (size_t i = 0; i < nrcpts; i++) {
		m->rcpts[i] = xstrdup(rcpts[i]);
		m->notify[i] = notify && notify[i] ? xstrdup(notify[i]) : NULL;
	}
	m->nrcpts = nrcpts;
	m->content = xmalloc(len + 1);
	memcpy(m->content, content, len);
	m->content[len] = '\0';
	m->len = len;
	return m;
}

void
chk_relay_obs_free(chk_relay_obs *obs)
{
	if (obs == NULL)
		return;
	xfree(obs->submit_error);
	obs->submit_error = NULL;
	for (size_t i = 0; i < obs->nconns; i++) {
		chk_relay_conn *c = &obs->conns[i];

		cap_transcript_free(c->t);
		for (size_t k = 0; k < c->nmsgs; k++) {
			chk_relay_msg *m = &c->msgs[k];

			xfree(m->mail_from);
			xfree(m->ret);
			xfree(m->envid);
			for (size_t r = 0; r < m->nrcpts; r++) {
				xfree(m->rcpts[r]);
				xfree(m->notify[r]);
				xfree(m->orcpt[r]);
			}
			xfree(m->rcpts);
			xfree(m->notify);
			xfree(m->orcpt);
			xfree(m->content);
		}
		xfree(c->msgs);
	}
	xfree(obs->conns);
	for (size_t i = 0; i < obs->nqueries; i++) {
		xfree(obs->queries[i].qname);
		xfree(obs->queries[i].line);
	}
	xfree(obs->queries);
	memset(obs, 0, sizeof(*obs));
}

/* ---- helpers ------------------------------------------------------------- */

/* Names equal without regard to ASCII case or a trailing dot. */
static int
rc_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The first occurrence of needle (n octets) in hay (len), or NULL. */
static const char *
rc_memmem(const char *hay, size_t len, const char *needle, size_t n)
{
	for (size_t i = 0; n > 0 && n <= len && i <= len - n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/* Milliseconds from the submission to a wall-clock time in µs. */
static long long
rc_rel_ms(const chk_relay_obs *obs, uint64_t us)
{
	return ((long long)us - (long long)obs->submitted_us) / 1000;
}

/* Evidence: the connection's opening. */
static void
rc_ev_open(rpt_evidence *ev, const chk_relay_obs *obs, size_t conn)
{
	memset(ev, 0, sizeof(*ev));
	if (conn >= obs->nconns || obs->conns[conn].t == NULL || obs->conns[conn].t->nsegs == 0)
		return;
	rpt_evidence_segment(ev, obs->conns[conn].t, 0);
	ev->conn = conn;
}

/* Evidence: the bytes at stream offset off of the client's direction. */
static void
rc_ev_c2s(rpt_evidence *ev, const chk_relay_obs *obs, size_t conn, size_t off)
{
	memset(ev, 0, sizeof(*ev));
	if (conn >= obs->nconns || obs->conns[conn].t == NULL)
		return;
	rpt_evidence_at(ev, obs->conns[conn].t, CAP_C2S, off, SIZE_MAX);
	ev->conn = conn;
}

/* Where msg's content starts in the client's stream of its connection:
 * the first occurrence of its first octets (dot-stuffing aside, the
 * content crossed the wire as is); 0 when not found. */
static size_t
rc_content_off(const chk_relay_obs *obs, size_t conn, const chk_relay_msg *m)
{
	const cap_transcript *t = obs->conns[conn].t;
	size_t n = m->len < 48 ? m->len : 48;
	const char *hay, *hit;

	if (t == NULL || n == 0 || t->stream[CAP_C2S].len < n)
		return 0;
	hay = t->stream[CAP_C2S].data;
	hit = rc_memmem(hay, t->stream[CAP_C2S].len, m->content, n);
	return hit ? (size_t)(hit - hay) : 0;
}

static void __attribute__((format(printf, 5, 6)))
rc_fail(rpt_scenario *sc, const rly_expect *e, rpt_verdict v, const rpt_evidence *ev,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	const chk_entry *ce = chk_catalog_find(e->check);
	const char *refs = ce != NULL ? ce->refs : NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rpt_scenario_add_finding(sc, e->check, refs, v, (int)e->index, ev != NULL && ev->present ?
	    ev : NULL, "expect[%zu] %s: %s", e->index - 1, rly_kind_str(e->kind), msg);
	rpt_scenario_exercised(sc, e->check, v);
}

static void
rc_pass(rpt_scenario *sc, const rly_expect *e)
{
	rpt_scenario_exercised(sc, e->check, RPT_PASS);
}

static size_t
rc_host_msgs(const chk_relay_obs *obs, size_t host)
{
	size_t n = 0;

	for (size_t i = 0; i < obs->nconns; i++)
		if (obs->conns[i].host == host)
			n += obs->conns[i].nmsgs;
	return n;
}

/* The end of the header section of content (the offset of the empty
 * line's CRLF), or len when there is none. */
static size_t
rc_header_end(const char *c, size_t len)
{
	if (len >= 2 && c[0] == '\r' && c[1] == '\n')
		return 0;
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(c + i, "\r\n\r\n", 4) == 0)
			return i + 2;
	return len;
}

/* The length of the header field at c (continuation lines included). */
static size_t
rc_field_len(const char *c, size_t len)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(c + i, '\n', len - i);

		if (nl == NULL)
			return len;
		i = (size_t)(nl - c) + 1;
		if (i >= len || (c[i] != ' ' && c[i] != '\t'))
			return i;
	}
}

/* A header field named name (case-insensitive) in the header section of
 * c; its value's offset, or SIZE_MAX. */
static size_t
rc_header_find(const char *c, size_t len, const char *name)
{
	size_t end = rc_header_end(c, len), nl = strlen(name);

	for (size_t i = 0; i < end; i += rc_field_len(c + i, len - i))
		if (end - i > nl && strncasecmp(c + i, name, nl) == 0 && c[i + nl] == ':')
			return i + nl + 1;
	return SIZE_MAX;
}

/* Case-insensitive search of needle in [hay, hay + len). */
static const char *
rc_find_ci(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/* A field at the start of a line in [p, p + len): its value, or NULL. */
static const char *
rc_line_field(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n < len; i++)
		if ((i == 0 || p[i - 1] == '\n') && strncasecmp(p + i, name, n) == 0 &&
		    p[i + n] == ':')
			return p + i + n + 1;
	return NULL;
}

/* Copies a field value up to the end of its line, trimmed. */
static void
rc_value(const char *v, const char *end, char *out, size_t n)
{
	size_t k = 0;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (v < end && *v != '\r' && *v != '\n' && k + 1 < n)
		out[k++] = *v++;
	out[k] = '\0';
}

/* ---- the rows -------------------------------------------------------------- */

static void
rc_dns(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e, rpt_scenario *sc)
{
	const chk_relay_query *q = NULL, *other = NULL;
	char t[16], r1[16], r2[16];

	for (size_t i = 0; i < obs->nqueries && q == NULL; i++)
		if (obs->queries[i].qname != NULL && obs->queries[i].qtype == e->qtype &&
		    rc_name_eq(obs->queries[i].qname, e->qname)) {
			if (e->qrcode < 0 || obs->queries[i].rcode == e->qrcode)
				q = &obs->queries[i];
			else if (other == NULL)
				other = &obs->queries[i];
		}
	if (q == NULL && other != NULL) {
		/* Asked, but never answered as the row needs: the zone's
		 * behaviour ran out before the MTA asked, say. */
		rc_fail(sc, e, e->verdict, NULL, "expected a query for %s %s answered %s, got "
		    "only %s (the first at t=%lld ms)", e->qname,
		    dns_type_str((uint16_t)e->qtype, t, sizeof(t)),
		    dns_rcode_str(e->qrcode, r1, sizeof(r1)), other->rcode < 0 ? "no answer" :
		    dns_rcode_str(other->rcode, r2, sizeof(r2)), rc_rel_ms(obs, other->ms * 1000));
		return;
	}
	if (q == NULL) {
		/* The evidence is the DNS record: what was asked instead. */
		vbuf asked = VBUF_INIT;
		char t2[16];

		for (size_t i = 0; i < obs->nqueries && i < 5; i++)
			vbuf_printf(&asked, "%s%s %s", i ? ", " : "; asked: ",
			    obs->queries[i].qname ? obs->queries[i].qname : "(unreadable)",
			    dns_type_str((uint16_t)obs->queries[i].qtype, t2, sizeof(t2)));
		rc_fail(sc, e, e->verdict, NULL, "expected a query for %s %s, got none (%zu "
		    "queries in the fake DNS's record%s%s)", e->qname,
		    dns_type_str((uint16_t)e->qtype, t, sizeof(t)), obs->nqueries,
		    asked.len ? vbuf_str(&asked) : "", obs->nqueries > 5 ? ", ..." : "");
		vbuf_free(&asked);
		return;
	}
	if (e->host != SIZE_MAX) {
		for (size_t i = 0; i < obs->nconns; i++) {
			if (obs->conns[i].host != e->host)
				continue;
			if (obs->conns[i].start_us / 1000 < q->ms) {
				rpt_evidence ev;

				rc_ev_open(&ev, obs, i);
				rc_fail(sc, e, e->verdict, &ev, "expected the query for %s %s before the "
				    "first connection to %s, got the connection at t=%lld ms and the "
				    "query at t=%lld ms", e->qname,
				    dns_type_str((uint16_t)e->qtype, t, sizeof(t)),
				    s->hosts[e->host].name, rc_rel_ms(obs, obs->conns[i].start_us),
				    rc_rel_ms(obs, q->ms * 1000));
				rpt_evidence_clear(&ev);
				return;
			}
			break;
		}
	}
	rc_pass(sc, e);
}

static void
rc_order(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e, rpt_scenario *sc)
{
	size_t *seen = xcalloc(s->nhosts + 1, sizeof(size_t));
	size_t *first = xcalloc(s->nhosts + 1, sizeof(size_t));
	size_t nseen = 0, k = 0, bad = SIZE_MAX;
	vbuf got = VBUF_INIT, want = VBUF_INIT;

	/* The hosts in the order of their first connection. */
	for (size_t i = 0; i < obs->nconns; i++) {
		size_t j;

		for (j = 0; j < nseen; j++)
			if (seen[j] == obs->conns[i].host)
				break;
		if (j == nseen) {
			first[nseen] = i;
			seen[nseen++] = obs->conns[i].host;
		}
	}
	/* Those of the row must come in its order, the first of the row
	 * first of all. */
	for (size_t j = 0; j < nseen && bad == SIZE_MAX; j++) {
		size_t r;

		for (r = 0; r < e->norder; r++)
			if (e->order[r] == seen[j])
				break;
		if (r == e->norder) {
			if (j == 0)
				bad = 0;
			continue;
		}
		if (r != k)
			bad = j;
		else
			k++;
	}
	for (size_t j = 0; j < nseen; j++)
		vbuf_printf(&got, "%s%s", j ? ", " : "", s->hosts[seen[j]].name);
	for (size_t r = 0; r < e->norder; r++)
		vbuf_printf(&want, "%s%s", r ? ", " : "", s->hosts[e->order[r]].name);
	if (bad != SIZE_MAX || k < e->norder) {
		rpt_evidence ev;

		memset(&ev, 0, sizeof(ev));
		if (bad != SIZE_MAX)
			rc_ev_open(&ev, obs, first[bad]);
		rc_fail(sc, e, e->verdict, &ev, "expected first connections to %s in that order, "
		    "got %s", vbuf_str(&want), nseen ? vbuf_str(&got) : "none");
		rpt_evidence_clear(&ev);
	} else {
		rc_pass(sc, e);
	}
	vbuf_free(&got);
	vbuf_free(&want);
	xfree(seen);
	xfree(first);
}

static void
rc_counts(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	int ok = 1;

	for (size_t k = 0; k < e->ncounts; k++) {
		size_t host = e->counts[k].host, n = 0, extra = SIZE_MAX;

		for (size_t i = 0; i < obs->nconns; i++) {
			if (obs->conns[i].host != host)
				continue;
			n += e->kind == RLY_DELIVERIES ? obs->conns[i].nmsgs : 1;
			if (n > e->counts[k].n && extra == SIZE_MAX)
				extra = i;
		}
		if (n != e->counts[k].n) {
			rpt_evidence ev;

			memset(&ev, 0, sizeof(ev));
			if (extra != SIZE_MAX)
				rc_ev_open(&ev, obs, extra);
			rc_fail(sc, e, e->verdict, &ev, "expected %u %s at %s (%s:%s), got %zu",
			    e->counts[k].n, e->kind == RLY_DELIVERIES ? "accepted messages" :
			    "connections", s->hosts[host].name, s->hosts[host].addr,
			    s->hosts[host].port, n);
			rpt_evidence_clear(&ev);
			ok = 0;
		}
	}
	if (ok)
		rc_pass(sc, e);
}

static void
rc_retry(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t c1 = SIZE_MAX, c2 = SIZE_MAX;

	for (size_t i = 0; i < obs->nconns && c2 == SIZE_MAX; i++)
		if (obs->conns[i].host == e->host) {
			if (c1 == SIZE_MAX)
				c1 = i;
			else
				c2 = i;
		}
	if (c2 == SIZE_MAX) {
		rpt_evidence ev;

		memset(&ev, 0, sizeof(ev));
		if (c1 != SIZE_MAX)
			rc_ev_open(&ev, obs, c1);
		rc_fail(sc, e, e->verdict, &ev, "expected a second connection to %s after a failed "
		    "attempt, got %s within %u ms", s->hosts[e->host].name,
		    c1 == SIZE_MAX ? "no connection at all" : "only one", s->within_ms);
		rpt_evidence_clear(&ev);
		return;
	}
	{
		uint64_t end1 = obs->conns[c1].end_us ? obs->conns[c1].end_us : obs->conns[c1].start_us;
		long long gap = ((long long)obs->conns[c2].start_us - (long long)end1) / 1000;

		if (gap < (long long)e->min_gap_ms) {
			rpt_evidence ev;

			rc_ev_open(&ev, obs, c2);
			rc_fail(sc, e, e->verdict, &ev, "expected at least %u ms between the end of "
			    "the failed attempt and the retry to %s, got %lld ms", e->min_gap_ms,
			    s->hosts[e->host].name, gap);
			rpt_evidence_clear(&ev);
			return;
		}
	}
	rc_pass(sc, e);
}

/* Calls fn for every message host accepted; 0 when there was none
 * (then a finding says so). */
typedef int (*rc_msg_fn)(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, size_t conn, const chk_relay_msg *m);

static void
rc_each_msg(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, rc_msg_fn fn)
{
	int ok = 1;

	if (rc_host_msgs(obs, e->host) == 0) {
		rc_fail(sc, e, e->verdict, NULL, "expected a message accepted at %s (%s:%s), got none "
		    "within %u ms", s->hosts[e->host].name, s->hosts[e->host].addr,
		    s->hosts[e->host].port, s->within_ms);
		return;
	}
	for (size_t i = 0; i < obs->nconns; i++)
		if (obs->conns[i].host == e->host)
			for (size_t k = 0; k < obs->conns[i].nmsgs; k++)
				ok &= fn(s, obs, e, sc, i, &obs->conns[i].msgs[k]) == 0;
	if (ok)
		rc_pass(sc, e);
}

/* The message as submitted plus leading Received fields, nothing else. */
static int
rc_same_content(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, size_t conn, const chk_relay_msg *m)
{
	size_t wlen, off = 0, i;
	char *want = rly_message_crlf(s, &wlen);
	const char *c = m->content;
	int rc = 0;

	size_t own = 0, got = 0;

	/* The relay's trace fields are those it put above the message's own
	 * leading Received fields. */
	for (off = 0; wlen - off > 9 && strncasecmp(want + off, "Received:", 9) == 0; own++)
		off += rc_field_len(want + off, wlen - off);
	for (off = 0; m->len - off > 9 && strncasecmp(c + off, "Received:", 9) == 0; got++)
		off += rc_field_len(c + off, m->len - off);
	off = 0;
	for (size_t k = 0; k + own < got; k++)
		off += rc_field_len(c + off, m->len - off);
	if (m->len - off != wlen || memcmp(c + off, want, wlen) != 0) {
		rpt_evidence ev;
		char *wx, *gx;
		size_t wn, gn;

		for (i = 0; off + i < m->len && i < wlen && c[off + i] == want[i]; i++)
			;
		wn = wlen - i < 40 ? wlen - i : 40;
		gn = m->len - off - i < 40 ? m->len - off - i : 40;
		wx = rpt_escape(want + i, wn);
		gx = rpt_escape(c + off + i, gn);
		rc_ev_c2s(&ev, obs, conn, rc_content_off(obs, conn, m) + off + i);
		rc_fail(sc, e, e->verdict, &ev, "expected the message as submitted, with only "
		    "Received fields added at the top; at octet %zu after them expected \"%s\", "
		    "got \"%s\"", i, wn ? wx : "(the end)", gn ? gx : "(the end)");
		rpt_evidence_clear(&ev);
		xfree(wx);
		xfree(gx);
		rc = -1;
	}
	xfree(want);
	return rc;
}

/* RFC 5321 §4.4: the relay prepends a Received field with a "by" clause. */
static int
rc_received(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, size_t conn, const chk_relay_msg *m)
{
	size_t flen;

	(void)s;
	if (m->len > 9 && strncasecmp(m->content, "Received:", 9) == 0) {
		flen = rc_field_len(m->content, m->len);
		if (rc_find_ci(m->content, flen, " by ") != NULL ||
		    rc_find_ci(m->content, flen, "\tby ") != NULL)
			return 0;
	}
	{
		rpt_evidence ev;
		size_t n = m->len < 60 ? m->len : 60;
		char *x = rpt_escape(m->content, n);

		rc_ev_c2s(&ev, obs, conn, rc_content_off(obs, conn, m));
		rc_fail(sc, e, e->verdict, &ev, "expected the message to start with a Received "
		    "field with a \"by\" clause, got \"%s\"", x);
		rpt_evidence_clear(&ev);
		xfree(x);
	}
	return -1;
}

/* The first message at e->host with a null reverse-path, or NULL. */
static const chk_relay_msg *
rc_notice(const chk_relay_obs *obs, size_t host, size_t *conn)
{
	for (size_t i = 0; i < obs->nconns; i++)
		if (obs->conns[i].host == host)
			for (size_t k = 0; k < obs->conns[i].nmsgs; k++)
				if (obs->conns[i].msgs[k].mail_from[0] == '\0') {
					*conn = i;
					return &obs->conns[i].msgs[k];
				}
	return NULL;
}

/* Evidence: the MAIL command that carried m (its first in the connection
 * is good enough: the rows look at one notice per connection). */
static void
rc_ev_mail(rpt_evidence *ev, const chk_relay_obs *obs, size_t conn)
{
	const cap_transcript *t = obs->conns[conn].t;
	const char *hit = NULL;

	memset(ev, 0, sizeof(*ev));
	if (t != NULL && t->stream[CAP_C2S].len > 0)
		hit = rc_find_ci(t->stream[CAP_C2S].data, t->stream[CAP_C2S].len, "MAIL FROM:");
	rc_ev_c2s(ev, obs, conn, hit ? (size_t)(hit - t->stream[CAP_C2S].data) : 0);
}

static int
rc_rcpt_has(const chk_relay_msg *m, const char *mb)
{
	for (size_t r = 0; r < m->nrcpts; r++)
		if (strcasecmp(m->rcpts[r], mb) == 0)
			return 1;
	return 0;
}

/* RFC 5321 §6.1: a notice goes with MAIL FROM:<> to the reverse-path. */
static void
rc_bounce(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t conn = 0;
	const chk_relay_msg *m = rc_notice(obs, e->host, &conn);
	rpt_evidence ev;

	if (m == NULL) {
		for (size_t i = 0; i < obs->nconns; i++)
			if (obs->conns[i].host == e->host && obs->conns[i].nmsgs > 0) {
				rc_ev_mail(&ev, obs, i);
				rc_fail(sc, e, e->verdict, &ev, "expected the notice to %s with MAIL "
				    "FROM:<>, got MAIL FROM:<%s>", s->from, obs->conns[i].msgs[0].mail_from);
				rpt_evidence_clear(&ev);
				return;
			}
		rc_fail(sc, e, e->verdict, NULL, "expected a notice with MAIL FROM:<> to %s at %s, "
		    "got no message there within %u ms", s->from, s->hosts[e->host].name, s->within_ms);
		return;
	}
	if (!rc_rcpt_has(m, s->from)) {
		rc_ev_mail(&ev, obs, conn);
		rc_fail(sc, e, e->verdict, &ev, "expected the notice addressed to the reverse-path "
		    "<%s>, got RCPT TO:<%s>", s->from, m->nrcpts ? m->rcpts[0] : "");
		rpt_evidence_clear(&ev);
		return;
	}
	{
		size_t v = rc_header_find(m->content, m->len, "Content-Type");
		size_t hend = rc_header_end(m->content, m->len);

		if (v == SIZE_MAX || rc_find_ci(m->content + v, hend - v, "multipart/report") == NULL) {
			rc_ev_c2s(&ev, obs, conn, rc_content_off(obs, conn, m));
			/* The DSN format is a SHOULD of the same row. */
			rc_fail(sc, e, RPT_WARN, &ev, "expected the notice in DSN format "
			    "(multipart/report, RFC 3464), got another Content-Type or none");
			rpt_evidence_clear(&ev);
			return;
		}
	}
	rc_pass(sc, e);
}

/* RFC 3461 §6.1: MAIL FROM:<>, no RET, NOTIFY absent or NEVER. */
static void
rc_dsn_envelope(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t conn = 0;
	const chk_relay_msg *m = rc_notice(obs, e->host, &conn);
	rpt_evidence ev;

	if (m == NULL) {
		rc_fail(sc, e, e->verdict, NULL, "expected a DSN with MAIL FROM:<> at %s, got none "
		    "within %u ms", s->hosts[e->host].name, s->within_ms);
		return;
	}
	if (m->ret != NULL) {
		rc_ev_mail(&ev, obs, conn);
		rc_fail(sc, e, e->verdict, &ev, "expected a DSN's MAIL without RET, got RET=%s",
		    m->ret);
		rpt_evidence_clear(&ev);
		return;
	}
	for (size_t r = 0; r < m->nrcpts; r++)
		if (m->notify[r] != NULL && strcasecmp(m->notify[r], "NEVER") != 0) {
			rc_ev_mail(&ev, obs, conn);
			rc_fail(sc, e, e->verdict, &ev, "expected a DSN's RCPT without NOTIFY or with "
			    "NOTIFY=NEVER, got NOTIFY=%s for <%s>", m->notify[r], m->rcpts[r]);
			rpt_evidence_clear(&ev);
			return;
		}
	rc_pass(sc, e);
}

/* RFC 3464 §2, RFC 6522: multipart/report; report-type=delivery-status
 * with a message/delivery-status part: Reporting-MTA, then for the
 * recipient Final-Recipient, Action: failed, Status 5.x.x. */
static void
rc_dsn_report(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t conn = 0;
	const chk_relay_msg *m = rc_notice(obs, e->host, &conn);
	const char *why = NULL, *ds, *body, *end, *v;
	char val[128], got[160];
	size_t hend, ct;
	rpt_evidence ev;

	if (m == NULL) {
		rc_fail(sc, e, e->verdict, NULL, "expected a DSN (MAIL FROM:<>) at %s, got none "
		    "within %u ms", s->hosts[e->host].name, s->within_ms);
		return;
	}
	got[0] = '\0';
	hend = rc_header_end(m->content, m->len);
	ct = rc_header_find(m->content, m->len, "Content-Type");
	end = m->content + m->len;
	if (ct == SIZE_MAX || rc_find_ci(m->content + ct, hend - ct, "multipart/report") == NULL)
		why = "a Content-Type multipart/report";
	else if (rc_find_ci(m->content + ct, hend - ct, "delivery-status") == NULL)
		why = "report-type=delivery-status";
	else if ((ds = rc_find_ci(m->content + hend, m->len - hend,
	    "Content-Type: message/delivery-status")) == NULL)
		why = "a message/delivery-status part";
	else if ((body = rc_memmem(ds, (size_t)(end - ds), "\r\n\r\n", 4)) == NULL)
		why = "the delivery-status part's fields";
	else if (body += 4, rc_line_field(body, (size_t)(end - body), "Reporting-MTA") == NULL)
		why = "a Reporting-MTA field";
	else if ((v = rc_line_field(body, (size_t)(end - body), "Final-Recipient")) == NULL)
		why = "a Final-Recipient field";
	else if (rc_value(v, end, val, sizeof(val)), !(rc_find_ci(val, strlen(val), s->to[0])))
		why = "a Final-Recipient naming the recipient", snprintf(got, sizeof(got), "%s", val);
	else if ((v = rc_line_field(body, (size_t)(end - body), "Action")) == NULL)
		why = "an Action field";
	else if (rc_value(v, end, val, sizeof(val)), strcasecmp(val, "failed") != 0)
		why = "Action: failed", snprintf(got, sizeof(got), "Action: %s", val);
	else if ((v = rc_line_field(body, (size_t)(end - body), "Status")) == NULL)
		why = "a Status field";
	else if (rc_value(v, end, val, sizeof(val)), val[0] != '5' || val[1] != '.')
		why = "a Status 5.x.x", snprintf(got, sizeof(got), "Status: %s", val);
	if (why != NULL) {
		rc_ev_c2s(&ev, obs, conn, rc_content_off(obs, conn, m));
		rc_fail(sc, e, e->verdict, &ev, "expected an RFC 3464 report with %s, got %s", why,
		    got[0] ? got : "none");
		rpt_evidence_clear(&ev);
		return;
	}
	if (e->status != NULL && strncmp(val, e->status, strlen(e->status)) != 0) {
		/* The Status code the RFC names is advice (SHOULD): a warning. */
		rc_ev_c2s(&ev, obs, conn, (size_t)(v - m->content) + rc_content_off(obs, conn, m));
		rc_fail(sc, e, RPT_WARN, &ev, "expected Status %s, got %s", e->status, val);
		rpt_evidence_clear(&ev);
		return;
	}
	rc_pass(sc, e);
}

/* RFC 5321 §2.3.8: CR and LF only as CRLF, in what the MTA sent on. */
static void
rc_bare(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e, rpt_scenario *sc)
{
	int any = 0;

	for (size_t i = 0; i < obs->nconns; i++) {
		const cap_transcript *t = obs->conns[i].t;
		const char *p;
		size_t n;

		if (obs->conns[i].host != e->host || t == NULL)
			continue;
		any = 1;
		p = t->stream[CAP_C2S].data;
		n = t->stream[CAP_C2S].len;
		for (size_t k = 0; k < n; k++) {
			int bare = (p[k] == '\r' && (k + 1 >= n || p[k + 1] != '\n')) ||
			    (p[k] == '\n' && (k == 0 || p[k - 1] != '\r'));

			if (bare && !(p[k] == '\r' && k + 1 == n)) {
				rpt_evidence ev;

				rc_ev_c2s(&ev, obs, i, k > 16 ? k - 16 : 0);
				rc_fail(sc, e, e->verdict, &ev, "expected CR and LF only as CRLF in what "
				    "the MTA relayed to %s, got a bare %s at octet %zu", s->hosts[e->host].name,
				    p[k] == '\r' ? "CR" : "LF", k);
				rpt_evidence_clear(&ev);
				return;
			}
		}
	}
	if (!any) {
		rc_fail(sc, e, e->verdict, NULL, "expected the MTA to relay to %s, got no connection "
		    "within %u ms", s->hosts[e->host].name, s->within_ms);
		return;
	}
	rc_pass(sc, e);
}

/* RFC 3461 §5.2.1: a relay passes RET, ENVID, NOTIFY and ORCPT on to a
 * DSN-capable hop unchanged, case included, and adds none, but for an
 * ORCPT that is the received RCPT. */
/* NOTIFY values are the same set of keywords, in any case and order. */
static int
rc_notify_eq(const char *a, const char *b)
{
	size_t na = 1, nb = 1;

	for (const char *p = a; *p; p++)
		na += *p == ',';
	for (const char *p = b; *p; p++)
		nb += *p == ',';
	if (na != nb)
		return 0;
	for (const char *p = a; *p; ) {
		size_t n = strcspn(p, ",");
		const char *q = b;
		int found = 0;

		while (*q && !found) {
			size_t m = strcspn(q, ",");

			found = m == n && strncasecmp(p, q, n) == 0;
			q += m + (q[m] == ',');
		}
		if (!found)
			return 0;
		p += n + (p[n] == ',');
	}
	return 1;
}

static int
rc_dsn_param_ok(const rly_expect *e, int k, const char *got, const char *rcpt)
{
	const char *want = e->param[k];

	if (!e->param_given[k])
		return 1;
	/* RET and NOTIFY are keywords (any case); ENVID and ORCPT are
	 * relayed as they came, case included. */
	if (want != NULL && got != NULL && k == RLY_P_RET)
		return strcasecmp(got, want) == 0;
	if (want != NULL && got != NULL && k == RLY_P_NOTIFY)
		return rc_notify_eq(got, want);
	if (want != NULL)
		return got != NULL && strcmp(got, want) == 0;
	if (got == NULL)
		return 1;
	if (k == RLY_P_ORCPT && rcpt != NULL && strncasecmp(got, "rfc822;", 7) == 0)
		return strcasecmp(got + 7, rcpt) == 0;
	return 0;
}

static int
rc_dsn_params(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, size_t conn, const chk_relay_msg *m)
{
	static const char *const names[RLY_P_N] = { "RET", "ENVID", "NOTIFY", "ORCPT" };
	const char *got[RLY_P_N];
	rpt_evidence ev;

	(void)s;
	for (size_t r = 0; r < m->nrcpts || r == 0; r++) {
		const char *rcpt = r < m->nrcpts ? m->rcpts[r] : NULL;

		got[RLY_P_RET] = m->ret;
		got[RLY_P_ENVID] = m->envid;
		got[RLY_P_NOTIFY] = r < m->nrcpts ? m->notify[r] : NULL;
		got[RLY_P_ORCPT] = r < m->nrcpts ? m->orcpt[r] : NULL;
		for (int k = 0; k < RLY_P_N; k++) {
			if (rc_dsn_param_ok(e, k, got[k], rcpt))
				continue;
			rc_ev_mail(&ev, obs, conn);
			rc_fail(sc, e, e->verdict, &ev, "expected %s%s%s%s for <%s>, got %s%s%s",
			    names[k], e->param[k] ? "=" : " absent", e->param[k] ? e->param[k] : "",
			    k == RLY_P_ORCPT && !e->param[k] ? " (or the RCPT itself)" : "",
			    rcpt ? rcpt : "", got[k] ? names[k] : "none", got[k] ? "=" : "",
			    got[k] ? got[k] : "");
			rpt_evidence_clear(&ev);
			return -1;
		}
	}
	return 0;
}

/* RFC 5321 §4.5.4.1: recipients at one host share a transaction. */
static int
rc_rcpts(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc, size_t conn, const chk_relay_msg *m)
{
	rpt_evidence ev;

	if (m->nrcpts == e->count)
		return 0;
	rc_ev_mail(&ev, obs, conn);
	rc_fail(sc, e, e->verdict, &ev, "expected one transaction for the %u recipients at %s, "
	    "got one with %zu", e->count, s->hosts[e->host].name, m->nrcpts);
	rpt_evidence_clear(&ev);
	return -1;
}

/* Splits mailbox mb into its local-part as its destination reads it
 * and its domain. RFC 5321 §4.1.2: "all quoted forms MUST be treated as
 * equivalent", so a quoted-string is its content with each quoted-pair
 * undone (`"Mixed.Case"` is `Mixed.Case`), and a dot-string is itself;
 * the octets are compared as they are, case included (§2.4). Returns
 * the domain, or NULL when mb has none. */
static const char *
rc_localpart(const char *mb, vbuf *out)
{
	const char *p = mb;

	vbuf_reset(out);
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			vbuf_append_byte(out, *p);
		}
		if (*p == '"')
			p++;
	} else {
		while (*p != '\0' && *p != '@')
			vbuf_append_byte(out, *p++);
	}
	return *p == '@' ? p + 1 : NULL;
}

/* 1 when mailboxes a and b have the same local-part (above) and the
 * same domain (any case). */
static int
rc_mailbox_same(const char *a, const char *b)
{
	vbuf la = VBUF_INIT, lb = VBUF_INIT;
	const char *da = rc_localpart(a, &la), *db = rc_localpart(b, &lb);
	int same = da != NULL && db != NULL && la.len == lb.len &&
	    memcmp(vbuf_str(&la), vbuf_str(&lb), la.len) == 0 && strcasecmp(da, db) == 0;

	vbuf_free(&la);
	vbuf_free(&lb);
	return same;
}

/* What became of a local-part want that arrived as got, in words. */
static const char *
rc_localpart_change(const char *want, const char *got)
{
	vbuf lw = VBUF_INIT, lg = VBUF_INIT, sw = VBUF_INIT, sg = VBUF_INIT;
	const char *why = "a different local-part";
	const char *w, *g, *plus;

	rc_localpart(want, &lw);
	rc_localpart(got, &lg);
	w = vbuf_str(&lw);
	g = vbuf_str(&lg);
	for (const char *c = w; *c; c++)
		if (*c != '.')
			vbuf_append_byte(&sw, *c);
	for (const char *c = g; *c; c++)
		if (*c != '.')
			vbuf_append_byte(&sg, *c);
	plus = strchr(w, '+');
	if (lw.len == lg.len && strcasecmp(w, g) == 0)
		why = "the local-part's letter case changed";
	else if (plus != NULL && lg.len == (size_t)(plus - w) &&
	    strncasecmp(w, g, lg.len) == 0)
		why = "the +tag stripped";
	else if (sw.len == sg.len && strcasecmp(vbuf_str(&sw), vbuf_str(&sg)) == 0)
		why = "dots removed or added";
	else if (want[0] == '"' || got[0] == '"')
		why = "the quoting changed what the local-part says";
	vbuf_free(&lw);
	vbuf_free(&lg);
	vbuf_free(&sw);
	vbuf_free(&sg);
	return why;
}

/* Evidence: the RCPT command naming mb in the client's stream of conn. */
static void
rc_ev_rcpt(rpt_evidence *ev, const chk_relay_obs *obs, size_t conn, const char *mb)
{
	const cap_transcript *t = obs->conns[conn].t;
	const char *hit = NULL, *d;
	size_t n = strlen(mb), len;

	if (t != NULL && (len = t->stream[CAP_C2S].len) > 0) {
		d = t->stream[CAP_C2S].data;
		for (hit = rc_memmem(d, len, mb, n); hit != NULL;
		    hit = rc_memmem(hit + 1, len - (size_t)(hit + 1 - d), mb, n))
			if (hit - d >= 9 && strncasecmp(hit - 9, "RCPT TO:<", 9) == 0)
				break;
	}
	if (hit != NULL) {
		rc_ev_c2s(ev, obs, conn, (size_t)(hit - 9 - t->stream[CAP_C2S].data));
		return;
	}
	rc_ev_mail(ev, obs, conn);
}

/* RFC 5321 §2.4, §4.1.2: the local-part belongs to the destination; a
 * relay passes it on as it came. Each submitted recipient must reach
 * the host with the same local-part (quoted forms being equivalent);
 * the first that did not is the finding, with the forwarded RCPT that
 * took its place. */
static void
rc_localparts(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t nmsgs = rc_host_msgs(obs, e->host);

	if (nmsgs == 0) {
		rc_fail(sc, e, e->verdict, NULL, "expected the message at %s, got none within %u ms",
		    s->hosts[e->host].name, s->within_ms);
		return;
	}
	for (size_t k = 0; k < s->nto; k++) {
		size_t bconn = SIZE_MAX;
		const char *bad = NULL;
		int found = 0;

		for (size_t i = 0; i < obs->nconns && !found; i++) {
			if (obs->conns[i].host != e->host)
				continue;
			for (size_t m = 0; m < obs->conns[i].nmsgs && !found; m++) {
				const chk_relay_msg *msg = &obs->conns[i].msgs[m];

				for (size_t r = 0; r < msg->nrcpts && !found; r++) {
					int taken = 0;

					if (rc_mailbox_same(s->to[k], msg->rcpts[r])) {
						found = 1;
						break;
					}
					/* A forwarded RCPT that matches no submitted
					 * recipient stands in for this one. */
					for (size_t o = 0; o < s->nto && !taken; o++)
						taken = rc_mailbox_same(s->to[o], msg->rcpts[r]);
					if (!taken && bad == NULL) {
						bad = msg->rcpts[r];
						bconn = i;
					}
				}
			}
		}
		if (found)
			continue;
		if (bad != NULL) {
			rpt_evidence ev;

			rc_ev_rcpt(&ev, obs, bconn, bad);
			rc_fail(sc, e, e->verdict, &ev, "expected RCPT TO:<%s> with its local-part "
			    "as submitted, got RCPT TO:<%s>: %s", s->to[k], bad,
			    rc_localpart_change(s->to[k], bad));
			rpt_evidence_clear(&ev);
		} else {
			rc_fail(sc, e, e->verdict, NULL, "expected RCPT TO:<%s> at %s, got no RCPT "
			    "for it in %zu message%s", s->to[k], s->hosts[e->host].name, nmsgs,
			    nmsgs == 1 ? "" : "s");
		}
		return;
	}
	rc_pass(sc, e);
}

/* ---- DSNs: RFC 3464 reports, their recipients and returned part ------------- */

/* A body part of a multipart: its header, its body, its end (the CRLF
 * before the next delimiter), as offsets in the message. */
typedef struct rc_part {
	size_t hdr, body, end;
} rc_part;

#define RC_PARTS_MAX 8

/* The parts of c's top-level multipart (RFC 2046 §5.1.1), at most max;
 * 0 when c is not a multipart with a boundary. */
static size_t
rc_parts(const char *c, size_t len, rc_part *parts, size_t max)
{
	size_t ct = rc_header_find(c, len, "Content-Type"), hend = rc_header_end(c, len);
	size_t fend, blen = 0, n = 0, i;
	const char *b, *bstart;
	int open = 0;

	if (ct == SIZE_MAX || hend >= len)
		return 0;
	fend = ct + rc_field_len(c + ct, len - ct);
	if ((b = rc_find_ci(c + ct, fend - ct, "boundary=")) == NULL)
		return 0;
	b += 9;
	if (*b == '"') {
		bstart = ++b;
		while (b < c + fend && *b != '"')
			b++;
	} else {
		bstart = b;
		while (b < c + fend && *b != ';' && *b != ' ' && *b != '\t' && *b != '\r' &&
		    *b != '\n')
			b++;
	}
	blen = (size_t)(b - bstart);
	if (blen == 0)
		return 0;
	for (i = hend + 2; i < len;) {
		const char *nl = memchr(c + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - c) + 1 : len;

		if (next - i >= blen + 2 && c[i] == '-' && c[i + 1] == '-' &&
		    memcmp(c + i + 2, bstart, blen) == 0) {
			int last = next - i >= blen + 4 && c[i + blen + 2] == '-' &&
			    c[i + blen + 3] == '-';

			if (open) {
				parts[n - 1].end = i >= 2 ? i - 2 : i;
				open = 0;
			}
			if (last)
				break;
			if (n < max) {
				const char *blank = rc_memmem(c + next, len - next, "\r\n\r\n", 4);

				parts[n].hdr = next;
				if (next + 1 < len && c[next] == '\r' && c[next + 1] == '\n')
					parts[n].body = next + 2;
				else
					parts[n].body = blank ? (size_t)(blank - c) + 4 : len;
				parts[n].end = len;
				n++;
				open = 1;
			}
		}
		i = next;
	}
	return n;
}

/* 1 when part p's Content-Type is type (its parameters aside). */
static int
rc_part_is(const char *c, const rc_part *p, const char *type, char *got, size_t gotlen)
{
	size_t ct = rc_header_find(c + p->hdr, p->end - p->hdr, "Content-Type");
	char val[128];
	size_t k;

	if (p->body <= p->hdr || ct == SIZE_MAX) {
		snprintf(got, gotlen, "%s", "text/plain");	/* RFC 2045 §5.2 */
		return strcasecmp(type, "text/plain") == 0;
	}
	rc_value(c + p->hdr + ct, c + p->end, val, sizeof(val));
	for (k = 0; val[k] != '\0' && val[k] != ';' && val[k] != ' '; k++)
		;
	val[k] = '\0';
	snprintf(got, gotlen, "%s", val);
	return strcasecmp(val, type) == 0;
}

/* The message/delivery-status part of a report, or NULL; the parts of
 * the message in parts[*n]. */
static const rc_part *
rc_status_part(const chk_relay_msg *m, rc_part *parts, size_t *n)
{
	char got[128];

	*n = rc_parts(m->content, m->len, parts, RC_PARTS_MAX);
	for (size_t i = 0; i < *n; i++)
		if (rc_part_is(m->content, &parts[i], "message/delivery-status", got, sizeof(got)))
			return &parts[i];
	return NULL;
}

/* The next block of fields in [*pos, end) (RFC 3464 §2.1: the
 * per-message fields, then a block per recipient, blank lines between);
 * 0 when none is left. */
static int
rc_block(const char *c, size_t *pos, size_t end, size_t *bstart, size_t *bend)
{
	size_t i = *pos;

	while (i + 1 < end && c[i] == '\r' && c[i + 1] == '\n')
		i += 2;
	if (i >= end)
		return 0;
	*bstart = i;
	{
		const char *blank = rc_memmem(c + i, end - i, "\r\n\r\n", 4);

		*bend = blank ? (size_t)(blank - c) + 2 : end;
	}
	*pos = *bend;
	return 1;
}

/* The address of a recipient field ("rfc822; b@example.test"), without
 * its type and brackets, into out. */
static void
rc_dsn_addr(const char *v, const char *end, char *out, size_t n)
{
	char val[320];
	char *a, *z;

	rc_value(v, end, val, sizeof(val));
	a = strchr(val, ';');
	a = a ? a + 1 : val;
	while (*a == ' ' || *a == '\t' || *a == '<')
		a++;
	z = a + strlen(a);
	while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '>'))
		*--z = '\0';
	snprintf(out, n, "%s", a);
}

/* A recipient block naming mb: in Final-Recipient or Original-Recipient
 * (RFC 3464 §2.3.1, §2.3.2); its Action into action, the offset of the
 * field that named it into *at. */
static int
rc_block_names(const char *c, size_t bs, size_t be, const char *mb, char *action, size_t alen,
    size_t *at)
{
	static const char *const fields[] = { "Final-Recipient", "Original-Recipient", NULL };
	int named = 0;

	for (size_t f = 0; fields[f] != NULL && !named; f++) {
		const char *v = rc_line_field(c + bs, be - bs, fields[f]);
		char addr[320];

		if (v == NULL)
			continue;
		rc_dsn_addr(v, c + be, addr, sizeof(addr));
		if (strcasecmp(addr, mb) == 0) {
			named = 1;
			*at = (size_t)(v - c) - strlen(fields[f]) - 1;
		}
	}
	if (named) {
		const char *v = rc_line_field(c + bs, be - bs, "Action");

		action[0] = '\0';
		if (v != NULL)
			rc_value(v, c + be, action, alen);
	}
	return named;
}

/* RFC 3461 §5.2.2, §5.2.6, RFC 5321 §4.1.1.4: across every DSN host
 * got, each recipient of the row is named with the Action stated, or
 * (null) by none. A notice not in RFC 3464 form names no recipient the
 * harness can read: a WARN (RFC 5321 §6.1 makes the form a SHOULD). */
static void
rc_notices(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	size_t nnotices = 0, nreports = 0, lconn = 0;
	const chk_relay_msg *last = NULL;
	rpt_evidence ev;

	for (size_t i = 0; i < obs->nconns; i++)
		for (size_t k = 0; obs->conns[i].host == e->host && k < obs->conns[i].nmsgs; k++) {
			const chk_relay_msg *m = &obs->conns[i].msgs[k];
			rc_part parts[RC_PARTS_MAX];
			size_t np;

			if (m->mail_from[0] != '\0')
				continue;
			nnotices++;
			last = m;
			lconn = i;
			if (rc_status_part(m, parts, &np) != NULL)
				nreports++;
		}
	if (nnotices > 0 && nreports == 0) {
		rc_ev_c2s(&ev, obs, lconn, rc_content_off(obs, lconn, last));
		rc_fail(sc, e, RPT_WARN, &ev, "expected the notices at %s in RFC 3464 form, got %zu "
		    "notice%s without a message/delivery-status part: recipients not judged",
		    s->hosts[e->host].name, nnotices, nnotices == 1 ? "" : "s");
		rpt_evidence_clear(&ev);
		return;
	}
	for (size_t a = 0; a < e->nactions; a++) {
		const rly_action *want = &e->actions[a];
		char other[64] = "";
		size_t oconn = 0, ooff = 0;
		int found = 0;

		for (size_t i = 0; i < obs->nconns && !found; i++)
			for (size_t k = 0; obs->conns[i].host == e->host && k < obs->conns[i].nmsgs &&
			    !found; k++) {
				const chk_relay_msg *m = &obs->conns[i].msgs[k];
				rc_part parts[RC_PARTS_MAX];
				const rc_part *ds;
				size_t np, pos, bs, be, at;
				char action[64];

				if (m->mail_from[0] != '\0' || (ds = rc_status_part(m, parts, &np)) == NULL)
					continue;
				pos = ds->body;
				if (!rc_block(m->content, &pos, ds->end, &bs, &be))
					continue;	/* the per-message fields */
				while (!found && rc_block(m->content, &pos, ds->end, &bs, &be)) {
					if (!rc_block_names(m->content, bs, be, want->mailbox, action,
					    sizeof(action), &at))
						continue;
					if (want->action != NULL && strcasecmp(action, want->action) == 0) {
						found = 1;
					} else if (other[0] == '\0') {
						snprintf(other, sizeof(other), "%s", action[0] ? action :
						    "(none)");
						oconn = i;
						ooff = rc_content_off(obs, i, m) + at;
					}
				}
			}
		if (want->action != NULL && found)
			continue;
		if (want->action == NULL && other[0] == '\0')
			continue;
		if (other[0] != '\0') {
			rc_ev_c2s(&ev, obs, oconn, ooff);
			if (want->action == NULL)
				rc_fail(sc, e, e->verdict, &ev, "expected no DSN naming <%s>, got one with "
				    "Action: %s", want->mailbox, other);
			else
				rc_fail(sc, e, e->verdict, &ev, "expected a DSN naming <%s> with Action: "
				    "%s, got Action: %s", want->mailbox, want->action, other);
			rpt_evidence_clear(&ev);
		} else {
			rc_fail(sc, e, e->verdict, NULL, "expected a DSN naming <%s> with Action: %s "
			    "at %s, got %s within %u ms", want->mailbox, want->action,
			    s->hosts[e->host].name, nreports == 0 ? "no DSN" : "none naming it",
			    s->within_ms);
		}
		return;
	}
	rc_pass(sc, e);
}

/* RFC 3461 §5.2.2: to a hop that does not offer DSN, no MAIL or RCPT
 * carries RET, ENVID, NOTIFY or ORCPT. The client's stream is read
 * command by command, the message's content (DATA up to the dot, BDAT
 * chunks) skipped. */
static void
rc_no_dsn_params(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	static const char *const names[] = { "RET", "ENVID", "NOTIFY", "ORCPT", NULL };
	int any = 0;

	for (size_t i = 0; i < obs->nconns; i++) {
		const cap_transcript *t = obs->conns[i].t;
		const char *d;
		size_t len, pos = 0;
		int in_data = 0;

		if (obs->conns[i].host != e->host || t == NULL)
			continue;
		any = 1;
		d = t->stream[CAP_C2S].data;
		len = t->stream[CAP_C2S].len;
		while (pos < len) {
			const char *nl = memchr(d + pos, '\n', len - pos);
			size_t next = nl ? (size_t)(nl - d) + 1 : len, ll = next - pos;
			const char *gt;

			if (in_data) {
				if (ll >= 2 && d[pos] == '.' && (d[pos + 1] == '\r' || d[pos + 1] == '\n'))
					in_data = 0;
				pos = next;
				continue;
			}
			if (ll >= 4 && strncasecmp(d + pos, "DATA", 4) == 0 && (ll == 4 ||
			    d[pos + 4] == '\r' || d[pos + 4] == '\n')) {
				in_data = 1;
			} else if (ll > 5 && strncasecmp(d + pos, "BDAT ", 5) == 0) {
				unsigned long long n = strtoull(d + pos + 5, NULL, 10);

				next = n > len - next ? len : next + (size_t)n;
			} else if (((ll > 10 && strncasecmp(d + pos, "MAIL FROM:", 10) == 0) ||
			    (ll > 8 && strncasecmp(d + pos, "RCPT TO:", 8) == 0)) &&
			    (gt = memchr(d + pos, '>', ll)) != NULL) {
				for (const char *q = gt + 1; q < d + next; q++) {
					if (q[-1] != ' ')
						continue;
					for (size_t k = 0; names[k] != NULL; k++) {
						size_t kl = strlen(names[k]);
						char cmd[160];
						rpt_evidence ev;

						if ((size_t)(d + next - q) <= kl ||
						    strncasecmp(q, names[k], kl) != 0 || q[kl] != '=')
							continue;
						rc_value(d + pos, d + next, cmd, sizeof(cmd));
						rc_ev_c2s(&ev, obs, i, (size_t)(q - d));
						rc_fail(sc, e, e->verdict, &ev, "expected no DSN parameters "
						    "to %s, which does not offer DSN (RFC 3461 §5.2.2), got "
						    "%s= in %s", s->hosts[e->host].name, names[k], cmd);
						rpt_evidence_clear(&ev);
						return;
					}
				}
			}
			pos = next;
		}
	}
	if (!any || rc_host_msgs(obs, e->host) == 0) {
		rc_fail(sc, e, e->verdict, NULL, "expected the message relayed to %s, got %s within "
		    "%u ms", s->hosts[e->host].name, any ? "no message accepted" : "no connection",
		    s->within_ms);
		return;
	}
	rc_pass(sc, e);
}

/* RFC 3461 §4.3, §4.4: in the failed DSN, the returned part is what RET
 * asked for (text/rfc822-headers for HDRS, RFC 6522) and the ENVID
 * comes back as Original-Envelope-Id (RFC 3464 §2.2.1). */
static void
rc_dsn_return(const rly_scenario *s, const chk_relay_obs *obs, const rly_expect *e,
    rpt_scenario *sc)
{
	const chk_relay_msg *m = NULL;
	rc_part parts[RC_PARTS_MAX];
	const rc_part *ds = NULL;
	size_t np = 0, conn = 0, base;
	rpt_evidence ev;

	for (size_t i = 0; i < obs->nconns && ds == NULL; i++)
		for (size_t k = 0; obs->conns[i].host == e->host && k < obs->conns[i].nmsgs &&
		    ds == NULL; k++) {
			const chk_relay_msg *c = &obs->conns[i].msgs[k];
			const rc_part *p;
			const char *v;
			char action[64];

			if (c->mail_from[0] != '\0' || (p = rc_status_part(c, parts, &np)) == NULL)
				continue;
			v = rc_line_field(c->content + p->body, p->end - p->body, "Action");
			if (v == NULL)
				continue;
			rc_value(v, c->content + p->end, action, sizeof(action));
			if (strcasecmp(action, "failed") == 0) {
				m = c;
				ds = p;
				conn = i;
			}
		}
	if (ds == NULL) {
		rc_fail(sc, e, e->verdict, NULL, "expected a DSN with Action: failed at %s, got "
		    "none within %u ms", s->hosts[e->host].name, s->within_ms);
		return;
	}
	base = rc_content_off(obs, conn, m);
	if (e->orig_envid != NULL) {
		const char *v = rc_line_field(m->content + ds->body, ds->end - ds->body,
		    "Original-Envelope-Id");
		char val[128] = "";

		if (v != NULL)
			rc_value(v, m->content + ds->end, val, sizeof(val));
		if (v == NULL || strcmp(val, e->orig_envid) != 0) {
			rc_ev_c2s(&ev, obs, conn, base + (v ? (size_t)(v - m->content) : ds->body));
			rc_fail(sc, e, e->verdict, &ev, "expected Original-Envelope-Id: %s in the DSN, "
			    "got %s%s", e->orig_envid, v ? "Original-Envelope-Id: " : "none",
			    v ? val : "");
			rpt_evidence_clear(&ev);
			return;
		}
	}
	if (e->returned != NULL) {
		const rc_part *ret = ds + 1 < parts + np ? ds + 1 : NULL;
		char got[128] = "";

		if (ret == NULL || !rc_part_is(m->content, ret, e->returned, got, sizeof(got))) {
			rc_ev_c2s(&ev, obs, conn, base + (ret ? ret->hdr : ds->end));
			rc_fail(sc, e, e->verdict, &ev, "expected the returned part as %s, got %s",
			    e->returned, ret ? got : "no returned part");
			rpt_evidence_clear(&ev);
			return;
		}
	}
	rc_pass(sc, e);
}

void
chk_relay_judge(const rly_scenario *s, const chk_relay_obs *obs, rpt_scenario *sc)
{
	for (size_t i = 0; i < s->nexpects; i++) {
		const rly_expect *e = &s->expects[i];

		switch (e->kind) {
		case RLY_DNS:
			rc_dns(s, obs, e, sc);
			break;
		case RLY_ORDER:
			rc_order(s, obs, e, sc);
			break;
		case RLY_DELIVERIES:
		case RLY_CONNECTIONS:
			rc_counts(s, obs, e, sc);
			break;
		case RLY_RETRY:
			rc_retry(s, obs, e, sc);
			break;
		case RLY_SAME_CONTENT:
			rc_each_msg(s, obs, e, sc, rc_same_content);
			break;
		case RLY_RECEIVED:
			rc_each_msg(s, obs, e, sc, rc_received);
			break;
		case RLY_BOUNCE:
			rc_bounce(s, obs, e, sc);
			break;
		case RLY_DSN_ENVELOPE:
			rc_dsn_envelope(s, obs, e, sc);
			break;
		case RLY_DSN_REPORT:
			rc_dsn_report(s, obs, e, sc);
			break;
		case RLY_NO_BARE_LINE_ENDS:
			rc_bare(s, obs, e, sc);
			break;
		case RLY_DSN_PARAMS:
			rc_each_msg(s, obs, e, sc, rc_dsn_params);
			break;
		case RLY_RCPTS:
			rc_each_msg(s, obs, e, sc, rc_rcpts);
			break;
		case RLY_LOCALPARTS:
			rc_localparts(s, obs, e, sc);
			break;
		case RLY_NOTICES:
			rc_notices(s, obs, e, sc);
			break;
		case RLY_NO_DSN_PARAMS:
			rc_no_dsn_params(s, obs, e, sc);
			break;
		case RLY_DSN_RETURN:
			rc_dsn_return(s, obs, e, sc);
			break;
		}
	}
}

/* ---- the timeline ------------------------------------------------------------ */

typedef struct rc_event {
	uint64_t us;
	char *line;
} rc_event;

static int
rc_event_cmp(const void *a, const void *b)
{
	const rc_event *x = a, *y = b;

	return x->us < y->us ? -1 : x->us > y->us;
}

char **
chk_relay_timeline(const rly_scenario *s, const chk_relay_obs *obs, size_t *n)
{
	size_t cap = obs->nqueries + obs->nconns, k = 0;
	rc_event *ev = xcalloc(cap ? cap : 1, sizeof(*ev));
	char **out;

	for (size_t i = 0; i < obs->nqueries; i++) {
		const char *line = obs->queries[i].line;
		/* The query's line without its leading time stamp. */
		const char *sp = strchr(line, ' ');

		ev[k].us = obs->queries[i].ms * 1000;
		ev[k].line = xasprintf("t=%lld ms dns %s", rc_rel_ms(obs, ev[k].us), sp ? sp + 1 : line);
		k++;
	}
	for (size_t i = 0; i < obs->nconns; i++) {
		const chk_relay_conn *c = &obs->conns[i];
		const rly_host *h = &s->hosts[c->host];

		ev[k].us = c->start_us;
		ev[k].line = xasprintf("t=%lld ms connection %zu to %s (%s:%s), %lld ms, %zu message%s "
		    "accepted", rc_rel_ms(obs, c->start_us), i + 1, h->name, h->addr, h->port,
		    c->end_us > c->start_us ? (long long)(c->end_us - c->start_us) / 1000 : 0LL,
		    c->nmsgs, c->nmsgs == 1 ? "" : "s");
		k++;
	}
	qsort(ev, k, sizeof(*ev), rc_event_cmp);
	out = xcalloc(k ? k : 1, sizeof(char *));
	for (size_t i = 0; i < k; i++)
		out[i] = ev[i].line;
	xfree(ev);
	*n = k;
	return out;
}
