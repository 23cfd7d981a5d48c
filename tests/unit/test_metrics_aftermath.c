/*
 * test_metrics_aftermath.c - what explains a failure, from synthetic logs with known answers:
 * the rollback of the etcd v3 frozen primary (the thawed old primary back on its older
 * timeline, the new primary's acks lost), the second outage it causes, the healthy time,
 * the detection phase from the platform's labels, and the lost writes binned per node.
 */
#include "event.h"
#include "metrics.h"
#include "synthetic_log.h"
#include "timeseries.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static int suite_init(void)
{
	return synth_suite_init("bise-test-aftermath");
}

static int64_t seq;

/* Writer 0 every 100 ms from from_ms to to_ms (inclusive), 5 ms each, with one outcome. */
static void writes(int64_t from_ms, int64_t to_ms, enum write_outcome out, const char *node)
{
	for (int64_t t = from_ms; t <= to_ms; t += 100)
		synth_emit(MS(t), synth_write(0, ++seq, MS(t) - MS(5), out, node));
}

static void node(int64_t t_ms, const char *name, enum node_role role, int tli)
{
	synth_emit(MS(t_ms), synth_node(name, role, tli));
}

static void fault_apply(int64_t t_ms)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string("apply"));
	json_object_object_add(o, "fault", json_object_new_string("process-pause"));
	json_object_object_add(o, "node", json_object_new_string("a"));
	json_object_object_add(o, "step", json_object_new_int(0));
	synth_emit(MS(t_ms), o);
}

static void healthy(int64_t t_ms, bool ok, double seconds)
{
	json_object *o = synth_event("healthy");

	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "seconds", json_object_new_double(seconds));
	synth_emit(MS(t_ms), o);
}

/* The final primary a kept seqs [first, last] of each pair. */
static void readback_a(const int64_t *ranges, size_t n)
{
	json_object *o = synth_event("readback");

	json_object_object_add(o, "node", json_object_new_string("a"));
	json_object_object_add(o, "w", json_object_new_int(0));
	json_object_object_add(o, "ranges", synth_pairs(ranges, n));
	synth_emit(MS(70000), o);
	o = synth_event("readback_done");
	json_object_object_add(o, "node", json_object_new_string("a"));
	synth_emit(MS(70001), o);
}

/*
 * The etcd v3 frozen primary: a serves until 10 s and freezes; writes fail until b is
 * promoted (timeline 2, 19.95 s) and serves 20.0-30.0 s (101 acks, seqs 200-300); a thaws
 * on timeline 1 at 31 s (split brain with b, not yet a rollback), b goes down at 32 s (the
 * rollback), writes fail 30.1-35.9 s and a serves again from 36 s. The read-back of a lacks
 * b's 101 acks. Healthy at 45 s.
 */
static void frozen_primary_log(void)
{
	static const int64_t kept[] = { 1, 100, 360, 499 };

	seq = 0;
	synth_begin();
	node(50, "a", NODE_PRIMARY, 1);
	node(50, "b", NODE_REPLICA, 1);
	writes(100, 10000, WRITE_OK, "a");         /* seqs 1-100 */
	fault_apply(10050);
	node(10200, "a", NODE_DOWN, 0);
	writes(10100, 19900, WRITE_FAIL, "");      /* 99 fails: seqs 101-199 */
	node(19950, "b", NODE_PRIMARY, 2);
	writes(20000, 30000, WRITE_OK, "b");       /* 101 acks: seqs 200-300, all lost */
	node(31000, "a", NODE_PRIMARY, 1);
	node(32000, "b", NODE_DOWN, 0);
	writes(30100, 35900, WRITE_FAIL, "");      /* 59 fails: seqs 301-359 */
	writes(36000, 49900, WRITE_OK, "a");       /* 140 acks: seqs 360-499 */
	healthy(45000, true, 35);
	readback_a(kept, 2);
}

static void test_rollback_second_outage(void)
{
	struct metrics m;

	frozen_primary_log();
	synth_finish(&m);
	CU_ASSERT(m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(10000));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(20000));
	CU_ASSERT(m.promote_seen);
	CU_ASSERT_STRING_EQUAL(m.new_primary, "b");
	/* a primary again on timeline 1 only once b stopped being primary. */
	CU_ASSERT(m.rollback_seen);
	CU_ASSERT_EQUAL(m.t_rollback_us, MS(32000));
	CU_ASSERT_STRING_EQUAL(m.rollback_node, "a");
	CU_ASSERT_EQUAL(m.rollback_timeline, 1);
	CU_ASSERT_EQUAL(m.rollback_from_timeline, 2);
	CU_ASSERT_EQUAL(m.outages, 2);
	CU_ASSERT(m.second_outage_seen && m.second_outage_closed);
	CU_ASSERT_EQUAL(m.second_outage_start_us, MS(30000));
	CU_ASSERT_EQUAL(m.second_outage_end_us, MS(36000));
	CU_ASSERT_EQUAL(m.second_outage_dur_us, MS(6000));
	CU_ASSERT(m.healthy_seen && m.healthy_ok);
	CU_ASSERT_EQUAL(m.t_healthy_us, MS(45000));
	CU_ASSERT_EQUAL(m.lost, 101);
	CU_ASSERT_FALSE(m.detect_seen); /* no platform labels in this log */
}

/* The lost writes where and when they were acknowledged: b, one per 100 ms bin, 20.0-30.0 s. */
static void test_lost_per_node_bin(void)
{
	struct events ev;
	struct timeseries ts;
	bool *lost;
	int b = -1;
	int64_t sum = 0, n = 0;

	frozen_primary_log();
	CU_ASSERT_TRUE_FATAL(synth_load(&ev));
	lost = xcalloc(ev.nwrites, sizeof(*lost));
	metrics_lost_writes(&ev, lost);
	for (size_t i = 0; i < ev.nwrites; i++) {
		n += lost[i];
		if (lost[i])
			CU_ASSERT(ev.writes[i].seq >= 200 && ev.writes[i].seq <= 300);
	}
	CU_ASSERT_EQUAL(n, 101);
	free(lost);
	CU_ASSERT_TRUE_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	for (int k = 0; k < ts.nnodes; k++)
		if (strcmp(ts.nodes[k], "b") == 0)
			b = k;
	CU_ASSERT_FATAL(b >= 0);
	CU_ASSERT_EQUAL(ts.lost_by_node[b], 101);
	CU_ASSERT_EQUAL(ts.lost_bin_max[b], 1);
	for (int k = 0; k < ts.nnodes; k++)
		if (k != b)
			CU_ASSERT_EQUAL(ts.lost_by_node[k], 0);
	for (size_t i = 0; i < ts.nbins; i++) {
		sum += ts.bins[i].lost[b];
		/* An ack at exactly 20.0 s falls in the bin [20.0, 20.1). */
		if (ts.bins[i].lost[b])
			CU_ASSERT(ts.bins[i].t_us >= MS(20000) && ts.bins[i].t_us <= MS(30000));
	}
	CU_ASSERT_EQUAL(sum, 101);
	timeseries_free(&ts);
	events_free(&ev);
}

/*
 * A clean failover: no rollback (the new primary stays), one outage, and a lone failed
 * write among flowing ones after recovery is not a second outage. Without a read-back
 * nothing is lost and no bin holds a lost write.
 */
static void test_clean_failover(void)
{
	struct events ev;
	struct timeseries ts;
	struct metrics m;

	seq = 0;
	synth_begin();
	node(50, "a", NODE_PRIMARY, 1);
	node(50, "b", NODE_REPLICA, 1);
	writes(100, 10000, WRITE_OK, "a");
	fault_apply(10050);
	writes(10100, 19900, WRITE_FAIL, "");
	node(19950, "b", NODE_PRIMARY, 2);
	node(21000, "a", NODE_REPLICA, 2);
	writes(20000, 25000, WRITE_OK, "b");
	writes(25100, 25100, WRITE_INDETERMINATE, "b");
	writes(25200, 30000, WRITE_OK, "b");
	healthy(28000, false, 120);
	CU_ASSERT_TRUE_FATAL(synth_load(&ev));
	metrics_compute(&ev, &m);
	CU_ASSERT(m.outage_closed);
	CU_ASSERT_FALSE(m.rollback_seen);
	CU_ASSERT_EQUAL(m.outages, 1);
	CU_ASSERT_FALSE(m.second_outage_seen);
	CU_ASSERT(m.healthy_seen && !m.healthy_ok);
	CU_ASSERT_EQUAL(m.t_healthy_us, 0);
	CU_ASSERT_TRUE_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	for (int k = 0; k < ts.nnodes; k++)
		CU_ASSERT_EQUAL(ts.lost_by_node[k], 0);
	timeseries_free(&ts);
	events_free(&ev);
}

/* A second outage that never ends: writes stop again for good after the recovery. */
static void test_second_outage_open(void)
{
	struct metrics m;

	seq = 0;
	synth_begin();
	node(50, "a", NODE_PRIMARY, 1);
	writes(100, 10000, WRITE_OK, "a");
	fault_apply(10050);
	writes(10100, 12000, WRITE_FAIL, "");
	writes(12100, 20000, WRITE_OK, "a");
	writes(20100, 25000, WRITE_FAIL, "");
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.outages, 2);
	CU_ASSERT(m.second_outage_seen);
	CU_ASSERT_FALSE(m.second_outage_closed);
	CU_ASSERT_EQUAL(m.second_outage_start_us, MS(20000));
	CU_ASSERT_EQUAL(m.second_outage_dur_us, 0);
}

/* A healthy event after the last sample extends the timeline, so its mark is drawn. */
static void test_healthy_on_timeline(void)
{
	struct events ev;
	struct timeseries ts;

	seq = 0;
	synth_begin();
	writes(100, 10000, WRITE_OK, "a");
	healthy(20000, true, 3);
	CU_ASSERT_TRUE_FATAL(synth_load(&ev));
	CU_ASSERT_EQUAL(ev.healthy_us, MS(20000));
	CU_ASSERT_TRUE_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL(ts.end_us, MS(20000));
	CU_ASSERT_EQUAL(ts.nbins, 201);
	timeseries_free(&ts);
	events_free(&ev);
}

static void api_role(int64_t t_ms, const char *pod, const char *role)
{
	json_object *o = synth_event("api_role");

	json_object_object_add(o, "node", json_object_new_string(pod));
	json_object_object_add(o, "role", json_object_new_string(role));
	synth_emit(MS(t_ms), o);
}

/*
 * Detection from the platform's label: the old primary's pod loses "primary" 2 s after the
 * fault, before the promotion at 9.95 s; a label change after the promotion is not detection.
 */
static void test_detection(void)
{
	struct metrics m;

	seq = 0;
	synth_begin();
	api_role(10, "a", "primary");
	api_role(10, "b", "replica");
	node(50, "a", NODE_PRIMARY, 1);
	node(50, "b", NODE_REPLICA, 1);
	writes(100, 5000, WRITE_OK, "a");
	fault_apply(5050);
	api_role(7050, "a", "unknown");
	writes(5100, 9900, WRITE_FAIL, "");
	node(9950, "b", NODE_PRIMARY, 2);
	api_role(10500, "b", "primary");
	writes(10000, 12000, WRITE_OK, "b");
	synth_finish(&m);
	CU_ASSERT(m.detect_seen);
	CU_ASSERT_EQUAL(m.t_detect_us, MS(7050));
	CU_ASSERT_EQUAL(m.detection_dur_us, MS(2000));
	CU_ASSERT(m.promote_seen && m.t_detect_us < m.t_promote_us);

	seq = 0;
	synth_begin();
	api_role(10, "a", "primary");
	node(50, "a", NODE_PRIMARY, 1);
	node(50, "b", NODE_REPLICA, 1);
	writes(100, 5000, WRITE_OK, "a");
	fault_apply(5050);
	writes(5100, 9900, WRITE_FAIL, "");
	node(9950, "b", NODE_PRIMARY, 2);
	api_role(10500, "a", "replica");
	writes(10000, 12000, WRITE_OK, "b");
	synth_finish(&m);
	CU_ASSERT_FALSE(m.detect_seen);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics_aftermath", suite_init, synth_suite_clean);

	CU_add_test(s, "rollback and second outage (etcd v3 frozen primary)", test_rollback_second_outage);
	CU_add_test(s, "lost writes per node per bin", test_lost_per_node_bin);
	CU_add_test(s, "clean failover: no rollback, a lone failure is no outage", test_clean_failover);
	CU_add_test(s, "second outage never recovered", test_second_outage_open);
	CU_add_test(s, "detection phase from the platform's labels", test_detection);
	CU_add_test(s, "a late healthy event stays on the timeline", test_healthy_on_timeline);
}
