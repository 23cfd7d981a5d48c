/*
 * driver.h - what a backend (local namespaces, Kubernetes, the in-memory null driver)
 * offers the runner. One versioned ops table per backend, registered in drivers/registry.c.
 * An op a backend cannot do is NULL and its capability bit is clear: a fault that needs it
 * becomes a SKIP with the reason, never a crash. Each backend declares its own options
 * (struct driver_option); the command line and the fault journal set them, and open and
 * preflight receive them: no backend keeps configuration in globals.
 */
#ifndef BISE_DRIVER_H
#define BISE_DRIVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

#define DRIVER_OPS_VERSION 1
#define MEMBER_NAME_LEN 32
#define DRIVER_MAX_MEMBERS SCENARIO_MAX_ZONES

enum member_role { MEMBER_UNKNOWN, MEMBER_PRIMARY, MEMBER_REPLICA, MEMBER_DOWN };

/* How to reach one PostgreSQL instance from where bise runs. */
struct pg_endpoint {
	char host[64];
	int port;
	char user[32];
	char password[128]; /* operators generate 64-character passwords (CloudNativePG) */
	char dbname[32];
	/*
	 * A TCP port of host where nothing listens (0: none known). Its kernel resets a SYN
	 * there when the path is up: the workload's check that costs the server nothing.
	 */
	int reach_port;
};

struct member {
	char name[MEMBER_NAME_LEN]; /* also the node name in events */
	char zone[ZONE_NAME_LEN];
	struct pg_endpoint endpoint;
	enum member_role role;
	int timeline;
};

enum kill_scope {
	KILL_POD,        /* the whole instance: HA agent and PostgreSQL, SIGKILL at once */
	KILL_POSTMASTER, /* only the postmaster; the HA agent stays and restarts it */
};

#define DRIVER_CAP_KILL_POD (1u << 0)
#define DRIVER_CAP_KILL_POSTMASTER (1u << 1)
#define DRIVER_CAP_RESTART (1u << 2)
#define DRIVER_CAP_SQL (1u << 3) /* members have PostgreSQL endpoints: the workload can run */
#define DRIVER_CAP_NET_FAULT (1u << 4)     /* net_apply/net_revert: drop, loss */
#define DRIVER_CAP_NET_LATENCY (1u << 5)   /* net_apply with latency_us/jitter_us */
#define DRIVER_CAP_NET_BANDWIDTH (1u << 6) /* net_apply with rate_bps */
#define DRIVER_CAP_PAUSE (1u << 7)
#define DRIVER_CAP_ZONE_OUTAGE (1u << 8)
#define DRIVER_CAP_STORAGE_STALL (1u << 9) /* io_fault/io_heal (local: needs cluster.fuse) */
#define DRIVER_CAP_IO_THROTTLE (1u << 10)
#define DRIVER_CAP_CLIENT_ZONES (1u << 11) /* client_netns: writers can run inside a zone */
#define DRIVER_CAP_NET_LOSS (1u << 12)     /* net_apply with 0 < loss_pct < 100 (random drops) */
#define DRIVER_CAP_NET_CLIENT (1u << 13)   /* net_apply with PARTY_CLIENT as a party */

/* A party of a network fault is a zone name or this word: where the harness's workload runs. */
#define PARTY_CLIENT "client"
#define NET_MAX_PARTIES (SCENARIO_MAX_ZONES + 1)

/*
 * One network fault between two groups of parties. Traffic from a to b (and b to a unless
 * one_way) is dropped (loss_pct 100), dropped at random (0 < loss_pct < 100), delayed
 * (latency_us, jitter_us) or rate-limited (rate_bps). Everything a backend sets up for it
 * carries id, so net_revert(id) finds and removes it whatever happened in between.
 */
struct net_fault {
	char id[48];
	int na;
	char a[NET_MAX_PARTIES][ZONE_NAME_LEN];
	int nb;
	char b[NET_MAX_PARTIES][ZONE_NAME_LEN];
	bool one_way;
	double loss_pct;
	int64_t latency_us;
	int64_t jitter_us;
	int64_t rate_bps;
};

/* Every pair of groups of one network fault: C(NET_MAX_PARTIES, 2). */
#define NET_MAX_PAIRS (NET_MAX_PARTIES * (NET_MAX_PARTIES - 1) / 2)

/*
 * What one fault step asks of a backend, decided before anything is touched: capability
 * bits, and for a network fault each pair exactly as net_apply will receive it (its id
 * may still be empty).
 */
struct fault_request {
	unsigned caps; /* DRIVER_CAP_* */
	int nnet;
	struct net_fault net[NET_MAX_PAIRS];
};

enum pause_what { PAUSE_POSTGRES, PAUSE_PATRONI, PAUSE_BOTH };

enum io_fault_mode {
	IO_STALL, /* every operation blocks until healed */
	IO_DELAY, /* every operation waits delay_us first */
	IO_ERROR, /* every operation fails with EIO */
};

struct io_fault {
	enum io_fault_mode mode;
	bool wal_only; /* only pg_wal, else the whole data directory */
	int64_t delay_us;
};

/*
 * When a fault op (net_apply, net_revert, pause, kill, restart, zone_stop, zone_start,
 * io_fault, io_heal, io_throttle) took effect, as its backend observed it (see the effect
 * op). at_us is mono_now_us(); how names what was observed, e.g. "nft-commit" (the
 * nftables transaction's commit returned), "cgroup-frozen", "cgroup-empty",
 * "api-accepted" (the platform accepted the object, not proof that it is enforced).
 */
struct fault_effect {
	int64_t at_us;
	char how[32];
};

/* How a fault's times were obtained when the backend observed nothing: the op's return. */
#define FAULT_EFFECT_RETURNED "returned"

struct driver; /* a backend's own state */
struct event_log; /* harness/event.h */
struct driver_ops;

/* ---- a backend's options: declared in its ops table, set by the command line or a journal ---- */

#define DRIVER_MAX_OPTIONS 16

/* One option, as `bise help` lists it and --NAME VALUE sets it. */
struct driver_option {
	const char *name; /* --NAME on the command line; the key in a journal's target */
	const char *arg;  /* what the value is ("FILE"); NULL: a flag (given, its value is "1") */
	const char *env;  /* read when the option is not given; NULL: none */
	const char *def;  /* when neither gives a value; NULL: unset */
	const char *help;
};

/*
 * Values of one backend's options as given, copied in. What is not given reads the
 * option's environment variable, then its default (driver_option). Plain data: copy freely.
 */
struct driver_options {
	const struct driver_option *table; /* the backend's, ended by a NULL name; NULL: none */
	int at[DRIVER_MAX_OPTIONS];        /* 1 + offset in buf of the given value; 0: not given */
	size_t used;
	char buf[8192];
};

/* The flag of a backend that can record its calls instead of making them (see flush_calls). */
#define DRIVER_OPTION_DRY_RUN "dry-run"

/* No option given, for ops (NULL: a backend without options). */
void driver_options_init(struct driver_options *o, const struct driver_ops *ops);

/* Set one option (a copy of value, "" allowed); false with why if ops has none of that name. */
bool driver_options_set(struct driver_options *o, const char *name, const char *value, char *why,
			size_t why_len);

/* Whether name is one of the options in table (a NULL-name terminated list, or NULL). */
const struct driver_option *driver_option_find(const struct driver_option *table, const char *name);

/* The value: as given, else the environment variable when set and not empty, else the default, else NULL. */
const char *driver_option(const struct driver_options *o, const char *name);

/* A flag's value: "1" (given on the command line, or the environment variable's "1"). */
bool driver_option_flag(const struct driver_options *o, const char *name);

/*
 * Set the options a backend's target line names (a JSON object of option name to string,
 * what the target op wrote to a journal). Keys the backend does not declare are ignored:
 * an older journal may name more. False with why on a line that is not such an object.
 */
bool driver_options_from_target(struct driver_options *o, const char *target, char *why, size_t why_len);

/* ops's options as `bise help` lists them, one per line, indented by indent. */
void driver_options_help(const struct driver_ops *ops, FILE *out, int indent);

struct driver_ops {
	int version; /* DRIVER_OPS_VERSION */
	const char *name;
	const char *help;
	unsigned caps;
	const struct driver_option *options; /* ended by a NULL name; NULL: none */

	/*
	 * Check everything needed (privileges, binaries, kernel features) without touching
	 * anything. On failure writes one clear line naming the missing piece to why.
	 */
	bool (*preflight)(const struct cluster_spec *spec, const struct driver_options *o, char *why,
			  size_t why_len);

	/*
	 * Bind to the cluster named in spec (whether or not it is running), acting as the options
	 * o say (o made for this backend, or NULL: none given); NULL on error.
	 */
	struct driver *(*open)(const struct cluster_spec *spec, const char *state_root,
			       const struct driver_options *o);
	void (*close)(struct driver *d);

	/* True if a cluster of this name has state (is provisioned). */
	bool (*exists)(struct driver *d);

	/* Provision from nothing until a leader and all replicas stream; seconds taken. */
	bool (*up)(struct driver *d, double *seconds);

	/* Stop every process and remove everything up created. Idempotent. */
	bool (*down)(struct driver *d);

	/* Current members with their roles (queried now); returns count or -1. */
	int (*members)(struct driver *d, struct member *out, int max);

	/*
	 * Wait until there is exactly one primary and every other member streams from it,
	 * or timeout. why receives what was still missing.
	 */
	bool (*wait_healthy)(struct driver *d, int64_t timeout_us, char *why, size_t why_len);

	/*
	 * Kill a member's processes (SIGKILL). grace_us > 0 (KILL_POD only): a pod deletion
	 * with a grace period instead: SIGTERM to the HA agent, which stops PostgreSQL and
	 * gives up its lease, then SIGKILL of whatever is left after grace_us.
	 */
	bool (*kill)(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us);

	/* Start again what a KILL_POD took down (the kubelet's restart). Idempotent. */
	bool (*restart)(struct driver *d, const char *member);

	/* Versions of the database, HA agent and DCS, for the summary: "PostgreSQL 15.18, ...". */
	bool (*versions)(struct driver *d, char *buf, size_t len);

	/* ---- the fault catalogue; NULL when unsupported (capability bit clear) ---- */

	/* Set up / remove a network fault (see struct net_fault). net_revert is idempotent. */
	bool (*net_apply)(struct driver *d, const struct net_fault *f);
	bool (*net_revert)(struct driver *d, const char *id);


	/* SIGSTOP (frozen) or SIGCONT a member's processes. Idempotent. */
	bool (*pause)(struct driver *d, const char *member, enum pause_what what, bool frozen);

	/* A whole zone goes dark (every process stopped, traffic cut) / comes back. Idempotent. */
	bool (*zone_stop)(struct driver *d, const char *zone);
	bool (*zone_start)(struct driver *d, const char *zone);

	/* The member's disk misbehaves / behaves again. io_heal is idempotent. */
	bool (*io_fault)(struct driver *d, const char *member, const struct io_fault *f);
	bool (*io_heal)(struct driver *d, const char *member);

	/* Limit the member's disk I/O (0, 0 removes the limit). */
	bool (*io_throttle)(struct driver *d, const char *member, int64_t iops, int64_t bps);

	/* Path of the network namespace a client thread joins to run inside zone. */
	bool (*client_netns)(struct driver *d, const char *zone, char *path, size_t len);

	/*
	 * The one way a backend says "cannot" (asked by fault_supported, harness/fault.h, before
	 * anything is touched): whether this cluster, as it was provisioned, can do req: its
	 * capability bits (storage-stall needs FUSE data directories; asked about bits the
	 * backend lacks, it may say why) and each network pair of req as it is (where the client
	 * stands, what is in force already). why gets the reason when not: the step is then
	 * skipped, not failed. An error finding out is no reason: true. NULL: the bits say it all.
	 */
	bool (*can)(struct driver *d, const struct fault_request *req, char *why, size_t why_len);

	/*
	 * Remove every fault this backend can find by its own markers (rules tagged bise,
	 * frozen or stopped processes, stalled disks, throttles), journaled or not. Used by
	 * `bise heal` and `bise down` as the last line of defence. Idempotent.
	 */
	bool (*sweep)(struct driver *d);

	/*
	 * Where this driver acts beyond the cluster's name and state directory (kubeconfig,
	 * context, namespace), as the options that say so: one JSON object of option name to
	 * value. The runner records it in the fault journal so that `bise heal` after a crash
	 * opens the driver with these options (driver_options_from_target) and acts on that
	 * cluster, not on whatever the defaults are by then. NULL: the name and state directory
	 * suffice.
	 */
	bool (*target)(struct driver *d, char *buf, size_t len);

	/*
	 * With DRIVER_OPTION_DRY_RUN: print the calls and commands recorded since the last
	 * flush ("METHOD PATH" and the body) and forget them. NULL: the backend cannot dry-run.
	 */
	void (*flush_calls)(struct driver *d, FILE *f);

	/*
	 * Periodic upkeep while a trial runs: the runner calls it from its step loop (idle
	 * waits, health waits) at most every DRIVER_TICK_US. The kubernetes backend labels
	 * instance pods recreated during a network fault with their zone, so they stay inside
	 * it. Must be cheap when no fault is active; false only logs. NULL: nothing to do.
	 */
	bool (*tick)(struct driver *d);

	/*
	 * The one endpoint an application would use to reach the read-write primary from
	 * where bise runs (an operator's read-write service), made reachable if needed. Writers
	 * and the read-back then connect only to it; members keep their own endpoints for the
	 * watcher (host "" when not reachable: not polled). out->host "" when the backend has
	 * none. False on an error (logged). NULL: writers race every member.
	 */
	bool (*entry)(struct driver *d, struct pg_endpoint *out);

	/*
	 * Watch the members' roles as the platform's control plane labels them, appending
	 * {"ev":"api_role","node":POD,"role":"primary|replica|unknown|deleted"} to log for each
	 * member as first seen and at every change, until *stop is set (then return within about
	 * a second, a few more when the platform's API hangs). The runner calls it in a thread of its own for the workload phase of a
	 * trial, so it must use no state another thread uses (a client of its own). False on an
	 * error it could not get past (logged). NULL: the backend has no such view (local, null).
	 */
	bool (*observe)(struct driver *d, struct event_log *log, atomic_bool *stop);

	/*
	 * When the fault ops called since the last call of effect took effect, as observed
	 * (the latest such moment: a fault is in force, or gone, once its last part is), and
	 * forget it. The runner calls it before and after each apply and revert. False:
	 * nothing was observed (the runner then takes the op's return, FAULT_EFFECT_RETURNED).
	 * NULL: the backend observes nothing.
	 */
	bool (*effect)(struct driver *d, struct fault_effect *out);
};

#define DRIVER_TICK_US 500000

/* Look a backend up by name; NULL if unknown. */
const struct driver_ops *driver_find(const char *name);

/* Comma-separated backend names, for hints. */
const char *driver_names(void);

/* The whole table, NULL-terminated (for `bise help` and the tests). */
const struct driver_ops *const *driver_table(void);

#endif
