-------------------------------------------------------------------------------
-- functions/72_ops_common.sql (layer 72, reports of contract §6): what the
-- operator answers share.
--   period_window(period)     Nh / Nd as a window [from_ts, to_ts)
--   utc_text(ts)              an instant as UTC RFC 3339 text
--   window_json(from, to)     the answer's "period"
--   ratio(part, whole)        a rate: a fraction from 0 to 1, four decimals
--   latency_json(sketch)      {"p50","p95","p99"} of a qsketch (ms)
-- Re-runnable.
-------------------------------------------------------------------------------

-- A period text Nh (1-168) or Nd (1-365) as a window ending now / today,
-- else NULL.
CREATE OR REPLACE FUNCTION analytics.period_window(period text, now_ts timestamptz DEFAULT clock_timestamp(),
                                                   OUT from_ts timestamptz, OUT to_ts timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n     integer;
    today date := (now_ts AT TIME ZONE 'UTC')::date;
BEGIN
    IF period IS NULL OR period !~ '^[0-9]{1,3}[hd]$' THEN
        RETURN;
    END IF;
    n := left(period, -1)::integer;
    IF right(period, 1) = 'h' AND n BETWEEN 1 AND 168 THEN
        -- now - N hours <= t <= now
        from_ts := now_ts - make_interval(hours => n);
        to_ts := now_ts + interval '1 microsecond';
    ELSIF right(period, 1) = 'd' AND n BETWEEN 1 AND 365 THEN
        from_ts := (today - (n - 1))::timestamp AT TIME ZONE 'UTC';
        to_ts := (today + 1)::timestamp AT TIME ZONE 'UTC';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.period_window(text, timestamptz) IS
    'The window [from_ts, to_ts) of a period text: Nh (1 to 168) = now - N hours to now included, Nd (1 to 365) = the N UTC days ending today; NULLs for anything else';

-- A timestamp as UTC RFC 3339 text with microseconds (answers' instants and
-- the period of an hour window).
CREATE OR REPLACE FUNCTION analytics.utc_text(ts timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
COMMENT ON FUNCTION analytics.utc_text(timestamptz) IS
    'A timestamp as UTC RFC 3339 text with microseconds (YYYY-MM-DDTHH:MI:SS.USZ); NULL stays NULL';

-- The "period" of an answer: dates when the window is whole UTC days, else
-- UTC RFC 3339 timestamps (to: the end of the window, excluded).
CREATE OR REPLACE FUNCTION analytics.window_json("from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF date_trunc('day', "from" AT TIME ZONE 'UTC') = "from" AT TIME ZONE 'UTC'
       AND date_trunc('day', "to" AT TIME ZONE 'UTC') = "to" AT TIME ZONE 'UTC' THEN
        RETURN jsonb_build_object('from', to_char("from" AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                  'to', to_char(("to" AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD'));
    END IF;
    RETURN jsonb_build_object('from', analytics.utc_text("from"), 'to', analytics.utc_text("to"));
END
$$;
COMMENT ON FUNCTION analytics.window_json(timestamptz, timestamptz) IS
    'The period object of an answer: {"from","to"} as dates (both included) when the window [from, to) is whole UTC days, else as UTC RFC 3339 timestamps (to excluded)';

-- A rate of §6.3: part / whole as a fraction rounded to four decimals (0
-- when whole is 0).
CREATE OR REPLACE FUNCTION analytics.ratio(part numeric, whole numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0::numeric ELSE round(coalesce(part, 0) / whole, 4) END $$;
COMMENT ON FUNCTION analytics.ratio(numeric, numeric) IS
    'part / whole rounded to four decimals, 0 when whole is 0 or NULL: the rates of contract §6.3';

-- p50, p95 and p99 of a sketch, rounded to 3 decimals (null when empty).
CREATE OR REPLACE FUNCTION analytics.latency_json(sketch analytics.qsketch)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q float8[];
BEGIN
    IF sketch IS NULL OR analytics.sketch_count(sketch) = 0 THEN
        RETURN jsonb_build_object('p50', NULL, 'p95', NULL, 'p99', NULL);
    END IF;
    q := analytics.quantiles(sketch, ARRAY[0.5, 0.95, 0.99]);
    RETURN jsonb_build_object('p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3));
END
$$;
COMMENT ON FUNCTION analytics.latency_json(analytics.qsketch) IS
    'The p50, p95 and p99 of a latency qsketch as {"p50","p95","p99"} in ms rounded to 3 decimals (nulls when empty)';
