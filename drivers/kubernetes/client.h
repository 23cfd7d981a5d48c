/*
 * client.h - a small Kubernetes API client (libcurl + json-c): get, paginated list,
 * create, patch, delete, watch; retries with exponential backoff on 429 (honouring
 * Retry-After) and 5xx; errors that name the object and carry the API's Status message;
 * a dry-run mode that records every call instead of sending it. One client per thread.
 */
#ifndef BISE_K8S_CLIENT_H
#define BISE_K8S_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "kubeconfig.h"

/* Which object a call is about, for error messages: "pod tenant-root/pg-1". */
struct k8s_ref {
	const char *kind;
	const char *ns;   /* NULL for cluster-scoped objects */
	const char *name; /* NULL for collections */
};

/* flags of a call */
#define K8S_QUIET_404 (1u << 0) /* a 404 returns false without logging (existence checks) */
#define K8S_QUIET_409 (1u << 1) /* a 409 returns false without logging (already exists) */

/* K8S_PATCH_APPLY: server-side apply (apply-patch+yaml; JSON is valid YAML). */
enum k8s_patch_type { K8S_PATCH_MERGE, K8S_PATCH_STRATEGIC, K8S_PATCH_JSON, K8S_PATCH_APPLY };

/* One call as dry-run records it. */
struct k8s_call {
	char method[8];
	char *path;
	char *body; /* NULL when there is none */
};

struct k8s_client {
	struct kubeconfig kc;
	void *curl;
	bool dry_run;
	struct k8s_call *calls; /* dry-run: every call, in order */
	int ncalls;
	int64_t timeout_us;      /* one request (not a watch), default 30 s */
	int64_t connect_timeout_us;
	int max_retries;         /* after the first attempt, default 5 */
	int64_t backoff_us;      /* first backoff, doubled each retry, default 200 ms */
	int64_t backoff_max_us;  /* default 10 s */
	long status;             /* HTTP status of the last call, 0 for a transport error */
	char error[1024];        /* the last call's error, as logged */
	int requests;            /* requests actually sent (for tests) */
	int retries;             /* retries done (for tests) */
};

/*
 * Load the kubeconfig (see kubeconfig_load) and prepare a client; logs its own error.
 * dry_run: nothing is sent, every call is recorded; reads answer 404.
 */
bool k8s_client_init(struct k8s_client *c, const char *kubeconfig_paths, const char *context,
		     bool dry_run);

void k8s_client_free(struct k8s_client *c);

/* GET one object. */
bool k8s_get(struct k8s_client *c, const char *path, const struct k8s_ref *ref, unsigned flags,
	     json_object **out);

/*
 * LIST a collection (path may carry a query, e.g. "?labelSelector=..."), limit items per
 * page (0: no limit), following metadata.continue. A 410 Expired continue token restarts
 * the list from the beginning. *items receives the array of all items; rv (may be NULL)
 * the list's resourceVersion, to start a watch from.
 */
bool k8s_list(struct k8s_client *c, const char *path, const struct k8s_ref *ref, int limit,
	      json_object **items, char *rv, size_t rv_len);

/* POST obj to the collection path. */
bool k8s_create(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		json_object *obj, unsigned flags, json_object **out);

/* PATCH with merge-patch+json, strategic-merge-patch+json or json-patch+json. */
bool k8s_patch(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
	       enum k8s_patch_type type, json_object *patch, json_object **out);

/*
 * DELETE with DeleteOptions (may be NULL). The answer is the object (pods: with
 * deletionTimestamp) or a Status of Success; either lands in *out (may be NULL).
 */
bool k8s_delete(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		json_object *options, unsigned flags, json_object **out);

/*
 * A watch event to the callback: type is ADDED, MODIFIED, DELETED or BOOKMARK. After a
 * 410 Gone the collection is listed again and every item is delivered as ADDED, so a
 * callback must take an object it saw before. Return false to stop watching.
 */
typedef bool (*k8s_watch_fn)(const char *type, json_object *object, void *arg);

/*
 * Watch the collection path from resource_version (NULL or "": list first to get one)
 * with bookmarks, until fn returns false or timeout_us passes. A broken stream resumes
 * from the last resourceVersion seen; a 410 (HTTP or ERROR event) re-lists, then watches.
 * True when fn stopped it or the time ran out, false on an error that cannot be resumed.
 */
bool k8s_watch(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
	       const char *resource_version, int64_t timeout_us, k8s_watch_fn fn, void *arg);

/* Print the calls dry-run recorded: "METHOD PATH" then the body, if any, on one line. */
void k8s_client_print_calls(const struct k8s_client *c, FILE *f);

/* URL-escape a query value (label selectors, continue tokens); caller frees. */
char *k8s_escape(const char *s);

#endif
