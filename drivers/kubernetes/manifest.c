/* manifest.c - operator release manifests, server-side applied. See manifest.h. */
#include "manifest.h"

#include "operators.h"
#include "util.h"
#include "yamljson.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_MAX (64u << 20) /* CloudNativePG's manifest is about 1 MB: room for CRD growth */
#define FETCH_TIMEOUT_S 120L
#define MAX_GROUP_VERSIONS 64
#define CRD_KIND "CustomResourceDefinition"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* X.Y.Z with digits only: the version goes into a URL. */
static bool version_ok(const char *v, int *dot2)
{
	int dots = 0;

	if (!isdigit((unsigned char)v[0]))
		return false;
	for (int i = 0; v[i]; i++) {
		if (v[i] == '.') {
			if (!isdigit((unsigned char)v[i + 1]))
				return false;
			if (++dots == 2)
				*dot2 = i;
		} else if (!isdigit((unsigned char)v[i])) {
			return false;
		}
	}
	return dots == 2;
}

bool manifest_release_url(const char *op, const char *version, char *url, size_t len, char *why,
			  size_t why_len)
{
	int dot2 = 0;

	if (strcmp(op, "cnpg") != 0) {
		/*
		 * Zalando ships manifests/ as several files applied in order and Crunchy a
		 * kustomize tree (postgres-operator-examples): no single file per release.
		 */
		str_format(why, why_len, "operator %s publishes no single release manifest by version "
			   "(hint: pass --operator-manifest FILE|URL; only cnpg installs by "
			   "--operator-version)", op);
		return false;
	}
	if (!version_ok(version, &dot2)) {
		str_format(why, why_len, "operator version \"%s\" is not X.Y.Z (hint: "
			   "--operator-version 1.30.0)", version);
		return false;
	}
	return str_format(url, len, "https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/"
			  "release-%.*s/releases/cnpg-%s.yaml", dot2, version, version);
}

struct fetch_buf {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_buf *b = arg;
	size_t add = size * n;

	if (b->len + add + 1 > FETCH_MAX) {
		b->too_big = true;
		return 0;
	}
	b->data = xrealloc(b->data, b->len + add + 1);
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

static char *fetch_url(const char *url, size_t *len)
{
	struct fetch_buf b = { NULL, 0, false };
	char err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *h;

	pthread_once(&curl_once, curl_init_once);
	if (!(h = curl_easy_init())) {
		log_error("cannot initialise libcurl");
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* https only, redirects too; peer and host verified against the system CAs. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bise/" BISE_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK || status != 200) {
		if (b.too_big)
			log_error("operator manifest %s: larger than %u MiB", url, FETCH_MAX >> 20);
		else if (rc != CURLE_OK)
			log_error("cannot fetch the operator manifest %s: %s", url,
				  err[0] ? err : curl_easy_strerror(rc));
		else
			log_error("cannot fetch the operator manifest %s: HTTP %ld%s", url, status,
				  status == 404 ? " (hint: is that version released?)" : "");
		free(b.data);
		return NULL;
	}
	if (!b.data)
		b.data = xstrdup("");
	*len = b.len;
	return b.data;
}

char *manifest_fetch(const char *src, size_t *len)
{
	char *text;

	if (strncmp(src, "https://", 8) == 0)
		return fetch_url(src, len);
	if (strstr(src, "://")) {
		log_error("operator manifest %s: only https:// URLs or local files (the manifest "
			  "gets cluster-wide rights, it must come over a verified channel)", src);
		return NULL;
	}
	if (!(text = file_read_all(src, len)))
		log_error("cannot read the operator manifest %s: %s", src, strerror(errno));
	return text;
}

/* A document marker line: "---" or "..." alone or followed by blanks (or "--- " content). */
static bool marker_line(const char *p, const char *end)
{
	if (end - p < 3 || (strncmp(p, "---", 3) != 0 && strncmp(p, "...", 3) != 0))
		return false;
	return p + 3 == end || p[3] == '\n' || p[3] == '\r' || p[3] == ' ' || p[3] == '\t';
}

/* Whether a document holds more than blanks and comments. */
static bool has_content(const char *p, size_t n)
{
	bool line_start = true;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line_start = true;
		} else if (line_start && !isspace((unsigned char)p[i])) {
			if (p[i] != '#')
				return true;
			line_start = false; /* a comment: skip to the end of the line */
		}
	}
	return false;
}

static bool add_object(json_object *docs, json_object *o, const char *what, int doc, int line)
{
	const char *api = k8s_jstr(o, "apiVersion"), *kind = k8s_jstr(o, "kind");
	json_object *items;

	if (kind && strlen(kind) >= 4 && strcmp(kind + strlen(kind) - 4, "List") == 0 &&
	    (items = k8s_jget(o, "items")) && json_object_is_type(items, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(items); i++)
			if (!add_object(docs, json_object_get(json_object_array_get_idx(items, i)), what,
					doc, line)) {
				json_object_put(o);
				return false;
			}
		json_object_put(o);
		return true;
	}
	if (!json_object_is_type(o, json_type_object) || !api || !kind || !k8s_jstr(o, "metadata.name")) {
		log_error("%s:%d: document %d is not a Kubernetes object (apiVersion, kind and "
			  "metadata.name needed)", what, line, doc);
		json_object_put(o);
		return false;
	}
	json_object_array_add(docs, o);
	return true;
}

json_object *manifest_split(const char *text, size_t len, const char *what)
{
	json_object *docs = json_object_new_array();
	const char *p = text, *end = text + len, *start = text;
	int doc = 0, line = 1, start_line = 1;

	/* Split on marker lines: a "---" at column 0 always starts a document in YAML. */
	for (;;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		bool boundary = p == end || marker_line(p, eol ? eol : end);

		if (boundary && p > start && has_content(start, (size_t)(p - start))) {
			json_object *o = yaml_to_json(start, (size_t)(p - start), what);

			doc++;
			if (!o || !add_object(docs, o, what, doc, start_line)) {
				json_object_put(docs);
				return NULL;
			}
		}
		if (p == end)
			break;
		if (boundary) {
			/* "--- " may carry content on its own line: keep what follows the marker. */
			start = p + 3;
			start_line = line;
		}
		p = next;
		line++;
	}
	return docs;
}

/* Discovery answers, one per group version. */
struct discovery {
	int n;
	char gv[MAX_GROUP_VERSIONS][128];
	json_object *lists[MAX_GROUP_VERSIONS]; /* NULL: not served (404) */
};

/* The prefix of a group version's paths: /api/v1 for the core group, else /apis/<gv>. */
static void gv_prefix(const char *gv, char *buf, size_t len)
{
	if (strchr(gv, '/'))
		str_format(buf, len, "/apis/%s", gv);
	else
		str_format(buf, len, "/api/%s", gv);
}

/* The APIResourceList of gv; NULL when not served (*failed false) or on an error (true). */
static json_object *discover(struct k8s_client *c, struct discovery *dc, const char *gv, bool *failed)
{
	struct k8s_ref ref = { "API group version", NULL, gv };
	char path[256];
	json_object *list = NULL;

	*failed = false;
	for (int i = 0; i < dc->n; i++)
		if (strcmp(dc->gv[i], gv) == 0)
			return dc->lists[i];
	gv_prefix(gv, path, sizeof(path));
	if (!k8s_get(c, path, &ref, K8S_QUIET_404, &list) && c->status != 404) {
		*failed = true;
		return NULL;
	}
	/* The cache owns every answer: one it had no room for would leak at each object. */
	if (dc->n == MAX_GROUP_VERSIONS) {
		log_error("the manifest uses more than %d API group versions", MAX_GROUP_VERSIONS);
		json_object_put(list);
		*failed = true;
		return NULL;
	}
	str_copy(dc->gv[dc->n], sizeof(dc->gv[dc->n]), gv);
	dc->lists[dc->n++] = list;
	return list;
}

/* Lower-case plural as the API names most kinds; only a dry run, which has no discovery, guesses. */
static void guess_plural(const char *kind, char *buf, size_t len)
{
	size_t n = strlen(kind), i;

	for (i = 0; i < n && i + 4 < len; i++)
		buf[i] = (char)tolower((unsigned char)kind[i]);
	buf[i] = '\0';
	if (i > 0 && buf[i - 1] == 'y' && !strchr("aeiou", buf[i > 1 ? i - 2 : 0]))
		str_copy(buf + i - 1, len - (i - 1), "ies");
	else if (i > 0 && buf[i - 1] == 's')
		str_copy(buf + i, len - i, "es");
	else
		str_copy(buf + i, len - i, "s");
}

/* The REST path of obj (without query); false when its kind is not served (logged). */
static bool object_path(struct k8s_client *c, struct discovery *dc, json_object *obj,
			const char *default_ns, char *path, size_t len, const char **ns_out)
{
	const char *gv = k8s_jstr(obj, "apiVersion"), *kind = k8s_jstr(obj, "kind");
	const char *name = k8s_jstr(obj, "metadata.name"), *ns = k8s_jstr(obj, "metadata.namespace");
	char plural[128] = "", prefix[192];
	bool namespaced = false, found = false, failed;
	json_object *list = discover(c, dc, gv, &failed), *res;

	if (failed)
		return false;
	if (c->dry_run) {
		/* Nothing answers a dry run: cluster-scoped unless the object names a namespace. */
		guess_plural(kind, plural, sizeof(plural));
		namespaced = ns != NULL;
		found = true;
	} else if (!list) {
		log_error("%s %s: the API server does not serve %s (hint: is the CRD of that group "
			  "installed, or is the manifest for a newer Kubernetes?)", kind, name, gv);
		return false;
	} else if ((res = k8s_jget(list, "resources")) && json_object_is_type(res, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(res) && !found; i++) {
			json_object *r = json_object_array_get_idx(res, i), *nsd;
			const char *rname = k8s_jstr(r, "name"), *rkind = k8s_jstr(r, "kind");

			/* Subresources ("deployments/status") share the kind: skip them. */
			if (!rname || !rkind || strchr(rname, '/') || strcmp(rkind, kind) != 0)
				continue;
			str_copy(plural, sizeof(plural), rname);
			namespaced = json_object_object_get_ex(r, "namespaced", &nsd) &&
				     json_object_get_boolean(nsd);
			found = true;
		}
	}
	if (!found) {
		log_error("%s %s: unknown kind: the API server's discovery of %s lists no kind %s",
			  kind, name, gv, kind);
		return false;
	}
	gv_prefix(gv, prefix, sizeof(prefix));
	if (namespaced && !ns)
		ns = default_ns;
	*ns_out = namespaced ? ns : NULL;
	if (namespaced)
		return str_format(path, len, "%s/namespaces/%s/%s/%s", prefix, ns, plural, name);
	return str_format(path, len, "%s/%s/%s", prefix, plural, name);
}

static bool apply_one(struct k8s_client *c, struct discovery *dc, json_object *obj, const char *default_ns)
{
	char path[1024];
	const char *ns = NULL;
	struct k8s_ref ref = { k8s_jstr(obj, "kind"), NULL, k8s_jstr(obj, "metadata.name") };

	if (!object_path(c, dc, obj, default_ns, path, sizeof(path), &ns))
		return false;
	ref.ns = ns;
	/* force: bise owns the operator's objects it installs, as kubectl apply --force-conflicts. */
	if (!str_format(path + strlen(path), sizeof(path) - strlen(path),
			"?fieldManager=" MANIFEST_FIELD_MANAGER "&force=true")) {
		log_error("%s %s: path too long", ref.kind, ref.name);
		return false;
	}
	return k8s_patch(c, path, &ref, K8S_PATCH_APPLY, obj, NULL);
}

/* The status of condition type in obj's status.conditions; NULL if absent. */
static const char *condition(json_object *obj, const char *type, const char **message)
{
	json_object *conds = k8s_jget(obj, "status.conditions");

	*message = NULL;
	if (!conds || !json_object_is_type(conds, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *cd = json_object_array_get_idx(conds, i);
		const char *t = k8s_jstr(cd, "type");

		if (t && strcmp(t, type) == 0) {
			*message = k8s_jstr(cd, "message");
			return k8s_jstr(cd, "status");
		}
	}
	return NULL;
}

/* Poll every object of kind in docs until its condition type is True, or the deadline. */
static bool wait_condition(struct k8s_client *c, struct discovery *dc, json_object *docs,
			   const char *kind, const char *type, const char *default_ns,
			   int64_t deadline, int64_t poll_us)
{
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		json_object *obj = json_object_array_get_idx(docs, i), *cur = NULL;
		struct k8s_ref ref = { kind, NULL, k8s_jstr(obj, "metadata.name") };
		const char *status = NULL, *message = NULL;
		char path[1024];

		if (strcmp(k8s_jstr(obj, "kind"), kind) != 0)
			continue;
		if (!object_path(c, dc, obj, default_ns, path, sizeof(path), &ref.ns))
			return false;
		for (;;) {
			if (!k8s_get(c, path, &ref, 0, &cur))
				return false;
			status = condition(cur, type, &message);
			if (status && strcmp(status, "True") == 0)
				break;
			if (mono_now_us() + poll_us > deadline) {
				log_error("%s %s%s%s not %s in time: %s", kind, ref.ns ? ref.ns : "",
					  ref.ns ? "/" : "", ref.name, type,
					  message ? message : status ? status : "no such condition yet");
				json_object_put(cur);
				return false;
			}
			json_object_put(cur);
			cur = NULL;
			sleep_us(poll_us);
		}
		json_object_put(cur);
		log_info("%s %s is %s", kind, ref.name, type);
	}
	return true;
}

/* Apply the objects of docs whose kind is (want) or is not (!want) kind. */
static bool apply_kind(struct k8s_client *c, struct discovery *dc, json_object *docs, const char *kind,
		       bool want, const char *default_ns)
{
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		json_object *obj = json_object_array_get_idx(docs, i);
		const char *k = k8s_jstr(obj, "kind");

		if ((strcmp(k, kind) == 0) != want)
			continue;
		/* Namespaces were applied before the other non-CRD objects. */
		if (!want && strcmp(kind, CRD_KIND) == 0 && strcmp(k, "Namespace") == 0)
			continue;
		if (!apply_one(c, dc, obj, default_ns))
			return false;
	}
	return true;
}

bool manifest_apply(struct k8s_client *c, json_object *docs, const char *default_ns,
		    int64_t timeout_us, int64_t poll_us)
{
	struct discovery *dc = xcalloc(1, sizeof(*dc));
	int64_t deadline = mono_now_us() + timeout_us;
	bool ok;

	/* CRDs before what may use them, Namespaces before what lives in them. */
	ok = apply_kind(c, dc, docs, CRD_KIND, true, default_ns) &&
	     (c->dry_run || wait_condition(c, dc, docs, CRD_KIND, "Established", default_ns, deadline,
					   poll_us)) &&
	     apply_kind(c, dc, docs, "Namespace", true, default_ns) &&
	     apply_kind(c, dc, docs, CRD_KIND, false, default_ns) &&
	     (c->dry_run || wait_condition(c, dc, docs, "Deployment", "Available", default_ns, deadline,
					   poll_us));
	for (int i = 0; i < dc->n; i++)
		json_object_put(dc->lists[i]);
	free(dc);
	return ok;
}

bool manifest_install(struct k8s_client *c, const char *src, const char *default_ns,
		      int64_t timeout_us, int64_t poll_us)
{
	size_t len;
	char *text = manifest_fetch(src, &len);
	json_object *docs;
	bool ok;

	if (!text)
		return false;
	docs = manifest_split(text, len, src);
	free(text);
	if (!docs)
		return false;
	log_info("operator manifest %s: %zu objects", src, json_object_array_length(docs));
	ok = manifest_apply(c, docs, default_ns, timeout_us, poll_us);
	json_object_put(docs);
	return ok;
}
