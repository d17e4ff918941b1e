/*
 * qsketch_oracle.h: the reference checks that the qsketch unit tests and
 * fuzz harness share.  The fast paths over stored (compact) bytes,
 * qs_merge_compact and qs_compact_decode, must give exactly what the
 * reference path gives (qs_compact_read, then qs_merge): the same sketch,
 * to the byte, or the same error; and qs_add_n(v, n) what n calls of qs_add
 * give (the sum up to rounding).  Header-only, with the allocation arena
 * (arena.h) and the allocator A of both programs; each includes it once.
 */
#ifndef ANALYTICS_TEST_QSKETCH_ORACLE_H
#define ANALYTICS_TEST_QSKETCH_ORACLE_H

#include "qsketch_core.h"

#include <float.h>
#include <math.h>
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

/* Same compact bytes but the sum (bytes 36..43 of the stored form). */
static int
same_but_sum_bytes(const qs_sketch *x, const qs_sketch *y)
{
	size_t		lx = qs_compact_size(x),
				ly = qs_compact_size(y);
	uint8_t    *bx = arena_alloc(lx, NULL),
			   *by = arena_alloc(ly, NULL);

	qs_compact_write(x, bx);
	qs_compact_write(y, by);
	memset(bx + 36, 0, 8);
	memset(by + 36, 0, 8);
	return lx == ly && memcmp(bx, by, lx) == 0;
}

/*
 * qs_add_n(v, n) on a copy of s gives what n calls of qs_add give on another
 * copy: the same buckets, count, min and max (the stored bytes but the sum),
 * a valid sketch, and a sum within rounding of the n single sums (v * n is
 * rounded once, n single adds n times); or the same error, with s left as
 * it was (not even partly updated).  n = 0 returns s
 * itself, unchanged, whatever v.  n must be small enough to loop over.  At
 * the edge of float8 one of the two sums may overflow alone: that is
 * accepted only when the exact sum is within 1e-9 of DBL_MAX.  A
 * disagreement is described on stderr.
 */
static int
add_n_agrees(const qs_sketch *s, double v, uint64_t n)
{
	qs_error	e1,
				e2;
	qs_sketch  *x0 = qs_copy(s, &A, &e1),
			   *x = x0,
			   *y = qs_copy(s, &A, &e2),
			   *r;
	size_t		size = qs_dense_size(s);
	uint64_t	i;
	double		scale;

	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	if (n == 0)
	{
		r = qs_add_n(x, v, 0, &A, &e1);
		if (r != x || memcmp(x, s, size) != 0)
		{
			fprintf(stderr, "  add_n: n = 0 changed the sketch\n");
			return 0;
		}
		return 1;
	}
	x = qs_add_n(x, v, n, &A, &e1);
	for (i = 0; y != NULL && i < n; i++)
		y = qs_add(y, v, &A, &e2);
	if (x == NULL || y == NULL)
	{
		long double exact = (long double) s->sum + (long double) v * (long double) n;

		/* a refused value or overflow leaves the sketch as it was */
		if (x == NULL && memcmp(x0, s, size) != 0)
		{
			fprintf(stderr, "  add_n(%.17g, %llu): %s, and the sketch was changed\n",
					v, (unsigned long long) n, e1.detail);
			return 0;
		}
		if (x == NULL && y == NULL && e1.code == e2.code && e1.code != QS_OK)
			return 1;
		/* the partial sums lie between s->sum and the exact sum */
		if ((x == NULL ? e1.code : e2.code) == QS_ERR_OVERFLOW &&
			fabsl(exact) >= (long double) DBL_MAX * (1 - 1e-9L))
			return 1;
		fprintf(stderr, "  add_n(%.17g, %llu): %s (%d) vs %llu single adds: %s (%d)\n",
				v, (unsigned long long) n, x ? "ok" : e1.detail, e1.code,
				(unsigned long long) n, y ? "ok" : e2.detail, e2.code);
		return 0;
	}
	scale = fabs(s->sum) + fabs(v) * (double) n;
	if (qs_dense_validate(x, qs_dense_size(x), &e1) != 0 || !same_but_sum_bytes(x, y) ||
		x->count != s->count + n || !(fabs(x->sum - y->sum) <= 1e-9 * scale))
	{
		fprintf(stderr, "  add_n(%.17g, %llu) differs from single adds (sum %.17g vs %.17g)\n",
				v, (unsigned long long) n, x->sum, y->sum);
		return 0;
	}
	return 1;
}

#endif							/* ANALYTICS_TEST_QSKETCH_ORACLE_H */
