/* dryrun.c - a run's plan as API calls, sent nowhere. See dryrun.h. */
#include "dryrun.h"

#include "driver.h"
#include "fault.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PLANNED 64

/* A fault applied in the plan, owed a revert at due_us (offset from the workload start). */
struct planned {
	const struct step *step;
	int index;
	char member[MEMBER_NAME_LEN];
	char fault_id[48];
	int64_t due_us;
};

struct plan {
	const struct scenario *sc;
	const struct driver_ops *real;
	struct driver_ops ops; /* the backend's, members answered by placeholders */
	struct driver *drv;
	FILE *out;
	int64_t now_us;
	int next_id;
	int npending;
	struct planned pending[MAX_PLANNED];
};

/* The placeholders' spec: the ops table's members op has no room for it. One plan at a time. */
static const struct cluster_spec *placeholder_spec;

bool dryrun_supported(const char *backend)
{
	const struct driver_ops *ops = driver_find(backend);

	return ops && ops->flush_calls && driver_option_find(ops->options, DRIVER_OPTION_DRY_RUN);
}

static void placeholder_name(const struct cluster_spec *spec, int i, char *buf, size_t len)
{
	str_format(buf, len, "%s-%s", spec->name, spec->zones[i]);
}

/* One member per zone, named <cluster>-<zone>; the first zone's is the primary. */
static int placeholder_members(struct driver *d, struct member *out, int max)
{
	int n = placeholder_spec->nzones < max ? placeholder_spec->nzones : max;

	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		placeholder_name(placeholder_spec, i, out[i].name, sizeof(out[i].name));
		str_copy(out[i].zone, sizeof(out[i].zone), placeholder_spec->zones[i]);
		out[i].role = i == 0 ? MEMBER_PRIMARY : MEMBER_REPLICA;
		out[i].timeline = 1;
	}
	return n;
}

/* Print what the backend recorded since the last flush. */
static void flush(struct plan *p)
{
	p->real->flush_calls(p->drv, p->out);
	fflush(p->out);
}

/* A comment line announcing the calls that follow it. */
static void header(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void header(struct plan *p, const char *fmt, ...)
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
static bool done(struct plan *p, bool ok)
{
	flush(p);
	if (!ok)
		fputs("# FAILED (see the error above)\n", p->out);
	return ok;
}

/* The placeholder a target resolves to: primary the first zone's, replica the second's. */
static bool resolve(const struct plan *p, const struct step *st, char *member, size_t len)
{
	const struct cluster_spec *spec = &p->sc->cluster;

	if (strcmp(st->target, "primary") == 0 || strcmp(st->target, "any") == 0) {
		placeholder_name(spec, 0, member, len);
		return true;
	}
	if (strcmp(st->target, "replica") == 0) {
		placeholder_name(spec, spec->nzones > 1 ? 1 : 0, member, len);
		return true;
	}
	for (int i = 0; i < spec->nzones; i++)
		if (strcmp(spec->zones[i], st->target) == 0) {
			placeholder_name(spec, i, member, len);
			return true;
		}
	return false;
}

/* Revert, in due order, every planned fault due by until_us (all when all). */
static bool revert_due(struct plan *p, int64_t until_us, bool all)
{
	bool ok = true;

	for (;;) {
		struct fault_ctx fc = { .ops = &p->ops, .drv = p->drv, .scenario = p->sc };
		int first = -1;
		struct planned f;

		for (int i = 0; i < p->npending; i++)
			if ((all || p->pending[i].due_us <= until_us) &&
			    (first < 0 || p->pending[i].due_us < p->pending[first].due_us))
				first = i;
		if (first < 0)
			return ok;
		f = p->pending[first];
		p->pending[first] = p->pending[--p->npending];
		if (f.due_us > p->now_us)
			p->now_us = f.due_us;
		fc.fault_id = f.fault_id;
		header(p, "+%.3fs step %d: %s on %s: revert (%s)", (double)f.due_us / 1e6, f.index + 1,
		       f.step->fault->name, f.member, f.fault_id);
		ok = done(p, f.step->fault->revert(&fc, f.step, f.member)) && ok;
	}
}

static bool plan_fault(struct plan *p, const struct step *st, int index, int64_t at_us, int rep)
{
	struct fault_ctx fc = { .ops = &p->ops, .drv = p->drv, .scenario = p->sc };
	char member[MEMBER_NAME_LEN], why[160], fault_id[48], rep_text[32] = "";
	int64_t revert_after = -1;

	if (!revert_due(p, at_us, false))
		return false;
	p->now_us = at_us;
	if (st->count > 1)
		str_format(rep_text, sizeof(rep_text), " (%d of %d)", rep, st->count);
	if (!resolve(p, st, member, sizeof(member))) {
		log_error("step %d: target %s is no zone of cluster %s", index + 1, st->target,
			  p->sc->cluster.name);
		return false;
	}
	if (!fault_supported(&fc, st, member, why, sizeof(why))) {
		flush(p);
		fprintf(p->out, "# +%.3fs step %d%s: %s skipped: %s\n", (double)at_us / 1e6, index + 1,
			rep_text, st->fault->name, why);
		return true;
	}
	/* The id a run would give it: "bise-<runner pid>-<journal id>". */
	fault_id_format(fault_id, sizeof(fault_id), getpid(), ++p->next_id);
	fc.fault_id = fault_id;
	header(p, "+%.3fs step %d%s: %s on %s (target %s): apply (%s)", (double)at_us / 1e6, index + 1,
	       rep_text, st->fault->name, member, st->target, fault_id);
	if (!done(p, st->fault->apply(&fc, st, member, &revert_after)))
		return false;
	if (revert_after >= 0 && st->fault->revert) {
		struct planned *f;

		if (p->npending == MAX_PLANNED) {
			log_error("step %d: more than %d faults in force at once", index + 1, MAX_PLANNED);
			return false;
		}
		f = &p->pending[p->npending++];
		f->step = st;
		f->index = index;
		str_copy(f->member, sizeof(f->member), member);
		str_copy(f->fault_id, sizeof(f->fault_id), fault_id);
		f->due_us = at_us + revert_after;
	}
	return true;
}

/* The steps of one trial at their planned offsets; health waits are not waited for. */
static bool plan_steps(struct plan *p)
{
	const struct scenario *sc = p->sc;

	for (int i = 0; i < sc->nsteps; i++) {
		const struct step *st = &sc->steps[i];

		switch (st->kind) {
		case STEP_FAULT: {
			int reps = st->count > 1 && st->every_us > 0 ? st->count : 1;
			int64_t first = st->at_us >= 0 ? st->at_us : p->now_us;

			for (int k = 0; k < reps; k++)
				if (!plan_fault(p, st, i, first + (int64_t)k * st->every_us, k + 1))
					return false;
			break;
		}
		case STEP_WAIT_HEALTHY:
			/* A run waits here until every fault has ended, then for health. */
			if (!revert_due(p, 0, true))
				return false;
			fprintf(p->out, "# +%.3fs step %d: wait until healthy (up to %.0fs; polled, not "
				"waited in a dry run)\n", (double)p->now_us / 1e6, i + 1,
				(double)st->timeout_us / 1e6);
			break;
		case STEP_WAIT:
			p->now_us += st->duration_us;
			if (!revert_due(p, p->now_us, false))
				return false;
			fprintf(p->out, "# +%.3fs step %d: waited %.3fs\n", (double)p->now_us / 1e6, i + 1,
				(double)st->duration_us / 1e6);
			break;
		}
	}
	/* Faults never outlive the trial. */
	return revert_due(p, 0, true);
}

static int plan_scenario(const struct scenario *sc, const struct run_options *o, const struct driver_ops *real,
			 FILE *out)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	char why[512];
	bool ours = false, ok = true;
	double seconds;
	int status = BISE_EXIT_OK;

	p->sc = sc;
	p->real = real;
	p->out = out;
	p->ops = *real;
	p->ops.members = placeholder_members;
	placeholder_spec = &sc->cluster;
	if (!real->preflight(&sc->cluster, o->driver_opts, why, sizeof(why))) {
		log_error("%s", why);
		free(p);
		return BISE_EXIT_ENV;
	}
	if (!(p->drv = real->open(&sc->cluster, o->state_root, o->driver_opts))) {
		free(p);
		return BISE_EXIT_ENV;
	}
	fprintf(out, "# dry run of scenario %s on the %s backend: every API call a run would make, "
		"in order; nothing is sent\n", sc->name, real->name);
	fprintf(out, "# members are placeholders derived from the spec's zones (reads answer 404 in a "
		"dry run):");
	for (int i = 0; i < sc->cluster.nzones; i++) {
		char name[MEMBER_NAME_LEN];

		placeholder_name(&sc->cluster, i, name, sizeof(name));
		fprintf(out, "%s %s in %s (%s)", i ? "," : "", name, sc->cluster.zones[i],
			i == 0 ? "primary" : "replica");
	}
	fprintf(out, "; no workload runs, nothing is waited for\n");
	header(p, "is cluster %s there?", sc->cluster.name);
	if (!real->exists(p->drv)) {
		ours = true;
		header(p, "up: cluster %s (it does not exist: reads answer 404)", sc->cluster.name);
		ok = done(p, real->up(p->drv, &seconds));
	} else {
		header(p, "cluster %s is running: used as it is", sc->cluster.name);
	}
	if (ok) {
		fprintf(out, "# trial 1 of %d (offsets from the workload start)\n",
			o->repeat > 0 ? o->repeat : sc->repeat);
		ok = plan_steps(p);
	}
	if (ok && ours && !o->keep) {
		header(p, "down: cluster %s (run brought it up)", sc->cluster.name);
		ok = done(p, real->down(p->drv));
	}
	if (!ok)
		status = BISE_EXIT_ABORTED;
	real->close(p->drv);
	placeholder_spec = NULL;
	free(p);
	return status;
}

int dryrun_run(struct scenario *const *scenarios, int n, const struct run_options *o, FILE *out)
{
	const struct driver_ops *real = driver_find(o->backend);
	int status = BISE_EXIT_OK;

	if (!real || !dryrun_supported(o->backend)) {
		log_error("--dry-run is for the kubernetes and kind backends, not %s", o->backend);
		return BISE_EXIT_USAGE;
	}
	/* The plan calls the real backend: only its dry-run client keeps every call unsent. */
	if (!driver_option_flag(o->driver_opts, DRIVER_OPTION_DRY_RUN)) {
		log_error("a dry run needs the %s backend's --dry-run option", o->backend);
		return BISE_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		int s = plan_scenario(scenarios[i], o, real, out);

		status = s > status ? s : status;
		if (s == BISE_EXIT_ENV)
			break;
	}
	return status;
}
