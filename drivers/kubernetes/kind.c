/*
 * kind.c - the kind backend. Every PostgreSQL operation is the kubernetes backend's (its
 * ops table, on the kind cluster's kubeconfig); this file adds provisioning (kind create
 * cluster, the operator's manifest), zone-outage as docker stop/start of a zone's node
 * containers (kind names containers after nodes), and a state file recording what bise
 * created, so down removes only that. Commands run from an argv (no shell), each waited
 * for by PID with a deadline.
 */
#include "kind.h"

#include "k8s_driver.h"
#include "manifest.h"
#include "operators.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIND_CONFIG_REL "kind-config/kind-3zones.yaml"
#define CREATE_TIMEOUT_US (15 * 60 * 1000000LL)
#define CMD_TIMEOUT_US (5 * 60 * 1000000LL)
#define DOCKER_INFO_TIMEOUT_US (20 * 1000000LL)
#define OPERATOR_TIMEOUT_US (10 * 60 * 1000000LL)
#define OPERATOR_POLL_US (2 * 1000000LL)
#define MAX_ZONE_NODES 16

extern const struct driver_ops driver_kubernetes;
extern const struct driver_ops driver_kind;

struct driver {
	struct cluster_spec spec;
	char dir[4096];         /* <state root>/kind/<cluster> */
	char kubeconfig[4200];  /* dir/kubeconfig, written by kind get kubeconfig */
	char state_path[4200];  /* dir/state.json */
	char name[96];          /* the kind cluster */
	bool dry_run;
	bool created;           /* up created the kind cluster (a dry run keeps no state file) */
	struct driver *k8s;     /* the kubernetes backend's driver; NULL until the cluster exists */
	struct driver_options opts; /* as opened: the kubernetes driver up opens gets them too */
};

/* Its own options, then those of the kubernetes backend that apply (not --kubeconfig, --context). */
static const struct driver_option kind_options[] = {
	{ "kind-config", "FILE", "BISE_KIND_CONFIG", NULL, "kind cluster config (default "
	  KIND_CONFIG_REL " next to the sources)" },
	{ "operator-version", "V", "BISE_OPERATOR_VERSION", NULL,
	  "install the operator's release V (cnpg: X.Y.Z)" },
	{ "operator-manifest", "F", "BISE_OPERATOR_MANIFEST", NULL,
	  "install the operator from a file or https URL" },
	{ "namespace", "NS", "BISE_K8S_NAMESPACE", KIND_DEFAULT_NAMESPACE,
	  "namespace bise may act on (named here, no label is needed)" },
	{ DRIVER_OPTION_DRY_RUN, NULL, "BISE_K8S_DRY_RUN", NULL, "print every command and API call instead of making it" },
	{ "operator", "NAME", "BISE_K8S_OPERATOR", "cnpg", "the PostgreSQL operator (as for kubernetes)" },
	{ "pg-access", "MODE", "BISE_K8S_PG_ACCESS", NULL, "as for kubernetes (default nodeport)" },
	{ "pg-host", "HOST", "BISE_K8S_PG_HOST", NULL, "as for kubernetes (default 127.0.0.1)" },
	{ "image", "IMAGE", "BISE_K8S_IMAGE", NULL, "PostgreSQL operand image (default the operator's)" },
	{ "poll-us", "US", NULL, NULL, "status polling interval in microseconds (default 2000000)" },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* An option's value, "" when unset. */
static const char *opt(const struct driver_options *o, const char *name)
{
	const char *v = driver_option(o, name);

	return v ? v : "";
}

void kind_cluster_name(const char *cluster, char *buf, size_t len)
{
	str_format(buf, len, "bise-%s", cluster);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* path, made absolute and free of "..", when it is a file. */
static bool found_file(char *path, size_t len)
{
	char real[PATH_MAX];

	if (!is_file(path))
		return false;
	if (realpath(path, real))
		str_copy(path, len, real);
	return true;
}

bool kind_config_path(const char *config, char *buf, size_t len)
{
	char exe[4096], *slash;
	ssize_t n;

	if (config && config[0])
		return str_copy(buf, len, config) && found_file(buf, len);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		/* A build directory inside the source tree, or the source tree itself. */
		if (str_format(buf, len, "%s/../%s", exe, KIND_CONFIG_REL) && found_file(buf, len))
			return true;
		if (str_format(buf, len, "%s/%s", exe, KIND_CONFIG_REL) && found_file(buf, len))
			return true;
	}
	if (str_copy(buf, len, KIND_CONFIG_REL) && found_file(buf, len))
		return true;
	if (str_copy(buf, len, BISE_SOURCE_DIR "/" KIND_CONFIG_REL) && found_file(buf, len))
		return true;
	return str_copy(buf, len, "/usr/share/bise/" KIND_CONFIG_REL) && found_file(buf, len);
}

/* The program's path on PATH, or false. */
static bool on_path(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	bool found = false;

	if (strchr(prog, '/'))
		return str_copy(buf, len, prog) && access(buf, X_OK) == 0;
	copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save))
		found = str_format(buf, len, "%s/%s", dir, prog) && access(buf, X_OK) == 0;
	free(copy);
	return found;
}

static void argv_text(char *const argv[], char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; argv[i]; i++) {
		size_t n = strlen(buf);

		str_format(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
	}
}

/*
 * Run argv (no shell) with stdout to out_path (NULL: /dev/null), stderr to ours unless
 * quiet; wait by PID until timeout_us, then SIGKILL that PID. The exit status, -1 when it
 * could not run or was killed (why says which).
 */
static int run_cmd(char *const argv[], const char *out_path, bool quiet, int64_t timeout_us,
		   char *why, size_t why_len)
{
	int64_t deadline = mono_now_us() + timeout_us;
	int status, fd, null;
	char prog[4096];
	pid_t pid, r;

	/* Resolved before fork: the child of a threaded runner only dup2s and execs. */
	if (!on_path(argv[0], prog, sizeof(prog))) {
		str_format(why, why_len, "%s not found on PATH", argv[0]);
		return -1;
	}
	fd = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
		      : open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		str_format(why, why_len, "cannot open %s: %s", out_path ? out_path : "/dev/null",
			   strerror(errno));
		return -1;
	}
	null = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	pid = fork();
	if (pid < 0) {
		str_format(why, why_len, "fork: %s", strerror(errno));
		close(fd);
		if (null >= 0)
			close(null);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0); /* its own group: a timeout ends its children (docker, kubectl) too */
		dup2(fd, STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execv(prog, argv);
		_exit(127);
	}
	setpgid(pid, pid); /* either side may run first */
	close(fd);
	if (null >= 0)
		close(null);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		if (mono_now_us() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			str_format(why, why_len, "%s did not finish within %llds", argv[0],
				   (long long)(timeout_us / 1000000));
			return -1;
		}
		sleep_us(50000);
	}
	if (r < 0) {
		str_format(why, why_len, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		str_format(why, why_len, "%s not found", argv[0]);
		return -1;
	}
	if (!WIFEXITED(status)) {
		str_format(why, why_len, "%s killed by signal %d", argv[0], WTERMSIG(status));
		return -1;
	}
	str_format(why, why_len, "%s exited with status %d", argv[0], WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

/* Run a command of up/down/faults; in a dry run only print it, after the API calls so far. */
static bool command(struct driver *d, char *const argv[], const char *out_path, int64_t timeout_us)
{
	char text[2048], why[512];

	argv_text(argv, text, sizeof(text));
	if (d->dry_run) {
		if (d->k8s)
			driver_kubernetes.flush_calls(d->k8s, stdout);
		printf("EXEC %s%s%s\n", text, out_path ? " > " : "", out_path ? out_path : "");
		return true;
	}
	log_info("running %s", text);
	if (run_cmd(argv, out_path, false, timeout_us, why, sizeof(why)) != 0) {
		log_error("%s: %s", text, why);
		return false;
	}
	return true;
}

/* What bise created and stopped, kept across commands: dir/state.json. */
static json_object *state_load(struct driver *d)
{
	json_object *o = NULL;
	size_t len;
	char *text = is_file(d->state_path) ? file_read_all(d->state_path, &len) : NULL;

	if (text)
		o = json_tokener_parse(text);
	free(text);
	return o && json_object_is_type(o, json_type_object) ? o : (json_object_put(o), json_object_new_object());
}

static bool state_save(struct driver *d, json_object *st)
{
	const char *text = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY);

	if (d->dry_run)
		return true;
	if (!mkdir_p(d->dir, 0700) || !file_write_atomic(d->state_path, text, strlen(text))) {
		log_error("cannot write %s", d->state_path);
		return false;
	}
	return true;
}

static bool state_created(struct driver *d)
{
	json_object *st = state_load(d), *v;
	bool created = json_object_object_get_ex(st, "created_kind_cluster", &v) && json_object_get_boolean(v);

	json_object_put(st);
	return created;
}

static bool kind_preflight(const struct cluster_spec *spec, const struct driver_options *o, char *why,
			   size_t why_len)
{
	char path[4200], missing[1024] = "", err[256];
	char *docker_info[] = { "docker", "info", "--format", "{{.ServerVersion}}", NULL };
	const char *version, *config;
	struct driver_options none;
	size_t n;

	if (!o) {
		driver_options_init(&none, &driver_kind);
		o = &none;
	}
	version = opt(o, "operator-version");
	config = opt(o, "kind-config");

	if (version[0] && opt(o, "operator-manifest")[0]) {
		str_format(why, why_len, "--operator-version and --operator-manifest exclude each other");
		return false;
	}
	if (version[0]) {
		char url[512];

		if (!manifest_release_url(k8s_operator_name(o), version, url, sizeof(url), why, why_len))
			return false;
	}
	if (!kind_config_path(config, path, sizeof(path))) {
		str_format(why, why_len, "no kind config: %s not found (--kind-config FILE or BISE_KIND_CONFIG)",
			   config[0] ? config : KIND_CONFIG_REL);
		return false;
	}
	if (driver_option_flag(o, DRIVER_OPTION_DRY_RUN))
		return true; /* nothing runs: commands and calls are only printed */
	if (!on_path("kind", path, sizeof(path)))
		str_copy(missing, sizeof(missing), "the kind binary on PATH (https://kind.sigs.k8s.io/"
			 "docs/user/quick-start/#installation)");
	n = strlen(missing);
	if (!on_path("docker", path, sizeof(path)))
		str_format(missing + n, sizeof(missing) - n, "%sthe docker client on PATH and a "
			   "reachable Docker engine", n ? "; " : "");
	else if (run_cmd(docker_info, NULL, true, DOCKER_INFO_TIMEOUT_US, err, sizeof(err)) != 0)
		str_format(missing + n, sizeof(missing) - n, "%sa reachable Docker engine (`docker info` "
			   "failed: %s; is dockerd running and DOCKER_HOST right?)", n ? "; " : "", err);
	if (missing[0]) {
		str_format(why, why_len, "the kind backend needs %s", missing);
		return false;
	}
	return true;
}

/* A kubeconfig that names no real server: in a dry run nothing is sent, but the client wants one. */
static struct driver *open_dry_run(struct driver *d, const char *state_root)
{
	char text[1024], path[64];
	int fd = memfd_create("bise-kind-dry-run", MFD_CLOEXEC);
	struct driver *k;

	if (fd < 0) {
		log_error("memfd_create: %s", strerror(errno));
		return NULL;
	}
	str_format(text, sizeof(text),
		   "apiVersion: v1\nkind: Config\ncurrent-context: kind-%s\n"
		   "clusters:\n- name: kind-%s\n  cluster:\n    server: https://127.0.0.1:6443\n"
		   "contexts:\n- name: kind-%s\n  context:\n    cluster: kind-%s\n    user: kind-%s\n"
		   "users:\n- name: kind-%s\n  user: {}\n",
		   d->name, d->name, d->name, d->name, d->name, d->name);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		log_error("cannot write the dry run's kubeconfig: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	str_format(path, sizeof(path), "/proc/self/fd/%d", fd);
	k = k8s_driver_open_kubeconfig(&d->spec, state_root, &d->opts, path, KIND_DEFAULT_NAMESPACE);
	close(fd);
	return k;
}

static struct driver *kind_open(const struct cluster_spec *spec, const char *state_root,
				const struct driver_options *o)
{
	struct driver *d = xcalloc(1, sizeof(*d));

	if (o)
		d->opts = *o;
	else
		driver_options_init(&d->opts, &driver_kind);
	d->spec = *spec;
	d->dry_run = driver_option_flag(&d->opts, DRIVER_OPTION_DRY_RUN);
	kind_cluster_name(spec->name, d->name, sizeof(d->name));
	if (!str_format(d->dir, sizeof(d->dir), "%s/kind/%s", state_root ? state_root : "/var/lib/bise",
			spec->name)) {
		log_error("state directory too long: %s", state_root);
		free(d);
		return NULL;
	}
	str_format(d->kubeconfig, sizeof(d->kubeconfig), "%s/kubeconfig", d->dir);
	str_format(d->state_path, sizeof(d->state_path), "%s/state.json", d->dir);
	if (is_file(d->kubeconfig))
		d->k8s = k8s_driver_open_kubeconfig(spec, state_root, &d->opts, d->kubeconfig,
						    KIND_DEFAULT_NAMESPACE);
	else if (d->dry_run)
		d->k8s = open_dry_run(d, state_root);
	else
		return d; /* no kind cluster yet: up makes one */
	if (!d->k8s) {
		free(d);
		return NULL;
	}
	return d;
}

static void kind_close(struct driver *d)
{
	if (d->k8s)
		driver_kubernetes.close(d->k8s);
	free(d);
}

static void kind_flush_calls(struct driver *d, FILE *f)
{
	if (d->k8s)
		driver_kubernetes.flush_calls(d->k8s, f);
}

static bool kind_exists(struct driver *d)
{
	return d->k8s && driver_kubernetes.exists(d->k8s);
}

/* Whether kind knows the cluster already (then bise adopts it and will not delete it). */
static bool kind_cluster_listed(struct driver *d, bool *listed)
{
	char out[4200], why[256], *text, *save = NULL;
	char *argv[] = { "kind", "get", "clusters", NULL };
	size_t len;

	*listed = false;
	if (d->dry_run)
		return command(d, argv, NULL, CMD_TIMEOUT_US);
	if (!mkdir_p(d->dir, 0700) || !str_format(out, sizeof(out), "%s/clusters.txt", d->dir))
		return false;
	if (run_cmd(argv, out, false, CMD_TIMEOUT_US, why, sizeof(why)) != 0) {
		log_error("kind get clusters: %s", why);
		unlink(out);
		return false;
	}
	if ((text = file_read_all(out, &len))) {
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			*listed |= strcmp(l, d->name) == 0;
		free(text);
	}
	unlink(out);
	return true;
}

/* The operator's manifest: --operator-manifest, or the release by --operator-version. */
static bool install_operator(struct driver *d)
{
	char url[512], why[512];
	const char *src = opt(&d->opts, "operator-manifest");
	struct k8s_client *c = k8s_driver_client(d->k8s);

	if (!src[0]) {
		if (!manifest_release_url(k8s_operator_name(&d->opts), opt(&d->opts, "operator-version"), url,
					  sizeof(url), why, sizeof(why))) {
			log_error("%s", why);
			return false;
		}
		src = url;
	}
	if (d->dry_run && strncmp(src, "https://", 8) == 0) {
		/* A dry run reaches nothing outside: the manifest's objects are not known. */
		driver_kubernetes.flush_calls(d->k8s, stdout);
		printf("FETCH %s (then one server-side apply PATCH per object, CRDs first)\n", src);
		return true;
	}
	log_info("installing the operator from %s", src);
	return manifest_install(c, src, NULL, OPERATOR_TIMEOUT_US, OPERATOR_POLL_US);
}

static bool kind_up(struct driver *d, double *seconds)
{
	int64_t t0 = mono_now_us();
	char config[4096];
	char *create[] = { "kind", "create", "cluster", "--name", d->name, "--config", config,
			   "--wait", "120s", NULL };
	char *get[] = { "kind", "get", "kubeconfig", "--name", d->name, NULL };
	json_object *st;
	bool listed, ok;
	double k8s_seconds = 0;
	const char *version = opt(&d->opts, "operator-version"), *manifest = opt(&d->opts, "operator-manifest");

	*seconds = 0;
	if (!kind_config_path(opt(&d->opts, "kind-config"), config, sizeof(config))) {
		log_error("no kind config (%s)", KIND_CONFIG_REL);
		return false;
	}
	if (!kind_cluster_listed(d, &listed))
		return false;
	st = state_load(d);
	if (!listed) {
		if (!version[0] && !manifest[0]) {
			log_error("a new kind cluster needs its operator: --operator-version V (CloudNativePG) "
				  "or --operator-manifest FILE|URL");
			json_object_put(st);
			return false;
		}
		/* Recorded first: a half-created cluster is still bise's to delete. */
		json_object_object_add(st, "kind_cluster", json_object_new_string(d->name));
		json_object_object_add(st, "created_kind_cluster", json_object_new_boolean(1));
		d->created = true;
		if (!state_save(d, st) || !command(d, create, NULL, CREATE_TIMEOUT_US)) {
			json_object_put(st);
			return false;
		}
	} else {
		log_info("kind cluster %s exists: using it (down will leave it)", d->name);
	}
	ok = (d->dry_run || mkdir_p(d->dir, 0700)) && command(d, get, d->kubeconfig, CMD_TIMEOUT_US);
	if (ok && !d->k8s && !(d->k8s = k8s_driver_open_kubeconfig(&d->spec, NULL, &d->opts, d->kubeconfig,
								  KIND_DEFAULT_NAMESPACE)))
		ok = false;
	if (ok && (version[0] || manifest[0])) {
		ok = install_operator(d);
		if (ok) {
			json_object_object_add(st, "operator", json_object_new_string(
				manifest[0] ? manifest : version));
			ok = state_save(d, st);
		}
	}
	json_object_put(st);
	if (!ok || !driver_kubernetes.up(d->k8s, &k8s_seconds))
		return false;
	*seconds = (double)(mono_now_us() - t0) / 1e6;
	return true;
}

static bool kind_down(struct driver *d)
{
	char *del[] = { "kind", "delete", "cluster", "--name", d->name, NULL };
	bool created = d->created || state_created(d), ok = true;

	if (d->k8s && !driver_kubernetes.down(d->k8s)) {
		if (!created)
			return false;
		/* Deleting the kind cluster removes the PostgreSQL cluster with it. */
		log_warn("the PostgreSQL cluster could not be deleted alone: deleting kind cluster %s",
			 d->name);
	}
	if (created) {
		ok = command(d, del, NULL, CMD_TIMEOUT_US);
		if (ok && !d->dry_run) {
			unlink(d->kubeconfig);
			unlink(d->state_path);
			rmdir(d->dir);
		}
	}
	return ok;
}

/* The names of zone's nodes (the node containers), from the nodes' zone label. */
static int zone_nodes(struct driver *d, const char *zone, char names[][K8S_NAME_LEN], int max)
{
	struct k8s_client *c = k8s_driver_client(d->k8s);
	struct k8s_ref ref = { "nodes", NULL, NULL };
	char sel[128], path[512], *esc;
	json_object *items = NULL;
	int n = 0;

	str_format(sel, sizeof(sel), CNPG_ZONE_LABEL "=%s", zone);
	esc = k8s_escape(sel);
	str_format(path, sizeof(path), "/api/v1/nodes?labelSelector=%s", esc);
	free(esc);
	if (d->dry_run) {
		/* Recorded, answered by nothing: no error to report. */
		enum log_level level = log_get_level();

		log_set_level(LOG_QUIET);
		if (!k8s_list(c, path, &ref, 0, &items, NULL, 0))
			items = NULL;
		log_set_level(level);
	} else if (!k8s_list(c, path, &ref, 0, &items, NULL, 0)) {
		return -1;
	}
	for (size_t i = 0; items && i < json_object_array_length(items) && n < max; i++) {
		const char *name = k8s_jstr(json_object_array_get_idx(items, i), "metadata.name");

		if (name)
			str_copy(names[n++], K8S_NAME_LEN, name);
	}
	json_object_put(items);
	if (n == 0 && d->dry_run) {
		/* Nothing answers a dry run: show the command on the zone itself. */
		str_format(names[0], K8S_NAME_LEN, "<nodes of %s>", zone);
		n = 1;
	}
	return n;
}

/* docker stop/start of the zone's node containers; stopped ones are recorded for heal. */
static bool zone_power(struct driver *d, const char *zone, bool on)
{
	char names[MAX_ZONE_NODES][K8S_NAME_LEN];
	char *argv[MAX_ZONE_NODES + 5];
	json_object *st, *stopped, *list;
	int n = 0, k = 0;
	bool ok;

	st = state_load(d);
	if (!json_object_object_get_ex(st, "stopped", &stopped)) {
		stopped = json_object_new_object();
		json_object_object_add(st, "stopped", stopped);
	}
	if (on && json_object_object_get_ex(stopped, zone, &list)) {
		/* What the state recorded needs no API: heal restarts it even without a kubeconfig. */
		for (size_t i = 0; i < json_object_array_length(list) && n < MAX_ZONE_NODES; i++)
			str_copy(names[n++], K8S_NAME_LEN, json_object_get_string(json_object_array_get_idx(list, i)));
	} else if (!d->k8s) {
		log_error("kind cluster %s is not up", d->name);
		json_object_put(st);
		return false;
	} else if ((n = zone_nodes(d, zone, names, MAX_ZONE_NODES)) < 0) {
		json_object_put(st);
		return false;
	}
	if (n == 0) {
		json_object_put(st);
		if (on)
			return true; /* nothing stopped there: idempotent */
		log_error("zone-outage: no node is labelled " CNPG_ZONE_LABEL "=%s", zone);
		return false;
	}
	argv[k++] = "docker";
	argv[k++] = on ? "start" : "stop";
	if (!on) {
		/* No grace: a power loss, not a shutdown. */
		argv[k++] = "--time";
		argv[k++] = "0";
	}
	for (int i = 0; i < n; i++)
		argv[k++] = names[i];
	argv[k] = NULL;
	if (!on) {
		/* Recorded before the stop, so heal (sweep) starts them whatever happens next. */
		list = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_string(names[i]));
		json_object_object_add(stopped, zone, list);
		if (!state_save(d, st)) {
			json_object_put(st);
			return false;
		}
	}
	ok = command(d, argv, NULL, CMD_TIMEOUT_US);
	if (ok && on) {
		json_object_object_del(stopped, zone);
		ok = state_save(d, st);
	}
	json_object_put(st);
	return ok;
}

static bool kind_zone_stop(struct driver *d, const char *zone)
{
	return zone_power(d, zone, false);
}

static bool kind_zone_start(struct driver *d, const char *zone)
{
	return zone_power(d, zone, true);
}

/* ---- the rest is the kubernetes backend's, on the kind cluster ---- */

static bool need_cluster(struct driver *d)
{
	if (!d->k8s)
		log_error("kind cluster %s is not up (bise up --backend kind)", d->name);
	return d->k8s != NULL;
}

static int kind_members(struct driver *d, struct member *out, int max)
{
	return need_cluster(d) ? driver_kubernetes.members(d->k8s, out, max) : -1;
}

static bool kind_wait_healthy(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	if (!d->k8s) {
		str_format(why, why_len, "kind cluster %s is not up", d->name);
		return false;
	}
	return driver_kubernetes.wait_healthy(d->k8s, timeout_us, why, why_len);
}

static bool kind_kill(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us)
{
	return need_cluster(d) && driver_kubernetes.kill(d->k8s, member, scope, grace_us);
}

static bool kind_restart(struct driver *d, const char *member)
{
	return need_cluster(d) && driver_kubernetes.restart(d->k8s, member);
}

static bool kind_versions(struct driver *d, char *buf, size_t len)
{
	size_t n;

	if (!need_cluster(d) || !driver_kubernetes.versions(d->k8s, buf, len))
		return false;
	n = strlen(buf);
	str_format(buf + n, len - n, " (kind cluster %s)", d->name);
	return true;
}

static bool kind_net_apply(struct driver *d, const struct net_fault *f)
{
	return need_cluster(d) && driver_kubernetes.net_apply(d->k8s, f);
}

static bool kind_net_revert(struct driver *d, const char *id)
{
	return !d->k8s || driver_kubernetes.net_revert(d->k8s, id);
}

static bool kind_target(struct driver *d, char *buf, size_t len)
{
	/*
	 * The kind cluster's kubeconfig follows from the state directory; the rest as kubernetes
	 * (its kubeconfig and context, which kind does not take, are ignored by a heal).
	 */
	if (!d->k8s)
		return str_copy(buf, len, "");
	return driver_kubernetes.target(d->k8s, buf, len);
}

static bool kind_io_fault(struct driver *d, const char *member, const struct io_fault *f)
{
	return need_cluster(d) && driver_kubernetes.io_fault(d->k8s, member, f);
}

static bool kind_io_heal(struct driver *d, const char *member)
{
	return !d->k8s || driver_kubernetes.io_heal(d->k8s, member);
}

static bool kind_can(struct driver *d, const struct fault_request *req, char *why, size_t why_len)
{
	struct fault_request *k;
	bool ok;

	if (!d->k8s)
		return true;
	/* Zone outages are kind's own (docker stop): the kubernetes backend need not do them. */
	k = xmalloc(sizeof(*k));
	*k = *req;
	k->caps &= ~DRIVER_CAP_ZONE_OUTAGE;
	ok = driver_kubernetes.can(d->k8s, k, why, why_len);
	free(k);
	return ok;
}

/* Zones left stopped come back first, then the kubernetes backend's sweep. */
static bool kind_sweep(struct driver *d)
{
	json_object *st = state_load(d), *stopped;
	bool ok = true;

	if (json_object_object_get_ex(st, "stopped", &stopped)) {
		char zones[SCENARIO_MAX_ZONES][ZONE_NAME_LEN];
		int n = 0;

		json_object_object_foreach(stopped, zone, list) {
			(void)list;
			if (n < SCENARIO_MAX_ZONES)
				str_copy(zones[n++], ZONE_NAME_LEN, zone);
		}
		for (int i = 0; i < n; i++)
			ok = zone_power(d, zones[i], true) && ok;
	}
	json_object_put(st);
	return (!d->k8s || driver_kubernetes.sweep(d->k8s)) && ok;
}

static bool kind_tick(struct driver *d)
{
	return !d->k8s || !driver_kubernetes.tick || driver_kubernetes.tick(d->k8s);
}

static bool kind_entry(struct driver *d, struct pg_endpoint *out)
{
	if (d->k8s && driver_kubernetes.entry)
		return driver_kubernetes.entry(d->k8s, out);
	memset(out, 0, sizeof(*out));
	return true;
}

/* Runs in the runner's observer thread: d->k8s is only read, and set before a trial starts. */
static bool kind_observe(struct driver *d, struct event_log *log, atomic_bool *stop)
{
	return !d->k8s || !driver_kubernetes.observe || driver_kubernetes.observe(d->k8s, log, stop);
}

const struct driver_ops driver_kind = {
	.version = DRIVER_OPS_VERSION,
	.name = "kind",
	.help = "the kubernetes backend on a kind cluster bise creates (kind-config/kind-3zones.yaml), "
		"operator installed by --operator-version or --operator-manifest; zone-outage stops "
		"the zone's node containers",
	.caps = DRIVER_CAP_KILL_POD | DRIVER_CAP_RESTART | DRIVER_CAP_SQL | DRIVER_CAP_NET_FAULT |
		DRIVER_CAP_NET_LATENCY | DRIVER_CAP_NET_BANDWIDTH | DRIVER_CAP_STORAGE_STALL | DRIVER_CAP_NET_LOSS |
		DRIVER_CAP_NET_CLIENT | DRIVER_CAP_ZONE_OUTAGE,
	.options = kind_options,
	.preflight = kind_preflight,
	.open = kind_open,
	.close = kind_close,
	.exists = kind_exists,
	.up = kind_up,
	.down = kind_down,
	.members = kind_members,
	.wait_healthy = kind_wait_healthy,
	.kill = kind_kill,
	.restart = kind_restart,
	.versions = kind_versions,
	.net_apply = kind_net_apply,
	.net_revert = kind_net_revert,
	.zone_stop = kind_zone_stop,
	.zone_start = kind_zone_start,
	.io_fault = kind_io_fault,
	.io_heal = kind_io_heal,
	.can = kind_can,
	.sweep = kind_sweep,
	.target = kind_target,
	.flush_calls = kind_flush_calls,
	.tick = kind_tick,
	.entry = kind_entry,
	.observe = kind_observe,
};
