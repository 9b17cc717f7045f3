#include "harness/engine/spool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness/util/atomic_file.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

struct eng_spool {
	char *dir;
	char *host;		/* for unique names: no '/' or ':' */
	unsigned long counter;
};

eng_spool *
eng_spool_open(const char *dir, const char *hostname, char *err, size_t errlen)
{
	static const char *const subs[] = { "tmp", "new", "cur", "envelope" };
	eng_spool *sp;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *d = xasprintf("%s/%s", dir, subs[i]);
		int rc = atomic_file_mkdirs(d, err, errlen);

		xfree(d);
		if (rc != 0)
			return NULL;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->host = xstrdup(hostname && hostname[0] ? hostname : "localhost");
	for (char *p = sp->host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	return sp;
}

void
eng_spool_close(eng_spool *sp)
{
	if (sp == NULL)
		return;
	xfree(sp->dir);
	xfree(sp->host);
	xfree(sp);
}

/* Writes len octets to DIR/tmp/name, fsyncs, renames to DIR/sub/name. */
static int
spool_put(eng_spool *sp, const char *sub, const char *name, const char *data, size_t len,
    char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/tmp/%s", sp->dir, name);
	char *dst = xasprintf("%s/%s/%s", sp->dir, sub, name);
	size_t done = 0;
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(n < 0 ? errno : EIO));
			close(fd);
			unlink(tmp);
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, dst) != 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	xfree(tmp);
	xfree(dst);
	return rc;
}

static const char *
spool_body_str(smtp_srv_body b)
{
	switch (b) {
	case SMTP_SRV_BODY_7BIT:
		return "7BIT";
	case SMTP_SRV_BODY_8BITMIME:
		return "8BITMIME";
	case SMTP_SRV_BODY_BINARYMIME:
		return "BINARYMIME";
	case SMTP_SRV_BODY_NONE:
		break;
	}
	return NULL;
}

static void
spool_add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static char *
spool_envelope(const smtp_srv_msg *m, const char *id, const char *peer, const char *file,
    time_t now)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *rcpts = cJSON_CreateArray();
	char *text;

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddNumberToObject(o, "received", (double)now);
	cJSON_AddStringToObject(o, "peer", peer);
	cJSON_AddStringToObject(o, "helo", m->helo);
	cJSON_AddBoolToObject(o, "esmtp", m->esmtp);
	cJSON_AddStringToObject(o, "mail_from", m->mail_from);
	for (size_t i = 0; i < m->nrcpts; i++) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "mailbox", m->rcpts[i].mailbox);
		spool_add_str(r, "notify", m->rcpts[i].notify);
		spool_add_str(r, "orcpt", m->rcpts[i].orcpt);
		cJSON_AddItemToArray(rcpts, r);
	}
	cJSON_AddItemToObject(o, "rcpt", rcpts);
	spool_add_str(o, "body", spool_body_str(m->body));
	cJSON_AddBoolToObject(o, "smtputf8", m->smtputf8);
	spool_add_str(o, "ret", m->ret);
	spool_add_str(o, "envid", m->envid);
	cJSON_AddNumberToObject(o, "size", (double)m->declared_size);
	cJSON_AddBoolToObject(o, "chunked", m->chunked);
	cJSON_AddNumberToObject(o, "octets", (double)m->content_len);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

int
eng_spool_deliver(eng_spool *sp, const smtp_srv_msg *m, const char *peer,
    const char *peer_literal, char *id, size_t idlen, char *err, size_t errlen)
{
	struct timeval tv;
	struct tm tm;
	char date[64], uid[128], name[256];
	char *json, *jname, *file;
	vbuf msg = VBUF_INIT;
	int rc;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(uid, sizeof(uid), "%lld.M%06ldP%ldQ%lu", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++sp->counter);
	snprintf(name, sizeof(name), "%s.%s", uid, sp->host);

	/* RFC 5321 §4.4: Return-Path at final delivery, Received on top. */
	vbuf_printf(&msg, "Return-Path: <%s>\r\n", m->mail_from);
	vbuf_printf(&msg, "Received: from %s (%s)\r\n\tby %s (smtp-harness) with %s id %s",
	    m->helo[0] ? m->helo : "unknown", peer_literal, sp->host,
	    !m->esmtp ? "SMTP" : m->smtputf8 ? "UTF8SMTP" : "ESMTP", uid);
	if (m->nrcpts == 1)
		vbuf_printf(&msg, "\r\n\tfor <%s>", m->rcpts[0].mailbox);
	vbuf_printf(&msg, "; %s\r\n", date);
	vbuf_append(&msg, m->content, m->content_len);

	file = xasprintf("new/%s", name);
	json = spool_envelope(m, uid, peer, file, tv.tv_sec);
	jname = xasprintf("%s.json", name);
	rc = spool_put(sp, "envelope", jname, json, strlen(json), err, errlen);
	if (rc == 0) {
		rc = spool_put(sp, "new", name, msg.data, msg.len, err, errlen);
		if (rc != 0) {
			char *e = xasprintf("%s/envelope/%s", sp->dir, jname);

			unlink(e);
			xfree(e);
		}
	}
	if (rc == 0)
		snprintf(id, idlen, "%s", uid);
	cJSON_free(json);
	xfree(jname);
	xfree(file);
	vbuf_free(&msg);
	return rc;
}
