/* bandwidth.c - limit the bandwidth between zones (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool bandwidth_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_bandwidth = {
	.version = FAULT_OPS_VERSION,
	.name = "bandwidth",
	.help = "limit the bandwidth between zones",
	.needs = DRIVER_CAP_NET_BANDWIDTH,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = bandwidth_apply,
	.revert = NULL,
};
