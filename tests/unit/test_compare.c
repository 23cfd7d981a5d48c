/*
 * test_compare.c - `bise compare`: two run directories with the same scenario give one
 * table, with per-run distributions and SLO tallies; statistics are exact.
 */
#include "compare.h"
#include "compare_report.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	str_copy(root, sizeof(root), "/tmp/bise-test-compare-XXXXXX");
	return mkdtemp(root) ? 0 : 1;
}

static int suite_clean(void)
{
	return nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A summary with one trial per failover value; lost writes as given; trial i's resolution
 * (failover's ±) res_ms + i ms when res_ms >= 0, else null.
 */
static void write_summary(const char *run, const char *versions, const double *failover, int n,
			  int lost, const char *verdict, double res_ms)
{
	char res[32];
	char dir[512], path[600];
	FILE *f;

	str_format(dir, sizeof(dir), "%s/%s/pod-kill", root, run);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	str_format(path, sizeof(path), "%s/summary.json", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "{\"schema\":\"bise.summary/1\",\"scenario\":{\"name\":\"pod-kill\"},"
		   "\"versions\":\"%s\",\"overall\":\"%s\",\"trials\":[", versions, verdict);
	for (int i = 0; i < n; i++) {
		if (res_ms < 0)
			str_copy(res, sizeof(res), "null");
		else
			str_format(res, sizeof(res), "%.3f", res_ms + i);
		fprintf(f,
			"%s{\"trial\":%d,\"metrics\":{\"failover\":{\"failover_time_s\":%.3f,\"promotion_s\":null},"
			"\"data_loss\":{\"lost\":%d},\"writes\":{\"indeterminate\":2,\"resolution_ms\":%s},"
			"\"recovery\":{\"seconds\":20.0}},"
			"\"verdicts\":[{\"slo\":\"failover_time\",\"threshold\":\"< 12s\",\"verdict\":\"%s\"}]}",
			i ? "," : "", i + 1, failover[i], lost, res, failover[i] < 12 ? "pass" : "fail");
	}
	fprintf(f, "]}\n");
	fclose(f);
}

static void test_stats(void)
{
	double v[] = { 5, 1, 4, 2, 3 };
	struct compare_stat s;

	compare_stats(v, 5, &s);
	CU_ASSERT_EQUAL(s.n, 5);
	CU_ASSERT_DOUBLE_EQUAL(s.min, 1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.p50, 3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.p95, 5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.max, 5, 1e-9);
	compare_stats(v, 0, &s);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void test_two_runs(void)
{
	const double a[] = { 10.0, 11.0, 13.0 }, b[] = { 9.5 };
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	char dir_a[300], dir_b[300], *dirs[2] = { dir_a, dir_b };
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	write_summary("run-a", "Patroni 3.0.2 etcd v3", a, 3, 0, "fail", 12.5);
	write_summary("run-b", "Patroni 3.0.2 etcd v2", b, 1, 7, "pass", -1);
	str_format(dir_a, sizeof(dir_a), "%s/run-a", root);
	str_format(dir_b, sizeof(dir_b), "%s/run-b/", root);
	CU_ASSERT_FATAL(compare_load(dirs, 2, cmp));
	CU_ASSERT_EQUAL(cmp->nscenarios, 1);
	CU_ASSERT_EQUAL(cmp->ncolumns, 2);
	CU_ASSERT_EQUAL(cmp->cells[0][0].trials, 3);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][0].failover_s.p50, 11.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][0].failover_s.max, 13.0, 1e-9);
	/* null means not observed: no statistic at all */
	CU_ASSERT_EQUAL(cmp->cells[0][0].promotion_s.n, 0);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][1].lost.max, 7, 1e-9);
	CU_ASSERT_EQUAL(cmp->cells[0][0].slos[0].pass, 2);
	CU_ASSERT_EQUAL(cmp->cells[0][0].slos[0].fail, 1);

	mem = open_memstream(&text, &len);
	CU_ASSERT_FATAL(compare_write_markdown(cmp, mem));
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "## pod-kill"));
	/* the trailing slash is not part of the label */
	CU_ASSERT_PTR_NULL(strstr(text, "run-b/ |"));
	/* The widest ± of run-a's trials (12.5, 13.5, 14.5 ms), rounded up; none logged in run-b. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "| failover time (write unavailability) | 11.00 s (min 10.00, p95 13.00, max 13.00, n=3) ± 15 ms | 9.50 s |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "| SLO failover_time < 12s | FAIL 1/3 | pass 1/1 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "| acknowledged writes lost | 0 | 7 |"));
	/* Rows no run could measure are left out: no promotion, no label switch was logged. */
	CU_ASSERT_PTR_NULL(strstr(text, "promotion seen after"));
	CU_ASSERT_PTR_NULL(strstr(text, "primary label switched after"));
	free(text);

	text = NULL;
	mem = open_memstream(&text, &len);
	CU_ASSERT_FATAL(compare_write_html(cmp, mem));
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "<td class=\"fail\">FAIL 1/3</td>"));
	CU_ASSERT_PTR_NULL(strstr(text, "primary label switched after"));
	free(text);
	free(cmp);
}

static void test_not_a_run(void)
{
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	char dir[300], *dirs[1] = { dir };

	str_format(dir, sizeof(dir), "%s/empty", root);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	log_set_level(LOG_QUIET);
	CU_ASSERT_FALSE(compare_load(dirs, 1, cmp));
	log_set_level(LOG_INFO);
	free(cmp);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("compare", suite_init, suite_clean);

	CU_add_test(s, "statistics", test_stats);
	CU_add_test(s, "two runs side by side", test_two_runs);
	CU_add_test(s, "a directory without summaries is an error", test_not_a_run);
}
