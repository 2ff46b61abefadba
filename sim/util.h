/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte buffers and BER-TLV helpers for the virtual Pico HSM.
 *
 * The card side keeps its own TLV code: design.md allows no command code shared
 * with common/, so that one mistake cannot hide on both sides of the wire.
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. Zero-initialise it; free with sim_bytes_free(). */
typedef struct sim_bytes {
    uint8_t *data;
    size_t len;
    size_t cap;
} sim_bytes;

int sim_bytes_reserve(sim_bytes *b, size_t extra);
int sim_bytes_append(sim_bytes *b, const void *p, size_t n);
int sim_bytes_append_byte(sim_bytes *b, uint8_t v);
int sim_bytes_set(sim_bytes *b, const void *p, size_t n);
/* Wipes the contents before freeing them: buffers may hold keys or PINs. */
void sim_bytes_free(sim_bytes *b);
void sim_bytes_clear(sim_bytes *b);

/*
 * BER-TLV reader. Tags are up to 3 bytes (0x7F49, 0x5F20, ...), lengths use
 * the short form or 0x81/0x82/0x83.
 *
 * sim_tlv_next: reads one TLV at *p (with *left bytes remaining), advances
 * both. Returns 1 when one was read, 0 at the end of input, -1 when the
 * encoding is malformed (truncated tag, length or value).
 */
int sim_tlv_next(const uint8_t **p, size_t *left, unsigned *tag, const uint8_t **val,
                 size_t *vlen);

/* Finds the first TLV with this tag at the top level of buf. 1 found, 0 not, -1 malformed. */
int sim_tlv_find(const uint8_t *buf, size_t len, unsigned tag, const uint8_t **val, size_t *vlen);

/* Appends tag, length and value to out. Returns 0, or -1 on allocation failure. */
int sim_tlv_put(sim_bytes *out, unsigned tag, const uint8_t *val, size_t vlen);

/* Appends just a tag and a length header (for constructed objects built in place). */
int sim_tlv_put_header(sim_bytes *out, unsigned tag, size_t vlen);

/* Number of bytes a length field takes for vlen. */
size_t sim_tlv_len_size(size_t vlen);

#endif
