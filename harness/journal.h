/*
 * journal.h - the crash-safe record of faults. A fault is written here (and fsync'd)
 * before it is applied and marked reverted after it is undone, so that `bise heal`, or
 * the next run, can undo whatever a crashed runner left behind.
 *
 * One file per run under <state_root>/journal/, JSON lines:
 *   {"rec":"run","pid":P,"backend":B,"cluster":C,"zones":[...],"state_root":S}
 *   {"rec":"intent","id":N,"fault":F,"member":M,"target":T,"deadline":EPOCH_S,"options":{k:v}}
 *   {"rec":"reverted","id":N}
 * A torn last line (a crash mid-write) is ignored: its fault was never applied.
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
	char backend[32];
	struct cluster_spec cluster;
	char state_root[1024];
	int nentries;
	struct journal_entry entries[JOURNAL_MAX_ENTRIES];
};

/* Create this run's journal and write its header. Logs its own error. */
struct journal *journal_create(const char *state_root, const char *run_id, const char *backend,
			       const struct cluster_spec *cluster);

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

/*
 * List journal files under <state_root>/journal with at least one unreverted fault.
 * Calls fn for each; returns the number found, -1 on error.
 */
int journal_scan(const char *state_root, void (*fn)(const struct journal_contents *jc, void *arg),
		 void *arg);

#endif
