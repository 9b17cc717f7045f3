/*
 * import - one SMTP session of a capture turned into scenarios; see import.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "harness/scenario/import.h"
#include "harness/smtp/command.h"
#include "harness/util/harness_limits.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* Words of a reply text kept in its pattern; the rest is not asserted. */
#define IMPORT_TEXT_WORDS	6
/* A literal word longer than this is taken for an id. */
#define IMPORT_WORD_MAX		24
/* The loader bounds the squares of the regexes' sizes over a scenario
 * (docs/scenarios.md, Limits); a pattern's length bounds its size, and
 * patterns stop well before that budget. */
#define IMPORT_REGEX_BUDGET	2000000UL
/* Content above this becomes generated content of its length: the
 * scenario file itself is bounded (HARNESS_SCENARIO_FILE_MAX). */
#define IMPORT_CONTENT_MAX	(1024 * 1024)

/* A session longer than this is imported up to here: the loader takes
 * at most HARNESS_STEPS_MAX steps (and lines in one step), and files of
 * HARNESS_SCENARIO_FILE_MAX; escapes can quadruple a byte. */
#define IMPORT_STEPS_MAX	(HARNESS_STEPS_MAX - 10)
#define IMPORT_BYTES_MAX	(HARNESS_SCENARIO_FILE_MAX / 8)

static const char *const import_date_words[] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun",
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
	NULL
};

/* The client's bytes of exchange e. */
static const char *
c2s_bytes(const dlg *d, const dlg_exchange *e)
{
	return d->t->stream[CAP_C2S].data + e->c2s_off;
}

/* 1 if a word of a reply text is one that varies between runs. */
static int
word_varies(const char *w, size_t n)
{
	size_t letters = 0, upper_inner = 0, lower = 0;
	char low[4];

	if (n > IMPORT_WORD_MAX)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (isdigit(c) || c == '@' || c == '<' || c == '>' || c == '[' || c == '=' ||
		    c == '/' || c >= 0x80)
			return 1;
		if (c == '.' && i + 1 < n && isalnum((unsigned char)w[i + 1]))
			return 1;	/* a host name, not a full stop */
		if (isalpha(c)) {
			letters++;
			lower += islower(c) != 0;
			upper_inner += i > 0 && isupper(c);
		}
	}
	if (letters == 0)
		return 0;
	/* Mixed case inside a word ("FqRk0Jh") is an id, not English. */
	if (upper_inner > 0 && lower > 0 && n >= 6)
		return 1;
	if (n >= 3) {
		for (size_t i = 0; i < 3; i++)
			low[i] = (char)tolower((unsigned char)w[i]);
		low[3] = '\0';
		for (size_t i = 0; import_date_words[i] != NULL; i++)
			if (strcmp(low, import_date_words[i]) == 0 &&
			    (n == 3 || (n == 4 && (w[3] == ',' || w[3] == '.'))))
				return 1;
	}
	return 0;
}

char *
import_text_pattern(const char *text, size_t len, int domain_first)
{
	vbuf re = { 0 };
	size_t i = 0, words = 0, literal = 0;

	size_t first = 0;

	vbuf_append_byte(&re, '^');
	/* The enhanced code is judged apart ("esc"): any word stands for it. */
	while (i < len && (isdigit((unsigned char)text[i]) || text[i] == '.'))
		i++;
	if (i == 0 || (i < len && text[i] != ' ')) {
		i = 0;
	} else {
		vbuf_append_str(&re, "[^ ]*");
		words = first = 1;
		i++;
	}
	while (i < len && text[i] != '\r' && text[i] != '\n' && words < IMPORT_TEXT_WORDS) {
		size_t start = i;

		while (i < len && text[i] != ' ' && text[i] != '\r' && text[i] != '\n')
			i++;
		if (words > 0)
			vbuf_append_byte(&re, ' ');
		if (word_varies(text + start, i - start) || (words == first && domain_first)) {
			vbuf_append_str(&re, "[^ ]*");
		} else {
			for (size_t k = start; k < i; k++) {
				unsigned char c = (unsigned char)text[k];

				if (c < 0x20 || c == 0x7f) {
					vbuf_append_str(&re, ".");
					continue;
				}
				if (strchr("\\^$.[]|()*+?{}", c) != NULL)
					vbuf_append_byte(&re, '\\');
				vbuf_append_byte(&re, (char)c);
			}
			literal++;
		}
		words++;
		if (i < len && text[i] == ' ') {
			/* Words are one space apart in the pattern; runs of
			 * spaces in the text end the pattern there. */
			i++;
			if (i < len && text[i] == ' ')
				break;
		}
	}
	if (literal == 0) {
		vbuf_free(&re);
		return NULL;
	}
	return vbuf_take(&re);
}

char *
import_id_stem(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	vbuf out = { 0 };
	size_t n;

	base = base != NULL ? base + 1 : path;
	dot = strchr(base, '.');
	n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n > 64)
		n = 64;
	if (n == 0 || !isalnum((unsigned char)base[0]))
		vbuf_append_str(&out, "capture");
	if (n > 0 && !isalnum((unsigned char)base[0]))
		vbuf_append_byte(&out, '-');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base[i];

		vbuf_append_byte(&out, isalnum(c) && c < 0x80 ? (char)tolower(c) :
		    c == '_' || c == '-' ? (char)c : '-');
	}
	return vbuf_take(&out);
}

/* bytes as a template of "raw": escapes for all but printable ASCII,
 * and '$' escaped so that nothing reads as a variable. */
static char *
raw_template(const char *p, size_t n)
{
	vbuf out = { 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			vbuf_append_str(&out, "\\r");
		else if (c == '\n')
			vbuf_append_str(&out, "\\n");
		else if (c == '\t')
			vbuf_append_str(&out, "\\t");
		else if (c == '\\')
			vbuf_append_str(&out, "\\\\");
		else if (c == '$' || c < 0x20 || c >= 0x7f)
			vbuf_printf(&out, "\\x%02x", c);
		else
			vbuf_append_byte(&out, (char)c);
	}
	return vbuf_take(&out);
}

/* 1 if s[0..n) may stand in a template as it is: printable ASCII, no "${". */
static int
plain_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			return 0;
		if (c == '$' && i + 1 < n && s[i + 1] == '{')
			return 0;
	}
	return 1;
}

/* ---- the session's commands, after redaction ------------------------ */

typedef struct imp_cmd {
	const dlg_exchange *e;
	char *line;		/* the command line to send (redacted), or NULL */
	int auth_data;		/* a line answering a 334: a credential */
} imp_cmd;

/* The line to send for exchange i, with credentials redacted. */
static char *
cmd_line(const dlg *d, size_t i, const import_opts *o, int *auth_data)
{
	const dlg_exchange *e = &d->ex[i];
	const dlg_exchange *prev = i > 0 ? &d->ex[i - 1] : NULL;

	/* Only AUTH is answered with 334 (RFC 4954 §4), and then the
	 * client's next line is a credential, as is each after another 334. */
	*auth_data = prev != NULL && prev->kind == DLG_COMMAND && prev->reply != NULL &&
	    prev->reply->code == 334;
	if (!o->redact)
		return xstrdup(e->line);
	if (*auth_data)
		return xstrdup(IMPORT_REDACTED_B64);
	if (e->cmd.verb == SMTP_VERB_AUTH && e->cmd.args_len > 0) {
		const char *sp = memchr(e->cmd.args, ' ', e->cmd.args_len);

		if (sp != NULL)
			return xasprintf("AUTH %.*s %s", (int)(sp - e->cmd.args), e->cmd.args,
			    IMPORT_REDACTED_B64);
	}
	return xstrdup(e->line);
}

/* 1 if exchange e is sent as a "send" line: it went out as the line and
 * a CRLF, exactly, and the line reads the same as a template. */
static int
sendable(const dlg *d, const dlg_exchange *e, const char *line)
{
	size_t n = strlen(line);

	if (e->kind != DLG_COMMAND || e->line_flags != 0 || !plain_text(line, n))
		return 0;
	if (strcmp(line, e->line) != 0)
		return 1;	/* redacted: plain, as checked above */
	return e->c2s_len == n + 2 && memcmp(c2s_bytes(d, e), line, n) == 0 &&
	    memcmp(c2s_bytes(d, e) + n, "\r\n", 2) == 0;
}

/* ---- expectations --------------------------------------------------- */

typedef struct imp_budget {
	unsigned long used;	/* squares of the pattern lengths so far */
} imp_budget;

static cJSON *
expectation(const dlg *d, size_t i, const import_opts *o, imp_budget *b)
{
	const dlg_exchange *e = &d->ex[i];
	const smtp_reply *r = e->reply;
	cJSON *x = cJSON_CreateObject();

	if (r == NULL || r->code < 200 || r->code > 599)
		return x;
	if (o->replay) {
		/* Only the 354 that lets the content go is asserted: the
		 * content must not reach a server that refused DATA. */
		if (r->code == 354 && i + 1 < d->nex && d->ex[i + 1].kind == DLG_CONTENT)
			cJSON_AddNumberToObject(x, "code", 354);
		return x;
	}
	cJSON_AddNumberToObject(x, "code", r->code);
	if (r->esc.present && !r->esc.bad) {
		char esc[32];

		snprintf(esc, sizeof(esc), "%d.%d.%d", r->esc.cls, r->esc.subject, r->esc.detail);
		cJSON_AddStringToObject(x, "esc", esc);
	}
	{
		size_t tlen;
		const char *text = smtp_reply_text(r, 0, &tlen);
		/* A greeting, an EHLO/HELO reply, a 221 and a 421 open with
		 * the server's name (RFC 5321 §4.1.1.1, §4.2, §4.2.2). */
		int domain = e->kind == DLG_GREETING || r->code == 221 || r->code == 421 ||
		    (r->code == 250 && (e->cmd.verb == SMTP_VERB_EHLO ||
		    e->cmd.verb == SMTP_VERB_HELO));
		char *re = import_text_pattern(text, tlen, domain);

		if (re != NULL) {
			unsigned long sq = (unsigned long)strlen(re) * strlen(re);

			if (b->used + sq <= IMPORT_REGEX_BUDGET) {
				b->used += sq;
				cJSON_AddStringToObject(x, "text", re);
			}
			xfree(re);
		}
	}
	return x;
}

/* ---- message content -------------------------------------------------- */

/* The "data" object of content exchange e. */
static cJSON *
content_data(const dlg *d, const dlg_exchange *e, const import_opts *o)
{
	const char *p = c2s_bytes(d, e);
	size_t n = e->c2s_len;
	cJSON *data = cJSON_CreateObject();
	cJSON *lines;
	size_t i = 0;

	/* The content ends in ".\r\n" (dialog.h); its own bytes before that. */
	if (n >= 3 && memcmp(p + n - 3, ".\r\n", 3) == 0 && (n == 3 || (n >= 5 &&
	    memcmp(p + n - 5, "\r\n", 2) == 0))) {
		if (o->redact || n - 3 > IMPORT_CONTENT_MAX) {
			if (n == 3)
				cJSON_AddItemToObject(data, "lines", cJSON_CreateArray());
			else
				cJSON_AddNumberToObject(data, "generate", (double)(n - 3));
			return data;
		}
		/* Lines, if they give back these very bytes. */
		lines = cJSON_CreateArray();
		while (i < n - 3) {
			const char *eol = memchr(p + i, '\n', n - 3 - i);
			size_t ll;
			char *line;

			if (eol == NULL || eol == p + i || eol[-1] != '\r')
				break;
			ll = (size_t)(eol - 1 - (p + i));
			if (!plain_text(p + i, ll) || memchr(p + i, '\r', ll) != NULL)
				break;
			if (ll > 0 && p[i] == '.') {
				if (ll < 2 || p[i + 1] != '.')
					break;	/* unstuffed: sending would stuff it */
				line = xstrndup(p + i + 1, ll - 1);
			} else {
				line = xstrndup(p + i, ll);
			}
			cJSON_AddItemToArray(lines, cJSON_CreateString(line));
			xfree(line);
			i += ll + 2;
		}
		if (i == n - 3) {
			cJSON_AddItemToObject(data, "lines", lines);
			return data;
		}
		cJSON_Delete(lines);
	}
	if (o->redact) {
		/* Content that does not end as content should: its length
		 * in placeholder bytes, without the terminator it lacked. */
		vbuf v = { 0 };
		char *t;

		for (size_t k = 0; k < n && k < IMPORT_CONTENT_MAX; k++)
			vbuf_append_byte(&v, (k + 1) % 78 == 0 ? '\n' : 'x');
		t = raw_template(v.data != NULL ? v.data : "", v.len);
		cJSON_AddStringToObject(data, "raw", t);
		xfree(t);
		vbuf_free(&v);
		return data;
	}
	{
		char *t = raw_template(p, n > IMPORT_CONTENT_MAX ? IMPORT_CONTENT_MAX : n);

		cJSON_AddStringToObject(data, "raw", t);
		xfree(t);
	}
	return data;
}

/* ---- client role ------------------------------------------------------ */

static cJSON *
new_scenario(const char *id, const char *summary, const char *role)
{
	cJSON *s = cJSON_CreateObject();
	cJSON *refs = cJSON_CreateArray();

	cJSON_AddStringToObject(s, "id", id);
	cJSON_AddStringToObject(s, "summary", summary);
	cJSON_AddItemToArray(refs, cJSON_CreateString("RFC 5321 §4.1"));
	cJSON_AddItemToObject(s, "refs", refs);
	cJSON_AddStringToObject(s, "role", role);
	return s;
}

static void
note_stop(const dlg *d, cJSON *s)
{
	const char *why = NULL;

	if (d->tls_start >= 0)
		why = "the session went on in TLS, which was not kept";
	else if (d->gap >= 0)
		why = "the capture lost bytes of the session";
	else if (d->cut || d->reply_error)
		why = "the session passed a limit of the dialog reader";
	if (why != NULL) {
		char *c = xasprintf("imported up to where %s", why);

		cJSON_AddStringToObject(s, "comment", c);
		xfree(c);
	}
}

/* The session is imported only up to here: the scenario says so. */
static void
cut_note(cJSON *s)
{
	cJSON_DeleteItemFromObject(s, "comment");
	cJSON_AddStringToObject(s, "comment", "imported only in part: the session is longer "
	    "than a scenario may be");
}

/* The last exchange of the group that begins at i. */
static size_t
group_end(const dlg *d, size_t i)
{
	size_t j = i;

	while (j + 1 < d->nex && d->ex[j + 1].group == d->ex[i].group && d->ex[j + 1].pipelined &&
	    j - i + 1 < IMPORT_STEPS_MAX)
		j++;
	return j;
}

cJSON *
import_client(const dlg *d, const char *id, const char *summary, const import_opts *o)
{
	cJSON *s = new_scenario(id, summary, "client");
	cJSON *steps = cJSON_CreateArray();
	imp_budget budget = { 0 };
	size_t i = 0, bytes = 0;

	note_stop(d, s);
	if (d->nex > 0 && d->ex[0].kind == DLG_GREETING) {
		cJSON *step = cJSON_CreateObject();

		if (d->ex[0].reply != NULL && d->ex[0].reply->code == 554 && !o->replay)
			cJSON_AddBoolToObject(s, "refuse_ok", 1);
		cJSON_AddItemToObject(step, "recv", expectation(d, 0, o, &budget));
		cJSON_AddItemToArray(steps, step);
		i = 1;
	} else {
		cJSON *step = cJSON_CreateObject();

		/* The capture began after the greeting; a new connection
		 * still gets one. */
		cJSON_AddItemToObject(step, "recv", cJSON_CreateObject());
		cJSON_AddItemToArray(steps, step);
	}
	if (o->replay)	/* any greeting is compared, never a SKIP */
		cJSON_AddBoolToObject(s, "refuse_ok", 1);
	while (i < d->nex) {
		size_t j = group_end(d, i), nlines = j - i + 1, answered = 0;
		cJSON *step, *recv;
		char **lines;
		int all_send;

		for (size_t k = i; k <= j; k++)
			bytes += d->ex[k].c2s_len > IMPORT_CONTENT_MAX ? IMPORT_CONTENT_MAX :
			    d->ex[k].c2s_len;
		if (cJSON_GetArraySize(steps) >= IMPORT_STEPS_MAX || (bytes > IMPORT_BYTES_MAX &&
		    cJSON_GetArraySize(steps) > 1)) {
			cut_note(s);
			break;
		}
		step = cJSON_CreateObject();
		lines = xcalloc(nlines, sizeof(*lines));
		all_send = 1;

		for (size_t k = i; k <= j; k++) {
			int auth_data;

			answered += d->ex[k].reply != NULL;
			if (d->ex[k].kind != DLG_COMMAND) {
				all_send = 0;
				continue;
			}
			lines[k - i] = cmd_line(d, k, o, &auth_data);
			if (!sendable(d, &d->ex[k], lines[k - i]))
				all_send = 0;
		}
		if (nlines == 1 && d->ex[i].kind == DLG_CONTENT) {
			cJSON_AddItemToObject(step, "data", content_data(d, &d->ex[i], o));
		} else if (all_send && (answered == nlines || (nlines == 1 && answered == 0))) {
			if (nlines == 1) {
				cJSON_AddStringToObject(step, "send", lines[0]);
			} else {
				cJSON *arr = cJSON_CreateArray();

				for (size_t k = 0; k < nlines; k++)
					cJSON_AddItemToArray(arr, cJSON_CreateString(lines[k]));
				cJSON_AddItemToObject(step, "send", arr);
				cJSON_AddBoolToObject(step, "pipeline", 1);
			}
		} else {
			/* Bytes as they went: one write, then the replies. A
			 * redacted command is sent as its line and CRLF. */
			vbuf v = { 0 };
			char *t;

			for (size_t k = i; k <= j; k++) {
				const dlg_exchange *e = &d->ex[k];

				if (e->kind == DLG_CONTENT && o->redact) {
					for (size_t b = 0; b + 3 < e->c2s_len; b++)
						vbuf_append_str(&v, (b + 1) % 78 == 0 ? "\r\n" : "x");
					vbuf_append_str(&v, "\r\n.\r\n");
				} else if (lines[k - i] != NULL && strcmp(lines[k - i], e->line) != 0) {
					vbuf_append_str(&v, lines[k - i]);
					vbuf_append_str(&v, "\r\n");
				} else {
					vbuf_append(&v, c2s_bytes(d, e), e->c2s_len);
				}
			}
			t = raw_template(v.data != NULL ? v.data : "", v.len);
			cJSON_AddStringToObject(step, "raw", t);
			xfree(t);
			vbuf_free(&v);
		}
		if (answered == 1 && nlines == 1) {
			cJSON_AddItemToObject(step, "recv", expectation(d, i, o, &budget));
		} else if (answered > 0) {
			recv = cJSON_CreateArray();
			for (size_t k = i; k <= j; k++)
				if (d->ex[k].reply != NULL)
					cJSON_AddItemToArray(recv, expectation(d, k, o, &budget));
			cJSON_AddItemToObject(step, "recv", recv);
		}
		for (size_t k = 0; k < nlines; k++)
			xfree(lines[k]);
		xfree(lines);
		cJSON_AddItemToArray(steps, step);
		i = j + 1;
	}
	/* How the recorded client ended a session that it did not QUIT. */
	if (d->nex == 0 || d->ex[d->nex - 1].kind != DLG_COMMAND ||
	    d->ex[d->nex - 1].cmd.verb != SMTP_VERB_QUIT) {
		if (d->client_rst >= 0 || d->client_fin >= 0) {
			cJSON *step = cJSON_CreateObject();

			cJSON_AddStringToObject(step, "drop", d->client_rst >= 0 &&
			    (d->client_fin < 0 || d->client_rst < d->client_fin) ? "reset" : "close");
			cJSON_AddItemToArray(steps, step);
		}
	}
	cJSON_AddItemToObject(s, "steps", steps);
	return s;
}

/* ---- server role ------------------------------------------------------ */

/* The reply of exchange e for a server-role step, added to step under
 * key (a "reply"/"greet" key, or "raw_reply" when the bytes are not
 * plain lines). */
static void
add_reply(cJSON *step, const char *key, const smtp_reply *r)
{
	cJSON *lines;
	int plain = 1;

	if (r == NULL) {
		cJSON_AddNullToObject(step, key);
		return;
	}
	for (size_t i = 0; i < r->nlines && plain; i++) {
		const smtp_reply_line *l = &r->lines[i];
		size_t end = l->off + l->len;

		plain = r->raw[end] == '\r' && r->raw[end + 1] == '\n' &&
		    plain_text(r->raw + l->off, l->len) && l->len > 0;
	}
	if (plain && r->nlines > 0) {
		if (r->nlines == 1) {
			char *line = xstrndup(r->raw + r->lines[0].off, r->lines[0].len);

			cJSON_AddStringToObject(step, key, line);
			xfree(line);
			return;
		}
		lines = cJSON_CreateArray();
		for (size_t i = 0; i < r->nlines; i++) {
			char *line = xstrndup(r->raw + r->lines[i].off, r->lines[i].len);

			cJSON_AddItemToArray(lines, cJSON_CreateString(line));
			xfree(line);
		}
		cJSON_AddItemToObject(step, key, lines);
		return;
	}
	{
		char *t = raw_template(r->raw, r->raw_len);

		if (strcmp(key, "greet") == 0)
			cJSON_AddBoolToObject(step, "greet", 1);
		cJSON_AddStringToObject(step, "raw_reply", t);
		xfree(t);
	}
}

/* 1 if a capability line may stand in "ehlo": a keyword, then printable
 * parameters. */
static int
ehlo_line_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (isalnum((unsigned char)s[i]) || (i > 0 && s[i] == '-')))
		i++;
	/* The loader's bounds: a keyword under 64 bytes, a line of 500. */
	return i > 0 && i < 64 && n <= 500 && (i == n || s[i] == ' ') && plain_text(s, n);
}

cJSON *
import_server(const dlg *d, const char *id, const char *summary, const import_opts *o)
{
	cJSON *s = new_scenario(id, summary, "server");
	cJSON *steps = cJSON_CreateArray(), *ehlo = cJSON_CreateArray(), *client;
	size_t i = 0, bytes = 0;
	int quit = 0, cut = 0;

	(void)o;
	note_stop(d, s);
	/* The capability set: what the recorded server last advertised. */
	for (size_t k = 0; k < d->nex; k++) {
		const dlg_exchange *e = &d->ex[k];

		if (e->kind != DLG_COMMAND || e->cmd.verb != SMTP_VERB_EHLO || e->reply == NULL ||
		    e->reply->code != 250)
			continue;
		cJSON_Delete(ehlo);
		ehlo = cJSON_CreateArray();
		for (size_t l = 1; l < e->reply->nlines && l <= 100; l++) {
			size_t tl;
			const char *tx = smtp_reply_text(e->reply, l, &tl);

			if (ehlo_line_ok(tx, tl)) {
				char *c = xstrndup(tx, tl);

				cJSON_AddItemToArray(ehlo, cJSON_CreateString(c));
				xfree(c);
			}
		}
	}
	cJSON_AddItemToObject(s, "ehlo", ehlo);
	client = cJSON_CreateObject();
	cJSON_AddStringToObject(client, "exit", "any");
	cJSON_AddItemToObject(s, "client", client);

	if (d->nex > 0 && d->ex[0].kind == DLG_GREETING) {
		cJSON *step = cJSON_CreateObject();

		add_reply(step, "greet", d->ex[0].reply);
		cJSON_AddItemToArray(steps, step);
		i = 1;
	}
	for (; i < d->nex; i++) {
		const dlg_exchange *e = &d->ex[i];
		cJSON *step;

		bytes += e->reply != NULL ? e->reply->raw_len : 0;
		if (cJSON_GetArraySize(steps) >= IMPORT_STEPS_MAX || bytes > IMPORT_BYTES_MAX) {
			cut_note(s);
			cut = 1;
			break;
		}
		step = cJSON_CreateObject();

		if (e->kind == DLG_CONTENT) {
			cJSON_AddStringToObject(step, "expect", "content");
		} else if (e->kind == DLG_BDAT) {
			/* The content step takes every chunk up to BDAT LAST;
			 * earlier chunks get the default 250. */
			size_t n = e->cmd.args_len;

			if (n < 4 || strncasecmp(e->cmd.args + n - 4, "LAST", 4) != 0) {
				cJSON_Delete(step);
				continue;
			}
			cJSON_AddStringToObject(step, "expect", "content");
		} else {
			cJSON *x = cJSON_CreateObject();
			int auth_data;
			char *line = cmd_line(d, i, o, &auth_data);
			const char *name = e->cmd.name;
			size_t nl = strlen(name), k = 0;

			xfree(line);
			while (k < nl && isalpha((unsigned char)name[k]))
				k++;
			/* A credential line has no verb: any command matches. */
			if (!auth_data && nl > 0 && k == nl)
				cJSON_AddStringToObject(x, "verb", name);
			cJSON_AddItemToObject(step, "expect", x);
			quit = e->cmd.verb == SMTP_VERB_QUIT;
		}
		add_reply(step, "reply", e->reply);
		cJSON_AddItemToArray(steps, step);
	}
	if (!quit && !cut && d->tls_start < 0 && d->gap < 0 && !d->cut) {
		cJSON *step = cJSON_CreateObject();

		/* Who ended it: the recorded server, or its client. */
		if ((d->server_fin >= 0 || d->server_rst >= 0) &&
		    (d->client_fin < 0 || (d->server_fin >= 0 && d->server_fin < d->client_fin) ||
		    (d->server_rst >= 0 && d->server_rst < d->client_fin)))
			cJSON_AddStringToObject(step, "drop", d->server_rst >= 0 ? "reset" : "close");
		else
			cJSON_AddBoolToObject(step, "closed", 1);
		cJSON_AddItemToArray(steps, step);
	}
	if (cJSON_GetArraySize(steps) == 0) {
		cJSON *step = cJSON_CreateObject();

		cJSON_AddBoolToObject(step, "greet", 1);
		cJSON_AddItemToArray(steps, step);
	}
	cJSON_AddItemToObject(s, "steps", steps);
	return s;
}
