/*
 * ingest_core.h: the columns of an event and the checks of one element of a
 * record_events batch, in plain C (no postgres.h), unit tested and fuzzed.
 *
 * Vocabulary: a "field" is one column of analytics.usage_events that an
 * element (a JSON object) may carry; ingest_fields[] lists them in the
 * column order of the INSERT, with their "kind" (how a JSON value becomes a
 * column value) and their limits.  This table and the ING_* limits below are
 * the one place in C that knows the event columns; the table's CHECK
 * constraints (usage_events_<column>_check) and docs/events.md state the same
 * numbers.
 *
 * The PostgreSQL glue (ingest.c) walks the jsonb and hands each key and value
 * here as plain bytes: a key to ing_field_lookup, a value with its JSON type
 * to ing_element_set (numbers as their canonical text followed by a NUL, strings as their
 * bytes, an object as the byte length of its text form); then
 * ing_element_finish checks the required fields and that the prompt-cache
 * tokens are part of input_tokens, and applies the defaults.
 * Timestamps are only type-checked here: the glue parses them (any form of
 * timestamptz input) and checks them with ing_check_window.
 */
#ifndef INGEST_CORE_H
#define INGEST_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Limits (also CHECK constraints of analytics.usage_events; docs/events.md). */
#define ING_MAX_BATCH			10000	/* elements per record_events call */
#define ING_MAX_COUNT			1000000
#define ING_MAX_TOKENS			INT64_C(1000000000000)	/* 10^12 */
#define ING_MAX_LATENCY_MS		1e10
#define ING_MAX_ATTRIBUTES		65536	/* bytes of the text form */
#define ING_MAX_ENDPOINT		1024	/* characters */
#define ING_MAX_METHOD			16
#define ING_MAX_NAME			256 /* tool_name, mcp_server, model, workflow_type */
#define ING_MAX_ID				256 /* user_id, session_id, workflow_id, execution_id */
#define ING_MAX_ERROR_CODE		128
#define ING_STATUS_MIN			100
#define ING_STATUS_MAX			599

#define ING_USECS_PER_DAY		INT64_C(86400000000)

/* How a JSON value becomes a column value. */
typedef enum ing_kind
{
	ING_UUID,					/* string holding a uuid */
	ING_TIMESTAMP,				/* string holding a timestamptz */
	ING_EVENT_TYPE,				/* string, one of ingest_event_types */
	ING_BOOL,					/* true or false */
	ING_COUNT,					/* whole number, int4 in [1, ING_MAX_COUNT] */
	ING_STATUS,					/* whole number, int2 in [100, 599] */
	ING_TOKENS,					/* whole number, int8 in [0, ING_MAX_TOKENS] */
	ING_LATENCY,				/* number, float8 in [0, ING_MAX_LATENCY_MS] */
	ING_TEXT,					/* string of at most max characters */
	ING_OBJECT					/* object of at most max bytes as text */
} ing_kind;

/* The JSON type of a value. */
typedef enum ing_json
{
	ING_JSON_NULL,
	ING_JSON_STRING,
	ING_JSON_NUMBER,
	ING_JSON_BOOL,
	ING_JSON_ARRAY,
	ING_JSON_OBJECT
} ing_json;

typedef struct ing_field
{
	const char *name;
	ing_kind	kind;
	int			required;
	int64_t		max;			/* characters (text), bytes (object), else unused */
} ing_field;

/* Field indexes: the column order of ingest_fields[] and of the INSERT. */
enum
{
	ING_F_TENANT, ING_F_AGENT, ING_F_OCCURRED, ING_F_EVENT_TYPE, ING_F_SUCCESS,
	ING_F_COUNT, ING_F_ENDPOINT, ING_F_METHOD, ING_F_STATUS, ING_F_TOOL,
	ING_F_MCP, ING_F_MODEL, ING_F_INPUT_TOKENS, ING_F_OUTPUT_TOKENS,
	ING_F_LATENCY, ING_F_USER, ING_F_SESSION, ING_F_WORKFLOW, ING_F_EXECUTION,
	ING_F_ERROR_CODE, ING_F_ATTRIBUTES,
	/* added in 0.3.0: last, as in the table */
	ING_F_CACHED_INPUT_TOKENS, ING_F_CACHE_WRITE_TOKENS, ING_F_WORKFLOW_TYPE,
	ING_NFIELDS
};

/* The fields of a 0.2.0 table: the first ING_NFIELDS_020 (ingest.c). */
#define ING_NFIELDS_020 ING_F_CACHED_INPUT_TOKENS

extern const ing_field ingest_fields[ING_NFIELDS];

#define ING_NEVENT_TYPES 8
extern const char *const ingest_event_types[ING_NEVENT_TYPES];

/* Result codes; the glue maps each to a SQLSTATE. */
typedef enum ing_status
{
	ING_OK = 0,
	ING_ERR_TYPE,				/* wrong JSON type (22023) */
	ING_ERR_UUID,				/* malformed uuid (22P02) */
	ING_ERR_EVENT_TYPE,			/* unknown event type (22023) */
	ING_ERR_FRACTION,			/* a whole number has a fractional part (22023) */
	ING_ERR_LIMIT,				/* outside the field's limits, or cached_input_tokens +
								 * cache_write_tokens > input_tokens (23514) */
	ING_ERR_REQUIRED,			/* a required field is missing, or input_tokens
								 * with cache tokens (23502) */
	ING_ERR_WINDOW				/* occurred_at outside the accepted window (22008) */
} ing_status;

typedef struct ing_error
{
	ing_status	code;
	int			field;			/* the field at fault */
	char		message[200];	/* e.g. "count must be at most 1000000" */
} ing_error;

/* A checked value; strings point into the caller's bytes. */
typedef struct ing_value
{
	int			isnull;
	unsigned char uuid[16];
	int64_t		i;				/* bool (0/1), count, status, tokens */
	double		d;				/* latency */
	const char *str;			/* text, event type, timestamp text */
	size_t		len;
} ing_value;

/* One element being checked. */
typedef struct ing_element
{
	ing_value	v[ING_NFIELDS];
} ing_element;

/* Length in characters of a string (the glue passes the database's). */
typedef size_t (*ing_charlen_fn) (const char *s, size_t len);

extern size_t ing_utf8_charlen(const char *s, size_t len);

/* Index of a field name, or -1. */
extern int	ing_field_lookup(const char *name, size_t len);

/* "string", "number", ... as in the error messages. */
extern const char *ing_json_name(ing_json type);

extern void ing_element_reset(ing_element *e);

/*
 * Check one value of field f and keep it in e (JSON null leaves the field
 * unset).  text/len: a string's bytes, a number's canonical text (digits,
 * optional '-', optional '.' and digits; text[len] must be NUL), or for an object the byte length
 * of its text form in len.  Returns 0, or -1 with err filled.
 */
extern int	ing_element_set(ing_element *e, int f, ing_json type, const char *text,
							size_t len, ing_charlen_fn charlen, ing_error *err);

/*
 * Required fields present; input_tokens present and at least
 * cached_input_tokens + cache_write_tokens when either is set; success and
 * count defaulted.  0, or -1 with err filled and err->field the field at
 * fault.
 */
extern int	ing_element_finish(ing_element *e, ing_error *err);

/*
 * Check an occurred_at (microseconds since 2000-01-01 UTC) against the
 * accepted window: from the start of the UTC day retention_days before now's
 * day to now + future_seconds.  0 or -1.
 */
extern int	ing_check_window(int64_t ts, int64_t now, int retention_days,
							 int future_seconds, ing_error *err);

/* The UTC day of a time (days since 2000-01-01, floor). */
extern int64_t ing_utc_day(int64_t ts);

/* Parse a uuid in the forms PostgreSQL's uuid_in accepts; 0 or -1. */
extern int	ing_parse_uuid(const char *s, size_t len, unsigned char out[16]);

#endif							/* INGEST_CORE_H */
