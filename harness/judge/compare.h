/*
 * compare.h - the same scenarios side by side across runs (operator versions, settings,
 * variants): loaded from each run's summary.json files, so a comparison never needs a
 * cluster. Data only; reports/compare.c writes it out.
 */
#ifndef BISE_COMPARE_H
#define BISE_COMPARE_H

#include <stdbool.h>

#define COMPARE_MAX_COLUMNS 16
#define COMPARE_MAX_SCENARIOS 64
#define COMPARE_MAX_TRIALS 1000
#define COMPARE_MAX_SLOS 16

/* Statistics of one metric over the trials of one column; n == 0 when never observed. */
struct compare_stat {
	int n;
	double min, p50, p95, max;
};

struct compare_slo {
	char metric[32];
	char threshold[64];
	int pass, fail, skip;
};

/* One scenario as run in one run directory. */
struct compare_cell {
	bool present;
	char versions[256];
	int trials;
	struct compare_stat failover_s;
	struct compare_stat failover_unc_ms; /* each trial's ± (resolution_ms): max is the bound */
	struct compare_stat server_accept_s; /* first connection the server accepted in the outage */
	struct compare_stat promotion_s;
	struct compare_stat label_switch_s; /* the operator's role label (Kubernetes) */
	struct compare_stat lost;
	struct compare_stat indeterminate;
	struct compare_stat recovery_s;
	int nslos;
	struct compare_slo slos[COMPARE_MAX_SLOS];
	char overall[8];
};

struct comparison {
	int ncolumns;
	char columns[COMPARE_MAX_COLUMNS][256]; /* run directory labels */
	int nscenarios;
	char scenarios[COMPARE_MAX_SCENARIOS][64];
	struct compare_cell cells[COMPARE_MAX_SCENARIOS][COMPARE_MAX_COLUMNS];
};

/*
 * Load <dir>/<scenario>/summary.json for every run directory given (a directory holding
 * summary.json itself counts as one scenario). Logs its own error.
 */
bool compare_load(char *const *dirs, int ndirs, struct comparison *out);

/* Statistics of values[0..n) (sorted in place), as judge_stats computes them. */
void compare_stats(double *values, int n, struct compare_stat *out);

struct scenario;

/*
 * The comparison of base's variants from <run_dir>/<scenario>@<variant>/summary.json:
 * one row (the scenario) and a column per variant that has results. False (logged) when
 * none has.
 */
bool variants_comparison(const struct scenario *base, const char *run_dir, struct comparison *out);

#endif
