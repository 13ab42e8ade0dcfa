#include <stdio.h>
#include <string.h>

#include "drivers/error.h"
#include "drivers/fake/faults.h"

static int
op_index(const struct fake_faults *f, const char *op)
{
    for (int i = 0; i < FAKE_MAX_OPS && f->ops[i]; i++)
        if (strcmp(f->ops[i], op) == 0)
            return i;
    return -1;
}

void
fake_faults_init(struct fake_faults *f, const char *const *ops)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->ops = ops;
}

void
fake_faults_fini(struct fake_faults *f)
{
    pthread_mutex_destroy(&f->lock);
}

/* Counts call @table.@op in sweep @s (NULL: none); the error it must
 * fail with, or 0. */
static int
sweep_enter(struct fake_sweep *s, const char *table, const char *op)
{
    int err = 0;

    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    if (s->fail_at && ++s->count == s->fail_at) {
        bool seen = false;

        err = s->err;
        snprintf(s->failed, sizeof(s->failed), "%s.%s", table, op);
        for (unsigned i = 0; i < s->n_sites && !seen; i++)
            seen = strcmp(s->sites[i], s->failed) == 0;
        if (!seen && s->n_sites < FAKE_SWEEP_MAX_SITES)
            snprintf(s->sites[s->n_sites++], sizeof(s->sites[0]), "%s", s->failed);
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

void
fake_sweep_init(struct fake_sweep *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
}

void
fake_sweep_fini(struct fake_sweep *s)
{
    pthread_mutex_destroy(&s->lock);
}

void
fake_sweep_arm(struct fake_sweep *s, unsigned nth, int err)
{
    pthread_mutex_lock(&s->lock);
    s->count = 0;
    s->fail_at = nth;
    s->err = err;
    s->failed[0] = '\0';
    pthread_mutex_unlock(&s->lock);
}

bool
fake_sweep_disarm(struct fake_sweep *s)
{
    bool hit;

    pthread_mutex_lock(&s->lock);
    hit = s->failed[0] != '\0';
    s->fail_at = 0;
    pthread_mutex_unlock(&s->lock);
    return hit;
}

void
fake_faults_join(struct fake_faults *f, struct fake_sweep *s, const char *table)
{
    pthread_mutex_lock(&f->lock);
    f->sweep = s;
    f->table = table;
    pthread_mutex_unlock(&f->lock);
}

int
fake_faults_enter(struct fake_faults *f, const char *who, const char *op)
{
    int i = op_index(f, op), err = 0;

    if (i < 0)
        return 0;
    pthread_mutex_lock(&f->lock);
    f->calls[i]++;
    if (f->times[i]) {
        f->times[i]--;
        err = f->err[i];
    }
    pthread_mutex_unlock(&f->lock);
    if (!err)
        err = sweep_enter(f->sweep, f->table, op);
    return err ? nc_drv_fail(err, "%s: failure injected by %s", op, who) : 0;
}

void
fake_faults_set(struct fake_faults *f, const char *op, int err, unsigned times)
{
    int i = op_index(f, op);

    if (i < 0)
        return;
    pthread_mutex_lock(&f->lock);
    f->err[i] = err;
    f->times[i] = times;
    pthread_mutex_unlock(&f->lock);
}

unsigned
fake_faults_calls(struct fake_faults *f, const char *op)
{
    int i = op_index(f, op);
    unsigned n;

    if (i < 0)
        return 0;
    pthread_mutex_lock(&f->lock);
    n = f->calls[i];
    pthread_mutex_unlock(&f->lock);
    return n;
}

int
fake_sweep_etcd(void *data, const char *path, bool answered)
{
    char op[40];
    const char *p = strncmp(path, "/v3/", 4) == 0 ? path + 4 : path;

    /* "/v3/kv/txn" is "kv.txn", or "kv.txn:answer" once answered. */
    snprintf(op, sizeof(op), "%.28s%s", p, answered ? ":answer" : "");
    for (char *c = op; *c; c++)
        if (*c == '/')
            *c = '.';
    return sweep_enter(data, "etcd", op);
}
