/*
 * cunit_main.c - the shared main of every CUnit test program. Each test file defines
 * tests_register() to add its suites; a failure anywhere gives a non-zero exit.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

void tests_register(void);

int main(void)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	tests_register();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
