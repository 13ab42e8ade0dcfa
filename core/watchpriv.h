/*
 * For tests and fuzzers only: what the watch does with bytes of etcd's
 * watch stream as they arrive (curl's write callback), without a
 * connection. Not for the daemon.
 */
#ifndef NC_WATCHPRIV_H
#define NC_WATCHPRIV_H

#include <stddef.h>

#include "core/watch.h"

/* Hands @len bytes of the stream to @w, as one piece of the transfer:
 * each complete line is one message. Returns @len, or 0 when the watch
 * would end the transfer (an error, a cancellation, a malformed event). */
size_t nc_watch_feed(struct nc_watch *w, const char *data, size_t len);

#endif
