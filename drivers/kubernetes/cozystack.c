/* cozystack.c - Cozystack Postgres apps through the API client. See cozystack.h. */
#include "cozystack.h"

#include "util.h"

#include <string.h>

#define COZY_VERSION "v15"
#define COZY_STORAGE "1Gi"

static const struct k8s_crd crd = { "postgres.apps.cozystack.io", COZYSTACK_API, "postgreses" };

json_object *cozystack_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *s, *o = k8s_crd_object("apps.cozystack.io/v1alpha1", "Postgres", spec, ns, &s);
	json_object *q = json_object_new_object();
	int sync = spec->replication == REPLICATION_SYNC ? 1 : 0;

	(void)image;
	json_object_object_add(s, "replicas", json_object_new_int(spec->nzones));
	json_object_object_add(s, "size", json_object_new_string(COZY_STORAGE));
	json_object_object_add(s, "version", json_object_new_string(COZY_VERSION));
	json_object_object_add(s, "external", json_object_new_boolean(0));
	json_object_object_add(q, "minSyncReplicas", json_object_new_int(sync));
	json_object_object_add(q, "maxSyncReplicas", json_object_new_int(sync));
	json_object_object_add(s, "quorum", q);
	return o;
}

void cozystack_cluster_name(const char *name, char *buf, size_t len)
{
	str_format(buf, len, COZYSTACK_PREFIX "%s", name);
}

bool cozystack_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	return k8s_crd_create(&crd, c, ns, obj);
}

bool cozystack_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	return k8s_crd_exists(&crd, c, ns, name, exists);
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

	if (!k8s_crd_get(&crd, c, ns, name, &o)) {
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
	return k8s_crd_delete(&crd, c, ns, name);
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
