/*
 * scenario.c - load a scenario file with libyaml's document API and check it.
 *
 * Every problem is reported, not just the first, each with the line and column of the
 * node at fault, so a user fixes a file in one pass. Each mapping is first collected
 * (unknown and duplicated keys reported there), then its values are checked in a fixed
 * order, so cluster.zones is known before step targets whatever the order in the file.
 * This file holds the format's top level, cluster, workload and slo sections; steps are in
 * scenario_steps.c, the generic YAML helpers in scenario_yaml.c.
 */
#include "scenario.h"
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_steps.h"
#include "scenario_yaml.h"
#include "slo_spec.h"
#include "units.h"
#include "util.h"

#define MAX_FAULT_DEFAULT_US (10 * 60 * INT64_C(1000000))

/* ---- limits that protect a run (each a typo more often than a wish) ---- */

#define SEC_US INT64_C(1000000)
#define RATE_MAX_PER_WRITER 10000.0          /* a writer's round trip alone is ~0.1 ms */
#define MAX_FAULT_LIMIT_US (6 * 3600 * SEC_US) /* max_fault_duration */
#define TIMEOUT_LIMIT_US (3600 * SEC_US)      /* connect and write timeouts */
#define PATRONI_TIMING_LIMIT_US (3600 * SEC_US) /* ttl, loop_wait, retry_timeout, restart_delay */

/*
 * Every writer and reader may land on the same member (the primary), beside the watcher's
 * probe, the read-back and what Patroni holds: together within max_connections.
 */
static void check_connections(struct loader *ld, yaml_node_t *at, const struct workload_spec *w)
{
	int total = workload_total_writers(w), budget;
	char hint[160];

	budget = CLUSTER_MAX_CONNECTIONS - CLUSTER_RESERVED_CONNECTIONS - WORKLOAD_EXTRA_CONNECTIONS;
	if (total + w->readers <= budget)
		return;
	str_format(hint, sizeof(hint), "at most %d writers and readers together; lower writers or readers",
		   budget);
	sy_report(ld, sy_pos(at), hint,
		  "%d writers and %d readers, with the watcher and the read-back, need %d connections "
		  "to the primary; its max_connections is %d, %d of them kept for Patroni",
		  total, w->readers, total + w->readers + WORKLOAD_EXTRA_CONNECTIONS,
		  CLUSTER_MAX_CONNECTIONS, CLUSTER_RESERVED_CONNECTIONS);
}

/* ---- cluster ---- */

enum { CL_NAME, CL_ZONES, CL_REPLICATION, CL_DCS, CL_TTL, CL_LOOP, CL_RETRY, CL_LAG, CL_RESTART,
	CL_FUSE, CL_SUBNET };
static const char *const cluster_keys[] = { "name", "zones", "replication", "dcs_api", "ttl",
	"loop_wait", "retry_timeout", "maximum_lag_on_failover", "restart_delay", "fuse", "subnet",
	NULL };

static bool load_zones(struct loader *ld, yaml_node_t *seq, struct cluster_spec *c)
{
	yaml_node_item_t *it, *start;
	int n, i = 0;
	bool ok = true;

	if (seq->type != YAML_SEQUENCE_NODE) {
		sy_report(ld, sy_pos(seq), "e.g. [geneva, lucerne, gland]",
			  "cluster.zones must be a sequence, not %s", sy_kind(seq));
		return false;
	}
	start = seq->data.sequence.items.start;
	n = (int)(seq->data.sequence.items.top - start);
	if (n < 2 || n > SCENARIO_MAX_ZONES) {
		sy_report(ld, sy_pos(seq), "a replicated cluster needs 2 to 8 zones",
			  "cluster.zones has %d zone%s", n, n == 1 ? "" : "s");
		return false;
	}
	for (it = start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *z = sy_node(ld, *it);
		const char *name = sy_scalar(ld, z, "a zone");

		if (!name) {
			ok = false;
			continue;
		}
		if (!sy_ident_ok(name, false, false, ZONE_NAME_LEN - 6)) {
			sy_report(ld, sy_pos(z), "lower-case letters and digits, starting with a letter, at most 10 characters",
				  "zone name \"%s\" is not valid", name);
			ok = false;
			continue;
		}
		for (yaml_node_item_t *prev = start; prev < it; prev++) {
			yaml_node_t *pz = sy_node(ld, *prev);
			char hint[64];

			if (pz->type == YAML_SCALAR_NODE && strcmp(sy_text(pz), name) == 0) {
				str_format(hint, sizeof(hint), "first listed at line %d, column %d",
					   sy_pos(pz).line, sy_pos(pz).col);
				sy_report(ld, sy_pos(z), hint, "zone \"%s\" is listed twice", name);
				ok = false;
				break;
			}
		}
		str_copy(c->zones[i], sizeof(c->zones[i]), name);
	}
	if (ok)
		c->nzones = n;
	return ok;
}

static void check_patroni_timing(struct loader *ld, yaml_node_t **vals, const struct cluster_spec *c)
{
	yaml_node_t *at = vals[CL_TTL] ? vals[CL_TTL] : vals[CL_RETRY] ? vals[CL_RETRY] : vals[CL_LOOP];
	char lw[24], rt[24], ttl[24], need[24], hint[128];
	int64_t sum;

	/* Each is at most SY_MAX_DURATION_US when loaded; a sum past that is refused unadded. */
	if (c->loop_wait_us > SY_MAX_DURATION_US || c->retry_timeout_us > SY_MAX_DURATION_US)
		return;
	sum = c->loop_wait_us + 2 * c->retry_timeout_us;
	if (sum <= c->ttl_us || !at)
		return;
	sy_compact_duration(c->loop_wait_us, lw, sizeof(lw));
	sy_compact_duration(c->retry_timeout_us, rt, sizeof(rt));
	sy_compact_duration(c->ttl_us, ttl, sizeof(ttl));
	sy_compact_duration(sum, need, sizeof(need));
	str_format(hint, sizeof(hint), "raise ttl to at least %s, or lower loop_wait or retry_timeout",
		   need);
	sy_report(ld, sy_pos(at), hint,
		  "loop_wait + 2*retry_timeout must be <= ttl, Patroni needs it: %s + 2*%s = %s > ttl %s",
		  lw, rt, need, ttl);
}

/* A private /24 written 10.214.0.0/24, kept as its first three octets: "10.214.0". */
static void load_subnet(struct loader *ld, yaml_node_t *n, struct cluster_spec *c)
{
	static const char *const ranges = "a /24 within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, e.g. 10.214.0.0/24";
	const char *text = sy_scalar(ld, n, "cluster.subnet"), *slash;
	char addr[INET_ADDRSTRLEN], hint[64];
	struct in_addr in;
	uint32_t a;

	if (!text)
		return;
	slash = strchr(text, '/');
	if (!slash || (size_t)(slash - text) >= sizeof(addr)) {
		sy_report(ld, sy_pos(n), ranges, "cluster.subnet \"%s\" is not ADDRESS/24", text);
		return;
	}
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1) {
		sy_report(ld, sy_pos(n), ranges, "cluster.subnet: \"%s\" is not an IPv4 address", addr);
		return;
	}
	if (strcmp(slash + 1, "24") != 0) {
		sy_report(ld, sy_pos(n), "the zones take .11, .12, ... of one /24, e.g. 10.214.0.0/24",
			  "cluster.subnet must be a /24, not /%s", slash + 1);
		return;
	}
	a = ntohl(in.s_addr);
	if (a & 0xff) {
		str_format(hint, sizeof(hint), "write %u.%u.%u.0/24", a >> 24, (a >> 16) & 0xff,
			   (a >> 8) & 0xff);
		sy_report(ld, sy_pos(n), hint, "cluster.subnet %s: the last octet must be 0", text);
		return;
	}
	/* Only private ranges: the zones' addresses must never shadow a real network. */
	if (a >> 24 != 10 && a >> 20 != 0xac1 && a >> 16 != 0xc0a8) {
		sy_report(ld, sy_pos(n), ranges, "cluster.subnet %s is not a private range", text);
		return;
	}
	str_format(c->subnet, sizeof(c->subnet), "%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		   (a >> 8) & 0xff);
}

/* Patroni's timings within an hour: beyond that a failover is never seen in a trial. */
static void check_cluster_limits(struct loader *ld, yaml_node_t **vals, const struct cluster_spec *c)
{
	static const int keys[] = { CL_TTL, CL_LOOP, CL_RETRY, CL_RESTART };
	const int64_t *values[] = { &c->ttl_us, &c->loop_wait_us, &c->retry_timeout_us,
		&c->restart_delay_us };
	char what[48];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!vals[keys[i]])
			continue;
		str_format(what, sizeof(what), "cluster.%s", cluster_keys[keys[i]]);
		sy_duration_max(ld, vals[keys[i]], what, *values[i], PATRONI_TIMING_LIMIT_US);
	}
}

/*
 * The cluster section, or a variant's overrides of it (variant): the same keys and checks,
 * except name and zones, which a variant may not change (its cluster is renamed by the
 * runner and its zones are the scenario's, which step targets were checked against).
 */
static void load_cluster(struct loader *ld, yaml_node_t *map, struct cluster_spec *c, bool variant)
{
	static const char *const replication[] = { "async", "synchronous", NULL };
	static const char *const dcs[] = { "v3", "v2", NULL };
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];
	bool timing_ok = true;
	const char *text;
	char why[160];
	int k;

	if (!sy_collect(ld, map, variant ? "a variant's cluster" : "cluster", cluster_keys, NULL, vals,
			keys)) {
		if (!variant)
			ld->zones_ok = true; /* the defaults still stand */
		return;
	}
	if (variant && (vals[CL_NAME] || vals[CL_ZONES])) {
		k = vals[CL_NAME] ? CL_NAME : CL_ZONES;
		sy_report(ld, sy_pos(keys[k]), k == CL_NAME ? "a variant runs on cluster <name>-<variant>"
							    : "variants compare settings on the same zones",
			  "a variant may not override cluster.%s", cluster_keys[k]);
		vals[CL_NAME] = vals[CL_ZONES] = NULL;
	}
	if (vals[CL_NAME] && (text = sy_scalar(ld, vals[CL_NAME], "cluster.name"))) {
		if (sy_ident_ok(text, false, true, 20))
			str_copy(c->name, sizeof(c->name), text);
		else
			sy_report(ld, sy_pos(vals[CL_NAME]),
				  "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
				  "cluster.name \"%s\" is not valid", text);
	}
	if (!variant)
		ld->zones_ok = !vals[CL_ZONES] || load_zones(ld, vals[CL_ZONES], c);
	if (vals[CL_REPLICATION] && (k = sy_choice(ld, vals[CL_REPLICATION], "cluster.replication",
						   replication)) >= 0)
		c->replication = k == 0 ? REPLICATION_ASYNC : REPLICATION_SYNC;
	if (vals[CL_DCS] && (k = sy_choice(ld, vals[CL_DCS], "cluster.dcs_api", dcs)) >= 0)
		c->dcs_api = k == 0 ? DCS_ETCD_V3 : DCS_ETCD_V2;
	if (vals[CL_TTL])
		timing_ok &= sy_duration(ld, vals[CL_TTL], "cluster.ttl", true, &c->ttl_us);
	if (vals[CL_LOOP])
		timing_ok &= sy_duration(ld, vals[CL_LOOP], "cluster.loop_wait", true, &c->loop_wait_us);
	if (vals[CL_RETRY])
		timing_ok &= sy_duration(ld, vals[CL_RETRY], "cluster.retry_timeout", true,
					 &c->retry_timeout_us);
	if (timing_ok)
		check_patroni_timing(ld, vals, c);
	if (vals[CL_LAG] && (text = sy_scalar(ld, vals[CL_LAG], "cluster.maximum_lag_on_failover")) &&
	    !size_parse(text, &c->maximum_lag_on_failover_bytes, why, sizeof(why)))
		sy_report(ld, sy_pos(vals[CL_LAG]), NULL, "cluster.maximum_lag_on_failover: %s", why);
	if (vals[CL_RESTART])
		sy_duration(ld, vals[CL_RESTART], "cluster.restart_delay", false, &c->restart_delay_us);
	if (vals[CL_FUSE])
		sy_bool(ld, vals[CL_FUSE], "cluster.fuse", &c->fuse);
	if (vals[CL_SUBNET])
		load_subnet(ld, vals[CL_SUBNET], c);
	check_cluster_limits(ld, vals, c);
}

/* ---- workload ---- */

enum { WL_WRITERS, WL_CLIENTS, WL_RATE, WL_CONNECT, WL_WRITE, WL_READERS, WL_READ_FROM, WL_PROBE };
static const char *const workload_keys[] = { "writers", "clients", "rate", "connect_timeout",
	"write_timeout", "readers", "read_from", "probe_rate", NULL };
/* Same order as enum read_target. */
static const char *const read_from_names[] = { "primary", "replica", "any", NULL };

const char *read_target_name(enum read_target t)
{
	return (unsigned)t < 3 ? read_from_names[t] : "?";
}

bool read_target_parse(const char *name, enum read_target *out)
{
	for (int i = 0; read_from_names[i]; i++) {
		if (strcmp(name, read_from_names[i]) == 0) {
			*out = (enum read_target)i;
			return true;
		}
	}
	return false;
}

enum { CG_ZONE, CG_WRITERS };
static const char *const client_keys[] = { "zone", "writers", NULL };

/*
 * The zone of a client group: one of cluster.zones (load_top loads the cluster first,
 * whatever the order in the file) and not given to an earlier group.
 */
static bool load_client_zone(struct loader *ld, yaml_node_t *n, const struct workload_spec *w,
			     struct client_group *g)
{
	const struct cluster_spec *c = &ld->sc->cluster;
	const char *text = sy_scalar(ld, n, "zone"), *zones[SCENARIO_MAX_ZONES + 1];
	char hint[256];
	int i;

	if (!text)
		return false;
	for (i = 0; i < c->nzones; i++)
		zones[i] = c->zones[i];
	zones[i] = NULL;
	if (!sy_listed(zones, text)) {
		/* A bad cluster.zones is already reported; do not pile up errors. */
		if (ld->zones_ok) {
			sy_suggest(text, zones, NULL, "zones", hint, sizeof(hint));
			sy_report(ld, sy_pos(n), hint, "client zone \"%s\" is not a zone of this cluster",
				  text);
		}
		return false;
	}
	for (i = 0; i < w->nclient_groups; i++) {
		if (strcmp(w->client_groups[i].zone, text) == 0) {
			str_format(hint, sizeof(hint), "first given at line %d, column %d; one group per zone",
				   w->client_groups[i].pos.line, w->client_groups[i].pos.col);
			sy_report(ld, sy_pos(n), hint, "zone \"%s\" already has a client group", text);
			return false;
		}
	}
	str_copy(g->zone, sizeof(g->zone), text);
	g->pos = sy_pos(n);
	return true;
}

static bool load_client_group(struct loader *ld, yaml_node_t *map, const struct workload_spec *w,
			      struct client_group *g)
{
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];
	bool ok;

	if (map->type != YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(map), "e.g. \"- {zone: geneva, writers: 2}\"",
			  "a client group must be a mapping, not %s", sy_kind(map));
		return false;
	}
	if (!sy_collect(ld, map, "a client group", client_keys, NULL, vals, keys))
		return false;
	ok = vals[CG_ZONE] ? load_client_zone(ld, vals[CG_ZONE], w, g) : false;
	if (!vals[CG_ZONE])
		sy_report(ld, sy_pos(map), "add e.g. \"zone: geneva\"", "a client group needs a zone");
	if (!vals[CG_WRITERS]) {
		sy_report(ld, sy_pos(map), "add e.g. \"writers: 2\"", "a client group needs writers");
		return false;
	}
	return sy_int(ld, vals[CG_WRITERS], "writers", 1, 64, &g->writers) && ok;
}

/* Writers placed inside zones; false when any group is wrong (reported). */
static bool load_clients(struct loader *ld, yaml_node_t *seq, struct workload_spec *w)
{
	bool ok = true;

	if (sy_is_null(seq))
		return true;
	if (seq->type != YAML_SEQUENCE_NODE) {
		sy_report(ld, sy_pos(seq), "a list such as [{zone: geneva, writers: 2}]",
			  "workload.clients must be a sequence, not %s", sy_kind(seq));
		return false;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		struct client_group *g = &w->client_groups[w->nclient_groups];
		yaml_node_t *item = sy_node(ld, *it);

		if (w->nclient_groups == WORKLOAD_MAX_CLIENT_GROUPS) {
			sy_report(ld, sy_pos(item), "one group per zone; give it more writers",
				  "too many client groups (at most %d)", WORKLOAD_MAX_CLIENT_GROUPS);
			return false;
		}
		if (load_client_group(ld, item, w, g))
			w->nclient_groups++;
		else
			ok = false;
	}
	return ok;
}

/* Writers outside and inside the zones together: 1 to 64. */
static void check_total_writers(struct loader *ld, yaml_node_t **vals, const struct workload_spec *w)
{
	int total = workload_total_writers(w);

	if (total == 0)
		sy_report(ld, sy_pos(vals[WL_WRITERS]), "set writers to 1 or more, or add clients with writers",
			  "the workload has no writers: writers is 0 and no client group has any");
	else if (total > 64)
		sy_report(ld, sy_pos(vals[WL_CLIENTS] ? vals[WL_CLIENTS] : vals[WL_WRITERS]),
			  "at most 64 in all; lower writers or the client groups' writers",
			  "the workload has %d writers in all (%d outside the zones, %d in client groups)",
			  total, w->writers, total - w->writers);
}

#define MIN_RATE 0.001
/* Connection attempts per second: one per 100 ms at least, and no flood of forks. */
#define PROBE_RATE_MIN 10
#define PROBE_RATE_MAX 1000
#define MAX_RATE 1e6

static void load_rate(struct loader *ld, yaml_node_t *n, struct workload_spec *w)
{
	const char *text = sy_scalar(ld, n, "workload.rate");
	char *end;
	double v;

	if (!text)
		return;
	if (strcmp(text, "unthrottled") == 0) {
		w->rate_per_writer = 0;
		return;
	}
	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end || errno || !isfinite(v) || v <= 0) {
		sy_report(ld, sy_pos(n), "writes per second per writer, a number > 0, or unthrottled",
			  "workload.rate: \"%s\" is not a rate", text);
		return;
	}
	/* The writer's interval is 1/rate in microseconds: both must fit an int64 with room. */
	if (v < MIN_RATE || v > MAX_RATE) {
		sy_report(ld, sy_pos(n), "from 0.001 to 1000000 writes per second per writer, or unthrottled",
			  "workload.rate: %s is out of range", text);
		return;
	}
	w->rate_per_writer = v;
}

static void check_workload_limits(struct loader *ld, yaml_node_t **vals, const struct workload_spec *w)
{
	char hint[160];

	if (vals[WL_CONNECT])
		sy_duration_max(ld, vals[WL_CONNECT], "workload.connect_timeout",
				   w->connect_timeout_us, TIMEOUT_LIMIT_US);
	if (vals[WL_WRITE])
		sy_duration_max(ld, vals[WL_WRITE], "workload.write_timeout", w->write_timeout_us,
				   TIMEOUT_LIMIT_US);
	if (vals[WL_RATE] && w->rate_per_writer > RATE_MAX_PER_WRITER) {
		str_format(hint, sizeof(hint), "at most %.0f per writer; write unthrottled for as fast "
			   "as the writers go", RATE_MAX_PER_WRITER);
		sy_report(ld, sy_pos(vals[WL_RATE]), hint, "workload.rate %g writes per second per "
			  "writer is more than a writer can send", w->rate_per_writer);
	}
}

static void load_workload(struct loader *ld, yaml_node_t *map, struct workload_spec *w)
{
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];

	bool writers_ok = true;

	if (!sy_collect(ld, map, "workload", workload_keys, NULL, vals, keys))
		return;
	/* 0 is fine when client groups bring the writers; the total is checked below. */
	if (vals[WL_WRITERS])
		writers_ok = sy_int(ld, vals[WL_WRITERS], "workload.writers", 0, 64, &w->writers);
	if (vals[WL_CLIENTS])
		writers_ok &= load_clients(ld, vals[WL_CLIENTS], w);
	if (writers_ok)
		check_total_writers(ld, vals, w);
	if (vals[WL_RATE])
		load_rate(ld, vals[WL_RATE], w);
	if (vals[WL_CONNECT])
		sy_duration(ld, vals[WL_CONNECT], "workload.connect_timeout", true,
			    &w->connect_timeout_us);
	if (vals[WL_WRITE])
		sy_duration(ld, vals[WL_WRITE], "workload.write_timeout", true, &w->write_timeout_us);
	if (vals[WL_READERS])
		sy_int(ld, vals[WL_READERS], "workload.readers", 0, 64, &w->readers);
	if (vals[WL_PROBE])
		sy_int(ld, vals[WL_PROBE], "workload.probe_rate", PROBE_RATE_MIN, PROBE_RATE_MAX,
		       &w->probe_rate);
	if (vals[WL_READ_FROM]) {
		int i = sy_choice(ld, vals[WL_READ_FROM], "workload.read_from", read_from_names);

		if (i >= 0)
			w->read_from = (enum read_target)i;
	}
	if (writers_ok && workload_total_writers(w) <= 64)
		check_connections(ld, vals[WL_READERS] ? vals[WL_READERS] : map, w);
	check_workload_limits(ld, vals, w);
}

/* ---- slo ---- */

static void load_slos(struct loader *ld, yaml_node_t *map)
{
	struct scenario *sc = ld->sc;
	const char *names[16];
	char buf[256], hint[512], why[256];

	if (sy_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(map), "one \"metric: \\\"OP VALUE\\\"\" per line, e.g. failover_time: \"< 30s\"",
			  "slo must be a mapping, not %s", sy_kind(map));
		return;
	}
	sy_split_list(slo_metric_names(), buf, sizeof(buf), names, 16);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *metric = sy_pair_key(ld, map, p), *text;
		yaml_node_t *key = sy_node(ld, p->key), *val = sy_node(ld, p->value);
		struct slo_spec spec;

		if (!metric)
			continue;
		if (!slo_metric_known(metric, NULL)) {
			sy_suggest(metric, names, NULL, "known metrics", hint, sizeof(hint));
			sy_report(ld, sy_pos(key), hint, "unknown SLO metric \"%s\"", metric);
			continue;
		}
		if (!(text = sy_scalar(ld, val, metric)))
			continue;
		if (!slo_parse(metric, text, &spec, why, sizeof(why))) {
			sy_report(ld, sy_pos(val), NULL, "slo %s: %s", metric, why);
			continue;
		}
		if (sc->nslos >= SCENARIO_MAX_SLOS) {
			sy_report(ld, sy_pos(key), NULL, "too many SLOs (at most %d)", SCENARIO_MAX_SLOS);
			continue;
		}
		spec.pos = sy_pos(val);
		sc->slos[sc->nslos++] = spec;
	}
}

/* ---- variants ---- */

enum { VA_NAME, VA_CLUSTER };
static const char *const variant_keys[] = { "name", "cluster", NULL };

/* One "{name: etcd-v2, cluster: {dcs_api: v2}}": the base cluster with overrides applied. */
static bool load_variant(struct loader *ld, yaml_node_t *map, struct scenario_variant *v)
{
	const struct scenario *sc = ld->sc;
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];
	int before = ld->nerrors;
	const char *text;
	char hint[64];

	if (map->type != YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(map), "e.g. \"- {name: etcd-v2, cluster: {dcs_api: v2}}\"",
			  "a variant must be a mapping, not %s", sy_kind(map));
		return false;
	}
	if (!sy_collect(ld, map, "a variant", variant_keys, NULL, vals, keys))
		return false;
	v->pos = sy_pos(map);
	v->cluster = sc->cluster;
	if (!vals[VA_NAME]) {
		sy_report(ld, sy_pos(map), "add e.g. \"name: etcd-v2\"", "a variant needs a name");
	} else if ((text = sy_scalar(ld, vals[VA_NAME], "variant name"))) {
		if (!sy_ident_ok(text, true, true, VARIANT_NAME_LEN - 1))
			sy_report(ld, sy_pos(vals[VA_NAME]),
				  "lower-case letters, digits and '-', at most 15 characters",
				  "variant name \"%s\" is not valid", text);
		for (int i = 0; i < sc->nvariants; i++) {
			if (strcmp(sc->variants[i].name, text) != 0)
				continue;
			str_format(hint, sizeof(hint), "first given at line %d, column %d",
				   sc->variants[i].pos.line, sc->variants[i].pos.col);
			sy_report(ld, sy_pos(vals[VA_NAME]), hint, "variant \"%s\" is given twice", text);
		}
		if (sc->name[0] && strlen(sc->name) + 1 + strlen(text) >= SCENARIO_NAME_LEN)
			sy_report(ld, sy_pos(vals[VA_NAME]), "shorten the scenario or the variant name",
				  "%s@%s is longer than %d characters", sc->name, text, SCENARIO_NAME_LEN - 1);
		str_copy(v->name, sizeof(v->name), text);
	}
	if (vals[VA_CLUSTER])
		load_cluster(ld, vals[VA_CLUSTER], &v->cluster, true);
	return ld->nerrors == before;
}

static void load_variants(struct loader *ld, yaml_node_t *seq)
{
	struct scenario *sc = ld->sc;

	static const char *const eg = "e.g. [{name: etcd-v3}, {name: etcd-v2, cluster: {dcs_api: v2}}]";

	if (seq->type != YAML_SEQUENCE_NODE) {
		sy_report(ld, sy_pos(seq), eg, "variants must be a sequence, not %s", sy_kind(seq));
		return;
	}
	if (seq->data.sequence.items.start == seq->data.sequence.items.top) {
		sy_report(ld, sy_pos(seq), eg, "variants is empty");
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = sy_node(ld, *it);

		if (sc->nvariants == SCENARIO_MAX_VARIANTS) {
			sy_report(ld, sy_pos(item), "split the comparison over several scenarios",
				  "too many variants (at most %d)", SCENARIO_MAX_VARIANTS);
			return;
		}
		if (load_variant(ld, item, &sc->variants[sc->nvariants]))
			sc->nvariants++;
	}
}

/* ---- document ---- */

enum { TOP_NAME, TOP_DESCRIPTION, TOP_CLUSTER, TOP_WORKLOAD, TOP_STEPS, TOP_SLO, TOP_REPEAT,
	TOP_MAX_FAULT, TOP_VARIANTS };
static const char *const top_keys[] = { "name", "description", "cluster", "workload", "steps",
	"slo", "repeat", "max_fault_duration", "variants", NULL };

static void load_top(struct loader *ld, yaml_node_t *root, struct source_pos doc_start)
{
	struct scenario *sc = ld->sc;
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];
	const char *text;

	if (root->type != YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(root), "a scenario starts with \"name:\" and \"steps:\" keys",
			  "the scenario must be a mapping, not %s", sy_kind(root));
		return;
	}
	sy_collect(ld, root, "the scenario", top_keys, NULL, vals, keys);
	if (!vals[TOP_NAME]) {
		sy_report(ld, doc_start, "add e.g. \"name: primary-pod-kill\"", "missing key \"name\"");
	} else if ((text = sy_scalar(ld, vals[TOP_NAME], "name"))) {
		if (sy_ident_ok(text, true, true, SCENARIO_NAME_LEN - 1))
			str_copy(sc->name, sizeof(sc->name), text);
		else
			sy_report(ld, sy_pos(vals[TOP_NAME]),
				  "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters",
				  "name \"%s\" is not valid", text);
	}
	if (vals[TOP_DESCRIPTION] && !sy_is_null(vals[TOP_DESCRIPTION]) &&
	    (text = sy_scalar(ld, vals[TOP_DESCRIPTION], "description")))
		sc->description = xstrdup(text);
	ld->zones_ok = true;
	if (vals[TOP_CLUSTER])
		load_cluster(ld, vals[TOP_CLUSTER], &sc->cluster, false);
	if (vals[TOP_VARIANTS])
		load_variants(ld, vals[TOP_VARIANTS]);
	if (vals[TOP_WORKLOAD])
		load_workload(ld, vals[TOP_WORKLOAD], &sc->workload);
	ld->max_fault_ok = !vals[TOP_MAX_FAULT] ||
			   (sy_duration(ld, vals[TOP_MAX_FAULT], "max_fault_duration", true, &sc->max_fault_us) &&
			    sy_duration_max(ld, vals[TOP_MAX_FAULT], "max_fault_duration",
					       sc->max_fault_us, MAX_FAULT_LIMIT_US));
	if (!vals[TOP_STEPS])
		sy_report(ld, doc_start, "add a \"steps:\" list, e.g. \"- fault: pod-kill\"",
			  "missing key \"steps\"");
	else
		sy_load_steps(ld, vals[TOP_STEPS]);
	if (vals[TOP_SLO])
		load_slos(ld, vals[TOP_SLO]);
	if (vals[TOP_REPEAT])
		sy_int(ld, vals[TOP_REPEAT], "repeat", 1, 1000, &sc->repeat);
}


/* A scenario is a page of YAML; these bounds keep libyaml's cost linear on hostile input. */
#define SCENARIO_MAX_BYTES (1u << 20)
#define SCENARIO_MAX_DEPTH 32

/*
 * Refuse a document nested deeper than SCENARIO_MAX_DEPTH before building it: libyaml's
 * document loader is quadratic in the nesting depth. The event parser stops at the first
 * level too deep; syntax errors are left to the real parse.
 */
static bool nesting_ok(struct loader *ld, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0;
	bool ok = true, done = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > SCENARIO_MAX_DEPTH) {
				sy_report(ld, sy_mark_pos(ev.start_mark), "a scenario is a few levels deep",
					  "YAML nested deeper than %d levels", SCENARIO_MAX_DEPTH);
				ok = false;
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

static void parse_document(struct loader *ld, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;

	if (len > SCENARIO_MAX_BYTES) {
		sy_report(ld, (struct source_pos){ 1, 1 }, "a scenario is a page of YAML",
			  "the file has %zu bytes, more than %u", len, SCENARIO_MAX_BYTES);
		return;
	}
	if (!nesting_ok(ld, text, len))
		return;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		sy_yaml_problem(ld, &parser, text, len);
		yaml_parser_delete(&parser);
		return;
	}
	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		sy_report(ld, (struct source_pos){ 1, 1 }, "a scenario needs at least name and steps",
			  "the file is empty");
	else
		load_top(ld, root, sy_mark_pos(doc.start_mark));
	if (root) {
		/* A second "---" document would be silently ignored otherwise. */
		if (!yaml_parser_load(&parser, &extra)) {
			sy_yaml_problem(ld, &parser, text, len);
		} else {
			if (yaml_document_get_root_node(&extra))
				sy_report(ld, sy_mark_pos(extra.start_mark), "keep one scenario per file",
					  "a second YAML document");
			yaml_document_delete(&extra);
		}
	}
	ld->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

void cluster_spec_defaults(struct cluster_spec *c)
{
	static const char *const zones[] = { "geneva", "lucerne", "gland" };

	memset(c, 0, sizeof(*c));
	str_copy(c->name, sizeof(c->name), "bise");
	c->nzones = 3;
	for (int i = 0; i < 3; i++)
		str_copy(c->zones[i], sizeof(c->zones[i]), zones[i]);
	c->replication = REPLICATION_ASYNC;
	c->dcs_api = DCS_ETCD_V3;
	c->ttl_us = 10 * INT64_C(1000000);
	c->loop_wait_us = 1 * INT64_C(1000000);
	c->retry_timeout_us = 4 * INT64_C(1000000);
	c->maximum_lag_on_failover_bytes = 1024 * 1024;
	c->restart_delay_us = 2 * INT64_C(1000000);
}

void workload_spec_defaults(struct workload_spec *w)
{
	memset(w, 0, sizeof(*w));
	w->writers = 4;
	w->rate_per_writer = 100;
	w->connect_timeout_us = 500 * INT64_C(1000);
	w->probe_rate = 100;
	w->write_timeout_us = 1 * INT64_C(1000000);
	w->readers = 0;
	w->read_from = READ_PRIMARY;
}

/* The schedule's limits (faults in force at once, actions per trial) hold: plan.h. */
static void check_plan(struct loader *ld, const struct scenario *sc)
{
	char why[256];
	int bad;

	if (!plan_check(sc, &bad, why, sizeof(why)))
		sy_report(ld, bad >= 0 ? sc->steps[bad].pos : (struct source_pos){ 1, 1 },
			  "spread the faults out or shorten them", "%s", why);
}

bool scenario_load(const char *path, struct scenario *out, char *errbuf, size_t errlen)
{
	struct loader ld = { .path = path, .sc = out };
	size_t len;

	memset(out, 0, sizeof(*out));
	if (errbuf && errlen)
		errbuf[0] = '\0';
	cluster_spec_defaults(&out->cluster);
	workload_spec_defaults(&out->workload);
	out->repeat = 1;
	out->max_fault_us = MAX_FAULT_DEFAULT_US;
	out->path = xstrdup(path);
	out->text = file_read_all(path, &len);
	if (!out->text)
		sy_report(&ld, (struct source_pos){ 1, 1 }, "check the path",
			  "cannot read the scenario: %s", strerror(errno));
	else
		parse_document(&ld, out->text, len);
	if (ld.nerrors == 0)
		check_plan(&ld, out);
	sy_flush(&ld, errbuf, errlen);
	if (ld.nerrors == 0)
		return true;
	/* Leave nothing half-built behind; scenario_free on the zeroed struct is still fine. */
	scenario_free(out);
	return false;
}

/* KEY=VALUE[,KEY=VALUE] as YAML "KEY: VALUE" lines, so the cluster section's code checks them. */
static bool overrides_yaml(const char *overrides, char *buf, size_t len, char *errbuf, size_t errlen,
			   const char *name)
{
	size_t o = 0;

	buf[0] = '\0';
	for (const char *p = overrides; *p;) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		int n = (int)(end - p);

		if (!eq || eq == p || eq + 1 == end) {
			str_format(errbuf, errlen, "--variant %s: \"%.*s\" is not KEY=VALUE "
				   "(hint: e.g. --variant sync=replication=synchronous)\n", name, n, p);
			return false;
		}
		if (!str_format(buf + o, len - o, "%.*s: %.*s\n", (int)(eq - p), p, (int)(end - eq - 1),
				eq + 1)) {
			str_format(errbuf, errlen, "--variant %s: overrides too long\n", name);
			return false;
		}
		o += strlen(buf + o);
		p = comma ? comma + 1 : end;
	}
	return true;
}

bool scenario_variant_parse(const struct cluster_spec *base, const char *name,
			    const char *overrides, struct scenario_variant *out, char *errbuf,
			    size_t errlen)
{
	struct scenario sc;
	char path[64], text[1024];
	struct loader ld = { .path = path, .sc = &sc };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	sc.cluster = *base;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	str_format(path, sizeof(path), "--variant %s", name);
	if (!sy_ident_ok(name, true, true, VARIANT_NAME_LEN - 1)) {
		str_format(errbuf, errlen, "--variant: name \"%s\" is not valid (hint: lower-case letters, "
			   "digits and '-', at most 15 characters, then =KEY=VALUE)\n", name);
		return false;
	}
	if (!overrides_yaml(overrides, text, sizeof(text), errbuf, errlen, name))
		return false;
	str_copy(out->name, sizeof(out->name), name);
	out->cluster = *base;
	out->pos = (struct source_pos){ 1, 1 };
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		sy_yaml_problem(&ld, &parser, text, strlen(text));
	} else {
		ld.doc = &doc;
		root = yaml_document_get_root_node(&doc);
		if (root)
			load_cluster(&ld, root, &out->cluster, true);
		ld.doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	sy_flush(&ld, errbuf, errlen);
	return ld.nerrors == 0;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->text);
	free(s->description);
	free(s->steps);
	memset(s, 0, sizeof(*s));
}


int workload_total_writers(const struct workload_spec *w)
{
	int n = w->writers;

	for (int i = 0; i < w->nclient_groups; i++)
		n += w->client_groups[i].writers;
	return n;
}

int workload_spares(const struct workload_spec *w)
{
	int total = workload_total_writers(w);
	int room = CLUSTER_MAX_CONNECTIONS - CLUSTER_RESERVED_CONNECTIONS - WORKLOAD_EXTRA_CONNECTIONS - total -
		   w->readers;

	if (total < 1 || room < 1)
		return 0;
	return room < total ? room : total;
}

int workload_probe_inflight(const struct workload_spec *w)
{
	int total = workload_total_writers(w), share;
	int64_t period, n;

	if (total < 1 || w->probe_rate < 1 || w->connect_timeout_us <= 0)
		return 1;
	period = (int64_t)total * ((1000000 + w->probe_rate - 1) / w->probe_rate);
	/* Attempts alive at an instant started within the last connect_timeout, period apart. */
	n = (w->connect_timeout_us + period - 1) / period;
	/*
	 * A server frozen with attempts queued serves them all when it wakes: together with the
	 * readers and the writers' spares they must fit its connections (check_connections
	 * keeps one per writer).
	 */
	share = (CLUSTER_MAX_CONNECTIONS - CLUSTER_RESERVED_CONNECTIONS - WORKLOAD_EXTRA_CONNECTIONS -
		 w->readers - workload_spares(w)) / total;
	if (n > share)
		n = share;
	return n < 1 ? 1 : (int)n;
}
