#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema/quantity.h"

static const struct {
    const char *suffix;
    unsigned shift;
} suffixes[] = {
    {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40},
};

int
nc_quantity_parse(const char *s, uint64_t *ret_bytes)
{
    uint64_t v = 0;
    const char *p = s;
    unsigned shift = 0;

    if (!s || *s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (*p) {
        size_t i;

        for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
            if (strcmp(p, suffixes[i].suffix) == 0 ||
                (strncmp(p, suffixes[i].suffix, 2) == 0 && strcmp(p + 2, "B") == 0))
                break;
        if (i == sizeof(suffixes) / sizeof(suffixes[0]))
            return -EINVAL;
        shift = suffixes[i].shift;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *ret_bytes = v << shift;
    return 0;
}

char *
nc_quantity_format(uint64_t bytes, char *buf, size_t bufsz)
{
    static const char *const units[] = {"", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;

    while (u < 4 && bytes != 0 && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, bufsz, "%llu%s", (unsigned long long)bytes, units[u]);
    return buf;
}

int
nc_duration_parse(const char *s, uint64_t *ret_seconds)
{
    static const struct {
        char unit;
        uint64_t seconds;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    uint64_t total = 0;
    size_t next = 0; /* units before this one were used or skipped */

    if (!s || !*s)
        return -EINVAL;
    while (*s) {
        uint64_t v = 0;
        size_t i;

        if (*s < '0' || *s > '9')
            return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > UINT32_MAX)
                return -ERANGE;
        }
        for (i = next; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *s; i++)
            ;
        if (i == sizeof(units) / sizeof(units[0]))
            return -EINVAL;
        total += v * units[i].seconds;
        if (total > UINT32_MAX)
            return -ERANGE;
        next = i + 1;
        s++;
    }
    *ret_seconds = total;
    return 0;
}
