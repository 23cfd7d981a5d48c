/* zalando.c - Zalando postgres-operator clusters through the API client. See zalando.h. */
#include "zalando.h"

#include "util.h"

#include <string.h>

#define ZALANDO_PG_VERSION "15"
#define ZALANDO_STORAGE "1Gi"
#define ZALANDO_RUNNING "Running"

static const struct k8s_crd crd = { "postgresql.acid.zalan.do", ZALANDO_API, "postgresqls" };

json_object *zalando_object(const struct cluster_spec *spec, const char *ns, const char *image)
{
	json_object *s, *o = k8s_crd_object("acid.zalan.do/v1", "postgresql", spec, ns, &s);
	json_object *vol = json_object_new_object(), *pg = json_object_new_object();
	json_object *tscs = json_object_new_array();

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
	return o;
}

bool zalando_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	return k8s_crd_create(&crd, c, ns, obj);
}

bool zalando_status(struct k8s_client *c, const char *ns, const char *name, char *phase, size_t len,
		    bool *exists)
{
	json_object *o;
	const char *s;

	*exists = false;
	phase[0] = '\0';
	if (!k8s_crd_get(&crd, c, ns, name, &o))
		return false;
	if (!o)
		return true;
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
	char phase[64];
	json_object *o, *v;
	int want;

	if (!k8s_crd_get(&crd, c, ns, name, &o)) {
		*failed = true;
		str_format(why, why_len, "%s", c->error);
		return false;
	}
	if (!o) {
		str_format(why, why_len, "postgresql %s/%s does not exist", ns, name);
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
	return k8s_members_ready(zalando_members, c, ns, name, want, why, why_len, failed);
}

bool zalando_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len)
{
	return k8s_poll_ready(ready_now, c, ns, name, timeout_us, poll_us, why, why_len);
}

bool zalando_delete(struct k8s_client *c, const char *ns, const char *name)
{
	return k8s_crd_delete(&crd, c, ns, name);
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
