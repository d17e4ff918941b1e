/*
 * aggstate.c: the one way our transition and combine functions (qsketch,
 * heatmap, daycounts) take their state for an update.
 *
 * Their states are varlena values of the SQL type itself (so that Citus can
 * push the aggregates down).  Inside an aggregate, a plain (not toasted, not
 * short-header) aligned varlena in the state argument is the state nodeAgg
 * keeps for us: it is updated in place and returned as is, with only O(1)
 * shape checks.  Anything else (a direct SQL call, a value read from a table)
 * is untrusted: the caller reads and fully checks it into a fresh copy.
 *
 * Memory, the same for all: a new or grown state is built in the current
 * memory context.  When a transition function returns a pointer other than
 * the previous state, nodeAgg (and WindowAgg) copy it into the aggregate's
 * context and free the previous one, so allocating in the aggregate context
 * ourselves would only leave a second copy there until the group ends.
 */
#include "analytics.h"

#include "fmgr.h"

/* The state in argument argno if it is ours to update in place, else NULL. */
struct varlena *
analytics_agg_own_state(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *raw;

	if (PG_ARGISNULL(argno) || !AggCheckCallContext(fcinfo, NULL))
		return NULL;
	raw = (struct varlena *) PG_GETARG_POINTER(argno);
	if (VARATT_IS_EXTENDED(raw) || (uintptr_t) raw % MAXIMUM_ALIGNOF != 0)
		return NULL;
	return raw;
}
