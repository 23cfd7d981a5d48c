/*
 * replay_main.c - runs a fuzz harness over files and directories of inputs without
 * libFuzzer (gcc builds, the sanitizer build): every regression input is replayed on
 * every test run. Exit 0 when every input ran; a crash is the sanitizer's or the kernel's.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
	size_t len;
	char *data = file_read_all(path, &len);

	if (!data) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

static int replay(const char *path, int *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int failed = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if (!(d = opendir(path)))
		return 1;
	while ((de = readdir(d))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		str_format(sub, sizeof(sub), "%s/%s", path, de->d_name);
		failed |= replay(sub, count);
	}
	closedir(d);
	return failed;
}

int main(int argc, char **argv)
{
	int failed = 0, count = 0;

	for (int i = 1; i < argc; i++)
		failed |= replay(argv[i], &count);
	printf("replayed %d inputs\n", count);
	return failed || count == 0 ? 1 : 0;
}
