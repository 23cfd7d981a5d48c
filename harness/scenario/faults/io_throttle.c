/*
 * io_throttle.c - the target's disk gets slow for the step's duration: its PostgreSQL and
 * Patroni are limited to iops operations and/or bps bytes per second (reads and writes
 * each). Processes stay healthy and the HA agent usually never notices: commits just get
 * slow, a failure a failover cannot fix.
 */
#include "fault.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_IOPS 10000000L

static const char *const io_throttle_options[] = { "iops", "bps", NULL };

static bool iops_of(const struct step *st, int64_t *out, char *why, size_t why_len)
{
	const char *text = step_option(st, "iops");
	char *end;
	long v;

	*out = 0;
	if (!text)
		return true;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > MAX_IOPS) {
		str_format(why, why_len, "iops \"%s\" is not a whole number of operations per second "
			   "(hint: 1 to %ld, e.g. iops: 10)", text, MAX_IOPS);
		return false;
	}
	*out = v;
	return true;
}

/* bps: a size per second; units in any case ("1mb", "512KiB") and an optional "/s". */
static bool bps_of(const struct step *st, int64_t *out, char *why, size_t why_len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "KiB", "MiB", "GiB", NULL };
	const char *text = step_option(st, "bps");
	char norm[64];
	size_t len, digits;

	*out = 0;
	if (!text)
		return true;
	if (!str_copy(norm, sizeof(norm), text))
		goto bad;
	len = strlen(norm);
	if (len > 2 && strcmp(norm + len - 2, "/s") == 0)
		norm[len - 2] = '\0';
	digits = strspn(norm, "0123456789.");
	for (int i = 0; units[i]; i++)
		if (strcasecmp(norm + digits, units[i]) == 0)
			str_copy(norm + digits, sizeof(norm) - digits, units[i]);
	if (!size_parse(norm, out, why, why_len))
		return false;
	if (*out >= 1)
		return true;
bad:
	str_format(why, why_len, "bps \"%s\" is not a rate of at least one byte per second "
		   "(hint: e.g. bps: 1MB)", text);
	return false;
}

static bool limits_of(const struct step *st, int64_t *iops, int64_t *bps, char *why, size_t why_len)
{
	if (!iops_of(st, iops, why, why_len) || !bps_of(st, bps, why, why_len))
		return false;
	if (*iops == 0 && *bps == 0) {
		str_format(why, why_len, "io-throttle needs a limit (hint: iops: 10 and/or bps: 1MB)");
		return false;
	}
	return true;
}

static bool io_throttle_validate(const struct step *st, char *why, size_t why_len)
{
	int64_t iops, bps;

	return limits_of(st, &iops, &bps, why, why_len);
}

static bool io_throttle_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	int64_t iops, bps;
	char why[160];

	if (!limits_of(st, &iops, &bps, why, sizeof(why))) {
		log_error("io-throttle: %s", why);
		return false;
	}
	return ctx->ops->io_throttle(ctx->drv, member, iops, bps);
}

static bool io_throttle_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	return ctx->ops->io_throttle(ctx->drv, member, 0, 0);
}

const struct fault_ops fault_io_throttle = {
	.version = FAULT_OPS_VERSION,
	.name = "io-throttle",
	.help = "limit the target's disk I/O (iops: N, bps: SIZE per second) for the duration; "
		"processes stay healthy",
	.needs = DRIVER_CAP_IO_THROTTLE,
	.options = io_throttle_options,
	.takes_duration = true,
	.validate = io_throttle_validate,
	.apply = io_throttle_apply,
	.revert = io_throttle_revert,
};
