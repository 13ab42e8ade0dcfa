/*
 * The container runtime through Podman's REST API (libpod endpoints, the
 * version Debian 12's Podman 4.3 serves), with libcurl on the service's
 * unix socket: no `podman` is run. Each call is a request of its own, so
 * calls from several workers never share a handle.
 *
 * A container is made from a definition and cannot be changed, where a
 * libvirt domain's definition can while it runs. So a definition given
 * for a running container waits here (pending) and replaces the container
 * at its next start, as libvirt's persistent definition does; lookup
 * reports it as the persistent one. A restart of novacrond forgets it,
 * and the reconciler, finding the old mark, defines it again.
 *
 * Containers run with a network namespace of their own and no network
 * (nsmode "none"): at each start, every interface of the definition (kept
 * in a label) becomes a veth whose host end is the interface's tap, left
 * in this namespace for the reconciler to put on its Network's bridge,
 * and whose other end, in the container, gets the MAC and the address.
 * A container started by someone else (podman restart) has a new network
 * namespace without them: lookup sees its new pid and makes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <uthash.h>

#include "drivers/error.h"
#include "drivers/podman.h"

#define API "http://d/v4.0.0/libpod"
#define CALL_TIMEOUT_S 60

/* What this process keeps of a container of ours, by its name. */
struct ctr {
    char name[256];
    char *pending;          /* the create request of a definition given while it ran */
    struct nc_owner owner;  /* that definition's mark */
    unsigned plumbed_pid;   /* its pid when we last made its interfaces, 0 if never */
    UT_hash_handle hh;
};

struct pm {
    char *socket;
    pthread_mutex_t lock; /* @ctrs */
    struct ctr *ctrs;
    pthread_t events;
    bool events_started;
    atomic_bool stop;
    void (*changed)(void *data, const char *name);
    void (*reconnected)(void *data);
    void *data;
};

#define fail nc_drv_fail

struct buf {
    char *p;
    size_t n;
};

static size_t
on_data(char *d, size_t size, size_t n, void *u)
{
    struct buf *b = u;
    char *p;

    if (!(p = realloc(b->p, b->n + size * n + 1)))
        return 0;
    memcpy(p + b->n, d, size * n);
    b->n += size * n;
    p[b->n] = '\0';
    b->p = p;
    return size * n;
}

static CURL *
handle(const struct pm *pm, const char *path)
{
    char url[1024];
    CURL *c = curl_easy_init();

    if (!c)
        return NULL;
    snprintf(url, sizeof(url), API "%s", path);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, pm->socket);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return c;
}

/* Podman's "cause" of a failed image lookup: the image is not here. */
#define NO_IMAGE "image not known"

/*
 * @method @path with JSON @body (or none). 0 with the answer in *@ret (when
 * not NULL, NULL for an empty one); or -ENOENT (404), -EBUSY (409),
 * -ENOMEDIUM (an image that is not here), -EIO, with Podman's message
 * after @what (what was asked: the path will do).
 */
static int
call(struct pm *pm, const char *what, const char *method, const char *path, const char *body,
     cJSON **ret)
{
    struct curl_slist *hdr = NULL;
    struct buf b = {0};
    CURL *c = handle(pm, path);
    long status = 0;
    CURLcode cr;
    int r = 0;

    if (ret)
        *ret = NULL;
    if (!c)
        return fail(-ENOMEM, "%s: out of memory", what);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CALL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body) {
        hdr = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    if ((cr = curl_easy_perform(c)) != CURLE_OK) {
        r = fail(-EIO, "%s: podman at %s: %s", what, pm->socket, curl_easy_strerror(cr));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) {
        cJSON *err = b.p ? cJSON_Parse(b.p) : NULL;
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(err, "message"));
        const char *cause = cJSON_GetStringValue(cJSON_GetObjectItem(err, "cause"));

        r = status == 404 ? -ENOENT : status == 409 ? -EBUSY : -EIO;
        if (cause && strcmp(cause, NO_IMAGE) == 0)
            r = -ENOMEDIUM;
        r = fail(r, "%s: podman: %s", what, msg ? msg : "an error without a message");
        cJSON_Delete(err);
        goto out;
    }
    if (ret && b.p && b.n && !(*ret = cJSON_Parse(b.p)))
        r = fail(-EIO, "%s: podman: an answer that is not JSON", what);
out:
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    free(b.p);
    return r;
}

/* @name's entry, made when @make; with pm->lock held. NULL when there is
 * none, or out of memory. */
static struct ctr *
ctr_of(struct pm *pm, const char *name, bool make)
{
    struct ctr *c;

    HASH_FIND_STR(pm->ctrs, name, c);
    if (!c && make && (c = calloc(1, sizeof(*c)))) {
        snprintf(c->name, sizeof(c->name), "%s", name);
        HASH_ADD_STR(pm->ctrs, name, c);
    }
    return c;
}

static void
ctr_free(struct pm *pm, struct ctr *c)
{
    HASH_DEL(pm->ctrs, c);
    free(c->pending);
    free(c);
}

/* Takes @name's pending create request, NULL when none. */
static char *
pending_take(struct pm *pm, const char *name)
{
    struct ctr *c;
    char *body = NULL;

    pthread_mutex_lock(&pm->lock);
    if ((c = ctr_of(pm, name, false))) {
        body = c->pending;
        c->pending = NULL;
    }
    pthread_mutex_unlock(&pm->lock);
    return body;
}

/* Keeps @body, the create request of a definition marked @owner, for
 * @name's next start (it is freed here either way). */
static int
pending_put(struct pm *pm, const char *name, char *body, const struct nc_owner *owner)
{
    struct ctr *c;

    pthread_mutex_lock(&pm->lock);
    if ((c = ctr_of(pm, name, true))) {
        free(c->pending);
        c->pending = body;
        c->owner = *owner;
    }
    pthread_mutex_unlock(&pm->lock);
    if (c)
        return 0;
    free(body);
    return fail(-ENOMEM, "define %s: out of memory", name);
}

static void
pending_drop(struct pm *pm, const char *name)
{
    free(pending_take(pm, name));
}

/* The pid of @name when this process last made its interfaces, 0 if never. */
static unsigned
plumbed_pid(struct pm *pm, const char *name)
{
    struct ctr *c;
    unsigned pid;

    pthread_mutex_lock(&pm->lock);
    pid = (c = ctr_of(pm, name, false)) ? c->plumbed_pid : 0;
    pthread_mutex_unlock(&pm->lock);
    return pid;
}

static int
plumbed_note(struct pm *pm, const char *name, unsigned pid)
{
    struct ctr *c;

    pthread_mutex_lock(&pm->lock);
    if ((c = ctr_of(pm, name, true)))
        c->plumbed_pid = pid;
    pthread_mutex_unlock(&pm->lock);
    return c ? 0 : fail(-ENOMEM, "out of memory");
}

/* Forgets all of @name: it is gone. */
static void
ctr_forget(struct pm *pm, const char *name)
{
    struct ctr *c;

    pthread_mutex_lock(&pm->lock);
    if ((c = ctr_of(pm, name, false)))
        ctr_free(pm, c);
    pthread_mutex_unlock(&pm->lock);
}

static const char *
label(const cJSON *labels, const char *key)
{
    char k[64];

    snprintf(k, sizeof(k), NC_PODMAN_LABEL "%s", key);
    return cJSON_GetStringValue(cJSON_GetObjectItem(labels, k));
}

/* The owner mark in @labels; false when there is none. */
static bool
owner_of(const cJSON *labels, struct nc_owner *o)
{
    struct {
        const char *key;
        char *dst;
        size_t size;
    } f[] = {
        {"namespace", o->ns, sizeof(o->ns)},     {"kind", o->kind, sizeof(o->kind)},
        {"name", o->name, sizeof(o->name)},      {"cluster", o->cluster, sizeof(o->cluster)},
        {"prefix", o->prefix, sizeof(o->prefix)}, {"config", o->config, sizeof(o->config)},
        {"base", o->base, sizeof(o->base)},
    };

    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const char *v = label(labels, f[i].key);

        if (!v || (!v[0] && i < 5) || strlen(v) >= f[i].size)
            return false;
        snprintf(f[i].dst, f[i].size, "%s", v);
    }
    return true;
}

static enum nc_dom_state
state_of(const char *s)
{
    if (!s)
        return NC_DOM_OTHER;
    if (strcmp(s, "running") == 0)
        return NC_DOM_RUNNING;
    if (strcmp(s, "paused") == 0)
        return NC_DOM_PAUSED;
    if (strcmp(s, "stopping") == 0)
        return NC_DOM_SHUTTING_DOWN;
    if (strcmp(s, "created") == 0 || strcmp(s, "exited") == 0 || strcmp(s, "stopped") == 0 ||
        strcmp(s, "configured") == 0)
        return NC_DOM_SHUTOFF;
    return NC_DOM_OTHER;
}

static double
num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Inspects @name into @ret (and its labels into *@ret_labels, a copy, when
 * asked). */
static int
inspect(struct pm *pm, const char *name, struct nc_dominfo *ret, cJSON **ret_labels)
{
    char path[320];
    cJSON *c;
    const cJSON *labels;
    const char *id;
    int r;

    snprintf(path, sizeof(path), "/containers/%s/json", name);
    if ((r = call(pm, path, "GET", path, NULL, &c)) < 0)
        return r;
    memset(ret, 0, sizeof(*ret));
    labels = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "Config"), "Labels");
    ret->state = state_of(cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(c, "State"), "Status")));
    if ((id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Id"))) && strlen(id) >= 32)
        snprintf(ret->uuid, sizeof(ret->uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
                 id + 16, id + 20);
    ret->owned = owner_of(labels, &ret->owner);
    if (ret->owned && (ret->state == NC_DOM_RUNNING || ret->state == NC_DOM_PAUSED)) {
        double quota = num(c, "HostConfig", "CpuQuota"), period = num(c, "HostConfig", "CpuPeriod");

        snprintf(ret->live_config, sizeof(ret->live_config), "%s", ret->owner.config);
        snprintf(ret->live_base, sizeof(ret->live_base), "%s", ret->owner.base);
        ret->live_id = (unsigned)num(c, "State", "Pid");
        ret->live_vcpus = period > 0 ? (unsigned)(quota / period) : 0;
        ret->live_memory_kib = (uint64_t)num(c, "HostConfig", "Memory") / 1024;
    }
    if (ret_labels)
        *ret_labels = cJSON_Duplicate(labels, true);
    cJSON_Delete(c);
    return 0;
}

static int plumb_all(struct pm *pm, const char *name);

static int
pm_lookup(struct nc_hv *hv, const char *name, struct nc_dominfo *ret)
{
    struct pm *pm = hv->priv;
    struct ctr *c;
    int r;

    if ((r = inspect(pm, name, ret, NULL)) < 0)
        return r;
    /* Started by someone else since: its interfaces are to be made. */
    if (ret->owned && ret->state == NC_DOM_RUNNING && ret->live_id &&
        plumbed_pid(pm, name) != ret->live_id && (r = plumb_all(pm, name)) < 0)
        return r;
    pthread_mutex_lock(&pm->lock);
    if ((c = ctr_of(pm, name, false)) && c->pending) {
        ret->owned = true;
        ret->owner = c->owner;
    }
    pthread_mutex_unlock(&pm->lock);
    return 0;
}

/* The create request for @def. */
static char *
create_body(const struct nc_domain_def *def)
{
    cJSON *b = cJSON_CreateObject(), *labels, *env, *res, *o;
    const struct nc_owner *ow = def->owner;
    char *nics = NULL, *out = NULL;
    size_t n = 0;
    FILE *f;

    if (!b)
        return NULL;
    cJSON_AddStringToObject(b, "name", def->name);
    cJSON_AddStringToObject(b, "image", def->image);
    if (def->command) {
        cJSON *cmd = cJSON_AddArrayToObject(b, "command");

        for (const char *const *a = def->command; *a; a++)
            cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
    }
    env = cJSON_AddObjectToObject(b, "env");
    for (unsigned i = 0; i < def->n_env; i++) {
        const char *eq = strchr(def->env[i], '=');
        char key[160];

        if (!eq || (size_t)(eq - def->env[i]) >= sizeof(key))
            goto out;
        snprintf(key, sizeof(key), "%.*s", (int)(eq - def->env[i]), def->env[i]);
        cJSON_AddStringToObject(env, key, eq + 1);
    }
    labels = cJSON_AddObjectToObject(b, "labels");
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "namespace", ow->ns);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "kind", ow->kind);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "name", ow->name);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "cluster", ow->cluster);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "prefix", ow->prefix);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "config", ow->config);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "base", ow->base);
    if (!(f = open_memstream(&nics, &n)))
        goto out;
    for (unsigned i = 0; def->nics && i < def->n_nics; i++)
        fprintf(f, "%s%s,%s,%s/%u,%u", i ? ";" : "", def->nics[i].mac, def->nics[i].tap,
                def->nics[i].ip, def->nics[i].prefix, def->nics[i].mtu);
    fclose(f);
    cJSON_AddStringToObject(labels, NC_PODMAN_LABEL "nics", nics);
    o = cJSON_AddObjectToObject(b, "netns");
    cJSON_AddStringToObject(o, "nsmode", "none");
    /* The vCPUs become a quota: that many CPUs' worth of time. */
    res = cJSON_AddObjectToObject(b, "resource_limits");
    o = cJSON_AddObjectToObject(res, "memory");
    cJSON_AddNumberToObject(o, "limit", (double)def->memory);
    o = cJSON_AddObjectToObject(res, "cpu");
    cJSON_AddNumberToObject(o, "period", NC_CPU_QUOTA_PERIOD);
    cJSON_AddNumberToObject(o, "quota", (double)NC_CPU_QUOTA_PERIOD * def->vcpus);
    out = cJSON_PrintUnformatted(b);
out:
    free(nics);
    cJSON_Delete(b);
    return out;
}

static int
create(struct pm *pm, const char *body, const char *name)
{
    char what[300];

    snprintf(what, sizeof(what), "create container %s", name);
    return call(pm, what, "POST", "/containers/create", body, NULL);
}

static int
remove_container(struct pm *pm, const char *name)
{
    char path[320];

    snprintf(path, sizeof(path), "/containers/%s?force=true&v=true", name);
    return call(pm, path, "DELETE", path, NULL, NULL);
}

static int
pm_define(struct nc_hv *hv, const struct nc_domain_def *def)
{
    struct pm *pm = hv->priv;
    struct nc_dominfo info;
    char *body;
    int r;

    if (!def->image || !def->owner)
        return fail(-EINVAL, "define %s: a container needs an image and an owner mark", def->name);
    if (!(body = create_body(def)))
        return fail(-ENOMEM, "define %s: out of memory", def->name);
    r = inspect(pm, def->name, &info, NULL);
    if (r == 0 && !info.owned) {
        free(body);
        return fail(-EEXIST, "define %s: a container of that name is not ours", def->name);
    }
    if (r == 0 && (info.state == NC_DOM_RUNNING || info.state == NC_DOM_PAUSED)) {
        /* Kept for its next start. */
        return pending_put(pm, def->name, body, def->owner);
    }
    pending_drop(pm, def->name);
    if (r == 0 && info.owned && strcmp(info.owner.config, def->owner->config) == 0)
        r = 0; /* made from this definition already */
    else if (r == 0 && ((r = remove_container(pm, def->name)) == 0 || r == -ENOENT))
        r = create(pm, body, def->name);
    else if (r == -ENOENT)
        r = create(pm, body, def->name);
    free(body);
    return r;
}

/* A netlink socket in the network namespace of process @pid, made there
 * from this thread alone (a socket stays in the namespace it was made
 * in), into *@ret. */
static int
in_netns_of(unsigned pid, struct nl_sock **ret)
{
    char path[64];
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), target, r = 0;
    struct nl_sock *sk = nl_socket_alloc();

    snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (!sk)
        r = fail(-ENOMEM, "out of memory");
    else if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
        r = fail(-errno, "enter the network namespace of %u: %s", pid, strerror(errno));
    else {
        if (nl_connect(sk, NETLINK_ROUTE) < 0)
            r = fail(-EIO, "netlink in the namespace of %u", pid);
        if (setns(home, CLONE_NEWNET) < 0)
            r = fail(-errno, "return from the namespace of %u: %s", pid, strerror(errno));
    }
    if (home >= 0)
        close(home);
    if (target >= 0)
        close(target);
    if (r < 0 && sk)
        nl_socket_free(sk);
    else
        *ret = sk;
    return r;
}

/* One interface: "mac,tap,ip/prefix,mtu", as eth@i in the container of
 * @pid, its host end @tap here. */
static int
plumb(struct nl_sock *here, struct nl_sock *there, unsigned pid, unsigned i, const char *spec)
{
    char mac[18], tap[16], ip[16], ifname[16];
    unsigned prefix, mtu;
    struct rtnl_link *veth = NULL, *peer, *link = NULL, *change = NULL;
    struct rtnl_addr *addr = NULL;
    struct nl_addr *a = NULL, *lladdr = NULL;
    int r, ifindex;

    if (sscanf(spec, "%17[^,],%15[^,],%15[^/]/%u,%u", mac, tap, ip, &prefix, &mtu) != 5)
        return fail(-EINVAL, "interface %u: a label that is not mac,tap,ip/prefix,mtu", i);
    snprintf(ifname, sizeof(ifname), "eth%u", i);
    if (rtnl_link_get_kernel(there, 0, ifname, &link) == 0) {
        rtnl_link_put(link); /* made already */
        return 0;
    }
    link = NULL;
    if (!(veth = rtnl_link_veth_alloc()))
        return fail(-ENOMEM, "out of memory");
    peer = rtnl_link_veth_get_peer(veth);
    rtnl_link_set_name(veth, tap);
    rtnl_link_set_mtu(veth, mtu);
    rtnl_link_set_name(peer, ifname);
    rtnl_link_set_mtu(peer, mtu);
    if (nl_addr_parse(mac, AF_LLC, &lladdr) == 0)
        rtnl_link_set_addr(peer, lladdr);
    rtnl_link_set_ns_pid(peer, (pid_t)pid);
    if ((r = rtnl_link_add(here, veth, NLM_F_CREATE | NLM_F_EXCL)) < 0 && r != -NLE_EXIST) {
        r = fail(-EIO, "make veth %s: %s", tap, nl_geterror(r));
        goto out;
    }
    r = 0;
    if (rtnl_link_get_kernel(there, 0, ifname, &link) < 0) {
        r = fail(-EIO, "%s in the container of %u is missing", ifname, pid);
        goto out;
    }
    ifindex = rtnl_link_get_ifindex(link);
    if ((addr = rtnl_addr_alloc())) {
        char cidr[24];

        snprintf(cidr, sizeof(cidr), "%s/%u", ip, prefix);
        if (nl_addr_parse(cidr, AF_INET, &a) == 0) {
            rtnl_addr_set_ifindex(addr, ifindex);
            rtnl_addr_set_local(addr, a);
            if ((r = rtnl_addr_add(there, addr, 0)) < 0 && r != -NLE_EXIST) {
                r = fail(-EIO, "address %s on %s: %s", cidr, ifname, nl_geterror(r));
                goto out;
            }
            r = 0;
        }
    }
    if (!(change = rtnl_link_alloc())) {
        r = fail(-ENOMEM, "out of memory");
        goto out;
    }
    rtnl_link_set_flags(change, IFF_UP);
    if ((r = rtnl_link_change(there, link, change, 0)) < 0)
        r = fail(-EIO, "bring %s up: %s", ifname, nl_geterror(r));
out:
    if (lladdr)
        nl_addr_put(lladdr);
    if (a)
        nl_addr_put(a);
    if (addr)
        rtnl_addr_put(addr);
    if (change)
        rtnl_link_put(change);
    if (link)
        rtnl_link_put(link);
    rtnl_link_put(veth);
    return r;
}

/* Gives running container @name the interfaces its label lists. */
static int
plumb_all(struct pm *pm, const char *name)
{
    struct nc_dominfo info;
    struct nl_sock *here = NULL, *there = NULL;
    cJSON *labels = NULL;
    const char *nics;
    char *copy = NULL, *save = NULL;
    unsigned i = 0;
    int r;

    if ((r = inspect(pm, name, &info, &labels)) < 0)
        return r;
    nics = label(labels, "nics");
    if (!nics || !nics[0] || !info.live_id)
        goto out;
    if (!(copy = strdup(nics)) || !(here = nl_socket_alloc())) {
        r = fail(-ENOMEM, "out of memory");
        goto out;
    }
    if (nl_connect(here, NETLINK_ROUTE) < 0) {
        r = fail(-EIO, "netlink: cannot connect");
        goto out;
    }
    if ((r = in_netns_of(info.live_id, &there)) < 0)
        goto out;
    for (char *t = strtok_r(copy, ";", &save); t && r == 0; t = strtok_r(NULL, ";", &save))
        r = plumb(here, there, info.live_id, i++, t);
    if (r == 0)
        r = plumbed_note(pm, name, info.live_id);
out:
    if (there)
        nl_socket_free(there);
    if (here)
        nl_socket_free(here);
    free(copy);
    cJSON_Delete(labels);
    return r;
}

static int
pm_start(struct nc_hv *hv, const char *name)
{
    struct pm *pm = hv->priv;
    char path[320], *body = pending_take(pm, name);
    int r;

    if (body) {
        /* The definition given while it ran replaces it now. */
        r = remove_container(pm, name);
        if (r == 0 || r == -ENOENT)
            r = create(pm, body, name);
        free(body);
        if (r < 0)
            return r;
    }
    snprintf(path, sizeof(path), "/containers/%s/start", name);
    if ((r = call(pm, path, "POST", path, NULL, NULL)) < 0)
        return r;
    return plumb_all(pm, name);
}

static int
signal_container(struct nc_hv *hv, const char *name, const char *sig)
{
    char path[320];
    int r;

    snprintf(path, sizeof(path), "/containers/%s/kill?signal=%s", name, sig);
    r = call(hv->priv, path, "POST", path, NULL, NULL);
    /* Not running: there is nothing to stop. */
    return r == -EBUSY ? 0 : r;
}

static int
post(struct nc_hv *hv, const char *name, const char *verb)
{
    char path[320];

    snprintf(path, sizeof(path), "/containers/%s/%s", name, verb);
    return call(hv->priv, path, "POST", path, NULL, NULL);
}

/* A frozen container takes no signal: thawed first. */
static int
thaw_and_signal(struct nc_hv *hv, const char *name, const char *sig)
{
    struct nc_dominfo info;

    if (inspect(hv->priv, name, &info, NULL) == 0 && info.state == NC_DOM_PAUSED)
        (void)post(hv, name, "unpause");
    return signal_container(hv, name, sig);
}

/* The graceful stop: SIGTERM; the reconciler sends SIGKILL (destroy)
 * after the grace period. */
static int
pm_shutdown(struct nc_hv *hv, const char *name)
{
    return thaw_and_signal(hv, name, "SIGTERM");
}

static int
pm_destroy(struct nc_hv *hv, const char *name)
{
    return thaw_and_signal(hv, name, "SIGKILL");
}

static int
pm_suspend(struct nc_hv *hv, const char *name)
{
    return post(hv, name, "pause");
}

static int
pm_resume(struct nc_hv *hv, const char *name)
{
    return post(hv, name, "unpause");
}

static int
pm_undefine(struct nc_hv *hv, const char *name)
{
    ctr_forget(hv->priv, name);
    return remove_container(hv->priv, name);
}

static int
pm_list_owned(struct nc_hv *hv, void (*fn)(const char *name, const struct nc_owner *owner, void *data),
              void *data)
{
    cJSON *list, *c;
    char *q;
    int r;

    /* filters={"label":["novacron.io/cluster"]}, URL-encoded */
    if (asprintf(&q, "/containers/json?all=true&filters=%%7B%%22label%%22%%3A%%5B%%22%scluster%%22%%5D%%7D",
                 NC_PODMAN_LABEL) < 0)
        return fail(-ENOMEM, "out of memory");
    r = call(hv->priv, "list containers", "GET", q, NULL, &list);
    free(q);
    if (r < 0)
        return r;
    cJSON_ArrayForEach(c, list) {
        const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "Names"), 0));
        struct nc_owner o;

        if (name && owner_of(cJSON_GetObjectItem(c, "Labels"), &o))
            fn(name, &o, data);
    }
    cJSON_Delete(list);
    return 0;
}

static int
pm_node_info(struct nc_hv *hv, unsigned *ret_cpus, uint64_t *ret_memory)
{
    cJSON *info;
    int r;

    if ((r = call(hv->priv, "host information", "GET", "/info", NULL, &info)) < 0)
        return r;
    *ret_cpus = (unsigned)num(info, "host", "cpus");
    *ret_memory = (uint64_t)num(info, "host", "memTotal");
    cJSON_Delete(info);
    return 0;
}

/* The figures of every running container of ours, from one request. */
static int
pm_stats(struct nc_hv *hv, void (*fn)(const struct nc_domstats *st, void *data), void *data)
{
    cJSON *all, *c;
    int r;

    if ((r = call(hv->priv, "container statistics", "GET", "/containers/stats?stream=false",
                  NULL, &all)) < 0)
        return r;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "Stats")) {
        struct nc_domstats st = {
            .name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Name")),
            .state = NC_DOM_RUNNING,
            .has_cpu = true,
            .cpu_time_ns = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "CPUNano")),
            .has_balloon = true,
            .memory_max_kib = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "MemLimit")) / 1024,
            .memory_actual_kib =
                (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "MemUsage")) / 1024,
        };

        st.memory_rss_kib = st.memory_actual_kib;
        if (st.name)
            fn(&st, data);
    }
    cJSON_Delete(all);
    return 0;
}

static const char *
pm_domain_type(struct nc_hv *hv, enum nc_accel accel)
{
    (void)hv;
    (void)accel;
    return "container";
}

/* The event stream, one JSON object a line. */
struct stream {
    struct pm *pm;
    struct buf line;
};

static size_t
on_events(char *d, size_t size, size_t n, void *u)
{
    struct stream *s = u;
    size_t len = size * n;

    if (atomic_load(&s->pm->stop) || on_data(d, size, n, &s->line) != len)
        return 0;
    for (char *nl; s->line.p && (nl = strchr(s->line.p, '\n'));) {
        cJSON *e;

        *nl = '\0';
        if ((e = cJSON_Parse(s->line.p))) {
            const cJSON *attrs = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "Actor"), "Attributes");
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(attrs, "name"));

            if (name && label(attrs, "cluster"))
                s->pm->changed(s->pm->data, name);
            cJSON_Delete(e);
        }
        s->line.n -= (size_t)(nl + 1 - s->line.p);
        memmove(s->line.p, nl + 1, s->line.n + 1);
    }
    return len;
}

static int
on_progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((struct pm *)u)->stop);
}

static void *
events_loop(void *arg)
{
    struct pm *pm = arg;
    bool first = true;

    while (!atomic_load(&pm->stop)) {
        struct stream s = {pm, {0}};
        CURL *c = handle(pm, "/events?stream=true&filters=%7B%22type%22%3A%5B%22container%22%5D%7D");

        if (!first)
            pm->reconnected(pm->data);
        first = false;
        if (c) {
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_events);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, pm);
            curl_easy_perform(c);
            curl_easy_cleanup(c);
        }
        free(s.line.p);
        for (int i = 0; i < 10 && !atomic_load(&pm->stop); i++)
            usleep(100 * 1000);
    }
    return NULL;
}

static int
pm_watch(struct nc_hv *hv, void (*changed)(void *data, const char *name),
         void (*reconnected)(void *data), void *data)
{
    struct pm *pm = hv->priv;
    int r;

    pm->changed = changed;
    pm->reconnected = reconnected;
    pm->data = data;
    if ((r = pthread_create(&pm->events, NULL, events_loop, pm)) != 0)
        return fail(-r, "podman events: %s", strerror(r));
    pm->events_started = true;
    return 0;
}

static void
pm_close(struct nc_hv *hv)
{
    struct pm *pm = hv->priv;

    atomic_store(&pm->stop, true);
    if (pm->events_started)
        pthread_join(pm->events, NULL);
    while (pm->ctrs)
        ctr_free(pm, pm->ctrs);
    pthread_mutex_destroy(&pm->lock);
    free(pm->socket);
    free(pm);
    free(hv);
}

static const struct nc_hv_ops podman_ops = {
    .close = pm_close,
    .domain_type = pm_domain_type,
    .watch = pm_watch,
    .lookup = pm_lookup,
    .define = pm_define,
    .start = pm_start,
    .shutdown = pm_shutdown,
    .destroy = pm_destroy,
    .suspend = pm_suspend,
    .resume = pm_resume,
    .undefine = pm_undefine,
    .list_owned = pm_list_owned,
    .node_info = pm_node_info,
    .stats = pm_stats,
};

int
nc_hv_podman_open(const char *socket, struct nc_hv **ret_hv)
{
    struct nc_hv *hv = calloc(1, sizeof(*hv));
    struct pm *pm = calloc(1, sizeof(*pm));
    cJSON *version = NULL;
    int r;

    if (!hv || !pm || !(pm->socket = strdup(socket))) {
        free(hv);
        free(pm);
        return fail(-ENOMEM, "out of memory");
    }
    pthread_mutex_init(&pm->lock, NULL);
    hv->ops = &podman_ops;
    hv->priv = pm;
    hv->caps = (struct nc_hv_caps){.taps = true};
    if ((r = call(pm, "version", "GET", "/version", NULL, &version)) < 0) {
        pm_close(hv);
        return r;
    }
    cJSON_Delete(version);
    *ret_hv = hv;
    return 0;
}
