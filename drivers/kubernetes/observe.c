/*
 * observe.c - the kubernetes backend's observe op (driver.h): the instance pods' role
 * labels as the operator sets them, seen as they change rather than by polling. One list
 * gives every pod's role and a resourceVersion; then a watch with bookmarks follows from
 * it (k8s_watch resumes a broken stream from the last resourceVersion and re-lists on a
 * 410). Each pod's first role and every change become one api_role event. It runs in the
 * runner's observer thread, so it opens an API client of its own (one client per thread).
 */
#include "driver_int.h"
#include "event.h"
#include "util.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* One watch request at most: a stop is noticed within this even when nothing happens. */
#define OBSERVE_CHUNK_US 1000000
#define OBSERVE_MAX_FAILURES 5
#define OBSERVE_RETRY_US 1000000
#define OBSERVE_MAX_PODS 32
/* A list that hangs must not hold the trial's end for the client's default 30 s per try. */
#define OBSERVE_REQUEST_TIMEOUT_US (5 * 1000000LL)
#define OBSERVE_RETRIES 2

struct observer {
	struct event_log *log;
	atomic_bool *stop;
	char label[128];   /* the operator's role label: the last key of its primary selector */
	char primary[64];  /* its value on the primary ("primary", "master") */
	char rv[128];      /* where the next watch starts; "" lists first */
	int npods;
	struct {
		char name[EVENT_NODE_LEN];
		char role[16];
	} pods[OBSERVE_MAX_PODS];
	bool full_warned;
};

/*
 * Every operator's primary selector ends with its role label: cnpg.io/instanceRole=primary,
 * spilo-role=master, postgres-operator.crunchydata.com/role=master. Replicas are "replica"
 * for all of them.
 */
static bool role_label(const struct k8s_operator *op, struct observer *o)
{
	const char *sel = op->primary_selector, *last, *eq;

	if (!sel || !*sel) {
		log_error("operator %s names no primary selector: its role label is unknown", op->name);
		return false;
	}
	last = strrchr(sel, ',');
	last = last ? last + 1 : sel;
	eq = strchr(last, '=');
	if (!eq || eq == last || !eq[1] || strchr(eq + 1, '%') ||
	    !str_format(o->label, sizeof(o->label), "%.*s", (int)(eq - last), last) ||
	    !str_copy(o->primary, sizeof(o->primary), eq + 1)) {
		log_error("operator %s: no role label at the end of its primary selector \"%s\"", op->name, sel);
		return false;
	}
	return true;
}

static const char *pod_role(const struct observer *o, json_object *pod)
{
	const char *v = k8s_label(pod, o->label);

	if (!v)
		return "unknown";
	if (strcmp(v, o->primary) == 0)
		return "primary";
	return strcmp(v, "replica") == 0 ? "replica" : "unknown";
}

/* Append an api_role event when name's role is new or changed. */
static void note(struct observer *o, const char *name, const char *role)
{
	char node[EVENT_NODE_LEN];
	enum api_role r;
	int i;

	/* Cut like the members' names (MEMBER_NAME_LEN), so both kinds of event name the same pod. */
	str_copy(node, sizeof(node), name);
	for (i = 0; i < o->npods; i++)
		if (strcmp(o->pods[i].name, node) == 0)
			break;
	if (i < o->npods && strcmp(o->pods[i].role, role) == 0)
		return;
	if (i == o->npods && o->npods < OBSERVE_MAX_PODS) {
		str_copy(o->pods[i].name, sizeof(o->pods[i].name), node);
		o->npods++;
	} else if (i == o->npods && !o->full_warned) {
		log_warn("observe: more than %d pods: roles of the others are logged on every event",
			 OBSERVE_MAX_PODS);
		o->full_warned = true;
	}
	if (i < o->npods)
		str_copy(o->pods[i].role, sizeof(o->pods[i].role), role);
	/* pod_role() names only roles api_role_parse() knows. */
	if (!api_role_parse(role, &r))
		r = API_ROLE_UNKNOWN;
	event_write_api_role(o->log, mono_now_us(), node, r);
	log_debug("observe: pod %s is %s", node, role);
}

/* k8s_watch callback: note the pod, remember where the stream is. */
static bool on_pod(const char *type, json_object *pod, void *arg)
{
	struct observer *o = arg;
	const char *rv = k8s_jstr(pod, "metadata.resourceVersion");
	const char *name = k8s_jstr(pod, "metadata.name");

	if (rv && *rv)
		str_copy(o->rv, sizeof(o->rv), rv);
	if (strcmp(type, "BOOKMARK") != 0 && name && *name)
		note(o, name, strcmp(type, "DELETED") == 0 ? "deleted" : pod_role(o, pod));
	return !atomic_load(o->stop);
}

/* Every pod's role now, and the list's resourceVersion to watch from. */
static bool list_pods(struct k8s_client *c, const char *path, const struct k8s_ref *ref,
		      struct observer *o)
{
	json_object *items;
	int known = o->npods;

	if (!k8s_list(c, path, ref, 500, &items, o->rv, sizeof(o->rv)))
		return false;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *pod = json_object_array_get_idx(items, i);
		const char *name = k8s_jstr(pod, "metadata.name");

		if (name && *name)
			note(o, name, pod_role(o, pod));
	}
	/* A pod known before and absent now went away while nobody watched. */
	for (int i = 0; i < known; i++) {
		bool listed = false;

		for (size_t j = 0; j < json_object_array_length(items) && !listed; j++) {
			const char *name = k8s_jstr(json_object_array_get_idx(items, j), "metadata.name");
			char node[EVENT_NODE_LEN];

			str_copy(node, sizeof(node), name ? name : "");
			listed = strcmp(node, o->pods[i].name) == 0;
		}
		if (!listed)
			note(o, o->pods[i].name, "deleted");
	}
	json_object_put(items);
	return true;
}

static void sleep_unless_stopped(atomic_bool *stop, int64_t us)
{
	int64_t end = mono_now_us() + us;

	while (!atomic_load(stop) && mono_now_us() < end)
		sleep_us(20000);
}

bool k8s_observe(struct driver *d, struct event_log *log, atomic_bool *stop)
{
	struct observer *o;
	struct k8s_client c;
	struct k8s_ref ref = { "pods", d->ns, NULL };
	char sel[256], path[1024], *esc;
	int failures = 0;
	bool ok = true;

	if (d->c.dry_run)
		return true; /* nothing is sent in a dry run, and nothing would come back */
	o = xcalloc(1, sizeof(*o));
	o->log = log;
	o->stop = stop;
	if (!role_label(d->op, o)) {
		free(o);
		return false;
	}
	if (!k8s_client_init(&c, d->kubeconfig[0] ? d->kubeconfig : NULL, d->context[0] ? d->context : NULL,
			     false)) {
		free(o);
		return false;
	}
	c.timeout_us = OBSERVE_REQUEST_TIMEOUT_US;
	c.max_retries = OBSERVE_RETRIES;
	k8s_operator_selector(d->op, d->spec.name, sel, sizeof(sel));
	esc = k8s_escape(sel);
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods?labelSelector=%s", d->ns, esc);
	free(esc);
	while (!atomic_load(stop)) {
		bool step = o->rv[0] ? k8s_watch(&c, path, &ref, o->rv, OBSERVE_CHUNK_US, on_pod, o) :
				       list_pods(&c, path, &ref, o);

		if (step) {
			failures = 0;
			continue;
		}
		/* Errors are logged by the client; start over from a fresh list. */
		if (++failures >= OBSERVE_MAX_FAILURES) {
			log_error("observe: giving up on the pods' roles after %d failed attempts", failures);
			ok = false;
			break;
		}
		o->rv[0] = '\0';
		sleep_unless_stopped(stop, OBSERVE_RETRY_US);
	}
	k8s_client_free(&c);
	free(o);
	return ok;
}
