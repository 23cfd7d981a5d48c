/*
 * metrics_faults.c - each fault's own timing, from its apply and revert events: when it
 * took effect and when its revert did (as the backend observed them, effect_by says how),
 * the latency of each call (called -> effect), how late each was against the plan's
 * deadline, and its effective duration (revert effect - apply effect) against the one
 * requested. Pure.
 */
#include "metrics.h"
#include "util.h"

#include <string.h>

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* The latency of a call that took effect at t_us: called -> effect; -1 when not logged. */
static int64_t latency_of(const struct fault_event *f)
{
	return f->called_us >= 0 && f->t_us >= f->called_us ? f->t_us - f->called_us : -1;
}

static void from_apply(const struct fault_event *f, struct fault_timing_metric *x)
{
	memset(x, 0, sizeof(*x));
	str_copy(x->fault, sizeof(x->fault), f->fault);
	str_copy(x->node, sizeof(x->node), f->node);
	str_copy(x->apply_by, sizeof(x->apply_by), f->effect_by);
	x->step = f->step;
	x->rep = f->rep;
	x->apply_effect_us = f->t_us;
	x->apply_latency_us = latency_of(f);
	x->apply_late_known = f->deadline_us >= 0;
	x->apply_late_us = x->apply_late_known ? f->t_us - f->deadline_us : 0;
	x->requested_us = f->requested_ms >= 0 ? (int64_t)(f->requested_ms * 1e3 + 0.5) : -1;
	x->revert_latency_us = -1;
}

static void from_revert(const struct fault_event *f, struct fault_timing_metric *x)
{
	x->reverted = true;
	str_copy(x->revert_by, sizeof(x->revert_by), f->effect_by);
	x->revert_effect_us = f->t_us;
	x->revert_latency_us = latency_of(f);
	x->revert_late_known = f->deadline_us >= 0;
	x->revert_late_us = x->revert_late_known ? f->t_us - f->deadline_us : 0;
	x->effective_us = x->revert_effect_us - x->apply_effect_us;
	x->duration_known = x->requested_us > 0;
	x->duration_error_us = x->duration_known ? x->effective_us - x->requested_us : 0;
}

/* The worst figures over every fault: what the SLO metrics judge. */
static void worst(struct metrics *m)
{
	for (int i = 0; i < m->nfault_timings; i++) {
		const struct fault_timing_metric *x = &m->fault_timings[i];

		if (x->reverted && x->duration_known) {
			if (!m->fault_duration_seen || abs64(x->duration_error_us) > abs64(m->max_duration_error_us))
				m->max_duration_error_us = x->duration_error_us;
			m->fault_duration_seen = true;
		}
		if (x->apply_late_known) {
			if (!m->fault_lateness_seen || x->apply_late_us > m->max_fault_late_us)
				m->max_fault_late_us = x->apply_late_us;
			m->fault_lateness_seen = true;
		}
		if (x->reverted && x->revert_late_known) {
			if (!m->fault_lateness_seen || x->revert_late_us > m->max_fault_late_us)
				m->max_fault_late_us = x->revert_late_us;
			m->fault_lateness_seen = true;
		}
	}
}

void metrics_faults(const struct events *ev, struct metrics *m)
{
	for (size_t i = 0; i < ev->nfaults; i++) {
		const struct fault_event *f = &ev->faults[i];

		if (strcmp(f->action, "apply") == 0) {
			if (m->nfault_timings < METRICS_MAX_FAULTS)
				from_apply(f, &m->fault_timings[m->nfault_timings++]);
			continue;
		}
		if (strcmp(f->action, "revert") != 0 && strcmp(f->action, "restart") != 0)
			continue;
		/* The revert of the earliest apply of the same step, repetition and node still open. */
		for (int j = 0; j < m->nfault_timings; j++) {
			struct fault_timing_metric *x = &m->fault_timings[j];

			if (!x->reverted && x->step == f->step && x->rep == f->rep && strcmp(x->node, f->node) == 0) {
				from_revert(f, x);
				break;
			}
		}
	}
	worst(m);
}
