/*
 * test_driver_k8s_faults.c - the Kubernetes faults: NetworkPolicy partitions (the policy
 * passes the core API's networking.k8s.io/v1 NetworkPolicy definition; pods labelled with
 * their zone; revert and sweep delete by label) and Chaos Mesh experiments (NetworkChaos,
 * IOChaos, PodChaos pass their CRDs; unsupported combinations say why; detection of the
 * API group). Then the driver's net_apply/net_revert/io_fault/io_heal/sweep against the
 * fake API server, with and without Chaos Mesh, and its skip reasons (can). Zone
 * outages, re-labelling and the runner's skips: test_driver_k8s_zone.c.
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"
#include "k8s_test_common.h"

#include "kubernetes/chaosmesh.h"
#include "kubernetes/k8s_driver.h"
#include "kubernetes/netpolicy.h"

#include <CUnit/CUnit.h>

#define NS "tenant-root"
#define PODS "/api/v1/namespaces/" NS "/pods"
#define NETPOL "/apis/networking.k8s.io/v1/namespaces/" NS "/networkpolicies"
#define CM "/apis/chaos-mesh.org/v1alpha1"
#define STATUS_OK "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}"
#define FAULT_ID "bise-4242-7"

static json_object *swagger, *np_schema, *crds[3], *cm_schema[3];
static const char *const crd_files[3] = { "chaos-mesh/chaos-mesh.org_networkchaos.yaml",
					  "chaos-mesh/chaos-mesh.org_iochaos.yaml",
					  "chaos-mesh/chaos-mesh.org_podchaos.yaml" };
enum { NETWORK, IO, POD };

static int suite_init(void)
{
	json_object *defs;

	log_set_level(LOG_QUIET);
	swagger = schema_load("core/k8s-v1.14-core-subset.swagger.json");
	if (!swagger || !json_object_object_get_ex(swagger, "definitions", &defs) ||
	    !json_object_object_get_ex(defs, "io.k8s.api.networking.v1.NetworkPolicy", &np_schema))
		return 1;
	for (int i = 0; i < 3; i++)
		if (!(crds[i] = schema_load(crd_files[i])) || !(cm_schema[i] = schema_of_crd(crds[i], "v1alpha1")))
			return 1;
	return k8s_test_suite_init();
}

static int suite_clean(void)
{
	json_object_put(swagger);
	for (int i = 0; i < 3; i++)
		json_object_put(crds[i]);
	return k8s_test_suite_clean();
}

/* NetworkPolicies refer into the Swagger definitions. */
static int np_check(json_object *o, const char *what)
{
	schema_root = swagger;
	return schema_check(np_schema, o, what);
}

static const char zones_b[2][ZONE_NAME_LEN] = { "lucerne", "gland" };
static const char zone_a[1][ZONE_NAME_LEN] = { "geneva" };

static void test_netpolicy_object(void)
{
	json_object *o = netpolicy_object(NS, "pg", "geneva", zones_b, 2, FAULT_ID);
	char run[64], *text;

	CU_ASSERT_EQUAL(np_check(o, "netpolicy"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/metadata/name", FAULT_ID "-geneva"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1run", "bise-4242"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1fault", FAULT_ID));
	CU_ASSERT(k8s_test_str_at(o, "/spec/podSelector/matchLabels/bise.io~1zone", "geneva"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/podSelector/matchLabels/bise.io~1cluster", "pg"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/policyTypes/1", "Egress"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/ingress/0/from/0/podSelector/matchExpressions/0/operator", "NotIn"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/egress/0/to/0/podSelector/matchExpressions/0/values/1", "gland"));
	json_object_put(o);
	netpolicy_run_of("odd", run, sizeof(run));
	CU_ASSERT_STRING_EQUAL(run, "odd");
	/* The reference examples pass; a policy with a typo does not. */
	for (int i = 0; i < 2; i++) {
		text = fake_fixture(i ? "networkpolicy-isolate-pod.json" : "networkpolicy-allow-from-ns-port.json");
		o = json_tokener_parse(text);
		CU_ASSERT_EQUAL(np_check(o, "example"), 0);
		json_object_put(o);
		free(text);
	}
	{
		char errs[2048] = "";

		o = json_tokener_parse("{\"spec\":{\"podSelector\":{},\"policyType\":[\"Ingress\"],\"ingress\":[{\"from\":"
				       "[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\"}]}}]}]}}");
		schema_root = swagger;
		CU_ASSERT(schema_validate(np_schema, o, "", errs, sizeof(errs)) == 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, ".spec.policyType: unknown field"));
		CU_ASSERT_PTR_NOT_NULL(strstr(errs, "matchExpressions[0].operator: required"));
		json_object_put(o);
	}
}

static void test_netpolicy_partition(void)
{
	struct cnpg_member m[3];
	struct fake_server s;
	struct k8s_client c;
	struct fake_request *r;
	json_object *o;

	k8s_test_members(m);
	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	for (int i = 0; i < 3; i++) {
		char path[128];

		str_format(path, sizeof(path), PODS "/%s", m[i].name);
		fake_route_add(&s, "PATCH", path, -1, 200, "{\"kind\":\"Pod\"}");
	}
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	fake_route_add(&s, "DELETE", NETPOL, -1, 200, "{\"kind\":\"NetworkPolicyList\",\"apiVersion\":"
		       "\"networking.k8s.io/v1\",\"metadata\":{},\"items\":[]}");
	CU_ASSERT(netpolicy_partition(&c, NS, "pg", m, 3, zone_a, 1, zones_b, 2, FAULT_ID));
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-2"), 1);
	r = k8s_test_request(&s, "PATCH", PODS "/pg-2", 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->body, "{\"metadata\":{\"labels\":{\"bise.io/cluster\":\"pg\",\"bise.io/zone\":\"lucerne\"}}}");
	CU_ASSERT_PTR_NOT_NULL(strstr(r->content_type, "merge-patch"));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	r = k8s_test_request(&s, "POST", NETPOL, 0);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(np_check(o, "netpolicy POST"), 0);
	json_object_put(o);

	CU_ASSERT(netpolicy_revert(&c, NS, FAULT_ID));
	r = k8s_test_request(&s, "DELETE", NETPOL, 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, NETPOL "?labelSelector=bise.io%2Ffault%3D" FAULT_ID);
	CU_ASSERT(netpolicy_sweep(&c, NS, "pg"));
	r = k8s_test_request(&s, "DELETE", NETPOL, 1);
	CU_ASSERT_STRING_EQUAL(r->target, NETPOL "?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dbise%2Cbise.io%2Fcluster%3Dpg");
	CU_ASSERT(netpolicy_unlabel_pods(&c, NS, m, 3));
	r = k8s_test_request(&s, "PATCH", PODS "/pg-3", 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->body, "{\"metadata\":{\"labels\":{\"bise.io/cluster\":null,\"bise.io/zone\":null}}}");

	/* A pod whose node has no zone cannot be placed: nothing is created. */
	m[1].zone[0] = '\0';
	CU_ASSERT_FALSE(netpolicy_partition(&c, NS, "pg", m, 3, zone_a, 1, zones_b, 2, "bise-4242-8"));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

static struct net_fault net(double loss, int64_t latency_us, int64_t jitter_us, int64_t rate_bps)
{
	struct net_fault f = k8s_test_partition(FAULT_ID, loss);

	f.latency_us = latency_us;
	f.jitter_us = jitter_us;
	f.rate_bps = rate_bps;
	return f;
}

static void test_chaosmesh_objects(void)
{
	static const struct {
		double loss;
		int64_t lat, jit, rate;
		const char *action, *ptr, *want;
	} cases[] = {
		{ 100, 0, 0, 0, "partition", "/spec/direction", "both" },
		{ 0, 50000, 5000, 0, "delay", "/spec/delay/latency", "50ms" },
		{ 0, 1500, 0, 0, "delay", "/spec/delay/latency", "1500us" },
		{ 25, 0, 0, 0, "loss", "/spec/loss/loss", "25" },
		{ 10, 20000, 0, 0, "netem", "/spec/delay/latency", "20ms" },
		{ 0, 0, 0, 8000000, "bandwidth", "/spec/bandwidth/rate", "8000000bit" },
	};
	struct io_fault io = { IO_DELAY, true, 250000 };
	char why[256];
	json_object *o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_fault f = net(cases[i].loss, cases[i].lat, cases[i].jit, cases[i].rate);

		o = chaosmesh_network_object(NS, "pg", &f, why, sizeof(why));
		CU_ASSERT_FATAL(o != NULL);
		CU_ASSERT_EQUAL(schema_check(cm_schema[NETWORK], o, cases[i].action), 0);
		CU_ASSERT(k8s_test_str_at(o, "/spec/action", cases[i].action));
		CU_ASSERT(k8s_test_str_at(o, cases[i].ptr, cases[i].want));
		CU_ASSERT(k8s_test_str_at(o, "/spec/selector/expressionSelectors/0/values/0", "geneva"));
		CU_ASSERT(k8s_test_str_at(o, "/spec/target/selector/expressionSelectors/0/values/1", "gland"));
		CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1fault", FAULT_ID));
		json_object_put(o);
	}
	{
		struct net_fault f = net(100, 0, 0, 0);

		f.one_way = true;
		o = chaosmesh_network_object(NS, "pg", &f, why, sizeof(why));
		CU_ASSERT(k8s_test_str_at(o, "/spec/direction", "to"));
		json_object_put(o);
		str_copy(f.b[1], sizeof(f.b[1]), PARTY_CLIENT);
		CU_ASSERT_PTR_NULL(chaosmesh_network_object(NS, "pg", &f, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "client is outside"));
		f = net(0, 10000, 0, 1000000);
		CU_ASSERT_PTR_NULL(chaosmesh_network_object(NS, "pg", &f, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "bandwidth"));
		/* No b: everything the selected pods exchange, the client outside included. */
		f = net(100, 0, 0, 0);
		f.nb = 0;
		o = chaosmesh_network_object(NS, "pg", &f, why, sizeof(why));
		CU_ASSERT_FATAL(o != NULL);
		CU_ASSERT_EQUAL(schema_check(cm_schema[NETWORK], o, "partition without target"), 0);
		CU_ASSERT_PTR_NULL(k8s_jget(o, "spec.target"));
		json_object_put(o);
		o = chaosmesh_isolate_object(NS, "pg", "gland", "bise-4242");
		CU_ASSERT_EQUAL(schema_check(cm_schema[NETWORK], o, "zone isolation"), 0);
		CU_ASSERT(k8s_test_str_at(o, "/metadata/name", "bise-4242-outage-gland"));
		CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1run", "bise-4242"));
		json_object_put(o);
	}
	o = chaosmesh_io_object(NS, "pg", "pg-1", "/var/lib/postgresql/data", &io, "bise-io-pg-1");
	CU_ASSERT_EQUAL(schema_check(cm_schema[IO], o, "iochaos delay"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/delay", "250ms"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/path", "/var/lib/postgresql/data/**/pg_wal/**/*"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/selector/pods/" NS "/0", "pg-1"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1member", "pg-1"));
	json_object_put(o);
	io.mode = IO_STALL;
	io.wal_only = false;
	o = chaosmesh_io_object(NS, "pg", "pg-1", "/pgdata", &io, "bise-io-pg-1");
	CU_ASSERT_EQUAL(schema_check(cm_schema[IO], o, "iochaos stall"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/delay", "1h"));
	json_object_put(o);
	io.mode = IO_ERROR;
	o = chaosmesh_io_object(NS, "pg", "pg-1", "/pgdata", &io, "bise-io-pg-1");
	CU_ASSERT_EQUAL(schema_check(cm_schema[IO], o, "iochaos fault"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/errno", "5"));
	json_object_put(o);
	o = chaosmesh_pod_object(NS, "pg", "pg-2", NULL, FAULT_ID);
	CU_ASSERT_EQUAL(schema_check(cm_schema[POD], o, "pod-kill"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/gracePeriod", "0"));
	json_object_put(o);
	o = chaosmesh_pod_object(NS, "pg", "pg-2", "postgres", FAULT_ID);
	CU_ASSERT_EQUAL(schema_check(cm_schema[POD], o, "container-kill"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/containerNames/0", "postgres"));
	json_object_put(o);
}

static void test_chaosmesh_samples(void)
{
	static const char *const files[][2] = {
		{ "chaos-mesh/network-partition-example.yaml", "0" }, { "chaos-mesh/network-delay-example.yaml", "0" },
		{ "chaos-mesh/io-delay-example.yaml", "1" }, { "chaos-mesh/pod-kill-example.yaml", "2" },
	};
	char errs[2048] = "";
	json_object *o;

	for (size_t i = 0; i < 4; i++) {
		o = schema_load(files[i][0]);
		CU_ASSERT_EQUAL(schema_check(cm_schema[files[i][1][0] - '0'], o, files[i][0]), 0);
		json_object_put(o);
	}
	o = json_tokener_parse("{\"spec\":{\"action\":\"partition\",\"mode\":\"every\",\"selector\":{},"
			       "\"delay\":{\"latency\":\"10 ms\"}}}");
	CU_ASSERT(schema_validate(cm_schema[NETWORK], o, "", errs, sizeof(errs)) == 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs, ".spec.mode: not one of the enum"));
	CU_ASSERT_PTR_NOT_NULL(strstr(errs, ".spec.delay.latency: does not match the pattern"));
	json_object_put(o);
}

static void test_chaosmesh_api(void)
{
	struct fake_server s;
	struct k8s_client c;
	struct fake_request *r;
	char why[256];
	json_object *o;

	CU_ASSERT_FATAL(k8s_test_client(&s, &c, false));
	CU_ASSERT_EQUAL(chaosmesh_available(&c, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "Chaos Mesh is not installed on http://127.0.0.1:"));
	/* Nothing of Chaos Mesh: deleting what is not there is fine. */
	CU_ASSERT(chaosmesh_delete_selected(&c, NS, "bise.io/fault=" FAULT_ID));
	fake_route_add(&s, "GET", CM, -1, 200, "{\"kind\":\"APIResourceList\",\"groupVersion\":\"chaos-mesh.org/v1alpha1\"}");
	CU_ASSERT_EQUAL(chaosmesh_available(&c, why, sizeof(why)), 1);
	fake_route_add(&s, "POST", CM "/namespaces/" NS "/podchaos", -1, 201, "{}");
	o = chaosmesh_pod_object(NS, "pg", "pg-2", NULL, FAULT_ID);
	CU_ASSERT(chaosmesh_create(&c, NS, o));
	json_object_put(o);
	r = k8s_test_request(&s, "POST", CM "/namespaces/" NS "/podchaos", 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(schema_check(cm_schema[POD], o, "podchaos POST"), 0);
	json_object_put(o);
	for (int i = 0; i < 3; i++) {
		static const char *const kinds[] = { "networkchaos", "iochaos", "podchaos" };
		char path[256];

		str_format(path, sizeof(path), CM "/namespaces/" NS "/%s", kinds[i]);
		fake_route_add(&s, "DELETE", path, -1, 200, "{\"kind\":\"List\",\"items\":[]}");
	}
	CU_ASSERT(chaosmesh_delete_selected(&c, NS, "bise.io/fault=" FAULT_ID));
	r = k8s_test_request(&s, "DELETE", CM "/namespaces/" NS "/iochaos", 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, CM "/namespaces/" NS "/iochaos?labelSelector=bise.io%2Ffault%3D" FAULT_ID);
	k8s_client_free(&c);
	fake_server_stop(&s);
}

/* ---- the driver ---- */

static void test_driver_without_chaos_mesh(void)
{
	const struct driver_ops *ops;
	struct net_fault part = net(100, 0, 0, 0), delay = net(0, 100000, 0, 0);
	struct io_fault io = { IO_STALL, false, 0 };
	struct fake_server s;
	struct fake_request *r;
	struct driver *d;
	json_object *o;
	char *log;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	CU_ASSERT(ops->caps & DRIVER_CAP_NET_FAULT);
	/* The default partition: geneva against the other zones and the client. */
	part.nb = 3;
	str_copy(part.b[2], sizeof(part.b[2]), PARTY_CLIENT);
	CU_ASSERT(k8s_test_can_net(ops, d, &part, (char[256]){ 0 }, 256));
	CU_ASSERT(ops->net_apply(d, &part));
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-3"), 1);
	r = k8s_test_request(&s, "POST", NETPOL, 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(np_check(o, "driver netpolicy"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/metadata/name", FAULT_ID "-geneva"));
	/* The cut zones' pods are denied, the client by the policy itself: not in the list. */
	CU_ASSERT(k8s_test_str_at(o, "/spec/ingress/0/from/0/podSelector/matchExpressions/0/values/1",
				  "gland"));
	{
		json_object *x;

		CU_ASSERT_NOT_EQUAL(json_pointer_get(o, "/spec/ingress/0/from/0/podSelector/"
						"matchExpressions/0/values/2", &x), 0);
	}
	json_object_put(o);
	/* Policies add up: a second one on geneva would widen the first. Skipped, not sent. */
	{
		struct net_fault again = part, zones_only = net(100, 0, 0, 0);
		char why[512] = "";

		str_copy(again.id, sizeof(again.id), "bise-4242-9");
		CU_ASSERT_FALSE(k8s_test_can_net(ops, d, &again, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "geneva is already under a NetworkPolicy of " FAULT_ID));
		/* Zones cut apart while the client keeps every zone: a policy would cut it too. */
		str_copy(zones_only.id, sizeof(zones_only.id), "bise-4242-10");
		zones_only.na = 1;
		str_copy(zones_only.a[0], sizeof(zones_only.a[0]), "lucerne");
		zones_only.nb = 1;
		str_copy(zones_only.b[0], sizeof(zones_only.b[0]), "gland");
		CU_ASSERT_FALSE(k8s_test_can_net(ops, d, &zones_only, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "also cuts them from outside the cluster"));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "needs Chaos Mesh"));
		CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	}

	/* Delay needs Chaos Mesh: the step is skipped with the reason; applied anyway, refused. */
	{
		char why[256] = "";

		CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_NET_FAULT, why, sizeof(why)));
		CU_ASSERT_FALSE(k8s_test_can_caps(ops, d, DRIVER_CAP_NET_LATENCY, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "Chaos Mesh is not installed on http://127.0.0.1:"));
		CU_ASSERT(strlen(why) < 160); /* what the runner's step line holds */
		/* Random loss and the client as a party: NetworkPolicies cannot; skipped too. */
		CU_ASSERT_FALSE(k8s_test_can_caps(ops, d, DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_LOSS, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "needs Chaos Mesh: random packet loss"));
		/* The client as a party: whether a policy can do it depends on the sides (above). */
		CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_CLIENT, why, sizeof(why)));
		CU_ASSERT(strlen(why) < 256);
		/* No freeze on Kubernetes, Chaos Mesh or not: a reason, not a crash. */
		CU_ASSERT_FALSE(ops->caps & DRIVER_CAP_PAUSE);
		CU_ASSERT_FALSE(k8s_test_can_caps(ops, d, DRIVER_CAP_PAUSE, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "Chaos Mesh has none"));
	}
	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(ops->net_apply(d, &delay));
	CU_ASSERT_FALSE(ops->io_fault(d, "pg-1", &io));
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "network fault " FAULT_ID " unsupported: a NetworkPolicy only cuts"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "storage fault on pg-1 unsupported: Chaos Mesh is not installed"));
	free(log);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);

	CU_ASSERT(ops->net_revert(d, FAULT_ID));
	CU_ASSERT(ops->net_revert(d, FAULT_ID)); /* idempotent */
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", NETPOL), 2);
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", CM "/namespaces/" NS "/networkchaos"), 2);
	CU_ASSERT(ops->sweep(d));
	CU_ASSERT_EQUAL(fake_count(&s, "DELETE", NETPOL), 3);

	/* Clients cut from gland, the zones still connected: every pod stays allowed. */
	{
		struct net_fault cut = part;

		str_copy(cut.id, sizeof(cut.id), "bise-4242-11");
		cut.na = 1;
		str_copy(cut.a[0], sizeof(cut.a[0]), PARTY_CLIENT);
		cut.nb = 1;
		str_copy(cut.b[0], sizeof(cut.b[0]), "gland");
		CU_ASSERT(k8s_test_can_net(ops, d, &cut, (char[256]){ 0 }, 256));
		CU_ASSERT(ops->net_apply(d, &cut));
		r = k8s_test_request(&s, "POST", NETPOL, 1);
		CU_ASSERT_FATAL(r != NULL);
		o = json_tokener_parse(r->body);
		CU_ASSERT_EQUAL(np_check(o, "client-only cut"), 0);
		CU_ASSERT(k8s_test_str_at(o, "/metadata/name", "bise-4242-11-gland"));
		{
			json_object *x;

			CU_ASSERT(json_pointer_get(o, "/spec/ingress/0/from/0/podSelector", &x) == 0 &&
				  json_object_object_length(x) == 0);
		}
		json_object_put(o);
		/* After the sweep geneva is free again: the partition is possible once more. */
		CU_ASSERT(k8s_test_can_net(ops, d, &part, (char[256]){ 0 }, 256));
	}
	ops->close(d);
	fake_server_stop(&s);
}

static void test_driver_with_chaos_mesh(void)
{
	const struct driver_ops *ops;
	struct net_fault delay = net(0, 100000, 20000, 0), part = net(100, 0, 0, 0);
	struct io_fault io = { IO_DELAY, true, 500000 };
	struct fake_server s;
	struct fake_request *r;
	struct driver *d;
	json_object *o;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	fake_route_add(&s, "GET", CM, -1, 200, "{\"kind\":\"APIResourceList\"}");
	fake_route_add(&s, "POST", CM "/namespaces/" NS "/networkchaos", -1, 201, "{}");
	fake_route_add(&s, "POST", CM "/namespaces/" NS "/iochaos", -1, 201, "{}");
	CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_STORAGE_STALL | DRIVER_CAP_NET_LATENCY, (char[64]){ 0 }, 64));
	CU_ASSERT(ops->net_apply(d, &delay));
	CU_ASSERT(ops->net_apply(d, &part));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 0); /* partitions go through Chaos Mesh too */
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-1"), 2);
	for (int i = 0; i < 2; i++) {
		r = k8s_test_request(&s, "POST", CM "/namespaces/" NS "/networkchaos", i);
		CU_ASSERT_FATAL(r != NULL);
		o = json_tokener_parse(r->body);
		CU_ASSERT_EQUAL(schema_check(cm_schema[NETWORK], o, "driver networkchaos"), 0);
		CU_ASSERT(k8s_test_str_at(o, "/spec/action", i ? "partition" : "delay"));
		json_object_put(o);
	}
	CU_ASSERT(ops->io_fault(d, "pg-2", &io));
	r = k8s_test_request(&s, "POST", CM "/namespaces/" NS "/iochaos", 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(schema_check(cm_schema[IO], o, "driver iochaos"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/volumePath", "/var/lib/postgresql/data"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/name", "bise-io-pg-2"));
	json_object_put(o);
	CU_ASSERT(ops->io_heal(d, "pg-2"));
	r = k8s_test_request(&s, "DELETE", CM "/namespaces/" NS "/iochaos", 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, CM "/namespaces/" NS "/iochaos?labelSelector=bise.io%2Fcluster%3Dpg%2Cbise.io%2Fmember%3Dpg-2");
	ops->close(d);
	fake_server_stop(&s);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_faults", suite_init, suite_clean);

	CU_add_test(s, "NetworkPolicy passes the core schema", test_netpolicy_object);
	CU_add_test(s, "partition by NetworkPolicy: labels, create, revert, sweep", test_netpolicy_partition);
	CU_add_test(s, "Chaos Mesh objects pass their CRDs", test_chaosmesh_objects);
	CU_add_test(s, "Chaos Mesh samples pass, bad objects do not", test_chaosmesh_samples);
	CU_add_test(s, "Chaos Mesh detection, create, delete by label", test_chaosmesh_api);
	CU_add_test(s, "driver faults without Chaos Mesh", test_driver_without_chaos_mesh);
	CU_add_test(s, "driver faults with Chaos Mesh", test_driver_with_chaos_mesh);
}
