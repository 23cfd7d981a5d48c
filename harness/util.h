/* util.h - logging, clocks and bounded string helpers shared by every module. */
#ifndef BISE_UTIL_H
#define BISE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Write a whole file atomically (tmp + fsync + rename); logs its own error. */
bool file_write_atomic(const char *path, const char *data, size_t len);

/* mkdir -p: path with the given mode, missing parents 0755; logs its own error. */
bool mkdir_p(const char *path, unsigned mode);

#endif
