/*
 * netfault_nft.c - nftables scripts loaded inside the zones' namespaces, every namespace at
 * once: each namespace has a bise-nftd inside it that loads a whole script as one
 * transaction (libnftables). A separate `iptables` process per rule took 50-100 ms each
 * on this 2-core machine, so a partition's rules landed hundreds of milliseconds apart;
 * batches loaded by waiting helpers land within a millisecond or two, all of a
 * namespace's rules at the same instant.
 */
#include "netfault.h"

#include "nftd/nftd.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct nft_job {
	const char *netns;  /* NULL: the root namespace */
	const char *script; /* nft commands, one transaction */
	char *output;       /* what a listing printed (malloc'd), when asked for */
	bool want_output;
	bool ok;
	int64_t committed_us; /* when the transaction's commit returned (the rules hold from then) */
	char error[512];
};

/*
 * One bise-nftd per namespace (nftd/nftd.c), kept from its first transaction (the
 * cluster's warm-up) until the namespace goes (nft_release) or this process ends: it
 * entered the namespace and made its context once, so a fault's transaction costs a
 * wake-up and the commit. A thread started, entered and given a context per transaction
 * took 2-10 ms here under a cluster's load, varying by as much; a thread kept waiting
 * paid 15-20 ms for its first transaction after each fork of this process (its memory
 * turned copy-on-write); a process of its own pays neither. While it waits, it keeps its
 * namespace alive: it is released before the namespace is deleted, and checked against
 * /run/netns/<name> before each use, so a namespace made again under the same name gets
 * a new one.
 */
struct nft_worker {
	bool used;
	char netns[64]; /* "" for the root namespace */
	dev_t dev;      /* the namespace it entered (nsfs device and inode) */
	ino_t ino;
	pid_t pid;
	int fd;   /* our end of its socket (SOCK_SEQPACKET) */
	int prio; /* SCHED_FIFO priority it runs at, 0 for SCHED_OTHER */
};

#define NFT_WORKERS (2 * NF_NFT_MAX_JOBS)
#define NFTD_READY_MS 10000 /* how long a new bise-nftd may take to say it is ready */

static struct nft_worker workers[NFT_WORKERS];
static pthread_mutex_t workers_mu = PTHREAD_MUTEX_INITIALIZER; /* one caller at a time */
static char nft_reply[sizeof(struct nftd_reply) + NFTD_TEXT_MAX + 1]; /* under workers_mu */

/* Close w's socket (it exits on that) and reap it. */
static void worker_stop(struct nft_worker *w)
{
	close(w->fd);
	if (waitpid(w->pid, NULL, 0) < 0 && errno != ECHILD) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	w->used = false;
}

/*
 * Read w's reply into j (NULL: the ready message, into why); false when it failed or w
 * is gone (w is stopped then).
 */
static bool worker_reply(struct nft_worker *w, struct nft_job *j, char *why, size_t why_len)
{
	struct nftd_reply r;
	ssize_t n;

	do
		n = recv(w->fd, nft_reply, sizeof(nft_reply) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)sizeof(r)) {
		str_format(why, why_len, "bise-nftd for %s ended", w->netns[0] ? w->netns : "the root namespace");
		worker_stop(w);
		return false;
	}
	nft_reply[n] = '\0';
	memcpy(&r, nft_reply, sizeof(r));
	if (j) {
		j->committed_us = r.committed_us;
		if (r.ok && j->want_output)
			j->output = xstrdup(nft_reply + sizeof(r));
	}
	if (!r.ok)
		str_copy(why, why_len, nft_reply[sizeof(r)] ? nft_reply + sizeof(r) : "nft failed");
	return r.ok != 0;
}

/* Start a bise-nftd in nspath (NULL: ours) into w and wait until it is ready; false (why). */
static bool worker_start(struct nft_worker *w, const char *nspath, char *why, size_t why_len)
{
	char exe[LOCAL_PATH_LEN];
	int sv[2];
	struct pollfd pfd;

	if (!nf_helper_find(NF_NFTD, "BISE_NFTD", exe, sizeof(exe))) {
		str_format(why, why_len, "cannot find " NF_NFTD " (set BISE_NFTD, or install it beside bise)");
		return false;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		str_format(why, why_len, "socketpair: %s", strerror(errno));
		return false;
	}
	w->pid = fork();
	if (w->pid == 0) {
		/* Only system calls here: this process has threads. fd 3 is its socket. */
		char *argv[] = { exe, (char *)(nspath ? nspath : "-"), NULL };

		if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) != 0 : dup2(sv[1], 3) != 3)
			_exit(126);
		execv(exe, argv);
		_exit(127);
	}
	close(sv[1]);
	if (w->pid < 0) {
		str_format(why, why_len, "fork: %s", strerror(errno));
		close(sv[0]);
		return false;
	}
	w->fd = sv[0];
	w->used = true;
	pfd = (struct pollfd){ .fd = w->fd, .events = POLLIN };
	if (poll(&pfd, 1, NFTD_READY_MS) != 1) {
		str_format(why, why_len, NF_NFTD " for %s did not start", nspath ? nspath : "the root namespace");
		kill(w->pid, SIGKILL);
		worker_stop(w);
		return false;
	}
	if (!worker_reply(w, NULL, why, why_len)) {
		if (w->used)
			worker_stop(w);
		return false;
	}
	return true;
}

/*
 * The worker of netns (NULL: the root one), started when there is none or when the
 * namespace of that name is no longer the one it entered; NULL (why) when none could be
 * started or the namespace does not exist.
 */
static struct nft_worker *worker_for(const char *netns, char *why, size_t why_len)
{
	const char *name = netns ? netns : "";
	struct nft_worker *w = NULL;
	char path[96];
	struct stat st;

	if (netns) {
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
	if (netns) {
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
	return worker_start(w, netns ? path : NULL, why, why_len) ? w : NULL;
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
	if (sched_setscheduler(w->pid, prio ? SCHED_FIFO : SCHED_OTHER, &p) == 0)
		w->prio = prio;
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

	policy = sched_getscheduler(0); /* this thread's, with SCHED_RESET_ON_FORK or'ed in */
	if (policy >= 0 && (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO && sched_getparam(0, &prio) == 0)
		fifo = prio.sched_priority;
	pthread_mutex_lock(&workers_mu);
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		char *msg;
		size_t len = strlen(jobs[i].script) + 1;

		jobs[i].ok = false;
		jobs[i].error[0] = '\0';
		jobs[i].output = NULL;
		w[i] = worker_for(jobs[i].netns, jobs[i].error, sizeof(jobs[i].error));
		if (!w[i])
			continue;
		if (len > NFTD_MSG_MAX) {
			str_copy(jobs[i].error, sizeof(jobs[i].error), "script too long");
			w[i] = NULL;
			continue;
		}
		worker_sched(w[i], fifo);
		msg = xmalloc(len);
		msg[0] = jobs[i].want_output ? 'o' : '-';
		memcpy(msg + 1, jobs[i].script, len - 1);
		if (send(w[i]->fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
			str_format(jobs[i].error, sizeof(jobs[i].error), "cannot reach " NF_NFTD ": %s",
				   strerror(errno));
			worker_stop(w[i]);
			w[i] = NULL;
		}
		free(msg);
	}
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		if (w[i])
			jobs[i].ok = worker_reply(w[i], &jobs[i], jobs[i].error, sizeof(jobs[i].error));
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
