/*
 * procfault.h - the local backend's process and disk faults: pausing a member's processes
 * (the cgroup v2 freezer), a zone's power loss (every process SIGKILLed through cgroup.kill and
 * the zone's root-side veth set down), cgroup-v1 blkio throttles, the zone's network
 * namespace for client threads, and the sweep that undoes all of these.
 *
 * Markers the sweep relies on: a frozen pg cgroup, the cgroups pg/paused and <zone>/awake a
 * pause makes, a stopped process in the cluster's cgroups, a zone veth that is down, a
 * blkio group under <blkio mount>/bise/<cluster>/. Nothing else makes these.
 */
#ifndef BISE_LOCAL_PROCFAULT_H
#define BISE_LOCAL_PROCFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "local.h"

/*
 * Freeze (frozen) or thaw the member's processes with the cgroup v2 freezer: postgres =
 * every PostgreSQL process of the zone's pg cgroup (postmaster, its children, pg_rewind...),
 * patroni = the Patroni agent, both = the whole pg cgroup. Freezing returns once
 * cgroup.events says frozen; thawing also puts back what the freeze moved. Idempotent.
 */
bool procfault_pause(struct driver *d, const char *member, enum pause_what what, bool frozen);

/*
 * A pod deletion with a grace period, as the kubelet does it: SIGTERM to Patroni (by PID;
 * it stops PostgreSQL and gives up the leader key), or to every process of the pg cgroup
 * when no Patroni runs there; then wait up to grace_us for the cgroup to empty. True when
 * the signals went out; the caller SIGKILLs what is left.
 */
bool procfault_terminate(const struct local_zone *z, int64_t grace_us);

/* Power loss of a zone: its veth goes down, then etcd and Patroni/PostgreSQL are SIGKILLed. */
bool procfault_zone_stop(struct driver *d, const char *zone);

/* The zone's veth comes up, then etcd and Patroni start again where not running. */
bool procfault_zone_start(struct driver *d, const char *zone);

/*
 * Limit the disk I/O of the member's pg processes (read and write, per second) with a
 * cgroup-v1 blkio group; 0, 0 removes the limit and moves the processes back. Fails with
 * the reason when blkio cannot throttle the state root's filesystem.
 */
bool procfault_io_throttle(struct driver *d, const char *member, int64_t iops, int64_t bps);

/*
 * Whether blkio throttling can work for this cluster: the blkio controller is mounted and
 * the state root is on a block device. On false, why says what is missing.
 */
bool procfault_io_throttle_possible(const struct driver *d, char *why, size_t why_len);

/* /run/netns/<zone's namespace>, for a client thread's setns(). */
bool procfault_client_netns(struct driver *d, const char *zone, char *path, size_t len);

/*
 * Undo what this file's faults leave: thaw the zones' pg cgroups (moving back what a pause
 * moved), SIGCONT every stopped process in the cluster's cgroups, remove
 * the blkio throttles and groups, bring every zone veth up. Restarting killed processes is
 * not the sweep's job (heal does it from the journal). Idempotent.
 */
bool procfault_sweep(struct driver *d);

#endif
