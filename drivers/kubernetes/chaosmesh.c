/* chaosmesh.c - Chaos Mesh experiments through the API client. See chaosmesh.h. */
#include "chaosmesh.h"

#include "netpolicy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define STALL_DELAY "1h"
#define BANDWIDTH_LIMIT 20971520 /* bytes queued, as the Chaos Mesh docs' example */
#define BANDWIDTH_BUFFER 10000

static const char *const kinds[][2] = {
	{ "NetworkChaos", "networkchaos" }, { "IOChaos", "iochaos" }, { "PodChaos", "podchaos" },
};

int chaosmesh_available(struct k8s_client *c, char *why, size_t why_len)
{
	struct k8s_ref ref = { "API group chaos-mesh.org/v1alpha1", NULL, NULL };

	if (k8s_get(c, CHAOSMESH_API, &ref, K8S_QUIET_404, NULL))
		return 1;
	if (c->status == 404) {
		str_format(why, why_len, "Chaos Mesh is not installed on %s (no API chaos-mesh.org/v1alpha1; "
			   "see kind-config/README.md)", c->kc.server_shown);
		return 0;
	}
	str_format(why, why_len, "%s", c->error);
	return -1;
}

/* metadata with name, namespace and the bise labels; member may be NULL. */
static json_object *meta(const char *name, const char *ns, const char *cluster, const char *fault_id,
			 const char *member)
{
	json_object *m;
	char run[64];

	netpolicy_run_of(fault_id, run, sizeof(run));
	m = netpolicy_meta(name, ns, cluster, run, NETPOL_FAULT_LABEL, fault_id);
	if (member)
		json_object_object_add(k8s_jget(m, "labels"), CHAOSMESH_MEMBER_LABEL,
				       json_object_new_string(member));
	return m;
}

static json_object *object(const char *kind, json_object *metadata, json_object *spec)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "apiVersion", json_object_new_string("chaos-mesh.org/v1alpha1"));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "metadata", metadata);
	json_object_object_add(o, "spec", spec);
	return o;
}

/* The pods of cluster in the given zones, in ns. */
static json_object *zone_selector(const char *ns, const char *cluster, const char (*zones)[ZONE_NAME_LEN],
				  int n)
{
	json_object *sel = json_object_new_object(), *nss = json_object_new_array();
	json_object *ls = json_object_new_object(), *exprs = json_object_new_array();
	json_object *e = json_object_new_object(), *vals = json_object_new_array();

	json_object_array_add(nss, json_object_new_string(ns));
	json_object_object_add(sel, "namespaces", nss);
	json_object_object_add(ls, NETPOL_CLUSTER_LABEL, json_object_new_string(cluster));
	json_object_object_add(sel, "labelSelectors", ls);
	for (int i = 0; i < n; i++)
		json_object_array_add(vals, json_object_new_string(zones[i]));
	json_object_object_add(e, "key", json_object_new_string(K8S_ZONE_POD_LABEL));
	json_object_object_add(e, "operator", json_object_new_string("In"));
	json_object_object_add(e, "values", vals);
	json_object_array_add(exprs, e);
	json_object_object_add(sel, "expressionSelectors", exprs);
	return sel;
}

/* One pod by name. */
static json_object *pod_selector(const char *ns, const char *member)
{
	json_object *sel = json_object_new_object(), *pods = json_object_new_object();
	json_object *names = json_object_new_array();

	json_object_array_add(names, json_object_new_string(member));
	json_object_object_add(pods, ns, names);
	json_object_object_add(sel, "pods", pods);
	return sel;
}

/* A Go duration Chaos Mesh accepts: whole milliseconds, or microseconds below one. */
static void go_duration(int64_t us, char *buf, size_t len)
{
	if (us % 1000 == 0)
		str_format(buf, len, "%lldms", (long long)(us / 1000));
	else
		str_format(buf, len, "%lldus", (long long)us);
}

json_object *chaosmesh_network_object(const char *ns, const char *cluster, const struct net_fault *f,
				      char *why, size_t why_len)
{
	json_object *s, *target, *sub;
	const char *action;
	char buf[64];
	bool loss = f->loss_pct > 0 && f->loss_pct < 100, delay = f->latency_us > 0;

	for (int i = 0; i < f->na + f->nb; i++)
		if (strcmp(i < f->na ? f->a[i] : f->b[i - f->na], PARTY_CLIENT) == 0) {
			str_format(why, why_len, "the client is outside the Kubernetes cluster: Chaos Mesh "
				   "cannot select it");
			return NULL;
		}
	if (f->rate_bps > 0 && (loss || delay || f->loss_pct >= 100)) {
		str_format(why, why_len, "Chaos Mesh cannot limit bandwidth and delay or drop in one experiment");
		return NULL;
	}
	if (f->loss_pct >= 100)
		action = "partition";
	else if (f->rate_bps > 0)
		action = "bandwidth";
	else if (loss && delay)
		action = "netem";
	else if (delay)
		action = "delay";
	else if (loss)
		action = "loss";
	else {
		str_format(why, why_len, "network fault %s asks for nothing", f->id);
		return NULL;
	}
	s = json_object_new_object();
	json_object_object_add(s, "action", json_object_new_string(action));
	json_object_object_add(s, "mode", json_object_new_string("all"));
	json_object_object_add(s, "selector", zone_selector(ns, cluster, f->a, f->na));
	json_object_object_add(s, "direction", json_object_new_string(f->one_way ? "to" : "both"));
	/* No b: everything the selected pods exchange (the client outside the cluster too). */
	if (f->nb > 0) {
		target = json_object_new_object();
		json_object_object_add(target, "mode", json_object_new_string("all"));
		json_object_object_add(target, "selector", zone_selector(ns, cluster, f->b, f->nb));
		json_object_object_add(s, "target", target);
	}
	if (delay) {
		sub = json_object_new_object();
		go_duration(f->latency_us, buf, sizeof(buf));
		json_object_object_add(sub, "latency", json_object_new_string(buf));
		if (f->jitter_us > 0) {
			go_duration(f->jitter_us, buf, sizeof(buf));
			json_object_object_add(sub, "jitter", json_object_new_string(buf));
		}
		json_object_object_add(s, "delay", sub);
	}
	if (loss) {
		sub = json_object_new_object();
		str_format(buf, sizeof(buf), "%g", f->loss_pct);
		json_object_object_add(sub, "loss", json_object_new_string(buf));
		json_object_object_add(s, "loss", sub);
	}
	if (f->rate_bps > 0) {
		sub = json_object_new_object();
		/* "bit" as tc says it; Chaos Mesh's "bps" would be bytes per second. */
		str_format(buf, sizeof(buf), "%lldbit", (long long)f->rate_bps);
		json_object_object_add(sub, "rate", json_object_new_string(buf));
		json_object_object_add(sub, "limit", json_object_new_int(BANDWIDTH_LIMIT));
		json_object_object_add(sub, "buffer", json_object_new_int(BANDWIDTH_BUFFER));
		json_object_object_add(s, "bandwidth", sub);
	}
	return object("NetworkChaos", meta(f->id, ns, cluster, f->id, NULL), s);
}

static bool has_party(const char (*p)[ZONE_NAME_LEN], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(p[i], name) == 0)
			return true;
	return false;
}

bool chaosmesh_client_as_rest(const struct cluster_spec *spec, const struct net_fault *f, struct net_fault *out,
			      char *why, size_t why_len)
{
	bool in_a = has_party(f->a, f->na, PARTY_CLIENT);

	*out = *f;
	if (!in_a && !has_party(f->b, f->nb, PARTY_CLIENT))
		return true;
	if (in_a) {
		if (f->one_way) {
			str_format(why, why_len, "Chaos Mesh cannot select the client outside the cluster "
				   "as the source of a one-way fault");
			return false;
		}
		memcpy(out->a, f->b, sizeof(out->a));
		out->na = f->nb;
		memcpy(out->b, f->a, sizeof(out->b));
		out->nb = f->na;
	}
	/* With no target the selected pods are cut from everything, each other included. */
	if (out->na != 1) {
		str_format(why, why_len, "Chaos Mesh can cut the client outside the cluster only from "
			   "a single zone (%d zones on that side would be cut from each other too)",
			   out->na);
		return false;
	}
	for (int i = 0; i < spec->nzones; i++)
		if (!has_party(out->a, out->na, spec->zones[i]) && !has_party(out->b, out->nb, spec->zones[i])) {
			str_format(why, why_len, "Chaos Mesh can cut the client outside the cluster only "
				   "together with every zone not on the other side (%s is on neither)",
				   spec->zones[i]);
			return false;
		}
	out->nb = 0;
	return true;
}

json_object *chaosmesh_isolate_object(const char *ns, const char *cluster, const char *zone,
				      const char *run)
{
	json_object *s = json_object_new_object(), *m, *labels;
	char zones[1][ZONE_NAME_LEN], name[K8S_NAME_LEN];

	str_copy(zones[0], ZONE_NAME_LEN, zone);
	str_format(name, sizeof(name), "%s-outage-%s", run, zone);
	json_object_object_add(s, "action", json_object_new_string("partition"));
	json_object_object_add(s, "mode", json_object_new_string("all"));
	json_object_object_add(s, "selector",
			       zone_selector(ns, cluster, (const char (*)[ZONE_NAME_LEN])zones, 1));
	json_object_object_add(s, "direction", json_object_new_string("both"));
	m = meta(name, ns, cluster, name, NULL);
	labels = k8s_jget(m, "labels");
	json_object_object_add(labels, NETPOL_RUN_LABEL, json_object_new_string(run));
	json_object_object_add(labels, NETPOL_OUTAGE_LABEL, json_object_new_string(zone));
	return object("NetworkChaos", m, s);
}

json_object *chaosmesh_io_object(const char *ns, const char *cluster, const char *member,
				 const char *volume_path, const struct io_fault *f, const char *fault_id)
{
	json_object *s = json_object_new_object();
	char buf[1024];

	json_object_object_add(s, "action", json_object_new_string(f->mode == IO_ERROR ? "fault" : "latency"));
	json_object_object_add(s, "mode", json_object_new_string("one"));
	json_object_object_add(s, "selector", pod_selector(ns, member));
	json_object_object_add(s, "volumePath", json_object_new_string(volume_path));
	if (f->wal_only) {
		str_format(buf, sizeof(buf), "%s/**/pg_wal/**/*", volume_path);
		json_object_object_add(s, "path", json_object_new_string(buf));
	}
	if (f->mode == IO_ERROR) {
		json_object_object_add(s, "errno", json_object_new_int(5)); /* EIO */
	} else {
		if (f->mode == IO_STALL)
			str_copy(buf, sizeof(buf), STALL_DELAY);
		else
			go_duration(f->delay_us, buf, sizeof(buf));
		json_object_object_add(s, "delay", json_object_new_string(buf));
	}
	json_object_object_add(s, "percent", json_object_new_int(100));
	return object("IOChaos", meta(fault_id, ns, cluster, fault_id, member), s);
}

json_object *chaosmesh_pod_object(const char *ns, const char *cluster, const char *member,
				  const char *container, const char *fault_id)
{
	json_object *s = json_object_new_object();

	json_object_object_add(s, "action", json_object_new_string(container ? "container-kill" : "pod-kill"));
	json_object_object_add(s, "mode", json_object_new_string("one"));
	json_object_object_add(s, "selector", pod_selector(ns, member));
	if (container) {
		json_object *names = json_object_new_array();

		json_object_array_add(names, json_object_new_string(container));
		json_object_object_add(s, "containerNames", names);
	} else {
		json_object_object_add(s, "gracePeriod", json_object_new_int(0));
	}
	return object("PodChaos", meta(fault_id, ns, cluster, fault_id, member), s);
}

bool chaosmesh_create(struct k8s_client *c, const char *ns, json_object *obj)
{
	const char *kind = k8s_jstr(obj, "kind");
	char path[512], what[64];

	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i][0], kind) == 0) {
			struct k8s_ref ref = { what, ns, k8s_jstr(obj, "metadata.name") };

			str_format(what, sizeof(what), "%s.chaos-mesh.org", kinds[i][1]);
			str_format(path, sizeof(path), CHAOSMESH_API "/namespaces/%s/%s", ns, kinds[i][1]);
			return k8s_create(c, path, &ref, obj, 0, NULL);
		}
	log_error("not a Chaos Mesh kind: %s", kind ? kind : "(none)");
	return false;
}

bool chaosmesh_delete_selected(struct k8s_client *c, const char *ns, const char *selector)
{
	char *esc = k8s_escape(selector);
	bool ok = true;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct k8s_ref ref = { kinds[i][1], ns, NULL };
		char path[768];

		str_format(path, sizeof(path), CHAOSMESH_API "/namespaces/%s/%s?labelSelector=%s", ns,
			   kinds[i][1], esc);
		/* 404: the CRD is not installed, so there is nothing of that kind. */
		if (!k8s_delete(c, path, &ref, NULL, K8S_QUIET_404, NULL) && c->status != 404)
			ok = false;
	}
	free(esc);
	return ok;
}
