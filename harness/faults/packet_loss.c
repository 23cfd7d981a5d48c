/* packet_loss.c - drop a share of packets between zones (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool packet_loss_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_packet_loss = {
	.version = FAULT_OPS_VERSION,
	.name = "packet-loss",
	.help = "drop a share of packets between zones",
	.needs = DRIVER_CAP_NET_FAULT,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = packet_loss_apply,
	.revert = NULL,
};
