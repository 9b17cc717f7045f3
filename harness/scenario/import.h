/*
 * import - one SMTP session of a capture turned into scenarios.
 *
 * From a transcript and its dialog (harness/check/dialog) it builds two
 * scenario objects in the format of docs/scenarios.md:
 *
 *   - a client-role scenario that sends what the recorded client sent
 *     (a pipelined group as one pipelined step, message content as
 *     "data" lines when they round-trip byte for byte, else as "raw")
 *     and expects what the recorded server answered: the code, the
 *     enhanced code, and the first words of the text as a loose pattern
 *     in which host names, queue ids, dates and message ids match
 *     anything (import_text_pattern);
 *   - a server-role scenario that greets as the recorded server did,
 *     expects each recorded command by its verb and answers with the
 *     recorded reply, byte for byte.
 *
 * With `redact`, AUTH credentials (the initial response and every line
 * answered by 334) become the base64 of "redacted", and message content
 * becomes generated content of the same length, so size limits still
 * bite. With `replay`, the client-role scenario asserts nothing but the
 * 354 that lets message content be sent: the caller compares replies
 * itself (cmd_import's replay).
 *
 * Reading stops where the dialog stops (a gap, TLS, a limit): what comes
 * after is not in the scenarios, and their "comment" says so. The
 * scenarios are plain cJSON trees; the caller owns and frees them. The
 * module never touches a file or a socket, so it is tested and fuzzed on
 * transcripts alone.
 */
#ifndef HARNESS_SCENARIO_IMPORT_H
#define HARNESS_SCENARIO_IMPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "captures/transcript.h"
#include "harness/check/dialog.h"

typedef struct import_opts {
	int redact;	/* AUTH credentials and message bodies become placeholders */
	int replay;	/* client role: expect only what later steps depend on */
} import_opts;

/* The placeholder credential: base64 of "redacted". */
#define IMPORT_REDACTED_B64	"cmVkYWN0ZWQ="

/* The client-role scenario of d's session, with this id and summary.
 * The caller frees the tree with cJSON_Delete. */
cJSON *import_client(const dlg *d, const char *id, const char *summary, const import_opts *o);
/* The server-role scenario of d's session. */
cJSON *import_server(const dlg *d, const char *id, const char *summary, const import_opts *o);

/* A POSIX ERE for the first line of a reply text (without code and
 * enhanced code): its first words, anchored at the start, with every
 * word that varies from run to run (host names, addresses, queue ids,
 * numbers, dates, message ids) as "[^ ]*", and the first word too when
 * domain_first (the server's name opening a greeting, an EHLO reply, a
 * 221 or a 421); NULL when nothing
 * literal is left to match. The caller frees it. */
char *import_text_pattern(const char *text, size_t len, int domain_first);

/* A scenario id part made from a capture's file name: lower-cased, its
 * directory and extension dropped, other bytes as '-'. Caller frees. */
char *import_id_stem(const char *path);

#endif
