/*
 * load_out - what `smtp-harness load` prints and writes: the terminal
 * summary, the live progress line, and the JSON report (docs/load.md).
 */
#ifndef HARNESS_CLI_LOAD_OUT_H
#define HARNESS_CLI_LOAD_OUT_H

#include <stdio.h>

#include "harness/engine/load.h"

/* What the run was asked to do, for the summary and the report. */
typedef struct lout_params {
	const char *target;
	uint64_t sessions;		/* 0: until the duration */
	unsigned concurrency;
	double rate;
	uint32_t duration_ms;
	unsigned messages;		/* per session; 0 with a scenario file */
	unsigned recipients;
	uint64_t size;
	const char *pipelining;		/* "auto", "on", "off" */
	const char *scenario;		/* file, or NULL */
} lout_params;

/* The summary, in text, on f. */
void lout_text(FILE *f, const lout_params *p, const lst_stats *st, const eng_load_result *r);
/* The JSON report; returns a heap string the caller frees. */
char *lout_json(const lout_params *p, const lst_stats *st, const eng_load_result *r);
/* One progress line on f, rewritten in place ("\r", cleared when final). */
void lout_progress(FILE *f, const lst_stats *st, uint64_t open, uint64_t elapsed_us, int final);

#endif
