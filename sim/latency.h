/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A latency model for the virtual device (--latency): how long the real
 * device computes, added before the answer of the commands that compute with
 * a key. A Pico HSM on an RP2040 takes tens of milliseconds for an ECDSA
 * signature where the virtual device takes well under one; benchmarks of
 * several devices or of a busy server need the real proportions.
 */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stdint.h>

typedef struct sim_latency {
    unsigned sign_us;     /* SIGN (80 68) */
    unsigned decipher_us; /* DECIPHER (80 62): RSA decryption and ECDH */
    unsigned keygen_us;   /* GENERATE ASYMMETRIC KEY PAIR (00 46) */
    unsigned apdu_us;     /* every other APDU */
} sim_latency;

/*
 * Parses "sign=MS,decipher=MS,keygen=MS,apdu=MS" (any subset, in any order;
 * MS a decimal number of milliseconds up to 60000, fractions allowed) into
 * lat, which is zeroed first. Returns 0, or -1 on a malformed list.
 */
int sim_latency_parse(const char *spec, sim_latency *lat);

/* The latency of an APDU with this instruction byte, in microseconds. */
unsigned sim_latency_for(const sim_latency *lat, uint8_t ins);

#endif
