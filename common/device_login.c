/* SPDX-License-Identifier: Apache-2.0 */
/* The login part of the device object: logging in, and the factors held for a login again. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device_int.h"
#include "log.h"
#include "pka_signer.h"
#include "schsm.h"
#include "secret.h"
#include "words.h"

static void drop_preloaded(pico_device *d)
{
    size_t i;

    pico_secret_release(d->pre_pin);
    d->pre_pin = NULL;
    free(d->pre_for);
    d->pre_for = NULL;
    for (i = 0; i < d->n_pre_signers; i++)
        pico_pka_signer_free(d->pre_signers[i]);
    d->n_pre_signers = 0;
}

void pico_dev_drop_held(pico_device *d)
{
    size_t i;

    drop_preloaded(d);
    pico_secret_release(d->held_pin);
    d->held_pin = NULL;
    d->held_len = 0;
    for (i = 0; i < d->n_held_signers; i++)
        pico_pka_signer_free(d->held_signers[i]);
    d->n_held_signers = 0;
    d->can_relogin = 0;
}

/*
 * Held PKCS#11 signers (pico-cache-pin) are released at process exit before the
 * modules' own exit-time destructors run: those were registered when the module
 * initialised, and exit handlers run last-registered first, so one registered after
 * that runs before them. Left to the provider's teardown (OPENSSL_cleanup, itself an
 * exit handler registered earlier), C_CloseAllSessions would reach a module that had
 * already torn itself down (SoftHSM: a crash, exit status 139).
 */
static void drop_held_at_exit(void)
{
    pico_dev_drop_held_all();
}

static void exit_release_after_modules(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned covered; /* modules loaded when the handler was last registered */
    unsigned n = pico_pka_p11_modules_loaded();

    pthread_mutex_lock(&lock);
    if (n != covered && atexit(drop_held_at_exit) == 0)
        covered = n;
    pthread_mutex_unlock(&lock);
}

void pico_dev_forget_login(pico_device *d)
{
    pico_dev_drop_held(d);
    pico_refused_pins_clear(&d->refused);
}

static pico_err dev_login_locked(pico_device *d, const pico_uri *uri, const pico_config *cfg,
                                 const char *app_pin, const pico_pin_prompt *prompt,
                                 pico_pka_signer *const *signers, size_t n_signers)
{
    int had_pin = 0, cache = cfg != NULL && cfg->cache_pin;
    pico_auth_factors f = {uri,        app_pin, cfg != NULL ? cfg->pin_source : NULL,
                           prompt,     d->desc, signers,
                           n_signers,  d->name, &had_pin,
                           &d->refused};
    uint8_t pin[PICO_PIN_MAX];
    size_t pin_len = 0;
    pico_err err;

    f.si = &d->info;
    err = pico_auth_login(d->card, &f, cache ? pin : NULL, &pin_len);
    if (err == PICO_OK) {
        d->logged_in = 1;
        d->login_had_pka = n_signers > 0;
        d->login_had_pin = had_pin;
        pico_dev_drop_held(d);
        if (cache) {
            if (pin_len > 0 && (d->held_pin = pico_secret_hold((const char *)pin, pin_len)) != NULL)
                d->held_len = pin_len;
            d->can_relogin = 1;
        }
    }
    OPENSSL_cleanse(pin, sizeof(pin));
    return err;
}

/* The login again after a reset or another client's SELECT, with the held factors. */
pico_err pico_dev_relogin_locked(pico_device *d)
{
    int had_pin = 0;
    pico_auth_factors f = {
        NULL,    NULL,     NULL,       NULL, d->desc, d->held_signers, d->n_held_signers,
        d->name, &had_pin, &d->refused};
    pico_err err;

    f.pin = d->held_len > 0 ? d->held_pin : NULL;
    f.si = &d->info;
    err = pico_auth_login(d->card, &f, NULL, NULL);
    d->login_had_pin = had_pin;
    if (err == PICO_OK)
        d->logged_in = 1;
    else /* held factors that no longer work are dropped: never tried again (a refused
          * PIN is also in d->refused, whatever source gives it next) */
        pico_dev_drop_held(d);
    return err;
}

/*
 * The PKA signers for a login: the URI's pka-key= values, else cfg's. Opened
 * before the device is taken: a signer may prompt, or use a PKCS#11 module
 * whose own card detection must not wait on this device's transaction.
 */
static pico_err open_signers(const pico_uri *uri, const pico_config *cfg,
                             const pico_pin_prompt *prompt, pico_pka_signer **s, size_t *n)
{
    const char *source = uri != NULL && uri->pka_pin_source != NULL ? uri->pka_pin_source
                         : cfg != NULL                              ? cfg->pka_pin_source
                                                                    : NULL;
    char *list = NULL, *p, *tok = NULL;
    const char *why = NULL;
    pico_err err = PICO_OK;
    size_t i;
    int got;

    *n = 0;
    if (uri != NULL && uri->n_pka_keys > 0) {
        for (i = 0; i < uri->n_pka_keys && err == PICO_OK; i++)
            if ((err = pico_pka_signer_open(uri->pka_keys[i], source, prompt, &s[*n])) == PICO_OK)
                (*n)++;
    } else if (cfg != NULL && cfg->pka_keys != NULL) {
        if ((list = strdup(cfg->pka_keys)) == NULL)
            return pico_err_raise(PICO_E_NOMEM, "pka keys");
        /* words: a signer with blanks is quoted (words.h) */
        for (p = list; err == PICO_OK && (got = pico_word_next(&p, "", &tok, &why)) != 0;) {
            if (got < 0)
                err = pico_err_raise(PICO_E_ARGS, "configured pka keys: %s", why);
            else if (*n == PICO_URI_MAX_PKA_KEYS)
                err = pico_err_raise(PICO_E_ARGS, "more than %d pka keys configured",
                                     PICO_URI_MAX_PKA_KEYS);
            else if ((err = pico_pka_signer_open(tok, source, prompt, &s[*n])) == PICO_OK)
                (*n)++;
        }
        free(list);
    }
    if (err != PICO_OK) {
        for (i = 0; i < *n; i++)
            pico_pka_signer_free(s[i]);
        *n = 0;
    }
    return err;
}

/* A URI that names no login factor: the configured ones serve it. */
static int no_own_factors(const pico_uri *uri)
{
    return uri == NULL ||
           (uri->pin_value == NULL && uri->pin_source == NULL && uri->n_pka_keys == 0);
}

/* What preloaded factors were read from: a login with other settings does not take them. */
static char *pre_key_of(const pico_config *cfg)
{
    size_t len = strlen(cfg->pin_source ? cfg->pin_source : "") +
                 strlen(cfg->pka_keys ? cfg->pka_keys : "") +
                 strlen(cfg->pka_pin_source ? cfg->pka_pin_source : "") + 3;
    char *key = malloc(len);

    if (key != NULL)
        snprintf(key, len, "%s\n%s\n%s", cfg->pin_source ? cfg->pin_source : "",
                 cfg->pka_keys ? cfg->pka_keys : "",
                 cfg->pka_pin_source ? cfg->pka_pin_source : "");
    return key;
}

void pico_device_preload_login(pico_device *d, const pico_config *cfg)
{
    pico_pka_signer *signers[PICO_URI_MAX_PKA_KEYS];
    char pin[PICO_PIN_MAX + 2], *held = NULL, *list = NULL, *p, *tok = NULL;
    const char *why = NULL;
    size_t n = 0, len = 0;
    int files_only = 1, done, got;

    if (cfg == NULL || pico_device_logged_in(d))
        return;
    pthread_mutex_lock(&d->lock);
    done = d->preloaded;
    d->preloaded = 1;
    pthread_mutex_unlock(&d->lock);
    if (done)
        return; /* once per device object (a child inherits the parent's) */
    /* PKCS#11 sessions do not cross a fork, and other signers may prompt: file: keys only */
    if (cfg->pka_keys != NULL && (list = strdup(cfg->pka_keys)) != NULL) {
        /* malformed quoting: left to the login, which reports it */
        for (p = list; (got = pico_word_next(&p, "", &tok, &why)) > 0;)
            files_only = files_only && strncmp(tok, "file:", 5) == 0;
        if (got < 0)
            files_only = 0;
        free(list);
    }
    pico_err_mark();
    if (cfg->pin_source != NULL &&
        pico_secret_read(cfg->pin_source, pin, sizeof(pin), &len) == PICO_OK && len > 0)
        held = pico_secret_hold(pin, len);
    if (files_only && open_signers(NULL, cfg, NULL, signers, &n) != PICO_OK)
        n = 0;
    pico_err_pop_to_mark();
    OPENSSL_cleanse(pin, sizeof(pin));
    pthread_mutex_lock(&d->lock);
    d->pre_pin = held;
    d->pre_for = pre_key_of(cfg);
    memcpy(d->pre_signers, signers, n * sizeof(*signers));
    d->n_pre_signers = n;
    pthread_mutex_unlock(&d->lock);
    pico_log("DEVICE", "'%s': configured factors read at key load: pin %s, %zu pka key(s)",
             d->reader, held != NULL ? "yes" : "no", n);
}

/* Takes the factors preloaded from cfg, if any, for this login (1), leaving none behind. */
static int take_preloaded(pico_device *d, const pico_config *cfg, char **pin, pico_pka_signer **s,
                          size_t *n)
{
    char *key = pre_key_of(cfg);
    int any;

    pthread_mutex_lock(&d->lock);
    any = (d->pre_pin != NULL || d->n_pre_signers > 0) && key != NULL && d->pre_for != NULL &&
          strcmp(key, d->pre_for) == 0;
    free(key);
    if (!any) {
        pthread_mutex_unlock(&d->lock);
        return 0;
    }
    *pin = d->pre_pin;
    memcpy(s, d->pre_signers, d->n_pre_signers * sizeof(*s));
    *n = d->n_pre_signers;
    d->pre_pin = NULL;
    d->n_pre_signers = 0;
    pthread_mutex_unlock(&d->lock);
    return any;
}

pico_err pico_device_login(pico_device *d, const pico_uri *uri, const pico_config *cfg,
                           const char *app_pin, const pico_pin_prompt *prompt)
{
    pico_pka_signer *signers[PICO_URI_MAX_PKA_KEYS];
    char *pre_pin = NULL;
    size_t n = 0, i;
    pico_err err;

    if (pico_device_logged_in(d))
        return PICO_OK;
    /* The factors read at key load serve the first login of a URI without its own */
    if (cfg != NULL && no_own_factors(uri) && take_preloaded(d, cfg, &pre_pin, signers, &n)) {
        if (app_pin == NULL)
            app_pin = pre_pin;
        if (n == 0 && cfg->pka_keys != NULL &&
            (err = open_signers(uri, cfg, prompt, signers, &n)) != PICO_OK)
            goto end;
    } else if ((err = open_signers(uri, cfg, prompt, signers, &n)) != PICO_OK) {
        return err;
    }
    if (n > 0)
        (void)pico_device_name(d); /* the name the signers sign (2.5), read once */
    if ((err = pico_dev_enter(d)) == PICO_OK) {
        /* another thread may have logged in meanwhile: then nothing is held from here */
        if (!d->logged_in &&
            (err = dev_login_locked(d, uri, cfg, app_pin, prompt, signers, n)) == PICO_OK &&
            d->can_relogin) {
            /* held for a login again after a reset: the user allowed it */
            memcpy(d->held_signers, signers, n * sizeof(*signers));
            d->n_held_signers = n;
            if (n > 0)
                exit_release_after_modules();
            n = 0;
        }
        pico_dev_leave(d);
    }
end:
    for (i = 0; i < n; i++)
        pico_pka_signer_free(signers[i]);
    pico_secret_release(pre_pin);
    return err;
}

int pico_device_logged_in(pico_device *d)
{
    int in;

    pthread_mutex_lock(&d->lock);
    in = d->logged_in && d->pid == getpid();
    pthread_mutex_unlock(&d->lock);
    return in;
}

/* Why a key operation was refused while this process thought it was logged in. */
pico_err pico_dev_explain_refusal(pico_device *d, const char *op, pico_err why)
{
    uint8_t st[4];

    /* 4.5: 6400, PKA done but no PIN session: the MKEK that holds every key is locked */
    if (why == PICO_E_KEY_LOCKED)
        return pico_err_raise(PICO_E_PIN_REQUIRED,
                              "%s: the keys are locked until the pin is verified (public key "
                              "authentication alone cannot unlock them)",
                              op);
    pico_err_mark();
    if (!d->login_had_pka && pico_schsm_pka_status(d->card, st) == PICO_OK && st[3] < st[2]) {
        pico_err_pop_to_mark();
        return pico_err_raise(PICO_E_PKA_REQUIRED,
                              "%s: the device also requires public key "
                              "authentication (%u of %u keys)",
                              op, st[3], st[2]);
    }
    pico_err_pop_to_mark();
    return pico_err_raise(PICO_E_NOT_LOGGED_IN,
                          "%s: the device lost the login (reset, or "
                          "another application selected it): log in again",
                          op);
}
