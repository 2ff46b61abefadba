/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDH with the private key on the device: one DECIPHER APDU with alg 80 and
 * the peer's uncompressed point (7.2). The device answers 04 || x; the shared
 * secret is x, field-length, as the default provider derives it (no KDF,
 * cofactor 1 on every curve the device has).
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "provider.h"
#include "schsm.h"

static OSSL_FUNC_keyexch_newctx_fn ecdh_newctx;
static OSSL_FUNC_keyexch_freectx_fn ecdh_freectx;
static OSSL_FUNC_keyexch_dupctx_fn ecdh_dupctx;
static OSSL_FUNC_keyexch_init_fn ecdh_init;
static OSSL_FUNC_keyexch_set_peer_fn ecdh_set_peer;
static OSSL_FUNC_keyexch_derive_fn ecdh_derive;
static OSSL_FUNC_keyexch_set_ctx_params_fn ecdh_set_ctx_params;
static OSSL_FUNC_keyexch_settable_ctx_params_fn ecdh_settable_ctx_params;
static OSSL_FUNC_keyexch_get_ctx_params_fn ecdh_get_ctx_params;
static OSSL_FUNC_keyexch_gettable_ctx_params_fn ecdh_gettable_ctx_params;

typedef struct ecdh_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key;       /* not owned */
    pico_pkey *peer;      /* not owned */
    EVP_PKEY_CTX *shadow; /* a soft key's derivation, in software */
} ecdh_ctx;

static void *ecdh_newctx(void *provctx)
{
    ecdh_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx != NULL)
        ctx->prov = provctx;
    return ctx;
}

static void ecdh_freectx(void *vctx)
{
    ecdh_ctx *ctx = vctx;

    if (ctx != NULL)
        EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *ecdh_dupctx(void *vctx)
{
    ecdh_ctx *src = vctx, *ctx = OPENSSL_memdup(src, sizeof(*src));

    if (ctx != NULL && src->shadow != NULL &&
        (ctx->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL) {
        OPENSSL_free(ctx);
        return NULL;
    }
    return ctx;
}

static int ecdh_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    ecdh_ctx *ctx = vctx;
    pico_pkey *key = vkey;

    if (key == NULL || key->type != PICO_KEY_EC || (key->hsm == NULL && !key->soft)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "ecdh needs an ec key on the device");
        return 0;
    }
    ctx->key = key;
    ctx->peer = NULL;
    EVP_PKEY_CTX_free(ctx->shadow);
    ctx->shadow = NULL;
    /* A soft key (libssl's ephemeral ECDHE key with pico's EC key manager) derives in
     * software, every parameter as the software provider takes it */
    if (key->soft && ((ctx->shadow = EVP_PKEY_CTX_new_from_pkey(pico_prov_sw(ctx->prov), key->pub,
                                                                PICO_SW_PROPQ)) == NULL ||
                      EVP_PKEY_derive_init(ctx->shadow) != 1))
        return 0;
    return ecdh_set_ctx_params(ctx, params);
}

static int ecdh_set_peer(void *vctx, void *vpeer)
{
    ecdh_ctx *ctx = vctx;
    pico_pkey *peer = vpeer;
    EVP_PKEY *mine, *theirs;
    char g1[64], g2[64];

    if (peer == NULL || peer->type != PICO_KEY_EC)
        return 0;
    if ((theirs = pico_pkey_public(peer)) == NULL || (mine = pico_pkey_public(ctx->key)) == NULL)
        return 0;
    if (ctx->shadow != NULL) {
        if (EVP_PKEY_derive_set_peer(ctx->shadow, theirs) != 1)
            return 0;
        ctx->peer = peer;
        return 1;
    }
    if (!EVP_PKEY_get_group_name(mine, g1, sizeof(g1), NULL) ||
        !EVP_PKEY_get_group_name(theirs, g2, sizeof(g2), NULL) || strcmp(g1, g2) != 0) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "the peer key is not on the key's curve");
        return 0;
    }
    ctx->peer = peer;
    return 1;
}

static int ecdh_derive(void *vctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    ecdh_ctx *ctx = vctx;
    size_t flen, zlen, ptlen;
    uint8_t z[1 + 66 + 1], *pt = NULL;
    EVP_PKEY *theirs;
    int ok = 0;

    if (ctx->key == NULL || ctx->peer == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "ecdh: no peer key set");
        return 0;
    }
    if (ctx->shadow != NULL) {
        *secretlen = outlen;
        return EVP_PKEY_derive(ctx->shadow, secret, secretlen) == 1;
    }
    flen = ((size_t)ctx->key->hsm->bits + 7) / 8;
    if (secret == NULL) {
        *secretlen = flen;
        return 1;
    }
    if (outlen < flen) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "secret buffer of %zu bytes, %zu needed", outlen,
                        flen);
        return 0;
    }
    /* the uncompressed point, whatever form the peer key came in */
    if ((theirs = pico_pkey_public(ctx->peer)) == NULL ||
        !EVP_PKEY_set_utf8_string_param(theirs, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) ||
        (ptlen = EVP_PKEY_get1_encoded_public_key(theirs, &pt)) == 0)
        return 0;
    if (pico_pkey_login(ctx->key) != PICO_OK)
        goto end;
    zlen = sizeof(z);
    if (pico_pkey_decipher(ctx->key, PICO_ALG_ECDH, pt, ptlen, z, &zlen) != PICO_OK)
        goto end;
    if (zlen != flen + 1 || z[0] != 0x04) {
        pico_prov_raise(ctx->prov, PICO_E_BAD_RESPONSE, "ecdh answered %zu bytes, %zu expected",
                        zlen, flen + 1);
        goto end;
    }
    memcpy(secret, z + 1, flen);
    *secretlen = flen;
    ok = 1;
end:
    OPENSSL_cleanse(z, sizeof(z));
    OPENSSL_free(pt);
    return ok;
}

static int ecdh_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    ecdh_ctx *ctx = vctx;
    const OSSL_PARAM *p;
    const char *kdf;
    int mode;

    if (params == NULL)
        return 1;
    if (ctx->shadow != NULL)
        return EVP_PKEY_CTX_set_params(ctx->shadow, params) == 1;
    /* cofactor ECDH is plain ECDH on the device's curves (all have cofactor 1) */
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL &&
        (!OSSL_PARAM_get_int(p, &mode) || mode < -1 || mode > 1))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &kdf) || *kdf != '\0')) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED,
                        "ecdh with a kdf: derive the plain secret and apply the kdf");
        return 0;
    }
    return 1;
}

static const OSSL_PARAM *ecdh_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return settable;
}

static int ecdh_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    ecdh_ctx *ctx = vctx;
    OSSL_PARAM *p;

    if (ctx->shadow != NULL)
        return EVP_PKEY_CTX_get_params(ctx->shadow, params) == 1;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL &&
        !OSSL_PARAM_set_int(p, 0))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ""))
        return 0;
    return 1;
}

static const OSSL_PARAM *ecdh_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return gettable;
}

const OSSL_DISPATCH pico_ecdh_keyexch_functions[] = {
    {OSSL_FUNC_KEYEXCH_NEWCTX, (void (*)(void))ecdh_newctx},
    {OSSL_FUNC_KEYEXCH_FREECTX, (void (*)(void))ecdh_freectx},
    {OSSL_FUNC_KEYEXCH_DUPCTX, (void (*)(void))ecdh_dupctx},
    {OSSL_FUNC_KEYEXCH_INIT, (void (*)(void))ecdh_init},
    {OSSL_FUNC_KEYEXCH_SET_PEER, (void (*)(void))ecdh_set_peer},
    {OSSL_FUNC_KEYEXCH_DERIVE, (void (*)(void))ecdh_derive},
    {OSSL_FUNC_KEYEXCH_SET_CTX_PARAMS, (void (*)(void))ecdh_set_ctx_params},
    {OSSL_FUNC_KEYEXCH_SETTABLE_CTX_PARAMS, (void (*)(void))ecdh_settable_ctx_params},
    {OSSL_FUNC_KEYEXCH_GET_CTX_PARAMS, (void (*)(void))ecdh_get_ctx_params},
    {OSSL_FUNC_KEYEXCH_GETTABLE_CTX_PARAMS, (void (*)(void))ecdh_gettable_ctx_params},
    {0, NULL},
};
