/*
 * live.h - `bise run --serve`: a live view of the run over HTTP (libmicrohttpd), for game
 * days. It serves one page (a timeline growing through server-sent events, the phase, the
 * primary, the faults in force, ok/s, errors/s, lag, the next step with its countdown),
 * /metrics in the Prometheus text format, the "next" and "abort" buttons of `--step`, and
 * at the end the run's own reports.
 *
 * What it shows comes from the event log as it is written: each trial's log gives every
 * line to the live view (event_log_observe), which parses it with the log's own reader
 * (events_feed) and computes failover with the metrics layer, so the page cannot say
 * something the log does not. The executor adds only what the plan knows and the log does
 * not hold yet: the next step and its deadline, when a fault in force is due to be
 * reverted, and whether it waits for "next".
 */
#ifndef BISE_LIVE_H
#define BISE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_log;
struct live;

struct live_options {
	const char *listen;  /* [ADDR:]PORT; ADDR defaults to 127.0.0.1, [v6]:PORT for IPv6 */
	const char *token;   /* needed to press the buttons; required off loopback; NULL: none */
	bool step;           /* --step: the "next" button means something */
	const char *run_dir; /* served under /run/ once the run has ended */
	const char *run_id;
	void (*abort)(void); /* the "abort" button: the runner's SIGINT path */
};

/*
 * Parse o->listen into an address; false (why says) on a bad one, or on an address other
 * than loopback without a token. *loopback tells which.
 */
bool live_listen_check(const char *listen, bool have_token, bool *loopback, char *why, size_t why_len);

/* Start the server (its own threads); NULL when it cannot (logged). */
struct live *live_start(const struct live_options *o);

/* The port it listens on (useful with port 0). */
int live_port(const struct live *l);

/*
 * The run is over: the page loads report (a path under the run directory). Waits, at most
 * a few seconds, for a connected page to fetch it, then stops the server. NULL is fine.
 */
void live_finish(struct live *l, const char *report);

/* ---- fed by the executor ---- */

/* A trial starts: its log (observed until live_trial_end), the scenario's name and steps. */
void live_trial_begin(struct live *l, struct event_log *log, const char *scenario, int nsteps, int trial,
		      int trials, int64_t origin_mono_us);
/* Before the log is closed. */
void live_trial_end(struct live *l, struct event_log *log);

/*
 * The next fault step (0-based), what it does, when it is due (monotonic; < 0: after a
 * health wait, not known yet); step < 0: none left.
 */
void live_next_step(struct live *l, int step, const char *what, int64_t due_mono_us);

/* A fault of step (0-based), repetition rep, applied: its planned revert (monotonic; < 0 none). */
void live_revert_due(struct live *l, int step, int rep, int64_t due_mono_us);

/* Whether the executor holds a step until "next" (--step). */
void live_waiting(struct live *l, bool waiting);

/* Whether "next" was pressed since the last call (consumed). NULL: false. */
bool live_take_next(struct live *l);

#endif
