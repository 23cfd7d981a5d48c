/*
 * kubeconfig.h - find the API server and credentials the way kubectl does: the files in
 * KUBECONFIG (':'-separated, merged: the first file to set a map entry or current-context
 * wins), else ~/.kube/config; a context by name or current-context; the namespace from
 * the context ("default" when unset); auth by client certificate, bearer token, token file
 * or an exec credential plugin (client.authentication.k8s.io/v1). Secret material (tokens,
 * keys) is never written to a log or an error message.
 */
#ifndef BISE_K8S_KUBECONFIG_H
#define BISE_K8S_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define K8S_NAME_LEN 254 /* a DNS subdomain and a NUL */

struct k8s_exec {
	char *command;
	char **args;   /* NULL-terminated */
	char **env;    /* "NAME=value", NULL-terminated */
	char *api_version;
	bool provide_cluster_info;
};

/* A PEM blob held in memory (decoded from *-data) or the name of a file holding it. */
struct k8s_pem {
	char *data;
	size_t len;
	char *file;
};

struct kubeconfig {
	char context[K8S_NAME_LEN];
	char cluster[K8S_NAME_LEN];
	char user[K8S_NAME_LEN];
	char server[512];
	char server_shown[512]; /* server without user:password@, for messages */
	char namespace[64];
	bool namespace_set;           /* the context names a namespace */
	char tls_server_name[256];
	bool insecure;                /* insecure-skip-tls-verify: true in the kubeconfig */
	struct k8s_pem ca;
	struct k8s_pem cert;
	struct k8s_pem key;
	char *token;
	char *token_file;
	bool has_exec;
	struct k8s_exec exec;
	/* credentials from the exec plugin, cached until exec_expiry (0: no expiry) */
	bool exec_cached;
	char *exec_token;
	struct k8s_pem exec_cert;
	struct k8s_pem exec_key;
	time_t exec_expiry;
	int exec_runs; /* how often the plugin ran (for tests and debugging) */
};

/* What a request authenticates with right now; points into the kubeconfig. */
struct k8s_auth {
	const char *token;           /* bearer token, or NULL */
	const struct k8s_pem *cert;  /* client certificate, or NULL */
	const struct k8s_pem *key;
};

/*
 * Load like kubectl: paths is a ':'-separated list of files (NULL: $KUBECONFIG, else
 * ~/.kube/config), context NULL or "" for current-context. Relative file references are
 * resolved against the directory of the file that holds them. Logs its own error.
 */
bool kubeconfig_load(const char *paths, const char *context, struct kubeconfig *kc);

void kubeconfig_free(struct kubeconfig *kc);

/*
 * The credentials to send now: re-reads a token file, runs the exec plugin when nothing
 * cached is still valid. Logs its own error (never the secret).
 */
bool kubeconfig_auth(struct kubeconfig *kc, struct k8s_auth *out);

/* url without the user:password@ of its authority, for messages and logs. */
void kubeconfig_redact_url(const char *url, char *out, size_t len);

/* Forget cached exec credentials (after a 401: the server no longer takes them). */
void kubeconfig_auth_invalidate(struct kubeconfig *kc);

/* Parse an RFC 3339 time ("2026-01-22T10:30:07.986099Z", offsets too); false if malformed. */
bool k8s_time_parse(const char *s, time_t *out, double *frac);

/* Decode base64 (standard alphabet, padding optional, whitespace skipped); NULL if invalid. */
char *k8s_base64_decode(const char *in, size_t *out_len);

#endif
