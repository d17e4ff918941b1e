/*
 * qsketch_core.c: the quantile sketch in plain C; see qsketch_core.h for the
 * vocabulary.  No postgres.h here: errors come back as qs_error, memory from
 * the caller's allocator, so this file is unit tested and fuzzed as is.
 *
 * Compact stored form (all integers little-endian, doubles as IEEE-754 bits):
 *   0  uint8   version (1)
 *   1  uint8   flags (QS_COMPACT_FLAGS only)
 *   2  uint16  reserved, zero
 *   4  float64 alpha
 *  12  uint64  count (1 .. INT64_MAX)
 *  20  float64 min
 *  28  float64 max
 *  36  float64 sum
 *  44  varint  zero-bucket count, varint nneg, varint npos, then nneg
 *      negative-store buckets and npos positive-store buckets, each by
 *      ascending key: the first key zigzag-encoded, every next key as
 *      (key - previous key - 1), each key followed by its count (>= 1).
 * Varints are unsigned LEB128 of at most 10 bytes.
 */
#include "qsketch_core.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dense header is exactly QS_DENSE_HEADER bytes. */
typedef char qs_header_size_check[(sizeof(qs_sketch) == QS_DENSE_HEADER) ? 1 : -1];

#define QS_INT64_MAX	((uint64_t) INT64_MAX)
/* Bounds on the key multiplier for alpha in [QS_ALPHA_MIN, QS_ALPHA_MAX]. */
#define QS_INV_LG_LOW	0.6
#define QS_INV_LG_HIGH	3501.0
/* |key| and |base| stay far below this, so key arithmetic cannot overflow. */
#define QS_KEY_BOUND	5000000

/* A position in value order: store -1 (negative), 0 (zero bucket), 1. */
typedef struct qs_loc
{
	int			store;
	int32_t		key;
} qs_loc;

static void qs_vfail(qs_error *err, qs_status code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static int	qs_fail(qs_error *err, qs_status code, const char *fmt,...) __attribute__((format(printf, 3, 4)));
static void *qs_fail_null(qs_error *err, qs_status code, const char *fmt,...) __attribute__((format(printf, 3, 4)));

/* Fill err with code and the formatted detail. */
static void
qs_vfail(qs_error *err, qs_status code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
}

/* Fill err and return -1. */
static int
qs_fail(qs_error *err, qs_status code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	qs_vfail(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, returning NULL. */
static void *
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

static double
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

static void
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

static void *
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
static int
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
static qs_sketch *
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
static qs_sketch *
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

qs_sketch *
qs_add(qs_sketch *s, double v, const qs_alloc *a, qs_error *err)
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
	nsum = s->sum + v;
	if (!isfinite(nsum) || s->count >= QS_INT64_MAX)
	{
		qs_fail(err, QS_ERR_OVERFLOW, "the sum or count of the sketch would overflow");
		return NULL;
	}
	mag = fabs(v);
	if (mag < QS_MIN_INDEXABLE)
		s->zero++;
	else
	{
		int32_t		k = qs_key(mag, s->inv_lg);
		qs_store   *st = v > 0 ? &s->pos : &s->neg;
		uint32_t	i = (uint32_t) (k - st->base);

		if (st->n > 0 && i < st->cap)
		{
			/* within the array, so within QS_MAX_BUCKETS keys */
			s->counts[st->off + i]++;
			st->n++;
			if (k < st->lo)
				st->lo = k;
			else if (k > st->hi)
				st->hi = k;
		}
		else if ((s = qs_store_add(s, v > 0, k, 1, a, err)) == NULL)
			return NULL;
	}
	if (s->count == 0 || v < s->min)
		s->min = v;
	if (s->count == 0 || v > s->max)
		s->max = v;
	s->count++;
	s->sum = nsum;
	return s;
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
 * Compact form
 * ------------------------------------------------------------------------
 */

static void
qs_put_u64(uint8_t *p, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
qs_get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

static void
qs_put_f64(uint8_t *p, double d)
{
	uint64_t	v;

	memcpy(&v, &d, sizeof(v));
	qs_put_u64(p, v);
}

static double
qs_get_f64(const uint8_t *p)
{
	uint64_t	v = qs_get_u64(p);
	double		d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

static size_t
qs_varint_size(uint64_t v)
{
	size_t		n = 1;

	while (v >= 0x80)
		v >>= 7, n++;
	return n;
}

static uint8_t *
qs_varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80)
	{
		*p++ = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t) v;
	return p;
}

/* Read a varint; -1 if truncated or longer than 64 bits. */
static int
qs_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t	r = 0;
	int			shift = 0;

	for (;;)
	{
		uint8_t		b;

		if (p >= end || shift > 63)
			return -1;
		b = *p++;
		if (shift == 63 && (b & 0x7e))
			return -1;
		r |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*pp = p;
	*v = r;
	return 0;
}

static uint64_t
qs_zigzag(int64_t k)
{
	return ((uint64_t) k << 1) ^ (uint64_t) (k >> 63);
}

static int64_t
qs_unzigzag(uint64_t z)
{
	return (int64_t) (z >> 1) ^ -(int64_t) (z & 1);
}

/* Payload bytes of one store. */
static size_t
qs_store_compact_size(const qs_sketch *s, const qs_store *st, uint32_t *nb)
{
	size_t		size = 0;
	int32_t		k,
				prev = 0;
	int			first = 1;

	*nb = 0;
	if (st->n == 0)
		return 0;
	for (k = st->lo; k <= st->hi; k++)
	{
		uint64_t	c = s->counts[st->off + (uint32_t) (k - st->base)];

		if (c == 0)
			continue;
		size += first ? qs_varint_size(qs_zigzag(k)) : qs_varint_size((uint64_t) (k - prev - 1));
		size += qs_varint_size(c);
		prev = k;
		first = 0;
		(*nb)++;
	}
	return size;
}

/* Non-empty buckets of one store. */
static uint32_t
qs_store_bucket_count(const qs_sketch *s, const qs_store *st)
{
	const uint64_t *c = s->counts + st->off;
	uint32_t	n = 0,
				i;

	if (st->n == 0)
		return 0;
	for (i = (uint32_t) (st->lo - st->base); i <= (uint32_t) (st->hi - st->base); i++)
		n += c[i] != 0;
	return n;
}

size_t
qs_compact_size(const qs_sketch *s)
{
	uint32_t	nneg,
				npos;
	size_t		size = QS_COMPACT_HEADER + qs_varint_size(s->zero);

	size += qs_store_compact_size(s, &s->neg, &nneg);
	size += qs_store_compact_size(s, &s->pos, &npos);
	return size + qs_varint_size(nneg) + qs_varint_size(npos);
}

static uint8_t *
qs_store_compact_write(const qs_sketch *s, const qs_store *st, uint8_t *p)
{
	int32_t		k,
				prev = 0;
	int			first = 1;

	if (st->n == 0)
		return p;
	for (k = st->lo; k <= st->hi; k++)
	{
		uint64_t	c = s->counts[st->off + (uint32_t) (k - st->base)];

		if (c == 0)
			continue;
		p = qs_varint_put(p, first ? qs_zigzag(k) : (uint64_t) (k - prev - 1));
		p = qs_varint_put(p, c);
		prev = k;
		first = 0;
	}
	return p;
}

void
qs_compact_write(const qs_sketch *s, uint8_t *out)
{
	uint32_t	nneg,
				npos;
	uint8_t    *p = out + QS_COMPACT_HEADER;

	nneg = qs_store_bucket_count(s, &s->neg);
	npos = qs_store_bucket_count(s, &s->pos);
	out[0] = QS_VERSION;
	out[1] = s->flags & QS_COMPACT_FLAGS;
	out[2] = out[3] = 0;
	qs_put_f64(out + 4, s->alpha);
	qs_put_u64(out + 12, s->count);
	qs_put_f64(out + 20, s->min);
	qs_put_f64(out + 28, s->max);
	qs_put_f64(out + 36, s->sum);
	p = qs_varint_put(p, s->zero);
	p = qs_varint_put(p, nneg);
	p = qs_varint_put(p, npos);
	p = qs_store_compact_write(s, &s->neg, p);
	qs_store_compact_write(s, &s->pos, p);
}

/* Buckets of one store as read from an input, before validation. */
typedef struct qs_bucket_list
{
	int64_t    *keys;
	uint64_t   *counts;
	uint32_t	n;
	uint32_t	cap;
} qs_bucket_list;

/* The fields of a sketch as read from an input, before validation. */
typedef struct qs_parsed
{
	double		alpha;
	double		min;
	double		max;
	double		sum;
	uint64_t	count;
	uint64_t	zero;
	uint64_t	flags;
	qs_bucket_list neg;
	qs_bucket_list pos;
} qs_parsed;

static int
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
static qs_sketch *
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

/* Read one store's buckets from the compact payload. */
static int
qs_read_list(const uint8_t **pp, const uint8_t *end, uint64_t nb, qs_bucket_list *l,
			 const qs_alloc *a, const char *name, qs_error *err)
{
	uint64_t	i,
				v,
				c;
	int64_t		key = 0;

	for (i = 0; i < nb; i++)
	{
		if (qs_varint_get(pp, end, &v))
			return qs_fail(err, QS_ERR_MALFORMED, "truncated %s bucket %llu", name, (unsigned long long) i);
		if (i == 0)
		{
			key = qs_unzigzag(v);
			if (key < -QS_KEY_BOUND || key > QS_KEY_BOUND)
				return qs_fail(err, QS_ERR_MALFORMED, "%s bucket key %lld is out of range", name, (long long) key);
		}
		else
		{
			if (v >= QS_MAX_BUCKETS)
				return qs_fail(err, QS_ERR_MALFORMED, "%s store spans more than %d keys", name, QS_MAX_BUCKETS);
			key += (int64_t) v + 1;
		}
		if (qs_varint_get(pp, end, &c))
			return qs_fail(err, QS_ERR_MALFORMED, "truncated %s bucket %llu", name, (unsigned long long) i);
		if (qs_list_push(l, key, c, a, name, err))
			return -1;
	}
	return 0;
}

qs_sketch *
qs_compact_read(const uint8_t *buf, size_t len, const qs_alloc *a, qs_error *err)
{
	qs_parsed	p;
	const uint8_t *cur = buf + QS_COMPACT_HEADER,
			   *end = buf + len;
	uint64_t	nneg,
				npos;

	memset(&p, 0, sizeof(p));
	if (len < QS_COMPACT_HEADER)
	{
		qs_fail(err, QS_ERR_MALFORMED, "qsketch of %zu bytes is shorter than its %d-byte header",
				len, QS_COMPACT_HEADER);
		return NULL;
	}
	if (buf[0] != QS_VERSION)
	{
		qs_fail(err, QS_ERR_VERSION, "unsupported qsketch format version %u", buf[0]);
		return NULL;
	}
	if (buf[2] != 0 || buf[3] != 0)
	{
		qs_fail(err, QS_ERR_MALFORMED, "reserved field is %u, not 0", buf[2] | (buf[3] << 8));
		return NULL;
	}
	p.flags = buf[1];
	p.alpha = qs_get_f64(buf + 4);
	p.count = qs_get_u64(buf + 12);
	p.min = qs_get_f64(buf + 20);
	p.max = qs_get_f64(buf + 28);
	p.sum = qs_get_f64(buf + 36);
	if (qs_varint_get(&cur, end, &p.zero) || qs_varint_get(&cur, end, &nneg) ||
		qs_varint_get(&cur, end, &npos))
	{
		qs_fail(err, QS_ERR_MALFORMED, "truncated payload");
		return NULL;
	}
	if (nneg > QS_MAX_BUCKETS || npos > QS_MAX_BUCKETS)
	{
		qs_fail(err, QS_ERR_MALFORMED, "more than %d buckets in a store", QS_MAX_BUCKETS);
		return NULL;
	}
	if ((nneg + npos) * 2 > (uint64_t) (end - cur))
	{
		qs_fail(err, QS_ERR_MALFORMED, "payload of %zu bytes is too short for %llu buckets",
				(size_t) (end - cur), (unsigned long long) (nneg + npos));
		return NULL;
	}
	/* exact sizes, so the lists never grow */
	if (nneg > 0 && (p.neg.keys = qs_allocate(a, nneg * sizeof(int64_t), err)) == NULL)
		return NULL;
	if (nneg > 0 && (p.neg.counts = qs_allocate(a, nneg * sizeof(uint64_t), err)) == NULL)
		return NULL;
	if (npos > 0 && (p.pos.keys = qs_allocate(a, npos * sizeof(int64_t), err)) == NULL)
		return NULL;
	if (npos > 0 && (p.pos.counts = qs_allocate(a, npos * sizeof(uint64_t), err)) == NULL)
		return NULL;
	p.neg.cap = (uint32_t) nneg;
	p.pos.cap = (uint32_t) npos;
	if (qs_read_list(&cur, end, nneg, &p.neg, a, "negative", err) ||
		qs_read_list(&cur, end, npos, &p.pos, a, "positive", err))
		return NULL;
	if (cur != end)
	{
		qs_fail(err, QS_ERR_MALFORMED, "%zu trailing bytes after the buckets", (size_t) (end - cur));
		return NULL;
	}
	return qs_build(&p, a, err);
}

/*
 * Merging a compact stored form straight into a dense sketch.  The merge
 * aggregate reads a stored sketch per row; decoding it into a sketch of its
 * own (lists of buckets, then a dense array, then a bucket-by-bucket merge)
 * cost more than the rest of the query.  Here each bucket is checked as it
 * is decoded and added to dst's counts in place; what can only be checked at
 * the end (the span of a store, trailing bytes, the totals, min and max) is
 * checked at the end, before dst's header is touched.  Any failure is
 * diagnosed again by qs_compact_read (errors are rare), so the error is
 * exactly that of qs_merge(dst, qs_compact_read(...)).
 */

/* A varint read: the position after it (NULL if malformed) and its value. */
typedef struct qs_varint_read
{
	const uint8_t *p;
	uint64_t	v;
} qs_varint_read;

/* The general case of qs_varint_at, out of line. */
static qs_varint_read
qs_varint_at_slow(const uint8_t *p, const uint8_t *end)
{
	qs_varint_read r;

	r.p = qs_varint_get(&p, end, &r.v) ? NULL : p;
	return r;
}

/*
 * A varint, as qs_varint_get reads it; values below 2^21 (three bytes)
 * inline.  Everything passes by value, so that the bucket loop keeps its
 * position and values in registers.
 */
static inline qs_varint_read
qs_varint_at(const uint8_t *p, const uint8_t *end)
{
	qs_varint_read r;

	if (p < end && p[0] < 0x80)
	{
		r.v = p[0];
		r.p = p + 1;
	}
	else if (end - p >= 2 && p[1] < 0x80)
	{
		r.v = (uint64_t) (p[0] & 0x7f) | (uint64_t) p[1] << 7;
		r.p = p + 2;
	}
	else if (end - p >= 3 && p[2] < 0x80)
	{
		r.v = (uint64_t) (p[0] & 0x7f) | (uint64_t) (p[1] & 0x7f) << 7 | (uint64_t) p[2] << 14;
		r.p = p + 3;
	}
	else
		r = qs_varint_at_slow(p, end);
	return r;
}

/* qs_varint_get through qs_varint_at. */
static inline int
qs_varint_next(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	qs_varint_read r = qs_varint_at(*pp, end);

	if (r.p == NULL)
		return -1;
	*pp = r.p;
	*v = r.v;
	return 0;
}

/*
 * Decode nb >= 1 buckets of one store of a compact payload and add them to
 * dst's store; *hs receives the input store's lo, hi and n.  NULL on error.
 */
static qs_sketch *
qs_merge_compact_store(qs_sketch *dst, int positive, const uint8_t **pp, const uint8_t *end,
					   uint64_t nb, int32_t kmin, int32_t kmax, qs_store *hs,
					   const qs_alloc *a, qs_error *err)
{
	const char *name = positive ? "positive" : "negative";
	const uint8_t *p = *pp;
	qs_store   *st = positive ? &dst->pos : &dst->neg;
	uint64_t   *c;
	qs_varint_read r;
	uint64_t	i,
				cnt,
				n = 0,
				sn;
	int64_t		first,
				key,
				rlo,
				rhi;
	int32_t		base,
				lo,
				hi;
	uint32_t	cap;

	/* the first key, and room for at least nb keys from it unless that collapses */
	r = qs_varint_at(p, end);
	if (r.p == NULL)
		return qs_fail_null(err, QS_ERR_MALFORMED, "truncated %s bucket", name);
	p = r.p;
	first = key = qs_unzigzag(r.v);
	if (key < kmin || key > kmax)
		return qs_fail_null(err, QS_ERR_MALFORMED, "%s bucket key %lld is outside [%d, %d]",
							name, (long long) key, kmin, kmax);
	rlo = key;
	rhi = key + (int64_t) nb - 1 < kmax ? key + (int64_t) nb - 1 : kmax;
	if (st->n > 0)
	{
		rlo = st->lo < rlo ? st->lo : rlo;
		rhi = st->hi > rhi ? st->hi : rhi;
	}
	if (rhi - rlo + 1 <= QS_MAX_BUCKETS &&
		(dst = qs_make_room(dst, positive, (int32_t) rlo, (int32_t) rhi, a, err)) == NULL)
		return NULL;
	st = positive ? &dst->pos : &dst->neg;
	c = dst->counts + st->off;
	base = st->base;
	cap = st->cap;
	lo = st->lo;
	hi = st->hi;
	sn = st->n;
	for (i = 0;;)
	{
		uint32_t	idx;

		r = qs_varint_at(p, end);
		if (r.p == NULL)
			return qs_fail_null(err, QS_ERR_MALFORMED, "truncated %s bucket", name);
		p = r.p;
		cnt = r.v;
		if (cnt == 0)
			return qs_fail_null(err, QS_ERR_MALFORMED, "%s bucket %lld has count 0",
								name, (long long) key);
		if (cnt > QS_INT64_MAX - n)
			return qs_fail_null(err, QS_ERR_MALFORMED, "%s bucket counts overflow", name);
		n += cnt;
		/* no wrap-around: n and the store's count are at most INT64_MAX */
		idx = (uint32_t) ((int32_t) key - base);
		if (sn > 0 && idx < cap)
		{
			/* within the array, so within QS_MAX_BUCKETS keys: no collapse */
			c[idx] += cnt;
			sn += cnt;
			if ((int32_t) key < lo)
				lo = (int32_t) key;
			else if ((int32_t) key > hi)
				hi = (int32_t) key;
		}
		else
		{
			st->lo = lo;
			st->hi = hi;
			st->n = sn;
			if ((dst = qs_store_add(dst, positive, (int32_t) key, cnt, a, err)) == NULL)
				return NULL;
			st = positive ? &dst->pos : &dst->neg;
			c = dst->counts + st->off;
			base = st->base;
			cap = st->cap;
			lo = st->lo;
			hi = st->hi;
			sn = st->n;
		}
		if (++i == nb)
			break;
		r = qs_varint_at(p, end);
		if (r.p == NULL)
			return qs_fail_null(err, QS_ERR_MALFORMED, "truncated %s bucket", name);
		p = r.p;
		if (r.v >= QS_MAX_BUCKETS)
			return qs_fail_null(err, QS_ERR_MALFORMED, "%s store spans more than %d keys",
								name, QS_MAX_BUCKETS);
		key += (int64_t) r.v + 1;
		if (key - first >= QS_MAX_BUCKETS || key > kmax)
			return qs_fail_null(err, QS_ERR_MALFORMED,
								"%s bucket key %lld is outside [%d, %d] or spans more than %d keys",
								name, (long long) key, kmin, kmax, QS_MAX_BUCKETS);
	}
	st->lo = lo;
	st->hi = hi;
	st->n = sn;
	hs->base = hs->lo = (int32_t) first;
	hs->hi = (int32_t) key;
	hs->n = n;
	*pp = p;
	return dst;
}

/* qs_merge_compact without the diagnosis of errors. */
static qs_sketch *
qs_merge_compact_once(qs_sketch *dst, const uint8_t *buf, size_t len, const qs_alloc *a, qs_error *err)
{
	qs_sketch	h;				/* the input's header, no counts */
	const uint8_t *cur,
			   *end = buf + len;
	uint64_t	nneg,
				npos;
	int32_t		kmin,
				kmax;
	double		nsum;

	if (len < QS_COMPACT_HEADER)
		return qs_fail_null(err, QS_ERR_MALFORMED, "qsketch is shorter than its header");
	if (buf[0] != QS_VERSION)
		return qs_fail_null(err, QS_ERR_VERSION, "unsupported qsketch format version %u", buf[0]);
	if (buf[1] & ~QS_COMPACT_FLAGS || buf[2] != 0 || buf[3] != 0)
		return qs_fail_null(err, QS_ERR_MALFORMED, "unknown flags or reserved field not 0");
	memset(&h, 0, sizeof(h));
	h.version = QS_VERSION;
	h.flags = buf[1];
	h.alpha = qs_get_f64(buf + 4);
	h.count = qs_get_u64(buf + 12);
	h.min = qs_get_f64(buf + 20);
	h.max = qs_get_f64(buf + 28);
	h.sum = qs_get_f64(buf + 36);
	if (!(h.alpha >= QS_ALPHA_MIN && h.alpha <= QS_ALPHA_MAX))
		return qs_fail_null(err, QS_ERR_MALFORMED, "relative accuracy %g is outside [%g, %g]",
							h.alpha, QS_ALPHA_MIN, QS_ALPHA_MAX);
	if (h.alpha != dst->alpha)
		return qs_fail_null(err, QS_ERR_ALPHA_MISMATCH,
							"cannot merge a sketch of relative accuracy %g into one of %g",
							h.alpha, dst->alpha);
	h.inv_lg = qs_mult(h.alpha);
	qs_key_limits(h.inv_lg, &kmin, &kmax);
	cur = buf + QS_COMPACT_HEADER;
	if (qs_varint_next(&cur, end, &h.zero) || qs_varint_next(&cur, end, &nneg) ||
		qs_varint_next(&cur, end, &npos))
		return qs_fail_null(err, QS_ERR_MALFORMED, "truncated payload");
	if (nneg > QS_MAX_BUCKETS || npos > QS_MAX_BUCKETS || (nneg + npos) * 2 > (uint64_t) (end - cur))
		return qs_fail_null(err, QS_ERR_MALFORMED, "bad number of buckets");
	if (nneg > 0 &&
		(dst = qs_merge_compact_store(dst, 0, &cur, end, nneg, kmin, kmax, &h.neg, a, err)) == NULL)
		return NULL;
	if (npos > 0 &&
		(dst = qs_merge_compact_store(dst, 1, &cur, end, npos, kmin, kmax, &h.pos, a, err)) == NULL)
		return NULL;
	if ((h.flags & QS_FLAG_NEG_COLLAPSED) && (int64_t) h.neg.hi - h.neg.lo + 1 != QS_MAX_BUCKETS)
		return qs_fail_null(err, QS_ERR_MALFORMED, "collapsed negative store must span exactly %d keys",
							QS_MAX_BUCKETS);
	if ((h.flags & QS_FLAG_POS_COLLAPSED) && (int64_t) h.pos.hi - h.pos.lo + 1 != QS_MAX_BUCKETS)
		return qs_fail_null(err, QS_ERR_MALFORMED, "collapsed positive store must span exactly %d keys",
							QS_MAX_BUCKETS);
	if (cur != end)
		return qs_fail_null(err, QS_ERR_MALFORMED, "trailing bytes after the buckets");
	if (qs_validate_summary(&h, err))
		return NULL;
	nsum = dst->sum + h.sum;
	if (!isfinite(nsum) || h.count > QS_INT64_MAX - dst->count)
		return qs_fail_null(err, QS_ERR_OVERFLOW, "the sum or count of the merged sketch would overflow");
	dst->flags |= h.flags;
	dst->zero += h.zero;
	if (dst->count == 0 || h.min < dst->min)
		dst->min = h.min;
	if (dst->count == 0 || h.max > dst->max)
		dst->max = h.max;
	dst->count += h.count;
	dst->sum = nsum;
	return dst;
}

qs_sketch *
qs_merge_compact(qs_sketch *dst, const uint8_t *buf, size_t len, const qs_alloc *a, qs_error *err)
{
	qs_sketch  *r = qs_merge_compact_once(dst, buf, len, a, err);

	if (r == NULL)
	{
		qs_error	diag;

		/* a malformed input reports what the reference decoder reports */
		if (qs_compact_read(buf, len, a, &diag) == NULL)
			*err = diag;
	}
	return r;
}

qs_sketch *
qs_compact_decode(const uint8_t *buf, size_t len, const qs_alloc *a, qs_error *err)
{
	double		alpha;
	qs_sketch  *s;

	/* without a valid alpha there is nothing to merge into: the reference's error */
	if (len < QS_COMPACT_HEADER)
		return qs_compact_read(buf, len, a, err);
	alpha = qs_get_f64(buf + 4);
	if (!(alpha >= QS_ALPHA_MIN && alpha <= QS_ALPHA_MAX))
		return qs_compact_read(buf, len, a, err);
	if ((s = qs_create(alpha, a, err)) == NULL ||
		(s = qs_merge_compact(s, buf, len, a, err)) == NULL)
		return NULL;
	s->sum = qs_get_f64(buf + 36);	/* as stored, even -0 (0 + sum would be +0) */
	return s;
}


/* ------------------------------------------------------------------------
 * Text form
 * ------------------------------------------------------------------------
 */

/* Shortest text that reads back as the same double; plain digits if short. */
static void
qs_format_double(char *out, size_t n, double v)
{
	int			prec;

	if (fabs(v) >= 1e-4 && fabs(v) < 1e15)
	{
		for (prec = 0; prec <= 22; prec++)
		{
			snprintf(out, n, "%.*f", prec, v);
			if (strtod(out, NULL) == v)
				return;
		}
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(out, n, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

typedef struct qs_writer
{
	char	   *buf;
	size_t		len;
	size_t		cap;
} qs_writer;

static void qs_emit(qs_writer *w, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
qs_emit(qs_writer *w, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t) n < w->cap - w->len ? (size_t) n : w->cap - w->len - 1;
}

static void
qs_emit_store(qs_writer *w, const qs_sketch *s, const qs_store *st)
{
	int32_t		k;
	int			first = 1;

	qs_emit(w, "{");
	if (st->n > 0)
	{
		for (k = st->lo; k <= st->hi; k++)
		{
			uint64_t	c = s->counts[st->off + (uint32_t) (k - st->base)];

			if (c == 0)
				continue;
			qs_emit(w, "%s\"%d\":%llu", first ? "" : ",", (int) k, (unsigned long long) c);
			first = 0;
		}
	}
	qs_emit(w, "}");
}

char *
qs_text_write(const qs_sketch *s, const qs_alloc *a, qs_error *err)
{
	qs_writer	w;
	char		alpha[32],
				min[32],
				max[32],
				sum[32];

	/* per bucket at most 35 characters: ,"-5000000":18446744073709551615 */
	w.cap = 512 + 36 * (size_t) qs_bucket_count(s);
	w.len = 0;
	w.buf = qs_allocate(a, w.cap, err);
	if (w.buf == NULL)
		return NULL;
	w.buf[0] = '\0';
	qs_format_double(alpha, sizeof(alpha), s->alpha);
	qs_format_double(min, sizeof(min), s->min);
	qs_format_double(max, sizeof(max), s->max);
	qs_format_double(sum, sizeof(sum), s->sum);
	qs_emit(&w, "{\"version\":%d,\"alpha\":%s,\"count\":%llu,\"min\":%s,\"max\":%s,\"sum\":%s,"
			"\"flags\":%d,\"zero\":%llu,\"negative\":",
			QS_VERSION, alpha, (unsigned long long) s->count, min, max, sum,
			s->flags & QS_COMPACT_FLAGS, (unsigned long long) s->zero);
	qs_emit_store(&w, s, &s->neg);
	qs_emit(&w, ",\"positive\":");
	qs_emit_store(&w, s, &s->pos);
	qs_emit(&w, "}");
	return w.buf;
}

typedef struct qs_lexer
{
	const char *start;
	const char *p;
	qs_error   *err;
} qs_lexer;

static void
qs_skip_ws(qs_lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
		lx->p++;
}

static int
qs_lex_fail(qs_lexer *lx, const char *what)
{
	return qs_fail(lx->err, QS_ERR_MALFORMED, "expected %s at character %d",
				   what, (int) (lx->p - lx->start) + 1);
}

static int
qs_expect(qs_lexer *lx, char c, const char *what)
{
	qs_skip_ws(lx);
	if (*lx->p != c)
		return qs_lex_fail(lx, what);
	lx->p++;
	return 0;
}

/* A quoted name of letters, digits, '_' and '-'. */
static int
qs_read_name(qs_lexer *lx, char *out, size_t cap, const char *what)
{
	size_t		n = 0;

	if (qs_expect(lx, '"', what))
		return -1;
	while ((*lx->p >= 'a' && *lx->p <= 'z') || (*lx->p >= '0' && *lx->p <= '9') ||
		   *lx->p == '_' || *lx->p == '-')
	{
		if (n + 1 >= cap)
			return qs_lex_fail(lx, "a shorter name");
		out[n++] = *lx->p++;
	}
	out[n] = '\0';
	if (*lx->p != '"' || n == 0)
		return qs_lex_fail(lx, what);
	lx->p++;
	return 0;
}

/* A number token: digits, sign, '.', 'e' (so never "nan" or "inf"). */
static int
qs_read_token(qs_lexer *lx, char *out, size_t cap)
{
	size_t		n = 0;

	qs_skip_ws(lx);
	while ((*lx->p >= '0' && *lx->p <= '9') || *lx->p == '-' || *lx->p == '+' ||
		   *lx->p == '.' || *lx->p == 'e' || *lx->p == 'E')
	{
		if (n + 1 >= cap)
			return qs_lex_fail(lx, "a shorter number");
		out[n++] = *lx->p++;
	}
	out[n] = '\0';
	if (n == 0)
		return qs_lex_fail(lx, "a number");
	return 0;
}

static int
qs_read_double(qs_lexer *lx, double *v, const char *name)
{
	char		tok[64];
	char	   *end;

	if (qs_read_token(lx, tok, sizeof(tok)))
		return -1;
	errno = 0;
	*v = strtod(tok, &end);
	if (*end != '\0' || end == tok)
		return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid number \"%s\" for %s", tok, name);
	if (!isfinite(*v))
		return qs_fail(lx->err, QS_ERR_MALFORMED, "%s \"%s\" is not a finite number", name, tok);
	return 0;
}

/* An unsigned integer no larger than max (digits only). */
static int
qs_parse_uint(qs_lexer *lx, const char *tok, uint64_t max, uint64_t *v, const char *name)
{
	const char *c = tok;
	uint64_t	r = 0;

	if (*c == '\0')
		return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid integer \"%s\" for %s", tok, name);
	for (; *c; c++)
	{
		if (*c < '0' || *c > '9')
			return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid integer \"%s\" for %s", tok, name);
		if (r > (max - (uint64_t) (*c - '0')) / 10)
			return qs_fail(lx->err, QS_ERR_MALFORMED, "%s %s is out of range", name, tok);
		r = r * 10 + (uint64_t) (*c - '0');
	}
	*v = r;
	return 0;
}

static int
qs_read_uint(qs_lexer *lx, uint64_t max, uint64_t *v, const char *name)
{
	char		tok[64];

	if (qs_read_token(lx, tok, sizeof(tok)))
		return -1;
	return qs_parse_uint(lx, tok, max, v, name);
}

/* A bucket object {"key":count, ...}. */
static int
qs_read_buckets(qs_lexer *lx, qs_bucket_list *l, const qs_alloc *a, const char *name)
{
	if (qs_expect(lx, '{', "\"{\""))
		return -1;
	qs_skip_ws(lx);
	if (*lx->p == '}')
	{
		lx->p++;
		return 0;
	}
	for (;;)
	{
		char		key[16];
		uint64_t	mag,
					count;
		int			neg;

		if (qs_read_name(lx, key, sizeof(key), "a quoted bucket key"))
			return -1;
		neg = key[0] == '-';
		if (qs_parse_uint(lx, key + neg, (uint64_t) QS_KEY_BOUND, &mag, "bucket key"))
			return -1;
		if (qs_expect(lx, ':', "\":\"") ||
			qs_read_uint(lx, QS_INT64_MAX, &count, "bucket count"))
			return -1;
		if (qs_list_push(l, neg ? -(int64_t) mag : (int64_t) mag, count, a, name, lx->err))
			return -1;
		qs_skip_ws(lx);
		if (*lx->p == '}')
		{
			lx->p++;
			return 0;
		}
		if (qs_expect(lx, ',', "\",\" or \"}\""))
			return -1;
	}
}

qs_sketch *
qs_text_read(const char *str, const qs_alloc *a, qs_error *err)
{
	static const char *const names[] = {"version", "alpha", "count", "min", "max", "sum",
	"flags", "zero", "negative", "positive"};
	const int	nnames = (int) (sizeof(names) / sizeof(names[0]));
	qs_parsed	p;
	qs_lexer	lx;
	unsigned	seen = 0;
	int			i;

	memset(&p, 0, sizeof(p));
	lx.start = lx.p = str;
	lx.err = err;
	if (qs_expect(&lx, '{', "\"{\""))
		return NULL;
	for (;;)
	{
		char		name[16];
		uint64_t	version;
		int			rc = 0;

		if (qs_read_name(&lx, name, sizeof(name), "a quoted field name"))
			return NULL;
		for (i = 0; i < nnames; i++)
			if (strcmp(name, names[i]) == 0)
				break;
		if (i == nnames)
		{
			qs_fail(err, QS_ERR_MALFORMED, "unknown field \"%s\"", name);
			return NULL;
		}
		if (seen & (1u << i))
		{
			qs_fail(err, QS_ERR_MALFORMED, "field \"%s\" appears twice", name);
			return NULL;
		}
		seen |= 1u << i;
		if (qs_expect(&lx, ':', "\":\""))
			return NULL;
		switch (i)
		{
			case 0:
				rc = qs_read_uint(&lx, 255, &version, "version");
				if (rc == 0 && version != QS_VERSION)
				{
					qs_fail(err, QS_ERR_VERSION, "unsupported qsketch format version %llu",
							(unsigned long long) version);
					return NULL;
				}
				break;
			case 1:
				rc = qs_read_double(&lx, &p.alpha, "alpha");
				break;
			case 2:
				rc = qs_read_uint(&lx, QS_INT64_MAX, &p.count, "count");
				break;
			case 3:
				rc = qs_read_double(&lx, &p.min, "min");
				break;
			case 4:
				rc = qs_read_double(&lx, &p.max, "max");
				break;
			case 5:
				rc = qs_read_double(&lx, &p.sum, "sum");
				break;
			case 6:
				rc = qs_read_uint(&lx, 255, &p.flags, "flags");
				break;
			case 7:
				rc = qs_read_uint(&lx, QS_INT64_MAX, &p.zero, "zero");
				break;
			case 8:
				rc = qs_read_buckets(&lx, &p.neg, a, "negative");
				break;
			default:
				rc = qs_read_buckets(&lx, &p.pos, a, "positive");
				break;
		}
		if (rc)
			return NULL;
		qs_skip_ws(&lx);
		if (*lx.p == '}')
		{
			lx.p++;
			break;
		}
		if (qs_expect(&lx, ',', "\",\" or \"}\""))
			return NULL;
	}
	qs_skip_ws(&lx);
	if (*lx.p != '\0')
	{
		qs_lex_fail(&lx, "the end of the input");
		return NULL;
	}
	for (i = 0; i < nnames; i++)
	{
		/* "flags" may be left out */
		if (i != 6 && !(seen & (1u << i)))
		{
			qs_fail(err, QS_ERR_MALFORMED, "missing field \"%s\"", names[i]);
			return NULL;
		}
	}
	return qs_build(&p, a, err);
}
