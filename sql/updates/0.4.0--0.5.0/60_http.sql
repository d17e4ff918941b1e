-------------------------------------------------------------------------------
-- 60_http.sql: the HTTP layer's role check is one C function
-- (analytics.http_caller_has_role, src/http.c, re-created by
-- functions/80_http.sql), which analytics.http_caller_tenant calls itself;
-- the SQL wrapper it used is gone.
-------------------------------------------------------------------------------

DROP FUNCTION IF EXISTS analytics.http_caller_is_tenant_role();
