#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/base64.h"
#include "core/etcd.h"

struct buf {
    char *data;
    size_t len, cap;
};

struct nc_etcd {
    const struct nc_etcd_conf *conf;
    CURL *h;
    size_t endpoint; /* index of the endpoint that answered last */
    char *token;     /* auth token of that endpoint, or NULL */
    uint64_t cluster_id;
    char err[512];
};

static atomic_uint_fast64_t error_count;

uint64_t
nc_etcd_error_count(void)
{
    return atomic_load(&error_count);
}

static void
set_err(struct nc_etcd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(struct nc_etcd *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    atomic_fetch_add(&error_count, 1);
}

static size_t
buf_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    struct buf *b = data;
    size_t n = size * nmemb;

    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *d = realloc(b->data, cap);

        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

struct nc_etcd *
nc_etcd_new(const struct nc_etcd_conf *conf)
{
    struct nc_etcd *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->conf = conf;
    c->h = curl_easy_init();
    if (!c->h) {
        free(c);
        return NULL;
    }
    return c;
}

struct nc_etcd *
nc_etcd_free(struct nc_etcd *c)
{
    if (!c)
        return NULL;
    curl_easy_cleanup(c->h);
    free(c->token);
    free(c);
    return NULL;
}

const char *
nc_etcd_errmsg(const struct nc_etcd *c)
{
    return c->err;
}

void
nc_etcd_copy_error(struct nc_etcd *c, const struct nc_etcd *from)
{
    memcpy(c->err, from->err, sizeof(c->err));
}

uint64_t
nc_etcd_cluster_id(const struct nc_etcd *c)
{
    return c->cluster_id;
}

void
nc_etcd_setup_tls(CURL *h, const struct nc_etcd_conf *conf)
{
    if (conf->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, conf->cacert);
    if (conf->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, conf->cert);
    if (conf->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, conf->key);
}

#define NC_POST_UNREACHABLE (-1)
#define NC_POST_TLS (-2)

/* TLS failures that retrying will not cure: a certificate that does not
 * verify or cannot be read is a configuration error, not an outage. */
static bool
tls_refused(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ||
           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CIPHER ||
           rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_SSL_ISSUER_ERROR;
}

/*
 * POSTs @body to @path of endpoint @ep with handle @h. Returns the HTTP
 * status (>0) with the body in @out, or NC_POST_UNREACHABLE or NC_POST_TLS
 * when the request did not complete; @err receives the reason.
 */
static long
post(CURL *h, const struct nc_etcd_conf *conf, size_t ep, const char *token, const char *path,
     const char *body, struct buf *out, char *err, size_t errsz)
{
    char url[512], auth[1024];
    struct curl_slist *hdrs = NULL;
    CURLcode rc;
    long status = 0;

    if ((size_t)snprintf(url, sizeof(url), "%s%s", conf->endpoints[ep], path) >= sizeof(url)) {
        snprintf(err, errsz, "etcd endpoint %.100s...: too long", conf->endpoints[ep]);
        return NC_POST_UNREACHABLE;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, conf->timeout_ms ? conf->timeout_ms : 5000L);
    nc_etcd_setup_tls(h, conf);
    out->len = 0;
    rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        /* The reason matters more than the whole URL. */
        snprintf(err, errsz, "POST %.300s: %s", url, curl_easy_strerror(rc));
        return tls_refused(rc) ? NC_POST_TLS : NC_POST_UNREACHABLE;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (!out->data)
        buf_write((char *)"", 0, 0, out);
    return status;
}

int
nc_etcd_authenticate(const struct nc_etcd_conf *conf, size_t endpoint, char **ret_token)
{
    struct buf out = {0};
    cJSON *req, *resp = NULL;
    const cJSON *tok;
    char *body, err[256];
    CURL *h;
    long status;
    int r = -EACCES;

    *ret_token = NULL;
    if (!conf->user)
        return 0;
    h = curl_easy_init();
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "name", conf->user);
    cJSON_AddStringToObject(req, "password", conf->password ? conf->password : "");
    body = cJSON_PrintUnformatted(req);
    if (!h || !body) {
        r = -ENOMEM; /* not to be told as an endpoint that does not answer */
        goto out;
    }
    status = post(h, conf, endpoint, NULL, "/v3/auth/authenticate", body, &out, err, sizeof(err));
    if (status == NC_POST_TLS)
        r = -EACCES;
    else if (status < 0)
        r = -EIO;
    else if (status == 200 && (resp = cJSON_Parse(out.data)) &&
             cJSON_IsString(tok = cJSON_GetObjectItem(resp, "token")))
        r = (*ret_token = strdup(tok->valuestring)) ? 0 : -ENOMEM;
out:
    cJSON_Delete(resp);
    cJSON_Delete(req);
    free(body);
    free(out.data);
    if (h)
        curl_easy_cleanup(h);
    return r;
}

static void
note_header(struct nc_etcd *c, const cJSON *resp, int64_t *ret_revision)
{
    const cJSON *hdr = cJSON_GetObjectItem(resp, "header");
    const cJSON *cid = cJSON_GetObjectItem(hdr, "cluster_id");

    if (cJSON_IsString(cid))
        c->cluster_id = strtoull(cid->valuestring, NULL, 10);
    if (ret_revision)
        *ret_revision = nc_json_i64(cJSON_GetObjectItem(hdr, "revision"));
}

/*
 * Sends @req (consumed) to @path and parses the answer into @ret_resp.
 * Tries each endpoint once, starting with the one that answered last, and
 * moves on when one cannot be reached or answers 5xx: those are the
 * failures another member may not share. Any other error is final.
 */
static int
call(struct nc_etcd *c, const char *path, cJSON *req, cJSON **ret_resp)
{
    struct buf out = {0};
    char *body = cJSON_PrintUnformatted(req);
    char err[512] = "";
    int r = -EIO;

    cJSON_Delete(req);
    *ret_resp = NULL;
    if (!body) {
        set_err(c, "%s: out of memory", path);
        return -ENOMEM;
    }
    if (c->conf->inject_fault && (r = c->conf->inject_fault(c->conf->fault_data, path, false)) < 0) {
        set_err(c, "POST %s: failure injected before the request", path);
        free(body);
        return r;
    }
    for (size_t attempt = 0; attempt < c->conf->n_endpoints; attempt++) {
        size_t ep = (c->endpoint + attempt) % c->conf->n_endpoints;
        bool reauthed = false;
        long status;

        if (ep != c->endpoint || (c->conf->user && !c->token)) {
            free(c->token);
            c->token = NULL;
            if (c->conf->user && (r = nc_etcd_authenticate(c->conf, ep, &c->token)) < 0) {
                snprintf(err, sizeof(err), "%s%s: authentication as \"%s\" failed",
                         c->conf->endpoints[ep], path, c->conf->user);
                if (r == -EIO)
                    continue; /* unreachable: another endpoint may answer */
                set_err(c, "%s", r == -ENOMEM ? "out of memory" : err);
                goto done;
            }
        }
    again:
        status = post(c->h, c->conf, ep, c->token, path, body, &out, err, sizeof(err));
        if (status == NC_POST_TLS) {
            set_err(c, "%s", err);
            r = -EACCES;
            goto done;
        }
        if (status < 0 || status >= 500) {
            if (status >= 500)
                snprintf(err, sizeof(err), "POST %s%s: HTTP %ld: %.200s", c->conf->endpoints[ep],
                         path, status, out.data);
            continue;
        }
        c->endpoint = ep;
        if (status == 401 && c->conf->user && !reauthed) {
            /* Tokens expire; get a fresh one once. */
            free(c->token);
            c->token = NULL;
            reauthed = true;
            if (nc_etcd_authenticate(c->conf, ep, &c->token) == 0)
                goto again;
        }
        if (status != 200) {
            cJSON *e = cJSON_Parse(out.data);
            const cJSON *m = cJSON_GetObjectItem(e, "message");
            const cJSON *code = cJSON_GetObjectItem(e, "code");

            int grpc = cJSON_IsNumber(code) ? code->valueint : -1;

            set_err(c, "POST %s%s: HTTP %ld: %s", c->conf->endpoints[ep], path, status,
                    cJSON_IsString(m) ? m->valuestring : "(no message)");
            cJSON_Delete(e);
            /* gRPC codes: 3 invalid argument (also "request is too
             * large"), 5 not found (a lease), 7 permission denied,
             * 8 resource exhausted (over the gRPC message limit),
             * 11 out of range (compacted), 16 unauthenticated. */
            r = grpc == 11                  ? -ERANGE
                : grpc == 8                 ? -EMSGSIZE
                : grpc == 7 || grpc == 16   ? -EACCES
                : grpc == 5                 ? -ENOENT
                : grpc == 3 || status == 413 ? -EINVAL
                                             : -EPROTO;
            goto done;
        }
        *ret_resp = cJSON_Parse(out.data);
        if (!*ret_resp) {
            set_err(c, "POST %s%s: the answer is not JSON", c->conf->endpoints[ep], path);
            r = -EPROTO;
            goto done;
        }
        r = 0;
        if (c->conf->inject_fault && (r = c->conf->inject_fault(c->conf->fault_data, path, true)) < 0) {
            set_err(c, "POST %s: failure injected after the answer (the request was applied)",
                    path);
            cJSON_Delete(*ret_resp);
            *ret_resp = NULL;
        }
        goto done;
    }
    set_err(c, "%s", err[0] ? err : "no etcd endpoint configured");
    r = -EIO;
done:
    free(body);
    free(out.data);
    return r;
}

int64_t
nc_json_i64(const void *item)
{
    const cJSON *v = item;

    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoll(v->valuestring, NULL, 10);
    return 0;
}

static void
add_b64(cJSON *obj, const char *name, const char *data, size_t len)
{
    char *enc = nc_b64_encode(data, len);

    cJSON_AddStringToObject(obj, name, enc ? enc : "");
    free(enc);
}

static void
add_i64(cJSON *obj, const char *name, int64_t v)
{
    char s[24];

    snprintf(s, sizeof(s), "%" PRId64, v);
    cJSON_AddStringToObject(obj, name, s);
}

void
nc_kv_clear(struct nc_kv *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void
nc_range_clear(struct nc_range *r)
{
    for (size_t i = 0; i < r->n; i++)
        nc_kv_clear(&r->kvs[i]);
    free(r->kvs);
    memset(r, 0, sizeof(*r));
}

int
nc_kv_from_json(const void *item, struct nc_kv *ret)
{
    const cJSON *kv = item;
    const cJSON *k = cJSON_GetObjectItem(kv, "key"), *v = cJSON_GetObjectItem(kv, "value");

    memset(ret, 0, sizeof(*ret));
    ret->key = cJSON_IsString(k) ? nc_b64_decode(k->valuestring, NULL) : NULL;
    ret->value = nc_b64_decode(cJSON_IsString(v) ? v->valuestring : "", &ret->value_len);
    if (!ret->key || !ret->value) {
        nc_kv_clear(ret);
        return -EPROTO;
    }
    /* Values are JSON text, read as C strings from here on. A NUL byte in
     * one would hide whatever follows it, so that a spec with junk after
     * a NUL would pass here and fail in novactl; as U+0001 it is refused
     * by every reader at the same place (a control character, or text
     * after the JSON value). */
    for (char *p = memchr(ret->value, '\0', ret->value_len); p;
         p = memchr(p, '\0', ret->value_len - (size_t)(p - ret->value)))
        *p = '\x01';
    ret->create_revision = nc_json_i64(cJSON_GetObjectItem(kv, "create_revision"));
    ret->mod_revision = nc_json_i64(cJSON_GetObjectItem(kv, "mod_revision"));
    ret->version = nc_json_i64(cJSON_GetObjectItem(kv, "version"));
    ret->lease = nc_json_i64(cJSON_GetObjectItem(kv, "lease"));
    return 0;
}

/* nc_etcd_range() with a key of @key_len bytes, which may hold a NUL. */
static int
range_raw(struct nc_etcd *c, const char *key, size_t key_len, const char *range_end,
          int64_t revision, int64_t limit, struct nc_range *ret)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    const cJSON *kvs, *kv;
    int r;

    memset(ret, 0, sizeof(*ret));
    add_b64(req, "key", key, key_len);
    if (range_end)
        add_b64(req, "range_end", range_end, strlen(range_end));
    if (revision)
        add_i64(req, "revision", revision);
    if (limit)
        add_i64(req, "limit", limit);
    r = call(c, "/v3/kv/range", req, &resp);
    if (r < 0)
        return r;
    note_header(c, resp, &ret->revision);
    ret->more = cJSON_IsTrue(cJSON_GetObjectItem(resp, "more"));
    kvs = cJSON_GetObjectItem(resp, "kvs");
    ret->kvs = calloc((size_t)cJSON_GetArraySize(kvs) + 1, sizeof(*ret->kvs));
    if (!ret->kvs) {
        r = -ENOMEM;
        goto out;
    }
    cJSON_ArrayForEach(kv, kvs) {
        r = nc_kv_from_json(kv, &ret->kvs[ret->n]);
        if (r < 0) {
            set_err(c, "range: a key or value is not valid base64");
            nc_range_clear(ret);
            goto out;
        }
        ret->n++;
    }
out:
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_range(struct nc_etcd *c, const char *key, const char *range_end, int64_t revision,
              int64_t limit, struct nc_range *ret)
{
    return range_raw(c, key, strlen(key), range_end, revision, limit, ret);
}

int
nc_etcd_get(struct nc_etcd *c, const char *key, struct nc_kv *ret_kv, int64_t *ret_revision)
{
    struct nc_range rg;
    int r = nc_etcd_range(c, key, NULL, 0, 0, &rg);

    if (r < 0)
        return r;
    if (ret_revision)
        *ret_revision = rg.revision;
    if (rg.n == 0) {
        nc_range_clear(&rg);
        return -ENOENT;
    }
    *ret_kv = rg.kvs[0];
    memset(&rg.kvs[0], 0, sizeof(rg.kvs[0]));
    nc_range_clear(&rg);
    return 0;
}

char *
nc_etcd_prefix_end(const char *prefix)
{
    char *end = strdup(prefix);
    size_t n = end ? strlen(end) : 0;

    /* Increment the last byte that is not 0xff, dropping the ones after. */
    while (n > 0) {
        if ((unsigned char)end[n - 1] < 0xff) {
            end[n - 1]++;
            end[n] = '\0';
            return end;
        }
        n--;
    }
    if (end) /* every byte 0xff: the range runs to the end, "\0" in etcd */
        end[0] = '\0';
    return end;
}

int
nc_etcd_list(struct nc_etcd *c, const char *prefix, int64_t page,
             int (*fn)(const struct nc_kv *kv, void *data), void *data, int64_t *ret_revision)
{
    char *end = nc_etcd_prefix_end(prefix);
    char *from = strdup(prefix);
    size_t from_len = from ? strlen(from) : 0;
    int64_t rev = 0;
    int r = 0;

    if (!end || !from) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        struct nc_range rg;
        char *next;

        r = range_raw(c, from, from_len, end, rev, page, &rg);
        if (r < 0)
            goto out;
        if (!rev)
            rev = rg.revision; /* every further page reads the same snapshot */
        for (size_t i = 0; i < rg.n && r == 0; i++)
            r = fn(&rg.kvs[i], data);
        if (r != 0 || !rg.more || rg.n == 0) {
            nc_range_clear(&rg);
            break;
        }
        /* The next page starts at the smallest key after the last one:
         * that key followed by a NUL byte. */
        from_len = strlen(rg.kvs[rg.n - 1].key) + 1;
        next = malloc(from_len);
        if (next)
            memcpy(next, rg.kvs[rg.n - 1].key, from_len);
        nc_range_clear(&rg);
        free(from);
        from = next;
        if (!from) {
            r = -ENOMEM;
            goto out;
        }
    }
out:
    if (ret_revision && r == 0)
        *ret_revision = rev;
    free(from);
    free(end);
    return r;
}

int
nc_etcd_put(struct nc_etcd *c, const char *key, const char *value, int64_t lease,
            int64_t *ret_revision)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    int r;

    add_b64(req, "key", key, strlen(key));
    add_b64(req, "value", value, strlen(value));
    if (lease)
        add_i64(req, "lease", lease);
    r = call(c, "/v3/kv/put", req, &resp);
    if (r == 0)
        note_header(c, resp, ret_revision);
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_delete(struct nc_etcd *c, const char *key, bool prefix, int64_t *ret_deleted)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    int r;

    add_b64(req, "key", key, strlen(key));
    if (prefix) {
        char *end = nc_etcd_prefix_end(key);

        add_b64(req, "range_end", end ? end : "", end ? strlen(end) : 0);
        free(end);
    }
    r = call(c, "/v3/kv/deleterange", req, &resp);
    if (r == 0) {
        note_header(c, resp, NULL);
        if (ret_deleted)
            *ret_deleted = nc_json_i64(cJSON_GetObjectItem(resp, "deleted"));
    }
    cJSON_Delete(resp);
    return r;
}

static cJSON *
ops_json(const struct nc_op *ops, size_t n)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < n; i++) {
        cJSON *op = cJSON_CreateObject(), *inner = cJSON_CreateObject();

        add_b64(inner, "key", ops[i].key, strlen(ops[i].key));
        if (ops[i].del) {
            cJSON_AddItemToObject(op, "request_delete_range", inner);
        } else {
            add_b64(inner, "value", ops[i].value, strlen(ops[i].value));
            if (ops[i].lease)
                add_i64(inner, "lease", ops[i].lease);
            cJSON_AddItemToObject(op, "request_put", inner);
        }
        cJSON_AddItemToArray(arr, op);
    }
    return arr;
}

/* A TxnRequest's JSON: {compare, success, failure}. */
static cJSON *
txn_json(const struct nc_txn *t)
{
    static const char *const targets[] = {"MOD", "CREATE", "VERSION", "VALUE"};
    static const char *const fields[] = {"mod_revision", "create_revision", "version", "value"};
    static const char *const results[] = {"EQUAL", "NOT_EQUAL", "LESS", "GREATER"};
    cJSON *req = cJSON_CreateObject(), *arr = cJSON_CreateArray();

    for (size_t i = 0; i < t->n_cmps; i++) {
        const struct nc_cmp *c = &t->cmps[i];
        cJSON *cmp = cJSON_CreateObject();

        add_b64(cmp, "key", c->key, strlen(c->key));
        cJSON_AddStringToObject(cmp, "target", targets[c->target]);
        cJSON_AddStringToObject(cmp, "result", results[c->result]);
        if (c->target == NC_CMP_VALUE)
            add_b64(cmp, fields[c->target], c->value, strlen(c->value));
        else
            add_i64(cmp, fields[c->target], c->number);
        cJSON_AddItemToArray(arr, cmp);
    }
    cJSON_AddItemToObject(req, "compare", arr);
    cJSON_AddItemToObject(req, "success", ops_json(t->success, t->n_success));
    cJSON_AddItemToObject(req, "failure", ops_json(t->failure, t->n_failure));
    return req;
}

int
nc_etcd_txn(struct nc_etcd *c, const struct nc_cmp *cmps, size_t n_cmps,
            const struct nc_op *success, size_t n_success, const struct nc_op *failure,
            size_t n_failure, bool *ret_succeeded, int64_t *ret_revision)
{
    const struct nc_txn t = {cmps, n_cmps, success, n_success, failure, n_failure};
    cJSON *resp;
    int r = call(c, "/v3/kv/txn", txn_json(&t), &resp);

    if (r == 0) {
        note_header(c, resp, ret_revision);
        *ret_succeeded = cJSON_IsTrue(cJSON_GetObjectItem(resp, "succeeded"));
    }
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_txn_batch(struct nc_etcd *c, const struct nc_txn *txns, size_t n, bool *ret_succeeded,
                  int64_t *ret_revision)
{
    cJSON *req = cJSON_CreateObject(), *all = cJSON_CreateArray(), *resp;
    const cJSON *res;
    size_t i = 0;
    int r;

    for (size_t k = 0; k < n; k++) {
        cJSON *op = cJSON_CreateObject();

        cJSON_AddItemToObject(op, "request_txn", txn_json(&txns[k]));
        cJSON_AddItemToArray(all, op);
    }
    cJSON_AddItemToObject(req, "success", all);
    r = call(c, "/v3/kv/txn", req, &resp);
    if (r < 0)
        return r;
    res = cJSON_GetObjectItem(resp, "responses");
    if (cJSON_GetArraySize(res) != (int)n) {
        set_err(c, "txn of %zu: the answer holds %d results", n, cJSON_GetArraySize(res));
        cJSON_Delete(resp);
        return -EPROTO;
    }
    note_header(c, resp, ret_revision);
    cJSON_ArrayForEach(res, res) {
        const cJSON *sub = cJSON_GetObjectItem(res, "response_txn");

        ret_succeeded[i++] = cJSON_IsTrue(cJSON_GetObjectItem(sub, "succeeded"));
    }
    cJSON_Delete(resp);
    return 0;
}

int
nc_etcd_lease_grant(struct nc_etcd *c, int64_t ttl_seconds, int64_t *ret_id)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    int r;

    add_i64(req, "TTL", ttl_seconds);
    r = call(c, "/v3/lease/grant", req, &resp);
    if (r == 0) {
        note_header(c, resp, NULL);
        *ret_id = nc_json_i64(cJSON_GetObjectItem(resp, "ID"));
        if (*ret_id == 0) {
            set_err(c, "lease grant: the answer carries no lease ID");
            r = -EPROTO;
        }
    }
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_lease_keepalive(struct nc_etcd *c, int64_t id, int64_t *ret_ttl)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    const cJSON *res;
    int r;

    add_i64(req, "ID", id);
    r = call(c, "/v3/lease/keepalive", req, &resp);
    if (r == 0) {
        /* The gateway streams keepalive answers: {"result":{...}}. */
        res = cJSON_GetObjectItem(resp, "result");
        *ret_ttl = nc_json_i64(cJSON_GetObjectItem(res ? res : resp, "TTL"));
    }
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_lease_revoke(struct nc_etcd *c, int64_t id)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    int r;

    add_i64(req, "ID", id);
    r = call(c, "/v3/lease/revoke", req, &resp);
    cJSON_Delete(resp);
    return r;
}

/* The read ranges of role @role, passed to @fn. */
static int
role_readable(struct nc_etcd *c, const char *role,
              int (*fn)(const char *key, const char *range_end, void *data), void *data)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    const cJSON *perm;
    int r;

    cJSON_AddStringToObject(req, "role", role);
    if ((r = call(c, "/v3/auth/role/get", req, &resp)) < 0)
        return r;
    cJSON_ArrayForEach(perm, cJSON_GetObjectItem(resp, "perm")) {
        /* READ is the enum's zero, which the gateway leaves out. */
        const cJSON *type = cJSON_GetObjectItem(perm, "permType");
        const cJSON *k = cJSON_GetObjectItem(perm, "key"), *e = cJSON_GetObjectItem(perm, "range_end");
        char *key, *end = NULL;

        if (cJSON_IsString(type) && strcmp(type->valuestring, "READ") != 0 &&
            strcmp(type->valuestring, "READWRITE") != 0)
            continue;
        key = cJSON_IsString(k) ? nc_b64_decode(k->valuestring, NULL) : NULL;
        if (cJSON_IsString(e) && e->valuestring[0])
            end = nc_b64_decode(e->valuestring, NULL);
        if (!key || (cJSON_IsString(e) && e->valuestring[0] && !end)) {
            set_err(c, "role %s: a permission's key is not valid base64", role);
            r = -EPROTO;
        } else {
            r = fn(key, end, data);
        }
        free(key);
        free(end);
        if (r)
            break;
    }
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_readable(struct nc_etcd *c,
                 int (*fn)(const char *key, const char *range_end, void *data), void *data)
{
    cJSON *req, *resp;
    const cJSON *role;
    int r;

    if (!c->conf->user)
        return -EINVAL;
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "name", c->conf->user);
    if ((r = call(c, "/v3/auth/user/get", req, &resp)) < 0)
        return r;
    cJSON_ArrayForEach(role, cJSON_GetObjectItem(resp, "roles"))
        if (cJSON_IsString(role) && (r = role_readable(c, role->valuestring, fn, data)) != 0)
            break;
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_compact(struct nc_etcd *c, int64_t revision)
{
    cJSON *req = cJSON_CreateObject(), *resp;
    int r;

    add_i64(req, "revision", revision);
    cJSON_AddBoolToObject(req, "physical", true);
    r = call(c, "/v3/kv/compaction", req, &resp);
    cJSON_Delete(resp);
    return r;
}

int
nc_etcd_create(struct nc_etcd *c, const char *key, const char *value, int64_t lease,
               struct nc_kv *ret_holder, int64_t *ret_revision)
{
    struct nc_cmp cmp = {.key = key, .target = NC_CMP_CREATE, .result = NC_CMP_EQUAL};
    struct nc_op put = {.key = key, .value = value, .lease = lease};
    bool created = false;
    int r = nc_etcd_txn(c, &cmp, 1, &put, 1, NULL, 0, &created, ret_revision);

    if (r < 0 || created)
        return r < 0 ? r : 1;
    r = nc_etcd_get(c, key, ret_holder, NULL);
    return r == -ENOENT ? -EAGAIN : r;
}

int
nc_etcd_delete_if(struct nc_etcd *c, const char *key, const char *value, bool *ret_deleted,
                  int64_t *ret_revision)
{
    struct nc_cmp cmp = {.key = key, .target = NC_CMP_VALUE, .result = NC_CMP_EQUAL,
                         .value = value};
    struct nc_op del = {.del = true, .key = key};
    bool deleted = false;
    int r = nc_etcd_txn(c, &cmp, 1, &del, 1, NULL, 0, &deleted, ret_revision);

    if (ret_deleted)
        *ret_deleted = deleted;
    return r;
}
