/* What every fuzz target shares: the input as a C string. */
#ifndef NC_FUZZ_H
#define NC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @data as a NUL-terminated string (cut at its first NUL). Caller frees. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* A check that must hold whatever the input: a fuzzer finding its
 * failure is a bug found. */
#define FUZZ_ASSERT(cond)                                                                       \
    do {                                                                                        \
        if (!(cond))                                                                            \
            abort();                                                                            \
    } while (0)

#endif
