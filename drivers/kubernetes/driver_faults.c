/*
 * driver_faults.c - the kubernetes backend's faults: zone partitions as NetworkPolicies (or
 * Chaos Mesh NetworkChaos), delay, loss and bandwidth and disk faults through Chaos Mesh,
 * zone-outage as cordon plus isolation, the tick that re-labels pods recreated during a
 * fault, what is skipped and why, and the sweep that removes everything bise left.
 */
#include "driver_int.h"

#include "chaosmesh.h"
#include "nodes.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Chaos Mesh present: 1, absent: 0 (why says so), -1 the API failed (logged). */
static int chaos_mesh(struct driver *d, char *why, size_t why_len)
{
	int r = chaosmesh_available(&d->c, why, why_len);

	if (r < 0)
		log_error("%s", why);
	return r;
}

/* The fault whose NetworkPolicy selects zone now, or NULL. */
static const char *policied_by(const struct driver *d, const char *zone)
{
	for (int i = 0; i < d->npolicied; i++)
		if (strcmp(d->policied[i].zone, zone) == 0)
			return d->policied[i].id;
	return NULL;
}

static void policied_add(struct driver *d, const char *id, const char *zone)
{
	if (d->npolicied == K8S_MAX_POLICIED) {
		log_warn("more than %d zones under NetworkPolicies at once: overlaps go unchecked",
			 K8S_MAX_POLICIED);
		return;
	}
	str_copy(d->policied[d->npolicied].id, sizeof(d->policied[0].id), id);
	str_copy(d->policied[d->npolicied].zone, sizeof(d->policied[0].zone), zone);
	d->npolicied++;
}

static void policied_remove(struct driver *d, const char *id)
{
	for (int i = 0; i < d->npolicied;)
		if (strcmp(d->policied[i].id, id) == 0)
			d->policied[i] = d->policied[--d->npolicied];
		else
			i++;
}

/* The zones of one side of f, the client left out. */
static int side_zones(const char (*side)[ZONE_NAME_LEN], int n, char (*out)[ZONE_NAME_LEN])
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (strcmp(side[i], PARTY_CLIENT) != 0)
			str_copy(out[k++], ZONE_NAME_LEN, side[i]);
	return k;
}

/*
 * How f can be set up: 1 as a NetworkChaos (when Chaos Mesh is there, cm 1, and can select
 * it), 0 as NetworkPolicies on the side without the client, on zones no other policy of
 * bise selects (policies add up: a second one would widen the first), -1 neither: why
 * says so. cm_why: why Chaos Mesh is absent, when it is. *policied_a (for 0): the
 * policies go on a's zones, else b's; *rest (for 1): f as Chaos Mesh selects it.
 */
static int net_method(struct driver *d, const struct net_fault *f, int cm, const char *cm_why,
		      bool *policied_a, struct net_fault *rest, char *why, size_t why_len)
{
	char zones[NET_MAX_PARTIES][ZONE_NAME_LEN], cm_no[512] = "";
	const char *other;
	int n;

	if (cm == 1) {
		if (chaosmesh_client_as_rest(&d->spec, f, rest, cm_no, sizeof(cm_no)))
			return 1;
		cm_why = cm_no;
	}
	if (!netpolicy_expressible(f, policied_a, why, why_len)) {
		n = (int)strlen(why);
		str_format(why + n, why_len - (size_t)n, "; %s%s", cm == 1 ? "" : "needs Chaos Mesh: ",
			   cm_why);
		return -1;
	}
	n = *policied_a ? side_zones(f->a, f->na, zones) : side_zones(f->b, f->nb, zones);
	for (int i = 0; i < n; i++)
		if ((other = policied_by(d, zones[i]))) {
			str_format(why, why_len, "%s is already under a NetworkPolicy of %s, and policies add "
				   "up (a second one would widen the first); %s%s", zones[i], other,
				   cm == 1 ? "" : "needs Chaos Mesh: ", cm_why);
			return -1;
		}
	return 0;
}

/* Whether f can be set up as it is (a pair of a network fault): see k8s_can. */
static bool net_supported(struct driver *d, const struct net_fault *f, char *why, size_t why_len)
{
	char reason[512];
	int cm = chaosmesh_available(&d->c, reason, sizeof(reason));
	struct net_fault rest;
	bool policied_a;

	/* An API failure is no reason to skip: the apply will fail and say why. */
	return cm < 0 || net_method(d, f, cm, reason, &policied_a, &rest, why, why_len) >= 0;
}

/*
 * Chaos Mesh when installed and able to select f (its partition cuts established
 * connections too, which a NetworkPolicy may not); otherwise NetworkPolicies.
 */
bool k8s_net_apply(struct driver *d, const struct net_fault *f)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	char why[512], reason[512], side[NET_MAX_PARTIES][ZONE_NAME_LEN];
	char cut[NET_MAX_PARTIES][ZONE_NAME_LEN];
	struct net_fault rest;
	json_object *o;
	int n, cm, nside, ncut;
	bool ok, policied_a;

	if (!k8s_ns_allowed(d, "inject a network fault"))
		return false;
	if ((n = d->op->members(&d->c, d->ns, d->spec.name, m, DRIVER_MAX_MEMBERS)) < 0 ||
	    (cm = chaos_mesh(d, reason, sizeof(reason))) < 0)
		return false;
	switch (net_method(d, f, cm, reason, &policied_a, &rest, why, sizeof(why))) {
	case 0:
		nside = policied_a ? side_zones(f->a, f->na, side) : side_zones(f->b, f->nb, side);
		ncut = policied_a ? side_zones(f->b, f->nb, cut) : side_zones(f->a, f->na, cut);
		/* Recorded first: a half-made partition still gets its recreated pods labelled. */
		netpolicy_active_add(&d->active, f->id);
		for (int i = 0; i < nside; i++)
			policied_add(d, f->id, side[i]);
		return netpolicy_partition(&d->c, d->ns, d->spec.name, m, n, side, nside, cut, ncut,
					   f->id);
	case 1:
		break;
	default:
		log_error("network fault %s unsupported: %s", f->id, why);
		return false;
	}
	netpolicy_active_add(&d->active, f->id);
	if (!netpolicy_label_pods(&d->c, d->ns, d->spec.name, m, n))
		return false;
	if (!(o = chaosmesh_network_object(d->ns, d->spec.name, &rest, why, sizeof(why)))) {
		log_error("network fault %s unsupported: %s", f->id, why);
		return false;
	}
	ok = chaosmesh_create(&d->c, d->ns, o);
	json_object_put(o);
	return ok;
}

bool k8s_net_revert(struct driver *d, const char *id)
{
	char sel[128];
	bool ok = netpolicy_revert(&d->c, d->ns, id);

	str_format(sel, sizeof(sel), NETPOL_FAULT_LABEL "=%s", id);
	ok = chaosmesh_delete_selected(&d->c, d->ns, sel) && ok;
	if (ok) {
		netpolicy_active_remove(&d->active, id);
		policied_remove(d, id);
	}
	return ok;
}

/* "<namespace>/<cluster>": whose node cordons these are. */
static void cordon_owner(const struct driver *d, char *buf, size_t len)
{
	str_format(buf, len, "%s/%s", d->ns, d->spec.name);
}

/*
 * A zone outage on a real cluster, where bise has no power switch: the zone's nodes are
 * cordoned (nothing new lands there) and its pods cut off from everything, both ways,
 * the client included: a NetworkPolicy, plus a NetworkChaos when Chaos Mesh is installed
 * (it also cuts established connections). The pods keep running: isolation, not a power
 * loss (the kind backend stops the node containers instead).
 */
bool k8s_zone_stop(struct driver *d, const char *zone)
{
	struct cnpg_member m[DRIVER_MAX_MEMBERS];
	char run[64], owner[192], why[512], id[96];
	json_object *o;
	int n, cm;
	bool ok;

	if (!k8s_ns_allowed(d, "take a zone down"))
		return false;
	str_format(run, sizeof(run), "bise-%d", (int)getpid());
	cordon_owner(d, owner, sizeof(owner));
	if ((n = d->op->members(&d->c, d->ns, d->spec.name, m, DRIVER_MAX_MEMBERS)) < 0 ||
	    (cm = chaos_mesh(d, why, sizeof(why))) < 0)
		return false;
	str_format(id, sizeof(id), "outage-%s", zone);
	if (cm == 0 && policied_by(d, zone)) {
		log_error("zone-outage of %s: the zone is under a NetworkPolicy of %s already, which would "
			  "let through what the outage's policy denies (policies add up): needs Chaos Mesh",
			  zone, policied_by(d, zone));
		return false;
	}
	netpolicy_active_add(&d->active, id);
	policied_add(d, id, zone);
	if (nodes_cordon_zone(&d->c, zone, run, owner) < 0 ||
	    !netpolicy_isolate_zone(&d->c, d->ns, d->spec.name, m, n, zone, run))
		return false;
	if (cm == 0)
		return true;
	o = chaosmesh_isolate_object(d->ns, d->spec.name, zone, run);
	ok = chaosmesh_create(&d->c, d->ns, o);
	json_object_put(o);
	return ok;
}

/* Undo k8s_zone_stop whatever run did it: policies and experiments by label, bise's cordons. */
bool k8s_zone_start(struct driver *d, const char *zone)
{
	char sel[256], owner[192], id[96];
	bool ok = netpolicy_zone_restore(&d->c, d->ns, d->spec.name, zone);

	str_format(sel, sizeof(sel), NETPOL_CLUSTER_LABEL "=%s," NETPOL_OUTAGE_LABEL "=%s", d->spec.name,
		   zone);
	ok = chaosmesh_delete_selected(&d->c, d->ns, sel) && ok;
	cordon_owner(d, owner, sizeof(owner));
	ok = nodes_uncordon(&d->c, zone, owner) && ok;
	str_format(id, sizeof(id), "outage-%s", zone);
	if (ok) {
		netpolicy_active_remove(&d->active, id);
		policied_remove(d, id);
	}
	return ok;
}

/*
 * While a network fault or zone outage holds, an instance pod the operator recreates
 * comes back without bise.io/zone and so outside the policy or experiment: label it.
 */
bool k8s_tick(struct driver *d)
{
	char sel[256];

	if (d->active.n == 0 || d->c.dry_run)
		return true;
	k8s_operator_selector(d->op, d->spec.name, sel, sizeof(sel));
	return netpolicy_relabel(&d->c, d->ns, d->spec.name, sel) >= 0;
}

bool k8s_io_fault(struct driver *d, const char *member, const struct io_fault *f)
{
	char why[512], id[K8S_NAME_LEN];
	json_object *o;
	int cm;
	bool ok;

	if (!k8s_ns_allowed(d, "inject a storage fault") || (cm = chaos_mesh(d, why, sizeof(why))) < 0)
		return false;
	if (cm == 0) {
		log_error("storage fault on %s unsupported: %s", member, why);
		return false;
	}
	str_format(id, sizeof(id), "bise-io-%s", member);
	o = chaosmesh_io_object(d->ns, d->spec.name, member, d->op->data_path, f, id);
	ok = chaosmesh_create(&d->c, d->ns, o);
	json_object_put(o);
	return ok;
}

bool k8s_io_heal(struct driver *d, const char *member)
{
	char sel[256];

	str_format(sel, sizeof(sel), NETPOL_CLUSTER_LABEL "=%s," CHAOSMESH_MEMBER_LABEL "=%s",
		   d->spec.name, member);
	return chaosmesh_delete_selected(&d->c, d->ns, sel);
}

/* What only Chaos Mesh provides, as a skip reason names it. */
static const struct {
	unsigned cap;
	const char *what;
} chaos_only[] = {
	{ DRIVER_CAP_NET_LOSS, "random packet loss (a NetworkPolicy only cuts)" },
	{ DRIVER_CAP_NET_LATENCY, "latency" },
	{ DRIVER_CAP_NET_BANDWIDTH, "bandwidth limits" },
	{ DRIVER_CAP_STORAGE_STALL, "storage faults (IOChaos)" },
};

/* What no Kubernetes cluster gives bise, Chaos Mesh or not. */
static const struct {
	unsigned cap;
	const char *what;
} never[] = {
	{ DRIVER_CAP_PAUSE, "process-pause needs a freeze: Chaos Mesh has none (PodChaos only does "
			    "pod-kill, pod-failure, container-kill)" },
	{ DRIVER_CAP_IO_THROTTLE, "io-throttle needs a blkio limit on the member's processes: neither "
				  "Kubernetes nor Chaos Mesh sets one" },
	{ DRIVER_CAP_KILL_POSTMASTER, "process-kill needs the postmaster alone: on Kubernetes bise kills "
				      "whole pods only" },
};

/*
 * Loss, client cuts, latency, bandwidth and disk faults exist only through Chaos Mesh:
 * without it, a skip. Asked about a capability the backend lacks, it says why.
 */
static bool supports(struct driver *d, unsigned caps, char *why, size_t why_len)
{
	char reason[512];
	const char *what = NULL;

	if ((caps & DRIVER_CAP_SQL) && d->access.mode == K8S_ACCESS_NONE) {
		str_format(why, why_len, "no access to PostgreSQL from here: use --pg-access (nodeport on "
			   "kind, HOST:PORT of the operator's external read-write service)");
		return false;
	}
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (caps & never[i].cap) {
			str_copy(why, why_len, never[i].what);
			return false;
		}
	for (size_t i = 0; i < sizeof(chaos_only) / sizeof(chaos_only[0]) && !what; i++)
		if (caps & chaos_only[i].cap)
			what = chaos_only[i].what;
	if (!what)
		return true;
	/*
	 * An API failure is no reason to skip: the apply will fail and say so. A dry run reads
	 * nothing, so Chaos Mesh looks absent there, as it would to the apply.
	 */
	if (chaosmesh_available(&d->c, reason, sizeof(reason)) != 0)
		return true;
	str_format(why, why_len, "needs Chaos Mesh: %s; %s", what, reason);
	return false;
}

/* The capabilities first (Chaos Mesh, access), then each pair as it is. */
bool k8s_can(struct driver *d, const struct fault_request *req, char *why, size_t why_len)
{
	if (!supports(d, req->caps, why, why_len))
		return false;
	for (int i = 0; i < req->nnet; i++)
		if (!net_supported(d, &req->net[i], why, why_len))
			return false;
	return true;
}

bool k8s_sweep(struct driver *d)
{
	char sel[256], owner[192];
	bool ok = netpolicy_sweep(&d->c, d->ns, d->spec.name);

	str_format(sel, sizeof(sel), "app.kubernetes.io/managed-by=bise," NETPOL_CLUSTER_LABEL "=%s",
		   d->spec.name);
	ok = chaosmesh_delete_selected(&d->c, d->ns, sel) && ok;
	cordon_owner(d, owner, sizeof(owner));
	ok = nodes_uncordon(&d->c, NULL, owner) && ok;
	ok = k8s_access_remove(&d->c, d->ns, d->spec.name) && ok;
	if (ok) {
		d->active.n = 0;
		d->npolicied = 0;
	}
	return ok;
}
