/*
 * fuzz_common.h - what the fuzz harnesses share: the input as a file (the loaders take
 * paths), quiet logging. Each harness defines LLVMFuzzerTestOneInput; libFuzzer or
 * replay_main.c calls it.
 */
#ifndef BISE_FUZZ_COMMON_H
#define BISE_FUZZ_COMMON_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input in an anonymous file named by *path (/proc/self/fd/N); -1 when it cannot be. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t path_len)
{
	int fd = memfd_create("bise-fuzz", MFD_CLOEXEC);
	size_t off = 0;

	log_set_level(LOG_QUIET);
	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	str_format(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}

/* The input as a NUL-terminated string (caller frees). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
