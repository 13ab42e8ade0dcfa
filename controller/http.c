#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "controller/http.h"

struct nc_http {
    struct evhttp *http;
    struct nc_metrics *metrics;
    nc_gauges_fn gauges;
    nc_more_metrics_fn more;
    void *data;
};

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *type,
      const char *body)
{
    struct evbuffer *b = evbuffer_new();

    if (!b) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
    struct nc_http *h = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    struct nc_metrics_gauges g = {0};

    h->gauges(h->data, &g);
    if (path && strcmp(path, "/metrics") == 0) {
        char *text = nc_metrics_render(h->metrics, &g);
        struct evbuffer *b = evbuffer_new();

        if (!text || !b || evbuffer_add(b, text, strlen(text)) < 0 ||
            (h->more && h->more(h->data, b) < 0)) {
            evhttp_send_error(req, 500, NULL);
        } else {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                              "text/plain; version=0.0.4; charset=utf-8");
            evhttp_send_reply(req, 200, "OK", b);
        }
        if (b)
            evbuffer_free(b);
        free(text);
    } else if (path && strcmp(path, "/healthz") == 0) {
        /* Answering at all proves the loop runs. */
        reply(req, 200, "OK", "text/plain", "ok\n");
    } else if (path && strcmp(path, "/readyz") == 0) {
        if (g.ready)
            reply(req, 200, "OK", "text/plain", "ready\n");
        else
            reply(req, 503, "Service Unavailable", "text/plain",
                  "not ready: etcd not listed or watch not established\n");
    } else {
        reply(req, 404, "Not Found", "text/plain", "not found\n");
    }
}

int
nc_http_start(struct event_base *base, const char *listen, struct nc_metrics *m,
              nc_gauges_fn gauges, nc_more_metrics_fn more, void *data, struct nc_http **ret)
{
    struct nc_http *h = calloc(1, sizeof(*h));
    char host[256];
    const char *colon = strrchr(listen, ':');
    long port;
    char *end;

    if (!h)
        return -ENOMEM;
    if (!colon || (size_t)(colon - listen) >= sizeof(host) ||
        (port = strtol(colon + 1, &end, 10)) < 0 || port > 65535 || *end) {
        free(h);
        return -EINVAL;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    h->metrics = m;
    h->gauges = gauges;
    h->more = more;
    h->data = data;
    h->http = evhttp_new(base);
    if (!h->http) {
        free(h);
        return -ENOMEM;
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(h->http, on_request, h);
    if (evhttp_bind_socket(h->http, host, (ev_uint16_t)port) < 0) {
        nc_http_stop(h);
        return -EADDRINUSE;
    }
    *ret = h;
    return 0;
}

struct nc_http *
nc_http_stop(struct nc_http *h)
{
    if (!h)
        return NULL;
    if (h->http)
        evhttp_free(h->http);
    free(h);
    return NULL;
}
