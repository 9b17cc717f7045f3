/*
 * progress - per-scenario lines, and on a terminal a live status line.
 */
#include "reports/progress.h"

#include <stdlib.h>
#include <string.h>

#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"
#include "reports/baseline.h"
#include "reports/report.h"

struct rpt_progress {
	FILE *fp;
	int flags;
	size_t total;
	size_t done;
	size_t width;
	const rpt_baseline *bl;
	char **running;		/* ids, in start order */
	size_t nrunning;
	size_t running_cap;
	int drawn;		/* a status line is on screen */
};

rpt_progress *
rpt_progress_new(FILE *fp, int flags, size_t total, size_t width, const rpt_baseline *bl)
{
	rpt_progress *p = xcalloc(1, sizeof(*p));

	p->fp = fp;
	p->flags = flags;
	p->total = total;
	p->width = width ? width : 80;
	p->bl = bl;
	return p;
}

void
rpt_progress_free(rpt_progress *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrunning; i++)
		xfree(p->running[i]);
	xfree(p->running);
	xfree(p);
}

static void
erase(rpt_progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", p->fp);
		p->drawn = 0;
	}
}

/* "[done/total] running: a, b (+N more)", within width - 1 columns so
 * the terminal never wraps it. Ids are sanitized: a scenario id is ours,
 * but comes from a file. */
static void
draw(rpt_progress *p)
{
	vbuf b = VBUF_INIT;
	size_t max = p->width > 1 ? p->width - 1 : 1, shown = 0;
	char *line;

	vbuf_printf(&b, "[%zu/%zu]", p->done, p->total);
	if (p->nrunning > 0)
		vbuf_append_str(&b, " running:");
	for (size_t i = 0; i < p->nrunning; i++) {
		char *id = rpt_sanitize(p->running[i]);
		char more[48];
		size_t left = p->nrunning - i - 1;

		/* Room for this id, and for "(+N more)" should others follow. */
		snprintf(more, sizeof(more), " (+%zu more)", left);
		if (b.len + 2 + strlen(id) + (left ? strlen(more) : 0) > max && shown > 0) {
			snprintf(more, sizeof(more), " (+%zu more)", p->nrunning - i);
			vbuf_append_str(&b, more);
			xfree(id);
			break;
		}
		vbuf_append_str(&b, shown++ ? ", " : " ");
		vbuf_append_str(&b, id);
		xfree(id);
	}
	line = vbuf_take(&b);
	if (strlen(line) > max) {	/* one id longer than the terminal */
		while (max > 0 && ((unsigned char)line[max] & 0xc0) == 0x80)
			max--;	/* not inside a UTF-8 sequence */
		line[max] = '\0';
	}
	fputs(line, p->fp);
	xfree(line);
	p->drawn = 1;
}

void
rpt_progress_start(rpt_progress *p, const char *id)
{
	p->running = xgrow(p->running, &p->running_cap, p->nrunning + 1, sizeof(*p->running));
	p->running[p->nrunning++] = xstrdup(id ? id : "");
	if (p->flags & RPT_PROGRESS_TTY) {
		erase(p);
		draw(p);
		fflush(p->fp);
	}
}

static const char *
sgr(const char *word)
{
	static const struct { const char *word, *code; } colours[] = {
		{ "PASS", "32" }, { "FAIL", "1;31" }, { "ERROR", "1;33" },
		{ "SKIP", "36" }, { "KNOWN", "35" },
	};

	for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
		if (strcmp(word, colours[i].word) == 0)
			return colours[i].code;
	return NULL;
}

/* The scenario's line, with its first word (the verdict) coloured. */
static void
line(rpt_progress *p, const rpt_scenario *sc)
{
	char *buf = NULL, word[8];
	size_t len = 0, n;
	FILE *mem = open_memstream(&buf, &len);
	const char *code;

	if (mem == NULL) {
		rpt_text_scenario_line_bl(p->fp, sc, p->bl);
		return;
	}
	rpt_text_scenario_line_bl(mem, sc, p->bl);
	fclose(mem);
	n = strcspn(buf, " ");
	code = NULL;
	if (n < sizeof(word)) {
		memcpy(word, buf, n);
		word[n] = '\0';
		code = sgr(word);
	}
	if (code != NULL)
		fprintf(p->fp, "\033[%sm%s\033[0m%s", code, word, buf + n);
	else
		fputs(buf, p->fp);
	free(buf);
}

void
rpt_progress_done(rpt_progress *p, const rpt_scenario *sc)
{
	for (size_t i = 0; i < p->nrunning; i++) {
		if (strcmp(p->running[i], sc->id) == 0) {
			xfree(p->running[i]);
			memmove(&p->running[i], &p->running[i + 1],
			    (p->nrunning - i - 1) * sizeof(*p->running));
			p->nrunning--;
			break;
		}
	}
	p->done++;
	erase(p);
	if (p->flags & RPT_PROGRESS_COLOR)
		line(p, sc);
	else
		rpt_text_scenario_line_bl(p->fp, sc, p->bl);
	if ((p->flags & RPT_PROGRESS_TTY) && p->done < p->total)
		draw(p);
	fflush(p->fp);
}

void
rpt_progress_end(rpt_progress *p)
{
	if (p == NULL)
		return;
	erase(p);
	fflush(p->fp);
}

int
rpt_progress_flags(int is_tty, const char *no_color, const char *term)
{
	int flags = is_tty ? RPT_PROGRESS_TTY : 0;

	if (is_tty && (no_color == NULL || no_color[0] == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0))
		flags |= RPT_PROGRESS_COLOR;
	return flags;
}
