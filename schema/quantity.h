/* Sizes and durations as users write them: "256MiB", "10Gi", or a JSON
 * integer byte count; "90s", "1h30m", "7d". */
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

/*
 * Parses a duration: one or more decimal numbers each followed by a unit,
 * d, h, m or s, in that order and each at most once ("1h30m", "45s",
 * "7d"). No sign, no spaces, no fractions. Returns 0 and sets *ret_seconds,
 * -EINVAL for anything else, -ERANGE past 2^32 seconds.
 */
int nc_duration_parse(const char *s, uint64_t *ret_seconds) __attribute__((warn_unused_result));

#endif
