/* operators.c - the operator tables and the pod helpers the adapters share. See operators.h. */
#include "operators.h"

#include "cozystack.h"
#include "crunchy.h"
#include "util.h"
#include "zalando.h"

#include <stdlib.h>
#include <string.h>

json_object *k8s_jget(json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	str_copy(buf, sizeof(buf), path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

const char *k8s_jstr(json_object *o, const char *path)
{
	json_object *v = k8s_jget(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *k8s_label(json_object *obj, const char *key)
{
	json_object *labels = k8s_jget(obj, "metadata.labels"), *v;

	if (!labels || !json_object_object_get_ex(labels, key, &v))
		return NULL;
	return json_object_get_string(v);
}

bool k8s_pod_ready(json_object *pod)
{
	json_object *conds = k8s_jget(pod, "status.conditions");
	const char *phase = k8s_jstr(pod, "status.phase");

	if (k8s_jget(pod, "metadata.deletionTimestamp") || !phase || strcmp(phase, "Running") != 0)
		return false;
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *cd = json_object_array_get_idx(conds, i);
		const char *type = k8s_jstr(cd, "type"), *status = k8s_jstr(cd, "status");

		if (type && strcmp(type, "Ready") == 0)
			return status && strcmp(status, "True") == 0;
	}
	return false;
}

/* Zone of a node from its topology label, "" when it has none or cannot be read. */
void k8s_node_zone(struct k8s_client *c, const char *node, char *zone, size_t len)
{
	char path[512];
	struct k8s_ref ref = { "node", NULL, node };
	json_object *o;
	const char *z;

	zone[0] = '\0';
	str_format(path, sizeof(path), "/api/v1/nodes/%s", node);
	if (!k8s_get(c, path, &ref, 0, &o))
		return;
	if ((z = k8s_label(o, CNPG_ZONE_LABEL)))
		str_copy(zone, len, z);
	json_object_put(o);
}

int k8s_pod_members(struct k8s_client *c, const char *ns, const char *selector, const char *role_label,
		    const char *primary_value, const char *replica_value, struct cnpg_member *out,
		    int max)
{
	char path[768], *esc;
	struct k8s_ref ref = { "pods", ns, NULL };
	json_object *items;
	int n = 0;

	esc = k8s_escape(selector);
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s", ns, esc);
	free(esc);
	if (!k8s_list(c, path, &ref, 100, &items, NULL, 0))
		return -1;
	for (size_t i = 0; i < json_object_array_length(items) && n < max; i++) {
		json_object *pod = json_object_array_get_idx(items, i);
		struct cnpg_member *m = &out[n];
		const char *name = k8s_jstr(pod, "metadata.name"), *role = k8s_label(pod, role_label);
		const char *node = k8s_jstr(pod, "spec.nodeName"), *ip = k8s_jstr(pod, "status.podIP");

		if (!name)
			continue;
		memset(m, 0, sizeof(*m));
		str_copy(m->name, sizeof(m->name), name);
		if (node) {
			str_copy(m->node, sizeof(m->node), node);
			k8s_node_zone(c, node, m->zone, sizeof(m->zone));
		}
		if (ip)
			str_copy(m->ip, sizeof(m->ip), ip);
		m->ready = k8s_pod_ready(pod);
		if (!m->ready)
			m->role = MEMBER_DOWN;
		else if (role && strcmp(role, primary_value) == 0)
			m->role = MEMBER_PRIMARY;
		else if (role && strcmp(role, replica_value) == 0)
			m->role = MEMBER_REPLICA;
		else
			m->role = MEMBER_UNKNOWN;
		n++;
	}
	json_object_put(items);
	return n;
}

bool k8s_members_healthy(const struct cnpg_member *m, int n, int want, char *why, size_t why_len)
{
	int primaries = 0;

	if (n != want) {
		str_format(why, why_len, "%d of %d instance pods", n < 0 ? 0 : n, want);
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (m[i].role != MEMBER_PRIMARY && m[i].role != MEMBER_REPLICA) {
			str_format(why, why_len, "%s is not ready", m[i].name);
			return false;
		}
		primaries += m[i].role == MEMBER_PRIMARY;
	}
	if (primaries != 1) {
		str_format(why, why_len, "%d pods labelled primary", primaries);
		return false;
	}
	return true;
}

bool k8s_members_primary(const struct cnpg_member *m, int n, char *out, size_t len)
{
	int found = -1;

	for (int i = 0; i < n; i++)
		if (m[i].role == MEMBER_PRIMARY) {
			if (found >= 0)
				return false;
			found = i;
		}
	if (found < 0)
		return false;
	str_copy(out, len, m[found].name);
	return true;
}

bool k8s_delete_foreground(struct k8s_client *c, const char *path, const struct k8s_ref *ref)
{
	json_object *opts = json_object_new_object();
	bool ok;

	json_object_object_add(opts, "kind", json_object_new_string("DeleteOptions"));
	json_object_object_add(opts, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(opts, "propagationPolicy", json_object_new_string("Foreground"));
	ok = k8s_delete(c, path, ref, opts, K8S_QUIET_404, NULL) || c->status == 404;
	json_object_put(opts);
	return ok;
}

json_object *k8s_crd_object(const char *api_version, const char *kind, const struct cluster_spec *cs,
			    const char *ns, json_object **spec)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	json_object *labels = json_object_new_object();

	json_object_object_add(o, "apiVersion", json_object_new_string(api_version));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(meta, "name", json_object_new_string(cs->name));
	json_object_object_add(meta, "namespace", json_object_new_string(ns));
	json_object_object_add(labels, "app.kubernetes.io/managed-by", json_object_new_string("bise"));
	json_object_object_add(labels, "bise.io/cluster", json_object_new_string(cs->name));
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(o, "metadata", meta);
	/* Added now and filled by the caller: keys keep the order apiVersion..spec. */
	*spec = json_object_new_object();
	json_object_object_add(o, "spec", *spec);
	return o;
}

/* The path of ns's collection of crd, or of the object name in it when name is not NULL. */
static void crd_path(const struct k8s_crd *crd, const char *ns, const char *name, char *buf, size_t len)
{
	if (name)
		str_format(buf, len, "%s/namespaces/%s/%s/%s", crd->api, ns, crd->plural, name);
	else
		str_format(buf, len, "%s/namespaces/%s/%s", crd->api, ns, crd->plural);
}

bool k8s_crd_create(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, json_object *obj)
{
	char path[512];
	struct k8s_ref ref = { crd->kind, ns, k8s_jstr(obj, "metadata.name") };

	crd_path(crd, ns, NULL, path, sizeof(path));
	return k8s_create(c, path, &ref, obj, 0, NULL);
}

bool k8s_crd_get(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name,
		 json_object **o)
{
	char path[512];
	struct k8s_ref ref = { crd->kind, ns, name };

	*o = NULL;
	crd_path(crd, ns, name, path, sizeof(path));
	return k8s_get(c, path, &ref, K8S_QUIET_404, o) || c->status == 404;
}

bool k8s_crd_exists(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name,
		    bool *exists)
{
	json_object *o;

	*exists = false;
	if (!k8s_crd_get(crd, c, ns, name, &o))
		return false;
	*exists = o != NULL;
	json_object_put(o);
	return true;
}

bool k8s_crd_delete(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name)
{
	char path[512];
	struct k8s_ref ref = { crd->kind, ns, name };

	crd_path(crd, ns, name, path, sizeof(path));
	return k8s_delete_foreground(c, path, &ref);
}

bool k8s_members_ready(int (*members_fn)(struct k8s_client *, const char *, const char *,
					 struct cnpg_member *, int),
		       struct k8s_client *c, const char *ns, const char *name, int want, char *why,
		       size_t why_len, bool *failed)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	int n = members_fn(c, ns, name, m, DRIVER_MAX_MEMBERS);

	if (n < 0) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	return k8s_members_healthy(m, n, want, why, why_len);
}

void k8s_operator_selector(const struct k8s_operator *op, const char *name, char *buf, size_t len)
{
	const char *p = strstr(op->pod_selector, "%s");

	if (!p)
		str_copy(buf, len, op->pod_selector);
	else
		str_format(buf, len, "%.*s%s%s", (int)(p - op->pod_selector), op->pod_selector, name, p + 2);
}

json_object *k8s_zone_spread(const char *key, const char *value)
{
	json_object *tsc = json_object_new_object(), *sel = json_object_new_object();
	json_object *ml = json_object_new_object();

	json_object_object_add(ml, key, json_object_new_string(value));
	json_object_object_add(sel, "matchLabels", ml);
	json_object_object_add(tsc, "maxSkew", json_object_new_int(1));
	json_object_object_add(tsc, "topologyKey", json_object_new_string(CNPG_ZONE_LABEL));
	json_object_object_add(tsc, "whenUnsatisfiable", json_object_new_string("DoNotSchedule"));
	json_object_object_add(tsc, "labelSelector", sel);
	return tsc;
}

json_object *k8s_zone_node_affinity(const struct cluster_spec *spec)
{
	json_object *zones = json_object_new_array(), *expr = json_object_new_object();
	json_object *exprs = json_object_new_array(), *term = json_object_new_object();
	json_object *terms = json_object_new_array(), *req = json_object_new_object();
	json_object *na = json_object_new_object();

	for (int i = 0; i < spec->nzones; i++)
		json_object_array_add(zones, json_object_new_string(spec->zones[i]));
	json_object_object_add(expr, "key", json_object_new_string(CNPG_ZONE_LABEL));
	json_object_object_add(expr, "operator", json_object_new_string("In"));
	json_object_object_add(expr, "values", zones);
	json_object_array_add(exprs, expr);
	json_object_object_add(term, "matchExpressions", exprs);
	json_object_array_add(terms, term);
	json_object_object_add(req, "nodeSelectorTerms", terms);
	json_object_object_add(na, "requiredDuringSchedulingIgnoredDuringExecution", req);
	return na;
}

bool k8s_poll_ready(k8s_ready_fn ready, struct k8s_client *c, const char *ns, const char *name,
		    int64_t timeout_us, int64_t poll_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;
	bool failed = false;

	for (;;) {
		if (ready(c, ns, name, why, why_len, &failed))
			return true;
		if (failed || mono_now_us() + poll_us > deadline)
			return false;
		sleep_us(poll_us);
	}
}

static bool cnpg_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	struct cnpg_status st;

	return cnpg_status(c, ns, name, &st, exists);
}

static const struct k8s_operator op_cnpg = {
	.name = "cnpg",
	.title = "CloudNativePG",
	.api = CNPG_API,
	.pod_selector = "cnpg.io/cluster=%s",
	.container = "postgres",
	.data_path = "/var/lib/postgresql/data",
	.primary_selector = "cnpg.io/cluster=%s,cnpg.io/instanceRole=primary",
	/* The Cluster bise creates enables superuser access; a user's may have only the app user. */
	.secrets = "%s-superuser,%s-app",
	.dbname = "postgres",
	.object = cnpg_cluster_object,
	.create = cnpg_create,
	.exists = cnpg_exists,
	.members = cnpg_members,
	.wait_ready = cnpg_wait_ready,
	.remove = cnpg_delete,
};

const struct k8s_operator *k8s_operator_find(const char *name)
{
	const struct k8s_operator *const all[] = { &op_cnpg, &k8s_operator_cozystack,
						   &k8s_operator_zalando, &k8s_operator_crunchy };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
