/*
 * test_local_driver.c - the local backend against real etcd, Patroni and PostgreSQL 15 in
 * network namespaces: provisioning, roles, postmaster kill, pod kill + failover, restart,
 * teardown leaving nothing behind, and provisioning time over a few up/down cycles.
 * Needs root. Outside CI (CI != "true") a non-root run is a skip; in CI it fails.
 */
#include <CUnit/CUnit.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "driver.h"
#include "util.h"

#define CLUSTER "bisetest"

static const struct driver_ops *ops = &driver_local;
static struct cluster_spec spec;
static struct driver *drv;
static char state_root[256];
static bool is_up;

static const char *ip_path(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/usr/bin/ip";
}

/* Processes whose command line mentions the cluster's state directory. */
static int our_processes(void)
{
	char dir[300], cmd[4096];
	DIR *proc = opendir("/proc");
	struct dirent *e;
	int n = 0;

	str_format(dir, sizeof(dir), "%s/%s/", state_root, CLUSTER);
	if (!proc)
		return -1;
	while ((e = readdir(proc))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !itest_cmdline(e->d_name, cmd, sizeof(cmd)))
			continue;
		if (strstr(cmd, dir)) {
			fprintf(stderr, "  left over: pid %s: %s\n", e->d_name, cmd);
			n++;
		}
	}
	closedir(proc);
	return n;
}

static int find_role(enum member_role role, struct member *m, int *n)
{
	*n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	for (int i = 0; i < *n; i++)
		if (m[i].role == role)
			return i;
	return -1;
}

static int count_role(const struct member *m, int n, enum member_role role)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += m[i].role == role;
	return c;
}

static long postmaster_pid(const char *zone)
{
	char path[400], *text;
	long pid;

	str_format(path, sizeof(path), "%s/%s/%s/pgdata/postmaster.pid", state_root, CLUSTER, zone);
	text = file_read_all(path, NULL);
	if (!text)
		return -1;
	pid = strtol(text, NULL, 10);
	free(text);
	return pid;
}

static int suite_init(void)
{
	const char *env = getenv("BISE_STATE_ROOT");

	itest_spec(&spec, CLUSTER, NULL);
	str_copy(state_root, sizeof(state_root), env && *env ? env : "/tmp/bise-itest");
	drv = itest_cluster_open(&spec, state_root, false);
	return drv ? 0 : 1;
}

static int suite_cleanup(void)
{
	itest_cluster_close(&drv, false, true);
	rmdir(state_root);
	return 0;
}

static void test_preflight(void)
{
	char why[256] = "";
	bool ok = ops->preflight(&spec, NULL, why, sizeof(why));

	if (!ok)
		fprintf(stderr, "\n  preflight: %s\n", why);
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_TRUE(ops->versions(drv, why, sizeof(why)));
	fprintf(stderr, "\n  versions: %s\n", why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "PostgreSQL 15."));
}

static void test_up(void)
{
	double seconds = -1;
	bool ok = ops->up(drv, &seconds);

	CU_ASSERT_FATAL(ok);
	is_up = true;
	fprintf(stderr, "\n  up took %.2f s\n", seconds);
	CU_ASSERT(seconds > 0 && seconds < 30);
	CU_ASSERT_TRUE(ops->exists(drv));
}

static void test_members(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n;

	CU_ASSERT_FATAL(is_up);
	n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(count_role(m, n, MEMBER_PRIMARY), 1);
	CU_ASSERT_EQUAL(count_role(m, n, MEMBER_REPLICA), 2);
	for (int i = 0; i < n; i++) {
		fprintf(stderr, "  %s %s:%d role %d timeline %d\n", m[i].name, m[i].endpoint.host,
			m[i].endpoint.port, (int)m[i].role, m[i].timeline);
		CU_ASSERT_EQUAL(m[i].endpoint.port, 5432);
		CU_ASSERT_STRING_EQUAL(m[i].endpoint.user, "postgres");
		CU_ASSERT(strlen(m[i].endpoint.password) > 0);
		CU_ASSERT(m[i].timeline >= 1);
	}
	/* A fresh open (as `bise status` would do) sees the same cluster. */
	{
		struct driver *other = ops->open(&spec, state_root, NULL);
		struct member m2[DRIVER_MAX_MEMBERS];

		CU_ASSERT_PTR_NOT_NULL_FATAL(other);
		CU_ASSERT_TRUE(ops->exists(other));
		CU_ASSERT_EQUAL(ops->members(other, m2, DRIVER_MAX_MEMBERS), 3);
		CU_ASSERT_EQUAL(count_role(m2, 3, MEMBER_PRIMARY), 1);
		ops->close(other);
	}
}

static void test_kill_postmaster(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	char why[256] = "", zone[ZONE_NAME_LEN];
	int n, p;
	long before, after;
	int64_t t0, deadline;
	bool went_down = false;

	CU_ASSERT_FATAL(is_up);
	p = find_role(MEMBER_PRIMARY, m, &n);
	CU_ASSERT_FATAL(p >= 0);
	str_copy(zone, sizeof(zone), m[p].name);
	before = postmaster_pid(zone);
	CU_ASSERT(before > 1);
	t0 = mono_now_us();
	CU_ASSERT_FATAL(ops->kill(drv, zone, KILL_POSTMASTER, 0));
	deadline = t0 + 5000000;
	while (!went_down && mono_now_us() < deadline) {
		ops->members(drv, m, DRIVER_MAX_MEMBERS);
		went_down = m[p].role != MEMBER_PRIMARY;
		if (!went_down)
			sleep_us(50000);
	}
	CU_ASSERT(went_down);
	if (!ops->wait_healthy(drv, 30 * 1000000LL, why, sizeof(why))) {
		fprintf(stderr, "\n  not healthy: %s\n", why);
		CU_FAIL("not healthy 30 s after the postmaster kill");
	}
	after = postmaster_pid(zone);
	fprintf(stderr, "\n  postmaster %ld of %s killed; healthy again after %.2f s (postmaster %ld)\n",
		before, zone, (double)(mono_now_us() - t0) / 1e6, after);
	CU_ASSERT(after > 1 && after != before);
}

static void test_kill_pod_failover_restart(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	char why[256] = "", old[ZONE_NAME_LEN], newp[ZONE_NAME_LEN] = "";
	int n, p;
	int64_t t0, deadline;

	CU_ASSERT_FATAL(is_up);
	p = find_role(MEMBER_PRIMARY, m, &n);
	CU_ASSERT_FATAL(p >= 0);
	str_copy(old, sizeof(old), m[p].name);
	t0 = mono_now_us();
	CU_ASSERT_FATAL(ops->kill(drv, old, KILL_POD, 0));
	deadline = t0 + 25 * 1000000LL;
	while (!newp[0] && mono_now_us() < deadline) {
		int q = find_role(MEMBER_PRIMARY, m, &n);

		if (q >= 0 && strcmp(m[q].name, old) != 0)
			str_copy(newp, sizeof(newp), m[q].name);
		else
			sleep_us(200000);
	}
	fprintf(stderr, "\n  pod %s killed; new primary %s after %.2f s\n", old,
		newp[0] ? newp : "(none)", (double)(mono_now_us() - t0) / 1e6);
	CU_ASSERT_FATAL(newp[0] != '\0');
	CU_ASSERT(mono_now_us() - t0 < 20 * 1000000LL);
	/* The killed member is down until the kubelet restarts it. */
	ops->members(drv, m, DRIVER_MAX_MEMBERS);
	CU_ASSERT_EQUAL(m[p].role, MEMBER_DOWN);
	sleep_us(spec.restart_delay_us);
	t0 = mono_now_us();
	CU_ASSERT_TRUE(ops->restart(drv, old));
	CU_ASSERT_TRUE(ops->restart(drv, old)); /* idempotent */
	CU_ASSERT(ops->wait_healthy(drv, 60 * 1000000LL, why, sizeof(why)));
	fprintf(stderr, "  %s restarted; healthy after %.2f s%s%s\n", old,
		(double)(mono_now_us() - t0) / 1e6, why[0] ? "; last: " : "", why);
	n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	CU_ASSERT_EQUAL(count_role(m, n, MEMBER_PRIMARY), 1);
	CU_ASSERT_EQUAL(count_role(m, n, MEMBER_REPLICA), 2);
}

static void assert_nothing_left(void)
{
	char out[8192], path[400];
	char *netns[] = { (char *)ip_path(), "netns", "list", NULL };
	char *links[] = { (char *)ip_path(), "-o", "link", "show", NULL };
	struct stat st;

	CU_ASSERT_TRUE(itest_capture(netns, false, out, sizeof(out)));
	CU_ASSERT_PTR_NULL(strstr(out, "bise-" CLUSTER "-"));
	CU_ASSERT_TRUE(itest_capture(links, false, out, sizeof(out)));
	CU_ASSERT_PTR_NULL(strstr(out, "bsbr-"));
	CU_ASSERT_PTR_NULL(strstr(out, "bs0-"));
	CU_ASSERT_PTR_NULL(strstr(out, "bs1-"));
	CU_ASSERT_PTR_NULL(strstr(out, "bs2-"));
	CU_ASSERT_EQUAL(our_processes(), 0);
	CU_ASSERT_NOT_EQUAL(stat("/sys/fs/cgroup/unified/bise/" CLUSTER, &st), 0);
	str_format(path, sizeof(path), "%s/%s", state_root, CLUSTER);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_FALSE(ops->exists(drv));
}

static void test_down(void)
{
	CU_ASSERT_TRUE(ops->down(drv));
	is_up = false;
	assert_nothing_left();
	CU_ASSERT_TRUE(ops->down(drv)); /* idempotent */
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void test_provisioning_cycles(void)
{
	const char *env = getenv("BISE_LOCAL_CYCLES");
	int cycles = env ? (int)strtol(env, NULL, 10) : 3, done = 0;
	double t[16];

	if (cycles > 16)
		cycles = 16;
	for (int i = 0; i < cycles; i++) {
		double s = -1;
		bool ok = ops->up(drv, &s);

		CU_ASSERT(ok);
		if (ok)
			t[done++] = s;
		CU_ASSERT_TRUE(ops->down(drv));
	}
	assert_nothing_left();
	if (done == 0)
		return;
	qsort(t, (size_t)done, sizeof(t[0]), cmp_double);
	fprintf(stderr, "\n  provisioning over %d cycles: min %.2f s, median %.2f s, max %.2f s\n",
		done, t[0], t[done / 2], t[done - 1]);
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("local_driver", false))
		return;
	s = CU_add_suite("local_driver", suite_init, suite_cleanup);
	CU_add_test(s, "preflight", test_preflight);
	CU_add_test(s, "up", test_up);
	CU_add_test(s, "members", test_members);
	CU_add_test(s, "kill postmaster", test_kill_postmaster);
	CU_add_test(s, "kill pod, failover, restart", test_kill_pod_failover_restart);
	CU_add_test(s, "down", test_down);
	CU_add_test(s, "provisioning cycles", test_provisioning_cycles);
}
