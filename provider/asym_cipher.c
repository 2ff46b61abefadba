/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RSA decryption with the key on the device, encryption with its public half.
 * Every decryption is one DECIPHER APDU with alg 21 (raw RSA, 7.2); the
 * padding is removed here, in constant time, as OpenSC does:
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
#define OPENSSL_SUPPRESS_DEPRECATED /* RSA_padding_check_*: OpenSSL's constant-time decoders */

#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "provider.h"

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

/* OpenSSL 3.2's name; 3.0 does not define it */
#define PARAM_IMPLICIT_REJECTION "implicit-rejection"
#define TLS_PREMASTER_LEN 48
#define MAX_RSA_BYTES 512

typedef struct cipher_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key; /* not owned */
    int encrypt;
    int pad;
    EVP_MD *oaep_md, *mgf1_md; /* NULL: SHA-1, OpenSSL's default */
    uint8_t *label;
    size_t label_len;
    unsigned client_version, alt_version; /* TLS padding */
    EVP_PKEY_CTX *shadow;                 /* encryption: software context over the public half */
} cipher_ctx;

static void *rsa_cipher_newctx(void *provctx)
{
    cipher_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->prov = provctx;
    ctx->pad = RSA_PKCS1_PADDING;
    return ctx;
}

static void rsa_cipher_freectx(void *vctx)
{
    cipher_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    EVP_MD_free(ctx->oaep_md);
    EVP_MD_free(ctx->mgf1_md);
    OPENSSL_free(ctx->label);
    EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *rsa_cipher_dupctx(void *vctx)
{
    cipher_ctx *src = vctx, *ctx = OPENSSL_memdup(src, sizeof(*src));

    if (ctx == NULL)
        return NULL;
    ctx->label = NULL;
    ctx->shadow = NULL;
    if ((ctx->oaep_md != NULL && !EVP_MD_up_ref(ctx->oaep_md)) ||
        (ctx->mgf1_md != NULL && !EVP_MD_up_ref(ctx->mgf1_md))) {
        OPENSSL_free(ctx);
        return NULL;
    }
    if ((src->label != NULL && (ctx->label = OPENSSL_memdup(src->label, src->label_len)) == NULL) ||
        (src->shadow != NULL && (ctx->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL)) {
        rsa_cipher_freectx(ctx);
        return NULL;
    }
    return ctx;
}

/* The encryption context's settings, handed to the software provider. */
static int shadow_sync(cipher_ctx *ctx)
{
    OSSL_PARAM params[5], *p = params;
    int pad = ctx->pad;

    if (ctx->shadow == NULL)
        return 1;
    *p++ = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &pad);
    if (pad == RSA_PKCS1_OAEP_PADDING) {
        if (ctx->oaep_md != NULL)
            *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                    (char *)EVP_MD_get0_name(ctx->oaep_md), 0);
        if (ctx->mgf1_md != NULL)
            *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                                    (char *)EVP_MD_get0_name(ctx->mgf1_md), 0);
        if (ctx->label != NULL)
            *p++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, ctx->label,
                                                     ctx->label_len);
    }
    *p = OSSL_PARAM_construct_end();
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
    ctx->encrypt = encrypt;
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

/* Constant-time helpers: all-ones when the condition holds, zero otherwise. */
static unsigned ct_is_zero(unsigned a)
{
    return 0u - ((~a & (a - 1)) >> (sizeof(unsigned) * 8 - 1));
}

static unsigned ct_eq(unsigned a, unsigned b)
{
    return ct_is_zero(a ^ b);
}

/*
 * The TLS premaster secret (RFC 5246 7.4.7.1) from the k-byte block em: 48
 * bytes after 00 02 PS 00, PS at least 8 non-zero bytes, starting with the
 * client's version. Whatever is wrong, the answer is 48 random bytes, chosen
 * without a branch on the block.
 */
static int tls_premaster(cipher_ctx *ctx, const uint8_t *em, size_t k, uint8_t *out)
{
    uint8_t rnd[TLS_PREMASTER_LEN];
    unsigned good, ver;
    size_t i, msg = k - TLS_PREMASTER_LEN;

    if (k < TLS_PREMASTER_LEN + 11 ||
        RAND_priv_bytes_ex(pico_prov_sw(ctx->prov), rnd, sizeof(rnd), 0) != 1)
        return 0;
    good = ct_is_zero(em[0]) & ct_eq(em[1], 2) & ct_is_zero(em[msg - 1]);
    for (i = 2; i < msg - 1; i++)
        good &= ~ct_is_zero(em[i]);
    ver = (unsigned)em[msg] << 8 | em[msg + 1];
    good &= ct_eq(ver, ctx->client_version) |
            (ctx->alt_version != 0 ? ct_eq(ver, ctx->alt_version) : 0u);
    for (i = 0; i < TLS_PREMASTER_LEN; i++)
        out[i] = (uint8_t)((em[msg + i] & good) | (rnd[i] & ~good));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return 1;
}

static int rsa_cipher_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                              const unsigned char *in, size_t inlen)
{
    cipher_ctx *ctx = vctx;
    uint8_t ct[MAX_RSA_BYTES], em[MAX_RSA_BYTES], mod[MAX_RSA_BYTES];
    size_t k, emlen = sizeof(em);
    EVP_PKEY *pub;
    BIGNUM *bn = NULL;
    int n = -1, ok = 0;

    if (ctx->key != NULL && ctx->key->soft && !ctx->encrypt) { /* a software key */
        if (out != NULL)
            *outlen = outsize;
        return ctx->shadow != NULL && EVP_PKEY_decrypt(ctx->shadow, out, outlen, in, inlen) == 1;
    }
    if (ctx->key == NULL || ctx->key->hsm == NULL || ctx->encrypt)
        return 0;
    k = ((size_t)ctx->key->hsm->bits + 7) / 8;
    if (k > sizeof(em))
        return 0;
    if (out == NULL) {
        *outlen = ctx->pad == RSA_PKCS1_WITH_TLS_PADDING ? TLS_PREMASTER_LEN : k;
        return 1;
    }
    if (inlen > k) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "%zu bytes of ciphertext for a %zu-byte modulus",
                        inlen, k);
        return 0;
    }
    if (ctx->pad == RSA_NO_PADDING && outsize < k) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "output buffer of %zu bytes, %zu needed", outsize,
                        k);
        return 0;
    }
    if (ctx->pad == RSA_PKCS1_WITH_TLS_PADDING && outsize < TLS_PREMASTER_LEN)
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
    switch (ctx->pad) {
    case RSA_NO_PADDING:
        memcpy(out, em, k);
        n = (int)k;
        break;
    case RSA_PKCS1_PADDING:
        n = RSA_padding_check_PKCS1_type_2(out, (int)outsize, em, (int)k, (int)k);
        break;
    case RSA_PKCS1_OAEP_PADDING: {
        const EVP_MD *md = ctx->oaep_md;
        EVP_MD *sha1 = NULL;
        if (md == NULL)
            md = sha1 = EVP_MD_fetch(pico_prov_sw(ctx->prov), "SHA1", PICO_SW_PROPQ);
        if (md != NULL)
            n = RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)outsize, em, (int)k, (int)k, ctx->label,
                                                  (int)ctx->label_len, md,
                                                  ctx->mgf1_md != NULL ? ctx->mgf1_md : md);
        EVP_MD_free(sha1);
        break;
    }
    case RSA_PKCS1_WITH_TLS_PADDING:
        n = tls_premaster(ctx, em, k, out) ? TLS_PREMASTER_LEN : -1;
        break;
    }
    if (n < 0) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "rsa decryption failed");
        goto end;
    }
    *outlen = (size_t)n;
    ok = 1;
end:
    OPENSSL_cleanse(em, sizeof(em));
    return ok;
}

static int rsa_cipher_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    cipher_ctx *ctx = vctx;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL &&
        !(p->data_type == OSSL_PARAM_INTEGER
              ? OSSL_PARAM_set_int(p, ctx->pad)
              : OSSL_PARAM_set_utf8_string(p, ctx->pad == RSA_PKCS1_OAEP_PADDING ? "oaep"
                                              : ctx->pad == RSA_NO_PADDING       ? "none"
                                                                                 : "pkcs1")))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p,
                                    ctx->oaep_md != NULL ? EVP_MD_get0_name(ctx->oaep_md) : "SHA1"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ctx->mgf1_md != NULL   ? EVP_MD_get0_name(ctx->mgf1_md)
                                       : ctx->oaep_md != NULL ? EVP_MD_get0_name(ctx->oaep_md)
                                                              : "SHA1"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL &&
        !OSSL_PARAM_set_octet_ptr(p, ctx->label, ctx->label_len))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) != NULL &&
        !OSSL_PARAM_set_uint(p, ctx->client_version))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) != NULL &&
        !OSSL_PARAM_set_uint(p, ctx->alt_version))
        return 0;
    if ((p = OSSL_PARAM_locate(params, PARAM_IMPLICIT_REJECTION)) != NULL &&
        !OSSL_PARAM_set_uint(p, 0))
        return 0;
    return 1;
}

static int set_md(cipher_ctx *ctx, EVP_MD **slot, const OSSL_PARAM *p, const char *props)
{
    const char *name;
    EVP_MD *md;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name))
        return 0;
    if ((md = EVP_MD_fetch(pico_prov_sw(ctx->prov), name, props != NULL ? props : PICO_SW_PROPQ)) ==
        NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "digest %s", name);
        return 0;
    }
    EVP_MD_free(*slot);
    *slot = md;
    return 1;
}

static int get_pad(const OSSL_PARAM *p, int *pad)
{
    const char *s;

    if (p->data_type == OSSL_PARAM_INTEGER)
        return OSSL_PARAM_get_int(p, pad);
    if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
        return 0;
    *pad = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_NONE) == 0      ? RSA_NO_PADDING
           : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING
           : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_OAEP) == 0    ? RSA_PKCS1_OAEP_PADDING
                                                            : -1;
    return 1;
}

static int rsa_cipher_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    cipher_ctx *ctx = vctx;
    const OSSL_PARAM *p;
    const char *props = NULL;
    unsigned v;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL) {
        int pad = -1;
        if (!get_pad(p, &pad) ||
            (pad != RSA_NO_PADDING && pad != RSA_PKCS1_PADDING && pad != RSA_PKCS1_OAEP_PADDING &&
             pad != RSA_PKCS1_WITH_TLS_PADDING) ||
            (ctx->encrypt && pad == RSA_PKCS1_WITH_TLS_PADDING)) {
            pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "rsa padding mode");
            return 0;
        }
        ctx->pad = pad;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS)) != NULL &&
        !OSSL_PARAM_get_utf8_string_ptr(p, &props))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL &&
        !set_md(ctx, &ctx->oaep_md, p, props))
        return 0;
    props = NULL;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS)) != NULL &&
        !OSSL_PARAM_get_utf8_string_ptr(p, &props))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL &&
        !set_md(ctx, &ctx->mgf1_md, p, props))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL) {
        void *label = NULL;
        size_t len = 0;
        if (!OSSL_PARAM_get_octet_string(p, &label, 0, &len))
            return 0;
        OPENSSL_free(ctx->label);
        ctx->label = label;
        ctx->label_len = len;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) != NULL) {
        if (!OSSL_PARAM_get_uint(p, &v))
            return 0;
        ctx->client_version = v;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) !=
        NULL) {
        if (!OSSL_PARAM_get_uint(p, &v))
            return 0;
        ctx->alt_version = v;
    }
    if ((p = OSSL_PARAM_locate_const(params, PARAM_IMPLICIT_REJECTION)) != NULL) {
        if (!OSSL_PARAM_get_uint(p, &v))
            return 0;
        if (v != 0) {
            pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED,
                            "implicit rejection needs the private exponent, which stays on the "
                            "device");
            return 0;
        }
    }
    return shadow_sync(ctx);
}

static const OSSL_PARAM *rsa_cipher_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_octet_ptr(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
        OSSL_PARAM_uint(PARAM_IMPLICIT_REJECTION, NULL),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return gettable;
}

static const OSSL_PARAM *rsa_cipher_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
        OSSL_PARAM_uint(PARAM_IMPLICIT_REJECTION, NULL),
        OSSL_PARAM_END,
    };
    (void)vctx;
    (void)provctx;
    return settable;
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
