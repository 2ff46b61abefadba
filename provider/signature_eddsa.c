/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 and Ed448 signatures (RFC 8032 PureEdDSA) with the key on the
 * device: one PICO_MECH_EDDSA operation over the whole message, answered
 * with R || S. As OpenSSL 3.0's eddsa_sig.c: one-shot EVP_DigestSign and
 * EVP_DigestVerify only (no digest, no update/final), no context parameters
 * (3.0 has no "instance": Ed25519ph/ctx are not offered), the signature's
 * AlgorithmIdentifier (RFC 8410 3: the key's OID, parameters absent) as a
 * gettable parameter. Verification, and every operation of a soft key, run
 * in the software provider over the key's public half (a "shadow").
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_signature_newctx_fn eddsa_newctx;
static OSSL_FUNC_signature_freectx_fn eddsa_freectx;
static OSSL_FUNC_signature_dupctx_fn eddsa_dupctx;
static OSSL_FUNC_signature_digest_sign_init_fn eddsa_digest_sign_init;
static OSSL_FUNC_signature_digest_sign_fn eddsa_digest_sign;
static OSSL_FUNC_signature_digest_verify_init_fn eddsa_digest_verify_init;
static OSSL_FUNC_signature_digest_verify_fn eddsa_digest_verify;
static OSSL_FUNC_signature_get_ctx_params_fn eddsa_get_ctx_params;
static OSSL_FUNC_signature_gettable_ctx_params_fn eddsa_gettable_ctx_params;

typedef struct eddsa_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key;     /* not owned */
    int verify;         /* a verification: goes to the shadow */
    EVP_MD_CTX *shadow; /* software one-shot over the public half (or the soft key) */
    uint8_t aid[16];    /* the AlgorithmIdentifier, DER */
    size_t aid_len;
} eddsa_ctx;

static void *eddsa_newctx(void *provctx, const char *propq)
{
    eddsa_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    (void)propq;
    if (ctx != NULL)
        ctx->prov = provctx;
    return ctx;
}

static void eddsa_freectx(void *vctx)
{
    eddsa_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *eddsa_dupctx(void *vctx)
{
    const eddsa_ctx *src = vctx;
    eddsa_ctx *dst = OPENSSL_memdup(src, sizeof(*src));

    if (dst == NULL)
        return NULL;
    dst->shadow = NULL;
    if (src->shadow != NULL && ((dst->shadow = EVP_MD_CTX_new()) == NULL ||
                                !EVP_MD_CTX_copy_ex(dst->shadow, src->shadow))) {
        eddsa_freectx(dst);
        return NULL;
    }
    return dst;
}

/* SEQUENCE { OBJECT IDENTIFIER id-Ed25519 or id-Ed448 } (RFC 8410 3: no parameters). */
static int eddsa_aid(eddsa_ctx *ctx, const char *name)
{
    X509_ALGOR *alg = X509_ALGOR_new();
    unsigned char *der = NULL;
    int nid = OBJ_sn2nid(name), len = -1;

    if (alg != NULL && nid != NID_undef &&
        X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL))
        len = i2d_X509_ALGOR(alg, &der);
    if (len > 0 && (size_t)len <= sizeof(ctx->aid)) {
        memcpy(ctx->aid, der, (size_t)len);
        ctx->aid_len = (size_t)len;
    }
    OPENSSL_free(der);
    X509_ALGOR_free(alg);
    return len > 0;
}

/* The software one-shot context: the public half to verify, the whole soft key to sign. */
static int shadow_make(eddsa_ctx *ctx)
{
    EVP_PKEY *pub;

    if ((pub = pico_pkey_public(ctx->key)) == NULL || (ctx->shadow = EVP_MD_CTX_new()) == NULL)
        return 0;
    return (ctx->verify ? EVP_DigestVerifyInit_ex(ctx->shadow, NULL, NULL, pico_prov_sw(ctx->prov),
                                                  PICO_SW_PROPQ, pub, NULL)
                        : EVP_DigestSignInit_ex(ctx->shadow, NULL, NULL, pico_prov_sw(ctx->prov),
                                                PICO_SW_PROPQ, pub, NULL)) == 1;
}

static int eddsa_init(eddsa_ctx *ctx, const char *mdname, pico_pkey *key, int verify)
{
    const pico_prov_keytype *kt = key != NULL ? pico_pkey_keytype(key) : NULL;

    /* as eddsa_sig.c: PureEdDSA hashes inside, a digest is an error */
    if (mdname != NULL && mdname[0] != '\0') {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "digest %s: eddsa signs the message itself",
                        mdname);
        return 0;
    }
    if (key == NULL)
        return ctx->key != NULL; /* a re-init keeps the key */
    if (kt == NULL || kt->signature != pico_eddsa_signature_functions) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "key type does not match the signature");
        return 0;
    }
    if (!verify && key->hsm == NULL && !key->soft) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "not a key on the device: nothing to sign with");
        return 0;
    }
    ctx->key = key;
    ctx->verify = verify;
    EVP_MD_CTX_free(ctx->shadow);
    ctx->shadow = NULL;
    ctx->aid_len = 0;
    eddsa_aid(ctx, kt->name);
    return (!verify && !key->soft) || shadow_make(ctx);
}

static int eddsa_digest_sign_init(void *vctx, const char *mdname, void *vkey,
                                  const OSSL_PARAM params[])
{
    (void)params;
    return eddsa_init(vctx, mdname, vkey, 0);
}

static int eddsa_digest_verify_init(void *vctx, const char *mdname, void *vkey,
                                    const OSSL_PARAM params[])
{
    (void)params;
    return eddsa_init(vctx, mdname, vkey, 1);
}

static int eddsa_digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                             const unsigned char *tbs, size_t tbslen)
{
    eddsa_ctx *ctx = vctx;
    const pico_key_type_info *info;
    size_t max;

    if (ctx->key == NULL || ctx->verify)
        return 0;
    if (ctx->key->soft) {
        *siglen = sigsize;
        return EVP_DigestSign(ctx->shadow, sig, siglen, tbs, tbslen) == 1;
    }
    info = pico_key_type_info_of(ctx->key->type);
    max = 2 * info->raw_len;
    if (sig == NULL) {
        *siglen = max;
        return 1;
    }
    if (sigsize < max) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "signature buffer of %zu bytes, %zu needed",
                        sigsize, max);
        return 0;
    }
    if (pico_pkey_login(ctx->key) != PICO_OK)
        return 0;
    *siglen = sigsize;
    if (pico_pkey_op(ctx->key, PICO_MECH_EDDSA, tbs, tbslen, sig, siglen) != PICO_OK)
        return 0;
    if (*siglen != max) {
        pico_prov_raise(ctx->prov, PICO_E_BAD_RESPONSE, "%s signature of %zu bytes, %zu expected",
                        info->name, *siglen, max);
        return 0;
    }
    return 1;
}

static int eddsa_digest_verify(void *vctx, const unsigned char *sig, size_t siglen,
                               const unsigned char *tbs, size_t tbslen)
{
    eddsa_ctx *ctx = vctx;

    if (ctx->shadow == NULL || !ctx->verify)
        return 0;
    return EVP_DigestVerify(ctx->shadow, sig, siglen, tbs, tbslen);
}

static int eddsa_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    eddsa_ctx *ctx = vctx;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL &&
        !OSSL_PARAM_set_octet_string(p, ctx->aid_len > 0 ? ctx->aid : NULL, ctx->aid_len))
        return 0;
    return 1;
}

static const OSSL_PARAM *eddsa_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return gettable;
}

const OSSL_DISPATCH pico_eddsa_signature_functions[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))eddsa_newctx},
    {OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))eddsa_freectx},
    {OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))eddsa_dupctx},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))eddsa_digest_sign_init},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))eddsa_digest_sign},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))eddsa_digest_verify_init},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))eddsa_digest_verify},
    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))eddsa_get_ctx_params},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))eddsa_gettable_ctx_params},
    {0, NULL},
};
