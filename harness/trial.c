/* trial.c - one trial: workload, fault steps on time, recovery, read-back, verdicts. */
#include "trial.h"

#include "driver.h"
#include "event.h"
#include "fault.h"
#include "heal.h"
#include "progress.h"
#include "journal.h"
#include "metrics.h"
#include "report.h"
#include "slo.h"
#include "units.h"
#include "util.h"
#include "watchdog.h"
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 32
#define RESOLVE_TIMEOUT_US (10 * 1000000LL)
#define PREFLIGHT_HEALTH_TIMEOUT_US (90 * 1000000LL)
#define READBACK_TIMEOUT_US (30 * 1000000LL)

/* A fault applied and not yet reverted: the runner owes it a revert at due_us. */
struct pending {
	const struct step *step;
	int step_index;
	char member[MEMBER_NAME_LEN];
	int64_t due_us;
	int journal_id;
	char fault_id[48];
};

/* Everything one trial needs; lives on run_trial's stack. */
struct trial_ctx {
	const struct scenario *sc;
	const struct run_options *opt;
	const struct driver_ops *ops;
	struct driver *drv;
	struct event_log *log;
	struct workload *workload;
	struct journal *journal;
	char run_id[96];
	uint64_t rng;
	int64_t t0_us;       /* workload start: step offsets count from here */
	int trial, trials;
	int step_index;      /* 0-based step being run, for progress */
	const char *phase;
	double planned_s;
	int64_t t_fault_us;  /* first fault applied, 0 if none yet */
	int64_t t_tick_us;   /* last call of the backend's tick op */
	struct pg_endpoint entry; /* the backend's entry (driver.h entry); host "" = none */
	int npending;
	struct pending pending[MAX_PENDING];
	char error[256];
	/* The backend's observe op in a thread of its own (driver.h), while the workload runs. */
	pthread_t observer;
	bool observing;
	atomic_bool observe_stop;
};

/* splitmix64: a tiny seeded generator so a random targeting can be replayed. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}


static void emit_phase(struct trial_ctx *c, const char *name)
{
	c->phase = name;
	event_write_phase(c->log, mono_now_us(), name);
}

static struct fault_record fault_event(enum fault_action action, const struct step *st, int index,
				       const char *member, const char *reason)
{
	struct fault_record f = {
		.action = action,
		.fault = st->fault ? st->fault->name : "",
		.target = st->target,
		.node = member ? member : "",
		.step = index,
		.reason = reason,
		.verified_ms = -1,
	};

	return f;
}

static void emit_fault(struct trial_ctx *c, enum fault_action action, const struct step *st, int index,
		       const char *member, const char *reason)
{
	struct fault_record f = fault_event(action, st, index, member, reason);

	event_write_fault(c->log, mono_now_us(), &f);
}

static double elapsed_s(const struct trial_ctx *c)
{
	return (double)(mono_now_us() - c->t0_us) / 1e6;
}

/* The scenario's known length: fault offsets and plain waits (health waits are open-ended). */
static double planned_seconds(const struct scenario *sc)
{
	int64_t t = 0;

	for (int i = 0; i < sc->nsteps; i++) {
		const struct step *st = &sc->steps[i];

		int64_t last = st->at_us + (st->count > 1 ? st->every_us * (st->count - 1) : 0);

		if (st->kind == STEP_FAULT && last > t)
			t = last;
		else if (st->kind == STEP_WAIT)
			t += st->duration_us;
	}
	return (double)t / 1e6;
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
	s.planned_s = c->planned_s;
	progress_update(&s);
}

/* The backend's upkeep (driver.h tick), at most every DRIVER_TICK_US; it logs its own errors. */
static void driver_tick(struct trial_ctx *c)
{
	int64_t now = mono_now_us();

	if (!c->ops->tick || now - c->t_tick_us < DRIVER_TICK_US)
		return;
	c->t_tick_us = now;
	c->ops->tick(c->drv);
}

/* Revert every pending fault that is due (all of them when force). */
static void process_reverts(struct trial_ctx *c, bool force)
{
	struct fault_ctx fc = { .ops = c->ops, .drv = c->drv, .scenario = c->sc };
	int64_t now = mono_now_us();

	for (int i = 0; i < c->npending;) {
		struct pending *p = &c->pending[i];

		if (!force && p->due_us > now) {
			i++;
			continue;
		}
		fc.fault_id = p->fault_id;
		if (p->step->fault->revert(&fc, p->step, p->member)) {
			journal_reverted(c->journal, p->journal_id);
			emit_fault(c, FAULT_REVERT, p->step, p->step_index, p->member, NULL);
			progress_note(elapsed_s(c), "%s reverted on %s", p->step->fault->name, p->member);
		} else {
			/* Left journaled for heal; the trial's numbers describe a cluster still faulted. */
			emit_fault(c, FAULT_ERROR, p->step, p->step_index, p->member, "revert failed");
			if (!c->error[0])
				str_format(c->error, sizeof(c->error),
					   "%s could not be reverted on %s (run `bise heal`)",
					   p->step->fault->name, p->member);
		}
		c->pending[i] = c->pending[--c->npending];
	}
}

/* Sleep until deadline while reverting what falls due; false if interrupted. */
static bool idle_until(struct trial_ctx *c, int64_t deadline_us)
{
	while (!runner_interrupted()) {
		int64_t now = mono_now_us();
		int64_t slice = deadline_us - now;

		process_reverts(c, false);
		tick(c);
		driver_tick(c);
		if (slice <= 0)
			return true;
		sleep_us(slice < 20000 ? slice : 20000);
	}
	return false;
}

static bool wait_healthy(struct trial_ctx *c, int64_t timeout_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;

	str_copy(why, why_len, "timed out");
	while (!runner_interrupted()) {
		int64_t left;

		process_reverts(c, false);
		tick(c);
		driver_tick(c);
		left = deadline - mono_now_us();
		/*
		 * Recovery is judged once every fault has ended: health probes can look fine
		 * in the middle of a fault (a cut replica shows as streaming until the sender's
		 * timeout). Short slices keep reverts on time.
		 */
		if (c->npending == 0) {
			if (c->ops->wait_healthy(c->drv, left < 500000 ? (left > 0 ? left : 0) : 500000,
						 why, why_len))
				return true;
		} else {
			sleep_us(50000);
		}
		if (mono_now_us() >= deadline)
			return false;
	}
	str_copy(why, why_len, "interrupted");
	return false;
}

static int pick_member(struct trial_ctx *c, const struct member *m, int n, enum member_role want)
{
	int candidates[DRIVER_MAX_MEMBERS];
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (want == MEMBER_UNKNOWN ? m[i].role != MEMBER_DOWN : m[i].role == want)
			candidates[k++] = i;
	}
	if (k == 0)
		return -1;
	return candidates[rng_next(&c->rng) % (uint64_t)k];
}

/* Resolve a zone name or a role to a member at injection time. */
static bool resolve_target_once(struct trial_ctx *c, const struct step *st, char *member,
				size_t len, char *why, size_t why_len)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n = c->ops->members(c->drv, m, DRIVER_MAX_MEMBERS);
	int pick = -1;

	if (n < 0) {
		str_copy(why, why_len, "cannot list members");
		return false;
	}
	if (strcmp(st->target, "primary") == 0) {
		for (int i = 0; i < n; i++)
			if (m[i].role == MEMBER_PRIMARY && (pick < 0 || m[i].timeline > m[pick].timeline))
				pick = i;
	} else if (strcmp(st->target, "replica") == 0) {
		pick = pick_member(c, m, n, MEMBER_REPLICA);
	} else if (strcmp(st->target, "any") == 0) {
		pick = pick_member(c, m, n, MEMBER_UNKNOWN);
	} else {
		for (int i = 0; i < n; i++)
			if (strcmp(m[i].zone, st->target) == 0)
				pick = i;
	}
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
static bool resolve_target(struct trial_ctx *c, const struct step *st, char *member, size_t len,
			   char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + RESOLVE_TIMEOUT_US;

	while (!resolve_target_once(c, st, member, len, why, why_len)) {
		if (mono_now_us() >= deadline || runner_interrupted())
			return false;
		process_reverts(c, false);
		sleep_us(250000);
	}
	return true;
}

/* Seconds after which nobody should keep this fault: its own length, capped by max_fault. */
static int64_t fault_deadline_s(const struct scenario *sc, const struct step *st)
{
	int64_t us = st->duration_us > sc->cluster.restart_delay_us ? st->duration_us
								   : sc->cluster.restart_delay_us;
	const char *delay = step_option(st, "restart_delay");
	int64_t step_delay;

	/* A step's own restart delay is how long its pod stays down. */
	if (delay && duration_parse(delay, &step_delay, NULL, 0) && step_delay > us)
		us = step_delay;

	if (sc->max_fault_us > 0 && us > sc->max_fault_us)
		us = sc->max_fault_us;
	/* The margin covers a slow runner: the watchdog must not race its on-time revert. */
	return us / 1000000 + 30;
}

/* One application of a fault step; rep counts from 1 (steps with count > 1 repeat). */
static bool run_fault_step(struct trial_ctx *c, const struct step *st, int index, int rep)
{
	struct fault_ctx fc = { .ops = c->ops, .drv = c->drv, .scenario = c->sc };
	char member[MEMBER_NAME_LEN], why[256], fault_id[48];
	int64_t revert_after = -1, t_inject;
	struct fault_record f;
	int journal_id;
	unsigned needs = fault_step_needs(st), missing = needs & ~c->ops->caps;

	if (missing) {
		/* The backend may know why it lacks the capability (e.g. no freeze on Kubernetes). */
		why[0] = '\0';
		if (!c->ops->supports || c->ops->supports(c->drv, missing, why, sizeof(why)) || !why[0])
			str_format(why, sizeof(why), "the %s backend cannot do what %s needs",
				   c->ops->name, st->fault->name);
		emit_fault(c, FAULT_SKIP, st, index, NULL, why);
		log_warn("step %d skipped: %s", index + 1, why);
		return true;
	}
	/* Static capabilities hold, but this cluster as provisioned may still lack one. */
	if (c->ops->supports && !c->ops->supports(c->drv, needs, why, sizeof(why))) {
		emit_fault(c, FAULT_SKIP, st, index, NULL, why);
		log_warn("step %d skipped: %s", index + 1, why);
		return true;
	}
	if (!resolve_target(c, st, member, sizeof(member), why, sizeof(why))) {
		emit_fault(c, FAULT_ERROR, st, index, NULL, why);
		str_format(c->error, sizeof(c->error), "step %d (%s): %s", index + 1, st->fault->name, why);
		return false;
	}
	/* Journaled (fsync'd) before it is applied, so nothing can outlive a crash unseen. */
	journal_id = journal_intent(c->journal, st, member, time(NULL) + fault_deadline_s(c->sc, st));
	if (journal_id < 0) {
		str_format(c->error, sizeof(c->error), "step %d: cannot journal the fault", index + 1);
		return false;
	}
	fault_id_format(fault_id, sizeof(fault_id), getpid(), journal_id);
	fc.fault_id = fault_id;
	t_inject = mono_now_us();
	if (!st->fault->apply(&fc, st, member, &revert_after)) {
		if (fc.skip[0]) {
			/* The backend cannot do this shape and touched nothing: a skip, not a failure. */
			journal_reverted(c->journal, journal_id);
			emit_fault(c, FAULT_SKIP, st, index, member, fc.skip);
			log_warn("step %d skipped: %s", index + 1, fc.skip);
			return true;
		}
		/* It may have half-happened: leave it journaled for a revert attempt. */
		if (st->fault->revert && st->fault->revert(&fc, st, member))
			journal_reverted(c->journal, journal_id);
		emit_fault(c, FAULT_ERROR, st, index, member, "injection failed");
		str_format(c->error, sizeof(c->error), "step %d: %s on %s failed", index + 1,
			   st->fault->name, member);
		return false;
	}
	/*
	 * Stamped when the injection started (a SIGKILL or a rule takes effect at once), with
	 * how long the injector took to verify it: clients may see the fault before it returns.
	 */
	f = fault_event(FAULT_APPLY, st, index, member, NULL);
	f.verified_ms = (double)(mono_now_us() - t_inject) / 1e3;
	if (st->count > 1)
		f.repeat = rep;
	event_write_fault(c->log, t_inject, &f);
	if (c->t_fault_us == 0)
		c->t_fault_us = t_inject;
	progress_note(elapsed_s(c), "%s applied to %s (%s)", st->fault->name, member, st->target);
	if (revert_after >= 0 && st->fault->revert) {
		struct pending *p;

		if (c->npending == MAX_PENDING) {
			/* Never cut a fault short silently: refuse the step, its revert runs now. */
			if (st->fault->revert(&fc, st, member))
				journal_reverted(c->journal, journal_id);
			str_format(c->error, sizeof(c->error),
				   "more than %d faults in force at once", MAX_PENDING);
			return false;
		}
		p = &c->pending[c->npending++];
		p->step = st;
		p->step_index = index;
		str_copy(p->member, sizeof(p->member), member);
		p->due_us = mono_now_us() + revert_after;
		p->journal_id = journal_id;
		str_copy(p->fault_id, sizeof(p->fault_id), fault_id);
	} else {
		journal_reverted(c->journal, journal_id); /* nothing of it left to undo */
	}
	return true;
}

static bool run_wait_healthy_step(struct trial_ctx *c, const struct step *st)
{
	int64_t start = mono_now_us();
	char why[256];
	bool ok = wait_healthy(c, st->timeout_us, why, sizeof(why));
	int64_t from = c->t_fault_us ? c->t_fault_us : start;

	/* An interrupted wait says nothing about recovery: record no verdict-bearing event. */
	if (!ok && runner_interrupted())
		return true;
	/* Time to recovery counts from the first fault: what a user waits for. */
	event_write_healthy(c->log, mono_now_us(), ok, (double)(mono_now_us() - from) / 1e6, ok ? NULL : why);
	if (ok)
		progress_note(elapsed_s(c), "cluster healthy again");
	else
		progress_note(elapsed_s(c), "cluster NOT healthy within %.0f s: %s",
			      (double)st->timeout_us / 1e6, why);
	return true;
}

/*
 * A fault step applies count times (once when count <= 1), every every_us apart from the
 * first application; each is journaled and reverted after its own duration, so they
 * overlap when duration > every. False if interrupted while waiting.
 */
static bool run_fault_repeats(struct trial_ctx *c, const struct step *st, int index)
{
	int reps = st->count > 1 && st->every_us > 0 ? st->count : 1;
	int64_t first = st->at_us >= 0 ? c->t0_us + st->at_us : mono_now_us();

	for (int k = 0; k < reps && !runner_interrupted() && !c->error[0]; k++) {
		if (k > 0 && !idle_until(c, first + (int64_t)k * st->every_us))
			return false;
		run_fault_step(c, st, index, k + 1);
	}
	return true;
}

static void run_steps(struct trial_ctx *c)
{
	const struct scenario *sc = c->sc;

	for (int i = 0; i < sc->nsteps && !runner_interrupted() && !c->error[0]; i++) {
		const struct step *st = &sc->steps[i];

		c->step_index = i;
		switch (st->kind) {
		case STEP_FAULT:
			if (st->at_us >= 0 && !idle_until(c, c->t0_us + st->at_us))
				return;
			if (i == 0 || sc->steps[i - 1].kind != STEP_FAULT || !c->t_fault_us)
				emit_phase(c, "fault");
			if (!run_fault_repeats(c, st, i))
				return;
			break;
		case STEP_WAIT_HEALTHY:
			emit_phase(c, "recovery");
			run_wait_healthy_step(c, st);
			break;
		case STEP_WAIT:
			idle_until(c, mono_now_us() + st->duration_us);
			break;
		}
	}
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
	event_write_run_start(c->log, mono_now_us(), &r);
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
	/* The backend may have no way to PostgreSQL from here (kubernetes without --pg-access). */
	if (c->ops->supports && !c->ops->supports(c->drv, DRIVER_CAP_SQL, why, sizeof(why))) {
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

/* Recompute metrics and verdicts from the saved log, as `bise report` would. */
enum verdict_kind trial_judge(const struct scenario *sc, struct trial_result *t)
{
	struct events ev;
	enum verdict_kind overall = t->completed ? VERDICT_PASS : VERDICT_FAIL;

	memset(&ev, 0, sizeof(ev));
	if (!events_load(t->events_path, &ev))
		return VERDICT_FAIL;
	metrics_compute(&ev, &t->metrics);
	events_free(&ev);
	t->nverdicts = 0;
	for (int i = 0; i < sc->nslos; i++) {
		struct verdict *v = &t->verdicts[t->nverdicts++];

		slo_judge(&sc->slos[i], &t->metrics, v);
		if (v->kind == VERDICT_FAIL)
			overall = VERDICT_FAIL;
	}
	/* A scenario that waits for recovery fails when the cluster never recovered. */
	if (t->metrics.healthy_seen && !t->metrics.healthy_ok)
		overall = VERDICT_FAIL;
	return overall;
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
	c.rng = r->seed + (uint64_t)trial;
	c.trial = trial;
	c.trials = trials;
	c.planned_s = planned_seconds(sc);
	str_format(c.run_id, sizeof(c.run_id), "%s-%s-t%d", r->run_id, sc->name, trial);
	t->trial = trial;
	if (!str_format(tdir, sizeof(tdir), "%s/trial-%d", dir, trial) || !mkdir_p(tdir, 0755) ||
	    !str_format(t->events_path, sizeof(t->events_path), "%s/events.jsonl", tdir)) {
		str_copy(t->error, sizeof(t->error), "cannot create the trial directory");
		return BISE_EXIT_ENV;
	}
	c.log = event_log_open(t->events_path, mono_now_us());
	if (!c.log) {
		str_copy(t->error, sizeof(t->error), "cannot open the event log");
		return BISE_EXIT_ENV;
	}
	c.t0_us = mono_now_us();
	emit_run_start(&c, trial, r->seed, r->host);
	if (trial == 1 && r->provision_seconds >= 0)
		event_write_provision(c.log, mono_now_us(), r->provision_seconds);
	/* Replicas must stream before a scenario starts, or its numbers mean nothing. */
	if (!wait_healthy(&c, PREFLIGHT_HEALTH_TIMEOUT_US, why, sizeof(why))) {
		str_format(c.error, sizeof(c.error), "cluster not healthy before the trial: %s", why);
	} else {
		/* Before the workload: the roles at the fault must already be known. */
		start_observer(&c);
		if (start_workload(&c)) {
			c.t0_us = mono_now_us();
			emit_phase(&c, "baseline");
			log_info("trial %d: workload started (%d writers)", trial,
				 workload_total_writers(&sc->workload));
			run_steps(&c);
		}
	}
	/* Faults never outlive the trial, whatever happened. */
	process_reverts(&c, true);
	stop_observer(&c);
	finish_workload(&c, !runner_interrupted() && !c.error[0]);
	emit_phase(&c, "end");
	event_write_run_end(c.log, mono_now_us(),
			    runner_interrupted() ? "interrupted" : c.error[0] ? "aborted" : "completed");
	event_log_close(c.log);
	progress_done();
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
