/* trial.c - one trial: the workload, the plan walked against its deadlines, recovery, read-back. */
#include "trial.h"

#include "driver.h"
#include "event.h"
#include "fault.h"
#include "progress.h"
#include "journal.h"
#include "live.h"
#include "plan.h"
#include "step_gate.h"
#include "units.h"
#include "util.h"
#include "workload.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESOLVE_TIMEOUT_US (10 * 1000000LL)
/* An apply is prepared (target resolved, intent journaled and fsync'd) this long before it is due. */
#define PREPARE_LEAD_US (750 * 1000LL)
#define PREFLIGHT_HEALTH_TIMEOUT_US (90 * 1000000LL)
#define READBACK_TIMEOUT_US (30 * 1000000LL)

/* What the executor knows of one plan entry once it ran. */
struct entry_state {
	bool done;
	/* PLAN_APPLY only: */
	bool in_force; /* applied, not yet reverted */
	char member[MEMBER_NAME_LEN];
	char fault_id[48];
	int journal_id;
	int64_t effect_us; /* when the apply took effect (measured when the backend can) */
};

/*
 * How long before a fault's deadline (apply or revert) the executor's thread runs at a
 * real-time priority, until the backend's call returns: on a loaded 2-core machine an
 * ordinary thread woke several ms late and the threads loading a zone's rules waited
 * their turn for tens of ms; during a failover one woke from a 20 ms nap more than 30 ms
 * late, so that a partition's revert was called 12 ms late and at an ordinary priority.
 * A call is made at that priority even when the nap before it ran late. Children it forks
 * do not inherit it (SCHED_RESET_ON_FORK); threads the backend runs the call in may take it
 * on (netfault_nft.c's do).
 */
#define URGENT_LEAD_US 100000LL

/*
 * A fault's call takes a few ms to take effect (an nftables commit 0.3-3 ms, a freeze
 * 1-6 ms, a thaw 0.3 ms here): each call of a fault is started that much before its
 * deadline, by the median of the last LEAD_KEEP call-to-effect latencies measured for that
 * fault and action in this process, at most LEAD_MAX_US. The smallest latency seen so far
 * made every later call late by its spread above that minimum, and one fast outlier made
 * all of them late; the median of recent ones is as often early as late, by about half as
 * much. Only measured effects teach it.
 */
#define LEAD_MAX_US 20000LL
#define LEAD_FAULTS 32
#define LEAD_KEEP 7

struct lead {
	const char *fault;           /* the fault's name (static, from its fault_ops) */
	int64_t us[2][LEAD_KEEP];    /* [0] apply, [1] revert: the latest latencies, a ring */
	int n[2];                    /* how many of them are measured */
	int next[2];                 /* where the next one goes */
};

static struct lead leads[LEAD_FAULTS];
static int nleads;

static struct lead *lead_find(const char *fault)
{
	for (int i = 0; i < nleads; i++)
		if (strcmp(leads[i].fault, fault) == 0)
			return &leads[i];
	if (nleads == LEAD_FAULTS)
		return NULL;
	memset(&leads[nleads], 0, sizeof(leads[nleads]));
	leads[nleads].fault = fault;
	return &leads[nleads++];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t lead_us(const char *fault, bool revert)
{
	struct lead *l = lead_find(fault);
	int64_t v[LEAD_KEEP];
	int n;

	if (!l || l->n[revert] == 0)
		return 0;
	n = l->n[revert];
	memcpy(v, l->us[revert], sizeof(v[0]) * (size_t)n);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_i64);
	return v[(n - 1) / 2]; /* the lower median when n is even */
}

static void lead_learn(const char *fault, bool revert, int64_t latency_us)
{
	struct lead *l = lead_find(fault);

	if (!l || latency_us < 0)
		return;
	if (latency_us > LEAD_MAX_US)
		latency_us = LEAD_MAX_US;
	l->us[revert][l->next[revert]] = latency_us;
	l->next[revert] = (l->next[revert] + 1) % LEAD_KEEP;
	if (l->n[revert] < LEAD_KEEP)
		l->n[revert]++;
}

/* When one driver call ran and when it took effect (see struct fault_effect). */
struct fault_timing {
	int64_t called_us;
	int64_t returned_us;
	int64_t effect_us;
	char how[32];
};

/* Everything one trial needs; lives on trial_run's stack. */
struct trial_ctx {
	const struct scenario *sc;
	const struct run_options *opt;
	const struct driver_ops *ops;
	struct driver *drv;
	struct event_log *log;
	struct workload *workload;
	struct journal *journal;
	struct live *live; /* --serve, NULL: none */
	char run_id[96];
	struct plan plan;
	struct entry_state *state; /* one per plan entry */
	/* When each entry ran (an apply took effect, a revert or wait ended): deadlines count from it. */
	int64_t *actual;
	int64_t t0_us;       /* workload start: plan offsets count from here */
	/*
	 * --step: how long the steps since the last health wait (or the start) waited for
	 * "next". The trial's clock pauses meanwhile: every later apply, wait and health wait
	 * moves by it, as after a health wait; a fault in force keeps its own clock.
	 */
	int64_t paused_us;
	int trial, trials;
	int step_index;      /* 0-based step being run, for progress */
	const char *phase;
	int64_t t_fault_us;  /* first fault applied, 0 if none yet */
	int64_t t_tick_us;   /* last call of the backend's tick op */
	struct pg_endpoint entry; /* the backend's entry (driver.h entry); host "" = none */
	char error[256];
	/* The backend's observe op in a thread of its own (driver.h), while the workload runs. */
	pthread_t observer;
	bool observing;
	atomic_bool observe_stop;
	bool urgent;        /* running at a real-time priority (urgent()) */
	bool urgent_warned;
};

static int64_t now_us(const struct trial_ctx *c)
{
	const struct run_clock *k = c->opt->clock;

	return k ? k->now_us(k->arg) : mono_now_us();
}

static void nap(const struct trial_ctx *c, int64_t us)
{
	const struct run_clock *k = c->opt->clock;

	if (k)
		k->sleep_us(k->arg, us);
	else
		sleep_us(us);
}

static void emit_phase(struct trial_ctx *c, const char *name)
{
	c->phase = name;
	event_write_phase(c->log, now_us(c), name);
}

/* What every fault event about plan entry i (an apply entry) says. */
static struct fault_record fault_record_of(const struct trial_ctx *c, enum fault_action action, int i,
					  const char *member)
{
	const struct plan_entry *e = &c->plan.entries[i];
	const struct step *st = &c->sc->steps[e->step];
	struct fault_record f = {
		.action = action,
		.fault = st->fault ? st->fault->name : "",
		.target = st->target,
		.node = member ? member : "",
		.step = e->step,
		.verified_ms = -1,
		.repeat = st->count > 1 ? e->rep : 0,
	};

	return f;
}

/* A fault event about plan entry i, stamped at t_us. */
static void emit_fault_at(struct trial_ctx *c, int64_t t_us, enum fault_action action, int i,
			  const char *member, const char *reason)
{
	struct fault_record f = fault_record_of(c, action, i, member);

	f.reason = reason;
	event_write_fault(c->log, t_us, &f);
}

/*
 * An apply or revert of plan entry i (an apply entry) that took effect as ft says, due at
 * deadline_us (0: not planned, an early revert); requested_us (apply) its time in force.
 */
static void emit_fault_timed(struct trial_ctx *c, enum fault_action action, int i, const char *member,
			     const struct fault_timing *ft, int64_t deadline_us, int64_t requested_us)
{
	struct fault_record f = fault_record_of(c, action, i, member);

	f.verified_ms = (double)(ft->returned_us - ft->called_us) / 1e3;
	f.effect_by = ft->how;
	f.called_us = ft->called_us;
	f.returned_us = ft->returned_us;
	f.deadline_us = deadline_us;
	f.requested_us = requested_us;
	event_write_fault(c->log, ft->effect_us, &f);
}

/* Forget what the backend observed before a call, so that only the call's effect is read after. */
static void effect_begin(struct trial_ctx *c, struct fault_timing *ft)
{
	struct fault_effect e;

	if (c->ops->effect)
		c->ops->effect(c->drv, &e);
	memset(ft, 0, sizeof(*ft));
	ft->called_us = now_us(c);
}

/*
 * After the call: when it took effect as the backend saw it, else (nothing observed, a
 * simulated clock, a time outside the call) its return, marked FAULT_EFFECT_RETURNED.
 */
static void effect_end(struct trial_ctx *c, struct fault_timing *ft)
{
	struct fault_effect e;

	ft->returned_us = now_us(c);
	ft->effect_us = ft->returned_us;
	str_copy(ft->how, sizeof(ft->how), FAULT_EFFECT_RETURNED);
	if (c->opt->clock || !c->ops->effect || !c->ops->effect(c->drv, &e))
		return;
	if (e.at_us >= ft->called_us && e.at_us <= ft->returned_us && e.how[0]) {
		ft->effect_us = e.at_us;
		str_copy(ft->how, sizeof(ft->how), e.how);
	}
}

static double elapsed_s(const struct trial_ctx *c)
{
	return (double)(now_us(c) - c->t0_us) / 1e6;
}

/* When non-revert entry i is due: the plan's deadline moved by the time --step held it. */
static int64_t entry_deadline(const struct trial_ctx *c, int i)
{
	return plan_deadline(&c->plan, i, c->actual, c->t0_us) + c->paused_us;
}

/*
 * The calling thread at a low real-time priority (on) or back to normal (off). Without the
 * privilege (not root, RLIMIT_RTPRIO) it stays as it is: only the timing suffers. Never
 * with a simulated clock, which has nothing to be late for.
 */
static void urgent(struct trial_ctx *c, bool on)
{
	struct sched_param p = { .sched_priority = on ? 1 : 0 };

	if (c->opt->clock || on == c->urgent)
		return;
	/*
	 * Reset on fork: what the call starts (iptables-restore, a restarted Patroni and its
	 * PostgreSQL) must not inherit it. This thread only (pid 0 is the calling thread).
	 */
	if (sched_setscheduler(0, on ? SCHED_FIFO | SCHED_RESET_ON_FORK : SCHED_OTHER, &p) == 0)
		c->urgent = on;
	else if (on && !c->urgent_warned) {
		log_debug("no real-time priority for fault deadlines; faults may be late under load");
		c->urgent_warned = true;
	}
}

/* Feed the live status line. */
static void tick(struct trial_ctx *c)
{
	struct progress_snapshot s;
	char primary[MEMBER_NAME_LEN] = "";

	memset(&s, 0, sizeof(s));
	if (c->workload) {
		workload_counts(c->workload, &s.attempted, &s.ok, &s.failed);
		workload_current_primary(c->workload, primary, sizeof(primary));
	}
	s.scenario = c->sc->name;
	s.trial = c->trial;
	s.trials = c->trials;
	s.phase = c->phase ? c->phase : "start";
	s.step = c->step_index + 1;
	s.nsteps = c->sc->nsteps;
	s.primary = primary;
	s.elapsed_s = elapsed_s(c);
	s.planned_s = (double)c->plan.end_us / 1e6;
	progress_update(&s);
}

/* The backend's upkeep (driver.h tick), at most every DRIVER_TICK_US; it logs its own errors. */
static void driver_tick(struct trial_ctx *c)
{
	int64_t now = now_us(c);

	if (!c->ops->tick || now - c->t_tick_us < DRIVER_TICK_US)
		return;
	c->t_tick_us = now;
	c->ops->tick(c->drv);
}

/*
 * Undo the fault applied by plan entry a (in force), due at deadline_us (0: cut short);
 * false when the revert failed.
 */
static bool revert_applied(struct trial_ctx *c, int a, int64_t deadline_us)
{
	const struct plan_entry *e = &c->plan.entries[a];
	const struct step *st = &c->sc->steps[e->step];
	struct entry_state *s = &c->state[a];
	struct fault_ctx fc = { .ops = c->ops, .drv = c->drv, .scenario = c->sc, .fault_id = s->fault_id };
	struct fault_timing ft;
	bool ok;

	s->in_force = false;
	if (deadline_us)
		urgent(c, true);
	effect_begin(c, &ft);
	ok = st->fault->revert(&fc, st, s->member);
	effect_end(c, &ft); /* before the journal's fsync that follows */
	urgent(c, false);
	if (ok && strcmp(ft.how, FAULT_EFFECT_RETURNED) != 0)
		lead_learn(st->fault->name, true, ft.effect_us - ft.called_us);
	if (ok) {
		journal_reverted(c->journal, s->journal_id);
		emit_fault_timed(c, FAULT_REVERT, a, s->member, &ft, deadline_us, 0);
		progress_note(elapsed_s(c), "%s reverted on %s", st->fault->name, s->member);
		return true;
	}
	/* Left journaled for heal; the trial's numbers describe a cluster still faulted. */
	emit_fault_at(c, now_us(c), FAULT_ERROR, a, s->member, "revert failed");
	if (!c->error[0])
		str_format(c->error, sizeof(c->error), "%s could not be reverted on %s (run `bise heal`)",
			   st->fault->name, s->member);
	return false;
}

/* Run the revert entry r now (its apply may have been skipped: nothing to undo then). */
static void run_revert(struct trial_ctx *c, int r)
{
	int a = c->plan.entries[r].apply;

	if (c->state[a].in_force)
		revert_applied(c, a, plan_deadline(&c->plan, r, c->actual, c->t0_us));
	c->state[r].done = true;
	c->actual[r] = now_us(c);
}

/*
 * Reverts are the one kind of entry that must not wait for the entries before it: a fault
 * is undone on time even while an apply retries or a health wait polls.
 */
/* When revert entry r is called: its deadline less its fault's lead. */
static int64_t revert_call_at(const struct trial_ctx *c, int r)
{
	const struct step *st = &c->sc->steps[c->plan.entries[r].step];

	return plan_deadline(&c->plan, r, c->actual, c->t0_us) - lead_us(st->fault->name, true);
}

static void run_due_reverts(struct trial_ctx *c)
{
	for (int r = 0; r < c->plan.n; r++) {
		const struct plan_entry *e = &c->plan.entries[r];

		if (e->action != PLAN_REVERT || c->state[r].done || !c->state[e->apply].done)
			continue;
		if (!c->state[e->apply].in_force || revert_call_at(c, r) <= now_us(c))
			run_revert(c, r);
	}
}

/* Every fault still in force, now: the trial ends early (error, signal). */
static void revert_everything(struct trial_ctx *c)
{
	for (int a = 0; a < c->plan.n; a++)
		if (c->state[a].in_force)
			revert_applied(c, a, 0);
}

/* When the next revert of a fault in force is to be called; INT64_MAX when none. */
static int64_t next_revert_due(const struct trial_ctx *c)
{
	int64_t next = INT64_MAX;

	for (int r = 0; r < c->plan.n; r++) {
		const struct plan_entry *e = &c->plan.entries[r];
		int64_t due;

		if (e->action != PLAN_REVERT || c->state[r].done || !c->state[e->apply].in_force)
			continue;
		due = revert_call_at(c, r);
		if (due < next)
			next = due;
	}
	return next;
}

/*
 * Sleep for slice, but no later than the next revert due, and at a real-time priority
 * when that revert is near (urgent()).
 */
static void nap_toward_revert(struct trial_ctx *c, int64_t now, int64_t slice)
{
	int64_t due = next_revert_due(c);

	if (due != INT64_MAX && due - now < slice)
		slice = due > now ? due - now : 0;
	if (due != INT64_MAX && due - now <= URGENT_LEAD_US)
		urgent(c, true);
	nap(c, slice);
}

/*
 * Sleep until deadline while reverting what falls due; false if interrupted. Each nap ends
 * at the next revert's deadline when that comes first, so a revert is not late by a slice.
 * A fault's deadline close (a revert's, or this one when fault_at_deadline: an apply) is
 * waited for urgently (urgent()); the apply or revert call ends that.
 */
static bool idle_until_at(struct trial_ctx *c, int64_t deadline_us, bool fault_at_deadline)
{
	while (!runner_interrupted()) {
		int64_t slice, now;

		run_due_reverts(c);
		tick(c);
		driver_tick(c);
		now = now_us(c);
		slice = deadline_us - now;
		if (slice <= 0) {
			/* Raised for a revert that has run: what follows is no fault call. */
			if (!fault_at_deadline)
				urgent(c, false);
			return true;
		}
		if (fault_at_deadline && slice <= URGENT_LEAD_US)
			urgent(c, true);
		if (slice > 20000)
			slice = 20000;
		nap_toward_revert(c, now, slice);
	}
	urgent(c, false);
	return false;
}

static bool idle_until(struct trial_ctx *c, int64_t deadline_us)
{
	return idle_until_at(c, deadline_us, false);
}

static bool wait_healthy(struct trial_ctx *c, int64_t timeout_us, char *why, size_t why_len)
{
	int64_t deadline = now_us(c) + timeout_us;

	str_copy(why, why_len, "timed out");
	while (!runner_interrupted()) {
		int64_t left;

		run_due_reverts(c);
		tick(c);
		driver_tick(c);
		left = deadline - now_us(c);
		/* Short slices keep the backend's upkeep and the status line going. */
		if (c->ops->wait_healthy(c->drv, left < 500000 ? (left > 0 ? left : 0) : 500000, why, why_len))
			return true;
		if (now_us(c) >= deadline)
			return false;
		if (c->opt->clock)
			nap(c, 500000); /* a simulated clock does not move by itself */
	}
	str_copy(why, why_len, "interrupted");
	return false;
}

/* The candidate the plan's draw picks among the members in role want (UNKNOWN: any live one). */
static int pick_member(const struct member *m, int n, enum member_role want, uint64_t draw)
{
	int candidates[DRIVER_MAX_MEMBERS];
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (want == MEMBER_UNKNOWN ? m[i].role != MEMBER_DOWN : m[i].role == want)
			candidates[k++] = i;
	}
	if (k == 0)
		return -1;
	return candidates[draw % (uint64_t)k];
}

int trial_pick_target(const struct member *m, int n, const char *target, uint64_t draw)
{
	int pick = -1;

	if (strcmp(target, "primary") == 0) {
		for (int i = 0; i < n; i++)
			if (m[i].role == MEMBER_PRIMARY && (pick < 0 || m[i].timeline > m[pick].timeline))
				pick = i;
	} else if (strcmp(target, "replica") == 0) {
		pick = pick_member(m, n, MEMBER_REPLICA, draw);
	} else if (strcmp(target, "any") == 0) {
		pick = pick_member(m, n, MEMBER_UNKNOWN, draw);
	} else {
		for (int i = 0; i < n; i++)
			if (strcmp(m[i].zone, target) == 0)
				pick = i;
	}
	return pick;
}

/* Resolve a zone name or a role to a member at injection time. */
static bool resolve_target_once(struct trial_ctx *c, const struct step *st, uint64_t draw,
				char *member, size_t len, char *why, size_t why_len)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n = c->ops->members(c->drv, m, DRIVER_MAX_MEMBERS);
	int pick;

	if (n < 0) {
		str_copy(why, why_len, "cannot list members");
		return false;
	}
	pick = trial_pick_target(m, n, st->target, draw);
	if (pick < 0) {
		str_format(why, why_len, "no member is %s right now", st->target);
		return false;
	}
	return str_copy(member, len, m[pick].name);
}

/*
 * Roles move (a failover in progress) and a loaded machine can time a probe out: look
 * again for a few seconds before calling a target impossible.
 */
static bool resolve_target(struct trial_ctx *c, const struct step *st, uint64_t draw, char *member,
			   size_t len, char *why, size_t why_len)
{
	int64_t deadline = now_us(c) + RESOLVE_TIMEOUT_US;

	while (!resolve_target_once(c, st, draw, member, len, why, why_len)) {
		if (now_us(c) >= deadline || !idle_until(c, now_us(c) + 250000))
			return false;
	}
	return true;
}

/* Seconds after which nobody should keep this fault: its time in force, capped by max_fault. */
static int64_t fault_deadline_s(const struct scenario *sc, const struct plan_entry *e)
{
	const char *grace = step_option(&sc->steps[e->step], "grace");
	int64_t us = e->in_force_us > 0 ? e->in_force_us : 0, grace_us;

	if (sc->max_fault_us > 0 && us > sc->max_fault_us)
		us = sc->max_fault_us;
	/* A graceful kill's apply lasts up to its grace, and the time in force counts from its end. */
	if (grace && duration_parse(grace, &grace_us, NULL, 0) && grace_us > 0)
		us += grace_us;
	/* The margin covers a slow runner: the watchdog must not race its on-time revert. */
	return us / 1000000 + 30;
}

/* A step the backend cannot do: skipped with the reason, nothing touched. */
static void skip_entry(struct trial_ctx *c, int i, const char *member, const char *why)
{
	emit_fault_at(c, now_us(c), FAULT_SKIP, i, member, why);
	log_warn("step %d skipped: %s", c->plan.entries[i].step + 1, why);
}

enum prepared { PREPARED, PREPARED_SKIP, PREPARED_ERROR };

/*
 * What an apply needs before its deadline: whether the backend can do it, the member its
 * target names now, and the journal's fsync'd intent. Done PREPARE_LEAD_US ahead so that
 * the apply itself starts on time; a role target is resolved that much early.
 */
static enum prepared prepare_apply(struct trial_ctx *c, int i, char *why, size_t why_len)
{
	const struct plan_entry *e = &c->plan.entries[i];
	const struct step *st = &c->sc->steps[e->step];
	struct entry_state *s = &c->state[i];
	struct fault_ctx fc = { .ops = c->ops, .drv = c->drv, .scenario = c->sc };

	if (!resolve_target(c, st, e->draw, s->member, sizeof(s->member), why, why_len)) {
		if (runner_interrupted())
			return PREPARED_ERROR; /* stopping: not a fault of the step */
		emit_fault_at(c, now_us(c), FAULT_ERROR, i, NULL, why);
		str_format(c->error, sizeof(c->error), "step %d (%s): %s", e->step + 1, st->fault->name, why);
		return PREPARED_ERROR;
	}
	/* Whether the backend can do it at all, decided before anything is touched. */
	if (!fault_supported(&fc, st, s->member, why, why_len))
		return PREPARED_SKIP;
	/* Journaled (fsync'd) before it is applied, so nothing can outlive a crash unseen. */
	s->journal_id = journal_intent(c->journal, st, s->member, time(NULL) + fault_deadline_s(c->sc, e));
	if (s->journal_id < 0) {
		str_format(c->error, sizeof(c->error), "step %d: cannot journal the fault", e->step + 1);
		return PREPARED_ERROR;
	}
	fault_id_format(s->fault_id, sizeof(s->fault_id), getpid(), s->journal_id);
	return PREPARED;
}

/* Apply prepared entry i, due at deadline, now. False when the trial must stop (c->error says why). */
static bool apply_prepared(struct trial_ctx *c, int i, int64_t deadline)
{
	const struct plan_entry *e = &c->plan.entries[i];
	const struct step *st = &c->sc->steps[e->step];
	struct entry_state *s = &c->state[i];
	struct fault_ctx fc = { .ops = c->ops, .drv = c->drv, .scenario = c->sc, .fault_id = s->fault_id };
	struct fault_timing ft;
	bool ok;

	if (!c->phase || strcmp(c->phase, "fault") != 0)
		emit_phase(c, "fault");
	urgent(c, true);
	effect_begin(c, &ft);
	ok = st->fault->apply(&fc, st, s->member);
	effect_end(c, &ft);
	urgent(c, false);
	if (ok && strcmp(ft.how, FAULT_EFFECT_RETURNED) != 0)
		lead_learn(st->fault->name, false, ft.effect_us - ft.called_us);
	if (!ok) {
		/* It may have half-happened: leave it journaled for a revert attempt. */
		if (st->fault->revert && st->fault->revert(&fc, st, s->member))
			journal_reverted(c->journal, s->journal_id);
		emit_fault_at(c, now_us(c), FAULT_ERROR, i, s->member, "injection failed");
		str_format(c->error, sizeof(c->error), "step %d: %s on %s failed", e->step + 1,
			   st->fault->name, s->member);
		return false;
	}
	/*
	 * In force from when it took effect (rules committed, group frozen, processes gone, as
	 * the backend saw it; its return when it sees nothing): the revert's deadline, and the
	 * fault's duration, count from there, not from when the call returned.
	 */
	c->actual[i] = ft.effect_us;
	s->effect_us = ft.effect_us;
	emit_fault_timed(c, FAULT_APPLY, i, s->member, &ft, deadline, e->revert >= 0 ? e->in_force_us : 0);
	if (c->t_fault_us == 0)
		c->t_fault_us = ft.effect_us;
	progress_note(elapsed_s(c), "%s applied to %s (%s)", st->fault->name, s->member, st->target);
	if (e->revert >= 0) {
		s->in_force = true;
		live_revert_due(c->live, e->step, e->rep, plan_deadline(&c->plan, e->revert, c->actual, c->t0_us));
	} else
		journal_reverted(c->journal, s->journal_id); /* nothing of it left to undo */
	return true;
}

/* Plan entry i, due at deadline: prepared ahead, applied on time. False: stop the trial. */
static bool run_apply(struct trial_ctx *c, int i, int64_t deadline)
{
	enum prepared p;
	char why[256];
	int64_t call_at = deadline; /* less the fault's lead once it is known to run */

	if (!idle_until(c, deadline - PREPARE_LEAD_US))
		return false;
	p = prepare_apply(c, i, why, sizeof(why));
	if (p == PREPARED_ERROR) {
		c->actual[i] = now_us(c);
		return false;
	}
	/* A revert that failed meanwhile ends the trial: nothing more is applied. */
	if (p == PREPARED)
		call_at -= lead_us(c->sc->steps[c->plan.entries[i].step].fault->name, false);
	if (!idle_until_at(c, call_at, p == PREPARED) || c->error[0]) {
		urgent(c, false);
		if (p == PREPARED)
			journal_reverted(c->journal, c->state[i].journal_id); /* never applied */
		return false;
	}
	if (p == PREPARED_SKIP) {
		/* Decided before anything was touched, recorded when the step was due. */
		c->actual[i] = now_us(c);
		skip_entry(c, i, c->state[i].member, why);
		return true;
	}
	return apply_prepared(c, i, deadline);
}

static void run_wait_healthy(struct trial_ctx *c, const struct step *st)
{
	int64_t start = now_us(c);
	char why[256];
	bool ok = wait_healthy(c, st->timeout_us, why, sizeof(why));
	int64_t from = c->t_fault_us ? c->t_fault_us : start;

	/* An interrupted wait says nothing about recovery: record no verdict-bearing event. */
	if (!ok && runner_interrupted())
		return;
	/* Time to recovery counts from the first fault: what a user waits for. */
	event_write_healthy(c->log, now_us(c), ok, (double)(now_us(c) - from) / 1e6, ok ? NULL : why);
	if (ok)
		progress_note(elapsed_s(c), "cluster healthy again");
	else
		progress_note(elapsed_s(c), "cluster NOT healthy within %.0f s: %s",
			      (double)st->timeout_us / 1e6, why);
}

/*
 * Idle until every revert planned before entry `until` has run: a health wait starts, and
 * the trial ends, only then. A revert of an apply that was skipped runs at once (nothing
 * to undo, no time taken). False if interrupted.
 */
static bool finish_reverts(struct trial_ctx *c, int until)
{
	for (;;) {
		int64_t next = INT64_MAX;

		run_due_reverts(c);
		if (c->error[0])
			return true;
		for (int r = 0; r < until; r++) {
			const struct plan_entry *e = &c->plan.entries[r];
			int64_t due;

			if (e->action != PLAN_REVERT || c->state[r].done || !c->state[e->apply].in_force)
				continue;
			due = plan_deadline(&c->plan, r, c->actual, c->t0_us);
			if (due < next)
				next = due;
		}
		if (next == INT64_MAX)
			return true;
		if (!idle_until(c, next))
			return false;
	}
}

/* "pod-kill on primary for 30s": what a person is about to let happen. */
static void step_what(const struct trial_ctx *c, int i, char *buf, size_t len)
{
	const struct plan_entry *e = &c->plan.entries[i];
	const struct step *st = &c->sc->steps[e->step];
	char dur[32] = "";

	if (e->in_force_us > 0)
		duration_format(e->in_force_us, dur, sizeof(dur));
	str_format(buf, len, "%s on %s%s%s", st->fault->name, st->target, dur[0] ? " for " : "", dur);
}

/*
 * Hold step entry i until "next" (terminal or page) while faults in force are still
 * reverted on time; the time held is added to every later deadline. False: stop.
 */
static bool await_next(struct trial_ctx *c, int i)
{
	int64_t start = now_us(c);
	char what[160];
	bool go = false;

	step_what(c, i, what, sizeof(what));
	live_waiting(c->live, true);
	progress_note(elapsed_s(c), "step %d ready: %s. Press Enter%s to apply it, type abort to stop",
		      c->plan.entries[i].step + 1, what, c->live ? " (or the page's Next)" : "");
	while (!go && !runner_interrupted()) {
		enum gate_answer a = step_gate_poll_stdin(c->live != NULL);

		run_due_reverts(c);
		tick(c);
		driver_tick(c);
		if (a == GATE_ABORT)
			runner_request_stop();
		go = a == GATE_NEXT || live_take_next(c->live);
		if (!go) {
			/* A fault in force is reverted on time while the step waits, as when idle. */
			nap_toward_revert(c, now_us(c), 50000);
		}
	}
	urgent(c, false);
	live_waiting(c->live, false);
	c->paused_us += now_us(c) - start;
	return go && !runner_interrupted();
}

/*
 * Tell the live page what comes next: the first apply from entry `from` on, and when it is
 * due if that is known yet (not while it counts from a health wait still to come).
 */
static void announce_next(struct trial_ctx *c, int from)
{
	char what[160];

	if (!c->live)
		return;
	for (int k = from; k < c->plan.n; k++) {
		const struct plan_entry *e = &c->plan.entries[k];

		if (e->action != PLAN_APPLY)
			continue;
		step_what(c, k, what, sizeof(what));
		live_next_step(c->live, e->step, what,
			       e->anchor < 0 || c->state[e->anchor].done ? entry_deadline(c, k) : -1);
		return;
	}
	live_next_step(c->live, -1, NULL, 0);
}

/*
 * Walk the plan: each apply, wait and health wait at its deadline. Reverts keep their own
 * clock (run_due_reverts, from every idle loop): a late apply delays its own revert, never
 * the steps after it.
 */
static void run_plan(struct trial_ctx *c)
{
	int last = -1; /* the last entry that is not a revert: a plain wait there ends the trial */

	for (int i = 0; i < c->plan.n; i++)
		if (c->plan.entries[i].action != PLAN_REVERT)
			last = i;
	for (int i = 0; i < c->plan.n && !runner_interrupted() && !c->error[0]; i++) {
		const struct plan_entry *e = &c->plan.entries[i];
		int64_t deadline;

		if (e->action == PLAN_REVERT)
			continue;
		if (e->action == PLAN_WAIT_HEALTHY && !finish_reverts(c, i))
			return;
		deadline = entry_deadline(c, i);
		announce_next(c, i);
		if (c->opt->step && plan_step_gate(&c->plan, i)) {
			/* Ready when the step is due; from "next", the plan goes on from there. */
			if (!idle_until(c, deadline - PREPARE_LEAD_US) || !await_next(c, i))
				return;
			deadline = entry_deadline(c, i);
			announce_next(c, i);
		}
		/*
		 * An apply idles on its own (it is prepared ahead); a plain wait only where the
		 * trial ends, since the next entry's deadline already includes it and idling here
		 * would delay that entry's preparation.
		 */
		if ((e->action == PLAN_WAIT_HEALTHY || (e->action == PLAN_WAIT && i == last)) &&
		    !idle_until(c, deadline))
			return;
		c->step_index = e->step;
		switch (e->action) {
		case PLAN_APPLY:
			if (!run_apply(c, i, deadline))
				return;
			break;
		case PLAN_REVERT:
			break;
		case PLAN_WAIT:
			c->actual[i] = deadline;
			break;
		case PLAN_WAIT_HEALTHY:
			emit_phase(c, "recovery");
			run_wait_healthy(c, &c->sc->steps[e->step]);
			c->actual[i] = now_us(c);
			c->paused_us = 0; /* later entries count from this wait's end */
			break;
		}
		c->state[i].done = true;
		announce_next(c, i + 1);
	}
	live_next_step(c->live, -1, NULL, 0);
	/* Faults are reverted on time, not cut short: the trial lasts until the last one. */
	if (!runner_interrupted() && !c->error[0])
		finish_reverts(c, c->plan.n);
}

static void emit_run_start(struct trial_ctx *c, int trial, uint64_t seed, const char *host)
{
	const struct workload_spec *w = &c->sc->workload;
	struct run_start_record r = {
		.run = c->run_id,
		.scenario = c->sc->name,
		.trial = trial,
		.seed = seed,
		.backend = c->ops->name,
		.host = host,
		.bise = BISE_VERSION,
		.writers = workload_total_writers(w),
		.poll_ms = (int)(c->opt->watch_interval_us / 1000),
	};
	/* writer id -> zone it runs in ("" = outside, where bise runs) */
	const char **zones = xcalloc((size_t)r.writers + 1, sizeof(*zones));
	size_t n = 0;

	for (int i = 0; i < w->writers; i++)
		zones[n++] = "";
	for (int g = 0; g < w->nclient_groups; g++)
		for (int i = 0; i < w->client_groups[g].writers; i++)
			zones[n++] = w->client_groups[g].zone;
	r.writer_zones = zones;
	r.nwriter_zones = n;
	/* Read together: the wall clock dates this event's t, so every t of the log. */
	r.unix_us = wall_now_us();
	event_write_run_start(c->log, now_us(c), &r);
	free(zones);
}

/*
 * Network namespace path per writer id ("" outside), in the order of writer_zones; NULL
 * with c->error set when the backend cannot place a writer.
 */
static char (*writer_netns(struct trial_ctx *c, int total))[128]
{
	const struct workload_spec *w = &c->sc->workload;
	char (*paths)[128] = xcalloc((size_t)total, sizeof(*paths));
	int id = w->writers;

	for (int g = 0; g < w->nclient_groups; g++) {
		const struct client_group *cg = &w->client_groups[g];

		if (!(c->ops->caps & DRIVER_CAP_CLIENT_ZONES) || !c->ops->client_netns) {
			str_format(c->error, sizeof(c->error),
				   "the %s backend cannot place writers inside zones (client_groups)",
				   c->ops->name);
			free(paths);
			return NULL;
		}
		if (cg->writers > 0 && !c->ops->client_netns(c->drv, cg->zone, paths[id], sizeof(paths[id]))) {
			str_format(c->error, sizeof(c->error), "no network namespace for writers in zone %s",
				   cg->zone);
			free(paths);
			return NULL;
		}
		for (int i = 1; i < cg->writers; i++)
			str_copy(paths[id + i], sizeof(paths[id + i]), paths[id]);
		id += cg->writers;
	}
	return paths;
}

static bool start_workload(struct trial_ctx *c)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n, total = workload_total_writers(&c->sc->workload);
	char (*paths)[128], why[256];
	const char **netns;

	if (!(c->ops->caps & DRIVER_CAP_SQL) || total == 0)
		return true;
	if (c->opt->clock) {
		/* Writers stamp their events with the real clock: the two cannot share a log. */
		str_copy(c->error, sizeof(c->error), "a simulated clock cannot drive a workload");
		return false;
	}
	/* The backend may have no way to PostgreSQL from here (kubernetes without --pg-access). */
	if (c->ops->can && !c->ops->can(c->drv, &(struct fault_request){ .caps = DRIVER_CAP_SQL }, why,
					sizeof(why))) {
		log_warn("no workload: %s", why);
		return true;
	}
	/* First: the entry may make the members' endpoints reachable (Services). */
	if (c->ops->entry && !c->ops->entry(c->drv, &c->entry)) {
		str_copy(c->error, sizeof(c->error), "cannot reach the cluster's read-write entry");
		return false;
	}
	n = c->ops->members(c->drv, m, DRIVER_MAX_MEMBERS);
	if (n <= 0) {
		str_copy(c->error, sizeof(c->error), "cannot list the cluster's members");
		return false;
	}
	paths = writer_netns(c, total);
	if (!paths)
		return false;
	netns = xcalloc((size_t)total, sizeof(*netns));
	for (int i = 0; i < total; i++)
		netns[i] = paths[i];
	c->workload = workload_start_entry(c->run_id, &c->sc->workload, m, n, &c->entry, netns,
					   c->opt->watch_interval_us, c->log);
	free(netns);
	free(paths);
	if (!c->workload) {
		str_copy(c->error, sizeof(c->error), "the workload could not start");
		return false;
	}
	return true;
}

static void *observe_main(void *arg)
{
	struct trial_ctx *c = arg;

	/* Optional: a failure is logged by the backend and only leaves the metric unobserved. */
	c->ops->observe(c->drv, c->log, &c->observe_stop);
	return NULL;
}

static void start_observer(struct trial_ctx *c)
{
	int rc;

	if (!c->ops->observe)
		return;
	atomic_store(&c->observe_stop, false);
	rc = pthread_create(&c->observer, NULL, observe_main, c);
	if (rc != 0) {
		log_warn("cannot start the role observer: %s", strerror(rc));
		return;
	}
	c->observing = true;
}

static void stop_observer(struct trial_ctx *c)
{
	if (!c->observing)
		return;
	atomic_store(&c->observe_stop, true);
	pthread_join(c->observer, NULL);
	c->observing = false;
}

static void finish_workload(struct trial_ctx *c, bool readback)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n;

	if (!c->workload)
		return;
	workload_stop(c->workload);
	c->workload = NULL;
	if (!readback)
		return;
	emit_phase(c, "readback");
	n = c->ops->members(c->drv, m, DRIVER_MAX_MEMBERS);
	if (n <= 0 || !workload_readback_entry(c->run_id, m, n, &c->entry,
					       workload_total_writers(&c->sc->workload),
					       READBACK_TIMEOUT_US, c->log))
		str_copy(c->error, sizeof(c->error),
			 "the read-back failed: data loss could not be measured");
}

int trial_run(const struct scenario_run *r, const struct scenario *sc, const char *dir, int trial,
		     int trials, struct trial_result *t)
{
	struct trial_ctx c;
	char tdir[4200], why[256];
	int status = BISE_EXIT_OK;

	memset(&c, 0, sizeof(c));
	c.sc = sc;
	c.opt = r->opt;
	c.ops = r->ops;
	c.drv = r->drv;
	c.journal = r->journal;
	c.live = r->live;
	c.trial = trial;
	c.trials = trials;
	str_format(c.run_id, sizeof(c.run_id), "%s-%s-t%d", r->run_id, sc->name, trial);
	t->trial = trial;
	if (!plan_build(sc, r->seed, trial, &c.plan, why, sizeof(why))) {
		str_format(t->error, sizeof(t->error), "%s: %s", sc->name, why);
		log_error("%s", t->error);
		return BISE_EXIT_USAGE;
	}
	if (!str_format(tdir, sizeof(tdir), "%s/trial-%d", dir, trial) || !mkdir_p(tdir, 0755) ||
	    !str_format(t->events_path, sizeof(t->events_path), "%s/events.jsonl", tdir)) {
		str_copy(t->error, sizeof(t->error), "cannot create the trial directory");
		plan_free(&c.plan);
		return BISE_EXIT_ENV;
	}
	c.t0_us = now_us(&c);
	c.log = event_log_open(t->events_path, c.t0_us);
	if (!c.log) {
		str_copy(t->error, sizeof(t->error), "cannot open the event log");
		plan_free(&c.plan);
		return BISE_EXIT_ENV;
	}
	/* The live page sees every line of the log as it is written. */
	live_trial_begin(c.live, c.log, sc->name, sc->nsteps, trial, trials, c.t0_us);
	c.state = xcalloc((size_t)c.plan.n + 1, sizeof(*c.state));
	c.actual = xcalloc((size_t)c.plan.n + 1, sizeof(*c.actual));
	c.t0_us = now_us(&c);
	emit_run_start(&c, trial, r->seed, r->host);
	if (trial == 1 && r->provision_seconds >= 0)
		event_write_provision(c.log, now_us(&c), r->provision_seconds);
	/* Replicas must stream before a scenario starts, or its numbers mean nothing. */
	if (!wait_healthy(&c, PREFLIGHT_HEALTH_TIMEOUT_US, why, sizeof(why))) {
		str_format(c.error, sizeof(c.error), "cluster not healthy before the trial: %s", why);
	} else {
		/* Before the workload: the roles at the fault must already be known. */
		start_observer(&c);
		if (start_workload(&c)) {
			c.t0_us = now_us(&c);
			emit_phase(&c, "baseline");
			log_info("trial %d: workload started (%d writers)", trial,
				 workload_total_writers(&sc->workload));
			run_plan(&c);
		}
	}
	/* Faults never outlive the trial, whatever happened. */
	revert_everything(&c);
	urgent(&c, false);
	stop_observer(&c);
	finish_workload(&c, !runner_interrupted() && !c.error[0]);
	emit_phase(&c, "end");
	event_write_run_end(c.log, now_us(&c),
			    runner_interrupted() ? "interrupted" : c.error[0] ? "aborted" : "completed");
	live_trial_end(c.live, c.log);
	event_log_close(c.log);
	progress_done();
	free(c.state);
	free(c.actual);
	plan_free(&c.plan);
	t->completed = !runner_interrupted() && !c.error[0];
	if (runner_interrupted()) {
		str_copy(t->error, sizeof(t->error), "interrupted by a signal");
		status = BISE_EXIT_INTERRUPTED;
	} else if (c.error[0]) {
		str_copy(t->error, sizeof(t->error), c.error);
		log_error("trial %d aborted: %s", trial, c.error);
		status = BISE_EXIT_ABORTED;
	}
	return status;
}
