/*
 * k8s_driver.h - settings of the kubernetes backend that the command line supplies
 * (--kubeconfig, --context, --namespace, --dry-run, the PostgreSQL image). Without a call
 * to k8s_driver_configure the environment is read: KUBECONFIG, BISE_K8S_CONTEXT,
 * BISE_K8S_NAMESPACE, BISE_K8S_DRY_RUN=1, BISE_K8S_IMAGE.
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
};

/* Set the options for drivers opened from now on (strings are copied). */
void k8s_driver_configure(const struct k8s_options *o);

/* In dry-run, print the calls the driver recorded ("METHOD PATH" and the body). */
void k8s_driver_print_calls(struct driver *d, FILE *f);

#endif
