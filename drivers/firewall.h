/*
 * The firewall driver: the packet rules novacrond keeps in a node's
 * network namespace, behind a table. Each Network's rules live in an
 * nftables table of their own, named after the Network as its bridge is,
 * whose comment is the Network's owner mark: a table with another comment
 * is never changed or deleted, and nobody else's tables or rules are ever
 * touched. The handle is thread-safe. Errors come back as a negative
 * errno, with the reason in nc_drv_errmsg().
 */
#ifndef NC_DRIVER_FIREWALL_H
#define NC_DRIVER_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/error.h"

#define NC_FW_MARK_MAX 128 /* an nftables comment: 127 characters and the NUL */

/* A Network's egress through the node: its guests' packets to anywhere
 * outside @cidr leave by @via (any device but @bridge when NULL) with
 * the node's address as their source. */
struct nc_egress {
    const char *table;  /* the Network's nftables table, at most 15 characters */
    const char *mark;   /* its owner mark, the table's comment (cut to 127) */
    const char *cidr;   /* "10.0.0.0/24" */
    const char *bridge; /* the Network's bridge on this node */
    const char *via;    /* a device of the node, or NULL */
};

/* A guest's port, its tap on a Network's bridge. Secured, frames from it
 * must come from @mac, and IPv4 and ARP from @ip (or from 0.0.0.0: DHCP
 * and ARP probes); everything else it sends is dropped before the bridge
 * sees it. Not secured, anything goes. Its bandwidth limits hold either
 * way. An installation's ports share one bridge-family table, @table,
 * whose comment is @mark. */
struct nc_port {
    const char *table, *mark;
    const char *tap, *mac, *ip;
    bool secure;
    /* Bandwidth, in bytes a second, to the guest (@in) and from it (@out),
     * 0 for no limit: what goes over it, beyond @burst bytes, is dropped. */
    uint64_t in, out;
    uint32_t burst;
};

/*
 * NetworkPolicies as a node enforces them, for the guests it runs. All of
 * an installation's policies share one table; what changes when a VM
 * comes, goes or changes labels is set elements only (the addresses of a
 * policy's VMs and of each rule's peer VMs), never a rule. Traffic between
 * a guest and its own node is not filtered (DHCP, the gateway), and
 * replies to what was let through always pass.
 */
struct nc_fw_addrs {
    const char *const *a; /* IPv4 addresses ("10.0.0.5") or, for CIDRs, "10.0.0.0/8" */
    size_t n;
};

enum nc_fw_proto { NC_FW_TCP, NC_FW_UDP, NC_FW_SCTP };

struct nc_fw_ports {
    enum nc_fw_proto proto;
    unsigned first, last; /* first 0: every port of @proto */
};

/* One rule: allows traffic with its peers (from them for Ingress, to them
 * for Egress) on its ports. */
struct nc_fw_rule {
    bool any;               /* no peers named: every address */
    bool has_vms;           /* some peers are VMs (whose addresses @vms holds) */
    struct nc_fw_addrs vms; /* those VMs' addresses, cluster-wide */
    struct nc_fw_addrs cidrs;
    const struct nc_fw_ports *ports; /* none: every port and protocol */
    size_t n_ports;
};

struct nc_fw_policy {
    char id[16];            /* [a-z0-9], unique in the table: names the policy's sets */
    struct nc_fw_addrs vms; /* the addresses of its VMs on this node */
    bool ingress, egress;   /* what they are isolated for */
    const struct nc_fw_rule *in, *out;
    size_t n_in, n_out;
};

struct nc_fw;

struct nc_fw_ops {
    void (*close)(struct nc_fw *fw);
    /* Makes table e->table hold the masquerade of @e and nothing else,
     * in one transaction, and turns IPv4 forwarding on in the namespace
     * (as every NAT router must; it stays on). -ENODEV when the node has
     * no device @via; -EEXIST when a table of that name is not ours. */
    int (*ensure_egress)(struct nc_fw *fw, const struct nc_egress *e);
    /* Deletes table @table when its comment is @mark (cut to 127); 0 when
     * there is none, -EEXIST when it is someone else's. */
    int (*remove)(struct nc_fw *fw, const char *table, const char *mark);
    /* Makes @p's rules so, in one transaction that replaces whatever the
     * tap had (the table made first when there is none); -EEXIST when a
     * table of that name is not ours. Done before the tap joins its
     * bridge, so that no frame of it goes unchecked. */
    int (*port_set)(struct nc_fw *fw, const struct nc_port *p);
    /* Takes tap @tap out of port table @table (marked @mark); 0 when it
     * was not in it or there is no such table. */
    int (*port_forget)(struct nc_fw *fw, const char *table, const char *mark, const char *tap);
    /* Makes policy table @table (marked @mark) enforce @pols and nothing
     * else, in one transaction that changes only what differs from what
     * it last made (set elements, when only VMs changed); n 0 deletes the
     * table. -EEXIST when a table of that name is not ours. */
    int (*policies)(struct nc_fw *fw, const char *table, const char *mark,
                    const struct nc_fw_policy *pols, size_t n);
};

struct nc_fw {
    const struct nc_fw_ops *ops;
    void *priv;
};

/* nftables through libnftables, in network namespace @netns (a name under
 * /run/netns; NULL: the caller's). 0 and *@ret, or a negative errno. */
int nc_nft_open(const char *netns, struct nc_fw **ret) __attribute__((warn_unused_result));

static inline void
nc_fw_close(struct nc_fw *fw)
{
    if (fw)
        fw->ops->close(fw);
}

#define nc_fw_ensure_egress(fw, e)    ((fw)->ops->ensure_egress((fw), (e)))
#define nc_fw_remove(fw, table, mark) ((fw)->ops->remove((fw), (table), (mark)))
#define nc_fw_port_set(fw, p)         ((fw)->ops->port_set((fw), (p)))
#define nc_fw_policies(fw, table, mark, pols, n)                                                 \
    ((fw)->ops->policies((fw), (table), (mark), (pols), (n)))
#define nc_fw_port_forget(fw, table, mark, tap)                                                  \
    ((fw)->ops->port_forget((fw), (table), (mark), (tap)))

#endif
