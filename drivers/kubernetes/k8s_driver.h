/*
 * k8s_driver.h - settings of the kubernetes backend that the command line supplies
 * (--kubeconfig, --context, --namespace, --dry-run, the PostgreSQL image). What they leave
 * unset comes from the environment: KUBECONFIG, BISE_K8S_CONTEXT, BISE_K8S_NAMESPACE,
 * BISE_K8S_DRY_RUN=1, BISE_K8S_IMAGE, BISE_K8S_OPERATOR, BISE_K8S_PG_ACCESS/_HOST.
 */
#ifndef BISE_K8S_DRIVER_H
#define BISE_K8S_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "driver.h"

struct k8s_options {
	const char *kubeconfig; /* ':'-separated files; NULL: KUBECONFIG, ~/.kube/config */
	const char *context;    /* NULL: current-context */
	const char *ns;         /* named on the command line: bise may act on it; NULL: the context's */
	bool dry_run;           /* record the API calls, send nothing */
	const char *image;      /* PostgreSQL operand image; NULL: the operator's default */
	int64_t poll_us;        /* status polling interval (0: 2 s) */
	const char *operator_name; /* cnpg (NULL), cozystack, zalando, crunchy; env BISE_K8S_OPERATOR */
	const char *pg_access;  /* nodeport, HOST:PORT, none; NULL: env BISE_K8S_PG_ACCESS, else
				   nodeport on a kind-* context, none elsewhere (see access.h) */
	const char *pg_host;    /* where nodePorts answer; NULL: env BISE_K8S_PG_HOST, 127.0.0.1 */
};

/* Options for drivers opened from now on (copied); those left unset come from the environment. */
void k8s_driver_configure(const struct k8s_options *o);

/* In dry-run, print the calls the driver recorded ("METHOD PATH" and the body). */
void k8s_driver_print_calls(struct driver *d, FILE *f);

/* ---- for backends built on this one (kind.c) ---- */

/* In dry-run, print the calls recorded so far and forget them (a plan printed step by step). */
void k8s_driver_flush_calls(struct driver *d, FILE *f);

/* Whether the options (or BISE_K8S_DRY_RUN) ask for a dry run. */
bool k8s_driver_dry_run(void);

/*
 * Open like driver_kubernetes.open, but on the kubeconfig file kubeconfig and its current
 * context (a cluster bise provisioned), whatever --kubeconfig and --context say; in
 * default_ns unless --namespace names one.
 */
struct driver *k8s_driver_open_kubeconfig(const struct cluster_spec *spec, const char *state_root,
					  const char *kubeconfig, const char *default_ns);

/* Copy an option's value (NULL: "") into buf: the options outlive the caller's strings. */
void k8s_option_copy(char *buf, size_t len, const char *value);

/* Copy the environment variable name into buf when it is set; buf is kept otherwise. */
void k8s_option_env(char *buf, size_t len, const char *name);

/* The operator: op when set, else BISE_K8S_OPERATOR when set, else cnpg. */
const char *k8s_operator_name(const char *op);

struct k8s_client;

/* The driver's API client (to install an operator, list nodes). */
struct k8s_client *k8s_driver_client(struct driver *d);

#endif
