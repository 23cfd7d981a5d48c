/* zalando.c - Zalando postgres-operator clusters through the API client. See zalando.h. */
#include "zalando.h"

#include "util.h"

#include <string.h>

#define ZALANDO_PG_VERSION "15"
#define ZALANDO_STORAGE "1Gi"
#define ZALANDO_RUNNING "Running"

json_object *zalando_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	json_object *labels = json_object_new_object(), *s = json_object_new_object();
	json_object *vol = json_object_new_object(), *pg = json_object_new_object();
	json_object *tscs = json_object_new_array();

	json_object_object_add(o, "apiVersion", json_object_new_string("acid.zalan.do/v1"));
	json_object_object_add(o, "kind", json_object_new_string("postgresql"));
	json_object_object_add(meta, "name", json_object_new_string(spec->name));
	json_object_object_add(meta, "namespace", json_object_new_string(ns));
	json_object_object_add(labels, "app.kubernetes.io/managed-by", json_object_new_string("bise"));
	json_object_object_add(labels, "bise.io/cluster", json_object_new_string(spec->name));
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(o, "metadata", meta);

	json_object_object_add(s, "teamId", json_object_new_string(ZALANDO_TEAM));
	json_object_object_add(s, "numberOfInstances", json_object_new_int(spec->nzones));
	json_object_object_add(vol, "size", json_object_new_string(ZALANDO_STORAGE));
	json_object_object_add(s, "volume", vol);
	json_object_object_add(pg, "version", json_object_new_string(ZALANDO_PG_VERSION));
	json_object_object_add(s, "postgresql", pg);
	if (image && *image)
		json_object_object_add(s, "dockerImage", json_object_new_string(image));
	if (spec->replication == REPLICATION_SYNC) {
		json_object *pat = json_object_new_object();

		json_object_object_add(pat, "synchronous_mode", json_object_new_boolean(1));
		json_object_object_add(s, "patroni", pat);
	}
	/* One instance per zone: the spread constraint, and only the named zones. */
	json_object_array_add(tscs, k8s_zone_spread("cluster-name", spec->name));
	json_object_object_add(s, "topologySpreadConstraints", tscs);
	json_object_object_add(s, "nodeAffinity", k8s_zone_node_affinity(spec));
	json_object_object_add(o, "spec", s);
	return o;
}

bool zalando_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	char path[512];
	struct k8s_ref ref = { "postgresql.acid.zalan.do", ns, k8s_jstr(obj, "metadata.name") };

	str_format(path, sizeof(path), ZALANDO_API "/namespaces/%s/postgresqls", ns);
	return k8s_create(c, path, &ref, obj, 0, NULL);
}

bool zalando_status(struct k8s_client *c, const char *ns, const char *name, char *phase, size_t len,
		    bool *exists)
{
	char path[512];
	struct k8s_ref ref = { "postgresql.acid.zalan.do", ns, name };
	json_object *o;
	const char *s;

	*exists = false;
	phase[0] = '\0';
	str_format(path, sizeof(path), ZALANDO_API "/namespaces/%s/postgresqls/%s", ns, name);
	if (!k8s_get(c, path, &ref, K8S_QUIET_404, &o))
		return c->status == 404;
	*exists = true;
	if ((s = k8s_jstr(o, "status.PostgresClusterStatus")))
		str_copy(phase, len, s);
	json_object_put(o);
	return true;
}

int zalando_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		    int max)
{
	char sel[320];

	/* application=spilo too: the operator's logical-backup job pods carry cluster-name. */
	str_format(sel, sizeof(sel), "application=spilo,cluster-name=%s", name);
	return k8s_pod_members(c, ns, sel, "spilo-role", "master", "replica", out, max);
}

static bool ready_now(struct k8s_client *c, const char *ns, const char *name, char *why,
		      size_t why_len, bool *failed)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	char path[512], phase[64];
	struct k8s_ref ref = { "postgresql.acid.zalan.do", ns, name };
	json_object *o, *v;
	int want, n;

	str_format(path, sizeof(path), ZALANDO_API "/namespaces/%s/postgresqls/%s", ns, name);
	if (!k8s_get(c, path, &ref, K8S_QUIET_404, &o)) {
		if (c->status == 404) {
			str_format(why, why_len, "postgresql %s/%s does not exist", ns, name);
			return false;
		}
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	want = (v = k8s_jget(o, "spec.numberOfInstances")) ? json_object_get_int(v) : 0;
	str_copy(phase, sizeof(phase), k8s_jstr(o, "status.PostgresClusterStatus") ?
		 k8s_jstr(o, "status.PostgresClusterStatus") : "");
	json_object_put(o);
	if (strcmp(phase, ZALANDO_RUNNING) != 0) {
		str_format(why, why_len, "status: %s", phase[0] ? phase : "none");
		return false;
	}
	n = zalando_members(c, ns, name, m, DRIVER_MAX_MEMBERS);
	if (n < 0) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	return k8s_members_healthy(m, n, want, why, why_len);
}

bool zalando_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len)
{
	return k8s_poll_ready(ready_now, c, ns, name, timeout_us, poll_us, why, why_len);
}

bool zalando_delete(struct k8s_client *c, const char *ns, const char *name)
{
	char path[512];
	struct k8s_ref ref = { "postgresql.acid.zalan.do", ns, name };

	str_format(path, sizeof(path), ZALANDO_API "/namespaces/%s/postgresqls/%s", ns, name);
	return k8s_delete_foreground(c, path, &ref);
}

static bool zalando_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists)
{
	char phase[64];

	return zalando_status(c, ns, name, phase, sizeof(phase), exists);
}

const struct k8s_operator k8s_operator_zalando = {
	.name = "zalando",
	.title = "Zalando postgres-operator",
	.api = ZALANDO_API,
	.pod_selector = "application=spilo,cluster-name=%s",
	.container = "postgres",
	.data_path = "/home/postgres/pgdata",
	.primary_selector = "application=spilo,cluster-name=%s,spilo-role=master",
	.secrets = "postgres.%s.credentials.postgresql.acid.zalan.do",
	.dbname = "postgres",
	.object = zalando_object,
	.create = zalando_create,
	.exists = zalando_exists,
	.members = zalando_members,
	.wait_ready = zalando_wait_ready,
	.remove = zalando_delete,
};
