/*
 * trend.c: PostgreSQL glue of daily counters, gap-filled trends and the
 * usage summary.
 *
 * Vocabulary: see trend_core.h.  analytics.daycounts is a varlena (16 bytes
 * plus 8 per day and counter) that is also the state of daycounts_agg and
 * usage_summary_agg, so that Citus can push them down.  Transition and
 * combine functions update it in place inside an aggregate and copy outside
 * one, because SQL may call them directly.
 */
#include "analytics.h"

#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "trend_core.h"

PG_FUNCTION_INFO_V1(daycounts_in);
PG_FUNCTION_INFO_V1(daycounts_out);
PG_FUNCTION_INFO_V1(daycounts_recv);
PG_FUNCTION_INFO_V1(daycounts_send);
PG_FUNCTION_INFO_V1(daycounts_trans);
PG_FUNCTION_INFO_V1(daycounts_combine);
PG_FUNCTION_INFO_V1(trend_srf);
PG_FUNCTION_INFO_V1(trend_period_srf);
PG_FUNCTION_INFO_V1(trend_bucket);
PG_FUNCTION_INFO_V1(usage_summary_trans);
PG_FUNCTION_INFO_V1(usage_summary_final);
PG_FUNCTION_INFO_V1(daycounts_jsonb);
PG_FUNCTION_INFO_V1(agent_activity_jsonb);

/* Counter of each metric in a usage summary state; -1 = ignored. */
#define USAGE_API_CALLS				0
#define USAGE_TOKEN_ISSUANCES		1
#define USAGE_CREDENTIAL_ROTATIONS	2

static void *
trend_palloc(size_t size)
{
	return palloc(size);
}

static void
trend_pfree(void *p)
{
	pfree(p);
}

/* Raises the error for a daycounts that failed validation. */
static void
daycounts_report_invalid(trend_status st, const char *where)
{
	ereport(ERROR,
			errcode(ERRCODE_DATA_CORRUPTED),
			errmsg("invalid daycounts value in %s", where),
			errdetail("Invalid value: %s.", trend_core_status_text(st)),
			errhint("daycounts values come from daycounts_agg, usage_summary_agg or the daycounts input functions."));
}

/* Detoasts a daycounts datum (copy only if needed) and validates it fully. */
static daycounts_t *
daycounts_read(Datum d, const char *where)
{
	struct varlena *v = PG_DETOAST_DATUM(d);
	trend_status st = daycounts_core_check((daycounts_t *) v, VARSIZE(v));

	if (st != TREND_OK)
		daycounts_report_invalid(st, where);
	return (daycounts_t *) v;
}

/* A zeroed daycounts in the current memory context. */
static daycounts_t *
daycounts_new(int32 first, int32 ndays, int ncounters)
{
	Size		size = DAYCOUNTS_SIZE(ndays, ncounters);
	daycounts_t *d = (daycounts_t *) palloc(size);

	SET_VARSIZE(d, size);
	daycounts_core_init(d, first, ndays, ncounters);
	return d;
}

/* A date as text, for messages. */
static char *
trend_date_text(DateADT day)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(day)));
}

/* Checks a period given as SQL arguments; raises the matching error. */
static void
trend_check_period(DateADT from, DateADT to)
{
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) ||
		from < DAYCOUNTS_MIN_DAY || to > DAYCOUNTS_MAX_DAY ||
		from > DAYCOUNTS_MAX_DAY || to < DAYCOUNTS_MIN_DAY)
		ereport(ERROR,
				errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				errmsg("period out of range"),
				errdetail("The period runs from %s to %s.",
						  trend_date_text(from), trend_date_text(to)),
				errhint("Periods lie within 0001-01-01 .. 9999-12-31."));
	if (from > to)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("period start is after its end"),
				errdetail("from = %s, to = %s.",
						  trend_date_text(from), trend_date_text(to)),
				errhint("Pass from <= to; both ends are included."));
	if ((int64) to - from + 1 > DAYCOUNTS_MAX_DAYS)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("period too long"),
				errdetail("The period has " INT64_FORMAT " days; the limit is %d.",
						  (int64) to - from + 1, DAYCOUNTS_MAX_DAYS),
				errhint("Split the period, or use coarser stored rollups."));
}

/* The from/to arguments at positions a and a + 1, checked. */
static void
trend_period_args(FunctionCallInfo fcinfo, int a, DateADT *from, DateADT *to)
{
	if (PG_ARGISNULL(a) || PG_ARGISNULL(a + 1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("period bounds must not be null"),
				errhint("Pass the first and the last day of the period."));
	*from = PG_GETARG_DATEADT(a);
	*to = PG_GETARG_DATEADT(a + 1);
	trend_check_period(*from, *to);
}

/*
 * The state of argument 0 for update: our own aggregate state in place
 * (shape checks only), else a validated copy in the current memory context
 * (aggstate.c).  NULL if argument 0 is.
 */
static daycounts_t *
daycounts_state(FunctionCallInfo fcinfo, const char *where)
{
	daycounts_t *d = (daycounts_t *) analytics_agg_own_state(fcinfo, 0);
	trend_status st;

	if (d != NULL)
	{
		st = daycounts_core_check_shape(d, VARSIZE(d));
		if (st != TREND_OK)
			daycounts_report_invalid(st, where);
		return d;
	}
	if (PG_ARGISNULL(0))
		return NULL;
	d = (daycounts_t *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));
	st = daycounts_core_check(d, VARSIZE(d));
	if (st != TREND_OK)
		daycounts_report_invalid(st, where);
	return d;
}

/* The state for a row of a period aggregate: created, or checked against the period. */
static daycounts_t *
daycounts_state_for_period(FunctionCallInfo fcinfo, int period_arg,
						   int ncounters, const char *where)
{
	DateADT		from;
	DateADT		to;
	daycounts_t *d;

	trend_period_args(fcinfo, period_arg, &from, &to);
	d = daycounts_state(fcinfo, where);
	if (d == NULL)
		return daycounts_new(from, to - from + 1, ncounters);
	if (d->first != from || d->ndays != to - from + 1 || d->ncounters != ncounters)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("period or counters changed within %s", where),
				errdetail("The state covers %s .. %s with %d counters; this row asks for %s .. %s with %d.",
						  trend_date_text(d->first), trend_date_text(d->first + d->ndays - 1),
						  d->ncounters, trend_date_text(from), trend_date_text(to), ncounters),
				errhint("Pass the same from, to and number of counters on every row of one aggregate."));
	return d;
}

/* Refuses a negative count (argument number c of the row's counts). */
static void
daycounts_check_count(int64 n, int c)
{
	if (n < 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("daily count must not be negative"),
				errdetail("Count %d of the row was " INT64_FORMAT ".", c, n),
				errhint("Pass a count of events (0 or more), or NULL to skip it."));
}

/* Adds n to counter c of a day, with the errors a user can cause. */
static void
daycounts_add_checked(daycounts_t *d, DateADT day, int c, int64 n)
{
	trend_status st;

	daycounts_check_count(n, c + 1);
	st = daycounts_core_add(d, day, c, n);
	if (st != TREND_OK)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("daily count out of range"),
				errdetail("Adding " INT64_FORMAT " to counter %d of a day would exceed the bigint maximum.",
						  n, c + 1));
}

/* daycounts_in(cstring) */
Datum
daycounts_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	daycounts_t *d;
	char		errbuf[128];
	trend_status st;

	st = daycounts_core_parse(str, &d, trend_palloc, trend_pfree, errbuf, sizeof(errbuf));
	errbuf[0] = pg_toupper((unsigned char) errbuf[0]);
	if (st == TREND_OVERFLOW)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("daycounts count out of range: \"%s\"", str),
				errdetail("%s.", errbuf));
	if (st != TREND_OK)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				errmsg("invalid input syntax for type daycounts: \"%s\"", str),
				errdetail("%s.", errbuf),
				errhint("A daycounts is written [first,last]:{v,...} with one count >= 0 per day, or a tuple (v1,v2[,v3]) per day, e.g. [2026-03-01,2026-03-03]:{4,0,7}."));
	SET_VARSIZE(d, DAYCOUNTS_SIZE(d->ndays, d->ncounters));
	PG_RETURN_POINTER(d);
}

/* daycounts_out(daycounts) */
Datum
daycounts_out(PG_FUNCTION_ARGS)
{
	daycounts_t *d = daycounts_read(PG_GETARG_DATUM(0), "daycounts_out");
	char	   *buf = palloc(daycounts_core_text_max(d));

	daycounts_core_format(d, buf);
	PG_RETURN_CSTRING(buf);
}

/* daycounts_recv(internal): untrusted bytes, fully validated. */
Datum
daycounts_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	daycounts_t *d;
	trend_status st;

	st = daycounts_core_decode((const unsigned char *) buf->data + buf->cursor,
							   (size_t) len, &d, trend_palloc, trend_pfree);
	if (st != TREND_OK)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid binary daycounts"),
				errdetail("Invalid value: %s (%d bytes received).", trend_core_status_text(st), len));
	SET_VARSIZE(d, DAYCOUNTS_SIZE(d->ndays, d->ncounters));
	buf->cursor = buf->len;
	PG_RETURN_POINTER(d);
}

/* daycounts_send(daycounts) */
Datum
daycounts_send(PG_FUNCTION_ARGS)
{
	daycounts_t *d = daycounts_read(PG_GETARG_DATUM(0), "daycounts_send");
	size_t		n = daycounts_core_binary_size(d);
	bytea	   *result = (bytea *) palloc(VARHDRSZ + n);

	SET_VARSIZE(result, VARHDRSZ + n);
	daycounts_core_encode(d, (unsigned char *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

/*
 * daycounts_trans(state, day, n1 [, n2 [, n3]], from, to): adds the row's
 * counts to its day; days outside [from, to] are ignored, a NULL day skips
 * the row and a NULL count adds nothing.
 */
Datum
daycounts_trans(PG_FUNCTION_ARGS)
{
	int			ncounters = PG_NARGS() - 4;
	daycounts_t *d;
	DateADT		day;
	int			c;

	if (ncounters < 1 || ncounters > DAYCOUNTS_MAX_COUNTERS)
		elog(ERROR, "daycounts_trans called with %d arguments", PG_NARGS());
	d = daycounts_state_for_period(fcinfo, 2 + ncounters, ncounters, "daycounts_agg");
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(d);
	day = PG_GETARG_DATEADT(1);
	for (c = 0; c < ncounters; c++)
		if (!PG_ARGISNULL(2 + c))
			daycounts_add_checked(d, day, c, PG_GETARG_INT64(2 + c));
	PG_RETURN_POINTER(d);
}

/*
 * daycounts_combine(daycounts, daycounts): adds the second into the first.
 * Different periods merge into their union (a new state); the counters must
 * agree.  Argument 1 is validated and never aliased.
 */
Datum
daycounts_combine(PG_FUNCTION_ARGS)
{
	daycounts_t *dst;
	daycounts_t *src;
	trend_status st;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(daycounts_state(fcinfo, "daycounts_combine"));
	}
	src = daycounts_read(PG_GETARG_DATUM(1), "daycounts_combine");
	dst = daycounts_state(fcinfo, "daycounts_combine");
	if (dst == NULL)
	{
		/* never alias the second argument */
		dst = (daycounts_t *) palloc(VARSIZE(src));
		memcpy(dst, src, VARSIZE(src));
		PG_RETURN_POINTER(dst);
	}
	if (dst->ncounters != src->ncounters)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("cannot merge daycounts with %d and %d counters",
					   dst->ncounters, src->ncounters),
				errhint("Merge only daycounts built with the same number of counters."));
	if (src->first < dst->first ||
		(int64) src->first + src->ndays > (int64) dst->first + dst->ndays)
	{
		int32		first;
		int32		ndays;
		daycounts_t *u;

		st = daycounts_core_union(dst, src, &first, &ndays);
		if (st != TREND_OK)
			ereport(ERROR,
					errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("merged daycounts period too long"),
					errdetail("The union of the periods would have more than %d days.", DAYCOUNTS_MAX_DAYS));
		u = daycounts_new(first, ndays, dst->ncounters);
		(void) daycounts_core_merge(u, dst);
		dst = u;
	}
	st = daycounts_core_merge(dst, src);
	if (st != TREND_OK)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("daily count out of range"),
				errdetail("Merging the daycounts would take a daily count past the bigint maximum."));
	PG_RETURN_POINTER(dst);
}

/* The granularity argument, or the contract's error. */
static trend_granularity
trend_granularity_arg(FunctionCallInfo fcinfo, int a)
{
	text	   *t;
	int			g;

	if (PG_ARGISNULL(a))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("granularity must not be null"),
				errhint("Use 'day' or 'week'."));
	t = PG_GETARG_TEXT_PP(a);
	g = trend_core_granularity(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (g < 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid granularity \"%s\"", text_to_cstring(t)),
				errdetail("A trend has day or week (ISO week, Monday first) buckets."),
				errhint("Use 'day' or 'week'."));
	return (trend_granularity) g;
}

/* Emits the zero-filled buckets of [from, to] from d (NULL = all zero). */
static void
trend_emit(FunctionCallInfo fcinfo, const daycounts_t *d, trend_granularity g,
		   DateADT from, DateADT to)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DateADT		start;

	InitMaterializedSRF(fcinfo, 0);
	for (start = from; start <= to;)
	{
		DateADT		end = trend_core_bucket_end(start, g, to);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			c;

		values[0] = DateADTGetDatum(start);
		for (c = 0; c < DAYCOUNTS_MAX_COUNTERS; c++)
		{
			int64		sum = 0;

			if (d != NULL && c >= d->ncounters)
			{
				nulls[1 + c] = true;
				values[1 + c] = (Datum) 0;
				continue;
			}
			if (d != NULL && daycounts_core_sum(d, c, start, end, &sum) != TREND_OK)
				ereport(ERROR,
						errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						errmsg("trend bucket count out of range"),
						errdetail("The sum of counter %d over a bucket exceeds the bigint maximum.", c + 1));
			values[1 + c] = Int64GetDatum(sum);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		start = end + 1;
	}
}

/* trend(daycounts, granularity): the buckets of the daycounts' own period. */
Datum
trend_srf(PG_FUNCTION_ARGS)
{
	daycounts_t *d = daycounts_read(PG_GETARG_DATUM(0), "trend");
	trend_granularity g = trend_granularity_arg(fcinfo, 1);

	trend_emit(fcinfo, d, g, d->first, d->first + d->ndays - 1);
	return (Datum) 0;
}

/*
 * trend(daycounts, granularity, from, to): the buckets of [from, to]; days
 * the daycounts does not cover, or a NULL daycounts (no rows), count zero.
 */
Datum
trend_period_srf(PG_FUNCTION_ARGS)
{
	daycounts_t *d = NULL;
	trend_granularity g = trend_granularity_arg(fcinfo, 1);
	DateADT		from;
	DateADT		to;

	trend_period_args(fcinfo, 2, &from, &to);
	if (!PG_ARGISNULL(0))
		d = daycounts_read(PG_GETARG_DATUM(0), "trend");
	trend_emit(fcinfo, d, g, from, to);
	return (Datum) 0;
}

/* trend_bucket(day, granularity, from): the label of day's bucket. */
Datum
trend_bucket(PG_FUNCTION_ARGS)
{
	DateADT		day = PG_GETARG_DATEADT(0);
	trend_granularity g = trend_granularity_arg(fcinfo, 1);
	DateADT		from = PG_GETARG_DATEADT(2);

	if (DATE_NOT_FINITE(day) || DATE_NOT_FINITE(from) ||
		day < DAYCOUNTS_MIN_DAY || day > DAYCOUNTS_MAX_DAY ||
		from < DAYCOUNTS_MIN_DAY || from > DAYCOUNTS_MAX_DAY)
		ereport(ERROR,
				errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				errmsg("date out of range for trend_bucket"),
				errhint("Dates lie within 0001-01-01 .. 9999-12-31."));
	if (day < from)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("day is before the period start"),
				errhint("Filter the rows to the period before bucketing them."));
	PG_RETURN_DATEADT(trend_core_bucket(day, g, from));
}

/* The counter of a metric name; -1 for metrics the summary ignores. */
static int
usage_summary_metric(text *metric)
{
	const char *s = VARDATA_ANY(metric);
	int			len = VARSIZE_ANY_EXHDR(metric);

#define METRIC_IS(name) (len == (int) strlen(name) && memcmp(s, name, len) == 0)
	if (METRIC_IS("api_calls"))
		return USAGE_API_CALLS;
	if (METRIC_IS("token_issuances"))
		return USAGE_TOKEN_ISSUANCES;
	if (METRIC_IS("credential_rotations"))
		return USAGE_CREDENTIAL_ROTATIONS;
	if (METRIC_IS("token_failures") || METRIC_IS("tool_calls") || METRIC_IS("llm_calls"))
		return -1;
#undef METRIC_IS
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("unknown metric \"%s\"", text_to_cstring(metric)),
			errhint("Metrics are api_calls, token_issuances, token_failures, credential_rotations, tool_calls and llm_calls."));
	return -1;					/* not reached */
}

/*
 * usage_summary_trans(state, day, metric, n, from, to): a daycounts of
 * [from, to] with counters api calls, token issuances, credential rotations.
 */
Datum
usage_summary_trans(PG_FUNCTION_ARGS)
{
	daycounts_t *d = daycounts_state_for_period(fcinfo, 4, 3, "usage_summary_agg");
	int			c;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(d);
	c = usage_summary_metric(PG_GETARG_TEXT_PP(2));
	daycounts_check_count(PG_GETARG_INT64(3), 1);
	if (c >= 0)
		daycounts_add_checked(d, PG_GETARG_DATEADT(1), c, PG_GETARG_INT64(3));
	PG_RETURN_POINTER(d);
}

/* usage_summary_final(daycounts): the summary as jsonb. */
Datum
usage_summary_final(PG_FUNCTION_ARGS)
{
	usage_summary_t s;
	char		peak[16];
	char	   *json;

	memset(&s, 0, sizeof(s));
	if (!PG_ARGISNULL(0))
	{
		daycounts_t *d = daycounts_read(PG_GETARG_DATUM(0), "usage_summary_final");
		trend_status st = usage_summary_core(d, &s);

		if (st == TREND_BAD_COUNTERS)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("usage summary needs a daycounts with 3 counters"),
					errdetail("The daycounts has %d counters.", d->ncounters),
					errhint("Counters are api calls, token issuances and credential rotations."));
		if (st != TREND_OK)
			ereport(ERROR,
					errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					errmsg("usage summary total out of range"),
					errdetail("A total over the period exceeds the bigint maximum."));
	}
	if (s.has_peak)
	{
		int			y,
					m,
					dd;

		trend_core_civil_from_days(s.peak_day, &y, &m, &dd);
		snprintf(peak, sizeof(peak), "\"%04d-%02d-%02d\"", y, m, dd);
	}
	else
		strlcpy(peak, "null", sizeof(peak));
	json = psprintf("{\"totalApiCalls\": " INT64_FORMAT
					", \"totalTokenIssuances\": " INT64_FORMAT
					", \"totalCredentialRotations\": " INT64_FORMAT
					", \"averageDailyApiCalls\": " INT64_FORMAT
					", \"peakDailyApiCalls\": " INT64_FORMAT
					", \"peakDate\": %s}",
					s.total_api_calls, s.total_token_issuances,
					s.total_credential_rotations, s.average_daily_api_calls,
					s.peak_daily_api_calls, peak);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * daycounts_jsonb(counts, keys): the daily series of a daycounts as a jsonb
 * array, one object per day of its period, oldest first, zero-filled:
 * {"date": "YYYY-MM-DD", keys[1]: counter 1, ...}.  Built as jsonb in one
 * pass: a jsonb_build_object per day, aggregated, costs several times more
 * for a month of days per agent.
 */
#define DAYCOUNTS_JSONB_MAX_KEY 64

static void
jsonb_push_key(JsonbParseState **state, const char *key, int len)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = len;
	pushJsonbValue(state, WJB_KEY, &k);
}

/*
 * The keys of a daycounts' counters, checked: one per counter, 1 to
 * DAYCOUNTS_JSONB_MAX_KEY bytes, distinct, not "date".
 */
static void
daycounts_jsonb_keys(ArrayType *keys, int ncounters, char ***kstr_out, int **klen_out)
{
	Datum	   *kd;
	bool	   *kn;
	int			nk;
	char	  **kstr;
	int		   *klen;

	if (ARR_NDIM(keys) > 1)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("keys must be a one-dimensional array"));
	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &kd, &kn, &nk);
	if (nk != ncounters)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("daycounts_jsonb needs one key per counter"),
				errdetail("The daycounts has %d counters, the keys array %d elements.", ncounters, nk));
	kstr = palloc(sizeof(char *) * nk);
	klen = palloc(sizeof(int) * nk);
	for (int i = 0; i < nk; i++)
	{
		if (kn[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("key %d is NULL", i + 1));
		kstr[i] = TextDatumGetCString(kd[i]);
		klen[i] = strlen(kstr[i]);
		if (klen[i] == 0 || klen[i] > DAYCOUNTS_JSONB_MAX_KEY || strcmp(kstr[i], "date") == 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("key %d must be 1 to %d bytes long and not \"date\"", i + 1, DAYCOUNTS_JSONB_MAX_KEY));
		for (int j = 0; j < i; j++)
			if (strcmp(kstr[i], kstr[j]) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("key \"%s\" is given twice", kstr[i]));
	}
	*kstr_out = kstr;
	*klen_out = klen;
}

/*
 * What the series of one answer share: the numerics of small counts (most
 * daily counts; int64_to_numeric for each of a month of 24 agents' 2,160
 * values was a third of agent_activity_jsonb) and the dates of the last
 * period written (every agent's series covers the same days).  pushJsonbValue
 * keeps pointers until the end, so each is made once and shared.
 */
#define SERIES_SMALL_COUNTS 1024

typedef struct SeriesCache
{
	Numeric		small[SERIES_SMALL_COUNTS];
	int32		dates_first;
	int			dates_n;
	char	   *dates;			/* dates_n strings of 10 bytes, back to back */
} SeriesCache;

static Numeric
series_numeric(SeriesCache *c, int64 n)
{
	if (n < 0 || n >= SERIES_SMALL_COUNTS)
		return int64_to_numeric(n);
	if (c->small[n] == NULL)
		c->small[n] = int64_to_numeric(n);
	return c->small[n];
}

/* Pushes the daily series of a daycounts as a jsonb array. */
static JsonbValue *
daycounts_push_series(JsonbParseState **state, const daycounts_t *d, char **kstr, const int *klen,
					  SeriesCache *c)
{
	if (c->dates == NULL || c->dates_first != d->first || c->dates_n != d->ndays)
	{
		c->dates = palloc((size_t) d->ndays * 10 + 1);
		for (int i = 0; i < d->ndays; i++)
		{
			int			y,
						m,
						dd;

			trend_core_civil_from_days(d->first + i, &y, &m, &dd);
			snprintf(c->dates + (size_t) i * 10, 11, "%04d-%02d-%02d", y, m, dd);
		}
		c->dates_first = d->first;
		c->dates_n = d->ndays;
	}
	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < d->ndays; i++)
	{
		JsonbValue	v;

		pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		jsonb_push_key(state, "date", 4);
		v.type = jbvString;
		v.val.string.val = c->dates + (size_t) i * 10;
		v.val.string.len = 10;
		pushJsonbValue(state, WJB_VALUE, &v);
		for (int j = 0; j < d->ncounters; j++)
		{
			jsonb_push_key(state, kstr[j], klen[j]);
			v.type = jbvNumeric;
			v.val.numeric = series_numeric(c, d->count[(size_t) i * d->ncounters + j]);
			pushJsonbValue(state, WJB_VALUE, &v);
		}
		pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	return pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

Datum
daycounts_jsonb(PG_FUNCTION_ARGS)
{
	daycounts_t *d = daycounts_read(PG_GETARG_DATUM(0), "daycounts_jsonb");
	char	  **kstr;
	int		   *klen;
	JsonbParseState *state = NULL;
	SeriesCache *c = palloc0(sizeof(SeriesCache));

	daycounts_jsonb_keys(PG_GETARG_ARRAYTYPE_P(1), d->ncounters, &kstr, &klen);
	PG_RETURN_POINTER(JsonbValueToJsonb(daycounts_push_series(&state, d, kstr, klen, c)));
}

/*
 * agent_activity_jsonb(head, ids, names, series, keys): the answer of
 * agent_activity in one pass: the object head (tenantId, period) with
 * "agents": [{"agentId": ids[i], "agentName": names[i] (null when NULL),
 * "dailyActivity": the series of series[i] as daycounts_jsonb gives it}],
 * in the order given.  Built as one jsonb: a jsonb per agent, then
 * jsonb_build_object and jsonb_agg, would copy every day's object twice
 * more (1.5 of the 3.4 ms of a month of 24 agents).  NULL arrays (no
 * agent) give an empty list; the arrays must have one element each per
 * agent, the series none NULL and all with one counter per key.
 */
Datum
agent_activity_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *head;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbParseState *state = NULL;
	JsonbValue *res;
	Datum	   *ids = NULL,
			   *names = NULL,
			   *series = NULL;
	bool	   *idn = NULL,
			   *namen = NULL,
			   *serien = NULL;
	int			nids = 0,
				nnames = 0,
				nseries = 0,
				depth = 0,
				nkeys = 0;
	char	  **kstr = NULL;
	int		   *klen = NULL;
	SeriesCache *c = palloc0(sizeof(SeriesCache));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(4))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("agent_activity_jsonb needs a head object and keys"));
	head = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(head))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the head of agent_activity_jsonb must be a JSON object"));
	if (!PG_ARGISNULL(1))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("ids must be a one-dimensional array"));
		deconstruct_array(a, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &ids, &idn, &nids);
	}
	if (!PG_ARGISNULL(2))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(2);

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("names must be a one-dimensional array"));
		deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &names, &namen, &nnames);
	}
	if (!PG_ARGISNULL(3))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(3);
		int16		typlen;
		bool		typbyval;
		char		typalign;

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("series must be a one-dimensional array"));
		get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
		deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign, &series, &serien, &nseries);
	}
	if (nids != nnames || nids != nseries)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("ids, names and series must have one element per agent"),
				errdetail("They have %d, %d and %d elements.", nids, nnames, nseries));

	/* the head's members, then "agents" */
	it = JsonbIteratorInit(&head->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
			depth++;
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			depth--;
		if (depth == 0)
			break;				/* the head's own end: "agents" goes first */
		pushJsonbValue(&state, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	jsonb_push_key(&state, "agents", 6);
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < nids; i++)
	{
		daycounts_t *d;

		if (idn[i] || serien[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("agent %d has a NULL id or series", i + 1));
		d = daycounts_read(series[i], "agent_activity_jsonb");
		if (kstr == NULL)
		{
			daycounts_jsonb_keys(PG_GETARG_ARRAYTYPE_P(4), d->ncounters, &kstr, &klen);
			nkeys = d->ncounters;
		}
		else if (d->ncounters != nkeys)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("daycounts_jsonb needs one key per counter"),
					errdetail("Agent %d's daycounts has %d counters, the keys array %d elements.", i + 1, d->ncounters, nkeys));
		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		jsonb_push_key(&state, "agentId", 7);
		v.type = jbvString;
		v.val.string.val = DatumGetCString(DirectFunctionCall1(uuid_out, ids[i]));
		v.val.string.len = strlen(v.val.string.val);
		pushJsonbValue(&state, WJB_VALUE, &v);
		jsonb_push_key(&state, "agentName", 9);
		if (namen[i])
			v.type = jbvNull;
		else
		{
			text	   *t = DatumGetTextPP(names[i]);

			v.type = jbvString;
			v.val.string.val = VARDATA_ANY(t);
			v.val.string.len = VARSIZE_ANY_EXHDR(t);
		}
		pushJsonbValue(&state, WJB_VALUE, &v);
		jsonb_push_key(&state, "dailyActivity", 13);
		daycounts_push_series(&state, d, kstr, klen, c);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_POINTER(JsonbValueToJsonb(res));
}
