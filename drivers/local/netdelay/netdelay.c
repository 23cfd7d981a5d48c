/*
 * netdelay.c - bise-netdelay: holds every packet of one NFQUEUE queue for a fixed delay
 * (plus optional uniform jitter) and then accepts it. The kernel has no sch_netem here, so
 * the local backend's latency fault is an iptables NFQUEUE rule (mangle table, inside a
 * zone's network namespace) and one of these per namespace.
 *
 *   bise-netdelay --netns /run/netns/NS --queue N --delay-us D [--jitter-us J]
 *                 [--ready-fd FD] [--tag TEXT]
 *
 * It joins NS, binds queue N, writes "ok\n" to FD once bound, and runs until SIGTERM or
 * SIGINT, when it accepts every held packet at once and exits. Packets leave in the order
 * they came (jitter never reorders: a packet is never released before the one ahead of
 * it), which is gentler on TCP than netem's reordering. The rule uses --queue-bypass, so
 * traffic flows undelayed whenever this program is not running. --tag is not used; it
 * marks the command line so a sweep can tell which fault a process belongs to.
 */
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX 65536 /* packets held at once; more are accepted at once (fail open) */
#define QUEUE_MAXLEN 16384

struct held {
	uint32_t id;
	int64_t release_us;
};

static volatile sig_atomic_t stopping;
static struct held ring[HELD_MAX];
static size_t head, count;
static int64_t delay_us, jitter_us, last_release_us;
static unsigned rand_state;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static bool parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Uniform in [-jitter_us, +jitter_us]. */
static int64_t jitter_draw(void)
{
	double u;

	if (jitter_us <= 0)
		return 0;
	u = (double)rand_r(&rand_state) / ((double)RAND_MAX + 1.0);
	return (int64_t)((2.0 * u - 1.0) * (double)jitter_us);
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfad,
		     void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfad);
	int64_t now = mono_now_us(), release;
	uint32_t id;

	(void)msg;
	(void)data;
	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	if (count == HELD_MAX)
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	release = now + delay_us + jitter_draw();
	/* Keep the order: never ahead of the packet before. */
	if (release < last_release_us)
		release = last_release_us;
	last_release_us = release;
	ring[(head + count) % HELD_MAX] = (struct held){ .id = id, .release_us = release };
	count++;
	return 0;
}

/* Accept every packet whose time has come (all of them with force). */
static void release_due(struct nfq_q_handle *qh, bool force)
{
	int64_t now = mono_now_us();

	while (count > 0 && (force || ring[head].release_us <= now)) {
		if (nfq_set_verdict(qh, ring[head].id, NF_ACCEPT, 0, NULL) < 0 && !force)
			log_warn("netdelay: verdict for packet %u: %s", ring[head].id, strerror(errno));
		head = (head + 1) % HELD_MAX;
		count--;
	}
}

/* Read whatever the kernel has queued, without blocking. */
static bool drain_socket(struct nfq_handle *h, int fd)
{
	static char buf[256 * 1024] __attribute__((aligned));

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			nfq_handle_packet(h, buf, (int)r);
			continue;
		}
		if (r < 0 && errno == ENOBUFS) {
			/* The kernel dropped some messages; with fail-open it let them pass. */
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		log_error("netdelay: recv: %s", r == 0 ? "end of file" : strerror(errno));
		return false;
	}
}

static void usage(void)
{
	log_error("usage: bise-netdelay --netns PATH --queue N --delay-us D [--jitter-us J] "
		  "[--ready-fd FD] [--tag TEXT]");
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	int64_t queue = -1, ready_fd = -1, v;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	struct sigaction sa;
	sigset_t block, waitmask;
	int fd, nsfd, rc = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *val = argv[i + 1];

		if (strcmp(k, "--netns") == 0)
			netns = val;
		else if (strcmp(k, "--queue") == 0 && parse_int(val, 0, 65535, &v))
			queue = v;
		else if (strcmp(k, "--delay-us") == 0 && parse_int(val, 0, 60000000, &v))
			delay_us = v;
		else if (strcmp(k, "--jitter-us") == 0 && parse_int(val, 0, 60000000, &v))
			jitter_us = v;
		else if (strcmp(k, "--ready-fd") == 0 && parse_int(val, 0, 1 << 20, &v))
			ready_fd = v;
		else if (strcmp(k, "--tag") != 0) {
			usage();
			return 2;
		}
	}
	if (!netns || queue < 0 || argc % 2 != 1) {
		usage();
		return 2;
	}
	rand_state = (unsigned)getpid() ^ (unsigned)mono_now_us();
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
		log_error("netdelay: cannot enter %s: %s", netns, strerror(errno));
		return 1;
	}
	close(nsfd);
	h = nfq_open();
	if (!h) {
		log_error("netdelay: nfq_open: %s", strerror(errno));
		return 1;
	}
	qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
	if (!qh) {
		log_error("netdelay: cannot bind queue %lld in %s (in use?): %s", (long long)queue,
			  netns, strerror(errno));
		nfq_close(h);
		return 1;
	}
	/* Only the header is needed: the verdict never changes the packet. */
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0) {
		log_error("netdelay: cannot configure queue %lld: %s", (long long)queue, strerror(errno));
		rc = 1;
		goto out;
	}
	/* Fail open when the queue overflows; GSO packets whole (we never look inside). */
	nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO,
			    NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
	fd = nfq_fd(h);
	{
		int size = 8 * 1024 * 1024;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are let in only inside ppoll: a SIGTERM is never missed between checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	if (ready_fd >= 0) {
		if (write((int)ready_fd, "ok\n", 3) != 3)
			log_warn("netdelay: cannot report ready: %s", strerror(errno));
		close((int)ready_fd);
	}
	while (!stopping) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;

		if (count > 0) {
			int64_t wait = ring[head].release_us - mono_now_us();

			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000000;
			ts.tv_nsec = (wait % 1000000) * 1000;
			tsp = &ts;
		}
		if (ppoll(&pfd, 1, tsp, &waitmask) < 0 && errno != EINTR) {
			log_error("netdelay: poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if ((pfd.revents & POLLIN) && !drain_socket(h, fd)) {
			rc = 1;
			break;
		}
		release_due(qh, false);
	}
	/* Whatever is held goes out now: a revert must not lose packets. */
	release_due(qh, true);
out:
	nfq_destroy_queue(qh);
	nfq_close(h);
	return rc;
}
