/*
 * driver.h - what a backend (local namespaces, Kubernetes, the in-memory null driver)
 * offers the runner. One versioned ops table per backend, registered in drivers/registry.c.
 * An op a backend cannot do is NULL and its capability bit is clear: a fault that needs it
 * becomes a SKIP with the reason, never a crash.
 */
#ifndef BISE_DRIVER_H
#define BISE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	char password[64];
	char dbname[32];
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

struct driver; /* a backend's own state */

struct driver_ops {
	int version; /* DRIVER_OPS_VERSION */
	const char *name;
	const char *help;
	unsigned caps;

	/*
	 * Check everything needed (privileges, binaries, kernel features) without touching
	 * anything. On failure writes one clear line naming the missing piece to why.
	 */
	bool (*preflight)(const struct cluster_spec *spec, char *why, size_t why_len);

	/* Bind to the cluster named in spec (whether or not it is running); NULL on error. */
	struct driver *(*open)(const struct cluster_spec *spec, const char *state_root);
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

	/* Kill a member's processes (SIGKILL). */
	bool (*kill)(struct driver *d, const char *member, enum kill_scope scope);

	/* Start again what a KILL_POD took down (the kubelet's restart). Idempotent. */
	bool (*restart)(struct driver *d, const char *member);

	/* Versions of the database, HA agent and DCS, for the summary: "PostgreSQL 15.18, ...". */
	bool (*versions)(struct driver *d, char *buf, size_t len);
};

/* Look a backend up by name; NULL if unknown. */
const struct driver_ops *driver_find(const char *name);

/* Comma-separated backend names, for hints. */
const char *driver_names(void);

#endif
