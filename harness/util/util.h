/* util.h - logging, clocks and bounded string helpers shared by every module. */
#ifndef BISE_UTIL_H
#define BISE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_QUIET = 0, LOG_ERROR = 1, LOG_WARN = 2, LOG_INFO = 3, LOG_DEBUG = 4 };

/* Messages at or below this level are printed on stderr. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in microseconds: every interval bise measures uses it. */
int64_t mono_now_us(void);

/* CLOCK_REALTIME in microseconds since the Unix epoch: only to date a log, never to measure. */
int64_t wall_now_us(void);

/* Sleep for a number of microseconds, resuming after signals. */
void sleep_us(int64_t us);

/* Copy src into dst of size n, always NUL-terminated; returns false if truncated. */
bool str_copy(char *dst, size_t n, const char *src);

/* snprintf that returns false on truncation or error instead of a count. */
bool str_format(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* malloc/calloc/strdup/realloc that abort on exhaustion: bise cannot measure without memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Read a whole file into a NUL-terminated buffer (caller frees); NULL and errno on failure. */
char *file_read_all(const char *path, size_t *len);

/*
 * A file written as a whole and renamed over its path: bise runs as root and writes into
 * directories others can write to (run directories), so a symlink planted there is never
 * followed. The temporary is created beside the path (O_CREAT|O_EXCL|O_NOFOLLOW) with its
 * final mode, inside the parent directory opened without following its last component.
 */
struct safe_file {
	FILE *f; /* write here between safe_file_create and safe_file_commit */
	int dir_fd;
	char path[4096];
	char name[256]; /* last component of path */
	char tmp[300];  /* the temporary, relative to dir_fd */
};

/* Open sf->f for writing path with the given mode; logs its own error. */
bool safe_file_create(struct safe_file *sf, const char *path, unsigned mode);

/* Flush, fsync and rename the temporary over path; discards it on failure. Logs its own error. */
bool safe_file_commit(struct safe_file *sf);

/* Drop the temporary: path is left as it was. */
void safe_file_discard(struct safe_file *sf);

/* Write a whole file atomically with mode 0644 (safe_file); logs its own error. */
bool file_write_atomic(const char *path, const char *data, size_t len);

/* The same with the file's final mode (secrets: 0600 from the first byte). */
bool file_write_atomic_mode(const char *path, const char *data, size_t len, unsigned mode);

/*
 * mkdir -p: path with the given mode, missing parents 0755; logs its own error. The path,
 * when it exists already, must be a real directory (not a symlink) owned by root, the effective
 * user or the user who ran bise (SUDO_UID): bise keeps state there as root.
 */
bool mkdir_p(const char *path, unsigned mode);

/* mkdir_p that also accepts an existing directory owned by owner (a run user's). */
bool mkdir_p_owner(const char *path, unsigned mode, unsigned owner);

#endif
