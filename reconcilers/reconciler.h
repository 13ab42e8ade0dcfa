/*
 * What every reconciler gets and returns. A reconciler is level-triggered:
 * it is told only which object to look at, reads the desired spec (from
 * the informer cache) and the actual state (from its drivers), acts on the
 * difference and reports status. It never sees the event that woke it.
 */
#ifndef NC_RECONCILER_H
#define NC_RECONCILER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/etcd.h"
#include "core/informer.h"
#include "core/metrics.h"
#include "drivers/runtime.h"
#include "reconcilers/events.h"

struct nc_vm_state;
struct nc_node;
struct nc_dhcp;
struct nc_fw;
struct nc_overlay;
struct nc_st;
struct nc_moves;
struct nc_netpol_state;

/* Shared by every worker; read-only after start-up except where noted. */
struct nc_env {
    const char *prefix;       /* "/novacron/" */
    const char *node;         /* this host's node name */
    char cluster[24];         /* etcd cluster id */
    char install_hash[9];     /* nc_install_hash(cluster, prefix) */
    bool gc_orphans;          /* delete marked resources with no status */
    const char *console_dir;  /* serial logs of real guests */
    const char *image_dir;    /* where Volume source images may come from */
    const char *boot_dir;     /* where VM kernels and initrds may come from */
    char dnsmasq_dir[512];    /* <--run-dir>/<node>/dnsmasq */
    unsigned host_cpus;       /* the host's CPUs: ids 0 to this - 1 */
    char seed_dir[512];       /* <--run-dir>/<node>/seeds: cloud-init seeds */
    struct nc_informer *specs;    /* <prefix>spec/ */
    struct nc_informer *statuses; /* <prefix>status/, written through */
    struct nc_informer *placements; /* <prefix>placement/, written through */
    struct nc_node *self;         /* this node's registration and lease */
    struct nc_informer *nodes;    /* <prefix>nodes/: who else realises Networks */
    const char *netns;            /* the node's network namespace, or NULL */
    const char *underlay;         /* the device VXLAN leaves by, or NULL */
    const char *vlan_parent;      /* the device vlan Networks' VLANs are on, or NULL */
    char underlay_ip[16];         /* its address, "" when unknown */
    struct nc_hv *hv;             /* runtime vm: QEMU guests */
    struct nc_hv *process_hv;     /* runtime process: libvirt's LXC driver; NULL: none */
    struct nc_hv *container_hv;   /* runtime container: Podman; NULL: none */
    const char *exec_dir;         /* where processes' programs may come from */
    char process_dir[512];        /* <--run-dir>/<node>/processes: their logs */
    struct nc_st *st;
    struct nc_dhcp *dhcp;         /* each Network's DHCP server on this node */
    struct nc_fw *fw;             /* NAT, ports and policies in the node's namespace; NULL: none */
    struct nc_metrics *metrics;
    struct nc_commit *commit;        /* the workers' status writes; NULL: each alone */
    struct nc_event_recorder events; /* locked inside */
    struct nc_vm_state *vm;          /* the VM reconciler's memory */
    struct nc_moves *moves;          /* the migrations in flight, by VM */
    struct nc_netpol_state *netpol;  /* the NetworkPolicies this node knows of */
    _Atomic size_t domains_owned;    /* counted by a worker for /metrics */
    /* Queues a key ("ns/kind/name") for reconcile: how a reconciler tells
     * the objects that depend on the one it changed. Thread-safe. */
    void (*enqueue)(void *data, const char *key);
    void *enqueue_data;
};

/* The table that runs VMs of runtime @rt on this node, NULL when none. */
static inline struct nc_hv *
nc_env_runtime(const struct nc_env *env, enum nc_runtime rt)
{
    return rt == NC_RUNTIME_PROCESS     ? env->process_hv
           : rt == NC_RUNTIME_CONTAINER ? env->container_hv
                                        : env->hv;
}

/* One worker's view: the shared environment, its own etcd client and its
 * own netlink socket in the node's namespace (NULL when it cannot open one;
 * Networks then fail with the reason). */
struct nc_ctx {
    struct nc_env *env;
    struct nc_etcd *etcd;
    struct nc_overlay *ov;
};

/* Where a reconciler's *_list_actual() sends the keys of what it finds. */
struct nc_key_sink {
    struct nc_env *env;
    void (*fn)(void *data, const char *key);
    void *data;
};

/*
 * Reconciles object @ns/@name. Returns 0 when done (then *ret_requeue_ms,
 * when > 0, asks to look again after that long), or a negative errno for
 * a failure worth retrying with backoff. Invalid specs are not failures:
 * they are reported in status and return 0.
 */
typedef int (*nc_reconcile_fn)(struct nc_ctx *ctx, const char *ns, const char *name,
                               int64_t *ret_requeue_ms);

/*
 * A kind's reconciler, one const row per kind (nc_reconcilers[]): the
 * daemon sets up its state, hands it keys and asks it what exists, all
 * through this table, so a new kind is one file and one row.
 */
struct nc_reconciler {
    const char *kind; /* the key segment: "vm" */
    /* Sets up and tears down what the kind keeps in @env between
     * reconciles. Either may be NULL. init returns 0 or a negative errno. */
    int (*init)(struct nc_env *env);
    void (*fini)(struct nc_env *env);
    nc_reconcile_fn reconcile;
    /* Calls @fn with the key ("NS/KIND/NAME") of every resource of the
     * kind that carries this installation's owner mark, so start-up and
     * resync reconcile the union of desired and actual. 0 or a negative
     * errno, with the reason in nc_drv_errmsg(). NULL for a kind that
     * creates nothing of its own. */
    int (*list_actual)(struct nc_ctx *ctx, void (*fn)(void *data, const char *key), void *data);
};

/* Every kind's reconciler, NULL-terminated. */
extern const struct nc_reconciler *const nc_reconcilers[];

/* The reconciler of key segment @kind, NULL when there is none. */
const struct nc_reconciler *nc_reconciler_for(const char *kind);

#endif
