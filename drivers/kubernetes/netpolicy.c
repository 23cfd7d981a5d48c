/* netpolicy.c - zone partitions as NetworkPolicies. See netpolicy.h. */
#include "netpolicy.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void netpolicy_run_of(const char *fault_id, char *buf, size_t len)
{
	const char *dash = strrchr(fault_id, '-');

	/* "bise-<pid>-<n>": two dashes; anything else is its own run. */
	if (dash && dash != strchr(fault_id, '-'))
		str_format(buf, len, "%.*s", (int)(dash - fault_id), fault_id);
	else
		str_copy(buf, len, fault_id);
}

/* PATCH the pod's labels with labels (a merge patch; null values remove). */
static bool patch_labels(struct k8s_client *c, const char *ns, const char *pod, json_object *labels,
			 unsigned quiet_404)
{
	json_object *patch = json_object_new_object(), *meta = json_object_new_object();
	struct k8s_ref ref = { "pod", ns, pod };
	char path[512];
	bool ok;

	json_object_object_add(meta, "labels", labels);
	json_object_object_add(patch, "metadata", meta);
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, pod);
	if (quiet_404) {
		/* k8s_patch has no quiet flag: a vanished pod has no labels left to remove. */
		enum log_level level = log_get_level();

		log_set_level(LOG_QUIET);
		ok = k8s_patch(c, path, &ref, K8S_PATCH_MERGE, patch, NULL);
		log_set_level(level);
		if (!ok && c->status != 404)
			log_error("%s", c->error);
		ok = ok || c->status == 404;
	} else {
		ok = k8s_patch(c, path, &ref, K8S_PATCH_MERGE, patch, NULL);
	}
	json_object_put(patch);
	return ok;
}

bool netpolicy_label_pods(struct k8s_client *c, const char *ns, const char *cluster,
			  const struct cnpg_member *m, int n)
{
	for (int i = 0; i < n; i++) {
		json_object *labels;

		if (!m[i].zone[0]) {
			log_error("pod %s/%s has no zone: its node %s lacks the label " CNPG_ZONE_LABEL, ns,
				  m[i].name, m[i].node[0] ? m[i].node : "(unscheduled)");
			return false;
		}
		labels = json_object_new_object();
		json_object_object_add(labels, NETPOL_CLUSTER_LABEL, json_object_new_string(cluster));
		json_object_object_add(labels, K8S_ZONE_POD_LABEL, json_object_new_string(m[i].zone));
		if (!patch_labels(c, ns, m[i].name, labels, 0))
			return false;
	}
	return true;
}

bool netpolicy_unlabel_pods(struct k8s_client *c, const char *ns, const struct cnpg_member *m, int n)
{
	bool ok = true;

	for (int i = 0; i < n; i++) {
		json_object *labels = json_object_new_object();

		json_object_object_add(labels, NETPOL_CLUSTER_LABEL, NULL);
		json_object_object_add(labels, K8S_ZONE_POD_LABEL, NULL);
		ok = patch_labels(c, ns, m[i].name, labels, 1) && ok;
	}
	return ok;
}

/* A peer: any pod in any namespace except the cut zones' (NotIn also matches unlabelled pods). */
static json_object *peers(const char (*cut)[ZONE_NAME_LEN], int ncut)
{
	json_object *peer = json_object_new_object(), *ps = json_object_new_object();
	json_object *exprs = json_object_new_array(), *e = json_object_new_object();
	json_object *vals = json_object_new_array(), *list = json_object_new_array();

	for (int i = 0; i < ncut; i++)
		json_object_array_add(vals, json_object_new_string(cut[i]));
	json_object_object_add(e, "key", json_object_new_string(K8S_ZONE_POD_LABEL));
	json_object_object_add(e, "operator", json_object_new_string("NotIn"));
	json_object_object_add(e, "values", vals);
	json_object_array_add(exprs, e);
	/* No zone cut (only the client): every pod; NotIn needs values. */
	if (ncut > 0)
		json_object_object_add(ps, "matchExpressions", exprs);
	else
		json_object_put(exprs);
	json_object_object_add(peer, "namespaceSelector", json_object_new_object());
	json_object_object_add(peer, "podSelector", ps);
	json_object_array_add(list, peer);
	return list;
}

json_object *netpolicy_meta(const char *name, const char *ns, const char *cluster, const char *run,
			    const char *key, const char *value)
{
	json_object *m = json_object_new_object(), *l = json_object_new_object();

	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "namespace", json_object_new_string(ns));
	json_object_object_add(l, "app.kubernetes.io/managed-by", json_object_new_string("bise"));
	json_object_object_add(l, NETPOL_CLUSTER_LABEL, json_object_new_string(cluster));
	json_object_object_add(l, NETPOL_RUN_LABEL, json_object_new_string(run));
	json_object_object_add(l, key, json_object_new_string(value));
	json_object_object_add(m, "labels", l);
	return m;
}

/*
 * A NetworkPolicy of bise (labels as netpolicy_meta) selecting zone's pods of cluster,
 * both directions; *spec is where the caller adds the rules.
 */
static json_object *policy_new(const char *ns, const char *name, const char *cluster, const char *run,
			       const char *key, const char *value, const char *zone, json_object **spec)
{
	json_object *o = json_object_new_object(), *s = json_object_new_object();
	json_object *sel = json_object_new_object(), *ml = json_object_new_object();
	json_object *types = json_object_new_array();

	json_object_object_add(o, "apiVersion", json_object_new_string("networking.k8s.io/v1"));
	json_object_object_add(o, "kind", json_object_new_string("NetworkPolicy"));
	json_object_object_add(o, "metadata", netpolicy_meta(name, ns, cluster, run, key, value));
	json_object_object_add(ml, NETPOL_CLUSTER_LABEL, json_object_new_string(cluster));
	json_object_object_add(ml, K8S_ZONE_POD_LABEL, json_object_new_string(zone));
	json_object_object_add(sel, "matchLabels", ml);
	json_object_object_add(s, "podSelector", sel);
	json_object_array_add(types, json_object_new_string("Ingress"));
	json_object_array_add(types, json_object_new_string("Egress"));
	json_object_object_add(s, "policyTypes", types);
	json_object_object_add(o, "spec", s);
	*spec = s;
	return o;
}

json_object *netpolicy_object(const char *ns, const char *cluster, const char *zone,
			      const char (*cut)[ZONE_NAME_LEN], int ncut, const char *fault_id)
{
	json_object *o, *s, *in = json_object_new_array(), *out = json_object_new_array();
	json_object *rule_in = json_object_new_object(), *rule_out = json_object_new_object();
	char name[K8S_NAME_LEN], run[64];

	netpolicy_run_of(fault_id, run, sizeof(run));
	str_format(name, sizeof(name), "%s-%s", fault_id, zone);
	o = policy_new(ns, name, cluster, run, NETPOL_FAULT_LABEL, fault_id, zone, &s);
	json_object_object_add(rule_in, "from", peers(cut, ncut));
	json_object_array_add(in, rule_in);
	json_object_object_add(s, "ingress", in);
	json_object_object_add(rule_out, "to", peers(cut, ncut));
	json_object_array_add(out, rule_out);
	json_object_object_add(s, "egress", out);
	return o;
}

static bool has_client(const char (*side)[ZONE_NAME_LEN], int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(side[i], PARTY_CLIENT) == 0)
			return true;
	return false;
}

bool netpolicy_expressible(const struct net_fault *f, bool *policied_a, char *why, size_t why_len)
{
	bool in_a = has_client(f->a, f->na), in_b = has_client(f->b, f->nb);

	if (f->loss_pct < 100 || f->latency_us > 0 || f->rate_bps > 0 || f->one_way) {
		str_copy(why, why_len, "a NetworkPolicy only cuts, both ways (no loss rate, delay, "
			 "bandwidth or one-way fault)");
		return false;
	}
	if (!in_a && !in_b) {
		str_copy(why, why_len, "a NetworkPolicy on the isolated pods also cuts them from outside "
			 "the cluster, where the client is, which this fault leaves connected");
		return false;
	}
	*policied_a = !in_a;
	return true;
}

bool netpolicy_partition(struct k8s_client *c, const char *ns, const char *cluster,
			 const struct cnpg_member *m, int n, const char (*a)[ZONE_NAME_LEN], int na,
			 const char (*b)[ZONE_NAME_LEN], int nb, const char *fault_id)
{
	char path[512];

	if (!netpolicy_label_pods(c, ns, cluster, m, n))
		return false;
	str_format(path, sizeof(path), NETPOL_API "/namespaces/%s/networkpolicies", ns);
	for (int i = 0; i < na; i++) {
		json_object *o = netpolicy_object(ns, cluster, a[i], b, nb, fault_id);
		struct k8s_ref ref = { "networkpolicy", ns, k8s_jstr(o, "metadata.name") };
		bool ok = k8s_create(c, path, &ref, o, 0, NULL);

		json_object_put(o);
		if (!ok)
			return false;
	}
	return true;
}

/* deletecollection of the policies matching selector. */
static bool delete_selected(struct k8s_client *c, const char *ns, const char *selector)
{
	char path[768], *esc = k8s_escape(selector);
	struct k8s_ref ref = { "networkpolicies", ns, NULL };
	bool ok;

	str_format(path, sizeof(path), NETPOL_API "/namespaces/%s/networkpolicies?labelSelector=%s", ns, esc);
	free(esc);
	ok = k8s_delete(c, path, &ref, NULL, K8S_QUIET_404, NULL) || c->status == 404;
	return ok;
}

bool netpolicy_revert(struct k8s_client *c, const char *ns, const char *fault_id)
{
	char sel[256];

	str_format(sel, sizeof(sel), NETPOL_FAULT_LABEL "=%s", fault_id);
	return delete_selected(c, ns, sel);
}

bool netpolicy_sweep(struct k8s_client *c, const char *ns, const char *cluster)
{
	char sel[256];

	str_format(sel, sizeof(sel), "app.kubernetes.io/managed-by=bise," NETPOL_CLUSTER_LABEL "=%s", cluster);
	return delete_selected(c, ns, sel);
}

int netpolicy_relabel(struct k8s_client *c, const char *ns, const char *cluster, const char *selector)
{
	char path[768], *esc = k8s_escape(selector);
	struct k8s_ref ref = { "pods", ns, NULL };
	json_object *items;
	int patched = 0;
	bool ok = true;

	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s", ns, esc);
	free(esc);
	if (!k8s_list(c, path, &ref, 100, &items, NULL, 0))
		return -1;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *pod = json_object_array_get_idx(items, i), *labels;
		const char *name = k8s_jstr(pod, "metadata.name"), *node = k8s_jstr(pod, "spec.nodeName");
		const char *cl = k8s_label(pod, NETPOL_CLUSTER_LABEL);
		const char *zone = k8s_label(pod, K8S_ZONE_POD_LABEL);
		char node_zone[64];

		/* Labelled already, going away, or not scheduled yet (the next tick sees it placed). */
		if ((cl && strcmp(cl, cluster) == 0 && zone) || !name || !node ||
		    k8s_jget(pod, "metadata.deletionTimestamp"))
			continue;
		k8s_node_zone(c, node, node_zone, sizeof(node_zone));
		if (!node_zone[0]) {
			log_error("pod %s/%s: its node %s has no label " CNPG_ZONE_LABEL
				  " (or cannot be read): it stays outside the fault", ns, name, node);
			ok = false;
			continue;
		}
		labels = json_object_new_object();
		json_object_object_add(labels, NETPOL_CLUSTER_LABEL, json_object_new_string(cluster));
		json_object_object_add(labels, K8S_ZONE_POD_LABEL, json_object_new_string(node_zone));
		if (patch_labels(c, ns, name, labels, 1)) {
			log_info("pod %s/%s recreated during a network fault: labelled %s=%s", ns, name,
				 K8S_ZONE_POD_LABEL, node_zone);
			patched++;
		} else {
			ok = false;
		}
	}
	json_object_put(items);
	return ok ? patched : -1;
}

json_object *netpolicy_isolate_object(const char *ns, const char *cluster, const char *zone,
				      const char *run)
{
	json_object *o, *s;
	char name[K8S_NAME_LEN];

	str_format(name, sizeof(name), "%s-outage-%s", run, zone);
	o = policy_new(ns, name, cluster, run, NETPOL_OUTAGE_LABEL, zone, zone, &s);
	/* No rule at all: nothing in, nothing out, the client outside the cluster included. */
	json_object_object_add(s, "ingress", json_object_new_array());
	json_object_object_add(s, "egress", json_object_new_array());
	return o;
}

bool netpolicy_isolate_zone(struct k8s_client *c, const char *ns, const char *cluster,
			    const struct cnpg_member *m, int n, const char *zone, const char *run)
{
	char path[512];
	json_object *o;
	struct k8s_ref ref = { "networkpolicy", ns, NULL };
	bool ok;

	if (!netpolicy_label_pods(c, ns, cluster, m, n))
		return false;
	o = netpolicy_isolate_object(ns, cluster, zone, run);
	ref.name = k8s_jstr(o, "metadata.name");
	str_format(path, sizeof(path), NETPOL_API "/namespaces/%s/networkpolicies", ns);
	/* A 409: an earlier apply of this run made it; it isolates all the same. */
	ok = k8s_create(c, path, &ref, o, K8S_QUIET_409, NULL) || c->status == 409;
	json_object_put(o);
	return ok;
}

bool netpolicy_zone_restore(struct k8s_client *c, const char *ns, const char *cluster, const char *zone)
{
	char sel[256];

	str_format(sel, sizeof(sel), NETPOL_CLUSTER_LABEL "=%s," NETPOL_OUTAGE_LABEL "=%s", cluster, zone);
	return delete_selected(c, ns, sel);
}

void netpolicy_active_add(struct netpolicy_active *a, const char *id)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], id) == 0)
			return;
	if (a->n == NETPOL_MAX_ACTIVE) {
		/* Only the re-labelling depends on it: it may stop before the last fault ends. */
		log_warn("more than %d network faults at once: pods recreated during the last ones "
			 "may not be labelled with their zone", NETPOL_MAX_ACTIVE);
		return;
	}
	str_copy(a->ids[a->n++], sizeof(a->ids[0]), id);
}

void netpolicy_active_remove(struct netpolicy_active *a, const char *id)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], id) == 0) {
			a->ids[i][0] = '\0';
			str_copy(a->ids[i], sizeof(a->ids[0]), a->ids[a->n - 1]);
			a->n--;
			return;
		}
}
