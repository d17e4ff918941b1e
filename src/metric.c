/*
 * metric.c: analytics.metric_parse_points(points, now_ts, lo, hi), the fast
 * path of analytics.metric_store (sql/functions/46_custom_metrics.sql).
 *
 * It reads a batch of custom metric points (a JSON array of 1 to 1000
 * objects with the keys metric_name, value, metric_type, unit, tags,
 * timestamp) in one pass and, when it can vouch for every point (see
 * metric_core.h), answers the columns metric_store stores: names, values
 * (text of the JSON number read as float8, as numeric::float8 does), types
 * (gauge when absent), units (NULL when absent), tags ({} when absent) and
 * instants (now_ts when absent; a given one must lie in [lo, hi]).  When it
 * cannot, it answers NULL and metric_store checks point by point, raising
 * the first error with its field's name.  It never raises for bad input
 * itself, and never stores anything: the rules live in metric_store, this
 * is a faster reading of the same rules, kept equal by
 * test/pgtap/11_metrics_fastpath.sql.
 */
#include "analytics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "catalog/pg_type.h"
#include "common/md5.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/hsearch.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "metric_core.h"

PG_FUNCTION_INFO_V1(analytics_metric_parse_points);

#define MP_MAX_POINTS	1000
#define MP_MAX_TAGS		16
#define MP_UNIT_MAX		32
#define MP_TAG_VALUE_MAX 256

/* Distinct tag sets remembered per batch (most batches repeat a few). */
#define MP_TAGSET_CACHE 16

/* The metric types; a point's type is one of these pointers. */
static const char *const mp_types[] = {"counter", "gauge", "histogram", "timer"};

/* A metric name of the batch: its type, and the first point that has it. */
typedef struct mp_name
{
	char		name[MC_NAME_MAX + 1];	/* the hash key */
	const char *type;
	int			first;
} mp_name;

/* The columns of one batch. */
typedef struct mp_columns
{
	Datum	   *names;
	Datum	   *vals;
	Datum	   *types;
	Datum	   *units;
	bool	   *unit_nulls;
	Datum	   *tags;
	Datum	   *keys;			/* md5 of the tags' text, as a uuid */
	Datum	   *ts;
	HTAB	   *seen;			/* metric name -> mp_name */
	int			nnames;
	/* tag sets met so far (their bytes, jsonb and key), for the repeats */
	int			ntagsets;
	struct
	{
		const char *bytes;
		uint32		len;
		Datum		tags;
		Datum		key;
	}			tagsets[MP_TAGSET_CACHE];
} mp_columns;

/* The key of obj, or NULL when absent; *present counts the keys seen. */
static JsonbValue *
mp_key(JsonbContainer *obj, const char *key, JsonbValue *res, int *present)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), res);

	if (v != NULL)
		(*present)++;
	return v;
}

/* 1 when v is absent or a JSON null. */
static int
mp_absent(const JsonbValue *v)
{
	return v == NULL || v->type == jbvNull;
}

/* The float8 of a JSON number as numeric::float8 gives it; 0 = not vouched. */
static int
mp_value(Numeric num, double *out)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char	   *end;
	double		d;

	errno = 0;
	d = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0')
		return 0;
	/* |d| < 1e15 means |num| <= 1e15: rounding is monotonic, 1e15 exact */
	if (!(fabs(d) < 1e15))
		return 0;
	*out = d;
	return 1;
}

/* The tags object (1 to 16 string values) as a jsonb; 0 = not vouched. */
static int
mp_tags(JsonbValue *v, Datum *out)
{
	JsonbContainer *obj;
	JsonbIterator *it;
	JsonbValue	tok;
	JsonbIteratorToken r;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return 0;
	obj = v->val.binary.data;
	if (JsonContainerSize(obj) > MP_MAX_TAGS)
		return 0;
	it = JsonbIteratorInit(obj);
	while ((r = JsonbIteratorNext(&it, &tok, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			if (!mc_tag_key_ok(tok.val.string.val, tok.val.string.len))
				return 0;
		}
		else if (r == WJB_VALUE)
		{
			if (tok.type != jbvString ||
				pg_mbstrlen_with_len(tok.val.string.val, tok.val.string.len) > MP_TAG_VALUE_MAX)
				return 0;
		}
	}
	*out = JsonbPGetDatum(JsonbValueToJsonb(v));
	return 1;
}

/* md5(tags::text)::uuid, the tag set's key in metric_points and the rollups. */
static Datum
mp_tags_key(Jsonb *tags)
{
	char	   *text = JsonbToCString(NULL, &tags->root, VARSIZE(tags));
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
	const char *err = NULL;

	if (!pg_md5_binary(text, strlen(text), u->data, &err))
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not compute an MD5 hash: %s", err ? err : "?")));
	pfree(text);
	return UUIDPGetDatum(u);
}

/* Point i of the batch into the columns; 0 = not vouched. */
static int
mp_point(JsonbContainer *root, int i, TimestampTz now_ts, TimestampTz lo, TimestampTz hi,
		 Datum empty_tags, mp_columns *c)
{
	JsonbValue *e = getIthJsonbValueFromContainer(root, i);
	JsonbContainer *obj;
	JsonbValue	vn,
				vv,
				vt,
				vu,
				vg,
				vs;
	JsonbValue *name,
			   *value,
			   *type,
			   *unit,
			   *tags,
			   *stamp;
	int			present = 0;
	const char *ty;
	double		d;

	if (e == NULL || e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
		return 0;
	obj = e->val.binary.data;
	name = mp_key(obj, "metric_name", &vn, &present);
	value = mp_key(obj, "value", &vv, &present);
	type = mp_key(obj, "metric_type", &vt, &present);
	unit = mp_key(obj, "unit", &vu, &present);
	tags = mp_key(obj, "tags", &vg, &present);
	stamp = mp_key(obj, "timestamp", &vs, &present);
	/* a key of no field */
	if (present != (int) JsonContainerSize(obj))
		return 0;

	if (name == NULL || name->type != jbvString || !mc_metric_name_ok(name->val.string.val, name->val.string.len))
		return 0;
	c->names[i] = PointerGetDatum(cstring_to_text_with_len(name->val.string.val, name->val.string.len));

	if (value == NULL || value->type != jbvNumeric || !mp_value(value->val.numeric, &d))
		return 0;
	c->vals[i] = Float8GetDatum(d);

	if (mp_absent(type))
		ty = mp_types[1];
	else if (type->type != jbvString)
		return 0;
	else
	{
		int			k;

		ty = NULL;
		for (k = 0; k < 4; k++)
			if ((size_t) type->val.string.len == strlen(mp_types[k]) &&
				memcmp(type->val.string.val, mp_types[k], type->val.string.len) == 0)
				ty = mp_types[k];
		if (ty == NULL)
			return 0;
	}
	if ((ty[0] == 'c' || ty[0] == 't') && d < 0)
		return 0;
	c->types[i] = CStringGetTextDatum(ty);

	/* one type per name within the batch */
	{
		char		key[MC_NAME_MAX + 1];
		mp_name    *m;
		bool		found;

		memset(key, 0, sizeof(key));
		memcpy(key, name->val.string.val, name->val.string.len);
		m = hash_search(c->seen, key, HASH_ENTER, &found);
		if (found && m->type != ty)
			return 0;
		if (!found)
		{
			m->type = ty;
			m->first = i;
			c->nnames++;
		}
	}

	if (mp_absent(unit))
	{
		c->units[i] = (Datum) 0;
		c->unit_nulls[i] = true;
	}
	else
	{
		int			chars;

		if (unit->type != jbvString)
			return 0;
		chars = pg_mbstrlen_with_len(unit->val.string.val, unit->val.string.len);
		if (chars < 1 || chars > MP_UNIT_MAX)
			return 0;
		c->units[i] = PointerGetDatum(cstring_to_text_with_len(unit->val.string.val, unit->val.string.len));
		c->unit_nulls[i] = false;
	}

	if (mp_absent(tags))
	{
		c->tags[i] = empty_tags;
		c->keys[i] = c->tagsets[0].key;
	}
	else
	{
		int			k;

		/* a tag set met before (the same bytes: the same jsonb and text) */
		for (k = 1; k < c->ntagsets; k++)
			if (tags->type == jbvBinary && c->tagsets[k].len == tags->val.binary.len &&
				memcmp(c->tagsets[k].bytes, tags->val.binary.data, tags->val.binary.len) == 0)
				break;
		if (k < c->ntagsets)
		{
			c->tags[i] = c->tagsets[k].tags;
			c->keys[i] = c->tagsets[k].key;
		}
		else
		{
			if (!mp_tags(tags, &c->tags[i]))
				return 0;
			c->keys[i] = mp_tags_key(DatumGetJsonbP(c->tags[i]));
			if (c->ntagsets < MP_TAGSET_CACHE)
			{
				c->tagsets[c->ntagsets].bytes = (const char *) tags->val.binary.data;
				c->tagsets[c->ntagsets].len = tags->val.binary.len;
				c->tagsets[c->ntagsets].tags = c->tags[i];
				c->tagsets[c->ntagsets].key = c->keys[i];
				c->ntagsets++;
			}
		}
	}

	if (mp_absent(stamp))
		c->ts[i] = TimestampTzGetDatum(now_ts);
	else
	{
		int64_t		us;

		if (stamp->type != jbvString || !mc_parse_timestamp(stamp->val.string.val, stamp->val.string.len, &us))
			return 0;
		if (us < lo || us > hi)
			return 0;
		c->ts[i] = TimestampTzGetDatum((TimestampTz) us);
	}
	return 1;
}

static Datum
mp_array(Datum *elems, bool *nulls, int n, Oid type, int len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, len, byval, align));
}

/*
 * metric_parse_points(points jsonb, now_ts timestamptz, lo timestamptz,
 * hi timestamptz) -> (names text[], vals float8[], types text[],
 * units text[], tags jsonb[], tags_keys uuid[], ts timestamptz[],
 * new_names text[], new_types text[], new_units text[], new_first int[]),
 * or NULL.  new_*: each name once, in the order of its first point (0-based
 * index new_first), with that point's type and unit.
 */
Datum
analytics_metric_parse_points(PG_FUNCTION_ARGS)
{
	Jsonb	   *points = PG_GETARG_JSONB_P(0);
	TimestampTz now_ts = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz lo = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz hi = PG_GETARG_TIMESTAMPTZ(3);
	TupleDesc	tupdesc;
	mp_columns	c;
	HASHCTL		hctl;
	Datum		empty_tags;
	Datum		out[11];
	bool		out_nulls[11];
	Datum	   *dn,
			   *dt,
			   *du,
			   *df;
	bool	   *du_nulls;
	int			n;
	int			i;
	int			k;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("metric_parse_points must return a record")));
	if (!JB_ROOT_IS_ARRAY(points) || JB_ROOT_IS_SCALAR(points))
		PG_RETURN_NULL();
	n = JB_ROOT_COUNT(points);
	if (n < 1 || n > MP_MAX_POINTS)
		PG_RETURN_NULL();

	c.names = palloc(sizeof(Datum) * n);
	c.vals = palloc(sizeof(Datum) * n);
	c.types = palloc(sizeof(Datum) * n);
	c.units = palloc(sizeof(Datum) * n);
	c.unit_nulls = palloc(sizeof(bool) * n);
	c.tags = palloc(sizeof(Datum) * n);
	c.keys = palloc(sizeof(Datum) * n);
	c.ts = palloc(sizeof(Datum) * n);
	c.nnames = 0;
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = MC_NAME_MAX + 1;
	hctl.entrysize = sizeof(mp_name);
	hctl.hcxt = CurrentMemoryContext;
	c.seen = hash_create("analytics metric names", 64, &hctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	empty_tags = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	/* tag set 0: the empty one, for points without tags */
	c.ntagsets = 1;
	c.tagsets[0].bytes = NULL;
	c.tagsets[0].len = 0;
	c.tagsets[0].tags = empty_tags;
	c.tagsets[0].key = mp_tags_key(DatumGetJsonbP(empty_tags));

	for (i = 0; i < n; i++)
		if (!mp_point(&points->root, i, now_ts, lo, hi, empty_tags, &c))
		{
			hash_destroy(c.seen);
			PG_RETURN_NULL();
		}

	/* each name once, in the order of its first point */
	dn = palloc(sizeof(Datum) * c.nnames);
	dt = palloc(sizeof(Datum) * c.nnames);
	du = palloc(sizeof(Datum) * c.nnames);
	du_nulls = palloc(sizeof(bool) * c.nnames);
	df = palloc(sizeof(Datum) * c.nnames);
	k = 0;
	for (i = 0; i < n && k < c.nnames; i++)
	{
		char		key[MC_NAME_MAX + 1];
		text	   *t = DatumGetTextPP(c.names[i]);
		mp_name    *m;

		memset(key, 0, sizeof(key));
		memcpy(key, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		m = hash_search(c.seen, key, HASH_FIND, NULL);
		if (m == NULL || m->first != i)
			continue;
		dn[k] = c.names[i];
		dt[k] = c.types[i];
		du[k] = c.units[i];
		du_nulls[k] = c.unit_nulls[i];
		df[k] = Int32GetDatum(i);
		k++;
	}
	hash_destroy(c.seen);

	memset(out_nulls, 0, sizeof(out_nulls));
	out[0] = mp_array(c.names, NULL, n, TEXTOID, -1, false, TYPALIGN_INT);
	out[1] = mp_array(c.vals, NULL, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	out[2] = mp_array(c.types, NULL, n, TEXTOID, -1, false, TYPALIGN_INT);
	out[3] = mp_array(c.units, c.unit_nulls, n, TEXTOID, -1, false, TYPALIGN_INT);
	out[4] = mp_array(c.tags, NULL, n, JSONBOID, -1, false, TYPALIGN_INT);
	out[5] = mp_array(c.keys, NULL, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
	out[6] = mp_array(c.ts, NULL, n, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	out[7] = mp_array(dn, NULL, k, TEXTOID, -1, false, TYPALIGN_INT);
	out[8] = mp_array(dt, NULL, k, TEXTOID, -1, false, TYPALIGN_INT);
	out[9] = mp_array(du, du_nulls, k, TEXTOID, -1, false, TYPALIGN_INT);
	out[10] = mp_array(df, NULL, k, INT4OID, sizeof(int32), true, TYPALIGN_INT);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, out, out_nulls)));
}
