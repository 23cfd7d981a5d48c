/*
 * test_metrics_path.c - a dropped path probe as a bound of an outage's end, on synthetic
 * logs: it counts where the probed node was the primary all along and no fault shaped
 * packets at random around it; a promotion, another node seen primary, or a packet loss or
 * latency fault in force (or reverted less than a second before) voids it, and the end falls
 * back on the connection attempts.
 */
#include "event.h"
#include "metrics.h"
#include "synthetic_log.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>

void tests_register(void);

static int suite_init(void)
{
	return synth_suite_init("bise-test-path");
}

static int suite_clean(void)
{
	return synth_suite_clean();
}

static void wr(int w, int64_t seq, int64_t t0_us, int64_t t_us, enum write_outcome out)
{
	synth_emit(t_us, synth_write(w, seq, t0_us, out, "a"));
}

static void fault(int64_t t_us, const char *action, const char *kind, int step)
{
	synth_emit(t_us, synth_fault(action, kind, "a", step));
}

/* What else the log holds around the cut. */
enum extra { NOTHING, LOSS_IN_FORCE, OTHER_PRIMARY, PROMOTION, LATENCY_JUST_REVERTED, LATENCY_LONG_REVERTED };

/*
 * A 1.5 s client cut of primary "a" from 5.0 s: four writers acknowledged every 2.5 ms
 * before it, their writes in flight hang until the 1 s write timeout, then each writer's
 * attempts (every 40 ms, staggered by 10 ms, 500 ms deadline) hang; the last one is sent at
 * 6.492 s. The path is back at 6.5 s: writer 2's path probe sent at 6.4995 s was dropped, the
 * next answered, and its spare's write, sent at 6.5008 s, is acknowledged at 6.503 s.
 */
static void cut_log(enum extra extra)
{
	int64_t seq[4] = { 0, 0, 0, 0 };
	json_object *o;

	synth_begin();
	synth_emit(MS(900), synth_node("a", NODE_PRIMARY, 1));
	synth_emit(MS(900), synth_node("b", NODE_REPLICA, 1));
	if (extra == LOSS_IN_FORCE)
		fault(MS(4000), "apply", "packet-loss", 1);
	if (extra == LATENCY_JUST_REVERTED || extra == LATENCY_LONG_REVERTED) {
		fault(MS(1000), "apply", "latency", 1);
		fault(extra == LATENCY_JUST_REVERTED ? MS(5600) : MS(5400), "revert", "latency", 1);
	}
	for (int k = 1; k <= 2000; k++)
		wr(k % 4, ++seq[k % 4], 2500 * k - 1000, 2500 * k, WRITE_OK);
	fault(MS(5000), "apply", "network-partition", 0);
	for (int w = 0; w < 4; w++)
		wr(w, ++seq[w], MS(5001) + w * 2500, MS(6001) + w * 2500, WRITE_INDETERMINATE);
	if (extra == OTHER_PRIMARY)
		synth_emit(MS(5800), synth_node("b", NODE_PRIMARY, 1));
	if (extra == PROMOTION)
		synth_emit(MS(5800), synth_node("a", NODE_PRIMARY, 2));
	for (int w = 0; w < 4; w++)
		for (int64_t t0 = MS(6002) + MS(10) * w; t0 < MS(6500); t0 += MS(40))
			synth_emit(t0 + MS(500), synth_connect(w, t0, false, "", -1));
	fault(MS(6500), "revert", "network-partition", 0);
	wr(2, ++seq[2], 6500800, MS(6503), WRITE_OK);
	o = synth_event("path");
	json_object_object_add(o, "w", json_object_new_int(2));
	synth_time(o, "t0", 6499500);
	json_object_object_add(o, "node", json_object_new_string("a"));
	synth_emit(6503100, o);
	for (int k = 0; k < 400; k++)
		wr(k % 4, ++seq[k % 4], MS(6505) + 2500 * k, MS(6506) + 2500 * k, WRITE_OK);
	if (extra == LOSS_IN_FORCE)
		fault(MS(8000), "revert", "packet-loss", 1);
}

static void end_bound(enum extra extra, int64_t want_lo_us)
{
	struct metrics m;

	cut_log(extra);
	synth_finish(&m);
	CU_ASSERT_FATAL(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_end_us, MS(6503));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, want_lo_us);
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, MS(6503) - want_lo_us);
}

static void test_counts_for_the_primary(void)
{
	/* The dropped probe, not the last attempt (6.492 s), bounds the end: 3.5 ms wide. */
	end_bound(NOTHING, 6499500);
}

static void test_void_under_packet_loss(void)
{
	end_bound(LOSS_IN_FORCE, MS(6492));
}

static void test_void_with_another_primary(void)
{
	end_bound(OTHER_PRIMARY, MS(6492));
}

static void test_void_after_a_promotion(void)
{
	end_bound(PROMOTION, MS(6492));
}

static void test_latency_settles_for_a_second(void)
{
	/* Reverted at 5.6 s: packets it held may still overtake within a second. */
	end_bound(LATENCY_JUST_REVERTED, MS(6492));
	/* Reverted at 5.4 s, 1.0995 s before the probe: it counts. */
	end_bound(LATENCY_LONG_REVERTED, 6499500);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics: dropped path probes", suite_init, suite_clean);

	CU_add_test(s, "a dropped probe to the primary bounds the end", test_counts_for_the_primary);
	CU_add_test(s, "not under a packet loss fault", test_void_under_packet_loss);
	CU_add_test(s, "not when another node was seen primary", test_void_with_another_primary);
	CU_add_test(s, "not after a promotion", test_void_after_a_promotion);
	CU_add_test(s, "a latency fault voids it until a second after its revert", test_latency_settles_for_a_second);
}
