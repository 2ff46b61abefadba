/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command APDU framing on the card side (ISO 7816-4 cases 1 to 4, short and
 * extended), with the firmware's strictness: a frame whose length does not
 * match its Lc/Le is not a command at all (sc-hsm-protocol.md 1.4).
 */
#ifndef SIM_APDU_H
#define SIM_APDU_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_apdu {
    uint8_t cla, ins, p1, p2;
    const uint8_t *data; /* points into the frame */
    size_t nc;           /* data length */
    size_t ne;           /* bytes the host accepts back: 0 for case 1 and 3 without Le... */
    int extended;
} sim_apdu;

/*
 * Parses a frame. Ne: case 1 (header only) = 256, case 3 = 0, Le 00 = 256,
 * extended Le 0000 = 65536. Returns 0, or -1 when the frame is malformed
 * (the card then answers nothing).
 */
int sim_apdu_parse(const uint8_t *frame, size_t len, sim_apdu *a);

#endif
