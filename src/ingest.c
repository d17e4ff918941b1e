#include "analytics.h"
#include "fmgr.h"
PG_FUNCTION_INFO_V1(analytics_record_events);
Datum analytics_record_events(PG_FUNCTION_ARGS) { PG_RETURN_INT64(0); }
