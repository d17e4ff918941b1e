/*
 * http.c: the SQL-callable C of the HTTP layer (layer 80).
 *
 * analytics.http_caller_has_role(api_role name) returns boolean: does the
 * role calling the API have the privileges of api_role?  Every API call
 * asks this first (analytics.http_caller_tenant, http_scope_of), so it is
 * one catalogue lookup in C rather than a SQL function over pg_roles, which
 * PostgreSQL plans again at every call (a SQL function with SET clauses is
 * never inlined): 0.25 ms of every answer.
 *
 * Inside a SECURITY DEFINER function the current user is the owner; the
 * caller is the "outer" user: the role set with SET ROLE (PostgREST's SET
 * LOCAL ROLE to the token's role), else the session user.  A NOINHERIT
 * authenticator that has not switched role does not qualify; a superuser
 * has every role's privileges; an unknown api_role qualifies nobody else.
 * The same rules as pg_has_role(caller, api_role, 'USAGE').
 */
#include "analytics.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(analytics_http_caller_has_role);

Datum
analytics_http_caller_has_role(PG_FUNCTION_ARGS)
{
	Name		api_role = PG_GETARG_NAME(0);
	Oid			caller = GetOuterUserId();
	Oid			target;

	if (superuser_arg(caller))
		PG_RETURN_BOOL(true);
	target = get_role_oid(NameStr(*api_role), true);
	if (!OidIsValid(target))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(has_privs_of_role(caller, target));
}
