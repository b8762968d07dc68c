/* fuzz_base64.c: libFuzzer target for MEMORY_PRESSURE_WRITE's decoder (vigil_base64_decode()).
 *
 * Properties: nothing is read or written outside the input and an output buffer of exactly the
 * room given (ASan); an input the decoder takes is base64 in its one reading, so encoding the
 * bytes again gives the input back once padded to a multiple of 4; the output never exceeds
 * three bytes per four characters; a refusal is -EINVAL or -ENOBUFS and nothing else. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil_pressure.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A second encoder, padded, written for this check alone. Returns the length of out. */
static size_t encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = ALPHABET[v >> 18 & 63];
        out[o++] = ALPHABET[v >> 12 & 63];
        out[o++] = i + 1 < len ? ALPHABET[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? ALPHABET[v & 63] : '=';
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the room, so that -ENOBUFS is reached too. */
    size_t room = size ? data[0] % (VIGIL_PRESSURE_WRITE_MAX + 1) : 0;
    const char *in = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    unsigned char *out = malloc(room ? room : 1);
    size_t n = 0;

    int r = vigil_base64_decode(in, len, out, room, &n);
    if (r == 0) {
        if (n > room || n > len / 4 * 3 + 2)
            abort();
        char *again = malloc(n / 3 * 4 + 8);
        size_t m = encode(out, n, again);
        /* The input, padded: equal to the encoding of what it decoded to. */
        if (m < len || memcmp(again, in, len) != 0)
            abort();
        for (size_t i = len; i < m; i++)
            if (again[i] != '=')
                abort();
        free(again);
    } else if (r != -EINVAL && r != -ENOBUFS) {
        abort();
    }
    free(out);
    return 0;
}
