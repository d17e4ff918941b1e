/*
 * arena.h: an allocation arena for the plain-C tests and fuzz harnesses:
 * every allocation made through arena_alloc (the cores' allocator hook) is
 * kept and freed at once by arena_reset, so a test group or a fuzz input
 * leaks nothing.  Header-only: each test program includes it once.
 */
#ifndef ANALYTICS_TEST_ARENA_H
#define ANALYTICS_TEST_ARENA_H

#include <stdlib.h>

static void **arena;
static size_t arena_n,
			arena_cap;

/* malloc, remembered for arena_reset; aborts when memory runs out. */
static void *
arena_alloc(size_t size, void *arg)
{
	void	   *p;

	(void) arg;
	if (arena_n == arena_cap)
	{
		arena_cap = arena_cap ? arena_cap * 2 : 1024;
		arena = realloc(arena, arena_cap * sizeof(void *));
		if (arena == NULL)
			abort();
	}
	p = malloc(size ? size : 1);
	if (p == NULL)
		abort();
	arena[arena_n++] = p;
	return p;
}

/* Free everything allocated since the last reset. */
static void
arena_reset(void)
{
	while (arena_n > 0)
		free(arena[--arena_n]);
}

#endif							/* ANALYTICS_TEST_ARENA_H */
