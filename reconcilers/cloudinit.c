#include "reconcilers/cloudinit.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "drivers/error.h"
#include "drivers/files.h"
#include "drivers/seed.h"

/* A YAML double-quoted scalar of @s: JSON's string escapes are YAML's. */
static int
quoted(FILE *f, const char *s)
{
    cJSON *str = cJSON_CreateStringReference(s);
    char *q = str ? cJSON_PrintUnformatted(str) : NULL;

    cJSON_Delete(str);
    if (!q)
        return -ENOMEM;
    fputs(q, f);
    free(q);
    return 0;
}

static int
meta_data(const struct nc_vm_spec *spec, const char *instance_id, const char *hostname,
          char **ret, size_t *ret_len)
{
    FILE *f = open_memstream(ret, ret_len);
    int r = 0;

    if (!f)
        return -ENOMEM;
    fprintf(f, "instance-id: %s\nlocal-hostname: %s\n", instance_id, hostname);
    for (unsigned i = 0; i < spec->cloud_init->n_meta && r == 0; i++) {
        fprintf(f, "%s: ", spec->cloud_init->meta[i].key);
        r = quoted(f, spec->cloud_init->meta[i].value);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || r < 0) {
        free(*ret);
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* network-config version 2: each interface found by its MAC, with its IP
 * in its Network's prefix. The Networks have no router (yet). */
static int
network_config(const struct nc_vm_spec *spec, const struct nc_iface *ifs, char **ret,
               size_t *ret_len)
{
    FILE *f = open_memstream(ret, ret_len);

    if (!f)
        return -ENOMEM;
    fputs("version: 2\nethernets:\n", f);
    for (unsigned i = 0; i < spec->n_ifaces; i++)
        fprintf(f,
                "  \"%s\":\n"
                "    match:\n"
                "      macaddress: \"%s\"\n"
                "    dhcp4: false\n"
                "    addresses: [\"%s/%u\"]\n",
                spec->ifaces[i].name, ifs[i].nic.mac, ifs[i].ip, ifs[i].prefix);
    if (fclose(f) != 0) {
        free(*ret);
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int
instance_id(struct nc_run *run, char out[NC_INSTANCE_ID_MAX])
{
    struct nc_kv kv;
    int r = nc_etcd_get(run->ctx->etcd, run->spec_key, &kv, NULL);

    if (r < 0)
        return nc_drv_fail(r, "cannot read the spec's create revision: %s", strerror(-r));
    snprintf(out, NC_INSTANCE_ID_MAX, "%s-%" PRId64, run->ctx->env->cluster, kv.create_revision);
    nc_kv_clear(&kv);
    return 0;
}

int
nc_cloudinit_seed(struct nc_run *run, const struct nc_vm_spec *spec, const struct nc_iface *ifs,
                  const char *domname, char *ret_path, size_t pathsz,
                  char ret_instance_id[NC_INSTANCE_ID_MAX])
{
    const struct nc_vm_cloudinit *ci = spec->cloud_init;
    struct nc_seed_file files[3];
    char *meta = NULL, *net = NULL, dir[1024];
    size_t meta_len = 0, net_len = 0;
    unsigned n = 0;
    uint64_t h = NC_HASH_START;
    int r;

    ret_path[0] = ret_instance_id[0] = '\0';
    if (!ci)
        return 0;
    if ((r = instance_id(run, ret_instance_id)) < 0)
        return r;
    if ((r = meta_data(spec, ret_instance_id, run->name, &meta, &meta_len)) < 0 ||
        (!ci->network_config && spec->n_ifaces &&
         (r = network_config(spec, ifs, &net, &net_len)) < 0)) {
        r = nc_drv_fail(r, "out of memory");
        goto out;
    }
    files[n++] = (struct nc_seed_file){"user-data", ci->user_data ? ci->user_data : "",
                                       ci->user_data ? strlen(ci->user_data) : 0};
    files[n++] = (struct nc_seed_file){"meta-data", meta, meta_len};
    if (ci->network_config)
        files[n++] = (struct nc_seed_file){"network-config", ci->network_config,
                                           strlen(ci->network_config)};
    else if (net)
        files[n++] = (struct nc_seed_file){"network-config", net, net_len};
    for (unsigned i = 0; i < n; i++)
        h = nc_hash_str(nc_hash_str(h, files[i].name), files[i].data);
    snprintf(dir, sizeof(dir), "%s/%s", run->ctx->env->seed_dir, domname);
    if (snprintf(ret_path, pathsz, "%s/%016" PRIx64 ".iso", dir, h) >= (int)pathsz) {
        r = nc_drv_fail(-ENAMETOOLONG, "seed path too long under %s", dir);
        goto out;
    }
    if (access(ret_path, F_OK) == 0)
        goto out;
    if ((r = nc_mkdir_p(dir)) == 0)
        r = nc_seed_write(ret_path, files, n);
out:
    free(meta);
    free(net);
    if (r < 0)
        ret_path[0] = '\0';
    return r;
}

int
nc_cloudinit_prune(const struct nc_env *env, const char *domname, const char *keep)
{
    const char *keep_name = keep && *keep ? strrchr(keep, '/') + 1 : NULL;
    char dir[1024];
    struct dirent *e;
    DIR *d;
    int r = 0;

    snprintf(dir, sizeof(dir), "%s/%s", env->seed_dir, domname);
    if (!keep_name)
        return nc_rmdir_files(dir);
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : nc_drv_fail(-errno, "cannot open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) && r == 0)
        if (e->d_name[0] != '.' && strcmp(e->d_name, keep_name) != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
            r = nc_drv_fail(-errno, "cannot remove %s/%s: %s", dir, e->d_name, strerror(errno));
    closedir(d);
    return r;
}
