/* SPDX-License-Identifier: Apache-2.0 */
/*
 * New keys: the checks before any login (label, id) and generation with the rollback
 * of everything a failed generation wrote.
 */
#include "device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvc.h"
#include "device_int.h"
#include "log.h"
#include "pkcs15.h"
#include "schsm.h"

/* pico_device_check_new_key's check, with the device entered. */
static pico_err check_new_key(pico_device *d, const pico_keygen *spec)
{
    return pico_dev_check_label_id(d, spec->label, spec->id, spec->id_len, " (pico-label)");
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

/* The first free reference from 1, as OpenSC picks it (6.5); 0 is the device key. */
static pico_err free_keyref(pico_device *d, unsigned *ref)
{
    unsigned r;

    for (r = 1; r < 256 && pico_dev_has_fid(d, (uint16_t)(PICO_PREFIX_KEY << 8 | r)); r++)
        ;
    if (r == 256 || d->nfids + 3 > MAX_FIDS)
        return pico_err_raise(PICO_E_DEVICE, "no free key reference on %s", d->desc);
    *ref = r;
    return PICO_OK;
}

/* The table's row of a public key; NULL when none fits. */
static const pico_key_type_info *type_of_pub(EVP_PKEY *pub)
{
    const pico_key_type_info *t;

    for (t = pico_key_types; pub != NULL && t->type != 0; t++)
        if (EVP_PKEY_is_a(pub, t->name))
            return t;
    return NULL;
}

/*
 * Whether the device made what spec asked for (field-notes.md: some requests make no key or
 * another curve). A firmware built without EdDSA takes an Ed25519/Ed448 request for the
 * Montgomery key of the same prime (cmd_keypair_gen.c reads the base point only with
 * MBEDTLS_EDDSA_C) and answers 9000: that answer is how this device says it has no EdDSA.
 */
static pico_err check_made(pico_device *d, const pico_keygen *spec, const pico_key *k)
{
    const pico_key_type_info *want = pico_key_type_info_of(spec->type);
    const pico_key_type_info *got = type_of_pub(k->pub);

    if (want->needs_eddsa)
        __atomic_store_n(&d->eddsa, got == want ? 1 : -1, __ATOMIC_RELAXED);
    if (got != want && want->needs_eddsa)
        return pico_err_raise(PICO_E_UNSUPPORTED,
                              "%s on %s: the firmware was built without EdDSA (it made an %s key)",
                              want->name, d->desc, got != NULL ? got->name : "unknown");
    if (got != want)
        return pico_err_raise(PICO_E_DEVICE, "asked for an %s key, the device made %s", want->name,
                              got != NULL ? got->name : "an unknown one");
    if (spec->type == PICO_KEY_EC && spec->curve != NULL && strcmp(k->curve, spec->curve) != 0)
        return pico_err_raise(PICO_E_DEVICE, "asked for %s, the device made %s", spec->curve,
                              k->curve);
    return PICO_OK;
}

/* The PrKD the host is expected to write (6.4): label, ID, type, size, restriction. */
static pico_err write_prkd(pico_device *d, const pico_keygen *spec, pico_key *k)
{
    uint8_t der[512];
    size_t len;
    pico_prkd prkd;
    pico_err err;

    memset(&prkd, 0, sizeof(prkd));
    prkd.type = spec->type;
    prkd.size = spec->type == PICO_KEY_EC ? EVP_PKEY_get_bits(k->pub) : k->bits;
    if (spec->label != NULL)
        snprintf(prkd.label, sizeof(prkd.label), "%s", spec->label);
    if (spec->id_len > 0 && spec->id_len <= sizeof(prkd.id)) {
        memcpy(prkd.id, spec->id, spec->id_len);
        prkd.id_len = spec->id_len;
    } else if ((err = pico_dev_key_intrinsic_id(k->pub, prkd.id)) != PICO_OK) {
        return err;
    } else {
        prkd.id_len = 20;
    }
    if (spec->algid_len > 0)
        memcpy(prkd.algid, spec->algid, spec->algid_len);
    prkd.algid_len = spec->algid_len;
    if ((len = pico_prkd_encode(&prkd, der, sizeof(der))) == 0)
        return pico_err_raise(PICO_E_ARGS, "label too long");
    if ((err = pico_schsm_update_file(d->card, (uint16_t)(PICO_PREFIX_PRKD << 8 | k->keyref), der,
                                      len)) != PICO_OK)
        return err;
    if (prkd.label[0] != '\0' && (k->label = strdup(prkd.label)) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "key label");
    memcpy(k->id, prkd.id, prkd.id_len);
    k->id_len = prkd.id_len;
    memcpy(k->algid, prkd.algid, prkd.algid_len);
    k->algid_len = prkd.algid_len;
    if (spec->type == PICO_KEY_EC)
        k->bits = prkd.size;
    k->desc_loaded = 1;
    return PICO_OK;
}

/* The new key's object out of the device's answer. */
static pico_err key_from_answer(pico_device *d, unsigned ref, const uint8_t *cv, size_t cv_len,
                                pico_key **key)
{
    pico_key *k;
    pico_err err;

    if ((k = calloc(1, sizeof(*k))) == NULL)
        return pico_err_raise(PICO_E_NOMEM, "key");
    k->dev = d;
    k->keyref = (uint8_t)ref;
    err = pico_cvc_public_key(cv, cv_len, &k->pub, k->curve, sizeof(k->curve), &k->bits);
    if (err == PICO_OK && type_of_pub(k->pub) == NULL)
        err = pico_err_raise(PICO_E_UNSUPPORTED, "key %u: a key of an unknown type", ref);
    if (err != PICO_OK) {
        pico_dev_key_free(k);
        return err;
    }
    k->type = type_of_pub(k->pub)->type;
    k->pub_loaded = 1;
    *key = k;
    return PICO_OK;
}

/* Deletes what a failed generation made; the first error stays the one reported. */
static void remove_made(pico_device *d, unsigned ref)
{
    pico_err derr;

    pico_err_mark();
    derr = pico_schsm_delete_key(d->card, (uint8_t)ref, NULL);
    pico_err_pop_to_mark();
    pico_log("DEVICE", "key=%u removed after the failed generation: %s", ref,
             derr == PICO_OK ? "done" : pico_err_reason(derr));
}

/* Generation with the device entered and logged in: the new key in *key, added to the list. */
static pico_err generate_locked(pico_device *d, const pico_keygen *spec, const uint8_t *req,
                                size_t req_len, pico_key **key)
{
    uint8_t *cv = NULL;
    size_t cv_len = 0;
    pico_key *k = NULL, **nk;
    unsigned ref;
    pico_err err;

    if ((err = check_new_key(d, spec)) != PICO_OK || (err = free_keyref(d, &ref)) != PICO_OK)
        return err;
    if ((err = pico_schsm_generate(d->card, (uint8_t)ref, req, req_len, &cv, &cv_len)) != PICO_OK)
        return err;
    /* from here, a failure deletes what the device made */
    if ((err = key_from_answer(d, ref, cv, cv_len, &k)) != PICO_OK ||
        (err = check_made(d, spec, k)) != PICO_OK || (err = write_prkd(d, spec, k)) != PICO_OK)
        goto end;
    if ((nk = realloc(d->keys, (d->nkeys + 1) * sizeof(*nk))) == NULL) {
        err = pico_err_raise(PICO_E_NOMEM, "key list");
        goto end;
    }
    d->keys = nk;
    d->keys[d->nkeys++] = k;
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_KEY << 8 | ref);
    d->fids[d->nfids++] = (uint16_t)(PICO_PREFIX_PRKD << 8 | ref);
    pico_log("DEVICE", "generated key=%u type=%s bits=%d", ref,
             pico_key_type_info_of(spec->type)->name, k->bits);
    *key = k;
    k = NULL;
end:
    if (err != PICO_OK)
        remove_made(d, ref);
    pico_dev_key_free(k);
    free(cv);
    return err;
}

pico_err pico_device_generate(pico_device *d, const pico_keygen *spec, pico_key **key)
{
    uint8_t *req = NULL;
    size_t req_len = 0;
    pico_err err;

    *key = NULL;
    if (spec->algid_len > sizeof(((pico_key *)0)->algid)) /* before the device makes a key */
        return pico_err_raise(PICO_E_ARGS, "key restriction too long");
    if ((err = pico_cvc_keygen_request_policy(spec->type, spec->bits, spec->curve, spec->policy,
                                              &req, &req_len)) != PICO_OK)
        return err;
    if ((err = pico_dev_enter(d)) != PICO_OK)
        goto out;
    if (!d->logged_in)
        err = pico_err_raise(PICO_E_NOT_LOGGED_IN, "key generation on %s: log in first", d->desc);
    else if (pico_key_type_info_of(spec->type)->needs_eddsa &&
             __atomic_load_n(&d->eddsa, __ATOMIC_RELAXED) < 0)
        err = pico_err_raise(PICO_E_UNSUPPORTED, "%s on %s: the firmware was built without EdDSA",
                             pico_key_type_info_of(spec->type)->name, d->desc);
    else
        err = generate_locked(d, spec, req, req_len, key);
    pico_dev_leave(d);
out:
    free(req);
    return err;
}

/*
 * The EdDSA probe, with the device entered. Without a PIN: a key of an Edwards type already on
 * the device says yes. With this process's login (no PIN try spent): GENERATE an Ed25519 key
 * at a free reference, read which key the answer holds (an X25519 one on a firmware without
 * EdDSA, see check_made), and delete it and the files the device wrote with it. No login
 * and no such key: unknown (0, not cached).
 */
static int probe_eddsa(pico_device *d)
{
    const pico_keygen spec = {PICO_KEY_ED25519, 0, NULL, NULL, NULL, 0, NULL, 0};
    uint8_t *req = NULL, *cv = NULL;
    size_t req_len = 0, cv_len = 0, i;
    pico_key *k = NULL;
    unsigned ref;
    int found = 0;

    if (d->eddsa != 0) /* another thread probed while this one waited for the device */
        return d->eddsa > 0;
    pico_err_mark(); /* a probe: its failures are answers, not errors */
    if (pico_dev_list(d) == PICO_OK)
        for (i = 0; i < d->nkeys && !found; i++)
            found = pico_dev_key_read_desc(d->keys[i]) == PICO_OK &&
                    pico_key_type_info_of(d->keys[i]->type) != NULL &&
                    pico_key_type_info_of(d->keys[i]->type)->needs_eddsa;
    if (found)
        __atomic_store_n(&d->eddsa, 1, __ATOMIC_RELAXED);
    else if (d->logged_in && free_keyref(d, &ref) == PICO_OK &&
             pico_cvc_keygen_request(spec.type, 0, NULL, &req, &req_len) == PICO_OK &&
             pico_schsm_generate(d->card, (uint8_t)ref, req, req_len, &cv, &cv_len) == PICO_OK) {
        if (key_from_answer(d, ref, cv, cv_len, &k) == PICO_OK)
            check_made(d, &spec, k); /* sets d->eddsa */
        remove_made(d, ref);
        pico_log("DEVICE", "EdDSA probe with key=%u: %s", ref, d->eddsa > 0 ? "yes" : "no");
    }
    pico_err_pop_to_mark();
    pico_dev_key_free(k);
    free(req);
    free(cv);
    return d->eddsa > 0;
}

int pico_device_supports(pico_device *d, pico_key_type t)
{
    const pico_key_type_info *info = pico_key_type_info_of(t);
    int yes;

    if (info == NULL)
        return 0;
    if (!info->needs_eddsa)
        return 1;
    if ((yes = __atomic_load_n(&d->eddsa, __ATOMIC_RELAXED)) != 0) /* cached */
        return yes > 0;
    if (pico_dev_enter(d) != PICO_OK)
        return 0;
    yes = probe_eddsa(d);
    pico_dev_leave(d);
    return yes;
}
