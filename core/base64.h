/* Standard base64 (RFC 4648, with padding), as the etcd gateway speaks it. */
#ifndef NC_BASE64_H
#define NC_BASE64_H

#include <stddef.h>

/* Returns a NUL-terminated encoding of @len bytes at @in; caller frees.
 * NULL only when out of memory. */
char *nc_b64_encode(const void *in, size_t len);

/*
 * Decodes @in. Returns the bytes, followed by a NUL that @ret_len does not
 * count, so text values can be used as strings; caller frees. NULL when @in
 * is not valid padded base64 or on out of memory.
 */
char *nc_b64_decode(const char *in, size_t *ret_len);

#endif
