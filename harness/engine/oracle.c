/*
 * oracle - reading the target's mailbox back (oracle.h).
 */
#include "harness/engine/oracle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/check/mailbox.h"
#include "harness/util/harness_limits.h"
#include "harness/util/xalloc.h"

int
orc_parse(const char *arg, orc_spec *out, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		orc_kind kind;
	} kinds[] = {
		{ "maildir:", ORC_MAILDIR }, { "mbox:", ORC_MBOX }, { "dir:", ORC_DIR },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(arg, kinds[i].prefix, n) == 0) {
			if (arg[n] == '\0')
				break;
			out->kind = kinds[i].kind;
			out->path = arg + n;
			return 0;
		}
	}
	snprintf(err, errlen, "--oracle: expected maildir:DIR, mbox:FILE or dir:DIR, got \"%s\"",
	    arg);
	return -1;
}

int
orc_usable(const orc_spec *o, char *err, size_t errlen)
{
	struct stat st;

	if (o->kind == ORC_MBOX) {
		char *dir = xstrdup(o->path);
		char *slash = strrchr(dir, '/');
		int rc = 0;

		if (stat(o->path, &st) == 0) {
			if (!S_ISREG(st.st_mode)) {
				snprintf(err, errlen, "--oracle mbox:%s: not a regular file", o->path);
				rc = -1;
			}
		} else if (errno != ENOENT) {
			snprintf(err, errlen, "--oracle mbox:%s: %s", o->path, strerror(errno));
			rc = -1;
		} else {
			if (slash != NULL)
				*slash = '\0';
			if (stat(slash == NULL ? "." : (dir[0] ? dir : "/"), &st) != 0 ||
			    !S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "--oracle mbox:%s: its directory does not exist",
				    o->path);
				rc = -1;
			}
		}
		xfree(dir);
		return rc;
	}
	if (stat(o->path, &st) != 0) {
		snprintf(err, errlen, "--oracle %s:%s: %s", o->kind == ORC_MAILDIR ? "maildir" : "dir",
		    o->path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--oracle %s:%s: expected a directory, got another kind of file",
		    o->kind == ORC_MAILDIR ? "maildir" : "dir", o->path);
		return -1;
	}
	return 0;
}

void
orc_found_clear(orc_found *f)
{
	for (size_t i = 0; i < f->n; i++) {
		xfree((char *)f->v[i].path);
		xfree((char *)f->v[i].data);
	}
	xfree(f->v);
	memset(f, 0, sizeof(*f));
}

/* Reads at most HARNESS_ORACLE_FILE_MAX octets of path: the start of a
 * message file, the end of an mbox. Sets *base to the offset read from;
 * NULL (with a note) when it cannot be read or a message file is over. */
static char *
orc_read(const char *path, int tail, size_t *len, size_t *base, vbuf *notes)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	size_t want;
	size_t got = 0;

	*base = 0;
	if (fd < 0) {
		if (errno != ENOENT)	/* a Maildir reader moved it: not worth a note */
			vbuf_printf(notes, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	want = (size_t)st.st_size;
	if ((uint64_t)st.st_size > HARNESS_ORACLE_FILE_MAX) {
		if (!tail) {
			vbuf_printf(notes, "%s: over %d octets, not read\n", path,
			    HARNESS_ORACLE_FILE_MAX);
			close(fd);
			return NULL;
		}
		want = HARNESS_ORACLE_FILE_MAX;
		*base = (size_t)st.st_size - want;
		vbuf_printf(notes, "%s: over %d octets, only its end read\n", path,
		    HARNESS_ORACLE_FILE_MAX);
	}
	buf = xmalloc(want + 1);
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)(*base + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;	/* shorter than fstat said: read what is there */
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Every scenario index a message carries (prefix, digits, '-'), each once,
 * gets a copy. */
static void
orc_sort(const char *prefix, const char *path, size_t file_off, const char *data, size_t len,
    int mbox, orc_found *found, size_t n)
{
	size_t plen = strlen(prefix);
	size_t pos = 0;
	long at;
	size_t last = (size_t)-1;

	while ((at = mbx_find(data, len, pos, prefix, plen)) >= 0) {
		size_t p = (size_t)at + plen;
		size_t idx = 0;
		int digits = 0;

		while (p < len && data[p] >= '0' && data[p] <= '9' && digits < 9) {
			idx = idx * 10 + (size_t)(data[p] - '0');
			p++;
			digits++;
		}
		pos = (size_t)at + 1;
		if (digits == 0 || p >= len || data[p] != '-' || idx >= n || idx == last)
			continue;
		last = idx;
		{
			orc_found *f = &found[idx];
			dlv_copy *c;
			int dup = 0;

			for (size_t i = 0; i < f->n; i++)
				if (f->v[i].file_off == file_off && strcmp(f->v[i].path, path) == 0)
					dup = 1;
			if (dup)
				continue;
			if (f->n >= HARNESS_ORACLE_COPIES_MAX) {
				f->cut = 1;
				continue;
			}
			f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
			c = &f->v[f->n++];
			c->path = xstrdup(path);
			c->file_off = file_off;
			c->data = xmemdup(data, len);
			c->len = len;
			c->mbox = mbox;
		}
	}
}

typedef struct orc_walk {
	const char *prefix;
	time_t since;
	orc_found *found;
	size_t n;
	vbuf *notes;
	size_t entries;
} orc_walk;

static void
orc_file(orc_walk *w, const char *path)
{
	size_t len;
	size_t base;
	char *data = orc_read(path, 0, &len, &base, w->notes);

	if (data == NULL)
		return;
	orc_sort(w->prefix, path, 0, data, len, 0, w->found, w->n);
	xfree(data);
}

static void
orc_dir(orc_walk *w, const char *dir, int depth)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	if (dp == NULL) {
		if (errno != ENOENT)
			vbuf_printf(w->notes, "%s: %s\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		struct stat st;
		char *path;

		if (de->d_name[0] == '.')
			continue;	/* ".", "..", and hidden files a writer uses */
		if (++w->entries > HARNESS_ORACLE_FILES_MAX) {
			vbuf_printf(w->notes, "%s: more than %d entries, the rest not read\n", dir,
			    HARNESS_ORACLE_FILES_MAX);
			break;
		}
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth > 0)
				orc_dir(w, path, depth - 1);
			else if (S_ISREG(st.st_mode) && st.st_mtime >= w->since)
				orc_file(w, path);
		}
		xfree(path);
	}
	closedir(dp);
}

static void
orc_mbox(orc_walk *w, const char *path)
{
	size_t len;
	size_t base;
	char *data = orc_read(path, 1, &len, &base, w->notes);
	mbx_msg *msgs;
	size_t nmsgs;

	if (data == NULL)
		return;
	msgs = xcalloc(HARNESS_ORACLE_MESSAGES_MAX, sizeof(*msgs));
	nmsgs = mbx_mbox_split(data, len, msgs, HARNESS_ORACLE_MESSAGES_MAX);
	if (nmsgs == HARNESS_ORACLE_MESSAGES_MAX)
		vbuf_printf(w->notes, "%s: more than %d messages, the rest not read\n", path,
		    HARNESS_ORACLE_MESSAGES_MAX);
	for (size_t i = 0; i < nmsgs; i++)
		orc_sort(w->prefix, path, base + msgs[i].off, data + msgs[i].off, msgs[i].len, 1,
		    w->found, w->n);
	xfree(msgs);
	xfree(data);
}

void
orc_scan(const orc_spec *o, const char *prefix, time_t since, orc_found *found, size_t n,
    vbuf *notes)
{
	orc_walk w = { prefix, since, found, n, notes, 0 };

	vbuf_reset(notes);
	for (size_t i = 0; i < n; i++)
		orc_found_clear(&found[i]);
	switch (o->kind) {
	case ORC_MAILDIR: {
		char *p = xasprintf("%s/new", o->path);

		orc_dir(&w, p, 0);
		xfree(p);
		p = xasprintf("%s/cur", o->path);
		orc_dir(&w, p, 0);
		xfree(p);
		break;
	}
	case ORC_DIR:
		orc_dir(&w, o->path, HARNESS_ORACLE_DEPTH_MAX);
		break;
	case ORC_MBOX:
		orc_mbox(&w, o->path);
		break;
	}
}
