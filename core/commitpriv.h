/* core/commit.c's test-only exports. */
#ifndef NC_COMMITPRIV_H
#define NC_COMMITPRIV_H

#include <stddef.h>

struct nc_commit;

/* How many transactions wait for a request to take them. */
size_t nc_commit_pending(struct nc_commit *g);

#endif
