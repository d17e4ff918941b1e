-------------------------------------------------------------------------------
-- functions/80_http_scope.sql (layer 80, the HTTP layer): what every §6
-- API function shares (contract §6.1, §6.2).
--
--   analytics.http_scope("tenantId", operator_only)
--       who is asking: a tenant token (its own tenant only) or an operator
--       token (all tenants, or the one "tenantId" names), after the §5
--       checks in their order (404 NOT_FOUND, 401 UNAUTHORIZED, 403
--       ANALYTICS_NOT_AVAILABLE), then 403 FORBIDDEN, 400 VALIDATION_ERROR
--       and 404 TENANT_NOT_FOUND.
--   analytics.http_window(period, "from", "to", days, hours, start_date,
--                         end_date, default_period)
--       the one period parser: Nh, Nd, or from/to as dates or RFC 3339
--       timestamps, and the seed aliases' own names; 400 INVALID_PERIOD or
--       INVALID_DATE_RANGE.  Returns the window [from_ts, to_ts).
--   analytics.http_granularity(granularity, from_ts, to_ts)
--       the granularity parameter: hour (at most 7 days), day, week, month.
-- (analytics.period_window and analytics.window_json are layer 72's;
-- analytics.http_caller_has_role is in 80_http.sql.)
-- Re-runnable.
-------------------------------------------------------------------------------

-- Who asks, and for which tenants (contract §6.1), for a read or (writes)
-- a write: a tenant token answers for its own tenant (naming another: 403
-- FORBIDDEN; operator_only: 403 FORBIDDEN); free-tier tenants may write,
-- not read.  An operator token (role analytics_operator, no tenant claim)
-- for every tenant, or the platform for a write (tenant_id NULL), or the
-- one tenant "tenantId" names.
CREATE OR REPLACE FUNCTION analytics.http_scope_of("tenantId" text, operator_only boolean, writes boolean,
                                                   OUT tenant_id uuid, OUT operator boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claimed boolean;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        PERFORM analytics.http_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    -- An operator token carries no tenant claim at all; a token with one
    -- (even a malformed one) is a tenant's (a superuser testing in psql is
    -- either, by its claims).
    BEGIN
        claimed := coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb ?| ARRAY['tenant_id', 'organization_id'], false);
    EXCEPTION WHEN others THEN
        claimed := true;
    END;
    operator := NOT claimed AND analytics.http_caller_has_role('analytics_operator');
    IF NOT operator THEN
        tenant_id := analytics.http_caller_tenant(writes);   -- (401, 403 ANALYTICS_NOT_AVAILABLE)
        IF operator_only THEN
            PERFORM analytics.http_error(403, 'FORBIDDEN', 'This function is for operators only');
        END IF;
        IF "tenantId" IS NOT NULL AND "tenantId" IS DISTINCT FROM tenant_id::text
           AND lower("tenantId") IS DISTINCT FROM tenant_id::text THEN
            PERFORM analytics.http_error(403, 'FORBIDDEN', 'A tenant token may not name another tenant');
        END IF;
        RETURN;
    END IF;
    IF "tenantId" IS NULL THEN
        RETURN;
    END IF;
    IF "tenantId" !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tenantId must be a uuid');
    END IF;
    tenant_id := "tenantId"::uuid;
    IF NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = http_scope_of.tenant_id) THEN
        PERFORM analytics.http_error(404, 'TENANT_NOT_FOUND', 'No tenant has this tenantId');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_scope_of(text, boolean, boolean) IS
    'The scope of a §6 API call, a read or (writes) a write: a tenant token answers for its own tenant (naming another: 403 FORBIDDEN; operator-only functions: 403 FORBIDDEN; free tier: 403 ANALYTICS_NOT_AVAILABLE for reads only); an operator token (role analytics_operator, no tenant claim) for every tenant or the platform (tenant_id NULL) or the one tenantId names (400 VALIDATION_ERROR if not a uuid, 404 TENANT_NOT_FOUND if unknown); first 404 NOT_FOUND when analytics.enabled is off and 401 UNAUTHORIZED';

-- The scope of a §6 read (http_scope_of).
CREATE OR REPLACE FUNCTION analytics.http_scope("tenantId" text DEFAULT NULL, operator_only boolean DEFAULT false,
                                                OUT tenant_id uuid, OUT operator boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT s.tenant_id, s.operator INTO tenant_id, operator FROM analytics.http_scope_of("tenantId", operator_only, false) s;
END
$$;
COMMENT ON FUNCTION analytics.http_scope(text, boolean) IS
    'The scope of a §6 API call: a tenant token answers for its own tenant (naming another: 403 FORBIDDEN; operator-only functions: 403 FORBIDDEN); an operator token (role analytics_operator, no tenant claim) for every tenant (tenant_id NULL) or the one tenantId names (400 VALIDATION_ERROR if not a uuid, 404 TENANT_NOT_FOUND if unknown); after the §5 checks 404 NOT_FOUND, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE';

-- The scope of a §6 write (contract §6.1: free-tier tenants may write, not
-- read; http_scope_of).
CREATE OR REPLACE FUNCTION analytics.http_write_scope("tenantId" text DEFAULT NULL,
                                                      OUT tenant_id uuid, OUT operator boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT s.tenant_id, s.operator INTO tenant_id, operator FROM analytics.http_scope_of("tenantId", false, true) s;
END
$$;
COMMENT ON FUNCTION analytics.http_write_scope(text) IS
    'The scope of a §6 write: as http_scope (404 NOT_FOUND, 401 UNAUTHORIZED, 403 FORBIDDEN for another tenant, 400 VALIDATION_ERROR and 404 TENANT_NOT_FOUND for an operator''s tenantId) but free-tier tenants may write; an operator without tenantId writes for the platform (tenant_id NULL)';

-- The id of an alias path (POST /api/v1/analytics/alerts/incidents/{id}/
-- resolve): nginx passes it as the header X-Analytics-Path-Id, which it
-- sets itself (a client's own is dropped); NULL on a /rpc/ call.
CREATE OR REPLACE FUNCTION analytics.http_path_id()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN left(nullif(nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-analytics-path-id', ''), 256);
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_path_id() IS
    'The id of the alias path a request came by (nginx''s header X-Analytics-Path-Id), else NULL';

-- A from/to parameter: YYYY-MM-DD (a whole UTC day) or an RFC 3339
-- timestamp with its offset; else 400 INVALID_DATE_RANGE naming it.
CREATE OR REPLACE FUNCTION analytics.http_parse_instant(value text, name text, OUT ts timestamptz, OUT is_date boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF length(value) <= 40 THEN
        IF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
            BEGIN
                ts := value::date::timestamp AT TIME ZONE 'UTC';
                is_date := true;
                RETURN;
            EXCEPTION WHEN others THEN
                NULL;
            END;
        ELSIF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
            BEGIN
                ts := value::timestamptz;
                is_date := false;
                IF ts > '-infinity' AND ts < 'infinity' AND extract(year FROM ts AT TIME ZONE 'UTC') BETWEEN 1900 AND 9999 THEN
                    RETURN;
                END IF;
            EXCEPTION WHEN others THEN
                NULL;
            END;
        END IF;
    END IF;
    PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE',
        format('%s must be a date YYYY-MM-DD or an RFC 3339 timestamp with its offset', name));
END
$$;
COMMENT ON FUNCTION analytics.http_parse_instant(text, text) IS
    'Parses a from/to API parameter: YYYY-MM-DD (is_date, ts = its UTC midnight) or an RFC 3339 timestamp with offset; else 400 INVALID_DATE_RANGE naming it';

-- The one period parser of the §6 API functions (contract §6.2).
CREATE OR REPLACE FUNCTION analytics.http_window(period text, "from" text, "to" text,
                                                 days text, hours text, start_date text, end_date text,
                                                 default_period text,
                                                 OUT from_ts timestamptz, OUT to_ts timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    p      text;
    f      text := coalesce(http_window."from", start_date);
    t      text := coalesce(http_window."to", end_date);
    given  integer := (period IS NOT NULL)::integer + (days IS NOT NULL)::integer + (hours IS NOT NULL)::integer;
    f_ts   timestamptz;
    t_ts   timestamptz;
    f_date boolean := false;
    t_date boolean := false;
    w      record;
BEGIN
    IF given > 1 OR (given = 1 AND (f IS NOT NULL OR t IS NOT NULL))
       OR (http_window."from" IS NOT NULL AND start_date IS NOT NULL)
       OR (http_window."to" IS NOT NULL AND end_date IS NOT NULL) THEN
        PERFORM analytics.http_error(400, 'INVALID_PERIOD',
            'give either period (or days, or hours) or from/to, not both');
    END IF;
    IF days IS NOT NULL THEN
        p := CASE WHEN days ~ '^[0-9]{1,3}$' THEN days || 'd' END;
        IF p IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD', 'days must be an integer from 1 to 365');
        END IF;
    ELSIF hours IS NOT NULL THEN
        p := CASE WHEN hours ~ '^[0-9]{1,3}$' THEN hours || 'h' END;
        IF p IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD', 'hours must be an integer from 1 to 168');
        END IF;
    ELSE
        p := period;
    END IF;
    IF p IS NULL AND f IS NULL AND t IS NULL THEN
        p := default_period;
    END IF;
    IF p IS NOT NULL THEN
        w := analytics.period_window(p, now_ts);
        IF w.from_ts IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD',
                'period must be Nh (N from 1 to 168) or Nd (N from 1 to 365)');
        END IF;
        from_ts := w.from_ts;
        to_ts := w.to_ts;
        RETURN;
    END IF;
    -- from/to: dates are whole UTC days (both ends included), timestamps
    -- the window from <= t < to; one missing: to = now (today), from = to
    -- less the default period.
    IF t IS NULL THEN
        to_ts := CASE WHEN f ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                      THEN ((now_ts AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'
                      ELSE now_ts + interval '1 microsecond' END;
    ELSE
        SELECT i.ts, i.is_date INTO t_ts, t_date
        FROM analytics.http_parse_instant(t, CASE WHEN http_window."to" IS NULL THEN 'end_date' ELSE 'to' END) i;
        to_ts := CASE WHEN t_date THEN t_ts + interval '1 day' ELSE t_ts END;
        IF (t_date AND t_ts > date_trunc('day', now_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
           OR (NOT t_date AND t_ts > now_ts) THEN
            PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'to must not be after now (today, UTC)');
        END IF;
    END IF;
    IF f IS NULL THEN
        w := analytics.period_window(default_period, now_ts);
        from_ts := to_ts - (w.to_ts - w.from_ts);
    ELSE
        SELECT i.ts, i.is_date INTO f_ts, f_date
        FROM analytics.http_parse_instant(f, CASE WHEN http_window."from" IS NULL THEN 'start_date' ELSE 'from' END) i;
        from_ts := f_ts;
    END IF;
    IF from_ts > to_ts OR (f_date AND t_date AND f_ts > t_ts) THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_ts - from_ts > interval '365 days' THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'the period may span at most 365 days, both ends included');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_window(text, text, text, text, text, text, text, text) IS
    'The period of a §6 API call as the window [from_ts, to_ts): period Nh or Nd (days=N and hours=N mean Nd and Nh), or from/to (start_date/end_date) as YYYY-MM-DD whole UTC days or RFC 3339 timestamps; none: default_period; 400 INVALID_PERIOD for a bad period or period with from/to, 400 INVALID_DATE_RANGE for bad dates, from > to, to after now, or more than 365 days';

-- A granularity parameter of §6 (default day): hour (periods of at most 7
-- days; 168h ends a microsecond after now), day, week or month; else 400
-- INVALID_GRANULARITY.
CREATE OR REPLACE FUNCTION analytics.http_granularity(granularity text, from_ts timestamptz, to_ts timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL THEN
        RETURN 'day';
    END IF;
    IF length(granularity) > 16 OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity must be hour, day, week or month');
    END IF;
    IF granularity = 'hour' AND to_ts - from_ts > interval '7 days 1 microsecond' THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity hour is for periods of at most 7 days');
    END IF;
    RETURN granularity;
END
$$;
COMMENT ON FUNCTION analytics.http_granularity(text, timestamptz, timestamptz) IS
    'Parses the granularity parameter of a §6 API call (default day): hour (periods of at most 7 days), day, week or month, else 400 INVALID_GRANULARITY';
