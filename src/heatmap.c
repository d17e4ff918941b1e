/*
 * heatmap.c: PostgreSQL glue of the day-of-week x hour heatmap.
 *
 * Vocabulary: see heatmap_core.h.  The type analytics.heatmap is a 1360-byte
 * varlena that is also the state of heatmap_agg and heatmap_merge, so that
 * Citus can push those aggregates down (it refuses `internal` states).  The
 * transition and combine functions update the state in place when they run
 * inside an aggregate, and copy otherwise, because SQL may call them directly
 * with any heatmap value (aggstate.c).
 */
#include "analytics.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "heatmap_core.h"

PG_FUNCTION_INFO_V1(heatmap_in);
PG_FUNCTION_INFO_V1(heatmap_out);
PG_FUNCTION_INFO_V1(heatmap_recv);
PG_FUNCTION_INFO_V1(heatmap_send);
PG_FUNCTION_INFO_V1(heatmap_trans);
PG_FUNCTION_INFO_V1(heatmap_trans_n);
PG_FUNCTION_INFO_V1(heatmap_trans_tz);
PG_FUNCTION_INFO_V1(heatmap_combine);
PG_FUNCTION_INFO_V1(heatmap_final);
PG_FUNCTION_INFO_V1(heatmap_cells);
PG_FUNCTION_INFO_V1(heatmap_total);
PG_FUNCTION_INFO_V1(heatmap_cell);
PG_FUNCTION_INFO_V1(heatmap_to_array);

/* The time zone looked up last by heatmap_trans_tz (kept in fn_extra). */
typedef struct HeatmapTzCache
{
	pg_tz	   *tz;
	int			len;
	char		name[TZ_STRLEN_MAX + 1];
} HeatmapTzCache;

/* Raises the error for a heatmap that failed validation. */
static void
heatmap_report_invalid(heatmap_status st, const char *where)
{
	ereport(ERROR,
			errcode(ERRCODE_DATA_CORRUPTED),
			errmsg("invalid heatmap value in %s", where),
			errdetail("Invalid value: %s.", heatmap_core_status_text(st)),
			errhint("Heatmap values come from heatmap_agg, heatmap_merge or the heatmap input functions; do not build them by hand."));
}

/* Detoasts a heatmap datum (copy only if needed) and validates it fully. */
static heatmap_t *
heatmap_read(Datum d, const char *where)
{
	struct varlena *v = PG_DETOAST_DATUM(d);
	heatmap_status st = heatmap_core_check((heatmap_t *) v, VARSIZE(v));

	if (st != HEATMAP_OK)
		heatmap_report_invalid(st, where);
	return (heatmap_t *) v;
}

/* A fresh empty heatmap in the current memory context. */
static heatmap_t *
heatmap_new(void)
{
	heatmap_t  *h = (heatmap_t *) palloc(HEATMAP_SIZE);

	SET_VARSIZE(h, HEATMAP_SIZE);
	heatmap_core_init(h);
	return h;
}

/*
 * The state of argument 0, ready to be updated: our own aggregate state in
 * place (shape checks only), else a validated copy in the current memory
 * context (aggstate.c); a new empty heatmap when the argument is NULL.
 */
static heatmap_t *
heatmap_state(FunctionCallInfo fcinfo, const char *where)
{
	heatmap_t  *h = (heatmap_t *) analytics_agg_own_state(fcinfo, 0);
	heatmap_status st;

	if (h != NULL)
	{
		st = heatmap_core_check_shape(h, VARSIZE(h));
		if (st != HEATMAP_OK)
			heatmap_report_invalid(st, where);
		return h;
	}
	if (PG_ARGISNULL(0))
		return heatmap_new();
	h = (heatmap_t *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));
	st = heatmap_core_check(h, VARSIZE(h));
	if (st != HEATMAP_OK)
		heatmap_report_invalid(st, where);
	return h;
}

/* Adds n to a cell, raising an error on overflow. */
static inline void
heatmap_add_checked(heatmap_t *h, int cell, int64 n)
{
	if (unlikely(heatmap_core_add(h, cell, n) != HEATMAP_OK))
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("heatmap count out of range"),
				errdetail("Adding " INT64_FORMAT " to cell (dow %d, hour %d) would take the total count past the bigint maximum.",
						  n, cell / HEATMAP_HOURS, cell % HEATMAP_HOURS));
}

/* Refuses infinite timestamps, which have no day of week. */
static inline void
heatmap_check_finite(TimestampTz ts)
{
	if (unlikely(TIMESTAMP_NOT_FINITE(ts)))
		ereport(ERROR,
				errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				errmsg("timestamp out of range"),
				errdetail("heatmap_agg cannot place an infinite timestamp in a day-of-week and hour cell."),
				errhint("Filter out infinite timestamps, for example with WHERE isfinite(ts)."));
}

/* Refuses negative weights. */
static inline void
heatmap_check_weight(int64 n)
{
	if (unlikely(n < 0))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("heatmap weight must not be negative"),
				errdetail("The weight argument n was " INT64_FORMAT ".", n),
				errhint("Pass a count of events (0 or more), or NULL to skip the row."));
}

/* heatmap_in(cstring): parses the text form. */
Datum
heatmap_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	heatmap_t  *h = (heatmap_t *) palloc(HEATMAP_SIZE);
	char		errbuf[128];
	heatmap_status st;

	SET_VARSIZE(h, HEATMAP_SIZE);
	st = heatmap_core_parse(str, h, errbuf, sizeof(errbuf));
	errbuf[0] = pg_toupper((unsigned char) errbuf[0]);
	if (st == HEATMAP_OVERFLOW)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("heatmap count out of range: \"%s\"", str),
				errdetail("%s; counts and their total must fit in bigint.", errbuf));
	if (st != HEATMAP_OK)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				errmsg("invalid input syntax for type heatmap: \"%s\"", str),
				errdetail("%s.", errbuf),
				errhint("A heatmap is written {dow:hour=count,...} with dow 0..6 (0 = Sunday), hour 0..23 and count >= 0, e.g. {1:9=54,1:10=12}."));
	PG_RETURN_POINTER(h);
}

/* heatmap_out(heatmap): the text form, non-zero cells in order. */
Datum
heatmap_out(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_out");
	char	   *buf = palloc(HEATMAP_TEXT_MAX);

	heatmap_core_format(h, buf);
	PG_RETURN_CSTRING(buf);
}

/* heatmap_recv(internal): the binary form, validated as untrusted input. */
Datum
heatmap_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	heatmap_t  *h = (heatmap_t *) palloc(HEATMAP_SIZE);
	heatmap_status st;

	SET_VARSIZE(h, HEATMAP_SIZE);
	st = heatmap_core_decode((const unsigned char *) buf->data + buf->cursor,
							 (size_t) len, h);
	if (st != HEATMAP_OK)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid binary heatmap"),
				errdetail("Invalid value: %s (%d bytes received; a heatmap has %d).",
						  heatmap_core_status_text(st), len, HEATMAP_BINARY_SIZE));
	buf->cursor = buf->len;
	PG_RETURN_POINTER(h);
}

/* heatmap_send(heatmap): the binary form. */
Datum
heatmap_send(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_send");
	bytea	   *result = (bytea *) palloc(VARHDRSZ + HEATMAP_BINARY_SIZE);

	SET_VARSIZE(result, VARHDRSZ + HEATMAP_BINARY_SIZE);
	heatmap_core_encode(h, (unsigned char *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

/* heatmap_trans(heatmap, timestamptz): counts one event in its UTC cell. */
Datum
heatmap_trans(PG_FUNCTION_ARGS)
{
	heatmap_t  *h;
	TimestampTz ts;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	ts = PG_GETARG_TIMESTAMPTZ(1);
	heatmap_check_finite(ts);
	h = heatmap_state(fcinfo, "heatmap_trans");
	heatmap_add_checked(h, heatmap_core_utc_cell(ts), 1);
	PG_RETURN_POINTER(h);
}

/* heatmap_trans_n(heatmap, timestamptz, bigint): adds a weight n >= 0. */
Datum
heatmap_trans_n(PG_FUNCTION_ARGS)
{
	heatmap_t  *h;
	TimestampTz ts;
	int64		n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	ts = PG_GETARG_TIMESTAMPTZ(1);
	n = PG_GETARG_INT64(2);
	heatmap_check_finite(ts);
	heatmap_check_weight(n);
	h = heatmap_state(fcinfo, "heatmap_trans");
	heatmap_add_checked(h, heatmap_core_utc_cell(ts), n);
	PG_RETURN_POINTER(h);
}

/* The time zone named by a text, looked up once per name and call site. */
static pg_tz *
heatmap_lookup_tz(FunctionCallInfo fcinfo, text *zone)
{
	HeatmapTzCache *cache = (HeatmapTzCache *) fcinfo->flinfo->fn_extra;
	int			len = VARSIZE_ANY_EXHDR(zone);
	char		name[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;

	if (cache != NULL && cache->len == len &&
		memcmp(cache->name, VARDATA_ANY(zone), len) == 0)
		return cache->tz;

	if (len > TZ_STRLEN_MAX)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("time zone name too long"),
				errdetail("The name has %d bytes; the limit is %d.", len, TZ_STRLEN_MAX),
				errhint("Use an IANA time zone name such as \"Europe/Berlin\", or \"UTC\"."));
	text_to_cstring_buffer(zone, name, sizeof(name));
	tz = pg_tzset(name);
	if (tz == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("time zone \"%s\" not recognized", name),
				errdetail("heatmap_agg looks the zone up in the server's time zone database."),
				errhint("Use an IANA time zone name such as \"Europe/Berlin\", or \"UTC\"; see pg_timezone_names."));
	if (!pg_tz_acceptable(tz))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("time zone \"%s\" appears to use leap seconds", name),
				errdetail("PostgreSQL does not support leap seconds."),
				errhint("Use the zone without the \"right/\" prefix."));

	if (cache == NULL)
	{
		cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(HeatmapTzCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	cache->tz = tz;
	cache->len = len;
	memcpy(cache->name, name, len);
	return tz;
}

/* The cell of a timestamp in a time zone (local wall-clock dow and hour). */
static int
heatmap_zone_cell(TimestampTz ts, pg_tz *tz)
{
	int64		secs = ts / USECS_PER_SEC;
	pg_time_t	t;
	struct pg_tm *tm;

	if (ts % USECS_PER_SEC < 0)
		secs--;
	t = (pg_time_t) (secs + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
	tm = pg_localtime(&t, tz);
	if (tm == NULL)
		ereport(ERROR,
				errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				errmsg("timestamp out of range"),
				errdetail("The time zone database cannot convert this timestamp to local time."));
	return tm->tm_wday * HEATMAP_HOURS + tm->tm_hour;
}

/* heatmap_trans_tz(heatmap, timestamptz, bigint, text): local-time cells. */
Datum
heatmap_trans_tz(PG_FUNCTION_ARGS)
{
	heatmap_t  *h;
	TimestampTz ts;
	int64		n;
	pg_tz	   *tz;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("time zone must not be null"),
				errhint("Pass 'UTC' for UTC cells."));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	ts = PG_GETARG_TIMESTAMPTZ(1);
	n = PG_GETARG_INT64(2);
	tz = heatmap_lookup_tz(fcinfo, PG_GETARG_TEXT_PP(3));
	heatmap_check_finite(ts);
	heatmap_check_weight(n);
	h = heatmap_state(fcinfo, "heatmap_trans");
	heatmap_add_checked(h, heatmap_zone_cell(ts, tz), n);
	PG_RETURN_POINTER(h);
}

/*
 * heatmap_combine(heatmap, heatmap): adds the second into the first.  Also
 * the transition function of heatmap_merge, so argument 1 may be any stored
 * value: it is validated and never aliased.
 */
Datum
heatmap_combine(PG_FUNCTION_ARGS)
{
	heatmap_t  *dst;
	heatmap_t  *src;
	heatmap_status st;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		dst = heatmap_state(fcinfo, "heatmap_combine");
		PG_RETURN_POINTER(dst);
	}
	src = heatmap_read(PG_GETARG_DATUM(1), "heatmap_combine");
	dst = heatmap_state(fcinfo, "heatmap_combine");
	st = heatmap_core_merge(dst, src);
	if (st != HEATMAP_OK)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("heatmap count out of range"),
				errdetail("Merging heatmaps with totals " INT64_FORMAT " and " INT64_FORMAT " would exceed the bigint maximum.",
						  dst->total, src->total));
	PG_RETURN_POINTER(dst);
}

/* heatmap_final(heatmap): the state, or the empty matrix over no rows. */
Datum
heatmap_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(heatmap_new());
	(void) heatmap_read(PG_GETARG_DATUM(0), "heatmap_final");
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* heatmap_cells(heatmap): SETOF (dow, hour, count) for non-zero cells. */
Datum
heatmap_cells(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_cells");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < HEATMAP_CELLS; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (h->count[i] == 0)
			continue;
		values[0] = Int32GetDatum(i / HEATMAP_HOURS);
		values[1] = Int32GetDatum(i % HEATMAP_HOURS);
		values[2] = Int64GetDatum(h->count[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* heatmap_total(heatmap): the sum of all cells. */
Datum
heatmap_total(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_total");

	PG_RETURN_INT64(h->total);
}

/* heatmap_cell(heatmap, dow, hour): one cell's count. */
Datum
heatmap_cell(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_cell");
	int32		dow = PG_GETARG_INT32(1);
	int32		hour = PG_GETARG_INT32(2);

	if (dow < 0 || dow >= HEATMAP_DAYS || hour < 0 || hour >= HEATMAP_HOURS)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("heatmap cell (dow %d, hour %d) out of range", dow, hour),
				errdetail("dow is 0..6 with 0 = Sunday; hour is 0..23."));
	PG_RETURN_INT64(h->count[dow * HEATMAP_HOURS + hour]);
}

/* heatmap_to_array(heatmap): bigint[7][24], [dow + 1][hour + 1]. */
Datum
heatmap_to_array(PG_FUNCTION_ARGS)
{
	heatmap_t  *h = heatmap_read(PG_GETARG_DATUM(0), "heatmap_to_array");
	Datum	   *elems = palloc(sizeof(Datum) * HEATMAP_CELLS);
	int			dims[2] = {HEATMAP_DAYS, HEATMAP_HOURS};
	int			lbs[2] = {1, 1};
	int			i;

	for (i = 0; i < HEATMAP_CELLS; i++)
		elems[i] = Int64GetDatum(h->count[i]);
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, NULL, 2, dims, lbs,
											 INT8OID, 8, FLOAT8PASSBYVAL,
											 TYPALIGN_DOUBLE));
}
