/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA (PKCS#1 v1.5, PSS, raw) and ECDSA signatures with the key on the device.
 * Hashing runs on the host; the device signs in one APDU, with the mechanism
 * this file names (device.h; the device layer picks SIGN's algorithm, 7.1):
 *   ECDSA          PICO_MECH_ECDSA with the hash, DER answer passed through;
 *   RSA PKCS#1 1.5 PICO_MECH_RSA_RAW with the full EMSA-PKCS1-v1_5 block built
 *                  here (the firmware's DigestInfo input is broken, field-notes.md);
 *   RSA-PSS        PICO_MECH_RSA_PSS with the hash when the salt is the hash length
 *                  and MGF1 uses the message hash (what TLS uses), else
 *                  PICO_MECH_RSA_RAW with an EMSA-PSS block encoded here;
 *   RSA raw        PICO_MECH_RSA_RAW with the caller's modulus-length block.
 * Verification, and the AlgorithmIdentifier that certificates need, go to the
 * software provider with the key's public half (a "shadow" context).
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

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

/* PSS salt lengths as OpenSSL names them */
#define SALT_DIGEST RSA_PSS_SALTLEN_DIGEST /* -1 */
#define SALT_AUTO RSA_PSS_SALTLEN_AUTO     /* -2: verify detects; sign uses max */
#define SALT_MAX RSA_PSS_SALTLEN_MAX       /* -3 */

typedef struct sig_ctx {
    pico_prov_ctx *prov;
    pico_key_type type;
    pico_pkey *key;    /* the application's key object: not owned */
    int verify;        /* verify operation (goes to the shadow) */
    EVP_MD *md;        /* message digest, NULL until set */
    EVP_MD_CTX *mdctx; /* digest-sign/verify: hashing on the host */
    int pad;           /* RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING, RSA_NO_PADDING */
    int saltlen;
    int saltlen_set;      /* by the application (else the shadow keeps its own default) */
    EVP_MD *mgf1;         /* NULL: same as md */
    pico_pss_limits pss;  /* an RSA-PSS device key's restrictions */
    EVP_PKEY_CTX *shadow; /* software context over the public half */
} sig_ctx;

static void *signature_newctx(void *provctx, pico_key_type type)
{
    sig_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->prov = provctx;
    ctx->type = type;
    ctx->pad = RSA_PKCS1_PADDING;
    ctx->saltlen = SALT_AUTO;
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
    EVP_MD_free(ctx->md);
    EVP_MD_free(ctx->mgf1);
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
    if ((ctx->md != NULL && !EVP_MD_up_ref(ctx->md)) ||
        (ctx->mgf1 != NULL && !EVP_MD_up_ref(ctx->mgf1))) {
        OPENSSL_free(ctx);
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
    OSSL_PARAM params[5], *p = params;
    int pad = ctx->pad, salt = ctx->saltlen;

    if (ctx->md != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST,
                                                (char *)EVP_MD_get0_name(ctx->md), 0);
    if (ctx->type == PICO_KEY_RSA) {
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pad);
        if (pad == RSA_PKCS1_PSS_PADDING) {
            /* the default salt length is the shadow's own: "auto" for a verification,
             * the minimum of a restricted RSA-PSS key (where "auto" is refused) */
            if (ctx->saltlen_set || ctx->pss.restricted)
                *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt);
            if (ctx->mgf1 != NULL)
                *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                                        (char *)EVP_MD_get0_name(ctx->mgf1), 0);
        }
    }
    *p = OSSL_PARAM_construct_end();
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

/* A restricted RSA-PSS key signs with its own digest and MGF1 digest only (RFC 4055 3.1,
 * as OpenSSL's RSA-PSS keys do). */
static int set_md(sig_ctx *ctx, const char *name, const char *props)
{
    EVP_MD *md = EVP_MD_fetch(pico_prov_sw(ctx->prov), name, props != NULL ? props : PICO_SW_PROPQ);

    if (md == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "digest %s", name);
        return 0;
    }
    if (ctx->pss.restricted && !EVP_MD_is_a(md, ctx->pss.md)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "digest %s: this rsa-pss key signs with %s only",
                        name, ctx->pss.md);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(ctx->md);
    ctx->md = md;
    return 1;
}

static int set_mgf1(sig_ctx *ctx, const char *name, const char *props)
{
    EVP_MD *md = EVP_MD_fetch(pico_prov_sw(ctx->prov), name, props != NULL ? props : PICO_SW_PROPQ);

    if (md == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "mgf1 digest %s", name);
        return 0;
    }
    if (ctx->pss.restricted && !EVP_MD_is_a(md, ctx->pss.mgf1)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS,
                        "mgf1 digest %s: this rsa-pss key uses mgf1 with %s only", name,
                        ctx->pss.mgf1);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(ctx->mgf1);
    ctx->mgf1 = md;
    return 1;
}

/* A restricted RSA-PSS key's salt is at least its minimum (RFC 4055 3.1 saltLength). */
static int check_saltlen(sig_ctx *ctx, int saltlen)
{
    int hlen = ctx->md != NULL ? EVP_MD_get_size(ctx->md) : 0;

    if (!ctx->pss.restricted)
        return 1;
    if ((saltlen == SALT_DIGEST && hlen < ctx->pss.min_saltlen) ||
        (saltlen >= 0 && saltlen < ctx->pss.min_saltlen)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS,
                        "pss salt of %d bytes: this rsa-pss key needs at least %d",
                        saltlen == SALT_DIGEST ? hlen : saltlen, ctx->pss.min_saltlen);
        return 0;
    }
    return 1;
}

static int signature_init(sig_ctx *ctx, void *vkey, int verify, const OSSL_PARAM params[])
{
    pico_pkey *key = vkey;

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
    ctx->pad = ctx->key->rsa_pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
    ctx->saltlen = SALT_AUTO;
    ctx->saltlen_set = 0;
    EVP_MD_free(ctx->mgf1);
    ctx->mgf1 = NULL;
    memset(&ctx->pss, 0, sizeof(ctx->pss));
    if (ctx->key->rsa_pss && ctx->key->hsm != NULL) {
        if (!pico_rsa_pss_limits(ctx->prov, ctx->key->hsm, &ctx->pss))
            return 0;
        if (ctx->pss.restricted) {
            if (!set_md(ctx, ctx->pss.md, NULL) || !set_mgf1(ctx, ctx->pss.mgf1, NULL))
                return 0;
            ctx->saltlen = ctx->pss.min_saltlen;
        }
    }
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

/* EMSA-PKCS1-v1_5 (RFC 8017 9.2): 00 01 FF.. 00 T, T the DigestInfo (or the caller's
 * data when no digest is set, as OpenSSL's raw PKCS#1 signing does). */
static int encode_pkcs1(sig_ctx *ctx, const uint8_t *tbs, size_t tbslen, uint8_t *em, size_t k)
{
    uint8_t *t = NULL;
    int tlen = -1, ok = 0;

    if (ctx->md != NULL) {
        X509_SIG *di = X509_SIG_new();
        X509_ALGOR *alg;
        ASN1_OCTET_STRING *dig;
        if (di == NULL)
            return 0;
        X509_SIG_getm(di, &alg, &dig);
        if ((size_t)EVP_MD_get_size(ctx->md) != tbslen) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "%zu bytes to sign, %s makes %d", tbslen,
                            EVP_MD_get0_name(ctx->md), EVP_MD_get_size(ctx->md));
            X509_SIG_free(di);
            return 0;
        }
        if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(ctx->md)), V_ASN1_NULL, NULL) &&
            ASN1_OCTET_STRING_set(dig, tbs, (int)tbslen))
            tlen = i2d_X509_SIG(di, &t);
        X509_SIG_free(di);
        if (tlen <= 0)
            return 0;
    }
    if (t == NULL) {
        t = OPENSSL_memdup(tbs, tbslen);
        tlen = (int)tbslen;
        if (t == NULL)
            return 0;
    }
    if ((size_t)tlen + 11 > k) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "data too long for the key size");
        goto end;
    }
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xFF, k - (size_t)tlen - 3);
    em[k - (size_t)tlen - 1] = 0x00;
    memcpy(em + k - (size_t)tlen, t, (size_t)tlen);
    ok = 1;
end:
    OPENSSL_free(t);
    return ok;
}

static int mgf1_xor(sig_ctx *ctx, const EVP_MD *md, uint8_t *out, size_t len, const uint8_t *seed,
                    size_t seedlen)
{
    uint8_t block[EVP_MAX_MD_SIZE], cnt[4];
    unsigned hl, i;
    uint32_t c;
    size_t done = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = 0;

    (void)ctx;
    for (c = 0; m != NULL && done < len; c++) {
        cnt[0] = (uint8_t)(c >> 24), cnt[1] = (uint8_t)(c >> 16), cnt[2] = (uint8_t)(c >> 8),
        cnt[3] = (uint8_t)c;
        if (!EVP_DigestInit_ex(m, md, NULL) || !EVP_DigestUpdate(m, seed, seedlen) ||
            !EVP_DigestUpdate(m, cnt, 4) || !EVP_DigestFinal_ex(m, block, &hl))
            goto end;
        for (i = 0; i < hl && done < len; i++)
            out[done++] ^= block[i];
    }
    ok = m != NULL;
end:
    EVP_MD_CTX_free(m);
    return ok;
}

/* EMSA-PSS-ENCODE (RFC 8017 9.1.1) into a k-byte block for the raw RSA operation. */
static int encode_pss(sig_ctx *ctx, const uint8_t *mhash, size_t hlen, int slen, uint8_t *em,
                      size_t k)
{
    static const uint8_t zeros[8] = {0};
    const EVP_MD *mgf1 = ctx->mgf1 != NULL ? ctx->mgf1 : ctx->md;
    size_t embits = (size_t)ctx->key->hsm->bits - 1, emlen = (embits + 7) / 8;
    uint8_t *e = em + (k - emlen), *db, salt[512];
    EVP_MD_CTX *m = NULL;
    size_t dblen = emlen - hlen - 1;
    unsigned hl;
    int ok = 0;

    if (slen < 0 || emlen < hlen + (size_t)slen + 2 || (size_t)slen > sizeof(salt)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "pss salt length %d too long for the key", slen);
        return 0;
    }
    memset(em, 0, k);
    if (slen > 0 && RAND_bytes_ex(pico_prov_sw(ctx->prov), salt, (size_t)slen, 0) != 1)
        return 0;
    db = e;
    /* H = Hash(00*8 || mHash || salt), placed after DB */
    if ((m = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(m, ctx->md, NULL) ||
        !EVP_DigestUpdate(m, zeros, 8) || !EVP_DigestUpdate(m, mhash, hlen) ||
        !EVP_DigestUpdate(m, salt, (size_t)slen) || !EVP_DigestFinal_ex(m, e + dblen, &hl))
        goto end;
    /* DB = PS || 01 || salt, masked with MGF1(H) */
    db[dblen - (size_t)slen - 1] = 0x01;
    memcpy(db + dblen - (size_t)slen, salt, (size_t)slen);
    if (!mgf1_xor(ctx, mgf1, db, dblen, e + dblen, hlen))
        goto end;
    db[0] &= (uint8_t)(0xFF >> (8 * emlen - embits));
    e[emlen - 1] = 0xBC;
    ok = 1;
end:
    OPENSSL_cleanse(salt, sizeof(salt));
    EVP_MD_CTX_free(m);
    return ok;
}

static int rsa_sign(sig_ctx *ctx, uint8_t *sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
    size_t k = (size_t)modulus_bytes(ctx), hlen;
    uint8_t em[512];
    pico_mech mech = PICO_MECH_RSA_RAW;
    const uint8_t *in = em;
    size_t inlen = k;
    int slen;

    if (k > sizeof(em))
        return 0;
    switch (ctx->pad) {
    case RSA_NO_PADDING:
        if (tbslen != k) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "raw rsa needs %zu bytes, got %zu", k, tbslen);
            return 0;
        }
        in = tbs;
        break;
    case RSA_PKCS1_PADDING:
        if (!encode_pkcs1(ctx, tbs, tbslen, em, k))
            return 0;
        break;
    case RSA_PKCS1_PSS_PADDING:
        if (ctx->md == NULL && !set_md(ctx, "SHA256", NULL))
            return 0;
        hlen = (size_t)EVP_MD_get_size(ctx->md);
        if (tbslen != hlen) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "%zu bytes to sign, %s makes %zu", tbslen,
                            EVP_MD_get0_name(ctx->md), hlen);
            return 0;
        }
        slen = ctx->saltlen == SALT_DIGEST ? (int)hlen
               : ctx->saltlen == SALT_AUTO || ctx->saltlen == SALT_MAX
                   ? (int)((ctx->key->hsm->bits - 1 + 7) / 8 - hlen - 2)
                   : ctx->saltlen;
        if (!check_saltlen(ctx, slen))
            return 0;
        if ((size_t)slen == hlen &&
            (ctx->mgf1 == NULL || EVP_MD_is_a(ctx->mgf1, EVP_MD_get0_name(ctx->md)))) {
            /* what the device does itself (7.1): one APDU with the hash */
            mech = PICO_MECH_RSA_PSS;
            in = tbs;
            inlen = tbslen;
        } else if (!encode_pss(ctx, tbs, hlen, slen, em, k)) {
            return 0;
        }
        break;
    default:
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "rsa padding mode %d", ctx->pad);
        return 0;
    }
    if (pico_pkey_op(ctx->key, mech, in, inlen, sig, siglen) != PICO_OK)
        return 0;
    OPENSSL_cleanse(em, sizeof(em));
    return 1;
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
        mdname = ctx->pss.restricted ? ctx->pss.md : "SHA256";
    if (!set_md(ctx, mdname, NULL) || !signature_set_ctx_params(ctx, params))
        return 0;
    if (ctx->mdctx == NULL && (ctx->mdctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    return EVP_DigestInit_ex2(ctx->mdctx, ctx->md, NULL) == 1;
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

    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ctx->md != NULL ? EVP_MD_get0_name(ctx->md) : ""))
        return 0;
    if (ctx->type == PICO_KEY_RSA) {
        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
            !(p->data_type == OSSL_PARAM_INTEGER
                  ? OSSL_PARAM_set_int(p, ctx->pad)
                  : OSSL_PARAM_set_utf8_string(p, ctx->pad == RSA_PKCS1_PSS_PADDING ? "pss"
                                                  : ctx->pad == RSA_NO_PADDING      ? "none"
                                                                                    : "pkcs1")))
            return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
            p->data_type == OSSL_PARAM_INTEGER && !OSSL_PARAM_set_int(p, ctx->saltlen))
            return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL &&
            !OSSL_PARAM_set_utf8_string(p, ctx->mgf1 != NULL ? EVP_MD_get0_name(ctx->mgf1)
                                           : ctx->md != NULL ? EVP_MD_get0_name(ctx->md)
                                                             : ""))
            return 0;
    }
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

static int set_saltlen(sig_ctx *ctx, const OSSL_PARAM *p)
{
    const char *s;
    int saltlen;

    if (p->data_type == OSSL_PARAM_INTEGER) {
        if (!OSSL_PARAM_get_int(p, &saltlen))
            return 0;
    } else if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
        return 0;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0) {
        saltlen = SALT_DIGEST;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0) {
        saltlen = SALT_MAX;
    } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0) {
        saltlen = SALT_AUTO;
    } else {
        saltlen = atoi(s);
    }
    if (!check_saltlen(ctx, saltlen))
        return 0;
    ctx->saltlen = saltlen;
    ctx->saltlen_set = 1;
    return 1;
}

static int signature_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    sig_ctx *ctx = vctx;
    const OSSL_PARAM *p;
    const char *s, *props = NULL;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PROPERTIES)) != NULL &&
        !OSSL_PARAM_get_utf8_string_ptr(p, &props))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !set_md(ctx, s, props)))
        return 0;
    if (ctx->type == PICO_KEY_RSA) {
        if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
            int pad = -1;
            if (p->data_type == OSSL_PARAM_INTEGER) {
                OSSL_PARAM_get_int(p, &pad);
            } else if (OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
                pad = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING
                      : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0   ? RSA_PKCS1_PSS_PADDING
                      : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_NONE) == 0  ? RSA_NO_PADDING
                                                                     : -1;
            }
            if (pad != RSA_PKCS1_PADDING && pad != RSA_PKCS1_PSS_PADDING && pad != RSA_NO_PADDING) {
                pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "rsa padding mode");
                return 0;
            }
            if (ctx->key != NULL && ctx->key->rsa_pss && pad != RSA_PKCS1_PSS_PADDING) {
                pico_prov_raise(ctx->prov, PICO_E_ARGS, "an rsa-pss key signs with pss only");
                return 0;
            }
            ctx->pad = pad;
        }
        if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
            !set_saltlen(ctx, p))
            return 0;
        if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL &&
            (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !set_mgf1(ctx, s, NULL)))
            return 0;
    }
    return ctx->shadow == NULL || shadow_sync(ctx);
}

static const OSSL_PARAM *rsa_signature_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return settable;
}

static const OSSL_PARAM *ecdsa_signature_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return settable;
}

static const OSSL_PARAM *rsa_signature_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return gettable;
}

static const OSSL_PARAM *ecdsa_signature_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return gettable;
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
