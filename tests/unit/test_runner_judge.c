/*
 * test_runner_judge.c - `bise run`, `bise report` and `bise compare` judge the same logs
 * alike: three trials on the null driver, an SLO on a statistic that fails the scenario,
 * then `bise report` on the run directory rewrites every report byte for byte, and the
 * comparison of that directory tallies the same verdicts and statistics.
 */
#include "compare.h"
#include "report_cmd.h"
#include "run_setup.h"
#include "runner.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char workdir[256], out[512];

/* The work directory, and the run directory inside it. */
static int suite_init(void)
{
	if (run_setup_workdir_make(workdir, sizeof(workdir), "bise-test-runner-judge") != 0)
		return 1;
	return str_format(out, sizeof(out), "%s/run", workdir) ? 0 : 1;
}

/* p95(recovery_time) < 1ms cannot hold: a restart takes longer. */
static const char scenario_text[] =
	"name: null-judge\n"
	"repeat: 3\n"
	"cluster:\n"
	"  restart_delay: 100ms\n"
	"steps:\n"
	"  - at: 50ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - wait: healthy\n"
	"    timeout: 3s\n"
	"slo:\n"
	"  data_loss: \"== 0\"\n"
	"  recovery_time: \"< 3s\"\n"
	"  p95(recovery_time): \"< 1ms\"\n";

static const char *const report_files[] = { "summary.json", "metrics.csv", "timeseries.csv", "junit.xml",
					    "summary.md", "report.html", NULL };

static char *read_report(const char *name)
{
	char path[700];
	size_t len;

	str_format(path, sizeof(path), "%s/null-judge/%s", out, name);
	return file_read_all(path, &len);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Tally of one SLO's per-trial verdicts in summary.json: [pass, fail, skip]. */
static void tally(json_object *trials, const char *slo, const char *threshold, int counts[3])
{
	static const char *const kinds[3] = { "pass", "fail", "skip" };

	memset(counts, 0, 3 * sizeof(*counts));
	for (size_t i = 0; i < json_object_array_length(trials); i++) {
		json_object *vs = get(json_object_array_get_idx(trials, i), "verdicts");

		for (size_t j = 0; j < json_object_array_length(vs); j++) {
			json_object *v = json_object_array_get_idx(vs, j);

			if (strcmp(json_object_get_string(get(v, "slo")), slo) != 0 ||
			    strcmp(json_object_get_string(get(v, "threshold")), threshold) != 0)
				continue;
			for (int k = 0; k < 3; k++)
				counts[k] += strcmp(json_object_get_string(get(v, "verdict")), kinds[k]) == 0;
		}
	}
}

/* The comparison of the run directory counts what summary.json says of every trial. */
static void check_compare(json_object *summary)
{
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	char *dirs[1] = { out };
	json_object *stats = get(get(get(summary, "trials_stats"), "recovery_time"), "p50");
	const struct compare_cell *c;
	int counts[3], total = 0;

	CU_ASSERT_FATAL(compare_load(dirs, 1, cmp));
	c = &cmp->cells[0][0];
	CU_ASSERT_FATAL(c->present);
	CU_ASSERT_EQUAL(c->trials, 3);
	CU_ASSERT_STRING_EQUAL(c->overall, json_object_get_string(get(summary, "overall")));
	/* data_loss, recovery_time and the statistic (a skip in every trial). */
	CU_ASSERT_EQUAL(c->nslos, 3);
	for (int i = 0; i < c->nslos; i++) {
		tally(get(summary, "trials"), c->slos[i].metric, c->slos[i].threshold, counts);
		CU_ASSERT_EQUAL(c->slos[i].pass, counts[0]);
		CU_ASSERT_EQUAL(c->slos[i].fail, counts[1]);
		CU_ASSERT_EQUAL(c->slos[i].skip, counts[2]);
		total += counts[0] + counts[1] + counts[2];
	}
	CU_ASSERT_EQUAL(total, 9);
	/* The same statistic: the run's in microseconds, the comparison's in seconds. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
	CU_ASSERT_EQUAL(c->recovery_s.n, 3);
	CU_ASSERT_DOUBLE_EQUAL(c->recovery_s.p50, json_object_get_double(stats) / 1e6, 1e-6);
	free(cmp);
}

static void test_run_report_compare(void)
{
	char path[512], *before[8], *after;
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	json_object *summary, *verdicts;

	CU_ASSERT_FATAL(run_setup_scenario(workdir, "null-judge.yaml", scenario_text, path, sizeof(path), &sc));
	run_setup_options(&opt, out, workdir);
	CU_ASSERT_EQUAL(runner_run(list, 1, &opt), BISE_EXIT_SLO_FAILED);

	str_format(path, sizeof(path), "%s/null-judge/summary.json", out);
	summary = json_object_from_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(summary);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(get(summary, "overall")), "fail");
	/* Only the statistic failed: the trials themselves passed their own SLOs. */
	verdicts = get(get(summary, "trials_stats"), "verdicts");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(verdicts), 1);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(get(json_object_array_get_idx(verdicts, 0), "verdict")),
			       "fail");

	for (int i = 0; report_files[i]; i++) {
		before[i] = read_report(report_files[i]);
		CU_ASSERT_PTR_NOT_NULL(before[i]);
	}
	fflush(stdout);
	CU_ASSERT_EQUAL(report_cmd_run(out), BISE_EXIT_SLO_FAILED);
	for (int i = 0; report_files[i]; i++) {
		after = read_report(report_files[i]);
		CU_ASSERT_PTR_NOT_NULL(after);
		if (before[i] && after && strcmp(before[i], after) != 0) {
			fprintf(stderr, "\n%s differs after bise report\n", report_files[i]);
			CU_FAIL("bise report judged differently from bise run");
		}
		free(after);
		free(before[i]);
	}
	check_compare(summary);
	json_object_put(summary);
	scenario_free(&sc);
	CU_ASSERT_EQUAL(run_setup_workdir_remove(workdir), 0);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("run, report and compare judge alike", suite_init, NULL);

	CU_add_test(s, "three trials on the null driver, reported again and compared", test_run_report_compare);
}
