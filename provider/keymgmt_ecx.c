/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X25519, X448 (RFC 7748), Ed25519 and Ed448 (RFC 8032) key management:
 * device keys (`openssl genpkey -algorithm X25519 -pkeyopt pico-label:kx`,
 * or found by the store), imported public keys (a peer's, a certificate's),
 * and soft keys (libssl's X25519/X448 key shares with pico's key manager
 * fetched: made and used in software). These keys have no parameters and a
 * fixed size (keytype.h); the public key is its raw bytes
 * (OSSL_PKEY_PARAM_PUB_KEY), as the default provider's ecx_kmgmt.c has it.
 * Key exchange goes to keyexch_xdh.c, signatures to signature_eddsa.c.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <string.h>
#include <strings.h>

#include "provider.h"

static OSSL_FUNC_keymgmt_import_fn ecx_keymgmt_import;
static OSSL_FUNC_keymgmt_import_types_fn ecx_keymgmt_types;
static OSSL_FUNC_keymgmt_gettable_params_fn xdh_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_gettable_params_fn eddsa_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_settable_params_fn xdh_keymgmt_settable_params;
static OSSL_FUNC_keymgmt_settable_params_fn eddsa_keymgmt_settable_params;
static OSSL_FUNC_keymgmt_set_params_fn eddsa_keymgmt_set_params;
static OSSL_FUNC_keymgmt_gen_set_params_fn ecx_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn ecx_keymgmt_gen_settable_params;

static int ecx_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    pico_pkey *key = keydata;

    /* as ecx_import: these keys are nothing but their key pair */
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return 0;
    return pico_keymgmt_import(key, selection, params);
}

static const OSSL_PARAM *ecx_keymgmt_types(int selection)
{
    static const OSSL_PARAM types[] = {
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    return (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 ? types : NULL;
}

#define ECX_GETTABLE_COMMON                                                                        \
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),                                                    \
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),                                       \
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),                                            \
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0)

static const OSSL_PARAM *xdh_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        ECX_GETTABLE_COMMON,
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

static const OSSL_PARAM *eddsa_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        ECX_GETTABLE_COMMON,
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

/* Keys not on the device only: libssl sets the peer's key share on a key made from the group */
static const OSSL_PARAM *xdh_keymgmt_settable_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

/* As the default provider's: an Ed25519/Ed448 key has nothing to set, and says yes */
static int eddsa_keymgmt_set_params(void *keydata, const OSSL_PARAM params[])
{
    (void)keydata;
    (void)params;
    return 1;
}

static const OSSL_PARAM *eddsa_keymgmt_settable_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {OSSL_PARAM_END};

    (void)provctx;
    return settable;
}

/* The group name is optional and, as in ecx_gen_set_params, must be the type's own: a key
 * share's group ("x25519", "x448"); EdDSA keys have none. */
static int ecx_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const pico_prov_keytype *kt = pico_prov_keytype_of(ctx->spec.type, 0);
    const pico_key_type_info *info = pico_key_type_info_of(ctx->spec.type);
    const OSSL_PARAM *p;
    const char *name = NULL;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &name) || kt->keyexch == NULL ||
         strcasecmp(name, kt->name) != 0)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "group %s: %s keys have %s%s",
                        name != NULL ? name : "(not a string)", info->name,
                        kt->keyexch != NULL ? "the group " : "no group",
                        kt->keyexch != NULL ? kt->name : "");
        return 0;
    }
    return pico_keymgmt_gen_set_common(ctx, params);
}

static const OSSL_PARAM *ecx_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_PROPERTIES, NULL, 0),
        PICO_GEN_SETTABLE_COMMON,
        OSSL_PARAM_END,
    };
    (void)genctx;
    (void)provctx;
    return settable;
}

static void *ecx_gen_init(void *provctx, pico_key_type type, int selection,
                          const OSSL_PARAM params[])
{
    pico_genctx *ctx;

    /* parameters alone (libssl's peer keys) are soft keys: see pico_keymgmt_gen */
    if ((ctx = pico_keymgmt_gen_init(provctx, type, pico_prov_keytype_of(type, 0)->name,
                                     selection)) == NULL)
        return NULL;
    if (!ecx_keymgmt_gen_set_params(ctx, params)) {
        pico_keymgmt_gen_cleanup(ctx);
        return NULL;
    }
    return ctx;
}

#define ECX_KEYMGMT_COMMON                                                                         \
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))pico_keymgmt_free},                                   \
        {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))pico_keymgmt_dup},                                 \
        {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))pico_keymgmt_load},                               \
        {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))pico_keymgmt_has},                                 \
        {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))pico_keymgmt_match},                             \
        {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))ecx_keymgmt_import},                            \
        {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ecx_keymgmt_types},                       \
        {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))pico_keymgmt_export},                           \
        {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ecx_keymgmt_types},                       \
        {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))pico_keymgmt_get_params},                   \
        {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ecx_keymgmt_gen_set_params},            \
        {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))ecx_keymgmt_gen_settable_params},  \
        {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))pico_keymgmt_gen},                                 \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))pico_keymgmt_gen_cleanup                    \
    }

#define XDH_KEYMGMT                                                                                \
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))xdh_keymgmt_gettable_params},              \
        {OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))pico_keymgmt_set_params},                   \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))xdh_keymgmt_settable_params             \
    }

#define EDDSA_KEYMGMT                                                                              \
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))eddsa_keymgmt_gettable_params},            \
        {OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))eddsa_keymgmt_set_params},                  \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))eddsa_keymgmt_settable_params           \
    }

/* Each type's new and gen_init, the type baked in (a key manager is told nothing else) */
#define ECX_TYPE(alg, type, kind)                                                                  \
    static void *alg##_keymgmt_new(void *provctx)                                                  \
    {                                                                                              \
        return pico_pkey_new(provctx, type);                                                       \
    }                                                                                              \
    static void *alg##_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])   \
    {                                                                                              \
        return ecx_gen_init(provctx, type, selection, params);                                     \
    }                                                                                              \
    const OSSL_DISPATCH pico_##alg##_keymgmt_functions[] = {                                       \
        {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))alg##_keymgmt_new},                                \
        {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))alg##_keymgmt_gen_init},                      \
        kind,                                                                                      \
        ECX_KEYMGMT_COMMON,                                                                        \
        {0, NULL},                                                                                 \
    }

ECX_TYPE(x25519, PICO_KEY_X25519, XDH_KEYMGMT);
ECX_TYPE(x448, PICO_KEY_X448, XDH_KEYMGMT);
ECX_TYPE(ed25519, PICO_KEY_ED25519, EDDSA_KEYMGMT);
ECX_TYPE(ed448, PICO_KEY_ED448, EDDSA_KEYMGMT);
