/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA (PKCS#1 v1.5, PSS, raw) and ECDSA signatures with the key on the device.
 * Hashing runs on the host; the device signs in one APDU, with the mechanism
 * this file names (device.h; the device layer picks SIGN's algorithm, 7.1):
 *   ECDSA          PICO_MECH_ECDSA with the hash, DER answer passed through;
 *   RSA PKCS#1 1.5 PICO_MECH_RSA_RAW with the full EMSA-PKCS1-v1_5 block built
 *                  on the host (the firmware's DigestInfo input is broken,
 *                  field-notes.md);
 *   RSA-PSS        PICO_MECH_RSA_PSS with the hash when the salt is the hash length
 *                  and MGF1 uses the message hash (what TLS uses), else
 *                  PICO_MECH_RSA_RAW with an EMSA-PSS block encoded on the host;
 *   RSA raw        PICO_MECH_RSA_RAW with the caller's modulus-length block.
 * Verification, and the AlgorithmIdentifier that certificates need, go to the
 * software provider with the key's public half (a "shadow" context). The
 * parameters and the paddings are rsa_params.c's.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <string.h>

#include "provider.h"
#include "rsa_params.h"

static OSSL_FUNC_signature_newctx_fn rsa_signature_newctx;
static OSSL_FUNC_signature_newctx_fn ecdsa_signature_newctx;
static OSSL_FUNC_signature_freectx_fn signature_freectx;
static OSSL_FUNC_signature_dupctx_fn signature_dupctx;
static OSSL_FUNC_signature_sign_init_fn signature_sign_init;
static OSSL_FUNC_signature_sign_fn signature_sign;
static OSSL_FUNC_signature_verify_init_fn signature_verify_init;
static OSSL_FUNC_signature_verify_fn signature_verify;
static OSSL_FUNC_signature_digest_sign_init_fn signature_digest_sign_init;
static OSSL_FUNC_signature_digest_sign_update_fn signature_digest_update;
static OSSL_FUNC_signature_digest_sign_final_fn signature_digest_sign_final;
static OSSL_FUNC_signature_digest_verify_init_fn signature_digest_verify_init;
static OSSL_FUNC_signature_digest_verify_final_fn signature_digest_verify_final;
static OSSL_FUNC_signature_get_ctx_params_fn signature_get_ctx_params;
static OSSL_FUNC_signature_gettable_ctx_params_fn rsa_signature_gettable_ctx_params;
static OSSL_FUNC_signature_gettable_ctx_params_fn ecdsa_signature_gettable_ctx_params;
static OSSL_FUNC_signature_set_ctx_params_fn signature_set_ctx_params;
static OSSL_FUNC_signature_settable_ctx_params_fn rsa_signature_settable_ctx_params;
static OSSL_FUNC_signature_settable_ctx_params_fn ecdsa_signature_settable_ctx_params;

typedef struct sig_ctx {
    pico_prov_ctx *prov;
    pico_key_type type;
    pico_pkey *key;       /* the application's key object: not owned */
    int verify;           /* verify operation (goes to the shadow) */
    pico_rsa_params rsa;  /* digest (ECDSA too), padding, salt, MGF1 (rsa_params.h) */
    EVP_MD_CTX *mdctx;    /* digest-sign/verify: hashing on the host */
    EVP_PKEY_CTX *shadow; /* software context over the public half */
} sig_ctx;

static void *signature_newctx(void *provctx, pico_key_type type)
{
    sig_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->prov = provctx;
    ctx->type = type;
    pico_rsa_params_init(&ctx->rsa, provctx, type == PICO_KEY_RSA ? PICO_RSA_SIG : PICO_RSA_DIGEST);
    return ctx;
}

static void *rsa_signature_newctx(void *provctx, const char *propq)
{
    (void)propq;
    return signature_newctx(provctx, PICO_KEY_RSA);
}

static void *ecdsa_signature_newctx(void *provctx, const char *propq)
{
    (void)propq;
    return signature_newctx(provctx, PICO_KEY_EC);
}

static void signature_freectx(void *vctx)
{
    sig_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    pico_rsa_params_clear(&ctx->rsa);
    EVP_MD_CTX_free(ctx->mdctx);
    EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *signature_dupctx(void *vctx)
{
    sig_ctx *src = vctx, *ctx = OPENSSL_memdup(src, sizeof(*src));

    if (ctx == NULL)
        return NULL;
    ctx->mdctx = NULL;
    ctx->shadow = NULL;
    if (!pico_rsa_params_own(&ctx->rsa)) {
        signature_freectx(ctx);
        return NULL;
    }
    if ((src->mdctx != NULL && ((ctx->mdctx = EVP_MD_CTX_new()) == NULL ||
                                !EVP_MD_CTX_copy_ex(ctx->mdctx, src->mdctx))) ||
        (src->shadow != NULL && (ctx->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL)) {
        signature_freectx(ctx);
        return NULL;
    }
    return ctx;
}

/* Hands the current digest and padding settings to the shadow context. */
static int shadow_sync(sig_ctx *ctx)
{
    OSSL_PARAM params[PICO_RSA_SHADOW_PARAMS];

    pico_rsa_params_shadow(&ctx->rsa, params);
    return EVP_PKEY_CTX_set_params(ctx->shadow, params) == 1;
}

/*
 * The software context over the key's public half, made on first need (it costs a
 * read of the public key when the process does not know it yet), and handed the
 * current settings at every use: the digest of a digest-verify, the padding and salt
 * set after init all reach it, whatever order the application set them in. For a soft
 * key it is over the whole software key, and signs too.
 */
static int shadow_get(sig_ctx *ctx)
{
    EVP_PKEY *pub;

    if (ctx->shadow == NULL) {
        if ((pub = pico_pkey_public(ctx->key)) == NULL)
            return 0;
        if ((ctx->shadow =
                 EVP_PKEY_CTX_new_from_pkey(pico_prov_sw(ctx->prov), pub, PICO_SW_PROPQ)) == NULL ||
            (ctx->verify ? EVP_PKEY_verify_init(ctx->shadow) : EVP_PKEY_sign_init(ctx->shadow)) !=
                1) {
            EVP_PKEY_CTX_free(ctx->shadow);
            ctx->shadow = NULL;
            return 0;
        }
    }
    return shadow_sync(ctx);
}

static int signature_init(sig_ctx *ctx, void *vkey, int verify, const OSSL_PARAM params[])
{
    pico_pkey *key = vkey;
    pico_pss_limits pss;

    if (key != NULL) {
        if (key->type != ctx->type) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "key type does not match the signature");
            return 0;
        }
        if (!verify && key->hsm == NULL && !key->soft) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS,
                            "not a key on the device: nothing to sign with");
            return 0;
        }
        ctx->key = key;
    }
    if (ctx->key == NULL)
        return 0;
    /* Each operation starts from the key's defaults, as the default provider's does: a
     * restricted RSA-PSS key's digest, MGF1 digest and minimum salt */
    memset(&pss, 0, sizeof(pss));
    if (ctx->key->rsa_pss && ctx->key->hsm != NULL &&
        !pico_rsa_pss_limits(ctx->prov, ctx->key->hsm, &pss))
        return 0;
    if (!pico_rsa_params_start(&ctx->rsa, ctx->key->rsa_pss, &pss))
        return 0;
    ctx->verify = verify;
    EVP_PKEY_CTX_free(ctx->shadow);
    ctx->shadow = NULL;
    if (!signature_set_ctx_params(ctx, params))
        return 0;
    return (!verify && !ctx->key->soft) || shadow_get(ctx);
}

static int signature_sign_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return signature_init(vctx, vkey, 0, params);
}

static int signature_verify_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return signature_init(vctx, vkey, 1, params);
}

static int modulus_bytes(sig_ctx *ctx)
{
    return (ctx->key->hsm->bits + 7) / 8;
}

static int rsa_sign(sig_ctx *ctx, uint8_t *sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
    size_t k = (size_t)modulus_bytes(ctx);
    unsigned bits = ctx->key->hsm->bits;
    uint8_t em[512];
    pico_mech mech = PICO_MECH_RSA_RAW;
    const uint8_t *in = em;
    size_t inlen = k;
    int slen, ok = 0;

    if (k > sizeof(em))
        return 0;
    switch (ctx->rsa.pad) {
    case RSA_NO_PADDING:
        if (tbslen != k) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "raw rsa needs %zu bytes, got %zu", k, tbslen);
            return 0;
        }
        in = tbs;
        break;
    case RSA_PKCS1_PADDING:
        if (!pico_rsa_pad_pkcs1(&ctx->rsa, tbs, tbslen, em, k))
            return 0;
        break;
    case RSA_PKCS1_PSS_PADDING:
        if (!pico_rsa_pss_saltlen(&ctx->rsa, bits, tbslen, &slen))
            return 0;
        if ((size_t)slen == tbslen &&
            (ctx->rsa.mgf1 == NULL || EVP_MD_is_a(ctx->rsa.mgf1, EVP_MD_get0_name(ctx->rsa.md)))) {
            /* what the device does itself (7.1): one APDU with the hash */
            mech = PICO_MECH_RSA_PSS;
            in = tbs;
            inlen = tbslen;
        } else if (!pico_rsa_pad_pss(&ctx->rsa, tbs, tbslen, slen, bits, em, k)) {
            return 0;
        }
        break;
    default:
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "rsa padding mode %d", ctx->rsa.pad);
        return 0;
    }
    ok = pico_pkey_op(ctx->key, mech, in, inlen, sig, siglen) == PICO_OK;
    OPENSSL_cleanse(em, sizeof(em));
    return ok;
}

static int signature_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                          const unsigned char *tbs, size_t tbslen)
{
    sig_ctx *ctx = vctx;
    int max = 0;
    OSSL_PARAM maxp[] = {OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, &max), OSSL_PARAM_END};

    if (ctx->key != NULL && ctx->key->soft) /* a software key: software signs */
        return shadow_get(ctx) && EVP_PKEY_sign(ctx->shadow, sig, siglen, tbs, tbslen) == 1;
    if (ctx->key == NULL || ctx->key->hsm == NULL)
        return 0;
    /* the key type's largest signature (keytypes.c): the modulus, the DER of r and s */
    if (!pico_keymgmt_get_params(ctx->key, maxp))
        return 0;
    if (sig == NULL) {
        *siglen = (size_t)max;
        return 1;
    }
    if (sigsize < (size_t)max) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "signature buffer of %zu bytes, %d needed", sigsize,
                        max);
        return 0;
    }
    if (pico_pkey_login(ctx->key) != PICO_OK)
        return 0;
    *siglen = sigsize;
    if (ctx->type == PICO_KEY_RSA)
        return rsa_sign(ctx, sig, siglen, tbs, tbslen);
    /* 7.1: the device truncates the hash to the order and answers DER */
    return pico_pkey_op(ctx->key, PICO_MECH_ECDSA, tbs, tbslen, sig, siglen) == PICO_OK;
}

static int signature_verify(void *vctx, const unsigned char *sig, size_t siglen,
                            const unsigned char *tbs, size_t tbslen)
{
    sig_ctx *ctx = vctx;

    if (!shadow_get(ctx))
        return 0;
    return EVP_PKEY_verify(ctx->shadow, sig, siglen, tbs, tbslen);
}

static int digest_init(sig_ctx *ctx, const char *mdname, void *vkey, int verify,
                       const OSSL_PARAM params[])
{
    if (!signature_init(ctx, vkey, verify, NULL))
        return 0;
    if (mdname == NULL || *mdname == '\0')
        mdname = ctx->rsa.pss.restricted ? ctx->rsa.pss.md : "SHA256";
    if (!pico_rsa_params_set_md(&ctx->rsa, mdname, NULL) || !signature_set_ctx_params(ctx, params))
        return 0;
    if (ctx->mdctx == NULL && (ctx->mdctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    return EVP_DigestInit_ex2(ctx->mdctx, ctx->rsa.md, NULL) == 1;
}

static int signature_digest_sign_init(void *vctx, const char *mdname, void *vkey,
                                      const OSSL_PARAM params[])
{
    return digest_init(vctx, mdname, vkey, 0, params);
}

static int signature_digest_verify_init(void *vctx, const char *mdname, void *vkey,
                                        const OSSL_PARAM params[])
{
    return digest_init(vctx, mdname, vkey, 1, params);
}

static int signature_digest_update(void *vctx, const unsigned char *data, size_t datalen)
{
    sig_ctx *ctx = vctx;

    return ctx->mdctx != NULL && EVP_DigestUpdate(ctx->mdctx, data, datalen) == 1;
}

static int signature_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
                                       size_t sigsize)
{
    sig_ctx *ctx = vctx;
    uint8_t hash[EVP_MAX_MD_SIZE];
    unsigned hlen = 0;

    if (sig == NULL) /* size query: the digest stays open */
        return signature_sign(ctx, NULL, siglen, 0, NULL, 0);
    if (ctx->mdctx == NULL || EVP_DigestFinal_ex(ctx->mdctx, hash, &hlen) != 1)
        return 0;
    return signature_sign(ctx, sig, siglen, sigsize, hash, hlen);
}

static int signature_digest_verify_final(void *vctx, const unsigned char *sig, size_t siglen)
{
    sig_ctx *ctx = vctx;
    uint8_t hash[EVP_MAX_MD_SIZE];
    unsigned hlen = 0;

    if (ctx->mdctx == NULL || EVP_DigestFinal_ex(ctx->mdctx, hash, &hlen) != 1)
        return 0;
    return signature_verify(ctx, sig, siglen, hash, hlen);
}

static int signature_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    sig_ctx *ctx = vctx;
    OSSL_PARAM *p;

    if (!pico_rsa_params_get(&ctx->rsa, params))
        return 0;
    /* The AlgorithmIdentifier (X.509, CMS): the software provider knows how to write it,
     * PSS parameters included */
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL) {
        OSSL_PARAM q[] = {OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
                          OSSL_PARAM_END};
        unsigned char *aid = NULL;
        int ok;
        if (!shadow_get(ctx) || EVP_PKEY_CTX_get_params(ctx->shadow, q) != 1 ||
            !OSSL_PARAM_modified(q) || (aid = OPENSSL_malloc(q[0].return_size)) == NULL)
            return 0;
        q[0].data = aid;
        q[0].data_size = q[0].return_size;
        ok = EVP_PKEY_CTX_get_params(ctx->shadow, q) == 1 &&
             OSSL_PARAM_set_octet_string(p, aid, q[0].return_size);
        OPENSSL_free(aid);
        if (!ok)
            return 0;
    }
    return 1;
}

static int signature_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    sig_ctx *ctx = vctx;

    if (!pico_rsa_params_set(&ctx->rsa, params))
        return 0;
    return ctx->shadow == NULL || shadow_sync(ctx);
}

static const OSSL_PARAM *rsa_signature_settable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_settable(PICO_RSA_SIG);
}

static const OSSL_PARAM *ecdsa_signature_settable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_settable(PICO_RSA_DIGEST);
}

static const OSSL_PARAM *rsa_signature_gettable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_gettable(PICO_RSA_SIG);
}

static const OSSL_PARAM *ecdsa_signature_gettable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_gettable(PICO_RSA_DIGEST);
}

#define SIGNATURE_COMMON                                                                           \
    {OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))signature_freectx},                              \
        {OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))signature_dupctx},                            \
        {OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))signature_sign_init},                      \
        {OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))signature_sign},                                \
        {OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))signature_verify_init},                  \
        {OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))signature_verify},                            \
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))signature_digest_sign_init},        \
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))signature_digest_update},         \
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))signature_digest_sign_final},      \
        {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))signature_digest_verify_init},    \
        {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))signature_digest_update},       \
        {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))signature_digest_verify_final},  \
        {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))signature_get_ctx_params},            \
    {                                                                                              \
        OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))signature_set_ctx_params               \
    }

const OSSL_DISPATCH pico_rsa_signature_functions[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))rsa_signature_newctx},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_signature_gettable_ctx_params},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_signature_settable_ctx_params},
    SIGNATURE_COMMON,
    {0, NULL},
};

const OSSL_DISPATCH pico_ecdsa_signature_functions[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))ecdsa_signature_newctx},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))ecdsa_signature_gettable_ctx_params},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))ecdsa_signature_settable_ctx_params},
    SIGNATURE_COMMON,
    {0, NULL},
};
