/*
 * report.h - what a run produced, as const data for the report writers. Writers never
 * compute: metrics and verdicts are filled in before (from the saved event logs).
 */
#ifndef BISE_REPORT_H
#define BISE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics.h"
#include "scenario.h"
#include "slo.h"

#define SUMMARY_SCHEMA "bise.summary/1"

struct trial_result {
	int trial; /* 1-based */
	char events_path[4096];
	bool completed;  /* the trial ran to its end (not interrupted or aborted) */
	char error[256]; /* why it did not complete */
	struct metrics metrics;
	int nverdicts;
	struct verdict verdicts[SCENARIO_MAX_SLOS];
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
};

struct report_writer {
	const char *name;
	const char *file_name; /* inside the scenario's directory */
	bool (*write)(const struct scenario_result *r, FILE *out);
};

/* Write every report file of a scenario into r->dir. Logs its own error. */
bool reports_write_all(const struct scenario_result *r);

/* The short verdict table printed at the end of a run. */
void report_print_table(const struct scenario_result *r, FILE *out);

#endif
