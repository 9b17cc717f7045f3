/*
 * run - the scheduler: resolve the target once, then keep `jobs` sessions
 * going on one loop until every scenario has run.
 *
 * When the name resolves to several addresses (localhost: ::1 and
 * 127.0.0.1), one probe connection per address, in order, finds the one
 * that answers, so that every session goes to the same place. When the
 * target cannot be reached, the scenarios not started yet are reported as
 * not run and the status says so (exit 3 at the CLI).
 */
#include "harness/engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "harness/engine/client.h"
#include "harness/check/mailbox.h"
#include "harness/engine/livecap.h"
#include "harness/engine/oracle.h"
#include "harness/engine/serve.h"
#include "harness/engine/srole.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

typedef struct run_state {
	uv_loop_t loop;
	const scn_list *list;
	const eng_config *cfg;
	struct sockaddr_storage addr;
	rpt_scenario **results;	/* by scenario index */
	size_t next;		/* next scenario to start */
	size_t running;
	size_t finished;
	unsigned jobs;
	int unreachable;
	char unreachable_msg[256];
	eng_progress_cb progress;
	void *arg;
	eng_serve *server;	/* the built-in reference server, or NULL */
	eng_config local;	/* cfg pointed at the built-in server */
	scn_vars vars;		/* its defaults, naming the server */
	eng_livecap *live;	/* --capture-iface, or NULL */
	char prefix[64];	/* the run's part of every delivery key */
	time_t began;		/* files the oracle reads changed after this */
} run_state;

typedef struct run_slot {
	run_state *rs;
	size_t index;
} run_slot;

static void run_fill(run_state *rs);

/* The built-in server and the live capture keep the loop alive: stop
 * them once no session is left to start or running. */
static void
run_maybe_stop_server(run_state *rs)
{
	if (rs->running == 0 && (rs->unreachable || rs->next >= rs->list->n)) {
		if (rs->server != NULL)
			eng_serve_stop(rs->server);
		eng_livecap_stop(rs->live);
	}
}

/* Live capture of the run's own traffic on the target's port, once that
 * port is known (the built-in server's is only once it is bound). Without
 * the privilege, or the interface, one line and the run goes on. */
static void
run_start_live(run_state *rs)
{
	char lerr[256] = "";
	char *path;
	int clients = 0;

	if (rs->cfg->capture_iface == NULL || rs->cfg->capture_dir == NULL ||
	    rs->cfg->port == NULL)
		return;
	/* Server-role sessions listen on ports of their own: only the
	 * target's traffic is captured, so without a client-role scenario
	 * there is nothing to capture. */
	for (size_t i = 0; i < rs->list->n; i++)
		if (rs->list->items[i]->role == SCN_ROLE_CLIENT)
			clients = 1;
	if (!clients)
		return;
	if (atomic_file_mkdirs(rs->cfg->capture_dir, lerr, sizeof(lerr)) != 0) {
		fprintf(stderr, "smtp-harness: no live capture (%s)\n", lerr);
		return;
	}
	path = xasprintf("%s/live.pcap", rs->cfg->capture_dir);
	rs->live = eng_livecap_start(&rs->loop, rs->cfg->capture_iface, rs->cfg->port, path,
	    lerr, sizeof(lerr));
	if (rs->live == NULL)
		fprintf(stderr, "smtp-harness: no live capture (%s); the synthesized captures "
		    "are still written\n", lerr);
	xfree(path);
}

static void
run_done(void *arg, rpt_scenario *res, const dlg *d, int unreachable)
{
	run_slot *slot = arg;
	run_state *rs = slot->rs;

	(void)d;
	rs->results[slot->index] = res;
	rs->running--;
	rs->finished++;
	if (unreachable && !rs->unreachable) {
		rs->unreachable = 1;
		snprintf(rs->unreachable_msg, sizeof(rs->unreachable_msg), "%s",
		    res->reason ? res->reason : "target unreachable");
	}
	/* With an oracle the verdict is known only after the mailbox is read. */
	if (rs->progress && rs->cfg->oracle == NULL)
		rs->progress(rs->arg, res);
	xfree(slot);
	run_fill(rs);
	run_maybe_stop_server(rs);
}

static void
run_srole_done(void *arg, rpt_scenario *res)
{
	run_done(arg, res, NULL, 0);
}

static void
run_fill(run_state *rs)
{
	while (!rs->unreachable && rs->running < rs->jobs && rs->next < rs->list->n) {
		run_slot *slot = xmalloc(sizeof(*slot));
		const scn_scenario *s;

		slot->rs = rs;
		slot->index = rs->next++;
		s = rs->list->items[slot->index];
		rs->running++;
		if (rs->cfg->started != NULL)
			rs->cfg->started(rs->arg, s->id);
		if (s->role == SCN_ROLE_SERVER) {
			eng_srole_start(&rs->loop, rs->cfg, s, run_srole_done, slot);
		} else if (s->needs_oracle && rs->cfg->oracle == NULL) {
			/* Nothing it judges can be seen: not even a connection. */
			rpt_scenario *sc = rpt_scenario_new(s->id, s->summary, s->file);

			for (size_t r = 0; r < s->nrefs; r++)
				rpt_scenario_add_ref(sc, s->refs[r]);
			rpt_scenario_set(sc, RPT_SKIP, "judged in the delivered copies: needs --oracle "
			    "(docs/oracle.md)");
			run_done(slot, sc, NULL, 0);
		} else {
			char key[96];

			snprintf(key, sizeof(key), "%s%zu-", rs->prefix, slot->index);
			eng_client_start(&rs->loop, rs->cfg, (struct sockaddr *)&rs->addr, s, key,
			    run_done, slot);
		}
	}
}

/* ---- resolving and probing ------------------------------------------- */

typedef struct run_probe {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t req;
	int closing;
	int status;		/* 0 connected, else a uv error */
	int open;
} run_probe;

static void
probe_closed(uv_handle_t *h)
{
	run_probe *p = h->data;

	p->open--;
}

static void
probe_end(run_probe *p, int status)
{
	if (p->closing)
		return;
	p->closing = 1;
	p->status = status;
	uv_close((uv_handle_t *)&p->tcp, probe_closed);
	uv_close((uv_handle_t *)&p->timer, probe_closed);
}

static void
probe_connect_cb(uv_connect_t *req, int status)
{
	probe_end(req->data, status);
}

static void
probe_timer_cb(uv_timer_t *t)
{
	probe_end(t->data, UV_ETIMEDOUT);
}

/* Connects once to addr and closes; returns 0 or a uv error. */
static int
run_probe_addr(uv_loop_t *loop, const struct sockaddr *addr, uint32_t timeout_ms)
{
	run_probe p;
	int rc;

	memset(&p, 0, sizeof(p));
	uv_tcp_init(loop, &p.tcp);
	uv_timer_init(loop, &p.timer);
	p.tcp.data = p.timer.data = p.req.data = &p;
	p.open = 2;
	rc = uv_tcp_connect(&p.req, &p.tcp, addr, probe_connect_cb);
	if (rc != 0)
		probe_end(&p, rc);
	else
		uv_timer_start(&p.timer, probe_timer_cb, timeout_ms, 0);
	while (p.open > 0)
		uv_run(loop, UV_RUN_ONCE);
	return p.status;
}

static int
run_resolve(run_state *rs, char *err, size_t errlen)
{
	uv_getaddrinfo_t req;
	struct addrinfo hints;
	struct addrinfo *ai;
	int rc;
	int last = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = uv_getaddrinfo(&rs->loop, &req, NULL, rs->cfg->host, rs->cfg->port, &hints);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", rs->cfg->host, rs->cfg->port,
		    uv_strerror(rc));
		return -1;
	}
	if (req.addrinfo->ai_next == NULL) {
		memcpy(&rs->addr, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
		uv_freeaddrinfo(req.addrinfo);
		return 0;
	}
	for (ai = req.addrinfo; ai != NULL; ai = ai->ai_next) {
		last = run_probe_addr(&rs->loop, ai->ai_addr, rs->cfg->connect_timeout_ms);
		if (last == 0) {
			memcpy(&rs->addr, ai->ai_addr, ai->ai_addrlen);
			uv_freeaddrinfo(req.addrinfo);
			return 0;
		}
	}
	uv_freeaddrinfo(req.addrinfo);
	snprintf(err, errlen, "could not connect to %s:%s: %s", rs->cfg->host, rs->cfg->port,
	    uv_strerror(last));
	return 1;
}

/* ---- the built-in server -------------------------------------------------- */

/* Starts the reference server on the run's loop and points the sessions
 * at it. Returns 0, or -1 with err set when it cannot listen. */
static int
run_start_server(run_state *rs, const eng_config *cfg, rpt_run *run, char *err, size_t errlen)
{
	eng_serve_config scfg;

	memset(&scfg, 0, sizeof(scfg));
	scfg.host = "127.0.0.1";
	scfg.port = "0";
	if (cfg->oracle != NULL && cfg->oracle->kind != ORC_MBOX)
		scfg.spool_dir = cfg->oracle->path;	/* the run reads back what it spools */
	if (eng_serve_start(&rs->loop, &scfg, &rs->server, err, errlen) != 0)
		return -1;
	rs->local = *cfg;
	rs->local.host = "127.0.0.1";
	rs->local.port = eng_serve_port(rs->server);
	if (cfg->defaults != NULL)
		for (size_t i = 0; i < cfg->defaults->n; i++)
			scn_vars_set(&rs->vars, cfg->defaults->v[i].name, cfg->defaults->v[i].value);
	scn_vars_set(&rs->vars, "target_host", rs->local.host);
	scn_vars_set(&rs->vars, "target_port", rs->local.port);
	rs->local.defaults = &rs->vars;
	rs->cfg = &rs->local;
	xfree(run->target);
	run->target = xasprintf("built-in reference server %s", eng_serve_address(rs->server));
	return 0;
}

/* ---- the delivery oracle ------------------------------------------------ */

/* "smtph" and 20 hex digits from the kernel's random source, then "s":
 * 80 bits, so that a mailbox shared with earlier runs never holds this
 * run's prefix by chance. Falls back to the time and pid. */
static void
run_prefix(run_state *rs)
{
	unsigned char r[10];
	char hex[21];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = cap_now_us() ^ ((uint64_t)getpid() << 40);

		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 37);
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	snprintf(rs->prefix, sizeof(rs->prefix), "smtph%ss", hex);
}

static uint64_t
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the oracle judges one scenario by: its dialog, its key and the
 * mailboxes the oracle reads (the session's rcpt, rcpt2, rcpt3). */
typedef struct run_judged {
	dlg *d;			/* NULL: nothing to judge */
	char key[96];
	const char *mb[3];
	dlv_oracle o;
} run_judged;

/* A variable as the session saw it: --var, the scenario's vars, the
 * built-in defaults. */
static const char *
run_var(const run_state *rs, const scn_scenario *s, const char *name)
{
	const char *v = rs->cfg->overrides ? scn_vars_get(rs->cfg->overrides, name) : NULL;

	if (v != NULL)
		return v;
	for (size_t i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			return s->vars[i].value;
	return rs->cfg->defaults ? scn_vars_get(rs->cfg->defaults, name) : NULL;
}

static void
run_judged_init(run_state *rs, size_t i, run_judged *j)
{
	static const char *const names[] = { "rcpt", "rcpt2", "rcpt3" };
	const scn_scenario *s = rs->list->items[i];
	rpt_scenario *sc = rs->results[i];

	memset(j, 0, sizeof(*j));
	if (sc == NULL || sc->transcript == NULL || s->role != SCN_ROLE_CLIENT)
		return;
	j->d = dlg_build(sc->transcript);
	snprintf(j->key, sizeof(j->key), "%s%zu-", rs->prefix, i);
	j->o.key = j->key;
	j->o.mailboxes = j->mb;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const char *v = run_var(rs, s, names[k]);

		if (v != NULL)
			j->mb[j->o.nmailboxes++] = v;
	}
}

/* 1 when every accepted transaction of every scenario has a copy. */
static int
run_oracle_complete(const run_state *rs, const run_judged *jd, const orc_found *found)
{
	for (size_t i = 0; i < rs->list->n; i++) {
		unsigned long want[64];
		size_t nwant;

		if (jd[i].d == NULL)
			continue;
		nwant = chk_delivery_accepted(jd[i].d, &jd[i].o, want, 64);
		for (size_t w = 0; w < nwant; w++) {
			int have = 0;

			for (size_t c = 0; c < found[i].n && !have; c++) {
				size_t pos = 0, at;
				unsigned long n;

				while (!have && mbx_next_token(found[i].v[c].data, found[i].v[c].len,
				    jd[i].key, &pos, &n, &at))
					have = n == want[w];
			}
			if (!have)
				return 0;
		}
	}
	return 1;
}

/* Messages were accepted for the oracle's mailboxes and none of the run's
 * was found at all: still judged as lost, but a wrong place is the
 * likelier cause, and a line says so. */
static void
run_oracle_hint(const run_state *rs, const run_judged *jd, const orc_found *found,
    uint64_t waited)
{
	size_t copies = 0;
	int accepted = 0;

	for (size_t i = 0; i < rs->list->n; i++) {
		unsigned long one;

		copies += found[i].n;
		if (jd[i].d != NULL && chk_delivery_accepted(jd[i].d, &jd[i].o, &one, 1) > 0)
			accepted = 1;
	}
	if (accepted && copies == 0)
		fprintf(stderr, "smtp-harness: oracle: no message of this run was found in %s "
		    "within %u ms: is that where the target delivers?\n", rs->cfg->oracle->path,
		    (unsigned)waited);
}

/* After the sessions: look in the oracle until every accepted message is
 * there (and, when a copy that must not appear is judged, until the
 * deadline: absence needs the whole wait), then judge each scenario. */
static void
run_oracle(run_state *rs)
{
	size_t n = rs->list->n;
	run_judged *jd = xcalloc(n ? n : 1, sizeof(*jd));
	orc_found *found = xcalloc(n ? n : 1, sizeof(*found));
	uint32_t wait = rs->cfg->oracle_wait_ms ? rs->cfg->oracle_wait_ms : HARNESS_ORACLE_WAIT_MS;
	uint64_t start = run_now_ms();
	uint64_t waited;
	int absence = 0;
	vbuf notes = VBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		run_judged_init(rs, i, &jd[i]);
		if (jd[i].d != NULL && chk_delivery_wants_absence(jd[i].d, &jd[i].o))
			absence = 1;
	}
	for (;;) {
		orc_scan(rs->cfg->oracle, rs->prefix, rs->began, found, n, &notes);
		waited = run_now_ms() - start;
		if ((!absence && run_oracle_complete(rs, jd, found)) || waited >= wait)
			break;
		{
			struct timespec ts = { 0, HARNESS_ORACLE_POLL_MS * 1000000L };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
	}
	if (notes.len > 0)
		fprintf(stderr, "smtp-harness: oracle: %s", vbuf_str(&notes));
	run_oracle_hint(rs, jd, found, waited);
	for (size_t i = 0; i < n; i++) {
		rpt_scenario *sc = rs->results[i];

		if (jd[i].d == NULL)
			continue;
		if (found[i].cut)
			fprintf(stderr, "smtp-harness: oracle: %s: more than %d copies, the rest "
			    "not judged\n", sc->id, HARNESS_ORACLE_COPIES_MAX);
		chk_delivery(jd[i].d, &jd[i].o, found[i].v, found[i].n, rs->list->items[i]->check,
		    (uint32_t)waited, sc);
		rpt_scenario_settle(sc);
		dlg_free(jd[i].d);
		orc_found_clear(&found[i]);
	}
	vbuf_free(&notes);
	xfree(jd);
	xfree(found);
}

/* ---- public ------------------------------------------------------------ */

eng_status
eng_run(const scn_list *list, const eng_config *cfg, rpt_run *run, eng_progress_cb progress,
    void *arg, char *err, size_t errlen)
{
	run_state rs;
	eng_status status = ENG_OK;
	int rc;

	memset(&rs, 0, sizeof(rs));
	if (uv_loop_init(&rs.loop) != 0) {
		snprintf(err, errlen, "cannot initialise the event loop");
		return ENG_LOCAL_ERROR;
	}
	rs.list = list;
	rs.cfg = cfg;
	rs.jobs = cfg->jobs ? cfg->jobs : uv_available_parallelism();
	rs.progress = progress;
	rs.arg = arg;
	rs.results = xcalloc(list->n ? list->n : 1, sizeof(*rs.results));
	run_prefix(&rs);
	rs.began = time(NULL) - 1;	/* file times count whole seconds */

	/* Server-role scenarios need no target: resolve or start one only
	 * when a client-role scenario will use it. */
	rc = 0;
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i]->role == SCN_ROLE_CLIENT) {
			if (cfg->builtin_server && run_start_server(&rs, cfg, run, err, errlen) != 0)
				rc = 1;
			else
				rc = run_resolve(&rs, err, errlen);
			break;
		}
	if (rc != 0) {
		status = ENG_UNREACHABLE;
		eng_serve_stop(rs.server);
		uv_run(&rs.loop, UV_RUN_DEFAULT);
	} else {
		run_start_live(&rs);
		run_fill(&rs);
		run_maybe_stop_server(&rs);
		uv_run(&rs.loop, UV_RUN_DEFAULT);
		if (rs.unreachable) {
			snprintf(err, errlen, "%s", rs.unreachable_msg);
			status = ENG_UNREACHABLE;
		}
		if (cfg->oracle != NULL) {
			run_oracle(&rs);
			for (size_t i = 0; i < list->n; i++)
				if (rs.results[i] != NULL && progress)
					progress(arg, rs.results[i]);
		}
	}
	for (size_t i = 0; i < list->n; i++) {
		rpt_scenario *sc = rs.results[i];

		if (sc == NULL) {
			const scn_scenario *s = list->items[i];

			sc = rpt_scenario_new(s->id, s->summary, s->file);
			for (size_t r = 0; r < s->nrefs; r++)
				rpt_scenario_add_ref(sc, s->refs[r]);
			rpt_scenario_set(sc, RPT_ERROR, "not run: %s", err[0] ? err : "target unreachable");
			if (progress)	/* a line for every scenario, run or not */
				progress(arg, sc);
		}
		rpt_run_add(run, sc);
	}
	if (rs.live != NULL) {
		char lerr[256] = "";

		if (eng_livecap_finish(rs.live, lerr, sizeof(lerr)) != 0)
			fprintf(stderr, "smtp-harness: live capture not written: %s\n", lerr);
	}
	xfree(rs.results);
	eng_serve_free(rs.server);
	scn_vars_free(&rs.vars);
	/* Every session closes its handles before reporting done, so a loop
	 * that does not close cleanly is a harness bug. */
	if (uv_loop_close(&rs.loop) != 0) {
		fprintf(stderr, "smtp-harness: internal error: handles left open at the end of the run\n");
		abort();
	}
	return status;
}

void
eng_default_vars(scn_vars *vars, const char *host, const char *port)
{
	scn_vars_set(vars, "helo", "harness.test");
	scn_vars_set(vars, "from", "harness@harness.test");
	scn_vars_set(vars, "rcpt", "postmaster@localhost");
	scn_vars_set(vars, "rcpt2", "postmaster@localhost");
	scn_vars_set(vars, "bad_rcpt", "no-such-user-7q2x@localhost");
	scn_vars_set(vars, "domain", "localhost");
	scn_vars_set(vars, "target_host", host);
	scn_vars_set(vars, "target_port", port);
	scn_vars_set(vars, "token", "smtph-x");	/* each session sets its own */
}
