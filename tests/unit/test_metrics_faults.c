/*
 * test_metrics_faults.c - each fault's own timing (metrics_faults.c) on synthetic logs with
 * known answers: effect times, latencies, lateness against the plan, requested against
 * effective durations, repetitions paired by step and repetition, a log of an older bise,
 * and the two SLO metrics (fault_duration_error, fault_lateness) with their skips.
 */
#include "event.h"
#include "metrics.h"
#include "synthetic_log.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <string.h>

static int suite_init(void)
{
	return synth_suite_init("bise-test-faults");
}

/*
 * An apply or revert that took effect at t_us (seen as how), called at called_us, due at
 * deadline_us; requested_ms > 0 on an apply; rep > 1 for a repetition.
 */
static void timed(const char *action, int step, int rep, int64_t t_us, const char *how, int64_t called_us,
		  int64_t deadline_us, double requested_ms)
{
	json_object *o = synth_fault(action, "process-pause", "geneva", step);

	json_object_object_add(o, "effect_by", json_object_new_string(how));
	synth_time(o, "called", called_us);
	synth_time(o, "returned", t_us + 200);
	synth_time(o, "deadline", deadline_us);
	if (requested_ms > 0)
		json_object_object_add(o, "requested_ms", json_object_new_double(requested_ms));
	if (rep > 1)
		json_object_object_add(o, "repeat", json_object_new_int(rep));
	synth_emit(t_us, o);
}

/* A 3 s pause frozen 4 ms after its deadline (called on it), thawed 2.1 ms late: 2.9979 s in force. */
static void test_one_pause(void)
{
	struct metrics m;
	const struct fault_timing_metric *x;
	struct metric_value v;

	synth_begin();
	timed("apply", 0, 1, MS(10004), "cgroup-frozen", MS(10000), MS(10000), 3000);
	/* Its revert was due 3 s after the apply took effect: 13.004 s; thawed at 13.0061 s. */
	timed("revert", 0, 1, MS(13004) + 2100, "cgroup-thawed", MS(13004) + 1800, MS(13004), 0);
	synth_finish(&m);
	CU_ASSERT_EQUAL_FATAL(m.nfault_timings, 1);
	x = &m.fault_timings[0];
	CU_ASSERT_STRING_EQUAL(x->fault, "process-pause");
	CU_ASSERT_STRING_EQUAL(x->node, "geneva");
	CU_ASSERT_STRING_EQUAL(x->apply_by, "cgroup-frozen");
	CU_ASSERT_STRING_EQUAL(x->revert_by, "cgroup-thawed");
	CU_ASSERT_EQUAL(x->apply_effect_us, MS(10004));
	CU_ASSERT_EQUAL(x->apply_latency_us, MS(4));
	CU_ASSERT(x->apply_late_known);
	CU_ASSERT_EQUAL(x->apply_late_us, MS(4));
	CU_ASSERT_EQUAL(x->requested_us, MS(3000));
	CU_ASSERT(x->reverted);
	CU_ASSERT_EQUAL(x->revert_latency_us, 300);
	CU_ASSERT_EQUAL(x->revert_late_us, 2100);
	CU_ASSERT_EQUAL(x->effective_us, MS(3002) + 100);
	CU_ASSERT(x->duration_known);
	CU_ASSERT_EQUAL(x->duration_error_us, 2100);
	metric_value(&m, METRIC_FAULT_DURATION_ERROR, &v);
	CU_ASSERT(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 2100, 1e-9);
	metric_value(&m, METRIC_FAULT_LATENESS, &v);
	CU_ASSERT(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, MS(4), 1e-9);
}

/*
 * A step repeated twice (same step, repetitions 1 and 2) and a second step cut short (its
 * revert came 500 ms early, the trial interrupted: no deadline). The worst duration error
 * is the largest in size, with its sign kept in the metrics and its size judged.
 */
static void test_repeats_and_cut_short(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	timed("apply", 0, 1, MS(1001), "nft-commit", MS(1000), MS(1000), 1000);
	timed("apply", 1, 1, MS(1500), "nft-commit", MS(1499), MS(1500), 2000);
	timed("revert", 0, 1, MS(2004), "nft-commit", MS(2001), MS(2001), 0);
	timed("apply", 0, 2, MS(3001), "nft-commit", MS(3000), MS(3000), 1000);
	timed("revert", 0, 2, MS(4002), "nft-commit", MS(4001), MS(4001), 0);
	{
		json_object *o = synth_fault("revert", "process-pause", "geneva", 1);

		json_object_object_add(o, "effect_by", json_object_new_string("returned"));
		synth_time(o, "called", MS(3000));
		synth_emit(MS(3000), o); /* cut short at 3.0 s: 1.5 s in force of 2 s */
	}
	synth_finish(&m);
	CU_ASSERT_EQUAL_FATAL(m.nfault_timings, 3);
	CU_ASSERT_EQUAL(m.fault_timings[0].rep, 1);
	CU_ASSERT_EQUAL(m.fault_timings[0].effective_us, MS(1003));
	CU_ASSERT_EQUAL(m.fault_timings[2].rep, 2);
	CU_ASSERT_EQUAL(m.fault_timings[2].effective_us, MS(1001));
	CU_ASSERT_EQUAL(m.fault_timings[1].effective_us, MS(1500));
	CU_ASSERT_FALSE(m.fault_timings[1].revert_late_known);
	CU_ASSERT_STRING_EQUAL(m.fault_timings[1].revert_by, "returned");
	CU_ASSERT_EQUAL(m.max_duration_error_us, -MS(500));
	metric_value(&m, METRIC_FAULT_DURATION_ERROR, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.value, MS(500), 1e-9);
	/* The latest effect against its deadline: the first revert, 3 ms. */
	metric_value(&m, METRIC_FAULT_LATENESS, &v);
	CU_ASSERT_DOUBLE_EQUAL(v.value, MS(3), 1e-9);
}

/* A log of an older bise: no effect_by, no call times, no request: durations only, no SLO value. */
static void test_older_log(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	synth_emit(MS(5000), synth_fault("apply", "pod-kill", "lucerne", 0));
	synth_emit(MS(25000), synth_fault("restart", "pod-kill", "lucerne", 0));
	synth_finish(&m);
	CU_ASSERT_EQUAL_FATAL(m.nfault_timings, 1);
	CU_ASSERT_STRING_EQUAL(m.fault_timings[0].apply_by, "");
	CU_ASSERT_EQUAL(m.fault_timings[0].apply_latency_us, -1);
	CU_ASSERT_EQUAL(m.fault_timings[0].requested_us, -1);
	CU_ASSERT(m.fault_timings[0].reverted);
	CU_ASSERT_EQUAL(m.fault_timings[0].effective_us, MS(20000));
	CU_ASSERT_FALSE(m.fault_timings[0].duration_known);
	metric_value(&m, METRIC_FAULT_DURATION_ERROR, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_PTR_NOT_NULL(v.reason);
	metric_value(&m, METRIC_FAULT_LATENESS, &v);
	CU_ASSERT_FALSE(v.observed);
}

/* More applies than METRICS_MAX_FAULTS: the first ones are kept, nothing overflows. */
static void test_many_faults(void)
{
	struct metrics m;

	synth_begin();
	for (int i = 0; i < METRICS_MAX_FAULTS + 5; i++) {
		timed("apply", i, 1, MS(1000 + 10 * i), "nft-commit", MS(1000 + 10 * i), MS(1000 + 10 * i), 5);
		timed("revert", i, 1, MS(1005 + 10 * i), "nft-commit", MS(1005 + 10 * i), MS(1005 + 10 * i), 0);
	}
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.nfault_timings, METRICS_MAX_FAULTS);
	CU_ASSERT(m.fault_timings[METRICS_MAX_FAULTS - 1].reverted);
	CU_ASSERT_EQUAL(m.max_duration_error_us, 0);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics_faults", suite_init, synth_suite_clean);

	CU_add_test(s, "a pause: effect, latencies, lateness, durations", test_one_pause);
	CU_add_test(s, "repetitions paired, a fault cut short", test_repeats_and_cut_short);
	CU_add_test(s, "a log of an older bise", test_older_log);
	CU_add_test(s, "more faults than kept", test_many_faults);
}
