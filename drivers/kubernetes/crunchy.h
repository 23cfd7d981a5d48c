/*
 * crunchy.h - the Crunchy PGO adapter: a postgres-operator.crunchydata.com/v1beta1
 * PostgresCluster with one instance set of one replica per zone; members from the pods
 * labelled postgres-operator.crunchydata.com/cluster=<name> that belong to an instance
 * set, role from postgres-operator.crunchydata.com/role (master|replica, set by Patroni);
 * readiness from status.instances[].readyReplicas and the pods.
 */
#ifndef BISE_K8S_CRUNCHY_H
#define BISE_K8S_CRUNCHY_H

#include "operators.h"

#define CRUNCHY_API "/apis/postgres-operator.crunchydata.com/v1beta1"
#define CRUNCHY_LABEL "postgres-operator.crunchydata.com/"
#define CRUNCHY_SET "zones" /* the one instance set bise creates */

/*
 * The PostgresCluster for spec: instance set "zones" with spec->nzones replicas, a zone
 * spread constraint (maxSkew 1, DoNotSchedule) and node affinity to the named zones;
 * synchronous_mode in Patroni's dynamic configuration for synchronous replication.
 */
json_object *crunchy_object(const struct cluster_spec *spec, const char *ns, const char *image);

/* POST the PostgresCluster; false (logged) on error, also when it exists. */
bool crunchy_create(struct k8s_client *c, const char *ns, json_object *obj);

/* *exists false (no log) when there is none. */
bool crunchy_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists);

/* The members now; count or -1 (logged). */
int crunchy_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		    int max);

/* Poll until every replica of every set is ready and the pods show one master. */
bool crunchy_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			int64_t poll_us, char *why, size_t why_len);

/* DELETE the PostgresCluster; 404 is fine. */
bool crunchy_delete(struct k8s_client *c, const char *ns, const char *name);

extern const struct k8s_operator k8s_operator_crunchy;

#endif
