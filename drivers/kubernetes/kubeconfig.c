/*
 * kubeconfig.c - kubectl's loading rules and the auth modes of a kubeconfig user,
 * including exec credential plugins. See kubeconfig.h.
 */
#include "kubeconfig.h"

#include "util.h"
#include "yamljson.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_TIMEOUT_US (30 * 1000000LL)
#define EXEC_OUTPUT_MAX (1 << 20)
#define EXEC_API_VERSION "client.authentication.k8s.io/v1"

extern char **environ;

char *k8s_base64_decode(const char *in, size_t *out_len)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0;
	int bits = 0;
	char *out = xmalloc(n / 4 * 3 + 4);

	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		int v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

bool k8s_time_parse(const char *s, time_t *out, double *frac)
{
	struct tm tm;
	const char *p;
	double f = 0;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return false;
	if (*p == '.') {
		char *end;

		f = strtod(p, &end);
		p = end;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		/* Exactly +hh:mm: the checks stop at the string's end, p += 6 never passes it. */
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return false;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		off = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	*out = timegm(&tm) - off;
	if (frac)
		*frac = f;
	return true;
}

/* The string member key of o, or NULL. */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Resolve a relative file reference against dir, as kubectl does; in place. */
static void resolve_path(json_object *o, const char *key, const char *dir)
{
	const char *v = jstr(o, key);
	char buf[4096];

	if (!v || !*v || v[0] == '/')
		return;
	if (str_format(buf, sizeof(buf), "%s/%s", dir, v))
		json_object_object_add(o, key, json_object_new_string(buf));
}

static void resolve_file_refs(json_object *root, const char *dir)
{
	json_object *list, *item, *inner, *exec;

	if (json_object_object_get_ex(root, "clusters", &list) && json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			item = json_object_array_get_idx(list, i);
			if (json_object_object_get_ex(item, "cluster", &inner))
				resolve_path(inner, "certificate-authority", dir);
		}
	if (json_object_object_get_ex(root, "users", &list) && json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			item = json_object_array_get_idx(list, i);
			if (!json_object_object_get_ex(item, "user", &inner))
				continue;
			resolve_path(inner, "client-certificate", dir);
			resolve_path(inner, "client-key", dir);
			resolve_path(inner, "tokenFile", dir);
			/* A bare command name is looked up in PATH; only paths are made absolute. */
			if (json_object_object_get_ex(inner, "exec", &exec) && jstr(exec, "command") &&
			    strchr(jstr(exec, "command"), '/'))
				resolve_path(exec, "command", dir);
		}
}

/* Merge the named entries of list key from src into dst: the first file to name one wins. */
static void merge_named(json_object *dst, json_object *src, const char *key)
{
	json_object *from, *to;

	if (!json_object_object_get_ex(src, key, &from) || !json_object_is_type(from, json_type_array))
		return;
	json_object_object_get_ex(dst, key, &to);
	for (size_t i = 0; i < json_object_array_length(from); i++) {
		json_object *item = json_object_array_get_idx(from, i);
		const char *name = jstr(item, "name");
		bool seen = false;

		if (!name)
			continue;
		for (size_t j = 0; j < json_object_array_length(to) && !seen; j++)
			seen = strcmp(jstr(json_object_array_get_idx(to, j), "name"), name) == 0;
		if (!seen)
			json_object_array_add(to, json_object_get(item));
	}
}

static json_object *find_named(json_object *merged, const char *list, const char *name,
			       const char *inner)
{
	json_object *arr, *v;

	json_object_object_get_ex(merged, list, &arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *item = json_object_array_get_idx(arr, i);

		if (strcmp(jstr(item, "name"), name) == 0)
			return json_object_object_get_ex(item, inner, &v) ? v : NULL;
	}
	return NULL;
}

/* Load one file into merged; a missing file in KUBECONFIG is skipped, as kubectl does. */
static bool merge_file(json_object *merged, const char *path, bool *loaded)
{
	json_object *root;
	char dir[4096], *slash;
	const char *cc;

	if (access(path, F_OK) != 0)
		return true;
	root = yaml_file_to_json(path);
	if (!root) {
		/* An empty file is a valid, empty kubeconfig. */
		size_t len = 0;
		char *text = file_read_all(path, &len);
		bool blank = text && strspn(text, " \t\r\n") == len;

		free(text);
		if (!blank)
			return false;
		*loaded = true;
		return true;
	}
	if (!json_object_is_type(root, json_type_object)) {
		log_error("%s: not a kubeconfig (expected a mapping)", path);
		json_object_put(root);
		return false;
	}
	str_copy(dir, sizeof(dir), path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		str_copy(dir, sizeof(dir), ".");
	resolve_file_refs(root, dir);
	merge_named(merged, root, "clusters");
	merge_named(merged, root, "users");
	merge_named(merged, root, "contexts");
	cc = jstr(root, "current-context");
	if (cc && *cc && !jstr(merged, "current-context"))
		json_object_object_add(merged, "current-context", json_object_new_string(cc));
	json_object_put(root);
	*loaded = true;
	return true;
}

/* A PEM from key-data (base64) or key (a file name); the data field wins, as in client-go. */
static bool load_pem(json_object *o, const char *data_key, const char *file_key,
		     struct k8s_pem *pem, const char *what)
{
	const char *data = jstr(o, data_key), *file = jstr(o, file_key);

	if (data && *data) {
		pem->data = k8s_base64_decode(data, &pem->len);
		if (!pem->data) {
			log_error("kubeconfig %s: %s is not valid base64", what, data_key);
			return false;
		}
	} else if (file && *file) {
		if (access(file, R_OK) != 0) {
			log_error("kubeconfig %s: cannot read %s %s: %s", what, file_key, file,
				  strerror(errno));
			return false;
		}
		pem->file = xstrdup(file);
	}
	return true;
}

static void strv_free(char **v);

static char **string_list(json_object *arr, const char *name_key, const char *value_key)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	char **out = xcalloc(n + 1, sizeof(*out));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(arr, i);

		if (!name_key) {
			/* A null or a mapping is no argument: refused rather than guessed. */
			if (!json_object_is_type(it, json_type_string)) {
				strv_free(out);
				return NULL;
			}
			out[k++] = xstrdup(json_object_get_string(it));
		} else if (jstr(it, name_key)) {
			const char *v = jstr(it, value_key);
			size_t len = strlen(jstr(it, name_key)) + (v ? strlen(v) : 0) + 2;

			out[k] = xmalloc(len);
			str_format(out[k], len, "%s=%s", jstr(it, name_key), v ? v : "");
			k++;
		}
	}
	return out;
}

static bool load_user(struct kubeconfig *kc, json_object *user)
{
	json_object *exec, *v;
	const char *token = jstr(user, "token"), *tf = jstr(user, "tokenFile");

	if (!load_pem(user, "client-certificate-data", "client-certificate", &kc->cert, kc->user) ||
	    !load_pem(user, "client-key-data", "client-key", &kc->key, kc->user))
		return false;
	if ((kc->cert.data || kc->cert.file) != (kc->key.data || kc->key.file)) {
		log_error("kubeconfig user %s: a client certificate needs a client key and back",
			  kc->user);
		return false;
	}
	if (token && *token)
		kc->token = xstrdup(token);
	if (tf && *tf)
		kc->token_file = xstrdup(tf);
	if (json_object_object_get_ex(user, "exec", &exec) && json_object_is_type(exec, json_type_object)) {
		const char *cmd = jstr(exec, "command"), *api = jstr(exec, "apiVersion");

		if (!cmd || !*cmd) {
			log_error("kubeconfig user %s: exec has no command", kc->user);
			return false;
		}
		if (api && strcmp(api, EXEC_API_VERSION) != 0 &&
		    strcmp(api, "client.authentication.k8s.io/v1beta1") != 0) {
			log_error("kubeconfig user %s: exec apiVersion %s is not supported (use %s)",
				  kc->user, api, EXEC_API_VERSION);
			return false;
		}
		kc->has_exec = true;
		kc->exec.command = xstrdup(cmd);
		kc->exec.api_version = xstrdup(api ? api : EXEC_API_VERSION);
		kc->exec.args = string_list(json_object_object_get_ex(exec, "args", &v) ? v : NULL, NULL, NULL);
		if (!kc->exec.args) {
			log_error("kubeconfig user %s: every exec arg must be a string", kc->user);
			return false;
		}
		kc->exec.env = string_list(json_object_object_get_ex(exec, "env", &v) ? v : NULL, "name", "value");
		kc->exec.provide_cluster_info =
			json_object_object_get_ex(exec, "provideClusterInfo", &v) && json_object_get_boolean(v);
	}
	return true;
}

static bool load_cluster(struct kubeconfig *kc, json_object *cluster)
{
	const char *server = jstr(cluster, "server"), *sni = jstr(cluster, "tls-server-name");
	json_object *v;

	if (!server || !*server) {
		log_error("kubeconfig cluster %s has no server", kc->cluster);
		return false;
	}
	if (strncasecmp(server, "https://", 8) != 0 && strncasecmp(server, "http://", 7) != 0) {
		char shown[512];

		kubeconfig_redact_url(server, shown, sizeof(shown));
		log_error("kubeconfig cluster %s: server %s is not an https:// (or http://) URL", kc->cluster,
			  shown);
		return false;
	}
	if (!str_copy(kc->server, sizeof(kc->server), server)) {
		log_error("kubeconfig cluster %s: server URL too long", kc->cluster);
		return false;
	}
	/* No trailing slash: paths are appended as "/api/...". */
	while (strlen(kc->server) > 1 && kc->server[strlen(kc->server) - 1] == '/')
		kc->server[strlen(kc->server) - 1] = '\0';
	kubeconfig_redact_url(kc->server, kc->server_shown, sizeof(kc->server_shown));
	if (sni)
		str_copy(kc->tls_server_name, sizeof(kc->tls_server_name), sni);
	kc->insecure = json_object_object_get_ex(cluster, "insecure-skip-tls-verify", &v) &&
		       json_object_get_boolean(v);
	return load_pem(cluster, "certificate-authority-data", "certificate-authority", &kc->ca,
			kc->cluster);
}

static bool select_context(struct kubeconfig *kc, json_object *merged, const char *context)
{
	const char *name = context && *context ? context : jstr(merged, "current-context");
	json_object *ctx, *cluster, *user;
	const char *cl, *us, *ns;

	if (!name) {
		log_error("kubeconfig has no current-context (name one with --context)");
		return false;
	}
	str_copy(kc->context, sizeof(kc->context), name);
	ctx = find_named(merged, "contexts", name, "context");
	if (!ctx) {
		log_error("kubeconfig has no context named %s", name);
		return false;
	}
	cl = jstr(ctx, "cluster");
	us = jstr(ctx, "user");
	ns = jstr(ctx, "namespace");
	if (!cl || !(cluster = find_named(merged, "clusters", cl, "cluster"))) {
		log_error("kubeconfig context %s names no known cluster (%s)", name, cl ? cl : "none");
		return false;
	}
	str_copy(kc->cluster, sizeof(kc->cluster), cl);
	str_copy(kc->namespace, sizeof(kc->namespace), ns && *ns ? ns : "default");
	kc->namespace_set = ns && *ns;
	if (!load_cluster(kc, cluster))
		return false;
	if (!us || !*us)
		return true; /* anonymous */
	str_copy(kc->user, sizeof(kc->user), us);
	user = find_named(merged, "users", us, "user");
	if (!user) {
		log_error("kubeconfig context %s names no known user (%s)", name, us);
		return false;
	}
	return load_user(kc, user);
}

bool kubeconfig_load(const char *paths, const char *context, struct kubeconfig *kc)
{
	json_object *merged = json_object_new_object();
	char home_cfg[4096], *list, *save = NULL;
	bool ok = true, loaded = false;

	memset(kc, 0, sizeof(*kc));
	if (!paths || !*paths)
		paths = getenv("KUBECONFIG");
	if (!paths || !*paths) {
		const char *home = getenv("HOME");

		str_format(home_cfg, sizeof(home_cfg), "%s/.kube/config", home ? home : "/root");
		paths = home_cfg;
	}
	json_object_object_add(merged, "clusters", json_object_new_array());
	json_object_object_add(merged, "users", json_object_new_array());
	json_object_object_add(merged, "contexts", json_object_new_array());
	list = xstrdup(paths);
	for (char *p = strtok_r(list, ":", &save); p && ok; p = strtok_r(NULL, ":", &save))
		ok = merge_file(merged, p, &loaded);
	if (ok && !loaded) {
		log_error("no kubeconfig found (looked at %s)", paths);
		ok = false;
	}
	free(list);
	if (ok)
		ok = select_context(kc, merged, context);
	json_object_put(merged);
	if (!ok) {
		kubeconfig_free(kc);
		return false;
	}
	if (kc->insecure)
		log_warn("kubeconfig cluster %s sets insecure-skip-tls-verify: the API server's "
			 "certificate is not checked", kc->cluster);
	return true;
}

static void pem_free(struct k8s_pem *p)
{
	if (p->data)
		explicit_bzero(p->data, p->len);
	free(p->data);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

static void secret_free(char **s)
{
	if (*s)
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static void strv_free(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void kubeconfig_auth_invalidate(struct kubeconfig *kc)
{
	secret_free(&kc->exec_token);
	pem_free(&kc->exec_cert);
	pem_free(&kc->exec_key);
	kc->exec_cached = false;
	kc->exec_expiry = 0;
}

void kubeconfig_free(struct kubeconfig *kc)
{
	kubeconfig_auth_invalidate(kc);
	pem_free(&kc->ca);
	pem_free(&kc->cert);
	pem_free(&kc->key);
	secret_free(&kc->token);
	free(kc->token_file);
	free(kc->exec.command);
	free(kc->exec.api_version);
	strv_free(kc->exec.args);
	strv_free(kc->exec.env);
	memset(kc, 0, sizeof(*kc));
}

/* KUBERNETES_EXEC_INFO: what the plugin may know about the request. */
static char *exec_info(const struct kubeconfig *kc)
{
	json_object *o = json_object_new_object(), *spec = json_object_new_object();
	char *s;

	json_object_object_add(o, "apiVersion", json_object_new_string(kc->exec.api_version));
	json_object_object_add(o, "kind", json_object_new_string("ExecCredential"));
	json_object_object_add(spec, "interactive", json_object_new_boolean(0));
	if (kc->exec.provide_cluster_info) {
		json_object *cl = json_object_new_object();

		json_object_object_add(cl, "server", json_object_new_string(kc->server));
		if (kc->insecure)
			json_object_object_add(cl, "insecure-skip-tls-verify", json_object_new_boolean(1));
		json_object_object_add(spec, "cluster", cl);
	}
	json_object_object_add(o, "spec", spec);
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* The environment of the plugin: ours, the kubeconfig's env entries, KUBERNETES_EXEC_INFO. */
static char **exec_env(const struct kubeconfig *kc)
{
	size_t n = 0, m = 0, k = 0;
	char **env, *info = exec_info(kc), *entry;
	size_t len;

	while (environ[n])
		n++;
	while (kc->exec.env[m])
		m++;
	env = xcalloc(n + m + 2, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) != 0)
			env[k++] = xstrdup(environ[i]);
	for (size_t i = 0; i < m; i++)
		env[k++] = xstrdup(kc->exec.env[i]);
	len = strlen(info) + 32;
	entry = xmalloc(len);
	str_format(entry, len, "KUBERNETES_EXEC_INFO=%s", info);
	env[k] = entry;
	free(info);
	return env;
}

/* Run the plugin, stdout to a buffer; false on spawn failure, timeout or non-zero exit. */
static bool exec_run(const struct kubeconfig *kc, char **out)
{
	int pipe_out[2], status = 0;
	char **argv, **env;
	size_t nargs = 0, used = 0, cap = 4096;
	char *buf;
	pid_t pid;
	int64_t deadline = mono_now_us() + EXEC_TIMEOUT_US;
	bool ok = true;

	while (kc->exec.args[nargs])
		nargs++;
	argv = xcalloc(nargs + 2, sizeof(*argv));
	argv[0] = kc->exec.command;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = kc->exec.args[i];
	env = exec_env(kc);
	if (pipe2(pipe_out, O_CLOEXEC) != 0) {
		log_error("exec plugin %s: pipe: %s", kc->exec.command, strerror(errno));
		free(argv);
		strv_free(env);
		return false;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pipe_out[1], 1);
		/* execvpe looks a bare command up in PATH like kubectl. */
		execvpe(argv[0], argv, env);
		_exit(127);
	}
	close(pipe_out[1]);
	free(argv);
	strv_free(env);
	if (pid < 0) {
		log_error("exec plugin %s: fork: %s", kc->exec.command, strerror(errno));
		close(pipe_out[0]);
		return false;
	}
	buf = xmalloc(cap);
	for (;;) {
		struct pollfd pfd = { .fd = pipe_out[0], .events = POLLIN };
		int64_t left = deadline - mono_now_us();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)(left / 1000) + 1) == 0) {
			log_error("exec plugin %s did not answer within %llds", kc->exec.command,
				  (long long)(EXEC_TIMEOUT_US / 1000000));
			kill(pid, SIGKILL);
			ok = false;
			break;
		}
		if (cap - used < 1024) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(pipe_out[0], buf + used, cap - used - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
		if (used > EXEC_OUTPUT_MAX) {
			log_error("exec plugin %s wrote more than %d bytes", kc->exec.command, EXEC_OUTPUT_MAX);
			kill(pid, SIGKILL);
			ok = false;
			break;
		}
	}
	close(pipe_out[0]);
	buf[used] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ok && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			log_error("exec plugin %s could not be run (not found or not executable)",
				  kc->exec.command);
		else
			log_error("exec plugin %s failed (exit status %d)", kc->exec.command,
				  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		ok = false;
	}
	if (!ok) {
		explicit_bzero(buf, used);
		free(buf);
		return false;
	}
	*out = buf;
	return true;
}

/* Parse an ExecCredential into the cache; messages name fields, never their values. */
static bool exec_parse(struct kubeconfig *kc, const char *text)
{
	json_object *o = json_tokener_parse(text), *status;
	const char *kind, *token, *cert, *key, *exp;
	bool ok = false;

	if (!o || !json_object_is_type(o, json_type_object)) {
		log_error("exec plugin %s: output is not JSON", kc->exec.command);
		goto out;
	}
	kind = jstr(o, "kind");
	if (!kind || strcmp(kind, "ExecCredential") != 0) {
		log_error("exec plugin %s: output is not an ExecCredential", kc->exec.command);
		goto out;
	}
	if (!json_object_object_get_ex(o, "status", &status)) {
		log_error("exec plugin %s: ExecCredential has no status", kc->exec.command);
		goto out;
	}
	token = jstr(status, "token");
	cert = jstr(status, "clientCertificateData");
	key = jstr(status, "clientKeyData");
	exp = jstr(status, "expirationTimestamp");
	if (!(token && *token) && !(cert && key)) {
		log_error("exec plugin %s: ExecCredential status has neither token nor "
			  "clientCertificateData and clientKeyData", kc->exec.command);
		goto out;
	}
	kc->exec_expiry = 0;
	if (exp && !k8s_time_parse(exp, &kc->exec_expiry, NULL)) {
		log_error("exec plugin %s: bad expirationTimestamp %s", kc->exec.command, exp);
		goto out;
	}
	if (token && *token)
		kc->exec_token = xstrdup(token);
	if (cert && key) {
		/* These are PEM text already, not base64 of it. */
		kc->exec_cert.data = xstrdup(cert);
		kc->exec_cert.len = strlen(cert);
		kc->exec_key.data = xstrdup(key);
		kc->exec_key.len = strlen(key);
	}
	kc->exec_cached = true;
	ok = true;
out:
	json_object_put(o);
	return ok;
}

static bool exec_credentials(struct kubeconfig *kc)
{
	char *out;
	bool ok;

	/* Renew a little before expiry so a request never races the deadline. */
	if (kc->exec_cached && (kc->exec_expiry == 0 || time(NULL) + 10 < kc->exec_expiry))
		return true;
	kubeconfig_auth_invalidate(kc);
	if (!exec_run(kc, &out))
		return false;
	kc->exec_runs++;
	ok = exec_parse(kc, out);
	explicit_bzero(out, strlen(out));
	free(out);
	return ok;
}

bool kubeconfig_auth(struct kubeconfig *kc, struct k8s_auth *out)
{
	memset(out, 0, sizeof(*out));
	if (kc->cert.data || kc->cert.file) {
		out->cert = &kc->cert;
		out->key = &kc->key;
	}
	if (kc->token) {
		out->token = kc->token;
	} else if (kc->token_file) {
		/* Re-read every time: projected service-account tokens are rotated in place. */
		size_t len;
		char *t = file_read_all(kc->token_file, &len);

		if (!t) {
			log_error("kubeconfig user %s: cannot read tokenFile %s: %s", kc->user,
				  kc->token_file, strerror(errno));
			return false;
		}
		while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
			t[--len] = '\0';
		secret_free(&kc->exec_token);
		kc->exec_token = t;
		out->token = t;
	}
	if (kc->has_exec && !out->token && !out->cert) {
		if (!exec_credentials(kc))
			return false;
		out->token = kc->exec_token;
		if (kc->exec_cert.data) {
			out->cert = &kc->exec_cert;
			out->key = &kc->exec_key;
		}
	}
	return true;
}

void kubeconfig_redact_url(const char *url, char *out, size_t len)
{
	const char *scheme = strstr(url, "://"), *host, *at, *end;

	host = scheme ? scheme + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	/* The last '@' of the authority ends the userinfo (a password may hold one). */
	while (at && memchr(at + 1, '@', (size_t)(end - at - 1)))
		at = memchr(at + 1, '@', (size_t)(end - at - 1));
	if (!at) {
		str_copy(out, len, url);
		return;
	}
	str_format(out, len, "%.*s***@%s", (int)(host - url), url, at + 1);
}
