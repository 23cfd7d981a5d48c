/*
 * workload_reach.c - path probes: is the path to a server up, at no cost to the server?
 *
 * A connection attempt that completes its handshake with PostgreSQL makes the postmaster
 * fork a backend, even when the client closes at once: 2-4 ms of CPU per server on a
 * 2-core machine, at the very instant the servers get their service back, beside the
 * write whose answer ends the outage. A SYN to a port of the same address where nothing
 * listens goes through the same filters, and the server's kernel answers it with a reset
 * as soon as the path is up: nothing wakes on the server. So these probes can run every
 * couple of milliseconds where connection attempts keep to their budget.
 *
 * Each probe is kept for WL_REACH_RING periods, so an answer that takes longer than one
 * period (an added latency) still counts; past that (a round trip over 32 ms at the
 * writers' 2 ms cadence) none is ever answered, and the handshakes of the writers'
 * connection attempts tell instead, as where no port can be probed. Packets on one path keep their order: a probe
 * still unanswered when a later one is answered was dropped, so the path was down when it
 * was sent. That send bounds the end of the outage (the caller logs it).
 */
#include "util.h"
#include "workload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void wl_reach_init(struct wl_reach *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < WL_REACH_RING; i++)
		r->fd[i] = -1;
}

void wl_reach_close(struct wl_reach *r)
{
	for (int i = 0; i < WL_REACH_RING; i++) {
		if (r->fd[i] >= 0)
			close(r->fd[i]);
		r->fd[i] = -1;
	}
}

/* The kernel's answer to a probe's SYN: refused (nothing listens) or accepted both prove the path. */
static bool path_answered(int err)
{
	return err == 0 || err == ECONNREFUSED;
}

/* Fill *sa from a numeric address; false for a name (the probe needs no resolver). */
static bool numeric_address(const char *host, int port, struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return true;
	}
	return false;
}

bool wl_reach_possible(const struct pg_endpoint *ep)
{
	struct sockaddr_storage sa;
	socklen_t len;

	return ep->reach_port > 0 && numeric_address(ep->host, ep->reach_port, &sa, &len);
}

/* The kernel answered probe slot i (refused, accepted; or an error such as unreachable: *answered false). */
static bool probe_done(const struct wl_reach *r, int i, bool *answered)
{
	struct pollfd pfd = { .fd = r->fd[i], .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&pfd, 1, 0) != 1)
		return false;
	if (getsockopt(r->fd[i], SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	*answered = path_answered(err);
	return true;
}

/*
 * The path answered a probe sent at up_t0: *down_t0 = the latest send before it of a probe
 * still unanswered (0: none). Every probe is closed: the next are sent if still wanted.
 */
static void settle(struct wl_reach *r, int64_t up_t0, int64_t *down_t0)
{
	*down_t0 = 0;
	/* Answers in the same round: the earliest answered one is the path's return. */
	for (int i = 0; i < WL_REACH_RING; i++) {
		bool answered = false;

		if (r->fd[i] >= 0 && r->sent_us[i] < up_t0 && probe_done(r, i, &answered) && answered)
			up_t0 = r->sent_us[i];
	}
	for (int i = 0; i < WL_REACH_RING; i++) {
		bool answered = false;

		if (r->fd[i] < 0 || r->sent_us[i] >= up_t0)
			continue;
		if ((!probe_done(r, i, &answered) || !answered) && r->sent_us[i] > *down_t0)
			*down_t0 = r->sent_us[i];
	}
	wl_reach_close(r);
}

/* A probe could not be sent: a debug line when the reason changes, not one per probe. */
static void reach_error(struct wl_reach *r, const char *what, int err)
{
	if (err != r->last_errno)
		log_debug("path probe: %s: %s", what, strerror(err));
	r->last_errno = err;
}

bool wl_reach_send(struct wl_reach *r, const struct pg_endpoint *ep, int64_t *down_t0)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int slot = r->next, fd;

	if (!numeric_address(ep->host, ep->reach_port, &sa, &len))
		return false;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		reach_error(r, "socket", errno);
		return false;
	}
	r->next = (r->next + 1) % WL_REACH_RING;
	if (r->fd[slot] >= 0)
		close(r->fd[slot]);
	r->fd[slot] = -1;
	r->sent_us[slot] = mono_now_us();
	if (connect(fd, (struct sockaddr *)&sa, len) == 0 || errno == ECONNREFUSED) {
		close(fd);
		settle(r, r->sent_us[slot], down_t0);
		return true;
	}
	if (errno == EINPROGRESS) {
		r->fd[slot] = fd;
		return false;
	}
	/* No route, say: the path is not up; nothing to wait for. */
	reach_error(r, "connect", errno);
	close(fd);
	return false;
}

int wl_reach_pollfds(const struct wl_reach *r, struct pollfd *fds, int max)
{
	int n = 0;

	for (int i = 0; i < WL_REACH_RING && n < max; i++) {
		if (r->fd[i] < 0)
			continue;
		fds[n].fd = r->fd[i];
		fds[n].events = POLLOUT;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

bool wl_reach_answered(struct wl_reach *r, int fd, int64_t *down_t0)
{
	int slot = -1;
	bool answered = false;

	for (int i = 0; i < WL_REACH_RING; i++)
		if (fd >= 0 && r->fd[i] == fd)
			slot = i;
	/* Closed meanwhile (the path was seen up through another): nothing to read. */
	if (slot < 0 || !probe_done(r, slot, &answered))
		return false;
	if (!answered) {
		/* Unreachable, say: the path is not up; this probe is done. */
		close(fd);
		r->fd[slot] = -1;
		return false;
	}
	settle(r, r->sent_us[slot], down_t0);
	return true;
}
