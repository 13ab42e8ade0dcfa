/*
 * fake_st: in-memory storage pools and volumes behind the storage table
 * (drivers/storage.h), for unit tests of the reconcilers. A test makes
 * pools, can make any call fail on demand, and counts the calls made.
 * Volumes' paths are "/fake/POOL/NAME".
 */
#ifndef NC_FAKE_STORAGE_H
#define NC_FAKE_STORAGE_H

#include <stddef.h>

#include "drivers/fake/faults.h"
#include "drivers/storage.h"

/* 0 and an empty fake in *@ret_st, or -ENOMEM. Close with nc_st_close(). */
int fake_st_open(struct nc_st **ret_st) __attribute__((warn_unused_result));

/* Adds an active pool @name. */
void fake_st_add_pool(struct nc_st *st, const char *name);

/* The next @times calls of operation @op ("create", "lookup", ... as in
 * struct nc_st_ops) fail with @err, a negative errno. */
void fake_st_fail(struct nc_st *st, const char *op, int err, unsigned times);

/* How many calls of @op were made, failed ones included. */
unsigned fake_st_calls(struct nc_st *st, const char *op);

/* How many volumes there are, in every pool. */
size_t fake_st_count(struct nc_st *st);

/* A send from @st to @uri (the peer's libvirt URI) goes to @peer, another
 * fake. */
void fake_st_link(struct nc_st *st, const char *uri, struct nc_st *peer);

/* Writes @write (unless 0) as the content of volume @name of @pool, which
 * a send copies; returns its content (0: none, or no such volume). */
unsigned fake_st_content(struct nc_st *st, const char *pool, const char *name, unsigned write);

/* Joins its calls to @s (drivers/fake/faults.h). */
void fake_st_sweep(struct nc_st *st, struct fake_sweep *s);

#endif
