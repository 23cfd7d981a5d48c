/* latency.c - delay packets between zones, with optional jitter (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool latency_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_latency = {
	.version = FAULT_OPS_VERSION,
	.name = "latency",
	.help = "delay packets between zones, with optional jitter",
	.needs = DRIVER_CAP_NET_LATENCY,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = latency_apply,
	.revert = NULL,
};
