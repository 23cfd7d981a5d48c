/* access.c - the workload's way to PostgreSQL on Kubernetes. See access.h. */
#include "access.h"

#include "netpolicy.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVICE_NAME_MAX 63 /* a DNS-1035 label */

/* A port number of text, or -1. */
static int parse_port(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

bool k8s_access_parse(const char *spec, const char *nodeport_host, const char *context,
		      struct k8s_access *out, char *why, size_t why_len)
{
	const char *colon;
	unsigned char addr[sizeof(struct in6_addr)];

	memset(out, 0, sizeof(*out));
	if (!str_copy(out->host, sizeof(out->host), nodeport_host && *nodeport_host ? nodeport_host :
		      ACCESS_DEFAULT_HOST)) {
		str_format(why, why_len, "--pg-host %s is too long", nodeport_host);
		return false;
	}
	if (!spec || !*spec) {
		/* kind names its contexts kind-<cluster>; its nodePorts are mapped to the host. */
		out->mode = context && strncmp(context, "kind-", 5) == 0 ? K8S_ACCESS_NODEPORT : K8S_ACCESS_NONE;
		return true;
	}
	if (strcmp(spec, "none") == 0) {
		out->mode = K8S_ACCESS_NONE;
		return true;
	}
	if (strcmp(spec, "nodeport") == 0) {
		out->mode = K8S_ACCESS_NODEPORT;
		return true;
	}
	colon = strrchr(spec, ':');
	/* "[]:5432" names no host either. */
	if (!colon || colon == spec || (out->port = parse_port(colon + 1)) < 0 ||
	    (spec[0] == '[' && colon == spec + 2)) {
		str_format(why, why_len, "--pg-access %s: want nodeport, none or HOST:PORT", spec);
		return false;
	}
	/* "[v6]:port" loses its brackets: libpq wants the bare address. */
	if (spec[0] == '[' && colon[-1] == ']')
		str_format(out->host, sizeof(out->host), "%.*s", (int)(colon - spec - 2), spec + 1);
	else
		str_format(out->host, sizeof(out->host), "%.*s", (int)(colon - spec), spec);
	/* Unbracketed, "2001:db8::7:5432" could end in a port or not: brackets required. */
	if (strchr(out->host, ':') && (spec[0] != '[' || inet_pton(AF_INET6, out->host, addr) != 1)) {
		str_format(why, why_len, "--pg-access %s: write an IPv6 address as [ADDRESS]:PORT", spec);
		return false;
	}
	out->mode = K8S_ACCESS_ADDRESS;
	return true;
}

bool k8s_access_service_name(const char *cluster, const char *what, char *buf, size_t len)
{
	return str_format(buf, len, "bise-%s-%s", cluster, what) && strlen(buf) <= SERVICE_NAME_MAX;
}

/* "k=v,k=v" as a map; pairs without '=' (existence tests) cannot select a Service: skipped. */
static json_object *selector_map(const char *selector)
{
	json_object *m = json_object_new_object();
	char buf[512], *save = NULL;

	str_copy(buf, sizeof(buf), selector);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			continue;
		*eq = '\0';
		json_object_object_add(m, kv, json_object_new_string(eq + 1));
	}
	return m;
}

json_object *k8s_access_service(const char *ns, const char *cluster, const char *what,
				const char *selector, int node_port)
{
	json_object *o = json_object_new_object(), *s = json_object_new_object();
	json_object *ports = json_object_new_array(), *p = json_object_new_object();
	char name[K8S_NAME_LEN], run[32];

	k8s_access_service_name(cluster, what, name, sizeof(name));
	str_format(run, sizeof(run), "bise-%ld", (long)getpid());
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "kind", json_object_new_string("Service"));
	json_object_object_add(o, "metadata", netpolicy_meta(name, ns, cluster, run, ACCESS_LABEL, what));

	json_object_object_add(s, "type", json_object_new_string("NodePort"));
	json_object_object_add(s, "selector", selector_map(selector));
	json_object_object_add(p, "name", json_object_new_string("postgres"));
	json_object_object_add(p, "protocol", json_object_new_string("TCP"));
	json_object_object_add(p, "port", json_object_new_int(ACCESS_PG_PORT));
	json_object_object_add(p, "targetPort", json_object_new_int(ACCESS_PG_PORT));
	json_object_object_add(p, "nodePort", json_object_new_int(node_port));
	json_object_array_add(ports, p);
	json_object_object_add(s, "ports", ports);
	json_object_object_add(o, "spec", s);
	return o;
}

/* Replace every %s of pattern by name (selectors and Secret names hold it once or twice). */
static void fill_name(const char *pattern, const char *name, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const char *p = pattern; *p && n + 1 < len; p++) {
		if (p[0] == '%' && p[1] == 's') {
			str_copy(buf + n, len - n, name);
			n = strlen(buf);
			p++;
		} else {
			buf[n++] = *p;
			buf[n] = '\0';
		}
	}
}

/* POST one Service; one that exists already (409) is kept: it is ours by its name. */
static bool create_service(struct k8s_client *c, const char *ns, json_object *svc)
{
	char path[512];
	struct k8s_ref ref = { "service", ns, k8s_jstr(svc, "metadata.name") };

	str_format(path, sizeof(path), "/api/v1/namespaces/%s/services", ns);
	if (k8s_create(c, path, &ref, svc, K8S_QUIET_409, NULL))
		return true;
	if (c->status == 409) {
		log_debug("service %s/%s exists already: kept", ns, ref.name);
		return true;
	}
	return false;
}

bool k8s_access_ensure(struct k8s_client *c, const char *ns, const struct cluster_spec *spec,
		       const struct k8s_operator *op, const struct cnpg_member *m, int n)
{
	char sel[512], name[K8S_NAME_LEN];
	json_object *svc;
	bool ok;

	if (!op->primary_selector) {
		log_error("%s: no primary selector known: cannot expose its read-write service", op->title);
		return false;
	}
	for (int i = -1; i < spec->nzones; i++) {
		const char *what = i < 0 ? "rw" : spec->zones[i];

		if (!k8s_access_service_name(spec->name, what, name, sizeof(name))) {
			log_error("service name bise-%s-%s is longer than %d characters: use a shorter cluster "
				  "name", spec->name, what, SERVICE_NAME_MAX);
			return false;
		}
	}
	/* The zone Services select the zone label: the pods carry it first. */
	if (!netpolicy_label_pods(c, ns, spec->name, m, n))
		return false;
	fill_name(op->primary_selector, spec->name, sel, sizeof(sel));
	svc = k8s_access_service(ns, spec->name, "rw", sel, ACCESS_RW_NODEPORT);
	ok = create_service(c, ns, svc);
	json_object_put(svc);
	for (int i = 0; ok && i < spec->nzones; i++) {
		str_format(sel, sizeof(sel), NETPOL_CLUSTER_LABEL "=%s," K8S_ZONE_POD_LABEL "=%s", spec->name,
			   spec->zones[i]);
		svc = k8s_access_service(ns, spec->name, spec->zones[i], sel, ACCESS_ZONE_NODEPORT + i);
		ok = create_service(c, ns, svc);
		json_object_put(svc);
	}
	return ok;
}

bool k8s_access_remove(struct k8s_client *c, const char *ns, const char *cluster)
{
	char sel[256], path[768], *esc;
	struct k8s_ref ref = { "services", ns, NULL };
	json_object *items;
	bool ok = true;

	/* Services had no deletecollection before Kubernetes 1.23: one DELETE each. */
	str_format(sel, sizeof(sel), "app.kubernetes.io/managed-by=bise," NETPOL_CLUSTER_LABEL "=%s," ACCESS_LABEL,
		   cluster);
	esc = k8s_escape(sel);
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/services?labelSelector=%s", ns, esc);
	free(esc);
	if (!k8s_list(c, path, &ref, 100, &items, NULL, 0))
		return c->dry_run || c->status == 404;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		const char *name = k8s_jstr(json_object_array_get_idx(items, i), "metadata.name");
		struct k8s_ref one = { "service", ns, name };

		if (!name)
			continue;
		str_format(path, sizeof(path), "/api/v1/namespaces/%s/services/%s", ns, name);
		if (!k8s_delete(c, path, &one, NULL, K8S_QUIET_404, NULL) && c->status != 404)
			ok = false;
	}
	json_object_put(items);
	return ok;
}

/* Decode data.key of a Secret into buf; false when absent, not base64 or too long. */
static bool secret_value(json_object *secret, const char *key, char *buf, size_t len)
{
	json_object *data = k8s_jget(secret, "data"), *v;
	size_t n;
	char *text;
	bool ok;

	buf[0] = '\0';
	if (!data || !json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	if (!(text = k8s_base64_decode(json_object_get_string(v), &n)))
		return false;
	ok = strlen(text) == n && str_copy(buf, len, text);
	/* A password must not linger in freed memory. */
	memset(text, 0, n);
	free(text);
	if (!ok)
		buf[0] = '\0';
	return ok;
}

/* Fill ep from one Secret; false (logged) when a key is missing or unreadable. */
static bool take_secret(json_object *secret, const char *ns, const char *name, const struct k8s_operator *op,
			struct pg_endpoint *ep)
{
	char db[sizeof(ep->dbname)];

	if (!secret_value(secret, "username", ep->user, sizeof(ep->user)) &&
	    !secret_value(secret, "user", ep->user, sizeof(ep->user))) {
		log_error("secret %s/%s: no readable username (data.username or data.user)", ns, name);
		return false;
	}
	if (!secret_value(secret, "password", ep->password, sizeof(ep->password))) {
		log_error("secret %s/%s: no readable password (data.password, at most %zu bytes)", ns, name,
			  sizeof(ep->password) - 1);
		return false;
	}
	/* CloudNativePG's superuser Secret says dbname "*": any database. */
	if (secret_value(secret, "dbname", db, sizeof(db)) && strcmp(db, "*") != 0)
		str_copy(ep->dbname, sizeof(ep->dbname), db);
	else
		str_copy(ep->dbname, sizeof(ep->dbname), op->dbname ? op->dbname : "postgres");
	log_debug("PostgreSQL credentials from secret %s/%s: user %s, database %s", ns, name, ep->user,
		  ep->dbname);
	return true;
}

bool k8s_access_credentials(struct k8s_client *c, const char *ns, const char *cluster,
			    const struct k8s_operator *op, struct pg_endpoint *ep)
{
	char names[512], tried[1024] = "", buf[512], *save = NULL;

	if (!op->secrets) {
		log_error("%s: no credentials Secret known", op->title);
		return false;
	}
	str_copy(names, sizeof(names), op->secrets);
	for (char *pat = strtok_r(names, ",", &save); pat; pat = strtok_r(NULL, ",", &save)) {
		char name[K8S_NAME_LEN], path[512];
		struct k8s_ref ref = { "secret", ns, name };
		json_object *o;
		bool ok;

		fill_name(pat, cluster, name, sizeof(name));
		str_format(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, name);
		if (!k8s_get(c, path, &ref, K8S_QUIET_404, &o)) {
			if (c->status != 404)
				return false;
			str_copy(buf, sizeof(buf), tried);
			str_format(tried, sizeof(tried), "%s%s%s", buf, buf[0] ? ", " : "", name);
			continue;
		}
		ok = take_secret(o, ns, name, op, ep);
		json_object_put(o);
		return ok;
	}
	log_error("no PostgreSQL credentials for %s %s/%s: none of the secrets %s exists (the operator "
		  "creates them once the cluster is initialised)", op->title, ns, cluster, tried);
	return false;
}

void k8s_access_member_endpoint(const struct k8s_access *a, const struct cluster_spec *spec,
				const char *zone, const char *pod_ip, const struct pg_endpoint *creds,
				struct pg_endpoint *out)
{
	*out = *creds;
	out->host[0] = '\0';
	out->port = ACCESS_PG_PORT;
	/* No path probes: a node's or a pod's ports are not bise's to probe, and a NodePort proxies. */
	out->reach_port = 0;
	if (a->mode == K8S_ACCESS_NONE) {
		str_copy(out->host, sizeof(out->host), pod_ip ? pod_ip : "");
		return;
	}
	if (a->mode != K8S_ACCESS_NODEPORT)
		return; /* behind a LoadBalancer the members themselves are out of reach */
	for (int i = 0; i < spec->nzones; i++)
		if (zone && strcmp(spec->zones[i], zone) == 0) {
			str_copy(out->host, sizeof(out->host), a->host);
			out->port = ACCESS_ZONE_NODEPORT + i;
		}
}

void k8s_access_entry(const struct k8s_access *a, const struct pg_endpoint *creds, struct pg_endpoint *out)
{
	*out = *creds;
	out->host[0] = '\0';
	out->port = 0;
	out->reach_port = 0;
	if (a->mode == K8S_ACCESS_NODEPORT) {
		str_copy(out->host, sizeof(out->host), a->host);
		out->port = ACCESS_RW_NODEPORT;
	} else if (a->mode == K8S_ACCESS_ADDRESS) {
		str_copy(out->host, sizeof(out->host), a->host);
		out->port = a->port;
	}
}
