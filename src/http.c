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
 *
 * analytics.http_claimed_tenant() returns uuid: the tenant the request's
 * JWT claims name (below).
 */
#include "analytics.h"

#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/uuid.h"

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

/*
 * analytics.http_claimed_tenant() returns uuid: the tenant that the
 * request's JWT claims name (PostgREST's request.jwt.claims): the claim
 * tenant_id, else organization_id, when it is a string of the form of a
 * uuid (8-4-4-4-12 hexadecimal digits, either case); NULL when the setting
 * is missing or empty, is not valid JSON, is not an object, or the claim is
 * missing, JSON null (then organization_id is read) or anything else.  As
 * jsonb reads an object, the last of repeated keys counts.
 *
 * Every tenant call asks it (and the row-level security policies of layer
 * 90).  It was PL/pgSQL that parsed the claims as jsonb twice inside an
 * exception block (a subtransaction) and matched a regular expression:
 * about 10 microseconds of each call.  Here the claims are read once by
 * PostgreSQL's own JSON parser, which returns its errors instead of raising
 * them.
 */
PG_FUNCTION_INFO_V1(analytics_http_claimed_tenant);

/* A top-level claim: absent, JSON null, a string, or anything else. */
typedef enum ClaimKind
{
	CLAIM_ABSENT = 0,
	CLAIM_NULL,
	CLAIM_STRING,
	CLAIM_OTHER
} ClaimKind;

typedef struct ClaimsState
{
	int			depth;			/* of the value being read: 1 = the top object */
	bool		top_is_object;
	int			field;			/* the top-level field being read: 0 none, 1 tenant_id, 2 organization_id */
	ClaimKind	kind[3];
	char	   *value[3];		/* of a string claim */
} ClaimsState;

#if PG_VERSION_NUM >= 160000
#define CLAIMS_ACTION JsonParseErrorType
#define CLAIMS_OK return JSON_SUCCESS
#else
#define CLAIMS_ACTION void
#define CLAIMS_OK return
#endif

static CLAIMS_ACTION
claims_object_start(void *state)
{
	ClaimsState *cs = (ClaimsState *) state;

	if (cs->depth == 0)
		cs->top_is_object = true;
	cs->depth++;
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_object_end(void *state)
{
	((ClaimsState *) state)->depth--;
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_array_start(void *state)
{
	((ClaimsState *) state)->depth++;
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_array_end(void *state)
{
	((ClaimsState *) state)->depth--;
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_field_start(void *state, char *fname, bool isnull)
{
	ClaimsState *cs = (ClaimsState *) state;

	if (cs->depth == 1 && cs->top_is_object)
	{
		cs->field = strcmp(fname, "tenant_id") == 0 ? 1 : strcmp(fname, "organization_id") == 0 ? 2 : 0;
		if (cs->field != 0)
		{
			/* (a later repeat replaces an earlier one, as in jsonb) */
			cs->kind[cs->field] = CLAIM_OTHER;
			cs->value[cs->field] = NULL;
		}
	}
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_field_end(void *state, char *fname, bool isnull)
{
	ClaimsState *cs = (ClaimsState *) state;

	if (cs->depth == 1)
		cs->field = 0;
	CLAIMS_OK;
}

static CLAIMS_ACTION
claims_scalar(void *state, char *token, JsonTokenType tokentype)
{
	ClaimsState *cs = (ClaimsState *) state;

	/* (a field's own value, not one inside an object or array under it) */
	if (cs->depth == 1 && cs->field != 0)
	{
		if (tokentype == JSON_TOKEN_NULL)
			cs->kind[cs->field] = CLAIM_NULL;
		else if (tokentype == JSON_TOKEN_STRING)
		{
			cs->kind[cs->field] = CLAIM_STRING;
			cs->value[cs->field] = token;
		}
	}
	CLAIMS_OK;
}

/* A uuid in the 8-4-4-4-12 form, either case, into *out. */
static bool
claims_uuid(const char *s, pg_uuid_t *out)
{
	int			j = 0;

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		char		c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				return false;
			continue;
		}
		if (!isxdigit((unsigned char) c))
			return false;
		if (j % 2 == 0)
			out->data[j / 2] = 0;
		out->data[j / 2] |= (uint8) ((c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10) << (j % 2 == 0 ? 4 : 0));
		j++;
	}
	return true;
}

Datum
analytics_http_claimed_tenant(PG_FUNCTION_ARGS)
{
	const char *claims = GetConfigOption("request.jwt.claims", true, false);
	ClaimsState cs;
	JsonSemAction sem;
	JsonLexContext *lex;
	int			pick;
	pg_uuid_t  *uuid;

	if (claims == NULL || claims[0] == '\0')
		PG_RETURN_NULL();
	memset(&cs, 0, sizeof(cs));
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &cs;
	sem.object_start = claims_object_start;
	sem.object_end = claims_object_end;
	sem.array_start = claims_array_start;
	sem.array_end = claims_array_end;
	sem.object_field_start = claims_field_start;
	sem.object_field_end = claims_field_end;
	sem.scalar = claims_scalar;
	lex = makeJsonLexContextCstringLen(pstrdup(claims), strlen(claims), GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS || !cs.top_is_object)
		PG_RETURN_NULL();
	/* coalesce(tenant_id, organization_id): a JSON null or absent claim is NULL */
	pick = (cs.kind[1] == CLAIM_ABSENT || cs.kind[1] == CLAIM_NULL) ? 2 : 1;
	if (cs.kind[pick] != CLAIM_STRING)
		PG_RETURN_NULL();
	uuid = palloc(sizeof(pg_uuid_t));
	if (!claims_uuid(cs.value[pick], uuid))
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(uuid);
}
