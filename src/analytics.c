/*
 * analytics.c: module initialisation and settings (GUCs).
 *
 * Settings are SUSET: a tenant role must never be able to switch them for
 * itself.  Set them in postgresql.conf, with ALTER SYSTEM, or with
 * ALTER DATABASE ... SET as a superuser.
 */
#include "analytics.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

bool		analytics_enabled = true;
bool		analytics_free_tier_access = false;
int			analytics_partition_premake_days = 7;
int			analytics_raw_retention_days = 90;
int			analytics_daily_retention_days = 400;
int			analytics_job_history_days = 30;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(analytics_stored_bytes);

/* Define the analytics.* settings. */
void
_PG_init(void)
{
	DefineCustomBoolVariable("analytics.enabled",
							 "Enables the analytics API; when off every analytics_api function answers 404.",
							 NULL,
							 &analytics_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("analytics.free_tier_access",
							 "Lets free-tier tenants use the analytics API.",
							 NULL,
							 &analytics_free_tier_access,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("analytics.partition_premake_days",
							"Number of future days for which event partitions are created ahead of time.",
							"analytics.maintain_partitions() creates partitions from today up to this many days ahead.",
							&analytics_partition_premake_days,
							7,
							0, 366,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("analytics.raw_retention_days",
							"Days of raw events kept; older day partitions are dropped once rolled up.",
							"analytics.run_retention() drops a day partition only when every event of that day is in the rollups.",
							&analytics_raw_retention_days,
							90,
							1, 36500,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("analytics.daily_retention_days",
							"Days of daily rollup rows kept; older ones are folded into monthly rows.",
							NULL,
							&analytics_daily_retention_days,
							400,
							1, 36500,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("analytics.job_history_days",
							"Days of job history (analytics.job_runs) kept.",
							NULL,
							&analytics_job_history_days,
							30,
							1, 36500,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("analytics");
}

/* analytics.stored_bytes(anyelement): the bytes of a varlena value. */
Datum
analytics_stored_bytes(PG_FUNCTION_ARGS)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 0);
	struct varlena *value;
	bytea	   *result;
	Size		len;

	if (!OidIsValid(typid) || get_typlen(typid) != -1)
		ereport(ERROR,
				errcode(ERRCODE_DATATYPE_MISMATCH),
				errmsg("analytics.stored_bytes() takes a value of a variable-length type"),
				errdetail("The argument's type is %s.", OidIsValid(typid) ? format_type_be(typid) : "unknown"));
	value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	len = VARSIZE_ANY_EXHDR(value);
	result = (bytea *) palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), VARDATA_ANY(value), len);
	PG_RETURN_BYTEA_P(result);
}
