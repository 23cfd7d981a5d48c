/*
 * test_heal.c - `bise heal` and the journal lock: a dead run whose watchdog still lives
 * (it holds the journal's lock) is left to the watchdog; once the watchdog is gone heal
 * reverts it; --force waits for the watchdog and then heals. Runs on the null backend
 * with process-kill, which has nothing to undo: only the journal bookkeeping is judged.
 */
#include "fault.h"
#include "heal.h"
#include "journal.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];
static int watchdog_line = -1; /* write end: the fake watchdog lives until it is closed */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	str_copy(root, sizeof(root), "/tmp/bise-test-heal-XXXXXX");
	return mkdtemp(root) ? 0 : 1;
}

static int suite_clean(void)
{
	if (watchdog_line >= 0)
		close(watchdog_line);
	return nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A run that journaled one fault and died, leaving a "watchdog" (a grandchild holding the
 * run's journal descriptor, as the real one does) that lives until watchdog_line is closed
 * or life_ms have passed.
 */
static bool dead_run_with_watchdog(const char *name, int life_ms, char *path, size_t len)
{
	int line[2], status;
	pid_t runner;

	if (pipe(line) != 0)
		return false;
	fflush(NULL);
	runner = fork();
	if (runner == 0) {
		struct cluster_spec spec;
		struct step st;
		struct journal *j;

		cluster_spec_defaults(&spec);
		memset(&st, 0, sizeof(st));
		st.kind = STEP_FAULT;
		st.fault = fault_find("process-kill");
		str_copy(st.target, sizeof(st.target), "geneva");
		j = journal_create(root, name, "null", NULL, &spec);
		if (!j || journal_intent(j, &st, "geneva", 0) < 0)
			_exit(1);
		if (fork() == 0) {
			struct pollfd p = { .fd = line[0], .events = POLLIN };

			close(line[1]);
			poll(&p, 1, life_ms);
			_exit(0);
		}
		_exit(0); /* the runner dies without closing its journal */
	}
	close(line[0]);
	if (runner < 0 || waitpid(runner, &status, 0) != runner || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		close(line[1]);
		return false;
	}
	watchdog_line = line[1];
	return str_format(path, len, "%s/journal/%s.jsonl", root, name);
}

static void end_watchdog(void)
{
	if (watchdog_line >= 0)
		close(watchdog_line);
	watchdog_line = -1;
}

static bool fault_open(const char *path)
{
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	bool open_fault = journal_load(path, jc) && jc->nentries == 1 && !jc->entries[0].reverted;

	free(jc);
	return open_fault;
}

static void test_heal_leaves_a_live_watchdog_alone(void)
{
	char path[512];
	int fd;

	CU_ASSERT_FATAL(dead_run_with_watchdog("run-w", 60000, path, sizeof(path)));
	CU_ASSERT(fault_open(path));
	/* The run is dead, but its watchdog holds the lock: heal skips, nothing fails. */
	CU_ASSERT_EQUAL(heal_all(root, false), 0);
	CU_ASSERT(fault_open(path));
	/* run and up still see a dead run's fault pending. */
	CU_ASSERT_EQUAL(heal_pending(root), 1);

	end_watchdog();
	fd = journal_lock(path, 5 * 1000000LL); /* the watchdog has exited */
	CU_ASSERT_FATAL(fd >= 0);
	journal_unlock(fd);
	CU_ASSERT_EQUAL(heal_all(root, false), 0);
	/* Reverted, and the fully reverted journal removed. */
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL(heal_pending(root), 0);
}

static void test_force_waits_for_the_watchdog(void)
{
	char path[512];
	int64_t t0;

	CU_ASSERT_FATAL(dead_run_with_watchdog("run-f", 400, path, sizeof(path)));
	t0 = mono_now_us();
	CU_ASSERT_EQUAL(heal_all(root, true), 0);
	/* It waited for the watchdog (400 ms) instead of reverting alongside it. */
	CU_ASSERT(mono_now_us() - t0 >= 300000);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	end_watchdog();
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("heal and the journal lock", suite_init, suite_clean);

	CU_add_test(s, "heal skips a dead run whose watchdog lives", test_heal_leaves_a_live_watchdog_alone);
	CU_add_test(s, "heal --force waits for the watchdog", test_force_waits_for_the_watchdog);
}
