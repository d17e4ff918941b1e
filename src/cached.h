/*
 * cached.h: plans kept by the backend for the readers' dynamic statements
 * (cached.c), shared by execute_cached and the readers of readers.c.
 */
#ifndef ANALYTICS_CACHED_H
#define ANALYTICS_CACHED_H

#include "executor/spi.h"

/*
 * The generic plan of a statement with nargs arguments of the given types,
 * prepared at its first use and kept (at most 64 statements per backend,
 * the least recently used freed).  Call between SPI_connect and SPI_finish.
 */
extern SPIPlanPtr analytics_kept_plan(const char *query, int nargs, Oid *types);

/*
 * Runs a statement with its kept plan, read-only in the caller's snapshot,
 * its rows into dest (NULL: SPI_tuptable), at most tcount (0: all);
 * refuses a statement that is not a SELECT, naming who.  Returns the
 * number of rows.  Call between SPI_connect and SPI_finish.
 */
extern uint64 analytics_run_kept(const char *query, int nargs, Oid *types, const Datum *values,
								 const bool *nulls, DestReceiver *dest, long tcount, const char *who);

#endif							/* ANALYTICS_CACHED_H */
