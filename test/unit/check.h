/*
 * check.h: the one check macro of the plain-C unit tests (test/unit/
 * test_<x>.c; test_qsketch.c counts by group instead).  CHECK(cond) reports
 * a failed condition with its place and goes on; check_finish(name) ends
 * main: exit status 1 with the count of failures, else 0.
 */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H

#include <stdio.h>

static int	failures = 0;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static inline int
check_finish(const char *name)
{
	if (failures)
	{
		fprintf(stderr, "%s: %d failures\n", name, failures);
		return 1;
	}
	printf("%s: all passed\n", name);
	return 0;
}

#endif							/* UNIT_CHECK_H */
