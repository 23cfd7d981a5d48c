/*
 * dryrun.h - `bise run --dry-run`: the plan of a run (plan.h), each entry at its planned
 * offset, touching nothing. On the kubernetes and kind backends every entry is followed by
 * the API calls (and kind's commands) it would make, sending none: reads answer 404 in a
 * dry run, so members are placeholders derived from the spec's zones. Other backends print
 * the timeline alone.
 */
#ifndef BISE_DRYRUN_H
#define BISE_DRYRUN_H

#include <stdbool.h>
#include <stdio.h>

#include "runner.h"
#include "scenario.h"

/*
 * Print the plan of each scenario (its cluster brought up if absent, the steps of one
 * trial, the cluster taken down unless o->keep) to out. The backend must be configured
 * for a dry run (k8s_driver_configure). Returns a bise_exit code.
 */
int dryrun_run(struct scenario *const *scenarios, int n, const struct run_options *o, FILE *out);

#endif
