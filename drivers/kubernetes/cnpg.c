/* cnpg.c - CloudNativePG Clusters through the API client. See cnpg.h. */
#include "cnpg.h"
#include "operators.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

#define CNPG_HEALTHY_PHASE "Cluster in healthy state"
#define CNPG_STORAGE "1Gi"

/* Where CloudNativePG keeps its Clusters. */
static const struct k8s_crd cnpg_crd = { "cluster.postgresql.cnpg.io", CNPG_API, "clusters" };

json_object *cnpg_cluster_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *s, *o = k8s_crd_object("postgresql.cnpg.io/v1", "Cluster", spec, ns, &s);
	json_object *aff = json_object_new_object(), *tscs = json_object_new_array();
	json_object *storage = json_object_new_object();

	json_object_object_add(s, "instances", json_object_new_int(spec->nzones));
	/* The workload reads the postgres user's password from <name>-superuser (access.c). */
	json_object_object_add(s, "enableSuperuserAccess", json_object_new_boolean(1));
	if (image && *image)
		json_object_object_add(s, "imageName", json_object_new_string(image));
	json_object_object_add(storage, "size", json_object_new_string(CNPG_STORAGE));
	json_object_object_add(s, "storage", storage);
	if (spec->replication == REPLICATION_SYNC) {
		json_object_object_add(s, "minSyncReplicas", json_object_new_int(1));
		json_object_object_add(s, "maxSyncReplicas", json_object_new_int(1));
	}
	/* One instance per zone: never two in a zone (anti-affinity), only the named zones. */
	json_object_object_add(aff, "enablePodAntiAffinity", json_object_new_boolean(1));
	json_object_object_add(aff, "podAntiAffinityType", json_object_new_string("required"));
	json_object_object_add(aff, "topologyKey", json_object_new_string(CNPG_ZONE_LABEL));
	json_object_object_add(aff, "nodeAffinity", k8s_zone_node_affinity(spec));
	json_object_object_add(s, "affinity", aff);
	json_object_array_add(tscs, k8s_zone_spread("cnpg.io/cluster", spec->name));
	json_object_object_add(s, "topologySpreadConstraints", tscs);
	return o;
}

bool cnpg_create(struct k8s_client *c, const char *ns, json_object *cluster)
{
	return k8s_crd_create(&cnpg_crd, c, ns, cluster);
}

void cnpg_status_parse(json_object *o, struct cnpg_status *st)
{
	json_object *v;
	const char *s;

	memset(st, 0, sizeof(*st));
	if ((v = k8s_jget(o, "spec.instances")))
		st->instances = json_object_get_int(v);
	if ((v = k8s_jget(o, "status.readyInstances")))
		st->ready = json_object_get_int(v);
	if ((v = k8s_jget(o, "status.timelineID")))
		st->timeline = json_object_get_int(v);
	if ((s = k8s_jstr(o, "status.phase")))
		str_copy(st->phase, sizeof(st->phase), s);
	if ((s = k8s_jstr(o, "status.currentPrimary")))
		str_copy(st->primary, sizeof(st->primary), s);
	if ((s = k8s_jstr(o, "status.targetPrimary")))
		str_copy(st->target_primary, sizeof(st->target_primary), s);
	if ((s = k8s_jstr(o, "status.currentPrimaryTimestamp")) && !k8s_time_parse(s, &st->primary_since, NULL))
		st->primary_since = 0;
	if ((s = k8s_jstr(o, "status.image")) || (s = k8s_jstr(o, "spec.imageName")))
		str_copy(st->image, sizeof(st->image), s);
}

bool cnpg_status(struct k8s_client *c, const char *ns, const char *name, struct cnpg_status *st,
		 bool *exists)
{
	char path[512];
	struct k8s_ref ref = { "cluster.postgresql.cnpg.io", ns, name };
	json_object *o;

	memset(st, 0, sizeof(*st));
	*exists = false;
	str_format(path, sizeof(path), CNPG_API "/namespaces/%s/clusters/%s", ns, name);
	if (!k8s_get(c, path, &ref, K8S_QUIET_404, &o))
		return c->status == 404;
	*exists = true;
	cnpg_status_parse(o, st);
	json_object_put(o);
	return true;
}

int cnpg_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		 int max)
{
	char path[768], sel[320], *esc, cpath[512];
	struct k8s_ref ref = { "pods", ns, NULL };
	struct k8s_ref cref = { "cluster.postgresql.cnpg.io", ns, name };
	json_object *items, *cluster = NULL, *reported = NULL;
	int n = 0;

	str_format(sel, sizeof(sel), "cnpg.io/cluster=%s", name);
	esc = k8s_escape(sel);
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s", ns, esc);
	free(esc);
	if (!k8s_list(c, path, &ref, 100, &items, NULL, 0))
		return -1;
	str_format(cpath, sizeof(cpath), CNPG_API "/namespaces/%s/clusters/%s", ns, name);
	if (k8s_get(c, cpath, &cref, K8S_QUIET_404, &cluster))
		reported = k8s_jget(cluster, "status.instancesReportedState");
	for (size_t i = 0; i < json_object_array_length(items) && n < max; i++) {
		json_object *pod = json_object_array_get_idx(items, i), *st, *tl;
		struct cnpg_member *m = &out[n];
		const char *pname = k8s_jstr(pod, "metadata.name"), *role, *pr = k8s_label(pod, "cnpg.io/podRole");
		const char *node = k8s_jstr(pod, "spec.nodeName"), *ip = k8s_jstr(pod, "status.podIP");

		/* Jobs (initdb, join) carry the cluster label too; instances are what we want. */
		if (!pname || (pr ? strcmp(pr, "instance") != 0 : !k8s_label(pod, "cnpg.io/instanceName")))
			continue;
		memset(m, 0, sizeof(*m));
		str_copy(m->name, sizeof(m->name), pname);
		if (node) {
			str_copy(m->node, sizeof(m->node), node);
			k8s_node_zone(c, node, m->zone, sizeof(m->zone));
		}
		if (ip)
			str_copy(m->ip, sizeof(m->ip), ip);
		role = k8s_label(pod, "cnpg.io/instanceRole");
		if (!role)
			role = k8s_label(pod, "role"); /* before CNPG 1.22 only this one */
		m->ready = k8s_pod_ready(pod);
		if (!m->ready)
			m->role = MEMBER_DOWN;
		else if (role && strcmp(role, "primary") == 0)
			m->role = MEMBER_PRIMARY;
		else if (role && strcmp(role, "replica") == 0)
			m->role = MEMBER_REPLICA;
		else
			m->role = MEMBER_UNKNOWN;
		if (reported && json_object_object_get_ex(reported, pname, &st) &&
		    json_object_object_get_ex(st, "timeLineID", &tl))
			m->timeline = json_object_get_int(tl);
		n++;
	}
	json_object_put(items);
	json_object_put(cluster);
	return n;
}

bool cnpg_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
		     int64_t poll_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;
	struct cnpg_status st;
	bool exists;

	for (;;) {
		if (!cnpg_status(c, ns, name, &st, &exists)) {
			str_format(why, why_len, "%s", c->error);
			return false;
		}
		if (!exists)
			str_format(why, why_len, "cluster %s/%s does not exist", ns, name);
		else if (st.ready != st.instances)
			str_format(why, why_len, "%d of %d instances ready (phase: %s)", st.ready,
				   st.instances, st.phase[0] ? st.phase : "none");
		else if (strcmp(st.phase, CNPG_HEALTHY_PHASE) != 0)
			str_format(why, why_len, "phase: %s", st.phase[0] ? st.phase : "none");
		else if (!st.primary[0] || strcmp(st.primary, st.target_primary) != 0)
			str_format(why, why_len, "primary %s, target %s", st.primary[0] ? st.primary : "none",
				   st.target_primary[0] ? st.target_primary : "none");
		else
			return true;
		if (mono_now_us() + poll_us > deadline)
			return false;
		sleep_us(poll_us);
	}
}

bool cnpg_delete(struct k8s_client *c, const char *ns, const char *name)
{
	return k8s_crd_delete(&cnpg_crd, c, ns, name);
}
