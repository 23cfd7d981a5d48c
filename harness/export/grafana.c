/*
 * grafana.c - one Grafana region annotation per fault of a trial (POST /api/annotations,
 * Grafana's HTTP API): organisation-wide unless a dashboard UID is given, tagged so a
 * dashboard's annotation query can pick bise's faults out ("bise", "scenario:...").
 */
#include "export.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int64_t grafana_epoch_ms(int64_t wall_origin_us, int64_t t_us, bool round_up)
{
	int64_t us;

	/* Dates from a log bise wrote; a sum out of range (a forged log) becomes 0, never UB. */
	if (__builtin_add_overflow(wall_origin_us, t_us, &us) || us < 0 || us > INT64_MAX - 999)
		return 0;

	/* Rounded outwards, the region covers the whole fault. */
	return round_up ? (us + 999) / 1000 : us / 1000;
}

static bool is_zone(const struct cluster_spec *c, const char *name)
{
	for (int i = 0; i < c->nzones; i++)
		if (strcmp(c->zones[i], name) == 0)
			return true;
	return false;
}

static void add_tag(json_object *tags, const char *prefix, const char *value)
{
	char tag[256];

	if (!value || !value[0])
		return;
	str_format(tag, sizeof(tag), "%s%s", prefix, value);
	/* Once each: a zone named by the target and by "between" is one tag. */
	for (size_t i = 0; i < json_object_array_length(tags); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(tags, i)), tag) == 0)
			return;
	json_object_array_add(tags, json_object_new_string(tag));
}

/*
 * The zones a fault involves: its target when that is a zone, the member when members
 * are named by zone (the local backend), and the zones its "between" option names.
 */
static void zone_tags(json_object *tags, const struct scenario *sc, const struct step *st, const char *node)
{
	const char *between = step_option(st, "between");

	if (is_zone(&sc->cluster, st->target))
		add_tag(tags, "zone:", st->target);
	if (is_zone(&sc->cluster, node))
		add_tag(tags, "zone:", node);
	while (between && *between) {
		size_t n = strcspn(between, "[], ");
		char word[ZONE_NAME_LEN];

		if (n > 0 && n < sizeof(word)) {
			memcpy(word, between, n);
			word[n] = '\0';
			if (is_zone(&sc->cluster, word))
				add_tag(tags, "zone:", word);
		}
		between += n;
		between += strspn(between, "[], ");
	}
}

json_object *grafana_annotation(const struct scenario_result *r, const struct trial_result *t,
				const struct ts_fault *f, const char *dashboard)
{
	const struct scenario *sc = r->scenario;
	const struct step *st = f->step >= 0 && f->step < sc->nsteps ? &sc->steps[f->step] : NULL;
	int64_t start, end;
	json_object *o, *tags;
	char text[512], trial[16];

	if (t->wall_origin_us <= 0)
		return NULL;
	start = grafana_epoch_ms(t->wall_origin_us, f->start_us, false);
	end = grafana_epoch_ms(t->wall_origin_us, f->end_us, true);
	if (start <= 0 || end <= 0)
		return NULL;
	if (end <= start)
		end = start + 1; /* a region, even for a fault shorter than a millisecond */
	o = json_object_new_object();
	if (dashboard && dashboard[0])
		json_object_object_add(o, "dashboardUID", json_object_new_string(dashboard));
	json_object_object_add(o, "time", json_object_new_int64(start));
	json_object_object_add(o, "timeEnd", json_object_new_int64(end));
	tags = json_object_new_array();
	add_tag(tags, "", "bise");
	add_tag(tags, "run:", r->run_id);
	add_tag(tags, "scenario:", sc->name);
	str_format(trial, sizeof(trial), "%d", t->trial);
	add_tag(tags, "trial:", trial);
	add_tag(tags, "fault:", f->fault);
	add_tag(tags, "node:", f->node);
	if (st)
		zone_tags(tags, sc, st, f->node);
	json_object_object_add(o, "tags", tags);
	str_format(text, sizeof(text), "bise %s, trial %d: %s on %s (step %d)%s", sc->name, t->trial, f->fault,
		   f->node[0] ? f->node : st ? st->target : "?", f->step + 1,
		   f->closed ? "" : ", not reverted before the log ended");
	json_object_object_add(o, "text", json_object_new_string(text));
	return o;
}

/* The token as given, unless it would break out of its header line. */
static const char *grafana_token(bool *bad)
{
	const char *token = getenv(GRAFANA_TOKEN_ENV);

	*bad = false;
	if (!token || !token[0])
		return NULL;
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*bad = true;
	return *bad ? NULL : token;
}

int grafana_annotate_trial(const char *base, const char *dashboard, const struct scenario_result *r,
			   const struct trial_result *t, int *sent)
{
	char url[4096], why[1024], answer[256], shown[512];
	size_t blen = strlen(base);
	const char *token;
	bool bad;
	int failed = 0;

	*sent = 0;
	if (!t->timeseries || t->timeseries->nfaults == 0)
		return 0;
	export_url_redact(base, shown, sizeof(shown));
	if (t->wall_origin_us <= 0) {
		log_warn("grafana %s: the log of trial %d has no wall-clock date: its %zu faults are not annotated",
			 shown, t->trial, t->timeseries->nfaults);
		return (int)t->timeseries->nfaults;
	}
	token = grafana_token(&bad);
	if (bad) {
		log_warn("grafana %s: %s holds a control character: no annotation sent", shown, GRAFANA_TOKEN_ENV);
		return (int)t->timeseries->nfaults;
	}
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (!str_format(url, sizeof(url), "%.*s/api/annotations", (int)blen, base))
		return (int)t->timeseries->nfaults;
	for (size_t i = 0; i < t->timeseries->nfaults; i++) {
		json_object *o = grafana_annotation(r, t, &t->timeseries->faults[i], dashboard);
		const char *body;
		long status;

		if (!o) {
			failed++;
			log_warn("grafana %s: %s of trial %d has no date in range: not annotated", shown,
				 t->timeseries->faults[i].fault, t->trial);
			continue;
		}
		body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		status = export_http("POST", url, "application/json", body, strlen(body), token, answer, sizeof(answer),
				     why, sizeof(why));
		json_object_put(o);
		if (status >= 200 && status <= 299) {
			(*sent)++;
			continue;
		}
		failed++;
		log_warn("grafana: the annotation of %s (trial %d, step %d) was not posted: %s",
			 t->timeseries->faults[i].fault, t->trial, t->timeseries->faults[i].step + 1, why);
		/* No answer at all: one timeout per trial, not one per fault. */
		if (status == 0 && i + 1 < t->timeseries->nfaults) {
			log_warn("grafana %s: the %zu other annotations of trial %d not tried", shown,
				 t->timeseries->nfaults - i - 1, t->trial);
			failed += (int)(t->timeseries->nfaults - i - 1);
			break;
		}
	}
	if (*sent > 0)
		log_info("grafana %s: %d fault annotations of trial %d posted", shown, *sent, t->trial);
	return failed;
}
