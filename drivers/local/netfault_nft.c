/*
 * netfault_nft.c - nftables scripts run through libnftables inside the zones' namespaces,
 * every namespace at once: each namespace has a worker thread inside it (setns() changes
 * only the calling thread's network namespace) that loads a whole script as one
 * transaction. A separate `iptables` process per rule took 50-100 ms each on this 2-core
 * machine, so a partition's rules landed hundreds of milliseconds apart; in-process
 * batches land within a millisecond, all of a namespace's rules at the same instant.
 */
#include "netfault.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nft_job {
	const char *netns;  /* NULL: the root namespace */
	const char *script; /* nft commands, one transaction */
	char *output;       /* what a listing printed (malloc'd), when asked for */
	bool want_output;
	bool ok;
	bool done;            /* the worker has finished it (under its worker's lock) */
	int64_t committed_us; /* when the transaction's commit returned (the rules hold from then) */
	char error[512];
};

/*
 * One worker thread per namespace, kept from its first transaction (the cluster's warm-up)
 * until the namespace goes (nft_release) or the process ends: it entered the namespace and
 * made its context once, so a fault's transaction costs a wake-up and the commit. A thread
 * started, entered and given a context per transaction took 2-10 ms here under a cluster's
 * load, varying by as much; the wake-up of a waiting thread is steady. While it waits, the
 * worker (its context's netlink socket) keeps its namespace alive: it must be released
 * before the namespace is deleted, and it is checked against /run/netns/<name> before each
 * use, so a namespace deleted and made again under the same name gets a new worker.
 */
struct nft_worker {
	bool used;
	char netns[64]; /* "" for the root namespace */
	dev_t dev;      /* the namespace it entered (nsfs device and inode) */
	ino_t ino;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* a job handed over, a job done, or stop */
	struct nft_job *job;   /* handed over, NULL when idle */
	bool stop;
	bool broken;           /* could not enter or make a context: every job fails, then it is stopped */
	char why[256];         /* why it is broken */
	int prio;              /* SCHED_FIFO priority it runs at, 0 for SCHED_OTHER */
	struct nft_ctx *ctx;
};

#define NFT_WORKERS (2 * NF_NFT_MAX_JOBS)

static struct nft_worker workers[NFT_WORKERS];
static pthread_mutex_t workers_mu = PTHREAD_MUTEX_INITIALIZER; /* one caller at a time */

/* Enter w's namespace and make its context; false with w->why. */
static bool worker_setup(struct nft_worker *w)
{
	if (w->netns[0]) {
		char path[96];
		struct stat st;
		int fd;

		str_format(path, sizeof(path), "/run/netns/%s", w->netns);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fstat(fd, &st) != 0 || setns(fd, CLONE_NEWNET) != 0) {
			str_format(w->why, sizeof(w->why), "cannot enter %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return false;
		}
		close(fd);
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
	w->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!w->ctx) {
		str_format(w->why, sizeof(w->why), "cannot create an nftables context");
		return false;
	}
	nft_ctx_buffer_error(w->ctx);
	nft_ctx_buffer_output(w->ctx);
	return true;
}

/* Run j in w's context; both buffers are read (which empties them) whatever j wants. */
static void worker_run(struct nft_worker *w, struct nft_job *j)
{
	const char *err, *out;

	j->ok = nft_run_cmd_from_buffer(w->ctx, j->script) == 0;
	j->committed_us = mono_now_us();
	err = nft_ctx_get_error_buffer(w->ctx);
	out = nft_ctx_get_output_buffer(w->ctx);
	if (!j->ok)
		str_copy(j->error, sizeof(j->error), err && *err ? err : "nft failed");
	else if (j->want_output)
		j->output = xstrdup(out ? out : "");
}

static void *worker_main(void *arg)
{
	struct nft_worker *w = arg;
	bool ready = worker_setup(w);

	pthread_mutex_lock(&w->mu);
	w->broken = !ready;
	for (;;) {
		struct nft_job *j;

		while (!w->job && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		j = w->job;
		pthread_mutex_unlock(&w->mu);
		if (ready)
			worker_run(w, j);
		else
			str_copy(j->error, sizeof(j->error), w->why);
		pthread_mutex_lock(&w->mu);
		j->done = true;
		w->job = NULL;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->ctx)
		nft_ctx_free(w->ctx);
	w->ctx = NULL;
	return NULL;
}

/* Stop w and wait for its thread (it is idle: callers hold workers_mu). */
static void worker_stop(struct nft_worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->used = false;
}

/*
 * The worker of netns (NULL: the root one), started when there is none or when the
 * namespace of that name is no longer the one it entered; NULL (logged in why) when no
 * thread could be started or the namespace does not exist.
 */
static struct nft_worker *worker_for(const char *netns, char *why, size_t why_len)
{
	const char *name = netns ? netns : "";
	struct nft_worker *w = NULL;
	struct stat st;

	if (netns) {
		char path[96];

		str_format(path, sizeof(path), "/run/netns/%s", netns);
		if (stat(path, &st) != 0) {
			str_format(why, why_len, "cannot enter %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	for (int i = 0; i < NFT_WORKERS; i++) {
		struct nft_worker *x = &workers[i];

		if (!x->used || strcmp(x->netns, name) != 0)
			continue;
		if (!netns || (x->dev == st.st_dev && x->ino == st.st_ino))
			return x;
		worker_stop(x); /* a namespace since deleted, kept alive by the worker alone */
	}
	for (int i = 0; i < NFT_WORKERS && !w; i++)
		if (!workers[i].used)
			w = &workers[i];
	if (!w) {
		str_format(why, why_len, "more than %d namespaces", NFT_WORKERS);
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	if (!str_copy(w->netns, sizeof(w->netns), name)) {
		str_format(why, why_len, "namespace name too long");
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
		str_format(why, why_len, "cannot start a thread");
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return NULL;
	}
	w->used = true;
	return w;
}

/*
 * The caller's scheduling for w: a caller at a real-time priority (the runner at a fault's
 * deadline) has its jobs run at it too, so that the commits do not wait behind the
 * machine's other work; at SCHED_OTHER otherwise.
 */
static void worker_sched(struct nft_worker *w, int prio)
{
	struct sched_param p = { .sched_priority = prio };

	if (w->prio == prio)
		return;
	if (pthread_setschedparam(w->tid, prio ? SCHED_FIFO : SCHED_OTHER, &p) == 0)
		w->prio = prio;
}

/*
 * The first context initialises libnftables' process-wide state (libxtables' globals,
 * guarded by a flag that is not thread-safe): once, here, before any thread makes its own.
 */
static void nft_init_once(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (ctx)
		nft_ctx_free(ctx);
}

static pthread_once_t nft_once = PTHREAD_ONCE_INIT;

void nft_prepare(void)
{
	pthread_once(&nft_once, nft_init_once);
}

void nft_release(const char *const *netns, int n)
{
	bool zones_left = false;

	pthread_mutex_lock(&workers_mu);
	for (int i = 0; i < NFT_WORKERS; i++) {
		struct nft_worker *w = &workers[i];

		for (int k = 0; w->used && k < n; k++)
			if (netns[k] && strcmp(w->netns, netns[k]) == 0)
				worker_stop(w);
		zones_left |= w->used && w->netns[0];
	}
	/* The root namespace's worker goes with the last zone's. */
	for (int i = 0; !zones_left && i < NFT_WORKERS; i++)
		if (workers[i].used)
			worker_stop(&workers[i]);
	pthread_mutex_unlock(&workers_mu);
}

/* Run jobs at once, each by its namespace's worker, and wait for all; *last_us = last commit. */
static bool nft_run_jobs(struct nft_job *jobs, int n, int64_t *last_us)
{
	struct nft_worker *w[NF_NFT_MAX_JOBS] = { NULL };
	struct sched_param prio;
	int policy, fifo = 0;
	bool ok = true;

	nft_prepare();
	policy = sched_getscheduler(0); /* this thread's, with SCHED_RESET_ON_FORK or'ed in */
	if (policy >= 0 && (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO && sched_getparam(0, &prio) == 0)
		fifo = prio.sched_priority;
	pthread_mutex_lock(&workers_mu);
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		jobs[i].ok = jobs[i].done = false;
		jobs[i].error[0] = '\0';
		jobs[i].output = NULL;
		w[i] = worker_for(jobs[i].netns, jobs[i].error, sizeof(jobs[i].error));
		if (!w[i])
			continue;
		worker_sched(w[i], fifo);
		pthread_mutex_lock(&w[i]->mu);
		w[i]->job = &jobs[i];
		pthread_cond_broadcast(&w[i]->cv);
		pthread_mutex_unlock(&w[i]->mu);
	}
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		if (w[i]) {
			pthread_mutex_lock(&w[i]->mu);
			while (!jobs[i].done)
				pthread_cond_wait(&w[i]->cv, &w[i]->mu);
			pthread_mutex_unlock(&w[i]->mu);
			if (w[i]->broken)
				worker_stop(w[i]); /* the next job tries afresh */
		}
		if (last_us && jobs[i].committed_us > *last_us)
			*last_us = jobs[i].committed_us;
		if (!jobs[i].ok) {
			jobs[i].error[strcspn(jobs[i].error, "\n")] = '\0';
			log_error("network fault: nft in %s: %s", jobs[i].netns ? jobs[i].netns :
				  "the root namespace", jobs[i].error);
			ok = false;
		}
	}
	pthread_mutex_unlock(&workers_mu);
	return ok && n <= NF_NFT_MAX_JOBS;
}

bool nft_run_all(const char *const *netns, const char *const *scripts, int n, int64_t *last_us)
{
	struct nft_job jobs[NF_NFT_MAX_JOBS];
	int k = 0;

	for (int i = 0; i < n && k < NF_NFT_MAX_JOBS; i++) {
		if (!scripts[i] || !*scripts[i])
			continue;
		memset(&jobs[k], 0, sizeof(jobs[k]));
		jobs[k].netns = netns[i];
		jobs[k].script = scripts[i];
		k++;
	}
	if (last_us)
		*last_us = 0;
	return nft_run_jobs(jobs, k, last_us);
}

int nft_tables_with_prefix(const char *netns, const char *prefix, char (*names)[NF_TABLE_LEN],
			   int max)
{
	struct nft_job j;
	char *line, *save = NULL;
	int n = 0;

	memset(&j, 0, sizeof(j));
	j.netns = netns;
	j.script = "list tables ip";
	j.want_output = true;
	if (!nft_run_jobs(&j, 1, NULL))
		return -1;
	/* Lines read "table ip <name>". */
	for (line = strtok_r(j.output, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *name;

		if (strncmp(line, "table ip ", 9) != 0)
			continue;
		name = line + 9;
		if (strncmp(name, prefix, strlen(prefix)) == 0 && n < max &&
		    str_copy(names[n], NF_TABLE_LEN, name))
			n++;
	}
	free(j.output);
	return n;
}
