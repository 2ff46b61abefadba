/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's BER-TLV reader (common/tlv.c), over device answers. Every value
 * it returns lies inside the input, and a header written for a read length
 * reads back as the same tag and length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const pico_tlv *t, const uint8_t *data, size_t size)
{
    if (t->len > size || t->val < data || t->val + t->len > data + size)
        abort();
}

/* Descends into every value as if it were constructed, as the parsers of cvc.c and pkcs15.c do. */
static void walk(const uint8_t *buf, size_t len, const uint8_t *data, size_t size, int depth)
{
    const uint8_t *p = buf;
    size_t left = len;
    pico_tlv t;

    while (depth < 8 && pico_tlv_next(&p, &left, &t) == 1) {
        uint8_t hdr[8];
        const uint8_t *q = hdr;
        size_t n = pico_tlv_header(hdr, t.tag, t.len), qn = n;
        pico_tlv back;

        inside(&t, data, size);
        if (left > len || p < buf || p > buf + len)
            abort();
        if (n == 0 || n > sizeof(hdr) || n != pico_tlv_header(NULL, t.tag, t.len))
            abort();
        /* the header alone is a truncated TLV unless the value is empty */
        if (pico_tlv_next(&q, &qn, &back) != (t.len == 0 ? 1 : -1))
            abort();
        if (t.len == 0 && back.tag != t.tag)
            abort();
        walk(t.val, t.len, data, size, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned tags[] = {0x7F21, 0x7F4E, 0x7F49, 0x5F20, 0x42, 0x86, 0x67, 0x30};
    pico_tlv t;
    size_t i;

    walk(data, size, data, size, 0);
    for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (pico_tlv_find(data, size, tags[i], &t) == 1) {
            inside(&t, data, size);
            if (t.tag != tags[i])
                abort();
        }
    return 0;
}
