/*
 * trial.h - one trial of a scenario, inside the runner: start the workload, walk the
 * steps (inject, revert on time, wait for health) and read back into the event log; the
 * runner judges that log (judge.h). Internal to bise_runner.
 */
#ifndef BISE_TRIAL_H
#define BISE_TRIAL_H

#include <stdint.h>

#include "driver.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "slo.h"

struct journal;
struct live;

/* What every trial of a run shares. */
struct scenario_run {
	const struct run_options *opt;
	const struct driver_ops *ops;
	struct driver *drv;
	struct journal *journal;
	struct watchdog *watchdog;
	uint64_t seed;
	char host[256];
	char run_id[96];
	double provision_seconds;
	/* What went out and what did not (--pushgateway, --grafana), for the run's last word. */
	int pushed, push_failed;
	int annotated, annotate_failed;
	struct live *live; /* --serve: fed as the trial runs; NULL: none */
};

/*
 * The member a step's target names among m[0..n): a zone's, the primary (the highest
 * timeline's), or the draw's pick among replicas / live members. -1 when none is.
 */
int trial_pick_target(const struct member *m, int n, const char *target, uint64_t draw);

/* Run trial number `trial` (1-based) of sc into dir/trial-N; returns a bise_exit code. */
int trial_run(const struct scenario_run *r, const struct scenario *sc, const char *dir, int trial,
	      int trials, struct trial_result *t);

#endif
