/*
 * progress.h - what a person (or a CI log) sees while a scenario runs. On a terminal: one
 * status line rewritten in place; without one: plain timestamped lines, no control
 * characters. Silent with --quiet (log level below info).
 */
#ifndef BISE_PROGRESS_H
#define BISE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress_snapshot {
	const char *scenario;
	int trial, trials;
	const char *phase;     /* baseline, fault, recovery, readback */
	int step, nsteps;      /* 1-based step being run or waited for */
	const char *primary;   /* as the watcher last saw it, "" if none */
	int64_t attempted;     /* writes so far */
	int64_t ok;
	int64_t failed;        /* finished without an acknowledgement (in-flight ones are neither) */
	double elapsed_s;      /* since the workload started */
	double planned_s;      /* the scenario's known length (offsets and waits), 0 if unknown */
};

/* Decide the mode once: terminal (stderr is a TTY and TERM is not dumb) or plain lines. */
void progress_init(void);

/* Called often (every 20-50 ms): redraws at most 4 times a second, or a plain line every 5 s. */
void progress_update(const struct progress_snapshot *s);

/* A line that stays (fault applied, cluster healthy ...), prefixed with the elapsed time. */
void progress_note(double elapsed_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear the status line (end of a trial). */
void progress_done(void);

#endif
