/*
 * test_probe_reach.c - the writers' path probes, on loopback: a reset (nothing listening) or an
 * accept proves the path up; a probe still unanswered when a later one is answered is
 * reported as sent while the path was down; answers in one round count from the earliest.
 * The unanswered probe is a SYN to a listener whose accept queue is full: Linux drops it.
 */
#include "util.h"
#include "workload.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void tests_register(void);

/* A TCP socket bound to a free loopback port, listening when backlog >= 0; its port in *port. */
static int loopback_socket(int backlog, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	if (backlog >= 0)
		CU_ASSERT_FATAL(listen(fd, backlog) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/*
 * A loopback listener whose accept queue is full (backlog 0 holds one, *filler's): Linux
 * drops the next SYN, so a probe to it is never answered. Its port in *port.
 */
static int full_listener(int *port, int *filler)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int listener = loopback_socket(0, port);

	*filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)*port);
	CU_ASSERT_FATAL(connect(*filler, (struct sockaddr *)&a, sizeof(a)) == 0);
	return listener;
}

static void endpoint(struct pg_endpoint *ep, int port)
{
	memset(ep, 0, sizeof(*ep));
	str_copy(ep->host, sizeof(ep->host), "127.0.0.1");
	ep->reach_port = port;
}

/* Send a probe to ep and wait up to 1 s for an answer; true when it proved the path up. */
static bool probe_answered(struct wl_reach *r, const struct pg_endpoint *ep, int64_t *down_t0)
{
	struct pollfd fds[WL_REACH_RING];
	int64_t deadline = mono_now_us() + 1000000;

	*down_t0 = -1;
	if (wl_reach_send(r, ep, down_t0))
		return true;
	while (mono_now_us() < deadline) {
		int n = wl_reach_pollfds(r, fds, WL_REACH_RING);

		if (poll(fds, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (fds[i].revents && wl_reach_answered(r, fds[i].fd, down_t0))
				return true;
	}
	return false;
}

static int open_probes(const struct wl_reach *r)
{
	int n = 0;

	for (int i = 0; i < WL_REACH_RING; i++)
		n += r->fd[i] >= 0;
	return n;
}

static void test_possible(void)
{
	struct pg_endpoint ep;

	endpoint(&ep, 9);
	CU_ASSERT_TRUE(wl_reach_possible(&ep));
	str_copy(ep.host, sizeof(ep.host), "::1");
	CU_ASSERT_TRUE(wl_reach_possible(&ep));
	/* A name would need the resolver on every probe: not probed. */
	str_copy(ep.host, sizeof(ep.host), "db.internal");
	CU_ASSERT_FALSE(wl_reach_possible(&ep));
	endpoint(&ep, 0);
	CU_ASSERT_FALSE(wl_reach_possible(&ep));
}

static void test_reset_and_accept_are_up(void)
{
	struct wl_reach r;
	struct pg_endpoint ep;
	int64_t down_t0;
	int port, closed = loopback_socket(-1, &port), listener;

	wl_reach_init(&r);
	endpoint(&ep, port); /* bound, not listening: the kernel resets a SYN */
	CU_ASSERT_TRUE(probe_answered(&r, &ep, &down_t0));
	CU_ASSERT_EQUAL(down_t0, 0);
	CU_ASSERT_EQUAL(open_probes(&r), 0);
	listener = loopback_socket(8, &port);
	endpoint(&ep, port);
	CU_ASSERT_TRUE(probe_answered(&r, &ep, &down_t0));
	CU_ASSERT_EQUAL(down_t0, 0);
	wl_reach_close(&r);
	close(listener);
	close(closed);
}

static void test_unanswered_then_answered(void)
{
	struct wl_reach r;
	struct pg_endpoint full, open_path;
	struct pollfd fds[WL_REACH_RING];
	int64_t down_t0, dropped_sent;
	int full_port, closed_port, filler, listener = full_listener(&full_port, &filler);
	int closed = loopback_socket(-1, &closed_port);

	wl_reach_init(&r);
	endpoint(&full, full_port);
	endpoint(&open_path, closed_port);
	CU_ASSERT_FALSE(wl_reach_send(&r, &full, &down_t0));
	dropped_sent = r.sent_us[0];
	CU_ASSERT_EQUAL(poll(fds, (nfds_t)wl_reach_pollfds(&r, fds, WL_REACH_RING), 50), 0);
	/* A later probe answered: the earlier one was sent while the path was down. */
	CU_ASSERT_TRUE(probe_answered(&r, &open_path, &down_t0));
	CU_ASSERT_EQUAL(down_t0, dropped_sent);
	CU_ASSERT_EQUAL(open_probes(&r), 0);
	wl_reach_close(&r);
	close(filler);
	close(listener);
	close(closed);
}

static void test_same_round_counts_from_earliest(void)
{
	struct wl_reach r;
	struct pg_endpoint open_path, full;
	int64_t down_t0 = -1;
	int closed_port, full_port, filler, closed = loopback_socket(-1, &closed_port);
	int listener = full_listener(&full_port, &filler);

	wl_reach_init(&r);
	endpoint(&open_path, closed_port);
	endpoint(&full, full_port);
	/*
	 * Answered, dropped, answered, and only the last one looked at: the path was up from
	 * the first, so the dropped one in between proves no outage. (On loopback the reset
	 * comes after connect returns, so none is answered at its send.)
	 */
	CU_ASSERT_FALSE_FATAL(wl_reach_send(&r, &open_path, &down_t0));
	usleep(20000);
	CU_ASSERT_FALSE_FATAL(wl_reach_send(&r, &full, &down_t0));
	CU_ASSERT_FALSE_FATAL(wl_reach_send(&r, &open_path, &down_t0));
	usleep(20000);
	CU_ASSERT_TRUE(wl_reach_answered(&r, r.fd[2], &down_t0));
	CU_ASSERT_EQUAL(down_t0, 0);
	CU_ASSERT_EQUAL(open_probes(&r), 0);
	wl_reach_close(&r);
	close(filler);
	close(listener);
	close(closed);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("path probes", NULL, NULL);

	CU_add_test(s, "numeric addresses with a port to probe", test_possible);
	CU_add_test(s, "a reset or an accept proves the path up", test_reset_and_accept_are_up);
	CU_add_test(s, "an unanswered probe before an answered one: the path was down", test_unanswered_then_answered);
	CU_add_test(s, "answers in one round count from the earliest", test_same_round_counts_from_earliest);
}
