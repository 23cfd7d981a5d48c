/* event_schema.c - the event log's schema table (event_schema.h). */
#include "event_schema.h"

#include <string.h>

static const struct event_field run_start_fields[EF_RUN_START_N] = {
	[EF_RUN_START_SCHEMA] = { "schema", EVF_INT, false },
	[EF_RUN_START_RUN] = { "run", EVF_STRING, false },
	[EF_RUN_START_SCENARIO] = { "scenario", EVF_STRING, false },
	[EF_RUN_START_TRIAL] = { "trial", EVF_INT, false },
	[EF_RUN_START_SEED] = { "seed", EVF_STRING, false },
	[EF_RUN_START_BACKEND] = { "backend", EVF_STRING, false },
	[EF_RUN_START_HOST] = { "host", EVF_STRING, false },
	[EF_RUN_START_BISE] = { "bise", EVF_STRING, false },
	[EF_RUN_START_WRITERS] = { "writers", EVF_INT, false },
	[EF_RUN_START_WRITER_ZONES] = { "writer_zones", EVF_STRINGS, false },
	[EF_RUN_START_POLL_MS] = { "poll_ms", EVF_INT, false },
	[EF_RUN_START_UNIX_US] = { "unix_us", EVF_INT, false },
};

static const struct event_field provision_fields[EF_PROVISION_N] = {
	[EF_PROVISION_SECONDS] = { "seconds", EVF_DOUBLE, true },
};

static const struct event_field phase_fields[EF_PHASE_N] = {
	[EF_PHASE_NAME] = { "name", EVF_STRING, true },
};

static const struct event_field write_fields[EF_WRITE_N] = {
	[EF_WRITE_W] = { "w", EVF_INT, true },
	[EF_WRITE_SEQ] = { "seq", EVF_INT, true },
	[EF_WRITE_T0] = { "t0", EVF_TIME, true },
	[EF_WRITE_OUT] = { "out", EVF_STRING, true },
	[EF_WRITE_NODE] = { "node", EVF_STRING, false },
	[EF_WRITE_SQLSTATE] = { "sqlstate", EVF_STRING, false },
	[EF_WRITE_ERR] = { "err", EVF_STRING, false },
};

static const struct event_field node_fields[EF_NODE_N] = {
	[EF_NODE_NODE] = { "node", EVF_STRING, true },
	[EF_NODE_ROLE] = { "role", EVF_STRING, true },
	[EF_NODE_TLI] = { "tli", EVF_INT, false },
	[EF_NODE_LSN] = { "lsn", EVF_STRING, false },
	[EF_NODE_RLSN] = { "rlsn", EVF_STRING, false },
};

static const struct event_field lag_fields[EF_LAG_N] = {
	[EF_LAG_PRIMARY] = { "primary", EVF_STRING, true },
	[EF_LAG_TLI] = { "tli", EVF_INT, false },
	[EF_LAG_STANDBY] = { "standby", EVF_STRING, true },
	[EF_LAG_STATE] = { "state", EVF_STRING, false },
	[EF_LAG_SENT] = { "sent", EVF_STRING, false },
	[EF_LAG_WRITE] = { "write", EVF_STRING, false },
	[EF_LAG_FLUSH] = { "flush", EVF_STRING, false },
	[EF_LAG_REPLAY] = { "replay", EVF_STRING, false },
	[EF_LAG_PRIMARY_LSN] = { "primary_lsn", EVF_STRING, false },
	[EF_LAG_WRITE_LAG] = { "write_lag", EVF_DOUBLE, false },
	[EF_LAG_FLUSH_LAG] = { "flush_lag", EVF_DOUBLE, false },
	[EF_LAG_REPLAY_LAG] = { "replay_lag", EVF_DOUBLE, false },
};

static const struct event_field read_fields[EF_READ_N] = {
	[EF_READ_R] = { "r", EVF_INT, true },
	[EF_READ_T0] = { "t0", EVF_TIME, true },
	[EF_READ_OUT] = { "out", EVF_STRING, true },
	[EF_READ_NODE] = { "node", EVF_STRING, false },
	[EF_READ_TARGET] = { "target", EVF_STRING, true },
	[EF_READ_SEQ_SEEN] = { "seq_seen", EVF_INT, false },
	[EF_READ_REC] = { "rec", EVF_BOOL, false },
	[EF_READ_TLI] = { "tli", EVF_INT, false },
	[EF_READ_ERR] = { "err", EVF_STRING, false },
};

static const struct event_field fault_fields[EF_FAULT_N] = {
	[EF_FAULT_ACTION] = { "action", EVF_STRING, true },
	[EF_FAULT_FAULT] = { "fault", EVF_STRING, false },
	[EF_FAULT_TARGET] = { "target", EVF_STRING, false },
	[EF_FAULT_NODE] = { "node", EVF_STRING, false },
	[EF_FAULT_STEP] = { "step", EVF_INT, false },
	[EF_FAULT_REASON] = { "reason", EVF_STRING, false },
	[EF_FAULT_VERIFIED_MS] = { "verified_ms", EVF_DOUBLE, false },
	[EF_FAULT_REPEAT] = { "repeat", EVF_INT, false },
	[EF_FAULT_EFFECT_BY] = { "effect_by", EVF_STRING, false },
	[EF_FAULT_CALLED] = { "called", EVF_TIME, false },
	[EF_FAULT_RETURNED] = { "returned", EVF_TIME, false },
	[EF_FAULT_DEADLINE] = { "deadline", EVF_TIME, false },
	[EF_FAULT_REQUESTED_MS] = { "requested_ms", EVF_DOUBLE, false },
};

static const struct event_field healthy_fields[EF_HEALTHY_N] = {
	[EF_HEALTHY_OK] = { "ok", EVF_BOOL, true },
	[EF_HEALTHY_SECONDS] = { "seconds", EVF_DOUBLE, false },
	[EF_HEALTHY_REASON] = { "reason", EVF_STRING, false },
};

static const struct event_field readback_fields[EF_READBACK_N] = {
	[EF_READBACK_NODE] = { "node", EVF_STRING, false },
	[EF_READBACK_W] = { "w", EVF_INT, true },
	[EF_READBACK_RANGES] = { "ranges", EVF_PAIRS, false },
	[EF_READBACK_DUPS] = { "dups", EVF_PAIRS, false },
};

static const struct event_field readback_done_fields[EF_READBACK_DONE_N] = {
	[EF_READBACK_DONE_NODE] = { "node", EVF_STRING, false },
	[EF_READBACK_DONE_ROWS] = { "rows", EVF_INT, false },
};

static const struct event_field api_role_fields[EF_API_ROLE_N] = {
	[EF_API_ROLE_NODE] = { "node", EVF_STRING, true },
	[EF_API_ROLE_ROLE] = { "role", EVF_STRING, true },
};

static const struct event_field connect_fields[EF_CONNECT_N] = {
	[EF_CONNECT_W] = { "w", EVF_INT, true },
	[EF_CONNECT_T0] = { "t0", EVF_TIME, true },
	[EF_CONNECT_OUT] = { "out", EVF_STRING, true },
	[EF_CONNECT_NODE] = { "node", EVF_STRING, false },
	[EF_CONNECT_ACC] = { "acc", EVF_TIME, false },
	[EF_CONNECT_ERR] = { "err", EVF_STRING, false },
};

static const struct event_field path_fields[EF_PATH_N] = {
	[EF_PATH_W] = { "w", EVF_INT, true },
	[EF_PATH_T0] = { "t0", EVF_TIME, true },
	[EF_PATH_NODE] = { "node", EVF_STRING, true },
};

static const struct event_field run_end_fields[EF_RUN_END_N] = {
	[EF_RUN_END_STATUS] = { "status", EVF_STRING, true },
};

const struct event_schema_entry event_schema[EV_NTYPES] = {
	[EV_RUN_START] = { "run_start", run_start_fields, EF_RUN_START_N },
	[EV_PROVISION] = { "provision", provision_fields, EF_PROVISION_N },
	[EV_PHASE] = { "phase", phase_fields, EF_PHASE_N },
	[EV_WRITE] = { "write", write_fields, EF_WRITE_N },
	[EV_NODE] = { "node", node_fields, EF_NODE_N },
	[EV_LAG] = { "lag", lag_fields, EF_LAG_N },
	[EV_READ] = { "read", read_fields, EF_READ_N },
	[EV_FAULT] = { "fault", fault_fields, EF_FAULT_N },
	[EV_HEALTHY] = { "healthy", healthy_fields, EF_HEALTHY_N },
	[EV_READBACK] = { "readback", readback_fields, EF_READBACK_N },
	[EV_READBACK_DONE] = { "readback_done", readback_done_fields, EF_READBACK_DONE_N },
	[EV_API_ROLE] = { "api_role", api_role_fields, EF_API_ROLE_N },
	[EV_CONNECT] = { "connect", connect_fields, EF_CONNECT_N },
	[EV_PATH] = { "path", path_fields, EF_PATH_N },
	[EV_RUN_END] = { "run_end", run_end_fields, EF_RUN_END_N },
};

bool event_type_parse(const char *name, enum event_type *out)
{
	for (int i = 0; i < EV_NTYPES; i++) {
		if (strcmp(name, event_schema[i].name) == 0) {
			*out = (enum event_type)i;
			return true;
		}
	}
	return false;
}
