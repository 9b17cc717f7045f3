#include "harness/console/session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "harness/check/dialog.h"
#include "harness/check/passive.h"
#include "harness/console/explain.h"
#include "harness/smtp/codes.h"
#include "harness/smtp/command.h"
#include "harness/smtp/ehlo.h"
#include "harness/smtp/reply.h"
#include "reports/result.h"
#include "harness/util/xalloc.h"

typedef enum step_kind {
	STEP_RECV = 0,		/* replies nobody asked for, or the greeting */
	STEP_SEND,		/* one command line */
	STEP_PIPE,		/* command lines in one write */
	STEP_DATA,		/* message content */
	STEP_RAW,		/* bytes as typed */
	STEP_STARTTLS		/* STARTTLS on its own, the first: a "starttls" step */
} step_kind;

/* A reply as a scenario expectation: its code (-1: none, any reply will
 * do) and its enhanced code, "" when it has none. */
typedef struct seen {
	int code;
	char esc[16];
} seen;

typedef struct step {
	step_kind kind;
	char **lines;
	size_t nlines;
	vbuf wire;		/* what went out, for raw and escaped forms */
	seen *seen;
	size_t nseen;
	size_t seen_cap;
} step;

/* A reply the server owes: for which verb and phase, asked by which step. */
typedef struct owed {
	smtp_verb verb;
	smtp_phase phase;
	size_t step;
} owed;

struct session {
	cap_transcript *t;
	smtp_reply_parser *p;
	int parser_dead;
	owed *q;		/* q[qhead .. qn) are owed, oldest first */
	size_t qhead, qn, qcap;
	step *steps;
	size_t nsteps, steps_cap;
	unsigned exts;
	int server_closed;
	int data_ok;		/* the last reply was 354 to DATA: content may follow */
	int last_code;
	char **shown;		/* findings already shown as they happened */
	size_t nshown, shown_cap;
	int tls;		/* TLS started: the transcript holds its plaintext */
	int implicit_tls;	/* ... right after connecting */
	int starttls_step;	/* a STEP_STARTTLS exists */
	int tls_wanted;		/* its 220 came: the console is to run the handshake */
	size_t set_aside;	/* plaintext bytes after that 220, never read */
};

session *
session_new(void)
{
	session *s = xcalloc(1, sizeof(*s));

	s->t = cap_transcript_new(NULL, NULL);
	s->p = smtp_reply_parser_new();
	s->last_code = -1;
	return s;
}

void
session_free(session *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nsteps; i++) {
		for (size_t k = 0; k < s->steps[i].nlines; k++)
			xfree(s->steps[i].lines[k]);
		xfree(s->steps[i].lines);
		vbuf_free(&s->steps[i].wire);
		xfree(s->steps[i].seen);
	}
	xfree(s->steps);
	xfree(s->q);
	for (size_t i = 0; i < s->nshown; i++)
		xfree(s->shown[i]);
	xfree(s->shown);
	smtp_reply_parser_free(s->p);
	cap_transcript_free(s->t);
	xfree(s);
}

static size_t
step_add(session *s, step_kind kind)
{
	step *st;

	s->steps = xgrow(s->steps, &s->steps_cap, s->nsteps + 1, sizeof(*s->steps));
	st = &s->steps[s->nsteps];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	return s->nsteps++;
}

static void
owe(session *s, smtp_verb verb, smtp_phase phase, size_t stepi)
{
	s->q = xgrow(s->q, &s->qcap, s->qn + 1, sizeof(*s->q));
	s->q[s->qn].verb = verb;
	s->q[s->qn].phase = phase;
	s->q[s->qn].step = stepi;
	s->qn++;
}

void
session_opened(session *s, const struct sockaddr *client, const struct sockaddr *server)
{
	cap_transcript_set_endpoints(s->t, client, server);
	cap_transcript_add_event(s->t, CAP_OPEN, CAP_C2S, cap_now_us());
	owe(s, SMTP_VERB_UNKNOWN, SMTP_PHASE_GREETING, step_add(s, STEP_RECV));
}

/* Shows bytes sent, one "C: " line per line, CRLF understood, any other
 * control byte escaped. */
static void
show_wire(vbuf *out, const char *p, size_t len)
{
	while (len > 0) {
		const char *lf = memchr(p, '\n', len);
		size_t n = lf ? (size_t)(lf - p) + 1 : len;
		size_t show = n;
		char *e;

		if (lf != NULL && n >= 2 && p[n - 2] == '\r')
			show = n - 2;
		e = rpt_escape(p, show);
		vbuf_printf(out, "C: %s\n", e);
		xfree(e);
		p += n;
		len -= n;
	}
}

/* Each CRLF-ended line of bytes is a command a server will answer. */
static void
owe_lines(session *s, const char *bytes, size_t len, size_t stepi)
{
	size_t start = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
			smtp_cmd cmd;

			smtp_cmd_parse(bytes + start, i - start, &cmd);
			owe(s, cmd.verb, SMTP_PHASE_COMMAND, stepi);
			start = i + 2;
		}
	}
}

/* 1 if a DATA command still waits for its reply (typed ahead). */
static int
data_owed(const session *s)
{
	for (size_t i = s->qhead; i < s->qn; i++) {
		if (s->q[i].verb == SMTP_VERB_DATA && s->q[i].phase == SMTP_PHASE_COMMAND)
			return 1;
	}
	return 0;
}

static void
send_bytes(session *s, size_t stepi, const vbuf *w, vbuf *wire, vbuf *out)
{
	if (w->len == 0)
		return;
	cap_transcript_add_data(s->t, CAP_C2S, cap_now_us(), w->data, w->len);
	vbuf_append(wire, w->data, w->len);
	vbuf_append(&s->steps[stepi].wire, w->data, w->len);
	show_wire(out, w->data, w->len);
}

static void
step_lines(step *st, char *const *lines, size_t n)
{
	st->lines = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		st->lines[i] = xstrdup(lines[i]);
	st->nlines = n;
}

void
session_command(session *s, const char *line, size_t len, vbuf *wire, vbuf *out)
{
	char *copy = xstrndup(line, len);

	smtp_cmd cmd;

	session_pipe(s, &copy, 1, wire, out);
	s->steps[s->nsteps - 1].kind = STEP_SEND;
	smtp_cmd_parse(line, len, &cmd);
	/* The scenario language has one "starttls" step: the first STARTTLS
	 * sent on its own, before TLS. A later one stays a plain command. */
	if (cmd.verb == SMTP_VERB_STARTTLS && !s->tls && !s->starttls_step) {
		s->steps[s->nsteps - 1].kind = STEP_STARTTLS;
		s->starttls_step = 1;
	}
	xfree(copy);
}

void
session_auth_line(session *s, const char *line, size_t len, vbuf *wire, vbuf *out)
{
	session_command(s, line, len, wire, out);
	s->q[s->qn - 1].verb = SMTP_VERB_AUTH;
}

int
session_last_code(const session *s)
{
	return s->last_code;
}

void
session_pipe(session *s, char *const *lines, size_t n, vbuf *wire, vbuf *out)
{
	size_t stepi = step_add(s, STEP_PIPE);
	vbuf w = VBUF_INIT;

	step_lines(&s->steps[stepi], lines, n);
	s->data_ok = 0;
	for (size_t i = 0; i < n; i++) {
		smtp_cmd cmd;

		smtp_cmd_format(&w, lines[i]);
		smtp_cmd_parse(lines[i], strlen(lines[i]), &cmd);
		owe(s, cmd.verb, SMTP_PHASE_COMMAND, stepi);
	}
	send_bytes(s, stepi, &w, wire, out);
	vbuf_free(&w);
}

void
session_data(session *s, char *const *lines, size_t n, vbuf *wire, vbuf *out)
{
	size_t stepi = step_add(s, STEP_DATA);
	vbuf w = VBUF_INIT;

	step_lines(&s->steps[stepi], lines, n);
	smtp_data_stuff_lines(&w, (const char *const *)lines, n);
	if (s->data_ok || data_owed(s)) {
		owe(s, SMTP_VERB_DATA, SMTP_PHASE_DATA_END, stepi);
	} else {
		/* Without a 354 the server reads each line as a command. */
		vbuf_append_str(out, "  = DATA was not answered 354: the server will read "
		    "these lines as commands\n");
		owe_lines(s, w.data, w.len, stepi);
	}
	s->data_ok = 0;
	send_bytes(s, stepi, &w, wire, out);
	vbuf_free(&w);
}

void
session_raw(session *s, const char *bytes, size_t len, vbuf *wire, vbuf *out)
{
	size_t stepi = step_add(s, STEP_RAW);
	vbuf w = VBUF_INIT;

	vbuf_append(&w, bytes, len);
	owe_lines(s, bytes, len, stepi);
	s->data_ok = 0;
	send_bytes(s, stepi, &w, wire, out);
	vbuf_free(&w);
}

static void
step_seen(step *st, const smtp_reply *r)
{
	seen *v;

	st->seen = xgrow(st->seen, &st->seen_cap, st->nseen + 1, sizeof(*st->seen));
	v = &st->seen[st->nseen++];
	memset(v, 0, sizeof(*v));
	v->code = r->code;
	if (r->esc.present && !r->esc.bad)
		snprintf(v->esc, sizeof(v->esc), "%d.%d.%d", r->esc.cls, r->esc.subject,
		    r->esc.detail);
}

static void
show_reply(vbuf *out, const smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++) {
		char *e = rpt_escape(r->raw + r->lines[i].off, r->lines[i].len);

		vbuf_printf(out, "S: %s\n", e);
		xfree(e);
	}
}

static void
reply_answered(session *s, const smtp_reply *r, vbuf *out)
{
	owed o;
	char *note;

	s->last_code = r->code;
	if (s->qhead == s->qn) {
		size_t last = s->nsteps - 1;

		/* Raw bytes may draw more replies than their CRLFs promise. */
		if (s->nsteps == 0 || (s->steps[last].kind != STEP_RAW &&
		    s->steps[last].kind != STEP_RECV))
			last = step_add(s, STEP_RECV);
		step_seen(&s->steps[last], r);
		show_reply(out, r);
		if (r->code < 0) {
			note = explain_reply(SMTP_VERB_UNKNOWN, SMTP_PHASE_COMMAND, s->exts, r);
			vbuf_printf(out, "  = unsolicited (no command was owed a reply); %s\n", note);
			xfree(note);
		} else {
			const char *what = explain_code(r->code);

			vbuf_printf(out, "  = unsolicited (no command was owed a reply, RFC 5321 "
			    "§4.2); %d %s\n", r->code, what ? what : "is no code RFC 5321 or its "
			    "extensions define");
		}
		return;
	}
	o = s->q[s->qhead++];
	if (o.verb == SMTP_VERB_DATA && o.phase == SMTP_PHASE_COMMAND)
		s->data_ok = r->code == 354;
	step_seen(&s->steps[o.step], r);
	show_reply(out, r);
	note = explain_reply(o.verb, o.phase, s->exts, r);
	vbuf_printf(out, "  = %s\n", note);
	xfree(note);
	if (o.phase == SMTP_PHASE_COMMAND && o.verb == SMTP_VERB_EHLO && r->code == 250) {
		smtp_ehlo e;
		char *table;

		smtp_ehlo_parse(r, &e);
		s->exts = 0;
		for (size_t i = 0; i < e.nkw; i++)
			s->exts |= smtp_ext_from_keyword(e.kw[i].keyword);
		table = explain_ehlo(&e);
		vbuf_append_str(out, table);
		xfree(table);
		smtp_ehlo_clear(&e);
	} else if (o.phase == SMTP_PHASE_COMMAND && o.verb == SMTP_VERB_HELO && r->code == 250) {
		s->exts = 0;
	} else if (o.verb == SMTP_VERB_STARTTLS && r->code == 220) {
		if (s->steps[o.step].kind == STEP_STARTTLS && !s->tls && s->qhead == s->qn) {
			s->tls_wanted = 1;
			vbuf_append_str(out, "  = the TLS handshake follows\n");
		} else {
			vbuf_append_str(out, "  = the server now waits for a handshake; this console "
			    "runs one only for the first STARTTLS sent on its own, before TLS, with "
			    "nothing typed after it\n");
		}
	}
}

static void
finding_show(vbuf *out, const rpt_finding *f)
{
	vbuf_printf(out, "  ! %s %s (%s): %s", rpt_verdict_str(f->verdict), f->check,
	    f->refs ? f->refs : "", f->message ? f->message : "");
	if (f->evidence.present)
		vbuf_printf(out, " [%s segment %zu, byte %zu]", cap_dir_str(f->evidence.dir),
		    f->evidence.seg, f->evidence.off);
	vbuf_append_byte(out, '\n');
}

/*
 * The passive checks' FAIL and WARN findings about the server's bytes
 * that were not shown yet. Only findings whose evidence is in what the
 * server sent are shown as they happen: those about what is still
 * missing (a reply, the close after QUIT) may change with the next
 * bytes, and wait for :check or the end.
 */
static void
findings_new(session *s, vbuf *out)
{
	dlg *d = dlg_build(s->t);
	rpt_scenario *sc = rpt_scenario_new("probe", "probe session", NULL);

	chk_passive_server(s->t, d, sc);
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];
		char *key;
		size_t k;

		if ((f->verdict != RPT_FAIL && f->verdict != RPT_WARN) || !f->evidence.present ||
		    f->evidence.dir != CAP_S2C)
			continue;
		key = xasprintf("%s %zu %zu %s", f->check, f->evidence.seg, f->evidence.off,
		    f->message ? f->message : "");
		for (k = 0; k < s->nshown && strcmp(s->shown[k], key) != 0; k++)
			;
		if (k < s->nshown) {
			xfree(key);
			continue;
		}
		s->shown = xgrow(s->shown, &s->shown_cap, s->nshown + 1, sizeof(char *));
		s->shown[s->nshown++] = key;
		finding_show(out, f);
	}
	rpt_scenario_free(sc);
	dlg_free(d);
}

int
session_received(session *s, const char *buf, size_t len, vbuf *out)
{
	size_t replies = 0;

	if (len == 0)
		return s->parser_dead ? -1 : 0;
	cap_transcript_add_data(s->t, CAP_S2C, cap_now_us(), buf, len);
	while (len > 0 && !s->parser_dead) {
		size_t used = 0;
		smtp_reply *r = NULL;
		smtp_feed_status st = smtp_reply_feed(s->p, buf, len, &used, &r);

		if (st == SMTP_FEED_ERROR) {
			vbuf_printf(out, "  = the server's bytes pass a hard limit: %s; no more "
			    "replies are read\n", smtp_reply_parser_error(s->p));
			s->parser_dead = 1;
			break;
		}
		if (st == SMTP_FEED_REPLY) {
			reply_answered(s, r, out);
			smtp_reply_free(r);
			replies++;
		}
		buf += used;
		len -= used;
		if (s->tls_wanted) {
			/* What the server wrote after its 220 in plaintext is not
			 * read (RFC 3207 §4.2); it stays in the transcript. */
			s->set_aside = len + smtp_reply_parser_pending(s->p);
			if (s->set_aside > 0)
				vbuf_printf(out, "  = %zu plaintext byte%s after the 220 set aside, "
				    "unread (RFC 3207 §4.2)\n", s->set_aside,
				    s->set_aside == 1 ? "" : "s");
			break;
		}
		if (st == SMTP_FEED_NEED_MORE)
			break;
	}
	if (replies > 0)
		findings_new(s, out);
	return s->parser_dead ? -1 : 0;
}

void
session_server_closed(session *s, int reset)
{
	cap_transcript_add_event(s->t, reset ? CAP_RST : CAP_FIN, CAP_S2C, cap_now_us());
	s->server_closed = 1;
}

int
session_tls_wanted(const session *s)
{
	return s->tls_wanted;
}

void
session_tls_start(session *s, int implicit)
{
	/* Implicit TLS is not marked: the passive checks would read the
	 * greeting after the mark as a reply nobody asked for, as after
	 * STARTTLS. The transcript is then the plaintext of the session. */
	if (!implicit) {
		cap_transcript_add_event(s->t, CAP_TLS_START, CAP_C2S, cap_now_us());
		s->t->tls_plaintext = 1;
	}
	if (s->set_aside > 0) {
		char *note = xasprintf("%zu plaintext byte%s after the 220 set aside", s->set_aside,
		    s->set_aside == 1 ? "" : "s");

		cap_transcript_set_tls_note(s->t, note);
		xfree(note);
	}
	s->tls = 1;
	s->tls_wanted = 0;
	s->data_ok = 0;
	s->exts = 0;
	if (implicit) {
		s->implicit_tls = 1;
	} else {
		/* A fresh start inside TLS (RFC 3207 §4.2): nothing is owed. */
		s->qhead = s->qn = 0;
		smtp_reply_parser_free(s->p);
		s->p = smtp_reply_parser_new();
		s->parser_dead = 0;
	}
}

void
session_tls_note(session *s, const char *note)
{
	if (s->t->tls_note != NULL) {
		char *all = xasprintf("%s; %s", note, s->t->tls_note);

		cap_transcript_set_tls_note(s->t, all);
		xfree(all);
	} else {
		cap_transcript_set_tls_note(s->t, note);
	}
}

void
session_reset(session *s)
{
	s->data_ok = 0;
}

size_t
session_owed(const session *s)
{
	return s->qn - s->qhead;
}

void
session_give_up(session *s)
{
	s->qhead = s->qn = 0;
}

size_t
session_check(const session *s, vbuf *out)
{
	dlg *d = dlg_build(s->t);
	rpt_scenario *sc = rpt_scenario_new("probe", "probe session", NULL);
	size_t fails = 0, warns = 0;

	chk_passive_server(s->t, d, sc);
	for (size_t i = 0; i < sc->nfindings; i++) {
		const rpt_finding *f = &sc->findings[i];

		if (f->verdict == RPT_FAIL)
			fails++;
		else if (f->verdict == RPT_WARN)
			warns++;
		finding_show(out, f);
	}
	vbuf_printf(out, "  passive checks: %zu exercised, %zu FAIL, %zu WARN\n", sc->nexercised,
	    fails, warns);
	rpt_scenario_free(sc);
	dlg_free(d);
	return fails;
}

const cap_transcript *
session_transcript(const session *s)
{
	return s->t;
}

/* 1 if the line cannot go in a "send" template as it is: "${" would
 * expand, and control or 8-bit bytes are better shown escaped. */
static int
needs_raw(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f || (c == '$' && i + 1 < len && p[i + 1] == '{'))
			return 1;
	}
	return 0;
}

/* Bytes as a "raw" template: escapes for everything but printable ASCII,
 * and '$' as \x24 so that nothing expands. */
static char *
raw_template(const char *p, size_t len)
{
	vbuf b = VBUF_INIT;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			vbuf_append_str(&b, "\\r");
		else if (c == '\n')
			vbuf_append_str(&b, "\\n");
		else if (c == '\\')
			vbuf_append_str(&b, "\\\\");
		else if (c < 0x20 || c >= 0x7f || c == '$')
			vbuf_printf(&b, "\\x%02x", c);
		else
			vbuf_append_byte(&b, (char)c);
	}
	return vbuf_take(&b);
}

static cJSON *
expect_json(const seen *v)
{
	cJSON *e = cJSON_CreateObject();

	/* A code a scenario cannot name (the parser keeps 1yz, say) makes
	 * an expectation that any reply meets. */
	if (v->code >= 200 && v->code <= 599)
		cJSON_AddNumberToObject(e, "code", v->code);
	if (v->esc[0] != '\0')
		cJSON_AddStringToObject(e, "esc", v->esc);
	return e;
}

static void
add_recv(cJSON *o, const seen *v, size_t n)
{
	cJSON *a;

	if (n == 0)
		return;
	if (n == 1) {
		cJSON_AddItemToObject(o, "recv", expect_json(&v[0]));
		return;
	}
	a = cJSON_AddArrayToObject(o, "recv");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, expect_json(&v[i]));
}

static void
add_raw(cJSON *o, const char *key, const vbuf *w)
{
	char *t = raw_template(w->data ? w->data : "", w->len);

	cJSON_AddStringToObject(o, key, t);
	xfree(t);
}

/* One step of the session as one or two scenario steps. */
static void
step_json(const step *st, cJSON *steps)
{
	cJSON *o = cJSON_CreateObject();
	int raw = 0;

	for (size_t i = 0; i < st->nlines; i++)
		raw |= needs_raw(st->lines[i], strlen(st->lines[i]));
	switch (st->kind) {
	case STEP_RECV:
		if (st->nseen == 0) {
			cJSON_Delete(o);
			return;
		}
		break;
	case STEP_SEND:
	case STEP_PIPE:
		if (raw) {
			add_raw(o, "raw", &st->wire);
		} else if (st->nlines == 1) {
			cJSON_AddStringToObject(o, "send", st->lines[0]);
		} else {
			cJSON *a = cJSON_AddArrayToObject(o, "send");

			for (size_t i = 0; i < st->nlines; i++)
				cJSON_AddItemToArray(a, cJSON_CreateString(st->lines[i]));
			/* A pipelined group names one reply per command; with
			 * fewer, the lines go out unwaited and a step of their
			 * own reads what came. */
			if (st->nseen == st->nlines) {
				cJSON_AddBoolToObject(o, "pipeline", 1);
			} else {
				cJSON_AddItemToArray(steps, o);
				if (st->nseen == 0)
					return;
				o = cJSON_CreateObject();
			}
		}
		break;
	case STEP_DATA: {
		cJSON *d = cJSON_AddObjectToObject(o, "data");

		if (raw) {
			add_raw(d, "raw", &st->wire);
		} else {
			cJSON *a = cJSON_AddArrayToObject(d, "lines");

			for (size_t i = 0; i < st->nlines; i++)
				cJSON_AddItemToArray(a, cJSON_CreateString(st->lines[i]));
		}
		break;
	}
	case STEP_RAW:
		add_raw(o, "raw", &st->wire);
		break;
	case STEP_STARTTLS:
		/* Judges one reply (RFC 3207 §4: 220, or a refusal that leaves
		 * the session in plaintext); a second one would be a new step. */
		cJSON_AddBoolToObject(o, "starttls", 1);
		add_recv(o, st->seen, st->nseen ? 1 : 0);
		cJSON_AddItemToArray(steps, o);
		if (st->nseen > 1) {
			o = cJSON_CreateObject();
			add_recv(o, st->seen + 1, st->nseen - 1);
			cJSON_AddItemToArray(steps, o);
		}
		return;
	}
	add_recv(o, st->seen, st->nseen);
	cJSON_AddItemToArray(steps, o);
}

char *
session_scenario(const session *s, const char *id, const char *summary)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *steps;
	char *text, *ret;

	cJSON_AddStringToObject(root, "id", id);
	cJSON_AddStringToObject(root, "summary", summary);
	cJSON_AddItemToObject(root, "refs", cJSON_CreateStringArray(
	    (const char *const[]){ "RFC 5321 §4.3.2" }, 1));
	cJSON_AddStringToObject(root, "role", "client");
	if (s->implicit_tls)
		cJSON_AddStringToObject(root, "comment", "Saved by smtp-harness probe: the commands "
		    "typed, with the replies seen as expectations. The session ran over implicit "
		    "TLS (probe --tls), which the scenario language cannot say yet: replayed, "
		    "these steps go out in plaintext and will not pass against that port.");
	else
		cJSON_AddStringToObject(root, "comment", "Saved by smtp-harness probe: the commands "
		    "typed, with the replies seen as expectations.");
	steps = cJSON_AddArrayToObject(root, "steps");
	for (size_t i = 0; i < s->nsteps; i++)
		step_json(&s->steps[i], steps);
	if (s->server_closed) {
		int n = cJSON_GetArraySize(steps);

		/* A starttls step takes no "closed": the close gets a step. */
		if (n == 0 || cJSON_GetObjectItem(cJSON_GetArrayItem(steps, n - 1), "starttls")) {
			cJSON_AddItemToArray(steps, cJSON_CreateObject());
			n++;
		}
		cJSON_AddBoolToObject(cJSON_GetArrayItem(steps, n - 1), "closed", 1);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	ret = xasprintf("%s\n", text);
	cJSON_free(text);
	return ret;
}
