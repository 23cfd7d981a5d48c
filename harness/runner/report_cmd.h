/*
 * report_cmd.h - `bise report RUN_DIR`: rebuild every report of a run directory without a
 * cluster, from each scenario's saved scenario.yaml, run.json and its trials' events.jsonl.
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
 * <r->dir>/run.json: what only the run knows and its logs do not say (versions, where the
 * scenario came from, provisioning time, why a trial stopped), for `bise report` to read
 * back instead of the reports. Logs its own error.
 */
bool run_record_write(const struct scenario_result *r);

#endif
