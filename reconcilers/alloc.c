#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcilers/alloc.h"

int
nc_alloc_claim(struct nc_etcd *etcd, const char *key, const char *value, char *holder,
               size_t holdersz)
{
    struct nc_kv kv;
    int r = nc_etcd_create(etcd, key, value, 0, &kv, NULL);

    if (r == 1)
        return 1;
    if (r != 0)
        return r;
    snprintf(holder, holdersz, "%s", kv.value);
    nc_kv_clear(&kv);
    return strcmp(holder, value) == 0 ? 1 : 0;
}

int
nc_alloc_release(struct nc_etcd *etcd, const char *key, const char *value)
{
    return nc_etcd_delete_if(etcd, key, value, NULL, NULL);
}

struct scan_walk {
    struct nc_alloc_scan *s;
    size_t skip;
    size_t cap;
};

static int
on_kv(const struct nc_kv *kv, void *data)
{
    struct scan_walk *w = data;
    struct nc_alloc_scan *s = w->s;
    const char *rest = kv->key + w->skip;
    struct in_addr in;

    s->count++;
    if (s->value && strcmp(kv->value, s->value) == 0 && !s->found[0])
        snprintf(s->found, sizeof(s->found), "%s", rest);
    if (s->holders && strncmp(kv->value, "node/", 5) == 0)
        cJSON_AddItemToArray(s->holders, cJSON_CreateString(kv->value + 5));
    if (s->want_used && inet_pton(AF_INET, rest, &in) == 1) {
        if (s->n_used == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            uint32_t *grown = realloc(s->used, cap * sizeof(*grown));

            if (!grown)
                return -ENOMEM;
            s->used = grown;
            w->cap = cap;
        }
        s->used[s->n_used++] = ntohl(in.s_addr);
    }
    return 0;
}

int
nc_alloc_scan(struct nc_etcd *etcd, const char *prefix, struct nc_alloc_scan *s)
{
    struct scan_walk w = {s, strlen(prefix), 0};
    int64_t rev;

    return nc_etcd_list(etcd, prefix, 1000, on_kv, &w, &rev);
}

void
nc_alloc_scan_clear(struct nc_alloc_scan *s)
{
    free(s->used);
    s->used = NULL;
    s->n_used = 0;
}

struct release_walk {
    struct nc_etcd *etcd;
    const char *value;
    char **keys;
    size_t n, cap;
};

static int
on_release(const struct nc_kv *kv, void *data)
{
    struct release_walk *w = data;

    if (strcmp(kv->value, w->value) != 0)
        return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        char **grown = realloc(w->keys, cap * sizeof(*grown));

        if (!grown)
            return -ENOMEM;
        w->keys = grown;
        w->cap = cap;
    }
    if (!(w->keys[w->n] = strdup(kv->key)))
        return -ENOMEM;
    w->n++;
    return 0;
}

int
nc_alloc_release_all(struct nc_etcd *etcd, const char *prefix, const char *value)
{
    struct release_walk w = {.etcd = etcd, .value = value};
    int64_t rev;
    int r = nc_etcd_list(etcd, prefix, 1000, on_release, &w, &rev);

    for (size_t i = 0; i < w.n; i++) {
        if (r == 0)
            r = nc_alloc_release(etcd, w.keys[i], value);
        free(w.keys[i]);
    }
    free(w.keys);
    return r;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

int
nc_alloc_ip(struct nc_etcd *etcd, const char *prefix, uint32_t network, unsigned plen,
            const char *value, char ip[16])
{
    struct nc_alloc_scan s = {.value = value, .want_used = 1};
    uint32_t last = network + (uint32_t)((1ULL << (32 - plen)) - 2);
    size_t u = 0;
    int r;

    if ((r = nc_alloc_scan(etcd, prefix, &s)) < 0)
        goto out;
    if (s.found[0]) {
        struct in_addr in;

        /* One of a CIDR the network had before is not kept. */
        if (inet_pton(AF_INET, s.found, &in) == 1 && ntohl(in.s_addr) > network &&
            ntohl(in.s_addr) <= last) {
            inet_ntop(AF_INET, &in, ip, 16);
            goto out;
        }
    }
    if (s.n_used)
        qsort(s.used, s.n_used, sizeof(*s.used), cmp_u32);
    r = -ENOSPC;
    /* The lowest address not listed; one taken meanwhile is passed over. */
    for (uint32_t a = network + 1; a <= last; a++) {
        struct in_addr in = {.s_addr = htonl(a)};
        char holder[300], *key = NULL;

        while (u < s.n_used && s.used[u] < a)
            u++;
        if (u < s.n_used && s.used[u] == a)
            continue;
        inet_ntop(AF_INET, &in, ip, 16);
        if (asprintf(&key, "%s%s", prefix, ip) < 0) {
            r = -ENOMEM;
            break;
        }
        r = nc_alloc_claim(etcd, key, value, holder, sizeof(holder));
        free(key);
        if (r != 0) {
            r = r < 0 ? r : 0;
            break;
        }
        r = -ENOSPC;
    }
out:
    nc_alloc_scan_clear(&s);
    return r;
}

int
nc_alloc_holds(struct nc_etcd *etcd, const char *key, const char *value)
{
    struct nc_kv kv;
    int r = nc_etcd_get(etcd, key, &kv, NULL);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    r = strcmp(kv.value, value) == 0;
    nc_kv_clear(&kv);
    return r;
}
