/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key policy fixed at generation (sc-hsm-protocol.md 6.2): the use counter (tag 90), the
 * allowed algorithms (91, the SIGN/DECIPHER P2 bytes and 92 for WRAP) and the key domain
 * (92), as GENERATE ASYMMETRIC KEY PAIR sends them and SELECT of the key's FID answers them
 * (1.2: A5 81 <len> <90..93> in the FCP).
 */
#ifndef PICO_KEYPOLICY_H
#define PICO_KEYPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keytype.h"

#define PICO_POLICY_MAX_ALGS 32

typedef struct pico_key_policy {
    int has_counter; /* 1: tag 90 with use_counter */
    uint32_t use_counter;
    size_t nalgs; /* 0: no tag 91, every algorithm allowed */
    uint8_t algs[PICO_POLICY_MAX_ALGS];
    int domain; /* tag 92; -1: none */
} pico_key_policy;

/* No counter, every algorithm, no domain. */
void pico_key_policy_init(pico_key_policy *p);

/*
 * Adds to p the algorithm bytes of a comma-separated list of names (pico_key_policy_names)
 * valid for a key of type: an unknown name or one the type does not offer is PICO_E_ARGS.
 */
pico_err pico_key_policy_add_algs(pico_key_policy *p, pico_key_type type, const char *list);

/* The name of an algorithm byte (the first name that maps to it), NULL if none. */
const char *pico_key_policy_alg_name(uint8_t alg);

/* Every name, comma-separated, for a --help text. */
const char *pico_key_policy_names(void);

/*
 * Appends tags 90/91/92 of p to buf (capacity cap, *pos bytes used); 0 when it does not fit.
 */
int pico_key_policy_encode(const pico_key_policy *p, uint8_t *buf, size_t cap, size_t *pos);

/*
 * The metadata in the FCP a SELECT of a key FID answers (62 L .. A5 81 L { 90 .. 93 }):
 * p as the device holds it now (the counter left). No A5: no counter, no list, no domain.
 */
pico_err pico_key_policy_from_fcp(const uint8_t *fcp, size_t len, pico_key_policy *p);

#endif
