/*
 * test_k8s_workload.c - `bise run --backend kubernetes --pg-access nodeport` end to end,
 * with the Kubernetes API replayed and PostgreSQL real.
 *
 * The fake API server (tests/unit/k8s_fake_server.c) serves a CloudNativePG Cluster "bk8s"
 * in namespace bk8s with two instance pods (bk8s-1 in geneva, bk8s-2 in lucerne), their
 * nodes, the superuser Secret, and takes bise's Services and the pod deletion. Behind the
 * nodePorts bise's Services would get on kind, real PostgreSQL 15 servers listen on
 * 127.0.0.1: the geneva member on 30433, the lucerne member on 30434 (streaming from it,
 * synchronous), and 30432 (the read-write Service) is a TCP forwarder in this test to
 * whichever is primary, as kube-proxy would be. Host connections need the password
 * (scram-sha-256), so the workload must have read it from the Secret.
 *
 * The scenario kills the primary pod. This test then plays CloudNativePG: on the DELETE
 * it kills the primary's processes (SIGKILL, as a pod deletion with no grace period),
 * promotes the replica, points the read-write forwarder at it, re-clones the old member
 * as a standby of the new primary and reports the pods and the Cluster accordingly.
 * Asserted: writes acknowledged through the entry, each named after the member that took
 * it (by server identity), before and after the failover; the watcher saw the new
 * primary on timeline 2; a failover time measured; the read-back found every
 * acknowledged write (0 lost), and the rows in the database match it.
 *
 * Needs root (PostgreSQL runs as the postgres user) and the bise binary; every server,
 * thread and directory it started is stopped or removed at exit, whatever failed.
 */
#include "../unit/k8s_fake_server.c"

#include "common.h"
#include "event.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define NAME "bk8s"
#define PASSWORD "bk8s-secret-pw"
#define PASSWORD_B64 "Yms4cy1zZWNyZXQtcHc="
#define RW_PORT 30432
#define PORT_GENEVA 30433
#define PORT_LUCERNE 30434
#define PODS "/api/v1/namespaces/" NAME "/pods"
#define SVCS "/api/v1/namespaces/" NAME "/services"
#define CLUSTER "/apis/postgresql.cnpg.io/v1/namespaces/" NAME "/clusters/" NAME
#define RUN_TIMEOUT_US (240 * 1000000LL)

static struct itest_dirs dirs;
static char certdir[64], sockdir[320], kubeconfig[512];
static uid_t pg_uid;
static gid_t pg_gid;
static bool ready;
static struct fake_server api;
static bool api_started;
static struct fake_route *pods_route, *cluster_route;
static char *old_bodies[16];
static int nold;

/* Each server by the port it serves; pid of its postmaster (its own process group). */
static struct pgsrv {
	int port;
	char dir[340];
	pid_t pid;
} srv[2] = { { .port = PORT_GENEVA, .pid = -1 }, { .port = PORT_LUCERNE, .pid = -1 } };

/* The read-write "Service": a forwarder to the primary's port. */
static struct {
	int fd;
	pthread_t thread;
	bool started;
	atomic_int target;
	atomic_bool stop;
	atomic_int active;
} fwd = { .fd = -1 };

/* The "operator": reacts to the deletion of the primary pod. */
static struct {
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_int stage; /* 0 waiting, 1 failed over, 2 the old member streams again, -1 failed */
	char error[256];
} op;

/* ---- PostgreSQL ---- */

/* As postgres, in its own group for "pod deletions"; output to dirs.work/logname. */
static pid_t spawn_pg(char *const argv[], const char *logname)
{
	char logpath[512];

	str_format(logpath, sizeof(logpath), "%s/%s", dirs.work, logname);
	return itest_spawn_as(argv, dirs.work, logpath, pg_uid, pg_gid, true);
}

static bool run_pg(char *const argv[], const char *logname)
{
	pid_t pid = spawn_pg(argv, logname);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static PGconn *pg_connect(int port)
{
	char conninfo[256];

	str_format(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d user=postgres password=" PASSWORD
		   " dbname=postgres connect_timeout=2", port);
	return PQconnectdb(conninfo);
}

/* The first column of the first row of sql on port, into out; false on any error. */
static bool pg_value(int port, const char *sql, char *out, size_t len)
{
	PGconn *c = pg_connect(port);
	PGresult *res;
	bool ok = false;

	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			str_copy(out, len, PQgetvalue(res, 0, 0));
			ok = true;
		}
		PQclear(res);
	}
	PQfinish(c);
	return ok;
}

/* Wait until sql on port answers want; false after timeout_us. */
static bool pg_wait_value(int port, const char *sql, const char *want, int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;
	char v[64];

	while (mono_now_us() < deadline) {
		if (pg_value(port, sql, v, sizeof(v)) && strcmp(v, want) == 0)
			return true;
		sleep_us(100000);
	}
	return false;
}

static bool pg_start(struct pgsrv *s, bool synchronous)
{
	char port[16], log[32];
	char *argv[] = { PG_BIN "/postgres", "-D", s->dir, "-k", sockdir, "-p", port, "-c",
			 "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=60", "-c",
			 synchronous ? "synchronous_standby_names=*" : "synchronous_standby_names=", NULL };

	str_format(port, sizeof(port), "%d", s->port);
	str_format(log, sizeof(log), "pg-%d.log", s->port);
	s->pid = spawn_pg(argv, log);
	return s->pid > 0 && pg_wait_value(s->port, "SELECT 1", "1", 30000000);
}

/* SIGKILL the server's whole process group (what a pod deletion does) and reap it. */
static void pg_kill(struct pgsrv *s)
{
	int64_t deadline = mono_now_us() + 10000000;

	if (s->pid <= 0)
		return;
	kill(-s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, WNOHANG) == 0 && mono_now_us() < deadline)
		sleep_us(10000);
	s->pid = -1;
}

/* Stop cleanly when possible (SIGQUIT removes the shared memory), else kill. */
static void pg_stop(struct pgsrv *s)
{
	int64_t deadline = mono_now_us() + 10000000;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGQUIT);
	while (waitpid(s->pid, NULL, WNOHANG) == 0 && mono_now_us() < deadline)
		sleep_us(20000);
	/* Whatever is left of the group (a backend that missed the signal). */
	kill(-s->pid, SIGKILL);
	waitpid(s->pid, NULL, WNOHANG);
	s->pid = -1;
}

/* A standby of the server on from_port, cloned into s->dir (emptied first). */
static bool pg_clone(struct pgsrv *s, int from_port)
{
	char port[16], cmd[512];
	char *argv[] = { PG_BIN "/pg_basebackup", "-D", s->dir, "-h", sockdir, "-p", port, "-U", "postgres",
			 "-R", "-X", "stream", "-c", "fast", "--no-sync", NULL };

	str_format(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (strncmp(s->dir, "/tmp/", 5) != 0 || system(cmd) != 0)
		return false;
	str_format(port, sizeof(port), "%d", from_port);
	return run_pg(argv, "basebackup.log") && pg_start(s, false);
}

static bool port_free(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---- the read-write forwarder ---- */

struct pipe_arg {
	int a, b;
};

/* Copy both ways until either side closes or the test stops. */
static void *pipe_main(void *arg)
{
	struct pipe_arg p = *(struct pipe_arg *)arg;
	char buf[16384];

	free(arg);
	while (!atomic_load(&fwd.stop)) {
		struct pollfd f[2] = { { .fd = p.a, .events = POLLIN }, { .fd = p.b, .events = POLLIN } };
		int r = poll(f, 2, 100);
		bool done = false;

		if (r < 0)
			break;
		for (int i = 0; i < 2 && !done; i++) {
			ssize_t n;

			if (!(f[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(f[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				done = true;
				break;
			}
			for (ssize_t off = 0; off < n && !done;) {
				ssize_t w = write(i ? p.a : p.b, buf + off, (size_t)(n - off));

				if (w <= 0)
					done = true;
				else
					off += w;
			}
		}
		if (done)
			break;
	}
	close(p.a);
	close(p.b);
	atomic_fetch_sub(&fwd.active, 1);
	return NULL;
}

static void *forward_main(void *arg)
{
	while (!atomic_load(&fwd.stop)) {
		struct pollfd f = { .fd = fwd.fd, .events = POLLIN };
		struct sockaddr_in to = { .sin_family = AF_INET };
		struct pipe_arg *p;
		pthread_t t;
		int c, s;

		if (poll(&f, 1, 50) <= 0 || (c = accept4(fwd.fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		to.sin_port = htons((uint16_t)atomic_load(&fwd.target));
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* No endpoint behind the Service: the client sees a refusal, as with kube-proxy. */
		if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)) != 0) {
			if (s >= 0)
				close(s);
			close(c);
			continue;
		}
		p = xmalloc(sizeof(*p));
		p->a = c;
		p->b = s;
		atomic_fetch_add(&fwd.active, 1);
		if (pthread_create(&t, NULL, pipe_main, p) != 0) {
			atomic_fetch_sub(&fwd.active, 1);
			close(c);
			close(s);
			free(p);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static bool forward_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(RW_PORT) };
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	atomic_store(&fwd.target, PORT_GENEVA);
	fwd.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fwd.fd < 0)
		return false;
	setsockopt(fwd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fwd.fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fwd.fd, 64) != 0)
		return false;
	if (pthread_create(&fwd.thread, NULL, forward_main, NULL) != 0)
		return false;
	fwd.started = true;
	return true;
}

static void forward_stop(void)
{
	int64_t deadline = mono_now_us() + 5000000;

	atomic_store(&fwd.stop, true);
	if (fwd.started)
		pthread_join(fwd.thread, NULL);
	fwd.started = false;
	while (atomic_load(&fwd.active) > 0 && mono_now_us() < deadline)
		sleep_us(10000);
	if (fwd.fd >= 0)
		close(fwd.fd);
	fwd.fd = -1;
}

/* ---- the API: what CloudNativePG and the kubelet would report ---- */

static void pod_json(char *buf, size_t len, int i, const char *role, bool ready_now)
{
	str_format(buf, len, "{\"metadata\":{\"name\":\"" NAME "-%d\",\"namespace\":\"" NAME "\",\"labels\":{"
		   "\"cnpg.io/cluster\":\"" NAME "\",\"cnpg.io/podRole\":\"instance\",\"cnpg.io/instanceName\":\""
		   NAME "-%d\",\"cnpg.io/instanceRole\":\"%s\",\"role\":\"%s\"}},\"spec\":{\"nodeName\":\"w%d\"},"
		   "\"status\":{\"phase\":\"%s\",\"podIP\":\"127.0.0.1\",\"conditions\":[{\"type\":\"Ready\","
		   "\"status\":\"%s\"}]}}", i, i, role, role, i, ready_now ? "Running" : "Pending",
		   ready_now ? "True" : "False");
}

/* Replace a route's body; the old one is freed at the end (a response may still use it). */
static void route_set(struct fake_route *r, const char *body)
{
	pthread_mutex_lock(&api.lock);
	if (nold < (int)(sizeof(old_bodies) / sizeof(old_bodies[0])))
		old_bodies[nold++] = r->body;
	r->body = xstrdup(body);
	pthread_mutex_unlock(&api.lock);
}

/* Pods and Cluster: primary is 1 or 2; the other member ready or being recreated. */
static void report(int primary, bool other_ready, int timeline)
{
	char p1[1024], p2[1024], body[4096];
	int other = 3 - primary;

	pod_json(p1, sizeof(p1), primary, "primary", true);
	pod_json(p2, sizeof(p2), other, "replica", other_ready);
	str_format(body, sizeof(body), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
		   "\"1\"},\"items\":[%s,%s]}", primary == 1 ? p1 : p2, primary == 1 ? p2 : p1);
	route_set(pods_route, body);
	str_format(body, sizeof(body), "{\"apiVersion\":\"postgresql.cnpg.io/v1\",\"kind\":\"Cluster\",\"metadata\":{"
		   "\"name\":\"" NAME "\",\"namespace\":\"" NAME "\"},\"spec\":{\"instances\":2,\"imageName\":"
		   "\"postgresql 15 (real, on 127.0.0.1)\"},\"status\":{\"instances\":2,\"readyInstances\":%d,"
		   "\"phase\":\"%s\",\"currentPrimary\":\"" NAME "-%d\",\"targetPrimary\":\"" NAME "-%d\","
		   "\"timelineID\":%d,\"instancesReportedState\":{\"" NAME "-1\":{\"isPrimary\":%s,\"timeLineID\":%d},"
		   "\"" NAME "-2\":{\"isPrimary\":%s,\"timeLineID\":%d}}}}", other_ready ? 2 : 1,
		   other_ready ? "Cluster in healthy state" : "Failing over", primary, primary, timeline,
		   primary == 1 ? "true" : "false", timeline, primary == 2 ? "true" : "false", timeline);
	route_set(cluster_route, body);
}

static bool api_start(void)
{
	static const char *const zones[] = { "geneva", "lucerne" };
	char path[256], body[512];

	if (!fake_certs(certdir, sizeof(certdir)) || !fake_server_start(&api, false, certdir))
		return false;
	api_started = true;
	fake_route_add(&api, "GET", "/version", -1, 200, "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":"
		       "\"v1.31.0 (replayed)\"}");
	fake_route_add(&api, "GET", "/apis/postgresql.cnpg.io/v1", -1, 200, "{\"kind\":\"APIResourceList\","
		       "\"groupVersion\":\"postgresql.cnpg.io/v1\",\"resources\":[{\"name\":\"clusters\"}]}");
	fake_route_add(&api, "GET", "/api/v1/namespaces/" NAME, -1, 200, "{\"kind\":\"Namespace\",\"metadata\":"
		       "{\"name\":\"" NAME "\",\"labels\":{\"bise.io/chaos\":\"allowed\"}}}");
	pods_route = fake_route_add(&api, "GET", PODS, -1, 200, "");
	cluster_route = fake_route_add(&api, "GET", CLUSTER, -1, 200, "");
	report(1, true, 1);
	for (int i = 1; i <= 2; i++) {
		str_format(path, sizeof(path), "/api/v1/nodes/w%d", i);
		str_format(body, sizeof(body), "{\"kind\":\"Node\",\"metadata\":{\"name\":\"w%d\",\"labels\":{"
			   "\"topology.kubernetes.io/zone\":\"%s\"}}}", i, zones[i - 1]);
		fake_route_add(&api, "GET", path, -1, 200, body);
		str_format(path, sizeof(path), PODS "/" NAME "-%d", i);
		fake_route_add(&api, "PATCH", path, -1, 200, "{\"kind\":\"Pod\"}");
		fake_route_add(&api, "DELETE", path, -1, 200, "{\"kind\":\"Pod\",\"metadata\":{\"deletionTimestamp\":"
			       "\"2026-11-24T00:00:00Z\"}}");
	}
	fake_route_add(&api, "POST", SVCS, -1, 201, "{\"kind\":\"Service\"}");
	fake_route_add(&api, "GET", "/api/v1/namespaces/" NAME "/secrets/" NAME "-superuser", -1, 200,
		       "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" NAME "-superuser\"},"
		       "\"type\":\"kubernetes.io/basic-auth\",\"data\":{\"username\":\"cG9zdGdyZXM=\","
		       "\"password\":\"" PASSWORD_B64 "\",\"dbname\":\"Kg==\"}}");
	fake_route_add(&api, "GET", "/apis/apps/v1/deployments", -1, 200, "{\"kind\":\"DeploymentList\","
		       "\"metadata\":{},\"items\":[]}");
	return fake_kubeconfig(certdir, "token.kubeconfig", api.url, NULL, kubeconfig, sizeof(kubeconfig));
}

/* ---- the operator's failover ---- */

static void op_fail(const char *what)
{
	str_copy(op.error, sizeof(op.error), what);
	atomic_store(&op.stage, -1);
}

static void *operator_main(void *arg)
{
	while (!atomic_load(&op.stop) && fake_count(&api, "DELETE", PODS "/" NAME "-1") == 0)
		sleep_us(20000);
	if (atomic_load(&op.stop))
		return NULL;
	/* The pod is gone with its processes; the replica is promoted and the Service follows. */
	report(1, false, 1);
	pg_kill(&srv[0]);
	{
		char v[16];

		if (!pg_value(PORT_LUCERNE, "SELECT pg_promote(true, 30)", v, sizeof(v)) || strcmp(v, "t") != 0) {
			op_fail("the replica could not be promoted");
			return NULL;
		}
	}
	atomic_store(&fwd.target, PORT_LUCERNE);
	report(2, false, 2);
	atomic_store(&op.stage, 1);
	/* The recreated pod: a fresh clone of the new primary, streaming before it is ready. */
	if (!pg_clone(&srv[0], PORT_LUCERNE) ||
	    !pg_wait_value(PORT_LUCERNE, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
			   "1", 30000000)) {
		op_fail("the old primary could not be re-cloned as a standby");
		return NULL;
	}
	report(2, true, 2);
	atomic_store(&op.stage, 2);
	return NULL;
}

/* ---- set-up and clean-up ---- */

static void cleanup_all(void)
{
	atomic_store(&op.stop, true);
	if (op.started)
		pthread_join(op.thread, NULL);
	op.started = false;
	forward_stop();
	for (int i = 0; i < 2; i++)
		pg_stop(&srv[i]);
	if (api_started)
		fake_server_stop(&api);
	api_started = false;
	for (int i = 0; i < nold; i++)
		free(old_bodies[i]);
	nold = 0;
	if (certdir[0])
		fake_rm_rf(certdir);
	certdir[0] = '\0';
	itest_dirs_remove(&dirs);
}

static int suite_init(void)
{
	struct passwd *pw = getpwnam("postgres");
	char pwfile[400], port[16];
	char *initdb[] = { PG_BIN "/initdb", "-D", srv[0].dir, "-U", "postgres", "--auth-local=trust",
			   "--auth-host=scram-sha-256", "--pwfile", pwfile, "-E", "UTF8", "--locale=C", "--no-sync",
			   NULL };
	char *clone[] = { PG_BIN "/pg_basebackup", "-D", srv[1].dir, "-h", sockdir, "-p", port, "-U", "postgres",
			  "-R", "-X", "stream", "-c", "fast", "--no-sync", NULL };

	if (!pw) {
		fprintf(stderr, "test_k8s_workload: no postgres user\n");
		return 1;
	}
	pg_uid = pw->pw_uid;
	pg_gid = pw->pw_gid;
	atexit(cleanup_all);
	for (int p = RW_PORT; p <= PORT_LUCERNE; p++)
		if (!port_free(p)) {
			fprintf(stderr, "test_k8s_workload: 127.0.0.1:%d is taken\n", p);
			return 1;
		}
	if (!itest_dirs_make(&dirs, "bise-k8swl"))
		return 1;
	str_format(sockdir, sizeof(sockdir), "%s/sock", dirs.work);
	str_format(srv[0].dir, sizeof(srv[0].dir), "%s/geneva", dirs.work);
	str_format(srv[1].dir, sizeof(srv[1].dir), "%s/lucerne", dirs.work);
	str_format(pwfile, sizeof(pwfile), "%s/pw", dirs.work);
	str_format(port, sizeof(port), "%d", PORT_GENEVA);
	if (mkdir(sockdir, 0755) != 0 || chown(sockdir, pg_uid, pg_gid) != 0 ||
	    !file_write_atomic(pwfile, PASSWORD "\n", strlen(PASSWORD) + 1) || chown(pwfile, pg_uid, pg_gid) != 0 ||
	    chown(dirs.work, pg_uid, pg_gid) != 0) {
		fprintf(stderr, "test_k8s_workload: cannot prepare %s\n", dirs.work);
		return 1;
	}
	/* The primary synchronous: an acknowledged write is on the standby the failover promotes. */
	if (!run_pg(initdb, "initdb.log") || !pg_start(&srv[0], true) || !run_pg(clone, "basebackup.log") ||
	    !pg_start(&srv[1], false) ||
	    !pg_wait_value(PORT_GENEVA, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", "1",
			   30000000)) {
		fprintf(stderr, "test_k8s_workload: cannot start PostgreSQL (logs in %s)\n", dirs.work);
		return 1;
	}
	if (!forward_start() || !api_start()) {
		fprintf(stderr, "test_k8s_workload: cannot start the forwarder or the fake API server\n");
		return 1;
	}
	if (pthread_create(&op.thread, NULL, operator_main, NULL) != 0)
		return 1;
	op.started = true;
	ready = true;
	return 0;
}

static int suite_clean(void)
{
	cleanup_all();
	return 0;
}

/* ---- the test ---- */

static const char scenario[] =
	"name: k8s-entry\n"
	"description: pod-kill of the primary, the workload through the read-write service\n"
	"cluster:\n"
	"  name: " NAME "\n"
	"  zones: [geneva, lucerne]\n"
	"workload:\n"
	"  writers: 2\n"
	"  rate: 50\n"
	"steps:\n"
	"  - at: 3s\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - wait: healthy\n"
	"    timeout: 90s\n"
	"  - wait: 2s\n"
	"slo:\n"
	"  data_loss: \"== 0\"\n"
	"  failover_time: \"< 30s\"\n";

/* The value at JSON pointer ptr of o; NULL when absent. */
static json_object *at(json_object *o, const char *ptr)
{
	json_object *v;

	return o && json_pointer_get(o, ptr, &v) == 0 ? v : NULL;
}

/* Run bise and wait (bounded); its exit status, or -1. */
static int run_bise(const char *scenario_path, const char *log_path)
{
	const char *args[] = { "run", "--backend", "kubernetes", "--kubeconfig", kubeconfig, "--namespace", NAME,
			       "--operator", "cnpg", "--pg-access", "nodeport", "--state-dir", dirs.state,
			       "--out", dirs.out, "--seed", "7", scenario_path, NULL };
	int64_t deadline = mono_now_us() + RUN_TIMEOUT_US;
	pid_t pid = itest_spawn_bise(args, log_path);
	int status;

	if (pid < 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0 || mono_now_us() > deadline) {
			itest_kill(&pid);
			return -1;
		}
		sleep_us(100000);
	}
}

static void test_workload_through_entry(void)
{
	char path[512], log_path[400], buf[64];
	json_object *summary, *trial, *x;
	struct events ev;
	int64_t acked = 0, acked_on[2] = { 0, 0 }, unnamed = 0;
	bool saw_new_primary = false;
	struct fake_request *r;
	char *text;
	int status;

	if (!ready) {
		itest_cannot_run("PostgreSQL or the fake API server did not start");
		CU_FAIL("set-up failed");
		return;
	}
	str_format(path, sizeof(path), "%s/k8s-entry.yaml", dirs.work);
	CU_ASSERT_FATAL(file_write_atomic(path, scenario, strlen(scenario)));
	str_format(log_path, sizeof(log_path), "%s/bise.log", dirs.work);
	status = run_bise(path, log_path);
	text = file_read_all(log_path, NULL);
	if (status != 0)
		fprintf(stderr, "\nbise exited %d; its output:\n%s\n", status, text ? text : "(none)");
	/* The password came from the Secret; it must not have been printed. */
	CU_ASSERT(text && !strstr(text, PASSWORD) && !strstr(text, PASSWORD_B64));
	free(text);
	CU_ASSERT_EQUAL_FATAL(status, 0);
	CU_ASSERT_EQUAL(atomic_load(&op.stage), 2);
	if (atomic_load(&op.stage) < 0)
		fprintf(stderr, "operator: %s\n", op.error);

	/* bise exposed the cluster: the rw Service selects the primary, one per zone. */
	CU_ASSERT(fake_count(&api, "POST", SVCS) >= 3);
	r = NULL;
	for (int i = 0; i < api.nrequests && !r; i++)
		if (strcmp(api.requests[i].method, "POST") == 0 && strcmp(api.requests[i].target, SVCS) == 0)
			r = &api.requests[i];
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->body, "\"name\":\"bise-" NAME "-rw\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->body, "\"cnpg.io/instanceRole\":\"primary\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->body, "\"nodePort\":30432"));
	CU_ASSERT_EQUAL(fake_count(&api, "DELETE", PODS "/" NAME "-1"), 1);

	str_format(path, sizeof(path), "%s/k8s-entry/summary.json", dirs.out);
	summary = json_object_from_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(summary);
	trial = json_object_array_get_idx(at(summary, "/trials"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(trial);
	CU_ASSERT(json_object_get_boolean(at(trial, "/completed")));
	x = at(trial, "/metrics/failover/new_primary");
	CU_ASSERT(x && strcmp(json_object_get_string(x), NAME "-2") == 0);
	x = at(trial, "/metrics/failover/old_primary");
	CU_ASSERT(x && strcmp(json_object_get_string(x), NAME "-1") == 0);
	x = at(trial, "/metrics/failover/failover_time_s");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	fprintf(stderr, "\nfailover_time through the entry: %.3f s\n", json_object_get_double(x));
	CU_ASSERT(json_object_get_double(x) > 0.0 && json_object_get_double(x) < 30.0);
	CU_ASSERT_EQUAL(json_object_get_int64(at(trial, "/metrics/data_loss/lost")), 0);
	CU_ASSERT(json_object_get_boolean(at(trial, "/metrics/data_loss/balanced")));

	/* Every acknowledged write went through the entry and is named after its server. */
	str_format(path, sizeof(path), "%s/k8s-entry/trial-1/events.jsonl", dirs.out);
	memset(&ev, 0, sizeof(ev));
	CU_ASSERT_FATAL(events_load(path, &ev));
	for (size_t i = 0; i < ev.nwrites; i++) {
		const struct write_event *w = &ev.writes[i];

		if (w->outcome != WRITE_OK && w->outcome != WRITE_OK_UNREPLICATED)
			continue;
		acked++;
		if (strcmp(w->node, NAME "-1") == 0)
			acked_on[0]++;
		else if (strcmp(w->node, NAME "-2") == 0)
			acked_on[1]++;
		else
			unnamed++;
	}
	for (size_t i = 0; i < ev.nnodes; i++)
		if (strcmp(ev.nodes[i].node, NAME "-2") == 0 && ev.nodes[i].role == NODE_PRIMARY &&
		    ev.nodes[i].timeline == 2)
			saw_new_primary = true;
	fprintf(stderr, "acknowledged %lld: %lld on " NAME "-1, %lld on " NAME "-2, %lld unnamed; found %lld\n",
		(long long)acked, (long long)acked_on[0], (long long)acked_on[1], (long long)unnamed,
		(long long)json_object_get_int64(at(trial, "/metrics/data_loss/found")));
	CU_ASSERT(acked > 100);
	CU_ASSERT(acked_on[0] > 0);
	CU_ASSERT(acked_on[1] > 0);
	CU_ASSERT_EQUAL(unnamed, 0);
	CU_ASSERT(saw_new_primary);
	CU_ASSERT(json_object_get_int64(at(trial, "/metrics/data_loss/found")) >= acked);

	/* The read-back's count is what the new primary holds. */
	{
		char sql[256];

		str_format(sql, sizeof(sql), "SELECT count(*) FROM bise_writes WHERE run = '%s'", ev.run);
		CU_ASSERT_FATAL(pg_value(PORT_LUCERNE, sql, buf, sizeof(buf)));
		CU_ASSERT_EQUAL(strtoll(buf, NULL, 10),
				json_object_get_int64(at(trial, "/metrics/data_loss/found")));
	}
	events_free(&ev);
	json_object_put(summary);
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("kubernetes workload through the read-write entry", true))
		return;
	s = CU_add_suite("kubernetes workload through the read-write entry", suite_init, suite_clean);
	CU_add_test(s, "pod-kill failover measured through bise's rw Service, 0 lost", test_workload_through_entry);
}
