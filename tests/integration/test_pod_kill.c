/*
 * test_pod_kill.c - the stock scenario end to end on the real local backend: bise run
 * provisions three zones, kills the primary's pod, measures, and the test checks the
 * whole pipeline against the database itself, then that `bise down` leaves no debris.
 */
#include "driver.h"
#include "common.h"
#include "event.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct itest_dirs dirs;
static char scenario_path[1024];
static bool can_run;

static int suite_init(void)
{
	const char *src = getenv("BISE_SOURCE_DIR");

	can_run = src != NULL;
	if (!itest_dirs_make(&dirs, "bise-test-podkill"))
		return 1;
	str_format(scenario_path, sizeof(scenario_path), "%s/scenarios/primary-pod-kill.yaml", src ? src : ".");
	return 0;
}

static void bring_down(void)
{
	const char *down[] = { "down", "--state-dir", dirs.state, scenario_path, NULL };

	itest_run_bise(down);
}

static int suite_clean(void)
{
	if (!dirs.work[0])
		return 0;
	bring_down(); /* whatever an assertion left running */
	return itest_dirs_remove(&dirs);
}

static json_object *get_path(json_object *o, const char *a, const char *b, const char *c)
{
	json_object *x = o;

	if (a && !json_object_object_get_ex(x, a, &x))
		return NULL;
	if (b && !json_object_object_get_ex(x, b, &x))
		return NULL;
	if (c && !json_object_object_get_ex(x, c, &x))
		return NULL;
	return x;
}

/* Every row of the run, straight from the primary: a bitmap per writer. */
static bool read_rows(const struct member *primary, const char *run, int writers, int64_t maxseq,
		      unsigned char **seen, int64_t *rows)
{
	char conninfo[512];
	const char *params[1] = { run };
	PGconn *conn;
	PGresult *res;
	bool ok;

	itest_conninfo(primary, conninfo, sizeof(conninfo));
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return false;
	}
	res = PQexecParams(conn, "SELECT writer, seq FROM bise_writes WHERE run = $1", 1, NULL, params,
			   NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	*rows = ok ? PQntuples(res) : 0;
	for (int i = 0; ok && i < PQntuples(res); i++) {
		long w = strtol(PQgetvalue(res, i, 0), NULL, 10);
		long long s = strtoll(PQgetvalue(res, i, 1), NULL, 10);

		if (w >= 0 && w < writers && s >= 0 && s <= maxseq)
			seen[w][s] = 1;
	}
	PQclear(res);
	PQfinish(conn);
	return ok;
}

/* Nothing of this test's cluster left: its namespaces, and any process started from its state. */
static bool debris_free(char *what, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	FILE *p;
	char line[256];
	bool clean = true;

	p = popen("ip netns list 2>/dev/null", "r");
	while (p && clean && fgets(line, sizeof(line), p)) {
		if (strncmp(line, "bise-bise-", 10) == 0) {
			str_format(what, len, "network namespace left: %s", line);
			clean = false;
		}
	}
	if (p)
		pclose(p);
	while (clean && proc && (de = readdir(proc))) {
		char cmd[1024];

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || !itest_cmdline(de->d_name, cmd, sizeof(cmd)))
			continue;
		/* etcd, Patroni and the postmaster all name a path under the state directory. */
		if (strstr(cmd, dirs.state)) {
			str_format(what, len, "process left: pid %s (%.80s)", de->d_name, cmd);
			clean = false;
		}
	}
	if (proc)
		closedir(proc);
	return clean;
}

static void test_stock_pod_kill(void)
{
	char summary_path[512], events_path[512], errbuf[4096], what[256];
	const char *run[] = { "run", "--keep", "--seed", "42", "--state-dir", dirs.state, "--out", dirs.out,
			      scenario_path, NULL };
	json_object *summary, *trial, *x;
	struct scenario sc;
	struct events ev;
	const struct driver_ops *ops;
	struct driver *drv;
	struct member m[DRIVER_MAX_MEMBERS];
	int status, n, primary = -1, writers;
	int64_t maxseq = 0, rows = 0, acked = 0, acked_missing = 0, found_ok = 0;
	unsigned char **seen;

	if (!can_run) {
		itest_cannot_run("no scenario to run");
		return;
	}
	status = itest_run_bise(run);
	/* 0: every SLO held; 1: one failed (a real finding, still a complete measurement). */
	CU_ASSERT_FATAL(status == 0 || status == 1);

	str_format(summary_path, sizeof(summary_path), "%s/primary-pod-kill/summary.json", dirs.out);
	summary = json_object_from_file(summary_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(summary);
	trial = json_object_array_get_idx(get_path(summary, "trials", NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(trial);
	CU_ASSERT(json_object_get_boolean(get_path(trial, "completed", NULL, NULL)));
	/* A new primary, on a new timeline, in another zone. */
	x = get_path(trial, "metrics", "failover", "new_primary");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_NOT_EQUAL(json_object_get_string(x),
				   json_object_get_string(get_path(trial, "metrics", "failover", "old_primary")));
	/* A failover time measured, in the range this machine shows for ttl 10s. */
	x = get_path(trial, "metrics", "failover", "failover_time_s");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	fprintf(stderr, "failover_time %.3f s\n", json_object_get_double(x));
	CU_ASSERT(json_object_get_double(x) > 1.0 && json_object_get_double(x) < 40.0);
	CU_ASSERT(json_object_get_boolean(get_path(trial, "metrics", "data_loss", "balanced")));
	CU_ASSERT(json_object_get_boolean(get_path(trial, "metrics", "recovery", "healthy")));

	/* The loss accounting, recomputed here against the rows actually in the database. */
	str_format(events_path, sizeof(events_path), "%s/primary-pod-kill/trial-1/events.jsonl", dirs.out);
	memset(&ev, 0, sizeof(ev));
	CU_ASSERT_FATAL(events_load(events_path, &ev));
	writers = ev.writers;
	CU_ASSERT_FATAL(writers > 0);
	for (size_t i = 0; i < ev.nwrites; i++)
		if (ev.writes[i].seq > maxseq)
			maxseq = ev.writes[i].seq;
	seen = xcalloc((size_t)writers, sizeof(*seen));
	for (int w = 0; w < writers; w++)
		seen[w] = xcalloc((size_t)maxseq + 1, 1);

	memset(&sc, 0, sizeof(sc));
	CU_ASSERT_FATAL(scenario_load(scenario_path, &sc, errbuf, sizeof(errbuf)));
	ops = driver_find("local");
	drv = ops->open(&sc.cluster, dirs.state, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(drv);
	n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	for (int i = 0; i < n; i++)
		if (m[i].role == MEMBER_PRIMARY)
			primary = i;
	CU_ASSERT_FATAL(primary >= 0);
	CU_ASSERT_FATAL(read_rows(&m[primary], ev.run, writers, maxseq, seen, &rows));
	for (size_t i = 0; i < ev.nwrites; i++) {
		const struct write_event *we = &ev.writes[i];

		if (we->outcome != WRITE_OK && we->outcome != WRITE_OK_UNREPLICATED)
			continue;
		acked++;
		if (seen[we->writer][we->seq])
			found_ok++;
		else
			acked_missing++;
	}
	fprintf(stderr, "acknowledged %lld, found %lld, missing %lld, rows %lld\n", (long long)acked,
		(long long)found_ok, (long long)acked_missing, (long long)rows);
	CU_ASSERT(acked > 100);
	CU_ASSERT_EQUAL(rows, json_object_get_int64(get_path(trial, "metrics", "data_loss", "found")));
	CU_ASSERT_EQUAL(acked_missing, json_object_get_int64(get_path(trial, "metrics", "data_loss", "lost")));
	ops->close(drv);
	for (int w = 0; w < writers; w++)
		free(seen[w]);
	free(seen);
	events_free(&ev);
	scenario_free(&sc);
	json_object_put(summary);

	/* `bise down` leaves nothing behind. */
	bring_down();
	CU_ASSERT(debris_free(what, sizeof(what)));
	if (!debris_free(what, sizeof(what)))
		fprintf(stderr, "debris: %s\n", what);
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("stock scenario primary-pod-kill on the local backend", true))
		return;
	s = CU_add_suite("stock scenario primary-pod-kill on the local backend", suite_init,
			 suite_clean);

	CU_add_test(s, "failover observed, loss accounting matches the database, no debris",
		    test_stock_pod_kill);
}
