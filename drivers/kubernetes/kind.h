/*
 * kind.h - the kind backend: the kubernetes backend on a kind cluster that bise creates
 * (or adopts) from kind-config/kind-3zones.yaml, with the operator installed from its
 * release manifest, and zone-outage as `docker stop` of the zone's node containers.
 * Options (its ops table): --kind-config, --operator-version, --operator-manifest (or
 * BISE_KIND_CONFIG, BISE_OPERATOR_VERSION, BISE_OPERATOR_MANIFEST) and the kubernetes
 * options that apply (--namespace, --dry-run, --operator, --pg-access, --pg-host, --image);
 * --kubeconfig and --context do not (the kind cluster's own are used).
 */
#ifndef BISE_K8S_KIND_H
#define BISE_K8S_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "driver.h"

#define KIND_DEFAULT_NAMESPACE "bise"

/* "bise-<cluster>": the kind cluster of a bise cluster. */
void kind_cluster_name(const char *cluster, char *buf, size_t len);

/*
 * The kind config: config (the option or BISE_KIND_CONFIG) when set, else kind-config/kind-3zones.yaml next to
 * the binary's source tree (../kind-config from a build directory), the working directory,
 * the source tree it was built from
 * or /usr/share/bise. False when none exists.
 */
bool kind_config_path(const char *config, char *buf, size_t len);

#endif
