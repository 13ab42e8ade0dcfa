/* Sizes as users write them: "256MiB", "10Gi", or a JSON integer byte count. */
#ifndef NC_QUANTITY_H
#define NC_QUANTITY_H

#include <stdint.h>

/*
 * Parses a size: decimal digits, optionally followed by a binary suffix
 * Ki, Mi, Gi, Ti (each also with a trailing "B"). No sign, no spaces, no
 * fractions, no leading zeros. Returns 0 and sets *ret_bytes, -EINVAL for anything else,
 * -ERANGE when the value does not fit in 64 bits.
 */
int nc_quantity_parse(const char *s, uint64_t *ret_bytes) __attribute__((warn_unused_result));

/* Formats @bytes with the largest exact binary suffix ("256MiB", "1000").
 * Returns @buf. */
char *nc_quantity_format(uint64_t bytes, char *buf, size_t bufsz);

#endif
