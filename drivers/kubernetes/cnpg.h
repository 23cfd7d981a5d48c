/*
 * cnpg.h - the CloudNativePG adapter: a postgresql.cnpg.io/v1 Cluster with one instance
 * per zone (topology.kubernetes.io/zone), its readiness, its members (pods labelled
 * cnpg.io/cluster=<name>, role from cnpg.io/instanceRole or the older role label, zone
 * from the pod's node) and its primary (status.currentPrimary and since when).
 */
#ifndef BISE_K8S_CNPG_H
#define BISE_K8S_CNPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "client.h"
#include "driver.h"

#define CNPG_ZONE_LABEL "topology.kubernetes.io/zone"
#define CNPG_API "/apis/postgresql.cnpg.io/v1"

struct cnpg_status {
	int instances;        /* spec.instances */
	int ready;            /* status.readyInstances */
	char phase[128];
	char primary[K8S_NAME_LEN];        /* status.currentPrimary */
	char target_primary[K8S_NAME_LEN]; /* status.targetPrimary */
	time_t primary_since;              /* status.currentPrimaryTimestamp, 0 if absent */
	int timeline;
	char image[256];                   /* status.image or spec.imageName */
};

struct cnpg_member {
	char name[K8S_NAME_LEN];
	char node[K8S_NAME_LEN];
	char zone[64];
	char ip[64];
	enum member_role role;
	bool ready;    /* Running, Ready condition true, not being deleted */
	int timeline;  /* from status.instancesReportedState, 0 if unknown */
};

/*
 * The Cluster bise creates for spec: spec->nzones instances, spread one per zone (a
 * topology spread constraint with maxSkew 1 and DoNotSchedule, required anti-affinity on
 * the zone key, and node affinity to the named zones); synchronous replication as
 * minSyncReplicas = maxSyncReplicas = 1. image may be NULL (the operator's default).
 */
json_object *cnpg_cluster_object(const struct cluster_spec *spec, const char *ns, const char *image);

/* POST the Cluster; false (logged) on error, also when it exists already. */
bool cnpg_create(struct k8s_client *c, const char *ns, json_object *cluster);

/* GET the Cluster's status; *exists false (no log) when there is none. */
/* The status fields of a Cluster object as the API server answered it. */
void cnpg_status_parse(json_object *o, struct cnpg_status *st);

bool cnpg_status(struct k8s_client *c, const char *ns, const char *name, struct cnpg_status *st,
		 bool *exists);

/* The members now; count, or -1 (logged). */
int cnpg_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		 int max);

/*
 * Poll (every poll_us) until readyInstances == instances, the phase is the healthy one
 * and the current primary is the target; why gets what was missing on timeout.
 */
bool cnpg_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
		     int64_t poll_us, char *why, size_t why_len);

/* DELETE the Cluster (the operator's owner references take pods and PVCs); 404 is fine. */
bool cnpg_delete(struct k8s_client *c, const char *ns, const char *name);

#endif
