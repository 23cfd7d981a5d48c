/*
 * test_driver_caps.c - what every registered backend promises: each capability bit it sets
 * has the ops that bit needs, and each op it has is promised by a bit; its options are
 * declared within bounds and resolve given > environment > default; a journal's target
 * line becomes options again. Then fault_supported, the one "cannot": a missing bit, and a
 * network fault whose exact pairs the backend's can op refuses, are skips with the reason.
 */
#include "driver.h"
#include "fault.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef void (*any_op)(void);

/* Each capability and the ops it needs (offsets into struct driver_ops). */
static const struct {
	unsigned cap;
	const char *name;
	size_t ops[2];
	int nops;
} cap_ops[] = {
	{ DRIVER_CAP_KILL_POD, "KILL_POD", { offsetof(struct driver_ops, kill) }, 1 },
	{ DRIVER_CAP_KILL_POSTMASTER, "KILL_POSTMASTER", { offsetof(struct driver_ops, kill) }, 1 },
	{ DRIVER_CAP_RESTART, "RESTART", { offsetof(struct driver_ops, restart) }, 1 },
	{ DRIVER_CAP_SQL, "SQL", { 0 }, 0 }, /* members' endpoints: no op of its own */
	{ DRIVER_CAP_NET_FAULT, "NET_FAULT",
	  { offsetof(struct driver_ops, net_apply), offsetof(struct driver_ops, net_revert) }, 2 },
	{ DRIVER_CAP_NET_LATENCY, "NET_LATENCY",
	  { offsetof(struct driver_ops, net_apply), offsetof(struct driver_ops, net_revert) }, 2 },
	{ DRIVER_CAP_NET_BANDWIDTH, "NET_BANDWIDTH",
	  { offsetof(struct driver_ops, net_apply), offsetof(struct driver_ops, net_revert) }, 2 },
	{ DRIVER_CAP_NET_LOSS, "NET_LOSS",
	  { offsetof(struct driver_ops, net_apply), offsetof(struct driver_ops, net_revert) }, 2 },
	{ DRIVER_CAP_NET_CLIENT, "NET_CLIENT",
	  { offsetof(struct driver_ops, net_apply), offsetof(struct driver_ops, net_revert) }, 2 },
	{ DRIVER_CAP_PAUSE, "PAUSE", { offsetof(struct driver_ops, pause) }, 1 },
	{ DRIVER_CAP_ZONE_OUTAGE, "ZONE_OUTAGE",
	  { offsetof(struct driver_ops, zone_stop), offsetof(struct driver_ops, zone_start) }, 2 },
	{ DRIVER_CAP_STORAGE_STALL, "STORAGE_STALL",
	  { offsetof(struct driver_ops, io_fault), offsetof(struct driver_ops, io_heal) }, 2 },
	{ DRIVER_CAP_IO_THROTTLE, "IO_THROTTLE", { offsetof(struct driver_ops, io_throttle) }, 1 },
	{ DRIVER_CAP_CLIENT_ZONES, "CLIENT_ZONES", { offsetof(struct driver_ops, client_netns) }, 1 },
};

#define NCAPS (sizeof(cap_ops) / sizeof(cap_ops[0]))

static any_op op_at(const struct driver_ops *ops, size_t off)
{
	any_op f;

	memcpy(&f, (const char *)ops + off, sizeof(f));
	return f;
}

static void test_caps_match_ops(void)
{
	const struct driver_ops *const *table = driver_table();
	unsigned all = 0;
	int n = 0;

	for (size_t c = 0; c < NCAPS; c++)
		all |= cap_ops[c].cap;
	for (; *table; table++, n++) {
		const struct driver_ops *ops = *table;

		CU_ASSERT_EQUAL(ops->version, DRIVER_OPS_VERSION);
		/* Every bit a backend sets is one this table knows. */
		CU_ASSERT_EQUAL(ops->caps & ~all, 0);
		for (size_t c = 0; c < NCAPS; c++)
			for (int k = 0; k < cap_ops[c].nops && (ops->caps & cap_ops[c].cap); k++)
				if (!op_at(ops, cap_ops[c].ops[k])) {
					fprintf(stderr, "\n%s: DRIVER_CAP_%s set, its op at %zu NULL\n", ops->name,
						cap_ops[c].name, cap_ops[c].ops[k]);
					CU_FAIL("a capability without its op");
				}
		/* Every fault op a backend has is promised by one of its bits. */
		for (size_t c = 0; c < NCAPS; c++)
			for (int k = 0; k < cap_ops[c].nops; k++) {
				bool promised = false;

				if (!op_at(ops, cap_ops[c].ops[k]))
					continue;
				for (size_t d = 0; d < NCAPS; d++)
					for (int j = 0; j < cap_ops[d].nops; j++)
						promised |= cap_ops[d].ops[j] == cap_ops[c].ops[k] &&
							    (ops->caps & cap_ops[d].cap);
				if (!promised) {
					fprintf(stderr, "\n%s: op at %zu without DRIVER_CAP_%s\n", ops->name,
						cap_ops[c].ops[k], cap_ops[c].name);
					CU_FAIL("an op no capability bit promises");
				}
			}
		/* A network fault of any kind needs the plain one too (the revert, the sweep). */
		if (ops->caps & (DRIVER_CAP_NET_LATENCY | DRIVER_CAP_NET_BANDWIDTH | DRIVER_CAP_NET_LOSS |
				 DRIVER_CAP_NET_CLIENT))
			CU_ASSERT(ops->caps & DRIVER_CAP_NET_FAULT);
		/* A backend that can dry-run has both halves: the flag and the flush. */
		CU_ASSERT_EQUAL(ops->flush_calls != NULL,
				driver_option_find(ops->options, DRIVER_OPTION_DRY_RUN) != NULL);
		for (int i = 0; ops->options && ops->options[i].name; i++) {
			CU_ASSERT(i < DRIVER_MAX_OPTIONS);
			CU_ASSERT(ops->options[i].help && ops->options[i].help[0]);
		}
	}
	/* local, null, kubernetes, kind: none left out of the check. */
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_PTR_NOT_NULL(driver_find("local"));
	CU_ASSERT_PTR_NOT_NULL(driver_find("null"));
	CU_ASSERT_PTR_NOT_NULL(driver_find("kubernetes"));
	CU_ASSERT_PTR_NOT_NULL(driver_find("kind"));
	CU_ASSERT_STRING_EQUAL(driver_names(), "local, null, kubernetes, kind");
}

static void test_options_resolve(void)
{
	const struct driver_ops *k8s = driver_find("kubernetes");
	struct driver_options *o = xmalloc(sizeof(*o));
	char why[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(k8s);
	driver_options_init(o, k8s);
	unsetenv("BISE_K8S_CONTEXT");
	unsetenv("BISE_K8S_OPERATOR");
	unsetenv("BISE_K8S_DRY_RUN");
	/* Neither given nor in the environment: the default, or nothing. */
	CU_ASSERT_STRING_EQUAL(driver_option(o, "operator"), "cnpg");
	CU_ASSERT_PTR_NULL(driver_option(o, "context"));
	CU_ASSERT_FALSE(driver_option_flag(o, DRIVER_OPTION_DRY_RUN));
	/* The environment, then what is given. */
	setenv("BISE_K8S_CONTEXT", "from-env", 1);
	setenv("BISE_K8S_DRY_RUN", "1", 1);
	CU_ASSERT_STRING_EQUAL(driver_option(o, "context"), "from-env");
	CU_ASSERT(driver_option_flag(o, DRIVER_OPTION_DRY_RUN));
	CU_ASSERT(driver_options_set(o, "context", "given", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(driver_option(o, "context"), "given");
	/* Given empty stays empty: a backend may clear what the environment says. */
	CU_ASSERT(driver_options_set(o, "context", "", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(driver_option(o, "context"), "");
	unsetenv("BISE_K8S_CONTEXT");
	unsetenv("BISE_K8S_DRY_RUN");
	/* Not one of the backend's: refused, named. */
	CU_ASSERT_FALSE(driver_options_set(o, "kind-config", "x.yaml", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "no option --kind-config");
	/* The local backend takes none. */
	driver_options_init(o, driver_find("local"));
	CU_ASSERT_FALSE(driver_options_set(o, "namespace", "x", why, sizeof(why)));
	CU_ASSERT_PTR_NULL(driver_option(o, "namespace"));
	free(o);
}

static void test_options_from_target(void)
{
	struct driver_options *o = xmalloc(sizeof(*o));
	char why[512];

	/* A kubernetes journal's target: each key an option of the backend. */
	driver_options_init(o, driver_find("kubernetes"));
	CU_ASSERT(driver_options_from_target(o, "{\"kubeconfig\":\"/k/a:/k/b\",\"context\":\"kind-x\","
					     "\"namespace\":\"chaos\",\"operator\":\"zalando\"}", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(driver_option(o, "kubeconfig"), "/k/a:/k/b");
	CU_ASSERT_STRING_EQUAL(driver_option(o, "context"), "kind-x");
	CU_ASSERT_STRING_EQUAL(driver_option(o, "namespace"), "chaos");
	CU_ASSERT_STRING_EQUAL(driver_option(o, "operator"), "zalando");
	/* kind takes no kubeconfig or context (its own cluster's): those keys are left out. */
	driver_options_init(o, driver_find("kind"));
	CU_ASSERT(driver_options_from_target(o, "{\"kubeconfig\":\"/k/a\",\"context\":\"kind-x\","
					     "\"namespace\":\"chaos\"}", why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(driver_option(o, "namespace"), "chaos");
	CU_ASSERT_PTR_NULL(driver_option_find(o->table, "context"));
	/* Not what bise writes. */
	CU_ASSERT_FALSE(driver_options_from_target(o, "{\"namespace\":1}", why, sizeof(why)));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not what bise writes"));
	CU_ASSERT_FALSE(driver_options_from_target(o, "[]", why, sizeof(why)));
	free(o);
}

/* A backend that can cut the network but refuses a pair with the client in it. */
static int can_calls;
static struct fault_request last;

static bool fake_net_apply(struct driver *d, const struct net_fault *f)
{
	return true;
}

static bool fake_net_revert(struct driver *d, const char *id)
{
	return true;
}

static bool client_refused(struct driver *d, const struct fault_request *req, char *why, size_t why_len)
{
	can_calls++;
	last = *req;
	for (int i = 0; i < req->nnet; i++)
		for (int k = 0; k < req->net[i].nb; k++)
			if (strcmp(req->net[i].b[k], PARTY_CLIENT) == 0) {
				str_format(why, why_len, "pair %d cuts the client", i);
				return false;
			}
	return true;
}

static void set_option(struct step *st, const char *key, const char *value)
{
	str_copy(st->options[st->noptions].key, sizeof(st->options[st->noptions].key), key);
	str_copy(st->options[st->noptions].value, sizeof(st->options[st->noptions].value), value);
	st->noptions++;
}

static void test_fault_supported(void)
{
	const struct driver_ops *null = driver_find("null");
	struct driver_ops fake;
	struct cluster_spec spec;
	struct fault_ctx ctx = { 0 };
	struct step st;
	char why[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(null);
	cluster_spec_defaults(&spec);
	ctx.ops = null;
	ctx.drv = null->open(&spec, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.drv);
	memset(&st, 0, sizeof(st));
	st.kind = STEP_FAULT;
	str_copy(st.target, sizeof(st.target), "primary");
	/* A bit the backend lacks: a skip that names backend and fault. */
	st.fault = fault_find("process-kill");
	CU_ASSERT_FALSE(fault_supported(&ctx, &st, spec.zones[0], why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "the null backend cannot do what process-kill needs");
	st.fault = fault_find("pod-kill");
	CU_ASSERT(fault_supported(&ctx, &st, spec.zones[0], why, sizeof(why)));

	/* The bits hold; the exact pairs go to the one can op, which refuses one. */
	fake = *null;
	fake.caps |= DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_CLIENT;
	fake.net_apply = fake_net_apply;
	fake.net_revert = fake_net_revert;
	fake.can = client_refused;
	ctx.ops = &fake;
	st.fault = fault_find("network-partition");
	set_option(&st, "between", "[[geneva],[lucerne],[gland]]");
	can_calls = 0;
	CU_ASSERT(fault_supported(&ctx, &st, spec.zones[0], why, sizeof(why)));
	CU_ASSERT_EQUAL(can_calls, 1);
	CU_ASSERT_EQUAL(last.caps, DRIVER_CAP_NET_FAULT);
	CU_ASSERT_EQUAL_FATAL(last.nnet, 3);
	CU_ASSERT_STRING_EQUAL(last.net[0].a[0], "geneva");
	CU_ASSERT_STRING_EQUAL(last.net[0].b[0], "lucerne");
	CU_ASSERT_STRING_EQUAL(last.net[2].a[0], "lucerne");
	CU_ASSERT_STRING_EQUAL(last.net[2].b[0], "gland");
	CU_ASSERT_EQUAL(last.net[0].loss_pct, 100.0);
	/* No between: the target's zone against the rest, the client included: refused. */
	st.noptions = 0;
	CU_ASSERT_FALSE(fault_supported(&ctx, &st, spec.zones[0], why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "pair 0 cuts the client");
	CU_ASSERT_EQUAL(last.caps, DRIVER_CAP_NET_FAULT | DRIVER_CAP_NET_CLIENT);
	CU_ASSERT_EQUAL_FATAL(last.nnet, 1);
	CU_ASSERT_STRING_EQUAL(last.net[0].a[0], "geneva");
	/* A between naming no zone of the cluster: no skip, the apply reports the error. */
	set_option(&st, "between", "[[geneva],[zurich]]");
	CU_ASSERT(fault_supported(&ctx, &st, spec.zones[0], why, sizeof(why)));
	CU_ASSERT_EQUAL(last.nnet, 0);
	null->close(ctx.drv);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("driver_caps", NULL, NULL);

	CU_add_test(s, "every backend's capability bits match its ops", test_caps_match_ops);
	CU_add_test(s, "options: given, environment, default", test_options_resolve);
	CU_add_test(s, "options from a journal's target", test_options_from_target);
	CU_add_test(s, "fault_supported: bits, then the exact request through can", test_fault_supported);
}
