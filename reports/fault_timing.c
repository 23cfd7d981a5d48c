/*
 * fault_timing.c - each fault's own timing in the reports (metrics_faults.c computed it):
 * requested and effective duration, apply and revert latency, how late each took effect
 * against the plan, and how its moments were obtained. One JSON array for summary.json,
 * one table each for summary.md and report.html.
 */
#include "report.h"
#include "util.h"

#include <json-c/json.h>
#include <string.h>

static json_object *ms_or_null(bool known, int64_t us)
{
	char text[32];

	if (!known)
		return NULL;
	str_format(text, sizeof(text), "%.3f", (double)us / 1e3);
	return json_object_new_double_s((double)us / 1e3, text);
}

static json_object *s_of(int64_t us)
{
	char text[32];

	str_format(text, sizeof(text), "%.6f", (double)us / 1e6);
	return json_object_new_double_s((double)us / 1e6, text);
}

json_object *report_fault_timings_json(const struct metrics *m)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < m->nfault_timings; i++) {
		const struct fault_timing_metric *x = &m->fault_timings[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "fault", json_object_new_string(x->fault));
		json_object_object_add(o, "node", json_object_new_string(x->node));
		json_object_object_add(o, "step", json_object_new_int(x->step + 1));
		json_object_object_add(o, "repeat", json_object_new_int(x->rep));
		json_object_object_add(o, "requested_ms", ms_or_null(x->requested_us > 0, x->requested_us));
		json_object_object_add(o, "effective_ms", ms_or_null(x->reverted, x->effective_us));
		json_object_object_add(o, "duration_error_ms", ms_or_null(x->duration_known, x->duration_error_us));
		json_object_object_add(o, "apply_at_s", s_of(x->apply_effect_us));
		json_object_object_add(o, "apply_by", json_object_new_string(x->apply_by));
		json_object_object_add(o, "apply_latency_ms", ms_or_null(x->apply_latency_us >= 0, x->apply_latency_us));
		json_object_object_add(o, "apply_late_ms", ms_or_null(x->apply_late_known, x->apply_late_us));
		json_object_object_add(o, "revert_at_s", x->reverted ? s_of(x->revert_effect_us) : NULL);
		json_object_object_add(o, "revert_by", x->reverted ? json_object_new_string(x->revert_by) : NULL);
		json_object_object_add(o, "revert_latency_ms",
				       ms_or_null(x->reverted && x->revert_latency_us >= 0, x->revert_latency_us));
		json_object_object_add(o, "revert_late_ms", ms_or_null(x->revert_late_known, x->revert_late_us));
		json_object_array_add(a, o);
	}
	return a;
}

/* Whether any trial logged how its faults took effect (logs of an older bise did not). */
static bool any_timing(const struct scenario_result *r)
{
	for (int i = 0; i < r->ntrials; i++)
		for (int k = 0; k < r->trials[i].metrics.nfault_timings; k++)
			if (r->trials[i].metrics.fault_timings[k].apply_by[0])
				return true;
	return false;
}

/* "3000.000" ms with three decimals, or "-". */
static void ms_text(char *buf, size_t len, bool known, int64_t us)
{
	if (known)
		str_format(buf, len, "%.3f", (double)us / 1e3);
	else
		str_copy(buf, len, "-");
}

/* The cells of one fault's row, in the order of the columns below. */
#define FT_COLS 9
static const char *const ft_heads[FT_COLS] = {
	"trial", "fault (step)", "requested ms", "effective ms", "error ms", "apply latency ms",
	"revert latency ms", "late ms (apply / revert)", "effect seen by (apply / revert)"
};

static void row_cells(const struct trial_result *t, const struct fault_timing_metric *x,
		      char cells[FT_COLS][96])
{
	char a[32], b[32];

	str_format(cells[0], 96, "%d", t->trial);
	str_format(cells[1], 96, "%s on %s (%d%s)", x->fault, x->node, x->step + 1, x->rep > 1 ? "+" : "");
	ms_text(cells[2], 96, x->requested_us > 0, x->requested_us);
	ms_text(cells[3], 96, x->reverted, x->effective_us);
	ms_text(cells[4], 96, x->duration_known, x->duration_error_us);
	ms_text(cells[5], 96, x->apply_latency_us >= 0, x->apply_latency_us);
	ms_text(cells[6], 96, x->reverted && x->revert_latency_us >= 0, x->revert_latency_us);
	ms_text(a, sizeof(a), x->apply_late_known, x->apply_late_us);
	ms_text(b, sizeof(b), x->revert_late_known, x->revert_late_us);
	str_format(cells[7], 96, "%s / %s", a, b);
	str_format(cells[8], 96, "%s / %s", x->apply_by[0] ? x->apply_by : "-",
		   x->reverted && x->revert_by[0] ? x->revert_by : "-");
}

static const char ft_note[] =
	"Times are when each fault and its revert took effect as the backend observed it "
	"(nft-commit: the nftables transaction committed; cgroup-frozen / cgroup-thawed / "
	"cgroup-empty: the kernel's cgroup.events; process-gone: the process exited; "
	"api-accepted: the platform accepted the object, its enforcement is not observed; "
	"returned: nothing observed, the call's return). Effective = revert effect - apply "
	"effect; latency = call to effect; late = effect - the plan's deadline.";

void report_fault_timings_md(FILE *out, const struct scenario_result *r)
{
	if (!any_timing(r))
		return;
	fputs("\n#### Fault timing\n\n|", out);
	for (int c = 0; c < FT_COLS; c++)
		fprintf(out, " %s |", ft_heads[c]);
	fputs("\n|", out);
	for (int c = 0; c < FT_COLS; c++)
		fputs("---|", out);
	fputc('\n', out);
	for (int i = 0; i < r->ntrials; i++)
		for (int k = 0; k < r->trials[i].metrics.nfault_timings; k++) {
			char cells[FT_COLS][96];

			row_cells(&r->trials[i], &r->trials[i].metrics.fault_timings[k], cells);
			fputc('|', out);
			for (int c = 0; c < FT_COLS; c++) {
				fputc(' ', out);
				report_md_text(out, cells[c]);
				fputs(" |", out);
			}
			fputc('\n', out);
		}
	fprintf(out, "\n%s\n", ft_note);
}

void report_fault_timings_html(FILE *out, const struct scenario_result *r)
{
	if (!any_timing(r))
		return;
	fputs("<h2>Fault timing</h2>\n<table class=\"faults\">\n<tr>", out);
	for (int c = 0; c < FT_COLS; c++) {
		fputs("<th>", out);
		report_xml_text(out, ft_heads[c]);
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
	for (int i = 0; i < r->ntrials; i++)
		for (int k = 0; k < r->trials[i].metrics.nfault_timings; k++) {
			char cells[FT_COLS][96];

			row_cells(&r->trials[i], &r->trials[i].metrics.fault_timings[k], cells);
			fputs("<tr>", out);
			for (int c = 0; c < FT_COLS; c++) {
				fputs("<td>", out);
				report_xml_text(out, cells[c]);
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
		}
	fputs("</table>\n<p class=\"meta\">", out);
	report_xml_text(out, ft_note);
	fputs("</p>\n", out);
}
