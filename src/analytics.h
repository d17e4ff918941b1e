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

/* Settings (GUCs), defined in analytics.c. */
extern bool analytics_enabled;
extern bool analytics_free_tier_access;
extern int	analytics_partition_premake_days;
extern int	analytics_raw_retention_days;
extern int	analytics_daily_retention_days;
extern int	analytics_job_history_days;

#endif							/* ANALYTICS_H */
