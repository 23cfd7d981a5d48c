/*
 * process_pause.c - the target's PostgreSQL and/or Patroni are frozen with SIGSTOP for the
 * step's duration and resumed with SIGCONT: a primary that still holds its connections and
 * its leader lease but answers nothing (a long GC-like stall, a hung VM).
 */
#include "fault.h"
#include "util.h"

#include <string.h>

static const char *const process_pause_options[] = { "what", NULL };

/* option what: postgres (default) | patroni | both */
static bool what_of(const struct step *st, enum pause_what *out, char *why, size_t why_len)
{
	const char *text = step_option(st, "what");

	if (!text || strcmp(text, "postgres") == 0)
		*out = PAUSE_POSTGRES;
	else if (strcmp(text, "patroni") == 0)
		*out = PAUSE_PATRONI;
	else if (strcmp(text, "both") == 0)
		*out = PAUSE_BOTH;
	else {
		str_format(why, why_len, "what \"%s\" is not a process group (hint: postgres, "
			   "patroni or both)", text);
		return false;
	}
	return true;
}

static bool process_pause_validate(const struct step *st, char *why, size_t why_len)
{
	enum pause_what what;

	return what_of(st, &what, why, why_len);
}

static bool process_pause_apply(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	enum pause_what what;
	char why[128];

	if (!what_of(st, &what, why, sizeof(why))) {
		log_error("process-pause: %s", why);
		return false;
	}
	if (!ctx->ops->pause) {
		log_error("process-pause: the %s backend cannot freeze processes", ctx->ops->name);
		return false;
	}
	return ctx->ops->pause(ctx->drv, member, what, true);
}

static bool process_pause_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	enum pause_what what;
	char why[128];

	/* An option the journal kept badly must not leave processes stopped: resume them all. */
	if (!what_of(st, &what, why, sizeof(why)))
		what = PAUSE_BOTH;
	if (!ctx->ops->pause)
		return true; /* a backend that cannot freeze has frozen nothing */
	return ctx->ops->pause(ctx->drv, member, what, false);
}

const struct fault_ops fault_process_pause = {
	.version = FAULT_OPS_VERSION,
	.name = "process-pause",
	.help = "SIGSTOP the target's PostgreSQL (what: postgres), Patroni (patroni) or both "
		"for the duration, then SIGCONT",
	.needs = DRIVER_CAP_PAUSE,
	.options = process_pause_options,
	.takes_duration = true,
	.validate = process_pause_validate,
	.apply = process_pause_apply,
	.revert = process_pause_revert,
};
