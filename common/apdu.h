/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ISO 7816-4 command APDU encoding, short and extended.
 *
 * The Pico drops a frame whose length does not match its Lc/Le without any
 * answer (sc-hsm-protocol.md 1.4), and answers 61xx to a case-3 command
 * that returns data (field-notes.md): so the encoder never mixes short and
 * extended fields, and callers always ask for Le when data is expected.
 */
#ifndef PICO_APDU_H
#define PICO_APDU_H

#include <stddef.h>
#include <stdint.h>

#define PICO_APDU_SHORT_MAX_LC 255
#define PICO_APDU_SHORT_MAX_LE 256
#define PICO_APDU_MAX_CMD (4 + 3 + 65535 + 2)
#define PICO_APDU_MAX_RESP (65536 + 2)

typedef struct pico_apdu {
    uint8_t cla, ins, p1, p2;
    const uint8_t *data;
    size_t lc;
    /* Ne: bytes expected; 0 = no data expected (no Le field); PICO_APDU_LE_MAX = as much as
     * the card has (Le 00 short, 00 00 extended). */
    size_t le;
    int extended; /* force extended length fields */
} pico_apdu;

#define PICO_APDU_LE_MAX ((size_t)65536)

/*
 * Encodes a into out (cap bytes). Extended form when forced, when Lc > 255
 * or when Ne > 256 (or Ne = LE_MAX with extended set). Returns the length,
 * or 0 when it does not fit or the fields are out of range.
 */
size_t pico_apdu_encode(const pico_apdu *a, uint8_t *out, size_t cap);

#endif
