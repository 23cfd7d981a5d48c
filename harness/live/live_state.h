/*
 * live_state.h - inside the live view (live.h): what the server threads read, built by
 * one pump thread from the event log's lines. Internal to bise_live.
 */
#ifndef BISE_LIVE_STATE_H
#define BISE_LIVE_STATE_H

#include "event.h"
#include "live.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define LIVE_MAX_FAULTS 32
#define LIVE_MAX_NODES 16
#define LIVE_MAX_DUES 64
#define LIVE_NAME_LEN 64

struct MHD_Daemon;

/* A fault in force as the log shows it (an apply not yet followed by its revert). */
struct live_fault {
	char fault[32];
	char target[32];
	char node[EVENT_NODE_LEN];
	int step, rep;
	double since_s;     /* its apply, seconds since the log origin */
	double remaining_s; /* until its planned revert; < 0 when unknown */
};

struct live_lag {
	char standby[EVENT_NODE_LEN];
	uint64_t bytes; /* the primary's position minus the standby's replayed one */
	bool known;     /* false: no replay position yet (a standby starting), as metrics_lag skips it */
	char state[16];
};

/* What the page and /metrics show, rebuilt by the pump (every 500 ms and at each event). */
struct live_snapshot {
	double t_s;  /* now, seconds since the trial's log origin */
	double t0_s; /* the workload start (phase baseline), < 0 before */
	char phase[16];
	int step;    /* 1-based step being run or next, 0 before the first */
	char primary[EVENT_NODE_LEN];
	int timeline;
	int64_t writes[4];   /* this trial's, by enum write_outcome */
	int ok_s, err_s;     /* the last whole second */
	int nfaults;
	struct live_fault faults[LIVE_MAX_FAULTS];
	int nlags;
	struct live_lag lags[LIVE_MAX_NODES];
	int next_step;       /* 0-based, < 0: none */
	char next_what[160];
	double next_in_s;
	bool next_timed;     /* false: due after a health wait, not known yet */
	bool waiting;        /* held for "next" */
	bool failover_seen;  /* a window closed (or still open) in this run */
	bool failover_open;
	double failover_s, failover_start_unc_s, failover_end_unc_s;
	int failover_trial;
};

struct live_bin {
	int ok, err; /* err: writes not acknowledged and failed connection attempts */
};

struct live_node {
	char name[EVENT_NODE_LEN];
	enum node_role role;
	int timeline;
};

struct live_due {
	int step, rep;
	int64_t due_mono_us;
};

struct live {
	/* set once */
	bool step_mode;
	char *token;
	char *run_dir;
	char *run_id;
	void (*abort)(void);
	struct MHD_Daemon *mhd;
	int port;
	int run_dir_fd;

	/* lines handed over by the log's observer, in file order */
	pthread_mutex_t qm;
	pthread_cond_t qcond;
	char *q;
	size_t qlen, qcap;
	bool qurgent; /* a line other than a write, read, sample: show it now */

	pthread_mutex_t drain_lock; /* one drain at a time keeps the lines in order */
	pthread_t pump;
	bool pump_started;

	/* everything below under m; `changed` is broadcast when any of it moves */
	pthread_mutex_t m;
	pthread_cond_t changed;
	bool stopping;
	int gen; /* trial generation: a page starts its timeline afresh when it changes */
	char scenario[LIVE_NAME_LEN];
	int nsteps, trial, trials;
	int64_t origin_mono_us;
	struct events ev;
	struct events_feed *feed;
	size_t nwrites_seen, nnodes_seen, nconnects_seen;
	struct live_bin *bins; /* writes per second of the log's time, by completion */
	size_t nbins;
	char **msgs; /* this trial's server-sent messages, preformatted */
	size_t nmsgs, capmsgs;
	int nnodes;
	struct live_node nodes[LIVE_MAX_NODES];
	int ndues;
	struct live_due dues[LIVE_MAX_DUES];
	int next_step;
	char next_what[160];
	int64_t next_due_mono_us;
	bool waiting, next_pressed;
	int64_t totals[4];  /* writes of earlier trials, by outcome (the counters never go back) */
	int64_t trial_writes[4];
	struct live_snapshot snap;
	uint64_t snap_seq;
	char *snap_json;
	int64_t snap_at_us, failover_at_us, failover_cost_us;
	bool ended;
	char report[512];
	bool report_fetched;
	int sse_clients;
	bool sse_seen; /* a page has watched this run */
};

/* Rebuild l->snap and its JSON from the events fed so far (live_snapshot.c). Under l->m. */
void live_snapshot(struct live *l);

/* The snapshot as JSON (the page's "state" message); caller frees. Under l->m. */
char *live_snapshot_json(const struct live *l);

/* /metrics: the Prometheus text exposition format. Under l->m; caller frees. */
char *live_metrics_text(const struct live *l, size_t *len);

/* The HTTP side (live_http.c). */
bool live_http_start(struct live *l, const char *listen);
void live_http_stop(struct live *l);

#endif
