/* dryrun.c - a run's plan as API calls, sent nowhere. See dryrun.h. */
#include "dryrun.h"
#include "export.h"

#include "driver.h"
#include "fault.h"
#include "plan.h"
#include "trial.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dry {
	const struct scenario *sc;
	const struct driver_ops *real;
	struct driver *drv;    /* NULL: the backend records no calls, only the timeline is printed */
	FILE *out;
	struct plan plan;
	char (*members)[MEMBER_NAME_LEN]; /* per apply entry: the placeholder it resolved to */
	char (*ids)[48];                  /* per apply entry: its fault id */
	bool *applied;                    /* per apply entry: it was applied (not skipped) */
	int next_id;
	bool step;                        /* --step: say which applies wait for next */
};

/* Whether the backend can record the calls it would make instead of making them. */
static bool records_calls(const struct driver_ops *ops)
{
	return ops->flush_calls && driver_option_find(ops->options, DRIVER_OPTION_DRY_RUN);
}

/* Print what the backend recorded since the last flush. */
static void flush(struct dry *p)
{
	if (!p->drv)
		return;
	p->real->flush_calls(p->drv, p->out);
	fflush(p->out);
}

/* A comment line announcing the calls that follow it. */
static void header(struct dry *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void header(struct dry *p, const char *fmt, ...)
{
	va_list ap;

	flush(p);
	va_start(ap, fmt);
	fputs("# ", p->out);
	vfprintf(p->out, fmt, ap);
	fputc('\n', p->out);
	va_end(ap);
	fflush(p->out);
}

/* After an action: its calls, and a line when it failed. */
static bool done(struct dry *p, bool ok)
{
	flush(p);
	if (!ok)
		fputs("# FAILED (see the error above)\n", p->out);
	return ok;
}

/* The member a target resolves to among the backend's dry-run placeholders, as a run resolves it. */
static bool resolve(const struct dry *p, int i, char *member, size_t len)
{
	const struct plan_entry *e = &p->plan.entries[i];
	struct member m[DRIVER_MAX_MEMBERS];
	int n = p->real->members(p->drv, m, DRIVER_MAX_MEMBERS), pick;

	pick = n > 0 ? trial_pick_target(m, n, p->sc->steps[e->step].target, e->draw) : -1;
	return pick >= 0 && str_copy(member, len, m[pick].name);
}

static bool dry_apply(struct dry *p, int i, const char *when, const char *what)
{
	const struct plan_entry *e = &p->plan.entries[i];
	const struct step *st = &p->sc->steps[e->step];
	struct fault_ctx fc = { .ops = p->real, .drv = p->drv, .scenario = p->sc };
	char why[160];
	bool applied;

	if (!p->drv) {
		/* The timeline alone: what the backend's capability bits allow, the target as named. */
		if (!fault_supported(&fc, st, st->target, why, sizeof(why))) {
			fprintf(p->out, "# %s: %s skipped: %s\n", when, st->fault->name, why);
			return true;
		}
		header(p, "%s", what);
		p->applied[i] = true;
		return true;
	}
	if (!resolve(p, i, p->members[i], sizeof(p->members[i]))) {
		log_error("step %d: target %s is no zone of cluster %s", e->step + 1, st->target,
			  p->sc->cluster.name);
		return false;
	}
	if (!fault_supported(&fc, st, p->members[i], why, sizeof(why))) {
		flush(p);
		fprintf(p->out, "# %s: %s skipped: %s\n", when, st->fault->name, why);
		return true;
	}
	/* The id a run would give it: "bise-<runner pid>-<journal id>". */
	fault_id_format(p->ids[i], sizeof(p->ids[i]), getpid(), ++p->next_id);
	header(p, "%s: %s on %s (target %s): apply (%s)", when, st->fault->name, p->members[i], st->target,
	       p->ids[i]);
	fc.fault_id = p->ids[i];
	applied = st->fault->apply(&fc, st, p->members[i]);
	p->applied[i] = applied;
	return done(p, applied);
}

static bool dry_revert(struct dry *p, int i, const char *when)
{
	const struct plan_entry *e = &p->plan.entries[i];
	const struct step *st = &p->sc->steps[e->step];
	struct fault_ctx fc = { .ops = p->real, .drv = p->drv, .scenario = p->sc,
				.fault_id = p->ids[e->apply] };

	if (!p->applied[e->apply])
		return true;
	if (!p->drv) {
		header(p, "%s: %s on %s: revert", when, st->fault->name, st->target);
		return true;
	}
	header(p, "%s: %s on %s: revert (%s)", when, st->fault->name, p->members[e->apply], p->ids[e->apply]);
	return done(p, st->fault->revert(&fc, st, p->members[e->apply]));
}

/* The plan of one trial: every entry at its planned offset; health waits are not waited for. */
static bool dry_walk(struct dry *p)
{
	for (int i = 0; i < p->plan.n; i++) {
		const struct plan_entry *e = &p->plan.entries[i];
		char what[256], when[96];
		bool ok = true;

		plan_entry_when(&p->plan, i, p->sc, when, sizeof(when));
		plan_entry_describe(&p->plan, i, p->sc, what, sizeof(what));
		switch (e->action) {
		case PLAN_APPLY:
			if (p->step && plan_step_gate(&p->plan, i))
				fprintf(p->out, "# %s: waits for next (--step); what follows moves by the wait\n",
					when);
			ok = dry_apply(p, i, when, what);
			break;
		case PLAN_REVERT:
			ok = dry_revert(p, i, when);
			break;
		case PLAN_WAIT:
		case PLAN_WAIT_HEALTHY:
			header(p, "%s", what);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* The members' placeholders, the one line a reader needs to follow the calls. */
static void print_placeholders(const struct dry *p)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n = p->real->members(p->drv, m, DRIVER_MAX_MEMBERS);

	fprintf(p->out, "# members are placeholders derived from the spec's zones (reads answer 404 in a "
		"dry run):");
	for (int i = 0; i < n; i++)
		fprintf(p->out, "%s %s in %s (%s)", i ? "," : "", m[i].name, m[i].zone,
			m[i].role == MEMBER_PRIMARY ? "primary" : "replica");
	fprintf(p->out, "; no workload runs, nothing is waited for\n");
}

/* The calls around the trial: the cluster brought up if absent, taken down after. */
static bool dry_trial(struct dry *p, const struct run_options *o)
{
	const struct scenario *sc = p->sc;
	double seconds;
	bool ours = false, ok = true;

	if (p->drv) {
		header(p, "is cluster %s there?", sc->cluster.name);
		if (!p->real->exists(p->drv)) {
			ours = true;
			header(p, "up: cluster %s (it does not exist: reads answer 404)", sc->cluster.name);
			ok = done(p, p->real->up(p->drv, &seconds));
		} else {
			header(p, "cluster %s is running: used as it is", sc->cluster.name);
		}
	}
	if (ok) {
		fprintf(p->out, "# trial 1 of %d (offsets from the workload start)\n",
			o->repeat > 0 ? o->repeat : sc->repeat);
		if (o->step)
			fprintf(p->out, "# --step: the trial's clock pauses while a step waits for next: every "
				"later apply and wait moves by the wait; a fault in force is still reverted on "
				"time\n");
		ok = dry_walk(p);
	}
	if (ok && ours && !o->keep) {
		header(p, "down: cluster %s (run brought it up)", sc->cluster.name);
		ok = done(p, p->real->down(p->drv));
	}
	return ok;
}

static int dry_scenario(const struct scenario *sc, const struct run_options *o, const struct driver_ops *real,
			FILE *out)
{
	struct dry *p = xcalloc(1, sizeof(*p));
	char why[512];
	int status = BISE_EXIT_OK;

	p->sc = sc;
	p->real = real;
	p->out = out;
	p->step = o->step;
	if (!plan_build(sc, o->seed, 1, &p->plan, why, sizeof(why))) {
		log_error("%s: %s", sc->name, why);
		free(p);
		return BISE_EXIT_USAGE;
	}
	p->members = xcalloc((size_t)p->plan.n + 1, sizeof(*p->members));
	p->ids = xcalloc((size_t)p->plan.n + 1, sizeof(*p->ids));
	p->applied = xcalloc((size_t)p->plan.n + 1, sizeof(*p->applied));
	if (records_calls(real)) {
		if (!real->preflight(&sc->cluster, o->driver_opts, why, sizeof(why))) {
			log_error("%s", why);
			status = BISE_EXIT_ENV;
		} else if (!(p->drv = real->open(&sc->cluster, o->state_root, o->driver_opts))) {
			status = BISE_EXIT_ENV;
		}
	}
	if (status == BISE_EXIT_OK) {
		if (p->drv) {
			fprintf(out, "# dry run of scenario %s on the %s backend: every API call a run would "
				"make, in order; nothing is sent\n", sc->name, real->name);
			print_placeholders(p);
		} else {
			fprintf(out, "# dry run of scenario %s on the %s backend: its plan, nothing is "
				"touched\n", sc->name, real->name);
		}
		if (!dry_trial(p, o))
			status = BISE_EXIT_ABORTED;
	}
	if (p->drv)
		real->close(p->drv);
	plan_free(&p->plan);
	free(p->members);
	free(p->ids);
	free(p->applied);
	free(p);
	return status;
}

/* Where the run would send its results; nothing is sent in a dry run. */
static void dry_exports(const struct run_options *o, FILE *out)
{
	char shown[512];

	if (o->pushgateway) {
		export_url_redact(o->pushgateway, shown, sizeof(shown));
		fprintf(out, "after each scenario: PUT its metrics to the Pushgateway at %s (not in a dry run)\n", shown);
	}
	if (o->grafana) {
		export_url_redact(o->grafana, shown, sizeof(shown));
		fprintf(out, "after each trial: POST one annotation per fault to Grafana at %s%s%s (not in a dry run)\n",
			shown, o->grafana_dashboard ? ", dashboard " : "", o->grafana_dashboard ? o->grafana_dashboard : "");
	}
}

int dryrun_run(struct scenario *const *scenarios, int n, const struct run_options *o, FILE *out)
{
	const struct driver_ops *real = driver_find(o->backend);
	int status = BISE_EXIT_OK;

	if (!real) {
		log_error("unknown backend %s (hint: %s)", o->backend, driver_names());
		return BISE_EXIT_USAGE;
	}
	/* The plan calls a recording backend: only its dry-run client keeps every call unsent. */
	if (records_calls(real) && !driver_option_flag(o->driver_opts, DRIVER_OPTION_DRY_RUN)) {
		log_error("a dry run needs the %s backend's --dry-run option", o->backend);
		return BISE_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		int s = dry_scenario(scenarios[i], o, real, out);

		status = s > status ? s : status;
		if (s == BISE_EXIT_ENV)
			break;
	}
	dry_exports(o, out);
	return status;
}
