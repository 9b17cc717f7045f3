/*
 * livecap - live capture of a run's own traffic; see livecap.h.
 */
#include "harness/engine/livecap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "harness/util/xalloc.h"

struct eng_livecap {
	uv_poll_t poll;
	pcap_t *pc;
	pcap_dumper_t *dump;
	char *path;
	char *tmp;
	int closing;	/* uv_close called on it */
	int closed;	/* its close callback ran */
};

static void
livecap_drain(eng_livecap *c)
{
	/* A non-blocking handle returns 0 once nothing is buffered. */
	while (pcap_dispatch(c->pc, LIVECAP_DISPATCH_MAX, pcap_dump, (u_char *)c->dump) > 0)
		;
}

static void
livecap_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	if (status < 0)
		return;
	livecap_drain(h->data);
}

static void
livecap_closed(uv_handle_t *h)
{
	eng_livecap *c = h->data;

	c->closed = 1;
}

eng_livecap *
eng_livecap_start(uv_loop_t *loop, const char *iface, const char *port, const char *path,
    char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	eng_livecap *c;
	char *filter;
	int rc, fd;

	c = xcalloc(1, sizeof(*c));
	c->pc = pcap_create(iface, ebuf);
	if (c->pc == NULL) {
		snprintf(err, errlen, "%s", ebuf);
		xfree(c);
		return NULL;
	}
	pcap_set_snaplen(c->pc, LIVECAP_SNAPLEN);
	pcap_set_buffer_size(c->pc, LIVECAP_BUFFER);
	pcap_set_immediate_mode(c->pc, 1);
	rc = pcap_activate(c->pc);
	if (rc < 0) {
		if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "no permission to capture on %s (needs root or "
			    "CAP_NET_RAW)", iface);
		else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, errlen, "no interface %s", iface);
		else
			snprintf(err, errlen, "%s: %s", iface, pcap_geterr(c->pc));
		goto fail;
	}
	filter = xasprintf("tcp port %s", port);
	rc = pcap_compile(c->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	xfree(filter);
	if (rc != 0) {
		snprintf(err, errlen, "filter on port %s: %s", port, pcap_geterr(c->pc));
		goto fail;
	}
	rc = pcap_setfilter(c->pc, &prog);
	pcap_freecode(&prog);
	if (rc != 0 || pcap_setnonblock(c->pc, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: %s", iface, rc != 0 ? pcap_geterr(c->pc) : ebuf);
		goto fail;
	}
	fd = pcap_get_selectable_fd(c->pc);
	if (fd < 0) {
		snprintf(err, errlen, "%s: no selectable descriptor", iface);
		goto fail;
	}
	c->path = xasprintf("%s", path);
	c->tmp = xasprintf("%s.tmp", path);
	c->dump = pcap_dump_open(c->pc, c->tmp);
	if (c->dump == NULL) {
		snprintf(err, errlen, "%s: %s", c->tmp, pcap_geterr(c->pc));
		goto fail;
	}
	if (uv_poll_init(loop, &c->poll, fd) != 0) {
		snprintf(err, errlen, "%s: cannot watch the capture descriptor", iface);
		goto fail;
	}
	c->poll.data = c;
	uv_poll_start(&c->poll, UV_READABLE, livecap_poll_cb);
	return c;
fail:
	if (c->dump != NULL) {
		pcap_dump_close(c->dump);
		remove(c->tmp);
	}
	pcap_close(c->pc);
	xfree(c->path);
	xfree(c->tmp);
	xfree(c);
	return NULL;
}

void
eng_livecap_stop(eng_livecap *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = 1;
	livecap_drain(c);
	uv_close((uv_handle_t *)&c->poll, livecap_closed);
}

int
eng_livecap_finish(eng_livecap *c, char *err, size_t errlen)
{
	int rc = 0;

	if (c == NULL)
		return 0;
	livecap_drain(c);
	if (pcap_dump_flush(c->dump) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", c->tmp, strerror(errno));
		rc = -1;
	}
	pcap_dump_close(c->dump);
	pcap_close(c->pc);
	if (rc == 0 && rename(c->tmp, c->path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", c->tmp, c->path,
		    strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		remove(c->tmp);
	xfree(c->path);
	xfree(c->tmp);
	xfree(c);
	return rc;
}
