/*
 * civil.h: days since 2000-01-01 (PostgreSQL's date epoch) of a proleptic
 * Gregorian date, for the plain-C cores (trend_core.c, metric_core.c):
 * Howard Hinnant's days_from_civil, shifted from 1970 to 2000.  Any year;
 * month 1 to 12, day 1 to 31 (not checked here).
 */
#ifndef ANALYTICS_CIVIL_H
#define ANALYTICS_CIVIL_H

#include <stdint.h>

static inline int64_t
civil_days_since_2000(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;		/* floor division */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 - 10957;
}

#endif							/* ANALYTICS_CIVIL_H */
