/*
 * cmd_load - `smtp-harness load`: many sessions at once against a target,
 * with every passive check on, and the statistics of what happened.
 *
 * The session is built from the options as a client-role scenario (JSON
 * text compiled by the ordinary loader, so it is checked like any file),
 * or read from --scenario. docs/load.md describes the options, the
 * summary and the JSON report.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/cli/load_out.h"
#include "harness/engine/load.h"
#include "harness/util/atomic_file.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define LOAD_SESSIONS_DEFAULT	100
#define LOAD_REPORTS_MAX	8	/* --report options */

static const char load_usage[] =
    "usage: smtp-harness load --target HOST:PORT [--sessions N] [--concurrency C]\n"
    "                         [--rate R] [--messages-per-session M] [--recipients K]\n"
    "                         [--size BYTES] [--pipelining auto|on|off] [--duration S]\n"
    "                         [--scenario FILE] [--report FORMAT:FILE]...\n"
    "\n"
    "Plays many client sessions at once against the target, every passive\n"
    "check on, and prints messages/s, latency per command, replies by code,\n"
    "errors by kind and findings by check id.\n"
    "\n"
    "  --target HOST:PORT      the server (port default 25)\n"
    "  --sessions N            sessions in all (default 100; with --duration\n"
    "                          and no --sessions: until the duration ends)\n"
    "  --concurrency C         sessions open at once (default 10)\n"
    "  --rate R                start at most R sessions per second (default: no limit)\n"
    "  --messages-per-session M  (default 1)\n"
    "  --recipients K          RCPT commands per message (default 1)\n"
    "  --size BYTES            content octets of each message (default 1024)\n"
    "  --pipelining MODE       auto (when offered; default), on, off\n"
    "  --duration S            start no session after S seconds\n"
    "  --scenario FILE         play this client-role scenario as the session\n"
    "  --connect-timeout MS    (default 10000)\n"
    "  --step-timeout MS       wait for each reply (default 30000)\n"
    "  --report FORMAT:FILE    json or text; FILE - is stdout (repeatable)\n"
    "  --no-progress           no live line on a terminal\n"
    "\n"
    "exit status: 0 every session passed, 1 a session failed or erred,\n"
    "2 usage or scenario error, 3 the target could not be reached.\n";

static int
load_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return cli_usage_error("load: %s wants a number, got \"%s\"", opt, s);
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return cli_usage_error("load: %s wants an integer %llu-%llu, got \"%s\"", opt,
		    (unsigned long long)min, (unsigned long long)max, s);
	*out = v;
	return 0;
}

/* The session as scenario JSON: greeting, EHLO, M transactions, QUIT. */
static char *
load_scenario_json(unsigned m, unsigned k, uint64_t size, int pipelined, int require)
{
	vbuf b = VBUF_INIT;

	vbuf_printf(&b, "{\"id\": \"load.%s\", \"summary\": \"load session\", "
	    "\"refs\": [\"RFC 5321 \\u00a73.3\"], \"deadline_ms\": %u,%s \"steps\": [\n",
	    pipelined ? "pipelined" : "lock-step", HARNESS_STEP_WAIT_MAX,
	    require ? " \"requires\": [\"PIPELINING\"]," : "");
	vbuf_append_str(&b, "{\"recv\": {\"code\": 220}},\n"
	    "{\"send\": \"EHLO ${helo}\", \"recv\": {\"code\": 250}},\n");
	for (unsigned i = 0; i < m; i++) {
		if (pipelined) {
			vbuf_append_str(&b, "{\"pipeline\": true, \"send\": [\"MAIL FROM:<${from}>\"");
			for (unsigned r = 0; r < k; r++)
				vbuf_append_str(&b, ", \"RCPT TO:<${rcpt}>\"");
			vbuf_append_str(&b, ", \"DATA\"], \"recv\": [{\"class\": 2}");
			for (unsigned r = 0; r < k; r++)
				vbuf_append_str(&b, ", {\"class\": 2}");
			vbuf_append_str(&b, ", {\"code\": 354}]},\n");
		} else {
			vbuf_append_str(&b, "{\"send\": \"MAIL FROM:<${from}>\", \"recv\": {\"class\": 2}},\n");
			for (unsigned r = 0; r < k; r++)
				vbuf_append_str(&b, "{\"send\": \"RCPT TO:<${rcpt}>\", \"recv\": {\"class\": 2}},\n");
			vbuf_append_str(&b, "{\"send\": \"DATA\", \"recv\": {\"code\": 354}},\n");
		}
		vbuf_printf(&b, "{\"data\": {\"generate\": %llu}, \"recv\": {\"class\": 2}},\n",
		    (unsigned long long)size);
	}
	vbuf_append_str(&b, "{\"send\": \"QUIT\", \"recv\": {\"code\": 221}}\n]}\n");
	return vbuf_take(&b);
}

static int
load_build(const char *name, unsigned m, unsigned k, uint64_t size, int pipelined,
    int require, scn_scenario **out)
{
	char *text = load_scenario_json(m, k, size, pipelined, require);
	char err[1024];
	int rc = scn_load_buffer(name, text, strlen(text), out, err, sizeof(err));

	xfree(text);
	if (rc != 0)
		return cli_usage_error("load: %s", err);
	return 0;
}

static void
load_tick(void *arg, const lst_stats *st, uint64_t open, uint64_t elapsed_us, int final)
{
	(void)arg;
	lout_progress(stderr, st, open, elapsed_us, final);
}

static int
load_write_reports(char **reports, size_t n, const lout_params *p, const lst_stats *st,
    const eng_load_result *r)
{
	int rc = CLI_OK;

	for (size_t i = 0; i < n; i++) {
		const char *file = strchr(reports[i], ':') + 1;
		int json = strncmp(reports[i], "json:", 5) == 0;
		char err[1024];
		char *text;
		size_t len = 0;
		FILE *mf;

		if (json) {
			text = lout_json(p, st, r);
			len = strlen(text);
		} else {
			mf = open_memstream(&text, &len);
			if (mf == NULL)
				abort();
			lout_text(mf, p, st, r);
			fclose(mf);
		}
		if (strcmp(file, "-") == 0) {
			fwrite(text, 1, len, stdout);
			if (json)
				fputc('\n', stdout);
		} else if (atomic_file_write(file, text, len, err, sizeof(err)) != 0) {
			fprintf(stderr, "smtp-harness: load: %s\n", err);
			rc = CLI_USAGE;
		}
		if (json)
			xfree(text);
		else
			free(text);
	}
	return rc;
}

int
cli_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "messages-per-session", required_argument, NULL, 'm' },
		{ "recipients", required_argument, NULL, 'k' },
		{ "size", required_argument, NULL, 's' },
		{ "pipelining", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "scenario", required_argument, NULL, 'f' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "step-timeout", required_argument, NULL, 'S' },
		{ "report", required_argument, NULL, 'R' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *target = NULL, *scenario_file = NULL, *pipelining = "auto";
	uint64_t sessions = 0, concurrency = 10, m = 1, k = 1, size = 1024, duration = 0;
	uint64_t connect_ms = HARNESS_CONNECT_TIMEOUT_MS, step_ms = 0;
	double rate = 0;
	int sessions_set = 0, progress = 1;
	char *reports[LOAD_REPORTS_MAX];
	size_t nreports = 0;
	char *host = NULL, *port = NULL;
	scn_scenario *s = NULL, *fallback = NULL;
	scn_vars defaults = { 0 };
	eng_load_config cfg;
	eng_load_result res;
	lout_params p;
	lst_stats st;
	char err[1024];
	eng_status status;
	int ch, rc = CLI_OK;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 't': target = optarg; break;
		case 'n':
			if (load_parse_u64("--sessions", optarg, 1, UINT32_MAX, &sessions) != 0)
				return CLI_USAGE;
			sessions_set = 1;
			break;
		case 'c':
			if (load_parse_u64("--concurrency", optarg, 1, LOAD_CONCURRENCY_MAX, &concurrency) != 0)
				return CLI_USAGE;
			break;
		case 'r': {
			char *end;

			rate = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(rate > 0) || rate > 1e9)
				return cli_usage_error("load: --rate wants a positive number, got \"%s\"", optarg);
			break;
		}
		case 'm':
			if (load_parse_u64("--messages-per-session", optarg, 1, 1000, &m) != 0)
				return CLI_USAGE;
			break;
		case 'k':
			if (load_parse_u64("--recipients", optarg, 1, SMTP_RECIPIENTS_MIN, &k) != 0)
				return CLI_USAGE;
			break;
		case 's':
			if (load_parse_u64("--size", optarg, 1, HARNESS_STREAM_MAX / 2, &size) != 0)
				return CLI_USAGE;
			break;
		case 'p':
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "on") != 0 &&
			    strcmp(optarg, "off") != 0)
				return cli_usage_error("load: --pipelining wants auto, on or off, got \"%s\"", optarg);
			pipelining = optarg;
			break;
		case 'd':
			if (load_parse_u64("--duration", optarg, 1, HARNESS_STEP_WAIT_MAX / 1000, &duration) != 0)
				return CLI_USAGE;
			break;
		case 'f': scenario_file = optarg; break;
		case 'C':
			if (load_parse_u64("--connect-timeout", optarg, 1, HARNESS_STEP_WAIT_MAX, &connect_ms) != 0)
				return CLI_USAGE;
			break;
		case 'S':
			if (load_parse_u64("--step-timeout", optarg, 1, HARNESS_STEP_WAIT_MAX, &step_ms) != 0)
				return CLI_USAGE;
			break;
		case 'R':
			if (strncmp(optarg, "json:", 5) != 0 && strncmp(optarg, "text:", 5) != 0)
				return cli_usage_error("load: --report wants json:FILE or text:FILE, got \"%s\"", optarg);
			if (optarg[5] == '\0')
				return cli_usage_error("load: --report %s names no file", optarg);
			if (nreports == LOAD_REPORTS_MAX)
				return cli_usage_error("load: at most %d --report options", LOAD_REPORTS_MAX);
			reports[nreports++] = optarg;
			break;
		case 'P': progress = 0; break;
		case 'h':
			fputs(load_usage, stdout);
			return CLI_OK;
		default:
			return cli_usage_error("load: unknown or incomplete option \"%s\" "
			    "(see smtp-harness load --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("load: unexpected argument \"%s\"", argv[optind]);
	if (target == NULL)
		return cli_usage_error("load: --target HOST:PORT is required");
	if (cli_split_hostport(target, "25", &host, &port) != 0)
		return cli_usage_error("load: bad --target \"%s\"", target);
	if (!sessions_set && duration == 0)
		sessions = LOAD_SESSIONS_DEFAULT;

	if (scenario_file != NULL) {
		if (scn_load_file(scenario_file, &s, err, sizeof(err)) != 0) {
			rc = cli_usage_error("load: %s", err);
			goto out;
		}
		if (s->role != SCN_ROLE_CLIENT) {
			rc = cli_usage_error("load: %s: only client-role scenarios can be played", scenario_file);
			goto out;
		}
	} else if (strcmp(pipelining, "off") == 0) {
		if ((rc = load_build("load:lock-step", (unsigned)m, (unsigned)k, size, 0, 0, &s)) != 0)
			goto out;
	} else {
		int is_auto = strcmp(pipelining, "auto") == 0;

		if ((rc = load_build("load:pipelined", (unsigned)m, (unsigned)k, size, 1, is_auto, &s)) != 0)
			goto out;
		if (is_auto &&
		    (rc = load_build("load:lock-step", (unsigned)m, (unsigned)k, size, 0, 0, &fallback)) != 0)
			goto out;
	}

	eng_default_vars(&defaults, host, port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.eng.host = host;
	cfg.eng.port = port;
	cfg.eng.connect_timeout_ms = (uint32_t)connect_ms;
	cfg.eng.step_timeout_ms = (uint32_t)step_ms;
	cfg.eng.defaults = &defaults;
	cfg.scenario = s;
	cfg.fallback = fallback;
	cfg.sessions = sessions;
	cfg.concurrency = (unsigned)concurrency;
	cfg.rate = rate;
	cfg.duration_ms = (uint32_t)(duration * 1000);
	if (progress && isatty(STDERR_FILENO) && getenv("TERM") != NULL &&
	    strcmp(getenv("TERM"), "dumb") != 0)
		cfg.tick = load_tick;

	lst_init(&st);
	status = eng_load(&cfg, &st, &res, err, sizeof(err));
	memset(&p, 0, sizeof(p));
	p.target = target;
	p.sessions = sessions;
	p.concurrency = (unsigned)concurrency;
	p.rate = rate;
	p.duration_ms = cfg.duration_ms;
	p.messages = scenario_file ? 0 : (unsigned)m;
	p.recipients = scenario_file ? 0 : (unsigned)k;
	p.size = scenario_file ? 0 : size;
	p.pipelining = pipelining;
	p.scenario = scenario_file;
	if (status == ENG_LOCAL_ERROR) {
		fprintf(stderr, "smtp-harness: load: %s\n", err);
		rc = CLI_UNREACHABLE;
	} else {
		if (status == ENG_UNREACHABLE)
			fprintf(stderr, "smtp-harness: load: %s\n", err);
		lout_text(stdout, &p, &st, &res);
		fflush(stdout);
		rc = load_write_reports(reports, nreports, &p, &st, &res);
		if (status == ENG_UNREACHABLE)
			rc = CLI_UNREACHABLE;
		else if (rc == CLI_OK && (st.fail || st.error || st.sessions == 0))
			rc = CLI_FAIL;
	}
	lst_free(&st);
out:
	scn_vars_free(&defaults);
	scn_free(s);
	scn_free(fallback);
	xfree(host);
	xfree(port);
	return rc;
}
