/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the RSA, RSA-PSS and EC key managers share: has/match/load/dup/free,
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "provider.h"

int pico_keymgmt_has(const void *keydata, int selection)
{
    const pico_pkey *key = keydata;

    if (key == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && key->hsm == NULL)
        return 0;
    /* A device key always has its public half (read when first needed) */
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && key->hsm == NULL && key->pub == NULL)
        return 0;
    return 1;
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
    ERR_set_mark();
    pa = pico_pkey_public(ka);
    pb = pico_pkey_public(kb);
    ok = pa != NULL && pb != NULL && EVP_PKEY_eq(pa, pb) == 1;
    ERR_pop_to_mark();
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

/* An EC key object with the curve of key and no key: what EVP_PKEY_copy_parameters makes. */
static pico_pkey *dup_params(const pico_pkey *key)
{
    pico_pkey *copy = NULL;
    EVP_PKEY *pub, *params = NULL;

    if ((pub = pico_pkey_public((pico_pkey *)key)) == NULL)
        goto end;
    if ((params = EVP_PKEY_new()) == NULL || !EVP_PKEY_copy_parameters(params, pub) ||
        (copy = pico_pkey_new(key->prov, key->type)) == NULL)
        goto end;
    copy->pub = params;
    params = NULL;
end:
    EVP_PKEY_free(params);
    return copy;
}

void *pico_keymgmt_dup(const void *keydata, int selection)
{
    const pico_pkey *key = keydata;

    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && key->hsm == NULL)
        return NULL;
    /* Parameters alone (EVP_PKEY_copy_parameters, how CMS makes the originator's key before
     * it sets its point): the curve, never the device key, which would stand in for the peer */
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0 && key->type == PICO_KEY_EC)
        return dup_params(key);
    return pico_pkey_dup(key);
}

/*
 * Public halves only: exporting a device key gives the public key (that is how
 * the default provider verifies and encodes it); a request for the private key
 * alone is refused, since it never leaves the device.
 */
int pico_keymgmt_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_pkey *key = keydata;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pub;
    int ok = 0;

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

int pico_keymgmt_import_pub(pico_pkey *key, const char *alg, int selection,
                            const OSSL_PARAM params[])
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pub = NULL;
    int ok = 0;

    if (key->hsm != NULL || (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0) {
        /* a private key cannot be imported into the device this way */
        pico_prov_raise(key->prov, PICO_E_UNSUPPORTED, "only public keys can be imported");
        return 0;
    }
    if ((ctx = EVP_PKEY_CTX_new_from_name(key->prov->libctx, alg, PICO_SW_PROPQ)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
        goto end;
    EVP_PKEY_free(key->pub);
    key->pub = pub;
    ok = 1;
end:
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Security strength of an RSA modulus (SP 800-57 part 1, table 2). */
static int rsa_security_bits(int bits)
{
    return bits >= 15360 ? 256 : bits >= 7680 ? 192 : bits >= 3072 ? 128 : bits >= 2048 ? 112 : 80;
}

/* Largest DER ECDSA signature for an order of bits: SEQUENCE { INTEGER r, INTEGER s }. */
static int ecdsa_max_size(int bits)
{
    int n = (bits + 7) / 8 + 1, item = 1 + (n < 128 ? 1 : 2) + n, body = 2 * item;

    return 1 + (body < 128 ? 1 : 2) + body;
}

/*
 * Size, strength and signature size come from the key description (no device
 * access: OpenSSL asks for them at every key load); anything else is asked
 * of the public key, which is read from the device on first need.
 */
int pico_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    pico_pkey *key = keydata;
    int bits = key->hsm != NULL ? key->hsm->bits : 0;
    OSSL_PARAM *p;
    EVP_PKEY *pub;
    int other = 0;

    if (bits == 0) {
        if ((pub = pico_pkey_public(key)) == NULL)
            return 0;
        bits = EVP_PKEY_get_bits(pub);
    }
    for (p = params; p->key != NULL; p++) {
        if (strcmp(p->key, OSSL_PKEY_PARAM_BITS) == 0) {
            if (!OSSL_PARAM_set_int(p, bits))
                return 0;
        } else if (strcmp(p->key, OSSL_PKEY_PARAM_SECURITY_BITS) == 0) {
            if (!OSSL_PARAM_set_int(p,
                                    key->type == PICO_KEY_EC ? bits / 2 : rsa_security_bits(bits)))
                return 0;
        } else if (strcmp(p->key, OSSL_PKEY_PARAM_MAX_SIZE) == 0) {
            if (!OSSL_PARAM_set_int(p, key->type == PICO_KEY_EC ? ecdsa_max_size(bits)
                                                                : (bits + 7) / 8))
                return 0;
        } else if (strcmp(p->key, OSSL_PKEY_PARAM_DEFAULT_DIGEST) == 0) {
            if (!OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        } else {
            other = 1;
        }
    }
    if (!other)
        return 1;
    if ((pub = pico_pkey_public(key)) == NULL)
        return 0;
    /* The public key's provider fills what it knows (n, e, group, pub, encoded-pub-key) */
    return EVP_PKEY_get_params(pub, params);
}

/* ---------------------------------------------------------------- generation */

struct gen_job {
    pico_device *dev;
    const pico_keygen *spec;
    pico_key *key;
    pico_err err;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static void *gen_thread(void *arg)
{
    struct gen_job *job = arg;
    pico_err err;
    pico_key *key = NULL;

    err = pico_device_generate(job->dev, job->spec, &key);
    pthread_mutex_lock(&job->lock);
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

pico_genctx *pico_keymgmt_gen_init(pico_prov_ctx *prov, pico_key_type type)
{
    pico_genctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL) {
        pico_prov_raise(prov, PICO_E_NOMEM, "key generation");
        return NULL;
    }
    ctx->prov = prov;
    ctx->spec.type = type;
    ctx->spec.bits = 2048;
    return ctx;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int pico_keymgmt_gen_set_common(pico_genctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;
    const char *s = NULL;
    size_t i, n;

    if ((p = OSSL_PARAM_locate_const(params, "pico-label")) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || strlen(s) >= sizeof(ctx->label)) {
            pico_prov_raise(ctx->prov, PICO_E_ARGS, "pico-label: at most %zu characters",
                            sizeof(ctx->label) - 1);
            return 0;
        }
        strcpy(ctx->label, s);
        ctx->spec.label = ctx->label;
    }
    if ((p = OSSL_PARAM_locate_const(params, "pico-id")) != NULL) {
        /* hex digits, with optional ':' separators as openssl prints them */
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
            return 0;
        for (i = 0, n = 0; s[i] != '\0'; i++) {
            if (s[i] == ':')
                continue;
            if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0 || n == sizeof(ctx->id)) {
                pico_prov_raise(ctx->prov, PICO_E_ARGS, "pico-id: hex digits, up to %zu bytes",
                                sizeof(ctx->id));
                return 0;
            }
            ctx->id[n++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
            i++;
        }
        ctx->spec.id = ctx->id;
        ctx->spec.id_len = n;
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
    free(ctx);
}

void *pico_keymgmt_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    pico_genctx *ctx = genctx;
    pico_prov_ctx *prov = ctx->prov;
    const pico_keygen *spec = &ctx->spec;
    pico_pkey *key = NULL, *tmp = NULL;
    struct first_dev first = {NULL};
    pico_key *hsm = NULL;

    /* The URI says on which device (token=, reader=) and how to log in (the query) */
    if ((tmp = pico_pkey_new(prov, spec->type)) == NULL ||
        !pico_pkey_set_uri(tmp, ctx->uri != NULL ? ctx->uri : "pico:"))
        goto end;
    if (pico_device_foreach(&tmp->uri, take_first, &first) != PICO_OK)
        goto end;
    if (pico_device_login(first.dev, &tmp->uri, NULL, pico_console_prompt()) != PICO_OK)
        goto end;
    if (generate_with_progress(first.dev, spec, cb, cbarg, &hsm) != PICO_OK)
        goto end;
    pico_log("PROVIDER", "generated %s key %u on %s", spec->type == PICO_KEY_EC ? "EC" : "RSA",
             hsm->keyref, pico_device_reader(first.dev));
    if (pico_pkey_from_key(prov, hsm, &tmp->uri, NULL, NULL, &key) != PICO_OK)
        goto end;
end:
    pico_pkey_free(tmp);
    return key;
}
