/*
 * watchdog.h - the dead-man switch. A small process forked when a run's journal is
 * created; it outlives the runner. While the runner lives it reverts any fault whose
 * deadline has passed (a stuck runner); when the runner dies (its pipe closes) it reverts
 * every open fault of the journal and exits. A clean run removes its journal, and the
 * watchdog exits with it. It holds the journal's shared lock while it lives, so `bise heal`
 * skips a journal whose watchdog is still reverting it.
 */
#ifndef BISE_WATCHDOG_H
#define BISE_WATCHDOG_H

#include <sys/types.h>

struct watchdog;

/* Fork the watchdog for journal_path; its output goes to journal_path + ".watchdog.log". */
struct watchdog *watchdog_start(const char *journal_path);

/* Wait for the watchdog to notice a clean end (journal removed) and reap it. */
void watchdog_stop(struct watchdog *w);

#endif
