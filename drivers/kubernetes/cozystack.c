/* cozystack.c - Cozystack Postgres apps through the API client. See cozystack.h. */
#include "cozystack.h"

#include "util.h"

#include <string.h>

#define KIND "postgres.apps.cozystack.io"
#define COZY_VERSION "v15"
#define COZY_STORAGE "1Gi"

json_object *cozystack_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	json_object *labels = json_object_new_object(), *s = json_object_new_object();
	json_object *q = json_object_new_object();
	int sync = spec->replication == REPLICATION_SYNC ? 1 : 0;

	(void)image;
	json_object_object_add(o, "apiVersion", json_object_new_string("apps.cozystack.io/v1alpha1"));
	json_object_object_add(o, "kind", json_object_new_string("Postgres"));
	json_object_object_add(meta, "name", json_object_new_string(spec->name));
	json_object_object_add(meta, "namespace", json_object_new_string(ns));
	json_object_object_add(labels, "app.kubernetes.io/managed-by", json_object_new_string("bise"));
	json_object_object_add(labels, "bise.io/cluster", json_object_new_string(spec->name));
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(o, "metadata", meta);

	json_object_object_add(s, "replicas", json_object_new_int(spec->nzones));
	json_object_object_add(s, "size", json_object_new_string(COZY_STORAGE));
	json_object_object_add(s, "version", json_object_new_string(COZY_VERSION));
	json_object_object_add(s, "external", json_object_new_boolean(0));
	json_object_object_add(q, "minSyncReplicas", json_object_new_int(sync));
	json_object_object_add(q, "maxSyncReplicas", json_object_new_int(sync));
	json_object_object_add(s, "quorum", q);
	json_object_object_add(o, "spec", s);
	return o;
}

void cozystack_cluster_name(const char *name, char *buf, size_t len)
{
	str_format(buf, len, COZYSTACK_PREFIX "%s", name);
}

bool cozystack_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, k8s_jstr(obj, "metadata.name") };

	str_format(path, sizeof(path), COZYSTACK_API "/namespaces/%s/postgreses", ns);
	return k8s_create(c, path, &ref, obj, 0, NULL);
}

/* GET the Postgres; *o NULL and no error when it does not exist. */
static bool get(struct k8s_client *c, const char *ns, const char *name, json_object **o)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, name };

	*o = NULL;
	str_format(path, sizeof(path), COZYSTACK_API "/namespaces/%s/postgreses/%s", ns, name);
	return k8s_get(c, path, &ref, K8S_QUIET_404, o) || c->status == 404;
}

bool cozystack_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	json_object *o;

	*exists = false;
	if (!get(c, ns, name, &o))
		return false;
	*exists = o != NULL;
	json_object_put(o);
	return true;
}

int cozystack_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		      int max)
{
	char cl[K8S_NAME_LEN];

	cozystack_cluster_name(name, cl, sizeof(cl));
	return cnpg_members(c, ns, cl, out, max);
}

/* The Ready condition copied from the HelmRelease: "" when absent or True, else its message. */
static void release_failure(json_object *o, char *buf, size_t len)
{
	json_object *conds = k8s_jget(o, "status.conditions");

	buf[0] = '\0';
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *cd = json_object_array_get_idx(conds, i);
		const char *type = k8s_jstr(cd, "type"), *st = k8s_jstr(cd, "status");
		const char *msg = k8s_jstr(cd, "message"), *reason = k8s_jstr(cd, "reason");

		if (type && strcmp(type, "Ready") == 0 && st && strcmp(st, "True") != 0)
			str_format(buf, len, "release not ready: %s", msg ? msg : reason ? reason : st);
	}
}

static bool ready_now(struct k8s_client *c, const char *ns, const char *name, char *why,
		      size_t why_len, bool *failed)
{
	char cl[K8S_NAME_LEN], rel[256];
	json_object *o;

	if (!get(c, ns, name, &o)) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	if (!o) {
		str_format(why, why_len, "Postgres %s/%s does not exist", ns, name);
		return false;
	}
	release_failure(o, rel, sizeof(rel));
	json_object_put(o);
	/* A release still installing is no failure yet: the CNPG Cluster tells the rest. */
	cozystack_cluster_name(name, cl, sizeof(cl));
	if (cnpg_wait_ready(c, ns, cl, 0, 0, why, why_len))
		return true;
	if (rel[0])
		str_format(why, why_len, "%s", rel);
	return false;
}

bool cozystack_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			  int64_t poll_us, char *why, size_t why_len)
{
	return k8s_poll_ready(ready_now, c, ns, name, timeout_us, poll_us, why, why_len);
}

bool cozystack_delete(struct k8s_client *c, const char *ns, const char *name)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, name };

	str_format(path, sizeof(path), COZYSTACK_API "/namespaces/%s/postgreses/%s", ns, name);
	return k8s_delete_foreground(c, path, &ref);
}

const struct k8s_operator k8s_operator_cozystack = {
	.name = "cozystack",
	.title = "Cozystack Postgres (CloudNativePG)",
	.api = COZYSTACK_API,
	.pod_selector = "cnpg.io/cluster=" COZYSTACK_PREFIX "%s",
	.container = "postgres",
	.data_path = "/var/lib/postgresql/data",
	.primary_selector = "cnpg.io/cluster=" COZYSTACK_PREFIX "%s,cnpg.io/instanceRole=primary",
	.secrets = COZYSTACK_PREFIX "%s-superuser," COZYSTACK_PREFIX "%s-app",
	.dbname = "app",
	.object = cozystack_object,
	.create = cozystack_create,
	.exists = cozystack_exists,
	.members = cozystack_members,
	.wait_ready = cozystack_wait_ready,
	.remove = cozystack_delete,
};
