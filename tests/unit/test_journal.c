/*
 * test_journal.c - the fault journal: records survive, a torn last line is ignored, a
 * double revert is harmless, fully reverted journals are removed by a scan, a run is
 * judged alive by its PID and start time, the journal's lock.
 */
#include "fault.h"
#include "journal.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	str_copy(root, sizeof(root), "/tmp/bise-test-journal-XXXXXX");
	return mkdtemp(root) ? 0 : 1;
}

static int suite_clean(void)
{
	return nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_step(struct step *st, const char *fault, const char *target)
{
	memset(st, 0, sizeof(*st));
	st->kind = STEP_FAULT;
	st->fault = fault_find(fault);
	str_copy(st->target, sizeof(st->target), target);
}

static void count_cb(const struct journal_contents *jc, void *arg)
{
	int *open_faults = arg;

	for (int i = 0; i < jc->nentries; i++)
		*open_faults += !jc->entries[i].reverted;
}

static void test_intent_revert_and_torn_line(void)
{
	struct cluster_spec spec;
	struct journal *j;
	struct step st;
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	char path[512];
	int a, b, open_faults = 0, fd;

	cluster_spec_defaults(&spec);
	make_step(&st, "pod-kill", "primary");
	str_copy(st.options[0].key, sizeof(st.options[0].key), "restart_delay");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "3s");
	st.noptions = 1;
	j = journal_create(root, "run-a", "local", "{\"context\":\"kind-a\"}", &spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	a = journal_intent(j, &st, "geneva", 1000);
	b = journal_intent(j, &st, "lucerne", 2000);
	CU_ASSERT(a > 0 && b > 0 && a != b);
	CU_ASSERT(journal_reverted(j, a));
	/* A crash while writing the next record leaves a torn line. */
	str_format(path, sizeof(path), "%s/journal/run-a.jsonl", root);
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "{\"rec\":\"reverted\",\"i", 20) == 20);
	close(fd);

	CU_ASSERT_FATAL(journal_load(path, jc));
	CU_ASSERT_EQUAL(jc->pid, getpid());
	CU_ASSERT_STRING_EQUAL(jc->backend, "local");
	CU_ASSERT_STRING_EQUAL(jc->target, "{\"context\":\"kind-a\"}");
	CU_ASSERT_EQUAL(jc->cluster.nzones, 3);
	CU_ASSERT_EQUAL_FATAL(jc->nentries, 2);
	CU_ASSERT(jc->entries[0].reverted);
	CU_ASSERT(!jc->entries[1].reverted);
	CU_ASSERT_STRING_EQUAL(jc->entries[1].member, "lucerne");
	CU_ASSERT_EQUAL(jc->entries[1].deadline_epoch, 2000);
	CU_ASSERT_EQUAL(jc->entries[1].noptions, 1);
	CU_ASSERT_STRING_EQUAL(jc->entries[1].options[0].value, "3s");

	CU_ASSERT_EQUAL(journal_scan(root, count_cb, &open_faults), 1);
	CU_ASSERT_EQUAL(open_faults, 1);
	free(jc);
	journal_close(j); /* one fault open: the file stays */
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
}

static void test_revert_after_torn_line(void)
{
	char path[512];
	int open_faults = 0;

	str_format(path, sizeof(path), "%s/journal/run-a.jsonl", root);
	/* heal appends after the torn line: its record must still count. */
	CU_ASSERT(journal_append_reverted(path, 2));
	CU_ASSERT_EQUAL(journal_scan(root, count_cb, &open_faults), 0);
	CU_ASSERT_EQUAL(open_faults, 0);
	/* Everything in it was undone: the scan removed it. */
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

static void test_clean_run_leaves_no_journal(void)
{
	struct cluster_spec spec;
	struct journal *j;
	struct step st;
	char path[512];
	int id;

	cluster_spec_defaults(&spec);
	make_step(&st, "process-kill", "replica");
	j = journal_create(root, "run-b", "local", NULL, &spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	id = journal_intent(j, &st, "gland", 0);
	CU_ASSERT(journal_reverted(j, id));
	journal_close(j);
	/* Reverting twice (heal after a run that did revert) is harmless. */
	str_format(path, sizeof(path), "%s/journal/run-b.jsonl", root);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

static void test_double_revert(void)
{
	struct cluster_spec spec;
	struct journal *j;
	struct step st;
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	char path[512];
	int id;

	cluster_spec_defaults(&spec);
	make_step(&st, "pod-kill", "gland");
	j = journal_create(root, "run-c", "local", NULL, &spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	id = journal_intent(j, &st, "gland", 0);
	str_format(path, sizeof(path), "%s/journal/run-c.jsonl", root);
	CU_ASSERT(journal_append_reverted(path, id));
	CU_ASSERT(journal_append_reverted(path, id));
	CU_ASSERT_FATAL(journal_load(path, jc));
	CU_ASSERT_STRING_EQUAL(jc->target, ""); /* none recorded */
	CU_ASSERT_EQUAL(jc->nentries, 1);
	CU_ASSERT(jc->entries[0].reverted);
	free(jc);
	journal_close(j);
	unlink(path);
}

/* A journal header naming pid with the start time given. */
static bool write_header(const char *path, pid_t pid, uint64_t start)
{
	char text[512];

	str_format(text, sizeof(text),
		   "{\"rec\":\"run\",\"pid\":%d,\"pid_start\":%llu,\"backend\":\"null\","
		   "\"cluster\":\"bise\",\"zones\":[\"geneva\"],\"state_root\":\"%s\"}\n"
		   "{\"rec\":\"intent\",\"id\":1,\"fault\":\"process-kill\","
		   "\"member\":\"geneva\",\"target\":\"geneva\",\"deadline\":0,"
		   "\"options\":{}}\n",
		   (int)pid, (unsigned long long)start, root);
	return file_write_atomic(path, text, strlen(text));
}

static void test_start_time_identifies_the_run(void)
{
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	char path[512];
	uint64_t start, mine;

	/* Our parent exists: with its start time it is a live run... */
	CU_ASSERT_FATAL(journal_proc_start(getppid(), &start));
	CU_ASSERT(start > 0);
	CU_ASSERT(journal_proc_start(getpid(), &mine));
	str_format(path, sizeof(path), "%s/journal", root);
	CU_ASSERT_FATAL(mkdir_p(path, 0700));
	str_format(path, sizeof(path), "%s/journal/pid-reuse.jsonl", root);
	CU_ASSERT_FATAL(write_header(path, getppid(), start));
	CU_ASSERT_FATAL(journal_load(path, jc));
	CU_ASSERT_EQUAL(jc->pid_start, start);
	CU_ASSERT(journal_run_alive(jc));
	/* ...with another start time its PID was reused after the run died: stale. */
	CU_ASSERT_FATAL(write_header(path, getppid(), start + 1));
	CU_ASSERT_FATAL(journal_load(path, jc));
	CU_ASSERT(!journal_run_alive(jc));
	/* An older journal without a start time: the PID alone. */
	jc->pid_start = 0;
	CU_ASSERT(journal_run_alive(jc));
	/* Nobody's PID: dead. */
	jc->pid = 0x3ffffff0;
	CU_ASSERT(!journal_run_alive(jc));
	unlink(path);
	free(jc);
}

static void test_created_journal_records_start_and_locks(void)
{
	struct cluster_spec spec;
	struct journal *j;
	struct journal_contents *jc = xmalloc(sizeof(*jc));
	uint64_t mine = 0;
	int fd;

	cluster_spec_defaults(&spec);
	CU_ASSERT_FATAL(journal_proc_start(getpid(), &mine));
	j = journal_create(root, "run-lock", "null", NULL, &spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_FATAL(journal_load(journal_path(j), jc));
	CU_ASSERT_EQUAL(jc->pid_start, mine);
	/* The run holds its journal's lock: heal cannot take it... */
	errno = 0;
	CU_ASSERT_EQUAL(journal_lock(journal_path(j), 100000), -1);
	CU_ASSERT_EQUAL(errno, EWOULDBLOCK);
	journal_close(j); /* no fault: removed, lock gone */
	/* ...and gets it once the run is gone. */
	CU_ASSERT_FATAL(write_header(jc->path, 0x3ffffff0, 1));
	fd = journal_lock(jc->path, 0);
	CU_ASSERT(fd >= 0);
	journal_unlock(fd);
	unlink(jc->path);
	free(jc);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("fault journal", suite_init, suite_clean);

	CU_add_test(s, "intent, revert, torn last line", test_intent_revert_and_torn_line);
	CU_add_test(s, "revert appended after a torn line, cleanup by scan", test_revert_after_torn_line);
	CU_add_test(s, "double revert", test_double_revert);
	CU_add_test(s, "a clean run leaves no journal", test_clean_run_leaves_no_journal);
	CU_add_test(s, "a reused PID with another start time is stale",
		    test_start_time_identifies_the_run);
	CU_add_test(s, "the journal records the start time and holds its lock",
		    test_created_journal_records_start_and_locks);
}
