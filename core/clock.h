/* The two clocks: monotonic milliseconds for intervals and deadlines, and
 * wall-clock RFC 3339 for what people read (status and event times). */
#ifndef NC_CLOCK_H
#define NC_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock. */
int64_t nc_now_ms(void);

/* The current UTC time as "2026-11-23T10:00:00Z" into @buf; returns @buf. */
char *nc_rfc3339_now(char buf[32]);
/* @t the same way. */
char *nc_rfc3339_format(time_t t, char buf[32]);
/* Reads what nc_rfc3339_format() writes; -1 for anything else. */
time_t nc_rfc3339_parse(const char *s);

#endif
