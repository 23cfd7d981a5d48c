/*
 * test_runner_variants.c - a scenario with two cluster variants run on the null driver:
 * one result directory per variant (<scenario>@<variant>), each summary named after its
 * variant, and <scenario>.compare.md/.html with a column per variant.
 */
#include "run_setup.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tests_register(void);

static char workdir[256];

static int suite_init(void)
{
	return run_setup_workdir_make(workdir, sizeof(workdir), "bise-test-runner-variants");
}

static int suite_clean(void)
{
	return run_setup_workdir_remove(workdir);
}

static const char scenario_text[] =
	"name: null-variants\n"
	"cluster:\n"
	"  restart_delay: 200ms\n"
	"variants:\n"
	"  - name: etcd-v3\n"
	"  - name: etcd-v2\n"
	"    cluster: {dcs_api: v2, replication: synchronous}\n"
	"steps:\n"
	"  - at: 100ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - wait: healthy\n"
	"    timeout: 5s\n"
	"slo:\n"
	"  recovery_time: \"< 5s\"\n";

static void check_summary(const char *out, const char *variant)
{
	char path[700], want[96];
	json_object *summary, *scenario, *name = NULL;

	str_format(path, sizeof(path), "%s/null-variants@%s/summary.json", out, variant);
	str_format(want, sizeof(want), "null-variants@%s", variant);
	summary = json_object_from_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(summary);
	CU_ASSERT(json_object_object_get_ex(summary, "scenario", &scenario) &&
		  json_object_object_get_ex(scenario, "name", &name));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(name), want);
	str_format(path, sizeof(path), "%s/null-variants@%s/trial-1/events.jsonl", out, variant);
	CU_ASSERT_EQUAL(access(path, R_OK), 0);
	json_object_put(summary);
}

static void test_two_variants(void)
{
	char path[512], out[512], file[700];
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	struct stat st;
	char *md, *html;
	size_t len;

	str_format(out, sizeof(out), "%s/run", workdir);
	CU_ASSERT_FATAL(run_setup_scenario(workdir, "null-variants.yaml", scenario_text, path, sizeof(path),
					   &sc));
	CU_ASSERT_EQUAL_FATAL(sc.nvariants, 2);
	run_setup_options(&opt, out, workdir);
	CU_ASSERT_EQUAL(runner_run(list, 1, &opt), BISE_EXIT_OK);

	check_summary(out, "etcd-v3");
	check_summary(out, "etcd-v2");
	/* No result directory under the plain scenario name. */
	str_format(file, sizeof(file), "%s/null-variants", out);
	CU_ASSERT_NOT_EQUAL(stat(file, &st), 0);

	str_format(file, sizeof(file), "%s/null-variants.compare.md", out);
	md = file_read_all(file, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "## null-variants\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| | etcd-v3 | etcd-v2 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| trials | 1 | 1 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| SLO recovery_time < 5s | pass 1/1 | pass 1/1 |"));
	/* One scenario row, not one per variant. */
	CU_ASSERT_PTR_NULL(strstr(md, "null-variants@"));
	free(md);

	str_format(file, sizeof(file), "%s/null-variants.compare.html", out);
	html = file_read_all(file, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(html);
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<h2>null-variants</h2>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<th>etcd-v3<br>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<th>etcd-v2<br>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "class=\"pass\""));
	free(html);
	scenario_free(&sc);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("runner: cluster variants on the null driver", suite_init, suite_clean);

	CU_add_test(s, "two variants: two result directories and one comparison", test_two_variants);
}
