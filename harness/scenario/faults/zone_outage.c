/*
 * zone_outage.c - the target's whole zone loses power for the step's duration: every
 * process there dies at once (DCS member, HA agent, PostgreSQL) and the zone drops off the
 * network, so peers see silence, not closed connections. On revert the zone comes back
 * and its processes start again, as after a reboot.
 */
#include "fault.h"
#include "util.h"

#include <string.h>

/* The zone a member lives in (a zone-level fault is addressed through a member). */
static bool zone_of(struct fault_ctx *ctx, const char *member, char *zone, size_t len)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n;

	/* Listing members queries them (slow when a zone is dark): skip it when the name says. */
	if (ctx->scenario)
		for (int i = 0; i < ctx->scenario->cluster.nzones; i++)
			if (strcmp(ctx->scenario->cluster.zones[i], member) == 0)
				return str_copy(zone, len, member);
	n = ctx->ops->members(ctx->drv, m, DRIVER_MAX_MEMBERS);
	for (int i = 0; i < n; i++)
		if (strcmp(m[i].name, member) == 0)
			return str_copy(zone, len, m[i].zone);
	/* Not listed (down, or healing a dead run): members are named after their zone. */
	return str_copy(zone, len, member);
}

static bool zone_outage_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	char zone[ZONE_NAME_LEN];

	if (!ctx->ops->zone_stop || !ctx->ops->zone_start) {
		log_error("zone-outage: the %s backend cannot take a zone down", ctx->ops->name);
		return false;
	}
	if (!zone_of(ctx, member, zone, sizeof(zone))) {
		log_error("zone-outage: no zone for member %s", member);
		return false;
	}
	return ctx->ops->zone_stop(ctx->drv, zone);
}

static bool zone_outage_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	char zone[ZONE_NAME_LEN];

	if (!ctx->ops->zone_start)
		return true; /* a backend without zone outages took no zone down */
	if (!zone_of(ctx, member, zone, sizeof(zone))) {
		log_error("zone-outage: no zone for member %s", member);
		return false;
	}
	return ctx->ops->zone_start(ctx->drv, zone);
}

const struct fault_ops fault_zone_outage = {
	.version = FAULT_OPS_VERSION,
	.name = "zone-outage",
	.help = "the target's zone loses power for the duration: every process SIGKILLed, the "
		"zone cut off the network; restarted on revert",
	.needs = DRIVER_CAP_ZONE_OUTAGE,
	.options = NULL,
	.takes_duration = true,
	.validate = NULL,
	.apply = zone_outage_apply,
	.revert = zone_outage_revert,
};
