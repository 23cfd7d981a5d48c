/*
 * storage_stall.c - the target's disk misbehaves for the step's duration: every operation
 * blocks (mode: stall), waits first (mode: delay, delay: 50ms) or fails with EIO
 * (mode: eio), on the whole data directory or only pg_wal (scope: all|wal). The local
 * backend does it through its FUSE data directories, so the cluster needs cluster.fuse.
 */
#include "fault.h"
#include "units.h"
#include "util.h"

#include <string.h>

#define DEFAULT_DELAY_US 50000
#define MAX_DELAY_US (10 * 1000000LL)

static const char *const storage_stall_options[] = { "mode", "scope", "delay", NULL };

/* The step's options as an io_fault; why gets "reason (hint: ...)". */
static bool io_fault_of(const struct step *st, struct io_fault *f, char *why, size_t why_len)
{
	const char *mode = step_option(st, "mode");
	const char *scope = step_option(st, "scope");
	const char *delay = step_option(st, "delay");

	memset(f, 0, sizeof(*f));
	if (!mode || strcmp(mode, "stall") == 0) {
		f->mode = IO_STALL;
	} else if (strcmp(mode, "delay") == 0) {
		f->mode = IO_DELAY;
	} else if (strcmp(mode, "eio") == 0) {
		f->mode = IO_ERROR;
	} else {
		str_format(why, why_len, "mode \"%s\" is not stall, delay or eio (hint: mode: stall "
			   "blocks every I/O until the end, delay slows it, eio fails it)", mode);
		return false;
	}
	if (!scope || strcmp(scope, "all") == 0) {
		f->wal_only = false;
	} else if (strcmp(scope, "wal") == 0) {
		f->wal_only = true;
	} else {
		str_format(why, why_len, "scope \"%s\" is neither all nor wal (hint: scope: wal touches "
			   "only pg_wal, all the whole data directory)", scope);
		return false;
	}
	if (delay && f->mode != IO_DELAY) {
		str_format(why, why_len, "delay applies only to mode: delay (hint: add mode: delay, or "
			   "remove delay)");
		return false;
	}
	f->delay_us = f->mode == IO_DELAY ? DEFAULT_DELAY_US : 0;
	if (delay) {
		char reason[96];

		if (!duration_parse(delay, &f->delay_us, reason, sizeof(reason)) ||
		    f->delay_us < 1 || f->delay_us > MAX_DELAY_US) {
			str_format(why, why_len, "delay \"%s\" is not a duration from 1us to 10s "
				   "(hint: delay: 50ms)", delay);
			return false;
		}
	}
	return true;
}

static bool storage_stall_validate(const struct step *st, char *why, size_t why_len)
{
	struct io_fault f;

	return io_fault_of(st, &f, why, why_len);
}

static bool storage_stall_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	struct io_fault f;
	char why[200];

	if (!io_fault_of(st, &f, why, sizeof(why))) {
		log_error("storage-stall: %s", why);
		return false;
	}
	/* The backend names what is missing (e.g. a local cluster without cluster.fuse). */
	return ctx->ops->io_fault(ctx->drv, member, &f);
}

static bool storage_stall_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	return ctx->ops->io_heal(ctx->drv, member);
}

const struct fault_ops fault_storage_stall = {
	.version = FAULT_OPS_VERSION,
	.name = "storage-stall",
	.help = "the target's disk stalls (mode: stall), slows down (mode: delay, delay: 50ms) or "
		"fails with EIO (mode: eio), whole data directory or scope: wal; local: cluster.fuse",
	.needs = DRIVER_CAP_STORAGE_STALL,
	.options = storage_stall_options,
	.takes_duration = true,
	.validate = storage_stall_validate,
	.apply = storage_stall_apply,
	.revert = storage_stall_revert,
};
