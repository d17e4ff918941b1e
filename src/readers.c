/*
 * readers.c: analytics.read_plan(from date, to date) (at the end of this
 * file) and analytics.read_raw_groups(tenant_id uuid, days date[],
 * since timestamptz[], detail boolean), the readers' (layer 50) read of a
 * tenant's raw events on the days a read plan names, grouped by day, agent
 * and event type (with detail also by endpoint and method, with a latency
 * sketch of the api calls).
 *
 * Each day is read from its own partition by a statement of its own, with a
 * plan the backend keeps (cached.c):
 *   since[i] NULL      the whole day, from its partition (tenant as $1);
 *   since[i] given     the events ingested at or after since[i] (today's
 *                      and yesterday's at every call), found by the day's
 *                      index on (tenant_id, ingested_at) (made by
 *                      analytics.ensure_partitions; on a day made before
 *                      0.5.0, the BRIN index on ingested_at).  The
 *                      watermark is written into the statement (in UTC with
 *                      its offset), so that the planner sees that few rows
 *                      lie beyond it; a generic plan with the watermark as a
 *                      parameter guessed 0.5% of the day and, on a large
 *                      partition, ANDed the tenant's index on occurred_at
 *                      (0.75 ms instead of 0.05 for a busy tenant).  The
 *                      range is closed (<= infinity): on a partition not
 *                      analysed yet an open bound is estimated as a third
 *                      of the rows.  The watermark moves once a minute, so
 *                      a backend plans the statement once a minute per day,
 *                      for every tenant.  A probe (LIMIT 1, its own kept
 *                      plan) runs first: most tenants at most moments have
 *                      nothing since the watermark, and starting the
 *                      grouped statement for no row cost 11 microseconds;
 *   no partition       the day's events in the default partition ($2, $3
 *                      the day's bounds, $4 since[i] or NULL).
 * The rows go straight into the result.  This was a PL/pgSQL loop over the
 * days with RETURN QUERY per statement; the statements are the same.
 *
 * It runs its statements as its caller (SPI, read-only, the caller's
 * snapshot, as a STABLE function's): it reads what the caller may read.
 */
#include "analytics.h"
#include "cached.h"
#include "ingest_core.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(analytics_read_raw_groups);

/* The statement reading FROM rel with condition cond (after the tenant's). */
static void
rg_statement(StringInfo buf, bool detail, const char *rel, const char *cond)
{
	resetStringInfo(buf);
	appendStringInfoString(buf, "SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, e.agent_id, e.event_type, ");
	appendStringInfoString(buf, detail ? "e.endpoint, e.method, " : "NULL::text, NULL::text, ");
	appendStringInfoString(buf, "sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint, ");
	appendStringInfoString(buf, detail
						   ? "analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) FILTER (WHERE e.event_type = 'api_call'), "
						   : "NULL::analytics.qsketch, ");
	appendStringInfo(buf, "analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call') "
					 "FROM %s e WHERE e.tenant_id = $1 %s GROUP BY 1, 2, 3, 4, 5", rel, cond);
}

/* An instant as a literal that reads back the same in any session. */
static void
rg_instant_literal(StringInfo buf, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_IS_NOBEGIN(t))
		appendStringInfoString(buf, "'-infinity'::timestamptz");
	else if (TIMESTAMP_IS_NOEND(t))
		appendStringInfoString(buf, "'infinity'::timestamptz");
	else
	{
		if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0 || tm.tm_year < 1 || tm.tm_year > 9999)
			ereport(ERROR, errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					errmsg("read_raw_groups: watermark out of range"),
					errdetail("A watermark is an instant of the years 1 to 9999."));
		/* (ISO, year first: no DateStyle reads it otherwise) */
		appendStringInfo(buf, "'%04d-%02d-%02d %02d:%02d:%02d.%06d+00'::timestamptz",
						 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
	}
}

/* Does the kept statement query (a probe of the tenant $1) find a row? */
static bool
rg_any(const char *query, Datum tenant)
{
	Oid			types[1] = {UUIDOID};
	bool		isnull[1] = {false};

	return analytics_run_kept(query, 1, types, &tenant, isnull, NULL, 1, "read_raw_groups") > 0;
}

/*
 * Reads the days (arguments 1 to 3 of fcinfo, as read_raw_groups takes
 * them) into dest, one kept statement per day (after a probe, for a day
 * read since its watermark).
 */
static void
rg_read_days(FunctionCallInfo fcinfo, bool detail, DestReceiver *dest)
{
	Datum	   *days = NULL;
	bool	   *days_null = NULL;
	int			ndays = 0;
	Datum	   *since = NULL;
	bool	   *since_null = NULL;
	int			nsince = 0;
	Oid			nsp;
	StringInfoData sql;
	StringInfoData cond;

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), DATEOID, sizeof(DateADT), true, TYPALIGN_INT,
					  &days, &days_null, &ndays);
	if (!PG_ARGISNULL(2))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &since, &since_null, &nsince);

	nsp = get_namespace_oid("analytics", false);
	initStringInfo(&sql);
	initStringInfo(&cond);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "read_raw_groups: SPI_connect failed");

	for (int i = 0; i < ndays; i++)
	{
		DateADT		d;
		bool		has_since = i < nsince && !since_null[i];
		int			y,
					m,
					dd;
		char		relname[NAMEDATALEN];
		Oid			rel;
		Oid			types[4] = {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		values[4];
		bool		isnull[4] = {false, false, false, false};
		int			nargs;

		/* (an infinite day has no events) */
		if (days_null[i] || DATE_NOT_FINITE(DatumGetDateADT(days[i])))
			continue;
		d = DatumGetDateADT(days[i]);
		values[0] = PG_GETARG_DATUM(0);
		/* (analytics.partition_name: usage_events_p and YYYYMMDD) */
		j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
		snprintf(relname, sizeof(relname), "usage_events_p%08d", y * 10000 + m * 100 + dd);
		rel = get_relname_relid(relname, nsp);
		resetStringInfo(&cond);
		if (!OidIsValid(rel))
		{
			/* the default partition, over the day's bounds */
			rg_statement(&sql, detail, "analytics.usage_events_default",
						 "AND e.occurred_at >= $2 AND e.occurred_at < $3 AND ($4::timestamptz IS NULL OR e.ingested_at >= $4)");
			values[1] = TimestampTzGetDatum((TimestampTz) d * USECS_PER_DAY);
			values[2] = TimestampTzGetDatum((TimestampTz) (d + 1) * USECS_PER_DAY);
			values[3] = has_since ? since[i] : (Datum) 0;
			isnull[3] = !has_since;
			nargs = 4;
		}
		else
		{
			if (has_since)
			{
				appendStringInfoString(&cond, "AND e.ingested_at >= ");
				rg_instant_literal(&cond, DatumGetTimestampTz(since[i]));
				/* (both ends: without statistics yet, as on a new day's
				 * partition, a range is estimated narrow, an open bound as
				 * a third of the rows) */
				appendStringInfoString(&cond, " AND e.ingested_at <= 'infinity'::timestamptz");
				/*
				 * Is there any?  Most tenants at most moments have nothing
				 * since the watermark, and a probe that stops at the first
				 * row costs less than starting the grouped statement (11
				 * microseconds a day with no row).
				 */
				resetStringInfo(&sql);
				appendStringInfo(&sql, "SELECT 1 FROM %s e WHERE e.tenant_id = $1 %s LIMIT 1",
								 quote_qualified_identifier("analytics", relname), cond.data);
				if (!rg_any(sql.data, values[0]))
					continue;
			}
			rg_statement(&sql, detail, quote_qualified_identifier("analytics", relname), cond.data);
			nargs = 1;
		}
		analytics_run_kept(sql.data, nargs, types, values, isnull, dest, 0, "read_raw_groups");
	}
	SPI_finish();
}

Datum
analytics_read_raw_groups(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		detail = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	DestReceiver *dest;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	/* (a NULL tenant matches no event; NULL arrays name no day) */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory, false,
									rsinfo->setDesc,
									gettext_noop("read_raw_groups: the rows do not match the result"));
	rg_read_days(fcinfo, detail, dest);
	dest->rDestroy(dest);
	return (Datum) 0;
}

/*
 * analytics.read_raw_arrays(tenant_id, days, since, detail): the rows of
 * read_raw_groups as one row of arrays, a column each (every array NULL
 * when there is no row, as array_agg over no rows).  A PL/pgSQL reader
 * takes it in one assignment, an expression evaluated without a plan of
 * its own, where "SELECT array_agg(..) INTO .. FROM read_raw_groups(..)"
 * ran a statement with a function scan, its tuplestore and an aggregate of
 * six arrays at every call.
 */
PG_FUNCTION_INFO_V1(analytics_read_raw_arrays);

#define RA_COLUMNS 9

typedef struct ArraysDest
{
	DestReceiver pub;
	MemoryContext cxt;			/* where the arrays grow */
	Oid			elemtypes[RA_COLUMNS];
	ArrayBuildState *acc[RA_COLUMNS];
} ArraysDest;

static bool
ra_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ArraysDest *ad = (ArraysDest *) self;

	if (slot->tts_tupleDescriptor->natts != RA_COLUMNS)
		elog(ERROR, "read_raw_arrays: a row of %d columns", slot->tts_tupleDescriptor->natts);
	slot_getallattrs(slot);
	for (int i = 0; i < RA_COLUMNS; i++)
	{
		if (TupleDescAttr(slot->tts_tupleDescriptor, i)->atttypid != ad->elemtypes[i])
			elog(ERROR, "read_raw_arrays: column %d is not of the result's type", i + 1);
		ad->acc[i] = accumArrayResult(ad->acc[i], slot->tts_values[i], slot->tts_isnull[i],
									  ad->elemtypes[i], ad->cxt);
	}
	return true;
}

static void
ra_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
ra_nothing(DestReceiver *self)
{
}

Datum
analytics_read_raw_arrays(PG_FUNCTION_ARGS)
{
	bool		detail = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	TupleDesc	tupdesc;
	ArraysDest	ad;
	Datum		values[RA_COLUMNS];
	bool		nulls[RA_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE || tupdesc->natts != RA_COLUMNS)
		elog(ERROR, "read_raw_arrays: the result is not a row of %d arrays", RA_COLUMNS);
	memset(&ad, 0, sizeof(ad));
	ad.pub.receiveSlot = ra_receive;
	ad.pub.rStartup = ra_startup;
	ad.pub.rShutdown = ra_nothing;
	ad.pub.rDestroy = ra_nothing;
	/* (not DestNone: SPI reports a SELECT whose rows are discarded as a
	 * utility statement) */
	ad.pub.mydest = DestTuplestore;
	ad.cxt = CurrentMemoryContext;
	for (int i = 0; i < RA_COLUMNS; i++)
	{
		ad.elemtypes[i] = get_element_type(TupleDescAttr(tupdesc, i)->atttypid);
		if (!OidIsValid(ad.elemtypes[i]))
			elog(ERROR, "read_raw_arrays: result column %d is not an array", i + 1);
	}
	/* (a NULL tenant matches no event; NULL arrays name no day) */
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1))
		rg_read_days(fcinfo, detail, &ad.pub);
	for (int i = 0; i < RA_COLUMNS; i++)
	{
		nulls[i] = ad.acc[i] == NULL;
		values[i] = nulls[i] ? (Datum) 0 : makeArrayResult(ad.acc[i], CurrentMemoryContext);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * analytics.read_plan(from date, to date, OUT days date[], OUT since
 * timestamptz[], OUT whole date[]): how the readers take the days of
 * [from, to] (layer 40's comment says what the arrays mean).  A day is
 * listed when it was never rolled up, when it changed since its rollup
 * (changed_days), or when it is yesterday or today (UTC, at the start of
 * the transaction, as analytics.utc_today()); its since is NULL (read
 * whole) when it was never rolled or changed otherwise than by appended
 * events, else its watermark.
 *
 * This was one SQL statement over generate_series and two outer joins with
 * three ordered aggregates, about 0.04 ms of every reader's call.  Here it
 * is two range reads of rollup_days and changed_days, with plans the
 * backend keeps (cached.c), sorted here (a small table is read whole and
 * sorted faster than by an executor's Sort node) and merged day by day.
 */
PG_FUNCTION_INFO_V1(analytics_read_plan);

#define RP_ROLLED "SELECT rd.day, rd.watermark FROM analytics.rollup_days rd " \
	"WHERE rd.day OPERATOR(pg_catalog.>=) $1 AND rd.day OPERATOR(pg_catalog.<=) $2"
#define RP_CHANGED "SELECT cd.day, cd.appended FROM analytics.changed_days cd " \
	"WHERE cd.day OPERATOR(pg_catalog.>=) $1 AND cd.day OPERATOR(pg_catalog.<=) $2"

/* A day of rollup_days (its watermark) or of changed_days (appended). */
typedef struct RpDay
{
	DateADT		day;
	bool		appended;
	TimestampTz mark;
} RpDay;

static int
rp_cmp(const void *a, const void *b)
{
	DateADT		x = ((const RpDay *) a)->day;
	DateADT		y = ((const RpDay *) b)->day;

	return (x > y) - (x < y);
}

/*
 * The days of a kept read-only statement over [lo, hi] (the day, then the
 * watermark if rolled, else the appended flag), copied into cxt out of
 * SPI's memory, which SPI_finish frees, and sorted by day.
 */
static RpDay *
rp_days(const char *query, DateADT lo, DateADT hi, MemoryContext cxt, bool rolled, uint64 *n)
{
	Oid			types[2] = {DATEOID, DATEOID};
	Datum		values[2] = {DateADTGetDatum(lo), DateADTGetDatum(hi)};
	bool		isnull[2] = {false, false};
	RpDay	   *days;

	*n = analytics_run_kept(query, 2, types, values, isnull, NULL, 0, "read_plan");
	days = MemoryContextAllocZero(cxt, sizeof(RpDay) * (*n + 1));
	for (uint64 i = 0; i < *n; i++)
	{
		bool		n1,
					n2;
		HeapTuple	tup = SPI_tuptable->vals[i];
		Datum		second = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &n2);

		days[i].day = DatumGetDateADT(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &n1));
		if (n1 || n2)
			elog(ERROR, "read_plan: a NULL in %s", rolled ? "rollup_days" : "changed_days");
		if (rolled)
			days[i].mark = DatumGetTimestampTz(second);
		else
			days[i].appended = DatumGetBool(second);
	}
	qsort(days, *n, sizeof(RpDay), rp_cmp);
	return days;
}

Datum
analytics_read_plan(PG_FUNCTION_ARGS)
{
	DateADT		lo = PG_GETARG_DATEADT(0);
	DateADT		hi = PG_GETARG_DATEADT(1);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	DateADT		live;
	TupleDesc	tupdesc;
	MemoryContext outer = CurrentMemoryContext;
	RpDay	   *rolled = NULL;
	RpDay	   *changed = NULL;
	uint64		nrolled = 0,
				nchanged = 0;
	Datum	   *days = NULL,
			   *since = NULL,
			   *whole = NULL;
	bool	   *since_null = NULL;
	int			ndays = 0,
				nwhole = 0,
				cap;
	uint64		ri = 0,
				ci = 0;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "read_plan: the result is not a row");
	if (DATE_NOT_FINITE(lo) || DATE_NOT_FINITE(hi))
		ereport(ERROR, errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("read_plan: a period's ends must be finite dates"));
	/* (analytics.utc_today() - 1: the transaction's start, in UTC) */
	live = (DateADT) ing_utc_day(now) - 1;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "read_plan: SPI_connect failed");
	if (lo <= hi)
	{
		rolled = rp_days(RP_ROLLED, lo, hi, outer, true, &nrolled);
		changed = rp_days(RP_CHANGED, lo, hi, outer, false, &nchanged);
	}
	SPI_finish();

	/*
	 * Listed: the days not rolled (hi - lo + 1 - nrolled of them), the
	 * changed ones and the live ones (at most two).
	 */
	cap = 0;
	if (lo <= hi)
	{
		int64		span = (int64) hi - lo + 1;

		if (span - (int64) nrolled + (int64) nchanged + 2 > MaxAllocSize / sizeof(Datum))
			ereport(ERROR, errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("read_plan: the period lists too many days"));
		cap = (int) (span - (int64) nrolled + (int64) nchanged + 2);
	}
	days = palloc(sizeof(Datum) * (cap + 1));
	since = palloc(sizeof(Datum) * (cap + 1));
	since_null = palloc(sizeof(bool) * (cap + 1));
	whole = palloc(sizeof(Datum) * (cap + 1));
	for (DateADT d = lo; d <= hi; d++)
	{
		bool		is_rolled,
					is_changed;

		while (ri < nrolled && rolled[ri].day < d)
			ri++;
		while (ci < nchanged && changed[ci].day < d)
			ci++;
		is_rolled = ri < nrolled && rolled[ri].day == d;
		is_changed = ci < nchanged && changed[ci].day == d;
		if (is_rolled && !is_changed && d < live)
			continue;
		Assert(ndays < cap);
		days[ndays] = DateADTGetDatum(d);
		if (!is_rolled || (is_changed && !changed[ci].appended))
		{
			since[ndays] = (Datum) 0;
			since_null[ndays] = true;
			whole[nwhole++] = DateADTGetDatum(d);
		}
		else
		{
			since[ndays] = TimestampTzGetDatum(rolled[ri].mark);
			since_null[ndays] = false;
		}
		ndays++;
		if (d == hi)
			break;				/* (hi may be the last finite date) */
	}
	{
		int			dims[1];
		int			lbs[1] = {1};

		dims[0] = ndays;
		values[0] = PointerGetDatum(construct_md_array(days, NULL, 1, dims, lbs, DATEOID, sizeof(DateADT), true, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_md_array(since, since_null, 1, dims, lbs, TIMESTAMPTZOID, sizeof(TimestampTz),
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		dims[0] = nwhole;
		values[2] = PointerGetDatum(construct_md_array(whole, NULL, 1, dims, lbs, DATEOID, sizeof(DateADT), true, TYPALIGN_INT));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
