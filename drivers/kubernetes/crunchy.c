/* crunchy.c - Crunchy PGO PostgresClusters through the API client. See crunchy.h. */
#include "crunchy.h"

#include "util.h"

#include <string.h>

#define CRUNCHY_PG_VERSION 15
#define CRUNCHY_STORAGE "1Gi"
#define KIND "postgrescluster.postgres-operator.crunchydata.com"

json_object *crunchy_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	json_object *labels = json_object_new_object(), *s = json_object_new_object();
	json_object *sets = json_object_new_array(), *set = json_object_new_object();
	json_object *pvc = json_object_new_object(), *modes = json_object_new_array();
	json_object *res = json_object_new_object(), *reqs = json_object_new_object();
	json_object *tscs = json_object_new_array(), *aff = json_object_new_object();
	json_object *tsc;

	json_object_object_add(o, "apiVersion", json_object_new_string("postgres-operator.crunchydata.com/v1beta1"));
	json_object_object_add(o, "kind", json_object_new_string("PostgresCluster"));
	json_object_object_add(meta, "name", json_object_new_string(spec->name));
	json_object_object_add(meta, "namespace", json_object_new_string(ns));
	json_object_object_add(labels, "app.kubernetes.io/managed-by", json_object_new_string("bise"));
	json_object_object_add(labels, "bise.io/cluster", json_object_new_string(spec->name));
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(o, "metadata", meta);

	json_object_object_add(s, "postgresVersion", json_object_new_int(CRUNCHY_PG_VERSION));
	if (image && *image)
		json_object_object_add(s, "image", json_object_new_string(image));
	json_object_object_add(set, "name", json_object_new_string(CRUNCHY_SET));
	json_object_object_add(set, "replicas", json_object_new_int(spec->nzones));
	json_object_array_add(modes, json_object_new_string("ReadWriteOnce"));
	json_object_object_add(pvc, "accessModes", modes);
	json_object_object_add(reqs, "storage", json_object_new_string(CRUNCHY_STORAGE));
	json_object_object_add(res, "requests", reqs);
	json_object_object_add(pvc, "resources", res);
	json_object_object_add(set, "dataVolumeClaimSpec", pvc);
	/* One replica per zone: spread over the set's pods, only the named zones. */
	tsc = k8s_zone_spread(CRUNCHY_LABEL "cluster", spec->name);
	json_object_object_add(json_object_object_get(json_object_object_get(tsc, "labelSelector"), "matchLabels"),
			       CRUNCHY_LABEL "instance-set", json_object_new_string(CRUNCHY_SET));
	json_object_array_add(tscs, tsc);
	json_object_object_add(set, "topologySpreadConstraints", tscs);
	json_object_object_add(aff, "nodeAffinity", k8s_zone_node_affinity(spec));
	json_object_object_add(set, "affinity", aff);
	json_object_array_add(sets, set);
	json_object_object_add(s, "instances", sets);
	if (spec->replication == REPLICATION_SYNC) {
		json_object *pat = json_object_new_object(), *dyn = json_object_new_object();

		json_object_object_add(dyn, "synchronous_mode", json_object_new_boolean(1));
		json_object_object_add(pat, "dynamicConfiguration", dyn);
		json_object_object_add(s, "patroni", pat);
	}
	json_object_object_add(o, "spec", s);
	return o;
}

bool crunchy_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, k8s_jstr(obj, "metadata.name") };

	str_format(path, sizeof(path), CRUNCHY_API "/namespaces/%s/postgresclusters", ns);
	return k8s_create(c, path, &ref, obj, 0, NULL);
}

/* GET the object; *o NULL and no error when it does not exist. */
static bool get(struct k8s_client *c, const char *ns, const char *name, json_object **o)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, name };

	*o = NULL;
	str_format(path, sizeof(path), CRUNCHY_API "/namespaces/%s/postgresclusters/%s", ns, name);
	return k8s_get(c, path, &ref, K8S_QUIET_404, o) || c->status == 404;
}

bool crunchy_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	json_object *o;

	*exists = false;
	if (!get(c, ns, name, &o))
		return false;
	*exists = o != NULL;
	json_object_put(o);
	return true;
}

int crunchy_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		    int max)
{
	char sel[320];

	/* Only instance pods: the repo host and backup jobs carry the cluster label too. */
	str_format(sel, sizeof(sel), CRUNCHY_LABEL "cluster=%s," CRUNCHY_LABEL "instance", name);
	return k8s_pod_members(c, ns, sel, CRUNCHY_LABEL "role", "master", "replica", out, max);
}

static bool ready_now(struct k8s_client *c, const char *ns, const char *name, char *why,
		      size_t why_len, bool *failed)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	json_object *o, *sets, *v;
	int want = 0, ready = 0, n;

	if (!get(c, ns, name, &o)) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	if (!o) {
		str_format(why, why_len, "PostgresCluster %s/%s does not exist", ns, name);
		return false;
	}
	sets = k8s_jget(o, "spec.instances");
	for (size_t i = 0; sets && i < json_object_array_length(sets); i++)
		want += (v = k8s_jget(json_object_array_get_idx(sets, i), "replicas")) ? json_object_get_int(v) : 1;
	sets = k8s_jget(o, "status.instances");
	for (size_t i = 0; sets && i < json_object_array_length(sets); i++)
		if ((v = k8s_jget(json_object_array_get_idx(sets, i), "readyReplicas")))
			ready += json_object_get_int(v);
	json_object_put(o);
	if (ready != want) {
		str_format(why, why_len, "%d of %d replicas ready", ready, want);
		return false;
	}
	n = crunchy_members(c, ns, name, m, DRIVER_MAX_MEMBERS);
	if (n < 0) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	return k8s_members_healthy(m, n, want, why, why_len);
}

bool crunchy_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len)
{
	return k8s_poll_ready(ready_now, c, ns, name, timeout_us, poll_us, why, why_len);
}

bool crunchy_delete(struct k8s_client *c, const char *ns, const char *name)
{
	char path[512];
	struct k8s_ref ref = { KIND, ns, name };

	str_format(path, sizeof(path), CRUNCHY_API "/namespaces/%s/postgresclusters/%s", ns, name);
	return k8s_delete_foreground(c, path, &ref);
}

const struct k8s_operator k8s_operator_crunchy = {
	.name = "crunchy",
	.title = "Crunchy PGO",
	.api = CRUNCHY_API,
	.pod_selector = CRUNCHY_LABEL "cluster=%s," CRUNCHY_LABEL "instance",
	.container = "database",
	.data_path = "/pgdata",
	.primary_selector = CRUNCHY_LABEL "cluster=%s," CRUNCHY_LABEL "role=master",
	.secrets = "%s-pguser-%s",
	.dbname = "postgres",
	.object = crunchy_object,
	.create = crunchy_create,
	.exists = crunchy_exists,
	.members = crunchy_members,
	.wait_ready = crunchy_wait_ready,
	.remove = crunchy_delete,
};
