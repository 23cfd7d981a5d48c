/* process_pause.c - SIGSTOP the target's PostgreSQL and/or Patroni, SIGCONT on revert (not built yet: every backend reports it unsupported, so steps are skipped). */
#include "fault.h"

static bool process_pause_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		      int64_t *revert_after_us)
{
	return false;
}

const struct fault_ops fault_process_pause = {
	.version = FAULT_OPS_VERSION,
	.name = "process-pause",
	.help = "SIGSTOP the target's PostgreSQL and/or Patroni, SIGCONT on revert",
	.needs = DRIVER_CAP_PAUSE,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = process_pause_apply,
	.revert = NULL,
};
