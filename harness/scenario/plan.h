/*
 * plan.h - the schedule of one trial, computed from the scenario and the seed alone (the
 * Jepsen generator): which fault is applied or reverted, which wait happens, in what order
 * and at what offset. The dry run prints it, the executor (trial.c) walks it against
 * absolute deadlines, and tests assert on it: what is planned and what runs cannot differ.
 *
 * Timing rules, in one place:
 * - A fault step runs at its `at` (from the workload start), but never before the previous
 *   step has ended; without `at`, right after it. A step with count > 1 repeats every
 *   `every` from its first application.
 * - `wait: D` lasts D. `wait: healthy` starts once every fault applied before it has been
 *   reverted, and lasts as long as the cluster takes: the plan counts it as 0 s, and at run
 *   time every later entry moves by what it really took (its deadline counts from there).
 * - A fault is reverted its fault's revert delay (its `duration`, a pod's restart delay)
 *   after its apply took effect: at run time the revert's deadline counts from the apply.
 * - The trial ends when its last entry has run: a fault still in force then is reverted on
 *   time, not cut short.
 * - `bise run --step` holds each step's first apply (plan_step_gate) until "next": the
 *   trial's clock pauses, every later apply, wait and health wait moves by the time held
 *   (as after a health wait), and a fault already in force keeps its own clock (its revert
 *   still counts from its apply).
 */
#ifndef BISE_PLAN_H
#define BISE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/* Limits of one trial's plan, checked when it is built (so `bise validate` reports them). */
#define PLAN_MAX_ENTRIES 4096
#define PLAN_MAX_IN_FORCE 32

enum plan_action {
	PLAN_APPLY,        /* inject the step's fault */
	PLAN_REVERT,       /* undo the apply entry `apply` */
	PLAN_WAIT,         /* a plain wait ends here (nothing to do but have waited) */
	PLAN_WAIT_HEALTHY, /* wait until the cluster is healthy, up to the step's timeout */
};

struct plan_entry {
	enum plan_action action;
	int step;            /* index in scenario->steps */
	int rep;             /* 1-based repetition of the step (count > 1), else 1 */
	int64_t offset_us;   /* planned offset from the workload start (health waits take 0 s) */
	int anchor;          /* entry whose actual time offset_us counts from; -1: workload start */
	int apply;           /* PLAN_REVERT: its apply entry; else -1 */
	int revert;          /* PLAN_APPLY: its revert entry, -1 when the fault needs none */
	int64_t in_force_us; /* PLAN_APPLY: how long it stays in force (-1: not reverted) */
	bool late;           /* the step's `at` fell before the previous step ended */
	uint64_t draw;       /* PLAN_APPLY: the seeded draw that picks among candidate members */
};

struct plan {
	int n;
	struct plan_entry *entries; /* in the order the executor walks them */
	int64_t end_us;             /* planned length of a trial (health waits counted as 0 s) */
	int max_in_force;           /* most faults in force at once */
	bool open_ended;            /* has a health wait: the real length is not known in advance */
};

/*
 * Build the plan of trial `trial` (1-based) of sc; the seed and the trial number give every
 * apply its draw. False with why ("step N: reason") when the scenario exceeds a limit.
 */
bool plan_build(const struct scenario *sc, uint64_t seed, int trial, struct plan *out, char *why,
		size_t why_len);

void plan_free(struct plan *p);

/*
 * Whether sc can be planned within the limits (checked when a scenario is loaded). False:
 * *bad_step is the step (0-based) where a limit was passed, why says which.
 */
bool plan_check(const struct scenario *sc, int *bad_step, char *why, size_t why_len);

/*
 * When entry i is due, from when the entries it counts from actually ran: actual_us[k] is
 * the time entry k ran (its apply took effect, its health wait ended), t0_us the workload
 * start. Entries before i that it counts from must have run.
 */
int64_t plan_deadline(const struct plan *p, int i, const int64_t *actual_us, int64_t t0_us);

/*
 * One line describing entry i for people ("+4.000s step 3: pod-kill on primary: apply"),
 * without a newline. Returns buf.
 */
const char *plan_entry_describe(const struct plan *p, int i, const struct scenario *sc, char *buf,
				size_t len);

/* Where entry i falls, for people: "+4.000s step 3" or "+1.000s after the health wait of step 2, step 3". */
const char *plan_entry_when(const struct plan *p, int i, const struct scenario *sc, char *buf,
			    size_t len);

const char *plan_action_name(enum plan_action a);

/*
 * Whether `--step` holds entry i for "next": a step's first apply, unless the apply before
 * it is planned at the same moment (steps meant to run together go on one "next").
 */
bool plan_step_gate(const struct plan *p, int i);

/* Revert delay of step st's fault: its duration or restart delay; -1 when it has no revert. */
int64_t plan_revert_after(const struct scenario *sc, const struct step *st);

#endif
