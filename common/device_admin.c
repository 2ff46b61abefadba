/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The changes of the device (pico-hsm-tool): delete a key, store a certificate,
 * initialize, change or unblock a PIN, register a PKA key. Each updates what the object
 * knows to what the device holds after it, and nothing more: a tool that lists keys,
 * deletes one and lists again reads nothing twice.
 */
#include "device.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_int.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"

/* Room in the list of keys out of the key list for n more, before anything changes. */
static pico_err reserve_gone(pico_device *d, size_t n)
{
    pico_key **ng;

    if (n == 0)
        return PICO_OK;
    if ((ng = realloc(d->gone, (d->ngone + n) * sizeof(*ng))) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "key list");
    d->gone = ng;
    return PICO_OK;
}

/* Every key out of the list (kept allocated), the list and the FIDs read again at next use. */
static void forget_keys(pico_device *d)
{
    size_t i;
    pico_err err;

    pico_err_mark();
    err = reserve_gone(d, d->nkeys);
    pico_err_pop_to_mark();
    for (i = 0; i < d->nkeys; i++) {
        if (err == PICO_OK)
            d->gone[d->ngone++] = d->keys[i];
        else /* short of memory: freed, as before there was a list of them */
            pico_dev_key_free(d->keys[i]);
    }
    free(d->keys);
    d->keys = NULL;
    d->nkeys = 0;
    pico_dev_certs_free(d);
    d->nfids = 0;
    d->listed = 0;
}

/* pico_device_forget, with the device's lock held. */
static void forget_all(pico_device *d)
{
    forget_keys(d);
    d->logged_in = 0;
    d->selected = 0;
    free(d->name);
    d->name = NULL;
    pico_dev_forget_login(d);
}

void pico_device_forget(pico_device *d)
{
    pthread_mutex_lock(&d->lock);
    forget_all(d);
    pthread_mutex_unlock(&d->lock);
}

static void drop_fid(pico_device *d, uint16_t fid)
{
    size_t i;

    for (i = 0; i < d->nfids; i++) {
        if (d->fids[i] == fid) {
            memmove(d->fids + i, d->fids + i + 1, (d->nfids - i - 1) * sizeof(*d->fids));
            d->nfids--;
            return;
        }
    }
}

static void add_fid(pico_device *d, uint16_t fid)
{
    if (!pico_dev_has_fid(d, fid) && d->nfids < MAX_FIDS)
        d->fids[d->nfids++] = fid;
}

/* The index of k in the key list, or -1: a key of a list since forgotten, or deleted. */
static long key_index(const pico_device *d, const pico_key *k)
{
    size_t i;

    for (i = 0; i < d->nkeys; i++)
        if (d->keys[i] == k)
            return (long)i;
    return -1;
}

/* The key gone from the device: out of the list (space reserved), its files out of the FIDs. */
static void drop_key(pico_device *d, size_t i)
{
    pico_key *k = d->keys[i];

    memmove(d->keys + i, d->keys + i + 1, (d->nkeys - i - 1) * sizeof(*d->keys));
    d->nkeys--;
    d->gone[d->ngone++] = k;
    drop_fid(d, (uint16_t)(PICO_PREFIX_KEY << 8 | k->keyref));
    drop_fid(d, (uint16_t)(PICO_PREFIX_PRKD << 8 | k->keyref));
    drop_fid(d, (uint16_t)(PICO_PREFIX_EE_CERT << 8 | k->keyref));
}

pico_err pico_device_delete_key(pico_device *d, pico_key *key, int *files)
{
    long i;
    pico_err err;

    if (files != NULL)
        *files = 0;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = pico_dev_list(d)) != PICO_OK || (err = reserve_gone(d, 1)) != PICO_OK)
        goto end;
    if ((i = key_index(d, key)) < 0) {
        err = pico_err_raise(PICO_E_NOT_FOUND, "key %u is not in the key list of %s", key->keyref,
                             d->desc);
        goto end;
    }
    err = pico_schsm_delete_key(d->card, key->keyref, files);
    if (err == PICO_OK) {
        drop_key(d, (size_t)i);
        pico_log("DEVICE", "deleted key=%u", key->keyref);
    } else {
        forget_keys(d); /* which of its files went is not known: read again at next use */
    }
end:
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_key_info(pico_device *d, pico_key *key, pico_key_policy *policy)
{
    uint8_t fcp[258];
    size_t len = sizeof(fcp);
    pico_err err;

    pico_key_policy_init(policy);
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    /* 1.2: the firmware answers a key's metadata (tags 90-93, the counter as it is now) in the
     * FCP of SELECT CCxx, readable without a PIN; the key file itself never is */
    err = pico_schsm_select_fid(d->card, (uint16_t)(PICO_PREFIX_KEY << 8 | key->keyref), fcp, &len);
    if (err == PICO_OK)
        err = pico_key_policy_from_fcp(fcp, len, policy);
    pico_dev_leave(d);
    return err;
}

/* A key's certificate in its CExx (6.6): the key stays the same, its certificate is x. */
static pico_err put_key_cert(pico_device *d, pico_key *k, X509 *x, int *replaced)
{
    uint16_t fid = (uint16_t)(PICO_PREFIX_EE_CERT << 8 | k->keyref);
    unsigned char *der = NULL;
    int n;
    pico_err err;

    if (key_index(d, k) < 0)
        return pico_err_raise(PICO_E_NOT_FOUND, "key %u is not in the key list of %s", k->keyref,
                              d->desc);
    if ((err = pico_dev_key_read_public(k)) != PICO_OK)
        return err;
    /* A certificate for another key would make the key unusable through it */
    if (EVP_PKEY_eq(k->pub, X509_get0_pubkey(x)) != 1)
        return pico_err_raise(
            PICO_E_ARGS, "the certificate's public key is not the public key of key %u", k->keyref);
    if ((n = i2d_X509(x, &der)) <= 0)
        return pico_err_raise(PICO_E_INTERNAL, "certificate encoding");
    if (replaced != NULL)
        *replaced = k->cert != NULL;
    /* 6.7: offset 0 replaces the whole content */
    err = pico_schsm_update_file(d->card, fid, der, (size_t)n);
    OPENSSL_free(der);
    if (err != PICO_OK)
        return err;
    /* k->pub stays: the same key, and callers may hold it (pico_device_key_public) */
    X509_up_ref(x);
    X509_free(k->cert);
    k->cert = x;
    add_fid(d, fid);
    pico_log("DEVICE", "certificate stored with key=%u (%d bytes)", k->keyref, n);
    return PICO_OK;
}

/* Refuses an id a key has (its certificate goes with it) and picks the first free C8xx. */
static pico_err free_cert_ref(pico_device *d, const uint8_t *id, size_t id_len, unsigned *ref)
{
    size_t i;
    pico_err err;

    if (id_len == 0 || id_len > sizeof(((pico_cd *)0)->id))
        return pico_err_raise(PICO_E_ARGS,
                              "a certificate without a key needs an id of 1 to %zu "
                              "bytes",
                              sizeof(((pico_cd *)0)->id));
    for (i = 0; i < d->nkeys; i++) {
        pico_key *k = d->keys[i];
        if ((err = pico_dev_key_read_desc(k)) != PICO_OK)
            return err;
        if (k->id_len == id_len && memcmp(k->id, id, id_len) == 0)
            return pico_err_raise(PICO_E_ARGS,
                                  "key %u on %s has that id: store the certificate "
                                  "with the key",
                                  k->keyref, d->desc);
    }
    /* As OpenSC: CA<xx> described by C8<xx>, the first free from 00 */
    for (*ref = 0; *ref < 256 && pico_dev_has_fid(d, (uint16_t)(PICO_PREFIX_CD << 8 | *ref));
         (*ref)++)
        ;
    if (*ref == 256 || d->nfids + 1 > MAX_FIDS)
        return pico_err_raise(PICO_E_DEVICE, "no free certificate file on %s", d->desc);
    return PICO_OK;
}

/* The new certificate in the list pico_device_certs gives, when that was read. */
static pico_err list_cert(pico_device *d, const pico_cd *cd, X509 *x)
{
    pico_cert *c, **nc;

    if (!d->certs_read)
        return PICO_OK; /* read with the others at the first pico_device_certs */
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (cd->label[0] != '\0' && (c->label = strdup(cd->label)) == NULL) ||
        (nc = realloc(d->certs, (d->ncerts + 1) * sizeof(*nc))) == NULL) {
        if (c != NULL)
            free(c->label);
        free(c);
        pico_dev_certs_free(d); /* read again at next use, with the new one */
        return PICO_OK;
    }
    c->dev = d;
    c->fid = cd->fid;
    memcpy(c->id, cd->id, cd->id_len);
    c->id_len = cd->id_len;
    X509_up_ref(x);
    c->x509 = x;
    d->certs = nc;
    d->certs[d->ncerts++] = c;
    return PICO_OK;
}

/* A certificate without a key: EF CAxx, then its description C8xx (6.1), as OpenSC writes. */
static pico_err put_cert_alone(pico_device *d, X509 *x, const char *label, const uint8_t *id,
                               size_t id_len)
{
    uint8_t desc[512];
    unsigned char *der = NULL;
    size_t desc_len;
    unsigned ref = 0;
    pico_cd cd;
    int n;
    pico_err err;

    memset(&cd, 0, sizeof(cd));
    if (label != NULL && strlen(label) >= sizeof(cd.label))
        return pico_err_raise(PICO_E_ARGS, "label too long");
    if ((err = free_cert_ref(d, id, id_len, &ref)) != PICO_OK)
        return err;
    snprintf(cd.label, sizeof(cd.label), "%s", label != NULL ? label : "");
    memcpy(cd.id, id, id_len);
    cd.id_len = id_len;
    cd.fid = (uint16_t)(PICO_PREFIX_CA_CERT << 8 | ref);
    if ((desc_len = pico_cd_encode(&cd, desc, sizeof(desc))) == 0)
        return pico_err_raise(PICO_E_ARGS, "certificate description too long");
    if ((n = i2d_X509(x, &der)) <= 0)
        return pico_err_raise(PICO_E_INTERNAL, "certificate encoding");
    err = pico_schsm_update_file(d->card, cd.fid, der, (size_t)n);
    OPENSSL_free(der);
    if (err == PICO_OK &&
        (err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_CD << 8 | ref), desc,
                                      desc_len)) != PICO_OK) {
        /* no certificate file without its description left behind; the first error stays */
        pico_err_mark();
        pico_schsm_delete_file(d->card, cd.fid);
        pico_err_pop_to_mark();
    }
    if (err != PICO_OK)
        return err;
    add_fid(d, (uint16_t)(PICO_PREFIX_CD << 8 | ref));
    pico_log("DEVICE", "certificate stored without a key in %04X (%d bytes)", cd.fid, n);
    return list_cert(d, &cd, x);
}

pico_err pico_device_put_cert(pico_device *d, pico_key *key, X509 *x, const char *label,
                              const uint8_t *id, size_t id_len, int *replaced)
{
    pico_err err;

    if (replaced != NULL)
        *replaced = 0;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if ((err = pico_dev_list(d)) == PICO_OK)
        err = key != NULL ? put_key_cert(d, key, x, replaced)
                          : put_cert_alone(d, x, label, id, id_len);
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_initialize(pico_device *d, const pico_init_spec *spec,
                                const pico_admin_steps *steps, pico_init_result *res)
{
    pico_err err;

    memset(res, 0, sizeof(*res));
    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = pico_schsm_initialize(d->card, spec);
    /* 3.2: with the transport-PIN option VERIFY answers 6984 whatever the PIN */
    if (err == PICO_OK && spec->pin != NULL && !(spec->options & PICO_OPT_TRANSPORT_PIN) &&
        (err = pico_schsm_verify(d->card, PICO_PIN_USER, (const uint8_t *)spec->pin,
                                 strlen(spec->pin), &res->pin_tries)) == PICO_OK)
        res->pin_verified = 1;
    if (err == PICO_OK && steps != NULL && steps->report != NULL)
        err = steps->report(steps->arg, d->card);
    /* whatever happened, the device may have changed: keys, name, options, login */
    forget_all(d);
    pico_log("DEVICE", "initialized: %s", err == PICO_OK ? "done" : pico_err_reason(err));
    pico_dev_leave(d);
    return err;
}

/* The device taken for a change, and the caller's check of its state (steps->check, e.g.
 * the tries left) passed; on a failure it is given back. */
static pico_err admin_enter(pico_device *d, const pico_admin_steps *steps)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    if (steps != NULL && steps->check != NULL &&
        (err = steps->check(steps->arg, d->card)) != PICO_OK)
        pico_dev_leave(d);
    return err;
}

pico_err pico_device_change_pin(pico_device *d, uint8_t ref, const uint8_t *old_pin, size_t old_len,
                                const uint8_t *new_pin, size_t new_len,
                                const pico_admin_steps *steps, int *tries)
{
    pico_err err;

    if ((err = admin_enter(d, steps)) != PICO_OK)
        return err;
    err = pico_schsm_change_pin(d->card, ref, old_pin, old_len, new_pin, new_len, tries);
    /* 4.2: the old PIN is checked like VERIFY, which drops both PIN sessions first */
    d->logged_in = 0;
    if (ref == PICO_PIN_USER && err == PICO_OK) {
        pico_dev_forget_login(d); /* the held PIN is the old one; the new one may be sent */
    } else if (ref == PICO_PIN_USER && (err == PICO_E_PIN_INCORRECT || err == PICO_E_PIN_BLOCKED)) {
        pico_err_mark();
        pico_refused_pins_add(&d->refused, (const char *)old_pin, old_len);
        pico_err_pop_to_mark();
    }
    pico_log("DEVICE", "%s pin change: %s", ref == PICO_PIN_SO ? "so" : "user",
             err == PICO_OK ? "done" : pico_err_reason(err));
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_unblock_pin(pico_device *d, const uint8_t *so_pin, size_t so_len,
                                 const uint8_t *new_pin, size_t new_len,
                                 const pico_admin_steps *steps, int *tries)
{
    pico_err err;

    if ((err = admin_enter(d, steps)) != PICO_OK)
        return err;
    /* 4.3: P1=00 SO-PIN || new PIN; P1=01 SO-PIN alone resets the counter */
    if (new_pin != NULL)
        err = pico_schsm_unblock_pin(d->card, so_pin, so_len, new_pin, new_len, tries);
    else
        err = pico_schsm_reset_retry_counter(d->card, so_pin, so_len, tries);
    d->logged_in = 0;
    if (err == PICO_OK) {
        d->selected = 0; /* the session the command opened ends with the next SELECT */
        if (new_pin != NULL)
            pico_dev_forget_login(d);
    }
    pico_log("DEVICE", "unblock%s: %s", new_pin != NULL ? " with a new pin" : " (counter only)",
             err == PICO_OK ? "done" : pico_err_reason(err));
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_so_login(pico_device *d, const uint8_t *so_pin, size_t so_len,
                              const pico_admin_steps *steps, int *tries)
{
    pico_err err;

    if ((err = admin_enter(d, steps)) != PICO_OK)
        return err;
    err = pico_schsm_verify(d->card, PICO_PIN_SO, so_pin, so_len, tries);
    /* 4.1: the VERIFY dropped the user PIN session before checking, whatever its outcome */
    d->logged_in = 0;
    pico_log("DEVICE", "so-pin verify: %s", err == PICO_OK ? "done" : pico_err_reason(err));
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_pka_register(pico_device *d, int slot, const uint8_t *req, size_t len,
                                  const pico_admin_steps *steps, uint8_t st[4])
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    /* the check's VERIFY changes the session, right or wrong: no login is assumed after */
    d->logged_in = 0;
    if (steps != NULL && steps->check != NULL &&
        (err = steps->check(steps->arg, d->card)) != PICO_OK)
        goto end;
    if (slot >= 0)
        err = pico_schsm_pka_replace(d->card, (uint8_t)slot, req, len, st);
    else
        err = pico_schsm_pka_register(d->card, req, len, st);
    if (err == PICO_OK && steps != NULL && steps->report != NULL)
        err = steps->report(steps->arg, d->card);
end:
    pico_dev_leave(d);
    return err;
}

pico_err pico_device_run_login(pico_device *d, pico_card_fn fn, void *arg)
{
    pico_err err;

    if ((err = pico_dev_enter(d)) != PICO_OK)
        return err;
    err = fn(arg, d->card);
    d->logged_in = 0;
    pico_dev_leave(d);
    return err;
}
