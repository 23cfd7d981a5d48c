/*
 * test_runner_report_cmd.c - `bise report RUN_DIR` on copies of the real run-pod-kill
 * fixture: the rebuilt reports equal the goldens test_reports checks the writers against,
 * an interrupted run (torn log, no summary.json) still gets its reports, and a directory
 * without scenarios is a usage error.
 */
#include "report_cmd.h"
#include "run_setup.h"
#include "runner.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[64];
static const char *src;

static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	src = getenv("BISE_SOURCE_DIR");
	return src ? run_setup_workdir_make(tmp, sizeof(tmp), "bise-test-report-cmd") : 1;
}

static int suite_clean(void)
{
	return run_setup_workdir_remove(tmp);
}

static bool same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = file_read_all(a, &la), *y = file_read_all(b, &lb);
	bool same = x && y && la == lb && memcmp(x, y, la) == 0;

	if (!same)
		fprintf(stderr, "\n%s differs from %s\n", a, b);
	free(x);
	free(y);
	return same;
}

static void test_rebuild_run(void)
{
	static const char *const files[] = { "metrics.csv", "timeseries.csv", "junit.xml", "summary.md",
					     "report.html", NULL };
	char run[200], cmd[8400], a[4400], b[4400];
	int status;

	str_format(run, sizeof(run), "%s/run", tmp);
	str_format(cmd, sizeof(cmd), "cp -r '%s/tests/unit/data/run-pod-kill' '%s'", src, run);
	CU_ASSERT_EQUAL_FATAL(run_cmd(cmd), 0);
	fflush(stdout);
	status = report_cmd_run(run);
	CU_ASSERT_EQUAL(status, BISE_EXIT_OK);
	/* What the run knew (versions, provisioning, run id) survives from the old summary. */
	for (int i = 0; files[i]; i++) {
		str_format(a, sizeof(a), "%s/primary-pod-kill/%s", run, files[i]);
		str_format(b, sizeof(b), "%s/tests/unit/golden/pod-kill-%s", src, files[i]);
		CU_ASSERT(same_file(a, b));
	}
	str_format(a, sizeof(a), "%s/index.html", run);
	str_format(b, sizeof(b), "%s/tests/unit/golden/suite-index.html", src);
	CU_ASSERT(same_file(a, b));
	str_format(a, sizeof(a), "%s/summary.md", run);
	str_format(b, sizeof(b), "%s/tests/unit/golden/suite-summary.md", src);
	CU_ASSERT(same_file(a, b));
	/* The recomputed summary.json agrees with the one the run wrote. */
	str_format(cmd, sizeof(cmd),
		   "grep -q '\"failover_time_s\":10.54417' '%s/primary-pod-kill/summary.json' && "
		   "grep -q '\"run_id\":\"20261124-191124-25117\"' '%s/primary-pod-kill/summary.json' && "
		   "grep -q '\"path\":\"scenarios/primary-pod-kill.yaml\"' '%s/primary-pod-kill/summary.json'",
		   run, run, run);
	CU_ASSERT_EQUAL(run_cmd(cmd), 0);
}

/* A run killed mid-trial: a torn last line, no run_end, no summary.json yet. */
static void test_interrupted(void)
{
	char run[200], cmd[8400], path[4400];
	char *csv;
	size_t len;

	str_format(run, sizeof(run), "%s/cut", tmp);
	str_format(cmd, sizeof(cmd),
		   "mkdir -p '%s/primary-pod-kill/trial-1' && "
		   "cp '%s/tests/unit/data/run-pod-kill/primary-pod-kill/scenario.yaml' '%s/primary-pod-kill/' && "
		   "head -c 600000 '%s/tests/unit/data/run-pod-kill/primary-pod-kill/trial-1/events.jsonl' "
		   "> '%s/primary-pod-kill/trial-1/events.jsonl'",
		   run, src, run, src, run);
	CU_ASSERT_EQUAL_FATAL(run_cmd(cmd), 0);
	fflush(stdout);
	CU_ASSERT_EQUAL(report_cmd_run(run), BISE_EXIT_SLO_FAILED);
	str_format(path, sizeof(path), "%s/primary-pod-kill/metrics.csv", run);
	csv = file_read_all(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nprimary-pod-kill,1,false,the event log has no run_end"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",skip,,no read-back: the run ended before recovery"));
	free(csv);
	str_format(cmd, sizeof(cmd),
		   "test -s '%s/primary-pod-kill/report.html' && test -s '%s/primary-pod-kill/junit.xml' && "
		   "grep -q '\"run_id\":\"20261124-191124-25117\"' '%s/primary-pod-kill/summary.json'",
		   run, run, run);
	CU_ASSERT_EQUAL(run_cmd(cmd), 0);
}

static void test_nothing_to_report(void)
{
	char empty[200];

	str_format(empty, sizeof(empty), "%s/empty", tmp);
	CU_ASSERT_FATAL(mkdir_p(empty, 0755));
	CU_ASSERT_EQUAL(report_cmd_run(empty), BISE_EXIT_USAGE);
	str_format(empty, sizeof(empty), "%s/missing", tmp);
	CU_ASSERT_EQUAL(report_cmd_run(empty), BISE_EXIT_USAGE);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("bise report", suite_init, suite_clean);

	CU_add_test(s, "a whole run rebuilt equals the goldens", test_rebuild_run);
	CU_add_test(s, "an interrupted run", test_interrupted);
	CU_add_test(s, "nothing to report on", test_nothing_to_report);
}
