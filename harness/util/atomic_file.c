#include "harness/util/atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/util/xalloc.h"

int
atomic_file_open(atomic_file *af, const char *path, char *err, size_t errlen)
{
	af->path = xstrdup(path);
	af->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	af->fp = fopen(af->tmp, "wb");
	if (af->fp == NULL) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		xfree(af->path);
		xfree(af->tmp);
		af->path = af->tmp = NULL;
		return -1;
	}
	return 0;
}

int
atomic_file_commit(atomic_file *af, char *err, size_t errlen)
{
	int rc = 0;
	int failed = ferror(af->fp);

	if (fflush(af->fp) != 0 || failed || fsync(fileno(af->fp)) != 0) {
		snprintf(err, errlen, "%s: write failed: %s", af->path,
		    strerror(errno ? errno : EIO));
		rc = -1;
	}
	if (fclose(af->fp) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: close failed: %s", af->path, strerror(errno));
		rc = -1;
	}
	af->fp = NULL;
	if (rc == 0 && rename(af->tmp, af->path) != 0) {
		snprintf(err, errlen, "%s: rename failed: %s", af->path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(af->tmp);
	xfree(af->path);
	xfree(af->tmp);
	af->path = af->tmp = NULL;
	return rc;
}

void
atomic_file_abort(atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	xfree(af->path);
	xfree(af->tmp);
	af->fp = NULL;
	af->path = af->tmp = NULL;
}

int
atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	atomic_file af;

	if (atomic_file_open(&af, path, err, errlen) != 0)
		return -1;
	if (len && fwrite(data, 1, len, af.fp) != len) {
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		atomic_file_abort(&af);
		return -1;
	}
	return atomic_file_commit(&af, err, errlen);
}

int
atomic_file_mkdirs(const char *dir, char *err, size_t errlen)
{
	char *p = xstrdup(dir);
	char *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "%s: cannot create directory: %s", p, strerror(errno));
				rc = -1;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	xfree(p);
	return rc;
}
