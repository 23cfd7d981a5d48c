/*
 * network_partition.c - cut all traffic between groups of zones (and the client), both
 * ways or, with one_way, only from the first group to the second; established
 * connections are cut too (packets are dropped, not refused). Reverted after duration.
 */
#include "fault.h"
#include "net_step.h"

static const char *const network_partition_options[] = { "between", "one_way", NULL };

static bool network_partition_apply(struct fault_ctx *ctx, const struct step *st,
				    const char *member)
{
	struct net_fault f = { .loss_pct = 100.0 };

	return net_step_apply(ctx, st, member, &f);
}

static bool network_partition_request(struct fault_ctx *ctx, const struct step *st,
				      const char *member, struct fault_request *req)
{
	struct net_fault f = { .loss_pct = 100.0 };

	return net_step_request(ctx, st, member, &f, req);
}

const struct fault_ops fault_network_partition = {
	.version = FAULT_OPS_VERSION,
	.name = "network-partition",
	.help = "drop all traffic between groups of zones and the client (between: "
		"[[geneva],[lucerne,gland,client]]; default: the target's zone against the rest; "
		"one_way: true cuts only the first group's traffic to the second)",
	.needs = DRIVER_CAP_NET_FAULT,
	.options = network_partition_options,
	.takes_duration = true,
	.validate = net_step_validate,
	.apply = network_partition_apply,
	.revert = net_step_revert,
	.request = network_partition_request,
	.step_needs = net_step_needs,
};
