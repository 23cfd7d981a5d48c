/*
 * zalando.h - the Zalando postgres-operator adapter: an acid.zalan.do/v1 postgresql with
 * one instance per zone, members from the pods labelled cluster-name=<name> with their
 * role in spilo-role (master|replica; the operator's default label names), readiness from
 * status.PostgresClusterStatus and the pods (the CR does not record the primary).
 */
#ifndef BISE_K8S_ZALANDO_H
#define BISE_K8S_ZALANDO_H

#include "operators.h"

#define ZALANDO_API "/apis/acid.zalan.do/v1"
#define ZALANDO_TEAM "bise"

/*
 * The postgresql object for spec: numberOfInstances = spec->nzones, a topology spread
 * constraint (maxSkew 1, DoNotSchedule) and node affinity to the named zones, Patroni's
 * synchronous_mode for synchronous replication, teamId bise (the operator's default
 * enable_team_id_clustername_prefix is false, so the name needs no team prefix).
 */
json_object *zalando_object(const struct cluster_spec *spec, const char *ns, const char *image);

/* POST the postgresql; false (logged) on error, also when it exists. */
bool zalando_create(struct k8s_client *c, const char *ns, json_object *obj);

/* GET it: *exists, and status.PostgresClusterStatus into phase ("" when none). */
bool zalando_status(struct k8s_client *c, const char *ns, const char *name, char *phase, size_t len,
		    bool *exists);

/* The members now; count or -1 (logged). */
int zalando_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		    int max);

/* Poll until the status is Running and one master and numberOfInstances-1 replicas are ready. */
bool zalando_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len);

/* DELETE the postgresql; 404 is fine. */
bool zalando_delete(struct k8s_client *c, const char *ns, const char *name);

extern const struct k8s_operator k8s_operator_zalando;

#endif
