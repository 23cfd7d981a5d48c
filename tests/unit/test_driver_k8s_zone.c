/*
 * test_driver_k8s_zone.c - the Kubernetes fault gaps against the fake API server, every
 * object and patch bise sends checked against the reference schemas: pods the operator
 * recreates during a partition are labelled with their zone by the next tick (and nothing
 * is patched when no fault is active); zone-outage cordons the zone's nodes (marked as
 * bise's, the reference cordon patch), isolates its pods both ways (NetworkPolicy, plus a
 * NetworkChaos with Chaos Mesh) and undoes exactly that; the client as a party with Chaos
 * Mesh; and a scenario of every fault Kubernetes cannot do without Chaos Mesh run by the
 * runner, each step a SKIP with its reason.
 */
#include "k8s_fake_server.c"
#include "k8s_schema.c"
#include "k8s_test_common.h"

#include "fault.h"
#include "kubernetes/chaosmesh.h"
#include "kubernetes/k8s_driver.h"
#include "kubernetes/netpolicy.h"
#include "kubernetes/nodes.h"
#include "runner.h"

#include <CUnit/CUnit.h>
#include <ftw.h>
#include <unistd.h>

#define NS "tenant-root"
#define PODS "/api/v1/namespaces/" NS "/pods"
#define NODES "/api/v1/nodes"
#define NETPOL "/apis/networking.k8s.io/v1/namespaces/" NS "/networkpolicies"
#define CM "/apis/chaos-mesh.org/v1alpha1"
#define CM_NET CM "/namespaces/" NS "/networkchaos"
#define FAULT_ID "bise-4242-7"

static json_object *swagger, *defs, *nc_crd, *nc_schema;
static char workdir[128];

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	swagger = schema_load("core/k8s-v1.14-core-subset.swagger.json");
	if (!swagger || !json_object_object_get_ex(swagger, "definitions", &defs))
		return 1;
	nc_crd = schema_load("chaos-mesh/chaos-mesh.org_networkchaos.yaml");
	if (!nc_crd || !(nc_schema = schema_of_crd(nc_crd, "v1alpha1")))
		return 1;
	str_copy(workdir, sizeof(workdir), "/tmp/bise-test-k8s-zone-XXXXXX");
	if (!mkdtemp(workdir))
		return 1;
	return k8s_test_suite_init();
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_clean(void)
{
	json_object_put(swagger);
	json_object_put(nc_crd);
	k8s_test_suite_clean();
	return nftw(workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* obj against a core definition ("io.k8s.api.core.v1.Node"); the count of errors. */
static int core_check(const char *def, json_object *obj, const char *what)
{
	json_object *schema;

	if (!json_object_object_get_ex(defs, def, &schema))
		return -1;
	schema_root = swagger;
	return schema_check(schema, obj, what);
}

static const char *const zones[] = { "geneva", "lucerne", "gland" };

/* The operator recreated pod 1: new uid, none of bise's labels. */
static void recreate_pod1(struct fake_server *s, struct fake_route *r, unsigned labelled)
{
	k8s_test_set_pods(s, r, labelled & ~2u, "uid-1-recreated");
}

static void test_tick_relabels(void)
{
	const struct driver_ops *ops;
	struct net_fault f = k8s_test_partition(FAULT_ID, 100);
	struct fake_server s;
	struct fake_route *pods;
	struct fake_request *r;
	struct driver *d;
	json_object *o;
	int patches;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, &pods, &ops);
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->tick);

	/* No fault: a tick sends nothing at all. */
	CU_ASSERT(ops->tick(d));
	CU_ASSERT_EQUAL(s.nrequests, 0);

	f.nb = 3; /* the default partition: the other zones and the client */
	str_copy(f.b[2], sizeof(f.b[2]), PARTY_CLIENT);
	CU_ASSERT(ops->net_apply(d, &f));
	recreate_pod1(&s, pods, 0xe); /* 2 and 3 keep the apply's labels; 1 came back bare */
	patches = k8s_test_count_method(&s, "PATCH");
	CU_ASSERT_EQUAL(patches, 3);
	CU_ASSERT(ops->tick(d));
	CU_ASSERT_EQUAL(k8s_test_count_method(&s, "PATCH"), patches + 1);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-1"), 2);
	r = k8s_test_request(&s, "PATCH", PODS "/pg-1", 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->body, "{\"metadata\":{\"labels\":{\"bise.io/cluster\":\"pg\",\"bise.io/zone\":\"geneva\"}}}");
	CU_ASSERT_PTR_NOT_NULL(strstr(r->content_type, "merge-patch"));
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(core_check("io.k8s.api.core.v1.Pod", o, "relabel patch"), 0);
	json_object_put(o);
	/* The tick listed the operator's instance pods. */
	r = k8s_test_request(&s, "GET", PODS "?", 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->target, "labelSelector=cnpg.io%2Fcluster%3Dpg"));

	/* Labelled now: the next tick lists and patches nothing. */
	k8s_test_set_pods(&s, pods, 0xe, "uid-1-recreated");
	patches = k8s_test_count_method(&s, "PATCH");
	CU_ASSERT(ops->tick(d));
	CU_ASSERT_EQUAL(k8s_test_count_method(&s, "PATCH"), patches);

	/* Reverted: nothing is active, a recreated pod is left alone, no request at all. */
	CU_ASSERT(ops->net_revert(d, FAULT_ID));
	recreate_pod1(&s, pods, 0xe);
	{
		int before = s.nrequests;

		CU_ASSERT(ops->tick(d));
		CU_ASSERT_EQUAL(s.nrequests, before);
	}
	CU_ASSERT_EQUAL(k8s_test_count_method(&s, "PATCH"), patches);
	ops->close(d);
	fake_server_stop(&s);
}

/* Nodes: w1 (geneva, schedulable), w1b (geneva, cordoned by an administrator). */
static void add_nodes(struct fake_server *s, bool after)
{
	char list[4096];

	str_format(list, sizeof(list),
		   "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":["
		   "{\"metadata\":{\"name\":\"w1\",\"labels\":{\"topology.kubernetes.io/zone\":\"geneva\"}%s},"
		   "\"spec\":{%s}},"
		   "{\"metadata\":{\"name\":\"w1b\",\"labels\":{\"topology.kubernetes.io/zone\":\"geneva\"}},"
		   "\"spec\":{\"unschedulable\":true}},"
		   "{\"metadata\":{\"name\":\"w1c\",\"labels\":{\"topology.kubernetes.io/zone\":\"geneva\"},"
		   "\"annotations\":{\"bise.io/cordoned-by\":\"bise-1\",\"bise.io/cordoned-for\":\"other/pg\"}},"
		   "\"spec\":{\"unschedulable\":true}}]}",
		   after ? ",\"annotations\":{\"bise.io/cordoned-by\":\"bise-1\",\"bise.io/cordoned-for\":\"" NS "/pg\"}" : "",
		   after ? "\"unschedulable\":true" : "");
	fake_route_add(s, "GET", NODES, after ? -1 : 1, 200, list);
	fake_route_add(s, "PATCH", NODES "/w1", -1, 200, "{\"kind\":\"Node\"}");
}

static void test_zone_outage(void)
{
	const struct driver_ops *ops;
	struct fake_server s;
	struct fake_request *r;
	struct driver *d;
	json_object *o, *ref;
	char *text, run[32];

	d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	add_nodes(&s, false);
	add_nodes(&s, true);
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	CU_ASSERT(ops->caps & DRIVER_CAP_ZONE_OUTAGE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->zone_stop);
	CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_ZONE_OUTAGE, (char[64]){ 0 }, 64));
	CU_ASSERT(ops->zone_stop(d, "geneva"));

	/* Only the schedulable node, with the reference cordon and bise's marks. */
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1"), 1);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1b"), 0);
	r = k8s_test_request(&s, "GET", NODES "?", 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->target, "labelSelector=topology.kubernetes.io%2Fzone%3Dgeneva"));
	r = k8s_test_request(&s, "PATCH", NODES "/w1", 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->content_type, "merge-patch"));
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(core_check("io.k8s.api.core.v1.Node", o, "cordon patch"), 0);
	str_format(run, sizeof(run), "bise-%d", (int)getpid());
	CU_ASSERT(k8s_test_str_at(o, "/metadata/annotations/bise.io~1cordoned-by", run));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/annotations/bise.io~1cordoned-for", NS "/pg"));
	text = fake_fixture("patch-node-cordon.merge-patch.json");
	ref = json_tokener_parse(text);
	{
		json_object *a, *b;

		CU_ASSERT(json_object_object_get_ex(o, "spec", &a) && json_object_object_get_ex(ref, "spec", &b) &&
			  json_object_equal(a, b));
	}
	json_object_put(ref);
	free(text);
	json_object_put(o);
	/* The recorded cordoned node parses as a Node (the shape nodes_uncordon reads). */
	text = fake_fixture("node-cordoned-tainted.json");
	o = json_tokener_parse(text);
	json_object_object_del(k8s_jget(o, "spec"), "podCIDRs"); /* newer than the v1.14 schema */
	CU_ASSERT_EQUAL(core_check("io.k8s.api.core.v1.Node", o, "recorded node"), 0);
	json_object_put(o);
	free(text);

	/* The zone's pods labelled, then one policy with no rule: nothing in, nothing out. */
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-1"), 1);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", CM_NET), 0);
	r = k8s_test_request(&s, "POST", NETPOL, 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(core_check("io.k8s.api.networking.v1.NetworkPolicy", o, "isolate policy"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/podSelector/matchLabels/bise.io~1zone", "geneva"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1outage", "geneva"));
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1run", run));
	CU_ASSERT(k8s_test_str_at(o, "/spec/policyTypes/0", "Ingress"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/policyTypes/1", "Egress"));
	CU_ASSERT_EQUAL(json_object_array_length(k8s_jget(o, "spec.ingress")), 0);
	CU_ASSERT_EQUAL(json_object_array_length(k8s_jget(o, "spec.egress")), 0);
	json_object_put(o);
	/* The same spec shape as the reference deny-all policy, on bise's labels. */
	text = fake_fixture("networkpolicy-isolate-pod.json");
	ref = json_tokener_parse(text);
	{
		json_object *mine = netpolicy_isolate_object(NS, "pg", "geneva", run);

		CU_ASSERT(json_object_equal(k8s_jget(ref, "spec.ingress"), k8s_jget(mine, "spec.ingress")));
		CU_ASSERT(json_object_equal(k8s_jget(ref, "spec.egress"), k8s_jget(mine, "spec.egress")));
		CU_ASSERT(json_object_equal(k8s_jget(ref, "spec.policyTypes"), k8s_jget(mine, "spec.policyTypes")));
		json_object_put(mine);
	}
	json_object_put(ref);
	free(text);

	/* zone_start: policies and experiments of the outage by label, only bise's cordon. */
	CU_ASSERT(ops->zone_start(d, "geneva"));
	r = k8s_test_request(&s, "DELETE", NETPOL, 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, NETPOL "?labelSelector=bise.io%2Fcluster%3Dpg%2Cbise.io%2Foutage%3Dgeneva");
	r = k8s_test_request(&s, "DELETE", CM_NET, 0);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->target, CM_NET "?labelSelector=bise.io%2Fcluster%3Dpg%2Cbise.io%2Foutage%3Dgeneva");
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1"), 2);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1b"), 0);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1c"), 0); /* another cluster's */
	r = k8s_test_request(&s, "PATCH", NODES "/w1", 1);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->body, "{\"metadata\":{\"annotations\":{\"bise.io/cordoned-by\":null,"
			       "\"bise.io/cordoned-for\":null}},\"spec\":{\"unschedulable\":null}}");
	/* Idempotent; sweep uncordons bise's nodes of every zone. */
	CU_ASSERT(ops->zone_start(d, "geneva"));
	CU_ASSERT(ops->sweep(d));
	r = k8s_test_request(&s, "GET", NODES "?limit=", 0); /* the sweep lists every node */
	CU_ASSERT_PTR_NOT_NULL(r);
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", NODES "/w1"), 4);
	ops->close(d);
	fake_server_stop(&s);
}

static void test_zone_outage_chaos_mesh(void)
{
	const struct driver_ops *ops;
	struct fake_server s;
	struct fake_request *r;
	struct fake_route *pods;
	struct driver *d;
	json_object *o;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, &pods, &ops);
	add_nodes(&s, false);
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	fake_route_add(&s, "GET", CM, -1, 200, "{\"kind\":\"APIResourceList\"}");
	fake_route_add(&s, "POST", CM_NET, -1, 201, "{}");
	CU_ASSERT(ops->zone_stop(d, "geneva"));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	r = k8s_test_request(&s, "POST", CM_NET, 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(schema_check(nc_schema, o, "outage networkchaos"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/action", "partition"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/direction", "both"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/selector/expressionSelectors/0/values/0", "geneva"));
	CU_ASSERT_PTR_NULL(k8s_jget(o, "spec.target")); /* everything, the client too */
	CU_ASSERT(k8s_test_str_at(o, "/metadata/labels/bise.io~1outage", "geneva"));
	json_object_put(o);

	/* The outage counts as a fault in force: a recreated pod is labelled. */
	recreate_pod1(&s, pods, 0);
	CU_ASSERT(ops->tick(d));
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-1"), 2);
	ops->close(d);
	fake_server_stop(&s);
}

static void test_client_cut_with_chaos_mesh(void)
{
	json_object *x;
	const struct driver_ops *ops;
	struct net_fault f = k8s_test_partition(FAULT_ID, 100);
	struct fake_server s;
	struct fake_request *r;
	struct driver *d;
	json_object *o;
	char *log;

	d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	fake_route_add(&s, "GET", CM, -1, 200, "{\"kind\":\"APIResourceList\"}");
	fake_route_add(&s, "POST", CM_NET, -1, 201, "{}");
	CU_ASSERT(k8s_test_can_caps(ops, d, DRIVER_CAP_NET_CLIENT | DRIVER_CAP_NET_LOSS, (char[256]){ 0 }, 256));
	/* The default partition: geneva against the other zones and the client. */
	f.nb = 3;
	str_copy(f.b[2], sizeof(f.b[2]), PARTY_CLIENT);
	f.loss_pct = 30;
	CU_ASSERT(ops->net_apply(d, &f));
	r = k8s_test_request(&s, "POST", CM_NET, 0);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(schema_check(nc_schema, o, "client loss"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/action", "loss"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/loss/loss", "30"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/selector/expressionSelectors/0/values/0", "geneva"));
	CU_ASSERT_PTR_NULL(k8s_jget(o, "spec.target"));
	json_object_put(o);
	/* The client's side first: the same cut, selected from the zone's side. */
	memset(&f, 0, sizeof(f));
	str_copy(f.id, sizeof(f.id), "bise-4242-8");
	f.na = 3;
	str_copy(f.a[0], sizeof(f.a[0]), PARTY_CLIENT);
	str_copy(f.a[1], sizeof(f.a[1]), zones[1]);
	str_copy(f.a[2], sizeof(f.a[2]), zones[2]);
	f.nb = 1;
	str_copy(f.b[0], sizeof(f.b[0]), zones[0]);
	f.loss_pct = 100;
	CU_ASSERT(ops->net_apply(d, &f));
	r = k8s_test_request(&s, "POST", CM_NET, 1);
	CU_ASSERT_FATAL(r != NULL);
	o = json_tokener_parse(r->body);
	CU_ASSERT_EQUAL(schema_check(nc_schema, o, "client partition"), 0);
	CU_ASSERT(k8s_test_str_at(o, "/spec/action", "partition"));
	CU_ASSERT(k8s_test_str_at(o, "/spec/selector/expressionSelectors/0/values/0", "geneva"));
	CU_ASSERT_NOT_EQUAL(json_pointer_get(o, "/spec/selector/expressionSelectors/0/values/1", &x), 0);
	CU_ASSERT_PTR_NULL(k8s_jget(o, "spec.target"));
	json_object_put(o);
	/*
	 * The client against every zone: a NetworkChaos with no target would cut the zones from
	 * each other too, so NetworkPolicies do it (they deny only what is not a pod).
	 */
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	f.na = 1;
	f.nb = 3;
	for (int i = 0; i < 3; i++)
		str_copy(f.b[i], sizeof(f.b[i]), zones[i]);
	CU_ASSERT(k8s_test_can_net(ops, d, &f, (char[512]){ 0 }, 512));
	CU_ASSERT(ops->net_apply(d, &f));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 3);
	CU_ASSERT(ops->net_revert(d, f.id));
	/* The client against geneva alone, lucerne and gland untouched: one policy. */
	f.nb = 1;
	str_copy(f.b[0], sizeof(f.b[0]), zones[0]);
	CU_ASSERT(ops->net_apply(d, &f));
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 4);
	CU_ASSERT(ops->net_revert(d, f.id));
	/* One way from the client: neither can. */
	f.one_way = true;
	{
		char why[512] = "";

		CU_ASSERT_FALSE(k8s_test_can_net(ops, d, &f, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "a NetworkPolicy only cuts, both ways"));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "as the source of a one-way fault"));
	}
	CU_ASSERT_FATAL(fake_capture_start());
	log_set_level(LOG_ERROR);
	CU_ASSERT_FALSE(ops->net_apply(d, &f));
	log_set_level(LOG_QUIET);
	log = fake_capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "unsupported"));
	free(log);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 4);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", CM_NET), 2);
	ops->close(d);
	fake_server_stop(&s);
}

/* ---- the runner: every step Kubernetes cannot do without Chaos Mesh is a SKIP ---- */

static const char skip_scenario[] =
	"name: k8s-skips\n"
	"cluster:\n"
	"  name: pg\n"
	"steps:\n"
	"  - fault: packet-loss\n"
	"    target: geneva\n"
	"    loss: 30%\n"
	"    between: [[geneva], [lucerne]]\n"
	"    duration: 1s\n"
	"  - fault: network-partition\n"
	"    target: geneva\n"
	"    between: [[geneva], [lucerne]]\n"
	"    duration: 1s\n"
	"  - fault: network-partition\n"
	"    target: geneva\n"
	"    between: [[geneva], [lucerne], [gland, client]]\n"
	"    duration: 1s\n"
	"  - fault: latency\n"
	"    target: geneva\n"
	"    delay: 25ms\n"
	"    between: [[geneva], [lucerne]]\n"
	"    duration: 1s\n"
	"  - fault: bandwidth\n"
	"    target: geneva\n"
	"    rate: 1mbit\n"
	"    between: [[geneva], [lucerne]]\n"
	"    duration: 1s\n"
	"  - fault: storage-stall\n"
	"    target: geneva\n"
	"    duration: 1s\n"
	"  - fault: process-pause\n"
	"    target: geneva\n"
	"    duration: 1s\n"
	"  - fault: io-throttle\n"
	"    target: geneva\n"
	"    iops: 10\n"
	"    duration: 1s\n"
	"  - wait: 100ms\n";

static const struct {
	const char *fault, *reason;
} want_skips[] = {
	{ "packet-loss", "needs Chaos Mesh: random packet loss" },
	{ "network-partition", "also cuts them from outside the cluster, where the client is" },
	{ "network-partition", "also cuts them from outside the cluster, where the client is" },
	{ "latency", "needs Chaos Mesh: latency" },
	{ "bandwidth", "needs Chaos Mesh: bandwidth" },
	{ "storage-stall", "needs Chaos Mesh: storage faults" },
	{ "process-pause", "Chaos Mesh has none (PodChaos only does pod-kill, pod-failure, container-kill)" },
	{ "io-throttle", "io-throttle needs a blkio limit" },
};

static void add_healthy_cluster(struct fake_server *s)
{
	fake_route_add(s, "GET", "/version", -1, 200, "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\"}");
	fake_route_add(s, "GET", "/apis/postgresql.cnpg.io/v1", -1, 200, "{\"kind\":\"APIResourceList\"}");
	fake_route_add(s, "GET", "/apis/postgresql.cnpg.io/v1/namespaces/" NS "/clusters/pg", -1, 200,
		       "{\"apiVersion\":\"postgresql.cnpg.io/v1\",\"kind\":\"Cluster\",\"metadata\":{\"name\":\"pg\"},"
		       "\"spec\":{\"instances\":3},\"status\":{\"instances\":3,\"readyInstances\":3,\"phase\":"
		       "\"Cluster in healthy state\",\"currentPrimary\":\"pg-1\",\"targetPrimary\":\"pg-1\"}}");
}

/* The skip events of an event log: fault and reason, in order; their count. */
static int read_skips(const char *path, char (*faults)[32], char (*reasons)[256], int max)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		json_object *o = json_tokener_parse(line);
		const char *ev = o ? k8s_jstr(o, "ev") : NULL, *action = o ? k8s_jstr(o, "action") : NULL;

		if (ev && action && strcmp(ev, "fault") == 0 && strcmp(action, "skip") == 0) {
			str_copy(faults[n], 32, k8s_jstr(o, "fault") ? k8s_jstr(o, "fault") : "");
			str_copy(reasons[n], 256, k8s_jstr(o, "reason") ? k8s_jstr(o, "reason") : "");
			n++;
		}
		json_object_put(o);
	}
	fclose(f);
	return n;
}

/* Scenario text (and extra steps, or NULL) written to workdir/<name>.yaml and loaded into sc. */
static bool load_scenario(const char *name, const char *text, const char *extra, struct scenario *sc)
{
	char path[256], errbuf[4096], *all = xmalloc(strlen(text) + (extra ? strlen(extra) : 0) + 1);
	bool ok;

	str_format(path, sizeof(path), "%s/%s.yaml", workdir, name);
	str_format(all, strlen(text) + (extra ? strlen(extra) : 0) + 1, "%s%s", text, extra ? extra : "");
	memset(sc, 0, sizeof(*sc));
	ok = file_write_atomic(path, all, strlen(all)) && scenario_load(path, sc, errbuf, sizeof(errbuf));
	free(all);
	return ok;
}

/*
 * The backend configured on the fake server s (d, opened on it, only closed), then the
 * runner on scenario text (workdir/<name>.yaml, run directory workdir/<out>): its exit
 * status, -1 when the scenario did not load; *sent: the requests the run sent.
 */
static int run_scenario(struct fake_server *s, const struct driver_ops *ops, struct driver *d, const char *name,
			const char *text, const char *out, int *sent)
{
	char out_dir[256];
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	int status, before;

	ops->close(d);
	if (!load_scenario(name, text, NULL, &sc))
		return -1;
	str_format(out_dir, sizeof(out_dir), "%s/%s", workdir, out);
	run_options_defaults(&opt);
	opt.backend = "kubernetes";
	opt.driver_opts = k8s_test_opts(driver_find("kubernetes"));
	opt.out_dir = out_dir;
	opt.seed = 7;
	opt.state_root = workdir;
	before = s->nrequests;
	status = runner_run(list, 1, &opt);
	*sent = s->nrequests - before;
	scenario_free(&sc);
	return status;
}

static void test_runner_skips_without_chaos_mesh(void)
{
	char events[512], faults[16][32], reasons[16][256];
	const struct driver_ops *ops;
	struct fake_server s;
	struct driver *d = k8s_test_start_cluster(&s, NS, NULL, 0, NULL, &ops);
	int n, sent;

	add_healthy_cluster(&s);
	CU_ASSERT_EQUAL(run_scenario(&s, ops, d, "k8s-skips", skip_scenario, "run", &sent), BISE_EXIT_OK);
	CU_ASSERT(sent > 0);

	str_format(events, sizeof(events), "%s/run/k8s-skips/trial-1/events.jsonl", workdir);
	n = read_skips(events, faults, reasons, 16);
	CU_ASSERT_EQUAL_FATAL(n, (int)(sizeof(want_skips) / sizeof(want_skips[0])));
	for (int i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(faults[i], want_skips[i].fault);
		if (getenv("BISE_TEST_SHOW") || !strstr(reasons[i], want_skips[i].reason))
			fprintf(stderr, "\nstep %d (%s) skipped for: %s\n", i + 1, faults[i], reasons[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(reasons[i], want_skips[i].reason));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(reasons[0], "Chaos Mesh is not installed on http://127.0.0.1:"));
	/* Nothing was created or patched: every step was skipped before touching the cluster. */
	CU_ASSERT_EQUAL(k8s_test_count_method(&s, "POST"), 0);
	CU_ASSERT_EQUAL(k8s_test_count_method(&s, "PATCH"), 0);
	fake_server_stop(&s);
}

static const char partition_scenario[] =
	"name: k8s-relabel\n"
	"cluster:\n"
	"  name: pg\n"
	"steps:\n"
	"  - at: 700ms\n"
	"    fault: network-partition\n"
	"    target: geneva\n"
	"    duration: 1600ms\n"
	"  - wait: 2200ms\n";

/*
 * The runner calls tick: a pod 1 that keeps coming back bare is labelled again during
 * the partition (the apply's label, then ticks every 500 ms), and never before or after.
 */
static void test_runner_ticks(void)
{
	const struct driver_ops *ops;
	struct fake_server s;
	/* pod 1 bare all along, as if recreated again and again */
	struct driver *d = k8s_test_start_cluster(&s, NS, NULL, 0xc, NULL, &ops);
	int relabels, sent;

	add_healthy_cluster(&s);
	fake_route_add(&s, "POST", NETPOL, -1, 201, "{}");
	CU_ASSERT_EQUAL(run_scenario(&s, ops, d, "k8s-relabel", partition_scenario, "run-relabel", &sent),
			BISE_EXIT_OK);
	CU_ASSERT_EQUAL(fake_count(&s, "POST", NETPOL), 1);
	CU_ASSERT(fake_count(&s, "DELETE", NETPOL) >= 1);
	/* The apply labels each pod once; pod 1 again at each tick of the 1.6 s partition. */
	CU_ASSERT_EQUAL(fake_count(&s, "PATCH", PODS "/pg-2"), 1);
	relabels = fake_count(&s, "PATCH", PODS "/pg-1") - 1;
	/* 3 measured; at most 4 at one tick per 500 ms; 1 still proves the wiring on a slow machine. */
	CU_ASSERT(relabels >= 1 && relabels <= 4);
	if (getenv("BISE_TEST_SHOW") || relabels < 1 || relabels > 4)
		fprintf(stderr, "\npod 1 relabelled %d times during a 1.6 s partition\n", relabels);
	fake_server_stop(&s);
}

/* fault_step_needs: what decides the skips above, and the local backend keeps them all. */
static void test_step_needs(void)
{
	struct scenario sc;
	const struct driver_ops *local = driver_find("local");

	CU_ASSERT_FATAL(load_scenario("needs", skip_scenario, "  - fault: packet-loss\n    target: geneva\n"
				      "    loss: 100%\n    between: [[geneva], [lucerne]]\n    duration: 1s\n", &sc));
	CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[0]), DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_LOSS);
	CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[1]), DRIVER_CAP_NET_FAULT);
	CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[2]), DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_CLIENT);
	CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[3]), DRIVER_CAP_NET_LATENCY);
	CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[9]), DRIVER_CAP_NET_FAULT); /* loss 100%: a cut */
	for (int i = 0; i < sc.nsteps; i++)
		if (sc.steps[i].fault)
			CU_ASSERT_EQUAL(fault_step_needs(&sc.steps[i]) & ~local->caps, 0);
	scenario_free(&sc);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_zone", suite_init, suite_clean);

	CU_add_test(s, "tick labels a pod recreated during a partition, nothing without a fault",
		    test_tick_relabels);
	CU_add_test(s, "zone-outage: cordon (bise's only), isolate both ways, undo", test_zone_outage);
	CU_add_test(s, "zone-outage with Chaos Mesh: NetworkChaos with no target", test_zone_outage_chaos_mesh);
	CU_add_test(s, "the client as a party with Chaos Mesh", test_client_cut_with_chaos_mesh);
	CU_add_test(s, "capabilities a step needs", test_step_needs);
	CU_add_test(s, "runner: faults needing Chaos Mesh or a freeze are skipped with the reason",
		    test_runner_skips_without_chaos_mesh);
	CU_add_test(s, "runner: tick relabels during a partition only", test_runner_ticks);
}
