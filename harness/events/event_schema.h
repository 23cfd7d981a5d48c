/*
 * event_schema.h - the one definition of the event log's schema (event.h describes what
 * the events mean). Each event type has a name and its fields in the order they are
 * written, each with its JSON type and whether it is required: a required field is
 * always written and the reader rejects an event without it; an optional one may be
 * absent or null. The typed writers (event_write.c) and the typed reader (event.c) name
 * types and fields only through event_schema[], so neither side can rename one alone.
 * Every line also starts with "t" (EVF_TIME) and "ev" (the type's name).
 */
#ifndef BISE_EVENT_SCHEMA_H
#define BISE_EVENT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

/* The two keys every line starts with. */
#define EVENT_KEY_TIME "t"
#define EVENT_KEY_TYPE "ev"

enum event_type {
	EV_RUN_START,
	EV_PROVISION,
	EV_PHASE,
	EV_WRITE,
	EV_NODE,
	EV_LAG,
	EV_READ,
	EV_FAULT,
	EV_HEALTHY,
	EV_READBACK,
	EV_READBACK_DONE,
	EV_API_ROLE,
	EV_CONNECT,
	EV_PATH,
	EV_RUN_END,
	EV_NTYPES
};

enum event_field_type {
	EVF_STRING,
	EVF_INT,
	EVF_DOUBLE,
	EVF_BOOL,
	EVF_TIME,    /* seconds since the log origin with exactly six decimals, like "t" */
	EVF_STRINGS, /* [string, ...] */
	EVF_PAIRS    /* [[integer, integer], ...] */
};

struct event_field {
	const char *name;
	enum event_field_type type;
	bool required;
};

struct event_schema_entry {
	const char *name;
	const struct event_field *fields;
	size_t nfields;
};

/* Field indexes, in the order of each type's fields in event_schema[]. */
enum { EF_RUN_START_SCHEMA, EF_RUN_START_RUN, EF_RUN_START_SCENARIO, EF_RUN_START_TRIAL, EF_RUN_START_SEED,
       EF_RUN_START_BACKEND, EF_RUN_START_HOST, EF_RUN_START_BISE, EF_RUN_START_WRITERS,
       EF_RUN_START_WRITER_ZONES, EF_RUN_START_POLL_MS, EF_RUN_START_UNIX_US, EF_RUN_START_N };
enum { EF_PROVISION_SECONDS, EF_PROVISION_N };
enum { EF_PHASE_NAME, EF_PHASE_N };
enum { EF_WRITE_W, EF_WRITE_SEQ, EF_WRITE_T0, EF_WRITE_OUT, EF_WRITE_NODE, EF_WRITE_SQLSTATE, EF_WRITE_ERR,
       EF_WRITE_N };
enum { EF_NODE_NODE, EF_NODE_ROLE, EF_NODE_TLI, EF_NODE_LSN, EF_NODE_RLSN, EF_NODE_N };
enum { EF_LAG_PRIMARY, EF_LAG_TLI, EF_LAG_STANDBY, EF_LAG_STATE, EF_LAG_SENT, EF_LAG_WRITE, EF_LAG_FLUSH,
       EF_LAG_REPLAY, EF_LAG_PRIMARY_LSN, EF_LAG_WRITE_LAG, EF_LAG_FLUSH_LAG, EF_LAG_REPLAY_LAG, EF_LAG_N };
enum { EF_READ_R, EF_READ_T0, EF_READ_OUT, EF_READ_NODE, EF_READ_TARGET, EF_READ_SEQ_SEEN, EF_READ_REC,
       EF_READ_TLI, EF_READ_ERR, EF_READ_N };
enum { EF_FAULT_ACTION, EF_FAULT_FAULT, EF_FAULT_TARGET, EF_FAULT_NODE, EF_FAULT_STEP, EF_FAULT_REASON,
       EF_FAULT_VERIFIED_MS, EF_FAULT_REPEAT, EF_FAULT_EFFECT_BY, EF_FAULT_CALLED, EF_FAULT_RETURNED,
       EF_FAULT_DEADLINE, EF_FAULT_REQUESTED_MS, EF_FAULT_N };
enum { EF_HEALTHY_OK, EF_HEALTHY_SECONDS, EF_HEALTHY_REASON, EF_HEALTHY_N };
enum { EF_READBACK_NODE, EF_READBACK_W, EF_READBACK_RANGES, EF_READBACK_DUPS, EF_READBACK_N };
enum { EF_READBACK_DONE_NODE, EF_READBACK_DONE_ROWS, EF_READBACK_DONE_N };
enum { EF_API_ROLE_NODE, EF_API_ROLE_ROLE, EF_API_ROLE_N };
enum { EF_CONNECT_W, EF_CONNECT_T0, EF_CONNECT_OUT, EF_CONNECT_NODE, EF_CONNECT_ACC, EF_CONNECT_ERR,
       EF_CONNECT_N };
enum { EF_PATH_W, EF_PATH_T0, EF_PATH_NODE, EF_PATH_N };
enum { EF_RUN_END_STATUS, EF_RUN_END_N };

/* Indexed by enum event_type. */
extern const struct event_schema_entry event_schema[EV_NTYPES];

/* The type named name; false for a type this schema does not know. */
bool event_type_parse(const char *name, enum event_type *out);

/* The most fields any type has (for arrays indexed by field). */
#define EVENT_MAX_FIELDS 16

#endif
