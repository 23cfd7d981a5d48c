/*
 * test_storage_stall.c - storage-stall on the real local backend: a cluster whose data
 * directories are bise-stallfs FUSE mounts. A WAL stall holds a commit until healed, a
 * delay slows commits, EIO takes the primary down and the cluster recovers; a runner
 * SIGKILLed during a stall is healed by its watchdog; down leaves no mount and no daemon.
 */
#include "common.h"
#include "driver.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLUSTER "bfuse"
#define STALL_S 120 /* the crash scenario's stall: far longer than the test waits */

static struct itest_dirs dirs;
static char scenario_path[400];
static bool can_run;
static struct scenario sc;
static const struct driver_ops *ops;
static struct driver *drv;
static pid_t runner = -1;

static const char scenario_text[] =
	"name: storage-stall-crash\n"
	"cluster:\n"
	"  name: " CLUSTER "\n"
	"  subnet: 10.213.12.0/24\n"
	"  fuse: true\n"
	"workload:\n"
	"  writers: 2\n"
	"  rate: 20\n"
	"steps:\n"
	"  - at: 2s\n"
	"    fault: storage-stall\n"
	"    target: primary\n"
	"    scope: wal\n"
	"    duration: 120s\n"
	"  - wait: 100s\n"; /* the runner is killed long before */

static bool skip_or_fail(void)
{
	if (can_run)
		return false;
	itest_cannot_run("no driver for cluster " CLUSTER);
	return true;
}

static int suite_init(void)
{
	if (!itest_scenario_setup(&dirs, "bise-test-stall", "storage-stall-crash.yaml", scenario_text,
				  scenario_path, sizeof(scenario_path), &sc))
		return 1;
	ops = &driver_local;
	/* Debris of an earlier, interrupted test run is taken down by test_up_with_fuse. */
	drv = itest_cluster_open(&sc.cluster, dirs.state, true);
	can_run = drv != NULL;
	return 0;
}

static int suite_clean(void)
{
	itest_kill(&runner);
	/* Whatever an assertion left: down heals every stall before it kills anything. */
	itest_cluster_close(&drv, false, true);
	scenario_free(&sc);
	return itest_dirs_remove(&dirs);
}

/* Send one command to a zone's bise-stallfs and read its answer line. */
static bool stallfs_command(const char *zone, const char *cmd, char *reply, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[64];
	ssize_t n;
	int fd;

	reply[0] = '\0';
	str_format(addr.sun_path, sizeof(addr.sun_path), "%s/%s/%s/stallfs.sock", dirs.state, CLUSTER,
		   zone);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	str_format(line, sizeof(line), "%s\n", cmd);
	n = write(fd, line, strlen(line));
	n = n > 0 ? read(fd, reply, len - 1) : -1;
	close(fd);
	reply[n > 0 ? n : 0] = '\0';
	return strncmp(reply, "ok", 2) == 0;
}

/* The value of key=N in a status line, -1 if absent. */
static long status_number(const char *status, const char *key)
{
	char pattern[32];
	const char *p;

	str_format(pattern, sizeof(pattern), " %s=", key);
	p = strstr(status, pattern);
	return p ? strtol(p + strlen(pattern), NULL, 10) : -1;
}

static bool find_primary(struct member *out)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n = ops->members(drv, m, DRIVER_MAX_MEMBERS);

	for (int i = 0; i < n; i++)
		if (m[i].role == MEMBER_PRIMARY) {
			*out = m[i];
			return true;
		}
	return false;
}

static PGconn *connect_to(const struct member *m)
{
	char conninfo[512];
	PGconn *c;

	itest_conninfo(m, conninfo, sizeof(conninfo));
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect %s: %s", m->name, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/*
 * Wait up to timeout_us for the answer to the query sent on c: 1 = it succeeded,
 * 0 = still no answer, -1 = it failed (error text to err).
 */
static int wait_answer(PGconn *c, int64_t timeout_us, char *err, size_t err_len)
{
	int64_t deadline = mono_now_us() + timeout_us;
	int rc = 1;
	PGresult *r;

	for (;;) {
		struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
		int64_t left = deadline - mono_now_us();

		if (!PQconsumeInput(c)) {
			str_copy(err, err_len, PQerrorMessage(c));
			return -1;
		}
		if (!PQisBusy(c))
			break;
		if (left <= 0)
			return 0;
		poll(&p, 1, (int)(left / 1000) + 1);
	}
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			str_copy(err, err_len, PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}

/* Run sql on member p within timeout_us on a new connection; how long it took, or -1. */
static int64_t timed_write_on(const struct member *p, const char *sql, int64_t timeout_us)
{
	PGconn *c = connect_to(p);
	char err[256] = "";
	int64_t t0;
	int rc;

	if (!c)
		return -1;
	t0 = mono_now_us();
	rc = PQsendQuery(c, sql) ? wait_answer(c, timeout_us, err, sizeof(err)) : -1;
	t0 = mono_now_us() - t0;
	if (rc != 1)
		fprintf(stderr, "write on %s: %s\n", p->name, rc == 0 ? "no answer in time" : err);
	PQfinish(c);
	return rc == 1 ? t0 : -1;
}

/* The same on the current primary. */
static int64_t timed_write(const char *sql, int64_t timeout_us)
{
	struct member p;

	if (!find_primary(&p)) {
		fprintf(stderr, "no primary found\n");
		return -1;
	}
	return timed_write_on(&p, sql, timeout_us);
}

/* Connect to the primary (into *p), then inject f on it: the connection (asserted). */
static PGconn *connect_and_fault(struct member *p, const struct io_fault *f)
{
	PGconn *c;

	CU_ASSERT_FATAL(find_primary(p));
	c = connect_to(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FATAL(ops->io_fault(drv, p->name, f));
	return c;
}

/* Processes of our cluster (by cgroup) in uninterruptible sleep; waits up to timeout_us. */
static int d_state_processes(int64_t timeout_us)
{
	char mark[96];
	int64_t deadline = mono_now_us() + timeout_us;
	int found;

	str_format(mark, sizeof(mark), "/bise/%s/", CLUSTER);
	do {
		DIR *proc = opendir("/proc");
		struct dirent *de;

		found = 0;
		while (proc && (de = readdir(proc))) {
			char path[300], *text, *cg;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			str_format(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
			cg = file_read_all(path, NULL);
			if (!cg)
				continue;
			if (strstr(cg, mark)) {
				str_format(path, sizeof(path), "/proc/%s/stat", de->d_name);
				text = file_read_all(path, NULL);
				if (text && strrchr(text, ')') && strrchr(text, ')')[2] == 'D')
					found++;
				free(text);
			}
			free(cg);
		}
		if (proc)
			closedir(proc);
		if (found == 0)
			return 0;
		sleep_us(100000);
	} while (mono_now_us() < deadline);
	return found;
}

/* Mounts of our state directory, and bise-stallfs processes serving it. */
static void leftovers(int *mounts, int *daemons)
{
	char *text = file_read_all("/proc/self/mounts", NULL), *p;
	DIR *proc = opendir("/proc");
	struct dirent *de;

	*mounts = 0;
	*daemons = 0;
	for (p = text; p && (p = strstr(p, dirs.state)); p++)
		(*mounts)++;
	free(text);
	while (proc && (de = readdir(proc))) {
		char cmd[2048];

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || !itest_cmdline(de->d_name, cmd, sizeof(cmd)))
			continue;
		if (strstr(cmd, "bise-stallfs") && strstr(cmd, dirs.state))
			(*daemons)++;
	}
	if (proc)
		closedir(proc);
}

static void test_up_with_fuse(void)
{
	double seconds = 0;
	int mounts, daemons;

	if (skip_or_fail())
		return;
	CU_ASSERT_FATAL(sc.cluster.fuse);
	if (ops->exists(drv))
		ops->down(drv); /* debris of an earlier, interrupted test run */
	CU_ASSERT_FATAL(ops->up(drv, &seconds));
	fprintf(stderr, "\nprovisioned with FUSE data directories in %.2f s\n", seconds);
	leftovers(&mounts, &daemons);
	CU_ASSERT_EQUAL(mounts, sc.cluster.nzones);
	CU_ASSERT_EQUAL(daemons, sc.cluster.nzones);
	CU_ASSERT(timed_write("CREATE TABLE IF NOT EXISTS stall_probe (x int)", 10000000) >= 0);
}

static void test_wal_stall_holds_a_commit(void)
{
	struct io_fault f = { .mode = IO_STALL, .wal_only = true };
	struct member p;
	PGconn *c;
	char err[256] = "", status[256];
	int64_t t0, held;
	int rc;

	if (skip_or_fail() || !ops->exists(drv))
		return;
	c = connect_and_fault(&p, &f);
	CU_ASSERT(ops->io_fault(drv, p.name, &f)); /* idempotent */
	t0 = mono_now_us();
	CU_ASSERT(PQsendQuery(c, "INSERT INTO stall_probe VALUES (1)"));
	rc = wait_answer(c, 2000000, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0); /* no answer within 2 s: the WAL flush is stalled */
	CU_ASSERT(stallfs_command(p.name, "status", status, sizeof(status)));
	fprintf(stderr, "during the stall: %s", status);
	CU_ASSERT(status_number(status, "blocked") >= 1);
	CU_ASSERT(ops->io_heal(drv, p.name));
	CU_ASSERT(ops->io_heal(drv, p.name)); /* idempotent */
	rc = rc == 0 ? wait_answer(c, 15000000, err, sizeof(err)) : rc;
	held = mono_now_us() - t0;
	CU_ASSERT_EQUAL(rc, 1);
	fprintf(stderr, "INSERT under a WAL stall completed %.2f s after it was sent (healed at ~2 s)%s%s\n",
		(double)held / 1e6, err[0] ? ": " : "", err);
	PQfinish(c);
	CU_ASSERT_EQUAL(d_state_processes(3000000), 0);
}

static void test_delay_slows_commits(void)
{
	struct io_fault f = { .mode = IO_DELAY, .wal_only = false, .delay_us = 20000 };
	struct member p;
	int64_t fastest = INT64_MAX, before = INT64_MAX;

	if (skip_or_fail() || !ops->exists(drv))
		return;
	CU_ASSERT_FATAL(find_primary(&p));
	for (int i = 0; i < 3; i++) {
		int64_t t = timed_write_on(&p, "INSERT INTO stall_probe VALUES (2)", 5000000);

		if (t >= 0 && t < before)
			before = t;
	}
	CU_ASSERT_FATAL(ops->io_fault(drv, p.name, &f));
	for (int i = 0; i < 5; i++) {
		/* The member found before the fault: a role query under the delay may time out. */
		int64_t t = timed_write_on(&p, "INSERT INTO stall_probe VALUES (3)", 10000000);

		CU_ASSERT(t >= 0);
		if (t >= 0 && t < fastest)
			fastest = t;
	}
	CU_ASSERT(ops->io_heal(drv, p.name));
	fprintf(stderr, "commit: fastest %.1f ms before, %.1f ms with a 20 ms delay\n",
		(double)before / 1e3, (double)fastest / 1e3);
	CU_ASSERT(fastest >= 20000 && fastest < INT64_MAX);
	CU_ASSERT_EQUAL(d_state_processes(3000000), 0);
}

/* Start `bise run` on the crash scenario (stdout/stderr to a log in the work directory). */
/* The zone whose daemon reports a stall, waiting up to timeout_us; false if none. */
static bool stalled_zone(char *zone, size_t len, int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;
	char status[256];

	do {
		for (int i = 0; i < sc.cluster.nzones; i++)
			if (stallfs_command(sc.cluster.zones[i], "status", status, sizeof(status)) &&
			    strstr(status, "mode=stall"))
				return str_copy(zone, len, sc.cluster.zones[i]);
		sleep_us(100000);
	} while (mono_now_us() < deadline);
	return false;
}

static void test_watchdog_heals_after_runner_sigkill(void)
{
	char zone[ZONE_NAME_LEN], status[256], out[1024] = "";
	int64_t killed, healed = -1;

	if (skip_or_fail() || !ops->exists(drv))
		return;
	runner = itest_spawn_run(&dirs, scenario_path);
	CU_ASSERT_FATAL(runner > 0);
	/* The runner uses the running cluster, checks health, starts writers, stalls at 2 s. */
	CU_ASSERT_FATAL(stalled_zone(zone, sizeof(zone), 90000000));
	sleep_us(1000000); /* let the writers pile up on the stall */
	itest_kill(&runner);
	killed = mono_now_us();
	while (mono_now_us() - killed < 10000000) {
		if (stallfs_command(zone, "status", status, sizeof(status)) &&
		    strstr(status, "mode=none")) {
			healed = mono_now_us() - killed;
			break;
		}
		sleep_us(20000);
	}
	fprintf(stderr, "runner SIGKILLed during a WAL stall on %s: watchdog healed it after %.2f s\n",
		zone, (double)healed / 1e6);
	CU_ASSERT(healed >= 0 && healed < 5000000);
	CU_ASSERT_EQUAL(d_state_processes(3000000), 0);
	CU_ASSERT(timed_write("INSERT INTO stall_probe VALUES (4)", 5000000) >= 0);
	/* Nothing left for bise heal. */
	CU_ASSERT_EQUAL(itest_heal(dirs.state, out, sizeof(out)), 0);
	fprintf(stderr, "bise heal: %s", out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "nothing to heal"));
}

static void test_eio_takes_the_primary_down_and_heal_recovers(void)
{
	struct io_fault f = { .mode = IO_ERROR, .wal_only = false };
	struct member p, after;
	PGconn *c;
	char err[256] = "", status[256], why[256];
	int64_t t0;
	int rc;

	if (skip_or_fail() || !ops->exists(drv))
		return;
	c = connect_and_fault(&p, &f);
	/* The first WAL write fails: PostgreSQL PANICs, so the client sees an error or a lost link. */
	rc = PQsendQuery(c, "INSERT INTO stall_probe VALUES (5)") ? wait_answer(c, 10000000, err, sizeof(err))
								  : -1;
	if (rc != -1)
		str_copy(err, sizeof(err), PQerrorMessage(c));
	fprintf(stderr, "INSERT under EIO on %s: %s", p.name, err[0] ? err : "(no error)\n");
	CU_ASSERT_EQUAL(rc, -1);
	PQfinish(c);
	CU_ASSERT(stallfs_command(p.name, "status", status, sizeof(status)));
	fprintf(stderr, "daemon: %s", status);
	CU_ASSERT(status_number(status, "eio") > 0);
	sleep_us(3000000);
	CU_ASSERT(ops->io_heal(drv, p.name));
	t0 = mono_now_us();
	CU_ASSERT(ops->wait_healthy(drv, 180000000, why, sizeof(why)));
	CU_ASSERT(find_primary(&after));
	fprintf(stderr, "healthy again %.1f s after heal; primary %s -> %s\n",
		(double)(mono_now_us() - t0) / 1e6, p.name, after.name);
	CU_ASSERT(timed_write("INSERT INTO stall_probe VALUES (6)", 10000000) >= 0);
	CU_ASSERT_EQUAL(d_state_processes(3000000), 0);
}

static void test_down_leaves_nothing(void)
{
	int mounts, daemons;

	if (skip_or_fail() || !ops->exists(drv))
		return;
	CU_ASSERT(ops->down(drv));
	leftovers(&mounts, &daemons);
	CU_ASSERT_EQUAL(mounts, 0);
	CU_ASSERT_EQUAL(daemons, 0);
	CU_ASSERT(!ops->exists(drv));
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("storage-stall through bise-stallfs on the local backend", true))
		return;
	s = CU_add_suite("storage-stall through bise-stallfs on the local backend", suite_init,
			 suite_clean);

	CU_add_test(s, "up with cluster.fuse mounts every data directory", test_up_with_fuse);
	CU_add_test(s, "a WAL stall holds a commit until healed", test_wal_stall_holds_a_commit);
	CU_add_test(s, "a 20 ms delay makes every commit take 20 ms or more", test_delay_slows_commits);
	CU_add_test(s, "a SIGKILLed runner's stall is healed by its watchdog",
		    test_watchdog_heals_after_runner_sigkill);
	CU_add_test(s, "EIO takes the primary down; after heal the cluster recovers",
		    test_eio_takes_the_primary_down_and_heal_recovers);
	CU_add_test(s, "down leaves no mount and no daemon", test_down_leaves_nothing);
}
