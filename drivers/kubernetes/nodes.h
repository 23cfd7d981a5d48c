/*
 * nodes.h - cordoning a zone's nodes for a zone outage on a real cluster: nothing new is
 * scheduled there while the zone is "down". bise cordons only nodes that are schedulable
 * and marks each with the annotations bise.io/cordoned-by=<run> and
 * bise.io/cordoned-for=<namespace>/<cluster>; uncordoning touches only nodes carrying the
 * latter for the same cluster, so a node an administrator cordoned stays cordoned. Needs
 * RBAC to list and patch nodes (cluster-scoped).
 */
#ifndef BISE_K8S_NODES_H
#define BISE_K8S_NODES_H

#include "client.h"

#define NODES_CORDONED_BY "bise.io/cordoned-by"
#define NODES_CORDONED_FOR "bise.io/cordoned-for"

/* The merge patch cordoning a node for owner ("<ns>/<cluster>") in run (reference shape). */
json_object *nodes_cordon_patch(const char *run, const char *owner);

/* The merge patch undoing it: unschedulable and both annotations removed (null). */
json_object *nodes_uncordon_patch(void);

/*
 * Cordon every schedulable node labelled topology.kubernetes.io/zone=zone. Returns how
 * many bise cordoned (0: none, e.g. all cordoned already), -1 on an error (logged); what
 * was cordoned before an error stays marked for nodes_uncordon.
 */
int nodes_cordon_zone(struct k8s_client *c, const char *zone, const char *run, const char *owner);

/*
 * Uncordon the nodes of zone (every zone when NULL) that bise cordoned for owner.
 * Idempotent; false (logged) on an error.
 */
bool nodes_uncordon(struct k8s_client *c, const char *zone, const char *owner);

#endif
