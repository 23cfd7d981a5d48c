/* scenario.h - a scenario file (YAML) loaded into plain structs, with source positions. */
#ifndef BISE_SCENARIO_H
#define BISE_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


#define SCENARIO_MAX_ZONES 8
#define SCENARIO_NAME_LEN 64
#define ZONE_NAME_LEN 16
#define STEP_MAX_OPTIONS 8

struct fault_ops;

/* 1-based line and column of a YAML node, for error messages. */
struct source_pos {
	int line;
	int col;
};

enum replication_mode { REPLICATION_ASYNC, REPLICATION_SYNC };
enum dcs_api { DCS_ETCD_V3, DCS_ETCD_V2 };

struct cluster_spec {
	char name[SCENARIO_NAME_LEN]; /* cluster name: Patroni scope, state directory */
	int nzones;
	char zones[SCENARIO_MAX_ZONES][ZONE_NAME_LEN];
	enum replication_mode replication;
	enum dcs_api dcs_api;
	int64_t ttl_us;
	int64_t loop_wait_us;
	int64_t retry_timeout_us;
	int64_t maximum_lag_on_failover_bytes;
	int64_t restart_delay_us; /* the kubelet's delay before restarting what a fault killed */
	bool fuse;                /* data directories through bise's FUSE filesystem (storage-stall) */
	char subnet[16];          /* first three octets of the zones' /24, "" = backend default */
};

/*
 * PostgreSQL max_connections on each member the local backend makes (drivers/local/config.c
 * writes it). The loader refuses a workload that could need more on one member.
 */
#define CLUSTER_MAX_CONNECTIONS 100
/*
 * What else holds connections on a member: Patroni (its HA loop and its REST API) and
 * pg_rewind or a base backup after a failover; kept free of the workload.
 */
#define CLUSTER_RESERVED_CONNECTIONS 5
/* The workload's own beyond writers and readers: the watcher's probe and the read-back. */
#define WORKLOAD_EXTRA_CONNECTIONS 2

#define WORKLOAD_MAX_CLIENT_GROUPS 8

/* Writers placed inside a zone (they share its fate in a partition). */
struct client_group {
	char zone[ZONE_NAME_LEN];
	int writers;
	struct source_pos pos;
};

/* Where a reader routes its probes. */
enum read_target { READ_PRIMARY, READ_REPLICA, READ_ANY };

/* "primary", "replica", "any"; "?" outside the enum. */
const char *read_target_name(enum read_target t);

/* Inverse of read_target_name; false for an unknown name. */
bool read_target_parse(const char *name, enum read_target *out);

struct workload_spec {
	int writers;                /* outside every zone, where bise runs */
	int nclient_groups;         /* more writers, inside zones */
	struct client_group client_groups[WORKLOAD_MAX_CLIENT_GROUPS];
	double rate_per_writer;  /* writes per second per writer; 0 = unthrottled */
	int64_t connect_timeout_us; /* client-side deadline for one connection attempt */
	int probe_rate;             /* connection attempts per second, all writers without a
				       connection together (staggered across them) */
	int64_t write_timeout_us;   /* after this with no answer a sent write is indeterminate */
	int readers;                /* reader probes, outside every zone (0 = none) */
	enum read_target read_from; /* where readers route: primary | replica | any */
};

enum step_kind {
	STEP_FAULT,        /* inject a fault at an offset */
	STEP_WAIT_HEALTHY, /* wait until the cluster is healthy again, or fail after timeout */
	STEP_WAIT,         /* keep the workload running for a while */
};

/* A fault option; a sequence is kept as compact flow text: [[geneva],[lucerne,gland]]. */
struct step_option {
	char key[32];
	char value[160];
	struct source_pos pos;
};

struct step {
	enum step_kind kind;
	struct source_pos pos;
	int64_t at_us;       /* STEP_FAULT: offset from workload start; -1 = right after the previous step */
	const struct fault_ops *fault;
	char target[ZONE_NAME_LEN]; /* zone name or role: primary, replica, any */
	struct source_pos target_pos;
	int64_t duration_us; /* fault duration, 0 when the fault has none; STEP_WAIT: how long */
	int64_t timeout_us;  /* STEP_WAIT_HEALTHY */
	int64_t every_us;    /* STEP_FAULT: repeat every this long (0 = once) ... */
	int count;           /* ... this many times in all (1 = once) */
	int noptions;        /* fault-specific options, checked by the fault's validate */
	struct step_option options[STEP_MAX_OPTIONS];
};

enum slo_op { SLO_LT, SLO_LE, SLO_EQ, SLO_GE, SLO_GT };

struct slo_spec {
	char metric[32];
	enum slo_op op;
	double threshold; /* in the metric's base unit: microseconds, writes, bytes */
	char text[64];    /* as written, for reports: "< 30s" */
	struct source_pos pos;
};

#define SCENARIO_MAX_SLOS 16
#define SCENARIO_MAX_VARIANTS 8
#define VARIANT_NAME_LEN 16

/* One cluster variant the scenario runs on: the base cluster with overrides applied. */
struct scenario_variant {
	char name[VARIANT_NAME_LEN]; /* [a-z0-9-]+ */
	struct cluster_spec cluster;  /* name still the base cluster's; variants.c renames it */
	struct source_pos pos;
};

struct scenario {
	char *path;
	char *text; /* the file as read, kept for the summary */
	char name[SCENARIO_NAME_LEN];
	char *description;
	struct cluster_spec cluster;
	struct workload_spec workload;
	int nsteps;
	struct step *steps;
	int nslos;
	struct slo_spec slos[SCENARIO_MAX_SLOS];
	int repeat;
	int64_t max_fault_us; /* no fault lives longer than this (deadline for the watchdog) */
	int nvariants;        /* 0: run once on cluster; else once per variant */
	struct scenario_variant variants[SCENARIO_MAX_VARIANTS];
};

/* Total writers: outside and inside zones. */
int workload_total_writers(const struct workload_spec *w);

/*
 * Connection attempts one writer may have in flight while it probes: one starts every
 * total_writers / probe_rate seconds and lives at most connect_timeout, and all the
 * writers' attempts with the readers fit the primary's connections (at least 1).
 */
/*
 * How many writers (the first ones) keep a spare connection: one each, as far as the
 * primary's connections left by the writers and readers allow.
 */
int workload_spares(const struct workload_spec *w);
int workload_probe_inflight(const struct workload_spec *w);

/* Defaults used when the scenario leaves a field out (documented in the README). */
void cluster_spec_defaults(struct cluster_spec *c);
void workload_spec_defaults(struct workload_spec *w);

/*
 * Load and validate a scenario. On error returns false and writes one message per
 * problem to errbuf, each "FILE:LINE:COL: error: MESSAGE (hint: ...)" on its own line.
 * Nothing outside memory is touched.
 */
bool scenario_load(const char *path, struct scenario *out, char *errbuf, size_t errlen);

void scenario_free(struct scenario *s);

/*
 * A variant from the command line: name, and overrides "KEY=VALUE[,KEY=VALUE]" with the
 * keys and checks of the cluster section (not name or zones), applied to base. On error
 * returns false with "--variant NAME: MESSAGE (hint: ...)" lines in errbuf.
 */
bool scenario_variant_parse(const struct cluster_spec *base, const char *name,
			    const char *overrides, struct scenario_variant *out, char *errbuf,
			    size_t errlen);

/* True if target names a role rather than a zone. */
bool scenario_target_is_role(const char *target);

/* Look up a fault-specific option of a step; NULL when absent. */
const char *step_option(const struct step *st, const char *key);

/*
 * Split an option value into groups of names, for faults such as a partition's
 * "between: [[geneva], [lucerne, gland]]". value is the option's flow text:
 *   "[[a],[b,c]]" -> 2 groups {a} {b,c};  "[a,b]" -> 1 group {a,b};  "a" -> 1 group {a}.
 * groups[g][i] receives the names, group_sizes[g] how many in group g, *ngroups how many
 * groups (at most max_groups). Names are checked only for form (not empty, shorter than
 * ZONE_NAME_LEN, at most SCENARIO_MAX_ZONES + 1 per group, none twice in a group); whether
 * they are zones of the cluster is for the caller. Empty groups, nesting deeper than two
 * levels and names mixed with groups are refused. On false, why gets "reason (hint: ...)"
 * and *ngroups is 0.
 */
bool option_parse_groups(const char *value, char groups[][SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN],
			 int *ngroups, int group_sizes[], int max_groups, char *why, size_t why_len);

#endif
