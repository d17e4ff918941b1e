/*
 * qsketch_oracle.h: the reference checks that the qsketch unit tests and
 * fuzz harness share.  The fast paths over stored (compact) bytes,
 * qs_merge_compact and qs_compact_decode, must give exactly what the
 * reference path gives (qs_compact_read, then qs_merge): the same sketch,
 * to the byte, or the same error.  Header-only, with the allocation arena
 * (arena.h) and the allocator A of both programs; each includes it once.
 */
#ifndef ANALYTICS_TEST_QSKETCH_ORACLE_H
#define ANALYTICS_TEST_QSKETCH_ORACLE_H

#include "qsketch_core.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"

static const qs_alloc A = {arena_alloc, NULL};

/* Same compact bytes, sum included. */
static int
same_exactly(const qs_sketch *x, const qs_sketch *y)
{
	size_t		lx = qs_compact_size(x),
				ly = qs_compact_size(y);
	uint8_t    *bx = arena_alloc(lx, NULL),
			   *by = arena_alloc(ly, NULL);

	qs_compact_write(x, bx);
	qs_compact_write(y, by);
	return lx == ly && memcmp(bx, by, lx) == 0;
}

/*
 * qs_merge_compact of bytes into a copy of dst gives what qs_merge of
 * qs_compact_read gives: the same sketch, or the same error (with a code).
 * A disagreement is described on stderr.
 */
static int
merge_compact_agrees(const qs_sketch *dst, const uint8_t *b, size_t len)
{
	qs_error	e1,
				e2;
	qs_sketch  *x = qs_copy(dst, &A, &e1),
			   *y = qs_copy(dst, &A, &e2),
			   *src;

	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	x = qs_merge_compact(x, b, len, &A, &e1);
	src = qs_compact_read(b, len, &A, &e2);
	y = src ? qs_merge(y, src, &A, &e2) : NULL;
	if (x == NULL || y == NULL)
	{
		if (x == NULL && y == NULL && e1.code == e2.code && e1.code != QS_OK &&
			strcmp(e1.detail, e2.detail) == 0)
			return 1;
		fprintf(stderr, "  merge_compact: %s (%d) vs reference: %s (%d)\n",
				x ? "ok" : e1.detail, e1.code, y ? "ok" : e2.detail, e2.code);
		return 0;
	}
	return qs_dense_validate(x, qs_dense_size(x), &e1) == 0 && same_exactly(x, y);
}

/* qs_compact_decode gives what qs_compact_read gives: the same sketch or error. */
static int
decode_agrees(const uint8_t *b, size_t len)
{
	qs_error	e1,
				e2;
	qs_sketch  *x,
			   *y;

	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	x = qs_compact_decode(b, len, &A, &e1);
	y = qs_compact_read(b, len, &A, &e2);
	if (x == NULL || y == NULL)
		return x == NULL && y == NULL && e1.code == e2.code && e1.code != QS_OK &&
			strcmp(e1.detail, e2.detail) == 0;
	return qs_dense_validate(x, qs_dense_size(x), &e1) == 0 && same_exactly(x, y) &&
		memcmp(&x->sum, &y->sum, sizeof(double)) == 0;
}

#endif							/* ANALYTICS_TEST_QSKETCH_ORACLE_H */
