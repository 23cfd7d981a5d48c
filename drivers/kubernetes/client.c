/*
 * client.c - the Kubernetes API over libcurl: one request path with retries and error
 * messages (request), pagination (k8s_list) and streamed watches (k8s_watch). See
 * client.h. Nothing secret is logged: URLs and paths only, never headers or key material.
 */
#include "client.h"

#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TIMEOUT_US (30 * 1000000LL)
#define DEFAULT_CONNECT_TIMEOUT_US (10 * 1000000LL)
#define DEFAULT_RETRIES 5
#define DEFAULT_BACKOFF_US (200 * 1000LL)
#define DEFAULT_BACKOFF_MAX_US (10 * 1000000LL)
#define MAX_LIST_RESTARTS 3
/* A server handing out continue tokens forever must not keep bise listing forever. */
#define MAX_LIST_PAGES 10000
#define MAX_RELISTS 5
#define RESPONSE_MAX (256u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct buffer {
	char *data;
	size_t len, cap;
};

static bool buffer_add(struct buffer *b, const char *p, size_t n)
{
	if (b->len + n + 1 > RESPONSE_MAX)
		return false;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

/* What one transfer collects. */
struct transfer {
	struct k8s_client *c;
	struct buffer body;
	long retry_after_s; /* Retry-After header, -1 when absent */
	/* watch streaming */
	struct watch_state *ws;
};

struct watch_state {
	k8s_watch_fn fn;
	void *arg;
	char rv[128];
	bool stopped; /* fn asked to stop */
	bool gone;    /* ERROR event with 410 */
	bool failed;  /* ERROR event of another kind, or garbage */
	int events;
	char error[512];
};

bool k8s_client_init(struct k8s_client *c, const char *kubeconfig_paths, const char *context,
		     bool dry_run)
{
	memset(c, 0, sizeof(*c));
	c->dry_run = dry_run;
	c->timeout_us = DEFAULT_TIMEOUT_US;
	c->connect_timeout_us = DEFAULT_CONNECT_TIMEOUT_US;
	c->max_retries = DEFAULT_RETRIES;
	c->backoff_us = DEFAULT_BACKOFF_US;
	c->backoff_max_us = DEFAULT_BACKOFF_MAX_US;
	if (!kubeconfig_load(kubeconfig_paths, context, &c->kc))
		return false;
	pthread_once(&curl_once, curl_init_once);
	c->curl = curl_easy_init();
	if (!c->curl) {
		log_error("cannot initialise libcurl");
		kubeconfig_free(&c->kc);
		return false;
	}
	return true;
}

void k8s_client_free(struct k8s_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	for (int i = 0; i < c->ncalls; i++) {
		free(c->calls[i].path);
		free(c->calls[i].body);
	}
	free(c->calls);
	kubeconfig_free(&c->kc);
	memset(c, 0, sizeof(*c));
}

char *k8s_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = xstrdup(e ? e : "");

	curl_free(e);
	return r;
}

void k8s_client_print_calls(const struct k8s_client *c, FILE *f)
{
	for (int i = 0; i < c->ncalls; i++) {
		fprintf(f, "%s %s\n", c->calls[i].method, c->calls[i].path);
		if (c->calls[i].body)
			fprintf(f, "%s\n", c->calls[i].body);
	}
}

static void record_call(struct k8s_client *c, const char *method, const char *path, const char *body)
{
	struct k8s_call *k;

	c->calls = xrealloc(c->calls, sizeof(*c->calls) * (size_t)(c->ncalls + 1));
	k = &c->calls[c->ncalls++];
	str_copy(k->method, sizeof(k->method), method);
	k->path = xstrdup(path);
	k->body = body ? xstrdup(body) : NULL;
}

static const char *verb_of(const char *method)
{
	if (strcmp(method, "POST") == 0)
		return "create";
	if (strcmp(method, "PATCH") == 0)
		return "patch";
	if (strcmp(method, "DELETE") == 0)
		return "delete";
	if (strcmp(method, "LIST") == 0)
		return "list";
	if (strcmp(method, "WATCH") == 0)
		return "watch";
	return "get";
}

static void ref_format(const struct k8s_ref *ref, char *buf, size_t len)
{
	if (!ref || !ref->kind) {
		str_copy(buf, len, "object");
		return;
	}
	if (ref->name && ref->ns)
		str_format(buf, len, "%s %s/%s", ref->kind, ref->ns, ref->name);
	else if (ref->name)
		str_format(buf, len, "%s %s", ref->kind, ref->name);
	else if (ref->ns)
		str_format(buf, len, "%s in namespace %s", ref->kind, ref->ns);
	else
		str_copy(buf, len, ref->kind);
}

/* "delete pod ns/x: Forbidden (HTTP 403): <the Status message> (hint)". */
static void http_error(struct k8s_client *c, const char *method, const struct k8s_ref *ref,
		       long status, const char *body)
{
	json_object *st = body ? json_tokener_parse(body) : NULL, *v, *details, *causes;
	const char *reason = NULL, *message = NULL, *hint = "";
	char what[384], extra[384] = "";

	if (st && json_object_object_get_ex(st, "reason", &v))
		reason = json_object_get_string(v);
	if (st && json_object_object_get_ex(st, "message", &v))
		message = json_object_get_string(v);
	if (st && json_object_object_get_ex(st, "details", &details) &&
	    json_object_object_get_ex(details, "causes", &causes) &&
	    json_object_is_type(causes, json_type_array)) {
		size_t off = 0;

		for (size_t i = 0; i < json_object_array_length(causes) && off < sizeof(extra); i++) {
			json_object *cause = json_object_array_get_idx(causes, i), *f, *m;

			if (!json_object_object_get_ex(cause, "field", &f) ||
			    !json_object_object_get_ex(cause, "message", &m))
				continue;
			str_format(extra + off, sizeof(extra) - off, "; %s: %s", json_object_get_string(f),
				   json_object_get_string(m));
			off = strlen(extra);
		}
	}
	switch (status) {
	case 401:
		hint = " (hint: the API server refused the credentials of the kubeconfig user)";
		break;
	case 403:
		hint = " (hint: the kubeconfig user lacks an RBAC permission for this)";
		break;
	case 404:
		if (!reason)
			reason = "NotFound";
		break;
	}
	ref_format(ref, what, sizeof(what));
	str_format(c->error, sizeof(c->error), "%s %s: %s (HTTP %ld)%s%s%s%s", verb_of(method), what,
		   reason ? reason : "error", status, message ? ": " : "", message ? message : "",
		   extra, hint);
	json_object_put(st);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	/* curl's header line is not NUL-terminated: parse a bounded copy. */
	if (len > 12 && len < 64 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char text[64], *end;
		long v;

		memcpy(text, p + 12, len - 12);
		text[len - 12] = '\0';
		v = strtol(text, &end, 10);
		if (end != text && v >= 0)
			t->retry_after_s = v;
	}
	return len;
}

/* Deliver the complete lines of a watch stream. */
static bool watch_lines(struct transfer *t)
{
	struct watch_state *ws = t->ws;
	char *line = t->body.data, *nl;

	while ((nl = memchr(line, '\n', t->body.len - (size_t)(line - t->body.data)))) {
		json_object *ev, *type, *obj, *meta, *rv, *code;

		*nl = '\0';
		ev = json_tokener_parse(line);
		line = nl + 1;
		if (!ev)
			continue; /* blank keep-alive line */
		if (!json_object_object_get_ex(ev, "type", &type) || !json_object_is_type(type, json_type_string) ||
		    !json_object_object_get_ex(ev, "object", &obj) || !json_object_is_type(obj, json_type_object)) {
			str_copy(ws->error, sizeof(ws->error), "a watch event without type or object");
			ws->failed = true;
			json_object_put(ev);
			return false;
		}
		if (strcmp(json_object_get_string(type), "ERROR") == 0) {
			json_object *msg;

			if (json_object_object_get_ex(obj, "code", &code) && json_object_get_int(code) == 410)
				ws->gone = true;
			else
				ws->failed = true;
			str_format(ws->error, sizeof(ws->error), "%s",
				   json_object_object_get_ex(obj, "message", &msg) && json_object_get_string(msg) ?
					   json_object_get_string(msg) : "ERROR event");
			json_object_put(ev);
			return false;
		}
		if (json_object_object_get_ex(obj, "metadata", &meta) &&
		    json_object_object_get_ex(meta, "resourceVersion", &rv) &&
		    json_object_is_type(rv, json_type_string))
			str_copy(ws->rv, sizeof(ws->rv), json_object_get_string(rv));
		ws->events++;
		if (!ws->fn(json_object_get_string(type), obj, ws->arg)) {
			ws->stopped = true;
			json_object_put(ev);
			return false;
		}
		json_object_put(ev);
	}
	/* Keep the partial last line. */
	t->body.len -= (size_t)(line - t->body.data);
	memmove(t->body.data, line, t->body.len + 1);
	return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	long code = 0;

	if (!buffer_add(&t->body, p, len))
		return 0;
	if (t->ws) {
		curl_easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200 && !watch_lines(t))
			return 0;
	}
	return len;
}

/* Set up the handle for one request; false when credentials cannot be had (logged). */
static bool prepare(struct k8s_client *c, const char *method, const char *url, const char *ctype,
		    const char *body, int64_t timeout_us, struct transfer *t, struct curl_slist **hdrs)
{
	CURL *h = c->curl;
	struct kubeconfig *kc = &c->kc;
	struct k8s_auth auth;
	char hdr[4096];

	if (!kubeconfig_auth(kc, &auth))
		return false;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bise/" BISE_VERSION);
	/* Only the scheme the kubeconfig names: never file://, and plain http only on request. */
	{
		const char *protocols = strncasecmp(kc->server, "http://", 7) == 0 ? "http" : "https";

		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_us / 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->connect_timeout_us / 1000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		}
	}
	/* TLS: verified against the kubeconfig's CA unless it says insecure-skip-tls-verify. */
	if (kc->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (kc->ca.data) {
		struct curl_blob blob = { kc->ca.data, kc->ca.len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (kc->ca.file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, kc->ca.file);
	}
	if (auth.cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		if (auth.cert->data) {
			struct curl_blob blob = { auth.cert->data, auth.cert->len, CURL_BLOB_COPY };

			curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		} else {
			curl_easy_setopt(h, CURLOPT_SSLCERT, auth.cert->file);
		}
		if (auth.key->data) {
			struct curl_blob blob = { auth.key->data, auth.key->len, CURL_BLOB_COPY };

			curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		} else {
			curl_easy_setopt(h, CURLOPT_SSLKEY, auth.key->file);
		}
	}
	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (ctype) {
		str_format(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		*hdrs = curl_slist_append(*hdrs, hdr);
	}
	if (auth.token) {
		if (!str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", auth.token)) {
			log_error("kubeconfig user %s: bearer token too long", kc->user);
			curl_slist_free_all(*hdrs);
			explicit_bzero(hdr, sizeof(hdr));
			return false;
		}
		*hdrs = curl_slist_append(*hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	return true;
}

static void headers_free(struct curl_slist *hdrs)
{
	/* The Authorization header holds a secret: clear it before it goes back to malloc. */
	for (struct curl_slist *s = hdrs; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hdrs);
}

/* One transfer; returns the curl code, fills c->status. */
static CURLcode perform(struct k8s_client *c, const char *method, const char *url,
			const char *ctype, const char *body, int64_t timeout_us, struct transfer *t,
			bool *auth_failed)
{
	struct curl_slist *hdrs = NULL;
	CURLcode rc;

	c->status = 0;
	*auth_failed = false;
	if (!prepare(c, method, url, ctype, body, timeout_us, t, &hdrs)) {
		*auth_failed = true;
		return CURLE_LOGIN_DENIED;
	}
	c->requests++;
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	headers_free(hdrs);
	log_debug("k8s: %s %s -> %ld", method, url, c->status);
	return rc;
}

static int64_t backoff(const struct k8s_client *c, int attempt, long retry_after_s)
{
	int64_t us = c->backoff_us;

	/* A server's Retry-After is a wish, not an order: capped like our own backoff. */
	if (retry_after_s >= 0)
		return retry_after_s < c->backoff_max_us / 1000000 ? retry_after_s * 1000000LL : c->backoff_max_us;
	for (int i = 0; i < attempt && us < c->backoff_max_us; i++)
		us *= 2;
	return us < c->backoff_max_us ? us : c->backoff_max_us;
}

/*
 * One API call with retries: 429 and 5xx after a backoff (Retry-After wins), transport
 * failures when nothing can have been applied, one re-authentication after a 401 with
 * exec credentials. Fills *out with the parsed answer on 2xx.
 */
static bool request(struct k8s_client *c, const char *method, const char *path, const char *ctype,
		    json_object *body_obj, const struct k8s_ref *ref, unsigned flags, json_object **out)
{
	const char *wire = strcmp(method, "LIST") == 0 ? "GET" : method;
	const char *body = body_obj ? json_object_to_json_string_ext(body_obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	char url[4096], what[384];
	bool reauth = false;

	if (out)
		*out = NULL;
	c->error[0] = '\0';
	if (c->dry_run) {
		record_call(c, wire, path, body);
		if (strcmp(wire, "GET") == 0) {
			/* Nothing exists in a dry run: reads answer 404, mutations succeed. */
			c->status = 404;
			ref_format(ref, what, sizeof(what));
			str_format(c->error, sizeof(c->error), "%s %s: dry run, not sent", verb_of(method), what);
			/* Expected in a dry run: the caller goes on as if the object were absent. */
			if (!(flags & K8S_QUIET_404))
				log_debug("%s", c->error);
			return false;
		}
		c->status = 200;
		if (out && body)
			*out = json_tokener_parse(body);
		return true;
	}
	if (!str_format(url, sizeof(url), "%s%s", c->kc.server, path)) {
		log_error("URL too long: %s", path);
		return false;
	}
	for (int attempt = 0;; attempt++) {
		struct transfer t = { .c = c, .retry_after_s = -1 };
		bool auth_failed, retry = false;
		CURLcode rc = perform(c, wire, url, ctype, body, c->timeout_us, &t, &auth_failed);

		if (auth_failed) {
			free(t.body.data);
			str_copy(c->error, sizeof(c->error), "no credentials");
			return false;
		}
		if (rc == CURLE_OK && c->status >= 200 && c->status < 300) {
			if (out && t.body.data) {
				*out = json_tokener_parse(t.body.data);
				if (!*out) {
					ref_format(ref, what, sizeof(what));
					str_format(c->error, sizeof(c->error), "%s %s: the API server answered "
						   "with invalid JSON", verb_of(method), what);
					log_error("%s", c->error);
					free(t.body.data);
					return false;
				}
			}
			free(t.body.data);
			return true;
		}
		if (rc != CURLE_OK) {
			ref_format(ref, what, sizeof(what));
			str_format(c->error, sizeof(c->error), "%s %s: cannot reach the API server %s: %s",
				   verb_of(method), what, c->kc.server_shown, curl_easy_strerror(rc));
			/* A write that may have arrived is not repeated blindly. */
			retry = rc == CURLE_COULDNT_CONNECT || strcmp(wire, "GET") == 0;
		} else {
			http_error(c, method, ref, c->status, t.body.data);
			if (c->status == 401 && c->kc.has_exec && !reauth) {
				reauth = true;
				kubeconfig_auth_invalidate(&c->kc);
				free(t.body.data);
				attempt--;
				continue;
			}
			retry = c->status == 429 || (c->status >= 500 && c->status != 501);
			if (c->status == 429 && t.retry_after_s < 0 && t.body.data) {
				json_object *st = json_tokener_parse(t.body.data), *d, *ra;

				if (st && json_object_object_get_ex(st, "details", &d) &&
				    json_object_object_get_ex(d, "retryAfterSeconds", &ra))
					t.retry_after_s = json_object_get_int(ra);
				json_object_put(st);
			}
		}
		free(t.body.data);
		if (!retry || attempt >= c->max_retries)
			break;
		c->retries++;
		log_debug("k8s: %s; retry %d of %d", c->error, attempt + 1, c->max_retries);
		sleep_us(backoff(c, attempt, t.retry_after_s));
	}
	if (!((flags & K8S_QUIET_404) && c->status == 404) && !((flags & K8S_QUIET_409) && c->status == 409))
		log_error("%s", c->error);
	return false;
}

bool k8s_get(struct k8s_client *c, const char *path, const struct k8s_ref *ref, unsigned flags,
	     json_object **out)
{
	return request(c, "GET", path, NULL, NULL, ref, flags, out);
}

bool k8s_create(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		json_object *obj, unsigned flags, json_object **out)
{
	return request(c, "POST", path, "application/json", obj, ref, flags, out);
}

bool k8s_patch(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
	       enum k8s_patch_type type, json_object *patch, json_object **out)
{
	static const char *const types[] = {
		[K8S_PATCH_MERGE] = "application/merge-patch+json",
		[K8S_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
		[K8S_PATCH_JSON] = "application/json-patch+json",
		[K8S_PATCH_APPLY] = "application/apply-patch+yaml",
	};

	return request(c, "PATCH", path, types[type], patch, ref, 0, out);
}

bool k8s_delete(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		json_object *options, unsigned flags, json_object **out)
{
	return request(c, "DELETE", path, options ? "application/json" : NULL, options, ref, flags, out);
}

static const char *meta_str(json_object *o, const char *key)
{
	json_object *m, *v;

	if (!o || !json_object_object_get_ex(o, "metadata", &m) || !json_object_object_get_ex(m, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* One page of a list into items (and rv); returns the next continue token or NULL. */
static char *list_page(json_object *page, json_object *items, char *rv, size_t rv_len)
{
	json_object *arr;
	const char *next;

	if (page && json_object_object_get_ex(page, "items", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			json_object_array_add(items, json_object_get(json_object_array_get_idx(arr, i)));
	if (rv && meta_str(page, "resourceVersion"))
		str_copy(rv, rv_len, meta_str(page, "resourceVersion"));
	next = meta_str(page, "continue");
	return next && *next ? xstrdup(next) : NULL;
}

bool k8s_list(struct k8s_client *c, const char *path, const struct k8s_ref *ref, int limit,
	      json_object **items, char *rv, size_t rv_len)
{
	char url[4096], *cont = NULL;
	const char *sep = strchr(path, '?') ? "&" : "?";
	int restarts = 0, pages = 0;

	*items = json_object_new_array();
	for (;;) {
		json_object *page;
		char *esc = cont ? k8s_escape(cont) : NULL;
		bool ok;

		if (limit > 0)
			str_format(url, sizeof(url), "%s%slimit=%d%s%s", path, sep, limit,
				   esc ? "&continue=" : "", esc ? esc : "");
		else
			str_copy(url, sizeof(url), path);
		free(esc);
		ok = request(c, "LIST", url, NULL, NULL, ref, cont ? K8S_QUIET_404 : 0, &page);
		if (!ok && c->status == 410 && cont && restarts < MAX_LIST_RESTARTS) {
			/* The continue token expired: a consistent list has to start over. */
			log_debug("k8s: continue token expired, listing %s again", path);
			restarts++;
			free(cont);
			cont = NULL;
			json_object_put(*items);
			*items = json_object_new_array();
			continue;
		}
		if (!ok) {
			if (c->dry_run) {
				free(cont);
				return true; /* an empty list */
			}
			if (cont && c->status == 404)
				log_error("%s", c->error);
			free(cont);
			json_object_put(*items);
			*items = NULL;
			return false;
		}
		free(cont);
		cont = list_page(page, *items, rv, rv_len);
		json_object_put(page);
		if (!cont)
			return true;
		if (++pages >= MAX_LIST_PAGES) {
			str_format(c->error, sizeof(c->error), "list %s: the API server still hands out continue "
				   "tokens after %d pages", path, pages);
			log_error("%s", c->error);
			free(cont);
			json_object_put(*items);
			*items = NULL;
			return false;
		}
	}
}

/* Re-list after a 410 and hand every item to fn as ADDED; false on error. */
static bool relist(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		   struct watch_state *ws)
{
	json_object *items;

	if (!k8s_list(c, path, ref, 500, &items, ws->rv, sizeof(ws->rv)))
		return false;
	for (size_t i = 0; i < json_object_array_length(items) && !ws->stopped; i++)
		if (!ws->fn("ADDED", json_object_array_get_idx(items, i), ws->arg))
			ws->stopped = true;
	json_object_put(items);
	return true;
}

bool k8s_watch(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
	       const char *resource_version, int64_t timeout_us, k8s_watch_fn fn, void *arg)
{
	struct watch_state ws = { .fn = fn, .arg = arg };
	int64_t deadline = mono_now_us() + timeout_us;
	const char *sep = strchr(path, '?') ? "&" : "?";
	int relists = 0, failures = 0;
	char what[384];

	ref_format(ref, what, sizeof(what));
	if (c->dry_run) {
		record_call(c, "GET", path, NULL);
		return true;
	}
	if (resource_version && *resource_version)
		str_copy(ws.rv, sizeof(ws.rv), resource_version);
	else if (!relist(c, path, ref, &ws))
		return false;
	while (!ws.stopped) {
		int64_t left = deadline - mono_now_us();
		struct transfer t = { .c = c, .retry_after_s = -1, .ws = &ws };
		char url[4096];
		bool auth_failed;
		CURLcode rc;
		int events_before = ws.events;

		if (left <= 0)
			return true;
		str_format(url, sizeof(url), "%s%s%swatch=1&allowWatchBookmarks=true&resourceVersion=%s"
			   "&timeoutSeconds=%lld", c->kc.server, path, sep, ws.rv,
			   (long long)(left / 1000000 + 1));
		ws.gone = ws.failed = false;
		rc = perform(c, "GET", url, NULL, NULL, left, &t, &auth_failed);
		if (auth_failed) {
			free(t.body.data);
			return false;
		}
		if (ws.stopped) {
			free(t.body.data);
			return true;
		}
		if (c->status == 410 || ws.gone) {
			/* Our resourceVersion is too old: list again, then watch from the list's. */
			free(t.body.data);
			log_debug("k8s: watch of %s: resourceVersion %s expired, listing again", path, ws.rv);
			if (++relists > MAX_RELISTS) {
				str_format(c->error, sizeof(c->error), "watch %s: the resourceVersion "
					   "expired %d times in a row", what, MAX_RELISTS);
				log_error("%s", c->error);
				return false;
			}
			if (!relist(c, path, ref, &ws))
				return false;
			continue;
		}
		if (ws.failed) {
			str_format(c->error, sizeof(c->error), "watch %s: %s", what, ws.error);
			log_error("%s", c->error);
			free(t.body.data);
			return false;
		}
		if (c->status != 0 && c->status != 200) {
			http_error(c, "WATCH", ref, c->status, t.body.data);
			free(t.body.data);
			if ((c->status == 429 || c->status >= 500) && failures < c->max_retries) {
				sleep_us(backoff(c, failures++, t.retry_after_s));
				continue;
			}
			log_error("%s", c->error);
			return false;
		}
		free(t.body.data);
		if (ws.events > events_before)
			relists = failures = 0;
		if (mono_now_us() >= deadline)
			return true;
		/* The stream ended or broke: resume from the last resourceVersion seen. */
		if (rc != CURLE_OK)
			log_debug("k8s: watch of %s broke (%s), resuming at %s", path, curl_easy_strerror(rc), ws.rv);
		if (ws.events == events_before) {
			if (failures >= c->max_retries * 4) {
				str_format(c->error, sizeof(c->error), "watch %s: the API server %s keeps "
					   "closing the stream (%s)", what, c->kc.server_shown, curl_easy_strerror(rc));
				log_error("%s", c->error);
				return false;
			}
			sleep_us(backoff(c, failures++ % 4, -1));
		}
	}
	return true;
}
