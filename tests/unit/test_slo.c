/* test_slo.c - SLO parsing and pass/fail/skip verdicts for every metric. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "judge.h"
#include "slo.h"

void tests_register(void);

#define MS INT64_C(1000)
#define SEC INT64_C(1000000)

static const struct {
	const char *metric, *text;
	enum slo_op op;
	double threshold;
	const char *norm;
} good[] = {
	{ "failover_time", "< 30s", SLO_LT, 30e6, "< 30s" },
	{ "failover_time", "<30s", SLO_LT, 30e6, "< 30s" },
	{ "failover_time", "  <=   1.5s  ", SLO_LE, 1.5e6, "<= 1.5s" },
	{ "promotion_time", "> 500ms", SLO_GT, 500e3, "> 500ms" },
	{ "recovery_time", ">= 2m", SLO_GE, 120e6, ">= 2m" },
	{ "data_loss", "== 0", SLO_EQ, 0, "== 0" },
	{ "data_loss", "==0", SLO_EQ, 0, "== 0" },
	{ "indeterminate_writes", "<= 10", SLO_LE, 10, "<= 10" },
	{ "phantom_writes", "> 3", SLO_GT, 3, "> 3" },
	{ "max_lag_bytes", "<= 16MiB", SLO_LE, 16777216, "<= 16MiB" },
	{ "max_lag_time", "< 2s", SLO_LT, 2e6, "< 2s" },
	{ "split_brain_time", "== 0s", SLO_EQ, 0, "== 0s" },
	{ "split_brain_writes", "== 0", SLO_EQ, 0, "== 0" },
	{ "rpo_time", "< 500ms", SLO_LT, 500e3, "< 500ms" },
	{ "rpo_bytes", "<= 1MiB", SLO_LE, 1048576, "<= 1MiB" },
	{ "redundancy_time", "< 1m", SLO_LT, 60e6, "< 1m" },
	{ "p95(failover_time)", "< 30s", SLO_LT, 30e6, "< 30s" },
	{ "max(data_loss)", "== 0", SLO_EQ, 0, "== 0" },
	{ "min(redundancy_time)", ">= 1s", SLO_GE, 1e6, ">= 1s" },
	{ "p50(rpo_bytes)", "< 1kB", SLO_LT, 1000, "< 1kB" },
};

static const struct {
	const char *metric, *text, *why;
} bad[] = {
	{ "failover_tme", "< 30s", "unknown SLO metric" },
	{ "failover_time", "30s", "does not start with a comparison" },
	{ "failover_time", "= 30s", "does not start with a comparison" },
	{ "failover_time", "=< 30s", "does not start with a comparison" },
	{ "failover_time", "<== 30s", "unknown comparison" },
	{ "failover_time", "!= 30s", "does not start with a comparison" },
	{ "failover_time", "<", "no value" },
	{ "failover_time", "<   ", "no value" },
	{ "failover_time", "", "does not start with a comparison" },
	{ "failover_time", "< 30", "has no unit" },
	{ "failover_time", "< -1s", "negative" },
	{ "failover_time", "< 30 s", "trailing" },
	{ "failover_time", "< 16MiB", "unknown unit" },
	{ "data_loss", "== 1s", "not a count" },
	{ "data_loss", "== -1", "not a count" },
	{ "data_loss", "== 1.5", "not a count" },
	{ "data_loss", "== 99.5%", "not a count" },
	{ "data_loss", "== x", "not a count" },
	{ "data_loss", "== 99999999999999999999", "not a count" },
	{ "p99(failover_time)", "< 30s", "unknown SLO metric" },
	{ "p95(failover_tme)", "< 30s", "unknown SLO metric" },
	{ "p95(failover_time", "< 30s", "unknown SLO metric" },
	{ "p95()", "< 30s", "unknown SLO metric" },
	{ "(failover_time)", "< 30s", "unknown SLO metric" },
	{ "max(data_loss)", "== 1s", "not a count" },
	{ "max_lag_bytes", "< 2s", "" },
};

static void test_parse_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct slo_spec s;
		char why[256] = "";

		if (!slo_parse(good[i].metric, good[i].text, &s, why, sizeof(why)))
			fprintf(stderr, "\n%s \"%s\": %s\n", good[i].metric, good[i].text, why);
		CU_ASSERT_TRUE_FATAL(slo_parse(good[i].metric, good[i].text, &s, why, sizeof(why)));
		CU_ASSERT_STRING_EQUAL(s.metric, good[i].metric);
		CU_ASSERT_EQUAL(s.op, good[i].op);
		CU_ASSERT_DOUBLE_EQUAL(s.threshold, good[i].threshold, 1e-9);
		CU_ASSERT_STRING_EQUAL(s.text, good[i].norm);
	}
}

static void test_parse_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct slo_spec s;
		char why[256] = "";

		CU_ASSERT_FALSE(slo_parse(bad[i].metric, bad[i].text, &s, why, sizeof(why)));
		if (!strstr(why, bad[i].why))
			fprintf(stderr, "\n%s \"%s\": got \"%s\"\n", bad[i].metric, bad[i].text, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad[i].why));
	}
	CU_ASSERT_FALSE(slo_parse("data_loss", "x", &(struct slo_spec){ 0 }, NULL, 0));
}

static void test_registry(void)
{
	static const char *const names[] = { "failover_time", "promotion_time", "data_loss",
		"indeterminate_writes", "phantom_writes", "recovery_time", "max_lag_bytes", "max_lag_time",
		"split_brain_time", "split_brain_writes", "rpo_time", "rpo_bytes", "redundancy_time",
		"read_unavailability", "max_staleness", "deposed_reads", "label_switch_time",
		"fault_duration_error", "fault_lateness", "server_accept_time" };
	enum slo_unit u;
	char list[512] = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CU_ASSERT_TRUE(slo_metric_known(names[i], &u));
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	CU_ASSERT_STRING_EQUAL(slo_metric_names(), list);
	CU_ASSERT_TRUE(slo_metric_known("failover_time", &u));
	CU_ASSERT_EQUAL(u, SLO_UNIT_DURATION);
	CU_ASSERT_TRUE(slo_metric_known("data_loss", &u));
	CU_ASSERT_EQUAL(u, SLO_UNIT_COUNT);
	CU_ASSERT_TRUE(slo_metric_known("recovery_time", NULL));
	CU_ASSERT_FALSE(slo_metric_known("nope", &u));
	CU_ASSERT_TRUE(slo_metric_known("p95(max_lag_bytes)", &u));
	CU_ASSERT_EQUAL(u, SLO_UNIT_BYTES);
	CU_ASSERT_FALSE(slo_metric_known("p95(nope)", &u));
	/* The metric registry and the SLO names agree, in order. */
	for (int id = 0; id < METRIC_COUNT; id++) {
		enum metric_id back;

		CU_ASSERT_STRING_EQUAL(metric_name((enum metric_id)id), names[id]);
		CU_ASSERT(metric_lookup(names[id], &back) && back == (enum metric_id)id);
	}
	CU_ASSERT_STRING_EQUAL(verdict_name(VERDICT_PASS), "pass");
	CU_ASSERT_STRING_EQUAL(verdict_name(VERDICT_FAIL), "fail");
	CU_ASSERT_STRING_EQUAL(verdict_name(VERDICT_SKIP), "skip");
}

/* Metrics of a run with a fault, a closed outage, a promotion, read-back and health. */
static struct metrics full_run(void)
{
	struct metrics m;

	memset(&m, 0, sizeof(m));
	m.fault_seen = m.outage_seen = m.outage_closed = true;
	m.attempted = 1000;
	m.ok = 990;
	m.wuw_dur_us = 9840 * MS;
	m.promote_seen = true;
	m.promotion_dur_us = 7 * SEC;
	m.readback_seen = true;
	m.lost = 0;
	m.phantom = 0;
	m.indeterminate = 3;
	m.healthy_seen = m.healthy_ok = true;
	m.healthy_seconds = 42.5;
	m.lag_seen = true;
	m.max_lag_bytes = 8192;
	m.max_lag_est_s = 0.25;
	m.split_brain_checked = true;
	m.split_brain_dur_us = 1500 * MS;
	m.split_brain_writes = 12;
	m.rpo_time_seen = true;
	m.rpo_dur_us = 0;
	m.rpo_bytes_seen = true;
	m.rpo_bytes = 4096;
	m.redundancy_checked = m.redundancy_reached = true;
	m.redundancy_dur_us = 3 * SEC;
	return m;
}

enum tweak {
	AS_IS,
	NO_FAULT,
	NO_OUTAGE,
	OUTAGE_OPEN,
	NO_PROMOTION,
	NO_READBACK,
	LOST_2,
	PHANTOM_1,
	UNHEALTHY,
	NO_HEALTH_WAIT,
	WUW_30S,
	NO_LAG,
	NO_REDUNDANCY,
	NO_PRIMARY_SAMPLES,
};

static void apply(struct metrics *m, enum tweak t)
{
	switch (t) {
	case AS_IS:
		break;
	case NO_FAULT:
		m->fault_seen = m->outage_seen = m->outage_closed = false;
		m->redundancy_checked = m->redundancy_reached = false;
		break;
	case NO_OUTAGE:
		m->outage_seen = m->outage_closed = false;
		break;
	case OUTAGE_OPEN:
		m->outage_closed = false;
		break;
	case NO_PROMOTION:
		m->promote_seen = false;
		break;
	case NO_READBACK:
		m->readback_seen = m->rpo_time_seen = false;
		break;
	case LOST_2:
		m->lost = 2;
		break;
	case PHANTOM_1:
		m->phantom = 1;
		break;
	case UNHEALTHY:
		m->healthy_ok = false;
		break;
	case NO_HEALTH_WAIT:
		m->healthy_seen = m->healthy_ok = false;
		break;
	case WUW_30S:
		m->wuw_dur_us = 30 * SEC;
		break;
	case NO_LAG:
		m->lag_seen = false;
		m->redundancy_checked = false;
		break;
	case NO_REDUNDANCY:
		m->redundancy_reached = false;
		break;
	case NO_PRIMARY_SAMPLES:
		m->split_brain_checked = false;
		m->rpo_bytes_seen = false;
		break;
	}
}

static const struct {
	const char *metric, *slo;
	enum tweak tweak;
	enum verdict_kind kind;
	const char *measured; /* measured_text */
	const char *reason;   /* part of the reason, "" for none */
} judge_cases[] = {
	{ "failover_time", "< 30s", AS_IS, VERDICT_PASS, "9.84s", "" },
	{ "failover_time", "< 5s", AS_IS, VERDICT_FAIL, "9.84s", "measured 9.84s, wanted failover_time < 5s" },
	{ "failover_time", "< 30s", WUW_30S, VERDICT_FAIL, "30.00s", "measured 30.00s" },
	{ "failover_time", "<= 30s", WUW_30S, VERDICT_PASS, "30.00s", "" },
	{ "failover_time", "== 30s", WUW_30S, VERDICT_PASS, "30.00s", "" },
	{ "failover_time", "> 30s", WUW_30S, VERDICT_FAIL, "30.00s", "" },
	{ "failover_time", ">= 30s", WUW_30S, VERDICT_PASS, "30.00s", "" },
	{ "failover_time", "< 30s", NO_OUTAGE, VERDICT_PASS, "0s", "" },
	{ "failover_time", "> 1s", NO_OUTAGE, VERDICT_FAIL, "0s", "" },
	{ "failover_time", "< 30s", OUTAGE_OPEN, VERDICT_FAIL, "never", "writes never recovered" },
	{ "failover_time", "< 30s", NO_FAULT, VERDICT_SKIP, "-", "no fault was applied" },
	{ "promotion_time", "< 10s", AS_IS, VERDICT_PASS, "7.00s", "" },
	{ "promotion_time", "< 7s", AS_IS, VERDICT_FAIL, "7.00s", "" },
	{ "promotion_time", "<= 7s", AS_IS, VERDICT_PASS, "7.00s", "" },
	{ "promotion_time", "< 10s", NO_PROMOTION, VERDICT_SKIP, "-", "no promotion observed" },
	{ "data_loss", "== 0", AS_IS, VERDICT_PASS, "0", "" },
	{ "data_loss", "== 0", LOST_2, VERDICT_FAIL, "2", "measured 2, wanted data_loss == 0" },
	{ "data_loss", "<= 2", LOST_2, VERDICT_PASS, "2", "" },
	{ "data_loss", "< 2", LOST_2, VERDICT_FAIL, "2", "" },
	{ "data_loss", "== 0", NO_READBACK, VERDICT_SKIP, "-", "no read-back: the run ended before recovery" },
	{ "indeterminate_writes", "<= 3", AS_IS, VERDICT_PASS, "3", "" },
	{ "indeterminate_writes", "< 3", AS_IS, VERDICT_FAIL, "3", "" },
	{ "indeterminate_writes", "<= 3", NO_READBACK, VERDICT_PASS, "3", "" },
	{ "phantom_writes", "== 0", AS_IS, VERDICT_PASS, "0", "" },
	{ "phantom_writes", "== 0", PHANTOM_1, VERDICT_FAIL, "1", "" },
	{ "phantom_writes", "== 0", NO_READBACK, VERDICT_SKIP, "-", "no read-back" },
	{ "recovery_time", "< 60s", AS_IS, VERDICT_PASS, "42.50s", "" },
	{ "recovery_time", "< 42s", AS_IS, VERDICT_FAIL, "42.50s", "" },
	{ "recovery_time", "<= 42.5s", AS_IS, VERDICT_PASS, "42.50s", "" },
	{ "recovery_time", "< 60s", UNHEALTHY, VERDICT_FAIL, "never", "cluster did not recover within the timeout" },
	{ "recovery_time", "< 60s", NO_HEALTH_WAIT, VERDICT_SKIP, "-", "" },
	{ "max_lag_bytes", "<= 8KiB", AS_IS, VERDICT_PASS, "8.00 KiB", "" },
	{ "max_lag_bytes", "< 8KiB", AS_IS, VERDICT_FAIL, "8.00 KiB", "wanted max_lag_bytes < 8KiB" },
	{ "max_lag_bytes", "< 8KiB", NO_LAG, VERDICT_SKIP, "-", "no replication samples" },
	{ "max_lag_time", "< 1s", AS_IS, VERDICT_PASS, "250ms", "" },
	{ "max_lag_time", "< 1s", NO_LAG, VERDICT_SKIP, "-", "no replication samples" },
	{ "split_brain_time", "== 0s", AS_IS, VERDICT_FAIL, "1.50s", "" },
	{ "split_brain_time", "< 2s", AS_IS, VERDICT_PASS, "1.50s", "" },
	{ "split_brain_time", "== 0s", NO_PRIMARY_SAMPLES, VERDICT_SKIP, "-", "fewer than two" },
	{ "split_brain_writes", "== 0", AS_IS, VERDICT_FAIL, "12", "" },
	{ "rpo_time", "== 0s", AS_IS, VERDICT_PASS, "0s", "" },
	{ "rpo_time", "== 0s", NO_READBACK, VERDICT_SKIP, "-", "no read-back" },
	{ "rpo_bytes", "<= 4KiB", AS_IS, VERDICT_PASS, "4.00 KiB", "" },
	{ "rpo_bytes", "<= 4KiB", NO_PRIMARY_SAMPLES, VERDICT_SKIP, "-", "no promotion observed" },
	{ "redundancy_time", "< 5s", AS_IS, VERDICT_PASS, "3.00s", "" },
	{ "redundancy_time", "< 5s", NO_REDUNDANCY, VERDICT_FAIL, "never", "never streamed" },
	{ "redundancy_time", "< 5s", NO_LAG, VERDICT_SKIP, "-", "no replication samples after the heal" },
	{ "redundancy_time", "< 5s", NO_FAULT, VERDICT_SKIP, "-", "no fault" },
	{ "p95(failover_time)", "< 5s", AS_IS, VERDICT_SKIP, "-", "judged once over all trials" },
};

static void test_judge(void)
{
	for (size_t i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		struct metrics m = full_run();
		struct slo_spec s;
		struct verdict v;
		char why[256];

		apply(&m, judge_cases[i].tweak);
		CU_ASSERT_TRUE_FATAL(slo_parse(judge_cases[i].metric, judge_cases[i].slo, &s, why,
					       sizeof(why)));
		slo_judge(&s, &m, &v);
		if (v.kind != judge_cases[i].kind || strcmp(v.measured_text, judge_cases[i].measured) ||
		    !strstr(v.reason, judge_cases[i].reason))
			fprintf(stderr, "\ncase %zu %s %s: %s %s \"%s\"\n", i, judge_cases[i].metric,
				judge_cases[i].slo, verdict_name(v.kind), v.measured_text, v.reason);
		CU_ASSERT_PTR_EQUAL(v.slo, &s);
		CU_ASSERT_EQUAL(v.kind, judge_cases[i].kind);
		CU_ASSERT_STRING_EQUAL(v.measured_text, judge_cases[i].measured);
		CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, judge_cases[i].reason));
		if (v.kind == VERDICT_SKIP)
			CU_ASSERT_NOT_EQUAL(v.reason[0], '\0');
	}
}

static void test_judge_measured_value(void)
{
	struct metrics m = full_run();
	struct slo_spec s;
	struct verdict v;

	CU_ASSERT_TRUE_FATAL(slo_parse("recovery_time", "< 1m", &s, NULL, 0));
	slo_judge(&s, &m, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.measured, 42.5e6, 1e-3);
	CU_ASSERT_TRUE_FATAL(slo_parse("failover_time", "< 1m", &s, NULL, 0));
	slo_judge(&s, &m, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.measured, 9840e3, 1e-3);
	/* A hand-built spec with an unknown metric is skipped, not a crash. */
	memset(&s, 0, sizeof(s));
	snprintf(s.metric, sizeof(s.metric), "nope");
	slo_judge(&s, &m, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_SKIP);
}

/* A fault with no write measured at all (no workload) says nothing about failover. */
static void test_failover_without_writes(void)
{
	struct metrics m = full_run();
	struct slo_spec s;
	struct verdict v;
	char why[128];

	m.attempted = m.ok = 0;
	m.outage_seen = m.outage_closed = false;
	CU_ASSERT_FATAL(slo_parse("failover_time", "< 30s", &s, why, sizeof(why)));
	slo_judge(&s, &m, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_SKIP);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "no writes"));
}

/*
 * Twenty trials with failover times 1..20 s (nearest rank: p50 = 10 s, p95 = 19 s),
 * one of them without a fault (left out), one whose writes never recovered.
 */
static void test_judge_trials(void)
{
	struct metrics per[22];
	struct slo_spec s;
	struct verdict v;
	struct trial_stats ts;

	for (int i = 0; i < 20; i++) {
		per[i] = full_run();
		per[i].wuw_dur_us = (i + 1) * SEC;
	}
	per[20] = full_run();
	apply(&per[20], NO_FAULT);
	judge_metric_stats(per, 21, METRIC_FAILOVER_TIME, &ts);
	CU_ASSERT_EQUAL(ts.trials, 21);
	CU_ASSERT_EQUAL(ts.observed, 20);
	CU_ASSERT_EQUAL(ts.never, 0);
	CU_ASSERT_DOUBLE_EQUAL(ts.min, 1e6, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(ts.p50, 10e6, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(ts.p95, 19e6, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(ts.max, 20e6, 1e-6);

	CU_ASSERT_FATAL(slo_parse("p95(failover_time)", "< 19500ms", &s, NULL, 0));
	CU_ASSERT(slo_is_trial_stat(&s));
	slo_judge_trials(&s, per, 21, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_PASS);
	CU_ASSERT_STRING_EQUAL(v.measured_text, "19.00s");
	CU_ASSERT_FATAL(slo_parse("p50(failover_time)", "< 10s", &s, NULL, 0));
	slo_judge_trials(&s, per, 21, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_FAIL);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "over 20 of 21 trials"));
	CU_ASSERT_FATAL(slo_parse("min(failover_time)", ">= 1s", &s, NULL, 0));
	slo_judge_trials(&s, per, 21, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_PASS);

	/* One never: the max is never, p95 of 21 observed lands on rank 20 (20 s). */
	per[21] = full_run();
	apply(&per[21], OUTAGE_OPEN);
	CU_ASSERT_FATAL(slo_parse("max(failover_time)", "< 1h", &s, NULL, 0));
	slo_judge_trials(&s, per, 22, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_FAIL);
	CU_ASSERT_STRING_EQUAL(v.measured_text, "never");
	CU_ASSERT_FATAL(slo_parse("p95(failover_time)", "<= 20s", &s, NULL, 0));
	slo_judge_trials(&s, per, 22, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_PASS);
	CU_ASSERT_STRING_EQUAL(v.measured_text, "20.00s");

	/* Not observed anywhere: skip. A plain SLO is not judged across trials. */
	CU_ASSERT_FATAL(slo_parse("max(promotion_time)", "< 1s", &s, NULL, 0));
	apply(&per[0], NO_PROMOTION);
	slo_judge_trials(&s, per, 1, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_SKIP);
	CU_ASSERT_FATAL(slo_parse("failover_time", "< 1s", &s, NULL, 0));
	CU_ASSERT_FALSE(slo_is_trial_stat(&s));
	slo_judge_trials(&s, per, 22, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_SKIP);
	/* No trial at all. */
	CU_ASSERT_FATAL(slo_parse("max(data_loss)", "== 0", &s, NULL, 0));
	slo_judge_trials(&s, per, 0, &v);
	CU_ASSERT_EQUAL(v.kind, VERDICT_SKIP);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("slo", NULL, NULL);

	CU_add_test(s, "slo_parse accepts", test_parse_good);
	CU_add_test(s, "slo_parse rejects with a reason", test_parse_bad);
	CU_add_test(s, "metric registry and verdict names", test_registry);
	CU_add_test(s, "judging pass/fail/skip per metric", test_judge);
	CU_add_test(s, "measured values in base units", test_judge_measured_value);
	CU_add_test(s, "statistics over trials", test_judge_trials);
	CU_add_test(s, "failover without any write is not observed", test_failover_without_writes);
}
