/*
 * The other fakes a fake reaches by URI, as a libvirt connection reaches
 * another host: where a migration or a volume's stream goes. Not locked:
 * the fake that holds it locks it with the rest of its state.
 */
#ifndef NC_FAKE_PEERS_H
#define NC_FAKE_PEERS_H

#include <stddef.h>

#define FAKE_MAX_PEERS 4

struct fake_peers {
    size_t n;
    struct {
        char uri[128];
        void *to;
    } at[FAKE_MAX_PEERS];
};

/* @uri now leads to @to, a fake's own state; past FAKE_MAX_PEERS, nowhere. */
void fake_peers_add(struct fake_peers *p, const char *uri, void *to);

/* What @uri leads to, or NULL. */
void *fake_peers_find(const struct fake_peers *p, const char *uri);

#endif
