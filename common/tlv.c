/* SPDX-License-Identifier: Apache-2.0 */
#include "tlv.h"

int pico_tlv_next(const uint8_t **p, size_t *left, pico_tlv *out)
{
    const uint8_t *q = *p;
    size_t n = *left, len, i;
    unsigned tag;

    if (n == 0)
        return 0;
    tag = *q++;
    n--;
    if ((tag & 0x1F) == 0x1F) {
        /* subsequent tag bytes: bit 8 set means one more follows; three bytes at most */
        for (i = 0;; i++) {
            if (n == 0 || i == 2)
                return -1;
            tag = tag << 8 | *q;
            n--;
            if (!(*q++ & 0x80))
                break;
        }
    }
    if (n == 0)
        return -1;
    len = *q++;
    n--;
    if (len & 0x80) {
        size_t k = len & 0x7F;
        if (k == 0 || k > 3 || k > n)
            return -1;
        for (len = 0; k > 0; k--, n--)
            len = len << 8 | *q++;
    }
    if (len > n)
        return -1;
    out->tag = tag;
    out->val = q;
    out->len = len;
    *p = q + len;
    *left = n - len;
    return 1;
}

int pico_tlv_find(const uint8_t *buf, size_t len, unsigned tag, pico_tlv *out)
{
    int rc;

    while ((rc = pico_tlv_next(&buf, &len, out)) == 1)
        if (out->tag == tag)
            return 1;
    return rc;
}

size_t pico_tlv_header(uint8_t *out, unsigned tag, size_t vlen)
{
    uint8_t h[8];
    size_t n = 0, i;

    if (tag > 0xFFFF)
        h[n++] = (uint8_t)(tag >> 16);
    if (tag > 0xFF)
        h[n++] = (uint8_t)(tag >> 8);
    h[n++] = (uint8_t)tag;
    if (vlen >= 0x10000) {
        h[n++] = 0x83;
        h[n++] = (uint8_t)(vlen >> 16);
        h[n++] = (uint8_t)(vlen >> 8);
    } else if (vlen >= 0x100) {
        h[n++] = 0x82;
        h[n++] = (uint8_t)(vlen >> 8);
    } else if (vlen >= 0x80) {
        h[n++] = 0x81;
    }
    h[n++] = (uint8_t)vlen;
    if (out != NULL)
        for (i = 0; i < n; i++)
            out[i] = h[i];
    return n;
}
