/*
 * procfault.c - process and disk faults of the local backend (see procfault.h): pauses with
 * the cgroup v2 freezer, a zone's power loss, cgroup-v1 blkio throttles,
 * and their sweep.
 */
#include "procfault.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_PIDS 1024
#define FREEZE_WAIT_US (2 * 1000000LL)
#define FREEZE_POLL_US 200
#define ZONE_KILL_TIMEOUT_US (10 * 1000000LL)
/* The postmaster may fork while we stop or move its tree: a few passes catch the children. */
#define PASSES 4
#define PG_EXE_PREFIX "/usr/lib/postgresql/"

/* ---- processes ---- */

/* PIDs listed in a cgroup's cgroup.procs; -1 when the cgroup cannot be read. */
static int cg_pids(const char *cg, pid_t *out, int max)
{
	char file[LOCAL_PATH_LEN + 32], *text, *p, *end;
	int n = 0;

	str_format(file, sizeof(file), "%s/cgroup.procs", cg);
	text = file_read_all(file, NULL);
	if (!text)
		return -1;
	for (p = text; *p && n < max; p = end) {
		long pid;

		errno = 0;
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (errno == 0 && pid > 1)
			out[n++] = (pid_t)pid;
		while (*end == '\n')
			end++;
	}
	free(text);
	return n;
}

/* One-letter state from /proc/<pid>/stat ('?' when the process is gone). */
static char proc_state(pid_t pid)
{
	char path[64], *text, *paren;
	char state = '?';

	str_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = file_read_all(path, NULL);
	if (!text)
		return state;
	/* comm may contain spaces and parentheses: the state follows the last ')'. */
	paren = strrchr(text, ')');
	if (paren && paren[1] == ' ' && paren[2])
		state = paren[2];
	free(text);
	return state;
}

static bool is_stopped(char state)
{
	return state == 'T' || state == 't';
}

/* The Patroni agent: LOCAL_PYTHON running LOCAL_PATRONI. */
static bool is_patroni(pid_t pid)
{
	char path[64], *text;
	size_t len = 0;
	bool yes = false;

	str_format(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	text = file_read_all(path, &len);
	if (!text)
		return false;
	if (len > strlen(text) + 1) {
		const char *arg1 = text + strlen(text) + 1;

		yes = strcmp(arg1, LOCAL_PATRONI) == 0;
	}
	free(text);
	return yes;
}

/* A PostgreSQL program: the postmaster, its forked children, pg_rewind, pg_basebackup... */
static bool is_postgres(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	str_format(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, PG_EXE_PREFIX, strlen(PG_EXE_PREFIX)) == 0;
}

static bool in_pause_set(pid_t pid, enum pause_what what)
{
	switch (what) {
	case PAUSE_POSTGRES:
		return is_postgres(pid);
	case PAUSE_PATRONI:
		return is_patroni(pid);
	case PAUSE_BOTH:
		return true;
	}
	return false;
}

/* z's child pg cgroup that holds Patroni while it alone is paused. */
static void paused_cg(const struct local_zone *z, char *out, size_t len)
{
	str_format(out, len, "%s/" LOCAL_CG_PAUSED, z->cg_pg);
}

/* z's cgroup beside pg that holds Patroni while PostgreSQL alone is paused. */
static void awake_cg(const struct local_zone *z, char *out, size_t len)
{
	str_format(out, len, "%s/" LOCAL_CG_AWAKE, z->cg_zone);
}

/* The processes of z's pg cgroup (and of where a pause moved some) that what concerns. */
static int pause_set(const struct local_zone *z, enum pause_what what, pid_t *out, int max)
{
	pid_t all[MAX_PIDS];
	char cg[LOCAL_PATH_LEN + 16];
	int n = cg_pids(z->cg_pg, all, MAX_PIDS), k = 0, m;

	if (n < 0)
		return -1;
	paused_cg(z, cg, sizeof(cg));
	m = cg_pids(cg, all + n, MAX_PIDS - n);
	if (m > 0)
		n += m;
	awake_cg(z, cg, sizeof(cg));
	m = cg_pids(cg, all + n, MAX_PIDS - n);
	if (m > 0)
		n += m;
	for (int i = 0; i < n && k < max; i++)
		if (in_pause_set(all[i], what))
			out[k++] = all[i];
	return k;
}

static const char *what_name(enum pause_what what)
{
	return what == PAUSE_POSTGRES ? "postgres" : what == PAUSE_PATRONI ? "patroni" : "both";
}

static bool write_text(const char *path, const char *text);
static bool thaw_zone(const struct local_zone *z, int64_t *thawed_us);

/* Whether a cgroup's cgroup.freeze asks for frozen (its events may lag behind). */
static bool cg_freeze_set(const char *cg)
{
	char file[LOCAL_PATH_LEN + 32], *text;
	bool set;

	str_format(file, sizeof(file), "%s/cgroup.freeze", cg);
	text = file_read_all(file, NULL);
	set = text && text[0] == '1';
	free(text);
	return set;
}

/* "frozen 1" in a cgroup's cgroup.events: 1 frozen, 0 not, -1 no such cgroup. */
static int cg_frozen(const char *cg)
{
	char file[LOCAL_PATH_LEN + 32], *text, *p;
	int frozen;

	str_format(file, sizeof(file), "%s/cgroup.events", cg);
	text = file_read_all(file, NULL);
	if (!text)
		return -1;
	p = strstr(text, "frozen ");
	frozen = p && p[7] == '1';
	free(text);
	return frozen;
}

/* Write cgroup.freeze: one write freezes or thaws the whole cgroup (and its children). */
static bool cg_write_freeze(const char *cg, bool frozen)
{
	char file[LOCAL_PATH_LEN + 32];

	str_format(file, sizeof(file), "%s/cgroup.freeze", cg);
	if (!write_text(file, frozen ? "1" : "0")) {
		log_error("cannot write %d to %s: %s", frozen, file, strerror(errno));
		return false;
	}
	return true;
}

/*
 * Wait until cgroup.events says the freeze or thaw took effect (a warning if it does not):
 * the moment it was seen, woken by the kernel's notification; 0 when not seen in time.
 */
static int64_t cg_wait_frozen(const char *cg, bool frozen)
{
	/* A task freezes when it next leaves the kernel: an uninterruptible I/O delays it. */
	int64_t seen = 0;

	if (cg_events_wait(cg, "frozen", frozen ? 1 : 0, FREEZE_WAIT_US, &seen) != 1) {
		log_warn("%s: not yet %s after %lld ms (a process in uninterruptible I/O?); it "
			 "will be when that ends", cg, frozen ? "frozen" : "thawed",
			 (long long)(FREEZE_WAIT_US / 1000));
		return 0;
	}
	return seen;
}

/* Move pids into cgroup dst; a process that exited meanwhile is no error. */
static bool cg_move(const pid_t *pids, int n, const char *dst)
{
	char file[LOCAL_PATH_LEN + 32], text[16];

	str_format(file, sizeof(file), "%s/cgroup.procs", dst);
	for (int i = 0; i < n; i++) {
		str_format(text, sizeof(text), "%d", (int)pids[i]);
		if (!write_text(file, text) && errno != ESRCH) {
			log_error("cannot move pid %d to %s: %s", (int)pids[i], dst, strerror(errno));
			return false;
		}
	}
	return true;
}

/* The processes of cg that are (in_set) or are not (!in_set) in what's set. */
static int select_pids(const char *cg, enum pause_what what, bool in_set, pid_t *out, int max)
{
	pid_t all[MAX_PIDS];
	int n = cg_pids(cg, all, MAX_PIDS), k = 0;

	for (int i = 0; i < n && k < max; i++)
		if (in_pause_set(all[i], what) == in_set)
			out[k++] = all[i];
	return k;
}

/*
 * Pause with the cgroup v2 freezer, as container runtimes do: one write freezes a whole
 * cgroup at one instant (SIGSTOP PID by PID took 12-26 ms for a zone's PostgreSQL).
 *   both      the zone's pg cgroup.
 *   postgres  Patroni (whatever is not PostgreSQL) is moved beside pg first, then pg is
 *             frozen: backends the postmaster forks are born in pg, frozen with it.
 *   patroni   Patroni is moved into pg's child "paused", which is frozen.
 * A process moved into a frozen cgroup freezes, one moved out of it thaws.
 */
static bool freeze(const struct local_zone *z, enum pause_what what, int64_t *frozen_us)
{
	char cg[LOCAL_PATH_LEN + 16];
	pid_t set[MAX_PIDS];
	int n;

	n = pause_set(z, what, set, MAX_PIDS);
	if (n < 0) {
		log_error("pause %s: cannot read cgroup %s", z->name, z->cg_pg);
		return false;
	}
	if (n == 0) {
		log_error("pause %s: no %s process is running in %s", z->name, what_name(what),
			  z->cg_pg);
		return false;
	}
	if (what == PAUSE_BOTH) {
		if (!cg_write_freeze(z->cg_pg, true))
			return false;
		*frozen_us = cg_wait_frozen(z->cg_pg, true);
		return true;
	}
	if (what == PAUSE_PATRONI) {
		paused_cg(z, cg, sizeof(cg));
		if (!cg_create(cg) || !cg_move(set, n, cg) || !cg_write_freeze(cg, true))
			goto undo;
		*frozen_us = cg_wait_frozen(cg, true);
		return true;
	}
	awake_cg(z, cg, sizeof(cg));
	if (!cg_create(cg))
		goto undo;
	n = select_pids(z->cg_pg, what, false, set, MAX_PIDS);
	if (!cg_move(set, n, cg) || !cg_write_freeze(z->cg_pg, true))
		goto undo;
	/* Something other than PostgreSQL started in pg meanwhile (Patroni's own child): out. */
	for (int pass = 0; pass < PASSES; pass++) {
		n = select_pids(z->cg_pg, what, false, set, MAX_PIDS);
		if (n == 0)
			break;
		if (!cg_move(set, n, cg))
			goto undo;
	}
	*frozen_us = cg_wait_frozen(z->cg_pg, true);
	log_debug("pause %s: %s frozen in %s", z->name, what_name(what), z->cg_pg);
	return true;
undo:
	thaw_zone(z, NULL);
	return false;
}

/* Move everything of cgroup from back into dst, then remove from (forks meanwhile: passes). */
static bool cg_merge(const char *from, const char *dst)
{
	bool ok = true;

	if (access(from, F_OK) != 0)
		return true;
	for (int pass = 0; pass < PASSES; pass++) {
		pid_t pids[MAX_PIDS];
		int n = cg_pids(from, pids, MAX_PIDS);

		if (n <= 0)
			break;
		ok &= cg_move(pids, n, dst);
	}
	if (rmdir(from) != 0 && errno != ENOENT) {
		log_error("cannot remove cgroup %s: %s", from, strerror(errno));
		ok = false;
	}
	return ok;
}

/*
 * Thaw z's pg cgroup and its paused child (one write each), then put back what a pause
 * moved and remove the cgroups it made.
 */
static bool thaw_zone(const struct local_zone *z, int64_t *thawed_us)
{
	char cg[LOCAL_PATH_LEN + 16];
	int64_t seen = 0, t;
	bool ok = true;

	if (cg_freeze_set(z->cg_pg) || cg_frozen(z->cg_pg) == 1) {
		ok &= cg_write_freeze(z->cg_pg, false);
		seen = cg_wait_frozen(z->cg_pg, false);
	}
	paused_cg(z, cg, sizeof(cg));
	if (access(cg, F_OK) == 0) {
		ok &= cg_write_freeze(cg, false);
		t = cg_wait_frozen(cg, false);
		seen = t > seen ? t : seen;
		ok &= cg_merge(cg, z->cg_pg);
	}
	/* What follows only tidies up: the processes run again from here. */
	if (thawed_us)
		*thawed_us = seen;
	awake_cg(z, cg, sizeof(cg));
	ok &= cg_merge(cg, z->cg_pg);
	return ok;
}

bool procfault_terminate(const struct local_zone *z, int64_t grace_us)
{
	pid_t set[MAX_PIDS];
	int64_t deadline = mono_now_us() + grace_us;
	int n = pause_set(z, PAUSE_PATRONI, set, MAX_PIDS);

	if (n == 0)
		n = pause_set(z, PAUSE_BOTH, set, MAX_PIDS);
	if (n < 0) {
		log_error("graceful kill: cannot list the processes of %s", z->cg_pg);
		return false;
	}
	for (int i = 0; i < n; i++)
		if (kill(set[i], SIGTERM) != 0 && errno != ESRCH) {
			log_error("graceful kill: SIGTERM to %d: %s", (int)set[i], strerror(errno));
			return false;
		}
	while (cg_nprocs(z->cg_pg) > 0 && mono_now_us() < deadline)
		sleep_us(20000);
	return true;
}

bool procfault_pause(struct driver *d, const char *member, enum pause_what what, bool frozen)
{
	int i = local_find_zone(d, member);
	int64_t at = 0;
	bool ok;

	if (i < 0) {
		log_error("local pause: no member %s", member);
		return false;
	}
	if (frozen) {
		if (!freeze(&d->zones[i], what, &at))
			return false;
		local_effect_note(d, at, "cgroup-frozen");
		return true;
	}
	ok = thaw_zone(&d->zones[i], &at);
	local_effect_note(d, at, "cgroup-thawed");
	return ok;
}

/* SIGCONT whatever is in state T in one cgroup (the sweep: whatever stopped it). */
static bool sigcont_cgroup(const char *cg)
{
	pid_t set[MAX_PIDS];
	int n = cg_pids(cg, set, MAX_PIDS), left = 0;
	int64_t deadline = mono_now_us() + FREEZE_WAIT_US;

	for (int i = 0; i < n; i++)
		if (is_stopped(proc_state(set[i])) && kill(set[i], SIGCONT) != 0 && errno != ESRCH)
			log_warn("sweep: SIGCONT %d: %s", (int)set[i], strerror(errno));
	do {
		left = 0;
		for (int i = 0; i < n; i++)
			left += is_stopped(proc_state(set[i]));
		if (left > 0)
			sleep_us(10000);
	} while (left > 0 && mono_now_us() < deadline);
	if (left > 0)
		log_error("sweep: %d processes of %s still stopped after SIGCONT", left, cg);
	return left == 0;
}

/* ---- the zone's link ---- */

static const char *ip_path(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/usr/bin/ip";
}

/* -1 when the interface does not exist, else whether it is administratively up. */
static int link_is_up(const char *ifname)
{
	char path[96], *text;
	unsigned long flags;

	str_format(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
	text = file_read_all(path, NULL);
	if (!text)
		return -1;
	flags = strtoul(text, NULL, 16);
	free(text);
	return (flags & 1u) ? 1 : 0; /* IFF_UP */
}

static bool link_set(const char *ifname, bool up)
{
	char *argv[] = { (char *)ip_path(), "link", "set", (char *)ifname, up ? "up" : "down", NULL };
	char out[256];

	if (link_is_up(ifname) == (up ? 1 : 0))
		return true;
	if (proc_run(argv, out, sizeof(out)) != 0) {
		out[strcspn(out, "\n")] = '\0';
		log_error("ip link set %s %s: %s", ifname, up ? "up" : "down", out);
		return false;
	}
	return true;
}

bool procfault_zone_stop(struct driver *d, const char *zone)
{
	int i = local_find_zone(d, zone);
	const struct local_zone *z;
	int64_t gone = 0;

	if (i < 0) {
		log_error("local zone stop: no zone %s", zone);
		return false;
	}
	z = &d->zones[i];
	/* Cut first: the kernel's FIN/RST for the killed processes' sockets must not get out. */
	if (link_is_up(z->veth) < 0) {
		log_error("local zone stop: zone %s has no link %s (is the cluster up?)", zone, z->veth);
		return false;
	}
	if (!link_set(z->veth, false))
		return false;
	/* Dark and dead: in effect once the kernel counts no process left in the zone. */
	if (!cg_kill(z->cg_zone, ZONE_KILL_TIMEOUT_US, &gone))
		return false;
	local_effect_note(d, gone, "cgroup-empty");
	return true;
}

bool procfault_zone_start(struct driver *d, const char *zone)
{
	int i = local_find_zone(d, zone);
	const struct local_zone *z;
	char why[256];
	int netcd, npg;

	if (i < 0) {
		log_error("local zone start: no zone %s", zone);
		return false;
	}
	z = &d->zones[i];
	if (!link_set(z->veth, true))
		return false;
	netcd = cg_nprocs(z->cg_etcd);
	npg = cg_nprocs(z->cg_pg);
	if (netcd < 0 || npg < 0) {
		log_error("local zone start: cgroups of %s are missing (is the cluster up?)", zone);
		return false;
	}
	/* etcd first: Patroni's DCS is up sooner, though any two members are a quorum. */
	if (netcd == 0 && !local_start_etcd(d, i, why, sizeof(why))) {
		log_error("local zone start: %s", why);
		return false;
	}
	if (npg == 0 && !local_start_patroni(d, i, why, sizeof(why))) {
		log_error("local zone start: %s", why);
		return false;
	}
	/* Power back: the link is up and the zone's processes run again (they start in seconds). */
	local_effect_note(d, mono_now_us(), "process-started");
	return true;
}

/* ---- blkio (cgroup v1) ---- */

/* The mount point of the cgroup-v1 hierarchy that has the blkio controller. */
static bool blkio_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[1024], dev[256], dir[512], type[64], opts[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok;

		if (sscanf(line, "%255s %511s %63s %511s", dev, dir, type, opts) != 4 ||
		    strcmp(type, "cgroup") != 0)
			continue;
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, "blkio") == 0)
				found = str_copy(out, len, dir);
	}
	fclose(f);
	return found;
}

/*
 * "major:minor" of the whole disk holding zone z's data directory (or the state root
 * before there is one); why on failure.
 */
static bool state_disk(const struct driver *d, const struct local_zone *z, char *out, size_t len,
		       char *why, size_t why_len)
{
	char sys[128], real[PATH_MAX], pgdata[LOCAL_PATH_LEN + 16], *text;
	const char *where = d->state_root;
	struct stat st;

	str_format(pgdata, sizeof(pgdata), "%s/pgdata", z->dir);
	if (access(pgdata, F_OK) == 0)
		where = pgdata;
	else if (access(d->dir, F_OK) == 0)
		where = d->dir;
	if (stat(where, &st) != 0) {
		str_format(why, why_len, "cannot stat %s: %s", where, strerror(errno));
		return false;
	}
	if (major(st.st_dev) == 0 && d->spec.fuse) {
		/* The FUSE daemon, not PostgreSQL, does the disk I/O: a throttle would miss it. */
		str_format(why, why_len, "%s is a FUSE mount (cluster.fuse): its disk I/O is done "
			   "by the FUSE daemon, which blkio cannot attribute to PostgreSQL (use "
			   "storage-stall with mode: delay on such a cluster)", where);
		return false;
	}
	if (major(st.st_dev) == 0) {
		str_format(why, why_len,
			   "%s is on a filesystem without a block device (device %u:%u: tmpfs, "
			   "overlay or a network filesystem); blkio can only throttle a disk "
			   "(put the state root, --state-dir, on a disk)",
			   where, major(st.st_dev), minor(st.st_dev));
		return false;
	}
	str_format(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
	if (access(sys, F_OK) != 0) {
		str_format(why, why_len, "%s is on device %u:%u, which is not a block device in "
			   "/sys/dev/block", where, major(st.st_dev), minor(st.st_dev));
		return false;
	}
	/* blk-throttle rules name a whole disk: a partition's parent directory is its disk. */
	str_format(sys, sizeof(sys), "/sys/dev/block/%u:%u/partition", major(st.st_dev),
		   minor(st.st_dev));
	if (access(sys, F_OK) != 0)
		return str_format(out, len, "%u:%u", major(st.st_dev), minor(st.st_dev));
	str_format(sys, sizeof(sys), "/sys/dev/block/%u:%u/..", major(st.st_dev), minor(st.st_dev));
	if (!realpath(sys, real) || strlen(real) + 8 > sizeof(sys)) {
		str_format(why, why_len, "cannot find the disk of partition %u:%u", major(st.st_dev),
			   minor(st.st_dev));
		return false;
	}
	str_format(sys, sizeof(sys), "%s/dev", real);
	text = file_read_all(sys, NULL);
	if (!text) {
		str_format(why, why_len, "cannot read %s", sys);
		return false;
	}
	text[strcspn(text, "\n")] = '\0';
	str_copy(out, len, text);
	free(text);
	return true;
}

bool procfault_io_throttle_possible(const struct driver *d, char *why, size_t why_len)
{
	char mount[LOCAL_PATH_LEN], file[LOCAL_PATH_LEN + 48], disk[32];

	if (!blkio_mount(mount, sizeof(mount))) {
		str_format(why, why_len, "no cgroup-v1 blkio hierarchy is mounted (io-throttle needs "
			   "one, e.g. mount -t cgroup -o blkio cgroup /sys/fs/cgroup/blkio)");
		return false;
	}
	str_format(file, sizeof(file), "%s/blkio.throttle.write_iops_device", mount);
	if (access(file, W_OK) != 0) {
		str_format(why, why_len, "%s is missing: the kernel has no block-layer throttling "
			   "(CONFIG_BLK_DEV_THROTTLING)", file);
		return false;
	}
	return d->nzones > 0 && state_disk(d, &d->zones[0], disk, sizeof(disk), why, why_len);
}

static bool blkio_group(const struct driver *d, const struct local_zone *z, char *mount,
			size_t mlen, char *group, size_t glen)
{
	if (!blkio_mount(mount, mlen))
		return false;
	return str_format(group, glen, "%s/bise/%s/%s", mount, d->spec.name, z->name);
}

static bool write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, (size_t)len) == len;
	close(fd);
	return ok;
}

static bool set_limits(const char *group, const char *disk, int64_t iops, int64_t bps)
{
	static const char *const iops_files[] = { "blkio.throttle.read_iops_device",
						  "blkio.throttle.write_iops_device" };
	static const char *const bps_files[] = { "blkio.throttle.read_bps_device",
						 "blkio.throttle.write_bps_device" };
	char file[LOCAL_PATH_LEN + 64], rule[64];

	for (int k = 0; k < 2; k++) {
		str_format(file, sizeof(file), "%s/%s", group, iops_files[k]);
		str_format(rule, sizeof(rule), "%s %lld", disk, (long long)iops);
		if (!write_text(file, rule)) {
			log_error("cannot write \"%s\" to %s: %s", rule, file, strerror(errno));
			return false;
		}
		str_format(file, sizeof(file), "%s/%s", group, bps_files[k]);
		str_format(rule, sizeof(rule), "%s %lld", disk, (long long)bps);
		if (!write_text(file, rule)) {
			log_error("cannot write \"%s\" to %s: %s", rule, file, strerror(errno));
			return false;
		}
	}
	return true;
}

/* Move every process of cgroup-v2 group src into the blkio group dst. */
static bool move_pids(const char *src_cg, const char *dst_group)
{
	char file[LOCAL_PATH_LEN + 32], text[16];
	pid_t pids[MAX_PIDS];

	str_format(file, sizeof(file), "%s/cgroup.procs", dst_group);
	for (int pass = 0; pass < PASSES; pass++) {
		int n = cg_pids(src_cg, pids, MAX_PIDS);

		if (n < 0) {
			log_error("cannot read cgroup %s", src_cg);
			return false;
		}
		for (int i = 0; i < n; i++) {
			str_format(text, sizeof(text), "%d", (int)pids[i]);
			if (!write_text(file, text) && errno != ESRCH) {
				log_error("cannot move pid %d to %s: %s", (int)pids[i], dst_group,
					  strerror(errno));
				return false;
			}
		}
	}
	return true;
}

/* Limits off, processes back to the blkio root, groups removed. Idempotent. */
static bool blkio_remove(const struct driver *d, const struct local_zone *z)
{
	char mount[LOCAL_PATH_LEN], group[LOCAL_PATH_LEN + 128], disk[32], why[256];
	char file[LOCAL_PATH_LEN + 160], text[16], parent[LOCAL_PATH_LEN + 64];
	pid_t pids[MAX_PIDS];
	int n;
	bool ok = true;

	if (!blkio_group(d, z, mount, sizeof(mount), group, sizeof(group)) ||
	    access(group, F_OK) != 0)
		return true;
	if (state_disk(d, z, disk, sizeof(disk), why, sizeof(why)))
		ok = set_limits(group, disk, 0, 0);
	str_format(file, sizeof(file), "%s/cgroup.procs", mount);
	/* The group is removable only once empty; processes may fork meanwhile. */
	for (int pass = 0; pass < PASSES && (n = cg_pids(group, pids, MAX_PIDS)) > 0; pass++)
		for (int i = 0; i < n; i++) {
			str_format(text, sizeof(text), "%d", (int)pids[i]);
			if (!write_text(file, text) && errno != ESRCH)
				log_warn("cannot move pid %d back to %s: %s", (int)pids[i], mount,
					 strerror(errno));
		}
	if (rmdir(group) != 0 && errno != ENOENT) {
		log_error("cannot remove blkio group %s: %s", group, strerror(errno));
		ok = false;
	}
	/* The cluster's and bise's directories go when no other zone or cluster uses them. */
	str_format(parent, sizeof(parent), "%s/bise/%s", mount, d->spec.name);
	rmdir(parent);
	str_format(parent, sizeof(parent), "%s/bise", mount);
	rmdir(parent);
	return ok;
}

bool procfault_io_throttle(struct driver *d, const char *member, int64_t iops, int64_t bps)
{
	int i = local_find_zone(d, member);
	char mount[LOCAL_PATH_LEN], group[LOCAL_PATH_LEN + 128], disk[32], why[512];
	const struct local_zone *z;

	if (i < 0) {
		log_error("local io throttle: no member %s", member);
		return false;
	}
	z = &d->zones[i];
	if (iops <= 0 && bps <= 0) {
		if (!blkio_remove(d, z))
			return false;
		local_effect_note(d, mono_now_us(), "blkio-written");
		return true;
	}
	if (!procfault_io_throttle_possible(d, why, sizeof(why))) {
		log_error("local io throttle: %s", why);
		return false;
	}
	if (!state_disk(d, z, disk, sizeof(disk), why, sizeof(why)) ||
	    !blkio_group(d, z, mount, sizeof(mount), group, sizeof(group))) {
		log_error("local io throttle: %s", why);
		return false;
	}
	if (!mkdir_p(group, 0755))
		return false;
	if (!set_limits(group, disk, iops > 0 ? iops : 0, bps > 0 ? bps : 0) ||
	    !move_pids(z->cg_pg, group)) {
		blkio_remove(d, z);
		return false;
	}
	/* The limits hold for the processes from their move into the group: the last write. */
	local_effect_note(d, mono_now_us(), "blkio-written");
	log_debug("local io throttle: %s limited to %lld IOPS, %lld B/s on disk %s", member,
		  (long long)iops, (long long)bps, disk);
	return true;
}

/* ---- clients and sweep ---- */

bool procfault_client_netns(struct driver *d, const char *zone, char *path, size_t len)
{
	int i = local_find_zone(d, zone);

	if (i < 0) {
		log_error("local client netns: no zone %s", zone);
		return false;
	}
	if (!str_format(path, len, "/run/netns/%s", d->zones[i].netns) || access(path, F_OK) != 0) {
		log_error("local client netns: %s does not exist (is the cluster up?)", path);
		return false;
	}
	return true;
}

bool procfault_sweep(struct driver *d)
{
	bool ok = true;

	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];

		if (link_is_up(z->veth) == 0) {
			if (link_set(z->veth, true))
				log_info("sweep: link of zone %s was down, brought it up", z->name);
			else
				ok = false;
		}
		if (cg_nprocs(z->cg_pg) >= 0 && !thaw_zone(z, NULL))
			ok = false;
		if (!sigcont_cgroup(z->cg_etcd) || !sigcont_cgroup(z->cg_pg))
			ok = false;
		if (!blkio_remove(d, z))
			ok = false;
	}
	return ok;
}
