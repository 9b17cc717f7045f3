/*
 * cmd_dns - `smtp-harness dns`: the fake DNS alone.
 *
 * Loads the zone (an error in it is one FILE:LINE:COL line, exit 2),
 * binds UDP and TCP on one port (exit 3 when it cannot), prints
 * "listening on ADDRESS:PORT" on stdout, then a line per query, until
 * SIGINT or SIGTERM; then closes everything and exits 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fake-dns/dns_server.h"
#include "fake-dns/dns_zone.h"
#include "harness/cli/cli.h"
#include "harness/util/xalloc.h"

static const char dns_usage[] =
    "usage: smtp-harness dns --zone FILE [--listen HOST:PORT] [--quiet]\n"
    "\n"
    "Answers DNS queries over UDP and TCP from the zone in FILE (JSON, see\n"
    "docs/dns.md) until SIGINT or SIGTERM. The first line on stdout is\n"
    "\"listening on ADDRESS:PORT\", then one line per query: time, transport,\n"
    "client, id, name and type -> rcode and the records answered.\n"
    "\n"
    "  --zone FILE          the zone to serve\n"
    "  --listen HOST:PORT   address literal to bind, UDP and TCP (default\n"
    "                       127.0.0.1:5353; port 0 picks a free one)\n"
    "  --quiet              no line per query\n"
    "\n"
    "exit status: 0 stopped by a signal, 2 usage or zone error,\n"
    "3 the address could not be bound.\n";

typedef struct dns_state {
	uv_signal_t sigint;
	uv_signal_t sigterm;
	dns_server *sv;
	int signal;
} dns_state;

static void
dns_signal_cb(uv_signal_t *h, int signum)
{
	dns_state *st = h->data;

	if (st->signal)
		return;
	st->signal = signum;
	dns_server_stop(st->sv);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
}

int
cli_dns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "listen", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen = "127.0.0.1:5353", *zone_file = NULL;
	dns_server_config cfg;
	dns_zone *zone = NULL;
	dns_state st;
	uv_loop_t loop;
	struct sockaddr_in6 sa6;
	struct sockaddr_in sa4;
	char *host = NULL, *port = NULL;
	char err[1024];
	int quiet = 0;
	int ch, rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&st, 0, sizeof(st));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			zone_file = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(dns_usage, stdout);
			return CLI_OK;
		default:
			return cli_usage_error("dns: unknown or incomplete option \"%s\" "
			    "(see smtp-harness dns --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("dns: unexpected argument \"%s\"", argv[optind]);
	if (zone_file == NULL)
		return cli_usage_error("dns: expected --zone FILE (see smtp-harness dns --help)");
	if (cli_split_listen(listen, "5353", &host, &port) != 0)
		return cli_usage_error("--listen: expected HOST:PORT or [IPv6]:PORT, got \"%s\"",
		    listen);
	if (uv_ip4_addr(host, 0, &sa4) != 0 && uv_ip6_addr(host, 0, &sa6) != 0) {
		rc = cli_usage_error("--listen: expected an IPv4 or IPv6 address literal, got \"%s\"",
		    host);
		xfree(host);
		xfree(port);
		return rc;
	}
	if (dns_zone_load_file(zone_file, &zone, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		xfree(host);
		xfree(port);
		return CLI_USAGE;
	}
	cfg.host = host;
	cfg.port = port;
	cfg.zone = zone;
	cfg.log = quiet ? NULL : stdout;
	if (uv_loop_init(&loop) != 0) {
		fprintf(stderr, "smtp-harness: cannot initialise the event loop\n");
		dns_zone_free(zone);
		xfree(host);
		xfree(port);
		return CLI_USAGE;
	}
	rc = dns_server_start(&loop, &cfg, &st.sv, err, sizeof(err));
	xfree(host);
	xfree(port);
	if (rc != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		dns_zone_free(zone);
		uv_loop_close(&loop);
		return CLI_UNREACHABLE;
	}
	printf("listening on %s\n", dns_server_address(st.sv));
	fflush(stdout);

	uv_signal_init(&loop, &st.sigint);
	uv_signal_init(&loop, &st.sigterm);
	st.sigint.data = st.sigterm.data = &st;
	uv_signal_start(&st.sigint, dns_signal_cb, SIGINT);
	uv_signal_start(&st.sigterm, dns_signal_cb, SIGTERM);
	uv_run(&loop, UV_RUN_DEFAULT);

	if (!quiet) {
		size_t n;

		dns_server_log(st.sv, &n);
		printf("stopped by signal %d: %zu queries recorded, %lu not recorded\n", st.signal,
		    n, dns_server_log_lost(st.sv));
	}
	fflush(stdout);
	dns_server_free(st.sv);
	dns_zone_free(zone);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "smtp-harness: internal error: handles left open at shutdown\n");
		abort();
	}
	return CLI_OK;
}
