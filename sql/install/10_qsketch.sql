
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
