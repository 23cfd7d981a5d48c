/*
 * test_driver_k8s_operators.c - the Zalando, Crunchy and Cozystack adapters: the objects
 * they build pass the real schemas (the postgresql CRD, the PostgresCluster CRD's v1beta1,
 * the Postgres app's values schema), as do the projects' own samples; against the fake API
 * server with recorded shapes: create, wait ready, members with roles and zones, the
 * primary, delete. Then the driver selecting an operator (option and BISE_K8S_OPERATOR).
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"

#include "kubernetes/cozystack.h"
#include "kubernetes/crunchy.h"
#include "k8s_test_common.h"
#include "kubernetes/k8s_driver.h"
#include "kubernetes/zalando.h"

#include <CUnit/CUnit.h>

#define NS "tenant-root"
#define PODS "/api/v1/namespaces/" NS "/pods"
#define ZAL_PATH "/apis/acid.zalan.do/v1/namespaces/" NS "/postgresqls"
#define CR_PATH "/apis/postgres-operator.crunchydata.com/v1beta1/namespaces/" NS "/postgresclusters"
#define COZY_PATH "/apis/apps.cozystack.io/v1alpha1/namespaces/" NS "/postgreses"
#define CNPG_PATH "/apis/postgresql.cnpg.io/v1/namespaces/" NS "/clusters"
#define STATUS_OK "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}"

static json_object *zal_crd, *cr_crd, *cozy_schema;
static json_object *zal_schema, *cr_schema;
static char certdir[64];

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	zal_crd = schema_load("zalando/postgresql.crd.yaml");
	cr_crd = schema_load("crunchy/postgres-operator.crunchydata.com_postgresclusters.yaml");
	cozy_schema = schema_load("cozystack/postgres.values.schema.json");
	zal_schema = zal_crd ? schema_of_crd(zal_crd, "v1") : NULL;
	cr_schema = cr_crd ? schema_of_crd(cr_crd, "v1beta1") : NULL;
	return zal_schema && cr_schema && cozy_schema && fake_certs(certdir, sizeof(certdir)) ? 0 : 1;
}

static int suite_clean(void)
{
	json_object_put(zal_crd);
	json_object_put(cr_crd);
	json_object_put(cozy_schema);
	fake_rm_rf(certdir);
	return 0;
}

static struct cluster_spec test_spec(const char *name, bool sync)
{
	struct cluster_spec s;

	cluster_spec_defaults(&s);
	str_copy(s.name, sizeof(s.name), name);
	if (sync)
		s.replication = REPLICATION_SYNC;
	return s;
}

/* The Cozystack app's schema is the schema of spec. */
static int cozy_check(json_object *obj, const char *what)
{
	json_object *spec;

	if (!json_object_object_get_ex(obj, "spec", &spec)) {
		fprintf(stderr, "\n%s: no spec\n", what);
		return 1;
	}
	return schema_check(cozy_schema, spec, what);
}

static bool str_at(json_object *o, const char *ptr, const char *want)
{
	json_object *v;

	return json_pointer_get(o, ptr, &v) == 0 && strcmp(json_object_get_string(v), want) == 0;
}

static void test_objects_valid(void)
{
	for (int sync = 0; sync < 2; sync++) {
		struct cluster_spec spec = test_spec("bise", sync);
		json_object *o;

		o = zalando_object(&spec, NS, sync ? "ghcr.io/zalando/spilo-17:4.0-p2" : NULL);
		CU_ASSERT_EQUAL(schema_check(zal_schema, o, "zalando"), 0);
		CU_ASSERT(str_at(o, "/spec/numberOfInstances", "3"));
		CU_ASSERT(str_at(o, "/spec/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
				    "nodeSelectorTerms/0/matchExpressions/0/values/1", "lucerne"));
		CU_ASSERT(str_at(o, "/spec/topologySpreadConstraints/0/labelSelector/matchLabels/cluster-name", "bise"));
		CU_ASSERT_EQUAL(json_pointer_get(o, "/spec/patroni/synchronous_mode", NULL) == 0, sync);
		json_object_put(o);

		o = crunchy_object(&spec, NS, NULL);
		CU_ASSERT_EQUAL(schema_check(cr_schema, o, "crunchy"), 0);
		CU_ASSERT(str_at(o, "/spec/instances/0/replicas", "3"));
		CU_ASSERT(str_at(o, "/spec/instances/0/topologySpreadConstraints/0/topologyKey",
				 "topology.kubernetes.io/zone"));
		CU_ASSERT(str_at(o, "/spec/instances/0/affinity/nodeAffinity/requiredDuringSchedulingIgnored"
				    "DuringExecution/nodeSelectorTerms/0/matchExpressions/0/values/2", "gland"));
		CU_ASSERT_EQUAL(json_pointer_get(o, "/spec/patroni/dynamicConfiguration/synchronous_mode", NULL) == 0, sync);
		json_object_put(o);

		o = cozystack_object(&spec, NS, NULL);
		CU_ASSERT_EQUAL(cozy_check(o, "cozystack"), 0);
		CU_ASSERT(str_at(o, "/spec/replicas", "3"));
		CU_ASSERT(str_at(o, "/spec/quorum/minSyncReplicas", sync ? "1" : "0"));
		json_object_put(o);
	}
}

/* The projects' own samples pass too: the schemas are read the way the API server does. */
static void test_samples_valid(void)
{
	json_object *o = schema_load("zalando/minimal-postgres-manifest.yaml");

	CU_ASSERT_EQUAL(schema_check(zal_schema, o, "zalando sample"), 0);
	json_object_put(o);
	o = schema_load("cozystack/example-postgres.e2e.yaml");
	CU_ASSERT_EQUAL(cozy_check(o, "cozystack sample"), 0);
	json_object_put(o);
	/* kuttl placeholders filled in as the e2e run does. */
	o = schema_load("crunchy/kuttl-10-create-cluster-with-replicas.yaml");
	CU_ASSERT_FATAL(o != NULL);
	json_object_object_add(o, "apiVersion", json_object_new_string("postgres-operator.crunchydata.com/v1beta1"));
	json_object_object_add(json_object_object_get(o, "spec"), "postgresVersion", json_object_new_int(17));
	CU_ASSERT_EQUAL(schema_check(cr_schema, o, "crunchy sample"), 0);
	json_object_put(o);
}

static void test_validator_catches(void)
{
	static const char *const zal_bad[][2] = {
		{ "{\"spec\":{\"teamId\":\"a\",\"volume\":{\"size\":\"1Gi\"},\"postgresql\":{\"version\":\"15\"}}}", ".spec.numberOfInstances: required" },
		{ "{\"spec\":{\"teamId\":\"a\",\"numberOfInstances\":3,\"volume\":{\"size\":\"1Gi\"},\"postgresql\":{\"version\":\"12\"}}}", "postgresql.version: not one of the enum" },
		{ "{\"spec\":{\"teamId\":\"a\",\"numberOfInstances\":3,\"volume\":{\"size\":\"one\"},\"postgresql\":{\"version\":\"15\"}}}", "volume.size: does not match the pattern" },
	};
	static const char *const cr_bad[][2] = {
		{ "{\"spec\":{\"postgresVersion\":10,\"instances\":[{\"dataVolumeClaimSpec\":{}}]}}", "postgresVersion: below the minimum" },
		{ "{\"spec\":{\"postgresVersion\":15,\"instances\":[{\"name\":\"Zones\",\"dataVolumeClaimSpec\":{}}]}}", "name: does not match the pattern" },
		{ "{\"spec\":{\"postgresVersion\":15,\"instances\":[{\"replicas\":3}]}}", "dataVolumeClaimSpec: required" },
	};
	static const char *const cozy_bad[][2] = {
		{ "{\"spec\":{\"replicas\":\"3\"}}", ".replicas: wants type integer" },
		{ "{\"spec\":{\"version\":\"v12\"}}", ".version: not one of the enum" },
		{ "{\"spec\":{\"quorum\":{\"minSyncReplicas\":1}}}", "maxSyncReplicas: required" },
		{ "{\"spec\":{\"size\":true}}", ".size: wants an integer or a string" },
	};

	for (size_t i = 0; i < 3; i++) {
		char errs[4096] = "";
		json_object *o = json_tokener_parse(zal_bad[i][0]);

		CU_ASSERT(schema_validate(zal_schema, o, "", errs, sizeof(errs)) > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, zal_bad[i][1]));
		json_object_put(o);
		errs[0] = '\0';
		o = json_tokener_parse(cr_bad[i][0]);
		CU_ASSERT(schema_validate(cr_schema, o, "", errs, sizeof(errs)) > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, cr_bad[i][1]));
		json_object_put(o);
	}
	for (size_t i = 0; i < 4; i++) {
		char errs[4096] = "";
		json_object *o = json_tokener_parse(cozy_bad[i][0]);

		CU_ASSERT(schema_validate(cozy_schema, json_object_object_get(o, "spec"), "", errs, sizeof(errs)) > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, cozy_bad[i][1]));
		json_object_put(o);
	}
}

/* ---- against the fake API server ---- */

static void add_node(struct fake_server *s, const char *node, const char *zone)
{
	char path[128], body[512];

	str_format(path, sizeof(path), "/api/v1/nodes/%s", node);
	str_format(body, sizeof(body), "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
		   "\"labels\":{\"kubernetes.io/hostname\":\"%s\",\"topology.kubernetes.io/zone\":\"%s\"}}}",
		   node, node, zone);
	fake_route_add(s, "GET", path, -1, 200, body);
}

static void add_nodes(struct fake_server *s)
{
	add_node(s, "kind-worker", "geneva");
	add_node(s, "kind-worker2", "lucerne");
	add_node(s, "kind-worker3", "gland");
}

/* A pod on kind-worker<i> (i 1..3) with labels (a JSON object body, without braces). */
static void pod_json(char *buf, size_t len, const char *name, int i, const char *labels, bool ready)
{
	str_format(buf, len, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\",\"labels\":{%s}},"
		   "\"spec\":{\"nodeName\":\"kind-worker%s\",\"containers\":[{\"name\":\"postgres\"}]},"
		   "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.%d.7\",\"conditions\":"
		   "[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		   name, labels, i == 1 ? "" : i == 2 ? "2" : "3", i, ready ? "True" : "False");
}

static void add_pod_list(struct fake_server *s, const char *const *pods, int n)
{
	char body[16384];
	size_t used;

	str_format(body, sizeof(body), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
		   "{\"resourceVersion\":\"7000\"},\"items\":[");
	for (int i = 0; i < n; i++) {
		used = strlen(body);
		str_format(body + used, sizeof(body) - used, "%s%s", i ? "," : "", pods[i]);
	}
	used = strlen(body);
	str_format(body + used, sizeof(body) - used, "]}");
	fake_route_add(s, "GET", PODS, -1, 200, body);
}

static bool client_for(struct fake_server *s, struct k8s_client *c)
{
	char kc[512];

	return fake_server_start(s, false, certdir) &&
	       fake_kubeconfig(certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)) &&
	       k8s_client_init(c, kc, NULL, false);
}

/* Every pod list asked for the selector. */
static bool selector_sent(struct fake_server *s, const char *escaped)
{
	int lists = 0;

	for (int i = 0; i < s->nrequests; i++)
		if (strncmp(s->requests[i].target, PODS "?", strlen(PODS) + 1) == 0) {
			lists++;
			if (!strstr(s->requests[i].target, escaped))
				return false;
		}
	return lists > 0;
}

/* The body of the first POST, validated by check. */
static json_object *posted(struct fake_server *s)
{
	for (int i = 0; i < s->nrequests; i++)
		if (strcmp(s->requests[i].method, "POST") == 0)
			return json_tokener_parse(s->requests[i].body);
	return NULL;
}

static void test_zalando(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct cluster_spec spec = test_spec("acid-bise", false);
	struct cnpg_member m[8];
	char p[3][1024], why[256], primary[64], phase[64];
	const char *pods[3] = { p[0], p[1], p[2] };
	json_object *o;
	bool exists;

	CU_ASSERT_FATAL(client_for(&s, &c));
	/* Labels as the operator and Patroni set them (configmap.yaml defaults). */
	pod_json(p[0], sizeof(p[0]), "acid-bise-0", 1,
		 "\"application\":\"spilo\",\"cluster-name\":\"acid-bise\",\"spilo-role\":\"replica\"", true);
	pod_json(p[1], sizeof(p[1]), "acid-bise-1", 2,
		 "\"application\":\"spilo\",\"cluster-name\":\"acid-bise\",\"spilo-role\":\"master\"", true);
	pod_json(p[2], sizeof(p[2]), "acid-bise-2", 3,
		 "\"application\":\"spilo\",\"cluster-name\":\"acid-bise\",\"spilo-role\":\"replica\"", true);
	add_pod_list(&s, pods, 3);
	add_nodes(&s);
	fake_route_add(&s, "POST", ZAL_PATH, 1, 201, "{}");
	fake_route_add(&s, "GET", ZAL_PATH "/acid-bise", 2, 200,
		       "{\"apiVersion\":\"acid.zalan.do/v1\",\"kind\":\"postgresql\",\"metadata\":{\"name\":\"acid-bise\"},"
		       "\"spec\":{\"numberOfInstances\":3},\"status\":{\"PostgresClusterStatus\":\"Creating\"}}");
	fake_route_add(&s, "GET", ZAL_PATH "/acid-bise", -1, 200,
		       "{\"apiVersion\":\"acid.zalan.do/v1\",\"kind\":\"postgresql\",\"metadata\":{\"name\":\"acid-bise\"},"
		       "\"spec\":{\"numberOfInstances\":3},\"status\":{\"PostgresClusterStatus\":\"Running\"}}");
	fake_route_add(&s, "DELETE", ZAL_PATH "/acid-bise", -1, 200, STATUS_OK);

	o = zalando_object(&spec, NS, NULL);
	CU_ASSERT(zalando_create(&c, NS, o));
	json_object_put(o);
	o = posted(&s);
	CU_ASSERT_EQUAL(schema_check(zal_schema, o, "zalando POST"), 0);
	json_object_put(o);

	CU_ASSERT_FALSE(zalando_wait_ready(&c, NS, "acid-bise", 0, 0, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "status: Creating");
	CU_ASSERT(zalando_wait_ready(&c, NS, "acid-bise", 5000000, 1000, why, sizeof(why)));
	CU_ASSERT(zalando_status(&c, NS, "acid-bise", phase, sizeof(phase), &exists));
	CU_ASSERT(exists);
	CU_ASSERT_STRING_EQUAL(phase, "Running");
	CU_ASSERT_EQUAL_FATAL(zalando_members(&c, NS, "acid-bise", m, 8), 3);
	CU_ASSERT_EQUAL(m[0].role, MEMBER_REPLICA);
	CU_ASSERT_EQUAL(m[1].role, MEMBER_PRIMARY);
	CU_ASSERT_STRING_EQUAL(m[1].zone, "lucerne");
	CU_ASSERT_STRING_EQUAL(m[2].ip, "10.244.3.7");
	CU_ASSERT(k8s_members_primary(m, 3, primary, sizeof(primary)));
	CU_ASSERT_STRING_EQUAL(primary, "acid-bise-1");
	CU_ASSERT(selector_sent(&s, "labelSelector=application%3Dspilo%2Ccluster-name%3Dacid-bise"));
	CU_ASSERT(zalando_delete(&c, NS, "acid-bise"));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", ZAL_PATH "/acid-bise"), 1);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static void test_zalando_not_ready(void)
{
	struct fake_server s;
	struct k8s_client c;
	char p[3][1024], why[256];
	const char *pods[3] = { p[0], p[1], p[2] };

	CU_ASSERT_FATAL(client_for(&s, &c));
	/* Running, but the old master is gone and no one holds the role yet. */
	pod_json(p[0], sizeof(p[0]), "acid-bise-0", 1, "\"cluster-name\":\"acid-bise\",\"spilo-role\":\"replica\"", true);
	pod_json(p[1], sizeof(p[1]), "acid-bise-1", 2, "\"cluster-name\":\"acid-bise\",\"spilo-role\":\"replica\"", true);
	pod_json(p[2], sizeof(p[2]), "acid-bise-2", 3, "\"cluster-name\":\"acid-bise\",\"spilo-role\":\"replica\"", true);
	add_pod_list(&s, pods, 3);
	add_nodes(&s);
	fake_route_add(&s, "GET", ZAL_PATH "/acid-bise", -1, 200,
		       "{\"spec\":{\"numberOfInstances\":3},\"status\":{\"PostgresClusterStatus\":\"Running\"}}");
	CU_ASSERT_FALSE(zalando_wait_ready(&c, NS, "acid-bise", 20000, 5000, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "0 pods labelled primary");
	CU_ASSERT_FALSE(zalando_wait_ready(&c, NS, "other", 0, 0, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "postgresql " NS "/other does not exist");
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static void test_crunchy(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct cluster_spec spec = test_spec("hippo", true);
	struct cnpg_member m[8];
	char p[3][1024], why[256], primary[64];
	const char *pods[3] = { p[0], p[1], p[2] };
	json_object *o;
	bool exists;

#define CR_LABELS(set, role) "\"postgres-operator.crunchydata.com/cluster\":\"hippo\"," \
	"\"postgres-operator.crunchydata.com/instance-set\":\"zones\"," \
	"\"postgres-operator.crunchydata.com/instance\":\"hippo-zones-" set "\"," \
	"\"postgres-operator.crunchydata.com/role\":\"" role "\""
	CU_ASSERT_FATAL(client_for(&s, &c));
	pod_json(p[0], sizeof(p[0]), "hippo-zones-x7k2-0", 1, CR_LABELS("x7k2", "master"), true);
	pod_json(p[1], sizeof(p[1]), "hippo-zones-b9qw-0", 2, CR_LABELS("b9qw", "replica"), true);
	pod_json(p[2], sizeof(p[2]), "hippo-zones-m4cd-0", 3, CR_LABELS("m4cd", "replica"), false);
	add_pod_list(&s, pods, 3);
	add_nodes(&s);
	fake_route_add(&s, "POST", CR_PATH, 1, 201, "{}");
	/* status.instances as the kuttl assertion of PGO's e2e test shows it. */
	fake_route_add(&s, "GET", CR_PATH "/hippo", -1, 200,
		       "{\"apiVersion\":\"postgres-operator.crunchydata.com/v1beta1\",\"kind\":\"PostgresCluster\","
		       "\"metadata\":{\"name\":\"hippo\"},\"spec\":{\"postgresVersion\":15,\"instances\":[{\"name\":"
		       "\"zones\",\"replicas\":3}]},\"status\":{\"instances\":[{\"name\":\"zones\",\"readyReplicas\":2,"
		       "\"replicas\":3,\"updatedReplicas\":3}]}}");
	fake_route_add(&s, "DELETE", CR_PATH "/hippo", -1, 200, STATUS_OK);

	o = crunchy_object(&spec, NS, NULL);
	CU_ASSERT(crunchy_create(&c, NS, o));
	json_object_put(o);
	o = posted(&s);
	CU_ASSERT_EQUAL(schema_check(cr_schema, o, "crunchy POST"), 0);
	json_object_put(o);

	CU_ASSERT(crunchy_exists(&c, NS, "hippo", &exists));
	CU_ASSERT(exists);
	CU_ASSERT_FALSE(crunchy_wait_ready(&c, NS, "hippo", 0, 0, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "2 of 3 replicas ready");
	CU_ASSERT_EQUAL_FATAL(crunchy_members(&c, NS, "hippo", m, 8), 3);
	CU_ASSERT_EQUAL(m[0].role, MEMBER_PRIMARY);
	CU_ASSERT_STRING_EQUAL(m[0].zone, "geneva");
	CU_ASSERT_EQUAL(m[1].role, MEMBER_REPLICA);
	CU_ASSERT_EQUAL(m[2].role, MEMBER_DOWN);
	CU_ASSERT(k8s_members_primary(m, 3, primary, sizeof(primary)));
	CU_ASSERT_STRING_EQUAL(primary, "hippo-zones-x7k2-0");
	CU_ASSERT(selector_sent(&s, "labelSelector=postgres-operator.crunchydata.com%2Fcluster%3Dhippo%2C"
				    "postgres-operator.crunchydata.com%2Finstance"));
	CU_ASSERT(crunchy_delete(&c, NS, "hippo"));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", CR_PATH "/hippo"), 1);
	k8s_client_free(&c);
	fake_server_stop(&s);

	/* All replicas ready: ready. */
	CU_ASSERT_FATAL(client_for(&s, &c));
	pod_json(p[2], sizeof(p[2]), "hippo-zones-m4cd-0", 3, CR_LABELS("m4cd", "replica"), true);
	add_pod_list(&s, pods, 3);
	add_nodes(&s);
	fake_route_add(&s, "GET", CR_PATH "/hippo", -1, 200,
		       "{\"spec\":{\"instances\":[{\"name\":\"zones\",\"replicas\":3}]},\"status\":{\"instances\":"
		       "[{\"name\":\"zones\",\"readyReplicas\":3,\"replicas\":3,\"updatedReplicas\":3}]}}");
	CU_ASSERT(crunchy_wait_ready(&c, NS, "hippo", 1000000, 1000, why, sizeof(why)));
	k8s_client_free(&c);
	fake_server_stop(&s);
#undef CR_LABELS
}

/* The recorded CNPG Cluster served as postgres-test, the Cluster the chart renders. */
static void add_generated_cluster(struct fake_server *s)
{
	char *path = reference_path("cnpg/cluster-with-status.kube-bind-docs.json");
	char *body = file_read_all(path, NULL);

	fake_route_add(s, "GET", CNPG_PATH "/postgres-test", -1, 200, body);
	free(body);
	free(path);
}

static void test_cozystack(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct cluster_spec spec = test_spec("test", false);
	struct cnpg_member m[8];
	char p[3][1024], why[256], name[64];
	const char *pods[3] = { p[0], p[1], p[2] };
	json_object *o;
	bool exists;

#define CNPG_LABELS(i, role) "\"cnpg.io/cluster\":\"postgres-test\",\"cnpg.io/instanceName\":\"postgres-test-" i "\"," \
	"\"cnpg.io/podRole\":\"instance\",\"cnpg.io/instanceRole\":\"" role "\",\"role\":\"" role "\"," \
	"\"app.kubernetes.io/name\":\"postgres.apps.cozystack.io\",\"app.kubernetes.io/instance\":\"postgres-test\""
	CU_ASSERT_FATAL(client_for(&s, &c));
	pod_json(p[0], sizeof(p[0]), "postgres-test-1", 1, CNPG_LABELS("1", "primary"), true);
	pod_json(p[1], sizeof(p[1]), "postgres-test-2", 2, CNPG_LABELS("2", "replica"), true);
	pod_json(p[2], sizeof(p[2]), "postgres-test-3", 3, CNPG_LABELS("3", "replica"), true);
	add_pod_list(&s, pods, 3);
	add_nodes(&s);
	add_generated_cluster(&s);
	fake_route_add(&s, "POST", COZY_PATH, 1, 201, "{}");
	fake_route_add(&s, "GET", COZY_PATH "/test", 1, 200,
		       "{\"apiVersion\":\"apps.cozystack.io/v1alpha1\",\"kind\":\"Postgres\",\"metadata\":{\"name\":\"test\"},"
		       "\"status\":{\"version\":\"0.1.0\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
		       "\"reason\":\"InstallFailed\",\"message\":\"Helm install failed\"}]}}");
	fake_route_add(&s, "GET", COZY_PATH "/test", -1, 200,
		       "{\"apiVersion\":\"apps.cozystack.io/v1alpha1\",\"kind\":\"Postgres\",\"metadata\":{\"name\":\"test\"},"
		       "\"status\":{\"version\":\"0.1.0\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
		       "{\"type\":\"WorkloadsReady\",\"status\":\"True\"}]}}");
	fake_route_add(&s, "DELETE", COZY_PATH "/test", -1, 200, STATUS_OK);

	cozystack_cluster_name("test", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "postgres-test");
	o = cozystack_object(&spec, NS, NULL);
	CU_ASSERT(cozystack_create(&c, NS, o));
	json_object_put(o);
	o = posted(&s);
	CU_ASSERT_EQUAL(cozy_check(o, "cozystack POST"), 0);
	CU_ASSERT(str_at(o, "/kind", "Postgres"));
	json_object_put(o);
	CU_ASSERT(cozystack_exists(&c, NS, "test", &exists));
	CU_ASSERT(exists);
	CU_ASSERT(cozystack_wait_ready(&c, NS, "test", 5000000, 1000, why, sizeof(why)));
	CU_ASSERT_EQUAL_FATAL(cozystack_members(&c, NS, "test", m, 8), 3);
	CU_ASSERT_EQUAL(m[0].role, MEMBER_PRIMARY);
	CU_ASSERT_STRING_EQUAL(m[2].zone, "gland");
	CU_ASSERT(selector_sent(&s, "labelSelector=cnpg.io%2Fcluster%3Dpostgres-test"));
	CU_ASSERT(cozystack_delete(&c, NS, "test"));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", COZY_PATH "/test"), 1);
	CU_ASSERT(cozystack_exists(&c, NS, "gone", &exists));
	CU_ASSERT_FALSE(exists);
	k8s_client_free(&c);
	fake_server_stop(&s);
#undef CNPG_LABELS
}

/* ---- the driver with an operator selected ---- */

static void configure(struct fake_server *s, const char *op)
{
	static char kc[512];
	struct k8s_options o = { .kubeconfig = kc, .ns = NS, .poll_us = 1000, .operator_name = op };

	CU_ASSERT_FATAL(fake_kubeconfig(certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)));
	k8s_test_options(&o, NULL);
}

static void test_driver_operator(void)
{
	const struct driver_ops *ops = driver_find("kubernetes");
	struct cluster_spec spec = test_spec("hippo", false);
	struct fake_server s;
	struct driver *d;
	char why[512];

	CU_ASSERT_FATAL(ops != NULL);
	{
		static const char *const want[][2] = {
			{ "cnpg", "cnpg.io/cluster=pg" }, { "cozystack", "cnpg.io/cluster=postgres-pg" },
			{ "zalando", "application=spilo,cluster-name=pg" },
			{ "crunchy", "postgres-operator.crunchydata.com/cluster=pg,postgres-operator.crunchydata.com/instance" },
		};
		char sel[256];

		for (size_t i = 0; i < 4; i++) {
			const struct k8s_operator *op = k8s_operator_find(want[i][0]);

			CU_ASSERT_FATAL(op != NULL);
			k8s_operator_selector(op, "pg", sel, sizeof(sel));
			CU_ASSERT_STRING_EQUAL(sel, want[i][1]);
		}
		CU_ASSERT_PTR_NULL(k8s_operator_find("stolon"));
	}
	CU_ASSERT_FATAL(fake_server_start(&s, false, certdir));
	fake_route_add(&s, "GET", "/version", -1, 200, "{\"gitVersion\":\"v1.31.0\"}");
	configure(&s, "zalando");
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why + strlen(why) - strlen("(no API acid.zalan.do/v1; see kind-config/README.md)"),
			       "(no API acid.zalan.do/v1; see kind-config/README.md)");
	CU_ASSERT(strncmp(why, "Zalando postgres-operator is not installed on http://127.0.0.1:", 63) == 0);
	configure(&s, "stolon");
	CU_ASSERT_FALSE(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "unknown operator stolon (BISE_K8S_OPERATOR: cnpg, cozystack, zalando, crunchy)");
	CU_ASSERT_PTR_NULL(ops->open(&spec, NULL, k8s_test_opts(ops)));

	/* From the environment when the options name none. */
	setenv("BISE_K8S_OPERATOR", "crunchy", 1);
	configure(&s, NULL);
	fake_route_add(&s, "GET", "/apis/postgres-operator.crunchydata.com/v1beta1", -1, 200, "{\"kind\":\"APIResourceList\"}");
	CU_ASSERT(ops->preflight(&spec, k8s_test_opts(ops), why, sizeof(why)));
	fake_route_add(&s, "POST", CR_PATH, 1, 201, "{}");
	fake_route_add(&s, "GET", CR_PATH "/hippo", -1, 200,
		       "{\"spec\":{\"instances\":[{\"name\":\"zones\",\"replicas\":3}]},\"status\":{\"instances\":"
		       "[{\"name\":\"zones\",\"readyReplicas\":3,\"replicas\":3}]}}");
	fake_route_add(&s, "GET", PODS, -1, 200, "{\"kind\":\"PodList\",\"metadata\":{},\"items\":[]}");
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT(ops->exists(d));
	/* The pods are not there yet: not healthy, and up says why. */
	CU_ASSERT_FALSE(ops->wait_healthy(d, 0, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "0 of 3 instance pods");
	CU_ASSERT(fake_count(&s, "POST", CR_PATH) == 0);
	ops->close(d);
	unsetenv("BISE_K8S_OPERATOR");
	fake_server_stop(&s);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_operators", suite_init, suite_clean);

	CU_add_test(s, "objects pass their schemas", test_objects_valid);
	CU_add_test(s, "the projects' samples pass", test_samples_valid);
	CU_add_test(s, "the validator catches bad objects", test_validator_catches);
	CU_add_test(s, "zalando: create, wait, members, primary, delete", test_zalando);
	CU_add_test(s, "zalando: not ready, why", test_zalando_not_ready);
	CU_add_test(s, "crunchy: create, wait, members, primary, delete", test_crunchy);
	CU_add_test(s, "cozystack: create, wait, members via cnpg, delete", test_cozystack);
	CU_add_test(s, "driver: operator by option and environment", test_driver_operator);
}
