/*
 * fault-latency.c - how long the local backend's injectors take to put a fault in force and
 * to take it away, on a real three-zone cluster: a partition of one zone, the client cut
 * from every zone, a pause of PostgreSQL and of PostgreSQL and Patroni. Each call is timed
 * from the moment the driver is called to its return (the driver returns once the fault is
 * in force: rules loaded, cgroup frozen), over N repetitions: min/median/max in ms.
 * Usage (root, after ./scripts/build): build/bise-fault-latency [N]
 * Brings up its own cluster "bflat" on 10.213.31.0/24 under /tmp/bise-bench-fault-latency
 * and takes it down at the end, whatever happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "driver.h"
#include "util.h"

#define CLUSTER "bflat"
#define SUBNET "10.213.31"
#define STATE_ROOT "/tmp/bise-bench-fault-latency"
#define HOLD_US 300000 /* how long each fault stays in force */
#define GAP_US 700000  /* quiet time between repetitions */
#define MAX_REPS 100

static const struct driver_ops *ops = &driver_local;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *what, const char *phase, double *v, int n)
{
	double med;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("%-28s %-7s n=%d  min %7.2f ms  median %7.2f ms  max %7.2f ms\n", what, phase, n,
	       v[0], med, v[n - 1]);
}

static double ms_since(int64_t t0)
{
	return (double)(mono_now_us() - t0) / 1e3;
}

/* Partition (a) from (b), every packet dropped, n times. */
static bool bench_net(struct driver *d, const char *what, const char *const *a, int na,
		      const char *const *b, int nb, int n)
{
	double on[MAX_REPS], off[MAX_REPS];

	for (int r = 0; r < n; r++) {
		struct net_fault f;
		int64_t t0;

		memset(&f, 0, sizeof(f));
		str_format(f.id, sizeof(f.id), "bench-%d", r);
		f.na = na;
		f.nb = nb;
		for (int i = 0; i < na; i++)
			str_copy(f.a[i], ZONE_NAME_LEN, a[i]);
		for (int i = 0; i < nb; i++)
			str_copy(f.b[i], ZONE_NAME_LEN, b[i]);
		f.loss_pct = 100;
		t0 = mono_now_us();
		if (!ops->net_apply(d, &f))
			return false;
		on[r] = ms_since(t0);
		sleep_us(HOLD_US);
		t0 = mono_now_us();
		if (!ops->net_revert(d, f.id))
			return false;
		off[r] = ms_since(t0);
		sleep_us(GAP_US);
	}
	print_stats(what, "apply", on, n);
	print_stats(what, "revert", off, n);
	return true;
}

static bool bench_pause(struct driver *d, const char *what, const char *zone,
			enum pause_what which, int n)
{
	double on[MAX_REPS], off[MAX_REPS];

	for (int r = 0; r < n; r++) {
		int64_t t0 = mono_now_us();

		if (!ops->pause(d, zone, which, true))
			return false;
		on[r] = ms_since(t0);
		sleep_us(HOLD_US);
		t0 = mono_now_us();
		if (!ops->pause(d, zone, which, false))
			return false;
		off[r] = ms_since(t0);
		sleep_us(GAP_US);
	}
	print_stats(what, "apply", on, n);
	print_stats(what, "revert", off, n);
	return true;
}

int main(int argc, char **argv)
{
	static const char *const one[] = { "geneva" }, *const rest[] = { "lucerne", "gland" };
	static const char *const client[] = { PARTY_CLIENT };
	static const char *const all[] = { "geneva", "lucerne", "gland" };
	struct cluster_spec spec;
	struct driver *d;
	double up_s = 0;
	int n = argc > 1 ? atoi(argv[1]) : 5;
	bool ok;

	if (n < 1 || n > MAX_REPS) {
		fprintf(stderr, "usage: %s [repetitions 1..%d]\n", argv[0], MAX_REPS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root (network namespaces, cgroups)\n", argv[0]);
		return 2;
	}
	itest_spec(&spec, CLUSTER, SUBNET);
	d = itest_cluster_open(&spec, STATE_ROOT, false);
	if (!d)
		return 1;
	ok = ops->up(d, &up_s);
	if (ok) {
		char why[256] = "";

		ok = ops->wait_healthy(d, 60 * 1000000LL, why, sizeof(why));
		if (!ok)
			fprintf(stderr, "cluster not healthy: %s\n", why);
	}
	ok = ok && bench_net(d, "partition geneva", one, 1, rest, 2, n);
	ok = ok && bench_net(d, "client cut (all zones)", client, 1, all, 3, n);
	ok = ok && bench_pause(d, "pause postgres (geneva)", "geneva", PAUSE_POSTGRES, n);
	ok = ok && bench_pause(d, "pause both (geneva)", "geneva", PAUSE_BOTH, n);
	itest_cluster_close(&d, true, true);
	rmdir(STATE_ROOT);
	if (!ok)
		fprintf(stderr, "%s: a fault failed (see above)\n", argv[0]);
	return ok ? 0 : 1;
}
