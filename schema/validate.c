#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/quantity.h"
#include "schema/labels.h"
#include "schema/validate.h"

struct nc_verr {
    char **msgs;
    size_t n, cap; /* kept */
    size_t total;  /* added */
};

struct nc_verr *
nc_verr_new(void)
{
    return calloc(1, sizeof(struct nc_verr));
}

struct nc_verr *
nc_verr_free(struct nc_verr *e)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    free(e);
    return NULL;
}

void
nc_verr_add(struct nc_verr *e, const char *field, const char *fmt, ...)
{
    char reason[512];
    char *msg;
    va_list ap;

    if (e->total++ >= NC_VERR_KEEP)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        char **m = realloc(e->msgs, cap * sizeof(*m));

        if (!m)
            return;
        e->msgs = m;
        e->cap = cap;
    }
    if (asprintf(&msg, "%s: %s", field, reason) < 0)
        return;
    e->msgs[e->n++] = msg;
}

size_t
nc_verr_count(const struct nc_verr *e)
{
    return e->total;
}

size_t
nc_verr_kept(const struct nc_verr *e)
{
    return e->n;
}

const char *
nc_verr_get(const struct nc_verr *e, size_t i)
{
    return i < e->n ? e->msgs[i] : NULL;
}

char *
nc_verr_join(const struct nc_verr *e)
{
    size_t len = 64;
    char *out;

    for (size_t i = 0; i < e->n; i++)
        len += strlen(e->msgs[i]) + 2;
    out = malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < e->n; i++) {
        if (i)
            strcat(out, "; ");
        strcat(out, e->msgs[i]);
    }
    if (e->total > e->n)
        sprintf(out + strlen(out), "; and %zu more errors", e->total - e->n);
    return out;
}

bool
nc_json_has_nul_escape(const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p != '\\')
            continue;
        if (p[1] == 'u' && strncmp(p + 2, "0000", 4) == 0)
            return true;
        if (p[1])
            p++; /* the escaped character, which may be another backslash */
    }
    return false;
}

bool
nc_doc_too_large(size_t len, struct nc_verr *errs)
{
    if (len <= NC_DOC_MAX)
        return false;
    nc_verr_add(errs, "(document)", "is more than the %d bytes allowed", NC_DOC_MAX);
    return true;
}

cJSON *
nc_json_parse_whole(const char *json, struct nc_verr *errs)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(json, &end, false);

    if (!doc) {
        nc_verr_add(errs, "(document)", "is not valid JSON");
        return NULL;
    }
    end += strspn(end, " \t\r\n");
    if (*end) {
        cJSON_Delete(doc);
        nc_verr_add(errs, "(document)", "has text after the JSON value");
        return NULL;
    }
    return doc;
}

bool
nc_is_dns_label(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > NC_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

bool
nc_is_dns_subdomain(const char *s)
{
    char buf[254];
    char *save = NULL;
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return false;
    memcpy(buf, s, n + 1);
    for (char *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save))
        if (!nc_is_dns_label(t))
            return false;
    return true;
}

char *
nc_json_brief(const cJSON *v, char *buf, size_t bufsz)
{
    char *s = cJSON_PrintUnformatted(v);

    if (!s) {
        snprintf(buf, bufsz, "?");
        return buf;
    }
    if (strlen(s) >= bufsz && bufsz > 4)
        snprintf(buf, bufsz, "%.*s...", (int)(bufsz - 4), s);
    else
        snprintf(buf, bufsz, "%s", s);
    free(s);
    return buf;
}

/* Quotes @s as a JSON string into @buf, so user text stays one printable
 * token in a message. Returns @buf. */
static char *
brief_str(const char *s, char *buf, size_t bufsz)
{
    cJSON *tmp = cJSON_CreateString(s);

    nc_json_brief(tmp, buf, bufsz);
    cJSON_Delete(tmp);
    return buf;
}

static const char *
type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

static void
field_path(char *buf, size_t bufsz, const char *path, const char *name)
{
    if (path && *path)
        snprintf(buf, bufsz, "%s.%s", path, name);
    else
        snprintf(buf, bufsz, "%s", name);
}

struct member_pos {
    const char *name;
    size_t pos;
};

static int
cmp_member_pos(const void *a, const void *b)
{
    const struct member_pos *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Which members of @obj have the name of an earlier member: the i-th byte
 * of the result is 1 for the i-th member that does. cJSON keeps every
 * duplicate and finds the first; other parsers keep the last, so a
 * document with a repeated member means different things to different
 * readers and is refused. Sorting makes it O(n log n), so a map of 80,000
 * labels costs milliseconds, not seconds. NULL (nothing flagged) for an
 * empty object or out of memory; caller frees.
 */
static unsigned char *
repeats(const cJSON *obj)
{
    struct member_pos *all;
    unsigned char *flags;
    size_t n = 0, i = 0;
    const cJSON *m;

    cJSON_ArrayForEach(m, obj)
        n++;
    if (!n || !(all = malloc(n * sizeof(*all))))
        return NULL;
    if (!(flags = calloc(n, 1))) {
        free(all);
        return NULL;
    }
    cJSON_ArrayForEach(m, obj) {
        all[i] = (struct member_pos){m->string ? m->string : "", i};
        i++;
    }
    qsort(all, n, sizeof(*all), cmp_member_pos);
    for (i = 1; i < n; i++)
        if (strcmp(all[i].name, all[i - 1].name) == 0)
            flags[all[i].pos] = 1;
    free(all);
    return flags;
}

void
nc_v_known_fields(struct nc_verr *e, const cJSON *obj, const char *path,
                  const char *const *allowed)
{
    unsigned char *again = repeats(obj);
    const cJSON *m;
    size_t i = 0;

    cJSON_ArrayForEach(m, obj) {
        const char *const *a;
        char f[256], ename[96];

        for (a = allowed; *a; a++)
            if (strcmp(*a, m->string) == 0)
                break;
        if (!*a) {
            field_path(f, sizeof(f), path, brief_str(m->string, ename, sizeof(ename)));
            nc_verr_add(e, f, "unknown field");
        } else if (again && again[i]) {
            field_path(f, sizeof(f), path, m->string);
            nc_verr_add(e, f, "appears more than once");
        }
        i++;
    }
    free(again);
}

/* Reports a missing required member; returns the member or NULL. */
static const cJSON *
member(struct nc_verr *e, const cJSON *obj, const char *path, const char *name, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!v && required) {
        char f[256];

        field_path(f, sizeof(f), path, name);
        nc_verr_add(e, f, "is required");
    }
    return v;
}

long long
nc_v_int(struct nc_verr *e, const cJSON *obj, const char *path, const char *name, bool required,
         long long min, long long max, long long def)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256], got[96];

    if (!v)
        return def;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
        v->valuedouble >= (double)min && v->valuedouble <= (double)max)
        return (long long)v->valuedouble;
    field_path(f, sizeof(f), path, name);
    nc_verr_add(e, f, "must be an integer from %lld to %lld, got %s", min, max,
                nc_json_brief(v, got, sizeof(got)));
    return def;
}

bool
nc_v_bool(struct nc_verr *e, const cJSON *obj, const char *path, const char *name, bool def)
{
    const cJSON *v = member(e, obj, path, name, false);
    char f[256], got[96];

    if (!v)
        return def;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    field_path(f, sizeof(f), path, name);
    nc_verr_add(e, f, "must be true or false, got %s", nc_json_brief(v, got, sizeof(got)));
    return def;
}

int
nc_v_enum(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
          const char *const *values, int def)
{
    const cJSON *v = member(e, obj, path, name, false);
    char f[256], got[96], list[256] = "";

    if (!v)
        return def;
    if (cJSON_IsString(v))
        for (int i = 0; values[i]; i++)
            if (strcmp(values[i], v->valuestring) == 0)
                return i;
    for (int i = 0; values[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, values[i], sizeof(list) - strlen(list) - 1);
    }
    field_path(f, sizeof(f), path, name);
    nc_verr_add(e, f, "must be one of %s, got %s", list, nc_json_brief(v, got, sizeof(got)));
    return def;
}

/*
 * Checks that @s is well-formed UTF-8 (shortest forms only, no encoded
 * surrogates, nothing above U+10FFFF) of characters XML 1.0 can carry: no
 * control characters and neither U+FFFE nor U+FFFF. Strings end up in
 * libvirt's XML, which refuses the rest; refused here, they make the
 * object Failed with the field named instead of a definition libvirt
 * rejects on every retry.
 */
static const char *
text_problem_in(const char *s, bool lines)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned cp;
        int extra;

        if (lines && (*p == '\n' || *p == '\t' || *p == '\r')) {
            p++;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f)
            return lines ? "must not contain control characters other than tab, CR and LF"
                         : "must not contain control characters";
        if (*p < 0x80) {
            p++;
            continue;
        }
        if (*p >= 0xc2 && *p <= 0xdf)
            extra = 1, cp = *p & 0x1f;
        else if ((*p & 0xf0) == 0xe0)
            extra = 2, cp = *p & 0x0f;
        else if (*p >= 0xf0 && *p <= 0xf4)
            extra = 3, cp = *p & 0x07;
        else
            return "must be valid UTF-8";
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return "must be valid UTF-8";
            cp = cp << 6 | (*p & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return "must be valid UTF-8";
        if (cp == 0xfffe || cp == 0xffff)
            return "must not contain U+FFFE or U+FFFF, which are not characters";
    }
    return NULL;
}

static const char *
text_problem(const char *s)
{
    return text_problem_in(s, false);
}

/* Characters (code points) of well-formed UTF-8 @s, as JSON Schema's
 * maxLength counts them. */
static size_t
utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* nc_v_string() and nc_v_text(): a string member without control
 * characters (but tab, CR and LF with @lines), at most @max characters
 * (bytes with @lines). */
static const char *
string_member(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
              bool required, bool lines, size_t max)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256];

    if (!v)
        return NULL;
    field_path(f, sizeof(f), path, name);
    return nc_v_string_value(e, v, f, lines, max);
}

const char *
nc_v_string_value(struct nc_verr *e, const cJSON *v, const char *f, bool lines, size_t max)
{
    const char *why;
    char got[96];
    size_t len;

    if (!cJSON_IsString(v)) {
        nc_verr_add(e, f, "must be a string, got %s", type_name(v));
        return NULL;
    }
    if ((why = text_problem_in(v->valuestring, lines))) {
        nc_verr_add(e, f, "%s, got %s", why, nc_json_brief(v, got, sizeof(got)));
        return NULL;
    }
    len = lines ? strlen(v->valuestring) : utf8_length(v->valuestring);
    if (len > max) {
        nc_verr_add(e, f, "must be at most %zu %s long, got %zu", max,
                    lines ? "bytes" : "characters", len);
        return NULL;
    }
    return v->valuestring;
}

const char *
nc_v_string(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
            bool required, size_t maxlen)
{
    return string_member(e, obj, path, name, required, false, maxlen);
}

const char *
nc_v_text(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
          size_t maxbytes)
{
    return string_member(e, obj, path, name, false, true, maxbytes);
}

const char *
nc_v_dns_label(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
               bool required)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256], got[96];

    if (!v)
        return NULL;
    if (cJSON_IsString(v) && nc_is_dns_label(v->valuestring))
        return v->valuestring;
    field_path(f, sizeof(f), path, name);
    nc_verr_add(e, f,
                "must be a DNS label (lower-case letters, digits and '-', at most 63, "
                "starting and ending with a letter or digit), got %s",
                nc_json_brief(v, got, sizeof(got)));
    return NULL;
}

uint64_t
nc_v_quantity(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
              bool required, uint64_t min, uint64_t max, uint64_t align)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256], got[96], lo[32], hi[32], al[32];
    uint64_t bytes = 0;
    int r = -EINVAL;

    if (!v)
        return 0;
    field_path(f, sizeof(f), path, name);
    nc_json_brief(v, got, sizeof(got));
    /* A string needs its suffix: a plain byte count is a JSON number. */
    if (cJSON_IsString(v) && strspn(v->valuestring, "0123456789") < strlen(v->valuestring))
        r = nc_quantity_parse(v->valuestring, &bytes);
    else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 0x1p63 &&
             v->valuedouble == floor(v->valuedouble))
        bytes = (uint64_t)v->valuedouble, r = 0;
    if (r == -ERANGE) {
        nc_verr_add(e, f, "is too large, got %s", got);
        return 0;
    }
    if (r < 0) {
        nc_verr_add(e, f,
                    "must be a size such as \"256MiB\" or \"10GiB\" (suffixes Ki, Mi, Gi, Ti) "
                    "or a byte count as a JSON number, got %s",
                    got);
        return 0;
    }
    if (bytes < min || bytes > max) {
        nc_verr_add(e, f, "must be from %s to %s, got %s",
                    nc_quantity_format(min, lo, sizeof(lo)),
                    nc_quantity_format(max, hi, sizeof(hi)), got);
        return 0;
    }
    if (align > 1 && bytes % align != 0) {
        nc_verr_add(e, f, "must be a multiple of %s, got %s",
                    nc_quantity_format(align, al, sizeof(al)), got);
        return 0;
    }
    return bytes;
}

uint64_t
nc_v_duration(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
              bool required, uint64_t min, uint64_t max)
{
    const char *s = nc_v_string(e, obj, path, name, required, 32);
    char f[256], got[96];
    uint64_t seconds = 0;
    int r;

    if (!s)
        return 0;
    field_path(f, sizeof(f), path, name);
    r = nc_duration_parse(s, &seconds);
    if (r == 0 && seconds >= min && seconds <= max)
        return seconds;
    nc_json_brief(cJSON_GetObjectItem(obj, name), got, sizeof(got));
    if (r == -EINVAL)
        nc_verr_add(e, f, "must be a duration such as \"90s\", \"30m\", \"1h\" or \"7d\" "
                          "(units d, h, m, s, largest first), got %s",
                    got);
    else
        nc_verr_add(e, f, "must be from %llus to %llus, got %s", (unsigned long long)min,
                    (unsigned long long)max, got);
    return 0;
}

const char *
nc_v_abs_path(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
              bool required)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256];

    if (!v)
        return NULL;
    field_path(f, sizeof(f), path, name);
    return nc_v_abs_path_value(e, v, f);
}

const char *
nc_v_abs_path_value(struct nc_verr *e, const cJSON *v, const char *f)
{
    const char *s = nc_v_string_value(e, v, f, false, 4096);
    char copy[4097];
    char *save = NULL;

    if (!s)
        return NULL;
    if (s[0] != '/') {
        nc_verr_add(e, f, "must be an absolute path");
        return NULL;
    }
    snprintf(copy, sizeof(copy), "%s", s);
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
            nc_verr_add(e, f, "must not contain \".\" or \"..\" components");
            return NULL;
        }
    }
    return s;
}

const cJSON *
nc_v_object(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
            bool required)
{
    const cJSON *v = member(e, obj, path, name, required);
    char f[256];

    if (!v || cJSON_IsObject(v))
        return v;
    field_path(f, sizeof(f), path, name);
    nc_verr_add(e, f, "must be an object, got %s", type_name(v));
    return NULL;
}

const cJSON *
nc_v_array(struct nc_verr *e, const cJSON *obj, const char *path, const char *name, int max)
{
    const cJSON *v = member(e, obj, path, name, false);
    char f[256];

    if (!v)
        return NULL;
    field_path(f, sizeof(f), path, name);
    if (!cJSON_IsArray(v)) {
        nc_verr_add(e, f, "must be an array, got %s", type_name(v));
        return NULL;
    }
    if (cJSON_GetArraySize(v) > max) {
        nc_verr_add(e, f, "must have at most %d items, got %d", max, cJSON_GetArraySize(v));
        return NULL;
    }
    return v;
}

/* Labels and annotations: keys are qualified names (as in Kubernetes);
 * label values are names too, annotation values any text of at most 64KiB. */
static void
check_string_map(struct nc_verr *e, const cJSON *map, const char *path, bool labels)
{
    unsigned char *again = repeats(map);
    const cJSON *m;
    size_t i = 0;

    cJSON_ArrayForEach(m, map) {
        char f[256], got[96];
        bool repeated = again && again[i++];

        snprintf(f, sizeof(f), "%s[%s]", path, brief_str(m->string, got, sizeof(got)));
        if (!nc_is_label_key(m->string)) {
            nc_verr_add(e, f,
                        "is not a valid key (an optional DNS subdomain and '/', then at most "
                        "63 characters of [A-Za-z0-9._-], alphanumeric at both ends)");
            continue;
        }
        if (repeated) {
            nc_verr_add(e, f, "appears more than once");
            continue;
        }
        if (!cJSON_IsString(m)) {
            nc_verr_add(e, f, "must be a string, got %s", type_name(m));
            continue;
        }
        if (labels && !nc_is_label_value(m->valuestring))
            nc_verr_add(e, f, "must be at most 63 characters of [A-Za-z0-9._-], got %s",
                        nc_json_brief(m, got, sizeof(got)));
        else if (!labels && text_problem(m->valuestring))
            nc_verr_add(e, f, "%s", text_problem(m->valuestring));
        else if (!labels && utf8_length(m->valuestring) > 65536)
            nc_verr_add(e, f, "must be at most 65536 characters long");
    }
    free(again);
}

const cJSON *
nc_v_labels(struct nc_verr *e, const cJSON *obj, const char *path, const char *name,
            bool required, int max)
{
    const cJSON *map = nc_v_object(e, obj, path, name, required);
    size_t before = nc_verr_count(e);
    char f[256];

    if (!map)
        return NULL;
    field_path(f, sizeof(f), path, name);
    if (cJSON_GetArraySize(map) > max) {
        nc_verr_add(e, f, "must have at most %d labels, got %d", max, cJSON_GetArraySize(map));
        return NULL;
    }
    if (required && !map->child) {
        nc_verr_add(e, f, "must have at least one label");
        return NULL;
    }
    check_string_map(e, map, f, true);
    return nc_verr_count(e) > before ? NULL : map;
}

/* The bytes of a map's keys and string values. */
static size_t
map_size(const cJSON *map)
{
    const cJSON *m;
    size_t n = 0;

    cJSON_ArrayForEach(m, map)
        n += strlen(m->string) + (cJSON_IsString(m) ? strlen(m->valuestring) : 0);
    return n;
}

const cJSON *
nc_v_envelope(struct nc_verr *e, const cJSON *doc, const char *kind, const char *ns,
              const char *name)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    static const char *const meta_fields[] = {"name", "namespace", "labels", "annotations", NULL};
    const cJSON *meta, *v, *labels, *annotations;
    const char *s;
    char got[96];
    size_t size;

    if (ns && !nc_is_dns_label(ns))
        nc_verr_add(e, "metadata.namespace", "the key's namespace %s is not a DNS label",
                    brief_str(ns, got, sizeof(got)));
    if (name && !nc_is_dns_label(name))
        nc_verr_add(e, "metadata.name", "the key's name %s is not a DNS label",
                    brief_str(name, got, sizeof(got)));
    if (!cJSON_IsObject(doc)) {
        nc_verr_add(e, "(document)", "must be a JSON object");
        return NULL;
    }
    nc_v_known_fields(e, doc, "", top);

    v = member(e, doc, "", "apiVersion", true);
    if (v && !(cJSON_IsString(v) && strcmp(v->valuestring, NC_API_VERSION) == 0))
        nc_verr_add(e, "apiVersion", "must be \"" NC_API_VERSION "\", got %s",
                    nc_json_brief(v, got, sizeof(got)));
    v = member(e, doc, "", "kind", true);
    if (v && !(cJSON_IsString(v) && strcmp(v->valuestring, kind) == 0))
        nc_verr_add(e, "kind", "must be \"%s\" for this key, got %s", kind,
                    nc_json_brief(v, got, sizeof(got)));

    meta = nc_v_object(e, doc, "", "metadata", true);
    if (meta) {
        nc_v_known_fields(e, meta, "metadata", meta_fields);
        s = nc_v_dns_label(e, meta, "metadata", "name", true);
        if (s && name && strcmp(s, name) != 0)
            nc_verr_add(e, "metadata.name", "%s disagrees with the key's name",
                        brief_str(s, got, sizeof(got)));
        s = nc_v_dns_label(e, meta, "metadata", "namespace", false);
        if (s && ns && strcmp(s, ns) != 0)
            nc_verr_add(e, "metadata.namespace", "%s disagrees with the key's namespace",
                        brief_str(s, got, sizeof(got)));
        labels = nc_v_object(e, meta, "metadata", "labels", false);
        annotations = nc_v_object(e, meta, "metadata", "annotations", false);
        size = map_size(labels) + map_size(annotations);
        if (size > NC_META_MAX) {
            nc_verr_add(e, "metadata", "labels and annotations hold %zu bytes, more than the "
                        "%d allowed together", size, NC_META_MAX);
        } else {
            if (labels)
                check_string_map(e, labels, "metadata.labels", true);
            if (annotations)
                check_string_map(e, annotations, "metadata.annotations", false);
        }
    }
    return nc_v_object(e, doc, "", "spec", true);
}
