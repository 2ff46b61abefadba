/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by sim/crypto.c (curves, keys, signatures) and sim/cvc.c
 * (CV certificates and requests). Not part of the card's interface.
 */
#ifndef SIM_CRYPTO_INT_H
#define SIM_CRYPTO_INT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "util.h"

/* Algorithm OIDs of TR-03110 as they appear in 7F49/06 (sc-hsm-protocol.md, Appendix A). */
#define SIM_OID_TA_LEN 10
extern const uint8_t sim_oid_ta_rsa_v15_sha256[SIM_OID_TA_LEN];
extern const uint8_t sim_oid_ta_rsa_pss_sha256[SIM_OID_TA_LEN];
extern const uint8_t sim_oid_ta_ecdsa_sha256[SIM_OID_TA_LEN];

/* Is (oid, len) one of id-TA-ECDSA-SHA-1/224/256/384/512? */
int sim_oid_is_ta_ecdsa(const uint8_t *oid, size_t len);

/* The curve of an EC key, NULL for other keys or curves the firmware lacks. */
const sim_curve *sim_curve_of_key(EVP_PKEY *key);

/*
 * Domain parameters of a curve, each big-endian and padded the way the
 * firmware's CV templates carry them (6.2): p, a, b of the field length, G
 * uncompressed (04||x||y), order at least the field length.
 */
typedef struct sim_ec_domain {
    sim_bytes p, a, b, g, n;
} sim_ec_domain;

int sim_ec_domain_get(const sim_curve *c, sim_ec_domain *d);
void sim_ec_domain_free(sim_ec_domain *d);

/* The public point of an EC key, uncompressed 04||x||y. */
int sim_ec_public_point(EVP_PKEY *key, sim_bytes *out);

/* RSA modulus and public exponent, big-endian without leading zeros. */
int sim_rsa_public(EVP_PKEY *key, sim_bytes *n, sim_bytes *e);

/* Public keys from CV template parts; NULL when the values are not a valid key. */
EVP_PKEY *sim_ec_pubkey_new(const sim_curve *c, const uint8_t *pt, size_t len);
EVP_PKEY *sim_rsa_pubkey_new(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen);

/* New keys: EC on a curve of the table, RSA with e = 65537. NULL on error. */
EVP_PKEY *sim_ec_generate(const sim_curve *c);
EVP_PKEY *sim_rsa_generate(int bits);

/* The private key as PKCS#8 DER (what sim_key_load reads back). */
int sim_key_to_der(EVP_PKEY *key, sim_bytes *out);

/*
 * The signature a CV certificate or request carries in 5F37 (libcvc's
 * convention, SHA-256 always): ECDSA as plain r||s, each half padded to the
 * field length; RSA as PKCS#1 v1.5. out is replaced.
 */
int sim_cvc_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, sim_bytes *out);

/*
 * The curve25519/448 keys (xcurves.c): X25519, X448 and, with --eddsa, Ed25519, Ed448. The
 * hex strings are big-endian p and order, and G as the answer's 83 carries it.
 */
typedef struct sim_xcurve {
    const char *name; /* OpenSSL key type */
    int edwards;
    const char *p_hex, *order_hex, *g_hex;
    size_t raw_len; /* public key bytes */
} sim_xcurve;

extern const uint8_t sim_oid_ri_ecdh_sha256[SIM_OID_TA_LEN];

/* The Montgomery curve of a GENERATE prime, NULL for none. */
const sim_xcurve *sim_xcurve_by_prime(const uint8_t *p, size_t plen);
/* The curve the firmware makes for mont's prime and base point g (the Edwards one in EdDSA
 * builds when g is not mont's). */
const sim_xcurve *sim_xcurve_pick(const sim_xcurve *mont, const uint8_t *g, size_t glen);
const sim_xcurve *sim_xcurve_of_key(EVP_PKEY *key);
EVP_PKEY *sim_xcurve_generate(const sim_xcurve *c);
/* 06 id-RI-ECDH-SHA-256, 81 p, 82 order, 83 G, 84 public key (the content of 7F49). */
int sim_xcurve_put_template(sim_bytes *out, EVP_PKEY *key);
/* The CV self-signature: zeros (Montgomery), PureEdDSA over SHA-256(msg) (Edwards). */
int sim_xcurve_cvc_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, sim_bytes *out);

#endif
