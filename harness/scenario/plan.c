/* plan.c - a trial's schedule from the scenario and the seed. See plan.h for the rules. */
#include "plan.h"

#include "fault.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A fault applied in the plan and not yet reverted. */
struct owed {
	int apply;      /* its apply entry */
	int64_t due_us; /* planned revert offset */
};

struct builder {
	const struct scenario *sc;
	struct plan *p;
	uint64_t rng;
	int segment; /* the last health wait: later entries count from it; -1: workload start */
	int nowed;
	struct owed owed[PLAN_MAX_IN_FORCE];
	int step;   /* the step being planned, for errors */
	char *why;
	size_t why_len;
};

/* splitmix64: a tiny seeded generator so a random targeting can be replayed. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t plan_revert_after(const struct scenario *sc, const struct step *st)
{
	if (!st->fault || !st->fault->revert)
		return -1;
	if (st->fault->revert_after)
		return st->fault->revert_after(st, sc);
	return st->duration_us;
}

static int add(struct builder *b, enum plan_action action, int step, int rep, int64_t offset_us)
{
	struct plan *p = b->p;
	struct plan_entry *e;

	if (p->n == PLAN_MAX_ENTRIES) {
		str_format(b->why, b->why_len, "step %d: more than %d planned actions in one trial", step + 1,
			   PLAN_MAX_ENTRIES);
		return -1;
	}
	e = &p->entries[p->n];
	memset(e, 0, sizeof(*e));
	e->action = action;
	e->step = step;
	e->rep = rep;
	e->offset_us = offset_us;
	e->anchor = b->segment;
	e->apply = -1;
	e->revert = -1;
	e->in_force_us = -1;
	if (offset_us > p->end_us)
		p->end_us = offset_us;
	return p->n++;
}

/* Plan the revert of every owed fault due by until_us (all of them when all), in due order. */
static bool revert_due(struct builder *b, int64_t until_us, bool all)
{
	for (;;) {
		int first = -1, k;
		struct owed o;

		for (int i = 0; i < b->nowed; i++)
			if ((all || b->owed[i].due_us <= until_us) &&
			    (first < 0 || b->owed[i].due_us < b->owed[first].due_us))
				first = i;
		if (first < 0)
			return true;
		o = b->owed[first];
		/* Keep the rest in apply order, so equal deadlines revert in the order applied. */
		memmove(&b->owed[first], &b->owed[first + 1], (size_t)(b->nowed - first - 1) * sizeof(o));
		b->nowed--;
		k = add(b, PLAN_REVERT, b->p->entries[o.apply].step, b->p->entries[o.apply].rep, o.due_us);
		if (k < 0)
			return false;
		b->p->entries[k].anchor = o.apply;
		b->p->entries[k].apply = o.apply;
		b->p->entries[o.apply].revert = k;
	}
}

static bool offset_add(struct builder *b, int step, int64_t a, int64_t d, int64_t *out)
{
	if (__builtin_add_overflow(a, d, out)) {
		str_format(b->why, b->why_len, "step %d: its offset overflows", step + 1);
		return false;
	}
	return true;
}

static bool plan_fault_step(struct builder *b, int i, int64_t *cursor)
{
	const struct step *st = &b->sc->steps[i];
	int reps = st->count > 1 && st->every_us > 0 ? st->count : 1;
	int64_t first = st->at_us >= 0 ? st->at_us : *cursor, revert_after = plan_revert_after(b->sc, st);
	bool late = st->at_us >= 0 && st->at_us < *cursor;

	if (late)
		first = *cursor;
	for (int k = 0; k < reps; k++) {
		int64_t at, step_at;
		int e;

		if (__builtin_mul_overflow((int64_t)k, st->every_us, &step_at) ||
		    !offset_add(b, i, first, step_at, &at))
			return false;
		if (!revert_due(b, at, false))
			return false;
		e = add(b, PLAN_APPLY, i, k + 1, at);
		if (e < 0)
			return false;
		b->p->entries[e].late = late && k == 0;
		b->p->entries[e].draw = rng_next(&b->rng);
		b->p->entries[e].in_force_us = revert_after;
		*cursor = at;
		if (revert_after < 0)
			continue;
		if (b->nowed == PLAN_MAX_IN_FORCE) {
			str_format(b->why, b->why_len, "step %d: more than %d faults in force at once", i + 1,
				   PLAN_MAX_IN_FORCE);
			return false;
		}
		if (!offset_add(b, i, at, revert_after, &b->owed[b->nowed].due_us))
			return false;
		b->owed[b->nowed++].apply = e;
		if (b->nowed > b->p->max_in_force)
			b->p->max_in_force = b->nowed;
	}
	return true;
}

static bool build(const struct scenario *sc, uint64_t seed, int trial, struct plan *out, int *bad_step,
		  char *why, size_t why_len)
{
	struct builder b;
	int64_t cursor = 0;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.sc = sc;
	b.p = out;
	b.rng = seed + (uint64_t)trial;
	b.segment = -1;
	b.why = why;
	b.why_len = why_len;
	out->entries = xcalloc(PLAN_MAX_ENTRIES, sizeof(*out->entries));
	for (int i = 0; i < sc->nsteps; i++) {
		const struct step *st = &sc->steps[i];
		bool ok = true;
		int e;

		b.step = i;
		switch (st->kind) {
		case STEP_FAULT:
			ok = plan_fault_step(&b, i, &cursor);
			break;
		case STEP_WAIT:
			ok = offset_add(&b, i, cursor, st->duration_us, &cursor) && revert_due(&b, cursor, false) &&
			     add(&b, PLAN_WAIT, i, 1, cursor) >= 0;
			break;
		case STEP_WAIT_HEALTHY:
			/* Health is judged once every fault has ended: it starts after the last revert. */
			ok = revert_due(&b, 0, true);
			if (ok && out->end_us > cursor)
				cursor = out->end_us;
			e = ok ? add(&b, PLAN_WAIT_HEALTHY, i, 1, cursor) : -1;
			ok = e >= 0;
			b.segment = e;
			out->open_ended = true;
			break;
		}
		if (!ok) {
			if (bad_step)
				*bad_step = i;
			plan_free(out);
			return false;
		}
	}
	/* Faults never outlive the trial, and are not cut short either. */
	if (!revert_due(&b, 0, true)) {
		if (bad_step)
			*bad_step = sc->nsteps - 1;
		plan_free(out);
		return false;
	}
	return true;
}

bool plan_build(const struct scenario *sc, uint64_t seed, int trial, struct plan *out, char *why,
		size_t why_len)
{
	return build(sc, seed, trial, out, NULL, why, why_len);
}

bool plan_check(const struct scenario *sc, int *bad_step, char *why, size_t why_len)
{
	struct plan p;

	*bad_step = -1;
	if (!build(sc, 0, 1, &p, bad_step, why, why_len))
		return false;
	plan_free(&p);
	return true;
}

void plan_free(struct plan *p)
{
	free(p->entries);
	memset(p, 0, sizeof(*p));
}

int64_t plan_deadline(const struct plan *p, int i, const int64_t *actual_us, int64_t t0_us)
{
	const struct plan_entry *e = &p->entries[i];

	if (e->anchor < 0)
		return t0_us + e->offset_us;
	return actual_us[e->anchor] + (e->offset_us - p->entries[e->anchor].offset_us);
}

bool plan_step_gate(const struct plan *p, int i)
{
	const struct plan_entry *e = &p->entries[i];

	if (e->action != PLAN_APPLY || e->rep != 1)
		return false;
	for (int k = i - 1; k >= 0; k--) {
		const struct plan_entry *b = &p->entries[k];

		if (b->action == PLAN_REVERT)
			continue;
		return !(b->action == PLAN_APPLY && b->offset_us == e->offset_us && b->anchor == e->anchor);
	}
	return true;
}

const char *plan_action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_APPLY: return "apply";
	case PLAN_REVERT: return "revert";
	case PLAN_WAIT: return "wait";
	case PLAN_WAIT_HEALTHY: return "wait-healthy";
	}
	return "?";
}

const char *plan_entry_when(const struct plan *p, int i, const struct scenario *sc, char *buf,
			    size_t len)
{
	const struct plan_entry *e = &p->entries[i];
	const struct step *st = &sc->steps[e->step];
	int h = e->anchor;
	char rep[32] = "";

	/* A revert counts from its apply; what the reader needs is the segment it falls in. */
	while (h >= 0 && p->entries[h].action != PLAN_WAIT_HEALTHY)
		h = p->entries[h].anchor;
	if (st->kind == STEP_FAULT && st->count > 1)
		str_format(rep, sizeof(rep), " (%d of %d)", e->rep, st->count);
	if (h >= 0)
		str_format(buf, len, "+%.3fs after the health wait of step %d, step %d%s",
			   (double)(e->offset_us - p->entries[h].offset_us) / 1e6, p->entries[h].step + 1,
			   e->step + 1, rep);
	else
		str_format(buf, len, "+%.3fs step %d%s", (double)e->offset_us / 1e6, e->step + 1, rep);
	return buf;
}

const char *plan_entry_describe(const struct plan *p, int i, const struct scenario *sc, char *buf,
				size_t len)
{
	const struct plan_entry *e = &p->entries[i];
	const struct step *st = &sc->steps[e->step];
	char when[96];

	plan_entry_when(p, i, sc, when, sizeof(when));
	switch (e->action) {
	case PLAN_APPLY:
		str_format(buf, len, "%s: %s on %s: apply%s", when, st->fault->name, st->target,
			   e->late ? " (its `at` falls before the previous step ends)" : "");
		break;
	case PLAN_REVERT:
		str_format(buf, len, "%s: %s on %s: revert (%.3fs after its apply)", when,
			   st->fault->name, st->target,
			   (double)p->entries[e->apply].in_force_us / 1e6);
		break;
	case PLAN_WAIT:
		str_format(buf, len, "%s: waited %.3fs", when,
			   (double)st->duration_us / 1e6);
		break;
	case PLAN_WAIT_HEALTHY:
		str_format(buf, len, "%s: wait until healthy (up to %.0fs)", when,
			   (double)st->timeout_us / 1e6);
		break;
	}
	return buf;
}
