-------------------------------------------------------------------------------
-- updates/0.4.0--0.5.0/: the hand-written part of the upgrade from 0.4.0 to
-- 0.5.0, one piece per concern (NN_*.sql, concatenated in name order; the
-- Makefile appends every sql/functions/ piece).  Each piece repeats, for an
-- updated database, the statements its concern added to sql/schema/, so
-- that an upgraded database has the schema of a fresh install
-- (tools/schema_check.sh).
-------------------------------------------------------------------------------

\echo Use "ALTER EXTENSION analytics UPDATE TO '0.5.0'" to load this file. \quit
