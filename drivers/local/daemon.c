/* daemon.c - double-forked daemons with a ready pipe (see daemon.h). */
#include "daemon.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sent on the status pipe: the daemon's PID by the intermediate child, or a failure. */
struct daemon_report {
	int kind;
	int step; /* < 0: one of ours below; > 0: an index into the spec's prepare_steps */
	int err;
	pid_t pid;
};

enum { REPORT_PID = 1, REPORT_FAILED = 2 };
enum { STEP_FORK = -1, STEP_FDS = -2, STEP_SESSION = -3, STEP_REDIRECT = -4, STEP_EXEC = -5 };

static const char *step_name(const struct daemon_spec *s, int step)
{
	switch (step) {
	case STEP_FORK:
		return "fork";
	case STEP_FDS:
		return "set up its descriptors";
	case STEP_SESSION:
		return "start a session";
	case STEP_REDIRECT:
		return "redirect output";
	case STEP_EXEC:
		return "execute";
	default:
		return step > 0 && step <= s->nprepare_steps ? s->prepare_steps[step - 1] : "start";
	}
}

/* Move a descriptor above the 0-3 the daemon gets, close-on-exec; -1 stays -1. */
static int fd_high(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* The daemon's side: only async-signal-safe calls, the runner has threads. Never returns. */
static void daemon_child(const struct daemon_spec *s, int status_fd, int ready_fd)
{
	struct daemon_report rep = { .kind = REPORT_FAILED, .step = STEP_FDS };
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log_fd = fd_high(s->log_fd);
	sigset_t none;

	status_fd = fd_high(status_fd);
	if (ready_fd >= 0 && (ready_fd = fd_high(ready_fd)) < 0)
		goto fail;
	null_fd = fd_high(null_fd);
	if (status_fd < 0 || null_fd < 0 || log_fd < 0)
		goto fail;
	rep.step = STEP_SESSION;
	/* A Ctrl-C to bise must not reach what it leaves running. */
	if (setsid() < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (s->prepare && (rep.step = s->prepare(s->prepare_arg)) != 0)
		goto fail;
	rep.step = STEP_REDIRECT;
	if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 ||
	    (ready_fd >= 0 && dup2(ready_fd, DAEMON_READY_FD) < 0))
		goto fail;
	/* The status pipe stays open until exec succeeds: EOF on it says so. */
	close_range(ready_fd >= 0 ? DAEMON_READY_FD + 1 : 3, ~0U, CLOSE_RANGE_CLOEXEC);
	rep.step = STEP_EXEC;
	execve(s->argv[0], s->argv, s->envp);
fail:
	rep.err = errno;
	if (status_fd >= 0 && write(status_fd, &rep, sizeof(rep)) < 0)
		_exit(126);
	_exit(127);
}

/* Read the status pipe to EOF: the daemon's PID, then a failure if there was one. */
static bool read_status(const struct daemon_spec *s, int fd, pid_t *pid, char *why, size_t why_len)
{
	struct daemon_report rep;
	bool failed = false;
	ssize_t r;

	for (;;) {
		r = read(fd, &rep, sizeof(rep));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(rep))
			break;
		if (rep.kind == REPORT_PID) {
			*pid = rep.pid;
		} else if (!failed) {
			failed = true;
			str_format(why, why_len, "cannot start %s: cannot %s: %s", s->argv[0],
				   step_name(s, rep.step), strerror(rep.err));
		}
	}
	if (failed) {
		*pid = -1;
		return false;
	}
	if (*pid <= 0) {
		str_format(why, why_len, "cannot start %s: fork failed", s->argv[0]);
		return false;
	}
	return true;
}

/* Wait for the ready word; false (why set) on a timeout, EOF or another answer. */
static bool wait_ready(const struct daemon_spec *s, int fd, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + (int64_t)s->ready_timeout_ms * 1000;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char text[32] = "";
	ssize_t n;
	int r;

	for (;;) {
		int64_t left_ms = (deadline - mono_now_us()) / 1000;

		r = poll(&p, 1, left_ms > 0 ? (int)left_ms : 0);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r <= 0) {
		str_format(why, why_len, "%s was not ready within %d ms", s->argv[0], s->ready_timeout_ms);
		return false;
	}
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		str_format(why, why_len, "%s exited before it was ready", s->argv[0]);
		return false;
	}
	text[n] = '\0';
	if (strncmp(text, s->ready_word, strlen(s->ready_word)) != 0) {
		text[strcspn(text, "\n")] = '\0';
		str_format(why, why_len, "%s said \"%s\" instead of \"%s\"", s->argv[0], text,
			   s->ready_word);
		return false;
	}
	return true;
}

bool daemon_start(const struct daemon_spec *s, pid_t *pid, char *why, size_t why_len)
{
	int status[2], ready[2] = { -1, -1 };
	pid_t mid;
	bool ok;

	*pid = -1;
	if (pipe2(status, O_CLOEXEC) != 0) {
		str_format(why, why_len, "pipe: %s", strerror(errno));
		return false;
	}
	if (s->ready_word && pipe2(ready, O_CLOEXEC) != 0) {
		str_format(why, why_len, "pipe: %s", strerror(errno));
		close(status[0]);
		close(status[1]);
		return false;
	}
	mid = fork();
	if (mid == 0) {
		/* Double fork: the daemon is never our child, so never our zombie. */
		struct daemon_report rep = { .kind = REPORT_PID };

		close(status[0]);
		if (ready[0] >= 0)
			close(ready[0]);
		rep.pid = fork();
		if (rep.pid == 0)
			daemon_child(s, status[1], ready[1]);
		if (rep.pid < 0)
			rep = (struct daemon_report){ .kind = REPORT_FAILED, .step = STEP_FORK,
						      .err = errno };
		if (write(status[1], &rep, sizeof(rep)) < 0)
			_exit(1);
		_exit(0);
	}
	close(status[1]);
	if (ready[1] >= 0)
		close(ready[1]);
	if (mid < 0) {
		str_format(why, why_len, "fork: %s", strerror(errno));
		close(status[0]);
		if (ready[0] >= 0)
			close(ready[0]);
		return false;
	}
	ok = read_status(s, status[0], pid, why, why_len);
	close(status[0]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	if (ok && s->started)
		s->started(*pid, s->started_arg);
	if (ok && s->ready_word)
		ok = wait_ready(s, ready[0], why, why_len);
	if (ready[0] >= 0)
		close(ready[0]);
	return ok;
}
