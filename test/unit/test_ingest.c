/*
 * test_ingest.c: unit tests of src/ingest_core.c, the checks of one
 * record_events element (built under ASan+UBSan by `make unit`).
 */
#include "ingest_core.h"
#include "check.h"

#include <stdio.h>
#include <string.h>


/* Set field name of e to a value given as text; returns the status. */
static ing_status
set(ing_element *e, const char *name, ing_json type, const char *text)
{
	ing_error	err;
	int			f = ing_field_lookup(name, strlen(name));

	if (f < 0)
		return (ing_status) -1;
	err.code = ING_OK;
	if (ing_element_set(e, f, type, text, text ? strlen(text) : 0, ing_utf8_charlen, &err))
		return err.code;
	return ING_OK;
}

static ing_status
one(const char *name, ing_json type, const char *text)
{
	ing_element e;

	ing_element_reset(&e);
	return set(&e, name, type, text);
}

static void
test_fields(void)
{
	int			f;

	CHECK(ing_field_lookup("tenant_id", 9) == ING_F_TENANT);
	CHECK(ing_field_lookup("attributes", 10) == ING_F_ATTRIBUTES);
	CHECK(ing_field_lookup("cached_input_tokens", 19) == ING_F_CACHED_INPUT_TOKENS);
	CHECK(ing_field_lookup("cache_write_tokens", 18) == ING_F_CACHE_WRITE_TOKENS);
	CHECK(ing_field_lookup("workflow_type", 13) == ING_F_WORKFLOW_TYPE);
	/* the fields of 0.2.0 come first, the ones added in 0.3.0 after them */
	CHECK(ING_NFIELDS_020 == 21 && ING_F_ATTRIBUTES == ING_NFIELDS_020 - 1);
	CHECK(ing_field_lookup("tenant_i", 8) == -1);
	CHECK(ing_field_lookup("tenant_idx", 10) == -1);
	CHECK(ing_field_lookup("", 0) == -1);
	for (f = 0; f < ING_NFIELDS; f++)
		CHECK(ing_field_lookup(ingest_fields[f].name, strlen(ingest_fields[f].name)) == f);
	/* every text field has a limit */
	for (f = 0; f < ING_NFIELDS; f++)
		if (ingest_fields[f].kind == ING_TEXT || ingest_fields[f].kind == ING_OBJECT)
			CHECK(ingest_fields[f].max > 0);
}

static void
test_uuid(void)
{
	unsigned char u[16];

	CHECK(ing_parse_uuid("11111111-1111-4111-8111-111111111111", 36, u) == 0 && u[0] == 0x11 && u[15] == 0x11);
	CHECK(ing_parse_uuid("{a0eebc999c0b4ef8bb6d6bb9bd380a11}", 34, u) == 0 && u[0] == 0xa0 && u[15] == 0x11);
	CHECK(ing_parse_uuid("A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11", 35, u) == 0);
	CHECK(ing_parse_uuid("11111111-1111-4111-8111-11111111111", 35, u) == -1);
	CHECK(ing_parse_uuid("11111111-1111-4111-8111-1111111111111", 37, u) == -1);
	CHECK(ing_parse_uuid("zzzzzzzz-0000-4000-8000-000000000001", 36, u) == -1);
	CHECK(ing_parse_uuid("{11111111111141118111111111111111", 33, u) == -1);
	CHECK(ing_parse_uuid("", 0, u) == -1);
	CHECK(one("tenant_id", ING_JSON_STRING, "not-a-uuid") == ING_ERR_UUID);
	CHECK(one("agent_id", ING_JSON_NUMBER, "42") == ING_ERR_TYPE);
}

static void
test_numbers(void)
{
	ing_element e;

	CHECK(one("count", ING_JSON_NUMBER, "1") == ING_OK);
	CHECK(one("count", ING_JSON_NUMBER, "1000000") == ING_OK);
	CHECK(one("count", ING_JSON_NUMBER, "1000000.000") == ING_OK);
	CHECK(one("count", ING_JSON_NUMBER, "1000001") == ING_ERR_LIMIT);
	CHECK(one("count", ING_JSON_NUMBER, "0") == ING_ERR_LIMIT);
	CHECK(one("count", ING_JSON_NUMBER, "-3") == ING_ERR_LIMIT);
	CHECK(one("count", ING_JSON_NUMBER, "1.5") == ING_ERR_FRACTION);
	CHECK(one("count", ING_JSON_NUMBER, "99999999999999999999999") == ING_ERR_LIMIT);
	CHECK(one("count", ING_JSON_STRING, "2") == ING_ERR_TYPE);
	CHECK(one("count", ING_JSON_NUMBER, "1e3") == ING_ERR_TYPE);
	CHECK(one("count", ING_JSON_NUMBER, "") == ING_ERR_TYPE);
	CHECK(one("count", ING_JSON_NUMBER, "-") == ING_ERR_TYPE);
	CHECK(one("count", ING_JSON_NUMBER, "1.") == ING_ERR_TYPE);
	CHECK(one("input_tokens", ING_JSON_NUMBER, "0") == ING_OK);
	CHECK(one("input_tokens", ING_JSON_NUMBER, "1000000000000") == ING_OK);
	CHECK(one("input_tokens", ING_JSON_NUMBER, "1000000000001") == ING_ERR_LIMIT);
	CHECK(one("output_tokens", ING_JSON_NUMBER, "9223372036854775807") == ING_ERR_LIMIT);
	CHECK(one("output_tokens", ING_JSON_NUMBER, "-1") == ING_ERR_LIMIT);
	CHECK(one("output_tokens", ING_JSON_NUMBER, "-99999999999999999999999") == ING_ERR_LIMIT);
	/* the cache token counts: the same kind and limits as input_tokens */
	CHECK(one("cached_input_tokens", ING_JSON_NUMBER, "0") == ING_OK);
	CHECK(one("cached_input_tokens", ING_JSON_NUMBER, "1000000000000") == ING_OK);
	CHECK(one("cached_input_tokens", ING_JSON_NUMBER, "1000000000001") == ING_ERR_LIMIT);
	CHECK(one("cached_input_tokens", ING_JSON_NUMBER, "-1") == ING_ERR_LIMIT);
	CHECK(one("cached_input_tokens", ING_JSON_NUMBER, "2.5") == ING_ERR_FRACTION);
	CHECK(one("cached_input_tokens", ING_JSON_STRING, "12") == ING_ERR_TYPE);
	CHECK(one("cache_write_tokens", ING_JSON_NUMBER, "1000000000000.0") == ING_OK);
	CHECK(one("cache_write_tokens", ING_JSON_NUMBER, "1000000000001") == ING_ERR_LIMIT);
	CHECK(one("cache_write_tokens", ING_JSON_NUMBER, "-99999999999999999999999") == ING_ERR_LIMIT);
	CHECK(one("cache_write_tokens", ING_JSON_NUMBER, "0.5") == ING_ERR_FRACTION);
	CHECK(one("cache_write_tokens", ING_JSON_BOOL, "true") == ING_ERR_TYPE);
	CHECK(one("status_code", ING_JSON_NUMBER, "100") == ING_OK);
	CHECK(one("status_code", ING_JSON_NUMBER, "599") == ING_OK);
	CHECK(one("status_code", ING_JSON_NUMBER, "99") == ING_ERR_LIMIT);
	CHECK(one("status_code", ING_JSON_NUMBER, "600") == ING_ERR_LIMIT);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "0") == ING_OK);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "12.5") == ING_OK);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "10000000000") == ING_OK);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "10000000000.000001") == ING_ERR_LIMIT);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "-0.5") == ING_ERR_LIMIT);
	CHECK(one("latency_ms", ING_JSON_NUMBER, "1797693134862315700000000000000000000000000000000000000000000000000000") == ING_ERR_LIMIT);
	CHECK(one("latency_ms", ING_JSON_STRING, "12") == ING_ERR_TYPE);
	ing_element_reset(&e);
	CHECK(set(&e, "latency_ms", ING_JSON_NUMBER, "930.25") == ING_OK && e.v[ING_F_LATENCY].d == 930.25);
	CHECK(set(&e, "count", ING_JSON_NUMBER, "25") == ING_OK && e.v[ING_F_COUNT].i == 25);
	CHECK(set(&e, "input_tokens", ING_JSON_NUMBER, "812.0") == ING_OK && e.v[ING_F_INPUT_TOKENS].i == 812);
}

static void
test_text(void)
{
	char		buf[2100];
	size_t		i;

	CHECK(one("event_type", ING_JSON_STRING, "api_call") == ING_OK);
	CHECK(one("event_type", ING_JSON_STRING, "api_calls") == ING_ERR_EVENT_TYPE);
	CHECK(one("event_type", ING_JSON_NUMBER, "7") == ING_ERR_TYPE);
	CHECK(one("success", ING_JSON_STRING, "yes") == ING_ERR_TYPE);
	CHECK(one("endpoint", ING_JSON_NUMBER, "5") == ING_ERR_TYPE);
	CHECK(one("attributes", ING_JSON_ARRAY, NULL) == ING_ERR_TYPE);
	CHECK(one("occurred_at", ING_JSON_NUMBER, "1700000000") == ING_ERR_TYPE);

	/* endpoint: 1024 characters, counted as characters, not bytes */
	memset(buf, 'a', 1025);
	buf[1024] = '\0';
	CHECK(one("endpoint", ING_JSON_STRING, buf) == ING_OK);
	buf[1024] = 'a';
	buf[1025] = '\0';
	CHECK(one("endpoint", ING_JSON_STRING, buf) == ING_ERR_LIMIT);
	for (i = 0; i < 1024; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);		/* 1024 x e-acute: 2048 bytes */
	buf[2048] = '\0';
	CHECK(one("endpoint", ING_JSON_STRING, buf) == ING_OK);
	memset(buf, 'm', 17);
	buf[16] = '\0';
	CHECK(one("method", ING_JSON_STRING, buf) == ING_OK);
	buf[16] = 'm';
	buf[17] = '\0';
	CHECK(one("method", ING_JSON_STRING, buf) == ING_ERR_LIMIT);
	memset(buf, 'x', 257);
	buf[257] = '\0';
	CHECK(one("model", ING_JSON_STRING, buf) == ING_ERR_LIMIT);
	CHECK(one("session_id", ING_JSON_STRING, buf) == ING_ERR_LIMIT);
	CHECK(one("workflow_type", ING_JSON_STRING, buf) == ING_ERR_LIMIT);
	CHECK(one("workflow_type", ING_JSON_STRING, buf + 1) == ING_OK);
	CHECK(one("workflow_type", ING_JSON_NUMBER, "3") == ING_ERR_TYPE);
	CHECK(one("error_code", ING_JSON_STRING, buf + 257 - 128) == ING_OK);
	CHECK(one("error_code", ING_JSON_STRING, buf + 257 - 129) == ING_ERR_LIMIT);
	CHECK(ing_utf8_charlen("\xe2\x82\xac", 3) == 1);

	/* an object: its text length */
	{
		ing_element e;
		ing_error	err;

		ing_element_reset(&e);
		CHECK(ing_element_set(&e, ING_F_ATTRIBUTES, ING_JSON_OBJECT, "{}", 65536, ing_utf8_charlen, &err) == 0);
		CHECK(ing_element_set(&e, ING_F_ATTRIBUTES, ING_JSON_OBJECT, "{}", 65537, ing_utf8_charlen, &err) == -1 &&
			  err.code == ING_ERR_LIMIT);
	}
}

static void
test_element(void)
{
	ing_element e;
	ing_error	err;

	ing_element_reset(&e);
	CHECK(set(&e, "tenant_id", ING_JSON_STRING, "11111111-1111-4111-8111-111111111111") == ING_OK);
	CHECK(set(&e, "event_type", ING_JSON_STRING, "api_call") == ING_OK);
	CHECK(ing_element_finish(&e, &err) == -1 && err.code == ING_ERR_REQUIRED &&
		  strcmp(err.message, "occurred_at is required") == 0 && err.field == ING_F_OCCURRED);
	CHECK(set(&e, "occurred_at", ING_JSON_STRING, "2026-01-01Z") == ING_OK);
	/* JSON null is the same as leaving the key out */
	CHECK(set(&e, "event_type", ING_JSON_NULL, NULL) == ING_OK);
	CHECK(ing_element_finish(&e, &err) == -1 && err.code == ING_ERR_REQUIRED);
	CHECK(set(&e, "event_type", ING_JSON_STRING, "session") == ING_OK);
	CHECK(ing_element_finish(&e, &err) == 0);
	CHECK(!e.v[ING_F_SUCCESS].isnull && e.v[ING_F_SUCCESS].i == 1);
	CHECK(!e.v[ING_F_COUNT].isnull && e.v[ING_F_COUNT].i == 1);
	CHECK(e.v[ING_F_AGENT].isnull && e.v[ING_F_ATTRIBUTES].isnull);
	ing_element_reset(&e);
	CHECK(set(&e, "success", ING_JSON_BOOL, "false") == ING_OK && e.v[ING_F_SUCCESS].i == 0);
}

/* A valid llm_call element with the given token fields (NULL: left out). */
static int
cache_case(const char *input, const char *cached, const char *written, ing_error *err)
{
	ing_element e;

	ing_element_reset(&e);
	set(&e, "tenant_id", ING_JSON_STRING, "11111111-1111-4111-8111-111111111111");
	set(&e, "occurred_at", ING_JSON_STRING, "2026-01-01Z");
	set(&e, "event_type", ING_JSON_STRING, "llm_call");
	if (input)
		set(&e, "input_tokens", ING_JSON_NUMBER, input);
	if (cached)
		set(&e, "cached_input_tokens", ING_JSON_NUMBER, cached);
	if (written)
		set(&e, "cache_write_tokens", ING_JSON_NUMBER, written);
	err->code = ING_OK;
	err->field = -1;
	err->message[0] = '\0';
	return ing_element_finish(&e, err);
}

static void
test_cache_tokens(void)
{
	ing_error	err;

	/* no cache tokens: no rule */
	CHECK(cache_case(NULL, NULL, NULL, &err) == 0);
	CHECK(cache_case("5", NULL, NULL, &err) == 0);
	/* the sum at its bound is accepted, one more is refused */
	CHECK(cache_case("100", "60", "40", &err) == 0);
	CHECK(cache_case("100", "60", "41", &err) == -1 && err.code == ING_ERR_LIMIT &&
		  err.field == ING_F_CACHED_INPUT_TOKENS &&
		  strcmp(err.message, "cached_input_tokens + cache_write_tokens must not exceed input_tokens") == 0);
	CHECK(cache_case("100", "100", NULL, &err) == 0);
	CHECK(cache_case("100", "101", NULL, &err) == -1 && err.code == ING_ERR_LIMIT &&
		  err.field == ING_F_CACHED_INPUT_TOKENS);
	CHECK(cache_case("100", NULL, "100", &err) == 0);
	CHECK(cache_case("100", NULL, "101", &err) == -1 && err.code == ING_ERR_LIMIT &&
		  err.field == ING_F_CACHE_WRITE_TOKENS);
	CHECK(cache_case("0", "0", "0", &err) == 0);
	/* at the limits: 10^12 each, the sum over input_tokens' own limit */
	CHECK(cache_case("1000000000000", "1000000000000", NULL, &err) == 0);
	CHECK(cache_case("1000000000000", "999999999999", "1", &err) == 0);
	CHECK(cache_case("1000000000000", "1000000000000", "1000000000000", &err) == -1 && err.code == ING_ERR_LIMIT);
	/* cache tokens without input_tokens */
	CHECK(cache_case(NULL, "0", NULL, &err) == -1 && err.code == ING_ERR_REQUIRED &&
		  err.field == ING_F_INPUT_TOKENS &&
		  strcmp(err.message, "input_tokens is required when cached_input_tokens or cache_write_tokens is set") == 0);
	CHECK(cache_case(NULL, NULL, "7", &err) == -1 && err.code == ING_ERR_REQUIRED && err.field == ING_F_INPUT_TOKENS);
	/* a required field is reported before the cache rule */
	{
		ing_element e;

		ing_element_reset(&e);
		CHECK(set(&e, "cached_input_tokens", ING_JSON_NUMBER, "5") == ING_OK);
		CHECK(ing_element_finish(&e, &err) == -1 && err.code == ING_ERR_REQUIRED && err.field == ING_F_TENANT);
		/* JSON null for a cache field is the same as leaving it out */
		set(&e, "tenant_id", ING_JSON_STRING, "11111111-1111-4111-8111-111111111111");
		set(&e, "occurred_at", ING_JSON_STRING, "2026-01-01Z");
		set(&e, "event_type", ING_JSON_STRING, "llm_call");
		CHECK(set(&e, "cached_input_tokens", ING_JSON_NULL, NULL) == ING_OK);
		CHECK(ing_element_finish(&e, &err) == 0);
	}
}

static void
test_window(void)
{
	const int64_t day = ING_USECS_PER_DAY;
	const int64_t now = 9500 * day + 5 * 3600 * INT64_C(1000000);	/* 05:00 UTC */
	ing_error	err;

	CHECK(ing_utc_day(0) == 0 && ing_utc_day(day - 1) == 0 && ing_utc_day(-1) == -1 && ing_utc_day(-day) == -1);
	CHECK(ing_check_window(now, now, 90, 300, &err) == 0);
	/* the whole UTC day 90 days back, not 90 x 24 h back */
	CHECK(ing_check_window((9500 - 90) * day, now, 90, 300, &err) == 0);
	CHECK(ing_check_window((9500 - 90) * day - 1, now, 90, 300, &err) == -1 && err.code == ING_ERR_WINDOW);
	CHECK(ing_check_window(now + 300 * INT64_C(1000000), now, 90, 300, &err) == 0);
	CHECK(ing_check_window(now + 300 * INT64_C(1000000) + 1, now, 90, 300, &err) == -1 &&
		  strstr(err.message, "later than") != NULL);
	CHECK(ing_check_window(now + 1, now, 90, 0, &err) == -1);
	CHECK(ing_check_window(-9000 * day, -5000 * day + 1, 1, 0, &err) == -1);
}

int
main(void)
{
	test_fields();
	test_uuid();
	test_numbers();
	test_text();
	test_element();
	test_cache_tokens();
	test_window();
	return check_finish("test_ingest");
}
