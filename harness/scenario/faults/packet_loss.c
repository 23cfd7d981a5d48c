/*
 * packet_loss.c - drop a share of the packets between groups of zones (and the client),
 * each packet independently at random ("loss: 30%"). Reverted after duration.
 */
#include "fault.h"
#include "net_step.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const packet_loss_options[] = { "loss", "between", "one_way", NULL };

/* "30%" or "30": a share in (0, 100]. */
static bool loss_of(const struct step *st, double *out, char *why, size_t why_len)
{
	const char *text = step_option(st, "loss");
	char *end;

	if (!text) {
		str_format(why, why_len, "packet-loss needs loss (hint: loss: 30%%)");
		return false;
	}
	errno = 0;
	*out = strtod(text, &end);
	if (*end == '%')
		end++;
	if (errno != 0 || end == text || *end != '\0' || !(*out > 0.0 && *out <= 100.0)) {
		str_format(why, why_len, "loss \"%s\" is not a share above 0%% and up to 100%% "
			   "(hint: loss: 30%%)", text);
		return false;
	}
	return true;
}

static bool packet_loss_validate(const struct step *st, char *why, size_t why_len)
{
	double loss;

	return net_step_validate(st, why, why_len) && loss_of(st, &loss, why, why_len);
}

static bool packet_loss_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	struct net_fault f = { .loss_pct = 0 };
	char why[128];

	if (!loss_of(st, &f.loss_pct, why, sizeof(why))) {
		log_error("packet-loss: %s", why);
		return false;
	}
	return net_step_apply(ctx, st, member, &f);
}

/* Random drops (below 100%) are a capability of their own: a NetworkPolicy cannot do them. */
static unsigned packet_loss_needs(const struct step *st)
{
	double loss;
	char why[128];
	unsigned caps = net_step_needs(st);

	if (loss_of(st, &loss, why, sizeof(why)) && loss < 100.0)
		caps |= DRIVER_CAP_NET_LOSS;
	return caps;
}

static bool packet_loss_request(struct fault_ctx *ctx, const struct step *st, const char *member,
				struct fault_request *req)
{
	struct net_fault f = { .loss_pct = 0 };
	char why[128];

	return loss_of(st, &f.loss_pct, why, sizeof(why)) && net_step_request(ctx, st, member, &f, req);
}

const struct fault_ops fault_packet_loss = {
	.version = FAULT_OPS_VERSION,
	.name = "packet-loss",
	.help = "drop a share of the packets between groups of zones and the client at random "
		"(loss: 30%; between and one_way as for network-partition)",
	.needs = DRIVER_CAP_NET_FAULT,
	.options = packet_loss_options,
	.takes_duration = true,
	.validate = packet_loss_validate,
	.apply = packet_loss_apply,
	.revert = net_step_revert,
	.request = packet_loss_request,
	.step_needs = packet_loss_needs,
};
