/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Card-verifiable certificates and requests, host side (sc-hsm-protocol.md
 * 2.5, 5.2, 6.2): public keys out of a key generation answer or EF CExx,
 * the device name out of EF 2F02, and the key generation request.
 */
#ifndef PICO_CVC_H
#define PICO_CVC_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keypolicy.h"
#include "keytype.h"

/*
 * The public key of a CV request (67 { 7F21 { 7F4E { .. 7F49 .. } } }) or
 * certificate (7F21 ...). EC keys are matched to a named curve by their
 * domain parameters; curve (cap bytes) receives its OpenSSL name, *bits the
 * RSA modulus or EC field size. id-RI-ECDH-SHA-256 templates give X25519,
 * X448, ED25519 or ED448 keys (keytype.h), *bits their fixed size, curve "".
 * The key's type is its OpenSSL name (pico_key_type_by_name).
 */
pico_err pico_cvc_public_key(const uint8_t *cv, size_t len, EVP_PKEY **pub, char *curve, size_t cap,
                             int *bits);

/*
 * The library context common/ builds what it keeps in in (the public keys of
 * device keys, digests of key ids and of refused PINs): its own, with the
 * default provider, so that what it holds outlives every provider instance
 * that asked for it (two library contexts, one unloaded) and works when an
 * application loaded pico alone. *propq is set to go with it. Freed by
 * pico_cvc_libctx_free when the last user of common/ goes.
 */
OSSL_LIB_CTX *pico_cvc_libctx(const char **propq);
void pico_cvc_libctx_free(void);

/* The CHR (5F20) of the first certificate in cv: the device name (2.5). Points into cv. */
pico_err pico_cvc_chr(const uint8_t *cv, size_t len, const uint8_t **chr, size_t *chr_len);

/*
 * The data of GENERATE ASYMMETRIC KEY PAIR (6.2) for a key of type: RSA of
 * bits, EC on curve (OpenSSL name), the others as their keytype.h row
 * says. No CAR/CHR: the device then uses its own name for both, which keeps
 * the request usable for PKA (5.2). *out is malloc'ed.
 */
pico_err pico_cvc_keygen_request(pico_key_type type, int bits, const char *curve, uint8_t **out,
                                 size_t *out_len);
/* The same with the policy tags 90/91/92 of policy (keypolicy.h; NULL: none). */
pico_err pico_cvc_keygen_request_policy(pico_key_type type, int bits, const char *curve,
                                        const pico_key_policy *policy, uint8_t **out,
                                        size_t *out_len);

/*
 * Signs a CV body for pico_cvc_pka_request: EC as plain r || s, RSA as
 * PKCS#1 v1.5 with SHA-256 (as pico_pka_signer_sign does).
 */
typedef pico_err (*pico_cvc_sign_fn)(void *arg, const uint8_t *msg, size_t len, uint8_t *sig,
                                     size_t *sig_len);

/*
 * The registration data of MANAGE PKA ADD (5.2) for the public key pub:
 * 67 { 7F21 { 7F4E { 5F29 00, 42 CAR, 7F49 { OID, key, EC domain parameters
 * 81..87 }, 5F20 CHR }, 5F37 inner signature }, 42 outer CAR, 5F37 outer
 * signature }, self-referenced: CAR = CHR = chr (the firmware finds the
 * curve that way), both signatures by the key itself through sign.
 * RSA keys get id-TA-RSA-v1-5-SHA-256, EC keys id-TA-ECDSA-SHA-256.
 * *out is malloc'ed.
 */
pico_err pico_cvc_pka_request(EVP_PKEY *pub, const char *chr, pico_cvc_sign_fn sign, void *arg,
                              uint8_t **out, size_t *out_len);

/* The named curves the device supports (6.3), by OpenSSL name; NULL-terminated. */
extern const char *const pico_cvc_curves[];

#endif
