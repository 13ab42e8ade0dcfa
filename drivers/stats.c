/*
 * Every domain's statistics in one libvirt call
 * (virConnectGetAllDomainStats), as /metrics serves them: a scrape costs
 * one round trip to libvirtd whatever the number of domains, never one
 * call per domain. libvirt's LXC driver has no such call: there, each
 * domain's virDomainGetInfo (its CPU time and its cgroup's memory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "drivers/error.h"
#include "drivers/lvconn.h"

static uint64_t
ull(const virDomainStatsRecord *r, const char *fmt, unsigned i)
{
    unsigned long long v = 0;
    char name[64];

    snprintf(name, sizeof(name), fmt, i);
    virTypedParamsGetULLong(r->params, r->nparams, name, &v);
    return v;
}

static void
str(const virDomainStatsRecord *r, const char *fmt, unsigned i, char *buf, size_t size)
{
    const char *v = NULL;
    char name[64];

    snprintf(name, sizeof(name), fmt, i);
    virTypedParamsGetString(r->params, r->nparams, name, &v);
    snprintf(buf, size, "%s", v ? v : "");
}

static enum nc_dom_state
state_of(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING: return NC_DOM_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED: return NC_DOM_PAUSED;
    case VIR_DOMAIN_SHUTDOWN: return NC_DOM_SHUTTING_DOWN;
    case VIR_DOMAIN_CRASHED: return NC_DOM_CRASHED;
    default: return NC_DOM_SHUTOFF;
    }
}

static void
fill(const virDomainStatsRecord *r, struct nc_domstats *st)
{
    unsigned long long v;
    unsigned count = 0;
    int state = VIR_DOMAIN_SHUTOFF;

    memset(st, 0, sizeof(*st));
    st->name = virDomainGetName(r->dom);
    virTypedParamsGetInt(r->params, r->nparams, "state.state", &state);
    st->state = state_of(state);
    st->has_vcpus = virTypedParamsGetUInt(r->params, r->nparams, "vcpu.current", &st->vcpus) == 1;
    if (virTypedParamsGetULLong(r->params, r->nparams, "cpu.time", &v) == 1) {
        st->has_cpu = true;
        st->cpu_time_ns = v;
    }
    if (virTypedParamsGetULLong(r->params, r->nparams, "balloon.current", &v) == 1) {
        st->has_balloon = true;
        st->memory_actual_kib = v;
        if (virTypedParamsGetULLong(r->params, r->nparams, "balloon.maximum", &v) == 1)
            st->memory_max_kib = v;
        if (virTypedParamsGetULLong(r->params, r->nparams, "balloon.rss", &v) == 1)
            st->memory_rss_kib = v;
    }
    virTypedParamsGetUInt(r->params, r->nparams, "block.count", &count);
    for (unsigned i = 0; i < count && st->n_disks < NC_STATS_MAX_DEVS; i++) {
        struct nc_blockstats *b = &st->disks[st->n_disks++];

        str(r, "block.%u.name", i, b->dev, sizeof(b->dev));
        str(r, "block.%u.path", i, b->path, sizeof(b->path));
        b->rd_bytes = ull(r, "block.%u.rd.bytes", i);
        b->wr_bytes = ull(r, "block.%u.wr.bytes", i);
        b->rd_reqs = ull(r, "block.%u.rd.reqs", i);
        b->wr_reqs = ull(r, "block.%u.wr.reqs", i);
    }
    count = 0;
    virTypedParamsGetUInt(r->params, r->nparams, "net.count", &count);
    for (unsigned i = 0; i < count && st->n_nets < NC_STATS_MAX_DEVS; i++) {
        struct nc_netstats *n = &st->nets[st->n_nets++];

        str(r, "net.%u.name", i, n->dev, sizeof(n->dev));
        n->rx_bytes = ull(r, "net.%u.rx.bytes", i);
        n->tx_bytes = ull(r, "net.%u.tx.bytes", i);
        n->rx_pkts = ull(r, "net.%u.rx.pkts", i);
        n->tx_pkts = ull(r, "net.%u.tx.pkts", i);
        n->rx_drop = ull(r, "net.%u.rx.drop", i);
        n->tx_drop = ull(r, "net.%u.tx.drop", i);
        n->rx_errs = ull(r, "net.%u.rx.errs", i);
        n->tx_errs = ull(r, "net.%u.tx.errs", i);
    }
}

/* One virDomainGetInfo per domain, where there is no bulk call. */
static int
stats_by_domain(virConnectPtr c, struct nc_domstats *st,
                void (*fn)(const struct nc_domstats *st, void *data), void *data)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c, &doms, 0);

    if (n < 0)
        return nc_lv_fail("list the domains of", "libvirt");
    for (int i = 0; i < n; i++) {
        virDomainInfo info;

        if (virDomainGetInfo(doms[i], &info) == 0) {
            memset(st, 0, sizeof(*st));
            st->name = virDomainGetName(doms[i]);
            st->state = state_of(info.state);
            st->vcpus = info.nrVirtCpu;
            st->has_vcpus = st->has_cpu = st->has_balloon = true;
            st->cpu_time_ns = info.cpuTime;
            st->memory_max_kib = info.maxMem;
            st->memory_actual_kib = st->memory_rss_kib = info.memory;
            fn(st, data);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return 0;
}

int
nc_lv_stats(struct nc_hv *hv, void (*fn)(const struct nc_domstats *st, void *data), void *data)
{
    virConnectPtr c = nc_lv_conn(hv);
    virDomainStatsRecordPtr *records = NULL;
    struct nc_domstats *st;
    int n;

    if (!c)
        return -EIO;
    if (!(st = malloc(sizeof(*st)))) {
        virConnectClose(c);
        return nc_drv_fail(-ENOMEM, "domain statistics: out of memory");
    }
    n = virConnectGetAllDomainStats(c,
                                    VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                                        VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                                        VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK,
                                    &records, 0);
    if (n < 0 && virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
        n = stats_by_domain(c, st, fn, data);
    } else if (n < 0) {
        n = nc_lv_fail("read the domain statistics of", "libvirt");
    } else {
        for (int i = 0; i < n; i++) {
            fill(records[i], st);
            fn(st, data);
        }
        n = 0;
    }
    virDomainStatsRecordListFree(records);
    free(st);
    virConnectClose(c);
    return n;
}
