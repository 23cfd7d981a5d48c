/*
 * kind.h - the kind backend: the kubernetes backend on a kind cluster that bise creates
 * (or adopts) from kind-config/kind-3zones.yaml, with the operator installed from its
 * release manifest, and zone-outage as `docker stop` of the zone's node containers.
 * Settings: kind_driver_configure, else BISE_KIND_CONFIG, BISE_OPERATOR_VERSION,
 * BISE_OPERATOR_MANIFEST. The kubernetes options (--namespace, --dry-run, --operator)
 * apply too; --kubeconfig and --context do not (the kind cluster's own are used).
 */
#ifndef BISE_K8S_KIND_H
#define BISE_K8S_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "driver.h"

#define KIND_DEFAULT_NAMESPACE "bise"

struct kind_options {
	const char *config;            /* kind cluster config; NULL: found next to the sources */
	const char *operator_version;  /* "1.30.0": the operator's release manifest by version */
	const char *operator_manifest; /* or a manifest file or https URL */
	const char *operator_name;     /* --operator (cnpg when NULL): whose release by version */
};

/* Set the options for drivers opened from now on (strings are copied). */
void kind_driver_configure(const struct kind_options *o);

/* "bise-<cluster>": the kind cluster of a bise cluster. */
void kind_cluster_name(const char *cluster, char *buf, size_t len);

/*
 * The kind config: the option, BISE_KIND_CONFIG, or kind-config/kind-3zones.yaml next to
 * the binary's source tree (../kind-config from a build directory), the working directory,
 * the source tree it was built from
 * or /usr/share/bise. False when none exists.
 */
bool kind_config_path(char *buf, size_t len);

/* In dry-run, print the commands and API calls recorded and not yet printed, in order. */
void kind_driver_flush_calls(struct driver *d, FILE *f);

#endif
