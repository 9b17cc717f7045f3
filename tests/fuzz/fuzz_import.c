/*
 * fuzz_import - scenarios made from hostile transcripts must load.
 *
 * The input is a session: records of one byte (bit 0: the direction,
 * bit 1: a FIN of that direction instead of data, bit 2: redact, bit 3:
 * replay mode, bits 4-7 ignored), one byte of length, then that many
 * bytes. The transcript is read as a dialog and both scenarios are made
 * in the modes the records ask for; each, printed, must load with the
 * scenario loader: import never writes a file `validate` would refuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "captures/transcript.h"
#include "harness/check/dialog.h"
#include "harness/scenario/import.h"
#include "harness/scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_load(cJSON *s)
{
	char *text = cJSON_PrintUnformatted(s), err[1024];
	scn_scenario *sc = NULL;

	if (scn_load_buffer("fuzz.json", text, strlen(text), &sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_import: a scenario made does not load: %s\n%s\n", err, text);
		abort();
	}
	scn_free(sc);
	cJSON_free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cap_transcript *t = cap_transcript_new(NULL, NULL);
	import_opts o = { 0, 0 };
	uint64_t ts = 1;
	size_t i = 0;
	dlg *d;
	cJSON *s;

	cap_transcript_add_event(t, CAP_OPEN, CAP_C2S, ts);
	while (i + 2 <= size) {
		uint8_t flags = data[i], n = data[i + 1];
		cap_dir dir = flags & 1 ? CAP_S2C : CAP_C2S;

		i += 2;
		o.redact |= (flags >> 2) & 1;
		o.replay |= (flags >> 3) & 1;
		if (flags & 2) {
			cap_transcript_add_event(t, CAP_FIN, dir, ++ts);
			continue;
		}
		if (n > size - i)
			n = (uint8_t)(size - i);
		if (n > 0)
			cap_transcript_add_data(t, dir, ++ts, (const char *)data + i, n);
		i += n;
	}
	d = dlg_build(t);
	s = import_client(d, "fuzz.session-1.client", "fuzzed", &o);
	fuzz_load(s);
	cJSON_Delete(s);
	s = import_server(d, "fuzz.session-1.server", "fuzzed", &o);
	fuzz_load(s);
	cJSON_Delete(s);
	dlg_free(d);
	cap_transcript_free(t);
	return 0;
}
