/*
 * test_driver_k8s_kind.c - the kind backend where no Docker engine and no kind can run:
 * preflight names what is missing; the kind config is found next to the sources; a dry
 * run of up, zone-outage and down prints the commands (argv, no shell) and API calls in
 * order and touches nothing; on a cluster adopted from a kubeconfig (the fake API server),
 * a zone's node containers are found from the node labels and recorded as stopped before
 * `docker stop` runs, so heal can start them; down leaves a kind cluster bise did not create.
 */
#include "k8s_fake_server.c"
#include "k8s_test_common.h"

#include "kubernetes/k8s_driver.h"
#include "kubernetes/kind.h"

#include <CUnit/CUnit.h>
#include <sys/stat.h>

#define FIXTURE "tests/unit/data/k8s/cnpg-release-mini.yaml"
#define NODES "/api/v1/nodes"

static const char nodes_geneva[] =
	"{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"4242\"},\"items\":["
	"{\"metadata\":{\"name\":\"bise-kt-worker\",\"labels\":{\"kubernetes.io/hostname\":\"bise-kt-worker\","
	"\"topology.kubernetes.io/zone\":\"geneva\"}},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"}}]}";

static const struct driver_ops *ops;

static int suite_init(void)
{
	ops = driver_find("kind");
	return ops ? k8s_test_suite_init() : 1;
}

static void test_preflight(void)
{
	struct cluster_spec spec;
	struct kind_options ko = { 0 };
	struct k8s_options k = { 0 };
	char why[1024] = "", *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char found[1024];

	CU_ASSERT_EQUAL(ops->caps & DRIVER_CAP_ZONE_OUTAGE, DRIVER_CAP_ZONE_OUTAGE);
	k8s_test_spec(&spec, "kt");
	k8s_test_options(&k, NULL);
	k8s_test_options(NULL, &ko);
	/* Nothing on PATH: both pieces named in one line. */
	setenv("PATH", "/nonexistent-bise", 1);
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT(strstr(why, "the kind backend needs the kind binary on PATH") != NULL);
	CU_ASSERT(strstr(why, "the docker client on PATH and a reachable Docker engine") != NULL);
	setenv("PATH", path, 1);
	/* This machine's docker is a client without an engine: `docker info` fails and says so. */
	if (system("command -v docker >/dev/null && ! command -v kind >/dev/null && "
		   "! docker info >/dev/null 2>&1") == 0) {
		CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
		CU_ASSERT(strstr(why, "the kind binary on PATH") != NULL);
		CU_ASSERT(strstr(why, "a reachable Docker engine (`docker info` failed") != NULL);
	}
	free(path);
	ko.operator_version = "1.30";
	k8s_test_options(NULL, &ko);
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT(strstr(why, "not X.Y.Z") != NULL);
	ko.operator_version = "1.30.0";
	ko.operator_name = "zalando";
	k8s_test_options(NULL, &ko);
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT(strstr(why, "--operator-manifest") != NULL);
	ko.operator_name = NULL;
	ko.operator_manifest = "x.yaml";
	k8s_test_options(NULL, &ko);
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT(strstr(why, "exclude each other") != NULL);
	/* The config next to the sources (the test runs from a build directory in the tree). */
	memset(&ko, 0, sizeof(ko));
	k8s_test_options(NULL, &ko);
	CU_ASSERT(kind_config_path(driver_option(k8s_test_opts(ops), "kind-config"), found, sizeof(found)));
	CU_ASSERT(found[0] == '/' && strstr(found, "/kind-config/kind-3zones.yaml") != NULL &&
		  strstr(found, "..") == NULL);
	ko.config = "/nonexistent/kind.yaml";
	k8s_test_options(NULL, &ko);
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT(strstr(why, "no kind config: /nonexistent/kind.yaml") != NULL);
}

/* Run fn with stdout into a file; returns what it printed. */
static char *capture_stdout(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/bise-kind-out-XXXXXX";
	int fd = mkstemp(path), saved;
	char *text;

	if (fd < 0)
		return xstrdup("");
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	close(fd);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	text = file_read_all(path, NULL);
	unlink(path);
	return text ? text : xstrdup("");
}

struct dry {
	struct driver *d;
	bool up, stop, start, down;
};

static void dry_steps(void *arg)
{
	struct dry *x = arg;
	double seconds;

	x->up = ops->up(x->d, &seconds);
	ops->flush_calls(x->d, stdout);
	x->stop = ops->zone_stop(x->d, "geneva");
	ops->flush_calls(x->d, stdout);
	x->start = ops->zone_start(x->d, "geneva");
	ops->flush_calls(x->d, stdout);
	x->down = ops->down(x->d);
	ops->flush_calls(x->d, stdout);
}

static long at(const char *text, const char *needle, long from)
{
	const char *p = from >= 0 ? strstr(text + from, needle) : NULL;

	return p ? (long)(p - text) : -1;
}

static void test_dry_run(void)
{
	struct cluster_spec spec;
	struct k8s_options k = { .dry_run = true, .poll_us = 1000 };
	struct kind_options ko = { 0 };
	char manifest[1024], state[1100], want[1400];
	struct dry x = { 0 };
	struct stat st;
	char *out;
	long p;

	str_format(manifest, sizeof(manifest), "%s/" FIXTURE, source_dir());
	str_format(state, sizeof(state), "%s/state", k8s_test_certdir);
	ko.operator_manifest = manifest;
	k8s_test_options(&k, NULL);
	k8s_test_options(NULL, &ko);
	k8s_test_spec(&spec, "kt");
	x.d = ops->open(&spec, state, k8s_test_opts(ops));
	CU_ASSERT_FATAL(x.d != NULL);
	CU_ASSERT_FALSE(ops->exists(x.d));
	out = capture_stdout(dry_steps, &x);
	CU_ASSERT(x.up && x.stop && x.start && x.down);
	p = at(out, "EXEC kind get clusters\n", 0);
	p = at(out, "EXEC kind create cluster --name bise-kt --config /", p);
	p = at(out, "/kind-config/kind-3zones.yaml --wait 120s\n", p);
	str_format(want, sizeof(want), "EXEC kind get kubeconfig --name bise-kt > %s/kind/kt/kubeconfig\n", state);
	p = at(out, want, p);
	p = at(out, "PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/scheduledbackups."
		    "postgresql.cnpg.io?fieldManager=bise&force=true\n", p);
	p = at(out, "PATCH /apis/apps/v1/namespaces/cnpg-system/deployments/cnpg-controller-manager?", p);
	/* The namespace is bise's own, created labelled. */
	p = at(out, "POST /api/v1/namespaces\n{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
		    "{\"name\":\"bise\"", p);
	p = at(out, "POST /apis/postgresql.cnpg.io/v1/namespaces/bise/clusters\n", p);
	p = at(out, "GET /api/v1/nodes?labelSelector=topology.kubernetes.io%2Fzone%3Dgeneva\n", p);
	p = at(out, "EXEC docker stop --time 0 <nodes of geneva>\n", p);
	p = at(out, "EXEC docker start <nodes of geneva>\n", p);
	p = at(out, "DELETE /apis/postgresql.cnpg.io/v1/namespaces/bise/clusters/kt", p);
	p = at(out, "EXEC kind delete cluster --name bise-kt\n", p);
	CU_ASSERT(p > 0);
	if (p <= 0)
		fprintf(stderr, "\n%s\n", out);
	/* A dry run leaves nothing behind. */
	CU_ASSERT(stat(state, &st) != 0);
	free(out);
	ops->close(x.d);
}

/* A kind cluster bise did not create, reached through its kubeconfig (the fake server). */
static void test_zone_outage_recorded(void)
{
	struct fake_server s;
	struct cluster_spec spec;
	struct k8s_options k = { .poll_us = 1000 };
	struct kind_options ko = { 0 };
	char dir[1100], kc[512], state_file[1200], cmd[2400], *text;
	struct driver *d;

	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	CU_ASSERT_FATAL(fake_kubeconfig(k8s_test_certdir, "token.kubeconfig", s.url, NULL, kc, sizeof(kc)));
	str_format(dir, sizeof(dir), "%s/adopted/kind/kt", k8s_test_certdir);
	CU_ASSERT_FATAL(mkdir_p(dir, 0700));
	/* The kubeconfig names its CA relative to its own directory: bring the files along. */
	str_format(cmd, sizeof(cmd), "find %s -maxdepth 1 -type f -exec cp {} %s/ \\; && cp %s %s/kubeconfig",
		   k8s_test_certdir, dir, kc, dir);
	CU_ASSERT_FATAL(system(cmd) == 0);
	fake_route_add(&s, "GET", NODES, -1, 200, nodes_geneva);
	k8s_test_options(&k, NULL);
	k8s_test_options(NULL, &ko);
	k8s_test_spec(&spec, "kt");
	str_format(dir, sizeof(dir), "%s/adopted", k8s_test_certdir);
	log_set_level(LOG_ERROR);
	d = ops->open(&spec, dir, k8s_test_opts(ops));
	log_set_level(LOG_QUIET);
	CU_ASSERT_FATAL(d != NULL);
	/* No engine here: docker stop fails, but the zone was recorded first. */
	fake_capture_start();
	CU_ASSERT_FALSE(ops->zone_stop(d, "geneva"));
	free(fake_capture_end());
	CU_ASSERT_EQUAL(fake_count(&s, "GET", NODES), 1);
	str_format(state_file, sizeof(state_file), "%s/kind/kt/state.json", dir);
	text = file_read_all(state_file, NULL);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT(strstr(text, "\"geneva\"") && strstr(text, "\"bise-kt-worker\""));
	CU_ASSERT(strstr(text, "created_kind_cluster") == NULL);
	free(text);
	/* Heal's sweep starts what is recorded (and keeps the record while it cannot). */
	fake_capture_start();
	CU_ASSERT_FALSE(ops->sweep(d));
	free(fake_capture_end());
	text = file_read_all(state_file, NULL);
	CU_ASSERT(text && strstr(text, "\"bise-kt-worker\""));
	free(text);
	ops->close(d);
	/* Without its kubeconfig (nothing to ask the API), heal still starts what is recorded. */
	str_format(cmd, sizeof(cmd), "%s/kind/kt/kubeconfig", dir);
	CU_ASSERT_FATAL(unlink(cmd) == 0);
	d = ops->open(&spec, dir, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(ops->sweep(d));
	log_set_level(LOG_QUIET);
	text = fake_capture_end();
	CU_ASSERT(text && strstr(text, "docker start") && !strstr(text, "is not up"));
	free(text);
	ops->close(d);
	fake_server_stop(&s);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_kind", suite_init, k8s_test_suite_clean);

	CU_add_test(s, "preflight names what is missing", test_preflight);
	CU_add_test(s, "dry run: up, zone-outage, down", test_dry_run);
	CU_add_test(s, "zone-outage recorded before docker stop", test_zone_outage_recorded);
}
