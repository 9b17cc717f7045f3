/*
 * cmd_serve - `smtp-harness serve`: the built-in reference server alone.
 *
 * Binds, prints "listening on ADDRESS" on stdout (flushed, so a script
 * can read the port), serves until SIGINT or SIGTERM, then ends every
 * session with 421, closes everything and exits 0. A port that cannot be
 * bound exits 3; a spool directory that cannot be set up exits 2.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "harness/cli/cli.h"
#include "harness/engine/serve.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

static const char serve_usage[] =
    "usage: smtp-harness serve [--listen HOST:PORT] [--spool DIR] [--hostname NAME]\n"
    "                          [--size-max OCTETS] [--quiet]\n"
    "\n"
    "Runs the built-in reference SMTP server (PIPELINING, SIZE, 8BITMIME,\n"
    "BINARYMIME, CHUNKING, SMTPUTF8, DSN, ENHANCEDSTATUSCODES) until SIGINT\n"
    "or SIGTERM. The first line on stdout is \"listening on ADDRESS:PORT\".\n"
    "\n"
    "  --listen HOST:PORT   address to bind (default 127.0.0.1:2525; port 0\n"
    "                       picks a free one)\n"
    "  --spool DIR          store each accepted message in the Maildir DIR\n"
    "                       (DIR/new/, envelope in DIR/envelope/*.json);\n"
    "                       without it messages are counted and dropped\n"
    "  --hostname NAME      the domain in the greeting and EHLO reply\n"
    "                       (default: this machine's name, or localhost)\n"
    "  --size-max OCTETS    the SIZE limit advertised and enforced (1-10485760,\n"
    "                       the default): a server configured smaller\n"
    "  --quiet              no line per connection and message\n"
    "\n"
    "exit status: 0 stopped by a signal, 2 usage or spool error,\n"
    "3 the address could not be bound.\n";

typedef struct serve_state {
	uv_signal_t sigint;
	uv_signal_t sigterm;
	eng_serve *sv;
	int signal;
} serve_state;

static void
serve_signal_cb(uv_signal_t *h, int signum)
{
	serve_state *st = h->data;

	if (st->signal)
		return;
	st->signal = signum;
	eng_serve_stop(st->sv);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
}

int
cli_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "spool", required_argument, NULL, 's' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "size-max", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen = "127.0.0.1:2525";
	eng_serve_config cfg;
	serve_state st;
	uv_loop_t loop;
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
		case 'l':
			listen = optarg;
			break;
		case 's':
			cfg.spool_dir = optarg;
			break;
		case 'H':
			cfg.hostname = optarg;
			break;
		case 'S': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v == 0 ||
			    v > HARNESS_SRV_SIZE_MAX)
				return cli_usage_error("--size-max: expected octets from 1 to %d, got "
				    "\"%s\"", HARNESS_SRV_SIZE_MAX, optarg);
			cfg.size_max = v;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return CLI_OK;
		default:
			return cli_usage_error("serve: unknown or incomplete option \"%s\" "
			    "(see smtp-harness serve --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("serve: unexpected argument \"%s\"", argv[optind]);
	if (cli_split_listen(listen, "2525", &host, &port) != 0)
		return cli_usage_error("--listen: expected HOST:PORT or [IPv6]:PORT, got \"%s\"",
		    listen);
	if (cfg.hostname != NULL) {
		for (const char *p = cfg.hostname; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~') {
				xfree(host);
				xfree(port);
				return cli_usage_error("--hostname: expected a domain, got \"%s\"",
				    cfg.hostname);
			}
	}
	cfg.host = host;
	cfg.port = port;
	cfg.log = quiet ? NULL : stdout;
	if (uv_loop_init(&loop) != 0) {
		fprintf(stderr, "smtp-harness: cannot initialise the event loop\n");
		xfree(host);
		xfree(port);
		return CLI_USAGE;
	}
	rc = eng_serve_start(&loop, &cfg, &st.sv, err, sizeof(err));
	xfree(host);
	xfree(port);
	if (rc != 0) {
		fprintf(stderr, "smtp-harness: %s\n", err);
		uv_loop_close(&loop);
		return rc == -1 ? CLI_UNREACHABLE : CLI_USAGE;
	}
	printf("listening on %s\n", eng_serve_address(st.sv));
	fflush(stdout);

	uv_signal_init(&loop, &st.sigint);
	uv_signal_init(&loop, &st.sigterm);
	st.sigint.data = st.sigterm.data = &st;
	uv_signal_start(&st.sigint, serve_signal_cb, SIGINT);
	uv_signal_start(&st.sigterm, serve_signal_cb, SIGTERM);
	uv_run(&loop, UV_RUN_DEFAULT);

	{
		const eng_serve_stats *ss = eng_serve_get_stats(st.sv);

		if (!quiet)
			printf("stopped by signal %d: %lu connections, %lu messages accepted, "
			    "%lu refused\n", st.signal, ss->sessions, ss->accepted, ss->refused);
		fflush(stdout);
	}
	eng_serve_free(st.sv);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "smtp-harness: internal error: handles left open at shutdown\n");
		abort();
	}
	return CLI_OK;
}
