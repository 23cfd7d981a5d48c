/* slo.h - SLO metric registry and verdicts: const metrics + SLO specs -> pass/fail/skip. */
#ifndef BISE_SLO_H
#define BISE_SLO_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "scenario.h"

enum slo_unit { SLO_UNIT_DURATION, SLO_UNIT_COUNT, SLO_UNIT_BYTES, SLO_UNIT_PERCENT };

enum verdict_kind { VERDICT_PASS, VERDICT_FAIL, VERDICT_SKIP };

struct verdict {
	const struct slo_spec *slo;
	enum verdict_kind kind;
	double measured;   /* base unit of the metric */
	char measured_text[32];
	char reason[128];  /* why it failed or was skipped */
};

/*
 * True if name is a known SLO metric, or a statistic over trials of one: min(M), p50(M),
 * p95(M), max(M) (nearest rank). unit receives the metric's unit.
 */
bool slo_metric_known(const char *name, enum slo_unit *unit);

/* Comma-separated list of known metrics, for hints. */
const char *slo_metric_names(void);

/*
 * Parse "< 30s", "== 0", "<= 16MiB", ">= 99.5%" for a metric of the given unit.
 * Returns false with a reason in why.
 */
bool slo_parse(const char *metric, const char *text, struct slo_spec *out, char *why, size_t why_len);

/*
 * Judge one SLO against one trial's metrics: a metric not observed in this run is a SKIP
 * with a reason; a statistic over trials (slo_is_trial_stat) is a SKIP here too.
 */
void slo_judge(const struct slo_spec *slo, const struct metrics *m, struct verdict *out);

/* True for an SLO on a statistic over trials, e.g. "p95(failover_time)". */
bool slo_is_trial_stat(const struct slo_spec *slo);

/*
 * Judge a statistic SLO once over all trials' metrics (per_trial[0..n)): trials where the
 * metric was not observed are left out, one that never ended ranks above every number.
 * A plain SLO is a SKIP here: it is judged per trial with slo_judge.
 */
void slo_judge_trials(const struct slo_spec *slo, const struct metrics *per_trial, int n, struct verdict *out);

const char *verdict_name(enum verdict_kind k);

#endif
