/* The flags every binary shares, novacrond and novactl alike: etcd
 * endpoints, the key prefix, durations. */
#ifndef NC_FLAGS_H
#define NC_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#define NC_FLAGS_MAX_ENDPOINTS 8

/*
 * Splits the comma-separated @list (modified in place) into @endpoints,
 * http:// or https:// each. 0, or -EINVAL after printing why to stderr as
 * @prog.
 */
int nc_flags_endpoints(const char *prog, char *list, const char *endpoints[NC_FLAGS_MAX_ENDPOINTS],
                       size_t *ret_n) __attribute__((warn_unused_result));

/* Checks that *@prefix starts with '/' and adds the trailing '/' it must
 * have (replacing *@prefix). 0, -ENOMEM, or -EINVAL after printing why. */
int nc_flags_prefix(const char *prog, char **prefix) __attribute__((warn_unused_result));

/* Parses "500ms", "30s", "5m", "1h" into milliseconds; -1 when invalid. */
int64_t nc_flags_duration(const char *s);

/* The value of environment variable @var, or @def when it is unset or
 * empty: how every NOVACRON_* variable gives a flag's default. */
const char *nc_env_or(const char *var, const char *def);

#endif
