/*
 * Live migration through libvirt, peer to peer: the source's libvirtd dials
 * the target's and drives the whole job itself, so the job goes on (and
 * ends with exactly one running copy) even when novacrond dies meanwhile.
 * virDomainMigrateToURI3() blocks for the whole job; it runs on a thread
 * of its own while the caller's thread reads the job's figures and can
 * abort it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "drivers/error.h"
#include "drivers/lvconn.h"

struct job_thread {
    virDomainPtr dom;
    const char *uri;
    virTypedParameterPtr params;
    int n_params;
    unsigned flags;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;  /* guarded by lock */
    int result; /* virDomainMigrateToURI3()'s */
    char error[512];
};

static void *
run_job(void *arg)
{
    struct job_thread *j = arg;
    int r = virDomainMigrateToURI3(j->dom, j->uri, j->params, j->n_params, j->flags);
    virErrorPtr e = r < 0 ? virGetLastError() : NULL;

    pthread_mutex_lock(&j->lock);
    j->result = r;
    if (r < 0)
        snprintf(j->error, sizeof(j->error), "%s",
                 e && e->message ? e->message : "unknown libvirt error");
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Waits up to @ms for the job thread to finish; true when it has. */
static bool
wait_done(struct job_thread *j, unsigned ms)
{
    struct timespec until;
    bool done;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->done && pthread_cond_timedwait(&j->cond, &j->lock, &until) == 0)
        ;
    done = j->done;
    pthread_mutex_unlock(&j->lock);
    return done;
}

static uint64_t
ull(virTypedParameterPtr p, int n, const char *name)
{
    unsigned long long v = 0;

    return virTypedParamsGetULLong(p, n, name, &v) == 1 ? v : 0;
}

static int
job_of(virDomainPtr d, const char *name, bool completed, struct nc_job *ret)
{
    virTypedParameterPtr p = NULL;
    int n = 0, type;
    unsigned flags = completed ? VIR_DOMAIN_JOB_STATS_COMPLETED |
                                     VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED
                               : 0;

    memset(ret, 0, sizeof(*ret));
    if (virDomainGetJobStats(d, &type, &p, &n, flags) < 0)
        return nc_lv_fail("read the job of", name);
    if (completed && type != VIR_DOMAIN_JOB_COMPLETED) {
        virTypedParamsFree(p, n);
        return nc_drv_fail(-ENOENT, "job of %s: none completed", name);
    }
    ret->active = type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED;
    ret->elapsed_ms = ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
    ret->data_processed = ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
    ret->data_remaining = ull(p, n, VIR_DOMAIN_JOB_DATA_REMAINING);
    ret->data_total = ull(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
    ret->memory_iterations = ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
    ret->downtime_ms = ull(p, n, VIR_DOMAIN_JOB_DOWNTIME);
    virTypedParamsFree(p, n);
    return 0;
}

/* @dom's definition (live, or with @flags VIR_DOMAIN_XML_INACTIVE the
 * persistent one) as it is to be on the target: each disk file
 * p->disk_from[i] replaced by p->disk_to[i]. NULL after recording why. */
static char *
target_xml(virDomainPtr dom, const char *name, const struct nc_migrate_params *p,
           unsigned flags)
{
    char *xml = virDomainGetXMLDesc(dom, flags | VIR_DOMAIN_XML_MIGRATABLE), *out = NULL;
    xmlDocPtr doc;
    xmlNodePtr devs = NULL, n;
    unsigned replaced = 0;
    xmlChar *buf = NULL;
    int len = 0;

    if (!xml) {
        nc_lv_fail("read the definition of", name);
        return NULL;
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    free(xml);
    if (!doc) {
        nc_drv_fail(-EINVAL, "migrate %s: libvirt's definition does not parse", name);
        return NULL;
    }
    for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "devices") == 0)
            devs = n;
    for (n = devs ? devs->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "disk") != 0)
            continue;
        for (xmlNodePtr src = n->children; src; src = src->next) {
            xmlChar *file;

            if (src->type != XML_ELEMENT_NODE || xmlStrcmp(src->name, BAD_CAST "source") != 0 ||
                !(file = xmlGetProp(src, BAD_CAST "file")))
                continue;
            for (unsigned i = 0; i < p->n_disks; i++) {
                if (strcmp((const char *)file, p->disk_from[i]) == 0) {
                    xmlSetProp(src, BAD_CAST "file", BAD_CAST p->disk_to[i]);
                    replaced++;
                    break;
                }
            }
            xmlFree(file);
        }
    }
    if (replaced != p->n_disks) {
        nc_drv_fail(-EINVAL, "migrate %s: %u of its %u disks to copy are not in its definition",
                    name, p->n_disks - replaced, p->n_disks);
    } else {
        xmlDocDumpMemory(doc, &buf, &len);
        if (buf)
            out = strdup((const char *)buf);
        if (!out)
            nc_drv_fail(-ENOMEM, "migrate %s: out of memory", name);
    }
    xmlFree(buf);
    xmlFreeDoc(doc);
    return out;
}

int
nc_lv_job(struct nc_hv *hv, const char *name, bool completed, struct nc_job *ret)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);

    if (!d)
        return r;
    r = job_of(d, name, completed, ret);
    virDomainFree(d);
    return r;
}

int
nc_lv_migrate(struct nc_hv *hv, const char *name, const struct nc_migrate_params *p,
              unsigned tick_ms, bool (*tick)(void *data, const struct nc_job *job), void *data)
{
    struct job_thread j = {
        .uri = p->dest_uri,
        .flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                 VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_AUTO_CONVERGE |
                 (p->copy_storage ? VIR_MIGRATE_NON_SHARED_DISK : 0),
        .lock = PTHREAD_MUTEX_INITIALIZER,
    };
    int max_params = 0, r = 0;
    char *dest_xml = NULL, *persist_xml = NULL;
    bool aborted = false;
    pthread_condattr_t ca;
    pthread_t thread;

    if (!(j.dom = nc_lv_domain(hv, name, &r)))
        return r;
    if (p->bandwidth_mibps &&
        virTypedParamsAddULLong(&j.params, &j.n_params, &max_params, VIR_MIGRATE_PARAM_BANDWIDTH,
                                p->bandwidth_mibps) < 0) {
        r = nc_lv_fail("set the bandwidth of", name);
        goto out;
    }
    if (p->n_disks &&
        (!(dest_xml = target_xml(j.dom, name, p, 0)) ||
         !(persist_xml = target_xml(j.dom, name, p, VIR_DOMAIN_XML_INACTIVE)))) {
        r = -EINVAL;
        goto out;
    }
    if (dest_xml &&
        (virTypedParamsAddString(&j.params, &j.n_params, &max_params,
                                 VIR_MIGRATE_PARAM_DEST_XML, dest_xml) < 0 ||
         virTypedParamsAddString(&j.params, &j.n_params, &max_params,
                                 VIR_MIGRATE_PARAM_PERSIST_XML, persist_xml) < 0)) {
        r = nc_lv_fail("set the target definition of", name);
        goto out;
    }
    if (p->max_downtime_ms && virDomainMigrateSetMaxDowntime(j.dom, p->max_downtime_ms, 0) < 0) {
        r = nc_lv_fail("set the maximum downtime of", name);
        goto out;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j.cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((r = pthread_create(&thread, NULL, run_job, &j)) != 0) {
        pthread_cond_destroy(&j.cond);
        r = nc_drv_fail(-r, "migrate %s: cannot start a thread", name);
        goto out;
    }
    while (!wait_done(&j, tick_ms)) {
        struct nc_job now;

        if (aborted || job_of(j.dom, name, false, &now) < 0 || !now.active)
            continue;
        if (!tick(data, &now)) {
            /* The job ends with an error the thread reports. */
            if (virDomainAbortJob(j.dom) == 0)
                aborted = true;
        }
    }
    pthread_join(thread, NULL);
    pthread_cond_destroy(&j.cond);
    if (j.result < 0)
        r = nc_drv_fail(aborted ? -ECANCELED : -EIO, "migrate %s to %s: %s", name, p->dest_uri,
                        aborted ? "aborted" : j.error);
out:
    free(dest_xml);
    free(persist_xml);
    virTypedParamsFree(j.params, j.n_params);
    virDomainFree(j.dom);
    return r;
}
