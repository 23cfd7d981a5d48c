/*
 * config.c - deterministic names and paths of a local cluster, the etcd command line, the
 * Patroni YAML, generated passwords, and the state file that lets a fresh process find
 * everything again.
 */
#include "local.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* FNV-1a: a short stable tag for names the kernel limits in length. */
static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Fill every name and path from d->spec, d->state_root and d->subnet. */
bool local_layout(struct driver *d, char *why, size_t why_len)
{
	const struct cluster_spec *s = &d->spec;
	char cgmount[LOCAL_PATH_LEN];

	if (!name_ok(s->name)) {
		str_format(why, why_len, "cluster name '%s' must be letters, digits, - or _", s->name);
		return false;
	}
	if (s->nzones < 1 || s->nzones > DRIVER_MAX_MEMBERS) {
		str_format(why, why_len, "the local backend needs 1 to %d zones, not %d",
			   DRIVER_MAX_MEMBERS, s->nzones);
		return false;
	}
	if (!cg_find_mount(cgmount, sizeof(cgmount))) {
		str_format(why, why_len, "no cgroup v2 mount in /proc/mounts");
		return false;
	}
	if (!d->subnet[0])
		str_copy(d->subnet, sizeof(d->subnet), s->subnet[0] ? s->subnet : LOCAL_SUBNET_DEFAULT);
	if (!str_format(d->dir, sizeof(d->dir), "%s/%s", d->state_root, s->name) ||
	    !str_format(d->cg_base, sizeof(d->cg_base), "%s/bise", cgmount) ||
	    !str_format(d->cg_cluster, sizeof(d->cg_cluster), "%s/%s", d->cg_base, s->name)) {
		str_format(why, why_len, "state or cgroup path too long");
		return false;
	}
	str_format(d->state_file, sizeof(d->state_file), "%s/cluster.state", d->dir);
	str_format(d->secrets_file, sizeof(d->secrets_file), "%s/secrets", d->dir);
	/* Interface names have 15 characters: a hash of the cluster name keeps clusters apart. */
	str_format(d->bridge, sizeof(d->bridge), "bsbr-%08x", name_hash(s->name));
	str_format(d->bridge_ip, sizeof(d->bridge_ip), "%s.1", d->subnet);
	d->nzones = s->nzones;
	for (int i = 0; i < s->nzones; i++) {
		struct local_zone *z = &d->zones[i];

		if (!name_ok(s->zones[i])) {
			str_format(why, why_len, "zone name '%s' must be letters, digits, - or _",
				   s->zones[i]);
			return false;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(s->zones[j], s->zones[i]) == 0) {
				str_format(why, why_len, "zone '%s' appears twice", s->zones[i]);
				return false;
			}
		str_copy(z->name, sizeof(z->name), s->zones[i]);
		str_format(z->ip, sizeof(z->ip), "%s.%d", d->subnet, 11 + i);
		str_format(z->netns, sizeof(z->netns), "bise-%s-%s", s->name, z->name);
		str_format(z->veth, sizeof(z->veth), "bs%08x-%d", name_hash(s->name), i);
		if (!str_format(z->dir, sizeof(z->dir), "%s/%s", d->dir, z->name) ||
		    !str_format(z->cg_zone, sizeof(z->cg_zone), "%s/%s", d->cg_cluster, z->name)) {
			str_format(why, why_len, "state or cgroup path too long");
			return false;
		}
		str_format(z->cg_etcd, sizeof(z->cg_etcd), "%s/etcd", z->cg_zone);
		str_format(z->cg_pg, sizeof(z->cg_pg), "%s/pg", z->cg_zone);
	}
	return true;
}

int local_find_zone(const struct driver *d, const char *name)
{
	for (int i = 0; i < d->nzones; i++)
		if (strcmp(d->zones[i].name, name) == 0)
			return i;
	return -1;
}

static bool random_password(char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	if (len < 2 * sizeof(raw) + 1)
		return false;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = '\0';
	return true;
}

/* Write a file with a mode, owned by the run user when owned is set. */
static bool write_file(const char *path, const char *text, unsigned mode, bool owned)
{
	struct safe_file sf;
	uid_t uid;
	gid_t gid;

	/* Created with its final mode and owner: a secret is never readable by others, not even
	 * briefly, and nothing is chowned by name in a directory the run user can write to. */
	if (owned && !proc_user(&uid, &gid)) {
		log_error("no user %s for %s", LOCAL_RUN_USER, path);
		return false;
	}
	if (!safe_file_create(&sf, path, mode))
		return false;
	if (owned && fchown(fileno(sf.f), uid, gid) != 0) {
		log_error("cannot give %s to %s: %s", path, LOCAL_RUN_USER, strerror(errno));
		safe_file_discard(&sf);
		return false;
	}
	if (fputs(text, sf.f) == EOF) {
		log_error("cannot write %s: %s", path, strerror(errno));
		safe_file_discard(&sf);
		return false;
	}
	return safe_file_commit(&sf);
}

static int secs(int64_t us)
{
	int64_t s = (us + 999999) / 1000000;

	return s < 1 ? 1 : (int)s;
}

/* Append to a growing buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
		b->p = xrealloc(b->p, b->cap);
	}
}

static char *patroni_yaml(const struct driver *d, const struct local_zone *z)
{
	const struct cluster_spec *s = &d->spec;
	struct sbuf b = { xmalloc(4096), 0, 4096 };
	bool v2 = s->dcs_api == DCS_ETCD_V2;

	sb_add(&b, "# generated by bise (local backend)\n");
	sb_add(&b, "scope: %s\nname: %s\n", s->name, z->name);
	sb_add(&b, "log:\n  level: INFO\n");
	sb_add(&b, "restapi:\n  listen: %s:8008\n  connect_address: %s:8008\n", z->ip, z->ip);
	sb_add(&b, "%s:\n  hosts:\n", v2 ? "etcd" : "etcd3");
	for (int i = 0; i < d->nzones; i++)
		sb_add(&b, "  - %s:2379\n", d->zones[i].ip);
	sb_add(&b, "bootstrap:\n  dcs:\n");
	sb_add(&b, "    ttl: %d\n    loop_wait: %d\n    retry_timeout: %d\n", secs(s->ttl_us),
	       secs(s->loop_wait_us), secs(s->retry_timeout_us));
	sb_add(&b, "    maximum_lag_on_failover: %lld\n",
	       (long long)s->maximum_lag_on_failover_bytes);
	sb_add(&b, "    synchronous_mode: %s\n",
	       s->replication == REPLICATION_SYNC ? "true" : "false");
	sb_add(&b, "    postgresql:\n      use_pg_rewind: true\n      use_slots: true\n");
	sb_add(&b, "      parameters:\n"
		   "        wal_level: replica\n"
		   "        hot_standby: 'on'\n"
		   "        wal_log_hints: 'on'\n"
		   "        wal_keep_size: 128MB\n"
		   "        max_connections: %d\n"
		   "        max_wal_senders: 10\n"
		   "        max_replication_slots: 10\n"
		   "        fsync: 'on'\n",
	       CLUSTER_MAX_CONNECTIONS); /* the scenario loader keeps the workload within it */
	sb_add(&b, "  initdb:\n  - encoding: UTF8\n  - data-checksums\n  - no-sync\n");
	sb_add(&b, "postgresql:\n");
	sb_add(&b, "  listen: %s,127.0.0.1:5432\n  connect_address: %s:5432\n", z->ip, z->ip);
	sb_add(&b, "  data_dir: %s/pgdata\n  bin_dir: %s\n  pgpass: %s/pgpass\n", z->dir,
	       LOCAL_PG_BIN, z->dir);
	sb_add(&b, "  authentication:\n"
		   "    superuser:\n      username: postgres\n      password: '%s'\n"
		   "    replication:\n      username: %s\n      password: '%s'\n"
		   "    rewind:\n      username: %s\n      password: '%s'\n",
	       d->pw_super, LOCAL_REPL_USER, d->pw_repl, LOCAL_REWIND_USER, d->pw_rewind);
	sb_add(&b, "  basebackup:\n  - checkpoint: fast\n");
	sb_add(&b, "  parameters:\n"
		   "    unix_socket_directories: '%s/run'\n"
		   "    password_encryption: scram-sha-256\n",
	       z->dir);
	sb_add(&b, "  pg_hba:\n"
		   "  - local all all trust\n"
		   "  - local replication all trust\n"
		   "  - host all all 127.0.0.1/32 scram-sha-256\n"
		   "  - host replication all 127.0.0.1/32 scram-sha-256\n"
		   "  - host all all %s.0/24 scram-sha-256\n"
		   "  - host replication all %s.0/24 scram-sha-256\n",
	       d->subnet, d->subnet);
	return b.p;
}

static char *state_text(const struct driver *d)
{
	struct sbuf b = { xmalloc(2048), 0, 2048 };

	sb_add(&b, "# bise local backend state\nname=%s\nsubnet=%s\nbridge=%s\ncgroup=%s\n"
		   "replication=%d\ndcs_api=%d\nnzones=%d\n",
	       d->spec.name, d->subnet, d->bridge, d->cg_cluster, (int)d->spec.replication,
	       (int)d->spec.dcs_api, d->nzones);
	sb_add(&b, "fuse=%d\n", d->spec.fuse ? 1 : 0); /* data directories through bise-stallfs */
	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];

		sb_add(&b, "zone=%s ip=%s netns=%s veth=%s cgroup=%s\n", z->name, z->ip, z->netns,
		       z->veth, z->cg_zone);
	}
	return b.p;
}

/* Whether user uid (group gid) may search directory st (x permission; ACLs aside). */
static bool searchable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

bool local_check_reach(const struct driver *d, char *why, size_t why_len)
{
	char path[LOCAL_PATH_LEN];
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (!proc_user(&uid, &gid) || !str_copy(path, sizeof(path), d->dir))
		return true; /* named by the preflight and local_layout */
	/* Each directory on the way that exists; missing ones are made 0755 by mkdir_p. */
	for (char *p = path + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (stat(path, &st) != 0)
			return true;
		if (S_ISDIR(st.st_mode) && !searchable_by(&st, uid, gid)) {
			str_format(why, why_len,
				   "user %s cannot enter %s (mode %04o), on the way to the zone "
				   "directories under %s (hint: chmod 755 %s, or --state-dir elsewhere)",
				   LOCAL_RUN_USER, path, (unsigned)(st.st_mode & 07777), d->dir, path);
			return false;
		}
		if (last)
			return true;
		*p = '/';
	}
}

/* Create the state tree and every generated file; the state file first. */
bool local_write_files(struct driver *d)
{
	char path[LOCAL_PATH_LEN + 32], *text;
	uid_t run_uid;
	gid_t run_gid;
	bool ok;

	if (!mkdir_p(d->dir, 0755))
		return false;
	text = state_text(d);
	ok = write_file(d->state_file, text, 0644, false);
	free(text);
	if (!ok)
		return false;
	if (!random_password(d->pw_super, sizeof(d->pw_super)) ||
	    !random_password(d->pw_repl, sizeof(d->pw_repl)) ||
	    !random_password(d->pw_rewind, sizeof(d->pw_rewind))) {
		log_error("cannot read /dev/urandom");
		return false;
	}
	str_format(path, sizeof(path), "superuser=%s\nreplication=%s\nrewind=%s\n", d->pw_super,
		   d->pw_repl, d->pw_rewind);
	if (!write_file(d->secrets_file, path, 0600, false))
		return false;
	if (!proc_user(&run_uid, &run_gid)) {
		log_error("no user %s", LOCAL_RUN_USER);
		return false;
	}
	for (int i = 0; i < d->nzones; i++) {
		const struct local_zone *z = &d->zones[i];
		static const char *const subdirs[] = { "", "/etcd", "/run", NULL };

		for (int k = 0; subdirs[k]; k++) {
			str_format(path, sizeof(path), "%s%s", z->dir, subdirs[k]);
			if (!mkdir_p_owner(path, 0700, run_uid) || chmod(path, 0700) != 0 || !proc_chown_user(path))
				return false;
		}
		text = patroni_yaml(d, z);
		str_format(path, sizeof(path), "%s/patroni.yml", z->dir);
		ok = write_file(path, text, 0600, true);
		free(text);
		if (!ok)
			return false;
	}
	return true;
}

static bool kv(char *line, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);

	if (strncmp(line, key, k) != 0 || line[k] != '=')
		return false;
	line[k + 1 + strcspn(line + k + 1, " \n")] = '\0';
	return str_copy(out, len, line + k + 1);
}

/* Read zones and subnet from the state file (the cluster as it was created). */
bool local_state_load(struct driver *d)
{
	char *text = file_read_all(d->state_file, NULL), *line, *save = NULL, num[16], why[256];
	struct cluster_spec s = d->spec;
	int nz = 0;

	if (!text)
		return false;
	s.fuse = false; /* how the cluster was made, not what the caller's spec asks */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val;

		if (kv(line, "subnet", d->subnet, sizeof(d->subnet)))
			continue;
		if (kv(line, "fuse", num, sizeof(num))) {
			s.fuse = strcmp(num, "1") == 0;
			continue;
		}
		if (kv(line, "replication", num, sizeof(num))) {
			s.replication = (enum replication_mode)strtol(num, NULL, 10);
			continue;
		}
		if (kv(line, "dcs_api", num, sizeof(num))) {
			s.dcs_api = (enum dcs_api)strtol(num, NULL, 10);
			continue;
		}
		if (strncmp(line, "zone=", 5) == 0 && nz < DRIVER_MAX_MEMBERS) {
			val = line + 5;
			val[strcspn(val, " ")] = '\0';
			str_copy(s.zones[nz++], ZONE_NAME_LEN, val);
		}
	}
	free(text);
	if (nz == 0)
		return false;
	s.nzones = nz;
	d->spec = s;
	if (!local_layout(d, why, sizeof(why))) {
		log_error("state file %s: %s", d->state_file, why);
		return false;
	}
	return true;
}

bool local_secrets_load(struct driver *d)
{
	char *text = file_read_all(d->secrets_file, NULL), *line, *save = NULL;

	if (!text)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!kv(line, "superuser", d->pw_super, sizeof(d->pw_super)) &&
		    !kv(line, "replication", d->pw_repl, sizeof(d->pw_repl)))
			kv(line, "rewind", d->pw_rewind, sizeof(d->pw_rewind));
	free(text);
	return d->pw_super[0] != '\0';
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

bool local_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT;
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return lstat(path, &st) != 0;
}

bool local_etcd_argv(const struct driver *d, int i, char *buf, size_t bufsz, char **argv, int max)
{
	const struct local_zone *z = &d->zones[i];
	char cluster[1024] = "";
	size_t used = 0;
	int n = 0;

#define ARG(...)                                                                         \
	do {                                                                             \
		if (n >= max - 1 || used >= bufsz ||                                         \
		    !str_format(buf + used, bufsz - used, __VA_ARGS__))                       \
			return false;                                                        \
		argv[n++] = buf + used;                                                  \
		used += strlen(buf + used) + 1;                                          \
	} while (0)

	for (int k = 0; k < d->nzones; k++) {
		size_t l = strlen(cluster);

		if (!str_format(cluster + l, sizeof(cluster) - l, "%s%s=http://%s:2380", k ? "," : "",
				d->zones[k].name, d->zones[k].ip))
			return false;
	}
	ARG("%s", LOCAL_ETCD);
	ARG("--name=%s", z->name);
	ARG("--data-dir=%s/etcd", z->dir);
	ARG("--listen-client-urls=http://%s:2379,http://127.0.0.1:2379", z->ip);
	ARG("--advertise-client-urls=http://%s:2379", z->ip);
	ARG("--listen-peer-urls=http://%s:2380", z->ip);
	ARG("--initial-advertise-peer-urls=http://%s:2380", z->ip);
	ARG("--initial-cluster=%s", cluster);
	ARG("--initial-cluster-state=new");
	ARG("--initial-cluster-token=bise-%s", d->spec.name);
	ARG("--enable-v2=true");
	ARG("--heartbeat-interval=100");
	ARG("--election-timeout=1000");
	ARG("--logger=zap");
	argv[n] = NULL;
#undef ARG
	return true;
}
