/*
 * livecap - live capture of a run's own traffic (run --capture-iface).
 *
 * libpcap on one interface, in immediate mode and non-blocking, with the
 * BPF filter "tcp port P" for the run's target port; its selectable fd is
 * watched by a uv_poll_t on the run's loop, so capturing never blocks the
 * sessions. Packets go to PATH.tmp with pcap_dump; eng_livecap_finish
 * drains what is left, flushes, closes and renames it to PATH.
 */
#ifndef HARNESS_ENGINE_LIVECAP_H
#define HARNESS_ENGINE_LIVECAP_H

#include <stddef.h>
#include <uv.h>

/* Named limits of the live capture. */
#define LIVECAP_SNAPLEN		65535		/* bytes kept of each packet */
#define LIVECAP_BUFFER		(4 * 1024 * 1024) /* kernel ring buffer, bytes */
#define LIVECAP_DISPATCH_MAX	256		/* packets per poll callback */

typedef struct eng_livecap eng_livecap;

/* Starts capturing on iface the TCP traffic of port, into path. Returns
 * the capture, or NULL with one line in err (no privilege, no such
 * interface, a file that cannot be written). */
eng_livecap *eng_livecap_start(uv_loop_t *loop, const char *iface, const char *port,
    const char *path, char *err, size_t errlen);

/* Stops watching the fd (the loop may then end); call once the last
 * session has closed. Safe on NULL and more than once. */
void eng_livecap_stop(eng_livecap *c);

/* After the loop has ended: reads what is still buffered, flushes,
 * closes and renames the file. Returns 0, or -1 with err set (the
 * temporary file is then removed). Frees c; safe on NULL. */
int eng_livecap_finish(eng_livecap *c, char *err, size_t errlen);

#endif
