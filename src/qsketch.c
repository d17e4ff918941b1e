/*
 * qsketch.c: PostgreSQL glue of the quantile sketch type analytics.qsketch.
 *
 * Vocabulary (see qsketch_core.h for the algorithm): a qsketch Datum holds
 * either the "compact" stored form (what every function returns outside an
 * aggregate, what in/recv produce and what is written to disk) or the
 * "dense" working form, the aggregate state updated in place.  Every value
 * read from a Datum is validated: compact values are decoded with full
 * checks (qsketch_merge decodes them straight into its state, in one pass),
 * dense values from anywhere but our own in-place aggregate state are
 * checked in full, and our own state gets the O(1) shape checks that keep
 * every index in bounds.
 *
 * Memory (aggstate.c, the same for every aggregate of ours): a new or grown
 * state is built in the current (per-tuple) context and handed over to
 * nodeAgg, which copies it into the aggregate context; an existing state is
 * updated in place and returned as is, without copying.
 */
#include "analytics.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "qsketch_core.h"

PG_FUNCTION_INFO_V1(qsketch_in);
PG_FUNCTION_INFO_V1(qsketch_out);
PG_FUNCTION_INFO_V1(qsketch_recv);
PG_FUNCTION_INFO_V1(qsketch_send);
PG_FUNCTION_INFO_V1(qsketch_from_bytes);
PG_FUNCTION_INFO_V1(qsketch_to_bytes);
PG_FUNCTION_INFO_V1(qsketch_trans);
PG_FUNCTION_INFO_V1(qsketch_trans_accuracy);
PG_FUNCTION_INFO_V1(qsketch_trans_n);
PG_FUNCTION_INFO_V1(qsketch_trans_n_accuracy);
PG_FUNCTION_INFO_V1(qsketch_combine);
PG_FUNCTION_INFO_V1(qsketch_final);
PG_FUNCTION_INFO_V1(qsketch_quantile);
PG_FUNCTION_INFO_V1(qsketch_quantiles);
PG_FUNCTION_INFO_V1(qsketch_count);
PG_FUNCTION_INFO_V1(qsketch_min);
PG_FUNCTION_INFO_V1(qsketch_max);
PG_FUNCTION_INFO_V1(qsketch_mean);
PG_FUNCTION_INFO_V1(qsketch_sum);
PG_FUNCTION_INFO_V1(qsketch_relative_accuracy);
PG_FUNCTION_INFO_V1(qsketch_bucket_count);

/* Where a malformed value came from decides its SQLSTATE and message. */
typedef enum QSketchSource
{
	QSKETCH_SOURCE_TEXT,		/* qsketch_in */
	QSKETCH_SOURCE_BINARY,		/* qsketch_recv, qsketch_from_bytes */
	QSKETCH_SOURCE_DATUM		/* a stored or passed qsketch value */
} QSketchSource;

/* The core's allocator: the current memory context. */
static void *
qsketch_palloc(size_t size, void *arg)
{
	return palloc(size);
}

static const qs_alloc qsketch_alloc = {qsketch_palloc, NULL};

/* Turn a core error into an ereport. */
static void
qsketch_report(const qs_error *err, QSketchSource source)
{
	switch (err->code)
	{
		case QS_ERR_NONFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qsketch cannot summarize a non-finite value"),
					 errdetail("%s.", err->detail),
					 errhint("Filter the values first, e.g. WHERE v > '-Infinity' AND v < 'Infinity', which also drops NaN.")));
			break;
		case QS_ERR_ALPHA:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("qsketch relative accuracy out of range"),
					 errdetail("%s.", err->detail),
					 errhint("Use a relative_accuracy between %g and %g; the default is %g.",
							 QS_ALPHA_MIN, QS_ALPHA_MAX, QS_ALPHA_DEFAULT)));
			break;
		case QS_ERR_ALPHA_MISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot merge qsketches of different relative accuracy"),
					 errdetail("%s.", err->detail),
					 errhint("Merge only sketches built with the same relative_accuracy.")));
			break;
		case QS_ERR_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("qsketch sum or count out of range"),
					 errdetail("%s.", err->detail)));
			break;
		case QS_ERR_QUANTILE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("quantile out of range"),
					 errdetail("%s.", err->detail),
					 errhint("A quantile is between 0 and 1, e.g. 0.95 for the 95th percentile.")));
			break;
		case QS_ERR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("%s.", err->detail)));
			break;
		default:
			if (source == QSKETCH_SOURCE_TEXT)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type analytics.qsketch"),
						 errdetail("%s.", err->detail),
						 errhint("The text form is {\"version\":1,\"alpha\":...,\"count\":...,\"min\":...,\"max\":...,\"sum\":...,\"zero\":...,\"negative\":{...},\"positive\":{...}}, as analytics.qsketch output shows.")));
			else if (source == QSKETCH_SOURCE_BINARY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid binary value for type analytics.qsketch"),
						 errdetail("%s.", err->detail)));
			else
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("corrupted analytics.qsketch value"),
						 errdetail("%s.", err->detail)));
			break;
	}
}

/*
 * A validated dense sketch of a Datum.  *fresh tells whether it is a new
 * allocation the caller may keep and modify; otherwise it may point into
 * the Datum and must not be modified.
 */
static const qs_sketch *
qsketch_read(Datum d, bool *fresh)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
	const uint8 *body = (const uint8 *) VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	qs_error	err;
	qs_sketch  *s;

	if (fresh)
		*fresh = true;
	if (len >= 2 && (body[1] & QS_FLAG_DENSE))
	{
		struct varlena *full = PG_DETOAST_DATUM(d);

		if ((uintptr_t) full % MAXIMUM_ALIGNOF != 0)
		{
			struct varlena *copy = palloc(VARSIZE(full));

			memcpy(copy, full, VARSIZE(full));
			full = copy;
		}
		else if (fresh && full == (struct varlena *) DatumGetPointer(d))
			*fresh = false;
		if (qs_dense_validate(full, VARSIZE(full), &err))
			qsketch_report(&err, QSKETCH_SOURCE_DATUM);
		return (const qs_sketch *) full;
	}
	s = qs_compact_decode(body, len, &qsketch_alloc, &err);
	if (s == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	return s;
}

/* The compact stored form of a sketch, as a varlena (also a valid bytea). */
static struct varlena *
qsketch_to_compact(const qs_sketch *s)
{
	size_t		size = qs_compact_size(s);
	struct varlena *result;

	if (size > MaxAllocSize - VARHDRSZ)
		elog(ERROR, "qsketch of %zu bytes is too large", size);
	result = palloc(VARHDRSZ + size);
	SET_VARSIZE(result, VARHDRSZ + size);
	qs_compact_write(s, (uint8_t *) VARDATA(result));
	return result;
}

/* Parse untrusted binary bytes into the compact form. */
static struct varlena *
qsketch_from_binary(const char *bytes, size_t len)
{
	qs_error	err;
	qs_sketch  *s = qs_compact_decode((const uint8_t *) bytes, len, &qsketch_alloc, &err);

	if (s == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_BINARY);
	return qsketch_to_compact(s);
}

/*
 * The state of argument argno, ready to be modified: our own dense state in
 * place inside an aggregate (aggstate.c; O(1) header checks), else a
 * validated private copy.
 */
static qs_sketch *
qsketch_state(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *raw = analytics_agg_own_state(fcinfo, argno);
	const qs_sketch *s;
	bool		fresh;
	qs_error	err;

	if (raw != NULL && VARSIZE(raw) >= QS_DENSE_HEADER &&
		(((const uint8 *) raw)[5] & QS_FLAG_DENSE))
	{
		if (qs_dense_check_header(raw, VARSIZE(raw), &err))
			qsketch_report(&err, QSKETCH_SOURCE_DATUM);
		return (qs_sketch *) raw;
	}
	s = qsketch_read(PG_GETARG_DATUM(argno), &fresh);
	if (fresh)
		return (qs_sketch *) s;
	s = qs_copy(s, &qsketch_alloc, &err);
	if (s == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	return (qs_sketch *) s;
}

/* Return a state: dense in an aggregate, compact when called directly. */
static Datum
qsketch_return(qs_sketch *s, bool inagg)
{
	if (!inagg)
		return PointerGetDatum(qsketch_to_compact(s));
	SET_VARSIZE(s, qs_dense_size(s));
	return PointerGetDatum(s);
}

/* A skipped row: the state as it is (its stored form when called directly). */
static Datum
qsketch_keep(FunctionCallInfo fcinfo, bool inagg)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (inagg)
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	PG_RETURN_POINTER(qsketch_to_compact(qsketch_read(PG_GETARG_DATUM(0), NULL)));
}

/*
 * Shared body of the transition functions: adds n >= 1 observations of the
 * value (argument 1; NULL is skipped).
 */
static Datum
qsketch_trans_common(FunctionCallInfo fcinfo, double alpha, bool check_alpha, uint64 n)
{
	bool		inagg = AggCheckCallContext(fcinfo, NULL) != 0;
	qs_sketch  *s;
	qs_error	err;

	if (PG_ARGISNULL(1))
		return qsketch_keep(fcinfo, inagg);
	if (PG_ARGISNULL(0))
	{
		s = qs_create(alpha, &qsketch_alloc, &err);
		if (s == NULL)
			qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	}
	else
	{
		s = qsketch_state(fcinfo, 0);
		if (check_alpha && s->alpha != alpha)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relative_accuracy changed within one qsketch"),
					 errdetail("The sketch has relative accuracy %g, the row asks for %g.", s->alpha, alpha),
					 errhint("Pass the same relative_accuracy for every row of a group.")));
	}
	if (n == 1)
		s = qs_add(s, PG_GETARG_FLOAT8(1), &qsketch_alloc, &err);
	else
		s = qs_add_n(s, PG_GETARG_FLOAT8(1), n, &qsketch_alloc, &err);
	if (s == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	return qsketch_return(s, inagg);
}

/* Transition function of qsketch_agg(float8): adds a value. */
Datum
qsketch_trans(PG_FUNCTION_ARGS)
{
	double		alpha = QS_ALPHA_DEFAULT;

	/* an existing state keeps its own accuracy */
	return qsketch_trans_common(fcinfo, alpha, false, 1);
}

/* The relative_accuracy of argument argno, checked (NULL is an error). */
static double
qsketch_arg_alpha(FunctionCallInfo fcinfo, int argno)
{
	double		alpha;
	qs_error	err;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relative_accuracy must not be null"),
				 errhint("Leave the argument out for the default of %g.", QS_ALPHA_DEFAULT)));
	alpha = PG_GETARG_FLOAT8(argno);
	if (qs_check_alpha(alpha, &err))
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	return alpha;
}

/* Transition function of qsketch_agg(float8, float8): adds a value. */
Datum
qsketch_trans_accuracy(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		return qsketch_trans_common(fcinfo, QS_ALPHA_DEFAULT, false, 1);
	return qsketch_trans_common(fcinfo, qsketch_arg_alpha(fcinfo, 2), true, 1);
}

/*
 * The weight n of argument argno, the number of observations of the row's
 * value: false when the row adds nothing (n NULL or 0); negative is an error.
 */
static bool
qsketch_arg_weight(FunctionCallInfo fcinfo, int argno, uint64 *n)
{
	int64		w;

	if (PG_ARGISNULL(argno))
		return false;
	w = PG_GETARG_INT64(argno);
	if (unlikely(w < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qsketch weight must not be negative"),
				 errdetail("The weight argument n was " INT64_FORMAT ".", w),
				 errhint("Pass the number of observations of the value (0 or more), or NULL to skip the row.")));
	*n = (uint64) w;
	return w > 0;
}

/*
 * Transition function of qsketch_agg_n(float8, bigint): adds n observations
 * of a value in one step; a NULL value or n, or n = 0, skips the row.
 */
Datum
qsketch_trans_n(PG_FUNCTION_ARGS)
{
	uint64		n;

	if (PG_ARGISNULL(1) || !qsketch_arg_weight(fcinfo, 2, &n))
		return qsketch_keep(fcinfo, AggCheckCallContext(fcinfo, NULL) != 0);
	/* an existing state keeps its own accuracy */
	return qsketch_trans_common(fcinfo, QS_ALPHA_DEFAULT, false, n);
}

/* Transition function of qsketch_agg_n(float8, bigint, float8). */
Datum
qsketch_trans_n_accuracy(PG_FUNCTION_ARGS)
{
	uint64		n;

	if (PG_ARGISNULL(1) || !qsketch_arg_weight(fcinfo, 2, &n))
		return qsketch_keep(fcinfo, AggCheckCallContext(fcinfo, NULL) != 0);
	return qsketch_trans_common(fcinfo, qsketch_arg_alpha(fcinfo, 3), true, n);
}

/*
 * Combine function, also the transition function of qsketch_merge: merges
 * the second sketch into the first (in place inside an aggregate).
 */
Datum
qsketch_combine(PG_FUNCTION_ARGS)
{
	bool		inagg = AggCheckCallContext(fcinfo, NULL) != 0;
	const qs_sketch *src;
	qs_sketch  *dst;
	struct varlena *raw;
	const uint8 *body;
	size_t		len;
	bool		fresh;
	qs_error	err;

	if (PG_ARGISNULL(1))
		return qsketch_keep(fcinfo, inagg);
	if (PG_ARGISNULL(0))
	{
		/* never alias the second argument */
		src = qsketch_read(PG_GETARG_DATUM(1), &fresh);
		dst = fresh ? (qs_sketch *) src : qs_copy(src, &qsketch_alloc, &err);
		if (dst == NULL)
			qsketch_report(&err, QSKETCH_SOURCE_DATUM);
		return qsketch_return(dst, inagg);
	}
	dst = qsketch_state(fcinfo, 0);
	raw = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(1));
	body = (const uint8 *) VARDATA_ANY(raw);
	len = VARSIZE_ANY_EXHDR(raw);
	if (len >= 2 && (body[1] & QS_FLAG_DENSE))
	{
		/* a partial aggregate's working state, validated in full */
		src = qsketch_read(PointerGetDatum(raw), NULL);
		dst = qs_merge(dst, src, &qsketch_alloc, &err);
	}
	else
	{
		/* a stored sketch: decoded and checked straight into the state */
		dst = qs_merge_compact(dst, body, len, &qsketch_alloc, &err);
	}
	if (dst == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	return qsketch_return(dst, inagg);
}

/*
 * Final function: the compact stored form of the state.  Inside an aggregate
 * the state is our own, with the O(1) checks of the transition functions.
 */
Datum
qsketch_final(PG_FUNCTION_ARGS)
{
	const qs_sketch *s;

	if (AggCheckCallContext(fcinfo, NULL))
		s = qsketch_state(fcinfo, 0);
	else
		s = qsketch_read(PG_GETARG_DATUM(0), NULL);
	PG_RETURN_POINTER(qsketch_to_compact(s));
}

/* Text input. */
Datum
qsketch_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	qs_error	err;
	qs_sketch  *s = qs_text_read(str, &qsketch_alloc, &err);

	if (s == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_TEXT);
	PG_RETURN_POINTER(qsketch_to_compact(s));
}

/* Text output (JSON). */
Datum
qsketch_out(PG_FUNCTION_ARGS)
{
	qs_error	err;
	char	   *str = qs_text_write(qsketch_read(PG_GETARG_DATUM(0), NULL), &qsketch_alloc, &err);

	if (str == NULL)
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	PG_RETURN_CSTRING(str);
}

/* Binary input: the compact form's bytes, validated in full. */
Datum
qsketch_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const char *bytes = buf->data + buf->cursor;
	size_t		len = (size_t) (buf->len - buf->cursor);

	buf->cursor = buf->len;
	PG_RETURN_POINTER(qsketch_from_binary(bytes, len));
}

/* Binary output: the compact form's bytes. */
Datum
qsketch_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P((bytea *) qsketch_to_compact(qsketch_read(PG_GETARG_DATUM(0), NULL)));
}

/* The binary input path from SQL: a qsketch from its bytes. */
Datum
qsketch_from_bytes(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_POINTER(qsketch_from_binary(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

/* The binary output from SQL: the bytes of a qsketch. */
Datum
qsketch_to_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P((bytea *) qsketch_to_compact(qsketch_read(PG_GETARG_DATUM(0), NULL)));
}

/* Estimated value at quantile q. */
Datum
qsketch_quantile(PG_FUNCTION_ARGS)
{
	double		q = PG_GETARG_FLOAT8(1);
	qs_error	err;

	if (qs_check_quantile(q, &err))
		qsketch_report(&err, QSKETCH_SOURCE_DATUM);
	PG_RETURN_FLOAT8(qs_quantile(qsketch_read(PG_GETARG_DATUM(0), NULL), q));
}

/* Estimated values at several quantiles; a NULL quantile gives NULL. */
Datum
qsketch_quantiles(PG_FUNCTION_ARGS)
{
	const qs_sketch *s = qsketch_read(PG_GETARG_DATUM(0), NULL);
	ArrayType  *qa = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	qs_error	err;

	deconstruct_array(qa, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	if (n == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(FLOAT8OID));
	for (i = 0; i < n; i++)
	{
		double		q;

		if (nulls[i])
			continue;
		q = DatumGetFloat8(elems[i]);
		if (qs_check_quantile(q, &err))
			qsketch_report(&err, QSKETCH_SOURCE_DATUM);
		elems[i] = Float8GetDatum(qs_quantile(s, q));
	}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, ARR_NDIM(qa), ARR_DIMS(qa),
											 ARR_LBOUND(qa), FLOAT8OID, sizeof(float8),
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Number of values summarized. */
Datum
qsketch_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) qsketch_read(PG_GETARG_DATUM(0), NULL)->count);
}

/* Exact smallest value. */
Datum
qsketch_min(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(qsketch_read(PG_GETARG_DATUM(0), NULL)->min);
}

/* Exact largest value. */
Datum
qsketch_max(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(qsketch_read(PG_GETARG_DATUM(0), NULL)->max);
}

/* Mean of the values (sum / count). */
Datum
qsketch_mean(PG_FUNCTION_ARGS)
{
	const qs_sketch *s = qsketch_read(PG_GETARG_DATUM(0), NULL);

	PG_RETURN_FLOAT8(s->sum / (double) s->count);
}

/* Sum of the values. */
Datum
qsketch_sum(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(qsketch_read(PG_GETARG_DATUM(0), NULL)->sum);
}

/* The relative accuracy alpha the sketch guarantees. */
Datum
qsketch_relative_accuracy(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(qsketch_read(PG_GETARG_DATUM(0), NULL)->alpha);
}

/* Number of non-empty buckets (the zero bucket not included). */
Datum
qsketch_bucket_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) qs_bucket_count(qsketch_read(PG_GETARG_DATUM(0), NULL)));
}
