/*
 * The curl multi <-> libevent glue follows curl's hiperfifo example: curl
 * says which sockets to wait on and when to time out, libevent waits, and
 * every wake-up goes back to curl_multi_socket_action(). The response is
 * one JSON object per line; a line may arrive in pieces, so bytes are
 * buffered until the newline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/watch.h"
#include "core/watchpriv.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

struct nc_watch {
    struct event_base *base;
    const struct nc_etcd_conf *conf;
    const struct nc_watch_ops *ops;
    void *data;
    char *prefix;

    CURLM *multi;
    CURL *easy;          /* the stream, NULL while none is open */
    struct curl_slist *hdrs;
    char *body;          /* the create request; curl reads it in place */
    struct event *curl_timer, *retry_timer;
    size_t endpoint;
    int64_t next_revision; /* resume point: last delivered revision + 1 */
    int64_t compacted;     /* set when etcd answered "compacted" */
    char cluster[24];      /* etcd's cluster id, as first seen */
    bool rewound;          /* set when etcd is behind what was delivered */
    int retry_ms;
    bool established, running;
    uint64_t restarts;

    char *line;
    size_t line_len, line_cap;
};

/* The line buffer kept between events: what an ordinary event needs. */
#define LINE_KEEP (1024 * 1024)

struct sock_ctx {
    struct event *ev;
    struct nc_watch *w;
};

static void open_stream(struct nc_watch *w);

static void
check_done(struct nc_watch *w);

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct nc_watch *w = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;

    curl_multi_socket_action(w->multi, fd, flags, &running);
    check_done(w);
}

static void
on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    struct nc_watch *w = arg;
    int running;

    (void)fd;
    (void)what;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(w);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct nc_watch *w = userp;
    struct sock_ctx *ctx = socketp;
    short kind;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (ctx) {
            event_free(ctx->ev);
            free(ctx);
        }
        curl_multi_assign(w->multi, s, NULL);
        return 0;
    }
    kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
                   EV_PERSIST);
    if (!ctx) {
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
            return -1;
        ctx->w = w;
        curl_multi_assign(w->multi, s, ctx);
    } else {
        event_free(ctx->ev);
    }
    ctx->ev = event_new(w->base, s, kind, on_socket_event, w);
    return ctx->ev ? event_add(ctx->ev, NULL) : -1;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct nc_watch *w = userp;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

    (void)multi;
    if (timeout_ms < 0)
        return evtimer_del(w->curl_timer);
    return evtimer_add(w->curl_timer, &tv);
}

/*
 * True when etcd's answer @header shows a store that is not the one the
 * watch followed: another cluster id, or a revision below one already
 * delivered (a snapshot restored, a data folder replaced). Resuming there
 * would hand on nothing for a long while, and caches holding newer
 * revisions would drop what comes, so the owner must start afresh.
 */
static bool
rewound(struct nc_watch *w, const cJSON *header)
{
    const char *cluster = cJSON_GetStringValue(cJSON_GetObjectItem(header, "cluster_id"));
    int64_t rev = nc_json_i64(cJSON_GetObjectItem(header, "revision"));

    if (cluster && w->cluster[0] && strcmp(cluster, w->cluster) != 0) {
        nc_warn(NULL, "etcd's cluster id changed from %s to %s", w->cluster, cluster);
        w->rewound = true;
    } else if (rev > 0 && rev < w->next_revision - 1) {
        nc_warn(NULL, "etcd's revision %" PRId64 " is below %" PRId64 ", already seen: the store "
                      "was restored or replaced", rev, w->next_revision - 1);
        w->rewound = true;
    }
    if (cluster && !w->rewound)
        snprintf(w->cluster, sizeof(w->cluster), "%s", cluster);
    return w->rewound;
}

/* Handles one line of the stream. Returns false to end the transfer. */
static bool
handle_message(struct nc_watch *w, const char *text)
{
    cJSON *msg = cJSON_Parse(text);
    const cJSON *res = cJSON_GetObjectItem(msg, "result"), *events, *ev;
    bool keep = true;

    if (!res) {
        const cJSON *err = cJSON_GetObjectItem(msg, "error");
        const cJSON *m = cJSON_GetObjectItem(err, "message");

        nc_warn(NULL, "etcd watch: %s", cJSON_IsString(m) ? m->valuestring : "unreadable answer");
        cJSON_Delete(msg);
        return false;
    }
    if (rewound(w, cJSON_GetObjectItem(res, "header"))) {
        cJSON_Delete(msg);
        return false;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(res, "canceled"))) {
        int64_t rev = nc_json_i64(cJSON_GetObjectItem(res, "compact_revision"));
        const cJSON *reason = cJSON_GetObjectItem(res, "cancel_reason");

        if (rev > 0) {
            w->compacted = rev;
        } else {
            nc_warn(NULL, "etcd watch cancelled: %s",
                    cJSON_IsString(reason) ? reason->valuestring : "no reason given");
        }
        cJSON_Delete(msg);
        return false;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(res, "created"))) {
        w->established = true;
        w->retry_ms = RETRY_MIN_MS;
        nc_debug(NULL, "etcd watch established at revision %" PRId64, w->next_revision);
    }
    events = cJSON_GetObjectItem(res, "events");
    cJSON_ArrayForEach(ev, events) {
        const cJSON *type = cJSON_GetObjectItem(ev, "type");
        bool deleted = cJSON_IsString(type) && strcmp(type->valuestring, "DELETE") == 0;
        struct nc_kv kv;

        if (nc_kv_from_json(cJSON_GetObjectItem(ev, "kv"), &kv) < 0) {
            nc_warn(NULL, "etcd watch: an event carries a malformed key or value");
            keep = false;
            break;
        }
        /* A revision holds several events when a txn touched several keys,
         * so the resume point only moves past a revision once its events
         * have all been handed on. */
        w->ops->event(w->data, &kv, deleted);
        if (kv.mod_revision >= w->next_revision)
            w->next_revision = kv.mod_revision + 1;
        nc_kv_clear(&kv);
    }
    cJSON_Delete(msg);
    return keep;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
    struct nc_watch *w = userp;
    size_t n = size * nmemb;
    bool keep;

    for (size_t i = 0; i < n; i++) {
        if (ptr[i] != '\n') {
            if (w->line_len + 2 > w->line_cap) {
                size_t cap = w->line_cap ? w->line_cap * 2 : 4096;
                char *l = realloc(w->line, cap);

                if (!l)
                    return 0;
                w->line = l;
                w->line_cap = cap;
            }
            w->line[w->line_len++] = ptr[i];
            continue;
        }
        /* An empty line carries no message (and may come before any
         * buffer was made). */
        if (w->line_len == 0)
            continue;
        w->line[w->line_len] = '\0';
        w->line_len = 0;
        keep = handle_message(w, w->line);
        /* A huge event (a value etcd took only because its request limit
         * was raised) leaves no huge buffer behind. */
        if (w->line_cap > LINE_KEEP) {
            free(w->line);
            w->line = NULL;
            w->line_cap = 0;
        }
        if (!keep)
            return 0; /* aborts the transfer; check_done() decides what next */
    }
    return n;
}

size_t
nc_watch_feed(struct nc_watch *w, const char *data, size_t len)
{
    return write_cb((char *)data, 1, len, w);
}

static void
close_stream(struct nc_watch *w)
{
    if (w->easy) {
        curl_multi_remove_handle(w->multi, w->easy);
        curl_easy_cleanup(w->easy);
        w->easy = NULL;
    }
    curl_slist_free_all(w->hdrs);
    w->hdrs = NULL;
    free(w->body);
    w->body = NULL;
    w->line_len = 0;
    w->established = false;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    open_stream(arg);
}

static void
schedule_retry(struct nc_watch *w)
{
    struct timeval tv = {.tv_sec = w->retry_ms / 1000, .tv_usec = (w->retry_ms % 1000) * 1000};

    w->restarts++;
    w->endpoint = (w->endpoint + 1) % w->conf->n_endpoints;
    evtimer_add(w->retry_timer, &tv);
    w->retry_ms = w->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->retry_ms * 2;
}

static void
check_done(struct nc_watch *w)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(w->multi, &left))) {
        int64_t compacted;

        if (m->msg != CURLMSG_DONE || m->easy_handle != w->easy)
            continue;
        if (m->data.result != CURLE_OK && m->data.result != CURLE_WRITE_ERROR)
            nc_warn(NULL, "etcd watch on %s ended: %s; resuming at revision %" PRId64,
                    w->conf->endpoints[w->endpoint], curl_easy_strerror(m->data.result),
                    w->next_revision);
        else if (!w->compacted && !w->rewound)
            nc_warn(NULL, "etcd watch on %s ended; resuming at revision %" PRId64,
                    w->conf->endpoints[w->endpoint], w->next_revision);
        close_stream(w);
        compacted = w->compacted;
        w->compacted = 0;
        if (compacted || w->rewound) {
            bool rewind = w->rewound;

            w->rewound = false;
            w->cluster[0] = '\0';
            w->running = false;
            w->restarts++;
            if (rewind)
                w->ops->rewound(w->data);
            else
                w->ops->compacted(w->data, compacted);
            return; /* the owner restarted or freed us */
        }
        if (w->running)
            schedule_retry(w);
    }
}

static void
open_stream(struct nc_watch *w)
{
    char *end = nc_etcd_prefix_end(w->prefix);
    char *kb = nc_b64_encode(w->prefix, strlen(w->prefix));
    char *eb = end ? nc_b64_encode(end, strlen(end)) : NULL;
    char url[512], *token = NULL;

    if (!w->running || w->easy)
        goto out;
    if (!kb || !eb || asprintf(&w->body,
                               "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\","
                               "\"start_revision\":\"%" PRId64 "\",\"progress_notify\":true}}",
                               kb, eb, w->next_revision) < 0) {
        w->body = NULL;
        schedule_retry(w);
        goto out;
    }
    if (w->conf->user && nc_etcd_authenticate(w->conf, w->endpoint, &token) < 0) {
        nc_warn(NULL, "etcd watch: authentication on %s failed", w->conf->endpoints[w->endpoint]);
        schedule_retry(w);
        goto out;
    }
    w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (token) {
        char auth[1024];

        snprintf(auth, sizeof(auth), "Authorization: %s", token);
        w->hdrs = curl_slist_append(w->hdrs, auth);
    }
    snprintf(url, sizeof(url), "%s/v3/watch", w->conf->endpoints[w->endpoint]);
    w->easy = curl_easy_init();
    if (!w->easy) {
        schedule_retry(w);
        goto out;
    }
    curl_easy_setopt(w->easy, CURLOPT_URL, url);
    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->hdrs);
    curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body);
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    /* A half-open connection is found by TCP keepalive, not by a timeout:
     * the stream may rightly stay silent for hours. */
    curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 10L);
    curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPINTVL, 5L);
    nc_etcd_setup_tls(w->easy, w->conf);
    curl_multi_add_handle(w->multi, w->easy);
out:
    free(token);
    free(kb);
    free(eb);
    free(end);
}

struct nc_watch *
nc_watch_new(struct event_base *base, const struct nc_etcd_conf *conf, const char *prefix,
             const struct nc_watch_ops *ops, void *data)
{
    struct nc_watch *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->base = base;
    w->conf = conf;
    w->ops = ops;
    w->data = data;
    w->retry_ms = RETRY_MIN_MS;
    w->prefix = strdup(prefix);
    w->multi = curl_multi_init();
    w->curl_timer = evtimer_new(base, on_curl_timer, w);
    w->retry_timer = evtimer_new(base, on_retry, w);
    if (!w->prefix || !w->multi || !w->curl_timer || !w->retry_timer)
        return nc_watch_free(w);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    return w;
}

struct nc_watch *
nc_watch_free(struct nc_watch *w)
{
    if (!w)
        return NULL;
    nc_watch_stop(w);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    if (w->curl_timer)
        event_free(w->curl_timer);
    if (w->retry_timer)
        event_free(w->retry_timer);
    free(w->line);
    free(w->prefix);
    free(w);
    return NULL;
}

int
nc_watch_start(struct nc_watch *w, int64_t revision)
{
    nc_watch_stop(w);
    w->next_revision = revision;
    w->running = true;
    w->retry_ms = RETRY_MIN_MS;
    open_stream(w);
    return w->easy || evtimer_pending(w->retry_timer, NULL) ? 0 : -ENOMEM;
}

void
nc_watch_stop(struct nc_watch *w)
{
    w->running = false;
    evtimer_del(w->retry_timer);
    close_stream(w);
}

bool
nc_watch_established(const struct nc_watch *w)
{
    return w->established;
}

uint64_t
nc_watch_restarts(const struct nc_watch *w)
{
    return w->restarts;
}
