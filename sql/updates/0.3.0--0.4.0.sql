-------------------------------------------------------------------------------
-- updates/0.3.0--0.4.0.sql: the hand-written part of the upgrade from 0.3.0
-- to 0.4.0 (the Makefile appends every sql/functions/ piece).  0.4.0 adds the
-- operator half of the API (contract §6): the analytics_operator scope, the
-- shared period parser, and the agent, tool, session, workflow and error
-- answers with the rollups they read.
-------------------------------------------------------------------------------

\echo Use "ALTER EXTENSION analytics UPDATE TO '0.4.0'" to load this file. \quit
