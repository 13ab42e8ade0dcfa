/*
 * Building blocks shared by the validators of every kind: an error list
 * whose entries each name a field and a reason, and checks for the value
 * shapes of the API (schema/README.md §2). The same code serves novacrond and novactl.
 */
#ifndef NC_VALIDATE_H
#define NC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define NC_API_VERSION "novacron.io/v1"
#define NC_NAME_MAX 63
/* The largest document stored under spec/, in bytes as stored, and the
 * most its labels and annotations may hold together (keys and values, as
 * Kubernetes limits annotations). Bigger ones are Failed unread. */
#define NC_DOC_MAX (512 * 1024)
#define NC_META_MAX (256 * 1024)

struct nc_verr;

/* Returns an empty error list, NULL on out of memory. */
struct nc_verr *nc_verr_new(void);
/* Frees @e (NULL allowed); returns NULL. */
struct nc_verr *nc_verr_free(struct nc_verr *e);

/* A list keeps the text of its first NC_VERR_KEEP errors and counts the
 * rest, so that a document with 100,000 unknown fields costs no more than
 * one with 20, and its message fits in a status. */
#define NC_VERR_KEEP 20

/* Appends "FIELD: REASON". @field is a path such as "spec.disks[1].name". */
void nc_verr_add(struct nc_verr *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* How many errors were added, kept or not. */
size_t nc_verr_count(const struct nc_verr *e);
/* The @i-th error kept (@i below nc_verr_kept()), else NULL. Borrowed;
 * valid until @e is freed. */
const char *nc_verr_get(const struct nc_verr *e, size_t i);
size_t nc_verr_kept(const struct nc_verr *e);
/* The errors kept joined with "; ", then "and N more errors" when some
 * were not kept. Caller frees; NULL on out of memory. */
char *nc_verr_join(const struct nc_verr *e);

/*
 * True when JSON text @text escapes a NUL ("\u0000"). cJSON decodes it into
 * a C string, which then ends early: "/ok\u0000/../x" would reach the
 * validator as "/ok". Documents with one are refused before parsing.
 */
bool nc_json_has_nul_escape(const char *text);

/* True when @s is a DNS label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool nc_is_dns_label(const char *s);
/* True when @s is dot-separated DNS labels, at most 253 characters. */
bool nc_is_dns_subdomain(const char *s);

/*
 * Writes a short JSON rendering of @v for an error message into @buf
 * (strings quoted, long values cut with "..."). Returns @buf.
 */
char *nc_json_brief(const cJSON *v, char *buf, size_t bufsz);

/* Reports every member of @obj whose name is not in the NULL-terminated
 * @allowed, as "PATH.member: unknown field". */
void nc_v_known_fields(struct nc_verr *e, const cJSON *obj, const char *path,
                       const char *const *allowed);

/*
 * Each nc_v_* reads member @name of @obj, reports a problem as
 * "PATH.NAME: ..." and returns the value, or @def when the member is
 * absent (and @required is false) or invalid.
 */
long long nc_v_int(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
                   bool required, long long min, long long max, long long def);
bool nc_v_bool(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
               bool def);
/* Returns the index of the value in the NULL-terminated @values. */
int nc_v_enum(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
              const char *const *values, int def);
/* Returns a borrowed string (valid while @obj lives), or NULL. The string
 * must be valid UTF-8 without control characters and at most @maxlen long. */
const char *nc_v_string(struct nc_verr *e, const cJSON *obj, const char *path,
                        const char *name, bool required, size_t maxlen);
/* nc_v_string() for lines of text (optional): tab, CR and LF allowed,
 * at most @maxbytes bytes. */
const char *nc_v_text(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
                      size_t maxbytes);
/* The checks of nc_v_string() (@lines false, @max characters) or of
 * nc_v_text() (@lines true, @max bytes) on value @v, an array's item say,
 * reported as field @f. */
const char *nc_v_string_value(struct nc_verr *e, const cJSON *v, const char *f, bool lines,
                              size_t max);
/* A DNS label (see nc_is_dns_label); borrowed, or NULL. */
const char *nc_v_dns_label(struct nc_verr *e, const cJSON *obj, const char *path,
                           const char *name, bool required);
/* A size (schema/quantity.h) from @min to @max bytes, a multiple of @align. */
uint64_t nc_v_quantity(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
                       bool required, uint64_t min, uint64_t max, uint64_t align);
/* A duration (schema/quantity.h) from @min to @max seconds; 0 when absent
 * or wrong. */
uint64_t nc_v_duration(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
                       bool required, uint64_t min, uint64_t max);
/* An absolute path without "." or ".." components; borrowed, or NULL. */
const char *nc_v_abs_path(struct nc_verr *e, const cJSON *obj, const char *path,
                          const char *name, bool required);
/* nc_v_abs_path() of value @v, reported as field @f. */
const char *nc_v_abs_path_value(struct nc_verr *e, const cJSON *v, const char *f);
/* An object member; reports a wrong type. Borrowed, or NULL. */
const cJSON *nc_v_object(struct nc_verr *e, const cJSON *obj, const char *path,
                         const char *name, bool required);
/* A map of labels (schema/labels.h) of at most @max entries, at least one
 * when @required; borrowed, or NULL (absent or invalid). */
const cJSON *nc_v_labels(struct nc_verr *e, const cJSON *obj, const char *path,
                         const char *name, bool required, int max);
/* An array member of at most @max items; borrowed, or NULL. */
const cJSON *nc_v_array(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
                        int max);

/*
 * Checks the envelope every manifest shares: apiVersion, @kind, metadata
 * (name, namespace, labels, annotations) and a spec object, and that the
 * document's namespace and name agree with the ones of its key. @ns and
 * @name come from the key and are checked as DNS labels too; NULL when the
 * document has no key yet (novactl). Returns the spec object (borrowed from
 * @doc) or NULL when there is none.
 */
/* True, after adding the reason to @errs, when a document of @len bytes
 * is over NC_DOC_MAX. */
bool nc_doc_too_large(size_t len, struct nc_verr *errs);

/*
 * Parses @json, which must be one JSON value and nothing after it but
 * white space (as novactl's manifest reader demands). Returns the
 * document (caller frees with cJSON_Delete()) or NULL after adding the
 * reason to @errs.
 */
cJSON *nc_json_parse_whole(const char *json, struct nc_verr *errs);

/*
 * The body of every kind's text entry point: parses @json and hands the
 * document to @from_json, or reports why it cannot.
 */
#define NC_V_PARSE(from_json, json, ns, name, ret, errs)                                        \
    do {                                                                                        \
        cJSON *doc_;                                                                            \
        int r_;                                                                                 \
                                                                                                \
        memset((ret), 0, sizeof(*(ret)));                                                       \
        if (nc_doc_too_large(strlen(json), (errs)))                                             \
            return -EINVAL;                                                                     \
        if (nc_json_has_nul_escape(json)) {                                                     \
            nc_verr_add((errs), "(document)", "must not contain \\u0000");                     \
            return -EINVAL;                                                                     \
        }                                                                                       \
        if (!(doc_ = nc_json_parse_whole(json, (errs))))                                        \
            return -EINVAL;                                                                     \
        r_ = from_json(doc_, (ns), (name), (ret), (errs));                                      \
        cJSON_Delete(doc_);                                                                     \
        return r_;                                                                              \
    } while (0)

const cJSON *nc_v_envelope(struct nc_verr *e, const cJSON *doc, const char *kind, const char *ns,
                           const char *name);

#endif
