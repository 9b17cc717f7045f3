/*
 * relay - one relay scenario run; see relay.h and docs/relay.md.
 *
 * Sessions follow libuv's rules as serve.c does: the tcp handle and the
 * idle timer are embedded, memory is released in the last close
 * callback, a write request owns its bytes, and a session is never freed
 * inside its read callback. The transcript, though, belongs to the
 * observation from the start, so a session's end only closes handles.
 */
#include "harness/engine/relay.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uv.h>

#include "fake-dns/dns_server.h"
#include "harness/engine/proc.h"
#include "harness/engine/relay_submit.h"
#include "harness/smtp/server.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

#define RELAY_READ_BUF	65536
#define RELAY_TICK_MS	100		/* how often the end conditions are looked at */

typedef struct relay_run relay_run;

typedef struct relay_host {
	relay_run *rr;
	size_t index;
	uv_tcp_t listener;
	int listening;
	uint32_t conns;		/* connections accepted so far */
} relay_host;

typedef struct relay_sess {
	relay_run *rr;
	relay_host *host;
	size_t conn;		/* index in obs->conns */
	uint32_t nth;		/* 1-based connection to its host */
	uv_tcp_t tcp;
	uv_timer_t idle;
	uv_shutdown_t shutdown_req;
	smtp_srv *srv;
	vbuf out;
	int open_handles;
	int closing;
	int ending;		/* shutting the write side down */
	struct relay_sess *next;
} relay_sess;

typedef struct relay_write {
	uv_write_t req;
	relay_sess *ss;
	char data[];
} relay_write;

struct relay_run {
	uv_loop_t loop;
	const rly_scenario *s;
	const eng_relay_config *cfg;
	chk_relay_obs *obs;
	rpt_scenario *sc;
	dns_server *dns;
	relay_host *hosts;
	relay_sess *sessions;	/* open ones */
	size_t nsessions;
	uv_timer_t tick;
	eng_proc *proc;
	char *report;		/* the client's report, when it submits (relay_submit.h) */
	uint64_t started_ms;	/* loop time at the start */
	uint64_t settled_ms;	/* loop time when everything awaited was in; 0: not yet */
	uint32_t *want;		/* deliveries the rows wait for, per host */
	uv_signal_t sigint;	/* SIGINT or SIGTERM: stop, clean up, then die of it */
	uv_signal_t sigterm;
	int signo;		/* the signal that stopped the run; 0: none */
	int stopping;
	char rbuf[RELAY_READ_BUF];
};

/* ---- the submission command ------------------------------------------------ */

char *
eng_relay_expand(const char *tmpl, const char *message, const char *from, char *const *to,
    size_t nto)
{
	vbuf b = VBUF_INIT;

	while (*tmpl) {
		if (strncmp(tmpl, "{message}", 9) == 0) {
			eng_proc_quote(&b, message);
			tmpl += 9;
		} else if (strncmp(tmpl, "{from}", 6) == 0) {
			eng_proc_quote(&b, from);
			tmpl += 6;
		} else if (strncmp(tmpl, "{to}", 4) == 0) {
			for (size_t i = 0; i < nto; i++) {
				if (i > 0)
					vbuf_append_byte(&b, ' ');
				eng_proc_quote(&b, to[i]);
			}
			tmpl += 4;
		} else {
			vbuf_append_byte(&b, *tmpl++);
		}
	}
	return vbuf_take(&b);
}

/* ---- a session ---------------------------------------------------------- */

static void
relay_sess_closed(uv_handle_t *h)
{
	relay_sess *ss = h->data;
	relay_run *rr = ss->rr;
	relay_sess **pp;

	if (--ss->open_handles > 0)
		return;
	for (pp = &rr->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ss) {
			*pp = ss->next;
			break;
		}
	rr->nsessions--;
	smtp_srv_free(ss->srv);
	vbuf_free(&ss->out);
	xfree(ss);
}

static void
relay_sess_close(relay_sess *ss)
{
	if (ss->closing)
		return;
	ss->closing = 1;
	if (ss->conn < ss->rr->obs->nconns) {
		chk_relay_conn *c = &ss->rr->obs->conns[ss->conn];

		c->end_us = cap_now_us();
		if (ss->rr->cfg->log != NULL) {
			fprintf(ss->rr->cfg->log, "relay: %s connection %u closed, %zu message%s "
			    "accepted\n", ss->rr->s->hosts[ss->host->index].name, ss->nth, c->nmsgs,
			    c->nmsgs == 1 ? "" : "s");
			fflush(ss->rr->cfg->log);
		}
	}
	uv_timer_stop(&ss->idle);
	uv_close((uv_handle_t *)&ss->tcp, relay_sess_closed);
	uv_close((uv_handle_t *)&ss->idle, relay_sess_closed);
}

static cap_transcript *
relay_sess_t(relay_sess *ss)
{
	return ss->conn < ss->rr->obs->nconns ? ss->rr->obs->conns[ss->conn].t : NULL;
}

static void
relay_write_cb(uv_write_t *req, int status)
{
	relay_write *wr = (relay_write *)req;
	relay_sess *ss = wr->ss;

	xfree(wr);
	if (status != 0 && status != UV_ECANCELED)
		relay_sess_close(ss);
}

static void
relay_shutdown_cb(uv_shutdown_t *req, int status)
{
	(void)status;
	relay_sess_close(req->data);
}

/* Writes out what was gathered, recording it S2C. */
static void
relay_sess_flush(relay_sess *ss)
{
	relay_write *wr;
	uv_buf_t buf;
	cap_transcript *t = relay_sess_t(ss);

	if (ss->out.len == 0 || ss->closing)
		return;
	if (t != NULL)
		(void)cap_transcript_add_data(t, CAP_S2C, cap_now_us(), ss->out.data, ss->out.len);
	wr = xmalloc(sizeof(*wr) + ss->out.len);
	wr->ss = ss;
	memcpy(wr->data, ss->out.data, ss->out.len);
	buf = uv_buf_init(wr->data, (unsigned int)ss->out.len);
	vbuf_reset(&ss->out);
	if (uv_write(&wr->req, (uv_stream_t *)&ss->tcp, &buf, 1, relay_write_cb) != 0) {
		xfree(wr);
		relay_sess_close(ss);
	}
}

/* The host's side is done: shut the write side down once the replies are
 * out (the FIN recorded), then close. */
static void
relay_sess_end(relay_sess *ss)
{
	cap_transcript *t = relay_sess_t(ss);

	if (ss->ending || ss->closing)
		return;
	ss->ending = 1;
	if (t != NULL)
		(void)cap_transcript_add_event(t, CAP_FIN, CAP_S2C, cap_now_us());
	uv_read_stop((uv_stream_t *)&ss->tcp);
	ss->shutdown_req.data = ss;
	if (uv_shutdown(&ss->shutdown_req, (uv_stream_t *)&ss->tcp, relay_shutdown_cb) != 0)
		relay_sess_close(ss);
}

static void
relay_idle_cb(uv_timer_t *t)
{
	relay_sess *ss = t->data;

	smtp_srv_timeout(ss->srv, &ss->out);
	relay_sess_flush(ss);
	relay_sess_end(ss);
}

static void
relay_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	relay_sess *ss = h->data;

	(void)suggested;
	*buf = uv_buf_init(ss->rr->rbuf, sizeof(ss->rr->rbuf));
}

static void
relay_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	relay_sess *ss = stream->data;
	cap_transcript *t = relay_sess_t(ss);

	if (nread == 0)
		return;
	if (nread < 0) {
		if (t != NULL)
			(void)cap_transcript_add_event(t, nread == UV_EOF ? CAP_FIN : CAP_RST,
			    CAP_C2S, cap_now_us());
		relay_sess_close(ss);
		return;
	}
	if (t != NULL)
		(void)cap_transcript_add_data(t, CAP_C2S, cap_now_us(), buf->base, (size_t)nread);
	uv_timer_again(&ss->idle);
	smtp_srv_feed(ss->srv, buf->base, (size_t)nread, &ss->out);
	relay_sess_flush(ss);
	if (smtp_srv_closed(ss->srv))
		relay_sess_end(ss);
}

/* The host's faults, for its first faults_for connections (all when 0). */
static int
relay_fault(void *arg, const char *what, const char *mailbox)
{
	relay_sess *ss = arg;
	const rly_host *h = &ss->rr->s->hosts[ss->host->index];

	if (h->faults_for != 0 && ss->nth > h->faults_for)
		return 0;
	if (strcmp(what, "MAIL") == 0)
		return h->mail == RLY_DROP ? SMTP_SRV_FAULT_DROP : h->mail;
	if (strcmp(what, "RCPT") == 0) {
		for (size_t i = 0; mailbox != NULL && i < h->nrcpt_codes; i++)
			if (strcasecmp(h->rcpt_codes[i].mailbox, mailbox) == 0)
				return h->rcpt_codes[i].code == RLY_DROP ? SMTP_SRV_FAULT_DROP :
				    h->rcpt_codes[i].code;
		return h->rcpt == RLY_DROP ? SMTP_SRV_FAULT_DROP : h->rcpt;
	}
	if (strcmp(what, "DATA") == 0)
		return h->data == RLY_DROP ? SMTP_SRV_FAULT_DROP : h->data;
	return 0;
}

static int
relay_deliver(void *arg, const smtp_srv_msg *m, char *id, size_t idlen)
{
	relay_sess *ss = arg;
	chk_relay_conn *c = &ss->rr->obs->conns[ss->conn];
	const char **rcpts = xcalloc(m->nrcpts + 1, sizeof(char *));
	const char **notify = xcalloc(m->nrcpts + 1, sizeof(char *));

	for (size_t i = 0; i < m->nrcpts; i++) {
		rcpts[i] = m->rcpts[i].mailbox;
		notify[i] = m->rcpts[i].notify;
	}
	chk_relay_msg *cm = chk_relay_conn_add_msg(c, m->mail_from, m->ret, rcpts, notify,
	    m->nrcpts, m->content, m->content_len);

	cm->envid = m->envid ? xstrdup(m->envid) : NULL;
	for (size_t i = 0; i < m->nrcpts; i++)
		cm->orcpt[i] = m->rcpts[i].orcpt ? xstrdup(m->rcpts[i].orcpt) : NULL;
	xfree(rcpts);
	xfree(notify);
	snprintf(id, idlen, "%s.%u.%zu", ss->rr->s->hosts[ss->host->index].name, ss->nth, c->nmsgs);
	if (ss->rr->cfg->log != NULL) {
		fprintf(ss->rr->cfg->log, "relay: %s accepted a message from <%s>, %zu octets\n",
		    ss->rr->s->hosts[ss->host->index].name, m->mail_from, m->content_len);
		fflush(ss->rr->cfg->log);
	}
	return 0;
}

static void
relay_connection_cb(uv_stream_t *listener, int status)
{
	relay_host *hh = listener->data;
	relay_run *rr = hh->rr;
	const rly_host *h = &rr->s->hosts[hh->index];
	relay_sess *ss;
	smtp_srv_config scfg;
	struct sockaddr_storage peer, self;
	int plen = sizeof(peer), slen = sizeof(self);
	chk_relay_conn *c;
	char *hostname;

	if (status != 0)
		return;
	ss = xcalloc(1, sizeof(*ss));
	ss->rr = rr;
	ss->host = hh;
	ss->conn = SIZE_MAX;
	uv_tcp_init(&rr->loop, &ss->tcp);
	uv_timer_init(&rr->loop, &ss->idle);
	ss->tcp.data = ss->idle.data = ss;
	ss->open_handles = 2;
	ss->next = rr->sessions;
	rr->sessions = ss;
	rr->nsessions++;
	hostname = xasprintf("%s.relay.harness.test", h->name);
	memset(&scfg, 0, sizeof(scfg));
	scfg.hostname = hostname;
	scfg.deliver = relay_deliver;
	scfg.deliver_arg = ss;
	scfg.fault = relay_fault;
	scfg.fault_arg = ss;
	scfg.no_dsn = h->no_dsn;
	ss->srv = smtp_srv_new(&scfg);
	xfree(hostname);
	if (uv_accept(listener, (uv_stream_t *)&ss->tcp) != 0 || rr->stopping) {
		relay_sess_close(ss);
		return;
	}
	ss->nth = ++hh->conns;
	if (rr->obs->nconns >= HARNESS_RELAY_CONNS_MAX) {
		rr->obs->conns_lost++;
		relay_sess_close(ss);
		return;
	}
	memset(&peer, 0, sizeof(peer));
	memset(&self, 0, sizeof(self));
	(void)uv_tcp_getpeername(&ss->tcp, (struct sockaddr *)&peer, &plen);
	(void)uv_tcp_getsockname(&ss->tcp, (struct sockaddr *)&self, &slen);
	rr->obs->conns = xrealloc(rr->obs->conns, (rr->obs->nconns + 1) * sizeof(*rr->obs->conns));
	c = &rr->obs->conns[rr->obs->nconns];
	memset(c, 0, sizeof(*c));
	c->host = hh->index;
	c->start_us = cap_now_us();
	c->t = cap_transcript_new((struct sockaddr *)&peer, (struct sockaddr *)&self);
	(void)cap_transcript_add_event(c->t, CAP_OPEN, CAP_C2S, c->start_us);
	ss->conn = rr->obs->nconns++;
	rr->settled_ms = 0;
	if (rr->cfg->log != NULL) {
		fprintf(rr->cfg->log, "relay: %s connection %u from the MTA\n", h->name, ss->nth);
		fflush(rr->cfg->log);
	}
	uv_timer_start(&ss->idle, relay_idle_cb, HARNESS_RELAY_IDLE_MS, HARNESS_RELAY_IDLE_MS);
	if (h->greet != RLY_ACCEPT && (h->faults_for == 0 || ss->nth <= h->faults_for)) {
		vbuf_printf(&ss->out, "%d %d.3.2 %s.relay.harness.test not now\r\n", h->greet,
		    h->greet / 100, h->name);
		relay_sess_flush(ss);
		relay_sess_end(ss);
		return;
	}
	smtp_srv_greeting(ss->srv, &ss->out);
	relay_sess_flush(ss);
	if (uv_read_start((uv_stream_t *)&ss->tcp, relay_alloc_cb, relay_read_cb) != 0)
		relay_sess_close(ss);
}

/* ---- the run ------------------------------------------------------------ */

static void
relay_proc_ended(void *arg)
{
	relay_run *rr = arg;

	if (rr->report != NULL && rr->obs->submit_error == NULL)
		rr->obs->submit_error = eng_relay_submit_judge(rr->report);
}

static void
relay_proc_freed(void *arg)
{
	relay_run *rr = arg;

	rr->proc = NULL;
}

static void
relay_stop(relay_run *rr)
{
	if (rr->stopping)
		return;
	rr->stopping = 1;
	uv_timer_stop(&rr->tick);
	uv_close((uv_handle_t *)&rr->tick, NULL);
	uv_close((uv_handle_t *)&rr->sigint, NULL);
	uv_close((uv_handle_t *)&rr->sigterm, NULL);
	for (size_t i = 0; i < rr->s->nhosts; i++)
		if (rr->hosts[i].listening) {
			rr->hosts[i].listening = 0;
			uv_close((uv_handle_t *)&rr->hosts[i].listener, NULL);
		}
	for (relay_sess *ss = rr->sessions; ss != NULL; ss = ss->next)
		relay_sess_close(ss);
	if (rr->dns != NULL)
		dns_server_stop(rr->dns);
	if (rr->proc != NULL)
		eng_proc_free(rr->proc, relay_proc_freed, rr);
}

/* Interrupted: stop as at the end of the window, so that the message
 * files go; eng_relay_run then dies of the same signal. The namespace
 * and what runs in it are the watchdog's (netns.h). */
static void
relay_signal_cb(uv_signal_t *h, int signum)
{
	relay_run *rr = h->data;

	if (rr->signo == 0)
		rr->signo = signum;
	relay_stop(rr);
}

/* 1 when every delivery the rows wait for has come. */
static int
relay_all_in(relay_run *rr)
{
	int any = 0;

	for (size_t h = 0; h < rr->s->nhosts; h++) {
		size_t got = 0;

		if (rr->want[h] == 0)
			continue;
		any = 1;
		for (size_t i = 0; i < rr->obs->nconns; i++)
			if (rr->obs->conns[i].host == h)
				got += rr->obs->conns[i].nmsgs;
		if (got < rr->want[h])
			return 0;
	}
	return any;
}

static void
relay_tick_cb(uv_timer_t *t)
{
	relay_run *rr = t->data;
	uint64_t now = uv_now(&rr->loop);
	rpt_client *cl = rr->sc->client;

	if (now - rr->started_ms >= rr->s->within_ms) {
		relay_stop(rr);
		return;
	}
	if (rr->proc != NULL && eng_proc_ended(rr->proc) && cl != NULL &&
	    (rr->report != NULL ? rr->obs->submit_error != NULL :
	    !(cl->exited && cl->term_signal == 0 && cl->exit_status == 0))) {
		relay_stop(rr);	/* the submission failed: nothing will come */
		return;
	}
	if (rr->proc != NULL && !eng_proc_ended(rr->proc) &&
	    now - rr->started_ms >= HARNESS_RELAY_SUBMIT_MS)
		eng_proc_kill(rr->proc);
	if (rr->nsessions == 0 && relay_all_in(rr)) {
		if (rr->settled_ms == 0)
			rr->settled_ms = now;
		else if (now - rr->settled_ms >= rr->s->settle_ms)
			relay_stop(rr);
	} else {
		rr->settled_ms = 0;
	}
}

/* Deliveries the rows wait for, per host: a "deliveries" count, and one
 * for every row that judges what a host accepted. */
static void
relay_wants(relay_run *rr)
{
	for (size_t i = 0; i < rr->s->nexpects; i++) {
		const rly_expect *e = &rr->s->expects[i];

		switch (e->kind) {
		case RLY_DELIVERIES:
			for (size_t k = 0; k < e->ncounts; k++)
				if (e->counts[k].n > rr->want[e->counts[k].host])
					rr->want[e->counts[k].host] = e->counts[k].n;
			break;
		case RLY_SAME_CONTENT:
		case RLY_RECEIVED:
		case RLY_BOUNCE:
		case RLY_DSN_ENVELOPE:
		case RLY_DSN_REPORT:
		case RLY_NO_BARE_LINE_ENDS:
		case RLY_DSN_PARAMS:
		case RLY_RCPTS:
		case RLY_LOCALPARTS:
		case RLY_NOTICES:
		case RLY_NO_DSN_PARAMS:
		case RLY_DSN_RETURN:
		case RLY_RETRY:
			if (rr->want[e->host] == 0)
				rr->want[e->host] = 1;
			break;
		default:
			break;
		}
	}
}

/* Writes the message (CRLF line ends, as on the wire: a line's bare CR or
 * LF stays distinguishable; sendmail programs take CRLF too) to
 * DIR/message; returns its path, or NULL with err. */
static char *
relay_write_message(const rly_scenario *s, const char *dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/message", dir);
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		xfree(path);
		return NULL;
	}
	for (size_t i = 0; i < s->nlines; i++)
		fprintf(f, "%s\r\n", s->lines[i]);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		xfree(path);
		return NULL;
	}
	return path;
}

static int
relay_listen(relay_run *rr, size_t i, char *err, size_t errlen)
{
	const rly_host *h = &rr->s->hosts[i];
	relay_host *hh = &rr->hosts[i];
	struct sockaddr_in sa;
	int rc;

	hh->rr = rr;
	hh->index = i;
	if (h->refuse)
		return 0;
	uv_tcp_init(&rr->loop, &hh->listener);
	hh->listener.data = hh;
	hh->listening = 1;
	rc = uv_ip4_addr(h->addr, atoi(h->port), &sa);
	if (rc == 0)
		rc = uv_tcp_bind(&hh->listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&hh->listener, 64, relay_connection_cb);
	if (rc != 0) {
		snprintf(err, errlen, "host %s: cannot listen on %s:%s: %s", h->name, h->addr, h->port,
		    uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void
relay_copy_queries(relay_run *rr)
{
	size_t n = 0;
	const dns_log_entry *e = dns_server_log(rr->dns, &n);

	rr->obs->queries = xcalloc(n ? n : 1, sizeof(*rr->obs->queries));
	for (size_t i = 0; i < n; i++) {
		chk_relay_query *q = &rr->obs->queries[i];
		vbuf line = VBUF_INIT;

		q->ms = e[i].query_ms;
		q->qname = e[i].qname ? xstrdup(e[i].qname) : NULL;
		q->qtype = e[i].qtype;
		q->rcode = e[i].rcode;
		dns_server_log_format(&e[i], &line);
		q->line = vbuf_take(&line);
		if (q->line == NULL)
			q->line = xstrdup("");
	}
	rr->obs->nqueries = n;
}

int
eng_relay_run(const rly_scenario *s, const eng_relay_config *cfg, rpt_scenario *sc,
    chk_relay_obs *obs, char *err, size_t errlen)
{
	relay_run *rr = xcalloc(1, sizeof(*rr));
	dns_server_config dcfg;
	const char *tmpdir = getenv("TMPDIR");
	char *tmpl, *msg = NULL, *cmd = NULL;
	const char *submit = s->command ? s->command : cfg->submit_cmd;
	char perr[256] = "";
	int rc = -1, made = 0, signo;

	err[0] = '\0';
	if (submit == NULL && cfg->submit_smtp == NULL) {
		snprintf(err, errlen, "%s: no submission command: give \"command\" in \"submission\", "
		    "--submit-cmd or --submit-smtp", s->file);
		xfree(rr);
		return -1;
	}
	if (uv_loop_init(&rr->loop) != 0) {
		snprintf(err, errlen, "cannot initialise the event loop");
		xfree(rr);
		return -1;
	}
	rr->s = s;
	rr->cfg = cfg;
	rr->obs = obs;
	rr->sc = sc;
	rr->hosts = xcalloc(s->nhosts, sizeof(*rr->hosts));
	rr->want = xcalloc(s->nhosts, sizeof(*rr->want));
	relay_wants(rr);
	uv_timer_init(&rr->loop, &rr->tick);
	rr->tick.data = rr;
	uv_signal_init(&rr->loop, &rr->sigint);
	uv_signal_init(&rr->loop, &rr->sigterm);
	rr->sigint.data = rr->sigterm.data = rr;
	uv_signal_start(&rr->sigint, relay_signal_cb, SIGINT);
	uv_signal_start(&rr->sigterm, relay_signal_cb, SIGTERM);
	tmpl = xasprintf("%s/smtp-harness-relay.XXXXXX",
	    tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp");

	memset(&dcfg, 0, sizeof(dcfg));
	dcfg.host = cfg->dns_host ? cfg->dns_host : "127.0.0.1";
	dcfg.port = cfg->dns_port ? cfg->dns_port : "53";
	dcfg.zone = s->zone;
	dcfg.log = cfg->log;
	if (dns_server_start(&rr->loop, &dcfg, &rr->dns, err, errlen) != 0)
		goto stop;
	for (size_t i = 0; i < s->nhosts; i++)
		if (relay_listen(rr, i, err, errlen) != 0)
			goto stop;
	if (mkdtemp(tmpl) == NULL) {
		snprintf(err, errlen, "cannot make a directory for the message: %s", strerror(errno));
		goto stop;
	}
	made = 1;
	if ((msg = relay_write_message(s, tmpl, err, errlen)) == NULL)
		goto stop;
	if (submit != NULL) {
		cmd = eng_relay_expand(submit, msg, s->from, s->to, s->nto);
	} else {
		cmd = eng_relay_submit_write(s, tmpl, cfg->submit_smtp, &rr->report, err, errlen);
		if (cmd == NULL)
			goto stop;
		obs->submit_smtp = 1;
	}
	obs->submitted_us = cap_now_us();
	rr->started_ms = uv_now(&rr->loop);
	rr->proc = eng_proc_start(&rr->loop, cmd, rpt_scenario_client(sc), relay_proc_ended, rr,
	    perr, sizeof(perr));
	if (perr[0] != '\0') {
		snprintf(err, errlen, "submission command: %s", perr);
		goto stop;
	}
	uv_timer_start(&rr->tick, relay_tick_cb, RELAY_TICK_MS, RELAY_TICK_MS);
	rc = 0;
stop:
	if (rc == 0)
		uv_run(&rr->loop, UV_RUN_DEFAULT);
	relay_stop(rr);
	uv_run(&rr->loop, UV_RUN_DEFAULT);
	if (rr->dns != NULL) {
		relay_copy_queries(rr);
		dns_server_free(rr->dns);
	}
	if (uv_loop_close(&rr->loop) != 0) {
		fprintf(stderr, "smtp-harness: internal error: relay run left handles open\n");
		abort();
	}
	if (msg != NULL) {
		unlink(msg);
		xfree(msg);
	}
	if (made) {
		char *sub = xasprintf("%s/submission.json", tmpl);

		unlink(sub);
		xfree(sub);
		if (rr->report != NULL)
			unlink(rr->report);
		rmdir(tmpl);
	}
	xfree(tmpl);
	xfree(rr->report);
	xfree(cmd);
	xfree(rr->hosts);
	xfree(rr->want);
	signo = rr->signo;
	xfree(rr);
	if (signo != 0) {
		signal(signo, SIG_DFL);
		raise(signo);
	}
	return rc;
}
