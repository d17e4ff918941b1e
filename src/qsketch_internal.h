/*
 * qsketch_internal.h: what the files of the quantile sketch share beyond the
 * public qsketch_core.h: error helpers, the mapping's limits, the store
 * updates the decoders call, and the fields of a sketch as a reader parsed
 * them, before validation (qs_build checks them and makes the dense sketch).
 * Plain C, no postgres.h.
 */
#ifndef QSKETCH_INTERNAL_H
#define QSKETCH_INTERNAL_H

#include "qsketch_core.h"

#define QS_INT64_MAX	((uint64_t) INT64_MAX)
/* |key| and |base| stay far below this, so key arithmetic cannot overflow. */
#define QS_KEY_BOUND	5000000

/* Fill err with code and the formatted detail; return -1 (NULL). */
extern int	qs_fail(qs_error *err, qs_status code, const char *fmt,...) __attribute__((format(printf, 3, 4)));
extern void *qs_fail_null(qs_error *err, qs_status code, const char *fmt,...) __attribute__((format(printf, 3, 4)));
extern void *qs_allocate(const qs_alloc *a, size_t size, qs_error *err);

/* The mapping. */
extern double qs_mult(double alpha);
extern void qs_key_limits(double inv_lg, int32_t *kmin, int32_t *kmax);

/* Stores. */
extern qs_sketch *qs_make_room(qs_sketch *s, int positive, int32_t nlo, int32_t nhi,
							   const qs_alloc *a, qs_error *err);
extern qs_sketch *qs_store_add(qs_sketch *s, int positive, int32_t k, uint64_t c,
							   const qs_alloc *a, qs_error *err);
extern int	qs_validate_summary(const qs_sketch *s, qs_error *err);

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

extern int	qs_list_push(qs_bucket_list *l, int64_t key, uint64_t count, const qs_alloc *a,
						 const char *name, qs_error *err);
extern qs_sketch *qs_build(const qs_parsed *p, const qs_alloc *a, qs_error *err);

#endif							/* QSKETCH_INTERNAL_H */
