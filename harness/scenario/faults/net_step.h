/*
 * net_step.h - what the network faults (network-partition, packet-loss, bandwidth,
 * latency) share: the groups a step names and one driver fault per pair of groups.
 *
 * Options of every network fault:
 *   between: [[geneva],[lucerne,gland]]  groups of zones and/or "client" (the harness's
 *            workload); traffic between every two groups is affected. One group: it against
 *            every other zone and the client. Absent: the target's zone against every
 *            other zone and the client.
 *   one_way: true                        only traffic from an earlier group to a later one.
 */
#ifndef BISE_NET_STEP_H
#define BISE_NET_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"

/* Check between and one_way; why gets "reason (hint: ...)". */
bool net_step_validate(const struct step *st, char *why, size_t why_len);

/*
 * Apply proto (its loss, latency or rate set by the caller) between the groups of the step,
 * every pair tagged with ctx->fault_id; on failure what was set up is removed again.
 */
bool net_step_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		    const struct net_fault *proto);

/*
 * The pairs net_step_apply would set up, into req->net (the request op of a network fault);
 * false, touching nothing and logging nothing, when the groups do not fit the cluster.
 */
bool net_step_request(struct fault_ctx *ctx, const struct step *st, const char *member,
		      const struct net_fault *proto, struct fault_request *req);

/*
 * DRIVER_CAP_NET_CLIENT when the step makes the client a party (between names it, has one
 * group, or is absent: the rest always includes the client), else 0. A bad between: 0
 * (validation reports it).
 */
unsigned net_step_needs(const struct step *st);

/* Remove everything tagged with ctx->fault_id (works from a journal: needs only the id). */
bool net_step_revert(struct fault_ctx *ctx, const struct step *st, const char *member);

#endif
