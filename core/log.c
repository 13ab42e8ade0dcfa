#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static enum nc_log_level min_level = NC_LOG_INFO;

static const char *const level_names[] = {
    [NC_LOG_DEBUG] = "debug",
    [NC_LOG_INFO] = "info",
    [NC_LOG_WARN] = "warn",
    [NC_LOG_ERROR] = "error",
};

enum nc_log_level
nc_log_level_parse(const char *s)
{
    for (int i = 0; i < NC_LOG_INVALID; i++)
        if (strcmp(s, level_names[i]) == 0)
            return (enum nc_log_level)i;
    return NC_LOG_INVALID;
}

void
nc_log_set_level(enum nc_log_level level)
{
    min_level = level;
}

char *
nc_log_escape(const char *in, char *out, size_t outsz)
{
    size_t o = 0;

    if (outsz == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char tmp[5];
        size_t n;

        if (*p == '\\') {
            memcpy(tmp, "\\\\", 3);
            n = 2;
        } else if (*p < 0x20 || *p > 0x7e) {
            snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
            n = 4;
        } else {
            tmp[0] = (char)*p;
            n = 1;
        }
        if (o + n >= outsz)
            break;
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

void
nc_log(enum nc_log_level level, const char *key, const char *fmt, ...)
{
    char msg[2048], emsg[4096], ekey[512], ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level < min_level || level >= NC_LOG_INVALID)
        return;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

    nc_log_escape(msg, emsg, sizeof(emsg));
    if (key) {
        nc_log_escape(key, ekey, sizeof(ekey));
        fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", ts, now.tv_nsec / 1000000,
                level_names[level], ekey, emsg);
    } else {
        fprintf(stderr, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000, level_names[level],
                emsg);
    }
}
