/* io_throttle.c - throttle the target's disk I/O; processes stay healthy (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool io_throttle_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_io_throttle = {
	.version = FAULT_OPS_VERSION,
	.name = "io-throttle",
	.help = "throttle the target's disk I/O; processes stay healthy",
	.needs = DRIVER_CAP_IO_THROTTLE,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = io_throttle_apply,
	.revert = NULL,
};
