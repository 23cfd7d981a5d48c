/* network_partition.c - cut traffic between groups of zones (and the client) (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool network_partition_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_network_partition = {
	.version = FAULT_OPS_VERSION,
	.name = "network-partition",
	.help = "cut traffic between groups of zones (and the client)",
	.needs = DRIVER_CAP_NET_FAULT,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = network_partition_apply,
	.revert = NULL,
};
