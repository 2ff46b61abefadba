/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OSSL_STORE loader for pico: URIs.
 *
 *   pico:object=web            the private key labelled "web" (first device holding it)
 *   pico:id=%01;type=public    a public key
 *   pico:object=web;type=cert  the certificate stored with the key
 *   pico:  pico:token=NAME     lists: one name (a URI) per key and certificate, every device
 *
 * Keys reach keymgmt by reference (a pico_pkey the loader keeps until the
 * object callback returns); public keys and certificates travel as DER for
 * the software provider. Listing reads each key's description once per
 * process and never asks for a PIN; loading a private key asks the
 * application's passphrase callback while it is valid (see pkey.c).
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider.h"

static OSSL_FUNC_store_open_fn store_open;
static OSSL_FUNC_store_settable_ctx_params_fn store_settable_ctx_params;
static OSSL_FUNC_store_set_ctx_params_fn store_set_ctx_params;
static OSSL_FUNC_store_load_fn store_load;
static OSSL_FUNC_store_eof_fn store_eof;
static OSSL_FUNC_store_close_fn store_close;

enum item_kind { ITEM_NAME, ITEM_PRIVATE, ITEM_PUBLIC, ITEM_CERT };

typedef struct store_item {
    enum item_kind kind;
    pico_obj_type name_type; /* ITEM_NAME: what the name points to */
    pico_key *key;
} store_item;

typedef struct store_ctx {
    pico_prov_ctx *prov;
    pico_pkey *uri_holder; /* parsed URI (with its login factors) */
    int expect;            /* OSSL_STORE_INFO_* or 0 */
    int listing;           /* neither object= nor id=: names of everything */
    int collected;
    store_item *items;
    size_t n, next;
} store_ctx;

static void *store_open(void *provctx, const char *uri)
{
    store_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->prov = provctx;
    if ((ctx->uri_holder = pico_pkey_new(provctx, 0)) == NULL ||
        !pico_pkey_set_uri(ctx->uri_holder, uri)) {
        store_close(ctx);
        return NULL;
    }
    ctx->listing = ctx->uri_holder->uri.object == NULL && ctx->uri_holder->uri.id_len == 0;
    return ctx;
}

static const OSSL_PARAM *store_settable_ctx_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

static int store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    store_ctx *ctx = loaderctx;
    const OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT)) != NULL &&
        !OSSL_PARAM_get_int(p, &ctx->expect))
        return 0;
    return 1;
}

static int add_item(store_ctx *ctx, enum item_kind kind, pico_obj_type name_type, pico_key *key)
{
    store_item *n = realloc(ctx->items, (ctx->n + 1) * sizeof(*n));

    if (n == NULL)
        return 0;
    ctx->items = n;
    ctx->items[ctx->n].kind = kind;
    ctx->items[ctx->n].name_type = name_type;
    ctx->items[ctx->n].key = key;
    ctx->n++;
    return 1;
}

/*
 * What a URI's type= and the caller's expectation ask for: the public key when
 * either says public (no PIN is asked for it), certificates when either says
 * cert, else the private key, with its certificate when nothing was said.
 */
static pico_obj_type key_kind(const store_ctx *ctx)
{
    pico_obj_type t = ctx->uri_holder->uri.type;

    if (t == PICO_OBJ_PUBLIC || ctx->expect == OSSL_STORE_INFO_PUBKEY)
        return PICO_OBJ_PUBLIC;
    if (t == PICO_OBJ_CERT || ctx->expect == OSSL_STORE_INFO_CERT)
        return PICO_OBJ_CERT;
    return PICO_OBJ_PRIVATE;
}

static int wants_cert(const store_ctx *ctx)
{
    return key_kind(ctx) == PICO_OBJ_CERT ||
           (ctx->uri_holder->uri.type == PICO_OBJ_ANY && ctx->expect == 0);
}

/* A key's certificate (CExx holding X.509) is known once its public part is read. */
static int has_cert(pico_key *key)
{
    EVP_PKEY *pub;
    int ok;

    ERR_set_mark();
    ok = pico_device_key_public(key, &pub) == PICO_OK && key->cert != NULL;
    ERR_pop_to_mark();
    return ok;
}

static int collect_device(void *arg, pico_device *dev)
{
    store_ctx *ctx = arg;
    const pico_uri *uri = &ctx->uri_holder->uri;
    pico_key **keys = NULL, *one = NULL;
    size_t n = 0, i;

    if (ctx->listing) {
        if (pico_device_keys(dev, &keys, &n) != PICO_OK)
            return 0;
    } else {
        /* one key: descriptions are read up to the match only */
        ERR_set_mark();
        if (pico_device_find_key(dev, uri, &one) != PICO_OK) {
            ERR_pop_to_mark();
            return 0;
        }
        ERR_pop_to_mark();
        keys = &one;
        n = 1;
    }
    for (i = 0; i < n; i++) {
        pico_key *k = keys[i];
        pico_obj_type kind = key_kind(ctx);
        if (kind != PICO_OBJ_CERT && !add_item(ctx,
                                               ctx->listing              ? ITEM_NAME
                                               : kind == PICO_OBJ_PUBLIC ? ITEM_PUBLIC
                                                                         : ITEM_PRIVATE,
                                               kind, k))
            return 1;
        if (wants_cert(ctx) && has_cert(k) &&
            !add_item(ctx, ctx->listing ? ITEM_NAME : ITEM_CERT, PICO_OBJ_CERT, k))
            return 1;
    }
    /* a named object: the first device that has it */
    return !ctx->listing && ctx->n > 0;
}

static int collect(store_ctx *ctx)
{
    const pico_uri *uri = &ctx->uri_holder->uri;

    ctx->collected = 1;
    if (pico_device_foreach(uri, collect_device, ctx) != PICO_OK)
        return 0;
    if (!ctx->listing && ctx->n == 0) {
        char *where = pico_uri_format(uri);
        pico_prov_raise(ctx->prov, PICO_E_NOT_FOUND, "%s", where != NULL ? where : "object");
        free(where);
        return 0;
    }
    return 1;
}

static const char *key_algorithm(const pico_key *k)
{
    return k->type == PICO_KEY_EC ? "EC" : pico_rsa_pss_key(k) ? "RSA-PSS" : "RSA";
}

/* The data type of a reference: this provider's keymgmt only (provider.h). */
static const char *key_ref_type(const pico_key *k)
{
    return k->type == PICO_KEY_EC ? PICO_EC_TYPE
           : pico_rsa_pss_key(k)  ? PICO_RSA_PSS_TYPE
                                  : PICO_RSA_TYPE;
}

static int emit_name(store_ctx *ctx, const store_item *it, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_key *k = it->key;
    pico_uri u;
    char *name, desc[256];
    int object_type = OSSL_OBJECT_NAME, ok;
    OSSL_PARAM params[4];

    memset(&u, 0, sizeof(u));
    u.token = (char *)pico_device_name(k->dev);
    u.object = k->label;
    memcpy(u.id, k->id, k->id_len);
    u.id_len = k->id_len;
    u.type = it->name_type;
    if ((name = pico_uri_format(&u)) == NULL)
        return 0;
    if (k->type == PICO_KEY_EC)
        snprintf(desc, sizeof(desc), "%s: EC %d-bit key%s%s%s in reader '%s'",
                 it->name_type == PICO_OBJ_CERT ? "certificate" : "key", k->bits,
                 k->label ? " '" : "", k->label ? k->label : "", k->label ? "'" : "",
                 pico_device_reader(k->dev));
    else
        snprintf(desc, sizeof(desc), "%s: %s %d-bit key%s%s%s in reader '%s'",
                 it->name_type == PICO_OBJ_CERT ? "certificate" : "key", key_algorithm(k), k->bits,
                 k->label ? " '" : "", k->label ? k->label : "", k->label ? "'" : "",
                 pico_device_reader(k->dev));
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA, name, 0);
    params[2] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DESC, desc, 0);
    params[3] = OSSL_PARAM_construct_end();
    ok = cb(params, cbarg);
    (void)ctx;
    free(name);
    return ok;
}

static int emit_private(store_ctx *ctx, const store_item *it, OSSL_CALLBACK *cb, void *cbarg,
                        OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    int object_type = OSSL_OBJECT_PKEY, ok;
    pico_pkey *key = NULL;
    OSSL_PARAM params[4];

    if (pico_pkey_from_key(ctx->prov, it->key, &ctx->uri_holder->uri, pw_cb, pw_cbarg, &key) !=
        PICO_OK)
        return 0;
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 (char *)key_ref_type(it->key), 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key));
    params[3] = OSSL_PARAM_construct_end();
    ok = cb(params, cbarg);
    pico_pkey_free(key); /* keymgmt load took its own copy */
    return ok;
}

/* Public keys and certificates as DER, decoded by the software provider. */
static int emit_der(store_ctx *ctx, const store_item *it, OSSL_CALLBACK *cb, void *cbarg)
{
    int object_type = it->kind == ITEM_CERT ? OSSL_OBJECT_CERT : OSSL_OBJECT_PKEY, len, ok;
    unsigned char *der = NULL;
    EVP_PKEY *pub;
    OSSL_PARAM params[5], *p = params;

    if (pico_device_key_public(it->key, &pub) != PICO_OK)
        return 0;
    /* an RSA-PSS key's public key carries its restrictions (keymgmt_rsa.c) */
    if (it->kind == ITEM_PUBLIC && pico_rsa_pss_key(it->key) &&
        (pub = pico_rsa_pss_public(ctx->prov, it->key, pub)) == NULL)
        return 0;
    len = it->kind == ITEM_CERT ? i2d_X509(it->key->cert, &der) : i2d_PUBKEY(pub, &der);
    if (it->kind == ITEM_PUBLIC && pico_rsa_pss_key(it->key))
        EVP_PKEY_free(pub);
    if (len <= 0) {
        pico_prov_raise(ctx->prov, PICO_E_INTERNAL, "encoding");
        return 0;
    }
    *p++ = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    if (it->kind == ITEM_PUBLIC) {
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                (char *)key_algorithm(it->key), 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_STRUCTURE,
                                                "SubjectPublicKeyInfo", 0);
    }
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, der, (size_t)len);
    *p = OSSL_PARAM_construct_end();
    ok = cb(params, cbarg);
    OPENSSL_free(der);
    return ok;
}

static int store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                      OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    store_ctx *ctx = loaderctx;
    const store_item *it;

    if (!ctx->collected && !collect(ctx))
        return 0;
    if (ctx->next >= ctx->n)
        return 0;
    it = &ctx->items[ctx->next++];
    switch (it->kind) {
    case ITEM_NAME:
        return emit_name(ctx, it, object_cb, object_cbarg);
    case ITEM_PRIVATE:
        return emit_private(ctx, it, object_cb, object_cbarg, pw_cb, pw_cbarg);
    case ITEM_PUBLIC:
    case ITEM_CERT:
        return emit_der(ctx, it, object_cb, object_cbarg);
    }
    return 0;
}

static int store_eof(void *loaderctx)
{
    store_ctx *ctx = loaderctx;

    /* after a failed collection there is nothing more to come */
    return ctx->collected && ctx->next >= ctx->n;
}

static int store_close(void *loaderctx)
{
    store_ctx *ctx = loaderctx;

    if (ctx == NULL)
        return 1;
    pico_pkey_free(ctx->uri_holder);
    free(ctx->items);
    free(ctx);
    return 1;
}

const OSSL_DISPATCH pico_store_functions[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))store_open},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))store_settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))store_set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))store_load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))store_eof},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))store_close},
    {0, NULL},
};
