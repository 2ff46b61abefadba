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
static OSSL_FUNC_keymgmt_import_types_fn ec_keymgmt_types;
static OSSL_FUNC_keymgmt_gettable_params_fn ec_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_settable_params_fn ec_keymgmt_settable_params;
static OSSL_FUNC_keymgmt_query_operation_name_fn ec_keymgmt_query_operation_name;
static OSSL_FUNC_keymgmt_gen_init_fn ec_keymgmt_gen_init;
static OSSL_FUNC_keymgmt_gen_set_params_fn ec_keymgmt_gen_set_params;
static OSSL_FUNC_keymgmt_gen_settable_params_fn ec_keymgmt_gen_settable_params;
static OSSL_FUNC_keymgmt_gen_set_template_fn ec_keymgmt_gen_set_template;
static OSSL_FUNC_keymgmt_settable_params_fn ec_keymgmt_settable_params;

static void *ec_keymgmt_new(void *provctx)
{
    return pico_pkey_new(provctx, PICO_KEY_EC);
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

/* Keys not on the device only: libssl sets a peer's point on a key made from parameters */
static const OSSL_PARAM *ec_keymgmt_settable_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
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

/* The curve must be one the device makes (6.3, by OpenSSL short name): device keys only. */
static int ec_gen_check(pico_genctx *ctx)
{
    const char *name = ctx->curve;
    size_t i;
    int nid;

    /* "P-256", "prime256v1", "secp384r1", "brainpoolP256r1" */
    if ((nid = EC_curve_nist2nid(name)) == NID_undef && (nid = OBJ_sn2nid(name)) == NID_undef)
        nid = OBJ_ln2nid(name);
    for (i = 0; nid != NID_undef && pico_cvc_curves[i] != NULL; i++)
        if (strcmp(pico_cvc_curves[i], OBJ_nid2sn(nid)) == 0)
            break;
    if (nid == NID_undef || pico_cvc_curves[i] == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_UNSUPPORTED, "curve %s: not one the device makes", name);
        return 0;
    }
    ctx->spec.curve = pico_cvc_curves[i];
    return 1;
}

static int ec_keymgmt_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    pico_genctx *ctx = genctx;
    const OSSL_PARAM *p;
    const char *name = NULL;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME)) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) || strlen(name) >= sizeof(ctx->curve))
            return 0;
        strcpy(ctx->curve, name);
    }
    return pico_keymgmt_gen_set_common(ctx, params);
}

/* A key on the template's curve (libssl's server key share: the client's group). Only the
 * group name is passed on, as the default provider takes only the group from a template:
 * all of the template's parameters included group-check-type, which OpenSSL 3.0's EC
 * generator copies and never frees (LeakSanitizer: 8 bytes per TLS handshake). */
static int ec_keymgmt_gen_set_template(void *genctx, void *templ)
{
    pico_pkey *key = templ;
    char group[64];
    OSSL_PARAM params[2];
    EVP_PKEY *pub;

    if ((pub = pico_pkey_public(key)) == NULL ||
        EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1)
        return 0;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_end();
    return ec_keymgmt_gen_set_params(genctx, params);
}

static const OSSL_PARAM *ec_keymgmt_gen_settable_params(void *genctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        /* for soft keys, as the default provider takes them */
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
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

    /* parameters alone (libssl's peer keys) are soft keys: see pico_keymgmt_gen */
    if ((ctx = pico_keymgmt_gen_init(provctx, PICO_KEY_EC, "EC", selection)) == NULL)
        return NULL;
    strcpy(ctx->curve, "prime256v1");
    ctx->check = ec_gen_check;
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
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))pico_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))pico_keymgmt_export},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_keymgmt_types},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))pico_keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_keymgmt_gettable_params},
    {OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))pico_keymgmt_set_params},
    {OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))ec_keymgmt_settable_params},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_keymgmt_query_operation_name},
    {OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ec_keymgmt_gen_init},
    {OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ec_keymgmt_gen_set_params},
    {OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))ec_keymgmt_gen_set_template},
    {OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))ec_keymgmt_gen_settable_params},
    {OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))pico_keymgmt_gen},
    {OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))pico_keymgmt_gen_cleanup},
    {0, NULL},
};
