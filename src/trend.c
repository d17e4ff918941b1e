/* trend.c: placeholder until the glue lands. */
#include "analytics.h"
