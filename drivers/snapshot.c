/*
 * Domain snapshots through libvirt's snapshot API: internal qcow2
 * snapshots, each disk's state kept inside its own image (and the guest's
 * memory and devices with them when the domain runs), so that a snapshot
 * needs no file of its own, deleting one needs no merge, and reverting is
 * libvirt's own (libvirt 9.0 can neither delete nor revert external ones).
 * Each snapshot carries its owner mark in its description.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "drivers/error.h"
#include "drivers/lvconn.h"

/* Snapshot @snap of domain @name, or NULL with *ret_err set. */
static virDomainSnapshotPtr
snapshot_get(struct nc_hv *hv, const char *name, const char *snap, int *ret_err)
{
    virDomainPtr d = nc_lv_domain(hv, name, ret_err);
    virDomainSnapshotPtr s;

    if (!d)
        return NULL;
    /* Any libvirt call resets its last error: the reason is read first. */
    if (!(s = virDomainSnapshotLookupByName(d, snap, 0)))
        *ret_err = nc_lv_fail("look up snapshot", snap);
    virDomainFree(d);
    return s;
}

/* <domainsnapshot><name/><description/></domainsnapshot>, escaped by
 * libxml2's writer. */
static char *
snapshot_xml(const char *snap, const char *mark)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char *out = NULL;
    bool ok = w != NULL;

    ok = ok && xmlTextWriterStartElement(w, BAD_CAST "domainsnapshot") >= 0;
    ok = ok && xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST snap) >= 0;
    ok = ok && xmlTextWriterWriteElement(w, BAD_CAST "description", BAD_CAST mark) >= 0;
    ok = ok && xmlTextWriterEndDocument(w) >= 0;
    if (w)
        xmlFreeTextWriter(w);
    if (ok)
        out = strdup((const char *)xmlBufferContent(buf));
    if (buf)
        xmlBufferFree(buf);
    return out;
}

int
nc_lv_snapshot_create(struct nc_hv *hv, const char *name, const char *snap, const char *mark)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    virDomainSnapshotPtr s;
    char *xml;

    if (!d)
        return r;
    if (!(xml = snapshot_xml(snap, mark))) {
        virDomainFree(d);
        return nc_drv_fail(-ENOMEM, "snapshot %s: out of memory", name);
    }
    /* Atomic: all disks or none. A running domain's internal snapshot
     * always has its memory (QEMU's savevm). */
    s = virDomainSnapshotCreateXML(d, xml, VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC);
    if (!s)
        r = nc_lv_fail("take a snapshot of", name);
    else
        virDomainSnapshotFree(s);
    free(xml);
    virDomainFree(d);
    return r;
}

/* The text of element @tag directly under @root, or NULL (xmlFree it). */
static xmlChar *
child_text(xmlNodePtr root, const char *tag)
{
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST tag) == 0)
            return xmlNodeGetContent(n);
    return NULL;
}

int
nc_lv_snapshot_lookup(struct nc_hv *hv, const char *name, const char *snap,
                      struct nc_snapinfo *ret)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    virDomainSnapshotPtr s;
    xmlChar *state, *created, *mark;
    xmlDocPtr doc;
    char *xml;

    memset(ret, 0, sizeof(*ret));
    if (!d)
        return r;
    /* Any libvirt call resets its last error: the reason is read first. */
    s = virDomainSnapshotLookupByName(d, snap, 0);
    r = s ? 0 : nc_lv_fail("look up snapshot", snap);
    virDomainFree(d);
    if (!s)
        return r;
    xml = virDomainSnapshotGetXMLDesc(s, 0);
    r = xml ? 0 : nc_lv_fail("read snapshot", snap);
    virDomainSnapshotFree(s);
    if (!xml)
        return r;
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    free(xml);
    if (!doc)
        return nc_drv_fail(-EINVAL, "snapshot %s: libvirt's description does not parse", snap);
    state = child_text(xmlDocGetRootElement(doc), "state");
    created = child_text(xmlDocGetRootElement(doc), "creationTime");
    mark = child_text(xmlDocGetRootElement(doc), "description");
    ret->memory = state && (xmlStrcmp(state, BAD_CAST "running") == 0 ||
                            xmlStrcmp(state, BAD_CAST "paused") == 0);
    ret->created = created ? strtoll((const char *)created, NULL, 10) : 0;
    snprintf(ret->mark, sizeof(ret->mark), "%s", mark ? (const char *)mark : "");
    xmlFree(state);
    xmlFree(created);
    xmlFree(mark);
    xmlFreeDoc(doc);
    return 0;
}

int
nc_lv_snapshot_delete(struct nc_hv *hv, const char *name, const char *snap)
{
    int r = 0;
    virDomainSnapshotPtr s = snapshot_get(hv, name, snap, &r);

    if (!s)
        return r;
    /* Its children, if any, are kept: each internal snapshot stands on
     * its own in the images. */
    if (virDomainSnapshotDelete(s, 0) < 0)
        r = nc_lv_fail("delete snapshot", snap);
    virDomainSnapshotFree(s);
    return r;
}

int
nc_lv_snapshot_revert(struct nc_hv *hv, const char *name, const char *snap, bool paused)
{
    int r = 0;
    virDomainSnapshotPtr s = snapshot_get(hv, name, snap, &r);

    if (!s)
        return r;
    if (virDomainRevertToSnapshot(s, paused ? VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED : 0) < 0)
        r = nc_lv_fail("revert to snapshot", snap);
    virDomainSnapshotFree(s);
    return r;
}

int
nc_lv_snapshot_list(struct nc_hv *hv, const char *name,
                    void (*fn)(const char *snap, void *data), void *data)
{
    int r = 0, n;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    virDomainSnapshotPtr *snaps = NULL;

    if (!d)
        return r;
    n = virDomainListAllSnapshots(d, &snaps, 0);
    r = n < 0 ? nc_lv_fail("list the snapshots of", name) : 0;
    virDomainFree(d);
    if (n < 0)
        return r;
    for (int i = 0; i < n; i++) {
        fn(virDomainSnapshotGetName(snaps[i]), data);
        virDomainSnapshotFree(snaps[i]);
    }
    free(snaps);
    return 0;
}
