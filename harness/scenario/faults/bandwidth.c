/*
 * bandwidth.c - limit the rate between groups of zones (and the client) ("rate: 1mbit").
 * The limit is applied where traffic leaves its sender, so each direction gets the rate
 * (only the first group's sending with one_way), and one sender's traffic to the whole
 * other group shares it. Reverted after duration.
 */
#include "fault.h"
#include "net_step.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

static const char *const bandwidth_options[] = { "rate", "between", "one_way", NULL };

/* "1mbit", "512kbit", "1.5gbit", "64000bit": bits per second, at least 8 kbit. */
static bool rate_of(const struct step *st, int64_t *out, char *why, size_t why_len)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { NULL, 0 } };
	const char *text = step_option(st, "rate");
	char *end;
	double v;

	if (!text) {
		str_format(why, why_len, "bandwidth needs rate (hint: rate: 1mbit)");
		return false;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno == 0 && end != text && v > 0 && isfinite(v))
		for (int i = 0; units[i].unit; i++)
			if (strcasecmp(end, units[i].unit) == 0 && v * units[i].mult >= 8000 &&
			    v * units[i].mult <= 100e9) {
				*out = (int64_t)llround(v * units[i].mult);
				return true;
			}
	str_format(why, why_len, "rate \"%s\" is not a rate from 8kbit to 100gbit "
		   "(hint: rate: 1mbit; units bit, kbit, mbit, gbit)", text);
	return false;
}

static bool bandwidth_validate(const struct step *st, char *why, size_t why_len)
{
	int64_t rate;

	return net_step_validate(st, why, why_len) && rate_of(st, &rate, why, why_len);
}

static bool bandwidth_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	struct net_fault f = { .rate_bps = 0 };
	char why[160];

	if (!rate_of(st, &f.rate_bps, why, sizeof(why))) {
		log_error("bandwidth: %s", why);
		return false;
	}
	return net_step_apply(ctx, st, member, &f);
}

static bool bandwidth_request(struct fault_ctx *ctx, const struct step *st, const char *member,
			      struct fault_request *req)
{
	struct net_fault f = { .rate_bps = 0 };
	char why[160];

	return rate_of(st, &f.rate_bps, why, sizeof(why)) && net_step_request(ctx, st, member, &f, req);
}

const struct fault_ops fault_bandwidth = {
	.version = FAULT_OPS_VERSION,
	.name = "bandwidth",
	.help = "limit the rate each side sends to the other between groups of zones and the "
		"client (rate: 1mbit; between and one_way as for network-partition)",
	.needs = DRIVER_CAP_NET_BANDWIDTH,
	.options = bandwidth_options,
	.takes_duration = true,
	.validate = bandwidth_validate,
	.apply = bandwidth_apply,
	.revert = net_step_revert,
	.request = bandwidth_request,
	.step_needs = net_step_needs,
};
