/*
 * chaosmesh.h - faults through Chaos Mesh (chaos-mesh.org/v1alpha1) when its CRDs are
 * installed: NetworkChaos (partition, delay, loss, bandwidth) between zones, IOChaos
 * (latency, EIO; a stall is a latency of an hour) on one pod's data volume, PodChaos
 * (pod-kill, container-kill). Pods are chosen by the labels netpolicy_label_pods sets
 * (bise.io/cluster, bise.io/zone) or by name. Every object carries bise.io/cluster,
 * bise.io/run, bise.io/fault and, for one pod, bise.io/member; deleting it is what makes
 * Chaos Mesh recover, so revert and sweep delete by label.
 */
#ifndef BISE_K8S_CHAOSMESH_H
#define BISE_K8S_CHAOSMESH_H

#include "operators.h"

#define CHAOSMESH_API "/apis/chaos-mesh.org/v1alpha1"
#define CHAOSMESH_MEMBER_LABEL "bise.io/member"

/*
 * Whether the API group is served: 1 yes, 0 no (why says so and how to install it),
 * -1 the API failed (why holds the error).
 */
int chaosmesh_available(struct k8s_client *c, char *why, size_t why_len);

/*
 * f as Chaos Mesh can select it, into out: pods, not the client outside the cluster. One
 * zone against the client and every other zone of spec is that zone against "everything
 * else" (out->nb 0: no target). Any other place of the client cannot be expressed: false,
 * why says so.
 */
bool chaosmesh_client_as_rest(const struct cluster_spec *spec, const struct net_fault *f, struct net_fault *out,
			      char *why, size_t why_len);

/*
 * The NetworkChaos for f between the pods of cluster in zones f->a and f->b: partition
 * (loss 100%), loss, delay (with jitter), netem (delay and loss) or bandwidth; direction
 * both, or to when one_way. f->nb == 0 means everything else (no target: the client
 * outside the cluster too). NULL when f asks for what one object cannot do (why says),
 * e.g. the client named as a party: the caller turns "the rest and the client" into
 * nb == 0.
 */
json_object *chaosmesh_network_object(const char *ns, const char *cluster, const struct net_fault *f,
				      char *why, size_t why_len);

/*
 * The NetworkChaos cutting zone's pods of cluster off from everything, both ways (a
 * partition with no target), named "<run>-outage-<zone>", labelled bise.io/outage=<zone>.
 */
json_object *chaosmesh_isolate_object(const char *ns, const char *cluster, const char *zone,
				      const char *run);

/*
 * The IOChaos on pod member's volume mounted at volume_path (all of it, or pg_wal below
 * it when f->wal_only): latency (IO_DELAY), EIO (IO_ERROR), a latency of an hour
 * (IO_STALL: Chaos Mesh has no endless stall). fault_id names and labels it.
 */
json_object *chaosmesh_io_object(const char *ns, const char *cluster, const char *member,
				 const char *volume_path, const struct io_fault *f, const char *fault_id);

/* The PodChaos killing pod member: pod-kill (gracePeriod 0), or container-kill of container. */
json_object *chaosmesh_pod_object(const char *ns, const char *cluster, const char *member,
				  const char *container, const char *fault_id);

/* POST obj to its kind's collection (from obj's kind); false (logged) on error. */
bool chaosmesh_create(struct k8s_client *c, const char *ns, json_object *obj);

/*
 * Delete the objects of the three kinds that match the label selector (deletecollection).
 * Idempotent; also fine when Chaos Mesh is not installed.
 */
bool chaosmesh_delete_selected(struct k8s_client *c, const char *ns, const char *selector);

#endif
