/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKA signers: who signs a device's challenge for Public Key Authentication
 * (sc-hsm-protocol.md 5.6; design.md "The dual-factor login"). A signer is
 * named by a string, the value of a pka-key= URI attribute:
 *
 *   file:PATH     a PEM private key (EC, RSA); an encrypted one takes its
 *                 passphrase from pin_source or the prompt. Decoded and used
 *                 through OpenSSL's default provider only, never this
 *                 project's own provider.
 *   pkcs11:...    an RFC 7512 URI: the key on a PKCS#11 token, found through
 *                 the modules registered with p11-kit (or module-path=),
 *                 driven with libp11; the token PIN from the URI's
 *                 pin-value/pin-source, then pin_source, then the prompt.
 *                 id= is percent-encoded bytes (id=%01); exactly one token
 *                 and one private key must match. A module is loaded once
 *                 per process and shared by the signers that use it.
 *   pico:...      a key on another Pico HSM, through this library's device
 *                 layer (its own PIN from its URI, pin_source or the prompt)
 *
 * The signer signs M = device name || challenge the way EXTERNAL
 * AUTHENTICATE checks it: EC keys ECDSA over SHA-256(M) as plain r || s,
 * each half left-padded to the field length; RSA keys PKCS#1 v1.5 with
 * SHA-256 over M, modulus-length.
 */
#ifndef PICO_PKA_SIGNER_H
#define PICO_PKA_SIGNER_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"

typedef struct pico_pka_signer pico_pka_signer;

/*
 * Opens the signer spec names. pin_source (file:|env:|fd:, may be NULL) and
 * prompt (may be NULL: no interaction) give the signer's own secret when its
 * spec holds none. Opening unlocks the key (decrypts the PEM, logs in to the
 * token or the other device), so a wrong secret is reported here, before the
 * device is asked for a challenge. Errors say which signer and what is wrong,
 * never a secret.
 */
pico_err pico_pka_signer_open(const char *spec, const char *pin_source,
                              const pico_pin_prompt *prompt, pico_pka_signer **out);

/* The signer's public key (owned by the signer). */
EVP_PKEY *pico_pka_signer_public(pico_pka_signer *s);

/* The spec without its query part (no secret): for messages and prompts. */
const char *pico_pka_signer_name(const pico_pka_signer *s);

/*
 * Signs msg (device name || challenge) for EXTERNAL AUTHENTICATE. sig holds
 * *sig_len bytes on entry (512 is always enough), the signature's on return.
 */
pico_err pico_pka_signer_sign(pico_pka_signer *s, const uint8_t *msg, size_t len, uint8_t *sig,
                              size_t *sig_len);

void pico_pka_signer_free(pico_pka_signer *s);

/*
 * The name a PKA key is registered under (its CHR, 16 characters): "PK", the
 * first 9 hex digits (upper case) of SHA-256 over the key's
 * SubjectPublicKeyInfo DER, then "00001". The same key always gets the same
 * name, so a login finds its slot without stored state. chr holds 17 bytes.
 */
pico_err pico_pka_chr(EVP_PKEY *pub, char chr[17]);

/*
 * How many PKCS#11 modules this process has initialised so far. A module's own
 * exit-time destructors are registered when it initialises; whoever holds its
 * signers past that point must release them before those run (device_login.c).
 */
unsigned pico_pka_p11_modules_loaded(void);

#endif
