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
 * Public keys are encoded by the software provider from the exported public
 * half (SubjectPublicKeyInfo, text).
 */
#include <openssl/bio.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_encoder_newctx_fn uri_encoder_newctx;
static OSSL_FUNC_encoder_freectx_fn uri_encoder_freectx;
static OSSL_FUNC_encoder_does_selection_fn uri_encoder_does_selection;
static OSSL_FUNC_encoder_encode_fn uri_encoder_encode;

static void *uri_encoder_newctx(void *provctx)
{
    return provctx;
}

static void uri_encoder_freectx(void *ctx)
{
    (void)ctx;
}

static int uri_encoder_does_selection(void *ctx, int selection)
{
    (void)ctx;
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

static int uri_encoder_encode(void *vctx, OSSL_CORE_BIO *cout, const void *obj_raw,
                              const OSSL_PARAM obj_abstract[], int selection,
                              OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    pico_prov_ctx *prov = vctx;
    const pico_pkey *key = obj_raw;
    char *uri = NULL;
    pico_uri path;
    BIO *out = NULL;
    int ok = 0;

    (void)obj_abstract;
    (void)cb;
    (void)cbarg;
    if (key == NULL || key->hsm == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0)
        return 0;
    /* the path only (the query may carry a PIN), naming the device the key is on */
    path = key->uri;
    path.token = (char *)pico_device_name(key->hsm->dev);
    path.reader = NULL;
    if ((uri = pico_uri_format(&path)) == NULL)
        goto end;
    if ((out = BIO_new_from_core_bio(prov->libctx, cout)) == NULL)
        goto end;
    ok = PEM_write_bio(out, PICO_PEM_URI_NAME, "", (const unsigned char *)uri, (long)strlen(uri)) >
         0;
end:
    BIO_free(out);
    free(uri);
    return ok;
}

const OSSL_DISPATCH pico_uri_encoder_functions[] = {
    {OSSL_FUNC_ENCODER_NEWCTX, (void (*)(void))uri_encoder_newctx},
    {OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))uri_encoder_freectx},
    {OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))uri_encoder_does_selection},
    {OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))uri_encoder_encode},
    {0, NULL},
};

#define URI_ENCODER(names)                                                                         \
    {                                                                                              \
        names, PICO_PROPS ",output=pem,structure=PrivateKeyInfo", pico_uri_encoder_functions,      \
            "pico: URI of a device key, as PEM"                                                    \
    }

const OSSL_ALGORITHM pico_encoders[] = {
    URI_ENCODER("RSA:rsaEncryption"),
    URI_ENCODER("RSA-PSS:RSASSA-PSS"),
    URI_ENCODER("EC:id-ecPublicKey"),
    {NULL, NULL, NULL, NULL},
};
