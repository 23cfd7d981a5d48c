/* run_setup.c - the set-up tests of whole runs share. See run_setup.h. */
#include "run_setup.h"

#include "util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int run_setup_workdir_make(char *dir, size_t len, const char *prefix)
{
	str_format(dir, len, "/tmp/%s-XXXXXX", prefix);
	return mkdtemp(dir) ? 0 : 1;
}

int run_setup_workdir_remove(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool run_setup_scenario(const char *dir, const char *file, const char *text, char *path, size_t len,
			struct scenario *sc)
{
	char errbuf[4096];

	str_format(path, len, "%s/%s", dir, file);
	if (!file_write_atomic(path, text, strlen(text)))
		return false;
	memset(sc, 0, sizeof(*sc));
	if (!scenario_load(path, sc, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "%s", errbuf);
		return false;
	}
	return true;
}

void run_setup_options(struct run_options *opt, const char *out, const char *dir)
{
	run_options_defaults(opt);
	opt->backend = "null";
	opt->out_dir = out;
	opt->seed = 7;
	opt->state_root = dir;
	log_set_level(LOG_ERROR);
}
