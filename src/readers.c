/*
 * readers.c: analytics.read_raw_groups(tenant_id uuid, days date[],
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
 *                      for every tenant;
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

Datum
analytics_read_raw_groups(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		detail = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	Datum	   *days = NULL;
	bool	   *days_null = NULL;
	int			ndays = 0;
	Datum	   *since = NULL;
	bool	   *since_null = NULL;
	int			nsince = 0;
	Oid			nsp;
	DestReceiver *dest;
	StringInfoData sql;
	StringInfoData cond;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	/* (a NULL tenant matches no event; NULL arrays name no day) */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), DATEOID, sizeof(DateADT), true, TYPALIGN_INT,
					  &days, &days_null, &ndays);
	if (!PG_ARGISNULL(2))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &since, &since_null, &nsince);

	nsp = get_namespace_oid("analytics", false);
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory, false,
									rsinfo->setDesc,
									gettext_noop("read_raw_groups: the rows do not match the result"));
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
			}
			rg_statement(&sql, detail, quote_qualified_identifier("analytics", relname), cond.data);
			nargs = 1;
		}
		analytics_run_kept(sql.data, nargs, types, values, isnull, dest, "read_raw_groups");
	}
	SPI_finish();
	dest->rDestroy(dest);
	return (Datum) 0;
}
