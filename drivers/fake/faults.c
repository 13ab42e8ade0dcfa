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
