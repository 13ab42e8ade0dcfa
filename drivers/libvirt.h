/*
 * The hypervisor driver: libvirt domains, seen through a small table of
 * operations so that reconcilers can be run against a fault-injecting
 * fake in tests. Every call is blocking and thread-safe; errors come back
 * as a negative errno, and nc_hv_errmsg() holds the reason for the calling
 * thread.
 */
#ifndef NC_DRIVER_LIBVIRT_H
#define NC_DRIVER_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/domxml.h"

enum nc_dom_state {
    NC_DOM_RUNNING,
    NC_DOM_PAUSED,
    NC_DOM_SHUTOFF,
    NC_DOM_SHUTTING_DOWN,
    NC_DOM_CRASHED,
    NC_DOM_OTHER,
    NC_DOM_INVALID,
};

extern const char *const nc_dom_state_names[];

struct nc_dominfo {
    char uuid[37];
    enum nc_dom_state state;
    bool owned;              /* carries an owner mark (then @owner is set) */
    struct nc_owner owner;   /* the persistent definition's mark */
    char live_config[17];    /* config hash of the running instance, "" if none */
    char live_base[17];      /* its hash without the disks (struct nc_owner) */
    unsigned live_vcpus;     /* what the running instance has */
    uint64_t live_memory_kib;
};

struct nc_hv;

struct nc_hv_ops {
    int (*lookup)(struct nc_hv *hv, const char *name, struct nc_dominfo *ret);
    int (*define)(struct nc_hv *hv, const char *xml);
    int (*start)(struct nc_hv *hv, const char *name);
    int (*shutdown)(struct nc_hv *hv, const char *name);
    int (*destroy)(struct nc_hv *hv, const char *name);
    int (*suspend)(struct nc_hv *hv, const char *name);
    int (*resume)(struct nc_hv *hv, const char *name);
    int (*undefine)(struct nc_hv *hv, const char *name);
    /* Calls @fn for every domain carrying an owner mark. */
    int (*list_owned)(struct nc_hv *hv,
                      void (*fn)(const char *name, const struct nc_owner *owner, void *data),
                      void *data);
};

struct nc_hv {
    const struct nc_hv_ops *ops;
    void *priv;
};

/*
 * Connects to @uri. With @force_tcg, "auto" acceleration never picks KVM
 * (for hosts where /dev/kvm exists but guests hang). Returns 0 and sets
 * *ret_hv, or a negative errno.
 */
int nc_hv_libvirt_open(const char *uri, bool force_tcg, struct nc_hv **ret_hv)
    __attribute__((warn_unused_result));
/* Closes @hv (NULL allowed); returns NULL. */
struct nc_hv *nc_hv_close(struct nc_hv *hv);

/*
 * The libvirt domain type for @accel: "test" on the test driver; "kvm" or
 * "qemu" (TCG) on QEMU, where "auto" picks KVM only when libvirt's domain
 * capabilities offer it. NULL when @accel asks for KVM and there is none.
 */
const char *nc_hv_domain_type(struct nc_hv *hv, enum nc_accel accel);
/* True on the test driver, whose guests are not real processes. */
bool nc_hv_is_test(struct nc_hv *hv);

/*
 * Calls @changed with a domain's name whenever libvirt reports a lifecycle
 * event for it (started, stopped, paused, crashed, defined...), and
 * @reconnected after the connection to libvirtd was lost and made again,
 * when events may have been missed. Both run on libvirt's event thread,
 * which this starts; they must only hand the news on (queue a key).
 */
int nc_hv_watch(struct nc_hv *hv, void (*changed)(void *data, const char *name),
                void (*reconnected)(void *data), void *data) __attribute__((warn_unused_result));

/* Grows disk @path of running domain @name to @bytes, through QEMU, so
 * the guest sees the new size at once. */
int nc_hv_block_resize(struct nc_hv *hv, const char *name, const char *path, uint64_t bytes)
    __attribute__((warn_unused_result));

/* A disk of a running domain, as its live XML has it. */
struct nc_live_disk {
    char target[8];   /* "vda" */
    char path[1024];  /* source file, "" when none */
};

/* The disks of running domain @name: at most @max into @ret, their number
 * into @ret_n. */
int nc_hv_live_disks(struct nc_hv *hv, const char *name, struct nc_live_disk *ret, unsigned max,
                     unsigned *ret_n) __attribute__((warn_unused_result));

/* Attaches (or detaches) device @xml to (from) the running instance of
 * @name only: the persistent definition is written with nc_hv_define().
 * A detach returns once QEMU confirmed it or libvirt gave up waiting. */
int nc_hv_hotplug(struct nc_hv *hv, const char *name, const char *xml, bool attach)
    __attribute__((warn_unused_result));

/* Replaces the owner mark of the running instance of @name with @xml
 * (from nc_domxml_owner()), once it matches the new definition. */
int nc_hv_set_live_owner(struct nc_hv *hv, const char *name, const char *xml)
    __attribute__((warn_unused_result));

/* The reason of the last failure on this thread. */
const char *nc_hv_errmsg(void);

/* lookup: 0, -ENOENT when no domain has @name, or a negative errno. */
#define nc_hv_lookup(hv, name, ret) ((hv)->ops->lookup((hv), (name), (ret)))
#define nc_hv_define(hv, xml) ((hv)->ops->define((hv), (xml)))
#define nc_hv_start(hv, name) ((hv)->ops->start((hv), (name)))
#define nc_hv_shutdown(hv, name) ((hv)->ops->shutdown((hv), (name)))
#define nc_hv_destroy(hv, name) ((hv)->ops->destroy((hv), (name)))
#define nc_hv_suspend(hv, name) ((hv)->ops->suspend((hv), (name)))
#define nc_hv_resume(hv, name) ((hv)->ops->resume((hv), (name)))
#define nc_hv_undefine(hv, name) ((hv)->ops->undefine((hv), (name)))
#define nc_hv_list_owned(hv, fn, data) ((hv)->ops->list_owned((hv), (fn), (data)))

#endif
