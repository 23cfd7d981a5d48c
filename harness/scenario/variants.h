/*
 * variants.h - one scenario run on several cluster variants (etcd v3 vs v2, async vs
 * synchronous...) and compared: each variant becomes a scenario of its own, named
 * "<scenario>@<variant>" on cluster "<cluster>-<variant>", and its results are gathered
 * into one comparison with a column per variant.
 */
#ifndef BISE_VARIANTS_H
#define BISE_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

/* Longest cluster name the scenario format accepts (cluster.name). */
#define VARIANT_CLUSTER_NAME_MAX 20

/* One scenario to run: a scenario without variants as it is, or one variant of one. */
struct variant_run {
	struct scenario *sc;         /* owned (a copy) when variant >= 0 */
	const struct scenario *base; /* the scenario as loaded */
	int variant;                 /* index in base->variants, -1 when base has none */
};

/*
 * "<cluster>-<variant>" cut to VARIANT_CLUSTER_NAME_MAX characters by shortening the
 * cluster part, so different variants always get different names (state directories).
 */
void variant_cluster_name(const char *cluster, const char *variant, char *out, size_t len);

/*
 * out = a deep copy of base running variant v: name "<scenario>@<variant>", the variant's
 * cluster renamed as above, no variants of its own. Free with scenario_free. Logs its error.
 */
bool variant_scenario(const struct scenario *base, int v, struct scenario *out);

/*
 * Every scenario once, or once per variant in the order given; *out is an array of the
 * returned count, freed with variants_free. -1 on error (logged).
 */
int variants_expand(struct scenario *const *scenarios, int n, struct variant_run **out);

void variants_free(struct variant_run *runs, int n);

/*
 * Replace sc's variants by those of the command line, each "NAME[=KEY=VALUE[,KEY=VALUE]]"
 * checked as a variant's cluster section against sc's cluster. Logs its errors.
 */
bool variants_from_args(struct scenario *sc, char *const *args, int nargs);

#endif
