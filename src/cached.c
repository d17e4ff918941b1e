/*
 * cached.c: analytics.execute_cached(query text, VARIADIC args "any")
 * returns SETOF record: PL/pgSQL's RETURN QUERY EXECUTE, with the plan kept.
 *
 * The readers (layer 50) read the raw events of a day from the day's own
 * partition, whose name changes every day, so their statement is dynamic
 * and PL/pgSQL's EXECUTE plans it again at every call: about 0.2 ms a
 * statement, most of what reading "the last few seconds of today" costs.
 * This function runs such a statement with a generic plan that the backend
 * keeps (SPI_keepplan), found again by the statement's text and argument
 * types, so a call after the first costs the execution alone.  The plans
 * are PostgreSQL's own cached plans: they are checked before each use and
 * planned again after DDL on what they read (a partition dropped and made
 * again), as PL/pgSQL's are.
 *
 * What the caller must know:
 *   - the plan is generic (the arguments unknown when planned): write the
 *     statement so that its generic plan is the right one (for example a
 *     range with both ends, which the planner estimates as narrow, to reach
 *     a BRIN index);
 *   - read-only: the statement runs as in a STABLE function (the caller's
 *     snapshot; a statement that writes is refused);
 *   - the rows must match the column definition list of the call by
 *     position and type (as RETURN QUERY's must);
 *   - at most EC_MAX_PLANS plans are kept per backend (the least recently
 *     used is freed), so memory stays bounded whatever the statements.
 * Not for PUBLIC: it runs any read-only statement as its caller, so only
 * the extension's own functions call it (layer 90 revokes it).
 */
#include "analytics.h"
#include "cached.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(analytics_execute_cached);

#define EC_MAX_PLANS 64
#define EC_MAX_ARGS 16
#define EC_MAX_QUERY 65536

typedef struct ExecCachedPlan
{
	uint32		hash;			/* of the text and the argument types */
	char	   *query;			/* in TopMemoryContext */
	int			nargs;
	Oid			types[EC_MAX_ARGS];
	SPIPlanPtr	plan;			/* kept (SPI_keepplan) */
	uint64		used;			/* the last use, for eviction */
} ExecCachedPlan;

static ExecCachedPlan ec_plans[EC_MAX_PLANS];
static int	ec_count = 0;
static uint64 ec_clock = 0;

static uint32
ec_hash(const char *query, int nargs, const Oid *types)
{
	uint32		h = hash_bytes((const unsigned char *) query, (int) strlen(query));

	if (nargs > 0)
		h = hash_combine(h, hash_bytes((const unsigned char *) types, (int) (nargs * sizeof(Oid))));
	return hash_combine(h, (uint32) nargs);
}

/*
 * The kept plan of a statement, prepared (generic) and kept if new (inside
 * SPI_connect; cached.h).
 */
SPIPlanPtr
analytics_kept_plan(const char *query, int nargs, Oid *types)
{
	uint32		h = ec_hash(query, nargs, types);
	int			victim = 0;
	SPIPlanPtr	plan;
	ExecCachedPlan *e;

	for (int i = 0; i < ec_count; i++)
	{
		e = &ec_plans[i];
		if (e->hash == h && e->nargs == nargs && strcmp(e->query, query) == 0
			&& (nargs == 0 || memcmp(e->types, types, nargs * sizeof(Oid)) == 0))
		{
			e->used = ++ec_clock;
			return e->plan;
		}
		if (e->used < ec_plans[victim].used)
			victim = i;
	}

	plan = SPI_prepare_cursor(query, nargs, types, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "execute_cached: could not prepare the statement: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "execute_cached: could not keep the plan");

	if (ec_count < EC_MAX_PLANS)
		victim = ec_count++;
	else
	{
		e = &ec_plans[victim];
		SPI_freeplan(e->plan);
		pfree(e->query);
	}
	e = &ec_plans[victim];
	e->hash = h;
	e->query = MemoryContextStrdup(TopMemoryContext, query);
	e->nargs = nargs;
	if (nargs > 0)
		memcpy(e->types, types, nargs * sizeof(Oid));
	e->plan = plan;
	e->used = ++ec_clock;
	return plan;
}

/*
 * Runs a statement with its kept plan (arguments values[i], NULL where
 * nulls[i]), read-only in the caller's snapshot, its rows into dest (NULL:
 * into SPI_tuptable), at most tcount of them (0: all); a statement that is
 * not a SELECT is refused, naming who.  Returns the number of rows.
 * Inside SPI_connect (cached.h).
 */
uint64
analytics_run_kept(const char *query, int nargs, Oid *types, const Datum *values, const bool *nulls,
				   DestReceiver *dest, long tcount, const char *who)
{
	ParamListInfo params = makeParamList(nargs);
	SPIExecuteOptions options;
	int			rc;

	for (int i = 0; i < nargs; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = nulls[i];
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.tcount = tcount;
	options.dest = dest;
	rc = SPI_execute_plan_extended(analytics_kept_plan(query, nargs, types), &options);
	if (rc != SPI_OK_SELECT)
		ereport(ERROR, errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("%s: only a SELECT may run here (%s)", who, SPI_result_code_string(rc)));
	return SPI_processed;
}

Datum
analytics_execute_cached(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *qtext;
	char	   *query;
	int			nargs = PG_NARGS() - 1;
	Oid			types[EC_MAX_ARGS];
	Datum		values[EC_MAX_ARGS];
	bool		nulls[EC_MAX_ARGS];
	DestReceiver *dest;

	if (PG_ARGISNULL(0))
		ereport(ERROR, errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("execute_cached: the statement is NULL"));
	if (get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR, errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("execute_cached: pass the arguments one by one, not as a VARIADIC array"));
	if (nargs > EC_MAX_ARGS)
		ereport(ERROR, errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("execute_cached: at most %d arguments", EC_MAX_ARGS));
	qtext = PG_GETARG_TEXT_PP(0);
	if (VARSIZE_ANY_EXHDR(qtext) > EC_MAX_QUERY)
		ereport(ERROR, errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("execute_cached: the statement is longer than %d bytes", EC_MAX_QUERY));
	query = text_to_cstring(qtext);

	for (int i = 0; i < nargs; i++)
	{
		Oid			t = get_fn_expr_argtype(fcinfo->flinfo, i + 1);

		if (!OidIsValid(t))
			ereport(ERROR, errcode(ERRCODE_INDETERMINATE_DATATYPE),
					errmsg("execute_cached: the type of argument %d is unknown", i + 1));
		if (t == UNKNOWNOID)
			ereport(ERROR, errcode(ERRCODE_INDETERMINATE_DATATYPE),
					errmsg("execute_cached: argument %d is an untyped literal; cast it", i + 1));
		types[i] = t;
		nulls[i] = PG_ARGISNULL(i + 1);
		values[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i + 1);
	}
	/* the rows go straight into the result's tuplestore */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory, false,
									rsinfo->setDesc,
									gettext_noop("execute_cached: the statement's rows do not match the column definition list"));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "execute_cached: SPI_connect failed");
	analytics_run_kept(query, nargs, types, values, nulls, dest, 0, "execute_cached");
	SPI_finish();
	dest->rDestroy(dest);
	pfree(query);
	return (Datum) 0;
}
