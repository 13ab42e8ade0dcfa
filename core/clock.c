#include <time.h>

#include "core/clock.h"

int64_t
nc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
nc_rfc3339_format(time_t t, char buf[32])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

char *
nc_rfc3339_now(char buf[32])
{
    return nc_rfc3339_format(time(NULL), buf);
}

time_t
nc_rfc3339_parse(const char *s)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

    return end && !*end ? timegm(&tm) : (time_t)-1;
}
