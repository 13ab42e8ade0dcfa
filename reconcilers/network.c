/*
 * One reconcile of a Network on this node: validate; refuse what collides
 * with an older Network (an overlapping CIDR in the namespace, an explicit
 * VNI another holds); hold a VNI and this node's bridge address through
 * create-only etcd transactions (alloc/vni/<vni> or alloc/vlan/<id>,
 * alloc/ip/<ns>/<net>/<ip>);
 * and, on the nodes that run one of its VMs only, this node's bridge
 * address, the bridge and VXLAN device with one forwarding entry toward
 * each other such node, and a dnsmasq on the bridge answering for the
 * guests this node runs on it; a node whose last VM of it went takes its
 * part down. Every node writes the same status (computed from etcd), so
 * nodes never flap it.
 * Deletion waits while VMs use it, then stops dnsmasq before the devices
 * go, so a crash in between leaves devices that name what to clean up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/names.h"
#include "drivers/dnsmasq.h"
#include "drivers/firewall.h"
#include "drivers/overlay.h"
#include "reconcilers/alloc.h"
#include "reconcilers/moves.h"
#include "reconcilers/network.h"
#include "reconcilers/run.h"
#include "reconcilers/status.h"
#include "reconcilers/users.h"
#include "schema/network.h"

#define RETRY_MS 10000
#define USERS_POLL_MS 2000

struct net_run {
    struct nc_run o;
    struct nc_network_spec spec;
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX];
    char vlan[NC_IFNAME_MAX];  /* its VLAN device (mode vlan), named as its bridge is */
    char table[NC_IFNAME_MAX]; /* its nftables table, named as its bridge is */
    char owner[140]; /* "ns/name": the value of its allocations */
    char node_mark[270]; /* "node/<node>": the value of this node's address */
    cJSON *users;
    char teardown_failed[384]; /* why a driver refused to take it down, "" */
};

void
nc_network_names(const struct nc_env *env, const char *ns, const char *name,
                 char bridge[NC_IFNAME_MAX], char vxlan[NC_IFNAME_MAX],
                 char alias[NC_NETWORK_ALIAS_MAX])
{
    char owner[140], hash[9];

    snprintf(owner, sizeof(owner), "%s/%s", ns, name);
    nc_install_hash(env->install_hash, owner, hash);
    snprintf(bridge, NC_IFNAME_MAX, "ncb%s", hash);
    snprintf(vxlan, NC_IFNAME_MAX, "ncx%s", hash);
    snprintf(alias, NC_NETWORK_ALIAS_MAX, "novacron:%s:%s", env->install_hash, owner);
}

/* True when Network "ns/name" @owner is in this run's namespace: only
 * then may a message to its tenant name it. VNIs are unique across
 * namespaces, and another tenant's names are not theirs to learn. */
static bool
in_ns(const struct net_run *run, const char *owner)
{
    size_t n = strlen(run->o.ns);

    return strncmp(owner, run->o.ns, n) == 0 && owner[n] == '/';
}

static char *
key_of(struct net_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
key_of(struct net_run *run, const char *fmt, ...)
{
    char rest[256], *key = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rest, sizeof(rest), fmt, ap);
    va_end(ap);
    if (asprintf(&key, "%s%s", run->o.ctx->env->prefix, rest) < 0)
        return NULL;
    return key;
}

static int
create_revision(struct net_run *run, const char *ns, const char *name, int64_t *ret)
{
    char *key = NULL;
    struct nc_kv kv;
    int r;

    if (asprintf(&key, "%sspec/%s/network/%s", run->o.ctx->env->prefix, ns, name) < 0)
        return -ENOMEM;
    r = nc_etcd_get(run->o.ctx->etcd, key, &kv, NULL);
    free(key);
    if (r == 0) {
        *ret = kv.create_revision;
        nc_kv_clear(&kv);
    }
    return r;
}

struct conflict_walk {
    struct net_run *run;
    size_t skip;
    char field[16];
    char other[140]; /* "ns/name" of the older Network it collides with */
    int64_t mine; /* this Network's create_revision, read when needed */
    int err;
};

static void
on_network_spec(void *data, const char *key)
{
    struct conflict_walk *w = data;
    struct net_run *run = w->run;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], *value = NULL;
    const char *rest = key + w->skip, *seg;
    struct nc_network_spec other;
    struct nc_verr *e;
    int64_t rev, theirs = 0;
    bool overlap, same_vni;

    seg = strchr(rest, '/');
    if (w->other[0] || w->err || !seg || strncmp(seg, "/network/", 9) != 0 ||
        (size_t)(seg - rest) > NC_NAME_MAX)
        return;
    snprintf(ns, sizeof(ns), "%.*s", (int)(seg - rest), rest);
    snprintf(name, sizeof(name), "%s", seg + 9);
    if ((strcmp(ns, run->o.ns) == 0 && strcmp(name, run->o.name) == 0) ||
        nc_informer_get(run->o.ctx->env->specs, key, &value, &rev) < 0)
        return;
    e = nc_verr_new();
    if (e && nc_network_spec_parse(value, ns, name, &other, e) == 0) {
        uint32_t mask = (uint32_t)(0xffffffffULL << (32 - (other.prefix < run->spec.prefix
                                                                ? other.prefix
                                                                : run->spec.prefix)));

        overlap = strcmp(ns, run->o.ns) == 0 &&
                  (other.network & mask) == (run->spec.network & mask);
        same_vni = run->spec.vni && other.vni == run->spec.vni;
        /* Which is older is read only for a collision, which is rare. */
        if ((overlap || same_vni) && !w->mine &&
            (w->err = create_revision(run, run->o.ns, run->o.name, &w->mine)) < 0)
            overlap = same_vni = false;
        if ((overlap || same_vni) && create_revision(run, ns, name, &theirs) == 0 &&
            theirs < w->mine) {
            snprintf(w->field, sizeof(w->field), "%s", overlap ? "cidr" : "vni");
            snprintf(w->other, sizeof(w->other), "%s/%s", ns, name);
        }
    }
    nc_verr_free(e);
    free(value);
}

/* An older Network this one collides with, named in @msg; 1 when so. */
static int
collides(struct net_run *run, char *msg, size_t msgsz)
{
    struct conflict_walk w = {.run = run};
    char *prefix = key_of(run, "spec/");

    if (!prefix)
        return -ENOMEM;
    w.skip = strlen(prefix);
    nc_informer_foreach(run->o.ctx->env->specs, on_network_spec, &w);
    free(prefix);
    if (w.err < 0)
        return w.err;
    if (!w.other[0])
        return 0;
    if (strcmp(w.field, "cidr") == 0)
        snprintf(msg, msgsz, "spec.cidr: %s overlaps the CIDR of the older network %s",
                 run->spec.cidr, w.other);
    else if (in_ns(run, w.other))
        snprintf(msg, msgsz, "spec.vni: %u is the VNI of the older network %s", run->spec.vni,
                 w.other);
    else
        snprintf(msg, msgsz, "spec.vni: %u is held by another namespace", run->spec.vni);
    return 1;
}

/* Holds the VNI (alloc/vni/<vni>): the spec's, or one allocated once and
 * kept; or with mode vlan the spec's VLAN id (alloc/vlan/<id>), unique as
 * VNIs are. 0 and the id in @ret_vni, 1 with @msg when another Network
 * holds the spec's, or an errno. */
static int
hold_id(struct net_run *run, uint32_t *ret_vni, char *msg, size_t msgsz)
{
    bool vlan = run->spec.mode == NC_NET_VLAN;
    const char *what = vlan ? "vlan" : "vni";
    struct nc_alloc_scan f = {.value = run->owner};
    char *prefix = key_of(run, "alloc/%s/", what), holder[160] = "";
    uint32_t want = vlan ? run->spec.vlan : run->spec.vni, vni = want;
    int r;

    if (!prefix)
        return -ENOMEM;
    r = nc_alloc_scan(run->o.ctx->etcd, prefix, &f);
    for (int attempt = 0; r == 0 && attempt < 64; attempt++) {
        char *key;

        if (!want && f.found[0]) {
            vni = (uint32_t)strtoul(f.found, NULL, 10);
            break;
        }
        if (!want) {
            char hash[9];
            char salt[160];

            snprintf(salt, sizeof(salt), "%s#%d", run->owner, attempt);
            nc_install_hash(run->o.ctx->env->install_hash, salt, hash);
            vni = (uint32_t)(strtoul(hash, NULL, 16) % NC_NETWORK_MAX_VNI) + 1;
        }
        if (!(key = key_of(run, "alloc/%s/%u", what, vni))) {
            r = -ENOMEM;
            break;
        }
        r = nc_alloc_claim(run->o.ctx->etcd, key, run->owner, holder, sizeof(holder));
        free(key);
        if (r == 1) {
            r = 0;
            break;
        }
        if (r == 0 && want) {
            snprintf(msg, msgsz, "spec.%s: %u is held by %s%s", what, vni, in_ns(run, holder)
                     ? "network " : "another namespace", in_ns(run, holder) ? holder : "");
            free(prefix);
            return 1;
        }
    }
    /* An id held before under another value of the spec's is let go. */
    if (r == 0 && f.found[0] && (uint32_t)strtoul(f.found, NULL, 10) != vni) {
        char *old = key_of(run, "alloc/%s/%s", what, f.found);

        if (old)
            r = nc_alloc_release(run->o.ctx->etcd, old, run->owner);
        free(old);
    }
    free(prefix);
    *ret_vni = vni;
    return r;
}

/* Holds this node's bridge address: the lowest free one of the CIDR. */
static int
hold_bridge_ip(struct net_run *run, char out[20])
{
    char *prefix = key_of(run, "alloc/ip/%s/%s/", run->o.ns, run->o.name), ip[16];
    int r;

    if (!prefix)
        return -ENOMEM;
    r = nc_alloc_ip(run->o.ctx->etcd, prefix, run->spec.network, run->spec.prefix,
                    run->node_mark, ip);
    free(prefix);
    if (r == 0)
        snprintf(out, 20, "%s/%u", ip, run->spec.prefix);
    return r;
}

#define MAX_PEERS 64

/* The nodes that run VMs of the Network, and the underlay address of each
 * other one that is registered. */
struct peers {
    struct net_run *run;
    char nodes[MAX_PEERS][254];
    size_t n_nodes;
    char addrs[MAX_PEERS][16];
    const char *ptrs[MAX_PEERS];
    size_t n;
};

static bool
wanted(const struct peers *p, const char *node)
{
    for (size_t i = 0; i < p->n_nodes; i++)
        if (strcmp(p->nodes[i], node) == 0)
            return true;
    return false;
}

/* Fills @p->nodes from the nodes of the Network's VMs; true when this node
 * is one of them. */
static bool
needed_here(struct net_run *run, struct peers *p)
{
    struct nc_env *env = run->o.ctx->env;
    cJSON *users = nc_vm_users_sorted(env, NC_USE_NETWORK, run->o.ns, run->o.name);
    const cJSON *u;
    char node[254];

    cJSON_ArrayForEach(u, users) {
        struct nc_move mv;

        if (p->n_nodes < MAX_PEERS &&
            nc_vm_node(env, run->o.ns, u->valuestring, node, sizeof(node)) &&
            !wanted(p, node))
            snprintf(p->nodes[p->n_nodes++], sizeof(p->nodes[0]), "%s", node);
        /* A VM on its way to a node needs its Networks there first. */
        if (p->n_nodes < MAX_PEERS && nc_moves_of_vm(env->moves, run->o.ns, u->valuestring, &mv) &&
            !wanted(p, mv.target))
            snprintf(p->nodes[p->n_nodes++], sizeof(p->nodes[0]), "%s", mv.target);
    }
    cJSON_Delete(users);
    return wanted(p, env->node);
}

static void
on_node(void *data, const char *key)
{
    struct peers *p = data;
    struct nc_env *env = p->run->o.ctx->env;
    char *value = NULL;
    int64_t rev;
    cJSON *doc;
    const char *name, *addr;
    struct in_addr in;

    if (p->n == MAX_PEERS || nc_informer_get(env->nodes, key, &value, &rev) < 0)
        return;
    doc = cJSON_Parse(value);
    free(value);
    name = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "name"));
    addr = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "underlayAddress"));
    if (name && addr && strcmp(name, env->node) != 0 && wanted(p, name) &&
        inet_pton(AF_INET, addr, &in) == 1) {
        snprintf(p->addrs[p->n], sizeof(p->addrs[0]), "%s", addr);
        p->ptrs[p->n] = p->addrs[p->n];
        p->n++;
    }
    cJSON_Delete(doc);
}

static bool
str_is(const cJSON *v, const char *want)
{
    const char *s = cJSON_GetStringValue(v);

    return s && strcmp(s, want) == 0;
}

struct hosts {
    struct net_run *run;
    struct nc_dhcp_host *list;
    size_t n, cap;
    int err;
};

/* Adds the interfaces on this Network of VM @vm, when this node runs it. */
static void
on_user(void *data, const char *vm)
{
    struct hosts *h = data;
    struct net_run *run = h->run;
    struct nc_env *env = run->o.ctx->env;
    char *key = NULL, *value = NULL;
    const cJSON *e;
    int64_t rev;
    cJSON *st;

    if (h->err || asprintf(&key, "%sstatus/%s/vm/%s", env->prefix, run->o.ns, vm) < 0) {
        h->err = -ENOMEM;
        return;
    }
    if (nc_informer_get(env->statuses, key, &value, &rev) < 0) {
        free(key);
        return;
    }
    free(key);
    st = cJSON_Parse(value);
    free(value);
    if (!str_is(cJSON_GetObjectItem(st, "node"), env->node)) {
        cJSON_Delete(st);
        return;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "interfaces")) {
        const char *iface = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
        const char *mac_s = cJSON_GetStringValue(cJSON_GetObjectItem(e, "mac"));
        const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip"));
        char mac[18], addr[16], holder[200], *mac_key = NULL, *ip_key = NULL;
        struct in_addr in;
        int held;

        /* The status only says which interfaces to look for: it becomes
         * lines of dnsmasq's hosts file, so each MAC and address must be
         * well-formed and held by that very interface in alloc/. */
        if (!str_is(cJSON_GetObjectItem(e, "network"), run->o.name) || !iface || !mac_s ||
            !ip || !nc_mac_parse(mac_s, mac) || inet_pton(AF_INET, ip, &in) != 1 ||
            !nc_is_dns_label(iface))
            continue;
        snprintf(holder, sizeof(holder), "vm/%s/%s/%s", run->o.ns, vm, iface);
        inet_ntop(AF_INET, &in, addr, sizeof(addr));
        mac_key = key_of(run, "alloc/mac/%s", mac);
        ip_key = key_of(run, "alloc/ip/%s/%s/%s", run->o.ns, run->o.name, addr);
        held = mac_key && ip_key ? nc_alloc_holds(run->o.ctx->etcd, mac_key, holder) : -ENOMEM;
        if (held > 0)
            held = nc_alloc_holds(run->o.ctx->etcd, ip_key, holder);
        free(mac_key);
        free(ip_key);
        if (held < 0) {
            h->err = held;
            break;
        }
        if (!held)
            continue;
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 16;
            struct nc_dhcp_host *grown = realloc(h->list, cap * sizeof(*grown));

            if (!grown) {
                h->err = -ENOMEM;
                break;
            }
            h->list = grown;
            h->cap = cap;
        }
        snprintf(h->list[h->n].mac, sizeof(h->list[0].mac), "%s", mac);
        inet_ntop(AF_INET, &in, h->list[h->n].ip, sizeof(h->list[0].ip));
        h->n++;
    }
    cJSON_Delete(st);
}

static int
cmp_host(const void *a, const void *b)
{
    return strcmp(((const struct nc_dhcp_host *)a)->mac, ((const struct nc_dhcp_host *)b)->mac);
}

/*
 * This node's DHCP server for the Network: answers for the guests this
 * node runs on it, with their allocated addresses; none without guests.
 * 0, or a negative errno with the reason in @msg.
 */
static int
ensure_dhcp(struct net_run *run, char *msg, size_t msgsz)
{
    struct nc_env *env = run->o.ctx->env;
    struct hosts h = {.run = run};
    struct in_addr net = {.s_addr = htonl(run->spec.network)};
    struct in_addr mask = {.s_addr = htonl((uint32_t)(0xffffffffULL << (32 - run->spec.prefix)))};
    char network[16], netmask[16];
    struct nc_dnsmasq d = {
        .netns = env->netns, .dir = env->dnsmasq_dir, .bridge = run->bridge,
        .network = network, .netmask = netmask, .router = run->spec.egress_nat,
    };
    bool changed;
    int r;

    nc_vm_users(env, NC_USE_NETWORK, run->o.ns, run->o.name, on_user, &h);
    if (h.err) {
        free(h.list);
        return h.err;
    }
    if (h.n == 0) {
        free(h.list);
        r = nc_dhcp_stop(env->dhcp, env->dnsmasq_dir, run->bridge);
        if (r < 0)
            snprintf(msg, msgsz, "node %s: %s", env->node, nc_drv_errmsg());
        return r;
    }
    qsort(h.list, h.n, sizeof(*h.list), cmp_host); /* h.n > 0 here */
    inet_ntop(AF_INET, &net, network, sizeof(network));
    inet_ntop(AF_INET, &mask, netmask, sizeof(netmask));
    d.hosts = h.list;
    d.n_hosts = h.n;
    r = nc_dhcp_ensure(env->dhcp, &d, &changed);
    free(h.list);
    if (r < 0)
        snprintf(msg, msgsz, "node %s: %s", env->node, nc_drv_errmsg());
    else if (changed)
        nc_info(run->o.key, "DHCP hosts on node %s: %zu", env->node, d.n_hosts);
    return r;
}

static cJSON *
status_new(struct net_run *run, const char *phase)
{
    cJSON *s = nc_status_new(run->o.old_status, run->o.generation, phase, run->o.now);

    cJSON_AddStringToObject(s, "bridge", run->bridge);
    if (run->spec.mode == NC_NET_OVERLAY)
        cJSON_AddStringToObject(s, "vxlanDevice", run->vxlan);
    if (run->spec.mode == NC_NET_VLAN)
        cJSON_AddStringToObject(s, "vlanDevice", run->vlan);
    if (run->users)
        cJSON_AddItemReferenceToObject(s, "usedBy", run->users);
    return s;
}

static __attribute__((warn_unused_result)) int
report_not_ready(struct net_run *run, const char *phase, const char *reason, const char *msg,
                 bool warn)
{
    return nc_run_report_not_ready(&run->o, status_new(run, phase), reason, msg, warn);
}

/*
 * Holds what the Network needs of etcd: no collision with an older one,
 * then (its status saying Provisioning first, when it is new) its VNI and,
 * with @cidr, this node's bridge address (into @cidr). 0 with *@ret_vni;
 * 1 after reporting why not, with the result in *@ret; or a negative errno.
 */
static int
hold(struct net_run *run, uint32_t *ret_vni, char *cidr, int *ret)
{
    char msg[600];
    int r;

    if ((r = collides(run, msg, sizeof(msg))) == 0 && !run->o.old_status &&
        (*ret = report_not_ready(run, "Provisioning", "Provisioning", "allocating", false)) < 0)
        return 1;
    if (r > 0 || (r == 0 && (r = hold_id(run, ret_vni, msg, sizeof(msg))) > 0)) {
        *ret = report_not_ready(run, "Failed", "Conflict", msg, true);
        return 1;
    }
    if (r < 0 || !cidr || (r = hold_bridge_ip(run, cidr)) != -ENOSPC)
        return r;
    snprintf(msg, sizeof(msg), "spec.cidr: %s has no address left for node %s", run->spec.cidr,
             run->o.ctx->env->node);
    *ret = report_not_ready(run, "Failed", "NoAddress", msg, true);
    return 1;
}

/*
 * The Network's egress on this node: its NAT table made as the spec says,
 * or taken away when the spec no longer asks for it. 0, or a negative
 * errno with the reason in @msg and *@reason.
 */
static int
ensure_egress(struct net_run *run, char *msg, size_t msgsz, const char **reason)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_egress e = {
        .table = run->table, .mark = run->alias, .cidr = run->spec.cidr, .bridge = run->bridge,
        .via = run->spec.egress_via[0] ? run->spec.egress_via : NULL,
    };
    int r;

    if (!env->fw && !run->spec.egress_nat)
        return 0;
    if (!env->fw) {
        snprintf(msg, msgsz, "spec.egress.nat: node %s has no nftables to masquerade with",
                 env->node);
        *reason = "NodeProblem";
        return -ENOTSUP;
    }
    r = run->spec.egress_nat ? nc_fw_ensure_egress(env->fw, &e)
                             : nc_fw_remove(env->fw, run->table, run->alias);
    if (r == -ENODEV) {
        snprintf(msg, msgsz, "spec.egress.via: node %s has no interface \"%s\"", env->node,
                 run->spec.egress_via);
        *reason = "NoSuchInterface";
    } else if (r < 0) {
        snprintf(msg, msgsz, "node %s: %s", env->node, nc_drv_errmsg());
        *reason = r == -EEXIST ? "NameConflict" : "NodeProblem";
    }
    return r;
}

/*
 * True when the status reports another node's own problem with the
 * Network (failedNode), at this generation, and that node still takes part
 * in it (holds a bridge address of it; @holders when known, else looked
 * up). This node's view, Ready or a problem of its own, then waits for
 * that node to clear it: nodes never take turns overwriting each other's
 * word, each write waking the other. Negative errno on failure.
 */
static int
other_node_failing(struct net_run *run, const cJSON *holders)
{
    const cJSON *st = run->o.old_status, *h;
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItem(st, "failedNode"));
    struct nc_alloc_scan f = {0};
    char *prefix;
    int r, found = 0;

    if (!node || strcmp(node, run->o.ctx->env->node) == 0 ||
        cJSON_GetNumberValue(cJSON_GetObjectItem(st, "observedGeneration")) !=
            (double)run->o.generation)
        return 0;
    if (!holders) {
        if (!(f.holders = cJSON_CreateArray()) ||
            !(prefix = key_of(run, "alloc/ip/%s/%s/", run->o.ns, run->o.name))) {
            cJSON_Delete(f.holders);
            return -ENOMEM;
        }
        r = nc_alloc_scan(run->o.ctx->etcd, prefix, &f);
        free(prefix);
        if (r < 0) {
            cJSON_Delete(f.holders);
            return r;
        }
        holders = f.holders;
    }
    cJSON_ArrayForEach(h, holders)
        found |= cJSON_IsString(h) && strcmp(h->valuestring, node) == 0;
    cJSON_Delete(f.holders);
    return found;
}

/*
 * This node's bridge and VXLAN device, with a forwarding entry toward each
 * other node in @peers, and its dnsmasq. 0; 1 after reporting why not,
 * with the result in *@ret; or a negative errno.
 */
static int
realise(struct net_run *run, struct peers *peers, uint32_t vni, const char *cidr,
        int64_t *ret_requeue_ms, int *ret)
{
    struct nc_env *env = run->o.ctx->env;
    char msg[600];
    const char *reason = NULL;
    int r = 0;

    if (run->spec.mode == NC_NET_OVERLAY && !env->underlay_ip[0]) {
        snprintf(msg, sizeof(msg), "node %s has no underlay address (--underlay) for VXLAN",
                 env->node);
        reason = "NoUnderlay";
    } else if (run->spec.mode == NC_NET_VLAN && !env->vlan_parent) {
        snprintf(msg, sizeof(msg), "node %s has no device for VLANs (--vlan-parent)", env->node);
        reason = "NoVLANParent";
    } else if (!run->o.ctx->ov) {
        snprintf(msg, sizeof(msg), "node %s: no netlink socket in its network namespace",
                 env->node);
        reason = "NodeProblem";
    } else {
        struct nc_overlay_net net;

        nc_informer_foreach(env->nodes, on_node, peers);
        net = (struct nc_overlay_net){
            .bridge = run->bridge,
            .vxlan = run->spec.mode == NC_NET_OVERLAY ? run->vxlan : NULL,
            .vlan = run->spec.mode == NC_NET_VLAN ? run->vlan : NULL,
            .vlan_id = run->spec.vlan,
            .vlan_parent = env->vlan_parent,
            .alias = run->alias,
            .vni = vni,
            .mtu = run->spec.mtu,
            .underlay = env->underlay,
            .local_ip = env->underlay_ip,
            .bridge_cidr = cidr,
            .peers = peers->ptrs,
            .n_peers = peers->n,
        };
        if ((r = nc_overlay_ensure(run->o.ctx->ov, &net)) < 0) {
            snprintf(msg, sizeof(msg), "node %s: %s", env->node, nc_drv_errmsg());
            reason = r == -EEXIST ? "NameConflict" : r == -ENODEV ? "NoVLANParent" : "NodeProblem";
        } else if ((r = ensure_dhcp(run, msg, sizeof(msg))) < 0) {
            reason = "DHCPFailed";
        } else {
            r = ensure_egress(run, msg, sizeof(msg), &reason);
        }
    }
    if (!reason)
        return 0;
    nc_warn(run->o.key, "%s", msg);
    if ((*ret = other_node_failing(run, NULL)) == 0) {
        cJSON *s = status_new(run, "Failed");

        cJSON_AddStringToObject(s, "failedNode", env->node);
        *ret = nc_run_report_not_ready(&run->o, s, reason, msg, true);
    }
    *ret = *ret > 0 ? 0 : *ret; /* said by another node: looked at again below */
    /* A node without what it needs, or a device of that name that is not
     * ours: no backoff storm, but a look now and then, for the day that
     * changes. Anything else is retried with backoff. */
    if (*ret == 0 && r < 0 && r != -EEXIST && r != -ENODEV && r != -ENOTSUP)
        *ret = r;
    else if (*ret == 0)
        *ret_requeue_ms = RETRY_MS;
    return 1;
}

/* Reports the Network Ready: its VNI, the nodes that hold a bridge address
 * (where it is realised), and queues the VMs that waited for it. */
static int
report_ready(struct net_run *run, uint32_t vni, int64_t *ret_requeue_ms)
{
    struct nc_alloc_scan f = {0};
    char msg[200], *prefix;
    cJSON *s;
    bool news;
    int r = 0;

    f.holders = cJSON_CreateArray();
    if (!(prefix = key_of(run, "alloc/ip/%s/%s/", run->o.ns, run->o.name)) ||
        (r = nc_alloc_scan(run->o.ctx->etcd, prefix, &f)) < 0) {
        free(prefix);
        cJSON_Delete(f.holders);
        return r < 0 ? r : -ENOMEM;
    }
    free(prefix);
    if ((r = other_node_failing(run, f.holders)) != 0) {
        cJSON_Delete(f.holders);
        *ret_requeue_ms = RETRY_MS;
        return r < 0 ? r : 0;
    }
    s = status_new(run, "Ready");
    cJSON_AddNumberToObject(s, run->spec.mode == NC_NET_VLAN ? "vlan" : "vni", vni);
    cJSON_AddStringToObject(s, "cidr", run->spec.cidr);
    cJSON_AddNumberToObject(s, "mtu", run->spec.mtu);
    cJSON_AddItemToObject(s, "nodes", f.holders);
    cJSON_AddNumberToObject(s, "addressesInUse", (double)f.count);
    snprintf(msg, sizeof(msg), "bridge and %s on %d node(s)%s",
             run->spec.mode == NC_NET_OVERLAY ? "VXLAN device"
             : run->spec.mode == NC_NET_VLAN  ? "VLAN device"
                                              : "no VXLAN (isolated)",
             cJSON_GetArraySize(f.holders), run->spec.egress_nat ? ", egress through NAT" : "");
    news = nc_run_ready_changed(&run->o, true, msg);
    nc_status_condition(s, run->o.old_status, "Ready", true, "Realised", msg, run->o.generation,
                        run->o.now);
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    /* The VMs waiting for it look again once the Ready status is there to
     * be read: queued before the write, one may look first and wait. */
    if (r == 0 && news)
        nc_vm_users_enqueue(&run->o, NC_USE_NETWORK);
    return r;
}

/*
 * Takes this node's part of the Network down: its dnsmasq stops before the
 * devices go (a crash in between leaves devices that name what to clean
 * up), then its bridge address is given back. Fills @f with the
 * addresses other nodes still hold. 0 or a negative errno.
 */
static int
unrealise_scan(struct net_run *run, struct nc_alloc_scan *f)
{
    struct nc_env *env = run->o.ctx->env;
    char *prefix, *key = NULL;
    int r;

    if ((r = nc_dhcp_stop(env->dhcp, env->dnsmasq_dir, run->bridge)) < 0 ||
        (env->fw && (r = nc_fw_remove(env->fw, run->table, run->alias)) < 0 && r != -EEXIST) ||
        (run->o.ctx->ov &&
         (((r = nc_overlay_remove(run->o.ctx->ov, run->vxlan, run->alias)) < 0 && r != -EEXIST) ||
          ((r = nc_overlay_remove(run->o.ctx->ov, run->vlan, run->alias)) < 0 && r != -EEXIST) ||
          ((r = nc_overlay_remove(run->o.ctx->ov, run->bridge, run->alias)) < 0 &&
           r != -EEXIST)))) {
        snprintf(run->teardown_failed, sizeof(run->teardown_failed),
                 "taking it down on node %s: %s", env->node, nc_drv_errmsg());
        nc_warn(run->o.key, "%s", run->teardown_failed);
        return r;
    }
    if (!(prefix = key_of(run, "alloc/ip/%s/%s/", run->o.ns, run->o.name)))
        return -ENOMEM;
    r = nc_alloc_scan(run->o.ctx->etcd, prefix, f);
    if (r == 0 && f->found[0] && asprintf(&key, "%s%s", prefix, f->found) >= 0) {
        r = nc_alloc_release(run->o.ctx->etcd, key, run->node_mark);
        f->count--;
        if (r == 0)
            nc_info(run->o.key, "no VM of it left on this node: bridge and address removed");
        free(key);
    }
    free(prefix);
    return r;
}

static int
unrealise(struct net_run *run)
{
    struct nc_alloc_scan f = {.value = run->node_mark};

    return unrealise_scan(run, &f);
}

static int
reconcile_spec(struct net_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_verr *errs = nc_verr_new();
    struct peers *peers;
    char cidr[20] = "";
    uint32_t vni = 0;
    bool here;
    int r, ret = 0;

    if (!errs)
        return -ENOMEM;
    if (nc_network_spec_parse(value, run->o.ns, run->o.name, &run->spec, errs) < 0) {
        r = nc_run_report_invalid(&run->o, status_new(run, "Failed"), errs);
        nc_verr_free(errs);
        return r;
    }
    nc_verr_free(errs);
    peers = calloc(1, sizeof(*peers));
    if (!peers)
        return -ENOMEM;
    peers->run = run;
    here = needed_here(run, peers);
    if ((r = hold(run, &vni, here ? cidr : NULL, &ret)) == 0)
        r = here ? realise(run, peers, vni, cidr, ret_requeue_ms, &ret) : unrealise(run);
    free(peers);
    if (r == 0)
        return report_ready(run, vni, ret_requeue_ms);
    return r > 0 ? ret : r;
}

static int
reconcile_deleted(struct net_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_alloc_scan f = {.value = run->node_mark};
    char *prefix = NULL, *key = NULL, msg[512] = "";
    int r = 0;

    if (!run->o.old_status)
        return 0; /* nothing of ours was made without a status first */
    run->users = nc_vm_users_sorted(env, NC_USE_NETWORK, run->o.ns, run->o.name);
    if (cJSON_GetArraySize(run->users) > 0) {
        char users[384];

        nc_users_join(run->users, users, sizeof(users));
        snprintf(msg, sizeof(msg), "deletion waits: in use by VM %s", users);
        /* A VM on another node lets go where this node sees no change
         * of its own to be queued by: look again after a while. */
        *ret_requeue_ms = USERS_POLL_MS;
        return report_not_ready(run, "Deleting", "InUse", msg, false);
    }
    if ((r = unrealise_scan(run, &f)) < 0 && run->teardown_failed[0]) {
        /* Said, then retried with backoff. */
        if (report_not_ready(run, "Deleting", "DeleteFailed", run->teardown_failed, true) ==
            -ESTALE)
            return -ESTALE;
        return r;
    }
    if (r < 0)
        return r;
    /* The last node out takes the VNI (or VLAN id) and the status with it. */
    if (f.count > 0) {
        /* Another node still holds its address, or gave it back while
         * this one looked: the last one out takes the rest, so look
         * again until none is left. */
        *ret_requeue_ms = USERS_POLL_MS;
        return 0;
    }
    /* Its VNI and its VLAN id (a Network whose mode changed held both). */
    for (int i = 0; i < 2 && r == 0; i++) {
        f = (struct nc_alloc_scan){.value = run->owner};
        if (!(prefix = key_of(run, "alloc/%s/", i ? "vlan" : "vni")))
            return -ENOMEM;
        r = nc_alloc_scan(run->o.ctx->etcd, prefix, &f);
        if (r == 0 && f.found[0] && asprintf(&key, "%s%s", prefix, f.found) >= 0)
            r = nc_alloc_release(run->o.ctx->etcd, key, run->owner);
        free(key);
        free(prefix);
        key = NULL;
    }
    if (r == 0)
        r = nc_run_delete_status(&run->o);
    if (r == 0)
        nc_info(run->o.key, "deleted");
    return r;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct net_run run = {0};
    char *value = NULL;
    int r;

    *ret_requeue_ms = 0;
    r = nc_run_begin(&run.o, ctx, ns, "network", name);
    if (r == 0) {
        snprintf(run.owner, sizeof(run.owner), "%s/%s", ns, name);
        snprintf(run.node_mark, sizeof(run.node_mark), "node/%s", ctx->env->node);
        nc_network_names(ctx->env, ns, name, run.bridge, run.vxlan, run.alias);
        snprintf(run.table, sizeof(run.table), "ncn%.12s", run.bridge + 3);
        snprintf(run.vlan, sizeof(run.vlan), "ncv%.12s", run.bridge + 3);
        r = nc_run_spec(&run.o, &value);
        if (r == -ENOENT)
            r = reconcile_deleted(&run, ret_requeue_ms);
        else if (r == 0)
            r = reconcile_spec(&run, value, ret_requeue_ms);
    }
    if (r == -ESTALE)
        r = 0;
    free(value);
    cJSON_Delete(run.users);
    nc_run_end(&run.o);
    return r;
}

static void
on_device(const char *name, const char *alias, void *data)
{
    struct nc_key_sink *lc = data;
    /* Listed by their prefix, "novacron:HASH:". */
    const char *owner = alias + strlen("novacron::") + strlen(lc->env->install_hash);
    const char *slash = strchr(owner, '/');
    char key[160], ns[NC_NAME_MAX + 1];

    (void)name;
    if (!slash || (size_t)(slash - owner) > NC_NAME_MAX)
        return;
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - owner), owner);
    if (!nc_is_dns_label(ns) || !nc_is_dns_label(slash + 1))
        return;
    snprintf(key, sizeof(key), "%s/network/%s", ns, slash + 1);
    lc->fn(lc->data, key);
}

/* Every device on this node whose alias marks it as this installation's. */
static int
list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key), void *data)
{
    char prefix[64];
    struct nc_key_sink lc = {ctx->env, fn, data};

    if (!ctx->ov)
        return 0;
    snprintf(prefix, sizeof(prefix), "novacron:%s:", ctx->env->install_hash);
    return nc_overlay_list(ctx->ov, prefix, on_device, &lc);
}

const struct nc_reconciler nc_network_reconciler = {
    .kind = "network",
    .reconcile = reconcile,
    .list_actual = list_actual,
};
