#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "drivers/error.h"
#include "drivers/lvconn.h"
#include "drivers/storage.h"

static virStoragePoolPtr
pool_get(struct nc_st *st, const char *pool, int *ret_err)
{
    virConnectPtr c = nc_lv_conn(st->priv);
    virStoragePoolPtr p;

    if (!c) {
        *ret_err = -EIO;
        return NULL;
    }
    p = virStoragePoolLookupByName(c, pool);
    if (!p)
        *ret_err = nc_lv_fail("look up storage pool", pool);
    virConnectClose(c);
    return p;
}

static virStorageVolPtr
vol_get(struct nc_st *st, const char *pool, const char *name, int *ret_err)
{
    virStoragePoolPtr p = pool_get(st, pool, ret_err);
    virStorageVolPtr v;

    if (!p)
        return NULL;
    v = virStorageVolLookupByName(p, name);
    if (!v)
        *ret_err = nc_lv_fail("look up volume", name);
    virStoragePoolFree(p);
    return v;
}

static int
lv_st_pool_check(struct nc_st *st, const char *pool)
{
    int r = 0;
    virStoragePoolPtr p = pool_get(st, pool, &r);

    if (!p)
        return r;
    r = virStoragePoolIsActive(p);
    virStoragePoolFree(p);
    if (r < 0)
        return nc_lv_fail("check storage pool", pool);
    return r ? 0 : nc_drv_fail(-ENODEV, "storage pool %s is not active", pool);
}

/* The text of the first element @name (a path like "target/format") in
 * @doc's root, or of its attribute @attr; "" when absent. */
static void
xml_get(xmlDocPtr doc, const char *const *path, const char *attr, char *buf, size_t bufsz)
{
    xmlNodePtr n = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlChar *v;

    buf[0] = '\0';
    for (; n && *path; path++) {
        for (n = n->children; n; n = n->next)
            if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST * path) == 0)
                break;
    }
    if (!n)
        return;
    v = attr ? xmlGetProp(n, BAD_CAST attr) : xmlNodeGetContent(n);
    if (v)
        snprintf(buf, bufsz, "%s", (const char *)v);
    xmlFree(v);
}

static int
lv_st_lookup(struct nc_st *st, const char *pool, const char *name, struct nc_volinfo *ret)
{
    static const char *const format[] = {"target", "format", NULL};
    static const char *const backing[] = {"backingStore", "path", NULL};
    int r = 0;
    virStorageVolPtr v = vol_get(st, pool, name, &r);
    virStorageVolInfo info;
    char *xml, *path;
    xmlDocPtr doc;

    memset(ret, 0, sizeof(*ret));
    if (!v)
        return r;
    if (virStorageVolGetInfo(v, &info) < 0 || !(path = virStorageVolGetPath(v)) ||
        !(xml = virStorageVolGetXMLDesc(v, 0))) {
        r = nc_lv_fail("describe volume", name);
        virStorageVolFree(v);
        return r;
    }
    ret->capacity = info.capacity;
    ret->allocation = info.allocation;
    snprintf(ret->path, sizeof(ret->path), "%s", path);
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
    xml_get(doc, format, "type", ret->format, sizeof(ret->format));
    xml_get(doc, backing, NULL, ret->backing, sizeof(ret->backing));
    xmlFreeDoc(doc);
    free(xml);
    free(path);
    virStorageVolFree(v);
    return 0;
}

/* <volume><name/><capacity/><allocation/><target><format/></target>
 * [<backingStore><path/><format/></backingStore>]</volume>, escaped by
 * libxml2. */
static int
vol_xml(const char *name, const char *format, uint64_t capacity, const char *backing,
        const char *backing_format, char **ret)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char num[32];
    int ok = w != NULL;

    snprintf(num, sizeof(num), "%" PRIu64, capacity);
    ok = ok && xmlTextWriterStartElement(w, BAD_CAST "volume") >= 0;
    ok = ok && xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST name) >= 0;
    ok = ok && xmlTextWriterStartElement(w, BAD_CAST "capacity") >= 0;
    ok = ok && xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "bytes") >= 0;
    ok = ok && xmlTextWriterWriteString(w, BAD_CAST num) >= 0;
    ok = ok && xmlTextWriterEndElement(w) >= 0;
    ok = ok && xmlTextWriterWriteElement(w, BAD_CAST "allocation", BAD_CAST "0") >= 0;
    ok = ok && xmlTextWriterStartElement(w, BAD_CAST "target") >= 0;
    ok = ok && xmlTextWriterStartElement(w, BAD_CAST "format") >= 0;
    ok = ok && xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST format) >= 0;
    ok = ok && xmlTextWriterEndElement(w) >= 0 && xmlTextWriterEndElement(w) >= 0;
    if (backing) {
        ok = ok && xmlTextWriterStartElement(w, BAD_CAST "backingStore") >= 0;
        ok = ok && xmlTextWriterWriteElement(w, BAD_CAST "path", BAD_CAST backing) >= 0;
        ok = ok && xmlTextWriterStartElement(w, BAD_CAST "format") >= 0;
        ok = ok && xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST backing_format) >= 0;
        ok = ok && xmlTextWriterEndElement(w) >= 0 && xmlTextWriterEndElement(w) >= 0;
    }
    ok = ok && xmlTextWriterEndElement(w) >= 0 && xmlTextWriterEndDocument(w) >= 0;
    if (w)
        xmlFreeTextWriter(w);
    *ret = ok ? strdup((const char *)xmlBufferContent(buf)) : NULL;
    if (buf)
        xmlBufferFree(buf);
    return *ret ? 0 : nc_drv_fail(-EINVAL, "cannot write the XML of volume %s", name);
}

static int
lv_st_create(struct nc_st *st, const char *pool, const char *name, const char *format,
             uint64_t capacity, const char *backing, const char *backing_format)
{
    int r = 0;
    virStoragePoolPtr p = pool_get(st, pool, &r);
    virStorageVolPtr v;
    char *xml;

    if (!p)
        return r;
    r = vol_xml(name, format, capacity, backing, backing_format, &xml);
    if (r == 0) {
        v = virStorageVolCreateXML(p, xml, 0);
        if (v)
            virStorageVolFree(v);
        else
            r = nc_lv_fail("create volume", name);
        free(xml);
    }
    virStoragePoolFree(p);
    return r;
}

static int
lv_st_clone(struct nc_st *st, const char *pool, const char *name, const char *format,
            uint64_t capacity, const char *src_pool, const char *src_name)
{
    int r = 0;
    virStorageVolPtr src = vol_get(st, src_pool, src_name, &r), v;
    virStoragePoolPtr p;
    char *xml;

    if (!src)
        return r;
    p = pool_get(st, pool, &r);
    if (p && (r = vol_xml(name, format, capacity, NULL, NULL, &xml)) == 0) {
        v = virStorageVolCreateXMLFrom(p, xml, src, 0);
        if (v)
            virStorageVolFree(v);
        else
            r = nc_lv_fail("clone volume", name);
        free(xml);
    }
    if (p)
        virStoragePoolFree(p);
    virStorageVolFree(src);
    return r;
}

static int
lv_st_resize(struct nc_st *st, const char *pool, const char *name, uint64_t capacity)
{
    int r = 0;
    virStorageVolPtr v = vol_get(st, pool, name, &r);

    if (!v)
        return r;
    if (virStorageVolResize(v, capacity, 0) < 0)
        r = nc_lv_fail("resize volume", name);
    virStorageVolFree(v);
    return r;
}

static int
lv_st_delete(struct nc_st *st, const char *pool, const char *name)
{
    int r = 0;
    virStorageVolPtr v = vol_get(st, pool, name, &r);

    if (!v)
        return r;
    if (virStorageVolDelete(v, 0) < 0)
        r = nc_lv_fail("delete volume", name);
    virStorageVolFree(v);
    return r;
}

/* Calls @fn with every active pool (@fn returns 0, or an error that ends
 * the walk's result but not the walk). */
static int
each_pool(struct nc_st *st, int (*fn)(virStoragePoolPtr pool, void *data), void *data)
{
    virConnectPtr c = nc_lv_conn(st->priv);
    virStoragePoolPtr *pools = NULL;
    int n, r = 0;

    if (!c)
        return -EIO;
    n = virConnectListAllStoragePools(c, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    if (n < 0)
        r = nc_lv_fail("list storage pools of", virConnectGetURI(c));
    for (int i = 0; i < n; i++) {
        int e = fn(pools[i], data);

        r = e < 0 ? e : r;
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    virConnectClose(c);
    return r;
}

struct walk {
    void (*vol_fn)(const char *pool, const char *name, void *data);
    void (*pool_fn)(const char *pool, void *data);
    void *data;
};

static int
on_pool_volumes(virStoragePoolPtr pool, void *data)
{
    struct walk *w = data;
    virStorageVolPtr *vols = NULL;
    int m = virStoragePoolListAllVolumes(pool, &vols, 0);

    for (int j = 0; j < m; j++) {
        w->vol_fn(virStoragePoolGetName(pool), virStorageVolGetName(vols[j]), w->data);
        virStorageVolFree(vols[j]);
    }
    free(vols);
    return m < 0 ? nc_lv_fail("list volumes of", virStoragePoolGetName(pool)) : 0;
}

static int
on_pool(virStoragePoolPtr pool, void *data)
{
    struct walk *w = data;

    w->pool_fn(virStoragePoolGetName(pool), w->data);
    return 0;
}

static int
lv_st_list(struct nc_st *st, void (*fn)(const char *pool, const char *name, void *data),
           void *data)
{
    struct walk w = {.vol_fn = fn, .data = data};

    return each_pool(st, on_pool_volumes, &w);
}

static int
lv_st_pools(struct nc_st *st, void (*fn)(const char *pool, void *data), void *data)
{
    struct walk w = {.pool_fn = fn, .data = data};

    return each_pool(st, on_pool, &w);
}

int
nc_st_image_format(const char *path, const char **ret_format)
{
    static const unsigned char qcow[4] = {'Q', 'F', 'I', 0xfb};
    unsigned char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    ssize_t n;

    if (fd < 0)
        return nc_drv_fail(-errno, "open image %s: %s", path, strerror(errno));
    n = read(fd, magic, sizeof(magic));
    close(fd);
    if (n < 0)
        return nc_drv_fail(-EIO, "read image %s: %s", path, strerror(errno));
    *ret_format = n == 4 && memcmp(magic, qcow, 4) == 0 ? "qcow2" : "raw";
    return 0;
}

static void
lv_st_close(struct nc_st *st)
{
    free(st);
}

static const struct nc_st_ops libvirt_st_ops = {
    .close = lv_st_close,
    .pool_check = lv_st_pool_check,
    .lookup = lv_st_lookup,
    .create = lv_st_create,
    .clone = lv_st_clone,
    .resize = lv_st_resize,
    .delete = lv_st_delete,
    .list = lv_st_list,
    .pools = lv_st_pools,
    .send = nc_lv_st_send,
};

int
nc_st_libvirt_open(struct nc_hv *hv, struct nc_st **ret_st)
{
    struct nc_st *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->ops = &libvirt_st_ops;
    st->priv = hv;
    *ret_st = st;
    return 0;
}
