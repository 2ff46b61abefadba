/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoder: a device key's "private key" is a PEM block that holds only its
 * pico: URI (path attributes: never a PIN), so that `openssl genpkey -out`,
 * `openssl pkey -out` and every tool that writes a key file give a file that
 * nginx, curl and openssl load back through the decoder (decoder.c):
 *
 *   -----BEGIN PICO HSM KEY URI-----
 *   cGljbzp0b2tlbj1FU1BJQ09IU01UUjAwMDAxO29iamVjdD13ZWI7dHlwZT1wcml2YXRl
 *   -----END PICO HSM KEY URI-----
 *
 * A text encoder (`openssl pkey -text`, `openssl storeutl -text`,
 * EVP_PKEY_print_private) prints what a device key is: its type and size,
 * its URI (path only), the reader of its device, then its public half as the
 * software provider prints it. Public keys are encoded by the software
 * provider from the exported public half (SubjectPublicKeyInfo).
 *
 * A soft key (made in software by a key generation that named no device key,
 * with pico's key manager fetched first) is written as the software provider
 * writes it, encryption included: `openssl genpkey -aes256 -out` then gives
 * the same file with pico first as with default alone.
 */
#include <openssl/bio.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_encoder_newctx_fn uri_encoder_newctx;
static OSSL_FUNC_encoder_freectx_fn uri_encoder_freectx;
static OSSL_FUNC_encoder_does_selection_fn uri_encoder_does_selection;
static OSSL_FUNC_encoder_encode_fn uri_encoder_encode;
static OSSL_FUNC_encoder_does_selection_fn text_encoder_does_selection;
static OSSL_FUNC_encoder_encode_fn text_encoder_encode;
static OSSL_FUNC_encoder_set_ctx_params_fn encoder_set_ctx_params;
static OSSL_FUNC_encoder_settable_ctx_params_fn encoder_settable_ctx_params;

typedef struct encoder_ctx {
    pico_prov_ctx *prov;
    char *cipher, *cipher_props; /* for a soft key's encrypted PEM */
} encoder_ctx;

static void *uri_encoder_newctx(void *provctx)
{
    encoder_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx != NULL)
        ctx->prov = provctx;
    return ctx;
}

static void uri_encoder_freectx(void *vctx)
{
    encoder_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    OPENSSL_free(ctx->cipher);
    OPENSSL_free(ctx->cipher_props);
    OPENSSL_free(ctx);
}

static int set_string(char **slot, const OSSL_PARAM *p)
{
    const char *s = NULL;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
        return 0;
    OPENSSL_free(*slot);
    *slot = s != NULL && *s != '\0' ? OPENSSL_strdup(s) : NULL;
    return s == NULL || *s == '\0' || *slot != NULL;
}

/* The cipher (and its properties) an encrypted PEM asks for: used for soft keys only,
 * a device key's file holds nothing to encrypt. */
static int encoder_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    encoder_ctx *ctx = vctx;
    const OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_ENCODER_PARAM_CIPHER)) != NULL &&
        !set_string(&ctx->cipher, p))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ENCODER_PARAM_PROPERTIES)) != NULL &&
        !set_string(&ctx->cipher_props, p))
        return 0;
    return 1;
}

static const OSSL_PARAM *encoder_settable_ctx_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_ENCODER_PARAM_CIPHER, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ENCODER_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

/* A soft key, written by the software provider (output type, structure as asked). */
static int soft_encode(encoder_ctx *ctx, const pico_pkey *key, OSSL_CORE_BIO *cout,
                       const char *type, const char *structure, int selection,
                       OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    OSSL_ENCODER_CTX *ectx;
    BIO *out = NULL;
    int ok = 0;

    if ((ectx = OSSL_ENCODER_CTX_new_for_pkey(key->pub, selection, type, structure,
                                              PICO_SW_PROPQ)) == NULL ||
        OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
        (ctx->cipher != NULL &&
         !OSSL_ENCODER_CTX_set_cipher(ectx, ctx->cipher, ctx->cipher_props)) ||
        (cb != NULL && !OSSL_ENCODER_CTX_set_passphrase_cb(ectx, cb, cbarg)) ||
        (out = BIO_new_from_core_bio(ctx->prov->libctx, cout)) == NULL)
        goto end;
    ok = OSSL_ENCODER_to_bio(ectx, out);
end:
    BIO_free(out);
    OSSL_ENCODER_CTX_free(ectx);
    return ok;
}

static int uri_encoder_does_selection(void *ctx, int selection)
{
    (void)ctx;
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

/* The key's URI as a key file holds it: the path only (the query may carry a PIN), naming
 * the device the key is on. */
static char *key_path_uri(const pico_pkey *key, pico_obj_type type)
{
    pico_uri path = key->uri;

    path.token = (char *)pico_device_name(key->hsm->dev);
    path.reader = NULL;
    path.type = type;
    return pico_uri_format(&path);
}

static int uri_encoder_encode(void *vctx, OSSL_CORE_BIO *cout, const void *obj_raw,
                              const OSSL_PARAM obj_abstract[], int selection,
                              OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    encoder_ctx *ctx = vctx;
    const pico_pkey *key = obj_raw;
    char *uri = NULL;
    BIO *out = NULL;
    int ok = 0;

    (void)obj_abstract;
    if (key != NULL && key->soft)
        return soft_encode(ctx, key, cout, "PEM", "PrivateKeyInfo", selection, cb, cbarg);
    if (key == NULL || key->hsm == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0)
        return 0;
    if ((uri = key_path_uri(key, key->uri.type)) == NULL)
        goto end;
    if ((out = BIO_new_from_core_bio(ctx->prov->libctx, cout)) == NULL)
        goto end;
    ok = PEM_write_bio(out, PICO_PEM_URI_NAME, "", (const unsigned char *)uri, (long)strlen(uri)) >
         0;
end:
    BIO_free(out);
    free(uri);
    return ok;
}

static int text_encoder_does_selection(void *ctx, int selection)
{
    (void)ctx;
    return (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
}

/*
 * The private key stays on the device, so its "text" is where it is; the public half
 * comes from the software provider's printer, the same text `openssl pkey -pubin -text`
 * gives for the exported public key.
 */
static int text_encoder_encode(void *vctx, OSSL_CORE_BIO *cout, const void *obj_raw,
                               const OSSL_PARAM obj_abstract[], int selection,
                               OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    encoder_ctx *ctx = vctx;
    pico_pkey *key = (pico_pkey *)obj_raw;
    int private = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
    const pico_prov_keytype *kt = key != NULL ? pico_pkey_keytype(key) : NULL;
    EVP_PKEY *pub;
    char *uri = NULL;
    BIO *out = NULL;
    int ok = 0;

    (void)obj_abstract;
    if (key != NULL && key->soft)
        return soft_encode(ctx, key, cout, "TEXT", NULL, selection, cb, cbarg);
    if (key == NULL || (private && key->hsm == NULL))
        return 0;
    if ((pub = pico_pkey_public(key)) == NULL)
        return 0;
    if ((out = BIO_new_from_core_bio(ctx->prov->libctx, cout)) == NULL)
        goto end;
    if (key->hsm != NULL) {
        if ((uri = key_path_uri(key, private ? PICO_OBJ_PRIVATE : PICO_OBJ_PUBLIC)) == NULL)
            goto end;
        if (BIO_printf(out, "Pico HSM %s %s Key (%d bit)%s\n", kt != NULL ? kt->name : "",
                       private ? "Private" : "Public", EVP_PKEY_get_bits(pub),
                       private ? ", on the device" : "") <= 0 ||
            BIO_printf(out, "URI: %s\n", uri) <= 0 ||
            BIO_printf(out, "Reader: %s\n", pico_device_reader(key->hsm->dev)) <= 0)
            goto end;
    }
    ok = EVP_PKEY_print_public(out, pub, 0, NULL) > 0;
end:
    BIO_free(out);
    free(uri);
    return ok;
}

static const OSSL_DISPATCH pico_text_encoder_functions[] = {
    {OSSL_FUNC_ENCODER_NEWCTX, (void (*)(void))uri_encoder_newctx},
    {OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))uri_encoder_freectx},
    {OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))text_encoder_does_selection},
    {OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))text_encoder_encode},
    {OSSL_FUNC_ENCODER_SET_CTX_PARAMS, (void (*)(void))encoder_set_ctx_params},
    {OSSL_FUNC_ENCODER_SETTABLE_CTX_PARAMS, (void (*)(void))encoder_settable_ctx_params},
    {0, NULL},
};

static const OSSL_DISPATCH pico_uri_encoder_functions[] = {
    {OSSL_FUNC_ENCODER_NEWCTX, (void (*)(void))uri_encoder_newctx},
    {OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))uri_encoder_freectx},
    {OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))uri_encoder_does_selection},
    {OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))uri_encoder_encode},
    {OSSL_FUNC_ENCODER_SET_CTX_PARAMS, (void (*)(void))encoder_set_ctx_params},
    {OSSL_FUNC_ENCODER_SETTABLE_CTX_PARAMS, (void (*)(void))encoder_settable_ctx_params},
    {0, NULL},
};

/* Two encoders per key type (keytypes.c): its key file, its text. */
#define MAX_ENCODERS (2 * PICO_PROV_MAX_KEYTYPES)
static OSSL_ALGORITHM encoders[MAX_ENCODERS + 1];
static pthread_once_t encoders_once = PTHREAD_ONCE_INIT;

static void encoders_make(void)
{
    size_t i, n, e = 0;
    const pico_prov_keytype *kt = pico_prov_keytypes(&n);

    for (i = 0; i < n && e + 2 <= MAX_ENCODERS; i++) {
        encoders[e++] =
            (OSSL_ALGORITHM){kt[i].codec_names, PICO_PROPS ",output=pem,structure=PrivateKeyInfo",
                             pico_uri_encoder_functions, "pico: URI of a device key, as PEM"};
        encoders[e++] = (OSSL_ALGORITHM){kt[i].codec_names, PICO_PROPS ",output=text",
                                         pico_text_encoder_functions,
                                         "device key: type, URI, reader, public key"};
    }
}

const OSSL_ALGORITHM *pico_encoders(void)
{
    pthread_once(&encoders_once, encoders_make);
    return encoders;
}
