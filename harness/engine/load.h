/*
 * load - many client sessions at once on one loop, counted, not kept.
 *
 * Plays one compiled client-role scenario over and over against a target:
 * up to `concurrency` sessions at once, `sessions` in all (or until
 * `duration_ms` has passed), started no faster than `rate` per second.
 * Each session is the engine's ordinary client session (client.h), with
 * its deadlines and every passive check; when it ends, its result is
 * folded into the statistics (loadstat.h) and freed, so memory depends on
 * the sessions open at once, not on how many ran.
 *
 * SIGINT or SIGTERM stops starting sessions; the open ones end within
 * their deadlines and the run returns as usual. A second signal gets the
 * default action.
 *
 * With `fallback` set (pipelining "auto"), the first session runs alone:
 * when the target turns out not to advertise what `scenario` requires,
 * that session is not counted and `fallback` is played instead.
 */
#ifndef HARNESS_ENGINE_LOAD_H
#define HARNESS_ENGINE_LOAD_H

#include <stdint.h>

#include "harness/engine/engine.h"
#include "harness/engine/loadstat.h"

#define LOAD_CONCURRENCY_MAX	100000	/* sessions open at once */
#define LOAD_PACE_MS		10	/* how often --rate releases sessions */
#define LOAD_TICK_MS		500	/* how often the progress callback runs */

/* Called every LOAD_TICK_MS while the run goes, and once at the end
 * (final set), with the statistics so far and the sessions open now. */
typedef void (*eng_load_tick_cb)(void *arg, const lst_stats *st, uint64_t open,
    uint64_t elapsed_us, int final);

typedef struct eng_load_config {
	eng_config eng;			/* target, timeouts, variables */
	const scn_scenario *scenario;	/* one session */
	const scn_scenario *fallback;	/* see above, or NULL */
	uint64_t sessions;		/* 0: until duration_ms */
	unsigned concurrency;		/* 1..LOAD_CONCURRENCY_MAX */
	double rate;			/* sessions started per second; 0: no limit */
	uint32_t duration_ms;		/* 0: no limit */
	eng_load_tick_cb tick;		/* may be NULL */
	void *arg;
} eng_load_config;

typedef struct eng_load_result {
	uint64_t started_us;
	uint64_t duration_us;
	uint64_t open_peak;		/* most sessions open at once */
	int fell_back;			/* the fallback scenario was played */
} eng_load_result;

/* Runs the load; st must be lst_init'ed and receives every session.
 * ENG_UNREACHABLE (err set) when the target cannot be resolved or a
 * session could not connect at all; sessions still running then finish,
 * none is started after. */
eng_status eng_load(const eng_load_config *cfg, lst_stats *st, eng_load_result *out,
    char *err, size_t errlen);

#endif
