-------------------------------------------------------------------------------
-- schema/20_types.sql (layer 20, the C types): the quantile sketch
-- analytics.qsketch, the heatmap analytics.heatmap and the daily counters
-- analytics.daycounts, with their aggregates, accessors and the trend and
-- usage-summary computations.  See docs/qsketch.md, docs/heatmap.md,
-- docs/trends.md.  Run once, at CREATE EXTENSION.
-------------------------------------------------------------------------------


-------------------------------------------------------------------------------
-- 10_qsketch.sql: the quantile sketch analytics.qsketch (DDSketch-style,
-- relative-error guarantee), its aggregates and accessors.  See docs/qsketch.md.
-------------------------------------------------------------------------------

CREATE TYPE analytics.qsketch;

CREATE FUNCTION analytics.qsketch_in(cstring)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_in(cstring) IS
    'Text input of analytics.qsketch (the JSON form that qsketch_out prints), validated in full';

CREATE FUNCTION analytics.qsketch_out(analytics.qsketch)
RETURNS cstring
AS 'MODULE_PATHNAME', 'qsketch_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_out(analytics.qsketch) IS
    'Text output of analytics.qsketch: {"version":1,"alpha":..,"count":..,"min":..,"max":..,"sum":..,"flags":..,"zero":..,"negative":{key:count},"positive":{key:count}}';

CREATE FUNCTION analytics.qsketch_recv(internal)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_recv(internal) IS
    'Binary input of analytics.qsketch (the compact stored form), validated in full';

CREATE FUNCTION analytics.qsketch_send(analytics.qsketch)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qsketch_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_send(analytics.qsketch) IS
    'Binary output of analytics.qsketch (the compact stored form)';

CREATE TYPE analytics.qsketch (
    INPUT = analytics.qsketch_in,
    OUTPUT = analytics.qsketch_out,
    RECEIVE = analytics.qsketch_recv,
    SEND = analytics.qsketch_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.qsketch IS
    'Mergeable quantile sketch with a relative-error guarantee (DDSketch-style logarithmic buckets)';

CREATE FUNCTION analytics.qsketch_from_bytes(bytes bytea)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_from_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_from_bytes(bytea) IS
    'A qsketch from its binary form (what qsketch_to_bytes and binary COPY produce), validated like binary input';

CREATE FUNCTION analytics.qsketch_to_bytes(sketch analytics.qsketch)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qsketch_to_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_to_bytes(analytics.qsketch) IS
    'The binary form of a qsketch (the compact stored form, as binary COPY sends it)';

-- Aggregate support.  Not STRICT: they skip NULL values and start the state.
CREATE FUNCTION analytics.qsketch_trans(state analytics.qsketch, value float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans(analytics.qsketch, float8) IS
    'Transition function of qsketch_agg(float8): adds a value (NULL is skipped) at relative accuracy 0.01';

CREATE FUNCTION analytics.qsketch_trans(state analytics.qsketch, value float8, relative_accuracy float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_accuracy'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans(analytics.qsketch, float8, float8) IS
    'Transition function of qsketch_agg(float8, float8): adds a value (NULL is skipped) at the given relative accuracy';

CREATE FUNCTION analytics.qsketch_combine(a analytics.qsketch, b analytics.qsketch)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_combine(analytics.qsketch, analytics.qsketch) IS
    'Merges two qsketches exactly (NULL is the empty sketch); combine function of the qsketch aggregates';

CREATE FUNCTION analytics.qsketch_final(state analytics.qsketch)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_final(analytics.qsketch) IS
    'Final function of the qsketch aggregates: the compact stored form of the state';

-- SSPACE: the working state of a day of realistic latencies (about 500
-- keys, a 512-slot array of 8-byte counts after a 128-byte header); see docs/qsketch.md.
CREATE AGGREGATE analytics.qsketch_agg(value float8) (
    SFUNC = analytics.qsketch_trans,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg(float8) IS
    'Quantile sketch of the non-NULL values, within 1% relative error; NULL when there are none';

CREATE AGGREGATE analytics.qsketch_agg(value float8, relative_accuracy float8) (
    SFUNC = analytics.qsketch_trans,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg(float8, float8) IS
    'Quantile sketch of the non-NULL values, within the given relative error (0.0001 to 0.5); NULL when there are none';

-- Weighted aggregates: a pre-counted row (value v, count n) counts as n
-- observations of v, added in one step; the same sketch as qsketch_agg over
-- the rows repeated n times.  Not STRICT: they skip a NULL value or n.
CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint) IS
    'Transition function of qsketch_agg_n(float8, bigint): adds n >= 0 observations of a value (a NULL value or n is skipped) at relative accuracy 0.01';

CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint, relative_accuracy float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n_accuracy'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint, float8) IS
    'Transition function of qsketch_agg_n(float8, bigint, float8): adds n >= 0 observations of a value (a NULL value or n is skipped) at the given relative accuracy';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times (e.g. usage_events.count), within 1% relative error; rows with a NULL value or n skipped; NULL when there are none';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint, relative_accuracy float8) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint, float8) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times, within the given relative error (0.0001 to 0.5); NULL when there are none';

CREATE AGGREGATE analytics.qsketch_merge(sketch analytics.qsketch) (
    SFUNC = analytics.qsketch_combine,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_merge(analytics.qsketch) IS
    'Exact merge of stored qsketches (same relative accuracy): equals the sketch of all their values; NULL when there are none';

-- Accessors.
CREATE FUNCTION analytics.quantile(sketch analytics.qsketch, q float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.quantile(analytics.qsketch, float8) IS
    'Estimate of percentile_disc(q): within the relative accuracy of the true value; exact min at q = 0 and max at q = 1';

CREATE FUNCTION analytics.quantiles(sketch analytics.qsketch, qs float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qsketch_quantiles'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.quantiles(analytics.qsketch, float8[]) IS
    'analytics.quantile for each element of an array of quantiles (NULL elements give NULL)';

CREATE FUNCTION analytics.sketch_count(sketch analytics.qsketch)
RETURNS bigint
AS 'MODULE_PATHNAME', 'qsketch_count'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_count(analytics.qsketch) IS 'Number of values in the sketch (exact)';

CREATE FUNCTION analytics.sketch_min(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_min'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_min(analytics.qsketch) IS 'Smallest value in the sketch (exact)';

CREATE FUNCTION analytics.sketch_max(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_max'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_max(analytics.qsketch) IS 'Largest value in the sketch (exact)';

CREATE FUNCTION analytics.sketch_mean(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_mean'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_mean(analytics.qsketch) IS 'Mean of the values in the sketch (sum / count)';

CREATE FUNCTION analytics.sketch_sum(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_sum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_sum(analytics.qsketch) IS 'Sum of the values in the sketch (floating point)';

CREATE FUNCTION analytics.sketch_relative_accuracy(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_relative_accuracy'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_relative_accuracy(analytics.qsketch) IS 'The relative accuracy alpha the sketch was built with';

CREATE FUNCTION analytics.sketch_buckets(sketch analytics.qsketch)
RETURNS integer
AS 'MODULE_PATHNAME', 'qsketch_bucket_count'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_buckets(analytics.qsketch) IS
    'Number of non-empty buckets of the sketch, the zero bucket not included (at most 4096 per sign)';

-------------------------------------------------------------------------------
-- 20_heatmap.sql: the day-of-week x hour heatmap (src/heatmap.c).
-- A heatmap is a 7 x 24 matrix of bigint counts (dow 0 = Sunday, hour 0..23)
-- with their total; 1360 bytes, and also the state of its aggregates.
-------------------------------------------------------------------------------

CREATE TYPE analytics.heatmap;

CREATE FUNCTION analytics.heatmap_in(cstring)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_in(cstring) IS
    'Text input of a heatmap: {dow:hour=count,...}, validated';

CREATE FUNCTION analytics.heatmap_out(analytics.heatmap)
RETURNS cstring
AS 'MODULE_PATHNAME', 'heatmap_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_out(analytics.heatmap) IS
    'Text output of a heatmap: its non-zero cells as {dow:hour=count,...}';

CREATE FUNCTION analytics.heatmap_recv(internal)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_recv(internal) IS
    'Binary input of a heatmap (version, reserved, total, 168 counts), validated as untrusted input';

CREATE FUNCTION analytics.heatmap_send(analytics.heatmap)
RETURNS bytea
AS 'MODULE_PATHNAME', 'heatmap_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_send(analytics.heatmap) IS
    'Binary output of a heatmap';

CREATE TYPE analytics.heatmap (
    INPUT = analytics.heatmap_in,
    OUTPUT = analytics.heatmap_out,
    RECEIVE = analytics.heatmap_recv,
    SEND = analytics.heatmap_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.heatmap IS
    'Day-of-week x hour count matrix (7 x 24 bigint, dow 0 = Sunday); text form {dow:hour=count,...}';

-- Aggregate support.  Not STRICT: they handle NULL states and inputs.
CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz) IS
    'Transition function of heatmap_agg(ts): counts ts in its UTC cell';

CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans_n'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint) IS
    'Transition function of heatmap_agg(ts, n): adds n >= 0 to the UTC cell of ts';

-- STABLE: the answer depends on the server's time zone database.
CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint, text)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans_tz'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint, text) IS
    'Transition function of heatmap_agg(ts, n, tz): adds n >= 0 to the local-time cell of ts in time zone tz';

CREATE FUNCTION analytics.heatmap_combine(analytics.heatmap, analytics.heatmap)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_combine(analytics.heatmap, analytics.heatmap) IS
    'Adds two heatmaps (overflow-checked); combine function of the heatmap aggregates';

CREATE FUNCTION analytics.heatmap_final(analytics.heatmap)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_final(analytics.heatmap) IS
    'Final function of the heatmap aggregates: the empty matrix when there were no rows';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz) IS
    'Day-of-week x hour (UTC) heatmap of event times; NULLs skipped';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz, bigint) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz, bigint) IS
    'Day-of-week x hour (UTC) heatmap, each row weighted by n >= 0 (e.g. usage_events.count); rows with a NULL ts or n skipped';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz, bigint, text) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz, bigint, text) IS
    'Day-of-week x hour heatmap in local time of an IANA time zone (correct across DST changes), each row weighted by n >= 0';

CREATE AGGREGATE analytics.heatmap_merge(analytics.heatmap) (
    SFUNC = analytics.heatmap_combine,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_merge(analytics.heatmap) IS
    'Sum of stored heatmaps (overflow-checked): equals heatmap_agg over the union of their rows';

-- Accessors.
CREATE FUNCTION analytics.heatmap_cells(matrix analytics.heatmap,
                                        OUT dow integer, OUT hour integer, OUT count bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'heatmap_cells'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 168;
COMMENT ON FUNCTION analytics.heatmap_cells(analytics.heatmap) IS
    'The non-zero cells of a heatmap as (dow, hour, count), ordered by dow then hour; dow 0 = Sunday';

CREATE FUNCTION analytics.heatmap_total(matrix analytics.heatmap)
RETURNS bigint
AS 'MODULE_PATHNAME', 'heatmap_total'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_total(analytics.heatmap) IS
    'Sum of all cells of a heatmap';

CREATE FUNCTION analytics.heatmap_cell(matrix analytics.heatmap, dow integer, hour integer)
RETURNS bigint
AS 'MODULE_PATHNAME', 'heatmap_cell'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_cell(analytics.heatmap, integer, integer) IS
    'Count of one cell of a heatmap (dow 0..6, 0 = Sunday; hour 0..23)';

CREATE FUNCTION analytics.heatmap_to_array(matrix analytics.heatmap)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'heatmap_to_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_to_array(analytics.heatmap) IS
    'A heatmap as a bigint[7][24] array; element [dow + 1][hour + 1]';

-------------------------------------------------------------------------------
-- 30_trend.sql: daily counters, gap-filled trends and the usage summary
-- (src/trend.c).  A daycounts holds 1 to 3 bigint counters for every day of
-- a closed period [from, to]; 16 bytes + 8 per day and counter.
-------------------------------------------------------------------------------

CREATE TYPE analytics.daycounts;

CREATE FUNCTION analytics.daycounts_in(cstring)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_in(cstring) IS
    'Text input of a daycounts: [first,last]:{v,...} or [first,last]:{(v1,v2),...}, validated';

CREATE FUNCTION analytics.daycounts_out(analytics.daycounts)
RETURNS cstring
AS 'MODULE_PATHNAME', 'daycounts_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_out(analytics.daycounts) IS
    'Text output of a daycounts: its period and one value (or tuple of counters) per day';

CREATE FUNCTION analytics.daycounts_recv(internal)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_recv(internal) IS
    'Binary input of a daycounts, validated as untrusted input';

CREATE FUNCTION analytics.daycounts_send(analytics.daycounts)
RETURNS bytea
AS 'MODULE_PATHNAME', 'daycounts_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_send(analytics.daycounts) IS
    'Binary output of a daycounts';

CREATE TYPE analytics.daycounts (
    INPUT = analytics.daycounts_in,
    OUTPUT = analytics.daycounts_out,
    RECEIVE = analytics.daycounts_recv,
    SEND = analytics.daycounts_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.daycounts IS
    'Daily counters (1 to 3 bigint per day) over a closed period of days; state of daycounts_agg and usage_summary_agg';

-- Aggregate support.  Not STRICT: they create the state and skip NULLs.
CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, n3, from, to)';

CREATE FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts) IS
    'Adds two daycounts with the same counters (overflow-checked); different periods merge into their union';

-- SSPACE: a 30-day period (the API default).
CREATE AGGREGATE analytics.daycounts_agg(day date, n bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, date, date) IS
    'Daily sums of n >= 0 over the closed period [from, to]; days outside it are ignored, NULL day or n skipped; NULL over no rows';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 496,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, date, date) IS
    'Daily sums of two counters over the closed period [from, to] (e.g. token issuances and failures)';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, n3 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, bigint, date, date) IS
    'Daily sums of three counters over the closed period [from, to]';

CREATE AGGREGATE analytics.daycounts_merge(analytics.daycounts) (
    SFUNC = analytics.daycounts_combine,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_merge(analytics.daycounts) IS
    'Sum of stored daycounts with the same counters, over the union of their periods';

-- Trends.
CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_srf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text) IS
    'Zero-filled day or ISO-week buckets of the daycounts'' period, oldest first; a week bucket is labelled by its first day in the period; count2 and count3 are NULL for counters the daycounts lacks';

CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text, "from" date, "to" date,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_period_srf'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text, date, date) IS
    'Zero-filled day or ISO-week buckets of [from, to], oldest first; days the daycounts does not cover, or a NULL daycounts (no rows), count zero';

CREATE FUNCTION analytics.trend_bucket(day date, granularity text, "from" date)
RETURNS date
AS 'MODULE_PATHNAME', 'trend_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.trend_bucket(date, text, date) IS
    'Label of the trend bucket holding day in a period starting at from: the day, or the Monday of its ISO week but not before from; for exact per-bucket distinct counts (GROUP BY it with count(DISTINCT ...))';

CREATE FUNCTION analytics.daycounts_jsonb(counts analytics.daycounts, keys text[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'daycounts_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_jsonb(analytics.daycounts, text[]) IS
    'The daily series of a daycounts as a jsonb array, one object per day of its period, oldest first, zero-filled: {"date": "YYYY-MM-DD", keys[1]: counter 1, ...}; one key per counter, 1 to 64 bytes, distinct, not "date"';

-- Usage summary.
CREATE FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'usage_summary_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date) IS
    'Transition function of usage_summary_agg: daily api calls, token issuances and credential rotations';

CREATE FUNCTION analytics.usage_summary_final(analytics.daycounts)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'usage_summary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_final(analytics.daycounts) IS
    'The usage summary (totals, floor average per day, earliest peak day) of a 3-counter daycounts; all zero with a null peakDate for NULL';

CREATE AGGREGATE analytics.usage_summary_agg(day date, metric text, n bigint, "from" date, "to" date) (
    SFUNC = analytics.usage_summary_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    FINALFUNC = analytics.usage_summary_final,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.usage_summary_agg(date, text, bigint, date, date) IS
    'One-pass usage summary over daily aggregate rows (day, metric_type, count) of [from, to]: totalApiCalls, totalTokenIssuances, totalCredentialRotations, averageDailyApiCalls, peakDailyApiCalls, peakDate (jsonb)';

