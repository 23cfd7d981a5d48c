/*
 * manifest.h - installing an operator from its release manifest, as `kubectl apply
 * --server-side -f` does: fetch (a local file, or an https URL verified by libcurl), split
 * into YAML documents, map each kind to its resource by API discovery, server-side apply
 * each object (fieldManager bise), CRDs first; then wait for the CRDs to be Established and
 * the Deployments Available.
 */
#ifndef BISE_K8S_MANIFEST_H
#define BISE_K8S_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client.h"

#define MANIFEST_FIELD_MANAGER "bise"

/*
 * The release manifest URL of operator op at version ("1.30.0"). Only CloudNativePG
 * publishes one file per release (release-X.Y/releases/cnpg-X.Y.Z.yaml); for the others
 * why says to pass --operator-manifest. False with why set on a bad version or operator.
 */
bool manifest_release_url(const char *op, const char *version, char *url, size_t len, char *why,
			  size_t why_len);

/*
 * The text of src: an https:// URL (TLS verified, redirects to https only) or a file path.
 * http:// is refused. Caller frees; NULL on error (logged). *len gets the length.
 */
char *manifest_fetch(const char *src, size_t *len);

/*
 * Split a multi-document YAML text into an array of objects (empty documents skipped;
 * a List's items are spread). NULL on a syntax error or a document without apiVersion,
 * kind and metadata.name (logged, naming what and the document's number).
 */
json_object *manifest_split(const char *text, size_t len, const char *what);

/*
 * Server-side apply every object of docs: CustomResourceDefinitions first (then wait
 * until they are Established), Namespaces, then the rest in file order; then wait until
 * every Deployment is Available. Each kind is mapped to its plural and scope by discovery
 * (GET /api/v1, /apis/<group>/<version>, once per group version). In a dry run, discovery
 * answers nothing: plurals are guessed from the kind and nothing is waited for.
 * default_ns: for namespaced objects without metadata.namespace. False on the first
 * failure (logged, naming the object).
 */
bool manifest_apply(struct k8s_client *c, json_object *docs, const char *default_ns,
		    int64_t timeout_us, int64_t poll_us);

/* fetch + split + apply; src is a file or URL. */
bool manifest_install(struct k8s_client *c, const char *src, const char *default_ns,
		      int64_t timeout_us, int64_t poll_us);

#endif
