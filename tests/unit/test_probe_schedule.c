/*
 * test_probe_schedule.c - the writers' connection probing during an outage: slots
 * staggered across writers (never two on one instant), within the budget of attempts per
 * second in every window, and the attempts in flight within the primary's connections.
 */
#include "scenario.h"
#include "workload.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void tests_register(void);

#define SEC INT64_C(1000000)
#define MAX_SLOTS 200000

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every slot of every writer in [from, from + span), probing all the time; sorted. */
static int64_t *all_slots(int64_t epoch, int64_t from, int64_t span, int nwriters, int rate, size_t *n)
{
	int64_t *v = calloc(MAX_SLOTS, sizeof(*v));

	*n = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	for (int w = 0; w < nwriters; w++) {
		int64_t t = wl_probe_slot(epoch, from, w, nwriters, rate);

		while (t < from + span && *n < MAX_SLOTS) {
			int64_t next = wl_probe_slot(epoch, t + 1, w, nwriters, rate);

			/* One writer: a steady cadence, nwriters slots of the budget apart. */
			CU_ASSERT(next > t);
			CU_ASSERT_EQUAL(next - t, (int64_t)nwriters * ((SEC + rate - 1) / rate));
			v[(*n)++] = t;
			t = next;
		}
	}
	qsort(v, *n, sizeof(*v), cmp_i64);
	return v;
}

/* At most rate slots in any one-second window (checked from every slot on). */
static int max_per_second(const int64_t *v, size_t n)
{
	int best = 0;

	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < n && v[j] < v[i] + SEC)
			j++;
		if ((int)(j - i) > best)
			best = (int)(j - i);
	}
	return best;
}

static void test_staggered(void)
{
	static const struct {
		int nwriters, rate;
	} cases[] = { { 4, 100 }, { 1, 100 }, { 7, 300 }, { 64, 100 }, { 3, 1000 }, { 10, 10 } };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int nw = cases[c].nwriters, rate = cases[c].rate;
		int64_t gap = (SEC + rate - 1) / rate, epoch = 123456789;
		size_t n;
		int64_t *v = all_slots(epoch, epoch + 3 * SEC + 17, 10 * SEC, nw, rate, &n);

		/* Never two writers on one instant: the merged slots are one budget slot apart. */
		CU_ASSERT(n > 0);
		for (size_t i = 1; i < n; i++)
			CU_ASSERT_EQUAL(v[i] - v[i - 1], gap);
		CU_ASSERT(max_per_second(v, n) <= rate);
		/* And close to it: the budget is the cadence, not a cap rarely reached. */
		CU_ASSERT(max_per_second(v, n) >= rate - 1);
		free(v);
	}
}

static void test_slot_is_next(void)
{
	int64_t epoch = 5 * SEC;

	/* Writer 2 of 4 at 100/s: epoch + 20 ms + k * 40 ms. */
	CU_ASSERT_EQUAL(wl_probe_slot(epoch, 0, 2, 4, 100), epoch + 20000);
	CU_ASSERT_EQUAL(wl_probe_slot(epoch, epoch + 20000, 2, 4, 100), epoch + 20000);
	CU_ASSERT_EQUAL(wl_probe_slot(epoch, epoch + 20001, 2, 4, 100), epoch + 60000);
	CU_ASSERT_EQUAL(wl_probe_slot(epoch, epoch + 7 * SEC + 1, 2, 4, 100), epoch + 7 * SEC + 20000);
	/* Missed slots are skipped, not caught up: the next one is after the given time. */
	for (int64_t after = epoch; after < epoch + SEC; after += 7919) {
		int64_t s = wl_probe_slot(epoch, after, 1, 4, 100);

		CU_ASSERT(s >= after && s - after < 40000);
		CU_ASSERT_EQUAL((s - epoch - 10000) % 40000, 0);
	}
	/* Nonsense in, still a slot after the time asked. */
	CU_ASSERT(wl_probe_slot(epoch, epoch + 3, 9, 0, 0) >= epoch + 3);
}

static void test_inflight_budget(void)
{
	struct workload_spec w;
	int budget = CLUSTER_MAX_CONNECTIONS - CLUSTER_RESERVED_CONNECTIONS - WORKLOAD_EXTRA_CONNECTIONS;

	workload_spec_defaults(&w);
	/* 4 writers at 100/s: one attempt every 40 ms each, alive up to 500 ms. */
	CU_ASSERT_EQUAL(workload_probe_inflight(&w), 13);
	w.connect_timeout_us = 100000;
	CU_ASSERT_EQUAL(workload_probe_inflight(&w), 3);
	w.connect_timeout_us = 10000;
	CU_ASSERT_EQUAL(workload_probe_inflight(&w), 1);
	/* Whatever the settings, writers' attempts and readers fit the primary's connections. */
	for (int writers = 1; writers <= 64; writers++)
		for (int readers = 0; writers + readers <= budget; readers += 7)
			for (int64_t ct = 100000; ct <= 3600 * SEC; ct *= 10) {
				int k;

				w.writers = writers;
				w.readers = readers;
				w.connect_timeout_us = ct;
				w.probe_rate = 1000;
				k = workload_probe_inflight(&w);
				CU_ASSERT(k >= 1);
				CU_ASSERT(writers * k + workload_spares(&w) + readers <= budget);
			}
}

static void test_spares(void)
{
	struct workload_spec w;
	int budget = CLUSTER_MAX_CONNECTIONS - CLUSTER_RESERVED_CONNECTIONS - WORKLOAD_EXTRA_CONNECTIONS;

	workload_spec_defaults(&w);
	/* The defaults: every writer keeps a spare. */
	CU_ASSERT_EQUAL(workload_spares(&w), w.writers);
	/* As many as fit beside the writers and readers, never more than the writers. */
	w.writers = 60;
	w.readers = 0;
	CU_ASSERT_EQUAL(workload_spares(&w), budget - 60);
	w.writers = 40;
	w.readers = 13;
	CU_ASSERT_EQUAL(workload_spares(&w), 40);
	w.readers = 14;
	CU_ASSERT_EQUAL(workload_spares(&w), 39);
	w.writers = budget;
	w.readers = 0;
	CU_ASSERT_EQUAL(workload_spares(&w), 0);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("connection probing", NULL, NULL);

	CU_add_test(s, "slots staggered across writers, within the budget", test_staggered);
	CU_add_test(s, "a writer's next slot", test_slot_is_next);
	CU_add_test(s, "attempts in flight fit the primary's connections", test_inflight_budget);
	CU_add_test(s, "spare connections where they fit", test_spares);
}
