/*
 * dryrun.h - `bise run --dry-run` on the kubernetes and kind backends: the plan of a run
 * printed as the API calls (and kind's commands) it would make, in order, sending none.
 * Reads answer 404 in a dry run, so the plan is walked without the workload and without
 * waiting: members are placeholders derived from the spec's zones, and every fault step's
 * apply and revert are printed at their planned offsets.
 */
#ifndef BISE_DRYRUN_H
#define BISE_DRYRUN_H

#include <stdbool.h>
#include <stdio.h>

#include "runner.h"
#include "scenario.h"

/* Whether backend can print a dry run: it declares --dry-run and has the flush_calls op. */
bool dryrun_supported(const char *backend);

/*
 * Print the plan of each scenario (its cluster brought up if absent, the steps of one
 * trial, the cluster taken down unless o->keep) to out. The backend must be configured
 * for a dry run (its --dry-run option in o->driver_opts). Returns a bise_exit code.
 */
int dryrun_run(struct scenario *const *scenarios, int n, const struct run_options *o, FILE *out);

#endif
