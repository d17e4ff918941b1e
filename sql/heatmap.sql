-- heatmap: the day-of-week x hour matrix: known cells, weights, agreement
-- with GROUP BY extract(dow/hour) on seeded random data, time zones across
-- DST changes, merging stored matrices, accessors, the binary round trip.
SET timezone = 'UTC';

-- Known timestamps land in known cells (dow 0 = Sunday).
SELECT analytics.heatmap_agg(ts)
FROM (VALUES ('2024-01-07 09:30:00+00'::timestamptz),   -- Sunday 09
             ('2024-01-08 10:00:00+00'),                -- Monday 10
             ('2024-01-08 10:59:59.999999+00'),         -- Monday 10
             ('2024-01-13 23:00:00+00'),                -- Saturday 23
             ('1999-12-31 23:59:59.5+00'),              -- Friday 23, before 2000
             ('1970-01-01 00:00:00+00'),                -- Thursday 00
             ('2024-01-08 12:00:00+02'),                -- Monday 10 UTC
             (NULL)) v(ts);

SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg(ts)
     FROM (VALUES ('2026-03-02 09:15+00'::timestamptz), ('2026-03-02 09:45+00'), ('2026-03-07 18:00+00')) v(ts)));

-- Weights: n per row, NULL ts or n skipped, zero allowed.
SELECT analytics.heatmap_agg(ts, n)
FROM (VALUES ('2026-03-02 09:15+00'::timestamptz, 5::bigint),
             ('2026-03-02 09:45+00', 7),
             ('2026-03-03 00:00+00', 0),
             ('2026-03-03 01:00+00', NULL),
             (NULL, 100)) v(ts, n);

-- No rows, and only NULLs: the empty matrix (like count(), never NULL).
SELECT analytics.heatmap_agg(ts) AS no_rows FROM (SELECT now() WHERE false) v(ts);
SELECT analytics.heatmap_agg(NULL::timestamptz, 1::bigint) AS only_nulls;
SELECT count(*) AS cells_of_empty FROM analytics.heatmap_cells('{}');

-- Seeded random data, microseconds included, 1990 .. 2035: the heatmap
-- equals GROUP BY extract(dow), extract(hour) in UTC.  Prints only rows that
-- disagree, then how many cells were compared.
SELECT setseed(0.42);
CREATE TEMP TABLE hm_data AS
SELECT '1990-01-01 00:00:00+00'::timestamptz + random() * interval '45 years' AS ts,
       (random() * 10)::bigint AS n
FROM generate_series(1, 50000);
WITH m AS (SELECT analytics.heatmap_agg(ts, n) AS m FROM hm_data),
     c AS (SELECT x.* FROM m, analytics.heatmap_cells(m.m) x),
     r AS (SELECT extract(dow FROM ts AT TIME ZONE 'UTC')::int AS dow,
                  extract(hour FROM ts AT TIME ZONE 'UTC')::int AS hour,
                  sum(n)::bigint AS count
           FROM hm_data GROUP BY 1, 2 HAVING sum(n) > 0)
SELECT dow, hour, c.count AS heatmap, r.count AS group_by
FROM c FULL JOIN r USING (dow, hour)
WHERE c.count IS DISTINCT FROM r.count;
SELECT count(*) AS cells, sum(count) = (SELECT sum(n) FROM hm_data) AS totals_agree
FROM analytics.heatmap_cells((SELECT analytics.heatmap_agg(ts, n) FROM hm_data));
SELECT analytics.heatmap_total(analytics.heatmap_agg(ts)) = count(*) AS unweighted_total
FROM hm_data;

-- The same in the session time zone's absence: 'UTC' through the zone path
-- equals the fast UTC path.
SELECT analytics.heatmap_agg(ts, n, 'UTC')::text = analytics.heatmap_agg(ts, n)::text AS utc_paths_agree
FROM hm_data;

-- Time zones: every hour and half hour of 2026 binned in local time equals
-- extract(dow/hour FROM ts AT TIME ZONE zone); prints disagreeing rows only.
CREATE TEMP TABLE hm_year AS
SELECT ts FROM generate_series('2026-01-01 00:00+00'::timestamptz, '2026-12-31 23:30+00', interval '30 minutes') ts;
WITH z(zone) AS (VALUES ('America/New_York'), ('Europe/Berlin'), ('Australia/Lord_Howe'), ('Asia/Kathmandu')),
     c AS (SELECT z.zone, x.*
           FROM z, LATERAL analytics.heatmap_cells(
               (SELECT analytics.heatmap_agg(ts, 1, z.zone) FROM hm_year)) x),
     r AS (SELECT z.zone,
                  extract(dow FROM ts AT TIME ZONE z.zone)::int AS dow,
                  extract(hour FROM ts AT TIME ZONE z.zone)::int AS hour,
                  count(*) AS count
           FROM z, hm_year GROUP BY 1, 2, 3)
SELECT zone, dow, hour, c.count AS heatmap, r.count AS group_by
FROM c FULL JOIN r USING (zone, dow, hour)
WHERE c.count IS DISTINCT FROM r.count;
SELECT count(DISTINCT zone) AS zones, sum(count) AS cells_compared
FROM (SELECT z.zone, x.count FROM (VALUES ('America/New_York'), ('Europe/Berlin'), ('Australia/Lord_Howe'), ('Asia/Kathmandu')) z(zone),
      LATERAL analytics.heatmap_cells((SELECT analytics.heatmap_agg(ts, 1, z.zone) FROM hm_year)) x) s;

-- Around the switches, cell by cell.  New York springs forward on
-- 2026-03-08 (02:00 EST -> 03:00 EDT, at 07:00 UTC): no 02 hour that
-- Sunday; falls back on 2026-11-01 (02:00 EDT -> 01:00 EST, at 06:00 UTC):
-- the 01 hour twice.
SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg(ts, 1, 'America/New_York')
     FROM generate_series('2026-03-08 05:00+00'::timestamptz, '2026-03-08 08:00+00', interval '1 hour') ts));
SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg(ts, 1, 'America/New_York')
     FROM generate_series('2026-11-01 04:00+00'::timestamptz, '2026-11-01 07:00+00', interval '1 hour') ts));
-- Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC); 2026-10-25
-- 03:00 CEST -> 02:00 CET (01:00 UTC).
SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg(ts, 1, 'Europe/Berlin')
     FROM generate_series('2026-03-29 00:00+00'::timestamptz, '2026-03-29 02:00+00', interval '1 hour') ts));
SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg(ts, 1, 'Europe/Berlin')
     FROM generate_series('2026-10-25 00:00+00'::timestamptz, '2026-10-25 02:00+00', interval '1 hour') ts));
-- A zone that crosses midnight moves the day of week too.
SELECT * FROM analytics.heatmap_cells(
    (SELECT analytics.heatmap_agg('2026-03-02 02:00+00'::timestamptz, 3, 'America/Los_Angeles')));
-- The zone may differ per row; each row is binned in its own zone.
SELECT analytics.heatmap_agg(ts, 1, zone)
FROM (VALUES ('2026-03-02 12:00+00'::timestamptz, 'UTC'), ('2026-03-02 12:00+00', 'Asia/Tokyo'),
             ('2026-03-02 12:00+00', 'UTC')) v(ts, zone);

-- Stored matrices: merging per-day heatmaps equals the heatmap of the union.
CREATE TEMP TABLE hm_daily AS
SELECT (ts AT TIME ZONE 'UTC')::date AS day, analytics.heatmap_agg(ts, n) AS m
FROM hm_data GROUP BY 1;
SELECT analytics.heatmap_merge(m)::text = (SELECT analytics.heatmap_agg(ts, n)::text FROM hm_data) AS merge_equals_union
FROM hm_daily;
-- ... in any order, and with NULLs among them.
SELECT analytics.heatmap_merge(m ORDER BY random())::text = (SELECT analytics.heatmap_agg(ts, n)::text FROM hm_data) AS any_order
FROM (SELECT m FROM hm_daily UNION ALL SELECT NULL) s;
SELECT analytics.heatmap_merge(m) AS merge_of_nothing FROM hm_daily WHERE false;
SELECT analytics.heatmap_merge(m) FROM (VALUES ('{1:9=54}'::analytics.heatmap), ('{1:9=6,0:0=1}'), (NULL)) v(m);
-- Grouped: one matrix per group, hash or sort aggregation alike.
SET enable_hashagg = off;
SELECT g, analytics.heatmap_agg(ts) FROM (VALUES (1, '2026-03-02 09:00+00'::timestamptz), (2, '2026-03-03 10:00+00'), (1, '2026-03-02 09:30+00')) v(g, ts) GROUP BY g ORDER BY g;
RESET enable_hashagg;
SET enable_sort = off;
SELECT g, analytics.heatmap_agg(ts) FROM (VALUES (1, '2026-03-02 09:00+00'::timestamptz), (2, '2026-03-03 10:00+00'), (1, '2026-03-02 09:30+00')) v(g, ts) GROUP BY g ORDER BY g;
RESET enable_sort;

-- Accessors.
SELECT analytics.heatmap_total('{1:9=54,1:10=12}');
SELECT analytics.heatmap_cell('{1:9=54,1:10=12}', 1, 9), analytics.heatmap_cell('{1:9=54,1:10=12}', 6, 23);
SELECT (analytics.heatmap_to_array('{1:9=54,6:23=2}'))[2][10] AS mon_09,
       (analytics.heatmap_to_array('{1:9=54,6:23=2}'))[7][24] AS sat_23,
       array_dims(analytics.heatmap_to_array('{}'));

-- Text form: blanks, any order, zero cells, '+' accepted; output canonical.
SELECT ' { 6:23 = 1 , 0:0=0, 1 : 9 = +54 } '::analytics.heatmap;

-- Binary round trip through send and a binary COPY.
SELECT length(analytics.heatmap_send('{1:9=54}')) AS send_bytes;
CREATE TEMP TABLE hm_copy (m analytics.heatmap);
INSERT INTO hm_copy SELECT m FROM hm_daily;
\set hm_file '/tmp/analytics_heatmap_' :PORT '.bin'
COPY hm_copy TO :'hm_file' WITH (FORMAT binary);
CREATE TEMP TABLE hm_copy2 (m analytics.heatmap);
COPY hm_copy2 FROM :'hm_file' WITH (FORMAT binary);
SELECT (SELECT array_agg(m::text ORDER BY m::text) FROM hm_copy) = (SELECT array_agg(m::text ORDER BY m::text) FROM hm_copy2) AS binary_copy_round_trip;

-- Transition and combine functions called directly from SQL work on copies.
SELECT analytics.heatmap_trans(NULL, '2026-03-02 09:00+00'), analytics.heatmap_trans('{1:9=1}', '2026-03-02 09:00+00', 2::bigint);
SELECT analytics.heatmap_combine('{1:9=1}', '{1:9=2}'), analytics.heatmap_combine(NULL, '{0:0=1}'), analytics.heatmap_combine('{0:0=1}', NULL), analytics.heatmap_combine(NULL, NULL);
SELECT analytics.heatmap_final(NULL);
