/*
 * qsketch_compact.c: the compact stored form of the quantile sketch (what is
 * written to disk and sent over the wire); see qsketch_core.h.
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
 *
 * One header decoder, qs_compact_header, serves both decoders: the
 * reference decoder qs_compact_read (bucket lists, then a dense sketch; it
 * diagnoses every malformed input) and the one-pass qs_merge_compact (each
 * bucket decoded straight into a sketch's counts), through which
 * qs_compact_decode reads a stored value.
 */
#include "qsketch_internal.h"

#include <math.h>
#include <string.h>

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

/* A compact header and the three counts after it, as read and checked. */
typedef struct qs_compact_head
{
	uint8_t		flags;			/* not checked here */
	double		alpha;			/* not checked here */
	uint64_t	count;
	double		min;
	double		max;
	double		sum;
	uint64_t	zero;
	uint64_t	nneg;
	uint64_t	npos;
	const uint8_t *payload;		/* the first bucket */
} qs_compact_head;

/*
 * The one header decoder: length, version, reserved field, the fixed fields,
 * the zero-bucket count and the numbers of buckets, bounded by the bytes
 * left.  Flags and alpha are left to the caller (qs_build checks them for
 * qs_compact_read, whose error order this is).
 */
static int
qs_compact_header(const uint8_t *buf, size_t len, qs_compact_head *h, qs_error *err)
{
	const uint8_t *end = buf + len;

	if (len < QS_COMPACT_HEADER)
		return qs_fail(err, QS_ERR_MALFORMED, "qsketch of %zu bytes is shorter than its %d-byte header",
					   len, QS_COMPACT_HEADER);
	if (buf[0] != QS_VERSION)
		return qs_fail(err, QS_ERR_VERSION, "unsupported qsketch format version %u", buf[0]);
	if (buf[2] != 0 || buf[3] != 0)
		return qs_fail(err, QS_ERR_MALFORMED, "reserved field is %u, not 0", buf[2] | (buf[3] << 8));
	h->flags = buf[1];
	h->alpha = qs_get_f64(buf + 4);
	h->count = qs_get_u64(buf + 12);
	h->min = qs_get_f64(buf + 20);
	h->max = qs_get_f64(buf + 28);
	h->sum = qs_get_f64(buf + 36);
	h->payload = buf + QS_COMPACT_HEADER;
	if (qs_varint_get(&h->payload, end, &h->zero) || qs_varint_get(&h->payload, end, &h->nneg) ||
		qs_varint_get(&h->payload, end, &h->npos))
		return qs_fail(err, QS_ERR_MALFORMED, "truncated payload");
	if (h->nneg > QS_MAX_BUCKETS || h->npos > QS_MAX_BUCKETS)
		return qs_fail(err, QS_ERR_MALFORMED, "more than %d buckets in a store", QS_MAX_BUCKETS);
	if ((h->nneg + h->npos) * 2 > (uint64_t) (end - h->payload))
		return qs_fail(err, QS_ERR_MALFORMED, "payload of %zu bytes is too short for %llu buckets",
					   (size_t) (end - h->payload), (unsigned long long) (h->nneg + h->npos));
	return 0;
}

/* The reference decoder: bucket lists, then qs_build; diagnoses every error. */
qs_sketch *
qs_compact_read(const uint8_t *buf, size_t len, const qs_alloc *a, qs_error *err)
{
	qs_compact_head h;
	qs_parsed	p;
	const uint8_t *cur,
			   *end = buf + len;
	uint64_t	nneg,
				npos;

	if (qs_compact_header(buf, len, &h, err))
		return NULL;
	memset(&p, 0, sizeof(p));
	p.flags = h.flags;
	p.alpha = h.alpha;
	p.count = h.count;
	p.min = h.min;
	p.max = h.max;
	p.sum = h.sum;
	p.zero = h.zero;
	nneg = h.nneg;
	npos = h.npos;
	cur = h.payload;
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
	qs_compact_head hd;
	qs_sketch	h;				/* the input's header, no counts */
	const uint8_t *cur,
			   *end = buf + len;
	int32_t		kmin,
				kmax;
	double		nsum;

	/* (any error is diagnosed again by qs_compact_read: only the code path differs) */
	if (qs_compact_header(buf, len, &hd, err))
		return NULL;
	if (hd.flags & ~QS_COMPACT_FLAGS)
		return qs_fail_null(err, QS_ERR_MALFORMED, "unknown flags 0x%02x", hd.flags);
	if (!(hd.alpha >= QS_ALPHA_MIN && hd.alpha <= QS_ALPHA_MAX))
		return qs_fail_null(err, QS_ERR_MALFORMED, "relative accuracy %g is outside [%g, %g]",
							hd.alpha, QS_ALPHA_MIN, QS_ALPHA_MAX);
	if (hd.alpha != dst->alpha)
		return qs_fail_null(err, QS_ERR_ALPHA_MISMATCH,
							"cannot merge a sketch of relative accuracy %g into one of %g",
							hd.alpha, dst->alpha);
	memset(&h, 0, sizeof(h));
	h.version = QS_VERSION;
	h.flags = hd.flags;
	h.alpha = hd.alpha;
	h.count = hd.count;
	h.min = hd.min;
	h.max = hd.max;
	h.sum = hd.sum;
	h.zero = hd.zero;
	h.inv_lg = qs_mult(h.alpha);
	qs_key_limits(h.inv_lg, &kmin, &kmax);
	cur = hd.payload;
	if (hd.nneg > 0 &&
		(dst = qs_merge_compact_store(dst, 0, &cur, end, hd.nneg, kmin, kmax, &h.neg, a, err)) == NULL)
		return NULL;
	if (hd.npos > 0 &&
		(dst = qs_merge_compact_store(dst, 1, &cur, end, hd.npos, kmin, kmax, &h.pos, a, err)) == NULL)
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
	qs_compact_head hd;
	qs_sketch  *s;

	/* a bad header: the reference's error, which is the header's */
	if (qs_compact_header(buf, len, &hd, err))
		return NULL;
	/* without a valid alpha there is nothing to merge into: the reference's error */
	if (!(hd.alpha >= QS_ALPHA_MIN && hd.alpha <= QS_ALPHA_MAX))
		return qs_compact_read(buf, len, a, err);
	if ((s = qs_create(hd.alpha, a, err)) == NULL ||
		(s = qs_merge_compact(s, buf, len, a, err)) == NULL)
		return NULL;
	s->sum = hd.sum;			/* as stored, even -0 (0 + sum would be +0) */
	return s;
}

