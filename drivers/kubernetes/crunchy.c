/* crunchy.c - Crunchy PGO PostgresClusters through the API client. See crunchy.h. */
#include "crunchy.h"

#include "util.h"

#include <string.h>

#define CRUNCHY_PG_VERSION 15
#define CRUNCHY_STORAGE "1Gi"

static const struct k8s_crd crd = { "postgrescluster.postgres-operator.crunchydata.com", CRUNCHY_API,
				    "postgresclusters" };

json_object *crunchy_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *s, *o = k8s_crd_object("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster",
					     spec, ns, &s);
	json_object *sets = json_object_new_array(), *set = json_object_new_object();
	json_object *pvc = json_object_new_object(), *modes = json_object_new_array();
	json_object *res = json_object_new_object(), *reqs = json_object_new_object();
	json_object *tscs = json_object_new_array(), *aff = json_object_new_object();
	json_object *tsc;

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
	return o;
}

bool crunchy_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	return k8s_crd_create(&crd, c, ns, obj);
}

bool crunchy_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	return k8s_crd_exists(&crd, c, ns, name, exists);
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
	json_object *o, *sets, *v;
	int want = 0, ready = 0;

	if (!k8s_crd_get(&crd, c, ns, name, &o)) {
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
	return k8s_members_ready(crunchy_members, c, ns, name, want, why, why_len, failed);
}

bool crunchy_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len)
{
	return k8s_poll_ready(ready_now, c, ns, name, timeout_us, poll_us, why, why_len);
}

bool crunchy_delete(struct k8s_client *c, const char *ns, const char *name)
{
	return k8s_crd_delete(&crd, c, ns, name);
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
