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

PG_MODULE_MAGIC;

bool		analytics_enabled = true;
bool		analytics_free_tier_access = false;
int			analytics_partition_premake_days = 7;
int			analytics_raw_retention_days = 90;
int			analytics_daily_retention_days = 400;
int			analytics_job_history_days = 30;

void		_PG_init(void);

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
