/*
 * worker.c: the analytics background worker (contract §6.5, §6.6).
 *
 * One worker per server, registered by _PG_init when the library is in
 * shared_preload_libraries, connected to analytics.worker_database as the
 * bootstrap superuser.  About every second it takes a "round":
 *   1. in a short transaction, claim the services due for a probe
 *      (analytics.health_claim_probes: FOR UPDATE SKIP LOCKED, and a lease
 *      in services.claimed_at, so a service is never probed twice at once);
 *   2. with no transaction open and no lock held, probe them concurrently
 *      (http_client.c: libcurl multi, bounded in time and concurrency,
 *      private destinations refused unless analytics.delivery_allow_private);
 *   3. in a second short transaction, record each result
 *      (analytics.health_probe_done), which frees the lease and schedules
 *      the next probe.
 * Then a delivery round (worker_deliver_round) sends the notifications of
 * the outbox (contract §6.6) the same way.
 * Users' backends never probe.  While the extension is not installed in
 * the database (or is older than the worker's functions, or this is a
 * Citus worker node) the worker waits and looks again every 10 seconds.
 * An error in a round is logged, the round abandoned (a lease runs out by
 * itself) and the next one taken 10 seconds later: the worker does not
 * exit on errors.  SIGTERM ends it (die), SIGHUP rereads the settings.
 */
#include "analytics.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "http_client.h"
#include "worker_core.h"

PGDLLEXPORT void analytics_worker_main(Datum main_arg);

#define WORKER_NAP_MS		1000	/* between rounds */
#define WORKER_IDLE_MS		10000	/* extension missing, or after an error */
#define WORKER_MAX_CLAIMS	256

/* One claimed service. */
typedef struct WorkerProbe
{
	int64		service_id;
	TimestampTz lease;
	TimestampTz checked_at;
	char	   *url;
} WorkerProbe;

/* Register the worker (from _PG_init, while preloading). */
void
analytics_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "analytics");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "analytics_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "analytics worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "analytics worker");
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/* http_run's stop callback: a shutdown asked for, or the postmaster gone. */
static int
worker_should_stop(void)
{
	return ProcDiePending || !PostmasterIsAlive();
}

/* Open a transaction with a snapshot and SPI. */
static void
worker_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "analytics worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
worker_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Is there work for this node: the extension installed here with the
 * worker's functions, and not a Citus worker node (the coordinator probes)?
 */
static bool
worker_extension_ready(void)
{
	bool		isnull;
	bool		ready;

	if (SPI_execute("SELECT pg_catalog.to_regprocedure('analytics.health_claim_probes(integer,integer)') IS NOT NULL"
					" AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'analytics')",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "analytics worker: could not look for the extension");
	ready = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!ready || isnull)
		return false;
	if (SPI_execute("SELECT pg_catalog.to_regproc('pg_catalog.citus_is_coordinator') IS NOT NULL", true, 1) != SPI_OK_SELECT
		|| SPI_processed != 1)
		elog(ERROR, "analytics worker: could not look for Citus");
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
	{
		if (SPI_execute("SELECT pg_catalog.citus_is_coordinator()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "analytics worker: could not ask Citus for the node's role");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) || isnull)
			return false;
	}
	return true;
}

/* One round; returns how long to sleep before the next. */
static long
worker_round(MemoryContext round_ctx)
{
	int			concurrency = analytics_setting_int("worker_max_concurrency");
	int			timeout_ms = analytics_setting_int("health_timeout_ms");
	int			degraded_ms = analytics_setting_int("health_degraded_ms");
	int			max_claims = Min(concurrency * 4, WORKER_MAX_CLAIMS);
	int			lease_s = (int) (((int64) timeout_ms * (max_claims / concurrency + 1)) / 1000) + 60;
	WorkerProbe *probes;
	HttpRequest *reqs;
	HttpOptions opt;
	int			n = 0;
	int			i;
	Datum		args[2];
	Oid			argtypes[2] = {INT4OID, INT4OID};
	MemoryContext old;

	/* 1. claim */
	worker_begin("analytics worker: claiming probes");
	if (!worker_extension_ready())
	{
		worker_commit();
		return WORKER_IDLE_MS;
	}
	args[0] = Int32GetDatum(max_claims);
	args[1] = Int32GetDatum(lease_s);
	if (SPI_execute_with_args("SELECT service_id, check_url, claimed_at FROM analytics.health_claim_probes($1, $2)",
							  2, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "analytics worker: could not claim the services due");
	old = MemoryContextSwitchTo(round_ctx);
	probes = palloc0(sizeof(WorkerProbe) * Max(SPI_processed, 1));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *url = SPI_getvalue(tup, desc, 2);

		if (url == NULL)
			continue;
		probes[n].service_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		probes[n].lease = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		probes[n].url = pstrdup(url);
		n++;
	}
	MemoryContextSwitchTo(old);
	worker_commit();
	if (n == 0)
		return WORKER_NAP_MS;

	/* 2. probe, outside any transaction */
	pgstat_report_activity(STATE_RUNNING, "analytics worker: probing");
	reqs = MemoryContextAllocZero(round_ctx, sizeof(HttpRequest) * n);
	for (i = 0; i < n; i++)
	{
		reqs[i].url = probes[i].url;
		probes[i].checked_at = GetCurrentTimestamp();
	}
	opt.timeout_ms = timeout_ms;
	opt.max_concurrency = concurrency;
	opt.allow_private = strcmp(analytics_setting_text("delivery_allow_private"), "on") == 0;
	opt.user_agent = "analytics-health-probe/" "0.5";
	http_run(reqs, n, &opt, worker_should_stop);
	pgstat_report_activity(STATE_IDLE, NULL);
	CHECK_FOR_INTERRUPTS();

	/* 3. record */
	worker_begin("analytics worker: recording probes");
	for (i = 0; i < n; i++)
	{
		Oid			types[6] = {INT8OID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, TEXTOID, TIMESTAMPTZOID};
		Datum		vals[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
		const char *status;

		if (!reqs[i].done)
			continue;			/* (abandoned: its lease runs out) */
		status = worker_probe_status(reqs[i].transfer_ok, reqs[i].refused, reqs[i].http_code,
									 reqs[i].elapsed_ms, degraded_ms);
		vals[0] = Int64GetDatum(probes[i].service_id);
		vals[1] = TimestampTzGetDatum(probes[i].lease);
		vals[2] = CStringGetTextDatum(status);
		vals[3] = Float8GetDatum(reqs[i].elapsed_ms);
		if (!reqs[i].transfer_ok && !reqs[i].refused && reqs[i].elapsed_ms <= 0)
			nulls[3] = 'n';
		if (reqs[i].error[0] != '\0')
			vals[4] = CStringGetTextDatum(reqs[i].error);
		else
			nulls[4] = 'n';
		vals[5] = TimestampTzGetDatum(probes[i].checked_at);
		if (SPI_execute_with_args("SELECT analytics.health_probe_done($1, $2, $3, $4, $5, $6)",
								  6, types, vals, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "analytics worker: could not record a probe");
	}
	worker_commit();
	return n >= max_claims ? 0 : WORKER_NAP_MS;
}

/* One claimed notification. */
typedef struct WorkerDelivery
{
	int64		delivery_id;
	TimestampTz lease;
	TimestampTz started_at;
	char	   *url;
	char	   *body;
	const char **headers;
	bool		email;
	char	   *mail_from;		/* e-mail: the envelope sender and recipient */
	char	   *mail_to;
} WorkerDelivery;

static bool worker_recovered = false;

/*
 * One delivery round (contract §6.6): claim due notifications of the
 * outbox (analytics.delivery_claim: FOR UPDATE SKIP LOCKED and a lease),
 * send them outside any transaction, record every attempt
 * (analytics.delivery_done).  At the worker's first round, attempts cut
 * by a stop or crash are made due again (analytics.delivery_recover).
 * E-mail goes over SMTP (analytics.smtp_url, from analytics.smtp_from):
 * the claim gives the whole message; the SMTP reply code is recorded as
 * the attempt's status (2xx succeeded, 4xx retried, 5xx failed).
 */
static long
worker_deliver_round(MemoryContext round_ctx)
{
	int			concurrency = analytics_setting_int("worker_max_concurrency");
	int			timeout_ms = analytics_setting_int("delivery_timeout_ms");
	int			max_claims = Min(concurrency * 4, WORKER_MAX_CLAIMS);
	int			lease_s = (int) (((int64) timeout_ms * (max_claims / concurrency + 1)) / 1000) + 60;
	WorkerDelivery *dels;
	HttpRequest *reqs;
	HttpOptions opt;
	int			n = 0;
	int			i;
	bool		isnull;
	Datum		args[2];
	Oid			argtypes[2] = {INT4OID, INT4OID};
	MemoryContext old;

	worker_begin("analytics worker: claiming notifications");
	if (SPI_execute("SELECT pg_catalog.to_regprocedure('analytics.delivery_claim(integer,integer)') IS NOT NULL",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1
		|| !DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
	{
		worker_commit();
		return WORKER_IDLE_MS;
	}
	if (!worker_recovered)
	{
		if (SPI_execute("SELECT analytics.delivery_recover()", false, 1) != SPI_OK_SELECT)
			elog(ERROR, "analytics worker: could not recover the notifications in flight");
		worker_recovered = true;
	}
	args[0] = Int32GetDatum(max_claims);
	args[1] = Int32GetDatum(lease_s);
	if (SPI_execute_with_args("SELECT delivery_id, claimed_at, channel_type, url, body, headers, mail_from, mail_to FROM analytics.delivery_claim($1, $2)",
							  2, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "analytics worker: could not claim the notifications due");
	old = MemoryContextSwitchTo(round_ctx);
	dels = palloc0(sizeof(WorkerDelivery) * Max(SPI_processed, 1));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *type = SPI_getvalue(tup, desc, 3);
		char	   *url = SPI_getvalue(tup, desc, 4);
		char	   *body = SPI_getvalue(tup, desc, 5);
		Datum		hdat = SPI_getbinval(tup, desc, 6, &isnull);

		dels[n].delivery_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		dels[n].lease = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		dels[n].url = url ? pstrdup(url) : pstrdup("");
		dels[n].body = body ? pstrdup(body) : pstrdup("");
		dels[n].email = type != NULL && strcmp(type, "email") == 0;
		if (dels[n].email)
		{
			char	   *from = SPI_getvalue(tup, desc, 7);
			char	   *to = SPI_getvalue(tup, desc, 8);

			dels[n].mail_from = pstrdup(from ? from : "");
			dels[n].mail_to = pstrdup(to ? to : "");
		}
		SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
		{
			ArrayType  *arr = DatumGetArrayTypeP(hdat);
			Datum	   *elems;
			bool	   *enulls;
			int			ne;
			int			j;

			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &ne);
			dels[n].headers = palloc0(sizeof(char *) * (ne + 1));
			for (j = 0; j < ne; j++)
				dels[n].headers[j] = enulls[j] ? "" : TextDatumGetCString(elems[j]);
		}
		n++;
	}
	MemoryContextSwitchTo(old);
	worker_commit();
	if (n == 0)
		return WORKER_NAP_MS;

	pgstat_report_activity(STATE_RUNNING, "analytics worker: delivering");
	reqs = MemoryContextAllocZero(round_ctx, sizeof(HttpRequest) * n);
	for (i = 0; i < n; i++)
	{
		reqs[i].url = dels[i].url;
		reqs[i].body = dels[i].body;
		reqs[i].body_len = strlen(dels[i].body);
		reqs[i].headers = (const char *const *) dels[i].headers;
		if (dels[i].email)
		{
			reqs[i].mail_from = dels[i].mail_from;
			reqs[i].mail_rcpt = dels[i].mail_to;
		}
		dels[i].started_at = GetCurrentTimestamp();
	}
	opt.timeout_ms = timeout_ms;
	opt.max_concurrency = concurrency;
	opt.allow_private = strcmp(analytics_setting_text("delivery_allow_private"), "on") == 0;
	opt.user_agent = "analytics-notifications/" "0.5";
	http_run(reqs, n, &opt, worker_should_stop);
	pgstat_report_activity(STATE_IDLE, NULL);
	CHECK_FOR_INTERRUPTS();

	worker_begin("analytics worker: recording deliveries");
	for (i = 0; i < n; i++)
	{
		Oid			types[8] = {INT8OID, TIMESTAMPTZOID, BOOLOID, BOOLOID, INT4OID, INT4OID, TEXTOID, TIMESTAMPTZOID};
		Datum		vals[8];
		char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		if (!reqs[i].done)
			continue;			/* (abandoned: its lease runs out) */
		vals[0] = Int64GetDatum(dels[i].delivery_id);
		vals[1] = TimestampTzGetDatum(dels[i].lease);
		vals[2] = BoolGetDatum(reqs[i].transfer_ok != 0);
		vals[3] = BoolGetDatum(reqs[i].refused != 0);
		vals[4] = Int32GetDatum((int32) reqs[i].http_code);
		vals[5] = Int32GetDatum((int32) Min(reqs[i].retry_after_s, 86400));
		if (reqs[i].error[0] != '\0')
			vals[6] = CStringGetTextDatum(reqs[i].error);
		else
			nulls[6] = 'n';
		vals[7] = TimestampTzGetDatum(dels[i].started_at);
		if (SPI_execute_with_args("SELECT analytics.delivery_done($1, $2, $3, $4, $5, $6, $7, $8)",
								  8, types, vals, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "analytics worker: could not record a delivery");
	}
	worker_commit();
	return n >= max_claims ? 0 : WORKER_NAP_MS;
}

/* The worker's entry point. */
void
analytics_worker_main(Datum main_arg)
{
	MemoryContext round_ctx;
	const char *dbname;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	dbname = analytics_setting_text("worker_database");
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("analytics worker");
	/* the worker's own statements wait little for locks and never long */
	SetConfigOption("lock_timeout", "5000", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "60000", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "analytics worker", PGC_SUSET, PGC_S_OVERRIDE);
	ereport(LOG, errmsg("analytics worker started in database \"%s\"", dbname));

	round_ctx = AllocSetContextCreate(TopMemoryContext, "analytics worker round", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		volatile long nap = WORKER_NAP_MS;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		PG_TRY();
		{
			long		deliver_nap;

			nap = worker_round(round_ctx);
			MemoryContextReset(round_ctx);
			if (nap != WORKER_IDLE_MS)
			{
				deliver_nap = worker_deliver_round(round_ctx);
				nap = Min(nap, deliver_nap);
			}
		}
		PG_CATCH();
		{
			/* log it, abandon the round, try again later */
			HOLD_INTERRUPTS();
			MemoryContextSwitchTo(TopMemoryContext);
			EmitErrorReport();
			AbortCurrentTransaction();
			FlushErrorState();
			pgstat_report_activity(STATE_IDLE, NULL);
			RESUME_INTERRUPTS();
			nap = WORKER_IDLE_MS;
		}
		PG_END_TRY();
		MemoryContextReset(round_ctx);
		if (nap > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, nap, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
