/*
 * report_cmd.h - `bise report RUN_DIR`: rebuild every report of a run directory without a
 * cluster, from each scenario's saved scenario.yaml and its trials' events.jsonl.
 */
#ifndef BISE_REPORT_CMD_H
#define BISE_REPORT_CMD_H

#include "report.h"
#include "scenario.h"

/*
 * Recompute metrics and verdicts of every scenario under run_dir (or of run_dir itself when
 * it holds a scenario.yaml) and rewrite their reports, plus index.html and summary.md of the
 * run. Works on an interrupted run: what is missing is reported as missing. Prints the
 * verdict tables; returns a bise_exit code (0 pass, 1 an SLO failed or a trial did not
 * complete, 2 nothing to report on).
 */
int report_cmd_run(const char *run_dir);

/*
 * Load t->events_path and fill t->metrics and t->verdicts (the plain SLOs of sc; SLOs on a
 * statistic over trials are judged by the reports). The trial's verdict: fail when an SLO
 * failed, the trial did not complete or the cluster never recovered. A log that cannot be
 * read (logged) fails the trial.
 */
enum verdict_kind report_judge_trial(const struct scenario *sc, struct trial_result *t);

#endif
