/*
 * progress - the lines a run prints while it goes.
 *
 * Not on a terminal, each finished scenario is one plain line (the text
 * report's, rpt_text_scenario_line_bl) and nothing else, so logs and
 * scripts see exactly that. On a terminal (RPT_PROGRESS_TTY) the same
 * lines are printed above a status line that is redrawn in place:
 * "[12/60] running: a.b, c.d (+3 more)", cut to the terminal's width and
 * erased before the summary. With RPT_PROGRESS_COLOR the verdict word of
 * each line is coloured. The caller gets both flags from
 * rpt_progress_flags, which honours NO_COLOR (https://no-color.org) and
 * TERM=dumb.
 *
 * The writer owns copies of the running ids; the baseline it is given
 * must outlive it. Nothing here knows a terminal: the caller says whether
 * the stream is one, so tests can pass the flags on a memory stream.
 */
#ifndef REPORTS_PROGRESS_H
#define REPORTS_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "reports/result.h"

#define RPT_PROGRESS_TTY	0x1	/* redraw a status line in place */
#define RPT_PROGRESS_COLOR	0x2	/* colour verdict words (ANSI SGR) */

struct rpt_baseline;
typedef struct rpt_progress rpt_progress;

/* A writer on fp for a run of total scenarios; width is the terminal's
 * columns (0: 80). bl (may be NULL) shows failures it accepts as KNOWN. */
rpt_progress *rpt_progress_new(FILE *fp, int flags, size_t total, size_t width,
    const struct rpt_baseline *bl);
/* Frees p; NULL is fine. Call rpt_progress_end first. */
void rpt_progress_free(rpt_progress *p);
/* A scenario started (terminal: it joins the status line). */
void rpt_progress_start(rpt_progress *p, const char *id);
/* A scenario finished: its line, then the status line again. */
void rpt_progress_done(rpt_progress *p, const rpt_scenario *sc);
/* Erases the status line, so the summary starts on a clean line. */
void rpt_progress_end(rpt_progress *p);

/* The flags for a stream: RPT_PROGRESS_TTY when is_tty (as the caller
 * found it with isatty), and then RPT_PROGRESS_COLOR unless no_color
 * (getenv("NO_COLOR")) is set and not empty, or term (getenv("TERM"))
 * is "dumb". */
int rpt_progress_flags(int is_tty, const char *no_color, const char *term);

#endif
