/*
 * k8s_driver.h - what backends built on the kubernetes backend (kind.c) use of it. Its
 * settings are its options (k8s_driver_options, see driver.h): --kubeconfig, --context,
 * --namespace, --dry-run, --operator, --pg-access, --pg-host, --image, --poll-us, each
 * with its environment variable (KUBECONFIG, BISE_K8S_CONTEXT, BISE_K8S_NAMESPACE,
 * BISE_K8S_DRY_RUN=1, BISE_K8S_OPERATOR, BISE_K8S_PG_ACCESS/_HOST, BISE_K8S_IMAGE).
 */
#ifndef BISE_K8S_DRIVER_H
#define BISE_K8S_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "driver.h"

/* The kubernetes backend's options table. */
extern const struct driver_option k8s_driver_options[];

/*
 * Open like driver_kubernetes.open with the options of o that the kubernetes backend
 * declares (o may be another backend's), but on the kubeconfig file kubeconfig and its
 * current context (a cluster bise provisioned), whatever --kubeconfig and --context say;
 * in default_ns unless --namespace names one.
 */
struct driver *k8s_driver_open_kubeconfig(const struct cluster_spec *spec, const char *state_root,
					  const struct driver_options *o, const char *kubeconfig,
					  const char *default_ns);

/* The operator o names (its "operator" option, or BISE_K8S_OPERATOR), else cnpg. */
const char *k8s_operator_name(const struct driver_options *o);

struct k8s_client;

/* The driver's API client (to install an operator, list nodes). */
struct k8s_client *k8s_driver_client(struct driver *d);

#endif
