/*
 * load - many client sessions at once on one loop (see load.h).
 *
 * Sessions are started from three places: at the start, when a session
 * ends (to keep `concurrency` open), and from the pace timer when a rate
 * is set. Nothing is started after the duration has passed or after a
 * session found the target unreachable; the loop then runs until the
 * open sessions end by themselves, each within its own deadlines.
 */
#include "harness/engine/load.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "captures/transcript.h"
#include "harness/engine/client.h"
#include "harness/util/xalloc.h"

typedef struct load_state {
	uv_loop_t loop;
	const eng_load_config *cfg;
	const scn_scenario *s;		/* what sessions play now */
	struct sockaddr_storage addr;
	lst_stats *st;
	eng_load_result *out;
	uint64_t started;		/* sessions started */
	uint64_t open;
	uint64_t t0_us;
	int probing;			/* auto: the first session runs alone */
	int stop;			/* start nothing more */
	int unreachable;
	char unreachable_msg[256];
	uv_timer_t pace;		/* --rate */
	uv_timer_t tick;		/* progress; also ends the duration */
	uv_signal_t sigint;		/* the first SIGINT or SIGTERM stops starting */
	uv_signal_t sigterm;
	int timers_closed;
} load_state;

static void load_fill(load_state *ls);

static int
load_more(const load_state *ls)
{
	if (ls->stop || ls->unreachable)
		return 0;
	if (ls->cfg->sessions != 0 && ls->started >= ls->cfg->sessions)
		return 0;
	return 1;
}

static void
load_close_timers(load_state *ls)
{
	if (ls->timers_closed)
		return;
	ls->timers_closed = 1;
	uv_close((uv_handle_t *)&ls->pace, NULL);
	uv_close((uv_handle_t *)&ls->tick, NULL);
	uv_close((uv_handle_t *)&ls->sigint, NULL);
	uv_close((uv_handle_t *)&ls->sigterm, NULL);
}

static void
load_maybe_end(load_state *ls)
{
	if (ls->open == 0 && !load_more(ls))
		load_close_timers(ls);
}

static void
load_done(void *arg, rpt_scenario *res, const dlg *d, int unreachable)
{
	load_state *ls = arg;

	ls->open--;
	if (unreachable && !ls->unreachable) {
		ls->unreachable = 1;
		snprintf(ls->unreachable_msg, sizeof(ls->unreachable_msg), "%s",
		    res->reason ? res->reason : "target unreachable");
	}
	if (ls->probing) {
		ls->probing = 0;
		/* The reason stays when findings turned the SKIP into a FAIL. */
		if (res->reason != NULL && strstr(res->reason, "does not advertise") != NULL) {
			/* Not a load session: the probe of what the target offers. */
			ls->s = ls->cfg->fallback;
			ls->out->fell_back = 1;
			ls->started--;
			rpt_scenario_free(res);
			load_fill(ls);
			load_maybe_end(ls);
			return;
		}
	}
	lst_add_session(ls->st, res, d);
	rpt_scenario_free(res);
	load_fill(ls);
	load_maybe_end(ls);
}

static void
load_start_one(load_state *ls)
{
	ls->started++;
	ls->open++;
	if (ls->open > ls->out->open_peak)
		ls->out->open_peak = ls->open;
	eng_client_start(&ls->loop, &ls->cfg->eng, (struct sockaddr *)&ls->addr, ls->s, NULL,
	    load_done, ls);
}

/* Sessions the rate allows by now, counted from the start. */
static uint64_t
load_allowed(const load_state *ls)
{
	double secs;

	if (ls->cfg->rate <= 0)
		return UINT64_MAX;
	secs = (double)(cap_now_us() - ls->t0_us) / 1e6;
	return (uint64_t)(secs * ls->cfg->rate) + 1;
}

static void
load_fill(load_state *ls)
{
	uint64_t allowed;

	if (ls->probing)
		return;
	allowed = load_allowed(ls);
	while (load_more(ls) && ls->open < ls->cfg->concurrency && ls->started < allowed) {
		load_start_one(ls);
		if (ls->probing)
			return;
	}
}

static void
load_pace_cb(uv_timer_t *h)
{
	load_fill(h->data);
}

static void
load_tick_cb(uv_timer_t *h)
{
	load_state *ls = h->data;
	uint64_t elapsed = cap_now_us() - ls->t0_us;

	if (ls->cfg->duration_ms != 0 && elapsed >= (uint64_t)ls->cfg->duration_ms * 1000) {
		ls->stop = 1;
		load_maybe_end(ls);
	}
	if (ls->cfg->tick != NULL)
		ls->cfg->tick(ls->cfg->arg, ls->st, ls->open, elapsed, 0);
}

/* Interrupted: start nothing more and let the open sessions end, so the
 * summary still comes. A second signal gets the default action. */
static void
load_signal_cb(uv_signal_t *h, int signum)
{
	load_state *ls = h->data;

	(void)signum;
	ls->stop = 1;
	uv_signal_stop(&ls->sigint);
	uv_signal_stop(&ls->sigterm);
	load_maybe_end(ls);
}

static int
load_resolve(load_state *ls, char *err, size_t errlen)
{
	uv_getaddrinfo_t req;
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = uv_getaddrinfo(&ls->loop, &req, NULL, ls->cfg->eng.host, ls->cfg->eng.port, &hints);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", ls->cfg->eng.host,
		    ls->cfg->eng.port, uv_strerror(rc));
		return -1;
	}
	memcpy(&ls->addr, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
	uv_freeaddrinfo(req.addrinfo);
	return 0;
}

eng_status
eng_load(const eng_load_config *cfg, lst_stats *st, eng_load_result *out, char *err,
    size_t errlen)
{
	load_state ls;
	eng_status status = ENG_OK;
	uint32_t tick_ms = LOAD_TICK_MS;

	memset(&ls, 0, sizeof(ls));
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (uv_loop_init(&ls.loop) != 0) {
		snprintf(err, errlen, "cannot initialise the event loop");
		return ENG_LOCAL_ERROR;
	}
	ls.cfg = cfg;
	ls.s = cfg->scenario;
	ls.st = st;
	ls.out = out;
	if (load_resolve(&ls, err, errlen) != 0) {
		uv_loop_close(&ls.loop);
		return ENG_UNREACHABLE;
	}
	ls.t0_us = out->started_us = cap_now_us();
	uv_timer_init(&ls.loop, &ls.pace);
	uv_timer_init(&ls.loop, &ls.tick);
	uv_signal_init(&ls.loop, &ls.sigint);
	uv_signal_init(&ls.loop, &ls.sigterm);
	ls.pace.data = ls.tick.data = ls.sigint.data = ls.sigterm.data = &ls;
	uv_signal_start(&ls.sigint, load_signal_cb, SIGINT);
	uv_signal_start(&ls.sigterm, load_signal_cb, SIGTERM);
	if (cfg->rate > 0)
		uv_timer_start(&ls.pace, load_pace_cb, LOAD_PACE_MS, LOAD_PACE_MS);
	if (cfg->duration_ms != 0 && cfg->duration_ms < tick_ms)
		tick_ms = cfg->duration_ms;
	uv_timer_start(&ls.tick, load_tick_cb, tick_ms, tick_ms);
	if (cfg->fallback != NULL && load_more(&ls)) {
		ls.probing = 1;
		load_start_one(&ls);
	} else {
		load_fill(&ls);
	}
	load_maybe_end(&ls);
	uv_run(&ls.loop, UV_RUN_DEFAULT);
	out->duration_us = cap_now_us() - ls.t0_us;
	if (cfg->tick != NULL)
		cfg->tick(cfg->arg, st, 0, out->duration_us, 1);
	if (ls.unreachable) {
		snprintf(err, errlen, "%s", ls.unreachable_msg);
		status = ENG_UNREACHABLE;
	}
	/* Every session closes its handles before it reports done. */
	if (uv_loop_close(&ls.loop) != 0) {
		fprintf(stderr, "smtp-harness: internal error: handles left open at the end of the load\n");
		abort();
	}
	return status;
}
