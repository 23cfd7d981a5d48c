/* compare.c - load summary.json files of several runs into one comparison. */
#include "compare.h"
#include "scenario.h"

#include "judge.h"
#include "util.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void compare_stats(double *values, int n, struct compare_stat *out)
{
	struct trial_stats ts;

	/* The same statistics as the run's own reports: the judge's. */
	judge_stats(values, n, &ts);
	out->n = ts.observed;
	out->min = ts.min;
	out->p50 = ts.p50;
	out->p95 = ts.p95;
	out->max = ts.max;
}

static json_object *path_get(json_object *o, const char *a, const char *b)
{
	json_object *x = o;

	if (a && !json_object_object_get_ex(x, a, &x))
		return NULL;
	if (b && !json_object_object_get_ex(x, b, &x))
		return NULL;
	return x;
}

/* A number at metrics.<block>.<field>, skipped when null (not observed in that trial). */
static void collect(json_object *trials, const char *block, const char *field, struct compare_stat *out)
{
	int n = (int)json_object_array_length(trials), k = 0;
	double *v = xcalloc((size_t)(n ? n : 1), sizeof(*v));

	for (int i = 0; i < n; i++) {
		json_object *m = path_get(json_object_array_get_idx(trials, i), "metrics", block);
		json_object *x = m ? path_get(m, field, NULL) : NULL;

		if (x && !json_object_is_type(x, json_type_null))
			v[k++] = json_object_get_double(x);
	}
	compare_stats(v, k, out);
	free(v);
}

static struct compare_slo *slo_slot(struct compare_cell *c, const char *metric, const char *threshold)
{
	for (int i = 0; i < c->nslos; i++)
		if (strcmp(c->slos[i].metric, metric) == 0 && strcmp(c->slos[i].threshold, threshold) == 0)
			return &c->slos[i];
	if (c->nslos == COMPARE_MAX_SLOS)
		return NULL;
	str_copy(c->slos[c->nslos].metric, sizeof(c->slos[0].metric), metric);
	str_copy(c->slos[c->nslos].threshold, sizeof(c->slos[0].threshold), threshold);
	return &c->slos[c->nslos++];
}

static void collect_verdicts(json_object *trials, struct compare_cell *c)
{
	int n = (int)json_object_array_length(trials);

	for (int i = 0; i < n; i++) {
		json_object *vs = path_get(json_object_array_get_idx(trials, i), "verdicts", NULL);
		/* A summary written by hand or damaged: anything but an array holds no verdict. */
		int nv = json_object_is_type(vs, json_type_array) ? (int)json_object_array_length(vs) : 0;

		for (int j = 0; j < nv; j++) {
			json_object *v = json_object_array_get_idx(vs, j);
			json_object *slo = path_get(v, "slo", NULL), *th = path_get(v, "threshold", NULL);
			json_object *verdict = path_get(v, "verdict", NULL);
			struct compare_slo *s;
			const char *what;

			if (!slo || !th || !verdict)
				continue;
			s = slo_slot(c, json_object_get_string(slo), json_object_get_string(th));
			if (!s)
				continue;
			what = json_object_get_string(verdict);
			if (strcmp(what, "pass") == 0)
				s->pass++;
			else if (strcmp(what, "fail") == 0)
				s->fail++;
			else
				s->skip++;
		}
	}
}

static int scenario_index(struct comparison *cmp, const char *name)
{
	for (int i = 0; i < cmp->nscenarios; i++)
		if (strcmp(cmp->scenarios[i], name) == 0)
			return i;
	if (cmp->nscenarios == COMPARE_MAX_SCENARIOS)
		return -1;
	str_copy(cmp->scenarios[cmp->nscenarios], sizeof(cmp->scenarios[0]), name);
	return cmp->nscenarios++;
}

static bool load_summary(struct comparison *cmp, int column, const char *path)
{
	json_object *root = json_object_from_file(path);
	json_object *name, *trials, *x;
	struct compare_cell *c;
	int si;

	if (!root) {
		log_error("%s: not a readable summary.json", path);
		return false;
	}
	name = path_get(root, "scenario", "name");
	trials = path_get(root, "trials", NULL);
	if (!name || !trials || !json_object_is_type(trials, json_type_array)) {
		log_error("%s: not a bise summary (no scenario name or trials)", path);
		json_object_put(root);
		return false;
	}
	si = scenario_index(cmp, json_object_get_string(name));
	if (si < 0) {
		json_object_put(root);
		return false;
	}
	c = &cmp->cells[si][column];
	memset(c, 0, sizeof(*c));
	c->present = true;
	c->trials = (int)json_object_array_length(trials);
	if ((x = path_get(root, "versions", NULL)))
		str_copy(c->versions, sizeof(c->versions), json_object_get_string(x));
	if ((x = path_get(root, "overall", NULL)))
		str_copy(c->overall, sizeof(c->overall), json_object_get_string(x));
	collect(trials, "failover", "failover_time_s", &c->failover_s);
	collect(trials, "writes", "resolution_ms", &c->failover_unc_ms);
	collect(trials, "failover", "server_accept_s", &c->server_accept_s);
	collect(trials, "failover", "promotion_s", &c->promotion_s);
	collect(trials, "failover", "label_switch_s", &c->label_switch_s);
	collect(trials, "data_loss", "lost", &c->lost);
	collect(trials, "writes", "indeterminate", &c->indeterminate);
	collect(trials, "recovery", "seconds", &c->recovery_s);
	collect_verdicts(trials, c);
	json_object_put(root);
	return true;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool load_dir(struct comparison *cmp, int column, const char *dir)
{
	char path[4400];
	DIR *d;
	struct dirent *de;
	char *names[COMPARE_MAX_SCENARIOS];
	int n = 0;
	bool ok = true;

	if (str_format(path, sizeof(path), "%s/summary.json", dir) && is_file(path))
		return load_summary(cmp, column, path);
	d = opendir(dir);
	if (!d) {
		log_error("cannot read run directory %s", dir);
		return false;
	}
	while ((de = readdir(d)) && n < COMPARE_MAX_SCENARIOS) {
		if (de->d_name[0] == '.')
			continue;
		if (str_format(path, sizeof(path), "%s/%s/summary.json", dir, de->d_name) && is_file(path))
			names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	for (int i = 0; i < n; i++) {
		str_format(path, sizeof(path), "%s/%s/summary.json", dir, names[i]);
		ok &= load_summary(cmp, column, path);
		free(names[i]);
	}
	if (n == 0) {
		log_error("%s holds no summary.json (is it a bise run directory?)", dir);
		return false;
	}
	return ok;
}

bool compare_load(char *const *dirs, int ndirs, struct comparison *out)
{
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (ndirs < 1 || ndirs > COMPARE_MAX_COLUMNS) {
		log_error("compare needs 1 to %d run directories", COMPARE_MAX_COLUMNS);
		return false;
	}
	for (int i = 0; i < ndirs; i++) {
		size_t len = strlen(dirs[i]);

		/* The label is the directory as given, without a trailing slash. */
		str_copy(out->columns[i], sizeof(out->columns[i]), dirs[i]);
		if (len > 1 && len < sizeof(out->columns[i]) && out->columns[i][len - 1] == '/')
			out->columns[i][len - 1] = '\0';
		out->ncolumns++;
		ok &= load_dir(out, i, dirs[i]);
	}
	return ok;
}

bool variants_comparison(const struct scenario *base, const char *run_dir, struct comparison *out)
{
	struct comparison *raw = xcalloc(1, sizeof(*raw));
	char *dirs[SCENARIO_MAX_VARIANTS], path[4400];
	int col[SCENARIO_MAX_VARIANTS], n = 0;
	bool ok;

	for (int v = 0; v < base->nvariants; v++) {
		dirs[n] = xmalloc(4400);
		if (str_format(dirs[n], 4400, "%s/%s@%s", run_dir, base->name, base->variants[v].name) &&
		    str_format(path, sizeof(path), "%s/summary.json", dirs[n]) && is_file(path))
			col[n++] = v;
		else
			free(dirs[n]);
	}
	if (n == 0) {
		log_error("%s: no variant has results to compare in %s", base->name, run_dir);
		free(raw);
		return false;
	}
	ok = compare_load(dirs, n, raw);
	memset(out, 0, sizeof(*out));
	if (ok) {
		/* compare_load gives each variant's "<scenario>@<variant>" a row: fold them into one. */
		out->nscenarios = 1;
		str_copy(out->scenarios[0], sizeof(out->scenarios[0]), base->name);
		out->ncolumns = n;
		for (int c = 0; c < n; c++) {
			str_copy(out->columns[c], sizeof(out->columns[c]), base->variants[col[c]].name);
			for (int r = 0; r < raw->nscenarios; r++)
				if (raw->cells[r][c].present)
					out->cells[0][c] = raw->cells[r][c];
		}
	}
	for (int i = 0; i < n; i++)
		free(dirs[i]);
	free(raw);
	return ok;
}
