/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every key manager shares (RSA, RSA-PSS, EC, X25519, X448, Ed25519,
 * Ed448): has/match/load/dup/free, sizes from the key type table,
 * public export and import (so the default provider can use a device key's
 * public half, and peer or certificate keys can meet ours), and key
 * generation on the device with a progress callback.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "provider.h"

/* What a key object holds, as a keymgmt selection. */
static int key_holds(const pico_pkey *key)
{
    if (key->hsm != NULL)
        return OSSL_KEYMGMT_SELECT_ALL; /* the public half is read when first needed */
    return key->pub != NULL ? key->sel : 0;
}

int pico_keymgmt_has(const void *keydata, int selection)
{
    const pico_pkey *key = keydata;

    if (key == NULL)
        return 0;
    selection &= OSSL_KEYMGMT_SELECT_ALL;
    return (key_holds(key) & selection) == selection;
}

int pico_keymgmt_match(const void *a, const void *b, int selection)
{
    pico_pkey *ka = (pico_pkey *)a, *kb = (pico_pkey *)b;
    EVP_PKEY *pa, *pb;
    int ok;

    if (ka->type != kb->type)
        return 0;
    if (ka->hsm != NULL && ka->hsm == kb->hsm)
        return 1;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return 1; /* domain parameters only: the public keys below compare them too */
    pico_err_mark();
    pa = pico_pkey_public(ka);
    pb = pico_pkey_public(kb);
    ok = pa != NULL && pb != NULL && EVP_PKEY_eq(pa, pb) == 1;
    pico_err_pop_to_mark();
    return ok;
}

void *pico_keymgmt_load(const void *reference, size_t reference_sz)
{
    pico_pkey *key;

    if (reference == NULL || reference_sz != PICO_OBJ_REF_SIZE)
        return NULL;
    memcpy(&key, reference, sizeof(key));
    /* The store and decoder keep their object; keymgmt gets its own copy */
    return pico_pkey_dup(key);
}

void pico_keymgmt_free(void *keydata)
{
    pico_pkey_free(keydata);
}

/* A software key of its own with the parts of pub that selection names. */
static EVP_PKEY *sw_copy(pico_prov_ctx *prov, EVP_PKEY *pub, int selection)
{
    const pico_key_type_info *info = pico_key_type_by_name(EVP_PKEY_get0_type_name(pub));
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *out = NULL;

    /* The parameters of a type that has none (X25519...: libssl copies them from its key
     * share to make the peer's) are a blank key, as the default provider's ecx_dup gives */
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0 && info != NULL && info->raw_len != 0) {
        if ((ctx = EVP_PKEY_CTX_new_from_name(pico_prov_sw(prov), info->name, PICO_SW_PROPQ)) ==
                NULL ||
            EVP_PKEY_paramgen_init(ctx) != 1 || EVP_PKEY_paramgen(ctx, &out) != 1)
            out = NULL;
        EVP_PKEY_CTX_free(ctx);
        return out;
    }
    if (EVP_PKEY_todata(pub, selection, &params) == 1 &&
        (ctx = EVP_PKEY_CTX_new_from_name(pico_prov_sw(prov), EVP_PKEY_get0_type_name(pub),
                                          PICO_SW_PROPQ)) != NULL &&
        EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &out, selection, params) != 1)
        out = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return out;
}

/*
 * A device key duplicated with its private half stays the device key; without
 * it (EVP_PKEY_copy_parameters, a public copy) it becomes what was asked for,
 * a software copy that can be changed (set_params) without touching the key.
 */
void *pico_keymgmt_dup(const void *keydata, int selection)
{
    const pico_pkey *src = keydata;
    pico_pkey *key;
    EVP_PKEY *pub;
    int want = key_holds(src) & selection & OSSL_KEYMGMT_SELECT_ALL;

    if (src->hsm != NULL && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        return pico_pkey_dup(src);
    if ((pub = pico_pkey_public((pico_pkey *)src)) == NULL ||
        (key = pico_pkey_new(src->prov, src->type)) == NULL)
        return NULL;
    key->rsa_pss = src->rsa_pss;
    key->soft = src->soft;
    key->sel = want;
    if ((key->pub = sw_copy(src->prov, pub, want)) == NULL) {
        pico_pkey_free(key);
        return NULL;
    }
    return key;
}

/*
 * Public halves only for device keys: exporting one gives the public key (that
 * is how the default provider verifies and encodes it); a request for the
 * private key is refused, since it never leaves the device. A soft key is a
 * software key and exports as one.
 */
int pico_keymgmt_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_pkey *key = keydata;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pub;
    int ok = 0;

    if (key->soft) {
        if (EVP_PKEY_todata(key->pub, selection & key_holds(key), &params) == 1)
            ok = cb(params, cbarg);
        OSSL_PARAM_free(params);
        return ok;
    }
    /* Strict, as OpenSSL relies on it: a request that includes the private key fails,
     * so that OpenSSL never moves a device key to a provider that would sign with
     * nothing; the public half alone is given to whoever asks for it */
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) {
        pico_prov_raise(key->prov, PICO_E_UNSUPPORTED, "the private key cannot leave the device");
        return 0;
    }
    if ((pub = pico_pkey_public(key)) == NULL)
        return 0;
    if (EVP_PKEY_todata(pub, EVP_PKEY_PUBLIC_KEY, &params) != 1)
        goto end;
    ok = cb(params, cbarg);
end:
    OSSL_PARAM_free(params);
    return ok;
}

int pico_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    const pico_prov_keytype *kt = pico_pkey_keytype(key);
    const char *alg = kt != NULL ? kt->name : "";
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pub = NULL;
    int part, ok = 0;

    if (key->hsm != NULL) {
        pico_prov_raise(key->prov, PICO_E_UNSUPPORTED, "a key on the device cannot be replaced");
        return 0;
    }
    /* A software private key is not taken in: pico can use private keys on the device
     * only. Refused without an error, since this is how OpenSSL learns to run the
     * operation with the key's own provider (evp_pkey_signature_init and its kin try
     * that one next), with pico first or preferred just as with default alone */
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 &&
        (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY) != NULL ||
         OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) != NULL)) {
        pico_log("PROVIDER", "software %s private key not imported: its own provider serves it",
                 alg);
        return 0;
    }
    part = (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 ? EVP_PKEY_PUBLIC_KEY
                                                             : EVP_PKEY_KEY_PARAMETERS;
    if ((ctx = EVP_PKEY_CTX_new_from_name(pico_prov_sw(key->prov), alg, PICO_SW_PROPQ)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pub, part, (OSSL_PARAM *)params) != 1)
        goto end;
    EVP_PKEY_free(key->pub);
    key->pub = pub;
    key->sel = part;
    ok = 1;
end:
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

int pico_keymgmt_set_params(void *keydata, const OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    EVP_PKEY *pub;

    if (params == NULL || params[0].key == NULL)
        return 1;
    if (key->hsm != NULL) {
        pico_prov_raise(key->prov, PICO_E_UNSUPPORTED, "a key on the device cannot be changed");
        return 0;
    }
    if (key->pub == NULL) {
        pico_prov_raise(key->prov, PICO_E_ARGS, "a public point needs a curve first");
        return 0;
    }
    /* On a copy: the old public key may be shared with other key objects */
    if ((pub = EVP_PKEY_dup(key->pub)) == NULL ||
        EVP_PKEY_set_params(pub, (OSSL_PARAM *)params) != 1) {
        EVP_PKEY_free(pub);
        pico_prov_raise(key->prov, PICO_E_ARGS,
                        "key parameters refused (a point not on the curve?)");
        return 0;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pub;
    if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY) != NULL ||
        OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY) != NULL)
        key->sel |= OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS;
    return 1;
}

/* Sets p when it is one the row and the description answer (1), else leaves it (0). */
static int set_size_param(const pico_prov_keytype *kt, int bits, OSSL_PARAM *p, int *ok)
{
    const pico_key_type_info *info = pico_key_type_info_of(kt->type);
    const char *md = NULL;
    int v = 0, is_md = 0;

    if (info == NULL)
        return 0;
    if (strcmp(p->key, OSSL_PKEY_PARAM_BITS) == 0)
        v = info->bits != 0 ? info->bits : bits;
    else if (strcmp(p->key, OSSL_PKEY_PARAM_SECURITY_BITS) == 0)
        v = kt->security_bits != NULL ? kt->security_bits(bits) : info->security_bits;
    else if (strcmp(p->key, OSSL_PKEY_PARAM_MAX_SIZE) == 0)
        v = kt->max_size(info, bits);
    else if ((is_md = strcmp(p->key, OSSL_PKEY_PARAM_DEFAULT_DIGEST) == 0))
        md = kt->default_digest;
    else if ((is_md = strcmp(p->key, OSSL_PKEY_PARAM_MANDATORY_DIGEST) == 0))
        md = kt->mandatory_digest;
    else
        return 0;
    if (is_md) {
        if (md == NULL)
            return 0; /* the type has none: the public key's provider answers */
        *ok = OSSL_PARAM_set_utf8_string(p, md);
    } else {
        *ok = OSSL_PARAM_set_int(p, v);
    }
    return 1;
}

/*
 * Size, strength, signature size and digests come from the key description
 * and the key type's row (no device access: OpenSSL asks for them at every
 * key load); anything else is asked of the public key, which is read from
 * the device on first need.
 */
int pico_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    const pico_prov_keytype *kt = pico_pkey_keytype(key);
    int bits = key->hsm != NULL ? key->hsm->bits : 0;
    OSSL_PARAM *p;
    EVP_PKEY *pub;
    int other = 0, ok = 1;

    /* A key not on the device answers as its software provider does */
    if (key->hsm == NULL)
        return key->pub != NULL && EVP_PKEY_get_params(key->pub, params) == 1;
    if (kt == NULL)
        return 0;
    if (bits == 0) {
        if ((pub = pico_pkey_public(key)) == NULL)
            return 0;
        bits = EVP_PKEY_get_bits(pub);
    }
    for (p = params; p->key != NULL && ok; p++)
        if (!set_size_param(kt, bits, p, &ok))
            other = 1;
    if (!ok)
        return 0;
    if (!other)
        return 1;
    if ((pub = pico_pkey_public(key)) == NULL)
        return 0;
    /* The public key's provider fills what it knows (n, e, group, pub, encoded-pub-key) */
    return EVP_PKEY_get_params(pub, params);
}

/* ---------------------------------------------------------------- generation */

#define GEN_MAX_ERRS 8

/* An error the generation thread raised, carried to the caller's thread. */
struct gen_err {
    unsigned long code;
    char file[96], func[64], data[256];
    int line;
};

struct gen_job {
    pico_device *dev;
    const pico_keygen *spec;
    pico_key *key;
    pico_err err;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct gen_err errs[GEN_MAX_ERRS];
    int nerrs;
};

static void gen_errs_take(struct gen_job *job)
{
    const char *file, *func, *data;
    unsigned long code;
    int line, flags;

    while ((code = ERR_get_error_all(&file, &line, &func, &data, &flags)) != 0) {
        struct gen_err *e;
        if (job->nerrs == GEN_MAX_ERRS)
            continue;
        e = &job->errs[job->nerrs++];
        e->code = code;
        e->line = line;
        snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file : "");
        snprintf(e->func, sizeof(e->func), "%s", func != NULL ? func : "");
        snprintf(e->data, sizeof(e->data), "%s",
                 data != NULL && (flags & ERR_TXT_STRING) != 0 ? data : "");
    }
}

/* OpenSSL's error queue is per thread: the worker's errors go to the caller's. */
static void gen_errs_raise(const struct gen_job *job)
{
    int i;

    for (i = 0; i < job->nerrs; i++) {
        const struct gen_err *e = &job->errs[i];
        ERR_new();
        ERR_set_debug(e->file, e->line, e->func);
        ERR_set_error(ERR_GET_LIB(e->code), ERR_GET_REASON(e->code), "%s", e->data);
    }
}

static void *gen_thread(void *arg)
{
    struct gen_job *job = arg;
    pico_err err;
    pico_key *key = NULL;

    err = pico_device_generate(job->dev, job->spec, &key);
    pthread_mutex_lock(&job->lock);
    gen_errs_take(job);
    job->err = err;
    job->key = key;
    job->done = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

static int progress(OSSL_CALLBACK *cb, void *cbarg, int potential, int iteration)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_int(OSSL_GEN_PARAM_POTENTIAL, &potential),
        OSSL_PARAM_int(OSSL_GEN_PARAM_ITERATION, &iteration),
        OSSL_PARAM_END,
    };
    return cb == NULL || cb(params, cbarg);
}

/*
 * RSA generation takes seconds on a real device (minutes for 4096 bits): the
 * APDU runs in a worker thread while this one reports progress to the
 * application's callback, in the caller's thread as OpenSSL expects.
 */
static pico_err generate_with_progress(pico_device *dev, const pico_keygen *spec, OSSL_CALLBACK *cb,
                                       void *cbarg, pico_key **out)
{
    struct gen_job job = {.dev = dev, .spec = spec};
    pthread_t th;
    int i = 0;

    if (cb == NULL)
        return pico_device_generate(dev, spec, out);
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.cond, NULL);
    if (pthread_create(&th, NULL, gen_thread, &job) != 0) {
        pthread_mutex_destroy(&job.lock);
        pthread_cond_destroy(&job.cond);
        return pico_device_generate(dev, spec, out);
    }
    pthread_mutex_lock(&job.lock);
    while (!job.done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&job.cond, &job.lock, &ts);
        if (!job.done) {
            pthread_mutex_unlock(&job.lock);
            progress(cb, cbarg, 0, i++);
            pthread_mutex_lock(&job.lock);
        }
    }
    pthread_mutex_unlock(&job.lock);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&job.lock);
    pthread_cond_destroy(&job.cond);
    gen_errs_raise(&job);
    progress(cb, cbarg, 3, 0);
    *out = job.key;
    return job.err;
}

struct first_dev {
    pico_device *dev;
};

static int take_first(void *arg, pico_device *dev)
{
    ((struct first_dev *)arg)->dev = dev;
    return 1;
}

pico_genctx *pico_keymgmt_gen_init(pico_prov_ctx *prov, pico_key_type type, const char *alg,
                                   int selection)
{
    pico_genctx *ctx = calloc(1, sizeof(*ctx));
    OSSL_LIB_CTX *sw;

    if (ctx == NULL) {
        pico_prov_raise(prov, PICO_E_NOMEM, "key generation");
        return NULL;
    }
    ctx->prov = prov;
    ctx->selection = selection;
    ctx->spec.type = type;
    ctx->spec.bits = 2048;
    /* The software generator, for a key that names no device target; none when the
     * application has no software provider (pico alone makes device keys only) */
    sw = pico_prov_sw(prov);
    if (sw != prov->own) {
        pico_err_mark();
        if ((ctx->sw = EVP_PKEY_CTX_new_from_name(sw, alg, PICO_SW_PROPQ)) != NULL &&
            ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0
                 ? EVP_PKEY_keygen_init(ctx->sw)
                 : EVP_PKEY_paramgen_init(ctx->sw)) != 1) {
            EVP_PKEY_CTX_free(ctx->sw);
            ctx->sw = NULL;
        }
        pico_err_pop_to_mark();
    }
    return ctx;
}

int pico_keymgmt_gen_set_common(pico_genctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;
    const char *s = NULL;
    size_t n;

    if (params == NULL)
        return 1;
    /* Every parameter also goes to the software generator (it ignores pico-*): a soft
     * key is made as that provider alone would make it. A refusal there matters only
     * if the key turns out soft */
    if (ctx->sw != NULL && !ctx->sw_failed) {
        pico_err_mark();
        ctx->sw_failed = EVP_PKEY_CTX_set_params(ctx->sw, params) != 1;
        pico_err_pop_to_mark();
    }
    if ((p = OSSL_PARAM_locate_const(params, "pico-label")) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || strlen(s) >= sizeof(ctx->label)) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "pico-label: at most %zu characters",
                            sizeof(ctx->label) - 1);
            return 0;
        }
        if (*s == '\0') {
            pico_prov_raise(ctx->prov, PICO_E_ARGS,
                            "pico-label: a key on the device needs a "
                            "label of one character or more");
            return 0;
        }
        strcpy(ctx->label, s);
        ctx->spec.label = ctx->label;
        ctx->target = 1;
    }
    if ((p = OSSL_PARAM_locate_const(params, "pico-id")) != NULL) {
        /* hex digits, with optional ':' separators as openssl prints them */
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
            return 0;
        if (pico_hex_decode(s, strlen(s), ':', ctx->id, sizeof(ctx->id), &n) != 0) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "pico-id: hex digits, up to %zu bytes",
                            sizeof(ctx->id));
            return 0;
        }
        ctx->spec.id = ctx->id;
        ctx->spec.id_len = n;
        ctx->target = 1;
    }
    if ((p = OSSL_PARAM_locate_const(params, "pico-uri")) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
            return 0;
        if (ctx->uri != NULL) {
            OPENSSL_cleanse(ctx->uri, strlen(ctx->uri));
            free(ctx->uri);
        }
        if ((ctx->uri = strdup(s)) == NULL)
            return 0;
        ctx->target = 1;
    }
    return 1;
}

void pico_keymgmt_gen_cleanup(void *genctx)
{
    pico_genctx *ctx = genctx;

    if (ctx == NULL)
        return;
    if (ctx->uri != NULL) {
        OPENSSL_cleanse(ctx->uri, strlen(ctx->uri));
        free(ctx->uri);
    }
    EVP_PKEY_CTX_free(ctx->sw);
    free(ctx);
}

/* A key made in software, for a request that names no device key. */
static pico_pkey *soft_gen(pico_genctx *ctx)
{
    pico_pkey *key = NULL;
    EVP_PKEY *pk = NULL;
    int pair = (ctx->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;

    if (ctx->sw == NULL) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS,
                        "a key on the device needs a label (pico-label); keys without one are "
                        "made in software, and no software provider is loaded");
        return NULL;
    }
    if (ctx->sw_failed) {
        pico_prov_raise(ctx->prov, PICO_E_ARGS, "key generation parameters refused");
        return NULL;
    }
    if ((pair ? EVP_PKEY_generate(ctx->sw, &pk) : EVP_PKEY_paramgen(ctx->sw, &pk)) != 1 ||
        (key = pico_pkey_new(ctx->prov, ctx->spec.type)) == NULL) {
        EVP_PKEY_free(pk);
        return NULL;
    }
    key->soft = 1;
    key->pub = pk;
    key->sel = pair ? OSSL_KEYMGMT_SELECT_ALL : OSSL_KEYMGMT_SELECT_ALL_PARAMETERS;
    return key;
}

/* Whether the device makes keys of this type, asked before it makes one. */
static int device_makes(pico_prov_ctx *prov, pico_device *dev, pico_key_type type)
{
    const pico_key_type_info *info = pico_key_type_info_of(type);

    if (info != NULL && pico_device_supports(dev, type))
        return 1;
    if (info != NULL && info->needs_eddsa)
        pico_prov_raise(prov, PICO_E_UNSUPPORTED,
                        "%s keys: the device in reader '%s' has firmware built without eddsa "
                        "(ENABLE_EDDSA)",
                        info->name, pico_device_reader(dev));
    else
        pico_prov_raise(prov, PICO_E_UNSUPPORTED,
                        "%s keys: the device in reader '%s' does not make them",
                        info != NULL ? info->name : "unknown", pico_device_reader(dev));
    return 0;
}

void *pico_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_genctx *ctx = genctx;
    pico_prov_ctx *prov = ctx->prov;
    const pico_keygen *spec = &ctx->spec;
    pico_pkey *key = NULL, *tmp = NULL;
    struct first_dev first = {NULL};
    pico_key *hsm = NULL;

    if (!ctx->target)
        return soft_gen(ctx);
    if ((ctx->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0) {
        pico_prov_raise(prov, PICO_E_UNSUPPORTED, "the device makes key pairs, not parameters");
        return NULL;
    }
    /* Before the device is touched: what it can make, then a label no other key has */
    if (ctx->check != NULL && !ctx->check(ctx))
        return NULL;
    /* The URI says on which device (token=, reader=) and how to log in (the query) */
    if ((tmp = pico_pkey_new(prov, spec->type)) == NULL ||
        !pico_pkey_set_uri(tmp, ctx->uri != NULL ? ctx->uri : "pico:"))
        goto end;
    if (pico_device_foreach(&tmp->uri, &prov->cfg, take_first, &first) != PICO_OK)
        goto end;
    if (pico_device_check_new_key(first.dev, spec) != PICO_OK)
        goto end;
    if (pico_device_login(first.dev, &tmp->uri, &prov->cfg, NULL, pico_console_prompt()) != PICO_OK)
        goto end;
    /* (the EdDSA probe needs the login: common/ asks the device without making a key) */
    if (!device_makes(prov, first.dev, spec->type))
        goto end;
    if (generate_with_progress(first.dev, spec, cb, cbarg, &hsm) != PICO_OK)
        goto end;
    pico_log("PROVIDER", "generated %s key %u on %s", pico_pkey_keytype(tmp)->name, hsm->keyref,
             pico_device_reader(first.dev));
    if (pico_pkey_from_key(prov, hsm, &tmp->uri, NULL, NULL, &key) != PICO_OK)
        goto end;
end:
    pico_pkey_free(tmp);
    return key;
}
