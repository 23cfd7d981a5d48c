/*
 * proc.c - running commands, spawning daemons into a zone (network namespace, cgroup,
 * postgres user, clean environment) and killing them by cgroup or PID.
 */
#include "local.h"

#include "daemon.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv (absolute path), capture stdout+stderr into out; exit status or -1. */
int proc_run(char *const argv[], char *out, size_t outlen)
{
	static char *const empty_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	int pfd[2], status;
	size_t used = 0;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		/* Its own process group: a Ctrl-C meant for bise must not kill a revert midway. */
		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execve(argv[0], argv, empty_env);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char chunk[1024];
		ssize_t r = read(pfd[0], chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out && outlen > 1 && used < outlen - 1) {
			size_t take = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;

			memcpy(out + used, chunk, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool proc_user(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(LOCAL_RUN_USER);

	if (!pw)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

bool proc_chown_user(const char *path)
{
	uid_t uid;
	gid_t gid;

	if (!proc_user(&uid, &gid) || chown(path, uid, gid) != 0) {
		log_error("cannot give %s to %s: %s", path, LOCAL_RUN_USER, strerror(errno));
		return false;
	}
	return true;
}

/* What the daemon was doing when it failed (the 1-based result of spawn_prepare). */
static const char *const spawn_steps[] = { "join the cgroup", "enter the network namespace",
					   ("switch to user " LOCAL_RUN_USER),
					   "enter its zone directory" };

/* Everything the daemon needs, opened and looked up before the fork. */
struct spawn_ctx {
	int nsfd, cgfd;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
	const char *dir;
};

/* In the daemon before exec: only async-signal-safe calls. */
static int spawn_prepare(void *arg)
{
	const struct spawn_ctx *c = arg;

	if (write(c->cgfd, "0", 1) != 1)
		return 1;
	if (setns(c->nsfd, CLONE_NEWNET) != 0)
		return 2;
	if (setgroups((size_t)c->ngroups, c->groups) != 0 || setgid(c->gid) != 0 || setuid(c->uid) != 0)
		return 3;
	if (chdir(c->dir) != 0)
		return 4;
	return 0;
}

/*
 * Start argv as a daemon in zone z: network namespace of the zone, its own session, the
 * cgroup given, user postgres, clean environment, output appended to log_path. The daemon
 * is double-forked so it is never our child (no zombies); errors before exec come back.
 */
bool proc_spawn(const struct local_zone *z, const char *cgroup, const char *log_path,
		char *const argv[], char *why, size_t why_len)
{
	char nspath[128], cgprocs[LOCAL_PATH_LEN + 16], home[LOCAL_PATH_LEN + 8];
	char *envp[] = { home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	gid_t groups[64];
	struct spawn_ctx c = { .groups = groups, .ngroups = 64, .dir = z->dir };
	struct daemon_spec spec = { .argv = argv, .envp = envp, .prepare = spawn_prepare,
				    .prepare_arg = &c, .prepare_steps = spawn_steps,
				    .nprepare_steps = (int)(sizeof(spawn_steps) / sizeof(spawn_steps[0])) };
	char reason[512];
	int logfd;
	pid_t pid;
	bool ok = false;

	if (!proc_user(&c.uid, &c.gid)) {
		str_format(why, why_len, "no user %s", LOCAL_RUN_USER);
		return false;
	}
	if (getgrouplist(LOCAL_RUN_USER, c.gid, groups, &c.ngroups) < 0)
		c.ngroups = 0;
	str_format(nspath, sizeof(nspath), "/run/netns/%s", z->netns);
	str_format(cgprocs, sizeof(cgprocs), "%s/cgroup.procs", cgroup);
	str_format(home, sizeof(home), "HOME=%s", z->dir);
	c.nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	c.cgfd = open(cgprocs, O_WRONLY | O_CLOEXEC);
	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	spec.log_fd = logfd;
	if (c.nsfd < 0 || c.cgfd < 0 || logfd < 0) {
		str_format(why, why_len, "cannot open %s: %s",
			   c.nsfd < 0 ? nspath : c.cgfd < 0 ? cgprocs : log_path, strerror(errno));
	} else if (fchown(logfd, c.uid, c.gid) != 0) {
		str_format(why, why_len, "cannot chown %s: %s", log_path, strerror(errno));
	} else if (!daemon_start(&spec, &pid, reason, sizeof(reason))) {
		/* The zone directory named: a chdir failure is a state root postgres cannot reach. */
		str_format(why, why_len, "%s in %s (zone directory %s; every directory above it must "
			   "be searchable by %s)", reason, z->netns, z->dir, LOCAL_RUN_USER);
	} else {
		ok = true;
	}
	if (c.nsfd >= 0)
		close(c.nsfd);
	if (c.cgfd >= 0)
		close(c.cgfd);
	if (logfd >= 0)
		close(logfd);
	return ok;
}

/* The first cgroup2 mount in /proc/mounts. */
bool cg_find_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[1024], dev[256], dir[512], type[64];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
		    strcmp(type, "cgroup2") == 0) {
			found = str_copy(out, len, dir);
			break;
		}
	fclose(f);
	return found;
}

bool cg_create(const char *path)
{
	return mkdir_p(path, 0755);
}

/* Processes in the cgroup and its children; -1 if it does not exist. */
int cg_nprocs(const char *path)
{
	char file[LOCAL_PATH_LEN + 32], *text, *p;
	int n = 0;

	/* cgroup.events "populated" covers the subtree. */
	str_format(file, sizeof(file), "%s/cgroup.events", path);
	text = file_read_all(file, NULL);
	if (!text)
		return -1;
	p = strstr(text, "populated ");
	if (p && p[10] == '1')
		n = 1;
	free(text);
	if (n == 0)
		return 0;
	str_format(file, sizeof(file), "%s/cgroup.procs", path);
	text = file_read_all(file, NULL);
	if (!text)
		return n;
	n = 0;
	for (p = text; *p; p++)
		if (*p == '\n')
			n++;
	free(text);
	return n > 0 ? n : 1;
}

/* The start time (clock ticks since boot) and state of a process; false when it is gone. */
static bool proc_stat_of(pid_t pid, unsigned long long *start, char *state)
{
	char file[64], *text, *p;
	bool ok = false;

	str_format(file, sizeof(file), "/proc/%d/stat", (int)pid);
	text = file_read_all(file, NULL);
	if (!text)
		return false;
	/* After the command name in parentheses (which may hold anything): state is field 3, starttime 22. */
	p = strrchr(text, ')');
	if (p && sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			state, start) == 2)
		ok = true;
	free(text);
	return ok;
}

int cg_tree_pids(const char *path, struct proc_id *out, int n, int max)
{
	char file[LOCAL_PATH_LEN + 32], *text, *p, *end;
	struct dirent *e;
	DIR *dir;

	str_format(file, sizeof(file), "%s/cgroup.procs", path);
	text = file_read_all(file, NULL);
	for (p = text; p && *p && n < max; p = end) {
		long pid = strtol(p, &end, 10);
		char state;

		if (end == p)
			break;
		while (*end == '\n')
			end++;
		out[n].pid = (pid_t)pid;
		if (pid > 0 && proc_stat_of(out[n].pid, &out[n].start, &state))
			n++;
	}
	free(text);
	dir = opendir(path);
	while (dir && (e = readdir(dir)) && n < max) {
		char sub[LOCAL_PATH_LEN];

		/* Child cgroups are the directories; the files are the controllers' knobs. */
		if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
		    str_format(sub, sizeof(sub), "%s/%s", path, e->d_name))
			n = cg_tree_pids(sub, out, n, max);
	}
	if (dir)
		closedir(dir);
	return n;
}

bool proc_wait_gone(const struct proc_id *ids, int n, int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;
	unsigned long long start;
	char state = '?';
	for (;;) {
		int left = 0;

		for (int i = 0; i < n; i++)
			if (proc_stat_of(ids[i].pid, &start, &state) && start == ids[i].start)
				left++;
		if (left == 0)
			return true;
		if (mono_now_us() > deadline)
			break;
		sleep_us(10000);
	}
	for (int i = 0; i < n; i++)
		if (proc_stat_of(ids[i].pid, &start, &state) && start == ids[i].start)
			log_error("process %d still there after SIGKILL (state %c%s)", (int)ids[i].pid,
				  state, state == 'Z' ? ": exited, not yet reaped by its parent" : "");
	return false;
}

/* The value of key in one reading of cgroup.events ("populated 1\nfrozen 0\n"); -1 absent. */
static int events_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return p[klen + 1] - '0';
	return -1;
}

int cg_events_wait(const char *path, const char *key, int want, int64_t timeout_us,
		   int64_t *seen_us)
{
	char file[LOCAL_PATH_LEN + 32], text[256];
	int64_t deadline = mono_now_us() + timeout_us;
	int fd, found = 0;

	str_format(file, sizeof(file), "%s/cgroup.events", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		/* Reading (from the start) re-arms the notification: a change after it wakes poll. */
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
		int64_t now = mono_now_us();
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		int64_t left = deadline - now;

		if (n < 0) {
			found = -1;
			break;
		}
		text[n] = '\0';
		if (events_value(text, key) == want) {
			if (seen_us)
				*seen_us = now;
			found = 1;
			break;
		}
		if (left <= 0)
			break;
		/* The notification is the clock; the 10 ms cap only guards against a missed one. */
		if (poll(&pfd, 1, left > 10000 ? 10 : (int)((left + 999) / 1000)) < 0 && errno != EINTR) {
			found = -1;
			break;
		}
	}
	close(fd);
	return found;
}

/* SIGKILL everything in the cgroup subtree and wait until it is empty. */
bool cg_kill(const char *path, int64_t timeout_us, int64_t *gone_us)
{
	char file[LOCAL_PATH_LEN + 32];
	int fd;

	if (cg_nprocs(path) <= 0) {
		if (gone_us)
			*gone_us = mono_now_us();
		return true;
	}
	str_format(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		log_error("cannot kill cgroup %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	/* "populated 0": every process of the subtree has exited (the kernel's own count). */
	if (cg_events_wait(path, "populated", 0, timeout_us, gone_us) != 1) {
		log_error("processes of cgroup %s still alive after SIGKILL", path);
		return false;
	}
	return true;
}

/* Remove a cgroup and its empty children (depth first). */
void cg_remove(const char *path)
{
	/* Our tree below a zone is zone/{etcd,pg,pg/paused,awake}. */
	static const char *const leaves[] = { "etcd", "pg/" LOCAL_CG_PAUSED, "pg", LOCAL_CG_AWAKE,
					      NULL };
	char sub[LOCAL_PATH_LEN + 64];

	for (int i = 0; leaves[i]; i++) {
		str_format(sub, sizeof(sub), "%s/%s", path, leaves[i]);
		rmdir(sub);
	}
	if (rmdir(path) != 0 && errno != ENOENT)
		log_debug("cannot remove cgroup %s: %s", path, strerror(errno));
}

/* SIGKILL only the postmaster of zone z (first line of postmaster.pid). */
/*
 * SIGKILL pid and wait until it has exited (its pidfd becomes readable then, before it is
 * reaped): *gone_us is that moment, 0 when the kernel has no pidfd (the signal was sent).
 */
static bool kill_and_wait(pid_t pid, int64_t *gone_us, char *why, size_t why_len)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	*gone_us = 0;
	if (kill(pid, SIGKILL) != 0) {
		str_format(why, why_len, "kill %ld: %s", (long)pid, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (fd < 0)
		return true;
	if (poll(&pfd, 1, 2000) == 1)
		*gone_us = mono_now_us();
	else
		log_warn("postmaster %ld not gone 2 s after SIGKILL", (long)pid);
	close(fd);
	return true;
}

bool proc_kill_postmaster(const struct local_zone *z, int64_t *gone_us, char *why, size_t why_len)
{
	char file[LOCAL_PATH_LEN + 32], cmdline[LOCAL_PATH_LEN + 32], *text, *end, *cg;
	size_t cglen, pglen = strlen(z->cg_pg);
	bool ours;
	long pid;

	str_format(file, sizeof(file), "%s/pgdata/postmaster.pid", z->dir);
	text = file_read_all(file, NULL);
	if (!text) {
		str_format(why, why_len, "no %s: PostgreSQL is not running in %s", file, z->name);
		return false;
	}
	errno = 0;
	pid = strtol(text, &end, 10);
	ours = errno == 0 && pid > 1 && (*end == '\n' || *end == '\0');
	free(text);
	if (!ours) {
		str_format(why, why_len, "bad pid in %s", file);
		return false;
	}
	/* Guard against a reused PID: it must be a process of this zone's pg cgroup. */
	str_format(cmdline, sizeof(cmdline), "/proc/%ld/cgroup", pid);
	text = file_read_all(cmdline, NULL);
	cg = text ? strstr(text, "0::/") : NULL;
	ours = false;
	if (cg) {
		cg += 3;
		cglen = strcspn(cg, "\n");
		/* A paused postmaster is in the pg cgroup's child (procfault.c). */
		if (cglen > strlen("/" LOCAL_CG_PAUSED) &&
		    memcmp(cg + cglen - strlen("/" LOCAL_CG_PAUSED), "/" LOCAL_CG_PAUSED,
			   strlen("/" LOCAL_CG_PAUSED)) == 0)
			cglen -= strlen("/" LOCAL_CG_PAUSED);
		ours = cglen > 1 && cglen <= pglen && memcmp(z->cg_pg + pglen - cglen, cg, cglen) == 0;
	}
	if (!ours) {
		free(text);
		str_format(why, why_len, "postmaster %ld of %s is not running", pid, z->name);
		return false;
	}
	free(text);
	return kill_and_wait((pid_t)pid, gone_us, why, why_len);
}

/* The last lines of a log file (at most len-1 bytes), for error messages. */
void proc_log_tail(const char *path, char *out, size_t len)
{
	size_t n = 0;
	char *text = file_read_all(path, &n), *start;

	out[0] = '\0';
	if (!text)
		return;
	start = n + 1 > len ? text + n - (len - 1) : text;
	str_copy(out, len, start);
	free(text);
}
