/* storage_stall.c - the target's disk stalls, slows down or fails with EIO (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool storage_stall_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_storage_stall = {
	.version = FAULT_OPS_VERSION,
	.name = "storage-stall",
	.help = "the target's disk stalls, slows down or fails with EIO",
	.needs = DRIVER_CAP_STORAGE_STALL,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = storage_stall_apply,
	.revert = NULL,
};
