/*
 * A volume sent to another host's libvirtd through libvirt's storage
 * streams (virStorageVolDownload here, virStorageVolUpload there): what a
 * cold migration moves node-local disks with. The connection to the other
 * host is made from the node's network namespace, where its peers are.
 *
 * A reader thread receives chunks into a small ring while the caller's
 * thread sends them on, so that reading here and writing there overlap,
 * as they do in `virsh vol-download | virsh vol-upload`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#define CHUNK (1 << 20)
#define SLOTS 4

/* The chunks between the reader thread and the sender. */
struct ring {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    virStreamPtr in;
    const char *name;
    char *buf[SLOTS];
    int len[SLOTS];
    unsigned head, count; /* the oldest full slot, and how many are full */
    bool eof, stop;       /* the reader is done; the sender gave up */
    int err;              /* the reader's, with its reason in @why */
    char why[256];
};

static void *
reader(void *arg)
{
    struct ring *g = arg;

    pthread_mutex_lock(&g->lock);
    for (;;) {
        unsigned slot;
        int n;

        while (g->count == SLOTS && !g->stop)
            pthread_cond_wait(&g->cond, &g->lock);
        if (g->stop)
            break;
        slot = (g->head + g->count) % SLOTS;
        pthread_mutex_unlock(&g->lock);
        n = virStreamRecv(g->in, g->buf[slot], CHUNK);
        if (n < 0) {
            g->err = nc_lv_fail("read volume", g->name);
            snprintf(g->why, sizeof(g->why), "%s", nc_drv_errmsg());
        }
        pthread_mutex_lock(&g->lock);
        if (n <= 0)
            break;
        g->len[slot] = n;
        g->count++;
        pthread_cond_broadcast(&g->cond);
    }
    g->eof = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* Sends everything the reader receives to @out. 0, or a negative errno
 * with the reason recorded. */
static int
relay(struct ring *g, virStreamPtr out, const char *dest_name, uint64_t total,
      bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data, uint64_t *ret_sent)
{
    int64_t last = 0;
    int r = 0;

    for (;;) {
        unsigned slot;

        pthread_mutex_lock(&g->lock);
        while (g->count == 0 && !g->eof)
            pthread_cond_wait(&g->cond, &g->lock);
        if (g->count == 0) {
            pthread_mutex_unlock(&g->lock);
            break;
        }
        slot = g->head;
        pthread_mutex_unlock(&g->lock);
        for (int done = 0; done < g->len[slot] && r == 0;) {
            int w = virStreamSend(out, g->buf[slot] + done, (size_t)(g->len[slot] - done));

            if (w < 0)
                r = nc_lv_fail("write the target's volume", dest_name);
            else
                done += w;
        }
        if (r == 0)
            *ret_sent += (uint64_t)g->len[slot];
        if (r == 0 && nc_now_ms() - last >= 200) {
            last = nc_now_ms();
            if (!tick(data, *ret_sent, total))
                r = nc_drv_fail(-ECANCELED, "send %s: stopped", g->name);
        }
        pthread_mutex_lock(&g->lock);
        g->head = (g->head + 1) % SLOTS;
        g->count--;
        if (r < 0)
            g->stop = true;
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->lock);
        if (r < 0)
            return r;
    }
    if (g->err < 0)
        return nc_drv_fail(g->err, "%s", g->why);
    return 0;
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
    virConnectPtr here = nc_lv_conn(st->priv), there = NULL;
    virStorageVolPtr src = NULL, dst = NULL;
    virStreamPtr in = NULL, out = NULL;
    virStorageVolInfo info;
    uint64_t sent = 0;
    struct ring g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
                     .name = name};
    pthread_t thread;
    int r = 0;

    for (unsigned i = 0; i < SLOTS; i++)
        if (!(g.buf[i] = malloc(CHUNK)))
            r = -ENOMEM;
    if (!here || r < 0) {
        r = here ? nc_drv_fail(-ENOMEM, "send %s: out of memory", name) : -EIO;
        goto out;
    }
    if (!(there = open_from(peer_uri, netns)) ||
        !(src = vol_on(here, pool, name, "look up volume")) ||
        !(dst = vol_on(there, dest_pool, dest_name, "look up the target's volume"))) {
        r = -EIO;
        goto out;
    }
    if (virStorageVolGetInfo(src, &info) < 0) {
        r = nc_lv_fail("inspect volume", name);
        goto out;
    }
    if (!(in = virStreamNew(here, 0)) || !(out = virStreamNew(there, 0)) ||
        virStorageVolDownload(src, in, 0, 0, 0) < 0 || virStorageVolUpload(dst, out, 0, 0, 0) < 0) {
        r = nc_lv_fail("open the streams of volume", name);
        goto out;
    }
    g.in = in;
    if ((r = -pthread_create(&thread, NULL, reader, &g)) < 0) {
        nc_drv_fail(r, "send %s: cannot start a thread: %s", name, strerror(-r));
    } else {
        r = relay(&g, out, dest_name, info.allocation, tick, data, &sent);
        pthread_join(thread, NULL);
    }
    if (r == 0 && (virStreamFinish(in) < 0 || virStreamFinish(out) < 0))
        r = nc_lv_fail("finish sending volume", name);
    if (r < 0) {
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
    for (unsigned i = 0; i < SLOTS; i++)
        free(g.buf[i]);
    return r;
}
