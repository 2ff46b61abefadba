/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the provider's operation files: the provider context,
 * the key object every operation works on, and the dispatch tables each file
 * exports. No APDU bytes here (design.md): keys reach the device through
 * common/device.h.
 */
#ifndef PICO_PROVIDER_H
#define PICO_PROVIDER_H

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include "device.h"
#include "err.h"
#include "uri.h"

#define PICO_PROV_NAME "pico"
#define PICO_PROPS "provider=pico"

typedef struct pico_prov_ctx {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx; /* child library context: software parts (hashing, verify) */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;
    pico_config cfg; /* strings below are owned */
    char *cfg_reader, *cfg_pin_source;
} pico_prov_ctx;

/*
 * The provider's key object (keymgmt keydata). A key on the device has hsm
 * set; a public key imported from elsewhere (to verify, or to be matched)
 * has only pub. The login factors given with the key's URI travel with it,
 * secrets cleansed at free.
 */
typedef struct pico_pkey {
    pico_prov_ctx *prov;
    pico_key_type type;
    int rsa_pss; /* RSA-PSS keymgmt flavour */
    pico_key *hsm; /* owned by the device object, not by this */
    EVP_PKEY *pub; /* public half (a reference we hold), may be NULL until needed */
    pico_uri uri;  /* where it came from: path + login factors */
    pico_pin_prompt prompt; /* the application's passphrase callback, when still valid */
} pico_pkey;

pico_pkey *pico_pkey_new(pico_prov_ctx *prov, pico_key_type type);
/* A copy sharing the device key (hsm) and holding its own pub reference and URI copy. */
pico_pkey *pico_pkey_dup(const pico_pkey *key);
void pico_pkey_free(pico_pkey *key);
/* The public half, read from the device on first use. NULL (and an error raised) on failure. */
EVP_PKEY *pico_pkey_public(pico_pkey *key);
/* Logs in for this key's device with the key's factors, if not yet logged in. */
pico_err pico_pkey_login(pico_pkey *key);

/* Raises a provider error with a reason from err.h (also used by common/ through the handler). */
void pico_prov_raise(pico_prov_ctx *prov, pico_err code, const char *fmt, ...);

/* Dispatch tables, one file each (style.md). */
extern const OSSL_DISPATCH pico_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH pico_rsapss_keymgmt_functions[];
extern const OSSL_DISPATCH pico_ec_keymgmt_functions[];
extern const OSSL_DISPATCH pico_rsa_signature_functions[];
extern const OSSL_DISPATCH pico_ecdsa_signature_functions[];
extern const OSSL_DISPATCH pico_rsa_asym_cipher_functions[];
extern const OSSL_DISPATCH pico_ecdh_keyexch_functions[];
extern const OSSL_DISPATCH pico_store_functions[];
extern const OSSL_ALGORITHM pico_encoders[];
extern const OSSL_ALGORITHM pico_decoders[];

#endif
