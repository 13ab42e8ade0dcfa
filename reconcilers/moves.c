#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uthash.h>

#include "reconcilers/moves.h"

struct entry {
    char key[2 * NC_NAME_MAX + 2];    /* "ns/migration" */
    char vm_key[2 * NC_NAME_MAX + 2]; /* "ns/vm" */
    char ns[NC_NAME_MAX + 1];
    struct nc_move mv;
    bool landed;  /* Succeeded (else in flight) */
    int64_t rev;
    UT_hash_handle hh, hh_vm;
};

struct nc_moves {
    pthread_mutex_t lock;
    struct entry *by_key, *by_vm;
};

struct nc_moves *
nc_moves_new(void)
{
    struct nc_moves *m = calloc(1, sizeof(*m));

    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void
drop(struct nc_moves *m, struct entry *e)
{
    struct entry *v;

    HASH_DEL(m->by_key, e);
    HASH_FIND(hh_vm, m->by_vm, e->vm_key, strlen(e->vm_key), v);
    if (v == e)
        HASH_DELETE(hh_vm, m->by_vm, e);
    free(e);
}

void
nc_moves_free(struct nc_moves *m)
{
    struct entry *e, *tmp;

    if (!m)
        return;
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, m->by_key, e, tmp)
        drop(m, e);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Reads a status in flight, or one that Succeeded (*@landed), into
 * @ret; false for any other. */
static bool
parse(const char *json, struct nc_move *ret, bool *landed)
{
    cJSON *st = json ? cJSON_Parse(json) : NULL;
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"));
    const char *vm = cJSON_GetStringValue(cJSON_GetObjectItem(st, "vm"));
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(st, "sourceNode"));
    const char *dst = cJSON_GetStringValue(cJSON_GetObjectItem(st, "targetNode"));
    bool ok = phase && vm && src && dst && nc_is_dns_label(vm) && strlen(src) < sizeof(ret->source) &&
              strlen(dst) < sizeof(ret->target) &&
              (strcmp(phase, "Scheduling") == 0 || strcmp(phase, "Running") == 0 ||
               strcmp(phase, "Succeeded") == 0);

    if (ok) {
        snprintf(ret->vm, sizeof(ret->vm), "%s", vm);
        snprintf(ret->source, sizeof(ret->source), "%s", src);
        snprintf(ret->target, sizeof(ret->target), "%s", dst);
        ret->running = strcmp(phase, "Running") == 0;
        *landed = strcmp(phase, "Succeeded") == 0;
    }
    cJSON_Delete(st);
    return ok;
}

void
nc_moves_note(struct nc_moves *m, const char *ns, const char *name, const char *json,
              int64_t rev)
{
    struct nc_move mv = {0};
    struct entry *e, *v;
    char key[2 * NC_NAME_MAX + 2];
    bool landed = false, known = parse(json, &mv, &landed);

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    pthread_mutex_lock(&m->lock);
    HASH_FIND_STR(m->by_key, key, e);
    if (e)
        drop(m, e);
    if (known && (e = calloc(1, sizeof(*e)))) {
        snprintf(mv.migration, sizeof(mv.migration), "%s", name);
        e->mv = mv;
        e->landed = landed;
        e->rev = rev;
        snprintf(e->key, sizeof(e->key), "%s", key);
        snprintf(e->ns, sizeof(e->ns), "%s", ns);
        snprintf(e->vm_key, sizeof(e->vm_key), "%s/%s", ns, mv.vm);
        HASH_ADD_STR(m->by_key, key, e);
        /* One migration per VM is in flight (the scheduler sees to it). */
        HASH_FIND(hh_vm, m->by_vm, e->vm_key, strlen(e->vm_key), v);
        if (!v && !landed)
            HASH_ADD(hh_vm, m->by_vm, vm_key, strlen(e->vm_key), e);
    }
    pthread_mutex_unlock(&m->lock);
}

bool
nc_moves_of_vm(struct nc_moves *m, const char *ns, const char *vm, struct nc_move *ret)
{
    char key[2 * NC_NAME_MAX + 2];
    struct entry *e;

    snprintf(key, sizeof(key), "%s/%s", ns, vm);
    pthread_mutex_lock(&m->lock);
    HASH_FIND(hh_vm, m->by_vm, key, strlen(key), e);
    if (e)
        *ret = e->mv;
    pthread_mutex_unlock(&m->lock);
    return e != NULL;
}

bool
nc_moves_landed(struct nc_moves *m, const char *ns, const char *vm, char node[254],
                int64_t *ret_rev)
{
    struct entry *e;
    bool found = false;

    pthread_mutex_lock(&m->lock);
    for (e = m->by_key; e; e = e->hh.next) {
        if (e->landed && e->rev > *ret_rev && strcmp(e->ns, ns) == 0 &&
            strcmp(e->mv.vm, vm) == 0) {
            snprintf(node, 254, "%s", e->mv.target);
            *ret_rev = e->rev;
            found = true;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

void
nc_moves_foreach(struct nc_moves *m,
                 void (*fn)(void *data, const char *ns, const struct nc_move *mv), void *data)
{
    struct entry *e;

    pthread_mutex_lock(&m->lock);
    for (e = m->by_key; e; e = e->hh.next)
        if (!e->landed)
            fn(data, e->ns, &e->mv);
    pthread_mutex_unlock(&m->lock);
}
