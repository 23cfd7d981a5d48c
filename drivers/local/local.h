/*
 * local.h - internals of the local backend: one network namespace per zone, each with its
 * own etcd member and Patroni + PostgreSQL 15, processes grouped in cgroup v2 groups.
 *
 * Layout (cluster "c", zones z0..zN):
 *   network   bridge bsbr-<hash(c)> 10.213.0.1/24 (cluster.subnet overrides 10.213.0);
 *             namespace bise-<c>-<z> with eth0 10.213.0.(11+i)/24 and lo; root-side veth
 *             bs<hash(c)>-<i>; no default route.
 *   cgroups   <cgroup2 mount>/bise/<c>/<z>/{etcd,pg}
 *   state     <state_root>/<c>/cluster.state, secrets (0600),
 *             <state_root>/<c>/<z>/{etcd/,pgdata/,run/,pgpass,patroni.yml,etcd.log,patroni.log}
 *             with cluster.fuse also pgdata.backing/ (pgdata is its FUSE mount) and
 *             stallfs.{sock,pid,log} (see stall.h)
 */
#ifndef BISE_LOCAL_H
#define BISE_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "driver.h"

#define LOCAL_PATH_LEN 512
#define LOCAL_SUBNET_DEFAULT "10.213.0"  /* a /24: bridge .1, zones .11, .12, ... */
#define LOCAL_PG_BIN "/usr/lib/postgresql/15/bin"
#define LOCAL_PYTHON "/usr/bin/python3"
#define LOCAL_PATRONI "/usr/bin/patroni"
/* Where a partial pause puts Patroni (procfault.c): frozen in pg's child, or awake beside pg. */
#define LOCAL_CG_PAUSED "paused"
#define LOCAL_CG_AWAKE "awake"
#define LOCAL_ETCD "/usr/bin/etcd"
#define LOCAL_RUN_USER "postgres"
/* A port nothing listens on in a zone's namespace (discard): the writers' path probes (pg_endpoint). */
#define LOCAL_REACH_PORT 9
#define LOCAL_REPL_USER "replicator"
#define LOCAL_REWIND_USER "rewinder"

struct local_zone {
	char name[ZONE_NAME_LEN];
	char ip[16];
	char netns[64];
	char veth[16];
	char dir[LOCAL_PATH_LEN];    /* <cluster dir>/<zone> */
	char cg_zone[LOCAL_PATH_LEN];
	char cg_etcd[LOCAL_PATH_LEN];
	char cg_pg[LOCAL_PATH_LEN];
};

struct driver {
	struct cluster_spec spec;
	char state_root[LOCAL_PATH_LEN];
	char dir[LOCAL_PATH_LEN];        /* <state_root>/<cluster> */
	char state_file[LOCAL_PATH_LEN];
	char secrets_file[LOCAL_PATH_LEN];
	char subnet[16];                 /* first three octets, e.g. "10.213.0" */
	char bridge[16];
	char bridge_ip[16];
	char cg_base[LOCAL_PATH_LEN];    /* <cgroup2>/bise */
	char cg_cluster[LOCAL_PATH_LEN]; /* <cgroup2>/bise/<cluster> */
	int nzones;
	struct local_zone zones[DRIVER_MAX_MEMBERS];
	char pw_super[40];
	char pw_repl[40];
	char pw_rewind[40];
	struct fault_effect effect; /* the latest fault op's observed effect (local_effect) */
};

/* local.c: a fault op took effect at at_us (mono_now_us()), as how says it was seen. */
void local_effect_note(struct driver *d, int64_t at_us, const char *how);

/* config.c: names, paths, generated files and the state file. */
bool local_layout(struct driver *d, char *why, size_t why_len);
bool local_write_files(struct driver *d);
/* Whether LOCAL_RUN_USER can reach d->dir through every directory that exists on the way. */
bool local_check_reach(const struct driver *d, char *why, size_t why_len);
bool local_state_load(struct driver *d);
bool local_secrets_load(struct driver *d);
bool local_rm_rf(const char *path);
int local_find_zone(const struct driver *d, const char *name);
/* argv for etcd in zone i; strings are kept in buf (size bufsz). */
bool local_etcd_argv(const struct driver *d, int i, char *buf, size_t bufsz, char **argv, int max);

/* local.c: start a zone's etcd member / Patroni agent (its PostgreSQL) into its cgroup. */
bool local_start_etcd(struct driver *d, int i, char *why, size_t why_len);
bool local_start_patroni(struct driver *d, int i, char *why, size_t why_len);

/* netns.c */
bool net_subnet_free(const struct driver *d, char *why, size_t why_len);
bool net_up(struct driver *d, char *why, size_t why_len);
void net_down(const struct driver *d);
bool net_netns_exists(const char *name);

/* proc.c: commands, spawning into a zone, cgroups. */
int proc_run(char *const argv[], char *out, size_t outlen);
bool proc_spawn(const struct local_zone *z, const char *cgroup, const char *log_path,
		char *const argv[], char *why, size_t why_len);
bool proc_user(uid_t *uid, gid_t *gid);
bool proc_chown_user(const char *path);
bool cg_find_mount(char *out, size_t len);
bool cg_create(const char *path);
int cg_nprocs(const char *path);
/* SIGKILL the subtree, wait until empty; *gone_us (may be NULL) = when it was seen empty. */
bool cg_kill(const char *path, int64_t timeout_us, int64_t *gone_us);
/*
 * Wait until the cgroup's cgroup.events reads "key want" (populated, frozen), woken by the
 * kernel's notification on that file (poll POLLPRI), not by a timer: *seen_us is the
 * moment it was read so. -1 when the cgroup cannot be read, 0 on timeout, 1 when seen.
 */
int cg_events_wait(const char *path, const char *key, int want, int64_t timeout_us,
		   int64_t *seen_us);
/* A process by PID and start time, so that a PID reused meanwhile is not mistaken for it. */
struct proc_id {
	pid_t pid;
	unsigned long long start;
};
/* The processes of the cgroup subtree at path appended to out[n..max-1]; the new count. */
int cg_tree_pids(const char *path, struct proc_id *out, int n, int max);
/* Wait until every process of ids has left the process table (reaped); false on timeout. */
bool proc_wait_gone(const struct proc_id *ids, int n, int64_t timeout_us);
void cg_remove(const char *path);
/* SIGKILL the zone's postmaster; *gone_us = when it had exited (0: not observed). */
bool proc_kill_postmaster(const struct local_zone *z, int64_t *gone_us, char *why, size_t why_len);
void proc_log_tail(const char *path, char *out, size_t len);

/*
 * netfault.c: network faults between zones and the client (iptables tagged "bise:<id>",
 * bise-netdelay for latency, tc htb for bandwidth). net_revert and net_sweep are
 * idempotent and need nothing but the cluster's state directory and kernel state.
 */
bool local_net_apply(struct driver *d, const struct net_fault *f);
bool local_net_revert(struct driver *d, const char *id);
/* Remove every network fault of this cluster (rules, netdelays, qdiscs), journaled or not. */
bool local_net_sweep(struct driver *d);
/* Make the process's first nftables transaction in each namespace now, not at a fault. */
void local_net_warm(struct driver *d);
/* Let this cluster's namespaces go: stop the threads that run nftables inside them. */
void local_net_release(const struct driver *d);

/* health.c: etcd over HTTP, PostgreSQL over libpq. */
bool health_etcd(const char *ip, int64_t timeout_us);
/* The member's peer API answers (it is past its bootstrap check). */
bool health_etcd_peer(const char *ip, int64_t timeout_us);
int health_members(const struct driver *d, struct member *out, int max);
/* Close the PostgreSQL connections the checks keep between calls. */
void health_close(void);
/* Names of the members (other than the primary) not streaming from it; false on error. */
bool health_streaming(const struct driver *d, const struct member *primary,
		      const struct member *all, int n, char *missing, size_t len);

#endif
