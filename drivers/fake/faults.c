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

int
fake_faults_enter(struct fake_faults *f, const char *who, const char *op)
{
    int i = op_index(f, op);

    if (i < 0)
        return 0;
    f->calls[i]++;
    if (f->times[i] == 0)
        return 0;
    f->times[i]--;
    return nc_drv_fail(f->err[i], "%s: failure injected by %s", op, who);
}

void
fake_faults_set(struct fake_faults *f, const char *op, int err, unsigned times)
{
    int i = op_index(f, op);

    if (i >= 0) {
        f->err[i] = err;
        f->times[i] = times;
    }
}

unsigned
fake_faults_calls(const struct fake_faults *f, const char *op)
{
    int i = op_index(f, op);

    return i < 0 ? 0 : f->calls[i];
}
