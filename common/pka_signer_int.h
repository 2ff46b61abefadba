/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the PKA signers, shared by pka_signer.c and pka_pkcs11.c only: not installed,
 * not for any other file. The API is pka_signer.h.
 */
#ifndef PICO_PKA_SIGNER_INT_H
#define PICO_PKA_SIGNER_INT_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "device.h"
#include "err.h"
#include "pka_signer.h"

/* Keys and algorithms come from OpenSSL's default provider only: the pico provider may be
 * loaded in this process, and it must never be asked to decode or sign for its own login. */
#define PKA_PROPQ "provider=default"
#define PKA_SECRET_MAX 256

typedef enum pka_kind { PKA_FILE, PKA_PKCS11, PKA_PICO } pka_kind;

typedef struct p11_module p11_module;

struct pico_pka_signer {
    pka_kind kind;
    char *name;         /* spec without its query */
    EVP_PKEY *pub;      /* a default-provider copy of the public key */
    pico_key_type type; /* PICO_KEY_EC or PICO_KEY_RSA: what 5.6 verifies */
    size_t half;        /* EC: field length in bytes (r and s each); RSA: modulus length */
    EVP_PKEY *priv;     /* file: the key; pkcs11: libp11's key (methods that call the token) */
    p11_module *module; /* pkcs11: */
    pico_key *key;      /* pico: the key, owned by its device */
};

/* pka_signer.c: helpers the pkcs11: signer shares */
pico_err pka_sha256(const uint8_t *msg, size_t len, uint8_t h[32]);
pico_err pka_pub_copy(const char *name, EVP_PKEY *key, EVP_PKEY **out);
pico_err pka_ecdsa_plain(const pico_pka_signer *s, const ECDSA_SIG *sig, uint8_t *out,
                         size_t *out_len);
pico_err pka_get_secret(const pico_pka_signer *s, const char *value, const char *source,
                        const char *pin_source, const pico_pin_prompt *prompt, const char *info,
                        char *buf, size_t cap, int *asked);

/* pka_pkcs11.c: the pkcs11: signer */
pico_err pka_p11_open(pico_pka_signer *s, const char *spec, const char *pin_source,
                      const pico_pin_prompt *prompt);
pico_err pka_p11_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                      size_t *sig_len);
/* Lets go of the signer's module; s->priv is freed first (it calls into the module). */
void pka_p11_release(pico_pka_signer *s);

#endif
