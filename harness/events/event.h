/*
 * event.h - the append-only event log (events.jsonl), its typed writers and reader.
 *
 * One JSON object per line, flushed as it happens so a crash keeps what was measured.
 * Every object has "t" (seconds since the run's monotonic origin, microsecond precision)
 * and "ev" (the event type). Schema version 1:
 *
 *   run_start  schema, run, scenario, trial, seed, backend, host, bise, writers, writer_zones,
 *              poll_ms[, unix_us]             seed is a decimal string; writer_zones[w] = the
 *                                             zone writer w runs in, "" = where bise runs;
 *                                             unix_us = the wall clock (CLOCK_REALTIME, µs
 *                                             since the Unix epoch) at this event's "t": the
 *                                             one link from "t" to dates (Grafana annotations)
 *   provision  seconds                        cluster brought up for this run
 *   phase      name                           baseline | fault | recovery | readback | end
 *   write      w, seq, t0, out, node[, sqlstate, err]
 *              t0 = when the write was sent, t = when its outcome was known;
 *              out = ok | fail | indeterminate | ok_unreplicated; node = who answered
 *   node       node, role, tli, lsn[, rlsn]   one watcher sample: role = primary | replica | down;
 *                                             lsn = current (primary) or replayed (replica)
 *                                             position, rlsn = a replica's received position
 *   lag        primary, standby, state, sent, write, flush, replay, primary_lsn, tli,
 *              write_lag, flush_lag, replay_lag
 *                                             one row of pg_stat_replication on the instance
 *                                             the watcher sees as primary; positions are LSN
 *                                             text, primary_lsn is pg_current_wal_lsn() in the
 *                                             same statement, *_lag are seconds or null (idle)
 *   read       r, t0, out, node, target, seq_seen[, rec, tli, err]
 *              one reader probe: out = ok | fail; target = primary | replica | any (how the
 *              reader routed); seq_seen = writer 0's highest seq it saw (0 = none);
 *              rec = the answering server was in recovery (pg_is_in_recovery()),
 *              tli = its current timeline when it was not
 *   fault      action, fault, target, node, step[, reason, verified_ms, repeat, effect_by,
 *              called, returned, deadline, requested_ms]
 *              action = apply | revert | restart | skip | error; repeat = which repetition
 *              of a step with count > 1. An apply or revert is stamped ("t") when it took
 *              effect, as the backend observed it, and effect_by says how that moment was
 *              obtained (struct fault_effect in driver.h: "nft-commit", "cgroup-frozen",
 *              "api-accepted", ... or "returned": the call's return, nothing observed);
 *              called / returned = when the backend was called / its call returned,
 *              deadline = when the plan wanted it in force (apply) or undone (revert),
 *              requested_ms (apply) = how long it was to stay in force, from its effect;
 *              verified_ms = returned - called. Logs without effect_by (older bise) are
 *              stamped when the injection started (apply) or returned (revert).
 *   healthy    ok, seconds[, reason]          result of a wait for health
 *   readback   node, w, ranges, dups          sequence ranges [[a,b],...] found for writer w on
 *                                             the final primary; dups = [[seq,count],...]
 *   readback_done node, rows                  the read-back finished (rows = all rows of this run)
 *   api_role   node, role                     a member's role as the platform's API labels it
 *                                             (Kubernetes watch): role = primary | replica |
 *                                             unknown | deleted; logged when first seen and at
 *                                             every change
 *   connect    w, t0, out[, node, acc, err]  one connection attempt of writer w that had no
 *                                             connection (writes are not attempts):
 *                                             t0 = sent, t = outcome known, out = ok | fail;
 *                                             acc = when the server that connected first
 *                                             answered (it had accepted the connection and
 *                                             started a backend); a fail sent before a later
 *                                             attempt of the same writer connected was held
 *                                             up by the outage
 *   run_end    status
 *
 * event_schema.c holds the one definition of these names, in this order, with each
 * field's JSON type and whether it is required. The reader ignores unknown event types
 * and fields and a torn last line, so older and interrupted logs still load.
 */
#ifndef BISE_EVENT_H
#define BISE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h" /* enum read_target */

#define EVENT_SCHEMA_VERSION 1
#define EVENT_NODE_LEN 32

struct event_log;

/* Open (create or append) the log at path; its time origin is origin_us (mono_now_us()). */
struct event_log *event_log_open(const char *path, int64_t origin_us);

/* Close the log; NULL is fine. */
void event_log_close(struct event_log *log);

/*
 * Give every line written to the log, as written, to fn (NULL: nobody), under the log's lock
 * so it sees them in file order: a live view fed from the same records as the file. fn must
 * be quick (copy and return); it must not write to the log.
 */
typedef void event_observer_fn(void *arg, const char *line, size_t len);
void event_log_observe(struct event_log *log, event_observer_fn *fn, void *arg);

/* Microseconds since the log's origin for a mono_now_us() value. */
int64_t event_log_rel_us(const struct event_log *log, int64_t mono_us);

enum write_outcome { WRITE_OK, WRITE_FAIL, WRITE_INDETERMINATE, WRITE_OK_UNREPLICATED };
enum node_role { NODE_DOWN, NODE_PRIMARY, NODE_REPLICA };
enum api_role { API_ROLE_UNKNOWN, API_ROLE_PRIMARY, API_ROLE_REPLICA, API_ROLE_DELETED };
enum fault_action { FAULT_APPLY, FAULT_REVERT, FAULT_RESTART, FAULT_SKIP, FAULT_ERROR };

struct seq_range {
	int64_t first;
	int64_t last;
};

struct seq_dup {
	int64_t seq;
	int64_t count;
};

/*
 * ---- typed writers ----
 * One per event type of event_schema.h, the only way events are written. at_mono_us
 * (mono_now_us() when the event happened) becomes "t". Each writes one whole line,
 * thread-safe and flushed before return; false (logged) when nothing was written.
 * An optional string argument that is NULL leaves its field out ("" is written).
 */

struct run_start_record {
	const char *run;
	const char *scenario;
	int trial;
	uint64_t seed; /* written as a decimal string: JSON readers lose 64-bit integers */
	const char *backend;
	const char *host;
	const char *bise;
	int writers;
	const char *const *writer_zones; /* writer id -> zone it runs in ("" = where bise runs) */
	size_t nwriter_zones;
	int poll_ms;
	int64_t unix_us; /* wall_now_us() when the event is stamped; 0 leaves it out */
};

/* One pg_stat_replication row; a NULL text or a negative lag is SQL NULL, written as null. */
struct lag_record {
	const char *primary;
	int tli;
	const char *standby;
	const char *state;
	const char *sent;
	const char *write;
	const char *flush;
	const char *replay;
	const char *primary_lsn;
	double write_lag;
	double flush_lag;
	double replay_lag;
};

struct fault_record {
	enum fault_action action;
	const char *fault;
	const char *target;
	const char *node;
	int step;
	const char *reason;
	double verified_ms; /* how long the injector took to verify an apply; < 0 leaves it out */
	int repeat;         /* which repetition of a repeated step; 0 leaves it out */
	/* apply and revert (mono_now_us() values; 0 leaves a field out): */
	const char *effect_by; /* how the event's time, the effect, was obtained; NULL: left out */
	int64_t called_us;     /* the backend was called */
	int64_t returned_us;   /* its call returned */
	int64_t deadline_us;   /* when the plan wanted it in force (apply) or undone (revert) */
	int64_t requested_us;  /* apply: how long it is to stay in force; 0 leaves it out */
};

/* "schema" is EVENT_SCHEMA_VERSION. */
bool event_write_run_start(struct event_log *log, int64_t at_mono_us, const struct run_start_record *r);
bool event_write_provision(struct event_log *log, int64_t at_mono_us, double seconds);
bool event_write_phase(struct event_log *log, int64_t at_mono_us, const char *name);
/* Sent at t0_mono_us, outcome known at t_mono_us; sqlstate and err may be NULL. */
bool event_write_write(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, int64_t seq,
		       enum write_outcome out, const char *node, const char *sqlstate, const char *err);
/* tli and lsn are left out for a down node, rlsn when NULL. */
bool event_write_node(struct event_log *log, int64_t at_mono_us, const char *node, enum node_role role, int tli,
		      const char *lsn, const char *rlsn);
bool event_write_lag(struct event_log *log, int64_t at_mono_us, const struct lag_record *r);
/*
 * A failed probe writes seq_seen 0 and neither rec nor tli; tli only for an answer from
 * outside recovery. err may be NULL.
 */
bool event_write_read(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int reader, bool ok,
		      const char *node, enum read_target target, int64_t seq_seen, bool in_recovery, int timeline,
		      const char *err);
bool event_write_fault(struct event_log *log, int64_t at_mono_us, const struct fault_record *r);
/* reason may be NULL. */
bool event_write_healthy(struct event_log *log, int64_t at_mono_us, bool ok, double seconds, const char *reason);
bool event_write_readback(struct event_log *log, int64_t at_mono_us, const char *node, int writer,
			  const struct seq_range *ranges, size_t nranges, const struct seq_dup *dups, size_t ndups);
bool event_write_readback_done(struct event_log *log, int64_t at_mono_us, const char *node, int64_t rows);
bool event_write_api_role(struct event_log *log, int64_t at_mono_us, const char *node, enum api_role role);
/* acc_mono_us <= 0: the server never answered (or unknown). */
bool event_write_connect(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, bool ok,
			 const char *node, int64_t acc_mono_us, const char *err);
/* A writer's path probe to node, sent at t0, known by t to have been dropped (a later one was answered). */
bool event_write_path(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, const char *node);

/* status = completed | aborted | interrupted */
bool event_write_run_end(struct event_log *log, int64_t at_mono_us, const char *status);

/* ---- typed reader ---- */

struct write_event {
	int64_t start_us;
	int64_t end_us;
	int writer;
	int64_t seq;
	enum write_outcome outcome;
	char node[EVENT_NODE_LEN];
};

struct node_event {
	int64_t t_us;
	char node[EVENT_NODE_LEN];
	enum node_role role;
	int timeline;
	uint64_t lsn;
	uint64_t rlsn; /* a replica's received position; 0 when unknown */
};

/* One pg_stat_replication row; a *_lag < 0 means null (idle or not yet measured). */
struct lag_event {
	int64_t t_us;
	char primary[EVENT_NODE_LEN];
	char standby[EVENT_NODE_LEN];
	char state[16];
	int timeline; /* the primary's, 0 when not logged */
	uint64_t sent;
	uint64_t write;
	uint64_t flush;
	uint64_t replay;
	uint64_t primary_lsn;
	double write_lag;
	double flush_lag;
	double replay_lag;
};

/* One api_role event: the role label of a member's pod changed (or was first seen). */
struct api_role_event {
	int64_t t_us;
	char node[EVENT_NODE_LEN];
	enum api_role role;
};

/* One reader probe; start_us = t0 (sent), end_us = t (outcome known). */
struct read_event {
	int64_t start_us;
	int64_t end_us;
	int reader;
	bool ok;
	bool in_recovery; /* the answering server's own view; false when unknown */
	int timeline;     /* a primary's current timeline as it answered; 0 when unknown */
	enum read_target target;
	int64_t seq_seen;
	char node[EVENT_NODE_LEN];
};

struct fault_event {
	int64_t t_us;
	char action[16];
	char fault[32];
	char target[32];
	char node[EVENT_NODE_LEN];
	int step;
	int rep; /* 1-based repetition of a step with count > 1; 1 otherwise */
	char effect_by[32];  /* how t was obtained; "" in logs before it was recorded */
	int64_t called_us;   /* since the log origin; -1 when not logged */
	int64_t returned_us; /* -1 when not logged */
	int64_t deadline_us; /* -1 when not logged */
	double requested_ms; /* apply: time in force asked for; -1 when not logged */
};

struct readback_event {
	char node[EVENT_NODE_LEN];
	int writer;
	size_t nranges;
	struct seq_range *ranges;
	size_t ndups;
	struct seq_dup *dups;
};

/* One connection attempt; start_us = t0 (sent), end_us = t, acc_us = -1 when never accepted. */
struct connect_event {
	int64_t start_us;
	int64_t end_us;
	int64_t acc_us;
	int writer;
	bool ok;
	char node[EVENT_NODE_LEN];
};

/* A writer's path probe to node sent at start_us, dropped: a later one was answered by end_us. */
struct path_event {
	int64_t start_us;
	int64_t end_us;
	int writer;
	char node[EVENT_NODE_LEN];
};

struct events {
	char run[64];
	char scenario[64];
	char backend[32];
	char host[256];
	char seed[32]; /* decimal text, as logged: a 64-bit seed does not fit a JSON double */
	int trial;
	int writers;
	int poll_ms;
	int64_t baseline_us; /* when the workload started: plan offsets count from here; -1 if never */
	/* Wall clock at t = 0, µs since the Unix epoch (run_start's unix_us - its t); 0: not logged. */
	int64_t wall_origin_us;
	double provision_seconds; /* < 0 when the run used an existing cluster */
	bool healthy_seen;
	bool healthy_ok;
	double healthy_seconds;
	int64_t healthy_us; /* when the last healthy event was logged (the wait's end) */
	bool run_ended;
	char end_status[16]; /* run_end's status: completed | aborted | interrupted */
	size_t nwrites;
	struct write_event *writes; /* in log order */
	size_t nnodes;
	struct node_event *nodes;
	size_t nreads;
	struct read_event *reads; /* in log order */
	size_t nfaults;
	struct fault_event *faults;
	size_t nlags;
	struct lag_event *lags;
	size_t nreadbacks;
	struct readback_event *readbacks;
	size_t napi_roles;
	struct api_role_event *api_roles; /* in log order */
	size_t nconnects;
	struct connect_event *connects; /* in log order */
	size_t npaths;
	struct path_event *paths; /* in log order */
	bool readback_done; /* a readback_done event was seen (even with zero rows) */
	int64_t readback_rows;
	char readback_node[EVENT_NODE_LEN];
};

/* Load a log written by event_log_append. Logs its own error. */
bool events_load(const char *path, struct events *out);

void events_free(struct events *ev);

/*
 * The same reader fed one line at a time (a live view of a log being written): out is
 * reset, then grows with each line; name is for error messages. A line that does not
 * parse is logged and skipped (false).
 */
struct events_feed;
struct events_feed *events_feed_new(struct events *out, const char *name);
bool events_feed_line(struct events_feed *f, const char *line, size_t len);
void events_feed_free(struct events_feed *f);

const char *write_outcome_name(enum write_outcome o);
const char *node_role_name(enum node_role r);
const char *api_role_name(enum api_role r);
const char *fault_action_name(enum fault_action a);

/* Inverse of the *_name functions; false for an unknown name. */
bool write_outcome_parse(const char *name, enum write_outcome *out);
bool node_role_parse(const char *name, enum node_role *out);
bool api_role_parse(const char *name, enum api_role *out);
bool fault_action_parse(const char *name, enum fault_action *out);

/* PostgreSQL's text LSN "X/Y" (two hex numbers of up to 8 digits) -> (X << 32) | Y. */
bool lsn_parse(const char *text, uint64_t *out);

#endif
