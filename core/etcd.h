/*
 * etcd v3 through its HTTP/JSON gateway: the synchronous
 * client that workers and start-up use. One struct nc_etcd belongs to one
 * thread at a time; it keeps its connection alive between calls and moves
 * to the next endpoint when one fails. The streaming watch, driven by the
 * event loop, lives in controller/watch.h and shares nc_etcd_conf.
 */
#ifndef NC_ETCD_H
#define NC_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/*
 * How to reach the cluster; strings are borrowed for the client's life.
 * Calls return -EIO when no endpoint could be reached (worth retrying) and
 * -EACCES when etcd or TLS refused the credentials (not worth it).
 */
struct nc_etcd_conf {
    const char *const *endpoints; /* "http://127.0.0.1:2379", ... */
    size_t n_endpoints;
    const char *cacert, *cert, *key; /* TLS files, or NULL */
    const char *user, *password;     /* etcd auth, or NULL */
    long timeout_ms;                 /* per request; 0: 5000 */
    /* Tests only (drivers/fake/faults.h): asked before each request is
     * sent (@answered false) and after its answer came (@answered true);
     * a negative errno fails the call as an unreachable cluster would,
     * in the second case after etcd applied it. NULL in the daemon. */
    int (*inject_fault)(void *data, const char *path, bool answered);
    void *fault_data;
};

struct nc_etcd;

struct nc_kv {
    char *key;
    char *value; /* NUL-terminated; value_len excludes the NUL */
    size_t value_len;
    int64_t create_revision, mod_revision, version, lease;
};

struct nc_range {
    struct nc_kv *kvs;
    size_t n;
    int64_t revision; /* of the store when the range was served */
    bool more;
};

enum nc_cmp_target {
    NC_CMP_MOD,
    NC_CMP_CREATE,
    NC_CMP_VERSION,
    NC_CMP_VALUE,
    NC_CMP_INVALID,
};

enum nc_cmp_result {
    NC_CMP_EQUAL,
    NC_CMP_NOT_EQUAL,
    NC_CMP_LESS,
    NC_CMP_GREATER,
    NC_CMP_RESULT_INVALID,
};

struct nc_cmp {
    const char *key;
    enum nc_cmp_target target;
    enum nc_cmp_result result;
    int64_t number;    /* revision or version */
    const char *value; /* for NC_CMP_VALUE */
};

struct nc_op {
    bool del;          /* delete @key instead of putting @value */
    const char *key;
    const char *value; /* for a put */
    int64_t lease;     /* for a put: 0 for none */
};

/* Returns a client, NULL on out of memory. @conf must outlive it. */
struct nc_etcd *nc_etcd_new(const struct nc_etcd_conf *conf);
/* Frees @c (NULL allowed); returns NULL. */
struct nc_etcd *nc_etcd_free(struct nc_etcd *c);

/* The last error as a sentence (what was asked of which endpoint, and why).
 * Borrowed until the next call on @c. */
const char *nc_etcd_errmsg(const struct nc_etcd *c);
/* Gives @c @from's last error, for a call @from made on @c's behalf. */
void nc_etcd_copy_error(struct nc_etcd *c, const struct nc_etcd *from);
/* The cluster id of the last response header, 0 before the first one. */
uint64_t nc_etcd_cluster_id(const struct nc_etcd *c);
/* How many requests failed in any way since start (for /metrics). */
uint64_t nc_etcd_error_count(void);

/*
 * Reads keys from @key up to @range_end (NULL: @key alone), at @revision (0:
 * latest), at most @limit (0: no limit). Fills @ret; free it with
 * nc_range_clear(). Returns 0 or a negative errno; see nc_etcd_errmsg().
 */
int nc_etcd_range(struct nc_etcd *c, const char *key, const char *range_end, int64_t revision,
                  int64_t limit, struct nc_range *ret) __attribute__((warn_unused_result));
void nc_range_clear(struct nc_range *r);

/* Reads one key. Returns 0, -ENOENT when absent, or a negative errno.
 * @ret_kv is filled only on success (free with nc_kv_clear()); @ret_revision
 * (may be NULL) receives the store revision either way. */
int nc_etcd_get(struct nc_etcd *c, const char *key, struct nc_kv *ret_kv, int64_t *ret_revision)
    __attribute__((warn_unused_result));
void nc_kv_clear(struct nc_kv *kv);

/*
 * Calls @fn for every key under @prefix, in pages of @page keys, all at one
 * revision, which is stored in @ret_revision. Stops at @fn's first non-zero
 * return and returns it.
 */
int nc_etcd_list(struct nc_etcd *c, const char *prefix, int64_t page,
                 int (*fn)(const struct nc_kv *kv, void *data), void *data,
                 int64_t *ret_revision) __attribute__((warn_unused_result));

int nc_etcd_put(struct nc_etcd *c, const char *key, const char *value, int64_t lease,
                int64_t *ret_revision) __attribute__((warn_unused_result));
/* Deletes @key, or every key under it when @prefix. @ret_deleted may be NULL. */
int nc_etcd_delete(struct nc_etcd *c, const char *key, bool prefix, int64_t *ret_deleted)
    __attribute__((warn_unused_result));

/*
 * Runs a transaction: when every compare holds, the @success ops, else the
 * @failure ops. @ret_succeeded says which; @ret_revision (may be NULL) gets
 * the revision after it.
 */
int nc_etcd_txn(struct nc_etcd *c, const struct nc_cmp *cmps, size_t n_cmps,
                const struct nc_op *success, size_t n_success, const struct nc_op *failure,
                size_t n_failure, bool *ret_succeeded, int64_t *ret_revision)
    __attribute__((warn_unused_result));

/* One transaction of nc_etcd_txn_batch(); the arrays are borrowed. */
struct nc_txn {
    const struct nc_cmp *cmps;
    size_t n_cmps;
    const struct nc_op *success;
    size_t n_success;
    const struct nc_op *failure;
    size_t n_failure;
};

/*
 * Runs @n transactions as one request, nested in one that has no compare:
 * each is decided by its own compares, all evaluated before any is
 * applied, and what they write is applied at one revision (@ret_revision,
 * may be NULL). @ret_succeeded[i] says which branch @txns[i] took. etcd
 * refuses the whole request (-EINVAL) when two of them write one key, or
 * when one of them alone would be refused.
 */
int nc_etcd_txn_batch(struct nc_etcd *c, const struct nc_txn *txns, size_t n, bool *ret_succeeded,
                      int64_t *ret_revision) __attribute__((warn_unused_result));

/*
 * Creates @key = @value (bound to @lease; 0: none) only when the key is
 * absent: the first-come claim every allocation is made of. Returns 1 when
 * this call created it (@ret_revision, may be NULL, gets the revision), 0
 * when it existed (its kv in @ret_holder; free with nc_kv_clear()),
 * -EAGAIN when it vanished in between, or a negative errno.
 */
int nc_etcd_create(struct nc_etcd *c, const char *key, const char *value, int64_t lease,
                   struct nc_kv *ret_holder, int64_t *ret_revision)
    __attribute__((warn_unused_result));
/* Deletes @key only while it holds @value (a claim given back by its
 * holder). @ret_deleted and @ret_revision may be NULL. */
int nc_etcd_delete_if(struct nc_etcd *c, const char *key, const char *value, bool *ret_deleted,
                      int64_t *ret_revision) __attribute__((warn_unused_result));

int nc_etcd_lease_grant(struct nc_etcd *c, int64_t ttl_seconds, int64_t *ret_id)
    __attribute__((warn_unused_result));
/* Renews lease @id once; @ret_ttl gets the remaining TTL (0: expired). */
int nc_etcd_lease_keepalive(struct nc_etcd *c, int64_t id, int64_t *ret_ttl)
    __attribute__((warn_unused_result));
int nc_etcd_lease_revoke(struct nc_etcd *c, int64_t id) __attribute__((warn_unused_result));

/*
 * Calls @fn(key, range_end, data) for every key range the user of @c's
 * configuration may read, as its roles grant them (etcd lets a user read
 * its own user and roles; root's role lists none, as it needs none).
 * @range_end is NULL for a single key. Stops at @fn's first non-zero
 * return and returns it; 0, or a negative errno (-EINVAL with no user).
 */
int nc_etcd_readable(struct nc_etcd *c,
                     int (*fn)(const char *key, const char *range_end, void *data), void *data)
    __attribute__((warn_unused_result));

/* Compacts the store up to @revision (tests and operators). */
int nc_etcd_compact(struct nc_etcd *c, int64_t revision) __attribute__((warn_unused_result));

/* The first key after every key that starts with @prefix; caller frees. */
char *nc_etcd_prefix_end(const char *prefix);

/*
 * Helpers the watch shares: apply @conf's TLS settings to an easy handle,
 * and fetch an auth token (caller frees; NULL when @conf has no user).
 */
void nc_etcd_setup_tls(CURL *h, const struct nc_etcd_conf *conf);
int nc_etcd_authenticate(const struct nc_etcd_conf *conf, size_t endpoint, char **ret_token)
    __attribute__((warn_unused_result));

/* Parses a JSON number or a JSON string of digits (how the gateway writes
 * 64-bit values); 0 when absent or malformed. */
int64_t nc_json_i64(const void *cjson_item);
/* Decodes a kv object of a response into @ret; 0 or a negative errno. */
int nc_kv_from_json(const void *cjson_kv, struct nc_kv *ret) __attribute__((warn_unused_result));

#endif
