/*
 * judge.h - the one owner of verdicts. A trial's saved event log becomes its metrics (the
 * one loader), its SLO verdicts and its pass/fail; the trials of a scenario become
 * statistics of every metric and the verdicts of the SLOs on a statistic. `bise run`,
 * `bise report` and `bise compare` all judge through here, so they cannot disagree; the
 * report writers only format what it filled in.
 */
#ifndef BISE_JUDGE_H
#define BISE_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "scenario.h"
#include "slo.h"
#include "timeseries.h"

struct trial_result {
	int trial; /* 1-based */
	char events_path[4096];
	bool completed;  /* the trial ran to its end (not interrupted or aborted) */
	char error[256]; /* why it did not complete */
	bool log_read;   /* judge_load_trial read the log: metrics hold its measurements */
	int64_t wall_origin_us; /* the log's t = 0 in µs since the Unix epoch; 0: the log does not say */
	enum verdict_kind verdict; /* judge_scenario's verdict of the trial */
	struct metrics metrics;
	int nverdicts;
	struct verdict verdicts[SCENARIO_MAX_SLOS];
	/* 100 ms bins of the log (judge_load_trial with bins); NULL: the writers leave the timeline out. */
	struct timeseries *timeseries;
};

struct scenario_result {
	const struct scenario *scenario;
	char dir[4096];
	char run_id[96];
	char backend[32];
	char versions[256];
	char host[256];
	uint64_t seed;
	double provision_seconds; /* < 0: an existing cluster was used */
	int ntrials;
	struct trial_result *trials;
	enum verdict_kind overall; /* fail if any SLO of any trial failed or a trial did not complete */
	/*
	 * Across the trials (judge_scenario): statistics per metric_id, and the verdicts of the
	 * SLOs on a statistic (slo_is_trial_stat, e.g. "p95(failover_time)"; their per-trial
	 * verdicts are skips). Without have_stats the writers leave both out.
	 */
	bool have_stats;
	struct trial_stats stats[METRIC_COUNT];
	int nstat_verdicts;
	struct verdict stat_verdicts[SCENARIO_MAX_SLOS];
	/*
	 * Each SLO of the scenario (same index) over the whole scenario: a statistic's verdict;
	 * a plain SLO fails when a trial failed it, passes when one passed and none failed,
	 * is a skip when no trial could judge it.
	 */
	enum verdict_kind slo_verdicts[SCENARIO_MAX_SLOS];
};

/* What a trial's log says of its run: run_start, provision and run_end. */
struct trial_log {
	char run[64];
	char backend[32];
	char host[256];
	uint64_t seed;
	double provision_seconds; /* < 0 without a provision event */
	char end_status[16];      /* run_end's status; "" when the log has none (interrupted) */
};

/*
 * The one loader: read t->events_path and recompute t->metrics from it, and with bins its
 * 100 ms bins into t->timeseries (freed by judge_result_free); what the log says of the
 * run into log when not NULL. False when the log cannot be read (logged): t->log_read is
 * false, the metrics are zero and there are no bins.
 */
bool judge_load_trial(struct trial_result *t, bool bins, struct trial_log *log);

/*
 * t->verdicts: every SLO of sc against t->metrics (an SLO on a statistic is a skip here).
 * The trial fails when an SLO failed, the trial did not complete, its log could not be
 * read, or a scenario that waits for recovery never saw the cluster recover.
 */
enum verdict_kind judge_trial(const struct scenario *sc, struct trial_result *t);

/*
 * Judge every trial of r (judge_trial), then across them: statistics of every metric and
 * the SLOs on a statistic, judged once over all trials. r->overall fails when a trial or
 * one of those SLOs failed, or when there is no trial; returned too.
 */
enum verdict_kind judge_scenario(struct scenario_result *r);

/*
 * The statistics across trials, in one place: min, nearest-rank p50 and p95, and max of
 * values[0..n) (sorted in place); INFINITY values (never ended) count in never.
 */
void judge_stats(double *values, int n, struct trial_stats *out);

/* judge_stats of metric id over per_trial[0..n): trials that did not observe it left out. */
void judge_metric_stats(const struct metrics *per_trial, int n, enum metric_id id, struct trial_stats *out);

/* Free the bins of r's trials once the scenario's reports are written (the index needs none). */
void judge_result_free_bins(struct scenario_result *r);

/* Free what the judge allocated in r (bins) and r->trials. */
void judge_result_free(struct scenario_result *r);

#endif
