/*
 * calibration.c - outages of known lengths that cause no failover, measured by bise as a
 * user runs it: for each kind and length, `bise run --repeat N` of a generated scenario on
 * one cluster kept up for the whole bench, then each trial's log through the metrics.
 * Kinds: the client cut from every zone; the primary's zone partitioned (shorter than the
 * TTL); PostgreSQL of the primary paused; Patroni and PostgreSQL paused. Printed per kind
 * and length: the fault's effective duration and its error against the request, the
 * write-unavailability window (failover_time) with its uncertainty, and the window's error
 * against the request (min/median/max). Each trial ends 4 s after the cluster is healthy
 * again: writers may need longer than the fault to come back (after a partition they do).
 *
 * Usage (root, after ./scripts/build):
 *   build/bise-calibration [-n REPS] [-l 0.5,1.5,3,5] [-k cut,partition,pause-pg,pause-both]
 *   build/bise-calibration -a WORKDIR [same options]   (only read an earlier bench's logs)
 * bise is BISE_BINARY, else the bise beside this program. Cluster "bcal" on 10.213.32.0/24
 * under /tmp/bise-bench-calibration; `bise down` at the end, whatever happened.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "event.h"
#include "metrics.h"
#include "util.h"

#define STATE_ROOT "/tmp/bise-bench-calibration"
#define MAX_REPS 20
#define MAX_LENGTHS 8

static bool analyse_only; /* -a WORKDIR: read the logs of an earlier bench, run nothing */

struct kind {
	const char *name;
	const char *step; /* the fault step's lines, without duration */
};

static const struct kind kinds[] = {
	{ "cut", "    fault: network-partition\n    target: primary\n"
		 "    between: [[client], [geneva, lucerne, gland]]\n" },
	{ "partition", "    fault: network-partition\n    target: primary\n" },
	{ "pause-pg", "    fault: process-pause\n    target: primary\n    what: postgres\n" },
	{ "pause-both", "    fault: process-pause\n    target: primary\n    what: both\n" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "min / median / max" of v[0..n-1] (sorted here), in ms. */
static void stats(char *buf, size_t len, double *v, int n)
{
	double med;

	if (n == 0) {
		str_copy(buf, len, "-");
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	str_format(buf, len, "%8.1f %8.1f %8.1f", v[0], med, v[n - 1]);
}

/* By completion time. */
static int cmp_end(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The longest gap between consecutive acknowledged writes (all writers) that overlaps
 * [from, to]: what clients saw of an outage whether or not a write failed in it (a cut
 * shorter than write_timeout only holds writes, it makes none fail).
 */
static int64_t longest_ack_gap(const struct events *ev, int64_t from, int64_t to)
{
	int64_t *ends = xcalloc(ev->nwrites + 1, sizeof(*ends)), best = 0;
	size_t n = 0;

	for (size_t i = 0; i < ev->nwrites; i++)
		if (metrics_acked(ev->writes[i].outcome))
			ends[n++] = ev->writes[i].end_us;
	qsort(ends, n, sizeof(*ends), cmp_end);
	for (size_t i = 1; i < n; i++)
		if (ends[i] >= from && ends[i - 1] <= to && ends[i] - ends[i - 1] > best)
			best = ends[i] - ends[i - 1];
	free(ends);
	return best;
}

static bool write_scenario(const char *path, const struct kind *k, double len_s)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(f, "name: cal-%s-%dms\n"
		   "cluster:\n  name: bcal\n  subnet: 10.213.32.0/24\n  ttl: 10s\n"
		   "workload:\n  writers: 4\n  rate: 100\n"
		   "steps:\n  - at: 3s\n%s    duration: %gs\n"
		   "  - wait: healthy\n    timeout: 60s\n  - wait: 4s\n",
		k->name, (int)(len_s * 1000 + 0.5), k->step, len_s);
	return fclose(f) == 0;
}

/* One (kind, length): run it, then read each trial's log. False when nothing could be read. */
static bool measure(const char *work, const struct kind *k, double len_s, int reps)
{
	char scenario[PATH_MAX], out[PATH_MAX], reps_text[16], path[PATH_MAX + 96];
	double eff[MAX_REPS], eff_err[MAX_REPS], win[MAX_REPS], unc[MAX_REPS], win_err[MAX_REPS];
	double lat_a[MAX_REPS], lat_r[MAX_REPS], late[MAX_REPS], gap[MAX_REPS], gap_err[MAX_REPS];
	char a[64], b[64], c[64], d[64], e[64];
	int n = 0, nwin = 0, promoted = 0, status = 0;

	str_format(scenario, sizeof(scenario), "%s/cal-%s-%g.yaml", work, k->name, len_s);
	str_format(out, sizeof(out), "%s/out-%s-%g", work, k->name, len_s);
	str_format(reps_text, sizeof(reps_text), "%d", reps);
	if (!analyse_only) {
		const char *args[] = { "run", "--quiet", "--seed", "1", "--repeat", reps_text, "--state-dir",
				       STATE_ROOT, "--out", out, scenario, NULL };

		if (!write_scenario(scenario, k, len_s))
			return false;
		status = itest_run_bise(args);
	}
	if (status != 0 && status != 1)
		fprintf(stderr, "%s %gs: bise run exited %d\n", k->name, len_s, status);
	for (int t = 1; t <= reps; t++) {
		struct events ev;
		struct metrics m;
		const struct fault_timing_metric *x;

		str_format(path, sizeof(path), "%s/cal-%s-%dms/trial-%d/events.jsonl", out, k->name,
			   (int)(len_s * 1000 + 0.5), t);
		memset(&ev, 0, sizeof(ev));
		if (!events_load(path, &ev))
			continue;
		metrics_compute(&ev, &m);
		x = m.nfault_timings > 0 ? &m.fault_timings[0] : NULL;
		if (x && x->reverted) {
			eff[n] = (double)x->effective_us / 1e3;
			eff_err[n] = (double)x->duration_error_us / 1e3;
			lat_a[n] = (double)x->apply_latency_us / 1e3;
			lat_r[n] = (double)x->revert_latency_us / 1e3;
			late[n] = (double)(x->apply_late_us > x->revert_late_us ? x->apply_late_us : x->revert_late_us) / 1e3;
			gap[n] = (double)longest_ack_gap(&ev, x->apply_effect_us, x->revert_effect_us) / 1e3;
			gap_err[n] = gap[n] - len_s * 1e3;
			n++;
		}
		/* failover_time: only where a write failed (an outage bise's window can see). */
		if (x && x->reverted && m.outage_closed) {
			win[nwin] = (double)m.wuw_dur_us / 1e3;
			unc[nwin] = (double)m.failover_uncertainty_us / 1e3;
			win_err[nwin] = win[nwin] - len_s * 1e3;
			nwin++;
		}
		promoted += m.promote_seen;
		events_free(&ev);
	}
	printf("%-10s %5.1fs  n=%d%s\n", k->name, len_s, n, promoted ? "  (a promotion was seen!)" : "");
	stats(a, sizeof(a), eff, n);
	stats(b, sizeof(b), eff_err, n);
	printf("  effective duration ms   %s   error vs requested ms %s\n", a, b);
	stats(a, sizeof(a), lat_a, n);
	stats(b, sizeof(b), lat_r, n);
	stats(c, sizeof(c), late, n);
	printf("  apply latency ms        %s   revert latency ms     %s   worst late ms %s\n", a, b, c);
	stats(c, sizeof(c), win, nwin);
	stats(d, sizeof(d), unc, nwin);
	stats(e, sizeof(e), win_err, nwin);
	printf("  window (failover_time)  %s   +- ms %s   (%d of %d trials had a failed write)\n"
	       "  window - requested ms   %s\n", c, d, nwin, n, e);
	stats(a, sizeof(a), gap, n);
	stats(b, sizeof(b), gap_err, n);
	printf("  longest ack gap ms      %s   gap - requested ms    %s\n", a, b);
	fflush(stdout);
	return n > 0;
}

/* "0.5,1.5,3" -> lengths; false on a bad list. */
static bool parse_lengths(const char *text, double *out, int *n)
{
	char *copy = xstrdup(text), *save = NULL;

	*n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		double v = strtod(t, &end);

		if (*end || v <= 0 || v > 9 || *n >= MAX_LENGTHS) {
			free(copy);
			return false;
		}
		out[(*n)++] = v;
	}
	free(copy);
	return *n > 0;
}

int main(int argc, char **argv)
{
	double lengths[MAX_LENGTHS];
	int nlengths = 0, reps = 3, opt;
	const char *kind_list = "cut,partition,pause-pg,pause-both";
	char work[PATH_MAX] = "/tmp/bise-bench-calibration-XXXXXX", self[PATH_MAX], bise[PATH_MAX + 8], first[PATH_MAX];
	bool ok = true, up = false;

	parse_lengths("0.5,1.5,3,5", lengths, &nlengths);
	while ((opt = getopt(argc, argv, "n:l:k:a:")) != -1) {
		if (opt == 'a' && str_copy(work, sizeof(work), optarg))
			analyse_only = true;
		else if (opt == 'n')
			reps = atoi(optarg);
		else if (opt == 'l' && parse_lengths(optarg, lengths, &nlengths))
			continue;
		else if (opt == 'k')
			kind_list = optarg;
		else
			reps = -1;
	}
	if (reps < 1 || reps > MAX_REPS || optind != argc) {
		fprintf(stderr, "usage: %s [-a WORKDIR] [-n REPS 1..%d] [-l SECONDS,...] [-k cut,partition,pause-pg,pause-both]\n",
			argv[0], MAX_REPS);
		return 2;
	}
	if (analyse_only) {
		printf("kind       length  (each figure: min median max over the trials)\n");
		for (size_t k = 0; k < NKINDS; k++)
			for (int l = 0; strstr(kind_list, kinds[k].name) && l < nlengths; l++)
				measure(work, &kinds[k], lengths[l], reps);
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root (network namespaces, cgroups)\n", argv[0]);
		return 2;
	}
	if (!itest_binary()) {
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (len <= 0)
			return 2;
		self[len] = '\0';
		*strrchr(self, '/') = '\0';
		str_format(bise, sizeof(bise), "%s/bise", self);
		setenv("BISE_BINARY", bise, 1);
	}
	if (!mkdtemp(work)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* One cluster for every run: bise run uses it when it is up, and leaves it up. */
	str_format(first, sizeof(first), "%s/up.yaml", work);
	if (write_scenario(first, &kinds[0], 1)) {
		const char *args[] = { "up", "--state-dir", STATE_ROOT, first, NULL };

		up = itest_run_bise(args) == 0;
	}
	if (!up) {
		fprintf(stderr, "%s: bise up failed\n", argv[0]);
		ok = false;
	}
	printf("kind       length  (each figure: min median max over the trials)\n");
	for (size_t k = 0; up && k < NKINDS; k++) {
		if (!strstr(kind_list, kinds[k].name))
			continue;
		for (int l = 0; l < nlengths; l++)
			ok &= measure(work, &kinds[k], lengths[l], reps);
	}
	{
		const char *heal[] = { "heal", "--state-dir", STATE_ROOT, NULL };
		const char *down[] = { "down", "--state-dir", STATE_ROOT, first, NULL };

		itest_run_bise(heal);
		if (itest_run_bise(down) != 0)
			ok = false;
		/* Empty once the cluster is down (an empty journal directory); kept otherwise. */
		rmdir(STATE_ROOT "/journal");
		rmdir(STATE_ROOT);
	}
	printf("logs and reports under %s\n", work);
	return ok ? 0 : 1;
}
