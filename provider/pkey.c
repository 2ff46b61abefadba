/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The provider's key object: a key on the device (hsm) with the URI it was
 * named by and the login factors that came with it, or a public key imported
 * from another provider (pub only).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/ui.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider.h"
#include "secret.h"

pico_pkey *pico_pkey_new(pico_prov_ctx *prov, pico_key_type type)
{
    pico_pkey *key = calloc(1, sizeof(*key));

    if (key == NULL) {
        pico_prov_raise(prov, PICO_E_NOMEM, "key object");
        return NULL;
    }
    key->prov = prov;
    key->type = type;
    pthread_mutex_init(&key->lock, NULL);
    return key;
}

int pico_pkey_set_uri(pico_pkey *key, const char *uri)
{
    const char *at = NULL;
    pico_uri_err uerr;

    if ((uerr = pico_uri_parse(uri, &key->uri, &at)) != PICO_URI_OK) {
        /* Never echo a value: the attribute name only (it may be pin-value=...) */
        int n = at != NULL ? (int)pico_uri_attr_name_len(at) : 0;
        pico_prov_raise(key->prov, PICO_E_URI, "%s%s%.*s%s", pico_uri_strerror(uerr),
                        n > 0 ? " at '" : "", n, at != NULL ? at : "", n > 0 ? "'" : "");
        return 0;
    }
    return 1;
}

pico_pkey *pico_pkey_dup(const pico_pkey *src)
{
    pico_pkey *key = pico_pkey_new(src->prov, src->type);
    /* another thread may be filling pub or handing app_pin to its login */
    pthread_mutex_t *lock = (pthread_mutex_t *)&src->lock;
    int ok;

    if (key == NULL)
        return NULL;
    key->rsa_pss = src->rsa_pss;
    key->soft = src->soft;
    key->sel = src->sel;
    key->hsm = src->hsm;
    pthread_mutex_lock(lock);
    key->pool = src->pool != NULL ? pico_pool_up_ref(src->pool) : NULL;
    key->pool_logged = src->pool_logged;
    if (src->pub != NULL && EVP_PKEY_up_ref(src->pub))
        key->pub = src->pub;
    ok = pico_uri_dup(&src->uri, &key->uri) &&
         (src->app_pin == NULL ||
          (key->app_pin = pico_secret_hold(src->app_pin, strlen(src->app_pin))) != NULL);
    pthread_mutex_unlock(lock);
    if (!ok) {
        pico_pkey_free(key);
        return NULL;
    }
    return key;
}

void pico_pkey_free(pico_pkey *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pub);
    pico_uri_free(&key->uri);
    pico_secret_release(key->app_pin);
    pico_pool_free(key->pool);
    pthread_mutex_destroy(&key->lock);
    free(key);
}

EVP_PKEY *pico_pkey_public(pico_pkey *key)
{
    EVP_PKEY *pub = NULL;

    /* One thread fills pub, the others wait for it: never two made, one leaked */
    pthread_mutex_lock(&key->lock);
    if (key->pub != NULL) {
        pub = key->pub;
        goto end;
    }
    if (key->hsm == NULL) {
        pico_prov_raise(key->prov, PICO_E_ARGS, "key object without a public key");
        goto end;
    }
    if (pico_device_key_public(key->hsm, &pub) != PICO_OK)
        goto end;
    /* The device knows an RSA key; its description makes it an RSA-PSS key */
    if (pico_rsa_pss_key(key->hsm))
        pub = pico_rsa_pss_public(key->prov, key->hsm, pub);
    else if (!EVP_PKEY_up_ref(pub))
        pub = NULL;
    key->pub = pub;
end:
    pthread_mutex_unlock(&key->lock);
    return pub;
}

/* The console prompt, for a PIN no other source gave: OpenSSL's UI method. */
static int console_ask(void *arg, const char *info, char *buf, size_t cap)
{
    UI *ui = UI_new();
    char prompt[320];
    int ok = 0;

    (void)arg;
    if (ui == NULL)
        return 0;
    snprintf(prompt, sizeof(prompt), "%s: ", info);
    if (UI_add_input_string(ui, prompt, UI_INPUT_FLAG_DEFAULT_PWD, buf, 1, (int)cap - 1) >= 0 &&
        UI_process(ui) == 0)
        ok = 1;
    UI_free(ui);
    return ok;
}

const pico_pin_prompt *pico_console_prompt(void)
{
    static const pico_pin_prompt console = {console_ask, NULL};

    return &console;
}

pico_err pico_pkey_login(pico_pkey *key)
{
    pico_err err;

    if (key->hsm == NULL)
        return pico_err_raise(PICO_E_ARGS, "not a key on the device");
    if (key->pool != NULL)
        return PICO_OK; /* each member logs in when first used (pool_login): one may be gone */
    /* Threads signing with this key wait here for the one that logs in: the application's
     * PIN is read and released by that one only, and the others find the device logged in */
    pthread_mutex_lock(&key->lock);
    err = pico_device_login(key->hsm->dev, &key->uri, &key->prov->cfg, key->app_pin,
                            pico_console_prompt());
    /* The application's PIN served its login: the device holds it on if pico-cache-pin
     * allows, else it is gone, as the user asked. One the device refused is never sent
     * again (a second VERIFY would spend a second try). */
    if (key->app_pin != NULL &&
        (err == PICO_OK || err == PICO_E_PIN_INCORRECT || err == PICO_E_PIN_BLOCKED)) {
        pico_secret_release(key->app_pin);
        key->app_pin = NULL;
    }
    pthread_mutex_unlock(&key->lock);
    return err;
}

/* A source that gives the same PIN when read again: a file or a variable, not a pipe. */
static int rereadable(const char *source)
{
    return source != NULL && (strncmp(source, "file:", 5) == 0 || strncmp(source, "env:", 4) == 0);
}

/*
 * A pool member's first login, with the key's factors. The application's PIN serves
 * every member's first login: held until each has logged in (or one refused it: never
 * sent again), then cleansed.
 */
static pico_err pool_login(void *arg, pico_key *member)
{
    pico_pkey *key = arg;
    size_t i, n = pico_pool_size(key->pool);
    pico_err err;

    pthread_mutex_lock(&key->lock);
    err = pico_device_login(member->dev, &key->uri, &key->prov->cfg, key->app_pin,
                            pico_console_prompt());
    for (i = 0; i < n && pico_pool_key(key->pool, i) != member; i++)
        continue;
    if (err == PICO_OK && i < n)
        key->pool_logged |= 1u << i;
    if (key->app_pin != NULL && (err == PICO_E_PIN_INCORRECT || err == PICO_E_PIN_BLOCKED ||
                                 key->pool_logged == (1u << n) - 1)) {
        pico_secret_release(key->app_pin);
        key->app_pin = NULL;
    }
    pthread_mutex_unlock(&key->lock);
    return err;
}

pico_err pico_pkey_op(pico_pkey *key, pico_mech mech, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
    const pico_uri *uri = &key->uri;
    size_t cap = *out_len;
    int again = uri->pin_value != NULL || rereadable(uri->pin_source) ||
                (uri->pin_source == NULL && rereadable(key->prov->cfg_pin_source));
    pico_err err;

    if (key->pool != NULL)
        return pico_pool_key_op(key->pool, pool_login, key, mech, in, in_len, out, out_len);
    if (again)
        pico_err_mark();
    err = pico_device_key_op(key->hsm, mech, in, in_len, out, out_len);
    if (!again)
        return err;
    if (err == PICO_OK) {
        pico_err_pop_to_mark();
        return err;
    }
    if (err != PICO_E_NOT_LOGGED_IN) {
        pico_err_clear_mark();
        return err;
    }
    /* The login is gone: the factors the user configured log in again (no prompt) */
    pico_err_pop_to_mark();
    pico_log("PROVIDER",
             "key %u: the device lost the login, logging in again from the "
             "configured factors",
             key->hsm->keyref);
    if ((err = pico_device_login(key->hsm->dev, uri, &key->prov->cfg, NULL, NULL)) != PICO_OK)
        return err;
    *out_len = cap;
    return pico_device_key_op(key->hsm, mech, in, in_len, out, out_len);
}

/*
 * The pool of the key, when its URI names no token= or reader= and another device
 * holds a key with the same label, id and public key. None (the key's device alone)
 * when that cannot be found out: the key works as on one device.
 */
static void pkey_pool(pico_pkey *key)
{
    pico_pool *pool = NULL;
    pico_err err;

    if (key->uri.token != NULL || key->uri.reader != NULL)
        return;
    pico_err_mark();
    err = pico_pool_new(&key->uri, &key->prov->cfg, &pool);
    pico_err_pop_to_mark();
    if (err == PICO_OK && pico_pool_size(pool) > 1 && pico_pool_key(pool, 0) == key->hsm) {
        pico_log("PROVIDER", "key %u: a pool of %zu devices", key->hsm->keyref,
                 pico_pool_size(pool));
        key->pool = pool;
        pool = NULL;
    }
    pico_pool_free(pool);
}

pico_err pico_pkey_from_key(pico_prov_ctx *prov, pico_key *hsm, const pico_uri *uri,
                            OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg, pico_pkey **out)
{
    pico_pkey *key;
    char pin[PICO_PIN_MAX + 2], *label = NULL;
    size_t pin_len = 0;
    pico_err err = PICO_OK;

    *out = NULL;
    if ((key = pico_pkey_new(prov, hsm->type)) == NULL)
        return PICO_E_NOMEM;
    key->hsm = hsm;
    key->rsa_pss = pico_rsa_pss_key(hsm);
    /* The key's own URI: its label and id, with the user's login factors. The device
     * name (token=) costs a file read: the encoder adds it when it writes the URI */
    if (!pico_uri_dup(uri, &key->uri) ||
        (hsm->label != NULL && (label = strdup(hsm->label)) == NULL)) {
        err = pico_err_raise(PICO_E_NOMEM, "uri");
        goto end;
    }
    free(key->uri.object);
    key->uri.object = label;
    label = NULL;
    memcpy(key->uri.id, hsm->id, hsm->id_len);
    key->uri.id_len = hsm->id_len;
    key->uri.type = PICO_OBJ_PRIVATE;
    pkey_pool(key);
    /* Ask the application now, while its callback is valid, if the device will want a
     * PIN that nothing else provides */
    if (pw_cb != NULL && uri->pin_value == NULL && uri->pin_source == NULL &&
        prov->cfg.pin_source == NULL && !pico_device_logged_in(hsm->dev)) {
        char info[256];
        OSSL_PARAM params[] = {
            OSSL_PARAM_utf8_string(OSSL_PASSPHRASE_PARAM_INFO, info, 0),
            OSSL_PARAM_END,
        };
        /* the reader names the device: its name would cost a file read just for this */
        snprintf(info, sizeof(info), "user PIN for the Pico HSM in reader '%s'",
                 pico_device_reader(hsm->dev));
        params[0].data_size = strlen(info);
        if (pw_cb(pin, sizeof(pin) - 1, &pin_len, params, pw_cbarg) && pin_len > 0) {
            pin[pin_len] = '\0';
            if ((key->app_pin = pico_secret_hold(pin, pin_len)) == NULL)
                err = pico_err_raise(PICO_E_NOMEM, "pin");
        } else {
            pico_log("PROVIDER", "no pin from the application's callback");
        }
    }
    /* A daemon's master loads its keys before it forks and drops privileges: the
     * configured factors (pico-pin-source, file: PKA keys) are read now, so that its
     * workers need no access to them for their first login */
    if (err == PICO_OK && uri->pin_value == NULL && uri->pin_source == NULL &&
        uri->n_pka_keys == 0 && key->app_pin == NULL)
        pico_device_preload_login(hsm->dev, &prov->cfg);
end:
    OPENSSL_cleanse(pin, sizeof(pin));
    free(label);
    if (err != PICO_OK)
        pico_pkey_free(key);
    else
        *out = key;
    return err;
}
