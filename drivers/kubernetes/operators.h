/*
 * operators.h - what the kubernetes backend needs of a PostgreSQL operator, one table per
 * operator (cnpg, cozystack, zalando, crunchy), and the pod helpers the adapters share:
 * members from pods found by a label selector, role from a label, zone from the node.
 */
#ifndef BISE_K8S_OPERATORS_H
#define BISE_K8S_OPERATORS_H

#include "cnpg.h"

#define K8S_ZONE_POD_LABEL "bise.io/zone" /* set on instance pods by netpolicy.c */

struct k8s_operator {
	const char *name;         /* as BISE_K8S_OPERATOR names it */
	const char *title;        /* "Zalando postgres-operator", for messages */
	const char *api;          /* API group version path that must exist (preflight) */
	const char *pod_selector; /* label selector of the instance pods, %s: the object's name */
	const char *container;    /* the PostgreSQL container (container-kill) */
	const char *data_path;    /* mount path of the data volume (IO faults) */
	/* The primary pod's labels as k=v,k=v (a Service selector), %s: the object's name. */
	const char *primary_selector;
	/* Secrets with PostgreSQL credentials, ','-separated, the first found wins; %s: the name. */
	const char *secrets;
	const char *dbname;       /* database when the Secret names none (or "*") */
	json_object *(*object)(const struct cluster_spec *spec, const char *ns, const char *image);
	bool (*create)(struct k8s_client *c, const char *ns, json_object *obj);
	/* *exists false (no log) when the object is not there; false on an error (logged). */
	bool (*exists)(struct k8s_client *c, const char *ns, const char *name, bool *exists);
	int (*members)(struct k8s_client *c, const char *ns, const char *name, struct cnpg_member *out,
		       int max);
	bool (*wait_ready)(struct k8s_client *c, const char *ns, const char *name, int64_t timeout_us,
			   int64_t poll_us, char *why, size_t why_len);
	bool (*remove)(struct k8s_client *c, const char *ns, const char *name);
};

/* The operator of that name (cnpg, cozystack, zalando, crunchy); NULL if unknown. */
const struct k8s_operator *k8s_operator_find(const char *name);

/* The label selector of name's instance pods, as op->pod_selector says. */
void k8s_operator_selector(const struct k8s_operator *op, const char *name, char *buf, size_t len);

/* The value at a dotted path of keys ("status.phase"); NULL if absent. */
json_object *k8s_jget(json_object *o, const char *path);

/* The string at a dotted path; NULL if absent or not a string. */
const char *k8s_jstr(json_object *o, const char *path);

/* A label's value (keys hold dots and slashes, hence no path); NULL if absent. */
const char *k8s_label(json_object *obj, const char *key);

/* Running, Ready condition True and not being deleted. */
bool k8s_pod_ready(json_object *pod);

/* Zone of a node from its topology.kubernetes.io/zone label, "" when none or unreadable. */
void k8s_node_zone(struct k8s_client *c, const char *node, char *zone, size_t len);

/*
 * The instance pods matching selector as members: role from role_label (primary_value or
 * replica_value; anything else unknown; not ready: down), zone from the node's topology
 * label. Count, or -1 (logged).
 */
int k8s_pod_members(struct k8s_client *c, const char *ns, const char *selector, const char *role_label,
		    const char *primary_value, const char *replica_value, struct cnpg_member *out,
		    int max);

/* Why the members are not one ready primary and want-1 ready replicas; true when they are. */
bool k8s_members_healthy(const struct cnpg_member *m, int n, int want, char *why, size_t why_len);

/* The primary's pod name among the members; false when there is not exactly one. */
bool k8s_members_primary(const struct cnpg_member *m, int n, char *out, size_t len);

/*
 * A topology spread constraint over the zone label: maxSkew 1, DoNotSchedule, counting the
 * pods labelled key=value.
 */
json_object *k8s_zone_spread(const char *key, const char *value);

/* A nodeAffinity requiring the zone label to be one of spec's zones. */
json_object *k8s_zone_node_affinity(const struct cluster_spec *spec);

/*
 * One look at readiness: true when ready; else why says what is missing, and *failed is
 * set when the API itself failed (why holds the error).
 */
typedef bool (*k8s_ready_fn)(struct k8s_client *c, const char *ns, const char *name, char *why,
			     size_t why_len, bool *failed);

/* Call ready every poll_us until it is true, the API fails or timeout_us passes. */
bool k8s_poll_ready(k8s_ready_fn ready, struct k8s_client *c, const char *ns, const char *name,
		    int64_t timeout_us, int64_t poll_us, char *why, size_t why_len);

/* DELETE path (Foreground propagation); a 404 counts as done. */
bool k8s_delete_foreground(struct k8s_client *c, const char *path, const struct k8s_ref *ref);

/* A custom resource type of an operator: where its objects live in the API. */
struct k8s_crd {
	const char *kind;   /* for messages: "postgrescluster.postgres-operator.crunchydata.com" */
	const char *api;    /* API group version path: "/apis/acid.zalan.do/v1" */
	const char *plural; /* resource name in paths: "postgresqls" */
};

/*
 * A new object of the CRD's apiVersion and kind, named spec's cluster name in ns, labelled
 * as bise's; *spec is its (empty) spec to fill.
 */
json_object *k8s_crd_object(const char *api_version, const char *kind, const struct cluster_spec *cs,
			    const char *ns, json_object **spec);

/* POST obj (named by its metadata.name) to ns's collection of crd. */
bool k8s_crd_create(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, json_object *obj);

/* GET the object; *o NULL and true (no log) when it does not exist; false on an error (logged). */
bool k8s_crd_get(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name,
		 json_object **o);

/* *exists: whether the object is there; false on an error (logged). */
bool k8s_crd_exists(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name,
		    bool *exists);

/* DELETE the object (Foreground propagation); a 404 counts as done. */
bool k8s_crd_delete(const struct k8s_crd *crd, struct k8s_client *c, const char *ns, const char *name);

/*
 * The end of a readiness look: the operator's members (members_fn) are one ready primary
 * and want-1 ready replicas; *failed and why set when listing them fails.
 */
bool k8s_members_ready(int (*members_fn)(struct k8s_client *, const char *, const char *,
					 struct cnpg_member *, int),
		       struct k8s_client *c, const char *ns, const char *name, int want, char *why,
		       size_t why_len, bool *failed);

#endif
