/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoder: a PEM "PICO HSM KEY URI" block (written by encoder.c) back to the
 * device key it names, so that a key file works wherever a key file is
 * expected (nginx ssl_certificate_key, curl --key, openssl -key FILE). The
 * PIN comes from the URI's query, openssl.cnf, or the application's
 * passphrase callback (nginx ssl_password_file, -passin).
 */
#include <openssl/bio.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider.h"

static OSSL_FUNC_decoder_newctx_fn uri_decoder_newctx;
static OSSL_FUNC_decoder_freectx_fn uri_decoder_freectx;
static OSSL_FUNC_decoder_does_selection_fn uri_decoder_does_selection;
static OSSL_FUNC_decoder_decode_fn pem_decoder_decode;
static OSSL_FUNC_decoder_export_object_fn uri_decoder_export_object;

static void *uri_decoder_newctx(void *provctx)
{
    return provctx;
}

static void uri_decoder_freectx(void *ctx)
{
    (void)ctx;
}

static int uri_decoder_does_selection(void *ctx, int selection)
{
    (void)ctx;
    return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
}

/*
 * Stage 1 (input pem, output "DER" with structure pico-uri): our PEM block to
 * the bare URI. Its output type is DER, not a name of our own, because that
 * is what the file: store's decoder chain is built from (OSSL_STORE, and so
 * every openssl command that reads a key file): it takes only decoders whose
 * output feeds its DER-to-object decoder, and hands what they decode to
 * ossl_store_handle_load_result. A key reference cannot go that way (the
 * file: store belongs to the default provider and has no export_object, so a
 * reference reaches no keymgmt of ours), but data can: with no reference the
 * store decodes the bytes again as a key (OSSL_DECODER_CTX_new_for_pkey),
 * where stage 2 hands the reference to this provider's keymgmt. The
 * structure name keeps every other DER decoder off these bytes. Not our
 * block: "nothing decoded" (return 1 without an object), so the next decoder
 * gets its turn, with no error left behind.
 */
static int pem_decoder_decode(void *vctx, OSSL_CORE_BIO *cin, int selection, OSSL_CALLBACK *data_cb,
                              void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    pico_prov_ctx *prov = vctx;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    BIO *in = NULL;
    int object_type = OSSL_OBJECT_PKEY, ok = 1;
    OSSL_PARAM params[4];

    (void)selection;
    (void)pw_cb;
    (void)pw_cbarg;
    if ((in = BIO_new_from_core_bio(prov->libctx, cin)) == NULL)
        return 0;
    pico_err_mark();
    if (PEM_read_bio(in, &name, &header, &data, &len) <= 0 ||
        strcmp(name, PICO_PEM_URI_NAME) != 0) {
        pico_err_pop_to_mark();
        goto end;
    }
    pico_err_pop_to_mark();
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, data, (size_t)len);
    params[2] =
        OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_STRUCTURE, PICO_URI_STRUCTURE, 0);
    params[3] = OSSL_PARAM_construct_end();
    ok = data_cb(params, data_cbarg);
end:
    OPENSSL_free(name);
    OPENSSL_free(header);
    /* the URI may carry its PIN (pin-value=) */
    if (data != NULL)
        OPENSSL_clear_free(data, (size_t)len);
    BIO_free(in);
    return ok;
}

/*
 * Stage 2 (input DER, structure pico-uri): the URI to the device key, handed
 * on by reference with a data type only this provider's keymgmt answers to,
 * so that the decoder's key constructor (decoder_pkey.c) loads it with this
 * provider's keymgmt in either provider order.
 */
static int uri_decode(pico_prov_ctx *prov, const pico_prov_keytype *kt, OSSL_CORE_BIO *cin,
                      OSSL_CALLBACK *data_cb, void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                      void *pw_cbarg)
{
    char uri[4096], more;
    size_t len = 0, n;
    BIO *in = NULL;
    pico_pkey *holder = NULL, *key = NULL;
    pico_key *hsm = NULL;
    pico_err err;
    int object_type = OSSL_OBJECT_PKEY, ok = 1;
    OSSL_PARAM params[4];

    if ((in = BIO_new_from_core_bio(prov->libctx, cin)) == NULL)
        return 0;
    while (len < sizeof(uri) - 1 && BIO_read_ex(in, uri + len, sizeof(uri) - 1 - len, &n) && n > 0)
        len += n;
    uri[len] = '\0';
    if (!pico_uri_is_pico(uri)) {
        pico_log("DECODER", "not a pico: uri (%zu bytes)", len);
        goto end;
    }
    /*
     * Every error below says what is wrong with the key file without its text: the
     * query may hold the PIN (pin-value=). A parse error names the attribute only, a
     * key that is not there the URI's path only.
     */
    if (len == sizeof(uri) - 1 && BIO_read_ex(in, &more, 1, &n) && n > 0) {
        /* cut here, a pin-value would lose its end and cost a PIN try */
        pico_prov_raise(prov, PICO_E_URI, "key file uri longer than %zu bytes", sizeof(uri) - 1);
        ok = 0;
        goto end;
    }
    if ((holder = pico_pkey_new(prov, kt->type)) == NULL || !pico_pkey_set_uri(holder, uri)) {
        ok = 0;
        goto end;
    }
    if ((err = pico_device_find_key_any(&holder->uri, &prov->cfg, &hsm)) != PICO_OK) {
        if (err == PICO_E_NOT_FOUND) {
            /* the path only: the query may hold a PIN */
            char *where = pico_uri_format(&holder->uri);
            pico_prov_raise(prov, PICO_E_NOT_FOUND, "%s", where != NULL ? where : "key");
            free(where);
        }
        ok = 0;
        goto end;
    }
    if (hsm->type != kt->type)
        goto end; /* another key type's decoder takes it */
    if (pico_pkey_from_key(prov, hsm, &holder->uri, pw_cb, pw_cbarg, &key) != PICO_OK) {
        ok = 0;
        goto end;
    }
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 (char *)pico_pkey_keytype(key)->ref_type, 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key));
    params[3] = OSSL_PARAM_construct_end();
    ok = data_cb(params, data_cbarg);
end:
    pico_pkey_free(key);
    pico_pkey_free(holder);
    OPENSSL_cleanse(uri, sizeof(uri));
    BIO_free(in);
    return ok;
}

/* Another provider's keymgmt asked for the key: it gets the public half. */
static int uri_decoder_export_object(void *ctx, const void *objref, size_t objref_sz,
                                     OSSL_CALLBACK *export_cb, void *export_cbarg)
{
    pico_pkey *key;
    int ok;

    (void)ctx;
    if ((key = pico_keymgmt_load(objref, objref_sz)) == NULL)
        return 0;
    ok = pico_keymgmt_export(key,
                             OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS,
                             export_cb, export_cbarg);
    pico_keymgmt_free(key);
    return ok;
}

#define URI_DECODER_COMMON                                                                         \
    {OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))uri_decoder_newctx},                                \
        {OSSL_FUNC_DECODER_FREECTX, (void (*)(void))uri_decoder_freectx},                          \
        {OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))uri_decoder_does_selection},            \
    {                                                                                              \
        OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))uri_decoder_export_object                 \
    }

static const OSSL_DISPATCH pem_decoder_functions[] = {
    {OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))uri_decoder_newctx},
    {OSSL_FUNC_DECODER_FREECTX, (void (*)(void))uri_decoder_freectx},
    {OSSL_FUNC_DECODER_DECODE, (void (*)(void))pem_decoder_decode},
    {0, NULL},
};

/*
 * One stage-2 decoder per key type (keytypes.c), each taking its own type's
 * keys: a decoder's functions are told nothing of the algorithm they were
 * fetched as, so each row has a slot of its own, its index baked in.
 */
#define MAX_SLOTS PICO_PROV_MAX_KEYTYPES /* and as many SLOT lines below */
#define SLOT(i)                                                                                    \
    static int uri_decode_##i(void *ctx, OSSL_CORE_BIO *cin, int selection, OSSL_CALLBACK *cb,     \
                              void *cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)        \
    {                                                                                              \
        size_t n;                                                                                  \
        (void)selection;                                                                           \
        return uri_decode(ctx, &pico_prov_keytypes(&n)[i], cin, cb, cbarg, pw_cb, pw_cbarg);       \
    }                                                                                              \
    static const OSSL_DISPATCH uri_decoder_##i[] = {                                               \
        {OSSL_FUNC_DECODER_DECODE, (void (*)(void))uri_decode_##i}, URI_DECODER_COMMON, {0, NULL}}
/* clang-format off */
SLOT(0); SLOT(1); SLOT(2); SLOT(3); SLOT(4); SLOT(5); SLOT(6); SLOT(7);
SLOT(8); SLOT(9); SLOT(10); SLOT(11); SLOT(12); SLOT(13); SLOT(14); SLOT(15);
static const OSSL_DISPATCH *const slots[MAX_SLOTS] = {
    uri_decoder_0, uri_decoder_1, uri_decoder_2, uri_decoder_3, uri_decoder_4, uri_decoder_5,
    uri_decoder_6, uri_decoder_7, uri_decoder_8, uri_decoder_9, uri_decoder_10, uri_decoder_11,
    uri_decoder_12, uri_decoder_13, uri_decoder_14, uri_decoder_15,
};
/* clang-format on */

#define URI_PROPS PICO_PROPS ",input=der,structure=" PICO_URI_STRUCTURE

/* "NAME:PICO-NAME", the type's OpenSSL name and its reference type */
static char names[MAX_SLOTS][64];
static OSSL_ALGORITHM decoders[MAX_SLOTS + 2];
static pthread_once_t decoders_once = PTHREAD_ONCE_INIT;

static void decoders_make(void)
{
    size_t i, j, n, d = 1;
    const pico_prov_keytype *kt = pico_prov_keytypes(&n);

    decoders[0] = (OSSL_ALGORITHM){"DER", PICO_PROPS ",input=pem", pem_decoder_functions,
                                   "PEM file holding a pico: URI"};
    for (i = 0; i < n && i < MAX_SLOTS; i++) {
        /* a flavour of a type listed before it (RSA-PSS of RSA) is that type's decoder's */
        for (j = 0; j < i && kt[j].type != kt[i].type; j++)
            ;
        if (j < i)
            continue;
        snprintf(names[i], sizeof(names[i]), "%s:%s", kt[i].name, kt[i].ref_type);
        decoders[d++] =
            (OSSL_ALGORITHM){names[i], URI_PROPS, slots[i], "pico: URI to a device key"};
    }
}

const OSSL_ALGORITHM *pico_decoders(void)
{
    pthread_once(&decoders_once, decoders_make);
    return decoders;
}
