/*
 * How NovaCron names what it makes and how it marks it as its own
 * (schema/README.md §1 and §4), for every kind and every driver: the
 * object key "<ns>/<kind>/<name>", the installation hash, the names of
 * created resources, and the owner mark they carry.
 */
#ifndef NC_NAMES_H
#define NC_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/validate.h"

#define NC_OWNER_URI "https://novacron.io/xmlns/owner/v1"
#define NC_OWNER_PREFIX "novacron"
/* "nc-" 8 hex "." namespace "." name: at most 139 bytes. */
#define NC_DOMAIN_NAME_MAX 140

/* Who a resource belongs to: the owner mark of schema/README.md §4. */
struct nc_owner {
    char ns[NC_NAME_MAX + 1];
    char kind[16];
    char name[NC_NAME_MAX + 1];
    char cluster[24];  /* etcd cluster id, decimal */
    char prefix[256];  /* the installation's key prefix */
    char config[17];   /* hash of the definition it was made from */
    char base[17];     /* the same without disks and interfaces: equal bases,
                        * those alone changed, and they may be hot-plugged */
};

/*
 * The short hash that names of created resources carry: FNV-1a of the
 * cluster id and the prefix, as 8 hex digits in @out.
 */
void nc_install_hash(const char *cluster, const char *prefix, char out[9]);

/* Writes "nc-HASH.NS.NAME" into @out. DNS labels hold no '.', so distinct
 * (namespace, name) pairs never share a name. */
void nc_domain_name(const char *install_hash, const char *ns, const char *name,
                    char out[NC_DOMAIN_NAME_MAX]);

/* The inverse of nc_domain_name(): true when @domname is one of this
 * installation's names, with its namespace and name copied out. */
bool nc_domain_name_parse(const char *install_hash, const char *domname,
                          char ns[NC_NAME_MAX + 1], char name[NC_NAME_MAX + 1]);

/* FNV-1a over @s and its terminating NUL, continuing from @h (start with
 * NC_HASH_START): the hash behind every name above. */
#define NC_HASH_START 0xcbf29ce484222325ULL
uint64_t nc_hash_str(uint64_t h, const char *s);

/*
 * Splits an object key "<ns>/<kind>/<name>" (the end of a spec or status
 * key, and the work queue's keys): true when namespace and name are DNS
 * labels and the kind is one of schema/kinds.h, with the three copied
 * out.
 */
bool nc_key_parse(const char *key, char ns[NC_NAME_MAX + 1], char kind[16],
                  char name[NC_NAME_MAX + 1]);

#endif
