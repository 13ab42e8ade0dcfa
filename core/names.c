#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/names.h"
#include "schema/kinds.h"

#define FNV_PRIME 0x100000001b3ULL

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t
nc_hash_str(uint64_t h, const char *s)
{
    /* Hash the terminating NUL too, so ("ab","c") and ("a","bc") differ. */
    return fnv1a(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

void
nc_install_hash(const char *cluster, const char *prefix, char out[9])
{
    uint64_t h = nc_hash_str(nc_hash_str(NC_HASH_START, cluster), prefix);

    snprintf(out, 9, "%08" PRIx32, (uint32_t)(h ^ (h >> 32)));
}

void
nc_domain_name(const char *install_hash, const char *ns, const char *name,
               char out[NC_DOMAIN_NAME_MAX])
{
    snprintf(out, NC_DOMAIN_NAME_MAX, "nc-%s.%s.%s", install_hash, ns, name);
}

bool
nc_domain_name_parse(const char *install_hash, const char *domname, char ns[NC_NAME_MAX + 1],
                     char name[NC_NAME_MAX + 1])
{
    size_t hl = strlen(install_hash);
    const char *p, *dot;

    if (strncmp(domname, "nc-", 3) != 0 || strncmp(domname + 3, install_hash, hl) != 0 ||
        domname[3 + hl] != '.')
        return false;
    p = domname + 3 + hl + 1;
    dot = strchr(p, '.');
    if (!dot || dot == p || (size_t)(dot - p) > NC_NAME_MAX || strlen(dot + 1) > NC_NAME_MAX ||
        !dot[1])
        return false;
    memcpy(ns, p, (size_t)(dot - p));
    ns[dot - p] = '\0';
    strcpy(name, dot + 1);
    return true;
}

bool
nc_key_parse(const char *key, char ns[NC_NAME_MAX + 1], char kind[16], char name[NC_NAME_MAX + 1])
{
    const char *k = strchr(key, '/'), *n = k ? strchr(k + 1, '/') : NULL;

    if (!n || (size_t)(k - key) > NC_NAME_MAX || (size_t)(n - k - 1) >= 16 ||
        strlen(n + 1) > NC_NAME_MAX)
        return false;
    snprintf(ns, NC_NAME_MAX + 1, "%.*s", (int)(k - key), key);
    snprintf(kind, 16, "%.*s", (int)(n - k - 1), k + 1);
    snprintf(name, NC_NAME_MAX + 1, "%s", n + 1);
    return nc_is_dns_label(ns) && nc_is_dns_label(name) && nc_kind_by_segment(kind);
}
