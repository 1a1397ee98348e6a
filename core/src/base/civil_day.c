/* Calendar days: the proleptic Gregorian calendar without libc or a time
 * zone (shop-local days are computed in shoptime.c, then named here). */
#include "civil_day.h"

/* Proleptic Gregorian calendar from days since 1970-01-01, by eras of
 * 400 years (146 097 days), so it is exact for negative days too and
 * needs no time zone or libc calendar. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468; /* shift the epoch to 0000-03-01: leap day ends the year */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t csm_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return len[m - 1];
}

/* Writes v as exactly w decimal digits (v < 10^w). */
static void put_digits(char *out, unsigned v, int w)
{
    for (int i = w - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

/* By hand: every counter key of every flush and every local day a plugin
 * asks for goes through here, and snprintf cost five times as much. */
void csm_day_format(int32_t day, char out[11])
{
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    /* Keys must stay 10 characters; years outside 0..9999 never occur in
     * event data, so clamping only guards against garbage. */
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 0;
}

static int digits(const char *s, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int csm_day_parse(const char *s, int32_t *day)
{
    unsigned y, m, d;
    if (!s || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != '\0')
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *day = (int32_t)csm_days_from_civil(y, m, d);
    return 0;
}
