#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/flags.h"

int64_t
nc_flags_duration(const char *s)
{
    char *end;
    long long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v < 0 || v > INT32_MAX)
        return -1;
    if (strcmp(end, "ms") == 0)
        return v;
    if (strcmp(end, "s") == 0)
        return v * 1000;
    if (strcmp(end, "m") == 0)
        return v * 60 * 1000;
    if (strcmp(end, "h") == 0)
        return v * 3600 * 1000;
    return -1;
}

int
nc_flags_endpoints(const char *prog, char *list, const char *endpoints[NC_FLAGS_MAX_ENDPOINTS],
                    size_t *ret_n)
{
    char *save = NULL;

    *ret_n = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*ret_n == NC_FLAGS_MAX_ENDPOINTS) {
            fprintf(stderr, "%s: at most %d etcd endpoints\n", prog, NC_FLAGS_MAX_ENDPOINTS);
            return -EINVAL;
        }
        if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) {
            fprintf(stderr, "%s: etcd endpoint \"%s\" must start with http:// or https://\n",
                    prog, t);
            return -EINVAL;
        }
        if (t[strlen(t) - 1] == '/')
            t[strlen(t) - 1] = '\0';
        endpoints[(*ret_n)++] = t;
    }
    if (*ret_n == 0) {
        fprintf(stderr, "%s: --etcd names no endpoint\n", prog);
        return -EINVAL;
    }
    return 0;
}

int
nc_flags_prefix(const char *prog, char **prefix)
{
    char *s;

    if ((*prefix)[0] != '/') {
        fprintf(stderr, "%s: --prefix must start with '/'\n", prog);
        return -EINVAL;
    }
    if ((*prefix)[strlen(*prefix) - 1] == '/')
        return 0;
    if (asprintf(&s, "%s/", *prefix) < 0)
        return -ENOMEM;
    free(*prefix);
    *prefix = s;
    return 0;
}

const char *
nc_env_or(const char *var, const char *def)
{
    const char *e = getenv(var);

    return e && *e ? e : def;
}
