/*
 * test_workload.c - the workload against a real PostgreSQL 15 on loopback: outcomes
 * across a postmaster crash and restart, read-back without lost acknowledged writes,
 * unreachable members that must not block writers, and the achieved write rates.
 *
 * Needs root (initdb runs as the postgres user). Outside CI a non-root run skips with
 * a message; with CI=true it fails, so a CI job cannot pass without running it.
 */
#include "common.h"
#include "event.h"
#include "util.h"
#include "workload.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define PG_PORT 55432
#define PG_PORT_TEXT "55432"

static char tmpdir[256];
static char datadir[300];
static pid_t postmaster = -1;
static bool ready;
static uid_t pg_uid;
static gid_t pg_gid;

/* Drop to postgres and exec in tmpdir, output to logname there; returns the child's PID. */
static pid_t spawn_as_postgres(char *const argv[], const char *logname)
{
	char logpath[512];

	str_format(logpath, sizeof(logpath), "%s/%s", tmpdir, logname);
	return itest_spawn_as(argv, tmpdir, logpath, pg_uid, pg_gid, false);
}

static bool run_initdb(void)
{
	char *argv[] = {PG_BIN "/initdb", "-D", datadir, "-A", "trust", "-U", "postgres", "-E", "UTF8",
			"--locale=C", "--no-sync", NULL};
	pid_t pid = spawn_as_postgres(argv, "initdb.log");
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The parent of process pid (a /proc entry name), 0 when unreadable. */
static long parent_of(const char *pid)
{
	char path[300], buf[512], *p;
	long ppid = 0;
	FILE *f;

	str_format(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %ld", &ppid);
	fclose(f);
	return ppid;
}

/* Orphaned backends of a killed postmaster are reparented to us (subreaper): reap them. */
static int reap_and_count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int left = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && parent_of(de->d_name) == (long)getpid())
			left++;
	closedir(d);
	return left;
}

static void kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	/* Only our own descendants (subreaper): a PID, never a name. */
	while ((de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && parent_of(de->d_name) == (long)getpid())
			kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL);
	closedir(d);
}

static bool wait_no_children(int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;

	while (reap_and_count_children() > 0) {
		if (mono_now_us() >= deadline)
			return false;
		sleep_us(20000);
	}
	return true;
}

static bool accepting(void)
{
	return PQping("host=127.0.0.1 port=" PG_PORT_TEXT " user=postgres dbname=postgres connect_timeout=2") ==
	       PQPING_OK;
}

/* Start the postmaster and wait until it accepts connections; retried while old shmem lingers. */
static bool start_postgres(void)
{
	char *argv[] = {PG_BIN "/postgres", "-D", datadir, "-k", tmpdir, "-p", PG_PORT_TEXT,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=60", NULL};
	int64_t deadline = mono_now_us() + 30000000;

	while (mono_now_us() < deadline) {
		int status;

		postmaster = spawn_as_postgres(argv, "postgres.log");
		if (postmaster < 0)
			return false;
		while (mono_now_us() < deadline) {
			if (waitpid(postmaster, &status, WNOHANG) == postmaster) {
				postmaster = -1;
				break;
			}
			if (accepting())
				return true;
			sleep_us(50000);
		}
		sleep_us(200000);
	}
	return false;
}

/* The postmaster's PID as PostgreSQL records it (first line of postmaster.pid). */
static pid_t pidfile_pid(void)
{
	char path[400], *text, *end;
	long pid;

	str_format(path, sizeof(path), "%s/postmaster.pid", datadir);
	text = file_read_all(path, NULL);
	if (!text)
		return -1;
	pid = strtol(text, &end, 10);
	free(text);
	return end != text && pid > 0 ? (pid_t)pid : -1;
}

static void stop_postgres(void)
{
	if (postmaster > 0) {
		int64_t deadline = mono_now_us() + 10000000;

		/* SIGQUIT: immediate shutdown that still removes the shared memory. */
		kill(postmaster, SIGQUIT);
		while (waitpid(postmaster, NULL, WNOHANG) == 0 && mono_now_us() < deadline)
			sleep_us(20000);
		if (mono_now_us() >= deadline) {
			kill(postmaster, SIGKILL);
			waitpid(postmaster, NULL, 0);
		}
		postmaster = -1;
	}
	if (!wait_no_children(5000000)) {
		kill_children();
		wait_no_children(5000000);
	}
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void cleanup_all(void)
{
	stop_postgres();
	if (tmpdir[0]) {
		nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		tmpdir[0] = '\0';
	}
}

static int suite_init(void)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam("postgres");
	if (!pw) {
		fprintf(stderr, "test_workload: no postgres user\n");
		return 1;
	}
	pg_uid = pw->pw_uid;
	pg_gid = pw->pw_gid;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	atexit(cleanup_all);
	str_copy(tmpdir, sizeof(tmpdir), "/tmp/bise-wl.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return 1;
	}
	str_format(datadir, sizeof(datadir), "%s/data", tmpdir);
	/* Another server on the port would answer our pings and our writes. */
	if (accepting()) {
		fprintf(stderr, "test_workload: something already serves 127.0.0.1:%d\n", PG_PORT);
		cleanup_all();
		return 1;
	}
	if (chown(tmpdir, pg_uid, pg_gid) != 0 || !run_initdb() || !start_postgres()) {
		fprintf(stderr, "test_workload: cannot start PostgreSQL (logs in %s)\n", tmpdir);
		cleanup_all();
		return 1;
	}
	ready = true;
	return 0;
}

static int suite_clean(void)
{
	cleanup_all();
	return 0;
}

static bool need_pg(void)
{
	const char *ci = getenv("CI");

	if (ready)
		return true;
	if (ci && strcmp(ci, "true") == 0) {
		CU_FAIL("test_workload needs root to run PostgreSQL (CI=true: not skipping)");
		return false;
	}
	printf("\n  SKIPPED: test_workload needs root (initdb/postgres run as the postgres user)\n");
	return false;
}

static void set_member(struct member *m, const char *name, int port)
{
	memset(m, 0, sizeof(*m));
	str_copy(m->name, sizeof(m->name), name);
	str_copy(m->endpoint.host, sizeof(m->endpoint.host), "127.0.0.1");
	m->endpoint.port = port;
	str_copy(m->endpoint.user, sizeof(m->endpoint.user), "postgres");
	str_copy(m->endpoint.dbname, sizeof(m->endpoint.dbname), "postgres");
}

/* A loopback port; when listening, connections complete the handshake but are never accepted. */
static int loopback_socket(bool listening, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || (listening && listen(fd, 512) != 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	if (!listening) {
		close(fd);
		return 0;
	}
	return fd;
}

static struct event_log *open_log(const char *name, char *path, size_t len)
{
	str_format(path, len, "%s/%s", tmpdir, name);
	return event_log_open(path, mono_now_us());
}

static struct workload_spec make_spec(int writers, double rate)
{
	struct workload_spec s;

	memset(&s, 0, sizeof(s));
	s.writers = writers;
	s.rate_per_writer = rate;
	s.connect_timeout_us = 500000;
	s.write_timeout_us = 1000000;
	return s;
}

/* Per-writer outcome of each seq, from a loaded log; -1 = never attempted. */
struct outcomes {
	int nw;
	int64_t maxseq;
	signed char *out; /* [w * (maxseq + 1) + seq] */
};

static void outcomes_build(const struct events *ev, int writers, struct outcomes *o)
{
	o->nw = writers;
	o->maxseq = 0;
	for (size_t i = 0; i < ev->nwrites; i++) {
		if (ev->writes[i].seq > o->maxseq)
			o->maxseq = ev->writes[i].seq;
	}
	o->out = xmalloc((size_t)writers * (size_t)(o->maxseq + 1));
	memset(o->out, -1, (size_t)writers * (size_t)(o->maxseq + 1));
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];

		if (w->writer >= 0 && w->writer < writers && w->seq >= 1)
			o->out[w->writer * (o->maxseq + 1) + w->seq] = (signed char)w->outcome;
	}
}

/* Each writer's seqs appear in log order as 1, 2, 3, ... */
static void check_seq_order(const struct events *ev, int writers)
{
	int64_t last[64] = {0};
	bool in_order = true;

	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];

		CU_ASSERT_FATAL(w->writer >= 0 && w->writer < writers && writers <= 64);
		if (w->seq != last[w->writer] + 1)
			in_order = false;
		last[w->writer] = w->seq;
	}
	CU_ASSERT(in_order);
}

/* Read-back: acknowledged ids all found, nothing found that was never attempted, no dups. */
static void check_readback(const struct events *ev, int writers, const struct outcomes *o, const char *node)
{
	int64_t found = 0, lost = 0, phantom = 0, recovered = 0, acked = 0;
	signed char *seen = xcalloc((size_t)writers, (size_t)(o->maxseq + 1));

	CU_ASSERT(ev->readback_done);
	CU_ASSERT_STRING_EQUAL(ev->readback_node, node);
	CU_ASSERT_EQUAL(ev->nreadbacks, (size_t)writers);
	for (size_t i = 0; i < ev->nreadbacks; i++) {
		const struct readback_event *r = &ev->readbacks[i];

		CU_ASSERT_EQUAL(r->ndups, 0);
		CU_ASSERT_FATAL(r->writer >= 0 && r->writer < writers);
		for (size_t k = 0; k < r->nranges; k++) {
			for (int64_t s = r->ranges[k].first; s <= r->ranges[k].last; s++) {
				found++;
				if (s < 1 || s > o->maxseq) {
					phantom++;
					continue;
				}
				seen[r->writer * (o->maxseq + 1) + s] = 1;
			}
		}
	}
	for (int w = 0; w < writers; w++) {
		for (int64_t s = 1; s <= o->maxseq; s++) {
			int out = o->out[w * (o->maxseq + 1) + s];
			bool f = seen[w * (o->maxseq + 1) + s];
			bool ack = out == WRITE_OK || out == WRITE_OK_UNREPLICATED;

			acked += ack;
			lost += ack && !f;
			recovered += out == WRITE_INDETERMINATE && f;
			phantom += f && !ack && out != WRITE_INDETERMINATE;
		}
	}
	printf("\n  read-back: %" PRId64 " rows, %" PRId64 " acked, lost %" PRId64 ", phantom %" PRId64
	       ", recovered %" PRId64 "\n",
	       found, acked, lost, phantom, recovered);
	CU_ASSERT(acked > 0);
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(phantom, 0);
	CU_ASSERT_EQUAL(ev->readback_rows, found);
	free(seen);
}

static void test_crash_restart(void)
{
	struct member m;
	struct workload_spec spec = make_spec(2, 200);
	struct event_log *log;
	struct workload *w;
	struct events ev;
	struct outcomes o = {0};
	char path[512], run[64], primary[MEMBER_NAME_LEN];
	int64_t t_kill, t_restart, t_end, ok_before = 0, ok_after = 0, ok_down = 0, indet = 0, fails = 0, unconnected = 0;
	int64_t down_samples = 0, primary_samples = 0;
	int64_t attempted = 0, okc = 0;

	if (!need_pg())
		return;
	set_member(&m, "pg0", PG_PORT);
	str_format(run, sizeof(run), "crash-%d", (int)getpid());
	log = open_log("crash.jsonl", path, sizeof(path));
	CU_ASSERT_FATAL(log != NULL);
	w = workload_start(run, &spec, &m, 1, 100000, log);
	CU_ASSERT_FATAL(w != NULL);
	sleep_us(1500000);
	workload_current_primary(w, primary, sizeof(primary));
	CU_ASSERT_STRING_EQUAL(primary, "pg0");

	CU_ASSERT_EQUAL(pidfile_pid(), postmaster);
	t_kill = event_log_rel_us(log, mono_now_us());
	kill(postmaster, SIGKILL);
	waitpid(postmaster, NULL, 0);
	postmaster = -1;
	sleep_us(700000);
	/* The orphaned backends exit on postmaster death; the new postmaster needs them gone. */
	CU_ASSERT(wait_no_children(10000000));
	t_restart = event_log_rel_us(log, mono_now_us());
	CU_ASSERT_FATAL(start_postgres());
	sleep_us(1500000);
	workload_counts(w, &attempted, &okc, NULL);
	workload_stop(w);
	t_end = event_log_rel_us(log, mono_now_us());
	CU_ASSERT(workload_readback(run, &m, 1, spec.writers, 10000000, log));
	event_log_close(log);

	CU_ASSERT_FATAL(events_load(path, &ev));
	check_seq_order(&ev, spec.writers);
	for (size_t i = 0; i < ev.nwrites; i++) {
		const struct write_event *x = &ev.writes[i];
		bool ok = x->outcome == WRITE_OK;

		CU_ASSERT_STRING_EQUAL(x->node, "pg0");
		if (ok && x->end_us < t_kill)
			ok_before++;
		/* Allow 100 ms for orphaned backends still answering right after the kill. */
		if (ok && x->start_us > t_kill + 100000 && x->end_us < t_restart)
			ok_down++;
		if (ok && x->start_us > t_restart)
			ok_after++;
		indet += x->outcome == WRITE_INDETERMINATE;
		fails += x->outcome == WRITE_FAIL;
	}
	/*
	 * Failed connection attempts are connect events, not writes; all after the kill (the
	 * restarted server may still be in crash recovery for a while after start_postgres).
	 */
	for (size_t i = 0; i < ev.nconnects; i++) {
		const struct connect_event *c = &ev.connects[i];

		if (c->ok)
			continue;
		CU_ASSERT(c->start_us > t_kill);
		unconnected++;
	}
	for (size_t i = 0; i < ev.nnodes; i++) {
		const struct node_event *n = &ev.nodes[i];

		if (n->role == NODE_PRIMARY && n->timeline == 1 && n->lsn > 0)
			primary_samples++;
		if (n->role == NODE_DOWN && n->t_us > t_kill && n->t_us < t_restart)
			down_samples++;
	}
	printf("\n  crash: %zu writes (ok before %" PRId64 ", ok while down %" PRId64 ", ok after %" PRId64
	       ", indeterminate %" PRId64 ", fail %" PRId64 "), %" PRId64 " failed connection attempts, node "
	       "samples: %" PRId64 " primary, %" PRId64 " down\n",
	       ev.nwrites, ok_before, ok_down, ok_after, indet, fails, unconnected, primary_samples, down_samples);
	CU_ASSERT(ok_before >= 300); /* 2 x 200/s x 1.5 s = 600 scheduled */
	CU_ASSERT_EQUAL(ok_down, 0);
	CU_ASSERT(ok_after >= 200);
	CU_ASSERT_EQUAL(fails, 0);
	CU_ASSERT(unconnected > 0); /* the server was down: writers saw it */
	/* Never more than the budget of attempts (100/s by default) from the kill to the end. */
	CU_ASSERT(unconnected <= (t_end - t_kill) / 10000 + spec.writers);
	CU_ASSERT(indet <= spec.writers * 2);
	CU_ASSERT(primary_samples > 10);
	CU_ASSERT(down_samples >= 3);
	CU_ASSERT(attempted > 0 && okc > 0 && attempted <= (int64_t)ev.nwrites);
	outcomes_build(&ev, spec.writers, &o);
	check_readback(&ev, spec.writers, &o, "pg0");
	free(o.out);
	events_free(&ev);
}

/* A refused port and a listener that never answers, listed first: writers must not wait on them. */
static void test_unreachable_members(void)
{
	struct member m[3];
	struct workload_spec spec = make_spec(2, 200);
	struct event_log *log;
	struct workload *w;
	struct events ev;
	char path[512], run[64], primary[MEMBER_NAME_LEN];
	int refused_port = 0, silent_port = 0, silent_fd;
	int64_t t_start, ok = 0, first_ok = -1, max_gap = 0, last_t0[2] = {-1, -1};
	int down_refused = 0, down_silent = 0;

	if (!need_pg())
		return;
	CU_ASSERT_FATAL(loopback_socket(false, &refused_port) == 0);
	silent_fd = loopback_socket(true, &silent_port);
	CU_ASSERT_FATAL(silent_fd >= 0);
	set_member(&m[0], "refused", refused_port);
	set_member(&m[1], "silent", silent_port);
	set_member(&m[2], "pg0", PG_PORT);
	str_format(run, sizeof(run), "unreach-%d", (int)getpid());
	log = open_log("unreach.jsonl", path, sizeof(path));
	CU_ASSERT_FATAL(log != NULL);
	t_start = event_log_rel_us(log, mono_now_us());
	w = workload_start(run, &spec, m, 3, 100000, log);
	CU_ASSERT_FATAL(w != NULL);
	sleep_us(1000000);
	workload_current_primary(w, primary, sizeof(primary));
	workload_stop(w);
	CU_ASSERT(workload_readback(run, m, 3, spec.writers, 5000000, log));
	event_log_close(log);
	close(silent_fd);
	CU_ASSERT_STRING_EQUAL(primary, "pg0");

	CU_ASSERT_FATAL(events_load(path, &ev));
	check_seq_order(&ev, spec.writers);
	for (size_t i = 0; i < ev.nwrites; i++) {
		const struct write_event *x = &ev.writes[i];

		if (x->outcome != WRITE_OK)
			continue;
		ok++;
		if (first_ok < 0 || x->end_us < first_ok)
			first_ok = x->end_us;
		if (last_t0[x->writer] >= 0 && x->start_us - last_t0[x->writer] > max_gap)
			max_gap = x->start_us - last_t0[x->writer];
		last_t0[x->writer] = x->start_us;
	}
	for (size_t i = 0; i < ev.nnodes; i++) {
		down_refused += strcmp(ev.nodes[i].node, "refused") == 0 && ev.nodes[i].role == NODE_DOWN;
		down_silent += strcmp(ev.nodes[i].node, "silent") == 0 && ev.nodes[i].role == NODE_DOWN;
	}
	printf("\n  unreachable: %" PRId64 " ok writes, first ok %.1f ms after start, max gap %.1f ms,"
	       " down samples refused %d silent %d\n",
	       ok, (first_ok - t_start) / 1000.0, max_gap / 1000.0, down_refused, down_silent);
	CU_ASSERT(ok >= 250); /* 2 x 200/s x ~1 s (table setup comes first) */
	CU_ASSERT(first_ok - t_start < 300000);
	CU_ASSERT(max_gap < 100000);
	CU_ASSERT(down_refused >= 3);
	CU_ASSERT(down_silent >= 3);
	CU_ASSERT(ev.readback_done && strcmp(ev.readback_node, "pg0") == 0);
	events_free(&ev);
}

static bool sql(const char *cmd)
{
	PGconn *c = PQconnectdb("host=127.0.0.1 port=" PG_PORT_TEXT " user=postgres dbname=postgres");
	PGresult *res = PQexec(c, cmd);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "%s: %s", cmd, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok;
}

/*
 * Synchronous replication to a standby that does not exist: every commit waits until a
 * cancel ends the wait with the "committed locally" warning -> ok_unreplicated.
 */
static void test_unreplicated(void)
{
	struct member m;
	struct workload_spec spec = make_spec(1, 20);
	struct event_log *log;
	struct workload *w;
	struct events ev;
	struct outcomes o = {0};
	char path[512], run[64];
	int64_t unrep = 0;

	if (!need_pg())
		return;
	set_member(&m, "pg0", PG_PORT);
	str_format(run, sizeof(run), "unrep-%d", (int)getpid());
	spec.write_timeout_us = 3000000;
	log = open_log("unrep.jsonl", path, sizeof(path));
	CU_ASSERT_FATAL(log != NULL);
	w = workload_start(run, &spec, &m, 1, 250000, log);
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT(sql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'"));
	CU_ASSERT(sql("SELECT pg_reload_conf()"));
	for (int i = 0; i < 20; i++) {
		sleep_us(50000);
		sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'bise-writer-0'"
		    " AND wait_event = 'SyncRep'");
	}
	CU_ASSERT(sql("ALTER SYSTEM RESET synchronous_standby_names"));
	CU_ASSERT(sql("SELECT pg_reload_conf()"));
	workload_stop(w);
	CU_ASSERT(workload_readback(run, &m, 1, spec.writers, 5000000, log));
	event_log_close(log);
	CU_ASSERT_FATAL(events_load(path, &ev));
	for (size_t i = 0; i < ev.nwrites; i++)
		unrep += ev.writes[i].outcome == WRITE_OK_UNREPLICATED;
	printf("\n  sync rep to nobody: %zu writes, %" PRId64 " ok_unreplicated\n", ev.nwrites, unrep);
	CU_ASSERT(unrep >= 3);
	outcomes_build(&ev, spec.writers, &o);
	check_readback(&ev, spec.writers, &o, "pg0");
	free(o.out);
	events_free(&ev);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Runs writers for duration_us; returns ok writes/s and the mean spacing of attempts (us). */
static void measure(int writers, double rate, int64_t duration_us, double *ok_per_s, double *spacing_us)
{
	struct member m;
	struct workload_spec spec = make_spec(writers, rate);
	struct event_log *log;
	struct workload *w;
	struct events ev;
	char path[512], run[64], name[64];
	int64_t *t0, ok = 0, t_first, t_last;

	set_member(&m, "pg0", PG_PORT);
	str_format(run, sizeof(run), "measure-%d-%g-%d", writers, rate, (int)getpid());
	str_format(name, sizeof(name), "measure-%d-%g.jsonl", writers, rate);
	log = open_log(name, path, sizeof(path));
	CU_ASSERT_FATAL(log != NULL);
	w = workload_start(run, &spec, &m, 1, 250000, log);
	CU_ASSERT_FATAL(w != NULL);
	sleep_us(duration_us);
	workload_stop(w);
	event_log_close(log);
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_FATAL(ev.nwrites > 10);
	t0 = xcalloc(ev.nwrites, sizeof(*t0));
	for (size_t i = 0; i < ev.nwrites; i++) {
		t0[i] = ev.writes[i].start_us;
		ok += ev.writes[i].outcome == WRITE_OK;
	}
	qsort(t0, ev.nwrites, sizeof(*t0), cmp_i64);
	t_first = t0[0];
	t_last = t0[ev.nwrites - 1];
	*spacing_us = (double)(t_last - t_first) / (double)(ev.nwrites - 1);
	*ok_per_s = (double)ok / ((double)(t_last - t_first) / 1e6);
	free(t0);
	events_free(&ev);
}

static void test_measure(void)
{
	double rate_unthrottled, spacing_unthrottled, rate_paced, spacing_paced;

	if (!need_pg())
		return;
	measure(4, 0, 3000000, &rate_unthrottled, &spacing_unthrottled);
	measure(4, 100, 3000000, &rate_paced, &spacing_paced);
	printf("\n  MEASURE 4 writers unthrottled: %.0f ok writes/s (mean spacing %.1f us)"
	       "\n  MEASURE 4 writers x 100/s: %.0f ok writes/s, mean spacing between attempts %.2f ms\n",
	       rate_unthrottled, spacing_unthrottled, rate_paced, spacing_paced / 1000.0);
	CU_ASSERT(rate_unthrottled > 400);
	/* 400 attempts/s in all: 2.5 ms apart on average. */
	CU_ASSERT(spacing_paced > 2250 && spacing_paced < 2750);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("workload (real PostgreSQL)", suite_init, suite_clean);

	CU_add_test(s, "unreachable members do not block writers", test_unreachable_members);
	CU_add_test(s, "postmaster crash and restart", test_crash_restart);
	CU_add_test(s, "cancelled synchronous commit is ok_unreplicated", test_unreplicated);
	CU_add_test(s, "measured rates", test_measure);
}
