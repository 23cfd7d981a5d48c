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

#define NF_COMMENT "bise:" /* every rule's comment: "bise:<fault id>" */

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
