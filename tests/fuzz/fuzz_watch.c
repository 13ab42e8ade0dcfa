/* The etcd watch stream as it arrives: lines of JSON (headers, events
 * with base64 keys and values, cancellations), in pieces cut anywhere.
 * The first byte says where the input is cut in two. */
#include "fuzz.h"

#include "core/log.h"
#include "core/watchpriv.h"

static size_t events;

static void
on_event(void *data, const struct nc_kv *kv, bool deleted)
{
    (void)data, (void)deleted;
    FUZZ_ASSERT(kv->key);
    events++;
}

static void
on_compacted(void *data, int64_t rev)
{
    (void)data, (void)rev;
}

static void
on_rewound(void *data)
{
    (void)data;
}

static const struct nc_watch_ops ops = {on_event, on_compacted, on_rewound};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_base *base;
    static struct nc_etcd_conf conf;
    struct nc_watch *w;
    size_t cut;

    if (!base) {
        nc_log_set_level(NC_LOG_ERROR);
        base = event_base_new();
    }
    if (size < 1 || !(w = nc_watch_new(base, &conf, "/novacron/", &ops, NULL)))
        return 0;
    cut = size > 1 ? data[0] % size : 0;
    data++, size--;
    cut = cut > size ? size : cut;
    if (nc_watch_feed(w, (const char *)data, cut) == cut)
        nc_watch_feed(w, (const char *)data + cut, size - cut);
    nc_watch_free(w);
    return 0;
}
