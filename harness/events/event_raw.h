/*
 * event_raw.h - appending lines the typed writers (event.h) do not write: the event
 * module's own line output, and tests that need legacy or malformed logs. The product
 * writes events only through the typed writers, so their schema (event_schema.h) is the
 * only one.
 */
#ifndef BISE_EVENT_RAW_H
#define BISE_EVENT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct json_object;

/*
 * Append one hand-built event. obj must carry "ev"; "t" is set from at_mono_us. Takes
 * ownership of obj. Thread-safe; flushed before return.
 */
bool event_log_append(struct event_log *log, int64_t at_mono_us, struct json_object *obj);

/* A JSON number for a time relative to the log origin, with exactly six decimals like "t". */
struct json_object *event_time_new(int64_t rel_us);

/* Write one whole line (ending in '\n') with one write(2) under the log's lock. */
bool event_log_write_line(struct event_log *log, const char *line, size_t len);

/* "-12.345678": rel_us as seconds with exactly six decimals, as "t" is written. */
void event_seconds_text(char *buf, size_t n, int64_t rel_us);

#endif
