/*
 * relay_submit - a relay scenario's submission by the harness's own
 * client engine; see relay_submit.h.
 */
#include "harness/engine/relay_submit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/engine/proc.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* A step: send line (NULL: none), expect code (or class when < 10). */
static void
submit_step(cJSON *steps, const char *send, int expect)
{
	cJSON *st = cJSON_CreateObject(), *recv = cJSON_CreateObject();

	if (send != NULL)
		cJSON_AddStringToObject(st, "send", send);
	cJSON_AddNumberToObject(recv, expect < 10 ? "class" : "code", expect);
	cJSON_AddItemToObject(st, "recv", recv);
	cJSON_AddItemToArray(steps, st);
}

static cJSON *
submit_scenario(const rly_scenario *s)
{
	cJSON *root = cJSON_CreateObject(), *steps = cJSON_CreateArray();
	cJSON *data = cJSON_CreateObject(), *body = cJSON_CreateObject(), *lines;
	char *line;

	cJSON_AddStringToObject(root, "id", ENG_RELAY_SUBMIT_ID);
	line = xasprintf("The message of %s, submitted to the MTA under test", s->id);
	cJSON_AddStringToObject(root, "summary", line);
	xfree(line);
	cJSON_AddItemToObject(root, "refs", cJSON_CreateStringArray((const char *const[]){
	    "RFC 5321 §3.3" }, 1));
	cJSON_AddStringToObject(root, "role", "client");
	submit_step(steps, NULL, 2);
	submit_step(steps, "EHLO submit.harness.test", 2);
	line = xasprintf("MAIL FROM:<%s>", s->from);
	submit_step(steps, line, 2);
	xfree(line);
	for (size_t i = 0; i < s->nto; i++) {
		line = xasprintf("RCPT TO:<%s>", s->to[i]);
		submit_step(steps, line, 2);
		xfree(line);
	}
	submit_step(steps, "DATA", 354);
	lines = cJSON_CreateStringArray((const char *const *)s->lines, (int)s->nlines);
	cJSON_AddItemToObject(body, "lines", lines);
	cJSON_AddItemToObject(data, "data", body);
	{
		cJSON *recv = cJSON_CreateObject();

		cJSON_AddNumberToObject(recv, "class", 2);
		cJSON_AddItemToObject(data, "recv", recv);
	}
	cJSON_AddItemToArray(steps, data);
	submit_step(steps, "QUIT", 221);
	cJSON_AddItemToObject(root, "steps", steps);
	return root;
}

char *
eng_relay_submit_write(const rly_scenario *s, const char *dir, const char *hostport,
    char **report, char *err, size_t errlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cJSON *root;
	char *text, *path;
	FILE *f;
	vbuf b = VBUF_INIT;
	int bad;

	*report = NULL;
	if (n <= 0) {
		snprintf(err, errlen, "--submit-smtp: the harness's own path: %s", strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	root = submit_scenario(s);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	path = xasprintf("%s/submission.json", dir);
	f = fopen(path, "w");
	bad = f == NULL || fputs(text, f) < 0;
	if (f != NULL && fclose(f) != 0)
		bad = 1;
	cJSON_free(text);
	if (bad) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		xfree(path);
		return NULL;
	}
	*report = xasprintf("%s/submission-report.json", dir);
	eng_proc_quote(&b, exe);
	vbuf_printf(&b, " run --quiet --target ");
	eng_proc_quote(&b, hostport);
	vbuf_printf(&b, " --report json:");
	eng_proc_quote(&b, *report);
	vbuf_append_byte(&b, ' ');
	eng_proc_quote(&b, path);
	xfree(path);
	return vbuf_take(&b);
}

char *
eng_relay_submit_judge(const char *path)
{
	FILE *f = fopen(path, "r");
	vbuf b = VBUF_INIT;
	char buf[4096], *why = NULL;
	size_t n;
	cJSON *root, *sc, *fs, *x;

	if (f == NULL)
		return xasprintf("the harness's client wrote no report (%s)", strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		vbuf_append(&b, buf, n);
	fclose(f);
	root = cJSON_ParseWithLength(vbuf_str(&b), b.len);
	vbuf_free(&b);
	sc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "scenarios"), 0);
	if (sc == NULL) {
		cJSON_Delete(root);
		return xasprintf("the harness's client wrote a report without its scenario");
	}
	x = cJSON_GetObjectItemCaseSensitive(sc, "verdict");
	if (cJSON_IsString(x) && strcmp(x->valuestring, "ERROR") == 0) {
		cJSON *r = cJSON_GetObjectItemCaseSensitive(sc, "reason");

		why = xasprintf("%s", cJSON_IsString(r) ? r->valuestring : "ERROR");
	}
	fs = cJSON_GetObjectItemCaseSensitive(sc, "findings");
	cJSON_ArrayForEach(x, fs) {
		cJSON *check = cJSON_GetObjectItemCaseSensitive(x, "check");
		cJSON *verdict = cJSON_GetObjectItemCaseSensitive(x, "verdict");
		cJSON *msg = cJSON_GetObjectItemCaseSensitive(x, "message");

		if (why == NULL && cJSON_IsString(check) && cJSON_IsString(verdict) &&
		    strcmp(check->valuestring, ENG_RELAY_SUBMIT_ID) == 0 &&
		    strcmp(verdict->valuestring, "FAIL") == 0)
			why = xasprintf("%s", cJSON_IsString(msg) ? msg->valuestring : "refused");
	}
	cJSON_Delete(root);
	return why;
}
