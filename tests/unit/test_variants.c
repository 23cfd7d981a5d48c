/*
 * test_variants.c - a scenario's cluster variants: parsed from the file with the cluster
 * section's checks, errors at line:column, replaced from the command line, expanded into
 * runs named <scenario>@<variant> on clusters <cluster>-<variant>, and their summaries
 * folded into one comparison with a column per variant.
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "scenario.h"
#include "util.h"
#include "variants.h"

void tests_register(void);

#define SEC INT64_C(1000000)

static char errbuf[16384];
static char workdir[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	str_copy(workdir, sizeof(workdir), "/tmp/bise-test-variants-XXXXXX");
	log_set_level(LOG_ERROR);
	return mkdtemp(workdir) ? 0 : 1;
}

static int suite_clean(void)
{
	return nftw(workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void scenario_path(const char *rel, char *buf, size_t len)
{
	const char *top = getenv("BISE_SOURCE_DIR");

	str_format(buf, len, "%s/tests/scenarios/%s", top ? top : "..", rel);
}

static bool load(const char *rel, struct scenario *sc)
{
	char path[1024];

	scenario_path(rel, path, sizeof(path));
	return scenario_load(path, sc, errbuf, sizeof(errbuf));
}

static void test_parse_good(void)
{
	struct scenario sc;

	CU_ASSERT_TRUE_FATAL(load("good/variants.yaml", &sc));
	CU_ASSERT_EQUAL_FATAL(sc.nvariants, 3);
	CU_ASSERT_STRING_EQUAL(sc.variants[0].name, "etcd-v3");
	CU_ASSERT_STRING_EQUAL(sc.variants[1].name, "etcd-v2");
	CU_ASSERT_STRING_EQUAL(sc.variants[2].name, "slow-ttl");
	/* No overrides: the base cluster as it is. */
	CU_ASSERT_EQUAL(memcmp(&sc.variants[0].cluster, &sc.cluster, sizeof(sc.cluster)), 0);
	CU_ASSERT_EQUAL(sc.variants[1].cluster.dcs_api, DCS_ETCD_V2);
	CU_ASSERT_EQUAL(sc.variants[1].cluster.replication, REPLICATION_SYNC);
	CU_ASSERT_EQUAL(sc.variants[1].cluster.ttl_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.variants[2].cluster.ttl_us, 30 * SEC);
	CU_ASSERT_EQUAL(sc.variants[2].cluster.retry_timeout_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.variants[2].cluster.dcs_api, DCS_ETCD_V3);
	CU_ASSERT_STRING_EQUAL(sc.variants[2].cluster.name, "longclustername");
	CU_ASSERT_EQUAL(sc.variants[2].cluster.nzones, 3);
	/* The base is untouched by its variants. */
	CU_ASSERT_EQUAL(sc.cluster.dcs_api, DCS_ETCD_V3);
	CU_ASSERT_EQUAL(sc.cluster.ttl_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.variants[1].pos.line, 7);
	scenario_free(&sc);
}

static const struct {
	const char *file;
	int line, col;
	const char *words;
} bad[] = {
	{ "variant-zones", 4, 15, "a variant may not override cluster.zones" },
	{ "variant-unknown-key", 5, 7, "unknown key \"replicaton\" in a variant's cluster (hint: did you mean \"replication\"?" },
	{ "variant-bad-name", 3, 11, "variant name \"Etcd_V2\" is not valid" },
	{ "variant-duplicate", 5, 11, "variant \"v2\" is given twice (hint: first given at line 3, column 5)" },
	{ "variant-timing", 6, 20, "loop_wait + 2*retry_timeout must be <= ttl" },
	{ "variant-missing-name", 3, 5, "a variant needs a name" },
	{ "variants-not-sequence", 3, 3, "variants must be a sequence, not a mapping" },
	{ "variant-bad-value", 4, 28, "cluster.replication: unknown value \"semi\"" },
};

static void test_parse_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scenario sc;
		char rel[128], path[1024], prefix[1200];

		str_format(rel, sizeof(rel), "bad/%s.yaml", bad[i].file);
		scenario_path(rel, path, sizeof(path));
		CU_ASSERT_FALSE(scenario_load(path, &sc, errbuf, sizeof(errbuf)));
		str_format(prefix, sizeof(prefix), "%s:%d:%d: error: ", path, bad[i].line, bad[i].col);
		if (strncmp(errbuf, prefix, strlen(prefix)) != 0 || !strstr(errbuf, bad[i].words)) {
			fprintf(stderr, "\nexpected %s%s, got:\n%s", prefix, bad[i].words, errbuf);
			CU_FAIL("wrong error");
		}
		CU_ASSERT_EQUAL(sc.nvariants, 0);
		scenario_free(&sc);
	}
}

static void test_command_line(void)
{
	struct scenario sc;
	char *good[] = { "sync=replication=synchronous", "v2=dcs_api=v2,ttl=20s", "base" };
	char *unknown[] = { "sync=replicaton=synchronous" };
	char *zones[] = { "z=zones=geneva" };
	char *twice[] = { "a=ttl=20s", "a=ttl=30s" };
	char *no_value[] = { "x=ttl" };
	char *timing[] = { "x=ttl=5s" };
	struct scenario_variant v;

	CU_ASSERT_TRUE_FATAL(load("good/variants.yaml", &sc));
	CU_ASSERT_TRUE_FATAL(variants_from_args(&sc, good, 3));
	CU_ASSERT_EQUAL_FATAL(sc.nvariants, 3);
	CU_ASSERT_STRING_EQUAL(sc.variants[0].name, "sync");
	CU_ASSERT_EQUAL(sc.variants[0].cluster.replication, REPLICATION_SYNC);
	CU_ASSERT_EQUAL(sc.variants[0].cluster.dcs_api, DCS_ETCD_V3);
	CU_ASSERT_STRING_EQUAL(sc.variants[1].name, "v2");
	CU_ASSERT_EQUAL(sc.variants[1].cluster.dcs_api, DCS_ETCD_V2);
	CU_ASSERT_EQUAL(sc.variants[1].cluster.ttl_us, 20 * SEC);
	CU_ASSERT_EQUAL(memcmp(&sc.variants[2].cluster, &sc.cluster, sizeof(sc.cluster)), 0);
	/* Refused: the scenario's variants stay as they were. */
	CU_ASSERT_FALSE(variants_from_args(&sc, unknown, 1));
	CU_ASSERT_FALSE(variants_from_args(&sc, zones, 1));
	CU_ASSERT_FALSE(variants_from_args(&sc, twice, 2));
	CU_ASSERT_FALSE(variants_from_args(&sc, no_value, 1));
	CU_ASSERT_FALSE(variants_from_args(&sc, timing, 1));
	CU_ASSERT_EQUAL(sc.nvariants, 3);
	CU_ASSERT_STRING_EQUAL(sc.variants[0].name, "sync");
	/* The error names the bad key. */
	CU_ASSERT_FALSE(scenario_variant_parse(&sc.cluster, "sync", "replicaton=synchronous", &v, errbuf,
					       sizeof(errbuf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "--variant sync"));
	CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "unknown key \"replicaton\""));
	CU_ASSERT_FALSE(scenario_variant_parse(&sc.cluster, "Bad!", "ttl=20s", &v, errbuf, sizeof(errbuf)));
	CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "\"Bad!\" is not valid"));
	scenario_free(&sc);
}

static void test_cluster_name(void)
{
	char name[SCENARIO_NAME_LEN];

	variant_cluster_name("bise", "etcd-v2", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "bise-etcd-v2");
	/* Too long: the cluster part is cut, the variant part stays whole. */
	variant_cluster_name("longclustername", "slow-ttl", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "longcluster-slow-ttl");
	CU_ASSERT(strlen(name) <= VARIANT_CLUSTER_NAME_MAX);
	variant_cluster_name("abcdefghijklmnopqrst", "etcd-v3", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "abcdefghijkl-etcd-v3");
	CU_ASSERT_EQUAL(strlen(name), VARIANT_CLUSTER_NAME_MAX);
}

static void test_expand(void)
{
	struct scenario base, plain, *list[2] = { &base, &plain };
	struct variant_run *runs;
	int n;

	CU_ASSERT_TRUE_FATAL(load("good/variants.yaml", &base));
	CU_ASSERT_TRUE_FATAL(load("good/minimal.yaml", &plain));
	n = variants_expand(list, 2, &runs);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(runs[0].sc->name, "variants@etcd-v3");
	CU_ASSERT_STRING_EQUAL(runs[1].sc->name, "variants@etcd-v2");
	CU_ASSERT_STRING_EQUAL(runs[2].sc->name, "variants@slow-ttl");
	CU_ASSERT_STRING_EQUAL(runs[0].sc->cluster.name, "longclustern-etcd-v3");
	CU_ASSERT_STRING_EQUAL(runs[1].sc->cluster.name, "longclustern-etcd-v2");
	CU_ASSERT_STRING_EQUAL(runs[2].sc->cluster.name, "longcluster-slow-ttl");
	CU_ASSERT_EQUAL(runs[1].sc->cluster.dcs_api, DCS_ETCD_V2);
	CU_ASSERT_EQUAL(runs[1].sc->cluster.replication, REPLICATION_SYNC);
	CU_ASSERT_EQUAL(runs[2].sc->cluster.ttl_us, 30 * SEC);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_PTR_EQUAL(runs[i].base, &base);
		CU_ASSERT_EQUAL(runs[i].variant, i);
		CU_ASSERT_EQUAL(runs[i].sc->nvariants, 0);
		/* A copy of its own: steps and text do not alias the base's. */
		CU_ASSERT_EQUAL_FATAL(runs[i].sc->nsteps, base.nsteps);
		CU_ASSERT_PTR_NOT_EQUAL(runs[i].sc->steps, base.steps);
		CU_ASSERT_EQUAL(memcmp(runs[i].sc->steps, base.steps, sizeof(*base.steps) * (size_t)base.nsteps), 0);
		CU_ASSERT_STRING_EQUAL(runs[i].sc->text, base.text);
	}
	/* A scenario without variants runs as it is. */
	CU_ASSERT_PTR_EQUAL(runs[3].sc, &plain);
	CU_ASSERT_EQUAL(runs[3].variant, -1);
	CU_ASSERT_STRING_EQUAL(runs[3].sc->cluster.name, "bise");
	variants_free(runs, n);
	scenario_free(&base);
	scenario_free(&plain);
}

static bool write_summary(const char *scenario, double failover_s, int lost, const char *verdict)
{
	char dir[512], path[600];
	FILE *f;

	if (!str_format(dir, sizeof(dir), "%s/run/%s", workdir, scenario) || !mkdir_p(dir, 0755) ||
	    !str_format(path, sizeof(path), "%s/summary.json", dir) || !(f = fopen(path, "w")))
		return false;
	fprintf(f, "{\"scenario\": {\"name\": \"%s\"}, \"versions\": \"patroni 3.0.2\", \"overall\": \"%s\","
		" \"trials\": [{\"metrics\": {\"failover\": {\"failover_time_s\": %.2f},"
		" \"data_loss\": {\"lost\": %d}}, \"verdicts\": [{\"slo\": \"data_loss\","
		" \"threshold\": \"== 0\", \"verdict\": \"%s\"}]}]}\n",
		scenario, verdict, failover_s, lost, verdict);
	return fclose(f) == 0;
}

static void test_comparison(void)
{
	struct scenario sc;
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	char run[512];

	CU_ASSERT_TRUE_FATAL(load("good/variants.yaml", &sc));
	str_format(run, sizeof(run), "%s/run", workdir);
	/* Nothing run yet: nothing to compare. */
	CU_ASSERT_FALSE(variants_comparison(&sc, run, cmp));
	CU_ASSERT_FATAL(write_summary("variants@etcd-v3", 12.5, 37, "fail"));
	CU_ASSERT_FATAL(write_summary("variants@etcd-v2", 11.0, 0, "pass"));
	/* slow-ttl did not run (interrupted): two columns. */
	CU_ASSERT_TRUE_FATAL(variants_comparison(&sc, run, cmp));
	CU_ASSERT_EQUAL(cmp->nscenarios, 1);
	CU_ASSERT_STRING_EQUAL(cmp->scenarios[0], "variants");
	CU_ASSERT_EQUAL_FATAL(cmp->ncolumns, 2);
	CU_ASSERT_STRING_EQUAL(cmp->columns[0], "etcd-v3");
	CU_ASSERT_STRING_EQUAL(cmp->columns[1], "etcd-v2");
	CU_ASSERT(cmp->cells[0][0].present && cmp->cells[0][1].present);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][0].lost.max, 37, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][1].lost.max, 0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(cmp->cells[0][0].failover_s.p50, 12.5, 1e-9);
	CU_ASSERT_EQUAL(cmp->cells[0][0].slos[0].fail, 1);
	CU_ASSERT_EQUAL(cmp->cells[0][1].slos[0].pass, 1);
	CU_ASSERT_STRING_EQUAL(cmp->cells[0][0].overall, "fail");
	free(cmp);
	scenario_free(&sc);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("cluster variants", suite_init, suite_clean);

	CU_add_test(s, "variants parsed with the cluster section's checks", test_parse_good);
	CU_add_test(s, "bad variants reported at line:column", test_parse_bad);
	CU_add_test(s, "--variant replaces the scenario's variants; bad keys named", test_command_line);
	CU_add_test(s, "variant cluster names fit and differ", test_cluster_name);
	CU_add_test(s, "expansion: names, cluster names, specs, deep copies", test_expand);
	CU_add_test(s, "variant summaries folded into one comparison", test_comparison);
}
