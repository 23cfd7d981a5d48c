/*
 * workload.c - start and stop the workload: the table, the writer threads and the
 * role watcher. The threads live in workload_writer.c and workload_watch.c.
 */
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WRITERS 1024
#define DEFAULT_CONNECT_TIMEOUT_US 1000000
#define DEFAULT_WRITE_TIMEOUT_US 5000000
#define DEFAULT_PROBE_RATE 100
/* Creating the table may have to wait for a primary that is still coming up. */
#define SETUP_MIN_US 10000000
#define SETUP_RETRY_US 200000
#define FIRST_ROUND_MAX_US 2000000

/* Plain index, not unique: a duplicate row must stay visible to the read-back. */
static const char setup_sql[] =
	"CREATE TABLE IF NOT EXISTS " WORKLOAD_TABLE " (run text NOT NULL, writer int NOT NULL,"
	" seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());"
	"CREATE INDEX IF NOT EXISTS " WORKLOAD_TABLE "_id ON " WORKLOAD_TABLE " (run, writer, seq)";

struct workload {
	struct wl_shared sh;
	struct wl_writer *writers;
	pthread_t *threads;
	int nthreads; /* writer threads started */
	int nplaced;  /* writers allocated (threads or not) */
	pthread_t watcher;
	bool watcher_started;
	struct wl_reader *readers;
	pthread_t *reader_threads;
	int nreaders; /* reader threads started */
};

/* "relation already exists, skipping" and the like: not worth the user's attention. */
static void quiet_notice(void *arg, const PGresult *res)
{
	char msg[256];

	wl_error_text(PQresultErrorMessage(res), msg, sizeof(msg));
	log_debug("workload setup: %s", msg);
}

static bool create_table(struct wl_shared *sh)
{
	int64_t budget = sh->spec.connect_timeout_us * 5;
	int64_t deadline = mono_now_us() + (budget > SETUP_MIN_US ? budget : SETUP_MIN_US);
	char err[256] = "";

	while (mono_now_us() < deadline) {
		int who = -1;
		char ident[WL_IDENT_LEN];
		int64_t until = mono_now_us() + sh->spec.connect_timeout_us;
		PGconn *c = wl_connect_rw(sh, "bise-setup", true, until < deadline ? until : deadline, NULL,
					  &who, ident, sizeof(ident), err, sizeof(err));

		if (c) {
			bool ok;

			PQsetNoticeReceiver(c, quiet_notice, NULL);
			ok = wl_command(c, setup_sql, deadline, err, sizeof(err));

			PQfinish(c);
			if (ok)
				return true;
		}
		log_debug("workload setup: %s", err);
		sleep_us(SETUP_RETRY_US);
	}
	log_error("cannot create table %s on a read-write member: %s", WORKLOAD_TABLE, err);
	return false;
}

static bool check_args(const char *run_id, const struct workload_spec *spec, int nmembers)
{
	if (strlen(run_id) >= WL_RUN_LEN) {
		log_error("workload: run id too long (max %d characters)", WL_RUN_LEN - 1);
		return false;
	}
	if (nmembers < 1 || nmembers > DRIVER_MAX_MEMBERS) {
		log_error("workload: %d members (need 1 to %d)", nmembers, DRIVER_MAX_MEMBERS);
		return false;
	}
	if (spec->writers < 0 || workload_total_writers(spec) > MAX_WRITERS ||
	    spec->rate_per_writer < 0 || spec->readers < 0 || spec->readers > MAX_WRITERS) {
		log_error("workload: bad spec: %d writers at %g/s (max %d writers)",
			  workload_total_writers(spec), spec->rate_per_writer, MAX_WRITERS);
		return false;
	}
	return true;
}

/* Open each placed writer's namespace up front, so a bad path fails before anything runs. */
static bool open_netns(struct wl_writer *wr, int total, const char *const *netns)
{
	for (int i = 0; i < total; i++)
		wr[i].netns_fd = -1;
	for (int i = 0; i < total; i++) {
		const char *mine = netns && netns[i] ? netns[i] : "";

		for (int m = 0; m < DRIVER_MAX_MEMBERS; m++)
			atomic_init(&wr[i].reached_us[m], 0);
		/* Writers in the same namespace share what one of them sees of a path. */
		wr[i].path_up_us = wr[i].reached_us;
		for (int j = 0; j < i; j++)
			if (strcmp(netns && netns[j] ? netns[j] : "", mine) == 0) {
				wr[i].path_up_us = wr[j].path_up_us;
				break;
			}
		if (!mine[0])
			continue;
		wr[i].netns_fd = open(netns[i], O_RDONLY | O_CLOEXEC);
		if (wr[i].netns_fd < 0) {
			log_error("workload: writer %d: cannot open network namespace %s: %s", i,
				  netns[i], strerror(errno));
			return false;
		}
	}
	return true;
}

/* fds of writers whose thread never started (a started thread closes its own). */
static void close_netns(struct workload *w, int total)
{
	for (int i = w->nthreads; i < total; i++)
		if (w->writers[i].netns_fd >= 0) {
			close(w->writers[i].netns_fd);
			w->writers[i].netns_fd = -1;
		}
}

/* Reader probes run outside the zones; on failure everything is stopped and freed. */
static bool start_readers(struct workload *w)
{
	int n = w->sh.spec.readers;

	if (n <= 0)
		return true;
	w->readers = xcalloc((size_t)n, sizeof(*w->readers));
	w->reader_threads = xcalloc((size_t)n, sizeof(*w->reader_threads));
	for (int i = 0; i < n; i++) {
		w->readers[i].sh = &w->sh;
		w->readers[i].id = i;
		w->readers[i].member = -1;
		if (pthread_create(&w->reader_threads[i], NULL, wl_reader_main, &w->readers[i]) != 0) {
			log_error("workload: cannot start reader thread %d", i);
			workload_stop(w);
			return false;
		}
		w->nreaders++;
	}
	return true;
}

struct workload *workload_start(const char *run_id, const struct workload_spec *spec,
				const struct member *members, int nmembers,
				int64_t watch_interval_us, struct event_log *log)
{
	return workload_start_placed(run_id, spec, members, nmembers, NULL, watch_interval_us, log);
}

struct workload *workload_start_placed(const char *run_id, const struct workload_spec *spec,
				       const struct member *members, int nmembers,
				       const char *const *netns, int64_t watch_interval_us,
				       struct event_log *log)
{
	return workload_start_entry(run_id, spec, members, nmembers, NULL, netns, watch_interval_us, log);
}

struct workload *workload_start_entry(const char *run_id, const struct workload_spec *spec,
				      const struct member *members, int nmembers,
				      const struct pg_endpoint *entry, const char *const *netns,
				      int64_t watch_interval_us, struct event_log *log)
{
	struct workload *w;
	struct wl_shared *sh;
	int64_t first_round_by, epoch;
	int total;

	if (!check_args(run_id, spec, nmembers))
		return NULL;
	total = workload_total_writers(spec);
	w = xcalloc(1, sizeof(*w));
	sh = &w->sh;
	str_copy(sh->run, sizeof(sh->run), run_id);
	sh->spec = *spec;
	if (sh->spec.connect_timeout_us <= 0)
		sh->spec.connect_timeout_us = DEFAULT_CONNECT_TIMEOUT_US;
	if (sh->spec.write_timeout_us <= 0)
		sh->spec.write_timeout_us = DEFAULT_WRITE_TIMEOUT_US;
	if (sh->spec.probe_rate <= 0)
		sh->spec.probe_rate = DEFAULT_PROBE_RATE;
	memcpy(sh->members, members, (size_t)nmembers * sizeof(*members));
	sh->nmembers = nmembers;
	if (entry && entry->host[0]) {
		sh->has_entry = true;
		str_copy(sh->entry.name, sizeof(sh->entry.name), "entry");
		sh->entry.endpoint = *entry;
	}
	sh->watch_interval_us = watch_interval_us;
	sh->log = log;
	atomic_init(&sh->stop, false);
	atomic_init(&sh->attempted, 0);
	atomic_init(&sh->failed, 0);
	atomic_init(&sh->ok, 0);
	atomic_init(&sh->rounds, 0);

	pthread_mutex_init(&sh->primary_lock, NULL);
	if (!create_table(sh)) {
		pthread_mutex_destroy(&sh->primary_lock);
		free(w);
		return NULL;
	}
	w->writers = xcalloc((size_t)total, sizeof(*w->writers));
	w->threads = xcalloc((size_t)total, sizeof(*w->threads));
	w->nplaced = total;
	/* One origin for every writer's probe slots: they interleave, never coincide. */
	epoch = mono_now_us();
	for (int i = 0; i < total; i++) {
		w->writers[i].sh = sh;
		w->writers[i].id = i;
		wl_probe_init(&w->writers[i], epoch);
	}
	if (!open_netns(w->writers, total, netns)) {
		workload_stop(w);
		return NULL;
	}
	first_round_by = mono_now_us() + FIRST_ROUND_MAX_US;
	if (pthread_create(&w->watcher, NULL, wl_watch_main, sh) != 0) {
		log_error("workload: cannot start the watcher thread");
		workload_stop(w);
		return NULL;
	}
	w->watcher_started = true;
	/* Through an entry, a write is named by the identities the watcher reads: one round first. */
	while (sh->has_entry && atomic_load(&sh->rounds) == 0 && mono_now_us() < first_round_by)
		sleep_us(10000);
	for (int i = 0; i < total; i++) {
		w->writers[i].sh = sh;
		w->writers[i].id = i;
		w->writers[i].member = -1;
		if (pthread_create(&w->threads[i], NULL, wl_writer_main, &w->writers[i]) != 0) {
			log_error("workload: cannot start writer thread %d", i);
			workload_stop(w);
			return NULL;
		}
		w->nthreads++;
	}
	if (!start_readers(w))
		return NULL;
	return w;
}

void workload_stop(struct workload *w)
{
	if (!w)
		return;
	atomic_store(&w->sh.stop, true);
	/* Writers first: each finishes (or times out) its write in flight. */
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	for (int i = 0; i < w->nreaders; i++)
		pthread_join(w->reader_threads[i], NULL);
	if (w->watcher_started)
		pthread_join(w->watcher, NULL);
	close_netns(w, w->nplaced);
	for (int i = 0; i < w->nplaced; i++)
		wl_probe_free(&w->writers[i]);
	pthread_mutex_destroy(&w->sh.primary_lock);
	free(w->writers);
	free(w->threads);
	free(w->readers);
	free(w->reader_threads);
	free(w);
}

void workload_counts(struct workload *w, int64_t *attempted, int64_t *ok, int64_t *failed)
{
	if (failed)
		*failed = w ? (int64_t)atomic_load(&w->sh.failed) : 0;
	if (attempted)
		*attempted = w ? (int64_t)atomic_load(&w->sh.attempted) : 0;
	if (ok)
		*ok = w ? (int64_t)atomic_load(&w->sh.ok) : 0;
}

void workload_current_primary(struct workload *w, char *buf, size_t len)
{
	if (!w) {
		str_copy(buf, len, "");
		return;
	}
	pthread_mutex_lock(&w->sh.primary_lock);
	str_copy(buf, len, w->sh.primary);
	pthread_mutex_unlock(&w->sh.primary_lock);
}
