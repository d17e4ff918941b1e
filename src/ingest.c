/*
 * ingest.c: analytics.record_events(jsonb), batch ingestion of events.
 *
 * Vocabulary: a "batch" is the JSON array passed in; an "element" is one of
 * its objects, named by its 0-based index; a "field" is one of the
 * usage_events columns an element may carry (ingest_core.h lists them, with
 * their kinds and limits; this file only maps them to PostgreSQL types).
 *
 * One pass, all or nothing: every element is checked (ingest_core.c) and
 * converted into column arrays; occurred_at must lie in the accepted window
 * (analytics.raw_retention_days back, analytics.max_event_future_seconds
 * ahead); tenants must be registered; unknown agents are registered for
 * their event's tenant and an agent of another tenant is refused; then one
 * INSERT ... SELECT unnest(...) stores all rows (target-list unnest runs in
 * lockstep with no tuplestore, unlike a function scan in FROM), and
 * analytics.mark_days_appended() logs the UTC days the batch touched for the
 * rollups.  No partition is created here: rows of a day without one go to the
 * default partition, and the nightly job creates partitions.  Any error
 * aborts the statement, so nothing of a bad batch is stored.  Errors name the
 * element's index and the field in errdetail.
 */
#include "analytics.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "ingest_core.h"

PG_FUNCTION_INFO_V1(analytics_record_events);

/* Cached plans, prepared on first use; the INSERT for a 0.2.0 table and the current one. */
static SPIPlanPtr ingest_insert_plan[2] = {NULL, NULL};
static SPIPlanPtr ingest_tenant_plan = NULL;
static SPIPlanPtr ingest_agent_register_plan = NULL;
static SPIPlanPtr ingest_agent_check_plan = NULL;
static SPIPlanPtr ingest_days_plan = NULL;

/* The column type of a field kind. */
static Oid
ingest_kind_typid(ing_kind kind)
{
	switch (kind)
	{
		case ING_UUID:
			return UUIDOID;
		case ING_TIMESTAMP:
			return TIMESTAMPTZOID;
		case ING_BOOL:
			return BOOLOID;
		case ING_COUNT:
			return INT4OID;
		case ING_STATUS:
			return INT2OID;
		case ING_TOKENS:
			return INT8OID;
		case ING_LATENCY:
			return FLOAT8OID;
		case ING_OBJECT:
			return JSONBOID;
		case ING_EVENT_TYPE:
		case ING_TEXT:
			break;
	}
	return TEXTOID;
}

/* Raise the error for a bad field of an element. */
static void
ingest_field_error(int sqlstate, int index, const char *field, const char *problem)
{
	ereport(ERROR,
			errcode(sqlstate),
			errmsg("event %d: %s", index, problem),
			errdetail("Element index %d, field \"%s\".", index, field),
			errhint("Nothing of the batch was stored; fix the element and send the batch again."));
}

/* Raise a core error of field f of element index. */
static void
ingest_core_error(const ing_error *err, int index, int f)
{
	const char *field = ingest_fields[f].name;
	int			sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;

	switch (err->code)
	{
		case ING_ERR_UUID:
			sqlstate = ERRCODE_INVALID_TEXT_REPRESENTATION;
			break;
		case ING_ERR_LIMIT:
			sqlstate = ERRCODE_CHECK_VIOLATION;
			break;
		case ING_ERR_REQUIRED:
			sqlstate = ERRCODE_NOT_NULL_VIOLATION;
			break;
		case ING_ERR_WINDOW:
			ereport(ERROR,
					errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					errmsg("event %d: %s", index, err->message),
					errdetail("Element index %d, field \"%s\".", index, field),
					errhint("Nothing of the batch was stored; send events of the accepted window only (docs/events.md)."));
			break;
		case ING_ERR_EVENT_TYPE:
			{
				StringInfoData types;
				int			i;

				initStringInfo(&types);
				for (i = 0; i < ING_NEVENT_TYPES; i++)
					appendStringInfo(&types, "%s%s", i > 0 ? ", " : "", ingest_event_types[i]);
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("event %d: %s", index, err->message),
						errdetail("Element index %d, field \"%s\".", index, field),
						errhint("event_type is one of %s.", types.data));
			}
			break;
		default:
			break;
	}
	ingest_field_error(sqlstate, index, field, err->message);
}

static ing_json
ingest_json_type(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return ING_JSON_NULL;
		case jbvString:
			return ING_JSON_STRING;
		case jbvNumeric:
			return ING_JSON_NUMBER;
		case jbvBool:
			return ING_JSON_BOOL;
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? ING_JSON_ARRAY : ING_JSON_OBJECT;
		case jbvArray:
			return ING_JSON_ARRAY;
		default:
			return ING_JSON_OBJECT;
	}
}

/* Characters of a string in the database encoding. */
static size_t
ingest_charlen(const char *s, size_t len)
{
	return (size_t) pg_mbstrlen_with_len(s, (int) len);
}

/*
 * Parse an occurred_at.  A text without a UTC offset or zone is read as UTC,
 * whatever the session's TimeZone (PostgREST sets it from Prefer: timezone).
 */
static TimestampTz
ingest_parse_timestamptz(const char *str, int index, const char *field)
{
	static pg_tz *utc = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;
	pg_tz	   *saved = session_timezone;
	TimestampTz ts = 0;

	if (utc == NULL && (utc = pg_tzset("UTC")) == NULL)
		elog(ERROR, "time zone UTC is not available");
	PG_TRY();
	{
		session_timezone = utc;
		ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													 CStringGetDatum(str),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
		session_timezone = saved;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		session_timezone = saved;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		ingest_field_error(edata->sqlerrcode, index, field,
						   psprintf("occurred_at \"%s\" is not a valid timestamp: %s", str, edata->message));
	}
	PG_END_TRY();

	if (TIMESTAMP_NOT_FINITE(ts))
		ingest_field_error(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, index, field,
						   psprintf("occurred_at \"%s\" is not a finite time", str));
	return ts;
}

/* The text, for the core, of a JSON scalar or object; NULL for null and arrays. */
static const char *
ingest_value_text(JsonbValue *v, ing_json type, size_t *len)
{
	char	   *s;

	*len = 0;
	switch (type)
	{
		case ING_JSON_STRING:
			*len = v->val.string.len;
			return v->val.string.val;
		case ING_JSON_NUMBER:
			s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
			*len = strlen(s);
			return s;
		case ING_JSON_BOOL:
			*len = v->val.boolean ? 4 : 5;
			return v->val.boolean ? "true" : "false";
		case ING_JSON_OBJECT:
			s = JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
			*len = strlen(s);
			return s;
		default:
			return NULL;
	}
}

/* Store the checked value of field f of element i as a Datum. */
static void
ingest_store(const ing_value *cv, JsonbValue *jv, int f, int i, Datum *datum, bool *isnull,
			 TimestampTz now, int retention_days, int future_seconds)
{
	ing_error	err;

	*isnull = cv->isnull != 0;
	if (*isnull)
		return;
	switch (ingest_fields[f].kind)
	{
		case ING_UUID:
			{
				pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

				memcpy(u->data, cv->uuid, UUID_LEN);
				*datum = UUIDPGetDatum(u);
				break;
			}
		case ING_TIMESTAMP:
			{
				TimestampTz ts = ingest_parse_timestamptz(pnstrdup(cv->str, cv->len), i,
														  ingest_fields[f].name);

				if (ing_check_window(ts, now, retention_days, future_seconds, &err))
					ingest_core_error(&err, i, f);
				*datum = TimestampTzGetDatum(ts);
				break;
			}
		case ING_BOOL:
			*datum = BoolGetDatum(cv->i != 0);
			break;
		case ING_COUNT:
			*datum = Int32GetDatum((int32) cv->i);
			break;
		case ING_STATUS:
			*datum = Int16GetDatum((int16) cv->i);
			break;
		case ING_TOKENS:
			*datum = Int64GetDatum(cv->i);
			break;
		case ING_LATENCY:
			*datum = Float8GetDatum(cv->d);
			break;
		case ING_EVENT_TYPE:
		case ING_TEXT:
			*datum = PointerGetDatum(cstring_to_text_with_len(cv->str, (int) cv->len));
			break;
		case ING_OBJECT:
			*datum = JsonbPGetDatum(JsonbValueToJsonb(jv));
			break;
	}
}

/* Prepare and keep a plan once. */
static SPIPlanPtr
ingest_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*slot = plan;
	}
	return *slot;
}

static int
ingest_uuid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

/* A sorted, duplicate-free copy of the non-null uuids of one column. */
static int
ingest_distinct_uuids(Datum *vals, bool *nulls, int n, pg_uuid_t **out)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t) * Max(n, 1));
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!nulls[i])
			u[m++] = *DatumGetUUIDP(vals[i]);
	}
	qsort(u, m, sizeof(pg_uuid_t), ingest_uuid_cmp);
	if (m > 1)
	{
		int			k = 1;

		for (i = 1; i < m; i++)
		{
			if (memcmp(&u[i], &u[k - 1], UUID_LEN) != 0)
				u[k++] = u[i];
		}
		m = k;
	}
	*out = u;
	return m;
}

static ArrayType *
ingest_uuid_array(pg_uuid_t *u, int m)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(m, 1));
	int			i;

	for (i = 0; i < m; i++)
		d[i] = UUIDPGetDatum(&u[i]);
	return construct_array(d, m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
}

/* First element whose uuid in column col equals u. */
static int
ingest_first_index(Datum *vals, bool *nulls, int n, pg_uuid_t *u)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!nulls[i] && memcmp(DatumGetUUIDP(vals[i]), u, UUID_LEN) == 0)
			return i;
	}
	return -1;
}

static char *
ingest_uuid_text(pg_uuid_t *u)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(u)));
}

typedef struct IngestPair
{
	pg_uuid_t	agent;
	pg_uuid_t	tenant;
	int			index;
} IngestPair;

/* Order by agent, then by element index. */
static int
ingest_pair_cmp(const void *a, const void *b)
{
	const IngestPair *x = a;
	const IngestPair *y = b;
	int			c = memcmp(&x->agent, &y->agent, UUID_LEN);

	if (c != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/* Raise the error for an agent that is not the element's tenant's. */
static void
ingest_agent_error(Datum **vals, int index)
{
	ereport(ERROR,
			errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			errmsg("event %d: agent %s does not belong to tenant %s", index,
				   ingest_uuid_text(DatumGetUUIDP(vals[ING_F_AGENT][index])),
				   ingest_uuid_text(DatumGetUUIDP(vals[ING_F_TENANT][index]))),
			errdetail("Element index %d, field \"agent_id\".", index),
			errhint("An agent belongs to exactly one tenant."));
}

/* Refuse unregistered tenants, naming the first element concerned. */
static void
ingest_check_tenants(Datum **vals, bool **nulls, int n)
{
	pg_uuid_t  *tenants;
	int			ntenants = ingest_distinct_uuids(vals[ING_F_TENANT], nulls[ING_F_TENANT], n, &tenants);
	Datum		arg[1];
	Oid			argtypes[1] = {UUIDARRAYOID};
	SPIPlanPtr	plan;
	int			rc;

	plan = ingest_plan(&ingest_tenant_plan,
					   "SELECT t FROM pg_catalog.unnest($1) t "
					   "WHERE NOT EXISTS (SELECT 1 FROM analytics.tenants r WHERE r.tenant_id = t) LIMIT 1",
					   1, argtypes);
	arg[0] = PointerGetDatum(ingest_uuid_array(tenants, ntenants));
	rc = SPI_execute_plan(plan, arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "tenant lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		pg_uuid_t  *bad = DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		int			index = ingest_first_index(vals[ING_F_TENANT], nulls[ING_F_TENANT], n, bad);

		ereport(ERROR,
				errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				errmsg("event %d: tenant %s is not registered", index, ingest_uuid_text(bad)),
				errdetail("Element index %d, field \"tenant_id\".", index),
				errhint("Register the tenant first with analytics.upsert_tenant()."));
	}
}

/*
 * An agent belongs to one tenant, within the batch and in the registry:
 * register the batch's unknown agents for their event's tenant, then refuse
 * an agent registered to another tenant, naming the first element concerned.
 */
static void
ingest_register_agents(Datum **vals, bool **nulls, int n)
{
	IngestPair *pairs = palloc(sizeof(IngestPair) * n);
	Datum	   *agents = palloc(sizeof(Datum) * n);
	Datum	   *owners = palloc(sizeof(Datum) * n);
	Datum		arg[2];
	Oid			argtypes[2] = {UUIDARRAYOID, UUIDARRAYOID};
	SPIPlanPtr	plan;
	int			m = 0;
	int			k = 0;
	int			rc;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (nulls[ING_F_AGENT][i])
			continue;
		memcpy(&pairs[m].agent, DatumGetUUIDP(vals[ING_F_AGENT][i]), UUID_LEN);
		memcpy(&pairs[m].tenant, DatumGetUUIDP(vals[ING_F_TENANT][i]), UUID_LEN);
		pairs[m].index = i;
		m++;
	}
	if (m == 0)
		return;
	qsort(pairs, m, sizeof(IngestPair), ingest_pair_cmp);
	for (i = 0; i < m; i++)
	{
		if (i > 0 && memcmp(&pairs[i].agent, &pairs[i - 1].agent, UUID_LEN) == 0)
		{
			if (memcmp(&pairs[i].tenant, &pairs[i - 1].tenant, UUID_LEN) != 0)
				ingest_agent_error(vals, Max(pairs[i].index, pairs[i - 1].index));
			continue;
		}
		agents[k] = UUIDPGetDatum(&pairs[i].agent);
		owners[k] = UUIDPGetDatum(&pairs[i].tenant);
		k++;
	}
	arg[0] = PointerGetDatum(construct_array(agents, k, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	arg[1] = PointerGetDatum(construct_array(owners, k, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));

	/* in agent order, so that concurrent batches lock the same keys in the same order */
	plan = ingest_plan(&ingest_agent_register_plan,
					   "INSERT INTO analytics.agents (agent_id, tenant_id) "
					   "SELECT u.agent_id, u.tenant_id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) u(agent_id, tenant_id) "
					   "ON CONFLICT (agent_id) DO NOTHING",
					   2, argtypes);
	rc = SPI_execute_plan(plan, arg, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "agent registration failed: %s", SPI_result_code_string(rc));

	plan = ingest_plan(&ingest_agent_check_plan,
					   "SELECT u.agent_id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) u(agent_id, tenant_id) "
					   "JOIN analytics.agents a ON a.agent_id = u.agent_id "
					   "WHERE a.tenant_id <> u.tenant_id LIMIT 1",
					   2, argtypes);
	rc = SPI_execute_plan(plan, arg, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "agent lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		pg_uuid_t  *bad = DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		ingest_agent_error(vals, ingest_first_index(vals[ING_F_AGENT], nulls[ING_F_AGENT], n, bad));
	}
}

static int
ingest_int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Log the distinct UTC days of the batch: analytics.mark_days_appended(date[]). */
static const char *days_fn = "mark_days_appended";

static void
ingest_mark_days(Datum *ts, int n)
{
	int64	   *days = palloc(sizeof(int64) * n);
	Datum	   *d = palloc(sizeof(Datum) * n);
	Datum		arg[1];
	Oid			argtypes[1] = {DATEARRAYOID};
	SPIPlanPtr	plan;
	int			m = 0;
	int			rc;
	int			i;

	for (i = 0; i < n; i++)
		days[i] = ing_utc_day(DatumGetTimestampTz(ts[i]));
	qsort(days, n, sizeof(int64), ingest_int64_cmp);
	for (i = 0; i < n; i++)
	{
		/* in the accepted window, so a valid date */
		if (i == 0 || days[i] != days[i - 1])
			d[m++] = DateADTGetDatum((DateADT) days[i]);
	}
	arg[0] = PointerGetDatum(construct_array(d, m, DATEOID, sizeof(DateADT), true, TYPALIGN_INT));

	/*
	 * A database still on 0.2.0 SQL (library updated, ALTER EXTENSION not
	 * yet run) has only mark_days_changed, which logs the days as rewritten:
	 * slower reads until the update, never a wrong answer.
	 */
	if (ingest_days_plan == NULL)
	{
		List	   *fname = list_make2(makeString("analytics"), makeString("mark_days_appended"));

		days_fn = OidIsValid(LookupFuncName(fname, 1, argtypes, true))
			? "mark_days_appended" : "mark_days_changed";
	}
	plan = ingest_plan(&ingest_days_plan,
					   strcmp(days_fn, "mark_days_appended") == 0
					   ? "SELECT analytics.mark_days_appended($1)"
					   : "SELECT analytics.mark_days_changed($1)", 1, argtypes);
	rc = SPI_execute_plan(plan, arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "%s failed: %s", days_fn, SPI_result_code_string(rc));
}

/*
 * How many of ingest_fields the table has: all of them, or the first
 * ING_NFIELDS_020 in a database still on 0.2.0 SQL (library updated, ALTER
 * EXTENSION not yet run), where the fields added in 0.3.0 are refused and
 * the others stored as before.  Looked up at each call (two syscache
 * lookups), so an update in the middle of a session is seen at once.
 */
static int
ingest_table_nfields(void)
{
	Oid			rel = get_relname_relid("usage_events", get_namespace_oid("analytics", false));

	if (OidIsValid(rel) && get_attnum(rel, ingest_fields[ING_NFIELDS_020].name) == InvalidAttrNumber)
		return ING_NFIELDS_020;
	return ING_NFIELDS;
}

/* INSERT INTO usage_events (the first nfields fields) SELECT unnest($1), ..., from ingest_fields. */
static SPIPlanPtr
ingest_insert(int nfields)
{
	SPIPlanPtr *slot = &ingest_insert_plan[nfields == ING_NFIELDS];

	if (*slot == NULL)
	{
		StringInfoData sql;
		Oid			argtypes[ING_NFIELDS];
		int			i;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "INSERT INTO analytics.usage_events (");
		for (i = 0; i < nfields; i++)
			appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", ingest_fields[i].name);
		appendStringInfoString(&sql, ") SELECT ");
		for (i = 0; i < nfields; i++)
		{
			appendStringInfo(&sql, "%spg_catalog.unnest($%d)", i > 0 ? ", " : "", i + 1);
			argtypes[i] = get_array_type(ingest_kind_typid(ingest_fields[i].kind));
		}
		ingest_plan(slot, sql.data, nfields, argtypes);
	}
	return *slot;
}

/* analytics.record_events(events jsonb) returns bigint */
Datum
analytics_record_events(PG_FUNCTION_ARGS)
{
	Jsonb	   *events = PG_GETARG_JSONB_P(0);
	Datum	   *vals[ING_NFIELDS];
	bool	   *nulls[ING_NFIELDS];
	Datum		args[ING_NFIELDS];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			retention_days = analytics_setting_int("raw_retention_days");
	int			future_seconds = analytics_setting_int("max_event_future_seconds");
	int			nfields = ingest_table_nfields();
	ing_element elem;
	ing_error	err;
	int			n;
	int			i;
	int			rc;

	if (!JB_ROOT_IS_ARRAY(events) || JB_ROOT_IS_SCALAR(events))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("events must be a JSON array"),
				errdetail("The value given is a JSON %s.",
						  JB_ROOT_IS_OBJECT(events) ? "object" : "scalar"),
				errhint("Send an array of event objects, for example [{\"tenant_id\": \"...\", \"occurred_at\": \"...\", \"event_type\": \"api_call\"}]."));

	n = JB_ROOT_COUNT(events);
	if (n == 0)
		PG_RETURN_INT64(0);
	if (n > ING_MAX_BATCH)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a batch holds at most %d events, not %d", ING_MAX_BATCH, n),
				errhint("Nothing of the batch was stored; send it in smaller batches."));

	for (i = 0; i < ING_NFIELDS; i++)
	{
		vals[i] = palloc(sizeof(Datum) * n);
		nulls[i] = palloc(sizeof(bool) * n);
	}

	for (i = 0; i < n; i++)
	{
		JsonbValue *ev = getIthJsonbValueFromContainer(&events->root, i);
		JsonbValue	values[ING_NFIELDS];
		JsonbIterator *it;
		JsonbIteratorToken tok;
		JsonbValue	v;
		int			f;

		if (ev->type != jbvBinary || !JsonContainerIsObject(ev->val.binary.data))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("event %d: element is a JSON %s, not an object", i,
						   ing_json_name(ingest_json_type(ev))),
					errdetail("Element index %d, field \"(element)\".", i),
					errhint("Each element of the array is one event object."));

		ing_element_reset(&elem);
		it = JsonbIteratorInit(ev->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			ing_json	type;
			const char *text;
			size_t		len;

			if (tok != WJB_KEY)
				continue;
			f = ing_field_lookup(v.val.string.val, v.val.string.len);
			if (f < 0)
			{
				StringInfoData names;

				initStringInfo(&names);
				for (f = 0; f < ING_NFIELDS; f++)
					appendStringInfo(&names, "%s%s", f > 0 ? ", " : "", ingest_fields[f].name);
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("event %d: unknown field \"%.*s\"", i,
							   Min(v.val.string.len, 64), v.val.string.val),
						errdetail("Element index %d, field \"%.*s\".", i,
								  Min(v.val.string.len, 64), v.val.string.val),
						errhint("The fields are the columns of analytics.usage_events: %s.", names.data));
			}
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			type = ingest_json_type(&v);
			if (f >= nfields && type != ING_JSON_NULL)
				ereport(ERROR,
						errcode(ERRCODE_UNDEFINED_COLUMN),
						errmsg("event %d: field \"%s\" needs version 0.3.0 of the extension", i,
							   ingest_fields[f].name),
						errdetail("Element index %d, field \"%s\".", i, ingest_fields[f].name),
						errhint("Nothing of the batch was stored; run ALTER EXTENSION analytics UPDATE."));
			text = ingest_value_text(&v, type, &len);
			if (ing_element_set(&elem, f, type, text, len, ingest_charlen, &err))
				ingest_core_error(&err, i, f);
			values[f] = v;
		}
		if (ing_element_finish(&elem, &err))
			ingest_core_error(&err, i, err.field);
		for (f = 0; f < ING_NFIELDS; f++)
			ingest_store(&elem.v[f], &values[f], f, i, &vals[f][i], &nulls[f][i],
						 now, retention_days, future_seconds);
	}

	SPI_connect();
	ingest_check_tenants(vals, nulls, n);
	ingest_register_agents(vals, nulls, n);

	for (i = 0; i < nfields; i++)
	{
		Oid			typid = ingest_kind_typid(ingest_fields[i].kind);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		int			dims[1] = {n};
		int			lbs[1] = {1};

		get_typlenbyvalalign(typid, &typlen, &typbyval, &typalign);
		args[i] = PointerGetDatum(construct_md_array(vals[i], nulls[i], 1, dims, lbs,
													 typid, typlen, typbyval, typalign));
	}
	rc = SPI_execute_plan(ingest_insert(nfields), args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "insert into usage_events failed: %s", SPI_result_code_string(rc));
	ingest_mark_days(vals[ING_F_OCCURRED], n);
	SPI_finish();

	PG_RETURN_INT64((int64) n);
}
