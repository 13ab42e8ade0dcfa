#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "schema/instancetype.h"
#include "schema/kinds.h"
#include "schema/migration.h"
#include "schema/network.h"
#include "schema/networkpolicy.h"
#include "schema/restore.h"
#include "schema/snapshot.h"
#include "schema/vm.h"
#include "schema/volume.h"

static const char *const vm_aliases[] = {"vms", "virtualmachines", NULL};
static const char *const network_aliases[] = {"networks", "net", "nets", NULL};
static const char *const volume_aliases[] = {"volumes", "vol", "vols", NULL};
static const char *const migration_aliases[] = {"migrations", "mig", "migs", NULL};
static const char *const snapshot_aliases[] = {"snapshots", "snap", "snaps", NULL};
static const char *const restore_aliases[] = {"restores", NULL};
static const char *const instancetype_aliases[] = {"instancetypes", "it", NULL};
static const char *const networkpolicy_aliases[] = {"networkpolicies", "netpol", "netpols", NULL};

const struct nc_kind nc_kinds[] = {
    {"vm", NC_VM_KIND, vm_aliases, nc_vm_validate},
    {"network", NC_NETWORK_KIND, network_aliases, nc_network_validate},
    {"volume", NC_VOLUME_KIND, volume_aliases, nc_volume_validate},
    {"migration", NC_MIGRATION_KIND, migration_aliases, nc_migration_validate},
    {"snapshot", NC_SNAPSHOT_KIND, snapshot_aliases, nc_snapshot_validate},
    {"restore", NC_RESTORE_KIND, restore_aliases, nc_restore_validate},
    {"instancetype", NC_INSTANCETYPE_KIND, instancetype_aliases, nc_instancetype_validate},
    {"networkpolicy", NC_NETWORKPOLICY_KIND, networkpolicy_aliases, nc_networkpolicy_validate},
};
const size_t nc_n_kinds = sizeof(nc_kinds) / sizeof(nc_kinds[0]);

const struct nc_kind *
nc_kind_by_segment(const char *segment)
{
    for (size_t i = 0; i < nc_n_kinds; i++)
        if (strcmp(nc_kinds[i].segment, segment) == 0)
            return &nc_kinds[i];
    return NULL;
}

const struct nc_kind *
nc_kind_by_name(const char *name)
{
    for (size_t i = 0; i < nc_n_kinds; i++)
        if (strcmp(nc_kinds[i].name, name) == 0)
            return &nc_kinds[i];
    return NULL;
}

const struct nc_kind *
nc_kind_lookup(const char *word)
{
    for (size_t i = 0; i < nc_n_kinds; i++) {
        const struct nc_kind *k = &nc_kinds[i];

        if (strcasecmp(k->segment, word) == 0 || strcasecmp(k->name, word) == 0)
            return k;
        for (const char *const *a = k->aliases; *a; a++)
            if (strcasecmp(*a, word) == 0)
                return k;
    }
    return NULL;
}

int
nc_manifest_check(const cJSON *doc, struct nc_verr *errs, const struct nc_kind **ret_kind,
                  char ret_ns[NC_NAME_MAX + 1], char ret_name[NC_NAME_MAX + 1])
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    const struct nc_kind *k;
    char list[128] = "", got[96];

    if (!cJSON_IsObject(doc)) {
        nc_verr_add(errs, "(document)", "must be a JSON object");
        return -EINVAL;
    }
    k = cJSON_IsString(kind) ? nc_kind_by_name(kind->valuestring) : NULL;
    if (!k) {
        for (size_t i = 0; i < nc_n_kinds; i++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                     nc_kinds[i].name);
        if (kind)
            nc_verr_add(errs, "kind", "must be one of %s, got %s", list,
                        nc_json_brief(kind, got, sizeof(got)));
        else
            nc_verr_add(errs, "kind", "is required (one of %s)", list);
        return -EINVAL;
    }
    if (k->validate(doc, NULL, NULL, errs) < 0)
        return -EINVAL;
    /* Valid, so the name is a DNS label and the namespace one or absent. */
    *ret_kind = k;
    snprintf(ret_ns, NC_NAME_MAX + 1, "%s", cJSON_IsString(ns) ? ns->valuestring : "default");
    snprintf(ret_name, NC_NAME_MAX + 1, "%s", name->valuestring);
    return 0;
}
