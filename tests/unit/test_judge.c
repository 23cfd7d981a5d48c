/*
 * test_judge.c - the judge: a trial's verdict from the real run-pod-kill log (SLO failures,
 * an incomplete trial, an unreadable log, a cluster that never recovered), and SLOs on a
 * statistic judged once across trials, failing the scenario while every trial passes.
 */
#include "judge.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *src;

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	src = getenv("BISE_SOURCE_DIR");
	return src ? 0 : 1;
}

static void add_slo(struct scenario *sc, const char *metric, const char *text)
{
	char why[256];

	CU_ASSERT_FATAL(slo_parse(metric, text, &sc->slos[sc->nslos], why, sizeof(why)));
	sc->nslos++;
}

/* The fixture's scenario (failover_time < 30s, data_loss == 0, ...) and its trial. */
static void load_pod_kill(struct scenario *sc, struct trial_result *t, struct trial_log *log)
{
	char path[4096], err[4096];

	memset(sc, 0, sizeof(*sc));
	memset(t, 0, sizeof(*t));
	str_format(path, sizeof(path), "%s/tests/unit/data/run-pod-kill/primary-pod-kill/scenario.yaml", src);
	CU_ASSERT_FATAL(scenario_load(path, sc, err, sizeof(err)));
	t->trial = 1;
	str_format(t->events_path, sizeof(t->events_path),
		   "%s/tests/unit/data/run-pod-kill/primary-pod-kill/trial-1/events.jsonl", src);
	CU_ASSERT_FATAL(judge_load_trial(t, true, log));
}

static void free_trial(struct trial_result *t)
{
	timeseries_free(t->timeseries);
	free(t->timeseries);
	t->timeseries = NULL;
}

static void test_trial_verdict(void)
{
	struct scenario sc;
	struct trial_result t;
	struct trial_log log;
	int plain;

	load_pod_kill(&sc, &t, &log);
	/* What the log says of its run, through the typed reader. */
	CU_ASSERT_STRING_EQUAL(log.end_status, "completed");
	CU_ASSERT_STRING_EQUAL(log.backend, "local");
	CU_ASSERT_STRING_EQUAL(log.host, "vm");
	CU_ASSERT_EQUAL(log.seed, 562303266994551858ULL);
	CU_ASSERT_DOUBLE_EQUAL(log.provision_seconds, 6.888124, 1e-9);
	CU_ASSERT_PTR_NOT_NULL(t.timeseries);
	CU_ASSERT(t.log_read);

	t.completed = true;
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_PASS);
	CU_ASSERT_EQUAL(t.nverdicts, sc.nslos);
	plain = sc.nslos;

	/* The failover took 10.54 s: an SLO of 5 s fails the trial, with what was measured. */
	add_slo(&sc, "failover_time", "< 5s");
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_FAIL);
	CU_ASSERT_EQUAL(t.nverdicts, plain + 1);
	CU_ASSERT_EQUAL(t.verdicts[plain].kind, VERDICT_FAIL);
	CU_ASSERT_STRING_EQUAL(t.verdicts[plain].measured_text, "10.54s");
	sc.nslos--;

	/* An SLO on a statistic is not judged per trial. */
	add_slo(&sc, "p95(failover_time)", "< 5s");
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_PASS);
	CU_ASSERT_EQUAL(t.verdicts[plain].kind, VERDICT_SKIP);
	sc.nslos--;

	/* A trial that did not complete fails though every SLO held. */
	t.completed = false;
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_FAIL);
	t.completed = true;

	/* A scenario that waits for recovery fails when the cluster never recovered. */
	CU_ASSERT(t.metrics.healthy_seen);
	t.metrics.healthy_ok = false;
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_FAIL);
	free_trial(&t);
	scenario_free(&sc);
}

static void test_unreadable_log(void)
{
	struct scenario sc;
	struct trial_result t;
	struct trial_log log;

	memset(&sc, 0, sizeof(sc));
	memset(&t, 0, sizeof(t));
	add_slo(&sc, "data_loss", "== 0");
	str_copy(t.events_path, sizeof(t.events_path), "/nonexistent/events.jsonl");
	CU_ASSERT_FALSE(judge_load_trial(&t, true, &log));
	CU_ASSERT_FALSE(t.log_read);
	CU_ASSERT_PTR_NULL(t.timeseries);
	CU_ASSERT_STRING_EQUAL(log.end_status, "");
	t.completed = true;
	CU_ASSERT_EQUAL(judge_trial(&sc, &t), VERDICT_FAIL);
	CU_ASSERT_EQUAL(t.nverdicts, 0);
}

/* A trial whose only measurement is a recovery after `seconds` (never when < 0). */
static void recovered_after(struct trial_result *t, int n, double seconds)
{
	memset(t, 0, sizeof(*t));
	t->trial = n;
	t->completed = true;
	t->log_read = true;
	t->metrics.healthy_seen = true;
	t->metrics.healthy_ok = seconds >= 0;
	t->metrics.healthy_seconds = seconds >= 0 ? seconds : 0;
}

static void test_statistic_across_trials(void)
{
	static const double seconds[] = { 4.0, 1.0, 2.0, 3.0, 9.0 };
	struct scenario sc;
	struct scenario_result r;
	struct trial_result t[5];
	const struct trial_stats *s;

	memset(&sc, 0, sizeof(sc));
	memset(&r, 0, sizeof(r));
	add_slo(&sc, "recovery_time", "< 10s");
	add_slo(&sc, "p50(recovery_time)", "< 5s");
	add_slo(&sc, "p95(recovery_time)", "< 5s");
	for (int i = 0; i < 5; i++)
		recovered_after(&t[i], i + 1, seconds[i]);
	r.scenario = &sc;
	r.trials = t;
	r.ntrials = 5;

	/* Every trial passes its own SLO; the p95 lands on the 9 s trial and fails the scenario. */
	CU_ASSERT_EQUAL(judge_scenario(&r), VERDICT_FAIL);
	CU_ASSERT_EQUAL(r.overall, VERDICT_FAIL);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(judge_trial(&sc, &t[i]), VERDICT_PASS);
		CU_ASSERT_EQUAL(t[i].verdicts[1].kind, VERDICT_SKIP);
	}
	CU_ASSERT(r.have_stats);
	CU_ASSERT_EQUAL(r.nstat_verdicts, 2);
	CU_ASSERT_EQUAL(r.stat_verdicts[0].kind, VERDICT_PASS);
	CU_ASSERT_DOUBLE_EQUAL(r.stat_verdicts[0].measured, 3e6, 1e-3);
	CU_ASSERT_EQUAL(r.stat_verdicts[1].kind, VERDICT_FAIL);
	CU_ASSERT_DOUBLE_EQUAL(r.stat_verdicts[1].measured, 9e6, 1e-3);
	s = &r.stats[METRIC_RECOVERY_TIME];
	CU_ASSERT_EQUAL(s->trials, 5);
	CU_ASSERT_EQUAL(s->observed, 5);
	CU_ASSERT_DOUBLE_EQUAL(s->min, 1e6, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(s->p50, 3e6, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(s->max, 9e6, 1e-3);
	/* Not observed in any trial: no statistic. */
	CU_ASSERT_EQUAL(r.stats[METRIC_PROMOTION_TIME].observed, 0);
	/* Each SLO over the scenario: the plain one held in every trial, the p95 failed. */
	CU_ASSERT_EQUAL(r.slo_verdicts[0], VERDICT_PASS);
	CU_ASSERT_EQUAL(r.slo_verdicts[1], VERDICT_PASS);
	CU_ASSERT_EQUAL(r.slo_verdicts[2], VERDICT_FAIL);
	CU_ASSERT_EQUAL(t[4].verdict, VERDICT_PASS);

	/* The slow trial never recovers: it fails itself, and the p95 is "never". */
	recovered_after(&t[4], 5, -1);
	CU_ASSERT_EQUAL(judge_scenario(&r), VERDICT_FAIL);
	CU_ASSERT_EQUAL(judge_trial(&sc, &t[4]), VERDICT_FAIL);
	CU_ASSERT_EQUAL(r.stats[METRIC_RECOVERY_TIME].never, 1);
	CU_ASSERT(isinf(r.stats[METRIC_RECOVERY_TIME].p95));
	CU_ASSERT_STRING_EQUAL(r.stat_verdicts[1].measured_text, "never");
	/* One trial failed the plain SLO: it fails over the scenario. */
	CU_ASSERT_EQUAL(r.slo_verdicts[0], VERDICT_FAIL);
	CU_ASSERT_EQUAL(t[4].verdict, VERDICT_FAIL);

	/* Fast enough everywhere: the scenario passes. */
	recovered_after(&t[4], 5, 4.5);
	CU_ASSERT_EQUAL(judge_scenario(&r), VERDICT_PASS);

	/* No trial at all is no pass. */
	r.ntrials = 0;
	CU_ASSERT_EQUAL(judge_scenario(&r), VERDICT_FAIL);
}

static void test_stats(void)
{
	double v[] = { 5, INFINITY, 1, 4, 2, 3 };
	struct trial_stats s;

	judge_stats(v, 6, &s);
	CU_ASSERT_EQUAL(s.observed, 6);
	CU_ASSERT_EQUAL(s.never, 1);
	CU_ASSERT_DOUBLE_EQUAL(s.min, 1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.p50, 3, 1e-9);
	CU_ASSERT(isinf(s.p95) && isinf(s.max));
	judge_stats(v, 0, &s);
	CU_ASSERT_EQUAL(s.observed, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.max, 0, 1e-9);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("judge", suite_init, NULL);

	CU_add_test(s, "a trial's verdict from its log", test_trial_verdict);
	CU_add_test(s, "an unreadable log fails the trial", test_unreadable_log);
	CU_add_test(s, "an SLO on a statistic judged once across trials", test_statistic_across_trials);
	CU_add_test(s, "statistics: nearest rank, never ranks last", test_stats);
}
