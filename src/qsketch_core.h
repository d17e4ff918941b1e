/*
 * qsketch_core.h: the quantile sketch algorithm in plain C (no postgres.h).
 *
 * Vocabulary.  A "sketch" summarises a multiset of finite float8 values with
 * a relative-accuracy guarantee alpha (DDSketch: Masson, Rim, Lee, VLDB 2019).
 * gamma = (1 + alpha) / (1 - alpha).  A value v with |v| >= QS_MIN_INDEXABLE
 * falls in the "bucket" of "key" k = ceil(L(|v|) * 7 / (10 ln gamma)) of the
 * positive or the negative "store" (by its sign), where L is a fast, exactly
 * reproducible approximation of log2 (see qsketch_core.c) whose buckets span
 * at most a factor gamma; smaller magnitudes (zero, subnormals) are counted
 * in the "zero bucket".  A bucket reports the harmonic mean of its bounds,
 * within alpha of every value in it.
 *
 * Each store holds at most QS_MAX_BUCKETS consecutive keys.  When a store
 * would span more, its lowest keys (smallest magnitudes) are "collapsed" into
 * the lowest key kept, T = highest key - QS_MAX_BUCKETS + 1, and the store's
 * collapsed flag is set.  Every value keeps key max(k, T), whatever the order
 * of insertion or merging, so merging stays exact.
 *
 * Two representations of the SQL type analytics.qsketch share the first
 * bytes (a varlena header, then version and flags):
 *  - the "dense" working form (struct qs_sketch, flag QS_FLAG_DENSE): a fixed
 *    header, then one contiguous counts array per store, updated in place by
 *    the aggregates;
 *  - the "compact" stored form: QS_COMPACT_HEADER bytes little-endian
 *    (version, flags, reserved, alpha, count, min, max, sum), then varints
 *    (see qsketch_core.c).  Every reader validates it fully.
 */
#ifndef QSKETCH_CORE_H
#define QSKETCH_CORE_H

#include <stddef.h>
#include <stdint.h>

#define QS_VERSION				1
#define QS_FLAG_POS_COLLAPSED	0x01
#define QS_FLAG_NEG_COLLAPSED	0x02
#define QS_FLAG_DENSE			0x80
#define QS_COMPACT_FLAGS		(QS_FLAG_POS_COLLAPSED | QS_FLAG_NEG_COLLAPSED)

#define QS_MAX_BUCKETS			4096	/* keys per store (sign) */
#define QS_ALPHA_MIN			1e-4
#define QS_ALPHA_MAX			0.5
#define QS_ALPHA_DEFAULT		0.01
#define QS_MIN_INDEXABLE		2.2250738585072014e-308 /* DBL_MIN */

#define QS_COMPACT_HEADER		44	/* bytes before the varint payload */
#define QS_DENSE_HEADER			128 /* sizeof(qs_sketch), varlena header included */

typedef enum qs_status
{
	QS_OK = 0,
	QS_ERR_NONFINITE,			/* NaN or infinite input value */
	QS_ERR_ALPHA,				/* relative accuracy out of range */
	QS_ERR_ALPHA_MISMATCH,		/* merging sketches of different alpha */
	QS_ERR_OVERFLOW,			/* sum or count out of range */
	QS_ERR_QUANTILE,			/* quantile outside [0, 1] or NaN */
	QS_ERR_MALFORMED,			/* bad bytes or text */
	QS_ERR_VERSION,				/* unknown format version */
	QS_ERR_NOMEM				/* the allocator returned NULL */
} qs_status;

typedef struct qs_error
{
	qs_status	code;
	char		detail[200];
} qs_error;

/* Allocator supplied by the caller: palloc in the server, malloc in tests. */
typedef void *(*qs_alloc_fn) (size_t size, void *arg);

typedef struct qs_alloc
{
	qs_alloc_fn fn;
	void	   *arg;
} qs_alloc;

/* One store: counts[off .. off + cap) hold keys base .. base + cap - 1. */
typedef struct qs_store
{
	int32_t		base;
	int32_t		lo;				/* lowest non-empty key, if n > 0 */
	int32_t		hi;				/* highest non-empty key, if n > 0 */
	uint32_t	cap;
	uint32_t	off;
	uint32_t	pad;			/* zero */
	uint64_t	n;				/* values in this store */
} qs_store;

/* The dense working form; QS_DENSE_HEADER bytes, then the counts. */
typedef struct qs_sketch
{
	uint32_t	vl_len_;		/* varlena header, owned by the glue */
	uint8_t		version;
	uint8_t		flags;
	uint16_t	reserved;		/* zero */
	double		alpha;
	double		inv_lg;			/* key multiplier 7 / (10 ln gamma), from alpha */
	double		min;
	double		max;
	double		sum;
	uint64_t	count;
	uint64_t	zero;
	qs_store	pos;
	qs_store	neg;
	uint64_t	counts[];
} qs_sketch;

/* Checks and sizes. */
extern int	qs_check_alpha(double alpha, qs_error *err);
extern int	qs_check_quantile(double q, qs_error *err);
extern size_t qs_dense_size(const qs_sketch *s);
extern int	qs_dense_check_header(const void *buf, size_t len, qs_error *err);
extern int	qs_dense_validate(const void *buf, size_t len, qs_error *err);

/* Building and updating (may return a new, larger sketch; NULL on error). */
extern qs_sketch *qs_create(double alpha, const qs_alloc *a, qs_error *err);
extern qs_sketch *qs_copy(const qs_sketch *s, const qs_alloc *a, qs_error *err);
extern qs_sketch *qs_add(qs_sketch *s, double v, const qs_alloc *a, qs_error *err);
/*
 * n observations of v at once, in O(1) bucket work: the same buckets, count,
 * min and max as n calls of qs_add (collapse included), the sum grown by
 * v * n (rounded once); n = 0 returns s unchanged without looking at v.  A
 * count beyond INT64_MAX or a non-finite sum is QS_ERR_OVERFLOW, with s
 * unchanged.
 */
extern qs_sketch *qs_add_n(qs_sketch *s, double v, uint64_t n,
						   const qs_alloc *a, qs_error *err);
extern qs_sketch *qs_merge(qs_sketch *dst, const qs_sketch *src,
						   const qs_alloc *a, qs_error *err);

/* Queries on a valid sketch with count >= 1. */
extern double qs_quantile(const qs_sketch *s, double q);
extern uint32_t qs_bucket_count(const qs_sketch *s);
extern double qs_key_upper(const qs_sketch *s, int32_t key);

/* Compact stored form: body bytes after the varlena header. */
extern size_t qs_compact_size(const qs_sketch *s);
extern void qs_compact_write(const qs_sketch *s, uint8_t *out);
extern qs_sketch *qs_compact_read(const uint8_t *buf, size_t len,
								  const qs_alloc *a, qs_error *err);

/*
 * Merge a compact stored form into dst in one pass, decoding each bucket
 * straight into dst's counts with every check of qs_compact_read: the same
 * result, and the same error, as qs_merge(dst, qs_compact_read(buf, len)),
 * with no allocation unless dst must grow.  On error dst may have been
 * partly updated (or moved): the caller discards it.
 */
extern qs_sketch *qs_merge_compact(qs_sketch *dst, const uint8_t *buf, size_t len,
								   const qs_alloc *a, qs_error *err);

/* qs_compact_read in one pass (qs_merge_compact into an empty sketch): same result, same errors. */
extern qs_sketch *qs_compact_decode(const uint8_t *buf, size_t len,
									const qs_alloc *a, qs_error *err);

/* Text form (JSON). */
extern char *qs_text_write(const qs_sketch *s, const qs_alloc *a, qs_error *err);
extern qs_sketch *qs_text_read(const char *str, const qs_alloc *a, qs_error *err);

#endif							/* QSKETCH_CORE_H */
