/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An RSA-PSS key's restrictions as its PrKD holds them (the AlgorithmIdentifier
 * id-RSASSA-PSS of its description, with RSASSA-PSS-params of RFC 4055 3.1, as
 * OpenSSL's RSA-PSS keys hold them): the one reader for the provider and the
 * PKCS#11 module.
 */
#ifndef PICO_RSAPSS_H
#define PICO_RSAPSS_H

#include "device.h"

typedef struct pico_pss_params {
    int pss;        /* an RSA-PSS key: it signs with PSS only */
    int restricted; /* with parameters: this digest and MGF1 digest, at least this salt */
    int md_nid, mgf1_nid;
    int min_salt;
} pico_pss_params;

/*
 * What key's description says: pss 0 for any other key (RSA without the
 * identifier, EC, ...); restricted 0 for an RSA-PSS key without parameters
 * (OpenSSL's unrestricted one). RFC 4055's defaults fill what the parameters
 * leave out (SHA-1, MGF1 with SHA-1, 20). PICO_E_BAD_RESPONSE (raised) when
 * the parameters cannot be read: such a key must not sign with any.
 */
pico_err pico_key_pss_params(const pico_key *key, pico_pss_params *out);

#endif
