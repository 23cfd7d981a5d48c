/*
 * journal.h - the crash-safe record of faults. A fault is written here (and fsync'd)
 * before it is applied and marked reverted after it is undone, so that `bise heal`, or
 * the next run, can undo whatever a crashed runner left behind.
 *
 * One file per run under <state_root>/journal/, JSON lines:
 *   {"rec":"run","pid":P,"pid_start":T,"backend":B,"cluster":C,"zones":[...],"state_root":S}
 *   {"rec":"intent","id":N,"fault":F,"member":M,"target":T,"deadline":EPOCH_S,"options":{k:v}}
 *   {"rec":"reverted","id":N}
 * A torn last line (a crash mid-write) is ignored: its fault was never applied.
 * pid_start is the runner's start time (/proc/P/stat field 22): a PID reused after a crash
 * does not make a dead run look alive.
 *
 * The runner holds a shared flock on its journal from creation; its watchdog inherits it,
 * so the lock is held as long as either lives. heal takes it exclusively (journal_lock) and
 * leaves a journal alone while someone else holds it.
 */
#ifndef BISE_JOURNAL_H
#define BISE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenario.h"

#define JOURNAL_MAX_ENTRIES 256

struct journal;

struct journal_entry {
	int id;
	char fault[32];
	char member[32];
	char target[ZONE_NAME_LEN];
	int64_t deadline_epoch; /* wall-clock seconds after which nobody should keep this fault */
	int noptions;
	struct step_option options[STEP_MAX_OPTIONS];
	bool reverted;
};

/* What a journal file says, loaded for heal. */
struct journal_contents {
	char path[4096];
	pid_t pid;
	uint64_t pid_start; /* 0: not recorded (an older journal), judged by the PID alone */
	char backend[32];
	struct cluster_spec cluster;
	char state_root[1024];
	char target[2048]; /* the backend's target (driver.h), "" when it has none */
	int nentries;
	struct journal_entry entries[JOURNAL_MAX_ENTRIES];
};

/*
 * Create this run's journal, take its shared lock (kept by every process that inherits the
 * descriptor: the watchdog) and write its header. Logs its own error.
 */
struct journal *journal_create(const char *state_root, const char *run_id, const char *backend,
			       const char *target, const struct cluster_spec *cluster);

/* Record a fault about to be applied; returns its id (> 0) or -1. fsync'd before return. */
int journal_intent(struct journal *j, const struct step *st, const char *member, int64_t deadline_epoch);

/* Record a fault undone. fsync'd. */
bool journal_reverted(struct journal *j, int id);

/* Path of this run's journal file. */
const char *journal_path(const struct journal *j);

/* Close; remove the file when every fault in it was reverted. */
void journal_close(struct journal *j);

/* Load one journal file (torn last line tolerated). */
bool journal_load(const char *path, struct journal_contents *out);

/* Mark an entry reverted in a file written by another process (heal). */
bool journal_append_reverted(const char *path, int id);

/* The start time of a process (clock ticks after boot, /proc/<pid>/stat field 22). */
bool journal_proc_start(pid_t pid, uint64_t *start);

/*
 * Is the run that wrote jc still alive: its PID exists, is not us, and started when the
 * journal says (a PID alone when no start time was recorded).
 */
bool journal_run_alive(const struct journal_contents *jc);

/*
 * Take a journal's lock exclusively, waiting up to timeout_us (0: do not wait). Returns a
 * descriptor for journal_unlock, or -1 with errno EWOULDBLOCK when a live runner, its
 * watchdog or another heal holds it (other errno: the file could not be opened).
 */
int journal_lock(const char *path, int64_t timeout_us);

/* Release a lock taken by journal_lock. */
void journal_unlock(int fd);

/*
 * List journal files under <state_root>/journal with at least one unreverted fault.
 * Calls fn for each; returns the number found, -1 on error.
 */
int journal_scan(const char *state_root, void (*fn)(const struct journal_contents *jc, void *arg),
		 void *arg);

#endif
