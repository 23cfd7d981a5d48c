/*
 * test_proc_faults.c - process-pause, zone-outage and io-throttle through their fault
 * files on a real local cluster (etcd, Patroni, PostgreSQL 15 in network namespaces):
 * processes really stop (frozen by the cgroup v2 freezer) and resume, a held connection's query hangs and then
 * answers, a dark zone's processes are gone and its address silent, it streams again
 * after the revert, a blkio throttle raises commit latency without a failover, and a
 * sweep from a fresh driver leaves nothing stopped. Needs root; with CI=true a non-root
 * run fails instead of skipping. Own cluster "bproc" on 10.213.13.0/24.
 */
#include <CUnit/CUnit.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "driver.h"
#include "fault.h"
#include "plan.h"
#include "util.h"

#define CLUSTER "bproc"
#define SUBNET "10.213.13"
#define CGROUP_ROOT "/sys/fs/cgroup/unified/bise/" CLUSTER
#define BLKIO_ROOT "/sys/fs/cgroup/blkio/bise/" CLUSTER
#define MAX_PIDS 512
#define HEAL_TIMEOUT_US (90 * 1000000LL)

static const struct driver_ops *ops = &driver_local;
static struct scenario scenario; /* only .cluster: what the fault files look at */
static struct driver *drv;
static char state_root[256];
static bool is_up;

/* ---- processes of a zone ---- */

static int read_pids(const char *zone, const char *group, pid_t *out, int max)
{
	char path[256], *text, *p, *end;
	int n = 0;

	str_format(path, sizeof(path), CGROUP_ROOT "/%s/%s/cgroup.procs", zone, group);
	text = file_read_all(path, NULL);
	if (!text)
		return -1;
	for (p = text; *p && n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		out[n++] = (pid_t)v;
		while (*end == '\n')
			end++;
	}
	free(text);
	return n;
}

/* The zone's pg processes: in the pg cgroup, or where a partial pause moved Patroni. */
static int read_pg_pids(const char *zone, pid_t *out, int max)
{
	static const char *const more[] = { "pg/paused", "awake" };
	int n = read_pids(zone, "pg", out, max), m;

	for (int i = 0; n >= 0 && i < 2; i++) {
		m = read_pids(zone, more[i], out + n, max - n);
		if (m > 0)
			n += m;
	}
	return n;
}

/* Is pid in a cgroup whose cgroup.events says "frozen 1" (the v2 freezer holds it)? */
static bool in_frozen_cgroup(pid_t pid)
{
	char path[512], *text, *cg;
	bool frozen = false;

	str_format(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	text = file_read_all(path, NULL);
	cg = text ? strstr(text, "0::/") : NULL;
	if (cg) {
		cg[3 + strcspn(cg + 3, "\n")] = '\0';
		str_format(path, sizeof(path), "/sys/fs/cgroup/unified%s/cgroup.events", cg + 3);
		free(text);
		text = file_read_all(path, NULL);
		frozen = text && strstr(text, "frozen 1");
	}
	free(text);
	return frozen;
}

static char state_of(pid_t pid)
{
	char path[64], *text, *paren, s = '?';

	str_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = file_read_all(path, NULL);
	if (!text)
		return s;
	paren = strrchr(text, ')');
	if (paren && paren[1] == ' ')
		s = paren[2];
	free(text);
	return s;
}

static bool exe_is_postgres(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	str_format(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, "/usr/lib/postgresql/", 20) == 0;
}

/* Count a zone's pg-cgroup processes: PostgreSQL ones and others, and how many stopped. */
struct census {
	int pg, pg_stopped, other, other_stopped;
};

static struct census take_census(const char *zone)
{
	pid_t pids[MAX_PIDS];
	int n = read_pg_pids(zone, pids, MAX_PIDS);
	struct census c = { 0, 0, 0, 0 };

	for (int i = 0; i < n; i++) {
		char s = state_of(pids[i]);
		bool stopped = s == 'T' || s == 't' || in_frozen_cgroup(pids[i]);

		if (s == '?')
			continue;
		if (exe_is_postgres(pids[i])) {
			c.pg++;
			c.pg_stopped += stopped;
		} else {
			c.other++;
			c.other_stopped += stopped;
		}
	}
	return c;
}

/* Stopped or frozen processes anywhere in the cluster's cgroups. */
static int stopped_in_cluster(void)
{
	static const char *const groups[] = { "etcd", "pg" };
	pid_t pids[MAX_PIDS];
	int stopped = 0;

	for (int z = 0; z < scenario.cluster.nzones; z++)
		for (int g = 0; g < 2; g++) {
			int n = g ? read_pg_pids(scenario.cluster.zones[z], pids, MAX_PIDS)
				  : read_pids(scenario.cluster.zones[z], groups[g], pids, MAX_PIDS);

			for (int i = 0; i < n; i++) {
				char s = state_of(pids[i]);

				stopped += s == 'T' || s == 't' || in_frozen_cgroup(pids[i]);
			}
		}
	return stopped;
}

/* ---- members and SQL ---- */

static int find_role(enum member_role role, struct member *m)
{
	int n = ops->members(drv, m, DRIVER_MAX_MEMBERS);

	for (int i = 0; i < n; i++)
		if (m[i].role == role)
			return i;
	return -1;
}

static PGconn *connect_to(const struct member *m)
{
	char ci[512];
	PGconn *c;

	itest_conninfo(m, ci, sizeof(ci));
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "\n  cannot connect to %s: %s", m->name, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

static bool exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "\n  %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* Wait until the connection has a complete result, up to timeout; true if it came. */
static bool result_within(PGconn *c, int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;

	for (;;) {
		struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
		int64_t left = deadline - mono_now_us();

		if (!PQisBusy(c))
			return true;
		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)(left / 1000) + 1) > 0 && !PQconsumeInput(c))
			return true; /* broken: an answer of sorts */
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median latency (ms) of n single-row autocommit INSERTs (each waits for its WAL flush). */
static double commit_median_ms(PGconn *c, int n)
{
	double t[64];
	int done = 0;

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		int64_t t0 = mono_now_us();

		if (!exec_ok(c, "INSERT INTO bise_proc_probe VALUES (clock_timestamp())"))
			break;
		t[done++] = (double)(mono_now_us() - t0) / 1e3;
	}
	if (done == 0)
		return -1;
	qsort(t, (size_t)done, sizeof(t[0]), cmp_double);
	return t[done / 2];
}

/* ---- faults through their fault files ---- */

static void make_step(struct step *st, const char *fault, int64_t duration_us, const char *key,
		      const char *value)
{
	memset(st, 0, sizeof(*st));
	st->kind = STEP_FAULT;
	st->fault = fault_find(fault);
	st->duration_us = duration_us;
	st->count = 1;
	str_copy(st->target, sizeof(st->target), "primary");
	if (key) {
		str_copy(st->options[0].key, sizeof(st->options[0].key), key);
		str_copy(st->options[0].value, sizeof(st->options[0].value), value);
		st->noptions = 1;
	}
}

static bool fault_apply(const struct step *st, const char *member)
{
	struct fault_ctx fc = { .ops = ops, .drv = drv, .scenario = &scenario, .fault_id = "bise-test-1" };
	char why[256] = "";

	if (!st->fault || (st->fault->validate && !st->fault->validate(st, why, sizeof(why)))) {
		fprintf(stderr, "\n  invalid step: %s", why);
		return false;
	}
	if (!st->fault->apply(&fc, st, member))
		return false;
	return plan_revert_after(&scenario, st) == st->duration_us;
}

static bool fault_revert(const struct step *st, const char *member)
{
	struct fault_ctx fc = { .ops = ops, .drv = drv, .scenario = &scenario, .fault_id = "bise-test-1" };

	return st->fault->revert(&fc, st, member);
}

static bool healthy(int64_t timeout_us)
{
	char why[256] = "";
	bool ok = ops->wait_healthy(drv, timeout_us, why, sizeof(why));

	if (!ok)
		fprintf(stderr, "\n  not healthy: %s", why);
	return ok;
}

/*
 * From inside zone `from`, TCP-connect to ip:port within timeout: 0 connected, 1 refused,
 * 2 timed out, 3 setup error. Runs in a child so the test's own namespace never changes.
 */
static int probe_from_zone(const char *from, const char *ip, int port, int timeout_ms)
{
	char path[128];
	int status;
	pid_t pid;

	str_format(path, sizeof(path), "/run/netns/bise-" CLUSTER "-%s", from);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int fd = open(path, O_RDONLY), s;
		struct pollfd pfd;
		int err = 0;
		socklen_t len = sizeof(err);

		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
			_exit(3);
		s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (s < 0)
			_exit(3);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			_exit(0);
		if (errno == ECONNREFUSED)
			_exit(1);
		pfd.fd = s;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			_exit(2);
		getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
		_exit(err == 0 ? 0 : err == ECONNREFUSED ? 1 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 3;
	return WEXITSTATUS(status);
}

/* ---- the suite ---- */

static int suite_init(void)
{
	itest_spec(&scenario.cluster, CLUSTER, SUBNET);
	str_copy(state_root, sizeof(state_root), "/tmp/bise-proc-state");
	drv = itest_cluster_open(&scenario.cluster, state_root, false);
	return drv ? 0 : 1;
}

/* Runs however the tests ended: nothing stopped, throttled or started survives. */
static int suite_cleanup(void)
{
	itest_cluster_close(&drv, true, true);
	rmdir(state_root);
	return 0;
}

static void test_up(void)
{
	double seconds = -1;
	char why[256] = "";

	if (!ops->preflight(&scenario.cluster, NULL, why, sizeof(why)))
		fprintf(stderr, "\n  preflight: %s\n", why);
	CU_ASSERT_FATAL(ops->up(drv, &seconds));
	is_up = true;
	fprintf(stderr, "\n  up in %.2f s\n", seconds);
	CU_ASSERT(ops->caps & DRIVER_CAP_PAUSE);
	CU_ASSERT(ops->caps & DRIVER_CAP_ZONE_OUTAGE);
	CU_ASSERT(ops->caps & DRIVER_CAP_IO_THROTTLE);
	CU_ASSERT(ops->caps & DRIVER_CAP_CLIENT_ZONES);
	CU_ASSERT_TRUE(ops->client_netns(drv, "lucerne", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "/run/netns/bise-" CLUSTER "-lucerne");
}

static void test_pause_postgres(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	struct census during, after;
	struct step st;
	PGconn *c;
	int p;
	bool hung, answered;
	int64_t t0;

	CU_ASSERT_FATAL(is_up);
	p = find_role(MEMBER_PRIMARY, m);
	CU_ASSERT_FATAL(p >= 0);
	c = connect_to(&m[p]);
	CU_ASSERT_FATAL(c != NULL);
	make_step(&st, "process-pause", 4000000, "what", "postgres");
	t0 = mono_now_us();
	CU_ASSERT_FATAL(fault_apply(&st, m[p].name));
	during = take_census(m[p].name);
	fprintf(stderr, "\n  pause postgres on %s: %d of %d PostgreSQL processes stopped, %d of %d "
		"others (Patroni) in %.0f ms", m[p].name, during.pg_stopped, during.pg,
		during.other_stopped, during.other, (double)(mono_now_us() - t0) / 1e3);
	CU_ASSERT(during.pg > 3);
	CU_ASSERT_EQUAL(during.pg_stopped, during.pg);
	CU_ASSERT(during.other >= 1);
	CU_ASSERT_EQUAL(during.other_stopped, 0);
	/* The frozen primary still holds the connection, and answers nothing. */
	CU_ASSERT_FATAL(PQsendQuery(c, "SELECT 1"));
	hung = !result_within(c, 1500000);
	CU_ASSERT(hung);
	t0 = mono_now_us();
	CU_ASSERT_TRUE(fault_revert(&st, m[p].name));
	CU_ASSERT_TRUE(fault_revert(&st, m[p].name)); /* idempotent */
	after = take_census(m[p].name);
	CU_ASSERT_EQUAL(after.pg_stopped + after.other_stopped, 0);
	{
		char child[256];

		/* The thaw moved everything back: no cgroup of the pause is left behind. */
		str_format(child, sizeof(child), CGROUP_ROOT "/%s/pg/paused", m[p].name);
		CU_ASSERT_NOT_EQUAL(access(child, F_OK), 0);
		str_format(child, sizeof(child), CGROUP_ROOT "/%s/awake", m[p].name);
		CU_ASSERT_NOT_EQUAL(access(child, F_OK), 0);
	}
	answered = result_within(c, 3000000);
	CU_ASSERT(answered);
	if (answered) {
		PGresult *r = PQgetResult(c);

		CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_TUPLES_OK);
		fprintf(stderr, "\n  resumed: the held query answered %.0f ms after the thaw",
			(double)(mono_now_us() - t0) / 1e3);
		PQclear(r);
		while ((r = PQgetResult(c)))
			PQclear(r);
	}
	PQfinish(c);
	CU_ASSERT(healthy(HEAL_TIMEOUT_US));
}

static void test_pause_both(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	struct census during, after;
	struct step st;
	int p;

	CU_ASSERT_FATAL(is_up);
	p = find_role(MEMBER_PRIMARY, m);
	CU_ASSERT_FATAL(p >= 0);
	make_step(&st, "process-pause", 3000000, "what", "both");
	CU_ASSERT_FATAL(fault_apply(&st, m[p].name));
	during = take_census(m[p].name);
	fprintf(stderr, "\n  pause both on %s: %d/%d PostgreSQL and %d/%d Patroni processes stopped",
		m[p].name, during.pg_stopped, during.pg, during.other_stopped, during.other);
	CU_ASSERT_EQUAL(during.pg_stopped, during.pg);
	CU_ASSERT(during.other >= 1);
	CU_ASSERT_EQUAL(during.other_stopped, during.other);
	sleep_us(1000000);
	CU_ASSERT_TRUE(fault_revert(&st, m[p].name));
	after = take_census(m[p].name);
	CU_ASSERT_EQUAL(after.pg_stopped + after.other_stopped, 0);
	CU_ASSERT(healthy(HEAL_TIMEOUT_US));
}

static void test_sweep_fresh_driver(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	struct driver *other;
	struct step st;
	int r, stopped;

	CU_ASSERT_FATAL(is_up);
	r = find_role(MEMBER_REPLICA, m);
	CU_ASSERT_FATAL(r >= 0);
	make_step(&st, "process-pause", 60000000, "what", "both");
	CU_ASSERT_FATAL(fault_apply(&st, m[r].name));
	stopped = stopped_in_cluster();
	CU_ASSERT(stopped > 3);
	/* As `bise heal` would: another process, knowing only the cluster's name. */
	other = ops->open(&scenario.cluster, state_root, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_TRUE(ops->sweep(other));
	CU_ASSERT_TRUE(ops->sweep(other)); /* idempotent */
	ops->close(other);
	fprintf(stderr, "\n  sweep: %d stopped processes before, %d after", stopped,
		stopped_in_cluster());
	CU_ASSERT_EQUAL(stopped_in_cluster(), 0);
	CU_ASSERT(healthy(HEAL_TIMEOUT_US));
}

static void test_zone_outage(void)
{
	struct member m[DRIVER_MAX_MEMBERS];
	pid_t pids[MAX_PIDS];
	char zone[ZONE_NAME_LEN], ip[64], witness[ZONE_NAME_LEN];
	struct step st;
	int r, n, before_pg, before_etcd, dark_pg, dark_etcd;
	int64_t t0;

	CU_ASSERT_FATAL(is_up);
	r = find_role(MEMBER_REPLICA, m);
	CU_ASSERT_FATAL(r >= 0);
	n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	str_copy(zone, sizeof(zone), m[r].zone);
	str_copy(ip, sizeof(ip), m[r].endpoint.host);
	for (int i = 0; i < n; i++)
		if (i != r)
			str_copy(witness, sizeof(witness), m[i].zone);
	CU_ASSERT_EQUAL(probe_from_zone(witness, ip, 5432, 1000), 0);
	before_pg = read_pids(zone, "pg", pids, MAX_PIDS);
	before_etcd = read_pids(zone, "etcd", pids, MAX_PIDS);
	make_step(&st, "zone-outage", 10000000, NULL, NULL);
	t0 = mono_now_us();
	CU_ASSERT_FATAL(fault_apply(&st, m[r].name));
	dark_pg = read_pids(zone, "pg", pids, MAX_PIDS);
	dark_etcd = read_pids(zone, "etcd", pids, MAX_PIDS);
	fprintf(stderr, "\n  zone %s dark in %.0f ms: pg processes %d -> %d, etcd %d -> %d", zone,
		(double)(mono_now_us() - t0) / 1e3, before_pg, dark_pg, before_etcd, dark_etcd);
	CU_ASSERT(before_pg > 0 && before_etcd > 0);
	CU_ASSERT_EQUAL(dark_pg, 0);
	CU_ASSERT_EQUAL(dark_etcd, 0);
	/* Silence, not a refusal: the peers' packets go nowhere. */
	CU_ASSERT_EQUAL(probe_from_zone(witness, ip, 5432, 1000), 2);
	CU_ASSERT_EQUAL(probe_from_zone(witness, ip, 2379, 500), 2);
	t0 = mono_now_us();
	CU_ASSERT_TRUE(fault_revert(&st, m[r].name));
	CU_ASSERT_TRUE(fault_revert(&st, m[r].name)); /* idempotent: starts nothing twice */
	CU_ASSERT_EQUAL(read_pids(zone, "etcd", pids, MAX_PIDS), before_etcd);
	CU_ASSERT(healthy(HEAL_TIMEOUT_US));
	fprintf(stderr, "\n  zone %s back: streaming again %.2f s after the revert", zone,
		(double)(mono_now_us() - t0) / 1e6);
	CU_ASSERT_EQUAL(probe_from_zone(witness, ip, 5432, 1000), 0);
}

static void test_io_throttle(void)
{
	struct member m[DRIVER_MAX_MEMBERS], after_m[DRIVER_MAX_MEMBERS];
	char primary[MEMBER_NAME_LEN], group[256];
	double base, during, after;
	struct step st;
	struct stat sb;
	PGconn *c;
	int p, q;

	CU_ASSERT_FATAL(is_up);
	p = find_role(MEMBER_PRIMARY, m);
	CU_ASSERT_FATAL(p >= 0);
	str_copy(primary, sizeof(primary), m[p].name);
	c = connect_to(&m[p]);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(exec_ok(c, "CREATE TABLE IF NOT EXISTS bise_proc_probe (at timestamptz)"));
	base = commit_median_ms(c, 40);
	make_step(&st, "io-throttle", 30000000, "iops", "10");
	CU_ASSERT_FATAL(fault_apply(&st, primary));
	str_format(group, sizeof(group), BLKIO_ROOT "/%s", primary);
	CU_ASSERT_EQUAL(stat(group, &sb), 0);
	during = commit_median_ms(c, 15);
	CU_ASSERT_TRUE(fault_revert(&st, primary));
	CU_ASSERT_TRUE(fault_revert(&st, primary)); /* idempotent */
	CU_ASSERT_NOT_EQUAL(stat(group, &sb), 0);
	after = commit_median_ms(c, 40);
	PQfinish(c);
	fprintf(stderr, "\n  commit latency on %s (median): %.2f ms before, %.2f ms at 10 IOPS, "
		"%.2f ms after", primary, base, during, after);
	CU_ASSERT(base > 0 && during > 0 && after > 0);
	CU_ASSERT(during > 5 * base && during > 20);
	CU_ASSERT(after < during / 3);
	/* Slow, not dead: Patroni keeps the same primary. */
	q = find_role(MEMBER_PRIMARY, after_m);
	CU_ASSERT(q >= 0 && strcmp(after_m[q].name, primary) == 0);
	/* Both throttle options are understood; a throttle needs one of them. */
	make_step(&st, "io-throttle", 1000000, "bps", "1mb");
	CU_ASSERT_TRUE(st.fault->validate(&st, group, sizeof(group)));
	make_step(&st, "io-throttle", 1000000, NULL, NULL);
	CU_ASSERT_FALSE(st.fault->validate(&st, group, sizeof(group)));
}

static void test_down(void)
{
	struct stat sb;
	char out[64];

	CU_ASSERT_TRUE(ops->down(drv));
	is_up = false;
	CU_ASSERT_NOT_EQUAL(stat(CGROUP_ROOT, &sb), 0);
	CU_ASSERT_NOT_EQUAL(stat(BLKIO_ROOT, &sb), 0);
	CU_ASSERT_FALSE(ops->client_netns(drv, "geneva", out, sizeof(out)));
	CU_ASSERT_TRUE(ops->sweep(drv)); /* nothing left to sweep */
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("proc_faults", false))
		return;
	s = CU_add_suite("proc_faults", suite_init, suite_cleanup);
	CU_add_test(s, "up", test_up);
	CU_add_test(s, "pause postgres on the primary", test_pause_postgres);
	CU_add_test(s, "pause both", test_pause_both);
	CU_add_test(s, "sweep from a fresh driver", test_sweep_fresh_driver);
	CU_add_test(s, "zone outage of a replica's zone", test_zone_outage);
	CU_add_test(s, "io throttle", test_io_throttle);
	CU_add_test(s, "down", test_down);
}
