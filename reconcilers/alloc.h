/*
 * Allocations under alloc/ (schema/README.md §1): a key per VNI, address or MAC,
 * created only when absent, whose value names its holder ("ns/name" for a
 * Network's VNI, "node/<node>" for a bridge address, "vm/<ns>/<name>/<iface>"
 * for a guest interface). Two writers can never hold the same one; a
 * holder gives a key back only while it still holds it.
 */
#ifndef NC_ALLOC_H
#define NC_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/etcd.h"

/* Claims @key for @value. 1 when @value holds it (now or from before), 0
 * when another does (its value copied to @holder), or a negative errno. */
int nc_alloc_claim(struct nc_etcd *etcd, const char *key, const char *value, char *holder,
                   size_t holdersz) __attribute__((warn_unused_result));

/* 1 when @key holds @value, 0 when it is absent or holds another, or a
 * negative errno. */
int nc_alloc_holds(struct nc_etcd *etcd, const char *key, const char *value)
    __attribute__((warn_unused_result));

/* Deletes @key while it holds @value. */
int nc_alloc_release(struct nc_etcd *etcd, const char *key, const char *value)
    __attribute__((warn_unused_result));

/* What a listing of the keys under a prefix found. */
struct nc_alloc_scan {
    const char *value; /* look for the key this holds (may be NULL) */
    char found[64];    /* the rest of that key after the prefix, or "" */
    size_t count;      /* keys under the prefix */
    cJSON *holders;    /* when set: the nodes of "node/<node>" values */
    uint32_t *used;    /* when @want_used: the addresses listed */
    size_t n_used;
    int want_used;
};

int nc_alloc_scan(struct nc_etcd *etcd, const char *prefix, struct nc_alloc_scan *s)
    __attribute__((warn_unused_result));
void nc_alloc_scan_clear(struct nc_alloc_scan *s);

/* Releases every key under @prefix that holds @value. */
int nc_alloc_release_all(struct nc_etcd *etcd, const char *prefix, const char *value)
    __attribute__((warn_unused_result));

/*
 * Takes an address of @network/@plen for @value under @prefix
 * ("<p>alloc/ip/<ns>/<net>/"): the one @value holds already, else the
 * lowest free host address. 0 with @ip, -ENOSPC when none is left, or a
 * negative errno.
 */
int nc_alloc_ip(struct nc_etcd *etcd, const char *prefix, uint32_t network, unsigned plen,
                const char *value, char ip[16]) __attribute__((warn_unused_result));

#endif
