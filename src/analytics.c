/*
 * analytics.c: module initialisation and settings (GUCs).
 *
 * Every setting is one row of analytics_settings below: its name (without
 * the "analytics." prefix), type, default, bounds and descriptions.
 * _PG_init defines them all; analytics.setting(name) and the C readers in
 * analytics.h accept exactly these names.  Calling any C function of the
 * extension loads this library and so defines the settings: SQL that reads
 * them through analytics.setting() works without shared_preload_libraries
 * (SHOW analytics.x needs the library loaded first, or the preload).
 *
 * Settings are SUSET: a tenant role must never be able to switch them for
 * itself.  Set them in postgresql.conf, with ALTER SYSTEM, or with
 * ALTER DATABASE ... SET as a superuser.
 */
#include "analytics.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

typedef struct AnalyticsSetting
{
	const char *name;			/* after "analytics." */
	bool		is_bool;
	int			boot;			/* default (0 or 1 for a bool) */
	int			min;
	int			max;
	const char *short_desc;
	const char *long_desc;
	bool		bool_value;		/* the GUC's storage */
	int			int_value;
	const char *string_boot;	/* non-NULL: a string setting, this default */
	char	   *string_value;
	bool		postmaster;		/* set at server start only (else SUSET) */
} AnalyticsSetting;

static AnalyticsSetting analytics_settings[] = {
	{"enabled", true, 1, 0, 1,
		"Enables the analytics API; when off every analytics_api function answers 404.", NULL},
	{"free_tier_access", true, 0, 0, 1,
		"Lets free-tier tenants use the analytics API.", NULL},
	{"partition_premake_days", false, 7, 0, 366,
		"Number of future days for which event partitions are created ahead of time.",
		"analytics.maintain_partitions() creates partitions from today up to this many days ahead."},
	{"raw_retention_days", false, 90, 1, 36500,
		"Days of raw events kept; older day partitions are dropped once rolled up.",
		"analytics.run_retention() drops a day partition only when every event of that day is in the rollups; "
		"analytics.record_events() refuses events that occurred before the start of the UTC day this many days ago."},
	{"daily_retention_days", false, 400, 1, 36500,
		"Days of daily rollup rows kept; older ones are folded into monthly rows.", NULL},
	{"job_history_days", false, 30, 1, 36500,
		"Days of job history (analytics.job_runs) kept.", NULL},
	{"max_event_future_seconds", false, 300, 0, 86400,
		"How far after the current time an event's occurred_at may lie (clock skew allowed).",
		"analytics.record_events() refuses events that occurred later than now() plus this many seconds."},
	/* health and the background worker (contract §6.5, §6.6; worker.c) */
	{"worker_database", false, 0, 0, 0,
		"Database the analytics background worker connects to (needs shared_preload_libraries).",
		"The worker probes the services of analytics.services and delivers notifications in this database; "
		"it waits while the extension is not installed there.",
	false, 0, "postgres", NULL, true},
	{"health_timeout_ms", false, 5000, 100, 60000,
		"Time limit of a health probe of the background worker, in milliseconds.",
		"A probe that gets no 2xx answer within this time records the service unhealthy."},
	{"health_degraded_ms", false, 1000, 1, 60000,
		"A 2xx health probe slower than this many milliseconds records the service degraded.", NULL},
	{"health_stale_seconds", false, 0, 0, 604800,
		"Seconds a health check's status holds without a newer one (0: 3 x the service's interval when probed, 300 when pushed).",
		"After it, time counts as unknown in the SLA and the service's status is unknown."},
	{"worker_max_concurrency", false, 8, 1, 64,
		"Most HTTP requests the background worker has in flight at once.", NULL},
	{"delivery_allow_private", true, 0, 0, 1,
		"Lets the background worker reach loopback, private and link-local addresses (probes and notifications).",
		"Off: such destinations are refused after name resolution, so a tenant cannot reach the internal network."},
	/* notification delivery (contract §6.6; worker.c) */
	{"delivery_timeout_ms", false, 10000, 100, 60000,
		"Time limit of one notification delivery attempt of the background worker, in milliseconds.", NULL},
	{"delivery_retry_base_ms", false, 5000, 100, 3600000,
		"First delay before a notification delivery is retried, in milliseconds (doubled on each further retry, at most 1 hour).",
		"A Retry-After answer, when given, sets the delay instead."},
	{"smtp_url", false, 0, 0, 0,
		"SMTP server through which the background worker sends e-mail notifications (smtp:// or smtps://).",
		"Empty: e-mail attempts fail and are retried until the notification expires; an SMTP server on a private address needs analytics.delivery_allow_private.",
	false, 0, "", NULL, false},
	{"smtp_from", false, 0, 0, 0,
		"Sender address of e-mail notifications.", NULL,
	false, 0, "analytics@localhost", NULL, false},
};

void		_PG_init(void);

PG_FUNCTION_INFO_V1(analytics_setting);
PG_FUNCTION_INFO_V1(analytics_stored_bytes);

/* Define the analytics.* settings. */
void
_PG_init(void)
{
	int			i;

	for (i = 0; i < lengthof(analytics_settings); i++)
	{
		AnalyticsSetting *s = &analytics_settings[i];
		char	   *name = psprintf("analytics.%s", s->name);

		if (s->string_boot != NULL)
			DefineCustomStringVariable(name, s->short_desc, s->long_desc, &s->string_value,
									   s->string_boot,
									   /*
									    * Loaded into a running server (not preloaded), a
									    * PGC_POSTMASTER setting cannot be created; the worker
									    * that reads it does not run then anyway.
									    */
									   s->postmaster && process_shared_preload_libraries_in_progress
									   ? PGC_POSTMASTER : PGC_SUSET, 0,
									   NULL, NULL, NULL);
		else if (s->is_bool)
			DefineCustomBoolVariable(name, s->short_desc, s->long_desc, &s->bool_value,
									 s->boot != 0, PGC_SUSET, 0, NULL, NULL, NULL);
		else
			DefineCustomIntVariable(name, s->short_desc, s->long_desc, &s->int_value,
									s->boot, s->min, s->max, PGC_SUSET, 0, NULL, NULL, NULL);
	}
	MarkGUCPrefixReserved("analytics");

	/* The background worker runs only when the library is preloaded. */
	if (process_shared_preload_libraries_in_progress)
		analytics_worker_register();
}

/* The setting of a name (without "analytics."), or an error naming ours. */
static const AnalyticsSetting *
analytics_setting_find(const char *name)
{
	StringInfoData names;
	int			i;

	for (i = 0; i < lengthof(analytics_settings); i++)
	{
		if (strcmp(analytics_settings[i].name, name) == 0)
			return &analytics_settings[i];
	}
	initStringInfo(&names);
	for (i = 0; i < lengthof(analytics_settings); i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", analytics_settings[i].name);
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("\"%s\" is not a setting of the analytics extension", name),
			errhint("The settings are analytics.<name> for name one of: %s.", names.data));
	return NULL;				/* not reached */
}

/* The current value of analytics.<name>, as SHOW prints it. */
const char *
analytics_setting_text(const char *name)
{
	const AnalyticsSetting *s = analytics_setting_find(name);

	return GetConfigOption(psprintf("analytics.%s", s->name), false, false);
}

/* The current value of the integer setting analytics.<name>. */
int
analytics_setting_int(const char *name)
{
	const AnalyticsSetting *s = analytics_setting_find(name);
	int			value;

	if (s->is_bool || s->string_boot != NULL || !parse_int(analytics_setting_text(name), &value, 0, NULL))
		elog(ERROR, "analytics.%s is not an integer setting", name);
	return value;
}

/* analytics.setting(name text) returns text: the value of analytics.<name>. */
Datum
analytics_setting(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(analytics_setting_text(name)));
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
