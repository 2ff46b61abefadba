/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EC key management: device keys (generated with `openssl genpkey -algorithm
 * EC -pkeyopt group:P-384`, or found by the store) and imported public keys.
 * Signatures go to ECDSA, key agreement to ECDH, both in this provider.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <string.h>

#include "cvc.h"
#include "provider.h"

static OSSL_FUNC_keymgmt_new_fn ec_keymgmt_new;
static OSSL_FUNC_keymgmt_import_fn ec_keymgmt_import;
static OSSL_FUNC_keymgmt_import_types_fn ec_keymgmt_types;
static OSSL_FUNC_keymgmt_gettable_params_fn ec_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_set_params_fn ec_keymgmt_set_params;
static OSSL_FUNC_keymgmt_settable_params_fn ec_keymgmt_settable_params;
static OSSL_FUNC_keymgmt_query_operation_name_fn ec_keymgmt_query_operation_name;
static OSSL_FUNC_keymgmt_gen_init_fn ec_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_set_params_fn ec_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn ec_keymgmt_gen_settable_params;

static void *ec_keymgmt_new(void *provctx)
{
    return pico_pkey_new(provctx, PICO_KEY_EC);
}

static int ec_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    return pico_keymgmt_import_pub(keydata, "EC", selection, params);
}

static const OSSL_PARAM *ec_keymgmt_types(int selection)
{
    static const OSSL_PARAM types[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)selection;
    return types;
}

static const OSSL_PARAM *ec_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

/*
 * The public point of a key that is not on the device (EVP_PKEY_set1_encoded_public_key,
 * as CMS sets the originator's key on a copy of the recipient key's parameters). Without
 * it OpenSSL 3.0 takes the call as done and the point is lost.
 */
static int ec_keymgmt_set_params(void *keydata, const OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    EVP_PKEY *pub = NULL;
    int ok = 0;

    if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY) == NULL)
        return 1;
    if (key->hsm != NULL) {
        pico_prov_raise(key->prov, PICO_E_ARGS, "a device key's public point is the device's");
        return 0;
    }
    if (key->pub == NULL) {
        pico_prov_raise(key->prov, PICO_E_ARGS, "a public point needs a curve first");
        return 0;
    }
    /* a copy: the old public key may be shared with other key objects */
    if ((pub = EVP_PKEY_dup(key->pub)) == NULL || !EVP_PKEY_set_params(pub, (OSSL_PARAM *)params)) {
        pico_prov_raise(key->prov, PICO_E_ARGS, "public point not on the key's curve");
        goto end;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pub;
    pub = NULL;
    ok = 1;
end:
    EVP_PKEY_free(pub);
    return ok;
}

static const OSSL_PARAM *ec_keymgmt_settable_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

static const char *ec_keymgmt_query_operation_name(int operation_id)
{
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
        return "ECDSA";
    case OSSL_OP_KEYEXCH:
        return "ECDH";
    }
    return NULL;
}

static int ec_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const OSSL_PARAM *p;
    const char *name = NULL;
    size_t i;
    int nid;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME)) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &name))
            return 0;
        /* "P-256", "prime256v1", "secp384r1", "brainpoolP256r1": the device's list (6.3)
         * is by OpenSSL short name */
        if ((nid = EC_curve_nist2nid(name)) == NID_undef && (nid = OBJ_sn2nid(name)) == NID_undef)
            nid = OBJ_ln2nid(name);
        for (i = 0; nid != NID_undef && pico_cvc_curves[i] != NULL; i++)
            if (strcmp(pico_cvc_curves[i], OBJ_nid2sn(nid)) == 0)
                break;
        if (nid == NID_undef || pico_cvc_curves[i] == NULL) {
            pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "curve %s", name);
            return 0;
        }
        snprintf(ctx->curve, sizeof(ctx->curve), "%s", pico_cvc_curves[i]);
        ctx->spec.curve = ctx->curve;
    }
    return pico_keymgmt_gen_set_common(ctx, params);
}

static const OSSL_PARAM *ec_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        PICO_GEN_SETTABLE_COMMON,
        OSSL_PARAM_END,
    };
    (void)genctx;
    (void)provctx;
    return settable;
}

static void *ec_keymgmt_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    pico_genctx *ctx;

    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return NULL; /* parameters alone are not generated on the device */
    if ((ctx = pico_keymgmt_gen_init(provctx, PICO_KEY_EC)) == NULL)
        return NULL;
    ctx->spec.curve = "prime256v1";
    if (!ec_keymgmt_gen_set_params(ctx, params)) {
        pico_keymgmt_gen_cleanup(ctx);
        return NULL;
    }
    return ctx;
}

const OSSL_DISPATCH pico_ec_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ec_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))pico_keymgmt_free},
    {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))pico_keymgmt_dup},
    {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))pico_keymgmt_load},
    {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))pico_keymgmt_has},
    {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))pico_keymgmt_match},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))ec_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))pico_keymgmt_export},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))pico_keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_keymgmt_gettable_params},
    {OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))ec_keymgmt_set_params},
    {OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))ec_keymgmt_settable_params},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_keymgmt_query_operation_name},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ec_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ec_keymgmt_gen_set_params},
    {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))ec_keymgmt_gen_settable_params},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))pico_keymgmt_gen},
    {OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))pico_keymgmt_gen_cleanup},
    {0, NULL},
};
