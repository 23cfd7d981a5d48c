/*
 * daemon.h - starting a daemon the local backend leaves running (Patroni, etcd,
 * bise-netdelay, bise-stallfs): double fork so it is never our child, its own session,
 * stdin /dev/null, output to a log, and an optional ready pipe it writes a word to.
 */
#ifndef BISE_DAEMON_H
#define BISE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The descriptor number the daemon finds its ready pipe on (pass it as "--ready-fd 3"). */
#define DAEMON_READY_FD 3

struct daemon_spec {
	char *const *argv;       /* argv[0]: an absolute path */
	char *const *envp;
	int log_fd;              /* becomes stdout and stderr; the caller keeps and closes it */
	/*
	 * Run in the daemon just before exec: async-signal-safe calls only (the runner has
	 * threads). Returns 0, or the 1-based index in prepare_steps of what failed (errno set).
	 */
	int (*prepare)(void *arg);
	void *prepare_arg;
	const char *const *prepare_steps;
	int nprepare_steps;
	/* With ready_word, wait up to ready_timeout_ms for the daemon to write it on fd 3. */
	const char *ready_word;
	int ready_timeout_ms;
	/* Called once the daemon's PID is known, before waiting for it to be ready. */
	void (*started)(pid_t pid, void *arg);
	void *started_arg;
};

/*
 * Start the daemon s describes and, with a ready word, wait until it is ready. The
 * intermediate child is reaped here. On success *pid is the daemon's PID. On failure why
 * says what happened; *pid is > 0 when a daemon may still run (it did not get ready in
 * time, or wrote something else) and the caller must stop it, else -1.
 */
bool daemon_start(const struct daemon_spec *s, pid_t *pid, char *why, size_t why_len);

#endif
