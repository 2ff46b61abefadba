/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device objects: one per reader, shared by every user in the process, found by
 * reader and token, reference-counted across provider instances (pico_device_init).
 */
#include "device.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvc.h"
#include "device_int.h"
#include "log.h"
#include "schsm.h"
#include "transport.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pico_device *registry;
static unsigned users; /* pico_device_init calls not yet matched by a cleanup */

static void dev_free(pico_device *d)
{
    size_t i;

    for (i = 0; i < d->nkeys; i++)
        pico_dev_key_free(d->keys[i]);
    free(d->keys);
    for (i = 0; i < d->ngone; i++)
        pico_dev_key_free(d->gone[i]);
    free(d->gone);
    pico_dev_certs_free(d);
    if (d->card != NULL) {
        if (d->card->t != NULL)
            d->card->t->ops->free(d->card->t);
        OPENSSL_cleanse(d->card->buf, sizeof(d->card->buf));
        free(d->card);
    }
    pico_dev_forget_login(d);
    pthread_mutex_destroy(&d->lock);
    free(d->name);
    free(d->reader);
    free(d);
}

/* The shared object for the device in this reader, connected and selected. */
static pico_err dev_get(const char *reader, pico_device **out)
{
    pico_device *d;
    pico_transport *t = NULL;
    pico_err err;

    *out = NULL;
    for (d = registry; d != NULL; d = d->next) {
        if (strcmp(d->reader, reader) == 0) {
            *out = d;
            return PICO_OK;
        }
    }
    if ((err = pico_pcsc_open(reader, &t)) != PICO_OK)
        return err;
    if ((err = pico_dev_open(reader, t, out)) == PICO_OK)
        pico_busy_name(reader, (*out)->busy_name);
    return err;
}

pico_err pico_dev_open(const char *reader, pico_transport *t, pico_device **out)
{
    pico_device *d;
    pico_err err;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->card = calloc(1, sizeof(*d->card))) == NULL ||
        (d->reader = strdup(reader)) == NULL) {
        t->ops->free(t);
        if (d != NULL) {
            free(d->card);
            free(d);
        }
        return pico_err_raise(PICO_E_NOMEM, "device");
    }
    pthread_mutex_init(&d->lock, NULL);
    d->card->t = t;
    d->pid = getpid();
    d->busy_mark = PICO_BUSY_NONE; /* and no name: marks for PC/SC devices only (below) */
    snprintf(d->desc, sizeof(d->desc), "Pico HSM in reader '%s'", reader);
    if ((err = pico_dev_enter(d)) != PICO_OK) {
        dev_free(d);
        return err;
    }
    pico_dev_leave(d);
    pico_log("DEVICE", "open reader='%s' options=%04X version=%u.%u", reader, d->info.options,
             d->info.major, d->info.minor);
    d->next = registry;
    registry = d;
    *out = d;
    return PICO_OK;
}

const char *pico_device_reader(const pico_device *dev)
{
    return dev->reader;
}

const char *pico_device_name(pico_device *d)
{
    uint8_t *cert = NULL;
    size_t len = 0;
    const uint8_t *chr;
    size_t chr_len;
    char *name;

    /* Threads loading keys at once all ask (token= in a key file's URI): one reads it,
     * none sees it half written, none is leaked (ThreadSanitizer found both) */
    pthread_mutex_lock(&d->lock);
    name = d->name;
    pthread_mutex_unlock(&d->lock);
    if (name != NULL)
        return name;
    pico_err_mark();
    if (pico_dev_enter(d) == PICO_OK) {
        if (d->name == NULL &&
            pico_schsm_read_file(d->card, PICO_FID_DEVICE_CERT, &cert, &len) == PICO_OK &&
            pico_cvc_chr(cert, len, &chr, &chr_len) == PICO_OK &&
            (name = malloc(chr_len + 1)) != NULL) {
            memcpy(name, chr, chr_len);
            name[chr_len] = '\0';
            d->name = name;
        }
        name = d->name;
        pico_dev_leave(d);
    }
    pico_err_pop_to_mark();
    free(cert);
    return name != NULL ? name : "";
}

static int token_matches(pico_device *d, const char *token)
{
    const char *name = pico_device_name(d);
    size_t n = strlen(name);

    /* The device name, or OpenSC's token serial: the name without its last 5 characters */
    return strcmp(name, token) == 0 ||
           (n > 5 && strlen(token) == n - 5 && strncmp(name, token, n - 5) == 0);
}

/* Calls fn for the device in each of these readers that matches uri, counting them. */
static void foreach_in(char **readers, size_t n, const pico_uri *uri, const pico_config *cfg,
                       pico_device_fn fn, void *arg, size_t *matched)
{
    size_t i;
    pico_err err;

    *matched = 0;
    for (i = 0; i < n; i++) {
        const char *want = uri && uri->reader ? uri->reader : cfg ? cfg->default_reader : NULL;
        pico_device *d = NULL;
        int stop;

        if (want != NULL && strcmp(readers[i], want) != 0 && strstr(readers[i], want) == NULL)
            continue;
        /* A reader without a card, or with another card, is no error while looking */
        pthread_mutex_lock(&registry_lock);
        pico_err_mark();
        err = dev_get(readers[i], &d);
        pico_err_pop_to_mark();
        pthread_mutex_unlock(&registry_lock);
        if (err != PICO_OK) {
            pico_log("DEVICE", "skip reader='%s': %s", readers[i], pico_err_reason(err));
            continue;
        }
        if (uri && uri->token && !token_matches(d, uri->token))
            continue;
        (*matched)++;
        stop = fn(arg, d);
        if (stop)
            break;
    }
}

/* Names what was asked for and the readers there are, so that a mistyped name is seen. */
static pico_err no_device(const pico_uri *uri, char **readers, size_t n)
{
    char want[256] = "", have[512] = "";
    size_t i, l;

    if (uri && uri->token)
        snprintf(want, sizeof(want), "token=\"%s\"", uri->token);
    if (uri && uri->reader) {
        l = strlen(want);
        snprintf(want + l, sizeof(want) - l, "%sreader=\"%s\"", l ? " " : "", uri->reader);
    }
    for (i = 0; i < n; i++) {
        l = strlen(have);
        snprintf(have + l, sizeof(have) - l, "%s\"%s\"", i ? ", " : "", readers[i]);
    }
    return pico_err_raise(PICO_E_NO_DEVICE, "%s%s%s%s", want, want[0] != '\0' ? "; " : "",
                          n ? "readers: " : "no reader", have);
}

pico_err pico_device_foreach(const pico_uri *uri, const pico_config *cfg, pico_device_fn fn,
                             void *arg)
{
    char **readers = NULL;
    size_t n = 0, matched = 0;
    pico_err err;

    if ((err = pico_pcsc_list_readers(&readers, &n)) != PICO_OK)
        return err;
    if (n == 0)
        err = pico_err_raise(PICO_E_NO_READER, "no reader attached");
    else
        foreach_in(readers, n, uri, cfg, fn, arg, &matched);
    if (err == PICO_OK && matched == 0)
        err = no_device(uri, readers, n);
    pico_pcsc_free_readers(readers, n);
    return err;
}

pico_err pico_device_foreach_listing(const pico_uri *uri, const pico_config *cfg, pico_device_fn fn,
                                     void *arg)
{
    char **readers = NULL;
    size_t n = 0, matched = 0;
    int named = (uri && (uri->token || uri->reader)) || (cfg && cfg->default_reader);
    pico_err err;

    /* SCARD_E_NO_SERVICE is raised here: a listing must not pass for an empty one */
    if ((err = pico_pcsc_list_readers(&readers, &n)) != PICO_OK)
        return err;
    foreach_in(readers, n, uri, cfg, fn, arg, &matched);
    if (matched == 0 && named)
        err = no_device(uri, readers, n);
    pico_pcsc_free_readers(readers, n);
    return err;
}

unsigned long pico_device_apdus(const pico_device *dev)
{
    return dev->card->apdus;
}

pico_err pico_device_run(pico_device *d, pico_card_fn fn, void *arg)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = fn(arg, d->card);
    pico_dev_leave(d);
    return err;
}

void pico_dev_drop_held_all(void)
{
    pico_device *d;

    /* At exit: a lock another thread holds is left alone (no hang), and so is what it guards */
    if (pthread_mutex_trylock(&registry_lock) != 0)
        return;
    for (d = registry; d != NULL; d = d->next) {
        if (pthread_mutex_trylock(&d->lock) != 0)
            continue;
        pico_dev_drop_held(d);
        pthread_mutex_unlock(&d->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

void pico_device_init(void)
{
    pthread_mutex_lock(&registry_lock);
    users++;
    pthread_mutex_unlock(&registry_lock);
}

void pico_device_cleanup(void)
{
    pico_device *d, *next;

    pthread_mutex_lock(&registry_lock);
    if (users > 1) { /* another provider instance (library context) still uses them */
        users--;
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    users = 0;
    for (d = registry; d != NULL; d = next) {
        next = d->next;
        dev_free(d);
    }
    registry = NULL;
    pthread_mutex_unlock(&registry_lock);
    pico_cvc_libctx_free();
}
