/* nodes.c - cordon and uncordon a zone's nodes, marked as bise's. See nodes.h. */
#include "nodes.h"

#include "cnpg.h"
#include "operators.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

json_object *nodes_cordon_patch(const char *run, const char *owner)
{
	json_object *p = json_object_new_object(), *meta = json_object_new_object();
	json_object *ann = json_object_new_object(), *spec = json_object_new_object();

	json_object_object_add(ann, NODES_CORDONED_BY, json_object_new_string(run));
	json_object_object_add(ann, NODES_CORDONED_FOR, json_object_new_string(owner));
	json_object_object_add(meta, "annotations", ann);
	json_object_object_add(p, "metadata", meta);
	json_object_object_add(spec, "unschedulable", json_object_new_boolean(true));
	json_object_object_add(p, "spec", spec);
	return p;
}

json_object *nodes_uncordon_patch(void)
{
	json_object *p = json_object_new_object(), *meta = json_object_new_object();
	json_object *ann = json_object_new_object(), *spec = json_object_new_object();

	/* null removes in a merge patch: the node is as it was before bise (as kubectl uncordon). */
	json_object_object_add(ann, NODES_CORDONED_BY, NULL);
	json_object_object_add(ann, NODES_CORDONED_FOR, NULL);
	json_object_object_add(meta, "annotations", ann);
	json_object_object_add(p, "metadata", meta);
	json_object_object_add(spec, "unschedulable", NULL);
	json_object_object_add(p, "spec", spec);
	return p;
}

/*
 * The nodes of zone (all when NULL); false (logged) on an error. Nodes bise may not list
 * (403: a tenant of a managed cluster) or a dry run (404) give none, with a warning:
 * bise cannot have cordoned them either.
 */
static bool list_nodes(struct k8s_client *c, const char *zone, json_object **items)
{
	struct k8s_ref ref = { "nodes", NULL, NULL };
	char path[512], sel[128], *esc;
	enum log_level level = log_get_level();
	bool ok;

	if (zone) {
		str_format(sel, sizeof(sel), CNPG_ZONE_LABEL "=%s", zone);
		esc = k8s_escape(sel);
		str_format(path, sizeof(path), "/api/v1/nodes?labelSelector=%s", esc);
		free(esc);
	} else {
		str_copy(path, sizeof(path), "/api/v1/nodes");
	}
	log_set_level(LOG_QUIET);
	ok = k8s_list(c, path, &ref, 100, items, NULL, 0);
	log_set_level(level);
	if (ok)
		return true;
	if (c->status == 403 || c->status == 404) {
		if (c->status == 403)
			log_warn("%s: bise cannot cordon or uncordon nodes here", c->error);
		*items = json_object_new_array();
		return true;
	}
	log_error("%s", c->error);
	return false;
}

static bool patch_node(struct k8s_client *c, const char *name, json_object *patch)
{
	struct k8s_ref ref = { "node", NULL, name };
	char path[512];

	str_format(path, sizeof(path), "/api/v1/nodes/%s", name);
	return k8s_patch(c, path, &ref, K8S_PATCH_MERGE, patch, NULL);
}

int nodes_cordon_zone(struct k8s_client *c, const char *zone, const char *run, const char *owner)
{
	json_object *items, *patch;
	int cordoned = 0;

	if (!list_nodes(c, zone, &items))
		return -1;
	if (json_object_array_length(items) == 0)
		log_warn("zone %s has no node labelled " CNPG_ZONE_LABEL "=%s: nothing to cordon",
			 zone, zone);
	patch = nodes_cordon_patch(run, owner);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *node = json_object_array_get_idx(items, i);
		json_object *u = k8s_jget(node, "spec.unschedulable");
		const char *name = k8s_jstr(node, "metadata.name");

		/* Cordoned by someone else (or by bise already): not ours to uncordon later. */
		if (!name || (u && json_object_get_boolean(u)))
			continue;
		if (!patch_node(c, name, patch)) {
			cordoned = -1;
			break;
		}
		cordoned++;
	}
	json_object_put(patch);
	json_object_put(items);
	return cordoned;
}

bool nodes_uncordon(struct k8s_client *c, const char *zone, const char *owner)
{
	json_object *items, *patch;
	bool ok = true;

	if (!list_nodes(c, zone, &items))
		return false;
	patch = nodes_uncordon_patch();
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *node = json_object_array_get_idx(items, i), *ann, *v;
		const char *name = k8s_jstr(node, "metadata.name");

		ann = k8s_jget(node, "metadata.annotations");
		if (!name || !ann || !json_object_object_get_ex(ann, NODES_CORDONED_FOR, &v) ||
		    strcmp(json_object_get_string(v), owner) != 0)
			continue;
		ok = patch_node(c, name, patch) && ok;
	}
	json_object_put(patch);
	json_object_put(items);
	return ok;
}
