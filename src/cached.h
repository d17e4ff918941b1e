/*
 * cached.h: plans kept by the backend for the readers' dynamic statements
 * (cached.c), shared by execute_cached and read_raw_groups (readers.c).
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

#endif							/* ANALYTICS_CACHED_H */
