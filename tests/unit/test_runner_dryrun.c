/*
 * test_runner_dryrun.c - `bise run --dry-run` on the kubernetes backend: a pod-kill and a
 * partition scenario printed as the API calls a run would make, in order, at the planned
 * offsets, with placeholder members; the fake API server behind the kubeconfig receives
 * no request at all. The printed NetworkPolicy passes the core API's schema.
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"
#include "k8s_test_common.h"

#include "dryrun.h"
#include "kubernetes/k8s_driver.h"
#include "scenario.h"

#include <CUnit/CUnit.h>

#define NETPOL "/apis/networking.k8s.io/v1/namespaces/chaos/networkpolicies"

static const char scenario_text[] =
	"name: dry-pod-kill-partition\n"
	"cluster:\n"
	"  name: dry\n"
	"steps:\n"
	"  - at: 5s\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - at: 10s\n"
	"    fault: network-partition\n"
	"    target: lucerne\n"
	"    between: [[target], [client, geneva, gland]]\n"
	"    duration: 20s\n"
	"  - wait: healthy\n"
	"    timeout: 60s\n"
	"slo:\n"
	"  data_loss: \"== 0\"\n";

/* Offset of needle in text at or after from; -1 when absent. */
static long find_from(const char *text, const char *needle, long from)
{
	const char *p = from >= 0 ? strstr(text + from, needle) : NULL;

	return p ? (long)(p - text) : -1;
}

static void test_dry_run_plan(void)
{
	struct fake_server s;
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options o;
	char path[] = "/tmp/bise-dryrun-XXXXXX", out_path[] = "/tmp/bise-dryrun-out-XXXXXX";
	char errbuf[4096], *text;
	struct k8s_options ko = { .ns = "chaos", .dry_run = true, .poll_us = 1000 };
	int fd = mkstemp(path), ofd = mkstemp(out_path);
	long a, b, c, d, e, f;
	FILE *out;

	CU_ASSERT_FATAL(fd >= 0 && ofd >= 0);
	CU_ASSERT_FATAL(write(fd, scenario_text, strlen(scenario_text)) == (ssize_t)strlen(scenario_text));
	close(fd);
	memset(&sc, 0, sizeof(sc));
	CU_ASSERT_FATAL(scenario_load(path, &sc, errbuf, sizeof(errbuf)));
	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	CU_ASSERT_FATAL(k8s_test_configure(&s, &ko));
	run_options_defaults(&o);
	o.backend = "kubernetes";
	o.driver_opts = k8s_test_opts(driver_find("kubernetes"));
	o.state_root = k8s_test_certdir;
	out = fdopen(ofd, "w+");
	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_EQUAL(dryrun_run(list, 1, &o, out), BISE_EXIT_OK);
	fclose(out);
	text = file_read_all(out_path, NULL);
	CU_ASSERT_FATAL(text != NULL);

	/* Nothing reached the API server. */
	CU_ASSERT_EQUAL(s.nrequests, 0);
	CU_ASSERT(strstr(text, "members are placeholders derived from the spec's zones") != NULL);
	CU_ASSERT(strstr(text, "dry-geneva in geneva (primary)") != NULL);
	/* up, then the steps at their offsets, then down. */
	a = find_from(text, "POST /apis/postgresql.cnpg.io/v1/namespaces/chaos/clusters\n", 0);
	b = find_from(text, "# +5.000s step 1: pod-kill on dry-geneva (target primary): apply", a);
	c = find_from(text, "DELETE /api/v1/namespaces/chaos/pods/dry-geneva\n", b);
	d = find_from(text, "# +10.000s step 2: network-partition on dry-lucerne (target lucerne): apply", c);
	e = find_from(text, "POST " NETPOL "\n", d);
	f = find_from(text, "# +30.000s step 2: network-partition on dry-lucerne: revert", e);
	CU_ASSERT(a >= 0 && b > a && c > b && d > c && e > d && f > e);
	CU_ASSERT(find_from(text, "DELETE " NETPOL "?labelSelector=bise.io%2Ffault%3Dbise-", f) > f);
	CU_ASSERT(find_from(text, "# down: cluster dry", f) > f);
	CU_ASSERT(find_from(text, "DELETE /apis/postgresql.cnpg.io/v1/namespaces/chaos/clusters/dry", f) > f);
	/* The pod is killed at once, as a node failure would. */
	CU_ASSERT(find_from(text, "\"gracePeriodSeconds\":0", c) > c);
	/* The policy printed is one the API server accepts. */
	if (e > 0) {
		json_object *np = json_tokener_parse(strchr(text + e, '\n') + 1), *swagger, *defs, *schema = NULL;

		swagger = schema_load("core/k8s-v1.14-core-subset.swagger.json");
		CU_ASSERT_FATAL(np != NULL && swagger != NULL);
		CU_ASSERT_FATAL(json_object_object_get_ex(swagger, "definitions", &defs) &&
				json_object_object_get_ex(defs, "io.k8s.api.networking.v1.NetworkPolicy", &schema));
		schema_root = swagger;
		CU_ASSERT_EQUAL(schema_check(schema, np, "dry-run networkpolicy"), 0);
		json_object_put(np);
		json_object_put(swagger);
	}
	free(text);
	unlink(out_path);
	unlink(path);
	scenario_free(&sc);
	fake_server_stop(&s);
}

static void test_dry_run_refused_elsewhere(void)
{
	struct run_options o;

	(void)schema_of_crd; /* k8s_schema.c's CRD helper: no CRD object is planned here */
	run_options_defaults(&o);
	o.backend = "no-such-backend";
	CU_ASSERT_EQUAL(dryrun_run(NULL, 0, &o, stdout), BISE_EXIT_USAGE);
	/* The kubernetes backend not in dry-run mode: the plan would send its calls, refused. */
	{
		struct k8s_options ko = { .ns = "chaos" };

		k8s_test_options(&ko, NULL);
		o.backend = "kubernetes";
		o.driver_opts = k8s_test_opts(driver_find("kubernetes"));
		CU_ASSERT_EQUAL(dryrun_run(NULL, 0, &o, stdout), BISE_EXIT_USAGE);
	}
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("runner_dryrun", k8s_test_suite_init, k8s_test_suite_clean);

	CU_add_test(s, "pod-kill and partition planned, nothing sent", test_dry_run_plan);
	CU_add_test(s, "unknown backend, or calls that would be sent: refused", test_dry_run_refused_elsewhere);
}
