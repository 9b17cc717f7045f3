/*
 * cli - the subcommands of smtp-harness.
 *
 * Each subcommand takes argc/argv from after its name and returns the
 * process exit status of DESIGN.md: 0 every check passed, 1 a conformance
 * failure, 2 a usage or scenario error, 3 the target could not be reached
 * or a port could not be bound. Usage errors print one line naming what
 * was wrong, then a hint to --help.
 */
#ifndef HARNESS_CLI_CLI_H
#define HARNESS_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2
#define CLI_UNREACHABLE	3

int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);
int cli_catalog(int argc, char **argv);
int cli_coverage(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_dns(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_probe(int argc, char **argv);
int cli_netns(int argc, char **argv);
int cli_load(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_relay(int argc, char **argv);

struct eng_netns;
/* run --netns and relay: makes the namespace, moves the harness inside,
 * starts the fake DNS (zone_file, or none when NULL) and the target
 * command (or none) there. NULL with one line in err when any of it
 * failed; then nothing is left behind. */
struct eng_netns *cli_netns_setup(const char *zone_file, const char *target_cmd, char *err,
    size_t errlen);
/* Removes ns (NULL is fine) and returns rc, or CLI_UNREACHABLE when
 * something of it was left and rc was 0 or 1. */
int cli_netns_teardown(struct eng_netns *ns, int rc);

struct rly_scenario;
struct rpt_scenario;
typedef struct cli_relay_opts {
	const char *target_cmd;		/* the MTA's starter, or NULL */
	const char *submit_cmd;		/* for scenarios without a "command" */
	const char *submit_smtp;	/* else HOST:PORT for the harness's own client */
	const char *capture_dir;	/* a pcap per connection, or NULL */
	FILE *log;			/* progress and the fake DNS's lines, or NULL */
} cli_relay_opts;
/* relay and run: one relay scenario end to end in a namespace of its
 * own (made, entered, left and removed here; the target command started
 * in it), judged into sc (verdict, findings, timeline, transcripts, its
 * duration). CLI_OK when sc holds the verdict; CLI_UNREACHABLE when the
 * run could not take place (sc is ERROR, err says why; sc->client is
 * NULL when not even the submission started); -1 with err when the
 * harness could not come back out of the namespace (no later scenario
 * may run). */
int cli_relay_one(const struct rly_scenario *s, const cli_relay_opts *o,
    struct rpt_scenario *sc, char *err, size_t errlen);

/* Prints "smtp-harness: <message>" on stderr and returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses the argument of --report, "FORMAT:FILE", into heap strings; a
 * malformed one or an unknown format is a usage error (printed): returns
 * 0, or -1 with nothing allocated. */
int cli_report_arg(const char *arg, char **format, char **path);
/* Splits "host:port", "[v6]:port" or "host" (port defaults to def_port)
 * into heap strings. Returns 0, or -1 when malformed. */
int cli_split_hostport(const char *s, const char *def_port, char **host, char **port);
/* The same for a listening address, where port 0 (any free port) is
 * allowed. */
int cli_split_listen(const char *s, const char *def_port, char **host, char **port);

#endif
