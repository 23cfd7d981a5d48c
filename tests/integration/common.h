/*
 * common.h - what the integration tests share: the root/CI gate (a test that cannot run
 * FAILS under CI=true, is a reported skip elsewhere), work directories, running the bise
 * binary, capturing a command's output, and a local cluster's open/up/down.
 */
#ifndef BISE_ITEST_COMMON_H
#define BISE_ITEST_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "driver.h"

extern const struct driver_ops driver_local;

/* A test's temporary tree: work/, and the state/ and run/ directories below it. */
struct itest_dirs {
	char work[256];
	char state[300]; /* <work>/state: the --state-dir of the cluster */
	char out[300];   /* <work>/run: the --out of a run */
};

/* CI=true (also any other value but "", "0" and "false"): a test that cannot run fails. */
bool itest_ci(void);

/*
 * Can this integration test run here: root, and BISE_BINARY set when needs_binary? If not,
 * says why on stderr and adds a suite of that name whose one test FAILS under CI and only
 * reports the skip otherwise; the caller then registers nothing else.
 */
bool itest_gate(const char *suite, bool needs_binary);

/* In a test that found it cannot run: a failure under CI, else nothing (a skip). */
void itest_cannot_run(const char *why);

/* Create /tmp/<prefix>-XXXXXX (0755: the postgres user must traverse it) and name its parts. */
bool itest_dirs_make(struct itest_dirs *d, const char *prefix);

/* Remove the work tree and everything in it; 0 when done or never made. */
int itest_dirs_remove(struct itest_dirs *d);

/* BISE_BINARY, or NULL. */
const char *itest_binary(void);

/* Run BISE_BINARY with args (NULL-terminated) and wait: its exit status, 128+signal, -1. */
int itest_run_bise(const char *const *args);

/* Start BISE_BINARY with args in the background, stdout and stderr to log_path: PID or -1. */
pid_t itest_spawn_bise(const char *const *args, const char *log_path);

/*
 * Start `bise run --state-dir <state> --out <out> scenario` in the background, its output
 * to <work>/runner.log: PID or -1.
 */
pid_t itest_spawn_run(const struct itest_dirs *d, const char *scenario);

/* SIGKILL and reap *pid when it is > 0 (a runner an assertion left); sets it to -1. */
void itest_kill(pid_t *pid);

/* Run argv (absolute path, no shell) and capture its stdout (and stderr with_stderr). */
bool itest_capture(char *const argv[], bool with_stderr, char *out, size_t len);

/*
 * Make d (as itest_dirs_make), write text to <work>/<file> (its path to path) and load it
 * into *sc. False on failure, said on stderr.
 */
bool itest_scenario_setup(struct itest_dirs *d, const char *prefix, const char *file, const char *text,
			  char *path, size_t len, struct scenario *sc);

/* Run `bise heal --state-dir state`, its stdout and stderr to out: pclose's status, -1. */
int itest_heal(const char *state, char *out, size_t len);

/* /proc/<pid>/cmdline with its NULs as spaces; false when the process is gone. */
bool itest_cmdline(const char *pid, char *buf, size_t len);

/* libpq conninfo of a member's endpoint, connect_timeout 5 s. */
void itest_conninfo(const struct member *m, char *buf, size_t len);

/*
 * Fork, in its own process group when own_group, chdir to dir, drop to uid/gid and exec
 * argv (absolute path), output appended to log_path: the child's PID or -1.
 */
pid_t itest_spawn_as(char *const argv[], const char *dir, const char *log_path, uid_t uid, gid_t gid,
		     bool own_group);

/*
 * The three-zone cluster the driver tests use: geneva, lucerne, gland; async replication,
 * etcd v3 API, ttl 10 s, loop_wait 1 s, retry_timeout 4 s, restart_delay 2 s,
 * maximum_lag_on_failover 1 MiB; subnet (first three octets) or the default when NULL.
 */
void itest_spec(struct cluster_spec *s, const char *name, const char *subnet);

/*
 * Open the local driver for spec under state_root (created 0755). Debris of an earlier,
 * interrupted test (a cluster of that name) is taken down unless keep_running. NULL on
 * failure, said on stderr.
 */
struct driver *itest_cluster_open(const struct cluster_spec *spec, const char *state_root,
				  bool keep_running);

/*
 * However the tests ended: sweep every fault the backend finds (with sweep), take the
 * cluster down (with down, if it exists) and close the driver. *drv may be NULL.
 */
void itest_cluster_close(struct driver **drv, bool sweep, bool down);

#endif
