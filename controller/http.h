/* The HTTP endpoint: /metrics (Prometheus text), /healthz, /readyz. */
#ifndef NC_HTTP_H
#define NC_HTTP_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/metrics.h"

struct nc_http;

/* Fills the gauges at scrape time; runs on the loop thread. */
typedef void (*nc_gauges_fn)(void *data, struct nc_metrics_gauges *ret);

/* More metrics, as Prometheus text appended to @out after the rest: 0, or
 * a negative errno. Runs on the loop thread. */
typedef int (*nc_more_metrics_fn)(void *data, struct evbuffer *out);

/* Listens on @listen ("host:port") on @base. Returns 0 and sets *ret, or a
 * negative errno. */
int nc_http_start(struct event_base *base, const char *listen, struct nc_metrics *m,
                  nc_gauges_fn gauges, nc_more_metrics_fn more, void *data,
                  struct nc_http **ret)
    __attribute__((warn_unused_result));
struct nc_http *nc_http_stop(struct nc_http *h);

#endif
