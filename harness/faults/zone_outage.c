/* zone_outage.c - a whole zone goes dark: every process stopped, traffic cut (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool zone_outage_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_zone_outage = {
	.version = FAULT_OPS_VERSION,
	.name = "zone-outage",
	.help = "a whole zone goes dark: every process stopped, traffic cut",
	.needs = DRIVER_CAP_ZONE_OUTAGE,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = zone_outage_apply,
	.revert = NULL,
};
