/*
 * workload.h - libpq probes: writers, the role watcher and the final read-back.
 *
 * Writers race a non-blocking connection to every member with
 * target_session_attrs=read-write and keep the first that answers, under their own
 * deadline (libpq's connect_timeout has a 2 s floor and one hung host would stall a
 * multi-host string). Every write inserts one row with a unique id (run, writer, seq)
 * and is recorded as ok / fail / indeterminate with monotonic timestamps.
 */
#ifndef BISE_WORKLOAD_H
#define BISE_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"
#include "event.h"
#include "scenario.h"

#define WORKLOAD_TABLE "bise_writes"

struct workload;

/*
 * Create the table on the primary (if needed) and start the writer threads and the
 * watcher thread. members: every member's endpoint (roles are not trusted).
 */
struct workload *workload_start(const char *run_id, const struct workload_spec *spec,
				const struct member *members, int nmembers,
				int64_t watch_interval_us, struct event_log *log);

/*
 * workload_start with writers placed: workload_total_writers(spec) writers, ids 0..total-1
 * (spec->writers outside first, then each client group in order). netns[id] is the path of
 * the network namespace writer id's thread joins before connecting ("" = stays where bise
 * runs); NULL = every writer outside. The watcher always runs outside.
 */
struct workload *workload_start_placed(const char *run_id, const struct workload_spec *spec,
				       const struct member *members, int nmembers,
				       const char *const *netns, int64_t watch_interval_us,
				       struct event_log *log);

/*
 * workload_start_placed with one entry endpoint (an operator's read-write service, as an
 * application reaches it). entry NULL or with no host: exactly workload_start_placed.
 * Otherwise the table setup, the writers and the readers of the primary connect only to
 * entry; the member a connection landed on is found by the server's identity (its
 * postmaster start time), which the watcher also reads from each member, so write events
 * still name a member ("" until the watcher has seen that server). The watcher polls only
 * the members whose endpoint has a host; replica and any readers race those members.
 */
struct workload *workload_start_entry(const char *run_id, const struct workload_spec *spec,
				      const struct member *members, int nmembers,
				      const struct pg_endpoint *entry, const char *const *netns,
				      int64_t watch_interval_us, struct event_log *log);

/* Stop writers (in-flight writes finish or time out), then the watcher; frees. */
void workload_stop(struct workload *w);

/* Writes attempted, acknowledged and finished unacknowledged so far (for progress lines). */
void workload_counts(struct workload *w, int64_t *attempted, int64_t *ok, int64_t *failed);

/* Name of the member the watcher last saw as primary ("" if none). */
void workload_current_primary(struct workload *w, char *buf, size_t len);

/*
 * Read back every row of run_id from the current primary and append readback events
 * (ranges per writer, duplicates) and readback_done. Logs its own error.
 */
bool workload_readback(const char *run_id, const struct member *members, int nmembers,
		       int writers, int64_t timeout_us, struct event_log *log);

/*
 * workload_readback through entry (NULL or no host: workload_readback). The read-back
 * event names the member whose identity matches the server that answered (each member
 * with a host is asked once), "" when none does.
 */
bool workload_readback_entry(const char *run_id, const struct member *members, int nmembers,
			     const struct pg_endpoint *entry, int writers, int64_t timeout_us,
			     struct event_log *log);

/* ---- shared by the harness/workload*.c files only ---- */

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

struct pg_conn; /* libpq's PGconn, kept out of this header */

#define WL_RUN_LEN 128
#define WL_IDENT_LEN 48
/* A server's identity: its postmaster start time, unique per server and per restart. */
#define WL_IDENT_SQL "SELECT pg_postmaster_start_time()::text"

/* What every workload thread reads; written once by workload_start, then shared. */
struct wl_shared {
	char run[WL_RUN_LEN];
	struct workload_spec spec;
	struct member members[DRIVER_MAX_MEMBERS];
	int nmembers;
	int64_t watch_interval_us;
	struct event_log *log;
	atomic_bool stop;
	atomic_int_fast64_t attempted;
	atomic_int_fast64_t ok; /* ok and ok_unreplicated */
	atomic_int_fast64_t failed; /* fail and indeterminate: finished, not acknowledged */
	pthread_mutex_t primary_lock;
	char primary[MEMBER_NAME_LEN];
	bool has_entry;                              /* connections go through entry */
	struct member entry;                         /* name "entry", the entry endpoint */
	char ident[DRIVER_MAX_MEMBERS][WL_IDENT_LEN]; /* each member's identity as the watcher
							 last read it (primary_lock) */
	atomic_int rounds;                           /* watcher rounds completed */
};

/*
 * One connection attempt of a writer: a non-blocking connection to every member (or to
 * the entry), the first to become read-write wins. acc_us[i]: when member i's server
 * first answered (it had accepted the connection and started a backend), 0 = not yet.
 */
struct wl_attempt {
	struct pg_conn *c[DRIVER_MAX_MEMBERS];
	int st[DRIVER_MAX_MEMBERS]; /* libpq's PostgresPollingStatusType of c[i] */
	int64_t acc_us[DRIVER_MAX_MEMBERS];
	int64_t t0_us;       /* sent */
	int64_t deadline_us; /* fails when not connected by then */
	int live;            /* connections still going */
	bool reached;        /* a member's TCP handshake completed: the path to it is up */
	bool spare;          /* made for a spare (one member), not to end an outage */
	bool dropped;        /* closed on purpose (it set off the spare's write): not a failure */
	char err[200];       /* why the last member failed */
};

/*
 * One write sent without blocking and driven by wl_write_step: the writer's own write
 * (waited for up to write_timeout) or its spare's (waited for while probing).
 */
struct wl_write {
	int64_t t0_us;      /* sent */
	int64_t seq;
	bool flushed;       /* all of it handed to the kernel */
	bool got_ok, got_error;
	enum write_outcome out;
	char sqlstate[8];
	char err[256];
	char node[MEMBER_NAME_LEN];
};

/*
 * A writer's spare: a second connection to the server its connection reaches, kept idle
 * so that nothing of it is stuck in TCP's retransmission backoff when an outage ends
 * (see workload_spare.c). State: none, ready (idle), carrying a write, or that write
 * acknowledged (to become the writer's connection).
 */
enum wl_spare_state { WL_SPARE_NONE, WL_SPARE_READY, WL_SPARE_WRITING, WL_SPARE_ACKED };

struct wl_spare {
	struct pg_conn *c;
	enum wl_spare_state state;
	int member;               /* members[] index; -1 through an entry */
	char ident[WL_IDENT_LEN]; /* identity of its server (entry only) */
	short events;             /* what the write in flight waits for */
	struct wl_write w;        /* WL_SPARE_WRITING */
	int64_t retry_us;         /* no new spare attempt before this (after a failed one) */
};

/* A writer's path probes in flight (workload_reach.c): the last WL_REACH_RING sent. */
#define WL_REACH_RING 16

struct wl_reach {
	int fd[WL_REACH_RING]; /* -1: free */
	int64_t sent_us[WL_REACH_RING];
	int next;              /* slot of the next probe */
	int64_t next_us;       /* when this writer sends it */
	int last_errno;        /* of the last probe that could not be sent (logged once) */
};

/* A writer's attempts in flight and its place in the probe schedule. */
struct wl_prober {
	struct wl_attempt *a; /* cap slots; the first n in flight, oldest first */
	int n, cap;
	int64_t epoch_us;   /* schedule origin shared by every writer */
	int64_t next_us;    /* next slot of this writer */
	int64_t since_us;   /* this round of probing began (the connection was lost) */
	bool spare_ok;      /* this writer may keep a spare (workload_spares) */
	struct wl_reach reach; /* path probes to the spare's server while it is ready */
	int64_t reach_down_t0; /* one sent while the path was down, before the spare's write */
};

/* One writer thread's state; arg of wl_writer_main. */
struct wl_writer {
	struct wl_shared *sh;
	int id;
	struct pg_conn *conn;
	int member;        /* index of the member conn is connected to */
	int64_t seq;       /* last seq used */
	bool unreplicated; /* set by the notice receiver during the current write */
	int netns_fd;      /* network namespace the thread joins first (it closes it); -1 = none */
	char ident[WL_IDENT_LEN]; /* identity of the server conn reaches (entry only) */
	struct wl_prober probe;   /* connection attempts while conn is NULL */
	struct wl_spare spare;
	/*
	 * When an attempt last completed a TCP handshake with each member (entry: [0]), seen
	 * by any writer in the same network namespace: path_up_us points to the first such
	 * writer's reached_us.
	 */
	atomic_int_fast64_t reached_us[DRIVER_MAX_MEMBERS];
	atomic_int_fast64_t *path_up_us;
};

/* One reader thread's state; arg of wl_reader_main. */
struct wl_reader {
	struct wl_shared *sh;
	int id;
	struct pg_conn *conn;
	int member; /* index of the member conn is connected to */
	char ident[WL_IDENT_LEN]; /* identity of the server conn reaches (entry only) */
};

void *wl_writer_main(void *arg); /* arg: struct wl_writer */
void *wl_reader_main(void *arg); /* arg: struct wl_reader */
void *wl_watch_main(void *arg);  /* arg: struct wl_shared */

/*
 * The probe schedule (pure): writers without a connection start attempts at a steady
 * cadence, rate attempts per second among nwriters, writer id on the slots
 * epoch + (id + k * nwriters) / rate, so no two writers share a slot and the total never
 * exceeds rate. Returns this writer's first slot at or after after_us.
 */
int64_t wl_probe_slot(int64_t epoch_us, int64_t after_us, int id, int nwriters, int rate);

/* Set up wr->probe (schedule origin epoch_us); wl_probe_free closes what is in flight. */
void wl_probe_init(struct wl_writer *wr, int64_t epoch_us);
void wl_probe_free(struct wl_writer *wr);

/*
 * Probe until a connection is made (true, in wr->conn, wr->member, wr->ident) or the
 * workload stops (false). Attempts start on the writer's slots whatever those in flight
 * are doing; each ends at its own deadline. The first to connect wins: attempts sent
 * before it and still pending were held up by the outage and are recorded as failed,
 * later ones are closed unrecorded. Every outcome is a connect event.
 */
bool wl_probe_connect(struct wl_writer *wr);

/*
 * Between writes: wait until until_us (false when the workload stops), meanwhile setting
 * up the writer's spare connection (one attempt to the server conn reaches).
 */
bool wl_probe_idle(struct wl_writer *wr, int64_t until_us);

/* Sleep until at_us (mono) unless asked to stop (sh->stop); false when stopping. */
bool wl_wait_until(struct wl_shared *sh, int64_t at_us);

/* ---- one write, without blocking (workload_writer.c) ---- */

/* Send the writer's next write on c; false (w->out says why) when it could not be sent. */
bool wl_write_send(struct wl_writer *wr, struct pg_conn *c, const char *node, struct wl_write *w);

/* Advance w on c: 0 when it has its outcome, else the poll events it waits for. */
short wl_write_step(struct wl_writer *wr, struct pg_conn *c, struct wl_write *w);

/* Give up waiting: sent, no answer: indeterminate. */
void wl_write_abandon(struct wl_write *w, const char *why);

/* Count and log w, finished at t1_us. */
void wl_write_record(struct wl_writer *wr, const struct wl_write *w, int64_t t1_us);

/* Non-blocking, with the writer's notice receiver: ready to carry writes. */
bool wl_writer_adopt_conn(struct wl_writer *wr, struct pg_conn *c);

/* ---- the spare (workload_spare.c) ---- */

/* A connection the prober made while the writer had one: kept as its spare or closed. */
void wl_spare_offer(struct wl_writer *wr, struct pg_conn *c, int member, const char *ident);

/* The spare is idle, alive and reaches member (-1: through the entry). */
bool wl_spare_ready_for(struct wl_writer *wr, int member);

/* Send the next write on the idle spare (the path to its server was seen up). */
void wl_spare_fire(struct wl_writer *wr);

/* The spare's socket for poll(2) while its write is in flight; false: nothing to poll. */
bool wl_spare_pollfd(const struct wl_writer *wr, struct pollfd *fd);

/*
 * Advance the spare's write after poll reported revents. Its outcome, once in, is
 * recorded: acknowledged, the spare is WL_SPARE_ACKED (wl_spare_promote); else closed.
 */
void wl_spare_advance(struct wl_writer *wr);

/* The acknowledged spare (WL_SPARE_ACKED) becomes the writer's connection. */
void wl_spare_promote(struct wl_writer *wr);

/*
 * After an acknowledged write: the next goes on the other connection, so both stay
 * validated and warm (a backend's first statement loads its caches), and the idle one
 * has nothing in flight.
 */
void wl_spare_swap(struct wl_writer *wr);

/* The writer connected elsewhere, or stops: a write in flight is recorded (why), the spare
 * kept only if it reaches the writer's new server (and is idle). */
void wl_spare_settle(struct wl_writer *wr, const char *why);

/* Close the spare (a write in flight is recorded as indeterminate, why). */
void wl_spare_close(struct wl_writer *wr, const char *why);

/* No probe in flight. */
void wl_reach_init(struct wl_reach *r);
/* Close every probe in flight. */
void wl_reach_close(struct wl_reach *r);
/* ep has a numeric address and a port where nothing listens: it can be probed. */
bool wl_reach_possible(const struct pg_endpoint *ep);
/*
 * Send a SYN to ep's reach_port now (the oldest probe gives way). True when the path
 * answered at once; then, as for wl_reach_answered, *down_t0 is set and all are closed.
 */
bool wl_reach_send(struct wl_reach *r, const struct pg_endpoint *ep, int64_t *down_t0);
/* The probes in flight as poll entries (POLLOUT), at most max; their count. */
int wl_reach_pollfds(const struct wl_reach *r, struct pollfd *fds, int max);
/*
 * Probe fd became ready. True when the answer proves the path up: *down_t0 is then the
 * send time of the latest earlier probe left unanswered (the path was down then; 0: none),
 * and every probe is closed.
 */
bool wl_reach_answered(struct wl_reach *r, int fd, int64_t *down_t0);

/* Start a non-blocking connection (no target_session_attrs unless read_write); NULL on failure. */
struct pg_conn *wl_connect_start(const struct pg_endpoint *ep, const char *appname, bool read_write,
				 char *err, size_t errlen);

/*
 * Connect to every member at once (read-write only when read_write) and keep the first
 * that reaches CONNECTION_OK before deadline_us (mono); the others are closed. *who gets
 * the member index. NULL when all failed, the deadline passed or *stop became true.
 */
struct pg_conn *wl_connect_race(const struct member *members, int n, const char *appname, bool read_write,
				int64_t deadline_us, const atomic_bool *stop, int *who, char *err, size_t errlen);

/*
 * Run sql by deadline_us and copy the first column of its first row to out; false with
 * the reason in err.
 */
bool wl_query_text(struct pg_conn *c, const char *sql, int64_t deadline_us, char *out, size_t outlen,
		   char *err, size_t errlen);

/*
 * A read-write (when read_write) connection for a writer, a reader or the setup: through
 * the entry when there is one (*who = -1, *ident = the server's identity), else the race
 * of every member (ident ""). NULL on failure, err says why.
 */
struct pg_conn *wl_connect_rw(struct wl_shared *sh, const char *appname, bool read_write,
			      int64_t deadline_us, const atomic_bool *stop, int *who, char *ident,
			      size_t identlen, char *err, size_t errlen);

/*
 * The member name for a connection: members[who] without an entry, else the member whose
 * identity is ident ("" when the watcher has not seen it).
 */
void wl_conn_node(struct wl_shared *sh, int who, const char *ident, char *node, size_t len);

/*
 * Wait until the connection's socket is readable (and writable when want_write), or
 * deadline_us. Returns 1 ready, 0 timeout, -1 error.
 */
int wl_wait_socket(struct pg_conn *c, bool want_write, int64_t deadline_us);

/* Send everything libpq has buffered, by deadline_us. False when broken or late. */
bool wl_flush(struct pg_conn *c, int64_t deadline_us);

/* True if an idle connection was closed by the server (checked without blocking). */
bool wl_conn_dead(struct pg_conn *c);

/* Run one simple-protocol command by deadline_us; false with the reason in err. */
bool wl_command(struct pg_conn *c, const char *sql, int64_t deadline_us, char *err, size_t errlen);

/* libpq's error text on one line, without the trailing newline. */
void wl_error_text(const char *msg, char *err, size_t errlen);

#endif
