/*
 * netns.c - the zones' network: a bridge in the root namespace holding .1 of a private /24,
 * one namespace per zone with eth0 (a veth whose root end is on the bridge) and lo, and no
 * default route (a route would make Patroni stall on reverse DNS). Uses iproute2's `ip`.
 */
#include "local.h"

#include "util.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *ip_bin(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/usr/bin/ip";
}

/* Run `ip` with up to 12 arguments; on failure the output goes to why. */
static bool ip(char *why, size_t why_len, const char *a0, ...)
{
	char *argv[16], out[512];
	va_list ap;
	int n = 0, rc;

	argv[n++] = (char *)ip_bin();
	argv[n++] = (char *)a0;
	va_start(ap, a0);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	rc = proc_run(argv, out, sizeof(out));
	if (rc != 0 && why) {
		out[strcspn(out, "\n")] = '\0';
		str_format(why, why_len, "ip %s %s %s %s: %s", a0, n > 2 ? argv[2] : "",
			   n > 3 ? argv[3] : "", n > 4 ? argv[4] : "", out);
	}
	return rc == 0;
}

bool net_netns_exists(const char *name)
{
	char path[128];

	str_format(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

/* Does prefix text "a.b.c.d[/n]" overlap base.0/24? */
static bool overlaps(const char *text, const char *base)
{
	char addr[32], ours[32];
	struct in_addr a, b;
	int bits = 32;
	const char *slash = strchr(text, '/');
	uint32_t mask;

	if (!str_copy(addr, sizeof(addr), text))
		return false;
	if (slash) {
		addr[slash - text] = '\0';
		bits = (int)strtol(slash + 1, NULL, 10);
	}
	str_format(ours, sizeof(ours), "%s.0", base);
	if (inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, ours, &b) != 1 || bits <= 0)
		return false;
	if (bits > 24)
		bits = 24;
	mask = htonl(0xffffffffu << (32 - bits));
	return (a.s_addr & mask) == (b.s_addr & mask);
}

/* The subnet must not be routed or assigned anywhere on the host. */
bool net_subnet_free(const struct driver *d, char *why, size_t why_len)
{
	static const char *const types[] = { "local", "broadcast", "unicast", "multicast",
					     "unreachable", "blackhole", "prohibit", "throw",
					     "anycast", "nat", NULL };
	char *argv[] = { (char *)ip_bin(), "-o", "-4", "route", "show", "table", "all", NULL };
	char out[16384], *line, *save = NULL;

	if (proc_run(argv, out, sizeof(out)) != 0) {
		str_format(why, why_len, "cannot list routes with %s", argv[0]);
		return false;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char first[64] = "", second[64] = "", *dev;
		const char *prefix;

		if (sscanf(line, "%63s %63s", first, second) < 1)
			continue;
		prefix = first;
		for (int i = 0; types[i]; i++)
			if (strcmp(first, types[i]) == 0)
				prefix = second;
		if (strcmp(prefix, "default") == 0 || !overlaps(prefix, d->subnet))
			continue;
		dev = strstr(line, " dev ");
		/* This cluster's own bridge: the cluster exists, and status/down/run may use it. */
		if (dev && strncmp(dev + 5, d->bridge, strlen(d->bridge)) == 0 &&
		    (dev[5 + strlen(d->bridge)] == ' ' || dev[5 + strlen(d->bridge)] == '\0'))
			continue;
		str_format(why, why_len,
			   "subnet %s.0/24 is already in use on this host (route '%s'); "
			   "the local backend needs it free (another bise cluster? set cluster.subnet)",
			   d->subnet, line);
		return false;
	}
	return true;
}

/* Run `ip [-n netns] -batch path` with the lines in text; on failure the output goes to why. */
static bool ip_batch(const char *path, const char *netns, const char *text, char *why,
		     size_t why_len)
{
	char *argv[8], out[512];
	int n = 0;

	if (!file_write_atomic(path, text, strlen(text))) {
		str_format(why, why_len, "cannot write %s", path);
		return false;
	}
	argv[n++] = (char *)ip_bin();
	if (netns) {
		argv[n++] = "-n";
		argv[n++] = (char *)netns;
	}
	argv[n++] = "-batch";
	argv[n++] = (char *)path;
	argv[n] = NULL;
	if (proc_run(argv, out, sizeof(out)) != 0) {
		out[strcspn(out, "\n")] = '\0';
		str_format(why, why_len, "ip %s%s-batch %s: %s", netns ? "-n " : "", netns ? netns : "",
			   path, out);
		return false;
	}
	unlink(path);
	return true;
}

/*
 * One `ip -batch` for the root namespace and one per zone: 21 separate `ip` runs took
 * 0.3-0.8 s on a loaded 2-core machine, all of it before etcd and Patroni can start.
 */
bool net_up(struct driver *d, char *why, size_t why_len)
{
	char path[LOCAL_PATH_LEN + 32], text[4096], line[256];
	size_t used = 0;

	str_format(path, sizeof(path), "%s/net.batch", d->dir);
#define LINE(...)                                                                       \
	do {                                                                            \
		if (!str_format(line, sizeof(line), __VA_ARGS__) ||                         \
		    !str_format(text + used, sizeof(text) - used, "%s\n", line)) {          \
			str_format(why, why_len, "ip batch too long");                      \
			return false;                                                   \
		}                                                                       \
		used += strlen(text + used);                                            \
	} while (0)
	LINE("link add %s type bridge", d->bridge);
	LINE("addr add %s/24 dev %s", d->bridge_ip, d->bridge);
	LINE("link set %s up", d->bridge);
	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];

		LINE("netns add %s", z->netns);
		LINE("link add %s type veth peer name eth0 netns %s", z->veth, z->netns);
		LINE("link set %s master %s up", z->veth, d->bridge);
	}
	if (!ip_batch(path, NULL, text, why, why_len))
		return false;
	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];

		used = 0;
		LINE("addr add %s/24 dev eth0", z->ip);
		LINE("link set eth0 up");
		LINE("link set lo up");
		if (!ip_batch(path, z->netns, text, why, why_len))
			return false;
	}
#undef LINE
	return true;
}

/* Remove whatever exists of the network; errors for missing pieces are expected. */
void net_down(const struct driver *d)
{
	local_net_release(d); /* its threads would keep the namespaces (and their veths) alive */
	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];
		char path[64];

		str_format(path, sizeof(path), "/sys/class/net/%s", z->veth);
		if (access(path, F_OK) == 0)
			ip(NULL, 0, "link", "del", z->veth, NULL);
		if (net_netns_exists(z->netns) && !ip(NULL, 0, "netns", "del", z->netns, NULL))
			log_warn("cannot delete network namespace %s", z->netns);
	}
	{
		char path[64];

		str_format(path, sizeof(path), "/sys/class/net/%s", d->bridge);
		if (access(path, F_OK) == 0 && !ip(NULL, 0, "link", "del", d->bridge, NULL))
			log_warn("cannot delete bridge %s", d->bridge);
	}
}
