/*
 * test_qsketch.c: unit tests of src/qsketch_core.c (run by `make unit` under
 * AddressSanitizer and UBSan).  One line per group; exits 1 on any failure.
 */
#include "qsketch_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	failures;
static int	group_failures;

#define CHECK(cond) do { if (!(cond)) { group_failures++; \
	if (group_failures <= 5) fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#include "../qsketch_oracle.h"

static void
group_end(const char *name)
{
	printf("%-40s %s\n", name, group_failures ? "FAILED" : "ok");
	failures += group_failures;
	group_failures = 0;
	arena_reset();
}

/* xorshift64*: deterministic data. */
static uint64_t rng_state = 88172645463325252ULL;

static double
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double) ((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double
rnd_normal(void)
{
	double		u = rnd(),
				v = rnd();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static qs_sketch *
build(const double *v, size_t n, double alpha)
{
	qs_error	err;
	qs_sketch  *s = qs_create(alpha, &A, &err);
	size_t		i;

	for (i = 0; s && i < n; i++)
		s = qs_add(s, v[i], &A, &err);
	if (s == NULL)
		fprintf(stderr, "  build failed: %s\n", err.detail);
	return s;
}

/* Every quantile 0.01..0.99 (and 0, 1) within alpha of percentile_disc. */
static int
accurate(const qs_sketch *s, const double *v, size_t n, double alpha)
{
	double	   *sorted = arena_alloc(n * sizeof(double), NULL);
	int			i,
				bad = 0;

	memcpy(sorted, v, n * sizeof(double));
	qsort(sorted, n, sizeof(double), cmp_double);
	for (i = 0; i <= 100; i++)
	{
		double		q = i / 100.0;
		int64_t		r = (int64_t) ceil(q * (double) n);
		double		exact = sorted[(r < 1 ? 1 : r) - 1];
		double		est = qs_quantile(s, q);

		int			ok = fabs(est - exact) <= alpha * fabs(exact) * (1 + 1e-9) + 1e-300;
		const qs_store *st = exact > 0 ? &s->pos : &s->neg;
		int			collapsed = s->flags & (exact > 0 ? QS_FLAG_POS_COLLAPSED : QS_FLAG_NEG_COLLAPSED);
		double		top = collapsed ? qs_key_upper(s, st->lo) : 0;	/* of the collapsed bucket */

		/* in a collapsed bucket: the magnitude is over-estimated, up to the bucket's top */
		if (!ok && collapsed && fabs(exact) <= top * (1 + 1e-9))
			ok = fabs(est) >= fabs(exact) && fabs(est) <= top * (1 + 1e-9) && est * exact > 0;
		if (!ok)
		{
			if (bad++ < 3)
				fprintf(stderr, "  q=%g exact=%.17g est=%.17g\n", q, exact, est);
		}
	}
	return bad == 0;
}

static void
test_checks(void)
{
	qs_error	err;

	CHECK(qs_check_alpha(0.01, &err) == 0);
	CHECK(qs_check_alpha(1e-4, &err) == 0);
	CHECK(qs_check_alpha(0.5, &err) == 0);
	CHECK(qs_check_alpha(0.6, &err) != 0 && err.code == QS_ERR_ALPHA);
	CHECK(qs_check_alpha(0.0, &err) != 0);
	CHECK(qs_check_alpha(NAN, &err) != 0);
	CHECK(qs_check_quantile(0, &err) == 0 && qs_check_quantile(1, &err) == 0);
	CHECK(qs_check_quantile(-0.01, &err) != 0 && err.code == QS_ERR_QUANTILE);
	CHECK(qs_check_quantile(1.01, &err) != 0);
	CHECK(qs_check_quantile(NAN, &err) != 0);
	group_end("checks of alpha and quantile");
}

static void
test_accuracy(void)
{
	enum
	{
		N = 20000
	};
	static double v[N];
	double		alphas[] = {0.01, 0.001, 0.05, 1e-4, 0.5};
	size_t		a,
				i;
	int			dist;

	for (a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++)
	{
		for (dist = 0; dist < 7; dist++)
		{
			size_t		n = dist == 4 ? 1 : N;
			qs_sketch  *s;

			for (i = 0; i < n; i++)
			{
				switch (dist)
				{
					case 0:		/* uniform */
						v[i] = rnd() * 1000.0;
						break;
					case 1:		/* log-normal latencies */
						v[i] = exp(3.0 + 1.2 * rnd_normal());
						break;
					case 2:		/* bimodal */
						v[i] = rnd() < 0.7 ? 20 + 2 * rnd_normal() : 900 + 50 * rnd_normal();
						break;
					case 3:		/* constant */
						v[i] = 42.5;
						break;
					case 4:		/* single value */
						v[i] = -7.25;
						break;
					case 5:		/* heavy tail 1e-3 .. 1e9 with negatives and zeros */
						v[i] = pow(10.0, -3.0 + 12.0 * rnd()) * (rnd() < 0.3 ? -1 : 1);
						if (rnd() < 0.02)
							v[i] = 0.0;
						break;
					default:	/* integers */
						v[i] = floor(rnd() * 100.0);
						break;
				}
			}
			s = build(v, n, alphas[a]);
			CHECK(s != NULL);
			if (s == NULL)
				continue;
			CHECK(qs_dense_validate(s, qs_dense_size(s), &(qs_error)
									{
										0
									}) == 0);
			if (alphas[a] >= 0.01)
				CHECK(!(s->flags & QS_COMPACT_FLAGS));	/* 1e-3 .. 1e9 fits in 4096 keys */
			if (!accurate(s, v, n, alphas[a]))
			{
				fprintf(stderr, "  inaccurate: alpha %g distribution %d\n", alphas[a], dist);
				group_failures++;
			}
		}
	}
	group_end("accuracy vs percentile_disc");
}

/* Compact bytes with the sum zeroed: what merging must reproduce exactly. */
static uint8_t *
compact_nosum(const qs_sketch *s, size_t *len)
{
	uint8_t    *b;

	*len = qs_compact_size(s);
	b = arena_alloc(*len, NULL);
	qs_compact_write(s, b);
	memset(b + 36, 0, 8);
	return b;
}

static int
same_but_sum(const qs_sketch *x, const qs_sketch *y)
{
	size_t		lx,
				ly;
	uint8_t    *bx = compact_nosum(x, &lx),
			   *by = compact_nosum(y, &ly);

	return lx == ly && memcmp(bx, by, lx) == 0 &&
		fabs(x->sum - y->sum) <= 1e-9 * (fabs(x->sum) + 1.0);
}

static void
test_merge(double alpha, double lo_exp, double hi_exp, const char *name)
{
	enum
	{
		N = 5000
	};
	static double v[N];
	int			trial;
	qs_error	err;

	for (trial = 0; trial < 60; trial++)
	{
		size_t		n = 1 + (size_t) (rnd() * (N - 1)),
					i,
					parts = 1 + (size_t) (rnd() * 5);
		qs_sketch  *all,
				   *part[6],
				   *m1,
				   *m2;
		size_t		p;

		for (i = 0; i < n; i++)
			v[i] = pow(10.0, lo_exp + (hi_exp - lo_exp) * rnd()) * (rnd() < 0.2 ? -1 : 1);
		all = build(v, n, alpha);
		for (p = 0; p < parts; p++)
			part[p] = qs_create(alpha, &A, &err);
		for (i = 0; i < n; i++)
		{
			p = (size_t) (rnd() * parts);
			part[p] = qs_add(part[p], v[i], &A, &err);
		}
		/* forward and backward order; empty parts included */
		m1 = qs_copy(part[0], &A, &err);
		for (p = 1; p < parts; p++)
			m1 = qs_merge(m1, part[p], &A, &err);
		m2 = qs_copy(part[parts - 1], &A, &err);
		for (p = parts - 1; p-- > 0;)
			m2 = qs_merge(m2, part[p], &A, &err);
		CHECK(m1 != NULL && m2 != NULL);
		if (m1 == NULL || m2 == NULL)
			continue;
		CHECK(same_but_sum(all, m1));
		CHECK(same_but_sum(all, m2));
		CHECK(qs_dense_validate(m1, qs_dense_size(m1), &err) == 0);
		CHECK(m1->min == all->min && m1->max == all->max && m1->count == all->count);
	}
	group_end(name);
}

/* Compact bytes of a sketch, in the arena. */
static uint8_t *
compact_of(const qs_sketch *s, size_t *len)
{
	uint8_t    *b;

	*len = qs_compact_size(s);
	b = arena_alloc(*len, NULL);
	qs_compact_write(s, b);
	return b;
}

/* Merging stored (compact) sketches straight into a state = merging sketches. */
static void
test_merge_compact(double alpha, double lo_exp, double hi_exp, const char *name)
{
	enum
	{
		N = 5000
	};
	static double v[N];
	int			trial;
	qs_error	err;

	for (trial = 0; trial < 60; trial++)
	{
		size_t		n = 1 + (size_t) (rnd() * (N - 1)),
					i,
					parts = 1 + (size_t) (rnd() * 6);
		qs_sketch  *all,
				   *part[7],
				   *fwd,
				   *bwd,
				   *ref;
		uint8_t    *bytes[7];
		size_t		len[7],
					p;

		for (i = 0; i < n; i++)
		{
			v[i] = pow(10.0, lo_exp + (hi_exp - lo_exp) * rnd()) * (rnd() < 0.2 ? -1 : 1);
			if (rnd() < 0.01)
				v[i] = 0.0;
		}
		all = build(v, n, alpha);
		for (p = 0; p < parts; p++)
			part[p] = qs_create(alpha, &A, &err);
		for (i = 0; i < n; i++)
		{
			p = (size_t) (rnd() * parts);
			part[p] = qs_add(part[p], v[i], &A, &err);
		}
		/* the stored form of each non-empty part, merged into an empty state */
		fwd = qs_create(alpha, &A, &err);
		bwd = qs_create(alpha, &A, &err);
		ref = qs_create(alpha, &A, &err);
		for (p = 0; p < parts; p++)
		{
			bytes[p] = part[p]->count ? compact_of(part[p], &len[p]) : NULL;
			if (bytes[p])
			{
				CHECK(merge_compact_agrees(fwd, bytes[p], len[p]));
				CHECK(decode_agrees(bytes[p], len[p]));
				fwd = qs_merge_compact(fwd, bytes[p], len[p], &A, &err);
				ref = qs_merge(ref, part[p], &A, &err);
				CHECK(fwd != NULL && ref != NULL);
				if (fwd == NULL || ref == NULL)
					break;
				CHECK(same_exactly(fwd, ref));
			}
		}
		for (p = parts; p-- > 0;)
		{
			if (bytes[p] && bwd)
				bwd = qs_merge_compact(bwd, bytes[p], len[p], &A, &err);
		}
		CHECK(fwd != NULL && bwd != NULL);
		if (fwd == NULL || bwd == NULL)
			continue;
		CHECK(same_but_sum(all, fwd));
		CHECK(same_but_sum(all, bwd));
		CHECK(qs_dense_validate(fwd, qs_dense_size(fwd), &err) == 0);
		CHECK(qs_dense_validate(bwd, qs_dense_size(bwd), &err) == 0);
		CHECK(fwd->min == all->min && fwd->max == all->max && fwd->count == all->count);
	}
	group_end(name);
}

/* Every truncation and bit flip of a stored sketch merged into a state. */
static void
test_merge_compact_malformed(void)
{
	double		v[] = {-5, -1, 0, 1, 2, 3, 100, 1000, 1e6};
	double		w[] = {-1e6, -2, 0.5, 7, 1e4};
	qs_sketch  *s = build(v, sizeof(v) / sizeof(v[0]), 0.01),
			   *d = build(w, sizeof(w) / sizeof(w[0]), 0.01),
			   *e,
			   *big,
			   *c1;
	size_t		len,
				i;
	uint8_t    *b = compact_of(s, &len),
			   *c = arena_alloc(len, NULL);
	qs_error	err;
	int			bit;

	e = qs_create(0.01, &A, &err);
	for (i = 0; i <= len; i++)
	{
		CHECK(merge_compact_agrees(d, b, i));
		CHECK(merge_compact_agrees(e, b, i));
		CHECK(decode_agrees(b, i));
	}
	for (i = 0; i < len; i++)
	{
		for (bit = 0; bit < 8; bit++)
		{
			memcpy(c, b, len);
			c[i] ^= (uint8_t) (1u << bit);
			CHECK(merge_compact_agrees(d, c, len));
			CHECK(merge_compact_agrees(e, c, len));
			CHECK(decode_agrees(c, len));
		}
	}
	/* a different alpha; a corrupted value of a different alpha */
	c1 = qs_create(0.02, &A, &err);
	c1 = qs_add(c1, 3.0, &A, &err);
	CHECK(qs_merge_compact(d, b, len, &A, &err) != NULL);
	d = build(w, sizeof(w) / sizeof(w[0]), 0.01);
	CHECK(qs_merge_compact(c1, b, len, &A, &err) == NULL && err.code == QS_ERR_ALPHA_MISMATCH);
	memcpy(c, b, len);
	c[len - 1] = 0;				/* the last count becomes 0 */
	CHECK(qs_merge_compact(c1, c, len, &A, &err) == NULL && err.code == QS_ERR_MALFORMED);
	/* sum overflow */
	big = qs_create(0.01, &A, &err);
	big = qs_add(big, 1.5e308, &A, &err);
	b = compact_of(big, &len);
	CHECK(qs_merge_compact(qs_copy(big, &A, &err), b, len, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(merge_compact_agrees(big, b, len));
	group_end("merge of malformed stored sketches");
}

static void
test_collapse(void)
{
	enum
	{
		N = 50000
	};
	static double v[N];
	size_t		i;
	qs_error	err;
	qs_sketch  *s;
	double	   *sorted;
	int			qi;

	/* alpha 1e-4 over 1 .. 1e6 needs ~69000 keys: the store collapses */
	for (i = 0; i < N; i++)
		v[i] = pow(10.0, 6.0 * rnd());
	s = build(v, N, 1e-4);
	CHECK(s != NULL);
	if (s == NULL)
	{
		group_end("size bound: collapse lowest buckets");
		return;
	}
	CHECK(s->flags & QS_FLAG_POS_COLLAPSED);
	CHECK(s->pos.hi - s->pos.lo + 1 == QS_MAX_BUCKETS);
	CHECK(qs_bucket_count(s) <= QS_MAX_BUCKETS);
	CHECK(qs_dense_validate(s, qs_dense_size(s), &err) == 0);
	sorted = arena_alloc(N * sizeof(double), NULL);
	memcpy(sorted, v, sizeof(v));
	qsort(sorted, N, sizeof(double), cmp_double);
	for (qi = 0; qi <= 100; qi++)
	{
		double		q = qi / 100.0;
		int64_t		r = (int64_t) ceil(q * N);
		double		exact = sorted[(r < 1 ? 1 : r) - 1];
		double		est = qs_quantile(s, q);
		double		threshold = qs_key_upper(s, s->pos.lo);	/* top of the collapsed bucket */

		if (exact > threshold)
			CHECK(fabs(est - exact) <= 1e-4 * exact * (1 + 1e-9));	/* guarantee kept */
		else
			CHECK(est >= exact && est <= threshold * (1 + 1e-9));	/* over-estimate, bounded */
	}
	/* merge with collapse stays exact */
	{
		qs_sketch  *a = qs_create(1e-4, &A, &err),
				   *b = qs_create(1e-4, &A, &err);

		for (i = 0; i < N; i++)
		{
			if (i % 3 == 0)
				a = qs_add(a, v[i], &A, &err);
			else
				b = qs_add(b, v[i], &A, &err);
		}
		a = qs_merge(a, b, &A, &err);
		CHECK(a != NULL && same_but_sum(s, a));
	}
	/* the compact form round-trips a collapsed sketch */
	{
		size_t		len = qs_compact_size(s);
		uint8_t    *b = arena_alloc(len, NULL);
		qs_sketch  *t;

		qs_compact_write(s, b);
		t = qs_compact_read(b, len, &A, &err);
		CHECK(t != NULL && same_but_sum(s, t));
	}
	group_end("size bound: collapse lowest buckets");
}

/* A random weight: mostly small, sometimes 0, sometimes large. */
static uint64_t
rnd_weight(void)
{
	double		r = rnd();

	if (r < 0.15)
		return 0;
	if (r < 0.85)
		return 1 + (uint64_t) (rnd() * 5);
	if (r < 0.97)
		return 1 + (uint64_t) (rnd() * 100);
	return 1 + (uint64_t) (rnd() * 2000);
}

/*
 * Weighted adds = single adds: random (v, n) rows, every row checked
 * against n single adds (add_n_agrees) and the whole sketch against the
 * sketch of the rows repeated n times.
 */
static void
test_add_n(double alpha, double lo_exp, double hi_exp, int want_collapse, const char *name)
{
	int			trial,
				collapsed = 0;
	qs_error	err;

	for (trial = 0; trial < 40; trial++)
	{
		size_t		rows = 1 + (size_t) (rnd() * 400),
					r;
		qs_sketch  *w = qs_create(alpha, &A, &err),
				   *ref = qs_create(alpha, &A, &err);
		uint64_t	total = 0;

		for (r = 0; w != NULL && ref != NULL && r < rows; r++)
		{
			double		v = pow(10.0, lo_exp + (hi_exp - lo_exp) * rnd()) * (rnd() < 0.2 ? -1 : 1);
			uint64_t	n = rnd_weight(),
						i;

			if (rnd() < 0.02)
				v = rnd() < 0.5 ? 0.0 : -0.0;
			else if (rnd() < 0.01)
				v = 1e-310;		/* subnormal: the zero bucket */
			if (r % 7 == 0)
				CHECK(add_n_agrees(w, v, n));
			w = qs_add_n(w, v, n, &A, &err);
			for (i = 0; ref != NULL && i < n; i++)
				ref = qs_add(ref, v, &A, &err);
			total += n;
		}
		CHECK(w != NULL && ref != NULL);
		if (w == NULL || ref == NULL)
			continue;
		CHECK(w->count == total && ref->count == total);
		if (total == 0)
		{
			CHECK(same_exactly(w, ref) || (w->count == 0 && ref->count == 0));
			continue;
		}
		CHECK(qs_dense_validate(w, qs_dense_size(w), &err) == 0);
		CHECK(same_but_sum(w, ref));
		CHECK(w->min == ref->min && w->max == ref->max);
		collapsed |= (w->flags & QS_COMPACT_FLAGS) != 0;
	}
	CHECK(collapsed == want_collapse);
	group_end(name);
}

/*
 * The collapse path with weights: a weighted value far above the store's
 * keys collapses weighted buckets below it (partly, or all of them), and a
 * weighted value below a collapsed store's lowest key joins it; each step
 * as n single adds, and the end the same in either order of the rows.
 */
static void
test_add_n_collapse(void)
{
	static const double lows[] = {1.0, 1.001, 1.2, 1.5, 1.8};
	qs_error	err;
	qs_sketch  *s = qs_create(1e-4, &A, &err),
			   *t;
	size_t		i;

	/* weighted low buckets, then a high value that collapses some of them */
	for (i = 0; s != NULL && i < sizeof(lows) / sizeof(lows[0]); i++)
	{
		CHECK(add_n_agrees(s, lows[i], 3 + i));
		s = qs_add_n(s, lows[i], 3 + i, &A, &err);
	}
	CHECK(s != NULL && !(s->flags & QS_FLAG_POS_COLLAPSED));
	if (s == NULL)
	{
		group_end("weighted adds: collapse");
		return;
	}
	CHECK(add_n_agrees(s, 2.5, 11));	/* keeps keys down to about 2.5 / 2.2 */
	t = qs_add_n(qs_copy(s, &A, &err), 2.5, 11, &A, &err);
	CHECK(t != NULL && (t->flags & QS_FLAG_POS_COLLAPSED) && t->pos.n == s->pos.n + 11);
	/* 1.0 and 1.001 (weights 3 and 4) are carried into the lowest key kept */
	CHECK(t != NULL && t->counts[t->pos.off + (uint32_t) (t->pos.lo - t->pos.base)] == 7);
	/* all of them collapse: the new key is far above every bucket */
	CHECK(add_n_agrees(s, 1e6, 13));
	t = qs_add_n(qs_copy(s, &A, &err), 1e6, 13, &A, &err);
	CHECK(t != NULL && (t->flags & QS_FLAG_POS_COLLAPSED) && t->pos.n == s->pos.n + 13);
	CHECK(t != NULL && t->counts[t->pos.off + (uint32_t) (t->pos.lo - t->pos.base)] == s->pos.n);
	/* below a collapsed store: counted in its lowest bucket */
	if (t != NULL)
	{
		uint64_t	low = t->counts[t->pos.off + (uint32_t) (t->pos.lo - t->pos.base)];

		CHECK(add_n_agrees(t, 0.5, 17));
		t = qs_add_n(t, 0.5, 17, &A, &err);
		CHECK(t != NULL && t->counts[t->pos.off + (uint32_t) (t->pos.lo - t->pos.base)] == low + 17);
		CHECK(t != NULL && t->min == 0.5);
	}
	/* negative store, and the rows in the other order give the same sketch */
	{
		qs_sketch  *a = qs_create(1e-4, &A, &err),
				   *b = qs_create(1e-4, &A, &err);

		a = qs_add_n(a, -1.0, 5, &A, &err);
		a = qs_add_n(a, -1e5, 6, &A, &err);
		a = qs_add_n(a, -3.0, 7, &A, &err);
		b = qs_add_n(b, -3.0, 7, &A, &err);
		b = qs_add_n(b, -1e5, 6, &A, &err);
		b = qs_add_n(b, -1.0, 5, &A, &err);
		CHECK(a != NULL && b != NULL && (a->flags & QS_FLAG_NEG_COLLAPSED) && same_exactly(a, b));
		CHECK(a != NULL && qs_dense_validate(a, qs_dense_size(a), &err) == 0);
	}
	group_end("weighted adds: collapse");
}

/* n = 0, non-finite values, counts and sums at their limits. */
static void
test_add_n_limits(void)
{
	qs_error	err;
	qs_sketch  *s = qs_create(0.01, &A, &err),
			   *t,
			   *u;
	size_t		size;
	int			k;

	s = qs_add_n(s, 4.0, 10, &A, &err);
	CHECK(s != NULL && s->count == 10 && s->sum == 40.0 && s->min == 4.0 && s->max == 4.0);
	if (s == NULL)
	{
		group_end("weighted adds: n = 0, errors, limits");
		return;
	}
	size = qs_dense_size(s);
	/* n = 0: nothing happens, whatever the value */
	CHECK(add_n_agrees(s, 5.0, 0));
	CHECK(add_n_agrees(s, NAN, 0));
	CHECK(add_n_agrees(s, INFINITY, 0));
	t = qs_create(0.01, &A, &err);
	CHECK(qs_add_n(t, 1.0, 0, &A, &err) == t && t->count == 0);
	/* non-finite values are refused, the sketch left as it was */
	CHECK(add_n_agrees(s, NAN, 3));
	t = qs_copy(s, &A, &err);
	CHECK(qs_add_n(t, -INFINITY, 3, &A, &err) == NULL && err.code == QS_ERR_NONFINITE);
	CHECK(memcmp(t, s, size) == 0);
	/* the count: up to INT64_MAX, never beyond (no wrap) */
	t = qs_copy(s, &A, &err);
	t = qs_add_n(t, 4.0, (uint64_t) INT64_MAX - 10, &A, &err);
	CHECK(t != NULL && t->count == (uint64_t) INT64_MAX);
	CHECK(t != NULL && qs_dense_validate(t, qs_dense_size(t), &err) == 0);
	if (t != NULL)
	{
		u = qs_copy(t, &A, &err);
		CHECK(qs_add_n(u, 4.0, 1, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
		CHECK(memcmp(u, t, qs_dense_size(t)) == 0);
		CHECK(qs_add(u, 4.0, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
		CHECK(qs_add_n(u, 4.0, 0, &A, &err) == u);
		/* it round-trips, and cannot be merged with itself */
		{
			size_t		len;
			uint8_t    *b = compact_of(t, &len);
			qs_sketch  *r = qs_compact_read(b, len, &A, &err);
			char	   *txt = qs_text_write(t, &A, &err);

			CHECK(r != NULL && same_exactly(r, t));
			CHECK(txt != NULL && (r = qs_text_read(txt, &A, &err)) != NULL && same_exactly(r, t));
			CHECK(qs_merge(qs_copy(t, &A, &err), t, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
		}
	}
	t = qs_copy(s, &A, &err);
	CHECK(qs_add_n(t, 4.0, (uint64_t) INT64_MAX - 9, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(memcmp(t, s, size) == 0);
	CHECK(qs_add_n(t, 4.0, (uint64_t) INT64_MAX + 1, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(qs_add_n(t, 4.0, UINT64_MAX, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(memcmp(t, s, size) == 0);
	t = qs_create(0.01, &A, &err);
	CHECK(qs_add_n(t, 4.0, (uint64_t) INT64_MAX + 1, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(t->count == 0);
	/* the sum: v * n beyond float8 is an overflow, of either sign */
	CHECK(qs_add_n(qs_copy(s, &A, &err), 1e300, 1000000000, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(qs_add_n(qs_copy(s, &A, &err), -1e300, 1000000000, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	CHECK(add_n_agrees(s, 1e308, 2));
	CHECK(add_n_agrees(s, 8.9e307, 2));
	CHECK(add_n_agrees(s, -8.9e307, 3));
	t = qs_add_n(qs_copy(s, &A, &err), 1e300, 100000, &A, &err);
	CHECK(t != NULL && t->sum == 40.0 + 1e300 * 100000.0);
	/* a large n = the sketch doubled by merging 2^k times */
	u = qs_create(0.01, &A, &err);
	u = qs_add(u, -7.25, &A, &err);
	u = qs_add(u, 3.0, &A, &err);
	for (k = 0; u != NULL && k < 40; k++)
		u = qs_merge(u, qs_copy(u, &A, &err), &A, &err);
	t = qs_create(0.01, &A, &err);
	t = qs_add_n(t, 3.0, UINT64_C(1) << 40, &A, &err);
	t = qs_add_n(t, -7.25, UINT64_C(1) << 40, &A, &err);
	CHECK(u != NULL && t != NULL && same_exactly(u, t));
	group_end("weighted adds: n = 0, errors, limits");
}

static void
test_roundtrip(void)
{
	double		v[] = {-1e9, -3.5, -0.001, 0.0, -0.0, 1e-320, 1e-3, 1, 2, 3, 1e9, 1.7e308, -1.7e308};
	size_t		n = sizeof(v) / sizeof(v[0]);
	qs_error	err;
	qs_sketch  *s = build(v, n, 0.01),
			   *t,
			   *u;
	size_t		len;
	uint8_t    *b;
	char	   *txt,
			   *txt2;

	CHECK(s != NULL && s->zero == 3 && s->count == n);
	len = qs_compact_size(s);
	b = arena_alloc(len, NULL);
	qs_compact_write(s, b);
	t = qs_compact_read(b, len, &A, &err);
	CHECK(t != NULL);
	txt = qs_text_write(s, &A, &err);
	u = qs_text_read(txt, &A, &err);
	CHECK(u != NULL);
	if (t && u)
	{
		txt2 = qs_text_write(u, &A, &err);
		CHECK(strcmp(txt, txt2) == 0);
		CHECK(same_but_sum(s, t) && s->sum == t->sum && s->sum == u->sum);
		CHECK(qs_quantile(u, 0) == -1.7e308 && qs_quantile(u, 1) == 1.7e308);
	}
	/* whitespace and any field order are accepted, flags may be left out */
	t = qs_text_read(" { \"positive\" : { \"0\" : 2 } , \"negative\":{}, \"zero\":0,\"sum\":2,"
					 "\"max\":1,\"min\":1,\"count\":2,\"alpha\":0.01,\"version\":1 } ", &A, &err);
	CHECK(t != NULL && t->count == 2);
	group_end("compact and text round trips");
}

static void
test_errors(void)
{
	qs_error	err;
	qs_sketch  *s = qs_create(0.01, &A, &err),
			   *t = qs_create(0.02, &A, &err);

	CHECK(qs_add(s, NAN, &A, &err) == NULL && err.code == QS_ERR_NONFINITE);
	CHECK(qs_add(s, INFINITY, &A, &err) == NULL && err.code == QS_ERR_NONFINITE);
	CHECK(qs_add(s, -INFINITY, &A, &err) == NULL && err.code == QS_ERR_NONFINITE);
	s = qs_add(s, 1.5e308, &A, &err);
	CHECK(s != NULL);
	CHECK(qs_add(s, 1.5e308, &A, &err) == NULL && err.code == QS_ERR_OVERFLOW);
	t = qs_add(t, 1, &A, &err);
	CHECK(qs_merge(s, t, &A, &err) == NULL && err.code == QS_ERR_ALPHA_MISMATCH);
	CHECK(qs_create(0.7, &A, &err) == NULL && err.code == QS_ERR_ALPHA);
	group_end("errors: non-finite, overflow, alpha");
}

/* Every truncation and every single-byte change: an error or a valid sketch. */
static void
test_malformed_binary(void)
{
	double		v[] = {-5, -1, 0, 1, 2, 3, 100, 1000, 1e6};
	qs_sketch  *s = build(v, sizeof(v) / sizeof(v[0]), 0.01);
	size_t		len = qs_compact_size(s),
				i;
	uint8_t    *b = arena_alloc(len, NULL),
			   *c = arena_alloc(len, NULL);
	qs_error	err;
	int			bit;

	qs_compact_write(s, b);
	for (i = 0; i < len; i++)
		CHECK(qs_compact_read(b, i, &A, &err) == NULL && err.code != QS_OK);
	for (i = 0; i < len; i++)
	{
		for (bit = 0; bit < 8; bit++)
		{
			qs_sketch  *t;

			memcpy(c, b, len);
			c[i] ^= (uint8_t) (1u << bit);
			t = qs_compact_read(c, len, &A, &err);
			if (t != NULL)
				CHECK(qs_dense_validate(t, qs_dense_size(t), &err) == 0);
		}
	}
	/* specific corruptions */
	memcpy(c, b, len);
	c[0] = 2;
	CHECK(qs_compact_read(c, len, &A, &err) == NULL && err.code == QS_ERR_VERSION);
	memcpy(c, b, len);
	c[1] = 0x04;
	CHECK(qs_compact_read(c, len, &A, &err) == NULL && strstr(err.detail, "flags"));
	memcpy(c, b, len);
	c[2] = 1;
	CHECK(qs_compact_read(c, len, &A, &err) == NULL && strstr(err.detail, "reserved"));
	/* a dense sketch with a bad header or counts is refused */
	{
		qs_sketch  *d = qs_copy(s, &A, &err);

		CHECK(qs_dense_validate(d, qs_dense_size(d), &err) == 0);
		CHECK(qs_dense_validate(d, qs_dense_size(d) - 8, &err) != 0);
		d->pos.n++;
		CHECK(qs_dense_validate(d, qs_dense_size(d), &err) != 0);
		d->pos.n--;
		d->counts[d->pos.off + (uint32_t) (d->pos.lo - d->pos.base)]++;
		CHECK(qs_dense_validate(d, qs_dense_size(d), &err) != 0);
		d->counts[d->pos.off + (uint32_t) (d->pos.lo - d->pos.base)]--;
		d->pos.hi = d->pos.base + (int32_t) d->pos.cap;
		CHECK(qs_dense_check_header(d, qs_dense_size(d), &err) != 0);
	}
	group_end("malformed binary is refused");
}

static void
test_malformed_text(void)
{
	static const char *const bad[] = {
		"",
		"{}",
		"[]",
		"{\"version\":1}",
		"{\"version\":2,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.9,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":2,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":nan,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1e999,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":2,\"min\":1,\"max\":2,\"sum\":3,\"zero\":0,\"negative\":{},\"positive\":{\"35\":1,\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":2,\"min\":1,\"max\":2,\"sum\":3,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1,\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":0,\"1\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}} x",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"flags\":4,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"flags\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":2,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1},\"extra\":1}",
		"{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"99999999\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":18446744073709551616,\"min\":1,\"max\":1,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}",
		"{\"version\":1,\"alpha\":0.01,\"count\":2,\"min\":1,\"max\":1e300,\"sum\":1,\"zero\":0,\"negative\":{},\"positive\":{\"0\":1,\"9999\":1}}",
	};
	size_t		i;
	qs_error	err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (qs_text_read(bad[i], &A, &err) != NULL)
		{
			fprintf(stderr, "  accepted bad text %zu\n", i);
			group_failures++;
		}
	}
	CHECK(qs_text_read("{\"version\":1,\"alpha\":0.01,\"count\":1,\"min\":1,\"max\":1,\"sum\":1,"
					   "\"zero\":0,\"negative\":{},\"positive\":{\"0\":1}}", &A, &err) != NULL);
	group_end("malformed text is refused");
}

int
main(void)
{
	test_checks();
	test_accuracy();
	test_merge(0.01, -3, 9, "merge = sketch of the union (alpha 0.01)");
	test_merge(1e-4, 0, 3, "merge = union with collapsing (1e-4)");
	test_merge_compact(0.01, -3, 9, "stored merge = merge (alpha 0.01)");
	test_merge_compact(1e-4, 0, 3, "stored merge = merge, collapsing (1e-4)");
	test_merge_compact(0.5, -300, 300, "stored merge = merge (alpha 0.5, wide)");
	test_merge_compact_malformed();
	test_collapse();
	test_add_n(0.01, -3, 9, 0, "weighted adds = single adds (alpha 0.01)");
	test_add_n(1e-4, 0, 6, 1, "weighted adds = single adds, collapsing");
	test_add_n(0.5, -300, 300, 0, "weighted adds = single adds (0.5, wide)");
	test_add_n_collapse();
	test_add_n_limits();
	test_roundtrip();
	test_errors();
	test_malformed_binary();
	test_malformed_text();
	free(arena);
	if (failures)
	{
		printf("test_qsketch: %d failures\n", failures);
		return 1;
	}
	printf("test_qsketch: all groups passed\n");
	return 0;
}
