/* common.c - helpers shared by the integration tests (see common.h). */
#include "common.h"

#include "run_setup.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool itest_ci(void)
{
	const char *ci = getenv("CI");

	return ci && *ci && strcmp(ci, "0") != 0 && strcmp(ci, "false") != 0;
}

static void test_cannot_run_in_ci(void)
{
	CU_FAIL("an integration test must run in CI (root and BISE_BINARY needed): not skipping");
}

static void test_skipped(void)
{
	fprintf(stderr, "\n  SKIP: needs root (and BISE_BINARY)\n");
}

bool itest_gate(const char *suite, bool needs_binary)
{
	bool root = geteuid() == 0, binary = !needs_binary || itest_binary();
	CU_pSuite s;

	if (root && binary)
		return true;
	fprintf(stderr, "%s: needs root%s%s\n", suite, needs_binary ? " and BISE_BINARY" : "",
		itest_ci() ? " (CI: failing)" : ", skipped");
	s = CU_add_suite(suite, NULL, NULL);
	if (itest_ci())
		CU_add_test(s, "needs root (CI: a failure)", test_cannot_run_in_ci);
	else
		CU_add_test(s, "skipped (not root)", test_skipped);
	return false;
}

void itest_cannot_run(const char *why)
{
	fprintf(stderr, "\n  cannot run: %s\n", why);
	if (itest_ci())
		CU_FAIL("an integration test that cannot run is a failure in CI");
}

bool itest_dirs_make(struct itest_dirs *d, const char *prefix)
{
	const char *work;

	memset(d, 0, sizeof(*d));
	if (!str_format(d->work, sizeof(d->work), "/tmp/%s-XXXXXX", prefix) || !(work = mkdtemp(d->work))) {
		d->work[0] = '\0';
		return false;
	}
	/* mkdtemp's result, not d->work: gcc -O1 with sanitizers cannot tell it is non-NULL. */
	str_format(d->state, sizeof(d->state), "%s/state", work);
	str_format(d->out, sizeof(d->out), "%s/run", work);
	return chmod(d->work, 0755) == 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int itest_dirs_remove(struct itest_dirs *d)
{
	int r;

	if (!d->work[0])
		return 0;
	r = nftw(d->work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	d->work[0] = '\0';
	return r;
}

const char *itest_binary(void)
{
	const char *b = getenv("BISE_BINARY");

	return b && *b ? b : NULL;
}

/* Fork and exec bise with args; the child's output to log_path when given. */
static pid_t start_bise(const char *const *args, const char *log_path)
{
	const char *argv[32];
	const char *binary = itest_binary();
	int n = 0;
	pid_t pid;

	if (!binary)
		return -1;
	argv[n++] = binary;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (log_path) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execv(binary, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int itest_run_bise(const char *const *args)
{
	pid_t pid = start_bise(args, NULL);
	int status;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t itest_spawn_bise(const char *const *args, const char *log_path)
{
	return start_bise(args, log_path);
}

pid_t itest_spawn_run(const struct itest_dirs *d, const char *scenario)
{
	const char *args[] = { "run", "--state-dir", d->state, "--out", d->out, scenario, NULL };
	char log_path[400];

	str_format(log_path, sizeof(log_path), "%s/runner.log", d->work);
	return itest_spawn_bise(args, log_path);
}

void itest_kill(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

bool itest_capture(char *const argv[], bool with_stderr, char *out, size_t len)
{
	int pfd[2];
	size_t used = 0;
	pid_t pid;
	ssize_t r;

	out[0] = '\0';
	if (pipe(pfd) != 0)
		return false;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (with_stderr)
			dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (used < len - 1) {
		r = read(pfd[0], out + used, len - 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
	}
	out[used] = '\0';
	close(pfd[0]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return pid > 0;
}

bool itest_scenario_setup(struct itest_dirs *d, const char *prefix, const char *file, const char *text,
			  char *path, size_t len, struct scenario *sc)
{
	return itest_dirs_make(d, prefix) && run_setup_scenario(d->work, file, text, path, len, sc);
}

int itest_heal(const char *state, char *out, size_t len)
{
	char cmd[700];
	const char *binary = itest_binary();
	size_t got;
	FILE *heal;

	out[0] = '\0';
	str_format(cmd, sizeof(cmd), "%s heal --state-dir %s 2>&1", binary ? binary : "bise", state);
	heal = popen(cmd, "r");
	if (!heal)
		return -1;
	got = fread(out, 1, len - 1, heal);
	out[got] = '\0';
	return pclose(heal);
}

bool itest_cmdline(const char *pid, char *buf, size_t len)
{
	char path[300];
	size_t got;
	FILE *f;

	str_format(path, sizeof(path), "/proc/%s/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	got = fread(buf, 1, len - 1, f);
	fclose(f);
	for (size_t i = 0; i < got; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[got] = '\0';
	return true;
}

void itest_conninfo(const struct member *m, char *buf, size_t len)
{
	str_format(buf, len, "host=%s port=%d user=%s password=%s dbname=%s connect_timeout=5",
		   m->endpoint.host, m->endpoint.port, m->endpoint.user, m->endpoint.password,
		   m->endpoint.dbname);
}

pid_t itest_spawn_as(char *const argv[], const char *dir, const char *log_path, uid_t uid, gid_t gid,
		     bool own_group)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		/* Its own group lets a test SIGKILL every process of a server at once. */
		if ((own_group && setpgid(0, 0) != 0) || chdir(dir) != 0 || setgroups(0, NULL) != 0 ||
		    setgid(gid) != 0 || setuid(uid) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

void itest_spec(struct cluster_spec *s, const char *name, const char *subnet)
{
	static const char *const zones[] = { "geneva", "lucerne", "gland" };

	memset(s, 0, sizeof(*s));
	str_copy(s->name, sizeof(s->name), name);
	if (subnet)
		str_copy(s->subnet, sizeof(s->subnet), subnet);
	s->nzones = 3;
	for (int i = 0; i < 3; i++)
		str_copy(s->zones[i], ZONE_NAME_LEN, zones[i]);
	s->replication = REPLICATION_ASYNC;
	s->dcs_api = DCS_ETCD_V3;
	s->ttl_us = 10 * 1000000LL;
	s->loop_wait_us = 1 * 1000000LL;
	s->retry_timeout_us = 4 * 1000000LL;
	s->restart_delay_us = 2 * 1000000LL;
	s->maximum_lag_on_failover_bytes = 1024 * 1024;
}

struct driver *itest_cluster_open(const struct cluster_spec *spec, const char *state_root,
				  bool keep_running)
{
	struct driver *drv;

	if (!mkdir_p(state_root, 0755))
		return NULL;
	drv = driver_local.open(spec, state_root, NULL);
	if (!drv) {
		fprintf(stderr, "\n  cannot open cluster %s under %s\n", spec->name, state_root);
		return NULL;
	}
	/* A leftover of an earlier, interrupted run would make up fail: clear it. */
	if (!keep_running && driver_local.exists(drv))
		driver_local.down(drv);
	return drv;
}

void itest_cluster_close(struct driver **drv, bool sweep, bool down)
{
	if (!*drv)
		return;
	if (sweep)
		driver_local.sweep(*drv);
	if (down)
		driver_local.down(*drv); /* idempotent, and clears a half-made cluster too */
	driver_local.close(*drv);
	*drv = NULL;
}
