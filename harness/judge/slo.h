/* slo.h - SLO verdicts: const metrics + SLO specs (slo_spec.h) -> pass/fail/skip. */
#ifndef BISE_SLO_H
#define BISE_SLO_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "scenario.h"
#include "slo_spec.h"

enum verdict_kind { VERDICT_PASS, VERDICT_FAIL, VERDICT_SKIP };

struct verdict {
	const struct slo_spec *slo;
	enum verdict_kind kind;
	double measured;   /* base unit of the metric */
	char measured_text[32];
	char reason[128];  /* why it failed or was skipped */
};

/*
 * Judge one SLO against one trial's metrics: a metric not observed in this run is a SKIP
 * with a reason; a statistic over trials (slo_is_trial_stat) is a SKIP here too.
 */
void slo_judge(const struct slo_spec *slo, const struct metrics *m, struct verdict *out);

/*
 * Judge a statistic SLO once over all trials' metrics (per_trial[0..n)): trials where the
 * metric was not observed are left out, one that never ended ranks above every number.
 * A plain SLO is a SKIP here: it is judged per trial with slo_judge.
 */
void slo_judge_trials(const struct slo_spec *slo, const struct metrics *per_trial, int n, struct verdict *out);

const char *verdict_name(enum verdict_kind k);

#endif
