/*
 * run_setup.h - the set-up tests of whole runs share: a temporary work directory, a
 * scenario written into a directory and loaded, and run options for the null backend.
 * Used by the null-driver runner tests and by the integration tests' common.c.
 */
#ifndef BISE_RUN_SETUP_H
#define BISE_RUN_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "runner.h"
#include "scenario.h"

/* Create /tmp/<prefix>-XXXXXX into dir: 0, or 1 on failure (a CUnit suite init result). */
int run_setup_workdir_make(char *dir, size_t len, const char *prefix);

/* Remove dir and everything in it: 0 when done (a CUnit suite clean-up result). */
int run_setup_workdir_remove(const char *dir);

/*
 * Write text to <dir>/<file> (its path to path) and load it into *sc; false on failure
 * (errors on stderr).
 */
bool run_setup_scenario(const char *dir, const char *file, const char *text, char *path, size_t len,
			struct scenario *sc);

/* Defaults for the null backend: out as the run directory, seed 7, state under dir; quiet log. */
void run_setup_options(struct run_options *opt, const char *out, const char *dir);

#endif
