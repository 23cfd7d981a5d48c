/*
 * test_net_faults.c - the local backend's network faults on a real cluster: each fault
 * must really take effect between the namespaces named and nowhere else, and must really
 * be gone after revert (no rule, no netdelay, no qdisc left). Probes are our own sockets
 * created inside the zones' namespaces (setns around socket()), so they do not depend on
 * PostgreSQL's state while Patroni reacts to the faults.
 * Needs root. Outside CI (CI != "true") a non-root run is a skip; in CI it fails.
 * BISE_NET_REUSE=1 reuses a running cluster "bnet" and leaves it up (for development).
 */
#include <CUnit/CUnit.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "driver.h"
#include "fault.h"
#include "plan.h"
#include "util.h"

#define CLUSTER "bnet"
#define SUBNET "10.213.11"
#define PORT_TCP 7777
#define PORT_UDP 7778
#define NZONES 3

static const struct driver_ops *ops = &driver_local;
static const char *const zones[NZONES] = { "geneva", "lucerne", "gland" };
static const char *const ips[NZONES] = { SUBNET ".11", SUBNET ".12", SUBNET ".13" };
static struct cluster_spec spec;
static struct driver *drv;
static char state_root[256];
static bool reuse;
static int listeners[NZONES] = { -1, -1, -1 }, udps[NZONES] = { -1, -1, -1 };
static int fault_seq;

enum { GENEVA, LUCERNE, GLAND, CLIENT = -1 };

/* ---- helpers ---- */

/* A socket created inside zone z's namespace (CLIENT: the root namespace). */
static int zone_socket(int z, int type)
{
	char path[96];
	int self, ns, fd;

	if (z == CLIENT)
		return socket(AF_INET, type | SOCK_CLOEXEC, 0);
	str_format(path, sizeof(path), "/run/netns/bise-%s-%s", CLUSTER, zones[z]);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
		fprintf(stderr, "  cannot enter %s: %s\n", path, strerror(errno));
		fd = -1;
	} else {
		fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
		if (setns(self, CLONE_NEWNET) != 0)
			abort(); /* stuck in a zone: every later probe would lie */
	}
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	return fd;
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* Listen (TCP) and bind (UDP) in zone z on its address. */
static bool zone_listen(int z)
{
	struct sockaddr_in a = addr_of(ips[z], PORT_TCP), u = addr_of(ips[z], PORT_UDP);
	int one = 1;

	listeners[z] = zone_socket(z, SOCK_STREAM | SOCK_NONBLOCK);
	udps[z] = zone_socket(z, SOCK_DGRAM | SOCK_NONBLOCK);
	if (listeners[z] < 0 || udps[z] < 0)
		return false;
	setsockopt(listeners[z], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(listeners[z], (struct sockaddr *)&a, sizeof(a)) == 0 &&
	       listen(listeners[z], 1024) == 0 && bind(udps[z], (struct sockaddr *)&u, sizeof(u)) == 0;
}

/* Close whatever connections wait in zone z's listener. */
static void drain_accept(int z)
{
	int fd;

	while ((fd = accept4(listeners[z], NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* TCP connect from (zone or CLIENT) to zone to: milliseconds taken, or -1 (failed/timeout). */
static double connect_ms(int from, int to, int timeout_ms)
{
	struct sockaddr_in a = addr_of(ips[to], PORT_TCP);
	int fd = zone_socket(from, SOCK_STREAM | SOCK_NONBLOCK), err = 0;
	socklen_t len = sizeof(err);
	int64_t start = mono_now_us();
	struct pollfd p;
	double ms = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		ms = (double)(mono_now_us() - start) / 1000.0;
	} else if (errno == EINPROGRESS) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			ms = (double)(mono_now_us() - start) / 1000.0;
	}
	close(fd);
	drain_accept(to);
	return ms;
}

/* The fastest of n connects (the round trip without scheduling noise), -1 if any failed. */
static double rtt_ms(int from, int to, int n)
{
	double best = 1e9;

	for (int i = 0; i < n; i++) {
		double ms = connect_ms(from, to, 1000);

		if (ms < 0)
			return -1;
		if (ms < best)
			best = ms;
	}
	return best;
}

/* A UDP datagram from zone from to zone to arrives within 300 ms? */
static bool udp_arrives(int from, int to)
{
	struct sockaddr_in a = addr_of(ips[to], PORT_UDP);
	char buf[16];
	struct pollfd p = { .fd = udps[to], .events = POLLIN };
	bool got = false;

	while (recv(udps[to], buf, sizeof(buf), 0) > 0)
		; /* stale datagrams */
	if (sendto(udps[from], "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		return false;
	if (poll(&p, 1, 300) == 1)
		got = recv(udps[to], buf, sizeof(buf), 0) == 4;
	return got;
}

/* Seconds to send bytes over TCP from (zone or CLIENT) to zone to; -1 on failure. */
static double transfer_s(int from, int to, size_t bytes)
{
	static char chunk[16384];
	int64_t start, deadline;
	size_t sent = 0, got = 0;
	int fd, rfd = -1;
	double s = -1;

	fd = zone_socket(from, SOCK_STREAM);
	{
		struct sockaddr_in a = addr_of(ips[to], PORT_TCP);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
			goto out;
	}
	/* Earlier probes that timed out may still sit in the queue: take our connection. */
	for (int i = 0; i < 200 && rfd < 0; i++) {
		struct sockaddr_in mine, peer;
		socklen_t ml = sizeof(mine), pl = sizeof(peer);

		rfd = accept4(listeners[to], (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (rfd < 0) {
			sleep_us(10000);
			continue;
		}
		if (getsockname(fd, (struct sockaddr *)&mine, &ml) != 0 || mine.sin_port != peer.sin_port) {
			close(rfd);
			rfd = -1;
		}
	}
	if (rfd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(rfd, F_SETFL, O_NONBLOCK) != 0)
		goto out;
	start = mono_now_us();
	deadline = start + 30 * 1000000LL;
	while (got < bytes && mono_now_us() < deadline) {
		struct pollfd p[2] = { { .fd = fd, .events = sent < bytes ? POLLOUT : 0 },
				       { .fd = rfd, .events = POLLIN } };
		ssize_t r;

		if (poll(p, 2, 1000) < 0)
			break;
		if ((p[0].revents & POLLOUT) && sent < bytes) {
			size_t n = bytes - sent < sizeof(chunk) ? bytes - sent : sizeof(chunk);

			r = send(fd, chunk, n, MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
		}
		if (p[1].revents & POLLIN) {
			r = recv(rfd, chunk, sizeof(chunk), 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
	if (got >= bytes)
		s = (double)(mono_now_us() - start) / 1e6;
out:
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	return s;
}

/* Lines of out holding both words (word2 may be NULL). */
static int count_lines(const char *out, const char *word1, const char *word2)
{
	int n = 0;

	for (const char *line = out; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024];

		str_copy(buf, sizeof(buf) < len + 1 ? sizeof(buf) : len + 1, line);
		if (strstr(buf, word1) && (!word2 || strstr(buf, word2)))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Everything a network fault leaves: bise rules and tables, netdelays, htb qdiscs; printed if verbose. */
static int count_leftovers(bool verbose)
{
	static char out[65536];
	static const char *const tables[] = { "filter", "mangle" };
	char nsarg[96];
	int n = 0, k;
	DIR *proc;
	struct dirent *e;

	for (int z = 0; z < NZONES; z++) {
		str_format(nsarg, sizeof(nsarg), "--net=/run/netns/bise-%s-%s", CLUSTER, zones[z]);
		for (int t = 0; t < 2; t++) {
			char *argv[] = { "/usr/bin/nsenter", nsarg, "/usr/sbin/iptables", "-t",
					 (char *)tables[t], "-S", NULL };

			itest_capture(argv, true, out, sizeof(out));
			k = count_lines(out, "bise:", NULL);
			if (k && verbose)
				fprintf(stderr, "\n  left in %s %s:\n%s", zones[z], tables[t], out);
			n += k;
		}
		{
			char *argv[] = { "/usr/bin/nsenter", nsarg, "/usr/sbin/nft", "list", "tables",
					 NULL };

			itest_capture(argv, true, out, sizeof(out));
			k = count_lines(out, "table ip bise_", NULL);
			if (k && verbose)
				fprintf(stderr, "\n  nftables tables left in %s:\n%s", zones[z], out);
			n += k;
		}
		{
			char *argv[] = { "/usr/bin/nsenter", nsarg, "/usr/sbin/tc", "qdisc", "show", NULL };

			itest_capture(argv, true, out, sizeof(out));
			k = count_lines(out, "htb", NULL);
			if (k && verbose)
				fprintf(stderr, "\n  qdisc left in %s:\n%s", zones[z], out);
			n += k;
		}
	}
	for (int t = 0; t < 2; t++) {
		char *argv[] = { "/usr/sbin/iptables", "-t", (char *)tables[t], "-S", NULL };

		itest_capture(argv, true, out, sizeof(out));
		k = count_lines(out, "bise:", SUBNET ".");
		if (k && verbose)
			fprintf(stderr, "\n  left in the root namespace (%s): %d rules\n", tables[t], k);
		n += k;
	}
	{
		/* Drops towards the client are our tables in the root namespace. */
		char *argv[] = { "/usr/sbin/nft", "list", "tables", NULL };

		itest_capture(argv, true, out, sizeof(out));
		k = count_lines(out, "table ip bise_", NULL);
		if (k && verbose)
			fprintf(stderr, "\n  nftables tables left in the root namespace:\n%s", out);
		n += k;
	}
	{
		/* Our handle on root-side veths (other clusters' would show too: none expected). */
		char *argv[] = { "/usr/sbin/tc", "qdisc", "show", NULL };

		itest_capture(argv, true, out, sizeof(out));
		k = count_lines(out, "htb b15e:", NULL);
		if (k && verbose)
			fprintf(stderr, "\n  htb b15e: qdiscs in the root namespace: %d\n", k);
		n += k;
	}
	proc = opendir("/proc");
	while (proc && (e = readdir(proc))) {
		char path[300], exe[300], cmd[1024];
		ssize_t r;

		str_format(path, sizeof(path), "/proc/%s/exe", e->d_name);
		r = readlink(path, exe, sizeof(exe) - 1);
		if (r <= 0)
			continue;
		exe[r] = '\0';
		if (!strstr(exe, "bise-netdelay") || !itest_cmdline(e->d_name, cmd, sizeof(cmd)))
			continue;
		if (strstr(cmd, "/bise-" CLUSTER "-")) {
			if (verbose)
				fprintf(stderr, "\n  netdelay left: %s %s\n", e->d_name, cmd);
			n++;
		}
	}
	if (proc)
		closedir(proc);
	return n;
}

static int leftovers(void)
{
	return count_leftovers(true);
}

/* A fault between two groups given as NULL-terminated name lists. */
static struct net_fault make_fault(const char *const *a, const char *const *b)
{
	struct net_fault f;

	memset(&f, 0, sizeof(f));
	fault_id_format(f.id, sizeof(f.id), (int)getpid(), ++fault_seq);
	for (; *a; a++)
		str_copy(f.a[f.na++], ZONE_NAME_LEN, *a);
	for (; *b; b++)
		str_copy(f.b[f.nb++], ZONE_NAME_LEN, *b);
	return f;
}

/* ---- suite ---- */

static int suite_init(void)
{
	double seconds;

	reuse = getenv("BISE_NET_REUSE") && strcmp(getenv("BISE_NET_REUSE"), "1") == 0;
	itest_spec(&spec, CLUSTER, SUBNET);
	str_copy(state_root, sizeof(state_root), "/tmp/bise-net-state");
	drv = itest_cluster_open(&spec, state_root, reuse);
	if (!drv)
		return 1;
	if (!ops->exists(drv) && !ops->up(drv, &seconds)) {
		fprintf(stderr, "\n  cluster %s did not come up\n", CLUSTER);
		return 1;
	}
	ops->sweep(drv);
	for (int z = 0; z < NZONES; z++)
		if (!zone_listen(z)) {
			fprintf(stderr, "\n  cannot listen in %s: %s\n", zones[z], strerror(errno));
			return 1;
		}
	return 0;
}

static int suite_cleanup(void)
{
	for (int z = 0; z < NZONES; z++) {
		if (listeners[z] >= 0)
			close(listeners[z]);
		if (udps[z] >= 0)
			close(udps[z]);
		listeners[z] = udps[z] = -1;
	}
	itest_cluster_close(&drv, true, !reuse);
	return 0;
}

/* ---- tests ---- */

static void test_caps(void)
{
	char path[128];

	CU_ASSERT_TRUE(ops->caps & DRIVER_CAP_NET_FAULT);
	CU_ASSERT_TRUE(ops->caps & DRIVER_CAP_NET_LATENCY);
	CU_ASSERT_TRUE(ops->caps & DRIVER_CAP_NET_BANDWIDTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->net_apply);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->net_revert);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->sweep);
	CU_ASSERT_TRUE(ops->client_netns && ops->client_netns(drv, "lucerne", path, sizeof(path)));
	CU_ASSERT_STRING_EQUAL(path, "/run/netns/bise-" CLUSTER "-lucerne");
	/* Baseline: everything reaches everything. */
	CU_ASSERT_TRUE(connect_ms(GENEVA, LUCERNE, 500) >= 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GENEVA, 500) >= 0);
	CU_ASSERT_TRUE(udp_arrives(GENEVA, LUCERNE));
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_partition(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", PARTY_CLIENT, NULL };
	struct net_fault f = make_fault(a, b);
	int established;
	struct sockaddr_in to = addr_of(ips[GENEVA], PORT_TCP);
	int server = -1;
	char buf[8];
	struct pollfd p;

	f.loss_pct = 100;
	/* A connection from the client established before the partition must be cut too. */
	established = zone_socket(CLIENT, SOCK_STREAM);
	CU_ASSERT_FATAL(established >= 0 && connect(established, (struct sockaddr *)&to, sizeof(to)) == 0);
	for (int i = 0; i < 100 && server < 0; i++) {
		server = accept4(listeners[GENEVA], NULL, NULL, SOCK_CLOEXEC);
		if (server < 0)
			sleep_us(10000);
	}
	CU_ASSERT_FATAL(server >= 0);
	CU_ASSERT_TRUE(ops->net_apply(drv, &f));
	CU_ASSERT_TRUE(connect_ms(GENEVA, LUCERNE, 500) < 0);
	CU_ASSERT_TRUE(connect_ms(LUCERNE, GENEVA, 500) < 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GENEVA, 500) < 0);
	CU_ASSERT_TRUE(connect_ms(GENEVA, GLAND, 500) >= 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, LUCERNE, 500) >= 0);
	CU_ASSERT_TRUE(connect_ms(LUCERNE, GLAND, 500) >= 0);
	CU_ASSERT_EQUAL(send(established, "x", 1, MSG_NOSIGNAL), 1);
	p = (struct pollfd){ .fd = server, .events = POLLIN };
	CU_ASSERT_EQUAL(poll(&p, 1, 700), 0); /* nothing arrives over the cut */
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id)); /* idempotent */
	CU_ASSERT_TRUE(connect_ms(GENEVA, LUCERNE, 500) >= 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GENEVA, 500) >= 0);
	/* The held byte comes through once TCP retransmits (backoff: within a few seconds). */
	CU_ASSERT_EQUAL(poll(&p, 1, 5000), 1);
	CU_ASSERT_EQUAL(recv(server, buf, sizeof(buf), 0), 1);
	close(established);
	close(server);
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_partition_one_way(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", NULL };
	struct net_fault f = make_fault(a, b);

	f.loss_pct = 100;
	f.one_way = true;
	CU_ASSERT_TRUE_FATAL(ops->net_apply(drv, &f));
	CU_ASSERT_FALSE(udp_arrives(GENEVA, LUCERNE));
	CU_ASSERT_TRUE(udp_arrives(LUCERNE, GENEVA));
	CU_ASSERT_TRUE(udp_arrives(GENEVA, GLAND));
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	CU_ASSERT_TRUE(udp_arrives(GENEVA, LUCERNE));
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_packet_loss(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", NULL };
	struct net_fault f = make_fault(a, b);
	int n = 80, failed = 0, failed_gland = 0;

	/* One way: a connect fails when its SYN is lost, so about half of them fail. */
	f.loss_pct = 50;
	f.one_way = true;
	CU_ASSERT_TRUE_FATAL(ops->net_apply(drv, &f));
	for (int i = 0; i < n; i++) {
		failed += connect_ms(GENEVA, LUCERNE, 150) < 0;
		failed_gland += connect_ms(GENEVA, GLAND, 150) < 0;
	}
	fprintf(stderr, "\n  MEASURE loss 50%%: %d of %d connects failed (geneva->gland: %d)\n",
		failed, n, failed_gland);
	CU_ASSERT_TRUE(failed >= n / 4 && failed <= 3 * n / 4);
	CU_ASSERT_EQUAL(failed_gland, 0);
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	failed = 0;
	for (int i = 0; i < 20; i++)
		failed += connect_ms(GENEVA, LUCERNE, 150) < 0;
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_latency(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", PARTY_CLIENT, NULL };
	struct net_fault f = make_fault(a, b);
	double before = rtt_ms(GENEVA, LUCERNE, 5), during, client, other, after;

	f.latency_us = 25000;
	CU_ASSERT_TRUE_FATAL(ops->net_apply(drv, &f));
	during = rtt_ms(GENEVA, LUCERNE, 5);
	client = rtt_ms(CLIENT, GENEVA, 5);
	other = rtt_ms(GENEVA, GLAND, 5);
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	after = rtt_ms(GENEVA, LUCERNE, 5);
	fprintf(stderr,
		"\n  MEASURE latency 25ms: connect RTT geneva->lucerne %.2f ms before, %.2f during, "
		"%.2f after; client->geneva %.2f; geneva->gland (untouched) %.2f\n",
		before, during, after, client, other);
	CU_ASSERT_TRUE(during >= 45 && during < 200);
	CU_ASSERT_TRUE(client >= 45 && client < 200);
	CU_ASSERT_TRUE(other >= 0 && other < 5);
	CU_ASSERT_TRUE(after >= 0 && after < 5);
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_jitter(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "gland", NULL };
	struct net_fault f = make_fault(a, b);
	double lo = 1e9, hi = 0;

	f.latency_us = 20000;
	f.jitter_us = 10000;
	CU_ASSERT_TRUE_FATAL(ops->net_apply(drv, &f));
	for (int i = 0; i < 10; i++) {
		double ms = connect_ms(GENEVA, GLAND, 1000);

		CU_ASSERT_TRUE(ms >= 0);
		if (ms >= 0 && ms < lo)
			lo = ms;
		if (ms > hi)
			hi = ms;
	}
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	fprintf(stderr, "\n  MEASURE latency 20ms +-10ms: connect RTT %.1f .. %.1f ms\n", lo, hi);
	/* Up to 2 x (20 + 10) ms, plus scheduling on a shared machine. */
	CU_ASSERT_TRUE(lo >= 19 && hi <= 150 && hi - lo >= 2);
	CU_ASSERT_EQUAL(leftovers(), 0);
}

static void test_bandwidth(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", PARTY_CLIENT, NULL };
	struct net_fault f = make_fault(a, b);
	double base, limited, back, client, other, after;

	base = transfer_s(GENEVA, LUCERNE, 500000);
	f.rate_bps = 1000000;
	CU_ASSERT_TRUE_FATAL(ops->net_apply(drv, &f));
	limited = transfer_s(GENEVA, LUCERNE, 500000);
	back = transfer_s(LUCERNE, GENEVA, 250000);
	client = transfer_s(CLIENT, GENEVA, 250000);
	other = transfer_s(GENEVA, GLAND, 500000);
	CU_ASSERT_TRUE(ops->net_revert(drv, f.id));
	after = transfer_s(GENEVA, LUCERNE, 500000);
	fprintf(stderr,
		"\n  MEASURE bandwidth 1mbit: 500 kB geneva->lucerne %.2f s before, %.2f s limited, "
		"%.2f s after; 250 kB lucerne->geneva %.2f s, client->geneva %.2f s; 500 kB "
		"geneva->gland (untouched) %.2f s\n",
		base, limited, after, back, client, other);
	CU_ASSERT_TRUE(limited >= 3.0);
	CU_ASSERT_TRUE(back >= 1.5);
	CU_ASSERT_TRUE(client >= 1.5);
	CU_ASSERT_TRUE(other >= 0 && other < 1.0);
	CU_ASSERT_TRUE(after >= 0 && after < 1.0);
	CU_ASSERT_EQUAL(leftovers(), 0);
}

/* Through the fault layer (net_step): options, default groups, journal-style revert. */
static void test_fault_layer(void)
{
	const struct fault_ops *part = fault_find("network-partition");
	const struct fault_ops *loss = fault_find("packet-loss");
	const struct fault_ops *bw = fault_find("bandwidth");
	const struct fault_ops *lat = fault_find("latency");
	struct step st;
	struct fault_ctx ctx = { .ops = ops, .drv = drv, .scenario = NULL };
	char id[48], why[200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(part);
	CU_ASSERT_PTR_NOT_NULL_FATAL(loss);
	memset(&st, 0, sizeof(st));
	st.kind = STEP_FAULT;
	st.fault = part;
	str_copy(st.target, sizeof(st.target), "gland");
	st.duration_us = 5000000;
	CU_ASSERT_TRUE(part->validate(&st, why, sizeof(why)));
	st.noptions = 1;
	str_copy(st.options[0].key, sizeof(st.options[0].key), "one_way");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "maybe");
	CU_ASSERT_FALSE(part->validate(&st, why, sizeof(why)));
	st.noptions = 1;
	str_copy(st.options[0].key, sizeof(st.options[0].key), "loss");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "150%");
	CU_ASSERT_FALSE(loss->validate(&st, why, sizeof(why)));
	str_copy(st.options[0].value, sizeof(st.options[0].value), "30%");
	CU_ASSERT_TRUE(loss->validate(&st, why, sizeof(why)));
	str_copy(st.options[0].key, sizeof(st.options[0].key), "rate");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "fast");
	CU_ASSERT_FALSE(bw->validate(&st, why, sizeof(why)));
	str_copy(st.options[0].value, sizeof(st.options[0].value), "1mbit");
	CU_ASSERT_TRUE(bw->validate(&st, why, sizeof(why)));
	str_copy(st.options[0].key, sizeof(st.options[0].key), "delay");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "25ms");
	CU_ASSERT_TRUE(lat->validate(&st, why, sizeof(why)));
	str_copy(st.options[0].key, sizeof(st.options[0].key), "between");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "[[geneva],[geneva,gland]]");
	CU_ASSERT_FALSE(part->validate(&st, why, sizeof(why)));

	/* No between: the target's zone (gland) against every other zone and the client. */
	st.noptions = 0;
	fault_id_format(id, sizeof(id), (int)getpid(), ++fault_seq);
	ctx.fault_id = id;
	CU_ASSERT_TRUE_FATAL(part->apply(&ctx, &st, "gland"));
	CU_ASSERT_EQUAL(plan_revert_after(NULL, &st), st.duration_us);
	CU_ASSERT_TRUE(connect_ms(GENEVA, GLAND, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(LUCERNE, GLAND, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GLAND, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(GENEVA, LUCERNE, 400) >= 0);
	/* Revert as heal does: a fresh driver, the id only. */
	{
		struct fault_ctx heal = { .ops = ops, .scenario = NULL, .fault_id = id };

		heal.drv = ops->open(&spec, state_root, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(heal.drv);
		CU_ASSERT_TRUE(part->revert(&heal, &st, "gland"));
		ops->close(heal.drv);
	}
	CU_ASSERT_TRUE(connect_ms(CLIENT, GLAND, 400) >= 0);
	CU_ASSERT_EQUAL(leftovers(), 0);

	/* Three groups: every pair cut. */
	st.noptions = 1;
	str_copy(st.options[0].value, sizeof(st.options[0].value), "[[geneva],[lucerne],[gland,client]]");
	fault_id_format(id, sizeof(id), (int)getpid(), ++fault_seq);
	CU_ASSERT_TRUE_FATAL(part->apply(&ctx, &st, "gland"));
	CU_ASSERT_TRUE(connect_ms(GENEVA, LUCERNE, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(GENEVA, GLAND, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(LUCERNE, GLAND, 400) < 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GLAND, 400) >= 0);
	CU_ASSERT_TRUE(part->revert(&ctx, &st, "gland"));
	CU_ASSERT_EQUAL(leftovers(), 0);
}

/* A crashed runner left faults behind: a fresh driver's sweep removes everything. */
static void test_sweep_after_crash(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "lucerne", PARTY_CLIENT, NULL };
	const char *c[] = { "gland", NULL }, *d[] = { PARTY_CLIENT, NULL };
	struct net_fault lat = make_fault(a, b), part = make_fault(c, d), bw = make_fault(b, c);
	struct driver *fresh;

	lat.latency_us = 10000;
	part.loss_pct = 100;
	bw.rate_bps = 2000000;
	CU_ASSERT_TRUE(ops->net_apply(drv, &lat));
	CU_ASSERT_TRUE(ops->net_apply(drv, &part));
	CU_ASSERT_TRUE(ops->net_apply(drv, &bw));
	CU_ASSERT_TRUE(connect_ms(CLIENT, GLAND, 400) < 0);
	CU_ASSERT_TRUE(count_leftovers(false) >= 8);
	fresh = ops->open(&spec, state_root, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	CU_ASSERT_TRUE(ops->sweep(fresh));
	CU_ASSERT_TRUE(ops->sweep(fresh)); /* idempotent */
	ops->close(fresh);
	CU_ASSERT_EQUAL(leftovers(), 0);
	CU_ASSERT_TRUE(connect_ms(CLIENT, GLAND, 400) >= 0);
	CU_ASSERT_TRUE(rtt_ms(GENEVA, LUCERNE, 3) < 5);
	/* Reverting an id already swept is fine. */
	CU_ASSERT_TRUE(ops->net_revert(drv, lat.id));
}

static void test_refused(void)
{
	const char *a[] = { "geneva", NULL }, *b[] = { "atlantis", NULL }, *g[] = { "geneva", NULL };
	struct net_fault f = make_fault(a, b), same = make_fault(a, g), none = make_fault(a, g);

	f.loss_pct = 100;
	same.loss_pct = 100;
	CU_ASSERT_FALSE(ops->net_apply(drv, &f));
	CU_ASSERT_FALSE(ops->net_apply(drv, &same));
	str_copy(none.b[0], ZONE_NAME_LEN, "lucerne");
	CU_ASSERT_FALSE(ops->net_apply(drv, &none)); /* nothing to do */
	CU_ASSERT_EQUAL(leftovers(), 0);
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("net_faults", false))
		return;
	s = CU_add_suite("net_faults", suite_init, suite_cleanup);
	CU_add_test(s, "caps and baseline", test_caps);
	CU_add_test(s, "partition", test_partition);
	CU_add_test(s, "one-way partition", test_partition_one_way);
	CU_add_test(s, "packet loss", test_packet_loss);
	CU_add_test(s, "latency", test_latency);
	CU_add_test(s, "jitter", test_jitter);
	CU_add_test(s, "bandwidth", test_bandwidth);
	CU_add_test(s, "fault layer", test_fault_layer);
	CU_add_test(s, "sweep after a crash", test_sweep_after_crash);
	CU_add_test(s, "refused faults", test_refused);
}
