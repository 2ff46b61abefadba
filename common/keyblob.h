/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DKEK key blob of WRAP and UNWRAP on the host (sc-hsm-protocol.md 8.2, 8.3), in the
 * firmware's layout (kek.c dkek_encode_key / dkek_decode_key):
 *
 *   KCV (8) | key type (1: 05 RSA, 0C EC) | OID, allowed algorithms, access conditions,
 *   key OID (each a 2-byte length and its bytes) | AES-256-CBC (IV 0, key SHA-256(DKEK ||
 *   00000001)) of 8 random bytes, the key size in bits (2) and the key's parts (2-byte
 *   lengths), padded 80 00.. | AES-256 CMAC (key SHA-256(DKEK || 00000002)) of all before.
 *
 * RSA carries d, n, e; EC a, b, p, order, G, d, Q with leading zeros dropped and a empty
 * where the firmware's mbedtls keeps none (a = -3, a = 0), as the device's own WRAP does.
 *
 * Also sc-hsm-tool's wrapped-key file, 30 { 04 blob, PrKD, [CExx content] } (its DKEK share
 * files are common/dkek.c).
 */
#ifndef PICO_KEYBLOB_H
#define PICO_KEYBLOB_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PICO_KEYBLOB_RSA 0x05
#define PICO_KEYBLOB_EC 0x0C

/* The check value of a DKEK: the first 8 bytes of its SHA-256 (8.1). */
pico_err pico_keyblob_kcv(const uint8_t dkek[32], uint8_t kcv[8]);

/*
 * Refuses, saying why, a private key the device would not keep as it is: RSA with
 * e != 65537 (the firmware keeps p, q and assumes 65537), RSA outside 1024..4096 bits, EC
 * off the firmware's curves (6.3), other key types. PICO_E_UNSUPPORTED, raised.
 */
pico_err pico_keyblob_check_key(EVP_PKEY *key);

/* The blob of key under dkek with the allowed algorithms (tag 91, may be empty). *blob is
 * malloc'ed; the plaintext is cleansed. */
pico_err pico_keyblob_build(const uint8_t dkek[32], EVP_PKEY *key, const uint8_t *algs,
                            size_t algs_len, uint8_t **blob, size_t *len);

/* What a blob's clear header says. */
typedef struct pico_keyblob_info {
    uint8_t kcv[8];
    uint8_t type;        /* PICO_KEYBLOB_* (or another the firmware knows: 06, 0F) */
    const uint8_t *algs; /* allowed algorithms, into the blob */
    size_t algs_len;
} pico_keyblob_info;

/* The header of a blob, without the DKEK (PICO_E_BAD_RESPONSE when malformed). */
pico_err pico_keyblob_info_get(const uint8_t *blob, size_t len, pico_keyblob_info *info);

/*
 * Checks a blob with dkek (KCV, then the MAC: PICO_E_ARGS on a wrong DKEK or MAC) and
 * rebuilds its private key into *key (RSA from d, n, e; EC from its curve, d and Q).
 */
pico_err pico_keyblob_open(const uint8_t dkek[32], const uint8_t *blob, size_t len, EVP_PKEY **key);

/* sc-hsm-tool's wrapped-key file: 30 { 04 blob, PrKD, [certificate] } (cert may be NULL). */
pico_err pico_wrapfile_encode(const uint8_t *blob, size_t blob_len, const uint8_t *prkd,
                              size_t prkd_len, const uint8_t *cert, size_t cert_len, uint8_t **out,
                              size_t *out_len);
/* Its parts, pointing into in; *cert NULL when the file has none. */
pico_err pico_wrapfile_decode(const uint8_t *in, size_t len, const uint8_t **blob, size_t *blob_len,
                              const uint8_t **prkd, size_t *prkd_len, const uint8_t **cert,
                              size_t *cert_len);

#endif
