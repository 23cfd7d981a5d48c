/*
 * netfault_delay.c - the bise-netdelay processes behind the latency fault: one per zone
 * namespace and fault, double-forked so they are never our zombies, their PIDs listed in
 * <cluster dir>/netfault/<id>.pids before they bind their queue. Stopping one is SIGTERM
 * (it lets the packets it holds go), then SIGKILL; a PID is only signalled after
 * /proc/<pid>/exe shows it is a bise-netdelay serving one of this cluster's namespaces.
 */
#include "netfault.h"

#include "daemon.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NF_NETDELAY "bise-netdelay"
#define NF_READY_TIMEOUT_MS 5000
#define NF_STOP_TIMEOUT_US (2 * 1000000LL)

/* The netns paths of this cluster's zones, for telling its netdelays from others'. */
static int zone_nspaths(const struct driver *d, char paths[][96], const char **ptrs)
{
	for (int i = 0; i < d->nzones; i++) {
		str_format(paths[i], 96, "/run/netns/%s", d->zones[i].netns);
		ptrs[i] = paths[i];
	}
	return d->nzones;
}

bool nf_helper_find(const char *name, const char *env_name, char *out, size_t len)
{
	static const char *const dirs[] = { "/usr/local/lib/bise", "/usr/local/bin", "/usr/lib/bise",
					    "/usr/bin", NULL };
	const char *env = getenv(env_name);
	char self[LOCAL_PATH_LEN];
	ssize_t n;

	if (env && *env) {
		str_copy(out, len, env);
		return access(out, X_OK) == 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (str_format(out, len, "%s/%s", self, name) && access(out, X_OK) == 0)
				return true;
		}
	}
	for (int i = 0; dirs[i]; i++)
		if (str_format(out, len, "%s/%s", dirs[i], name) && access(out, X_OK) == 0)
			return true;
	return false;
}

/* Is pid a bise-netdelay (and, with nspath, one serving that namespace)? */
static bool is_netdelay(pid_t pid, const char *const *nspaths, int npaths)
{
	char path[64], exe[LOCAL_PATH_LEN], cmd[2048];
	const char *base;
	ssize_t n;
	FILE *f;
	size_t r;

	str_format(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strncmp(base, NF_NETDELAY, strlen(NF_NETDELAY)) != 0)
		return false;
	if (!nspaths)
		return true;
	str_format(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	r = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[r] = '\0';
	/* Arguments are NUL-separated: find "--netns" and compare the next one exactly. */
	for (size_t i = 0; i < r; i += strlen(cmd + i) + 1)
		if (strcmp(cmd + i, "--netns") == 0 && i + 8 < r)
			for (int k = 0; k < npaths; k++)
				if (strcmp(cmd + i + 8, nspaths[k]) == 0)
					return true;
	return false;
}

/* Gone, or a zombie waiting for its parent. */
static bool pid_gone(pid_t pid)
{
	char path[64], *stat, *paren;
	bool gone;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	str_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = file_read_all(path, NULL);
	if (!stat)
		return true;
	paren = strrchr(stat, ')');
	gone = paren && paren[1] == ' ' && paren[2] == 'Z';
	free(stat);
	return gone;
}

/* SIGTERM (it lets held packets go), SIGKILL after a while. */
static bool netdelay_stop(pid_t pid)
{
	int64_t deadline = mono_now_us() + NF_STOP_TIMEOUT_US;

	if (kill(pid, SIGTERM) != 0)
		return errno == ESRCH;
	waitpid(pid, NULL, WNOHANG); /* reaps it if it happens to be our child */
	while (!pid_gone(pid)) {
		if (mono_now_us() > deadline) {
			kill(pid, SIGKILL);
			deadline = mono_now_us() + NF_STOP_TIMEOUT_US;
			while (!pid_gone(pid) && mono_now_us() < deadline)
				sleep_us(10000);
			if (!pid_gone(pid)) {
				log_error("network fault: netdelay %d does not exit", (int)pid);
				return false;
			}
			break;
		}
		sleep_us(5000);
		waitpid(pid, NULL, WNOHANG);
	}
	return true;
}

bool netdelay_stop_fault(const struct driver *d, const char *id)
{
	char paths[DRIVER_MAX_MEMBERS][96], path[LOCAL_PATH_LEN + 64];
	const char *nspaths[DRIVER_MAX_MEMBERS];
	int npaths = zone_nspaths(d, paths, nspaths);
	char *text, *line, *save = NULL;
	bool ok = true;

	str_format(path, sizeof(path), "%s/netfault/%s.pids", d->dir, id);
	text = file_read_all(path, NULL);
	if (!text)
		return true;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long pid = strtol(line, &end, 10);

		if (end == line || pid <= 1)
			continue;
		if (is_netdelay((pid_t)pid, nspaths, npaths) && !netdelay_stop((pid_t)pid))
			ok = false;
	}
	free(text);
	if (ok) {
		unlink(path);
		for (int i = 0; i < d->nzones; i++) {
			str_format(path, sizeof(path), "%s/netfault/%s-%s.log", d->dir, id,
				   d->zones[i].name);
			unlink(path);
		}
	}
	return ok;
}

/* Its PID goes to the fault's .pids file before it binds its queue: a sweep can find it. */
static void record_pid(pid_t pid, void *arg)
{
	char line[32];

	str_format(line, sizeof(line), "%d\n", (int)pid);
	nf_record_line(arg, line);
}

bool netdelay_start(struct driver *d, const char *id, const struct local_zone *z, int queue,
			   int64_t delay_us, int64_t jitter_us)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	char bin[LOCAL_PATH_LEN], nspath[96], qs[16], ds[24], js[24], tag[64], fdarg[8];
	char pids[LOCAL_PATH_LEN + 64], logp[LOCAL_PATH_LEN + 96], why[512];
	char *argv[] = { bin, "--netns", nspath, "--queue", qs, "--delay-us", ds, "--jitter-us", js,
			 "--ready-fd", fdarg, "--tag", tag, NULL };
	struct daemon_spec spec = { .argv = argv, .envp = envp, .ready_word = "ok",
				    .ready_timeout_ms = NF_READY_TIMEOUT_MS, .started = record_pid,
				    .started_arg = pids };
	pid_t pid;
	bool ok;

	if (!nf_helper_find(NF_NETDELAY, "BISE_NETDELAY", bin, sizeof(bin))) {
		log_error("latency: %s not found (next to this program, $BISE_NETDELAY, "
			  "/usr/local/lib/bise): build the bise-netdelay target", NF_NETDELAY);
		return false;
	}
	str_format(nspath, sizeof(nspath), "/run/netns/%s", z->netns);
	str_format(qs, sizeof(qs), "%d", queue);
	str_format(ds, sizeof(ds), "%" PRId64, delay_us);
	str_format(js, sizeof(js), "%" PRId64, jitter_us);
	str_format(tag, sizeof(tag), NF_COMMENT "%s", id);
	str_format(fdarg, sizeof(fdarg), "%d", DAEMON_READY_FD);
	str_format(pids, sizeof(pids), "%s/netfault/%s.pids", d->dir, id);
	str_format(logp, sizeof(logp), "%s/netfault/%s-%s.log", d->dir, id, z->name);
	spec.log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (spec.log_fd < 0) {
		log_error("latency: cannot prepare %s: %s", logp, strerror(errno));
		return false;
	}
	ok = daemon_start(&spec, &pid, why, sizeof(why));
	close(spec.log_fd);
	if (!ok) {
		char tail[600];

		proc_log_tail(logp, tail, sizeof(tail));
		log_error("latency: %s did not start in %s (%s):\n%s", NF_NETDELAY, z->netns, why, tail);
		if (pid > 0 && is_netdelay(pid, NULL, 0))
			netdelay_stop(pid);
		return false;
	}
	return true;
}

bool netdelay_stop_all(const struct driver *d)
{
	char paths[DRIVER_MAX_MEMBERS][96];
	const char *ptrs[DRIVER_MAX_MEMBERS];
	int np = zone_nspaths(d, paths, ptrs);
	DIR *proc = opendir("/proc");
	struct dirent *e;
	bool ok = true;

	if (!proc) {
		log_error("network fault sweep: cannot read /proc: %s", strerror(errno));
		return false;
	}
	while ((e = readdir(proc))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (end == e->d_name || *end || pid <= 1)
			continue;
		if (is_netdelay((pid_t)pid, ptrs, np) && !netdelay_stop((pid_t)pid))
			ok = false;
	}
	closedir(proc);
	return ok;
}
