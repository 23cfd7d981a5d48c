/* variants.c - expand a scenario's cluster variants into runs and compare their results. */
#include "variants.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void variant_cluster_name(const char *cluster, const char *variant, char *out, size_t len)
{
	size_t vlen = strlen(variant), room = VARIANT_CLUSTER_NAME_MAX;
	int keep;

	if (room >= len)
		room = len - 1;
	/* The variant part stays whole: it is what tells two variants' clusters apart. */
	keep = vlen + 1 < room ? (int)(room - vlen - 1) : 0;
	if (keep > (int)strlen(cluster))
		keep = (int)strlen(cluster);
	str_format(out, len, "%.*s-%s", keep, cluster, variant);
}

bool variant_scenario(const struct scenario *base, int v, struct scenario *out)
{
	const struct scenario_variant *var = &base->variants[v];

	*out = *base;
	out->path = out->text = out->description = NULL;
	out->steps = NULL;
	out->nvariants = 0;
	if (!str_format(out->name, sizeof(out->name), "%s@%s", base->name, var->name)) {
		log_error("%s: scenario name and variant %s together are too long", base->name, var->name);
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->cluster = var->cluster;
	variant_cluster_name(base->cluster.name, var->name, out->cluster.name, sizeof(out->cluster.name));
	out->path = base->path ? xstrdup(base->path) : NULL;
	out->text = base->text ? xstrdup(base->text) : NULL;
	out->description = base->description ? xstrdup(base->description) : NULL;
	if (base->nsteps > 0) {
		out->steps = xcalloc((size_t)base->nsteps, sizeof(*out->steps));
		memcpy(out->steps, base->steps, (size_t)base->nsteps * sizeof(*out->steps));
	}
	return true;
}

int variants_expand(struct scenario *const *scenarios, int n, struct variant_run **out)
{
	struct variant_run *runs;
	int total = 0, k = 0;

	for (int i = 0; i < n; i++)
		total += scenarios[i]->nvariants > 0 ? scenarios[i]->nvariants : 1;
	runs = xcalloc((size_t)(total ? total : 1), sizeof(*runs));
	for (int i = 0; i < n; i++) {
		if (scenarios[i]->nvariants == 0) {
			runs[k++] = (struct variant_run){ scenarios[i], scenarios[i], -1 };
			continue;
		}
		for (int v = 0; v < scenarios[i]->nvariants; v++) {
			struct scenario *sc = xcalloc(1, sizeof(*sc));

			runs[k] = (struct variant_run){ sc, scenarios[i], v };
			k++;
			if (!variant_scenario(scenarios[i], v, sc)) {
				variants_free(runs, k);
				*out = NULL;
				return -1;
			}
		}
	}
	*out = runs;
	return total;
}

void variants_free(struct variant_run *runs, int n)
{
	if (!runs)
		return;
	for (int i = 0; i < n; i++) {
		if (runs[i].variant >= 0 && runs[i].sc) {
			scenario_free(runs[i].sc);
			free(runs[i].sc);
		}
	}
	free(runs);
}

/*
 * Log each line of a loader message on its own; "--variant x:1:6: error: MSG" loses the
 * position, meaningless on a command line, and the repeated "error".
 */
static void log_lines(char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *colon = strchr(line, ':'), *msg = strstr(line, ": error: ");

		if (colon && msg && colon <= msg)
			log_error("%.*s: %s", (int)(colon - line), line, msg + strlen(": error: "));
		else
			log_error("%s", line);
	}
}

bool variants_from_args(struct scenario *sc, char *const *args, int nargs)
{
	struct scenario_variant *vars;
	char name[64], errbuf[2048];
	int n = 0;
	bool ok = true;

	if (nargs > SCENARIO_MAX_VARIANTS) {
		log_error("--variant given %d times (at most %d)", nargs, SCENARIO_MAX_VARIANTS);
		return false;
	}
	vars = xcalloc((size_t)SCENARIO_MAX_VARIANTS, sizeof(*vars));
	for (int i = 0; i < nargs; i++) {
		const char *eq = strchr(args[i], '=');
		size_t len = eq ? (size_t)(eq - args[i]) : strlen(args[i]);

		if (len >= sizeof(name)) {
			log_error("--variant %s: the name is too long", args[i]);
			ok = false;
			continue;
		}
		memcpy(name, args[i], len);
		name[len] = '\0';
		if (!scenario_variant_parse(&sc->cluster, name, eq ? eq + 1 : "", &vars[n], errbuf,
					    sizeof(errbuf))) {
			log_lines(errbuf);
			ok = false;
			continue;
		}
		for (int k = 0; k < n; k++) {
			if (strcmp(vars[k].name, name) == 0) {
				log_error("--variant %s is given twice", name);
				ok = false;
			}
		}
		if (strlen(sc->name) + 1 + strlen(name) >= SCENARIO_NAME_LEN) {
			log_error("--variant %s: %s@%s would be longer than %d characters", name, sc->name,
				  name, SCENARIO_NAME_LEN - 1);
			ok = false;
		}
		n++;
	}
	if (ok) {
		memcpy(sc->variants, vars, sizeof(sc->variants));
		sc->nvariants = n;
	}
	free(vars);
	return ok;
}
