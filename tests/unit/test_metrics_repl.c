/*
 * test_metrics_repl.c - replication metrics from synthetic logs with known answers: lag per
 * standby and phase, time to full redundancy, split brain and RPO (seconds and bytes).
 * Each log goes through event_log_append and events_load, like a real run's.
 */
#include "event.h"
#include "judge.h"
#include "metrics.h"
#include "synthetic_log.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE UINT64_C(0x1000000)

static int suite_init(void)
{
	return synth_suite_init("bise-test-repl");
}

static json_object *lsn_json(uint64_t lsn)
{
	char buf[32];

	str_format(buf, sizeof(buf), "%" PRIX64 "/%" PRIX64, lsn >> 32, lsn & 0xffffffffu);
	return json_object_new_string(buf);
}

static void run_start(int poll_ms)
{
	json_object *o = synth_event("run_start");

	json_object_object_add(o, "poll_ms", json_object_new_int(poll_ms));
	synth_emit(0, o);
}

static void node(int64_t t_us, const char *name, enum node_role role, int tli, uint64_t lsn, uint64_t rlsn)
{
	json_object *o = synth_event("node");

	json_object_object_add(o, "node", json_object_new_string(name));
	json_object_object_add(o, "role", json_object_new_string(node_role_name(role)));
	if (role != NODE_DOWN) {
		json_object_object_add(o, "tli", json_object_new_int(tli));
		json_object_object_add(o, "lsn", lsn_json(lsn));
		if (rlsn)
			json_object_object_add(o, "rlsn", lsn_json(rlsn));
	}
	synth_emit(t_us, o);
}

/* A pg_stat_replication row; replay_lag < 0 is SQL NULL. */
static void lag(int64_t t_us, const char *standby, const char *state, uint64_t primary_lsn, uint64_t replay,
		double replay_lag)
{
	json_object *o = synth_event("lag");

	json_object_object_add(o, "primary", json_object_new_string("a"));
	json_object_object_add(o, "standby", json_object_new_string(standby));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "tli", json_object_new_int(1));
	json_object_object_add(o, "sent", lsn_json(primary_lsn));
	json_object_object_add(o, "write", lsn_json(primary_lsn));
	json_object_object_add(o, "flush", lsn_json(replay));
	json_object_object_add(o, "replay", lsn_json(replay));
	json_object_object_add(o, "primary_lsn", lsn_json(primary_lsn));
	json_object_object_add(o, "write_lag", NULL);
	json_object_object_add(o, "flush_lag", NULL);
	json_object_object_add(o, "replay_lag", replay_lag >= 0 ? json_object_new_double(replay_lag) : NULL);
	synth_emit(t_us, o);
}

static void fault(int64_t t_us, const char *action)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "fault", json_object_new_string("network-partition"));
	json_object_object_add(o, "target", json_object_new_string("c"));
	json_object_object_add(o, "node", json_object_new_string("c"));
	json_object_object_add(o, "step", json_object_new_int(0));
	synth_emit(t_us, o);
}

static void wr(int w, int64_t seq, int64_t t_us, enum write_outcome out, const char *name)
{
	synth_emit(t_us, synth_write(w, seq, t_us - MS(20), out, name));
}

static void readback(const char *name, int w, const int64_t *ranges, size_t n)
{
	json_object *o = synth_event("readback");

	json_object_object_add(o, "node", json_object_new_string(name));
	json_object_object_add(o, "w", json_object_new_int(w));
	json_object_object_add(o, "ranges", synth_pairs(ranges, n));
	synth_emit(MS(60000), o);
}

static void readback_done(const char *name)
{
	json_object *o = synth_event("readback_done");

	json_object_object_add(o, "node", json_object_new_string(name));
	synth_emit(MS(60001), o);
}

static const struct standby_lag *standby(const struct metrics *m, const char *name)
{
	for (int i = 0; i < m->nstandbys; i++)
		if (strcmp(m->standbys[i].name, name) == 0)
			return &m->standbys[i];
	CU_FAIL("standby missing");
	return &m->standbys[0];
}

/* The primary writes 1000 bytes of WAL per millisecond. */
static uint64_t pos(int64_t t_ms)
{
	return BASE + (uint64_t)t_ms * 1000;
}

/*
 * Primary a, standbys b and c, watcher rounds every 200 ms from 0.2 s to last_ms. b replays
 * 100 ms behind, always. c is caught up until the fault (3.9 s), then stuck at the position
 * of 3.8 s until 6.8 s, and caught up again from 7.0 s. The fault is reverted at 6.1 s.
 */
static void lag_log(int last_ms)
{
	run_start(200);
	node(0, "a", NODE_PRIMARY, 1, pos(0), 0);
	for (int t = 200; t <= last_ms; t += 200) {
		bool stuck = t >= 4000 && t <= 6800;
		uint64_t c_replay = stuck ? pos(3800) : pos(t);

		node(MS(t), "a", NODE_PRIMARY, 1, pos(t), 0);
		node(MS(t), "b", NODE_REPLICA, 1, pos(t - 100), pos(t - 50));
		node(MS(t), "c", NODE_REPLICA, 1, c_replay, c_replay);
		lag(MS(t), "b", "streaming", pos(t), pos(t - 100), 0.1);
		lag(MS(t), "c", t > 6000 && stuck ? "catchup" : "streaming", pos(t), c_replay,
		    stuck ? (double)(t - 3800) / 1000 : -1);
	}
	fault(MS(3900), "apply");
	fault(MS(6100), "revert");
}

static void test_lag(void)
{
	const struct standby_lag *b, *c;
	struct metrics m;

	synth_begin();
	lag_log(10000);
	synth_finish(&m);
	CU_ASSERT(m.lag_seen);
	CU_ASSERT_EQUAL_FATAL(m.nstandbys, 2);
	CU_ASSERT_EQUAL(m.t_heal_us, MS(6100));
	b = standby(&m, "b");
	c = standby(&m, "c");
	/* 19 rounds before the fault (0.2..3.8 s), 11 during (4.0..6.0 s), 20 after. */
	CU_ASSERT_EQUAL(b->phase[LAG_BEFORE].bytes.n, 19);
	CU_ASSERT_EQUAL(b->phase[LAG_DURING].bytes.n, 11);
	CU_ASSERT_EQUAL(b->phase[LAG_AFTER].bytes.n, 20);
	for (int p = 0; p < LAG_NPHASES; p++) {
		CU_ASSERT_DOUBLE_EQUAL(b->phase[p].bytes.max, 100000, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(b->phase[p].bytes.p50, 100000, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(b->phase[p].time_s.max, 0.1, 1e-9);
		/* Interpolated between primary samples 200 ms apart: exactly 100 ms behind. */
		CU_ASSERT_DOUBLE_EQUAL(b->phase[p].est_s.max, 0.1, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(b->phase[p].est_s.p95, 0.1, 1e-6);
	}
	/* c before: caught up, the lag columns are null while idle. */
	CU_ASSERT_EQUAL(c->phase[LAG_BEFORE].bytes.n, 19);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_BEFORE].bytes.max, 0, 1e-9);
	CU_ASSERT_EQUAL(c->phase[LAG_BEFORE].time_s.n, 0);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_BEFORE].est_s.max, 0, 1e-9);
	/* c during: 0.2 .. 2.2 MB behind; nearest rank of 11: p50 = 6th, p95 = 11th. */
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].bytes.max, 2200000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].bytes.p50, 1200000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].bytes.p95, 2200000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].est_s.max, 2.2, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].est_s.p50, 1.2, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_DURING].time_s.max, 2.2, 1e-9);
	/* c after: 2.4 .. 3.0 MB at 6.2 .. 6.8 s, then 16 rounds caught up. */
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_AFTER].bytes.max, 3000000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_AFTER].bytes.p50, 0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_AFTER].bytes.p95, 2800000, 1e-6);
	CU_ASSERT_EQUAL(c->phase[LAG_AFTER].time_s.n, 4);
	CU_ASSERT_DOUBLE_EQUAL(c->phase[LAG_AFTER].est_s.max, 3.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(m.max_lag_bytes, 3000000, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(m.max_lag_est_s, 3.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(m.max_lag_col_s, 3.0, 1e-9);
	/* No split brain: a single primary all along. */
	CU_ASSERT(m.split_brain_checked);
	CU_ASSERT_EQUAL(m.split_brains, 0);
	CU_ASSERT_EQUAL(m.split_brain_dur_us, 0);
}

/*
 * Heal at 6.1 s; the primary's position then is its 6.0 s sample. b replayed it by 6.2 s,
 * c streams it from 7.0 s: full redundancy 0.9 s after the heal.
 */
static void test_redundancy(void)
{
	struct metrics m;

	synth_begin();
	lag_log(10000);
	synth_finish(&m);
	CU_ASSERT(m.redundancy_checked);
	CU_ASSERT(m.redundancy_reached);
	CU_ASSERT_EQUAL(m.heal_lsn, pos(6000));
	CU_ASSERT_EQUAL(m.redundancy_dur_us, MS(900));

	/* The log ends while c is still stuck: never. */
	synth_begin();
	lag_log(6800);
	synth_finish(&m);
	CU_ASSERT(m.redundancy_checked);
	CU_ASSERT_FALSE(m.redundancy_reached);
	CU_ASSERT_STRING_EQUAL(m.redundancy_missing, "c");

	/* No fault: nothing to heal from. No lag events: nothing measured. */
	synth_begin();
	node(MS(100), "a", NODE_PRIMARY, 1, pos(100), 0);
	node(MS(100), "b", NODE_REPLICA, 1, pos(100), 0);
	synth_finish(&m);
	CU_ASSERT_FALSE(m.redundancy_checked);
	CU_ASSERT_FALSE(m.lag_seen);
	CU_ASSERT_EQUAL(m.nstandbys, 0);
}

/* a's position: 100 bytes of WAL per millisecond. */
static uint64_t apos(int64_t t_ms)
{
	return BASE + (uint64_t)t_ms * 100;
}

/*
 * a (primary, timeline 1) is cut off from the other zones at 5.0 s but still reachable by
 * the watcher and by writer 0 (a client in a's zone). b is promoted (timeline 2, first seen
 * at 8.002 s); a keeps answering "primary" until its 11.801 s sample and is a replica from
 * 12.001 s. b last replayed a's 4.8 s position and received its 4.85 s one.
 * Writer 0: seq k acked by a at k*100 ms, k = 1..119. Writer 1: seq k acked by a at
 * k*100+50 ms (k = 1..49), indeterminate for k = 50..82, acked by b for k = 83..120.
 * The final primary b holds writer 0's 1..48 and writer 1's 1..47 and 83..120.
 */
static void split_brain_log(bool a_isolated)
{
	static const int64_t r0[] = { 1, 48 }, r1[] = { 1, 47, 83, 120 };

	run_start(200);
	for (int k = 0; k <= 75; k++) {
		int t = k * 200;
		bool a_primary = a_isolated ? t < 12000 : t < 5000;

		if (a_primary)
			node(MS(t + 1), "a", NODE_PRIMARY, 1, apos(t + 1), 0);
		else
			node(MS(t + 1), "a", a_isolated ? NODE_REPLICA : NODE_DOWN, 2, apos(11801), 0);
		if (t < 8000)
			node(MS(t + 2), "b", NODE_REPLICA, 1, t < 5000 ? apos(t) : apos(4800),
			     t < 5000 ? apos(t) : apos(4850));
		else
			node(MS(t + 2), "b", NODE_PRIMARY, 2, apos(4850) + (uint64_t)(t - 8000) * 100, 0);
		node(MS(t + 3), "c", NODE_REPLICA, t < 8000 ? 1 : 2, apos(t < 5000 ? t : 4800), 0);
	}
	fault(MS(5000), "apply");
	fault(MS(20000), "revert");
	for (int k = 1; k <= 119; k++)
		if (a_isolated || k <= 49)
			wr(0, k, MS(k * 100), k <= 49 || a_isolated ? WRITE_OK : WRITE_FAIL, "a");
	for (int k = 1; k <= 120; k++)
		wr(1, k, MS(k * 100 + 50), k <= 49 || k >= 83 ? WRITE_OK : WRITE_INDETERMINATE,
		   k <= 49 ? "a" : k >= 83 ? "b" : "");
	readback("b", 0, r0, 1);
	readback("b", 1, r1, 2);
	readback_done("b");
}

static void test_split_brain(void)
{
	struct metrics m;

	synth_begin();
	split_brain_log(true);
	synth_finish(&m);
	CU_ASSERT(m.promote_seen);
	CU_ASSERT_STRING_EQUAL(m.old_primary, "a");
	CU_ASSERT_STRING_EQUAL(m.new_primary, "b");
	CU_ASSERT_EQUAL(m.t_promote_us, MS(8002));
	CU_ASSERT(m.split_brain_checked);
	CU_ASSERT_EQUAL(m.split_brains, 1);
	CU_ASSERT_STRING_EQUAL(m.split_brain_loser, "a");
	/* From b's first primary sample to a's last ack (11.9 s, after its last sample). */
	CU_ASSERT_EQUAL(m.split_brain_start_us, MS(8002));
	CU_ASSERT_EQUAL(m.split_brain_end_us, MS(11900));
	CU_ASSERT_EQUAL(m.split_brain_dur_us, MS(3898));
	/* Writer 0's acks at 8.1 .. 11.9 s: 39, all lost. */
	CU_ASSERT_EQUAL(m.split_brain_writes, 39);
	CU_ASSERT_EQUAL(m.split_brain_lost, 39);
	CU_ASSERT_EQUAL(m.split_brain_resolution_us, MS(200));
	/* Lost: writer 0's 49..119 and writer 1's 48..49. */
	CU_ASSERT_EQUAL(m.lost, 73);
	CU_ASSERT(m.balanced);
}

/* The old primary's last sample and a standby's first as primary in the same round. */
static void test_split_brain_same_round(void)
{
	struct metrics m;

	synth_begin();
	run_start(200);
	node(MS(7801), "a", NODE_PRIMARY, 1, apos(7801), 0);
	node(MS(7802), "b", NODE_REPLICA, 1, apos(7800), 0);
	node(MS(8001), "a", NODE_PRIMARY, 1, apos(8001), 0);
	node(MS(8030), "b", NODE_PRIMARY, 2, apos(8002), 0);
	node(MS(8201), "a", NODE_DOWN, 0, 0, 0);
	node(MS(8202), "b", NODE_PRIMARY, 2, apos(8202), 0);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.split_brains, 1);
	CU_ASSERT_STRING_EQUAL(m.split_brain_loser, "a");
	CU_ASSERT_EQUAL(m.split_brain_dur_us, 0);

	/* Consecutive rounds: a handover, not a split brain. */
	synth_begin();
	run_start(200);
	node(MS(7801), "a", NODE_PRIMARY, 1, apos(7801), 0);
	node(MS(8001), "a", NODE_DOWN, 0, 0, 0);
	node(MS(8002), "b", NODE_PRIMARY, 2, apos(8002), 0);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.split_brains, 0);

	/* One instance only: not checked. */
	synth_begin();
	node(MS(1), "a", NODE_PRIMARY, 1, apos(1), 0);
	synth_finish(&m);
	CU_ASSERT_FALSE(m.split_brain_checked);
}

/*
 * RPO. Isolated a: the first lost ack is writer 1's seq 48 at 4.85 s, the last surviving
 * ack before it writer 0's seq 48 at 4.8 s, the last lost ack writer 0's seq 119 at 11.9 s:
 * 7.1 s. Bytes: a's last primary sample (11.801 s) minus b's last received position before
 * its promotion (a's 4.85 s position): 6951 ms of WAL at 100 B/ms.
 * A clean failover (a dies at 5.0 s): lost are writer 0's 49 and writer 1's 48..49, the
 * RPO is 4.95 - 4.8 s, and a's last sample at 4.801 s is behind what b received: 0 bytes.
 */
static void test_rpo(void)
{
	struct metrics m;

	synth_begin();
	split_brain_log(true);
	synth_finish(&m);
	CU_ASSERT(m.rpo_time_seen);
	CU_ASSERT_EQUAL(m.rpo_dur_us, MS(7100));
	CU_ASSERT(m.rpo_bytes_seen);
	CU_ASSERT_EQUAL(m.old_primary_lsn, apos(11801));
	CU_ASSERT_EQUAL(m.switch_lsn, apos(4850));
	CU_ASSERT_EQUAL(m.rpo_bytes, 695100);

	synth_begin();
	split_brain_log(false);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.split_brains, 0);
	CU_ASSERT_EQUAL(m.split_brain_writes, 0);
	CU_ASSERT_EQUAL(m.lost, 3);
	CU_ASSERT_EQUAL(m.rpo_dur_us, MS(150));
	CU_ASSERT(m.rpo_bytes_seen);
	CU_ASSERT_EQUAL(m.old_primary_lsn, apos(4801));
	CU_ASSERT_EQUAL(m.rpo_bytes, 0);

	/* No loss: RPO 0; no promotion: no RPO bytes. */
	synth_begin();
	wr(0, 1, MS(100), WRITE_OK, "a");
	readback("a", 0, (const int64_t[]){ 1, 1 }, 1);
	readback_done("a");
	synth_finish(&m);
	CU_ASSERT(m.rpo_time_seen);
	CU_ASSERT_EQUAL(m.rpo_dur_us, 0);
	CU_ASSERT_FALSE(m.rpo_bytes_seen);
}

/* Percentiles by nearest rank, and statistics across trials of the new metrics. */
static void test_percentiles_and_trials(void)
{
	double v[] = { 5, 1, 4, 2, 3 };
	struct series_stats s;
	struct metrics per[3];
	struct trial_stats ts;

	metrics_series(v, 5, &s);
	CU_ASSERT_EQUAL(s.n, 5);
	CU_ASSERT_DOUBLE_EQUAL(s.max, 5, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.p50, 3, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.p95, 5, 0);
	CU_ASSERT_DOUBLE_EQUAL(metrics_percentile(v, 1, 95), 1, 0);
	CU_ASSERT_DOUBLE_EQUAL(metrics_percentile(v, 0, 50), 0, 0);
	metrics_series(v, 0, &s);
	CU_ASSERT_EQUAL(s.n, 0);

	memset(per, 0, sizeof(per));
	for (int i = 0; i < 3; i++) {
		per[i].split_brain_checked = true;
		per[i].split_brain_writes = 10 * (2 - i);
	}
	judge_metric_stats(per, 3, METRIC_SPLIT_BRAIN_WRITES, &ts);
	CU_ASSERT_EQUAL(ts.observed, 3);
	CU_ASSERT_DOUBLE_EQUAL(ts.min, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(ts.p50, 10, 0);
	CU_ASSERT_DOUBLE_EQUAL(ts.max, 20, 0);
	per[1].redundancy_checked = true;
	per[1].redundancy_reached = true;
	per[1].redundancy_dur_us = MS(900);
	judge_metric_stats(per, 3, METRIC_REDUNDANCY_TIME, &ts);
	CU_ASSERT_EQUAL(ts.observed, 1);
	CU_ASSERT_DOUBLE_EQUAL(ts.p95, 900000, 0);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics: replication", suite_init, synth_suite_clean);

	CU_add_test(s, "lag per standby and phase", test_lag);
	CU_add_test(s, "time to full redundancy", test_redundancy);
	CU_add_test(s, "split brain: isolated old primary", test_split_brain);
	CU_add_test(s, "split brain: same round vs handover", test_split_brain_same_round);
	CU_add_test(s, "RPO seconds and bytes", test_rpo);
	CU_add_test(s, "percentiles and trial statistics", test_percentiles_and_trials);
}
