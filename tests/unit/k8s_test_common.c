/* k8s_test_common.c - shared set-up of the Kubernetes backend's tests. See k8s_test_common.h. */
#include "k8s_test_common.h"

#include "util.h"

#include <CUnit/CUnit.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

char k8s_test_certdir[64];

static const char *const zones[] = { "geneva", "lucerne", "gland" };

int k8s_test_suite_init(void)
{
	log_set_level(LOG_QUIET);
	return fake_certs(k8s_test_certdir, sizeof(k8s_test_certdir)) ? 0 : 1;
}

int k8s_test_suite_clean(void)
{
	fake_rm_rf(k8s_test_certdir);
	return 0;
}

void k8s_test_spec(struct cluster_spec *spec, const char *name)
{
	cluster_spec_defaults(spec);
	str_copy(spec->name, sizeof(spec->name), name);
}

void k8s_test_members(struct cnpg_member m[3])
{
	memset(m, 0, 3 * sizeof(*m));
	for (int i = 0; i < 3; i++) {
		str_format(m[i].name, sizeof(m[i].name), "pg-%d", i + 1);
		str_copy(m[i].zone, sizeof(m[i].zone), zones[i]);
		str_copy(m[i].node, sizeof(m[i].node), "kind-worker");
	}
}

struct net_fault k8s_test_partition(const char *id, double loss_pct)
{
	struct net_fault f;

	memset(&f, 0, sizeof(f));
	str_copy(f.id, sizeof(f.id), id);
	f.na = 1;
	str_copy(f.a[0], sizeof(f.a[0]), zones[0]);
	f.nb = 2;
	str_copy(f.b[0], sizeof(f.b[0]), zones[1]);
	str_copy(f.b[1], sizeof(f.b[1]), zones[2]);
	f.loss_pct = loss_pct;
	return f;
}

bool k8s_test_str_at(json_object *o, const char *ptr, const char *want)
{
	json_object *v;

	return json_pointer_get(o, ptr, &v) == 0 && strcmp(json_object_get_string(v), want) == 0;
}

struct fake_request *k8s_test_request(struct fake_server *s, const char *method, const char *path, int nth)
{
	for (int i = 0; i < s->nrequests; i++)
		if (strcmp(s->requests[i].method, method) == 0 &&
		    strncmp(s->requests[i].target, path, strlen(path)) == 0 && nth-- == 0)
			return &s->requests[i];
	return NULL;
}

int k8s_test_count_method(struct fake_server *s, const char *method)
{
	int n = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nrequests; i++)
		n += strcmp(s->requests[i].method, method) == 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

bool k8s_test_client(struct fake_server *s, struct k8s_client *c, bool dry_run)
{
	char kc[512];

	return fake_server_start(s, false, k8s_test_certdir) &&
	       fake_kubeconfig(k8s_test_certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)) &&
	       k8s_client_init(c, kc, NULL, dry_run);
}

/* The options set last, kept as copies: the strings of a test's struct may not live on. */
static struct {
	char kubeconfig[512], context[128], ns[64], image[128], operator_name[32], pg_access[64], pg_host[64];
	char config[512], operator_version[32], operator_manifest[512], kind_operator[32];
	bool dry_run;
	int64_t poll_us;
} current;

static void keep(char *buf, size_t len, const char *v)
{
	str_copy(buf, len, v ? v : "");
}

void k8s_test_options(const struct k8s_options *o, const struct kind_options *ko)
{
	if (o) {
		keep(current.kubeconfig, sizeof(current.kubeconfig), o->kubeconfig);
		keep(current.context, sizeof(current.context), o->context);
		keep(current.ns, sizeof(current.ns), o->ns);
		keep(current.image, sizeof(current.image), o->image);
		keep(current.operator_name, sizeof(current.operator_name), o->operator_name);
		keep(current.pg_access, sizeof(current.pg_access), o->pg_access);
		keep(current.pg_host, sizeof(current.pg_host), o->pg_host);
		current.dry_run = o->dry_run;
		current.poll_us = o->poll_us;
	}
	if (ko) {
		keep(current.config, sizeof(current.config), ko->config);
		keep(current.operator_version, sizeof(current.operator_version), ko->operator_version);
		keep(current.operator_manifest, sizeof(current.operator_manifest), ko->operator_manifest);
		keep(current.kind_operator, sizeof(current.kind_operator), ko->operator_name);
	}
}

/* name set to value when value is not empty and the table has it. */
static void opt_set(struct driver_options *d, const char *name, const char *value)
{
	char why[128];

	if (value[0] && driver_option_find(d->table, name))
		driver_options_set(d, name, value, why, sizeof(why));
}

const struct driver_options *k8s_test_opts(const struct driver_ops *ops)
{
	static struct driver_options d;
	char poll[32] = "";

	driver_options_init(&d, ops);
	opt_set(&d, "kubeconfig", current.kubeconfig);
	opt_set(&d, "context", current.context);
	opt_set(&d, "namespace", current.ns);
	opt_set(&d, "image", current.image);
	opt_set(&d, "operator", current.kind_operator[0] ? current.kind_operator : current.operator_name);
	opt_set(&d, "pg-access", current.pg_access);
	opt_set(&d, "pg-host", current.pg_host);
	opt_set(&d, DRIVER_OPTION_DRY_RUN, current.dry_run ? "1" : "");
	if (current.poll_us > 0)
		str_format(poll, sizeof(poll), "%lld", (long long)current.poll_us);
	opt_set(&d, "poll-us", poll);
	opt_set(&d, "kind-config", current.config);
	opt_set(&d, "operator-version", current.operator_version);
	opt_set(&d, "operator-manifest", current.operator_manifest);
	return &d;
}

bool k8s_test_can_caps(const struct driver_ops *ops, struct driver *d, unsigned caps, char *why,
		       size_t why_len)
{
	struct fault_request *req = xcalloc(1, sizeof(*req));
	bool ok;

	req->caps = caps;
	ok = ops->can(d, req, why, why_len);
	free(req);
	return ok;
}

bool k8s_test_can_net(const struct driver_ops *ops, struct driver *d, const struct net_fault *f,
		      char *why, size_t why_len)
{
	struct fault_request *req = xcalloc(1, sizeof(*req));
	bool ok;

	req->nnet = 1;
	req->net[0] = *f;
	ok = ops->can(d, req, why, why_len);
	free(req);
	return ok;
}

bool k8s_test_configure(struct fake_server *s, struct k8s_options *o)
{
	static char kc[512];

	if (!fake_kubeconfig(k8s_test_certdir, "token.kubeconfig", s->url, NULL, kc, sizeof(kc)))
		return false;
	o->kubeconfig = kc;
	k8s_test_options(o, NULL);
	return true;
}

struct driver *k8s_test_open_driver(struct fake_server *s, const char *ns, const char *pg_access,
				    const struct driver_ops **ops)
{
	struct k8s_options o = { .ns = ns, .poll_us = 1000, .operator_name = "cnpg", .pg_access = pg_access };
	struct cluster_spec spec;

	k8s_test_spec(&spec, "pg");
	*ops = driver_find("kubernetes");
	if (!k8s_test_configure(s, &o) || !*ops)
		return NULL;
	return (*ops)->open(&spec, NULL, k8s_test_opts(*ops));
}

void k8s_test_pod_list(char *body, size_t len, unsigned labelled, const char *uid1)
{
	size_t used;

	str_copy(body, len, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[");
	for (int i = 1; i <= 3; i++) {
		char extra[128] = "";

		if (labelled & (1u << i))
			str_format(extra, sizeof(extra), ",\"bise.io/cluster\":\"pg\",\"bise.io/zone\":\"%s\"", zones[i - 1]);
		used = strlen(body);
		str_format(body + used, len - used,
			   "%s{\"metadata\":{\"name\":\"pg-%d\",\"uid\":\"%s\",\"labels\":{\"cnpg.io/cluster\":\"pg\","
			   "\"cnpg.io/podRole\":\"instance\",\"cnpg.io/instanceRole\":\"%s\"%s}},\"spec\":{\"nodeName\":\"w%d\"},"
			   "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.%d.9\",\"conditions\":[{\"type\":\"Ready\","
			   "\"status\":\"True\"}]}}",
			   i > 1 ? "," : "", i, i == 1 ? uid1 : "uid-x", i == 1 ? "primary" : "replica", extra, i, i);
	}
	used = strlen(body);
	str_format(body + used, len - used, "]}");
}

struct fake_route *k8s_test_add_pods(struct fake_server *s, const char *ns, unsigned labelled)
{
	char body[8192], path[256];

	for (int i = 1; i <= 3; i++) {
		char node[512];

		str_format(path, sizeof(path), "/api/v1/nodes/w%d", i);
		str_format(node, sizeof(node), "{\"kind\":\"Node\",\"metadata\":{\"name\":\"w%d\",\"labels\":"
			   "{\"topology.kubernetes.io/zone\":\"%s\"}}}", i, zones[i - 1]);
		fake_route_add(s, "GET", path, -1, 200, node);
		str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods/pg-%d", ns, i);
		fake_route_add(s, "PATCH", path, -1, 200, "{\"kind\":\"Pod\"}");
	}
	k8s_test_pod_list(body, sizeof(body), labelled, "uid-1");
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	return fake_route_add(s, "GET", path, -1, 200, body);
}

void k8s_test_set_pods(struct fake_server *s, struct fake_route *r, unsigned labelled, const char *uid1)
{
	char body[8192];

	k8s_test_pod_list(body, sizeof(body), labelled, uid1);
	pthread_mutex_lock(&s->lock);
	free(r->body);
	r->body = xstrdup(body);
	pthread_mutex_unlock(&s->lock);
}

void k8s_test_add_deletes(struct fake_server *s, const char *ns)
{
	static const char *const kinds[] = { "networkchaos", "iochaos", "podchaos" };
	char path[256];

	str_format(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies", ns);
	fake_route_add(s, "DELETE", path, -1, 200, "{\"kind\":\"NetworkPolicyList\",\"items\":[]}");
	for (int i = 0; i < 3; i++) {
		str_format(path, sizeof(path), "/apis/chaos-mesh.org/v1alpha1/namespaces/%s/%s", ns, kinds[i]);
		fake_route_add(s, "DELETE", path, -1, 200, "{\"kind\":\"List\",\"items\":[]}");
	}
}

struct driver *k8s_test_start_cluster(struct fake_server *s, const char *ns, const char *pg_access,
				      unsigned labelled, struct fake_route **pods, const struct driver_ops **ops)
{
	struct fake_route *r;
	struct driver *d;

	CU_ASSERT_FATAL(fake_server_start(s, false, k8s_test_certdir));
	r = k8s_test_add_pods(s, ns, labelled);
	if (pods)
		*pods = r;
	k8s_test_add_deletes(s, ns);
	d = k8s_test_open_driver(s, ns, pg_access, ops);
	CU_ASSERT_FATAL(d != NULL);
	return d;
}
