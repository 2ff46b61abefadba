/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDH with the private key on the device: one DECIPHER APDU with alg 80 and
 * the peer's uncompressed point (7.2). The device answers 04 || x; the shared
 * secret is x, field-length, as the default provider derives it (cofactor 1
 * on every curve the device has). The X9.63 KDF that CMS asks for
 * (kdf-type:X963KDF) runs on the host over that secret, in the software
 * provider, with the parameters of OpenSSL 3.0's ecdh_exch.c.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>

#include "provider.h"

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

/* The largest field of the device's curves: secp521r1, 66 bytes */
#define ECDH_MAX_SECRET 66

typedef enum { ECDH_KDF_NONE = 0, ECDH_KDF_X963 } ecdh_kdf;

typedef struct ecdh_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key;    /* not owned */
    pico_pkey *peer;   /* not owned */
    int cofactor_mode; /* -1: the key's (0); any value is plain ECDH at cofactor 1 */
    ecdh_kdf kdf;
    EVP_MD *kdf_md;   /* owned */
    uint8_t *kdf_ukm; /* owned */
    size_t kdf_ukmlen;
    size_t kdf_outlen;
    EVP_PKEY_CTX *shadow; /* a soft key's derivation, all in software */
} ecdh_ctx;

static void *ecdh_newctx(void *provctx)
{
    ecdh_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx != NULL) {
        ctx->prov = provctx;
        ctx->cofactor_mode = -1;
    }
    return ctx;
}

static void ecdh_freectx(void *vctx)
{
    ecdh_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    EVP_MD_free(ctx->kdf_md);
    OPENSSL_clear_free(ctx->kdf_ukm, ctx->kdf_ukmlen);
    EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *ecdh_dupctx(void *vctx)
{
    const ecdh_ctx *src = vctx;
    ecdh_ctx *dst = OPENSSL_memdup(src, sizeof(*src));

    if (dst == NULL)
        return NULL;
    dst->kdf_md = NULL;
    dst->kdf_ukm = NULL;
    dst->kdf_ukmlen = 0;
    dst->shadow = NULL;
    if (src->shadow != NULL && (dst->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL)
        goto err;
    if (src->kdf_md != NULL) {
        if (!EVP_MD_up_ref(src->kdf_md))
            goto err;
        dst->kdf_md = src->kdf_md;
    }
    if (src->kdf_ukm != NULL && src->kdf_ukmlen > 0) {
        if ((dst->kdf_ukm = OPENSSL_memdup(src->kdf_ukm, src->kdf_ukmlen)) == NULL)
            goto err;
        dst->kdf_ukmlen = src->kdf_ukmlen;
    }
    return dst;
err:
    ecdh_freectx(dst);
    return NULL;
}

/* A key whose type's row offers ECDH (keytypes.c). */
static int is_ecdh(const pico_pkey *key)
{
    const pico_prov_keytype *kt = key != NULL ? pico_pkey_keytype(key) : NULL;

    return kt != NULL && kt->keyexch == pico_ecdh_keyexch_functions;
}

static int ecdh_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    ecdh_ctx *ctx = vctx;
    pico_pkey *key = vkey;

    if (!is_ecdh(key) || (key->hsm == NULL && !key->soft)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "ecdh needs an ec key on the device");
        return 0;
    }
    ctx->key = key;
    ctx->peer = NULL;
    /* as the default provider: a new init forgets the mode and the kdf type */
    ctx->cofactor_mode = -1;
    ctx->kdf = ECDH_KDF_NONE;
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

    if (!is_ecdh(peer))
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

/* The shared secret's length: the field size of the key's curve. */
static size_t ecdh_secret_len(const ecdh_ctx *ctx)
{
    return ((size_t)ctx->key->hsm->bits + 7) / 8;
}

/* The whole shared secret x (ecdh_secret_len bytes) from the device, into z. */
static int ecdh_device_secret(ecdh_ctx *ctx, uint8_t *z)
{
    size_t flen = ecdh_secret_len(ctx), ptlen, alen;
    uint8_t answer[1 + ECDH_MAX_SECRET + 1], *pt = NULL;
    EVP_PKEY *theirs;
    int ok = 0;

    /* the uncompressed point, whatever form the peer key came in */
    if ((theirs = pico_pkey_public(ctx->peer)) == NULL ||
        !EVP_PKEY_set_utf8_string_param(theirs, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) ||
        (ptlen = EVP_PKEY_get1_encoded_public_key(theirs, &pt)) == 0)
        goto end;
    if (flen > ECDH_MAX_SECRET) {
        pico_prov_raise(ctx->prov, PICO_E_INTERNAL, "ecdh on a %zu-byte field", flen);
        goto end;
    }
    if (pico_pkey_login(ctx->key) != PICO_OK)
        goto end;
    alen = sizeof(answer);
    if (pico_pkey_op(ctx->key, PICO_MECH_ECDH, pt, ptlen, answer, &alen) != PICO_OK)
        goto end;
    if (alen != flen + 1 || answer[0] != 0x04) {
        pico_prov_raise(ctx->prov, PICO_E_BAD_RESPONSE, "ecdh answered %zu bytes, %zu expected",
                        alen, flen + 1);
        goto end;
    }
    memcpy(z, answer + 1, flen);
    ok = 1;
end:
    OPENSSL_cleanse(answer, sizeof(answer));
    OPENSSL_free(pt);
    return ok;
}

/*
 * The plain shared secret. As the default provider's ecdh_plain_derive, a
 * buffer shorter than the secret is no error: the secret is truncated to it.
 */
static int ecdh_plain_derive(ecdh_ctx *ctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    size_t flen = ecdh_secret_len(ctx), n = outlen < flen ? outlen : flen;
    uint8_t z[ECDH_MAX_SECRET];
    int ok = 0;

    if (secret == NULL) {
        *secretlen = flen;
        return 1;
    }
    if (!ecdh_device_secret(ctx, z))
        goto end;
    memcpy(secret, z, n);
    *secretlen = n;
    ok = 1;
end:
    OPENSSL_cleanse(z, sizeof(z));
    return ok;
}

/* X9.63 KDF (SEC 1 3.6.1) over the device's secret, in the software provider. */
static int ecdh_x963_derive(ecdh_ctx *ctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    uint8_t z[ECDH_MAX_SECRET];
    size_t zlen = ecdh_secret_len(ctx);
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[4], *p = params;
    int ok = 0;

    if (secret == NULL) {
        *secretlen = ctx->kdf_outlen;
        return 1;
    }
    if (ctx->kdf_outlen > outlen) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "kdf output of %zu bytes in a %zu-byte buffer",
                        ctx->kdf_outlen, outlen);
        return 0;
    }
    if (ctx->kdf_md == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "x963kdf needs a digest (kdf-digest)");
        return 0;
    }
    if ((kdf = EVP_KDF_fetch(pico_prov_sw(ctx->prov), OSSL_KDF_NAME_X963KDF, PICO_SW_PROPQ)) ==
            NULL ||
        (kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "x963kdf not available in software");
        goto end;
    }
    if (!ecdh_device_secret(ctx, z))
        goto end;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)EVP_MD_get0_name(ctx->kdf_md), 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, zlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ctx->kdf_ukm, ctx->kdf_ukmlen);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, secret, ctx->kdf_outlen, params) <= 0) {
        pico_prov_raise(ctx->prov, PICO_E_INTERNAL, "x963kdf over the shared secret");
        goto end;
    }
    *secretlen = ctx->kdf_outlen;
    ok = 1;
end:
    OPENSSL_cleanse(z, sizeof(z));
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok;
}

static int ecdh_derive(void *vctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    ecdh_ctx *ctx = vctx;

    if (ctx->key == NULL || ctx->peer == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "ecdh: no peer key set");
        return 0;
    }
    if (ctx->shadow != NULL) {
        *secretlen = outlen;
        return EVP_PKEY_derive(ctx->shadow, secret, secretlen) == 1;
    }
    if (ctx->kdf == ECDH_KDF_X963)
        return ecdh_x963_derive(ctx, secret, secretlen, outlen);
    return ecdh_plain_derive(ctx, secret, secretlen, outlen);
}

/* kdf-digest (and kdf-digest-props): fetched now, as the default provider does, so that
 * an unknown digest fails at set time. */
static int ecdh_set_kdf_md(ecdh_ctx *ctx, const OSSL_PARAM *p, const OSSL_PARAM *props)
{
    const char *name, *propq = PICO_SW_PROPQ;
    EVP_MD *md;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) ||
        (props != NULL && !OSSL_PARAM_get_utf8_string_ptr(props, &propq)))
        return 0;
    if ((md = EVP_MD_fetch(pico_prov_sw(ctx->prov), name, propq)) == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "kdf digest %s", name);
        return 0;
    }
    EVP_MD_free(ctx->kdf_md);
    ctx->kdf_md = md;
    return 1;
}

static int ecdh_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    ecdh_ctx *ctx = vctx;
    const OSSL_PARAM *p;
    const char *kdf;
    void *ukm = NULL;
    size_t ukmlen = 0, outlen;
    int mode;

    if (params == NULL)
        return 1;
    if (ctx->shadow != NULL)
        return EVP_PKEY_CTX_set_params(ctx->shadow, params) == 1;
    /* cofactor ECDH is plain ECDH on the device's curves (all have cofactor 1) */
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL) {
        if (!OSSL_PARAM_get_int(p, &mode) || mode < -1 || mode > 1)
            return 0;
        ctx->cofactor_mode = mode;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &kdf))
            return 0;
        if (*kdf == '\0') {
            ctx->kdf = ECDH_KDF_NONE;
        } else if (strcmp(kdf, OSSL_KDF_NAME_X963KDF) == 0) {
            ctx->kdf = ECDH_KDF_X963;
        } else {
            pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "ecdh kdf %s: only X963KDF", kdf);
            return 0;
        }
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_DIGEST)) != NULL &&
        !ecdh_set_kdf_md(ctx, p,
                         OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_DIGEST_PROPS)))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_OUTLEN)) != NULL) {
        if (!OSSL_PARAM_get_size_t(p, &outlen))
            return 0;
        ctx->kdf_outlen = outlen;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_UKM)) != NULL) {
        if (!OSSL_PARAM_get_octet_string(p, &ukm, 0, &ukmlen))
            return 0;
        OPENSSL_clear_free(ctx->kdf_ukm, ctx->kdf_ukmlen);
        ctx->kdf_ukm = ukm;
        ctx->kdf_ukmlen = ukmlen;
    }
    return 1;
}

static const OSSL_PARAM *ecdh_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST_PROPS, NULL, 0),
        OSSL_PARAM_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, NULL),
        OSSL_PARAM_octet_string(OSSL_EXCHANGE_PARAM_KDF_UKM, NULL, 0),
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
    /* -1 reads as the key's mode: device keys have no cofactor flag */
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL &&
        !OSSL_PARAM_set_int(p, ctx->cofactor_mode == 1 ? 1 : 0))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ctx->kdf == ECDH_KDF_X963 ? OSSL_KDF_NAME_X963KDF : ""))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ctx->kdf_md == NULL ? "" : EVP_MD_get0_name(ctx->kdf_md)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_OUTLEN)) != NULL &&
        !OSSL_PARAM_set_size_t(p, ctx->kdf_outlen))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_UKM)) != NULL &&
        !OSSL_PARAM_set_octet_ptr(p, ctx->kdf_ukm, ctx->kdf_ukmlen))
        return 0;
    return 1;
}

static const OSSL_PARAM *ecdh_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, NULL, 0),
        OSSL_PARAM_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, NULL),
        OSSL_PARAM_DEFN(OSSL_EXCHANGE_PARAM_KDF_UKM, OSSL_PARAM_OCTET_PTR, NULL, 0),
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
