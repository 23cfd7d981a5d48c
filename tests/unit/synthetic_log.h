/*
 * synthetic_log.h - the metrics tests' synthetic event logs: one temporary file per test
 * program, written through event_log_append (event_raw.h, so a test can also write legacy
 * or odd events; origin 0: event times are microseconds since the origin) and read back
 * with events_load, so the round trip is tested too. Failures are CUnit assertions.
 */
#ifndef BISE_SYNTHETIC_LOG_H
#define BISE_SYNTHETIC_LOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "event_raw.h"
#include "metrics.h"

#define MS(x) ((int64_t)(x) * 1000)

/* Suite init: a quiet log level and a temporary file /tmp/<prefix>-XXXXXX; 0 or 1. */
int synth_suite_init(const char *prefix);

/* Suite clean: remove the file; 0. */
int synth_suite_clean(void);

/* Start a fresh log in the file. */
void synth_begin(void);

/* A new event object {"ev": type}. */
json_object *synth_event(const char *type);

/* Append o (consumed) at t_us. */
void synth_emit(int64_t t_us, json_object *o);

/* A write event of writer w, sequence seq, sent at t0_us, with outcome out on node (not emitted). */
json_object *synth_write(int w, int64_t seq, int64_t t0_us, enum write_outcome out, const char *node);

/* A connect event of writer w sent at t0_us; acc_us < 0: no "acc" (not emitted). */
json_object *synth_connect(int w, int64_t t0_us, bool ok, const char *node, int64_t acc_us);

/* A node event: the watcher saw name with role on timeline tli (not emitted). */
json_object *synth_node(const char *name, enum node_role role, int tli);

/* A fault event: action (apply, revert...) of fault on node, plan step (not emitted). */
json_object *synth_fault(const char *action, const char *fault, const char *node, int step);

/* Add the time field key (seconds since the origin, like "t") at t_us to o. */
void synth_time(json_object *o, const char *key, int64_t t_us);

/* [[a, b], ...] from n pairs in v. */
json_object *synth_pairs(const int64_t *v, size_t n);

/* The temporary file's path (free for other uses between logs). */
const char *synth_path(void);

/* Close the log and load it back: events_load's answer (ev to free when true). */
bool synth_load(struct events *ev);

/* Close the log, load it back and compute its metrics into m. */
void synth_finish(struct metrics *m);

#endif
