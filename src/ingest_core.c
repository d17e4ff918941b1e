/*
 * ingest_core.c: the event columns and the checks of one record_events
 * element in plain C; see ingest_core.h for the vocabulary.  No postgres.h:
 * errors come back as ing_error, so this file is unit tested
 * (test/unit/test_ingest.c) and fuzzed (test/fuzz/fuzz_ingest.c) as is.
 */
#include "ingest_core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column order of the INSERT in ingest.c. */
const ing_field ingest_fields[ING_NFIELDS] = {
	[ING_F_TENANT] = {"tenant_id", ING_UUID, 1, 0},
	[ING_F_AGENT] = {"agent_id", ING_UUID, 0, 0},
	[ING_F_OCCURRED] = {"occurred_at", ING_TIMESTAMP, 1, 0},
	[ING_F_EVENT_TYPE] = {"event_type", ING_EVENT_TYPE, 1, 0},
	[ING_F_SUCCESS] = {"success", ING_BOOL, 0, 0},
	[ING_F_COUNT] = {"count", ING_COUNT, 0, 0},
	[ING_F_ENDPOINT] = {"endpoint", ING_TEXT, 0, ING_MAX_ENDPOINT},
	[ING_F_METHOD] = {"method", ING_TEXT, 0, ING_MAX_METHOD},
	[ING_F_STATUS] = {"status_code", ING_STATUS, 0, 0},
	[ING_F_TOOL] = {"tool_name", ING_TEXT, 0, ING_MAX_NAME},
	[ING_F_MCP] = {"mcp_server", ING_TEXT, 0, ING_MAX_NAME},
	[ING_F_MODEL] = {"model", ING_TEXT, 0, ING_MAX_NAME},
	[ING_F_INPUT_TOKENS] = {"input_tokens", ING_TOKENS, 0, 0},
	[ING_F_OUTPUT_TOKENS] = {"output_tokens", ING_TOKENS, 0, 0},
	[ING_F_LATENCY] = {"latency_ms", ING_LATENCY, 0, 0},
	[ING_F_USER] = {"user_id", ING_TEXT, 0, ING_MAX_ID},
	[ING_F_SESSION] = {"session_id", ING_TEXT, 0, ING_MAX_ID},
	[ING_F_WORKFLOW] = {"workflow_id", ING_TEXT, 0, ING_MAX_ID},
	[ING_F_EXECUTION] = {"execution_id", ING_TEXT, 0, ING_MAX_ID},
	[ING_F_ERROR_CODE] = {"error_code", ING_TEXT, 0, ING_MAX_ERROR_CODE},
	[ING_F_ATTRIBUTES] = {"attributes", ING_OBJECT, 0, ING_MAX_ATTRIBUTES},
	[ING_F_CACHED_INPUT_TOKENS] = {"cached_input_tokens", ING_TOKENS, 0, 0},
	[ING_F_CACHE_WRITE_TOKENS] = {"cache_write_tokens", ING_TOKENS, 0, 0},
	[ING_F_WORKFLOW_TYPE] = {"workflow_type", ING_TEXT, 0, ING_MAX_NAME},
};

const char *const ingest_event_types[ING_NEVENT_TYPES] = {
	"api_call", "token_issuance", "credential_rotation", "tool_call",
	"llm_call", "agent_execution", "workflow", "session"
};

static int	ing_fail(ing_error *err, ing_status code, const char *fmt,...) __attribute__((format(printf, 3, 4)));

/* Fill err and return -1. */
static int
ing_fail(ing_error *err, ing_status code, const char *fmt,...)
{
	va_list		ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

size_t
ing_utf8_charlen(const char *s, size_t len)
{
	size_t		n = 0,
				i;

	for (i = 0; i < len; i++)
		n += ((unsigned char) s[i] & 0xc0) != 0x80;
	return n;
}

int
ing_field_lookup(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < ING_NFIELDS; i++)
	{
		if (strlen(ingest_fields[i].name) == len && memcmp(ingest_fields[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

const char *
ing_json_name(ing_json type)
{
	switch (type)
	{
		case ING_JSON_NULL:
			return "null";
		case ING_JSON_STRING:
			return "string";
		case ING_JSON_NUMBER:
			return "number";
		case ING_JSON_BOOL:
			return "boolean";
		case ING_JSON_ARRAY:
			return "array";
		case ING_JSON_OBJECT:
			return "object";
	}
	return "value";
}

/* Value of a hex digit, or -1. */
static int
ing_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* uuid_in's forms: 32 hex digits, optionally braced, '-' after any 4. */
int
ing_parse_uuid(const char *s, size_t len, unsigned char out[16])
{
	size_t		pos = 0;
	int			i;
	int			braces = 0;

	if (len > 0 && s[0] == '{')
	{
		braces = 1;
		pos++;
	}
	for (i = 0; i < 16; i++)
	{
		int			hi,
					lo;

		if (pos + 1 >= len)
			return -1;
		hi = ing_hex(s[pos]);
		lo = ing_hex(s[pos + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char) (hi << 4 | lo);
		pos += 2;
		if (pos < len && s[pos] == '-' && i % 2 == 1 && i < 15)
			pos++;
	}
	if (braces)
	{
		if (pos >= len || s[pos] != '}')
			return -1;
		pos++;
	}
	return pos == len ? 0 : -1;
}

/* A number's text: -?[0-9]+(.[0-9]+)?  (numeric's output form). */
static int
ing_number_syntax(const char *s, size_t len, size_t *intlen, int *fraction)
{
	size_t		i = 0,
				start;

	*fraction = 0;
	if (i < len && s[i] == '-')
		i++;
	start = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == start)
		return -1;
	*intlen = i;
	if (i < len && s[i] == '.')
	{
		size_t		fstart = ++i;

		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (s[i] != '0')
				*fraction = 1;
		if (i == fstart)
			return -1;
	}
	return i == len ? 0 : -1;
}

/* A whole number's value, saturated to the int64 range. */
static int64_t
ing_whole_value(const char *s, size_t intlen)
{
	int			neg = s[0] == '-';
	uint64_t	acc = 0;
	size_t		i;

	for (i = neg; i < intlen; i++)
	{
		if (acc > (UINT64_MAX - 9) / 10)
			return neg ? INT64_MIN : INT64_MAX;
		acc = acc * 10 + (uint64_t) (s[i] - '0');
	}
	if (neg)
		return acc > (uint64_t) INT64_MAX ? INT64_MIN : -(int64_t) acc;
	return acc > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) acc;
}

/* Check a whole number of field f against [lo, hi]; 0 or -1. */
static int
ing_set_whole(ing_value *v, const ing_field *f, const char *text, size_t len,
			  int64_t lo, int64_t hi, ing_error *err)
{
	size_t		intlen;
	int			fraction;

	if (ing_number_syntax(text, len, &intlen, &fraction))
		return ing_fail(err, ING_ERR_TYPE, "%s must be a number", f->name);
	if (fraction)
		return ing_fail(err, ING_ERR_FRACTION, "%s must be a whole number", f->name);
	v->i = ing_whole_value(text, intlen);
	if (f->kind == ING_STATUS && (v->i < lo || v->i > hi))
		return ing_fail(err, ING_ERR_LIMIT, "%s must be an HTTP status between %d and %d",
						f->name, ING_STATUS_MIN, ING_STATUS_MAX);
	if (v->i < lo)
		return lo == 0 ? ing_fail(err, ING_ERR_LIMIT, "%s must not be negative", f->name)
			: ing_fail(err, ING_ERR_LIMIT, "%s must be at least %lld, not %lld", f->name,
					   (long long) lo, (long long) v->i);
	if (v->i > hi)
		return ing_fail(err, ING_ERR_LIMIT, "%s must be at most %lld", f->name, (long long) hi);
	return 0;
}

/* Check a latency: a number in [0, ING_MAX_LATENCY_MS]; text ends in a NUL. */
static int
ing_set_latency(ing_value *v, const ing_field *f, const char *text, size_t len, ing_error *err)
{
	size_t		intlen;
	int			fraction;

	if (ing_number_syntax(text, len, &intlen, &fraction) || text[len] != '\0')
		return ing_fail(err, ING_ERR_TYPE, "%s must be a number", f->name);
	v->d = strtod(text, NULL);
	if (v->d < 0)
		return ing_fail(err, ING_ERR_LIMIT, "%s must not be negative", f->name);
	if (!(v->d <= ING_MAX_LATENCY_MS))
		return ing_fail(err, ING_ERR_LIMIT, "%s must be at most %.0f", f->name, ING_MAX_LATENCY_MS);
	return 0;
}

void
ing_element_reset(ing_element *e)
{
	int			f;

	memset(e, 0, sizeof(*e));
	for (f = 0; f < ING_NFIELDS; f++)
		e->v[f].isnull = 1;
}

int
ing_element_set(ing_element *e, int fi, ing_json type, const char *text, size_t len,
				ing_charlen_fn charlen, ing_error *err)
{
	const ing_field *f = &ingest_fields[fi];
	ing_value  *v = &e->v[fi];
	int			i;

	v->isnull = 1;
	err->field = fi;
	if (type == ING_JSON_NULL)
		return 0;
	switch (f->kind)
	{
		case ING_UUID:
			if (type != ING_JSON_STRING)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a string holding a uuid, not a JSON %s",
								f->name, ing_json_name(type));
			if (ing_parse_uuid(text, len, v->uuid))
				return ing_fail(err, ING_ERR_UUID, "%s \"%.*s\" is not a valid uuid",
								f->name, (int) (len < 64 ? len : 64), text);
			break;
		case ING_TIMESTAMP:
			if (type != ING_JSON_STRING)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a string holding a timestamp, not a JSON %s",
								f->name, ing_json_name(type));
			break;
		case ING_EVENT_TYPE:
			if (type != ING_JSON_STRING)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a string, not a JSON %s",
								f->name, ing_json_name(type));
			for (i = 0; i < ING_NEVENT_TYPES; i++)
			{
				if (strlen(ingest_event_types[i]) == len && memcmp(ingest_event_types[i], text, len) == 0)
					break;
			}
			if (i == ING_NEVENT_TYPES)
				return ing_fail(err, ING_ERR_EVENT_TYPE, "unknown %s \"%.*s\"",
								f->name, (int) (len < 64 ? len : 64), text);
			break;
		case ING_BOOL:
			if (type != ING_JSON_BOOL)
				return ing_fail(err, ING_ERR_TYPE, "%s must be true or false, not a JSON %s",
								f->name, ing_json_name(type));
			v->i = len > 0 && text[0] == 't';
			break;
		case ING_COUNT:
		case ING_STATUS:
		case ING_TOKENS:
		case ING_LATENCY:
			if (type != ING_JSON_NUMBER)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a number, not a JSON %s",
								f->name, ing_json_name(type));
			if ((f->kind == ING_COUNT && ing_set_whole(v, f, text, len, 1, ING_MAX_COUNT, err)) ||
				(f->kind == ING_STATUS && ing_set_whole(v, f, text, len, ING_STATUS_MIN, ING_STATUS_MAX, err)) ||
				(f->kind == ING_TOKENS && ing_set_whole(v, f, text, len, 0, ING_MAX_TOKENS, err)) ||
				(f->kind == ING_LATENCY && ing_set_latency(v, f, text, len, err)))
				return -1;
			break;
		case ING_TEXT:
			if (type != ING_JSON_STRING)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a string, not a JSON %s",
								f->name, ing_json_name(type));
			/* a string of at most max bytes has at most max characters */
			if (len > (size_t) f->max && charlen(text, len) > (size_t) f->max)
				return ing_fail(err, ING_ERR_LIMIT, "%s is longer than %lld characters",
								f->name, (long long) f->max);
			break;
		case ING_OBJECT:
			if (type != ING_JSON_OBJECT)
				return ing_fail(err, ING_ERR_TYPE, "%s must be a JSON object, not a JSON %s",
								f->name, ing_json_name(type));
			if (len > (size_t) f->max)
				return ing_fail(err, ING_ERR_LIMIT, "%s is larger than %lld bytes as text",
								f->name, (long long) f->max);
			break;
	}
	v->isnull = 0;
	v->str = text;
	v->len = len;
	return 0;
}

int
ing_element_finish(ing_element *e, ing_error *err)
{
	const ing_value *cached = &e->v[ING_F_CACHED_INPUT_TOKENS];
	const ing_value *written = &e->v[ING_F_CACHE_WRITE_TOKENS];
	const ing_value *input = &e->v[ING_F_INPUT_TOKENS];
	int			f;

	for (f = 0; f < ING_NFIELDS; f++)
	{
		if (e->v[f].isnull && ingest_fields[f].required)
		{
			err->field = f;
			return ing_fail(err, ING_ERR_REQUIRED, "%s is required", ingest_fields[f].name);
		}
	}
	/* cache tokens are part of input_tokens (each at most 10^12: no overflow) */
	if (!cached->isnull || !written->isnull)
	{
		if (input->isnull)
		{
			err->field = ING_F_INPUT_TOKENS;
			return ing_fail(err, ING_ERR_REQUIRED,
							"input_tokens is required when cached_input_tokens or cache_write_tokens is set");
		}
		if ((cached->isnull ? 0 : cached->i) + (written->isnull ? 0 : written->i) > input->i)
		{
			err->field = cached->isnull ? ING_F_CACHE_WRITE_TOKENS : ING_F_CACHED_INPUT_TOKENS;
			return ing_fail(err, ING_ERR_LIMIT,
							"cached_input_tokens + cache_write_tokens must not exceed input_tokens");
		}
	}
	if (e->v[ING_F_SUCCESS].isnull)
	{
		e->v[ING_F_SUCCESS].isnull = 0;
		e->v[ING_F_SUCCESS].i = 1;
	}
	if (e->v[ING_F_COUNT].isnull)
	{
		e->v[ING_F_COUNT].isnull = 0;
		e->v[ING_F_COUNT].i = 1;
	}
	return 0;
}

int64_t
ing_utc_day(int64_t ts)
{
	int64_t		d = ts / ING_USECS_PER_DAY;

	if (ts < 0 && ts % ING_USECS_PER_DAY != 0)
		d--;
	return d;
}

int
ing_check_window(int64_t ts, int64_t now, int retention_days, int future_seconds, ing_error *err)
{
	/* now is a finite time, the settings are bounded: no overflow */
	int64_t		earliest = (ing_utc_day(now) - retention_days) * ING_USECS_PER_DAY;
	int64_t		latest = now + (int64_t) future_seconds * 1000000;

	if (ts < earliest)
		return ing_fail(err, ING_ERR_WINDOW,
						"occurred_at is before the start of the UTC day analytics.raw_retention_days (%d) days ago",
						retention_days);
	if (ts > latest)
		return ing_fail(err, ING_ERR_WINDOW,
						"occurred_at is later than analytics.max_event_future_seconds (%d) seconds after now",
						future_seconds);
	return 0;
}
