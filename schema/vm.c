#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/quantity.h"
#include "schema/vm.h"

const char *const nc_run_state_names[] = {"Running", "Stopped", "Paused", NULL};
const char *const nc_accel_names[] = {"auto", "kvm", "tcg", NULL};
const char *const nc_runtime_names[] = {"vm", "process", "container", NULL};
const char *const nc_restart_policy_names[] = {"Always", "OnFailure", "Never", NULL};

static const char *const spec_fields[] = {
    "runState", "vcpus", "memory", "accel", "boot", "disks", "interfaces",
    "stopGracePeriodSeconds", "node", "placement", "snapshotSchedule", "instancetype",
    "resources", "cloudInit", "runtime", "command", "env", "restartPolicy", "image", NULL,
};
static const char *const env_fields[] = {"name", "value", NULL};
/* What a process has not, and what only a process has. */
/* What a process does not take: the guest's fields and the container's. */
static const char *const not_process_fields[] = {"accel", "boot", "disks", "resources",
                                                 "cloudInit", "snapshotSchedule", "image", NULL};
static const char *const not_vm_fields[] = {"command", "env", "restartPolicy", "image",
                                                  NULL};
/* What a container does not take: the guest's fields, and the process's
 * restartPolicy (a container that exits is started again, as a guest). */
static const char *const not_container_fields[] = {"accel", "boot", "disks", "resources",
                                                   "cloudInit", "snapshotSchedule",
                                                   "restartPolicy", NULL};
static const char *const cloudinit_fields[] = {"userData", "metaData", "networkConfig", NULL};
static const char *const resources_fields[] = {"memoryBalloon", "disks", "cpuShares", "cpuQuota",
                                               "pinning", NULL};
static const char *const iotune_fields[] = {"name", "iops", "bps", NULL};
static const char *const schedule_fields[] = {"every", "keep", NULL};
static const char *const placement_fields[] = {"nodeSelector", "spread", "antiAffinity", NULL};
static const char *const spread_fields[] = {"topologyKey", "labels", NULL};
static const char *const anti_fields[] = {"labels", "topologyKey", "required", NULL};
static const char *const boot_fields[] = {"kernel", "initrd", "cmdline", NULL};
static const char *const disk_fields[] = {"name", "volume", "bus", "readOnly", NULL};
static const char *const bus_names[] = {"virtio", NULL};
static const char *const iface_fields[] = {"name", "network", "mac", "ip", "portSecurity",
                                           "bandwidth", NULL};
static const char *const bandwidth_fields[] = {"inboundKbps", "outboundKbps", "burstKiB", NULL};

bool
nc_mac_parse(const char *s, char out[18])
{
    static const char hex[] = "0123456789abcdef";

    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        char c = (char)(s[i] | 0x20);

        if (i % 3 == 2 ? s[i] != ':' : !strchr(hex, c) || c == '\0')
            return false;
        out[i] = i % 3 == 2 ? ':' : c;
    }
    out[17] = '\0';
    /* The low bit of the first octet marks multicast. */
    return (strchr(hex, out[1]) - hex) % 2 == 0;
}

static void
parse_boot(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *boot = nc_v_object(e, spec, "spec", "boot", false);
    const char *s;

    if (!boot)
        return;
    nc_v_known_fields(e, boot, "spec.boot", boot_fields);
    if ((s = nc_v_abs_path(e, boot, "spec.boot", "kernel", true)))
        vm->kernel = strdup(s);
    if ((s = nc_v_abs_path(e, boot, "spec.boot", "initrd", false)))
        vm->initrd = strdup(s);
    if ((s = nc_v_string(e, boot, "spec.boot", "cmdline", false, 2048)))
        vm->cmdline = strdup(s);
}

static void
parse_disks(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *arr = nc_v_array(e, spec, "spec", "disks", NC_VM_MAX_DISKS);
    const cJSON *d;

    cJSON_ArrayForEach(d, arr) {
        char path[64];
        struct nc_vm_disk *disk = &vm->disks[vm->n_disks];
        const char *s;

        snprintf(path, sizeof(path), "spec.disks[%u]", vm->n_disks++);
        if (!cJSON_IsObject(d)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, d, path, disk_fields);
        if ((s = nc_v_dns_label(e, d, path, "name", true))) {
            for (unsigned i = 0; i + 1 < vm->n_disks; i++)
                if (strcmp(vm->disks[i].name, s) == 0)
                    nc_verr_add(e, path, "name \"%s\" is used by spec.disks[%u] too", s, i);
            snprintf(disk->name, sizeof(disk->name), "%s", s);
        }
        if ((s = nc_v_dns_label(e, d, path, "volume", true)))
            snprintf(disk->volume, sizeof(disk->volume), "%s", s);
        nc_v_enum(e, d, path, "bus", bus_names, 0);
        disk->read_only = nc_v_bool(e, d, path, "readOnly", false);
    }
}

/* interfaces[].bandwidth: {inboundKbps?, outboundKbps?, burstKiB?}, at
 * least one of the rates. */
static void
parse_bandwidth(struct nc_verr *e, const cJSON *d, const char *path, struct nc_vm_iface *ifc)
{
    const cJSON *bw = nc_v_object(e, d, path, "bandwidth", false);
    char bpath[80];

    if (!bw)
        return;
    snprintf(bpath, sizeof(bpath), "%s.bandwidth", path);
    nc_v_known_fields(e, bw, bpath, bandwidth_fields);
    ifc->in_kbps = (uint32_t)nc_v_int(e, bw, bpath, "inboundKbps", false, 8, NC_VM_MAX_KBPS, 0);
    ifc->out_kbps = (uint32_t)nc_v_int(e, bw, bpath, "outboundKbps", false, 8, NC_VM_MAX_KBPS, 0);
    ifc->burst_kib =
        (uint32_t)nc_v_int(e, bw, bpath, "burstKiB", false, 2, NC_VM_MAX_BURST_KIB, 0);
    if (!cJSON_GetObjectItem(bw, "inboundKbps") && !cJSON_GetObjectItem(bw, "outboundKbps"))
        nc_verr_add(e, bpath, "must limit inboundKbps, outboundKbps or both");
}

static void
parse_ifaces(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *arr = nc_v_array(e, spec, "spec", "interfaces", NC_VM_MAX_IFACES);
    const cJSON *d;

    cJSON_ArrayForEach(d, arr) {
        char path[64], f[80];
        struct nc_vm_iface *ifc = &vm->ifaces[vm->n_ifaces];
        struct in_addr addr;
        const char *s;

        snprintf(path, sizeof(path), "spec.interfaces[%u]", vm->n_ifaces++);
        if (!cJSON_IsObject(d)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, d, path, iface_fields);
        if ((s = nc_v_dns_label(e, d, path, "name", true))) {
            for (unsigned i = 0; i + 1 < vm->n_ifaces; i++)
                if (strcmp(vm->ifaces[i].name, s) == 0)
                    nc_verr_add(e, path, "name \"%s\" is used by spec.interfaces[%u] too", s, i);
            snprintf(ifc->name, sizeof(ifc->name), "%s", s);
        }
        if ((s = nc_v_dns_label(e, d, path, "network", true)))
            snprintf(ifc->network, sizeof(ifc->network), "%s", s);
        snprintf(f, sizeof(f), "%s.mac", path);
        if ((s = nc_v_string(e, d, path, "mac", false, 64)) && !nc_mac_parse(s, ifc->mac))
            nc_verr_add(e, f, "must be a unicast MAC address such as \"52:54:00:12:34:56\"");
        snprintf(f, sizeof(f), "%s.ip", path);
        if ((s = nc_v_string(e, d, path, "ip", false, 64))) {
            if (inet_pton(AF_INET, s, &addr) != 1)
                nc_verr_add(e, f, "must be an IPv4 address such as \"10.0.0.5\"");
            else
                inet_ntop(AF_INET, &addr, ifc->ip, sizeof(ifc->ip));
        }
        ifc->port_security = nc_v_bool(e, d, path, "portSecurity", true);
        parse_bandwidth(e, d, path, ifc);
    }
}

/* A node label key member; copied into @out (NC_LABEL_KEY_MAX + 1) when valid. */
static bool
topology_key(struct nc_verr *e, const cJSON *obj, const char *path, bool required, char *out)
{
    const char *s = nc_v_string(e, obj, path, "topologyKey", required, NC_LABEL_KEY_MAX);
    char f[96];

    if (!s)
        return false;
    if (!nc_is_label_key(s)) {
        snprintf(f, sizeof(f), "%s.topologyKey", path);
        nc_verr_add(e, f, "must be a label key such as \"zone\" or \"" NC_LABEL_NODE "\"");
        return false;
    }
    snprintf(out, NC_LABEL_KEY_MAX + 1, "%s", s);
    return true;
}

/* Copies valid label map @map into @ret; false (after reporting) on out of memory. */
static bool
copy_labels(struct nc_verr *e, const cJSON *map, const char *field, struct nc_labels *ret)
{
    if (nc_labels_from_json(map, ret) == 0)
        return true;
    nc_verr_add(e, field, "out of memory");
    return false;
}

static void
parse_anti(struct nc_verr *e, const cJSON *pl, struct nc_vm_placement *p)
{
    const cJSON *arr = nc_v_array(e, pl, "spec.placement", "antiAffinity", NC_VM_MAX_ANTI);
    const cJSON *d;

    cJSON_ArrayForEach(d, arr) {
        struct nc_vm_anti *a = &p->anti[p->n_anti];
        const cJSON *match;
        char path[64];

        snprintf(path, sizeof(path), "spec.placement.antiAffinity[%u]", p->n_anti++);
        if (!cJSON_IsObject(d)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, d, path, anti_fields);
        if ((match = nc_v_labels(e, d, path, "labels", true, NC_VM_MAX_SELECTOR)))
            copy_labels(e, match, path, &a->match);
        if (!topology_key(e, d, path, false, a->topology))
            snprintf(a->topology, sizeof(a->topology), "%s", NC_LABEL_NODE);
        a->required = nc_v_bool(e, d, path, "required", true);
    }
}

/* spec.placement; a spread without labels counts the VMs carrying the
 * VM's own @labels (metadata.labels, may be NULL). */
static void
parse_placement(struct nc_verr *e, const cJSON *spec, const cJSON *labels, struct nc_vm_spec *vm)
{
    const cJSON *pl = nc_v_object(e, spec, "spec", "placement", false), *sel, *spread;
    struct nc_vm_placement *p;

    if (!pl)
        return;
    if (!(p = vm->placement = calloc(1, sizeof(*p)))) {
        nc_verr_add(e, "spec.placement", "out of memory");
        return;
    }
    nc_v_known_fields(e, pl, "spec.placement", placement_fields);
    if ((sel = nc_v_labels(e, pl, "spec.placement", "nodeSelector", false, NC_VM_MAX_SELECTOR)))
        copy_labels(e, sel, "spec.placement.nodeSelector", &p->node_selector);
    if ((spread = nc_v_object(e, pl, "spec.placement", "spread", false))) {
        nc_v_known_fields(e, spread, "spec.placement.spread", spread_fields);
        topology_key(e, spread, "spec.placement.spread", true, p->spread_key);
        sel = nc_v_labels(e, spread, "spec.placement.spread", "labels", false,
                          NC_VM_MAX_SELECTOR);
        copy_labels(e, sel ? sel : labels, "spec.placement.spread", &p->spread_match);
    }
    parse_anti(e, pl, p);
}

void
nc_vm_placement_free(struct nc_vm_placement *p)
{
    if (!p)
        return;
    nc_labels_clear(&p->node_selector);
    nc_labels_clear(&p->spread_match);
    for (unsigned i = 0; i < p->n_anti; i++)
        nc_labels_clear(&p->anti[i].match);
    free(p);
}

/* An environment variable's name, as POSIX shells take them. */
static bool
env_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n && n <= NC_VM_ENV_NAME_MAX && !(s[0] >= '0' && s[0] <= '9') &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* spec.command: ["/abs/program", "arg", ...]. */
static void
parse_command(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *arr = nc_v_array(e, spec, "spec", "command", NC_VM_MAX_ARGS), *a;
    unsigned i = 0;

    if (!arr) {
        if (!cJSON_GetObjectItem(spec, "command") && vm->runtime == NC_RUNTIME_PROCESS)
            nc_verr_add(e, "spec.command", "is required by the process runtime");
        return;
    }
    if (!cJSON_GetArraySize(arr)) {
        nc_verr_add(e, "spec.command", "must name a program");
        return;
    }
    if (!(vm->command = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(char *)))) {
        nc_verr_add(e, "spec.command", "out of memory");
        return;
    }
    cJSON_ArrayForEach(a, arr) {
        char f[64];
        const char *s;

        snprintf(f, sizeof(f), "spec.command[%u]", i);
        /* A process's program is a host file; a container's is the image's. */
        s = i || vm->runtime == NC_RUNTIME_CONTAINER ? nc_v_string_value(e, a, f, true, NC_VM_MAX_ARG)
                                                     : nc_v_abs_path_value(e, a, f);
        if (s && !(vm->command[vm->n_command++] = strdup(s)))
            nc_verr_add(e, f, "out of memory");
        i++;
    }
}

/* spec.env: [{"name": "N", "value": "v"}], each name once. */
static void
parse_env(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *arr = nc_v_array(e, spec, "spec", "env", NC_VM_MAX_ENV), *d;
    unsigned i = 0;

    if (!arr || !cJSON_GetArraySize(arr))
        return;
    if (!(vm->env = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*vm->env)))) {
        nc_verr_add(e, "spec.env", "out of memory");
        return;
    }
    cJSON_ArrayForEach(d, arr) {
        char path[32], f[48];
        const char *name, *value;

        snprintf(path, sizeof(path), "spec.env[%u]", i++);
        if (!cJSON_IsObject(d)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, d, path, env_fields);
        name = nc_v_string(e, d, path, "name", true, NC_VM_ENV_NAME_MAX);
        value = nc_v_text(e, d, path, "value", NC_VM_MAX_ARG);
        if (!name)
            continue;
        snprintf(f, sizeof(f), "%s.name", path);
        if (!env_name_ok(name)) {
            nc_verr_add(e, f, "must be letters, digits and '_', not starting with a digit");
            continue;
        }
        for (unsigned j = 0; j < vm->n_env; j++)
            if (strcmp(vm->env[j].name, name) == 0)
                nc_verr_add(e, f, "\"%s\" is set by spec.env[%u] too", name, j);
        vm->env[vm->n_env].name = strdup(name);
        vm->env[vm->n_env].value = strdup(value ? value : "");
        if (!vm->env[vm->n_env].name || !vm->env[vm->n_env].value)
            nc_verr_add(e, path, "out of memory");
        vm->n_env++;
    }
}

/* spec.runtime and what it allows: a process has a command and no
 * disks, firmware or guest; a VM has no command. */
/* spec.image: an OCI image reference, as `podman images` names them
 * ("localhost/app:1.0", "registry.example/team/app@sha256:..."). */
static void
parse_image(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const char *s = nc_v_string(e, spec, "spec", "image", true, NC_VM_MAX_IMAGE);

    if (!s)
        return;
    if (!isalnum((unsigned char)s[0]) || strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789._-/:@") != strlen(s)) {
        nc_verr_add(e, "spec.image",
                    "must be an image reference: a letter or digit, then letters, digits and "
                    "._-/:@");
        return;
    }
    snprintf(vm->image, sizeof(vm->image), "%s", s);
}

static void
parse_runtime(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const char *const *wrong;
    const char *rt;

    vm->runtime = nc_v_enum(e, spec, "spec", "runtime", nc_runtime_names, NC_RUNTIME_VM);
    if (vm->runtime == NC_RUNTIME_INVALID)
        return;
    rt = nc_runtime_names[vm->runtime];
    wrong = vm->runtime == NC_RUNTIME_PROCESS     ? not_process_fields
            : vm->runtime == NC_RUNTIME_CONTAINER ? not_container_fields
                                                  : not_vm_fields;
    for (; *wrong; wrong++) {
        char f[64];

        if (!cJSON_GetObjectItem(spec, *wrong))
            continue;
        snprintf(f, sizeof(f), "spec.%s", *wrong);
        nc_verr_add(e, f, "the %s runtime has no %s (spec.runtime is \"%s\")", rt, *wrong, rt);
    }
    if (vm->runtime == NC_RUNTIME_VM)
        return;
    parse_command(e, spec, vm);
    parse_env(e, spec, vm);
    vm->restart_policy = NC_RESTART_ALWAYS;
    if (vm->runtime == NC_RUNTIME_PROCESS)
        vm->restart_policy = nc_v_enum(e, spec, "spec", "restartPolicy", nc_restart_policy_names,
                                       NC_RESTART_ALWAYS);
    else
        parse_image(e, spec, vm);
}

void
nc_vm_spec_clear(struct nc_vm_spec *spec)
{
    for (unsigned i = 0; i < spec->n_command; i++)
        free(spec->command[i]);
    free(spec->command);
    for (unsigned i = 0; i < spec->n_env; i++) {
        free(spec->env[i].name);
        free(spec->env[i].value);
    }
    free(spec->env);
    nc_vm_placement_free(spec->placement);
    if (spec->cloud_init) {
        free(spec->cloud_init->user_data);
        free(spec->cloud_init->network_config);
        for (unsigned i = 0; i < spec->cloud_init->n_meta; i++)
            free(spec->cloud_init->meta[i].value);
        free(spec->cloud_init);
    }
    nc_labels_clear(&spec->labels);
    free(spec->kernel);
    free(spec->initrd);
    free(spec->cmdline);
    memset(spec, 0, sizeof(*spec));
}

/* spec.snapshotSchedule: {"every": "1h", "keep": 24}. Its snapshots are
 * named <vm>-YYYYMMDD-hhmmss, which must be a DNS label too. */
static void
parse_schedule(struct nc_verr *e, const cJSON *doc, const cJSON *spec, const char *name,
               struct nc_vm_spec *vm)
{
    const cJSON *sch = nc_v_object(e, spec, "spec", "snapshotSchedule", false);
    const char *vm_name = name ? name
                               : cJSON_GetStringValue(cJSON_GetObjectItem(
                                     cJSON_GetObjectItem(doc, "metadata"), "name"));

    if (!sch)
        return;
    nc_v_known_fields(e, sch, "spec.snapshotSchedule", schedule_fields);
    vm->snapshot_every = (unsigned)nc_v_duration(e, sch, "spec.snapshotSchedule", "every", true,
                                                 NC_VM_MIN_EVERY, NC_VM_MAX_EVERY);
    vm->snapshot_keep = (unsigned)nc_v_int(e, sch, "spec.snapshotSchedule", "keep", true, 1,
                                           NC_VM_MAX_KEEP, 1);
    if (vm_name && strlen(vm_name) + NC_VM_SCHEDULED_SUFFIX > NC_NAME_MAX)
        nc_verr_add(e, "spec.snapshotSchedule",
                    "its snapshots are named <vm>-YYYYMMDD-hhmmss, at most %d characters: the "
                    "VM's name may have at most %d, it has %zu",
                    NC_NAME_MAX, NC_NAME_MAX - NC_VM_SCHEDULED_SUFFIX, strlen(vm_name));
}

/* spec.resources.disks[]: {name, iops?, bps?}, limits of the disks of
 * spec.disks by name, each named once. */
static void
parse_iotune(struct nc_verr *e, const cJSON *res, struct nc_vm_spec *vm)
{
    const cJSON *arr = nc_v_array(e, res, "spec.resources", "disks", NC_VM_MAX_DISKS);
    const cJSON *d;
    bool seen[NC_VM_MAX_DISKS] = {false};
    unsigned i = 0;

    cJSON_ArrayForEach(d, arr) {
        char path[64];
        const char *name;
        struct nc_vm_disk *disk = NULL;

        snprintf(path, sizeof(path), "spec.resources.disks[%u]", i++);
        if (!cJSON_IsObject(d)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, d, path, iotune_fields);
        if (!(name = nc_v_dns_label(e, d, path, "name", true)))
            continue;
        for (unsigned j = 0; j < vm->n_disks && !disk; j++)
            if (strcmp(vm->disks[j].name, name) == 0) {
                disk = &vm->disks[j];
                if (seen[j])
                    nc_verr_add(e, path, "disk \"%s\" is named twice", name);
                seen[j] = true;
            }
        if (!disk) {
            nc_verr_add(e, path, "spec.disks has no disk \"%s\"", name);
            continue;
        }
        disk->iops = (uint64_t)nc_v_int(e, d, path, "iops", false, 1, NC_VM_MAX_IOPS, 0);
        disk->bps = nc_v_quantity(e, d, path, "bps", false, 1 << 10, NC_VM_MAX_BPS, 1);
    }
}

bool
nc_cpuset_parse(const char *s, struct nc_cpuset *ret, unsigned *ret_n)
{
    memset(ret, 0, sizeof(*ret));
    *ret_n = 0;
    for (;;) {
        char *end;
        unsigned long lo, hi;

        if (*s < '0' || *s > '9')
            return false;
        lo = hi = strtoul(s, &end, 10);
        if (*end == '-') {
            if (end[1] < '0' || end[1] > '9')
                return false;
            hi = strtoul(end + 1, &end, 10);
        }
        if (lo > hi || hi >= NC_VM_MAX_CPU)
            return false;
        for (unsigned long c = lo; c <= hi; c++) {
            if (nc_cpuset_has(ret, (unsigned)c))
                return false;
            ret->bits[c / 64] |= 1ULL << (c % 64);
            (*ret_n)++;
        }
        if (!*end)
            return true;
        if (*end != ',')
            return false;
        s = end + 1;
    }
}

void
nc_cpuset_format(const struct nc_cpuset *set, char *out, size_t outsz)
{
    size_t len = 0;

    out[0] = '\0';
    for (unsigned c = 0; c < NC_VM_MAX_CPU && len < outsz; c++) {
        unsigned end = c;

        if (!nc_cpuset_has(set, c))
            continue;
        while (nc_cpuset_has(set, end + 1))
            end++;
        len += (size_t)snprintf(out + len, outsz - len, end > c ? "%s%u-%u" : "%s%u",
                                len ? "," : "", c, end);
        c = end;
    }
}

/* spec.resources.cpuShares, cpuQuota and pinning: the <cputune> of the
 * domain. */
static void
parse_cputune(struct nc_verr *e, const cJSON *res, struct nc_vm_spec *vm)
{
    const char *pin;
    char got[96];

    vm->cpu_shares = (unsigned)nc_v_int(e, res, "spec.resources", "cpuShares", false,
                                        NC_VM_MIN_SHARES, NC_VM_MAX_SHARES, 0);
    vm->cpu_quota = (unsigned)nc_v_int(e, res, "spec.resources", "cpuQuota", false,
                                       NC_VM_MIN_QUOTA, NC_VM_QUOTA_PERIOD, 0);
    if (!(pin = nc_v_string(e, res, "spec.resources", "pinning", false, 256)))
        return;
    if (!nc_cpuset_parse(pin, &vm->pinning, &vm->n_pinned)) {
        nc_verr_add(e, "spec.resources.pinning",
                    "must list host CPUs as numbers and ranges, such as \"0-3,6\" (0 to %d, "
                    "each once), got %s",
                    NC_VM_MAX_CPU - 1,
                    nc_json_brief(cJSON_GetObjectItemCaseSensitive(res, "pinning"), got,
                                  sizeof(got)));
        vm->n_pinned = 0;
    } else if (vm->vcpus && vm->n_pinned != vm->vcpus) {
        nc_verr_add(e, "spec.resources.pinning",
                    "must list one CPU per vCPU: %u for %u vCPU%s", vm->n_pinned, vm->vcpus,
                    vm->vcpus == 1 ? "" : "s");
    }
}

/* spec.resources: what the guest is given within its size. */
static void
parse_resources(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *res = nc_v_object(e, spec, "spec", "resources", false);
    char a[32], b[32];

    if (!res)
        return;
    nc_v_known_fields(e, res, "spec.resources", resources_fields);
    vm->memory_balloon = nc_v_quantity(e, res, "spec.resources", "memoryBalloon", false,
                                       NC_VM_MIN_MEMORY, NC_VM_MAX_MEMORY, 1 << 10);
    if (vm->memory && vm->memory_balloon > vm->memory)
        nc_verr_add(e, "spec.resources.memoryBalloon", "must be at most spec.memory (%s), got %s",
                    nc_quantity_format(vm->memory, a, sizeof(a)),
                    nc_quantity_format(vm->memory_balloon, b, sizeof(b)));
    parse_iotune(e, res, vm);
    parse_cputune(e, res, vm);
}

/* A metaData key: letters, digits, '.', '_' and '-', not one NovaCron
 * writes itself. */
static bool
meta_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (!n || n > NC_VM_META_KEY_MAX || strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                  "0123456789._-") != n)
        return false;
    return true;
}

/* spec.cloudInit: {userData?, metaData?, networkConfig?}. */
static void
parse_cloudinit(struct nc_verr *e, const cJSON *spec, struct nc_vm_spec *vm)
{
    const cJSON *ci = nc_v_object(e, spec, "spec", "cloudInit", false);
    const cJSON *meta, *m;
    struct nc_vm_cloudinit *c;
    const char *s;

    if (!ci)
        return;
    if (!(c = calloc(1, sizeof(*c)))) {
        nc_verr_add(e, "spec.cloudInit", "out of memory");
        return;
    }
    vm->cloud_init = c;
    nc_v_known_fields(e, ci, "spec.cloudInit", cloudinit_fields);
    if ((s = nc_v_text(e, ci, "spec.cloudInit", "userData", NC_VM_CLOUDINIT_MAX)) &&
        !(c->user_data = strdup(s)))
        nc_verr_add(e, "spec.cloudInit.userData", "out of memory");
    if ((s = nc_v_text(e, ci, "spec.cloudInit", "networkConfig", NC_VM_CLOUDINIT_MAX)) &&
        !(c->network_config = strdup(s)))
        nc_verr_add(e, "spec.cloudInit.networkConfig", "out of memory");
    meta = nc_v_object(e, ci, "spec.cloudInit", "metaData", false);
    if (cJSON_GetArraySize(meta) > NC_VM_META_MAX) {
        nc_verr_add(e, "spec.cloudInit.metaData", "must have at most %d entries, got %d",
                    NC_VM_META_MAX, cJSON_GetArraySize(meta));
        return;
    }
    cJSON_ArrayForEach(m, meta) {
        char path[128];

        if (!meta_key_ok(m->string)) {
            nc_verr_add(e, "spec.cloudInit.metaData",
                        "keys must be 1 to %d letters, digits, '.', '_' or '-'",
                        NC_VM_META_KEY_MAX);
            continue;
        }
        snprintf(path, sizeof(path), "spec.cloudInit.metaData[\"%s\"]", m->string);
        if (strcmp(m->string, "instance-id") == 0 || strcmp(m->string, "local-hostname") == 0) {
            nc_verr_add(e, path, "is written by NovaCron (the VM's uid and name)");
            continue;
        }
        if (!(s = nc_v_string(e, meta, "spec.cloudInit.metaData", m->string, false,
                              NC_VM_META_VALUE_MAX)))
            continue;
        snprintf(c->meta[c->n_meta].key, sizeof(c->meta[0].key), "%s", m->string);
        if (!(c->meta[c->n_meta++].value = strdup(s)))
            nc_verr_add(e, path, "out of memory");
    }
}

/* The restart request in metadata.annotations (already checked to be
 * strings of printable text). */
static void
parse_restart(struct nc_verr *e, const cJSON *doc, struct nc_vm_spec *vm)
{
    const cJSON *ann = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "annotations");
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(ann, NC_VM_RESTART_AT));
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(ann, NC_VM_RESTART_REASON));

    if (at && strlen(at) > NC_VM_RESTART_TOKEN_MAX)
        nc_verr_add(e, "metadata.annotations[\"" NC_VM_RESTART_AT "\"]",
                    "must be at most %d characters long, got %zu", NC_VM_RESTART_TOKEN_MAX,
                    strlen(at));
    else if (at)
        snprintf(vm->restart_at, sizeof(vm->restart_at), "%s", at);
    if (why && strlen(why) > NC_VM_RESTART_REASON_MAX)
        nc_verr_add(e, "metadata.annotations[\"" NC_VM_RESTART_REASON "\"]",
                    "must be at most %d characters long, got %zu", NC_VM_RESTART_REASON_MAX,
                    strlen(why));
    else if (why)
        snprintf(vm->restart_reason, sizeof(vm->restart_reason), "%s", why);
}

int
nc_vm_spec_from_json(const cJSON *doc, const char *ns, const char *name, struct nc_vm_spec *ret,
                     struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_VM_KIND, ns, name), *labels;
    const char *s;

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        ret->run_state = nc_v_enum(errs, spec, "spec", "runState", nc_run_state_names,
                                   NC_RUN_RUNNING);
        if ((s = nc_v_dns_label(errs, spec, "spec", "instancetype", false)))
            snprintf(ret->instancetype, sizeof(ret->instancetype), "%s", s);
        /* With an instance type they come from it; naming one of them too
         * is a conflict its reconciler reports. */
        if (!ret->instancetype[0] || cJSON_GetObjectItem(spec, "vcpus"))
            ret->vcpus = (unsigned)nc_v_int(errs, spec, "spec", "vcpus", !ret->instancetype[0], 1,
                                            NC_VM_MAX_VCPUS, 1);
        if (!ret->instancetype[0] || cJSON_GetObjectItem(spec, "memory"))
            ret->memory = nc_v_quantity(errs, spec, "spec", "memory", !ret->instancetype[0],
                                        NC_VM_MIN_MEMORY, NC_VM_MAX_MEMORY, 1 << 10);
        parse_runtime(errs, spec, ret);
        ret->accel = nc_v_enum(errs, spec, "spec", "accel", nc_accel_names, NC_ACCEL_AUTO);
        parse_boot(errs, spec, ret);
        parse_disks(errs, spec, ret);
        parse_ifaces(errs, spec, ret);
        /* Labels are kept only once the envelope passed: no key twice. */
        labels = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "labels");
        if (nc_verr_count(errs) == before && nc_labels_from_json(labels, &ret->labels) < 0)
            nc_verr_add(errs, "metadata.labels", "out of memory");
        parse_placement(errs, spec, labels, ret);
        parse_schedule(errs, doc, spec, name, ret);
        parse_resources(errs, spec, ret);
        parse_cloudinit(errs, spec, ret);
        if (nc_verr_count(errs) == before)
            parse_restart(errs, doc, ret);
        ret->stop_grace_seconds = (int)nc_v_int(errs, spec, "spec", "stopGracePeriodSeconds",
                                                false, 0, NC_VM_MAX_GRACE, NC_VM_DEFAULT_GRACE);
        if ((s = nc_v_string(errs, spec, "spec", "node", false, 253))) {
            if (nc_is_dns_subdomain(s))
                snprintf(ret->node, sizeof(ret->node), "%s", s);
            else
                nc_verr_add(errs, "spec.node", "must be a host name (DNS labels joined by '.')");
        }
    }
    if (nc_verr_count(errs) > before) {
        nc_vm_spec_clear(ret);
        return -EINVAL;
    }
    return 0;
}

int
nc_vm_spec_parse(const char *json, const char *ns, const char *name, struct nc_vm_spec *ret,
                 struct nc_verr *errs)
{
    NC_V_PARSE(nc_vm_spec_from_json, json, ns, name, ret, errs);
}

int
nc_vm_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_vm_spec spec;
    int r = nc_vm_spec_from_json(doc, ns, name, &spec, errs);

    nc_vm_spec_clear(&spec);
    return r;
}
