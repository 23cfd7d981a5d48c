/*
 * fault.h - the fault registry. One fault per file under harness/faults/, one entry per
 * fault in the table in fault.c. A fault says which driver capabilities it needs, and may
 * build the exact request it will make (a network fault's pairs); fault_supported decides
 * from both, before anything is touched, whether the step is skipped, with the reason.
 */
#ifndef BISE_FAULT_H
#define BISE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "scenario.h"

#define FAULT_OPS_VERSION 1

struct fault_ctx {
	const struct driver_ops *ops;
	struct driver *drv;
	const struct scenario *scenario; /* NULL when healing from a journal */
	const char *fault_id; /* unique per applied fault ("bise-<pid>-<n>"): tags what it sets up */
};

struct fault_ops {
	int version; /* FAULT_OPS_VERSION */
	const char *name;
	const char *help;
	unsigned needs;              /* DRIVER_CAP_* bits */
	const char *const *options;  /* NULL-terminated fault-specific keys */
	bool takes_duration;         /* whether "duration" means anything to this fault */

	/* Check the step's option values; write "reason (hint: ...)" to why. May be NULL. */
	bool (*validate)(const struct step *st, char *why, size_t why_len);

	/* Inject on member. When it is reverted is the plan's business (revert_after). */
	bool (*apply)(struct fault_ctx *ctx, const struct step *st, const char *member);

	/*
	 * How long after its apply the fault is reverted, from the step alone (the plan is
	 * computed before anything runs). NULL: the step's duration when revert is set.
	 */
	int64_t (*revert_after)(const struct step *st, const struct scenario *sc);

	/* Undo; must be idempotent. May be NULL when apply never asks for a revert. */
	bool (*revert)(struct fault_ctx *ctx, const struct step *st, const char *member);

	/*
	 * DRIVER_CAP_* bits this step needs beyond needs, from its options (random loss, the
	 * client as a party). May be NULL: needs says it all.
	 */
	unsigned (*step_needs)(const struct step *st);

	/*
	 * What applying st on member will ask of the backend beyond the capability bits: the
	 * network faults' pairs (req->net, exactly as apply will pass them to net_apply, the id
	 * possibly still empty). False when the shape cannot be built (between names no zone):
	 * apply then reports it as the error it is. Touches nothing. May be NULL.
	 */
	bool (*request)(struct fault_ctx *ctx, const struct step *st, const char *member,
			struct fault_request *req);
};

/*
 * The one decision whether ctx's backend can do step st on member, made before anything is
 * touched: the capability bits (fault_step_needs against ops->caps), what the cluster as
 * provisioned can do and the shape of this very fault (the fault's request, asked through
 * the backend's can op). False: why says why and the step is a SKIP. An apply never skips.
 */
bool fault_supported(struct fault_ctx *ctx, const struct step *st, const char *member, char *why,
		     size_t why_len);

/* Every capability step st asks of the backend: its fault's needs and step_needs. */
unsigned fault_step_needs(const struct step *st);

/* The id that tags everything one applied fault sets up: "bise-<runner pid>-<journal id>". */
bool fault_id_format(char *buf, size_t len, int runner_pid, int journal_id);

/* Look a fault up by name; NULL if unknown. */
const struct fault_ops *fault_find(const char *name);

/* Comma-separated fault names, for hints. */
const char *fault_names(void);

/* The whole table, NULL-terminated (for `bise list`). */
const struct fault_ops *const *fault_table(void);

#endif
