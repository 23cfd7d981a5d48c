/*
 * cozystack.h - the Cozystack (Hikube) adapter: an apps.cozystack.io/v1alpha1 Postgres N
 * becomes a HelmRelease postgres-N whose chart renders a CloudNativePG Cluster named
 * postgres-N in the same namespace; members, primary and readiness are read there through
 * the cnpg adapter. The app's schema has no scheduling field, so the spread of instances
 * over zones is the platform's (its nodes' zone labels), not bise's.
 */
#ifndef BISE_K8S_COZYSTACK_H
#define BISE_K8S_COZYSTACK_H

#include "operators.h"

#define COZYSTACK_API "/apis/apps.cozystack.io/v1alpha1"
#define COZYSTACK_PREFIX "postgres-" /* release.prefix of the Postgres ApplicationDefinition */

/*
 * The Postgres for spec: replicas = spec->nzones, PostgreSQL v15, quorum 1/1 for
 * synchronous replication (0/0 otherwise), no external access. image is ignored: the
 * chart picks the image from version.
 */
json_object *cozystack_object(const struct cluster_spec *spec, const char *ns, const char *image);

/* The CNPG Cluster's name for Postgres name ("postgres-<name>"). */
void cozystack_cluster_name(const char *name, char *buf, size_t len);

/* POST the Postgres; false (logged) on error, also when it exists. */
bool cozystack_create(struct k8s_client *c, const char *ns, json_object *obj);

/* *exists false (no log) when there is no Postgres of that name. */
bool cozystack_exists(struct k8s_client *c, const char *ns, const char *name, bool *exists);

/* The members of the generated CNPG Cluster; count or -1 (logged). */
int cozystack_members(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		      int max);

/* Poll until the Postgres is not failing (condition Ready) and its CNPG Cluster is ready. */
bool cozystack_wait_ready(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			  int64_t poll_us, char *why, size_t why_len);

/* DELETE the Postgres (Flux uninstalls the release, CNPG the pods); 404 is fine. */
bool cozystack_delete(struct k8s_client *c, const char *ns, const char *name);

extern const struct k8s_operator k8s_operator_cozystack;

#endif
