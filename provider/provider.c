/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The provider's entry point: configuration from openssl.cnf, the algorithm
 * tables, and the route from common/'s errors to OpenSSL's error stack.
 *
 *   [pico_sect]
 *   module = /usr/lib/x86_64-linux-gnu/ossl-modules/pico.so
 *   pico-reader = Pico            # default reader (substring of its name)
 *   pico-pin-source = file:/etc/pico/pin
 *   pico-cache-pin = yes          # hold the PIN to log in again after a card reset
 *   pico-pka-key = file:/etc/pico/pka.pem pkcs11:token=t;object=k   # PKA signers
 *   pico-pka-pin-source = file:/etc/pico/pka-pin                    # their own PIN
 *   pico-debug = /var/log/pico.log
 *   activate = 1
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cvc.h"
#include "log.h"
#include "provider.h"

static OSSL_FUNC_provider_teardown_fn pico_teardown;
static OSSL_FUNC_provider_gettable_params_fn pico_gettable_params;
static OSSL_FUNC_provider_get_params_fn pico_get_params;
static OSSL_FUNC_provider_query_operation_fn pico_query_operation;
static OSSL_FUNC_provider_get_reason_strings_fn pico_get_reason_strings;
static OSSL_FUNC_provider_get_capabilities_fn pico_get_capabilities;

#define ALG(names, funcs)                                                                          \
    {                                                                                              \
        names, PICO_PROPS, funcs, NULL                                                             \
    }

static const OSSL_ALGORITHM pico_store[] = {
    ALG("pico", pico_store_functions),
    {NULL, NULL, NULL, NULL},
};

/* The algorithm tables of the key types (keytypes.c), made once. */
#define MAX_KEYTYPES PICO_PROV_MAX_KEYTYPES
static OSSL_ALGORITHM pico_keymgmt[MAX_KEYTYPES + 1], pico_signature[MAX_KEYTYPES + 1],
    pico_asym_cipher[MAX_KEYTYPES + 1], pico_keyexch[MAX_KEYTYPES + 1];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void table_add(OSSL_ALGORITHM *table, const char *names, const OSSL_DISPATCH *funcs)
{
    OSSL_ALGORITHM *a;

    if (names == NULL || funcs == NULL)
        return;
    for (a = table; a->algorithm_names != NULL; a++)
        ;
    a->algorithm_names = names;
    a->property_definition = PICO_PROPS;
    a->implementation = funcs;
}

static void tables_make(void)
{
    size_t i, n;
    const pico_prov_keytype *kt = pico_prov_keytypes(&n);

    for (i = 0; i < n && i < MAX_KEYTYPES; i++) {
        table_add(pico_keymgmt, kt[i].keymgmt_names, kt[i].keymgmt);
        table_add(pico_signature, kt[i].sig_names, kt[i].signature);
        table_add(pico_asym_cipher, kt[i].cipher_names, kt[i].cipher);
        table_add(pico_keyexch, kt[i].exch_names, kt[i].keyexch);
    }
}

static OSSL_ITEM reason_strings[PICO_E_MAX];

static const OSSL_ALGORITHM *pico_query_operation(void *provctx, int operation_id, int *no_store)
{
    (void)provctx;
    *no_store = 0;
    pthread_once(&tables_once, tables_make);
    switch (operation_id) {
    case OSSL_OP_KEYMGMT:
        return pico_keymgmt;
    case OSSL_OP_SIGNATURE:
        return pico_signature;
    case OSSL_OP_ASYM_CIPHER:
        return pico_asym_cipher;
    case OSSL_OP_KEYEXCH:
        return pico_keyexch;
    case OSSL_OP_ENCODER:
        return pico_encoders();
    case OSSL_OP_DECODER:
        return pico_decoders();
    case OSSL_OP_STORE:
        return pico_store;
    }
    return NULL;
}

static const OSSL_ITEM *pico_get_reason_strings(void *provctx)
{
    (void)provctx;
    return reason_strings;
}

static const OSSL_PARAM *pico_gettable_params(void *provctx)
{
    static const OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
        OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return params;
}

static int pico_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    (void)provctx;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "Pico HSM provider"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_VERSION))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_STRING))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) != NULL &&
        !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

OSSL_LIB_CTX *pico_prov_sw(pico_prov_ctx *prov)
{
    OSSL_LIB_CTX *sw = NULL;
    EVP_KEYMGMT *probe;
    const char *propq;

    if (CRYPTO_THREAD_read_lock(prov->sw_lock)) {
        sw = prov->sw;
        CRYPTO_THREAD_unlock(prov->sw_lock);
    }
    if (sw != NULL)
        return sw;
    if (!CRYPTO_THREAD_write_lock(prov->sw_lock))
        return prov->libctx;
    if (prov->sw == NULL) {
        /* Does the application have a software provider beside this one? */
        pico_err_mark();
        probe = EVP_KEYMGMT_fetch(prov->libctx, "EC", PICO_SW_PROPQ);
        pico_err_pop_to_mark();
        if (probe != NULL) {
            prov->sw = prov->libctx;
        } else if ((prov->own = pico_cvc_libctx(&propq)) != NULL) {
            /* common/'s own context, with the default provider, which outlives this one */
            pico_log("PROVIDER",
                     "no software provider loaded: the default one in a private context");
            prov->sw = prov->own;
        } else {
            prov->sw = prov->libctx; /* operations then fail, each with its own error */
        }
        EVP_KEYMGMT_free(probe);
    }
    sw = prov->sw;
    CRYPTO_THREAD_unlock(prov->sw_lock);
    return sw;
}

struct group_fwd {
    OSSL_CALLBACK *cb;
    void *arg;
    int ok;
};

/* Hands on the software provider's TLS groups whose keys a key manager of pico makes. */
static int group_forward(const OSSL_PARAM params[], void *arg)
{
    struct group_fwd *fwd = arg;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ALG);
    const char *alg = NULL;
    const pico_prov_keytype *kt;

    if (p == NULL || !OSSL_PARAM_get_utf8_string_ptr(p, &alg) ||
        (kt = pico_prov_keytype_by_name(alg)) == NULL || kt->keymgmt == NULL)
        return 1;
    if (!fwd->cb(params, fwd->arg))
        fwd->ok = 0;
    return fwd->ok;
}

static int group_provider(OSSL_PROVIDER *p, void *arg)
{
    if (strcmp(OSSL_PROVIDER_get0_name(p), PICO_PROV_NAME) == 0)
        return 1;
    return OSSL_PROVIDER_get_capabilities(p, "TLS-GROUP", group_forward, arg) &&
           ((struct group_fwd *)arg)->ok;
}

/*
 * TLS-GROUP: libssl keeps a provider's groups only if the key manager it
 * fetches for the group's algorithm (EC, X25519, X448) comes from that
 * provider, so with pico first (or preferred) the groups of the key types
 * pico has a key manager for must be declared here or TLS loses them (RFC
 * 8422 ECDHE, TLS 1.3 key shares). They are the software provider's own list, forwarded as it
 * declares it: the same groups, ids and versions as with that provider
 * alone; their ephemeral keys are made in software (soft keys).
 */
static int pico_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb,
                                 void *arg)
{
    /* A provider of the software context may be this module again (loaded under
     * another name): it must not forward to itself */
    static __thread int forwarding;
    struct group_fwd fwd = {cb, arg, 1};
    int ok;

    if (strcmp(capability, "TLS-GROUP") != 0)
        return 0;
    if (forwarding)
        return 1;
    forwarding = 1;
    ok = OSSL_PROVIDER_do_all(pico_prov_sw(provctx), group_provider, &fwd) && fwd.ok;
    forwarding = 0;
    return ok;
}

/*
 * The live provider instances (one per library context that loaded pico).
 * common/'s errors are raised against one of them: they share the module and
 * so its reason strings, and OpenSSL's error queue is the calling thread's
 * whichever handle raises. When that instance goes, another takes over.
 */
static pthread_mutex_t instances_lock = PTHREAD_MUTEX_INITIALIZER;
static pico_prov_ctx *instances;

void pico_prov_vraise(pico_prov_ctx *prov, pico_err code, const char *file, int line,
                      const char *func, const char *fmt, va_list ap)
{
    if (prov == NULL || prov->core_new_error == NULL)
        return;
    prov->core_new_error(prov->handle);
    prov->core_set_error_debug(prov->handle, file, line, func);
    prov->core_vset_error(prov->handle, (uint32_t)code, fmt, ap);
}

void pico_prov_raise_at(pico_prov_ctx *prov, pico_err code, const char *file, int line,
                        const char *func, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pico_err_trace(code, line, func, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    pico_prov_vraise(prov, code, file, line, func, fmt, ap);
    va_end(ap);
}

static void common_error(void *arg, pico_err code, const char *file, int line, const char *func,
                         const char *fmt, va_list ap)
{
    (void)arg;
    pthread_mutex_lock(&instances_lock);
    pico_prov_vraise(instances, code, file, line, func, fmt, ap);
    pthread_mutex_unlock(&instances_lock);
}

static void instance_add(pico_prov_ctx *prov)
{
    pthread_mutex_lock(&instances_lock);
    prov->next = instances;
    instances = prov;
    pico_err_set_handler(common_error, NULL);
    pthread_mutex_unlock(&instances_lock);
}

static void instance_remove(pico_prov_ctx *prov)
{
    pico_prov_ctx **pp;

    pthread_mutex_lock(&instances_lock);
    for (pp = &instances; *pp != NULL && *pp != prov; pp = &(*pp)->next)
        ;
    if (*pp != NULL)
        *pp = prov->next;
    if (instances == NULL)
        pico_err_set_handler(NULL, NULL);
    pthread_mutex_unlock(&instances_lock);
}

static void pico_teardown(void *provctx)
{
    pico_prov_ctx *prov = provctx;

    instance_remove(prov);
    pico_device_cleanup();
    CRYPTO_THREAD_lock_free(prov->sw_lock);
    OSSL_LIB_CTX_free(prov->libctx);
    free(prov->cfg_reader);
    free(prov->cfg_pin_source);
    free(prov->cfg_pka_keys);
    free(prov->cfg_pka_pin_source);
    free(prov);
}

static const OSSL_DISPATCH pico_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))pico_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))pico_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))pico_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))pico_query_operation},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))pico_get_reason_strings},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))pico_get_capabilities},
    {0, NULL},
};

static int yes(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
                         strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0);
}

/* Reads the module's section of openssl.cnf. */
static int read_config(pico_prov_ctx *prov, OSSL_FUNC_core_get_params_fn *get_params)
{
    char *reader = NULL, *pin_source = NULL, *debug = NULL, *cache = NULL, *pka = NULL,
         *pka_source = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_ptr("pico-pka-key", &pka, 0),
        OSSL_PARAM_utf8_ptr("pico-pka-pin-source", &pka_source, 0),
        OSSL_PARAM_utf8_ptr("pico-reader", &reader, 0),
        OSSL_PARAM_utf8_ptr("pico-pin-source", &pin_source, 0),
        OSSL_PARAM_utf8_ptr("pico-debug", &debug, 0),
        OSSL_PARAM_utf8_ptr("pico-cache-pin", &cache, 0),
        OSSL_PARAM_END,
    };

    if (get_params == NULL || !get_params(prov->handle, params))
        return 1;         /* no section: defaults */
    pico_log_init(debug); /* NULL: PICO_DEBUG from the environment */
    if ((reader != NULL && (prov->cfg_reader = strdup(reader)) == NULL) ||
        (pin_source != NULL && (prov->cfg_pin_source = strdup(pin_source)) == NULL) ||
        (pka != NULL && (prov->cfg_pka_keys = strdup(pka)) == NULL) ||
        (pka_source != NULL && (prov->cfg_pka_pin_source = strdup(pka_source)) == NULL))
        return 0;
    prov->cfg.pka_keys = prov->cfg_pka_keys;
    prov->cfg.pka_pin_source = prov->cfg_pka_pin_source;
    prov->cfg.default_reader = prov->cfg_reader;
    prov->cfg.pin_source = prov->cfg_pin_source;
    prov->cfg.cache_pin = yes(cache);
    pico_log("PROVIDER", "init reader=%s pin-source=%s cache-pin=%d pka-keys=%s",
             reader ? reader : "(any)", pin_source ? "(set)" : "(none)", prov->cfg.cache_pin,
             pka ? "(set)" : "(none)");
    return 1;
}

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    const OSSL_DISPATCH *f;
    pico_prov_ctx *prov;
    int i;

    if ((prov = calloc(1, sizeof(*prov))) == NULL)
        return 0;
    prov->handle = handle;
    for (f = in; f->function_id != 0; f++) {
        switch (f->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            get_params = OSSL_FUNC_core_get_params(f);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            prov->core_new_error = OSSL_FUNC_core_new_error(f);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            prov->core_set_error_debug = OSSL_FUNC_core_set_error_debug(f);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            prov->core_vset_error = OSSL_FUNC_core_vset_error(f);
            break;
        }
    }
    for (i = 1; i < PICO_E_MAX; i++) {
        reason_strings[i - 1].id = (unsigned)i;
        reason_strings[i - 1].ptr = (void *)pico_err_reason((pico_err)i);
    }
    pico_log_init(NULL);
    /* The software halves (hashing, public-key operations) run in a child library context
     * that mirrors the application's providers; PICO_SW_PROPQ keeps them off this one */
    if ((prov->sw_lock = CRYPTO_THREAD_lock_new()) == NULL ||
        (prov->libctx = OSSL_LIB_CTX_new_child(handle, in)) == NULL) {
        CRYPTO_THREAD_lock_free(prov->sw_lock);
        free(prov);
        return 0;
    }
    pico_device_init(); /* one user more of the shared device objects */
    if (!read_config(prov, get_params)) {
        pico_teardown(prov);
        return 0;
    }
    instance_add(prov);
    *out = pico_dispatch;
    *provctx = prov;
    return 1;
}
