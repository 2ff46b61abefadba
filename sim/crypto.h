/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cryptography of the virtual Pico HSM: curves, CV certificates and requests,
 * key generation, the private-key operations, PKA signature checks and the
 * MKEK sealing of stored keys. Everything here uses OpenSSL (libcrypto).
 *
 * Functions that answer a card command return an ISO 7816 status word
 * (0x9000 on success) so that card.c can pass it straight to the host; the
 * status words are those of the firmware (sc-hsm-protocol.md, sections 6-7).
 */
#ifndef SIM_CRYPTO_H
#define SIM_CRYPTO_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Key types as kept in the sim's key records. */
enum sim_key_type {
    SIM_KEY_RSA = 1,
    SIM_KEY_EC = 2,
};

/*
 * Whether the virtual device models a firmware built with ENABLE_EDDSA (--eddsa): Ed25519 and
 * Ed448 keys (GENERATE with the curve25519/448 prime and an Edwards base point; SIGN 70 =
 * PureEdDSA over the data). Without it such a GENERATE makes the X25519/X448 key, as the
 * firmware does.
 */
void sim_set_eddsa(int on);
int sim_eddsa(void);

/* SIGN 70-75 on an Ed25519/Ed448 key: PureEdDSA over in (71-75: the hash of the data, as the
 * firmware hashes first), raw R || S. 6400 on other keys. */
uint16_t sim_xcurve_sign(EVP_PKEY *key, const uint8_t *in, size_t inlen, sim_bytes *out);
/* DECIPHER 80 on an X25519/X448 key: in the raw peer u-coordinate (6984 for another length),
 * answer 04 || the shared secret; 6400 on a low-order point or another key. */
uint16_t sim_xcurve_derive(EVP_PKEY *key, const uint8_t *in, size_t inlen, sim_bytes *out);

/* A curve the firmware knows; it recognises curves by their prime alone (6.3). */
typedef struct sim_curve {
    const char *name; /* OpenSSL group name, e.g. "prime256v1" */
    int nid;
    size_t field_len; /* bytes of p */
} sim_curve;

/* The curve whose prime p is (p, plen), leading zeros ignored; NULL when unknown (6A81). */
const sim_curve *sim_curve_by_prime(const uint8_t *p, size_t plen);
const sim_curve *sim_curve_by_name(const char *name);

/*
 * The parts of a CV certificate or CV request the card needs. All pointers
 * point into the parsed buffer. The outer 67 wrapper is optional; body is the
 * content of 7F4E, pubkey the content of 7F49.
 */
typedef struct sim_cvc {
    const uint8_t *body;
    size_t body_len;
    const uint8_t *car; /* 42 inside the body (may be NULL) */
    size_t car_len;
    const uint8_t *chr; /* 5F20 inside the body (may be NULL) */
    size_t chr_len;
    const uint8_t *pubkey; /* content of 7F49 */
    size_t pubkey_len;
    const uint8_t *oid; /* 06 inside 7F49 */
    size_t oid_len;
    const uint8_t *outer_car; /* 42 after 7F21 inside 67 (may be NULL) */
    size_t outer_car_len;
} sim_cvc;

/* Parses a CV certificate (7F21 ...) or request (67 { 7F21 ... } ...). 0 ok, -1 malformed. */
int sim_cvc_parse(const uint8_t *p, size_t len, sim_cvc *out);

/*
 * GENERATE ASYMMETRIC KEY PAIR (6.2). req is the command data (the body of a
 * CV certificate: 5F29, 42, 7F49, 5F20, 90, 91, 92 in any order). devkey signs
 * the outer request; dev_name is the device name (outer CAR and default
 * CAR/CHR). On 0x9000: *type, *bits (RSA modulus bits or EC field bits),
 * priv = the new private key as DER (PKCS#8, to be sealed by the caller),
 * cvreq = the full answer (67 ...), which the caller also stores as CE<ref>.
 * Status words: 6700 (no 7F49 or no prime), 6A81 (unknown prime), 6A80/6700
 * (bad RSA size). An ECDSA OID other than SHA-256 answers 9000 with cvreq
 * empty and no key: the firmware's quirk (field-notes.md).
 */
uint16_t sim_key_generate(const uint8_t *req, size_t req_len, EVP_PKEY *devkey,
                          const uint8_t *dev_name, size_t dev_name_len, int *type, int *bits,
                          sim_bytes *priv, sim_bytes *cvreq);

/* Loads a private key from the DER that sim_key_generate produced. NULL on error. */
EVP_PKEY *sim_key_load(const uint8_t *der, size_t len);

/*
 * SIGN (7.1): alg is P2 of 80 68. RSA: 20 raw (DigestInfo detection), 30
 * (answers 6400 like the firmware), 31..35 PKCS#1 v1.5 with on-card hash,
 * 40 PSS external hash, 41..45 PSS with on-card hash. EC: 70 external hash,
 * 71..75 on-card hash; answers DER. Unknown alg 6A86; RSA alg on EC key and
 * vice versa 6400; bad input 6400 (or 6700 for a wrong length).
 */
uint16_t sim_key_sign(EVP_PKEY *key, uint8_t alg, const uint8_t *in, size_t inlen, sim_bytes *out);

/*
 * DECIPHER (7.2): 21 RSA raw, 22 PKCS#1 v1.5, 23 OAEP SHA-256 (empty label),
 * 80 ECDH (answer 04 || x). Unknown alg 6B00; failures 6400.
 */
uint16_t sim_key_decipher(EVP_PKEY *key, uint8_t alg, const uint8_t *in, size_t inlen,
                          sim_bytes *out);

/* RSA modulus bits or EC field bits of a key; key type in *type. */
int sim_key_info(EVP_PKEY *key, int *type, int *bits);

/*
 * Default PrKD the firmware writes to C4<ref> at key generation (6.2, 6.4):
 * empty label, ID = key reference as ASCII decimal, usage sign+derive for EC,
 * decrypt+sign+signRecover+unwrap for RSA, the key size.
 */
int sim_prkd_default(int type, unsigned keyref, int bits, sim_bytes *out);

/*
 * Device key and device certificate (2.5): a new P-256 key and a self-issued
 * CV certificate (CAR = CHR = dev_name, full domain parameters, CHAT, dates),
 * which is the content of EF 2F02.
 */
int sim_devkey_create(const uint8_t *dev_name, size_t dev_name_len, sim_bytes *priv,
                      sim_bytes *cert);

/*
 * A lookup of a certificate by CHR among those the card holds (2F02 and
 * CA certificates), used to follow a PKA request's CAR to its domain
 * parameters (5.2). Returns 1 and the certificate bytes when found.
 */
typedef int (*sim_cert_lookup_fn)(void *ctx, const uint8_t *chr, size_t chr_len,
                                  const uint8_t **cert, size_t *cert_len);

/*
 * EXTERNAL AUTHENTICATE check (5.6): does sig verify, for the registered
 * request reg, over SHA-256(msg)? msg is dev_name || challenge. EC: plain
 * r||s (DER refused); RSA: PKCS#1 v1.5 or PSS per the OID. The EC curve is
 * found by following CAR to a certificate whose CAR = CHR (5.2) through
 * lookup. Returns 0x9000 or 0x6985.
 */
uint16_t sim_pka_verify(const uint8_t *reg, size_t reg_len, sim_cert_lookup_fn lookup,
                        void *lookup_ctx, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len);

/*
 * MKEK sealing (4.5): keys are stored as AES-256-GCM records under the
 * 32-byte MKEK: nonce(12) || ciphertext || tag(16). sim_unseal fails (-1) on
 * any tampering or on the wrong MKEK.
 */
int sim_seal(const uint8_t mkek[32], const uint8_t *in, size_t len, sim_bytes *out);
int sim_unseal(const uint8_t mkek[32], const uint8_t *in, size_t len, sim_bytes *out);

/*
 * PIN-derived keys: out = HKDF-SHA256(PIN, salt, info). The card keeps a
 * verifier (info "verifier") per PIN and the MKEK sealed under the key with
 * info "mkek", so that only the right PIN opens the key material.
 */
int sim_pin_derive(const uint8_t *pin, size_t pin_len, const uint8_t salt[16], const char *info,
                   uint8_t out[32]);

int sim_random(uint8_t *out, size_t len);

#endif
