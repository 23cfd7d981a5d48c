/*
 * latency.c - delay every packet between groups of zones (and the client) by delay, with
 * optional uniform jitter (+-jitter, packets never reordered). Each direction is delayed,
 * so the round trip grows by twice delay (only one direction with one_way). Reverted
 * after duration.
 */
#include "fault.h"
#include "net_step.h"
#include "units.h"
#include "util.h"

static const char *const latency_options[] = { "delay", "jitter", "between", "one_way", NULL };

static bool delay_of(const struct step *st, int64_t *delay, int64_t *jitter, char *why,
		     size_t why_len)
{
	const char *d = step_option(st, "delay"), *j = step_option(st, "jitter");
	char reason[96];

	*jitter = 0;
	if (!d) {
		str_format(why, why_len, "latency needs delay (hint: delay: 25ms)");
		return false;
	}
	if (!duration_parse(d, delay, reason, sizeof(reason)) || *delay <= 0 || *delay > 10000000) {
		str_format(why, why_len, "delay \"%s\": %s (hint: delay: 25ms, at most 10s)", d,
			   *delay <= 0 ? "must be above 0" : reason);
		return false;
	}
	if (j && (!duration_parse(j, jitter, reason, sizeof(reason)) || *jitter > *delay)) {
		str_format(why, why_len, "jitter \"%s\" must be a duration not above delay (hint: "
			   "jitter: 5ms)", j);
		return false;
	}
	return true;
}

static bool latency_validate(const struct step *st, char *why, size_t why_len)
{
	int64_t delay, jitter;

	return net_step_validate(st, why, why_len) && delay_of(st, &delay, &jitter, why, why_len);
}

static bool latency_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	struct net_fault f = { .latency_us = 0 };
	char why[160];

	if (!delay_of(st, &f.latency_us, &f.jitter_us, why, sizeof(why))) {
		log_error("latency: %s", why);
		return false;
	}
	return net_step_apply(ctx, st, member, &f);
}

static bool latency_request(struct fault_ctx *ctx, const struct step *st, const char *member,
			    struct fault_request *req)
{
	struct net_fault f = { .latency_us = 0 };
	char why[160];

	return delay_of(st, &f.latency_us, &f.jitter_us, why, sizeof(why)) &&
	       net_step_request(ctx, st, member, &f, req);
}

const struct fault_ops fault_latency = {
	.version = FAULT_OPS_VERSION,
	.name = "latency",
	.help = "delay each packet between groups of zones and the client (delay: 25ms, optional "
		"jitter: 5ms; the round trip grows by 2 x delay; between and one_way as for "
		"network-partition)",
	.needs = DRIVER_CAP_NET_LATENCY,
	.options = latency_options,
	.takes_duration = true,
	.validate = latency_validate,
	.apply = latency_apply,
	.revert = net_step_revert,
	.request = latency_request,
	.step_needs = net_step_needs,
};
