/*
 * fuzz_ingest.c: libFuzzer harness over the checks of a record_events
 * element (src/ingest_core.c).  The input is a run of records
 * [field byte][JSON type byte][length byte][value bytes], applied to one
 * element in turn (a field byte past the last field looks its value up as a
 * field name), then finished; 16 more bytes, if left, give a time and a
 * "now" for the window check.  Every accepted value must lie within its
 * field's limits, every refusal must leave the field unset and say why; a
 * finished element has its required fields and its cache tokens within
 * input_tokens, a refused one names the field at fault.
 * Run with tools/fuzz.sh (make fuzz).
 */
#include "ingest_core.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's finite timestamps (microseconds since 2000-01-01). */
#define FUZZ_MIN_TS	INT64_C(-211813488000000000)
#define FUZZ_MAX_TS	INT64_C(9223371331200000000)

static void
fuzz_check_accepted(const ing_element *e, int f)
{
	const ing_field *fd = &ingest_fields[f];
	const ing_value *v = &e->v[f];
	unsigned char again[16];
	char		hex[33];
	int			i;

	if (v->isnull)
		abort();
	switch (fd->kind)
	{
		case ING_UUID:
			for (i = 0; i < 16; i++)
			{
				hex[2 * i] = "0123456789abcdef"[v->uuid[i] >> 4];
				hex[2 * i + 1] = "0123456789abcdef"[v->uuid[i] & 15];
			}
			if (ing_parse_uuid(hex, 32, again) || memcmp(again, v->uuid, 16) != 0)
				abort();
			break;
		case ING_COUNT:
			if (v->i < 1 || v->i > ING_MAX_COUNT)
				abort();
			break;
		case ING_STATUS:
			if (v->i < ING_STATUS_MIN || v->i > ING_STATUS_MAX)
				abort();
			break;
		case ING_TOKENS:
			if (v->i < 0 || v->i > ING_MAX_TOKENS)
				abort();
			break;
		case ING_LATENCY:
			if (!isfinite(v->d) || v->d < 0 || v->d > ING_MAX_LATENCY_MS)
				abort();
			break;
		case ING_TEXT:
			if (ing_utf8_charlen(v->str, v->len) > (size_t) fd->max)
				abort();
			break;
		case ING_OBJECT:
			if (v->len > (size_t) fd->max)
				abort();
			break;
		case ING_EVENT_TYPE:
			for (i = 0; i < ING_NEVENT_TYPES; i++)
				if (strlen(ingest_event_types[i]) == v->len && memcmp(ingest_event_types[i], v->str, v->len) == 0)
					break;
			if (i == ING_NEVENT_TYPES)
				abort();
			break;
		default:
			break;
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ing_element e;
	ing_error	err;
	size_t		pos = 0;
	int			f;

	ing_element_reset(&e);
	while (pos + 3 <= size)
	{
		unsigned	sel = data[pos];
		ing_json	type = (ing_json) (data[pos + 1] % 6);
		size_t		len = data[pos + 2];
		char	   *buf;
		int			rc;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		buf = malloc(len + 1);
		memcpy(buf, data + pos, len);
		buf[len] = '\0';
		pos += len;
		if (sel % (ING_NFIELDS + 1) == ING_NFIELDS)
		{
			f = ing_field_lookup(buf, len);
			if (f >= 0 && (strlen(ingest_fields[f].name) != len || memcmp(ingest_fields[f].name, buf, len) != 0))
				abort();
			free(buf);
			continue;
		}
		f = (int) (sel % (ING_NFIELDS + 1));
		/* an object's length stands for its text form: any value, scaled up */
		err.code = ING_OK;
		err.message[0] = '\0';
		rc = ing_element_set(&e, f, type, buf,
							 ingest_fields[f].kind == ING_OBJECT ? len * 600 : len,
							 ing_utf8_charlen, &err);
		if (rc == 0 && type != ING_JSON_NULL)
			fuzz_check_accepted(&e, f);
		else if (rc == 0 ? !e.v[f].isnull : (err.code == ING_OK || err.message[0] == '\0' || !e.v[f].isnull))
			abort();
		/* keep no pointer into buf past this record; the value stays set */
		e.v[f].str = NULL;
		free(buf);
	}
	err.field = -1;
	if (ing_element_finish(&e, &err) == 0)
	{
		const ing_value *input = &e.v[ING_F_INPUT_TOKENS];
		const ing_value *cached = &e.v[ING_F_CACHED_INPUT_TOKENS];
		const ing_value *written = &e.v[ING_F_CACHE_WRITE_TOKENS];

		for (f = 0; f < ING_NFIELDS; f++)
			if (ingest_fields[f].required && e.v[f].isnull)
				abort();
		/* cache tokens are part of input_tokens */
		if ((!cached->isnull || !written->isnull) &&
			(input->isnull ||
			 (cached->isnull ? 0 : cached->i) + (written->isnull ? 0 : written->i) > input->i))
			abort();
		if (e.v[ING_F_SUCCESS].isnull || e.v[ING_F_COUNT].isnull)
			abort();
	}
	else if (err.field < 0 || err.field >= ING_NFIELDS || err.message[0] == '\0' ||
			 (err.code != ING_ERR_REQUIRED && err.code != ING_ERR_LIMIT))
		abort();
	if (size >= 16)
	{
		int64_t		ts,
					now;
		int			retention = 1 + data[0] * 143;	/* 1 .. 36466 */
		int			future = data[1] * 338;	/* 0 .. 86190 */

		memcpy(&ts, data + size - 16, 8);
		memcpy(&now, data + size - 8, 8);
		if (now < FUZZ_MIN_TS)
			now = FUZZ_MIN_TS;
		if (now > FUZZ_MAX_TS)
			now = FUZZ_MAX_TS;
		if (ing_check_window(ts, now, retention, future, &err) == 0)
		{
			if (ts > now + (int64_t) future * 1000000 ||
				ing_utc_day(ts) < ing_utc_day(now) - retention)
				abort();
		}
		else if (ts <= now + (int64_t) future * 1000000 && ing_utc_day(ts) >= ing_utc_day(now) - retention)
			abort();
	}
	return 0;
}
