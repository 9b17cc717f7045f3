/*
 * cmd_serve - `smtp-harness serve`: the built-in reference server alone.
 *
 * Binds, prints "listening on ADDRESS" on stdout (flushed, so a script
 * can read the port), serves until SIGINT or SIGTERM, then ends every
 * session with 421, closes everything and exits 0. A port that cannot be
 * bound exits 3; a spool directory that cannot be set up exits 2. With
 * a fault fraction, "random faults: --seed N" follows the first line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "harness/cli/cli.h"
#include "harness/engine/serve.h"
#include "harness/smtp/server.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

static const char serve_usage[] =
    "usage: smtp-harness serve [--listen HOST:PORT] [--spool DIR] [--hostname NAME]\n"
    "                          [--size-max OCTETS] [--quiet] [--delay-ms N]\n"
    "                          [--fail-rate P --fail-code CODE] [--disconnect-rate P]\n"
    "                          [--lose-rate P] [--seed N]\n"
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
    "Faults, to test clients against a slow or failing server:\n"
    "  --delay-ms N         hold every reply N ms (0-600000)\n"
    "  --fail-rate P        answer a fraction P (0-1) of the MAIL and RCPT\n"
    "                       commands and messages that would be accepted\n"
    "                       with --fail-code CODE (400-599) instead\n"
    "  --disconnect-rate P  drop the connection instead of replying to a\n"
    "                       fraction P of them\n"
    "  --lose-rate P        answer 250 to a fraction P of the messages but\n"
    "                       store none of them (a server that loses mail)\n"
    "  --seed N             the seed of those draws (0-4294967295); without\n"
    "                       it one is chosen and printed (\"random faults:\n"
    "                       --seed N\", after the listening line)\n"    "\n"
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
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "fail-rate", required_argument, NULL, 'f' },
		{ "fail-code", required_argument, NULL, 'c' },
		{ "disconnect-rate", required_argument, NULL, 'D' },
		{ "lose-rate", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen = "127.0.0.1:2525";
	eng_serve_config cfg;
	serve_state st;
	uv_loop_t loop;
	char *host = NULL, *port = NULL;
	char err[1024];
	int quiet = 0, seeded = 0, rate_given = 0;
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
		case 'd': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v > 600000)
				return cli_usage_error("--delay-ms: expected milliseconds from 0 to 600000, "
				    "got \"%s\"", optarg);
			cfg.delay_ms = (uint32_t)v;
			break;
		}
		case 'f':
			if (eng_serve_parse_rate(optarg, &cfg.fail_ppm) != 0)
				return cli_usage_error("--fail-rate: expected a fraction from 0 to 1 (at "
				    "most 6 decimals), got \"%s\"", optarg);
			rate_given = 1;
			break;
		case 'c': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v < 400 || v > 599)
				return cli_usage_error("--fail-code: expected a 4xx or 5xx reply code, got "
				    "\"%s\"", optarg);
			cfg.fail_code = (int)v;
			break;
		}
		case 'D':
			if (eng_serve_parse_rate(optarg, &cfg.disconnect_ppm) != 0)
				return cli_usage_error("--disconnect-rate: expected a fraction from 0 to 1 "
				    "(at most 6 decimals), got \"%s\"", optarg);
			break;
		case 'L':
			if (eng_serve_parse_rate(optarg, &cfg.lose_ppm) != 0)
				return cli_usage_error("--lose-rate: expected a fraction from 0 to 1 "
				    "(at most 6 decimals), got \"%s\"", optarg);
			break;
		case 'E': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end != '\0' || v > UINT32_MAX)
				return cli_usage_error("--seed: expected a number from 0 to 4294967295, got "
				    "\"%s\"", optarg);
			cfg.seed = (uint32_t)v;
			seeded = 1;
			break;
		}
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
	if (rate_given && cfg.fail_code == 0)
		return cli_usage_error("--fail-rate needs --fail-code CODE (400-599)");
	if (cfg.fail_code != 0 && !rate_given)
		return cli_usage_error("--fail-code needs --fail-rate P");
	if ((cfg.fail_ppm > 0 || cfg.disconnect_ppm > 0 || cfg.lose_ppm > 0) && !seeded) {
		/* Random faults only with a seed the user can give back. */
		uint64_t t = uv_hrtime();

		cfg.seed = (uint32_t)(t ^ (t >> 32) ^ (uint64_t)getpid() << 16);
	}
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
	if (cfg.fail_ppm > 0 || cfg.disconnect_ppm > 0 || cfg.lose_ppm > 0)
		printf("random faults: --seed %" PRIu32 "\n", cfg.seed);
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
