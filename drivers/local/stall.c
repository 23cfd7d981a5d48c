/*
 * stall.c - the local backend's storage-stall: bise-stallfs daemons serving the zones'
 * data directories (see stall.h), their control socket, and the io_fault/io_heal/sweep ops.
 */
#include "stall.h"

#include "daemon.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define STALLFS_NAME "bise-stallfs"
#define READY_TIMEOUT_MS 10000
#define CONTROL_TIMEOUT_MS 3000
#define END_TIMEOUT_US (5 * 1000000LL)

static bool zone_file(const struct local_zone *z, const char *name, char *out, size_t len)
{
	if (!str_format(out, len, "%s/%s", z->dir, name)) {
		log_error("path too long: %s/%s", z->dir, name);
		return false;
	}
	return true;
}

/* The daemon: $BISE_STALLFS, or bise-stallfs next to the running binary (the build tree). */
static bool stallfs_binary(char *out, size_t len)
{
	const char *env = getenv("BISE_STALLFS");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && env[0] == '/')
		return str_copy(out, len, env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return str_format(out, len, "%s/%s", self, STALLFS_NAME);
}

bool stall_preflight(char *why, size_t why_len)
{
	char bin[PATH_MAX];

	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		str_format(why, why_len, "cluster.fuse needs /dev/fuse (%s; modprobe fuse, or install "
			   "the Debian package fuse3)", strerror(errno));
		return false;
	}
	if (!stallfs_binary(bin, sizeof(bin)) || access(bin, X_OK) != 0) {
		str_format(why, why_len, "cluster.fuse needs %s next to the bise binary (build the "
			   "target bise-stallfs, or set BISE_STALLFS to its absolute path)", STALLFS_NAME);
		return false;
	}
	return true;
}

/* "major:minor" of the filesystem mounted exactly at path, from our mountinfo; false if none. */
static bool mount_device(const char *path, char *dev, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], mdev[32], mpoint[2048];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %31s %*s %2047s", mdev, mpoint) == 2 &&
		    strcmp(mpoint, path) == 0) {
			found = true; /* the last one wins: it is the one on top */
			if (dev)
				str_copy(dev, len, mdev);
		}
	fclose(f);
	return found;
}

/* Whether pid is the bise-stallfs serving mnt (guards against a reused PID). */
static bool is_our_daemon(pid_t pid, const char *mnt)
{
	char path[64], cmd[4096], state = '?', *text;
	size_t n = 0, mlen = strlen(mnt);
	bool name = false, mount = false;
	FILE *f;

	str_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = file_read_all(path, NULL);
	if (!text)
		return false;
	if (strrchr(text, ')'))
		state = strrchr(text, ')')[2];
	free(text);
	if (state == 'Z' || state == 'X')
		return false; /* ended, only not reaped yet */
	str_format(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[n] = '\0';
	/* argv: .../bise-stallfs ... --mount <mnt> ... */
	name = strstr(cmd, STALLFS_NAME) != NULL;
	for (size_t k = 0; k < n; k += strlen(cmd + k) + 1)
		if (strcmp(cmd + k, "--mount") == 0 && k + 8 + mlen <= n &&
		    strcmp(cmd + k + 8, mnt) == 0)
			mount = true;
	return name && mount;
}

/* The daemon of zone z: from its PID file, else by a scan of /proc; 0 if none runs. */
static pid_t daemon_pid(const struct local_zone *z)
{
	char file[LOCAL_PATH_LEN + 32], mnt[LOCAL_PATH_LEN + 32], *text, *end;
	DIR *proc;
	struct dirent *de;
	pid_t found = 0;
	long pid;

	if (!zone_file(z, "stallfs.pid", file, sizeof(file)) ||
	    !zone_file(z, "pgdata", mnt, sizeof(mnt)))
		return 0;
	text = file_read_all(file, NULL);
	if (text) {
		pid = strtol(text, &end, 10);
		free(text);
		if (pid > 1 && pid <= INT_MAX && (*end == '\n' || *end == '\0') &&
		    is_our_daemon((pid_t)pid, mnt))
			return (pid_t)pid;
	}
	/* The PID file is written after mounting: a daemon killed before may still be there. */
	proc = opendir("/proc");
	while (proc && !found && (de = readdir(proc))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && pid > 1 && pid <= INT_MAX && is_our_daemon((pid_t)pid, mnt))
			found = (pid_t)pid;
	}
	if (proc)
		closedir(proc);
	return found;
}

/*
 * Send one command line to zone z's daemon and read its one-line answer. *gone is set
 * when nobody listens (no socket, or refused): there is no daemon, so nothing is stalled.
 */
static bool control(const struct local_zone *z, const char *cmd, char *reply, size_t len,
		    bool *gone)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct pollfd p;
	char line[128];
	size_t used = 0;
	int fd;

	*gone = false;
	reply[0] = '\0';
	if (!zone_file(z, "stallfs.sock", addr.sun_path, sizeof(addr.sun_path)))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		str_format(reply, len, "socket: %s", strerror(errno));
		return false;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		*gone = errno == ENOENT || errno == ECONNREFUSED;
		str_format(reply, len, "connect %s: %s", addr.sun_path, strerror(errno));
		close(fd);
		return false;
	}
	str_format(line, sizeof(line), "%s\n", cmd);
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		str_format(reply, len, "send: %s", strerror(errno));
		close(fd);
		return false;
	}
	p.fd = fd;
	p.events = POLLIN;
	while (used + 1 < len && !memchr(reply, '\n', used)) {
		ssize_t n;

		if (poll(&p, 1, CONTROL_TIMEOUT_MS) <= 0) {
			str_format(reply, len, "no answer from %s within %d ms", addr.sun_path,
				   CONTROL_TIMEOUT_MS);
			close(fd);
			return false;
		}
		n = read(fd, reply + used, len - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		reply[used] = '\0';
	}
	close(fd);
	reply[strcspn(reply, "\n")] = '\0';
	return strncmp(reply, "ok", 2) == 0;
}

/* Start the daemon; returns once it reports ready (mounted) or failed. */
static bool spawn_daemon(const struct local_zone *z, char *why, size_t why_len)
{
	char bin[PATH_MAX], backing[LOCAL_PATH_LEN + 32], mnt[LOCAL_PATH_LEN + 32];
	char sock[LOCAL_PATH_LEN + 32], pidf[LOCAL_PATH_LEN + 32], logf[LOCAL_PATH_LEN + 32];
	char fdarg[16], reason[512];
	char *argv[] = { bin, "--backing", backing, "--mount", mnt, "--control", sock, "--pidfile",
			 pidf, "--ready-fd", fdarg, NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	/* The daemon writes "ready" once mounted; EOF first means it failed (see its log). */
	struct daemon_spec spec = { .argv = argv, .envp = envp, .ready_word = "ready",
				    .ready_timeout_ms = READY_TIMEOUT_MS };
	char tail[600];
	pid_t pid;
	bool ok;

	if (!stallfs_binary(bin, sizeof(bin)) || !zone_file(z, "pgdata.backing", backing, sizeof(backing)) ||
	    !zone_file(z, "pgdata", mnt, sizeof(mnt)) || !zone_file(z, "stallfs.sock", sock, sizeof(sock)) ||
	    !zone_file(z, "stallfs.pid", pidf, sizeof(pidf)) ||
	    !zone_file(z, "stallfs.log", logf, sizeof(logf))) {
		str_format(why, why_len, "paths of %s's FUSE daemon too long", z->name);
		return false;
	}
	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		str_format(why, why_len, "control socket path %s is too long for a Unix socket "
			   "(use a shorter --state-dir)", sock);
		return false;
	}
	str_format(fdarg, sizeof(fdarg), "%d", DAEMON_READY_FD);
	spec.log_fd = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (spec.log_fd < 0) {
		str_format(why, why_len, "cannot prepare %s: %s", logf, strerror(errno));
		return false;
	}
	/* Its own session: a Ctrl-C to bise must not take the filesystem down under PostgreSQL. */
	ok = daemon_start(&spec, &pid, reason, sizeof(reason));
	close(spec.log_fd);
	if (ok)
		return true;
	proc_log_tail(logf, tail, sizeof(tail));
	str_format(why, why_len, "%s did not mount %s: %s (log %s):\n%s", STALLFS_NAME, mnt, reason,
		   logf, tail);
	return false;
}

bool stall_mount(struct driver *d, int i, char *why, size_t why_len)
{
	const struct local_zone *z = &d->zones[i];
	char backing[LOCAL_PATH_LEN + 32], mnt[LOCAL_PATH_LEN + 32];
	uid_t uid;
	gid_t gid;

	if (!zone_file(z, "pgdata.backing", backing, sizeof(backing)) ||
	    !zone_file(z, "pgdata", mnt, sizeof(mnt)))
		return false;
	/* Both belong to postgres, 0700: the mount's root shows the backing directory's owner. */
	if (!proc_user(&uid, &gid) ||
	    !mkdir_p_owner(backing, 0700, uid) || chmod(backing, 0700) != 0 || !proc_chown_user(backing) ||
	    !mkdir_p_owner(mnt, 0700, uid) || chmod(mnt, 0700) != 0 || !proc_chown_user(mnt)) {
		str_format(why, why_len, "cannot prepare %s and %s", backing, mnt);
		return false;
	}
	if (mount_device(mnt, NULL, 0)) {
		str_format(why, why_len, "%s is mounted already", mnt);
		return false;
	}
	if (!spawn_daemon(z, why, why_len))
		return false;
	if (!mount_device(mnt, NULL, 0)) {
		str_format(why, why_len, "%s reported ready but %s is not mounted", STALLFS_NAME, mnt);
		return false;
	}
	return true;
}

/* Abort the FUSE connection (every pending request fails): when the daemon cannot heal. */
static bool abort_connection(const char *mnt)
{
	char dev[32], path[96], *colon;
	int fd;

	if (!mount_device(mnt, dev, sizeof(dev)))
		return true; /* not mounted: nothing can block on it */
	colon = strchr(dev, ':');
	if (!colon || !str_format(path, sizeof(path), "/sys/fs/fuse/connections/%s/abort", colon + 1))
		return false;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		log_error("cannot abort the FUSE connection of %s through %s: %s", mnt, path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	log_warn("aborted the FUSE connection of %s", mnt);
	return true;
}

bool stall_release(struct driver *d, int i)
{
	const struct local_zone *z = &d->zones[i];
	char mnt[LOCAL_PATH_LEN + 32], reply[256];
	bool gone;

	if (!zone_file(z, "pgdata", mnt, sizeof(mnt)))
		return false;
	if (control(z, "heal", reply, sizeof(reply), &gone) || gone)
		return true; /* healed, or no daemon: a dead daemon's mount fails, it never blocks */
	log_warn("%s of %s did not heal (%s): aborting its connection", STALLFS_NAME, z->name, reply);
	return abort_connection(mnt);
}

bool stall_unmount(struct driver *d, int i)
{
	const struct local_zone *z = &d->zones[i];
	char mnt[LOCAL_PATH_LEN + 32], file[LOCAL_PATH_LEN + 32];
	int64_t deadline;
	bool ok = true;
	pid_t pid;

	if (!zone_file(z, "pgdata", mnt, sizeof(mnt)))
		return false;
	if (mount_device(mnt, NULL, 0) && umount2(mnt, 0) != 0) {
		/* Something still holds it (busy): detach now, the kernel finishes later. */
		if (errno != EINVAL && umount2(mnt, MNT_DETACH) != 0 && errno != EINVAL) {
			log_error("cannot unmount %s: %s", mnt, strerror(errno));
			ok = false;
		}
	}
	/* Unmounting ends the daemon's loop; the signal covers a daemon that missed it. */
	pid = daemon_pid(z);
	if (pid > 0) {
		kill(pid, SIGTERM);
		deadline = mono_now_us() + END_TIMEOUT_US;
		while (is_our_daemon(pid, mnt) && mono_now_us() < deadline)
			sleep_us(10000);
		if (is_our_daemon(pid, mnt)) {
			log_warn("%s %d ignored SIGTERM: SIGKILL", STALLFS_NAME, (int)pid);
			kill(pid, SIGKILL);
			deadline = mono_now_us() + END_TIMEOUT_US;
			while (is_our_daemon(pid, mnt) && mono_now_us() < deadline)
				sleep_us(10000);
		}
		if (is_our_daemon(pid, mnt)) {
			log_error("%s %d of %s does not end", STALLFS_NAME, (int)pid, z->name);
			ok = false;
		}
	}
	/* A killed daemon leaves a dead mount behind: it must go too. */
	if (mount_device(mnt, NULL, 0) && umount2(mnt, MNT_DETACH) != 0 && errno != EINVAL) {
		log_error("cannot unmount %s: %s", mnt, strerror(errno));
		ok = false;
	}
	if (zone_file(z, "stallfs.sock", file, sizeof(file)))
		unlink(file);
	if (zone_file(z, "stallfs.pid", file, sizeof(file)))
		unlink(file);
	return ok;
}

static const char *scope_word(const struct io_fault *f)
{
	return f->wal_only ? "wal" : "all";
}

bool stall_io_fault(struct driver *d, const char *member, const struct io_fault *f)
{
	int i = local_find_zone(d, member);
	char cmd[64], reply[256];
	bool gone;

	if (i < 0) {
		log_error("storage-stall: no member %s", member);
		return false;
	}
	if (!d->spec.fuse) {
		log_error("storage-stall needs cluster.fuse: true, and cluster '%s' was provisioned "
			  "without it (add `fuse: true` under cluster:, then bise down and run again)",
			  d->spec.name);
		return false;
	}
	switch (f->mode) {
	case IO_STALL:
		str_format(cmd, sizeof(cmd), "stall %s", scope_word(f));
		break;
	case IO_DELAY:
		str_format(cmd, sizeof(cmd), "delay %lld %s", (long long)f->delay_us, scope_word(f));
		break;
	case IO_ERROR:
		str_format(cmd, sizeof(cmd), "eio %s", scope_word(f));
		break;
	default:
		log_error("storage-stall: unknown mode %d", (int)f->mode);
		return false;
	}
	if (!control(&d->zones[i], cmd, reply, sizeof(reply), &gone)) {
		log_error("storage-stall on %s: %s%s", member, reply,
			  gone ? " (its bise-stallfs is not running)" : "");
		return false;
	}
	/* The daemon answers once it has switched mode: every operation from then on obeys it. */
	local_effect_note(d, mono_now_us(), "stallfs-ack");
	return true;
}

bool stall_io_heal(struct driver *d, const char *member)
{
	int i = local_find_zone(d, member);
	char reply[256];
	bool gone;

	if (i < 0) {
		log_error("storage-stall: no member %s", member);
		return false;
	}
	if (control(&d->zones[i], "heal", reply, sizeof(reply), &gone)) {
		local_effect_note(d, mono_now_us(), "stallfs-ack");
		return true;
	}
	if (gone) {
		log_debug("storage-stall heal on %s: no daemon, nothing stalled (%s)", member, reply);
		return true;
	}
	log_error("storage-stall heal on %s: %s", member, reply);
	return false;
}

bool stall_sweep(struct driver *d)
{
	bool ok = true;

	for (int i = 0; i < d->nzones; i++)
		if (!stall_release(d, i))
			ok = false;
	return ok;
}
