/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA decryption with the key on the device, encryption with its public half.
 * Every decryption is one DECIPHER APDU with alg 21 (raw RSA, 7.2); the
 * padding is removed on the host (rsa_params.c), in constant time, as OpenSC
 * does:
 *   - the device's own OAEP (alg 23) knows only SHA-256 without a label, and
 *     its PKCS#1 v1.5 (alg 22) answers a bad block with a status word, a
 *     padding oracle on the wire;
 *   - the TLS variant (RSA key exchange) answers a random premaster secret
 *     for a bad block, as libssl expects.
 * Implicit rejection (OpenSSL 3.2's synthetic plaintext for a bad PKCS#1 v1.5
 * block) derives its secret from the private exponent, which never leaves
 * the device: it is not offered; a bad block is an error, as in OpenSSL 3.0
 * and 3.1, and the error does not depend on where the block went wrong.
 */
#include <openssl/bn.h>
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

static OSSL_FUNC_asym_cipher_newctx_fn rsa_cipher_newctx;
static OSSL_FUNC_asym_cipher_freectx_fn rsa_cipher_freectx;
static OSSL_FUNC_asym_cipher_dupctx_fn rsa_cipher_dupctx;
static OSSL_FUNC_asym_cipher_encrypt_init_fn rsa_cipher_encrypt_init;
static OSSL_FUNC_asym_cipher_encrypt_fn rsa_cipher_encrypt;
static OSSL_FUNC_asym_cipher_decrypt_init_fn rsa_cipher_decrypt_init;
static OSSL_FUNC_asym_cipher_decrypt_fn rsa_cipher_decrypt;
static OSSL_FUNC_asym_cipher_get_ctx_params_fn rsa_cipher_get_ctx_params;
static OSSL_FUNC_asym_cipher_gettable_ctx_params_fn rsa_cipher_gettable_ctx_params;
static OSSL_FUNC_asym_cipher_set_ctx_params_fn rsa_cipher_set_ctx_params;
static OSSL_FUNC_asym_cipher_settable_ctx_params_fn rsa_cipher_settable_ctx_params;

#define MAX_RSA_BYTES 512

typedef struct cipher_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key;       /* not owned */
    pico_rsa_params rsa;  /* padding, OAEP digests and label, TLS versions (rsa_params.h) */
    EVP_PKEY_CTX *shadow; /* encryption: software context over the public half */
} cipher_ctx;

static void *rsa_cipher_newctx(void *provctx)
{
    cipher_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->prov = provctx;
    pico_rsa_params_init(&ctx->rsa, provctx, PICO_RSA_CIPHER);
    return ctx;
}

static void rsa_cipher_freectx(void *vctx)
{
    cipher_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    pico_rsa_params_clear(&ctx->rsa);
    EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *rsa_cipher_dupctx(void *vctx)
{
    cipher_ctx *src = vctx, *ctx = OPENSSL_memdup(src, sizeof(*src));

    if (ctx == NULL)
        return NULL;
    ctx->shadow = NULL;
    if (!pico_rsa_params_own(&ctx->rsa) ||
        (src->shadow != NULL && (ctx->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL)) {
        rsa_cipher_freectx(ctx);
        return NULL;
    }
    return ctx;
}

/* The encryption context's settings, handed to the software provider. */
static int shadow_sync(cipher_ctx *ctx)
{
    OSSL_PARAM params[PICO_RSA_SHADOW_PARAMS];

    if (ctx->shadow == NULL)
        return 1;
    pico_rsa_params_shadow(&ctx->rsa, params);
    return EVP_PKEY_CTX_set_params(ctx->shadow, params) == 1;
}

static int cipher_init(cipher_ctx *ctx, pico_pkey *key, int encrypt, const OSSL_PARAM params[])
{
    EVP_PKEY *pub;

    /* the key types whose row offers this cipher (RSA; not RSA-PSS) */
    if (key == NULL || pico_pkey_keytype(key) == NULL ||
        pico_pkey_keytype(key)->cipher != pico_rsa_asym_cipher_functions) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "rsa decryption needs an rsa key");
        return 0;
    }
    if (!encrypt && key->hsm == NULL && !key->soft) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "not a key on the device: nothing to decrypt with");
        return 0;
    }
    ctx->key = key;
    ctx->rsa.encrypt = encrypt;
    EVP_PKEY_CTX_free(ctx->shadow);
    ctx->shadow = NULL;
    /* Encryption needs the public half only; a soft key decrypts in software too */
    if (encrypt || key->soft) {
        if ((pub = pico_pkey_public(key)) == NULL ||
            (ctx->shadow =
                 EVP_PKEY_CTX_new_from_pkey(pico_prov_sw(ctx->prov), pub, PICO_SW_PROPQ)) == NULL ||
            (encrypt ? EVP_PKEY_encrypt_init(ctx->shadow) : EVP_PKEY_decrypt_init(ctx->shadow)) !=
                1)
            return 0;
    }
    return rsa_cipher_set_ctx_params(ctx, params) && shadow_sync(ctx);
}

static int rsa_cipher_encrypt_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return cipher_init(vctx, vkey, 1, params);
}

static int rsa_cipher_decrypt_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return cipher_init(vctx, vkey, 0, params);
}

static int rsa_cipher_encrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                              const unsigned char *in, size_t inlen)
{
    cipher_ctx *ctx = vctx;

    if (ctx->shadow == NULL)
        return 0;
    if (out != NULL)
        *outlen = outsize;
    return EVP_PKEY_encrypt(ctx->shadow, out, outlen, in, inlen) == 1;
}

static int rsa_cipher_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                              const unsigned char *in, size_t inlen)
{
    cipher_ctx *ctx = vctx;
    uint8_t ct[MAX_RSA_BYTES], em[MAX_RSA_BYTES], mod[MAX_RSA_BYTES];
    size_t k, emlen = sizeof(em);
    EVP_PKEY *pub;
    BIGNUM *bn = NULL;
    int ok = 0;

    if (ctx->key != NULL && ctx->key->soft && !ctx->rsa.encrypt) { /* a software key */
        if (out != NULL)
            *outlen = outsize;
        return ctx->shadow != NULL && EVP_PKEY_decrypt(ctx->shadow, out, outlen, in, inlen) == 1;
    }
    if (ctx->key == NULL || ctx->key->hsm == NULL || ctx->rsa.encrypt)
        return 0;
    k = ((size_t)ctx->key->hsm->bits + 7) / 8;
    if (k > sizeof(em))
        return 0;
    if (out == NULL) {
        *outlen = ctx->rsa.pad == RSA_PKCS1_WITH_TLS_PADDING ? PICO_TLS_PREMASTER_LEN : k;
        return 1;
    }
    if (inlen > k) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "%zu bytes of ciphertext for a %zu-byte modulus",
                        inlen, k);
        return 0;
    }
    if (ctx->rsa.pad == RSA_NO_PADDING && outsize < k) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "output buffer of %zu bytes, %zu needed", outsize,
                        k);
        return 0;
    }
    if (ctx->rsa.pad == RSA_PKCS1_WITH_TLS_PADDING && outsize < PICO_TLS_PREMASTER_LEN)
        return 0;
    /* 7.2: the device wants the whole modulus length (a short input would be right-padded) */
    memset(ct, 0, k - inlen);
    memcpy(ct + k - inlen, in, inlen);
    /* RFC 8017 5.1.2: c must be below n, as the default provider checks; the firmware
     * answers 6400 to such input (field-notes.md), which says nothing useful */
    if ((pub = pico_pkey_public(ctx->key)) == NULL ||
        EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &bn) != 1 ||
        BN_bn2binpad(bn, mod, (int)k) != (int)k) {
        BN_free(bn);
        return 0;
    }
    BN_free(bn);
    if (memcmp(ct, mod, k) >= 0) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "ciphertext not smaller than the modulus");
        return 0;
    }
    if (pico_pkey_login(ctx->key) != PICO_OK ||
        pico_pkey_op(ctx->key, PICO_MECH_RSA_DECRYPT_RAW, ct, k, em, &emlen) != PICO_OK)
        return 0;
    if (emlen > k) {
        pico_prov_raise(ctx->prov, PICO_E_BAD_RESPONSE, "decipher answered %zu bytes", emlen);
        goto end;
    }
    if (emlen < k) { /* leading zero bytes dropped: put them back */
        memmove(em + k - emlen, em, emlen);
        memset(em, 0, k - emlen);
    }
    ok = pico_rsa_unpad(&ctx->rsa, em, k, out, outsize, outlen);
end:
    OPENSSL_cleanse(em, sizeof(em));
    return ok;
}

static int rsa_cipher_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    cipher_ctx *ctx = vctx;

    return pico_rsa_params_get(&ctx->rsa, params);
}

static int rsa_cipher_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    cipher_ctx *ctx = vctx;

    return pico_rsa_params_set(&ctx->rsa, params) && shadow_sync(ctx);
}

static const OSSL_PARAM *rsa_cipher_gettable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_gettable(PICO_RSA_CIPHER);
}

static const OSSL_PARAM *rsa_cipher_settable_ctx_params(void *vctx, void *provctx)
{
    (void)vctx;
    (void)provctx;
    return pico_rsa_params_settable(PICO_RSA_CIPHER);
}

const OSSL_DISPATCH pico_rsa_asym_cipher_functions[] = {
    {OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))rsa_cipher_newctx},
    {OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))rsa_cipher_freectx},
    {OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))rsa_cipher_dupctx},
    {OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, (void (*)(void))rsa_cipher_encrypt_init},
    {OSSL_FUNC_ASYM_CIPHER_ENCRYPT, (void (*)(void))rsa_cipher_encrypt},
    {OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))rsa_cipher_decrypt_init},
    {OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))rsa_cipher_decrypt},
    {OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, (void (*)(void))rsa_cipher_get_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_cipher_gettable_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))rsa_cipher_set_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_cipher_settable_ctx_params},
    {0, NULL},
};
