/*
 * driver.c - the kubernetes backend: a cluster of the selected operator (CloudNativePG by
 * default; Cozystack, Zalando, Crunchy: see operators.h), one instance per zone, in a
 * namespace bise may touch: options, preflight, up/down, members, health, pod-kill (a
 * DELETE of the pod with gracePeriodSeconds 0; the operator recreates it, so restart has
 * nothing to do) and the workload's entry (access.h). The faults are in driver_faults.c.
 * Safety rule: bise acts on a namespace only if it carries bise.io/chaos=allowed, bise
 * created it, or the command line named it.
 */
#include "k8s_driver.h"
#include "driver_int.h"

#include "access.h"
#include "cnpg.h"
#include "cozystack.h"
#include "operators.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

extern const struct driver_ops driver_kubernetes;

#define OPERATOR_NAMES "cnpg, cozystack, zalando, crunchy"

#define LABEL_ALLOWED "bise.io/chaos"
#define LABEL_CREATED "bise.io/created-by"
#define UP_TIMEOUT_US (15 * 60 * 1000000LL)
#define DOWN_TIMEOUT_US (5 * 60 * 1000000LL)
#define DEFAULT_POLL_US (2 * 1000000LL)
#define PREFLIGHT_TIMEOUT_US (5 * 1000000LL)


/* The options of this backend (driver.h); kind declares the ones that apply to it too. */
const struct driver_option k8s_driver_options[] = {
	{ "kubeconfig", "FILE", NULL, NULL,
	  "kubeconfig file(s), ':'-separated (default KUBECONFIG, then ~/.kube/config)" },
	{ "context", "NAME", "BISE_K8S_CONTEXT", NULL, "kubeconfig context (default its current-context)" },
	{ "namespace", "NS", "BISE_K8S_NAMESPACE", NULL,
	  "namespace bise may act on (default the context's; named here, no label is needed)" },
	{ DRIVER_OPTION_DRY_RUN, NULL, "BISE_K8S_DRY_RUN", NULL, "print every API call instead of making it" },
	{ "operator", "NAME", "BISE_K8S_OPERATOR", "cnpg", "the PostgreSQL operator: " OPERATOR_NAMES },
	{ "pg-access", "MODE", "BISE_K8S_PG_ACCESS", NULL,
	  "how the workload reaches PostgreSQL: nodeport (bise's NodePort Services, default on "
	  "kind-* contexts), HOST:PORT (the operator's external read-write access), none" },
	{ "pg-host", "HOST", "BISE_K8S_PG_HOST", NULL, "where the nodePorts answer (default 127.0.0.1)" },
	{ "image", "IMAGE", "BISE_K8S_IMAGE", NULL, "PostgreSQL operand image (default the operator's)" },
	{ "poll-us", "US", NULL, NULL, "status polling interval in microseconds (default 2000000)" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const char *k8s_operator_name(const struct driver_options *o)
{
	const char *op = driver_option(o, "operator");

	return op && *op ? op : "cnpg";
}

/* The operator the options name (cnpg by default); NULL if unknown. */
static const struct k8s_operator *operator_selected(const struct driver_options *o, const char **name)
{
	*name = k8s_operator_name(o);
	return k8s_operator_find(*name);
}

static void k8s_flush_calls(struct driver *d, FILE *f)
{
	k8s_client_print_calls(&d->c, f);
	for (int i = 0; i < d->c.ncalls; i++) {
		free(d->c.calls[i].path);
		free(d->c.calls[i].body);
	}
	d->c.ncalls = 0;
}

struct k8s_client *k8s_driver_client(struct driver *d)
{
	return &d->c;
}

/* An option's value, NULL when unset or empty (the client's defaults apply). */
static const char *opt_set(const struct driver_options *o, const char *name)
{
	const char *v = driver_option(o, name);

	return v && *v ? v : NULL;
}

static bool client_open(struct k8s_client *c, const struct driver_options *o)
{
	return k8s_client_init(c, opt_set(o, "kubeconfig"), opt_set(o, "context"),
			       driver_option_flag(o, DRIVER_OPTION_DRY_RUN));
}

static bool k8s_preflight(const struct cluster_spec *spec, const struct driver_options *o, char *why,
			  size_t why_len)
{
	struct k8s_client c;
	struct k8s_ref ref = { "version", NULL, NULL };
	struct k8s_ref api = { "API group", NULL, NULL };
	bool ok = false;
	enum log_level level = log_get_level();
	const char *op_name;
	const struct k8s_operator *op;
	struct driver_options none;

	if (!o) {
		driver_options_init(&none, &driver_kubernetes);
		o = &none;
	}
	op = operator_selected(o, &op_name);

	if (!op) {
		str_format(why, why_len, "unknown operator %s (BISE_K8S_OPERATOR: " OPERATOR_NAMES ")", op_name);
		return false;
	}
	if (!client_open(&c, o)) {
		str_format(why, why_len, "no usable kubeconfig (see the error above; KUBECONFIG or ~/.kube/config)");
		return false;
	}
	if (c.dry_run) {
		k8s_client_free(&c);
		return true;
	}
	c.timeout_us = c.connect_timeout_us = PREFLIGHT_TIMEOUT_US;
	c.max_retries = 1;
	/* The reason goes to why, in one line: keep the client from logging it too. */
	log_set_level(LOG_QUIET);
	if (!k8s_get(&c, "/version", &ref, 0, NULL)) {
		if (c.status == 0)
			str_format(why, why_len, "cannot reach the Kubernetes API server %s (context %s)",
				   c.kc.server_shown, c.kc.context);
		else
			str_format(why, why_len, "Kubernetes API server %s: %s", c.kc.server_shown, c.error);
	} else if (!k8s_get(&c, op->api, &api, 0, NULL)) {
		if (c.status == 404)
			str_format(why, why_len, "%s is not installed on %s (no API %s; see "
				   "kind-config/README.md)", op->title, c.kc.server_shown, op->api + strlen("/apis/"));
		else
			str_format(why, why_len, "%s", c.error);
	} else {
		ok = true;
	}
	log_set_level(level);
	k8s_client_free(&c);
	return ok;
}

/* The access mode: --pg-access/--pg-host (or BISE_K8S_PG_ACCESS/BISE_K8S_PG_HOST). */
static bool access_open(struct driver *d, const struct driver_options *o)
{
	const char *mode = opt_set(o, "pg-access"), *host = opt_set(o, "pg-host");
	char why[256];

	if (!k8s_access_parse(mode, host, d->c.kc.context, &d->access, why, sizeof(why))) {
		log_error("%s", why);
		return false;
	}
	return true;
}

static struct driver *k8s_open(const struct cluster_spec *spec, const char *state_root,
			       const struct driver_options *o)
{
	struct driver *d = xcalloc(1, sizeof(*d));
	const char *op_name, *ns, *poll;
	char *end = NULL;
	long long poll_us;
	struct driver_options none;

	if (!o) {
		driver_options_init(&none, &driver_kubernetes);
		o = &none;
	}
	ns = opt_set(o, "namespace");
	poll = opt_set(o, "poll-us");
	poll_us = poll ? strtoll(poll, &end, 10) : 0;
	d->spec = *spec;
	if (poll && (*end || poll_us <= 0)) {
		log_error("--poll-us wants a positive number of microseconds, not '%s'", poll);
		free(d);
		return NULL;
	}
	if (!(d->op = operator_selected(o, &op_name))) {
		log_error("unknown operator %s (BISE_K8S_OPERATOR: " OPERATOR_NAMES ")", op_name);
		free(d);
		return NULL;
	}
	if (!client_open(&d->c, o)) {
		free(d);
		return NULL;
	}
	str_copy(d->kubeconfig, sizeof(d->kubeconfig), opt_set(o, "kubeconfig") ? opt_set(o, "kubeconfig") : "");
	str_copy(d->context, sizeof(d->context), opt_set(o, "context") ? opt_set(o, "context") : "");
	d->ns_explicit = ns != NULL;
	str_copy(d->ns, sizeof(d->ns), d->ns_explicit ? ns : d->c.kc.namespace);
	str_copy(d->image, sizeof(d->image), opt_set(o, "image") ? opt_set(o, "image") : "");
	d->poll_us = poll_us > 0 ? (int64_t)poll_us : DEFAULT_POLL_US;
	if (!access_open(d, o)) {
		k8s_client_free(&d->c);
		free(d);
		return NULL;
	}
	return d;
}

struct driver *k8s_driver_open_kubeconfig(const struct cluster_spec *spec, const char *state_root,
					  const struct driver_options *o, const char *kubeconfig,
					  const char *default_ns)
{
	struct driver_options *k = xmalloc(sizeof(*k));
	char why[256];
	struct driver *d = NULL;
	bool ok = true;

	/* The other options stay the user's; only the cluster to talk to changes. */
	driver_options_init(k, &driver_kubernetes);
	for (int i = 0; o && o->table && o->table[i].name && i < DRIVER_MAX_OPTIONS; i++)
		if (o->at[i] && driver_option_find(k->table, o->table[i].name))
			ok &= driver_options_set(k, o->table[i].name, o->buf + o->at[i] - 1, why, sizeof(why));
	ok = ok && driver_options_set(k, "kubeconfig", kubeconfig, why, sizeof(why)) &&
	     driver_options_set(k, "context", "", why, sizeof(why));
	if (!ok)
		log_error("%s", why);
	else
		d = k8s_open(spec, state_root, k);
	if (d && !opt_set(k, "namespace")) {
		/* Not named by the user: the safety rule applies (bise creates it, labelled). */
		str_copy(d->ns, sizeof(d->ns), default_ns);
		d->ns_explicit = false;
	}
	free(k);
	return d;
}

static void k8s_close(struct driver *d)
{
	/* The password read from the Secret must not linger in freed memory. */
	explicit_bzero(&d->creds, sizeof(d->creds));
	k8s_client_free(&d->c);
	free(d);
}

/* The namespace's labels: 1 allowed, 0 not, -1 it does not exist, -2 error (logged). */
static int ns_check(struct driver *d, bool *created_by_bise)
{
	char path[256];
	struct k8s_ref ref = { "namespace", NULL, d->ns };
	json_object *o, *labels, *v;
	bool allowed = false;

	*created_by_bise = false;
	str_format(path, sizeof(path), "/api/v1/namespaces/%s", d->ns);
	if (!k8s_get(&d->c, path, &ref, K8S_QUIET_404, &o))
		return d->c.status == 404 ? -1 : -2;
	if (json_object_object_get_ex(o, "metadata", &v) && json_object_object_get_ex(v, "labels", &labels)) {
		if (json_object_object_get_ex(labels, LABEL_CREATED, &v) &&
		    strcmp(json_object_get_string(v), "bise") == 0)
			*created_by_bise = allowed = true;
		if (json_object_object_get_ex(labels, LABEL_ALLOWED, &v) &&
		    strcmp(json_object_get_string(v), "allowed") == 0)
			allowed = true;
	}
	json_object_put(o);
	return allowed ? 1 : 0;
}

/* The safety rule; logs the refusal. */
bool k8s_ns_allowed(struct driver *d, const char *action)
{
	bool mine;
	int r;

	if (d->ns_explicit)
		return true;
	r = ns_check(d, &mine);
	if (r == 1)
		return true;
	if (r == -2)
		return false;
	if (r == -1 && d->c.dry_run)
		return true; /* a dry run sees no namespace; up would create it */
	log_error("refusing to %s in namespace %s: it %s (label it %s=allowed, or name it with "
		  "--namespace)", action, d->ns, r == -1 ? "does not exist" :
		  "is not labelled " LABEL_ALLOWED "=allowed and bise did not create it", LABEL_ALLOWED);
	return false;
}

static bool k8s_exists(struct driver *d)
{
	bool exists;

	return d->op->exists(&d->c, d->ns, d->spec.name, &exists) && exists;
}

/* Create the namespace, labelled as bise's, when it is missing. */
static bool ns_ensure(struct driver *d)
{
	bool mine;
	int r = ns_check(d, &mine);
	json_object *o, *meta, *labels;
	struct k8s_ref ref = { "namespace", NULL, d->ns };
	bool ok;

	if (r != -1)
		return r != -2;
	o = json_object_new_object();
	meta = json_object_new_object();
	labels = json_object_new_object();
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "kind", json_object_new_string("Namespace"));
	json_object_object_add(meta, "name", json_object_new_string(d->ns));
	json_object_object_add(labels, LABEL_CREATED, json_object_new_string("bise"));
	json_object_object_add(labels, LABEL_ALLOWED, json_object_new_string("allowed"));
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(o, "metadata", meta);
	ok = k8s_create(&d->c, "/api/v1/namespaces", &ref, o, 0, NULL);
	json_object_put(o);
	return ok;
}

/* bise's NodePort Services (access.h), the pods labelled with their zone first. */
static bool access_services(struct driver *d)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	int n = d->op->members(&d->c, d->ns, d->spec.name, m, DRIVER_MAX_MEMBERS);

	return n >= 0 && k8s_access_ensure(&d->c, d->ns, &d->spec, d->op, m, n);
}

static bool k8s_up(struct driver *d, double *seconds)
{
	int64_t t0 = mono_now_us();
	json_object *cluster;
	char why[512];
	bool ok;

	*seconds = 0;
	if (!ns_ensure(d) || !k8s_ns_allowed(d, "create a cluster"))
		return false;
	cluster = d->op->object(&d->spec, d->ns, d->image[0] ? d->image : NULL);
	ok = d->op->create(&d->c, d->ns, cluster);
	json_object_put(cluster);
	if (!ok || d->c.dry_run)
		return ok;
	if (!d->op->wait_ready(&d->c, d->ns, d->spec.name, UP_TIMEOUT_US, d->poll_us, why, sizeof(why))) {
		log_error("cluster %s/%s not ready after %llds: %s", d->ns, d->spec.name,
			  (long long)(UP_TIMEOUT_US / 1000000), why);
		return false;
	}
	if (d->access.mode == K8S_ACCESS_NODEPORT && !access_services(d))
		return false;
	*seconds = (double)(mono_now_us() - t0) / 1e6;
	return true;
}

static bool k8s_down(struct driver *d)
{
	int64_t deadline = mono_now_us() + DOWN_TIMEOUT_US;
	bool mine;
	int r;

	r = ns_check(d, &mine);
	if (r == -1 && !d->c.dry_run)
		return true; /* no namespace: nothing of ours there (a dry run shows the deletes) */
	if (r == -2 || !k8s_ns_allowed(d, "delete a cluster"))
		return false;
	/* Faults first: a namespace bise did not create keeps what is left in it. */
	if (!k8s_sweep(d) || !d->op->remove(&d->c, d->ns, d->spec.name))
		return false;
	while (!d->c.dry_run && k8s_exists(d)) {
		if (mono_now_us() > deadline) {
			log_error("cluster %s/%s still there %llds after its deletion", d->ns, d->spec.name,
				  (long long)(DOWN_TIMEOUT_US / 1000000));
			return false;
		}
		sleep_us(d->poll_us);
	}
	r = ns_check(d, &mine);
	if (r == 1 && mine) {
		char path[256];
		struct k8s_ref ref = { "namespace", NULL, d->ns };

		str_format(path, sizeof(path), "/api/v1/namespaces/%s", d->ns);
		if (!k8s_delete(&d->c, path, &ref, NULL, K8S_QUIET_404, NULL) && d->c.status != 404)
			return false;
	}
	return true;
}

/*
 * A dry run reads nothing back (reads answer 404), so its members are placeholders named
 * <cluster>-<zone>, the first zone's the primary: the plan's calls name pods that way.
 */
static int dry_run_members(const struct driver *d, struct member *out, int max)
{
	int n = d->spec.nzones < max ? d->spec.nzones : max;

	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		str_format(out[i].name, sizeof(out[i].name), "%s-%s", d->spec.name, d->spec.zones[i]);
		str_copy(out[i].zone, sizeof(out[i].zone), d->spec.zones[i]);
		out[i].role = i == 0 ? MEMBER_PRIMARY : MEMBER_REPLICA;
		out[i].timeline = 1;
	}
	return n;
}

static int k8s_members(struct driver *d, struct member *out, int max)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	int n;

	if (d->c.dry_run)
		return dry_run_members(d, out, max);
	n = d->op->members(&d->c, d->ns, d->spec.name, m, DRIVER_MAX_MEMBERS);

	for (int i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (!str_copy(out[i].name, sizeof(out[i].name), m[i].name))
			log_warn("pod name %s cut to %s in events", m[i].name, out[i].name);
		str_copy(out[i].zone, sizeof(out[i].zone), m[i].zone);
		k8s_access_member_endpoint(&d->access, &d->spec, m[i].zone, m[i].ip, &d->creds,
					   &out[i].endpoint);
		out[i].role = m[i].role;
		out[i].timeline = m[i].timeline;
	}
	return n < max ? n : max;
}

/* One look: healthy means the operator says so and the pods agree (one primary). */
static bool healthy_now(struct driver *d, char *why, size_t why_len)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	int n;

	if (!d->op->wait_ready(&d->c, d->ns, d->spec.name, 0, 0, why, why_len))
		return false;
	n = d->op->members(&d->c, d->ns, d->spec.name, m, DRIVER_MAX_MEMBERS);
	if (n < 0) {
		str_format(why, why_len, "%s", d->c.error);
		return false;
	}
	return k8s_members_healthy(m, n, d->spec.nzones, why, why_len);
}

static bool k8s_wait_healthy(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;

	for (;;) {
		/* A pod the operator recreated lacks the zone label its NodePort Service selects. */
		if (healthy_now(d, why, why_len))
			return d->access.mode != K8S_ACCESS_NODEPORT || d->c.dry_run || access_services(d);
		if (mono_now_us() + d->poll_us > deadline)
			return false;
		sleep_us(d->poll_us);
	}
}

static bool k8s_kill(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us)
{
	char path[512];
	struct k8s_ref ref = { "pod", d->ns, member };
	json_object *opts_obj;
	/* Whole seconds, as the API takes them; a grace under a second is still a grace. */
	int64_t grace_s = grace_us > 0 ? (grace_us + 999999) / 1000000 : 0;
	bool ok;

	if (scope != KILL_POD) {
		log_error("kubernetes backend: only a whole pod can be killed, not the postmaster alone");
		return false;
	}
	if (!k8s_ns_allowed(d, "delete a pod"))
		return false;
	/* gracePeriodSeconds 0: the kubelet SIGKILLs at once, as a node failure would. */
	opts_obj = json_tokener_parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"}");
	json_object_object_add(opts_obj, "gracePeriodSeconds", json_object_new_int64(grace_s));
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", d->ns, member);
	ok = k8s_delete(&d->c, path, &ref, opts_obj, 0, NULL);
	json_object_put(opts_obj);
	return ok;
}

static bool k8s_restart(struct driver *d, const char *member)
{
	return true; /* the operator recreates a deleted pod by itself */
}


/* The operator's image from its Deployment (standard labels of the manifest and the chart). */
static void operator_image(struct driver *d, char *buf, size_t len)
{
	struct k8s_ref ref = { "deployments", NULL, NULL };
	json_object *items, *c0;
	char path[256];

	str_copy(buf, len, "unknown");
	str_format(path, sizeof(path), "/apis/apps/v1/deployments?labelSelector=%s",
		   "app.kubernetes.io%2Fname%3Dcloudnative-pg");
	if (!k8s_list(&d->c, path, &ref, 0, &items, NULL, 0))
		return;
	if (json_object_array_length(items) > 0) {
		json_object *dep = json_object_array_get_idx(items, 0), *v = dep;
		const char *keys[] = { "spec", "template", "spec", "containers" };

		for (size_t i = 0; i < 4 && v; i++)
			if (!json_object_object_get_ex(v, keys[i], &v))
				v = NULL;
		if (v && (c0 = json_object_array_get_idx(v, 0)) && json_object_object_get_ex(c0, "image", &v))
			str_copy(buf, len, json_object_get_string(v));
	}
	json_object_put(items);
}

static bool k8s_versions(struct driver *d, char *buf, size_t len)
{
	struct k8s_ref ref = { "version", NULL, NULL };
	json_object *v = NULL, *gv;
	struct cnpg_status st;
	char op[256];
	bool exists;

	char cl[K8S_NAME_LEN];
	bool cnpg_based = strcmp(d->op->name, "cnpg") == 0 || strcmp(d->op->name, "cozystack") == 0;

	if (!k8s_get(&d->c, "/version", &ref, 0, &v))
		return false;
	/* Cozystack runs CloudNativePG underneath: its Cluster carries the image. */
	str_copy(op, sizeof(op), "unknown");
	st.image[0] = '\0';
	if (cnpg_based) {
		operator_image(d, op, sizeof(op));
		if (strcmp(d->op->name, "cozystack") == 0)
			cozystack_cluster_name(d->spec.name, cl, sizeof(cl));
		else
			str_copy(cl, sizeof(cl), d->spec.name);
		if (!cnpg_status(&d->c, d->ns, cl, &st, &exists))
			st.image[0] = '\0';
	}
	str_format(buf, len, "Kubernetes %s, %s%s%s, PostgreSQL image %s",
		   json_object_object_get_ex(v, "gitVersion", &gv) ? json_object_get_string(gv) : "unknown",
		   cnpg_based ? "CloudNativePG " : d->op->title, cnpg_based ? op : "",
		   strcmp(d->op->name, "cozystack") == 0 ? " (Cozystack)" : "",
		   st.image[0] ? st.image : "operator default");
	json_object_put(v);
	return true;
}

/*
 * Where this driver acts, for the fault journal: the kubeconfig files (as given, or as
 * KUBECONFIG said), the context actually used, the namespace and the operator, each under
 * its option's name: heal opens the driver with them. A heal after the user switched
 * contexts still acts on the run's cluster.
 */
static bool k8s_target(struct driver *d, char *buf, size_t len)
{
	json_object *o = json_object_new_object();
	const char *kc = d->kubeconfig[0] ? d->kubeconfig : getenv("KUBECONFIG");
	bool ok;

	if (kc && *kc)
		json_object_object_add(o, "kubeconfig", json_object_new_string(kc));
	json_object_object_add(o, "context", json_object_new_string(d->c.kc.context));
	json_object_object_add(o, "namespace", json_object_new_string(d->ns));
	json_object_object_add(o, "operator", json_object_new_string(d->op->name));
	ok = str_copy(buf, len, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!ok)
		log_error("kubernetes target too long for the journal (%zu bytes at most)", len);
	return ok;
}

/*
 * The read-write entry for the workload: in nodeport mode the Services are made to exist
 * (a cluster bise did not bring up in this run gets them now); the credentials are read
 * from the operator's Secret once and kept for the members' endpoints too.
 */
static bool k8s_entry(struct driver *d, struct pg_endpoint *out)
{
	memset(out, 0, sizeof(*out));
	if (d->access.mode == K8S_ACCESS_NONE || d->c.dry_run)
		return true;
	if (!k8s_ns_allowed(d, "expose PostgreSQL"))
		return false;
	if (d->access.mode == K8S_ACCESS_NODEPORT && !access_services(d))
		return false;
	if (!k8s_access_credentials(&d->c, d->ns, d->spec.name, d->op, &d->creds))
		return false;
	k8s_access_entry(&d->access, &d->creds, out);
	log_info("workload entry: %s:%d as %s (database %s)", out->host, out->port, out->user, out->dbname);
	return true;
}

/*
 * What this backend can observe of a fault's effect: the platform accepted it (the API
 * answered the create or delete, docker stop returned). When the kubelet, the CNI or Chaos
 * Mesh enforce it comes later, unseen: the fault's times say "api-accepted", not more.
 */
static bool accepted(struct driver *d, bool ok)
{
	if (ok)
		d->accepted_us = mono_now_us();
	return ok;
}

static bool kill_op(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us)
{
	return accepted(d, k8s_kill(d, member, scope, grace_us));
}

static bool net_apply_op(struct driver *d, const struct net_fault *f)
{
	return accepted(d, k8s_net_apply(d, f));
}

static bool net_revert_op(struct driver *d, const char *id)
{
	return accepted(d, k8s_net_revert(d, id));
}

static bool io_fault_op(struct driver *d, const char *member, const struct io_fault *f)
{
	return accepted(d, k8s_io_fault(d, member, f));
}

static bool io_heal_op(struct driver *d, const char *member)
{
	return accepted(d, k8s_io_heal(d, member));
}

static bool zone_stop_op(struct driver *d, const char *zone)
{
	return accepted(d, k8s_zone_stop(d, zone));
}

static bool zone_start_op(struct driver *d, const char *zone)
{
	return accepted(d, k8s_zone_start(d, zone));
}

static bool k8s_effect(struct driver *d, struct fault_effect *out)
{
	memset(out, 0, sizeof(*out));
	out->at_us = d->accepted_us;
	str_copy(out->how, sizeof(out->how), "api-accepted");
	d->accepted_us = 0;
	return out->at_us > 0;
}

const struct driver_ops driver_kubernetes = {
	.version = DRIVER_OPS_VERSION,
	.name = "kubernetes",
	.help = "a PostgreSQL operator's cluster on Kubernetes (BISE_K8S_OPERATOR: " OPERATOR_NAMES
		"; pod-kill deletes the pod, partitions are NetworkPolicies, other faults need Chaos Mesh)",
	/* Latency, bandwidth and storage faults are skipped (can) when Chaos Mesh is absent. */
	.caps = DRIVER_CAP_KILL_POD | DRIVER_CAP_RESTART | DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_LATENCY |
		DRIVER_CAP_NET_BANDWIDTH | DRIVER_CAP_STORAGE_STALL | DRIVER_CAP_NET_LOSS |
		DRIVER_CAP_NET_CLIENT | DRIVER_CAP_ZONE_OUTAGE |
		/* Only with an access mode (can says so): see access.h. */
		DRIVER_CAP_SQL,
	.options = k8s_driver_options,
	.preflight = k8s_preflight,
	.open = k8s_open,
	.close = k8s_close,
	.exists = k8s_exists,
	.up = k8s_up,
	.down = k8s_down,
	.members = k8s_members,
	.wait_healthy = k8s_wait_healthy,
	.kill = kill_op,
	.restart = k8s_restart,
	.versions = k8s_versions,
	.net_apply = net_apply_op,
	.net_revert = net_revert_op,
	.io_fault = io_fault_op,
	.io_heal = io_heal_op,
	.can = k8s_can,
	.sweep = k8s_sweep,
	.target = k8s_target,
	.flush_calls = k8s_flush_calls,
	.zone_stop = zone_stop_op,
	.zone_start = zone_start_op,
	.tick = k8s_tick,
	.entry = k8s_entry,
	.observe = k8s_observe,
	.effect = k8s_effect,
};
