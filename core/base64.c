/*
 * base64 is written here rather than taken from a library: libcurl and
 * libevent keep theirs private, and adding OpenSSL or GLib for forty lines
 * would cost more than it saves. The unit tests cover RFC 4648's vectors.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
nc_b64_encode(const void *in, size_t len)
{
    const unsigned char *p = in;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    char *o = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = len - i;

        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        *o++ = left > 2 ? alphabet[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int
sextet(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;

    return p ? (int)(p - alphabet) : -1;
}

char *
nc_b64_decode(const char *in, size_t *ret_len)
{
    size_t n = strlen(in), o = 0;
    char *out;

    if (n % 4 != 0)
        return NULL;
    out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 4) {
        int a = sextet(in[i]), b = sextet(in[i + 1]);
        int c = in[i + 2] == '=' ? -2 : sextet(in[i + 2]);
        int d = in[i + 3] == '=' ? -2 : sextet(in[i + 3]);
        bool last = i + 4 == n;

        /* Padding only at the very end, and "x=y=" is not a thing. */
        if (a < 0 || b < 0 || c == -1 || d == -1 || (!last && (c < 0 || d < 0)) ||
            (c == -2 && d != -2))
            goto fail;
        out[o++] = (char)(a << 2 | b >> 4);
        if (c >= 0)
            out[o++] = (char)((b & 15) << 4 | c >> 2);
        if (d >= 0)
            out[o++] = (char)((c & 3) << 6 | d);
    }
    out[o] = '\0';
    if (ret_len)
        *ret_len = o;
    return out;

fail:
    free(out);
    return NULL;
}
