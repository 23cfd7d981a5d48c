/* watchdog.c - the dead-man switch (see watchdog.h). */
#include "watchdog.h"

#include "heal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATCHDOG_PERIOD_MS 250
#define WATCHDOG_STOP_US (60 * 1000000)

struct watchdog {
	pid_t pid;
	char journal_path[4096];
	int lifeline; /* write end: closed by the kernel when the runner dies, however it dies */
};

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void watchdog_loop(const char *journal_path, int lifeline)
{
	struct pollfd pfd = { .fd = lifeline, .events = POLLIN };

	for (;;) {
		int r = poll(&pfd, 1, WATCHDOG_PERIOD_MS);

		if (!file_exists(journal_path))
			return; /* the run ended and every fault was reverted */
		/* Nothing is ever written to the lifeline: any event means its writer is gone. */
		if (r > 0 && pfd.revents) {
			log_warn("watchdog: the runner is gone; reverting every open fault of %s",
				 journal_path);
			heal_journal_path(journal_path, false);
			return;
		}
		heal_journal_path(journal_path, true);
	}
}

static void redirect_output(const char *journal_path)
{
	char log_path[4200];
	int fd, null_fd;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		close(null_fd);
	}
	if (!str_format(log_path, sizeof(log_path), "%s.watchdog.log", journal_path))
		return;
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* Never hold the runner's stdout/stderr open: a CI job would wait on the pipe. */
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* A watchdog that had nothing to say leaves no log behind. */
static void remove_quiet_log(const char *journal_path)
{
	char log_path[4200];
	struct stat st;

	if (str_format(log_path, sizeof(log_path), "%s.watchdog.log", journal_path) &&
	    stat(log_path, &st) == 0 && st.st_size == 0)
		unlink(log_path);
}

/*
 * Hold the journal's shared lock until exit, so that `bise heal` leaves to us the faults of
 * a dead runner we are reverting. The runner's descriptor, inherited, holds it too: this
 * one says it without relying on that.
 */
static void hold_lock(const char *journal_path)
{
	int fd = open(journal_path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_SH) != 0) {
		log_warn("watchdog: cannot lock %s: %s", journal_path, strerror(errno));
		close(fd);
	}
}

struct watchdog *watchdog_start(const char *journal_path)
{
	int fds[2];
	pid_t pid;
	struct watchdog *w;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("watchdog: pipe: %s", strerror(errno));
		return NULL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("watchdog: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		close(fds[1]);
		setsid(); /* a Ctrl-C to the runner's terminal must not kill the switch */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		redirect_output(journal_path);
		hold_lock(journal_path);
		watchdog_loop(journal_path, fds[0]);
		remove_quiet_log(journal_path);
		_exit(0);
	}
	close(fds[0]);
	w = xcalloc(1, sizeof(*w));
	w->pid = pid;
	w->lifeline = fds[1];
	str_copy(w->journal_path, sizeof(w->journal_path), journal_path);
	return w;
}

void watchdog_stop(struct watchdog *w)
{
	int64_t deadline;
	bool reaped = false;

	if (!w)
		return;
	/* The journal is gone (or kept for heal): the watchdog sees the closed pipe either way. */
	close(w->lifeline);
	/* Let it finish any revert it started: the cluster may be taken down right after. */
	deadline = mono_now_us() + WATCHDOG_STOP_US;
	while (!reaped && mono_now_us() < deadline) {
		pid_t r = waitpid(w->pid, NULL, WNOHANG);

		reaped = r == w->pid || (r < 0 && errno == ECHILD);
		if (!reaped)
			sleep_us(20000);
	}
	if (!reaped) {
		log_warn("watchdog %d still busy after %d s: stopping it and healing here",
			 (int)w->pid, WATCHDOG_STOP_US / 1000000);
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		if (file_exists(w->journal_path))
			heal_journal_path(w->journal_path, false);
	}
	free(w);
}
