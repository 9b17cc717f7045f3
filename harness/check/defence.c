/*
 * defence - a server's defences judged over a session (defence.h).
 */
#include "harness/check/defence.h"

#include <stdio.h>
#include <string.h>

#include "harness/check/mailbox.h"
#include "harness/check/passive.h"
#include "harness/util/harness_limits.h"

#define DEF_ORDERLY	"rfc5321.7.8.orderly-defence"
#define DEF_BARE	"smuggle.bare-newline-policy"

const char *const chk_defence_ids[] = { DEF_ORDERLY, DEF_BARE, NULL };

static int
def_is_rcpt(const dlg_exchange *e)
{
	return e->kind == DLG_COMMAND && e->cmd.verb == SMTP_VERB_RCPT;
}

size_t
chk_defence_refusals(const dlg *d, long close_seg)
{
	size_t run = 0;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *e = &d->ex[i];

		if (e->reply == NULL || (close_seg >= 0 && (long)e->s2c_seg_last > close_seg))
			continue;
		if (def_is_rcpt(e) && e->reply->code / 100 == 5)
			run++;
		else
			run = 0;
	}
	return run;
}

/* The last reply that came before segment seg, or NULL. */
static const smtp_reply *
def_last_reply(const dlg *d, long seg)
{
	const smtp_reply *last = NULL;

	for (size_t i = 0; i < d->nex; i++)
		if (d->ex[i].reply != NULL && (long)d->ex[i].s2c_seg_last < seg)
			last = d->ex[i].reply;
	return last;
}

/*
 * RFC 5321 §7.8: "it would be reasonable for the server to close the
 * connection after generating an appropriate number of 5yz (normally 550)
 * replies". §3.8 allows a close after 421 at any time. Anything else is a
 * silent close, which the close's own row already reports.
 */
static void
def_orderly(const dlg *d, rpt_scenario *sc)
{
	size_t n = 0, ok = 0, perm = 0, temp = 0, none = 0;
	long sclose = dlg_server_close(d);
	long cclose = dlg_client_close(d);
	const smtp_reply *last;
	rpt_evidence ev;

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *e = &d->ex[i];

		if (!def_is_rcpt(e))
			continue;
		n++;
		if (e->reply == NULL)
			none++;
		else if (e->reply->code / 100 == 2)
			ok++;
		else if (e->reply->code / 100 == 5)
			perm++;
		else
			temp++;
	}
	if (n == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	last = sclose >= 0 ? def_last_reply(d, sclose) : NULL;
	if (sclose >= 0 && (cclose < 0 || sclose < cclose) &&
	    (last == NULL || last->code != 221)) {
		size_t run = chk_defence_refusals(d, sclose);

		rpt_evidence_segment(&ev, d->t, (size_t)sclose);
		if (last != NULL && last->code == 421) {
			chk_emit(sc, DEF_ORDERLY, RPT_INFO, 0, &ev, "the server closed with 421 "
			    "after refusing %zu of %zu RCPTs with 5yz (%zu unanswered): an orderly "
			    "defensive close (RFC 5321 §7.8, §3.8)", perm, n, none);
		} else if (run >= HARNESS_DEFENCE_REFUSALS_MIN) {
			chk_emit(sc, DEF_ORDERLY, RPT_INFO, 0, &ev, "the server closed without 421 "
			    "right after %zu 5yz replies in a row (%zu of %zu RCPTs refused): a "
			    "defensive close RFC 5321 §7.8 allows", run, perm, n);
		} else {
			/* A silent close: the engine reports it under
			 * rfc5321.3.8.close-only-when-allowed where the reply was
			 * owed; one finding for one close. */
			rpt_scenario_exercised(sc, DEF_ORDERLY, RPT_FAIL);
		}
		rpt_evidence_clear(&ev);
		return;
	}
	if (ok == n)
		chk_emit(sc, DEF_ORDERLY, RPT_INFO, 0, NULL, "the server accepted all %zu RCPTs to "
		    "users that should not exist: it checks no recipient at RCPT time (a "
		    "catch-all, or the check comes later), so no defence could be seen", n);
	else if (perm == n)
		chk_emit(sc, DEF_ORDERLY, RPT_INFO, 0, NULL, "the server refused all %zu RCPTs "
		    "with 5yz and kept the session open: RFC 5321 §7.8 allows a close after a "
		    "suitable number, and does not require one", n);
	else
		chk_emit(sc, DEF_ORDERLY, RPT_INFO, 0, NULL, "of %zu RCPTs the server accepted "
		    "%zu, refused %zu with 5yz and %zu with 4yz, and left %zu unanswered; it did "
		    "not close the session", n, ok, perm, temp, none);
}

/* Content holding a bare CR or LF: refused (for now or for good: either
 * way it is not stored), or accepted. */
static void
def_bare(const dlg *d, int oracle, rpt_scenario *sc)
{
	const vbuf *c2s = &d->t->stream[CAP_C2S];

	for (size_t i = 0; i < d->nex; i++) {
		const dlg_exchange *e = &d->ex[i];
		rpt_evidence ev;

		if (e->kind != DLG_CONTENT ||
		    mbx_bare_eol(c2s->data + e->c2s_off, e->c2s_len, 0) < 0)
			continue;
		if (e->reply == NULL) {
			/* Closed before a reply: the close is the refusal (its
			 * manner is judged by rfc5321.3.8.close-only-when-allowed);
			 * cut by the harness: nothing seen. */
			if (dlg_server_close(d) >= 0)
				chk_pass(sc, DEF_BARE);
			continue;
		}
		if (e->reply->code / 100 != 2) {
			chk_pass(sc, DEF_BARE);
			continue;
		}
		if (oracle)
			continue;	/* the delivery oracle judges the copy */
		memset(&ev, 0, sizeof(ev));
		rpt_evidence_at(&ev, d->t, CAP_S2C, e->s2c_off, e->reply->raw_len);
		chk_emit(sc, DEF_BARE, RPT_INFO, 0, &ev, "the server accepted content holding a "
		    "bare LF and a bare CR with %d; the delivered copy was not inspected (run "
		    "--oracle to see whether they were stored raw)", e->reply->code);
		rpt_evidence_clear(&ev);
	}
}

void
chk_defence(const dlg *d, const char *check, int oracle, rpt_scenario *sc)
{
	if (d == NULL || check == NULL || sc == NULL)
		return;
	if (strcmp(check, DEF_ORDERLY) == 0)
		def_orderly(d, sc);
	else if (strcmp(check, DEF_BARE) == 0)
		def_bare(d, oracle, sc);
}
