/* heal.c - reverts what a crashed or killed runner left, from the fault journals. */
#include "heal.h"

#include "driver.h"
#include "fault.h"
#include "journal.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long heal --force waits for a dead run's watchdog to finish its own revert. */
#define HEAL_FORCE_WAIT_US (30 * 1000000LL)

struct heal_state {
	bool force;
	bool dry;     /* only count */
	int pending;  /* journals of dead runs with open faults */
	int skipped;  /* journals a live watchdog (or another heal) is reverting */
	int failed;   /* faults that could not be reverted */
};

/* The backend's driver for jc's cluster, where the run that wrote jc acted; NULL (logged). */
static struct driver *open_for(const struct driver_ops *ops, const struct journal_contents *jc)
{
	struct driver_options *o = xmalloc(sizeof(*o));
	struct driver *d = NULL;
	char why[2300];

	/* The target recorded is the options the run's driver acted with (driver.h). */
	driver_options_init(o, ops);
	if (jc->target[0] && !driver_options_from_target(o, jc->target, why, sizeof(why)))
		log_error("%s: %s", jc->path, why);
	else
		d = ops->open(&jc->cluster, jc->state_root, o);
	free(o);
	return d;
}

static bool revert_entry(const struct journal_contents *jc, const struct journal_entry *e)
{
	const struct fault_ops *fault = fault_find(e->fault);
	const struct driver_ops *ops = driver_find(jc->backend);
	struct fault_ctx ctx;
	struct step st;
	char fault_id[48];
	bool ok;

	if (!fault || !ops) {
		log_error("%s: unknown fault '%s' or backend '%s'", jc->path, e->fault, jc->backend);
		return false;
	}
	if (!fault->revert)
		return true; /* nothing to undo: the fault ends by itself */
	memset(&st, 0, sizeof(st));
	st.kind = STEP_FAULT;
	st.fault = fault;
	str_copy(st.target, sizeof(st.target), e->target);
	st.noptions = e->noptions;
	memcpy(st.options, e->options, sizeof(st.options));
	memset(&ctx, 0, sizeof(ctx));
	fault_id_format(fault_id, sizeof(fault_id), (int)jc->pid, e->id);
	ctx.fault_id = fault_id;
	ctx.ops = ops;
	ctx.drv = open_for(ops, jc);
	if (!ctx.drv)
		return false;
	ok = fault->revert(&ctx, &st, e->member);
	ops->close(ctx.drv);
	return ok;
}

/* Revert the open entries of one loaded journal (only those past their deadline if asked). */
static int heal_entries(const struct journal_contents *jc, bool only_expired)
{
	int failed = 0;
	int64_t now = time(NULL);

	for (int i = 0; i < jc->nentries; i++) {
		const struct journal_entry *e = &jc->entries[i];

		if (e->reverted || (only_expired && e->deadline_epoch > now))
			continue;
		if (revert_entry(jc, e) && journal_append_reverted(jc->path, e->id)) {
			printf("healed: %s on %s (cluster %s, journal %s)\n", e->fault, e->member,
			       jc->cluster.name, jc->path);
		} else {
			printf("NOT healed: %s on %s (cluster %s, journal %s)\n", e->fault, e->member,
			       jc->cluster.name, jc->path);
			failed++;
		}
	}
	fflush(stdout);
	return failed;
}

int heal_journal_path(const char *path, bool only_expired)
{
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	int failed = -1;

	if (journal_load(path, jc))
		failed = heal_entries(jc, only_expired);
	free(jc);
	return failed;
}

/*
 * The last line of defence: whatever the backend still finds by its own markers on that
 * cluster (a rule, a stopped process, a stalled disk) that no journal line accounts for.
 */
static void sweep_cluster(const struct journal_contents *jc)
{
	const struct driver_ops *ops = driver_find(jc->backend);
	struct driver *d;

	if (!ops || !ops->sweep)
		return;
	d = open_for(ops, jc);
	if (!d)
		return;
	if (ops->exists(d) && !ops->sweep(d))
		printf("sweep of cluster %s found something it could not remove\n", jc->cluster.name);
	ops->close(d);
}

static void heal_journal(const struct journal_contents *jc, void *arg)
{
	struct heal_state *hs = arg;
	bool alive = journal_run_alive(jc);
	int lock, failed;

	if (alive && !hs->force) {
		if (hs->dry)
			return;
		printf("%s: run %d is still alive and owns its faults (use --force to heal anyway)\n",
		       jc->path, (int)jc->pid);
		return;
	}
	hs->pending++;
	if (hs->dry)
		return;
	/*
	 * A dead run's watchdog may be reverting these very faults: leave them to it. --force
	 * waits for it to finish (not for a live run: that lock is held until the run ends).
	 */
	lock = journal_lock(jc->path, hs->force && !alive ? HEAL_FORCE_WAIT_US : 0);
	if (lock < 0 && errno != EWOULDBLOCK)
		return; /* removed meanwhile: everything in it was reverted */
	if (lock < 0 && !hs->force) {
		printf("%s: skipped: the watchdog of run %d (or another heal) is reverting it "
		       "(use --force to wait for it)\n", jc->path, (int)jc->pid);
		hs->skipped++;
		return;
	}
	if (lock < 0)
		printf("%s: still locked by %s: healing anyway\n", jc->path,
		       alive ? "its live run" : "its watchdog");
	/* Reloaded under the lock: the watchdog may have reverted some of it meanwhile. */
	failed = heal_journal_path(jc->path, false);
	hs->failed += failed > 0 ? failed : 0;
	sweep_cluster(jc);
	journal_unlock(lock);
}

int heal_all(const char *state_root, bool force)
{
	struct heal_state hs = { .force = force };
	int found = journal_scan(state_root, heal_journal, &hs);

	if (found < 0) {
		log_error("cannot read the fault journals under %s/journal", state_root);
		return -1;
	}
	if (hs.pending == 0)
		printf("nothing to heal\n");
	else if (hs.skipped > 0)
		printf("%d journal(s) left to their watchdog: run `bise heal` again once it is done\n",
		       hs.skipped);
	/* A second scan removes journals that are now fully reverted. */
	journal_scan(state_root, NULL, NULL);
	return hs.failed;
}

int heal_pending(const char *state_root)
{
	struct heal_state hs = { .dry = true };

	if (journal_scan(state_root, heal_journal, &hs) < 0)
		return -1;
	return hs.pending;
}
