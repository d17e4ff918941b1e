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
