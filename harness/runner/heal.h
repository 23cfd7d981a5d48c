/* heal.h - undo every fault recorded in any journal whose run is gone. */
#ifndef BISE_HEAL_H
#define BISE_HEAL_H

#include <stdbool.h>

/*
 * Revert every unreverted fault in the journals under state_root whose runner is no
 * longer alive (or all of them with force). Prints what it did; returns the number of
 * faults it could not revert (0 = all healed), or -1 on error.
 */
int heal_all(const char *state_root, bool force);

/*
 * Revert the open faults of one journal file (only those past their deadline when
 * only_expired). Returns the number that could not be reverted, -1 if unreadable.
 */
int heal_journal_path(const char *path, bool only_expired);

/* Number of journals holding unreverted faults of dead runs (run/up refuse to start then). */
int heal_pending(const char *state_root);

#endif
