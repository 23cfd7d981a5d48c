/*
 * access.h - how the workload reaches PostgreSQL on Kubernetes from where bise runs, the
 * way an application does: through the operator's read-write service.
 *
 * nodeport (kind): bise creates Services of type NodePort, bise-<cluster>-rw on nodePort
 * 30432 selecting the operator's primary pod (op->primary_selector), and one
 * bise-<cluster>-<zone> per zone on 30433 + the zone's index selecting the cluster's pod
 * labelled bise.io/zone=<zone> (netpolicy.c's labels), so the watcher reaches each member.
 * kind-config/kind-3zones.yaml maps these ports to 127.0.0.1. Every Service carries
 * app.kubernetes.io/managed-by=bise, bise.io/cluster, bise.io/run and bise.io/access.
 * HOST:PORT (a managed cluster: the operator's LoadBalancer or external access): writers
 * use it; members have no endpoint, so the watcher has nothing to poll.
 * Credentials come from the operator's Secret read through the API; the password is never
 * logged.
 */
#ifndef BISE_K8S_ACCESS_H
#define BISE_K8S_ACCESS_H

#include "operators.h"

#define ACCESS_RW_NODEPORT 30432
#define ACCESS_ZONE_NODEPORT 30433 /* + the zone's index in the cluster spec */
#define ACCESS_LABEL "bise.io/access" /* "rw" or the zone's name */
#define ACCESS_DEFAULT_HOST "127.0.0.1"
#define ACCESS_PG_PORT 5432 /* the instance pods' PostgreSQL port (every operator) */

enum k8s_access_mode {
	K8S_ACCESS_NONE,     /* no way to PostgreSQL from here: no workload */
	K8S_ACCESS_NODEPORT, /* bise's NodePort Services, reached at host */
	K8S_ACCESS_ADDRESS,  /* an address the user gives: the entry only */
};

struct k8s_access {
	enum k8s_access_mode mode;
	char host[64]; /* nodeport: where the nodePorts answer; address: the entry's host */
	int port;      /* address: the entry's port */
};

/*
 * Read an access mode: "nodeport", "none" or "HOST:PORT" ("[V6]:PORT"). spec NULL or "":
 * nodeport when context is a kind cluster's ("kind-*"), none otherwise. nodeport_host
 * NULL or "": 127.0.0.1. False with the reason in why.
 */
bool k8s_access_parse(const char *spec, const char *nodeport_host, const char *context,
		      struct k8s_access *out, char *why, size_t why_len);

/* "bise-<cluster>-<what>" (what: "rw" or a zone); false if longer than a Service name may be. */
bool k8s_access_service_name(const char *cluster, const char *what, char *buf, size_t len);

/*
 * The NodePort Service bise-<cluster>-<what> in ns: selector "k=v,k=v" (equality only),
 * port 5432 to the pods' 5432 on node_port, labelled as bise's.
 */
json_object *k8s_access_service(const char *ns, const char *cluster, const char *what,
				const char *selector, int node_port);

/*
 * Make the nodeport Services exist: label the members' pods with their zone (m, n), then
 * create the rw Service and one per zone of spec; one already there is kept. False
 * (logged) on an error.
 */
bool k8s_access_ensure(struct k8s_client *c, const char *ns, const struct cluster_spec *spec,
		       const struct k8s_operator *op, const struct cnpg_member *m, int n);

/* Delete every Service bise made for cluster in ns (listed by label). Idempotent. */
bool k8s_access_remove(struct k8s_client *c, const char *ns, const char *cluster);

/*
 * user, password and dbname from the first of op->secrets that exists (base64 data keys
 * username or user, password, dbname). False with a message naming the Secrets tried.
 */
bool k8s_access_credentials(struct k8s_client *c, const char *ns, const char *cluster,
			    const struct k8s_operator *op, struct pg_endpoint *ep);

/*
 * A member's endpoint for the mode: nodeport: host and the nodePort of zone's Service;
 * address: no host (not reachable); none: the pod's IP on 5432. creds fills the rest.
 */
void k8s_access_member_endpoint(const struct k8s_access *a, const struct cluster_spec *spec,
				const char *zone, const char *pod_ip, const struct pg_endpoint *creds,
				struct pg_endpoint *out);

/* The entry for the mode with creds (host "" for none). */
void k8s_access_entry(const struct k8s_access *a, const struct pg_endpoint *creds, struct pg_endpoint *out);

#endif
