/*
 * test_metrics_reads.c - reader-probe metrics (read unavailability, staleness, reads served
 * by a deposed primary) from synthetic logs with known answers, written through
 * event_log_append and loaded with events_load; and the workload's reader keys.
 */
#include "event.h"
#include "metrics.h"
#include "scenario.h"
#include "synthetic_log.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int suite_init(void)
{
	return synth_suite_init("bise-test-reads");
}

static void wr(int w, int64_t seq, int64_t t0_us, int64_t t_us, enum write_outcome out)
{
	synth_emit(t_us, synth_write(w, seq, t0_us, out, "a"));
}

/* A read sent at t0 and answered at t; node "" and rec ignored when !ok. */
static void rd(int64_t t0_us, int64_t t_us, bool ok, const char *node, enum read_target target, bool rec,
	       int64_t seq)
{
	json_object *o = synth_event("read");

	json_object_object_add(o, "r", json_object_new_int(0));
	json_object_object_add(o, "t0", event_time_new(t0_us));
	json_object_object_add(o, "out", json_object_new_string(ok ? "ok" : "fail"));
	json_object_object_add(o, "node", json_object_new_string(ok ? node : ""));
	json_object_object_add(o, "target", json_object_new_string(read_target_name(target)));
	json_object_object_add(o, "seq_seen", json_object_new_int64(ok ? seq : 0));
	if (ok)
		json_object_object_add(o, "rec", json_object_new_boolean(rec));
	synth_emit(t_us, o);
}

static void node(int64_t t_us, const char *name, enum node_role role, int tli)
{
	synth_emit(t_us, synth_node(name, role, tli));
}

static void fault(int64_t t_us)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string("apply"));
	json_object_object_add(o, "fault", json_object_new_string("pod-kill"));
	synth_emit(t_us, o);
}

static void test_no_reads(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	fault(MS(10));
	wr(0, 1, MS(0), MS(1), WRITE_OK);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.reads, 0);
	metric_value(&m, METRIC_READ_UNAVAILABILITY, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_PTR_NOT_NULL(v.reason);
	metric_value(&m, METRIC_MAX_STALENESS, &v);
	CU_ASSERT_FALSE(v.observed);
	metric_value(&m, METRIC_DEPOSED_READS, &v);
	CU_ASSERT_FALSE(v.observed);
}

/*
 * Reads every 100 ms; fault at 1050 ms; fails end at 1100..1400 and 1600..2000 ms; an
 * in-flight ok at 1500 splits the outage; the first ok after is at 2500 ms. The longest
 * gap is 1500 -> 2500 (1 s), not the first one (1000 -> 1500).
 */
static void test_window_longest_gap(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	for (int i = 1; i <= 10; i++)
		rd(MS(100 * i - 5), MS(100 * i), true, "a", READ_PRIMARY, false, 0);
	fault(MS(1050));
	for (int i = 11; i <= 20; i++) {
		if (i == 15)
			rd(MS(1495), MS(1500), true, "a", READ_PRIMARY, false, 0);
		else
			rd(MS(100 * i - 5), MS(100 * i), false, "", READ_PRIMARY, false, 0);
	}
	rd(MS(2495), MS(2500), true, "b", READ_PRIMARY, false, 0);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.reads, 21);
	CU_ASSERT_EQUAL(m.reads_ok, 12);
	CU_ASSERT_EQUAL(m.reads_fail, 9);
	CU_ASSERT_TRUE(m.read_windows[READ_PRIMARY].seen);
	CU_ASSERT_FALSE(m.read_windows[READ_REPLICA].seen);
	CU_ASSERT_TRUE(m.read_windows[READ_PRIMARY].outage_closed);
	CU_ASSERT_EQUAL(m.read_windows[READ_PRIMARY].start_us, MS(1500));
	CU_ASSERT_EQUAL(m.read_windows[READ_PRIMARY].end_us, MS(2500));
	CU_ASSERT_EQUAL(m.read_windows[READ_PRIMARY].dur_us, MS(1000));
	metric_value(&m, METRIC_READ_UNAVAILABILITY, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_FALSE(v.never);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 1e6, 0.5);
}

/* Fails before the fault are no outage; an outage still open at the end is never. */
static void test_window_edges(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	rd(MS(0), MS(10), false, "", READ_REPLICA, false, 0);
	rd(MS(90), MS(100), true, "b", READ_REPLICA, true, 0);
	fault(MS(200));
	rd(MS(290), MS(300), true, "b", READ_REPLICA, true, 0);
	synth_finish(&m);
	CU_ASSERT_FALSE(m.read_windows[READ_REPLICA].outage_seen);
	metric_value(&m, METRIC_READ_UNAVAILABILITY, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 0, 0.5);

	synth_begin();
	rd(MS(90), MS(100), true, "b", READ_ANY, true, 0);
	fault(MS(200));
	rd(MS(290), MS(300), false, "", READ_ANY, false, 0);
	synth_finish(&m);
	CU_ASSERT_TRUE(m.read_windows[READ_ANY].outage_seen);
	CU_ASSERT_FALSE(m.read_windows[READ_ANY].outage_closed);
	CU_ASSERT_EQUAL(m.read_windows[READ_ANY].start_us, MS(100));
	metric_value(&m, METRIC_READ_UNAVAILABILITY, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_TRUE(v.never);
	CU_ASSERT_PTR_NOT_NULL(v.fail_reason);
}

/*
 * Writer 0: seq 1 acked at 100 ms, seq 2 failed (no row), seq 3 acked at 300, seq 4 at 400;
 * writer 1's acks do not count. Reads (t0, saw): (250, 1) -> next ack is seq 3 at 300, after
 * t0: fresh. (350, 1) -> 50 ms stale. (450, 4) -> nothing newer: fresh. (500, 3) -> seq 4
 * acked at 400: 100 ms stale. A failed read is ignored. Ages 0, 50, 0, 100: max and
 * nearest-rank p95 100 ms, two stale reads.
 */
static void test_staleness(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	wr(0, 1, MS(90), MS(100), WRITE_OK);
	wr(1, 1, MS(95), MS(150), WRITE_OK);
	wr(0, 2, MS(190), MS(200), WRITE_FAIL);
	wr(1, 2, MS(195), MS(240), WRITE_OK);
	wr(0, 3, MS(290), MS(300), WRITE_OK);
	wr(0, 4, MS(390), MS(400), WRITE_OK_UNREPLICATED);
	rd(MS(250), MS(260), true, "b", READ_REPLICA, true, 1);
	rd(MS(350), MS(360), true, "b", READ_REPLICA, true, 1);
	rd(MS(450), MS(460), true, "c", READ_REPLICA, true, 4);
	rd(MS(470), MS(480), false, "", READ_REPLICA, false, 0);
	rd(MS(500), MS(510), true, "c", READ_REPLICA, true, 3);
	synth_finish(&m);
	CU_ASSERT_TRUE(m.staleness_checked);
	CU_ASSERT_EQUAL(m.reads_replica, 4);
	CU_ASSERT_EQUAL(m.stale_reads, 2);
	CU_ASSERT_EQUAL(m.max_staleness_us, MS(100));
	CU_ASSERT_EQUAL(m.p95_staleness_us, MS(100));
	metric_value(&m, METRIC_MAX_STALENESS, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 1e5, 0.5);
	/* No fault: read unavailability is skipped, staleness is not. */
	metric_value(&m, METRIC_READ_UNAVAILABILITY, &v);
	CU_ASSERT_FALSE(v.observed);
}

/*
 * a is primary on timeline 1; after the fault b is seen primary on timeline 2 at 3000 ms
 * and a down (timeline 0: no information). Reads answered out of recovery: by a at 500
 * (fine), by a sent at 2900 (b not yet seen: fine), by a sent at 3500 (deposed), by b at
 * 3600 (fine), by d never sampled (not judged); by c in recovery at 3700 (a replica read,
 * not a primary one). Later a is seen as a replica on timeline 2, then serves a read as
 * primary again on timeline 3 after its own promotion at 5000: fine.
 */
static void test_deposed(void)
{
	struct metrics m;
	struct metric_value v;

	synth_begin();
	node(MS(0), "a", NODE_PRIMARY, 1);
	node(MS(0), "b", NODE_REPLICA, 1);
	node(MS(0), "c", NODE_REPLICA, 1);
	rd(MS(500), MS(510), true, "a", READ_ANY, false, 0);
	fault(MS(1000));
	node(MS(2000), "a", NODE_DOWN, 0);
	rd(MS(2900), MS(3100), true, "a", READ_ANY, false, 0);
	node(MS(3000), "b", NODE_PRIMARY, 2);
	rd(MS(3500), MS(3510), true, "a", READ_ANY, false, 0);
	rd(MS(3600), MS(3610), true, "b", READ_ANY, false, 0);
	rd(MS(3650), MS(3660), true, "d", READ_ANY, false, 0);
	rd(MS(3700), MS(3710), true, "c", READ_ANY, true, 0);
	node(MS(4000), "a", NODE_REPLICA, 2);
	node(MS(5000), "a", NODE_PRIMARY, 3);
	rd(MS(5100), MS(5110), true, "a", READ_ANY, false, 0);
	synth_finish(&m);
	CU_ASSERT_TRUE(m.deposed_checked);
	CU_ASSERT_EQUAL(m.deposed_reads, 1);
	CU_ASSERT_EQUAL(m.first_deposed_us, MS(3510));
	CU_ASSERT_STRING_EQUAL(m.deposed_node, "a");
	metric_value(&m, METRIC_DEPOSED_READS, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 1, 0.01);
}

/* A primary read carrying the timeline it was answered on. */
static void rd_tli(int64_t t0_us, int64_t t_us, const char *node, int tli)
{
	json_object *o = synth_event("read");

	json_object_object_add(o, "r", json_object_new_int(1));
	json_object_object_add(o, "t0", event_time_new(t0_us));
	json_object_object_add(o, "out", json_object_new_string("ok"));
	json_object_object_add(o, "node", json_object_new_string(node));
	json_object_object_add(o, "target", json_object_new_string("any"));
	json_object_object_add(o, "seq_seen", json_object_new_int64(0));
	json_object_object_add(o, "rec", json_object_new_boolean(false));
	json_object_object_add(o, "tli", json_object_new_int(tli));
	synth_emit(t_us, o);
}

/*
 * Seen in a real run: gland primary on timeline 3, geneva sampled as a replica on timeline
 * 2 (its receiver's, lagging) is promoted onto 4 and answers reads before the watcher
 * samples it as primary. Its reads say timeline 4: not deposed. A read by lucerne that
 * says timeline 2 while gland was seen primary on 3 is deposed, whatever lucerne's samples.
 */
static void test_deposed_read_timeline(void)
{
	struct metrics m;

	synth_begin();
	node(MS(0), "gland", NODE_PRIMARY, 3);
	node(MS(0), "geneva", NODE_REPLICA, 2);
	node(MS(0), "lucerne", NODE_REPLICA, 3);
	fault(MS(1000));
	node(MS(1200), "gland", NODE_DOWN, 0);
	rd_tli(MS(2000), MS(2010), "geneva", 4);
	rd_tli(MS(2050), MS(2060), "geneva", 4);
	rd_tli(MS(2100), MS(2110), "lucerne", 2);
	node(MS(2200), "geneva", NODE_PRIMARY, 4);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.deposed_reads, 1);
	CU_ASSERT_STRING_EQUAL(m.deposed_node, "lucerne");
	CU_ASSERT_EQUAL(m.first_deposed_us, MS(2110));
}

/* A read with an unknown target or outcome makes the log invalid, like a write would. */
static void test_bad_read_event(void)
{
	struct events ev;
	json_object *o;

	synth_begin();
	o = synth_event("read");
	json_object_object_add(o, "r", json_object_new_int(0));
	json_object_object_add(o, "t0", event_time_new(0));
	json_object_object_add(o, "out", json_object_new_string("ok"));
	json_object_object_add(o, "target", json_object_new_string("standby"));
	synth_emit(MS(1), o);
	rd(MS(2), MS(3), true, "a", READ_PRIMARY, false, 7);
	CU_ASSERT_FALSE(synth_load(&ev));
}

static bool load_yaml(const char *text, struct scenario *sc, char *err, size_t errlen)
{
	FILE *f = fopen(synth_path(), "w");
	bool ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	ok = scenario_load(synth_path(), sc, err, errlen);
	return ok;
}

static void test_scenario_keys(void)
{
	struct scenario sc;
	char err[2048];

	CU_ASSERT_TRUE_FATAL(load_yaml("name: r\nsteps:\n  - wait: 1s\n", &sc, err, sizeof(err)));
	CU_ASSERT_EQUAL(sc.workload.readers, 0);
	CU_ASSERT_EQUAL(sc.workload.read_from, READ_PRIMARY);
	scenario_free(&sc);
	CU_ASSERT_TRUE_FATAL(load_yaml("name: r\nworkload: {readers: 3, read_from: replica}\nsteps:\n  - wait: 1s\n",
				       &sc, err, sizeof(err)));
	CU_ASSERT_EQUAL(sc.workload.readers, 3);
	CU_ASSERT_EQUAL(sc.workload.read_from, READ_REPLICA);
	scenario_free(&sc);
	CU_ASSERT_TRUE_FATAL(load_yaml("name: r\nworkload: {read_from: any}\nsteps:\n  - wait: 1s\n", &sc, err,
				       sizeof(err)));
	CU_ASSERT_EQUAL(sc.workload.read_from, READ_ANY);
	scenario_free(&sc);
	CU_ASSERT_FALSE(load_yaml("name: r\nworkload: {read_from: standby}\nsteps:\n  - wait: 1s\n", &sc, err,
				  sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "read_from"));
	CU_ASSERT_FALSE(load_yaml("name: r\nworkload: {readers: 65}\nsteps:\n  - wait: 1s\n", &sc, err,
				  sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "readers"));
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics_reads", suite_init, synth_suite_clean);

	CU_add_test(s, "no reads: skipped", test_no_reads);
	CU_add_test(s, "read window: longest gap", test_window_longest_gap);
	CU_add_test(s, "read window edges", test_window_edges);
	CU_add_test(s, "staleness", test_staleness);
	CU_add_test(s, "deposed-primary reads", test_deposed);
	CU_add_test(s, "deposed: the read's own timeline", test_deposed_read_timeline);
	CU_add_test(s, "bad read event", test_bad_read_event);
	CU_add_test(s, "scenario reader keys", test_scenario_keys);
}
