/* util.c - logging, clocks and bounded string helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

static void log_emit(enum log_level level, const char *tag, const char *fmt, va_list ap)
{
	char line[2048];

	if (level > current_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so concurrent threads never interleave inside a message. */
	fprintf(stderr, "%s%s\n", tag, line);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERROR, "bise: error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARN, "bise: warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "bise: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "bise: debug: ", fmt, ap);
	va_end(ap);
}

int64_t mono_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sleep_us(int64_t us)
{
	struct timespec req, rem;

	if (us <= 0)
		return;
	req.tv_sec = us / 1000000;
	req.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&req, &rem) != 0 && errno == EINTR)
		req = rem;
}

bool str_copy(char *dst, size_t n, const char *src)
{
	size_t len;

	if (n == 0)
		return false;
	len = strlen(src);
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

bool str_format(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	return r >= 0 && (size_t)r < n;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = xmalloc(len);

	memcpy(p, s, len);
	return p;
}

char *file_read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + used, 1, cap - used - 1, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int saved = errno;

		fclose(f);
		free(buf);
		errno = saved;
		return NULL;
	}
	fclose(f);
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

bool file_write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	int fd;
	size_t off = 0;

	if (!str_format(tmp, sizeof(tmp), "%s.tmp", path)) {
		log_error("path too long: %s", path);
		return false;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot create %s: %s", tmp, strerror(errno));
		return false;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			log_error("cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return false;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		log_error("cannot sync %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return false;
	}
	if (rename(tmp, path) != 0) {
		log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

bool mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	char *p;

	if (!str_copy(buf, sizeof(buf), path)) {
		log_error("path too long: %s", path);
		return false;
	}
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		/* Parents are shared (state root, run root): 0755, only the leaf gets mode. */
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			log_error("cannot create directory %s: %s", buf, strerror(errno));
			return false;
		}
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST) {
		log_error("cannot create directory %s: %s", buf, strerror(errno));
		return false;
	}
	return true;
}
