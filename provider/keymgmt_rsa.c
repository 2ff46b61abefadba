/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA and RSA-PSS key management: device keys (generated with `openssl genpkey
 * -algorithm RSA -pkeyopt rsa_keygen_bits:3072`, or found by the store) and
 * imported public keys. The device makes 1024 to 4096-bit keys with e = 65537
 * only (field-notes.md); RSA-PSS keys are RSA keys whose use is restricted.
 */
#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_keymgmt_new_fn rsa_keymgmt_new;
static OSSL_FUNC_keymgmt_new_fn rsapss_keymgmt_new;
static OSSL_FUNC_keymgmt_import_fn rsa_keymgmt_import;
static OSSL_FUNC_keymgmt_import_fn rsapss_keymgmt_import;
static OSSL_FUNC_keymgmt_import_types_fn rsa_keymgmt_types;
static OSSL_FUNC_keymgmt_gettable_params_fn rsa_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_query_operation_name_fn rsa_keymgmt_query_operation_name;
static OSSL_FUNC_keymgmt_gen_init_fn rsa_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_init_fn rsapss_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_set_params_fn rsa_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn rsa_keymgmt_gen_settable_params;
static OSSL_FUNC_keymgmt_gen_fn rsapss_keymgmt_gen;

static void *rsa_keymgmt_new(void *provctx)
{
    return pico_pkey_new(provctx, PICO_KEY_RSA);
}

static void *rsapss_keymgmt_new(void *provctx)
{
    pico_pkey *key = pico_pkey_new(provctx, PICO_KEY_RSA);

    if (key != NULL)
        key->rsa_pss = 1;
    return key;
}

static int rsa_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    return pico_keymgmt_import_pub(keydata, "RSA", selection, params);
}

static int rsapss_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    return pico_keymgmt_import_pub(keydata, "RSA-PSS", selection, params);
}

static const OSSL_PARAM *rsa_keymgmt_types(int selection)
{
    static const OSSL_PARAM types[] = {
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)selection;
    return types;
}

static const OSSL_PARAM *rsa_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

static const char *rsa_keymgmt_query_operation_name(int operation_id)
{
    (void)operation_id;
    return "RSA";
}

/* What the firmware makes (6.2): device keys only; a soft key takes what software takes. */
static int rsa_gen_check(pico_genctx *ctx)
{
    int bits = ctx->spec.bits;

    if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED,
                        "rsa_keygen_bits %d: the device makes 1024, 2048, 3072 or 4096", bits);
        return 0;
    }
    if (ctx->e_bad) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "the device uses e = 65537 only");
        return 0;
    }
    if (ctx->primes_bad) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "the device makes 2-prime keys");
        return 0;
    }
    return 1;
}

static int rsa_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const OSSL_PARAM *p;
    BIGNUM *e = NULL;
    size_t bits, primes;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_BITS)) != NULL) {
        if (!OSSL_PARAM_get_size_t(p, &bits) || bits > 16384)
            return 0;
        ctx->spec.bits = (int)bits;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E)) != NULL) {
        if (!OSSL_PARAM_get_BN(p, &e))
            return 0;
        ctx->e_bad = !BN_is_word(e, 65537);
        BN_free(e);
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_PRIMES)) != NULL) {
        if (!OSSL_PARAM_get_size_t(p, &primes))
            return 0;
        ctx->primes_bad = primes != 2;
    }
    return pico_keymgmt_gen_set_common(ctx, params);
}

static const OSSL_PARAM *rsa_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, NULL),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_PRIMES, NULL),
        PICO_GEN_SETTABLE_COMMON,
        OSSL_PARAM_END,
    };
    (void)genctx;
    (void)provctx;
    return settable;
}

static void *gen_init(void *provctx, const char *alg, int selection, const OSSL_PARAM params[])
{
    pico_genctx *ctx;

    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return NULL; /* RSA has no parameters to generate */
    if ((ctx = pico_keymgmt_gen_init(provctx, PICO_KEY_RSA, alg, selection)) == NULL)
        return NULL;
    ctx->check = rsa_gen_check;
    if (!rsa_keymgmt_gen_set_params(ctx, params)) {
        pico_keymgmt_gen_cleanup(ctx);
        return NULL;
    }
    return ctx;
}

static void *rsa_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return gen_init(provctx, "RSA", selection, params);
}

static void *rsapss_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return gen_init(provctx, "RSA-PSS", selection, params);
}

static void *rsapss_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_pkey *key = pico_keymgmt_gen(genctx, cb, cbarg);

    if (key != NULL)
        key->rsa_pss = 1;
    return key;
}

#define RSA_KEYMGMT_COMMON                                                                         \
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))pico_keymgmt_free},                                   \
        {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))pico_keymgmt_dup},                                 \
        {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))pico_keymgmt_load},                               \
        {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))pico_keymgmt_has},                                 \
        {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))pico_keymgmt_match},                             \
        {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_keymgmt_types},                       \
        {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))pico_keymgmt_export},                           \
        {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_keymgmt_types},                       \
        {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))pico_keymgmt_get_params},                   \
        {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_keymgmt_gettable_params},          \
        {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,                                                   \
         (void (*)(void))rsa_keymgmt_query_operation_name},                                        \
        {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))rsa_keymgmt_gen_set_params},            \
        {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsa_keymgmt_gen_settable_params},  \
    {                                                                                              \
        OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))pico_keymgmt_gen_cleanup                    \
    }

const OSSL_DISPATCH pico_rsa_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))rsa_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsa_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))pico_keymgmt_gen},
    RSA_KEYMGMT_COMMON,
    {0, NULL},
};

const OSSL_DISPATCH pico_rsapss_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsapss_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))rsapss_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsapss_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))rsapss_keymgmt_gen},
    RSA_KEYMGMT_COMMON,
    {0, NULL},
};
