/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK key blob of WRAP and UNWRAP (sc-hsm-protocol.md 8.2, 8.3), as the
 * firmware's kek.c (dkek_encode_key, dkek_decode_key) builds and reads it:
 *
 *   KCV (8) | key type (1) | 2-byte length-prefixed fields: algorithm OID,
 *   allowed algorithms, access conditions (empty), key OID (empty) |
 *   AES-256-CBC (IV 0, key SHA-256(DKEK || 00000001)) of
 *     8 random bytes | key size in bits (2) | 2-byte length-prefixed parts | 80 00.. |
 *   AES-256 CMAC (key SHA-256(DKEK || 00000002)) of everything before.
 *
 * RSA (type 5) carries d, n, e; type 6 (import only) dp1, dq1, p, pq, q, n, e. EC (type 12)
 * a, b, p, order, G, d, Q with the firmware's mbedtls sizes: no leading zeros, a empty on
 * curves with a = -3 or a = 0.
 */
#ifndef SIM_CRYPTO_WRAP_H
#define SIM_CRYPTO_WRAP_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SIM_BLOB_RSA 5
#define SIM_BLOB_RSA_CRT 6
#define SIM_BLOB_EC 12
#define SIM_BLOB_AES 15

/* The check value of a DKEK: the first 8 bytes of its SHA-256. */
int sim_dkek_kcv(const uint8_t dkek[32], uint8_t kcv[8]);

/* The blob of key (RSA or EC) under dkek, with the key's allowed algorithms (tag 91). */
int sim_dkek_blob_encode(const uint8_t dkek[32], EVP_PKEY *key, const uint8_t *algs,
                         size_t algs_len, sim_bytes *out);

/* What a decoded blob holds. */
typedef struct sim_blob_key {
    EVP_PKEY *stored;    /* the key as the firmware keeps it: RSA from p, q with e = 65537 */
    EVP_PKEY *cvkey;     /* the key as decoded (its request in CExx carries this public key) */
    const uint8_t *algs; /* allowed algorithms, into the blob */
    size_t algs_len;
} sim_blob_key;

#define SIM_BLOB_OK 0
#define SIM_BLOB_WRONG_DKEK 1 /* the KCV is another DKEK's: try the next domain */
#define SIM_BLOB_BAD (-1)     /* wrong MAC, type, OID, padding or key */

/* Decodes a blob with dkek; SIM_BLOB_*. out's keys are the caller's on SIM_BLOB_OK. */
int sim_dkek_blob_decode(const uint8_t dkek[32], const uint8_t *in, size_t len, sim_blob_key *out);
void sim_blob_key_free(sim_blob_key *k);
/* The private key as the sim's key records keep it (PKCS#8 DER). */
int sim_blob_key_der(EVP_PKEY *key, sim_bytes *out);

/*
 * The CV request the firmware writes to CExx after UNWRAP (asn1_cvc_aut with no
 * extensions): the GAKP answer's shape, CAR = CHR = dev_name (sim/cvc.c).
 */
int sim_key_cvreq(EVP_PKEY *key, EVP_PKEY *devkey, const uint8_t *dev_name, size_t dev_name_len,
                  sim_bytes *out);

#endif
