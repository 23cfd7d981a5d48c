/*
 * local.c - the local backend's ops table: three (or more) zones on this machine, each a
 * network namespace with an etcd member and Patroni + PostgreSQL 15. See local.h for the
 * layout of names, cgroups and state.
 */
#include "local.h"
#include "netfault.h"
#include "procfault.h"
#include "stall.h"

#include "util.h"

#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UP_ETCD_TIMEOUT_US (20 * 1000000LL)
#define UP_PATRONI_TIMEOUT_US (120 * 1000000LL)
#define KILL_TIMEOUT_US (10 * 1000000LL)
/* A cluster's processes: etcd, Patroni and ~10 PostgreSQL processes per zone, up to 8 zones. */
#define LOCAL_MAX_PROCS 512

static bool local_preflight(const struct cluster_spec *spec, const struct driver_options *o, char *why,
			    size_t why_len)
{
	static const struct {
		const char *path, *package;
	} bins[] = {
		{ LOCAL_ETCD, "etcd-server" },
		{ LOCAL_PATRONI, "patroni" },
		{ LOCAL_PYTHON, "python3" },
		{ LOCAL_PG_BIN "/postgres", "postgresql-15" },
		{ LOCAL_PG_BIN "/initdb", "postgresql-15" },
		{ LOCAL_PG_BIN "/pg_basebackup", "postgresql-15" },
		{ LOCAL_PG_BIN "/pg_rewind", "postgresql-15" },
		{ NULL, NULL },
	};
	char *py[] = { LOCAL_PYTHON, "-c", "import etcd", NULL };
	struct driver *d;
	char cgmount[LOCAL_PATH_LEN], file[LOCAL_PATH_LEN + 32], out[256];
	bool ok;

	if (geteuid() != 0) {
		str_format(why, why_len, "the local backend needs root (run with sudo)");
		return false;
	}
	for (int i = 0; bins[i].path; i++)
		if (access(bins[i].path, X_OK) != 0) {
			str_format(why, why_len, "missing %s (install the Debian package %s)",
				   bins[i].path, bins[i].package);
			return false;
		}
	if (access("/usr/sbin/ip", X_OK) != 0 && access("/usr/bin/ip", X_OK) != 0) {
		str_format(why, why_len, "missing /usr/sbin/ip (install the Debian package iproute2)");
		return false;
	}
	/* Importing the module costs half a second: look for the file, import only if absent. */
	if (access("/usr/lib/python3/dist-packages/etcd/__init__.py", R_OK) != 0 &&
	    proc_run(py, out, sizeof(out)) != 0) {
		str_format(why, why_len,
			   "%s cannot import the etcd module Patroni needs (install the Debian "
			   "package python3-etcd)",
			   LOCAL_PYTHON);
		return false;
	}
	if (!getpwnam(LOCAL_RUN_USER)) {
		str_format(why, why_len, "no user %s (install the Debian package postgresql-15)",
			   LOCAL_RUN_USER);
		return false;
	}
	if (!cg_find_mount(cgmount, sizeof(cgmount))) {
		str_format(why, why_len, "no cgroup v2 file system mounted (see /proc/mounts)");
		return false;
	}
	str_format(file, sizeof(file), "%s/cgroup.procs", cgmount);
	if (access(file, W_OK) != 0) {
		str_format(why, why_len, "cgroup v2 at %s is not writable", cgmount);
		return false;
	}
	/* cgroup.kill exists only in non-root groups: look at any child, or trust kernel >= 5.14. */
	str_format(file, sizeof(file), "%s/bise/cgroup.kill", cgmount);
	if (access(file, F_OK) != 0) {
		char probe[LOCAL_PATH_LEN + 32];
		bool have;

		str_format(probe, sizeof(probe), "%s/bise-preflight-%d", cgmount, (int)getpid());
		if (mkdir(probe, 0755) != 0) {
			str_format(why, why_len, "cannot create a cgroup under %s: %s", cgmount,
				   strerror(errno));
			return false;
		}
		str_format(file, sizeof(file), "%s/cgroup.kill", probe);
		have = access(file, F_OK) == 0;
		rmdir(probe);
		if (!have) {
			str_format(why, why_len,
				   "cgroup v2 at %s has no cgroup.kill (needs Linux 5.14 or later)",
				   cgmount);
			return false;
		}
	}
	if (!spec)
		return true;
	if (spec->fuse && !stall_preflight(why, why_len))
		return false;
	d = xcalloc(1, sizeof(*d));
	d->spec = *spec;
	str_copy(d->state_root, sizeof(d->state_root), "/nonexistent");
	ok = local_layout(d, why, why_len) && net_subnet_free(d, why, why_len);
	free(d);
	return ok;
}

static struct driver *local_open(const struct cluster_spec *spec, const char *state_root,
				 const struct driver_options *o)
{
	struct driver *d = xcalloc(1, sizeof(*d));
	char why[256];

	d->spec = *spec;
	if (!str_copy(d->state_root, sizeof(d->state_root), state_root ? state_root : "/var/lib/bise")) {
		log_error("state root too long: %s", state_root);
		free(d);
		return NULL;
	}
	if (!local_layout(d, why, sizeof(why))) {
		log_error("local backend: %s", why);
		free(d);
		return NULL;
	}
	/* A provisioned cluster is described by its state file, not by the spec at hand. */
	if (access(d->state_file, F_OK) == 0) {
		local_state_load(d);
		local_secrets_load(d);
		local_net_warm(d); /* network faults may come: their first one should not pay for it */
	}
	return d;
}

static void local_close(struct driver *d)
{
	health_close();
	local_net_release(d);
	free(d);
}

static bool local_exists(struct driver *d)
{
	return access(d->state_file, F_OK) == 0;
}

static bool local_down(struct driver *d)
{
	struct proc_id ids[LOCAL_MAX_PROCS];
	bool ok = true;
	int nids;

	health_close(); /* a session of ours would hold up a smart shutdown */

	/* Netdelays are outside the cgroup and would keep the namespaces alive: first. */
	if (!local_net_sweep(d))
		ok = false;
	/* A process blocked on a stalled FUSE data directory ignores SIGKILL: release it first. */
	for (int i = 0; i < d->nzones; i++)
		if (!stall_release(d, i))
			ok = false;
	/*
	 * Everything we started is in the cluster's cgroup: one SIGKILL for the subtree. The
	 * cgroup empties before its processes are reaped; down returns once they are gone
	 * from the process table, so what follows (and the caller) never sees them.
	 */
	nids = cg_tree_pids(d->cg_cluster, ids, 0, LOCAL_MAX_PROCS);
	if (!cg_kill(d->cg_cluster, KILL_TIMEOUT_US, NULL) || !proc_wait_gone(ids, nids, KILL_TIMEOUT_US))
		ok = false;
	/* io-throttle's blkio groups (cgroup v1, outside the cluster's cgroup) go too. */
	if (!procfault_sweep(d))
		ok = false;
	for (int i = 0; i < d->nzones; i++)
		if (!stall_unmount(d, i))
			ok = false;
	for (int i = 0; i < d->nzones; i++)
		cg_remove(d->zones[i].cg_zone);
	cg_remove(d->cg_cluster);
	if (access(d->cg_cluster, F_OK) == 0) {
		log_error("cgroup %s is still there", d->cg_cluster);
		ok = false;
	}
	rmdir(d->cg_base); /* only when no other cluster uses it */
	net_down(d);
	for (int i = 0; i < d->nzones; i++)
		if (net_netns_exists(d->zones[i].netns))
			ok = false;
	if (!local_rm_rf(d->dir)) {
		log_error("cannot remove %s", d->dir);
		ok = false;
	}
	return ok;
}

static bool start_patroni(struct driver *d, int i, char *why, size_t why_len)
{
	const struct local_zone *z = &d->zones[i];
	char cfg[LOCAL_PATH_LEN + 16], log_path[LOCAL_PATH_LEN + 16];
	char *argv[] = { LOCAL_PYTHON, LOCAL_PATRONI, cfg, NULL };

	str_format(cfg, sizeof(cfg), "%s/patroni.yml", z->dir);
	str_format(log_path, sizeof(log_path), "%s/patroni.log", z->dir);
	return proc_spawn(z, z->cg_pg, log_path, argv, why, why_len);
}

static bool start_etcd(struct driver *d, int i, char *why, size_t why_len)
{
	const struct local_zone *z = &d->zones[i];
	char buf[4096], *argv[32], log_path[LOCAL_PATH_LEN + 16];

	if (!local_etcd_argv(d, i, buf, sizeof(buf), argv, 32)) {
		str_format(why, why_len, "etcd command line too long");
		return false;
	}
	str_format(log_path, sizeof(log_path), "%s/etcd.log", z->dir);
	return proc_spawn(z, z->cg_etcd, log_path, argv, why, why_len);
}

bool local_start_etcd(struct driver *d, int i, char *why, size_t why_len)
{
	return start_etcd(d, i, why, why_len);
}

bool local_start_patroni(struct driver *d, int i, char *why, size_t why_len)
{
	return start_patroni(d, i, why, why_len);
}

/* Wait until one leader exists and every other member streams from it. */
static bool wait_healthy(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;
	struct member m[DRIVER_MAX_MEMBERS];
	char missing[256];

	for (;;) {
		int64_t started = mono_now_us();
		int n = health_members(d, m, DRIVER_MAX_MEMBERS), primaries = 0, p = -1;

		for (int i = 0; i < n; i++)
			if (m[i].role == MEMBER_PRIMARY) {
				primaries++;
				p = i;
			}
		if (primaries == 1) {
			if (health_streaming(d, &m[p], m, n, missing, sizeof(missing)))
				return true;
			str_format(why, why_len, "primary %s; not streaming from it: %s", m[p].name,
				   missing);
		} else if (primaries == 0) {
			size_t used = 0;

			str_format(why, why_len, "no primary");
			for (int i = 0; i < n; i++)
				if (m[i].role == MEMBER_DOWN) {
					used = strlen(why);
					str_format(why + used, why_len - used, "%s%s", 
						   strchr(why, ';') ? ", " : "; unreachable: ", m[i].name);
				}
		} else {
			str_format(why, why_len, "%d primaries", primaries);
		}
		if (mono_now_us() >= deadline)
			return false;
		sleep_us(50000 - (mono_now_us() - started));
	}
}

/*
 * PostgreSQL's own view of its start-up, line 8 of postmaster.pid: "ready" on a primary,
 * "standby" once a hot standby accepts connections. A file read, where each libpq probe
 * costs the member a backend start-up (~30 ms of CPU on this machine kind).
 */
static bool postmaster_ready(const struct driver *d, int i)
{
	char path[LOCAL_PATH_LEN + 32], *text, *line;
	bool ready;

	str_format(path, sizeof(path), "%s/%s/postmaster.pid", d->zones[i].dir,
		   d->spec.fuse ? "pgdata.backing" : "pgdata");
	text = file_read_all(path, NULL);
	if (!text)
		return false;
	line = text;
	for (int n = 1; line && n < 8; n++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	ready = line && (strncmp(line, "ready", 5) == 0 || strncmp(line, "standby", 7) == 0);
	free(text);
	return ready;
}

/*
 * Wait for a new cluster: the libpq health check polls every 50 ms and, run while the
 * replicas clone and start, took ~0.5 core from them (2 backends per poll on the leader).
 * Until every postmaster says it accepts connections only postmaster.pid is read; the
 * health check alone decides, with what is left of the timeout.
 */
static bool wait_new_cluster(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;

	for (;;) {
		int ready = 0;

		for (int i = 0; i < d->nzones; i++)
			ready += postmaster_ready(d, i);
		if (ready == d->nzones || mono_now_us() >= deadline)
			break;
		sleep_us(20000);
	}
	timeout_us = deadline - mono_now_us();
	return wait_healthy(d, timeout_us > 1000000 ? timeout_us : 1000000, why, why_len);
}

static void fail_with_log(const struct local_zone *z, const char *log_name, const char *what)
{
	char path[LOCAL_PATH_LEN + 32], tail[1200];

	str_format(path, sizeof(path), "%s/%s", z->dir, log_name);
	proc_log_tail(path, tail, sizeof(tail));
	log_error("local up: %s (log %s; last lines:)\n%s", what, path, tail);
}

static bool local_up(struct driver *d, double *seconds)
{
	int64_t start = mono_now_us();
	char why[512];
	int i;

	if (local_exists(d)) {
		log_error("local up: cluster '%s' already exists (%s); run bise down first",
			  d->spec.name, d->state_file);
		return false;
	}
	if (!local_preflight(&d->spec, NULL, why, sizeof(why)) || !local_check_reach(d, why, sizeof(why))) {
		log_error("local up: %s", why);
		return false;
	}
	if (!local_write_files(d)) {
		log_error("local up: cannot write the state under %s", d->dir);
		goto fail;
	}
	for (i = 0; i < d->nzones; i++)
		if (!cg_create(d->zones[i].cg_etcd) || !cg_create(d->zones[i].cg_pg)) {
			log_error("local up: cannot create cgroups under %s", d->cg_cluster);
			goto fail;
		}
	log_debug("local up: files and cgroups after %.2f s", (double)(mono_now_us() - start) / 1e6);
	if (!net_up(d, why, sizeof(why))) {
		log_error("local up: network: %s", why);
		goto fail;
	}
	log_debug("local up: network after %.2f s", (double)(mono_now_us() - start) / 1e6);
	/*
	 * One member after the other: a new member asks every peer whether it was already
	 * bootstrapped, and a peer that listens but does not serve yet costs a full second
	 * (etcd's bootstrap timeout), while a peer not listening yet fails at once.
	 */
	for (i = 0; i < d->nzones; i++) {
		int64_t deadline = mono_now_us() + UP_ETCD_TIMEOUT_US;

		if (!start_etcd(d, i, why, sizeof(why))) {
			log_error("local up: %s", why);
			goto fail;
		}
		while (i + 1 < d->nzones && !health_etcd_peer(d->zones[i].ip, 200000)) {
			if (mono_now_us() > deadline || cg_nprocs(d->zones[i].cg_etcd) == 0) {
				fail_with_log(&d->zones[i], "etcd.log", "etcd did not start");
				goto fail;
			}
			sleep_us(10000);
		}
	}
	log_debug("local up: etcd started after %.2f s", (double)(mono_now_us() - start) / 1e6);
	/*
	 * Patroni starts before etcd is healthy: its Python start-up (~1.7 s) overlaps etcd's
	 * election, and etcd holds early client connections until it serves (measured: -0.6 s).
	 */
	/* Mounted before Patroni starts: it must never see the bare directory. */
	for (i = 0; d->spec.fuse && i < d->nzones; i++)
		if (!stall_mount(d, i, why, sizeof(why))) {
			log_error("local up: FUSE data directory of %s: %s", d->zones[i].name, why);
			goto fail;
		}
	for (i = 0; i < d->nzones; i++)
		if (!start_patroni(d, i, why, sizeof(why))) {
			log_error("local up: %s", why);
			goto fail;
		}
	for (i = 0; i < d->nzones; i++) {
		int64_t deadline = mono_now_us() + UP_ETCD_TIMEOUT_US;

		while (!health_etcd(d->zones[i].ip, 300000)) {
			if (mono_now_us() > deadline || cg_nprocs(d->zones[i].cg_etcd) == 0) {
				fail_with_log(&d->zones[i], "etcd.log", "etcd did not become healthy");
				goto fail;
			}
			sleep_us(50000);
		}
	}
	log_debug("local up: etcd healthy after %.2f s", (double)(mono_now_us() - start) / 1e6);
	if (!wait_new_cluster(d, UP_PATRONI_TIMEOUT_US, why, sizeof(why))) {
		int bad = 0;

		for (i = 0; i < d->nzones; i++)
			if (strstr(why, d->zones[i].name)) {
				bad = i;
				break;
			}
		fail_with_log(&d->zones[bad], "patroni.log", why);
		goto fail;
	}
	*seconds = (double)(mono_now_us() - start) / 1e6;
	log_info("local: cluster '%s' up in %.2f s", d->spec.name, *seconds);
	local_net_warm(d);
	return true;
fail:
	local_down(d);
	return false;
}

static int local_members(struct driver *d, struct member *out, int max)
{
	if (!local_exists(d))
		return -1;
	return health_members(d, out, max);
}

static bool local_wait_healthy(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	if (!local_exists(d)) {
		str_format(why, why_len, "cluster '%s' does not exist", d->spec.name);
		return false;
	}
	return wait_healthy(d, timeout_us, why, why_len);
}

static bool local_kill(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us)
{
	int i = local_find_zone(d, member);
	int64_t gone_pg = 0, gone_awake = 0;
	char why[256];

	if (i < 0) {
		log_error("local kill: no member %s", member);
		return false;
	}
	if (scope == KILL_POD) {
		char awake[LOCAL_PATH_LEN + 16];

		if (grace_us > 0 && !procfault_terminate(&d->zones[i], grace_us))
			return false;
		/* Patroni sits beside pg while PostgreSQL alone is paused (procfault.c). */
		str_format(awake, sizeof(awake), "%s/" LOCAL_CG_AWAKE, d->zones[i].cg_zone);
		/* In effect once the kernel counts no process left in either group. */
		if (!cg_kill(d->zones[i].cg_pg, KILL_TIMEOUT_US, &gone_pg) ||
		    !cg_kill(awake, KILL_TIMEOUT_US, &gone_awake))
			return false;
		local_effect_note(d, gone_pg > gone_awake ? gone_pg : gone_awake, "cgroup-empty");
		return true;
	}
	if (!proc_kill_postmaster(&d->zones[i], &gone_pg, why, sizeof(why))) {
		log_error("local kill: %s", why);
		return false;
	}
	local_effect_note(d, gone_pg, gone_pg ? "process-gone" : "signal-sent");
	return true;
}

static bool local_restart(struct driver *d, const char *member)
{
	int i = local_find_zone(d, member);
	char why[256];

	if (i < 0) {
		log_error("local restart: no member %s", member);
		return false;
	}
	if (cg_nprocs(d->zones[i].cg_pg) > 0)
		return true; /* still running: nothing to restart */
	if (!start_patroni(d, i, why, sizeof(why))) {
		log_error("local restart: %s", why);
		return false;
	}
	/* As a kubelet's restart: the container runs again (PostgreSQL follows, in seconds). */
	local_effect_note(d, mono_now_us(), "process-started");
	return true;
}

void local_effect_note(struct driver *d, int64_t at_us, const char *how)
{
	if (at_us <= 0 || at_us < d->effect.at_us)
		return;
	d->effect.at_us = at_us;
	str_copy(d->effect.how, sizeof(d->effect.how), how);
}

static bool local_effect(struct driver *d, struct fault_effect *out)
{
	bool seen = d->effect.at_us > 0;

	*out = d->effect;
	memset(&d->effect, 0, sizeof(d->effect));
	return seen;
}

/* The first token in text that starts with a digit and contains a dot. */
static void version_of(char *const argv[], char *out, size_t len)
{
	char text[512], *p;

	str_copy(out, len, "?");
	if (proc_run(argv, text, sizeof(text)) != 0)
		return;
	for (p = text; *p; p++)
		if (*p >= '0' && *p <= '9' && (p == text || p[-1] == ' ')) {
			size_t n = strspn(p, "0123456789.");

			if (memchr(p, '.', n)) {
				p[n] = '\0';
				str_copy(out, len, p);
				return;
			}
		}
}

static bool local_versions(struct driver *d, char *buf, size_t len)
{
	char *pg[] = { LOCAL_PG_BIN "/postgres", "--version", NULL };
	char *pat[] = { LOCAL_PYTHON, LOCAL_PATRONI, "--version", NULL };
	char *etcd[] = { LOCAL_ETCD, "--version", NULL };
	char vpg[32], vpat[32], vetcd[32];

	version_of(pg, vpg, sizeof(vpg));
	version_of(pat, vpat, sizeof(vpat));
	version_of(etcd, vetcd, sizeof(vetcd));
	return str_format(buf, len, "PostgreSQL %s, Patroni %s, etcd %s", vpg, vpat, vetcd);
}

/* Every fault family's sweep part; each is idempotent and runs even if another failed. */
static bool local_sweep(struct driver *d)
{
	bool ok = true;

	if (!procfault_sweep(d))
		ok = false;
	if (!local_net_sweep(d))
		ok = false;
	if (!stall_sweep(d))
		ok = false;
	return ok;
}

static bool local_can(struct driver *d, const struct fault_request *req, char *why, size_t why_len)
{
	if ((req->caps & DRIVER_CAP_STORAGE_STALL) && !d->spec.fuse) {
		str_format(why, why_len,
			   "storage-stall needs FUSE data directories: cluster '%s' was provisioned "
			   "without them (set cluster.fuse: true)", d->spec.name);
		return false;
	}
	return true;
}

const struct driver_ops driver_local = {
	.version = DRIVER_OPS_VERSION,
	.name = "local",
	.help = "zones as network namespaces on this machine: etcd + Patroni + PostgreSQL 15 "
		"(needs root)",
	.caps = DRIVER_CAP_KILL_POD | DRIVER_CAP_KILL_POSTMASTER | DRIVER_CAP_RESTART | DRIVER_CAP_SQL |
		DRIVER_CAP_PAUSE | DRIVER_CAP_ZONE_OUTAGE | DRIVER_CAP_IO_THROTTLE |
		DRIVER_CAP_CLIENT_ZONES |
		DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_LATENCY | DRIVER_CAP_NET_BANDWIDTH |
		DRIVER_CAP_NET_LOSS | DRIVER_CAP_NET_CLIENT |
		DRIVER_CAP_STORAGE_STALL, /* io_fault refuses, clearly, a cluster without cluster.fuse */
	.preflight = local_preflight,
	.open = local_open,
	.close = local_close,
	.exists = local_exists,
	.up = local_up,
	.down = local_down,
	.members = local_members,
	.wait_healthy = local_wait_healthy,
	.kill = local_kill,
	.restart = local_restart,
	.versions = local_versions,
	.pause = procfault_pause,
	.zone_stop = procfault_zone_stop,
	.zone_start = procfault_zone_start,
	.io_throttle = procfault_io_throttle,
	.client_netns = procfault_client_netns,
	.net_apply = local_net_apply,
	.net_revert = local_net_revert,
	.sweep = local_sweep,
	.can = local_can,
	.io_fault = stall_io_fault,
	.io_heal = stall_io_heal,
	.effect = local_effect,
};
