/*
 * dialog - a transcript read as SMTP (see dialog.h).
 *
 * The segments are walked once, in wire order. Server bytes go through a
 * reply parser; client bytes through a small machine with three modes:
 * command lines (a line reader), message content (a scan for CRLF.CRLF)
 * and a BDAT chunk (a byte count). Replies are matched by counting: the
 * exchanges still owed a reply are always the tail ex[owed .. nex), so the
 * oldest one owed is ex[owed].
 *
 * Timing is read from segment indices, which are in wire order: an
 * exchange is complete when the segment holding its last byte arrived,
 * and a reply is premature when its first byte sits in an earlier segment
 * than its command's last byte.
 */
#include "harness/check/dialog.h"

#include <string.h>

#include "harness/smtp/codes.h"
#include "harness/smtp/line.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

typedef enum walk_mode {
	WALK_COMMAND = 0,	/* command lines */
	WALK_CONTENT,		/* message content after 354 */
	WALK_BDAT		/* the octets of a BDAT chunk */
} walk_mode;

/* A reply that came when nothing was owed while the client was in the
 * middle of sending something: it waits for that to complete. */
typedef struct walk_wait {
	smtp_reply *reply;
	size_t s2c_off;
	size_t seg_first;
	size_t seg_last;
} walk_wait;

typedef struct walk {
	dlg *d;
	const cap_transcript *t;
	smtp_reply_parser *rp;
	smtp_line_reader lr;
	int s2c_stopped;	/* parser error, TLS or a limit: no more S2C */
	int c2s_stopped;	/* TLS or a limit: no more C2S */
	size_t s2c_start;	/* S2C offset where the reply being parsed began */
	size_t s2c_seen;	/* S2C bytes walked so far */
	size_t c2s_avail;	/* C2S bytes that have arrived so far */
	size_t c2s_pos;		/* C2S bytes read by the client machine */
	size_t item_start;	/* C2S offset of the command/content being read */
	walk_mode mode;
	int hold;		/* DATA sent, its reply not yet here */
	size_t hold_ex;		/* that DATA exchange */
	size_t owed;		/* ex[owed .. nex) are owed a reply */
	size_t group_seq;	/* last group number handed out */
	size_t nlines;		/* reply lines kept, for HARNESS_DIALOG_LINES_MAX */
	int opened;
	/* A command line longer than the hard limit: its first
	 * HARNESS_LINE_HARD_MAX bytes, kept until its end arrives. */
	int long_line;
	vbuf long_text;
	unsigned long_flags;
	/* BDAT: the line, kept until the chunk has been read. */
	char *bdat_line;
	size_t bdat_line_len;
	unsigned bdat_flags;
	unsigned long long bdat_left;
	/* Content: position in the CRLF.CRLF matcher and its line flags. */
	int dot_state;
	unsigned content_flags;
	int content_prev_cr;
	walk_wait wait;
} walk;

static void walk_c2s_run(walk *w, int replay);

static void
walk_stop(walk *w)
{
	w->s2c_stopped = 1;
	w->c2s_stopped = 1;
}

/* The segment holding C2S or S2C byte `off` (which exists). */
static size_t
walk_seg_of(const walk *w, cap_dir dir, size_t off)
{
	size_t seg = 0, seg_off;

	if (cap_transcript_locate(w->t, dir, off, &seg, &seg_off) != 0)
		return 0;
	return seg;
}

/* Room for `items` more exchanges or extra replies and `nlines` more reply
 * lines? When not, the dialog is cut: reading stops in both directions. */
static int
walk_room(walk *w, size_t items, size_t nlines)
{
	dlg *d = w->d;

	if (d->nex + d->nextra + items > HARNESS_DIALOG_ITEMS_MAX ||
	    w->nlines + nlines > HARNESS_DIALOG_LINES_MAX) {
		d->cut = 1;
		walk_stop(w);
		return 0;
	}
	w->nlines += nlines;
	return 1;
}

static void
walk_extra(walk *w, smtp_reply *r, size_t s2c_off, size_t seg_first)
{
	dlg *d = w->d;
	dlg_extra *x;

	d->extra = xgrow(d->extra, &d->extra_cap, d->nextra + 1, sizeof(*d->extra));
	x = &d->extra[d->nextra++];
	x->reply = r;
	x->s2c_off = s2c_off;
	x->s2c_seg_first = seg_first;
}

/*
 * Gives exchange i its reply and applies what the reply changes: the
 * extensions in force (a 250 to EHLO sets them, a 250 to HELO clears
 * them, RFC 5321 §4.1.4) and, for the DATA being waited on, the mode the
 * client's bytes are read in (content only after 354, §4.1.1.4). Returns
 * 1 when held client bytes may now be read.
 */
static int
walk_answer(walk *w, size_t i, smtp_reply *r, size_t s2c_off, size_t seg_first, size_t seg_last)
{
	dlg *d = w->d;
	dlg_exchange *e = &d->ex[i];

	e->reply = r;
	e->s2c_off = s2c_off;
	e->s2c_seg_first = seg_first;
	e->s2c_seg_last = seg_last;
	e->premature = e->kind != DLG_GREETING && seg_first < e->c2s_seg_last;
	if (e->kind == DLG_COMMAND && r->code == 250) {
		if (e->cmd.verb == SMTP_VERB_EHLO) {
			if (d->have_ehlo)
				smtp_ehlo_clear(&d->ehlo);
			smtp_ehlo_parse(r, &d->ehlo);
			d->have_ehlo = 1;
			d->exts = 0;
			for (size_t k = 0; k < d->ehlo.nkw; k++)
				d->exts |= smtp_ext_from_keyword(d->ehlo.kw[k].keyword);
		} else if (e->cmd.verb == SMTP_VERB_HELO) {
			d->exts = 0;
		}
	}
	if (w->hold && i == w->hold_ex) {
		w->hold = 0;
		w->mode = r->code == 354 ? WALK_CONTENT : WALK_COMMAND;
		w->dot_state = 2;	/* content starts as if after a CRLF */
		w->content_flags = 0;
		w->content_prev_cr = 0;
		w->item_start = w->c2s_pos;
		return 1;
	}
	return 0;
}

/*
 * Adds an exchange for client bytes [off, off + len) (a greeting has none,
 * and takes `seg`, its OPEN event) and takes ownership of `line`, whose
 * length is line_len (it may hold NULs). `replay` says the bytes were held
 * behind a DATA and so were sent while that DATA was owed a reply.
 */
static void
walk_add(walk *w, dlg_kind kind, char *line, size_t line_len, unsigned flags, size_t off,
    size_t len, size_t seg, int replay)
{
	dlg *d = w->d;
	dlg_exchange *e;
	size_t i;

	if (!walk_room(w, 1, 0)) {
		xfree(line);
		return;
	}
	d->ex = xgrow(d->ex, &d->ex_cap, d->nex + 1, sizeof(*d->ex));
	i = d->nex++;
	e = &d->ex[i];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = line;
	smtp_cmd_parse(line, line_len, &e->cmd);
	/* A line sent after a 334 to AUTH is the client's SASL response
	 * (RFC 4954 §4), part of the AUTH exchange and judged as such. */
	if (kind == DLG_COMMAND && i > 0 && d->ex[i - 1].kind == DLG_COMMAND &&
	    d->ex[i - 1].cmd.verb == SMTP_VERB_AUTH && d->ex[i - 1].reply != NULL &&
	    d->ex[i - 1].reply->code == 334)
		e->cmd.verb = SMTP_VERB_AUTH;
	e->line_flags = flags;
	e->c2s_off = off;
	e->c2s_len = len;
	if (kind == DLG_GREETING) {
		e->c2s_seg_first = e->c2s_seg_last = seg;
	} else {
		e->c2s_seg_first = walk_seg_of(w, CAP_C2S, off);
		e->c2s_seg_last = walk_seg_of(w, CAP_C2S, off + len - 1);
	}
	e->pipelined = kind != DLG_GREETING && (w->owed < i || replay);
	if (e->pipelined)
		e->group = d->ex[i - 1].group;
	else
		e->group = kind == DLG_GREETING ? 0 : ++w->group_seq;
	e->exts = d->exts;
	if (kind == DLG_COMMAND && e->cmd.verb == SMTP_VERB_DATA) {
		w->hold = 1;
		w->hold_ex = i;
	}
	if (w->wait.reply != NULL && w->owed == i) {
		walk_wait wt = w->wait;

		memset(&w->wait, 0, sizeof(w->wait));
		w->owed = i + 1;
		walk_answer(w, i, wt.reply, wt.s2c_off, wt.seg_first, wt.seg_last);
	}
}

/* A NUL-terminated copy of a line that may itself hold NULs. */
static char *
walk_line_copy(const char *text, size_t len)
{
	char *s = xmalloc(len + 1);

	memcpy(s, text, len);
	s[len] = '\0';
	return s;
}

/*
 * "BDAT n [LAST]" (RFC 3030 §2): the chunk size, or -1 when the argument
 * is not a number (then the line is an ordinary command). A size past
 * what fits saturates; the chunk is counted down, never stored.
 */
static int
walk_bdat_size(const smtp_cmd *cmd, unsigned long long *n)
{
	size_t k = 0;

	*n = 0;
	while (k < cmd->args_len && cmd->args[k] >= '0' && cmd->args[k] <= '9') {
		unsigned d = (unsigned)(cmd->args[k] - '0');

		*n = *n > (~0ULL - d) / 10 ? ~0ULL : *n * 10 + d;
		k++;
	}
	if (k == 0 || (k < cmd->args_len && cmd->args[k] != ' '))
		return -1;
	return 0;
}

/* One command line read in command mode. */
static void
walk_line(walk *w, const smtp_line *ln, int replay)
{
	size_t off = w->item_start, len = w->c2s_pos - w->item_start;
	unsigned flags = ln->flags;
	size_t copy_len;
	char *copy;
	smtp_cmd cmd;

	if (ln->flags & SMTP_LINE_TOO_LONG_HARD) {
		/* Keep the first piece only; the line ends later. */
		if (!w->long_line) {
			w->long_line = 1;
			vbuf_reset(&w->long_text);
			vbuf_append(&w->long_text, ln->text, ln->len);
			w->long_flags = 0;
		}
		w->long_flags |= ln->flags;
		return;
	}
	if (w->long_line) {
		copy_len = w->long_text.len;
		copy = walk_line_copy(w->long_text.data ? w->long_text.data : "", copy_len);
		flags |= w->long_flags;
		w->long_line = 0;
		vbuf_free(&w->long_text);
	} else {
		copy_len = ln->len;
		copy = walk_line_copy(ln->text, copy_len);
	}
	smtp_cmd_parse(copy, copy_len, &cmd);
	if (cmd.verb == SMTP_VERB_BDAT) {
		unsigned long long n;

		if (walk_bdat_size(&cmd, &n) == 0) {
			if (n == 0) {
				walk_add(w, DLG_BDAT, copy, copy_len, flags, off, len, 0, replay);
				w->item_start = w->c2s_pos;
				return;
			}
			w->mode = WALK_BDAT;
			w->bdat_line = copy;
			w->bdat_line_len = copy_len;
			w->bdat_flags = flags;
			w->bdat_left = n;
			return;
		}
	}
	walk_add(w, DLG_COMMAND, copy, copy_len, flags, off, len, 0, replay);
	w->item_start = w->c2s_pos;
}

/*
 * Scans content for the CRLF.CRLF that ends it, from `p`; returns the
 * bytes used and sets *done at the end. Line flags of the content (bare
 * CR or LF, NUL, 8-bit) are gathered on the way for the client checks.
 */
static inline int
walk_plain(unsigned char c)
{
	return c != '\r' && c != '\n' && c != '\0' && c < 0x80;
}

/* 1 when none of the 8 bytes at p is CR, LF, NUL or 8-bit: a zero
 * byte shows in (v - 0x01..) & ~v & 0x80.., and CR and LF as a zero
 * byte of v ^ 0x0d.. and v ^ 0x0a.. */
static inline int
walk_plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t v, cr, lf;

	memcpy(&v, p, 8);
	cr = v ^ (ones * '\r');
	lf = v ^ (ones * '\n');
	return (((v - ones) & ~v) | ((cr - ones) & ~cr) | ((lf - ones) & ~lf) | v) & highs ?
	    0 : 1;
}

static size_t
walk_content_scan(walk *w, const char *p, size_t n, int *done)
{
	/* States: 0 none, 1 "\r", 2 "\r\n", 3 "\r\n.", 4 "\r\n.\r". */
	for (size_t i = 0; i < n; i++) {
		unsigned char c;

		/* Most content is plain text in the middle of a line, which
		 * changes neither the state nor the flags: skip it quickly. */
		if (w->dot_state == 0 && !w->content_prev_cr) {
			while (i + 8 <= n && walk_plain8(p + i))
				i += 8;
			while (i < n && walk_plain((unsigned char)p[i]))
				i++;
			if (i == n)
				break;
		}
		c = (unsigned char)p[i];

		if (w->content_prev_cr && c != '\n')
			w->content_flags |= SMTP_LINE_BARE_CR;
		if (c == '\n' && !w->content_prev_cr)
			w->content_flags |= SMTP_LINE_BARE_LF;
		if (c == '\0')
			w->content_flags |= SMTP_LINE_NUL;
		else if (c >= 0x80)
			w->content_flags |= SMTP_LINE_8BIT;
		w->content_prev_cr = c == '\r';
		switch (w->dot_state) {
		case 1:
			w->dot_state = c == '\n' ? 2 : c == '\r' ? 1 : 0;
			break;
		case 2:
			w->dot_state = c == '.' ? 3 : c == '\r' ? 1 : 0;
			break;
		case 3:
			w->dot_state = c == '\r' ? 4 : 0;
			break;
		case 4:
			if (c == '\n') {
				*done = 1;
				return i + 1;
			}
			w->dot_state = c == '\r' ? 1 : 0;
			break;
		default:
			w->dot_state = c == '\r' ? 1 : 0;
			break;
		}
	}
	*done = 0;
	return n;
}

/* Reads the client bytes that have arrived, in the current mode, until
 * they run out or a DATA waits for its reply. */
static void
walk_c2s_run(walk *w, int replay)
{
	const char *stream = w->t->stream[CAP_C2S].data;

	while (!w->hold && !w->c2s_stopped && w->c2s_pos < w->c2s_avail) {
		const char *p = stream + w->c2s_pos;
		size_t n = w->c2s_avail - w->c2s_pos;

		if (w->mode == WALK_COMMAND) {
			smtp_line ln;
			size_t used = 0;
			int got = smtp_line_feed(&w->lr, p, n, &used, &ln);

			w->c2s_pos += used;
			if (got)
				walk_line(w, &ln, replay);
			else if (used == 0)
				break;
		} else if (w->mode == WALK_CONTENT) {
			int done;
			size_t used = walk_content_scan(w, p, n, &done);

			w->c2s_pos += used;
			if (done) {
				w->mode = WALK_COMMAND;
				walk_add(w, DLG_CONTENT, xstrdup(""), 0, w->content_flags,
				    w->item_start, w->c2s_pos - w->item_start, 0, replay);
				w->item_start = w->c2s_pos;
			}
		} else {
			size_t used = (unsigned long long)n < w->bdat_left ?
			    n : (size_t)w->bdat_left;

			w->c2s_pos += used;
			w->bdat_left -= used;
			if (w->bdat_left == 0) {
				char *line = w->bdat_line;

				w->bdat_line = NULL;
				w->mode = WALK_COMMAND;
				walk_add(w, DLG_BDAT, line, w->bdat_line_len, w->bdat_flags, w->item_start,
				    w->c2s_pos - w->item_start, 0, replay);
				w->item_start = w->c2s_pos;
			}
		}
	}
}

/* A complete reply occupying S2C bytes [start, end). */
static void
walk_reply(walk *w, smtp_reply *r, size_t start, size_t end)
{
	dlg *d = w->d;
	size_t seg_first = walk_seg_of(w, CAP_S2C, start);
	size_t seg_last = walk_seg_of(w, CAP_S2C, end - 1);

	if (!walk_room(w, w->owed < d->nex ? 0 : 1, r->nlines)) {
		smtp_reply_free(r);
		return;
	}
	if (w->owed < d->nex) {
		size_t i = w->owed++;

		/* The reply to a DATA may release held client bytes: they
		 * were sent before this reply, while DATA was owed. */
		if (walk_answer(w, i, r, start, seg_first, seg_last))
			walk_c2s_run(w, 1);
		return;
	}
	/* Nothing owed. Something the client has begun but not finished
	 * may be what the server (prematurely) answers. */
	if (w->wait.reply == NULL && w->c2s_pos > w->item_start) {
		w->wait.reply = r;
		w->wait.s2c_off = start;
		w->wait.seg_first = seg_first;
		w->wait.seg_last = seg_last;
		return;
	}
	walk_extra(w, r, start, seg_first);
}

static void
walk_s2c(walk *w, const cap_segment *s)
{
	const char *data = w->t->stream[CAP_S2C].data;
	size_t pos = s->off, end = s->off + s->len;

	while (pos < end && !w->s2c_stopped) {
		smtp_reply *r = NULL;
		size_t used = 0;
		smtp_feed_status st = smtp_reply_feed(w->rp, data + pos, end - pos, &used, &r);

		pos += used;
		if (st == SMTP_FEED_ERROR) {
			w->d->reply_error = 1;
			w->d->reply_error_msg = xstrdup(smtp_reply_parser_error(w->rp));
			w->d->reply_error_off = w->s2c_start;
			w->s2c_stopped = 1;
			break;
		}
		if (st == SMTP_FEED_REPLY) {
			size_t start = w->s2c_start;

			w->s2c_start = pos;
			walk_reply(w, r, start, pos);
			continue;
		}
		if (used == 0)
			break;
	}
	w->s2c_seen = end;
}

/*
 * TLS started and the transcript holds what it carried, in plaintext.
 * Both sides start over (RFC 3207 §4.2): replies owed from before are
 * not coming, partial lines and replies are dropped, the extensions are
 * forgotten until the next EHLO.
 */
static void
walk_tls_restart(walk *w)
{
	dlg *d = w->d;

	if (w->wait.reply != NULL) {
		walk_extra(w, w->wait.reply, w->wait.s2c_off, w->wait.seg_first);
		w->wait.reply = NULL;
	}
	for (; w->owed < d->nex; w->owed++)
		d->ex[w->owed].tls_dropped = 1;
	w->hold = 0;
	w->mode = WALK_COMMAND;
	xfree(w->bdat_line);
	w->bdat_line = NULL;
	w->bdat_left = 0;
	w->long_line = 0;
	smtp_line_reader_free(&w->lr);
	smtp_line_reader_init(&w->lr, HARNESS_LINE_HARD_MAX);
	smtp_reply_parser_free(w->rp);
	w->rp = smtp_reply_parser_new();
	w->c2s_pos = w->item_start = w->c2s_avail;
	w->s2c_start = w->s2c_seen;
	if (d->have_ehlo)
		smtp_ehlo_clear(&d->ehlo);
	d->have_ehlo = 0;
	d->exts = 0;
}

static void
walk_event(walk *w, size_t i, const cap_segment *s)
{
	dlg *d = w->d;
	long *slot = NULL;

	switch (s->kind) {
	case CAP_OPEN:
		if (!w->opened) {
			w->opened = 1;
			walk_add(w, DLG_GREETING, xstrdup(""), 0, 0, 0, 0, i, 0);
		}
		return;
	case CAP_FIN:
		slot = s->dir == CAP_C2S ? &d->client_fin : &d->server_fin;
		break;
	case CAP_RST:
		slot = s->dir == CAP_C2S ? &d->client_rst : &d->server_rst;
		break;
	case CAP_TLS_START:
		if (d->tls_start < 0)
			d->tls_start = (long)i;
		if (w->t->tls_plaintext && !w->s2c_stopped && !w->c2s_stopped) {
			walk_tls_restart(w);
			return;
		}
		/* What follows is ciphertext. */
		w->s2c_stopped = 1;
		w->c2s_stopped = 1;
		return;
	case CAP_GAP:
		/* Bytes are missing: reading on would join what came before
		 * the hole to what came after. */
		if (d->gap < 0)
			d->gap = (long)i;
		w->s2c_stopped = 1;
		w->c2s_stopped = 1;
		return;
	default:
		return;
	}
	if (*slot < 0)
		*slot = (long)i;
}

dlg *
dlg_build(const cap_transcript *t)
{
	dlg *d = xcalloc(1, sizeof(*d));
	walk w;

	d->t = t;
	d->client_fin = d->server_fin = d->client_rst = d->server_rst = d->tls_start = -1;
	d->gap = -1;
	memset(&w, 0, sizeof(w));
	w.d = d;
	w.t = t;
	w.rp = smtp_reply_parser_new();
	smtp_line_reader_init(&w.lr, HARNESS_LINE_HARD_MAX);
	for (size_t i = 0; i < t->nsegs; i++) {
		const cap_segment *s = &t->segs[i];

		if (s->kind != CAP_DATA) {
			walk_event(&w, i, s);
		} else if (s->dir == CAP_S2C) {
			if (!w.s2c_stopped)
				walk_s2c(&w, s);
		} else if (!w.c2s_stopped) {
			w.c2s_avail = s->off + s->len;
			walk_c2s_run(&w, 0);
		}
	}
	/* A reply that waited for a command that never completed answers
	 * nothing. */
	if (w.wait.reply != NULL)
		walk_extra(&w, w.wait.reply, w.wait.s2c_off, w.wait.seg_first);
	d->c2s_pending = w.c2s_avail - w.item_start;
	xfree(w.bdat_line);
	vbuf_free(&w.long_text);
	smtp_line_reader_free(&w.lr);
	smtp_reply_parser_free(w.rp);
	return d;
}

void
dlg_free(dlg *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nex; i++) {
		xfree(d->ex[i].line);
		smtp_reply_free(d->ex[i].reply);
	}
	xfree(d->ex);
	for (size_t i = 0; i < d->nextra; i++)
		smtp_reply_free(d->extra[i].reply);
	xfree(d->extra);
	if (d->have_ehlo)
		smtp_ehlo_clear(&d->ehlo);
	xfree(d->reply_error_msg);
	xfree(d);
}

static long
dlg_first(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

long
dlg_server_close(const dlg *d)
{
	return dlg_first(d->server_fin, d->server_rst);
}

long
dlg_client_close(const dlg *d)
{
	return dlg_first(d->client_fin, d->client_rst);
}

int
dlg_unanswered(const dlg *d, size_t i)
{
	return i < d->nex && d->ex[i].reply == NULL && !d->ex[i].tls_dropped;
}
