/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OSSL_STORE loader for pico: URIs.
 *
 *   pico:object=web            the key labelled "web" (first device holding it): its
 *                              private key, public key and certificate, as a file
 *                              holding the three would give them
 *   pico:id=%01;type=public    only the public key (type=private, type=cert: only that)
 *   pico:object=myca           also a certificate stored without a key (CAxx)
 *   pico:  pico:token=NAME     lists: one name (a URI) per object, every device
 *
 * OSSL_STORE_expect() narrows the kinds further; OSSL_STORE_find() searches
 * (alias = label; subject, issuer + serial, fingerprint of certificates) and
 * returns the matching objects themselves, from every device.
 *
 * Keys reach keymgmt by reference (a pico_pkey the loader keeps until the
 * object callback returns); public keys and certificates travel as DER for
 * the software provider. Listing reads each key's description once per
 * process and never asks for a PIN; loading a private key asks the
 * application's passphrase callback while it is valid (see pkey.c).
 */
#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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

/* The kinds of object a request asks for, as a set */
#define WANT_PRIVATE 1u
#define WANT_PUBLIC 2u
#define WANT_CERT 4u
#define WANT_ALL (WANT_PRIVATE | WANT_PUBLIC | WANT_CERT)

typedef struct store_item {
    enum item_kind kind;
    pico_obj_type name_type; /* ITEM_NAME: what the name points to */
    pico_key *key;           /* a key, or the key a CExx certificate belongs to */
    pico_cert *cert;         /* a certificate stored without a key (CAxx) */
} store_item;

/* OSSL_STORE_find() criteria (store_lib.c turns each into these parameters) */
typedef struct store_search {
    char *alias;
    X509_NAME *subject;
    X509_NAME *issuer;
    BIGNUM *serial;
    char *digest;
    unsigned char *fingerprint;
    size_t fingerprint_len;
} store_search;

typedef struct store_ctx {
    pico_prov_ctx *prov;
    pico_pkey *uri_holder; /* parsed URI (with its login factors) */
    int expect;            /* OSSL_STORE_INFO_* or 0 */
    store_search search;
    int collected;
    int failed; /* the last load failed: not at eof until the next load says so */
    store_item *items;
    size_t n, next;
    EVP_MD *md; /* fingerprint digest, fetched at collection */
} store_ctx;

static int searching(const store_ctx *ctx)
{
    const store_search *s = &ctx->search;

    return s->alias != NULL || s->subject != NULL || s->issuer != NULL || s->serial != NULL ||
           s->fingerprint != NULL;
}

/* Names of everything: no object=, no id=, no search */
static int listing(const store_ctx *ctx)
{
    const pico_uri *u = &ctx->uri_holder->uri;

    return u->object == NULL && u->id_len == 0 && !searching(ctx);
}

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
    return ctx;
}

static const OSSL_PARAM *store_settable_ctx_params(void *provctx)
{
    /* OSSL_STORE_supports_search() looks for these names */
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
        OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_ALIAS, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_SUBJECT, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_ISSUER, NULL, 0),
        OSSL_PARAM_BN(OSSL_STORE_PARAM_SERIAL, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_FINGERPRINT, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

/* A DER X509_NAME parameter; 0 (error raised) when it does not parse. */
static int get_name(store_ctx *ctx, const OSSL_PARAM *p, X509_NAME **out)
{
    const unsigned char *der;
    const void *v = NULL;
    size_t len = 0;
    X509_NAME *name;

    if (!OSSL_PARAM_get_octet_string_ptr(p, &v, &len)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: %s is not an octet string", p->key);
        return 0;
    }
    der = v;
    if ((name = d2i_X509_NAME(NULL, &der, (long)len)) == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: %s is not a DER name", p->key);
        return 0;
    }
    X509_NAME_free(*out);
    *out = name;
    return 1;
}

static int get_string(store_ctx *ctx, const OSSL_PARAM *p, char **out)
{
    char *s = NULL;

    if (!OSSL_PARAM_get_utf8_string(p, &s, 0)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: %s is not a string", p->key);
        return 0;
    }
    OPENSSL_free(*out);
    *out = s;
    return 1;
}

static int store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    store_ctx *ctx = loaderctx;
    store_search *s = &ctx->search;
    const OSSL_PARAM *p;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT)) != NULL &&
        !OSSL_PARAM_get_int(p, &ctx->expect))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ALIAS)) != NULL &&
        !get_string(ctx, p, &s->alias))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SUBJECT)) != NULL &&
        !get_name(ctx, p, &s->subject))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ISSUER)) != NULL &&
        !get_name(ctx, p, &s->issuer))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SERIAL)) != NULL &&
        !OSSL_PARAM_get_BN(p, &s->serial)) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: serial is not a number");
        return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_DIGEST)) != NULL &&
        !get_string(ctx, p, &s->digest))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_FINGERPRINT)) != NULL) {
        const void *v = NULL;
        size_t len = 0;
        if (!OSSL_PARAM_get_octet_string_ptr(p, &v, &len) || len == 0) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: empty fingerprint");
            return 0;
        }
        OPENSSL_free(s->fingerprint);
        if ((s->fingerprint = OPENSSL_memdup(v, len)) == NULL) {
            pico_prov_raise(ctx->prov, PICO_E_NOMEM, "store search");
            return 0;
        }
        s->fingerprint_len = len;
    }
    return 1;
}

static int add_item(store_ctx *ctx, enum item_kind kind, pico_obj_type name_type, pico_key *key,
                    pico_cert *cert)
{
    store_item *n = realloc(ctx->items, (ctx->n + 1) * sizeof(*n));

    if (n == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_NOMEM, "store");
        return 0;
    }
    ctx->items = n;
    ctx->items[ctx->n].kind = kind;
    ctx->items[ctx->n].name_type = name_type;
    ctx->items[ctx->n].key = key;
    ctx->items[ctx->n].cert = cert;
    ctx->n++;
    return 1;
}

/*
 * What the URI's type= and the caller's expectation ask for: both narrow the
 * set, neither widens it (OSSL_STORE_load drops any other kind anyway, and a
 * private key must not be loaded, nor a PIN asked, for a certificate).
 * Certificate criteria find certificates only.
 */
static unsigned wanted(const store_ctx *ctx)
{
    const store_search *s = &ctx->search;
    unsigned want = WANT_ALL;

    switch (ctx->uri_holder->uri.type) {
    case PICO_OBJ_PRIVATE:
        want = WANT_PRIVATE;
        break;
    case PICO_OBJ_PUBLIC:
        want = WANT_PUBLIC;
        break;
    case PICO_OBJ_CERT:
        want = WANT_CERT;
        break;
    case PICO_OBJ_ANY:
        break;
    }
    switch (ctx->expect) {
    case OSSL_STORE_INFO_PKEY:
        want &= WANT_PRIVATE;
        break;
    case OSSL_STORE_INFO_PUBKEY:
        want &= WANT_PUBLIC;
        break;
    case OSSL_STORE_INFO_CERT:
        want &= WANT_CERT;
        break;
    case OSSL_STORE_INFO_PARAMS:
    case OSSL_STORE_INFO_CRL:
        want = 0;
        break;
    default: /* 0, or names: the objects themselves are named */
        break;
    }
    if (s->subject != NULL || s->issuer != NULL || s->serial != NULL || s->fingerprint != NULL)
        want &= WANT_CERT;
    return want;
}

/* A key's certificate (CExx holding X.509) is known once its public part is read. */
static int has_cert(pico_key *key)
{
    EVP_PKEY *pub;
    int ok;

    pico_err_mark();
    ok = pico_device_key_public(key, &pub) == PICO_OK && key->cert != NULL;
    pico_err_pop_to_mark();
    return ok;
}

static int label_id_match(const pico_uri *u, const char *alias, const char *label,
                          const uint8_t *id, size_t id_len)
{
    if (u->object != NULL && (label == NULL || strcmp(label, u->object) != 0))
        return 0;
    if (u->id_len > 0 && (id_len != u->id_len || memcmp(id, u->id, id_len) != 0))
        return 0;
    return alias == NULL || (label != NULL && strcmp(label, alias) == 0);
}

/* The certificate criteria: subject, issuer and serial, fingerprint (of the DER, as x509
 * -fingerprint). */
static int cert_criteria_match(const store_ctx *ctx, X509 *x)
{
    const store_search *s = &ctx->search;

    if (s->subject != NULL && X509_NAME_cmp(X509_get_subject_name(x), s->subject) != 0)
        return 0;
    if (s->issuer != NULL && X509_NAME_cmp(X509_get_issuer_name(x), s->issuer) != 0)
        return 0;
    if (s->serial != NULL) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        int eq = bn != NULL && BN_cmp(bn, s->serial) == 0;
        BN_free(bn);
        if (!eq)
            return 0;
    }
    if (s->fingerprint != NULL) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (ctx->md == NULL || !X509_digest(x, ctx->md, md, &len) || len != s->fingerprint_len ||
            memcmp(md, s->fingerprint, len) != 0)
            return 0;
    }
    return 1;
}

static int key_matches(const store_ctx *ctx, const pico_key *k)
{
    /* a key of a type the provider has no key manager for cannot be handed on */
    if (pico_prov_keytype_of_key(k) == NULL)
        return 0;
    return label_id_match(&ctx->uri_holder->uri, ctx->search.alias, k->label, k->id, k->id_len);
}

/* The items of one key: its private key, public key and certificate, as wanted. */
static int add_key(store_ctx *ctx, pico_key *k, unsigned want, int names)
{
    if ((want & WANT_PRIVATE) &&
        !add_item(ctx, names ? ITEM_NAME : ITEM_PRIVATE, PICO_OBJ_PRIVATE, k, NULL))
        return 0;
    if ((want & WANT_PUBLIC) &&
        !add_item(ctx, names ? ITEM_NAME : ITEM_PUBLIC, PICO_OBJ_PUBLIC, k, NULL))
        return 0;
    if ((want & WANT_CERT) && has_cert(k) && cert_criteria_match(ctx, k->cert) &&
        !add_item(ctx, names ? ITEM_NAME : ITEM_CERT, PICO_OBJ_CERT, k, NULL))
        return 0;
    return 1;
}

/* Certificates stored without a key, read once per device per process (device.c). */
static int add_certs(store_ctx *ctx, pico_device *dev, int names)
{
    const pico_uri *u = &ctx->uri_holder->uri;
    pico_cert **certs = NULL;
    size_t n = 0, i;

    if (pico_device_certs(dev, &certs, &n) != PICO_OK)
        return 0;
    for (i = 0; i < n; i++) {
        pico_cert *c = certs[i];
        if (label_id_match(u, ctx->search.alias, c->label, c->id, c->id_len) &&
            cert_criteria_match(ctx, c->x509) &&
            !add_item(ctx, names ? ITEM_NAME : ITEM_CERT, PICO_OBJ_CERT, NULL, c))
            return 0;
    }
    return 1;
}

typedef struct collect_arg {
    store_ctx *ctx;
    pico_err err;
} collect_arg;

static int collect_device(void *arg, pico_device *dev)
{
    collect_arg *a = arg;
    store_ctx *ctx = a->ctx;
    const pico_uri *uri = &ctx->uri_holder->uri;
    unsigned want = wanted(ctx);
    int names = listing(ctx), named = !names && !searching(ctx);
    pico_key **keys = NULL, *one = NULL;
    size_t n = 0, i, before = ctx->n;

    if (want == 0)
        return 1;
    if (named) {
        /* A URI names one key: descriptions are read up to the match only, as a
         * signing process resolves it. A device that fails to answer is passed
         * over: another may hold the key. */
        pico_err_mark();
        if (pico_device_find_key(dev, uri, &one) == PICO_OK) {
            keys = &one;
            n = 1;
        }
        pico_err_pop_to_mark();
    } else if ((a->err = pico_device_keys(dev, &keys, &n)) != PICO_OK) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (key_matches(ctx, keys[i]) && !add_key(ctx, keys[i], want, names)) {
            a->err = PICO_E_NOMEM;
            return 1;
        }
    }
    if ((want & WANT_CERT) && !add_certs(ctx, dev, names)) {
        a->err = PICO_E_DEVICE;
        return 1;
    }
    /* a named object: the first device that has it */
    return named && ctx->n > before;
}

static int collect(store_ctx *ctx)
{
    const pico_uri *uri = &ctx->uri_holder->uri;
    collect_arg a = {ctx, PICO_OK};
    pico_err err;

    ctx->collected = 1;
    if (ctx->search.fingerprint != NULL) {
        /* OSSL_STORE_find always sends the digest (and OpenSSL 3.0 crashes when the
         * search has none: storeutl needs -sha1, -sha256, ...) */
        const char *name = ctx->search.digest;
        if (name == NULL || *name == '\0' ||
            (ctx->md = EVP_MD_fetch(pico_prov_sw(ctx->prov), name, PICO_SW_PROPQ)) == NULL) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "store search: fingerprint digest %s",
                            name != NULL && *name != '\0' ? name : "missing");
            return 0;
        }
    }
    /* A listing or a search over no device finds nothing; a named object must be found */
    err = listing(ctx) || searching(ctx)
              ? pico_device_foreach_listing(uri, &ctx->prov->cfg, collect_device, &a)
              : pico_device_foreach(uri, &ctx->prov->cfg, collect_device, &a);
    if (err != PICO_OK || a.err != PICO_OK)
        return 0;
    if (pico_log_enabled()) {
        char *where = pico_uri_format(uri); /* the path only: no secret */
        pico_log("STORE", "collect %s%s: %zu objects",
                 where != NULL ? where : "pico:", searching(ctx) ? " (search)" : "", ctx->n);
        free(where);
    }
    if (!listing(ctx) && !searching(ctx) && ctx->n == 0 && wanted(ctx) != 0) {
        char *where = pico_uri_format(uri);
        pico_prov_raise(ctx->prov, PICO_E_NOT_FOUND, "%s", where != NULL ? where : "object");
        free(where);
        return 0;
    }
    return 1;
}

/* The key's OpenSSL type name (keytypes.c); NULL for a type this provider does not serve. */
static const char *key_algorithm(const pico_key *k)
{
    const pico_prov_keytype *kt = pico_prov_keytype_of_key(k);

    return kt != NULL ? kt->name : NULL;
}

/* The data type of a reference: this provider's keymgmt only (provider.h). */
static const char *key_ref_type(const pico_key *k)
{
    const pico_prov_keytype *kt = pico_prov_keytype_of_key(k);

    return kt != NULL ? kt->ref_type : NULL;
}

static int emit_name(store_ctx *ctx, const store_item *it, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_key *k = it->key;
    pico_cert *c = it->cert;
    pico_device *dev = k != NULL ? k->dev : c->dev;
    const char *label = k != NULL ? k->label : c->label;
    pico_uri u;
    char *name, desc[384], subject[256];
    int object_type = OSSL_OBJECT_NAME, ok;
    OSSL_PARAM params[4];

    memset(&u, 0, sizeof(u));
    u.token = (char *)pico_device_name(dev);
    u.object = (char *)label;
    memcpy(u.id, k != NULL ? k->id : c->id, k != NULL ? k->id_len : c->id_len);
    u.id_len = k != NULL ? k->id_len : c->id_len;
    u.type = it->name_type;
    if ((name = pico_uri_format(&u)) == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_NOMEM, "name");
        return 0;
    }
    if (k != NULL)
        snprintf(desc, sizeof(desc), "%s: %s %d-bit key%s%s%s in reader '%s'",
                 it->name_type == PICO_OBJ_CERT     ? "certificate"
                 : it->name_type == PICO_OBJ_PUBLIC ? "public key"
                                                    : "private key",
                 key_algorithm(k), k->bits, label ? " '" : "", label ? label : "", label ? "'" : "",
                 pico_device_reader(dev));
    else
        snprintf(desc, sizeof(desc), "certificate: %s%s%s%s in reader '%s'",
                 X509_NAME_oneline(X509_get_subject_name(c->x509), subject, sizeof(subject)),
                 label ? " '" : "", label ? label : "", label ? "'" : "", pico_device_reader(dev));
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA, name, 0);
    params[2] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DESC, desc, 0);
    params[3] = OSSL_PARAM_construct_end();
    ok = cb(params, cbarg);
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
    EVP_PKEY *pub = NULL;
    OSSL_PARAM params[5], *p = params;

    if (it->cert != NULL)
        len = i2d_X509(it->cert->x509, &der);
    else if (pico_device_key_public(it->key, &pub) != PICO_OK)
        return 0;
    else if (it->kind == ITEM_CERT)
        len = i2d_X509(it->key->cert, &der);
    else if (!pico_rsa_pss_key(it->key))
        len = i2d_PUBKEY(pub, &der);
    else if ((pub = pico_rsa_pss_public(ctx->prov, it->key, pub)) == NULL)
        return 0; /* an RSA-PSS key's public key carries its restrictions (keymgmt_rsa.c) */
    else {
        len = i2d_PUBKEY(pub, &der);
        EVP_PKEY_free(pub);
    }
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

/*
 * A failed load leaves the store not at eof until the next call: libcrypto
 * marks an error only when a failed load is not followed by eof (store_lib.c),
 * and storeutl counts it only when eof does not come right after it.
 */
static int store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                      OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    store_ctx *ctx = loaderctx;
    const store_item *it;
    int ok = 0;

    ctx->failed = 0;
    if (!ctx->collected && !collect(ctx)) {
        ctx->failed = 1;
        return 0;
    }
    if (ctx->next >= ctx->n)
        return 0;
    it = &ctx->items[ctx->next++];
    switch (it->kind) {
    case ITEM_NAME:
        ok = emit_name(ctx, it, object_cb, object_cbarg);
        break;
    case ITEM_PRIVATE:
        ok = emit_private(ctx, it, object_cb, object_cbarg, pw_cb, pw_cbarg);
        break;
    case ITEM_PUBLIC:
    case ITEM_CERT:
        ok = emit_der(ctx, it, object_cb, object_cbarg);
        break;
    }
    ctx->failed = !ok;
    return ok;
}

static int store_eof(void *loaderctx)
{
    store_ctx *ctx = loaderctx;

    return ctx->collected && !ctx->failed && ctx->next >= ctx->n;
}

static int store_close(void *loaderctx)
{
    store_ctx *ctx = loaderctx;

    if (ctx == NULL)
        return 1;
    pico_pkey_free(ctx->uri_holder);
    OPENSSL_free(ctx->search.alias);
    X509_NAME_free(ctx->search.subject);
    X509_NAME_free(ctx->search.issuer);
    BN_free(ctx->search.serial);
    OPENSSL_free(ctx->search.digest);
    OPENSSL_free(ctx->search.fingerprint);
    EVP_MD_free(ctx->md);
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
