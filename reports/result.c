/*
 * result - the result model: run -> scenario results -> findings.
 *
 * Owns every string it is given (copied on the way in) and the
 * transcript of each scenario; rpt_run_free releases the whole tree.
 */
#include "reports/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"

rpt_run *
rpt_run_new(const char *target)
{
	rpt_run *run = xcalloc(1, sizeof(*run));

	run->target = target ? xstrdup(target) : NULL;
	return run;
}

void
rpt_run_free(rpt_run *run)
{
	size_t i;

	if (run == NULL)
		return;
	for (i = 0; i < run->nscenarios; i++)
		rpt_scenario_free(run->scenarios[i]);
	xfree(run->scenarios);
	xfree(run->target);
	rpt_baseline_free(run->baseline);
	xfree(run);
}

void
rpt_run_add(rpt_run *run, rpt_scenario *sc)
{
	run->scenarios = xgrow(run->scenarios, &run->scenarios_cap, run->nscenarios + 1,
	    sizeof(*run->scenarios));
	run->scenarios[run->nscenarios++] = sc;
}

rpt_summary
rpt_run_summary(const rpt_run *run)
{
	rpt_summary s;
	size_t i, j;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < run->nscenarios; i++) {
		const rpt_scenario *sc = run->scenarios[i];

		switch (sc->verdict) {
		case RPT_PASS:
			s.pass++;
			break;
		case RPT_FAIL:
			s.fail++;
			s.known += sc->known != 0;
			break;
		case RPT_ERROR:
			s.error++;
			break;
		case RPT_SKIP:
			s.skip++;
			break;
		default:
			/* WARN and INFO are finding verdicts; a scenario never has them. */
			break;
		}
		for (j = 0; j < sc->nfindings; j++)
			if (sc->findings[j].verdict == RPT_WARN)
				s.warnings++;
	}
	return s;
}

rpt_scenario *
rpt_scenario_new(const char *id, const char *summary, const char *file)
{
	rpt_scenario *sc = xcalloc(1, sizeof(*sc));

	sc->id = xstrdup(id ? id : "");
	sc->summary = summary ? xstrdup(summary) : NULL;
	sc->file = file ? xstrdup(file) : NULL;
	sc->verdict = RPT_PASS;
	return sc;
}

rpt_client *
rpt_scenario_client(rpt_scenario *sc)
{
	if (sc->client == NULL)
		sc->client = xcalloc(1, sizeof(*sc->client));
	return sc->client;
}

rpt_received *
rpt_scenario_received(rpt_scenario *sc)
{
	if (sc->received == NULL)
		sc->received = xcalloc(1, sizeof(*sc->received));
	return sc->received;
}

void
rpt_scenario_free(rpt_scenario *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	if (sc->client) {
		xfree(sc->client->cmd);
		xfree(sc->client->out);
		xfree(sc->client->err);
		xfree(sc->client);
	}
	if (sc->received) {
		xfree(sc->received->listen);
		xfree(sc->received->mail_from);
		for (i = 0; i < sc->received->nrcpts; i++)
			xfree(sc->received->rcpts[i]);
		xfree(sc->received->rcpts);
		xfree(sc->received->message_path);
		xfree(sc->received);
	}
	for (i = 0; i < sc->nrefs; i++)
		xfree(sc->refs[i]);
	xfree(sc->refs);
	for (i = 0; i < sc->ntimeline; i++)
		xfree(sc->timeline[i]);
	xfree(sc->timeline);
	for (i = 0; i < sc->nfindings; i++) {
		rpt_finding *f = &sc->findings[i];

		xfree(f->check);
		xfree(f->refs);
		xfree(f->message);
		xfree(f->known);
		xfree(f->delivered_file);
		xfree(f->delivered_excerpt);
		rpt_evidence_clear(&f->evidence);
	}
	xfree(sc->findings);
	for (i = 0; i < sc->nexercised; i++)
		xfree(sc->exercised[i].check);
	xfree(sc->exercised);
	cap_transcript_free(sc->transcript);
	for (size_t k = 0; k < sc->nmore; k++)
		cap_transcript_free(sc->more[k]);
	xfree(sc->more);
	xfree(sc->capture_path);
	xfree(sc->reason);
	xfree(sc->id);
	xfree(sc->summary);
	xfree(sc->file);
	xfree(sc);
}

void
rpt_scenario_add_ref(rpt_scenario *sc, const char *ref)
{
	size_t cap = sc->nrefs;

	/* refs has no capacity field; grow it one at a time (there are few). */
	sc->refs = xgrow(sc->refs, &cap, sc->nrefs + 1, sizeof(*sc->refs));
	sc->refs[sc->nrefs++] = xstrdup(ref ? ref : "");
}

/* vsnprintf into a new string; a format error leaves a marker, not NULL.
 * A message formatted already comes as "%s": it is copied, not printed
 * twice more through vsnprintf (measuring, then writing), which costs
 * more than the copy for the long quotes findings carry. */
static char *
vformat(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	if (strcmp(fmt, "%s") == 0) {
		const char *msg = va_arg(ap, const char *);

		return xstrdup(msg != NULL ? msg : "(null)");
	}
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return xstrdup("(message could not be formatted)");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

rpt_finding *
rpt_scenario_add_finding(rpt_scenario *sc, const char *check, const char *refs,
    rpt_verdict verdict, int step, const rpt_evidence *ev, const char *fmt, ...)
{
	rpt_finding *f;
	va_list ap;

	sc->findings = xgrow(sc->findings, &sc->findings_cap, sc->nfindings + 1,
	    sizeof(*sc->findings));
	f = &sc->findings[sc->nfindings++];
	memset(f, 0, sizeof(*f));
	f->check = xstrdup(check ? check : "");
	f->refs = refs ? xstrdup(refs) : NULL;
	f->verdict = verdict;
	f->step = step;
	va_start(ap, fmt);
	f->message = vformat(fmt, ap);
	va_end(ap);
	if (ev != NULL && ev->present) {
		f->evidence = *ev;
		f->evidence.excerpt = xstrdup(ev->excerpt ? ev->excerpt : "");
	}
	return f;
}

void
rpt_finding_delivered(rpt_finding *f, const char *file, size_t off, const char *bytes, size_t len)
{
	xfree(f->delivered_file);
	xfree(f->delivered_excerpt);
	f->delivered_file = rpt_sanitize(file);	/* a path may hold any byte */
	f->delivered_off = off;
	f->delivered_excerpt = rpt_escape(bytes, len < HARNESS_EVIDENCE_MAX ? len : HARNESS_EVIDENCE_MAX);
}

/* Ranks exercised verdicts so that the worst one is kept. */
static int
severity(rpt_verdict v)
{
	switch (v) {
	case RPT_FAIL:
		return 3;
	case RPT_WARN:
		return 2;
	case RPT_INFO:
		return 1;
	default:
		return 0;
	}
}

void
rpt_scenario_exercised(rpt_scenario *sc, const char *check, rpt_verdict verdict)
{
	size_t i;

	if (check == NULL)
		return;
	for (i = 0; i < sc->nexercised; i++) {
		rpt_exercised *e = &sc->exercised[i];

		if (strcmp(e->check, check) == 0) {
			if (severity(verdict) > severity(e->verdict))
				e->verdict = verdict;
			return;
		}
	}
	sc->exercised = xgrow(sc->exercised, &sc->exercised_cap, sc->nexercised + 1,
	    sizeof(*sc->exercised));
	sc->exercised[sc->nexercised].check = xstrdup(check);
	sc->exercised[sc->nexercised].verdict = verdict;
	sc->nexercised++;
}

void
rpt_scenario_settle(rpt_scenario *sc)
{
	size_t i;

	if (sc->verdict == RPT_ERROR)
		return;
	for (i = 0; i < sc->nfindings; i++) {
		if (sc->findings[i].verdict == RPT_FAIL) {
			sc->verdict = RPT_FAIL;
			return;
		}
	}
	if (sc->verdict != RPT_SKIP)
		sc->verdict = RPT_PASS;
}

void
rpt_scenario_set(rpt_scenario *sc, rpt_verdict verdict, const char *fmt, ...)
{
	va_list ap;

	sc->verdict = verdict;
	xfree(sc->reason);
	va_start(ap, fmt);
	sc->reason = vformat(fmt, ap);
	va_end(ap);
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

void
rpt_evidence_at(rpt_evidence *ev, const cap_transcript *t, cap_dir dir,
    size_t stream_off, size_t len)
{
	size_t seg, seg_off, avail, n;
	const vbuf *stream;

	memset(ev, 0, sizeof(*ev));
	ev->dir = dir;
	if (t == NULL || (dir != CAP_C2S && dir != CAP_S2C))
		return;
	stream = &t->stream[dir];
	if (stream_off > stream->len ||
	    cap_transcript_locate(t, dir, stream_off, &seg, &seg_off) != 0)
		return;
	avail = stream->len - stream_off;
	n = min_size(min_size(len, HARNESS_EVIDENCE_MAX), avail);
	ev->present = 1;
	ev->seg = seg;
	ev->off = seg_off;
	ev->excerpt = rpt_escape(n ? stream->data + stream_off : NULL, n);
}

void
rpt_evidence_segment(rpt_evidence *ev, const cap_transcript *t, size_t seg)
{
	const cap_segment *s;

	memset(ev, 0, sizeof(*ev));
	if (t == NULL || seg >= t->nsegs)
		return;
	s = &t->segs[seg];
	ev->present = 1;
	ev->seg = seg;
	ev->off = 0;
	ev->dir = s->dir;
	if (s->kind == CAP_DATA && s->off <= t->stream[s->dir].len) {
		size_t n = min_size(min_size(s->len, HARNESS_EVIDENCE_MAX),
		    t->stream[s->dir].len - s->off);

		ev->excerpt = rpt_escape(n ? t->stream[s->dir].data + s->off : NULL, n);
	} else {
		ev->excerpt = xasprintf("<%s>", cap_kind_str(s->kind));
	}
}

const cap_transcript *
rpt_scenario_conn(const rpt_scenario *sc, size_t conn)
{
	if (conn == 0)
		return sc->transcript;
	return conn <= sc->nmore ? sc->more[conn - 1] : NULL;
}

void
rpt_evidence_clear(rpt_evidence *ev)
{
	if (ev == NULL)
		return;
	xfree(ev->excerpt);
	ev->excerpt = NULL;
	ev->present = 0;
}

char *
rpt_escape(const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *o;
	size_t i;

	/* Each byte becomes at most four ("\xHH"). */
	if (len > (SIZE_MAX - 1) / 4)
		len = (SIZE_MAX - 1) / 4;
	o = out = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		case '\\':
			*o++ = '\\';
			*o++ = '\\';
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				*o++ = (char)c;
			} else {
				*o++ = '\\';
				*o++ = 'x';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 0xf];
			}
		}
	}
	*o = '\0';
	return out;
}

/* Length of the valid UTF-8 sequence at p (that XML 1.0 also allows),
 * or 0 when the bytes there are not one. p is NUL-terminated. */
static size_t
utf8_seq(const unsigned char *p)
{
	unsigned long cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF, and the two
	 * non-characters XML 1.0 excludes. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

char *
rpt_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	vbuf b = VBUF_INIT;

	if (s == NULL)
		return NULL;
	while (*p) {
		size_t n = utf8_seq(p);

		if (n == 1 && *p >= 0x20 && *p != 0x7f) {
			vbuf_append_byte(&b, (char)*p);
		} else if (n > 1) {
			vbuf_append(&b, p, n);
		} else {
			vbuf_printf(&b, "\\x%02x", *p);
			n = 1;
		}
		p += n;
	}
	return vbuf_take(&b);
}

char *
rpt_sanitize_text(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);
	const unsigned char *p = (const unsigned char *)copy;
	vbuf b = VBUF_INIT;
	size_t i = 0;

	memcpy(copy, s ? s : "", s ? len : 0);
	copy[s ? len : 0] = '\0';
	while (s != NULL && i < len) {
		size_t n = p[i] ? utf8_seq(p + i) : 1;

		if (n == 1 && (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 && p[i] != 0x7f))) {
			vbuf_append_byte(&b, (char)p[i]);
		} else if (n > 1) {
			vbuf_append(&b, p + i, n);
		} else {
			vbuf_printf(&b, "\\x%02x", p[i]);
			n = 1;
		}
		i += n;
	}
	xfree(copy);
	vbuf_append_str(&b, "");
	return vbuf_take(&b);
}

const char *
rpt_verdict_str(rpt_verdict v)
{
	switch (v) {
	case RPT_PASS:
		return "PASS";
	case RPT_FAIL:
		return "FAIL";
	case RPT_ERROR:
		return "ERROR";
	case RPT_SKIP:
		return "SKIP";
	case RPT_WARN:
		return "WARN";
	case RPT_INFO:
		return "INFO";
	}
	return "?";
}
