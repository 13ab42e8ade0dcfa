#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "drivers/error.h"
#include "drivers/overlay.h"

struct ovl {
    struct nl_sock *sk;   /* in the node's namespace */
    struct nl_sock *root; /* with --netns: in the caller's, where libvirt makes taps */
    int nsfd;             /* with --netns: the node's namespace, -1 otherwise */
};

#define fail nc_drv_fail

/* A libnl error as an errno, with what was being done. */
static int
nlfail(int nlerr, const char *what, const char *name)
{
    int err;

    switch (-nlerr) {
    case NLE_EXIST: err = -EEXIST; break;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV: err = -ENOENT; break;
    case NLE_PERM: err = -EPERM; break;
    case NLE_NOMEM: err = -ENOMEM; break;
    case NLE_INVAL: err = -EINVAL; break;
    case NLE_BUSY: err = -EBUSY; break;
    case NLE_OPNOTSUPP: err = -EOPNOTSUPP; break;
    default: err = -EIO; break;
    }
    return fail(err, "%s %s: %s", what, name, nl_geterror(nlerr));
}

static void ovl_close(struct ovl *ov);

static int
ovl_open(const char *netns, struct ovl **ret)
{
    struct ovl *ov = calloc(1, sizeof(*ov));
    int home = -1, target = -1, r = 0;
    char path[256];

    if (!ov || !(ov->sk = nl_socket_alloc())) {
        free(ov);
        return fail(-ENOMEM, "out of memory");
    }
    ov->nsfd = -1;
    if (netns) {
        /* A socket belongs to the namespace it was made in: make it there
         * from this thread alone, then come back. */
        snprintf(path, sizeof(path), "/run/netns/%s", netns);
        home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        target = open(path, O_RDONLY | O_CLOEXEC);
        if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
            r = fail(-errno, "enter network namespace %s: %s", netns, strerror(errno));
    }
    if (r == 0 && (r = nl_connect(ov->sk, NETLINK_ROUTE)) < 0)
        r = nlfail(r, "connect to netlink in", netns ? netns : "this namespace");
    if (netns && home >= 0 && setns(home, CLONE_NEWNET) < 0)
        r = fail(-errno, "return from network namespace %s: %s", netns, strerror(errno));
    if (home >= 0)
        close(home);
    if (netns && r == 0) {
        ov->nsfd = target;
        target = -1;
        if (!(ov->root = nl_socket_alloc()))
            r = fail(-ENOMEM, "out of memory");
        else if ((r = nl_connect(ov->root, NETLINK_ROUTE)) < 0)
            r = nlfail(r, "connect to netlink in", "the root namespace");
    }
    if (target >= 0)
        close(target);
    if (r < 0) {
        ovl_close(ov);
        return r;
    }
    *ret = ov;
    return 0;
}

static void
ovl_close(struct ovl *ov)
{
    if (!ov)
        return;
    nl_socket_free(ov->sk);
    if (ov->root)
        nl_socket_free(ov->root);
    if (ov->nsfd >= 0)
        close(ov->nsfd);
    free(ov);
}

/* The link @name seen from @sk, or NULL (-ENOENT) when there is none. */
static struct rtnl_link *
link_get_in(struct nl_sock *sk, const char *name, int *ret_err)
{
    struct rtnl_link *link = NULL;
    int r = rtnl_link_get_kernel(sk, 0, name, &link);

    *ret_err = r < 0 ? nlfail(r, "look up device", name) : 0;
    return r < 0 ? NULL : link;
}

static struct rtnl_link *
link_get(struct ovl *ov, const char *name, int *ret_err)
{
    return link_get_in(ov->sk, name, ret_err);
}

static bool
alias_is(struct rtnl_link *link, const char *alias)
{
    const char *a = rtnl_link_get_ifalias(link);

    return a && strcmp(a, alias) == 0;
}

/* Sets the alias, MTU, master (when @master > 0) and up flag of @link. */
static int
configure(struct ovl *ov, struct rtnl_link *link, const char *alias, unsigned mtu,
          int master)
{
    struct rtnl_link *change = rtnl_link_alloc();
    int r;

    if (!change)
        return fail(-ENOMEM, "out of memory");
    rtnl_link_set_ifalias(change, alias);
    rtnl_link_set_mtu(change, mtu);
    if (master > 0)
        rtnl_link_set_master(change, master);
    rtnl_link_set_flags(change, IFF_UP);
    r = rtnl_link_change(ov->sk, link, change, 0);
    rtnl_link_put(change);
    return r < 0 ? nlfail(r, "configure device", rtnl_link_get_name(link)) : 0;
}

/* Creates @link (a new object naming the device) and returns the kernel's. */
static struct rtnl_link *
create(struct ovl *ov, struct rtnl_link *link, const char *name, int *ret_err)
{
    int r = rtnl_link_add(ov->sk, link, NLM_F_CREATE | NLM_F_EXCL);

    if (r < 0) {
        *ret_err = nlfail(r, "create device", name);
        return NULL;
    }
    return link_get(ov, name, ret_err);
}

static int
ensure_bridge(struct ovl *ov, const struct nc_overlay_net *net, int *ret_ifindex)
{
    struct rtnl_link *link;
    int r;

    link = link_get(ov, net->bridge, &r);
    if (link && !alias_is(link, net->alias)) {
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s exists and is not this Network's", net->bridge);
    }
    if (!link) {
        struct rtnl_link *want = rtnl_link_alloc();

        if (r != -ENOENT || !want) {
            if (want)
                rtnl_link_put(want);
            return r ? r : fail(-ENOMEM, "out of memory");
        }
        rtnl_link_set_name(want, net->bridge);
        if ((r = rtnl_link_set_type(want, "bridge")) < 0) {
            rtnl_link_put(want);
            return nlfail(r, "make a bridge of", net->bridge);
        }
        link = create(ov, want, net->bridge, &r);
        rtnl_link_put(want);
        if (!link)
            return r;
    }
    r = configure(ov, link, net->alias, net->mtu, 0);
    *ret_ifindex = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    return r;
}

/* True when existing VXLAN device @link has the VNI, local address and
 * underlay device @net asks for. */
static bool
vxlan_matches(struct rtnl_link *link, const struct nc_overlay_net *net, int underlay)
{
    struct nl_addr *local = NULL;
    uint32_t id = 0, dev = 0;
    char buf[64] = "";
    bool ok;

    if (rtnl_link_is_vxlan(link) != 1 || rtnl_link_vxlan_get_id(link, &id) < 0 ||
        rtnl_link_vxlan_get_link(link, &dev) < 0 || rtnl_link_vxlan_get_local(link, &local) < 0)
        return false;
    nl_addr2str(local, buf, sizeof(buf));
    ok = id == net->vni && (int)dev == underlay && strcmp(buf, net->local_ip) == 0;
    nl_addr_put(local);
    return ok;
}

static int
ensure_vxlan(struct ovl *ov, const struct nc_overlay_net *net, int bridge,
             int *ret_ifindex)
{
    struct rtnl_link *link, *want;
    struct nl_addr *local = NULL;
    int r, underlay = 0;

    if (!net->underlay || !net->local_ip)
        return fail(-EINVAL, "no underlay device or address for %s", net->vxlan);
    if ((link = link_get(ov, net->underlay, &r))) {
        underlay = rtnl_link_get_ifindex(link);
        rtnl_link_put(link);
    } else {
        return r;
    }
    link = link_get(ov, net->vxlan, &r);
    if (link && !alias_is(link, net->alias)) {
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s exists and is not this Network's", net->vxlan);
    }
    if (link && !vxlan_matches(link, net, underlay)) {
        /* VNI, address and device are fixed at creation: make it again. */
        r = rtnl_link_delete(ov->sk, link);
        rtnl_link_put(link);
        link = NULL;
        if (r < 0)
            return nlfail(r, "delete device", net->vxlan);
        r = -ENOENT;
    }
    if (!link) {
        if (r != -ENOENT)
            return r;
        if (!(want = rtnl_link_vxlan_alloc()))
            return fail(-ENOMEM, "out of memory");
        rtnl_link_set_name(want, net->vxlan);
        rtnl_link_vxlan_set_id(want, net->vni);
        rtnl_link_vxlan_set_port(want, NC_VXLAN_PORT);
        rtnl_link_vxlan_set_link(want, (uint32_t)underlay);
        rtnl_link_vxlan_set_learning(want, 0);
        if ((r = nl_addr_parse(net->local_ip, AF_INET, &local)) < 0) {
            rtnl_link_put(want);
            return nlfail(r, "parse address", net->local_ip);
        }
        rtnl_link_vxlan_set_local(want, local);
        nl_addr_put(local);
        link = create(ov, want, net->vxlan, &r);
        rtnl_link_put(want);
        if (!link)
            return r;
    }
    r = configure(ov, link, net->alias, net->mtu, bridge);
    *ret_ifindex = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    return r;
}

/*
 * The VLAN device of a vlan Network: 802.1Q id vlan_id on the node's
 * vlan_parent, on the bridge. Id and parent are fixed at creation: one
 * that differs is made again.
 */
static int
ensure_vlan(struct ovl *ov, const struct nc_overlay_net *net, int bridge)
{
    struct rtnl_link *link, *want;
    int r, parent;

    if (!net->vlan_parent)
        return fail(-ENODEV, "no VLAN parent device for %s", net->vlan);
    if (!(link = link_get(ov, net->vlan_parent, &r)))
        return r == -ENOENT ? fail(-ENODEV, "no device %s", net->vlan_parent) : r;
    parent = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    link = link_get(ov, net->vlan, &r);
    if (link && !alias_is(link, net->alias)) {
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s exists and is not this Network's", net->vlan);
    }
    if (link && (rtnl_link_is_vlan(link) != 1 ||
                 rtnl_link_vlan_get_id(link) != (int)net->vlan_id ||
                 rtnl_link_get_link(link) != parent)) {
        r = rtnl_link_delete(ov->sk, link);
        rtnl_link_put(link);
        link = NULL;
        if (r < 0)
            return nlfail(r, "delete device", net->vlan);
        r = -ENOENT;
    }
    if (!link) {
        if (r != -ENOENT)
            return r;
        if (!(want = rtnl_link_vlan_alloc()))
            return fail(-ENOMEM, "out of memory");
        rtnl_link_set_name(want, net->vlan);
        rtnl_link_set_link(want, parent);
        rtnl_link_vlan_set_id(want, (uint16_t)net->vlan_id);
        link = create(ov, want, net->vlan, &r);
        rtnl_link_put(want);
        if (!link && r == -EOPNOTSUPP)
            return fail(r, "create VLAN device %s: this kernel has no 802.1Q VLAN support "
                           "(CONFIG_VLAN_8021Q)", net->vlan);
        if (!link)
            return r;
    }
    r = configure(ov, link, net->alias, net->mtu, bridge);
    rtnl_link_put(link);
    return r;
}

struct addr_walk {
    struct ovl *ov;
    int ifindex;
    const char *want; /* "10.0.0.1/24" or NULL */
    bool found;
    int err;
};

static void
on_addr(struct nl_object *obj, void *data)
{
    struct addr_walk *w = data;
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    char buf[64];
    int r;

    if (rtnl_addr_get_ifindex(a) != w->ifindex || rtnl_addr_get_family(a) != AF_INET)
        return;
    nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf));
    if (w->want && strcmp(buf, w->want) == 0) {
        w->found = true;
        return;
    }
    /* Another IPv4 address on our own bridge: not what the Network says. */
    if ((r = rtnl_addr_delete(w->ov->sk, a, 0)) < 0)
        w->err = nlfail(r, "delete address", buf);
}

static int
ensure_address(struct ovl *ov, int ifindex, const char *cidr)
{
    struct addr_walk w = {ov, ifindex, cidr, false, 0};
    struct nl_cache *cache = NULL;
    struct rtnl_addr *a;
    struct nl_addr *local = NULL;
    int r;

    if ((r = rtnl_addr_alloc_cache(ov->sk, &cache)) < 0)
        return nlfail(r, "list addresses for", cidr ? cidr : "a bridge");
    nl_cache_foreach(cache, on_addr, &w);
    nl_cache_free(cache);
    if (w.err || w.found || !cidr)
        return w.err;
    if (!(a = rtnl_addr_alloc()))
        return fail(-ENOMEM, "out of memory");
    if ((r = nl_addr_parse(cidr, AF_INET, &local)) < 0) {
        rtnl_addr_put(a);
        return nlfail(r, "parse address", cidr);
    }
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_local(a, local);
    nl_addr_put(local);
    r = rtnl_addr_add(ov->sk, a, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_addr_put(a);
    return r < 0 ? nlfail(r, "add address", cidr) : 0;
}

struct fdb_walk {
    struct ovl *ov;
    int ifindex;
    const struct nc_overlay_net *net;
    bool *have; /* per peer: an entry exists */
    int err;
};

static bool
zero_mac(struct nl_addr *lladdr)
{
    static const unsigned char zero[6];

    return lladdr && nl_addr_get_len(lladdr) == 6 &&
           memcmp(nl_addr_get_binary_addr(lladdr), zero, 6) == 0;
}

static void
on_fdb(struct nl_object *obj, void *data)
{
    struct fdb_walk *w = data;
    struct rtnl_neigh *n = (struct rtnl_neigh *)obj;
    char dst[64];
    int r;

    if (rtnl_neigh_get_family(n) != AF_BRIDGE || rtnl_neigh_get_ifindex(n) != w->ifindex ||
        !zero_mac(rtnl_neigh_get_lladdr(n)) || !rtnl_neigh_get_dst(n))
        return;
    nl_addr2str(rtnl_neigh_get_dst(n), dst, sizeof(dst));
    for (size_t i = 0; i < w->net->n_peers; i++) {
        if (strcmp(dst, w->net->peers[i]) == 0) {
            w->have[i] = true;
            return;
        }
    }
    /* A node that left: no more traffic toward it. */
    if ((r = rtnl_neigh_delete(w->ov->sk, n, 0)) < 0)
        w->err = nlfail(r, "delete forwarding entry toward", dst);
}

static int
ensure_fdb(struct ovl *ov, const struct nc_overlay_net *net, int ifindex)
{
    bool have[64] = {false};
    struct fdb_walk w = {ov, ifindex, net, have, 0};
    struct nl_cache *cache = NULL;
    int r;

    if (net->n_peers > sizeof(have) / sizeof(have[0]))
        return fail(-E2BIG, "more than 64 peers for %s", net->vxlan);
    if ((r = rtnl_neigh_alloc_cache_flags(ov->sk, &cache, NL_CACHE_AF_ITER)) < 0)
        return nlfail(r, "list forwarding entries of", net->vxlan);
    nl_cache_foreach(cache, on_fdb, &w);
    nl_cache_free(cache);
    for (size_t i = 0; i < net->n_peers && w.err == 0; i++) {
        struct rtnl_neigh *n;
        struct nl_addr *mac = NULL, *dst = NULL;

        if (have[i])
            continue;
        if (!(n = rtnl_neigh_alloc()))
            return fail(-ENOMEM, "out of memory");
        if ((r = nl_addr_parse("00:00:00:00:00:00", AF_LLC, &mac)) < 0 ||
            (r = nl_addr_parse(net->peers[i], AF_INET, &dst)) < 0) {
            w.err = nlfail(r, "parse peer", net->peers[i]);
        } else {
            rtnl_neigh_set_ifindex(n, ifindex);
            /* The destination first: libnl takes the family from it and
             * refuses one that differs, and the entry is the bridge's. */
            rtnl_neigh_set_dst(n, dst);
            rtnl_neigh_set_family(n, AF_BRIDGE);
            rtnl_neigh_set_lladdr(n, mac);
            rtnl_neigh_set_state(n, NUD_PERMANENT);
            rtnl_neigh_set_flags(n, NTF_SELF);
            if ((r = rtnl_neigh_add(ov->sk, n, NLM_F_CREATE | NLM_F_APPEND)) < 0)
                w.err = nlfail(r, "add forwarding entry toward", net->peers[i]);
        }
        if (mac)
            nl_addr_put(mac);
        if (dst)
            nl_addr_put(dst);
        rtnl_neigh_put(n);
    }
    return w.err;
}

static int
ovl_ensure(struct ovl *ov, const struct nc_overlay_net *net)
{
    int bridge = 0, vxlan = 0, r;

    if ((r = ensure_bridge(ov, net, &bridge)) < 0)
        return r;
    if (net->vxlan) {
        if ((r = ensure_vxlan(ov, net, bridge, &vxlan)) < 0)
            return r;
        if ((r = ensure_fdb(ov, net, vxlan)) < 0)
            return r;
    }
    if (net->vlan && (r = ensure_vlan(ov, net, bridge)) < 0)
        return r;
    return ensure_address(ov, bridge, net->bridge_cidr);
}

static int
ovl_remove(struct ovl *ov, const char *name, const char *alias)
{
    struct rtnl_link *link;
    int r;

    link = link_get(ov, name, &r);
    if (!link)
        return r == -ENOENT ? 0 : r;
    if (!alias_is(link, alias)) {
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s is not this Network's: left alone", name);
    }
    r = rtnl_link_delete(ov->sk, link);
    rtnl_link_put(link);
    return r < 0 ? nlfail(r, "delete device", name) : 0;
}

struct list_walk {
    const char *prefix;
    void (*fn)(const char *name, const char *alias, void *data);
    void *data;
};

static void
on_link(struct nl_object *obj, void *data)
{
    struct list_walk *w = data;
    struct rtnl_link *link = (struct rtnl_link *)obj;
    const char *alias = rtnl_link_get_ifalias(link);

    if (alias && strncmp(alias, w->prefix, strlen(w->prefix)) == 0)
        w->fn(rtnl_link_get_name(link), alias, w->data);
}

static int
ovl_list(struct ovl *ov, const char *alias_prefix,
                void (*fn)(const char *name, const char *alias, void *data), void *data)
{
    struct list_walk w = {alias_prefix, fn, data};
    struct nl_cache *cache = NULL;
    int r;

    if ((r = rtnl_link_alloc_cache(ov->sk, AF_UNSPEC, &cache)) < 0)
        return nlfail(r, "list", "devices");
    nl_cache_foreach(cache, on_link, &w);
    nl_cache_free(cache);
    return 0;
}

struct ipv4_walk {
    int ifindex;
    char *out;
    bool found;
};

static void
on_ipv4(struct nl_object *obj, void *data)
{
    struct ipv4_walk *w = data;
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    struct nl_addr *local = rtnl_addr_get_local(a);

    if (w->found || rtnl_addr_get_ifindex(a) != w->ifindex || rtnl_addr_get_family(a) != AF_INET ||
        !local)
        return;
    inet_ntop(AF_INET, nl_addr_get_binary_addr(local), w->out, 16);
    w->found = true;
}

static int
ovl_ipv4_of(struct ovl *ov, const char *ifname, char out[16])
{
    struct ipv4_walk w = {0, out, false};
    struct nl_cache *cache = NULL;
    struct rtnl_link *link;
    int r;

    if (!(link = link_get(ov, ifname, &r)))
        return r;
    w.ifindex = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    if ((r = rtnl_addr_alloc_cache(ov->sk, &cache)) < 0)
        return nlfail(r, "list addresses of", ifname);
    nl_cache_foreach(cache, on_ipv4, &w);
    nl_cache_free(cache);
    return w.found ? 0 : fail(-ENOENT, "device %s has no IPv4 address", ifname);
}

/* True when the alias of @link is @alias or unset (a tap libvirt just made). */
static bool
alias_ours_or_unset(struct rtnl_link *link, const char *alias)
{
    const char *a = rtnl_link_get_ifalias(link);

    return !a || !*a || strcmp(a, alias) == 0;
}

static int
ovl_attach(struct ovl *ov, const char *tap, const char *bridge,
                  const char *bridge_alias, const char *alias, unsigned mtu)
{
    struct rtnl_link *link, *br;
    int r;

    /* libvirt made the tap where it runs: mark it and move it over. */
    if (ov->root && (link = link_get_in(ov->root, tap, &r))) {
        struct rtnl_link *change = rtnl_link_alloc();

        if (!alias_ours_or_unset(link, alias)) {
            rtnl_link_put(link);
            if (change)
                rtnl_link_put(change);
            return fail(-EEXIST, "device %s is not this interface's: left alone", tap);
        }
        if (!change) {
            rtnl_link_put(link);
            return fail(-ENOMEM, "out of memory");
        }
        rtnl_link_set_ifalias(change, alias);
        rtnl_link_set_ns_fd(change, (uint32_t)ov->nsfd);
        r = rtnl_link_change(ov->root, link, change, 0);
        rtnl_link_put(change);
        rtnl_link_put(link);
        if (r < 0)
            return nlfail(r, "move into the node's namespace device", tap);
    } else if (ov->root && r != -ENOENT) {
        return r;
    }
    if (!(link = link_get(ov, tap, &r)))
        return r;
    if (!alias_ours_or_unset(link, alias)) {
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s is not this interface's: left alone", tap);
    }
    if (!(br = link_get(ov, bridge, &r))) {
        rtnl_link_put(link);
        return r;
    }
    if (!alias_is(br, bridge_alias)) {
        rtnl_link_put(br);
        rtnl_link_put(link);
        return fail(-EEXIST, "device %s is not the Network's bridge: left alone", bridge);
    }
    if (rtnl_link_get_master(link) == rtnl_link_get_ifindex(br) &&
        (rtnl_link_get_flags(link) & IFF_UP) && alias_is(link, alias) &&
        rtnl_link_get_mtu(link) == mtu)
        r = 0;
    else
        r = configure(ov, link, alias, mtu, rtnl_link_get_ifindex(br));
    rtnl_link_put(br);
    rtnl_link_put(link);
    return r;
}

/* The table: each entry hands the netlink state on. */
static void
op_close(struct nc_overlay *o)
{
    ovl_close(o->priv);
    free(o);
}

static int
op_ensure(struct nc_overlay *o, const struct nc_overlay_net *net)
{
    return ovl_ensure(o->priv, net);
}

static int
op_remove(struct nc_overlay *o, const char *name, const char *alias)
{
    return ovl_remove(o->priv, name, alias);
}

static int
op_list(struct nc_overlay *o, const char *alias_prefix,
        void (*fn)(const char *name, const char *alias, void *data), void *data)
{
    return ovl_list(o->priv, alias_prefix, fn, data);
}

static int
op_attach(struct nc_overlay *o, const char *tap, const char *bridge, const char *bridge_alias,
          const char *alias, unsigned mtu)
{
    return ovl_attach(o->priv, tap, bridge, bridge_alias, alias, mtu);
}

static int
op_ipv4_of(struct nc_overlay *o, const char *ifname, char out[16])
{
    return ovl_ipv4_of(o->priv, ifname, out);
}

static const struct nc_overlay_ops netlink_ops = {
    .close = op_close,
    .ensure = op_ensure,
    .remove = op_remove,
    .list = op_list,
    .attach = op_attach,
    .ipv4_of = op_ipv4_of,
};

int
nc_overlay_open(const char *netns, struct nc_overlay **ret)
{
    struct nc_overlay *o = calloc(1, sizeof(*o));
    struct ovl *nl;
    int r;

    if (!o)
        return fail(-ENOMEM, "out of memory");
    if ((r = ovl_open(netns, &nl)) < 0) {
        free(o);
        return r;
    }
    o->ops = &netlink_ops;
    o->priv = nl;
    *ret = o;
    return 0;
}
