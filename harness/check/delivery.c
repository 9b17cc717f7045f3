/*
 * delivery - delivered copies judged against the session (delivery.h).
 */
#include "harness/check/delivery.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/check/mailbox.h"
#include "harness/check/passive.h"
#include "harness/smtp/command.h"
#include "harness/util/xalloc.h"

#define DLV_TAKES	"rfc5321.4.2.5.2yz-takes-responsibility"
#define DLV_AFTER_ERROR	"rfc5321.4.2.5.no-delivery-after-error"
#define DLV_ABORT	"rfc5321.4.1.1.10.abort-pending-only"
#define DLV_UNCHANGED	"rfc5321.4.5.2.content-unchanged"
#define DLV_UNSTUFF	"rfc5321.4.5.2.server-dot-unstuffing"
#define DLV_8BIT	"rfc6152.3.preserve-bits"
#define DLV_RETURN_PATH	"rfc5321.4.4.return-path"
#define DLV_RECEIVED	"rfc5321.4.4.received-field"
#define DLV_BCC		"rfc5321.7.2.no-bcc-disclosure"
#define DLV_END_OF_DATA	"rfc5321.4.1.1.4.crlf-dot-crlf-only"
#define DLV_BARE	"smuggle.bare-newline-policy"
#define DLV_RCPTS_MAX	16	/* accepted recipients compared against copies' fields */

const char *const chk_delivery_ids[] = {
	DLV_TAKES, DLV_AFTER_ERROR, DLV_ABORT, DLV_UNCHANGED, DLV_UNSTUFF, DLV_8BIT,
	DLV_RETURN_PATH, DLV_RECEIVED, DLV_BCC, DLV_END_OF_DATA, DLV_BARE, NULL
};

typedef enum dlv_outcome {
	DLV_ACCEPTED,		/* 2yz after the final dot */
	DLV_REFUSED,		/* 4yz or 5yz after it */
	DLV_ABORTED,		/* the content never ended */
	DLV_UNANSWERED		/* it ended; no reply came */
} dlv_outcome;

/* One mail transaction of the session that got as far as content. */
typedef struct dlv_txn {
	unsigned long n;	/* its token's number */
	dlv_outcome outcome;
	size_t content_off;	/* C2S: the content, final dot excluded */
	size_t content_len;
	size_t reply_off;	/* S2C: the reply to the final dot, or DATA's */
	size_t reply_len;
	int code;
	const char *mail;	/* the MAIL exchange's line, or NULL */
	const char *rcpts[DLV_RCPTS_MAX];	/* accepted RCPT lines */
	size_t nrcpts;		/* accepted, counted past DLV_RCPTS_MAX too */
	int to_oracle;		/* one of them is a mailbox the oracle reads */
	const char *helo;	/* the latest accepted EHLO or HELO line, or NULL */
} dlv_txn;

typedef struct dlv_txns {
	dlv_txn *v;
	size_t n;
	size_t cap;
} dlv_txns;

static int
reply_class(const dlg_exchange *e)
{
	return e->reply != NULL && e->reply->code >= 200 ? e->reply->code / 100 : 0;
}

/* "TO:<a@b> X=1": 1 when the path is one of o's mailboxes (or o names
 * none). */
static int
to_oracle(const dlv_oracle *o, const char *line)
{
	const char *args = strchr(line, ':');
	const char *lt = args ? strchr(args, '<') : NULL;
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (o->nmailboxes == 0)
		return 1;
	if (gt == NULL)
		return 0;
	for (size_t i = 0; i < o->nmailboxes; i++)
		if (strlen(o->mailboxes[i]) == (size_t)(gt - lt - 1) &&
		    strncmp(lt + 1, o->mailboxes[i], (size_t)(gt - lt - 1)) == 0)
			return 1;
	return 0;
}

/* The session's transactions, in order, those without a token included
 * (n is then 0). */
static void
dlv_collect(const dlg *d, const dlv_oracle *o, dlv_txns *out)
{
	const char *key = o->key;
	int oracle_rcpt = 0;
	const vbuf *c2s = &d->t->stream[CAP_C2S];
	const char *mail = NULL;
	const char *helo = NULL;
	const char *rcpts[DLV_RCPTS_MAX];
	size_t nrcpts = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *e = &d->ex[i];
		dlv_txn *x;
		size_t pos;
		size_t at;
		unsigned long n;

		if (e->kind != DLG_COMMAND)
			continue;
		switch (e->cmd.verb) {
		case SMTP_VERB_EHLO:
		case SMTP_VERB_HELO:
			if (reply_class(e) == 2)
				helo = e->line;
			mail = NULL;
			nrcpts = 0;
			oracle_rcpt = 0;
			continue;
		case SMTP_VERB_RSET:
			mail = NULL;
			nrcpts = 0;
			oracle_rcpt = 0;
			continue;
		case SMTP_VERB_MAIL:
			if (reply_class(e) == 2) {
				mail = e->line;
				nrcpts = 0;
				oracle_rcpt = 0;
			}
			continue;
		case SMTP_VERB_RCPT:
			if (reply_class(e) == 2) {
				if (nrcpts < DLV_RCPTS_MAX)
					rcpts[nrcpts] = e->line;
				nrcpts++;
				if (to_oracle(o, e->line))
					oracle_rcpt = 1;
			}
			continue;
		case SMTP_VERB_DATA:
			break;
		default:
			continue;
		}
		if (e->reply == NULL || e->reply->code != 354)
			continue;
		out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		x = &out->v[out->n++];
		memset(x, 0, sizeof(*x));
		x->mail = mail;
		x->helo = helo;
		x->nrcpts = nrcpts;
		x->to_oracle = oracle_rcpt;
		memcpy(x->rcpts, rcpts, sizeof(rcpts[0]) * (nrcpts < DLV_RCPTS_MAX ? nrcpts : DLV_RCPTS_MAX));
		x->reply_off = e->s2c_off;
		x->reply_len = e->reply->raw_len;
		if (i + 1 < d->nex && d->ex[i + 1].kind == DLG_CONTENT) {
			const dlg_exchange *c = &d->ex[i + 1];

			x->content_off = c->c2s_off;
			/* Without the ".\r\n" after the last line's CRLF. */
			x->content_len = c->c2s_len >= 3 ? c->c2s_len - 3 : 0;
			if (c->reply == NULL) {
				x->outcome = DLV_UNANSWERED;
			} else {
				x->code = c->reply->code;
				x->reply_off = c->s2c_off;
				x->reply_len = c->reply->raw_len;
				x->outcome = x->code >= 200 && x->code < 300 ? DLV_ACCEPTED : DLV_REFUSED;
			}
			i++;
		} else {
			x->outcome = DLV_ABORTED;
			x->content_off = e->c2s_off + e->c2s_len;
			x->content_len = c2s->len > x->content_off ? c2s->len - x->content_off : 0;
		}
		pos = 0;
		if (mbx_next_token(c2s->data + x->content_off, x->content_len, key, &pos, &n, &at))
			x->n = n;
		/* A new transaction needs a new MAIL. */
		mail = NULL;
		nrcpts = 0;
		oracle_rcpt = 0;
	}
}

size_t
chk_delivery_accepted(const dlg *d, const dlv_oracle *o, unsigned long *out, size_t max)
{
	dlv_txns tx = { NULL, 0, 0 };
	size_t k = 0;

	dlv_collect(d, o, &tx);
	for (size_t i = 0; i < tx.n && k < max; i++)
		if (tx.v[i].outcome == DLV_ACCEPTED && tx.v[i].n != 0 && tx.v[i].to_oracle)
			out[k++] = tx.v[i].n;
	xfree(tx.v);
	return k;
}

int
chk_delivery_wants_absence(const dlg *d, const dlv_oracle *o)
{
	dlv_txns tx = { NULL, 0, 0 };
	int any = 0;

	dlv_collect(d, o, &tx);
	for (size_t i = 0; i < tx.n; i++)
		if (tx.v[i].n != 0)
			any = 1;
	xfree(tx.v);
	return any;
}

/* ---- one copy ------------------------------------------------------ */

/* The transaction a copy belongs to: the number its tokens carry most
 * often (the Message-ID and the first body line carry it twice), the
 * later one on a tie; 0 when it carries none. */
static unsigned long
copy_owner(const dlv_copy *cp, const char *key)
{
	unsigned long seen[8];
	size_t count[8];
	size_t nseen = 0;
	size_t pos = 0;
	size_t at;
	unsigned long n;
	unsigned long best = 0;
	size_t best_count = 0;

	while (mbx_next_token(cp->data, cp->len, key, &pos, &n, &at)) {
		size_t i;

		for (i = 0; i < nseen && seen[i] != n; i++)
			;
		if (i == nseen) {
			if (nseen == sizeof(seen) / sizeof(seen[0]))
				continue;	/* a copy of many transactions: the first 8 */
			seen[nseen] = n;
			count[nseen++] = 0;
		}
		if (++count[i] >= best_count) {
			best_count = count[i];
			best = n;
		}
	}
	return best;
}

static void
ev_reply(const dlg *d, const dlv_txn *x, rpt_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	rpt_evidence_at(ev, d->t, CAP_S2C, x->reply_off, x->reply_len);
}

/* Emits a finding with the reply as evidence and, when cp is not NULL,
 * the copy at off. */
static void
dlv_emit_at(rpt_scenario *sc, const char *id, rpt_verdict v, const dlg *d, const dlv_txn *x,
    const dlv_copy *cp, size_t off, const char *msg)
{
	rpt_evidence ev;
	rpt_finding *f;

	if (x != NULL)
		ev_reply(d, x, &ev);
	else
		memset(&ev, 0, sizeof(ev));
	f = chk_emit(sc, id, v, 0, &ev, "%s", msg);
	rpt_evidence_clear(&ev);
	if (cp == NULL)
		return;
	if (off > cp->len)
		off = cp->len;
	rpt_finding_delivered(f, cp->path, cp->file_off + off, cp->data + off, cp->len - off);
}

static int
has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

/* "FROM:<a@b> X=1" -> "<a@b>" (from the first '<' to the first '>' after
 * it) into out; "" when there is none. */
static void
angle_path(const char *args, char *out, size_t outlen)
{
	const char *lt = strchr(args, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	out[0] = '\0';
	if (lt != NULL && gt != NULL && (size_t)(gt - lt + 1) < outlen) {
		memcpy(out, lt, (size_t)(gt - lt + 1));
		out[gt - lt + 1] = '\0';
	}
}

static int
field_named(const char *f, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(f, name, n) == 0 && f[n] == ':';
}

/* What the fields above the content say. */
typedef struct dlv_trace {
	const char *rp;		/* the first Return-Path field */
	size_t rp_len;
	size_t rp_off;
	size_t nrp;
	const char *rcv;	/* the first Received field */
	size_t rcv_len;
	size_t rcv_off;
} dlv_trace;

static int
trace_field(void *arg, const char *f, size_t len, size_t off)
{
	dlv_trace *tr = arg;

	if (field_named(f, len, "Return-Path")) {
		if (tr->nrp++ == 0) {
			tr->rp = f;
			tr->rp_len = len;
			tr->rp_off = off;
		}
	} else if (field_named(f, len, "Received") && tr->rcv == NULL) {
		tr->rcv = f;
		tr->rcv_len = len;
		tr->rcv_off = off;
	}
	return 0;
}

/* Bcc disclosure: the fields of the copy's header section that the sent
 * content did not hold, each checked for the accepted recipients. */
typedef struct dlv_bcc {
	const dlv_txn *x;
	const char *sent;
	size_t sent_len;
	char paths[DLV_RCPTS_MAX][300];
	size_t npaths;
	int fail;		/* a Received field names several */
	int warn;		/* another field (or fields) names several */
	size_t off;
	unsigned seen;		/* recipients named by added fields, a bit each */
	size_t first_off;
} dlv_bcc;

static int
bcc_field(void *arg, const char *f, size_t len, size_t off)
{
	dlv_bcc *b = arg;
	unsigned here = 0;
	size_t named = 0;

	if (mbx_find(b->sent, b->sent_len, 0, f, len) >= 0)
		return 0;	/* as sent */
	for (size_t i = 0; i < b->npaths; i++) {
		const char *p = b->paths[i] + 1;	/* without the '<' */
		size_t plen = strlen(p) - 1;	/* nor the '>' */

		if (plen > 0 && mbx_find(f, len, 0, p, plen) >= 0) {
			here |= 1u << i;
			named++;
		}
	}
	if (named >= 2 && field_named(f, len, "Received")) {
		b->fail = 1;
		b->off = off;
		return 1;
	}
	if (here && b->seen == 0)
		b->first_off = off;
	b->seen |= here;
	return 0;
}

static size_t
popcount(unsigned v)
{
	size_t n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static void
judge_trace(const dlg *d, const dlv_txn *x, const dlv_copy *cp, size_t content_off,
    rpt_scenario *sc)
{
	dlv_trace tr;
	char want[300];
	char got[300];
	char msg[1024];

	memset(&tr, 0, sizeof(tr));
	mbx_fields(cp->data, content_off, trace_field, &tr);
	if (x->mail != NULL) {
		const char *args = strchr(x->mail, ':');

		angle_path(args ? args : "", want, sizeof(want));
		if (tr.nrp == 0) {
			snprintf(msg, sizeof(msg), "expected a Return-Path field with %s above the "
			    "delivered content (RFC 5321 §4.4), got none", want);
			dlv_emit_at(sc, DLV_RETURN_PATH, RPT_PASS, d, x, cp, 0, msg);
		} else {
			char *val = xstrndup(tr.rp + 12, tr.rp_len - 12);

			angle_path(val, got, sizeof(got));
			xfree(val);
			if (want[0] != '\0' && strcmp(want, got) != 0) {
				snprintf(msg, sizeof(msg), "expected Return-Path: %s, got %s", want,
				    got[0] ? got : "no <path>");
				dlv_emit_at(sc, DLV_RETURN_PATH, RPT_PASS, d, x, cp, tr.rp_off, msg);
			} else if (tr.nrp > 1) {
				snprintf(msg, sizeof(msg), "expected exactly one Return-Path field, got %zu",
				    tr.nrp);
				dlv_emit_at(sc, DLV_RETURN_PATH, RPT_WARN, d, x, cp, tr.rp_off, msg);
			} else {
				chk_pass(sc, DLV_RETURN_PATH);
			}
		}
	}
	if (tr.rcv == NULL) {
		dlv_emit_at(sc, DLV_RECEIVED, RPT_PASS, d, x, cp, 0, "expected a Received field "
		    "prepended above the delivered content (RFC 5321 §4.4), got none");
	} else {
		size_t i = 9;

		while (i < tr.rcv_len && isspace((unsigned char)tr.rcv[i]))
			i++;
		if (tr.rcv_len - i < 5 || strncasecmp(tr.rcv + i, "from ", 5) != 0 ||
		    (tr.rcv_len - i == 5)) {
			dlv_emit_at(sc, DLV_RECEIVED, RPT_PASS, d, x, cp, tr.rcv_off, "expected the "
			    "Received field to open with a FROM clause (RFC 5321 §4.4), got none");
		} else if (x->helo != NULL && strchr(x->helo, ' ') != NULL &&
		    mbx_find(tr.rcv, tr.rcv_len, 0, strchr(x->helo, ' ') + 1,
		    strlen(strchr(x->helo, ' ') + 1)) < 0) {
			snprintf(msg, sizeof(msg), "expected the Received FROM clause to carry the "
			    "EHLO name \"%.200s\", got a field without it", strchr(x->helo, ' ') + 1);
			dlv_emit_at(sc, DLV_RECEIVED, RPT_WARN, d, x, cp, tr.rcv_off, msg);
		} else {
			chk_pass(sc, DLV_RECEIVED);
		}
	}
}

static void
judge_bcc(const dlg *d, const dlv_txn *x, const dlv_copy *cp, const char *sent, size_t sent_len,
    rpt_scenario *sc)
{
	dlv_bcc b;
	char msg[512];

	if (x->nrcpts < 2)
		return;
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.sent = sent;
	b.sent_len = sent_len;
	for (size_t i = 0; i < x->nrcpts && i < DLV_RCPTS_MAX; i++) {
		const char *args = strchr(x->rcpts[i], ':');
		int dup = 0;

		angle_path(args ? args : "", b.paths[b.npaths], sizeof(b.paths[0]));
		for (size_t j = 0; j < b.npaths; j++)
			if (strcmp(b.paths[j], b.paths[b.npaths]) == 0)
				dup = 1;	/* the same recipient again: one address */
		if (!dup && strlen(b.paths[b.npaths]) > 2)
			b.npaths++;
	}
	if (b.npaths < 2)
		return;
	mbx_fields(cp->data, cp->len, bcc_field, &b);
	if (b.fail) {
		dlv_emit_at(sc, DLV_BCC, RPT_FAIL, d, x, cp, b.off, "expected a Received FOR clause "
		    "to name at most one recipient, got a field naming several");
	} else if (popcount(b.seen) >= 2) {
		snprintf(msg, sizeof(msg), "expected no copy to reveal the other recipients, got "
		    "fields added to the copy naming %zu of the %zu", popcount(b.seen), b.npaths);
		dlv_emit_at(sc, DLV_BCC, RPT_WARN, d, x, cp, b.first_off, msg);
	} else {
		chk_pass(sc, DLV_BCC);
	}
}

/*
 * smuggle.bare-newline-policy: what became of each bare CR and LF of the
 * sent content in a copy. The text before one (back to the previous line
 * end, at least DLV_BARE_CONTEXT octets of it) is looked for in the copy,
 * and what follows it there says: CRLF, or LF in a copy that stores its
 * line ends as LF, is a line end (normalised); the text after the octet,
 * at once or after one other octet, is the octet removed or replaced (Exim
 * puts a space for a bare LF); a CR not followed by LF, or a LF in a copy
 * whose line ends are CRLF, is the octet stored raw (WARN). A Maildir or mbox stores
 * every line end as LF, so there a bare LF kept raw and one made a line
 * end look alike: both are a line of that mailbox.
 */
#define DLV_BARE_CONTEXT	8	/* octets of text before a bare octet, at least */
#define DLV_BARE_MAX		16	/* bare octets judged per copy */

static void
judge_bare(const dlg *d, const dlv_txn *x, const dlv_copy *cp, const char *wire, size_t len,
    rpt_scenario *sc)
{
	long first_nl = mbx_find(cp->data, cp->len, 0, "\n", 1);
	int crlf_store = first_nl > 0 && cp->data[first_nl - 1] == '\r';
	size_t fixed = 0, raw = 0, lost = 0, other = 0;
	size_t raw_off = 0;
	long at = -1;
	size_t nbare = 0;
	char msg[512];

	while (nbare < DLV_BARE_MAX && (at = mbx_bare_eol(wire, len, (size_t)(at + 1))) >= 0) {
		size_t b = (size_t)at;
		size_t s = b;
		size_t e = b + 1;
		size_t after;
		long found;
		const char *p;
		size_t left;

		nbare++;
		while (s > 0 && wire[s - 1] != '\r' && wire[s - 1] != '\n')
			s--;
		while (e < len && wire[e] != '\r' && wire[e] != '\n')
			e++;
		if (b - s < DLV_BARE_CONTEXT ||
		    (found = mbx_find(cp->data, cp->len, 0, wire + s, b - s)) < 0) {
			lost++;
			continue;
		}
		after = (size_t)found + (b - s);
		p = cp->data + after;
		left = cp->len - after;
		if (left >= 2 && p[0] == '\r' && p[1] == '\n')
			fixed++;
		else if (left >= 1 && p[0] == '\n' && !crlf_store)
			fixed++;
		else if (left >= 1 && (p[0] == '\r' || p[0] == '\n')) {
			if (raw++ == 0)
				raw_off = after;
		} else if (e > b + 1 && left >= e - b - 1 && memcmp(p, wire + b + 1, e - b - 1) == 0)
			fixed++;	/* the octet removed */
		else if (e > b + 1 && left >= e - b && memcmp(p + 1, wire + b + 1, e - b - 1) == 0)
			fixed++;	/* replaced by another octet */
		else
			other++;
	}
	if (raw > 0) {
		snprintf(msg, sizeof(msg), "expected the bare CR and LF of the content refused, or "
		    "normalised to CRLF, got %zu of %zu stored raw in the delivered copy (RFC 5321 "
		    "§2.3.8; a raw one passed on is what SMTP smuggling needs)", raw, nbare);
		dlv_emit_at(sc, DLV_BARE, RPT_WARN, d, x, cp, raw_off, msg);
	} else if (lost > 0 || other > 0) {
		snprintf(msg, sizeof(msg), "expected each bare CR and LF of the content to be made "
		    "a line end, removed or refused, got %zu of %zu so, %zu altered otherwise, and "
		    "%zu whose line was not found in the delivered copy", fixed, nbare, other, lost);
		dlv_emit_at(sc, DLV_BARE, RPT_INFO, d, x, cp, 0, msg);
	} else {
		chk_pass(sc, DLV_BARE);
	}
}

/* The content of an accepted transaction against one copy. */
static void
judge_copy(const dlg *d, const char *key, const char *check, const dlv_txns *tx,
    const dlv_txn *x, const dlv_copy *cp, int eightbit, rpt_scenario *sc)
{
	const char *wire = d->t->stream[CAP_C2S].data + x->content_off;
	vbuf sent = VBUF_INIT;
	mbx_match m;
	size_t pos = 0;
	size_t at;
	unsigned long n;
	char msg[1024];

	/* Text of another transaction of this session in this copy. */
	while (mbx_next_token(cp->data, cp->len, key, &pos, &n, &at)) {
		if (n == x->n)
			continue;
		for (size_t i = 0; i < tx->n; i++)
			if (tx->v[i].n == n) {
				snprintf(msg, sizeof(msg), "expected the copy of transaction %lu to hold "
				    "its own content only, got text of transaction %lu in it", x->n, n);
				dlv_emit_at(sc, DLV_UNCHANGED, RPT_PASS, d, x, cp, at, msg);
				return;
			}
	}
	if (mbx_bare_eol(wire, x->content_len, 0) >= 0) {
		if (check != NULL && strcmp(check, DLV_BARE) == 0)
			judge_bare(d, x, cp, wire, x->content_len, sc);
		dlv_emit_at(sc, DLV_UNCHANGED, RPT_INFO, d, x, cp, 0, "content not compared line "
		    "for line: it holds a bare CR or LF, which a server may refuse or normalise "
		    "(smuggle.bare-newline-policy)");
		return;
	}
	smtp_data_unstuff(&sent, wire, x->content_len);
	mbx_match_copy(cp->data, cp->len, cp->mbox, sent.data ? sent.data : "", sent.len, &m);
	if (m.status == MBX_SAME) {
		chk_pass(sc, DLV_UNCHANGED);
		if (eightbit)
			chk_pass(sc, DLV_8BIT);
		judge_trace(d, x, cp, m.content_off, sc);
		judge_bcc(d, x, cp, sent.data, sent.len, sc);
	} else {
		const char *id = DLV_UNCHANGED;
		const char *what = "";
		size_t sl = m.sent_off;
		size_t el = sl;
		char *line;

		while (el < sent.len && sent.data[el] != '\r')
			el++;
		if (sl < sent.len && sent.data[sl] == '.')
			id = DLV_UNSTUFF;
		else if (eightbit && has_8bit(sent.data + sl, el - sl))
			id = DLV_8BIT;
		switch (m.status) {
		case MBX_NOT_FOUND:
			what = "its first line is not in the copy";
			break;
		case MBX_DIFFERENT:
			what = "this line is missing or altered";
			break;
		case MBX_CUT:
			what = "the copy ends before this line";
			break;
		case MBX_EXTRA:
			what = "the copy goes on after the content's last line";
			break;
		case MBX_SAME:
			break;
		}
		line = rpt_escape(sent.data + sl, el - sl > 120 ? 120 : el - sl);
		snprintf(msg, sizeof(msg), "expected the delivered copy to hold the content as "
		    "sent (dot-unstuffed, line for line), got a difference at content offset %zu "
		    "(\"%s\"): %s", sl, line, what);
		xfree(line);
		dlv_emit_at(sc, id, RPT_PASS, d, x, cp, m.stored_off, msg);
	}
	vbuf_free(&sent);
}

/* Evidence for a copy no transaction explains: where the client sent the
 * key without a number (${token}, the smuggled part), else nothing. */
static void
dlv_evidence_key(const dlg *d, const char *key, rpt_evidence *ev)
{
	const vbuf *c2s = &d->t->stream[CAP_C2S];
	size_t klen = strlen(key);
	long at = -1;
	size_t from = 0;

	memset(ev, 0, sizeof(*ev));
	while (c2s->len > 0 && (at = mbx_find(c2s->data, c2s->len, from, key, klen)) >= 0) {
		size_t p = (size_t)at + klen;

		if (p >= c2s->len || c2s->data[p] < '0' || c2s->data[p] > '9')
			break;
		from = (size_t)at + 1;
	}
	if (at >= 0)
		rpt_evidence_at(ev, d->t, CAP_C2S, (size_t)at, klen + 1);
}

void
chk_delivery(const dlg *d, const dlv_oracle *o, const dlv_copy *copies, size_t ncopies,
    const char *check, uint32_t waited_ms, rpt_scenario *sc)
{
	const char *key = o->key;
	dlv_txns tx = { NULL, 0, 0 };
	unsigned long *owner = xcalloc(ncopies ? ncopies : 1, sizeof(*owner));
	char msg[1024];

	dlv_collect(d, o, &tx);
	for (size_t c = 0; c < ncopies; c++)
		owner[c] = copy_owner(&copies[c], key);

	for (size_t i = 0; i < tx.n; i++) {
		const dlv_txn *x = &tx.v[i];
		size_t found = 0;
		const dlv_copy *first = NULL;
		int eightbit;

		if (x->n == 0)
			continue;	/* no token: nothing to find it by */
		for (size_t c = 0; c < ncopies; c++)
			if (owner[c] == x->n) {
				if (first == NULL)
					first = &copies[c];
				found++;
			}
		switch (x->outcome) {
		case DLV_ACCEPTED:
			if (found == 0 && !x->to_oracle) {
				snprintf(msg, sizeof(msg), "no copy of transaction %lu in the oracle within "
				    "%u ms, but none of its recipients is a mailbox the oracle reads (rcpt, "
				    "rcpt2, rcpt3): it may be delivered elsewhere or returned with a notice",
				    x->n, waited_ms);
				dlv_emit_at(sc, DLV_TAKES, RPT_INFO, d, x, NULL, 0, msg);
				break;
			}
			if (found == 0) {
				snprintf(msg, sizeof(msg), "expected the message (transaction %lu) the %d "
				    "reply accepted to be delivered, got no copy in the oracle within %u ms",
				    x->n, x->code, waited_ms);
				dlv_emit_at(sc, DLV_TAKES, RPT_PASS, d, x, NULL, 0, msg);
				break;
			}
			if (x->nrcpts > 0 && found > x->nrcpts) {
				snprintf(msg, sizeof(msg), "expected transaction %lu delivered once per "
				    "accepted recipient (%zu), got %zu copies", x->n, x->nrcpts, found);
				dlv_emit_at(sc, DLV_TAKES, RPT_PASS, d, x, first, 0, msg);
			} else {
				chk_pass(sc, DLV_TAKES);
			}
			eightbit = x->mail != NULL && strstr(x->mail, "BODY=8BITMIME") != NULL &&
			    has_8bit(d->t->stream[CAP_C2S].data + x->content_off, x->content_len);
			for (size_t c = 0; c < ncopies; c++)
				if (owner[c] == x->n)
					judge_copy(d, key, check, &tx, x, &copies[c], eightbit, sc);
			break;
		case DLV_REFUSED:
			if (found > 0) {
				snprintf(msg, sizeof(msg), "expected no delivery of transaction %lu after "
				    "the %d reply to its final dot, got %zu copies", x->n, x->code, found);
				dlv_emit_at(sc, DLV_AFTER_ERROR, RPT_PASS, d, x, first, 0, msg);
			} else {
				chk_pass(sc, DLV_AFTER_ERROR);
			}
			break;
		case DLV_ABORTED:
			if (found > 0) {
				snprintf(msg, sizeof(msg), "expected no delivery of transaction %lu, whose "
				    "content never ended (no final dot), got %zu copies", x->n, found);
				dlv_emit_at(sc, DLV_ABORT, RPT_PASS, d, x, first, 0, msg);
			} else {
				chk_pass(sc, DLV_ABORT);
			}
			break;
		case DLV_UNANSWERED:
			break;
		}
	}
	for (size_t c = 0; c < ncopies; c++) {
		const char *id = check != NULL && strncmp(check, "smuggle.", 8) == 0 ?
		    check : DLV_END_OF_DATA;
		rpt_evidence ev;
		rpt_finding *f;

		if (owner[c] != 0)
			continue;
		dlv_evidence_key(d, key, &ev);
		f = chk_emit(sc, id, RPT_FAIL, 0, &ev, "expected every delivered copy to be a "
		    "message the harness sent as one, got a copy holding the session's key but no "
		    "transaction's token: content after a sequence the server took for the end "
		    "of data");
		rpt_evidence_clear(&ev);
		rpt_finding_delivered(f, copies[c].path, copies[c].file_off, copies[c].data,
		    copies[c].len);
	}
	xfree(owner);
	xfree(tx.v);
}
