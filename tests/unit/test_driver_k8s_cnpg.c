/*
 * test_driver_k8s_cnpg.c - the CloudNativePG adapter: the Cluster it builds passes the
 * real CRD's openAPIV3Schema (a small validator of types, required, properties,
 * additionalProperties, x-kubernetes-preserve-unknown-fields, int-or-string, enums, items,
 * minimum), the validator itself catches bad objects, and against the fake API server:
 * create, wait ready on the recorded status, members with roles (new and old labels) and
 * zones from nodes, the primary and since when, delete. Then the kubernetes driver_ops:
 * preflight, the namespace safety rule, pod-kill as a DELETE with gracePeriodSeconds 0,
 * members, wait_healthy, versions, up/down, dry-run.
 */
#include "k8s_fake_server.c"

#include "kubernetes/cnpg.h"
#include "k8s_test_common.h"
#include "kubernetes/k8s_driver.h"
#include "kubernetes/yamljson.h"

#include <CUnit/CUnit.h>


static json_object *crd_schema;
static char certdir[64];

/* The structural-schema validator shared with the other adapters' tests. */
#include "k8s_schema.c"

static json_object *crd;

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	char *path = reference_path("cnpg/postgresql.cnpg.io_clusters.yaml");

	crd = yaml_file_to_json(path);
	free(path);
	crd_schema = crd ? schema_of_crd(crd, "v1") : NULL;
	return crd_schema && fake_certs(certdir, sizeof(certdir)) ? 0 : 1;
}

static int suite_clean(void)
{
	json_object_put(crd);
	fake_rm_rf(certdir);
	return 0;
}

static struct cluster_spec test_spec(const char *name)
{
	struct cluster_spec s;

	cluster_spec_defaults(&s);
	str_copy(s.name, sizeof(s.name), name);
	return s;
}

static void test_object_valid(void)
{
	struct cluster_spec spec = test_spec("bise");
	json_object *o = cnpg_cluster_object(&spec, "chaos", "ghcr.io/cloudnative-pg/postgresql:15.8"), *v;
	char errs[4096] = "", *path;

	CU_ASSERT_EQUAL(schema_validate(crd_schema, o, "", errs, sizeof(errs)), 0);
	if (errs[0])
		fprintf(stderr, "\n%s", errs);
	CU_ASSERT(json_pointer_get(o, "/spec/instances", &v) == 0 && json_object_get_int(v) == 3);
	CU_ASSERT(json_pointer_get(o, "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"
				      "/nodeSelectorTerms/0/matchExpressions/0/values/2", &v) == 0 &&
		  strcmp(json_object_get_string(v), "gland") == 0);
	CU_ASSERT(json_pointer_get(o, "/spec/topologySpreadConstraints/0/topologyKey", &v) == 0 &&
		  strcmp(json_object_get_string(v), "topology.kubernetes.io/zone") == 0);
	json_object_put(o);

	spec.replication = REPLICATION_SYNC;
	o = cnpg_cluster_object(&spec, "chaos", NULL);
	CU_ASSERT_EQUAL(schema_validate(crd_schema, o, "", errs, sizeof(errs)), 0);
	CU_ASSERT(json_pointer_get(o, "/spec/minSyncReplicas", &v) == 0 && json_object_get_int(v) == 1);
	json_object_put(o);
	/* The CRD's own sample passes as well. */
	path = reference_path("cnpg/cluster-example.yaml");
	o = yaml_file_to_json(path);
	free(path);
	CU_ASSERT_EQUAL(schema_validate(crd_schema, o, "", errs, sizeof(errs)), 0);
	json_object_put(o);
}

static void test_validator_catches(void)
{
	static const char *const bad[][2] = {
		{ "{\"apiVersion\":\"postgresql.cnpg.io/v1\",\"kind\":\"Cluster\",\"metadata\":{},\"spec\":{}}", ".spec.instances: required" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":\"3\"}}", ".spec.instances: wants type integer" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":0}}", ".spec.instances: below the minimum" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":3,\"instancez\":3}}", ".spec.instancez: unknown field" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":3,\"primaryUpdateStrategy\":\"sometimes\"}}", "not one of the enum" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":3,\"topologySpreadConstraints\":[{\"maxSkew\":1}]}}", "[0].topologyKey: required" },
		{ "{\"metadata\":{},\"spec\":{\"instances\":3,\"postgresql\":{\"parameters\":{\"max_connections\":100}}}}", "parameters.max_connections: wants type string" },
		{ "{\"spec\":{\"instances\":3}}", ".metadata: required" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *o = json_tokener_parse(bad[i][0]);
		char errs[4096] = "";

		CU_ASSERT(schema_validate(crd_schema, o, "", errs, sizeof(errs)) > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, bad[i][1]));
		if (!strstr(errs, bad[i][1]))
			fprintf(stderr, "\ncase %zu: %s", i, errs);
		json_object_put(o);
	}
}

/* ---- the adapter against the fake API server ---- */

#define NS "tenant-root"
#define CL_PATH "/apis/postgresql.cnpg.io/v1/namespaces/" NS "/clusters"
#define PODS "/api/v1/namespaces/" NS "/pods"

/* A pod of cluster-example on node, role in the new label (and the old one unless old_only). */
static char *pod_json(int i, const char *node, const char *role, bool old_only, bool ready)
{
	char *buf = xmalloc(2048);

	str_format(buf, 2048,
		   "{\"metadata\":{\"name\":\"cluster-example-%d\",\"namespace\":\"" NS "\",\"labels\":{"
		   "\"cnpg.io/cluster\":\"cluster-example\",\"cnpg.io/instanceName\":\"cluster-example-%d\","
		   "\"cnpg.io/podRole\":\"instance\"%s%s%s\"role\":\"%s\"}},"
		   "\"spec\":{\"nodeName\":\"%s\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.%d.5\","
		   "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		   i, i, old_only ? "," : ",\"cnpg.io/instanceRole\":\"", old_only ? "" : role,
		   old_only ? "" : "\",", role, node, i, ready ? "True" : "False");
	return buf;
}

static void add_node(struct fake_server *s, const char *node, const char *zone)
{
	char path[128], body[512];

	str_format(path, sizeof(path), "/api/v1/nodes/%s", node);
	str_format(body, sizeof(body), "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
		   "\"labels\":{\"kubernetes.io/hostname\":\"%s\",\"topology.kubernetes.io/zone\":\"%s\"}}}",
		   node, node, zone);
	fake_route_add(s, "GET", path, -1, 200, body);
}

/* Serve the cluster-example fixture; the first answers not ready yet. */
static void add_cluster_fixture(struct fake_server *s)
{
	char *path = reference_path("cnpg/cluster-with-status.kube-bind-docs.json");
	char *healthy = file_read_all(path, NULL);
	json_object *o = json_tokener_parse(healthy), *st, *early;

	st = json_object_object_get(o, "status");
	json_object_object_add(st, "readyInstances", json_object_new_int(2));
	json_object_object_add(st, "phase", json_object_new_string("Waiting for the instances to become active"));
	early = o;
	fake_route_add(s, "GET", CL_PATH "/cluster-example", 2, 200,
		       json_object_to_json_string_ext(early, JSON_C_TO_STRING_PLAIN));
	fake_route_add(s, "GET", CL_PATH "/cluster-example", -1, 200, healthy);
	json_object_put(o);
	free(healthy);
	free(path);
}

static void add_pods(struct fake_server *s)
{
	char *p1 = pod_json(1, "kind-worker", "primary", false, true);
	char *p2 = pod_json(2, "kind-worker2", "replica", false, true);
	char *p3 = pod_json(3, "kind-worker3", "replica", true, true);
	char body[8192];

	str_format(body, sizeof(body), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
		   "{\"resourceVersion\":\"5000\"},\"items\":[%s,%s,%s,"
		   "{\"metadata\":{\"name\":\"cluster-example-1-initdb-x\",\"labels\":{\"cnpg.io/cluster\":"
		   "\"cluster-example\",\"cnpg.io/jobRole\":\"initdb\"}},\"status\":{\"phase\":\"Succeeded\"}}]}",
		   p1, p2, p3);
	fake_route_add(s, "GET", PODS, -1, 200, body);
	add_node(s, "kind-worker", "geneva");
	add_node(s, "kind-worker2", "lucerne");
	add_node(s, "kind-worker3", "gland");
	free(p1);
	free(p2);
	free(p3);
}

static bool client_for(struct fake_server *s, struct k8s_client *c)
{
	char kc[512];

	return fake_server_start(s, false, certdir) &&
	       fake_kubeconfig(certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)) &&
	       k8s_client_init(c, kc, NULL, false);
}

static void test_adapter(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct cluster_spec spec = test_spec("cluster-example");
	struct cnpg_member m[8];
	struct cnpg_status st;
	json_object *obj, *sent;
	char why[256], errs[4096] = "";
	bool exists;
	time_t want;
	int n;

	CU_ASSERT_FATAL(client_for(&s, &c));
	fake_route_add(&s, "POST", CL_PATH, -1, 201, "{}");
	fake_route_add(&s, "DELETE", CL_PATH "/cluster-example", -1, 200,
		       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}");
	add_cluster_fixture(&s);
	add_pods(&s);

	obj = cnpg_cluster_object(&spec, NS, NULL);
	CU_ASSERT(cnpg_create(&c, NS, obj));
	json_object_put(obj);
	/* What reached the server is what the CRD accepts. */
	sent = json_tokener_parse(s.requests[0].body);
	CU_ASSERT_EQUAL(schema_validate(crd_schema, sent, "", errs, sizeof(errs)), 0);
	json_object_put(sent);

	CU_ASSERT(cnpg_wait_ready(&c, NS, "cluster-example", 5000000, 1000, why, sizeof(why)));
	CU_ASSERT_EQUAL(fake_count(&s, "GET", CL_PATH "/cluster-example"), 3);
	CU_ASSERT(cnpg_status(&c, NS, "cluster-example", &st, &exists));
	CU_ASSERT(exists);
	CU_ASSERT_STRING_EQUAL(st.primary, "cluster-example-1");
	k8s_time_parse("2026-01-22T10:30:07Z", &want, NULL);
	CU_ASSERT_EQUAL(st.primary_since, want);
	CU_ASSERT_EQUAL(st.instances, 3);
	CU_ASSERT_STRING_EQUAL(st.image, "ghcr.io/cloudnative-pg/postgresql:18.1-system-trixie");

	n = cnpg_members(&c, NS, "cluster-example", m, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(m[0].name, "cluster-example-1");
	CU_ASSERT_EQUAL(m[0].role, MEMBER_PRIMARY);
	CU_ASSERT_STRING_EQUAL(m[0].zone, "geneva");
	CU_ASSERT_EQUAL(m[1].role, MEMBER_REPLICA);
	CU_ASSERT_STRING_EQUAL(m[1].zone, "lucerne");
	CU_ASSERT_EQUAL(m[2].role, MEMBER_REPLICA); /* from the old role label alone */
	CU_ASSERT_STRING_EQUAL(m[2].zone, "gland");
	CU_ASSERT_EQUAL(m[2].timeline, 1);
	CU_ASSERT_STRING_EQUAL(m[2].ip, "10.244.3.5");
	for (int i = 0; i < s.nrequests; i++)
		if (strncmp(s.requests[i].target, PODS "?", strlen(PODS) + 1) == 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[i].target,
						      "labelSelector=cnpg.io%2Fcluster%3Dcluster-example"));

	CU_ASSERT(cnpg_delete(&c, NS, "cluster-example"));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", CL_PATH "/cluster-example"), 1);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static void test_not_ready(void)
{
	struct fake_server s;
	struct k8s_client c;
	char why[256] = "";

	CU_ASSERT_FATAL(client_for(&s, &c));
	fake_route_add(&s, "GET", CL_PATH "/cluster-example", -1, 200,
		       "{\"spec\":{\"instances\":3},\"status\":{\"readyInstances\":1,\"phase\":\"Setting up primary\"}}");
	CU_ASSERT_FALSE(cnpg_wait_ready(&c, NS, "cluster-example", 50000, 10000, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "1 of 3 instances ready (phase: Setting up primary)");
	CU_ASSERT_FALSE(cnpg_wait_ready(&c, NS, "other", 0, 0, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "cluster " NS "/other does not exist");
	k8s_client_free(&c);
	fake_server_stop(&s);
}

/* ---- the driver ---- */

static const struct driver_ops *ops;

/* Point the driver at s, with ns named on the command line or not. */
static void configure(struct fake_server *s, const char *ns_flag, bool dry_run)
{
	static char kc[512];
	struct k8s_options o = { .kubeconfig = kc, .ns = ns_flag, .dry_run = dry_run, .poll_us = 1000 };

	CU_ASSERT_FATAL(fake_kubeconfig(certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)));
	/* token.kubeconfig's context names namespace chaos. */
	k8s_test_options(&o, NULL);
}

static void add_namespace(struct fake_server *s, const char *ns, const char *labels)
{
	char path[128], body[512];

	str_format(path, sizeof(path), "/api/v1/namespaces/%s", ns);
	str_format(body, sizeof(body), "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":"
		   "{\"name\":\"%s\",\"labels\":{%s}}}", ns, labels);
	fake_route_add(s, "GET", path, -1, 200, body);
}

static void test_driver_preflight(void)
{
	struct fake_server s;
	char why[512] = "";

	ops = driver_find("kubernetes");
	CU_ASSERT_FATAL(ops != NULL);
	CU_ASSERT(ops->caps & DRIVER_CAP_KILL_POD);
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	configure(&s, NULL, false);
	fake_route_add(&s, "GET", "/version", -1, 200, "{\"gitVersion\":\"v1.31.0\"}");
	CU_ASSERT_FALSE(ops->preflight(NULL, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "CloudNativePG is not installed"));
	fake_route_add(&s, "GET", "/apis/postgresql.cnpg.io/v1", -1, 200, "{\"kind\":\"APIResourceList\"}");
	CU_ASSERT(ops->preflight(NULL, k8s_test_opts(ops), why, sizeof(why)));
	fake_server_stop(&s);
	/* Nothing listens there any more: one line naming the server. */
	CU_ASSERT_FALSE(ops->preflight(NULL, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "cannot reach the Kubernetes API server http://127.0.0.1:"));
	CU_ASSERT_PTR_NULL(strchr(why, '\n'));
}

static void test_driver_safety(void)
{
	struct cluster_spec spec = test_spec("cluster-example");
	struct fake_server s;
	struct driver *d;

	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	fake_route_add(&s, "DELETE", "/api/v1/namespaces/chaos/pods/cluster-example-1", -1, 200,
		       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"cluster-example-1\"}}");
	fake_route_add(&s, "DELETE", PODS "/cluster-example-1", -1, 200,
		       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"cluster-example-1\"}}");
	/* The context's namespace, unlabelled: refused, nothing deleted. */
	add_namespace(&s, "chaos", "\"team\":\"db\"");
	configure(&s, NULL, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FALSE(ops->kill(d, "cluster-example-1", KILL_POD, 0));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", "/api/v1/namespaces/chaos/pods/cluster-example-1"), 0);
	ops->close(d);
	fake_server_stop(&s);

	/* Labelled bise.io/chaos=allowed: the pod is deleted with gracePeriodSeconds 0. */
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	fake_route_add(&s, "DELETE", "/api/v1/namespaces/chaos/pods/cluster-example-1", -1, 200,
		       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"cluster-example-1\"}}");
	add_namespace(&s, "chaos", "\"bise.io/chaos\":\"allowed\"");
	configure(&s, NULL, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT(ops->kill(d, "cluster-example-1", KILL_POD, 0));
	CU_ASSERT_FALSE(ops->kill(d, "cluster-example-1", KILL_POSTMASTER, 0));
	CU_ASSERT_EQUAL_FATAL(fake_count(&s, "DELETE", "/api/v1/namespaces/chaos/pods/cluster-example-1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[s.nrequests - 1].body, "\"gracePeriodSeconds\":0"));
	CU_ASSERT(ops->restart(d, "cluster-example-1"));
	ops->close(d);
	fake_server_stop(&s);

	/* Named on the command line: no label needed, not even looked up. */
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	fake_route_add(&s, "DELETE", PODS "/cluster-example-1", -1, 200, "{\"kind\":\"Status\",\"status\":\"Success\"}");
	configure(&s, NS, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT(ops->kill(d, "cluster-example-1", KILL_POD, 0));
	CU_ASSERT_EQUAL(s.nrequests, 1);
	/* A graceful deletion: whole seconds, rounded up. */
	CU_ASSERT(ops->kill(d, "cluster-example-1", KILL_POD, 2500000));
	CU_ASSERT_EQUAL_FATAL(s.nrequests, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[1].body, "\"gracePeriodSeconds\":3"));
	ops->close(d);
	fake_server_stop(&s);
}

static void test_driver_cluster(void)
{
	struct cluster_spec spec = test_spec("cluster-example");
	struct fake_server s;
	struct member m[8];
	struct driver *d;
	char why[256], buf[512];
	int n;

	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	add_cluster_fixture(&s);
	add_pods(&s);
	fake_route_add(&s, "GET", "/version", -1, 200, "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\"}");
	fake_route_add(&s, "GET", "/apis/apps/v1/deployments", -1, 200,
		       "{\"kind\":\"DeploymentList\",\"metadata\":{},\"items\":[{\"metadata\":{\"name\":"
		       "\"cnpg-controller-manager\",\"namespace\":\"cnpg-system\"},\"spec\":{\"template\":{\"spec\":"
		       "{\"containers\":[{\"name\":\"manager\",\"image\":\"ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0\"}]}}}}]}");
	configure(&s, NS, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT(ops->exists(d));
	CU_ASSERT(ops->wait_healthy(d, 5000000, why, sizeof(why)));
	n = ops->members(d, m, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(m[0].name, "cluster-example-1");
	CU_ASSERT_STRING_EQUAL(m[0].zone, "geneva");
	CU_ASSERT_EQUAL(m[0].role, MEMBER_PRIMARY);
	CU_ASSERT_EQUAL(m[1].role, MEMBER_REPLICA);
	CU_ASSERT_EQUAL(m[2].endpoint.port, 5432);
	CU_ASSERT(ops->versions(d, buf, sizeof(buf)));
	CU_ASSERT_STRING_EQUAL(buf, "Kubernetes v1.31.0, CloudNativePG ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0, "
			       "PostgreSQL image ghcr.io/cloudnative-pg/postgresql:18.1-system-trixie");
	ops->close(d);
	fake_server_stop(&s);
}

static void test_driver_up_down(void)
{
	struct cluster_spec spec = test_spec("cluster-example");
	struct fake_server s;
	struct driver *d;
	double secs;

	/* up: the namespace (named on the command line) is missing: bise creates it as its own. */
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	fake_route_add(&s, "GET", "/api/v1/namespaces/" NS, 1, 404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}");
	add_namespace(&s, NS, "\"bise.io/created-by\":\"bise\",\"bise.io/chaos\":\"allowed\"");
	fake_route_add(&s, "POST", "/api/v1/namespaces", -1, 201, "{}");
	fake_route_add(&s, "POST", CL_PATH, -1, 201, "{}");
	add_cluster_fixture(&s);
	configure(&s, NS, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT(ops->up(d, &secs));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", "/api/v1/namespaces"), 1);
	for (int i = 0; i < s.nrequests; i++)
		if (strcmp(s.requests[i].method, "POST") == 0 && strcmp(s.requests[i].target, "/api/v1/namespaces") == 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[i].body, "\"bise.io/created-by\":\"bise\""));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", CL_PATH), 1);
	ops->close(d);
	fake_server_stop(&s);

	/* down: the Cluster goes, then the namespace bise created. */
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	add_namespace(&s, NS, "\"bise.io/created-by\":\"bise\"");
	fake_route_add(&s, "DELETE", CL_PATH "/cluster-example", -1, 200, "{\"kind\":\"Status\",\"status\":\"Success\"}");
	fake_route_add(&s, "DELETE", "/api/v1/namespaces/" NS, -1, 200, "{\"kind\":\"Namespace\"}");
	configure(&s, NS, false);
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT(ops->down(d));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", CL_PATH "/cluster-example"), 1);
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", "/api/v1/namespaces/" NS), 1);
	ops->close(d);
	fake_server_stop(&s);
}

static void test_driver_dry_run(void)
{
	struct cluster_spec spec = test_spec("cluster-example");
	struct fake_server s;
	struct driver *d;
	double secs;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	configure(&s, NULL, true);
	CU_ASSERT(ops->preflight(NULL, k8s_test_opts(ops), (char[64]){ 0 }, 64));
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT(ops->up(d, &secs));
	CU_ASSERT(ops->kill(d, "cluster-example-2", KILL_POD, 0));
	f = open_memstream(&text, &len);
	ops->flush_calls(d, f);
	fclose(f);
	CU_ASSERT_EQUAL(s.nrequests, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "POST /api/v1/namespaces\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "POST /apis/postgresql.cnpg.io/v1/namespaces/chaos/clusters\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DELETE /api/v1/namespaces/chaos/pods/cluster-example-2\n"
					    "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}"));
	free(text);
	ops->close(d);
	fake_server_stop(&s);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_cnpg", suite_init, suite_clean);

	CU_add_test(s, "Cluster object passes the CRD schema", test_object_valid);
	CU_add_test(s, "the schema validator catches bad objects", test_validator_catches);
	CU_add_test(s, "create, wait ready, members, primary, delete", test_adapter);
	CU_add_test(s, "not ready: why", test_not_ready);
	s = CU_add_suite("k8s_driver", suite_init, suite_clean);
	CU_add_test(s, "preflight", test_driver_preflight);
	CU_add_test(s, "namespace safety, pod-kill", test_driver_safety);
	CU_add_test(s, "members, wait_healthy, versions", test_driver_cluster);
	CU_add_test(s, "up and down", test_driver_up_down);
	CU_add_test(s, "dry run", test_driver_dry_run);
}
