-- summary: the one-pass usage summary over daily aggregate rows: totals,
-- floor average over the days of the period, the earliest peak day, no calls
-- (null peakDate), active agents, and its errors.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE TEMP TABLE su_daily (tenant_id int, agent_id int, date date, metric_type text, count bigint);
INSERT INTO su_daily VALUES
    (1, 10,   '2026-03-01', 'api_calls', 5),
    (1, 11,   '2026-03-01', 'api_calls', 1),
    (1, NULL, '2026-03-02', 'api_calls', 7),            -- tenant-wide row
    (1, 10,   '2026-03-04', 'api_calls', 7),            -- ties 03-02: earliest wins
    (1, 10,   '2026-03-02', 'token_issuances', 12),
    (1, 12,   '2026-03-03', 'token_failures', 3),       -- not a summary total
    (1, 12,   '2026-03-03', 'credential_rotations', 2),
    (1, 13,   '2026-03-03', 'tool_calls', 9),
    (1, 14,   '2026-03-03', 'llm_calls', 4),
    (1, 15,   '2026-02-28', 'api_calls', 1000),         -- outside the period
    (2, 20,   '2026-03-01', 'api_calls', 99);           -- another tenant

-- totalApiCalls 20 over 5 days: averageDailyApiCalls floor(20 / 5) = 4;
-- the peak 7 is reached on 03-02 and 03-04: peakDate 2026-03-02.
SELECT analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05')
FROM su_daily WHERE tenant_id = 1 AND date BETWEEN '2026-03-01' AND '2026-03-05';
-- Rows outside the period are ignored even when not filtered out.
SELECT analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05')
FROM su_daily WHERE tenant_id = 1;

-- Active agents: distinct non-NULL agents with any event in the period, in
-- the same pass (count(DISTINCT) next to the summary), merged into the JSON.
SELECT analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05')
       || jsonb_build_object('activeAgentCount', count(DISTINCT agent_id) FILTER (WHERE count > 0)) AS summary
FROM su_daily WHERE tenant_id = 1 AND date BETWEEN '2026-03-01' AND '2026-03-05';

-- Floor, not round: 29 calls over 10 days is 2.
SELECT analytics.usage_summary_agg(d, 'api_calls', 29, '2026-03-01', '2026-03-10') ->> 'averageDailyApiCalls' AS average
FROM (VALUES ('2026-03-10'::date)) v(d);
-- A one-day period.
SELECT analytics.usage_summary_agg(d, 'api_calls', 3, d, d) FROM (VALUES ('2026-03-10'::date)) v(d);

-- No calls: zero totals and a null peakDate; also over no rows at all.
SELECT analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05')
FROM su_daily WHERE tenant_id = 1 AND metric_type = 'token_issuances';
SELECT analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05')
FROM su_daily WHERE false;
SELECT analytics.usage_summary_agg(date, metric_type, 0, '2026-03-01', '2026-03-05')
FROM su_daily WHERE tenant_id = 1;

-- NULL day, metric or count: the row is skipped.
SELECT analytics.usage_summary_agg(d, m, n, '2026-03-01', '2026-03-02')
FROM (VALUES (NULL::date, 'api_calls', 5::bigint), ('2026-03-01', NULL, 5), ('2026-03-01', 'api_calls', NULL), ('2026-03-02', 'api_calls', 1)) v(d, m, n);

-- Per tenant in one pass (GROUP BY), hash or sort.
SELECT tenant_id, analytics.usage_summary_agg(date, metric_type, count, '2026-03-01', '2026-03-05') ->> 'totalApiCalls' AS total
FROM su_daily GROUP BY tenant_id ORDER BY tenant_id;

-- The state is a 3-counter daycounts; its final function can be called directly.
SELECT analytics.usage_summary_final('[2026-03-01,2026-03-02]:{(1,0,0),(5,2,1)}');
SELECT analytics.usage_summary_final(NULL);

-- Errors, one per line.
SELECT analytics.usage_summary_agg(d, 'api_call', 1, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date)) v(d);
SELECT analytics.usage_summary_agg(d, 'api_calls', -1, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date)) v(d);
SELECT analytics.usage_summary_agg(d, 'tool_calls', -1, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date)) v(d);
SELECT analytics.usage_summary_agg(d, 'api_calls', 1, '2026-03-02', '2026-03-01') FROM (VALUES ('2026-03-01'::date)) v(d);
SELECT analytics.usage_summary_agg(d, 'api_calls', 1, '2026-03-01', NULL) FROM (VALUES ('2026-03-01'::date)) v(d);
SELECT analytics.usage_summary_agg(d, 'api_calls', n, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date, 9223372036854775807), ('2026-03-02', 1)) v(d, n);
SELECT analytics.usage_summary_final('[2026-03-01,2026-03-02]:{1,2}');
