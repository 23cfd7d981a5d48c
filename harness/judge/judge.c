/* judge.c - saved event logs -> metrics -> trial verdicts -> statistics across trials. */
#include "judge.h"
#include "event.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool judge_load_trial(struct trial_result *t, bool bins, struct trial_log *log)
{
	struct events ev;

	memset(&t->metrics, 0, sizeof(t->metrics));
	t->log_read = false;
	t->timeseries = NULL;
	if (log) {
		memset(log, 0, sizeof(*log));
		log->provision_seconds = -1;
	}
	memset(&ev, 0, sizeof(ev));
	if (!events_load(t->events_path, &ev))
		return false;
	metrics_compute(&ev, &t->metrics);
	t->log_read = true;
	t->wall_origin_us = ev.wall_origin_us;
	if (bins) {
		t->timeseries = xcalloc(1, sizeof(*t->timeseries));
		if (!timeseries_compute(&ev, TIMESERIES_BIN_US, t->timeseries)) {
			timeseries_free(t->timeseries);
			free(t->timeseries);
			t->timeseries = NULL;
		}
	}
	if (log) {
		str_copy(log->run, sizeof(log->run), ev.run);
		str_copy(log->backend, sizeof(log->backend), ev.backend);
		str_copy(log->host, sizeof(log->host), ev.host);
		log->seed = strtoull(ev.seed, NULL, 10);
		log->provision_seconds = ev.provision_seconds;
		/* A run_end without a status still ended the run: "" means interrupted. */
		str_copy(log->end_status, sizeof(log->end_status),
			 ev.run_ended && !ev.end_status[0] ? "unknown" : ev.end_status);
	}
	events_free(&ev);
	return true;
}

enum verdict_kind judge_trial(const struct scenario *sc, struct trial_result *t)
{
	enum verdict_kind overall = t->completed ? VERDICT_PASS : VERDICT_FAIL;

	t->nverdicts = 0;
	if (!t->log_read)
		return VERDICT_FAIL;
	for (int i = 0; i < sc->nslos; i++) {
		struct verdict *v = &t->verdicts[t->nverdicts++];

		slo_judge(&sc->slos[i], &t->metrics, v);
		if (v->kind == VERDICT_FAIL)
			overall = VERDICT_FAIL;
	}
	/* A scenario that waits for recovery fails when the cluster never recovered. */
	if (t->metrics.healthy_seen && !t->metrics.healthy_ok)
		overall = VERDICT_FAIL;
	return overall;
}

/*
 * Each SLO over the whole scenario: a statistic's own verdict; a plain SLO fails when a
 * trial failed it, passes when a trial passed it and none failed, else is a skip.
 */
static void judge_slos_overall(struct scenario_result *r)
{
	const struct scenario *sc = r->scenario;
	int nstat = 0;

	for (int i = 0; i < sc->nslos; i++) {
		enum verdict_kind k = VERDICT_SKIP;

		if (slo_is_trial_stat(&sc->slos[i])) {
			r->slo_verdicts[i] = r->stat_verdicts[nstat++].kind;
			continue;
		}
		for (int t = 0; t < r->ntrials; t++)
			for (int j = 0; j < r->trials[t].nverdicts; j++) {
				const struct verdict *v = &r->trials[t].verdicts[j];

				if (v->slo != &sc->slos[i] || k == VERDICT_FAIL)
					continue;
				if (v->kind == VERDICT_FAIL || v->kind == VERDICT_PASS)
					k = v->kind;
			}
		r->slo_verdicts[i] = k;
	}
}

enum verdict_kind judge_scenario(struct scenario_result *r)
{
	const struct scenario *sc = r->scenario;
	struct metrics *per_trial = xcalloc((size_t)(r->ntrials ? r->ntrials : 1), sizeof(*per_trial));

	r->overall = r->ntrials > 0 ? VERDICT_PASS : VERDICT_FAIL;
	for (int i = 0; i < r->ntrials; i++) {
		r->trials[i].verdict = judge_trial(sc, &r->trials[i]);
		if (r->trials[i].verdict == VERDICT_FAIL)
			r->overall = VERDICT_FAIL;
		per_trial[i] = r->trials[i].metrics;
	}
	for (int id = 0; id < METRIC_COUNT; id++)
		judge_metric_stats(per_trial, r->ntrials, (enum metric_id)id, &r->stats[id]);
	r->nstat_verdicts = 0;
	for (int i = 0; i < sc->nslos; i++) {
		struct verdict *v;

		if (!slo_is_trial_stat(&sc->slos[i]))
			continue;
		v = &r->stat_verdicts[r->nstat_verdicts++];
		slo_judge_trials(&sc->slos[i], per_trial, r->ntrials, v);
		if (v->kind == VERDICT_FAIL)
			r->overall = VERDICT_FAIL;
	}
	r->have_stats = true;
	judge_slos_overall(r);
	free(per_trial);
	return r->overall;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void judge_stats(double *values, int n, struct trial_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (n <= 0)
		return;
	qsort(values, (size_t)n, sizeof(*values), cmp_double);
	out->observed = n;
	for (int i = 0; i < n; i++)
		if (isinf(values[i]))
			out->never++;
	out->min = values[0];
	out->max = values[n - 1];
	out->p50 = metrics_percentile(values, n, 50);
	out->p95 = metrics_percentile(values, n, 95);
}

void judge_metric_stats(const struct metrics *per_trial, int n, enum metric_id id, struct trial_stats *out)
{
	double *v = xmalloc(((size_t)(n > 0 ? n : 0) + 1) * sizeof(*v));
	int k = 0;

	for (int i = 0; i < n; i++) {
		struct metric_value mv;

		metric_value(&per_trial[i], id, &mv);
		if (!mv.observed)
			continue;
		/* What never ended ranks above every number: a p95 landing on it is never too. */
		v[k++] = mv.never ? INFINITY : mv.value;
	}
	judge_stats(v, k, out);
	out->trials = n;
	free(v);
}

void judge_result_free_bins(struct scenario_result *r)
{
	for (int i = 0; r->trials && i < r->ntrials; i++) {
		if (r->trials[i].timeseries) {
			timeseries_free(r->trials[i].timeseries);
			free(r->trials[i].timeseries);
			r->trials[i].timeseries = NULL;
		}
	}
}

void judge_result_free(struct scenario_result *r)
{
	judge_result_free_bins(r);
	free(r->trials);
	r->trials = NULL;
	r->ntrials = 0;
}
