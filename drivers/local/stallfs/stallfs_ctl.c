/*
 * stallfs_ctl.c - the fault gate of bise-stallfs and the control socket that sets it
 * (commands in stallfs.c's header comment).
 */
#include "stallfs.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_NONE, MODE_STALL, MODE_DELAY, MODE_EIO };
static const char *const mode_names[] = { "none", "stall", "delay", "eio" };

/* The fault in force; generation changes with every command so waiters re-check. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	enum mode mode;
	bool wal_only;
	int64_t delay_us;
	unsigned long generation;
	bool exiting; /* shutting down: nothing may block any more */
	long blocked; /* operations waiting in a stall right now */
	long eio;     /* operations answered with EIO */
	long ops;     /* operations that went through the gate */
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int listener_fd = -1;
static bool (*loop_ended)(void); /* the filesystem's session is over */
static bool control_thread_started;
static pthread_t control_tid;
static char control_path[108];
static int wake_pipe[2] = { -1, -1 }; /* signal handler -> control thread */

/*
 * Every operation passes here first: returns 0 to proceed or -EIO. A stall waits on the
 * condition variable (no spinning) until the next command; a delay waits its time, cut
 * short by a command.
 */
int stallfs_gate(bool wal)
{
	int rc = 0, cancel_state;

	/* Never cancelled while holding the lock: shutdown releases waiters instead. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&g.lock);
	g.ops++;
	while (!g.exiting && g.mode != MODE_NONE && (wal || !g.wal_only)) {
		unsigned long gen = g.generation;

		if (g.mode == MODE_EIO) {
			g.eio++;
			rc = -EIO;
			break;
		}
		if (g.mode == MODE_DELAY) {
			struct timespec until;
			int64_t ns;

			clock_gettime(CLOCK_MONOTONIC, &until);
			ns = until.tv_nsec + (g.delay_us % 1000000) * 1000;
			until.tv_sec += g.delay_us / 1000000 + ns / 1000000000;
			until.tv_nsec = ns % 1000000000;
			while (g.generation == gen && !g.exiting &&
			       pthread_cond_timedwait(&g.changed, &g.lock, &until) != ETIMEDOUT)
				;
			if (g.generation == gen)
				break;
			continue; /* a new command came during the delay: it decides */
		}
		g.blocked++;
		while (g.generation == gen && !g.exiting)
			pthread_cond_wait(&g.changed, &g.lock);
		g.blocked--;
	}
	pthread_mutex_unlock(&g.lock);
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

static void set_mode(enum mode mode, bool wal_only, int64_t delay_us)
{
	pthread_mutex_lock(&g.lock);
	g.mode = mode;
	g.wal_only = wal_only;
	g.delay_us = delay_us;
	g.generation++;
	pthread_cond_broadcast(&g.changed);
	pthread_mutex_unlock(&g.lock);
}

static bool parse_scope(const char *word, bool *wal_only)
{
	if (!word)
		return false;
	if (strcmp(word, "all") == 0)
		*wal_only = false;
	else if (strcmp(word, "wal") == 0)
		*wal_only = true;
	else
		return false;
	return true;
}

/* Carry out one command line; the answer goes to reply. */
static void control_command(char *line, char *reply, size_t len)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\r\n", &save);
	char *a1 = cmd ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char *a2 = a1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	bool wal_only = false;

	if (!cmd) {
		str_format(reply, len, "error: empty command\n");
	} else if (strcmp(cmd, "heal") == 0) {
		set_mode(MODE_NONE, false, 0);
		str_format(reply, len, "ok\n");
	} else if (strcmp(cmd, "stall") == 0 || strcmp(cmd, "eio") == 0) {
		if (!parse_scope(a1, &wal_only)) {
			str_format(reply, len, "error: usage: %s all|wal\n", cmd);
			return;
		}
		set_mode(cmd[0] == 's' ? MODE_STALL : MODE_EIO, wal_only, 0);
		str_format(reply, len, "ok\n");
	} else if (strcmp(cmd, "delay") == 0) {
		char *end = NULL;
		long long us = a1 ? strtoll(a1, &end, 10) : -1;

		if (!a1 || *end || us < 0 || us > 3600LL * 1000000 || !parse_scope(a2, &wal_only)) {
			str_format(reply, len, "error: usage: delay <microseconds> all|wal\n");
			return;
		}
		set_mode(MODE_DELAY, wal_only, us);
		str_format(reply, len, "ok\n");
	} else if (strcmp(cmd, "status") == 0) {
		pthread_mutex_lock(&g.lock);
		str_format(reply, len, "ok mode=%s scope=%s delay_us=%lld blocked=%ld eio=%ld ops=%ld\n",
			   mode_names[g.mode], g.wal_only ? "wal" : "all", (long long)g.delay_us,
			   g.blocked, g.eio, g.ops);
		pthread_mutex_unlock(&g.lock);
	} else {
		str_format(reply, len, "error: unknown command '%s' (stall, delay, eio, heal, status)\n",
			   cmd);
	}
}

/* One command per connection, answered with one line; a client gets 2 s to send it. */
static void control_serve(int client)
{
	char line[256], shown[256], reply[256];
	size_t used = 0;
	struct pollfd p = { .fd = client, .events = POLLIN };

	while (used < sizeof(line) - 1 && !memchr(line, '\n', used)) {
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return;
		n = read(client, line + used, sizeof(line) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		line[used] = '\0';
	}
	line[used] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	str_copy(shown, sizeof(shown), line);
	control_command(line, reply, sizeof(reply));
	if (write(client, reply, strlen(reply)) < 0)
		log_warn("stallfs: cannot answer a control client: %s", strerror(errno));
	if (strncmp(shown, "status", 6) != 0)
		log_info("stallfs: control: %s -> %.*s", shown, (int)strcspn(reply, "\n"), reply);
}

static void *control_thread(void *arg)
{
	struct pollfd p[2] = { { .fd = listener_fd, .events = POLLIN },
			       { .fd = wake_pipe[0], .events = POLLIN } };

	for (;;) {
		int client;

		int r = poll(p, 2, 500);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error("stallfs: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents || (r == 0 && loop_ended && loop_ended()))
			break; /* a signal, or the filesystem went away (unmounted): shut down */
		if (!(p[0].revents & POLLIN))
			continue;
		client = accept4(listener_fd, NULL, NULL, SOCK_CLOEXEC);
		if (client < 0)
			continue;
		control_serve(client);
		close(client);
	}
	/* Release everything blocked so the FUSE workers can finish and be joined. */
	pthread_mutex_lock(&g.lock);
	g.exiting = true;
	g.generation++;
	pthread_cond_broadcast(&g.changed);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

static int control_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (path[0] != '/' || !str_copy(addr.sun_path, sizeof(addr.sun_path), path)) {
		log_error("stallfs: control socket must be an absolute path under %zu bytes: %s",
			  sizeof(addr.sun_path), path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("stallfs: socket: %s", strerror(errno));
		return -1;
	}
	unlink(path); /* a socket file left by an earlier daemon */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, 16) != 0) {
		log_error("stallfs: control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}


bool stallfs_control_start(const char *path, bool (*ended)(void))
{
	pthread_condattr_t ca;
	int rc;

	/* Delays are measured on the monotonic clock: a clock step must not stretch them. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.changed, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_error("stallfs: pipe: %s", strerror(errno));
		return false;
	}
	listener_fd = control_listen(path);
	if (listener_fd < 0)
		return false;
	str_copy(control_path, sizeof(control_path), path);
	loop_ended = ended;
	rc = pthread_create(&control_tid, NULL, control_thread, NULL);
	if (rc != 0) {
		log_error("stallfs: cannot start the control thread: %s", strerror(rc));
		close(listener_fd);
		unlink(path);
		return false;
	}
	control_thread_started = true;
	return true;
}

void stallfs_control_wake(void)
{
	int saved = errno;

	if (write(wake_pipe[1], "x", 1) < 0) {
		/* the pipe is full: a wake-up is pending already */
	}
	errno = saved;
}

void stallfs_control_stop(void)
{
	if (!control_thread_started)
		return;
	stallfs_control_wake();
	pthread_join(control_tid, NULL);
	control_thread_started = false;
	close(listener_fd);
	unlink(control_path);
}
