#include <stdio.h>
#include <string.h>

#include "drivers/fake/peers.h"

void
fake_peers_add(struct fake_peers *p, const char *uri, void *to)
{
    if (p->n == FAKE_MAX_PEERS)
        return;
    snprintf(p->at[p->n].uri, sizeof(p->at[p->n].uri), "%s", uri);
    p->at[p->n++].to = to;
}

void *
fake_peers_find(const struct fake_peers *p, const char *uri)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->at[i].uri, uri) == 0)
            return p->at[i].to;
    return NULL;
}
