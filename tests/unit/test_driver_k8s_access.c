/*
 * test_driver_k8s_access.c - how the workload reaches PostgreSQL on Kubernetes
 * (drivers/kubernetes/access.h): the --pg-access modes, bise's NodePort Services (the rw
 * one selecting each operator's primary, one per zone selecting bise.io/zone; every one
 * passes the core API's v1 Service definition and carries bise's labels), their removal,
 * the credentials decoded from each operator's Secret (the password never logged; a
 * missing Secret named), and the driver's entry/members/can/sweep against the fake
 * API server.
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"
#include "k8s_test_common.h"

#include "kubernetes/access.h"
#include "kubernetes/k8s_driver.h"

#include <CUnit/CUnit.h>

#define NS "tenant-root"
#define PODS "/api/v1/namespaces/" NS "/pods"
#define SVCS "/api/v1/namespaces/" NS "/services"
#define SECRETS "/api/v1/namespaces/" NS "/secrets"
#define PASSWORD "n0t-in-any-log-7Qx"
#define PASSWORD_B64 "bjB0LWluLWFueS1sb2ctN1F4"

/*
 * The v1.14 subset of the reference pack has no Service: these three definitions are
 * EXTRACTED from kubernetes/kubernetes api/openapi-spec/swagger.json @ 0021731de589
 * (descriptions dropped; ServiceStatus and SessionAffinityConfig left out: bise sends
 * neither). ObjectMeta and IntOrString come from the pack.
 */
static const char service_defs[] =
	"{\"io.k8s.api.core.v1.Service\":{\"type\":\"object\",\"properties\":{"
	"\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
	"\"metadata\":{\"$ref\":\"#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta\"},"
	"\"spec\":{\"$ref\":\"#/definitions/io.k8s.api.core.v1.ServiceSpec\"},"
	"\"status\":{\"$ref\":\"#/definitions/io.k8s.api.core.v1.ServiceStatus\"}}},"
	"\"io.k8s.api.core.v1.ServiceSpec\":{\"type\":\"object\",\"properties\":{"
	"\"allocateLoadBalancerNodePorts\":{\"type\":\"boolean\"},\"clusterIP\":{\"type\":\"string\"},"
	"\"clusterIPs\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"externalIPs\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"externalName\":{\"type\":\"string\"},\"externalTrafficPolicy\":{\"type\":\"string\"},"
	"\"healthCheckNodePort\":{\"type\":\"integer\",\"format\":\"int32\"},"
	"\"internalTrafficPolicy\":{\"type\":\"string\"},"
	"\"ipFamilies\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"ipFamilyPolicy\":{\"type\":\"string\"},\"loadBalancerClass\":{\"type\":\"string\"},"
	"\"loadBalancerIP\":{\"type\":\"string\"},"
	"\"loadBalancerSourceRanges\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"ports\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/io.k8s.api.core.v1.ServicePort\"}},"
	"\"publishNotReadyAddresses\":{\"type\":\"boolean\"},"
	"\"selector\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
	"\"sessionAffinity\":{\"type\":\"string\"},"
	"\"sessionAffinityConfig\":{\"$ref\":\"#/definitions/io.k8s.api.core.v1.SessionAffinityConfig\"},"
	"\"trafficDistribution\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}}},"
	"\"io.k8s.api.core.v1.ServicePort\":{\"type\":\"object\",\"required\":[\"port\"],\"properties\":{"
	"\"appProtocol\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
	"\"nodePort\":{\"type\":\"integer\",\"format\":\"int32\"},"
	"\"port\":{\"type\":\"integer\",\"format\":\"int32\"},\"protocol\":{\"type\":\"string\"},"
	"\"targetPort\":{\"$ref\":\"#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString\"}}}}";

static json_object *swagger, *svc_schema;

static int suite_init(void)
{
	json_object *defs, *extra;

	log_set_level(LOG_QUIET);
	swagger = schema_load("core/k8s-v1.14-core-subset.swagger.json");
	extra = json_tokener_parse(service_defs);
	if (!swagger || !extra || !json_object_object_get_ex(swagger, "definitions", &defs))
		return 1;
	json_object_object_foreach(extra, key, val)
		json_object_object_add(defs, key, json_object_get(val));
	json_object_put(extra);
	if (!json_object_object_get_ex(defs, "io.k8s.api.core.v1.Service", &svc_schema))
		return 1;
	return k8s_test_suite_init();
}

static int suite_clean(void)
{
	json_object_put(swagger);
	return k8s_test_suite_clean();
}

static int svc_check(json_object *o, const char *what)
{
	schema_root = swagger;
	return schema_check(svc_schema, o, what);
}

static int int_at(json_object *o, const char *ptr)
{
	json_object *v;

	return json_pointer_get(o, ptr, &v) == 0 ? json_object_get_int(v) : -1;
}

/* Index of the first request with method and path, -1 if none (for ordering checks). */
static int request_index(struct fake_server *s, const char *method, const char *path)
{
	for (int i = 0; i < s->nrequests; i++)
		if (strcmp(s->requests[i].method, method) == 0 &&
		    strncmp(s->requests[i].target, path, strlen(path)) == 0)
			return i;
	return -1;
}

static void test_parse(void)
{
	struct k8s_access a;
	char why[256];

	CU_ASSERT(k8s_access_parse(NULL, NULL, "kind-bise", &a, why, sizeof(why)));
	CU_ASSERT_EQUAL(a.mode, K8S_ACCESS_NODEPORT);
	CU_ASSERT_STRING_EQUAL(a.host, "127.0.0.1");
	CU_ASSERT(k8s_access_parse("", NULL, "hikube-prod", &a, why, sizeof(why)));
	CU_ASSERT_EQUAL(a.mode, K8S_ACCESS_NONE);
	CU_ASSERT(k8s_access_parse("nodeport", "192.168.1.20", "prod", &a, why, sizeof(why)));
	CU_ASSERT_EQUAL(a.mode, K8S_ACCESS_NODEPORT);
	CU_ASSERT_STRING_EQUAL(a.host, "192.168.1.20");
	CU_ASSERT(k8s_access_parse("none", NULL, "kind-bise", &a, why, sizeof(why)));
	CU_ASSERT_EQUAL(a.mode, K8S_ACCESS_NONE);
	CU_ASSERT(k8s_access_parse("pg.example.hikube.cloud:5432", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_EQUAL(a.mode, K8S_ACCESS_ADDRESS);
	CU_ASSERT_STRING_EQUAL(a.host, "pg.example.hikube.cloud");
	CU_ASSERT_EQUAL(a.port, 5432);
	CU_ASSERT(k8s_access_parse("[2001:db8::7]:6432", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(a.host, "2001:db8::7");
	CU_ASSERT_EQUAL(a.port, 6432);
	CU_ASSERT_FALSE(k8s_access_parse("loadbalancer", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "want nodeport, none or HOST:PORT"));
	CU_ASSERT_FALSE(k8s_access_parse("db:99999", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_FALSE(k8s_access_parse(":5432", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_FALSE(k8s_access_parse("[]:5432", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_FALSE(k8s_access_parse("2001:db8::7:5432", NULL, NULL, &a, why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "[ADDRESS]:PORT"));
}

static void test_service_object(void)
{
	json_object *o = k8s_access_service(NS, "pg", "rw", "cnpg.io/cluster=pg,cnpg.io/instanceRole=primary",
					    ACCESS_RW_NODEPORT);
	char name[128];

	CU_ASSERT_EQUAL(svc_check(o, "rw service"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/metadata/name", "bise-pg-rw"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/app.kubernetes.io~1managed-by", "bise"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1cluster", "pg"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1access", "rw"));
	CU_ASSERT(strncmp(json_object_get_string(json_object_object_get(json_object_object_get(
		json_object_object_get(o, "metadata"), "labels"), "bise.io/run")), "bise-", 5) == 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/type", "NodePort"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/selector/cnpg.io~1instanceRole", "primary"));
	CU_ASSERT_EQUAL(int_at(o, "/spec/ports/0/nodePort"), 30432);
	CU_ASSERT_EQUAL(int_at(o, "/spec/ports/0/targetPort"), 5432);
	json_object_put(o);
	/* The validator does catch a misspelt field. */
	o = json_tokener_parse("{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"nodeport\":1}]}}");
	CU_ASSERT(svc_check(o, "(expected errors)") == 2);
	json_object_put(o);
	CU_ASSERT(k8s_access_service_name("pg", "lucerne", name, sizeof(name)));
	CU_ASSERT_STRING_EQUAL(name, "bise-pg-lucerne");
	CU_ASSERT_FALSE(k8s_access_service_name("a-cluster-name-far-too-long-for-a-service-name-in-k8s", "lucerne",
						name, sizeof(name)));
}

/* The Cluster bise creates gives the workload the postgres user's Secret (<name>-superuser). */
static void test_cnpg_superuser(void)
{
	json_object *crd = schema_load("cnpg/postgresql.cnpg.io_clusters.yaml"), *o;
	struct cluster_spec spec;

	CU_ASSERT_FATAL(crd != NULL);
	k8s_test_spec(&spec, "pg");
	o = cnpg_cluster_object(&spec, NS, NULL);
	CU_ASSERT_EQUAL(schema_check(schema_of_crd(crd, "v1"), o, "cnpg cluster"), 0);
	CU_ASSERT(json_object_get_boolean(json_object_object_get(json_object_object_get(o, "spec"),
								 "enableSuperuserAccess")));
	json_object_put(o);
	json_object_put(crd);
}

/* Every operator: the rw Service selects its primary pod; the zone ones bise's zone label. */
static void test_ensure_per_operator(void)
{
	static const struct {
		const char *op, *key, *value, *key2, *value2;
	} cases[] = {
		{ "cnpg", "cnpg.io~1cluster", "pg", "cnpg.io~1instanceRole", "primary" },
		{ "cozystack", "cnpg.io~1cluster", "postgres-pg", "cnpg.io~1instanceRole", "primary" },
		{ "zalando", "cluster-name", "pg", "spilo-role", "master" },
		{ "crunchy", "postgres-operator.crunchydata.com~1cluster", "pg",
		  "postgres-operator.crunchydata.com~1role", "master" },
	};
	struct cnpg_member m[3];
	struct cluster_spec spec;

	k8s_test_members(m);
	k8s_test_spec(&spec, "pg");
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct k8s_operator *op = k8s_operator_find(cases[k].op);
		struct fake_server s;
		struct k8s_client c;
		struct fake_request *r;
		json_object *o;

		CU_ASSERT_FATAL(op != NULL && op->primary_selector && op->secrets);
		CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
		for (int i = 0; i < 3; i++) {
			char path[128];

			str_format(path, sizeof(path), PODS "/%s", m[i].name);
			fake_route_add(&s, "PATCH", path, -1, 200, "{\"kind\":\"Pod\"}");
		}
		fake_route_add(&s, "POST", SVCS, -1, 201, "{\"kind\":\"Service\"}");
		CU_ASSERT(k8s_access_ensure(&c, NS, &spec, op, m, 3));
		CU_ASSERT_EQUAL(fake_count(&s, "POST", SVCS), 4);
		/* The pods carry their zone before a Service selects it. */
		CU_ASSERT(request_index(&s, "PATCH", PODS "/pg-3") < request_index(&s, "POST", SVCS));
		for (int i = 0; i < 4; i++) {
			r = k8s_test_request(&s, "POST", SVCS, i);
			CU_ASSERT_FATAL(r != NULL);
			o = json_tokener_parse(r->body);
			CU_ASSERT_EQUAL(svc_check(o, cases[k].op), 0);
			CU_ASSERT(k8s_test_str_at(o, "/spec/type", "NodePort"));
			CU_ASSERT_EQUAL(int_at(o, "/spec/ports/0/nodePort"), 30432 + i);
			CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1cluster", "pg"));
			if (i == 0) {
				char ptr[128];

				CU_ASSERT(k8s_test_str_at(o, "/metadata/name", "bise-pg-rw"));
				str_format(ptr, sizeof(ptr), "/spec/selector/%s", cases[k].key);
				CU_ASSERT(k8s_test_str_at(o, ptr, cases[k].value));
				str_format(ptr, sizeof(ptr), "/spec/selector/%s", cases[k].key2);
				CU_ASSERT(k8s_test_str_at(o, ptr, cases[k].value2));
			} else {
				char name[64];

				str_format(name, sizeof(name), "bise-pg-%s", spec.zones[i - 1]);
				CU_ASSERT(k8s_test_str_at(o, "/metadata/name", name));
				CU_ASSERT(k8s_test_str_at(o, "/spec/selector/bise.io~1zone", spec.zones[i - 1]));
				CU_ASSERT(k8s_test_str_at(o, "/spec/selector/bise.io~1cluster", "pg"));
				CU_ASSERT_EQUAL(json_object_object_length(json_object_object_get(
					json_object_object_get(o, "spec"), "selector")), 2);
			}
			json_object_put(o);
		}
		k8s_client_free(&c);
		fake_server_stop(&s);
	}
}

static void test_ensure_errors(void)
{
	struct cnpg_member m[3];
	const struct k8s_operator *op = k8s_operator_find("cnpg");
	struct cluster_spec spec;
	struct fake_server s;
	struct k8s_client c;
	char *log, *exists, *invalid;

	k8s_test_members(m);
	k8s_test_spec(&spec, "pg");
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	for (int i = 0; i < 3; i++) {
		char path[128];

		str_format(path, sizeof(path), PODS "/%s", m[i].name);
		fake_route_add(&s, "PATCH", path, -1, 200, "{\"kind\":\"Pod\"}");
	}
	/* Services left by an earlier up are kept (attaching to a running cluster). */
	exists = fake_fixture("status-409-alreadyexists.json");
	fake_route_add(&s, "POST", SVCS, 4, 409, exists);
	CU_ASSERT(k8s_access_ensure(&c, NS, &spec, op, m, 3));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", SVCS), 4);
	/* A nodePort another Service holds: refused, and said. */
	invalid = fake_fixture("status-422-invalid.json");
	fake_route_add(&s, "POST", SVCS, -1, 422, invalid);
	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(k8s_access_ensure(&c, NS, &spec, op, m, 3));
	/* A pod without a zone cannot be given a zone Service. */
	m[1].zone[0] = '\0';
	CU_ASSERT_FALSE(k8s_access_ensure(&c, NS, &spec, op, m, 3));
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "service " NS "/bise-pg-rw"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "pod " NS "/pg-2 has no zone"));
	free(log);
	free(exists);
	free(invalid);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static void test_remove(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct fake_request *r;

	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	/* Nothing there (or no list route at all): done. */
	CU_ASSERT(k8s_access_remove(&c, NS, "pg"));
	fake_route_add(&s, "GET", SVCS, -1, 200, "{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"metadata\":{},"
		       "\"items\":[{\"metadata\":{\"name\":\"bise-pg-rw\"}},{\"metadata\":{\"name\":\"bise-pg-geneva\"}}]}");
	fake_route_add(&s, "DELETE", SVCS "/bise-pg-rw", -1, 200, "{\"kind\":\"Service\"}");
	fake_route_add(&s, "DELETE", SVCS "/bise-pg-geneva", 1, 404, "{\"kind\":\"Status\",\"code\":404}");
	CU_ASSERT(k8s_access_remove(&c, NS, "pg"));
	r = k8s_test_request(&s, "GET", SVCS, 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, SVCS "?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dbise"
			       "%2Cbise.io%2Fcluster%3Dpg%2Cbise.io%2Faccess&limit=100");
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", SVCS "/bise-pg-rw"), 1);
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", SVCS "/bise-pg-geneva"), 1); /* gone already: fine */
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static char *secret(const char *name, const char *user_key, const char *user_b64, const char *db_b64)
{
	char buf[1024];

	str_format(buf, sizeof(buf), "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\"},"
		   "\"type\":\"kubernetes.io/basic-auth\",\"data\":{\"%s\":\"%s\",\"password\":\"" PASSWORD_B64 "\"%s%s%s}}",
		   name, user_key, user_b64, db_b64 ? ",\"dbname\":\"" : "", db_b64 ? db_b64 : "", db_b64 ? "\"" : "");
	return xstrdup(buf);
}

static void test_credentials(void)
{
	static const struct {
		const char *op, *secret, *user_key, *user_b64, *db_b64, *user, *db;
	} cases[] = {
		/* CNPG's superuser Secret: dbname "*" means any: postgres. */
		{ "cnpg", "pg-superuser", "username", "cG9zdGdyZXM=", "Kg==", "postgres", "postgres" },
		{ "cozystack", "postgres-pg-superuser", "username", "cG9zdGdyZXM=", NULL, "postgres", "app" },
		{ "zalando", "postgres.pg.credentials.postgresql.acid.zalan.do", "username", "cG9zdGdyZXM=", NULL,
		  "postgres", "postgres" },
		{ "crunchy", "pg-pguser-pg", "user", "aGlwcG8=", "aGlwcG8=", "hippo", "hippo" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct k8s_operator *op = k8s_operator_find(cases[k].op);
		struct pg_endpoint ep;
		struct fake_server s;
		struct k8s_client c;
		char path[256], *body, *log;

		CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
		str_format(path, sizeof(path), SECRETS "/%s", cases[k].secret);
		body = secret(cases[k].secret, cases[k].user_key, cases[k].user_b64, cases[k].db_b64);
		fake_route_add(&s, "GET", path, -1, 200, body);
		free(body);
		memset(&ep, 0, sizeof(ep));
		CU_ASSERT_FATAL(fake_capture_start());
		log_set_level(LOG_DEBUG);
		CU_ASSERT(k8s_access_credentials(&c, NS, "pg", op, &ep));
		log_set_level(LOG_QUIET);
		log = fake_capture_end();
		CU_ASSERT_STRING_EQUAL(ep.user, cases[k].user);
		CU_ASSERT_STRING_EQUAL(ep.password, PASSWORD);
		CU_ASSERT_STRING_EQUAL(ep.dbname, cases[k].db);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, cases[k].secret));
		CU_ASSERT_PTR_NULL(strstr(log, PASSWORD));
		CU_ASSERT_PTR_NULL(strstr(log, PASSWORD_B64));
		free(log);
		k8s_client_free(&c);
		fake_server_stop(&s);
	}
}

static void test_credentials_fallback_and_missing(void)
{
	const struct k8s_operator *op = k8s_operator_find("cnpg");
	struct pg_endpoint ep;
	struct fake_server s;
	struct k8s_client c;
	char *body, *log;

	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	/* A Cluster without superuser access: the app user and its database. */
	body = secret("pg-app", "username", "YXBw", "YXBw");
	fake_route_add(&s, "GET", SECRETS "/pg-app", 1, 200, body);
	free(body);
	memset(&ep, 0, sizeof(ep));
	CU_ASSERT(k8s_access_credentials(&c, NS, "pg", op, &ep));
	CU_ASSERT_STRING_EQUAL(ep.user, "app");
	CU_ASSERT_STRING_EQUAL(ep.dbname, "app");
	CU_ASSERT_EQUAL(fake_count(&s, "GET", SECRETS "/pg-superuser"), 1);

	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(k8s_access_credentials(&c, NS, "pg", op, &ep));
	/* A Secret without a password is no credential either. */
	fake_route_add(&s, "GET", SECRETS "/pg-superuser", 1, 200,
		       "{\"kind\":\"Secret\",\"data\":{\"username\":\"cG9zdGdyZXM=\"}}");
	CU_ASSERT_FALSE(k8s_access_credentials(&c, NS, "pg", op, &ep));
	/* Forbidden: the API's answer, no guessing further. */
	body = fake_fixture("status-403-forbidden.json");
	fake_route_add(&s, "GET", SECRETS "/pg-superuser", 1, 403, body);
	free(body);
	CU_ASSERT_FALSE(k8s_access_credentials(&c, NS, "pg", op, &ep));
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "no PostgreSQL credentials for CloudNativePG " NS "/pg: none of the "
				     "secrets pg-superuser, pg-app exists"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "secret " NS "/pg-superuser: no readable password"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "403"));
	free(log);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

/* ---- the driver ---- */

/* bise's Services accepted, and the superuser Secret of the CNPG cluster pg. */
static void add_access(struct fake_server *s)
{
	char *sec = secret("pg-superuser", "username", "cG9zdGdyZXM=", "Kg==");

	fake_route_add(s, "POST", SVCS, -1, 201, "{\"kind\":\"Service\"}");
	fake_route_add(s, "GET", SECRETS "/pg-superuser", -1, 200, sec);
	free(sec);
}

static void test_driver_nodeport(void)
{
	const struct driver_ops *ops;
	struct member m[DRIVER_MAX_MEMBERS];
	struct pg_endpoint e;
	struct fake_server s;
	struct driver *d;
	char why[256] = "";
	int n;

	d = k8s_test_start_cluster(&s, NS, "nodeport", 0, NULL, &ops);
	add_access(&s);
	CU_ASSERT(ops->caps & DRIVER_CAP_SQL);
	CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_SQL, why, sizeof(why)));
	CU_ASSERT_FATAL(ops->entry != NULL);
	CU_ASSERT_FATAL(ops->entry(d, &e));
	CU_ASSERT_STRING_EQUAL(e.host, "127.0.0.1");
	CU_ASSERT_EQUAL(e.port, 30432);
	CU_ASSERT_STRING_EQUAL(e.user, "postgres");
	CU_ASSERT_STRING_EQUAL(e.password, PASSWORD);
	CU_ASSERT_STRING_EQUAL(e.dbname, "postgres");
	CU_ASSERT_EQUAL(fake_count(&s, "POST", SVCS), 4);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-2"), 1);
	n = ops->members(d, m, DRIVER_MAX_MEMBERS);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(m[i].endpoint.host, "127.0.0.1");
		CU_ASSERT_EQUAL(m[i].endpoint.port, 30433 + i); /* zones in the spec's order */
		CU_ASSERT_STRING_EQUAL(m[i].endpoint.password, PASSWORD);
	}
	/* sweep (and so down) deletes bise's Services. */
	fake_route_add(&s, "GET", SVCS, -1, 200, "{\"kind\":\"ServiceList\",\"metadata\":{},\"items\":["
		       "{\"metadata\":{\"name\":\"bise-pg-rw\"}}]}");
	fake_route_add(&s, "DELETE", SVCS "/bise-pg-rw", -1, 200, "{\"kind\":\"Service\"}");
	CU_ASSERT(ops->sweep(d));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", SVCS "/bise-pg-rw"), 1);
	ops->close(d);
	fake_server_stop(&s);
}

static void test_driver_address_and_none(void)
{
	const struct driver_ops *ops;
	struct member m[DRIVER_MAX_MEMBERS];
	struct pg_endpoint e;
	struct fake_server s;
	struct driver *d;
	char why[256] = "";

	/* A managed cluster's external read-write service: writers only, no Service made. */
	d = k8s_test_start_cluster(&s, NS, "pg-rw.example.net:5433", 0, NULL, &ops);
	add_access(&s);
	CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_SQL, why, sizeof(why)));
	CU_ASSERT_FATAL(ops->entry(d, &e));
	CU_ASSERT_STRING_EQUAL(e.host, "pg-rw.example.net");
	CU_ASSERT_EQUAL(e.port, 5433);
	CU_ASSERT_STRING_EQUAL(e.password, PASSWORD);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", SVCS), 0);
	CU_ASSERT_EQUAL(ops->members(d, m, DRIVER_MAX_MEMBERS), 3);
	CU_ASSERT_STRING_EQUAL(m[0].endpoint.host, "");
	CU_ASSERT_STRING_EQUAL(m[0].zone, "geneva");
	ops->close(d);

	/* No access mode (not a kind context): no workload, and why. */
	d = k8s_test_open_driver(&s, NS, NULL, &ops);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FALSE(k8s_test_can_caps(ops, d, DRIVER_CAP_SQL, why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no access to PostgreSQL from here: use --pg-access"));
	CU_ASSERT(ops->entry(d, &e));
	CU_ASSERT_STRING_EQUAL(e.host, "");
	CU_ASSERT_EQUAL(ops->members(d, m, DRIVER_MAX_MEMBERS), 3);
	CU_ASSERT_STRING_EQUAL(m[1].endpoint.host, "10.244.2.9"); /* as before: the pod's IP */
	ops->close(d);

	/* A bad mode is refused when the driver opens. */
	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	d = k8s_test_open_driver(&s, NS, "balancer", &ops);
	log_set_level(LOG_QUIET);
	{
		char *log = fake_capture_end();

		CU_ASSERT_PTR_NULL(d);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "--pg-access balancer: want nodeport, none or HOST:PORT"));
		free(log);
	}
	fake_server_stop(&s);
}

/*
 * What the runner journals: a heal started later, with other defaults (another namespace
 * here), is taken back to the run's kubeconfig, context and namespace.
 */
static void test_target(void)
{
	const struct driver_ops *ops;
	struct k8s_options other = { 0 };
	struct cluster_spec spec;
	struct fake_server s;
	struct driver *d;
	char target[2048], again[2048], why[2300];
	struct driver_options *heal = xmalloc(sizeof(*heal));
	json_object *o;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->target);
	CU_ASSERT_FATAL(ops->target(d, target, sizeof(target)));
	ops->close(d);
	o = json_tokener_parse(target);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(k8s_test_str_at(o, "/namespace", NS));
	CU_ASSERT(k8s_test_str_at(o, "/operator", "cnpg"));
	CU_ASSERT(json_object_object_get_ex(o, "context", NULL) && json_object_object_get_ex(o, "kubeconfig", NULL));
	json_object_put(o);

	other.ns = "elsewhere";
	k8s_test_options(&other, NULL);
	driver_options_init(heal, ops);
	CU_ASSERT_FATAL(driver_options_from_target(heal, target, why, sizeof(why)));
	k8s_test_spec(&spec, "pg");
	d = ops->open(&spec, NULL, heal);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(ops->target(d, again, sizeof(again)));
	CU_ASSERT_STRING_EQUAL(again, target);
	ops->close(d);
	/* Not what bise writes: refused, nothing configured from it. */
	log_set_level(LOG_QUIET);
	CU_ASSERT_FALSE(driver_options_from_target(heal, "{\"namespace\":1}", why, sizeof(why)));
	CU_ASSERT_FALSE(driver_options_from_target(heal, "not json", why, sizeof(why)));
	free(heal);
	fake_server_stop(&s);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_access", suite_init, suite_clean);

	CU_add_test(s, "access modes", test_parse);
	CU_add_test(s, "a Service passes the v1 Service schema", test_service_object);
	CU_add_test(s, "the CNPG Cluster enables superuser access", test_cnpg_superuser);
	CU_add_test(s, "rw and zone Services for every operator", test_ensure_per_operator);
	CU_add_test(s, "Services kept (409) or refused (422), zoneless pods", test_ensure_errors);
	CU_add_test(s, "Services removed by label", test_remove);
	CU_add_test(s, "credentials from each operator's Secret", test_credentials);
	CU_add_test(s, "app fallback, missing Secret, missing key, 403", test_credentials_fallback_and_missing);
	CU_add_test(s, "driver: nodeport entry, members, sweep", test_driver_nodeport);
	CU_add_test(s, "driver: HOST:PORT, none, bad mode", test_driver_address_and_none);
	CU_add_test(s, "the journal's target brings heal back to the run's namespace", test_target);
}
