/*
 * test_crash_partition.c - the runner is SIGKILLed in the middle of a network partition:
 * its watchdog removes every rule within seconds, `bise heal` then finds nothing, the
 * cluster returns to health, and down leaves no namespace behind.
 */
#include "common.h"
#include "driver.h"
#include "journal.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLUSTER "bcrash"

static struct itest_dirs dirs;
static char scenario_path[400];
static bool can_run;
static struct scenario sc;
static const struct driver_ops *ops;
static struct driver *drv;
static pid_t runner = -1;

static const char scenario_text[] =
	"name: partition-crash\n"
	"cluster:\n"
	"  name: " CLUSTER "\n"
	"  subnet: 10.213.18.0/24\n"
	"workload:\n"
	"  writers: 2\n"
	"  rate: 20\n"
	"steps:\n"
	"  - at: 2s\n"
	"    fault: network-partition\n"
	"    target: primary\n"
	"    duration: 120s\n"
	"  - wait: 100s\n"; /* the runner is killed long before */

static int suite_init(void)
{
	double seconds;

	if (!itest_scenario_setup(&dirs, "bise-test-crash", "partition-crash.yaml", scenario_text,
				  scenario_path, sizeof(scenario_path), &sc))
		return 1;
	ops = &driver_local;
	drv = itest_cluster_open(&sc.cluster, dirs.state, false);
	can_run = drv && ops->up(drv, &seconds);
	return 0;
}

static int suite_clean(void)
{
	itest_kill(&runner);
	itest_cluster_close(&drv, false, true);
	scenario_free(&sc);
	return itest_dirs_remove(&dirs);
}

/*
 * Number of bise's iptables rules and nftables tables in the zones' namespaces and the root
 * one. The warm-up's table (bise_<bridge>_warm, loaded and deleted when a runner opens the
 * cluster, matching nothing) is not a fault's.
 */
static int bise_rules(void)
{
	static const char *const tools[][2] = { { "iptables-save", "bise:bise-" },
						{ "nft list tables", "table ip bise_" } };
	int n = 0;

	for (int i = 0; i <= sc.cluster.nzones; i++)
		for (int t = 0; t < 2; t++) {
			char cmd[256], line[512];
			FILE *p;

			if (i < sc.cluster.nzones)
				str_format(cmd, sizeof(cmd), "ip netns exec bise-%s-%s %s 2>/dev/null",
					   CLUSTER, sc.cluster.zones[i], tools[t][0]);
			else
				str_format(cmd, sizeof(cmd), "%s 2>/dev/null", tools[t][0]);
			p = popen(cmd, "r");
			if (!p)
				continue;
			while (fgets(line, sizeof(line), p))
				if (strstr(line, tools[t][1]) && !strstr(line, "_warm"))
					n++;
			pclose(p);
		}
	return n;
}

static void test_watchdog_removes_the_partition(void)
{
	char out[1024] = "", why[256];
	int64_t start, killed, cleared = -1;

	if (!can_run) {
		itest_cannot_run("cluster " CLUSTER " did not come up");
		return;
	}
	CU_ASSERT_FATAL(bise_rules() == 0);
	runner = itest_spawn_run(&dirs, scenario_path);
	CU_ASSERT_FATAL(runner > 0);
	/* The runner checks health, starts writers and partitions the primary at 2 s. */
	start = mono_now_us();
	while (bise_rules() == 0 && mono_now_us() - start < 90000000)
		sleep_us(100000);
	CU_ASSERT_FATAL(bise_rules() > 0);
	sleep_us(1000000);
	itest_kill(&runner);
	killed = mono_now_us();
	while (mono_now_us() - killed < 15000000) {
		if (bise_rules() == 0) {
			cleared = mono_now_us() - killed;
			break;
		}
		sleep_us(50000);
	}
	fprintf(stderr, "runner SIGKILLed during a partition: rules gone after %.2f s\n",
		(double)cleared / 1e6);
	CU_ASSERT(cleared >= 0 && cleared < 10000000);

	/* The watchdog marks the fault reverted just after removing the rules: let it finish. */
	killed = mono_now_us();
	while (journal_scan(dirs.state, NULL, NULL) > 0 && mono_now_us() - killed < 10000000)
		sleep_us(50000);
	CU_ASSERT_EQUAL(journal_scan(dirs.state, NULL, NULL), 0);
	CU_ASSERT_EQUAL(itest_heal(dirs.state, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "nothing to heal"));

	/* The partition is gone: the cluster must come back to full health by itself. */
	CU_ASSERT(ops->wait_healthy(drv, 120000000, why, sizeof(why)));
}

static void test_down_leaves_nothing(void)
{
	FILE *p;
	char line[256], prefix[64];
	bool left = false;

	if (!can_run)
		return;
	CU_ASSERT(ops->down(drv));
	str_format(prefix, sizeof(prefix), "bise-%s-", CLUSTER);
	p = popen("ip netns list 2>/dev/null", "r");
	while (p && fgets(line, sizeof(line), p))
		left |= strncmp(line, prefix, strlen(prefix)) == 0;
	if (p)
		pclose(p);
	CU_ASSERT_FALSE(left);
	CU_ASSERT_EQUAL(bise_rules(), 0);
}

void tests_register(void)
{
	CU_pSuite s;

	if (!itest_gate("SIGKILLed runner during a partition", true))
		return;
	s = CU_add_suite("SIGKILLed runner during a partition", suite_init, suite_clean);

	CU_add_test(s, "the watchdog removes the partition, heal finds nothing, health returns",
		    test_watchdog_removes_the_partition);
	CU_add_test(s, "down leaves nothing", test_down_leaves_nothing);
}
