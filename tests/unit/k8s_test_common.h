/*
 * k8s_test_common.h - what the tests of the Kubernetes backend share around the fake API
 * server: the suite's certificates, a client or a configured driver on a fresh server, a
 * CloudNativePG cluster of three instance pods (pg-1..3 on nodes w1..w3, one per zone),
 * the deletions a revert or sweep sends, and looking up the requests that came in.
 * Linked into the test programs that include k8s_fake_server.c (whose functions it calls).
 */
#ifndef BISE_K8S_TEST_COMMON_H
#define BISE_K8S_TEST_COMMON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s_fake_server.h"
#include "kubernetes/client.h"
#include "kubernetes/cnpg.h"
#include "kubernetes/k8s_driver.h"

/* The suite's certificates (and scratch space under them), made by k8s_test_suite_init. */
extern char k8s_test_certdir[64];

/* CUnit suite set-up: quiet logs and certificates in k8s_test_certdir; 0 when done. */
int k8s_test_suite_init(void);

/* CUnit suite clean-up: remove k8s_test_certdir; 0. */
int k8s_test_suite_clean(void);

/* The default cluster spec named name. */
void k8s_test_spec(struct cluster_spec *spec, const char *name);

/* The members pg-1, pg-2, pg-3 in geneva, lucerne, gland (on node kind-worker). */
void k8s_test_members(struct cnpg_member m[3]);

/* Network fault id: geneva against lucerne and gland, loss_pct of the packets lost. */
struct net_fault k8s_test_partition(const char *id, double loss_pct);

/* Whether the string at JSON pointer ptr of o is want. */
bool k8s_test_str_at(json_object *o, const char *ptr, const char *want);

/* The nth request (from 0) with method and a target starting with path; NULL if none. */
struct fake_request *k8s_test_request(struct fake_server *s, const char *method, const char *path, int nth);

/* Requests sent so far with method (any path). */
int k8s_test_count_method(struct fake_server *s, const char *method);

/* The kubernetes and kind backends' options, as typed values (what the command line would give). */
struct k8s_options {
	const char *kubeconfig;
	const char *context;
	const char *ns;
	bool dry_run;
	const char *image;
	int64_t poll_us;
	const char *operator_name;
	const char *pg_access;
	const char *pg_host;
};

struct kind_options {
	const char *config;
	const char *operator_version;
	const char *operator_manifest;
	const char *operator_name;
};

/* Options from now on: o (NULL: keep the last), ko (NULL: keep the last); copied. */
void k8s_test_options(const struct k8s_options *o, const struct kind_options *ko);

/* The options set last, for ops (kubernetes or kind): each one its table declares. */
const struct driver_options *k8s_test_opts(const struct driver_ops *ops);

/* The backend's can op asked about the capabilities caps alone. */
bool k8s_test_can_caps(const struct driver_ops *ops, struct driver *d, unsigned caps, char *why,
		       size_t why_len);

/* The backend's can op asked about the one network fault f alone. */
bool k8s_test_can_net(const struct driver_ops *ops, struct driver *d, const struct net_fault *f,
		      char *why, size_t why_len);

/* Start s (plain HTTP) and a client c on a token kubeconfig for it; false on any failure. */
bool k8s_test_client(struct fake_server *s, struct k8s_client *c, bool dry_run);

/*
 * Write a token kubeconfig for s and set the options o on it (k8s_test_options; its
 * kubeconfig is set here); false when the kubeconfig could not be written.
 */
bool k8s_test_configure(struct fake_server *s, struct k8s_options *o);

/*
 * The kubernetes backend opened on s for cluster "pg" of operator cnpg in ns (polling every
 * millisecond), pg_access as --pg-access (NULL: none given); *ops is its table. NULL on failure.
 */
struct driver *k8s_test_open_driver(struct fake_server *s, const char *ns, const char *pg_access,
				    const struct driver_ops **ops);

/*
 * The CNPG instance pods pg-1..3 of cluster pg on nodes w1..w3 (zones geneva, lucerne, gland)
 * as a PodList into body: labelled is a bitmask (1 << i) of the pods carrying bise's labels,
 * uid1 pod 1's uid (a recreated pod has a new one).
 */
void k8s_test_pod_list(char *body, size_t len, unsigned labelled, const char *uid1);

/* Routes for those pods in ns, their nodes and label patches; returns the pods list route. */
struct fake_route *k8s_test_add_pods(struct fake_server *s, const char *ns, unsigned labelled);

/* Answer the pods list route r with k8s_test_pod_list(labelled, uid1) from now on. */
void k8s_test_set_pods(struct fake_server *s, struct fake_route *r, unsigned labelled, const char *uid1);

/* Routes for the deletions by label a revert or sweep sends in ns (policies, Chaos Mesh kinds). */
void k8s_test_add_deletes(struct fake_server *s, const char *ns);

/*
 * A test's cluster: s started with the routes of k8s_test_add_pods (labelled; the pods
 * route into *pods unless NULL) and k8s_test_add_deletes, and the backend opened on it as
 * k8s_test_open_driver does. A failure is fatal to the calling test.
 */
struct driver *k8s_test_start_cluster(struct fake_server *s, const char *ns, const char *pg_access,
				      unsigned labelled, struct fake_route **pods, const struct driver_ops **ops);

#endif
