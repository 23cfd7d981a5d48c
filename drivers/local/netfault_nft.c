/*
 * netfault_nft.c - nftables scripts run through libnftables inside the zones' namespaces,
 * every namespace at once: one thread per namespace enters it (setns() changes only the
 * calling thread's network namespace) and loads its whole script as one transaction. A
 * separate `iptables` process per rule took 50-100 ms each on this 2-core machine, so a
 * partition's rules landed hundreds of milliseconds apart; in-process batches land within
 * a few milliseconds, all of a namespace's rules at the same instant.
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

static void *nft_job_run(void *arg)
{
	struct nft_job *j = arg;
	struct nft_ctx *ctx;

	if (j->netns) {
		char path[96];
		int fd;

		str_format(path, sizeof(path), "/run/netns/%s", j->netns);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
			str_format(j->error, sizeof(j->error), "cannot enter %s: %s", path,
				   strerror(errno));
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		close(fd);
	}
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		str_format(j->error, sizeof(j->error), "cannot create an nftables context");
		return NULL;
	}
	nft_ctx_buffer_error(ctx);
	if (j->want_output)
		nft_ctx_buffer_output(ctx);
	j->ok = nft_run_cmd_from_buffer(ctx, j->script) == 0;
	j->committed_us = mono_now_us();
	if (!j->ok) {
		const char *err = nft_ctx_get_error_buffer(ctx);

		str_copy(j->error, sizeof(j->error), err && *err ? err : "nft failed");
	} else if (j->want_output) {
		const char *out = nft_ctx_get_output_buffer(ctx);

		j->output = xstrdup(out ? out : "");
	}
	nft_ctx_free(ctx);
	return NULL;
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

/* Run jobs in parallel, one thread each, and wait for all of them; *last_us = last commit. */
static bool nft_run_jobs(struct nft_job *jobs, int n, int64_t *last_us)
{

	pthread_t tids[NF_NFT_MAX_JOBS];
	bool started[NF_NFT_MAX_JOBS] = { false };
	bool ok = true;
	pthread_attr_t attr, *use = NULL;
	struct sched_param prio;
	int policy;

	nft_prepare();
	/*
	 * A caller at a real-time priority (the runner at a fault's deadline) has its jobs run
	 * at it too, so that the commits do not wait behind the machine's other work.
	 */
	policy = sched_getscheduler(0); /* this thread's, with SCHED_RESET_ON_FORK or'ed in */
	if (policy >= 0 && (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO && sched_getparam(0, &prio) == 0 &&
	    pthread_attr_init(&attr) == 0) {
		use = &attr;
		if (pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) != 0 ||
		    pthread_attr_setschedpolicy(&attr, SCHED_FIFO) != 0 ||
		    pthread_attr_setschedparam(&attr, &prio) != 0) {
			pthread_attr_destroy(&attr);
			use = NULL;
		}
	}
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		jobs[i].ok = false;
		jobs[i].error[0] = '\0';
		jobs[i].output = NULL;
		if (pthread_create(&tids[i], use, nft_job_run, &jobs[i]) == 0)
			started[i] = true;
		else
			nft_job_run(&jobs[i]); /* no thread: enter and load here, in turn */
	}
	for (int i = 0; i < n && i < NF_NFT_MAX_JOBS; i++) {
		if (started[i])
			pthread_join(tids[i], NULL);
		if (last_us && jobs[i].committed_us > *last_us)
			*last_us = jobs[i].committed_us;
		if (!jobs[i].ok) {
			jobs[i].error[strcspn(jobs[i].error, "\n")] = '\0';
			log_error("network fault: nft in %s: %s", jobs[i].netns ? jobs[i].netns :
				  "the root namespace", jobs[i].error);
			ok = false;
		}
	}
	if (use)
		pthread_attr_destroy(use);
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
