/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int sim_bytes_reserve(sim_bytes *b, size_t extra)
{
    size_t need = b->len + extra;
    size_t cap;
    uint8_t *p;

    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    /* Allocate fresh and wipe the old block instead of realloc, which could
     * leave key bytes behind in freed memory. */
    p = malloc(cap);
    if (p == NULL)
        return -1;
    if (b->data != NULL) {
        memcpy(p, b->data, b->len);
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int sim_bytes_append(sim_bytes *b, const void *p, size_t n)
{
    if (sim_bytes_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sim_bytes_append_byte(sim_bytes *b, uint8_t v)
{
    return sim_bytes_append(b, &v, 1);
}

int sim_bytes_set(sim_bytes *b, const void *p, size_t n)
{
    sim_bytes_clear(b);
    return sim_bytes_append(b, p, n);
}

void sim_bytes_clear(sim_bytes *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->len);
    b->len = 0;
}

void sim_bytes_free(sim_bytes *b)
{
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

int sim_tlv_next(const uint8_t **p, size_t *left, unsigned *tag, const uint8_t **val,
                 size_t *vlen)
{
    const uint8_t *q = *p;
    size_t n = *left;
    unsigned t;
    size_t l;

    if (n == 0)
        return 0;
    t = *q++;
    n--;
    if ((t & 0x1f) == 0x1f) {
        /* Multi-byte tag: continuation bytes have bit 8 set; at most 3 bytes in all. */
        int i;
        for (i = 0;; i++) {
            if (n == 0 || i == 2)
                return -1;
            t = (t << 8) | *q;
            n--;
            if ((*q++ & 0x80) == 0)
                break;
        }
    }
    if (n == 0)
        return -1;
    l = *q++;
    n--;
    if (l & 0x80) {
        size_t k = l & 0x7f;
        if (k == 0 || k > 3 || k > n)
            return -1;
        l = 0;
        while (k--) {
            l = (l << 8) | *q++;
            n--;
        }
    }
    if (l > n)
        return -1;
    *tag = t;
    *val = q;
    *vlen = l;
    *p = q + l;
    *left = n - l;
    return 1;
}

int sim_tlv_find(const uint8_t *buf, size_t len, unsigned tag, const uint8_t **val, size_t *vlen)
{
    unsigned t;
    int rc;

    while ((rc = sim_tlv_next(&buf, &len, &t, val, vlen)) == 1) {
        if (t == tag)
            return 1;
    }
    return rc;
}

size_t sim_tlv_len_size(size_t vlen)
{
    if (vlen < 0x80)
        return 1;
    if (vlen < 0x100)
        return 2;
    if (vlen < 0x10000)
        return 3;
    return 4;
}

int sim_tlv_put_header(sim_bytes *out, unsigned tag, size_t vlen)
{
    uint8_t h[8];
    size_t n = 0;

    if (tag > 0xffff)
        h[n++] = (uint8_t)(tag >> 16);
    if (tag > 0xff)
        h[n++] = (uint8_t)(tag >> 8);
    h[n++] = (uint8_t)tag;
    if (vlen < 0x80) {
        h[n++] = (uint8_t)vlen;
    } else if (vlen < 0x100) {
        h[n++] = 0x81;
        h[n++] = (uint8_t)vlen;
    } else if (vlen < 0x10000) {
        h[n++] = 0x82;
        h[n++] = (uint8_t)(vlen >> 8);
        h[n++] = (uint8_t)vlen;
    } else {
        h[n++] = 0x83;
        h[n++] = (uint8_t)(vlen >> 16);
        h[n++] = (uint8_t)(vlen >> 8);
        h[n++] = (uint8_t)vlen;
    }
    return sim_bytes_append(out, h, n);
}

int sim_tlv_put(sim_bytes *out, unsigned tag, const uint8_t *val, size_t vlen)
{
    if (sim_tlv_put_header(out, tag, vlen) != 0)
        return -1;
    return sim_bytes_append(out, val, vlen);
}
