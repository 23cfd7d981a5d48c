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
	__attribute__((format(printf, 3, 0)));

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

int64_t wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
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

bool safe_file_create(struct safe_file *sf, const char *path, unsigned mode)
{
	static unsigned counter;
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd = -1;

	memset(sf, 0, sizeof(*sf));
	sf->dir_fd = -1;
	if (!str_copy(sf->path, sizeof(sf->path), path) ||
	    !str_copy(sf->name, sizeof(sf->name), slash ? slash + 1 : path) || !sf->name[0]) {
		log_error("bad file path: %s", path);
		return false;
	}
	if (!slash)
		str_copy(dir, sizeof(dir), ".");
	else if (slash == path)
		str_copy(dir, sizeof(dir), "/");
	else if (!str_format(dir, sizeof(dir), "%.*s", (int)(slash - path), path)) {
		log_error("path too long: %s", path);
		return false;
	}
	sf->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sf->dir_fd < 0) {
		log_error("cannot open directory %s%s: %s", dir,
			  errno == ELOOP || errno == ENOTDIR ? " (a symlink or not a directory)" : "",
			  strerror(errno));
		return false;
	}
	/* A name nobody else can take over: O_EXCL fails on anything there, symlinks included. */
	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		if (!str_format(sf->tmp, sizeof(sf->tmp), ".%s.%ld.%u.tmp", sf->name, (long)getpid(),
				__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED))) {
			log_error("file name too long: %s", path);
			break;
		}
		fd = openat(sf->dir_fd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    (mode_t)mode);
		if (fd < 0 && errno != EEXIST) {
			log_error("cannot create %s/%s: %s", dir, sf->tmp, strerror(errno));
			break;
		}
	}
	if (fd < 0) {
		close(sf->dir_fd);
		sf->dir_fd = -1;
		return false;
	}
	/* The umask only narrows; set the mode asked for exactly (never wider than at creation). */
	if (fchmod(fd, (mode_t)mode) != 0 || !(sf->f = fdopen(fd, "w"))) {
		log_error("cannot create %s: %s", path, strerror(errno));
		close(fd);
		unlinkat(sf->dir_fd, sf->tmp, 0);
		close(sf->dir_fd);
		sf->dir_fd = -1;
		return false;
	}
	return true;
}

void safe_file_discard(struct safe_file *sf)
{
	if (sf->f)
		fclose(sf->f);
	sf->f = NULL;
	if (sf->dir_fd >= 0) {
		unlinkat(sf->dir_fd, sf->tmp, 0);
		close(sf->dir_fd);
	}
	sf->dir_fd = -1;
}

bool safe_file_commit(struct safe_file *sf)
{
	bool ok;

	if (!sf->f || sf->dir_fd < 0)
		return false;
	ok = fflush(sf->f) == 0 && !ferror(sf->f) && fsync(fileno(sf->f)) == 0;
	ok = fclose(sf->f) == 0 && ok;
	sf->f = NULL;
	if (!ok) {
		log_error("cannot write %s: %s", sf->path, strerror(errno));
		safe_file_discard(sf);
		return false;
	}
	/* rename replaces a symlink at path itself, never what it points to. */
	if (renameat(sf->dir_fd, sf->tmp, sf->dir_fd, sf->name) != 0) {
		log_error("cannot rename %s over %s: %s", sf->tmp, sf->path, strerror(errno));
		safe_file_discard(sf);
		return false;
	}
	close(sf->dir_fd);
	sf->dir_fd = -1;
	return true;
}

bool file_write_atomic_mode(const char *path, const char *data, size_t len, unsigned mode)
{
	struct safe_file sf;

	if (!safe_file_create(&sf, path, mode))
		return false;
	if (len && fwrite(data, 1, len, sf.f) != len) {
		log_error("cannot write %s: %s", path, strerror(errno));
		safe_file_discard(&sf);
		return false;
	}
	return safe_file_commit(&sf);
}

bool file_write_atomic(const char *path, const char *data, size_t len)
{
	return file_write_atomic_mode(path, data, len, 0644);
}

/* Who ran bise, through sudo too: their own directories (--out in a checkout) are theirs to give. */
static uid_t invoking_uid(void)
{
	const char *sudo = getenv("SUDO_UID");
	char *end;
	unsigned long v;

	if (sudo && *sudo) {
		v = strtoul(sudo, &end, 10);
		if (*end == '\0' && v > 0)
			return (uid_t)v;
	}
	return getuid();
}

/* The directory bise asked for: a real directory of root, the effective user or owner. */
static bool dir_trusted(const char *path, unsigned owner)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		log_error("cannot create directory %s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISLNK(st.st_mode)) {
		log_error("refusing directory %s: it is a symlink", path);
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("refusing directory %s: not a directory", path);
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != (uid_t)owner &&
	    st.st_uid != invoking_uid()) {
		log_error("refusing directory %s: owned by uid %u, not by root or uid %u", path,
			  (unsigned)st.st_uid, (unsigned)geteuid());
		return false;
	}
	return true;
}

bool mkdir_p_owner(const char *path, unsigned mode, unsigned owner)
{
	char buf[4096];
	char *p;
	size_t len;

	if (!str_copy(buf, sizeof(buf), path)) {
		log_error("path too long: %s", path);
		return false;
	}
	/* "dir/" would make lstat follow a symlink named dir. */
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
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
	return dir_trusted(buf, owner);
}

bool mkdir_p(const char *path, unsigned mode)
{
	return mkdir_p_owner(path, mode, 0);
}
