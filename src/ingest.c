/*
 * ingest.c: analytics.record_events(jsonb), batch ingestion of events.
 *
 * Vocabulary: a "batch" is the JSON array passed in; an "element" is one of
 * its objects, named by its 0-based index; a "field" is one of the
 * usage_events column names an element may carry.
 *
 * The batch is validated whole before anything is written: every element is
 * converted into column arrays, tenants and agents are checked, missing day
 * partitions are created, and then one INSERT ... SELECT unnest(...) stores
 * all rows (target-list unnest runs in lockstep with no tuplestore, unlike a
 * function scan in FROM).  Any error aborts the statement, so nothing of a bad batch
 * is stored.  Errors name the element's index and the field in errdetail.
 */
#include "analytics.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(analytics_record_events);

typedef enum IngestKind
{
	K_UUID,
	K_TIMESTAMPTZ,
	K_EVENT_TYPE,
	K_BOOL,
	K_COUNT,					/* int4 > 0 */
	K_STATUS,					/* int2 in 100..599 */
	K_TOKENS,					/* int8 >= 0 */
	K_LATENCY,					/* float8 >= 0, finite */
	K_TEXT,
	K_OBJECT					/* jsonb object */
} IngestKind;

typedef struct IngestField
{
	const char *name;
	IngestKind	kind;
	Oid			typid;
	bool		required;
} IngestField;

/* Column order of the INSERT below. */
static const IngestField ingest_fields[] = {
	{"tenant_id", K_UUID, UUIDOID, true},
	{"agent_id", K_UUID, UUIDOID, false},
	{"occurred_at", K_TIMESTAMPTZ, TIMESTAMPTZOID, true},
	{"event_type", K_EVENT_TYPE, TEXTOID, true},
	{"success", K_BOOL, BOOLOID, false},
	{"count", K_COUNT, INT4OID, false},
	{"endpoint", K_TEXT, TEXTOID, false},
	{"method", K_TEXT, TEXTOID, false},
	{"status_code", K_STATUS, INT2OID, false},
	{"tool_name", K_TEXT, TEXTOID, false},
	{"mcp_server", K_TEXT, TEXTOID, false},
	{"model", K_TEXT, TEXTOID, false},
	{"input_tokens", K_TOKENS, INT8OID, false},
	{"output_tokens", K_TOKENS, INT8OID, false},
	{"latency_ms", K_LATENCY, FLOAT8OID, false},
	{"user_id", K_TEXT, TEXTOID, false},
	{"session_id", K_TEXT, TEXTOID, false},
	{"workflow_id", K_TEXT, TEXTOID, false},
	{"execution_id", K_TEXT, TEXTOID, false},
	{"error_code", K_TEXT, TEXTOID, false},
	{"attributes", K_OBJECT, JSONBOID, false},
};

#define INGEST_NFIELDS lengthof(ingest_fields)
#define F_TENANT 0
#define F_AGENT 1
#define F_OCCURRED 2
#define F_SUCCESS 4
#define F_COUNT 5

static const char *const ingest_event_types[] = {
	"api_call", "token_issuance", "credential_rotation", "tool_call",
	"llm_call", "agent_execution", "workflow", "session"
};

#define INGEST_INSERT_SQL \
	"INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, " \
	"success, count, endpoint, method, status_code, tool_name, mcp_server, model, " \
	"input_tokens, output_tokens, latency_ms, user_id, session_id, workflow_id, " \
	"execution_id, error_code, attributes) " \
	"SELECT pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), " \
	"pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8), " \
	"pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12), " \
	"pg_catalog.unnest($13), pg_catalog.unnest($14), pg_catalog.unnest($15), pg_catalog.unnest($16), " \
	"pg_catalog.unnest($17), pg_catalog.unnest($18), pg_catalog.unnest($19), pg_catalog.unnest($20), " \
	"pg_catalog.unnest($21)"

static SPIPlanPtr ingest_insert_plan = NULL;

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

static const char *
ingest_jsonb_type_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		case jbvArray:
			return "array";
		case jbvObject:
			return "object";
		default:
			return "value";
	}
}

/* Value of a hex digit, or -1. */
static inline int
hex_value_or_neg(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a UUID in the forms uuid_in accepts; false when malformed. */
static bool
ingest_parse_uuid(const char *s, int len, pg_uuid_t *out)
{
	int			pos = 0;
	int			i;
	bool		braces = false;

	if (len > 0 && s[0] == '{')
	{
		braces = true;
		pos++;
	}
	for (i = 0; i < UUID_LEN; i++)
	{
		int			hi,
					lo;

		if (pos + 1 >= len)
			return false;
		hi = hex_value_or_neg(s[pos]);
		lo = hex_value_or_neg(s[pos + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out->data[i] = (unsigned char) (hi << 4 | lo);
		pos += 2;
		if (pos < len && s[pos] == '-' && i % 2 == 1 && i < UUID_LEN - 1)
			pos++;
	}
	if (braces)
	{
		if (pos >= len || s[pos] != '}')
			return false;
		pos++;
	}
	return pos == len;
}

/*
 * Parse a JSON number as an integer in [lo, hi]; returns 0 when it is one,
 * 1 when it has a fractional part, 2 when it is out of range.
 */
static int
ingest_numeric_to_int64(Numeric num, int64 lo, int64 hi, int64 *out)
{
	char	   *str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char	   *p = str;
	bool		neg = false;
	uint64		acc = 0;
	bool		overflow = false;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (acc > (PG_UINT64_MAX - 9) / 10)
			overflow = true;
		else
			acc = acc * 10 + (*p - '0');
	}
	if (*p == '.')
	{
		for (p++; *p == '0'; p++)
			;
	}
	if (*p != '\0')
		return 1;
	if (overflow || acc > (uint64) PG_INT64_MAX + (neg ? 1 : 0))
		return 2;
	*out = neg ? (int64) (0 - acc) : (int64) acc;
	if (*out < lo || *out > hi)
		return 2;
	return 0;
}

/* Convert a timestamp string, turning a conversion error into ours. */
static TimestampTz
ingest_parse_timestamptz(const char *str, int index, const char *field)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	TimestampTz ts = 0;

	PG_TRY();
	{
		ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													 CStringGetDatum(str),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

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

/* Convert one field of element index into datum/isnull. */
static void
ingest_convert(const IngestField *f, JsonbValue *v, int index, Datum *datum, bool *isnull)
{
	*isnull = false;
	if (v->type == jbvNull)
	{
		*isnull = true;
		return;
	}

	switch (f->kind)
	{
		case K_UUID:
			{
				pg_uuid_t  *u;

				if (v->type != jbvString)
					ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
									   psprintf("%s must be a string holding a uuid, not a JSON %s",
												f->name, ingest_jsonb_type_name(v)));
				u = palloc(sizeof(pg_uuid_t));
				if (!ingest_parse_uuid(v->val.string.val, v->val.string.len, u))
					ingest_field_error(ERRCODE_INVALID_TEXT_REPRESENTATION, index, f->name,
									   psprintf("%s \"%.*s\" is not a valid uuid", f->name,
												Min(v->val.string.len, 64), v->val.string.val));
				*datum = UUIDPGetDatum(u);
				break;
			}
		case K_TIMESTAMPTZ:
			if (v->type != jbvString)
				ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
								   psprintf("%s must be a string holding a timestamp, not a JSON %s",
											f->name, ingest_jsonb_type_name(v)));
			*datum = TimestampTzGetDatum(ingest_parse_timestamptz(pnstrdup(v->val.string.val, v->val.string.len),
																  index, f->name));
			break;
		case K_EVENT_TYPE:
			{
				int			i;

				if (v->type != jbvString)
					ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
									   psprintf("event_type must be a string, not a JSON %s",
												ingest_jsonb_type_name(v)));
				for (i = 0; i < lengthof(ingest_event_types); i++)
				{
					if (strlen(ingest_event_types[i]) == v->val.string.len &&
						memcmp(ingest_event_types[i], v->val.string.val, v->val.string.len) == 0)
						break;
				}
				if (i == lengthof(ingest_event_types))
					ereport(ERROR,
							errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("event %d: unknown event_type \"%.*s\"", index,
								   Min(v->val.string.len, 64), v->val.string.val),
							errdetail("Element index %d, field \"event_type\".", index),
							errhint("event_type is one of api_call, token_issuance, credential_rotation, tool_call, llm_call, agent_execution, workflow, session."));
				*datum = PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
				break;
			}
		case K_BOOL:
			if (v->type != jbvBool)
				ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
								   psprintf("%s must be true or false, not a JSON %s",
											f->name, ingest_jsonb_type_name(v)));
			*datum = BoolGetDatum(v->val.boolean);
			break;
		case K_COUNT:
		case K_STATUS:
		case K_TOKENS:
			{
				int64		n = 0;
				int			rc;

				if (v->type != jbvNumeric)
					ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
									   psprintf("%s must be a number, not a JSON %s",
												f->name, ingest_jsonb_type_name(v)));
				rc = ingest_numeric_to_int64(v->val.numeric, PG_INT64_MIN, PG_INT64_MAX, &n);
				if (rc == 1)
					ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
									   psprintf("%s must be a whole number", f->name));
				if (f->kind == K_COUNT)
				{
					if (rc == 2 || n > PG_INT32_MAX)
						ingest_field_error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, index, f->name,
										   "count is out of range for integer");
					if (n < 1)
						ingest_field_error(ERRCODE_CHECK_VIOLATION, index, f->name,
										   psprintf("count must be at least 1, not " INT64_FORMAT, n));
					*datum = Int32GetDatum((int32) n);
				}
				else if (f->kind == K_STATUS)
				{
					if (rc == 2 || n < 100 || n > 599)
						ingest_field_error(ERRCODE_CHECK_VIOLATION, index, f->name,
										   "status_code must be an HTTP status between 100 and 599");
					*datum = Int16GetDatum((int16) n);
				}
				else
				{
					if (rc == 2)
						ingest_field_error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, index, f->name,
										   psprintf("%s is out of range for bigint", f->name));
					if (n < 0)
						ingest_field_error(ERRCODE_CHECK_VIOLATION, index, f->name,
										   psprintf("%s must not be negative", f->name));
					*datum = Int64GetDatum(n);
				}
				break;
			}
		case K_LATENCY:
			{
				char	   *str;
				char	   *end;
				double		d;

				if (v->type != jbvNumeric)
					ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
									   psprintf("latency_ms must be a number, not a JSON %s",
												ingest_jsonb_type_name(v)));
				str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
				d = strtod(str, &end);
				if (*end != '\0' || isinf(d) || isnan(d))
					ingest_field_error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, index, f->name,
									   "latency_ms is out of range for double precision");
				if (d < 0)
					ingest_field_error(ERRCODE_CHECK_VIOLATION, index, f->name,
									   "latency_ms must not be negative");
				*datum = Float8GetDatum(d);
				break;
			}
		case K_TEXT:
			if (v->type != jbvString)
				ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
								   psprintf("%s must be a string, not a JSON %s",
											f->name, ingest_jsonb_type_name(v)));
			*datum = PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
			break;
		case K_OBJECT:
			if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
				ingest_field_error(ERRCODE_INVALID_PARAMETER_VALUE, index, f->name,
								   psprintf("%s must be a JSON object, not a JSON %s",
											f->name, ingest_jsonb_type_name(v)));
			*datum = JsonbPGetDatum(JsonbValueToJsonb(v));
			break;
	}
}

/* Find the field by name, or -1. */
static int
ingest_field_lookup(const char *name, int len)
{
	int			i;

	for (i = 0; i < INGEST_NFIELDS; i++)
	{
		if (strlen(ingest_fields[i].name) == len &&
			memcmp(ingest_fields[i].name, name, len) == 0)
			return i;
	}
	return -1;
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
				   ingest_uuid_text(DatumGetUUIDP(vals[F_AGENT][index])),
				   ingest_uuid_text(DatumGetUUIDP(vals[F_TENANT][index]))),
			errdetail("Element index %d, field \"agent_id\".", index),
			errhint("An agent belongs to exactly one tenant."));
}

/*
 * Refuse unregistered tenants and agents registered to another tenant, naming
 * the first element concerned.  (The statement trigger on usage_events checks
 * the same for INSERT and COPY; here the error can name the element.)
 */
static void
ingest_check_owners(Datum **vals, bool **nulls, int n)
{
	pg_uuid_t  *tenants;
	int			ntenants = ingest_distinct_uuids(vals[F_TENANT], nulls[F_TENANT], n, &tenants);
	Datum		arg[2];
	Oid			argtypes[2] = {UUIDARRAYOID, UUIDARRAYOID};
	int			rc;
	int			i;

	arg[0] = PointerGetDatum(ingest_uuid_array(tenants, ntenants));
	rc = SPI_execute_with_args("SELECT t FROM pg_catalog.unnest($1) t "
							   "WHERE NOT EXISTS (SELECT 1 FROM analytics.tenants r WHERE r.tenant_id = t) LIMIT 1",
							   1, argtypes, arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "tenant lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		pg_uuid_t  *bad = DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		int			index = ingest_first_index(vals[F_TENANT], nulls[F_TENANT], n, bad);

		ereport(ERROR,
				errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				errmsg("event %d: tenant %s is not registered", index, ingest_uuid_text(bad)),
				errdetail("Element index %d, field \"tenant_id\".", index),
				errhint("Register the tenant first with analytics.upsert_tenant()."));
	}

	/* An agent belongs to one tenant: within the batch and in the registry. */
	{
		IngestPair *pairs = palloc(sizeof(IngestPair) * n);
		Datum	   *agents = palloc(sizeof(Datum) * n);
		Datum	   *owners = palloc(sizeof(Datum) * n);
		int			m = 0;
		int			k = 0;

		for (i = 0; i < n; i++)
		{
			if (nulls[F_AGENT][i])
				continue;
			memcpy(&pairs[m].agent, DatumGetUUIDP(vals[F_AGENT][i]), UUID_LEN);
			memcpy(&pairs[m].tenant, DatumGetUUIDP(vals[F_TENANT][i]), UUID_LEN);
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
		rc = SPI_execute_with_args("SELECT u.agent_id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) u(agent_id, tenant_id) "
								   "JOIN analytics.agents a ON a.agent_id = u.agent_id "
								   "WHERE a.tenant_id <> u.tenant_id LIMIT 1",
								   2, argtypes, arg, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "agent lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0)
		{
			bool		isnull;
			pg_uuid_t  *bad = DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

			ingest_agent_error(vals, ingest_first_index(vals[F_AGENT], nulls[F_AGENT], n, bad));
		}
	}
}

static int
ingest_int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Create the day partitions the batch needs and does not have yet. */
static void
ingest_ensure_partitions(Datum *ts, int n)
{
	int64	   *days = palloc(sizeof(int64) * n);
	Oid			nsp = get_namespace_oid("analytics", false);
	int			i;

	for (i = 0; i < n; i++)
	{
		TimestampTz t = DatumGetTimestampTz(ts[i]);
		int64		d = t / USECS_PER_DAY;

		if (t < 0 && t % USECS_PER_DAY != 0)
			d--;
		days[i] = d;
	}
	qsort(days, n, sizeof(int64), ingest_int64_cmp);
	for (i = 0; i < n; i++)
	{
		DateADT		day;
		char		name[NAMEDATALEN];
		int			y,
					m,
					dd;

		if (i > 0 && days[i] == days[i - 1])
			continue;
		if (days[i] < PG_INT32_MIN || days[i] > PG_INT32_MAX)
			continue;			/* leave it to the default partition */
		day = (DateADT) days[i];
		j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
		if (y < 1 || y > 9999)
			continue;			/* outside the partition naming scheme */
		snprintf(name, sizeof(name), "usage_events_p%04d%02d%02d", y, m, dd);
		if (!OidIsValid(get_relname_relid(name, nsp)))
		{
			Datum		arg[2] = {DateADTGetDatum(day), DateADTGetDatum(day)};
			Oid			argtypes[2] = {DATEOID, DATEOID};
			int			rc;

			rc = SPI_execute_with_args("SELECT analytics.ensure_partitions($1, $2)",
									   2, argtypes, arg, NULL, false, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "ensure_partitions failed: %s", SPI_result_code_string(rc));
		}
	}
}

/* analytics.record_events(events jsonb) returns bigint */
Datum
analytics_record_events(PG_FUNCTION_ARGS)
{
	Jsonb	   *events = PG_GETARG_JSONB_P(0);
	Datum	   *vals[INGEST_NFIELDS];
	bool	   *nulls[INGEST_NFIELDS];
	Datum		args[INGEST_NFIELDS];
	char		argnulls[INGEST_NFIELDS];
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

	for (i = 0; i < INGEST_NFIELDS; i++)
	{
		vals[i] = palloc(sizeof(Datum) * n);
		nulls[i] = palloc(sizeof(bool) * n);
	}

	for (i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(&events->root, i);
		bool		seen[INGEST_NFIELDS] = {false};
		JsonbIterator *it;
		JsonbIteratorToken tok;
		JsonbValue	v;
		int			f;

		if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("event %d: element is a JSON %s, not an object", i, ingest_jsonb_type_name(elem)),
					errdetail("Element index %d, field \"(element)\".", i),
					errhint("Each element of the array is one event object."));

		it = JsonbIteratorInit(elem->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			f = ingest_field_lookup(v.val.string.val, v.val.string.len);
			if (f < 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("event %d: unknown field \"%.*s\"", i,
							   Min(v.val.string.len, 64), v.val.string.val),
						errdetail("Element index %d, field \"%.*s\".", i,
								  Min(v.val.string.len, 64), v.val.string.val),
						errhint("The fields are the columns of analytics.usage_events: tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code, tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id, workflow_id, execution_id, error_code, attributes."));
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			ingest_convert(&ingest_fields[f], &v, i, &vals[f][i], &nulls[f][i]);
			seen[f] = !nulls[f][i];
		}

		for (f = 0; f < INGEST_NFIELDS; f++)
		{
			if (seen[f])
				continue;
			if (ingest_fields[f].required)
				ingest_field_error(ERRCODE_NOT_NULL_VIOLATION, i, ingest_fields[f].name,
								   psprintf("%s is required", ingest_fields[f].name));
			nulls[f][i] = false;
			if (f == F_SUCCESS)
				vals[f][i] = BoolGetDatum(true);
			else if (f == F_COUNT)
				vals[f][i] = Int32GetDatum(1);
			else
				nulls[f][i] = true;
		}
	}

	SPI_connect();
	ingest_check_owners(vals, nulls, n);
	ingest_ensure_partitions(vals[F_OCCURRED], n);

	if (ingest_insert_plan == NULL)
	{
		Oid			argtypes[INGEST_NFIELDS];
		SPIPlanPtr	plan;

		for (i = 0; i < INGEST_NFIELDS; i++)
			argtypes[i] = get_array_type(ingest_fields[i].typid);
		plan = SPI_prepare(INGEST_INSERT_SQL, INGEST_NFIELDS, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the insert: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		ingest_insert_plan = plan;
	}

	for (i = 0; i < INGEST_NFIELDS; i++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;
		int			dims[1] = {n};
		int			lbs[1] = {1};

		get_typlenbyvalalign(ingest_fields[i].typid, &typlen, &typbyval, &typalign);
		args[i] = PointerGetDatum(construct_md_array(vals[i], nulls[i], 1, dims, lbs,
													 ingest_fields[i].typid, typlen, typbyval, typalign));
		argnulls[i] = ' ';
	}

	rc = SPI_execute_plan(ingest_insert_plan, args, argnulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "insert into usage_events failed: %s", SPI_result_code_string(rc));
	SPI_finish();

	PG_RETURN_INT64((int64) n);
}
