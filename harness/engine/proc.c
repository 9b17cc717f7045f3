/*
 * proc - the client under test as a child process (proc.h).
 */
#include "harness/engine/proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "captures/transcript.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

struct eng_proc {
	uv_process_t proc;
	uv_pipe_t pipe[2];	/* stdout, stderr */
	uv_timer_t kill_timer;
	int open_handles;
	int running;
	int pipe_open[2];
	int ended;
	uint64_t started_us;
	rpt_client *out;
	vbuf buf[2];
	eng_proc_ended_cb ended_cb;
	void *arg;
	eng_proc_freed_cb freed;
	void *freed_arg;
	char rbuf[16 * 1024];
};

static void
proc_maybe_ended(eng_proc *p)
{
	if (p->ended || p->running || p->pipe_open[0] || p->pipe_open[1])
		return;
	p->ended = 1;
	uv_timer_stop(&p->kill_timer);
	p->out->duration_ms = (cap_now_us() - p->started_us) / 1000;
	p->out->out_len = p->buf[0].len;
	p->out->out = vbuf_take(&p->buf[0]);
	p->out->err_len = p->buf[1].len;
	p->out->err = vbuf_take(&p->buf[1]);
	p->ended_cb(p->arg);
}

static void
proc_exit_cb(uv_process_t *h, int64_t status, int sig)
{
	eng_proc *p = h->data;

	p->running = 0;
	p->out->exited = 1;
	p->out->exit_status = (int)status;
	p->out->term_signal = sig;
	proc_maybe_ended(p);
}

static void
proc_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	eng_proc *p = h->data;

	(void)suggested;
	*buf = uv_buf_init(p->rbuf, sizeof(p->rbuf));
}

static void
proc_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	eng_proc *p = s->data;
	int i = s == (uv_stream_t *)&p->pipe[0] ? 0 : 1;

	if (nread > 0) {
		size_t room = HARNESS_CLIENT_OUTPUT_MAX - p->buf[i].len;
		size_t n = (size_t)nread < room ? (size_t)nread : room;

		vbuf_append(&p->buf[i], buf->base, n);
		if (n < (size_t)nread) {
			if (i == 0)
				p->out->out_cut = 1;
			else
				p->out->err_cut = 1;
		}
	} else if (nread < 0) {
		uv_read_stop(s);
		p->pipe_open[i] = 0;
		proc_maybe_ended(p);
	}
}

static void
proc_kill_timer_cb(uv_timer_t *t)
{
	eng_proc *p = t->data;

	if (p->running)
		uv_process_kill(&p->proc, SIGKILL);
}

eng_proc *
eng_proc_start(uv_loop_t *loop, const char *cmd, rpt_client *out, eng_proc_ended_cb ended,
    void *arg, char *err, size_t errlen)
{
	eng_proc *p = xcalloc(1, sizeof(*p));
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	char *args[4];
	int rc;

	p->out = out;
	p->ended_cb = ended;
	p->arg = arg;
	xfree(out->cmd);
	out->cmd = xstrdup(cmd);
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &p->pipe[i], 0);
		p->pipe[i].data = p;
	}
	uv_timer_init(loop, &p->kill_timer);
	p->kill_timer.data = p;
	p->open_handles = 3;
	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&p->pipe[0];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&p->pipe[1];
	args[0] = "/bin/sh";
	args[1] = "-c";
	args[2] = (char *)cmd;
	args[3] = NULL;
	opt.file = args[0];
	opt.args = args;
	opt.exit_cb = proc_exit_cb;
	opt.stdio = stdio;
	opt.stdio_count = 3;
	p->proc.data = p;
	p->started_us = cap_now_us();
	rc = uv_spawn(loop, &p->proc, &opt);
	p->open_handles++;	/* uv_spawn initialises the handle even when it fails */
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the client command: %s", uv_strerror(rc));
		p->ended = 1;
		return p;
	}
	p->running = 1;
	for (int i = 0; i < 2; i++) {
		p->pipe_open[i] = 1;
		uv_read_start((uv_stream_t *)&p->pipe[i], proc_alloc_cb, proc_read_cb);
	}
	err[0] = '\0';
	return p;
}

int
eng_proc_ended(const eng_proc *p)
{
	return p->ended;
}

void
eng_proc_kill(eng_proc *p)
{
	if (!p->running || p->out->killed)
		return;
	p->out->killed = 1;
	uv_process_kill(&p->proc, SIGTERM);
	uv_timer_start(&p->kill_timer, proc_kill_timer_cb, HARNESS_CLIENT_KILL_GRACE_MS, 0);
}

static void
proc_closed_cb(uv_handle_t *h)
{
	eng_proc *p = h->data;

	if (--p->open_handles > 0)
		return;
	vbuf_free(&p->buf[0]);
	vbuf_free(&p->buf[1]);
	if (p->freed)
		p->freed(p->freed_arg);
	xfree(p);
}

void
eng_proc_free(eng_proc *p, eng_proc_freed_cb freed, void *arg)
{
	p->freed = freed;
	p->freed_arg = arg;
	if (p->running)
		uv_process_kill(&p->proc, SIGKILL);
	uv_close((uv_handle_t *)&p->proc, proc_closed_cb);
	uv_close((uv_handle_t *)&p->pipe[0], proc_closed_cb);
	uv_close((uv_handle_t *)&p->pipe[1], proc_closed_cb);
	uv_close((uv_handle_t *)&p->kill_timer, proc_closed_cb);
}

void
eng_proc_quote(vbuf *b, const char *s)
{
	vbuf_append_byte(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			vbuf_append_str(b, "'\\''");
		else
			vbuf_append_byte(b, *s);
	}
	vbuf_append_byte(b, '\'');
}

char *
eng_proc_expand(const char *tmpl, const char *host, const char *port, const char *message)
{
	vbuf b = VBUF_INIT;

	while (*tmpl) {
		if (strncmp(tmpl, "{host}", 6) == 0) {
			eng_proc_quote(&b, host);
			tmpl += 6;
		} else if (strncmp(tmpl, "{port}", 6) == 0) {
			eng_proc_quote(&b, port);
			tmpl += 6;
		} else if (strncmp(tmpl, "{message}", 9) == 0) {
			eng_proc_quote(&b, message);
			tmpl += 9;
		} else {
			vbuf_append_byte(&b, *tmpl++);
		}
	}
	return vbuf_take(&b);
}
