/*
 * alerts.c: the SQL-callable C of alerts and notifications (contract §6.6).
 *
 * analytics.hmac_sha256(key bytea, message bytea) returns bytea: the
 * HMAC-SHA256 of a message (PostgreSQL's own src/common pg_hmac), with
 * which analytics.delivery_claim signs Standard Webhooks messages.
 */
#include "analytics.h"

#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(analytics_hmac_sha256);

/* analytics.hmac_sha256(key, message): HMAC-SHA256 (32 bytes). */
Datum
analytics_hmac_sha256(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	pg_hmac_ctx *ctx;
	bytea	   *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR, errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create an HMAC context"));
	if (pg_hmac_init(ctx, (const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) < 0
		|| pg_hmac_update(ctx, (const uint8 *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)) < 0
		|| pg_hmac_final(ctx, (uint8 *) VARDATA(result), PG_SHA256_DIGEST_LENGTH) < 0)
	{
		const char *err = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		ereport(ERROR, errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute an HMAC: %s", err));
	}
	pg_hmac_free(ctx);
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	PG_RETURN_BYTEA_P(result);
}
