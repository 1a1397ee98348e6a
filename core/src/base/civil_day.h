/* Calendar days, counted from 1970-01-01 (day 0), and their names
 * "YYYY-MM-DD": the day part of Redis keys and of `report --day`. */
#ifndef CSM_CIVIL_DAY_H
#define CSM_CIVIL_DAY_H

#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
int64_t csm_days_from_civil(int64_t y, unsigned m, unsigned d);
/* "YYYY-MM-DD" of a day counted from 1970-01-01 (out: 11 bytes). */
void csm_day_format(int32_t day, char out[11]);
/* Parses "YYYY-MM-DD"; 0 or -1. */
int csm_day_parse(const char *s, int32_t *day);

#endif
