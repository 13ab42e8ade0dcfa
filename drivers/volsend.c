/*
 * A volume sent to another host's libvirtd through libvirt's storage
 * streams (virStorageVolDownload here, virStorageVolUpload there): what a
 * cold migration moves node-local disks with. The connection to the other
 * host is made from the node's network namespace, where its peers are.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "core/clock.h"
#include "drivers/error.h"
#include "drivers/lvconn.h"
#include "drivers/storage.h"

/* A libvirt stream message carries at most 256 KiB of data. */
#define CHUNK (256 * 1024)

/* Sends everything @in receives to @out, with @tick told every 200 ms. 0,
 * or a negative errno with the reason recorded. */
static int
relay(virStreamPtr in, virStreamPtr out, const char *name, const char *dest_name,
      uint64_t total, bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data,
      uint64_t *ret_sent)
{
    char *buf = malloc(CHUNK);
    int64_t last = 0;
    int n, r = 0;

    if (!buf)
        return nc_drv_fail(-ENOMEM, "send %s: out of memory", name);
    while (r == 0 && (n = virStreamRecv(in, buf, CHUNK)) != 0) {
        if (n < 0) {
            r = nc_lv_fail("read volume", name);
            break;
        }
        for (int done = 0; done < n && r == 0;) {
            int w = virStreamSend(out, buf + done, (size_t)(n - done));

            if (w < 0)
                r = nc_lv_fail("write the target's volume", dest_name);
            else
                done += w;
        }
        if (r == 0)
            *ret_sent += (uint64_t)n;
        if (r == 0 && nc_now_ms() - last >= 200) {
            last = nc_now_ms();
            if (!tick(data, *ret_sent, total))
                r = nc_drv_fail(-ECANCELED, "send %s: stopped", name);
        }
    }
    free(buf);
    return r;
}

/* Opens @uri from network namespace @netns (NULL: this one): a socket
 * belongs to the namespace it was made in. NULL after recording why. */
static virConnectPtr
open_from(const char *uri, const char *netns)
{
    int home = -1, target = -1;
    virConnectPtr c = NULL;
    char path[256];

    if (netns) {
        snprintf(path, sizeof(path), "/run/netns/%s", netns);
        home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        target = open(path, O_RDONLY | O_CLOEXEC);
        if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) {
            nc_drv_fail(-errno, "enter network namespace %s: %s", netns, strerror(errno));
            goto out;
        }
    }
    if (!(c = virConnectOpen(uri)))
        nc_lv_fail("connect to", uri);
    if (netns && setns(home, CLONE_NEWNET) < 0) {
        /* This thread cannot be trusted in the wrong namespace. */
        nc_drv_fail(-errno, "return from network namespace %s: %s", netns, strerror(errno));
        abort();
    }
out:
    if (home >= 0)
        close(home);
    if (target >= 0)
        close(target);
    return c;
}

static virStorageVolPtr
vol_on(virConnectPtr c, const char *pool, const char *name, const char *where)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(c, pool);
    virStorageVolPtr v = p ? virStorageVolLookupByName(p, name) : NULL;

    if (!v)
        nc_lv_fail(where, name);
    if (p)
        virStoragePoolFree(p);
    return v;
}

int
nc_lv_st_send(struct nc_st *st, const char *pool, const char *name, const char *peer_uri,
              const char *netns, const char *dest_pool, const char *dest_name,
              bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data)
{
    virConnectPtr here = NULL, there = NULL;
    virStorageVolPtr src = NULL, dst = NULL;
    virStreamPtr in = NULL, out = NULL;
    virStorageVolInfo info;
    uint64_t sent = 0;
    int r = -EIO;

    /* Connections of its own at both ends: on the daemon's shared one, the
     * stream's messages would wait behind every other call and event. */
    if (!(here = nc_lv_conn_new(st->priv)) || !(there = open_from(peer_uri, netns)) ||
        !(src = vol_on(here, pool, name, "look up volume")) ||
        !(dst = vol_on(there, dest_pool, dest_name, "look up the target's volume")))
        goto out;
    if (virStorageVolGetInfo(src, &info) < 0) {
        r = nc_lv_fail("inspect volume", name);
        goto out;
    }
    if (!(in = virStreamNew(here, 0)) || !(out = virStreamNew(there, 0)) ||
        virStorageVolDownload(src, in, 0, 0, 0) < 0 || virStorageVolUpload(dst, out, 0, 0, 0) < 0) {
        r = nc_lv_fail("open the streams of volume", name);
    } else {
        r = relay(in, out, name, dest_name, info.allocation, tick, data, &sent);
        if (r == 0 && (virStreamFinish(in) < 0 || virStreamFinish(out) < 0))
            r = nc_lv_fail("finish sending volume", name);
    }
    if (r < 0) {
        /* Either may have been opened: a download left open holds the
         * volume on this side's libvirtd. */
        if (in)
            virStreamAbort(in);
        if (out)
            virStreamAbort(out);
    } else {
        tick(data, sent, sent);
    }
out:
    if (in)
        virStreamFree(in);
    if (out)
        virStreamFree(out);
    if (src)
        virStorageVolFree(src);
    if (dst)
        virStorageVolFree(dst);
    if (there)
        virConnectClose(there);
    if (here)
        virConnectClose(here);
    return r;
}
