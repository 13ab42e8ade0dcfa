/*
 * What every fake driver shares: a count of the calls of each operation,
 * and failures a test asks for ("the next 2 calls of define fail with
 * -EIO"). Thread-safe: it has a lock of its own.
 */
#ifndef NC_FAKE_FAULTS_H
#define NC_FAKE_FAULTS_H

#include <pthread.h>
#include <stdbool.h>

#define FAKE_MAX_OPS 24

/*
 * A sweep over every driver call, whichever fake makes it: the fakes that
 * joined it count each call in it, and the fail_at-th call from arming
 * fails with err, once. It also lists the distinct calls it failed, as
 * "table.op", so a test can say how many sites were covered.
 */
#define FAKE_SWEEP_MAX_SITES 64

struct fake_sweep {
    pthread_mutex_t lock;
    unsigned count, fail_at; /* fail_at 0: disarmed */
    int err;
    char failed[48];         /* the call that failed last, "" for none */
    unsigned n_sites;
    char sites[FAKE_SWEEP_MAX_SITES][48];
};

void fake_sweep_init(struct fake_sweep *s);
void fake_sweep_fini(struct fake_sweep *s);
/* From now on the @nth call fails with @err; failed[] is cleared. */
void fake_sweep_arm(struct fake_sweep *s, unsigned nth, int err);
/* Disarms it; returns true when the armed call was made (and failed). */
bool fake_sweep_disarm(struct fake_sweep *s);

/*
 * The etcd client's seam in a sweep: set nc_etcd_conf.inject_fault to it
 * and fault_data to the sweep. Each request is two calls: "etcd.kv.txn"
 * fails it unsent, "etcd.kv.txn:answer" loses the answer of a request
 * etcd applied (a timeout after the commit).
 */
int fake_sweep_etcd(void *sweep, const char *path, bool answered);

struct fake_faults {
    pthread_mutex_t lock;
    struct fake_sweep *sweep; /* NULL: not in a sweep */
    const char *table;        /* its name in the sweep: "hv", "st"... */
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

/* Joins @f, the faults of table @table, to sweep @s. */
void fake_faults_join(struct fake_faults *f, struct fake_sweep *s, const char *table);

/* How many calls of @op were made, failed ones included. */
unsigned fake_faults_calls(struct fake_faults *f, const char *op);

#endif
