/*
 * process_kill.c - only the PostgreSQL postmaster dies; the HA agent stays and restarts
 * it, so there is nothing for bise to revert.
 */
#include "fault.h"

static bool process_kill_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	return ctx->ops->kill(ctx->drv, member, KILL_POSTMASTER, 0);
}

const struct fault_ops fault_process_kill = {
	.version = FAULT_OPS_VERSION,
	.name = "process-kill",
	.help = "SIGKILL the PostgreSQL postmaster only; the HA agent restarts it",
	.needs = DRIVER_CAP_KILL_POSTMASTER,
	.options = NULL,
	.takes_duration = false,
	.validate = NULL,
	.apply = process_kill_apply,
	.revert = NULL,
};
