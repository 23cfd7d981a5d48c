/*
 * runner.h - walks scenarios against a backend: brings the cluster up if needed, runs the
 * workload, injects and reverts faults on time, appends every event, then recomputes
 * metrics and verdicts from the saved event log and writes the reports. No maths here
 * (metrics.c) and no formatting (reports/).
 */
#ifndef BISE_RUNNER_H
#define BISE_RUNNER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "scenario.h"

/* Exit codes of bise, documented in the README. */
enum bise_exit {
	BISE_EXIT_OK = 0,          /* every SLO held */
	BISE_EXIT_SLO_FAILED = 1,  /* an SLO failed, or the cluster did not recover */
	BISE_EXIT_USAGE = 2,       /* bad command line or invalid scenario: nothing was touched */
	BISE_EXIT_ENV = 3,         /* environment: no root, missing binary, cluster cannot be provisioned */
	BISE_EXIT_ABORTED = 4,     /* a trial could not run to its end (no healthy cluster, injection failed) */
	BISE_EXIT_INTERRUPTED = 5, /* SIGINT/SIGTERM: faults reverted, partial results written */
};

/*
 * Where the executor's time comes from. NULL in run_options: the monotonic clock. A
 * simulated clock (tests, with a backend that runs no workload) makes a trial's schedule
 * run in no time, its events stamped as a real run's would be.
 */
struct run_clock {
	int64_t (*now_us)(void *arg);
	void (*sleep_us)(void *arg, int64_t us);
	void *arg;
};

struct driver_options;

struct run_options {
	const char *backend;       /* "local" by default */
	const struct driver_options *driver_opts; /* the backend's options (NULL: none given) */
	const char *state_root;    /* where backends keep cluster state */
	const char *out_dir;       /* run directory; NULL = runs/<timestamp> */
	bool keep;                 /* leave a cluster this run brought up running */
	int repeat;                /* > 0 overrides the scenario's repeat */
	uint64_t seed;             /* 0 = draw one (recorded in the summary) */
	int64_t watch_interval_us; /* role watcher period */
	const struct run_clock *clock; /* NULL: real time */
	const char *pushgateway;   /* push each scenario's metrics there (export.h); NULL: none */
	const char *grafana;       /* annotate each trial's faults there; NULL: none */
	const char *grafana_dashboard; /* the annotations' dashboard UID; NULL: organisation-wide */
	const char *serve;         /* --serve [ADDR:]PORT: the live page and /metrics; NULL: none */
	const char *serve_token;   /* BISE_SERVE_TOKEN: needed by the page's buttons (never logged) */
	bool step;                 /* --step: each fault step waits for "next" */
};

void run_options_defaults(struct run_options *o);

/* Run every scenario in order; returns a bise_exit code. Prints the verdict tables. */
int runner_run(struct scenario *const *scenarios, int nscenarios, const struct run_options *o);

struct scenario_result;
/*
 * The suite's last word: one line per scenario (trials, verdict, the first failing SLO and
 * what was measured) and where the reports are.
 */
void runner_print_suite(const struct scenario_result *results, int n, const char *run_dir, FILE *out);

/* Set by the signal handler; the runner reverts faults and stops as soon as it sees it. */
void runner_install_signal_handlers(void);
bool runner_interrupted(void);

/* Stop as SIGINT does (the live page's and the terminal's "abort"): faults reverted, reports written, exit 5. */
void runner_request_stop(void);

#endif
