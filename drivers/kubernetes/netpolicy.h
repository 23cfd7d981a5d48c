/*
 * netpolicy.h - a network partition between zones as NetworkPolicies. The instance pods
 * are labelled with their cluster and zone (bise.io/cluster, bise.io/zone, from their
 * node's topology label); then each isolated zone gets a policy selecting its pods that
 * allows ingress from and egress to every pod except those of the zones cut off. Every
 * policy carries bise.io/run=<run>, bise.io/fault=<fault id> and bise.io/cluster, so revert
 * and sweep delete by label. Enforcement is the CNI's: kind's kindnet since v0.24.0,
 * Calico and Cilium; flannel alone does not (see kind-config/README.md). A pod recreated
 * while the partition holds comes back without the labels and so outside the policy until
 * netpolicy_relabel (the driver's tick, every 500 ms while a fault is active) labels it.
 * A zone outage isolates the zone's pods from everything (netpolicy_isolate_zone).
 */
#ifndef BISE_K8S_NETPOLICY_H
#define BISE_K8S_NETPOLICY_H

#include "operators.h"

#define NETPOL_API "/apis/networking.k8s.io/v1"
#define NETPOL_CLUSTER_LABEL "bise.io/cluster"
#define NETPOL_RUN_LABEL "bise.io/run"
#define NETPOL_FAULT_LABEL "bise.io/fault"
#define NETPOL_OUTAGE_LABEL "bise.io/outage" /* on a zone outage's policy: the zone */
#define NETPOL_MAX_ACTIVE 32

/* The network faults a driver has in force (ids), so its tick knows whether to relabel. */
struct netpolicy_active {
	int n;
	char ids[NETPOL_MAX_ACTIVE][64];
};

/* The run part of a fault id "bise-<pid>-<n>" ("bise-<pid>"); the id itself otherwise. */
void netpolicy_run_of(const char *fault_id, char *buf, size_t len);

/*
 * The metadata of an object bise creates: name, namespace and the labels every one carries
 * (app.kubernetes.io/managed-by=bise, bise.io/cluster, bise.io/run) plus key=value, what
 * deletes it by label (its fault, outage or access role).
 */
json_object *netpolicy_meta(const char *name, const char *ns, const char *cluster, const char *run,
			    const char *key, const char *value);

/*
 * Label every member's pod with bise.io/cluster=cluster and bise.io/zone=<its zone> (a
 * merge patch); false (logged) when one has no zone or a patch fails.
 */
bool netpolicy_label_pods(struct k8s_client *c, const char *ns, const char *cluster,
			  const struct cnpg_member *m, int n);

/* Remove those labels again (a merge patch with null); pods already gone are fine. */
bool netpolicy_unlabel_pods(struct k8s_client *c, const char *ns, const struct cnpg_member *m, int n);

/*
 * The NetworkPolicy isolating zone's pods of cluster from the pods of the zones in cut
 * (ncut of them), both directions, named "<fault id>-<zone>".
 */
json_object *netpolicy_object(const char *ns, const char *cluster, const char *zone,
			      const char (*cut)[ZONE_NAME_LEN], int ncut, const char *fault_id);

/*
 * Whether NetworkPolicies can express f: a cut both ways with the client on one side. A
 * policy on a zone's pods cuts them from the cut zones' pods and from everything outside
 * the cluster, the client included, so the policies go on the side without the client
 * (*policied_a: on a's zones, else b's). False: why says what it would take.
 */
bool netpolicy_expressible(const struct net_fault *f, bool *policied_a, char *why, size_t why_len);

/*
 * Partition zones a from zones b: label the pods, then one policy per zone of a. On a
 * failure what was created stays for netpolicy_revert (the caller journaled the id).
 */
bool netpolicy_partition(struct k8s_client *c, const char *ns, const char *cluster,
			 const struct cnpg_member *m, int n, const char (*a)[ZONE_NAME_LEN], int na,
			 const char (*b)[ZONE_NAME_LEN], int nb, const char *fault_id);

/* Delete every policy of fault_id (a deletecollection by label). Idempotent. */
bool netpolicy_revert(struct k8s_client *c, const char *ns, const char *fault_id);

/* Delete every policy bise made for cluster in ns, whatever the run. Idempotent. */
bool netpolicy_sweep(struct k8s_client *c, const char *ns, const char *cluster);

/*
 * Label the instance pods matching selector that lack bise.io/cluster=cluster or a
 * bise.io/zone (recreated by the operator during a fault) with their zone, from their
 * node. Pods not yet scheduled or being deleted are left for the next call. Returns how
 * many were labelled, or -1 (logged) when the list or a label failed.
 */
int netpolicy_relabel(struct k8s_client *c, const char *ns, const char *cluster, const char *selector);

/*
 * The NetworkPolicy cutting zone's pods of cluster off from everything, both ways, the
 * client outside the cluster included (no ingress or egress rule), named
 * "<run>-outage-<zone>" and labelled bise.io/outage=<zone>.
 */
json_object *netpolicy_isolate_object(const char *ns, const char *cluster, const char *zone,
				      const char *run);

/*
 * Label the members' pods (m, n) with their zone, then create the isolating policy of
 * zone (an existing one is fine). For a zone outage, or a backend that needs a zone off
 * the network without stopping it.
 */
bool netpolicy_isolate_zone(struct k8s_client *c, const char *ns, const char *cluster,
			    const struct cnpg_member *m, int n, const char *zone, const char *run);

/* Delete zone's isolating policies (any run). Idempotent. */
bool netpolicy_zone_restore(struct k8s_client *c, const char *ns, const char *cluster, const char *zone);

/* Record / forget a fault id in force (a set; adding twice is once). */
void netpolicy_active_add(struct netpolicy_active *a, const char *id);
void netpolicy_active_remove(struct netpolicy_active *a, const char *id);

#endif
