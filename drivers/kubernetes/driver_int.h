/*
 * driver_int.h - the kubernetes backend's state, shared by driver.c (lifecycle, members,
 * pod-kill) and driver_faults.c (network, zone and disk faults, tick, sweep). Private to
 * drivers/kubernetes/.
 */
#ifndef BISE_K8S_DRIVER_INT_H
#define BISE_K8S_DRIVER_INT_H

#include "access.h"
#include "client.h"
#include "driver.h"
#include "netpolicy.h"
#include "operators.h"

#define K8S_MAX_POLICIED 32

struct driver {
	struct cluster_spec spec;
	struct k8s_client c;
	/* What c was opened on ("": the defaults), for clients of other threads (observe.c). */
	char kubeconfig[2048];
	char context[K8S_NAME_LEN];
	char ns[64];
	bool ns_explicit;
	char image[256];
	int64_t poll_us;
	const struct k8s_operator *op;
	struct netpolicy_active active; /* network faults in force: tick relabels recreated pods */
	struct k8s_access access;       /* how the workload reaches PostgreSQL (access.h) */
	struct pg_endpoint creds;       /* user, password, dbname from the operator's Secret */
	/* Zones a bise NetworkPolicy selects now, by fault: policies add up, so one per zone. */
	int npolicied;
	struct {
		char id[64];
		char zone[ZONE_NAME_LEN];
	} policied[K8S_MAX_POLICIED];
	int64_t accepted_us; /* when the platform last accepted a fault op (the effect op) */
};

/* Whether bise may act on d's namespace (labelled, created by bise, or named); logs why not. */
bool k8s_ns_allowed(struct driver *d, const char *action);

/* The fault ops of driver_kubernetes (see driver.h for each). */
bool k8s_net_apply(struct driver *d, const struct net_fault *f);
bool k8s_net_revert(struct driver *d, const char *id);
bool k8s_zone_stop(struct driver *d, const char *zone);
bool k8s_zone_start(struct driver *d, const char *zone);
bool k8s_tick(struct driver *d);
bool k8s_io_fault(struct driver *d, const char *member, const struct io_fault *f);
bool k8s_io_heal(struct driver *d, const char *member);
bool k8s_can(struct driver *d, const struct fault_request *req, char *why, size_t why_len);
bool k8s_sweep(struct driver *d);

/* The observe op of driver_kubernetes (driver.h; observe.c). */
bool k8s_observe(struct driver *d, struct event_log *log, atomic_bool *stop);

#endif
