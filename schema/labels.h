/*
 * Labels (schema/README.md §2): key/value pairs on documents and nodes,
 * and the selectors that pick them. Keys are qualified names as in
 * Kubernetes (an optional DNS-subdomain prefix and '/', then a name of at
 * most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends);
 * values are such a name, or empty.
 */
#ifndef NC_SCHEMA_LABELS_H
#define NC_SCHEMA_LABELS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The label every node has implicitly: its name. The default topology
 * key of anti-affinity ("not on the same node"). */
#define NC_LABEL_NODE "novacron.io/node"
/* The longest key: a 253-character prefix, '/', a 63-character name. */
#define NC_LABEL_KEY_MAX 317
#define NC_LABEL_VALUE_MAX 63

struct nc_labels {
    unsigned n;
    char **kv; /* kv[2i] is a key, kv[2i+1] its value; NULL when n is 0 */
};

bool nc_is_label_key(const char *s);
bool nc_is_label_value(const char *s);

/* Copies the string members of JSON object @map (NULL: none) into @ret,
 * in order, as they are (a map the validators passed has no key twice).
 * 0 or -ENOMEM (@ret is then empty). */
int nc_labels_from_json(const cJSON *map, struct nc_labels *ret)
    __attribute__((warn_unused_result));
/* Adds @key=@value (copied), replacing an earlier value of @key. 0 or -ENOMEM. */
int nc_labels_set(struct nc_labels *l, const char *key, const char *value)
    __attribute__((warn_unused_result));
void nc_labels_clear(struct nc_labels *l);
/* The value of @key, NULL when @l has none. Borrowed. */
const char *nc_labels_get(const struct nc_labels *l, const char *key);
/* True when @l has every key of @selector with the same value (an empty
 * selector matches everything). */
bool nc_labels_match(const struct nc_labels *selector, const struct nc_labels *l);
/* @l as a JSON object; NULL on out of memory. */
cJSON *nc_labels_to_json(const struct nc_labels *l);

#endif
