/*
 * test_metrics.c - metrics from synthetic logs with known answers. Each log is written
 * through event_log_append and read back with events_load, so the round trip is tested too.
 */
#include "event.h"
#include "metrics.h"
#include "synthetic_log.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int suite_init(void)
{
	return synth_suite_init("bise-test-metrics");
}

static void wr(int w, int64_t seq, int64_t t0_us, int64_t t_us, enum write_outcome out, const char *node)
{
	synth_emit(t_us, synth_write(w, seq, t0_us, out, node));
}

static void node(int64_t t_us, const char *name, enum node_role role, int tli)
{
	json_object *o = synth_node(name, role, tli);

	json_object_object_add(o, "lsn", json_object_new_string("0/3000060"));
	synth_emit(t_us, o);
}

static void fault(int64_t t_us, const char *action)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "fault", json_object_new_string("pod-kill"));
	json_object_object_add(o, "target", json_object_new_string("primary"));
	json_object_object_add(o, "node", json_object_new_string("a"));
	json_object_object_add(o, "step", json_object_new_int(0));
	synth_emit(t_us, o);
}

static void readback(const char *name, int w, const int64_t *ranges, size_t nranges, const int64_t *dups,
		     size_t ndups)
{
	json_object *o = synth_event("readback");

	json_object_object_add(o, "node", json_object_new_string(name));
	json_object_object_add(o, "w", json_object_new_int(w));
	json_object_object_add(o, "ranges", synth_pairs(ranges, nranges));
	json_object_object_add(o, "dups", synth_pairs(dups, ndups));
	synth_emit(MS(60000), o);
}

static void readback_done(const char *name, int64_t rows)
{
	json_object *o = synth_event("readback_done");

	json_object_object_add(o, "node", json_object_new_string(name));
	json_object_object_add(o, "rows", json_object_new_int64(rows));
	synth_emit(MS(60001), o);
}

/*
 * The stock failover: ok writes (writers 0 and 1 alternating) end every 100 ms up to
 * exactly 10.0 s on "a"; the fault at 10.05 s; non-ok outcomes end every 100 ms from
 * 10.2 s to 19.7 s; ok writes on "b" from 19.8 s. The watcher sees b promoted at 19.0 s.
 */
static void clean_failover(void)
{
	int64_t seq[2] = { 0, 0 };
	int i;

	for (i = 1; i <= 100; i++)
		wr(i % 2, seq[i % 2]++, MS(i * 100 - 5), MS(i * 100), WRITE_OK, "a");
	for (i = 102; i <= 197; i++)
		wr(i % 2, seq[i % 2]++, MS(i * 100 - 100), MS(i * 100), i % 3 ? WRITE_INDETERMINATE : WRITE_FAIL,
		   i % 2 ? "a" : "");
	for (i = 198; i <= 250; i++)
		wr(i % 2, seq[i % 2]++, MS(i * 100 - 5), MS(i * 100), WRITE_OK, "b");
	for (i = 0; i <= 50; i++) {
		int64_t t = MS(i * 500);

		if (t <= MS(10000)) {
			node(t, "a", NODE_PRIMARY, 1);
			node(t, "b", NODE_REPLICA, 1);
		} else {
			node(t, "a", NODE_DOWN, 0);
			node(t, "b", t < MS(19000) ? NODE_REPLICA : NODE_PRIMARY, t < MS(19000) ? 1 : 2);
		}
	}
	/* A stale primary on the old timeline is not a promotion. */
	node(MS(12000), "c", NODE_PRIMARY, 1);
	fault(MS(10050), "apply");
	fault(MS(40000), "revert");
}

static void test_no_fault(void)
{
	struct metrics m;
	json_object *o;

	synth_begin();
	for (int i = 0; i < 100; i++)
		wr(0, i, MS(i * 100), MS(i * 100 + 5), WRITE_OK, "a");
	node(MS(1000), "a", NODE_PRIMARY, 1);
	o = synth_event("provision");
	json_object_object_add(o, "seconds", json_object_new_double(95.25));
	synth_emit(0, o);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.attempted, 100);
	CU_ASSERT_EQUAL(m.ok, 100);
	CU_ASSERT_EQUAL(m.fail + m.indeterminate + m.ok_unreplicated, 0);
	CU_ASSERT_FALSE(m.fault_seen);
	CU_ASSERT_FALSE(m.outage_seen);
	CU_ASSERT_FALSE(m.promote_seen);
	CU_ASSERT_FALSE(m.routing_seen);
	CU_ASSERT_FALSE(m.readback_seen);
	CU_ASSERT_FALSE(m.healthy_seen);
	CU_ASSERT_EQUAL(m.write_spacing_us, 100000);
	/* No outage, no uncertainty claimed. */
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, 0);
	CU_ASSERT_DOUBLE_EQUAL(m.provision_seconds, 95.25, 1e-9);

	/* Empty log: nothing observed, nothing crashes. */
	synth_begin();
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.attempted, 0);
	CU_ASSERT_EQUAL(m.write_spacing_us, 0);
	CU_ASSERT(m.provision_seconds < 0);
}

static void test_clean_failover(void)
{
	struct metrics m;
	json_object *o;

	synth_begin();
	clean_failover();
	o = synth_event("healthy");
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	json_object_object_add(o, "seconds", json_object_new_double(31.5));
	synth_emit(MS(50000), o);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.attempted, 100 + 96 + 53);
	CU_ASSERT_EQUAL(m.ok, 153);
	CU_ASSERT_EQUAL(m.fail, 32);
	CU_ASSERT_EQUAL(m.indeterminate, 64);
	CU_ASSERT(m.fault_seen);
	CU_ASSERT_EQUAL(m.t_fault_us, MS(10050));
	CU_ASSERT(m.outage_seen);
	CU_ASSERT(m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(10000));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(19800));
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(9800));
	CU_ASSERT(m.promote_seen);
	CU_ASSERT_STRING_EQUAL(m.old_primary, "a");
	CU_ASSERT_EQUAL(m.old_timeline, 1);
	CU_ASSERT_STRING_EQUAL(m.new_primary, "b");
	CU_ASSERT_EQUAL(m.new_timeline, 2);
	CU_ASSERT_EQUAL(m.t_promote_us, MS(19000));
	CU_ASSERT_EQUAL(m.promotion_dur_us, MS(8950));
	CU_ASSERT(m.routing_seen);
	CU_ASSERT_EQUAL(m.t_ok_new_us, MS(19800));
	CU_ASSERT_EQUAL(m.routing_dur_us, MS(800));
	/* Starts 0.095 s .. 9.995 s, 100 of them. */
	CU_ASSERT_EQUAL(m.write_spacing_us, MS(100));
	/*
	 * The last ack was sent at 9.995 s, the first failure was sent at 10.1 s, after that ack
	 * completed (10.0 s): the loss lies between. The last failure before the first ack was
	 * sent at 19.6 s, the first ack completed at 19.8 s: the return lies between.
	 */
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(9995));
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(10100));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(19600));
	CU_ASSERT_EQUAL(m.outage_end_hi_us, MS(19800));
	CU_ASSERT_EQUAL(m.failover_start_uncertainty_us, MS(105));
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, MS(200));
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, MS(305));
	CU_ASSERT(m.healthy_seen && m.healthy_ok);
	CU_ASSERT_DOUBLE_EQUAL(m.healthy_seconds, 31.5, 1e-9);
}

/*
 * A write in flight on the old primary is acknowledged at 10.25 s, just after the first
 * failure (10.2 s): the first gap (10.0 -> 10.25) is not the outage, the longest one is.
 */
static void test_inflight_ok_longest_gap(void)
{
	struct metrics m;

	synth_begin();
	clean_failover();
	wr(2, 0, MS(9990), MS(10250), WRITE_OK, "a");
	synth_finish(&m);
	CU_ASSERT(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(10250));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(19800));
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(9550));
	/*
	 * The latest SEND of an ack bounds the loss from below (9.995 s, not the late ack's
	 * 9.99 s); the first failure inside the longest gap completed at 10.3 s.
	 */
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(9995));
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(10300));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(19600));
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, MS(305 + 200));
	/* The late ack on "a" is not routing to the new primary. */
	CU_ASSERT_EQUAL(m.t_ok_new_us, MS(19800));
}

/*
 * A write sent after the last ack completed but before the fault took effect (a pause at
 * 5.003 s) hangs and fails at its write timeout: the service was up when it was sent, so
 * its send does not bound the loss; the fault's effect does.
 */
static void test_sent_before_fault_effect(void)
{
	struct metrics m;

	synth_begin();
	for (int k = 1; k <= 500; k++)
		wr(0, k, MS(10 * k - 2), MS(10 * k), WRITE_OK, "a");
	wr(0, 501, MS(5001), MS(6001), WRITE_INDETERMINATE, "a");
	fault(MS(5003), "apply");
	wr(0, 502, MS(6010), MS(6510), WRITE_FAIL, "");
	wr(0, 503, MS(8000), MS(8004), WRITE_OK, "a");
	fault(MS(7990), "revert");
	synth_finish(&m);
	CU_ASSERT(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(5000));
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(4998));
	/* Not 5.001 s (the send, before the fault) nor 6.001 s (the timeout): the effect. */
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(5003));
	CU_ASSERT_EQUAL(m.failover_start_uncertainty_us, MS(5));
}

static void test_never_recovered(void)
{
	struct metrics m;

	synth_begin();
	for (int i = 1; i <= 100; i++)
		wr(0, i, MS(i * 100 - 5), MS(i * 100), WRITE_OK, "a");
	for (int i = 101; i <= 300; i++)
		wr(0, i, MS(i * 100 - 100), MS(i * 100), WRITE_INDETERMINATE, "a");
	node(MS(9000), "a", NODE_PRIMARY, 4);
	node(MS(11000), "a", NODE_DOWN, 0);
	node(MS(12000), "b", NODE_REPLICA, 4);
	fault(MS(10050), "apply");
	synth_finish(&m);
	CU_ASSERT(m.outage_seen);
	CU_ASSERT_FALSE(m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(10000));
	CU_ASSERT_EQUAL(m.wuw_dur_us, 0);
	/* No end, no duration: no uncertainty claimed either. */
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, 0);
	CU_ASSERT_EQUAL(m.failover_start_uncertainty_us, 0);
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, 0);
	CU_ASSERT_STRING_EQUAL(m.old_primary, "a");
	CU_ASSERT_EQUAL(m.old_timeline, 4);
	CU_ASSERT_FALSE(m.promote_seen);
	CU_ASSERT_FALSE(m.routing_seen);

	/* A short closed outage followed by one that never closes: still not recovered. */
	synth_begin();
	wr(0, 1, MS(900), MS(1000), WRITE_OK, "a");
	wr(0, 2, MS(1900), MS(2000), WRITE_FAIL, "a");
	wr(0, 3, MS(2900), MS(3000), WRITE_OK, "a");
	wr(0, 4, MS(3900), MS(4000), WRITE_FAIL, "a");
	fault(MS(1500), "apply");
	synth_finish(&m);
	CU_ASSERT(m.outage_seen);
	CU_ASSERT_FALSE(m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(3000));
	CU_ASSERT_EQUAL(m.outage_start_lo_us, 0);
	CU_ASSERT_EQUAL(m.outage_end_hi_us, 0);
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, 0);
}

static void test_outage_edges(void)
{
	struct metrics m;

	/* The fault at the very start: no ok before, the window opens at the first start. */
	synth_begin();
	fault(0, "apply");
	for (int i = 1; i <= 20; i++)
		wr(i % 3, i, MS(i * 100 - 50), MS(i * 100), WRITE_FAIL, "");
	wr(0, 21, MS(2900), MS(3000), WRITE_OK_UNREPLICATED, "b");
	synth_finish(&m);
	CU_ASSERT(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(50));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(3000));
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(2950));
	CU_ASSERT_EQUAL(m.ok_unreplicated, 1);
	CU_ASSERT_EQUAL(m.write_spacing_us, 0);
	/* The log starts in the outage: its first send to the first failure's completion. */
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(50));
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(100));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(1950));
	CU_ASSERT_EQUAL(m.outage_end_hi_us, MS(3000));
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, MS(50 + 1050));

	/* Failures only before the fault, and a skipped fault does not count as one. */
	synth_begin();
	fault(MS(100), "skip");
	for (int i = 1; i <= 50; i++)
		wr(0, i, MS(i * 100 - 5), MS(i * 100), i == 20 ? WRITE_FAIL : WRITE_OK, "a");
	fault(MS(3000), "apply");
	fault(MS(2500), "apply"); /* logged late by another thread: the earliest wins */
	synth_finish(&m);
	CU_ASSERT(m.fault_seen);
	CU_ASSERT_EQUAL(m.t_fault_us, MS(2500));
	CU_ASSERT_FALSE(m.outage_seen);
	CU_ASSERT_FALSE(m.outage_closed);
	CU_ASSERT_EQUAL(m.wuw_dur_us, 0);
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, 0);
	/* Starts 0.095 .. 2.495 s before the fault: 25 of them. */
	CU_ASSERT_EQUAL(m.write_spacing_us, MS(100));
}

/*
 * Two writers with a 500 ms connect deadline. Acks alternate every 10 ms up to 5.0 s (the
 * last one sent at 4.999 s); writer 1 sent a write at 4.996 s that broke at 5.004 s, after
 * the loss. Then each writer retries connections that time out after 500 ms (an older
 * log: one failed write per attempt). The service comes back after writer 0's attempt
 * sent at 8.036 s: it fails only at 8.536 s, after the first ack (8.237 s), but it was
 * sent while nothing was acknowledged and nothing sent after that ack failed before it
 * ended: it bounds the return. If an attempt sent after the ack fails first (the service
 * may have dropped again), it says nothing, and the bound falls back to writer 1's attempt
 * sent at 7.725 s that failed before the ack.
 */
static void connect_deadline_log(bool flap, struct metrics *m)
{
	int64_t seq[2] = { 0, 0 };
	int j;

	synth_begin();
	for (int k = 1; k <= 500; k++)
		wr(k % 2, ++seq[k % 2], MS(10 * k - 1), MS(10 * k), WRITE_OK, "a");
	fault(MS(5002), "apply");
	wr(1, ++seq[1], MS(4996), MS(5004), WRITE_INDETERMINATE, "a");
	for (j = 0; j <= 6; j++)
		wr(0, ++seq[0], MS(5006 + 505 * j), MS(5006 + 505 * j + 500), WRITE_FAIL, "");
	for (j = 0; j <= 5; j++)
		wr(1, ++seq[1], MS(5200 + 505 * j), MS(5200 + 505 * j + 500), WRITE_FAIL, "");
	wr(1, ++seq[1], MS(8235), MS(8237), WRITE_OK, "b");
	if (flap)
		wr(1, ++seq[1], MS(8240), MS(8300), WRITE_FAIL, "b");
	wr(0, ++seq[0], MS(8540), MS(8542), WRITE_OK, "b");
	synth_finish(m);
}

static void test_connect_deadline_edges(void)
{
	struct metrics m;

	connect_deadline_log(false, &m);
	CU_ASSERT(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(5000));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(8237));
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(3237));
	/* The write in flight at the loss bounds it by its completion, not by its send. */
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(4999));
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(5004));
	CU_ASSERT_EQUAL(m.failover_start_uncertainty_us, MS(5));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(8036));
	CU_ASSERT_EQUAL(m.outage_end_hi_us, MS(8237));
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, MS(201));
	CU_ASSERT_EQUAL(m.failover_uncertainty_us, MS(206));
	/* 501 sends before the fault, 0.009 s .. 4.999 s. */
	CU_ASSERT_EQUAL(m.write_spacing_us, MS(4990) / 500);
	/* No connect events: the server's answer is not in this log. */
	CU_ASSERT_FALSE(m.accept_seen);

	connect_deadline_log(true, &m);
	CU_ASSERT_EQUAL(m.outage_end_us, MS(8237));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(7725));
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, MS(512));
}

static void conn(int w, int64_t t0_us, int64_t t_us, bool ok, const char *name, int64_t acc_us)
{
	synth_emit(t_us, synth_connect(w, t0_us, ok, name, acc_us));
}

/*
 * A 1.5 s client cut from 5.0 s, four writers (acks every 2.5 ms before it) probing on a
 * staggered 10 ms cadence (writer w on 6.002 + 0.010 w + 0.040 k s) with a 500 ms
 * deadline: writes in flight hang until the 1 s write timeout, then attempts hang; service
 * returns at 6.5 s. Writer 2's attempt sent at 6.502 s is answered at 6.504 s and its write
 * acknowledged at 6.507 s. Each writer's older attempts end at their deadline or, held up,
 * when a later one of theirs connects: mostly after that first ack. The return is known to
 * the cadence: after 6.492 s (writer 1's last attempt before it).
 */
static void cut_log(bool with_pre_accept)
{
	static const int64_t win[4] = { MS(6525), MS(6535), MS(6505), MS(6514) };
	int64_t seq[4] = { 0, 0, 0, 0 };

	synth_begin();
	if (with_pre_accept)
		conn(0, MS(1), MS(4), true, "a", MS(3));
	for (int k = 1; k <= 2000; k++)
		wr(k % 4, ++seq[k % 4], 2500 * k - 1000, 2500 * k, WRITE_OK, "a");
	fault(MS(5000), "apply");
	for (int w = 0; w < 4; w++)
		wr(w, ++seq[w], MS(5001) + w * 2500, MS(6001) + w * 2500, WRITE_INDETERMINATE, "a");
	for (int w = 0; w < 4; w++)
		for (int64_t t0 = MS(6002) + MS(10) * w; t0 < MS(6500); t0 += MS(40))
			conn(w, t0, t0 + MS(500) < win[w] ? t0 + MS(500) : win[w], false, "", -1);
	conn(2, MS(6502), MS(6505), true, "a", MS(6504));
	wr(2, ++seq[2], MS(6505), MS(6507), WRITE_OK, "a");
	conn(3, MS(6512), MS(6514), true, "a", MS(6513));
	wr(3, ++seq[3], MS(6514), MS(6516), WRITE_OK, "a");
	conn(0, MS(6522), MS(6525), true, "a", MS(6524));
	conn(1, MS(6532), MS(6535), true, "a", MS(6534));
	for (int k = 0; k < 400; k++)
		wr(k % 4, ++seq[k % 4], MS(6540) + 2500 * k, MS(6541) + 2500 * k, WRITE_OK, "a");
	/* A failed attempt logged after every write, sent before the return: no new outage. */
	conn(0, MS(6490), MS(7600), false, "", -1);
}

static void test_probe_cut_edges(void)
{
	struct metrics m;

	cut_log(true);
	synth_finish(&m);
	CU_ASSERT(m.outage_seen && m.outage_closed);
	CU_ASSERT_EQUAL(m.outage_start_us, MS(5000));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(6507));
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(1507));
	CU_ASSERT_EQUAL(m.outage_end_lo_us, MS(6492));
	CU_ASSERT_EQUAL(m.failover_end_uncertainty_us, MS(15));
	/*
	 * The start: the last ack was sent at 4.999 s; the first write sent after it completed
	 * went out at 5.001 s and hung: sent into the cut, it bounds the loss by its send, not by
	 * its 1 s timeout.
	 */
	CU_ASSERT_EQUAL(m.outage_start_lo_us, MS(4999));
	CU_ASSERT_EQUAL(m.outage_start_hi_us, MS(5001));
	CU_ASSERT_EQUAL(m.failover_start_uncertainty_us, MS(2));
	/* The server answered writer 2's attempt 3 ms before its write was acknowledged. */
	CU_ASSERT(m.accept_seen);
	CU_ASSERT_EQUAL(m.t_accept_us, MS(6504));
	CU_ASSERT_EQUAL(m.accept_dur_us, MS(1504));
	CU_ASSERT_EQUAL(m.accept_wait_us, MS(2));
}

/*
 * A 1.5 s freeze from 5.0 s: the attempt writer 0 sent at 6.2 s waits in the server's
 * backlog; the server thaws at 6.5 s, works through abandoned connections, and answers
 * it at 6.81 s; its first write is acknowledged at 6.812 s. Its accept is the server's
 * recovery; a connection accepted long before the fault is not.
 */
static void test_freeze_accept(void)
{
	struct metrics m;
	struct metric_value v;
	int64_t seq[2] = { 0, 0 };

	synth_begin();
	conn(0, MS(1), MS(4), true, "a", MS(3));
	conn(1, MS(2), MS(5), true, "a", MS(4));
	for (int k = 1; k <= 500; k++)
		wr(k % 2, ++seq[k % 2], MS(10 * k - 1), MS(10 * k), WRITE_OK, "a");
	fault(MS(5000), "apply");
	wr(0, ++seq[0], MS(5005), MS(6005), WRITE_INDETERMINATE, "a");
	wr(1, ++seq[1], MS(5010), MS(6010), WRITE_INDETERMINATE, "a");
	conn(1, MS(6020), MS(6520), false, "", -1);
	conn(0, MS(6200), MS(6811), true, "a", MS(6810));
	wr(0, ++seq[0], MS(6811), MS(6812), WRITE_OK, "a");
	conn(1, MS(6220), MS(6815), true, "a", MS(6814));
	wr(1, ++seq[1], MS(6815), MS(6816), WRITE_OK, "a");
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.wuw_dur_us, MS(1812));
	CU_ASSERT(m.accept_seen);
	CU_ASSERT_EQUAL(m.t_accept_us, MS(6810));
	CU_ASSERT_EQUAL(m.accept_dur_us, MS(1810));
	CU_ASSERT_EQUAL(m.accept_wait_us, MS(610));
	metric_value(&m, METRIC_SERVER_ACCEPT_TIME, &v);
	CU_ASSERT(v.observed);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 1810000.0, 0.5);
	/* Nothing reconnected during the outage: no server recovery to show. */
	metric_value(&(struct metrics){ .fault_seen = true, .outage_seen = true, .outage_closed = true },
		     METRIC_SERVER_ACCEPT_TIME, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_PTR_NOT_NULL(v.reason);
}

/* A killed postmaster restarts on the same node, promoted onto a new timeline. */
static void test_promotion_same_node(void)
{
	struct metrics m;

	synth_begin();
	node(MS(4000), "a", NODE_PRIMARY, 7);
	node(MS(4000), "b", NODE_REPLICA, 7);
	fault(MS(5000), "apply");
	node(MS(5500), "a", NODE_DOWN, 0);
	node(MS(6000), "a", NODE_PRIMARY, 7); /* the watcher's last look before the crash */
	node(MS(7000), "a", NODE_PRIMARY, 8);
	node(MS(7500), "b", NODE_PRIMARY, 8);
	wr(0, 1, MS(4900), MS(4950), WRITE_OK, "a");
	wr(0, 2, MS(5100), MS(6000), WRITE_INDETERMINATE, "a");
	wr(0, 3, MS(6800), MS(6900), WRITE_OK, "b");
	wr(0, 4, MS(7200), MS(7300), WRITE_OK, "a");
	synth_finish(&m);
	CU_ASSERT(m.promote_seen);
	CU_ASSERT_STRING_EQUAL(m.old_primary, "a");
	CU_ASSERT_STRING_EQUAL(m.new_primary, "a");
	CU_ASSERT_EQUAL(m.old_timeline, 7);
	CU_ASSERT_EQUAL(m.new_timeline, 8);
	CU_ASSERT_EQUAL(m.promotion_dur_us, MS(2000));
	CU_ASSERT(m.routing_seen);
	CU_ASSERT_EQUAL(m.t_ok_new_us, MS(7300));
	CU_ASSERT_EQUAL(m.routing_dur_us, MS(300));
	CU_ASSERT_EQUAL(m.outage_start_us, MS(4950));
	CU_ASSERT_EQUAL(m.outage_end_us, MS(6900));

	/* No watcher sample before the fault: no baseline, no promotion claimed. */
	synth_begin();
	fault(MS(1000), "apply");
	node(MS(2000), "b", NODE_PRIMARY, 2);
	synth_finish(&m);
	CU_ASSERT_FALSE(m.promote_seen);
	CU_ASSERT_STRING_EQUAL(m.old_primary, "");
}

/*
 * Writer 0: seq 1..10 ok, 7 missing (lost), 3 read back twice (duplicate), 50 found but
 * never written (phantom). Writer 1: 1 ok, 2 indeterminate found (recovered),
 * 3 indeterminate missing (logged first as ok: the last record wins), 4 fail yet found,
 * 5 ok_unreplicated found. Writer 2 never wrote but has rows 1..2 (phantoms).
 * A replica's read-back is ignored: only the final primary's counts.
 */
static void test_data_loss(void)
{
	static const int64_t r0[] = { 1, 6, 8, 10, 50, 50 }, d0[] = { 3, 2 };
	static const int64_t r1[] = { 1, 2, 4, 5 }, r2[] = { 1, 2 }, rc[] = { 1, 100 };
	struct metrics m;

	synth_begin();
	for (int i = 1; i <= 10; i++)
		wr(0, i, MS(i * 10), MS(i * 10 + 5), WRITE_OK, "b");
	wr(1, 1, MS(200), MS(205), WRITE_OK, "b");
	wr(1, 2, MS(210), MS(215), WRITE_INDETERMINATE, "b");
	wr(1, 3, MS(220), MS(225), WRITE_OK, "b");
	wr(1, 3, MS(220), MS(226), WRITE_INDETERMINATE, "b");
	wr(1, 4, MS(230), MS(235), WRITE_FAIL, "b");
	wr(1, 5, MS(240), MS(245), WRITE_OK_UNREPLICATED, "b");
	readback("c", 0, rc, 1, NULL, 0);
	readback("b", 0, r0, 3, d0, 1);
	readback("b", 1, r1, 2, NULL, 0);
	readback("b", 2, r2, 1, NULL, 0);
	readback_done("b", 17);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.attempted, 16);
	CU_ASSERT_EQUAL(m.ok, 12);
	CU_ASSERT_EQUAL(m.indeterminate, 2);
	CU_ASSERT_EQUAL(m.fail, 1);
	CU_ASSERT_EQUAL(m.ok_unreplicated, 1);
	CU_ASSERT(m.readback_seen);
	CU_ASSERT_EQUAL(m.found, 17);
	CU_ASSERT_EQUAL(m.lost, 1);
	CU_ASSERT_EQUAL(m.recovered, 1);
	CU_ASSERT_EQUAL(m.indeterminate_missing, 1);
	CU_ASSERT_EQUAL(m.failed_found, 1);
	CU_ASSERT_EQUAL(m.duplicates, 1);
	CU_ASSERT_EQUAL(m.phantom, 4);
	CU_ASSERT(m.balanced);
}

static void test_readback_edges(void)
{
	static const int64_t all[] = { 1, 5 }, overlap[] = { 1, 3, 3, 5 }, d[] = { 2, 3 };
	struct metrics m;

	/* An empty read-back still counts as one: everything acknowledged is lost. */
	synth_begin();
	for (int i = 1; i <= 5; i++)
		wr(0, i, MS(i), MS(i + 1), WRITE_OK, "a");
	readback_done("a", 0);
	synth_finish(&m);
	CU_ASSERT(m.readback_seen);
	CU_ASSERT_EQUAL(m.found, 0);
	CU_ASSERT_EQUAL(m.lost, 5);
	CU_ASSERT(m.balanced);

	/* Everything found, one row three times: two duplicates, both phantoms. */
	synth_begin();
	for (int i = 1; i <= 5; i++)
		wr(0, i, MS(i), MS(i + 1), WRITE_OK, "a");
	readback("a", 0, all, 1, d, 1);
	readback_done("a", 7);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.found, 7);
	CU_ASSERT_EQUAL(m.lost, 0);
	CU_ASSERT_EQUAL(m.duplicates, 2);
	CU_ASSERT_EQUAL(m.phantom, 2);
	CU_ASSERT(m.balanced);

	/* Overlapping ranges report row 3 twice without a dup: the books do not balance. */
	synth_begin();
	for (int i = 1; i <= 5; i++)
		wr(0, i, MS(i), MS(i + 1), WRITE_OK, "a");
	readback("a", 0, overlap, 2, NULL, 0);
	readback_done("a", 6);
	synth_finish(&m);
	CU_ASSERT_EQUAL(m.found, 6);
	CU_ASSERT_EQUAL(m.lost, 0);
	CU_ASSERT_EQUAL(m.phantom, 0);
	CU_ASSERT_FALSE(m.balanced);
}

/* A million-write run stays fast (sorting, no quadratic walk); built in memory. */
static void test_scale(void)
{
	const size_t n = 1000000, writers = 8;
	struct readback_event rb[8];
	struct seq_range ranges[8][2];
	struct events ev;
	struct metrics m;

	memset(&ev, 0, sizeof(ev));
	ev.writes = xcalloc(n, sizeof(*ev.writes));
	ev.nwrites = n;
	for (size_t i = 0; i < n; i++) {
		/* Interleaved writers, listed in reverse so the sorts have work to do. */
		struct write_event *w = &ev.writes[n - 1 - i];

		w->writer = (int)(i % writers);
		w->seq = (int64_t)(i / writers);
		w->start_us = (int64_t)i * 100;
		w->end_us = w->start_us + 50;
		w->outcome = WRITE_OK;
		str_copy(w->node, sizeof(w->node), "a");
	}
	for (size_t k = 0; k < writers; k++) {
		/* Seq 1000 of every writer is missing. */
		ranges[k][0] = (struct seq_range){ 0, 999 };
		ranges[k][1] = (struct seq_range){ 1001, (int64_t)(n / writers) - 1 };
		rb[k] = (struct readback_event){ .writer = (int)k, .nranges = 2, .ranges = ranges[k] };
		str_copy(rb[k].node, sizeof(rb[k].node), "a");
	}
	ev.readbacks = rb;
	ev.nreadbacks = writers;
	ev.readback_done = true;
	metrics_compute(&ev, &m);
	CU_ASSERT_EQUAL(m.attempted, (int64_t)n);
	CU_ASSERT_EQUAL(m.lost, (int64_t)writers);
	CU_ASSERT_EQUAL(m.found, (int64_t)(n - writers));
	CU_ASSERT_EQUAL(m.phantom, 0);
	CU_ASSERT(m.balanced);
	CU_ASSERT_EQUAL(m.write_spacing_us, 100);
	free(ev.writes);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics", suite_init, synth_suite_clean);

	CU_add_test(s, "no fault", test_no_fault);
	CU_add_test(s, "clean pod-kill failover", test_clean_failover);
	CU_add_test(s, "in-flight ok: longest gap", test_inflight_ok_longest_gap);
	CU_add_test(s, "sent before the fault took effect", test_sent_before_fault_effect);
	CU_add_test(s, "never recovered", test_never_recovered);
	CU_add_test(s, "outage edges", test_outage_edges);
	CU_add_test(s, "edges under a connect deadline", test_connect_deadline_edges);
	CU_add_test(s, "probed client cut: edges to the cadence", test_probe_cut_edges);
	CU_add_test(s, "freeze: server accept apart from the first ack", test_freeze_accept);
	CU_add_test(s, "promotion on the same node", test_promotion_same_node);
	CU_add_test(s, "data loss classification", test_data_loss);
	CU_add_test(s, "read-back edges and balance", test_readback_edges);
	CU_add_test(s, "a million writes", test_scale);
}
