/*
 * test_timeseries.c - 100 ms bins from hand-built event logs with known answers, and from
 * the real log of the run-pod-kill fixture.
 */
#include "event.h"
#include "timeseries.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#define MS(x) ((int64_t)(x) * 1000)

static struct write_event writes[64];
static struct node_event nodes[16];
static struct fault_event faults[8];
static struct lag_event lags[8];
static struct connect_event connects[8];
static struct events ev;

static void reset(void)
{
	memset(&ev, 0, sizeof(ev));
	ev.writes = writes;
	ev.nodes = nodes;
	ev.faults = faults;
	ev.lags = lags;
	ev.connects = connects;
}

static void wr(int64_t t0_ms, int64_t t_ms, enum write_outcome out)
{
	struct write_event *w = &writes[ev.nwrites++];

	memset(w, 0, sizeof(*w));
	w->start_us = MS(t0_ms);
	w->end_us = MS(t_ms);
	w->outcome = out;
	w->seq = (int64_t)ev.nwrites;
	str_copy(w->node, sizeof(w->node), "lucerne");
}

static void node(int64_t t_ms, const char *name, enum node_role role, int tli)
{
	struct node_event *n = &nodes[ev.nnodes++];

	memset(n, 0, sizeof(*n));
	n->t_us = MS(t_ms);
	str_copy(n->node, sizeof(n->node), name);
	n->role = role;
	n->timeline = tli;
}

static void fault(int64_t t_ms, const char *action, const char *name, int step)
{
	struct fault_event *f = &faults[ev.nfaults++];

	memset(f, 0, sizeof(*f));
	f->t_us = MS(t_ms);
	str_copy(f->action, sizeof(f->action), action);
	str_copy(f->fault, sizeof(f->fault), "pod-kill");
	str_copy(f->node, sizeof(f->node), name);
	f->step = step;
}

static void lag(int64_t t_ms, const char *standby, uint64_t primary_lsn, uint64_t replay)
{
	struct lag_event *l = &lags[ev.nlags++];

	memset(l, 0, sizeof(*l));
	l->t_us = MS(t_ms);
	str_copy(l->primary, sizeof(l->primary), "lucerne");
	str_copy(l->standby, sizeof(l->standby), standby);
	l->primary_lsn = primary_lsn;
	l->replay = replay;
	l->sent = l->write = l->flush = replay;
}

static void conn(int64_t t0_ms, int64_t t_ms, bool ok)
{
	struct connect_event *c = &connects[ev.nconnects++];

	memset(c, 0, sizeof(*c));
	c->start_us = MS(t0_ms);
	c->end_us = MS(t_ms);
	c->acc_us = ok ? MS(t_ms) : -1;
	c->ok = ok;
}

/* Writers without a connection send no write: their failed attempts are binned apart. */
static void test_connect_failures(void)
{
	struct timeseries ts;

	reset();
	wr(0, 10, WRITE_OK);
	conn(100, 150, false);
	conn(110, 160, false);
	conn(120, 250, false);
	conn(200, 210, true); /* connected: not a failure */
	wr(280, 290, WRITE_OK);
	CU_ASSERT_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL(ts.nbins, 3);
	CU_ASSERT_EQUAL(ts.bins[0].connect_fail, 0);
	CU_ASSERT_EQUAL(ts.bins[1].connect_fail, 2);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[1].connect_fail_per_s, 20, 1e-9);
	CU_ASSERT_EQUAL(ts.bins[2].connect_fail, 1);
	/* Not writes: the write counts are untouched. */
	CU_ASSERT_EQUAL(ts.bins[1].fail + ts.bins[2].fail, 0);
	timeseries_free(&ts);
}

static void test_counts_and_latency(void)
{
	struct timeseries ts;

	reset();
	/* Bin 0: three ok (latencies 10, 20, 30 ms), bin 1: one fail and one indeterminate. */
	wr(0, 10, WRITE_OK);
	wr(40, 60, WRITE_OK);
	wr(60, 90, WRITE_OK_UNREPLICATED);
	wr(100, 150, WRITE_FAIL);
	wr(120, 199, WRITE_INDETERMINATE);
	/* The last write ends exactly on a bin edge: it belongs to the bin starting there. */
	wr(250, 300, WRITE_OK);
	CU_ASSERT_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL(ts.nbins, 4);
	CU_ASSERT_EQUAL(ts.end_us, MS(300));
	CU_ASSERT_EQUAL(ts.bins[0].ok, 3);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[0].ok_per_s, 30, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[0].latency_p50_ms, 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[0].latency_p95_ms, 30, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[0].latency_max_ms, 30, 1e-9);
	CU_ASSERT_EQUAL(ts.bins[1].ok, 0);
	CU_ASSERT_EQUAL(ts.bins[1].fail, 1);
	CU_ASSERT_EQUAL(ts.bins[1].indeterminate, 1);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[1].fail_per_s, 10, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[1].latency_max_ms, 0, 1e-9);
	CU_ASSERT_EQUAL(ts.bins[2].ok + ts.bins[2].fail + ts.bins[2].indeterminate, 0);
	CU_ASSERT_EQUAL(ts.bins[3].ok, 1);
	CU_ASSERT_EQUAL(ts.bins[3].t_us, MS(300));
	/* No watcher, no faults, no lag: nothing invented. */
	CU_ASSERT_EQUAL(ts.nnodes, 0);
	CU_ASSERT_EQUAL(ts.nstandbys, 0);
	CU_ASSERT_EQUAL(ts.nfaults, 0);
	CU_ASSERT_EQUAL(ts.nchanges, 0);
	for (size_t i = 0; i < ts.nbins; i++) {
		CU_ASSERT_EQUAL(ts.bins[i].primary, -1);
		CU_ASSERT_FALSE(ts.bins[i].in_fault);
		CU_ASSERT_DOUBLE_EQUAL(ts.bins[i].lag_bytes[0], -1, 1e-9);
	}
	timeseries_free(&ts);
	CU_ASSERT_PTR_NULL(ts.bins);
}

static void test_primary_and_faults(void)
{
	struct timeseries ts;

	reset();
	node(150, "lucerne", NODE_PRIMARY, 1);
	node(160, "geneva", NODE_REPLICA, 1);
	fault(1000, "apply", "lucerne", 0);
	node(1050, "lucerne", NODE_DOWN, 0);
	node(1520, "geneva", NODE_PRIMARY, 2);
	fault(2000, "revert", "lucerne", 0);
	/* The old primary back as primary on its old timeline: the newer timeline still wins. */
	node(2100, "lucerne", NODE_PRIMARY, 1);
	/* A second fault never reverted in this log: it lasts to the end. */
	fault(2500, "apply", "gland", 1);
	fault(2600, "error", "gland", 1);
	wr(2990, 3000, WRITE_OK);
	CU_ASSERT_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL(ts.nbins, 31);
	CU_ASSERT_EQUAL(ts.nnodes, 2);
	CU_ASSERT_STRING_EQUAL(ts.nodes[0], "lucerne");
	CU_ASSERT_EQUAL(ts.bins[0].primary, -1);
	CU_ASSERT_EQUAL(ts.bins[1].primary, 0);
	CU_ASSERT_EQUAL(ts.bins[9].primary, 0);
	CU_ASSERT_EQUAL(ts.bins[10].primary, -1); /* down at 1.05 s: none at the bin's end */
	CU_ASSERT_EQUAL(ts.bins[14].primary, -1);
	CU_ASSERT_EQUAL(ts.bins[15].primary, 1);
	CU_ASSERT_EQUAL(ts.bins[30].primary, 1);
	CU_ASSERT_EQUAL_FATAL(ts.nchanges, 2);
	CU_ASSERT_STRING_EQUAL(ts.changes[0].from, "");
	CU_ASSERT_STRING_EQUAL(ts.changes[0].to, "lucerne");
	CU_ASSERT_STRING_EQUAL(ts.changes[1].from, "lucerne");
	CU_ASSERT_STRING_EQUAL(ts.changes[1].to, "geneva");
	CU_ASSERT_EQUAL(ts.changes[1].timeline, 2);
	CU_ASSERT_EQUAL(ts.changes[1].t_us, MS(1520));
	CU_ASSERT_EQUAL_FATAL(ts.nfaults, 2);
	CU_ASSERT_EQUAL(ts.faults[0].start_us, MS(1000));
	CU_ASSERT_EQUAL(ts.faults[0].end_us, MS(2000));
	CU_ASSERT_TRUE(ts.faults[0].closed);
	CU_ASSERT_STRING_EQUAL(ts.faults[0].node, "lucerne");
	CU_ASSERT_EQUAL(ts.faults[1].end_us, MS(3000));
	CU_ASSERT_FALSE(ts.faults[1].closed);
	CU_ASSERT_FALSE(ts.bins[9].in_fault);
	CU_ASSERT_TRUE(ts.bins[10].in_fault);
	CU_ASSERT_TRUE(ts.bins[20].in_fault);
	CU_ASSERT_FALSE(ts.bins[21].in_fault);
	CU_ASSERT_TRUE(ts.bins[25].in_fault);
	timeseries_free(&ts);
}

static void test_lag(void)
{
	struct timeseries ts;

	reset();
	lag(250, "geneva", 0x3000, 0x1000);
	lag(280, "geneva", 0x5000, 0x1000); /* max of the bin */
	lag(290, "gland", 0x5000, 0x5000);
	lag(450, "gland", 0x5000, 0x6000); /* replay ahead of a stale primary position: 0 */
	lag(350, "geneva", 0x4200000, 0); /* catch-up: replay null, not 66 MiB behind */
	CU_ASSERT_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL_FATAL(ts.nstandbys, 2);
	CU_ASSERT_STRING_EQUAL(ts.standbys[0], "geneva");
	CU_ASSERT_STRING_EQUAL(ts.standbys[1], "gland");
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[2].lag_bytes[0], 0x4000, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[2].lag_bytes[1], 0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[3].lag_bytes[0], -1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[4].lag_bytes[0], -1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ts.bins[4].lag_bytes[1], 0, 1e-9);
	timeseries_free(&ts);
}

static void test_limits(void)
{
	struct timeseries ts;

	log_set_level(LOG_QUIET);
	reset();
	CU_ASSERT_FALSE(timeseries_compute(&ev, 0, &ts));
	/* An empty log still has one bin: the timeline of a run that logged nothing. */
	CU_ASSERT_TRUE_FATAL(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_EQUAL(ts.nbins, 1);
	timeseries_free(&ts);
	wr(0, TIMESERIES_MAX_SPAN_US / 1000 + 1000, WRITE_OK);
	CU_ASSERT_FALSE(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
	CU_ASSERT_PTR_NULL(ts.bins);
	reset();
	for (int i = 0; i < TIMESERIES_MAX_NODES + 1; i++) {
		char name[16];

		str_format(name, sizeof(name), "z%d", i);
		node(i, name, NODE_REPLICA, 1);
	}
	CU_ASSERT_FALSE(timeseries_compute(&ev, TIMESERIES_BIN_US, &ts));
}

/* The real log of a primary pod kill: every write in a bin, the failover where it happened. */
static void test_fixture(void)
{
	const char *src = getenv("BISE_SOURCE_DIR");
	char path[4096];
	struct events real;
	struct timeseries ts;
	int64_t ok = 0, fail = 0, ind = 0;
	size_t fault_bin;

	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	str_format(path, sizeof(path), "%s/tests/unit/data/run-pod-kill/primary-pod-kill/trial-1/events.jsonl",
		   src);
	memset(&real, 0, sizeof(real));
	CU_ASSERT_FATAL(events_load(path, &real));
	CU_ASSERT_FATAL(timeseries_compute(&real, TIMESERIES_BIN_US, &ts));
	for (size_t i = 0; i < ts.nbins; i++) {
		ok += ts.bins[i].ok;
		fail += ts.bins[i].fail;
		ind += ts.bins[i].indeterminate;
	}
	CU_ASSERT_EQUAL(ok, 11886);
	CU_ASSERT_EQUAL(fail, 231);
	CU_ASSERT_EQUAL(ind, 3);
	CU_ASSERT_EQUAL(ts.nbins, (size_t)(ts.end_us / TIMESERIES_BIN_US) + 1);
	CU_ASSERT_EQUAL_FATAL(ts.nfaults, 1);
	CU_ASSERT_EQUAL(ts.faults[0].start_us, 10535177);
	CU_ASSERT_EQUAL(ts.faults[0].end_us, 30671258);
	CU_ASSERT_STRING_EQUAL(ts.faults[0].node, "lucerne");
	/* lucerne first, then geneva on timeline 2 about 10.5 s after the kill. */
	CU_ASSERT_EQUAL_FATAL(ts.nchanges, 2);
	CU_ASSERT_STRING_EQUAL(ts.changes[0].to, "lucerne");
	CU_ASSERT_STRING_EQUAL(ts.changes[1].to, "geneva");
	CU_ASSERT_EQUAL(ts.changes[1].timeline, 2);
	CU_ASSERT(ts.changes[1].t_us > 20000000 && ts.changes[1].t_us < 22000000);
	/* No acknowledged write while the old primary was gone and none was promoted. */
	fault_bin = (size_t)(10535177 / TIMESERIES_BIN_US) + 2;
	for (size_t i = fault_bin; i < 200; i++)
		CU_ASSERT_EQUAL(ts.bins[i].ok, 0);
	CU_ASSERT(ts.bins[50].ok > 0);
	CU_ASSERT(ts.bins[50].latency_p50_ms > 0 && ts.bins[50].latency_p50_ms <= ts.bins[50].latency_p95_ms);
	CU_ASSERT_EQUAL(ts.nstandbys, 0); /* this log predates lag samples */
	timeseries_free(&ts);
	events_free(&real);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("timeseries", NULL, NULL);

	CU_add_test(s, "counts, rates and latency per bin", test_counts_and_latency);
	CU_add_test(s, "watcher's primary, changes and fault intervals", test_primary_and_faults);
	CU_add_test(s, "lag per standby, absent where not sampled", test_lag);
	CU_add_test(s, "failed connection attempts per bin", test_connect_failures);
	CU_add_test(s, "limits", test_limits);
	CU_add_test(s, "the real pod-kill log", test_fixture);
}
