#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/informer.h"
#include "core/log.h"
#include "core/names.h"
#include "drivers/firewall.h"
#include "reconcilers/alloc.h"
#include "reconcilers/ifaces.h"
#include "reconcilers/network.h"
#include "schema/network.h"
#include "schema/vm.h"

#define MAC_ATTEMPTS 16

/* The tap of interface @iface of the run's VM: "nct" and a hash of
 * installation, namespace, VM and interface. */
static void
tap_of(const struct nc_run *run, const char *iface, char tap[16])
{
    char owner[200], hash[9];

    snprintf(owner, sizeof(owner), "%s/%s/%s", run->ns, run->name, iface);
    nc_install_hash(run->ctx->env->install_hash, owner, hash);
    snprintf(tap, 16, "nct%s", hash);
}

/* The installation's port table on this node, and its mark. */
static void
port_table(const struct nc_env *env, char table[16], char mark[40])
{
    snprintf(table, 16, "nc-%s", env->install_hash);
    snprintf(mark, 40, "novacron:%s:ports", env->install_hash);
}

void
nc_iface_bandwidth(const struct nc_vm_iface *si, uint64_t *in, uint64_t *out, uint32_t *burst)
{
    *in = (uint64_t)si->in_kbps * 125;
    *out = (uint64_t)si->out_kbps * 125;
    *burst = (si->burst_kib ? si->burst_kib : NC_VM_DEFAULT_BURST_KIB) * 1024u;
}

int
nc_iface_port_set(struct nc_run *run, const struct nc_vm_spec *spec, const struct nc_iface *ifs,
                  unsigned i, char *msg, size_t msgsz)
{
    struct nc_env *env = run->ctx->env;
    char table[16], mark[40];
    const struct nc_vm_iface *si = &spec->ifaces[i];
    struct nc_port p = {.table = table, .mark = mark, .tap = ifs[i].nic.tap,
                        .mac = ifs[i].nic.mac, .ip = ifs[i].ip, .secure = si->port_security};
    int r;

    nc_iface_bandwidth(si, &p.in, &p.out, &p.burst);
    if (!env->fw && (p.in || p.out)) {
        snprintf(msg, msgsz,
                 "spec.interfaces[%u].bandwidth: node %s has no nftables to hold the guest to it",
                 i, env->node);
        return -ENOTSUP;
    }
    if (!env->fw && !p.secure)
        return 0;
    if (!env->fw) {
        snprintf(msg, msgsz,
                 "spec.interfaces[%u].portSecurity: node %s has no nftables to hold the guest "
                 "to its addresses (false turns it off)",
                 i, env->node);
        return -ENOTSUP;
    }
    port_table(env, table, mark);
    if ((r = nc_fw_port_set(env->fw, &p)) < 0)
        snprintf(msg, msgsz, "spec.interfaces[%u]: port security on %s: %s", i, p.tap,
                 nc_drv_errmsg());
    return r;
}

bool
nc_iface_from_network(struct nc_iface *ifc, struct nc_env *env, const char *ns,
                      const char *network)
{
    struct nc_network_spec spec;
    struct nc_verr *errs = nc_verr_new();
    char *key = NULL, *value = NULL, vxlan[NC_IFNAME_MAX];
    int64_t rev;
    bool ok;

    ok = errs && asprintf(&key, "%sspec/%s/network/%s", env->prefix, ns, network) >= 0 &&
         nc_informer_get(env->specs, key, &value, &rev) == 0 &&
         nc_network_spec_parse(value, ns, network, &spec, errs) == 0;
    if (ok) {
        nc_network_names(env, ns, network, ifc->bridge, vxlan, ifc->bridge_alias);
        ifc->network = spec.network;
        ifc->prefix = spec.prefix;
        ifc->nic.mtu = spec.mtu;
    }
    nc_verr_free(errs);
    free(key);
    free(value);
    return ok;
}

/* The value of interface @i's allocations: "vm/<ns>/<name>/<iface>". */
static void
holder_of(const struct nc_run *run, const char *iface, char *out, size_t outsz)
{
    snprintf(out, outsz, "vm/%s/%s/%s", run->ns, run->name, iface);
}

/* Names a holder for a message to the tenant of namespace @ns: "VM
 * ns/name (interface x)" or "the bridge of node n", and only "another
 * namespace" for what another tenant holds, whose names are not theirs
 * to learn (MACs are unique across namespaces). */
static void
describe(const char *ns, const char *holder, char *out, size_t outsz)
{
    size_t n = strlen(ns);
    const char *last;

    if (strncmp(holder, "node/", 5) == 0)
        snprintf(out, outsz, "the bridge of node %s", holder + 5);
    else if (strncmp(holder, "vm/", 3) != 0 || strncmp(holder + 3, ns, n) != 0 ||
             holder[3 + n] != '/')
        snprintf(out, outsz, "another namespace");
    else if ((last = strrchr(holder, '/')) > holder + 3)
        snprintf(out, outsz, "VM %.*s (interface %s)", (int)(last - holder - 3), holder + 3,
                 last + 1);
    else
        snprintf(out, outsz, "another object");
}

static const cJSON *
old_entry(const cJSON *old, const char *name)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, old) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));

        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

void
nc_iface_alias(struct nc_run *run, const struct nc_vm_spec *spec, unsigned i, char *out,
               size_t outsz)
{
    snprintf(out, outsz, "novacron:%s:vm/%s/%s/%s", run->ctx->env->install_hash, run->ns,
             run->name, spec->ifaces[i].name);
}

void
nc_ifaces_begin(struct nc_run *run, const struct nc_vm_spec *spec, const cJSON *old_status,
                struct nc_iface *ifs)
{
    const cJSON *old = cJSON_GetObjectItem(old_status, "interfaces");

    for (unsigned i = 0; i < spec->n_ifaces; i++) {
        const cJSON *e = old_entry(old, spec->ifaces[i].name);
        const char *net = cJSON_GetStringValue(cJSON_GetObjectItem(e, "network"));
        const char *mac = cJSON_GetStringValue(cJSON_GetObjectItem(e, "mac"));
        const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip"));

        tap_of(run, spec->ifaces[i].name, ifs[i].nic.tap);
        ifs[i].listed = net && strcmp(net, spec->ifaces[i].network) == 0;
        ifs[i].nic.mac[0] = ifs[i].ip[0] = '\0';
        if (ifs[i].listed && mac && strlen(mac) < sizeof(ifs[i].nic.mac))
            snprintf(ifs[i].nic.mac, sizeof(ifs[i].nic.mac), "%s", mac);
        if (ifs[i].listed && ip && strlen(ip) < sizeof(ifs[i].ip))
            snprintf(ifs[i].ip, sizeof(ifs[i].ip), "%s", ip);
    }
}

bool
nc_ifaces_listed(const struct nc_vm_spec *spec, const struct nc_iface *ifs)
{
    for (unsigned i = 0; i < spec->n_ifaces; i++)
        if (!ifs[i].listed)
            return false;
    return true;
}

static int
claim(struct nc_run *run, const char *rest, const char *value, char *holder, size_t holdersz)
{
    char *key = NULL;
    int r;

    if (asprintf(&key, "%s%s", run->ctx->env->prefix, rest) < 0)
        return -ENOMEM;
    r = nc_alloc_claim(run->ctx->etcd, key, value, holder, holdersz);
    free(key);
    return r;
}

static int
hold_mac(struct nc_run *run, const struct nc_vm_iface *want, struct nc_iface *ifc,
         const char *value, const char *field, char *msg, size_t msgsz)
{
    char rest[64], holder[300], who[300];
    int r;

    if (want->mac[0]) {
        snprintf(rest, sizeof(rest), "alloc/mac/%s", want->mac);
        if ((r = claim(run, rest, value, holder, sizeof(holder))) < 0)
            return r;
        if (r == 0) {
            describe(run->ns, holder, who, sizeof(who));
            snprintf(msg, msgsz, "%s.mac: %s is held by %s", field, want->mac, who);
            return 1;
        }
        snprintf(ifc->nic.mac, sizeof(ifc->nic.mac), "%s", want->mac);
        return 0;
    }
    if (ifc->nic.mac[0]) {
        snprintf(rest, sizeof(rest), "alloc/mac/%s", ifc->nic.mac);
        if ((r = claim(run, rest, value, holder, sizeof(holder))) != 0)
            return r < 0 ? r : 0;
    }
    if (ifc->listed) {
        /* A first allocation may have been cut short: find what it took. */
        struct nc_alloc_scan s = {.value = value};
        char *prefix = NULL;

        if (asprintf(&prefix, "%salloc/mac/", run->ctx->env->prefix) < 0)
            return -ENOMEM;
        r = nc_alloc_scan(run->ctx->etcd, prefix, &s);
        free(prefix);
        if (r < 0)
            return r;
        if (s.found[0] && nc_mac_parse(s.found, ifc->nic.mac))
            return 0;
    }
    /* A new one: locally administered, derived from the owner so that a
     * retry asks for the same one first. */
    for (int attempt = 0; attempt < MAC_ATTEMPTS; attempt++) {
        char salt[300], hash[9];

        snprintf(salt, sizeof(salt), "%s#%d", value, attempt);
        nc_install_hash(run->ctx->env->install_hash, salt, hash);
        snprintf(ifc->nic.mac, sizeof(ifc->nic.mac), "52:54:%c%c:%c%c:%c%c:%c%c", hash[0],
                 hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]);
        snprintf(rest, sizeof(rest), "alloc/mac/%s", ifc->nic.mac);
        if ((r = claim(run, rest, value, holder, sizeof(holder))) != 0)
            return r < 0 ? r : 0;
    }
    ifc->nic.mac[0] = '\0';
    return -EAGAIN;
}

/* True when @ip is a host address of the interface's network. */
static bool
host_of(const struct nc_iface *ifc, const char *ip)
{
    uint32_t size = (uint32_t)(1ULL << (32 - ifc->prefix)), a;
    struct in_addr in;

    if (inet_pton(AF_INET, ip, &in) != 1)
        return false;
    a = ntohl(in.s_addr);
    return (a & ~(size - 1)) == ifc->network && a != ifc->network && a != ifc->network + size - 1;
}

static int
hold_ip(struct nc_run *run, const struct nc_vm_iface *want, struct nc_iface *ifc,
        const char *value, const char *field, char *msg, size_t msgsz)
{
    char *prefix = NULL, *key = NULL, holder[300], who[300];
    int r;

    if (asprintf(&prefix, "%salloc/ip/%s/%s/", run->ctx->env->prefix, run->ns, want->network) < 0)
        return -ENOMEM;
    /* A CIDR changed since: what was held is no longer one of its own. */
    if (ifc->ip[0] && !host_of(ifc, ifc->ip))
        ifc->ip[0] = '\0';
    if (want->ip[0]) {
        if (!host_of(ifc, want->ip)) {
            snprintf(msg, msgsz, "%s.ip: %s is not a host address of network %s", field,
                     want->ip, want->network);
            free(prefix);
            return 1;
        }
        snprintf(ifc->ip, sizeof(ifc->ip), "%s", want->ip);
    } else if (!ifc->ip[0]) {
        r = nc_alloc_ip(run->ctx->etcd, prefix, ifc->network, ifc->prefix, value, ifc->ip);
        free(prefix);
        if (r == -ENOSPC) {
            snprintf(msg, msgsz, "%s: network %s has no address left", field, want->network);
            return 1;
        }
        return r;
    }
    /* The spec's address, or the one held before. */
    if (asprintf(&key, "%s%s", prefix, ifc->ip) < 0) {
        free(prefix);
        return -ENOMEM;
    }
    r = nc_alloc_claim(run->ctx->etcd, key, value, holder, sizeof(holder));
    free(key);
    if (r == 0 && want->ip[0]) {
        describe(run->ns, holder, who, sizeof(who));
        snprintf(msg, msgsz, "%s.ip: %s is held by %s", field, want->ip, who);
        r = 1;
    } else if (r == 0) {
        /* What it held was lost (an operator deleted the key): a new one. */
        ifc->ip[0] = '\0';
        r = nc_alloc_ip(run->ctx->etcd, prefix, ifc->network, ifc->prefix, value, ifc->ip);
    } else if (r == 1) {
        r = 0;
    }
    free(prefix);
    return r;
}

int
nc_ifaces_hold(struct nc_run *run, const struct nc_vm_spec *spec, struct nc_iface *ifs,
               char *msg, size_t msgsz)
{
    for (unsigned i = 0; i < spec->n_ifaces; i++) {
        char value[200], field[48];
        int r;

        holder_of(run, spec->ifaces[i].name, value, sizeof(value));
        snprintf(field, sizeof(field), "spec.interfaces[%u]", i);
        if ((r = hold_mac(run, &spec->ifaces[i], &ifs[i], value, field, msg, msgsz)) != 0 ||
            (r = hold_ip(run, &spec->ifaces[i], &ifs[i], value, field, msg, msgsz)) != 0)
            return r;
    }
    return 0;
}

/* True when @spec (NULL: none) has an interface named @name. */
static bool
in_spec(const struct nc_vm_spec *spec, const char *name)
{
    for (unsigned i = 0; spec && i < spec->n_ifaces; i++)
        if (strcmp(spec->ifaces[i].name, name) == 0)
            return true;
    return false;
}

/* Interface @name is gone: its tap leaves the port table. A failure
 * leaves elements naming a tap that no longer exists, harmless and
 * replaced if it ever comes back: said, not retried. */
static void
forget_port(struct nc_run *run, const char *name)
{
    struct nc_env *env = run->ctx->env;
    char tap[16], table[16], mark[40];

    if (!env->fw)
        return;
    tap_of(run, name, tap);
    port_table(env, table, mark);
    if (nc_fw_port_forget(env->fw, table, mark, tap) < 0)
        nc_warn(run->key, "forgetting the port of %s: %s", tap, nc_drv_errmsg());
}

/* True when interface @name still holds MAC @v (@mac) or IP @v on
 * @network; @v NULL: whatever it holds. A MAC is the same whatever the
 * network; an address is one of its network's. */
static bool
still_held(const struct nc_vm_spec *spec, const struct nc_iface *ifs, const char *name,
           const char *network, bool mac, const char *v)
{
    for (unsigned i = 0; spec && i < spec->n_ifaces; i++)
        if (strcmp(spec->ifaces[i].name, name) == 0 &&
            (mac || strcmp(spec->ifaces[i].network, network) == 0) &&
            (!v || strcmp(mac ? ifs[i].nic.mac : ifs[i].ip, v) == 0))
            return true;
    return false;
}

int
nc_ifaces_release(struct nc_run *run, const cJSON *old, const struct nc_vm_spec *spec,
                  const struct nc_iface *ifs)
{
    const char *p = run->ctx->env->prefix;
    const cJSON *e;
    int r = 0;

    cJSON_ArrayForEach(e, old) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
        const char *net = cJSON_GetStringValue(cJSON_GetObjectItem(e, "network"));
        const char *mac = cJSON_GetStringValue(cJSON_GetObjectItem(e, "mac"));
        const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip"));
        char value[200], *key = NULL;

        if (!name || !net || !nc_is_dns_label(name) || !nc_is_dns_label(net))
            continue;
        if (!in_spec(spec, name))
            forget_port(run, name);
        holder_of(run, name, value, sizeof(value));
        for (int m = 1; m >= 0 && r == 0; m--) {
            const char *v = m ? mac : ip;

            if (still_held(spec, ifs, name, net, m, v))
                continue;
            /* Held and named: give that back; listed without it: whatever
             * an allocation cut short took, found by its value. */
            if (v && m)
                r = asprintf(&key, "%salloc/mac/%s", p, v);
            else if (v)
                r = asprintf(&key, "%salloc/ip/%s/%s/%s", p, run->ns, net, v);
            else if (m)
                r = asprintf(&key, "%salloc/mac/", p);
            else
                r = asprintf(&key, "%salloc/ip/%s/%s/", p, run->ns, net);
            if (r < 0)
                return -ENOMEM;
            r = v ? nc_alloc_release(run->ctx->etcd, key, value)
                  : nc_alloc_release_all(run->ctx->etcd, key, value);
            free(key);
            key = NULL;
        }
        if (r < 0)
            return r;
    }
    return r;
}

cJSON *
nc_ifaces_status(const struct nc_vm_spec *spec, const struct nc_iface *ifs)
{
    cJSON *list = cJSON_CreateArray();

    for (unsigned i = 0; list && i < spec->n_ifaces; i++) {
        cJSON *e = cJSON_CreateObject();

        cJSON_AddStringToObject(e, "name", spec->ifaces[i].name);
        cJSON_AddStringToObject(e, "network", spec->ifaces[i].network);
        if (ifs[i].nic.mac[0] && ifs[i].ip[0]) {
            cJSON_AddStringToObject(e, "mac", ifs[i].nic.mac);
            cJSON_AddStringToObject(e, "ip", ifs[i].ip);
            cJSON_AddStringToObject(e, "device", ifs[i].nic.tap);
        }
        if (spec->ifaces[i].in_kbps || spec->ifaces[i].out_kbps) {
            cJSON *bw = cJSON_AddObjectToObject(e, "bandwidth");
            uint64_t in, out;
            uint32_t burst;

            nc_iface_bandwidth(&spec->ifaces[i], &in, &out, &burst);
            if (in)
                cJSON_AddNumberToObject(bw, "inboundKbps", spec->ifaces[i].in_kbps);
            if (out)
                cJSON_AddNumberToObject(bw, "outboundKbps", spec->ifaces[i].out_kbps);
            cJSON_AddNumberToObject(bw, "burstKiB", burst / 1024);
        }
        cJSON_AddItemToArray(list, e);
    }
    return list;
}
