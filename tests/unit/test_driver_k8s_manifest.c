/*
 * test_driver_k8s_manifest.c - operator installation from a release manifest: release
 * URLs by version, fetching (https only, verified), splitting a multi-document manifest
 * (a fixture shaped like CloudNativePG's, and the real Cluster CRD of the reference pack),
 * then server-side apply against the fake API server: discovery answers shaped like the
 * real APIResourceList, the order of calls, the apply-patch content type and query, and
 * errors that name the object (422, an unknown kind, a group not served, a CRD that never
 * becomes Established).
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"
#include "k8s_test_common.h"

#include "kubernetes/manifest.h"
#include "kubernetes/operators.h"

#include <CUnit/CUnit.h>

#define FIXTURE "tests/unit/data/k8s/cnpg-release-mini.yaml"
#define CRD_PATH "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/scheduledbackups.postgresql.cnpg.io"
#define NS_PATH "/api/v1/namespaces/cnpg-system"
#define SA_PATH "/api/v1/namespaces/cnpg-system/serviceaccounts/cnpg-manager"
#define CR_PATH "/apis/rbac.authorization.k8s.io/v1/clusterroles/cnpg-manager"
#define DEP_PATH "/apis/apps/v1/namespaces/cnpg-system/deployments/cnpg-controller-manager"

/* Discovery answers as the API server gives them (trimmed to the kinds in the fixture). */
static const char disc_core[] =
	"{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
	"{\"name\":\"namespaces\",\"singularName\":\"namespace\",\"namespaced\":false,\"kind\":\"Namespace\","
	"\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],\"shortNames\":[\"ns\"],"
	"\"storageVersionHash\":\"Q3oi5N2YM8M=\"},"
	"{\"name\":\"namespaces/status\",\"singularName\":\"\",\"namespaced\":false,\"kind\":\"Namespace\","
	"\"verbs\":[\"get\",\"patch\",\"update\"]},"
	"{\"name\":\"serviceaccounts\",\"singularName\":\"serviceaccount\",\"namespaced\":true,"
	"\"kind\":\"ServiceAccount\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\","
	"\"patch\",\"update\",\"watch\"],\"shortNames\":[\"sa\"],\"storageVersionHash\":\"pbx9ZvyFpBE=\"}]}";
static const char disc_apiext[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apiextensions.k8s.io/v1\","
	"\"resources\":[{\"name\":\"customresourcedefinitions\",\"singularName\":\"customresourcedefinition\","
	"\"namespaced\":false,\"kind\":\"CustomResourceDefinition\",\"verbs\":[\"create\",\"delete\","
	"\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],\"shortNames\":[\"crd\",\"crds\"],"
	"\"categories\":[\"api-extensions\"],\"storageVersionHash\":\"jfWCUB31mvA=\"},"
	"{\"name\":\"customresourcedefinitions/status\",\"singularName\":\"\",\"namespaced\":false,"
	"\"kind\":\"CustomResourceDefinition\",\"verbs\":[\"get\",\"patch\",\"update\"]}]}";
static const char disc_rbac[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"rbac.authorization.k8s.io/v1\","
	"\"resources\":[{\"name\":\"clusterroles\",\"singularName\":\"clusterrole\",\"namespaced\":false,"
	"\"kind\":\"ClusterRole\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
	"\"update\",\"watch\"],\"storageVersionHash\":\"bYE5ZWDrJ44=\"}]}";
static const char disc_apps[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\",\"resources\":["
	"{\"name\":\"deployments\",\"singularName\":\"deployment\",\"namespaced\":true,\"kind\":\"Deployment\","
	"\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],"
	"\"shortNames\":[\"deploy\"],\"categories\":[\"all\"],\"storageVersionHash\":\"8aSe+NMegvE=\"},"
	"{\"name\":\"deployments/scale\",\"singularName\":\"\",\"namespaced\":true,\"group\":\"autoscaling\","
	"\"version\":\"v1\",\"kind\":\"Scale\",\"verbs\":[\"get\",\"patch\",\"update\"]},"
	"{\"name\":\"deployments/status\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Deployment\","
	"\"verbs\":[\"get\",\"patch\",\"update\"]}]}";
static const char disc_apps_no_deploy[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\",\"resources\":["
	"{\"name\":\"statefulsets\",\"singularName\":\"statefulset\",\"namespaced\":true,\"kind\":\"StatefulSet\","
	"\"verbs\":[\"get\",\"list\",\"patch\"]}]}";
static const char crd_established[] =
	"{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\",\"metadata\":"
	"{\"name\":\"scheduledbackups.postgresql.cnpg.io\"},\"status\":{\"conditions\":["
	"{\"type\":\"NamesAccepted\",\"status\":\"True\",\"reason\":\"NoConflicts\",\"message\":\"no conflicts found\"},"
	"{\"type\":\"Established\",\"status\":\"True\",\"reason\":\"InitialNamesAccepted\","
	"\"message\":\"the initial names have been accepted\"}]}}";
static const char crd_pending[] =
	"{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\",\"metadata\":"
	"{\"name\":\"scheduledbackups.postgresql.cnpg.io\"},\"status\":{\"conditions\":["
	"{\"type\":\"Established\",\"status\":\"False\",\"reason\":\"Installing\","
	"\"message\":\"the initial names have not been accepted yet\"}]}}";
static const char dep_progressing[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"cnpg-controller-manager\","
	"\"namespace\":\"cnpg-system\"},\"status\":{\"replicas\":1,\"unavailableReplicas\":1,\"conditions\":["
	"{\"type\":\"Available\",\"status\":\"False\",\"reason\":\"MinimumReplicasUnavailable\","
	"\"message\":\"Deployment does not have minimum availability.\"}]}}";
static const char dep_available[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"cnpg-controller-manager\","
	"\"namespace\":\"cnpg-system\"},\"status\":{\"replicas\":1,\"availableReplicas\":1,\"conditions\":["
	"{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\","
	"\"message\":\"Deployment has minimum availability.\"},{\"type\":\"Progressing\",\"status\":\"True\","
	"\"reason\":\"NewReplicaSetAvailable\"}]}}";

static json_object *fixture_docs(void)
{
	char path[1024];
	size_t len;
	char *text;
	json_object *docs;

	str_format(path, sizeof(path), "%s/" FIXTURE, source_dir());
	text = file_read_all(path, &len);
	if (!text)
		return NULL;
	docs = manifest_split(text, len, FIXTURE);
	free(text);
	return docs;
}

static const char *kind_at(json_object *docs, size_t i)
{
	return k8s_jstr(json_object_array_get_idx(docs, i), "kind");
}

static void test_release_url(void)
{
	char url[512], why[512];

	CU_ASSERT(manifest_release_url("cnpg", "1.30.0", url, sizeof(url), why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(url, "https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/"
			       "release-1.30/releases/cnpg-1.30.0.yaml");
	CU_ASSERT(manifest_release_url("cnpg", "1.28.12", url, sizeof(url), why, sizeof(why)));
	CU_ASSERT(strstr(url, "/release-1.28/releases/cnpg-1.28.12.yaml") != NULL);
	CU_ASSERT_FALSE(manifest_release_url("cnpg", "1.30", url, sizeof(url), why, sizeof(why)));
	CU_ASSERT(strstr(why, "not X.Y.Z") != NULL);
	CU_ASSERT_FALSE(manifest_release_url("cnpg", "1.30.0/../x", url, sizeof(url), why, sizeof(why)));
	CU_ASSERT_FALSE(manifest_release_url("zalando", "1.14.0", url, sizeof(url), why, sizeof(why)));
	CU_ASSERT(strstr(why, "--operator-manifest") != NULL);
	CU_ASSERT_FALSE(manifest_release_url("crunchy", "5.8.0", url, sizeof(url), why, sizeof(why)));
}

static void test_split_fixture(void)
{
	json_object *docs = fixture_docs();
	static const char *const kinds[] = { "Namespace", "CustomResourceDefinition", "ServiceAccount",
					     "ClusterRole", "Deployment" };

	CU_ASSERT_FATAL(docs != NULL);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(docs), 5);
	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_STRING_EQUAL(kind_at(docs, i), kinds[i]);
	/* Plain scalars keep their YAML types. */
	CU_ASSERT(json_object_is_type(k8s_jget(json_object_array_get_idx(docs, 4), "spec.replicas"),
				      json_type_int));
	json_object_put(docs);
}

static void test_split_edges(void)
{
	static const char text[] =
		"# leading comment\n---\n---\n# only a comment\n--- \napiVersion: v1\nkind: List\nitems:\n"
		"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: x}\n"
		"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b, namespace: x}\n"
		"...\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: c\n";
	static const char bad[] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\n"
				  "apiVersion: v1\nmetadata:\n  name: nokind\n";
	static const char broken[] = "apiVersion: v1\nkind: [unclosed\n";
	json_object *docs = manifest_split(text, strlen(text), "edges.yaml");
	char *log;

	CU_ASSERT_FATAL(docs != NULL);
	CU_ASSERT_EQUAL(json_object_array_length(docs), 3);
	CU_ASSERT_STRING_EQUAL(k8s_jstr(json_object_array_get_idx(docs, 1), "metadata.name"), "b");
	CU_ASSERT_STRING_EQUAL(kind_at(docs, 2), "Secret");
	json_object_put(docs);
	fake_capture_start();
	log_set_level(LOG_ERROR);
	CU_ASSERT(manifest_split(bad, strlen(bad), "bad.yaml") == NULL);
	CU_ASSERT(manifest_split(broken, strlen(broken), "broken.yaml") == NULL);
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT(strstr(log, "bad.yaml:5: document 2 is not a Kubernetes object") != NULL);
	CU_ASSERT(strstr(log, "broken.yaml") != NULL);
	free(log);
}

/* The real CNPG Cluster CRD (1.30.0) starts with "---": one document, the whole CRD. */
static void test_split_real_crd(void)
{
	char *path = reference_path("cnpg/postgresql.cnpg.io_clusters.yaml");
	size_t len;
	char *text = file_read_all(path, &len);
	json_object *docs;

	free(path);
	CU_ASSERT_FATAL(text != NULL);
	docs = manifest_split(text, len, "clusters.yaml");
	free(text);
	CU_ASSERT_FATAL(docs != NULL);
	CU_ASSERT_EQUAL(json_object_array_length(docs), 1);
	CU_ASSERT_STRING_EQUAL(k8s_jstr(json_object_array_get_idx(docs, 0), "metadata.name"),
			       "clusters.postgresql.cnpg.io");
	CU_ASSERT(schema_of_crd(json_object_array_get_idx(docs, 0), "v1") != NULL);
	json_object_put(docs);
}

static void test_fetch(void)
{
	struct fake_server s;
	char url[128], path[1024], *log, *text;
	size_t len;

	str_format(path, sizeof(path), "%s/" FIXTURE, source_dir());
	text = manifest_fetch(path, &len);
	CU_ASSERT(text != NULL && len > 1000 && strstr(text, "cnpg-controller-manager"));
	free(text);
	/* Only verified HTTPS: plain http is refused, and a certificate no system CA signed too. */
	CU_ASSERT_FATAL(fake_server_start(&s, true, k8s_test_certdir));
	fake_route_add(&s, "GET", "/cnpg.yaml", -1, 200, "apiVersion: v1\n");
	fake_capture_start();
	log_set_level(LOG_ERROR);
	str_format(url, sizeof(url), "http://127.0.0.1:%d/cnpg.yaml", s.port);
	CU_ASSERT(manifest_fetch(url, &len) == NULL);
	str_format(url, sizeof(url), "https://127.0.0.1:%d/cnpg.yaml", s.port);
	CU_ASSERT(manifest_fetch(url, &len) == NULL);
	CU_ASSERT(manifest_fetch("/nonexistent/cnpg.yaml", &len) == NULL);
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT(strstr(log, "only https:// URLs") != NULL);
	CU_ASSERT(strstr(log, "cannot fetch the operator manifest https://127.0.0.1") != NULL);
	CU_ASSERT(strstr(log, "cannot read the operator manifest /nonexistent") != NULL);
	CU_ASSERT_EQUAL(fake_count(&s, "GET", "/cnpg.yaml"), 0);
	free(log);
	fake_server_stop(&s);
}

/* Discovery and the objects' answers of a healthy install. */
static void routes(struct fake_server *s, const char *apps, bool established)
{
	fake_route_add(s, "GET", "/apis/apiextensions.k8s.io/v1", -1, 200, disc_apiext);
	fake_route_add(s, "GET", "/api/v1", -1, 200, disc_core);
	fake_route_add(s, "GET", "/apis/rbac.authorization.k8s.io/v1", -1, 200, disc_rbac);
	fake_route_add(s, "GET", "/apis/apps/v1", -1, 200, apps);
	fake_route_add(s, "PATCH", CRD_PATH, -1, 200, crd_pending);
	if (established)
		fake_route_add(s, "GET", CRD_PATH, 1, 200, crd_pending);
	fake_route_add(s, "GET", CRD_PATH, -1, 200, established ? crd_established : crd_pending);
	fake_route_add(s, "PATCH", NS_PATH, -1, 200, "{\"kind\":\"Namespace\"}");
	fake_route_add(s, "PATCH", SA_PATH, -1, 200, "{\"kind\":\"ServiceAccount\"}");
	fake_route_add(s, "PATCH", CR_PATH, -1, 200, "{\"kind\":\"ClusterRole\"}");
	fake_route_add(s, "PATCH", DEP_PATH, -1, 200, dep_progressing);
	fake_route_add(s, "GET", DEP_PATH, 2, 200, dep_progressing);
	fake_route_add(s, "GET", DEP_PATH, -1, 200, dep_available);
}

static void test_apply_order(void)
{
	struct fake_server s;
	struct k8s_client c;
	json_object *docs = fixture_docs();
	static const char *const want[][2] = {
		{ "GET", "/apis/apiextensions.k8s.io/v1" },
		{ "PATCH", CRD_PATH "?fieldManager=bise&force=true" },
		{ "GET", CRD_PATH }, { "GET", CRD_PATH },
		{ "GET", "/api/v1" },
		{ "PATCH", NS_PATH "?fieldManager=bise&force=true" },
		{ "PATCH", SA_PATH "?fieldManager=bise&force=true" },
		{ "GET", "/apis/rbac.authorization.k8s.io/v1" },
		{ "PATCH", CR_PATH "?fieldManager=bise&force=true" },
		{ "GET", "/apis/apps/v1" },
		{ "PATCH", DEP_PATH "?fieldManager=bise&force=true" },
		{ "GET", DEP_PATH }, { "GET", DEP_PATH }, { "GET", DEP_PATH },
	};
	size_t nwant = sizeof(want) / sizeof(want[0]);

	CU_ASSERT_FATAL(docs != NULL);
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	routes(&s, disc_apps, true);
	CU_ASSERT(manifest_apply(&c, docs, "default", 10 * 1000000LL, 1000));
	CU_ASSERT_EQUAL(s.nrequests, (int)nwant);
	for (size_t i = 0; i < nwant && i < (size_t)s.nrequests; i++) {
		CU_ASSERT_STRING_EQUAL(s.requests[i].method, want[i][0]);
		CU_ASSERT_STRING_EQUAL(s.requests[i].target, want[i][1]);
		if (strcmp(want[i][0], "PATCH") == 0) {
			json_object *sent = json_tokener_parse(s.requests[i].body);

			CU_ASSERT_STRING_EQUAL(s.requests[i].content_type, "application/apply-patch+yaml");
			/* The object goes as the manifest has it (JSON is YAML). */
			CU_ASSERT(sent && k8s_jstr(sent, "kind") && k8s_jstr(sent, "metadata.name"));
			json_object_put(sent);
		}
	}
	/* The Deployment went as parsed from the manifest, unchanged. */
	if (s.nrequests > 10) {
		json_object *sent = json_tokener_parse(s.requests[10].body);

		CU_ASSERT(json_object_equal(sent, json_object_array_get_idx(docs, 4)));
		json_object_put(sent);
	}
	k8s_client_free(&c);
	fake_server_stop(&s);
	json_object_put(docs);
}

/* manifest_apply of docs on c, which must fail: the errors it logged. */
static char *apply_failing(struct k8s_client *c, json_object *docs, int64_t timeout_us, int64_t poll_us)
{
	char *log;

	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(manifest_apply(c, docs, "default", timeout_us, poll_us));
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT_FATAL(log != NULL);
	return log;
}

/* The client and its server gone. */
static void stop(struct fake_server *s, struct k8s_client *c)
{
	k8s_client_free(c);
	fake_server_stop(s);
}

static void test_apply_errors(void)
{
	struct fake_server s;
	struct k8s_client c;
	json_object *docs = fixture_docs();
	char *invalid = fake_fixture("status-422-invalid.json"), *log;

	CU_ASSERT_FATAL(docs != NULL && invalid != NULL);
	/* A 422 on the Deployment: the error names it and the API's reason. */
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	fake_route_add(&s, "PATCH", DEP_PATH, -1, 422, invalid);
	routes(&s, disc_apps, true);
	log = apply_failing(&c, docs, 10 * 1000000LL, 1000);
	CU_ASSERT(strstr(log, "patch Deployment cnpg-system/cnpg-controller-manager: Invalid (HTTP 422)") != NULL);
	CU_ASSERT_EQUAL(fake_count(&s, "GET", DEP_PATH), 0);
	free(log);
	stop(&s, &c);

	/* apps/v1 served without Deployments: an unknown kind, named. */
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	routes(&s, disc_apps_no_deploy, true);
	log = apply_failing(&c, docs, 10 * 1000000LL, 1000);
	CU_ASSERT(strstr(log, "Deployment cnpg-controller-manager: unknown kind: the API server's "
			 "discovery of apps/v1 lists no kind Deployment") != NULL);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", DEP_PATH), 0);
	free(log);
	stop(&s, &c);

	/* rbac not served at all (404 on discovery). */
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	fake_route_add(&s, "GET", "/apis/rbac.authorization.k8s.io/v1", -1, 404,
		       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\","
		       "\"code\":404}");
	routes(&s, disc_apps, true);
	log = apply_failing(&c, docs, 10 * 1000000LL, 1000);
	CU_ASSERT(strstr(log, "ClusterRole cnpg-manager: the API server does not serve "
			 "rbac.authorization.k8s.io/v1") != NULL);
	free(log);
	stop(&s, &c);

	/* A CRD that stays not Established: nothing else is applied, the condition is quoted. */
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	routes(&s, disc_apps, false);
	log = apply_failing(&c, docs, 50 * 1000LL, 10 * 1000LL);
	CU_ASSERT(strstr(log, "CustomResourceDefinition scheduledbackups.postgresql.cnpg.io not "
			 "Established in time: the initial names have not been accepted yet") != NULL);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NS_PATH), 0);
	free(log);
	stop(&s, &c);
	free(invalid);
	json_object_put(docs);
}

/* A dry run sends nothing: discovery is recorded, plurals guessed, nothing waited for. */
static void test_apply_dry_run(void)
{
	struct fake_server s;
	struct k8s_client c;
	json_object *docs = fixture_docs();

	CU_ASSERT_FATAL(docs != NULL);
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, true));
	CU_ASSERT(manifest_apply(&c, docs, "default", 1000000LL, 1000));
	CU_ASSERT_EQUAL(s.nrequests, 0);
	CU_ASSERT_EQUAL(c.ncalls, 9);
	if (c.ncalls == 9) {
		CU_ASSERT_STRING_EQUAL(c.calls[1].path, CRD_PATH "?fieldManager=bise&force=true");
		CU_ASSERT_STRING_EQUAL(c.calls[3].path, NS_PATH "?fieldManager=bise&force=true");
		CU_ASSERT_STRING_EQUAL(c.calls[6].path, CR_PATH "?fieldManager=bise&force=true");
		CU_ASSERT_STRING_EQUAL(c.calls[8].path, DEP_PATH "?fieldManager=bise&force=true");
	}
	k8s_client_free(&c);
	fake_server_stop(&s);
	json_object_put(docs);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_manifest", k8s_test_suite_init, k8s_test_suite_clean);

	CU_add_test(s, "release URL by version", test_release_url);
	CU_add_test(s, "split the fixture", test_split_fixture);
	CU_add_test(s, "split: empty documents, List, errors", test_split_edges);
	CU_add_test(s, "split the real CNPG CRD", test_split_real_crd);
	CU_add_test(s, "fetch: file, https verified, http refused", test_fetch);
	CU_add_test(s, "apply: discovery, order, SSA", test_apply_order);
	CU_add_test(s, "apply: 422, unknown kind, group not served, CRD pending", test_apply_errors);
	CU_add_test(s, "apply: dry run", test_apply_dry_run);
}
