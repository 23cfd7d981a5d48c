/*
 * main.c - the command tree as data, option parsing, and the only place that exits.
 */
#include "driver.h"
#include "compare.h"
#include "export.h"
#include "compare_report.h"
#include "fault.h"
#include "heal.h"
#include "live.h"
#include "dryrun.h"
#include "report_cmd.h"
#include "runner.h"
#include "scenario.h"
#include "slo.h"
#include "util.h"
#include "variants.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLI_MAX_BACKEND_OPTIONS 64
#define CLI_MAX_LONG_OPTIONS 96
#define CLI_BACKEND_OPTION 1000 /* getopt code of the first backend option */

struct cli {
	struct run_options run;
	const char *cluster; /* --cluster NAME for up/status/down without a scenario */
	bool force;          /* heal: also faults of runs that still look alive */
	bool dry_run;        /* run: print the plan, touch nothing (harness/dryrun.c) */
	int nbackend;           /* the backend's options as given (--NAME VALUE), in order */
	const char *backend_name[CLI_MAX_BACKEND_OPTIONS];
	const char *backend_value[CLI_MAX_BACKEND_OPTIONS];
	struct driver_options backend; /* checked against the selected backend's table */
	int nvariants;          /* --variant NAME=KEY=VALUE,...: replace the scenarios' variants */
	char *variants[SCENARIO_MAX_VARIANTS];
	int nargs;
	char **args;
};

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(struct cli *cli);
};

static void scenario_list_free(struct scenario **list, int n)
{
	for (int i = 0; i < n; i++) {
		scenario_free(list[i]);
		free(list[i]);
	}
	free(list);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand directories into their *.yaml files, sorted, so a suite runs in a stable order. */
static int expand_paths(char **args, int nargs, char ***out)
{
	char **paths = NULL;
	int n = 0, cap = 0;

	for (int i = 0; i < nargs; i++) {
		struct stat stbuf;
		DIR *dir;
		struct dirent *de;
		int first = n;

		if (stat(args[i], &stbuf) != 0 || !S_ISDIR(stbuf.st_mode)) {
			if (n == cap)
				paths = xrealloc(paths, sizeof(*paths) * (size_t)(cap = cap ? cap * 2 : 16));
			paths[n++] = xstrdup(args[i]);
			continue;
		}
		dir = opendir(args[i]);
		while (dir && (de = readdir(dir))) {
			size_t len = strlen(de->d_name);
			char path[4096];

			if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
				continue;
			if (!str_format(path, sizeof(path), "%s%s%s", args[i],
					args[i][strlen(args[i]) - 1] == '/' ? "" : "/", de->d_name))
				continue;
			if (n == cap)
				paths = xrealloc(paths, sizeof(*paths) * (size_t)(cap = cap ? cap * 2 : 16));
			paths[n++] = xstrdup(path);
		}
		if (dir)
			closedir(dir);
		qsort(paths + first, (size_t)(n - first), sizeof(*paths), compare_names);
	}
	*out = paths;
	return n;
}

/* Load every scenario; print every problem; false if any is invalid. */
static bool load_scenarios(char **args, int nargs, struct scenario ***out, int *count)
{
	char **paths;
	int n = expand_paths(args, nargs, &paths);
	struct scenario **list = xcalloc((size_t)(n ? n : 1), sizeof(*list));
	bool ok = true;
	char *errbuf = xmalloc(16384);

	for (int i = 0; i < n; i++) {
		list[i] = xcalloc(1, sizeof(**list));
		if (!scenario_load(paths[i], list[i], errbuf, 16384)) {
			fputs(errbuf, stderr);
			if (errbuf[0] && errbuf[strlen(errbuf) - 1] != '\n')
				fputc('\n', stderr);
			ok = false;
		}
		free(paths[i]);
	}
	free(paths);
	free(errbuf);
	if (n == 0) {
		log_error("no scenario files given");
		ok = false;
	}
	*out = list;
	*count = n;
	return ok;
}

/* The command line's --variant options replace each scenario's own variants. */
static bool apply_cli_variants(struct cli *cli, struct scenario **list, int n)
{
	bool ok = true;

	for (int i = 0; i < n && cli->nvariants > 0; i++)
		ok &= variants_from_args(list[i], cli->variants, cli->nvariants);
	return ok;
}

static int cmd_validate(struct cli *cli)
{
	struct scenario **list;
	int n;
	bool ok = load_scenarios(cli->args, cli->nargs, &list, &n) && apply_cli_variants(cli, list, n);

	if (ok)
		for (int i = 0; i < n; i++)
			printf("%s: ok (%s, %d steps, %d SLOs)\n", list[i]->path, list[i]->name,
			       list[i]->nsteps, list[i]->nslos);
	scenario_list_free(list, n);
	return ok ? BISE_EXIT_OK : BISE_EXIT_USAGE;
}

static int cmd_run(struct cli *cli)
{
	struct scenario **list;
	int n, status;

	/* Every file is validated before anything is touched. */
	if (!load_scenarios(cli->args, cli->nargs, &list, &n) || !apply_cli_variants(cli, list, n)) {
		scenario_list_free(list, n);
		return BISE_EXIT_USAGE;
	}
	runner_install_signal_handlers();
	if (cli->run.serve) {
		bool loopback;
		char why[256];

		/* The token comes from the environment only: a command line is visible to every user. */
		cli->run.serve_token = getenv("BISE_SERVE_TOKEN");
		if (!live_listen_check(cli->run.serve, cli->run.serve_token && cli->run.serve_token[0], &loopback,
				       why, sizeof(why))) {
			log_error("--serve: %s", why);
			scenario_list_free(list, n);
			return BISE_EXIT_USAGE;
		}
	}
	/* A dry run prints the plan (and a recording backend's calls); nothing runs. */
	if (cli->dry_run || driver_option_flag(&cli->backend, DRIVER_OPTION_DRY_RUN))
		status = dryrun_run(list, n, &cli->run, stdout);
	else
		status = runner_run(list, n, &cli->run);
	scenario_list_free(list, n);
	return status;
}

static int cmd_list(struct cli *cli)
{
	const struct fault_ops *const *faults = fault_table();

	printf("faults:\n");
	for (int i = 0; faults[i]; i++)
		printf("  %-16s %s\n", faults[i]->name, faults[i]->help);
	printf("backends: %s\n", driver_names());
	printf("SLO metrics: %s\n", slo_metric_names());
	return BISE_EXIT_OK;
}

/* The cluster for up/status/down: from a scenario file if given, else defaults + --cluster. */
static int cluster_from_cli(struct cli *cli, struct cluster_spec *spec)
{
	cluster_spec_defaults(spec);
	if (cli->nargs > 0) {
		struct scenario sc;
		char errbuf[8192];

		memset(&sc, 0, sizeof(sc));
		if (!scenario_load(cli->args[0], &sc, errbuf, sizeof(errbuf))) {
			fputs(errbuf, stderr);
			scenario_free(&sc);
			return BISE_EXIT_USAGE;
		}
		*spec = sc.cluster;
		scenario_free(&sc);
	}
	if (cli->cluster && !str_copy(spec->name, sizeof(spec->name), cli->cluster)) {
		log_error("cluster name too long: %s", cli->cluster);
		return BISE_EXIT_USAGE;
	}
	return BISE_EXIT_OK;
}

static int open_backend(struct cli *cli, struct cluster_spec *spec, const struct driver_ops **ops,
			struct driver **drv)
{
	char why[256];
	int status = cluster_from_cli(cli, spec);

	if (status != BISE_EXIT_OK)
		return status;
	*ops = driver_find(cli->run.backend);
	if (!*ops) {
		log_error("unknown backend '%s' (known: %s)", cli->run.backend, driver_names());
		return BISE_EXIT_USAGE;
	}
	if (!(*ops)->preflight(spec, &cli->backend, why, sizeof(why))) {
		log_error("%s", why);
		return BISE_EXIT_ENV;
	}
	*drv = (*ops)->open(spec, cli->run.state_root, &cli->backend);
	return *drv ? BISE_EXIT_OK : BISE_EXIT_ENV;
}

/* Close a backend; in a dry run, first print the calls it would have made. */
static void close_backend(struct cli *cli, const struct driver_ops *ops, struct driver *drv)
{
	if (ops->flush_calls && driver_option_flag(&cli->backend, DRIVER_OPTION_DRY_RUN))
		ops->flush_calls(drv, stdout);
	ops->close(drv);
}

static int cmd_up(struct cli *cli)
{
	struct cluster_spec spec;
	const struct driver_ops *ops;
	struct driver *drv;
	double seconds;
	int status = open_backend(cli, &spec, &ops, &drv);

	if (status != BISE_EXIT_OK)
		return status;
	if (heal_pending(cli->run.state_root) > 0) {
		log_error("faults of an earlier run are still recorded as applied: run `bise heal` first");
		close_backend(cli, ops, drv);
		return BISE_EXIT_ENV;
	}
	if (ops->exists(drv)) {
		printf("cluster %s is already up\n", spec.name);
	} else if (ops->up(drv, &seconds)) {
		printf("cluster %s up in %.2f s (leader and %d streaming replicas)\n", spec.name, seconds,
		       spec.nzones - 1);
	} else {
		status = BISE_EXIT_ENV;
	}
	close_backend(cli, ops, drv);
	return status;
}

static const char *role_name(enum member_role r)
{
	switch (r) {
	case MEMBER_PRIMARY: return "primary";
	case MEMBER_REPLICA: return "replica";
	case MEMBER_DOWN: return "down";
	case MEMBER_UNKNOWN: break;
	}
	return "unknown";
}

static int cmd_status(struct cli *cli)
{
	struct cluster_spec spec;
	const struct driver_ops *ops;
	struct driver *drv;
	struct member m[DRIVER_MAX_MEMBERS];
	char why[256];
	int n, status = open_backend(cli, &spec, &ops, &drv);

	if (status != BISE_EXIT_OK)
		return status;
	if (!ops->exists(drv)) {
		printf("cluster %s is not up\n", spec.name);
		close_backend(cli, ops, drv);
		return BISE_EXIT_ENV;
	}
	n = ops->members(drv, m, DRIVER_MAX_MEMBERS);
	printf("%-12s %-12s %-8s %-9s %s\n", "member", "zone", "role", "timeline", "address");
	for (int i = 0; i < n; i++)
		printf("%-12s %-12s %-8s %-9d %s:%d\n", m[i].name, m[i].zone, role_name(m[i].role),
		       m[i].timeline, m[i].endpoint.host, m[i].endpoint.port);
	if (ops->wait_healthy(drv, 0, why, sizeof(why))) {
		printf("healthy: one primary, every replica streaming\n");
	} else {
		printf("not healthy: %s\n", why);
		status = BISE_EXIT_SLO_FAILED;
	}
	close_backend(cli, ops, drv);
	return status;
}

static int cmd_down(struct cli *cli)
{
	struct cluster_spec spec;
	const struct driver_ops *ops;
	struct driver *drv;
	int status = open_backend(cli, &spec, &ops, &drv);

	if (status != BISE_EXIT_OK)
		return status;
	if (!ops->down(drv))
		status = BISE_EXIT_ENV;
	else
		printf("cluster %s is down\n", spec.name);
	close_backend(cli, ops, drv);
	return status;
}

static int cmd_heal(struct cli *cli)
{
	int failed;

	if (geteuid() != 0)
		log_warn("not root: faults of the local backend cannot be reverted without it");
	failed = heal_all(cli->run.state_root, cli->force);
	if (failed < 0)
		return BISE_EXIT_ENV;
	return failed ? BISE_EXIT_ENV : BISE_EXIT_OK;
}

static int cmd_report(struct cli *cli)
{
	if (cli->nargs != 1) {
		log_error("report wants one run directory (runs/<timestamp>) or scenario directory");
		return BISE_EXIT_USAGE;
	}
	return report_cmd_run(cli->args[0]);
}

static bool write_compare_file(const struct comparison *cmp, const char *dir, const char *name,
			       bool (*write)(const struct comparison *, FILE *))
{
	char path[4200];
	struct safe_file sf;
	bool ok;

	if (!str_format(path, sizeof(path), "%s/%s", dir, name)) {
		log_error("path too long: %s/%s", dir, name);
		return false;
	}
	if (!safe_file_create(&sf, path, 0644))
		return false;
	ok = write(cmp, sf.f);
	ok = safe_file_commit(&sf) && ok;
	if (ok)
		printf("wrote %s\n", path);
	return ok;
}

static int cmd_compare(struct cli *cli)
{
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	const char *dir = cli->run.out_dir ? cli->run.out_dir : ".";
	int status = BISE_EXIT_OK;

	if (!compare_load(cli->args, cli->nargs, cmp)) {
		free(cmp);
		return BISE_EXIT_USAGE;
	}
	compare_write_markdown(cmp, stdout);
	if (!mkdir_p(dir, 0755) ||
	    !write_compare_file(cmp, dir, "compare.md", compare_write_markdown) ||
	    !write_compare_file(cmp, dir, "compare.html", compare_write_html))
		status = BISE_EXIT_ENV;
	free(cmp);
	return status;
}

static int cmd_help(struct cli *cli);
static void usage(FILE *out);

static void backend_help(const struct driver_ops *ops, FILE *out)
{
	fprintf(out, "  %s: %s\n", ops->name, ops->help);
	if (ops->options)
		driver_options_help(ops, out, 6);
}

static const struct command commands[] = {
	{ "run", "run [options] SCENARIO|DIR...",
	  "run scenarios (bringing a cluster up if none is running) and judge their SLOs", cmd_run },
	{ "validate", "validate SCENARIO|DIR...", "check scenario files without touching anything",
	  cmd_validate },
	{ "up", "up [options] [SCENARIO]", "provision the cluster described by SCENARIO (or the defaults)",
	  cmd_up },
	{ "status", "status [options] [SCENARIO]", "members, roles and health of the cluster", cmd_status },
	{ "down", "down [options] [SCENARIO]", "stop the cluster and remove everything it created",
	  cmd_down },
	{ "heal", "heal [--force]", "revert every fault a crashed run left (from the fault journals)",
	  cmd_heal },
	{ "report", "report RUN_DIR",
	  "rebuild every report of a run from its saved event logs (no cluster needed)", cmd_report },
	{ "compare", "compare [--out DIR] RUN_DIR...",
	  "the same scenarios side by side across runs (compare.md, compare.html)", cmd_compare },
	{ "list", "list", "faults, backends and SLO metrics", cmd_list },
	{ "help", "help [COMMAND|BACKEND]", "this text, one command's arguments and options, or one backend's options", cmd_help },
	{ NULL, NULL, NULL, NULL },
};

/* What `bise help COMMAND` adds to the command's line in the table. */
static const struct {
	const char *name, *text;
} command_details[] = {
	{ "run",
	  "Each SCENARIO file, or every *.yaml of a DIR, is validated before anything is touched.\n"
	  "A running cluster of the scenario's name is used; otherwise one is brought up and taken\n"
	  "down afterwards. The run directory gets every trial's event logs and the reports\n"
	  "(index.html); the last lines name each scenario's verdict.\n\n"
	  "options: --backend NAME, --state-dir DIR, --out DIR, --keep, --repeat N, --seed N,\n"
	  "         --variant NAME=KEY=VALUE[,...], --serve [ADDR:]PORT, --step, --quiet,\n"
	  "         --verbose, and the kubernetes and kind options of bise --help\n"
	  "  --pushgateway URL       after each scenario, PUT its final metrics to the Prometheus\n"
	  "                          Pushgateway at URL (group job=bise, scenario=NAME)\n"
	  "  --grafana URL           after each trial, POST one region annotation per fault to\n"
	  "                          Grafana at URL (/api/annotations); token from GRAFANA_TOKEN\n"
	  "  --grafana-dashboard UID the annotations' dashboard (default: organisation-wide)\n"
	  "  A URL is http:// or https://, else exit code 2. A push or annotation that fails is\n"
	  "  a warning naming the URL (credentials redacted): it does not change the verdict or\n"
	  "  the exit code.\n\n"
	  "--serve [ADDR:]PORT serves a live page (http://ADDR:PORT/: timeline, phase, primary,\n"
	  "faults in force, ok/s, errors/s, lag, the next step's countdown; the run's report once\n"
	  "it ends), /events (server-sent events) and /metrics (Prometheus). ADDR is 127.0.0.1\n"
	  "unless given; on another address the page's buttons need the token in\n"
	  "BISE_SERVE_TOKEN (open the page as http://ADDR:PORT/#token=...), and bise refuses to\n"
	  "start without one. --step holds each fault step until \"next\": Enter on the terminal\n"
	  "or the page's Next; \"abort\" (typed, or the page's Abort) reverts everything as\n"
	  "Ctrl-C does, writes the reports and exits 5. While a step waits the trial's clock\n"
	  "pauses: later steps move by the wait, faults in force are reverted on time.\n\n"
	  "exit codes: 0 all SLOs held, 1 an SLO failed, 2 bad usage or scenario, 3 environment,\n"
	  "            4 trial aborted, 5 interrupted\n" },
	{ "validate",
	  "Checks each file as run would, printing FILE:LINE:COLUMN: error: ... (hint: ...) for\n"
	  "every problem; exit code 2 when any file has one.\n" },
	{ "up", "options: --backend NAME, --state-dir DIR, --cluster NAME (without a SCENARIO)\n" },
	{ "status", "options: --backend NAME, --state-dir DIR, --cluster NAME (without a SCENARIO)\n" },
	{ "down",
	  "Returns when every process of the cluster is gone.\n"
	  "options: --backend NAME, --state-dir DIR, --cluster NAME (without a SCENARIO)\n" },
	{ "heal",
	  "Reverts what the fault journals under the state directory record, then sweeps the\n"
	  "cluster. --force also reverts faults of runs whose process still looks alive.\n"
	  "options: --backend NAME, --state-dir DIR, --force\n" },
	{ "report", "Writes the reports again into RUN_DIR from its event logs.\n" },
	{ "compare", "options: --out DIR (default: the current directory)\n" },
};

static void command_help(const struct command *c, FILE *out)
{
	fprintf(out, "usage: bise %s\n\n%s.\n", c->usage, c->help);
	for (size_t i = 0; i < sizeof(command_details) / sizeof(command_details[0]); i++)
		if (strcmp(command_details[i].name, c->name) == 0)
			fprintf(out, "\n%s", command_details[i].text);
	fprintf(out, "\nAll options: bise --help. Manual pages: bise(1), bise-scenario(5).\n");
}

static int cmd_help(struct cli *cli)
{
	if (cli->nargs == 0) {
		usage(stdout);
		return BISE_EXIT_OK;
	}
	for (int i = 0; commands[i].name; i++)
		if (cli->nargs == 1 && strcmp(commands[i].name, cli->args[0]) == 0) {
			command_help(&commands[i], stdout);
			return BISE_EXIT_OK;
		}
	if (cli->nargs == 1 && driver_find(cli->args[0])) {
		backend_help(driver_find(cli->args[0]), stdout);
		return BISE_EXIT_OK;
	}
	log_error("help: no command or backend '%s' (try bise help)", cli->args[0]);
	return BISE_EXIT_USAGE;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bise COMMAND [options] [args]\n       bise --version\n\ncommands:\n");
	for (int i = 0; commands[i].name; i++)
		fprintf(out, "  %-42s %s\n", commands[i].usage, commands[i].help);
	fprintf(out,
		"\noptions:\n"
		"  -b, --backend NAME     backend: %s (default local)\n"
		"      --state-dir DIR    cluster state (default /var/lib/bise)\n"
		"      --cluster NAME     cluster name for up/status/down without a scenario\n"
		"  -o, --out DIR          run directory (default runs/<timestamp>)\n"
		"      --keep             leave a cluster that run brought up running\n"
		"      --force            heal: also faults of runs that still look alive\n"
		"      --repeat N         trials per scenario (overrides the scenario)\n"
		"      --variant NAME=KEY=VALUE[,KEY=VALUE]\n"
		"                         run on this cluster variant (repeatable; replaces the\n"
		"                         scenario's variants), e.g. sync=replication=synchronous\n"
		"      --seed N           seed for random targets (default: drawn and recorded)\n"
		"      --dry-run          run: print the plan (and a recording backend's calls), touch nothing\n"
		"      --pushgateway URL  run: push each scenario's final metrics to a Prometheus Pushgateway\n"
		"      --grafana URL      run: one Grafana region annotation per fault (token: GRAFANA_TOKEN)\n"
		"      --grafana-dashboard UID\n"
		"                         run: the dashboard of the annotations (default: organisation-wide)\n"
		"      --serve [ADDR:]PORT\n"
		"                         run: serve the live page, /events and /metrics (127.0.0.1 unless\n"
		"                         ADDR; another address needs BISE_SERVE_TOKEN for the buttons)\n"
		"      --step             run: before each fault step wait for next (Enter, or the page)\n"
		"  -q, --quiet            only errors and the verdict table\n"
		"  -v, --verbose          debug output\n", driver_names());
	fprintf(out, "\nbackends and their options (--NAME VALUE, after --backend NAME):\n");
	for (const struct driver_ops *const *d = driver_table(); *d; d++)
		backend_help(*d, out);
	fprintf(out,
		"\nexit codes: 0 all SLOs held, 1 an SLO failed, 2 bad usage or scenario,\n"
		"            3 environment (root, binaries, provisioning), 4 trial aborted, 5 interrupted\n");
}

static bool parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * The long options: the generic ones, then every backend's (each name once), so that
 * they parse in any order; which backend takes them is checked once --backend is known.
 */
static int long_options(struct option *out, int max, const char **names)
{
	static const struct option generic[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "out", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "force", no_argument, NULL, 'f' },
		{ "variant", required_argument, NULL, 'V' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "pushgateway", required_argument, NULL, 'P' },
		{ "grafana", required_argument, NULL, 'G' },
		{ "grafana-dashboard", required_argument, NULL, 'U' },
		{ "serve", required_argument, NULL, 'W' },
		{ "step", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
	};
	int n = 0, nnames = 0;

	for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
		out[n++] = generic[i];
	for (const struct driver_ops *const *d = driver_table(); *d; d++)
		for (const struct driver_option *o = (*d)->options; o && o->name && n < max - 1; o++) {
			bool seen = false;

			for (int k = 0; k < nnames; k++)
				seen |= strcmp(names[k], o->name) == 0;
			/* A generic option of the same name (dry-run) is parsed as the generic one. */
			for (int k = 0; k < n; k++)
				seen |= strcmp(out[k].name, o->name) == 0;
			if (seen)
				continue;
			names[nnames] = o->name;
			out[n++] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
						    CLI_BACKEND_OPTION + nnames };
			nnames++;
		}
	memset(&out[n], 0, sizeof(out[n]));
	return n;
}

/* The backend options given, set for the selected backend; a usage error names the backends that take one. */
static int backend_options(struct cli *cli)
{
	const struct driver_ops *ops = driver_find(cli->run.backend);
	char why[256];

	if (!ops) {
		/* Reported when the backend is needed: validate, report and compare take none. */
		driver_options_init(&cli->backend, NULL);
		if (cli->nbackend == 0)
			return BISE_EXIT_OK;
		log_error("unknown backend '%s' (known: %s)", cli->run.backend, driver_names());
		return BISE_EXIT_USAGE;
	}
	driver_options_init(&cli->backend, ops);
	/* A backend that records its calls does so in a dry run; the others only print the plan. */
	if (cli->dry_run && driver_option_find(ops->options, DRIVER_OPTION_DRY_RUN) &&
	    !driver_options_set(&cli->backend, DRIVER_OPTION_DRY_RUN, "1", why, sizeof(why))) {
		log_error("%s", why);
		return BISE_EXIT_USAGE;
	}
	for (int i = 0; i < cli->nbackend; i++) {
		char takers[128] = "";

		if (driver_options_set(&cli->backend, cli->backend_name[i], cli->backend_value[i], why,
				       sizeof(why)))
			continue;
		for (const struct driver_ops *const *d = driver_table(); *d; d++)
			if (driver_option_find((*d)->options, cli->backend_name[i])) {
				size_t used = strlen(takers);

				str_format(takers + used, sizeof(takers) - used, "%s%s", used ? ", " : "", (*d)->name);
			}
		if (takers[0])
			log_error("--%s is not an option of the %s backend (it is one of: %s; see bise help %s)",
				  cli->backend_name[i], ops->name, takers, ops->name);
		else
			log_error("%s", why);
		return BISE_EXIT_USAGE;
	}
	return BISE_EXIT_OK;
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	struct option options[CLI_MAX_LONG_OPTIONS];
	const char *names[CLI_MAX_LONG_OPTIONS];
	char why[1024];
	int c;
	long v;

	long_options(options, CLI_MAX_LONG_OPTIONS, names);
	while ((c = getopt_long(argc, argv, "b:o:qvh", options, NULL)) != -1) {
		if (c >= CLI_BACKEND_OPTION) {
			if (cli->nbackend == CLI_MAX_BACKEND_OPTIONS) {
				log_error("at most %d backend options", CLI_MAX_BACKEND_OPTIONS);
				return BISE_EXIT_USAGE;
			}
			cli->backend_name[cli->nbackend] = names[c - CLI_BACKEND_OPTION];
			cli->backend_value[cli->nbackend++] = optarg ? optarg : "1";
			continue;
		}
		switch (c) {
		case 'b': cli->run.backend = optarg; break;
		case 'S': cli->run.state_root = optarg; break;
		case 'C': cli->cluster = optarg; break;
		case 'o': cli->run.out_dir = optarg; break;
		case 'k': cli->run.keep = true; break;
		case 'f': cli->force = true; break;
		case 'D': cli->dry_run = true; break;
		case 'P':
		case 'G':
			if (!export_url_check(optarg, why, sizeof(why))) {
				log_error("--%s: %s", c == 'P' ? "pushgateway" : "grafana", why);
				return BISE_EXIT_USAGE;
			}
			*(c == 'P' ? &cli->run.pushgateway : &cli->run.grafana) = optarg;
			break;
		case 'U':
			if (!optarg[0] || strcspn(optarg, "\"\\/?#% \t\r\n") != strlen(optarg)) {
				log_error("--grafana-dashboard wants a dashboard UID, not '%s'", optarg);
				return BISE_EXIT_USAGE;
			}
			cli->run.grafana_dashboard = optarg;
			break;
		case 'W': cli->run.serve = optarg; break;
		case 'T': cli->run.step = true; break;
		case 'V':
			if (cli->nvariants == SCENARIO_MAX_VARIANTS) {
				log_error("--variant: at most %d variants", SCENARIO_MAX_VARIANTS);
				return BISE_EXIT_USAGE;
			}
			cli->variants[cli->nvariants++] = optarg;
			break;
		case 'r':
			if (!parse_long(optarg, 1, 1000, &v)) {
				log_error("--repeat wants a number from 1 to 1000, not '%s'", optarg);
				return BISE_EXIT_USAGE;
			}
			cli->run.repeat = (int)v;
			break;
		case 's':
			errno = 0;
			cli->run.seed = strtoull(optarg, NULL, 10);
			if (errno || cli->run.seed == 0) {
				log_error("--seed wants a positive integer, not '%s'", optarg);
				return BISE_EXIT_USAGE;
			}
			break;
		case 'q': log_set_level(LOG_ERROR); break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': return -1; /* the command's own help */
		default: usage(stderr); return BISE_EXIT_USAGE;
		}
	}
	cli->args = argv + optind;
	cli->nargs = argc - optind;
	if (cli->run.grafana_dashboard && !cli->run.grafana) {
		log_error("--grafana-dashboard needs --grafana URL");
		return BISE_EXIT_USAGE;
	}
	if (cli->run.grafana && (!getenv(GRAFANA_TOKEN_ENV) || !getenv(GRAFANA_TOKEN_ENV)[0]))
		log_warn("--grafana: %s is not set: annotations are posted without a token", GRAFANA_TOKEN_ENV);
	/* What the command line leaves unset, the backend reads from its environment (bise help). */
	cli->run.driver_opts = &cli->backend;
	return backend_options(cli);
}

int main(int argc, char **argv)
{
	struct cli cli;
	int status;

	memset(&cli, 0, sizeof(cli));
	run_options_defaults(&cli.run);
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		exit(argc < 2 ? BISE_EXIT_USAGE : BISE_EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("bise %s\n", BISE_VERSION);
		exit(BISE_EXIT_OK);
	}
	for (int i = 0; commands[i].name; i++) {
		if (strcmp(commands[i].name, argv[1]) != 0)
			continue;
		status = parse_cli(argc - 1, argv + 1, &cli);
		if (status < 0) {
			command_help(&commands[i], stdout);
			exit(BISE_EXIT_OK);
		}
		if (status != BISE_EXIT_OK)
			exit(status);
		exit(commands[i].run(&cli));
	}
	log_error("unknown command '%s' (try bise --help)", argv[1]);
	exit(BISE_EXIT_USAGE);
}
