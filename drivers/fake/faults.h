/*
 * What every fake driver shares: a count of the calls of each operation,
 * and failures a test asks for ("the next 2 calls of define fail with
 * -EIO"). Thread-safe: it has a lock of its own.
 */
#ifndef NC_FAKE_FAULTS_H
#define NC_FAKE_FAULTS_H

#include <pthread.h>

#define FAKE_MAX_OPS 16

struct fake_faults {
    pthread_mutex_t lock;
    const char *const *ops; /* the operations' names, NULL-terminated */
    unsigned calls[FAKE_MAX_OPS];
    int err[FAKE_MAX_OPS];
    unsigned times[FAKE_MAX_OPS];
};

/* Sets up @f for the operations named in @ops (NULL-terminated, static). */
void fake_faults_init(struct fake_faults *f, const char *const *ops);
void fake_faults_fini(struct fake_faults *f);

/* Counts a call of @op; returns the error it must fail with (the reason
 * in nc_drv_errmsg(), naming @who), or 0. */
int fake_faults_enter(struct fake_faults *f, const char *who, const char *op);

/* The next @times calls of @op fail with @err. Unknown operations are
 * ignored. */
void fake_faults_set(struct fake_faults *f, const char *op, int err, unsigned times);

/* How many calls of @op were made, failed ones included. */
unsigned fake_faults_calls(struct fake_faults *f, const char *op);

#endif
