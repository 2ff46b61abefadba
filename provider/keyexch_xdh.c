/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X25519 and X448 (RFC 7748) with the private key on the device: one
 * PICO_MECH_XDH operation with the peer's raw u-coordinate, answered with
 * the shared secret, as the default provider's ecx_exch.c derives it (the
 * whole secret or an error: no truncation, no KDF, no parameters; an all-zero
 * secret, from a small-order peer key, is refused as RFC 7748 6.1 allows and
 * OpenSSL does). A soft key (libssl's key share with pico's key manager
 * fetched) derives in software.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_keyexch_newctx_fn xdh_newctx;
static OSSL_FUNC_keyexch_freectx_fn xdh_freectx;
static OSSL_FUNC_keyexch_dupctx_fn xdh_dupctx;
static OSSL_FUNC_keyexch_init_fn xdh_init;
static OSSL_FUNC_keyexch_set_peer_fn xdh_set_peer;
static OSSL_FUNC_keyexch_derive_fn xdh_derive;

/* The longest public key and secret: X448, 56 bytes */
#define XDH_MAX 56

typedef struct xdh_ctx {
    pico_prov_ctx *prov;
    pico_pkey *key;       /* not owned */
    pico_pkey *peer;      /* not owned */
    EVP_PKEY_CTX *shadow; /* a soft key's derivation, all in software */
} xdh_ctx;

static void *xdh_newctx(void *provctx)
{
    xdh_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx != NULL)
        ctx->prov = provctx;
    return ctx;
}

static void xdh_freectx(void *vctx)
{
    xdh_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    EVP_PKEY_CTX_free(ctx->shadow);
    OPENSSL_free(ctx);
}

static void *xdh_dupctx(void *vctx)
{
    const xdh_ctx *src = vctx;
    xdh_ctx *dst = OPENSSL_memdup(src, sizeof(*src));

    if (dst == NULL)
        return NULL;
    dst->shadow = NULL;
    if (src->shadow != NULL && (dst->shadow = EVP_PKEY_CTX_dup(src->shadow)) == NULL) {
        xdh_freectx(dst);
        return NULL;
    }
    return dst;
}

/* An X25519 or X448 key: the key type's row offers this key exchange. */
static int is_xdh(const pico_pkey *key)
{
    const pico_prov_keytype *kt = key != NULL ? pico_pkey_keytype(key) : NULL;

    return kt != NULL && kt->keyexch == pico_xdh_keyexch_functions;
}

static int xdh_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    xdh_ctx *ctx = vctx;
    pico_pkey *key = vkey;

    (void)params; /* as ecx_exch.c: no parameters */
    if (!is_xdh(key) || (key->hsm == NULL && !key->soft)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "x25519/x448 needs such a key on the device");
        return 0;
    }
    ctx->key = key;
    ctx->peer = NULL;
    EVP_PKEY_CTX_free(ctx->shadow);
    ctx->shadow = NULL;
    if (key->soft && ((ctx->shadow = EVP_PKEY_CTX_new_from_pkey(pico_prov_sw(ctx->prov), key->pub,
                                                                PICO_SW_PROPQ)) == NULL ||
                      EVP_PKEY_derive_init(ctx->shadow) != 1))
        return 0;
    return 1;
}

static int xdh_set_peer(void *vctx, void *vpeer)
{
    xdh_ctx *ctx = vctx;
    pico_pkey *peer = vpeer;
    EVP_PKEY *theirs;

    if (peer == NULL || peer->type != ctx->key->type) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "the peer key is not a %s key",
                        pico_pkey_keytype(ctx->key)->name);
        return 0;
    }
    if ((theirs = pico_pkey_public(peer)) == NULL)
        return 0;
    if (ctx->shadow != NULL && EVP_PKEY_derive_set_peer(ctx->shadow, theirs) != 1)
        return 0;
    ctx->peer = peer;
    return 1;
}

/* The secret from the device into z (len bytes, the type's public key length). */
static int xdh_device_secret(xdh_ctx *ctx, uint8_t *z, size_t len)
{
    uint8_t u[XDH_MAX], answer[XDH_MAX + 1], acc = 0;
    size_t ulen = sizeof(u), alen = sizeof(answer), i;
    EVP_PKEY *theirs;
    int ok = 0;

    if ((theirs = pico_pkey_public(ctx->peer)) == NULL ||
        EVP_PKEY_get_raw_public_key(theirs, u, &ulen) != 1 || ulen != len) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "the peer's public key is not %zu bytes", len);
        goto end;
    }
    if (pico_pkey_login(ctx->key) != PICO_OK ||
        pico_pkey_op(ctx->key, PICO_MECH_XDH, u, ulen, answer, &alen) != PICO_OK)
        goto end;
    if (alen != len) {
        pico_prov_raise(ctx->prov, PICO_E_BAD_RESPONSE,
                        "x25519/x448 answered %zu bytes, %zu expected", alen, len);
        goto end;
    }
    for (i = 0; i < len; i++)
        acc |= answer[i];
    if (acc == 0) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "all-zero shared secret: a small-order peer key");
        goto end;
    }
    memcpy(z, answer, len);
    ok = 1;
end:
    OPENSSL_cleanse(answer, sizeof(answer));
    return ok;
}

static int xdh_derive(void *vctx, unsigned char *secret, size_t *secretlen, size_t outlen)
{
    xdh_ctx *ctx = vctx;
    const pico_key_type_info *info;

    if (ctx->key == NULL || ctx->peer == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "x25519/x448: no peer key set");
        return 0;
    }
    if (ctx->shadow != NULL) {
        *secretlen = outlen;
        return EVP_PKEY_derive(ctx->shadow, secret, secretlen) == 1;
    }
    info = pico_key_type_info_of(ctx->key->type);
    if (secret == NULL) {
        *secretlen = info->raw_len;
        return 1;
    }
    if (outlen < info->raw_len) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "a %zu-byte buffer for a %zu-byte secret", outlen,
                        info->raw_len);
        return 0;
    }
    if (!xdh_device_secret(ctx, secret, info->raw_len))
        return 0;
    *secretlen = info->raw_len;
    return 1;
}

const OSSL_DISPATCH pico_xdh_keyexch_functions[] = {
    {OSSL_FUNC_KEYEXCH_NEWCTX, (void (*)(void))xdh_newctx},
    {OSSL_FUNC_KEYEXCH_FREECTX, (void (*)(void))xdh_freectx},
    {OSSL_FUNC_KEYEXCH_DUPCTX, (void (*)(void))xdh_dupctx},
    {OSSL_FUNC_KEYEXCH_INIT, (void (*)(void))xdh_init},
    {OSSL_FUNC_KEYEXCH_SET_PEER, (void (*)(void))xdh_set_peer},
    {OSSL_FUNC_KEYEXCH_DERIVE, (void (*)(void))xdh_derive},
    {0, NULL},
};
