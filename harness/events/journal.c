/* journal.c - the fsync'd fault journal (see journal.h). */
#include "journal.h"
#include "fault.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct journal {
	int fd;
	char path[4096];
	int next_id;
	int open_faults;
};

/* One record = one write(2) + fsync: a crash leaves at most a torn last line. */
static bool append_record(int fd, json_object *o, const char *path)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);
	char *line = xmalloc(len + 2);
	bool ok;

	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	ok = write(fd, line, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
	if (!ok)
		log_error("cannot write the fault journal %s: %s", path, strerror(errno));
	free(line);
	json_object_put(o);
	return ok;
}

struct journal *journal_create(const char *state_root, const char *run_id, const char *backend,
			       const char *target, const struct cluster_spec *cluster)
{
	char dir[4096];
	struct journal *j;
	json_object *o, *zones;
	uint64_t start;

	if (!str_format(dir, sizeof(dir), "%s/journal", state_root) || !mkdir_p(dir, 0700))
		return NULL;
	j = xcalloc(1, sizeof(*j));
	j->next_id = 1;
	if (!str_format(j->path, sizeof(j->path), "%s/%s.jsonl", dir, run_id)) {
		log_error("journal path too long under %s", dir);
		free(j);
		return NULL;
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		log_error("cannot create the fault journal %s: %s", j->path, strerror(errno));
		free(j);
		return NULL;
	}
	/* Shared: the runner and its watchdog (forked later, same open file) hold it together. */
	if (flock(j->fd, LOCK_SH) != 0) {
		log_error("cannot lock the fault journal %s: %s", j->path, strerror(errno));
		close(j->fd);
		unlink(j->path);
		free(j);
		return NULL;
	}
	if (!journal_proc_start(getpid(), &start))
		start = 0;
	o = json_object_new_object();
	zones = json_object_new_array();
	for (int i = 0; i < cluster->nzones; i++)
		json_object_array_add(zones, json_object_new_string(cluster->zones[i]));
	json_object_object_add(o, "rec", json_object_new_string("run"));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "pid_start", json_object_new_int64((int64_t)start));
	json_object_object_add(o, "backend", json_object_new_string(backend));
	json_object_object_add(o, "cluster", json_object_new_string(cluster->name));
	json_object_object_add(o, "zones", zones);
	json_object_object_add(o, "state_root", json_object_new_string(state_root));
	if (target && target[0])
		json_object_object_add(o, "target", json_object_new_string(target));
	if (!append_record(j->fd, o, j->path)) {
		close(j->fd);
		unlink(j->path);
		free(j);
		return NULL;
	}
	return j;
}

int journal_intent(struct journal *j, const struct step *st, const char *member, int64_t deadline_epoch)
{
	json_object *o = json_object_new_object();
	json_object *opts = json_object_new_object();
	int id = j->next_id++;

	for (int i = 0; i < st->noptions; i++)
		json_object_object_add(opts, st->options[i].key,
				       json_object_new_string(st->options[i].value));
	json_object_object_add(o, "rec", json_object_new_string("intent"));
	json_object_object_add(o, "id", json_object_new_int(id));
	json_object_object_add(o, "fault", json_object_new_string(st->fault->name));
	json_object_object_add(o, "member", json_object_new_string(member));
	json_object_object_add(o, "target", json_object_new_string(st->target));
	json_object_object_add(o, "deadline", json_object_new_int64(deadline_epoch));
	json_object_object_add(o, "options", opts);
	if (!append_record(j->fd, o, j->path))
		return -1;
	j->open_faults++;
	return id;
}

bool journal_reverted(struct journal *j, int id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "rec", json_object_new_string("reverted"));
	json_object_object_add(o, "id", json_object_new_int(id));
	if (!append_record(j->fd, o, j->path))
		return false;
	j->open_faults--;
	return true;
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	close(j->fd);
	if (j->open_faults == 0)
		unlink(j->path);
	else
		log_warn("%d fault(s) left unreverted, recorded in %s: run `bise heal`", j->open_faults,
			 j->path);
	free(j);
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A record bise did not write (a null where a name belongs): false, with why. */
static bool load_header(json_object *o, struct journal_contents *out, const char **why)
{
	json_object *v;
	const char *s;

	if (json_object_object_get_ex(o, "pid", &v))
		out->pid = (pid_t)json_object_get_int(v);
	if (json_object_object_get_ex(o, "pid_start", &v))
		out->pid_start = (uint64_t)json_object_get_int64(v);
	if ((s = get_str(o, "backend")))
		str_copy(out->backend, sizeof(out->backend), s);
	if ((s = get_str(o, "cluster")))
		str_copy(out->cluster.name, sizeof(out->cluster.name), s);
	if ((s = get_str(o, "state_root")))
		str_copy(out->state_root, sizeof(out->state_root), s);
	if ((s = get_str(o, "target")))
		str_copy(out->target, sizeof(out->target), s);
	if (json_object_object_get_ex(o, "zones", &v) && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		out->cluster.nzones = 0;
		for (size_t i = 0; i < n && i < SCENARIO_MAX_ZONES; i++) {
			json_object *zone = json_object_array_get_idx(v, i);

			if (!json_object_is_type(zone, json_type_string)) {
				*why = "a zone that is not a string";
				return false;
			}
			str_copy(out->cluster.zones[out->cluster.nzones++], ZONE_NAME_LEN,
				 json_object_get_string(zone));
		}
	}
	return true;
}

static bool load_intent(json_object *o, struct journal_contents *out, const char **why)
{
	struct journal_entry *e;
	json_object *v;
	const char *s;

	if (out->nentries == JOURNAL_MAX_ENTRIES)
		return true;
	e = &out->entries[out->nentries++];
	memset(e, 0, sizeof(*e));
	if (json_object_object_get_ex(o, "id", &v))
		e->id = json_object_get_int(v);
	if ((s = get_str(o, "fault")))
		str_copy(e->fault, sizeof(e->fault), s);
	if ((s = get_str(o, "member")))
		str_copy(e->member, sizeof(e->member), s);
	if ((s = get_str(o, "target")))
		str_copy(e->target, sizeof(e->target), s);
	if (json_object_object_get_ex(o, "deadline", &v))
		e->deadline_epoch = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "options", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			struct step_option *opt;

			if (e->noptions == STEP_MAX_OPTIONS)
				break;
			/* Options are written as strings; a null or a container is not bise's. */
			if (!json_object_is_type(val, json_type_string)) {
				*why = "an option whose value is not a string";
				return false;
			}
			opt = &e->options[e->noptions++];
			str_copy(opt->key, sizeof(opt->key), key);
			str_copy(opt->value, sizeof(opt->value), json_object_get_string(val));
		}
	}
	return true;
}

static void load_reverted(json_object *o, struct journal_contents *out)
{
	json_object *v;
	int id;

	if (!json_object_object_get_ex(o, "id", &v))
		return;
	id = json_object_get_int(v);
	for (int i = 0; i < out->nentries; i++)
		if (out->entries[i].id == id)
			out->entries[i].reverted = true;
}

bool journal_load(const char *path, struct journal_contents *out)
{
	size_t len;
	char *text = file_read_all(path, &len);
	char *line, *next;
	const char *why = NULL;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	str_copy(out->path, sizeof(out->path), path);
	cluster_spec_defaults(&out->cluster);
	if (!text) {
		log_error("cannot read the fault journal %s: %s", path, strerror(errno));
		return false;
	}
	for (line = text; line && *line; line = next) {
		json_object *o;
		const char *rec;
		bool ok = true;

		next = strchr(line, '\n');
		if (!next)
			break; /* torn last line: that record never completed */
		*next++ = '\0';
		lineno++;
		o = json_tokener_parse(line);
		if (!o)
			continue;
		rec = get_str(o, "rec");
		if (rec && strcmp(rec, "run") == 0)
			ok = load_header(o, out, &why);
		else if (rec && strcmp(rec, "intent") == 0)
			ok = load_intent(o, out, &why);
		else if (rec && strcmp(rec, "reverted") == 0)
			load_reverted(o, out);
		json_object_put(o);
		if (!ok) {
			/* Not a journal bise wrote: name it, so it can be looked at and removed. */
			log_error("fault journal %s:%d: %s; ignoring this journal (remove it once "
				  "checked)", path, lineno, why);
			free(text);
			return false;
		}
	}
	free(text);
	return true;
}

bool journal_append_reverted(const char *path, int id)
{
	int fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	json_object *o = json_object_new_object();
	off_t size;
	char last = '\n';
	bool ok;

	if (fd < 0) {
		log_error("cannot open the fault journal %s: %s", path, strerror(errno));
		json_object_put(o);
		return false;
	}
	/* After a crash mid-record, end the torn line first so this record stands alone. */
	size = lseek(fd, 0, SEEK_END);
	if (size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n' && write(fd, "\n", 1) != 1) {
		log_error("cannot write the fault journal %s: %s", path, strerror(errno));
		close(fd);
		json_object_put(o);
		return false;
	}
	json_object_object_add(o, "rec", json_object_new_string("reverted"));
	json_object_object_add(o, "id", json_object_new_int(id));
	ok = append_record(fd, o, path);
	close(fd);
	return ok;
}

bool journal_proc_start(pid_t pid, uint64_t *start)
{
	char path[64], *text, *p, *end;
	unsigned long long v;
	bool ok = false;

	str_format(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = file_read_all(path, NULL);
	if (!text)
		return false;
	/* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(text, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p) {
		errno = 0;
		v = strtoull(p + 1, &end, 10);
		ok = errno == 0 && end != p + 1 && (*end == ' ' || *end == '\n' || *end == '\0');
		if (ok)
			*start = (uint64_t)v;
	}
	free(text);
	return ok;
}

bool journal_run_alive(const struct journal_contents *jc)
{
	uint64_t start;

	if (jc->pid <= 0 || jc->pid == getpid())
		return false;
	if (kill(jc->pid, 0) != 0 && errno != EPERM)
		return false;
	if (jc->pid_start == 0)
		return true;
	/* Gone between the two looks, or another process that got the same PID. */
	return journal_proc_start(jc->pid, &start) && start == jc->pid_start;
}

int journal_lock(const char *path, int64_t timeout_us)
{
	int64_t deadline = mono_now_us() + timeout_us;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		if (err != EWOULDBLOCK || mono_now_us() >= deadline) {
			close(fd);
			errno = err;
			return -1;
		}
		sleep_us(50000);
	}
	return fd;
}

void journal_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the only descriptor of that open file releases its flock */
}

/* Held by a live runner, its watchdog or a heal. */
static bool journal_locked(const char *path)
{
	int fd = journal_lock(path, 0);

	if (fd >= 0) {
		journal_unlock(fd);
		return false;
	}
	return errno == EWOULDBLOCK;
}

int journal_scan(const char *state_root, void (*fn)(const struct journal_contents *jc, void *arg),
		 void *arg)
{
	char dir[4096];
	DIR *d;
	struct dirent *de;
	struct journal_contents *jc;
	int found = 0;

	if (!str_format(dir, sizeof(dir), "%s/journal", state_root))
		return -1;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	jc = xmalloc(sizeof(*jc));
	while ((de = readdir(d))) {
		char path[4400];
		size_t len = strlen(de->d_name);
		bool open_fault = false;

		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		if (!str_format(path, sizeof(path), "%s/%s", dir, de->d_name) || !journal_load(path, jc))
			continue;
		for (int i = 0; i < jc->nentries; i++)
			open_fault |= !jc->entries[i].reverted;
		if (!open_fault) {
			/* Everything in it is undone; a live run still owns its file (and watchdog). */
			if (!journal_run_alive(jc) && !journal_locked(path))
				unlink(path);
			continue;
		}
		found++;
		if (fn)
			fn(jc, arg);
	}
	closedir(d);
	free(jc);
	return found;
}
