#include <stdarg.h>
#include <stdio.h>

#include "drivers/error.h"

static __thread char errbuf[512];

int
nc_drv_fail(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
    return err;
}

const char *
nc_drv_errmsg(void)
{
    return errbuf;
}
