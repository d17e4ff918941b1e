-- setup: install the extension; every later regression test runs on it.
-- (One version so far; from 0.2.0 on this walks the upgrade chain from the
-- oldest release, as postgresql-hll does.)
SET client_min_messages = warning;
CREATE EXTENSION analytics;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'analytics';
SELECT n.nspname FROM pg_namespace n WHERE n.nspname LIKE 'analytics%' ORDER BY 1;
SHOW analytics.enabled;
SHOW analytics.free_tier_access;
SHOW analytics.partition_premake_days;
