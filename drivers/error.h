/*
 * How every driver reports why a call failed: it returns a negative errno
 * and leaves the reason, one line, in a buffer of the calling thread that
 * all drivers share, read with nc_drv_errmsg(). One buffer, so whichever
 * driver a reconciler called last, it reads that driver's reason (three
 * buffers of their own let callers read the wrong one).
 */
#ifndef NC_DRIVER_ERROR_H
#define NC_DRIVER_ERROR_H

/* Records the reason for this thread's last failure; returns @err. */
int nc_drv_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason of this thread's last driver failure; valid until its next. */
const char *nc_drv_errmsg(void);

#endif
