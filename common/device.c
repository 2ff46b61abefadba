/* SPDX-License-Identifier: Apache-2.0 */
#include "device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvc.h"
#include "device_int.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"
#include "transport.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pico_device *registry;
static unsigned users; /* pico_device_init calls not yet matched by a cleanup */
struct pico_dev_config pico_dev_config;

void pico_device_set_config(const pico_config *cfg)
{
    pthread_mutex_lock(&registry_lock);
    free(pico_dev_config.default_reader);
    free(pico_dev_config.pin_source);
    free(pico_dev_config.pka_keys);
    free(pico_dev_config.pka_pin_source);
    pico_dev_config.default_reader = cfg->default_reader ? strdup(cfg->default_reader) : NULL;
    pico_dev_config.pin_source = cfg->pin_source ? strdup(cfg->pin_source) : NULL;
    pico_dev_config.pka_keys = cfg->pka_keys ? strdup(cfg->pka_keys) : NULL;
    pico_dev_config.pka_pin_source = cfg->pka_pin_source ? strdup(cfg->pka_pin_source) : NULL;
    pico_dev_config.cache_pin = cfg->cache_pin;
    pthread_mutex_unlock(&registry_lock);
}

/*
 * Takes the device for a sequence of exchanges: its lock, a fork check, the
 * PC/SC transaction, and the SELECT the connection needs. After fork() the
 * child opens its own PC/SC context but does not SELECT again: the card still
 * has the application selected and its login is shared by every client, and a
 * SELECT would log out the parent and its other children (4.6).
 */
pico_err pico_dev_enter(pico_device *d)
{
    pico_err err;

    pthread_mutex_lock(&d->lock);
    if (d->pid != getpid()) {
        pico_log("DEVICE", "fork detected: new pc/sc context for '%s'", d->reader);
        d->pid = getpid();
        if ((err = d->card->t->ops->reconnect(d->card->t)) != PICO_OK)
            goto fail;
    }
    err = d->card->t->ops->begin(d->card->t);
    d->txn = err == PICO_OK || err == PICO_E_RESET;
    if (err == PICO_E_RESET || err == PICO_E_REMOVED) {
        /* 4.6: a reset (or a new card in the reader) leaves no application selected and
         * no login. Reported in the log only: the caller's operation goes on after the
         * SELECT, and logs in again with what it holds. */
        pico_log("DEVICE", "'%s' was %s: selecting again", d->reader,
                 err == PICO_E_RESET ? "reset" : "removed");
        d->selected = 0;
        d->logged_in = 0;
        if (err == PICO_E_REMOVED)
            goto fail;
        err = PICO_OK;
    }
    if (err != PICO_OK)
        goto fail;
    if (!d->selected) {
        if ((err = pico_schsm_select(d->card, &d->info)) != PICO_OK) {
            d->card->t->ops->end(d->card->t);
            d->txn = 0;
            goto fail;
        }
        d->selected = 1;
        d->logged_in = 0;
    }
    return PICO_OK;
fail:
    if (err == PICO_E_REMOVED) {
        d->selected = 0;
        d->logged_in = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return err;
}

void pico_dev_leave(pico_device *d)
{
    if (d->txn) {
        pico_err_quiet_push();
        d->card->t->ops->end(d->card->t);
        pico_err_quiet_pop();
        d->txn = 0;
    }
    pthread_mutex_unlock(&d->lock);
}

/*
 * For a command of one APDU on a selected device: no PC/SC transaction (pcscd
 * keeps one APDU whole; Begin and End would cost two more round trips to it).
 * A reset or another application's SELECT since the last exchange shows in
 * the answer, and key_op recovers inside a transaction then.
 */
static pico_err dev_enter_one(pico_device *d)
{
    pthread_mutex_lock(&d->lock);
    if (d->pid == getpid() && d->selected) {
        d->txn = 0;
        return PICO_OK;
    }
    pthread_mutex_unlock(&d->lock);
    return pico_dev_enter(d);
}

/* Inside dev_enter_one: opens the transaction (and selects again after a reset). */
static pico_err dev_upgrade(pico_device *d)
{
    pico_err err;

    if (d->txn)
        return PICO_OK;
    err = d->card->t->ops->begin(d->card->t);
    d->txn = err == PICO_OK || err == PICO_E_RESET;
    if (err == PICO_E_RESET) {
        d->selected = 0;
        d->logged_in = 0;
    } else if (err != PICO_OK) {
        return err;
    }
    if (!d->selected) {
        if ((err = pico_schsm_select(d->card, &d->info)) != PICO_OK)
            return err;
        d->selected = 1;
        d->logged_in = 0;
    }
    return PICO_OK;
}

static void key_free(pico_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pub);
    X509_free(k->cert);
    free(k->label);
    free(k);
}

static void dev_certs_free(pico_device *d)
{
    size_t i;

    for (i = 0; i < d->ncerts; i++) {
        X509_free(d->certs[i]->x509);
        free(d->certs[i]->label);
        free(d->certs[i]);
    }
    free(d->certs);
    d->certs = NULL;
    d->ncerts = 0;
    d->certs_read = 0;
}

static void dev_free(pico_device *d)
{
    size_t i;

    for (i = 0; i < d->nkeys; i++)
        key_free(d->keys[i]);
    free(d->keys);
    dev_certs_free(d);
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
    pico_err_quiet_push();
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
    pico_err_quiet_pop();
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
static void foreach_in(char **readers, size_t n, const pico_uri *uri, pico_device_fn fn, void *arg,
                       size_t *matched)
{
    size_t i;
    pico_err err;

    *matched = 0;
    for (i = 0; i < n; i++) {
        const char *want = uri && uri->reader ? uri->reader : pico_dev_config.default_reader;
        pico_device *d = NULL;
        int stop;

        if (want != NULL && strcmp(readers[i], want) != 0 && strstr(readers[i], want) == NULL)
            continue;
        /* A reader without a card, or with another card, is no error while looking */
        pthread_mutex_lock(&registry_lock);
        pico_err_quiet_push();
        err = dev_get(readers[i], &d);
        pico_err_quiet_pop();
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

pico_err pico_device_foreach(const pico_uri *uri, pico_device_fn fn, void *arg)
{
    char **readers = NULL;
    size_t n = 0, matched = 0;
    pico_err err;

    if ((err = pico_pcsc_list_readers(&readers, &n)) != PICO_OK)
        return err;
    if (n == 0)
        err = pico_err_raise(PICO_E_NO_READER, "no reader attached");
    else
        foreach_in(readers, n, uri, fn, arg, &matched);
    if (err == PICO_OK && matched == 0)
        err = no_device(uri, readers, n);
    pico_pcsc_free_readers(readers, n);
    return err;
}

pico_err pico_device_foreach_listing(const pico_uri *uri, pico_device_fn fn, void *arg)
{
    char **readers = NULL;
    size_t n = 0, matched = 0;
    int named = (uri && (uri->token || uri->reader)) || pico_dev_config.default_reader;
    pico_err err;

    /* SCARD_E_NO_SERVICE is raised here: a listing must not pass for an empty one */
    if ((err = pico_pcsc_list_readers(&readers, &n)) != PICO_OK)
        return err;
    foreach_in(readers, n, uri, fn, arg, &matched);
    if (matched == 0 && named)
        err = no_device(uri, readers, n);
    pico_pcsc_free_readers(readers, n);
    return err;
}

/* ENUMERATE once per process; the key objects for every CCxx except the device key. */
static pico_err dev_list(pico_device *d)
{
    size_t i, n = MAX_FIDS;
    pico_err err;

    if (d->listed)
        return PICO_OK;
    if ((err = pico_schsm_list(d->card, d->fids, &n)) != PICO_OK)
        return err;
    d->nfids = n;
    for (i = 0; i < n; i++) {
        pico_key *k, **nk;
        /* 6.1: CC00 is the device key; never a user key */
        if ((d->fids[i] >> 8) != PICO_PREFIX_KEY || (d->fids[i] & 0xFF) == 0)
            continue;
        if ((k = calloc(1, sizeof(*k))) == NULL ||
            (nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
            free(k);
            return pico_err_raise(PICO_E_NOMEM, "key list");
        }
        k->dev = d;
        k->keyref = (uint8_t)d->fids[i];
        d->keys = nk;
        d->keys[d->nkeys++] = k;
    }
    d->listed = 1;
    return PICO_OK;
}

static int has_fid(const pico_device *d, uint16_t fid)
{
    size_t i;

    for (i = 0; i < d->nfids; i++)
        if (d->fids[i] == fid)
            return 1;
    return 0;
}

/* CExx: a CV request from key generation, or an X.509 certificate a host stored (6.6). */
static pico_err key_read_public(pico_key *k)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int bits = 0;
    pico_err err;

    if (k->pub_loaded)
        return PICO_OK;
    err = pico_schsm_read_file(k->dev->card, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | k->keyref),
                               &data, &len);
    if (err != PICO_OK)
        goto end;
    if (len > 0 && data[0] == 0x30) {
        const uint8_t *p = data;
        k->cert = d2i_X509(NULL, &p, (long)len);
        if (k->cert == NULL || (k->pub = X509_get_pubkey(k->cert)) == NULL) {
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "key %u: unreadable certificate", k->keyref);
            goto end;
        }
        if (EVP_PKEY_is_a(k->pub, "EC")) {
            size_t gl = 0;
            EVP_PKEY_get_utf8_string_param(k->pub, "group", k->curve, sizeof(k->curve), &gl);
        }
        bits = EVP_PKEY_get_bits(k->pub);
    } else {
        err = pico_cvc_public_key(data, len, &k->pub, k->curve, sizeof(k->curve), &bits);
        if (err != PICO_OK)
            goto end;
    }
    if (k->type == 0)
        k->type = EVP_PKEY_is_a(k->pub, "EC") ? PICO_KEY_EC : PICO_KEY_RSA;
    if (k->bits == 0)
        k->bits = bits;
    k->pub_loaded = 1;
end:
    free(data);
    return err;
}

/* C4xx: label, ID, type and size; without a PrKD the public key tells the type. */
static pico_err key_read_desc(pico_key *k)
{
    uint16_t fid = (uint16_t)(PICO_PREFIX_PRKD << 8 | k->keyref);
    uint8_t *data = NULL;
    size_t len = 0;
    pico_prkd prkd;
    pico_err err = PICO_OK;

    if (k->desc_loaded)
        return PICO_OK;
    if (has_fid(k->dev, fid)) {
        err = pico_schsm_read_file(k->dev->card, fid, &data, &len);
        if (err == PICO_OK && pico_prkd_decode(data, len, &prkd) == 0) {
            k->type = prkd.is_ec ? PICO_KEY_EC : PICO_KEY_RSA;
            k->bits = prkd.size;
            if (prkd.label[0] != '\0' && (k->label = strdup(prkd.label)) == NULL)
                err = pico_err_raise(PICO_E_NOMEM, "key label");
            memcpy(k->id, prkd.id, prkd.id_len);
            k->id_len = prkd.id_len;
            memcpy(k->algid, prkd.algid, prkd.algid_len);
            k->algid_len = prkd.algid_len;
        }
        free(data);
        if (err != PICO_OK)
            return err;
    }
    if (k->type == 0 || k->bits == 0) {
        if ((err = key_read_public(k)) != PICO_OK)
            return err;
    }
    k->desc_loaded = 1;
    return PICO_OK;
}

pico_err pico_device_keys(pico_device *d, pico_key ***keys, size_t *count)
{
    size_t i;
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = dev_list(d);
    for (i = 0; err == PICO_OK && i < d->nkeys; i++)
        err = key_read_desc(d->keys[i]);
    pico_dev_leave(d);
    *keys = d->keys;
    *count = err == PICO_OK ? d->nkeys : 0;
    return err;
}

static int key_matches(const pico_key *k, const pico_uri *uri)
{
    if (uri->object != NULL && (k->label == NULL || strcmp(k->label, uri->object) != 0))
        return 0;
    if (uri->id_len > 0 && (k->id_len != uri->id_len || memcmp(k->id, uri->id, k->id_len) != 0))
        return 0;
    return 1;
}

pico_err pico_device_find_key(pico_device *d, const pico_uri *uri, pico_key **key)
{
    size_t i;
    pico_err err;

    *key = NULL;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    /* Descriptions are read one by one up to the first match: a process signing with
     * one key reads one PrKD, whatever else the device holds */
    err = dev_list(d);
    for (i = 0; err == PICO_OK && i < d->nkeys; i++) {
        if ((err = key_read_desc(d->keys[i])) == PICO_OK && key_matches(d->keys[i], uri)) {
            *key = d->keys[i];
            break;
        }
    }
    pico_dev_leave(d);
    if (err == PICO_OK && *key == NULL)
        err = PICO_E_NOT_FOUND; /* not raised: the caller may look on other devices */
    return err;
}

struct find_any {
    const pico_uri *uri;
    pico_key *key;
    pico_err err;
};

static int find_any_cb(void *arg, pico_device *dev)
{
    struct find_any *f = arg;
    pico_err err;

    pico_err_quiet_push();
    err = pico_device_find_key(dev, f->uri, &f->key);
    pico_err_quiet_pop();
    if (err != PICO_OK && err != PICO_E_NOT_FOUND && f->err == PICO_OK)
        f->err = err;
    return err == PICO_OK;
}

pico_err pico_device_find_key_any(const pico_uri *uri, pico_key **key)
{
    struct find_any f = {uri, NULL, PICO_OK};
    pico_err err = pico_device_foreach(uri, find_any_cb, &f);

    *key = f.key;
    if (err != PICO_OK || f.key != NULL)
        return err;
    if (f.err != PICO_OK)
        return pico_err_raise(f.err, "looking for the key");
    return PICO_E_NOT_FOUND;
}

pico_err pico_device_key_public(pico_key *k, EVP_PKEY **pub)
{
    pico_err err = PICO_OK;
    int loaded;

    *pub = NULL;
    /* Read under the lock: another thread may be reading it from the device. The lock
     * alone, not pico_dev_enter: a key already read costs no PC/SC transaction */
    pthread_mutex_lock(&k->dev->lock);
    loaded = k->pub_loaded;
    pthread_mutex_unlock(&k->dev->lock);
    if (!loaded) {
        if ((err = pico_dev_enter(k->dev)) != PICO_OK)
            return err;
        err = key_read_public(k);
        pico_dev_leave(k->dev);
    }
    if (err == PICO_OK)
        *pub = k->pub;
    return err;
}

/* C8xx descriptions and the CAxx each points to (6.1): certificates stored without a key. */
static pico_err dev_read_certs(pico_device *d)
{
    size_t i;
    pico_err err = PICO_OK;

    if (d->certs_read)
        return PICO_OK;
    for (i = 0; err == PICO_OK && i < d->nfids; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        const uint8_t *p;
        pico_cd cd;
        pico_cert *c = NULL, **nc;
        uint16_t fid;
        X509 *x = NULL;

        if ((d->fids[i] >> 8) != PICO_PREFIX_CD)
            continue;
        if ((err = pico_schsm_read_file(d->card, d->fids[i], &data, &len)) != PICO_OK)
            break;
        if (pico_cd_decode(data, len, &cd) != 0) {
            /* OpenSC skips a description it cannot read, and so do we */
            pico_log("DEVICE", "skip %04X: not a certificate description", d->fids[i]);
            free(data);
            continue;
        }
        free(data);
        data = NULL;
        /* the path names the CAxx; OpenSC's is CA<same byte> */
        fid = (cd.fid >> 8) == PICO_PREFIX_CA_CERT
                  ? cd.fid
                  : (uint16_t)(PICO_PREFIX_CA_CERT << 8 | (d->fids[i] & 0xFF));
        /* ENUMERATE does not list CAxx on a Pico (6.5): a missing one shows as 6A82 */
        pico_err_quiet_push();
        err = pico_schsm_read_file(d->card, fid, &data, &len);
        pico_err_quiet_pop();
        if (err == PICO_E_NOT_FOUND) {
            pico_log("DEVICE", "skip %04X: %04X not found", d->fids[i], fid);
            err = PICO_OK;
            continue;
        }
        if (err != PICO_OK) {
            err = pico_err_raise(err, "certificate %04X on %s", fid, d->desc);
            break;
        }
        p = data;
        x = d2i_X509(NULL, &p, (long)len);
        free(data);
        if (x == NULL) {
            pico_log("DEVICE", "skip %04X: %04X holds no X.509 certificate", d->fids[i], fid);
            continue;
        }
        if ((c = calloc(1, sizeof(*c))) == NULL ||
            (cd.label[0] != '\0' && (c->label = strdup(cd.label)) == NULL) ||
            (nc = realloc(d->certs, (d->ncerts + 1) * sizeof(*nc))) == NULL) {
            if (c != NULL)
                free(c->label);
            free(c);
            X509_free(x);
            err = pico_err_raise(PICO_E_NOMEM, "certificate list");
            break;
        }
        c->dev = d;
        c->fid = fid;
        memcpy(c->id, cd.id, cd.id_len);
        c->id_len = cd.id_len;
        c->authority = cd.authority;
        c->x509 = x;
        d->certs = nc;
        d->certs[d->ncerts++] = c;
    }
    if (err == PICO_OK)
        d->certs_read = 1;
    else
        dev_certs_free(d);
    return err;
}

pico_err pico_device_certs(pico_device *d, pico_cert ***certs, size_t *count)
{
    pico_err err;

    *certs = NULL;
    *count = 0;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = dev_list(d)) == PICO_OK)
        err = dev_read_certs(d);
    pico_dev_leave(d);
    if (err == PICO_OK) {
        *certs = d->certs;
        *count = d->ncerts;
    }
    return err;
}

typedef pico_err (*key_op_fn)(pico_card *c, uint8_t keyref, uint8_t alg, const uint8_t *in,
                              size_t in_len, uint8_t *out, size_t *out_len);

/*
 * One key operation: one APDU while the device keeps its login. When the card
 * answers 6982/6400 although this process logged in (a reset, or another
 * client's SELECT, 4.6), log in again with the held PIN, if the user allowed
 * holding it, and repeat the operation once.
 */
static pico_err key_op(pico_key *k, const char *op, key_op_fn fn, uint8_t alg, const uint8_t *in,
                       size_t in_len, uint8_t *out, size_t *out_len)
{
    pico_device *d = k->dev;
    size_t cap = *out_len;
    pico_err err;

    if ((err = dev_enter_one(d)) != PICO_OK)
        return err;
    if (!d->logged_in && d->can_relogin && dev_upgrade(d) == PICO_OK) {
        pico_err_quiet_push();
        pico_dev_relogin_locked(d);
        pico_err_quiet_pop();
    }
    pico_err_quiet_push();
    d->card->last_sw = 0;
    err = fn(d->card, k->keyref, alg, in, in_len, out, out_len);
    pico_err_quiet_pop();
    if (!d->txn &&
        (err == PICO_E_RESET || err == PICO_E_REMOVED || err == PICO_E_NO_READER ||
         (err != PICO_OK && (d->card->last_sw == 0x6D00 || d->card->last_sw == 0x6E00)))) {
        /* Not the session this process had: the card was reset or came back, or pcscd
         * restarted (its handle is gone), or the card answers as one with nothing
         * selected (6D00: a device back in its reader before pcscd noticed it was
         * gone). Connect and select again in a transaction, then as if the device had
         * refused: the login is gone, made again as after another client's SELECT. */
        int had_login = d->logged_in;
        d->selected = 0;
        d->logged_in = 0;
        pico_err_quiet_push();
        err = dev_upgrade(d);
        pico_err_quiet_pop();
        if (err != PICO_OK) {
            err = pico_err_raise(err, "%s with key %u on %s", op, k->keyref, d->desc);
            goto end;
        }
        d->logged_in = had_login; /* handled below */
        err = PICO_E_NOT_LOGGED_IN;
    }
    if (err == PICO_E_KEY_LOCKED && d->logged_in && d->login_had_pin) {
        /* 6400 while the PIN this process verified holds: the MKEK is open, so the
         * device refused this input (field-notes.md: RSA input >= n), not the login */
        err = pico_err_raise(PICO_E_DEVICE, "%s with key %u: the device refused the input (6400)",
                             op, k->keyref);
    } else if ((err == PICO_E_NOT_LOGGED_IN || err == PICO_E_KEY_LOCKED) && d->logged_in) {
        pico_err refusal = err;
        d->logged_in = 0;
        if ((err = dev_upgrade(d)) != PICO_OK)
            goto end;
        /* 6400 with no PIN held: a login again cannot open the MKEK either (4.5) */
        if (!d->can_relogin || (refusal == PICO_E_KEY_LOCKED && d->held_len == 0)) {
            err = pico_dev_explain_refusal(d, op, refusal);
            goto end;
        }
        pico_log("DEVICE", "%s refused (sw=%04X): logging in again", op, d->card->last_sw);
        if ((err = pico_dev_relogin_locked(d)) != PICO_OK)
            goto end;
        *out_len = cap;
        err = fn(d->card, k->keyref, alg, in, in_len, out, out_len);
    } else if (err == PICO_E_NOT_LOGGED_IN || err == PICO_E_KEY_LOCKED) {
        err = pico_err_raise(err, "%s with key %u: log in first", op, k->keyref);
    } else if (err != PICO_OK && d->card->last_sw != 0) {
        /* the device answered: its status word says why */
        char name[48];
        snprintf(name, sizeof(name), "%s key=%u alg=0x%02X", op, k->keyref, alg);
        err = pico_schsm_sw_error(d->card->last_sw, name);
        if (err == PICO_OK)
            err = pico_err_raise(PICO_E_BAD_RESPONSE, "%s", name);
    } else if (err != PICO_OK) {
        /* no answer: removed, reset (the login is gone), pcscd gone, timeout */
        if (err == PICO_E_RESET || err == PICO_E_REMOVED) {
            d->selected = 0;
            d->logged_in = 0;
        }
        err = pico_err_raise(err, "%s with key %u on %s", op, k->keyref, d->desc);
    }
end:
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_key_op(pico_key *key, pico_mech mech, const uint8_t *in, size_t in_len,
                            uint8_t *out, size_t *out_len)
{
    switch (mech) {
    case PICO_MECH_ECDSA:
        return key_op(key, "SIGN", pico_schsm_sign, PICO_ALG_ECDSA, in, in_len, out, out_len);
    case PICO_MECH_RSA_RAW:
        return key_op(key, "SIGN", pico_schsm_sign, PICO_ALG_RSA_RAW, in, in_len, out, out_len);
    case PICO_MECH_RSA_PSS:
        return key_op(key, "SIGN", pico_schsm_sign, PICO_ALG_RSA_PSS, in, in_len, out, out_len);
    case PICO_MECH_RSA_DECRYPT_RAW:
        return key_op(key, "DECIPHER", pico_schsm_decipher, PICO_ALG_RSA_DECRYPT_RAW, in, in_len,
                      out, out_len);
    case PICO_MECH_ECDH:
        return key_op(key, "DECIPHER", pico_schsm_decipher, PICO_ALG_ECDH, in, in_len, out,
                      out_len);
    }
    return pico_err_raise(PICO_E_INTERNAL, "mechanism %d", (int)mech);
}

/* The check of pico_device_check_new_key, with the device entered. */
static pico_err check_new_key(pico_device *d, const pico_keygen *spec)
{
    size_t i;
    pico_err err;

    if (spec->label == NULL || spec->label[0] == '\0')
        return pico_err_raise(PICO_E_ARGS, "a key on the device needs a label (pico-label)");
    if ((err = dev_list(d)) != PICO_OK)
        return err;
    for (i = 0; i < d->nkeys; i++) {
        pico_key *k = d->keys[i];
        if ((err = key_read_desc(k)) != PICO_OK)
            return err;
        if (k->label != NULL && strcmp(k->label, spec->label) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has the label '%s'", k->keyref,
                                  d->desc, spec->label);
        if (spec->id_len > 0 && k->id_len == spec->id_len &&
            memcmp(k->id, spec->id, spec->id_len) == 0)
            return pico_err_raise(PICO_E_ARGS, "key %u on %s already has that id", k->keyref,
                                  d->desc);
    }
    return PICO_OK;
}

pico_err pico_device_check_new_key(pico_device *d, const pico_keygen *spec)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = check_new_key(d, spec);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_generate(pico_device *d, const pico_keygen *spec, pico_key **key)
{
    uint8_t *req = NULL, *cv = NULL, prkd_der[512], md[EVP_MAX_MD_SIZE];
    size_t req_len = 0, cv_len = 0, prkd_len, i;
    unsigned md_len = 0;
    pico_prkd prkd;
    pico_key *k = NULL, **nk;
    unsigned ref;
    int made = 0;
    pico_err err;

    *key = NULL;
    if (spec->algid_len > sizeof(prkd.algid)) /* before the device makes a key */
        return pico_err_raise(PICO_E_ARGS, "key restriction too long");
    if ((err = pico_cvc_keygen_request(spec->type == PICO_KEY_EC, spec->bits, spec->curve, &req,
                                       &req_len)) != PICO_OK)
        return err;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        goto out;
    if (!d->logged_in) {
        err = pico_err_raise(PICO_E_NOT_LOGGED_IN, "key generation on %s: log in first", d->desc);
        goto end;
    }
    if ((err = check_new_key(d, spec)) != PICO_OK)
        goto end;
    /* The first free reference from 1, as OpenSC picks it (6.5); 0 is the device key */
    for (ref = 1; ref < 256 && has_fid(d, (uint16_t)(PICO_PREFIX_KEY << 8 | ref)); ref++)
        ;
    if (ref == 256 || d->nfids + 3 > MAX_FIDS) {
        err = pico_err_raise(PICO_E_DEVICE, "no free key reference on %s", d->desc);
        goto end;
    }
    if ((err = pico_schsm_generate(d->card, (uint8_t)ref, req, req_len, &cv, &cv_len)) != PICO_OK)
        goto end;
    made = 1; /* from here, a failure deletes what the device made */
    if ((k = calloc(1, sizeof(*k))) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key");
        goto end;
    }
    k->dev = d;
    k->keyref = (uint8_t)ref;
    if ((err = pico_cvc_public_key(cv, cv_len, &k->pub, k->curve, sizeof(k->curve), &k->bits)) !=
        PICO_OK)
        goto end;
    k->type = spec->type;
    k->pub_loaded = 1;
    if (spec->type == PICO_KEY_EC && spec->curve != NULL && strcmp(k->curve, spec->curve) != 0) {
        /* field-notes.md: some requests make no key or another curve; check what was made */
        err = pico_err_raise(PICO_E_DEVICE, "asked for %s, the device made %s", spec->curve,
                             k->curve);
        goto end;
    }
    /* The PrKD the host is expected to write (6.4): label and ID. Default ID: SHA-1 of
     * the public key, as OpenSC derives it. */
    memset(&prkd, 0, sizeof(prkd));
    prkd.is_ec = spec->type == PICO_KEY_EC;
    prkd.size = spec->type == PICO_KEY_EC ? EVP_PKEY_get_bits(k->pub) : k->bits;
    if (spec->label != NULL)
        snprintf(prkd.label, sizeof(prkd.label), "%s", spec->label);
    if (spec->id_len > 0 && spec->id_len <= sizeof(prkd.id)) {
        memcpy(prkd.id, spec->id, spec->id_len);
        prkd.id_len = spec->id_len;
    } else {
        uint8_t *spki = NULL;
        const char *propq;
        OSSL_LIB_CTX *libctx = pico_cvc_libctx(&propq);
        EVP_MD *sha1 = EVP_MD_fetch(libctx, "SHA1", propq);
        int n = i2d_PUBKEY(k->pub, &spki);
        if (n <= 0 || sha1 == NULL || !EVP_Digest(spki, (size_t)n, md, &md_len, sha1, NULL)) {
            OPENSSL_free(spki);
            EVP_MD_free(sha1);
            err = pico_err_raise(PICO_E_INTERNAL, "key id");
            goto end;
        }
        OPENSSL_free(spki);
        EVP_MD_free(sha1);
        memcpy(prkd.id, md, md_len);
        prkd.id_len = md_len;
    }
    if (spec->algid_len > 0)
        memcpy(prkd.algid, spec->algid, spec->algid_len);
    prkd.algid_len = spec->algid_len;
    prkd_len = pico_prkd_encode(&prkd, prkd_der, sizeof(prkd_der));
    if (prkd_len == 0) {
        err = pico_err_raise(PICO_E_ARGS, "label too long");
        goto end;
    }
    if ((err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_PRKD << 8 | ref), prkd_der,
                                      prkd_len)) != PICO_OK)
        goto end;
    if (prkd.label[0] != '\0')
        k->label = strdup(prkd.label);
    memcpy(k->id, prkd.id, prkd.id_len);
    k->id_len = prkd.id_len;
    memcpy(k->algid, prkd.algid, prkd.algid_len);
    k->algid_len = prkd.algid_len;
    k->bits = prkd.size;
    k->desc_loaded = 1;
    if ((nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key list");
        goto end;
    }
    d->keys = nk;
    d->keys[d->nkeys++] = k;
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_KEY << 8 | ref);
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_PRKD << 8 | ref);
    pico_log("DEVICE", "generated key=%u type=%s bits=%d", ref,
             spec->type == PICO_KEY_EC ? "EC" : "RSA", k->bits);
    *key = k;
    k = NULL;
end:
    if (err != PICO_OK && made) {
        /* No orphan: the key, and its description and request if written, go again.
         * The first error stays the one reported */
        pico_err_quiet_push();
        pico_err derr = pico_schsm_delete_key(d->card, (uint8_t)ref, NULL);
        pico_err_quiet_pop();
        pico_log("DEVICE", "key=%u removed after the failed generation: %s", ref,
                 derr == PICO_OK ? "done" : pico_err_reason(derr));
    }
    pico_dev_leave(d);
out:
    for (i = 0; i < sizeof(md); i++)
        md[i] = 0;
    key_free(k);
    free(req);
    free(cv);
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

void pico_device_forget(pico_device *d)
{
    size_t i;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nkeys; i++)
        key_free(d->keys[i]);
    free(d->keys);
    d->keys = NULL;
    d->nkeys = 0;
    dev_certs_free(d);
    d->nfids = 0;
    d->listed = 0;
    d->logged_in = 0;
    d->selected = 0;
    free(d->name);
    d->name = NULL;
    pico_dev_forget_login(d);
    pthread_mutex_unlock(&d->lock);
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
    free(pico_dev_config.default_reader);
    free(pico_dev_config.pin_source);
    free(pico_dev_config.pka_keys);
    free(pico_dev_config.pka_pin_source);
    memset(&pico_dev_config, 0, sizeof(pico_dev_config));
    pthread_mutex_unlock(&registry_lock);
    pico_cvc_libctx_free();
}

pico_err pico_device_select_info(pico_device *d, pico_select_info *info)
{
    pico_err err;

    /* pico_dev_enter selects when the device was not (or was forgotten): the answer is fresh */
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    *info = d->info;
    pico_dev_leave(d);
    return PICO_OK;
}
