/*
 * analytics.h: the one header shared by the PostgreSQL-facing C files.
 *
 * Vocabulary: a "tenant" owns "agents"; an "event" is one row of
 * analytics.usage_events; a "day" is a UTC calendar day.  The *_core.c files
 * hold the algorithms in plain C (no postgres.h) so they can be unit tested
 * and fuzzed outside the server; the other files are the PostgreSQL glue.
 */
#ifndef ANALYTICS_H
#define ANALYTICS_H

#include "postgres.h"

/*
 * Settings (GUCs analytics.<name>, defined in analytics.c).  They are read
 * one way everywhere, by name through the GUC machinery: SQL with
 * analytics.setting(name), C with these two.  A name that is not one of ours
 * is an error (22023).
 */
extern const char *analytics_setting_text(const char *name);
extern int	analytics_setting_int(const char *name);

/*
 * The state argument of a transition or combine function when it is our own
 * aggregate state, to update in place; NULL otherwise (then read, check and
 * copy it in the current memory context).  See aggstate.c.
 */
#include "fmgr.h"

extern struct varlena *analytics_agg_own_state(FunctionCallInfo fcinfo, int argno);

/*
 * The background worker (worker.c): registered by _PG_init when the library
 * is preloaded; probes services (contract §6.5) in analytics.worker_database.
 */
extern void analytics_worker_register(void);

#endif							/* ANALYTICS_H */
