/*
 * netfault.h - internals shared by netfault.c (iptables rules, tc qdiscs, apply/revert/
 * sweep) and netfault_delay.c (the bise-netdelay processes of the latency fault). Per
 * fault, <cluster dir>/netfault/ holds <id>.pids (netdelay PIDs), <id>.tc (htb classes)
 * and <id>-<zone>.log (netdelay output).
 */
#ifndef BISE_NETFAULT_H
#define BISE_NETFAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "local.h"

#define NF_COMMENT "bise:" /* every iptables rule's comment: "bise:<fault id>" */
#define NF_NFT_MAX_JOBS (DRIVER_MAX_MEMBERS + 1) /* every zone and the root namespace */
#define NF_TABLE_LEN 128
#define NF_NFTD "bise-nftd" /* loads nftables scripts in a namespace (nftd/nftd.c) */

/*
 * Load scripts[i] into namespace netns[i] (NULL: the root one), each by the worker of its
 * namespace, all at once, each script one nftables transaction (all of it or nothing); empty or
 * NULL scripts are skipped. True when every one loaded; logs each failure. *last_us (may be
 * NULL): when the last transaction's commit returned, 0 when none ran.
 */
bool nft_run_all(const char *const *netns, const char *const *scripts, int n, int64_t *last_us);

/*
 * Stop the workers that run scripts in these namespaces (NULL entries are skipped), and
 * the root namespace's once no zone has one: each keeps its namespace alive, so this
 * comes before a namespace is deleted.
 */
void nft_release(const char *const *netns, int n);

/* Names of the ip-family tables in netns that start with prefix; -1 when unlistable. */
int nft_tables_with_prefix(const char *netns, const char *prefix, char (*names)[NF_TABLE_LEN],
			   int max);

/* Where helper binary name is: $env, next to this program, or installed; false if nowhere. */
bool nf_helper_find(const char *name, const char *env, char *out, size_t len);

/* Append one line to a record file and fsync it; logs its own error. */
bool nf_record_line(const char *path, const char *line);

/*
 * Start a bise-netdelay in zone z's namespace holding queue's packets delay_us (+-
 * jitter_us); its PID is recorded under id first. Returns once it has bound the queue.
 */
bool netdelay_start(struct driver *d, const char *id, const struct local_zone *z, int queue,
		    int64_t delay_us, int64_t jitter_us);

/* Stop the netdelays recorded for fault id, then drop the record and logs. Idempotent. */
bool netdelay_stop_fault(const struct driver *d, const char *id);

/* Stop every netdelay serving one of this cluster's namespaces, recorded or not. */
bool netdelay_stop_all(const struct driver *d);

#endif
