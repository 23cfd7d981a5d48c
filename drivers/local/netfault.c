/*
 * netfault.c - network faults of the local backend, between zones and the client (the
 * root namespace, where the harness's workload runs and reaches the zones from the
 * bridge address).
 *
 * Every directed pair x -> y of a fault is acted on in one place:
 *   drop / loss  an nftables table bise_<bridge>_<fault id> in y's namespace, its input
 *                chain dropping "iifname eth0 ip saddr x"; when y is the client, the same
 *                table in the root namespace, matching only "iifname <our bridge> ip saddr
 *                <zone x> ip daddr <bridge address>". Dropping at the receiver keeps the
 *                sender from seeing EPERM: packets vanish as on a cut link. Loss is numgen
 *                random; drop and loss apply to established connections too. Each
 *                namespace's table is loaded as one transaction, every namespace at once
 *                (netfault_nft.c), and a revert deletes each table in one operation.
 *   latency      iptables mangle PREROUTING in y's namespace (OUTPUT in x's when y is the
 *                client) -j NFQUEUE --queue-bypass, and one bise-netdelay per namespace
 *                holding the queue's packets; RTT between two delayed parties = 2 x delay.
 *                (iptables: this kernel has no nft queue expression, only xt_NFQUEUE.)
 *   bandwidth    tc htb on the sender's egress: x's eth0 with a u32 filter on y's
 *                address; when x is the client, the root-side veth of zone y (egress
 *                towards y) with a filter on the bridge address. Each direction gets the
 *                rate; one sender's traffic to the whole other group shares it.
 * Every iptables rule carries the comment "bise:<fault id>"; netdelay PIDs and tc classes
 * are listed under <cluster dir>/netfault/<id>.{pids,tc}, so a fresh process can revert
 * a fault from its id alone, and a sweep finds everything by those markers.
 */
#include "netfault.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NF_IPTABLES "/usr/sbin/iptables"
#define NF_IPTABLES_RESTORE "/usr/sbin/iptables-restore"
#define NF_TC "/usr/sbin/tc"
#define NF_NSENTER "/usr/bin/nsenter"
#define NF_HTB "b15e:" /* our htb root handle: sweep removes a root qdisc only with it */
#define NF_LIST_MAX (1024 * 1024)
#define NF_MAX_ARGS 48
#define NF_TABLE_PREFIX "bise_" /* our nftables tables: bise_<bridge>_<fault id> */
#define NF_SCRIPT_LEN 16384
#define NF_SWEEP_MAX 64 /* tables of ours one sweep pass deletes per namespace */

static const char *const nf_tables[] = { "filter", "mangle", NULL };

/* A party: a zone index, or -1 for the client (the root namespace). */
struct party {
	int zone;
};

/* ---- running commands in a namespace ---- */

/* Run argv inside zone netns (NULL: the root namespace); exit status, output in out. */
static int ns_run(const char *netns, char *const argv[], char *out, size_t outlen)
{
	char nsarg[96], *full[NF_MAX_ARGS + 4];
	int n = 0;

	if (netns) {
		str_format(nsarg, sizeof(nsarg), "--net=/run/netns/%s", netns);
		full[n++] = NF_NSENTER;
		full[n++] = nsarg;
		full[n++] = "--";
	}
	for (int i = 0; argv[i] && i < NF_MAX_ARGS; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return proc_run(full, out, outlen);
}

/* ns_run that logs the command and its output when it fails. */
static bool ns_run_ok(const char *netns, char *const argv[])
{
	char out[512], cmd[512] = "";
	size_t used = 0;

	if (ns_run(netns, argv, out, sizeof(out)) == 0)
		return true;
	for (int i = 0; argv[i]; i++) {
		str_format(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "", argv[i]);
		used = strlen(cmd);
	}
	out[strcspn(out, "\n")] = '\0';
	log_error("network fault: [%s] %s: %s", netns ? netns : "root namespace", cmd, out);
	return false;
}

static bool id_ok(const char *id)
{
	if (!id || !*id || strlen(id) > 40)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static void nf_path(const struct driver *d, const char *id, const char *suffix, char *out,
		    size_t len)
{
	str_format(out, len, "%s/netfault/%s%s", d->dir, id, suffix);
}

bool nf_record_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	size_t len = strlen(line);
	bool ok;

	if (fd < 0) {
		log_error("network fault: cannot open %s: %s", path, strerror(errno));
		return false;
	}
	ok = write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
	if (!ok)
		log_error("network fault: cannot write %s: %s", path, strerror(errno));
	close(fd);
	return ok;
}

/* ---- iptables ---- */

/* Split an `iptables -S` line into words; double quotes group (and are removed). */
static int split_words(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			words[n++] = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			words[n++] = p;
			while (*p && *p != ' ')
				p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/*
 * One pass over the rules of table in netns (NULL: root) tagged with id, or with any bise
 * tag when id is NULL; with need, only rules that also hold that word (our bridge, in the
 * root namespace). Deletes them when del; returns how many there were, -1 if unlistable.
 */
static int ipt_pass(const char *netns, const char *table, const char *id, const char *need,
		    bool del)
{
	char *list_argv[] = { NF_IPTABLES, "-w", "-t", (char *)table, "-S", NULL };
	char *out = xmalloc(NF_LIST_MAX), *line, *save = NULL, want[64];
	int found = 0;

	str_format(want, sizeof(want), NF_COMMENT "%s", id ? id : "");
	if (ns_run(netns, list_argv, out, NF_LIST_MAX) != 0) {
		out[strcspn(out, "\n")] = '\0';
		log_error("network fault: cannot list iptables %s in %s: %s", table,
			  netns ? netns : "the root namespace", out);
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *words[NF_MAX_ARGS], *argv[NF_MAX_ARGS + 5], err[256];
		int n, m = 0;
		bool tagged = false, needed = !need;

		if (strncmp(line, "-A ", 3) != 0 || !strstr(line, NF_COMMENT))
			continue;
		n = split_words(line, words, NF_MAX_ARGS);
		for (int i = 0; i < n; i++) {
			if (strcmp(words[i], "--comment") == 0 && i + 1 < n)
				tagged = id ? strcmp(words[i + 1], want) == 0
					    : strncmp(words[i + 1], NF_COMMENT, strlen(NF_COMMENT)) == 0;
			if (need && strcmp(words[i], need) == 0)
				needed = true;
		}
		if (!tagged || !needed)
			continue;
		found++;
		if (!del)
			continue;
		argv[m++] = NF_IPTABLES;
		argv[m++] = "-w";
		argv[m++] = "-t";
		argv[m++] = (char *)table;
		argv[m++] = "-D";
		for (int i = 1; i < n; i++)
			argv[m++] = words[i];
		argv[m] = NULL;
		/* Failure is judged by the next listing: another reverter may have been first. */
		ns_run(netns, argv, err, sizeof(err));
	}
	free(out);
	return found;
}

/* Delete the rules ipt_pass selects until none is left. A missing namespace holds none. */
static bool ipt_delete(const char *netns, const char *table, const char *id, const char *need)
{
	int left = 0;

	if (access(NF_IPTABLES, X_OK) != 0 || access(NF_NSENTER, X_OK) != 0)
		return true; /* without the tools nothing of ours can exist */
	for (int pass = 0; pass < 3; pass++) {
		if (netns && !net_netns_exists(netns))
			return true;
		left = ipt_pass(netns, table, id, need, true);
		if (left <= 0)
			return left == 0;
	}
	if (netns && !net_netns_exists(netns))
		return true;
	left = ipt_pass(netns, table, id, need, false);
	if (left != 0)
		log_error("network fault: %d iptables %s rule(s) tagged %s%s remain in %s", left,
			  table, NF_COMMENT, id ? id : "*", netns ? netns : "the root namespace");
	return left == 0;
}

/* Smallest NFQUEUE number not used by a rule in netns (queues are per namespace). */
static int queue_free(const char *netns)
{
	char *argv[] = { NF_IPTABLES, "-w", "-t", "mangle", "-S", NULL };
	char *out = xmalloc(NF_LIST_MAX);
	int q = 1;

	if (ns_run(netns, argv, out, NF_LIST_MAX) == 0) {
		char word[40];

		for (;;) {
			str_format(word, sizeof(word), "--queue-num %d ", q);
			if (!strstr(out, word))
				break;
			q++;
		}
	}
	free(out);
	return q;
}

/* ---- tc ---- */

/* Does `tc <what> show dev dev` in netns mention word? */
static bool tc_shows(const char *netns, const char *what, const char *dev, const char *word)
{
	char *argv[] = { NF_TC, (char *)what, "show", "dev", (char *)dev, NULL };
	char out[8192];

	if (ns_run(netns, argv, out, sizeof(out)) != 0)
		return false;
	return strstr(out, word) != NULL;
}

/* Smallest class minor of our htb not yet on dev (also the filters' prio). */
static int tc_minor_free(const char *netns, const char *dev)
{
	char word[32];
	int minor = 1;

	for (;;) {
		str_format(word, sizeof(word), NF_HTB "%x ", minor);
		if (!tc_shows(netns, "class", dev, word) || minor >= 0xfff)
			return minor;
		minor++;
	}
}

/*
 * Limit egress of dev in netns to rate_bps for packets whose dir ("dst" or "src") address
 * is one of addrs: one htb class (and filter prio) per fault and device, recorded first.
 */
static bool tc_limit(struct driver *d, const char *id, const char *netns, const char *dev,
		     int64_t rate_bps, const char *dir, const char *const *addrs, int naddrs)
{
	char rate[32], classid[16], prio[16], rec[LOCAL_PATH_LEN + 64], line[160];
	char *qdisc[] = { NF_TC, "qdisc", "add", "dev", (char *)dev, "root", "handle", NF_HTB,
			  "htb", NULL };
	char *cls[] = { NF_TC, "class", "add", "dev", (char *)dev, "parent", NF_HTB, "classid",
			classid, "htb", "rate", rate, "ceil", rate, NULL };
	int minor;

	if (!tc_shows(netns, "qdisc", dev, "htb " NF_HTB) && !ns_run_ok(netns, qdisc))
		return false;
	minor = tc_minor_free(netns, dev);
	str_format(rate, sizeof(rate), "%" PRId64 "bit", rate_bps);
	str_format(classid, sizeof(classid), NF_HTB "%x", minor);
	str_format(prio, sizeof(prio), "%d", minor);
	nf_path(d, id, ".tc", rec, sizeof(rec));
	str_format(line, sizeof(line), "%s %s %d\n", netns ? netns : "-", dev, minor);
	if (!nf_record_line(rec, line) || !ns_run_ok(netns, cls))
		return false;
	for (int i = 0; i < naddrs; i++) {
		char match[40];
		char *filt[] = { NF_TC, "filter", "add", "dev", (char *)dev, "parent", NF_HTB,
				 "protocol", "ip", "prio", prio, "u32", "match", "ip", (char *)dir,
				 match, "flowid", classid, NULL };

		str_format(match, sizeof(match), "%s/32", addrs[i]);
		if (!ns_run_ok(netns, filt))
			return false;
	}
	return true;
}

/* Remove one class (and its filters); the qdisc too once it holds no class of ours. */
static bool tc_unlimit(const char *netns, const char *dev, int minor)
{
	char classid[16], prio[16], word[24], out[256];
	char *fdel[] = { NF_TC, "filter", "del", "dev", (char *)dev, "parent", NF_HTB, "prio", prio,
			 NULL };
	char *cdel[] = { NF_TC, "class", "del", "dev", (char *)dev, "classid", classid, NULL };
	char *qdel[] = { NF_TC, "qdisc", "del", "dev", (char *)dev, "root", NULL };

	if (netns && !net_netns_exists(netns))
		return true;
	str_format(classid, sizeof(classid), NF_HTB "%x", minor);
	str_format(prio, sizeof(prio), "%d", minor);
	str_format(word, sizeof(word), NF_HTB "%x ", minor);
	if (!tc_shows(netns, "qdisc", dev, "htb " NF_HTB))
		return true; /* the device or our qdisc is gone: nothing left */
	/* Errors are judged by what is left: another reverter may have been first. */
	ns_run(netns, fdel, out, sizeof(out));
	if (tc_shows(netns, "class", dev, word))
		ns_run(netns, cdel, out, sizeof(out));
	if (tc_shows(netns, "class", dev, word)) {
		log_error("network fault: tc class %s remains on %s in %s", classid, dev,
			  netns ? netns : "the root namespace");
		return false;
	}
	if (!tc_shows(netns, "class", dev, NF_HTB) && tc_shows(netns, "qdisc", dev, "htb " NF_HTB))
		ns_run(netns, qdel, out, sizeof(out));
	return true;
}

/* Undo every class listed in a .tc record, then remove the record. */
static bool tc_unlimit_file(const char *path)
{
	char *text = file_read_all(path, NULL), *line, *save = NULL;
	bool ok = true;

	if (!text)
		return true;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char ns[64], dev[32];
		int minor;

		if (sscanf(line, "%63s %31s %d", ns, dev, &minor) != 3)
			continue;
		if (!tc_unlimit(strcmp(ns, "-") == 0 ? NULL : ns, dev, minor))
			ok = false;
	}
	free(text);
	if (ok)
		unlink(path);
	return ok;
}

/* Remove our htb root qdisc from dev, whatever classes it holds (sweep). */
static bool tc_clear(const char *netns, const char *dev)
{
	char *qdel[] = { NF_TC, "qdisc", "del", "dev", (char *)dev, "root", NULL };

	if (netns && !net_netns_exists(netns))
		return true;
	if (!tc_shows(netns, "qdisc", dev, "htb " NF_HTB))
		return true;
	return ns_run_ok(netns, qdel);
}

/* ---- apply, revert, sweep ---- */

static bool resolve(const struct driver *d, const char *name, struct party *p)
{
	if (strcmp(name, PARTY_CLIENT) == 0) {
		p->zone = -1;
		return true;
	}
	p->zone = local_find_zone(d, name);
	if (p->zone < 0) {
		log_error("network fault: '%s' is neither a zone of cluster %s nor %s", name,
			  d->spec.name, PARTY_CLIENT);
		return false;
	}
	return true;
}

static const char *addr_of(const struct driver *d, struct party p)
{
	return p.zone < 0 ? d->bridge_ip : d->zones[p.zone].ip;
}

/* Our nftables table for fault id, in every namespace: the bridge keeps clusters apart. */
static void nft_table(const struct driver *d, const char *id, char *out, size_t len)
{
	str_format(out, len, NF_TABLE_PREFIX "%s_%s", d->bridge, id);
}

/* Append a line to a script buffer; false (logged) when it does not fit. */
static bool script_add(char *script, size_t len, const char *line)
{
	size_t used = strlen(script);

	if (!str_format(script + used, len - used, "%s\n", line)) {
		log_error("network fault: nftables script too long");
		return false;
	}
	return true;
}

/*
 * Drop (all, or loss_pct at random) packets from x to y, at y: a rule of the input chain
 * of our table in y's namespace (the script's header is written with its first rule).
 */
static bool add_drop(struct driver *d, const char *table, struct party x, struct party y,
		     double loss, char *script, size_t len)
{
	char line[512], stat[64] = "";

	if (!*script) {
		str_format(line, sizeof(line), "add table ip %s\nadd chain ip %s input { type "
			   "filter hook input priority 0; policy accept; }", table, table);
		if (!script_add(script, len, line))
			return false;
	}
	if (loss < 100.0)
		str_format(stat, sizeof(stat), " numgen random mod 100000 < %ld",
			   lround(loss * 1000.0));
	if (y.zone >= 0)
		str_format(line, sizeof(line), "add rule ip %s input iifname \"eth0\" ip saddr %s%s "
			   "drop", table, addr_of(d, x), stat);
	else
		str_format(line, sizeof(line), "add rule ip %s input iifname \"%s\" ip saddr %s "
			   "ip daddr %s%s drop", table, d->bridge, addr_of(d, x), d->bridge_ip, stat);
	return script_add(script, len, line);
}

/* Record which namespaces got fault id's table (their indexes, one line). */
static bool record_tables(struct driver *d, const char *id, char (*scripts)[NF_SCRIPT_LEN])
{
	char path[LOCAL_PATH_LEN + 64], line[3 * NF_NFT_MAX_JOBS + 2] = "";

	for (int i = 0; i <= d->nzones; i++)
		if (scripts[i][0])
			str_format(line + strlen(line), sizeof(line) - strlen(line), "%d ", i);
	str_format(line + strlen(line), sizeof(line) - strlen(line), "\n");
	nf_path(d, id, ".nft", path, sizeof(path));
	return nf_record_line(path, line);
}

/*
 * Which namespaces may hold fault id's table: those recorded, or all of them when there is
 * no record (the table is removed wherever it is: a missing one is no error).
 */
static void recorded_tables(struct driver *d, const char *id, bool *where)
{
	char path[LOCAL_PATH_LEN + 64], *text, *p, *end;

	nf_path(d, id, ".nft", path, sizeof(path));
	text = file_read_all(path, NULL);
	for (int i = 0; i <= d->nzones; i++)
		where[i] = text == NULL;
	if (!text)
		return;
	for (p = text;; p = end) {
		long i = strtol(p, &end, 10);

		if (end == p)
			break;
		if (i >= 0 && i <= d->nzones)
			where[i] = true;
	}
	free(text);
}

/*
 * The first transaction of this process in each namespace took 40-140 ms on a loaded
 * 2-core machine (later ones 1-5 ms), and the first to load a rule (one that added and
 * deleted a table at once did not count) still 13 ms: a table of ours shaped as a fault's,
 * loaded and then deleted, in every namespace when the cluster is opened, pays for both
 * before any fault is due (the first fault's then took 1-2 ms like the others). Its rule
 * matches nothing: no packet on a zone's eth0 or on the bridge comes from 127.0.0.2.
 */
static bool nft_load(struct driver *d, char (*scripts)[NF_SCRIPT_LEN], int64_t *last_us);

void local_net_warm(struct driver *d)
{
	char (*scripts)[NF_SCRIPT_LEN] = xmalloc(sizeof(*scripts) * NF_NFT_MAX_JOBS);
	char table[NF_TABLE_LEN];

	nft_table(d, "warm", table, sizeof(table));
	for (int i = 0; i <= d->nzones; i++) {
		scripts[i][0] = '\0';
		if (i < d->nzones && net_netns_exists(d->zones[i].netns))
			str_format(scripts[i], NF_SCRIPT_LEN, "add table ip %s\nadd chain ip %s input { type "
				   "filter hook input priority 0; policy accept; }\nadd rule ip %s input iifname "
				   "\"eth0\" ip saddr 127.0.0.2 drop\n", table, table, table);
		else if (i == d->nzones)
			str_format(scripts[i], NF_SCRIPT_LEN, "add table ip %s\nadd chain ip %s input { type "
				   "filter hook input priority 0; policy accept; }\nadd rule ip %s input iifname "
				   "\"%s\" ip saddr 127.0.0.2 ip daddr %s drop\n", table, table, table, d->bridge,
				   d->bridge_ip);
	}
	nft_load(d, scripts, NULL);
	/* Deleted as a revert deletes (the sweep removes it should this process die first). */
	for (int i = 0; i <= d->nzones; i++)
		if (scripts[i][0])
			str_format(scripts[i], NF_SCRIPT_LEN, "add table ip %s\ndelete table ip %s\n", table,
				   table);
	nft_load(d, scripts, NULL);
	free(scripts);
}

void local_net_release(const struct driver *d)
{
	const char *ns[NF_NFT_MAX_JOBS];

	for (int i = 0; i < d->nzones && i < NF_NFT_MAX_JOBS; i++)
		ns[i] = d->zones[i].netns;
	nft_release(ns, d->nzones < NF_NFT_MAX_JOBS ? d->nzones : NF_NFT_MAX_JOBS);
}

/* Load the scripts of the zones (index < nzones) and of the root namespace (nzones) at once. */
static bool nft_load(struct driver *d, char (*scripts)[NF_SCRIPT_LEN], int64_t *last_us)
{
	const char *ns[NF_NFT_MAX_JOBS], *text[NF_NFT_MAX_JOBS];

	for (int i = 0; i <= d->nzones; i++) {
		ns[i] = i < d->nzones ? d->zones[i].netns : NULL;
		text[i] = scripts[i];
	}
	return nft_run_all(ns, text, d->nzones + 1, last_us);
}

/* Delete tables named in each namespace (those that exist), every namespace at once. */
static bool nft_drop_tables(struct driver *d, char (*scripts)[NF_SCRIPT_LEN], int64_t *last_us)
{
	for (int i = 0; i < d->nzones; i++)
		if (!net_netns_exists(d->zones[i].netns))
			scripts[i][0] = '\0'; /* a namespace that is gone holds nothing */
	return nft_load(d, scripts, last_us);
}

/* Queue packets from x to y to the netdelay of the namespace that holds the rule. */
static bool add_delay(struct driver *d, const char *id, struct party x, struct party y,
		      const int *queues, char (*scripts)[NF_SCRIPT_LEN])
{
	int z = y.zone >= 0 ? y.zone : x.zone;
	char line[512];

	if (y.zone >= 0)
		str_format(line, sizeof(line), "PREROUTING -i eth0 -s %s/32", addr_of(d, x));
	else
		str_format(line, sizeof(line), "OUTPUT -d %s/32 -o eth0", d->bridge_ip);
	str_format(line + strlen(line), sizeof(line) - strlen(line), " -m comment --comment "
		   NF_COMMENT "%s -j NFQUEUE --queue-num %d --queue-bypass", id, queues[z]);
	return script_add(scripts[z], NF_SCRIPT_LEN, line);
}

/*
 * One `iptables-restore --noflush` per namespace whose script is not empty, all at once,
 * each loading its script ("*mangle", the lines given as "-<op> <rule>", COMMIT) as one
 * transaction. op: 'I' inserts, 'D' deletes. Logs failures unless quiet.
 */
static bool ipt_restore_all(struct driver *d, const char *id, char (*rules)[NF_SCRIPT_LEN],
			    char op, bool quiet, int64_t *done_us)
{
	pid_t pids[NF_NFT_MAX_JOBS];
	char path[NF_NFT_MAX_JOBS][LOCAL_PATH_LEN + 80], err[NF_NFT_MAX_JOBS][LOCAL_PATH_LEN + 80];
	char nspath[96];
	bool ok = true;

	for (int i = 0; i <= d->nzones; i++) {
		const char *ns = i < d->nzones ? d->zones[i].netns : NULL;
		char *text, *line, *save = NULL;
		size_t len = strlen(rules[i]) * 2 + 64, used;

		pids[i] = -1;
		if (!rules[i][0] || (ns && !net_netns_exists(ns)))
			continue;
		text = xmalloc(len);
		str_format(text, len, "*mangle\n");
		{
			char *copy = xstrdup(rules[i]);

			for (line = strtok_r(copy, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				used = strlen(text);
				str_format(text + used, len - used, "-%c %s\n", op, line);
			}
			free(copy);
		}
		used = strlen(text);
		str_format(text + used, len - used, "COMMIT\n");
		str_format(path[i], sizeof(path[i]), "%s/netfault/%s.%d.ipt", d->dir, id, i);
		str_format(err[i], sizeof(err[i]), "%s/netfault/%s.%d.err", d->dir, id, i);
		if (!file_write_atomic(path[i], text, strlen(text))) {
			free(text);
			ok = false;
			continue;
		}
		free(text);
		str_format(nspath, sizeof(nspath), "/run/netns/%s", ns ? ns : "");
		pids[i] = fork();
		if (pids[i] == 0) {
			/* Only system calls here: the parent may have threads. */
			char *argv[] = { NF_IPTABLES_RESTORE, "-w", "--noflush", NULL };
			int in = open(path[i], O_RDONLY | O_CLOEXEC), out;

			out = open(err[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (ns) {
				int fd = open(nspath, O_RDONLY | O_CLOEXEC);

				if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
					_exit(126);
			}
			if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
				_exit(126);
			execv(argv[0], argv);
			_exit(127);
		}
		if (pids[i] < 0) {
			log_error("network fault %s: fork: %s", id, strerror(errno));
			ok = false;
		}
	}
	for (int i = 0; i <= d->nzones; i++) {
		int status = 0;

		if (pids[i] <= 0)
			continue;
		bool reaped = waitpid(pids[i], &status, 0) == pids[i];

		if (reaped && done_us)
			*done_us = mono_now_us(); /* its COMMIT is in force once it has exited */
		if (!reaped || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char *msg = file_read_all(err[i], NULL);

			if (!quiet)
				log_error("network fault %s: iptables-restore in %s failed: %s", id,
					  i < d->nzones ? d->zones[i].netns : "the root namespace",
					  msg ? msg : "(no output)");
			free(msg);
			ok = false;
		}
		unlink(path[i]);
		unlink(err[i]);
	}
	return ok;
}

/* Record the queue rules of fault id (zone index, tab, rule), so a revert deletes them at once. */
static bool record_rules(struct driver *d, const char *id, char (*rules)[NF_SCRIPT_LEN])
{
	char path[LOCAL_PATH_LEN + 64];
	bool ok = true;

	nf_path(d, id, ".ipt", path, sizeof(path));
	for (int i = 0; ok && i <= d->nzones; i++) {
		char *copy = xstrdup(rules[i]), *line, *save = NULL;

		for (line = strtok_r(copy, "\n", &save); ok && line;
		     line = strtok_r(NULL, "\n", &save)) {
			char rec[600];

			str_format(rec, sizeof(rec), "%d\t%s\n", i, line);
			ok = nf_record_line(path, rec);
		}
		free(copy);
	}
	return ok;
}

/*
 * Delete the recorded queue rules of fault id, one restore per namespace at once; when that
 * is not possible (no record, or a rule already gone), rule by rule from the listings.
 */
static bool ipt_delete_recorded(struct driver *d, const char *id, int64_t *done_us)
{
	char path[LOCAL_PATH_LEN + 64], *text, *line, *save = NULL;
	char (*rules)[NF_SCRIPT_LEN];
	bool ok = false;

	nf_path(d, id, ".ipt", path, sizeof(path));
	text = file_read_all(path, NULL);
	if (text) {
		rules = xmalloc(sizeof(*rules) * NF_NFT_MAX_JOBS);
		memset(rules, 0, sizeof(*rules) * NF_NFT_MAX_JOBS);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');
			int i = (int)strtol(line, NULL, 10);

			if (tab && i >= 0 && i <= d->nzones)
				script_add(rules[i], NF_SCRIPT_LEN, tab + 1);
		}
		ok = ipt_restore_all(d, id, rules, 'D', true, done_us);
		free(rules);
		free(text);
	}
	if (!ok) {
		ok = true;
		for (int i = 0; i < d->nzones; i++)
			ok &= ipt_delete(d->zones[i].netns, "mangle", id, NULL);
		*done_us = mono_now_us();
	}
	if (ok)
		unlink(path);
	return ok;
}

/* Rate-limit every pair at its sender: one class per sending zone, per zone for the client. */
static bool add_rate(struct driver *d, const struct net_fault *f, struct party (*pairs)[2],
		     int npairs)
{
	const char *addrs[NET_MAX_PARTIES];

	for (int z = 0; z < d->nzones; z++) {
		int n = 0;

		for (int i = 0; i < npairs; i++)
			if (pairs[i][0].zone == z)
				addrs[n++] = addr_of(d, pairs[i][1]);
		if (n > 0 && !tc_limit(d, f->id, d->zones[z].netns, "eth0", f->rate_bps, "dst", addrs, n))
			return false;
	}
	for (int i = 0; i < npairs; i++)
		if (pairs[i][0].zone < 0) {
			const char *bridge_ip = d->bridge_ip;

			if (!tc_limit(d, f->id, NULL, d->zones[pairs[i][1].zone].veth, f->rate_bps,
				      "src", &bridge_ip, 1))
				return false;
		}
	return true;
}

/* The directed pairs of a fault, without duplicates; -1 when a party is wrong. */
static int fault_pairs(const struct driver *d, const struct net_fault *f,
		       struct party (*pairs)[2], int max)
{
	struct party a[NET_MAX_PARTIES], b[NET_MAX_PARTIES];
	int n = 0;

	if (f->na < 1 || f->nb < 1 || f->na > NET_MAX_PARTIES || f->nb > NET_MAX_PARTIES) {
		log_error("network fault %s: both groups need at least one party", f->id);
		return -1;
	}
	for (int i = 0; i < f->na; i++)
		if (!resolve(d, f->a[i], &a[i]))
			return -1;
	for (int i = 0; i < f->nb; i++)
		if (!resolve(d, f->b[i], &b[i]))
			return -1;
	for (int i = 0; i < f->na; i++)
		for (int j = 0; j < f->nb; j++) {
			if (a[i].zone == b[j].zone) {
				log_error("network fault %s: %s is in both groups", f->id, f->a[i]);
				return -1;
			}
			for (int dir = 0; dir < (f->one_way ? 1 : 2); dir++) {
				struct party x = dir ? b[j] : a[i], y = dir ? a[i] : b[j];
				bool dup = false;

				for (int k = 0; k < n; k++)
					dup |= pairs[k][0].zone == x.zone && pairs[k][1].zone == y.zone;
				if (!dup && n < max) {
					pairs[n][0] = x;
					pairs[n][1] = y;
					n++;
				}
			}
		}
	return n;
}

bool local_net_apply(struct driver *d, const struct net_fault *f)
{
	enum { MAX_PAIRS = 2 * NET_MAX_PARTIES * NET_MAX_PARTIES };
	struct party pairs[MAX_PAIRS][2];
	int npairs, queues[DRIVER_MAX_MEMBERS] = { 0 };
	char dir[LOCAL_PATH_LEN + 16];
	bool delay = f->latency_us > 0 || f->jitter_us > 0;
	int64_t at = 0; /* when the last part took effect */

	if (!id_ok(f->id)) {
		log_error("network fault: bad id '%s'", f->id);
		return false;
	}
	if (access(d->state_file, F_OK) != 0) {
		log_error("network fault %s: cluster %s is not up", f->id, d->spec.name);
		return false;
	}
	if (f->loss_pct < 0 || f->loss_pct > 100 || f->rate_bps < 0 || f->latency_us < 0 ||
	    f->jitter_us < 0 || (f->loss_pct == 0 && !delay && f->rate_bps == 0)) {
		log_error("network fault %s: nothing valid to do (loss %.1f%%, delay %" PRId64
			  " us, rate %" PRId64 " bit/s)", f->id, f->loss_pct, f->latency_us, f->rate_bps);
		return false;
	}
	{
		static const struct {
			const char *path, *package;
		} tools[] = { { NF_IPTABLES, "iptables" }, { NF_NSENTER, "util-linux" },
			      { NF_TC, "iproute2" }, { NULL, NULL } };

		for (int i = 0; tools[i].path; i++)
			if (access(tools[i].path, X_OK) != 0) {
				log_error("network fault %s: missing %s (install the Debian package %s)",
					  f->id, tools[i].path, tools[i].package);
				return false;
			}
	}
	npairs = fault_pairs(d, f, pairs, MAX_PAIRS);
	if (npairs < 0)
		return false;
	str_format(dir, sizeof(dir), "%s/netfault", d->dir);
	if (!mkdir_p(dir, 0700))
		return false;
	if (delay) {
		/* One netdelay per namespace that holds a delay rule, running before the rules. */
		for (int i = 0; i < npairs; i++) {
			int z = pairs[i][1].zone >= 0 ? pairs[i][1].zone : pairs[i][0].zone;

			if (queues[z] == 0) {
				queues[z] = queue_free(d->zones[z].netns);
				if (!netdelay_start(d, f->id, &d->zones[z], queues[z], f->latency_us,
						    f->jitter_us))
					goto fail;
			}
		}
		{
			/* Every namespace's queue rules in one restore each, all at once. */
			char (*rules)[NF_SCRIPT_LEN] = xmalloc(sizeof(*rules) * NF_NFT_MAX_JOBS);
			bool ok = true;

			memset(rules, 0, sizeof(*rules) * NF_NFT_MAX_JOBS);
			for (int i = 0; ok && i < npairs; i++)
				ok = add_delay(d, f->id, pairs[i][0], pairs[i][1], queues, rules);
			ok = ok && record_rules(d, f->id, rules) &&
			     ipt_restore_all(d, f->id, rules, 'I', false, &at);
			local_effect_note(d, at, "iptables-restore");
			free(rules);
			if (!ok)
				goto fail;
		}
	}
	if (f->loss_pct > 0) {
		/* One transaction per namespace, all namespaces at once: the cut is one instant. */
		char (*scripts)[NF_SCRIPT_LEN] = xmalloc(sizeof(*scripts) * NF_NFT_MAX_JOBS);
		char table[NF_TABLE_LEN];
		bool ok = true;

		memset(scripts, 0, sizeof(*scripts) * NF_NFT_MAX_JOBS);
		nft_table(d, f->id, table, sizeof(table));
		for (int i = 0; ok && i < npairs; i++) {
			int y = pairs[i][1].zone >= 0 ? pairs[i][1].zone : d->nzones;

			ok = add_drop(d, table, pairs[i][0], pairs[i][1], f->loss_pct, scripts[y],
				      NF_SCRIPT_LEN);
		}
		/*
		 * The record of where the tables are only narrows a revert (without it a revert
		 * deletes the table in every namespace): written after the commit, its fsync
		 * does not delay the cut.
		 */
		ok = ok && nft_load(d, scripts, &at);
		if (ok)
			local_effect_note(d, at, "nft-commit");
		ok = ok && record_tables(d, f->id, scripts);
		free(scripts);
		if (!ok)
			goto fail;
	}
	if (f->rate_bps > 0) {
		if (!add_rate(d, f, pairs, npairs))
			goto fail;
		local_effect_note(d, mono_now_us(), "tc-returned");
	}
	log_debug("network fault %s: %d directed pairs", f->id, npairs);
	return true;
fail:
	local_net_revert(d, f->id);
	return false;
}

bool local_net_revert(struct driver *d, const char *id)
{
	char path[LOCAL_PATH_LEN + 64];
	int64_t at = 0;
	bool ok = true;

	if (!id_ok(id)) {
		log_error("network fault: bad id '%s'", id ? id : "(null)");
		return false;
	}
	/* Drops first, every namespace at once (adding first makes a missing table no error). */
	{
		char (*scripts)[NF_SCRIPT_LEN] = xmalloc(sizeof(*scripts) * NF_NFT_MAX_JOBS);
		char table[NF_TABLE_LEN];

		bool where[NF_NFT_MAX_JOBS];

		nft_table(d, id, table, sizeof(table));
		recorded_tables(d, id, where);
		for (int i = 0; i <= d->nzones; i++) {
			scripts[i][0] = '\0';
			if (where[i])
				str_format(scripts[i], NF_SCRIPT_LEN, "add table ip %s\ndelete table ip "
					   "%s\n", table, table);
		}
		if (nft_drop_tables(d, scripts, &at)) {
			nf_path(d, id, ".nft", path, sizeof(path));
			unlink(path);
			local_effect_note(d, at, "nft-commit");
		} else {
			ok = false;
		}
		free(scripts);
	}
	/* Queue rules (a latency fault's, recorded with its netdelays), then the netdelays. */
	nf_path(d, id, ".pids", path, sizeof(path));
	if (access(path, F_OK) == 0) {
		ok &= ipt_delete_recorded(d, id, &at);
		local_effect_note(d, at, "iptables-restore");
	}
	/* Packets stop being queued with the rules gone: the netdelays only end after. */
	ok &= netdelay_stop_fault(d, id);
	nf_path(d, id, ".tc", path, sizeof(path));
	if (access(path, F_OK) == 0) {
		ok &= tc_unlimit_file(path);
		local_effect_note(d, mono_now_us(), "tc-returned");
	}
	return ok;
}

/* Delete every table of ours (any fault id) in the zones and, on our bridge, the root. */
static bool nft_sweep(struct driver *d)
{
	char (*scripts)[NF_SCRIPT_LEN] = xmalloc(sizeof(*scripts) * NF_NFT_MAX_JOBS);
	char (*names)[NF_TABLE_LEN] = xmalloc(sizeof(*names) * NF_SWEEP_MAX);
	char prefix[NF_TABLE_LEN];
	bool ok = true;

	str_format(prefix, sizeof(prefix), NF_TABLE_PREFIX "%s_", d->bridge);
	for (int i = 0; i <= d->nzones; i++) {
		const char *ns = i < d->nzones ? d->zones[i].netns : NULL;
		int n = 0;

		scripts[i][0] = '\0';
		if (ns && !net_netns_exists(ns))
			continue;
		n = nft_tables_with_prefix(ns, prefix, names, NF_SWEEP_MAX);
		if (n < 0) {
			ok = false;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char line[NF_TABLE_LEN + 32];

			str_format(line, sizeof(line), "delete table ip %s", names[k]);
			ok &= script_add(scripts[i], NF_SCRIPT_LEN, line);
		}
	}
	ok &= nft_drop_tables(d, scripts, NULL);
	free(names);
	free(scripts);
	return ok;
}

bool local_net_sweep(struct driver *d)
{
	char dir[LOCAL_PATH_LEN + 16];
	bool ok = true;

	ok &= nft_sweep(d);
	/* iptables rules: the latency fault's queues, and drops of versions before nftables. */
	for (int t = 0; nf_tables[t]; t++) {
		for (int i = 0; i < d->nzones; i++)
			ok &= ipt_delete(d->zones[i].netns, nf_tables[t], NULL, NULL);
		/* The root namespace is shared: only rules on this cluster's bridge. */
		ok &= ipt_delete(NULL, nf_tables[t], NULL, d->bridge);
	}
	ok &= netdelay_stop_all(d);
	for (int i = 0; i < d->nzones; i++) {
		char path[64];

		ok &= tc_clear(d->zones[i].netns, "eth0");
		str_format(path, sizeof(path), "/sys/class/net/%s", d->zones[i].veth);
		if (access(path, F_OK) == 0)
			ok &= tc_clear(NULL, d->zones[i].veth);
	}
	str_format(dir, sizeof(dir), "%s/netfault", d->dir);
	if (ok && access(dir, F_OK) == 0 && !local_rm_rf(dir)) {
		log_error("network fault sweep: cannot remove %s", dir);
		ok = false;
	}
	return ok;
}
