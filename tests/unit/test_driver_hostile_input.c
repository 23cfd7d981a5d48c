/*
 * test_driver_hostile_input.c - input others wrote, refused with a clear error instead of a crash
 * or a wrapped number: the regression inputs of tests/fuzz/regressions checked for the
 * error they must give (the replay tests only prove they no longer crash).
 */
#include "compare.h"
#include "journal.h"
#include "kubernetes/kubeconfig.h"
#include "kubernetes/yamljson.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char regress[4096], tmp[64];

static int suite_init(void)
{
	const char *src = getenv("BISE_SOURCE_DIR");

	log_set_level(LOG_QUIET);
	str_copy(tmp, sizeof(tmp), "/tmp/bise-test-hostile-input-XXXXXX");
	return src && str_format(regress, sizeof(regress), "%s/tests/fuzz/regressions", src) &&
			       mkdtemp(tmp) ?
		       0 :
		       1;
}

static int suite_clean(void)
{
	char cmd[200];

	str_format(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : 1;
}

/* Load a regression scenario; false with its errors in err. */
static bool load_scenario(const char *name, char *err, size_t errlen)
{
	char path[4200];
	struct scenario *sc = xcalloc(1, sizeof(*sc));
	bool ok;

	str_format(path, sizeof(path), "%s/scenario/%s", regress, name);
	ok = scenario_load(path, sc, err, errlen);
	if (ok)
		scenario_free(sc);
	free(sc);
	return ok;
}

static void test_scenario_bounds(void)
{
	char err[4096];
	int64_t t0;

	/* Each wrapped or overflowed before; now each names its line and column. */
	CU_ASSERT_FALSE(load_scenario("timing-sum-wraps.yaml", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "timing-sum-wraps.yaml:20:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 24h"));
	CU_ASSERT_FALSE(load_scenario("at-near-int64.yaml", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at-near-int64.yaml:29:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at-near-int64.yaml:34:"));
	CU_ASSERT_FALSE(load_scenario("rate-tiny.yaml", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "rate-tiny.yaml:25:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of range"));
	CU_ASSERT(load_scenario("no-errors-qsort.yaml", err, sizeof(err)));
	/* 40k levels: refused at the first level too deep, at once (it took seconds). */
	t0 = mono_now_us();
	CU_ASSERT_FALSE(load_scenario("deep-nesting.yaml", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nested deeper than"));
	CU_ASSERT(mono_now_us() - t0 < 1000000);
}

static json_object *yaml_of(const char *name)
{
	char path[4200];

	str_format(path, sizeof(path), "%s/yamljson/%s", regress, name);
	return yaml_file_to_json(path);
}

static void test_yaml_keys_and_depth(void)
{
	json_object *o = yaml_to_json("a: 1\nb: [x, y]\n", 15, "inline");
	int64_t t0 = mono_now_us();

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	json_object_put(o);
	CU_ASSERT_PTR_NULL(yaml_of("nonscalar-key.yaml"));
	CU_ASSERT_PTR_NULL(yaml_of("nonscalar-key-flow.yaml"));
	CU_ASSERT_PTR_NULL(yaml_of("deep-nesting.yaml"));
	CU_ASSERT(mono_now_us() - t0 < 1000000);
}

static void test_kubeconfig(void)
{
	char path[4200], shown[256];
	struct kubeconfig kc;
	time_t t;

	memset(&kc, 0, sizeof(kc));
	str_format(path, sizeof(path), "%s/kubeconfig/exec-args-null.kubeconfig", regress);
	CU_ASSERT_FALSE(kubeconfig_load(path, NULL, &kc));
	kubeconfig_free(&kc);
	memset(&kc, 0, sizeof(kc));
	str_format(path, sizeof(path), "%s/kubeconfig/file-server.kubeconfig", regress);
	CU_ASSERT_FALSE(kubeconfig_load(path, NULL, &kc));
	kubeconfig_free(&kc);
	CU_ASSERT_FALSE(k8s_time_parse("2026-01-01T00:00:00+1:2", &t, NULL));
	CU_ASSERT_FALSE(k8s_time_parse("2026-01-01T00:00:00+01:0", &t, NULL));
	CU_ASSERT(k8s_time_parse("2026-01-01T01:00:00+01:00", &t, NULL));
	CU_ASSERT_EQUAL(t, 1767225600);
	kubeconfig_redact_url("https://admin:s3cr@t@api.example:6443/x", shown, sizeof(shown));
	CU_ASSERT_STRING_EQUAL(shown, "https://***@api.example:6443/x");
	kubeconfig_redact_url("https://api.example:6443/a@b", shown, sizeof(shown));
	CU_ASSERT_STRING_EQUAL(shown, "https://api.example:6443/a@b");
}

static void test_journal_nulls(void)
{
	char path[4200];
	struct journal_contents *jc = xcalloc(1, sizeof(*jc));

	str_format(path, sizeof(path), "%s/journal/zones-null.jsonl", regress);
	CU_ASSERT_FALSE(journal_load(path, jc));
	str_format(path, sizeof(path), "%s/journal/option-null.jsonl", regress);
	CU_ASSERT_FALSE(journal_load(path, jc));
	free(jc);
}

/* A summary.json whose verdicts is not an array: compared without its verdicts. */
static void test_compare_malformed_verdicts(void)
{
	static const char summary[] =
		"{\"scenario\":{\"name\":\"s\"},\"overall\":\"pass\",\"trials\":[{\"verdicts\":{\"a\":1}},"
		"{\"verdicts\":[{\"slo\":null,\"threshold\":\"< 1s\",\"verdict\":\"pass\"}]}]}";
	char dir[200], path[300];
	char *dirs[1];
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));

	str_format(dir, sizeof(dir), "%s/run", tmp);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	str_format(path, sizeof(path), "%s/s", dir);
	CU_ASSERT_FATAL(mkdir_p(path, 0755));
	str_format(path, sizeof(path), "%s/s/summary.json", dir);
	CU_ASSERT_FATAL(file_write_atomic(path, summary, strlen(summary)));
	dirs[0] = dir;
	CU_ASSERT(compare_load(dirs, 1, cmp));
	CU_ASSERT_EQUAL(cmp->nscenarios, 1);
	CU_ASSERT_EQUAL(cmp->cells[0][0].nslos, 0);
	free(cmp);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("hostile_input", suite_init, suite_clean);

	CU_add_test(s, "scenario bounds", test_scenario_bounds);
	CU_add_test(s, "YAML keys and depth", test_yaml_keys_and_depth);
	CU_add_test(s, "kubeconfig", test_kubeconfig);
	CU_add_test(s, "journal with nulls", test_journal_nulls);
	CU_add_test(s, "compare on malformed verdicts", test_compare_malformed_verdicts);
}
