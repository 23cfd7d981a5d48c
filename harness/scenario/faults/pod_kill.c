/*
 * pod_kill.c - the whole instance in the target zone dies at once (HA agent and
 * PostgreSQL, SIGKILL) and the kubelet brings it back after the restart delay. With
 * grace, a pod deletion as `kubectl delete pod` does it: SIGTERM, a clean shutdown that
 * hands the lease over, SIGKILL only after the grace period.
 */
#include "fault.h"
#include "units.h"
#include "util.h"

static const char *const pod_kill_options[] = { "restart_delay", "grace", NULL };

/* grace: 0 (the default) is a SIGKILL at once. */
static bool grace_of(const struct step *st, int64_t *out, char *why, size_t why_len)
{
	const char *text = step_option(st, "grace");

	*out = 0;
	return !text || duration_parse(text, out, why, why_len);
}

static bool restart_delay_of(const struct step *st, const struct scenario *sc, int64_t *out,
			     char *why, size_t why_len)
{
	const char *text = step_option(st, "restart_delay");

	if (!text) {
		*out = sc ? sc->cluster.restart_delay_us : 0;
		return true;
	}
	return duration_parse(text, out, why, why_len);
}

static bool pod_kill_validate(const struct step *st, char *why, size_t why_len)
{
	int64_t delay, grace;

	return restart_delay_of(st, NULL, &delay, why, why_len) && grace_of(st, &grace, why, why_len);
}

static bool pod_kill_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	char why[128];
	int64_t grace;

	if (!grace_of(st, &grace, why, sizeof(why))) {
		log_error("pod-kill: %s", why);
		return false;
	}
	return ctx->ops->kill(ctx->drv, member, KILL_POD, grace);
}

/* The pod stays down for its restart delay (the step's, else the cluster's). */
static int64_t pod_kill_revert_after(const struct step *st, const struct scenario *sc)
{
	int64_t delay;

	return restart_delay_of(st, sc, &delay, NULL, 0) ? delay : 0;
}

static bool pod_kill_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	return ctx->ops->restart(ctx->drv, member);
}

const struct fault_ops fault_pod_kill = {
	.version = FAULT_OPS_VERSION,
	.name = "pod-kill",
	.help = "SIGKILL the whole instance (HA agent and PostgreSQL), or with grace SIGTERM first "
		"(a clean shutdown); restarted after restart_delay",
	.needs = DRIVER_CAP_KILL_POD | DRIVER_CAP_RESTART,
	.options = pod_kill_options,
	.takes_duration = false,
	.validate = pod_kill_validate,
	.apply = pod_kill_apply,
	.revert = pod_kill_revert,
	.revert_after = pod_kill_revert_after,
};
