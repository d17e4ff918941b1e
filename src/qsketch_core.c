/*
 * qsketch_core.c: the quantile sketch in plain C, the mapping and the stores;
 * see qsketch_core.h for the vocabulary.  The compact stored form is in
 * qsketch_compact.c, the text form in qsketch_text.c; qsketch_internal.h
 * declares what they share.  No postgres.h here: errors come back as
 * qs_error, memory from the caller's allocator, so these files are unit
 * tested and fuzzed as they are.
 */
#include "qsketch_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dense header is exactly QS_DENSE_HEADER bytes. */
typedef char qs_header_size_check[(sizeof(qs_sketch) == QS_DENSE_HEADER) ? 1 : -1];

/* Bounds on the key multiplier for alpha in [QS_ALPHA_MIN, QS_ALPHA_MAX]. */
#define QS_INV_LG_LOW	0.6
#define QS_INV_LG_HIGH	3501.0

/* A position in value order: store -1 (negative), 0 (zero bucket), 1. */
typedef struct qs_loc
{
	int			store;
	int32_t		key;
} qs_loc;

static void qs_vfail(qs_error *err, qs_status code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Fill err with code and the formatted detail. */
static void
qs_vfail(qs_error *err, qs_status code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
}

/* Fill err and return -1. */
int
qs_fail(qs_error *err, qs_status code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	qs_vfail(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, returning NULL. */
void *
qs_fail_null(qs_error *err, qs_status code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	qs_vfail(err, code, fmt, ap);
	va_end(ap);
	return NULL;
}

static double
qs_gamma(double alpha)
{
	return (1.0 + alpha) / (1.0 - alpha);
}

/*
 * The fast logarithm of the mapping (DDSketch's cubically interpolated
 * mapping): for v = (1 + s) 2^e with s in [0, 1), L(v) = e + P(s) where
 * P(s) = ((A s + B) s + C) s, P(0) = 0, P(1) = 1, P increasing.  L is
 * increasing and dL/d(ln v) = (1 + s) P'(s) lies in [10/7, 52/35], so with
 * mult = 7 / (10 ln gamma) a key, an interval of length 1 / mult in L, spans
 * at most ln gamma in ln v: a factor gamma, as the guarantee needs, with at
 * most 4% more buckets than exact logarithms.  Plain IEEE arithmetic on the
 * bits: no libm call on the hot path.
 */
#define QS_P_A	(6.0 / 35.0)
#define QS_P_B	(-3.0 / 5.0)
#define QS_P_C	(10.0 / 7.0)

double
qs_mult(double alpha)
{
	return 0.7 / log(qs_gamma(alpha));
}

static inline double
qs_poly(double s)
{
	return ((QS_P_A * s + QS_P_B) * s + QS_P_C) * s;
}

/* L(mag) for a magnitude >= QS_MIN_INDEXABLE (a normal double). */
static inline double
qs_fast_log2(double mag)
{
	uint64_t	bits;
	double		m;
	int			e;

	memcpy(&bits, &mag, sizeof(bits));
	e = (int) ((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000);
	memcpy(&m, &bits, sizeof(m));
	return qs_poly(m - 1.0) + e;
}

/* 1 / v for the v with L(v) = y (the reciprocal cannot overflow). */
static double
qs_fast_exp2_recip(double y)
{
	double		e = floor(y),
				t = y - e,
				lo = 0.0,
				hi = 1.0;
	int			i;

	for (i = 0; i < 64; i++)
	{
		double		mid = 0.5 * (lo + hi);

		if (qs_poly(mid) < t)
			lo = mid;
		else
			hi = mid;
	}
	return ldexp(1.0 / (1.0 + 0.5 * (lo + hi)), -(int) e);
}

/* Key of a magnitude >= QS_MIN_INDEXABLE. */
static inline int32_t
qs_key(double mag, double mult)
{
	return (int32_t) ceil(qs_fast_log2(mag) * mult);
}

/*
 * The value a key reports: the harmonic mean 2 lo hi / (lo + hi) of the
 * bucket's bounds, within (hi - lo) / (hi + lo) <= alpha of all of them.
 */
static double
qs_key_value(int32_t key, double mult)
{
	return 2.0 / (qs_fast_exp2_recip((key - 1) / mult) + qs_fast_exp2_recip(key / mult));
}

double
qs_key_upper(const qs_sketch *s, int32_t key)
{
	return 1.0 / qs_fast_exp2_recip(key / s->inv_lg);
}

void
qs_key_limits(double inv_lg, int32_t *kmin, int32_t *kmax)
{
	*kmin = qs_key(QS_MIN_INDEXABLE, inv_lg);
	*kmax = qs_key(DBL_MAX, inv_lg);
}

int
qs_check_alpha(double alpha, qs_error *err)
{
	if (!(alpha >= QS_ALPHA_MIN && alpha <= QS_ALPHA_MAX))
		return qs_fail(err, QS_ERR_ALPHA,
					   "relative accuracy %g is outside [%g, %g]",
					   alpha, QS_ALPHA_MIN, QS_ALPHA_MAX);
	return 0;
}

int
qs_check_quantile(double q, qs_error *err)
{
	if (!(q >= 0.0 && q <= 1.0))
		return qs_fail(err, QS_ERR_QUANTILE,
					   "quantile %g is not between 0 and 1", q);
	return 0;
}

size_t
qs_dense_size(const qs_sketch *s)
{
	return QS_DENSE_HEADER + sizeof(uint64_t) * ((size_t) s->pos.cap + s->neg.cap);
}

void *
qs_allocate(const qs_alloc *a, size_t size, qs_error *err)
{
	void	   *p = a->fn(size, a->arg);

	if (p == NULL)
		qs_fail(err, QS_ERR_NOMEM, "out of memory allocating %zu bytes", size);
	return p;
}

/* ------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------
 */

/* O(1) shape checks of one store that make every index safe. */
static int
qs_check_store(const qs_store *st, int collapsed, const char *name, qs_error *err)
{
	if (st->cap > QS_MAX_BUCKETS || st->pad != 0)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store has capacity %u (at most %d)",
					   name, st->cap, QS_MAX_BUCKETS);
	if (st->base < -QS_KEY_BOUND || st->base > QS_KEY_BOUND)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store base key %d is out of range",
					   name, st->base);
	if (st->n == 0)
	{
		if (collapsed)
			return qs_fail(err, QS_ERR_MALFORMED, "empty %s store is marked collapsed", name);
		return 0;
	}
	if (st->n > QS_INT64_MAX || st->lo > st->hi || st->lo < st->base ||
		(int64_t) st->hi >= (int64_t) st->base + st->cap)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store key range [%d, %d] is outside its array",
					   name, st->lo, st->hi);
	if (collapsed && (int64_t) st->hi - st->lo + 1 != QS_MAX_BUCKETS)
		return qs_fail(err, QS_ERR_MALFORMED, "collapsed %s store spans %lld keys, not %d",
					   name, (long long) st->hi - st->lo + 1, QS_MAX_BUCKETS);
	return 0;
}

int
qs_dense_check_header(const void *buf, size_t len, qs_error *err)
{
	const qs_sketch *s = (const qs_sketch *) buf;

	if (len < QS_DENSE_HEADER)
		return qs_fail(err, QS_ERR_MALFORMED, "working qsketch of %zu bytes is shorter than its header", len);
	if (s->version != QS_VERSION)
		return qs_fail(err, QS_ERR_VERSION, "unsupported qsketch format version %u", s->version);
	if (!(s->flags & QS_FLAG_DENSE) || (s->flags & ~(QS_FLAG_DENSE | QS_COMPACT_FLAGS)))
		return qs_fail(err, QS_ERR_MALFORMED, "unknown flags 0x%02x", s->flags);
	if (s->reserved != 0)
		return qs_fail(err, QS_ERR_MALFORMED, "reserved field is %u, not 0", s->reserved);
	if (!(s->alpha >= QS_ALPHA_MIN && s->alpha <= QS_ALPHA_MAX) ||
		!(s->inv_lg > QS_INV_LG_LOW && s->inv_lg < QS_INV_LG_HIGH))
		return qs_fail(err, QS_ERR_MALFORMED, "relative accuracy %g is outside [%g, %g]",
					   s->alpha, QS_ALPHA_MIN, QS_ALPHA_MAX);
	if (s->pos.off != 0 || s->neg.off != s->pos.cap)
		return qs_fail(err, QS_ERR_MALFORMED, "store offsets %u and %u are inconsistent",
					   s->pos.off, s->neg.off);
	if (qs_check_store(&s->pos, s->flags & QS_FLAG_POS_COLLAPSED, "positive", err) ||
		qs_check_store(&s->neg, s->flags & QS_FLAG_NEG_COLLAPSED, "negative", err))
		return -1;
	if (len != qs_dense_size(s))
		return qs_fail(err, QS_ERR_MALFORMED, "length %zu does not match the header (%zu)",
					   len, qs_dense_size(s));
	return 0;
}

/* Where a value falls, with the collapse of the store applied. */
static qs_loc
qs_locate(const qs_sketch *s, double v)
{
	qs_loc		l = {0, 0};
	double		mag = fabs(v);
	const qs_store *st;

	if (mag < QS_MIN_INDEXABLE)
		return l;
	l.store = v > 0 ? 1 : -1;
	l.key = qs_key(mag, s->inv_lg);
	st = v > 0 ? &s->pos : &s->neg;
	if (st->n > 0 && (s->flags & (v > 0 ? QS_FLAG_POS_COLLAPSED : QS_FLAG_NEG_COLLAPSED)) &&
		l.key < st->lo)
		l.key = st->lo;
	return l;
}

/* The checks shared by every input path once the buckets are in place. */
int
qs_validate_summary(const qs_sketch *s, qs_error *err)
{
	uint64_t	total = s->zero;
	qs_loc		first = {0, 0},
				last = {0, 0},
				lmin,
				lmax;

	if (s->pos.n > QS_INT64_MAX - total)
		return qs_fail(err, QS_ERR_MALFORMED, "bucket counts overflow");
	total += s->pos.n;
	if (s->neg.n > QS_INT64_MAX - total)
		return qs_fail(err, QS_ERR_MALFORMED, "bucket counts overflow");
	total += s->neg.n;
	if (s->count < 1 || s->count > QS_INT64_MAX)
		return qs_fail(err, QS_ERR_MALFORMED, "count %llu is outside [1, %lld]",
					   (unsigned long long) s->count, (long long) INT64_MAX);
	if (total != s->count)
		return qs_fail(err, QS_ERR_MALFORMED, "bucket counts add up to %llu, not count %llu",
					   (unsigned long long) total, (unsigned long long) s->count);
	if (!isfinite(s->min) || !isfinite(s->max) || !isfinite(s->sum))
		return qs_fail(err, QS_ERR_MALFORMED, "min, max and sum must be finite");
	if (!(s->min <= s->max))
		return qs_fail(err, QS_ERR_MALFORMED, "min %g is greater than max %g", s->min, s->max);
	if (s->count == 1 && !(s->min == s->max && s->sum == s->min))
		return qs_fail(err, QS_ERR_MALFORMED, "a sketch of one value must have min = max = sum");

	if (s->neg.n > 0)
		first.store = -1, first.key = s->neg.hi;
	else if (s->zero == 0)
		first.store = 1, first.key = s->pos.lo;
	if (s->pos.n > 0)
		last.store = 1, last.key = s->pos.hi;
	else if (s->zero == 0)
		last.store = -1, last.key = s->neg.lo;
	lmin = qs_locate(s, s->min);
	lmax = qs_locate(s, s->max);
	if (lmin.store != first.store || lmin.key != first.key)
		return qs_fail(err, QS_ERR_MALFORMED, "min %g is not in the lowest bucket", s->min);
	if (lmax.store != last.store || lmax.key != last.key)
		return qs_fail(err, QS_ERR_MALFORMED, "max %g is not in the highest bucket", s->max);
	return 0;
}

/* Full check of a store's counts: O(capacity). */
static int
qs_validate_counts(const qs_sketch *s, const qs_store *st, const char *name, qs_error *err)
{
	const uint64_t *c = s->counts + st->off;
	uint64_t	sum = 0;
	int32_t		kmin,
				kmax;
	uint32_t	i;

	qs_key_limits(s->inv_lg, &kmin, &kmax);
	for (i = 0; i < st->cap; i++)
	{
		int32_t		k = st->base + (int32_t) i;
		int			inside = st->n > 0 && k >= st->lo && k <= st->hi;

		if (!inside && c[i] != 0)
			return qs_fail(err, QS_ERR_MALFORMED, "%s store has a count outside its key range", name);
		if (c[i] > QS_INT64_MAX - sum)
			return qs_fail(err, QS_ERR_MALFORMED, "%s store counts overflow", name);
		sum += c[i];
	}
	if (sum != st->n)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store counts add up to %llu, not %llu", name,
					   (unsigned long long) sum, (unsigned long long) st->n);
	if (st->n > 0)
	{
		if (c[st->lo - st->base] == 0 || c[st->hi - st->base] == 0)
			return qs_fail(err, QS_ERR_MALFORMED, "%s store range ends in an empty bucket", name);
		if (st->lo < kmin || st->hi > kmax)
			return qs_fail(err, QS_ERR_MALFORMED, "%s store keys [%d, %d] are outside [%d, %d]",
						   name, st->lo, st->hi, kmin, kmax);
	}
	return 0;
}

int
qs_dense_validate(const void *buf, size_t len, qs_error *err)
{
	const qs_sketch *s = (const qs_sketch *) buf;

	if (qs_dense_check_header(buf, len, err))
		return -1;
	if (s->inv_lg != qs_mult(s->alpha))
		return qs_fail(err, QS_ERR_MALFORMED, "cached key multiplier does not match alpha %g", s->alpha);
	if (qs_validate_counts(s, &s->pos, "positive", err) ||
		qs_validate_counts(s, &s->neg, "negative", err))
		return -1;
	return qs_validate_summary(s, err);
}

/* ------------------------------------------------------------------------
 * Building and updating
 * ------------------------------------------------------------------------
 */

/* An empty sketch with stores of the given capacities. */
static qs_sketch *
qs_alloc_sketch(double alpha, uint32_t poscap, uint32_t negcap, const qs_alloc *a, qs_error *err)
{
	size_t		size = QS_DENSE_HEADER + sizeof(uint64_t) * ((size_t) poscap + negcap);
	qs_sketch  *s = qs_allocate(a, size, err);

	if (s == NULL)
		return NULL;
	memset(s, 0, size);
	s->version = QS_VERSION;
	s->flags = QS_FLAG_DENSE;
	s->alpha = alpha;
	s->inv_lg = qs_mult(alpha);
	s->pos.cap = poscap;
	s->neg.cap = negcap;
	s->neg.off = poscap;
	return s;
}

qs_sketch *
qs_create(double alpha, const qs_alloc *a, qs_error *err)
{
	if (qs_check_alpha(alpha, err))
		return NULL;
	return qs_alloc_sketch(alpha, 0, 0, a, err);
}

qs_sketch *
qs_copy(const qs_sketch *s, const qs_alloc *a, qs_error *err)
{
	size_t		size = qs_dense_size(s);
	qs_sketch  *t = qs_allocate(a, size, err);

	if (t != NULL)
		memcpy(t, s, size);
	return t;
}

/*
 * Make a store's array cover keys [nlo, nhi] (at most QS_MAX_BUCKETS keys,
 * containing the store's current range): recentre in place when the array
 * is large enough, else move to a new sketch with twice the capacity.
 */
qs_sketch *
qs_make_room(qs_sketch *s, int positive, int32_t nlo, int32_t nhi, const qs_alloc *a, qs_error *err)
{
	qs_store   *st = positive ? &s->pos : &s->neg;
	uint32_t	need = (uint32_t) ((int64_t) nhi - nlo + 1);
	uint32_t	len = st->n > 0 ? (uint32_t) (st->hi - st->lo + 1) : 0;
	qs_sketch  *t;
	qs_store   *ts;
	uint32_t	newcap;
	int32_t		nbase;

	if (st->cap > 0 && nlo >= st->base && (int64_t) nhi < (int64_t) st->base + st->cap)
		return s;
	if (need <= st->cap)
	{
		uint64_t   *c = s->counts + st->off;

		nbase = nlo - (int32_t) ((st->cap - need) / 2);
		if (len > 0)
		{
			uint32_t	from = (uint32_t) (st->lo - st->base);
			uint32_t	to = (uint32_t) (st->lo - nbase);

			memmove(c + to, c + from, len * sizeof(uint64_t));
			memset(c, 0, to * sizeof(uint64_t));
			memset(c + to + len, 0, (st->cap - to - len) * sizeof(uint64_t));
		}
		else
			memset(c, 0, st->cap * sizeof(uint64_t));
		st->base = nbase;
		return s;
	}

	newcap = st->cap > 0 ? st->cap : 16;
	while (newcap < need)
		newcap *= 2;
	if (newcap > QS_MAX_BUCKETS)
		newcap = QS_MAX_BUCKETS;
	t = qs_alloc_sketch(s->alpha, positive ? newcap : s->pos.cap,
						positive ? s->neg.cap : newcap, a, err);
	if (t == NULL)
		return NULL;
	{
		qs_store	pos = t->pos,
					neg = t->neg;

		memcpy(t, s, QS_DENSE_HEADER);
		t->pos.cap = pos.cap;
		t->pos.off = pos.off;
		t->neg.cap = neg.cap;
		t->neg.off = neg.off;
	}
	/* the other store keeps its layout */
	if (positive)
		memcpy(t->counts + t->neg.off, s->counts + s->neg.off, s->neg.cap * sizeof(uint64_t));
	else
		memcpy(t->counts + t->pos.off, s->counts + s->pos.off, s->pos.cap * sizeof(uint64_t));
	ts = positive ? &t->pos : &t->neg;
	nbase = nlo - (int32_t) ((newcap - need) / 2);
	if (len > 0)
		memcpy(t->counts + ts->off + (st->lo - nbase), s->counts + st->off + (st->lo - st->base),
			   len * sizeof(uint64_t));
	ts->base = nbase;
	return t;
}

/* Add c values of key k to a store, collapsing its lowest keys if needed. */
qs_sketch *
qs_store_add(qs_sketch *s, int positive, int32_t k, uint64_t c, const qs_alloc *a, qs_error *err)
{
	qs_store   *st = positive ? &s->pos : &s->neg;
	int32_t		nlo,
				nhi;
	uint64_t	carry = 0;

	if (st->n == 0)
		nlo = nhi = k;
	else
	{
		nlo = st->lo < k ? st->lo : k;
		nhi = st->hi > k ? st->hi : k;
		if ((int64_t) nhi - nlo + 1 > QS_MAX_BUCKETS)
		{
			int32_t		t = nhi - (QS_MAX_BUCKETS - 1);

			s->flags |= positive ? QS_FLAG_POS_COLLAPSED : QS_FLAG_NEG_COLLAPSED;
			if (k < t)
				k = t;
			if (st->lo < t)
			{
				uint64_t   *cs = s->counts + st->off;
				int32_t		last = st->hi < t ? st->hi : t - 1;
				int32_t		key;

				for (key = st->lo; key <= last; key++)
				{
					carry += cs[key - st->base];
					cs[key - st->base] = 0;
				}
				st->n -= carry;
				if (st->hi >= t)
				{
					cs[t - st->base] += carry;
					st->n += carry;
					st->lo = t;
					carry = 0;
				}
			}
			nlo = t;
		}
	}
	s = qs_make_room(s, positive, nlo, nhi, a, err);
	if (s == NULL)
		return NULL;
	st = positive ? &s->pos : &s->neg;
	s->counts[st->off + (uint32_t) (nlo - st->base)] += carry;
	s->counts[st->off + (uint32_t) (k - st->base)] += c;
	st->n += carry + c;
	st->lo = nlo;
	st->hi = nhi;
	return s;
}

/*
 * Add n >= 1 observations of v: the body of qs_add (n = 1) and qs_add_n.
 * O(1) bucket work whatever n: the n values share one key, so they are one
 * qs_store_add of count n, which collapses the store exactly as n single
 * adds would.  The sum grows by v * n (one rounding where n single adds
 * round n times).  A non-finite value or an overflow changes nothing.
 */
static inline qs_sketch *
qs_add_count(qs_sketch *s, double v, uint64_t n, const qs_alloc *a, qs_error *err)
{
	double		nsum,
				mag;

	if (!isfinite(v))
	{
		qs_fail(err, QS_ERR_NONFINITE, "value %s is not finite",
				isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
		return NULL;
	}
	if (v == 0.0)
		v = 0.0;				/* -0 counts as 0, so min and max are canonical */
	nsum = s->sum + v * (double) n;	/* v * 1 is v exactly */
	if (!isfinite(nsum) || s->count > QS_INT64_MAX || n > QS_INT64_MAX - s->count)
	{
		qs_fail(err, QS_ERR_OVERFLOW, "the sum or count of the sketch would overflow");
		return NULL;
	}
	mag = fabs(v);
	if (mag < QS_MIN_INDEXABLE)
		s->zero += n;
	else
	{
		int32_t		k = qs_key(mag, s->inv_lg);
		qs_store   *st = v > 0 ? &s->pos : &s->neg;
		uint32_t	i = (uint32_t) (k - st->base);

		if (st->n > 0 && i < st->cap)
		{
			/* within the array, so within QS_MAX_BUCKETS keys */
			s->counts[st->off + i] += n;
			st->n += n;
			if (k < st->lo)
				st->lo = k;
			else if (k > st->hi)
				st->hi = k;
		}
		else if ((s = qs_store_add(s, v > 0, k, n, a, err)) == NULL)
			return NULL;
	}
	if (s->count == 0 || v < s->min)
		s->min = v;
	if (s->count == 0 || v > s->max)
		s->max = v;
	s->count += n;
	s->sum = nsum;
	return s;
}

qs_sketch *
qs_add(qs_sketch *s, double v, const qs_alloc *a, qs_error *err)
{
	return qs_add_count(s, v, 1, a, err);
}

qs_sketch *
qs_add_n(qs_sketch *s, double v, uint64_t n, const qs_alloc *a, qs_error *err)
{
	if (n == 0)
		return s;
	return qs_add_count(s, v, n, a, err);
}

/* Merge one store of src into dst, highest key first. */
static qs_sketch *
qs_store_merge(qs_sketch *dst, int positive, const qs_sketch *src, const qs_alloc *a, qs_error *err)
{
	const qs_store *ss = positive ? &src->pos : &src->neg;
	const uint64_t *sc = src->counts + ss->off;
	qs_store   *ds;
	int32_t		k,
				nlo;

	if (ss->n == 0)
		return dst;
	dst = qs_store_add(dst, positive, ss->hi, sc[ss->hi - ss->base], a, err);
	if (dst == NULL)
		return NULL;
	/* room for the whole merged range at once */
	ds = positive ? &dst->pos : &dst->neg;
	nlo = ss->lo < ds->lo ? ss->lo : ds->lo;
	if ((int64_t) ds->hi - nlo + 1 > QS_MAX_BUCKETS)
		nlo = ds->hi - (QS_MAX_BUCKETS - 1);
	dst = qs_make_room(dst, positive, nlo, ds->hi, a, err);
	if (dst == NULL)
		return NULL;
	for (k = ss->hi - 1; k >= ss->lo; k--)
	{
		uint64_t	c = sc[k - ss->base];

		if (c > 0 && (dst = qs_store_add(dst, positive, k, c, a, err)) == NULL)
			return NULL;
	}
	return dst;
}

qs_sketch *
qs_merge(qs_sketch *dst, const qs_sketch *src, const qs_alloc *a, qs_error *err)
{
	double		nsum;

	if (dst->alpha != src->alpha)
	{
		qs_fail(err, QS_ERR_ALPHA_MISMATCH,
				"cannot merge a sketch of relative accuracy %g into one of %g",
				src->alpha, dst->alpha);
		return NULL;
	}
	if (src->count == 0)
		return dst;
	nsum = dst->sum + src->sum;
	if (!isfinite(nsum) || src->count > QS_INT64_MAX - dst->count)
	{
		qs_fail(err, QS_ERR_OVERFLOW, "the sum or count of the merged sketch would overflow");
		return NULL;
	}
	dst->flags |= src->flags & QS_COMPACT_FLAGS;
	if ((dst = qs_store_merge(dst, 1, src, a, err)) == NULL ||
		(dst = qs_store_merge(dst, 0, src, a, err)) == NULL)
		return NULL;
	dst->zero += src->zero;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum = nsum;
	return dst;
}

/* ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------
 */

static double
qs_clamp(const qs_sketch *s, double v)
{
	return v < s->min ? s->min : (v > s->max ? s->max : v);
}

/*
 * The value of rank r = max(1, ceil(q * count)) in ascending order, the rank
 * percentile_disc uses; exact at the ends, else its bucket's value, clamped
 * to [min, max] (which only brings it closer to the true value).
 */
double
qs_quantile(const qs_sketch *s, double q)
{
	int64_t		n = (int64_t) s->count;
	int64_t		r = (int64_t) ceil(q * (double) n);
	uint64_t	cum = 0;
	int32_t		k;

	if (r <= 1)
		return s->min;
	if (r >= n)
		return s->max;
	if (s->neg.n > 0)
	{
		for (k = s->neg.hi; k >= s->neg.lo; k--)
		{
			cum += s->counts[s->neg.off + (uint32_t) (k - s->neg.base)];
			if (cum >= (uint64_t) r)
				return qs_clamp(s, -qs_key_value(k, s->inv_lg));
		}
	}
	cum += s->zero;
	if (cum >= (uint64_t) r)
		return qs_clamp(s, 0.0);
	if (s->pos.n > 0)
	{
		for (k = s->pos.lo; k <= s->pos.hi; k++)
		{
			cum += s->counts[s->pos.off + (uint32_t) (k - s->pos.base)];
			if (cum >= (uint64_t) r)
				return qs_clamp(s, qs_key_value(k, s->inv_lg));
		}
	}
	return s->max;
}

uint32_t
qs_bucket_count(const qs_sketch *s)
{
	uint32_t	n = 0,
				i;

	for (i = 0; i < s->pos.cap + s->neg.cap; i++)
		n += s->counts[i] != 0;
	return n;
}


/* ------------------------------------------------------------------------
 * Building from parsed fields (the compact and the text readers)
 * ------------------------------------------------------------------------
 */



int
qs_list_push(qs_bucket_list *l, int64_t key, uint64_t count, const qs_alloc *a,
			 const char *name, qs_error *err)
{
	if (l->n >= QS_MAX_BUCKETS)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store has more than %d buckets",
					   name, QS_MAX_BUCKETS);
	if (l->n == l->cap)
	{
		uint32_t	ncap = l->cap ? l->cap * 2 : 64;
		int64_t    *nk = qs_allocate(a, ncap * sizeof(int64_t), err);
		uint64_t   *nc = nk ? qs_allocate(a, ncap * sizeof(uint64_t), err) : NULL;

		if (nc == NULL)
			return -1;
		if (l->n > 0)
		{
			memcpy(nk, l->keys, l->n * sizeof(int64_t));
			memcpy(nc, l->counts, l->n * sizeof(uint64_t));
		}
		l->keys = nk;
		l->counts = nc;
		l->cap = ncap;
	}
	l->keys[l->n] = key;
	l->counts[l->n] = count;
	l->n++;
	return 0;
}

/* Check one store's bucket list and return its count and key range. */
static int
qs_check_list(const qs_bucket_list *l, int32_t kmin, int32_t kmax, int collapsed,
			  const char *name, uint64_t *n, qs_error *err)
{
	uint32_t	i;

	*n = 0;
	for (i = 0; i < l->n; i++)
	{
		if (l->keys[i] < kmin || l->keys[i] > kmax)
			return qs_fail(err, QS_ERR_MALFORMED, "%s bucket key %lld is outside [%d, %d]",
						   name, (long long) l->keys[i], kmin, kmax);
		if (i > 0 && l->keys[i] <= l->keys[i - 1])
			return qs_fail(err, QS_ERR_MALFORMED, "%s bucket keys are not strictly ascending at %lld",
						   name, (long long) l->keys[i]);
		if (l->counts[i] == 0)
			return qs_fail(err, QS_ERR_MALFORMED, "%s bucket %lld has count 0",
						   name, (long long) l->keys[i]);
		if (l->counts[i] > QS_INT64_MAX - *n)
			return qs_fail(err, QS_ERR_MALFORMED, "%s bucket counts overflow", name);
		*n += l->counts[i];
	}
	if (l->n > 0 && l->keys[l->n - 1] - l->keys[0] + 1 > QS_MAX_BUCKETS)
		return qs_fail(err, QS_ERR_MALFORMED, "%s store spans %lld keys (at most %d)",
					   name, (long long) (l->keys[l->n - 1] - l->keys[0] + 1), QS_MAX_BUCKETS);
	if (collapsed && (l->n == 0 || l->keys[l->n - 1] - l->keys[0] + 1 != QS_MAX_BUCKETS))
		return qs_fail(err, QS_ERR_MALFORMED, "collapsed %s store must span exactly %d keys",
					   name, QS_MAX_BUCKETS);
	return 0;
}

static void
qs_fill_store(qs_sketch *s, qs_store *st, const qs_bucket_list *l, uint64_t n)
{
	uint32_t	i;

	if (l->n == 0)
		return;
	st->base = st->lo = (int32_t) l->keys[0];
	st->hi = (int32_t) l->keys[l->n - 1];
	st->n = n;
	for (i = 0; i < l->n; i++)
		s->counts[st->off + (uint32_t) (l->keys[i] - st->base)] = l->counts[i];
}

/* Validate parsed fields and build the dense sketch. */
qs_sketch *
qs_build(const qs_parsed *p, const qs_alloc *a, qs_error *err)
{
	double		inv_lg;
	int32_t		kmin,
				kmax;
	uint64_t	nneg,
				npos;
	qs_sketch  *s;

	if (!(p->alpha >= QS_ALPHA_MIN && p->alpha <= QS_ALPHA_MAX))
	{
		qs_fail(err, QS_ERR_MALFORMED, "relative accuracy %g is outside [%g, %g]",
				p->alpha, QS_ALPHA_MIN, QS_ALPHA_MAX);
		return NULL;
	}
	if (p->flags & ~(uint64_t) QS_COMPACT_FLAGS)
	{
		qs_fail(err, QS_ERR_MALFORMED, "unknown flags 0x%llx", (unsigned long long) p->flags);
		return NULL;
	}
	inv_lg = qs_mult(p->alpha);
	qs_key_limits(inv_lg, &kmin, &kmax);
	if (qs_check_list(&p->neg, kmin, kmax, p->flags & QS_FLAG_NEG_COLLAPSED, "negative", &nneg, err) ||
		qs_check_list(&p->pos, kmin, kmax, p->flags & QS_FLAG_POS_COLLAPSED, "positive", &npos, err))
		return NULL;
	s = qs_alloc_sketch(p->alpha,
						p->pos.n ? (uint32_t) (p->pos.keys[p->pos.n - 1] - p->pos.keys[0] + 1) : 0,
						p->neg.n ? (uint32_t) (p->neg.keys[p->neg.n - 1] - p->neg.keys[0] + 1) : 0,
						a, err);
	if (s == NULL)
		return NULL;
	s->flags |= (uint8_t) p->flags;
	s->count = p->count;
	s->zero = p->zero;
	s->min = p->min;
	s->max = p->max;
	s->sum = p->sum;
	qs_fill_store(s, &s->pos, &p->pos, npos);
	qs_fill_store(s, &s->neg, &p->neg, nneg);
	if (qs_validate_summary(s, err))
		return NULL;
	return s;
}

