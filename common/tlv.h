/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BER-TLV as the SmartCard-HSM uses it: tags of one to three bytes, lengths
 * in short form or 81/82/83 long form. The host keeps its own copy of this
 * reader (the sim has another): see design.md on shared mistakes.
 */
#ifndef PICO_TLV_H
#define PICO_TLV_H

#include <stddef.h>
#include <stdint.h>

typedef struct pico_tlv {
    unsigned tag;
    const uint8_t *val;
    size_t len;
} pico_tlv;

/* Reads the TLV at *p (len *left), advancing both: 1 read, 0 end of input, -1 malformed. */
int pico_tlv_next(const uint8_t **p, size_t *left, pico_tlv *out);

/* First TLV with this tag at the top level of buf: 1 found, 0 not found, -1 malformed. */
int pico_tlv_find(const uint8_t *buf, size_t len, unsigned tag, pico_tlv *out);

/* Writes a tag and length header for vlen bytes; returns its size (out may be NULL). */
size_t pico_tlv_header(uint8_t *out, unsigned tag, size_t vlen);

#endif
