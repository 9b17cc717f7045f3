/*
 * loadstat - statistics of a load run (see loadstat.h).
 */
#include "harness/engine/loadstat.h"

#include <assert.h>
#include <string.h>

#include "harness/check/dialog.h"
#include "harness/util/xalloc.h"

static const char *const lst_cmd_names[LST_NCMD] = {
	"connect", "ehlo", "helo", "mail", "rcpt", "data", "dot", "rset", "quit", "other"
};

const char *
lst_cmd_str(lst_cmd c)
{
	return (unsigned)c < LST_NCMD ? lst_cmd_names[c] : "other";
}

void
lst_init(lst_stats *st)
{
	memset(st, 0, sizeof(*st));
}

static void
lst_names_free(lst_names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		xfree(ns->v[i].name);
	xfree(ns->v);
	memset(ns, 0, sizeof(*ns));
}

void
lst_free(lst_stats *st)
{
	lst_names_free(&st->findings);
	lst_names_free(&st->errors);
}

static void
lst_names_count(lst_names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].name, name) == 0) {
			ns->v[i].n++;
			return;
		}
	if (ns->n >= LST_NAMES_MAX - 1 && strcmp(name, "other") != 0) {
		lst_names_count(ns, "other");
		return;
	}
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 16;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n].name = xstrdup(name);
	ns->v[ns->n].n = 1;
	ns->n++;
}

const char *
lst_error_kind(const char *reason)
{
	if (reason == NULL)
		return "other";
	if (strstr(reason, "could not connect") != NULL) {
		if (strstr(reason, "refused") != NULL)
			return "connect-refused";
		if (strstr(reason, "no answer within") != NULL || strstr(reason, "timed out") != NULL)
			return "connect-timeout";
		return "connect-failed";
	}
	if (strstr(reason, "deadline") != NULL)
		return "deadline";
	return "other";
}

static lst_cmd
lst_cmd_of(const dlg_exchange *x)
{
	switch (x->kind) {
	case DLG_GREETING:
		return LST_CONNECT;
	case DLG_CONTENT:
	case DLG_BDAT:
		return LST_DOT;
	case DLG_COMMAND:
		break;
	}
	switch (x->cmd.verb) {
	case SMTP_VERB_EHLO: return LST_EHLO;
	case SMTP_VERB_HELO: return LST_HELO;
	case SMTP_VERB_MAIL: return LST_MAIL;
	case SMTP_VERB_RCPT: return LST_RCPT;
	case SMTP_VERB_DATA: return LST_DATA;
	case SMTP_VERB_RSET: return LST_RSET;
	case SMTP_VERB_QUIT: return LST_QUIT;
	default: return LST_OTHER;
	}
}

/* When the client's part of x was complete: its last segment, or the
 * connection's open event for the greeting. 0 when unknown. */
static uint64_t
lst_sent_us(const cap_transcript *t, const dlg_exchange *x)
{
	if (x->kind == DLG_GREETING) {
		long open = cap_transcript_find(t, 0, CAP_OPEN, CAP_C2S, 1);

		return open >= 0 ? t->segs[open].ts_us : 0;
	}
	return x->c2s_seg_last < t->nsegs ? t->segs[x->c2s_seg_last].ts_us : 0;
}

/* One transaction's state while the exchanges are walked. */
typedef enum lst_txn {
	TXN_NONE = 0,
	TXN_OPEN,		/* MAIL sent, no final answer yet */
} lst_txn;

static void
lst_txn_end(lst_stats *st, lst_txn *txn, int code)
{
	if (*txn != TXN_OPEN)
		return;
	if (code >= 200 && code < 300)
		st->accepted++;
	else if (code >= 400 && code < 500)
		st->refused4++;
	else if (code >= 500 && code < 600)
		st->refused5++;
	else
		st->unanswered++;
	*txn = TXN_NONE;
}

static void
lst_add_dialog(lst_stats *st, const cap_transcript *t, const dlg *d)
{
	lst_txn txn = TXN_NONE;
	int quit_answered = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *x = &d->ex[i];
		lst_cmd c = lst_cmd_of(x);
		int code = x->reply ? x->reply->code : -1;

		if (c == LST_MAIL) {
			lst_txn_end(st, &txn, -1);	/* a MAIL before the last ended */
			st->messages++;
			txn = TXN_OPEN;
		} else if (c == LST_RCPT) {
			st->recipients++;
			if (code >= 200 && code < 300)
				st->recipients_ok++;
		}
		if (x->reply == NULL)
			continue;
		st->replies++;
		st->codes[code >= 0 && code < LST_CODES ? code : 0]++;
		{
			uint64_t t0 = lst_sent_us(t, x);
			uint64_t t1 = x->s2c_seg_last < t->nsegs ? t->segs[x->s2c_seg_last].ts_us : 0;

			if (t0 != 0 && t1 >= t0)
				histo_add(&st->latency[c], t1 - t0);
		}
		switch (c) {
		case LST_MAIL:
			if (code < 200 || code >= 300)
				lst_txn_end(st, &txn, code);
			break;
		case LST_DATA:
			if (code != 354)
				lst_txn_end(st, &txn, code);
			break;
		case LST_DOT:
			lst_txn_end(st, &txn, code);
			break;
		case LST_RSET:
			lst_txn_end(st, &txn, -1);
			break;
		case LST_QUIT:
			quit_answered = 1;
			break;
		default:
			break;
		}
	}
	lst_txn_end(st, &txn, -1);
	if (!quit_answered && (d->server_fin >= 0 || d->server_rst >= 0))
		st->server_closed_early++;
}

void
lst_add_session(lst_stats *st, const rpt_scenario *res, const dlg *d)
{
	st->sessions++;
	switch (res->verdict) {
	case RPT_PASS: st->pass++; break;
	case RPT_FAIL: st->fail++; break;
	case RPT_SKIP: st->skip++; break;
	default: st->error++; break;
	}
	if (res->verdict == RPT_ERROR)
		lst_names_count(&st->errors, lst_error_kind(res->reason));
	for (size_t i = 0; i < res->nfindings; i++)
		lst_names_count(&st->findings, res->findings[i].check);
	if (res->transcript != NULL) {
		const cap_transcript *t = res->transcript;

		assert(d == NULL || d->t == t);
		st->bytes_sent += t->stream[CAP_C2S].len;
		st->bytes_received += t->stream[CAP_S2C].len;
		if (d != NULL) {
			lst_add_dialog(st, t, d);
		} else {
			dlg *own = dlg_build(t);

			lst_add_dialog(st, t, own);
			dlg_free(own);
		}
	}
}
